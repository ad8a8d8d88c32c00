/*
 * store-pg-sql: the SQL of the PostgreSQL driver's core statements. The
 * statements are the SQLite driver's (store-sqlite-sql.h: the same names,
 * the same SELECT lists in the order of store-record.c), read by
 * PostgreSQL after ?N becomes $N, except those whose SQL differs between
 * the two databases: they are written here. Statements are prepared on
 * first use (no round trips at connect); test-store-pg prepares every one
 * (store_pg_prepare_all()), so one PostgreSQL does not read fails there,
 * naming it.
 * Text only (no libpq-fe.h here).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-pg-sql.h"
#include "gateway/store/store-sqlite-sql.h"

#define TICKET_SET(col) \
	"UPDATE tickets SET " col " = $2, updated_at = greatest(updated_at, $3) WHERE id = $1"
#define DESK_OPEN "WHERE t.status NOT IN ('closed', 'solved')"
#define DESK_ORDER "ORDER BY t.due_at = 0, t.due_at, t.id LIMIT $2"
#define UNANSWERED "status IN ('new', 'open', 'pending') AND first_response_at = 0"

/* The statements PostgreSQL reads differently. */
static const char *const pg_sql[STMT_COUNT] = {
	/* Serializable: the pipeline's look-ups (dedupe key, Message-ID,
	   participants, rate counts) still hold at the commit, or the commit
	   fails with 40001 and the batch is retried (docs/internals/store.md
	   "Concurrency"). */
	[STMT_BEGIN] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
	[STMT_TICKET_LIST_ASSIGNED] = "SELECT " TICKET_COLS " FROM tickets t " DESK_OPEN
				      " AND t.assignee = $1 " DESK_ORDER,
	[STMT_TICKET_LIST_QUEUE] = "SELECT " TICKET_COLS " FROM tickets t " DESK_OPEN
				   " AND t.queue = $1 " DESK_ORDER,
	[STMT_TICKET_SET_STATUS] = TICKET_SET("status"),
	[STMT_TICKET_SET_CATEGORY] = TICKET_SET("category"),
	[STMT_TICKET_SET_PRIORITY] = TICKET_SET("priority"),
	[STMT_TICKET_SET_QUEUE] = TICKET_SET("queue"),
	[STMT_TICKET_SET_LANGUAGE] = TICKET_SET("language"),
	[STMT_TICKET_SET_ASSIGNEE] = TICKET_SET("assignee"),
	[STMT_TICKET_SET_FIRST_RESPONSE] = TICKET_SET("first_response_at"),
	[STMT_TICKET_SET_DUE] = TICKET_SET("due_at"),
	[STMT_TICKET_TOUCH] =
		"UPDATE tickets SET updated_at = greatest(updated_at, $2) WHERE id = $1",
	[STMT_TICKET_FIND_BY_MSGID] =
		"SELECT ticket_id FROM ("
		" SELECT ticket_id, 0 AS src, id FROM messages WHERE message_id = $1"
		" UNION ALL"
		" SELECT ticket_id, 1 AS src, id FROM outbox"
		"  WHERE message_id = $1 AND ticket_id IS NOT NULL"
		") AS found ORDER BY src, id LIMIT 1",
	/* events_ticket serves both arms. */
	[STMT_EVENT_LIST] =
		"SELECT id, ticket_id, at, kind, detail FROM events WHERE "
		"($1::bigint IS NULL AND ticket_id IS NULL) OR ticket_id = $1 ORDER BY id",
	[STMT_EVENT_LAST_OF] =
		"SELECT kind = $1 FROM events WHERE ticket_id IS NULL AND kind IN ($1, $2) AND "
		"left(detail, length($3::text)) = $3 ORDER BY id DESC LIMIT 1",
	[STMT_QUARANTINE_LIST] =
		"SELECT id, raw_sha256, raw_size, reason, source, created_at, status, ticket_id, "
		"mailbox, uidvalidity, uid FROM quarantine WHERE $1::text IS NULL OR status = $1 "
		"ORDER BY id DESC",
	[STMT_MAILBOX_MARK_ADD] =
		"INSERT INTO mailbox_marks (mailbox, uidvalidity, uid, quarantined, created_at) "
		"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET "
		"quarantined = greatest(mailbox_marks.quarantined, excluded.quarantined)",
	[STMT_OUTBOX_LIST] =
		"SELECT id, ticket_id, kind, message_id, envelope_from, recipients, NULL::bytea, "
		"length(raw), status, attempts, created_at, next_attempt_at, sent_at, last_error, "
		"last_code FROM outbox WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT $2",
	[STMT_OUTBOX_COUNT_RECENT] =
		"SELECT count(*) FROM outbox_rcpt WHERE address = lower(btrim($1::text)) "
		"AND created_at >= $3 AND ($2::text IS NULL OR kind = $2)",
	[STMT_OUTBOX_COUNT_SINCE] =
		"SELECT count(*) FROM outbox WHERE created_at >= $2 AND ($1::text IS NULL OR kind = $1)",
	/* outbox_rcpt.address is CITEXT, stored lower-cased: the range of
	   "local+..." in the address index, then the domain. */
	[STMT_OUTBOX_COUNT_FOLDED] =
		"SELECT count(*) FROM outbox_rcpt WHERE (address = lower($1::text) OR "
		"(address > lower($2::text) AND address < lower($3::text) AND "
		"right(address::text, length($4::text)) = lower($4::text))) "
		"AND created_at >= $6 AND ($5::text IS NULL OR kind = $5)",
	[STMT_OUTBOX_RCPT_LIST] =
		"SELECT r.address, coalesce(x.status, 'queued'), x.code, x.detail, "
		"coalesce(x.updated_at, 0) FROM outbox_rcpt r LEFT JOIN outbox_rcpt_result x "
		"ON x.outbox_id = r.outbox_id AND x.address = r.address WHERE r.outbox_id = $1 "
		"ORDER BY r.id",
	[STMT_OUTBOX_RCPT_SET] =
		"INSERT INTO outbox_rcpt_result (outbox_id, address, status, code, detail, updated_at) "
		"SELECT outbox_id, address, $3, $4, $5, $6 FROM outbox_rcpt WHERE outbox_id = $1 AND "
		"address = lower(btrim($2::text)) LIMIT 1 ON CONFLICT (outbox_id, address) DO UPDATE SET "
		"status = excluded.status, code = excluded.code, detail = excluded.detail, "
		"updated_at = excluded.updated_at",
	[STMT_STATS] =
		"SELECT"
		" (SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts = 0),"
		" (SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts > 0),"
		" (SELECT count(*) FROM outbox WHERE status = 'sending'),"
		" (SELECT count(*) FROM outbox WHERE status = 'failed'),"
		" (SELECT coalesce(min(created_at), 0) FROM outbox"
		"   WHERE status IN ('queued', 'sending')),"
		" (SELECT count(*) FROM quarantine WHERE status = 'held'),"
		" (SELECT count(*) FROM tickets WHERE " UNANSWERED "),"
		" coalesce(t.id, 0), coalesce(t.created_at, 0), coalesce(t.due_at, 0)"
		" FROM (SELECT 1) AS one LEFT JOIN (SELECT id, created_at, due_at FROM tickets"
		"   WHERE " UNANSWERED " ORDER BY created_at, id LIMIT 1) t ON true",
};

/* The INSERTs whose new row's id the driver reads (RETURNING id). */
static const enum stmt_id returning_id[] = {
	STMT_TICKET_INSERT, STMT_MESSAGE_INSERT,    STMT_ATTACHMENT_INSERT,
	STMT_QUARANTINE_INSERT, STMT_QUARANTINE_INSERT_UNFETCHED, STMT_OUTBOX_INSERT,
	STMT_LABEL_ADD,
};

/* SQLite's ?N as PostgreSQL's $N, outside quoted literals. */
static char *
placeholders(const char *sql)
{
	size_t len = strlen(sql);
	char *out = xmalloc(len + 1), *o = out;
	int quoted = 0;
	for (const char *p = sql; *p != '\0'; p++) {
		if (*p == '\'')
			quoted = !quoted;
		*o++ = !quoted && *p == '?' && p[1] >= '0' && p[1] <= '9' ? '$' : *p;
	}
	*o = '\0';
	return out;
}

char *
store_pg_sql(int id)
{
	if (id < 0 || id >= STMT_COUNT)
		return NULL;
	char *sql;
	if (pg_sql[id] != NULL)
		sql = xstrdup(pg_sql[id]);
	else if (store_sqlite_sql[id] != NULL)
		sql = placeholders(store_sqlite_sql[id]);
	else
		return NULL;
	for (size_t i = 0; i < N_ELEMENTS(returning_id); i++) {
		if ((int)returning_id[i] == id) {
			char *r = xasprintf("%s RETURNING id", sql);
			free(sql);
			return r;
		}
	}
	return sql;
}

int
store_pg_sql_is_txn(int id)
{
	return id >= STMT_BEGIN && id <= STMT_ROLLBACK_TO;
}
