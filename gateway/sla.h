/*
 * sla: service level agreements (docs/sla.md). The calendars of a
 * configuration ([hours], the "default", and each [hours NAME]) and its
 * policies ([sla NAME], first match wins; without any, one "default"
 * policy whose first-response target is [hours] target_PRIORITY), and the
 * clocks of each ticket:
 *
 * - first response: from the ticket's creation to the first answer an
 *   agent relays to the customer;
 * - next response: from a customer's mail to the next relayed answer,
 *   once the first response is done (after each customer mail that waits
 *   on us; further mail before the answer does not restart it);
 * - resolution: from the creation until the ticket is closed (solved).
 *
 * Policies match on priority, category, queue, language and VIP status,
 * in the order of the file; [sla default] (wherever it is) takes the
 * rest. Without an [sla default], the rest get the built-in default: a
 * first-response target per priority from [hours] target_PRIORITY, and
 * no next-response or resolution target (deskgate before SLAs).
 *
 * Each counts business time on the ticket's calendar (the policy's, else
 * its queue's, else [hours]); a 24x7 calendar counts wall time. All clocks
 * pause while the ticket is pending (waiting on the customer) or closed,
 * and resume when it opens again: the business time paused is added to
 * the target, so a due time = the instant `target + paused` business
 * seconds after the clock started. A change of priority, category, queue
 * or VIP status matches the policy again and recomputes every due time.
 *
 * sla_sync() brings a ticket's row (store_sla) in step with the ticket
 * and with what just happened (a customer's mail, an agent's relayed
 * answer), and says what changed as events; sla_sync_store() does the
 * same on the store: reads, writes the row, the events ("sla",
 * "sla-met", "sla-paused", "sla-resumed") and the scheduler's "sla" timer
 * (at the next warning or due instant), inside the caller's transaction.
 * The escalation ladder (gateway/escalate.h) acts on what this computes.
 *
 * Ownership: sla_new() borrows the configuration, which must outlive the
 * struct sla; everything it returns belongs to it.
 */
#ifndef DG_SLA_H
#define DG_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store.h"

struct config;
struct hours;
struct sla;
struct sla_policy;

/* The targets are the store's (enum store_sla_target). */
#define SLA_TARGETS STORE_SLA_TARGETS

/* The timer kind of a ticket's SLA checks (gateway/schedule.h). */
#define SLA_TIMER "sla"

/* Build the calendars and policies; -1 with *error_r ("FILE:LINE: why")
   for a calendar or a policy that cannot work: an unknown time zone or
   calendar, a bad week, an unknown priority, an [hours default]. */
int sla_new(const struct config *config, struct sla **sla_r, const char **error_r);
void sla_free(struct sla **slap);

/* "first_response", "next_response", "resolution". */
const char *sla_target_name(enum store_sla_target target);
/* The target called name, or -1. */
int sla_target_from_name(const char *name);

/* The calendar called name (NULL or "default": [hours]), or NULL. */
const struct hours *sla_calendar(const struct sla *sla, const char *name);
size_t sla_calendar_count(const struct sla *sla);
const struct hours *sla_calendar_at(const struct sla *sla, size_t i);

size_t sla_policy_count(const struct sla *sla);
const struct sla_policy *sla_policy_at(const struct sla *sla, size_t i);
const struct sla_policy *sla_policy_find(const struct sla *sla, const char *name);
const char *sla_policy_name(const struct sla_policy *p);
/* Business seconds for a ticket of priority (the built-in default policy
   has a first-response target per priority); 0: no such target. */
uint64_t sla_policy_target(const struct sla_policy *p, enum store_sla_target target,
			   const char *priority);
/* Percent of a target at which the assignee is warned. */
unsigned int sla_policy_warn_at(const struct sla_policy *p);
/* Seconds between breach notices; 0: once. */
uint64_t sla_policy_repeat(const struct sla_policy *p);
/* What the policy applies to, for people ("priority urgent, high; VIP"). */
const char *sla_policy_describe(const struct sla_policy *p, char *buf, size_t size);

/* 1 when the ticket is a VIP's: its queue is a VIP queue, or its customer
   is in [rules] vip_senders (an address, or a domain and its
   subdomains). */
int sla_ticket_vip(const struct sla *sla, const struct store_ticket *t);
/* The first policy that takes the ticket (never NULL: the default). */
const struct sla_policy *sla_match(const struct sla *sla, const struct store_ticket *t, int vip);
/* The calendar the policy's targets count in for a ticket of queue. */
const struct hours *sla_policy_calendar(const struct sla *sla, const struct sla_policy *p,
					const char *queue);

/* What happened to the ticket, for sla_sync(). */
struct sla_happening {
	int64_t customer_mail; /* a customer's mail arrived at this time (0: none) */
	int64_t agent_answer;  /* an agent's answer was relayed at this time (0: none) */
	const char *why;       /* what changed the fields, for the event ("#priority") */
};

/* An event sla_sync() asks to record. */
struct sla_note {
	const char *kind; /* "sla", "sla-met", "sla-paused", "sla-resumed" */
	char detail[512];
};
#define SLA_MAX_NOTES 8

/* Bring row in step with ticket t at now: start it when it is new
   (row->ticket_id 0), pause or resume on a status change, start or meet
   clocks for what happened, match the policy again when the fields it
   was matched from changed. Fills notes (at most SLA_MAX_NOTES) and
   returns how many; 0 when nothing changed. Strings of row are replaced
   with store_string_replace() (row is a record the store returned, or
   zeroed). */
size_t sla_sync(const struct sla *sla, const struct store_ticket *t, struct store_sla *row,
		const struct sla_happening *what, int64_t now, struct sla_note *notes);

/* The next instant after now at which the ladder must look at the
   ticket: a warning or due instant still ahead, or the next repeat of a
   breach; 0 when none (every clock met, paused or without a target). */
int64_t sla_next_check(const struct sla *sla, const struct store_sla *row, int64_t now);

/* On the store, inside the caller's transaction: read the ticket and its
   row, sla_sync(), write the row, the events and the "sla" timer. 0, or a
   graded store failure. */
int sla_sync_store(const struct sla *sla, struct store *store, int64_t ticket_id,
		   const struct sla_happening *what, int64_t now, const char **error_r);

/* The state of one target of a ticket's row at now, for people and
   filters (static): "none" (no target), "met", "met-late" (met after its
   due time), "paused" (the ticket waits on the customer or is closed),
   "breached" (running, past due), "at-risk" (running, past the warning
   instant), "running", "idle" (its clock has not started: a next
   response before the customer writes again). */
const char *sla_target_state(const struct store_sla *row, enum store_sla_target target,
			     int64_t now);
/* The state of the ticket as a whole: the worst of its targets' ("-"
   without an SLA row). */
const char *sla_ticket_state(const struct store_sla *row, int64_t now);

/* A due time for people, in the calendar's zone: "Mon 2025-03-31 10:00
   CEST (+02:00)". */
const char *sla_format_time(const struct hours *calendar, int64_t t, char *buf, size_t size);
/* The same for a reader of language (a BCP 47 tag; English when it is none
   of the ack languages): "lun. 2025-03-31 10:00 CEST (+02:00)",
   "周一 2025-03-31 16:00 CST (+08:00)" (zh-CN). The digits stay
   ISO 8601, which every reader of the desk reads alike. */
const char *sla_format_time_in(const struct hours *calendar, int64_t t, const char *language,
			       char *buf, size_t size);
/* A duration for people: "2h 30m", "3d 4h", "1d", "45m". */
const char *sla_format_duration(int64_t seconds, char *buf, size_t size);

#endif
