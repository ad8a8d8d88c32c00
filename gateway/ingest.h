/*
 * ingest: the pipeline from raw bytes to a stored ticket. Parses (mime),
 * decides (new ticket, join a ticket, duplicate, quarantine) and writes
 * everything for one message in one store transaction: raw blob, ticket,
 * message, participants, attachments, events, and, for mail from an IMAP
 * mailbox, the mailbox checkpoint. Bad input is quarantined with its raw
 * bytes and a reason; only an unavailable store is an error.
 *
 * Batches: between ingest_batch_begin() and ingest_batch_commit() messages
 * share one transaction (one fsync for many messages). Nothing may be
 * acknowledged to the source (IMAP flag, MTA exit code) before the commit
 * that covers it has returned 0.
 */
#ifndef DG_INGEST_H
#define DG_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct ingest;

enum ingest_outcome {
	INGEST_NEW_TICKET,  /* a new ticket was opened */
	INGEST_APPENDED,    /* the message joined an existing ticket */
	INGEST_DUPLICATE,   /* already stored: nothing written */
	INGEST_QUARANTINED, /* held with a reason */
};

struct ingest_source {
	const char *label;    /* "ingest", "import:PATH", "mailbox:NAME" (for logs and quarantine) */
	const char *mailbox;  /* IMAP mailbox name, or NULL */
	uint32_t uidvalidity; /* with mailbox: the checkpoint is moved to uid in the same transaction */
	uint32_t uid;
};

struct ingest_result {
	enum ingest_outcome outcome;
	int64_t ticket_id;
	int64_t message_id;
	int64_t quarantine_id;
	char reason[256]; /* quarantine reason */
};

/* config and store are borrowed and must outlive the ingest. */
struct ingest *ingest_new(const struct config *config, struct store *store);
void ingest_free(struct ingest **ingestp);

int ingest_batch_begin(struct ingest *ingest, const char **error_r);
int ingest_batch_commit(struct ingest *ingest, const char **error_r);
void ingest_batch_rollback(struct ingest *ingest);

/* Store one message. 0: durably handled (or, inside a batch, will be at
   the batch commit) and *result filled; -1: the store failed, nothing of
   this message is kept, retry later. */
int ingest_message(struct ingest *ingest, const unsigned char *raw, size_t len,
		   const struct ingest_source *source, struct ingest_result *result,
		   const char **error_r);

/* Re-process a quarantined message with the current limits. 0 with
   *result (which may be INGEST_QUARANTINED again), -1 on store failure. */
int ingest_retry_quarantined(struct ingest *ingest, int64_t quarantine_id,
			     struct ingest_result *result, const char **error_r);

#endif
