/*
 * poller-sync: the poller's sync of one mailbox (see poller.h for the
 * whole): the marks owed by earlier runs (catch-up), the held entries
 * without raw bytes tried again, the search for new UIDs, and batches:
 * fetch, ingest, account for every UID asked for, commit with the
 * checkpoint and the marks owed, mark. Split from poller.c (the loop, the
 * connections, the state machine), with which it shares poller-int.h.
 *
 * Every UID asked for ends a batch in one of four states: committed (a
 * row exists: ticket, duplicate, report or quarantine entry with its raw
 * bytes; only these are marked, after the commit), recorded (too large to
 * keep, or the server will not deliver it: a quarantine entry without raw
 * bytes, the message left unmarked), gone (expunged meanwhile), or pending
 * (the connection broke, or the server failed to deliver it fewer than
 * MISS_LIMIT times). The checkpoint never passes a pending UID, so it is
 * fetched again; what was committed above it comes back as a duplicate.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/imap.h"
#include "gateway/lease.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/poller-int.h"
#include "gateway/store.h"
#include "base/clock.h"
#include "base/spool.h"
#include "base/stopwatch.h"
#include "base/util.h"


/* A requested UID's fate in a batch. Only COMMITTED ones are marked on
   the server; the checkpoint never passes a PENDING one. */
enum uid_state {
	UID_PENDING,   /* not handled yet: fetched again by a later sync */
	UID_COMMITTED, /* ingested (ticket, duplicate, report or quarantine) */
	UID_RECORDED,  /* refused or undeliverable: a quarantine entry without raw bytes */
	UID_GONE,      /* no longer in the folder (expunged meanwhile) */
};

/* The batch being fetched: what the message callback records. */
struct batch {
	struct mbox *mb;
	const uint32_t *uids; /* requested, ascending */
	size_t n;
	unsigned char *state;	    /* enum uid_state, per requested UID */
	unsigned char *quarantined; /* committed as a quarantine entry: keyword */
	unsigned char *secret;	    /* its secrets were redacted ([secrets] delete_from_server) */
	unsigned char *nil;	    /* the server answered NIL for the body */
	unsigned char *oversize;    /* arrived cut at max_message_size + 1 */
	uint64_t *size;		    /* RFC822.SIZE, 0 when not said */
	int refetch;		    /* trying held entries again: no checkpoint, no retries */
	int ingested;
	int store_failed;
	char *store_error;
	int timed;		  /* -v: the batch's time line is logged */
	struct stopwatch t_ingest; /* summed over its messages */
};

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static ssize_t
batch_index(const struct batch *b, uint32_t uid)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->uids[mid] == uid)
			return (ssize_t)mid;
		if (b->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void
batch_store_failed(struct batch *b, const char *error)
{
	if (!b->store_failed) {
		b->store_failed = 1;
		b->store_error = xstrdup(error);
	}
}

/* The largest message kept whole in quarantine: never below the size at
   which messages go to quarantine. */
static uint64_t
hard_limit(const struct config *config)
{
	const struct config_limits *l = &config->limits;
	return l->max_quarantine_size > l->max_message_size ? l->max_quarantine_size
							    : l->max_message_size;
}

/* Store one fetched message and owe its mark (same transaction). */
static int
batch_ingest(struct batch *b, size_t i, const unsigned char *data, size_t len)
{
	struct mbox *mb = b->mb;
	struct poller *p = mb->poller;
	struct ingest_source source = {
		.label = mb->label,
		.mailbox = mb->cfg->name,
		.uidvalidity = mb->uidvalidity,
		.uid = b->uids[i],
	};
	struct ingest_result result;
	const char *error;

	if (ingest_message(p->ingest, data, len, &source, &result, &error) < 0 ||
	    store_mailbox_mark_add(p->store, mb->cfg->name, mb->uidvalidity, b->uids[i],
				   result.outcome == INGEST_QUARANTINED, &error) < 0) {
		batch_store_failed(b, error);
		return -1;
	}
	b->state[i] = UID_COMMITTED;
	b->quarantined[i] = result.outcome == INGEST_QUARANTINED;
	b->secret[i] = result.secret_kinds != 0;
	b->ingested = 1;
	if (b->refetch) {
		mb->refetched_ticket = result.ticket_id;
		mb->refetched_quarantine = result.quarantine_id;
	}
	mb->done++;
	if (mb->total > 0)
		poller_progress(mb, 0);
	return 0;
}

/* A fetched message: ingested, or noted as not delivered (data NULL,
   nil) or too large (cut: arrived cut at max_message_size + 1). */
static int
batch_take(struct batch *b, uint32_t uid, const unsigned char *data, size_t len, uint64_t size,
	   int cut)
{
	ssize_t i = batch_index(b, uid); /* imap_fetch hands over only UIDs asked for, once */
	if (i < 0)
		return 0;
	b->size[i] = size;
	if (data == NULL && !cut) {
		b->nil[i] = 1;
		return 0;
	}
	metrics_inc(METRIC_FETCHED, b->mb->cfg->name);
	metrics_add(METRIC_FETCHED_BYTES, b->mb->cfg->name, NULL, (double)len);
	if (cut || len > b->mb->poller->config->limits.max_message_size) {
		/* arrived cut at max_message_size + 1: fetched again whole, to
		   disk, after this fetch (a cut copy is never stored) */
		b->oversize[i] = 1;
		return 0;
	}
	struct stopwatch t0;
	if (b->timed)
		stopwatch_read(&t0, 1);
	int r = batch_ingest(b, (size_t)i, data, len);
	if (b->timed)
		stopwatch_add_since(&b->t_ingest, &t0);
	return r;
}

static int
on_message(void *context, uint32_t uid, const unsigned char *data, size_t len, uint64_t size)
{
	return batch_take(context, uid, data, len, size, 0);
}

/* What a worker fetched (poller_sync_run()), taken as imap_fetch() would
   have handed it over: same order, the rest ignored after a store
   failure. Returns the fetch's result, its error in *error_r. */
static int
batch_replay(struct batch *b, const struct mb_work *w, const char **error_r)
{
	for (size_t k = 0; k < w->n_msgs; k++) {
		const struct prefetched *m = &w->msgs[k];
		if (batch_take(b, m->uid, m->data, m->len, m->size, m->cut) < 0)
			break;
	}
	if (w->fetch_r < 0)
		*error_r = errf("%s", w->fetch_error != NULL ? w->fetch_error : "fetch failed");
	return w->fetch_r;
}

/* A message the server will not deliver, or one too large to keep: a
   quarantine entry without raw bytes says why; nothing is marked, the
   message stays as it is on the server. */
static int
record_unfetched(struct batch *b, size_t i, const char *reason)
{
	struct mbox *mb = b->mb;
	struct poller *p = mb->poller;
	char *source = xasprintf("%s uid:%u", mb->label, b->uids[i]);
	struct store_quarantine q = {
		.raw_size = (int64_t)b->size[i],
		.reason = (char *)reason,
		.source = source,
		.mailbox = mb->cfg->name,
		.uidvalidity = mb->uidvalidity,
		.uid = b->uids[i],
	};
	int64_t id = 0;
	int existed = 0;
	const char *error;
	int ret = store_quarantine_insert(p->store, &q, &id, &existed, &error);
	if (ret == 0 && !existed)
		ret = store_event_addf(p->store, 0, "quarantined", &error,
				       "quarantine #%lld (no raw bytes, %s uid %u left unmarked): %s",
				       (long long)id, mb->cfg->name, b->uids[i], reason);
	free(source);
	if (ret < 0) {
		batch_store_failed(b, error);
		return -1;
	}
	if (!existed)
		log_warnx("mailbox=%s uid=%u msgid=- ticket=- quarantine=%lld: %s; left unmarked on "
			  "the server",
			  mb->cfg->name, b->uids[i], (long long)id, reason);
	b->state[i] = UID_RECORDED;
	return 0;
}

struct stream {
	struct spool *spool;
	char *error;
};

static void
stream_chunk(void *context, const unsigned char *data, size_t len)
{
	struct stream *st = context;
	const char *error;
	if (st->error == NULL && spool_write(st->spool, data, len, &error) < 0)
		st->error = xstrdup(error);
}

/* An over-size message, fetched again whole and streamed to an unnamed file
   (mmap()ed for the store: never in memory), then quarantined whole by
   ingest; or refused when it is larger than max_quarantine_size. 0
   handled or not delivered (b->state says which), -1 an IMAP failure
   (*error_r), -2 a store failure (in b). */
static int
fetch_oversize(struct batch *b, size_t i, const char **error_r)
{
	struct mbox *mb = b->mb;
	const struct config *config = mb->poller->config;
	uint64_t hard = hard_limit(config);
	const char *why;

	if (b->size[i] > hard) {
		why = errf("too large to keep: %llu bytes, more than max_quarantine_size %llu",
			   (unsigned long long)b->size[i], (unsigned long long)hard);
		return record_unfetched(b, i, why) < 0 ? -2 : 0;
	}
	char *dir = xasprintf("%s/tmp", config->state_dir);
	struct stream st = { .spool = spool_new(dir, 0, hard) };
	free(dir);
	int r = imap_fetch_stream(mb->conn, b->uids[i], stream_chunk, &st, error_r);
	int ret = 0;
	if (r < 0) {
		ret = -1;
	} else if (r == 0) {
		b->nil[i] = 1; /* not delivered: the caller decides */
	} else if (st.error != NULL) {
		batch_store_failed(b, errf("spool: %s", st.error));
		ret = -2;
	} else if (spool_over(st.spool)) {
		b->size[i] = spool_size(st.spool);
		why = errf("too large to keep: %llu bytes, more than max_quarantine_size %llu",
			   (unsigned long long)spool_size(st.spool), (unsigned long long)hard);
		ret = record_unfetched(b, i, why) < 0 ? -2 : 0;
	} else {
		const unsigned char *data;
		size_t len;
		if (spool_data(st.spool, &data, &len, &why) < 0) {
			batch_store_failed(b, why);
			ret = -2;
		} else {
			log_info("mailbox=%s uid=%u msgid=- ticket=-: %zu bytes (over max_message_size) "
				 "fetched whole to disk for the quarantine",
				 mb->cfg->name, b->uids[i], len);
			ret = batch_ingest(b, i, data, len) < 0 ? -2 : 0;
		}
	}
	free(st.error);
	spool_free(&st.spool);
	return ret;
}

/* How often the server may fail to deliver a UID (NIL, or missing from
   an answered FETCH) before it is recorded as undeliverable. */
#define MISS_LIMIT 3

static unsigned
miss_count(struct mbox *mb, uint32_t uid, int add)
{
	for (size_t k = 0; k < mb->n_misses; k++) {
		if (mb->misses[k].uid != uid)
			continue;
		if (add)
			mb->misses[k].count++;
		return mb->misses[k].count;
	}
	if (!add)
		return 0;
	mb->misses = xreallocarray(mb->misses, mb->n_misses + 1, sizeof(*mb->misses));
	mb->misses[mb->n_misses].uid = uid;
	mb->misses[mb->n_misses].count = 1;
	mb->n_misses++;
	return 1;
}

static void
miss_forget(struct mbox *mb, uint32_t uid)
{
	for (size_t k = 0; k < mb->n_misses; k++) {
		if (mb->misses[k].uid == uid) {
			mb->misses[k] = mb->misses[--mb->n_misses];
			return;
		}
	}
}

/* After an answered fetch: UIDs asked for and not delivered. Gone from
   the folder: nothing to do. Still there: counted; after MISS_LIMIT
   answers the server will not deliver it: recorded, left unmarked. 0, -1
   IMAP failure, -2 store failure. */
static int
classify_missing(struct batch *b, const char *server_said, const char **error_r)
{
	struct mbox *mb = b->mb;
	uint32_t lo = 0, hi = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->state[i] != UID_PENDING)
			continue;
		if (lo == 0)
			lo = b->uids[i];
		hi = b->uids[i];
	}
	if (lo == 0)
		return 0;
	uint32_t *present;
	size_t n_present;
	if (imap_uid_search(mb->conn, lo, hi, 0, &present, &n_present, error_r) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		if (b->state[i] != UID_PENDING)
			continue;
		uint32_t uid = b->uids[i];
		if (bsearch(&uid, present, n_present, sizeof(uint32_t), cmp_uid) == NULL) {
			log_info("mailbox=%s uid=%u msgid=- ticket=-: gone from the folder before it "
				 "could be fetched (expunged by another client)",
				 mb->cfg->name, uid);
			b->state[i] = UID_GONE;
			miss_forget(mb, uid);
			continue;
		}
		const char *how = b->nil[i] ? "answered NIL for its body" : "did not send it";
		if (b->refetch) {
			log_warnx("mailbox=%s uid=%u msgid=- ticket=-: fetched again, the server still "
				  "%s; its quarantine entry stays",
				  mb->cfg->name, uid, how);
			continue;
		}
		unsigned k = miss_count(mb, uid, 1);
		if (k < MISS_LIMIT) {
			log_warnx("mailbox=%s uid=%u msgid=- ticket=-: the server %s%s%s (attempt %u of "
				  "%d); not marked, trying again",
				  mb->cfg->name, uid, how, server_said != NULL ? ": " : "",
				  server_said != NULL ? server_said : "", k, MISS_LIMIT);
			continue;
		}
		const char *why = errf("the server will not deliver it: it %s %d times%s%s", how,
				       MISS_LIMIT, server_said != NULL ? "; it said: " : "",
				       server_said != NULL ? server_said : "");
		miss_forget(mb, uid);
		if (record_unfetched(b, i, why) < 0) {
			free(present);
			return -2;
		}
	}
	free(present);
	return 0;
}

/* Mark committed messages: \Seen or moved; quarantined ones get the
   keyword first (where keywords are allowed). Then the marks are no
   longer owed. */
static int
mark(struct mbox *mb, const uint32_t *uids, size_t n, const uint32_t *quarantined, size_t nq,
     const char **error_r)
{
	if (n == 0)
		return 0;
	if (nq > 0 && mb->keywords_ok &&
	    imap_add_flags(mb->conn, quarantined, nq, !mb->move, QUARANTINE_KEYWORD, error_r) < 0)
		return -1;
	if (!mb->move)
		return imap_add_flags(mb->conn, uids, n, 1, NULL, error_r);
	if (imap_move(mb->conn, uids, n, mb->cfg->move_to, error_r) == 0)
		return 0;
	if (imap_failure(mb->conn) != IMAP_FAIL_SERVER || mb->create_tried)
		return -1;
	/* perhaps the folder does not exist: create it once and try again */
	mb->create_tried = 1;
	const char *why;
	if (imap_create(mb->conn, mb->cfg->move_to, &why) < 0 &&
	    imap_failure(mb->conn) != IMAP_FAIL_SERVER)
		return -1;
	log_info("mailbox=%s: created folder %s for after = move", mb->cfg->name,
		 log_safe(mb->cfg->move_to, 100));
	return imap_move(mb->conn, uids, n, mb->cfg->move_to, error_r);
}

/* The store forgets marks that are done in the next write transaction
   (the next batch's, or its own at disconnect), so that marking costs no
   extra flush. Until then they are still owed: a crash makes the next
   catch-up mark them again, which changes nothing on the server. */
static void
marks_done_later(struct mbox *mb, const uint32_t *uids, size_t n)
{
	if (n == 0)
		return;
	mb->marked = xreallocarray(mb->marked, mb->n_marked + n + 1, sizeof(*mb->marked));
	memcpy(mb->marked + mb->n_marked, uids, n * sizeof(*uids));
	mb->n_marked += n;
}

/* Forget the marks done, inside the caller's transaction or on its own. */
int
poller_marks_forget(struct mbox *mb, const char **error_r)
{
	if (mb->n_marked == 0)
		return 0;
	if (store_mailbox_mark_done(mb->poller->store, mb->cfg->name, mb->uidvalidity, mb->marked,
				    mb->n_marked, error_r) < 0)
		return -1;
	mb->n_marked = 0;
	return 0;
}

/* mark(), then the marks are no longer owed. */
static int
mark_owed(struct mbox *mb, const uint32_t *uids, size_t n, const uint32_t *quarantined, size_t nq,
	  const char **error_r)
{
	if (mark(mb, uids, n, quarantined, nq, error_r) < 0)
		return -1;
	marks_done_later(mb, uids, n);
	return 0;
}

/* What an earlier run committed but did not mark (it crashed, or the
   connection broke, between the commit and the flag): exactly the marks
   the store still owes, each for a UID whose message is committed. */
static int
catch_up(struct mbox *mb, const char **error_r)
{
	struct store_mailbox_mark *marks;
	size_t n;
	const char *error;
	if (store_mailbox_mark_list(mb->poller->store, mb->cfg->name, mb->uidvalidity, &marks, &n,
				    &error) < 0) {
		*error_r = errf("store: %s", error);
		return -2;
	}
	int ret = 0;
	if (n > 0) {
		uint32_t *uids = xcalloc(n, sizeof(*uids)), *q = xcalloc(n, sizeof(*q));
		size_t nq = 0;
		for (size_t i = 0; i < n; i++) {
			uids[i] = (uint32_t)marks[i].uid;
			if (marks[i].quarantined)
				q[nq++] = (uint32_t)marks[i].uid;
		}
		log_info("mailbox=%s: %zu committed message(s) not yet %s (interrupted earlier); "
			 "marking them now",
			 mb->cfg->name, n, mb->move ? "moved" : "flagged");
		ret = mark_owed(mb, uids, n, q, nq, error_r);
		free(uids);
		free(q);
	}
	free(marks);
	if (ret == 0)
		mb->caught_up = 1;
	return ret;
}

/* The checkpoint after a batch: the highest UID below which every
   requested UID is handled (a PENDING one stops it: it is fetched again). */
static uint32_t
batch_checkpoint(const struct batch *b, uint32_t from)
{
	uint32_t h = from;
	for (size_t i = 0; i < b->n && b->state[i] != UID_PENDING; i++)
		if (b->uids[i] > h)
			h = b->uids[i];
	return h;
}

static void
batch_free(struct batch *b)
{
	free(b->state);
	free(b->quarantined);
	free(b->secret);
	free(b->nil);
	free(b->oversize);
	free(b->size);
	free(b->store_error);
}

/* The time line of one batch (-v): each phase's wall time split into the
   thread's CPU, its wait for a core and the rest, blocked (on the IMAP
   server in fetch and mark, mostly on the disk in commit). */
enum batch_phase { PH_BEGIN, PH_FETCH, PH_COMMIT, PH_COUNT };

struct batch_clock {
	int on;
	struct stopwatch last;
	struct stopwatch phase[PH_COUNT];
};

static void
batch_clock_lap(struct batch_clock *bc, enum batch_phase ph)
{
	if (!bc->on)
		return;
	stopwatch_add_since(&bc->phase[ph], &bc->last);
	stopwatch_read(&bc->last, 1);
}

static const char *
phase_text(const struct stopwatch *sw)
{
	return errf("%.1f ms (cpu %.1f, waiting for a core %.1f, blocked %.1f)", sw->wall * 1e3,
		    sw->cpu * 1e3, sw->runq * 1e3, (sw->wall - sw->cpu - sw->runq) * 1e3);
}

static void
batch_clock_log(const struct batch_clock *bc, const struct batch *b)
{
	if (!bc->on)
		return;
	/* errf() keeps a few strings: one phase per log call */
	log_debug("mailbox=%s: batch of %zu uid %u-%u: fetch %s", b->mb->cfg->name, b->n,
		  b->uids[0], b->uids[b->n - 1], phase_text(&bc->phase[PH_FETCH]));
	log_debug("mailbox=%s: batch of %zu: of the fetch, ingest %s", b->mb->cfg->name, b->n,
		  phase_text(&b->t_ingest));
	log_debug("mailbox=%s: batch of %zu: begin %s", b->mb->cfg->name, b->n,
		  phase_text(&bc->phase[PH_BEGIN]));
	log_debug("mailbox=%s: batch of %zu: commit %s", b->mb->cfg->name, b->n,
		  phase_text(&bc->phase[PH_COMMIT]));
}

/* How many of uids[0..n) one transaction fetches: in the daemon, n (one
   round trip of batch_size); with --once, round trips of batch_size go on
   (up to n = once_batch_size) until a third of lease_ttl has passed since
   the batch began: the lease, renewed at most that long before, must
   still be held at the fence. Fewer commits and STOREs per message; the
   crash rule is the same (nothing of an uncommitted transaction is
   marked). */
static int
fetch_chunks(struct batch *b, size_t n, size_t *fetched_r, const char **error_r)
{
	struct mbox *mb = b->mb;
	struct poller *p = mb->poller;
	size_t chunk = (size_t)mb->cfg->batch_size, fetched = 0;
	double until = clock_mono() + (double)p->config->store.lease_ttl / 3;
	int r;
	do {
		size_t k = n - fetched < chunk ? n - fetched : chunk;
		r = imap_fetch(mb->conn, b->uids + fetched, k,
			       (size_t)p->config->limits.max_message_size, on_message, b, error_r);
		fetched += k;
	} while (r == 0 && !b->store_failed && fetched < n && p->opt.once && !p->stop &&
		 clock_mono() < until);
	if (fetched < n && r == 0 && !b->store_failed && !p->stop)
		log_debug("mailbox=%s: transaction ends after %zu of %zu messages: a third of "
			  "lease_ttl has passed",
			  mb->cfg->name, fetched, n);
	*fetched_r = fetched;
	return r;
}

static void
batch_marks_clear(struct batch_marks *m)
{
	free(m->done);
	free(m->q);
	free(m->del);
	free(m->fetch_error);
	free(m->error);
	memset(m, 0, sizeof(*m));
}

/* One batch up to its commit: fetch (here: uids[0..n), or with --once
   perhaps fewer: *taken_r; or what a worker fetched: pf), ingest
   (over-size mail whole, streamed to disk), account for every UID asked
   for, commit (with the checkpoint and the marks owed). SYNC_OK: *m holds
   the marks to make now (marks_run()). */
static enum sync_result
batch_commit(struct mbox *mb, const uint32_t *uids, size_t n, int refetch,
	     const struct mb_work *pf, struct batch_marks *m, size_t *taken_r,
	     const char **error_r)
{
	struct poller *p = mb->poller;
	struct batch b = {
		.mb = mb,
		.uids = uids,
		.n = n,
		.state = xcalloc(n + 1, 1),
		.quarantined = xcalloc(n + 1, 1),
		.secret = xcalloc(n + 1, 1),
		.nil = xcalloc(n + 1, 1),
		.oversize = xcalloc(n + 1, 1),
		.size = xcalloc(n + 1, sizeof(uint64_t)),
		.refetch = refetch,
		.timed = log_get_level() >= LOG_LEVEL_DEBUG,
	};
	const char *error;
	enum sync_result ret = SYNC_OK;
	uint32_t uidvalidity, checkpoint;
	struct batch_clock bc = { .on = b.timed };
	if (bc.on)
		stopwatch_read(&bc.last, 1);

	memset(m, 0, sizeof(*m));
	if (store_mailbox_get(p->store, mb->cfg->name, &uidvalidity, &checkpoint, &error) < 0 ||
	    ingest_batch_begin(p->ingest, &error) < 0) {
		*error_r = errf("store: %s", error);
		batch_free(&b);
		return SYNC_STORE_FAILED;
	}
	size_t done_before = mb->done;
	size_t marked_before = mb->n_marked;
	if (poller_marks_forget(mb, &error) < 0)
		batch_store_failed(&b, error);
	batch_clock_lap(&bc, PH_BEGIN);
	int fetch_r = 0, answered = 1;
	if (taken_r != NULL)
		*taken_r = n;
	if (!b.store_failed && pf != NULL) {
		fetch_r = batch_replay(&b, pf, error_r);
		answered = fetch_r == 0 || pf->fetch_server;
	} else if (!b.store_failed) {
		size_t fetched = n;
		fetch_r = fetch_chunks(&b, n, &fetched, error_r);
		/* what was not asked for is not this batch's: the next one's */
		b.n = n = fetched;
		if (taken_r != NULL)
			*taken_r = n;
		/* the server answered (OK, or NO): what it did not deliver is
		   its decision, not a lost connection */
		answered = fetch_r == 0 || imap_failure(mb->conn) == IMAP_FAIL_SERVER;
	}
	char *server_said = fetch_r < 0 ? xstrdup(*error_r) : NULL;
	for (size_t i = 0; i < n && answered && !b.store_failed; i++) {
		if (b.oversize[i] && fetch_oversize(&b, i, error_r) == -1)
			answered = 0;
	}
	if (answered && !b.store_failed && classify_missing(&b, server_said, error_r) == -1)
		answered = 0;
	batch_clock_lap(&bc, PH_FETCH);
	/* ingest moved the checkpoint to each message's UID; it may only
	   pass what is handled */
	if (!b.store_failed && !refetch && (b.ingested || uidvalidity != mb->uidvalidity ||
					   batch_checkpoint(&b, checkpoint) != checkpoint)) {
		uint32_t from = uidvalidity == mb->uidvalidity ? checkpoint : 0;
		if (store_mailbox_set(p->store, mb->cfg->name, mb->uidvalidity,
				      batch_checkpoint(&b, from), &error) < 0)
			batch_store_failed(&b, error);
	}
	/* the fence: still the mailbox's holder, in the transaction that
	   commits (lease.h) */
	if (!b.store_failed && p->leases != NULL) {
		int r = lease_fence(p->leases, mb->label, clock_now(), &error);
		if (r <= 0)
			batch_store_failed(&b, r == 0 ? "the mailbox's lease was lost" : error);
	}
	if (b.store_failed) {
		ingest_batch_rollback(p->ingest);
		mb->done = done_before;
		mb->n_marked = marked_before; /* still to forget */
		*error_r = errf("store: %s", b.store_error);
		ret = SYNC_STORE_FAILED;
		goto out;
	}
	/* What arrived whole before a broken fetch is good: commit it; the
	   next connection's catch-up marks it. */
	if (ingest_batch_commit(p->ingest, &error) < 0) {
		mb->done = done_before;
		mb->n_marked = marked_before;
		*error_r = errf("store commit: %s", error);
		ret = SYNC_STORE_FAILED;
		goto out;
	}
	batch_clock_lap(&bc, PH_COMMIT);
	batch_clock_log(&bc, &b);
	if (!answered) {
		ret = SYNC_IMAP_FAILED;
		goto out;
	}
	m->done = xcalloc(n + 1, sizeof(uint32_t));
	m->q = xcalloc(n + 1, sizeof(uint32_t));
	m->del = xcalloc(n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		if (b.state[i] == UID_COMMITTED && b.secret[i] &&
		    p->config->secrets.delete_from_server) {
			/* its redacted copy is committed: the original goes */
			m->del[m->n_del++] = uids[i];
			miss_forget(mb, uids[i]);
		} else if (b.state[i] == UID_COMMITTED) {
			m->done[m->n_done++] = uids[i];
			if (b.quarantined[i])
				m->q[m->nq++] = uids[i];
			miss_forget(mb, uids[i]);
		} else if (b.state[i] == UID_PENDING && !refetch) {
			m->pending++;
		}
	}
	m->fetch_error = server_said;
	server_said = NULL;
out:
	free(server_said);
	batch_free(&b);
	return ret;
}

enum { MARKS_OK, MARKS_MARK_FAILED, MARKS_DELETE_FAILED };

/* The marks of a committed batch, on the server only (a worker may do
   this): m->result, m->error. */
static void
marks_run(struct mbox *mb, struct batch_marks *m)
{
	const char *error;
	m->result = MARKS_OK;
	if (mark(mb, m->done, m->n_done, m->q, m->nq, &error) < 0) {
		m->result = MARKS_MARK_FAILED;
		m->error = xstrdup(error);
	} else if (m->n_del > 0 && imap_delete(mb->conn, m->del, m->n_del, &error) < 0) {
		m->result = MARKS_DELETE_FAILED;
		m->error = xstrdup(error);
	}
}

/* After marks_run(), on the loop's thread: the marks made are no longer
   owed; what was not done is a failure of the connection. */
static enum sync_result
marks_account(struct mbox *mb, const struct batch_marks *m, const char **error_r)
{
	if (m->result == MARKS_MARK_FAILED) {
		*error_r = errf("%s", m->error);
		return SYNC_IMAP_FAILED;
	}
	marks_done_later(mb, m->done, m->n_done);
	if (m->result == MARKS_DELETE_FAILED) {
		/* still owed: a later catch-up marks them (the originals stay) */
		log_warnx("mailbox=%s: %zu message(s) with a secret not expunged: %s", mb->cfg->name,
			  m->n_del, m->error);
		*error_r = errf("%s", m->error);
		return SYNC_IMAP_FAILED;
	}
	if (m->n_del > 0) {
		for (size_t i = 0; i < m->n_del; i++)
			log_info("mailbox=%s uid=%u: expunged after its redacted copy was committed "
				 "([secrets] delete_from_server = yes)",
				 mb->cfg->name, m->del[i]);
		marks_done_later(mb, m->del, m->n_del);
		return SYNC_OK;
	}
	if (m->pending > 0) {
		/* reconnect and try those again later (with backoff) */
		*error_r = errf("%zu message(s) of this batch not delivered by the server",
				m->pending);
		return SYNC_IMAP_FAILED;
	}
	if (m->fetch_error != NULL)
		log_warnx("mailbox=%s: %s; every message of the batch is accounted for", mb->cfg->name,
			  m->fetch_error);
	return SYNC_OK;
}

/* One batch on the loop's thread: commit, then mark (with -v, the
   marks' time line, as batch_clock_log() gives the rest). */
static enum sync_result
sync_batch(struct mbox *mb, const uint32_t *uids, size_t n, int refetch, size_t *taken_r,
	   const char **error_r)
{
	struct batch_marks m;
	enum sync_result ret = batch_commit(mb, uids, n, refetch, NULL, &m, taken_r, error_r);
	if (ret == SYNC_OK) {
		int timed = log_get_level() >= LOG_LEVEL_DEBUG;
		struct stopwatch last, mark = { 0 };
		if (timed)
			stopwatch_read(&last, 1);
		marks_run(mb, &m);
		if (timed) {
			stopwatch_add_since(&mark, &last);
			log_debug("mailbox=%s: batch of %zu: mark %s", mb->cfg->name,
				  m.n_done + m.n_del, phase_text(&mark));
		}
		ret = marks_account(mb, &m, error_r);
	}
	batch_marks_clear(&m);
	return ret;
}

/* Held entries without raw bytes (refused as too large, or not delivered)
   are tried again once per connection and after a reload: the limit may
   have been raised, the server may deliver it now. What becomes a ticket or
   a whole quarantine entry releases the old entry. */
static enum sync_result
refetch_unfetched(struct mbox *mb, const char **error_r)
{
	struct poller *p = mb->poller;
	struct store_quarantine *qs;
	size_t n;
	const char *error;
	enum sync_result ret = SYNC_OK;

	mb->recheck = 0;
	if (store_quarantine_list_unfetched(p->store, mb->cfg->name, mb->uidvalidity, &qs, &n,
					    &error) < 0) {
		*error_r = errf("store: %s", error);
		return SYNC_STORE_FAILED;
	}
	uint64_t hard = hard_limit(p->config);
	for (size_t i = 0; i < n && ret == SYNC_OK; i++) {
		/* still too large: not even worth a look */
		if ((uint64_t)qs[i].raw_size > hard)
			continue;
		log_info("mailbox=%s uid=%u msgid=- ticket=-: trying quarantine #%lld again (%s)",
			 mb->cfg->name, (uint32_t)qs[i].uid, (long long)qs[i].id,
			 log_safe(qs[i].reason, 200));
		mb->refetched_ticket = mb->refetched_quarantine = 0;
		uint32_t uid = (uint32_t)qs[i].uid;
		ret = sync_batch(mb, &uid, 1, 1, NULL, error_r);
		if (ret != SYNC_OK || (mb->refetched_ticket == 0 && mb->refetched_quarantine == 0))
			continue;
		const char *what = mb->refetched_ticket != 0
					   ? errf("ticket %lld", (long long)mb->refetched_ticket)
					   : errf("quarantine #%lld with its raw bytes",
						  (long long)mb->refetched_quarantine);
		if (store_begin(p->store, &error) < 0 ||
		    store_quarantine_set_status(p->store, qs[i].id, "released", mb->refetched_ticket,
						&error) < 0 ||
		    store_event_addf(p->store, mb->refetched_ticket, "released", &error,
				     "quarantine #%lld (%s uid %u): fetched again, now %s",
				     (long long)qs[i].id, mb->cfg->name, uid, what) < 0 ||
		    store_commit(p->store, &error) < 0) {
			store_rollback(p->store);
			*error_r = errf("store: %s", error);
			ret = SYNC_STORE_FAILED;
			break;
		}
		log_info("mailbox=%s uid=%u msgid=- ticket=%lld: quarantine #%lld released: %s",
			 mb->cfg->name, uid, (long long)mb->refetched_ticket, (long long)qs[i].id,
			 what);
	}
	store_quarantines_free(&qs, n);
	return ret;
}

/* The new UIDs are in mb->pending: the sync's progress starts. */
static void
sync_begun(struct mbox *mb, uint32_t last_uid)
{
	mb->pos = 0;
	mb->total = mb->n_pending;
	mb->done = 0;
	mb->started = mb->last_log = clock_mono();
	mb->last_bar = 0;
	if (mb->n_pending >= 100 || (mb->n_pending > 0 && mb->poller->opt.progress_bar))
		log_info("mailbox=%s: %zu new message(s) above uid %u", mb->cfg->name,
			 mb->n_pending, last_uid);
}

/* Start a sync: checkpoint, UIDVALIDITY, catch-up, and the list of new
   UIDs into mb->pending. */
static enum sync_result
sync_start(struct mbox *mb, const char **error_r)
{
	struct poller *p = mb->poller;
	const struct config_mailbox *cfg = mb->cfg;
	uint32_t uidvalidity, last_uid;
	const char *error;

	/* what the server announced so far is covered by the search below;
	   what it announces from now on calls for another sync */
	(void)imap_take_changes(mb->conn);
	if (store_mailbox_get(p->store, cfg->name, &uidvalidity, &last_uid, &error) < 0) {
		*error_r = errf("store: %s", error);
		return SYNC_STORE_FAILED;
	}
	if (uidvalidity != 0 && uidvalidity != mb->uidvalidity) {
		log_warnx("mailbox=%s: UIDVALIDITY changed from %u to %u (folder recreated?): "
			  "reading the whole folder again; duplicates are recognised by content",
			  cfg->name, uidvalidity, mb->uidvalidity);
		/* the old UIDs name nothing now: no marks are owed on them */
		if (store_mailbox_mark_forget(p->store, cfg->name, mb->uidvalidity, &error) < 0 ||
		    store_mailbox_set(p->store, cfg->name, mb->uidvalidity, 0, &error) < 0) {
			*error_r = errf("store: %s", error);
			return SYNC_STORE_FAILED;
		}
		last_uid = 0;
	} else if (uidvalidity == 0) {
		last_uid = 0;
	}
	if (!mb->caught_up) {
		int r = catch_up(mb, error_r);
		if (r < 0)
			return r == -2 ? SYNC_STORE_FAILED : SYNC_IMAP_FAILED;
	}
	if (mb->recheck) {
		enum sync_result r = refetch_unfetched(mb, error_r);
		if (r != SYNC_OK)
			return r;
	}

	if (imap_uid_search(mb->conn, last_uid + 1, 0, 0, &mb->pending, &mb->n_pending,
			    error_r) < 0)
		return SYNC_IMAP_FAILED;
	sync_begun(mb, last_uid);
	return SYNC_OK;
}

void
poller_sync_end(struct mbox *mb)
{
	x_free(&mb->pending);
	mb->n_pending = mb->pos = 0;
	mb->total = 0;
}

/* One step of a sync: start it, or do its next batch. A long backlog thus
   takes turns with the other mailboxes, signals and timers. */
enum sync_result
poller_sync_step(struct mbox *mb, const char **error_r)
{
	enum sync_result ret;

	if (mb->pending == NULL) {
		ret = sync_start(mb, error_r);
		if (ret != SYNC_OK) {
			poller_sync_end(mb);
			return ret;
		}
	}
	if (mb->pos < mb->n_pending) {
		size_t batch = (size_t)(mb->poller->opt.once ? mb->cfg->once_batch_size
							     : mb->cfg->batch_size);
		size_t k = mb->n_pending - mb->pos < batch ? mb->n_pending - mb->pos : batch;
		ret = sync_batch(mb, mb->pending + mb->pos, k, 0, &k, error_r);
		if (ret != SYNC_OK) {
			poller_bar_clear(mb->poller);
			poller_sync_end(mb);
			return ret;
		}
		mb->pos += k;
		if (mb->pos < mb->n_pending)
			return SYNC_MORE;
	}
	if (mb->total > 0)
		poller_progress(mb, 1);
	poller_sync_end(mb);
	return SYNC_OK;
}

/* ---- the sync on a worker (poller-work.c) ---------------------------------------- */

void
poller_work_clear(struct mb_work *w)
{
	free(w->error);
	free(w->uids);
	for (size_t k = 0; k < w->n_msgs; k++)
		free(w->msgs[k].data);
	free(w->msgs);
	free(w->fetch_error);
	batch_marks_clear(&w->marks);
	memset(w, 0, sizeof(*w));
}

int
poller_sync_work_fetch(struct mbox *mb)
{
	struct poller *p = mb->poller;
	uint32_t uidvalidity, last_uid;
	const char *error;

	/* what needs the store between round trips stays on the loop's
	   thread: the catch-up, the held entries, a new UIDVALIDITY, and
	   the batches of a backlog (sync_start(), poller_sync_step()) */
	if (mb->pending != NULL || !mb->caught_up || mb->recheck)
		return 0;
	if (store_mailbox_get(p->store, mb->cfg->name, &uidvalidity, &last_uid, &error) < 0)
		return 0; /* sync_start() says so */
	if (uidvalidity != 0 && uidvalidity != mb->uidvalidity)
		return 0;
	poller_work_clear(&mb->work);
	mb->work.kind = WORK_FETCH;
	mb->work.idle_done = mb->state == MB_WOKEN;
	mb->work.last_uid = uidvalidity == 0 ? 0 : last_uid;
	mb->work.batch = (size_t)mb->cfg->batch_size;
	mb->work.max_size = (size_t)p->config->limits.max_message_size;
	/* at most one message's worth of copies per worker; a batch larger
	   than that is fetched by the loop's thread, as a backlog is */
	mb->work.budget = mb->work.max_size;
	mb->work.go_idle = !p->opt.once;
	return 1;
}

/* imap_fetch()'s callback on a worker: a copy of each message, while the
   copies fit in the budget; beyond it, none (the loop's thread fetches
   the batch again, as it fetches a backlog). */
static int
prefetch_message(void *context, uint32_t uid, const unsigned char *data, size_t len,
		 uint64_t size)
{
	struct mb_work *w = context;
	if (!w->prefetched)
		return -1;
	if (w->n_msgs == w->n_uids) /* imap_fetch() hands over each UID asked for once */
		return 0;
	struct prefetched m = { .uid = uid, .size = size };
	if (data != NULL && len > w->max_size) {
		m.cut = 1; /* too large: fetched again whole, to disk */
		m.len = len;
	} else if (data != NULL) {
		if (len > w->budget - w->bytes) {
			for (size_t k = 0; k < w->n_msgs; k++)
				free(w->msgs[k].data);
			x_free(&w->msgs);
			w->n_msgs = w->bytes = 0;
			w->prefetched = 0;
			return -1;
		}
		m.data = xmalloc(len + 1);
		memcpy(m.data, data, len);
		m.len = len;
		w->bytes += len;
	}
	if (w->msgs == NULL)
		w->msgs = xcalloc(w->n_uids, sizeof(*w->msgs));
	w->msgs[w->n_msgs++] = m;
	return 0;
}

/* The end of a sync on the worker: the folder changed meanwhile (look
   again), or IDLE again. */
static int
work_idle(struct mbox *mb, struct mb_work *w, const char **error_r)
{
	if (!w->go_idle)
		return 0;
	w->changed = imap_take_changes(mb->conn);
	if (w->changed || !mb->can_idle)
		return 0;
	if (imap_idle_start(mb->conn, error_r) < 0)
		return -1;
	w->idling = 1;
	return 0;
}

void
poller_sync_run(struct mbox *mb)
{
	struct mb_work *w = &mb->work;
	const char *error = NULL;

	w->ret = 0;
	if (w->kind == WORK_MARK) {
		marks_run(mb, &w->marks);
		if (w->marks.result == MARKS_OK && w->marks.pending == 0 &&
		    work_idle(mb, w, &error) < 0)
			goto failed;
		return;
	}
	if (w->idle_done && imap_idle_done(mb->conn, &error) < 0)
		goto failed;
	/* as sync_start(): what was announced so far is covered by the search */
	(void)imap_take_changes(mb->conn);
	if (imap_uid_search(mb->conn, w->last_uid + 1, 0, 0, &w->uids, &w->n_uids, &error) < 0)
		goto failed;
	if (w->n_uids == 0 || w->n_uids > w->batch)
		return; /* nothing new (WORK_MARK goes back to IDLE), or a backlog */
	w->prefetched = 1;
	w->fetch_r = imap_fetch(mb->conn, w->uids, w->n_uids, w->max_size, prefetch_message, w,
				&error);
	if (w->fetch_r < 0) {
		w->fetch_server = imap_failure(mb->conn) == IMAP_FAIL_SERVER;
		w->fetch_error = xstrdup(error != NULL ? error : "fetch failed");
	}
	return;
failed:
	w->ret = -1;
	w->error = xstrdup(error != NULL ? error : "IMAP failure");
}

/* The loop's thread takes the worker's outcome: the failure, or the new
   UIDs into mb->pending. */
enum sync_result
poller_sync_fetched(struct mbox *mb, const char **error_r)
{
	struct mb_work *w = &mb->work;
	if (w->ret < 0) {
		*error_r = errf("%s", w->error);
		return SYNC_IMAP_FAILED;
	}
	mb->pending = w->uids;
	mb->n_pending = w->n_uids;
	w->uids = NULL;
	w->n_uids = 0;
	sync_begun(mb, w->last_uid);
	if (mb->n_pending > 0 && !w->prefetched) {
		/* a backlog, or over the budget: batches on the loop's thread */
		log_debug("mailbox=%s: %zu new message(s): %s, fetched on the loop's thread",
			  mb->cfg->name, mb->n_pending,
			  mb->n_pending > w->batch ? "more than batch_size"
						   : "more than max_message_size of copies");
		poller_work_clear(w);
		return SYNC_MORE;
	}
	struct batch_marks m = { 0 };
	enum sync_result ret = SYNC_OK;
	if (mb->n_pending > 0) {
		ret = batch_commit(mb, mb->pending, mb->n_pending, 0, w, &m, NULL, error_r);
		if (ret != SYNC_OK) {
			poller_bar_clear(mb->poller);
			poller_sync_end(mb);
			batch_marks_clear(&m);
			return ret;
		}
		mb->pos = mb->n_pending;
	}
	int go_idle = w->go_idle;
	poller_work_clear(w);
	w->kind = WORK_MARK;
	w->marks = m;
	w->go_idle = go_idle;
	return SYNC_OK;
}

enum sync_result
poller_sync_marked(struct mbox *mb, const char **error_r)
{
	struct mb_work *w = &mb->work;
	enum sync_result ret = marks_account(mb, &w->marks, error_r);
	if (ret == SYNC_OK && w->ret < 0) {
		*error_r = errf("%s", w->error);
		ret = SYNC_IMAP_FAILED;
	}
	if (ret != SYNC_OK)
		poller_bar_clear(mb->poller);
	else if (mb->total > 0)
		poller_progress(mb, 1);
	poller_sync_end(mb);
	return ret;
}
