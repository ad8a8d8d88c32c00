/*
 * pending: a ticket's status after the first answer (issue 13, "Waiting
 * on the customer, solved, closed"; docs/sla.md):
 *
 * - #pending (pending_wait()): the ticket waits on the customer: status
 *   "pending" (the SLA step pauses its clocks), the instant kept in the
 *   internal field "_pending_since", and the scheduler's "pending" timer
 *   set [pending] remind_after business days later (on the calendar of the
 *   ticket's SLA). Then one reminder to the customer in their language;
 *   solve_after business days after the reminder, the ticket is solved
 *   (pending_solve(), "auto") with the solved notice. A customer's reply
 *   reopens it (thread.h: status open, the clocks resume and the next
 *   response starts); the timer then finds the ticket open and does
 *   nothing.
 * - #solved and #close (pending_solve()): THE one place where a ticket is
 *   closed, by an agent or automatically. Status "closed", the instant in
 *   "_closed_at" (the reopen grace counts from it, thread.h), an event
 *   "closed" naming how ("solved", "closed"), by whom ("agent ADDRESS",
 *   "auto") and why; the customer gets the solved notice in their
 *   language, which says how to reopen by replying and until when ([solved]
 *   notice, quiet_categories, reopen_grace). A survey or any later step
 *   hooks on closing by reading that event, or by calling through here.
 * - #snooze 2d|4h|DATE (pending_snooze()): the agent's own reminder: the
 *   "snooze" timer (subject: the agent's address) mails the agent once,
 *   threaded with the ticket's notifications; #snooze off cancels it, a
 *   new #snooze moves it.
 *
 * Exactly once: each reminder, automatic solve and snooze mail is recorded
 * under a unique key (store_sla_notice_add(): ticket, "pending" or
 * "snooze", the level, the period (the instant the wait began, or the
 * snooze's due time), the recipient) in the transaction that queues its
 * mail and removes its timer (gateway/schedule.h), so a crash before the
 * commit does it again and after it never again, and a daemon that slept
 * through both instants sends the reminder once, then waits solve_after
 * days from it: a customer is never solved without a reminder.
 *
 * The mail: templates status/reminder, status/solved (to the customer, in
 * the ticket's language, Reply-To the customer's signed address so that a
 * reply reopens) and status/snooze (to the agent, in their [agent]
 * language, Reply-To the agents' address); zh-CN, zh-TW, en, fr, de, text
 * with an HTML alternative unless a .html exists (ack_render_in()).
 * Outbox kinds "reminder" (reminder, snooze) and "notice" (solved).
 * Events: "pending", "reminder", "closed", "snooze", and "error" when a
 * template cannot render (the step is recorded, nothing is retried).
 *
 * Results are 0 or the store's graded failures (store.h); everything is
 * written in the caller's transaction.
 *
 * Ownership: pending_new() borrows the configuration, the store and the
 * deskmail (NULL: no mail, e.g. a command that only reads), which must
 * outlive it.
 */
#ifndef DG_PENDING_H
#define DG_PENDING_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct config_agent;
struct deskmail;
struct schedule;
struct store;
struct store_timer;
struct pending;

/* The scheduler's timer kinds. */
#define PENDING_TIMER "pending"
#define PENDING_SNOOZE_TIMER "snooze"
/* The internal ticket fields (never shown to customers). */
#define PENDING_FIELD_SINCE "_pending_since"
#define PENDING_FIELD_CLOSED_AT "_closed_at"

/* -1 with *error_r when the calendars cannot work (sla_new()). */
int pending_new(const struct config *config, struct store *store, struct deskmail *dm,
		struct pending **p_r, const char **error_r);
void pending_free(struct pending **pp);

/* #pending by agent `by` (an address) at now: status pending, the timer.
   Refused (1, *why_r for the agent) when the ticket is closed. */
int pending_wait(struct pending *p, int64_t ticket_id, const char *by, int64_t now,
		 const char **why_r, const char **error_r);

/* Close ticket_id: how "solved" or "closed", who "agent" (by: the address)
   or "auto" (by: what did it, "no answer to the reminder"). A ticket that
   is already closed is left as it is (an event says so). The notice to the
   customer unless [solved] says not to. */
int pending_solve(struct pending *p, int64_t ticket_id, const char *how, const char *who,
		  const char *by, int64_t now, const char **error_r);

/* #snooze ARG by agent a at now: set, move or (off) cancel the agent's
   timer. 1 with *why_r (for the agent's error mail) when ARG cannot work
   here (a date in the past, no timer to cancel); 0 done. *when_r (may be
   NULL): the instant set, 0 for off. */
int pending_snooze(struct pending *p, int64_t ticket_id, const struct config_agent *a,
		   const char *arg, int64_t now, int64_t *when_r, const char **why_r,
		   const char **error_r);

/* Whether #snooze ARG by agent a on ticket_id can work at now (checked
   before anything of the agent's mail is applied: a time that is past,
   off without a snooze): 0, or -1 with *why_r. */
int pending_snooze_check(struct pending *p, int64_t ticket_id, const struct config_agent *a,
			 const char *arg, int64_t now, const char **why_r);

/* The scheduler's handlers (context: a struct pending with a deskmail). */
int pending_timer(void *p, struct store *store, const struct store_timer *timer, int64_t now,
		  const char **error_r);
int pending_snooze_timer(void *p, struct store *store, const struct store_timer *timer,
			 int64_t now, const char **error_r);
/* Register both with the scheduler. */
void pending_register(struct pending *p, struct schedule *schedule);

#endif
