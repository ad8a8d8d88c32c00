/*
 * config-keys: the table of every configuration key, the one place where a
 * key is defined (name, type, default, range, where it is stored, its
 * documentation). deskgate.conf(5) is generated from it
 * (man/gen-conf-page.py) and tests/unit/check-config-doc.sh fails when the
 * page is stale. Split from config.c, which reads files against it.
 */
#include "build-config.h"

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/config-int.h"
#include "base/util.h"

#define U64MAX UINT64_MAX
#define G(f) offsetof(struct config, f)
static const struct config_key general_keys[] = {
	{ "state_dir", CONFIG_PATH, "/var/lib/deskgate", 0, 0, G(state_dir), NULL,
	  "Directory for the ticket store, raw mail, attachments and quarantine." },
	{ "database", CONFIG_STATEPATH, "deskgate.db", 0, 0, G(database), NULL,
	  "SQLite database file, relative to state_dir; or a PostgreSQL server as a libpq URI "
	  "(postgresql://user@host:port/db, password from PGPASSFILE or passfile=) when "
	  "deskgate was built with libpq (docs/internals/store.md)." },
	{ "blob_file_min", CONFIG_SIZE, "128K", 0, 256 * 1024 * 1024, G(blob_file_min), NULL,
	  "Raw mails and attachments shorter than this are kept in the SQLite database; longer "
	  "ones are files under state_dir (near SQLite's measured break-even for 4 KB pages). 0 "
	  "keeps every one a file. Blobs already stored stay where they are and stay readable. "
	  "PostgreSQL keeps every blob in the database." },
	{ "log_level", CONFIG_ENUM, "info", 0, 0, G(log_level), "error|warn|info|debug",
	  "Least severe level written to the log." },
	{ "hostname", CONFIG_STRING, "localhost", 1, 253, G(hostname), NULL,
	  "Host name used in generated Message-IDs and the SMTP greeting." },
	{ "support_address", CONFIG_STRING, "support@localhost", 3, 254, G(support_address), NULL,
	  "The support desk's address: customers write to it, replies come from it." },
	{ "support_name", CONFIG_STRING, "Support", 0, 200, G(support_name), NULL,
	  "Display name on mail sent from support_address." },
	{ "connect_concurrency", CONFIG_UINT, "8", 1, 64, G(connect_concurrency), NULL,
	  "Mailboxes connected at the same time (TCP, TLS, login, SELECT), at start-up and "
	  "whenever several are due: with many mailboxes, start-up takes the time of the "
	  "slowest few instead of the sum. 1 connects them one after another." },
	{ "sync_concurrency", CONFIG_UINT, "8", 1, 64, G(sync_concurrency), NULL,
	  "Mailboxes whose new mail is looked for, fetched and marked at the same time (the "
	  "IMAP round trips of a sync, on threads; ingest and the commits stay on one): when "
	  "a burst wakes many mailboxes, their round trips overlap instead of adding up. Each "
	  "thread holds at most max_message_size bytes of fetched mail for the commit; a "
	  "backlog larger than batch_size is fetched batch by batch as with 1. 1 syncs them "
	  "one after another." },
};
#undef G

#define L(f) offsetof(struct config_limits, f)
static const struct config_key limits_keys[] = {
	{ "max_message_size", CONFIG_SIZE, "25M", 1024, U64MAX, L(max_message_size), NULL,
	  "Largest raw message accepted; larger mail is quarantined." },
	{ "max_header_size", CONFIG_SIZE, "256K", 256, U64MAX, L(max_header_size), NULL,
	  "Largest header block of a message or MIME part." },
	{ "max_header_count", CONFIG_UINT, "1000", 10, 1000000, L(max_header_count), NULL,
	  "Most header fields in one header block." },
	{ "max_line_length", CONFIG_SIZE, "1M", 78, U64MAX, L(max_line_length), NULL,
	  "Longest line (header field or body line) accepted." },
	{ "max_mime_depth", CONFIG_UINT, "20", 1, 1000, L(max_mime_depth), NULL,
	  "Deepest nesting of multipart and message/rfc822 parts." },
	{ "max_mime_parts", CONFIG_UINT, "500", 1, 1000000, L(max_mime_parts), NULL,
	  "Most MIME parts in one message." },
	{ "max_attachments", CONFIG_UINT, "100", 0, 100000, L(max_attachments), NULL,
	  "Most attachments (and inline parts) in one message." },
	{ "max_attachment_size", CONFIG_SIZE, "20M", 0, U64MAX, L(max_attachment_size), NULL,
	  "Largest decoded attachment." },
	{ "max_decoded_size", CONFIG_SIZE, "60M", 1024, U64MAX, L(max_decoded_size), NULL,
	  "Most decoded bytes over all parts of one message." },
	{ "max_text_size", CONFIG_SIZE, "2M", 1024, U64MAX, L(max_text_size), NULL,
	  "Largest body text kept, in UTF-8; longer text is cut with a warning event." },
	{ "max_mail_per_recipient_minute", CONFIG_UINT, "30", 1, 100000,
	  L(max_mail_per_recipient_minute), NULL,
	  "Most messages the desk queues to one address in a minute, of any kind; more is not "
	  "sent (an event on the ticket says so). The last line of defence against mail loops." },
	{ "max_mail_per_minute", CONFIG_UINT, "600", 1, 1000000, L(max_mail_per_minute), NULL,
	  "Most messages the desk queues in a minute, to anyone; more is not sent (an event on "
	  "the ticket says so)." },
	{ "max_quarantine_size", CONFIG_SIZE, "256M", 1024, U64MAX, L(max_quarantine_size), NULL,
	  "Largest mail kept whole in quarantine; larger mail is refused (left unflagged on the "
	  "IMAP server, bounced for ingest). At least max_message_size." },
	{ "max_handover_attachments", CONFIG_SIZE, "10M", 0, U64MAX, L(max_handover_attachments),
	  NULL,
	  "Most attachment bytes a handover (#assign) or #history mail carries (the ticket's "
	  "attachments in order while they fit, never more than max_message_size); the others "
	  "are listed with their size, and #attachments mails them. 0: list them all." },
};
#undef L

#define S(f) offsetof(struct config_smtp, f)
static const struct config_key smtp_keys[] = {
	{ "host", CONFIG_STRING, "127.0.0.1", 1, 253, S(host), NULL, "SMTP relay host." },
	{ "port", CONFIG_UINT, "25", 1, 65535, S(port), NULL, "SMTP relay port." },
	{ "security", CONFIG_ENUM, "auto", 0, 0, S(security), "auto|smtps|starttls|none",
	  "TLS mode: auto requires STARTTLS (verified) unless host is a loopback address, where "
	  "it speaks plain SMTP; \"none\" is refused unless host is a loopback address." },
	{ "ca_file", CONFIG_PATH, NULL, 0, 0, S(ca_file), NULL,
	  "CA bundle for verifying the relay; default: the system's." },
	{ "tls_verify", CONFIG_BOOL, "yes", 0, 0, S(tls_verify), NULL,
	  "Verify the relay's certificate chain and host name." },
	{ "username", CONFIG_STRING, NULL, 0, 320, S(username), NULL, "SMTP AUTH user name." },
	{ "password", CONFIG_SECRET, NULL, 0, 1024, S(password), NULL,
	  "SMTP AUTH password (prefer password_file)." },
	{ "password_file", CONFIG_PATH, NULL, 0, 0, S(password_file), NULL,
	  "File whose first line is the SMTP AUTH password." },
	{ "auth", CONFIG_ENUM, "none", 0, 0, S(auth), "none|plain|login|xoauth2|oauthbearer",
	  "SMTP AUTH mechanism." },
	{ "token_command", CONFIG_STRING, NULL, 0, 4096, S(token_command), NULL,
	  "Command that prints an OAuth2 access token (for auth = xoauth2 or oauthbearer); run "
	  "again when the relay refuses the token." },
	{ "token_file", CONFIG_PATH, NULL, 0, 0, S(token_file), NULL,
	  "File holding an OAuth2 access token (for auth = xoauth2 or oauthbearer); re-read "
	  "when the relay refuses the token." },
	{ "envelope_from", CONFIG_STRING, NULL, 0, 254, S(envelope_from), NULL,
	  "Envelope sender (MAIL FROM); default: support_address. With {verp} in it "
	  "(support+{verp}@example.test) each message gets a signed bounce address." },
	{ "helo", CONFIG_STRING, NULL, 0, 253, S(helo), NULL,
	  "Name sent in EHLO; default: hostname." },
	{ "timeout", CONFIG_DURATION, "60s", 1, 3600, S(timeout), NULL,
	  "Connect and per-command timeout." },
	{ "idle_timeout", CONFIG_DURATION, "10s", 0, 300, S(idle_timeout), NULL,
	  "How long the connection to the relay stays open with nothing to send: mail queued "
	  "meanwhile goes out on it without a new connection, TLS handshake and login. Relays "
	  "close idle clients themselves after a few minutes (Postfix: 300 s) and a closed "
	  "connection is opened again, so this only spares the relay an idle client. 0: closed "
	  "after each queue run." },
	{ "retry_initial", CONFIG_DURATION, "1m", 1, 86400, S(retry_initial), NULL,
	  "First retry delay after a temporary failure; doubles each time." },
	{ "retry_max_age", CONFIG_DURATION, "2d", 60, 30 * 86400, S(retry_max_age), NULL,
	  "Give up on a message that could not be sent for this long." },
};
#undef S

#define M(f) offsetof(struct config_mailbox, f)
static const struct config_key mailbox_keys[] = {
	{ "host", CONFIG_STRING, NULL, 1, 253, M(host), NULL, "IMAP server host (required)." },
	{ "port", CONFIG_UINT, NULL, 1, 65535, M(port), NULL,
	  "IMAP server port; default 993 for imaps, 143 otherwise." },
	{ "security", CONFIG_ENUM, "imaps", 0, 0, M(security), "imaps|starttls|none",
	  "TLS mode; \"none\" sends the password in clear and must be chosen explicitly." },
	{ "ca_file", CONFIG_PATH, NULL, 0, 0, M(ca_file), NULL,
	  "CA bundle for verifying the server; default: the system's." },
	{ "tls_verify", CONFIG_BOOL, "yes", 0, 0, M(tls_verify), NULL,
	  "Verify the server's certificate chain and host name before logging in." },
	{ "username", CONFIG_STRING, NULL, 1, 320, M(username), NULL, "Login name (required)." },
	{ "password", CONFIG_SECRET, NULL, 0, 1024, M(password), NULL,
	  "Password (prefer password_file)." },
	{ "password_file", CONFIG_PATH, NULL, 0, 0, M(password_file), NULL,
	  "File whose first line is the password." },
	{ "auth", CONFIG_ENUM, "login", 0, 0, M(auth), "login|plain|xoauth2|oauthbearer",
	  "Authentication mechanism." },
	{ "token_command", CONFIG_STRING, NULL, 0, 4096, M(token_command), NULL,
	  "Command that prints an OAuth2 access token; run again when the server rejects it." },
	{ "token_file", CONFIG_PATH, NULL, 0, 0, M(token_file), NULL,
	  "File holding an OAuth2 access token; re-read when the server rejects it." },
	{ "folder", CONFIG_STRING, "INBOX", 1, 1000, M(folder), NULL, "Folder to watch." },
	{ "after", CONFIG_ENUM, "seen", 0, 0, M(after), "seen|move",
	  "What to do with a message once its ticket is committed: flag it \\Seen, or move it." },
	{ "move_to", CONFIG_STRING, "Archive", 1, 1000, M(move_to), NULL,
	  "Folder for after = move." },
	{ "idle", CONFIG_BOOL, "yes", 0, 0, M(idle), NULL,
	  "Wait for new mail with IMAP IDLE when the server offers it." },
	{ "idle_interval", CONFIG_DURATION, "25m", 10, 29 * 60, M(idle_interval), NULL,
	  "Re-issue IDLE after this long." },
	{ "poll_interval", CONFIG_DURATION, "60s", 1, 86400, M(poll_interval), NULL,
	  "Poll interval when IDLE is off or not offered." },
	{ "batch_size", CONFIG_UINT, "200", 1, 10000, M(batch_size), NULL,
	  "Messages fetched per UID FETCH round trip." },
	{ "once_batch_size", CONFIG_UINT, "2000", 1, 100000, M(once_batch_size), NULL,
	  "With run --once: messages per transaction (one durable commit, then one STORE of "
	  "their flags), fetched in round trips of batch_size. A transaction also ends once a "
	  "third of [store] lease_ttl has passed, so that the mailbox's lease is still held "
	  "when it commits." },
	{ "timeout", CONFIG_DURATION, "60s", 1, 3600, M(timeout), NULL,
	  "Network timeout; a server silent for longer is treated as gone." },
};
#undef M

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/deskgate"
#endif
#define R(f) offsetof(struct config_rules, f)
static const struct config_key rules_keys[] = {
	{ "dir", CONFIG_PATH, NULL, 0, 0, R(dir), NULL,
	  "Directory of classification rule files (*.rules, read in name order); see "
	  "deskgate-rules(5). Default: the installed DATADIR/deskgate/rules.d." },
	{ "match_limit", CONFIG_UINT, "1000000", 1000, UINT32_MAX, R(match_limit), NULL,
	  "PCRE2 match limit per pattern match; a pattern that hits it counts as no match and is logged." },
	{ "depth_limit", CONFIG_UINT, "100000", 100, UINT32_MAX, R(depth_limit), NULL,
	  "PCRE2 backtracking depth limit per pattern match (same treatment as match_limit)." },
	{ "vip_senders", CONFIG_LIST, NULL, 0, 65535, R(vip_senders), ", ",
	  "Addresses (a@b.example) and domains (b.example, with subdomains) whose mail the `vip` condition selects." },
	{ "exclude_quotes", CONFIG_BOOL, "yes", 0, 0, R(exclude_quotes), NULL,
	  "The `body` target leaves out quoted replies (`body-full` keeps them)." },
};
#undef R

#define T(f) offsetof(struct config_threading, f)
static const struct config_key threading_keys[] = {
	{ "secret_file", CONFIG_STATEPATH, "secret", 0, 0, T(secret_file), NULL,
	  "Key of the signed reply addresses: 64 hex digits on the first line (written by "
	  "`deskgate init`), relative to state_dir; keep it private (mode 0600)." },
	{ "recipient_delimiter", CONFIG_STRING, "+", 1, 4, T(recipient_delimiter), NULL,
	  "Sub-address delimiter of the MTA (Postfix/Dovecot recipient_delimiter): replies go to "
	  "support+TICKET-TAG@domain; the first character is used, any of them is accepted." },
	{ "subject_tag", CONFIG_STRING, "[Support #%d]", 3, 100, T(subject_tag), NULL,
	  "Ticket tag put in subjects; %d is the ticket number (exactly once)." },
	{ "reopen_period", CONFIG_DURATION, "14d", 0, 366 * 86400ULL, T(reopen_period), NULL,
	  "A customer reply reopens a closed ticket within this time after closing; later it "
	  "opens a new ticket linked to the old one." },
	{ "duplicate_window", CONFIG_DURATION, "3d", 0, 31 * 86400ULL, T(duplicate_window), NULL,
	  "The same text from the same sender within this time joins the earlier ticket and is "
	  "not acknowledged again." },
	{ "require_auth_results", CONFIG_ENUM, "auto", 0, 0, T(require_auth_results), "auto|yes|no",
	  "Agent mail needs a DMARC or aligned DKIM pass from authserv_id: yes, auto (when the MTA "
	  "adds the header), no (anyone knowing an agent reply address acts as that agent)." },
	{ "authserv_id", CONFIG_STRING, NULL, 0, 253, T(authserv_id), NULL,
	  "authserv-id of the Authentication-Results headers to believe (the receiving MTA's); "
	  "default: hostname." },
};
#undef T

#define AD(f) offsetof(struct config_agent_desk, f)
static const struct config_key agent_desk_keys[] = {
	{ "collision_minutes", CONFIG_UINT, "10", 0, 1440, AD(collision_minutes), NULL,
	  "An agent's answer that comes less than this many minutes after another agent's "
	  "relayed answer, or while the ticket is assigned to someone else, is held and the "
	  "agent asked to confirm it with #send-anyway; 0: the time does not count." },
	{ "collision_assigned", CONFIG_BOOL, "yes", 0, 0, AD(collision_assigned), NULL,
	  "An agent's answer to a ticket assigned to another agent is held the same way (no: "
	  "anyone may answer any ticket)." },
};
#undef AD

#define A(f) offsetof(struct config_agent, f)
static const struct config_key agent_keys[] = {
	{ "address", CONFIG_STRING, NULL, 3, 254, A(address), NULL,
	  "The agent's mail address (required); mail from it is trusted only through the agent "
	  "reply address." },
	{ "name", CONFIG_STRING, NULL, 0, 200, A(name), NULL, "The agent's display name." },
	{ "queues", CONFIG_LIST, NULL, 0, 4096, A(queues), ", ",
	  "Queues the agent serves, comma separated." },
	{ "signature", CONFIG_STRING, NULL, 0, 1000, A(signature), NULL,
	  "The first line of the agent's signature: a reply is cut where a line starts with it "
	  "(besides \"-- \" and a line with the agent's address)." },
	{ "supervisor", CONFIG_BOOL, "no", 0, 0, A(supervisor), NULL,
	  "The agent supervises the whole desk: their #send-anyway releases any held reply "
	  "(the outbound guard's, [secrets] guard, or a collision's), and they are the "
	  "supervisors where no list names any. Who supervises a ticket: its [queue] "
	  "supervisors, else its [sla] supervisors, else the agents with supervisor = yes; "
	  "the desk (outage alerts): [alerts] supervisors, else the agents with supervisor = "
	  "yes, else every agent." },
	{ "timezone", CONFIG_STRING, NULL, 0, 64, A(timezone), NULL,
	  "The agent's time zone (IANA name) for digests and the times in their mail; default: "
	  "their calendar's." },
	{ "language", CONFIG_ENUM, "en", 0, 0, A(language), "zh-CN|zh-TW|en|fr|de",
	  "Language of the escalations and digests the agent gets." },
	{ "calendar", CONFIG_STRING, NULL, 0, 64, A(calendar), NULL,
	  "The agent's working hours, an [hours NAME] (default: [hours]): escalations wait for "
	  "their start unless the ticket's SLA calendar is 24x7." },
	{ "digest", CONFIG_STRING, NULL, 0, 5, A(digest), NULL,
	  "Local time (HH:MM) of the agent's daily digest, or \"off\"; default: [digest] time." },
};
#undef A

#define Q(f) offsetof(struct config_queue, f)
static const struct config_key queue_keys[] = {
	{ "categories", CONFIG_LIST, NULL, 0, 4096, Q(categories), ", ",
	  "Ticket categories routed to this queue, comma separated." },
	{ "agents", CONFIG_LIST, NULL, 0, 4096, Q(agents), ", ",
	  "Agents (the NAME of [agent NAME] sections) notified of its tickets, comma separated." },
	{ "vip", CONFIG_BOOL, "no", 0, 0, Q(vip), NULL, "The queue of VIP customers." },
	{ "supervisors", CONFIG_LIST, NULL, 0, 4096, Q(supervisors), ", ",
	  "Agents (NAME of [agent NAME]) or addresses who supervise its tickets: told of their SLA "
	  "breaches, sent the queue digest; the agents among them may #send-anyway a reply held "
	  "on them. Unset: the ticket's [sla] supervisors, else the agents with [agent] "
	  "supervisor = yes (breaches: else the ticket's assignee or queue agents)." },
	{ "calendar", CONFIG_STRING, NULL, 0, 64, Q(calendar), NULL,
	  "The [hours NAME] its tickets' SLA targets count in, unless the SLA names one." },
};
#undef Q

#define BR(f) offsetof(struct config_brand, f)
static const struct config_key brand_keys[] = {
	{ "name", CONFIG_STRING, NULL, 0, 100, BR(name), NULL,
	  "The brand name in the header band of HTML acknowledgements and notices; unset: "
	  "[general] support_name." },
	{ "colour", CONFIG_STRING, "#1f4e8c", 4, 7, BR(colour), NULL,
	  "The brand colour (#rrggbb or #rgb) of the header band and the ticket number." },
	{ "logo_url", CONFIG_STRING, NULL, 0, 2048, BR(logo_url), NULL,
	  "An https:// URL of a logo shown above the brand name. Unset by default: a remote "
	  "image tells its server when and where each customer opens the mail, and deskgate "
	  "sends no remote content unless the admin chooses to (clients that block images "
	  "show the brand name as its alternative text)." },
};
#undef BR

#define K(f) offsetof(struct config_ack, f)
static const struct config_key ack_keys[] = {
	{ "enabled", CONFIG_BOOL, "yes", 0, 0, K(enabled), NULL,
	  "Acknowledge new tickets by mail (never to robots, lists or bounces)." },
	{ "templates_dir", CONFIG_PATH, NULL, 0, 0, K(templates_dir), NULL,
	  "Directory of admin templates (same layout as the installed templates/); its files "
	  "win over the installed ones." },
	{ "default_language", CONFIG_ENUM, "en", 0, 0, K(default_language), "zh-CN|zh-TW|en|fr|de",
	  "Language of the acknowledgement when neither Content-Language nor the text decides." },
	{ "max_per_sender_hour", CONFIG_UINT, "3", 0, 1000, K(max_per_sender_hour), NULL,
	  "Most acknowledgements to one address in an hour; the sub-addresses of an address "
	  "(name+tag@, any case) count as the address." },
	{ "max_per_sender_day", CONFIG_UINT, "10", 0, 10000, K(max_per_sender_day), NULL,
	  "Most acknowledgements to one address (with its sub-addresses) in a day." },
	{ "max_per_hour", CONFIG_UINT, "1000", 0, 1000000, K(max_per_hour), NULL,
	  "Most acknowledgements in an hour, to anyone: forged senders cannot turn the desk "
	  "into a source of backscatter. Raise it for a desk that opens more tickets an hour." },
	{ "followup_period", CONFIG_DURATION, "1d", 0, 90 * 86400, K(followup_period), NULL,
	  "A follow-up to an open ticket is acknowledged at most once per this period." },
	{ "max_output", CONFIG_SIZE, "256K", 4096, 16777216, K(max_output), NULL,
	  "Largest rendered template; a template that renders more is an error." },
};
#undef K

#define X(f) offsetof(struct config_secrets, f)
static const struct config_key secrets_keys[] = {
	{ "action", CONFIG_ENUM, "redact", 0, 0, X(action), "redact|quarantine",
	  "What to do with mail holding a recovery phrase, private key, API secret, password, "
	  "2FA code or card number (docs/secrets.md): redact stores the mail with each secret "
	  "replaced by a mark, opens an urgent ticket and warns the customer; quarantine holds "
	  "the whole original mail for an administrator (the quarantine keeps the secret)." },
	{ "delete_from_server", CONFIG_BOOL, "no", 0, 0, X(delete_from_server), NULL,
	  "Expunge a mail with a secret from its IMAP mailbox once its redacted copy is "
	  "committed. The server copy is then gone for good (no re-fetch, no other mail client "
	  "sees it); with no, the secret stays on the mail server as long as the mailbox keeps "
	  "the mail." },
	{ "queue", CONFIG_STRING, NULL, 0, 200, X(queue), NULL,
	  "Queue (a [queue NAME]) of tickets whose mail held a secret; unset: the ticket is "
	  "routed as any other." },
	{ "guard", CONFIG_BOOL, "yes", 0, 0, X(guard), NULL,
	  "Hold an agent's reply that asks the customer for a recovery phrase, private key, "
	  "password or 2FA code; the agent is told why, and a supervisor's #send-anyway "
	  "releases it." },
};
#undef X

#define H(f) offsetof(struct config_hours, f)
static const struct config_key hours_keys[] = {
	{ "timezone", CONFIG_STRING, "UTC", 1, 64, H(timezone), NULL,
	  "The desk's time zone, an IANA name such as Asia/Shanghai." },
	{ "week", CONFIG_LIST, "mon-fri 08:00-20:00", 1, 1000, H(week), ", ",
	  "Opening hours, e.g. \"mon-fri 09:00-12:30 13:30-18:00, sat 10:00-14:00\"." },
	{ "holidays", CONFIG_LIST, "", 0, 4000, H(holidays), " ",
	  "Closed days in the desk's zone: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, space separated." },
	{ "open_days", CONFIG_LIST, "", 0, 4000, H(open_days), ", ",
	  "Dates with their own hours, replacing the week's and holidays: \"2025-02-08 "
	  "09:00-18:00\", comma separated (working Saturdays)." },
	{ "target_urgent", CONFIG_DURATION, "1h", 60, 30 * 86400, H(target_urgent), NULL,
	  "First-response target for urgent tickets, in business time." },
	{ "target_high", CONFIG_DURATION, "4h", 60, 30 * 86400, H(target_high), NULL,
	  "First-response target for high-priority tickets, in business time." },
	{ "target_normal", CONFIG_DURATION, "24h", 60, 30 * 86400, H(target_normal), NULL,
	  "First-response target for normal tickets, in business time." },
	{ "target_low", CONFIG_DURATION, "48h", 60, 30 * 86400, H(target_low), NULL,
	  "First-response target for low-priority tickets, in business time." },
};

/* [hours NAME]: another calendar; the keys of [hours] without targets. */
static const struct config_key calendar_keys[] = {
	{ "timezone", CONFIG_STRING, "UTC", 1, 64, H(timezone), NULL,
	  "The calendar's time zone, an IANA name." },
	{ "week", CONFIG_LIST, "mon-fri 08:00-20:00", 1, 1000, H(week), ", ",
	  "Opening hours; \"24x7\" is always open (for urgent and VIP work)." },
	{ "holidays", CONFIG_LIST, "", 0, 4000, H(holidays), " ",
	  "Closed days in the calendar's zone: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD." },
	{ "open_days", CONFIG_LIST, "", 0, 4000, H(open_days), ", ",
	  "Dates with their own hours: \"2025-02-08 09:00-18:00\", comma separated." },
};
#undef H

#define V(f) offsetof(struct config_survey, f)
static const struct config_key survey_keys[] = {
	{ "enabled", CONFIG_BOOL, "no", 0, 0, V(enabled), NULL,
	  "Mail the customer a satisfaction survey when a ticket is closed or solved (by an "
	  "agent's command, automatically, or from the command line): five "
	  "one-click choices, each a mailto: link to a signed address (docs/reports.md)." },
	{ "period", CONFIG_DURATION, "30d", 0, 366 * 86400ULL, V(period), NULL,
	  "At most one survey per customer per this period." },
	{ "low_score", CONFIG_UINT, "2", 0, 5, V(low_score), NULL,
	  "A vote at or below this score is mailed to the ticket's agents; 0: never." },
	{ "reopen_on_problem", CONFIG_BOOL, "yes", 0, 0, V(reopen_on_problem), NULL,
	  "A vote's comment that reads as a new problem (the rules give it a category other "
	  "than the default, or it asks a question or names a problem in one of the five "
	  "languages) reopens the ticket and tells its assignee." },
};
#undef V
#define SL(f) offsetof(struct config_sla, f)
static const struct config_key sla_keys[] = {
	{ "priorities", CONFIG_LIST, NULL, 0, 200, SL(priorities), ", ",
	  "Tickets of these priorities (low normal high urgent) take this SLA; empty: any." },
	{ "categories", CONFIG_LIST, NULL, 0, 4096, SL(categories), ", ",
	  "... of these categories; empty: any." },
	{ "queues", CONFIG_LIST, NULL, 0, 4096, SL(queues), ", ", "... in these queues; empty: any." },
	{ "languages", CONFIG_LIST, NULL, 0, 200, SL(languages), ", ",
	  "... in these languages (zh matches zh-CN and zh-TW); empty: any." },
	{ "vip", CONFIG_ENUM, "any", 0, 0, SL(vip), "any|yes|no",
	  "... from VIP customers (a VIP queue or [rules] vip_senders), or not." },
	{ "calendar", CONFIG_STRING, NULL, 0, 64, SL(calendar), NULL,
	  "The [hours NAME] the targets count in (\"24x7\" style calendars count wall time); "
	  "default: the queue's, else [hours]." },
	{ "first_response", CONFIG_DURATION, "24h", 0, 365 * 86400ULL, SL(first_response), NULL,
	  "First response target (a relayed answer), in business time; 0: none." },
	{ "next_response", CONFIG_DURATION, "0", 0, 365 * 86400ULL, SL(next_response), NULL,
	  "Next response target: after each customer mail that waits on us; 0: none." },
	{ "resolution", CONFIG_DURATION, "0", 0, 365 * 86400ULL, SL(resolution), NULL,
	  "Resolution target, paused while the ticket waits on the customer; 0: none." },
	{ "warn_at", CONFIG_UINT, "75", 1, 99, SL(warn_at), NULL,
	  "Warn the assignee (or the queue's agents) when this percent of a target has passed." },
	{ "repeat", CONFIG_DURATION, "1d", 0, 30 * 86400ULL, SL(repeat), NULL,
	  "While breached, tell the supervisors again after this long (each at most once per "
	  "ticket per interval); 0: once." },
	{ "supervisors", CONFIG_LIST, NULL, 0, 4096, SL(supervisors), ", ",
	  "Agents or addresses who supervise the tickets under this policy when their queue "
	  "names no supervisors: told of breaches; the agents among them may #send-anyway a "
	  "reply held on them. Unset: the agents with [agent] supervisor = yes, else the "
	  "ticket's assignee or queue agents." },
};
#undef SL

#define PE(f) offsetof(struct config_pending, f)
static const struct config_key pending_keys[] = {
	{ "remind_after", CONFIG_UINT, "3", 0, 365, PE(remind_after), NULL,
	  "Business days a ticket waits on the customer (#pending) before they get a reminder; 0: "
	  "none." },
	{ "solve_after", CONFIG_UINT, "4", 0, 365, PE(solve_after), NULL,
	  "Business days after the reminder without an answer before the ticket is solved; 0: "
	  "never." },
};
#undef PE

#define SO(f) offsetof(struct config_solved, f)
static const struct config_key solved_keys[] = {
	{ "notice", CONFIG_BOOL, "yes", 0, 0, SO(notice), NULL,
	  "Tell the customer when their ticket is solved or closed, and how to reopen it." },
	{ "quiet_categories", CONFIG_LIST, NULL, 0, 4096, SO(quiet_categories), ", ",
	  "Categories whose tickets are solved without a notice." },
	{ "reopen_grace", CONFIG_DURATION, "7d", 0, 366 * 86400ULL, SO(reopen_grace), NULL,
	  "A customer's reply within this time after a ticket was solved or closed reopens it "
	  "(the notice says until when); later it opens a new ticket linked to the old one. "
	  "[threading] reopen_period, when shorter, caps it." },
};
#undef SO

#define DI(f) offsetof(struct config_digest, f)
static const struct config_key digest_keys[] = {
	{ "enabled", CONFIG_BOOL, "yes", 0, 0, DI(enabled), NULL,
	  "Send agents and supervisors a daily digest (never an empty one)." },
	{ "time", CONFIG_STRING, "08:00", 5, 5, DI(time), NULL,
	  "Local time (HH:MM) of the digest for those without their own [agent] digest." },
};
#undef DI

#define W(f) offsetof(struct config_selfhelp, f)
static const struct config_key selfhelp_keys[] = {
	{ "registration", CONFIG_STRING, NULL, 0, 4000, W(registration), NULL,
	  "Self-help links (space-separated URLs) put in acknowledgements of this category." },
	{ "failed_trade", CONFIG_STRING, NULL, 0, 4000, W(failed_trade), NULL,
	  "Self-help links for failed trades." },
	{ "delayed_payment", CONFIG_STRING, NULL, 0, 4000, W(delayed_payment), NULL,
	  "Self-help links for delayed deposits and withdrawals." },
	{ "account_security", CONFIG_STRING, NULL, 0, 4000, W(account_security), NULL,
	  "Self-help links for account security." },
	{ "complaint", CONFIG_STRING, NULL, 0, 4000, W(complaint), NULL,
	  "Self-help links for complaints." },
	{ "other", CONFIG_STRING, NULL, 0, 4000, W(other), NULL,
	  "Self-help links for everything else. A category the rules define takes its links "
	  "from a key of its own name here." },
};
#undef W

#define O(f) offsetof(struct config_log, f)
static const struct config_key log_keys[] = {
	{ "target", CONFIG_ENUM, "auto", 0, 0, O(target), "auto|stderr|syslog",
	  "Where run and ingest log: auto is stderr on a terminal or a file, the journal when "
	  "stderr is journald's, else syslog. Other commands log to stderr." },
	{ "facility", CONFIG_ENUM, "mail", 0, 0, O(facility),
	  "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
	  "syslog facility." },
};
#undef O

#define P(f) offsetof(struct config_metrics, f)
static const struct config_key metrics_keys[] = {
	{ "listen", CONFIG_STRING, NULL, 3, 300, P(listen), NULL,
	  "HOST:PORT or [IPV6]:PORT where run serves Prometheus metrics at /metrics, e.g. "
	  "127.0.0.1:9166; unset: off. Anyone who connects reads them. Read at start." },
};
#undef P

#define A(f) offsetof(struct config_alerts, f)
static const struct config_key alerts_keys[] = {
	{ "supervisors", CONFIG_LIST, NULL, 0, 4096, A(supervisors), ", ",
	  "Agent names or addresses told of an outage (a mailbox that cannot log in: its "
	  "OAuth2 token refused, its token command failing) once when it starts and once "
	  "when it ends; unset: the agents with [agent] supervisor = yes, else every agent." },
	{ "after", CONFIG_UINT, "2", 1, 100, A(after), NULL,
	  "Failed logins in a row that make an outage (the first refusal of an OAuth2 token "
	  "only fetches a new one)." },
};
#undef A

#define RP(f) offsetof(struct config_report, f)
static const struct config_key report_keys[] = {
	{ "weekly", CONFIG_STRING, "mon 08:00", 3, 9, RP(weekly), NULL,
	  "When supervisors get the weekly report by mail: DAY HH:MM (mon ... sun, local time "
	  "in [report] timezone), or \"off\". The report covers the 7 local days before that "
	  "day (mon 08:00: Monday to Sunday of the week before; docs/reports.md, \"Weekly "
	  "report by mail\"); each is sent once, and one missed while no gateway ran goes at "
	  "the next start." },
	{ "recipients", CONFIG_LIST, NULL, 0, 4096, RP(recipients), ", ",
	  "Agent names or addresses who get the weekly report; unset: the desk's supervisors "
	  "(the agents with [agent] supervisor = yes, else [alerts] supervisors, else every "
	  "agent). Each gets it in their [agent] language." },
	{ "timezone", CONFIG_STRING, NULL, 1, 64, RP(timezone), NULL,
	  "The IANA time zone of [report] weekly: when the mail goes and where its weeks "
	  "start; default: [hours] timezone. The report's days and heatmap are in [hours] "
	  "timezone, as `deskgate report`'s." },
	{ "by", CONFIG_ENUM, "queue", 0, 0, RP(by), "none|day|category|queue|agent|language|channel",
	  "The table of figures per group in the weekly report (as `deskgate report --by`); "
	  "none: the totals only." },
};
#undef RP

#define T(f) offsetof(struct config_store, f)
static const struct config_key store_keys[] = {
	{ "lease_ttl", CONFIG_DURATION, "30s", 3, 3600, T(lease_ttl), NULL,
	  "Several run processes on one store: how long a gateway's lease on a mailbox, on the "
	  "scheduler and on its outbox claims lasts without renewal. Leases are renewed every "
	  "third of it; when a gateway dies another takes its mailboxes over within lease_ttl "
	  "(plus a second), or at once when the dead one ran on the same host. Read at start." },
	{ "listen", CONFIG_BOOL, "yes", 0, 0, T(listen), NULL,
	  "PostgreSQL: listen for the notifications (LISTEN/NOTIFY) that a commit queuing outbox "
	  "mail or giving a lease up sends, so that an idle gateway sends that mail or takes "
	  "that mailbox over at once instead of at its next one-second poll. No: poll only. "
	  "Nothing depends on it: a notification missed is made up by the poll. SQLite has no "
	  "notifications. Read at start." },
	{ "poll", CONFIG_DURATION, "1s", 1, 3600, T(poll), NULL,
	  "How often a run process looks at the outbox for mail due to be sent when no "
	  "notification wakes it earlier (PostgreSQL with listen = yes). A longer poll costs "
	  "the store fewer queries and delays queued mail by up to as much. Read at start." },
	{ "url", CONFIG_STRING, NULL, 1, 4000, T(url), NULL,
	  "Where the desk's store is: sqlite:PATH (PATH relative to state_dir; the default is "
	  "sqlite:deskgate.db) or a PostgreSQL server as a libpq URI, "
	  "postgresql://user@host:port/db (docs/internals/store.md; `deskgate store migrate` "
	  "moves a SQLite desk there). Replaces [general] database, which still works but is "
	  "deprecated (a warning says so)." },
	{ "password_file", CONFIG_PATH, NULL, 0, 0, T(password_file), NULL,
	  "PostgreSQL: a file whose first line is the password (else libpq's PGPASSFILE or "
	  "passfile= applies). Read at start; refused unless only its owner may read it (mode "
	  "0600 or 0400). Never printed or logged." },
	{ "blob_dir", CONFIG_PATH, NULL, 0, 0, T(blob_dir), NULL,
	  "PostgreSQL: keep the bytes of raw mail and attachments as content-addressed files "
	  "in this directory (created mode 0700) instead of rows of the database; each file and "
	  "its directory are fsync()ed before the row naming it commits. Smaller database and "
	  "dumps, but backups must include the directory (after the database dump), every "
	  "gateway on the database must mount the same one, and on NFS it needs close-to-open "
	  "consistency (the default; not nocto). Blobs written before it was set stay "
	  "readable. Unset: blobs are rows. Refused for a SQLite store, whose large blobs are "
	  "files under state_dir already. Read at start (docs/internals/store.md)." },
};
#undef T

#define C(f) offsetof(struct config, f)
const struct config_section config_sections[] = {
	{ "general", 0, general_keys, N_ELEMENTS(general_keys), 0, 0, 0, 0, 0 },
	{ "ack", 0, ack_keys, N_ELEMENTS(ack_keys), 0, 0, 0, 0, C(ack) },
	{ "secrets", 0, secrets_keys, N_ELEMENTS(secrets_keys), 0, 0, 0, 0, C(secrets) },
	{ "hours", 0, hours_keys, N_ELEMENTS(hours_keys), 0, 0, 0, 0, C(hours) },
	/* [hours NAME], the repeatable twin of [hours] (open_section()) */
	{ "hours", 1, calendar_keys, N_ELEMENTS(calendar_keys), sizeof(struct config_hours),
	  C(calendars), C(n_calendars), offsetof(struct config_hours, name), 0 },
	{ "sla", 1, sla_keys, N_ELEMENTS(sla_keys), sizeof(struct config_sla), C(slas), C(n_slas),
	  offsetof(struct config_sla, name), 0 },
	{ "pending", 0, pending_keys, N_ELEMENTS(pending_keys), 0, 0, 0, 0, C(pending) },
	{ "solved", 0, solved_keys, N_ELEMENTS(solved_keys), 0, 0, 0, 0, C(solved) },
	{ "digest", 0, digest_keys, N_ELEMENTS(digest_keys), 0, 0, 0, 0, C(digest) },
	{ "survey", 0, survey_keys, N_ELEMENTS(survey_keys), 0, 0, 0, 0, C(survey) },
	{ "brand", 0, brand_keys, N_ELEMENTS(brand_keys), 0, 0, 0, 0, C(brand) },
	{ "selfhelp", 0, selfhelp_keys, N_ELEMENTS(selfhelp_keys), 0, 0, 0, 0, C(selfhelp) },
	{ "rules", 0, rules_keys, N_ELEMENTS(rules_keys), 0, 0, 0, 0, C(rules) },
	{ "limits", 0, limits_keys, N_ELEMENTS(limits_keys), 0, 0, 0, 0, C(limits) },
	{ "smtp", 0, smtp_keys, N_ELEMENTS(smtp_keys), 0, 0, 0, 0, C(smtp) },
	{ "mailbox", 1, mailbox_keys, N_ELEMENTS(mailbox_keys), sizeof(struct config_mailbox),
	  C(mailboxes), C(n_mailboxes), offsetof(struct config_mailbox, name), 0 },
	{ "threading", 0, threading_keys, N_ELEMENTS(threading_keys), 0, 0, 0, 0, C(threading) },
	/* [agent], then its repeatable twin [agent NAME] (open_section()) */
	{ "agent", 0, agent_desk_keys, N_ELEMENTS(agent_desk_keys), 0, 0, 0, 0, C(agent_desk) },
	{ "agent", 1, agent_keys, N_ELEMENTS(agent_keys), sizeof(struct config_agent), C(agents),
	  C(n_agents), offsetof(struct config_agent, label), 0 },
	{ "queue", 1, queue_keys, N_ELEMENTS(queue_keys), sizeof(struct config_queue), C(queues),
	  C(n_queues), offsetof(struct config_queue, name), 0 },
	{ "log", 0, log_keys, N_ELEMENTS(log_keys), 0, 0, 0, 0, C(log) },
	{ "metrics", 0, metrics_keys, N_ELEMENTS(metrics_keys), 0, 0, 0, 0, C(metrics) },
	{ "alerts", 0, alerts_keys, N_ELEMENTS(alerts_keys), 0, 0, 0, 0, C(alerts) },
	{ "store", 0, store_keys, N_ELEMENTS(store_keys), 0, 0, 0, 0, C(store) },
	{ "report", 0, report_keys, N_ELEMENTS(report_keys), 0, 0, 0, 0, C(report) },
};
#undef C

const size_t config_n_sections = N_ELEMENTS(config_sections);
