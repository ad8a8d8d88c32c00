/*
 * store-record: see store-record.h. The record types of store.h as data,
 * and the *_free() functions of store.h, shared by every driver.
 */
#include "build-config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "gateway/store/store-record.h"

/* Each table lists the fields in the order of the drivers' SELECT lists. */
static const struct store_col ticket_cols[] = {
	COL(INT64, store_ticket, id),
	COL(TEXT, store_ticket, subject),
	COL(TEXT, store_ticket, status),
	COL(TEXT, store_ticket, category),
	COL(TEXT, store_ticket, priority),
	COL(TEXT, store_ticket, queue),
	COL(TEXT, store_ticket, language),
	COL(TEXT, store_ticket, customer_address),
	COL(TEXT, store_ticket, customer_name),
	COL(INT64, store_ticket, created_at),
	COL(INT64, store_ticket, updated_at),
	COL(INT64, store_ticket, first_response_at),
	COL(INT64, store_ticket, due_at),
	COL(INT64, store_ticket, n_messages),
	COL(TEXT, store_ticket, assignee),
};
RECORD(store_record_ticket, store_ticket, ticket_cols);

static const struct store_col message_cols[] = {
	COL(INT64, store_message, id),
	COL(INT64, store_message, ticket_id),
	COL(TEXT, store_message, direction),
	COL(TEXT, store_message, message_id),
	COL(TEXT, store_message, in_reply_to),
	COL(TEXT, store_message, references),
	COL(TEXT, store_message, from_address),
	COL(TEXT, store_message, from_name),
	COL(TEXT, store_message, to),
	COL(TEXT, store_message, cc),
	COL(TEXT, store_message, subject),
	COL(INT64, store_message, date),
	COL(TEXT, store_message, text),
	COL(TEXT, store_message, raw_sha256),
	COL(INT64, store_message, raw_size),
	COL(TEXT, store_message, dedupe_key),
	COL(TEXT, store_message, text_sha256),
	COL(TEXT, store_message, mailbox),
	COL(INT64, store_message, uid),
	COL(INT64, store_message, created_at),
};
RECORD(store_record_message, store_message, message_cols);

static const struct store_col attachment_cols[] = {
	COL(INT64, store_attachment, id),
	COL(INT64, store_attachment, message_row_id),
	COL(TEXT, store_attachment, filename),
	COL(TEXT, store_attachment, content_type),
	COL(TEXT, store_attachment, content_id),
	COL(TEXT, store_attachment, sha256),
	COL(INT64, store_attachment, size),
	COL(INT, store_attachment, is_inline),
};
RECORD(store_record_attachment, store_attachment, attachment_cols);

static const struct store_col participant_cols[] = {
	COL(INT64, store_participant, ticket_id),
	COL(TEXT, store_participant, address),
	COL(TEXT, store_participant, name),
	COL(TEXT, store_participant, role),
};
RECORD(store_record_participant, store_participant, participant_cols);

static const struct store_col event_cols[] = {
	COL(INT64, store_event, id),
	COL(INT64, store_event, ticket_id),
	COL(INT64, store_event, at),
	COL(TEXT, store_event, kind),
	COL(TEXT, store_event, detail),
};
RECORD(store_record_event, store_event, event_cols);

static const struct store_col field_cols[] = {
	COL(TEXT, store_field, name),
	COL(TEXT, store_field, value),
};
RECORD(store_record_field, store_field, field_cols);

static const struct store_col quarantine_cols[] = {
	COL(INT64, store_quarantine, id),
	COL(TEXT, store_quarantine, raw_sha256),
	COL(INT64, store_quarantine, raw_size),
	COL(TEXT, store_quarantine, reason),
	COL(TEXT, store_quarantine, source),
	COL(INT64, store_quarantine, created_at),
	COL(TEXT, store_quarantine, status),
	COL(INT64, store_quarantine, ticket_id),
	COL(TEXT, store_quarantine, mailbox),
	COL(INT64, store_quarantine, uidvalidity),
	COL(INT64, store_quarantine, uid),
};
RECORD(store_record_quarantine, store_quarantine, quarantine_cols);

static const struct store_col mailbox_mark_cols[] = {
	COL(INT64, store_mailbox_mark, uid),
	COL(INT, store_mailbox_mark, quarantined),
};
RECORD(store_record_mailbox_mark, store_mailbox_mark, mailbox_mark_cols);

static const struct store_col outbox_rcpt_cols[] = {
	COL(TEXT, store_outbox_rcpt, address),
	COL(TEXT, store_outbox_rcpt, status),
	COL(TEXT, store_outbox_rcpt, code),
	COL(TEXT, store_outbox_rcpt, detail),
	COL(INT64, store_outbox_rcpt, updated_at),
};
RECORD(store_record_outbox_rcpt, store_outbox_rcpt, outbox_rcpt_cols);

/* raw is NULL where a select does not load it; raw_size is its length
   either way. */
static const struct store_col outbox_cols[] = {
	COL(INT64, store_outbox, id),
	COL(INT64, store_outbox, ticket_id),
	COL(TEXT, store_outbox, kind),
	COL(TEXT, store_outbox, message_id),
	COL(TEXT, store_outbox, envelope_from),
	COL(TEXT, store_outbox, recipients),
	COL(BYTES, store_outbox, raw),
	COL(SIZE, store_outbox, raw_size),
	COL(TEXT, store_outbox, status),
	COL(INT64, store_outbox, attempts),
	COL(INT64, store_outbox, created_at),
	COL(INT64, store_outbox, next_attempt_at),
	COL(INT64, store_outbox, sent_at),
	COL(TEXT, store_outbox, last_error),
	COL(TEXT, store_outbox, last_code),
};
RECORD(store_record_outbox, store_outbox, outbox_cols);

const struct store_record *const store_select_records[STORE_SELECT_COUNT] = {
	[STORE_SELECT_TICKET] = &store_record_ticket,
	[STORE_SELECT_TICKETS] = &store_record_ticket,
	[STORE_SELECT_MESSAGES] = &store_record_message,
	[STORE_SELECT_ATTACHMENTS] = &store_record_attachment,
	[STORE_SELECT_PARTICIPANTS] = &store_record_participant,
	[STORE_SELECT_EVENTS] = &store_record_event,
	[STORE_SELECT_FIELDS] = &store_record_field,
	[STORE_SELECT_RULE_HITS] = &store_record_field,
	[STORE_SELECT_QUARANTINE] = &store_record_quarantine,
	[STORE_SELECT_QUARANTINES_UNFETCHED] = &store_record_quarantine,
	[STORE_SELECT_MAILBOX_MARKS] = &store_record_mailbox_mark,
	[STORE_SELECT_OUTBOX_RCPTS] = &store_record_outbox_rcpt,
	[STORE_SELECT_TICKETS_ASSIGNED] = &store_record_ticket,
	[STORE_SELECT_TICKETS_QUEUE] = &store_record_ticket,
	[STORE_SELECT_TICKETS_OVERDUE] = &store_record_ticket,
	[STORE_SELECT_QUARANTINES] = &store_record_quarantine,
	[STORE_SELECT_OUTBOX] = &store_record_outbox,
	[STORE_SELECT_OUTBOX_BY_MSGID] = &store_record_outbox,
	[STORE_SELECT_OUTBOXES] = &store_record_outbox,
	[STORE_SELECT_OUTBOX_DUE] = &store_record_outbox,
	[STORE_SELECT_LABELS] = &store_record_label,
};

const char *const store_participant_roles[3] = { "customer", "cc", "agent" };

const char *
store_participant_role(const char *text)
{
	for (size_t i = 0; text != NULL && i < N_ELEMENTS(store_participant_roles); i++) {
		if (strcmp(text, store_participant_roles[i]) == 0)
			return store_participant_roles[i];
	}
	return store_participant_roles[0];
}

/* Written by hand: the lists are our own format (ingest joins decoded
   addresses), not RFC 5322 that libetpan would parse. */
int
store_address_next(const char **listp, const char **addr_r, size_t *len_r)
{
	const char *p = *listp;
	if (p == NULL || *p == '\0')
		return 0;
	/* one element, up to a ',' or ';' outside quotes and angle brackets */
	const char *start = p, *angle = NULL, *angle_end = NULL;
	int quoted = 0;
	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = 0;
		} else if (*p == '"') {
			quoted = 1;
		} else if (*p == '<' && angle == NULL) {
			angle = p + 1;
			angle_end = strchr(angle, '>');
			if (angle_end == NULL)
				break;
			p = angle_end;
		} else if (*p == ',' || *p == ';') {
			break;
		}
	}
	const char *a = start, *e = p;
	if (angle != NULL && angle_end != NULL) {
		a = angle;
		e = angle_end;
	}
	while (a < e && (*a == ' ' || *a == '\t'))
		a++;
	while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*addr_r = a;
	*len_r = (size_t)(e - a);
	*listp = *p == '\0' ? p : p + 1;
	return 1;
}

int
store_address_list_has(const char *list, const char *address)
{
	const char *a;
	size_t len;
	if (address == NULL)
		return 0;
	size_t want = strlen(address);
	while (store_address_next(&list, &a, &len)) {
		if (len == want && strncasecmp(a, address, len) == 0)
			return 1;
	}
	return 0;
}

static void *
field_at(void *item, const struct store_col *col)
{
	return (unsigned char *)item + col->offset;
}

void
store_record_fill(const struct store_record *rec, void *item,
		  const struct store_row_reader *reader, void *row)
{
	for (size_t i = 0; i < rec->n_cols; i++) {
		const struct store_col *col = &rec->cols[i];
		void *field = field_at(item, col);
		switch (col->type) {
		case STORE_COL_TEXT: {
			const char *s = reader->text(row, i);
			*(const char **)field = s != NULL ? xstrdup(s) : NULL;
			break;
		}
		case STORE_COL_INT64:
			*(int64_t *)field = reader->int64(row, i);
			break;
		case STORE_COL_INT:
			*(int *)field = (int)reader->int64(row, i);
			break;
		case STORE_COL_SIZE: {
			int64_t v = reader->int64(row, i);
			*(size_t *)field = v > 0 ? (size_t)v : 0;
			break;
		}
		case STORE_COL_BYTES: {
			size_t len = 0;
			const void *p = reader->bytes(row, i, &len);
			unsigned char *copy = NULL;
			if (p != NULL) {
				/* NUL-terminated for convenience; the length is
				   a field of its own. */
				copy = xmalloc(len + 1);
				if (len > 0)
					memcpy(copy, p, len);
				copy[len] = '\0';
			}
			*(const unsigned char **)field = copy;
			break;
		}
		}
	}
}

void
store_record_clear(const struct store_record *rec, void *item)
{
	for (size_t i = 0; i < rec->n_cols; i++) {
		const struct store_col *col = &rec->cols[i];
		/* The fields are const for the callers' sake (an input record
		   points at whatever they have); in a record the store returned,
		   they point at copies it made in store_record_fill(). */
		if (col->type == STORE_COL_TEXT) {
			const char **field = field_at(item, col);
			free((char *)*field);
			*field = NULL;
		} else if (col->type == STORE_COL_BYTES) {
			const unsigned char **field = field_at(item, col);
			free((unsigned char *)*field);
			*field = NULL;
		}
	}
}

void
store_records_free(const struct store_record *rec, void *items, size_t count)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		store_record_clear(rec, (unsigned char *)items + i * rec->size);
	free(items);
}

void *
store_rows_add(const struct store_record *rec, void **items, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*items = xreallocarray(*items, *cap, rec->size);
	}
	void *slot = (unsigned char *)*items + *n * rec->size;
	memset(slot, 0, rec->size);
	(*n)++;
	return slot;
}

void
store_string_replace(const char **fieldp, const char *value)
{
	free((char *)*fieldp); /* a copy the store made: see store_record_clear() */
	*fieldp = value != NULL ? xstrdup(value) : NULL;
}

/* ---- the *_free() functions of store.h ------------------------------------ */

FREE_ONE(store_ticket_free, store_ticket, store_record_ticket)
FREE_LIST(store_tickets_free, store_ticket, store_record_ticket)
FREE_LIST(store_messages_free, store_message, store_record_message)
FREE_LIST(store_attachments_free, store_attachment, store_record_attachment)
FREE_LIST(store_participants_free, store_participant, store_record_participant)
FREE_LIST(store_events_free, store_event, store_record_event)
FREE_LIST(store_fields_free, store_field, store_record_field)
FREE_ONE(store_quarantine_free, store_quarantine, store_record_quarantine)
FREE_LIST(store_quarantines_free, store_quarantine, store_record_quarantine)
FREE_ONE(store_outbox_free, store_outbox, store_record_outbox)
FREE_LIST(store_outboxes_free, store_outbox, store_record_outbox)
FREE_LIST(store_outbox_rcpts_free, store_outbox_rcpt, store_record_outbox_rcpt)
