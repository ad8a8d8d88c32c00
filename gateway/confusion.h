/*
 * confusion: a confusion matrix of labels against predictions (categories
 * as strings), with precision, recall and F1 per category, the macro-F1
 * and the accuracy. Used by `deskgate rules eval` (the rules against a
 * labelled set) and meant for reports (the rules' category against the
 * one an agent set).
 *
 * Definitions: for category k, tp = rows labelled k and predicted k;
 * support = rows labelled k; predicted = rows predicted k; precision =
 * tp / predicted, recall = tp / support (0 when the divisor is 0), F1 their
 * harmonic mean. The macro-F1 is the mean F1 over the categories that
 * occur as labels (a category only ever predicted is left out).
 *
 * Ownership: confusion_new() returns a matrix freed with confusion_free();
 * confusion_json() returns a jsonout value the caller frees.
 */
#ifndef DG_CONFUSION_H
#define DG_CONFUSION_H

#include <stddef.h>

#define CONFUSION_MAX_CATEGORIES 256

struct confusion;
struct jsonout;

struct confusion_metrics {
	double precision, recall, f1;
	size_t support, predicted, tp;
};

struct confusion *confusion_new(void);
void confusion_free(struct confusion **cp);

/* Count one row; -1 when it would make more than CONFUSION_MAX_CATEGORIES
   categories (nothing counted). */
int confusion_add(struct confusion *c, const char *label, const char *predicted);
size_t confusion_rows(const struct confusion *c);
/* Categories seen, as label or prediction; index i < confusion_size() is
   in byte order of the names. */
size_t confusion_size(const struct confusion *c);
const char *confusion_name(const struct confusion *c, size_t i);
size_t confusion_count(const struct confusion *c, size_t label, size_t predicted);
void confusion_metrics(const struct confusion *c, size_t i, struct confusion_metrics *m);
/* The macro-F1 and, in *labelled_r when not NULL, over how many categories. */
double confusion_macro_f1(const struct confusion *c, size_t *labelled_r);
double confusion_accuracy(const struct confusion *c);

/* {"per_category": {NAME: {"precision", "recall", "f1", "support"}},
    "macro_f1": M, "confusion": {LABEL: {PREDICTED: COUNT}}} */
struct jsonout *confusion_json(const struct confusion *c);

#endif
