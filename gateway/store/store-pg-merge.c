/*
 * store-pg-merge: #merge in the PostgreSQL driver (store-merge.h;
 * PostgreSQL migration 5, SQLite's 13: ticket_merges). The same steps as
 * SQLite's (store-sqlite-merge.c) under one savepoint (pg_op_begin()); the
 * first records `from` as merged only when both tickets are as
 * store-merge.h requires, and its key is the merged ticket, so two
 * gateways merging one ticket at once (or a replayed command) merge it
 * once.
 */
#include "build-config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-merge-driver.h"
#include "gateway/store/store-merge-sql.h"
#include "gateway/store/store-pg.h"


/* $1 from, $2 into, $3 now: each statement takes the first n_params[]
   of them (PostgreSQL refuses a parameter a statement does not use). */
static const char *const sql[SQ_COUNT] = {
	[SQ_MERGED_INTO] = "SELECT coalesce((SELECT m.into_id FROM ticket_merges m WHERE "
			   "m.ticket_id = t.id), 0) FROM tickets t WHERE t.id = $1",
	[SQ_MARK] = "INSERT INTO ticket_merges (ticket_id, into_id, at) SELECT $1::bigint, $2::bigint, $3::bigint "
		    "WHERE $1 <> $2 AND EXISTS (SELECT 1 FROM tickets f WHERE f.id = $1) AND EXISTS "
		    "(SELECT 1 FROM tickets i WHERE i.id = $2) AND NOT EXISTS (SELECT 1 FROM "
		    "ticket_merges m WHERE m.ticket_id = $2) ON CONFLICT (ticket_id) DO NOTHING",
	[SQ_CLOSE] = "UPDATE tickets SET status = 'closed', category = 'duplicate', updated_at = $2 "
		     "WHERE id = $1",
	[SQ_MESSAGES] = "UPDATE messages SET ticket_id = $2 WHERE ticket_id = $1",
	[SQ_RCPTS] = "UPDATE message_rcpt SET ticket_id = $2 WHERE ticket_id = $1",
	[SQ_PARTICIPANTS] =
		"INSERT INTO participants (ticket_id, address, name, role, created_at) "
		"SELECT $2::bigint, p.address, p.name, CASE WHEN p.role = 'customer' AND lower(p.address) <> "
		"lower(coalesce((SELECT customer_address FROM tickets WHERE id = $2), '')) "
		"THEN 'cc' ELSE p.role END, $3::bigint FROM participants p WHERE p.ticket_id = $1 "
		"ORDER BY p.id ON CONFLICT (ticket_id, address) DO NOTHING",
	[SQ_RULE_HITS] = "UPDATE rule_hits SET ticket_id = $2 WHERE ticket_id = $1",
	[SQ_LABELS] = "UPDATE labels SET ticket_id = $2 WHERE ticket_id = $1",
	[SQ_FIELDS] = "INSERT INTO ticket_fields (ticket_id, name, value, updated_at) "
		      "SELECT $2::bigint, name, value, $3::bigint FROM ticket_fields WHERE ticket_id = $1 "
		      "AND (substr(name, 1, 1) <> '_' OR name = '" STORE_FIELD_HELD_REPLY "') "
		      "ON CONFLICT (ticket_id, name) DO NOTHING",
	[SQ_EVENTS] = "INSERT INTO events (ticket_id, at, kind, detail) "
		      "SELECT $2::bigint, at, kind, '[#' || $1::bigint || '] ' || coalesce(detail, '') "
		      "FROM events WHERE ticket_id = $1 ORDER BY id",
	[SQ_SLA] = "UPDATE ticket_sla SET status = 'closed', earliest_due = 0, updated_at = $2, "
		   "paused_at = CASE WHEN paused_at = 0 THEN $2 ELSE paused_at END "
		   "WHERE ticket_id = $1",
	[SQ_TIMERS] = "DELETE FROM timers WHERE ticket_id = $1",
	[SQ_TOUCH] = "UPDATE tickets SET updated_at = $2 WHERE id = $1",
};

const struct pg_part pg_merge_part = { "merge", sql, SQ_COUNT };

static const char *
name(int id, char buf[16])
{
	return pg_part_name(PG_PART_MERGE, (size_t)id, buf);
}

static int
merge_merged_into(struct store *store, int64_t id, int64_t *into_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_int(&p, id);
	return pg_int_row(pgs(store), name(SQ_MERGED_INTO, buf), &p, into_r, "merged into",
			  error_r);
}

/* Each statement's parameters, in the order of its $n. */
static void
params(int id, int64_t from, int64_t into, int64_t now, struct pg_params *p)
{
	switch (id) {
	case SQ_SLA:
		pg_int(p, from);
		pg_int(p, now);
		break;
	case SQ_TIMERS:
		pg_int(p, from);
		break;
	case SQ_CLOSE:
		pg_int(p, from);
		pg_int(p, now);
		break;
	case SQ_TOUCH:
		pg_int(p, into);
		pg_int(p, now);
		break;
	case SQ_MESSAGES:
	case SQ_RCPTS:
	case SQ_RULE_HITS:
	case SQ_LABELS:
	case SQ_EVENTS:
		pg_int(p, from);
		pg_int(p, into);
		break;
	default:
		pg_int(p, from);
		pg_int(p, into);
		pg_int(p, now);
		break;
	}
}

static int
merge_merge(struct store *store, int64_t from, int64_t into, int64_t now, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char buf[16];
	int ret = pg_op_begin(s, "merge tickets", error_r);
	if (ret < 0)
		return ret;
	for (int i = SQ_MARK; i < SQ_COUNT && ret == STORE_OK; i++) {
		struct pg_params p = { 0 };
		params(i, from, into, now, &p);
		int64_t n = pg_changes(s, name(i, buf), &p, "merge tickets", error_r);
		if (n < 0) {
			ret = (int)n;
		} else if (i == SQ_MARK && n == 0) {
			*error_r = errf("store: merge ticket %lld into %lld: a ticket is unknown or "
					"already merged", (long long)from, (long long)into);
			ret = STORE_DATA_BAD;
		}
	}
	return pg_op_end(s, ret, "merge tickets", error_r);
}

const struct store_merge_driver store_pg_merge_driver = {
	.merged_into = merge_merged_into,
	.merge = merge_merge,
};
