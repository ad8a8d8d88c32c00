/*
 * suggest: candidate patterns from the agents' corrections, for `deskgate
 * rules suggest` (issue 16). It reads the labelled examples of the store
 * (label.h), classifies them with the current rules, and for each category
 * gathers the corrections the rules still miss. The phrases that recur in
 * those mails (parsers/phrase.h) are tried one by one as a rule of their
 * own, appended after the current rules:
 *
 *   rule suggested-CATEGORY-N { subject, body ~ /PHRASE/; category CATEGORY W }
 *
 * For each it counts, exactly (the phrase's pattern is run by the rules
 * engine; the weight is added to the scores the current rules gave), how
 * many missed corrections it would fix, how many other labelled examples
 * it would change, and how many other stored tickets (their first customer
 * message) would change category. The weight W is the smallest that gives
 * the best balance of fixes over changes. Suggestions that fix nothing
 * more than a better one already does are left out.
 *
 * Nothing is written: the admin reads the suggestions, copies a rule into
 * a rules file and measures it (rules check, replay, eval --from-store).
 *
 * Ownership: suggest_run() returns a report freed with
 * suggest_report_free(); rules and store stay the caller's.
 */
#ifndef DG_SUGGEST_H
#define DG_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

struct rules;
struct rules_options;
struct store;

struct suggest_options {
	const char *category;	   /* only corrections to this category; NULL: all */
	int64_t since;		   /* labels given at or after this time; 0: all */
	size_t max;		   /* suggestions per category, at most (0: 5) */
	size_t ticket_limit;	   /* the newest tickets looked at for changes (0: all) */
	size_t min_support;	   /* missed corrections a phrase must occur in (0: 2) */
	const struct rules_options *rules_options; /* for compiling the candidates */
};

struct suggestion {
	char *category;
	char *phrase;
	char *pattern; /* the pattern, without the slashes */
	char *rule;    /* a whole rule, ready for a rules file */
	int weight;
	size_t fixes;	/* missed corrections to category it fixes */
	size_t missed;	/* corrections to category the current rules miss */
	size_t breaks;	/* other labelled examples whose category it changes */
	size_t changes; /* other stored tickets whose category it changes */
	int64_t examples[3]; /* tickets it fixes, the first few */
	size_t n_examples;
};

struct suggest_report {
	size_t examples; /* labelled examples (one per ticket) */
	size_t agree;	 /* of which the current rules give the agent's category */
	size_t tickets;	 /* other tickets looked at for changes */
	struct suggestion *suggestions;
	size_t n_suggestions;
};

/* 0 with *report_r, or < 0 (a store failure) with *error_r. */
int suggest_run(struct store *store, struct rules *rules, const struct suggest_options *o,
		struct suggest_report **report_r, const char **error_r);
void suggest_report_free(struct suggest_report **reportp);

#endif
