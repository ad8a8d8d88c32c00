/*
 * ingest: the pipeline from raw bytes to a stored ticket. Parses (mime),
 * recognises bounces and automatic replies (dsn), threads (thread),
 * classifies (rules), and writes everything for one message in one store
 * transaction: raw blob, ticket, message, participants, attachments, rule
 * hits and fields, events, and, for mail from an IMAP mailbox, the mailbox
 * checkpoint. What else happens to a message is done by steps (hook.h)
 * that run at fixed points of the pipeline: the acknowledgement, the
 * agents' notifications and an agent's reply are built in; later modules
 * add theirs with ingest_add_hook(). Bad input is quarantined with its raw
 * bytes and a reason; only an unavailable store is an error. The whole
 * decision order is in docs/pipeline.md, the steps in
 * docs/internals/hooks.md.
 *
 * Batches: between ingest_batch_begin() and ingest_batch_commit() messages
 * share one transaction (one flush for many messages). Nothing may be
 * acknowledged to the source (IMAP flag, MTA exit code) before the commit
 * that covers it has returned 0. When ingest_message() fails inside a
 * batch, the caller rolls the whole batch back.
 */
#ifndef DG_INGEST_H
#define DG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/hook.h"

struct config;
struct mime_limits;
struct store;
struct ingest;

enum ingest_outcome {
	INGEST_NEW_TICKET,  /* a new ticket was opened */
	INGEST_APPENDED,    /* the message joined an existing ticket */
	INGEST_DUPLICATE,   /* already stored: nothing written */
	INGEST_QUARANTINED, /* held with a reason */
	INGEST_REPORT,	    /* a bounce, delivery or feedback report: recorded, no ticket */
};
#define INGEST_OUTCOMES 5

struct ingest_source {
	const char *label;    /* "ingest", "import:PATH", "mailbox:NAME" (for logs and quarantine) */
	const char *mailbox;  /* IMAP mailbox name, or NULL */
	uint32_t uidvalidity; /* with mailbox: the checkpoint is moved to uid in the same transaction */
	uint32_t uid;
	const char *envelope_sender; /* SMTP MAIL FROM when known ("" for <>), else NULL */
};

struct ingest_result {
	enum ingest_outcome outcome;
	int64_t ticket_id;
	int64_t message_id;
	int64_t quarantine_id;
	int64_t ack_outbox_id; /* the acknowledgement queued, 0: none */
	unsigned int secret_kinds; /* secrets redacted from the message (redact.h), 0: none */
	char reason[256];      /* quarantine reason, or why no acknowledgement */
};

/* Load what the pipeline needs (threading secret, rules, templates,
   business hours). -1 with *error_r when the configuration is unusable.
   config and store are borrowed and must outlive the ingest. */
int ingest_init(const struct config *config, struct store *store, struct ingest **ingest_r,
		const char **error_r);
/* ingest_init() that exits with status 78 on a configuration error. */
struct ingest *ingest_new(const struct config *config, struct store *store);
void ingest_free(struct ingest **ingestp);

/* Add a step to a phase of the pipeline, after those already there
   (hook.h says what each phase may do). context is borrowed. */
void ingest_add_hook(struct ingest *ingest, enum hook_phase phase, const char *name, hook_fn *fn,
		     void *context);

/* The steps registered so far, for listings and tests. */
const struct hook_list *ingest_hooks(const struct ingest *ingest);

/* The parser limits of the configuration's [limits] section (the ones
   ingest applies; mime_limits_default() for the rest). */
void ingest_mime_limits(const struct config *config, struct mime_limits *limits);

/* Load the rules again ([rules] dir); a file that does not compile leaves
   the old rules in place and returns -1 with *error_r. */
int ingest_reload_rules(struct ingest *ingest, const char **error_r);

/* Use a fixed clock (tests); 0 returns to the real one. */
void ingest_set_now(struct ingest *ingest, int64_t now);

int ingest_batch_begin(struct ingest *ingest, const char **error_r);
int ingest_batch_commit(struct ingest *ingest, const char **error_r);
void ingest_batch_rollback(struct ingest *ingest);

/* Store one message. 0: durably handled (or, inside a batch, will be at
   the batch commit) and *result filled; -1 with *error_r: the store
   failed, nothing of this message is kept, retry later. The HOOK_COMMITTED
   steps run after the commit that covers the message (at
   ingest_batch_commit() inside a batch; never for a batch rolled back). */
int ingest_message(struct ingest *ingest, const unsigned char *raw, size_t len,
		   const struct ingest_source *source, struct ingest_result *result,
		   const char **error_r);

/* Re-process a quarantined message with the current limits. 0 with
   *result (which may be INGEST_QUARANTINED again), -1 with *error_r on a
   store failure or when there is no such held message. */
int ingest_retry_quarantined(struct ingest *ingest, int64_t quarantine_id,
			     struct ingest_result *result, const char **error_r);
/* The same, for a message an operator says is no spam (a false positive):
   the rules' spam verdict is set aside and the message becomes a normal
   ticket (acknowledged and notified as any other). The ticket gets a
   "released" event naming by and why the message was held. Limits still
   hold: a message that cannot be parsed stays quarantined. */
int ingest_release_quarantined(struct ingest *ingest, int64_t quarantine_id, const char *by,
			       struct ingest_result *result, const char **error_r);

#endif
