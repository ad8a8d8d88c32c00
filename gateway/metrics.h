/*
 * metrics: the registry of deskgate's counters and gauges, and their
 * Prometheus text exposition (format 0.0.4, not OpenMetrics). Names follow
 * the Prometheus conventions as postfix_exporter and Dovecot's exporter
 * use them: a "deskgate_" prefix, counters ending in "_total", units in
 * the name ("_seconds", "_bytes"), a timestamp gauge ending in
 * "_timestamp_seconds". docs/metrics.md lists every family.
 *
 * The registry is process-wide, like the log. It is off until
 * metrics_enable() (the daemon calls it when [metrics] listen is set); off,
 * every call is a cheap no-op, so the CLI commands that share the pipeline
 * count nothing and allocate nothing.
 *
 * Threads: every function may be called from any thread. One mutex guards
 * the registry: updates are a few per message, a scrape renders in
 * microseconds, so a lock is simpler than atomics and never contended in
 * practice. The HTTP server's thread only renders (metrics_render()); it
 * never touches the store, whose numbers the daemon's loop sets as gauges.
 *
 * Transactions: metrics_hold() makes this thread's updates wait until
 * metrics_release(): applied when the transaction they describe committed,
 * dropped when it rolled back. So a batch that is rolled back and fetched
 * again is not counted twice as ingested. A few families count what
 * happened whether or not it was committed, and are never held: messages
 * and bytes fetched, SMTP results, store errors.
 *
 * Cardinality: a family keeps at most METRICS_MAX_SERIES label sets; past
 * that, updates go to one series whose labels are all "other". Label
 * values are escaped on output and invalid UTF-8 becomes '?'.
 *
 * Registration point: a later module (the SLA escalations, for instance)
 * calls metrics_register() once for each family of its own and sets it
 * with metrics_set()/metrics_add() like the built-in ones.
 */
#ifndef DG_METRICS_H
#define DG_METRICS_H

#include <stddef.h>

#define METRICS_MAX_LABELS 2
#define METRICS_MAX_SERIES 500
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE };

/* The built-in families, in exposition order. */
enum metrics_family {
	METRIC_BUILD_INFO,	    /* gauge {version} = 1 */
	METRIC_START_TIME,	    /* gauge: when the daemon started */
	METRIC_MAILBOX_UP,	    /* gauge {mailbox}: 1 logged in, 0 not */
	METRIC_MAILBOX_STATE,	    /* gauge {mailbox,state}: 1 for the current state */
	METRIC_MAILBOX_LAST_SYNC,   /* gauge {mailbox}: last completed sync, 0 never */
	METRIC_MAILBOX_FAILURES,    /* gauge {mailbox}: consecutive failed attempts */
	METRIC_MAILBOX_BACKLOG,	    /* gauge {mailbox}: messages of the sync not yet processed */
	METRIC_FETCHED,		    /* counter {mailbox} */
	METRIC_FETCHED_BYTES,	    /* counter {mailbox} */
	METRIC_INGESTED,	    /* counter {outcome} */
	METRIC_QUARANTINED,	    /* counter {reason} */
	METRIC_TICKETS_OPENED,	    /* counter */
	METRIC_MAIL_SENT,	    /* counter {kind} */
	METRIC_MAIL_FAILED,	    /* counter {kind} */
	METRIC_SMTP_RESULTS,	    /* counter {class} */
	METRIC_OUTBOX,		    /* gauge {state} */
	METRIC_OUTBOX_OLDEST_AGE,   /* gauge: age of the oldest mail waiting to be sent */
	METRIC_QUARANTINE_HELD,	    /* gauge */
	METRIC_TICKETS_UNANSWERED,  /* gauge */
	METRIC_OLDEST_UNANSWERED,   /* gauge: age of the oldest unanswered ticket */
	METRIC_STORE_ERRORS,	    /* counter {during} */
	METRIC_BUILTIN_COUNT
};

/* Turn the registry on (idempotent); the built-in families are registered
   and their known label values (mail kinds, outcomes...) start at 0. */
void metrics_enable(void);
/* Turn it off and free every series (for a clean exit). */
void metrics_disable(void);
int metrics_enabled(void);

/* Register another family; name and label names must be valid Prometheus
   names (a counter's name must end in "_total"). Returns its id (use it
   like an enum metrics_family), or -1 with error_r. Registering the same
   name with the same type and labels again returns the same id. Works
   whether or not the registry is enabled. */
int metrics_register(const char *name, enum metrics_type type, const char *help,
		     const char *label1, const char *label2, const char **error_r);

/* Add to a counter or gauge, or set a gauge. l1/l2 are the label values
   in the family's label order (NULL for labels the family does not
   have). A negative delta on a counter is ignored. */
void metrics_add(int family, const char *l1, const char *l2, double delta);
void metrics_set(int family, const char *l1, const char *l2, double value);
static inline void
metrics_inc(int family, const char *l1)
{
	metrics_add(family, l1, NULL, 1);
}

/* Replace all series of a gauge family at once: mark every series stale,
   set the current ones, then drop those not set again (a mailbox that a
   reload removed). */
void metrics_begin_update(int family);
void metrics_end_update(int family);

/* Updates of this thread wait until release: applied when apply is 1,
   dropped when 0. Nested holds are released by the outermost release. */
void metrics_hold(void);
void metrics_release(int apply);

/* The exposition of every family: malloc'ed text the caller frees, its
   length in *len_r. NULL with error_r when it would exceed max_bytes. */
char *metrics_render(size_t max_bytes, size_t *len_r, const char **error_r);

/* ---- call sites in the pipeline -------------------------------------- */

/* ingest's outcome of one message: "new_ticket", "appended", "duplicate",
   "report" or "quarantined" (with the reason given to the quarantine). */
void metrics_ingested(const char *outcome, const char *quarantine_reason);
/* One attempt to send outgoing mail of kind ("ack", "notify"...): status 0
   sent, 1 temporary failure, 2 refused; code the SMTP reply code (0 when
   there was none: a connection, TLS or time-out failure). */
void metrics_smtp_result(const char *kind, int status, int code);

/* The label a quarantine reason is counted under: "max_message_size" for
   "limit: max_message_size 100 exceeded", "structure", "charset", "spam",
   "store"..., or "other"; at most 40 characters of [a-z0-9_]. Writes into
   out (at least 48 bytes) and returns it. */
const char *metrics_reason_label(const char *reason, char *out, size_t size);

#endif
