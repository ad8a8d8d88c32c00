/*
 * suggest: see suggest.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/label.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/suggest.h"
#include "parsers/phrase.h"

#define CANDIDATES_MAX 40 /* phrases tried per category */
#define PHRASES_PER_TEXT 4000

/* A message the candidates are tried on: a labelled example (gold set) or
   another stored ticket's first customer message. */
struct item {
	int64_t ticket_id;
	char *subject, *text;
	char *gold; /* the agent's category, NULL for an unlabelled ticket */
	char *now;  /* the current rules' category */
	struct rules_score *scores; /* the current rules' scores, in order */
	size_t n_scores;
	int stopped; /* a `stop` rule ended evaluation: no rule after it runs */
};

struct run {
	struct rules *rules;
	const struct suggest_options *o;
	const char *default_category;
	struct item *items;
	size_t n_items, n_examples; /* the examples come first */
};

static void
item_clear(struct item *it)
{
	free(it->subject);
	free(it->text);
	free(it->gold);
	free(it->now);
	for (size_t i = 0; i < it->n_scores; i++)
		free(it->scores[i].category);
	free(it->scores);
}

static void
item_classify(struct run *run, struct item *it)
{
	struct rules_input in;
	struct rules_result *res;
	rules_input_text(&in, it->subject, it->text);
	rules_classify(run->rules, &in, &res);
	it->now = xstrdup(res->category);
	it->stopped = res->stopped_by != NULL;
	it->n_scores = res->n_scores;
	it->scores = res->n_scores > 0 ? xcalloc(res->n_scores, sizeof(*it->scores)) : NULL;
	for (size_t i = 0; i < res->n_scores; i++) {
		it->scores[i].category = xstrdup(res->scores[i].category);
		it->scores[i].score = res->scores[i].score;
	}
	rules_result_free(&res);
}

/* The category the rules would give with weight more for category (a rule
   appended after the others), as rules-eval.c decides: the highest
   positive score, the first scored on a tie, else the default. */
static const char *
winner_with(const struct run *run, const struct item *it, const char *category, int weight)
{
	const char *winner = NULL;
	int best = 0, seen = 0;
	for (size_t i = 0; i < it->n_scores; i++) {
		int score = it->scores[i].score;
		if (strcmp(it->scores[i].category, category) == 0) {
			score += weight;
			seen = 1;
		}
		if (score > best) {
			best = score;
			winner = it->scores[i].category;
		}
	}
	if (!seen && weight > best)
		winner = category;
	return winner != NULL ? winner : run->default_category;
}

/* ---- loading ------------------------------------------------------------------ */

static int
load_items(struct store *store, struct run *run, const char **error_r)
{
	struct label_example *ex;
	size_t n_ex;
	int ret = label_examples_load(store, run->o->since, &ex, &n_ex, error_r);
	if (ret < 0)
		return ret;
	struct store_ticket *tickets = NULL;
	size_t n_t = 0;
	ret = store_ticket_list(store, run->o->ticket_limit, &tickets, &n_t, error_r);
	if (ret < 0) {
		label_examples_free(&ex, n_ex);
		return ret;
	}
	run->items = xcalloc(n_ex + n_t + 1, sizeof(*run->items));
	for (size_t i = 0; i < n_ex; i++) {
		struct item *it = &run->items[run->n_items++];
		it->ticket_id = ex[i].ticket_id;
		it->subject = ex[i].subject != NULL ? xstrdup(ex[i].subject) : NULL;
		it->text = xstrdup(ex[i].text);
		it->gold = xstrdup(ex[i].label);
		item_classify(run, it);
	}
	run->n_examples = run->n_items;
	label_examples_free(&ex, n_ex);
	/* The tickets without a label: their first customer message. */
	for (size_t k = 0; k < n_t && ret >= 0; k++) {
		int labelled = 0;
		for (size_t i = 0; i < run->n_examples && !labelled; i++)
			labelled = run->items[i].ticket_id == tickets[k].id;
		if (labelled)
			continue;
		struct store_message *msgs;
		const struct store_message *m;
		size_t n;
		ret = label_classified_message(store, tickets[k].id, &msgs, &n, &m, error_r);
		if (ret < 0)
			break;
		if (m != NULL) {
			struct item *it = &run->items[run->n_items++];
			it->ticket_id = tickets[k].id;
			it->subject = m->subject != NULL ? xstrdup(m->subject) : NULL;
			it->text = xstrdup(m->text != NULL ? m->text : "");
			item_classify(run, it);
		}
		store_messages_free(&msgs, n);
	}
	store_tickets_free(&tickets, n_t);
	return ret < 0 ? ret : 0;
}

/* ---- phrases of the missed corrections ---------------------------------------- */

struct phrase {
	char *s;
	enum phrase_script script;
	size_t support; /* missed corrections it occurs in */
};

struct phrases {
	struct phrase *v;
	size_t n, cap;
};

static int
add_phrase(void *context, const char *s, size_t len, enum phrase_script script)
{
	struct phrases *p = context;
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 256 : p->cap * 2;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n++] = (struct phrase){ xstrndup(s, len), script, 1 };
	return 0;
}

static int
by_text(const void *a, const void *b)
{
	return strcmp(((const struct phrase *)a)->s, ((const struct phrase *)b)->s);
}

/* Most supported first; then the longer (more specific) phrase, then by
   text, so that the order never depends on qsort. */
static int
by_support(const void *a, const void *b)
{
	const struct phrase *x = a, *y = b;
	if (x->support != y->support)
		return x->support < y->support ? 1 : -1;
	size_t lx = strlen(x->s), ly = strlen(y->s);
	if (lx != ly)
		return lx < ly ? 1 : -1;
	return strcmp(x->s, y->s);
}

/* Sort p and merge equal phrases, adding their support. */
static void
merge_phrases(struct phrases *p)
{
	if (p->n == 0)
		return;
	qsort(p->v, p->n, sizeof(*p->v), by_text);
	size_t w = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (w > 0 && strcmp(p->v[w - 1].s, p->v[i].s) == 0) {
			p->v[w - 1].support += p->v[i].support;
			free(p->v[i].s);
		} else {
			p->v[w++] = p->v[i];
		}
	}
	p->n = w;
}

static void
phrases_clear(struct phrases *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].s);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The phrases of the missed corrections to category, each counted once
   per mail, most supported first. */
static void
gather(const struct run *run, const char *category, struct phrases *all, size_t *missed_r)
{
	struct phrase_options po;
	phrase_options_default(&po);
	po.max_phrases = PHRASES_PER_TEXT;
	*missed_r = 0;
	for (size_t i = 0; i < run->n_examples; i++) {
		const struct item *it = &run->items[i];
		if (strcmp(it->gold, category) != 0 || strcmp(it->now, category) == 0)
			continue;
		(*missed_r)++;
		struct phrases one = { 0 };
		if (it->subject != NULL)
			phrase_each(it->subject, strlen(it->subject), &po, add_phrase, &one);
		phrase_each(it->text, strlen(it->text), &po, add_phrase, &one);
		merge_phrases(&one);
		for (size_t k = 0; k < one.n; k++) {
			one.v[k].support = 1;
			add_phrase(all, one.v[k].s, strlen(one.v[k].s), one.v[k].script);
		}
		phrases_clear(&one);
	}
	merge_phrases(all);
	if (all->n > 0)
		qsort(all->v, all->n, sizeof(*all->v), by_support);
}

/* ---- trying a candidate --------------------------------------------------------- */

static const int weights[] = { 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30 };

struct trial {
	int weight;
	size_t fixes, breaks, changes;
	unsigned char *fixed; /* a byte per example */
};

static long
net(const struct trial *t)
{
	return (long)t->fixes - (long)t->breaks - (long)t->changes;
}

/* Run the candidate rule over every item, then find its best weight. 0
   with *t filled in, -1 when the pattern does not compile. */
static int
try_candidate(const struct run *run, const char *category, const char *pattern,
	      struct trial *best)
{
	char *text = xasprintf("rule suggested {\n\tsubject, body ~ /%s/\n\tcategory %s 1\n}\n",
			       pattern, category);
	struct rules *cand;
	const char *error;
	int r = rules_load_text("suggested", text, strlen(text), run->o->rules_options, &cand,
				&error);
	free(text);
	if (r < 0)
		return -1;
	unsigned char *fires = xcalloc(run->n_items + 1, 1);
	for (size_t i = 0; i < run->n_items; i++) {
		const struct item *it = &run->items[i];
		if (it->stopped)
			continue;
		struct rules_input in;
		struct rules_result *res;
		rules_input_text(&in, it->subject, it->text);
		rules_classify(cand, &in, &res);
		fires[i] = res->n_hits > 0;
		rules_result_free(&res);
	}
	rules_free(&cand);
	memset(best, 0, sizeof(*best));
	unsigned char *fixed = xcalloc(run->n_examples + 1, 1);
	for (size_t w = 0; w < N_ELEMENTS(weights); w++) {
		struct trial t = { .weight = weights[w] };
		memset(fixed, 0, run->n_examples + 1);
		for (size_t i = 0; i < run->n_items; i++) {
			const struct item *it = &run->items[i];
			if (!fires[i])
				continue;
			const char *now = winner_with(run, it, category, weights[w]);
			int changed = strcmp(now, it->now) != 0;
			if (i >= run->n_examples)
				t.changes += changed;
			else if (strcmp(it->gold, category) == 0 && strcmp(now, category) == 0 &&
				 strcmp(it->now, category) != 0)
				fixed[i] = 1, t.fixes++;
			else if (changed)
				t.breaks++;
		}
		if (w == 0 || net(&t) > net(best)) {
			free(best->fixed);
			*best = t;
			best->fixed = xmalloc(run->n_examples + 1);
			memcpy(best->fixed, fixed, run->n_examples + 1);
		}
	}
	free(fixed);
	free(fires);
	return 0;
}

/* 1 when every example a fixes, b fixes too. */
static int
subset(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] && !b[i])
			return 0;
	return 1;
}

static void
add_suggestion(struct suggest_report *rep, const struct run *run, const char *category,
	       const struct phrase *ph, const char *pattern, const struct trial *t, size_t missed)
{
	rep->suggestions = xreallocarray(rep->suggestions, rep->n_suggestions + 1,
					 sizeof(*rep->suggestions));
	struct suggestion *s = &rep->suggestions[rep->n_suggestions++];
	memset(s, 0, sizeof(*s));
	s->category = xstrdup(category);
	s->phrase = xstrdup(ph->s);
	s->pattern = xstrdup(pattern);
	s->weight = t->weight;
	s->fixes = t->fixes;
	s->missed = missed;
	s->breaks = t->breaks;
	s->changes = t->changes;
	for (size_t i = 0; i < run->n_examples && s->n_examples < N_ELEMENTS(s->examples); i++)
		if (t->fixed[i])
			s->examples[s->n_examples++] = run->items[i].ticket_id;
	size_t n_same = 0;
	for (size_t i = 0; i + 1 < rep->n_suggestions; i++)
		n_same += strcmp(rep->suggestions[i].category, category) == 0;
	s->rule = xasprintf("# %zu of %zu missed corrections to %s; changes %zu labelled and %zu other tickets\n"
			    "rule suggested-%s-%zu {\n\tsubject, body ~ /%s/\n\tcategory %s %d\n}\n",
			    t->fixes, missed, category, t->breaks, t->changes, category, n_same + 1,
			    pattern, category, t->weight);
}

/* The suggestions for one category, best first. */
static void
suggest_category(const struct run *run, const char *category, struct suggest_report *rep)
{
	struct phrases all = { 0 };
	size_t missed;
	gather(run, category, &all, &missed);
	size_t min_support = run->o->min_support != 0 ? run->o->min_support : 2;
	if (min_support > missed)
		min_support = missed;
	struct trial *trials = xcalloc(CANDIDATES_MAX + 1, sizeof(*trials));
	const struct phrase **cands = xcalloc(CANDIDATES_MAX + 1, sizeof(*cands));
	char **patterns = xcalloc(CANDIDATES_MAX + 1, sizeof(*patterns));
	size_t n = 0, tried = 0;
	for (size_t i = 0; i < all.n && tried < CANDIDATES_MAX; i++) {
		char pattern[PHRASE_PATTERN_MAX];
		if (all.v[i].support < min_support)
			break;
		tried++;
		if (phrase_pattern(all.v[i].s, strlen(all.v[i].s), all.v[i].script, pattern,
				   sizeof(pattern)) < 0 ||
		    try_candidate(run, category, pattern, &trials[n]) < 0)
			continue;
		if (trials[n].fixes == 0 || net(&trials[n]) <= 0) {
			free(trials[n].fixed);
			continue;
		}
		cands[n] = &all.v[i];
		patterns[n] = xstrdup(pattern);
		n++;
	}
	/* Best first: the most net fixes, then the fewest changes, then the
	   more common phrase (the candidates' order). */
	size_t max = run->o->max != 0 ? run->o->max : 5, taken = 0;
	unsigned char *used = xcalloc(n + 1, 1);
	while (taken < max) {
		size_t pick = n;
		for (size_t i = 0; i < n; i++) {
			if (used[i])
				continue;
			if (pick == n || net(&trials[i]) > net(&trials[pick]) ||
			    (net(&trials[i]) == net(&trials[pick]) &&
			     trials[i].breaks + trials[i].changes <
				     trials[pick].breaks + trials[pick].changes))
				pick = i;
		}
		if (pick == n)
			break;
		used[pick] = 1;
		/* Nothing new: it fixes only what a better one already does. */
		int redundant = 0;
		for (size_t i = 0; i < n && !redundant; i++)
			redundant = used[i] == 2 &&
				    subset(trials[pick].fixed, trials[i].fixed, run->n_examples);
		if (redundant)
			continue;
		used[pick] = 2;
		add_suggestion(rep, run, category, cands[pick], patterns[pick], &trials[pick],
			       missed);
		taken++;
	}
	for (size_t i = 0; i < n; i++) {
		free(trials[i].fixed);
		free(patterns[i]);
	}
	free(used);
	free(patterns);
	free(cands);
	free(trials);
	phrases_clear(&all);
}

int
suggest_run(struct store *store, struct rules *rules, const struct suggest_options *o,
	    struct suggest_report **report_r, const char **error_r)
{
	struct rules_options defaults;
	struct suggest_options opts = *o;
	if (opts.rules_options == NULL) {
		rules_options_default(&defaults);
		opts.rules_options = &defaults;
	}
	struct run run = {
		.rules = rules,
		.o = &opts,
		.default_category = opts.rules_options->default_category != NULL
					    ? opts.rules_options->default_category
					    : "other",
	};
	*report_r = NULL;
	int ret = load_items(store, &run, error_r);
	struct suggest_report *rep = xcalloc(1, sizeof(*rep));
	if (ret == 0) {
		rep->examples = run.n_examples;
		rep->tickets = run.n_items - run.n_examples;
		for (size_t i = 0; i < run.n_examples; i++)
			rep->agree += strcmp(run.items[i].gold, run.items[i].now) == 0;
		/* The categories to work on: the one asked for, else each that
		   has a missed correction, in the order of the examples. */
		for (size_t i = 0; i < run.n_examples; i++) {
			const struct item *it = &run.items[i];
			int first = 1;
			for (size_t k = 0; k < i && first; k++)
				first = strcmp(run.items[k].gold, it->gold) != 0;
			if (first && (opts.category == NULL || strcmp(opts.category, it->gold) == 0))
				suggest_category(&run, it->gold, rep);
		}
	}
	for (size_t i = 0; i < run.n_items; i++)
		item_clear(&run.items[i]);
	free(run.items);
	if (ret < 0) {
		suggest_report_free(&rep);
		return ret;
	}
	*report_r = rep;
	return 0;
}

void
suggest_report_free(struct suggest_report **reportp)
{
	struct suggest_report *rep = *reportp;
	if (rep == NULL)
		return;
	for (size_t i = 0; i < rep->n_suggestions; i++) {
		struct suggestion *s = &rep->suggestions[i];
		free(s->category);
		free(s->phrase);
		free(s->pattern);
		free(s->rule);
	}
	free(rep->suggestions);
	free(rep);
	*reportp = NULL;
}
