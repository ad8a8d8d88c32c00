/* confusion: see confusion.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/confusion.h"
#include "gateway/jsonout.h"
#include "base/util.h"

struct confusion {
	char **names;	/* in the order first seen */
	size_t n;
	size_t *counts; /* counts[label * CONFUSION_MAX_CATEGORIES + predicted] */
	size_t *order;	/* order[i]: the i-th name in byte order */
	size_t rows;
};

struct confusion *
confusion_new(void)
{
	struct confusion *c = xcalloc(1, sizeof(*c));
	c->names = xcalloc(CONFUSION_MAX_CATEGORIES, sizeof(*c->names));
	c->order = xcalloc(CONFUSION_MAX_CATEGORIES, sizeof(*c->order));
	return c;
}

void
confusion_free(struct confusion **cp)
{
	struct confusion *c = *cp;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->order);
	free(c->counts);
	free(c);
	*cp = NULL;
}

/* The index of name (first seen order), added when new; -1 when full. */
static int
name_index(struct confusion *c, const char *name, int add)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->names[i], name) == 0)
			return (int)i;
	if (!add || c->n >= CONFUSION_MAX_CATEGORIES)
		return -1;
	c->names[c->n] = xstrdup(name);
	/* Keep order[] sorted by name (a few categories: insertion). */
	size_t j = c->n;
	while (j > 0 && strcmp(c->names[c->order[j - 1]], name) > 0) {
		c->order[j] = c->order[j - 1];
		j--;
	}
	c->order[j] = c->n;
	return (int)c->n++;
}

int
confusion_add(struct confusion *c, const char *label, const char *predicted)
{
	size_t needed = (name_index(c, label, 0) < 0) +
			(strcmp(label, predicted) != 0 && name_index(c, predicted, 0) < 0);
	if (c->n + needed > CONFUSION_MAX_CATEGORIES)
		return -1;
	int g = name_index(c, label, 1), p = name_index(c, predicted, 1);
	if (c->counts == NULL)
		c->counts = xcalloc((size_t)CONFUSION_MAX_CATEGORIES * CONFUSION_MAX_CATEGORIES,
				    sizeof(*c->counts));
	c->counts[(size_t)g * CONFUSION_MAX_CATEGORIES + (size_t)p]++;
	c->rows++;
	return 0;
}

size_t
confusion_rows(const struct confusion *c)
{
	return c->rows;
}

size_t
confusion_size(const struct confusion *c)
{
	return c->n;
}

const char *
confusion_name(const struct confusion *c, size_t i)
{
	return i < c->n ? c->names[c->order[i]] : NULL;
}

/* By first-seen indices. */
static size_t
raw_count(const struct confusion *c, size_t g, size_t p)
{
	return c->counts != NULL ? c->counts[g * CONFUSION_MAX_CATEGORIES + p] : 0;
}

size_t
confusion_count(const struct confusion *c, size_t label, size_t predicted)
{
	if (label >= c->n || predicted >= c->n)
		return 0;
	return raw_count(c, c->order[label], c->order[predicted]);
}

void
confusion_metrics(const struct confusion *c, size_t i, struct confusion_metrics *m)
{
	memset(m, 0, sizeof(*m));
	if (i >= c->n)
		return;
	size_t k = c->order[i];
	m->tp = raw_count(c, k, k);
	for (size_t j = 0; j < c->n; j++) {
		m->support += raw_count(c, k, j);
		m->predicted += raw_count(c, j, k);
	}
	m->precision = m->predicted > 0 ? (double)m->tp / (double)m->predicted : 0.0;
	m->recall = m->support > 0 ? (double)m->tp / (double)m->support : 0.0;
	m->f1 = m->precision + m->recall > 0
			? 2 * m->precision * m->recall / (m->precision + m->recall)
			: 0.0;
}

double
confusion_macro_f1(const struct confusion *c, size_t *labelled_r)
{
	double sum = 0;
	size_t labelled = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct confusion_metrics m;
		confusion_metrics(c, i, &m);
		if (m.support > 0) {
			sum += m.f1;
			labelled++;
		}
	}
	if (labelled_r != NULL)
		*labelled_r = labelled;
	return labelled > 0 ? sum / (double)labelled : 0.0;
}

double
confusion_accuracy(const struct confusion *c)
{
	size_t correct = 0;
	for (size_t i = 0; i < c->n; i++)
		correct += raw_count(c, i, i);
	return c->rows > 0 ? (double)correct / (double)c->rows : 0.0;
}

struct jsonout *
confusion_json(const struct confusion *c)
{
	struct jsonout *o = jsonout_object(), *per = jsonout_object(), *conf = jsonout_object();
	for (size_t i = 0; i < c->n; i++) {
		struct confusion_metrics m;
		struct jsonout *cat = jsonout_object(), *row = jsonout_object();
		confusion_metrics(c, i, &m);
		jsonout_set_real(cat, "precision", m.precision);
		jsonout_set_real(cat, "recall", m.recall);
		jsonout_set_real(cat, "f1", m.f1);
		jsonout_set_int(cat, "support", (int64_t)m.support);
		jsonout_set(per, confusion_name(c, i), cat);
		for (size_t j = 0; j < c->n; j++)
			jsonout_set_int(row, confusion_name(c, j), (int64_t)confusion_count(c, i, j));
		jsonout_set(conf, confusion_name(c, i), row);
	}
	jsonout_set(o, "per_category", per);
	jsonout_set_real(o, "macro_f1", confusion_macro_f1(c, NULL));
	jsonout_set(o, "confusion", conf);
	return o;
}
