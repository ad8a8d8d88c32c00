/*
 * report-mail: the weekly report by mail (issue 14, docs/reports.md
 * "Weekly report by mail").
 *
 * When: [report] weekly = DAY HH:MM local time in [report] timezone
 * (default: [hours] timezone); "off" for none. One scheduler timer (kind
 * "report", subject "weekly"), set by report_mail_arm() when the daemon
 * starts (a timer already due is kept: the report missed while no gateway
 * ran goes at once); the scheduler's lease makes it run on one gateway.
 * Occurrences are computed per local date (tzif_mktime()), so a week in
 * which the clocks change has its one report.
 *
 * What: the report (report.h, computed by report_compute(); nothing is
 * computed here) of the last complete local week before the occurrence:
 * the 7 local days [D-7 00:00, D 00:00) where D is the day of the
 * occurrence (weekly = mon 08:00: Monday to Sunday). Days, weeks and the
 * heatmap in the desk's zone, as `deskgate report`; the table by [report]
 * by. A week with no mail still sends: "no mail this week" is news.
 *
 * Who: [report] recipients (agents by name, display name or address, or
 * addresses), else the desk's supervisors: the agents with supervisor =
 * yes, else [alerts] supervisors, else every agent (supervisor.h's chain
 * for the desk, with the named supervisors first: a report is for whom
 * the desk names supervisor, an outage alert for whom runs it).
 *
 * Exactly once: each mail is recorded (store_report_sent_add(): period
 * start, recipient) in the transaction that queues it; one already
 * recorded is not sent again. A daemon down for weeks sends one report,
 * of the latest week.
 *
 * The mail: one per recipient, outbox kind "report", From the desk, no
 * Reply-To, not threaded, Auto-Submitted: auto-generated. Subject and
 * greeting from templates/report/weekly.LANG.txt (the recipient's [agent]
 * language, else the desk's); the text part is that greeting followed by
 * the text report (report_write_text()), the HTML part the report's page
 * (report_write_html(): inline SVG, no script).
 *
 * Ownership: report_mail_new() borrows the configuration, the store and
 * the deskmail, which must outlive it.
 */
#ifndef DG_REPORT_MAIL_H
#define DG_REPORT_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct deskmail;
struct schedule;
struct store;
struct store_timer;
struct report_mail;

/* The scheduler's timer kind and subject. */
#define REPORT_MAIL_TIMER "report"
#define REPORT_MAIL_SUBJECT "weekly"
/* Most recipients of the weekly report. */
#define REPORT_MAIL_MAX_RECIPIENTS 200

/* -1 with *error_r ("FILE:LINE: [report] ...") when the configuration
   cannot work: a zone, a recipient that is no agent and no address. */
int report_mail_new(const struct config *config, struct store *store, struct deskmail *dm,
		    struct report_mail **rm_r, const char **error_r);
void report_mail_free(struct report_mail **rmp);

/* The recipients' addresses (borrowed), 0 when the report is off. */
size_t report_mail_recipient_count(const struct report_mail *rm);
const char *report_mail_recipient(const struct report_mail *rm, size_t i);

/* Set the timer when there is none, move a future one to the time
   configured now, remove it when the report is off (in its own
   transaction); 0, or a graded store failure. */
int report_mail_arm(struct report_mail *rm, int64_t now, const char **error_r);

/* The first occurrence after `after`; 0 when the report is off. */
int64_t report_mail_next(const struct report_mail *rm, int64_t after);
/* The week reported at now: [*since_r, *until_r) of the latest
   occurrence at or before now. -1 when the report is off. */
int report_mail_period(const struct report_mail *rm, int64_t now, int64_t *since_r,
		       int64_t *until_r);

/* The scheduler's "report" handler (context: a struct report_mail). */
int report_mail_timer(void *rm, struct store *store, const struct store_timer *timer,
		      int64_t now, const char **error_r);
/* Register report_mail_timer() for REPORT_MAIL_TIMER. */
void report_mail_register(struct report_mail *rm, struct schedule *schedule);

#endif
