/*
 * store: the dispatcher between store.h and the drivers (store-driver.h).
 * It picks the driver from the store location, keeps the transaction
 * state, checks arguments, fills in the defaults of input records and
 * then calls the driver, so that every driver sees the same validated
 * input. No SQL and no file I/O here.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store/store-blob.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-record.h"
#include "parsers/mime.h"

#ifdef HAVE_POSTGRESQL
/* store-pg.c: "postgresql:" and libpq's other spelling, "postgres:". */
extern const struct store_driver store_pg_driver, store_pg_alias_driver;
#endif

static const struct store_driver *const drivers[] = {
	&store_sqlite_driver,
#ifdef HAVE_POSTGRESQL
	&store_pg_driver,
	&store_pg_alias_driver,
#endif
};

/* The store stamps rows with base/clock's time, so that the test build's
   controllable clock moves created_at and event times too. */
static int64_t
now_or(int64_t t)
{
	return t != 0 ? t : clock_now();
}

/* "name:rest" names a driver when name is a URL scheme (letters, digits,
   '+', '-', '.', starting with a letter); anything else is a path for the
   SQLite driver, so "/var/lib/deskgate/deskgate.db" and "sqlite:x.db" both
   work. *rest_r is what the driver gets. */
static const struct store_driver *
driver_for(const char *location, const char **rest_r, const char **error_r)
{
	size_t n = 0;
	while ((location[n] >= 'a' && location[n] <= 'z') ||
	       (location[n] >= 'A' && location[n] <= 'Z') ||
	       (n > 0 && ((location[n] >= '0' && location[n] <= '9') || location[n] == '+' ||
			  location[n] == '-' || location[n] == '.')))
		n++;
	*rest_r = location;
	if (n == 0 || location[n] != ':')
		return &store_sqlite_driver;
	for (size_t i = 0; i < N_ELEMENTS(drivers); i++) {
		if (strlen(drivers[i]->name) == n && strncasecmp(location, drivers[i]->name, n) == 0) {
			*rest_r = location + n + 1;
			return drivers[i];
		}
	}
	*error_r = errf("store: %s: no store driver for \"%.*s\" in this build", location,
			(int)n, location);
	return NULL;
}

int
store_open(const char *db_path, const char *state_dir, struct store **store_r,
	   const char **error_r)
{
	const char *rest;
	const struct store_driver *driver = driver_for(db_path, &rest, error_r);

	*store_r = NULL;
	if (driver == NULL)
		return -1;
	if (driver->open(rest, state_dir, store_r, error_r) < 0) {
		*store_r = NULL;
		return -1;
	}
	return 0;
}

void
store_close(struct store **storep)
{
	struct store *store = *storep;
	if (store == NULL)
		return;
	store_rollback(store);
	store->driver->close(store);
	*storep = NULL;
}

uint64_t
store_conflicts(const struct store *store)
{
	return store->conflicts;
}

int
store_schema_version(struct store *store)
{
	return store->version;
}

/* ---- transactions -------------------------------------------------------- */

int
store_begin(struct store *store, const char **error_r)
{
	if (store->in_txn) {
		*error_r = "store: begin: a transaction is already active";
		return STORE_UNAVAILABLE;
	}
	int ret = store->driver->begin(store, error_r);
	if (ret == STORE_OK)
		store->in_txn = 1;
	return ret;
}

int
store_commit(struct store *store, const char **error_r)
{
	if (!store->in_txn) {
		*error_r = "store: commit: no transaction is active";
		return STORE_UNAVAILABLE;
	}
	int ret = store->driver->commit(store, error_r);
	store->in_txn = 0;
	return ret;
}

void
store_rollback(struct store *store)
{
	if (!store->in_txn)
		return;
	store->driver->rollback(store);
	store->in_txn = 0;
}

int
store_unit_begin(struct store *store, const char **error_r)
{
	if (!store->in_txn) {
		*error_r = "store: savepoint: no transaction is active";
		return STORE_UNAVAILABLE;
	}
	return store->driver->unit_begin(store, error_r);
}

int
store_unit_end(struct store *store, const char **error_r)
{
	return store->driver->unit_end(store, error_r);
}

int
store_unit_undo(struct store *store, const char **error_r)
{
	return store->driver->unit_undo(store, error_r);
}

/* ---- blobs ------------------------------------------------------------------ */

static int
blob_kind_valid(enum store_blob_kind kind)
{
	return kind == STORE_BLOB_RAW || kind == STORE_BLOB_ATTACHMENT;
}

int
store_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
	       char hex_r[65], const char **error_r)
{
	if (!blob_kind_valid(kind)) {
		*error_r = "store: blob put: invalid blob kind";
		return STORE_DATA_BAD;
	}
	return store->driver->blob_put(store, kind, data, len, hex_r, error_r);
}

/* An attachment's range decoded from its raw blob (raw NULL: read it);
   the bytes hash to hex or it is an error. */
static int
range_decode(struct store *store, const char *hex, const struct store_blob_range *r,
	     const unsigned char *raw, size_t raw_len, unsigned char **data_r, size_t *len_r,
	     const char **error_r)
{
	unsigned char *own = NULL;
	int ret = STORE_OK;
	if (raw == NULL &&
	    (ret = store->driver->blob_get(store, STORE_BLOB_RAW, r->raw_sha256, &own, &raw_len,
					   error_r)) < 0)
		return ret;
	if (raw == NULL)
		raw = own;
	if (r->offset < 0 || r->length < 0 || (uint64_t)r->offset > raw_len ||
	    (uint64_t)r->length > raw_len - (uint64_t)r->offset ||
	    mime_raw_decode(r->encoding, raw + r->offset, (size_t)r->length, data_r, len_r) < 0) {
		*error_r = errf("store: attachment %s: range %lld+%lld (encoding %d) not in raw %s",
				hex, (long long)r->offset, (long long)r->length, r->encoding,
				r->raw_sha256);
		ret = STORE_UNAVAILABLE;
	} else {
		char got[CRYPTO_SHA256_HEX_LEN + 1];
		crypto_sha256_hex(*data_r, *len_r, got);
		if (strcmp(got, hex) != 0) {
			*error_r = errf("store: attachment %s: its range of raw %s decodes to %s", hex,
					r->raw_sha256, got);
			free(*data_r);
			*data_r = NULL;
			*len_r = 0;
			ret = STORE_UNAVAILABLE;
		}
	}
	free(own);
	return ret;
}

int
store_blob_put_range(struct store *store, const unsigned char *raw, size_t raw_len,
		     const struct store_blob_range *range, const void *data, size_t len,
		     char hex_r[65], const char **error_r)
{
	struct store_blob_range have;
	unsigned char *check = NULL;
	size_t check_len = 0;
	int ret;
	if (range == NULL || !store_blob_hex_valid(range->raw_sha256) ||
	    range->encoding == MIME_RAW_NONE)
		return store_blob_put(store, STORE_BLOB_ATTACHMENT, data, len, hex_r, error_r);
	crypto_sha256_hex(data, len, hex_r);
	if ((ret = store->driver->range_get(store, hex_r, &have, error_r)) != 0)
		return ret < 0 ? ret : STORE_OK; /* the same bytes kept before */
	/* The bytes must come back from the range, byte for byte, or they are
	   kept as they are: a reader never depends on a range unchecked. */
	if (range_decode(store, hex_r, range, raw, raw_len, &check, &check_len, error_r) < 0 ||
	    check_len != len || memcmp(check, data, len) != 0) {
		free(check);
		return store_blob_put(store, STORE_BLOB_ATTACHMENT, data, len, hex_r, error_r);
	}
	free(check);
	return store->driver->range_put(store, hex_r, range, error_r);
}

int
store_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
	       unsigned char **data_r, size_t *len_r, const char **error_r)
{
	*data_r = NULL;
	*len_r = 0;
	if (!blob_kind_valid(kind) || !store_blob_hex_valid(hex)) {
		*error_r = "store: blob get: invalid blob name (want 64 lower-case hex digits)";
		return STORE_DATA_BAD;
	}
	if (kind == STORE_BLOB_ATTACHMENT) {
		struct store_blob_range r;
		int ret = store->driver->range_get(store, hex, &r, error_r);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return range_decode(store, hex, &r, NULL, 0, data_r, len_r, error_r);
	}
	return store->driver->blob_get(store, kind, hex, data_r, len_r, error_r);
}

int
store_blob_range_get(struct store *store, const char *hex, struct store_blob_range *r,
		     const char **error_r)
{
	if (!store_blob_hex_valid(hex)) {
		*error_r = "store: blob range: invalid blob name (want 64 lower-case hex digits)";
		return STORE_DATA_BAD;
	}
	return store->driver->range_get(store, hex, r, error_r);
}

int
store_blob_range_copy(struct store *store, const char *hex, const struct store_blob_range *r,
		      const char **error_r)
{
	if (!store_blob_hex_valid(hex) || !store_blob_hex_valid(r->raw_sha256)) {
		*error_r = "store: blob range: invalid blob name (want 64 lower-case hex digits)";
		return STORE_DATA_BAD;
	}
	return store->driver->range_put(store, hex, r, error_r);
}

void
store_set_blob_file_min(struct store *store, size_t min)
{
	store->blob_file_min = min;
}

int
store_set_blob_dir(struct store *store, const char *dir, const char **error_r)
{
	if (store->in_txn) {
		*error_r = "store: blob_dir: set it before the first transaction";
		return STORE_DATA_BAD;
	}
	return store->driver->set_blob_dir(store, dir, error_r);
}

char *
store_blob_path(struct store *store, enum store_blob_kind kind, const char *hex)
{
	if (store->driver->blob_path == NULL || !blob_kind_valid(kind) ||
	    !store_blob_hex_valid(hex))
		return NULL;
	return store->driver->blob_path(store, kind, hex);
}

/* ---- reads of records ------------------------------------------------------ */

/* The one shape of every lister and getter: the rows of a select, typed
   by the caller's assignment (a void * converts to any record pointer). */
static void *
select_rows(struct store *store, enum store_select what, struct store_select_arg arg,
	    size_t *count_r, int *ret_r, const char **error_r)
{
	void *rows = NULL;
	size_t count = 0;
	*ret_r = store->driver->select(store, what, &arg, &rows, &count, error_r);
	if (*ret_r < 0) {
		store_records_free(store_select_records[what], rows, count);
		rows = NULL;
		count = 0;
	}
	if (count_r != NULL)
		*count_r = count;
	return rows;
}

/* A select of at most one row: 1 found, 0 none, < 0 failure. */
static void *
select_one(struct store *store, enum store_select what, struct store_select_arg arg, int *ret_r,
	   const char **error_r)
{
	size_t count;
	void *row = select_rows(store, what, arg, &count, ret_r, error_r);
	if (*ret_r == STORE_OK)
		*ret_r = count > 0 ? 1 : 0;
	return row;
}

int
store_ticket_get(struct store *store, int64_t id, struct store_ticket **ticket_r,
		 const char **error_r)
{
	int ret;
	*ticket_r = select_one(store, STORE_SELECT_TICKET, (struct store_select_arg){ .id = id },
			       &ret, error_r);
	return ret;
}

int
store_ticket_list(struct store *store, size_t limit, struct store_ticket **tickets_r,
		  size_t *count_r, const char **error_r)
{
	int ret;
	*tickets_r = select_rows(store, STORE_SELECT_TICKETS,
				 (struct store_select_arg){ .limit = limit }, count_r, &ret, error_r);
	return ret;
}

int
store_ticket_list_desk(struct store *store, enum store_desk_list which, const char *arg,
		       int64_t now, size_t limit, struct store_ticket **tickets_r, size_t *count_r,
		       const char **error_r)
{
	static const enum store_select selects[] = {
		[STORE_DESK_ASSIGNED] = STORE_SELECT_TICKETS_ASSIGNED,
		[STORE_DESK_QUEUE] = STORE_SELECT_TICKETS_QUEUE,
		[STORE_DESK_OVERDUE] = STORE_SELECT_TICKETS_OVERDUE,
	};
	int ret;
	*tickets_r = select_rows(store, selects[which],
				 (struct store_select_arg){ .id = now, .text = arg != NULL ? arg : "",
							    .limit = limit },
				 count_r, &ret, error_r);
	return ret;
}

int
store_message_list(struct store *store, int64_t ticket_id, struct store_message **msgs_r,
		   size_t *count_r, const char **error_r)
{
	int ret;
	*msgs_r = select_rows(store, STORE_SELECT_MESSAGES,
			      (struct store_select_arg){ .id = ticket_id }, count_r, &ret, error_r);
	return ret;
}

int
store_attachment_list(struct store *store, int64_t message_row_id,
		      struct store_attachment **atts_r, size_t *count_r, const char **error_r)
{
	int ret;
	*atts_r = select_rows(store, STORE_SELECT_ATTACHMENTS,
			      (struct store_select_arg){ .id = message_row_id }, count_r, &ret,
			      error_r);
	return ret;
}

int
store_participant_list(struct store *store, int64_t ticket_id,
		       struct store_participant **parts_r, size_t *count_r, const char **error_r)
{
	int ret;
	*parts_r = select_rows(store, STORE_SELECT_PARTICIPANTS,
			       (struct store_select_arg){ .id = ticket_id }, count_r, &ret, error_r);
	return ret;
}

int
store_event_list(struct store *store, int64_t ticket_id, struct store_event **events_r,
		 size_t *count_r, const char **error_r)
{
	int ret;
	*events_r = select_rows(store, STORE_SELECT_EVENTS,
				(struct store_select_arg){ .id = ticket_id }, count_r, &ret, error_r);
	return ret;
}

int
store_ticket_field_list(struct store *store, int64_t ticket_id, struct store_field **fields_r,
			size_t *count_r, const char **error_r)
{
	int ret;
	*fields_r = select_rows(store, STORE_SELECT_FIELDS,
				(struct store_select_arg){ .id = ticket_id }, count_r, &ret, error_r);
	return ret;
}

int
store_rule_hit_list(struct store *store, int64_t ticket_id, struct store_field **hits_r,
		    size_t *count_r, const char **error_r)
{
	int ret;
	*hits_r = select_rows(store, STORE_SELECT_RULE_HITS,
			      (struct store_select_arg){ .id = ticket_id }, count_r, &ret, error_r);
	return ret;
}

int
store_quarantine_get(struct store *store, int64_t id, struct store_quarantine **q_r,
		     const char **error_r)
{
	int ret;
	*q_r = select_one(store, STORE_SELECT_QUARANTINE, (struct store_select_arg){ .id = id },
			  &ret, error_r);
	return ret;
}

int
store_quarantine_list(struct store *store, const char *status, struct store_quarantine **qs_r,
		      size_t *count_r, const char **error_r)
{
	int ret;
	*qs_r = select_rows(store, STORE_SELECT_QUARANTINES,
			    (struct store_select_arg){ .text = status }, count_r, &ret, error_r);
	return ret;
}

int
store_quarantine_list_unfetched(struct store *store, const char *mailbox, uint32_t uidvalidity,
				struct store_quarantine **qs_r, size_t *count_r,
				const char **error_r)
{
	int ret;
	*qs_r = select_rows(store, STORE_SELECT_QUARANTINES_UNFETCHED,
			    (struct store_select_arg){ .id = uidvalidity, .text = mailbox }, count_r,
			    &ret, error_r);
	return ret;
}

int
store_outbox_get(struct store *store, int64_t id, struct store_outbox **o_r,
		 const char **error_r)
{
	int ret;
	*o_r = select_one(store, STORE_SELECT_OUTBOX, (struct store_select_arg){ .id = id }, &ret,
			  error_r);
	return ret;
}

int
store_outbox_find_by_message_id(struct store *store, const char *message_id,
				struct store_outbox **o_r, const char **error_r)
{
	int ret;
	*o_r = select_one(store, STORE_SELECT_OUTBOX_BY_MSGID,
			  (struct store_select_arg){ .text = message_id }, &ret, error_r);
	return ret;
}

int
store_outbox_list(struct store *store, const char *status, size_t limit,
		  struct store_outbox **list_r, size_t *count_r, const char **error_r)
{
	int ret;
	*list_r = select_rows(store, STORE_SELECT_OUTBOXES,
			      (struct store_select_arg){ .text = status, .limit = limit }, count_r,
			      &ret, error_r);
	return ret;
}

int
store_outbox_due(struct store *store, int64_t now, size_t limit, struct store_outbox **list_r,
		 size_t *count_r, const char **error_r)
{
	int ret;
	*list_r = select_rows(store, STORE_SELECT_OUTBOX_DUE,
			      (struct store_select_arg){ .id = now, .limit = limit }, count_r,
			      &ret, error_r);
	return ret;
}

int
store_ticket_count(struct store *store, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return store->driver->count(store, STORE_COUNT_TICKETS, count_r, error_r);
}

int
store_stats(struct store *store, struct store_stats *stats_r, const char **error_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	return store->driver->stats(store, stats_r, error_r);
}

int
store_message_count(struct store *store, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return store->driver->count(store, STORE_COUNT_MESSAGES, count_r, error_r);
}

/* ---- tickets ------------------------------------------------------------------ */

int
store_ticket_insert(struct store *store, const struct store_ticket *ticket, int64_t *id_r,
		    const char **error_r)
{
	struct store_ticket t = *ticket;
	if (t.subject == NULL)
		t.subject = "";
	if (t.status == NULL)
		t.status = "new";
	if (t.category == NULL)
		t.category = "other";
	if (t.priority == NULL)
		t.priority = "normal";
	t.created_at = now_or(t.created_at);
	if (t.updated_at == 0)
		t.updated_at = t.created_at;
	int64_t id = 0;
	int ret = store->driver->ticket_insert(store, &t, &id, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = id;
	return ret;
}

static const struct {
	const char *name;
	enum store_ticket_col col;
	int is_time;
} ticket_cols[] = {
	{ "status", STORE_TICKET_STATUS, 0 },
	{ "category", STORE_TICKET_CATEGORY, 0 },
	{ "priority", STORE_TICKET_PRIORITY, 0 },
	{ "queue", STORE_TICKET_QUEUE, 0 },
	{ "language", STORE_TICKET_LANGUAGE, 0 },
	{ "assignee", STORE_TICKET_ASSIGNEE, 0 },
	{ "first_response_at", STORE_TICKET_FIRST_RESPONSE_AT, 1 },
	{ "due_at", STORE_TICKET_DUE_AT, 1 },
};

static int
ticket_update(struct store *store, int64_t ticket_id, const char *field, int is_time,
	      const char *value, int64_t ivalue, const char *what, const char **error_r)
{
	for (size_t i = 0; field != NULL && i < N_ELEMENTS(ticket_cols); i++) {
		if (ticket_cols[i].is_time == is_time && strcmp(field, ticket_cols[i].name) == 0)
			return store->driver->ticket_update(store, ticket_id, ticket_cols[i].col,
							    value, ivalue, clock_now(), error_r);
	}
	*error_r = errf("store: %s: \"%s\" cannot be set", what, field != NULL ? field : "(null)");
	return STORE_DATA_BAD;
}

int
store_ticket_set(struct store *store, int64_t ticket_id, const char *field, const char *value,
		 const char **error_r)
{
	int ret = ticket_update(store, ticket_id, field, 0, value, 0, "set ticket field", error_r);
	/* The close itself leaves its mark, in its own transaction, whoever
	   closed (an agent's command, the scheduler, the command line): a
	   timer the survey handles (STORE_TIMER_CLOSED in store.h). */
	if (ret >= 0 && strcmp(field, "status") == 0 && value != NULL &&
	    (strcmp(value, "closed") == 0 || strcmp(value, "solved") == 0))
		ret = store_timer_set(store, STORE_TIMER_CLOSED, ticket_id, NULL, clock_now(),
				      error_r);
	return ret;
}

int
store_ticket_set_time(struct store *store, int64_t ticket_id, const char *field, int64_t value,
		      const char **error_r)
{
	return ticket_update(store, ticket_id, field, 1, NULL, value, "set ticket time", error_r);
}

int
store_ticket_find_by_message_id(struct store *store, const char *message_id,
				int64_t *ticket_id_r, const char **error_r)
{
	int64_t id = 0;
	int ret = store->driver->ticket_find_by_message_id(store, message_id, &id, error_r);
	if (ret == 1 && ticket_id_r != NULL)
		*ticket_id_r = id;
	return ret;
}

int
store_ticket_find_recipient(struct store *store, int64_t ticket_id, const char *message_id,
			    const char *address, const char **error_r)
{
	if (address == NULL || *address == '\0')
		return 0;
	return store->driver->ticket_find_recipient(store, ticket_id, message_id, address,
						    error_r);
}

/* ---- messages ------------------------------------------------------------------ */

int
store_message_insert(struct store *store, const struct store_message *msg, int64_t *id_r,
		     const char **error_r)
{
	char text_hex[CRYPTO_SHA256_HEX_LEN + 1];
	struct store_message m = *msg;
	if (m.text == NULL)
		m.text = "";
	crypto_sha256_hex(m.text, strlen(m.text), text_hex);
	m.text_sha256 = text_hex;
	m.created_at = now_or(m.created_at);
	int64_t id = 0;
	int ret = store->driver->message_insert(store, &m, &id, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = id;
	return ret;
}

int
store_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
			  int64_t *ticket_id_r, const char **error_r)
{
	int64_t mid = 0, tid = 0;
	int ret = store->driver->message_find_dedupe(store, dedupe_key, &mid, &tid, error_r);
	if (ret == 1) {
		if (message_id_r != NULL)
			*message_id_r = mid;
		if (ticket_id_r != NULL)
			*ticket_id_r = tid;
	}
	return ret;
}

int
store_message_find_same_text(struct store *store, const char *from_address,
			     const char *text_sha256, int64_t since, int64_t *ticket_id_r,
			     const char **error_r)
{
	int64_t id = 0;
	int ret = store->driver->message_find_same_text(store, from_address, text_sha256, since,
							&id, error_r);
	if (ret == 1 && ticket_id_r != NULL)
		*ticket_id_r = id;
	return ret;
}

/* ---- attachments, participants, events ---------------------------------------- */

int
store_attachment_insert(struct store *store, const struct store_attachment *att,
			int64_t *id_r, const char **error_r)
{
	int64_t id = 0;
	int ret = store->driver->attachment_insert(store, att, &id, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = id;
	return ret;
}

int
store_participant_add(struct store *store, int64_t ticket_id, const char *address,
		      const char *name, const char *role, const char **error_r)
{
	struct store_participant p = {
		.ticket_id = ticket_id,
		.address = address,
		.name = name,
		.role = role,
	};
	return store->driver->participant_add(store, &p, clock_now(), error_r);
}

int
store_participant_remove(struct store *store, int64_t ticket_id, const char *address,
			 const char *role, const char **error_r)
{
	int removed = 0;
	int ret = store->driver->participant_remove(store, ticket_id, address, role, &removed,
						    error_r);
	return ret < 0 ? ret : removed;
}

int
store_participant_find(struct store *store, int64_t ticket_id, const char *address,
		       const char **role_r, const char **error_r)
{
	const char *role = NULL;
	int ret = store->driver->participant_find(store, ticket_id, address, &role, error_r);
	if (ret == 1 && role_r != NULL)
		*role_r = role;
	return ret;
}

int
store_event_add(struct store *store, int64_t ticket_id, const char *kind, const char *detail,
		const char **error_r)
{
	struct store_event e = {
		.ticket_id = ticket_id,
		.at = clock_now(),
		.kind = kind,
		.detail = detail,
	};
	return store->driver->event_add(store, &e, error_r);
}

int
store_event_last_of(struct store *store, const char *kind_a, const char *kind_b,
		     const char *detail_prefix, const char **error_r)
{
	return store->driver->event_last_of(store, kind_a, kind_b, detail_prefix, error_r);
}

int
store_event_addf(struct store *store, int64_t ticket_id, const char *kind, const char **error_r,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail = xvasprintf(fmt, ap);
	va_end(ap);
	int ret = store_event_add(store, ticket_id, kind, detail, error_r);
	free(detail);
	return ret;
}

/* ---- quarantine ------------------------------------------------------------------ */

int
store_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
			int *existed_r, const char **error_r)
{
	if (q->raw_sha256 == NULL &&
	    (q->mailbox == NULL || q->uidvalidity <= 0 || q->uid <= 0 ||
	     q->uidvalidity > UINT32_MAX || q->uid > UINT32_MAX)) {
		*error_r = "store: quarantine: an entry without raw bytes needs mailbox, "
			   "uidvalidity and uid";
		return STORE_DATA_BAD;
	}
	struct store_quarantine in = *q;
	if (in.source == NULL)
		in.source = "";
	in.created_at = now_or(in.created_at);
	int64_t id = 0;
	int existed = 0;
	int ret = store->driver->quarantine_insert(store, &in, &id, &existed, error_r);
	if (ret < 0)
		return ret;
	if (id_r != NULL)
		*id_r = id;
	if (existed_r != NULL)
		*existed_r = existed;
	return STORE_OK;
}

int
store_quarantine_set_status(struct store *store, int64_t id, const char *status,
			    int64_t ticket_id, const char **error_r)
{
	return store->driver->quarantine_set_status(store, id, status, ticket_id, error_r);
}

/* ---- mailbox checkpoints ------------------------------------------------------- */

int
store_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
		  uint32_t *last_uid_r, const char **error_r)
{
	*uidvalidity_r = 0;
	*last_uid_r = 0;
	return store->driver->mailbox_get(store, mailbox, uidvalidity_r, last_uid_r, error_r);
}

int
store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
		  uint32_t last_uid, const char **error_r)
{
	return store->driver->mailbox_set(store, mailbox, uidvalidity, last_uid, clock_now(),
					  error_r);
}

/* ---- outbox recipients and authors ------------------------------------------- */

int
store_outbox_rcpt_list(struct store *store, int64_t outbox_id, struct store_outbox_rcpt **list_r,
		       size_t *count_r, const char **error_r)
{
	int ret;
	*list_r = select_rows(store, STORE_SELECT_OUTBOX_RCPTS,
			      (struct store_select_arg){ .id = outbox_id }, count_r, &ret, error_r);
	return ret;
}

int
store_outbox_rcpt_set(struct store *store, int64_t outbox_id, const char *address,
		      const char *status, const char *code, const char *detail,
		      const char **error_r)
{
	if (address == NULL || status == NULL ||
	    (strcmp(status, "queued") != 0 && strcmp(status, "sent") != 0 &&
	     strcmp(status, "failed") != 0)) {
		*error_r = errf("store: set recipient: bad status \"%s\"",
				status != NULL ? status : "(none)");
		return STORE_DATA_BAD;
	}
	return store->driver->outbox_rcpt_set(store, outbox_id, address, status, code, detail,
					      clock_now(), error_r);
}

int
store_outbox_author_set(struct store *store, int64_t outbox_id, const char *address,
			const char **error_r)
{
	if (address == NULL || address[0] == '\0') {
		*error_r = "store: set author: no address";
		return STORE_DATA_BAD;
	}
	return store->driver->outbox_author_set(store, outbox_id, address, error_r);
}

int
store_outbox_author_get(struct store *store, int64_t outbox_id, char **address_r,
			const char **error_r)
{
	*address_r = NULL;
	return store->driver->outbox_author_get(store, outbox_id, address_r, error_r);
}

/* ---- marks owed on IMAP servers ------------------------------------------------ */

static int
mark_args_bad(const char *mailbox, uint32_t uidvalidity, const char **error_r)
{
	if (mailbox == NULL || uidvalidity == 0) {
		*error_r = "store: marks: a mailbox and a UIDVALIDITY are needed";
		return 1;
	}
	return 0;
}

int
store_mailbox_mark_add(struct store *store, const char *mailbox, uint32_t uidvalidity,
		       uint32_t uid, int quarantined, const char **error_r)
{
	if (mark_args_bad(mailbox, uidvalidity, error_r))
		return STORE_DATA_BAD;
	if (uid == 0) {
		*error_r = "store: add mark: UID 0";
		return STORE_DATA_BAD;
	}
	return store->driver->mailbox_mark_add(store, mailbox, uidvalidity, uid, quarantined != 0,
					       clock_now(), error_r);
}

int
store_mailbox_mark_list(struct store *store, const char *mailbox, uint32_t uidvalidity,
			struct store_mailbox_mark **marks_r, size_t *count_r, const char **error_r)
{
	int ret;
	*marks_r = select_rows(store, STORE_SELECT_MAILBOX_MARKS,
			       (struct store_select_arg){ .id = uidvalidity, .text = mailbox },
			       count_r, &ret, error_r);
	return ret;
}

int
store_mailbox_mark_done(struct store *store, const char *mailbox, uint32_t uidvalidity,
			const uint32_t *uids, size_t count, const char **error_r)
{
	if (count == 0)
		return STORE_OK;
	if (mark_args_bad(mailbox, uidvalidity, error_r))
		return STORE_DATA_BAD;
	return store->driver->mailbox_mark_done(store, mailbox, uidvalidity, uids, count, error_r);
}

int
store_mailbox_mark_forget(struct store *store, const char *mailbox, uint32_t uidvalidity,
			  const char **error_r)
{
	if (mark_args_bad(mailbox, uidvalidity, error_r))
		return STORE_DATA_BAD;
	return store->driver->mailbox_mark_forget(store, mailbox, uidvalidity, error_r);
}

/* ---- fields and rule hits ------------------------------------------------------- */

int
store_ticket_field_set(struct store *store, int64_t ticket_id, const char *name,
		       const char *value, const char **error_r)
{
	return store->driver->field_set(store, ticket_id, name, value, clock_now(), error_r);
}

int
store_rule_hit_add(struct store *store, int64_t ticket_id, int64_t message_row_id,
		   const char *rule, const char *detail, const char **error_r)
{
	return store->driver->rule_hit_add(store, ticket_id, message_row_id, rule, detail,
					   clock_now(), error_r);
}

/* ---- outbox ------------------------------------------------------------------------ */

int
store_outbox_insert(struct store *store, const struct store_outbox *o, int64_t *id_r,
		    const char **error_r)
{
	if (o->raw == NULL) {
		*error_r = "store: queue mail: no message";
		return STORE_DATA_BAD;
	}
	struct store_outbox in = *o;
	in.created_at = now_or(in.created_at);
	if (in.next_attempt_at == 0)
		in.next_attempt_at = in.created_at;
	int64_t id = 0;
	int ret = store->driver->outbox_insert(store, &in, &id, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = id;
	return ret;
}

int
store_outbox_update(struct store *store, int64_t id, const char *status, int64_t attempts,
		    int64_t next_attempt_at, const char *last_error, const char *last_code,
		    const char **error_r)
{
	return store->driver->outbox_update(store, id, status, attempts, next_attempt_at,
					    last_error, last_code, clock_now(), error_r);
}

int
store_outbox_count_recent(struct store *store, const char *recipient, const char *kind,
			  int64_t since, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return store->driver->outbox_count_recent(store, recipient != NULL ? recipient : "", kind,
						   since, count_r, error_r);
}

int
store_outbox_count_recent_folded(struct store *store, const char *base, const char *kind,
				 int64_t since, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	if (base == NULL || strrchr(base, '@') == NULL)
		return store_outbox_count_recent(store, base, kind, since, count_r, error_r);
	return store->driver->outbox_count_recent_folded(store, base, kind, since, count_r,
							  error_r);
}

int
store_outbox_count_since(struct store *store, const char *kind, int64_t since, int64_t *count_r,
			 const char **error_r)
{
	*count_r = 0;
	return store->driver->outbox_count_since(store, kind, since, count_r, error_r);
}
