/*
 * hold: see hold.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/hold.h"
#include "gateway/store.h"
#include "base/util.h"

#define HOLD_FIELD STORE_FIELD_HELD_REPLY
/* After the row number in the field: a collision hold ("123 collision");
   a bare number is the guard's (as older releases wrote it). */
#define COLLISION_MARK " collision"

int
hold_put(struct store *store, int64_t ticket_id, int64_t message_row_id, enum hold_kind kind,
	 const char *why, const char *by, const char **error_r)
{
	char row[48];
	snprintf(row, sizeof(row), "%lld%s", (long long)message_row_id,
		 kind == HOLD_COLLISION ? COLLISION_MARK : "");
	int ret = store_ticket_field_set(store, ticket_id, HOLD_FIELD, row, error_r);
	if (ret < 0)
		return ret;
	return store_event_addf(store, ticket_id, "held", error_r,
				"reply by %s (message %lld) held, not sent: %s; %s", by,
				(long long)message_row_id, why,
				kind == HOLD_COLLISION
					? "its author's or a supervisor's #send-anyway releases it"
					: "a supervisor's #send-anyway releases it");
}

int
hold_get(struct store *store, int64_t ticket_id, int64_t *message_row_id_r,
	 const char **error_r)
{
	enum hold_kind kind;
	return hold_get_kind(store, ticket_id, message_row_id_r, &kind, error_r);
}

int
hold_get_kind(struct store *store, int64_t ticket_id, int64_t *message_row_id_r,
	      enum hold_kind *kind_r, const char **error_r)
{
	struct store_field *fields = NULL;
	size_t n = 0;
	*message_row_id_r = 0;
	*kind_r = HOLD_GUARD;
	int ret = store_ticket_field_list(store, ticket_id, &fields, &n, error_r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].name, HOLD_FIELD) != 0)
			continue;
		char *end;
		long long v = strtoll(fields[i].value, &end, 10);
		int collision = strcmp(end, COLLISION_MARK) == 0;
		if ((*end == '\0' || collision) && v > 0) {
			*message_row_id_r = v;
			*kind_r = collision ? HOLD_COLLISION : HOLD_GUARD;
		}
	}
	store_fields_free(&fields, n);
	return *message_row_id_r > 0 ? 1 : 0;
}

int
hold_release(struct store *store, int64_t ticket_id, const char *by, int64_t outbox_id,
	     const char **error_r)
{
	int64_t row;
	int ret = hold_get(store, ticket_id, &row, error_r);
	if (ret <= 0)
		return ret;
	if ((ret = store_ticket_field_set(store, ticket_id, HOLD_FIELD, "", error_r)) < 0)
		return ret;
	return store_event_addf(store, ticket_id, "released", error_r,
				"held reply (message %lld) released by %s with #send-anyway: sent "
				"as outbox #%lld",
				(long long)row, by, (long long)outbox_id);
}
