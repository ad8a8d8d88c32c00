/*
 * store-record: the record types of store.h described as data, private to
 * gateway/store/. A driver reads a row by handing a reader (how to get
 * column i as text, integer or bytes) to store_record_fill(), which
 * copies every column into the record's field at the same position; the
 * *_free() functions of store.h free any record through the same
 * description. So a driver writes no per-table copy or free code, and a
 * second driver cannot free a field differently from the first.
 *
 * Column order: a driver's SELECT list names the columns in the order of
 * the record's description (see the tables in store-record.c).
 */
#ifndef DG_STORE_RECORD_H
#define DG_STORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store-driver.h"

enum store_col_type {
	STORE_COL_TEXT,	 /* const char *: a copy, NULL for SQL NULL */
	STORE_COL_INT64, /* int64_t: 0 for SQL NULL */
	STORE_COL_INT,	 /* int */
	STORE_COL_SIZE,	 /* size_t (from a non-negative integer column) */
	STORE_COL_BYTES, /* const unsigned char *: a copy, NUL-terminated; NULL for SQL NULL */
};

struct store_col {
	enum store_col_type type;
	size_t offset; /* of the field in the record */
};

struct store_record {
	const char *name;
	size_t size;
	const struct store_col *cols;
	size_t n_cols;
};

/* How a driver hands over the columns of its current row. text() and
   bytes() return NULL for SQL NULL only (an empty value is "" / a
   non-NULL pointer with length 0); what they return is copied before the
   next call. */
struct store_row_reader {
	const char *(*text)(void *row, size_t col);
	int64_t (*int64)(void *row, size_t col);
	const void *(*bytes)(void *row, size_t col, size_t *len_r);
};

extern const struct store_record store_record_ticket, store_record_message,
	store_record_attachment, store_record_participant, store_record_event,
	store_record_field, store_record_quarantine, store_record_outbox,
	store_record_mailbox_mark, store_record_outbox_rcpt;
/* In store-label.c. */
extern const struct store_record store_record_label;

/* Describing a record: COL(INT64, store_ticket, id) is a column read into
   a field; RECORD(store_record_ticket, store_ticket, ticket_cols) the
   record made of an array of them. */
#define COL(type, rec, field) { STORE_COL_##type, offsetof(struct rec, field) }
#define RECORD(var, rec, cols) \
	const struct store_record var = { #rec, sizeof(struct rec), cols, N_ELEMENTS(cols) }

/* The *_free() functions of the interface: each frees its records
   through their description and sets the caller's pointer to NULL; NULL
   is fine. */
#define FREE_ONE(fn, type, rec) \
	void fn(struct type **p) \
	{ \
		store_records_free(&(rec), *p, 1); \
		*p = NULL; \
	}
#define FREE_LIST(fn, type, rec) \
	void fn(struct type **p, size_t count) \
	{ \
		store_records_free(&(rec), *p, count); \
		*p = NULL; \
	}

/* The record type of each select. */
extern const struct store_record *const store_select_records[STORE_SELECT_COUNT];

/* Fill the zeroed record item from the reader's current row. */
void store_record_fill(const struct store_record *rec, void *item,
		       const struct store_row_reader *reader, void *row);
/* Free what a record owns (not the record itself). */
void store_record_clear(const struct store_record *rec, void *item);
/* Free an array of count records and what they own; NULL is fine. */
void store_records_free(const struct store_record *rec, void *items, size_t count);

/* Growing an array of records while reading rows: returns the zeroed slot
   for row *n (and counts it). */
void *store_rows_add(const struct store_record *rec, void **items, size_t *n, size_t *cap);

/* The participant roles the schema allows; store_participant_role() maps
   a stored role to one of these static strings ("customer" when it is
   none of them, which the schema's CHECK rules out). */
extern const char *const store_participant_roles[3];
const char *store_participant_role(const char *text);

/* The stored address lists (store_message.to and .cc, store_outbox
   .recipients) are "Name <a@b>, c@d": elements split at ',' or ';' outside
   quotes and angle brackets; an element's address is what its first <...>
   holds, else the element itself, trimmed of blanks. store_address_next()
   gives the next element's address as a span of the list (maybe empty): 1,
   or 0 at the end. */
int store_address_next(const char **listp, const char **addr_r, size_t *len_r);
/* 1 when address is one of the list's addresses (ASCII case folded). */
int store_address_list_has(const char *list, const char *address);

#endif
