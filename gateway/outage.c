/* outage: see outage.h. */
#include "build-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/log.h"
#include "gateway/outage.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "base/util.h"

#define EVENT_OUTAGE "outage"
#define EVENT_RECOVERED "recovered"

struct outage {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	struct supervisor *sv;
};

int
outage_new(const struct config *config, struct store *store, struct outage **outage_r,
	   const char **error_r)
{
	struct outage *o = xcalloc(1, sizeof(*o));
	o->config = config;
	o->store = store;
	/* no threading: the alerts belong to no ticket */
	if (deskmail_new(config, NULL, store, &o->dm, error_r) < 0 ||
	    supervisor_new(config, &o->sv, error_r) < 0) {
		outage_free(&o);
		*outage_r = NULL;
		return -1;
	}
	*outage_r = o;
	return 0;
}

void
outage_free(struct outage **op)
{
	struct outage *o = *op;
	if (o == NULL)
		return;
	deskmail_free(&o->dm);
	supervisor_free(&o->sv);
	free(o);
	*op = NULL;
}

static void
add_supervisor(void *context, const char *address, const struct config_agent *a)
{
	deskmail_add_to(context, a != NULL ? a->name : NULL, address);
}

/* The desk's supervisors (supervisor.h: [alerts] supervisors, else the
   agents with supervisor = yes, else every agent). */
static void
add_recipients(const struct outage *o, struct deskmail_msg *m)
{
	(void)supervisor_desk(o->sv, add_supervisor, m);
}

static char *
prefix_of(const char *subject)
{
	return xasprintf("%s: ", subject);
}

int
outage_is_open(struct outage *o, const char *subject, const char **error_r)
{
	char *prefix = prefix_of(subject);
	int ret = store_event_last_of(o->store, EVENT_OUTAGE, EVENT_RECOVERED, prefix, error_r);
	free(prefix);
	return ret < 0 ? -1 : ret == 1;
}

/* Record the change of state and queue its mail, in one transaction,
   unless the state already is `to` (1 begun or ended, 0 nothing to do). */
static int
change(struct outage *o, int to_open, const char *subject, const char *why, int64_t now,
       const char **error_r)
{
	/* why with !to_open: the outage ends because the subject is gone */
	const char *kind = to_open ? EVENT_OUTAGE : EVENT_RECOVERED;
	if (store_begin(o->store, error_r) < 0)
		return -1;
	int open = outage_is_open(o, subject, error_r);
	if (open < 0 || open == to_open) {
		store_rollback(o->store);
		return open < 0 ? -1 : 0;
	}

	struct deskmail_msg *m = deskmail_start(o->dm, 0, "alert", DESKMAIL_REPLY_NONE,
						"auto-generated", now);
	add_recipients(o, m);
	char stamp[64];
	time_t t = (time_t)now;
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
	/* A relay (outbox.c) sends; a mailbox (poller.c) is fetched from. */
	int relay = strncmp(subject, "relay ", 6) == 0;
	int gone = !to_open && why != NULL;
	char *subj = xasprintf("[deskgate] %s %s", subject,
			       gone ? "is no longer configured: its outage is closed"
			       : to_open ? (relay ? "refuses our login: mail is not being sent"
						  : "cannot log in: mail is not being fetched")
					 : (relay ? "takes our login again: mail is sent"
						  : "logs in again: mail is fetched"));
	deskmail_subject_as_is(m, subj);
	struct buf text;
	buf_init(&text, 16 * 1024);
	if (gone)
		(void)buf_printf(&text,
				 "deskgate on %s no longer uses %s (%s), which could not log in "
				 "before; its outage is closed at %s.\n",
				 o->config->hostname, subject, why, stamp);
	else if (relay && to_open)
		(void)buf_printf(&text,
				 "deskgate on %s cannot log in to the %s since %s:\n\n    %s\n\n"
				 "No mail is sent until it can: acknowledgements, agents' answers "
				 "and notifications wait in the outbox, nothing is lost.\nIf it "
				 "uses OAuth2, the refresh token may have expired or been revoked: "
				 "renew it for the token command\n([smtp] token_command or "
				 "token_file in %s), or check [smtp] username and password.\n"
				 "This mail itself waits for the relay too: you read it once the "
				 "relay takes our login again.\n",
				 o->config->hostname, subject, stamp, why, o->config->path);
	else if (relay)
		(void)buf_printf(&text,
				 "deskgate on %s logged in to the %s again at %s.\nThe mail that "
				 "waited in the outbox is being sent now.\n",
				 o->config->hostname, subject, stamp);
	else if (to_open)
		(void)buf_printf(&text,
				 "deskgate on %s cannot log in to %s since %s:\n\n    %s\n\n"
				 "No mail is fetched from it until it can: customers' mail waits "
				 "on the server, nothing is lost.\nIf it uses OAuth2, the refresh "
				 "token may have expired or been revoked: renew it for the token "
				 "command\n(token_command or token_file in its section of %s). "
				 "deskgate keeps trying and says\nso once more when it logs in "
				 "again; `deskgate status` shows the state meanwhile.\n",
				 o->config->hostname, subject, stamp, why, o->config->path);
	else
		(void)buf_printf(&text,
				 "deskgate on %s logged in to %s again at %s.\nThe mail that "
				 "waited on the server is being fetched now.\n",
				 o->config->hostname, subject, stamp);
	compose_set_text(deskmail_compose(m), buf_cstr(&text), text.len);

	struct deskmail_result res;
	const char *not_sent = NULL;
	int q = deskmail_queue(o->dm, &m, &res, &not_sent, error_r);
	int ret = -1;
	if (q >= 0 &&
	    store_event_addf(o->store, 0, kind, error_r, "%s: %s%s%s", subject,
			     to_open ? why : gone ? why : "logs in again",
			     q == 1 ? "; told " : "; nobody told: ",
			     q == 1 ? res.recipients : not_sent) == 0 &&
	    store_commit(o->store, error_r) == 0) {
		if (to_open)
			log_error("%s: OUTAGE: %s; %s%s", subject, why,
				  q == 1 ? "told " : "nobody told: ",
				  log_safe(q == 1 ? res.recipients : not_sent, 300));
		else
			log_info("%s: recovered; %s%s", subject, q == 1 ? "told " : "nobody told: ",
				 log_safe(q == 1 ? res.recipients : not_sent, 300));
		ret = 1;
	} else {
		store_rollback(o->store);
	}
	deskmail_result_clear(&res);
	buf_free(&text);
	free(subj);
	return ret;
}

int
outage_begin(struct outage *o, const char *subject, const char *why, int64_t now,
	     const char **error_r)
{
	return change(o, 1, subject, why, now, error_r);
}

int
outage_end(struct outage *o, const char *subject, int64_t now, const char **error_r)
{
	return change(o, 0, subject, NULL, now, error_r);
}

char *
outage_subject_mailbox(const char *name)
{
	return xasprintf("mailbox %s", name);
}

char *
outage_subject_relay(const char *host, uint64_t port)
{
	return xasprintf("relay %s:%llu", host, (unsigned long long)port);
}

int
outage_close_unknown(struct outage *o, const char *const *known, size_t n_known, int64_t now,
		     const char **error_r)
{
	struct store_event *ev = NULL;
	size_t n = 0;
	int closed = 0;
	if (store_event_list(o->store, 0, &ev, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n && closed >= 0; i++) {
		if (strcmp(ev[i].kind, EVENT_OUTAGE) != 0 || ev[i].detail == NULL)
			continue;
		const char *colon = strstr(ev[i].detail, ": ");
		if (colon == NULL)
			continue;
		char *subject = xstrndup(ev[i].detail, (size_t)(colon - ev[i].detail));
		int is_known = 0;
		for (size_t k = 0; k < n_known && !is_known; k++)
			is_known = strcmp(known[k], subject) == 0;
		/* change() looks at the newest event: an outage seen twice in
		   the list is closed once */
		if (!is_known) {
			int r = change(o, 0, subject, "no longer in the configuration", now, error_r);
			if (r < 0)
				closed = -1;
			else
				closed += r;
		}
		free(subject);
	}
	store_events_free(&ev, n);
	return closed;
}

/* ---- streaks ---------------------------------------------------------------- */

struct outage_streak {
	pthread_mutex_t lock;
	char *subject;
	unsigned failures; /* in a row */
	int open;	   /* our outage is open in the store */
	int checked;	   /* the store was asked (or told) since we started */
};

struct outage_streak *
outage_streak_new(const char *subject)
{
	struct outage_streak *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->subject = xstrdup(subject);
	return s;
}

void
outage_streak_free(struct outage_streak **sp)
{
	struct outage_streak *s = *sp;
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->subject);
	free(s);
	*sp = NULL;
}

int
outage_streak_failed(struct outage_streak *s, struct outage *o, unsigned after, const char *what,
		     const char *last, int64_t now, const char **error_r)
{
	int ret = 0;
	pthread_mutex_lock(&s->lock);
	s->failures++;
	if (!s->open && s->failures >= after && o != NULL) {
		char *why = xasprintf("%u %s in a row; the last: %s", s->failures, what, last);
		/* the store answers "already open" (0) for a previous run's */
		ret = outage_begin(o, s->subject, why, now, error_r);
		if (ret >= 0)
			s->open = s->checked = 1;
		free(why);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int
outage_streak_ok(struct outage_streak *s, struct outage *o, int64_t now, const char **error_r)
{
	int ret = 0;
	pthread_mutex_lock(&s->lock);
	s->failures = 0;
	if ((s->open || !s->checked) && o != NULL) {
		ret = outage_end(o, s->subject, now, error_r);
		if (ret >= 0) {
			s->open = 0;
			s->checked = 1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void
outage_streak_reset(struct outage_streak *s)
{
	pthread_mutex_lock(&s->lock);
	s->failures = 0;
	pthread_mutex_unlock(&s->lock);
}

unsigned
outage_streak_count(struct outage_streak *s)
{
	pthread_mutex_lock(&s->lock);
	unsigned n = s->failures;
	pthread_mutex_unlock(&s->lock);
	return n;
}

const char *
outage_streak_subject(const struct outage_streak *s)
{
	return s->subject;
}
