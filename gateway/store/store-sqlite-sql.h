/*
 * store-sqlite-sql: the statements of the SQLite driver (store-sqlite.c),
 * private to it: their names, and their SQL in store-sqlite-sql.c. Text
 * only (no sqlite3.h here), so that the driver's code reads in one sitting;
 * every statement is prepared once at open.
 */
#ifndef DG_STORE_SQLITE_SQL_H
#define DG_STORE_SQLITE_SQL_H

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_UNIT_BEGIN,
	STMT_UNIT_RELEASE,
	STMT_UNIT_ROLLBACK,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,

	STMT_TICKET_INSERT,
	STMT_TICKET_GET,
	STMT_TICKET_LIST,
	STMT_TICKET_COUNT,
	STMT_TICKET_SET_STATUS,
	STMT_TICKET_SET_CATEGORY,
	STMT_TICKET_SET_PRIORITY,
	STMT_TICKET_SET_QUEUE,
	STMT_TICKET_SET_LANGUAGE,
	STMT_TICKET_SET_ASSIGNEE,
	STMT_TICKET_SET_FIRST_RESPONSE,
	STMT_TICKET_SET_DUE,
	STMT_TICKET_TOUCH,
	STMT_TICKET_FIND_BY_MSGID,
	STMT_TICKET_LIST_ASSIGNED,
	STMT_TICKET_LIST_QUEUE,
	STMT_TICKET_LIST_OVERDUE,

	STMT_MESSAGE_INSERT,
	STMT_MESSAGE_LIST,
	STMT_MESSAGE_COUNT,
	STMT_MESSAGE_FIND_DEDUPE,
	STMT_MESSAGE_FIND_SAME_TEXT,
	STMT_MESSAGE_RCPT_INSERT,
	STMT_TICKET_FIND_RECIPIENT,

	STMT_ATTACHMENT_INSERT,
	STMT_ATTACHMENT_LIST,

	STMT_PARTICIPANT_ADD,
	STMT_PARTICIPANT_LIST,
	STMT_PARTICIPANT_FIND,
	STMT_PARTICIPANT_REMOVE,

	STMT_EVENT_ADD,
	STMT_EVENT_LIST,
	STMT_EVENT_LAST_OF,

	STMT_QUARANTINE_INSERT,
	STMT_QUARANTINE_FIND_HELD,
	STMT_QUARANTINE_GET,
	STMT_QUARANTINE_LIST,
	STMT_QUARANTINE_SET_STATUS,
	STMT_QUARANTINE_INSERT_UNFETCHED,
	STMT_QUARANTINE_FIND_UNFETCHED,
	STMT_QUARANTINE_LIST_UNFETCHED,

	STMT_MAILBOX_GET,
	STMT_MAILBOX_SET,
	STMT_MAILBOX_MARK_ADD,
	STMT_MAILBOX_MARK_LIST,
	STMT_MAILBOX_MARK_DONE,
	STMT_MAILBOX_MARK_FORGET,

	STMT_FIELD_SET,
	STMT_FIELD_LIST,
	STMT_RULE_HIT_ADD,
	STMT_RULE_HIT_LIST,

	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_UPDATE,
	STMT_OUTBOX_GET,
	STMT_OUTBOX_FIND_MSGID,
	STMT_OUTBOX_LIST,
	STMT_OUTBOX_COUNT_RECENT,
	STMT_OUTBOX_COUNT_SINCE,
	STMT_OUTBOX_COUNT_SINCE_ALL,
	STMT_OUTBOX_COUNT_FOLDED,
	STMT_OUTBOX_RCPT_INSERT,
	STMT_OUTBOX_RCPT_LIST,
	STMT_OUTBOX_RCPT_SET,
	STMT_OUTBOX_AUTHOR_SET,
	STMT_OUTBOX_AUTHOR_GET,

	STMT_LABEL_ADD,
	STMT_LABEL_LIST,
	STMT_STATS,
	STMT_REPORT_TICKETS,
	STMT_REPORT_TICKETS_ALL,
	STMT_REPORT_MESSAGES,
	STMT_REPORT_MESSAGES_ALL,
	STMT_REPORT_REOPENS,
	STMT_REPORT_RULES,
	STMT_REPORT_RULES_ALL,
	STMT_REPORT_SURVEYS,
	STMT_REPORT_SURVEYS_ALL,
	STMT_SURVEY_SENT,
	STMT_SURVEY_VOTE,
	STMT_SURVEY_LAST_SENT,
	STMT_SURVEY_FOR_TICKET,
	STMT_BLOB_INSERT,
	STMT_BLOB_GET,
	STMT_RANGE_INSERT,
	STMT_RANGE_GET,

	STMT_COUNT
};

/* A ticket's columns in the order of store-record.c's ticket (t: tickets),
   shared with the driver's parts (store-sqlite-sla.c). */
#define TICKET_COLS                                                                           \
	"t.id, t.subject, t.status, t.category, t.priority, t.queue, t.language, "            \
	"t.customer_address, t.customer_name, t.created_at, t.updated_at, "                 \
	"t.first_response_at, t.due_at, "                                                   \
	"(SELECT count(*) FROM messages m WHERE m.ticket_id = t.id), t.assignee"

/* The SQL of each statement, with parameters ?1, ?2... */
extern const char *const store_sqlite_sql[STMT_COUNT];

/* Each report scan's statement (in the order of enum store_report_scan,
   store-driver.h), the one for a period longer than
   STORE_REPORT_LONG_PERIOD (store-report-sql.h says why they differ) and
   its name, for both drivers. */
struct store_report_stmt {
	enum stmt_id stmt, long_stmt;
	const char *what;
};
extern const struct store_report_stmt store_report_stmts[];

/* The columns of store_record_outbox, in its order (store-record.c), for
   every statement that returns outbox rows, in either driver's SQL. */
#define OUTBOX_COLS_HEAD "id, ticket_id, kind, message_id, envelope_from, recipients, "
#define OUTBOX_COLS_TAIL \
	", length(raw), status, attempts, created_at, next_attempt_at, sent_at, last_error, last_code"
#define OUTBOX_COLS OUTBOX_COLS_HEAD "raw" OUTBOX_COLS_TAIL

#endif
