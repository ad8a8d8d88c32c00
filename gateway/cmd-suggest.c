/*
 * deskgate rules suggest: candidate patterns from the agents' corrections
 * (suggest.h), printed for the admin to review; nothing is changed.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "gateway/cli.h"
#include "gateway/cmd-rules.h"
#include "gateway/config.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/suggest.h"

static void
print_suggestions_json(const struct suggest_report *rep)
{
	struct jsonout *o = jsonout_object(), *a = jsonout_array();
	jsonout_set_int(o, "examples", (long long)rep->examples);
	jsonout_set_int(o, "agree", (long long)rep->agree);
	jsonout_set_int(o, "tickets", (long long)rep->tickets);
	for (size_t i = 0; i < rep->n_suggestions; i++) {
		const struct suggestion *s = &rep->suggestions[i];
		struct jsonout *x = jsonout_object(), *t = jsonout_array();
		jsonout_set_str(x, "category", s->category);
		jsonout_set_str(x, "phrase", s->phrase);
		jsonout_set_str(x, "pattern", s->pattern);
		jsonout_set_int(x, "weight", s->weight);
		jsonout_set_int(x, "fixes", (long long)s->fixes);
		jsonout_set_int(x, "missed", (long long)s->missed);
		jsonout_set_int(x, "breaks", (long long)s->breaks);
		jsonout_set_int(x, "changes", (long long)s->changes);
		for (size_t k = 0; k < s->n_examples; k++)
			jsonout_append(t, jsonout_int(s->examples[k]));
		jsonout_set(x, "tickets", t);
		jsonout_set_str(x, "rule", s->rule);
		jsonout_append(a, x);
	}
	jsonout_set(o, "suggestions", a);
	jsonout_print(o, stdout);
	jsonout_free(&o);
}

static void
print_suggestions(const struct suggest_report *rep)
{
	printf("%zu tickets labelled by agents (#category); the current rules agree on %zu; "
	       "%zu other tickets looked at\n",
	       rep->examples, rep->agree, rep->tickets);
	const char *category = NULL;
	for (size_t i = 0; i < rep->n_suggestions; i++) {
		const struct suggestion *s = &rep->suggestions[i];
		if (category == NULL || strcmp(category, s->category) != 0)
			printf("\n%s: %zu corrections the current rules miss\n", s->category, s->missed);
		category = s->category;
		printf("\n  \"");
		fputs(log_safe(s->phrase, 200), stdout);
		printf("\" fixes %zu of %zu; changes %zu other labelled and %zu unlabelled tickets "
		       "(weight %d); fixes e.g. ticket",
		       s->fixes, s->missed, s->breaks, s->changes, s->weight);
		for (size_t k = 0; k < s->n_examples; k++)
			printf("%s %lld", k > 0 ? "," : "", (long long)s->examples[k]);
		printf("\n");
		for (const char *p = s->rule; *p != '\0';) {
			size_t n = strcspn(p, "\n");
			printf("    %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	if (rep->n_suggestions == 0)
		printf("\nno suggestion: no phrase recurs in the corrections the rules miss, or "
		       "each would change more tickets than it fixes\n");
	printf("\nNothing was changed. To use a rule, put it in a file of [rules] dir, then\n"
	       "deskgate rules check, rules replay and rules eval --from-store, and rules reload.\n");
}

int
cmd_rules_suggest(int argc, char **argv)
{
	const char *category = NULL, *since_arg = NULL, *max_arg = NULL, *limit_arg = NULL;
	const struct rules_opt opts[] = {
		{ "--category", NULL, &category },
		{ "--since", NULL, &since_arg },
		{ "--max", NULL, &max_arg },
		{ "--tickets", NULL, &limit_arg },
		{ NULL, NULL, NULL },
	};
	const struct rules_cmd cmd = {
		.name = "suggest",
		.help = "usage: deskgate rules suggest [--rules PATH] [--category NAME] [--since DATE]\n"
			"                              [--max N] [--tickets N] [--json]\n\n"
			"Propose patterns from the agents' corrections: the tickets whose category\n"
			"an agent set with #category and that the current rules (--rules, else\n"
			"the configured ones) still classify otherwise. Phrases that recur in\n"
			"those mails are tried as a rule appended after the rules; each\n"
			"suggestion says how many corrections it fixes, how many other labelled\n"
			"tickets and other stored tickets (the newest --tickets N, default all)\n"
			"it would change, and gives the rule. --category NAME: only corrections\n"
			"to NAME; --since DATE: labels given since (YYYY-MM-DD or 7d); --max N:\n"
			"suggestions per category (default 5). Nothing is changed.\n",
		.json = 1,
		.rules = 1,
		.usage = "deskgate rules suggest: no arguments but options\n",
		.opts = opts,
	};
	struct rules_opts o;
	uint64_t max = 0, limit = 0;
	int64_t since = 0;
	int r = cmd_rules_opts_parse(&cmd, argc, argv, &o);
	if (r >= 0)
		return r;
	if (cmd_rules_opt_number(&cmd, "--max", max_arg, 1000, &max) < 0 ||
	    cmd_rules_opt_number(&cmd, "--tickets", limit_arg, 100000000, &limit) < 0 ||
	    (since_arg != NULL && cmd_rules_parse_since(since_arg, &since) < 0)) {
		if (since_arg != NULL)
			fprintf(stderr, "deskgate rules suggest: bad date \"%s\" (YYYY-MM-DD or 7d)\n",
				log_safe(since_arg, 40));
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	struct config *config;
	struct store *store;
	struct rules *rules;
	cli_open(&config, &store);
	int ret = 0;
	if (cmd_rules_load(config, &o, &rules, 0) < 0) {
		ret = EXIT_CONFIG;
	} else {
		struct rules_options ro;
		rules_options_from_config(&ro, config);
		const struct suggest_options so = {
			.category = category,
			.since = since,
			.max = (size_t)max,
			.ticket_limit = (size_t)limit,
			.rules_options = &ro,
		};
		struct suggest_report *rep;
		const char *error;
		if (suggest_run(store, rules, &so, &rep, &error) < 0) {
			log_error("rules suggest: %s", error);
			ret = EXIT_TEMPFAIL;
		} else {
			if (o.json)
				print_suggestions_json(rep);
			else
				print_suggestions(rep);
			suggest_report_free(&rep);
		}
		rules_free(&rules);
	}
	store_close(&store);
	config_free(&config);
	cmd_rules_opts_clear(&o);
	return ret;
}
