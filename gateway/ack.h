/*
 * ack: the acknowledgement a customer gets when a ticket is opened: the
 * data the templates see (ack_data_build), and the templates themselves,
 * found with fallbacks and rendered into a subject, a text body and an
 * HTML body (ack_render).
 *
 * Templates (see templates/README.md for the variables): under each
 * template directory,
 *   ack/<category>.<lang>.txt     "Subject: <template>", an empty line, then
 *                                 the text body template;
 *   ack/<category>.<lang>.html    optional HTML body; without it the HTML
 *                                 body is made from the rendered text;
 *   ack/partials/<name>.<lang>.txt / .html   partials ({{> name}}), falling
 *                                 back to <name>.en.*.
 * Look-up order: the admin directory ([ack] templates_dir), then the
 * installed one ($(pkgdatadir)/templates); for the template, (category,
 * language), (default, language), (category, en), (default, en).
 * Files are read and compiled once per struct ack_templates (one
 * configuration load; a reload makes a new one), absences included;
 * rendering through one is thread-safe.
 * Escaping: the subject strips control characters (TMPL_ESCAPE_HEADER),
 * the text body does no HTML escaping, the HTML body escapes every value.
 *
 * Language: ack_language() maps what lang_detect() found onto the
 * languages templates exist for (zh-CN zh-TW en fr de), else the
 * configured default. Dates are written in that language by hand-made
 * tables, not by the C library's locales, which are rarely installed on
 * servers.
 *
 * Ownership: ack_data_build() returns a tree the caller frees with
 * tmpl_value_free(); struct ack_templates is freed with
 * ack_templates_free(); struct ack_mail strings are freed by
 * ack_mail_clear(). Inputs are borrowed.
 */
#ifndef DG_ACK_H
#define DG_ACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gateway/template.h"

struct config;
struct hours;

/* The categories and languages shipped templates cover. */
extern const char *const ack_categories[]; /* NULL-terminated */
extern const char *const ack_languages[];  /* NULL-terminated */

struct ack_field {
	const char *name;  /* "order_id", "tx_hash", "amount", "coin", ... */
	const char *value;
};

struct ack_input {
	int64_t ticket_id;
	const char *subject;	      /* the ticket's subject */
	const char *customer_name;    /* may be NULL */
	const char *customer_address; /* may be NULL */
	const char *category;	      /* NULL: "other" */
	const char *category_name;    /* NULL: the built-in name, else the key made readable */
	const char *priority;	      /* NULL: "normal" */
	const char *language;	      /* from ack_language() */
	const struct ack_field *fields;
	size_t n_fields;
	int64_t received_at;	      /* when the customer's mail arrived */
	unsigned int secret_kinds;    /* SECRET_KIND_BIT()s redacted from the mail (redact.h) */
	/* The promise's first-response target in business seconds of the
	   calendar passed as hours, when the ticket's SLA policy gives it
	   (sla.h); target_given 0: hours' target for the priority. A given
	   target of 0 is no promise. */
	int target_given;
	uint64_t target;
	/* The customer's zone, when their Date header gave one: the times
	   they read are in it (seconds east of UTC); else the calendar's. */
	int has_customer_zone;
	int customer_utoff;
};

/* The name customers read for a category in language: the admin's or
   shipped name table (ack/names/categories.<lang>.txt, "key = Name"
   lines), else the built-in name of an acknowledgement category, else the
   English table, else the key made readable (ack_category_readable()). t
   may be NULL (no tables). Never "General enquiry" for a category that is
   not "other". Caller frees. */
struct ack_templates;
char *ack_category_name(const struct ack_templates *t, const char *category,
			const char *language);
/* "kyc_review" -> "KYC review", "account-unlock" -> "Account unlock":
   separators made spaces, the first letter in capitals, and in capitals a
   first word of up to three letters or a short word with a digit (they are
   acronyms: KYC, OTC, API, P2P). */
char *ack_category_readable(const char *category);

/* One of ack_languages for a detected tag (lang_detect()'s answer, a
   ticket's language, or NULL), else config's default_language. Static. */
const char *ack_language(const struct config *config, const char *detected);

/* The desk's hours from [hours] (targets included). -1 with *error_r
   ("[hours] timezone: ...") when the section is invalid; call it at
   start-up so that a bad section is a configuration error. */
int ack_hours_from_config(const struct config *config, struct hours **hours_r,
			  const char **error_r);

/* 1 when a field of this name is the desk's own data (tags, queue,
   priority, category, status, assignee, anything with "score" in it, or
   starting with "internal" or '_'): never in an acknowledgement. */
int ack_field_internal(const char *name);

/* The template data for in (see templates/README.md). category.name is
   in->category_name when set (see ack_category_name()). The list `fields`
   holds the customer's data the desk knows how to label (order id, TxID,
   amount, currency, wallet address, account e-mail); other extracted
   fields are only reachable by name (`field.NAME`), and internal ones
   (ack_field_internal()) not at all. hours may be NULL:
   then there is no promise (promise is absent, after_hours false).
   *due_r (may be NULL) gets the promised first-response time, 0 when
   none; the caller stores it as the ticket's due_at. Never fails. */
struct tmpl_value *ack_data_build(const struct config *config, const struct hours *hours,
				  const struct ack_input *in, int64_t *due_r);

/* Sample data for `deskgate template render` and `template check`: a
   made-up ticket of this category (with one field missing where the
   category asks for some). */
struct ack_input *ack_sample_input(const char *category, const char *language, int64_t now);
void ack_sample_input_free(struct ack_input **inp);


/* dir: a template directory to use instead of the configured ones (NULL:
   [ack] templates_dir, then PKGDATADIR "/templates"). */
struct ack_templates *ack_templates_new(const struct config *config, const char *dir);
/* Look key up in the name table ack/names/<table>.<lang>.txt of the
   template directories (the admin's first): lines "key = Name", '#'
   comments. 1 with *name_r (caller frees), 0 when no table has it. */
int ack_templates_name(const struct ack_templates *t, const char *table, const char *lang,
		       const char *key, char **name_r);
void ack_templates_free(struct ack_templates **tp);

struct ack_mail {
	char *subject;	   /* one line, no control characters */
	char *text;	   /* UTF-8, LF line ends */
	char *html;	   /* a complete UTF-8 HTML document */
	char *template;	   /* the file used, for logs: ".../ack/other.en.txt" */
};

/* Render the acknowledgement for category and language (one of
   ack_languages; others fall back) with data. 0 with *mail filled, or -1
   with *error_r ("FILE:LINE: why", a limit, or no template found). */
int ack_render(const struct ack_templates *t, const char *category, const char *language,
	       const struct tmpl_value *data, struct ack_mail *mail, const char **error_r);
/* The same for the other mail of the desk rendered from templates: KIND/NAME.LANG.txt
   (and .html) under the same directories, falling back on English only
   (kind "sla": escalation notices, gateway/escalate.h). */
int ack_render_in(const struct ack_templates *t, const char *kind, const char *name,
		  const char *language, const struct tmpl_value *data, struct ack_mail *mail,
		  const char **error_r);
void ack_mail_clear(struct ack_mail *mail);

struct deskmail;
struct deskmail_msg;
struct hook_event;
struct mime_message;
struct store;

/* The message that is sent for a rendered acknowledgement, the one place
   that decides its content: To the customer, the rendered subject (with
   the ticket's tag), threaded under answered (the customer's mail; NULL:
   no thread), Auto-Submitted: auto-replied, the text and HTML bodies; the
   rest is deskmail's (From, Reply-To the customer's signed address,
   Message-ID, loop header). The caller queues or renders it. */
struct deskmail_msg *ack_message(struct deskmail *dm, int64_t ticket_id, const char *to_name,
				 const char *to_address, const struct mime_message *answered,
				 const struct ack_mail *mail, int64_t now);

/* ---- the acknowledgement policy ------------------------------------------ */

struct ack;

/* The policy with its templates. Borrows config, store, dm and hours
   (NULL: no promised time), which must outlive it. */
int ack_new(const struct config *config, struct store *store, struct deskmail *dm,
	    const struct hours *hours, struct ack **ack_r, const char **error_r);
void ack_free(struct ack **ackp);

/* The HOOK_STORED step "ack" (context: a struct ack). Decides whether the
   customer's message is acknowledged: never when [ack] enabled = no, for
   mail without a sender, automatic replies, the same text again, mail of
   anyone but the ticket's customer, a rule's no-ack, automatic or robot
   mail and our own mail (autoreply_suppress()), nor beyond the rate
   limits ([ack] max_per_sender_hour and max_per_sender_day; a follow-up
   at most once per followup_period). Otherwise renders the template of
   the ticket's category and language, queues it through deskmail, keeps
   a message row of direction "out" (what was sent) and the promised time
   as the ticket's due_at. Sets ev->ack_outbox_id, or ev->ack_refusal
   (also an "ack" event); a template error is an event and a log line. */
int ack_step(void *ack, struct hook_event *ev, const char **error_r);

/* Check every template under dir/ack (and partials): syntax, the subject
   line, partials that do not exist, and a sample render of every
   category and language. Each problem is written to out as "FILE:LINE:
   why" (or "FILE: why"). Returns the number of problems; *n_files_r the
   number of files checked. */
size_t ack_templates_check(const struct config *config, const char *dir, FILE *out,
			   size_t *n_files_r);

#endif
