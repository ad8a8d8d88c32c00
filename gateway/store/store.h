/*
 * store: the ticket store, behind a driver table (gateway/store/: this
 * interface, store.c the dispatcher, one file per driver). The SQLite
 * driver (store-sqlite.c, the only file that includes sqlite3) keeps one
 * database file in WAL mode (with the small blobs) plus content-addressed
 * files on disk for large raw mail and attachments
 * (state_dir/raw/ab/<sha256>, state_dir/att/ab/<sha256>).
 * Callers never learn which driver runs. Schema changes are numbered
 * migrations applied at open; a database newer than the code is refused.
 * The schema is described in docs/schema.md, the contract a driver keeps
 * in docs/internals/store.md.
 *
 * Results: every function returns STORE_OK (0) or, where it says so, 1
 * for "found", and on failure a negative, graded result (so `< 0` is
 * failure): STORE_DATA_BAD when the store refused the data of this call
 * (a constraint, a value too large, an unknown field or missing row the
 * call named): the same call fails again, so the message it came from is
 * quarantined, not retried; STORE_UNAVAILABLE when the store could not do
 * it now (locked, disk full, I/O error, no transaction): retry later.
 * store_open() returns -1 on any failure (the caller cannot run).
 *
 * Durability: a blob is written to a temporary file in state_dir/tmp
 * (O_EXCL, mode 0600) and renamed into place; an existing blob file is
 * kept only when it holds the same bytes (else it is replaced). Outside a
 * transaction the file and its directory are fsync()ed before
 * store_blob_put() returns, so a row written afterwards never points at a
 * missing file. Inside a transaction (store_begin()) the flush is
 * deferred: store_commit() calls syncfs() on the state directory once for
 * the whole batch and only then COMMITs the rows, so a batch of many
 * messages costs one flush, and a committed row still never points at a
 * lost blob. A crash before the commit leaves unreferenced blobs, which
 * are harmless (and a rolled-back transaction leaves its blobs in place).
 * Blobs shorter than store_set_blob_file_min() are rows of the database
 * instead (SQLite's blobs table; PostgreSQL keeps every blob a row),
 * written in the caller's transaction, so they are as durable as the rows
 * that name them; reads look for a row first, then a file, so blobs
 * written as files before stay readable.
 *
 * Transactions: store_begin() ... store_commit() (a committed transaction
 * survives power loss). store_begin() takes the write lock at once (SQLite:
 * BEGIN IMMEDIATE), so a batch never fails half-way on a lock upgrade and
 * a look-up made inside it (store_message_find_dedupe()) stays true until
 * the commit. Nesting is an error. When store_commit() fails the
 * transaction has been rolled back; store_rollback() is a no-op without a
 * transaction. Every write function may be called inside or outside an
 * explicit transaction; each one is atomic on its own, and one refused for
 * its data (STORE_DATA_BAD) leaves the transaction usable.
 *
 * Errors are "store: <what>: <reason>" (reason from the database or
 * strerror); errors about a file name the file.
 *
 * Ownership: struct store_* records returned by the getters and listers are
 * allocated and owned by the caller, with every string they point to, and
 * freed with the matching *_free() (which accepts NULL and sets the pointer
 * to NULL). A list with no rows is NULL with count 0. Input records are
 * borrowed: the store copies what it keeps. The string fields are const,
 * so an input record points at whatever the caller has (a literal, the
 * parsed message) without a cast; the strings of a record the store
 * returned are freed only by its *_free(). Times are seconds since the
 * epoch, UTC; a created_at/updated_at of 0 in an input record means now.
 */
#ifndef DG_STORE_H
#define DG_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Graded results; see the top of this file. */
enum store_result {
	STORE_OK = 0,
	STORE_UNAVAILABLE = -1, /* retry later */
	STORE_DATA_BAD = -2,	/* this call's data was refused: do not retry it */
};

enum store_blob_kind { STORE_BLOB_RAW, STORE_BLOB_ATTACHMENT };

struct store_ticket {
	int64_t id;
	const char *subject;
	const char *status;		/* "new", "open", "pending", "closed" */
	const char *category;		/* "other" until classified */
	const char *priority;		/* "low", "normal", "high", "urgent" */
	const char *queue;		/* NULL: default queue */
	const char *language;		/* BCP 47 tag, or NULL */
	const char *customer_address;
	const char *customer_name;
	int64_t created_at;
	int64_t updated_at;
	int64_t first_response_at;	/* 0: none yet */
	int64_t due_at;			/* first response promised by; 0: none */
	int64_t n_messages;		/* filled by getters */
	const char *assignee;		/* the agent address it is assigned to, or NULL */
};

struct store_message {
	int64_t id;
	int64_t ticket_id;
	const char *direction;		/* "in" (customer), "agent", "out" (sent by us), "note" */
	const char *message_id;		/* without angle brackets, or NULL */
	const char *in_reply_to;
	const char *references;		/* space separated msg-ids */
	const char *from_address;
	const char *from_name;
	const char *to;			/* "Name <a@b>, c@d" as decoded */
	const char *cc;
	const char *subject;
	int64_t date;			/* Date header, 0 when absent */
	const char *text;		/* UTF-8 body text */
	const char *raw_sha256;		/* blob of the raw message */
	int64_t raw_size;
	const char *dedupe_key;		/* unique: the same message is stored once */
	const char *text_sha256;	/* SHA-256 of text, computed by the store on insert */
	const char *mailbox;		/* where it came from ("ingest", a mailbox name...) */
	int64_t uid;			/* IMAP UID, 0 when none */
	int64_t created_at;
};

struct store_attachment {
	int64_t id;
	int64_t message_row_id;	/* store_message.id */
	const char *filename;	/* display name only, never a path */
	const char *content_type;
	const char *content_id;
	const char *sha256;	/* blob of the decoded bytes */
	int64_t size;
	int is_inline;
};

struct store_participant {
	int64_t ticket_id;
	const char *address;
	const char *name;
	const char *role;	/* "customer", "cc", "agent" */
};

struct store_event {
	int64_t id;
	int64_t ticket_id;	/* 0: not about a ticket */
	int64_t at;
	const char *kind;	/* "created", "message", "warning", "quarantined", ... */
	const char *detail;
};

struct store_quarantine {
	int64_t id;
	const char *raw_sha256;	/* NULL: no raw bytes (an IMAP message, see mailbox) */
	int64_t raw_size;	/* without raw bytes: the size the server announced, or 0 */
	const char *reason;
	const char *source;	/* "ingest", "import:PATH", "mailbox:NAME uid:N" */
	int64_t created_at;
	const char *status;	/* "held", "released" (retried into a ticket), "dropped" */
	int64_t ticket_id;	/* after a successful retry */
	/* With raw_sha256 NULL: the IMAP message the entry stands for (one the
	   server would not deliver, or one too large to keep), left unmarked
	   on the server; else NULL and 0. */
	const char *mailbox;
	int64_t uidvalidity;
	int64_t uid;
};

/* Replace a string field of a record the store returned with a copy of
   value (NULL allowed), freeing the old string: for a caller that keeps a
   record in step with what it just wrote. */
void store_string_replace(const char **fieldp, const char *value);

int store_open(const char *db_path, const char *state_dir, struct store **store_r,
	       const char **error_r);
void store_close(struct store **storep);
/* The schema version after migrations. */
int store_schema_version(struct store *store);
/* How many calls since open failed because a concurrent transaction won
   (another gateway wrote the same rows: PostgreSQL's serialization
   failure or deadlock; SQLite, one writer at a time, has none). Such a
   STORE_UNAVAILABLE says nothing about the store's health: the caller
   retries the batch at once and then finds the other writer's rows. */
uint64_t store_conflicts(const struct store *store);

int store_begin(struct store *store, const char **error_r);
int store_commit(struct store *store, const char **error_r);
void store_rollback(struct store *store);
/* A unit inside a transaction (an SQL savepoint, one level): undo() discards
   the unit's writes and keeps the transaction, so that one message whose
   data the store refuses can be quarantined without losing its batch. */
int store_unit_begin(struct store *store, const char **error_r);
int store_unit_end(struct store *store, const char **error_r);
int store_unit_undo(struct store *store, const char **error_r);

/* Write a blob (idempotent: an existing blob with the same bytes is kept,
   a damaged one replaced). Fills hex_r with its SHA-256. Durability: see
   the top of this file. */
int store_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
		   char hex_r[65], const char **error_r);
/* An attachment kept as a range of the raw mail it came in (issue 18:
   stored once): the encoded bytes raw[offset .. offset + length), decoded
   on read by mime_raw_decode(encoding) (enum mime_raw_encoding). */
struct store_blob_range {
	char raw_sha256[65]; /* the raw blob (STORE_BLOB_RAW) */
	int64_t offset, length;
	int encoding;
	int64_t size; /* decoded */
};
/* Keep an attachment (data, len: its decoded bytes) as a range of raw,
   the raw mail as written with store_blob_put(STORE_BLOB_RAW) under
   range->raw_sha256: only when the range decodes to exactly these bytes
   (checked here), else as a blob of its own (store_blob_put()). Either
   way hex_r is the SHA-256 of data and store_blob_get(STORE_BLOB_ATTACHMENT,
   hex) reads it back. A hash kept once is not kept again (dedupe). */
int store_blob_put_range(struct store *store, const unsigned char *raw, size_t raw_len,
			 const struct store_blob_range *range, const void *data, size_t len,
			 char hex_r[65], const char **error_r);
/* For `store migrate` (store-copy.c): the range an attachment is kept as
   (1, or 0 when it is a blob of its own), and that range written into
   another store whose raw blob is already there. */
int store_blob_range_get(struct store *store, const char *hex, struct store_blob_range *r,
			 const char **error_r);
int store_blob_range_copy(struct store *store, const char *hex, const struct store_blob_range *r,
			  const char **error_r);
/* Read a blob whole and check its SHA-256 (a mismatch is an error);
   caller frees *data_r (NUL-terminated after len bytes). An attachment
   kept as a range is decoded from its raw blob. */
int store_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
		   unsigned char **data_r, size_t *len_r, const char **error_r);
/* Blobs shorter than min bytes are kept in the database from now on
   ([general] blob_file_min); 0 (the default of a store just opened) keeps
   every blob a file. No effect on a driver without blob files. */
void store_set_blob_file_min(struct store *store, size_t min);
/* PostgreSQL ([store] blob_dir): keep the bytes of blobs written from now
   on as files under dir (created mode 0700 unless it exists, laid out as
   state_dir is for SQLite), each fsync()ed with its directory before the
   blobs row that names it (which then holds no bytes) is written; reads
   take a row's bytes first, then the file, so blobs written before stay
   readable. Every gateway on the database must mount the same dir.
   STORE_DATA_BAD on a driver without it (SQLite keeps large blobs as
   files in state_dir already), STORE_UNAVAILABLE when dir is unusable. */
int store_set_blob_dir(struct store *store, const char *dir, const char **error_r);
/* Path of a blob file (caller frees); the path is made only of the kind's
   directory and the hex digest. NULL unless hex is exactly 64 lower-case
   hex digits (so no caller-supplied name can reach outside the store).
   A blob kept in the database has no file at that path. */
char *store_blob_path(struct store *store, enum store_blob_kind kind, const char *hex);

/* 1 when a message with this dedupe key exists (ids filled), 0 when not, < 0 on failure. */
int store_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
			      int64_t *ticket_id_r, const char **error_r);

/* id, n_messages are ignored; NULL status/category/priority become "new",
   "other", "normal", a NULL subject "". updated_at 0: created_at. */
int store_ticket_insert(struct store *store, const struct store_ticket *ticket, int64_t *id_r,
			const char **error_r);
/* Set one of: status, category, priority, queue, language, assignee (others
   refused; queue, language and assignee may be NULL). Bumps updated_at. No
   such ticket: STORE_DATA_BAD. A status set to "closed" or "solved" also
   sets the timer (STORE_TIMER_CLOSED, ticket) due now, in the same
   transaction: whatever must follow every close, however it came (an
   agent's command, an automatic solve, the command line), hangs on it
   (the satisfaction survey: gateway/survey.h). */
#define STORE_TIMER_CLOSED "closed"
int store_ticket_set(struct store *store, int64_t ticket_id, const char *field, const char *value,
		     const char **error_r);
/* 1 found, 0 no such ticket, < 0 failure. */
int store_ticket_get(struct store *store, int64_t id, struct store_ticket **ticket_r,
		     const char **error_r);
/* Newest (highest id) first; limit 0 means all. */
int store_ticket_list(struct store *store, size_t limit, struct store_ticket **tickets_r,
		      size_t *count_r, const char **error_r);
/* The desk by mail's lists of open tickets (status neither closed nor
   solved), the earliest due_at first, tickets without one last, then by
   id; limit 0 means all:
   STORE_DESK_ASSIGNED  assigned to arg (an address, ASCII case folded);
   STORE_DESK_QUEUE     in queue arg (case folded);
   STORE_DESK_OVERDUE   no first response yet and due_at before now (arg
                        unused). */
enum store_desk_list { STORE_DESK_ASSIGNED, STORE_DESK_QUEUE, STORE_DESK_OVERDUE };
int store_ticket_list_desk(struct store *store, enum store_desk_list which, const char *arg,
			   int64_t now, size_t limit, struct store_ticket **tickets_r,
			   size_t *count_r, const char **error_r);
int store_ticket_count(struct store *store, int64_t *count_r, const char **error_r);
/* Set first_response_at or due_at (others refused). Bumps updated_at. */
int store_ticket_set_time(struct store *store, int64_t ticket_id, const char *field, int64_t value,
			  const char **error_r);
/* The desk at a glance, for `deskgate status` and the metrics, in one
   consistent read. "Unanswered": not closed and no first response yet. */
struct store_stats {
	int64_t outbox_queued;	       /* waiting for their first attempt */
	int64_t outbox_deferred;       /* queued again after a temporary failure */
	int64_t outbox_sending;
	int64_t outbox_failed;
	int64_t outbox_oldest_at;      /* created_at of the oldest queued or sending, 0: none */
	int64_t quarantine_held;
	int64_t tickets_unanswered;
	int64_t oldest_unanswered_id;  /* 0: none */
	int64_t oldest_unanswered_at;  /* its created_at */
	int64_t oldest_unanswered_due; /* its due_at (0: no promise) */
};
int store_stats(struct store *store, struct store_stats *stats_r, const char **error_r);
void store_ticket_free(struct store_ticket **ticketp);
void store_tickets_free(struct store_ticket **ticketsp, size_t count);

/* id and text_sha256 are ignored: the store computes text_sha256 from text
   (NULL text is stored as ""). Raises the ticket's updated_at to the
   message's created_at. A second message with the same dedupe_key fails
   (use store_message_find_dedupe() first); NULL dedupe keys never clash. */
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

/* Insert or keep (ticket_id, address) unique, address compared
   case-insensitively; a known participant keeps its role (and its name,
   unless it had none). */
int store_participant_add(struct store *store, int64_t ticket_id, const char *address,
			  const char *name, const char *role, const char **error_r);
/* Remove the participant address (case-insensitive) when it has role:
   1 removed, 0 no such participant with that role. */
int store_participant_remove(struct store *store, int64_t ticket_id, const char *address,
			     const char *role, const char **error_r);
int store_participant_list(struct store *store, int64_t ticket_id,
			   struct store_participant **parts_r, size_t *count_r, const char **error_r);
void store_participants_free(struct store_participant **partsp, size_t count);

int store_event_add(struct store *store, int64_t ticket_id, const char *kind, const char *detail,
		    const char **error_r);
/* store_event_add() with a printf-style detail. */
int store_event_addf(struct store *store, int64_t ticket_id, const char *kind,
		     const char **error_r, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A ticket's events, oldest first; ticket_id 0: the events about no ticket. */
int store_event_list(struct store *store, int64_t ticket_id, struct store_event **events_r,
		     size_t *count_r, const char **error_r);
void store_events_free(struct store_event **eventsp, size_t count);
/* Of the desk's own events (no ticket) of kind_a or kind_b whose detail
   starts with detail_prefix, which is the newest: 1 kind_a, 2 kind_b, 0
   none; < 0 (a store result) with *error_r. For state kept as events: an
   outage is open while its "outage" event is newer than its "recovered". */
int store_event_last_of(struct store *store, const char *kind_a, const char *kind_b,
			const char *detail_prefix, const char **error_r);

/* Quarantine: a raw blob held with a reason. Inserting a blob that is
   already held returns the existing id (the same mail fetched twice is held
   once) and *existed_r = 1. Without a blob (raw_sha256 NULL) mailbox,
   uidvalidity and uid are required (else STORE_DATA_BAD), and the same
   IMAP message is held once: inserting it again keeps the entry and
   updates its reason and raw_size. */
int store_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
			    int *existed_r, const char **error_r);
/* 1 found, 0 none, < 0 failure. */
int store_quarantine_get(struct store *store, int64_t id, struct store_quarantine **q_r,
			 const char **error_r);
/* status NULL: all; newest first. */
int store_quarantine_list(struct store *store, const char *status, struct store_quarantine **qs_r,
			  size_t *count_r, const char **error_r);
/* ticket_id 0 keeps the recorded ticket. No such entry: STORE_DATA_BAD. */
int store_quarantine_set_status(struct store *store, int64_t id, const char *status,
				int64_t ticket_id, const char **error_r);
/* The held entries without raw bytes that stand for messages of this
   mailbox and UIDVALIDITY, by UID (the poller tries them again). */
int store_quarantine_list_unfetched(struct store *store, const char *mailbox, uint32_t uidvalidity,
				    struct store_quarantine **qs_r, size_t *count_r,
				    const char **error_r);
void store_quarantine_free(struct store_quarantine **qp);
void store_quarantines_free(struct store_quarantine **qsp, size_t count);

/* IMAP checkpoint per mailbox: UIDVALIDITY and the highest UID whose
   message is durably committed (ticket or quarantine). 0 / 0 when unknown. */
int store_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
		      uint32_t *last_uid_r, const char **error_r);
int store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
		      uint32_t last_uid, const char **error_r);

/* Marks owed on an IMAP server: a UID whose message is committed (in the
   same transaction) and not yet flagged \Seen or moved there. The poller
   marks exactly these (quarantined ones also get a keyword) and then says
   they are done; after a crash between the commit and the mark it finds
   them here. mark_add is idempotent; quarantined is kept once set. UIDs
   and UIDVALIDITY are never 0 (STORE_DATA_BAD). */
struct store_mailbox_mark {
	int64_t uid;
	int quarantined;
};
int store_mailbox_mark_add(struct store *store, const char *mailbox, uint32_t uidvalidity,
			   uint32_t uid, int quarantined, const char **error_r);
/* Ascending by UID; the caller frees *marks_r with free() (no field owns
   memory). */
int store_mailbox_mark_list(struct store *store, const char *mailbox, uint32_t uidvalidity,
			    struct store_mailbox_mark **marks_r, size_t *count_r,
			    const char **error_r);
/* A UID that is not owed is no error. */
int store_mailbox_mark_done(struct store *store, const char *mailbox, uint32_t uidvalidity,
			    const uint32_t *uids, size_t count, const char **error_r);
/* Drop the marks of every other UIDVALIDITY (those UIDs name nothing any
   more). */
int store_mailbox_mark_forget(struct store *store, const char *mailbox, uint32_t uidvalidity,
			      const char **error_r);

/* ---- classification results (rules) ---------------------------------- */

struct store_field {
	const char *name;
	const char *value;
};

/* Extracted ticket fields (order_id, tx_hash, amount...): one value per
   name and ticket; setting again replaces it. A name that begins with '_'
   is internal (never shown to customers, not copied by #merge), except: */
/* the reply held back for a release (gateway/hold.h): internal, but
   #merge carries it to the surviving ticket (store-merge.h). */
#define STORE_FIELD_HELD_REPLY "_held_reply"

int store_ticket_field_set(struct store *store, int64_t ticket_id, const char *name,
			   const char *value, const char **error_r);
/* Ordered by name. */
int store_ticket_field_list(struct store *store, int64_t ticket_id, struct store_field **fields_r,
			    size_t *count_r, const char **error_r);
void store_fields_free(struct store_field **fieldsp, size_t count);

/* Which rule fired on which message, with a short detail (what matched). */
int store_rule_hit_add(struct store *store, int64_t ticket_id, int64_t message_row_id,
		       const char *rule, const char *detail, const char **error_r);
/* As store_field: name = rule, value = detail, oldest first. */
int store_rule_hit_list(struct store *store, int64_t ticket_id, struct store_field **hits_r,
			size_t *count_r, const char **error_r);

/* ---- threading look-ups ------------------------------------------------ */

/* The ticket a Message-ID (without angle brackets) belongs to, looking at
   stored messages and sent outbox mail: 1 found, 0 not, < 0 failure. */
int store_ticket_find_by_message_id(struct store *store, const char *message_id,
				    int64_t *ticket_id_r, const char **error_r);
/* 1 when address (ASCII case folded) was a recipient (To or Cc) of a
   message stored on the ticket, or of our mail with this Message-ID
   (message_id may be NULL) sent for the ticket; 0 when not. One indexed
   look-up, whatever the size of the ticket. */
int store_ticket_find_recipient(struct store *store, int64_t ticket_id, const char *message_id,
				const char *address, const char **error_r);
/* 1 when address (case-insensitive) is a participant of the ticket, filling
   *role_r (static string) when role_r is not NULL; 0 when not. */
int store_participant_find(struct store *store, int64_t ticket_id, const char *address,
			   const char **role_r, const char **error_r);
/* The newest message on any ticket from this address whose text has this
   SHA-256 (store_message.text_sha256), received after `since`: 1 found. */
int store_message_find_same_text(struct store *store, const char *from_address,
				 const char *text_sha256, int64_t since, int64_t *ticket_id_r,
				 const char **error_r);

/* ---- outbox --------------------------------------------------------------- */

struct store_outbox {
	int64_t id;
	int64_t ticket_id;		/* 0: not about a ticket */
	const char *kind; /* ack notify relay notice error escalation digest desk survey reminder alert report */
	const char *message_id;		/* without angle brackets; unique */
	const char *envelope_from;
	const char *recipients;		/* comma separated addresses */
	const unsigned char *raw;	/* the exact RFC 5322 bytes to send */
	size_t raw_size;
	const char *status;		/* "queued", "sending", "sent", "failed", "cancelled" */
	int64_t attempts;
	int64_t created_at;
	int64_t next_attempt_at;
	int64_t sent_at;
	const char *last_error;		/* NULL or the last failure */
	const char *last_code;		/* SMTP reply / enhanced status code, e.g. "550 5.1.1" */
};

/* Queue a message (status "queued", attempts 0; o->status and o->attempts
   are ignored; created_at 0 means now, next_attempt_at 0 means created_at).
   Call inside the transaction that records the cause, so that the mail is
   queued exactly when the cause is committed. */
int store_outbox_insert(struct store *store, const struct store_outbox *o, int64_t *id_r,
			const char **error_r);
/* Messages to send now: status "queued" with next_attempt_at <= now, and
   "sending" ones (in flight when the gateway stopped), oldest first. */
int store_outbox_due(struct store *store, int64_t now, size_t limit, struct store_outbox **list_r,
		     size_t *count_r, const char **error_r);
/* Record an attempt's outcome; status "sent" also sets sent_at to now.
   No such message: STORE_DATA_BAD. */
int store_outbox_update(struct store *store, int64_t id, const char *status, int64_t attempts,
			int64_t next_attempt_at, const char *last_error, const char *last_code,
			const char **error_r);
/* 1 found, 0 none. */
int store_outbox_get(struct store *store, int64_t id, struct store_outbox **o_r,
		     const char **error_r);
int store_outbox_find_by_message_id(struct store *store, const char *message_id,
				    struct store_outbox **o_r, const char **error_r);
/* status NULL: all; newest first; limit 0: all. raw is not loaded (NULL). */
int store_outbox_list(struct store *store, const char *status, size_t limit,
		      struct store_outbox **list_r, size_t *count_r, const char **error_r);
/* How many messages of this kind (NULL: any) were queued to recipient
   (case-insensitive, one of the recipients) since `since` (for rate limits). */
int store_outbox_count_recent(struct store *store, const char *recipient, const char *kind,
			      int64_t since, int64_t *count_r, const char **error_r);
/* store_outbox_count_recent() for every sub-address of base
   ("local@domain": local@domain and local+anything@domain, any case), so
   that a sender cannot multiply a rate limit with plus-tags. */
int store_outbox_count_recent_folded(struct store *store, const char *base, const char *kind,
				     int64_t since, int64_t *count_r, const char **error_r);
/* How many messages of this kind (NULL: any) were queued since `since`,
   to anyone (the desk-wide rate limits). */
int store_outbox_count_since(struct store *store, const char *kind, int64_t since,
			     int64_t *count_r, const char **error_r);
/* Each recipient of an outbox row and its own outcome: status "queued"
   (not yet delivered: the next attempt is for it), "sent" or "failed";
   code ("550 5.1.1") and detail (the reply) of its last attempt. In the
   order queued. */
struct store_outbox_rcpt {
	const char *address; /* lower case */
	const char *status;
	const char *code;
	const char *detail;
	int64_t updated_at;
};
int store_outbox_rcpt_list(struct store *store, int64_t outbox_id,
			   struct store_outbox_rcpt **list_r, size_t *count_r, const char **error_r);
/* Record one recipient's outcome (address compared case-insensitively):
   1 recorded, 0 it is not a recipient of the row, < 0 failure (a status
   other than queued/sent/failed: STORE_DATA_BAD). */
int store_outbox_rcpt_set(struct store *store, int64_t outbox_id, const char *address,
			  const char *status, const char *code, const char *detail,
			  const char **error_r);
void store_outbox_rcpts_free(struct store_outbox_rcpt **listp, size_t count);
/* Who a message was written by (the agent of a relayed reply), to tell
   them when it could not be delivered. get: 1 with *address_r (caller
   frees), 0 none recorded, < 0 failure. */
int store_outbox_author_set(struct store *store, int64_t outbox_id, const char *address,
			    const char **error_r);
int store_outbox_author_get(struct store *store, int64_t outbox_id, char **address_r,
			    const char **error_r);
void store_outbox_free(struct store_outbox **op);
void store_outboxes_free(struct store_outbox **listp, size_t count);

#include "gateway/store/store-report.h"
/* ---- SLA: due times, timers, notices (store-sla.h) ------------------------------ */
#include "gateway/store/store-sla.h"

#endif
