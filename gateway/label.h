/*
 * label: what agents teach the rules (issue 16). When an agent sets a
 * ticket's category with `#category X`, label_record() keeps the ticket's
 * first customer message with the agent's label and what the rules had
 * decided for it (store-label.h), in the agent's transaction. The labelled
 * examples are what `deskgate rules eval --from-store` scores the rules
 * against and what `deskgate rules suggest` (suggest.h) mines; nothing
 * here changes a rule.
 *
 * Ownership: label_examples_load() returns an array freed with
 * label_examples_free().
 */
#ifndef DG_LABEL_H
#define DG_LABEL_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_message;
struct store_ticket;

/* Keep the labelled example of ticket t, whose category an agent has just
   set to t->category (before: the category before the command, NULL when
   unknown). The rules' verdict is the one recorded when the ticket was
   classified (its "classified" event), else `before`. A ticket without a
   customer message gets no example (0). Store results as in store.h. */
int label_record(struct store *store, const struct store_ticket *t, const char *before,
		 const char *agent, const char **error_r);

/* The message of ticket ticket_id that the rules classified: its first
   customer message (*m_r points into *msgs_r, freed with
   store_messages_free(msgs, *count_r)), or *m_r NULL when it has none.
   Store results as in store.h. */
int label_classified_message(struct store *store, int64_t ticket_id,
			     struct store_message **msgs_r, size_t *count_r,
			     const struct store_message **m_r, const char **error_r);

/* One example: the latest label an agent gave a ticket. */
struct label_example {
	int64_t ticket_id;
	char *label;   /* the agent's category */
	char *verdict; /* what the rules said then, or NULL */
	char *subject; /* or NULL */
	char *text;
	int64_t created_at;
};

/* The examples labelled at or after since (0: all): one per ticket, the
   latest label (an agent who changes the category twice meant the second),
   ordered by ticket. */
int label_examples_load(struct store *store, int64_t since, struct label_example **examples_r,
			size_t *count_r, const char **error_r);
void label_examples_free(struct label_example **examplesp, size_t count);

#endif
