/*
 * store: the ticket store. One SQLite file in WAL mode (the only module that
 * includes sqlite3) plus content-addressed files on disk for raw mail and
 * attachments. Schema changes are numbered migrations applied at open; the
 * schema is described in docs/schema.md.
 *
 * Durability: a blob is written to a temporary file, fsync()ed, renamed
 * into place and its directory fsync()ed before store_blob_put() returns,
 * so a row committed afterwards never points at a missing file. A crash
 * between the two leaves an unreferenced blob, which is harmless.
 * Transactions: store_begin() ... store_commit() (synchronous=FULL in WAL:
 * a committed transaction survives power loss). Every write function may be
 * called inside or outside an explicit transaction.
 *
 * Ownership: struct store_* records returned by the getters and listers are
 * allocated and owned by the caller, freed with the matching *_free().
 * Input records are borrowed: the store copies what it keeps.
 * Times are seconds since the epoch, UTC.
 */
#ifndef DG_STORE_H
#define DG_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum store_blob_kind { STORE_BLOB_RAW, STORE_BLOB_ATTACHMENT };

struct store_ticket {
	int64_t id;
	char *subject;
	char *status;	/* "new", "open", "pending", "closed" */
	char *category; /* "other" until classified */
	char *priority; /* "low", "normal", "high", "urgent" */
	char *queue;	/* NULL: default queue */
	char *language; /* BCP 47 tag, or NULL */
	char *customer_address;
	char *customer_name;
	int64_t created_at;
	int64_t updated_at;
	int64_t first_response_at; /* 0: none yet */
	int64_t due_at;		   /* first response promised by; 0: none */
	int64_t n_messages;	   /* filled by getters */
};

struct store_message {
	int64_t id;
	int64_t ticket_id;
	char *direction;   /* "in" (customer), "agent", "out" (sent by us), "note" */
	char *message_id;  /* without angle brackets, or NULL */
	char *in_reply_to;
	char *references;  /* space separated msg-ids */
	char *from_address;
	char *from_name;
	char *to;	   /* "Name <a@b>, c@d" as decoded */
	char *cc;
	char *subject;
	int64_t date;	   /* Date header, 0 when absent */
	char *text;	   /* UTF-8 body text */
	char *raw_sha256;  /* blob of the raw message */
	int64_t raw_size;
	char *dedupe_key;  /* unique: the same message is stored once */
	char *mailbox;	   /* where it came from ("ingest", a mailbox name...) */
	int64_t uid;	   /* IMAP UID, 0 when none */
	int64_t created_at;
};

struct store_attachment {
	int64_t id;
	int64_t message_row_id; /* store_message.id */
	char *filename;		/* display name only, never a path */
	char *content_type;
	char *content_id;
	char *sha256; /* blob of the decoded bytes */
	int64_t size;
	int is_inline;
};

struct store_participant {
	int64_t ticket_id;
	char *address;
	char *name;
	char *role; /* "customer", "cc", "agent" */
};

struct store_event {
	int64_t id;
	int64_t ticket_id; /* 0: not about a ticket */
	int64_t at;
	char *kind;	   /* "created", "message", "warning", "quarantined", ... */
	char *detail;
};

struct store_quarantine {
	int64_t id;
	char *raw_sha256;
	int64_t raw_size;
	char *reason;
	char *source;	  /* "ingest", "import:PATH", "mailbox:NAME uid:N" */
	int64_t created_at;
	char *status;	  /* "held", "released" (retried into a ticket), "dropped" */
	int64_t ticket_id; /* after a successful retry */
};

int store_open(const char *db_path, const char *state_dir, struct store **store_r,
	       const char **error_r);
void store_close(struct store **storep);
/* The schema version after migrations. */
int store_schema_version(struct store *store);

int store_begin(struct store *store, const char **error_r);
int store_commit(struct store *store, const char **error_r);
void store_rollback(struct store *store);

/* Write a blob (idempotent: an existing blob of the same hash is kept).
   Fills hex_r with its SHA-256. */
int store_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
		   char hex_r[65], const char **error_r);
/* Read a blob whole; caller frees *data_r. */
int store_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
		   unsigned char **data_r, size_t *len_r, const char **error_r);
/* Path of a blob file (caller frees); the path is made only of the kind's
   directory and the hex digest. */
char *store_blob_path(struct store *store, enum store_blob_kind kind, const char *hex);

/* 1 when a message with this dedupe key exists (ids filled), 0 when not, -1 on error. */
int store_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
			      int64_t *ticket_id_r, const char **error_r);

int store_ticket_insert(struct store *store, const struct store_ticket *ticket, int64_t *id_r,
			const char **error_r);
/* Set one of: status, category, priority, queue, language (others refused). */
int store_ticket_set(struct store *store, int64_t ticket_id, const char *field, const char *value,
		     const char **error_r);
/* 1 found, 0 no such ticket, -1 error. */
int store_ticket_get(struct store *store, int64_t id, struct store_ticket **ticket_r,
		     const char **error_r);
/* Newest first; limit 0 means all. */
int store_ticket_list(struct store *store, size_t limit, struct store_ticket **tickets_r,
		      size_t *count_r, const char **error_r);
int store_ticket_count(struct store *store, int64_t *count_r, const char **error_r);
void store_ticket_free(struct store_ticket **ticketp);
void store_tickets_free(struct store_ticket **ticketsp, size_t count);

int store_message_insert(struct store *store, const struct store_message *msg, int64_t *id_r,
			 const char **error_r);
/* A ticket's messages, oldest first. */
int store_message_list(struct store *store, int64_t ticket_id, struct store_message **msgs_r,
		       size_t *count_r, const char **error_r);
int store_message_count(struct store *store, int64_t *count_r, const char **error_r);
void store_messages_free(struct store_message **msgsp, size_t count);

int store_attachment_insert(struct store *store, const struct store_attachment *att,
			    int64_t *id_r, const char **error_r);
int store_attachment_list(struct store *store, int64_t message_row_id,
			  struct store_attachment **atts_r, size_t *count_r, const char **error_r);
void store_attachments_free(struct store_attachment **attsp, size_t count);

/* Insert or keep (ticket_id, address) unique; a known participant keeps its role. */
int store_participant_add(struct store *store, int64_t ticket_id, const char *address,
			  const char *name, const char *role, const char **error_r);
int store_participant_list(struct store *store, int64_t ticket_id,
			   struct store_participant **parts_r, size_t *count_r, const char **error_r);
void store_participants_free(struct store_participant **partsp, size_t count);

int store_event_add(struct store *store, int64_t ticket_id, const char *kind, const char *detail,
		    const char **error_r);
int store_event_list(struct store *store, int64_t ticket_id, struct store_event **events_r,
		     size_t *count_r, const char **error_r);
void store_events_free(struct store_event **eventsp, size_t count);

/* Quarantine: a raw blob held with a reason. Inserting a blob that is
   already held returns the existing id (the same mail fetched twice is held
   once) and *existed_r = 1. */
int store_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
			    int *existed_r, const char **error_r);
/* 1 found, 0 none, -1 error. */
int store_quarantine_get(struct store *store, int64_t id, struct store_quarantine **q_r,
			 const char **error_r);
/* status NULL: all; newest first. */
int store_quarantine_list(struct store *store, const char *status, struct store_quarantine **qs_r,
			  size_t *count_r, const char **error_r);
int store_quarantine_set_status(struct store *store, int64_t id, const char *status,
				int64_t ticket_id, const char **error_r);
void store_quarantine_free(struct store_quarantine **qp);
void store_quarantines_free(struct store_quarantine **qsp, size_t count);

/* IMAP checkpoint per mailbox: UIDVALIDITY and the highest UID whose
   message is durably committed (ticket or quarantine). 0 / 0 when unknown. */
int store_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
		      uint32_t *last_uid_r, const char **error_r);
int store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
		      uint32_t last_uid, const char **error_r);

#endif
