/*
 * store-sla-sql: what the two drivers' SLA statements share
 * (store-sqlite-sla.c, store-pg-sla.c): their names and their column
 * lists, so that both read and write the same columns in the same order
 * (store-record.c decodes them by position). Text only.
 */
#ifndef DG_STORE_SLA_SQL_H
#define DG_STORE_SLA_SQL_H

enum {
	SQ_SLA_GET,
	SQ_SLA_PUT,
	SQ_TIMER_SET,
	SQ_TIMER_CANCEL,
	SQ_TIMER_CANCEL_ALL,
	SQ_TIMER_GET,
	SQ_TIMER_DUE,
	SQ_TIMER_NEXT,
	SQ_TIMER_COUNT,
	SQ_NOTICE_ADD,
	SQ_NOTICE_FIND,
	SQ_NOTICE_RECENT,
	SQ_TICKETS,
	SQ_DIGEST_ADD,
	SQ_REPORT_SENT_ADD,
	SQ_COUNT
};

#define TARGET_COLS(p, t) p t "_start, " p t "_paused, " p t "_due, " p t "_warn, " p t "_met"
#define SLA_COLS(p)                                                                    \
	p "ticket_id, " p "policy, " p "calendar, " p "basis, " p "status, " p "vip, "     \
	TARGET_COLS(p, "first") ", " TARGET_COLS(p, "next") ", "                        \
	TARGET_COLS(p, "resolution") ", " p "paused_at, " p "earliest_due, " p "updated_at"
#define TIMER_COLS "id, kind, ticket_id, subject, due_at, created_at"

#endif
