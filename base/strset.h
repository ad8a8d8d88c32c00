/*
 * strset: which strings of a fixed set occur in a text, found in one pass
 * (an Aho-Corasick automaton). The rules engine uses it as a prefilter: a
 * pattern whose required words are all absent from a message cannot match
 * it, so PCRE2 need not run.
 *
 * Hand-written: none of deskgate's libraries searches for many strings at
 * once (PCRE2 tries each alternative at each position), and the automaton
 * is small. Pure: no I/O, no logging. Matching is on bytes, exactly; fold
 * case before adding and before scanning if it must not matter.
 *
 * Lifecycle: strset_new(), strset_add() for each string, strset_compile(),
 * then any number of strset_scan(); strset_free().
 */
#ifndef DG_STRSET_H
#define DG_STRSET_H

#include <stddef.h>
#include <stdint.h>

struct strset;

struct strset *strset_new(void);
void strset_free(struct strset **setp);

/* Add s[0..len) (len > 0) before strset_compile(); returns its id, 0, 1,
   ... in order of first addition (the same string gets the same id). */
uint32_t strset_add(struct strset *set, const unsigned char *s, size_t len);
/* The number of distinct strings added. */
uint32_t strset_count(const struct strset *set);
/* Build the automaton. Adding afterwards is a programming error. */
void strset_compile(struct strset *set);

/* Set bit id (found[id / 8] & (1 << id % 8)) for every string that occurs
   in text[0..len). found has room for strset_count() bits; bits are only
   ever set, so the caller clears it first. */
void strset_scan(const struct strset *set, const unsigned char *text, size_t len,
		 unsigned char *found);

#endif
