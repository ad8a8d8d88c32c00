/*
 * store-sqlite-merge: #merge in the SQLite driver (store-merge.h;
 * migration 13, the table ticket_merges). The statements run in order
 * under one savepoint; the first records `from` as merged, and only when
 * both tickets are as store-merge.h requires (its key is the merged
 * ticket), so a second merge of the same ticket changes nothing and is
 * refused.
 */
#include "build-config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-merge-driver.h"
#include "gateway/store/store-merge-sql.h"
#include "gateway/store/store-sqlite-sql.h"
#include "gateway/store/store-sqlite.h"


/* ?1 from, ?2 into, ?3 now (each statement binds those it names);
   SQ_MARK first, the rest in order. */
static const char *const sql[SQ_COUNT] = {
	[SQ_MERGED_INTO] = "SELECT coalesce((SELECT m.into_id FROM ticket_merges m WHERE "
			   "m.ticket_id = t.id), 0) FROM tickets t WHERE t.id = ?1",
	[SQ_MARK] = "INSERT INTO ticket_merges (ticket_id, into_id, at) SELECT ?1, ?2, ?3 "
		    "WHERE ?1 <> ?2 AND EXISTS (SELECT 1 FROM tickets f WHERE f.id = ?1) AND EXISTS "
		    "(SELECT 1 FROM tickets i WHERE i.id = ?2) AND NOT EXISTS (SELECT 1 FROM "
		    "ticket_merges m WHERE m.ticket_id = ?2) ON CONFLICT (ticket_id) DO NOTHING",
	[SQ_CLOSE] = "UPDATE tickets SET status = 'closed', category = 'duplicate', updated_at = ?3 "
		     "WHERE id = ?1",
	[SQ_MESSAGES] = "UPDATE messages SET ticket_id = ?2 WHERE ticket_id = ?1",
	[SQ_RCPTS] = "UPDATE message_rcpt SET ticket_id = ?2 WHERE ticket_id = ?1",
	[SQ_PARTICIPANTS] =
		"INSERT INTO participants (ticket_id, address, name, role, created_at) "
		"SELECT ?2, p.address, p.name, CASE WHEN p.role = 'customer' AND lower(p.address) <> "
		"lower(coalesce((SELECT customer_address FROM tickets WHERE id = ?2), '')) "
		"THEN 'cc' ELSE p.role END, ?3 FROM participants p WHERE p.ticket_id = ?1 "
		"ORDER BY p.id ON CONFLICT (ticket_id, address) DO NOTHING",
	[SQ_RULE_HITS] = "UPDATE rule_hits SET ticket_id = ?2 WHERE ticket_id = ?1",
	[SQ_LABELS] = "UPDATE labels SET ticket_id = ?2 WHERE ticket_id = ?1",
	[SQ_FIELDS] = "INSERT INTO ticket_fields (ticket_id, name, value, updated_at) "
		      "SELECT ?2, name, value, ?3 FROM ticket_fields WHERE ticket_id = ?1 "
		      "AND (substr(name, 1, 1) <> '_' OR name = '" STORE_FIELD_HELD_REPLY "') "
		      "ON CONFLICT (ticket_id, name) DO NOTHING",
	[SQ_EVENTS] = "INSERT INTO events (ticket_id, at, kind, detail) "
		      "SELECT ?2, at, kind, '[#' || ?1 || '] ' || coalesce(detail, '') "
		      "FROM events WHERE ticket_id = ?1 ORDER BY id",
	[SQ_SLA] = "UPDATE ticket_sla SET status = 'closed', earliest_due = 0, updated_at = ?3, "
		   "paused_at = CASE WHEN paused_at = 0 THEN ?3 ELSE paused_at END "
		   "WHERE ticket_id = ?1",
	[SQ_TIMERS] = "DELETE FROM timers WHERE ticket_id = ?1",
	[SQ_TOUCH] = "UPDATE tickets SET updated_at = ?3 WHERE id = ?2",
};

const struct sqlite_part sqlite_merge_part = { sql, SQ_COUNT };

static sqlite3_stmt *
st(struct sqlite_store *s, int id)
{
	return part_stmt(s, SQLITE_PART_MERGE, (size_t)id);
}

static int
merge_merged_into(struct store *store, int64_t id, int64_t *into_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_MERGED_INTO);
	int ret = bind_ok(q, bind_int(q, 1, id), "merged into", error_r);
	return ret < 0 ? ret : stmt_int(s, q, into_r, "merged into", error_r);
}

static int
merge_run(struct sqlite_store *s, int64_t from, int64_t into, int64_t now, const char **error_r)
{
	for (int i = SQ_MARK; i < SQ_COUNT; i++) {
		sqlite3_stmt *q = st(s, i);
		const int64_t args[] = { from, into, now };
		int n = sqlite3_bind_parameter_count(q), rc = SQLITE_OK;
		for (int k = 0; k < n && k < 3 && rc == SQLITE_OK; k++)
			rc = bind_int(q, k + 1, args[k]);
		int ret = stmt_run(s, q, rc, "merge tickets", error_r);
		if (ret < 0)
			return ret;
		if (i == SQ_MARK && sqlite3_changes(s->db) == 0) {
			*error_r = errf("store: merge ticket %lld into %lld: a ticket is unknown or "
					"already merged", (long long)from, (long long)into);
			return STORE_DATA_BAD;
		}
	}
	return STORE_OK;
}

static int
merge_merge(struct store *store, int64_t from, int64_t into, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	const char *ignored;
	int ret = stmt_exec(s, s->stmts[STMT_SAVEPOINT], "merge tickets", error_r);
	if (ret < 0)
		return ret;
	ret = merge_run(s, from, into, now, error_r);
	if (ret == STORE_OK)
		ret = stmt_exec(s, s->stmts[STMT_RELEASE], "merge tickets", error_r);
	if (ret != STORE_OK &&
	    stmt_exec(s, s->stmts[STMT_ROLLBACK_TO], "merge tickets", &ignored) == STORE_OK)
		(void)stmt_exec(s, s->stmts[STMT_RELEASE], "merge tickets", &ignored);
	return ret;
}

const struct store_merge_driver store_sqlite_merge_driver = {
	.merged_into = merge_merged_into,
	.merge = merge_merge,
};
