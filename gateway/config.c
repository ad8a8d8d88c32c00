/*
 * config: see config.h. The tables below are the one place where a key is
 * defined; deskgate.conf(5) documents each of them and a test
 * (tests/unit/check-config-doc.sh) fails when one is missing from the page.
 */
#include "build-config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/storeloc.h"
#include "base/util.h"

enum config_type {
	CONFIG_STRING,	 /* char * */
	CONFIG_SECRET,	 /* char *, never printed */
	CONFIG_PATH,	 /* char *, resolved against the config directory */
	CONFIG_STATEPATH, /* char *, resolved against state_dir */
	CONFIG_ENUM,	 /* char *, one of enum_values */
	CONFIG_LIST,	 /* char *, items; given again, the items add up (joined by enum_values) */
	CONFIG_UINT,	 /* uint64_t */
	CONFIG_SIZE,	 /* uint64_t, bytes, "25M" */
	CONFIG_DURATION, /* uint64_t, seconds, "5m" */
	CONFIG_BOOL,	 /* int */
};

static const char *const config_type_names[] = {
	"string", "secret", "path", "path", "enum", "list", "integer", "size", "duration", "boolean",
};

struct config_key {
	const char *name;
	enum config_type type;
	const char *def; /* NULL: no default (unset) */
	uint64_t min, max;
	size_t offset;
	const char *enum_values; /* "a|b|c" for CONFIG_ENUM; the joiner for CONFIG_LIST */
	const char *doc;
};

struct config_section {
	const char *name;
	int repeatable; /* [name LABEL] sections, stored in an array */
	const struct config_key *keys;
	size_t n_keys;
	size_t item_size;      /* repeatable: size of one item */
	size_t array_offset;   /* repeatable: offset of the array pointer in struct config */
	size_t count_offset;   /* repeatable: offset of the count */
	size_t label_offset;   /* repeatable: offset of the label (char *) in the item */
	size_t struct_offset;  /* fixed: offset of the section's struct in struct config */
};

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
};
#undef T

#define C(f) offsetof(struct config, f)
static const struct config_section sections[] = {
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

/* ------------------------------------------------------------------------ */

static int
parse_scaled(const char *s, const char *units, const uint64_t *factors, uint64_t *value_r)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (U64MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	uint64_t f = 1;
	if (*p != '\0') {
		const char *u = strchr(units, *p);
		if (u == NULL || p[1] != '\0')
			return -1;
		f = factors[u - units];
	}
	if (f != 1 && v > U64MAX / f)
		return -1;
	*value_r = v * f;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *value_r)
{
	static const uint64_t f[] = { 1024ULL, 1024ULL, 1048576ULL, 1048576ULL,
				      1073741824ULL, 1073741824ULL };
	return parse_scaled(s, "kKmMgG", f, value_r);
}

int
config_parse_duration(const char *s, uint64_t *value_r)
{
	static const uint64_t f[] = { 1, 60, 3600, 86400, 604800 };
	return parse_scaled(s, "smhdw", f, value_r);
}

static int
parse_bool(const char *s, int *value_r)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "on") == 0 ||
	    strcmp(s, "1") == 0)
		*value_r = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "off") == 0 ||
		 strcmp(s, "0") == 0)
		*value_r = 0;
	else
		return -1;
	return 0;
}

static int
enum_allows(const char *values, const char *s)
{
	size_t n = strlen(s);
	const char *p = values;
	while (*p != '\0') {
		const char *end = strchr(p, '|');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, s, n) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/* Set one key in the struct at base; NULL on success, else a reason. */
static const char *
key_set(const struct config_key *key, void *base, const char *value)
{
	void *field = (char *)base + key->offset;
	uint64_t v;
	int b;

	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_SECRET:
	case CONFIG_PATH:
	case CONFIG_STATEPATH:
	case CONFIG_ENUM:
	case CONFIG_LIST: {
		size_t len = strlen(value);
		for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				return "control characters are not allowed";
		if (key->type == CONFIG_ENUM && !enum_allows(key->enum_values, value))
			return errf("must be one of %s", key->enum_values);
		if ((key->type == CONFIG_STRING || key->type == CONFIG_SECRET ||
		     key->type == CONFIG_LIST) && key->max != 0 &&
		    (len < key->min || len > key->max))
			return errf("length must be %llu to %llu characters",
				    (unsigned long long)key->min, (unsigned long long)key->max);
		if ((key->type == CONFIG_PATH || key->type == CONFIG_STATEPATH) && len == 0)
			return "empty path";
		char **s = field;
		free(*s);
		*s = xstrdup(value);
		return NULL;
	}
	case CONFIG_UINT:
		if (str_to_u64(value, U64MAX, &v) < 0)
			return "not a non-negative integer";
		break;
	case CONFIG_SIZE:
		if (config_parse_size(value, &v) < 0)
			return "not a size (bytes, or a number with k, M or G)";
		break;
	case CONFIG_DURATION:
		if (config_parse_duration(value, &v) < 0)
			return "not a duration (seconds, or a number with s, m, h, d or w)";
		break;
	case CONFIG_BOOL:
		if (parse_bool(value, &b) < 0)
			return "not a boolean (yes or no)";
		*(int *)field = b;
		return NULL;
	}
	if (v < key->min || v > key->max)
		return errf("out of range (%llu to %llu)", (unsigned long long)key->min,
			    (unsigned long long)key->max);
	*(uint64_t *)field = v;
	return NULL;
}

static void
section_apply_defaults(const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->def == NULL)
			continue;
		const char *why = key_set(key, base, key->def);
		if (why != NULL) {
			fprintf(stderr, "deskgate: bad built-in default for %s.%s: %s\n",
				sec->name, key->name, why);
			abort();
		}
	}
}

static void
section_free_strings(const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->type <= CONFIG_LIST)
			x_free((char *)base + key->offset);
	}
}

static void *
section_base(struct config *config, const struct config_section *sec)
{
	return (char *)config + sec->struct_offset;
}

/* ------------------------------------------------------------------------ */

/* Longest physical line read (a list may be given on one line or on many:
   each key's own maximum still applies to the whole value). */
#define CONFIG_MAX_LINE (128 * 1024)
/* What the reader hands inih in place of a value too long for its line
   buffer (Debian's libinih reads at most 200 bytes a line and ignores the
   run-time ini_max_line): the handler takes the value from the stash. A
   control character, so no real value can be it (key_set() refuses
   them). */
#define LONG_VALUE_MARK "\x1f"

struct parse_ctx {
	struct config *config;
	FILE *fp;
	int line;
	int error_line;
	char *error;
	char *stash; /* the value of the current line, when it was too long */
	/* the repeatable section currently open: index into sections, item */
	char *cur_section_raw;
	const struct config_section *cur_sec;
	void *cur_base;
};

/* A key set in the file: which, in which section, on which line (for
   lists: the first replaces the default, the others add items). */
struct config_key_line {
	const struct config_section *sec;
	size_t item; /* which [section NAME] (0 for a fixed section) */
	const struct config_key *key;
	unsigned int line;
};

static void
ctx_error(struct parse_ctx *ctx, const char *why);

/* One physical line of ctx->fp into b (without the limit), 0 at the end. */
static int
read_line(struct parse_ctx *ctx, struct buf *b)
{
	char chunk[4096];
	int got = 0, too_long = 0;
	while (fgets(chunk, sizeof(chunk), ctx->fp) != NULL) {
		size_t n = strlen(chunk);
		got = 1;
		if (!too_long && buf_append(b, chunk, n) < 0)
			too_long = 1;
		if (n > 0 && chunk[n - 1] == '\n')
			break;
	}
	if (got) {
		ctx->line++;
		if (too_long) {
			ctx_error(ctx, errf("line longer than %d bytes", CONFIG_MAX_LINE));
			buf_reset(b);
		}
	}
	return got;
}

/* inih's line reader: each physical line once (so inih's line numbers stay
   right), and a key line too long for inih's buffer as "name=MARK" with
   the value kept in ctx->stash. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	struct buf b;
	buf_init(&b, CONFIG_MAX_LINE);
	x_free(&ctx->stash);
	if (!read_line(ctx, &b)) {
		buf_free(&b);
		return NULL;
	}
	const char *line = buf_cstr(&b);
	if (b.len + 1 < (size_t)num) {
		memcpy(str, line, b.len + 1);
		buf_free(&b);
		return str;
	}
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *sep = strpbrk(p, "=:");
	if (*p == '#' || *p == ';') {
		snprintf(str, (size_t)num, "#\n"); /* a long comment */
	} else if (*p != '[' && sep != NULL && (size_t)(sep - line) + 4 < (size_t)num) {
		snprintf(str, (size_t)num, "%.*s=" LONG_VALUE_MARK "\n", (int)(sep - line), line);
		char *value = xstrdup(sep + 1);
		ctx->stash = xstrdup(str_trim(value));
		free(value);
	} else {
		ctx_error(ctx, errf("line too long (%zu bytes) and not a key = value line", b.len));
		snprintf(str, (size_t)num, "#\n");
	}
	buf_free(&b);
	return str;
}

static void
ctx_error(struct parse_ctx *ctx, const char *why)
{
	if (ctx->error == NULL) {
		ctx->error_line = ctx->line;
		ctx->error = xstrdup(why);
	}
}

static int
open_section(struct parse_ctx *ctx, const char *section)
{
	const char *sp = strchr(section, ' ');
	size_t namelen = sp != NULL ? (size_t)(sp - section) : strlen(section);
	ctx->cur_sec = NULL;
	ctx->cur_base = NULL;
	for (size_t i = 0; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		if (strlen(sec->name) != namelen || strncmp(sec->name, section, namelen) != 0)
			continue;
		if (!sec->repeatable) {
			if (sp != NULL && i + 1 < N_ELEMENTS(sections) &&
			    strcmp(sections[i + 1].name, sec->name) == 0)
				continue; /* [hours NAME]: the repeatable twin that follows */
			if (sp != NULL) {
				ctx_error(ctx, errf("section [%s] takes no name", sec->name));
				return -1;
			}
			ctx->cur_sec = sec;
			ctx->cur_base = section_base(ctx->config, sec);
			return 0;
		}
		const char *label = sp != NULL ? sp + 1 : "";
		while (*label == ' ')
			label++;
		if (*label == '\0' || strchr(label, ' ') != NULL || strlen(label) > 64) {
			ctx_error(ctx, errf("section [%s NAME] needs one name of at most 64 characters",
					    sec->name));
			return -1;
		}
		void **arrayp = (void **)((char *)ctx->config + sec->array_offset);
		size_t *countp = (size_t *)((char *)ctx->config + sec->count_offset);
		for (size_t k = 0; k < *countp; k++) {
			char **lbl = (char **)((char *)*arrayp + k * sec->item_size + sec->label_offset);
			if (strcmp(*lbl, label) == 0) {
				ctx_error(ctx, errf("duplicate section [%s %s]", sec->name, label));
				return -1;
			}
		}
		*arrayp = xreallocarray(*arrayp, *countp + 1, sec->item_size);
		void *item = (char *)*arrayp + *countp * sec->item_size;
		memset(item, 0, sec->item_size);
		*(char **)((char *)item + sec->label_offset) = xstrdup(label);
		section_apply_defaults(sec, item);
		(*countp)++;
		ctx->cur_sec = sec;
		ctx->cur_base = item;
		return 0;
	}
	ctx_error(ctx, errf("unknown section [%.*s]", (int)namelen, section));
	return -1;
}

/* Whether key was already set in the current section; notes where it is
   set the first time. */
static int
key_seen(struct parse_ctx *ctx, const struct config_key *key)
{
	struct config *config = ctx->config;
	size_t item = 0;
	if (ctx->cur_sec->repeatable)
		item = *(size_t *)((char *)config + ctx->cur_sec->count_offset) - 1;
	for (size_t i = 0; i < config->n_key_lines; i++)
		if (config->key_lines[i].key == key && config->key_lines[i].item == item)
			return 1;
	config->key_lines = xreallocarray(config->key_lines, config->n_key_lines + 1,
					  sizeof(*config->key_lines));
	struct config_key_line *kl = &config->key_lines[config->n_key_lines++];
	kl->sec = ctx->cur_sec;
	kl->item = item;
	kl->key = key;
	kl->line = (unsigned int)ctx->line;
	return 0;
}

unsigned int
config_line(const struct config *config, const char *section, const char *label, const char *key)
{
	for (size_t i = 0; i < config->n_key_lines; i++) {
		const struct config_key_line *kl = &config->key_lines[i];
		if (strcmp(kl->sec->name, section) != 0 || strcmp(kl->key->name, key) != 0)
			continue;
		if (kl->sec->repeatable) {
			const void *array = *(void *const *)((const char *)config + kl->sec->array_offset);
			const char *const *lbl =
				(const char *const *)((const char *)array + kl->item * kl->sec->item_size +
						      kl->sec->label_offset);
			if (label == NULL || strcmp(*lbl, label) != 0)
				continue;
		}
		return kl->line;
	}
	return 0;
}

/* [selfhelp] CATEGORY = URLs for a category the rules define: any name of
   [a-z0-9._-] (whether a rule defines it is checked with the rules, at
   start-up). */
static int
selfhelp_extra(struct parse_ctx *ctx, const char *name, const char *value)
{
	static const struct config_key links = { "CATEGORY", CONFIG_STRING, NULL, 0, 4000, 0,
						 NULL, NULL };
	struct config_selfhelp *sh = &ctx->config->selfhelp;
	size_t n = strlen(name);
	int ok = n > 0 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		     name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok) {
		ctx_error(ctx, errf("[selfhelp] \"%.64s\": not a category name (a-z, 0-9, '.', '_', "
				    "'-')", name));
		return 0;
	}
	char *v = NULL;
	const char *why = key_set(&links, &v, value);
	if (why != NULL) {
		ctx_error(ctx, errf("%s: %s", name, why));
		return 0;
	}
	for (size_t i = 0; i < sh->n_extra; i++) {
		if (strcmp(sh->extra[i].key, name) == 0) {
			free(sh->extra[i].value);
			sh->extra[i].value = v;
			return 1;
		}
	}
	sh->extra = xreallocarray(sh->extra, sh->n_extra + 1, sizeof(*sh->extra));
	sh->extra[sh->n_extra++] = (struct config_pair){ xstrdup(name), v, ctx->line };
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	if (strcmp(value, LONG_VALUE_MARK) == 0 && ctx->stash != NULL)
		value = ctx->stash;
	if (ctx->cur_section_raw == NULL || strcmp(ctx->cur_section_raw, section) != 0) {
		free(ctx->cur_section_raw);
		ctx->cur_section_raw = xstrdup(section);
		if (*section == '\0') {
			ctx_error(ctx, "key outside of any section");
			ctx->cur_sec = NULL;
			return 0;
		}
		if (open_section(ctx, section) < 0)
			return 0;
	}
	if (ctx->cur_sec == NULL)
		return 0; /* error already recorded for this section */
	for (size_t i = 0; i < ctx->cur_sec->n_keys; i++) {
		const struct config_key *key = &ctx->cur_sec->keys[i];
		if (strcmp(key->name, name) != 0)
			continue;
		const char *why;
		if (key_seen(ctx, key) && key->type == CONFIG_LIST) {
			/* A list given again: its items add up. */
			char **cur = (char **)((char *)ctx->cur_base + key->offset);
			char *joined = *cur != NULL && **cur != '\0'
					       ? xasprintf("%s%s%s", *cur, key->enum_values, value)
					       : xstrdup(value);
			why = key_set(key, ctx->cur_base, joined);
			free(joined);
		} else {
			why = key_set(key, ctx->cur_base, value);
		}
		if (why != NULL) {
			ctx_error(ctx, errf("%s%s: %s", value == ctx->stash ? "line too long: " : "", name,
					    why));
			return 0;
		}
		return 1;
	}
	if (ctx->cur_sec->struct_offset == offsetof(struct config, selfhelp))
		return selfhelp_extra(ctx, name, value);
	ctx_error(ctx, errf("unknown key \"%.64s\" in section [%s]", name, ctx->cur_sec->name));
	return 0;
}

/* ------------------------------------------------------------------------ */

static struct config *
config_new(const char *path, const char *dir)
{
	struct config *config = xcalloc(1, sizeof(*config));
	config->path = xstrdup(path);
	config->dir = xstrdup(dir);
	for (size_t i = 0; i < N_ELEMENTS(sections); i++)
		if (!sections[i].repeatable)
			section_apply_defaults(&sections[i], section_base(config, &sections[i]));
	return config;
}

char *
config_resolve_path(const struct config *config, const char *path)
{
	if (path == NULL)
		return NULL;
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", config->dir, path);
}

static void
resolve_paths(struct config *config, const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->type != CONFIG_PATH && key->type != CONFIG_STATEPATH)
			continue; /* numbers and booleans are not char * */
		char **s = (char **)((char *)base + key->offset);
		if (*s == NULL || (*s)[0] == '/')
			continue;
		/* a store location naming a database server, not a file */
		if (key->type == CONFIG_STATEPATH && (str_starts_with(*s, "postgresql:") ||
						      str_starts_with(*s, "postgres:")))
			continue;
		char *abs = NULL;
		if (key->type == CONFIG_PATH)
			abs = config_resolve_path(config, *s);
		else if (key->type == CONFIG_STATEPATH)
			abs = xasprintf("%s/%s", config->state_dir, *s);
		if (abs != NULL) {
			free(*s);
			*s = abs;
		}
	}
}

static void
config_finish_paths(struct config *config)
{
	if (config->rules.dir == NULL)
		config->rules.dir = config_data_path("rules.d");
	/* state_dir first: STATEPATH keys are relative to it. */
	resolve_paths(config, &sections[0], config);
	for (size_t i = 1; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		if (!sec->repeatable) {
			resolve_paths(config, sec, section_base(config, sec));
			continue;
		}
		void *array = *(void **)((char *)config + sec->array_offset);
		size_t count = *(size_t *)((char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++)
			resolve_paths(config, sec, (char *)array + k * sec->item_size);
	}
}

struct config *
config_defaults(const char *dir)
{
	struct config *config = config_new("(defaults)", dir);
	free(config->state_dir);
	config->state_dir = xstrdup(dir);
	config_finish_paths(config);
	config->store_location = xstrdup(config->database);
	return config;
}

/* Checks that involve more than one key. */
static const char *
config_validate(struct config *config)
{
	for (size_t i = 0; i < config->n_mailboxes; i++) {
		struct config_mailbox *mb = &config->mailboxes[i];
		if (mb->host == NULL)
			return errf("[mailbox %s]: host is required", mb->name);
		if (mb->username == NULL)
			return errf("[mailbox %s]: username is required", mb->name);
		if (mb->port == 0)
			mb->port = strcmp(mb->security, "imaps") == 0 ? 993 : 143;
		int oauth = strcmp(mb->auth, "xoauth2") == 0 || strcmp(mb->auth, "oauthbearer") == 0;
		if (oauth && mb->token_command == NULL && mb->token_file == NULL)
			return errf("[mailbox %s]: auth = %s needs token_command or token_file",
				    mb->name, mb->auth);
		if (!oauth && mb->password == NULL && mb->password_file == NULL)
			return errf("[mailbox %s]: password or password_file is required", mb->name);
	}
	if ((strcmp(config->smtp.auth, "xoauth2") == 0 ||
	     strcmp(config->smtp.auth, "oauthbearer") == 0) &&
	    config->smtp.token_command == NULL && config->smtp.token_file == NULL)
		return errf("[smtp]: auth = %s needs token_command or token_file", config->smtp.auth);
	if (strcmp(config->smtp.security, "none") == 0 && strcmp(config->smtp.host, "127.0.0.1") != 0 &&
	    strcmp(config->smtp.host, "::1") != 0 && strcmp(config->smtp.host, "localhost") != 0 &&
	    strncmp(config->smtp.host, "127.", 4) != 0)
		return "[smtp]: security = none is only allowed for a loopback relay";
	if (strchr(config->support_address, '@') == NULL)
		return "[general]: support_address must be an address (local@domain)";
	const char *col = config->brand.colour;
	size_t cl = col != NULL ? strlen(col) : 0;
	if (col != NULL && (col[0] != '#' || (cl != 4 && cl != 7) || strspn(col + 1, "0123456789abcdefABCDEF") != cl - 1))
		return "[brand]: colour must be #rrggbb or #rgb";
	const char *logo = config->brand.logo_url;
	if (logo != NULL && (strncmp(logo, "https://", 8) != 0 || logo[8] == '\0' ||
			     strpbrk(logo, " \t\"'<>\\") != NULL))
		return "[brand]: logo_url must be an https:// URL (no quotes, brackets or blanks)";
	if (hours_parse_weekly(config->report.weekly, NULL, NULL) < 0)
		return errf("%s:%u: [report] weekly: \"%.20s\": expected DAY HH:MM (mon ... sun) or "
			    "off",
			    config->path, config_line(config, "report", NULL, "weekly"),
			    config->report.weekly);
	return NULL;
}

/* The next item of a list ("a, b; c d"): 1 with *start_r and *len_r. */
static int
list_item(const char **pp, const char **start_r, size_t *len_r)
{
	const char *p = *pp;
	p += strspn(p, ",; \t");
	if (*p == '\0')
		return 0;
	*start_r = p;
	*len_r = strcspn(p, ",; \t");
	*pp = p + *len_r;
	return 1;
}

const char *
config_check_references(const struct config *config)
{
	for (size_t q = 0; q < config->n_queues; q++) {
		const struct config_queue *cq = &config->queues[q];
		const char *p = cq->agents, *s;
		size_t n;
		while (p != NULL && list_item(&p, &s, &n)) {
			/* An agent by its section's NAME or its address (any case). */
			size_t a;
			for (a = 0; a < config->n_agents; a++) {
				const struct config_agent *ag = &config->agents[a];
				if ((strlen(ag->label) == n && strncasecmp(ag->label, s, n) == 0) ||
				    (ag->address != NULL && strlen(ag->address) == n &&
				     strncasecmp(ag->address, s, n) == 0))
					break;
			}
			if (a == config->n_agents)
				return errf("%s:%u: [queue %s] agents: no [agent %.*s] section", config->path,
					    config_line(config, "queue", cq->name, "agents"), cq->name,
					    (int)(n > 64 ? 64 : n), s);
		}
	}
	if (config->secrets.queue != NULL && *config->secrets.queue != '\0') {
		size_t q;
		for (q = 0; q < config->n_queues; q++)
			if (strcmp(config->queues[q].name, config->secrets.queue) == 0)
				break;
		if (q == config->n_queues)
			return errf("%s:%u: [secrets] queue: no [queue %.64s] section", config->path,
				    config_line(config, "secrets", NULL, "queue"), config->secrets.queue);
	}
	return NULL;
}

int
config_load(const char *path, struct config **config_r, const char **error_r)
{
	*config_r = NULL;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		*error_r = errf("%s: %s", path, strerror(errno));
		return -1;
	}
	char *dir;
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));

	struct parse_ctx ctx = { 0 };
	ctx.config = config_new(path, dir);
	ctx.fp = fp;
	free(dir);

	/* Debian's libinih exposes these as run-time settings, but reads at
	   most 200 bytes a line whatever ini_max_line says: reader() hands
	   longer values over itself. */
	ini_max_line = 4096;
	ini_use_stack = false;
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;

	int ret = ini_parse_stream(reader, &ctx, handler, &ctx);
	fclose(fp);
	free(ctx.cur_section_raw);
	free(ctx.stash);
	if (ret != 0 || ctx.error != NULL) {
		if (ctx.error != NULL)
			*error_r = errf("%s:%d: %s", path, ctx.error_line, ctx.error);
		else if (ret > 0)
			*error_r = errf("%s:%d: syntax error (expected [section] or key = value)",
					path, ret);
		else
			*error_r = errf("%s: cannot parse (%d)", path, ret);
		free(ctx.error);
		config_free(&ctx.config);
		return -1;
	}
	const char *why = config_validate(ctx.config);
	if (why != NULL) {
		*error_r = errf("%s: %s", path, why);
		config_free(&ctx.config);
		return -1;
	}
	config_finish_paths(ctx.config);
	if ((why = storeloc_finish(ctx.config)) != NULL) {
		*error_r = errf("%s:%s", path, why);
		config_free(&ctx.config);
		return -1;
	}
	*config_r = ctx.config;
	return 0;
}

void
config_free(struct config **configp)
{
	struct config *config = *configp;
	if (config == NULL)
		return;
	for (size_t i = 0; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		if (!sec->repeatable) {
			section_free_strings(sec, section_base(config, sec));
			continue;
		}
		void **arrayp = (void **)((char *)config + sec->array_offset);
		size_t count = *(size_t *)((char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++) {
			void *item = (char *)*arrayp + k * sec->item_size;
			section_free_strings(sec, item);
			x_free((char *)item + sec->label_offset);
		}
		x_free(arrayp);
	}
	free(config->key_lines);
	if (config->store_location != NULL) {
		explicit_bzero(config->store_location, strlen(config->store_location));
		x_free(&config->store_location);
	}
	for (size_t i = 0; i < config->selfhelp.n_extra; i++) {
		free(config->selfhelp.extra[i].key);
		free(config->selfhelp.extra[i].value);
	}
	free(config->selfhelp.extra);
	free(config->path);
	free(config->dir);
	free(config);
	*configp = NULL;
}

void
config_print_keys(FILE *out)
{
	for (size_t i = 0; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		for (size_t k = 0; k < sec->n_keys; k++) {
			const struct config_key *key = &sec->keys[k];
			fprintf(out, "%s%s.%s\t%s\t%s\t%s\n", sec->name, sec->repeatable ? " NAME" : "",
				key->name,
				key->type == CONFIG_ENUM ? key->enum_values : config_type_names[key->type],
				key->def != NULL ? key->def : "-", key->doc);
		}
	}
}

static void
print_section(const struct config_section *sec, const void *base, const char *label, FILE *out)
{
	if (label != NULL)
		fprintf(out, "\n[%s %s]\n", sec->name, label);
	else
		fprintf(out, "\n[%s]\n", sec->name);
	for (size_t k = 0; k < sec->n_keys; k++) {
		const struct config_key *key = &sec->keys[k];
		const void *field = (const char *)base + key->offset;
		switch (key->type) {
		case CONFIG_SECRET:
			if (*(char *const *)field != NULL)
				fprintf(out, "%s = <hidden>\n", key->name);
			break;
		case CONFIG_STRING:
		case CONFIG_PATH:
		case CONFIG_STATEPATH:
		case CONFIG_ENUM:
		case CONFIG_LIST:
			if (*(char *const *)field != NULL)
				fprintf(out, "%s = %s\n", key->name, *(char *const *)field);
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s = %s\n", key->name, *(const int *)field ? "yes" : "no");
			break;
		default:
			fprintf(out, "%s = %llu\n", key->name,
				(unsigned long long)*(const uint64_t *)field);
		}
	}
}

void
config_print(const struct config *config, FILE *out)
{
	fprintf(out, "# %s\n", config->path);
	for (size_t i = 0; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		if (!sec->repeatable) {
			print_section(sec, (const char *)config + sec->struct_offset, NULL, out);
			if (sec->struct_offset == offsetof(struct config, selfhelp))
				for (size_t k = 0; k < config->selfhelp.n_extra; k++)
					fprintf(out, "%s = %s\n", config->selfhelp.extra[k].key,
						config->selfhelp.extra[k].value);
			continue;
		}
		const void *array = *(void *const *)((const char *)config + sec->array_offset);
		size_t count = *(const size_t *)((const char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++) {
			const void *item = (const char *)array + k * sec->item_size;
			print_section(sec, item, *(char *const *)((const char *)item + sec->label_offset),
				      out);
		}
	}
}

static void
write_section_template(FILE *out, const struct config_section *sec, const char *label)
{
	if (label != NULL)
		fprintf(out, "\n# [%s %s]\n", sec->name, label);
	else
		fprintf(out, "\n[%s]\n", sec->name);
	for (size_t k = 0; k < sec->n_keys; k++) {
		const struct config_key *key = &sec->keys[k];
		fprintf(out, "# %s\n", key->doc);
		if (key->type == CONFIG_ENUM)
			fprintf(out, "# (one of: %s)\n", key->enum_values);
		fprintf(out, "#%s = %s\n", key->name, key->def != NULL ? key->def : "");
	}
}

void
config_write_template(FILE *out, const char *state_dir, const char *support_address,
		      const char *hostname)
{
	fprintf(out, "# deskgate.conf: written by `deskgate init`. See deskgate.conf(5).\n"
		     "# Every key is listed with its default, commented out; uncomment to change.\n"
		     "# Relative paths are relative to this file's directory.\n");
	for (size_t i = 0; i < N_ELEMENTS(sections); i++) {
		const struct config_section *sec = &sections[i];
		if (sec->repeatable) {
			fprintf(out, "\n# Repeatable section: one [%s NAME] per %s.", sec->name, sec->name);
			write_section_template(out, sec, "NAME");
			continue;
		}
		if (strcmp(sec->name, "general") == 0) {
			fprintf(out, "\n[general]\nstate_dir = %s\n", state_dir);
			if (support_address != NULL)
				fprintf(out, "support_address = %s\n", support_address);
			if (hostname != NULL)
				fprintf(out, "hostname = %s\n", hostname);
			for (size_t k = 0; k < sec->n_keys; k++) {
				const struct config_key *key = &sec->keys[k];
				if (strcmp(key->name, "state_dir") == 0 ||
				    (support_address != NULL && strcmp(key->name, "support_address") == 0) ||
				    (hostname != NULL && strcmp(key->name, "hostname") == 0))
					continue;
				fprintf(out, "# %s\n#%s = %s\n", key->doc, key->name,
					key->def != NULL ? key->def : "");
			}
			continue;
		}
		write_section_template(out, sec, NULL);
	}
}

char *
config_data_path(const char *name)
{
	/* DESKGATE_DATADIR: a colon-separated list of directories searched
	   before the installed data, so that a build tree runs uninstalled
	   (the tests and the demo set it to the source tree). */
	const char *env = getenv("DESKGATE_DATADIR");
	if (env != NULL && *env != '\0') {
		char *list = xstrdup(env);
		char *save = NULL;
		for (char *d = strtok_r(list, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
			char *path = xasprintf("%s/%s", d, name);
			struct stat st;
			if (stat(path, &st) == 0) {
				free(list);
				return path;
			}
			free(path);
		}
		free(list);
	}
	return xasprintf("%s/%s", PKGDATADIR, name);
}
