/*
 * escalate: the escalation ladder of the SLAs (docs/sla.md, issue 13),
 * and the pipeline step that keeps each ticket's SLA clocks in step with
 * its mail.
 *
 * The step (HOOK_STORED "sla", after "replies"): a customer's mail starts
 * the next-response clock (and, on a new ticket, every clock); an agent's
 * answer relayed to the customer meets the first or next response, which
 * stops the ladder for it; a command that changed the status (#pending,
 * #solved), the priority, the category or the queue pauses, resumes or
 * recomputes the clocks (sla_sync_store()).
 *
 * The ladder (the scheduler's "sla" timer, gateway/schedule.h): for each
 * target of a ticket that is still running,
 * - at the warning instant (warn_at percent of the target): a warning to
 *   the assignee, or to the queue's agents when there is none;
 * - at the due instant: a breach notice to the ticket's supervisors
 *   (supervisor.h: the queue's, else the policy's, else the agents with
 *   supervisor = yes; else the warning's recipients), again every `repeat`
 *   while breached (period 1, 2, ...: each recipient once per interval).
 * A breach makes its warning moot: a daemon down across both sends the
 * breach only, and of a long outage only the current period: one notice
 * per ticket and level, never a storm.
 *
 * Exactly once: each notice is recorded (store_sla_notice_add(): ticket,
 * target, level, period, recipient) in the transaction that queues its
 * mail through deskmail; one already recorded is never sent again.
 *
 * Quiet hours: unless the ticket's SLA calendar is 24x7, a notice waits
 * for the recipient's working hours (their [agent] calendar, else
 * [hours]): the ticket's timer is set to the recipient's next opening and
 * the notice goes then (if it is still due: an answer meanwhile stops it).
 *
 * The mail: templates sla/warning.LANG.txt and sla/breach.LANG.txt (the
 * acknowledgement templates' directories and rules, ack_render_in(); the
 * HTML alternative is made from the text unless a .html exists), in the
 * recipient's [agent] language, threaded with the ticket's first message,
 * Reply-To the agents' address so that #assign, #priority and #pending
 * work by answering. Outbox kind "notice" (the outbox table admits no
 * other kind for mail to agents yet); ticket event "escalation".
 *
 * Ownership: escalate_new() borrows the configuration, the store and the
 * deskmail (NULL: the step only, no ladder), which must outlive it.
 */
#ifndef DG_ESCALATE_H
#define DG_ESCALATE_H

#include <stdint.h>

struct config;
struct deskmail;
struct hook_event;
struct schedule;
struct store;
struct store_timer;
struct escalate;

/* -1 with *error_r when the calendars or policies cannot work (sla_new()). */
int escalate_new(const struct config *config, struct store *store, struct deskmail *dm,
		 struct escalate **esc_r, const char **error_r);
void escalate_free(struct escalate **escp);

/* The HOOK_STORED step "sla" (context: a struct escalate). */
int escalate_step(void *esc, struct hook_event *ev, const char **error_r);

/* Handle the scheduler's "sla" timer of a ticket (context: a struct
   escalate with a deskmail): send what is due, set the timer again. */
int escalate_timer(void *esc, struct store *store, const struct store_timer *timer, int64_t now,
		   const char **error_r);

/* Set the SLA gauges (deskgate_sla_at_risk_tickets and
   deskgate_sla_breached_tickets per queue) from the store at now; nothing
   when metrics are off. The counter deskgate_sla_notices_total{level}
   counts as notices are queued. 0, or a store failure. */
int escalate_update_metrics(struct escalate *esc, int64_t now, const char **error_r);

/* Register escalate_timer() for SLA_TIMER with the scheduler. */
void escalate_register(struct escalate *esc, struct schedule *schedule);

#endif
