/*
 * store-merge-driver: the operations a driver provides for store-merge.h,
 * private to gateway/store/ (store_driver.merge points to them). The
 * dispatcher (store-merge.c) checks arguments first; results are graded
 * as in store-driver.h.
 */
#ifndef DG_STORE_MERGE_DRIVER_H
#define DG_STORE_MERGE_DRIVER_H

#include "gateway/store/store-driver.h"
#include "gateway/store/store-merge.h"

struct store_merge_driver {
	int (*merged_into)(struct store *store, int64_t id, int64_t *into_r,
			   const char **error_r);
	/* all or nothing; STORE_DATA_BAD when the tickets are not as
	   store-merge.h requires */
	int (*merge)(struct store *store, int64_t from, int64_t into, int64_t now,
		     const char **error_r);
};

extern const struct store_merge_driver store_sqlite_merge_driver;
extern const struct store_merge_driver store_pg_merge_driver;

#endif
