/* deskgate report [--since D] [--until D] [--by X] [--json | --csv | --html FILE] */
#define _XOPEN_SOURCE 700
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "gateway/ack.h"
#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/report.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "base/util.h"

#define DEFAULT_DAYS 7

static void
report_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] report [--since DATE] [--until DATE]\n"
		"         [--by day|week|month|category|queue|agent|language|channel]\n"
		"         [--json | --csv | --html FILE]\n\n"
		"  How the desk is doing over a period: volume, first response and resolution\n"
		"  times (median, p90), the first-response promise kept, backlog, oldest open\n"
		"  tickets, satisfaction (CSAT), arrivals by weekday and hour, rules and the\n"
		"  categories agents changed. Every figure is defined in docs/reports.md.\n\n"
		"  DATE is YYYY-MM-DD or YYYY-MM-DD HH:MM in the desk's time zone ([hours]\n"
		"  timezone), or @SECONDS since the epoch. The period is [since, until); the\n"
		"  default is the last %d days: from midnight %d days ago until now.\n"
		"  --by      one row of figures per day, week, month, category, queue,\n"
		"            agent (assignee; an agent's replies count for the agent who\n"
		"            wrote them), language or channel (mailbox)\n"
		"  --json    the figures as JSON (schema in docs/reports.md)\n"
		"  --csv     one CSV row per group, the totals first\n"
		"  --html    a self-contained page with charts (no script, no fetches)\n",
		DEFAULT_DAYS, DEFAULT_DAYS);
}

/* The instant of a local time in the desk's zone: the UTC reading,
   corrected by the zone's offset there (twice, for a change in between). */
static int64_t
local_instant(const struct hours *hours, struct tm *tm)
{
	int64_t guess = (int64_t)timegm(tm), t = guess;
	for (int i = 0; i < 2; i++) {
		struct tm lt;
		hours_localtime(hours, t, &lt);
		t = guess - lt.tm_gmtoff;
	}
	return t;
}

static int
parse_date(const struct hours *hours, const char *s, int64_t *t_r)
{
	if (s[0] == '@') {
		uint64_t v;
		if (str_to_u64(s + 1, (uint64_t)1 << 40, &v) < 0)
			return -1;
		*t_r = (int64_t)v;
		return 0;
	}
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL)
		return -1;
	if (*p == ' ' || *p == 'T')
		p = strptime(p + 1, "%H:%M", &tm);
	if (p == NULL || *p != '\0')
		return -1;
	tm.tm_isdst = -1;
	*t_r = local_instant(hours, &tm);
	return 0;
}

static const struct hours *
sla_calendar_of(const void *sla, const char *name)
{
	return sla_calendar(sla, name);
}

int
cmd_report(int argc, char **argv)
{
	const char *since_s = NULL, *until_s = NULL, *by_s = NULL, *html = NULL;
	int json = 0, csv = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			report_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--csv") == 0) {
			csv = 1;
		} else if (i + 1 < argc && strcmp(a, "--since") == 0) {
			since_s = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--until") == 0) {
			until_s = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--by") == 0) {
			by_s = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--html") == 0) {
			html = argv[++i];
		} else {
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	int by = by_s != NULL ? report_by_parse(by_s) : REPORT_BY_NONE;
	if (by < 0 || json + csv + (html != NULL) > 1) {
		report_usage(stderr);
		return EXIT_USAGE;
	}

	struct config *config;
	struct store *store;
	struct hours *hours = NULL;
	struct sla *sla = NULL; /* the [hours NAME] calendars of tickets' SLA rows */
	const char *error;
	cli_open(&config, &store);
	if (ack_hours_from_config(config, &hours, &error) < 0 ||
	    sla_new(config, &sla, &error) < 0) {
		log_error("%s", error);
		hours_free(&hours);
		store_close(&store);
		config_free(&config);
		return EXIT_CONFIG;
	}
	struct report_options opt = { .now = clock_now(), .by = (enum report_by)by,
				       .hours = hours, .calendar = sla_calendar_of,
				       .calendar_context = sla };
	/* "until now" takes in the current second: the period is half-open
	   and times are whole seconds, so a ticket stamped this second (just
	   ingested) was left out */
	opt.until = opt.now + 1;
	int status = 0;
	if (until_s != NULL && parse_date(hours, until_s, &opt.until) < 0) {
		fprintf(stderr, "deskgate report: --until %s: not a date\n", until_s);
		status = EXIT_USAGE;
	}
	if (since_s != NULL && parse_date(hours, since_s, &opt.since) < 0) {
		fprintf(stderr, "deskgate report: --since %s: not a date\n", since_s);
		status = EXIT_USAGE;
	} else if (since_s == NULL) {
		struct tm tm;
		hours_localtime(hours, opt.until - DEFAULT_DAYS * 86400, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		opt.since = local_instant(hours, &tm);
	}

	struct report *r = NULL;
	if (status == 0) {
		int ret = report_compute(store, &opt, &r, &error);
		if (ret < 0) {
			log_error("%s", error);
			status = ret == STORE_UNAVAILABLE ? EXIT_TEMPFAIL : EXIT_DATAERR;
		}
	}
	if (r != NULL) {
		FILE *out = stdout;
		if (html != NULL && (out = fopen(html, "w")) == NULL) {
			fprintf(stderr, "deskgate report: %s: %s\n", html, strerror(errno));
			status = EXIT_CANTCREAT;
		} else {
			int ret = json ? report_write_json(r, out)
				  : csv ? report_write_csv(r, out)
				  : html != NULL ? report_write_html(r, out)
						 : report_write_text(r, out);
			if (html != NULL && fclose(out) != 0)
				ret = -1;
			if (ret < 0) {
				fprintf(stderr, "deskgate report: write: %s\n", strerror(errno));
				status = EXIT_IOERR;
			}
		}
	}
	report_free(&r);
	sla_free(&sla);
	hours_free(&hours);
	store_close(&store);
	config_free(&config);
	return status;
}
