/*
 * store-report-sql: the SQL text of the report's ticket scan and of what
 * keeps its per-ticket figures on the ticket, shared by both drivers (text
 * only, no database header). One text for both: the drivers drifted once
 * when the scan was written twice (the SLA columns were missing on
 * PostgreSQL). The statements use SQLite's ?N; the PostgreSQL driver reads
 * the same text after ?N becomes $N (store-pg-sql.c).
 *
 * The ticket scan reads the tickets table alone (and each ticket's SLA row
 * by its key): the figures that are about a ticket's events and messages
 * are kept on the ticket by triggers (SQLite migration 14, PostgreSQL 6:
 * the task's 15 and 7), as the rows arrive:
 *
 *   channel          the mailbox of the ticket's first message ('' when it
 *                    had none; NULL before the first message)
 *   close_event_at   the time of the last agent "#close" event (0: none)
 *   reopens          the reopening events (REOPEN_EVENT)
 *   category_change  the detail of the first agent "#category ... -> ..."
 *                    event ('' when none)
 *
 * Before them each ticket cost four correlated look-ups (events and
 * messages by ticket), 40 s of CPU for a year of a million tickets
 * (docs/reports.md "Speed").
 */
#ifndef DG_STORE_REPORT_SQL_H
#define DG_STORE_REPORT_SQL_H

/* The conditions on an event row (e "NEW." or "e."). */
/* An event that reopened a ticket: a customer's reply, or an agent's
   #reopen that changed the status. */
#define REOPEN_EVENT(e)                                                                       \
	"(" e "kind = 'reopened' OR (" e "kind = 'agent' AND " e "detail LIKE '#reopen %' AND " \
	e "detail NOT LIKE '%: already %'))"
#define CLOSE_EVENT(e) "(" e "kind = 'agent' AND " e "detail LIKE '#close %')"
#define CATEGORY_CHANGE_EVENT(e) \
	"(" e "kind = 'agent' AND " e "detail LIKE '#category %: category % -> %')"

/* A ticket's close time: its last "#close" event, or its last update when
   it was closed otherwise; 0 while it is not closed. */
#define REPORT_CLOSED_AT                                                                 \
	"CASE WHEN t.status = 'closed' THEN CASE WHEN t.close_event_at > 0 THEN " \
	"t.close_event_at ELSE t.updated_at END ELSE 0 END"

/* The columns of a report's ticket, in the order of struct
   store_report_ticket (store-report.c reads them by position). */
#define REPORT_TICKETS_SELECT                                                                  \
	"SELECT t.id, t.created_at, t.status, t.category, t.priority, t.queue, t.language, "  \
	"t.assignee, coalesce(t.channel, ''), t.first_response_at, t.due_at, " REPORT_CLOSED_AT \
	", t.reopens, t.category_change, t.subject, coalesce(s.calendar, ''), "              \
	"coalesce(s.first_due, 0), coalesce(s.first_met, 0), coalesce(s.next_due, 0), "      \
	"coalesce(s.next_met, 0), coalesce(s.resolution_due, 0), coalesce(s.resolution_met, 0) " \
	"FROM tickets t LEFT JOIN ticket_sla s ON s.ticket_id = t.id "

/* A short period: the tickets created before its end that are open, or
   closed and updated (so maybe closed) since its start: three ranges of
   tickets_status ("<> 'closed'" written as two ranges, which an index
   serves), never the whole table. */
#define REPORT_TICKETS_SQL                                                        \
	REPORT_TICKETS_SELECT                                                     \
	"WHERE t.created_at < ?2 AND (t.status < 'closed' OR t.status > 'closed' OR " \
	"(t.status = 'closed' AND t.updated_at >= ?1 AND " REPORT_CLOSED_AT " >= ?1))"
/* A long period: one pass over the table. */
#define REPORT_TICKETS_ALL_SQL \
	REPORT_TICKETS_SELECT  \
	"WHERE t.created_at < ?2 AND (t.status <> 'closed' OR " REPORT_CLOSED_AT " >= ?1)"

/* The new columns' values of every ticket from its rows, for the
   migration that adds them (both drivers). */
#define REPORT_TICKETS_BACKFILL                                                                \
	"UPDATE tickets SET "                                                                 \
	"channel = (SELECT coalesce(m.mailbox, '') FROM messages m WHERE m.ticket_id = "      \
	"tickets.id ORDER BY m.id LIMIT 1), "                                                 \
	"close_event_at = coalesce((SELECT max(e.at) FROM events e WHERE e.ticket_id = "      \
	"tickets.id AND " CLOSE_EVENT("e.") "), 0), "                                         \
	"reopens = (SELECT count(*) FROM events e WHERE e.ticket_id = tickets.id AND "        \
	REOPEN_EVENT("e.") "), "                                                              \
	"category_change = coalesce((SELECT e.detail FROM events e WHERE e.ticket_id = "      \
	"tickets.id AND " CATEGORY_CHANGE_EVENT("e.") " ORDER BY e.id LIMIT 1), '');\n"

/* The updates the triggers make for a new message or event (NEW.). */
#define REPORT_ON_MESSAGE \
	"UPDATE tickets SET channel = coalesce(NEW.mailbox, '') WHERE id = NEW.ticket_id " \
	"AND channel IS NULL;"
#define REPORT_ON_CLOSE                                                                  \
	"UPDATE tickets SET close_event_at = NEW.at WHERE id = NEW.ticket_id AND " \
	"close_event_at < NEW.at;"
#define REPORT_ON_REOPEN "UPDATE tickets SET reopens = reopens + 1 WHERE id = NEW.ticket_id;"
#define REPORT_ON_CATEGORY_CHANGE                                                            \
	"UPDATE tickets SET category_change = NEW.detail WHERE id = NEW.ticket_id AND " \
	"category_change = '';"

#endif
