/*
 * deskgate status [--json]: is the daemon running, how are its mailboxes,
 * its outbox and its quarantine, and the oldest unanswered ticket. The
 * facts and the verdict come from health.h; this file parses the options
 * and prints. The exit status is the verdict (0 ok, 1 degraded, 2 not
 * running, 3 unknown), for monitoring.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/health.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/service.h"
#include "base/util.h"

static void
status_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] status [--json]\n\n"
		"Is the daemon running (its pid file is locked), the state and last sync of\n"
		"each mailbox (from the daemon's status file), the outbox, the quarantine and\n"
		"the oldest unanswered ticket (from the store). Exit status, for monitoring:\n"
		"  0 ok           running; mailboxes served, none failing; no mail deferred\n"
		"  1 degraded     running, but a mailbox fails or is not served, outgoing\n"
		"                 mail is deferred, or the daemon's loop is stuck\n"
		"  2 not running\n"
		"  3 unknown      the configuration or the store cannot be read\n"
		"Each reason for 1, 2 or 3 is printed.\n\n"
		"  --json   the same as one JSON object\n");
}

/* "42s", "5m", "3h 02m", "2d 03h" */
static const char *
age_text(int64_t secs)
{
	static char ring[4][32];
	static unsigned next;
	char *b = ring[next++ % N_ELEMENTS(ring)];
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(b, sizeof(ring[0]), "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(b, sizeof(ring[0]), "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		snprintf(b, sizeof(ring[0]), "%lldh %02lldm", (long long)(secs / 3600),
			 (long long)(secs % 3600 / 60));
	else
		snprintf(b, sizeof(ring[0]), "%lldd %02lldh", (long long)(secs / 86400),
			 (long long)(secs % 86400 / 3600));
	return b;
}

static void
print_text(const struct health_report *r)
{
	const struct service_snapshot *s = r->snapshot;
	if (r->running) {
		printf("daemon: running, pid %lld", (long long)r->pid);
		if (s != NULL && s->pid == r->pid)
			printf(", up %s", age_text(r->now - s->started_at));
		if (s != NULL && s->metrics != NULL)
			printf("; metrics at http://%s/metrics", s->metrics);
		printf("\n");
	} else if (r->status == HEALTH_NOT_RUNNING) {
		printf("daemon: not running");
		if (s != NULL && s->updated_at > 0)
			printf(" (last seen %s%s)", cli_time(s->updated_at),
			       s->stopped_at > 0 ? ", stopped cleanly" : "");
		printf("\n");
	} else {
		printf("daemon: unknown\n");
	}
	for (size_t i = 0; i < r->n_mailboxes; i++) {
		const struct health_mailbox *m = &r->mailboxes[i];
		printf("mailbox %s: %s", m->name, m->state);
		if (m->known) {
			if (m->failures > 0)
				printf(" after %lld failure%s", (long long)m->failures,
				       m->failures == 1 ? "" : "s");
			if (m->backlog > 0)
				printf(", %lld to go", (long long)m->backlog);
			if (m->last_sync > 0)
				printf(", last sync %s (%s ago)", cli_time(m->last_sync),
				       age_text(r->now - m->last_sync));
			else
				printf(", not synced yet");
			if (m->last_error != NULL)
				printf(": %s", m->last_error);
		}
		printf("\n");
	}
	if (r->n_mailboxes == 0)
		printf("mailboxes: none configured\n");
	if (r->have_stats) {
		const struct store_stats *st = &r->stats;
		printf("outbox: %lld queued, %lld deferred, %lld sending, %lld failed",
		       (long long)st->outbox_queued, (long long)st->outbox_deferred,
		       (long long)st->outbox_sending, (long long)st->outbox_failed);
		if (st->outbox_oldest_at > 0)
			printf("; oldest waiting %s", age_text(r->now - st->outbox_oldest_at));
		printf("\nquarantine: %lld held\n", (long long)st->quarantine_held);
		printf("unanswered tickets: %lld", (long long)st->tickets_unanswered);
		if (st->oldest_unanswered_id > 0) {
			printf("; oldest #%lld, waiting %s", (long long)st->oldest_unanswered_id,
			       age_text(r->now - st->oldest_unanswered_at));
			if (st->oldest_unanswered_due > 0)
				printf(", %s %s", st->oldest_unanswered_due < r->now ? "overdue since" : "due",
				       cli_time(st->oldest_unanswered_due));
		}
		printf("\n");
	}
	printf("status: %s", health_status_name(r->status));
	for (size_t i = 0; i < r->n_reasons; i++)
		printf("%s%s", i == 0 ? ": " : "; ", r->reasons[i]);
	printf("\n");
}

/* A time or a pid, or null for 0 (none). */
static struct jsonout *
positive_or_null(int64_t t)
{
	return t > 0 ? jsonout_int(t) : jsonout_str(NULL);
}

static void
print_json(const struct health_report *r)
{
	const struct service_snapshot *s = r->snapshot;
	struct jsonout *o = jsonout_object();
	jsonout_set_str(o, "status", health_status_name(r->status));
	jsonout_set_int(o, "exit", (int64_t)r->status);
	struct jsonout *reasons = jsonout_array();
	for (size_t i = 0; i < r->n_reasons; i++)
		jsonout_append(reasons, jsonout_str(r->reasons[i]));
	jsonout_set(o, "reasons", reasons);
	jsonout_set_int(o, "now", r->now);

	struct jsonout *d = jsonout_object();
	jsonout_set_bool(d, "running", r->running);
	jsonout_set(d, "pid", positive_or_null(r->pid));
	jsonout_set_bool(d, "pid_file_locked", r->locked);
	jsonout_set(d, "started_at", positive_or_null(s != NULL ? s->started_at : 0));
	jsonout_set(d, "status_updated_at", positive_or_null(s != NULL ? s->updated_at : 0));
	jsonout_set(d, "stopped_at", positive_or_null(s != NULL ? s->stopped_at : 0));
	jsonout_set_str(d, "metrics", s != NULL ? s->metrics : NULL);
	jsonout_set(o, "daemon", d);

	struct jsonout *mbs = jsonout_array();
	for (size_t i = 0; i < r->n_mailboxes; i++) {
		const struct health_mailbox *m = &r->mailboxes[i];
		struct jsonout *mo = jsonout_object();
		jsonout_set_str(mo, "name", m->name);
		jsonout_set_str(mo, "state", m->state);
		jsonout_set_bool(mo, "connected", m->connected);
		jsonout_set_int(mo, "failures", m->failures);
		jsonout_set(mo, "last_sync", positive_or_null(m->last_sync));
		jsonout_set_str(mo, "last_error", m->last_error);
		jsonout_set_int(mo, "backlog", m->backlog);
		jsonout_append(mbs, mo);
	}
	jsonout_set(o, "mailboxes", mbs);

	if (r->have_stats) {
		const struct store_stats *st = &r->stats;
		struct jsonout *ob = jsonout_object();
		jsonout_set_int(ob, "queued", st->outbox_queued);
		jsonout_set_int(ob, "deferred", st->outbox_deferred);
		jsonout_set_int(ob, "sending", st->outbox_sending);
		jsonout_set_int(ob, "failed", st->outbox_failed);
		jsonout_set(ob, "oldest_at", positive_or_null(st->outbox_oldest_at));
		jsonout_set(o, "outbox", ob);
		jsonout_set_int(o, "quarantine_held", st->quarantine_held);
		struct jsonout *u = jsonout_object();
		jsonout_set_int(u, "count", st->tickets_unanswered);
		if (st->oldest_unanswered_id > 0) {
			struct jsonout *t = jsonout_object();
			jsonout_set_int(t, "ticket", st->oldest_unanswered_id);
			jsonout_set_int(t, "created_at", st->oldest_unanswered_at);
			jsonout_set(t, "due_at", positive_or_null(st->oldest_unanswered_due));
			jsonout_set(u, "oldest", t);
		} else {
			jsonout_set(u, "oldest", jsonout_str(NULL));
		}
		jsonout_set(o, "unanswered", u);
	} else {
		jsonout_set(o, "outbox", jsonout_str(NULL));
		jsonout_set(o, "quarantine_held", jsonout_str(NULL));
		jsonout_set(o, "unanswered", jsonout_str(NULL));
	}
	jsonout_print(o, stdout);
	jsonout_free(&o);
}

int
cmd_status(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			status_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "deskgate status: unknown argument %s\n", log_safe(argv[i], 64));
			status_usage(stderr);
			return EXIT_USAGE;
		}
	}

	/* Not cli_config(): for monitoring, a configuration that cannot be
	   read is "unknown" (3), not 78. */
	const char *path = cli_global.config_path != NULL ? cli_global.config_path
							  : CONFIG_DEFAULT_PATH;
	struct config *config;
	const char *error;
	struct health_report *r;
	if (config_load(path, &config, &error) < 0) {
		r = health_unknown((int64_t)time(NULL),
				   errf("cannot read the configuration: %s", error));
	} else {
		r = health_check(config, (int64_t)time(NULL));
		config_free(&config);
	}
	if (json)
		print_json(r);
	else
		print_text(r);
	fflush(stdout);
	int status = (int)r->status;
	health_report_free(&r);
	return status;
}
