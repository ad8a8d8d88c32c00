/*
 * ingest: see ingest.h. The pipeline for one message (docs/pipeline.md):
 *   1. parse: the size check (an oversized message is quarantined
 *      unparsed), then mime_parse(); a parse failure or a limit is a
 *      quarantine;
 *   2. the dedupe key (Message-ID + origin headers + body bytes): a message
 *      already stored is a duplicate and writes nothing but the checkpoint;
 *   3. recognise: reports (bounces, delivery and feedback reports) never
 *      become tickets: they are matched to the outbox message they report
 *      on; our own mail coming back is a loop event, nothing else; an
 *      automatic answer to our mail is kept but sends nothing (loop.c);
 *      automatic replies are marked;
 *   4. thread (thread_resolve: signed reply address, references from a
 *      participant, subject tag from a participant, else a new ticket);
 *   5. classify (rules) a new ticket or a customer's follow-up; spam is
 *      quarantined;
 *   6. the HOOK_CLASSIFIED steps (they may hold the message);
 *   7. store, as one unit of the transaction: the raw blob (as a
 *      CLASSIFIED step left it), ticket, message,
 *      participants, attachments, fields, rule hits, events; then the
 *      HOOK_STORED steps (acknowledgement, notifications, agent replies);
 *   8. the mailbox checkpoint, the commit, and the HOOK_COMMITTED steps.
 * What the steps do is theirs (hook.h); this file only orders them.
 * Log lines about a message carry source= mailbox= uid= msgid= ticket=.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/agent.h"
#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/deskmail.h"
#include "gateway/desklist.h"
#include "gateway/hook.h"
#include "gateway/hours.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/loop.h"
#include "gateway/metrics.h"
#include "gateway/outbox.h"
#include "gateway/danger.h"
#include "gateway/redact.h"
#include "gateway/reply.h"
#include "gateway/survey.h"
#include "gateway/escalate.h"
#include "gateway/route.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/addr.h"
#include "parsers/dsn.h"
#include "parsers/lang.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/clock.h"
#include "base/util.h"

/* What is kept of a message handled inside a batch until the batch is
   committed, for the HOOK_COMMITTED steps. */
struct batch {
	char *source;
	char *mailbox;
	uint32_t uid;
	char *message_id;
	char *logctx;
	int64_t now;
	struct ingest_result result;
};

struct ingest {
	const struct config *config;
	struct store *store;
	struct mime_limits limits;
	int in_batch;
	int64_t fixed_now;

	struct thread_config *tc;
	struct rules *rules;
	struct hours *hours;
	struct outbox *outbox;
	struct deskmail *dm;
	struct loop *loop;
	struct route *route;
	struct ack *ack;
	struct agent *agent;
	struct reply_handler *replies;
	struct redact *redact;
	struct danger *danger;
	struct desklist *desk;
	struct survey *survey;
	struct escalate *escalate; /* the "sla" step */
	struct hook_list *hooks;

	struct batch *batch; /* messages of the open batch */
	size_t n_batch;
};

/* What one message turned out to be, gathered before anything is written. */
struct ingest_msg {
	const unsigned char *raw;
	size_t len;
	const struct ingest_source *source;
	int released;	      /* an operator released it: not spam */
	struct mime_message *msg;
	char key[CRYPTO_SHA256_HEX_LEN + 1];
	char raw_hex[CRYPTO_SHA256_HEX_LEN + 1];
	enum dsn_kind report_kind;
	struct dsn_report *report;
	struct thread_decision decision;
	struct rules_result *rules;
	struct loop_verdict loop;
	char *visible;	      /* the text without quoted history and signature */
	size_t visible_len;
	int have_visible;
	char *logctx;	      /* "source=... mailbox=... uid=... msgid=..." */
	struct hook_event ev; /* what the steps see */
};

static int64_t
ingest_now(const struct ingest *ingest)
{
	return ingest->fixed_now != 0 ? ingest->fixed_now : clock_now();
}

void
ingest_set_now(struct ingest *ingest, int64_t now)
{
	ingest->fixed_now = now;
}

void
ingest_mime_limits(const struct config *config, struct mime_limits *limits)
{
	const struct config_limits *l = &config->limits;
	mime_limits_default(limits);
	limits->max_message_size = (size_t)l->max_message_size;
	limits->max_header_size = (size_t)l->max_header_size;
	limits->max_header_count = (size_t)l->max_header_count;
	limits->max_line_length = (size_t)l->max_line_length;
	limits->max_depth = (size_t)l->max_mime_depth;
	limits->max_parts = (size_t)l->max_mime_parts;
	limits->max_attachments = (size_t)l->max_attachments;
	limits->max_attachment_size = (size_t)l->max_attachment_size;
	limits->max_decoded_size = (size_t)l->max_decoded_size;
	limits->max_text_size = (size_t)l->max_text_size;
}

/* ---- the log line of every message (a HOOK_COMMITTED step) ------------------------ */

static int
log_step(void *context, struct hook_event *ev, const char **error_r)
{
	static const char *const outcome_names[INGEST_OUTCOMES] = {
		"new_ticket", "appended", "duplicate", "quarantined", "report"
	};
	(void)context;
	(void)error_r;
	metrics_ingested(outcome_names[ev->outcome], ev->reason); /* committed: counted once */
	switch ((enum ingest_outcome)ev->outcome) {
	case INGEST_NEW_TICKET:
	case INGEST_APPENDED:
		log_info("%s ticket=%lld message=%lld: %s%s", ev->logctx, (long long)ev->ticket_id,
			 (long long)ev->message_row_id,
			 ev->outcome == INGEST_NEW_TICKET ? "new ticket" : "appended",
			 ev->ack_outbox_id != 0 ? ", acknowledgement queued" : "");
		break;
	case INGEST_DUPLICATE:
		log_info("%s ticket=%lld: duplicate of message %lld, skipped", ev->logctx,
			 (long long)ev->ticket_id, (long long)ev->message_row_id);
		break;
	case INGEST_QUARANTINED:
		log_warnx("%s quarantine=%lld: %s", ev->logctx, (long long)ev->quarantine_id,
			  ev->reason);
		break;
	case INGEST_REPORT:
		log_info("%s ticket=%lld: %s", ev->logctx, (long long)ev->ticket_id, ev->reason);
		break;
	}
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int
ingest_init(const struct config *config, struct store *store, struct ingest **ingest_r,
	    const char **error_r)
{
	struct ingest *ingest = xcalloc(1, sizeof(*ingest));

	*ingest_r = NULL;
	ingest->config = config;
	ingest->store = store;
	ingest_mime_limits(config, &ingest->limits);
	ingest->hooks = hook_list_new();

	if (thread_config_new(config, &ingest->tc, error_r) < 0 ||
	    rules_load_config(config, &ingest->rules, error_r) < 0 ||
	    ack_hours_from_config(config, &ingest->hours, error_r) < 0 ||
	    outbox_new(store, config, &ingest->outbox, error_r) < 0 ||
	    deskmail_new(config, ingest->tc, store, &ingest->dm, error_r) < 0 ||
	    route_new(config, &ingest->route, error_r) < 0 ||
	    ack_new(config, store, ingest->dm, ingest->hours, &ingest->ack, error_r) < 0) {
		ingest_free(&ingest);
		return -1;
	}
	route_set_rules(ingest->route, ingest->rules);
	for (size_t i = 0; i < config->selfhelp.n_extra; i++) {
		const struct config_pair *p = &config->selfhelp.extra[i];
		if (!route_category_known(ingest->route, p->key)) {
			*error_r = errf("%s:%d: [selfhelp] %s: no rule, [queue] or acknowledgement "
					"category is called %s",
					config->path != NULL ? config->path : "configuration", p->line,
					p->key, p->key);
			ingest_free(&ingest);
			return -1;
		}
	}
	ingest->loop = loop_new(config, ingest->tc, ingest->outbox);
	ingest->agent = agent_new(config, store, ingest->dm, ingest->route, ingest->hours);
	ingest->replies = reply_handler_new(config, store, ingest->dm, ingest->route, ingest->agent);
	ingest->desk = desklist_new(config, store, ingest->dm, ingest->route, ingest->tc,
				    ingest->agent);
	ingest->survey = survey_new(config, store, ingest->dm, ingest->tc);
	if (escalate_new(config, store, ingest->dm, &ingest->escalate, error_r) < 0) {
		ingest_free(&ingest);
		return -1;
	}

	if (config->n_agents > 0 && thread_auth_mode(ingest->tc) == THREAD_AUTH_NO)
		log_warnx("[threading] require_auth_results = no: anyone who knows an agent's signed "
			  "reply address can act as that agent; let the MTA add "
			  "Authentication-Results (authserv_id %s) and use auto or yes",
			  config->threading.authserv_id != NULL ? config->threading.authserv_id
								: config->hostname);

	/* The built-in steps, in their documented order (hook.h). Secrets
	   first: nothing of a message is written or sent before its secrets
	   are redacted, and its ticket is marked before it is acknowledged. */
	ingest->redact = redact_new(config, store);
	if ((ingest->danger = danger_new(store, error_r)) == NULL) {
		ingest_free(&ingest);
		return -1;
	}
	hook_add(ingest->hooks, HOOK_CLASSIFIED, "secrets", redact_classified_step, ingest->redact);
	hook_add(ingest->hooks, HOOK_CLASSIFIED, "attachments", danger_classified_step,
		 ingest->danger);
	hook_add(ingest->hooks, HOOK_STORED, "secrets", redact_stored_step, ingest->redact);
	hook_add(ingest->hooks, HOOK_STORED, "attachments", danger_stored_step, ingest->danger);
	hook_add(ingest->hooks, HOOK_CLASSIFIED, "desk", desklist_step, ingest->desk);
	hook_add(ingest->hooks, HOOK_STORED, "ack", ack_step, ingest->ack);
	hook_add(ingest->hooks, HOOK_STORED, "agents", agent_step, ingest->agent);
	hook_add(ingest->hooks, HOOK_STORED, "replies", reply_step, ingest->replies);
	hook_add(ingest->hooks, HOOK_STORED, "sla", escalate_step, ingest->escalate);
	hook_add(ingest->hooks, HOOK_STORED, "survey", survey_step, ingest->survey);
	hook_add(ingest->hooks, HOOK_COMMITTED, "log", log_step, NULL);
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

static void
batch_clear(struct ingest *ingest)
{
	for (size_t i = 0; i < ingest->n_batch; i++) {
		struct batch *p = &ingest->batch[i];
		free(p->source);
		free(p->mailbox);
		free(p->message_id);
		free(p->logctx);
	}
	free(ingest->batch);
	ingest->batch = NULL;
	ingest->n_batch = 0;
}

void
ingest_free(struct ingest **ingestp)
{
	struct ingest *ingest = *ingestp;
	if (ingest == NULL)
		return;
	if (ingest->in_batch)
		store_rollback(ingest->store);
	batch_clear(ingest);
	hook_list_free(&ingest->hooks);
	escalate_free(&ingest->escalate);
	reply_handler_free(&ingest->replies);
	redact_free(&ingest->redact);
	danger_free(&ingest->danger);
	desklist_free(&ingest->desk);
	survey_free(&ingest->survey);
	agent_free(&ingest->agent);
	ack_free(&ingest->ack);
	route_free(&ingest->route);
	loop_free(&ingest->loop);
	deskmail_free(&ingest->dm);
	thread_config_free(&ingest->tc);
	rules_free(&ingest->rules);
	hours_free(&ingest->hours);
	outbox_free(&ingest->outbox);
	free(ingest);
	*ingestp = NULL;
}

void
ingest_add_hook(struct ingest *ingest, enum hook_phase phase, const char *name, hook_fn *fn,
		void *context)
{
	hook_add(ingest->hooks, phase, name, fn, context);
}

const struct hook_list *
ingest_hooks(const struct ingest *ingest)
{
	return ingest->hooks;
}

int
ingest_reload_rules(struct ingest *ingest, const char **error_r)
{
	struct rules *rules;
	if (rules_load_config(ingest->config, &rules, error_r) < 0)
		return -1;
	rules_free(&ingest->rules);
	ingest->rules = rules;
	route_set_rules(ingest->route, ingest->rules);
	return 0;
}

/* ---- after the commit ------------------------------------------------------------- */

static void
run_committed(struct ingest *ingest, const struct batch *p)
{
	const char *ignored;
	struct hook_event ev = {
		.source = p->source,
		.mailbox = p->mailbox,
		.uid = p->uid,
		.message_id = p->message_id,
		.logctx = p->logctx,
		.now = p->now,
		.ticket_id = p->result.ticket_id,
		.message_row_id = p->result.message_id,
		.new_ticket = p->result.outcome == INGEST_NEW_TICKET,
		.outcome = (int)p->result.outcome,
		.quarantine_id = p->result.quarantine_id,
		.reason = p->result.reason,
		.ack_outbox_id = p->result.ack_outbox_id,
	};
	(void)hook_run(ingest->hooks, HOOK_COMMITTED, &ev, &ignored);
}

/* Remember a handled message for the COMMITTED steps (run now when it
   had its own transaction, at the batch commit otherwise). */
static void
committed_later(struct ingest *ingest, const struct ingest_source *source, const char *msgid,
		const char *logctx, const struct ingest_result *result)
{
	ingest->batch = xreallocarray(ingest->batch, ingest->n_batch + 1,
					sizeof(*ingest->batch));
	struct batch *p = &ingest->batch[ingest->n_batch++];
	p->source = xstrdup(source->label != NULL ? source->label : "");
	p->mailbox = source->mailbox != NULL ? xstrdup(source->mailbox) : NULL;
	p->uid = source->uid;
	p->message_id = msgid != NULL ? xstrdup(msgid) : NULL;
	p->logctx = xstrdup(logctx);
	p->now = ingest_now(ingest);
	p->result = *result;
}

static void
run_batch(struct ingest *ingest)
{
	for (size_t i = 0; i < ingest->n_batch; i++)
		run_committed(ingest, &ingest->batch[i]);
	batch_clear(ingest);
}

int
ingest_batch_begin(struct ingest *ingest, const char **error_r)
{
	if (store_begin(ingest->store, error_r) < 0)
		return -1;
	ingest->in_batch = 1;
	batch_clear(ingest);
	return 0;
}

/* Commit, then the COMMITTED steps of what the transaction held; nothing
   of it when the commit fails. */
static int
commit_and_run(struct ingest *ingest, const char **error_r)
{
	if (store_commit(ingest->store, error_r) < 0) {
		store_rollback(ingest->store);
		batch_clear(ingest);
		return -1;
	}
	run_batch(ingest);
	return 0;
}

int
ingest_batch_commit(struct ingest *ingest, const char **error_r)
{
	ingest->in_batch = 0;
	return commit_and_run(ingest, error_r);
}

void
ingest_batch_rollback(struct ingest *ingest)
{
	if (ingest->in_batch)
		store_rollback(ingest->store);
	ingest->in_batch = 0;
	batch_clear(ingest);
}

/* ---- helpers -------------------------------------------------------------- */

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
		int ret = 0;
		if (a->name != NULL && *a->name != '\0') {
			/* A quoted-string, so that a decoded name holding ',' ';'
			   '<' or an address ("evil@x, Bob" <bob@y>) stays one element
			   of the list when the store reads it back
			   (store_address_next()). */
			ret = buf_putc(&b, '"');
			for (const char *n = a->name; ret == 0 && *n != '\0'; n++) {
				if (*n == '\r' || *n == '\n')
					continue;
				if (*n == '"' || *n == '\\')
					ret = buf_putc(&b, '\\');
				if (ret == 0)
					ret = buf_putc(&b, *n);
			}
			if (ret == 0)
				ret = buf_printf(&b, "\" <%s>", a->address);
		} else {
			ret = buf_puts(&b, a->address);
		}
		if (ret < 0)
			break;
	}
	return buf_steal(&b, NULL);
}

/* The References of a message as the store keeps them: ids separated by
   blanks (deskmail_thread_string() reads them back). */
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

/* The support address, its sub-addresses (reply addresses, VERP
   addresses, aliases such as support+sales@), and the agents. */
static int
is_own_address(const struct ingest *ingest, const char *address)
{
	return thread_is_support_address(ingest->tc, address) ||
	       route_find_agent(ingest->route, address) != NULL;
}

static char *
make_logctx(const struct ingest_source *source, const struct mime_message *msg)
{
	return xasprintf("source=%s mailbox=%s uid=%u msgid=%s",
			 log_safe(source->label != NULL ? source->label : "-", 200),
			 log_safe(source->mailbox != NULL ? source->mailbox : "-", 200), source->uid,
			 msg != NULL && msg->message_id != NULL ? log_safe(msg->message_id, 200)
								 : "-");
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

/* The raw message as kept (a CLASSIFIED step may have put a redacted copy
   in its place), written as a blob once: im->raw_hex names it. */
static int
keep_raw(struct ingest *ingest, struct ingest_msg *im, const char **error_r)
{
	if (im->raw_hex[0] != '\0')
		return 0;
	const unsigned char *raw = im->ev.stored_raw != NULL ? im->ev.stored_raw : im->raw;
	size_t len = im->ev.stored_raw != NULL ? im->ev.stored_raw_len : im->len;
	return store_blob_put(ingest->store, STORE_BLOB_RAW, raw, len, im->raw_hex, error_r);
}

/* ---- recognise: reports ---------------------------------------------------------- */

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
	if (keep_raw(ingest, im, error_r) < 0)
		return -1;
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

/* ---- recognise: loops --------------------------------------------------------------- */

/* Our own mail come back, or a machine answering ours with nowhere to go:
   never a ticket, nothing sent; a "loop" event (on the ticket our
   Message-ID names, when it exists) with the raw mail kept. */
static int
handle_loop(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
	    const char **error_r)
{
	const struct loop_verdict *lv = &im->loop;
	int64_t ticket_id = lv->ticket_id;
	if (keep_raw(ingest, im, error_r) < 0)
		return -1;
	if (ticket_id != 0) {
		struct store_ticket *t = NULL;
		int ret = store_ticket_get(ingest->store, ticket_id, &t, error_r);
		store_ticket_free(&t);
		if (ret < 0)
			return -1;
		if (ret == 0)
			ticket_id = 0;
	}
	result->outcome = INGEST_REPORT;
	result->ticket_id = ticket_id;
	snprintf(result->reason, sizeof(result->reason), "loop: %.200s, nothing sent", lv->why);
	log_warnx("%s ticket=%lld: mail loop stopped: %s", im->logctx, (long long)ticket_id,
		  lv->why);
	return event(ingest, ticket_id, "loop", error_r,
		     "%s from %s came in (%s): not a ticket, nothing sent; raw %s",
		     lv->kind == LOOP_OURS ? "our own mail" : "an automatic answer to our mail",
		     im->msg->from.address != NULL ? im->msg->from.address : "<>", lv->why,
		     im->raw_hex);
}

/* ---- classify ------------------------------------------------------------------------ */

static void
classify(struct ingest *ingest, struct ingest_msg *im)
{
	if (ingest->rules == NULL)
		return;
	struct rules_input *in = rules_input_from_mime(im->msg, im->source->mailbox);
	in->body_new = visible_text(im, &in->body_new_len);
	rules_classify(ingest->rules, in, &im->rules);
	rules_input_free(&in);
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

/* ---- store ------------------------------------------------------------------------------ */

/* Each attachment stored once: as its range of the raw mail kept
   (store_blob_put_range(), which checks that the range decodes to the
   bytes), else as a blob. Not when a redacted copy was kept in the raw
   mail's place: the ranges are the original's, and the attachments may
   be redacted. */
static int
store_attachments(struct ingest *ingest, const struct ingest_msg *im, int64_t message_row_id,
		  const char **error_r)
{
	const struct mime_message *msg = im->msg;
	int ranges = im->ev.stored_raw == NULL && im->raw_hex[0] != '\0';
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		char hex[CRYPTO_SHA256_HEX_LEN + 1];
		struct store_blob_range range = {
			.offset = (int64_t)a->raw_offset,
			.length = (int64_t)a->raw_length,
			.encoding = (int)a->raw_encoding,
			.size = (int64_t)a->size,
		};
		memcpy(range.raw_sha256, im->raw_hex, sizeof(range.raw_sha256));
		int ret = store_blob_put_range(ingest->store, im->raw, im->len,
					       ranges ? &range : NULL, a->data, a->size, hex,
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
		log_warnx("%s ticket=%lld: rule %s on %s hit the %s: counted as no match", im->logctx,
			  (long long)ticket_id, lh->rule, lh->target, lh->why);
		ret = event(ingest, ticket_id, "warning", error_r,
			    "rule %s on %s hit the %s: counted as no match", lh->rule, lh->target,
			    lh->why);
	}
	return ret;
}

static int
add_participants(struct ingest *ingest, const struct mime_message *msg, int64_t ticket_id,
		 const char *sender_role, const char **error_r)
{
	/* Never our own addresses: mail to a participant would come back. */
	int ret;
	if (has_address(msg->from.address) &&
	    !thread_is_support_address(ingest->tc, msg->from.address) &&
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
		  const char *direction, const char *text, int64_t *row_r, const char **error_r)
{
	const struct mime_message *msg = im->msg;
	char *to = address_list_string(&msg->to);
	char *cc = address_list_string(&msg->cc);
	char *refs = references_string(msg);
	if (keep_raw(ingest, im, error_r) < 0) {
		free(to);
		free(cc);
		free(refs);
		return -1;
	}
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
		.text = text,
		.raw_sha256 = im->raw_hex,
		.raw_size = (int64_t)(im->ev.stored_raw != NULL ? im->ev.stored_raw_len : im->len),
		.dedupe_key = im->key,
		.mailbox = (im->source->mailbox != NULL ? im->source->mailbox
								: im->source->label),
		.uid = im->source->uid,
		/* the pipeline's instant, as the ticket's: collisions (collide.h)
		   measure from it */
		.created_at = ingest_now(ingest),
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
	int ret = store_event_add(ingest->store, ticket_id, d->event_kind, d->event_detail,
				  error_r);
	if (ret == 0 && d->event_ticket != 0 && d->event_ticket != ticket_id)
		ret = store_event_add(ingest->store, d->event_ticket, d->event_kind,
				      d->event_detail, error_r);
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
		/* the pipeline's instant: the SLA clocks start from it */
		.created_at = ingest_now(ingest),
	};
	int ret = store_ticket_insert(ingest->store, &t, ticket_id_r, error_r);
	if (ret == 0 && im->decision.linked_ticket != 0 &&
	    (ret = event(ingest, *ticket_id_r, "linked", error_r, "follows closed ticket %lld",
			 (long long)im->decision.linked_ticket)) == 0)
		ret = event(ingest, im->decision.linked_ticket, "linked", error_r,
			    "continued in ticket %lld", (long long)*ticket_id_r);
	return ret;
}

/* Everything of the message on its ticket, then the STORED steps. */
static int
store_message_unit(struct ingest *ingest, struct ingest_msg *im, struct ingest_result *result,
		   const char **error_r)
{
	const struct mime_message *msg = im->msg;
	struct thread_decision *d = &im->decision;
	struct hook_event *ev = &im->ev;
	int64_t ticket_id = d->ticket_id, row;
	int followup = ticket_id != 0;
	struct reply *reply = NULL;
	int ret = -1;

	if (!followup) {
		if ((ret = open_ticket(ingest, im, &ticket_id, error_r)) < 0)
			return ret;
		result->outcome = INGEST_NEW_TICKET;
	} else {
		result->outcome = INGEST_APPENDED;
		/* an out-of-office answer to a reminder is not the customer's answer */
		if (d->reopen && im->report_kind != DSN_AUTO_REPLY &&
		    ((ret = store_ticket_set(ingest->store, ticket_id, "status", "open", error_r)) < 0 ||
		     (ret = event(ingest, ticket_id, "reopened", error_r, "by a reply from %s",
				  msg->from.address != NULL ? msg->from.address : "?")) < 0))
			return ret;
	}
	result->ticket_id = ticket_id;

	const char *role = thread_role_name(d->role);
	const char *direction = "in";
	const char *text = msg->text != NULL ? msg->text : "";
	if (d->role == THREAD_ROLE_AGENT && d->agent_trusted) {
		/* A trusted agent's mail is stored as what it says: the new
		   text without quoted history, signature and commands, as
		   "agent" when it goes to the customer, else as a "note". */
		if ((ret = reply_prepare(ingest->replies, ticket_id, d->merged_from, msg,
					 im->report_kind == DSN_AUTO_REPLY, ingest_now(ingest), &reply,
					 error_r)) < 0)
			return ret;
		direction = reply_direction(reply);
		text = reply_text(reply);
	}
	if ((ret = store_message_row(ingest, im, ticket_id, direction, text, &row, error_r)) < 0)
		goto out;
	result->message_id = row;
	if ((!followup || d->add_participant) &&
	    (ret = add_participants(ingest, msg, ticket_id, role, error_r)) < 0)
		goto out;
	if ((ret = store_attachments(ingest, im, row, error_r)) < 0 ||
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

	ev->ticket_id = ticket_id;
	ev->message_row_id = row;
	ev->new_ticket = !followup;
	ev->reply = reply;
	if (im->loop.kind == LOOP_ANSWER) {
		/* A machine answering our mail: kept, and nothing at all is
		   sent because of it (deskmail refuses every message). */
		if ((ret = event(ingest, ticket_id, "loop", error_r,
				 "an automatic answer to our mail (%s): nothing sent",
				 im->loop.why)) < 0)
			goto out;
		deskmail_block(ingest->dm, im->loop.why);
	}
	ret = hook_run(ingest->hooks, HOOK_STORED, ev, error_r);
	deskmail_unblock(ingest->dm);
	result->ack_outbox_id = ev->ack_outbox_id;
	result->secret_kinds = ev->secret_kinds;
	if (ev->ack_refusal[0] != '\0')
		snprintf(result->reason, sizeof(result->reason), "no acknowledgement: %.200s",
			 ev->ack_refusal);
out:
	ev->reply = NULL;
	reply_free(&reply);
	return ret;
}

/* store_message_unit() as one savepoint: when the store refuses this
   message's data (STORE_DATA_BAD: a constraint on hostile input, a value
   too large; also from a step) rather than failing as a store, the unit is
   undone and the message quarantined, so that it cannot block the mailbox
   by being retried forever. */
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

/* ---- the pipeline ------------------------------------------------------------------------ */

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
	/* Recognise. */
	im->report_kind = dsn_analyze(im->msg, &im->report);
	if (im->report_kind != DSN_NONE && im->report_kind != DSN_AUTO_REPLY)
		return handle_report(ingest, im, result, error_r);
	loop_check(ingest->loop, im->msg, im->source->envelope_sender,
		   im->report_kind == DSN_AUTO_REPLY, &im->loop);
	if (im->loop.kind == LOOP_OURS)
		return handle_loop(ingest, im, result, error_r);

	/* A vote on a satisfaction survey: classified and its secrets redacted
	   like any customer mail (the comment is stored, logged, mailed),
	   then recorded, or refused; no ticket. */
	const char *vote_category = NULL;
	if (survey_is_vote(ingest->survey, im->msg)) {
		classify(ingest, im);
		im->ev.msg = im->msg;
		im->ev.rules = im->rules;
		if (redact_classified_step(ingest->redact, &im->ev, error_r) < 0)
			return -1;
		if (im->ev.quarantine[0] != '\0')
			return quarantine(ingest, im->raw, im->len, im->source, im->ev.quarantine,
					  result, error_r);
		vote_category = im->rules != NULL ? im->rules->category : NULL;
	}
	ret = survey_take_vote(ingest->survey, im->msg, vote_category, ingest_now(ingest),
			       &ticket_id, result->reason, sizeof(result->reason), error_r);
	if (ret < 0)
		return -1;
	if (ret != SURVEY_NOT_A_VOTE) {
		result->outcome = INGEST_REPORT;
		result->ticket_id = ticket_id;
		if (keep_raw(ingest, im, error_r) < 0)
			return -1;
		return event(ingest, 0, "report", error_r, "%s; from %s; raw %s", result->reason,
			     im->msg->from.address != NULL ? im->msg->from.address : "<>",
			     im->raw_hex);
	}

	/* Thread. */
	thread_config_set_now(ingest->tc, ingest_now(ingest));
	if (thread_resolve(ingest->store, ingest->tc, im->msg, &im->decision, error_r) < 0)
		return -1;
	if (im->loop.kind == LOOP_ANSWER && im->decision.ticket_id == 0)
		return handle_loop(ingest, im, result, error_r);
	if (im->report_kind == DSN_AUTO_REPLY && im->decision.ticket_id == 0) {
		/* An out-of-office that answers nothing of ours: no ticket. */
		result->outcome = INGEST_REPORT;
		snprintf(result->reason, sizeof(result->reason), "automatic reply, not a ticket");
		if (keep_raw(ingest, im, error_r) < 0)
			return -1;
		return event(ingest, 0, "report", error_r,
			     "automatic reply from %s not threaded to a ticket; raw %s",
			     im->msg->from.address != NULL ? im->msg->from.address : "<>",
			     im->raw_hex);
	}

	/* Classify. */
	if (im->rules == NULL && /* a reply to a survey was classified above */
	    (im->decision.ticket_id == 0 || im->decision.role == THREAD_ROLE_CUSTOMER))
		classify(ingest, im);
	if (im->decision.ticket_id == 0 && im->rules != NULL && im->rules->spam && !im->released) {
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

	/* The steps. */
	struct hook_event *ev = &im->ev;
	ev->msg = im->msg;
	ev->envelope_sender = im->source->envelope_sender != NULL ? im->source->envelope_sender
								  : im->msg->return_path;
	ev->decision = &im->decision;
	ev->rules = im->rules;
	ev->auto_reply = im->report_kind == DSN_AUTO_REPLY;
	if (hook_run(ingest->hooks, HOOK_CLASSIFIED, ev, error_r) < 0)
		return -1;
	if (ev->quarantine[0] != '\0') {
		char reason[sizeof(ev->quarantine)];
		snprintf(reason, sizeof(reason), "%s", ev->quarantine);
		return quarantine(ingest, im->raw, im->len, im->source, reason, result, error_r);
	}
	if (ev->handled[0] != '\0') {
		/* a step answered it (a desk request): no ticket */
		result->outcome = INGEST_REPORT;
		snprintf(result->reason, sizeof(result->reason), "%s", ev->handled);
		if (keep_raw(ingest, im, error_r) < 0)
			return -1;
		return event(ingest, 0, "desk", error_r, "%s; raw %s", ev->handled, im->raw_hex);
	}
	return store_message_guarded(ingest, im, result, error_r);
}

static int
ingest_one(struct ingest *ingest, const unsigned char *raw, size_t len,
	   const struct ingest_source *source, int released, struct ingest_result *result,
	   const char **error_r)
{
	struct ingest_msg im = { .raw = raw, .len = len, .source = source, .released = released };
	const char *why;
	int ret;

	memset(result, 0, sizeof(*result));
	if (len > ingest->limits.max_message_size) {
		why = errf("limit: max_message_size %zu exceeded (%zu bytes)",
			   ingest->limits.max_message_size, len);
		ret = quarantine(ingest, raw, len, source, why, result, error_r);
	} else if (mime_parse(raw, len, &ingest->limits, &im.msg, &why) < 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s", why);
		ret = quarantine(ingest, raw, len, source, reason, result, error_r);
	} else {
		dedupe_key(im.msg, raw, len, im.key);
		im.logctx = make_logctx(source, im.msg);
		im.ev.source = source->label;
		im.ev.mailbox = source->mailbox;
		im.ev.uid = source->uid;
		im.ev.message_id = im.msg->message_id;
		im.ev.logctx = im.logctx;
		im.ev.raw = raw;
		im.ev.raw_len = len;
		im.ev.now = ingest_now(ingest);
		ret = ingest_parsed(ingest, &im, result, error_r);
	}
	if (ret == 0) {
		char *ctx = im.logctx != NULL ? NULL : make_logctx(source, im.msg);
		committed_later(ingest, source, im.msg != NULL ? im.msg->message_id : NULL,
				im.logctx != NULL ? im.logctx : ctx, result);
		free(ctx);
	}
	thread_decision_clear(&im.decision);
	rules_result_free(&im.rules);
	free(im.ev.stored_raw);
	free(im.visible);
	free(im.logctx);
	dsn_report_free(&im.report);
	mime_message_free(&im.msg);
	return ret;
}

int
ingest_message(struct ingest *ingest, const unsigned char *raw, size_t len,
	       const struct ingest_source *source, struct ingest_result *result,
	       const char **error_r)
{
	int own_txn = !ingest->in_batch;

	memset(result, 0, sizeof(*result));
	if (own_txn) {
		if (store_begin(ingest->store, error_r) < 0)
			return -1;
		batch_clear(ingest);
	}
	size_t n_before = ingest->n_batch;
	int ret = ingest_one(ingest, raw, len, source, 0, result, error_r);
	if (ret == 0 && source->mailbox != NULL && source->uid != 0)
		ret = store_mailbox_set(ingest->store, source->mailbox, source->uidvalidity,
					source->uid, error_r);
	if (ret < 0) {
		/* Inside a batch the caller rolls the whole batch back. */
		if (own_txn) {
			store_rollback(ingest->store);
			batch_clear(ingest);
		} else {
			while (ingest->n_batch > n_before) {
				struct batch *p = &ingest->batch[--ingest->n_batch];
				free(p->source);
				free(p->mailbox);
				free(p->message_id);
				free(p->logctx);
			}
		}
		return -1;
	}
	return own_txn ? commit_and_run(ingest, error_r) : 0;
}

/* Run a quarantined message through the pipeline again, in its own
   transaction. by: who released it (NULL: a retry, spam stays spam). */
static int
requeue(struct ingest *ingest, int64_t quarantine_id, const char *by,
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
	if (strcmp(q->status, "held") != 0) {
		*error_r = errf("quarantine #%lld was already released (ticket %lld)",
				(long long)quarantine_id, (long long)q->ticket_id);
		store_quarantine_free(&q);
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
	batch_clear(ingest);
	ret = ingest_one(ingest, raw, len, &source, by != NULL, result, error_r);
	if (ret == 0 && result->outcome != INGEST_QUARANTINED)
		ret = store_quarantine_set_status(ingest->store, quarantine_id, "released",
						  result->ticket_id, error_r);
	if (ret == 0 && by != NULL && result->outcome != INGEST_QUARANTINED)
		ret = event(ingest, result->ticket_id, "released", error_r,
			    "quarantine #%lld released by %s; it was held: %s",
			    (long long)quarantine_id, by, q->reason);
	if (ret == 0)
		ret = store_commit(ingest->store, error_r);
	if (ret < 0) {
		store_rollback(ingest->store);
		batch_clear(ingest);
	} else {
		if (by != NULL)
			log_info("quarantine=%lld: released by %s: %s", (long long)quarantine_id,
				 log_safe(by, 100),
				 result->outcome == INGEST_QUARANTINED ? "still held" : "ingested");
		run_batch(ingest);
	}
	free(raw);
	store_quarantine_free(&q);
	return ret;
}

int
ingest_retry_quarantined(struct ingest *ingest, int64_t quarantine_id,
			 struct ingest_result *result, const char **error_r)
{
	return requeue(ingest, quarantine_id, NULL, result, error_r);
}

int
ingest_release_quarantined(struct ingest *ingest, int64_t quarantine_id, const char *by,
			   struct ingest_result *result, const char **error_r)
{
	return requeue(ingest, quarantine_id, by != NULL && *by != '\0' ? by : "?", result,
		       error_r);
}
