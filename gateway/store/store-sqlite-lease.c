/*
 * store-sqlite-lease: leases and outbox claims of the SQLite driver
 * (store-lease.h; the leases table and the outbox claim columns of
 * migration 11). Several `deskgate run` on one host can share one SQLite
 * file: SQLite has one writer at a time, so an acquire, a renew or a claim
 * is one statement under the write lock and two gateways never both win.
 * No wake: SQLite has no LISTEN/NOTIFY, the gateways poll.
 */
#include "build-config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-lease-driver.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sqlite-sql.h"
#include "gateway/store/store-sqlite.h"

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
	/* free, expired or already ours: ours until ?3 + ?4 (acquired_at kept
	   on a renewal) */
	[SQ_ACQUIRE] = "INSERT INTO leases (name, holder, acquired_at, expires_at) "
		       "VALUES (?1, ?2, ?3, ?3 + ?4) ON CONFLICT (name) DO UPDATE SET "
		       "acquired_at = CASE WHEN holder = excluded.holder THEN acquired_at "
		       "ELSE excluded.acquired_at END, "
		       "holder = excluded.holder, expires_at = excluded.expires_at "
		       "WHERE holder = excluded.holder OR expires_at <= excluded.acquired_at",
	[SQ_HOLDER] = "SELECT holder FROM leases WHERE name = ?1",
	[SQ_RENEW] = "UPDATE leases SET expires_at = ?3 + ?4 "
		     "WHERE name = ?1 AND holder = ?2 AND expires_at > ?3",
	[SQ_RELEASE] = "DELETE FROM leases WHERE (?1 IS NULL OR name = ?1) AND holder = ?2",
	[SQ_LIST] = "SELECT name, holder, acquired_at, expires_at FROM leases ORDER BY name",
	/* outbox_due gives the queued rows; the rows in flight are few */
	[SQ_CLAIM] =
		"UPDATE outbox SET resends = resends + (status = 'sending'), status = 'sending', "
		"attempts = attempts + 1, claimed_by = ?2, claim_expires = ?3 WHERE id IN (SELECT id FROM outbox o "
		"WHERE (o.status = 'queued' AND o.next_attempt_at <= ?1) OR (o.status = 'sending' "
		"AND (o.claim_expires <= ?1 OR o.claimed_by IS NULL OR NOT EXISTS "
		"(SELECT 1 FROM leases l WHERE l.holder = o.claimed_by AND l.expires_at > ?1))) "
		"ORDER BY o.id LIMIT ?4) RETURNING " OUTBOX_COLS,
	[SQ_RESENDS] = "SELECT coalesce(sum(resends), 0) FROM outbox WHERE resends > 0",
};

const struct sqlite_part sqlite_lease_part = { sql, SQ_COUNT };

static sqlite3_stmt *
st(struct sqlite_store *s, int id)
{
	return part_stmt(s, SQLITE_PART_LEASE, (size_t)id);
}

static int
lease_acquire(struct store *store, const char *name, const char *holder, int64_t now, int64_t ttl,
	      char **current_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_ACQUIRE);
	int ret = stmt_run(s, q,
			   BINDS(bind_text(q, 1, name), bind_text(q, 2, holder), bind_int(q, 3, now),
				 bind_int(q, 4, ttl)),
			   "acquire lease", error_r);
	if (ret < 0)
		return ret;
	if (sqlite3_changes(s->db) > 0)
		return 1;
	q = st(s, SQ_HOLDER);
	ret = bind_ok(q, bind_text(q, 1, name), "lease holder", error_r);
	if (ret < 0 || (ret = stmt_row(s, q, "lease holder", error_r)) < 0)
		return ret;
	if (ret == 1) {
		const unsigned char *h = sqlite3_column_text(q, 0);
		*current_r = xstrdup(h != NULL ? (const char *)h : "");
		stmt_done(q);
	}
	return 0;
}

static int
lease_renew(struct store *store, const char *name, const char *holder, int64_t now, int64_t ttl,
	    const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_RENEW);
	int ret = stmt_run(s, q,
			   BINDS(bind_text(q, 1, name), bind_text(q, 2, holder), bind_int(q, 3, now),
				 bind_int(q, 4, ttl)),
			   "renew lease", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

static int
lease_release(struct store *store, const char *name, const char *holder, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_RELEASE);
	return stmt_run(s, q, BINDS(bind_text(q, 1, name), bind_text(q, 2, holder)),
			"release lease", error_r);
}

static int
lease_list(struct store *store, void **rows_r, size_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	return read_rows(s, st(s, SQ_LIST), &store_record_lease, "list leases", rows_r, count_r,
			 error_r);
}

/* One UPDATE ... RETURNING inside BEGIN IMMEDIATE: the rows are chosen and
   claimed under the write lock, so another gateway's claim waits for this
   one and then finds them taken. The same statement marks them in flight
   (status 'sending', attempts + 1): one commit, not two (issue 18). */
static int
outbox_claim(struct store *store, const char *holder, int64_t now, int64_t claim_until,
	     size_t limit, void **rows_r, size_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_CLAIM);
	int ret = store->driver->begin(store, error_r);
	if (ret < 0)
		return ret;
	ret = bind_ok(q,
		      BINDS(bind_int(q, 1, now), bind_text(q, 2, holder), bind_int(q, 3, claim_until),
			    bind_limit(q, 4, limit)),
		      "claim outbox", error_r);
	if (ret == STORE_OK)
		ret = read_rows(s, q, &store_record_outbox, "claim outbox", rows_r, count_r, error_r);
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
	struct sqlite_store *s = sq(store);
	int ret = stmt_int(s, st(s, SQ_RESENDS), count_r, "count resends", error_r);
	return ret < 0 ? ret : STORE_OK;
}

const struct store_lease_driver store_sqlite_lease_driver = {
	.acquire = lease_acquire,
	.renew = lease_renew,
	.release = lease_release,
	.list = lease_list,
	.outbox_claim = outbox_claim,
	.outbox_resends = outbox_resends,
	.wake_notify = NULL,
};
