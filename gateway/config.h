/*
 * config: deskgate.conf, an INI file read with libinih (the only module that
 * includes it). Every key of every section is described once, in the tables
 * in config.c: type, default, range and documentation. Unknown sections,
 * unknown keys and bad values are errors that name file:line.
 *
 * Sections: [general], [limits], [smtp], and the repeatable named sections
 * [mailbox NAME]. Relative paths are resolved against the directory of the
 * configuration file, except keys documented as "relative to state_dir".
 *
 * Ownership: config_load() returns a struct config the caller frees with
 * config_free(); every string in it belongs to it.
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/deskgate.conf"

/* Most [mailbox] sections one gateway process takes (config_validate():
   libetpan's select() cannot watch a descriptor above 1023). */
#define CONFIG_MAX_MAILBOXES 300

struct config_limits {
	uint64_t max_message_size;
	uint64_t max_header_size;
	uint64_t max_header_count;
	uint64_t max_line_length;
	uint64_t max_mime_depth;
	uint64_t max_mime_parts;
	uint64_t max_attachments;
	uint64_t max_attachment_size;
	uint64_t max_decoded_size;
	uint64_t max_text_size;
	uint64_t max_mail_per_recipient_minute; /* mail queued to one address */
	uint64_t max_mail_per_minute;		/* mail queued by the desk */
	uint64_t max_quarantine_size; /* hard limit: larger mail is refused, not kept */
	uint64_t max_handover_attachments; /* attachment bytes in a handover / #history mail */
};

struct config_mailbox {
	char *name;
	char *host;
	uint64_t port;
	char *security;	   /* imaps | starttls | none */
	char *ca_file;
	int tls_verify;
	char *username;
	char *password;
	char *password_file;
	char *auth;	   /* login | plain | xoauth2 | oauthbearer */
	char *token_command;
	char *token_file;
	char *folder;
	char *after;	   /* seen | move */
	char *move_to;
	int idle;
	uint64_t idle_interval;
	uint64_t poll_interval;
	uint64_t batch_size;
	uint64_t once_batch_size;
	uint64_t timeout;
};

struct config_smtp {
	char *host;
	uint64_t port;
	char *security;	   /* smtps | starttls | none */
	char *ca_file;
	int tls_verify;
	char *username;
	char *password;
	char *password_file;
	char *auth;	   /* none | plain | login | xoauth2 */
	char *token_command;
	char *token_file;
	char *envelope_from;
	char *helo;
	uint64_t timeout;
	uint64_t idle_timeout; /* seconds a connection to the relay is kept idle */
	uint64_t retry_initial;
	uint64_t retry_max_age;
};

struct config {
	char *path;	  /* the file read */
	char *dir;	  /* its directory, for relative paths */

	/* [general] */
	char *state_dir;
	char *database;
	uint64_t blob_file_min; /* blobs shorter than this live in the database */
	char *log_level;
	char *hostname;
	char *support_address;
	char *support_name;
	uint64_t connect_concurrency; /* mailboxes connected at once (poller.c) */
	uint64_t sync_concurrency;    /* mailboxes synced at once (poller-work.c) */

	struct config_limits limits;
	struct config_smtp smtp;

	/* [rules] (deskgate-rules(5)) */
	struct config_rules {
		char *dir;	    /* directory of *.rules files */
		uint64_t match_limit;
		uint64_t depth_limit;
		char *vip_senders;  /* addresses and domains, comma separated */
		int exclude_quotes; /* `body` leaves out quoted replies */
	} rules;

	struct config_mailbox *mailboxes;
	size_t n_mailboxes;

	/* [threading], [agent NAME], [queue NAME] (docs/threading.md) */
	struct config_threading {
		char *secret_file;	   /* key of signed reply addresses (hex) */
		char *recipient_delimiter; /* "+": support+TICKET-TAG@domain */
		char *subject_tag;	   /* "[Support #%d]" */
		uint64_t reopen_period;	   /* a reply reopens a closed ticket this long */
		uint64_t duplicate_window; /* same text again within this joins, no ack */
		char *require_auth_results; /* auto | yes | no: agent mail needs DMARC/DKIM pass */
		char *authserv_id;	   /* whose Authentication-Results count */
	} threading;
	/* [agent]: what holds for every agent */
	struct config_agent_desk {
		uint64_t collision_minutes; /* a second agent's answer this soon is held */
		int collision_assigned;	    /* an answer to someone else's ticket is held */
	} agent_desk;
	struct config_agent {
		char *label;   /* the section name */
		char *address; /* required */
		char *name;    /* display name */
		char *queues;  /* comma separated queue names */
		char *signature; /* the first line of the agent's signature */
		int supervisor;	 /* may release a held reply (#send-anyway) */
		char *timezone; /* IANA name; NULL: the default calendar's */
		char *language; /* of the escalations and digests sent to the agent */
		char *calendar; /* working hours ([hours NAME]); NULL: default */
		char *digest;	/* "HH:MM" local time of the daily digest, "off" */
	} *agents;
	size_t n_agents;
	struct config_queue {
		char *name;	  /* the section name */
		char *categories; /* comma separated */
		char *agents;	  /* comma separated agent names */
		int vip;
		char *supervisors; /* agent names or addresses: breach notices, queue digest */
		char *calendar;	   /* [hours NAME] of its SLA targets; NULL: default */
	} *queues;
	size_t n_queues;

	/* [ack], [hours], [selfhelp]: acknowledgements (gateway/ack.h) */
	struct config_ack {
		int enabled;
		char *templates_dir;	  /* admin templates, searched before the installed ones */
		char *default_language;	  /* zh-CN | zh-TW | en | fr | de */
		uint64_t max_per_sender_hour;
		uint64_t max_per_sender_day;
		uint64_t max_per_hour;	  /* to anyone: the desk-wide cap */
		uint64_t followup_period; /* a follow-up to an open ticket: one ack per period */
		uint64_t max_output;	  /* bytes of one rendered template */
	} ack;
	/* [brand]: the look of the HTML acknowledgements and notices (ack.h) */
	struct config_brand {
		char *name;	/* shown in the header band; NULL: [general] support_name */
		char *colour;	/* "#rrggbb" or "#rgb" */
		char *logo_url; /* https:// image above the name, or NULL (none) */
	} brand;
	/* [survey]: satisfaction surveys by mail (gateway/survey.h) */
	struct config_survey {
		int enabled;
		uint64_t period;    /* at most one survey per customer per period */
		uint64_t low_score; /* a vote at or below it is told to the agents; 0: never */
		int reopen_on_problem; /* a comment that reads as a new problem reopens */
	} survey;
	struct config_hours {
		char *name;	 /* [hours NAME]; NULL for [hours], the "default" calendar */
		char *timezone;	 /* IANA name */
		char *week;	 /* "mon-fri 08:00-20:00" */
		char *holidays;	 /* "2025-01-01 2025-01-28..2025-02-04" */
		char *open_days; /* "2025-02-08 09:00-18:00" */
		uint64_t target_urgent, target_high, target_normal, target_low; /* business seconds */
	} hours, *calendars;
	size_t n_calendars;
	/* [secrets]: secrets customers mail, agents' requests for them (gateway/redact.h) */
	struct config_secrets {
		char *action;		/* redact | quarantine */
		int delete_from_server; /* expunge the original from IMAP after the commit */
		char *queue;		/* queue of tickets with a secret, or NULL */
		int guard;		/* hold agent replies asking for a secret */
	} secrets;

	/* [sla NAME], [pending], [solved], [digest]: promises kept (gateway/sla.h) */
	struct config_sla {
		char *name;
		char *priorities, *categories, *queues, *languages; /* lists; NULL: any */
		char *vip;	/* any | yes | no */
		char *calendar; /* NULL: the queue's, else default */
		uint64_t first_response, next_response, resolution; /* business seconds; 0: none */
		uint64_t warn_at; /* percent of the target */
		uint64_t repeat;  /* breach notices again after; 0: once */
		char *supervisors; /* when the queue names none */
	} *slas;
	size_t n_slas;
	struct config_pending {
		uint64_t remind_after; /* business days waiting before a reminder; 0: none */
		uint64_t solve_after;  /* business days after the reminder: solved; 0: never */
	} pending;
	struct config_solved {
		int notice;		/* the customer is told (#solved, #close, automatic) */
		char *quiet_categories; /* list: no notice for these */
		uint64_t reopen_grace;	/* a reply within this after closing reopens */
	} solved;
	struct config_digest {
		int enabled;
		char *time; /* "HH:MM" for agents and supervisors without their own */
	} digest;
	/* Where each key was set (config_line()); owned. */
	struct config_key_line *key_lines;
	size_t n_key_lines;

	struct config_selfhelp {
		/* space-separated URLs per category */
		char *registration, *failed_trade, *delayed_payment, *account_security, *complaint,
			*other;
		/* CATEGORY = URLs for the categories the rules define */
		struct config_pair {
			char *key;
			char *value;
			int line; /* where it was set, for errors */
		} *extra;
		size_t n_extra;
	} selfhelp;

	/* [log], [metrics]: the daemon as a service (log.h, metrics.h) */
	struct config_log {
		char *target;	/* auto | stderr | syslog */
		char *facility; /* syslog facility */
	} log;
	struct config_metrics {
		char *listen; /* HOST:PORT of the Prometheus endpoint; NULL: off */
	} metrics;
	/* [store]: several gateways on one store (lease.h) */
	struct config_store {
		uint64_t lease_ttl; /* seconds */
		int listen;	    /* wake early on other gateways' NOTIFY */
		uint64_t poll;	    /* seconds between looks at the outbox */
		char *url;	     /* sqlite:PATH or postgresql://...; NULL: [general] database */
		char *password_file; /* PostgreSQL: the password, first line; mode 0600 */
		char *blob_dir;	     /* PostgreSQL: blob files there; NULL: rows */
	} store;
	/* What store_open() takes: [store] url (or the deprecated [general]
	   database), with the password of password_file in it. Never print
	   or log it; print `database` instead. */
	char *store_location;
	/* [alerts]: who hears of outages (outage.h) */
	struct config_alerts {
		char *supervisors; /* agent names or addresses; NULL: every agent */
		uint64_t after;	   /* failed logins in a row that make an outage */
	} alerts;
	/* [report]: the weekly report by mail (report-mail.h) */
	struct config_report {
		char *weekly;	  /* "DAY HH:MM" local time, or "off" */
		char *recipients; /* agent names or addresses; NULL: the desk's supervisors */
		char *timezone;	  /* IANA name; NULL: [hours] timezone */
		char *by;	  /* the report's table: queue, category, ... or none */
	} report;
};

/* Read and validate a configuration file. -1 with error_r "FILE:LINE: why"
   (or "FILE: why") on failure. */
int config_load(const char *path, struct config **config_r, const char **error_r);
/* A configuration with every default, for tests; dir is used for paths. */
struct config *config_defaults(const char *dir);
void config_free(struct config **configp);

/* References between sections that the daemon's start-up refuses (a
   [queue] naming an agent that has no [agent] section), named by the line
   of the key that makes them: "FILE:LINE: why", or NULL. */
const char *config_check_references(const struct config *config);

/* The line of the configuration file that set key in [section] (label:
   the NAME of a repeatable [section NAME], else NULL); 0 when the key was
   not set in the file. */
unsigned int config_line(const struct config *config, const char *section, const char *label,
			 const char *key);

/* Print every key: "section.key<TAB>type<TAB>default<TAB>doc" (for the man
   page check and `deskgate config keys`). */
void config_print_keys(FILE *out);
/* Print the effective configuration (secrets shown as "<hidden>"). */
void config_print(const struct config *config, FILE *out);

/* Write a commented configuration listing every key with its default,
   with state_dir set, and support_address and hostname when not NULL (for
   `deskgate init`). */
void config_write_template(FILE *out, const char *state_dir, const char *support_address,
			   const char *hostname);

/* The path of installed data (name: "templates", "rules.d"): the first
   directory of $DESKGATE_DATADIR (colon-separated) that has it, else
   PKGDATADIR/name. Caller frees. */
char *config_data_path(const char *name);

/* Parse "25M"-style sizes and "30s"/"5m"/"2h"/"1d" durations (seconds). */
int config_parse_size(const char *s, uint64_t *value_r);
int config_parse_duration(const char *s, uint64_t *value_r);
/* Resolve path against the configuration's directory; caller frees. */
char *config_resolve_path(const struct config *config, const char *path);

#endif
