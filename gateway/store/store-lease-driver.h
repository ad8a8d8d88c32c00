/*
 * store-lease-driver: the operations a driver provides for store-lease.h,
 * private to gateway/store/ (store_driver.lease points to them). The
 * dispatcher (store-lease.c) checks arguments first; results are graded
 * as in store-driver.h.
 */
#ifndef DG_STORE_LEASE_DRIVER_H
#define DG_STORE_LEASE_DRIVER_H

#include "gateway/store/store-driver.h"
#include "gateway/store/store-lease.h"

extern const struct store_record store_record_lease;

struct store_lease_driver {
	int (*acquire)(struct store *store, const char *name, const char *holder, int64_t now,
		       int64_t ttl, char **current_r, const char **error_r);
	int (*renew)(struct store *store, const char *name, const char *holder, int64_t now,
		     int64_t ttl, const char **error_r);
	int (*release)(struct store *store, const char *name, const char *holder,
		       const char **error_r);
	/* records of store_record_lease */
	int (*list)(struct store *store, void **rows_r, size_t *count_r, const char **error_r);
	/* records of store_record_outbox, in any order (the dispatcher sorts) */
	int (*outbox_claim)(struct store *store, const char *holder, int64_t now,
			    int64_t claim_until, size_t limit, void **rows_r, size_t *count_r,
			    const char **error_r);
	int (*outbox_resends)(struct store *store, int64_t *count_r, const char **error_r);
	/* NULL: no wake (SQLite) */
	int (*wake_notify)(struct store *store, const char *channel, const char **error_r);
	int (*wake_listen)(struct store *store, const char **error_r);
	int (*wake_fd)(struct store *store);
	int (*wake_take)(struct store *store);
};

extern const struct store_lease_driver store_sqlite_lease_driver;
extern const struct store_lease_driver store_pg_lease_driver;

#endif
