/*
 * outbox: the one module that owns delivery policy for the mail deskgate
 * sends. Callers queue a finished message (compose.c) in the same store
 * transaction as the event that causes it; the daemon calls
 * outbox_run_due() to hand due messages to the relay (smtp.c) and records
 * every outcome on the outbox row and as an event on the ticket.
 *
 * Policy:
 * - sent: the relay accepted the message (250 after DATA).
 * - a temporary failure (4xx, connection or TLS failure, time-out) is
 *   retried after [smtp] retry_initial, doubling each time; the last
 *   attempt is made retry_max_age after queueing, and a temporary failure
 *   then fails the message for good.
 * - a permanent refusal (5xx to MAIL, RCPT or DATA) fails it at once.
 * - recipients one by one: one refused at RCPT does not stop the others;
 *   each recipient's result is recorded (store_outbox_rcpt_list()); a
 *   temporary failure is retried only for the recipients it concerns. The
 *   row is "sent" when every recipient is done and at least one got it,
 *   "failed" when none did. When the customer of a relayed reply is not
 *   reached, the agent who wrote it is told by mail (kind "error").
 * - a failure of the relay session itself (cannot connect, TLS, AUTH)
 *   defers that message and pauses the whole queue with the same backoff
 *   (like Postfix's dead-destination cache): the next messages would fail
 *   the same way.
 * - Crash safety: rows are marked "sending" (committed) before they go to
 *   the relay. A row still "sending" at the next run was in flight when the
 *   gateway stopped: it is sent again, byte for byte, so the Message-ID is
 *   the same and the duplicate (if the relay had accepted the first copy)
 *   is recognisable. A row queued but never sent is sent exactly once.
 * - Several gateways on one store: each run claims the rows it sends
 *   (store_outbox_claim(): one gateway per row). A row left "sending" by a
 *   gateway that died is claimed again once its claimer's liveness lease
 *   is gone (lease.h; at once when it ran on this host) or its claim
 *   expired ([store] lease_ttl + 4 x [smtp] timeout), and sent again as
 *   above; outbox.resends counts those copies.
 * - Bounces: outbox_apply_report() marks the row a DSN reports on failed
 *   (matched by VERP envelope or by the quoted Message-ID).
 *
 * VERP: when [smtp] envelope_from contains "{verp}", e.g.
 * "support+{verp}@example.test", each message is sent with its own
 * envelope sender, "{verp}" replaced by "bounce-<outbox id>-<tag>", where
 * tag is 10 base32 characters of HMAC-SHA-256(key, "bounce-<id>") and the
 * key is 32 random bytes kept in <state_dir>/verp.key (created on first
 * use, mode 0600). The mailbox must deliver support+anything@ to support@
 * (recipient_delimiter = + in Postfix and Dovecot). A bounce to such an
 * address names its outbox row even when the bounce quotes nothing of the
 * message, and the tag stops anyone from failing rows by forging bounces.
 * The outbox row keeps the template; the address is derived when sending.
 *
 * Event kinds written on the ticket: "mail-sent", "mail-deferred",
 * "mail-failed", "mail-bounced", "mail-delayed", "mail-delivered",
 * "mail-auto-reply", "mail-feedback", "mail-retry", "mail-cancelled",
 * "mail-undeliverable" (a relayed reply's customer not reached).
 *
 * Ownership: struct outbox borrows the store and the configuration, which
 * must outlive it.
 */
#ifndef DG_OUTBOX_H
#define DG_OUTBOX_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

struct config;
struct store;
struct dsn_report;
struct outbox;

/* Queue raw[0..len) for recipients (bare addresses). Does not begin or
   commit a transaction: call it inside the caller's. message_id is the
   message's Message-ID without angle brackets (unique in the outbox);
   kind: "ack", "notify", "relay", "notice" or "error"; ticket_id 0 for
   none. now: seconds since the epoch (created_at and first attempt). */
int outbox_queue(struct store *store, const struct config *config, int64_t ticket_id,
		 const char *kind, const char *message_id, const unsigned char *raw, size_t len,
		 const char *const *recipients, size_t n_recipients, int64_t now, int64_t *id_r,
		 const char **error_r);

/* Who wrote the message queued as id (the agent of a relayed reply): when
   its customer cannot be reached (refused at RCPT, given up on, or
   bounced), that agent gets a mail saying so (else the ticket's assignee).
   Inside the caller's transaction, like outbox_queue(). */
int outbox_set_author(struct store *store, int64_t id, const char *address, const char **error_r);

int outbox_new(struct store *store, const struct config *config, struct outbox **outbox_r,
	       const char **error_r);
void outbox_free(struct outbox **outboxp);
/* Several gateways on one store: rows are claimed for this process's
   lease set (lease.h, borrowed). Without one, outbox_run_due() makes its
   own at the first run. */
struct lease_set;
void outbox_set_leases(struct outbox *outbox, struct lease_set *leases);
/* Claim rows for holder (a lease set's holder id, lease_set_holder()) with
   that set's ttl, without touching the set itself: its owner (another
   thread, on another store connection) renews it. holder is copied. */
void outbox_set_claimant(struct outbox *outbox, const char *holder, int64_t ttl);
/* *stop becomes non-zero (from another thread): outbox_run_due() stops
   after the message it is sending, putting the rest of its batch back in
   the queue as it was (never sent twice, never lost). Borrowed. */
void outbox_set_stop(struct outbox *outbox, const atomic_int *stop);

struct outbox_run_stats {
	size_t sent;
	size_t deferred;   /* temporary failure, will be retried */
	size_t failed;	   /* permanent failure or given up */
	int relay_down;	   /* the run stopped on a relay session failure */
	int more;	   /* the run stopped at its size limit with more due */
	int stopped;	   /* the run stopped at *stop (outbox_set_stop()) */
};

/* Send what is due at `now` (at most max_messages, 0: no limit). -1 with
   error_r only when the store or the configuration is broken; SMTP trouble
   is recorded, not returned. */
int outbox_run_due(struct outbox *outbox, int64_t now, size_t max_messages,
		   struct outbox_run_stats *stats_r, const char **error_r);

/* The connection to the relay outlives outbox_run_due(): the next run
   sends on it (no new connection, TLS handshake, login). This closes it
   (QUIT) once no run has used it for [smtp] idle_timeout; outbox_run_due()
   calls it first, and so does outbox_free(). Returns the milliseconds
   until it will close it (the longest a caller should wait before calling
   again), or -1 when no connection is open. */
int64_t outbox_close_idle(struct outbox *outbox);

/* When the next attempt is due: 1 with *when_r (may be <= now: due now),
   0 when nothing is waiting, -1 on a store error. */
int outbox_next_due(struct outbox *outbox, int64_t now, int64_t *when_r, const char **error_r);

/* The envelope sender for outbox row id (VERP applied); caller frees. */
char *outbox_envelope_from(struct outbox *outbox, const char *template_from, int64_t id);
/* 1 with *id_r when address is one of our VERP envelope senders with a
   valid tag, 0 otherwise. */
int outbox_verp_match(struct outbox *outbox, const char *address, int64_t *id_r);

/* Operator actions (deskgate outbox retry|cancel): retry makes a queued,
   failed or cancelled message due now; cancel stops a queued or failed one.
   -1 with error_r when the row does not exist or is in the wrong state. */
int outbox_retry(struct store *store, int64_t id, int64_t now, const char **error_r);
int outbox_cancel(struct store *store, int64_t id, const char **error_r);

/* A bounce, delay or success notice, auto-reply or feedback report that
   arrived as mail (dsn_analyze()). Matches it to the outbox row it reports
   on, by VERP (report->envelope_to) or by the original Message-ID; a
   failure report marks the row failed with the status code; every matched
   report adds an event to the row's ticket. Does not begin or commit: call
   it inside the caller's transaction (the one that also records that the
   incoming mail was handled). 1 when matched (*outbox_id_r), 0 when not,
   -1 on a store error. */
int outbox_apply_report(struct outbox *outbox, const struct dsn_report *report, int64_t now,
			int64_t *outbox_id_r, const char **error_r);

#endif
