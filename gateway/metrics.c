/*
 * metrics: see metrics.h. The exposition format is written by hand: it is a
 * few lines of text per series (the Prometheus client library for C,
 * prometheus-client-c, is not packaged in Debian), and its escaping rules
 * are two: label values escape backslash, double quote and line feed; HELP
 * texts backslash and line feed.
 */
#include "build-config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/metrics.h"
#include "base/util.h"

struct series {
	char *labels[METRICS_MAX_LABELS];
	double value;
	int stale; /* between begin_update and end_update: not set again yet */
};

struct family {
	char *name;
	enum metrics_type type;
	char *help;
	char *label_names[METRICS_MAX_LABELS];
	size_t n_labels;
	/* label values that start at 0 when the registry is enabled */
	const char *const *preset;
	struct series *series;
	size_t n_series;
	int updating; /* begin_update .. end_update */
};

static const char *const mail_kinds[] = { "ack",    "notify", "relay",    "notice", "error",
					   "escalation", "digest", "desk", "survey", "reminder",
					   "alert",  "report", NULL };
static const char *const outcomes[] = { "new_ticket", "appended", "duplicate",
					"report",     "quarantined", NULL };
static const char *const smtp_classes[] = { "2xx", "4xx", "5xx", "transport", NULL };
static const char *const outbox_states[] = { "queued", "deferred", "sending", "failed", NULL };
static const char *const store_during[] = { "ingest", "outbox", "status", "lease", "schedule", NULL };
static const char *const no_labels[] = { "", NULL };

struct builtin {
	const char *name;
	enum metrics_type type;
	const char *label;
	const char *label2;
	const char *const *preset;
	const char *help;
};

#define C METRICS_COUNTER
#define G METRICS_GAUGE
static const struct builtin builtins[METRIC_BUILTIN_COUNT] = {
	[METRIC_BUILD_INFO] = { "deskgate_build_info", G, "version", NULL, NULL,
				"The running deskgate's version (always 1)." },
	[METRIC_START_TIME] = { "deskgate_start_time_seconds", G, NULL, NULL, NULL,
				"When the daemon started, seconds since the epoch." },
	[METRIC_MAILBOX_UP] = { "deskgate_mailbox_up", G, "mailbox", NULL, NULL,
				"1 when the mailbox's IMAP connection is logged in and selected." },
	[METRIC_MAILBOX_STATE] = { "deskgate_mailbox_state", G, "mailbox", "state", NULL,
				   "The mailbox's state: 1 for the current one, 0 for the others." },
	[METRIC_MAILBOX_LAST_SYNC] = { "deskgate_mailbox_last_sync_timestamp_seconds", G, "mailbox",
				       NULL, NULL,
				       "When the mailbox was last fully synchronised (0: not yet)." },
	[METRIC_MAILBOX_FAILURES] = { "deskgate_mailbox_consecutive_failures", G, "mailbox", NULL,
				      NULL, "Failed attempts in a row (connect, login, sync, store)." },
	[METRIC_MAILBOX_BACKLOG] = { "deskgate_mailbox_backlog_messages", G, "mailbox", NULL, NULL,
				     "Messages found new on the server and not yet processed." },
	[METRIC_FETCHED] = { "deskgate_imap_messages_fetched_total", C, "mailbox", NULL, NULL,
			     "Messages fetched over IMAP (again after a rolled-back batch)." },
	[METRIC_FETCHED_BYTES] = { "deskgate_imap_fetched_bytes_total", C, "mailbox", NULL, NULL,
				   "Bytes of messages fetched over IMAP." },
	[METRIC_INGESTED] = { "deskgate_messages_ingested_total", C, "outcome", NULL, outcomes,
			      "Messages through the pipeline, by what became of them (committed)." },
	[METRIC_QUARANTINED] = { "deskgate_messages_quarantined_total", C, "reason", NULL, NULL,
				 "Messages quarantined, by the class of the reason (committed)." },
	[METRIC_TICKETS_OPENED] = { "deskgate_tickets_opened_total", C, NULL, NULL, no_labels,
				    "Tickets opened (committed)." },
	[METRIC_MAIL_SENT] = { "deskgate_mail_sent_total", C, "kind", NULL, mail_kinds,
			       "Outgoing mail accepted by the relay, by kind (ack, notify, relay...)." },
	[METRIC_MAIL_FAILED] = { "deskgate_mail_failed_total", C, "kind", NULL, mail_kinds,
				 "Outgoing mail refused by the relay (5xx), by kind." },
	[METRIC_SMTP_RESULTS] = { "deskgate_smtp_results_total", C, "class", NULL, smtp_classes,
				  "Attempts to send mail, by the class of the relay's last reply "
				  "(transport: no reply: connection, TLS or time-out)." },
	[METRIC_OUTBOX] = { "deskgate_outbox_messages", G, "state", NULL, outbox_states,
			    "Outgoing mail waiting or stuck, by state (deferred: queued again after "
			    "a temporary failure)." },
	[METRIC_OUTBOX_OLDEST_AGE] = { "deskgate_outbox_oldest_age_seconds", G, NULL, NULL,
				       no_labels,
				       "Age of the oldest mail queued or deferred (0: none waiting)." },
	[METRIC_QUARANTINE_HELD] = { "deskgate_quarantine_held_messages", G, NULL, NULL, no_labels,
				     "Messages held in quarantine." },
	[METRIC_TICKETS_UNANSWERED] = { "deskgate_tickets_unanswered", G, NULL, NULL, no_labels,
					"Tickets not closed that no agent has answered yet." },
	[METRIC_OLDEST_UNANSWERED] = { "deskgate_oldest_unanswered_ticket_age_seconds", G, NULL,
				       NULL, no_labels,
				       "Age of the oldest unanswered ticket (0: none)." },
	[METRIC_STORE_ERRORS] = { "deskgate_store_errors_total", C, "during", NULL, store_during,
				  "Store failures (the work is retried), by what was being done." },
};
#undef C
#undef G

/* Never held (metrics_hold()): they count what happened, committed or not. */
static const unsigned char never_held[METRIC_BUILTIN_COUNT] = {
	[METRIC_FETCHED] = 1,
	[METRIC_FETCHED_BYTES] = 1,
	[METRIC_SMTP_RESULTS] = 1,
	[METRIC_STORE_ERRORS] = 1,
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int metrics_on;
static struct family *families; /* builtins first, then registered ones */
static size_t n_families;
static int builtins_done;

/* This thread's held updates. */
struct pending {
	int family;
	char *labels[METRICS_MAX_LABELS];
	double value;
	int set;
};
static _Thread_local struct pending *held;
static _Thread_local size_t n_held;
static _Thread_local int hold_depth;

/* ---- names and families (with the lock held) ---------------------------- */

static int
valid_name(const char *s, int metric)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (const char *p = s; *p != '\0'; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (metric && c == ':') || (p > s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return metric || strncmp(s, "__", 2) != 0;
}

static int
family_add(const char *name, enum metrics_type type, const char *help, const char *l1,
	   const char *l2, const char *const *preset)
{
	families = xreallocarray(families, n_families + 1, sizeof(*families));
	struct family *f = &families[n_families];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->type = type;
	f->help = xstrdup(help != NULL ? help : "");
	if (l1 != NULL)
		f->label_names[f->n_labels++] = xstrdup(l1);
	if (l2 != NULL)
		f->label_names[f->n_labels++] = xstrdup(l2);
	f->preset = preset;
	return (int)n_families++;
}

static void
ensure_builtins(void)
{
	if (builtins_done)
		return;
	for (size_t i = 0; i < METRIC_BUILTIN_COUNT; i++) {
		const struct builtin *b = &builtins[i];
		family_add(b->name, b->type, b->help, b->label, b->label2, b->preset);
	}
	builtins_done = 1;
}

static void
series_clear(struct series *s)
{
	for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
		x_free(&s->labels[i]);
}

static void
family_clear_series(struct family *f)
{
	for (size_t i = 0; i < f->n_series; i++)
		series_clear(&f->series[i]);
	x_free(&f->series);
	f->n_series = 0;
	f->updating = 0;
}

/* Label values as stored: valid UTF-8 ('?' for bad bytes), at most 200
   bytes; "" for a missing one. */
static char *
label_copy(const char *v)
{
	if (v == NULL)
		return xstrdup("");
	size_t len = strlen(v);
	if (len > 200)
		len = utf8_truncate_len(v, 200);
	char *c = xstrndup(v, len);
	utf8_sanitize(c, len);
	return c;
}

static int
labels_equal(const struct family *f, const struct series *s, const char *const *v)
{
	for (size_t i = 0; i < f->n_labels; i++)
		if (strcmp(s->labels[i], v[i] != NULL ? v[i] : "") != 0)
			return 0;
	return 1;
}

/* The series for label values v (created at 0 when new). */
static struct series *
series_get(struct family *f, const char *const *v)
{
	static const char *const other[METRICS_MAX_LABELS] = { "other", "other" };
	for (size_t i = 0; i < f->n_series; i++)
		if (labels_equal(f, &f->series[i], v))
			return &f->series[i];
	if (f->n_series >= METRICS_MAX_SERIES - 1 && v != other)
		return series_get(f, other);
	f->series = xreallocarray(f->series, f->n_series + 1, sizeof(*f->series));
	struct series *s = &f->series[f->n_series++];
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < f->n_labels; i++)
		s->labels[i] = label_copy(v[i]);
	return s;
}

static void
family_preset(struct family *f)
{
	if (f->preset == NULL)
		return;
	for (const char *const *p = f->preset; *p != NULL; p++) {
		const char *v[METRICS_MAX_LABELS] = { *p, NULL };
		(void)series_get(f, v);
	}
}

/* Apply one update with the lock held. */
static void
apply(int family, const char *const *v, double value, int set)
{
	if (family < 0 || (size_t)family >= n_families)
		return;
	struct family *f = &families[family];
	if (f->type == METRICS_COUNTER && (set || value < 0 || isnan(value)))
		return;
	struct series *s = series_get(f, v);
	if (set)
		s->value = value;
	else
		s->value += value;
	s->stale = 0;
}

/* ---- public ---------------------------------------------------------------- */

void
metrics_enable(void)
{
	pthread_mutex_lock(&metrics_lock);
	if (!atomic_load(&metrics_on)) {
		ensure_builtins();
		for (size_t i = 0; i < n_families; i++)
			family_preset(&families[i]);
		const char *v[METRICS_MAX_LABELS] = { PACKAGE_VERSION, NULL };
		apply(METRIC_BUILD_INFO, v, 1, 1);
		atomic_store(&metrics_on, 1);
	}
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_disable(void)
{
	pthread_mutex_lock(&metrics_lock);
	atomic_store(&metrics_on, 0);
	for (size_t i = 0; i < n_families; i++) {
		struct family *f = &families[i];
		family_clear_series(f);
		free(f->name);
		free(f->help);
		for (size_t k = 0; k < f->n_labels; k++)
			free(f->label_names[k]);
	}
	x_free(&families);
	n_families = 0;
	builtins_done = 0;
	pthread_mutex_unlock(&metrics_lock);
	metrics_release(0);
}

int
metrics_enabled(void)
{
	return atomic_load(&metrics_on);
}

int
metrics_register(const char *name, enum metrics_type type, const char *help, const char *label1,
		 const char *label2, const char **error_r)
{
	if (!valid_name(name, 1)) {
		*error_r = errf("metrics: invalid metric name \"%s\"", name != NULL ? name : "");
		return -1;
	}
	size_t len = strlen(name);
	int total = len > 6 && strcmp(name + len - 6, "_total") == 0;
	if ((type == METRICS_COUNTER) != total) {
		*error_r = errf("metrics: %s: a counter's name, and only a counter's, ends in _total",
				name);
		return -1;
	}
	if ((label1 != NULL && !valid_name(label1, 0)) || (label2 != NULL && !valid_name(label2, 0)) ||
	    (label1 == NULL && label2 != NULL)) {
		*error_r = errf("metrics: %s: invalid label names", name);
		return -1;
	}
	pthread_mutex_lock(&metrics_lock);
	ensure_builtins();
	for (size_t i = 0; i < n_families; i++) {
		struct family *f = &families[i];
		if (strcmp(f->name, name) != 0)
			continue;
		size_t n = (label1 != NULL) + (label2 != NULL);
		int id = -1;
		if (f->type == type && f->n_labels == n &&
		    (n < 1 || strcmp(f->label_names[0], label1) == 0) &&
		    (n < 2 || strcmp(f->label_names[1], label2) == 0))
			id = (int)i;
		else
			*error_r = errf("metrics: %s registered twice, differently", name);
		pthread_mutex_unlock(&metrics_lock);
		return id;
	}
	int id = family_add(name, type, help, label1, label2, label1 == NULL ? no_labels : NULL);
	if (atomic_load(&metrics_on))
		family_preset(&families[id]);
	pthread_mutex_unlock(&metrics_lock);
	return id;
}

static void
update(int family, const char *l1, const char *l2, double value, int set)
{
	if (!atomic_load(&metrics_on))
		return;
	int now = family >= 0 && family < METRIC_BUILTIN_COUNT && never_held[family];
	if (hold_depth > 0 && !now) {
		held = xreallocarray(held, n_held + 1, sizeof(*held));
		struct pending *p = &held[n_held++];
		p->family = family;
		p->labels[0] = l1 != NULL ? xstrdup(l1) : NULL;
		p->labels[1] = l2 != NULL ? xstrdup(l2) : NULL;
		p->value = value;
		p->set = set;
		return;
	}
	const char *v[METRICS_MAX_LABELS] = { l1, l2 };
	pthread_mutex_lock(&metrics_lock);
	apply(family, v, value, set);
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_add(int family, const char *l1, const char *l2, double delta)
{
	update(family, l1, l2, delta, 0);
}

void
metrics_set(int family, const char *l1, const char *l2, double value)
{
	update(family, l1, l2, value, 1);
}

void
metrics_begin_update(int family)
{
	if (!atomic_load(&metrics_on))
		return;
	pthread_mutex_lock(&metrics_lock);
	if (family >= 0 && (size_t)family < n_families) {
		struct family *f = &families[family];
		for (size_t i = 0; i < f->n_series; i++)
			f->series[i].stale = 1;
		f->updating = 1;
	}
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_end_update(int family)
{
	if (!atomic_load(&metrics_on))
		return;
	pthread_mutex_lock(&metrics_lock);
	if (family >= 0 && (size_t)family < n_families && families[family].updating) {
		struct family *f = &families[family];
		size_t k = 0;
		for (size_t i = 0; i < f->n_series; i++) {
			if (f->series[i].stale)
				series_clear(&f->series[i]);
			else
				f->series[k++] = f->series[i];
		}
		f->n_series = k;
		f->updating = 0;
	}
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_hold(void)
{
	hold_depth++;
}

void
metrics_release(int apply_them)
{
	if (hold_depth > 1) {
		hold_depth--;
		return;
	}
	hold_depth = 0;
	if (n_held > 0 && apply_them && atomic_load(&metrics_on)) {
		pthread_mutex_lock(&metrics_lock);
		for (size_t i = 0; i < n_held; i++)
			apply(held[i].family, (const char *const *)held[i].labels, held[i].value,
			      held[i].set);
		pthread_mutex_unlock(&metrics_lock);
	}
	for (size_t i = 0; i < n_held; i++) {
		free(held[i].labels[0]);
		free(held[i].labels[1]);
	}
	x_free(&held);
	n_held = 0;
}

/* ---- exposition ------------------------------------------------------------ */

static int
put_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		int r;
		if (*s == '\\')
			r = buf_puts(b, "\\\\");
		else if (*s == '\n')
			r = buf_puts(b, "\\n");
		else if (quote && *s == '"')
			r = buf_puts(b, "\\\"");
		else
			r = buf_putc(b, (unsigned char)*s);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
put_value(struct buf *b, double v)
{
	if (isnan(v))
		return buf_puts(b, "NaN");
	if (isinf(v))
		return buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	/* integers (counts, timestamps) exactly, without an exponent */
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v)
		return buf_printf(b, "%.0f", v);
	return buf_printf(b, "%.17g", v);
}

static int
render_family(struct buf *b, const struct family *f)
{
	if (buf_printf(b, "# HELP %s ", f->name) < 0 || put_escaped(b, f->help, 0) < 0 ||
	    buf_printf(b, "\n# TYPE %s %s\n", f->name,
		       f->type == METRICS_COUNTER ? "counter" : "gauge") < 0)
		return -1;
	for (size_t i = 0; i < f->n_series; i++) {
		const struct series *s = &f->series[i];
		if (buf_puts(b, f->name) < 0)
			return -1;
		for (size_t k = 0; k < f->n_labels; k++) {
			if (buf_printf(b, "%s%s=\"", k == 0 ? "{" : ",", f->label_names[k]) < 0 ||
			    put_escaped(b, s->labels[k], 1) < 0 || buf_putc(b, '"') < 0)
				return -1;
		}
		if ((f->n_labels > 0 && buf_putc(b, '}') < 0) || buf_putc(b, ' ') < 0 ||
		    put_value(b, s->value) < 0 || buf_putc(b, '\n') < 0)
			return -1;
	}
	return 0;
}

char *
metrics_render(size_t max_bytes, size_t *len_r, const char **error_r)
{
	struct buf b;
	buf_init(&b, max_bytes);
	int ret = 0;
	pthread_mutex_lock(&metrics_lock);
	for (size_t i = 0; i < n_families && ret == 0 && atomic_load(&metrics_on); i++)
		ret = render_family(&b, &families[i]);
	pthread_mutex_unlock(&metrics_lock);
	if (ret < 0) {
		buf_free(&b);
		*error_r = errf("metrics: the exposition exceeds %zu bytes", max_bytes);
		return NULL;
	}
	return buf_steal(&b, len_r);
}

/* ---- call sites -------------------------------------------------------------- */

void
metrics_ingested(const char *outcome, const char *quarantine_reason)
{
	if (!atomic_load(&metrics_on))
		return;
	metrics_inc(METRIC_INGESTED, outcome);
	if (strcmp(outcome, "new_ticket") == 0)
		metrics_inc(METRIC_TICKETS_OPENED, NULL);
	if (strcmp(outcome, "quarantined") == 0) {
		char label[48];
		metrics_inc(METRIC_QUARANTINED,
			    metrics_reason_label(quarantine_reason, label, sizeof(label)));
	}
}

void
metrics_smtp_result(const char *kind, int status, int code)
{
	if (!atomic_load(&metrics_on))
		return;
	const char *cls = code >= 200 && code < 300   ? "2xx"
			  : code >= 400 && code < 500 ? "4xx"
			  : code >= 500 && code < 600 ? "5xx"
						      : "transport";
	metrics_inc(METRIC_SMTP_RESULTS, cls);
	if (status == 0)
		metrics_inc(METRIC_MAIL_SENT, kind);
	else if (status == 2)
		metrics_inc(METRIC_MAIL_FAILED, kind);
}

/* The leading word of s: [A-Za-z0-9_-], lower-cased, '-' as '_', at most
   size - 1 characters; its length in the input. */
static size_t
leading_word(const char *s, char *out, size_t size)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			break;
		if (n + 1 < size)
			out[n] = c;
	}
	out[n + 1 < size ? n : size - 1] = '\0';
	return n;
}

#define REASON_LABEL_MAX 40

const char *
metrics_reason_label(const char *reason, char *out, size_t size)
{
	char word[REASON_LABEL_MAX + 1];
	const char *p = reason != NULL ? reason : "";
	/* "part 3: limit: ..." from the MIME walker: the part does not matter */
	if (strncmp(p, "part ", 5) == 0) {
		const char *colon = strstr(p, ": ");
		if (colon != NULL)
			p = colon + 2;
	}
	size_t n = leading_word(p, word, sizeof(word));
	/* "limit: max_message_size 26214400 exceeded": the key says it all */
	if (n == 5 && strcmp(word, "limit") == 0 && strncmp(p + n, ": ", 2) == 0)
		n = leading_word(p + n + 2, word, sizeof(word));
	const char *label = n == 0 || n > REASON_LABEL_MAX ? "other" : word;
	snprintf(out, size, "%s", label);
	return out;
}
