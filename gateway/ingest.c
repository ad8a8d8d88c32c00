/*
 * ingest: see ingest.h. The order of work for one message:
 *   1. size check (an oversized message is quarantined unparsed);
 *   2. mime_parse(); a parse failure or a limit is a quarantine;
 *   3. the dedupe key (Message-ID + origin headers + body bytes): a message
 *      already stored is a duplicate and writes nothing but the checkpoint;
 *   4. the ticket: a reply to one of the sender's tickets joins it, other
 *      mail opens a new ticket;
 *   5. one transaction: raw blob, ticket, message, participants,
 *      attachments, events, mailbox checkpoint.
 * Log lines about a message carry source= uid= msgid= ticket=.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "parsers/mime.h"
#include "parsers/util.h"

struct ingest {
	const struct config *config;
	struct store *store;
	struct mime_limits limits;
	int in_batch;
};

struct ingest *
ingest_new(const struct config *config, struct store *store)
{
	struct ingest *ingest = xcalloc(1, sizeof(*ingest));
	const struct config_limits *l = &config->limits;
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
	free(ingest);
	*ingestp = NULL;
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
	const char *parts[] = {
		"deskgate-dedupe-v1",
		msg->message_id != NULL ? msg->message_id : "",
		msg->from.address != NULL ? msg->from.address : "",
		mime_header_get(msg, "Date") != NULL ? mime_header_get(msg, "Date") : "",
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

/* The ticket this message continues: one whose stored or sent Message-ID
   it replies to, and only when the sender takes part in that ticket (a
   stranger quoting someone else's Message-ID gets a ticket of their own).
   0 when none. */
static int
find_thread(struct ingest *ingest, const struct mime_message *msg, int64_t *ticket_id_r,
	    const char **error_r)
{
	*ticket_id_r = 0;
	if (msg->from.address == NULL || *msg->from.address == '\0')
		return 0;
	size_t n = msg->n_references + (msg->in_reply_to != NULL ? 1 : 0);
	for (size_t i = 0; i < n; i++) {
		/* In-Reply-To first, then References newest first. */
		const char *id = msg->in_reply_to != NULL
					 ? (i == 0 ? msg->in_reply_to : msg->references[msg->n_references - i])
					 : msg->references[msg->n_references - 1 - i];
		int64_t ticket_id;
		int ret = store_ticket_find_by_message_id(ingest->store, id, &ticket_id, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		ret = store_participant_find(ingest->store, ticket_id, msg->from.address, NULL, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			*ticket_id_r = ticket_id;
			return 0;
		}
		log_warnx("msgid=%s from=%s refers to ticket=%lld but is not a participant: new ticket",
			  log_safe(msg->message_id, 200), log_safe(msg->from.address, 200),
			  (long long)ticket_id);
		return 0;
	}
	return 0;
}

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
		.reason = (char *)reason,
		.source = (char *)source->label,
		.status = (char *)"held",
	};
	int existed = 0;
	if (store_quarantine_insert(ingest->store, &q, &result->quarantine_id, &existed, error_r) < 0)
		return -1;
	result->outcome = INGEST_QUARANTINED;
	snprintf(result->reason, sizeof(result->reason), "%s", reason);
	if (!existed) {
		char *detail = xasprintf("quarantine #%lld: %s", (long long)result->quarantine_id, reason);
		int ret = store_event_add(ingest->store, 0, "quarantined", detail, error_r);
		free(detail);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int
store_attachments(struct ingest *ingest, const struct mime_message *msg, int64_t message_row_id,
		  const char **error_r)
{
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		char hex[CRYPTO_SHA256_HEX_LEN + 1];
		if (store_blob_put(ingest->store, STORE_BLOB_ATTACHMENT, a->data, a->size, hex,
				   error_r) < 0)
			return -1;
		struct store_attachment att = {
			.message_row_id = message_row_id,
			.filename = a->filename,
			.content_type = a->content_type,
			.content_id = a->content_id,
			.sha256 = hex,
			.size = (int64_t)a->size,
			.is_inline = a->is_inline,
		};
		if (store_attachment_insert(ingest->store, &att, NULL, error_r) < 0)
			return -1;
	}
	return 0;
}

static int
store_new_message(struct ingest *ingest, const struct mime_message *msg, const unsigned char *raw,
		  size_t len, const char *key, const struct ingest_source *source,
		  struct ingest_result *result, const char **error_r)
{
	int64_t ticket_id;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	if (find_thread(ingest, msg, &ticket_id, error_r) < 0)
		return -1;
	if (store_blob_put(ingest->store, STORE_BLOB_RAW, raw, len, hex, error_r) < 0)
		return -1;

	if (ticket_id == 0) {
		struct store_ticket t = {
			.subject = (msg->subject != NULL && *msg->subject != '\0') ? msg->subject
										   : (char *)"(no subject)",
			.status = (char *)"new",
			.category = (char *)"other",
			.priority = (char *)"normal",
			.customer_address = msg->from.address,
			.customer_name = msg->from.name,
			.language = msg->content_language,
		};
		if (store_ticket_insert(ingest->store, &t, &ticket_id, error_r) < 0)
			return -1;
		result->outcome = INGEST_NEW_TICKET;
	} else {
		result->outcome = INGEST_APPENDED;
	}
	result->ticket_id = ticket_id;

	char *to = address_list_string(&msg->to);
	char *cc = address_list_string(&msg->cc);
	char *refs = references_string(msg);
	struct store_message m = {
		.ticket_id = ticket_id,
		.direction = (char *)"in",
		.message_id = msg->message_id,
		.in_reply_to = msg->in_reply_to,
		.references = refs,
		.from_address = msg->from.address,
		.from_name = msg->from.name,
		.to = to,
		.cc = cc,
		.subject = msg->subject,
		.date = msg->has_date ? msg->date : 0,
		.text = msg->text != NULL ? msg->text : (char *)"",
		.raw_sha256 = hex,
		.raw_size = (int64_t)len,
		.dedupe_key = (char *)key,
		.mailbox = (char *)(source->mailbox != NULL ? source->mailbox : source->label),
		.uid = source->uid,
	};
	int ret = store_message_insert(ingest->store, &m, &result->message_id, error_r);
	free(to);
	free(cc);
	free(refs);
	if (ret < 0)
		return -1;

	if (msg->from.address != NULL && *msg->from.address != '\0' &&
	    store_participant_add(ingest->store, ticket_id, msg->from.address, msg->from.name,
				  "customer", error_r) < 0)
		return -1;
	if (store_attachments(ingest, msg, result->message_id, error_r) < 0)
		return -1;

	char *detail = xasprintf("%s from %s (%zu attachments)",
				 result->outcome == INGEST_NEW_TICKET ? "opened" : "reply",
				 msg->from.address != NULL ? msg->from.address : "(no sender)",
				 msg->n_attachments);
	ret = store_event_add(ingest->store, ticket_id,
			      result->outcome == INGEST_NEW_TICKET ? "created" : "message", detail,
			      error_r);
	free(detail);
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < msg->n_warnings; i++)
		if (store_event_add(ingest->store, ticket_id, "warning", msg->warnings[i], error_r) < 0)
			return -1;
	return 0;
}

/* store_new_message() as one unit: when the store refuses this message's
   data (a constraint on hostile input) rather than failing as a store, the
   unit is undone and the message quarantined, so it cannot block the
   mailbox by being retried forever. */
static int
store_new_message_unit(struct ingest *ingest, const struct mime_message *msg,
		       const unsigned char *raw, size_t len, const char *key,
		       const struct ingest_source *source, struct ingest_result *result,
		       const char **error_r)
{
	if (store_unit_begin(ingest->store, error_r) < 0)
		return -1;
	(void)store_error_is_data(ingest->store);
	if (store_new_message(ingest, msg, raw, len, key, source, result, error_r) == 0)
		return store_unit_end(ingest->store, error_r);
	if (!store_error_is_data(ingest->store)) {
		const char *ignored;
		(void)store_unit_undo(ingest->store, &ignored);
		return -1;
	}
	char reason[256];
	snprintf(reason, sizeof(reason), "store refused the message: %s", *error_r);
	if (store_unit_undo(ingest->store, error_r) < 0)
		return -1;
	memset(result, 0, sizeof(*result));
	return quarantine(ingest, raw, len, source, reason, result, error_r);
}

static int
ingest_one(struct ingest *ingest, const unsigned char *raw, size_t len,
	   const struct ingest_source *source, struct ingest_result *result, const char **error_r)
{
	struct mime_message *msg = NULL;
	const char *why;
	int ret;

	if (len > ingest->limits.max_message_size) {
		why = errf("limit: max_message_size %zu exceeded (%zu bytes)",
			   ingest->limits.max_message_size, len);
		return quarantine(ingest, raw, len, source, why, result, error_r);
	}
	if (mime_parse(raw, len, &ingest->limits, &msg, &why) < 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s", why);
		mime_message_free(&msg);
		return quarantine(ingest, raw, len, source, reason, result, error_r);
	}

	char key[CRYPTO_SHA256_HEX_LEN + 1];
	dedupe_key(msg, raw, len, key);
	int64_t message_id, ticket_id;
	ret = store_message_find_dedupe(ingest->store, key, &message_id, &ticket_id, error_r);
	if (ret > 0) {
		result->outcome = INGEST_DUPLICATE;
		result->ticket_id = ticket_id;
		result->message_id = message_id;
		ret = 0;
	} else if (ret == 0) {
		ret = store_new_message_unit(ingest, msg, raw, len, key, source, result, error_r);
	}
	mime_message_free(&msg);
	return ret;
}

static void
log_result(const struct ingest_source *source, const struct ingest_result *result)
{
	switch (result->outcome) {
	case INGEST_NEW_TICKET:
	case INGEST_APPENDED:
		log_info("source=%s uid=%u ticket=%lld message=%lld: %s", source->label, source->uid,
			 (long long)result->ticket_id, (long long)result->message_id,
			 result->outcome == INGEST_NEW_TICKET ? "new ticket" : "appended");
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
