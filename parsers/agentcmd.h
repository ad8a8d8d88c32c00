/*
 * agentcmd: commands an agent writes on lines of their own in a reply:
 *
 *   #note [text]              the reply is internal: store it, never relay it
 *   #close                    close the ticket
 *   #reopen                   reopen it
 *   #priority urgent|high|normal|low
 *   #category NAME
 *   #assign ADDRESS|NAME      an agent's address, [agent NAME] or display name
 *   #queue NAME
 *   #send-anyway              a supervisor releases the reply the outbound
 *                             guard held (gateway/guard.h)
 *   #attachments              mail me the ticket's attachments, the
 *                             dangerous ones too (gateway/danger.h)
 *   #reply NAME               answer with the canned reply NAME (below the
 *                             agent's own text, if any)
 *   #history                  mail me the whole ticket (every message and
 *                             attachment)
 *   #pending                  the ticket waits on the customer (SLA clocks
 *                             pause; reminder, then solved: gateway/pending.h)
 *   #solved                   the customer's problem is solved: close the
 *                             ticket with a notice to the customer
 *   #snooze 2d|4h|DATE|off    mail me about the ticket then (DATE:
 *                             YYYY-MM-DD [HH:MM] in my calendar's zone)
 *   #cc ADDRESS               copy ADDRESS on the answers to the customer
 *   #uncc ADDRESS             stop copying ADDRESS
 *   #merge N                  fold this ticket into ticket N (#merge 1234 or
 *                             #merge #1234; gateway/merge.h)
 *
 * A command line is recognised anywhere in the agent's own text: at the
 * top, between paragraphs, at the end; never in a quoted line ("> #close").
 * Command lines are taken out of the text (they must never reach the
 * customer); "#note words" leaves its words where the line was. Command
 * words are ASCII, case-insensitive ("#Close" as Outlook capitalises it),
 * and may start with a full-width '＃' (Chinese input methods). "# Heading"
 * (a space after '#') and "#1234" are text, not commands. Syntax is
 * checked here; whether a category, queue or agent exists is for the
 * caller to check against the configuration.
 *
 * Errors (an unknown command, that is any other "#word" line, a bad or
 * missing argument, a command given twice, #close with #reopen (or any
 * two of #close, #solved, #pending, #reopen), #reply
 * missing argument, a command given twice (#cc and #uncc may repeat), #close with #reopen, #reply
 * with #note, too many
 * or too long command lines) are listed so that they can be mailed back
 * to the agent. The caller must then apply nothing and relay nothing: a
 * mistyped "#nte" must not send an internal note to the customer.
 *
 * Hand-written: a few fixed line formats, no library parses them.
 * Pure: no I/O, no logging.
 *
 * Ownership: agentcmd_parse() returns a struct agentcmd_list owned by the
 * caller, freed with agentcmd_list_free(); all strings in it belong to it.
 */
#ifndef DG_AGENTCMD_H
#define DG_AGENTCMD_H

#include <stddef.h>
#include <stdint.h>

/* Most command lines read, and the longest one accepted. */
#define AGENTCMD_MAX_COMMANDS 32
#define AGENTCMD_MAX_LINE 1000

enum agentcmd_kind {
	AGENTCMD_NOTE,
	AGENTCMD_CLOSE,
	AGENTCMD_REOPEN,
	AGENTCMD_PRIORITY,
	AGENTCMD_CATEGORY,
	AGENTCMD_ASSIGN,
	AGENTCMD_QUEUE,
	AGENTCMD_SEND_ANYWAY,
	AGENTCMD_ATTACHMENTS,
	AGENTCMD_REPLY,
	AGENTCMD_HISTORY,
	AGENTCMD_PENDING,
	AGENTCMD_SOLVED,
	AGENTCMD_SNOOZE,
	AGENTCMD_CC,
	AGENTCMD_UNCC,
	AGENTCMD_MERGE,
};

struct agentcmd {
	enum agentcmd_kind kind;
	/* priority: "urgent", "high", "normal" or "low"; category, queue, reply: the
	   name in lower case ([a-z0-9._-], at most 64); assign: an address as
	   written, without angle brackets, or a name (printable UTF-8, at most
	   200 bytes, no quotes, brackets, ',' or ';'); cc, uncc: an address
	   in lower case, without angle brackets; note, close, reopen,
	   history, send-anyway, attachments, pending, solved: NULL; snooze:
	   the argument in lower case, valid for agentcmd_snooze_parse();
	   merge: the ticket number, decimal digits without a leading 0. */
	char *arg;
	unsigned int line; /* 1-based line number in the text */
};

struct agentcmd_error {
	unsigned int line;
	char *command; /* the offending line, control characters made '?', at most 200 bytes */
	char *reason;  /* "unknown command #foo (known: ...)" */
};

struct agentcmd_list {
	struct agentcmd *cmds;
	size_t n_cmds;
	struct agentcmd_error *errors;
	size_t n_errors;
	int is_note; /* #note was given */
	/* The text without the command lines, from its first non-blank line,
	   line ends as in the input; a blank line left twice where a command
	   line was taken out is kept once. "#note some words" leaves those
	   words as a line. Never NULL. */
	char *text;
	size_t text_len;
};

/* Parse text[0..len) (UTF-8, ideally already without quoted history).
   Never fails: problems are in list->errors. */
struct agentcmd_list *agentcmd_parse(const char *text, size_t len);
void agentcmd_list_free(struct agentcmd_list **listp);

/* #snooze's argument: off, a duration, or a local date and time (the
   caller knows the agent's time zone). */
enum agentcmd_snooze_kind { AGENTCMD_SNOOZE_OFF, AGENTCMD_SNOOZE_FOR, AGENTCMD_SNOOZE_AT };
#define AGENTCMD_SNOOZE_MAX (365 * 86400L)
struct agentcmd_snooze {
	enum agentcmd_snooze_kind kind;
	int64_t seconds;		       /* FOR: 60 .. AGENTCMD_SNOOZE_MAX */
	int year, month, day, hour, minute; /* AT: a valid calendar date */
	int has_time;			       /* AT: a time was given (else 00:00) */
};
/* Parse arg[0..len): "off", N followed by m, h, d or w, or YYYY-MM-DD
   with an optional " HH:MM" (or "THH:MM"). 0, or -1 with *error_r (a
   static string for the agent). */
int agentcmd_snooze_parse(const char *arg, size_t len, struct agentcmd_snooze *sn,
			  const char **error_r);

/* "note", "close", ... */
const char *agentcmd_name(enum agentcmd_kind kind);

/* The desk by mail: an agent's new mail to the support address whose own
   text (quotes and signature stripped) starts with a command line asks
   for a list instead of opening a ticket:
     #my            the open tickets assigned to the sender
     #queue NAME    the open tickets of a queue
     #overdue       the open tickets whose first response is overdue
   Text below the line is ignored. AGENTCMD_DESK_NONE: the first line is
   not one of these (the mail is an ordinary one: other commands belong
   in replies to a ticket's mail, and an agent's From alone at the
   support address is a stranger's mail). AGENTCMD_DESK_BAD: one of these
   with a missing or bad argument: *error_r says why, for the error
   mail. *arg_r: the queue
   name in lower case (caller frees), else NULL. */
enum agentcmd_desk {
	AGENTCMD_DESK_NONE,
	AGENTCMD_DESK_MY,
	AGENTCMD_DESK_QUEUE,
	AGENTCMD_DESK_OVERDUE,
	AGENTCMD_DESK_BAD,
};
enum agentcmd_desk agentcmd_desk_parse(const char *text, size_t len, char **arg_r,
				       const char **error_r);

#endif
