/*
 * deskgate sla check [--at TIME] [--json]: validate the calendars and SLA
 * policies of the configuration (every problem named with file:line, exit
 * 78) and print, for a mail arriving at TIME (default now), what each
 * target of each policy would be: "a high-priority mail now: first
 * response due Mon 2025-03-31 10:00 CEST (+02:00)". It opens no store.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/jsonout.h"
#include "gateway/sla.h"
#include "base/clock.h"
#include "base/util.h"

static void
sla_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] sla check [--at TIME] [--json]\n\n"
		"Check the business-hours calendars ([hours], [hours NAME]) and the SLA\n"
		"policies ([sla NAME]) as the daemon loads them, then show for a mail\n"
		"arriving at TIME (default: now) when each target of each policy would be\n"
		"due and when its warning would go, in the calendar's time zone.\n\n"
		"  --at TIME  2025-03-28T09:00:00Z (UTC) or seconds since the epoch\n"
		"  --json     the same as JSON\n\n"
		"Exit 0 when the configuration is sound, 78 (with file:line) when not.\n");
}

static const char *const priorities[] = { "urgent", "high", "normal", "low" };

/* One target of a policy for a mail at t: a line, or a JSON object. */
static void
show_target(const struct sla *sla, const struct sla_policy *p, const struct hours *cal,
	    enum store_sla_target target, const char *priority, int64_t t,
	    struct jsonout *list, FILE *out)
{
	uint64_t secs = sla_policy_target(p, target, priority);
	char due_s[96], warn_s[96], len[32];
	int64_t due = 0, warn = 0;
	const char *error = NULL;
	(void)sla;
	if (secs == 0)
		return;
	int ok = hours_due(cal, t, secs, &due, &error) == 0 &&
		 hours_due(cal, t, secs * sla_policy_warn_at(p) / 100, &warn, &error) == 0;
	const char *what = target == STORE_SLA_NEXT_RESPONSE ? "next response (after each mail)"
			   : target == STORE_SLA_FIRST_RESPONSE ? "first response"
								 : "resolution";
	if (list != NULL) {
		struct jsonout *o = jsonout_object();
		jsonout_set_str(o, "target", sla_target_name(target));
		if (priority != NULL)
			jsonout_set_str(o, "priority", priority);
		jsonout_set_int(o, "business_seconds", (int64_t)secs);
		if (ok) {
			jsonout_set_int(o, "due", due);
			jsonout_set_str(o, "due_local", sla_format_time(cal, due, due_s, sizeof(due_s)));
			jsonout_set_int(o, "warning", warn);
		} else {
			jsonout_set_str(o, "error", error);
		}
		jsonout_append(list, o);
		return;
	}
	sla_format_duration((int64_t)secs, len, sizeof(len));
	if (!ok) {
		fprintf(out, "  %s%s%s %s: %s\n", priority != NULL ? priority : "",
			priority != NULL ? " " : "", what, len, error);
		return;
	}
	fprintf(out, "  %s%s%s %s: due %s, warning %s\n", priority != NULL ? priority : "",
		priority != NULL ? ": " : "", what, len,
		sla_format_time(cal, due, due_s, sizeof(due_s)),
		sla_format_time(cal, warn, warn_s, sizeof(warn_s)));
}

static void
show_calendars(const struct sla *sla, int64_t t, struct jsonout *root, FILE *out)
{
	struct jsonout *list = root != NULL ? jsonout_array() : NULL;
	for (size_t i = 0; i < sla_calendar_count(sla); i++) {
		const struct hours *h = sla_calendar_at(sla, i);
		char now_s[96], next_s[96];
		int64_t next = hours_next_open(h, t);
		if (list != NULL) {
			struct jsonout *o = jsonout_object();
			jsonout_set_str(o, "name", hours_name(h));
			jsonout_set_str(o, "timezone", hours_timezone(h));
			jsonout_set_bool(o, "24x7", hours_is_24x7(h));
			jsonout_set_bool(o, "open", hours_is_open(h, t));
			jsonout_set_int(o, "next_open", next);
			jsonout_append(list, o);
			continue;
		}
		fprintf(out, "calendar %s: %s%s; at %s it is %s", hours_name(h), hours_timezone(h),
			hours_is_24x7(h) ? ", 24x7" : "", sla_format_time(h, t, now_s, sizeof(now_s)),
			hours_is_open(h, t) ? "open" : "closed");
		if (!hours_is_open(h, t) && next > 0)
			fprintf(out, " (opens %s)", sla_format_time(h, next, next_s, sizeof(next_s)));
		fprintf(out, "\n");
	}
	if (root != NULL)
		jsonout_set(root, "calendars", list);
}

static void
show_policies(const struct sla *sla, int64_t t, struct jsonout *root, FILE *out)
{
	struct jsonout *list = root != NULL ? jsonout_array() : NULL;
	for (size_t i = 0; i < sla_policy_count(sla); i++) {
		const struct sla_policy *p = sla_policy_at(sla, i);
		const struct hours *cal = sla_policy_calendar(sla, p, NULL);
		char desc[512], rep[32];
		struct jsonout *o = NULL, *targets = NULL;
		sla_policy_describe(p, desc, sizeof(desc));
		if (list != NULL) {
			o = jsonout_object();
			targets = jsonout_array();
			jsonout_set_str(o, "name", sla_policy_name(p));
			jsonout_set_str(o, "applies_to", desc);
			jsonout_set_str(o, "calendar", hours_name(cal));
			jsonout_set_int(o, "warn_at_percent", sla_policy_warn_at(p));
			jsonout_set_int(o, "repeat", (int64_t)sla_policy_repeat(p));
		} else {
			fprintf(out, "\n[sla %s] %s; calendar %s; warning at %u%%; breach notices %s%s\n",
				sla_policy_name(p), desc, hours_name(cal), sla_policy_warn_at(p),
				sla_policy_repeat(p) > 0 ? "every " : "once",
				sla_policy_repeat(p) > 0
					? sla_format_duration((int64_t)sla_policy_repeat(p), rep, sizeof(rep))
					: "");
			fprintf(out, "  a mail at %s:\n", sla_format_time(cal, t, desc, sizeof(desc)));
		}
		/* the built-in default has a first-response target per priority */
		int by_priority = sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "urgent") !=
				  sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "low");
		for (int k = 0; k < SLA_TARGETS; k++) {
			if (k == STORE_SLA_FIRST_RESPONSE && by_priority) {
				for (size_t pr = 0; pr < N_ELEMENTS(priorities); pr++)
					show_target(sla, p, cal, (enum store_sla_target)k, priorities[pr],
						    t, targets, out);
			} else {
				show_target(sla, p, cal, (enum store_sla_target)k, NULL, t, targets,
					    out);
			}
		}
		if (o != NULL) {
			jsonout_set(o, "targets", targets);
			jsonout_append(list, o);
		}
	}
	if (root != NULL)
		jsonout_set(root, "policies", list);
}

int
cmd_sla(int argc, char **argv)
{
	int json = 0;
	int64_t t = clock_now();

	if (argc < 2 || cli_is_help(argv[1])) {
		sla_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "deskgate sla: unknown subcommand \"%s\"\n", argv[1]);
		sla_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			sla_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if (clock_parse(argv[++i], &t) < 0) {
				fprintf(stderr, "deskgate sla check: --at %s: expected "
						"2025-03-28T09:00:00Z or seconds since the epoch\n",
					argv[i]);
				return EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "deskgate sla check: unknown argument %s\n", argv[i]);
			sla_usage(stderr);
			return EXIT_USAGE;
		}
	}
	struct config *config = cli_config();
	struct sla *sla = NULL;
	const char *error;
	if (sla_new(config, &sla, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		config_free(&config);
		return EXIT_CONFIG;
	}
	int ret = 0;
	if (json) {
		struct jsonout *root = jsonout_object();
		jsonout_set_int(root, "at", t);
		show_calendars(sla, t, root, NULL);
		show_policies(sla, t, root, NULL);
		ret = jsonout_print(root, stdout) < 0 ? EXIT_IOERR : 0;
		jsonout_free(&root);
	} else {
		show_calendars(sla, t, NULL, stdout);
		show_policies(sla, t, NULL, stdout);
		printf("\n%zu calendar(s), %zu policy(ies): ok\n", sla_calendar_count(sla),
		       sla_policy_count(sla));
	}
	sla_free(&sla);
	config_free(&config);
	return ret;
}
