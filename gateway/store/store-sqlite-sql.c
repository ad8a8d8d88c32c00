/* store-sqlite-sql: see store-sqlite-sql.h. */
#include "build-config.h"

#include "gateway/store/store-driver.h"
#include "gateway/store/store-report-sql.h"
#include "gateway/store/store-sqlite-sql.h"

#define MESSAGE_COLS                                                                          \
	"id, ticket_id, direction, message_id, in_reply_to, refs, from_address, from_name, " \
	"to_addrs, cc_addrs, subject, date, text, raw_sha256, raw_size, dedupe_key, "        \
	"text_sha256, mailbox, uid, created_at"
#define QUARANTINE_COLS \
	"id, raw_sha256, raw_size, reason, source, created_at, status, ticket_id, mailbox, " \
	"uidvalidity, uid"
/* Column 6 is the raw message, or NULL where it is not loaded. */
#define OUTBOX_COLS_NO_RAW OUTBOX_COLS_HEAD "NULL" OUTBOX_COLS_TAIL
#define MESSAGE_RCPT_INSERT \
	"INSERT INTO message_rcpt (message_row_id, ticket_id, address) VALUES (?1, ?2, ?3) " \
	"ON CONFLICT DO NOTHING"
#define DESK_OPEN "WHERE t.status NOT IN ('closed', 'solved')"
#define DESK_ORDER "ORDER BY t.due_at = 0, t.due_at, t.id LIMIT ?2"
#define TICKET_SET(col) \
	"UPDATE tickets SET " col " = ?2, updated_at = max(updated_at, ?3) WHERE id = ?1"
#define UNANSWERED "status IN ('new', 'open', 'pending') AND first_response_at = 0"

const char *const store_sqlite_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_UNIT_BEGIN] = "SAVEPOINT dg_unit",
	[STMT_UNIT_RELEASE] = "RELEASE dg_unit",
	[STMT_UNIT_ROLLBACK] = "ROLLBACK TO dg_unit",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT store_op",
	[STMT_RELEASE] = "RELEASE store_op",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO store_op",

	[STMT_TICKET_INSERT] =
		"INSERT INTO tickets (subject, status, category, priority, queue, language, "
		"customer_address, customer_name, created_at, updated_at, first_response_at, due_at, "
		"assignee) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[STMT_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets t WHERE t.id = ?1",
	[STMT_TICKET_LIST] = "SELECT " TICKET_COLS " FROM tickets t ORDER BY t.id DESC LIMIT ?1",
	[STMT_TICKET_COUNT] = "SELECT count(*) FROM tickets",
	/* The desk by mail's lists (gateway/desklist.c): open tickets, the
	   most urgent promise first, those without one last. */
	[STMT_TICKET_LIST_ASSIGNED] = "SELECT " TICKET_COLS " FROM tickets t " DESK_OPEN
				      " AND t.assignee = ?1 COLLATE NOCASE " DESK_ORDER,
	[STMT_TICKET_LIST_QUEUE] = "SELECT " TICKET_COLS " FROM tickets t " DESK_OPEN
				   " AND t.queue = ?1 COLLATE NOCASE " DESK_ORDER,
	[STMT_TICKET_LIST_OVERDUE] = "SELECT " TICKET_COLS " FROM tickets t " DESK_OPEN
				     " AND t.first_response_at = 0 AND t.due_at > 0 AND t.due_at < ?1 "
				     DESK_ORDER,
	[STMT_TICKET_SET_STATUS] = TICKET_SET("status"),
	[STMT_TICKET_SET_CATEGORY] = TICKET_SET("category"),
	[STMT_TICKET_SET_PRIORITY] = TICKET_SET("priority"),
	[STMT_TICKET_SET_QUEUE] = TICKET_SET("queue"),
	[STMT_TICKET_SET_LANGUAGE] = TICKET_SET("language"),
	[STMT_TICKET_SET_ASSIGNEE] = TICKET_SET("assignee"),
	[STMT_TICKET_SET_FIRST_RESPONSE] = TICKET_SET("first_response_at"),
	[STMT_TICKET_SET_DUE] = TICKET_SET("due_at"),
	[STMT_TICKET_TOUCH] = "UPDATE tickets SET updated_at = max(updated_at, ?2) WHERE id = ?1",
	/* Stored mail first, then our own sent mail; the oldest match wins. */
	[STMT_TICKET_FIND_BY_MSGID] =
		"SELECT ticket_id FROM ("
		" SELECT ticket_id, 0 AS src, id FROM messages WHERE message_id = ?1"
		" UNION ALL"
		" SELECT ticket_id, 1 AS src, id FROM outbox"
		"  WHERE message_id = ?1 AND ticket_id IS NOT NULL"
		") ORDER BY src, id LIMIT 1",

	[STMT_MESSAGE_INSERT] =
		"INSERT INTO messages (ticket_id, direction, message_id, in_reply_to, refs, "
		"from_address, from_name, to_addrs, cc_addrs, subject, date, text, raw_sha256, "
		"raw_size, dedupe_key, text_sha256, mailbox, uid, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18, ?19)",
	[STMT_MESSAGE_LIST] =
		"SELECT " MESSAGE_COLS " FROM messages WHERE ticket_id = ?1 ORDER BY id",
	[STMT_MESSAGE_COUNT] = "SELECT count(*) FROM messages",
	[STMT_MESSAGE_FIND_DEDUPE] = "SELECT id, ticket_id FROM messages WHERE dedupe_key = ?1",
	[STMT_MESSAGE_FIND_SAME_TEXT] =
		"SELECT ticket_id FROM messages WHERE from_address = ?1 AND text_sha256 = ?2 "
		"AND created_at > ?3 ORDER BY created_at DESC, id DESC LIMIT 1",

	[STMT_MESSAGE_RCPT_INSERT] = MESSAGE_RCPT_INSERT,
	/* Both look-ups are by index: (ticket_id, address) and the unique
	   outbox.message_id; the outbox recipients are matched in C. */
	[STMT_TICKET_FIND_RECIPIENT] =
		"SELECT EXISTS (SELECT 1 FROM message_rcpt WHERE ticket_id = ?1 AND address = ?3), "
		"(SELECT recipients FROM outbox WHERE message_id = ?2 AND ticket_id = ?1)",

	[STMT_ATTACHMENT_INSERT] =
		"INSERT INTO attachments (message_row_id, filename, content_type, content_id, "
		"sha256, size, is_inline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_ATTACHMENT_LIST] =
		"SELECT id, message_row_id, filename, content_type, content_id, sha256, size, "
		"is_inline FROM attachments WHERE message_row_id = ?1 ORDER BY id",

	/* A known participant keeps its role; a missing name is filled in. */
	[STMT_PARTICIPANT_ADD] =
		"INSERT INTO participants (ticket_id, address, name, role, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (ticket_id, address) "
		"DO UPDATE SET name = coalesce(participants.name, excluded.name)",
	[STMT_PARTICIPANT_LIST] =
		"SELECT ticket_id, address, name, role FROM participants WHERE ticket_id = ?1 "
		"ORDER BY id",
	[STMT_PARTICIPANT_FIND] =
		"SELECT role FROM participants WHERE ticket_id = ?1 AND address = ?2",
	[STMT_PARTICIPANT_REMOVE] =
		"DELETE FROM participants WHERE ticket_id = ?1 AND address = ?2 AND role = ?3",

	[STMT_EVENT_ADD] = "INSERT INTO events (ticket_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
	[STMT_EVENT_LIST] =
		"SELECT id, ticket_id, at, kind, detail FROM events WHERE ticket_id IS ?1 ORDER BY id",
	/* the desk's own events (no ticket), newest first by events_ticket */
	[STMT_EVENT_LAST_OF] =
		"SELECT kind = ?1 FROM events WHERE ticket_id IS NULL AND kind IN (?1, ?2) AND "
		"substr(detail, 1, length(?3)) = ?3 ORDER BY id DESC LIMIT 1",

	[STMT_QUARANTINE_INSERT] =
		"INSERT INTO quarantine (raw_sha256, raw_size, reason, source, created_at, status) "
		"VALUES (?1, ?2, ?3, ?4, ?5, 'held') "
		"ON CONFLICT (raw_sha256) WHERE status = 'held' DO NOTHING",
	[STMT_QUARANTINE_FIND_HELD] =
		"SELECT id FROM quarantine WHERE raw_sha256 = ?1 AND status = 'held'",
	[STMT_QUARANTINE_GET] = "SELECT " QUARANTINE_COLS " FROM quarantine WHERE id = ?1",
	[STMT_QUARANTINE_LIST] =
		"SELECT " QUARANTINE_COLS " FROM quarantine WHERE ?1 IS NULL OR status = ?1 "
		"ORDER BY id DESC",
	[STMT_QUARANTINE_SET_STATUS] =
		"UPDATE quarantine SET status = ?2, ticket_id = coalesce(?3, ticket_id) WHERE id = ?1",

	/* One held entry per IMAP message without raw bytes: a second refusal
	   of the same message keeps the entry and updates the reason. */
	[STMT_QUARANTINE_INSERT_UNFETCHED] =
		"INSERT INTO quarantine (raw_sha256, raw_size, reason, source, created_at, status, "
		"mailbox, uidvalidity, uid) VALUES (NULL, ?1, ?2, ?3, ?4, 'held', ?5, ?6, ?7) "
		"ON CONFLICT (mailbox, uidvalidity, uid) WHERE status = 'held' AND raw_sha256 IS NULL "
		"DO UPDATE SET reason = excluded.reason, raw_size = excluded.raw_size",
	[STMT_QUARANTINE_FIND_UNFETCHED] =
		"SELECT id FROM quarantine WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3 "
		"AND status = 'held' AND raw_sha256 IS NULL",
	[STMT_QUARANTINE_LIST_UNFETCHED] =
		"SELECT " QUARANTINE_COLS " FROM quarantine WHERE uidvalidity = ?1 AND mailbox = ?2 "
		"AND status = 'held' AND raw_sha256 IS NULL ORDER BY uid",

	[STMT_MAILBOX_GET] = "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?1",
	[STMT_MAILBOX_SET] =
		"INSERT INTO mailboxes (name, uidvalidity, last_uid, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
		"uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
		"updated_at = excluded.updated_at",
	[STMT_MAILBOX_MARK_ADD] =
		"INSERT INTO mailbox_marks (mailbox, uidvalidity, uid, quarantined, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
		"quarantined = max(quarantined, excluded.quarantined)",
	[STMT_MAILBOX_MARK_LIST] =
		"SELECT uid, quarantined FROM mailbox_marks WHERE uidvalidity = ?1 AND mailbox = ?2 "
		"ORDER BY uid",
	[STMT_MAILBOX_MARK_DONE] =
		"DELETE FROM mailbox_marks WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3",
	[STMT_MAILBOX_MARK_FORGET] =
		"DELETE FROM mailbox_marks WHERE mailbox = ?1 AND uidvalidity <> ?2",

	[STMT_FIELD_SET] =
		"INSERT INTO ticket_fields (ticket_id, name, value, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ticket_id, name) DO UPDATE SET "
		"value = excluded.value, updated_at = excluded.updated_at",
	[STMT_FIELD_LIST] =
		"SELECT name, value FROM ticket_fields WHERE ticket_id = ?1 ORDER BY name",
	[STMT_RULE_HIT_ADD] =
		"INSERT INTO rule_hits (ticket_id, message_row_id, rule, detail, at) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_RULE_HIT_LIST] =
		"SELECT rule, detail FROM rule_hits WHERE ticket_id = ?1 ORDER BY id",

	[STMT_OUTBOX_INSERT] =
		"INSERT INTO outbox (ticket_id, kind, message_id, envelope_from, recipients, raw, "
		"status, attempts, created_at, next_attempt_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, ?8)",
	[STMT_OUTBOX_DUE] =
		"SELECT " OUTBOX_COLS " FROM outbox "
		"WHERE (status = 'queued' AND next_attempt_at <= ?1) OR status = 'sending' "
		"ORDER BY id LIMIT ?2",
	[STMT_OUTBOX_UPDATE] =
		"UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
		"last_error = ?5, last_code = ?6, "
		"sent_at = CASE WHEN ?2 = 'sent' THEN ?7 ELSE sent_at END WHERE id = ?1",
	[STMT_OUTBOX_GET] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id = ?1",
	[STMT_OUTBOX_FIND_MSGID] = "SELECT " OUTBOX_COLS " FROM outbox WHERE message_id = ?1",
	[STMT_OUTBOX_LIST] =
		"SELECT " OUTBOX_COLS_NO_RAW " FROM outbox WHERE ?1 IS NULL OR status = ?1 "
		"ORDER BY id DESC LIMIT ?2",
	/* outbox_rcpt holds each recipient lower-cased (ASCII) at insert. */
	[STMT_OUTBOX_COUNT_RECENT] =
		"SELECT count(*) FROM outbox_rcpt WHERE address = lower(trim(?1)) "
		"AND created_at >= ?3 AND (?2 IS NULL OR kind = ?2)",
	[STMT_OUTBOX_COUNT_SINCE] =
		"SELECT count(*) FROM outbox WHERE created_at >= ?2 AND (?1 IS NULL OR kind = ?1)",
	/* Without a kind: the outbox_created index alone answers it. The
	   statement above reads every row of the window for its kind (and
	   "?1 IS NULL OR" keeps it doing so when ?1 is NULL). */
	[STMT_OUTBOX_COUNT_SINCE_ALL] = "SELECT count(*) FROM outbox WHERE created_at >= ?1",
	/* ?1 local@domain; ?2 "local+" and ?3 "local," bound the sub-addresses
	   in the address index ('+' and ',' are neighbours), ?4 "@domain". */
	[STMT_OUTBOX_COUNT_FOLDED] =
		"SELECT count(*) FROM outbox_rcpt WHERE (address = lower(?1) OR "
		"(address > lower(?2) AND address < lower(?3) AND "
		"substr(address, -length(?4)) = lower(?4))) "
		"AND created_at >= ?6 AND (?5 IS NULL OR kind = ?5)",
	[STMT_OUTBOX_RCPT_INSERT] =
		"INSERT INTO outbox_rcpt (outbox_id, address, kind, created_at) "
		"VALUES (?1, lower(?2), ?3, ?4)",
	[STMT_OUTBOX_RCPT_LIST] =
		"SELECT r.address, coalesce(x.status, 'queued'), x.code, x.detail, "
		"coalesce(x.updated_at, 0) FROM outbox_rcpt r LEFT JOIN outbox_rcpt_result x "
		"ON x.outbox_id = r.outbox_id AND x.address = r.address WHERE r.outbox_id = ?1 "
		"ORDER BY r.rowid",
	/* only a recipient of the row gets a result (changes() says which) */
	[STMT_OUTBOX_RCPT_SET] =
		"INSERT INTO outbox_rcpt_result (outbox_id, address, status, code, detail, updated_at) "
		"SELECT outbox_id, address, ?3, ?4, ?5, ?6 FROM outbox_rcpt WHERE outbox_id = ?1 AND "
		"address = lower(trim(?2)) LIMIT 1 ON CONFLICT (outbox_id, address) DO UPDATE SET "
		"status = excluded.status, code = excluded.code, detail = excluded.detail, "
		"updated_at = excluded.updated_at",
	[STMT_OUTBOX_AUTHOR_SET] =
		"INSERT INTO outbox_author (outbox_id, address) VALUES (?1, ?2) "
		"ON CONFLICT (outbox_id) DO UPDATE SET address = excluded.address",
	[STMT_OUTBOX_AUTHOR_GET] = "SELECT address FROM outbox_author WHERE outbox_id = ?1",
	[STMT_LABEL_ADD] =
		"INSERT INTO labels (ticket_id, message_row_id, label, verdict, rules, agent, "
		"subject, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_LABEL_LIST] =
		"SELECT id, ticket_id, message_row_id, label, verdict, rules, agent, subject, text, "
		"created_at FROM labels WHERE created_at >= ?1 ORDER BY id",

	/* One statement: one consistent read for store_stats(). */
	[STMT_STATS] =
		"SELECT"
		" (SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts = 0),"
		" (SELECT count(*) FROM outbox WHERE status = 'queued' AND attempts > 0),"
		" (SELECT count(*) FROM outbox WHERE status = 'sending'),"
		" (SELECT count(*) FROM outbox WHERE status = 'failed'),"
		" (SELECT coalesce(min(created_at), 0) FROM outbox"
		"   WHERE status IN ('queued', 'sending')),"
		" (SELECT count(*) FROM quarantine WHERE status = 'held'),"
		" (SELECT count(*) FROM tickets WHERE " UNANSWERED "),"
		" coalesce(t.id, 0), coalesce(t.created_at, 0), coalesce(t.due_at, 0)"
		" FROM (SELECT 1) LEFT JOIN (SELECT id, created_at, due_at FROM tickets"
		"   WHERE " UNANSWERED " ORDER BY created_at, id LIMIT 1) t",

	/* Reports (store-report.h, docs/reports.md "Indexes"); the ticket,
	   message, reopening and rule scans are store-report-sql.h's, one
	   text for both drivers. */
	[STMT_REPORT_TICKETS] = REPORT_TICKETS_SQL,
	[STMT_REPORT_TICKETS_ALL] = REPORT_TICKETS_ALL_SQL,
	[STMT_REPORT_MESSAGES] = REPORT_MESSAGES_SQL,
	[STMT_REPORT_MESSAGES_ALL] = REPORT_MESSAGES_ALL_SQL,
	[STMT_REPORT_REOPENS] = REPORT_REOPENS_SQL,
	[STMT_REPORT_RULES] = REPORT_RULES_SQL,
	[STMT_REPORT_RULES_ALL] = REPORT_RULES_ALL_SQL,
	[STMT_REPORT_SURVEYS] = REPORT_SURVEYS_SQL,
	[STMT_REPORT_SURVEYS_ALL] = REPORT_SURVEYS_ALL_SQL,
	[STMT_SURVEY_SENT] = "INSERT INTO surveys (ticket_id, customer, outbox_id, sent_at) "
			     "VALUES (?1, ?2, ?3, ?4)",
	[STMT_SURVEY_VOTE] = "UPDATE surveys SET score = ?2, comment = ?3, voted_at = ?4, "
			     "votes = votes + 1, assignee = (SELECT assignee FROM tickets WHERE id = ?1) "
			     "WHERE ticket_id = ?1",
	[STMT_SURVEY_LAST_SENT] = "SELECT max(sent_at) FROM surveys WHERE customer = ?1",
	[STMT_SURVEY_FOR_TICKET] = "SELECT sent_at FROM surveys WHERE ticket_id = ?1",
	/* Blobs below [general] blob_file_min: content-addressed rows, so
	   a second put of the same bytes changes nothing. */
	[STMT_BLOB_INSERT] = "INSERT INTO blobs (kind, sha256, data) VALUES (?1, ?2, ?3) "
			     "ON CONFLICT (kind, sha256) DO NOTHING",
	[STMT_BLOB_GET] = "SELECT data FROM blobs WHERE kind = ?1 AND sha256 = ?2",
	/* Attachments kept as ranges of raw blobs (migration 18): the first
	   range of a hash stays. */
	[STMT_RANGE_INSERT] = "INSERT INTO blob_ranges (sha256, raw_sha256, raw_offset, raw_length, "
			      "encoding, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			      "ON CONFLICT (sha256) DO NOTHING",
	[STMT_RANGE_GET] = "SELECT raw_sha256, raw_offset, raw_length, encoding, size "
			   "FROM blob_ranges WHERE sha256 = ?1",
};

const struct store_report_stmt store_report_stmts[STORE_REPORT_SCAN_COUNT] = {
	[STORE_REPORT_TICKETS] = { STMT_REPORT_TICKETS, STMT_REPORT_TICKETS_ALL, "report tickets" },
	[STORE_REPORT_MESSAGES] = { STMT_REPORT_MESSAGES, STMT_REPORT_MESSAGES_ALL,
				    "report messages" },
	[STORE_REPORT_REOPENS] = { STMT_REPORT_REOPENS, STMT_REPORT_REOPENS, "report reopenings" },
	[STORE_REPORT_RULES] = { STMT_REPORT_RULES, STMT_REPORT_RULES_ALL, "report rules" },
	[STORE_REPORT_SURVEYS] = { STMT_REPORT_SURVEYS, STMT_REPORT_SURVEYS_ALL,
				   "report surveys" },
};
