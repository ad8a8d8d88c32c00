/*
 * ingest: see ingest.h. The order of work for one message (docs/pipeline.md):
 *   1. size check (an oversized message is quarantined unparsed);
 *   2. mime_parse(); a parse failure or a limit is a quarantine;
 *   3. the dedupe key (Message-ID + origin headers + body bytes): a message
 *      already stored is a duplicate and writes nothing but the checkpoint;
 *   4. reports (bounces, delivery and feedback reports) never become
 *      tickets: they are matched to the outbox message they report on;
 *   5. threading (thread_resolve: signed reply address, references from a
 *      participant, subject tag from a participant, else a new ticket);
 *   6. classification (rules) of a new ticket; spam is quarantined;
 *   7. one unit of the transaction: raw blob, ticket, message, participants,
 *      attachments, fields, rule hits, events, and the acknowledgement
 *      queued in the outbox unless the loop guard or a rate limit says no;
 *   8. the mailbox checkpoint.
 * Log lines about a message carry source= uid= msgid= ticket=.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/agent.h"
#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/hours.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/addr.h"
#include "parsers/autoreply.h"
#include "parsers/dsn.h"
#include "parsers/lang.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"

#define LOOP_HEADER "X-Deskgate-Loop"

struct ingest {
	const struct config *config;
	struct store *store;
	struct mime_limits limits;
	int in_batch;
	int64_t fixed_now;

	struct thread_config *tc;
	struct rules *rules;
	struct ack_templates *templates;
	struct hours *hours;
	struct outbox *outbox;
	struct agent *agent; /* notifications, agents' replies */
	const char **own_addresses; /* support address and agents */
	size_t n_own_addresses;
};

/* What one message turned out to be, gathered before anything is written. */
struct ingest_msg {
	const unsigned char *raw;
	size_t len;
	const struct ingest_source *source;
	struct mime_message *msg;
	char key[CRYPTO_SHA256_HEX_LEN + 1];
	char raw_hex[CRYPTO_SHA256_HEX_LEN + 1];
	enum dsn_kind report_kind;
	struct dsn_report *report;
	struct thread_decision decision;
	struct rules_result *rules;
	char *visible;	      /* the text without quoted history and signature */
	size_t visible_len;
	int have_visible;
};

/* The new text of the mail, stripped once (quote_strip() is the costliest
   step of classification) for both the rules and the language. A text
   quote_strip() refuses is used whole. */
static const char *
visible_text(struct ingest_msg *im, size_t *len_r)
{
	if (!im->have_visible) {
		struct quote_result q;
		const char *ignored;
		const char *text = im->msg->text != NULL ? im->msg->text : "";
		if (quote_strip(text, im->msg->text_len, 0, &q, &ignored) == 0) {
			im->visible = q.text;
			im->visible_len = q.len;
		} else {
			im->visible = xstrndup(text, im->msg->text_len);
			im->visible_len = im->msg->text_len;
		}
		im->have_visible = 1;
	}
	*len_r = im->visible_len;
	return im->visible;
}

static int64_t
ingest_now(const struct ingest *ingest)
{
	return ingest->fixed_now != 0 ? ingest->fixed_now : (int64_t)time(NULL);
}

void
ingest_set_now(struct ingest *ingest, int64_t now)
{
	ingest->fixed_now = now;
}

int
ingest_init(const struct config *config, struct store *store, struct ingest **ingest_r,
	    const char **error_r)
{
	struct ingest *ingest = xcalloc(1, sizeof(*ingest));
	const struct config_limits *l = &config->limits;

	*ingest_r = NULL;
	ingest->config = config;
	ingest->store = store;
	ingest->limits.max_message_size = (size_t)l->max_message_size;
	ingest->limits.max_header_size = (size_t)l->max_header_size;
	ingest->limits.max_header_count = (size_t)l->max_header_count;
	ingest->limits.max_line_length = (size_t)l->max_line_length;
	ingest->limits.max_depth = (size_t)l->max_mime_depth;
	ingest->limits.max_parts = (size_t)l->max_mime_parts;
	ingest->limits.max_attachments = (size_t)l->max_attachments;
	ingest->limits.max_attachment_size = (size_t)l->max_attachment_size;
	ingest->limits.max_decoded_size = (size_t)l->max_decoded_size;
	ingest->limits.max_text_size = (size_t)l->max_text_size;

	if (thread_config_new(config, &ingest->tc, error_r) < 0 ||
	    rules_load_config(config, &ingest->rules, error_r) < 0 ||
	    ack_hours_from_config(config, &ingest->hours, error_r) < 0 ||
	    outbox_new(store, config, &ingest->outbox, error_r) < 0 ||
	    agent_new(config, ingest->tc, store, ingest->hours, &ingest->agent, error_r) < 0) {
		ingest_free(&ingest);
		return -1;
	}
	ingest->templates = ack_templates_new(config, NULL);
	ingest->own_addresses = xcalloc(config->n_agents + 1, sizeof(char *));
	ingest->own_addresses[ingest->n_own_addresses++] = config->support_address;
	for (size_t i = 0; i < config->n_agents; i++)
		ingest->own_addresses[ingest->n_own_addresses++] = config->agents[i].address;
	*ingest_r = ingest;
	return 0;
}

struct ingest *
ingest_new(const struct config *config, struct store *store)
{
	struct ingest *ingest;
	const char *error;
	if (ingest_init(config, store, &ingest, &error) < 0)
		fatal(78, "%s", error);
	return ingest;
}

void
ingest_free(struct ingest **ingestp)
{
	struct ingest *ingest = *ingestp;
	if (ingest == NULL)
		return;
	if (ingest->in_batch)
		store_rollback(ingest->store);
	thread_config_free(&ingest->tc);
	rules_free(&ingest->rules);
	ack_templates_free(&ingest->templates);
	hours_free(&ingest->hours);
	outbox_free(&ingest->outbox);
	agent_free(&ingest->agent);
	free(ingest->own_addresses);
	free(ingest);
	*ingestp = NULL;
}

int
ingest_reload_rules(struct ingest *ingest, const char **error_r)
{
	struct rules *rules;
	if (rules_load_config(ingest->config, &rules, error_r) < 0)
		return -1;
	rules_free(&ingest->rules);
	ingest->rules = rules;
	return 0;
}

int
ingest_batch_begin(struct ingest *ingest, const char **error_r)
{
	if (store_begin(ingest->store, error_r) < 0)
		return -1;
	ingest->in_batch = 1;
	return 0;
}

int
ingest_batch_commit(struct ingest *ingest, const char **error_r)
{
	ingest->in_batch = 0;
	if (store_commit(ingest->store, error_r) < 0) {
		store_rollback(ingest->store);
		return -1;
	}
	return 0;
}

void
ingest_batch_rollback(struct ingest *ingest)
{
	if (ingest->in_batch)
		store_rollback(ingest->store);
	ingest->in_batch = 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* Where the body starts: after the first empty line (CRLF or LF). */
static size_t
body_offset(const unsigned char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* The same message delivered twice (same Message-ID and content) must give
   the same key, while trace headers added on the way (Received,
   Delivered-To, Return-Path) must not matter: so hash the identifying
   headers and the body bytes, not the raw message. */
static void
dedupe_key(const struct mime_message *msg, const unsigned char *raw, size_t len,
	   char key_r[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256 *h = crypto_sha256_new();
	const char *date = mime_header_get(msg, "Date");
	const char *parts[] = {
		"deskgate-dedupe-v1",
		msg->message_id != NULL ? msg->message_id : "",
		msg->from.address != NULL ? msg->from.address : "",
		date != NULL ? date : "",
		msg->subject != NULL ? msg->subject : "",
	};
	for (size_t i = 0; i < N_ELEMENTS(parts); i++)
		crypto_sha256_update(h, parts[i], strlen(parts[i]) + 1);
	size_t off = body_offset(raw, len);
	crypto_sha256_update(h, raw + off, len - off);
	crypto_sha256_final(&h, key_r);
}

static char *
address_list_string(const struct mime_address_list *list)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < list->count; i++) {
		const struct mime_address *a = &list->items[i];
		if (a->address == NULL)
			continue;
		if (b.len > 0 && buf_puts(&b, ", ") < 0)
			break;
		int ret = (a->name != NULL && *a->name != '\0')
				  ? buf_printf(&b, "%s <%s>", a->name, a->address)
				  : buf_puts(&b, a->address);
		if (ret < 0)
			break;
	}
	return buf_steal(&b, NULL);
}

static char *
references_string(const struct mime_message *msg)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < msg->n_references; i++) {
		if ((b.len > 0 && buf_putc(&b, ' ') < 0) || buf_puts(&b, msg->references[i]) < 0)
			break;
	}
	return buf_steal(&b, NULL);
}

/* Only a valid addr-spec is ever answered or made a participant. */
static int
has_address(const char *address)
{
	return address != NULL && addr_spec_valid(address);
}

static int
is_own_address(const struct ingest *ingest, const char *address)
{
	for (size_t i = 0; i < ingest->n_own_addresses; i++)
		if (ingest->own_addresses[i] != NULL && strcasecmp(ingest->own_addresses[i], address) == 0)
			return 1;
	/* support+anything@domain is ours too. */
	int64_t ticket;
	enum thread_role role;
	const char *ignored;
	return thread_reply_address_parse(ingest->tc, address, &ticket, &role, &ignored) != 0;
}

/* An event on a ticket (printf-style detail). */
#define event(ctx, ticket_id, kind, error_r, ...) \
	store_event_addf((ctx)->store, ticket_id, kind, error_r, __VA_ARGS__)

static int
quarantine(struct ingest *ingest, const unsigned char *raw, size_t len,
	   const struct ingest_source *source, const char *reason, struct ingest_result *result,
	   const char **error_r)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	if (store_blob_put(ingest->store, STORE_BLOB_RAW, raw, len, hex, error_r) < 0)
		return -1;
	struct store_quarantine q = {
		.raw_sha256 = hex,
		.raw_size = (int64_t)len,
		.reason = reason,
		.source = source->label,
		.status = "held",
	};
	int existed = 0;
	memset(result, 0, sizeof(*result));
	if (store_quarantine_insert(ingest->store, &q, &result->quarantine_id, &existed, error_r) < 0)
		return -1;
	result->outcome = INGEST_QUARANTINED;
	snprintf(result->reason, sizeof(result->reason), "%s", reason);
	if (!existed && event(ingest, 0, "quarantined", error_r, "quarantine #%lld: %s",
			      (long long)result->quarantine_id, reason) < 0)
		return -1;
	return 0;
}

/* ---- reports -------------------------------------------------------------- */

/* A bounce, delivery or feedback report: never a ticket, never answered.
   Matched to the outbox message it reports on (which the outbox marks
   failed and notes on its ticket); recorded as an event either way, with
   the raw mail kept. */
static int
handle_report(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
	      const char **error_r)
{
	const struct dsn_report *r = im->report;
	int64_t outbox_id = 0;
	int matched = outbox_apply_report(ingest->outbox, r, ingest_now(ingest), &outbox_id, error_r);
	if (matched < 0)
		return -1;
	const struct dsn_recipient *rcpt = r->n_recipients > 0 ? &r->recipients[0] : NULL;
	result->outcome = INGEST_REPORT;
	snprintf(result->reason, sizeof(result->reason), "%s report (%s)%s",
		 dsn_kind_name(r->kind), r->format != NULL ? r->format : "?",
		 matched ? "" : ", no outbox message matched");
	return event(ingest, 0, "report", error_r,
		     "%s report (%s) from %s for %s status %s%s%s; outbox #%lld; raw %s",
		     dsn_kind_name(r->kind), r->format != NULL ? r->format : "?",
		     im->msg->from.address != NULL ? im->msg->from.address : "<>",
		     rcpt != NULL && rcpt->address != NULL ? rcpt->address : "?",
		     rcpt != NULL && rcpt->status[0] != '\0' ? rcpt->status : "-",
		     rcpt != NULL && rcpt->diagnostic != NULL ? ": " : "",
		     rcpt != NULL && rcpt->diagnostic != NULL ? rcpt->diagnostic : "",
		     (long long)outbox_id, im->raw_hex);
}

/* ---- acknowledgement ------------------------------------------------------ */

/* Why no acknowledgement may go out for this message, or NULL when one may.
   The loop guard first (never answer a machine), then the rate limits. */
static const char *
ack_refusal(struct ingest *ingest, struct ingest_msg *im, int followup, const char **error_r,
	    int *failed_r)
{
	const struct config_ack *cfg = &ingest->config->ack;
	const struct mime_message *msg = im->msg;
	const char *why = NULL;
	int64_t now = ingest_now(ingest), n;

	*failed_r = 0;
	if (!cfg->enabled)
		return "acknowledgements are off ([ack] enabled = no)";
	if (!has_address(msg->from.address))
		return "no sender address";
	if (im->report_kind == DSN_AUTO_REPLY)
		return "the mail is an automatic reply";
	if (im->decision.suppress_ack)
		return "the same text was received again";
	if (im->decision.role != THREAD_ROLE_CUSTOMER)
		return "the sender is not the customer";
	if (im->rules != NULL && im->rules->no_ack)
		return "a rule said no-ack";
	struct autoreply_policy policy = {
		.loop_header = LOOP_HEADER,
		.loop_value = ingest->config->hostname,
		.msgid_prefix = "dg.",
		.msgid_domain = ingest->config->hostname,
		.own_addresses = ingest->own_addresses,
		.n_own_addresses = ingest->n_own_addresses,
		.envelope_sender = im->source->envelope_sender != NULL ? im->source->envelope_sender
								       : msg->return_path,
	};
	if (autoreply_suppress(msg, &policy, &why))
		return why;

	if (store_outbox_count_recent(ingest->store, msg->from.address, "ack", now - 3600, &n,
				      error_r) < 0)
		goto failed;
	if ((uint64_t)n >= cfg->max_per_sender_hour)
		return errf("rate limit: %lld acknowledgements to this sender in the last hour",
			    (long long)n);
	if (store_outbox_count_recent(ingest->store, msg->from.address, "ack", now - 86400, &n,
				      error_r) < 0)
		goto failed;
	if ((uint64_t)n >= cfg->max_per_sender_day)
		return errf("rate limit: %lld acknowledgements to this sender in the last day",
			    (long long)n);
	if (followup) {
		/* A follow-up is acknowledged at most once per period: any
		   acknowledgement to this customer within it counts. */
		if (store_outbox_count_recent(ingest->store, msg->from.address, "ack",
					      now - (int64_t)cfg->followup_period, &n, error_r) < 0)
			goto failed;
		if (n > 0)
			return "follow-up: already acknowledged within [ack] followup_period";
	}
	return NULL;
failed:
	*failed_r = 1;
	return NULL;
}

/* Render the acknowledgement for a ticket and queue it in the outbox, with
   a message row of direction "out" so the ticket shows what was sent. */
static int
queue_ack(struct ingest *ingest, struct ingest_msg *im, const struct store_ticket *t,
	  struct ingest_result *result, const char **error_r)
{
	const struct mime_message *msg = im->msg;
	struct store_field *sf = NULL;
	size_t n_sf = 0;
	int ret = -1;

	if (store_ticket_field_list(ingest->store, t->id, &sf, &n_sf, error_r) < 0)
		return -1;
	struct ack_field *fields = xcalloc(n_sf + 1, sizeof(*fields));
	for (size_t i = 0; i < n_sf; i++) {
		fields[i].name = sf[i].name;
		fields[i].value = sf[i].value;
	}
	struct ack_input in = {
		.ticket_id = t->id,
		.subject = t->subject,
		.customer_name = msg->from.name,
		.customer_address = msg->from.address,
		.category = t->category,
		.priority = t->priority,
		.language = ack_language(ingest->config, t->language),
		.fields = fields,
		.n_fields = n_sf,
		.received_at = ingest_now(ingest),
	};
	int64_t due = 0;
	struct tmpl_value *data = ack_data_build(ingest->config, ingest->hours, &in, &due);
	struct ack_mail mail = { 0 };
	char *msgid = NULL, *subject = NULL;
	unsigned char *raw = NULL;
	size_t raw_len = 0;

	if (ack_render(ingest->templates, in.category, in.language, data, &mail, error_r) < 0) {
		/* A broken template must not lose the customer's mail: the
		   ticket is stored, the failure is an event and a log line. */
		log_error("ticket=%lld: acknowledgement not sent: %s", (long long)t->id, *error_r);
		ret = event(ingest, t->id, "ack", error_r, "not sent: template error: %s", *error_r);
		goto out;
	}
	struct ack_envelope env = {
		.ticket_id = t->id,
		.to_name = msg->from.name,
		.to_address = msg->from.address,
		.in_reply_to = msg->message_id,
		.references = (const char *const *)msg->references,
		.n_references = msg->n_references,
		.date = ingest_now(ingest),
	};
	if (ack_compose(ingest->config, ingest->tc, &env, &mail, &msgid, &subject, &raw, &raw_len,
			error_r) < 0) {
		log_error("ticket=%lld: acknowledgement not composed: %s", (long long)t->id, *error_r);
		ret = event(ingest, t->id, "ack", error_r, "not sent: %s", *error_r);
		goto out;
	}
	const char *rcpt[] = { msg->from.address };
	if (outbox_queue(ingest->store, ingest->config, t->id, "ack", msgid, raw, raw_len, rcpt, 1,
			 ingest_now(ingest), &result->ack_outbox_id, error_r) < 0)
		goto out;

	char *key = xasprintf("out:%s", msgid);
	char *to = xstrdup(msg->from.address);
	struct store_message m = {
		.ticket_id = t->id,
		.direction = "out",
		.message_id = msgid,
		.in_reply_to = msg->message_id,
		.from_address = ingest->config->support_address,
		.from_name = ingest->config->support_name,
		.to = to,
		.subject = subject,
		.date = ingest_now(ingest),
		.text = mail.text,
		.dedupe_key = key,
		.mailbox = "outbox",
	};
	/* No raw blob: the outbox row holds the exact bytes. */
	m.raw_size = (int64_t)raw_len;
	ret = store_message_insert(ingest->store, &m, NULL, error_r);
	free(key);
	free(to);
	if (ret < 0)
		goto out;
	if (due > 0 && t->due_at == 0 &&
	    store_ticket_set_time(ingest->store, t->id, "due_at", due, error_r) < 0) {
		ret = -1;
		goto out;
	}
	ret = event(ingest, t->id, "ack", error_r, "queued as outbox #%lld (%s, %s, template %s)",
		    (long long)result->ack_outbox_id, in.category, in.language, mail.template);
out:
	free(raw);
	free(msgid);
	free(subject);
	ack_mail_clear(&mail);
	tmpl_value_free(&data);
	free(fields);
	store_fields_free(&sf, n_sf);
	return ret;
}

static int
maybe_ack(struct ingest *ingest, struct ingest_msg *im, int64_t ticket_id, int followup,
	  struct ingest_result *result, const char **error_r)
{
	int failed;
	const char *why = ack_refusal(ingest, im, followup, error_r, &failed);
	if (failed)
		return -1;
	if (why != NULL) {
		snprintf(result->reason, sizeof(result->reason), "no acknowledgement: %s", why);
		log_info("ticket=%lld msgid=%s: no acknowledgement: %s", (long long)ticket_id,
			 log_safe(im->msg->message_id, 200), why);
		return event(ingest, ticket_id, "ack", error_r, "not sent: %s", why);
	}
	struct store_ticket *t;
	if (store_ticket_get(ingest->store, ticket_id, &t, error_r) <= 0)
		return -1;
	int ret = queue_ack(ingest, im, t, result, error_r);
	store_ticket_free(&t);
	return ret;
}

/* ---- storing a message ------------------------------------------------------ */

static int
store_attachments(struct ingest *ingest, const struct mime_message *msg, int64_t message_row_id,
		  const char **error_r)
{
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		char hex[CRYPTO_SHA256_HEX_LEN + 1];
		int ret = store_blob_put(ingest->store, STORE_BLOB_ATTACHMENT, a->data, a->size, hex,
					 error_r);
		if (ret < 0)
			return ret;
		struct store_attachment att = {
			.message_row_id = message_row_id,
			.filename = a->filename,
			.content_type = a->content_type,
			.content_id = a->content_id,
			.sha256 = hex,
			.size = (int64_t)a->size,
			.is_inline = a->is_inline,
		};
		ret = store_attachment_insert(ingest->store, &att, NULL, error_r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Fields the rules extracted, and which rules fired. On a follow-up a
   field already known is kept (an agent may have corrected it). */
static int
store_classification(struct ingest *ingest, struct ingest_msg *im, int64_t ticket_id,
		     int64_t message_row_id, int followup, const char **error_r)
{
	const struct rules_result *rr = im->rules;
	struct store_field *known = NULL;
	size_t n_known = 0;
	int ret = 0;

	if (rr == NULL)
		return 0;
	if (followup && (ret = store_ticket_field_list(ingest->store, ticket_id, &known, &n_known,
						       error_r)) < 0)
		return ret;
	for (size_t i = 0; i < rr->n_fields && ret == 0; i++) {
		int have = 0;
		for (size_t k = 0; k < n_known; k++)
			have |= strcmp(known[k].name, rr->fields[i].name) == 0;
		if (!have)
			ret = store_ticket_field_set(ingest->store, ticket_id, rr->fields[i].name,
						     rr->fields[i].value, error_r);
	}
	store_fields_free(&known, n_known);
	if (ret == 0 && !followup && rr->n_tags > 0) {
		struct buf b;
		buf_init(&b, 4096);
		for (size_t i = 0; i < rr->n_tags; i++)
			if ((b.len > 0 && buf_puts(&b, ",") < 0) || buf_puts(&b, rr->tags[i]) < 0)
				break;
		ret = store_ticket_field_set(ingest->store, ticket_id, "tags", buf_cstr(&b), error_r);
		buf_free(&b);
	}
	if (ret == 0 && !followup) {
		/* What the rules decided, for `rules replay` (agents change
		   the ticket afterwards). */
		char *verdict = rules_verdict_format(rr);
		ret = store_event_add(ingest->store, ticket_id, "classified", verdict, error_r);
		free(verdict);
	}
	for (size_t i = 0; i < rr->n_hits && ret == 0; i++) {
		char *summary = rules_hit_summary(&rr->hits[i]);
		ret = store_rule_hit_add(ingest->store, ticket_id, message_row_id, rr->hits[i].rule,
					 summary, error_r);
		free(summary);
	}
	for (size_t i = 0; i < rr->n_limit_hits && ret == 0; i++) {
		const struct rules_limit_hit *lh = &rr->limit_hits[i];
		log_warnx("ticket=%lld msgid=%s: rule %s on %s hit the %s: counted as no match",
			  (long long)ticket_id, log_safe(im->msg->message_id, 200), lh->rule,
			  lh->target, lh->why);
		ret = event(ingest, ticket_id, "warning", error_r,
			    "rule %s on %s hit the %s: counted as no match", lh->rule, lh->target,
			    lh->why);
	}
	return ret;
}

/* The language to answer in: Content-Language, else the new text of the
   mail (quoted history left out), else the configured default. */
static const char *
reply_language(struct ingest *ingest, struct ingest_msg *im)
{
	size_t len;
	const char *text = visible_text(im, &len);
	return ack_language(ingest->config,
			    lang_detect(im->msg->content_language, text, len, NULL, NULL));
}

static int
add_participants(struct ingest *ingest, const struct mime_message *msg, int64_t ticket_id,
		 const char *sender_role, const char **error_r)
{
	int ret;
	if (has_address(msg->from.address) &&
	    (ret = store_participant_add(ingest->store, ticket_id, msg->from.address,
					 msg->from.name, sender_role, error_r)) < 0)
		return ret;
	/* Colleagues the customer copied in take part too (not our own
	   addresses, and only on the customer's own mail). */
	if (strcmp(sender_role, "customer") != 0)
		return 0;
	const struct mime_address_list *lists[] = { &msg->to, &msg->cc };
	for (size_t l = 0; l < N_ELEMENTS(lists); l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const struct mime_address *a = &lists[l]->items[i];
			if (!has_address(a->address) || is_own_address(ingest, a->address) ||
			    (msg->from.address != NULL && strcasecmp(a->address, msg->from.address) == 0))
				continue;
			ret = store_participant_add(ingest->store, ticket_id, a->address, a->name,
						    "cc", error_r);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int
store_message_row(struct ingest *ingest, struct ingest_msg *im, int64_t ticket_id,
		  const char *direction, int64_t *row_r, const char **error_r)
{
	const struct mime_message *msg = im->msg;
	char *to = address_list_string(&msg->to);
	char *cc = address_list_string(&msg->cc);
	char *refs = references_string(msg);
	struct store_message m = {
		.ticket_id = ticket_id,
		.direction = direction,
		.message_id = msg->message_id,
		.in_reply_to = msg->in_reply_to,
		.references = refs,
		.from_address = msg->from.address,
		.from_name = msg->from.name,
		.to = to,
		.cc = cc,
		.subject = msg->subject,
		.date = msg->has_date ? msg->date : 0,
		.text = msg->text != NULL ? msg->text : "",
		.raw_sha256 = im->raw_hex,
		.raw_size = (int64_t)im->len,
		.dedupe_key = im->key,
		.mailbox = im->source->mailbox != NULL ? im->source->mailbox : im->source->label,
		.uid = im->source->uid,
	};
	int ret = store_message_insert(ingest->store, &m, row_r, error_r);
	free(to);
	free(cc);
	free(refs);
	return ret;
}

static int
record_thread_event(struct ingest *ingest, const struct thread_decision *d, int64_t ticket_id,
		    const char **error_r)
{
	if (d->event_kind == NULL)
		return 0;
	int ret = store_event_add(ingest->store, ticket_id, d->event_kind, d->event_detail, error_r);
	if (ret == 0 && d->event_ticket != 0 && d->event_ticket != ticket_id)
		ret = store_event_add(ingest->store, d->event_ticket, d->event_kind, d->event_detail,
				      error_r);
	return ret;
}

static int
open_ticket(struct ingest *ingest, struct ingest_msg *im, int64_t *ticket_id_r,
	    const char **error_r)
{
	const struct mime_message *msg = im->msg;
	const struct rules_result *rr = im->rules;
	struct store_ticket t = {
		.subject = (msg->subject != NULL && *msg->subject != '\0') ? msg->subject
									   : "(no subject)",
		.status = "new",
		.category = rr != NULL ? rr->category : "other",
		.priority = rr != NULL ? rr->priority : "normal",
		.queue = rr != NULL ? rr->queue : NULL,
		.customer_address = has_address(msg->from.address) ? msg->from.address : NULL,
		.customer_name = msg->from.name,
		.language = reply_language(ingest, im),
	};
	int ret = store_ticket_insert(ingest->store, &t, ticket_id_r, error_r);
	if (ret == 0 && im->decision.linked_ticket != 0 &&
	    (ret = event(ingest, *ticket_id_r, "linked", error_r, "follows closed ticket %lld",
			 (long long)im->decision.linked_ticket)) == 0)
		ret = event(ingest, im->decision.linked_ticket, "linked", error_r,
			    "continued in ticket %lld", (long long)*ticket_id_r);
	return ret;
}

static int
store_message_unit(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
		   const char **error_r)
{
	const struct mime_message *msg = im->msg;
	struct thread_decision *d = &im->decision;
	int64_t ticket_id = d->ticket_id, row;
	int followup = ticket_id != 0;
	struct agent_reply *reply = NULL;
	int ret = -1;

	if (!followup) {
		if ((ret = open_ticket(ingest, im, &ticket_id, error_r)) < 0)
			return ret;
		result->outcome = INGEST_NEW_TICKET;
	} else {
		result->outcome = INGEST_APPENDED;
		if (d->reopen &&
		    ((ret = store_ticket_set(ingest->store, ticket_id, "status", "open", error_r)) < 0 ||
		     (ret = event(ingest, ticket_id, "reopened", error_r, "by a reply from %s",
				  msg->from.address != NULL ? msg->from.address : "?")) < 0))
			return ret;
	}
	result->ticket_id = ticket_id;

	const char *role = thread_role_name(d->role);
	const char *direction = "in";
	char *full_text = im->msg->text;
	if (d->role == THREAD_ROLE_AGENT && d->agent_trusted) {
		/* A trusted agent's mail is stored as what it says: the new
		   text without quoted history, signature and commands, as
		   "agent" when it goes to the customer, else as a "note". */
		if (agent_reply_prepare(ingest->agent, ticket_id, msg,
					im->report_kind == DSN_AUTO_REPLY, &reply, error_r) < 0)
			return -1;
		direction = agent_reply_direction(reply);
		im->msg->text = (char *)agent_reply_text(reply);
	}
	ret = store_message_row(ingest, im, ticket_id, direction, &row, error_r);
	im->msg->text = full_text;
	if (ret < 0)
		goto out;
	result->message_id = row;
	if ((!followup || d->add_participant) &&
	    (ret = add_participants(ingest, msg, ticket_id, role, error_r)) < 0)
		goto out;
	if ((ret = store_attachments(ingest, msg, row, error_r)) < 0 ||
	    (ret = store_classification(ingest, im, ticket_id, row, followup, error_r)) < 0 ||
	    (ret = record_thread_event(ingest, d, ticket_id, error_r)) < 0)
		goto out;
	ret = event(ingest, ticket_id, followup ? "message" : "created", error_r,
		    "%s from %s (%s, %zu attachments)%s%s",
		    followup ? (im->report_kind == DSN_AUTO_REPLY ? "automatic reply" : "reply")
			     : "opened",
		    msg->from.address != NULL ? msg->from.address : "(no sender)", d->reason,
		    msg->n_attachments, im->rules != NULL && !followup ? ", category " : "",
		    im->rules != NULL && !followup ? im->rules->category : "");
	for (size_t i = 0; i < msg->n_warnings && ret == 0; i++)
		ret = store_event_add(ingest->store, ticket_id, "warning", msg->warnings[i], error_r);
	if (ret < 0)
		goto out;
	/* The acknowledgement first: it sets the promised time the agents'
	   notification shows. */
	if ((ret = maybe_ack(ingest, im, ticket_id, followup, result, error_r)) < 0)
		goto out;
	struct agent_inbound in = {
		.ticket_id = ticket_id,
		.message_row_id = row,
		.msg = msg,
		.role = d->role,
		.rules = im->rules,
		.auto_reply = im->report_kind == DSN_AUTO_REPLY,
		.duplicate = d->suppress_ack,
		.reopened = d->reopen,
		.now = ingest_now(ingest),
	};
	if (reply != NULL)
		ret = agent_reply_apply(ingest->agent, &in, reply, error_r);
	else if (!followup)
		ret = agent_notify_new_ticket(ingest->agent, &in, error_r);
	else
		ret = agent_notify_update(ingest->agent, &in, error_r);
out:
	agent_reply_free(&reply);
	return ret;
}

/* store_message_unit() as one savepoint: when the store refuses this
   message's data (STORE_DATA_BAD: a constraint on hostile input, a value
   too large) rather than failing as a store, the unit is undone and the
   message quarantined, so that it cannot block the mailbox by being
   retried forever. */
static int
store_message_guarded(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
		      const char **error_r)
{
	if (store_unit_begin(ingest->store, error_r) < 0)
		return -1;
	int ret = store_message_unit(ingest, im, result, error_r);
	if (ret == 0)
		return store_unit_end(ingest->store, error_r);
	if (ret != STORE_DATA_BAD) {
		const char *ignored;
		(void)store_unit_undo(ingest->store, &ignored);
		return -1;
	}
	char reason[256];
	snprintf(reason, sizeof(reason), "store refused the message: %s", *error_r);
	if (store_unit_undo(ingest->store, error_r) < 0)
		return -1;
	return quarantine(ingest, im->raw, im->len, im->source, reason, result, error_r);
}

static int
classify(struct ingest *ingest, struct ingest_msg *im)
{
	if (ingest->rules == NULL)
		return 0;
	struct rules_input *in = rules_input_from_mime(im->msg, im->source->mailbox);
	in->body_new = visible_text(im, &in->body_new_len);
	rules_classify(ingest->rules, in, &im->rules);
	rules_input_free(&in);
	return 0;
}

static int
ingest_parsed(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
	      const char **error_r)
{
	int64_t message_id, ticket_id;
	int ret = store_message_find_dedupe(ingest->store, im->key, &message_id, &ticket_id, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0) {
		result->outcome = INGEST_DUPLICATE;
		result->ticket_id = ticket_id;
		result->message_id = message_id;
		return 0;
	}
	if (store_blob_put(ingest->store, STORE_BLOB_RAW, im->raw, im->len, im->raw_hex, error_r) < 0)
		return -1;

	im->report_kind = dsn_analyze(im->msg, &im->report);
	if (im->report_kind != DSN_NONE && im->report_kind != DSN_AUTO_REPLY)
		return handle_report(ingest, im, result, error_r);

	thread_config_set_now(ingest->tc, ingest_now(ingest));
	if (thread_resolve(ingest->store, ingest->tc, im->msg, &im->decision, error_r) < 0)
		return -1;
	if (im->report_kind == DSN_AUTO_REPLY && im->decision.ticket_id == 0) {
		/* An out-of-office that answers nothing of ours: no ticket. */
		result->outcome = INGEST_REPORT;
		snprintf(result->reason, sizeof(result->reason), "automatic reply, not a ticket");
		return event(ingest, 0, "report", error_r,
			     "automatic reply from %s not threaded to a ticket; raw %s",
			     im->msg->from.address != NULL ? im->msg->from.address : "<>",
			     im->raw_hex);
	}
	if (im->decision.ticket_id == 0 || im->decision.role == THREAD_ROLE_CUSTOMER)
		classify(ingest, im);
	if (im->decision.ticket_id == 0 && im->rules != NULL && im->rules->spam) {
		struct buf b;
		buf_init(&b, 200);
		for (size_t i = 0; i < im->rules->n_hits; i++)
			if (buf_printf(&b, "%s%s", i > 0 ? ", " : "", im->rules->hits[i].rule) < 0)
				break;
		char reason[256];
		snprintf(reason, sizeof(reason), "spam: marked by the rules (fired: %s)", buf_cstr(&b));
		buf_free(&b);
		return quarantine(ingest, im->raw, im->len, im->source, reason, result, error_r);
	}
	return store_message_guarded(ingest, im, result, error_r);
}

static int
ingest_one(struct ingest *ingest, const unsigned char *raw, size_t len,
	   const struct ingest_source *source, struct ingest_result *result, const char **error_r)
{
	struct ingest_msg im = { .raw = raw, .len = len, .source = source };
	const char *why;
	int ret;

	if (len > ingest->limits.max_message_size) {
		why = errf("limit: max_message_size %zu exceeded (%zu bytes)",
			   ingest->limits.max_message_size, len);
		return quarantine(ingest, raw, len, source, why, result, error_r);
	}
	if (mime_parse(raw, len, &ingest->limits, &im.msg, &why) < 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s", why);
		mime_message_free(&im.msg);
		return quarantine(ingest, raw, len, source, reason, result, error_r);
	}
	dedupe_key(im.msg, raw, len, im.key);
	ret = ingest_parsed(ingest, &im, result, error_r);
	thread_decision_clear(&im.decision);
	rules_result_free(&im.rules);
	free(im.visible);
	dsn_report_free(&im.report);
	mime_message_free(&im.msg);
	return ret;
}

static void
log_result(const struct ingest_source *source, const struct ingest_result *result)
{
	switch (result->outcome) {
	case INGEST_NEW_TICKET:
	case INGEST_APPENDED:
		log_info("source=%s uid=%u ticket=%lld message=%lld: %s%s", source->label,
			 source->uid, (long long)result->ticket_id, (long long)result->message_id,
			 result->outcome == INGEST_NEW_TICKET ? "new ticket" : "appended",
			 result->ack_outbox_id != 0 ? ", acknowledgement queued" : "");
		break;
	case INGEST_DUPLICATE:
		log_info("source=%s uid=%u ticket=%lld: duplicate of message %lld, skipped",
			 source->label, source->uid, (long long)result->ticket_id,
			 (long long)result->message_id);
		break;
	case INGEST_QUARANTINED:
		log_warnx("source=%s uid=%u quarantine=%lld: %s", source->label, source->uid,
			  (long long)result->quarantine_id, result->reason);
		break;
	case INGEST_REPORT:
		log_info("source=%s uid=%u: %s", source->label, source->uid, result->reason);
		break;
	}
}

int
ingest_message(struct ingest *ingest, const unsigned char *raw, size_t len,
	       const struct ingest_source *source, struct ingest_result *result,
	       const char **error_r)
{
	int own_txn = !ingest->in_batch;

	memset(result, 0, sizeof(*result));
	if (own_txn && store_begin(ingest->store, error_r) < 0)
		return -1;
	int ret = ingest_one(ingest, raw, len, source, result, error_r);
	if (ret == 0 && source->mailbox != NULL && source->uid != 0)
		ret = store_mailbox_set(ingest->store, source->mailbox, source->uidvalidity,
					source->uid, error_r);
	if (ret < 0) {
		/* Inside a batch the caller rolls the whole batch back. */
		if (own_txn)
			store_rollback(ingest->store);
		return -1;
	}
	if (own_txn && store_commit(ingest->store, error_r) < 0) {
		store_rollback(ingest->store);
		return -1;
	}
	log_result(source, result);
	return 0;
}

int
ingest_retry_quarantined(struct ingest *ingest, int64_t quarantine_id,
			 struct ingest_result *result, const char **error_r)
{
	struct store_quarantine *q;
	unsigned char *raw;
	size_t len;

	memset(result, 0, sizeof(*result));
	int ret = store_quarantine_get(ingest->store, quarantine_id, &q, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = errf("no quarantined message #%lld", (long long)quarantine_id);
		return -1;
	}
	if (store_blob_get(ingest->store, STORE_BLOB_RAW, q->raw_sha256, &raw, &len, error_r) < 0) {
		store_quarantine_free(&q);
		return -1;
	}
	struct ingest_source source = { .label = q->source };
	if (store_begin(ingest->store, error_r) < 0) {
		free(raw);
		store_quarantine_free(&q);
		return -1;
	}
	ret = ingest_one(ingest, raw, len, &source, result, error_r);
	if (ret == 0 && result->outcome != INGEST_QUARANTINED)
		ret = store_quarantine_set_status(ingest->store, quarantine_id, "released",
						  result->ticket_id, error_r);
	if (ret == 0)
		ret = store_commit(ingest->store, error_r);
	if (ret < 0)
		store_rollback(ingest->store);
	else
		log_result(&source, result);
	free(raw);
	store_quarantine_free(&q);
	return ret;
}
