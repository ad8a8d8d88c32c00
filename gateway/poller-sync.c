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

static int
on_message(void *context, uint32_t uid, const unsigned char *data, size_t len, uint64_t size)
{
	struct batch *b = context;
	ssize_t i = batch_index(b, uid); /* imap_fetch hands over only UIDs asked for, once */
	if (i < 0)
		return 0;
	b->size[i] = size;
	if (data == NULL) {
		b->nil[i] = 1;
		return 0;
	}
	metrics_inc(METRIC_FETCHED, b->mb->cfg->name);
	metrics_add(METRIC_FETCHED_BYTES, b->mb->cfg->name, NULL, (double)len);
	if (len > b->mb->poller->config->limits.max_message_size) {
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
enum batch_phase { PH_BEGIN, PH_FETCH, PH_COMMIT, PH_MARK, PH_COUNT };

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
	log_debug("mailbox=%s: batch of %zu: mark %s", b->mb->cfg->name, b->n,
		  phase_text(&bc->phase[PH_MARK]));
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
	double until = poller_now() + (double)p->config->store.lease_ttl / 3;
	int r;
	do {
		size_t k = n - fetched < chunk ? n - fetched : chunk;
		r = imap_fetch(mb->conn, b->uids + fetched, k,
			       (size_t)p->config->limits.max_message_size, on_message, b, error_r);
		fetched += k;
	} while (r == 0 && !b->store_failed && fetched < n && p->opt.once && !p->stop &&
		 poller_now() < until);
	if (fetched < n && r == 0 && !b->store_failed && !p->stop)
		log_debug("mailbox=%s: transaction ends after %zu of %zu messages: a third of "
			  "lease_ttl has passed",
			  mb->cfg->name, fetched, n);
	*fetched_r = fetched;
	return r;
}

/* One batch: fetch (uids[0..n), or with --once perhaps fewer: *taken_r),
   ingest (over-size mail whole, streamed to disk), account for every UID
   asked for, commit (with the checkpoint and the marks owed), then
   mark. */
static enum sync_result
sync_batch(struct mbox *mb, const uint32_t *uids, size_t n, int refetch, size_t *taken_r,
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
	size_t fetched = n;
	int fetch_r = b.store_failed ? 0 : fetch_chunks(&b, n, &fetched, error_r);
	/* what was not asked for is not this batch's: the next one's */
	b.n = n = fetched;
	if (taken_r != NULL)
		*taken_r = n;
	/* the server answered (OK, or NO): what it did not deliver is its
	   decision, not a lost connection */
	int answered = fetch_r == 0 || imap_failure(mb->conn) == IMAP_FAIL_SERVER;
	const char *server_said = fetch_r < 0 ? xstrdup(*error_r) : NULL;
	for (size_t i = 0; i < n && answered && !b.store_failed; i++) {
		if (b.oversize[i] && fetch_oversize(&b, i, error_r) == -1)
			answered = 0;
	}
	if (answered && !b.store_failed && classify_missing(&b, server_said, error_r) == -1)
		answered = 0;
	free((char *)server_said);
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
	if (!answered) {
		ret = SYNC_IMAP_FAILED;
		goto out;
	}
	uint32_t *done = xcalloc(n + 1, sizeof(uint32_t)), *q = xcalloc(n + 1, sizeof(uint32_t));
	uint32_t *del = xcalloc(n + 1, sizeof(uint32_t));
	size_t n_done = 0, nq = 0, pending = 0, n_del = 0;
	for (size_t i = 0; i < n; i++) {
		if (b.state[i] == UID_COMMITTED && b.secret[i] &&
		    p->config->secrets.delete_from_server) {
			/* its redacted copy is committed: the original goes */
			del[n_del++] = uids[i];
			miss_forget(mb, uids[i]);
		} else if (b.state[i] == UID_COMMITTED) {
			done[n_done++] = uids[i];
			if (b.quarantined[i])
				q[nq++] = uids[i];
			miss_forget(mb, uids[i]);
		} else if (b.state[i] == UID_PENDING && !refetch) {
			pending++;
		}
	}
	if (mark_owed(mb, done, n_done, q, nq, error_r) < 0)
		ret = SYNC_IMAP_FAILED;
	else if (n_del > 0 && imap_delete(mb->conn, del, n_del, error_r) < 0) {
		/* still owed: a later catch-up marks them (the originals stay) */
		log_warnx("mailbox=%s: %zu message(s) with a secret not expunged: %s", mb->cfg->name,
			  n_del, *error_r);
		ret = SYNC_IMAP_FAILED;
	} else if (n_del > 0) {
		for (size_t i = 0; i < n_del; i++)
			log_info("mailbox=%s uid=%u: expunged after its redacted copy was committed "
				 "([secrets] delete_from_server = yes)",
				 mb->cfg->name, del[i]);
		marks_done_later(mb, del, n_del);
	}
	else if (pending > 0) {
		/* reconnect and try those again later (with backoff) */
		*error_r = errf("%zu message(s) of this batch not delivered by the server", pending);
		ret = SYNC_IMAP_FAILED;
	} else if (fetch_r < 0) {
		log_warnx("mailbox=%s: %s; every message of the batch is accounted for", mb->cfg->name,
			  *error_r);
	}
	free(done);
	free(q);
	free(del);
	batch_clock_lap(&bc, PH_MARK);
	batch_clock_log(&bc, &b);
out:
	batch_free(&b);
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
	mb->pos = 0;
	mb->total = mb->n_pending;
	mb->done = 0;
	mb->started = mb->last_log = poller_now();
	mb->last_bar = 0;
	if (mb->n_pending >= 100 || (mb->n_pending > 0 && p->opt.progress_bar))
		log_info("mailbox=%s: %zu new message(s) above uid %u", cfg->name, mb->n_pending,
			 last_uid);
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

