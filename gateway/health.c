/* health: see health.h. */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/health.h"
#include "gateway/service.h"
#include "gateway/store.h"
#include "gateway/storeloc.h"
#include "base/file.h"
#include "base/util.h"

#define PID_FILE "deskgate.pid"

int
health_pid_probe(const char *path, int64_t *pid_r, int *locked_r, int *alive_r,
		 const char **error_r)
{
	*pid_r = 0;
	*locked_r = *alive_r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = errf("%s: %s", path, strerror(errno));
		return -1;
	}
	char *data;
	size_t len;
	if (file_read_fd(fd, 64, &data, &len, error_r) < 0) {
		*error_r = errf("%s: %s", path, *error_r);
		close(fd);
		return -1;
	}
	/* A shared lock is refused while the daemon holds its exclusive one;
	   when it is granted, nobody holds one: give it back at once. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			*locked_r = 1;
	} else {
		(void)flock(fd, LOCK_UN);
	}
	close(fd);
	uint64_t pid;
	int ok = str_to_u64(str_trim(data), INT32_MAX, &pid) == 0 && pid > 1;
	free(data);
	if (!ok) {
		if (*locked_r)
			return 1; /* being written: locked but not yet filled */
		return 0;
	}
	*pid_r = (int64_t)pid;
	*alive_r = kill((pid_t)pid, 0) == 0 || errno == EPERM;
	return 1;
}

static void
reason(struct health_report *r, const char *fmt, ...) DG_ATTR_PRINTF(2, 3);

static void
reason(struct health_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->reasons = xreallocarray(r->reasons, r->n_reasons + 1, sizeof(*r->reasons));
	r->reasons[r->n_reasons++] = xvasprintf(fmt, ap);
	va_end(ap);
}

static const struct service_mailbox *
snapshot_mailbox(const struct service_snapshot *snap, const char *name)
{
	if (snap == NULL)
		return NULL;
	for (size_t i = 0; i < snap->n_mailboxes; i++)
		if (strcmp(snap->mailboxes[i].name, name) == 0)
			return &snap->mailboxes[i];
	return NULL;
}

void
health_add_mailbox(struct health_report *r, const char *name)
{
	r->mailboxes = xreallocarray(r->mailboxes, r->n_mailboxes + 1, sizeof(*r->mailboxes));
	struct health_mailbox *m = &r->mailboxes[r->n_mailboxes++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	const struct service_mailbox *sm = snapshot_mailbox(r->snapshot, name);
	if (sm == NULL) {
		m->state = xstrdup("unknown");
		return;
	}
	m->known = 1;
	m->state = xstrdup(sm->state);
	m->connected = sm->connected;
	m->failures = sm->failures;
	m->last_sync = sm->last_sync;
	m->last_error = sm->last_error != NULL ? xstrdup(sm->last_error) : NULL;
	m->backlog = sm->backlog;
}

static int
fresh_snapshot(const struct health_report *r)
{
	const struct service_snapshot *s = r->snapshot;
	return s != NULL && s->pid == r->pid && s->stopped_at == 0 &&
	       r->now - s->updated_at <= SERVICE_STALE;
}

void
health_judge(struct health_report *r)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		free(r->reasons[i]);
	x_free(&r->reasons);
	r->n_reasons = 0;
	r->running = 0;

	if (r->locked || (r->pid > 0 && r->alive && fresh_snapshot(r))) {
		r->running = 1;
	} else if (r->pid > 0 && r->alive) {
		reason(r, "process %lld of the pid file is alive, but it does not lock the pid file "
			  "and writes no fresh status file: is it deskgate?",
		       (long long)r->pid);
		r->status = HEALTH_UNKNOWN;
		return;
	} else {
		if (r->pid > 0)
			reason(r, "not running (stale pid file: process %lld is gone)",
			       (long long)r->pid);
		else
			reason(r, "not running (no pid file)");
		r->status = HEALTH_NOT_RUNNING;
		return;
	}

	int degraded = 0, unknown = 0;
	const struct service_snapshot *s = r->snapshot;
	if (s == NULL) {
		reason(r, "no status file from the daemon%s%s",
		       r->snapshot_error != NULL ? ": " : "",
		       r->snapshot_error != NULL ? r->snapshot_error : "");
		degraded = 1;
	} else if (r->pid > 0 && s->pid != r->pid) {
		reason(r, "the status file is from process %lld, not from the daemon (%lld)",
		       (long long)s->pid, (long long)r->pid);
		degraded = 1;
	} else if (r->now - s->updated_at > SERVICE_STALE) {
		reason(r, "the daemon has not updated its status for %lld s: its loop is busy or "
			  "stuck",
		       (long long)(r->now - s->updated_at));
		degraded = 1;
	}
	for (size_t i = 0; i < r->n_mailboxes && s != NULL; i++) {
		const struct health_mailbox *m = &r->mailboxes[i];
		if (!m->known) {
			reason(r, "mailbox %s: not served by the running daemon (reload it)", m->name);
			degraded = 1;
		} else if (m->failures > 0 || strcmp(m->state, "backoff") == 0 ||
			   strcmp(m->state, "failed") == 0) {
			reason(r, "mailbox %s: %s after %lld failure%s%s%s", m->name, m->state,
			       (long long)m->failures, m->failures == 1 ? "" : "s",
			       m->last_error != NULL ? ": " : "",
			       m->last_error != NULL ? m->last_error : "");
			degraded = 1;
		}
	}
	if (!r->have_stats) {
		reason(r, "cannot read the store: %s",
		       r->stats_error != NULL ? r->stats_error : "unknown error");
		unknown = 1;
	} else if (r->stats.outbox_deferred > 0) {
		reason(r, "%lld outgoing message%s deferred after a temporary failure (deskgate "
			  "outbox list)",
		       (long long)r->stats.outbox_deferred, r->stats.outbox_deferred == 1 ? "" : "s");
		degraded = 1;
	}
	r->status = degraded  ? HEALTH_DEGRADED
		    : unknown ? HEALTH_UNKNOWN
			      : HEALTH_OK;
}

struct health_report *
health_check(const struct config *config, int64_t now)
{
	struct health_report *r = xcalloc(1, sizeof(*r));
	const char *error;
	r->now = now;

	char *pid_path = xasprintf("%s/%s", config->state_dir, PID_FILE);
	if (health_pid_probe(pid_path, &r->pid, &r->locked, &r->alive, &error) < 0) {
		free(pid_path);
		r->status = HEALTH_UNKNOWN;
		reason(r, "%s", error);
		return r;
	}
	free(pid_path);
	if (service_snapshot_read(config->state_dir, &r->snapshot, &error) < 0)
		r->snapshot_error = xstrdup(error);

	struct store *store;
	if (storeloc_open(config, &store, &error) < 0) {
		r->stats_error = xstrdup(error);
	} else {
		if (store_stats(store, &r->stats, &error) < 0)
			r->stats_error = xstrdup(error);
		else
			r->have_stats = 1;
		store_close(&store);
	}
	for (size_t i = 0; i < config->n_mailboxes; i++)
		health_add_mailbox(r, config->mailboxes[i].name);
	health_judge(r);
	return r;
}

struct health_report *
health_unknown(int64_t now, const char *why)
{
	struct health_report *r = xcalloc(1, sizeof(*r));
	r->now = now;
	r->status = HEALTH_UNKNOWN;
	reason(r, "%s", why);
	return r;
}

const char *
health_status_name(enum health_status status)
{
	static const char *const names[] = { "ok", "degraded", "not_running", "unknown" };
	return (unsigned)status < N_ELEMENTS(names) ? names[status] : "unknown";
}

void
health_report_free(struct health_report **rp)
{
	struct health_report *r = *rp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_reasons; i++)
		free(r->reasons[i]);
	free(r->reasons);
	for (size_t i = 0; i < r->n_mailboxes; i++) {
		free(r->mailboxes[i].name);
		free(r->mailboxes[i].state);
		free(r->mailboxes[i].last_error);
	}
	free(r->mailboxes);
	service_snapshot_free(&r->snapshot);
	free(r->snapshot_error);
	free(r->stats_error);
	free(r);
	*rp = NULL;
}
