/*
 * test-confusion: counts, per-category precision, recall and F1 against
 * numbers worked out by hand, the macro-F1 over labelled categories only,
 * name order, the JSON shape, and the category limit.
 */
#include "build-config.h"

#include <math.h>

#include "gateway/confusion.h"
#include "gateway/jsonout.h"
#include "base/util.h"
#include "tests/unit/test.h"

static int
close_to(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void
test_metrics(void)
{
	/* label -> predicted: 3 x a->a, 1 x a->b, 1 x b->b, 2 x b->a, 1 x c->b,
	   and one prediction "zz" that is never a label. */
	static const char *const rows[][2] = {
		{ "a", "a" }, { "a", "a" }, { "a", "a" }, { "a", "b" }, { "b", "b" },
		{ "b", "a" }, { "b", "a" }, { "c", "b" }, { "c", "zz" },
	};
	test_begin("confusion: counts and metrics worked out by hand");
	struct confusion *c = confusion_new();
	for (size_t i = 0; i < N_ELEMENTS(rows); i++)
		test_assert(confusion_add(c, rows[i][0], rows[i][1]) == 0);
	test_assert_int(confusion_rows(c), 9);
	test_assert_int(confusion_size(c), 4);
	test_assert_str(confusion_name(c, 0), "a");
	test_assert_str(confusion_name(c, 3), "zz");
	test_assert(confusion_name(c, 4) == NULL);
	test_assert_int(confusion_count(c, 0, 0), 3);
	test_assert_int(confusion_count(c, 1, 0), 2);
	test_assert_int(confusion_count(c, 2, 3), 1);
	struct confusion_metrics m;
	confusion_metrics(c, 0, &m); /* a: tp 3, support 4, predicted 5 */
	test_assert(m.tp == 3 && m.support == 4 && m.predicted == 5);
	test_assert(close_to(m.precision, 0.6) && close_to(m.recall, 0.75));
	test_assert(close_to(m.f1, 2 * 0.6 * 0.75 / 1.35));
	confusion_metrics(c, 2, &m); /* c: never predicted */
	test_assert(m.tp == 0 && m.support == 2 && m.predicted == 0 && m.f1 == 0.0);
	confusion_metrics(c, 3, &m); /* zz: not a label */
	test_assert(m.support == 0 && m.predicted == 1);
	size_t labelled;
	double macro = confusion_macro_f1(c, &labelled);
	test_assert_int(labelled, 3);
	/* b: tp 1, support 3, predicted 3: p = r = 1/3 */
	test_assert(close_to(macro, (2 * 0.6 * 0.75 / 1.35 + 1.0 / 3 + 0) / 3));
	test_assert(close_to(confusion_accuracy(c), 4.0 / 9));

	test_begin("confusion: JSON shape");
	struct jsonout *j = confusion_json(c);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	test_assert(jsonout_print(j, mem) == 0);
	fclose(mem);
	test_assert(strstr(text, "\"per_category\"") != NULL);
	test_assert(strstr(text, "\"macro_f1\"") != NULL);
	test_assert(strstr(text, "\"confusion\"") != NULL);
	free(text);
	jsonout_free(&j);
	confusion_free(&c);
	test_assert(c == NULL);
}

static void
test_limit(void)
{
	test_begin("confusion: at most CONFUSION_MAX_CATEGORIES categories");
	struct confusion *c = confusion_new();
	char name[32];
	for (int i = 0; i < CONFUSION_MAX_CATEGORIES - 1; i++) {
		snprintf(name, sizeof(name), "c%03d", i);
		test_assert(confusion_add(c, name, name) == 0);
	}
	/* One more fits; two new names at once do not, and nothing is counted. */
	test_assert(confusion_add(c, "new1", "new2") == -1);
	test_assert_int(confusion_size(c), CONFUSION_MAX_CATEGORIES - 1);
	test_assert(confusion_add(c, "new1", "c000") == 0);
	test_assert(confusion_add(c, "c001", "new3") == -1);
	test_assert_int(confusion_size(c), CONFUSION_MAX_CATEGORIES);
	test_assert_int(confusion_rows(c), CONFUSION_MAX_CATEGORIES);
	confusion_free(&c);
}

int
main(void)
{
	test_metrics();
	test_limit();
	return test_exit();
}
