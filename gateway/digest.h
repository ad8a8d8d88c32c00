/*
 * digest: the daily digests by mail (issue 13, docs/sla.md).
 *
 * - Agent digest, at the agent's local time ([agent] digest HH:MM, else
 *   [digest] time; "off" for none) in their zone ([agent] timezone, else
 *   their calendar's, else [hours]'s) and language ([agent] language):
 *   the SLA targets they have missed, their open tickets by due time, and
 *   the unassigned tickets of their queues (the tickets they would be
 *   notified of: route_select_ticket()).
 * - Queue digest, to each of a queue's supervisors (supervisor.h: its
 *   [queue] supervisors, else the agents with supervisor = yes), one mail for all the queues they watch:
 *   per queue the backlog by status, the breached and at-risk tickets
 *   (past the warning instant of a target), the oldest unanswered, the
 *   VIP tickets. A supervisor who is an agent gets it at their own time,
 *   zone and language; one with [agent] digest = off gets neither.
 * Nothing is sent when a digest would be empty.
 *
 * Timing: each recipient has a scheduler timer (kind "digest", subject
 * "agent:ADDRESS" or "queue:ADDRESS") at their next local HH:MM;
 * digest_arm() sets the missing ones when the daemon starts (a timer
 * already due is kept: the digest missed while the daemon was down goes
 * at once). The handler sends the digest of the local day of the latest
 * HH:MM at or before now, and sets the timer to HH:MM of the next local
 * day, computed per local date (tzif_mktime()), so that a day on which
 * the clocks change has its one digest: at 02:30 on a spring-forward
 * night it goes at 03:30, on a fall-back night once.
 *
 * Exactly once: each digest is recorded (store_digest_add(): kind,
 * recipient, local day) in the transaction that queues its mail; one
 * already recorded is not sent again. A daemon down for days sends one
 * late digest (of the latest day), never one per missed day.
 *
 * The mail: templates digest/agent.LANG.txt and digest/queue.LANG.txt
 * (ack_render_in(); the HTML alternative is made from the text unless a
 * .html exists), outbox kind "digest", From the desk, To the recipient,
 * no Reply-To, not threaded (a daily mail stands alone), Auto-Submitted:
 * auto-generated.
 *
 * Ownership: digest_new() borrows the configuration, the store and the
 * deskmail, which must outlive it.
 */
#ifndef DG_DIGEST_H
#define DG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct ack_mail;
struct config;
struct deskmail;
struct schedule;
struct store;
struct store_timer;
struct digest;

/* The scheduler's timer kind. */
#define DIGEST_TIMER "digest"

/* Most tickets one list of a digest shows (the mail says how many more). */
#define DIGEST_MAX_LIST 25
/* Most tickets a digest reads per list (a backlog beyond is "at least"). */
#define DIGEST_MAX_READ 5000

/* -1 with *error_r when the calendars or time zones cannot work. */
int digest_new(const struct config *config, struct store *store, struct deskmail *dm,
	       struct digest **d_r, const char **error_r);
void digest_free(struct digest **dp);

/* How many recipients have a digest ([digest] enabled = no: none). */
size_t digest_recipient_count(const struct digest *d);

/* Set the timer of each recipient that has none (in its own
   transaction); 0, or a graded store failure. */
int digest_arm(struct digest *d, int64_t now, const char **error_r);

/* The next instant after `after` at which the recipient with this
   timer subject gets a digest; 0 when there is no such recipient. */
int64_t digest_next(const struct digest *d, const char *subject, int64_t after);

/* Render the digest of subject at now: 1 with *mail filled (caller
   clears) and *items_r, 0 when it would be empty (or the recipient is
   unknown), < 0 with *error_r (a store failure, or -1: the template). */
int digest_render(struct digest *d, const char *subject, int64_t now, struct ack_mail *mail,
		  int64_t *items_r, const char **error_r);

/* The scheduler's "digest" handler (context: a struct digest). */
int digest_timer(void *d, struct store *store, const struct store_timer *timer, int64_t now,
		 const char **error_r);

/* Register digest_timer() for DIGEST_TIMER. */
void digest_register(struct digest *d, struct schedule *schedule);

#endif
