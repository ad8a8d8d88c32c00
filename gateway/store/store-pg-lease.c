/*
 * store-pg-lease: leases and outbox claims of the PostgreSQL driver
 * (store-lease.h; PostgreSQL migration 4, SQLite's 12). Gateways on several
 * hosts share one database: an acquire or a renew is one statement whose
 * row lock decides between two gateways, and a claim picks the due rows
 * with FOR UPDATE SKIP LOCKED, so two gateways claiming at once take
 * different rows instead of waiting on each other.
 *
 * Wake: a commit that queues outbox rows or gives leases up sends NOTIFY
 * PG_WAKE_CHANNEL ('outbox' or 'lease') in the same round trip as its
 * COMMIT (pg_commit_sql()), so it is heard only if the commit happened;
 * gateways LISTEN on their store connection and poll its socket while
 * idle. PostgreSQL does not replay a notification a listener missed
 * (disconnected, or not yet listening): the gateways still poll.
 */
#include "build-config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-lease-driver.h"
#include "gateway/store/store-pg.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sqlite-sql.h"

enum {
	SQ_ACQUIRE,
	SQ_HOLDER,
	SQ_RENEW,
	SQ_RELEASE,
	SQ_LIST,
	SQ_CLAIM,
	SQ_RESENDS,
	SQ_COUNT
};

static const char *const sql[SQ_COUNT] = {
	/* free, expired or already ours: ours until $3 + $4 (acquired_at kept
	   on a renewal) */
	[SQ_ACQUIRE] = "INSERT INTO leases AS l (name, holder, acquired_at, expires_at) "
		       "VALUES ($1, $2, $3::bigint, $3::bigint + $4::bigint) ON CONFLICT (name) DO UPDATE SET "
		       "acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at "
		       "ELSE excluded.acquired_at END, "
		       "holder = excluded.holder, expires_at = excluded.expires_at "
		       "WHERE l.holder = excluded.holder OR l.expires_at <= excluded.acquired_at",
	[SQ_HOLDER] = "SELECT holder FROM leases WHERE name = $1",
	[SQ_RENEW] = "UPDATE leases SET expires_at = $3::bigint + $4::bigint "
		     "WHERE name = $1 AND holder = $2 AND expires_at > $3",
	[SQ_RELEASE] = "DELETE FROM leases WHERE ($1::text IS NULL OR name = $1) AND holder = $2",
	[SQ_LIST] = "SELECT name, holder, acquired_at, expires_at FROM leases ORDER BY name",
	[SQ_CLAIM] =
		"UPDATE outbox SET resends = resends + CASE WHEN status = 'sending' THEN 1 ELSE 0 END, "
		"status = 'sending', attempts = attempts + 1, claimed_by = $2, claim_expires = $3 "
		"WHERE id IN (SELECT id "
		"FROM outbox o WHERE (o.status = 'queued' AND o.next_attempt_at <= $1) OR "
		"(o.status = 'sending' AND (o.claim_expires <= $1 OR o.claimed_by IS NULL OR NOT "
		"EXISTS (SELECT 1 FROM leases l WHERE l.holder = o.claimed_by AND l.expires_at > $1))) "
		"ORDER BY o.id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " OUTBOX_COLS,
	[SQ_RESENDS] = "SELECT coalesce(sum(resends), 0) FROM outbox WHERE resends > 0",
};

const struct pg_part pg_lease_part = { "lease", sql, SQ_COUNT };

static const char *
name(int id, char buf[16])
{
	return pg_part_name(PG_PART_LEASE, (size_t)id, buf);
}

static int
lease_acquire(struct store *store, const char *lease, const char *holder, int64_t now,
	      int64_t ttl, char **current_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, lease);
	pg_text(&p, holder);
	pg_int(&p, now);
	pg_int(&p, ttl);
	int64_t n = pg_changes(pgs(store), name(SQ_ACQUIRE, buf), &p, "acquire lease", error_r);
	if (n < 0)
		return (int)n;
	if (n > 0)
		return 1;
	struct pg_params q = { 0 };
	pg_text(&q, lease);
	int ret;
	PGresult *res = pg_run(pgs(store), name(SQ_HOLDER, buf), &q, 0, "lease holder", &ret,
			       error_r);
	if (res == NULL)
		return ret;
	if (PQntuples(res) > 0)
		*current_r = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static int
lease_renew(struct store *store, const char *lease, const char *holder, int64_t now, int64_t ttl,
	    const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, lease);
	pg_text(&p, holder);
	pg_int(&p, now);
	pg_int(&p, ttl);
	int64_t n = pg_changes(pgs(store), name(SQ_RENEW, buf), &p, "renew lease", error_r);
	return n < 0 ? (int)n : n > 0;
}

/* A lease given up wakes the others (they take it over at once): with
   the caller's COMMIT inside a transaction, else in a NOTIFY of its own
   (a release is rare: once per hand-over or stop). */
static int
lease_release(struct store *store, const char *lease, const char *holder, const char **error_r)
{
	struct pg_store *s = pgs(store);
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, lease);
	pg_text(&p, holder);
	int64_t n = pg_changes(s, name(SQ_RELEASE, buf), &p, "release lease", error_r);
	if (n <= 0)
		return n < 0 ? (int)n : STORE_OK;
	if (s->base.in_txn) {
		s->wake_pending |= STORE_WAKE_LEASE;
		return STORE_OK;
	}
	const char *ignored;
	(void)pg_simple(s, "NOTIFY " PG_WAKE_CHANNEL ", 'lease'", "wake", &ignored);
	return STORE_OK;
}

static int
lease_list(struct store *store, void **rows_r, size_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	return pg_rows(pgs(store), name(SQ_LIST, buf), &p, &store_record_lease, "list leases",
		       rows_r, count_r, error_r);
}

/* One UPDATE ... RETURNING over the rows FOR UPDATE SKIP LOCKED chose, in
   a transaction of its own (committed before the mail goes out). The same
   statement marks them in flight (status 'sending', attempts + 1): one
   commit, not two (issue 18). */
static int
outbox_claim(struct store *store, const char *holder, int64_t now, int64_t claim_until,
	     size_t limit, void **rows_r, size_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_int(&p, now);
	pg_text(&p, holder);
	pg_int(&p, claim_until);
	pg_limit(&p, limit);
	int ret = store->driver->begin(store, error_r);
	if (ret < 0)
		return ret;
	ret = pg_rows(pgs(store), name(SQ_CLAIM, buf), &p, &store_record_outbox, "claim outbox",
		      rows_r, count_r, error_r);
	if (ret == STORE_OK)
		ret = store->driver->commit(store, error_r);
	else
		store->driver->rollback(store);
	if (ret < 0 && *rows_r != NULL) {
		store_records_free(&store_record_outbox, *rows_r, *count_r);
		*rows_r = NULL;
		*count_r = 0;
	}
	return ret;
}

static int
outbox_resends(struct store *store, int64_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	int ret = pg_int_row(pgs(store), name(SQ_RESENDS, buf), &p, count_r, "count resends",
			     error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
wake_notify(struct store *store, const char *channel, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int w = strcmp(channel, "lease") == 0 ? STORE_WAKE_LEASE : STORE_WAKE_OUTBOX;
	if (s->base.in_txn) {
		s->wake_pending |= w;
		return 1;
	}
	int ret = pg_ensure_conn(s, error_r);
	if (ret == STORE_OK)
		ret = pg_simple(s,
				w == STORE_WAKE_LEASE ? "NOTIFY " PG_WAKE_CHANNEL ", 'lease'"
						      : "NOTIFY " PG_WAKE_CHANNEL ", 'outbox'",
				"wake", error_r);
	return ret < 0 ? ret : 1;
}

static int
wake_listen(struct store *store, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int ret = pg_ensure_conn(s, error_r);
	if (ret < 0)
		return ret;
	if (!s->listening &&
	    (ret = pg_simple(s, "LISTEN " PG_WAKE_CHANNEL, "listen", error_r)) < 0)
		return ret;
	s->listening = 1;
	return 1;
}

static int
wake_fd(struct store *store)
{
	struct pg_store *s = pgs(store);
	if (!s->listening || PQstatus(s->conn) != CONNECTION_OK)
		return -1;
	return PQsocket(s->conn);
}

/* Notifications read with the answers of other statements wait in
   libpq's queue (PQnotifies); PQconsumeInput reads what the socket has,
   only between statements (never while a report streams rows). */
static int
wake_take(struct store *store)
{
	struct pg_store *s = pgs(store);
	int w = 0;
	if (!s->listening || PQstatus(s->conn) != CONNECTION_OK)
		return 0;
	if (!s->streaming && !PQisBusy(s->conn))
		(void)PQconsumeInput(s->conn); /* a failure shows at the next statement */
	PGnotify *n;
	while ((n = PQnotifies(s->conn)) != NULL) {
		if (strcmp(n->extra, "outbox") == 0)
			w |= STORE_WAKE_OUTBOX;
		else if (strcmp(n->extra, "lease") == 0)
			w |= STORE_WAKE_LEASE;
		else
			w |= STORE_WAKE_OUTBOX | STORE_WAKE_LEASE;
		PQfreemem(n);
	}
	return w;
}

const struct store_lease_driver store_pg_lease_driver = {
	.acquire = lease_acquire,
	.renew = lease_renew,
	.release = lease_release,
	.list = lease_list,
	.outbox_claim = outbox_claim,
	.outbox_resends = outbox_resends,
	.wake_notify = wake_notify,
	.wake_listen = wake_listen,
	.wake_fd = wake_fd,
	.wake_take = wake_take,
};
