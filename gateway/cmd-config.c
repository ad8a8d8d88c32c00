/*
 * deskgate config check|show|keys
 *
 * check loads the configuration and then everything the daemon loads from
 * it, the same way (ingest_init(): the threading secret, the rules, the
 * business hours, the VERP key, agents and queues; the weekly report's
 * zone and recipients, report_mail_new()), compiles and renders
 * every acknowledgement template, and checks what the rules and the
 * configuration say about each other, as `postfix check` does: so that a
 * broken file is found before a reload or a restart, not by the daemon.
 * It opens no store and sends nothing.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/ack.h"
#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/report-mail.h"
#include "gateway/rules.h"
#include "base/util.h"

static void
config_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] config check|show|keys\n\n"
		     "  check   load the configuration and everything it names as the daemon\n"
		     "          does (rules, templates, threading secret, hours, agents and\n"
		     "          queues); every problem names file:line; exit 78 on any\n"
		     "  show    print the effective configuration (secrets hidden)\n"
		     "  keys    list every key: section.key, type, default, meaning\n");
}

/* Whether the comma/space separated list holds item (any case). */
static int
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p != NULL && *p != '\0';) {
		p += strspn(p, ",; \t");
		size_t len = strcspn(p, ",; \t");
		if (len == n && strncasecmp(p, item, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* Warnings about the rules and the configuration together: a queue the
   rules route to that no [queue] section or agent knows (its tickets
   would go to every agent), and a [queue] category that nothing can set. */
static size_t
check_rules_against_config(const struct config *config, const struct rules *rules)
{
	size_t warnings = 0;
	struct rules_rule_info info;
	for (size_t i = 0; i < rules_count(rules); i++) {
		rules_info(rules, i, &info);
		if (info.queue == NULL || config->n_agents == 0)
			continue;
		int known = 0;
		for (size_t q = 0; q < config->n_queues && !known; q++)
			known = strcasecmp(config->queues[q].name, info.queue) == 0;
		for (size_t a = 0; a < config->n_agents && !known; a++)
			known = list_has(config->agents[a].queues, info.queue);
		if (!known) {
			printf("%s:%u: warning: rule %s routes to queue %s, which no [queue] section "
			       "or agent serves: its tickets notify every agent\n",
			       info.file, info.line, info.name, info.queue);
			warnings++;
		}
	}
	for (size_t q = 0; q < config->n_queues; q++) {
		const struct config_queue *cq = &config->queues[q];
		for (const char *p = cq->categories; p != NULL && *p != '\0';) {
			p += strspn(p, ",; \t");
			size_t len = strcspn(p, ",; \t");
			if (len == 0)
				break;
			char *cat = xstrndup(p, len);
			int known = 0;
			for (size_t k = 0; ack_categories[k] != NULL && !known; k++)
				known = strcmp(ack_categories[k], cat) == 0;
			for (size_t i = 0; i < rules_count(rules) && !known; i++) {
				rules_info(rules, i, &info);
				known = info.category != NULL && strcmp(info.category, cat) == 0;
			}
			if (!known) {
				printf("%s:%u: warning: [queue %s] categories: no rule sets category %s\n",
				       config->path, config_line(config, "queue", cq->name, "categories"),
				       cq->name, log_safe(cat, 64));
				warnings++;
			}
			free(cat);
			p += len;
		}
	}
	return warnings;
}

static int
config_check(void)
{
	struct config *config = cli_config(); /* exits 78 with file:line */
	size_t problems = 0, warnings = 0, files = 0;
	const char *error;
	struct ingest *ingest = NULL;
	/* References first: they name the line that makes them. */
	const char *refs = config_check_references(config);
	if (refs != NULL) {
		printf("%s\n", refs);
		problems++;
	} else if (ingest_init(config, NULL, &ingest, &error) < 0) {
		/* The daemon's own initialisation, without a store. */
		printf("%s\n", error);
		problems++;
	}
	ingest_free(&ingest);
	/* The weekly report's zone and recipients, as the daemon reads them
	   (report_mail_new() keeps the store and the outbox for later). */
	struct report_mail *rm = NULL;
	if (report_mail_new(config, NULL, NULL, &rm, &error) < 0) {
		printf("%s\n", error);
		problems++;
	}
	report_mail_free(&rm);
	problems += ack_templates_check(config, NULL, stdout, &files);
	struct rules *rules = NULL;
	if (rules_load_config(config, &rules, &error) == 0) {
		warnings = check_rules_against_config(config, rules);
		printf("%s: %zu rules\n", config->rules.dir, rules_count(rules));
		rules_free(&rules);
	}
	printf("%zu template files checked\n", files);
	if (problems > 0) {
		printf("%s: %zu problem%s\n", config->path, problems, problems == 1 ? "" : "s");
		config_free(&config);
		return EXIT_CONFIG;
	}
	printf("%s: ok%s\n", config->path, warnings > 0 ? " (with warnings)" : "");
	config_free(&config);
	return 0;
}

int
cmd_config(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		config_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (argc > 2) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "keys") == 0) {
		config_print_keys(stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return config_check();
	if (strcmp(argv[1], "show") != 0) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	struct config *config = cli_config();
	config_print(config, stdout);
	config_free(&config);
	return 0;
}
