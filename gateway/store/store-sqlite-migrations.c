/*
 * store-sqlite-migrations: the schema history of the SQLite driver (see
 * store-migrations.h and docs/schema.md). PRAGMA user_version is the
 * version; PRAGMA application_id marks the file as deskgate's.
 */
#include "build-config.h"

#include "base/util.h"
#include "gateway/store/store-migrations.h"
#include "gateway/store/store-report-sql.h"

/* A column that holds a SHA-256 in lower-case hex, or NULL. */
#define HEX_CHECK(col) \
	"CHECK (" col " IS NULL OR (length(" col ") = 64 AND " col " NOT GLOB '*[^0-9a-f]*'))"

/* The columns of one SLA target in ticket_sla (migration 5): when its
   clock started, business seconds paused, due and warning instants, met. */
#define SLA_TARGET_COLS(t)                                                                    \
	"  " t "_start INTEGER NOT NULL DEFAULT 0 CHECK (" t "_start >= 0),\n"                \
	"  " t "_paused INTEGER NOT NULL DEFAULT 0 CHECK (" t "_paused >= 0),\n"              \
	"  " t "_due INTEGER NOT NULL DEFAULT 0 CHECK (" t "_due >= 0),\n"                    \
	"  " t "_warn INTEGER NOT NULL DEFAULT 0 CHECK (" t "_warn >= 0),\n"                  \
	"  " t "_met INTEGER NOT NULL DEFAULT 0 CHECK (" t "_met >= 0),\n"

/* store_sqlite_migrations[i] takes the schema from version i to i + 1.
   Append only; never edit a released one. */
const struct store_migration store_sqlite_migrations[] = {
	/* 1: the initial schema. */
	{
		.summary = "the initial schema",
		.sql =
		"PRAGMA application_id = 1146309447;\n" /* STORE_APPLICATION_ID */
		"CREATE TABLE tickets (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  subject TEXT NOT NULL DEFAULT '',\n"
		"  status TEXT NOT NULL DEFAULT 'new'\n"
		"    CHECK (status IN ('new', 'open', 'pending', 'closed')),\n"
		"  category TEXT NOT NULL DEFAULT 'other' CHECK (category <> ''),\n"
		"  priority TEXT NOT NULL DEFAULT 'normal'\n"
		"    CHECK (priority IN ('low', 'normal', 'high', 'urgent')),\n"
		"  queue TEXT,\n"
		"  language TEXT,\n"
		"  customer_address TEXT COLLATE NOCASE,\n"
		"  customer_name TEXT,\n"
		"  created_at INTEGER NOT NULL,\n"
		"  updated_at INTEGER NOT NULL,\n"
		"  first_response_at INTEGER NOT NULL DEFAULT 0,\n"
		"  due_at INTEGER NOT NULL DEFAULT 0\n"
		");\n"
		"CREATE INDEX tickets_status ON tickets (status, updated_at);\n"
		"CREATE TABLE messages (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  direction TEXT NOT NULL CHECK (direction IN ('in', 'agent', 'out', 'note')),\n"
		"  message_id TEXT,\n"
		"  in_reply_to TEXT,\n"
		"  refs TEXT,\n"
		"  from_address TEXT COLLATE NOCASE,\n"
		"  from_name TEXT,\n"
		"  to_addrs TEXT,\n"
		"  cc_addrs TEXT,\n"
		"  subject TEXT,\n"
		"  date INTEGER NOT NULL DEFAULT 0,\n"
		"  text TEXT NOT NULL DEFAULT '',\n"
		"  text_sha256 TEXT NOT NULL " HEX_CHECK("text_sha256") ",\n"
		"  raw_sha256 TEXT " HEX_CHECK("raw_sha256") ",\n"
		"  raw_size INTEGER NOT NULL DEFAULT 0 CHECK (raw_size >= 0),\n"
		"  dedupe_key TEXT UNIQUE,\n"
		"  mailbox TEXT,\n"
		"  uid INTEGER NOT NULL DEFAULT 0 CHECK (uid BETWEEN 0 AND 4294967295),\n"
		"  created_at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX messages_ticket ON messages (ticket_id, id);\n"
		"CREATE INDEX messages_message_id ON messages (message_id);\n"
		"CREATE INDEX messages_same_text ON messages "
		"(from_address, text_sha256, created_at);\n"
		"CREATE TABLE participants (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
		"  name TEXT,\n"
		"  role TEXT NOT NULL CHECK (role IN ('customer', 'cc', 'agent')),\n"
		"  created_at INTEGER NOT NULL,\n"
		"  UNIQUE (ticket_id, address)\n"
		");\n"
		"CREATE TABLE attachments (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  message_row_id INTEGER NOT NULL REFERENCES messages (id),\n"
		"  filename TEXT,\n"
		"  content_type TEXT,\n"
		"  content_id TEXT,\n"
		"  sha256 TEXT NOT NULL " HEX_CHECK("sha256") ",\n"
		"  size INTEGER NOT NULL CHECK (size >= 0),\n"
		"  is_inline INTEGER NOT NULL DEFAULT 0 CHECK (is_inline IN (0, 1))\n"
		");\n"
		"CREATE INDEX attachments_message ON attachments (message_row_id);\n"
		"CREATE TABLE events (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER REFERENCES tickets (id),\n"
		"  at INTEGER NOT NULL,\n"
		"  kind TEXT NOT NULL CHECK (kind <> ''),\n"
		"  detail TEXT\n"
		");\n"
		"CREATE INDEX events_ticket ON events (ticket_id, id);\n"
		"CREATE TABLE quarantine (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  raw_sha256 TEXT NOT NULL " HEX_CHECK("raw_sha256") ",\n"
		"  raw_size INTEGER NOT NULL DEFAULT 0 CHECK (raw_size >= 0),\n"
		"  reason TEXT NOT NULL,\n"
		"  source TEXT NOT NULL DEFAULT '',\n"
		"  created_at INTEGER NOT NULL,\n"
		"  status TEXT NOT NULL DEFAULT 'held'\n"
		"    CHECK (status IN ('held', 'released', 'dropped')),\n"
		"  ticket_id INTEGER REFERENCES tickets (id)\n"
		");\n"
		"CREATE UNIQUE INDEX quarantine_held ON quarantine (raw_sha256) "
		"WHERE status = 'held';\n"
		"CREATE INDEX quarantine_status ON quarantine (status, id);\n"
		"CREATE TABLE mailboxes (\n"
		"  name TEXT PRIMARY KEY,\n"
		"  uidvalidity INTEGER NOT NULL CHECK (uidvalidity BETWEEN 0 AND 4294967295),\n"
		"  last_uid INTEGER NOT NULL CHECK (last_uid BETWEEN 0 AND 4294967295),\n"
		"  updated_at INTEGER NOT NULL\n"
		");\n"
		"CREATE TABLE ticket_fields (\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  name TEXT NOT NULL CHECK (name <> ''),\n"
		"  value TEXT NOT NULL,\n"
		"  updated_at INTEGER NOT NULL,\n"
		"  PRIMARY KEY (ticket_id, name)\n"
		");\n"
		"CREATE TABLE rule_hits (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  message_row_id INTEGER REFERENCES messages (id),\n"
		"  rule TEXT NOT NULL CHECK (rule <> ''),\n"
		"  detail TEXT,\n"
		"  at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX rule_hits_ticket ON rule_hits (ticket_id, id);\n"
		"CREATE TABLE outbox (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER REFERENCES tickets (id),\n"
		"  kind TEXT NOT NULL "
		"CHECK (kind IN ('ack', 'notify', 'relay', 'notice', 'error')),\n"
		"  message_id TEXT NOT NULL UNIQUE CHECK (message_id <> ''),\n"
		"  envelope_from TEXT NOT NULL,\n"
		"  recipients TEXT NOT NULL CHECK (recipients <> ''),\n"
		"  raw BLOB NOT NULL,\n"
		"  status TEXT NOT NULL DEFAULT 'queued'\n"
		"    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),\n"
		"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
		"  created_at INTEGER NOT NULL,\n"
		"  next_attempt_at INTEGER NOT NULL,\n"
		"  sent_at INTEGER NOT NULL DEFAULT 0,\n"
		"  last_error TEXT,\n"
		"  last_code TEXT\n"
		");\n"
		"CREATE INDEX outbox_due ON outbox (status, next_attempt_at);\n"
		"CREATE INDEX outbox_ticket ON outbox (ticket_id);\n"
		"CREATE INDEX outbox_created ON outbox (created_at);\n",
	},
	/* 2: the agent a ticket is assigned to (#assign, or the first agent
	   to answer), an agent address. */
	{
		.summary = "tickets.assignee",
		.sql =
		"ALTER TABLE tickets ADD COLUMN assignee TEXT COLLATE NOCASE;\n",
	},
	/* 3: one row per outgoing recipient, so that the per-sender rate
	   limits are an index look-up instead of a scan over outbox rows that
	   carry whole messages. */
	{
		.summary = "outbox_rcpt: one row per outgoing recipient",
		.sql =
		"CREATE TABLE outbox_rcpt (\n"
		"  outbox_id INTEGER NOT NULL REFERENCES outbox (id),\n"
		"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
		"  kind TEXT NOT NULL,\n"
		"  created_at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX outbox_rcpt_recent ON outbox_rcpt (address, created_at);\n"
		"WITH RECURSIVE split(id, kind, created_at, rest, addr) AS (\n"
		"  SELECT id, kind, created_at,\n"
		"         replace(replace(recipients, ' ', ''), char(9), '') || ',', '' "
		"FROM outbox\n"
		"  UNION ALL\n"
		"  SELECT id, kind, created_at, substr(rest, instr(rest, ',') + 1),\n"
		"         substr(rest, 1, instr(rest, ',') - 1) FROM split WHERE rest <> ''\n"
		")\n"
		"INSERT INTO outbox_rcpt (outbox_id, address, kind, created_at)\n"
		"  SELECT id, lower(addr), kind, created_at FROM split WHERE addr <> '';\n",
	},
	/* 4: one row per address in the To and Cc of a stored message, so that
	   threading asks whether a sender was a recipient of a ticket's mail
	   with one index look-up instead of reading the ticket's messages.
	   The rows of existing messages are filled in C (the lists need the
	   parser of store-record.c). */
	{
		.summary = "message_rcpt: the recipients of stored messages",
		.sql =
		"CREATE TABLE message_rcpt (\n"
		"  message_row_id INTEGER NOT NULL REFERENCES messages (id),\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
		"  UNIQUE (ticket_id, address, message_row_id)\n"
		");\n",
		.backfill = STORE_BACKFILL_MESSAGE_RCPT,
	},
	/* 5: a quarantine entry may stand for a message an IMAP server would
	   not deliver, or that was too large to keep: no raw bytes (raw_sha256
	   NULL), the mailbox, UIDVALIDITY and UID it stands for instead (one
	   held entry each). And the marks owed on IMAP servers: a UID is
	   flagged or moved only when a committed row here says so. (Written
	   so that it can run again on a database whose version was set back,
	   as the store's migration tests do.) */
	{
		.summary = "quarantine entries without raw bytes; mailbox_marks",
		.sql =
		"CREATE TABLE quarantine_v5 (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  raw_sha256 TEXT " HEX_CHECK("raw_sha256") ",\n"
		"  raw_size INTEGER NOT NULL DEFAULT 0 CHECK (raw_size >= 0),\n"
		"  reason TEXT NOT NULL,\n"
		"  source TEXT NOT NULL DEFAULT '',\n"
		"  created_at INTEGER NOT NULL,\n"
		"  status TEXT NOT NULL DEFAULT 'held'\n"
		"    CHECK (status IN ('held', 'released', 'dropped')),\n"
		"  ticket_id INTEGER REFERENCES tickets (id),\n"
		"  mailbox TEXT,\n"
		"  uidvalidity INTEGER CHECK (uidvalidity BETWEEN 1 AND 4294967295),\n"
		"  uid INTEGER CHECK (uid BETWEEN 1 AND 4294967295),\n"
		"  CHECK (raw_sha256 IS NOT NULL OR\n"
		"         (mailbox IS NOT NULL AND uidvalidity IS NOT NULL AND uid IS NOT NULL))\n"
		");\n"
		"INSERT INTO quarantine_v5 (id, raw_sha256, raw_size, reason, source, created_at,\n"
		"                           status, ticket_id)\n"
		"  SELECT id, raw_sha256, raw_size, reason, source, created_at, status, ticket_id\n"
		"  FROM quarantine;\n"
		"DROP TABLE quarantine;\n"
		"ALTER TABLE quarantine_v5 RENAME TO quarantine;\n"
		"CREATE UNIQUE INDEX quarantine_held ON quarantine (raw_sha256) WHERE status = 'held';\n"
		"CREATE INDEX quarantine_status ON quarantine (status, id);\n"
		"CREATE UNIQUE INDEX quarantine_unfetched ON quarantine (mailbox, uidvalidity, uid)\n"
		"  WHERE status = 'held' AND raw_sha256 IS NULL;\n"
		"CREATE TABLE IF NOT EXISTS mailbox_marks (\n"
		"  mailbox TEXT NOT NULL,\n"
		"  uidvalidity INTEGER NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),\n"
		"  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),\n"
		"  quarantined INTEGER NOT NULL DEFAULT 0 CHECK (quarantined IN (0, 1)),\n"
		"  created_at INTEGER NOT NULL,\n"
		"  PRIMARY KEY (mailbox, uidvalidity, uid)\n"
		") WITHOUT ROWID;\n",
	},
	/* 6: each outgoing recipient's own outcome (a refused Cc does not fail
	   the mail to the others), and who a relayed reply was written by, to
	   tell that agent when the customer could not be reached. New tables,
	   not new columns: it can run again on a database set back a version. */
	{
		.summary = "outbox_rcpt_result; outbox_author",
		.sql =
		"CREATE TABLE IF NOT EXISTS outbox_rcpt_result (\n"
		"  outbox_id INTEGER NOT NULL REFERENCES outbox (id),\n"
		"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> ''),\n"
		"  status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),\n"
		"  code TEXT,\n"
		"  detail TEXT,\n"
		"  updated_at INTEGER NOT NULL,\n"
		"  PRIMARY KEY (outbox_id, address)\n"
		") WITHOUT ROWID;\n"
		"CREATE INDEX IF NOT EXISTS outbox_rcpt_outbox ON outbox_rcpt (outbox_id);\n"
		"CREATE TABLE IF NOT EXISTS outbox_author (\n"
		"  outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id),\n"
		"  address TEXT NOT NULL COLLATE NOCASE CHECK (address <> '')\n"
		");\n",
	},
	/* 7: labelled examples (issue 16): the category an agent set with
	   #category on a ticket, with a copy of the customer's message the
	   rules classified and what the rules had decided, for `rules eval
	   --from-store` and `rules suggest`. */
	{
		.summary = "labels: the agents' categories as labelled examples",
		.sql =
		"CREATE TABLE labels (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  message_row_id INTEGER REFERENCES messages (id),\n"
		"  label TEXT NOT NULL CHECK (label <> ''),\n"
		"  verdict TEXT,\n"
		"  rules TEXT,\n"
		"  agent TEXT COLLATE NOCASE,\n"
		"  subject TEXT,\n"
		"  text TEXT NOT NULL DEFAULT '',\n"
		"  created_at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX labels_created ON labels (created_at);\n"
		"CREATE INDEX labels_ticket ON labels (ticket_id);\n",
	},
	/* 8: satisfaction surveys (one row per survey sent, its vote filled
	   in, a later vote replacing an earlier one; by customer for the
	   per-customer limit) and the time indexes of reports: each report
	   scan reads one index range, not a table (docs/reports.md). New
	   tables and indexes only: it can run again on a database set back a
	   version. */
	{
		.summary = "surveys; report indexes",
		.sql =
		"CREATE TABLE IF NOT EXISTS surveys (\n"
		"  ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),\n"
		"  customer TEXT NOT NULL COLLATE NOCASE CHECK (customer <> ''),\n"
		"  outbox_id INTEGER REFERENCES outbox (id),\n"
		"  sent_at INTEGER NOT NULL,\n"
		"  score INTEGER NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 5),\n"
		"  comment TEXT,\n"
		"  assignee TEXT,\n"
		"  voted_at INTEGER NOT NULL DEFAULT 0,\n"
		"  votes INTEGER NOT NULL DEFAULT 0\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS surveys_sent ON surveys (sent_at);\n"
		"CREATE INDEX IF NOT EXISTS surveys_customer ON surveys (customer, sent_at);\n"
		"CREATE INDEX IF NOT EXISTS messages_created ON messages "
		"(created_at, direction, ticket_id, mailbox, from_address);\n"
		"CREATE INDEX IF NOT EXISTS events_at ON events (at);\n"
		"CREATE INDEX IF NOT EXISTS rule_hits_at ON rule_hits (at);\n",
	},
	/* 9: promises kept (issue 13, docs/sla.md): each ticket's SLA clocks
	   (ticket_sla, with earliest_due indexed for "overdue" and "due within"),
	   the scheduler's timers (indexed by due_at: a tick never scans the
	   tickets), and each escalation notice sent (unique per ticket,
	   target, level, period and recipient: sent once); tickets by
	   assignee for the digests. New tables and indexes only: it can run
	   again on a database set back a version. */
	{
		.summary = "ticket_sla, timers, sla_notices",
		.sql =
		"CREATE TABLE IF NOT EXISTS ticket_sla (\n"
		"  ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),\n"
		"  policy TEXT NOT NULL CHECK (policy <> ''),\n"
		"  calendar TEXT NOT NULL CHECK (calendar <> ''),\n"
		"  basis TEXT NOT NULL DEFAULT '',\n"
		"  status TEXT NOT NULL DEFAULT '',\n"
		"  vip INTEGER NOT NULL DEFAULT 0 CHECK (vip IN (0, 1)),\n"
		SLA_TARGET_COLS("first")
		SLA_TARGET_COLS("next")
		SLA_TARGET_COLS("resolution")
		"  paused_at INTEGER NOT NULL DEFAULT 0 CHECK (paused_at >= 0),\n"
		"  earliest_due INTEGER NOT NULL DEFAULT 0 CHECK (earliest_due >= 0),\n"
		"  updated_at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS ticket_sla_earliest_due ON ticket_sla (earliest_due) "
		"WHERE earliest_due > 0;\n"
		"CREATE TABLE IF NOT EXISTS timers (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  kind TEXT NOT NULL CHECK (kind <> ''),\n"
		"  ticket_id INTEGER NOT NULL DEFAULT 0 CHECK (ticket_id >= 0),\n"
		"  subject TEXT NOT NULL DEFAULT '',\n"
		"  due_at INTEGER NOT NULL,\n"
		"  created_at INTEGER NOT NULL,\n"
		"  UNIQUE (kind, ticket_id, subject)\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at);\n"
		"CREATE TABLE IF NOT EXISTS sla_notices (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER NOT NULL REFERENCES tickets (id),\n"
		"  target TEXT NOT NULL CHECK (target <> ''),\n"
		"  level TEXT NOT NULL CHECK (level <> ''),\n"
		"  period INTEGER NOT NULL DEFAULT 0,\n"
		"  recipient TEXT NOT NULL DEFAULT '' COLLATE NOCASE,\n"
		"  outbox_id INTEGER REFERENCES outbox (id),\n"
		"  at INTEGER NOT NULL,\n"
		"  UNIQUE (ticket_id, target, level, period, recipient)\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS sla_notices_recent ON sla_notices (ticket_id, recipient, level, at);\n"
		"CREATE INDEX IF NOT EXISTS tickets_assignee ON tickets (assignee, status);\n",
	},
	/* 10: more kinds of outgoing mail, so that each one is counted and
	   rate-limited as what it is (escalations, digests, lists for agents,
	   surveys, reminders to customers, alerts, report mail were queued as
	   "notice"). SQLite cannot change a CHECK in place: the table is
	   rebuilt (https://sqlite.org/lang_altertable.html, "making other
	   kinds of table schema changes"); migrate() turns the foreign keys
	   off around the transaction and checks them before it commits. The
	   rows of the tables that refer to outbox keep their ids. */
	{
		.summary = "outbox kinds: escalation, digest, desk, survey, reminder, alert, report",
		.sql =
		"CREATE TABLE outbox_v10 (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  ticket_id INTEGER REFERENCES tickets (id),\n"
		"  kind TEXT NOT NULL "
		"CHECK (kind IN ('ack', 'notify', 'relay', 'notice', 'error', 'escalation', "
		"'digest', 'desk', 'survey', 'reminder', 'alert', 'report')),\n"
		"  message_id TEXT NOT NULL UNIQUE CHECK (message_id <> ''),\n"
		"  envelope_from TEXT NOT NULL,\n"
		"  recipients TEXT NOT NULL CHECK (recipients <> ''),\n"
		"  raw BLOB NOT NULL,\n"
		"  status TEXT NOT NULL DEFAULT 'queued'\n"
		"    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),\n"
		"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
		"  created_at INTEGER NOT NULL,\n"
		"  next_attempt_at INTEGER NOT NULL,\n"
		"  sent_at INTEGER NOT NULL DEFAULT 0,\n"
		"  last_error TEXT,\n"
		"  last_code TEXT\n"
		");\n"
		"INSERT INTO outbox_v10 (id, ticket_id, kind, message_id, envelope_from, recipients, "
		"raw, status, attempts, created_at, next_attempt_at, sent_at, last_error, last_code) "
		"SELECT id, ticket_id, kind, message_id, envelope_from, recipients, raw, status, "
		"attempts, created_at, next_attempt_at, sent_at, last_error, last_code FROM outbox;\n"
		"DROP TABLE outbox;\n"
		"ALTER TABLE outbox_v10 RENAME TO outbox;\n"
		"CREATE INDEX outbox_due ON outbox (status, next_attempt_at);\n"
		"CREATE INDEX outbox_ticket ON outbox (ticket_id);\n"
		"CREATE INDEX outbox_created ON outbox (created_at);\n",
	},
	/* 11 (the task's number 12; the lead renumbers on landing): each
	   daily digest (issue 13), one per kind, recipient and local day,
	   written in the transaction that queues its mail: sent once, even
	   across a restart or a DST day. items 0: there was nothing to send. */
	{
		.summary = "digests",
		.sql =
		"CREATE TABLE IF NOT EXISTS digests (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  kind TEXT NOT NULL CHECK (kind IN ('agent', 'queue')),\n"
		"  recipient TEXT NOT NULL CHECK (recipient <> ''),\n"
		"  day TEXT NOT NULL CHECK (length(day) = 10),\n"
		"  items INTEGER NOT NULL DEFAULT 0 CHECK (items >= 0),\n"
		"  at INTEGER NOT NULL,\n"
		"  UNIQUE (kind, recipient, day)\n"
		");\n",
	},
	/* 12 (the task's migration 16): several
	   gateways on one store (store-lease.h). Leases say which gateway
	   watches a mailbox and runs the scheduler; an outbox row in flight
	   names its claimer and how long the claim stands; resends counts the
	   copies sent again after a claimer died. New table and columns with
	   defaults: the rows in flight before it (claimed_by NULL) are
	   claimable at once, as they were. */
	{
		.summary = "leases; outbox claims and resends",
		.sql =
		"CREATE TABLE IF NOT EXISTS leases (\n"
		"  name TEXT PRIMARY KEY CHECK (name <> ''),\n"
		"  holder TEXT NOT NULL CHECK (holder <> ''),\n"
		"  acquired_at INTEGER NOT NULL,\n"
		"  expires_at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS leases_holder ON leases (holder, expires_at);\n"
		"ALTER TABLE outbox ADD COLUMN claimed_by TEXT;\n"
		"ALTER TABLE outbox ADD COLUMN claim_expires INTEGER NOT NULL DEFAULT 0;\n"
		"ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0 "
		"CHECK (resends >= 0);\n",
	},
	/* 13: #merge (store-merge.h): each merged ticket, the ticket it was
	   folded into and when; threading follows it so that mail to a merged
	   ticket reaches the ticket it lives on. Its key makes a merge once. */
	{
		.summary = "ticket_merges",
		.sql =
		"CREATE TABLE IF NOT EXISTS ticket_merges (\n"
		"  ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),\n"
		"  into_id INTEGER NOT NULL REFERENCES tickets (id) CHECK (into_id <> ticket_id),\n"
		"  at INTEGER NOT NULL\n"
		");\n"
		"CREATE INDEX IF NOT EXISTS ticket_merges_into ON ticket_merges (into_id);\n",
	},
	/* 14: the report's per-ticket figures on
	   the ticket, kept by triggers as messages and events arrive
	   (store-report-sql.h), so that a year's report reads the tickets
	   table alone instead of four look-ups per ticket. The existing
	   tickets are filled in from their rows once. */
	{
		.summary = "report figures on the ticket (channel, close, reopens, category change)",
		.sql =
		"ALTER TABLE tickets ADD COLUMN channel TEXT;\n"
		"ALTER TABLE tickets ADD COLUMN close_event_at INTEGER NOT NULL DEFAULT 0;\n"
		"ALTER TABLE tickets ADD COLUMN reopens INTEGER NOT NULL DEFAULT 0;\n"
		"ALTER TABLE tickets ADD COLUMN category_change TEXT NOT NULL DEFAULT '';\n"
		REPORT_TICKETS_BACKFILL
		"CREATE TRIGGER IF NOT EXISTS report_message AFTER INSERT ON messages BEGIN "
		REPORT_ON_MESSAGE " END;\n"
		"CREATE TRIGGER IF NOT EXISTS report_close AFTER INSERT ON events WHEN "
		CLOSE_EVENT("NEW.") " BEGIN " REPORT_ON_CLOSE " END;\n"
		"CREATE TRIGGER IF NOT EXISTS report_reopen AFTER INSERT ON events WHEN "
		REOPEN_EVENT("NEW.") " BEGIN " REPORT_ON_REOPEN " END;\n"
		"CREATE TRIGGER IF NOT EXISTS report_category AFTER INSERT ON events WHEN "
		CATEGORY_CHANGE_EVENT("NEW.") " BEGIN " REPORT_ON_CATEGORY_CHANGE " END;\n",
	},
	/* 15 (issue 18): blobs below [general] blob_file_min in the
	   database instead of one file each (a create, a write, a rename and
	   a block of disk for a 2 KB mail). Blobs written before stay files
	   and are read from there: nothing to convert. The same columns as
	   PostgreSQL's blobs (its migration 1), so a copy between the two is
	   row for row. */
	{
		.summary = "small blobs in the database",
		.sql =
		"CREATE TABLE IF NOT EXISTS blobs (\n"
		"  kind INTEGER NOT NULL CHECK (kind IN (0, 1)),\n"
		"  sha256 TEXT NOT NULL " HEX_CHECK("sha256") ",\n"
		"  data BLOB NOT NULL,\n"
		"  PRIMARY KEY (kind, sha256)\n"
		");\n",
	},
	/* 16 (issue 14): each weekly report mailed (report-mail.h), one
	   per period and recipient, written in the transaction that queues
	   its mail: sent once, across restarts and gateways. */
	{
		.summary = "reports_sent",
		.sql =
		"CREATE TABLE IF NOT EXISTS reports_sent (\n"
		"  id INTEGER PRIMARY KEY,\n"
		"  period_start INTEGER NOT NULL,\n"
		"  period_end INTEGER NOT NULL CHECK (period_end > period_start),\n"
		"  recipient TEXT NOT NULL CHECK (recipient <> ''),\n"
		"  tickets INTEGER NOT NULL DEFAULT 0 CHECK (tickets >= 0),\n"
		"  at INTEGER NOT NULL,\n"
		"  UNIQUE (period_start, recipient)\n"
		");\n",
	},
	/* 17 (issue 14): a year's report
	   in seconds. The covering indexes its long scans read in ticket
	   order (messages_report, rule_hits_report; store-report-sql.h),
	   and a reopening copied into a ticket by #merge (detail "[#M] ...")
	   is M's, not N's: the trigger skips it, and the tickets merges
	   were folded into are counted again. */
	{
		.summary = "report: long-period indexes; merged reopenings not counted twice",
		.sql =
		"DROP TRIGGER IF EXISTS report_reopen;\n"
		"CREATE TRIGGER report_reopen AFTER INSERT ON events WHEN "
		REPORT_REOPEN_EVENT("NEW.") " BEGIN " REPORT_ON_REOPEN " END;\n"
		REPORT_INDEXES_17,
	},
	/* 18 (issue 18): an attachment stored once. Its decoded bytes were
	   a blob of their own beside the raw mail that holds them encoded
	   (base64: 0.75x again of every attachment); now it is a range of
	   the raw blob, decoded on read (store_blob_put_range()). Attachments
	   kept as blobs before stay blobs (reads try the range, then the
	   blob): nothing to convert. The same columns in PostgreSQL (its 9). */
	{
		.summary = "attachments as ranges of the raw mail",
		.sql =
		"CREATE TABLE IF NOT EXISTS blob_ranges (\n"
		"  sha256 TEXT PRIMARY KEY " HEX_CHECK("sha256") ",\n"
		"  raw_sha256 TEXT NOT NULL " HEX_CHECK("raw_sha256") ",\n"
		"  raw_offset INTEGER NOT NULL CHECK (raw_offset >= 0),\n"
		"  raw_length INTEGER NOT NULL CHECK (raw_length >= 0),\n"
		"  encoding INTEGER NOT NULL CHECK (encoding IN (1, 2)),\n"
		"  size INTEGER NOT NULL CHECK (size >= 0)\n"
		");\n",
	},
};

const size_t store_sqlite_n_migrations = N_ELEMENTS(store_sqlite_migrations);
