/*
 * store-merge-sql: the names of the #merge statements (store-merge.h), one
 * list for both drivers (store-sqlite-merge.c, store-pg-merge.c), which
 * write each statement in their own dialect, in this order.
 */
#ifndef DESKGATE_STORE_MERGE_SQL_H
#define DESKGATE_STORE_MERGE_SQL_H

enum store_merge_sql {
	SQ_MERGED_INTO,
	SQ_MARK,
	SQ_CLOSE,
	SQ_MESSAGES,
	SQ_RCPTS,
	SQ_PARTICIPANTS,
	SQ_RULE_HITS,
	SQ_LABELS,
	SQ_FIELDS,
	SQ_EVENTS,
	SQ_SLA,
	SQ_TIMERS,
	SQ_TOUCH,
	SQ_COUNT
};

#endif
