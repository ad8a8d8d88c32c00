/*
 * store-merge: the dispatcher of store-merge.h: checks arguments and calls
 * the driver's store_merge_driver. No SQL here.
 */
#include "build-config.h"

#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-merge-driver.h"

int
store_ticket_merged_into(struct store *store, int64_t id, int64_t *into_r, const char **error_r)
{
	*into_r = 0;
	if (id <= 0)
		return 0;
	return store->driver->merge->merged_into(store, id, into_r, error_r);
}

int
store_ticket_merged_end(struct store *store, int64_t id, int64_t *end_r, const char **error_r)
{
	*end_r = id;
	int64_t into = 0;
	int ret = store_ticket_merged_into(store, id, &into, error_r);
	for (int hops = 0; ret > 0 && into != 0 && hops < STORE_MERGE_MAX_HOPS; hops++) {
		*end_r = into;
		ret = store_ticket_merged_into(store, into, &into, error_r);
	}
	return ret < 0 ? ret : ret > 0 || *end_r != id;
}

int
store_ticket_merge(struct store *store, int64_t from, int64_t into, int64_t now,
		   const char **error_r)
{
	if (from <= 0 || into <= 0 || from == into) {
		*error_r = errf("store: merge ticket %lld into %lld: not two tickets",
				(long long)from, (long long)into);
		return STORE_DATA_BAD;
	}
	return store->driver->merge->merge(store, from, into, now, error_r);
}
