/*
 * store-lease: the dispatcher of store-lease.h (see store.c for the rest):
 * checks arguments and calls the driver's store_lease_driver; the record
 * type of a lease. No SQL here.
 */
#include "build-config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-lease-driver.h"
#include "gateway/store/store-record.h"

static const struct store_col lease_cols[] = {
	COL(TEXT, store_lease, name),
	COL(TEXT, store_lease, holder),
	COL(INT64, store_lease, acquired_at),
	COL(INT64, store_lease, expires_at),
};
RECORD(store_record_lease, store_lease, lease_cols);

FREE_LIST(store_leases_free, store_lease, store_record_lease)

static const struct store_lease_driver *
drv(struct store *store)
{
	return store->driver->lease;
}

static int
check(const char *what, const char *name, const char *holder, int64_t ttl, const char **error_r)
{
	if ((name != NULL && name[0] == '\0') || holder == NULL || holder[0] == '\0' || ttl < 0) {
		*error_r = errf("store: %s: no lease name or holder, or a negative time", what);
		return STORE_DATA_BAD;
	}
	return STORE_OK;
}

int
store_lease_acquire(struct store *store, const char *name, const char *holder, int64_t now,
		    int64_t ttl, char **current_r, const char **error_r)
{
	if (current_r != NULL)
		*current_r = NULL;
	int ret = check("acquire lease", name == NULL ? "" : name, holder, ttl, error_r);
	if (ret < 0)
		return ret;
	char *current = NULL;
	ret = drv(store)->acquire(store, name, holder, now, ttl, &current, error_r);
	if (ret == 0 && current_r != NULL)
		*current_r = current;
	else
		free(current);
	return ret;
}

int
store_lease_renew(struct store *store, const char *name, const char *holder, int64_t now,
		  int64_t ttl, const char **error_r)
{
	int ret = check("renew lease", name == NULL ? "" : name, holder, ttl, error_r);
	return ret < 0 ? ret : drv(store)->renew(store, name, holder, now, ttl, error_r);
}

int
store_lease_release(struct store *store, const char *name, const char *holder,
		    const char **error_r)
{
	int ret = check("release lease", name, holder, 0, error_r);
	return ret < 0 ? ret : drv(store)->release(store, name, holder, error_r);
}

int
store_lease_list(struct store *store, struct store_lease **list_r, size_t *count_r,
		 const char **error_r)
{
	void *rows = NULL;
	size_t n = 0;
	int ret = drv(store)->list(store, &rows, &n, error_r);
	if (ret < 0) {
		store_records_free(&store_record_lease, rows, n);
		rows = NULL;
		n = 0;
	}
	*list_r = rows;
	*count_r = n;
	return ret;
}

static int
cmp_outbox_id(const void *a, const void *b)
{
	const struct store_outbox *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

int
store_outbox_claim(struct store *store, const char *holder, int64_t now, int64_t claim_until,
		   size_t limit, struct store_outbox **list_r, size_t *count_r,
		   const char **error_r)
{
	void *rows = NULL;
	size_t n = 0;
	*list_r = NULL;
	*count_r = 0;
	int ret = check("claim outbox", NULL, holder, claim_until - now, error_r);
	if (ret < 0)
		return ret;
	if (store->in_txn) {
		/* the claim must be visible to the other gateways at once */
		*error_r = "store: claim outbox: inside a transaction";
		return STORE_UNAVAILABLE;
	}
	ret = drv(store)->outbox_claim(store, holder, now, claim_until, limit, &rows, &n, error_r);
	if (ret < 0) {
		store_records_free(&store_record_outbox, rows, n);
		return ret;
	}
	/* RETURNING gives the attempts the claim counted; the caller gets them
	   as they were before it (what put_back() restores, what send_one()
	   counts from), the same for both drivers */
	struct store_outbox *o = rows;
	for (size_t i = 0; i < n; i++)
		o[i].attempts--;
	if (n > 1)
		qsort(rows, n, sizeof(struct store_outbox), cmp_outbox_id);
	*list_r = rows;
	*count_r = n;
	return STORE_OK;
}

int
store_outbox_resends(struct store *store, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return drv(store)->outbox_resends(store, count_r, error_r);
}

int
store_wake_notify(struct store *store, const char *channel, const char **error_r)
{
	if (drv(store)->wake_notify == NULL)
		return 0;
	return drv(store)->wake_notify(store, channel, error_r);
}

int
store_wake_listen(struct store *store, const char **error_r)
{
	if (drv(store)->wake_listen == NULL)
		return 0;
	return drv(store)->wake_listen(store, error_r);
}

int
store_wake_fd(struct store *store)
{
	return drv(store)->wake_fd == NULL ? -1 : drv(store)->wake_fd(store);
}

int
store_wake_take(struct store *store)
{
	return drv(store)->wake_take == NULL ? 0 : drv(store)->wake_take(store);
}
