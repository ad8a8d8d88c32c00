/*
 * store-driver: the table a store driver fills (after isync's driver.h),
 * private to gateway/store/. The callers see only store.h; store.c checks
 * the arguments, fills in the defaults of input records and calls the
 * driver through this table, so that every driver gets the same validated
 * input and gives the same answers. docs/internals/store.md is the
 * contract a driver implements (results, transactions, concurrency).
 *
 * A driver is one file (store-sqlite.c; a PostgreSQL driver would be
 * store-pg.c) that defines a `const struct store_driver` and a struct
 * whose first member is `struct store`, the part store.c reads.
 *
 * Every operation returns STORE_OK (or the positive value store.h names)
 * or a graded failure (STORE_DATA_BAD, STORE_UNAVAILABLE) with *error_r
 * set to "store: <what>: <reason>". Records a driver returns are built
 * with the helpers of store-record.h and owned by the caller.
 */
#ifndef DG_STORE_DRIVER_H
#define DG_STORE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store.h"
#include "gateway/store/store-label.h"

struct store_driver;
struct store_row_reader;

/* The streaming reads of reports (store-report.h), each between since and
   until. */
enum store_report_scan {
	STORE_REPORT_TICKETS,
	STORE_REPORT_MESSAGES,
	STORE_REPORT_REOPENS,
	STORE_REPORT_RULES,
	STORE_REPORT_SURVEYS,
	STORE_REPORT_SCAN_COUNT
};
/* Called with the driver's current row; a non-zero return stops. */
typedef int store_scan_fn(void *context, const struct store_row_reader *reader, void *row);

/* The part of every store that the dispatcher (store.c) owns. */
struct store {
	const struct store_driver *driver;
	int version; /* schema version after migrations */
	int in_txn;  /* store_begin() is active */
	/* Blobs shorter than this go into the database when the driver
	   keeps blob files (store_set_blob_file_min()); 0: every blob a file. */
	size_t blob_file_min;
	/* Transactions that lost to a concurrent one (PostgreSQL: 40001
	   serialization failure, 40P01 deadlock) since open: store_conflicts(). */
	uint64_t conflicts;
};

/* Ticket columns that can be changed after insert (store_ticket_set(),
   store_ticket_set_time()). */
enum store_ticket_col {
	STORE_TICKET_STATUS,
	STORE_TICKET_CATEGORY,
	STORE_TICKET_PRIORITY,
	STORE_TICKET_QUEUE,
	STORE_TICKET_LANGUAGE,
	STORE_TICKET_ASSIGNEE,
	STORE_TICKET_FIRST_RESPONSE_AT,
	STORE_TICKET_DUE_AT,
	STORE_TICKET_COL_COUNT
};

/* Every read that returns records: one driver operation, one row type
   each (store_select_records[] in store-record.c). The argument each one
   uses is named; the others are 0 / NULL. */
enum store_select {
	STORE_SELECT_TICKET,	      /* id: the ticket */
	STORE_SELECT_TICKETS,	      /* limit; newest first */
	STORE_SELECT_MESSAGES,	      /* id: ticket; oldest first */
	STORE_SELECT_ATTACHMENTS,     /* id: message row */
	STORE_SELECT_PARTICIPANTS,    /* id: ticket */
	STORE_SELECT_EVENTS,	      /* id: ticket, 0 for the events about none */
	STORE_SELECT_FIELDS,	      /* id: ticket; by name */
	STORE_SELECT_RULE_HITS,	      /* id: ticket; oldest first */
	STORE_SELECT_QUARANTINE,      /* id */
	STORE_SELECT_QUARANTINES,     /* text: status, NULL for all; newest first */
	STORE_SELECT_OUTBOX,	      /* id */
	STORE_SELECT_OUTBOX_BY_MSGID, /* text: Message-ID */
	STORE_SELECT_OUTBOXES,	      /* text: status or NULL, limit; newest first, no raw */
	STORE_SELECT_OUTBOX_DUE,      /* id: now, limit; oldest first */
	STORE_SELECT_QUARANTINES_UNFETCHED, /* id: uidvalidity, text: mailbox; by UID */
	STORE_SELECT_MAILBOX_MARKS,   /* id: uidvalidity, text: mailbox; by UID */
	STORE_SELECT_OUTBOX_RCPTS,    /* id: outbox row; in the order queued */
	STORE_SELECT_LABELS,	      /* id: since; oldest first (store-label.h) */
	STORE_SELECT_TICKETS_ASSIGNED, /* text: assignee, limit; open tickets, due first */
	STORE_SELECT_TICKETS_QUEUE,   /* text: queue, limit; open tickets, due first */
	STORE_SELECT_TICKETS_OVERDUE, /* id: now, limit; open, first response overdue */
	STORE_SELECT_COUNT
};

struct store_select_arg {
	int64_t id;
	const char *text;
	size_t limit; /* 0: no limit */
};

/* Counters (store_ticket_count(), store_message_count()). */
enum store_count { STORE_COUNT_TICKETS, STORE_COUNT_MESSAGES, STORE_COUNT_KINDS };

struct store_sla_driver; /* store-sla-driver.h */
struct store_lease_driver; /* store-lease-driver.h */
struct store_merge_driver; /* store-merge-driver.h */
struct store_copy_driver; /* store-copy-driver.h */

struct store_driver {
	const char *name; /* "sqlite": the scheme of a store location */
	const struct store_sla_driver *sla; /* the SLA tables (store-sla.h) */
	/* leases and outbox claims of several gateways (store-lease.h) */
	const struct store_lease_driver *lease;
	const struct store_merge_driver *merge; /* #merge (store-merge.h) */
	/* generic row access for `deskgate store migrate` (store-copy.h) */
	const struct store_copy_driver *copy;

	/* Open the store at location (the part after "name:"), creating and
	   migrating it; blobs live under state_dir unless the driver keeps
	   them itself. Fills *store_r with a store whose driver and version
	   are set. */
	int (*open)(const char *location, const char *state_dir, struct store **store_r,
		    const char **error_r);
	void (*close)(struct store *store);

	/* Transactions. The dispatcher keeps in_txn and refuses nesting and
	   a commit without a transaction, so the driver sees them in order.
	   commit() makes the pending blobs durable before the rows; when it
	   fails the transaction is rolled back. rollback() cannot fail. */
	int (*begin)(struct store *store, const char **error_r);
	int (*commit)(struct store *store, const char **error_r);
	void (*rollback)(struct store *store);
	int (*unit_begin)(struct store *store, const char **error_r);
	int (*unit_end)(struct store *store, const char **error_r);
	int (*unit_undo)(struct store *store, const char **error_r);

	/* Blobs; kind and hex are validated by the dispatcher. path() may be
	   NULL when the driver keeps no blob files. */
	int (*blob_put)(struct store *store, enum store_blob_kind kind, const void *data,
			size_t len, char hex_r[65], const char **error_r);
	int (*blob_get)(struct store *store, enum store_blob_kind kind, const char *hex,
			unsigned char **data_r, size_t *len_r, const char **error_r);
	char *(*blob_path)(struct store *store, enum store_blob_kind kind, const char *hex);
	/* Attachments kept as ranges of raw blobs (store_blob_put_range()):
	   put keeps the first range of a hash; get returns 1 and fills *r,
	   or 0 when the hash has none. */
	int (*range_put)(struct store *store, const char *hex, const struct store_blob_range *r,
			 const char **error_r);
	int (*range_get)(struct store *store, const char *hex, struct store_blob_range *r,
			 const char **error_r);
	/* store_set_blob_dir(); SQLite refuses it. */
	int (*set_blob_dir)(struct store *store, const char *dir, const char **error_r);

	/* Reads of records: *rows_r is an array of *count_r records of the
	   select's type (store_select_records[what]), NULL when empty. */
	int (*select)(struct store *store, enum store_select what,
		      const struct store_select_arg *arg, void **rows_r, size_t *count_r,
		      const char **error_r);
	int (*count)(struct store *store, enum store_count what, int64_t *count_r,
		     const char **error_r);
	/* store_stats(): one consistent read (*stats_r zeroed by the dispatcher). */
	int (*stats)(struct store *store, struct store_stats *stats_r, const char **error_r);

	/* Writes. Input records have their defaults filled in (no NULL
	   status, created_at set, text and text_sha256 set for messages). */
	int (*ticket_insert)(struct store *store, const struct store_ticket *t, int64_t *id_r,
			     const char **error_r);
	/* A text column (value may be NULL) or a time column (ivalue);
	   raises updated_at to now. No such ticket: STORE_DATA_BAD. */
	int (*ticket_update)(struct store *store, int64_t ticket_id, enum store_ticket_col col,
			     const char *value, int64_t ivalue, int64_t now, const char **error_r);
	int (*message_insert)(struct store *store, const struct store_message *m, int64_t *id_r,
			      const char **error_r);
	int (*attachment_insert)(struct store *store, const struct store_attachment *a,
				 int64_t *id_r, const char **error_r);
	int (*participant_add)(struct store *store, const struct store_participant *p,
			       int64_t now, const char **error_r);
	/* store_participant_remove() */
	int (*participant_remove)(struct store *store, int64_t ticket_id, const char *address,
				  const char *role, int *removed_r, const char **error_r);
	int (*event_add)(struct store *store, const struct store_event *e, const char **error_r);
	/* store_event_last_of() */
	int (*event_last_of)(struct store *store, const char *kind_a, const char *kind_b,
			     const char *detail_prefix, const char **error_r);
	/* raw_sha256 NULL: an entry for an IMAP message (mailbox, uidvalidity
	   and uid set by the dispatcher's check), one held each. */
	int (*quarantine_insert)(struct store *store, const struct store_quarantine *q,
				 int64_t *id_r, int *existed_r, const char **error_r);
	int (*quarantine_set_status)(struct store *store, int64_t id, const char *status,
				     int64_t ticket_id, const char **error_r);
	int (*mailbox_get)(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
			   uint32_t *last_uid_r, const char **error_r);
	int (*mailbox_set)(struct store *store, const char *mailbox, uint32_t uidvalidity,
			   uint32_t last_uid, int64_t now, const char **error_r);
	/* The marks owed on an IMAP server (store_mailbox_mark_add() and
	   friends); arguments checked by the dispatcher. done() forgets the
	   given UIDs (all or nothing), forget() those of other UIDVALIDITYs. */
	int (*mailbox_mark_add)(struct store *store, const char *mailbox, uint32_t uidvalidity,
				uint32_t uid, int quarantined, int64_t now, const char **error_r);
	int (*mailbox_mark_done)(struct store *store, const char *mailbox, uint32_t uidvalidity,
				 const uint32_t *uids, size_t count, const char **error_r);
	int (*mailbox_mark_forget)(struct store *store, const char *mailbox, uint32_t uidvalidity,
				   const char **error_r);
	int (*field_set)(struct store *store, int64_t ticket_id, const char *name,
			 const char *value, int64_t now, const char **error_r);
	int (*rule_hit_add)(struct store *store, int64_t ticket_id, int64_t message_row_id,
			    const char *rule, const char *detail, int64_t now, const char **error_r);
	int (*outbox_insert)(struct store *store, const struct store_outbox *o, int64_t *id_r,
			     const char **error_r);
	/* No such message: STORE_DATA_BAD. */
	int (*outbox_update)(struct store *store, int64_t id, const char *status,
			     int64_t attempts, int64_t next_attempt_at, const char *last_error,
			     const char *last_code, int64_t now, const char **error_r);
	/* A labelled example (text and created_at filled in). No such
	   ticket: STORE_DATA_BAD. */
	int (*label_add)(struct store *store, const struct store_label *l, int64_t *id_r,
			 const char **error_r);

	/* An outbox recipient's own result: 1 recorded, 0 not a recipient of
	   the row. */
	int (*outbox_rcpt_set)(struct store *store, int64_t outbox_id, const char *address,
			       const char *status, const char *code, const char *detail,
			       int64_t now, const char **error_r);
	int (*outbox_author_set)(struct store *store, int64_t outbox_id, const char *address,
				 const char **error_r);
	/* 1 with *address_r (malloc()ed), 0 none. */
	int (*outbox_author_get)(struct store *store, int64_t outbox_id, char **address_r,
				 const char **error_r);

	/* Look-ups: 1 found, 0 not, < 0 failure. */
	int (*message_find_dedupe)(struct store *store, const char *dedupe_key,
				   int64_t *message_id_r, int64_t *ticket_id_r,
				   const char **error_r);
	int (*message_find_same_text)(struct store *store, const char *from_address,
				      const char *text_sha256, int64_t since, int64_t *ticket_id_r,
				      const char **error_r);
	int (*ticket_find_by_message_id)(struct store *store, const char *message_id,
					 int64_t *ticket_id_r, const char **error_r);
	int (*ticket_find_recipient)(struct store *store, int64_t ticket_id,
				     const char *message_id, const char *address,
				     const char **error_r);
	/* *role_r is one of store_participant_roles[]. */
	int (*participant_find)(struct store *store, int64_t ticket_id, const char *address,
				const char **role_r, const char **error_r);
	int (*outbox_count_recent)(struct store *store, const char *recipient, const char *kind,
				   int64_t since, int64_t *count_r, const char **error_r);
	/* base: "local@domain"; counts local@domain and local+*@domain. */
	int (*outbox_count_recent_folded)(struct store *store, const char *base, const char *kind,
					  int64_t since, int64_t *count_r, const char **error_r);
	int (*outbox_count_since)(struct store *store, const char *kind, int64_t since,
				  int64_t *count_r, const char **error_r);

	/* Reports and surveys (store-report.h). report_scan() hands each row
	   of the scan to fn in the scan's order and returns what a non-zero
	   fn returned. survey_vote(): 1 recorded, 0 no survey for the ticket;
	   score checked by the dispatcher. */
	int (*report_scan)(struct store *store, enum store_report_scan what, int64_t since,
			   int64_t until, store_scan_fn *fn, void *context, const char **error_r);
	int (*survey_sent)(struct store *store, int64_t ticket_id, const char *customer,
			   int64_t outbox_id, int64_t sent_at, const char **error_r);
	int (*survey_vote)(struct store *store, int64_t ticket_id, int score, const char *comment,
			   int64_t voted_at, const char **error_r);
	int (*survey_last_sent)(struct store *store, const char *customer, int64_t *sent_at_r,
				const char **error_r);
	/* 1 with *sent_at_r, 0 no survey for the ticket. */
	int (*survey_for_ticket)(struct store *store, int64_t ticket_id, int64_t *sent_at_r,
				 const char **error_r);
};

extern const struct store_driver store_sqlite_driver;

#endif
