/*
 * store-copy: copy one desk's store into another; see store-copy.h.
 *
 * The per-table digest is a multiset hash: the SHA-256 of each row's
 * canonical bytes (each value NULL or its text, an integer in decimal,
 * length-prefixed), added up as four 64-bit lanes. Order-free, so the two
 * databases need not sort text the same way (SQLite compares bytes,
 * PostgreSQL its collation), and one pass over each table, no sort.
 */
#include "build-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store/store-copy-driver.h"
#include "gateway/store/store-copy.h"
#include "gateway/store/store-driver.h"

#define COPY_DEFAULT_BATCH 500

/* Every table of the schema, in an order that keeps the foreign keys
   (a row is copied after the rows it refers to). A table that is not
   copied says why. Append a table a migration creates; the check at the
   start of every run (and tests/unit/test-store-copy.c) fails until it is
   here. */
static const struct copy_table {
	const char *name;
	const char *skip; /* NULL: copied */
} copy_tables[] = {
	{ "tickets", NULL },
	{ "ticket_merges", NULL },
	{ "messages", NULL },
	{ "message_rcpt", NULL },
	{ "participants", NULL },
	{ "attachments", NULL },
	{ "events", NULL },
	{ "quarantine", NULL },
	{ "mailboxes", NULL },
	{ "mailbox_marks", NULL },
	{ "ticket_fields", NULL },
	{ "rule_hits", NULL },
	{ "outbox", NULL },
	{ "outbox_rcpt", NULL },
	{ "outbox_rcpt_result", NULL },
	{ "outbox_author", NULL },
	{ "labels", NULL },
	{ "surveys", NULL },
	{ "ticket_sla", NULL },
	{ "timers", NULL },
	{ "sla_notices", NULL },
	{ "digests", NULL },
	{ "reports_sent", NULL },
	{ "leases", "held by gateways of the old store; the new store's gateways take their own "
		    "(a copied lease would make them wait for a holder that is not running)" },
};

/* Tables a driver keeps for itself: not desk data. */
static const char *const driver_tables[] = {
	"deskgate_schema", /* PostgreSQL: the schema version (its own migrations) */
	"blobs",	   /* both drivers' small blobs (SQLite: below blob_file_min), copied
			      through the blob API below */
	"blob_ranges",	   /* attachments kept as ranges of raw blobs: copied as ranges
			      by the blob pass below */
};

/* The columns that name blobs. */
static const struct blob_ref {
	const char *table, *column;
	enum store_blob_kind kind;
} blob_refs[] = {
	{ "messages", "raw_sha256", STORE_BLOB_RAW },
	{ "quarantine", "raw_sha256", STORE_BLOB_RAW },
	{ "attachments", "sha256", STORE_BLOB_ATTACHMENT },
};
static const char *const blob_kind_names[] = { "blobs:raw", "blobs:attachment" };

/* A name from a database's catalogue goes into SQL as a quoted identifier:
   only plain lower-case names are accepted. */
static int
name_plain(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	return 1;
}

void
store_copy_names_free(char ***namesp, size_t count)
{
	if (*namesp == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*namesp)[i]);
	free(*namesp);
	*namesp = NULL;
}

static int
names_have(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

static const struct store_copy_driver *
copy_driver(struct store *store, const char **error_r)
{
	if (store->driver->copy == NULL) {
		*error_r = errf("store: migrate: the %s driver cannot copy", store->driver->name);
		return NULL;
	}
	return store->driver->copy;
}

static const struct copy_table *
table_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(copy_tables); i++) {
		if (strcmp(copy_tables[i].name, name) == 0)
			return &copy_tables[i];
	}
	return NULL;
}

int
store_copy_check_tables(struct store *store, const char **error_r)
{
	const struct store_copy_driver *d = copy_driver(store, error_r);
	char **names = NULL;
	size_t n = 0;
	int ret;

	if (d == NULL)
		return STORE_DATA_BAD;
	if ((ret = d->tables(store, &names, &n, error_r)) < 0)
		return ret;
	ret = STORE_OK;
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		int known = table_find(names[i]) != NULL;
		for (size_t k = 0; k < N_ELEMENTS(driver_tables); k++)
			known |= strcmp(driver_tables[k], names[i]) == 0;
		if (!known) {
			*error_r = errf("store: migrate: table \"%s\" is not known to the copier "
					"(add it to copy_tables[] in gateway/store/store-copy.c)",
					names[i]);
			ret = STORE_DATA_BAD;
		}
	}
	for (size_t i = 0; i < N_ELEMENTS(copy_tables) && ret == STORE_OK; i++) {
		if (!names_have(names, n, copy_tables[i].name)) {
			*error_r = errf("store: migrate: the %s store has no table \"%s\"",
					store->driver->name, copy_tables[i].name);
			ret = STORE_DATA_BAD;
		}
	}
	store_copy_names_free(&names, n);
	return ret;
}

/* ---- columns ------------------------------------------------------------------------ */

/* The columns of one table on both sides: dest[i] is read from source
   expression src[i]. */
struct copy_cols {
	char **dest;
	const char **src; /* into dest[] or "rowid" */
	size_t n;
	char **src_names; /* the source's own list, owned */
	size_t n_src;
};

static void
cols_free(struct copy_cols *c)
{
	store_copy_names_free(&c->dest, c->n);
	store_copy_names_free(&c->src_names, c->n_src);
	free(c->src);
	c->src = NULL;
}

/* Pair the columns: every column of either side must be on the other,
   except an "id" the destination numbers rows with, which a SQLite source
   without one gives as its rowid (outbox_rcpt). */
static int
cols_pair(struct store *from, struct store *to, const char *table, struct copy_cols *c,
	  const char **error_r)
{
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = from->driver->copy->columns(from, table, &c->src_names, &c->n_src, error_r)) < 0)
		return ret;
	if ((ret = to->driver->copy->columns(to, table, &c->dest, &c->n, error_r)) < 0) {
		cols_free(c);
		return ret;
	}
	c->src = xcalloc(c->n + 1, sizeof(*c->src));
	for (size_t i = 0; i < c->n; i++) {
		if (!name_plain(c->dest[i])) {
			*error_r = errf("store: migrate: %s: odd column name", table);
			cols_free(c);
			return STORE_DATA_BAD;
		}
		if (names_have(c->src_names, c->n_src, c->dest[i]))
			c->src[i] = c->dest[i];
		else if (strcmp(c->dest[i], "id") == 0 && strcmp(from->driver->name, "sqlite") == 0)
			c->src[i] = "rowid";
		else {
			*error_r = errf("store: migrate: column %s.%s of the %s store is not in the "
					"%s store", table, c->dest[i], to->driver->name,
					from->driver->name);
			cols_free(c);
			return STORE_DATA_BAD;
		}
	}
	for (size_t i = 0; i < c->n_src; i++) {
		if (!names_have(c->dest, c->n, c->src_names[i])) {
			*error_r = errf("store: migrate: column %s.%s of the %s store is not in the "
					"%s store", table, c->src_names[i], from->driver->name,
					to->driver->name);
			cols_free(c);
			return STORE_DATA_BAD;
		}
	}
	return STORE_OK;
}

/* ---- digests ----------------------------------------------------------------------- */

struct digest {
	int64_t rows;
	uint64_t lane[4];
	struct buf canon;
};

static void
digest_init(struct digest *dg)
{
	memset(dg, 0, sizeof(*dg));
	/* rows come from our own databases, whose values the limits of
	   [limits] already bound */
	buf_init(&dg->canon, SIZE_MAX);
}

static void
digest_row(struct digest *dg, const struct store_copy_value *v, size_t n)
{
	unsigned char sum[32];

	buf_reset(&dg->canon);
	for (size_t i = 0; i < n; i++) {
		char num[24];
		const void *p = v[i].p;
		size_t len = v[i].len;
		if (v[i].type == STORE_COPY_NULL) {
			(void)buf_putc(&dg->canon, 'N');
			continue;
		}
		if (v[i].type == STORE_COPY_INT) {
			len = (size_t)snprintf(num, sizeof(num), "%" PRId64, v[i].i);
			p = num;
		}
		(void)buf_printf(&dg->canon, "V%zu:", len);
		(void)buf_append(&dg->canon, p, len);
	}
	crypto_sha256(dg->canon.data, dg->canon.len, sum);
	for (size_t k = 0; k < 4; k++) {
		uint64_t x = 0;
		for (size_t b = 0; b < 8; b++)
			x = (x << 8) | sum[k * 8 + b];
		dg->lane[k] += x;
	}
	dg->rows++;
}

static void
digest_hex(const struct digest *dg, char hex_r[17])
{
	snprintf(hex_r, 17, "%016" PRIx64, dg->lane[0] ^ dg->lane[1] ^ dg->lane[2] ^ dg->lane[3]);
}

static int
digest_equal(const struct digest *a, const struct digest *b)
{
	return a->rows == b->rows && memcmp(a->lane, b->lane, sizeof(a->lane)) == 0;
}

static int
digest_fn(void *context, const struct store_copy_value *values, size_t n)
{
	digest_row(context, values, n);
	return 0;
}

static int
table_digest(struct store *store, const char *table, const char *const *cols, size_t n,
	     struct digest *dg, const char **error_r)
{
	return store->driver->copy->scan(store, table, cols, n, digest_fn, dg, error_r);
}

/* ---- the same desk? ------------------------------------------------------------------ */

/* A ticket is known by its id and what never changes after its insert:
   created_at, subject, customer address. */
struct ticket_mark {
	int64_t id;
	uint64_t h;
};
struct ticket_marks {
	struct ticket_mark *v;
	size_t n, cap;
	const struct ticket_marks *against; /* dest scan: the source's */
	int64_t foreign_id;		    /* first dest ticket not the source's */
};
static const char *const ticket_mark_cols[] = { "id", "created_at", "subject",
						"customer_address" };

static int
mark_cmp(const void *a, const void *b)
{
	const struct ticket_mark *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
mark_fn(void *context, const struct store_copy_value *v, size_t n)
{
	struct ticket_marks *m = context;
	struct digest dg;
	struct ticket_mark mark;

	digest_init(&dg);
	digest_row(&dg, v + 1, n - 1);
	buf_free(&dg.canon);
	mark.id = v[0].i;
	mark.h = dg.lane[0];
	if (m->against != NULL) {
		const struct ticket_mark *found =
			m->against->n == 0 ? NULL
					   : bsearch(&mark, m->against->v, m->against->n,
						     sizeof(mark), mark_cmp);
		if (found == NULL || found->h != mark.h) {
			m->foreign_id = mark.id;
			return 1;
		}
		return 0;
	}
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 256 : m->cap * 2;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n++] = mark;
	return 0;
}

/* Refuse a destination holding a ticket the source does not have as it is. */
static int
check_same_desk(struct store *from, struct store *to, const char **error_r)
{
	struct ticket_marks src = { 0 }, dst = { 0 };
	int ret;

	ret = from->driver->copy->scan(from, "tickets", ticket_mark_cols, 4, mark_fn, &src,
				       error_r);
	if (ret == STORE_OK) {
		qsort(src.v, src.n, sizeof(*src.v), mark_cmp);
		dst.against = &src;
		ret = to->driver->copy->scan(to, "tickets", ticket_mark_cols, 4, mark_fn, &dst,
					     error_r);
		if (ret > 0) {
			*error_r = errf("store: migrate: the destination holds another desk's data "
					"(its ticket %" PRId64 " is not the source's); refusing to "
					"mix two desks",
					dst.foreign_id);
			ret = STORE_DATA_BAD;
		}
	}
	free(src.v);
	return ret;
}

/* ---- blobs --------------------------------------------------------------------------- */

struct hex_list {
	char (*v)[65];
	size_t n, cap;
};

static int
hex_collect_fn(void *context, const struct store_copy_value *v, size_t n)
{
	struct hex_list *l = context;
	(void)n;
	if (v[0].type != STORE_COPY_TEXT || v[0].len != 64)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 256 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	memcpy(l->v[l->n], v[0].p, 64);
	l->v[l->n++][64] = '\0';
	return 0;
}

static int
hex_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

/* The blobs of kind the source's rows name, sorted, each once. */
static int
blobs_referenced(struct store *from, enum store_blob_kind kind, struct hex_list *l,
		 const char **error_r)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < N_ELEMENTS(blob_refs); i++) {
		if (blob_refs[i].kind != kind)
			continue;
		const char *col = blob_refs[i].column;
		int ret = from->driver->copy->scan(from, blob_refs[i].table, &col, 1,
						   hex_collect_fn, l, error_r);
		if (ret < 0)
			return ret;
	}
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), hex_cmp);
	size_t w = 0;
	for (size_t r = 0; r < l->n; r++) {
		if (w == 0 || memcmp(l->v[w - 1], l->v[r], 64) != 0)
			memcpy(l->v[w++], l->v[r], 65);
	}
	l->n = w;
	return STORE_OK;
}

/* The blob is in the store: a blob of its own, or an attachment kept as a
   range of a raw blob. */
static int
blob_or_range_has(struct store *store, enum store_blob_kind kind, const char *hex,
		  const char **error_r)
{
	struct store_blob_range r;
	int ret = store->driver->copy->blob_has(store, kind, hex, error_r);
	if (ret != 0 || kind != STORE_BLOB_ATTACHMENT)
		return ret;
	return store_blob_range_get(store, hex, &r, error_r);
}

static int
blobs_copy(struct store *from, struct store *to, enum store_blob_kind kind,
	   const struct hex_list *l, int64_t *copied_r, const char **error_r)
{
	for (size_t i = 0; i < l->n; i++) {
		unsigned char *data;
		size_t len;
		char hex[65];
		int ret = blob_or_range_has(to, kind, l->v[i], error_r);
		if (ret < 0)
			return ret;
		if (ret > 0)
			continue;
		/* A range stays a range (its raw blob was copied first: the raw
		   mails come before the attachments). */
		struct store_blob_range r;
		if (kind == STORE_BLOB_ATTACHMENT &&
		    (ret = store_blob_range_get(from, l->v[i], &r, error_r)) != 0) {
			if (ret < 0 || (ret = store_blob_range_copy(to, l->v[i], &r, error_r)) < 0)
				return ret;
			(*copied_r)++;
			continue;
		}
		if ((ret = store_blob_get(from, kind, l->v[i], &data, &len, error_r)) < 0)
			return ret;
		ret = store_blob_put(to, kind, data, len, hex, error_r);
		free(data);
		if (ret < 0)
			return ret;
		(*copied_r)++;
	}
	return STORE_OK;
}

/* Read every blob back from the destination (the reader checks the hash). */
static void
blobs_verify(struct store *from, struct store *to, enum store_blob_kind kind,
	     const struct hex_list *l, struct store_copy_line *line)
{
	struct digest src, dst;
	digest_init(&src);
	digest_init(&dst);
	for (size_t i = 0; i < l->n; i++) {
		struct store_copy_value v = { STORE_COPY_TEXT, 0, (const unsigned char *)l->v[i],
					      64 };
		unsigned char *data;
		size_t len;
		const char *error;
		digest_row(&src, &v, 1);
		if (blob_or_range_has(to, kind, l->v[i], &error) <= 0 ||
		    store_blob_get(to, kind, l->v[i], &data, &len, &error) < 0)
			continue;
		free(data);
		digest_row(&dst, &v, 1);
	}
	(void)from;
	line->source_rows = src.rows;
	line->dest_rows = dst.rows;
	digest_hex(&src, line->source_digest);
	digest_hex(&dst, line->dest_digest);
	line->ok = digest_equal(&src, &dst);
	buf_free(&src.canon);
	buf_free(&dst.canon);
}

/* ---- rows ----------------------------------------------------------------------------- */

struct row_copy {
	struct store *to;
	const char *table;
	const struct copy_cols *cols;
	size_t batch, in_batch;
	int64_t copied;
	int ret;
	const char **error_r;
};

static int
row_copy_fn(void *context, const struct store_copy_value *values, size_t n)
{
	struct row_copy *rc = context;
	int ret;

	if (rc->in_batch == 0 && (ret = store_begin(rc->to, rc->error_r)) < 0) {
		rc->ret = ret;
		return 1;
	}
	ret = rc->to->driver->copy->insert(rc->to, rc->table, (const char *const *)rc->cols->dest,
					   n, values, rc->error_r);
	if (ret < 0) {
		store_rollback(rc->to);
		rc->ret = ret;
		return 1;
	}
	rc->copied += ret;
	if (++rc->in_batch >= rc->batch) {
		rc->in_batch = 0;
		if ((ret = store_commit(rc->to, rc->error_r)) < 0) {
			rc->ret = ret;
			return 1;
		}
	}
	return 0;
}

static int
table_copy(struct store *from, struct store *to, const char *table, const struct copy_cols *c,
	   size_t batch, int64_t *copied_r, const char **error_r)
{
	struct row_copy rc = {
		.to = to, .table = table, .cols = c, .batch = batch, .error_r = error_r,
	};
	int ret = from->driver->copy->scan(from, table, c->src, c->n, row_copy_fn, &rc, error_r);
	if (ret > 0)
		ret = rc.ret;
	else if (ret == STORE_OK && rc.in_batch > 0)
		ret = store_commit(to, error_r);
	else if (ret < 0 && rc.in_batch > 0)
		store_rollback(to);
	*copied_r = rc.copied;
	if (ret == STORE_OK && to->driver->copy->ids_advance != NULL)
		ret = to->driver->copy->ids_advance(to, table, error_r);
	return ret;
}

/* ---- the whole copy ------------------------------------------------------------------ */

static struct store_copy_line *
report_line(struct store_copy_report *r, const char *name)
{
	r->lines = xreallocarray(r->lines, r->count + 1, sizeof(*r->lines));
	struct store_copy_line *line = &r->lines[r->count++];
	memset(line, 0, sizeof(*line));
	line->name = xstrdup(name);
	return line;
}

void
store_copy_report_free(struct store_copy_report **reportp)
{
	struct store_copy_report *r = *reportp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->lines[i].name);
	free(r->lines);
	free(r);
	*reportp = NULL;
}

static int
copy_tables_all(struct store *from, struct store *to, const struct store_copy_options *o,
		struct store_copy_report *r, const char **error_r)
{
	size_t batch = o->batch != 0 ? o->batch : COPY_DEFAULT_BATCH;
	int ret = STORE_OK;

	for (size_t i = 0; i < N_ELEMENTS(copy_tables) && ret == STORE_OK; i++) {
		const struct copy_table *t = &copy_tables[i];
		struct store_copy_line *line = report_line(r, t->name);
		struct copy_cols c;
		struct digest src, dst;

		if (t->skip != NULL) {
			line->skipped = t->skip;
			line->ok = 1;
			continue;
		}
		if ((ret = cols_pair(from, to, t->name, &c, error_r)) < 0)
			break;
		if (!o->verify_only)
			ret = table_copy(from, to, t->name, &c, batch, &line->copied, error_r);
		digest_init(&src);
		digest_init(&dst);
		if (ret == STORE_OK)
			ret = table_digest(from, t->name, c.src, c.n, &src, error_r);
		if (ret == STORE_OK)
			ret = table_digest(to, t->name, (const char *const *)c.dest, c.n, &dst,
					   error_r);
		line->source_rows = src.rows;
		line->dest_rows = dst.rows;
		digest_hex(&src, line->source_digest);
		digest_hex(&dst, line->dest_digest);
		line->ok = digest_equal(&src, &dst);
		if (ret == STORE_OK && !line->ok)
			r->mismatches++;
		buf_free(&src.canon);
		buf_free(&dst.canon);
		cols_free(&c);
	}
	return ret;
}

int
store_copy(struct store *from, struct store *to, const struct store_copy_options *options,
	   struct store_copy_report **report_r, const char **error_r)
{
	struct store_copy_report *r;
	struct hex_list blobs[2];
	int ret;

	*report_r = NULL;
	if (copy_driver(from, error_r) == NULL || copy_driver(to, error_r) == NULL)
		return STORE_DATA_BAD;
	if (to->driver->copy->insert == NULL) {
		*error_r = errf("store: migrate: the %s driver is not a destination",
				to->driver->name);
		return STORE_DATA_BAD;
	}
	if ((ret = store_copy_check_tables(from, error_r)) < 0 ||
	    (ret = store_copy_check_tables(to, error_r)) < 0 ||
	    (ret = check_same_desk(from, to, error_r)) < 0)
		return ret;

	r = xcalloc(1, sizeof(*r));
	memset(blobs, 0, sizeof(blobs));
	/* Blobs first: a row copied is never without the blob it names. */
	for (int k = STORE_BLOB_RAW; k <= STORE_BLOB_ATTACHMENT && ret == STORE_OK; k++) {
		struct store_copy_line *line = report_line(r, blob_kind_names[k]);
		ret = blobs_referenced(from, (enum store_blob_kind)k, &blobs[k], error_r);
		if (ret == STORE_OK && !options->verify_only)
			ret = blobs_copy(from, to, (enum store_blob_kind)k, &blobs[k],
					 &line->copied, error_r);
	}
	if (ret == STORE_OK)
		ret = copy_tables_all(from, to, options, r, error_r);
	for (int k = STORE_BLOB_RAW; k <= STORE_BLOB_ATTACHMENT; k++) {
		if (ret == STORE_OK) {
			blobs_verify(from, to, (enum store_blob_kind)k, &blobs[k], &r->lines[k]);
			if (!r->lines[k].ok)
				r->mismatches++;
		}
		free(blobs[k].v);
	}
	if (ret < 0) {
		store_copy_report_free(&r);
		return ret;
	}
	*report_r = r;
	return STORE_OK;
}
