/*
 * addr: RFC 5322 addresses. An address list (From, Sender, Reply-To, To,
 * Cc) is read from the raw header value the way RFC 5322 section 3.4
 * says, with the obsolete forms of section 4.4 (routes, CFWS around the
 * dots, empty list elements, a group without its ';') and UTF-8 in atoms
 * and quoted strings (RFC 6532):
 * - comments are removed wherever they stand; they are never a name or an
 *   address;
 * - a quoted local part is part of the address: the address of
 *   From: "<agent@example.test>"@evil.example is at evil.example, and a
 *   display name is never an address;
 * - a malformed element ("tim@a.com concierge@a.com", "Big Bug
 *   bb@bug.com", "Agent <agent@example.test> more words") is never glued
 *   into one address: the first valid addr-spec in it is taken, as mail
 *   clients do (one in angle brackets first, then a free-standing one;
 *   never one inside a quoted string or a comment, never a piece of a
 *   longer word), or none.
 *
 * Written by hand, and why: libetpan's mailimf (behind the MIME module)
 * reads an addr-spec as everything up to '>', ',', ';', ':', a comment or
 * a line end with the blanks taken out, which glues "Big Bug bb@bug.com"
 * into "BigBugbb@bug.com", turns "john doe"@x into "johndoe"@x and
 * cannot tell a quoted local part from a display name; no other
 * maintained C library parses RFC 5322 addresses.
 *
 * Pure: no I/O, no logging, no charset work (display names come back as
 * written; the caller decodes RFC 2047 words in them). The caller owns
 * what it gets.
 */
#ifndef DG_ADDR_H
#define DG_ADDR_H

#include <stddef.h>

/* RFC 5321 4.5.3.1: a path holds at most 256 octets with its brackets, a
   local part 64. Longer ones are not valid addr-specs here. */
#define ADDR_SPEC_MAX 254
#define ADDR_LOCAL_MAX 64

struct addr {
	/* The display name as written: quoted strings unquoted, comments
	   removed, folding and runs of white space made one space; not RFC
	   2047 decoded. NULL when there is none. */
	char *phrase;
	/* The addr-spec in canonical form (addr_spec_valid() holds): the
	   local part bare when it is a dot-atom, else one quoted string with
	   '"' and '\' escaped; '@'; the domain as written without CFWS. NULL
	   for a group's name, or when nothing valid was found. */
	char *spec;
	int group;     /* a group's name; its members follow as entries */
	int recovered; /* the element was malformed: spec is the first valid
			  addr-spec found in it (or NULL) */
};

struct addr_list {
	struct addr *items;
	size_t count;
};

/* Read the address list value[0..len) (the raw field value, folding
   included) and append its entries to *list: per element a mailbox, or a
   group's name followed by its members. A malformed element gives one
   entry, recovered, when it holds a valid addr-spec or a name, and none
   otherwise. Returns how many elements were malformed. Linear in len
   (recovery tries each start at most ADDR_SPEC_MAX bytes far). */
size_t addr_list_parse(const char *value, size_t len, struct addr_list *list);
void addr_list_clear(struct addr_list *list);

/* 1 when s is an addr-spec in the canonical form above: a dot-atom or
   one quoted string, '@', a dot-atom or a domain literal; atoms of RFC
   5322 atext or valid UTF-8 (RFC 6532); no control characters; at most
   ADDR_LOCAL_MAX bytes before the '@' and ADDR_SPEC_MAX in all. Anything
   a customer's mail client could not have sent from ("BigBugbb@bug.com"
   can; "tim@a.com concierge@a.com", "agent", "a@b@c" cannot) is 0. */
int addr_spec_valid(const char *s);

#endif
