/*
 * store-label: see store-label.h. The dispatcher's part for labelled
 * examples: arguments checked and defaults filled in here, then the
 * driver (store-driver.h: label_add, STORE_SELECT_LABELS). No SQL here.
 */
#include "build-config.h"

#include <stddef.h>
#include <time.h>

#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-label.h"
#include "gateway/store/store-record.h"

/* In the order of the drivers' SELECT lists (COL and RECORD: store-record.h). */
static const struct store_col label_cols[] = {
	COL(INT64, store_label, id),
	COL(INT64, store_label, ticket_id),
	COL(INT64, store_label, message_row_id),
	COL(TEXT, store_label, label),
	COL(TEXT, store_label, verdict),
	COL(TEXT, store_label, rules),
	COL(TEXT, store_label, agent),
	COL(TEXT, store_label, subject),
	COL(TEXT, store_label, text),
	COL(INT64, store_label, created_at),
};
RECORD(store_record_label, store_label, label_cols);

int
store_label_add(struct store *store, const struct store_label *label, int64_t *id_r,
		const char **error_r)
{
	if (label->label == NULL || label->label[0] == '\0' || label->ticket_id <= 0) {
		*error_r = errf("store: add label: %s",
				label->ticket_id <= 0 ? "no ticket" : "an empty label");
		return STORE_DATA_BAD;
	}
	struct store_label l = *label;
	if (l.text == NULL)
		l.text = "";
	if (l.created_at == 0)
		l.created_at = (int64_t)time(NULL);
	int64_t id = 0;
	int ret = store->driver->label_add(store, &l, &id, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = id;
	return ret;
}

int
store_label_list(struct store *store, int64_t since, struct store_label **labels_r,
		 size_t *count_r, const char **error_r)
{
	void *rows = NULL;
	size_t count = 0;
	const struct store_select_arg arg = { .id = since };
	int ret = store->driver->select(store, STORE_SELECT_LABELS, &arg, &rows, &count, error_r);
	if (ret < 0) {
		store_records_free(&store_record_label, rows, count);
		rows = NULL;
		count = 0;
	}
	*labels_r = rows;
	*count_r = count;
	return ret;
}

void
store_labels_free(struct store_label **labelsp, size_t count)
{
	store_records_free(&store_record_label, *labelsp, count);
	*labelsp = NULL;
}
