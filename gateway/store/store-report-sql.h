/*
 * store-report-sql: the SQL text of the report's scans (tickets, messages,
 * reopenings, rules, surveys; each with its long-period form where it has
 * one), of what keeps its per-ticket figures on the ticket and of the
 * indexes the scans read, shared by both drivers (text
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
/* An event merge.c copied into ticket N's history from a ticket M merged
   into it: its detail is "[#M] " and M's detail (store-merge-sql.h's
   SQ_EVENTS). It is M's, counted on M (docs/reports.md "Merged tickets"). */
#define COPIED_EVENT(e) "coalesce(" e "detail, '') LIKE '[#%] %'"
/* A reopening of the ticket itself (migration 17 / PG 8): not one copied
   from a merged ticket, which would count M's reopening twice, once more
   under N. */
#define REPORT_REOPEN_EVENT(e) "(" REOPEN_EVENT(e) " AND NOT " COPIED_EVENT(e) ")"
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

/* The messages stored in a period, with their ticket's attributes, in no
   particular order. A short period reads its range of messages_created
   and looks each message's ticket up. Over a long period that look-up
   was the report's cost (2.4 M random look-ups, 15 s of CPU for a year of
   a million tickets): the long scan reads the covering index
   messages_report (ticket_id, created_at, ...) (migration 17 / PG 8) in
   ticket order, so each ticket is found once, next to the one before
   (the unary + keeps the planner off messages_created, whose order would
   need a sort of the whole year). */
#define REPORT_MESSAGES_SELECT                                                             \
	"SELECT m.ticket_id, m.created_at, m.direction, t.category, t.queue, t.language, " \
	"t.assignee, coalesce(m.mailbox, ''), m.from_address FROM messages m JOIN tickets t " \
	"ON t.id = m.ticket_id "
#define REPORT_MESSAGES_SQL \
	REPORT_MESSAGES_SELECT "WHERE m.created_at >= ?1 AND m.created_at < ?2 ORDER BY m.created_at"
#define REPORT_MESSAGES_ALL_SQL \
	REPORT_MESSAGES_SELECT "WHERE +m.created_at >= ?1 AND +m.created_at < ?2 ORDER BY m.ticket_id"

/* The rule hits of a period, one row each (ticket, rule), grouped by
   ticket and rule: store-report.c flags the first row of each pair, so
   that the sums count hits and distinct tickets, without a correlated
   look-up per hit nor SQL grouping (whose temporary b-trees would grow
   with the period). A short period sorts its range of rule_hits_at; a
   long one reads the covering index rule_hits_report (ticket_id, rule,
   at) (migration 17 / PG 8) in its order, without a sort. */
#define REPORT_RULES_SQL \
	"SELECT h.ticket_id, h.rule FROM rule_hits h WHERE h.at >= ?1 AND h.at < ?2 " \
	"ORDER BY h.ticket_id, h.rule"
#define REPORT_RULES_ALL_SQL \
	"SELECT h.ticket_id, h.rule FROM rule_hits h WHERE +h.at >= ?1 AND +h.at < ?2 " \
	"ORDER BY h.ticket_id, h.rule"

/* Reopenings in a period, not those copied by a merge: the partial
   index events_reopen (migration 17 / PG 8) holds the reopenings alone,
   by time (events_at held every event: a year's 1.1 M looked up one by
   one for their kind and detail, 7 s of CPU at a million tickets, for
   50,000 reopenings). The condition is the index's own, word for word,
   which is how both databases know the index serves it. */
#define REPORT_REOPENS_SQL                                                     \
	"SELECT e.ticket_id, e.at, t.category, t.queue, t.language, t.assignee " \
	"FROM events e JOIN tickets t ON t.id = e.ticket_id "                   \
	"WHERE e.at >= ?1 AND e.at < ?2 AND " REPORT_REOPEN_EVENT("e.") " ORDER BY e.at"

/* Surveys sent in a period: a short one reads its range of surveys_sent
   by time; a long one the table in its key's order, the ticket's (one
   look-up per ticket, each next to the one before, instead of 0.6 M
   random look-ups for a year of a million tickets). */
#define REPORT_SURVEYS_SELECT                                                           \
	"SELECT s.ticket_id, s.sent_at, s.score, s.comment, s.assignee, s.voted_at, "  \
	"t.category, t.queue, t.language, '' FROM surveys s JOIN tickets t ON t.id = " \
	"s.ticket_id "
#define REPORT_SURVEYS_SQL \
	REPORT_SURVEYS_SELECT "WHERE s.sent_at >= ?1 AND s.sent_at < ?2 ORDER BY s.sent_at"
#define REPORT_SURVEYS_ALL_SQL \
	REPORT_SURVEYS_SELECT "WHERE +s.sent_at >= ?1 AND +s.sent_at < ?2 ORDER BY s.ticket_id"

/* Migration 17 / PG 8 (both drivers): the indexes of the long scans
   and of the reopenings, and reopenings copied by a merge no longer counted on the ticket they
   were copied into (the triggers change in each driver's migration). */
#define REPORT_INDEXES_17                                                                  \
	"CREATE INDEX IF NOT EXISTS messages_report ON messages (ticket_id, created_at, "  \
	"direction, mailbox, from_address);\n"                                              \
	"CREATE INDEX IF NOT EXISTS rule_hits_report ON rule_hits (ticket_id, rule, at);\n" \
	"CREATE INDEX IF NOT EXISTS events_reopen ON events (at, ticket_id) WHERE "          \
	REPORT_REOPEN_EVENT("") ";\n"                                                        \
	"UPDATE tickets SET reopens = (SELECT count(*) FROM events e WHERE e.ticket_id = "  \
	"tickets.id AND " REPORT_REOPEN_EVENT("e.") ") WHERE id IN (SELECT into_id FROM "  \
	"ticket_merges);\n"

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
/* (Migration 14's trigger counted REOPEN_EVENT; since 17 / PG 8 it counts
   REPORT_REOPEN_EVENT.) */
#define REPORT_ON_REOPEN "UPDATE tickets SET reopens = reopens + 1 WHERE id = NEW.ticket_id;"
#define REPORT_ON_CATEGORY_CHANGE                                                            \
	"UPDATE tickets SET category_change = NEW.detail WHERE id = NEW.ticket_id AND " \
	"category_change = '';"

#endif
