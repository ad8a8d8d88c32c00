/*
 * hook: the steps other modules run on a message that ingest handles, so
 * that a new capability (SLA due times, secret redaction, metrics, survey
 * answers...) plugs into the pipeline instead of becoming another section
 * of ingest.c. docs/internals/hooks.md is the guide.
 *
 * Three phases, each an ordered list of named steps:
 *
 * HOOK_CLASSIFIED  a message that will be stored on a ticket, after it was
 *                  threaded and classified and before anything of it is
 *                  written. A step may change what is stored: msg->text (as
 *                  the owner of the new string), and the raw message kept
 *                  (ev->stored_raw, a malloc()ed copy ingest frees; the
 *                  dedupe key stays the original's); or hold the message:
 *                  it sets ev->quarantine to the reason, the message is
 *                  quarantined with its raw bytes and the later steps do
 *                  not run; or answer it itself: it queues its answer
 *                  through deskmail (in the message's transaction) and
 *                  sets ev->handled to what it did; no ticket is stored,
 *                  the raw mail is kept with a "desk" event, the later
 *                  steps do not run. Built in: "secrets" (redact.h:
 *                  secrets are replaced by marks before anything is
 *                  written), "attachments" (danger.h), "desk"
 *                  (desklist.h: an agent's #my, #queue NAME, #overdue).
 * HOOK_STORED      inside the message's transaction, after its rows
 *                  (ticket, message, participants, attachments, fields,
 *                  events) are written. Steps write to the store and queue
 *                  mail through deskmail, all committed with the message or
 *                  not at all. Built in, in this order: "secrets" (the
 *                  ticket of a redacted message made urgent), "ack" (the
 *                  customer's acknowledgement; it sets the promised time the
 *                  others show), "agents" (notifications), "replies" (a
 *                  trusted agent's mail: commands, relay), "sla" (the
 *                  ticket's SLA clocks, gateway/escalate.h).
 * HOOK_COMMITTED   after the commit that covers the message (at the end of
 *                  a batch, for each of its messages), for every outcome:
 *                  a new ticket, a follow-up, a duplicate, a quarantine, a
 *                  report. Nothing may be written; counters, log lines and
 *                  wake-ups belong here. Built in: "log" (one line per
 *                  message with mailbox= uid= msgid= ticket=).
 *
 * A step returns 0, or the store's graded result (< 0, store.h) with
 * *error_r only when the store failed: STORE_UNAVAILABLE undoes the
 * message's whole unit to be retried later, STORE_DATA_BAD quarantines
 * the message. Everything else a step meets (a
 * template error, an address compose refuses) is its own business: a log
 * line and an event on the ticket, then 0, so that the customer's mail is
 * never lost because a side effect failed. A COMMITTED step cannot fail.
 *
 * Ownership: the event and everything it points to belong to ingest and
 * live for the call only; steps copy what they keep. hook_list_new()
 * returns a list freed with hook_list_free(); contexts are borrowed.
 */
#ifndef DG_HOOK_H
#define DG_HOOK_H

#include <stddef.h>
#include <stdint.h>

struct mime_message;
struct reply;
struct rules_result;
struct thread_decision;

enum hook_phase {
	HOOK_CLASSIFIED,
	HOOK_STORED,
	HOOK_COMMITTED,
};
#define HOOK_PHASES 3

struct hook_event {
	enum hook_phase phase;

	/* Every phase: where the message came from. */
	const char *source;	  /* "mailbox:support", "ingest", "import:PATH" */
	const char *mailbox;	  /* IMAP mailbox, or NULL */
	uint32_t uid;		  /* IMAP UID, or 0 */
	const char *message_id;	  /* its Message-ID (no brackets), or NULL */
	const char *logctx;	  /* "mailbox=... uid=... msgid=..." for log lines */
	const unsigned char *raw; /* CLASSIFIED and STORED: the message as received */
	size_t raw_len;
	int64_t now;

	/* CLASSIFIED and STORED. */
	struct mime_message *msg;
	const char *envelope_sender; /* SMTP MAIL FROM, else Return-Path, or NULL */
	const struct thread_decision *decision;
	/* NULL: not classified (agent mail...). Not const: a CLASSIFIED step
	   may redact the texts the rules matched and extracted. */
	struct rules_result *rules;
	int auto_reply;			  /* an automatic reply (out of office) */

	/* STORED and COMMITTED. */
	int64_t ticket_id;
	int64_t message_row_id;
	int new_ticket;			  /* this message opened the ticket */
	const struct reply *reply;	  /* STORED: a trusted agent's mail, or NULL */

	/* COMMITTED: what came of the message (enum ingest_outcome). */
	int outcome;
	int64_t quarantine_id;
	const char *reason;		  /* quarantine or report reason, or "" */

	/* Set by steps. */
	unsigned char *stored_raw;	  /* CLASSIFIED: the raw bytes to keep instead */
	size_t stored_raw_len;
	int64_t ack_outbox_id;		  /* STORED "ack": the acknowledgement queued */
	char ack_refusal[256];		  /* STORED "ack": why none was sent */
	char quarantine[256];		  /* CLASSIFIED: hold the message, why */
	unsigned int secret_kinds;	  /* CLASSIFIED "secrets": SECRET_KIND_BIT()s redacted */
	char secret_where[160];		  /* CLASSIFIED "secrets": "subject, text, notes.txt" */
	const struct hook_flagged *flagged; /* CLASSIFIED "attachments": dangerous ones */
	size_t n_flagged;
	char handled[256];		  /* CLASSIFIED: answered by the step, no ticket; what */
};

/* An attachment of the message that can bite the agent who opens it
   (CLASSIFIED "attachments", danger.h): stored, never attached to
   notifications. */
struct hook_flagged {
	char sha256[65];      /* its blob (store_blob_put()'s name) */
	const char *filename; /* borrowed from msg */
	char reason[320];     /* sniff.h's verdict, English */
};

typedef int hook_fn(void *context, struct hook_event *ev, const char **error_r);

struct hook_list;

struct hook_list *hook_list_new(void);
void hook_list_free(struct hook_list **listp);

/* Append a step to phase; name (static) appears in errors and logs. */
void hook_add(struct hook_list *list, enum hook_phase phase, const char *name, hook_fn *fn,
	      void *context);

/* Run phase's steps in order with ev (ev->phase is set). CLASSIFIED stops
   at the first step that sets ev->quarantine or ev->handled. The failing step's result
   (< 0) with *error_r ("NAME: why") at the first step that fails;
   COMMITTED runs every step and returns 0 (a failure there is logged). */
int hook_run(const struct hook_list *list, enum hook_phase phase, struct hook_event *ev,
	     const char **error_r);

/* The steps of a phase, in order (for `deskgate config check -v` and tests). */
size_t hook_count(const struct hook_list *list, enum hook_phase phase);
const char *hook_name(const struct hook_list *list, enum hook_phase phase, size_t n);

#endif
