/* service: see service.h. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/httpd.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/notify.h"
#include "gateway/service.h"
#include "gateway/store.h"
#include "base/file.h"
#include "base/util.h"

#define STATUS_FILE_MAX (1024 * 1024)
#define METRICS_MAX_BYTES (8 * 1024 * 1024)
#define STATUS_LINE_MAX 4096

struct service {
	struct poller *poller;
	struct store *store;
	struct httpd *httpd;
	char *status_path;
	char *status_tmp;
	int64_t started_at;
	double watchdog_half; /* seconds; 0: no watchdog */
	double last_watchdog;
	double last_write;
	double last_stats;
	int stats_tried;
	int stats_failing;
	int write_failing;
	struct store_stats stats;
	int have_stats;
	char *last_signature;
	char *last_line;
	struct poller_mb_status *mbs;
	size_t n_mbs;
};

static const char *const state_names[POLLER_MB_STATES] = {
	[POLLER_MB_CONNECTING] = "connecting", [POLLER_MB_SYNCING] = "syncing",
	[POLLER_MB_IDLE] = "idle",	       [POLLER_MB_WAITING] = "waiting",
	[POLLER_MB_BACKOFF] = "backoff",       [POLLER_MB_DONE] = "done",
	[POLLER_MB_FAILED] = "failed",	       [POLLER_MB_AUTH_FAILED] = "auth_failed",
};

const char *
service_state_name(enum poller_mb_state state)
{
	return (unsigned)state < POLLER_MB_STATES ? state_names[state] : "unknown";
}

char *
service_status_line(const struct poller_mb_status *mbs, size_t n, const struct store_stats *stats)
{
	struct buf b;
	buf_init(&b, STATUS_LINE_MAX);
	if (n == 0)
		(void)buf_puts(&b, "no mailboxes");
	for (size_t i = 0; i < n; i++) {
		const struct poller_mb_status *m = &mbs[i];
		/* a line that would overflow ends with the mailboxes that fit */
		if (buf_printf(&b, "%s%s %s", i > 0 ? ", " : "", log_safe(m->name, 64),
			       service_state_name(m->state)) < 0 ||
		    (m->failures > 0 && buf_printf(&b, " after %u failure%s", m->failures,
						   m->failures == 1 ? "" : "s") < 0) ||
		    (m->backlog > 0 && buf_printf(&b, " (%zu to go)", m->backlog) < 0))
			break;
	}
	if (stats != NULL)
		(void)buf_printf(&b,
				 "; outbox %lld queued, %lld deferred, %lld failed; "
				 "quarantine %lld; unanswered %lld",
				 (long long)(stats->outbox_queued + stats->outbox_sending),
				 (long long)stats->outbox_deferred, (long long)stats->outbox_failed,
				 (long long)stats->quarantine_held,
				 (long long)stats->tickets_unanswered);
	return buf_steal(&b, NULL);
}

/* ---- the status file -------------------------------------------------------- */

/* The file without updated_at (its signature) or with it. */
static struct jsonout *
status_json(const struct service *s, int64_t stopped_at)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_int(o, "version", 1);
	jsonout_set_int(o, "pid", (int64_t)getpid());
	jsonout_set_int(o, "started_at", s->started_at);
	if (stopped_at != 0)
		jsonout_set_int(o, "stopped_at", stopped_at);
	jsonout_set_str(o, "metrics", s->httpd != NULL ? httpd_address(s->httpd) : NULL);
	struct jsonout *a = jsonout_array();
	for (size_t i = 0; i < s->n_mbs; i++) {
		const struct poller_mb_status *m = &s->mbs[i];
		struct jsonout *mo = jsonout_object();
		jsonout_set_str(mo, "name", m->name);
		jsonout_set_str(mo, "state", service_state_name(m->state));
		jsonout_set_bool(mo, "connected", m->connected);
		jsonout_set_int(mo, "failures", m->failures);
		jsonout_set_int(mo, "last_sync", m->last_sync);
		jsonout_set_str(mo, "last_error",
				m->last_error != NULL ? log_safe(m->last_error, 300) : NULL);
		jsonout_set_int(mo, "backlog", (int64_t)m->backlog);
		jsonout_append(a, mo);
	}
	jsonout_set(o, "mailboxes", a);
	return o;
}

static char *
json_text(const struct jsonout *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	if (fp == NULL)
		fatal(EXIT_SOFTWARE, "open_memstream: %s", strerror(errno));
	int r = jsonout_print(o, fp);
	if (fclose(fp) != 0 || r < 0)
		fatal(EXIT_SOFTWARE, "cannot format the status file");
	return text;
}

static int
write_atomically(const char *path, const char *tmp, const char *text, const char **error_r)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		*error_r = errf("%s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = errf("%s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		*error_r = errf("%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
write_status(struct service *s, int64_t stopped_at)
{
	struct jsonout *o = status_json(s, stopped_at);
	char *signature = json_text(o);
	double now = clock_mono();
	if (stopped_at == 0 && s->last_signature != NULL &&
	    strcmp(signature, s->last_signature) == 0 && now - s->last_write < SERVICE_HEARTBEAT) {
		free(signature);
		jsonout_free(&o);
		return;
	}
	jsonout_set_int(o, "updated_at", (int64_t)time(NULL));
	char *text = json_text(o);
	jsonout_free(&o);
	const char *error;
	if (write_atomically(s->status_path, s->status_tmp, text, &error) < 0) {
		if (!s->write_failing)
			log_warnx("status file: %s (deskgate status will call the daemon stuck)",
				  error);
		s->write_failing = 1;
	} else {
		s->write_failing = 0;
		s->last_write = now;
		free(s->last_signature);
		s->last_signature = signature;
		signature = NULL;
	}
	free(signature);
	free(text);
}

/* ---- the tick ----------------------------------------------------------------- */

static void
snapshot(struct service *s)
{
	size_t n = poller_status(s->poller, NULL, 0);
	if (n > s->n_mbs || s->mbs == NULL)
		s->mbs = xreallocarray(s->mbs, n + 1, sizeof(*s->mbs));
	s->n_mbs = poller_status(s->poller, s->mbs, n);
}

static void
refresh_stats(struct service *s)
{
	const char *error;
	s->last_stats = clock_mono();
	s->stats_tried = 1;
	if (store_stats(s->store, &s->stats, &error) < 0) {
		metrics_inc(METRIC_STORE_ERRORS, "status");
		if (!s->stats_failing)
			log_warnx("status: %s", error);
		s->stats_failing = 1;
		return;
	}
	if (s->stats_failing)
		log_info("status: the store answers again");
	s->stats_failing = 0;
	s->have_stats = 1;
	if (!metrics_enabled())
		return;
	const struct store_stats *st = &s->stats;
	int64_t now = (int64_t)time(NULL);
	metrics_set(METRIC_OUTBOX, "queued", NULL, (double)st->outbox_queued);
	metrics_set(METRIC_OUTBOX, "deferred", NULL, (double)st->outbox_deferred);
	metrics_set(METRIC_OUTBOX, "sending", NULL, (double)st->outbox_sending);
	metrics_set(METRIC_OUTBOX, "failed", NULL, (double)st->outbox_failed);
	metrics_set(METRIC_OUTBOX_OLDEST_AGE, NULL, NULL,
		    st->outbox_oldest_at > 0 && now > st->outbox_oldest_at
			    ? (double)(now - st->outbox_oldest_at)
			    : 0);
	metrics_set(METRIC_QUARANTINE_HELD, NULL, NULL, (double)st->quarantine_held);
	metrics_set(METRIC_TICKETS_UNANSWERED, NULL, NULL, (double)st->tickets_unanswered);
	metrics_set(METRIC_OLDEST_UNANSWERED, NULL, NULL,
		    st->oldest_unanswered_id > 0 && now > st->oldest_unanswered_at
			    ? (double)(now - st->oldest_unanswered_at)
			    : 0);
}

static void
update_mailbox_metrics(const struct service *s)
{
	static const int families[] = { METRIC_MAILBOX_UP, METRIC_MAILBOX_STATE,
					METRIC_MAILBOX_LAST_SYNC, METRIC_MAILBOX_FAILURES,
					METRIC_MAILBOX_BACKLOG };
	if (!metrics_enabled())
		return;
	for (size_t i = 0; i < N_ELEMENTS(families); i++)
		metrics_begin_update(families[i]);
	for (size_t i = 0; i < s->n_mbs; i++) {
		const struct poller_mb_status *m = &s->mbs[i];
		metrics_set(METRIC_MAILBOX_UP, m->name, NULL, m->connected ? 1 : 0);
		for (int k = 0; k < POLLER_MB_STATES; k++)
			metrics_set(METRIC_MAILBOX_STATE, m->name, state_names[k],
				    (int)m->state == k ? 1 : 0);
		metrics_set(METRIC_MAILBOX_LAST_SYNC, m->name, NULL, (double)m->last_sync);
		metrics_set(METRIC_MAILBOX_FAILURES, m->name, NULL, (double)m->failures);
		metrics_set(METRIC_MAILBOX_BACKLOG, m->name, NULL, (double)m->backlog);
	}
	for (size_t i = 0; i < N_ELEMENTS(families); i++)
		metrics_end_update(families[i]);
}

static void
tick(void *context)
{
	struct service *s = context;
	double now = clock_mono();

	/* The tick runs about once a second: ping when the next tick would be
	   late, but not twice within half a second (the first timer run comes
	   right after service_start()'s own tick). */
	double since = now - s->last_watchdog;
	if (s->watchdog_half > 0 && since + 1.0 >= s->watchdog_half && since >= 0.5) {
		notify_watchdog();
		s->last_watchdog = now;
	}
	if (!s->stats_tried || now - s->last_stats >= SERVICE_STATS_INTERVAL)
		refresh_stats(s);
	snapshot(s);
	update_mailbox_metrics(s);
	char *line = service_status_line(s->mbs, s->n_mbs, s->have_stats ? &s->stats : NULL);
	if (s->last_line == NULL || strcmp(line, s->last_line) != 0) {
		notify_status(line);
		free(s->last_line);
		s->last_line = line;
	} else {
		free(line);
	}
	write_status(s, 0);
}

/* ---- start and stop -------------------------------------------------------------- */

static char *
render_metrics(void *context, size_t *len_r)
{
	const char *error;
	(void)context;
	char *text = metrics_render(METRICS_MAX_BYTES, len_r, &error);
	if (text == NULL)
		log_warnx("%s", error);
	return text;
}

int
service_start(struct poller *poller, struct store *store, struct service **service_r)
{
	const struct config *config = poller_config(poller);
	const char *error;

	*service_r = NULL;
	if (notify_init(&error) < 0)
		log_warnx("%s: not notifying the service manager", error);
	struct service *s = xcalloc(1, sizeof(*s));
	s->poller = poller;
	s->store = store;
	s->started_at = (int64_t)time(NULL);
	s->status_path = xasprintf("%s/%s", config->state_dir, SERVICE_STATUS_FILE);
	s->status_tmp = xasprintf("%s/.%s.tmp", config->state_dir, SERVICE_STATUS_FILE);

	if (config->metrics.listen != NULL) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (httpd_parse_listen(config->metrics.listen, &ss, &len, &error) < 0) {
			log_error("%s: [metrics] listen: %s", config->path, error);
			service_stop(&s);
			return EXIT_CONFIG;
		}
		metrics_enable();
		metrics_set(METRIC_START_TIME, NULL, NULL, (double)s->started_at);
		if (httpd_start(config->metrics.listen, "/metrics", METRICS_CONTENT_TYPE,
				render_metrics, NULL, &s->httpd, &error) < 0) {
			log_error("metrics: %s", error);
			service_stop(&s);
			return EXIT_UNAVAILABLE;
		}
		log_info("metrics: serving http://%s/metrics", httpd_address(s->httpd));
	}
	uint64_t usec = notify_watchdog_usec();
	if (usec > 0) {
		s->watchdog_half = (double)usec / 2e6;
		if (usec < 2000000)
			log_warnx("WatchdogSec below 2 s: the loop pings once a second and may be "
				  "too late");
		s->last_watchdog = -1e9; /* the first tick pings */
	}
	tick(s);
	poller_add_timer(poller, 1, tick, s);
	notify_ready();
	*service_r = s;
	return 0;
}

void
service_stop(struct service **sp)
{
	struct service *s = *sp;
	if (s == NULL)
		return;
	notify_stopping();
	if (s->last_signature != NULL) {
		snapshot(s);
		write_status(s, (int64_t)time(NULL));
	}
	httpd_stop(&s->httpd);
	metrics_disable();
	free(s->status_path);
	free(s->status_tmp);
	free(s->last_signature);
	free(s->last_line);
	free(s->mbs);
	free(s);
	*sp = NULL;
}

/* ---- reading the status file ---------------------------------------------------- */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
service_snapshot_read(const char *state_dir, struct service_snapshot **snapshot_r,
		      const char **error_r)
{
	char *path = xasprintf("%s/%s", state_dir, SERVICE_STATUS_FILE);
	char *data;
	size_t len;
	*snapshot_r = NULL;
	int r = file_read(path, STATUS_FILE_MAX, &data, &len, error_r);
	if (r <= 0) {
		free(path);
		return r;
	}
	const char *why;
	struct jsonout *o = jsonout_parse(data, len, &why);
	free(data);
	if (o == NULL || jsonout_get_int(o, "version", 0) != 1) {
		*error_r = errf("%s: %s", path, o == NULL ? why : "not a version 1 status file");
		jsonout_free(&o);
		free(path);
		return -1;
	}
	free(path);
	struct service_snapshot *snap = xcalloc(1, sizeof(*snap));
	snap->pid = jsonout_get_int(o, "pid", 0);
	snap->started_at = jsonout_get_int(o, "started_at", 0);
	snap->updated_at = jsonout_get_int(o, "updated_at", 0);
	snap->stopped_at = jsonout_get_int(o, "stopped_at", 0);
	snap->metrics = dup_or_null(jsonout_get_str(o, "metrics"));
	const struct jsonout *a = jsonout_get(o, "mailboxes");
	size_t n = jsonout_array_size(a);
	snap->mailboxes = xcalloc(n + 1, sizeof(*snap->mailboxes));
	for (size_t i = 0; i < n; i++) {
		const struct jsonout *m = jsonout_array_get(a, i);
		const char *name = jsonout_get_str(m, "name");
		if (name == NULL)
			continue;
		struct service_mailbox *sm = &snap->mailboxes[snap->n_mailboxes++];
		sm->name = xstrdup(name);
		const char *state = jsonout_get_str(m, "state");
		sm->state = xstrdup(state != NULL ? state : "unknown");
		sm->connected = (int)jsonout_get_int(m, "connected", 0);
		sm->failures = jsonout_get_int(m, "failures", 0);
		sm->last_sync = jsonout_get_int(m, "last_sync", 0);
		sm->last_error = dup_or_null(jsonout_get_str(m, "last_error"));
		sm->backlog = jsonout_get_int(m, "backlog", 0);
	}
	jsonout_free(&o);
	*snapshot_r = snap;
	return 1;
}

void
service_snapshot_free(struct service_snapshot **sp)
{
	struct service_snapshot *s = *sp;
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_mailboxes; i++) {
		free(s->mailboxes[i].name);
		free(s->mailboxes[i].state);
		free(s->mailboxes[i].last_error);
	}
	free(s->mailboxes);
	free(s->metrics);
	free(s);
	*sp = NULL;
}
