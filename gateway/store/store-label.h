/*
 * store-label: labelled examples in the store (issue 16). Every time an
 * agent sets a ticket's category with `#category X`, the customer's
 * message that the rules classified is kept with the agent's label and
 * the rules' verdict, so that `deskgate rules eval --from-store` scores
 * the current rules against the agents and `deskgate rules suggest` mines
 * the corrections for patterns. A copy of the message's subject and text
 * is kept with the label: the example stays usable when the raw mail is
 * purged, and the example is what the agent saw.
 *
 * Results, transactions and ownership as in store.h: a list is owned by
 * the caller and freed with store_labels_free().
 */
#ifndef DG_STORE_LABEL_H
#define DG_STORE_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store.h"

struct store_label {
	int64_t id;
	int64_t ticket_id;
	int64_t message_row_id; /* the customer message classified; 0: none */
	const char *label;	/* the agent's category (never NULL or empty) */
	const char *verdict;	/* the rules' category for that message, or NULL */
	const char *rules;	/* the rules that fired, space-separated, or NULL */
	const char *agent;	/* who set the label, or NULL */
	const char *subject;	/* the message's subject, or NULL */
	const char *text;	/* the message's text ("" when there is none) */
	int64_t created_at;	/* 0 in an input record: now */
};

/* Keep one labelled example (the record is borrowed); *id_r may be NULL.
   STORE_DATA_BAD for an empty label or no such ticket. */
int store_label_add(struct store *store, const struct store_label *label, int64_t *id_r,
		    const char **error_r);
/* The examples labelled at or after since (0: all), oldest first. */
int store_label_list(struct store *store, int64_t since, struct store_label **labels_r,
		     size_t *count_r, const char **error_r);
void store_labels_free(struct store_label **labelsp, size_t count);

#endif
