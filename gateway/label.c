/*
 * label: see label.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/label.h"
#include "gateway/rules.h"
#include "gateway/store/store-label.h"

/* The rules' category in the ticket's "classified" event, copied into
   out; 0 when there is none. */
static int
classified_category(struct store *store, int64_t ticket_id, char *out, size_t size,
		    const char **error_r)
{
	struct store_event *ev;
	size_t n;
	int ret = store_event_list(store, ticket_id, &ev, &n, error_r);
	if (ret < 0)
		return ret;
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		struct rules_verdict v;
		if (strcmp(ev[i].kind, "classified") == 0 && ev[i].detail != NULL &&
		    rules_verdict_parse(ev[i].detail, &v) == 0) {
			snprintf(out, size, "%s", v.category);
			found = 1;
		}
	}
	store_events_free(&ev, n);
	return found;
}

/* The names of the rules that fired on the ticket, space-separated, each
   once (caller frees), or NULL. */
static char *
fired_rules(struct store *store, int64_t ticket_id, int *ret_r, const char **error_r)
{
	struct store_field *hits;
	size_t n;
	*ret_r = store_rule_hit_list(store, ticket_id, &hits, &n, error_r);
	if (*ret_r < 0 || n == 0)
		return NULL;
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(hits[k].name, hits[i].name) == 0;
		if (!seen && buf_printf(&b, "%s%s", b.len > 0 ? " " : "", hits[i].name) < 0)
			break; /* a very long list is cut at a whole name */
	}
	store_fields_free(&hits, n);
	return buf_steal(&b, NULL);
}

int
label_classified_message(struct store *store, int64_t ticket_id, struct store_message **msgs_r,
			 size_t *count_r, const struct store_message **m_r, const char **error_r)
{
	*m_r = NULL;
	int ret = store_message_list(store, ticket_id, msgs_r, count_r, error_r);
	for (size_t i = 0; ret >= 0 && i < *count_r && *m_r == NULL; i++)
		if ((*msgs_r)[i].direction != NULL && strcmp((*msgs_r)[i].direction, "in") == 0)
			*m_r = &(*msgs_r)[i];
	return ret < 0 ? ret : 0;
}

int
label_record(struct store *store, const struct store_ticket *t, const char *before,
	     const char *agent, const char **error_r)
{
	struct store_message *msgs;
	size_t n;
	const struct store_message *m;
	int ret = label_classified_message(store, t->id, &msgs, &n, &m, error_r);
	if (ret < 0)
		return ret;
	if (m == NULL) {
		store_messages_free(&msgs, n);
		return 0;
	}
	char verdict[RULES_VERDICT_NAME];
	int classified = classified_category(store, t->id, verdict, sizeof(verdict), error_r);
	char *rules = NULL;
	ret = classified;
	if (classified >= 0)
		rules = fired_rules(store, t->id, &ret, error_r);
	if (ret >= 0) {
		const struct store_label l = {
			.ticket_id = t->id,
			.message_row_id = m->id,
			.label = t->category,
			.verdict = classified > 0 ? verdict : before,
			.rules = rules,
			.agent = agent,
			.subject = m->subject,
			.text = m->text,
		};
		ret = store_label_add(store, &l, NULL, error_r);
	}
	free(rules);
	store_messages_free(&msgs, n);
	return ret < 0 ? ret : 0;
}

/* By ticket, then in the order the labels were given. */
static int
by_ticket(const void *a, const void *b)
{
	const struct store_label *x = a, *y = b;
	if (x->ticket_id != y->ticket_id)
		return (x->ticket_id > y->ticket_id) - (x->ticket_id < y->ticket_id);
	return (x->id > y->id) - (x->id < y->id);
}

int
label_examples_load(struct store *store, int64_t since, struct label_example **examples_r,
		    size_t *count_r, const char **error_r)
{
	struct store_label *labels;
	size_t n;
	*examples_r = NULL;
	*count_r = 0;
	int ret = store_label_list(store, since, &labels, &n, error_r);
	if (ret < 0)
		return ret;
	if (n == 0)
		return 0;
	qsort(labels, n, sizeof(*labels), by_ticket);
	struct label_example *ex = xcalloc(n, sizeof(*ex));
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_label *l = &labels[i];
		if (i + 1 < n && labels[i + 1].ticket_id == l->ticket_id)
			continue; /* a later label of the same ticket replaces this one */
		struct label_example *e = &ex[count++];
		e->ticket_id = l->ticket_id;
		e->label = xstrdup(l->label);
		e->verdict = l->verdict != NULL ? xstrdup(l->verdict) : NULL;
		e->subject = l->subject != NULL ? xstrdup(l->subject) : NULL;
		e->text = xstrdup(l->text != NULL ? l->text : "");
		e->created_at = l->created_at;
	}
	store_labels_free(&labels, n);
	*examples_r = ex;
	*count_r = count;
	return 0;
}

void
label_examples_free(struct label_example **examplesp, size_t count)
{
	struct label_example *ex = *examplesp;
	for (size_t i = 0; ex != NULL && i < count; i++) {
		free(ex[i].label);
		free(ex[i].verdict);
		free(ex[i].subject);
		free(ex[i].text);
	}
	free(ex);
	*examplesp = NULL;
}
