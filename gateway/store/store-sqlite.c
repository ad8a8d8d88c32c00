/*
 * store: see store.h and docs/schema.md. The only module that includes
 * sqlite3. Every statement is prepared once at open (so a typo in SQL fails
 * at start-up, not in the middle of a batch), cached in struct store, bound
 * with parameters only, and reset right after use so that no statement
 * holds a read snapshot open (which would stop WAL checkpoints).
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "gateway/crypto.h"
#include "gateway/store/store.h"
#include "base/util.h"

/* PRAGMA application_id: "DSKG", so that another program's SQLite file is
   refused instead of being migrated. */
#define STORE_APPLICATION_ID 0x44534b47
#define STORE_BUSY_TIMEOUT_MS 5000
/* Temporary blob files left by a crash are removed at open once older
   than this (younger ones may belong to a process writing right now). */
#define STORE_TMP_MAX_AGE (24 * 60 * 60)

#define HEX_CHECK(col) \
	"CHECK (" col " IS NULL OR (length(" col ") = 64 AND " col " NOT GLOB '*[^0-9a-f]*'))"

/* Numbered migrations: migrations[i] takes the schema from version i to
   i + 1. Append only; never edit a released one. */
static const char *const migrations[] = {
	/* 1: the initial schema. */
	"PRAGMA application_id = 1146309447;\n" /* STORE_APPLICATION_ID */
	"CREATE TABLE tickets (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  subject TEXT NOT NULL DEFAULT '',\n"
	"  status TEXT NOT NULL DEFAULT 'new'\n"
	"    CHECK (status IN ('new', 'open', 'pending', 'closed')),\n"
	"  category TEXT NOT NULL DEFAULT 'other' CHECK (category <> ''),\n"
	"  priority TEXT NOT NULL DEFAULT 'normal'\n"
	"    CHECK (priority IN ('low', 'normal', 'high', 'urgent')),\n"
	"  queue TEXT,\n"
	"  language TEXT,\n"
	"  customer_address TEXT COLLATE NOCASE,\n"
	"  customer_name TEXT,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL,\n"
	"  first_response_at INTEGER NOT NULL DEFAULT 0,\n"
	"  due_at INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE INDEX tickets_status ON tickets (status, updated_at);\n"
	"CREATE TABLE messages (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
	"  direction TEXT NOT NULL CHECK (direction IN ('in', 'agent', 'out', 'note')),\n"
	"  message_id TEXT,\n"
	"  in_reply_to TEXT,\n"
	"  refs TEXT,\n"
	"  from_address TEXT COLLATE NOCASE,\n"
	"  from_name TEXT,\n"
	"  to_addrs TEXT,\n"
	"  cc_addrs TEXT,\n"
	"  subject TEXT,\n"
	"  date INTEGER NOT NULL DEFAULT 0,\n"
	"  text TEXT NOT NULL DEFAULT '',\n"
	"  text_sha256 TEXT NOT NULL " HEX_CHECK("text_sha256") ",\n"
	"  raw_sha256 TEXT " HEX_CHECK("raw_sha256") ",\n"
	"  raw_size INTEGER NOT NULL DEFAULT 0 CHECK (raw_size >= 0),\n"
	"  dedupe_key TEXT UNIQUE,\n"
	"  mailbox TEXT,\n"
	"  uid INTEGER NOT NULL DEFAULT 0 CHECK (uid BETWEEN 0 AND 4294967295),\n"
	"  created_at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX messages_ticket ON messages (ticket_id, id);\n"
	"CREATE INDEX messages_message_id ON messages (message_id);\n"
	"CREATE INDEX messages_same_text ON messages (from_address, text_sha256, created_at);\n"
	"CREATE TABLE participants (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
	"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
	"  name TEXT,\n"
	"  role TEXT NOT NULL CHECK (role IN ('customer', 'cc', 'agent')),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  UNIQUE (ticket_id, address)\n"
	");\n"
	"CREATE TABLE attachments (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  message_row_id INTEGER NOT NULL REFERENCES messages (id),\n"
	"  filename TEXT,\n"
	"  content_type TEXT,\n"
	"  content_id TEXT,\n"
	"  sha256 TEXT NOT NULL " HEX_CHECK("sha256") ",\n"
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"
	"  is_inline INTEGER NOT NULL DEFAULT 0 CHECK (is_inline IN (0, 1))\n"
	");\n"
	"CREATE INDEX attachments_message ON attachments (message_row_id);\n"
	"CREATE TABLE events (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER REFERENCES tickets (id),\n"
	"  at INTEGER NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind <> ''),\n"
	"  detail TEXT\n"
	");\n"
	"CREATE INDEX events_ticket ON events (ticket_id, id);\n"
	"CREATE TABLE quarantine (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  raw_sha256 TEXT NOT NULL " HEX_CHECK("raw_sha256") ",\n"
	"  raw_size INTEGER NOT NULL DEFAULT 0 CHECK (raw_size >= 0),\n"
	"  reason TEXT NOT NULL,\n"
	"  source TEXT NOT NULL DEFAULT '',\n"
	"  created_at INTEGER NOT NULL,\n"
	"  status TEXT NOT NULL DEFAULT 'held'\n"
	"    CHECK (status IN ('held', 'released', 'dropped')),\n"
	"  ticket_id INTEGER REFERENCES tickets (id)\n"
	");\n"
	"CREATE UNIQUE INDEX quarantine_held ON quarantine (raw_sha256) WHERE status = 'held';\n"
	"CREATE INDEX quarantine_status ON quarantine (status, id);\n"
	"CREATE TABLE mailboxes (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  uidvalidity INTEGER NOT NULL CHECK (uidvalidity BETWEEN 0 AND 4294967295),\n"
	"  last_uid INTEGER NOT NULL CHECK (last_uid BETWEEN 0 AND 4294967295),\n"
	"  updated_at INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE ticket_fields (\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
	"  name TEXT NOT NULL CHECK (name <> ''),\n"
	"  value TEXT NOT NULL,\n"
	"  updated_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (ticket_id, name)\n"
	");\n"
	"CREATE TABLE rule_hits (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
	"  message_row_id INTEGER REFERENCES messages (id),\n"
	"  rule TEXT NOT NULL CHECK (rule <> ''),\n"
	"  detail TEXT,\n"
	"  at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX rule_hits_ticket ON rule_hits (ticket_id, id);\n"
	"CREATE TABLE outbox (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER REFERENCES tickets (id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('ack', 'notify', 'relay', 'notice', 'error')),\n"
	"  message_id TEXT NOT NULL UNIQUE CHECK (message_id <> ''),\n"
	"  envelope_from TEXT NOT NULL,\n"
	"  recipients TEXT NOT NULL CHECK (recipients <> ''),\n"
	"  raw BLOB NOT NULL,\n"
	"  status TEXT NOT NULL DEFAULT 'queued'\n"
	"    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  next_attempt_at INTEGER NOT NULL,\n"
	"  sent_at INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT,\n"
	"  last_code TEXT\n"
	");\n"
	"CREATE INDEX outbox_due ON outbox (status, next_attempt_at);\n"
	"CREATE INDEX outbox_ticket ON outbox (ticket_id);\n"
	"CREATE INDEX outbox_created ON outbox (created_at);\n",
	/* 2: the agent a ticket is assigned to (#assign, or the first agent
	   to answer), an agent address. */
	"ALTER TABLE tickets ADD COLUMN assignee TEXT COLLATE NOCASE;\n",
	/* 3: one row per outgoing recipient, so that the per-sender rate
	   limits are an index look-up instead of a scan over outbox rows that
	   carry whole messages. */
	"CREATE TABLE outbox_rcpt (\n"
	"  outbox_id INTEGER NOT NULL REFERENCES outbox (id),\n"
	"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
	"  kind TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX outbox_rcpt_recent ON outbox_rcpt (address, created_at);\n"
	"WITH RECURSIVE split(id, kind, created_at, rest, addr) AS (\n"
	"  SELECT id, kind, created_at,\n"
	"         replace(replace(recipients, ' ', ''), char(9), '') || ',', '' FROM outbox\n"
	"  UNION ALL\n"
	"  SELECT id, kind, created_at, substr(rest, instr(rest, ',') + 1),\n"
	"         substr(rest, 1, instr(rest, ',') - 1) FROM split WHERE rest <> ''\n"
	")\n"
	"INSERT INTO outbox_rcpt (outbox_id, address, kind, created_at)\n"
	"  SELECT id, lower(addr), kind, created_at FROM split WHERE addr <> '';\n",
};
#define STORE_SCHEMA_VERSION ((int)N_ELEMENTS(migrations))

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_UNIT_BEGIN,
	STMT_UNIT_RELEASE,
	STMT_UNIT_ROLLBACK,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,

	STMT_TICKET_INSERT,
	STMT_TICKET_GET,
	STMT_TICKET_LIST,
	STMT_TICKET_COUNT,
	STMT_TICKET_SET_STATUS,
	STMT_TICKET_SET_CATEGORY,
	STMT_TICKET_SET_PRIORITY,
	STMT_TICKET_SET_QUEUE,
	STMT_TICKET_SET_LANGUAGE,
	STMT_TICKET_SET_ASSIGNEE,
	STMT_TICKET_SET_FIRST_RESPONSE,
	STMT_TICKET_SET_DUE,
	STMT_TICKET_TOUCH,
	STMT_TICKET_FIND_BY_MSGID,

	STMT_MESSAGE_INSERT,
	STMT_MESSAGE_LIST,
	STMT_MESSAGE_COUNT,
	STMT_MESSAGE_FIND_DEDUPE,
	STMT_MESSAGE_FIND_SAME_TEXT,

	STMT_ATTACHMENT_INSERT,
	STMT_ATTACHMENT_LIST,

	STMT_PARTICIPANT_ADD,
	STMT_PARTICIPANT_LIST,
	STMT_PARTICIPANT_FIND,

	STMT_EVENT_ADD,
	STMT_EVENT_LIST,

	STMT_QUARANTINE_INSERT,
	STMT_QUARANTINE_FIND_HELD,
	STMT_QUARANTINE_GET,
	STMT_QUARANTINE_LIST,
	STMT_QUARANTINE_SET_STATUS,

	STMT_MAILBOX_GET,
	STMT_MAILBOX_SET,

	STMT_FIELD_SET,
	STMT_FIELD_LIST,
	STMT_RULE_HIT_ADD,
	STMT_RULE_HIT_LIST,

	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_UPDATE,
	STMT_OUTBOX_GET,
	STMT_OUTBOX_FIND_MSGID,
	STMT_OUTBOX_LIST,
	STMT_OUTBOX_COUNT_RECENT,
	STMT_OUTBOX_RCPT_INSERT,

	STMT_COUNT
};

#define TICKET_COLS                                                                           \
	"t.id, t.subject, t.status, t.category, t.priority, t.queue, t.language, "            \
	"t.customer_address, t.customer_name, t.created_at, t.updated_at, "                 \
	"t.first_response_at, t.due_at, "                                                   \
	"(SELECT count(*) FROM messages m WHERE m.ticket_id = t.id), t.assignee"
#define MESSAGE_COLS                                                                          \
	"id, ticket_id, direction, message_id, in_reply_to, refs, from_address, from_name, " \
	"to_addrs, cc_addrs, subject, date, text, raw_sha256, raw_size, dedupe_key, "        \
	"text_sha256, mailbox, uid, created_at"
#define QUARANTINE_COLS \
	"id, raw_sha256, raw_size, reason, source, created_at, status, ticket_id"
/* Column 6 is the raw message, or NULL where it is not loaded. */
#define OUTBOX_COLS_HEAD "id, ticket_id, kind, message_id, envelope_from, recipients, "
#define OUTBOX_COLS_TAIL \
	", length(raw), status, attempts, created_at, next_attempt_at, sent_at, last_error, last_code"
#define OUTBOX_COLS OUTBOX_COLS_HEAD "raw" OUTBOX_COLS_TAIL
#define OUTBOX_COLS_NO_RAW OUTBOX_COLS_HEAD "NULL" OUTBOX_COLS_TAIL
#define TICKET_SET(col) \
	"UPDATE tickets SET " col " = ?2, updated_at = max(updated_at, ?3) WHERE id = ?1"

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_UNIT_BEGIN] = "SAVEPOINT dg_unit",
	[STMT_UNIT_RELEASE] = "RELEASE dg_unit",
	[STMT_UNIT_ROLLBACK] = "ROLLBACK TO dg_unit",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT store_op",
	[STMT_RELEASE] = "RELEASE store_op",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO store_op",

	[STMT_TICKET_INSERT] =
		"INSERT INTO tickets (subject, status, category, priority, queue, language, "
		"customer_address, customer_name, created_at, updated_at, first_response_at, due_at, "
		"assignee) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[STMT_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets t WHERE t.id = ?1",
	[STMT_TICKET_LIST] = "SELECT " TICKET_COLS " FROM tickets t ORDER BY t.id DESC LIMIT ?1",
	[STMT_TICKET_COUNT] = "SELECT count(*) FROM tickets",
	[STMT_TICKET_SET_STATUS] = TICKET_SET("status"),
	[STMT_TICKET_SET_CATEGORY] = TICKET_SET("category"),
	[STMT_TICKET_SET_PRIORITY] = TICKET_SET("priority"),
	[STMT_TICKET_SET_QUEUE] = TICKET_SET("queue"),
	[STMT_TICKET_SET_LANGUAGE] = TICKET_SET("language"),
	[STMT_TICKET_SET_ASSIGNEE] = TICKET_SET("assignee"),
	[STMT_TICKET_SET_FIRST_RESPONSE] = TICKET_SET("first_response_at"),
	[STMT_TICKET_SET_DUE] = TICKET_SET("due_at"),
	[STMT_TICKET_TOUCH] = "UPDATE tickets SET updated_at = max(updated_at, ?2) WHERE id = ?1",
	/* Stored mail first, then our own sent mail; the oldest match wins. */
	[STMT_TICKET_FIND_BY_MSGID] =
		"SELECT ticket_id FROM ("
		" SELECT ticket_id, 0 AS src, id FROM messages WHERE message_id = ?1"
		" UNION ALL"
		" SELECT ticket_id, 1 AS src, id FROM outbox"
		"  WHERE message_id = ?1 AND ticket_id IS NOT NULL"
		") ORDER BY src, id LIMIT 1",

	[STMT_MESSAGE_INSERT] =
		"INSERT INTO messages (ticket_id, direction, message_id, in_reply_to, refs, "
		"from_address, from_name, to_addrs, cc_addrs, subject, date, text, raw_sha256, "
		"raw_size, dedupe_key, text_sha256, mailbox, uid, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19)",
	[STMT_MESSAGE_LIST] =
		"SELECT " MESSAGE_COLS " FROM messages WHERE ticket_id = ?1 ORDER BY id",
	[STMT_MESSAGE_COUNT] = "SELECT count(*) FROM messages",
	[STMT_MESSAGE_FIND_DEDUPE] = "SELECT id, ticket_id FROM messages WHERE dedupe_key = ?1",
	[STMT_MESSAGE_FIND_SAME_TEXT] =
		"SELECT ticket_id FROM messages WHERE from_address = ?1 AND text_sha256 = ?2 "
		"AND created_at > ?3 ORDER BY created_at DESC, id DESC LIMIT 1",

	[STMT_ATTACHMENT_INSERT] =
		"INSERT INTO attachments (message_row_id, filename, content_type, content_id, "
		"sha256, size, is_inline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_ATTACHMENT_LIST] =
		"SELECT id, message_row_id, filename, content_type, content_id, sha256, size, "
		"is_inline FROM attachments WHERE message_row_id = ?1 ORDER BY id",

	/* A known participant keeps its role; a missing name is filled in. */
	[STMT_PARTICIPANT_ADD] =
		"INSERT INTO participants (ticket_id, address, name, role, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (ticket_id, address) "
		"DO UPDATE SET name = coalesce(participants.name, excluded.name)",
	[STMT_PARTICIPANT_LIST] =
		"SELECT ticket_id, address, name, role FROM participants WHERE ticket_id = ?1 "
		"ORDER BY id",
	[STMT_PARTICIPANT_FIND] =
		"SELECT role FROM participants WHERE ticket_id = ?1 AND address = ?2",

	[STMT_EVENT_ADD] = "INSERT INTO events (ticket_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
	[STMT_EVENT_LIST] =
		"SELECT id, ticket_id, at, kind, detail FROM events WHERE ticket_id IS ?1 ORDER BY id",

	[STMT_QUARANTINE_INSERT] =
		"INSERT INTO quarantine (raw_sha256, raw_size, reason, source, created_at, status) "
		"VALUES (?1, ?2, ?3, ?4, ?5, 'held') "
		"ON CONFLICT (raw_sha256) WHERE status = 'held' DO NOTHING",
	[STMT_QUARANTINE_FIND_HELD] =
		"SELECT id FROM quarantine WHERE raw_sha256 = ?1 AND status = 'held'",
	[STMT_QUARANTINE_GET] = "SELECT " QUARANTINE_COLS " FROM quarantine WHERE id = ?1",
	[STMT_QUARANTINE_LIST] =
		"SELECT " QUARANTINE_COLS " FROM quarantine WHERE ?1 IS NULL OR status = ?1 "
		"ORDER BY id DESC",
	[STMT_QUARANTINE_SET_STATUS] =
		"UPDATE quarantine SET status = ?2, ticket_id = coalesce(?3, ticket_id) WHERE id = ?1",

	[STMT_MAILBOX_GET] = "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?1",
	[STMT_MAILBOX_SET] =
		"INSERT INTO mailboxes (name, uidvalidity, last_uid, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
		"uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
		"updated_at = excluded.updated_at",

	[STMT_FIELD_SET] =
		"INSERT INTO ticket_fields (ticket_id, name, value, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ticket_id, name) DO UPDATE SET "
		"value = excluded.value, updated_at = excluded.updated_at",
	[STMT_FIELD_LIST] =
		"SELECT name, value FROM ticket_fields WHERE ticket_id = ?1 ORDER BY name",
	[STMT_RULE_HIT_ADD] =
		"INSERT INTO rule_hits (ticket_id, message_row_id, rule, detail, at) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_RULE_HIT_LIST] =
		"SELECT rule, detail FROM rule_hits WHERE ticket_id = ?1 ORDER BY id",

	[STMT_OUTBOX_INSERT] =
		"INSERT INTO outbox (ticket_id, kind, message_id, envelope_from, recipients, raw, "
		"status, attempts, created_at, next_attempt_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, ?8)",
	[STMT_OUTBOX_DUE] =
		"SELECT " OUTBOX_COLS " FROM outbox "
		"WHERE (status = 'queued' AND next_attempt_at <= ?1) OR status = 'sending' "
		"ORDER BY id LIMIT ?2",
	[STMT_OUTBOX_UPDATE] =
		"UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
		"last_error = ?5, last_code = ?6, "
		"sent_at = CASE WHEN ?2 = 'sent' THEN ?7 ELSE sent_at END WHERE id = ?1",
	[STMT_OUTBOX_GET] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id = ?1",
	[STMT_OUTBOX_FIND_MSGID] = "SELECT " OUTBOX_COLS " FROM outbox WHERE message_id = ?1",
	[STMT_OUTBOX_LIST] =
		"SELECT " OUTBOX_COLS_NO_RAW " FROM outbox WHERE ?1 IS NULL OR status = ?1 "
		"ORDER BY id DESC LIMIT ?2",
	/* recipients is "a@b, c@d": compare ",a@b,c@d," against ",x," after
	   dropping spaces and folding ASCII case (instr(), unlike LIKE, has
	   no wildcards that an address could contain). */
	[STMT_OUTBOX_COUNT_RECENT] =
		"SELECT count(*) FROM outbox_rcpt WHERE address = lower(trim(?1)) "
		"AND created_at >= ?3 AND (?2 IS NULL OR kind = ?2)",
	[STMT_OUTBOX_RCPT_INSERT] =
		"INSERT INTO outbox_rcpt (outbox_id, address, kind, created_at) "
		"VALUES (?1, lower(?2), ?3, ?4)",
};

struct store {
	sqlite3 *db;
	char *db_path;
	char *state_dir;
	int version;
	int in_txn;	   /* store_begin() is active */
	int data_error;	   /* the last error was about the data, not the store */
	int blobs_pending; /* blobs written in this transaction, not yet flushed */
	unsigned int tmp_counter;
	sqlite3_stmt *stmts[STMT_COUNT];
};

static const char *const blob_kind_dirs[] = {
	[STORE_BLOB_RAW] = "raw",
	[STORE_BLOB_ATTACHMENT] = "att",
};

static int64_t
now_or(int64_t t)
{
	return t != 0 ? t : (int64_t)time(NULL);
}

/* ---- statement helpers ------------------------------------------------- */

static const char *
db_error(struct store *store, const char *what)
{
	int code = sqlite3_errcode(store->db);
	store->data_error = code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH ||
			    code == SQLITE_TOOBIG || code == SQLITE_RANGE;
	return errf("store: %s: %s", what, sqlite3_errmsg(store->db));
}

int
store_error_is_data(struct store *store)
{
	int ret = store->data_error;
	store->data_error = 0;
	return ret;
}

static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text64(st, i, s, strlen(s), SQLITE_STATIC, SQLITE_UTF8);
}

static int
bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v);
}

/* An optional reference: 0 is stored as NULL. */
static int
bind_ref(sqlite3_stmt *st, int i, int64_t id)
{
	return id == 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, id);
}

/* LIMIT: 0 (all) or anything too large becomes -1 (no limit). */
static int
bind_limit(sqlite3_stmt *st, int i, size_t limit)
{
	return sqlite3_bind_int64(st, i, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
}

/* Fetch a cached statement; rc is the OR of the bind results that
   follow, checked by bind_ok(). */
static sqlite3_stmt *
stmt(struct store *store, enum stmt_id id)
{
	return store->stmts[id];
}

static int
bind_ok(struct store *store, sqlite3_stmt *st, int rc, const char *what, const char **error_r)
{
	if (rc == SQLITE_OK)
		return 0;
	*error_r = errf("store: %s: %s", what, sqlite3_errstr(rc));
	stmt_done(st);
	return -1;
}

/* Run a statement that returns no rows, then reset it. */
static int
stmt_exec(struct store *store, sqlite3_stmt *st, const char *what, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, what);
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

/* Run a statement that returns at most one row of one integer:
   1 with *value_r, 0 when no row, -1 on error. */
static int
stmt_int(struct store *store, sqlite3_stmt *st, int64_t *value_r, const char *what,
	 const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value_r = sqlite3_column_int64(st, 0);
		stmt_done(st);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, what);
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

/* Reading rows into records. row() fills a zeroed record from the
   current row; clear() frees what a record owns. */
typedef void row_fn(sqlite3_stmt *st, void *item);
typedef void clear_fn(void *item);

static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s == NULL ? NULL : xstrdup((const char *)s);
}

static int
stmt_rows(struct store *store, sqlite3_stmt *st, size_t item_size, row_fn *row, clear_fn *clear,
	  void **items_r, size_t *count_r, const char *what, const char **error_r)
{
	unsigned char *items = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			items = xreallocarray(items, cap, item_size);
		}
		memset(items + n * item_size, 0, item_size);
		row(st, items + n * item_size);
		n++;
	}
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, what);
		stmt_done(st);
		for (size_t i = 0; i < n; i++)
			clear(items + i * item_size);
		free(items);
		*items_r = NULL;
		*count_r = 0;
		return -1;
	}
	stmt_done(st);
	*items_r = items;
	*count_r = n;
	return 0;
}

/* One record: 1 found (*item_r allocated), 0 none, -1 error. */
static int
stmt_one(struct store *store, sqlite3_stmt *st, size_t item_size, row_fn *row, void **item_r,
	 const char *what, const char **error_r)
{
	int rc = sqlite3_step(st);
	*item_r = NULL;
	if (rc == SQLITE_ROW) {
		void *item = xcalloc(1, item_size);
		row(st, item);
		stmt_done(st);
		*item_r = item;
		return 1;
	}
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, what);
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

/* A statement-level savepoint, so that a write made of several statements
   is all or nothing, inside store_begin() or not. */
static int
op_begin(struct store *store, const char *what, const char **error_r)
{
	return stmt_exec(store, stmt(store, STMT_SAVEPOINT), what, error_r);
}

static int
op_end(struct store *store, int ok, const char *what, const char **error_r)
{
	const char *ignored;
	if (ok && stmt_exec(store, stmt(store, STMT_RELEASE), what, error_r) == 0)
		return 0;
	/* Fails harmlessly when SQLite has already rolled everything back. */
	if (stmt_exec(store, stmt(store, STMT_ROLLBACK_TO), what, &ignored) == 0)
		(void)stmt_exec(store, stmt(store, STMT_RELEASE), what, &ignored);
	return -1;
}

/* Free an array of count rows of size bytes, each released with clear
   (shared by the *s_free functions of every record type). */
static void
rows_free(void *items, size_t count, size_t size, void (*clear)(void *item))
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		clear((unsigned char *)items + i * size);
	free(items);
}

/* ---- files ----------------------------------------------------------- */

static int
fsync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = errf("store: open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		*error_r = errf("store: fsync %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* mkdir with mode 0700 unless it exists; *created_r tells which. */
static int
make_dir(const char *dir, int *created_r, const char **error_r)
{
	struct stat st;
	*created_r = 0;
	if (mkdir(dir, 0700) == 0) {
		*created_r = 1;
		return 0;
	}
	if (errno != EEXIST) {
		*error_r = errf("store: mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = errf("store: %s: not a directory", dir);
		return -1;
	}
	return 0;
}

/* Create the state directory and its subdirectories; check they are
   writable (so a read-only state directory fails at start-up, not at the
   first message). */
static int
make_state_dirs(const char *state_dir, const char **error_r)
{
	static const char *const subdirs[] = { "raw", "att", "tmp" };
	int created, any = 0;

	if (make_dir(state_dir, &created, error_r) < 0)
		return -1;
	for (size_t i = 0; i < N_ELEMENTS(subdirs); i++) {
		char *dir = xasprintf("%s/%s", state_dir, subdirs[i]);
		int ret = make_dir(dir, &created, error_r);
		any |= created;
		if (ret == 0 && access(dir, W_OK | X_OK) < 0) {
			*error_r = errf("store: %s: %s", dir, strerror(errno));
			ret = -1;
		}
		free(dir);
		if (ret < 0)
			return -1;
	}
	if (access(state_dir, W_OK | X_OK) < 0) {
		*error_r = errf("store: %s: %s", state_dir, strerror(errno));
		return -1;
	}
	return any ? fsync_dir(state_dir, error_r) : 0;
}

/* Remove temporary blob files a crash left behind. Best effort. */
static void
clean_tmp(const char *state_dir)
{
	char *dir = xasprintf("%s/tmp", state_dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	time_t limit = time(NULL) - STORE_TMP_MAX_AGE;

	free(dir);
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < limit)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
hex_valid(const char *hex)
{
	if (hex == NULL)
		return 0;
	for (size_t i = 0; i < CRYPTO_SHA256_HEX_LEN; i++) {
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	}
	return hex[CRYPTO_SHA256_HEX_LEN] == '\0';
}

static const char *
kind_dir(enum store_blob_kind kind)
{
	if ((unsigned int)kind >= N_ELEMENTS(blob_kind_dirs))
		return NULL;
	return blob_kind_dirs[kind];
}

char *
store_blob_path(struct store *store, enum store_blob_kind kind, const char *hex)
{
	const char *kd = kind_dir(kind);
	if (kd == NULL || !hex_valid(hex))
		return NULL;
	return xasprintf("%s/%s/%.2s/%s", store->state_dir, kd, hex, hex);
}

/* Make an existing blob as durable as a new one would be. */
static int
blob_settle_existing(struct store *store, const char *path, const char *dir,
		     const char **error_r)
{
	int fd;
	if (store->in_txn) {
		store->blobs_pending = 1;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*error_r = errf("store: open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		*error_r = errf("store: fsync %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return fsync_dir(dir, error_r);
}

int
store_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
	       char hex_r[65], const char **error_r)
{
	const char *kd = kind_dir(kind);
	char *path = NULL, *dir = NULL, *kdir = NULL, *tmp = NULL;
	struct stat st;
	int fd = -1, created = 0, ret = -1;

	if (kd == NULL) {
		*error_r = "store: blob put: invalid blob kind";
		return -1;
	}
	crypto_sha256_hex(data, len, hex_r);
	path = store_blob_path(store, kind, hex_r);
	kdir = xasprintf("%s/%s", store->state_dir, kd);
	dir = xasprintf("%s/%.2s", kdir, hex_r);

	/* Same name, same size: the same bytes (a short file would be a
	   deferred write that a crash cut off; it is replaced below). */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == len) {
		ret = blob_settle_existing(store, path, dir, error_r);
		goto out;
	}
	if (make_dir(dir, &created, error_r) < 0)
		goto out;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		free(tmp);
		tmp = xasprintf("%s/tmp/%.16s.%ld.%u", store->state_dir, hex_r, (long)getpid(),
				store->tmp_counter++);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		*error_r = errf("store: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) < 0) {
		*error_r = errf("store: write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (!store->in_txn && fsync(fd) < 0) {
		*error_r = errf("store: fsync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = errf("store: close %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		*error_r = errf("store: rename %s to %s: %s", tmp, path, strerror(errno));
		goto out_unlink;
	}
	if (store->in_txn) {
		/* Flushed by one syncfs() in store_commit(). */
		store->blobs_pending = 1;
		ret = 0;
	} else if (fsync_dir(dir, error_r) == 0 && (!created || fsync_dir(kdir, error_r) == 0)) {
		ret = 0;
	}
	goto out;

out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dir);
	free(kdir);
	free(path);
	return ret;
}

int
store_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
	       unsigned char **data_r, size_t *len_r, const char **error_r)
{
	char *path = store_blob_path(store, kind, hex);
	unsigned char *data = NULL;
	char got[CRYPTO_SHA256_HEX_LEN + 1];
	struct stat st;
	size_t len = 0;
	int fd;

	*data_r = NULL;
	*len_r = 0;
	if (path == NULL) {
		*error_r = "store: blob get: invalid blob name (want 64 lower-case hex digits)";
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*error_r = errf("store: open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = errf("store: %s: not a regular file", path);
		goto fail;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errf("store: read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	crypto_sha256_hex(data, len, got);
	if (strcmp(got, hex) != 0) {
		*error_r = errf("store: %s: blob is corrupt (its SHA-256 is %s)", path, got);
		goto fail;
	}
	close(fd);
	free(path);
	*data_r = data;
	*len_r = len;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(data);
	free(path);
	return -1;
}

/* ---- open, close, transactions ---------------------------------------- */

/* Run a query that returns one integer (PRAGMA reads). */
static int
query_int(struct store *store, const char *sql, int64_t *value_r, const char **error_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*error_r = db_error(store, store->db_path);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		*error_r = rc == SQLITE_DONE ? errf("store: %s: %s returned nothing",
						    store->db_path, sql)
					     : db_error(store, store->db_path);
		sqlite3_finalize(st);
		return -1;
	}
	*value_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
exec_sql(struct store *store, const char *sql, const char **error_r)
{
	char *msg = NULL;
	if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		*error_r = errf("store: %s: %s", store->db_path,
				msg != NULL ? msg : sqlite3_errmsg(store->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
set_pragmas(struct store *store, const char **error_r)
{
	sqlite3_stmt *st;
	const unsigned char *mode;
	int ok;

	/* The first read of the file: a file that is not a database fails
	   here with SQLite's "file is not a database". */
	if (sqlite3_prepare_v2(store->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) !=
	    SQLITE_OK) {
		*error_r = db_error(store, store->db_path);
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		*error_r = db_error(store, store->db_path);
		sqlite3_finalize(st);
		return -1;
	}
	mode = sqlite3_column_text(st, 0);
	ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	if (!ok)
		*error_r = errf("store: %s: cannot use the WAL journal (journal mode is %s)",
				store->db_path, mode != NULL ? (const char *)mode : "unknown");
	sqlite3_finalize(st);
	if (!ok)
		return -1;
	return exec_sql(store, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", error_r);
}

static int
migrate(struct store *store, const char **error_r)
{
	int64_t version, app_id, objects;
	char sql[64];

	if (exec_sql(store, "BEGIN IMMEDIATE", error_r) < 0)
		return -1;
	/* Read inside the write transaction: two processes starting at once
	   do not both migrate. */
	if (query_int(store, "PRAGMA user_version", &version, error_r) < 0 ||
	    query_int(store, "PRAGMA application_id", &app_id, error_r) < 0 ||
	    query_int(store, "SELECT count(*) FROM sqlite_master", &objects, error_r) < 0)
		goto fail;
	if ((version == 0 && objects > 0) || (version > 0 && app_id != STORE_APPLICATION_ID)) {
		*error_r = errf("store: %s: not a deskgate database", store->db_path);
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		*error_r = errf("store: %s: database schema version %lld is newer than this "
				"deskgate supports (%d)",
				store->db_path, (long long)version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (int v = (int)version; v < STORE_SCHEMA_VERSION; v++) {
		if (exec_sql(store, migrations[v], error_r) < 0) {
			*error_r = errf("store: %s: migration to version %d failed: %s",
					store->db_path, v + 1, sqlite3_errmsg(store->db));
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_sql(store, sql, error_r) < 0)
			goto fail;
	}
	if (exec_sql(store, "COMMIT", error_r) < 0)
		goto fail;
	store->version = STORE_SCHEMA_VERSION;
	return 0;
fail:
	(void)sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare_all(struct store *store, const char **error_r)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		if (stmt_sql[i] == NULL) {
			*error_r = errf("store: statement %d has no SQL", i);
			return -1;
		}
		if (sqlite3_prepare_v3(store->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &store->stmts[i], NULL) != SQLITE_OK) {
			*error_r = errf("store: prepare \"%s\": %s", stmt_sql[i],
					sqlite3_errmsg(store->db));
			return -1;
		}
	}
	return 0;
}

int
store_open(const char *db_path, const char *state_dir, struct store **store_r,
	   const char **error_r)
{
	struct store *store;
	int fd, rc;

	*store_r = NULL;
	if (make_state_dirs(state_dir, error_r) < 0)
		return -1;
	clean_tmp(state_dir);

	/* Create the file ourselves so that it (and SQLite's -wal and -shm
	   files, which copy its mode) is private: it holds customers' mail. */
	fd = open(db_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* SQLite syncs the directory of its journals, not of the
		   database file itself. */
		char *dir = xstrdup(db_path);
		char *slash = strrchr(dir, '/');
		int ret;
		close(fd);
		if (slash == NULL) {
			free(dir);
			dir = xstrdup(".");
		} else {
			slash[slash == dir ? 1 : 0] = '\0';
		}
		ret = fsync_dir(dir, error_r);
		free(dir);
		if (ret < 0)
			return -1;
	} else if (errno != EEXIST) {
		*error_r = errf("store: %s: %s", db_path, strerror(errno));
		return -1;
	}

	store = xcalloc(1, sizeof(*store));
	store->db_path = xstrdup(db_path);
	store->state_dir = xstrdup(state_dir);
	rc = sqlite3_open_v2(db_path, &store->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*error_r = errf("store: %s: %s", db_path,
				store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		store_close(&store);
		return -1;
	}
	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	if (set_pragmas(store, error_r) < 0 || migrate(store, error_r) < 0 ||
	    prepare_all(store, error_r) < 0) {
		store_close(&store);
		return -1;
	}
	*store_r = store;
	return 0;
}

void
store_close(struct store **storep)
{
	struct store *store = *storep;
	if (store == NULL)
		return;
	if (store->in_txn)
		store_rollback(store);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(store->stmts[i]);
	sqlite3_close(store->db);
	free(store->db_path);
	free(store->state_dir);
	free(store);
	*storep = NULL;
}

int
store_schema_version(struct store *store)
{
	return store->version;
}

int
store_begin(struct store *store, const char **error_r)
{
	if (store->in_txn) {
		*error_r = "store: begin: a transaction is already active";
		return -1;
	}
	if (stmt_exec(store, stmt(store, STMT_BEGIN), "begin", error_r) < 0)
		return -1;
	store->in_txn = 1;
	store->blobs_pending = 0;
	return 0;
}

static void
txn_end(struct store *store)
{
	store->in_txn = 0;
	store->blobs_pending = 0;
}

int
store_commit(struct store *store, const char **error_r)
{
	if (!store->in_txn) {
		*error_r = "store: commit: no transaction is active";
		return -1;
	}
	if (sqlite3_get_autocommit(store->db)) {
		/* SQLite rolled back on its own after an earlier error. */
		*error_r = "store: commit: the transaction was already rolled back by an error";
		txn_end(store);
		return -1;
	}
	if (store->blobs_pending) {
		/* One flush for every blob of the batch, before the rows that
		   point at them can become durable. */
		int fd = open(store->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			*error_r = errf("store: commit: syncfs %s: %s", store->state_dir,
					strerror(errno));
			if (fd >= 0)
				close(fd);
			store_rollback(store);
			return -1;
		}
		close(fd);
	}
	if (stmt_exec(store, stmt(store, STMT_COMMIT), "commit", error_r) < 0) {
		store_rollback(store);
		return -1;
	}
	txn_end(store);
	return 0;
}

int
store_unit_begin(struct store *store, const char **error_r)
{
	if (!store->in_txn) {
		*error_r = "store: savepoint: no transaction is active";
		return -1;
	}
	return stmt_exec(store, stmt(store, STMT_UNIT_BEGIN), "savepoint", error_r);
}

int
store_unit_end(struct store *store, const char **error_r)
{
	return stmt_exec(store, stmt(store, STMT_UNIT_RELEASE), "release savepoint", error_r);
}

int
store_unit_undo(struct store *store, const char **error_r)
{
	if (stmt_exec(store, stmt(store, STMT_UNIT_ROLLBACK), "rollback to savepoint", error_r) < 0)
		return -1;
	return stmt_exec(store, stmt(store, STMT_UNIT_RELEASE), "release savepoint", error_r);
}

void
store_rollback(struct store *store)
{
	const char *ignored;
	if (!store->in_txn)
		return;
	if (!sqlite3_get_autocommit(store->db))
		(void)stmt_exec(store, stmt(store, STMT_ROLLBACK), "rollback", &ignored);
	txn_end(store);
}

/* ---- tickets ------------------------------------------------------------ */

static void
ticket_row(sqlite3_stmt *st, void *item)
{
	struct store_ticket *t = item;
	t->id = sqlite3_column_int64(st, 0);
	t->subject = col_str(st, 1);
	t->status = col_str(st, 2);
	t->category = col_str(st, 3);
	t->priority = col_str(st, 4);
	t->queue = col_str(st, 5);
	t->language = col_str(st, 6);
	t->customer_address = col_str(st, 7);
	t->customer_name = col_str(st, 8);
	t->created_at = sqlite3_column_int64(st, 9);
	t->updated_at = sqlite3_column_int64(st, 10);
	t->first_response_at = sqlite3_column_int64(st, 11);
	t->due_at = sqlite3_column_int64(st, 12);
	t->n_messages = sqlite3_column_int64(st, 13);
	t->assignee = col_str(st, 14);
}

static void
ticket_clear(void *item)
{
	struct store_ticket *t = item;
	free(t->subject);
	free(t->status);
	free(t->category);
	free(t->priority);
	free(t->queue);
	free(t->language);
	free(t->customer_address);
	free(t->customer_name);
	free(t->assignee);
}

int
store_ticket_insert(struct store *store, const struct store_ticket *ticket, int64_t *id_r,
		    const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_TICKET_INSERT);
	int64_t created = now_or(ticket->created_at);
	int rc = bind_text(st, 1, ticket->subject != NULL ? ticket->subject : "") |
		 bind_text(st, 2, ticket->status != NULL ? ticket->status : "new") |
		 bind_text(st, 3, ticket->category != NULL ? ticket->category : "other") |
		 bind_text(st, 4, ticket->priority != NULL ? ticket->priority : "normal") |
		 bind_text(st, 5, ticket->queue) | bind_text(st, 6, ticket->language) |
		 bind_text(st, 7, ticket->customer_address) |
		 bind_text(st, 8, ticket->customer_name) | bind_int(st, 9, created) |
		 bind_int(st, 10, ticket->updated_at != 0 ? ticket->updated_at : created) |
		 bind_int(st, 11, ticket->first_response_at) | bind_int(st, 12, ticket->due_at) |
		 bind_text(st, 13, ticket->assignee);
	if (bind_ok(store, st, rc, "insert ticket", error_r) < 0 ||
	    stmt_exec(store, st, "insert ticket", error_r) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(store->db);
	return 0;
}

static int
ticket_update(struct store *store, enum stmt_id id, int64_t ticket_id, int text,
	      const char *value, int64_t ivalue, const char *what, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, id);
	int rc = bind_int(st, 1, ticket_id) |
		 (text ? bind_text(st, 2, value) : bind_int(st, 2, ivalue)) |
		 bind_int(st, 3, (int64_t)time(NULL));
	if (bind_ok(store, st, rc, what, error_r) < 0 || stmt_exec(store, st, what, error_r) < 0)
		return -1;
	if (sqlite3_changes(store->db) == 0) {
		*error_r = errf("store: %s: no ticket %lld", what, (long long)ticket_id);
		return -1;
	}
	return 0;
}

int
store_ticket_set(struct store *store, int64_t ticket_id, const char *field, const char *value,
		 const char **error_r)
{
	static const struct {
		const char *name;
		enum stmt_id stmt;
	} fields[] = {
		{ "status", STMT_TICKET_SET_STATUS },	  { "category", STMT_TICKET_SET_CATEGORY },
		{ "priority", STMT_TICKET_SET_PRIORITY }, { "queue", STMT_TICKET_SET_QUEUE },
		{ "language", STMT_TICKET_SET_LANGUAGE }, { "assignee", STMT_TICKET_SET_ASSIGNEE },
	};
	for (size_t i = 0; field != NULL && i < N_ELEMENTS(fields); i++) {
		if (strcmp(field, fields[i].name) == 0)
			return ticket_update(store, fields[i].stmt, ticket_id, 1, value, 0,
					     "set ticket field", error_r);
	}
	*error_r = errf("store: set ticket field: \"%s\" cannot be set",
			field != NULL ? field : "(null)");
	return -1;
}

int
store_ticket_set_time(struct store *store, int64_t ticket_id, const char *field, int64_t value,
		      const char **error_r)
{
	if (field != NULL && strcmp(field, "first_response_at") == 0)
		return ticket_update(store, STMT_TICKET_SET_FIRST_RESPONSE, ticket_id, 0, NULL,
				     value, "set ticket time", error_r);
	if (field != NULL && strcmp(field, "due_at") == 0)
		return ticket_update(store, STMT_TICKET_SET_DUE, ticket_id, 0, NULL, value,
				     "set ticket time", error_r);
	*error_r = errf("store: set ticket time: \"%s\" cannot be set",
			field != NULL ? field : "(null)");
	return -1;
}

int
store_ticket_get(struct store *store, int64_t id, struct store_ticket **ticket_r,
		 const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_TICKET_GET);
	void *item;
	int ret;

	*ticket_r = NULL;
	if (bind_ok(store, st, bind_int(st, 1, id), "get ticket", error_r) < 0)
		return -1;
	ret = stmt_one(store, st, sizeof(struct store_ticket), ticket_row, &item, "get ticket",
		       error_r);
	*ticket_r = item;
	return ret;
}

int
store_ticket_list(struct store *store, size_t limit, struct store_ticket **tickets_r,
		  size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_TICKET_LIST);
	void *items;
	int ret;

	*tickets_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_limit(st, 1, limit), "list tickets", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_ticket), ticket_row, ticket_clear, &items,
			count_r, "list tickets", error_r);
	*tickets_r = items;
	return ret;
}

int
store_ticket_count(struct store *store, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return stmt_int(store, stmt(store, STMT_TICKET_COUNT), count_r, "count tickets",
			error_r) < 0 ? -1 : 0;
}

void
store_ticket_free(struct store_ticket **ticketp)
{
	if (*ticketp == NULL)
		return;
	ticket_clear(*ticketp);
	free(*ticketp);
	*ticketp = NULL;
}

void
store_tickets_free(struct store_ticket **ticketsp, size_t count)
{
	rows_free(*ticketsp, count, sizeof(**ticketsp), ticket_clear);
	*ticketsp = NULL;
}

/* ---- messages -------------------------------------------------------- */

static void
message_row(sqlite3_stmt *st, void *item)
{
	struct store_message *m = item;
	m->id = sqlite3_column_int64(st, 0);
	m->ticket_id = sqlite3_column_int64(st, 1);
	m->direction = col_str(st, 2);
	m->message_id = col_str(st, 3);
	m->in_reply_to = col_str(st, 4);
	m->references = col_str(st, 5);
	m->from_address = col_str(st, 6);
	m->from_name = col_str(st, 7);
	m->to = col_str(st, 8);
	m->cc = col_str(st, 9);
	m->subject = col_str(st, 10);
	m->date = sqlite3_column_int64(st, 11);
	m->text = col_str(st, 12);
	m->raw_sha256 = col_str(st, 13);
	m->raw_size = sqlite3_column_int64(st, 14);
	m->dedupe_key = col_str(st, 15);
	m->text_sha256 = col_str(st, 16);
	m->mailbox = col_str(st, 17);
	m->uid = sqlite3_column_int64(st, 18);
	m->created_at = sqlite3_column_int64(st, 19);
}

static void
message_clear(void *item)
{
	struct store_message *m = item;
	free(m->direction);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	free(m->from_address);
	free(m->from_name);
	free(m->to);
	free(m->cc);
	free(m->subject);
	free(m->text);
	free(m->raw_sha256);
	free(m->dedupe_key);
	free(m->text_sha256);
	free(m->mailbox);
}

int
store_message_insert(struct store *store, const struct store_message *msg, int64_t *id_r,
		     const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MESSAGE_INSERT);
	const char *text = msg->text != NULL ? msg->text : "";
	int64_t created = now_or(msg->created_at), id;
	char text_hex[CRYPTO_SHA256_HEX_LEN + 1];
	int rc, ok;

	crypto_sha256_hex(text, strlen(text), text_hex);
	if (op_begin(store, "insert message", error_r) < 0)
		return -1;
	rc = bind_int(st, 1, msg->ticket_id) | bind_text(st, 2, msg->direction) |
	     bind_text(st, 3, msg->message_id) | bind_text(st, 4, msg->in_reply_to) |
	     bind_text(st, 5, msg->references) | bind_text(st, 6, msg->from_address) |
	     bind_text(st, 7, msg->from_name) | bind_text(st, 8, msg->to) |
	     bind_text(st, 9, msg->cc) | bind_text(st, 10, msg->subject) |
	     bind_int(st, 11, msg->date) | bind_text(st, 12, text) |
	     bind_text(st, 13, msg->raw_sha256) | bind_int(st, 14, msg->raw_size) |
	     bind_text(st, 15, msg->dedupe_key) | bind_text(st, 16, text_hex) |
	     bind_text(st, 17, msg->mailbox) | bind_int(st, 18, msg->uid) |
	     bind_int(st, 19, created);
	ok = bind_ok(store, st, rc, "insert message", error_r) == 0 &&
	     stmt_exec(store, st, "insert message", error_r) == 0;
	id = sqlite3_last_insert_rowid(store->db);
	if (ok) {
		st = stmt(store, STMT_TICKET_TOUCH);
		rc = bind_int(st, 1, msg->ticket_id) | bind_int(st, 2, created);
		ok = bind_ok(store, st, rc, "insert message", error_r) == 0 &&
		     stmt_exec(store, st, "insert message", error_r) == 0;
	}
	if (op_end(store, ok, "insert message", error_r) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

int
store_message_list(struct store *store, int64_t ticket_id, struct store_message **msgs_r,
		   size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MESSAGE_LIST);
	void *items;
	int ret;

	*msgs_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_int(st, 1, ticket_id), "list messages", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_message), message_row, message_clear,
			&items, count_r, "list messages", error_r);
	*msgs_r = items;
	return ret;
}

int
store_message_count(struct store *store, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return stmt_int(store, stmt(store, STMT_MESSAGE_COUNT), count_r, "count messages",
			error_r) < 0 ? -1 : 0;
}

void
store_messages_free(struct store_message **msgsp, size_t count)
{
	rows_free(*msgsp, count, sizeof(**msgsp), message_clear);
	*msgsp = NULL;
}

int
store_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
			  int64_t *ticket_id_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MESSAGE_FIND_DEDUPE);
	int rc;

	if (bind_ok(store, st, bind_text(st, 1, dedupe_key), "find message", error_r) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (message_id_r != NULL)
			*message_id_r = sqlite3_column_int64(st, 0);
		if (ticket_id_r != NULL)
			*ticket_id_r = sqlite3_column_int64(st, 1);
		stmt_done(st);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "find message");
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

int
store_message_find_same_text(struct store *store, const char *from_address,
			     const char *text_sha256, int64_t since, int64_t *ticket_id_r,
			     const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MESSAGE_FIND_SAME_TEXT);
	int64_t id = 0;
	int rc = bind_text(st, 1, from_address) | bind_text(st, 2, text_sha256) |
		 bind_int(st, 3, since);
	int ret;

	if (bind_ok(store, st, rc, "find same text", error_r) < 0)
		return -1;
	ret = stmt_int(store, st, &id, "find same text", error_r);
	if (ret == 1 && ticket_id_r != NULL)
		*ticket_id_r = id;
	return ret;
}

int
store_ticket_find_by_message_id(struct store *store, const char *message_id,
				int64_t *ticket_id_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_TICKET_FIND_BY_MSGID);
	int64_t id = 0;
	int ret;

	if (bind_ok(store, st, bind_text(st, 1, message_id), "find message-id", error_r) < 0)
		return -1;
	ret = stmt_int(store, st, &id, "find message-id", error_r);
	if (ret == 1 && ticket_id_r != NULL)
		*ticket_id_r = id;
	return ret;
}

/* ---- attachments -------------------------------------------------------- */

static void
attachment_row(sqlite3_stmt *st, void *item)
{
	struct store_attachment *a = item;
	a->id = sqlite3_column_int64(st, 0);
	a->message_row_id = sqlite3_column_int64(st, 1);
	a->filename = col_str(st, 2);
	a->content_type = col_str(st, 3);
	a->content_id = col_str(st, 4);
	a->sha256 = col_str(st, 5);
	a->size = sqlite3_column_int64(st, 6);
	a->is_inline = sqlite3_column_int(st, 7);
}

static void
attachment_clear(void *item)
{
	struct store_attachment *a = item;
	free(a->filename);
	free(a->content_type);
	free(a->content_id);
	free(a->sha256);
}

int
store_attachment_insert(struct store *store, const struct store_attachment *att,
			int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_ATTACHMENT_INSERT);
	int rc = bind_int(st, 1, att->message_row_id) | bind_text(st, 2, att->filename) |
		 bind_text(st, 3, att->content_type) | bind_text(st, 4, att->content_id) |
		 bind_text(st, 5, att->sha256) | bind_int(st, 6, att->size) |
		 bind_int(st, 7, att->is_inline ? 1 : 0);
	if (bind_ok(store, st, rc, "insert attachment", error_r) < 0 ||
	    stmt_exec(store, st, "insert attachment", error_r) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(store->db);
	return 0;
}

int
store_attachment_list(struct store *store, int64_t message_row_id,
		      struct store_attachment **atts_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_ATTACHMENT_LIST);
	void *items;
	int ret;

	*atts_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_int(st, 1, message_row_id), "list attachments", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_attachment), attachment_row,
			attachment_clear, &items, count_r, "list attachments", error_r);
	*atts_r = items;
	return ret;
}

void
store_attachments_free(struct store_attachment **attsp, size_t count)
{
	rows_free(*attsp, count, sizeof(**attsp), attachment_clear);
	*attsp = NULL;
}

/* ---- participants ------------------------------------------------------- */

static void
participant_row(sqlite3_stmt *st, void *item)
{
	struct store_participant *p = item;
	p->ticket_id = sqlite3_column_int64(st, 0);
	p->address = col_str(st, 1);
	p->name = col_str(st, 2);
	p->role = col_str(st, 3);
}

static void
participant_clear(void *item)
{
	struct store_participant *p = item;
	free(p->address);
	free(p->name);
	free(p->role);
}

int
store_participant_add(struct store *store, int64_t ticket_id, const char *address,
		      const char *name, const char *role, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_PARTICIPANT_ADD);
	int rc = bind_int(st, 1, ticket_id) | bind_text(st, 2, address) | bind_text(st, 3, name) |
		 bind_text(st, 4, role) | bind_int(st, 5, (int64_t)time(NULL));
	if (bind_ok(store, st, rc, "add participant", error_r) < 0)
		return -1;
	return stmt_exec(store, st, "add participant", error_r);
}

int
store_participant_list(struct store *store, int64_t ticket_id,
		       struct store_participant **parts_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_PARTICIPANT_LIST);
	void *items;
	int ret;

	*parts_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_int(st, 1, ticket_id), "list participants", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_participant), participant_row,
			participant_clear, &items, count_r, "list participants", error_r);
	*parts_r = items;
	return ret;
}

void
store_participants_free(struct store_participant **partsp, size_t count)
{
	rows_free(*partsp, count, sizeof(**partsp), participant_clear);
	*partsp = NULL;
}

int
store_participant_find(struct store *store, int64_t ticket_id, const char *address,
		       const char **role_r, const char **error_r)
{
	static const char *const roles[] = { "customer", "cc", "agent" };
	sqlite3_stmt *st = stmt(store, STMT_PARTICIPANT_FIND);
	int rc = bind_int(st, 1, ticket_id) | bind_text(st, 2, address);

	if (bind_ok(store, st, rc, "find participant", error_r) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *role = (const char *)sqlite3_column_text(st, 0);
		if (role_r != NULL) {
			/* The CHECK constraint keeps role to these. */
			*role_r = roles[0];
			for (size_t i = 0; role != NULL && i < N_ELEMENTS(roles); i++) {
				if (strcmp(role, roles[i]) == 0)
					*role_r = roles[i];
			}
		}
		stmt_done(st);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "find participant");
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

/* ---- events -------------------------------------------------------------- */

static void
event_row(sqlite3_stmt *st, void *item)
{
	struct store_event *e = item;
	e->id = sqlite3_column_int64(st, 0);
	e->ticket_id = sqlite3_column_int64(st, 1);
	e->at = sqlite3_column_int64(st, 2);
	e->kind = col_str(st, 3);
	e->detail = col_str(st, 4);
}

static void
event_clear(void *item)
{
	struct store_event *e = item;
	free(e->kind);
	free(e->detail);
}

int
store_event_add(struct store *store, int64_t ticket_id, const char *kind, const char *detail,
		const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_EVENT_ADD);
	int rc = bind_ref(st, 1, ticket_id) | bind_int(st, 2, (int64_t)time(NULL)) |
		 bind_text(st, 3, kind) | bind_text(st, 4, detail);
	if (bind_ok(store, st, rc, "add event", error_r) < 0)
		return -1;
	return stmt_exec(store, st, "add event", error_r);
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

int
store_event_list(struct store *store, int64_t ticket_id, struct store_event **events_r,
		 size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_EVENT_LIST);
	void *items;
	int ret;

	*events_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_ref(st, 1, ticket_id), "list events", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_event), event_row, event_clear, &items,
			count_r, "list events", error_r);
	*events_r = items;
	return ret;
}

void
store_events_free(struct store_event **eventsp, size_t count)
{
	rows_free(*eventsp, count, sizeof(**eventsp), event_clear);
	*eventsp = NULL;
}

/* ---- quarantine ------------------------------------------------------------ */

static void
quarantine_row(sqlite3_stmt *st, void *item)
{
	struct store_quarantine *q = item;
	q->id = sqlite3_column_int64(st, 0);
	q->raw_sha256 = col_str(st, 1);
	q->raw_size = sqlite3_column_int64(st, 2);
	q->reason = col_str(st, 3);
	q->source = col_str(st, 4);
	q->created_at = sqlite3_column_int64(st, 5);
	q->status = col_str(st, 6);
	q->ticket_id = sqlite3_column_int64(st, 7);
}

static void
quarantine_clear(void *item)
{
	struct store_quarantine *q = item;
	free(q->raw_sha256);
	free(q->reason);
	free(q->source);
	free(q->status);
}

int
store_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
			int *existed_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_QUARANTINE_INSERT);
	int64_t id = 0;
	int rc = bind_text(st, 1, q->raw_sha256) | bind_int(st, 2, q->raw_size) |
		 bind_text(st, 3, q->reason) | bind_text(st, 4, q->source != NULL ? q->source : "") |
		 bind_int(st, 5, now_or(q->created_at));
	int existed = 0;

	if (bind_ok(store, st, rc, "quarantine", error_r) < 0 ||
	    stmt_exec(store, st, "quarantine", error_r) < 0)
		return -1;
	if (sqlite3_changes(store->db) > 0) {
		id = sqlite3_last_insert_rowid(store->db);
	} else {
		/* Already held (ON CONFLICT DO NOTHING inserted nothing). */
		st = stmt(store, STMT_QUARANTINE_FIND_HELD);
		if (bind_ok(store, st, bind_text(st, 1, q->raw_sha256), "quarantine", error_r) < 0)
			return -1;
		if (stmt_int(store, st, &id, "quarantine", error_r) != 1) {
			*error_r = "store: quarantine: held entry vanished";
			return -1;
		}
		existed = 1;
	}
	if (id_r != NULL)
		*id_r = id;
	if (existed_r != NULL)
		*existed_r = existed;
	return 0;
}

int
store_quarantine_get(struct store *store, int64_t id, struct store_quarantine **q_r,
		     const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_QUARANTINE_GET);
	void *item;
	int ret;

	*q_r = NULL;
	if (bind_ok(store, st, bind_int(st, 1, id), "get quarantine", error_r) < 0)
		return -1;
	ret = stmt_one(store, st, sizeof(struct store_quarantine), quarantine_row, &item,
		       "get quarantine", error_r);
	*q_r = item;
	return ret;
}

int
store_quarantine_list(struct store *store, const char *status, struct store_quarantine **qs_r,
		      size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_QUARANTINE_LIST);
	void *items;
	int ret;

	*qs_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_text(st, 1, status), "list quarantine", error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_quarantine), quarantine_row,
			quarantine_clear, &items, count_r, "list quarantine", error_r);
	*qs_r = items;
	return ret;
}

int
store_quarantine_set_status(struct store *store, int64_t id, const char *status,
			    int64_t ticket_id, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_QUARANTINE_SET_STATUS);
	int rc = bind_int(st, 1, id) | bind_text(st, 2, status) | bind_ref(st, 3, ticket_id);

	if (bind_ok(store, st, rc, "set quarantine status", error_r) < 0 ||
	    stmt_exec(store, st, "set quarantine status", error_r) < 0)
		return -1;
	if (sqlite3_changes(store->db) == 0) {
		*error_r = errf("store: set quarantine status: no quarantine entry %lld",
				(long long)id);
		return -1;
	}
	return 0;
}

void
store_quarantine_free(struct store_quarantine **qp)
{
	if (*qp == NULL)
		return;
	quarantine_clear(*qp);
	free(*qp);
	*qp = NULL;
}

void
store_quarantines_free(struct store_quarantine **qsp, size_t count)
{
	rows_free(*qsp, count, sizeof(**qsp), quarantine_clear);
	*qsp = NULL;
}

/* ---- mailbox checkpoints ---------------------------------------------------- */

int
store_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
		  uint32_t *last_uid_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MAILBOX_GET);
	int rc;

	*uidvalidity_r = 0;
	*last_uid_r = 0;
	if (bind_ok(store, st, bind_text(st, 1, mailbox), "get mailbox", error_r) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uidvalidity_r = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid_r = (uint32_t)sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "get mailbox");
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

int
store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
		  uint32_t last_uid, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_MAILBOX_SET);
	int rc = bind_text(st, 1, mailbox) | bind_int(st, 2, uidvalidity) |
		 bind_int(st, 3, last_uid) | bind_int(st, 4, (int64_t)time(NULL));
	if (bind_ok(store, st, rc, "set mailbox", error_r) < 0)
		return -1;
	return stmt_exec(store, st, "set mailbox", error_r);
}

/* ---- fields and rule hits ----------------------------------------------------- */

static void
field_row(sqlite3_stmt *st, void *item)
{
	struct store_field *f = item;
	f->name = col_str(st, 0);
	f->value = col_str(st, 1);
}

static void
field_clear(void *item)
{
	struct store_field *f = item;
	free(f->name);
	free(f->value);
}

int
store_ticket_field_set(struct store *store, int64_t ticket_id, const char *name,
		       const char *value, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_FIELD_SET);
	int rc = bind_int(st, 1, ticket_id) | bind_text(st, 2, name) | bind_text(st, 3, value) |
		 bind_int(st, 4, (int64_t)time(NULL));
	if (bind_ok(store, st, rc, "set ticket field", error_r) < 0)
		return -1;
	return stmt_exec(store, st, "set ticket field", error_r);
}

static int
field_list(struct store *store, enum stmt_id id, int64_t ticket_id, struct store_field **fields_r,
	   size_t *count_r, const char *what, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, id);
	void *items;
	int ret;

	*fields_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_int(st, 1, ticket_id), what, error_r) < 0)
		return -1;
	ret = stmt_rows(store, st, sizeof(struct store_field), field_row, field_clear, &items,
			count_r, what, error_r);
	*fields_r = items;
	return ret;
}

int
store_ticket_field_list(struct store *store, int64_t ticket_id, struct store_field **fields_r,
			size_t *count_r, const char **error_r)
{
	return field_list(store, STMT_FIELD_LIST, ticket_id, fields_r, count_r,
			  "list ticket fields", error_r);
}

void
store_fields_free(struct store_field **fieldsp, size_t count)
{
	rows_free(*fieldsp, count, sizeof(**fieldsp), field_clear);
	*fieldsp = NULL;
}

int
store_rule_hit_add(struct store *store, int64_t ticket_id, int64_t message_row_id,
		   const char *rule, const char *detail, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_RULE_HIT_ADD);
	int rc = bind_int(st, 1, ticket_id) | bind_ref(st, 2, message_row_id) |
		 bind_text(st, 3, rule) | bind_text(st, 4, detail) |
		 bind_int(st, 5, (int64_t)time(NULL));
	if (bind_ok(store, st, rc, "add rule hit", error_r) < 0)
		return -1;
	return stmt_exec(store, st, "add rule hit", error_r);
}

int
store_rule_hit_list(struct store *store, int64_t ticket_id, struct store_field **hits_r,
		    size_t *count_r, const char **error_r)
{
	return field_list(store, STMT_RULE_HIT_LIST, ticket_id, hits_r, count_r,
			  "list rule hits", error_r);
}

/* ---- outbox -------------------------------------------------------------- */

static void
outbox_row(sqlite3_stmt *st, void *item)
{
	struct store_outbox *o = item;
	o->id = sqlite3_column_int64(st, 0);
	o->ticket_id = sqlite3_column_int64(st, 1);
	o->kind = col_str(st, 2);
	o->message_id = col_str(st, 3);
	o->envelope_from = col_str(st, 4);
	o->recipients = col_str(st, 5);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		const void *raw = sqlite3_column_blob(st, 6);
		size_t n = (size_t)sqlite3_column_bytes(st, 6);
		/* NUL-terminated for convenience; raw_size is the length. */
		o->raw = xmalloc(n + 1);
		if (n > 0)
			memcpy(o->raw, raw, n);
		o->raw[n] = '\0';
	}
	o->raw_size = (size_t)sqlite3_column_int64(st, 7);
	o->status = col_str(st, 8);
	o->attempts = sqlite3_column_int64(st, 9);
	o->created_at = sqlite3_column_int64(st, 10);
	o->next_attempt_at = sqlite3_column_int64(st, 11);
	o->sent_at = sqlite3_column_int64(st, 12);
	o->last_error = col_str(st, 13);
	o->last_code = col_str(st, 14);
}

static void
outbox_clear(void *item)
{
	struct store_outbox *o = item;
	free(o->kind);
	free(o->message_id);
	free(o->envelope_from);
	free(o->recipients);
	free(o->raw);
	free(o->status);
	free(o->last_error);
	free(o->last_code);
}

int
store_outbox_insert(struct store *store, const struct store_outbox *o, int64_t *id_r,
		    const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_INSERT);
	int64_t created = now_or(o->created_at);
	int rc;

	if (o->raw == NULL) {
		*error_r = "store: queue mail: no message";
		return -1;
	}
	rc = bind_ref(st, 1, o->ticket_id) | bind_text(st, 2, o->kind) |
	     bind_text(st, 3, o->message_id) | bind_text(st, 4, o->envelope_from) |
	     bind_text(st, 5, o->recipients) |
	     sqlite3_bind_blob64(st, 6, o->raw, o->raw_size, SQLITE_STATIC) |
	     bind_int(st, 7, created) |
	     bind_int(st, 8, o->next_attempt_at != 0 ? o->next_attempt_at : created);
	if (op_begin(store, "queue mail", error_r) < 0)
		return -1;
	int ok = bind_ok(store, st, rc, "queue mail", error_r) == 0 &&
		 stmt_exec(store, st, "queue mail", error_r) == 0;
	int64_t id = ok ? sqlite3_last_insert_rowid(store->db) : 0;
	/* One row per recipient of the comma-separated list. */
	for (const char *p = o->recipients; ok && p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char *addr = xstrndup(p, len);
		str_trim(addr);
		if (*addr != '\0') {
			sqlite3_stmt *rs = stmt(store, STMT_OUTBOX_RCPT_INSERT);
			rc = bind_int(rs, 1, id) | bind_text(rs, 2, addr) | bind_text(rs, 3, o->kind) |
			     bind_int(rs, 4, created);
			ok = bind_ok(store, rs, rc, "queue mail", error_r) == 0 &&
			     stmt_exec(store, rs, "queue mail", error_r) == 0;
		}
		free(addr);
		p = comma != NULL ? comma + 1 : NULL;
	}
	if (op_end(store, ok, "queue mail", error_r) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

static int
outbox_rows(struct store *store, sqlite3_stmt *st, struct store_outbox **list_r, size_t *count_r,
	    const char *what, const char **error_r)
{
	void *items;
	int ret = stmt_rows(store, st, sizeof(struct store_outbox), outbox_row, outbox_clear,
			    &items, count_r, what, error_r);
	*list_r = items;
	return ret;
}

int
store_outbox_due(struct store *store, int64_t now, size_t limit, struct store_outbox **list_r,
		 size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_DUE);
	*list_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_int(st, 1, now) | bind_limit(st, 2, limit), "outbox due",
		    error_r) < 0)
		return -1;
	return outbox_rows(store, st, list_r, count_r, "outbox due", error_r);
}

int
store_outbox_update(struct store *store, int64_t id, const char *status, int64_t attempts,
		    int64_t next_attempt_at, const char *last_error, const char *last_code,
		    const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_UPDATE);
	int rc = bind_int(st, 1, id) | bind_text(st, 2, status) | bind_int(st, 3, attempts) |
		 bind_int(st, 4, next_attempt_at) | bind_text(st, 5, last_error) |
		 bind_text(st, 6, last_code) | bind_int(st, 7, (int64_t)time(NULL));

	if (bind_ok(store, st, rc, "update outbox", error_r) < 0 ||
	    stmt_exec(store, st, "update outbox", error_r) < 0)
		return -1;
	if (sqlite3_changes(store->db) == 0) {
		*error_r = errf("store: update outbox: no outbox message %lld", (long long)id);
		return -1;
	}
	return 0;
}

int
store_outbox_get(struct store *store, int64_t id, struct store_outbox **o_r,
		 const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_GET);
	void *item;
	int ret;

	*o_r = NULL;
	if (bind_ok(store, st, bind_int(st, 1, id), "get outbox", error_r) < 0)
		return -1;
	ret = stmt_one(store, st, sizeof(struct store_outbox), outbox_row, &item, "get outbox",
		       error_r);
	*o_r = item;
	return ret;
}

int
store_outbox_find_by_message_id(struct store *store, const char *message_id,
				struct store_outbox **o_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_FIND_MSGID);
	void *item;
	int ret;

	*o_r = NULL;
	if (bind_ok(store, st, bind_text(st, 1, message_id), "find outbox", error_r) < 0)
		return -1;
	ret = stmt_one(store, st, sizeof(struct store_outbox), outbox_row, &item, "find outbox",
		       error_r);
	*o_r = item;
	return ret;
}

int
store_outbox_list(struct store *store, const char *status, size_t limit,
		  struct store_outbox **list_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_LIST);
	*list_r = NULL;
	*count_r = 0;
	if (bind_ok(store, st, bind_text(st, 1, status) | bind_limit(st, 2, limit), "list outbox",
		    error_r) < 0)
		return -1;
	return outbox_rows(store, st, list_r, count_r, "list outbox", error_r);
}

int
store_outbox_count_recent(struct store *store, const char *recipient, const char *kind,
			  int64_t since, int64_t *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(store, STMT_OUTBOX_COUNT_RECENT);
	int rc = bind_text(st, 1, recipient != NULL ? recipient : "") | bind_text(st, 2, kind) |
		 bind_int(st, 3, since);

	*count_r = 0;
	if (bind_ok(store, st, rc, "count outbox", error_r) < 0)
		return -1;
	return stmt_int(store, st, count_r, "count outbox", error_r) < 0 ? -1 : 0;
}

void
store_outbox_free(struct store_outbox **op)
{
	if (*op == NULL)
		return;
	outbox_clear(*op);
	free(*op);
	*op = NULL;
}

void
store_outboxes_free(struct store_outbox **listp, size_t count)
{
	rows_free(*listp, count, sizeof(**listp), outbox_clear);
	*listp = NULL;
}
