/*
 * mime-scan: the raw scans done before any parsing (header block, longest
 * line) and the structural pre-scan. Written here by hand, and why:
 * libetpan has no depth or part limit and recurses once per nesting level
 * (100,000 nested multiparts overflow the stack) and allocates every part
 * of a message with millions of tiny parts. So before mailmime_parse()
 * runs, the pre-scan finds the same tree shape without recursion or
 * keeping anything: it calls libetpan's own header-block parsers for every
 * part and repeats only the boundary search of libetpan 1.9.4's
 * mailmime_content.c (static there, so it cannot be called), quirks
 * included, so that both agree on depth and part count; mime_parse()
 * checks that they do (a warning otherwise). The pre-scan also refuses
 * boundary="\"", which crashes libetpan 1.9.4's
 * mailmime_extract_boundary() (strncpy with a length of -1), and repairs
 * in our copy what libetpan would lose data on (an empty body part makes
 * it drop every part of the multipart; without a close delimiter it cuts
 * the last part at its last line starting with '-'; ";;" ends its
 * parameter list).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/mime-int.h"

/* ------------------------------------------------------------------ */
/* Raw scans done before any parsing                                   */

/* Length of the longest line (without its CR LF). */
size_t
mime_longest_line(const unsigned char *raw, size_t len)
{
	size_t best = 0, start = 0;
	while (start < len) {
		const unsigned char *nl = memchr(raw + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - raw) : len;
		size_t n = end - start;
		if (n > 0 && raw[end - 1] == '\r')
			n--;
		if (n > best)
			best = n;
		start = end + 1;
	}
	return best;
}

/*
 * The header block at raw[0..len): *end_r is the offset just past its last
 * field line, *count_r the number of fields. Like libetpan's parser, the
 * block ends at an empty line or at a line that is neither a continuation
 * nor "name:".
 */
void
mime_scan_header_block(const unsigned char *raw, size_t len, size_t *end_r, size_t *count_r)
{
	size_t pos = 0, count = 0;
	while (pos < len) {
		const unsigned char *nl = memchr(raw + pos, '\n', len - pos);
		size_t next = nl != NULL ? (size_t)(nl - raw) + 1 : len;
		unsigned char c = raw[pos];
		if (c == '\n' || (c == '\r' && pos + 1 < len && raw[pos + 1] == '\n'))
			break;
		if (c == ' ' || c == '\t') {
			if (count == 0)
				break;
		} else {
			size_t i = pos;
			while (i < next && raw[i] >= 33 && raw[i] <= 126 && raw[i] != ':')
				i++;
			if (i == pos)
				break;
			while (i < next && (raw[i] == ' ' || raw[i] == '\t'))
				i++;
			if (i >= next || raw[i] != ':')
				break;
			count++;
		}
		pos = next;
	}
	*end_r = pos;
	*count_r = count;
}

/* ------------------------------------------------------------------ */
/* Structural pre-scan (see the top of the file)                       */

enum { DEFAULT_TEXT, DEFAULT_MESSAGE };
enum { ITEM_ENTITY, ITEM_MESSAGE };

struct scan_item {
	int kind;	/* ITEM_ENTITY: a part; ITEM_MESSAGE: a header block, then a part */
	char *buf;	/* a slice of mime_parse()'s copy, which repairs may change */
	size_t len, idx;
	int def;	/* default content type of an ITEM_ENTITY */
	struct mailmime_fields *fields; /* owned; may be NULL */
	size_t depth;	/* of the part */
	size_t true_end; /* where the part really ends in the copy (see
			    scan_add_closer()) */
};

struct scan {
	const struct mime_limits *lim;
	struct scan_item *items;
	size_t n_items, cap_items;
	size_t parts, max_depth;
	size_t repairs; /* of any kind, for the warning */
	size_t blanks;	/* delimiter lines blanked out (each one rescans) */
	const char *error;
	const char *base;	    /* start of the copy */
	struct closer *closers; /* to insert before the next round */
	size_t n_closers;
};

struct closer {
	size_t pos, depth;
	char *text;
};

/* Empty body parts blanked out per message (see scan_multipart()); each
   one costs another pass over the multipart. */
#define SCAN_BLANKS_MAX 8
/* Close delimiters added per round, and rounds (see scan_add_closer()). */
#define SCAN_CLOSERS_MAX 64
#define SCAN_ROUNDS_MAX 4

static int
scan_lwsp(const char *m, size_t len, size_t *idx)
{
	size_t i = *idx;
	if (i >= len)
		return -1;
	while (i < len && (m[i] == ' ' || m[i] == '\t'))
		i++;
	if (i == *idx)
		return -1;
	*idx = i;
	return 0;
}

static int
scan_crlf(const char *m, size_t len, size_t *idx)
{
	size_t i = *idx;
	if (i < len && m[i] == '\r')
		i++;
	if (i >= len || m[i] != '\n')
		return -1;
	*idx = i + 1;
	return 0;
}

static int
scan_boundary(const char *m, size_t len, size_t *idx, const char *b, size_t blen)
{
	if (*idx + blen >= len || memcmp(m + *idx, b, blen) != 0)
		return -1;
	*idx += blen;
	return 0;
}

/* libetpan's mailmime_preamble_parse(): find "--" at (roughly) a line start. */
static int
scan_preamble(const char *m, size_t len, size_t *idx, int beol)
{
	enum { A0, A, A1, B, C, D, E } state = beol ? A0 : A;
	size_t i = *idx;
	while (state != E) {
		if (i >= len)
			return -1;
		char c = m[i];
		switch (state) {
		case A0:
			state = c == '-' ? A1 : c == '\r' ? B : c == '\n' ? C : A;
			break;
		case A:
			state = c == '\r' ? B : c == '\n' ? C : A;
			break;
		case A1:
			state = c == '-' ? E : c == '\r' ? B : c == '\n' ? C : A;
			break;
		case B:
			state = c == '\r' ? B : c == '\n' ? C : c == '-' ? D : A0;
			break;
		case C:
			state = c == '-' ? D : c == '\r' ? B : c == '\n' ? C : A0;
			break;
		case D:
			state = c == '-' ? E : A;
			break;
		case E:
			break;
		}
		i++;
	}
	*idx = i;
	return 0;
}

/* libetpan's mailmime_body_part_dash2_parse(): the text up to the next
   "\n--boundary", or to the end; fails when that text is empty. *delim_r:
   where that "--boundary" starts (len when there is none). */
static int
scan_dash2(const char *m, size_t len, size_t *idx, const char *b, size_t blen, size_t *begin_r,
	   size_t *size_r, size_t *delim_r)
{
	int state = 0;
	size_t cur = *idx, begin = cur, end = len;
	while (state != 5) {
		if (cur >= len)
			break;
		if (state <= 1) {
			/* States 0 and 1 lead to 2 exactly after each LF (a CR
			   only waits for one): jump to it with memchr() instead of
			   a step of the machine per byte of every body. */
			const char *nl = memchr(m + cur, '\n', len - cur);
			if (nl == NULL) {
				cur = len;
				break;
			}
			cur = (size_t)(nl - m) + 1;
			state = 2;
			continue;
		}
		char c = m[cur];
		switch (state) {
		case 2:
			if (c == '-') {
				end = cur;
				state = 3;
			} else {
				state = c == '\r' ? 1 : c == '\n' ? 2 : 0;
			}
			break;
		case 3:
			state = c == '\r' ? 1 : c == '\n' ? 2 : c == '-' ? 4 : 0;
			break;
		case 4:
			state = scan_boundary(m, len, &cur, b, blen) == 0 ? 5 : 6;
			break;
		}
		if (state != 5 && state != 6)
			cur++;
		if (state == 6)
			state = 0;
	}
	*delim_r = state == 5 ? end : len;
	size_t size = end - begin;
	if (size >= 1) {
		if (m[end - 1] == '\r') {
			end--;
		} else if (m[end - 1] == '\n') {
			end--;
			size--;
			if (size >= 1 && m[end - 1] == '\r')
				end--;
		}
	}
	if (end == begin)
		return -1;
	*begin_r = begin;
	*size_r = end - begin;
	*idx = cur;
	return 0;
}

/* A body part ended by a delimiter line ("--boundary" LWSP* CRLF). */
static int
scan_part_open(const char *m, size_t len, size_t *idx, const char *b, size_t blen,
	       size_t *begin_r, size_t *size_r, size_t *delim_r)
{
	size_t cur = *idx, begin = cur, end = cur, db, ds;
	for (;;) {
		if (scan_dash2(m, len, &cur, b, blen, &db, &ds, delim_r) < 0)
			return -1;
		end = db + ds;
		while (scan_lwsp(m, len, &cur) == 0)
			;
		if (scan_crlf(m, len, &cur) == 0)
			break;
	}
	*idx = cur;
	*begin_r = begin;
	*size_r = end - begin;
	return 0;
}

/* The last body part, ended by "--boundary--" or by the end of the data. */
static int
scan_part_close(const char *m, size_t len, size_t *idx, const char *b, size_t blen,
		size_t *begin_r, size_t *size_r, int *closed_r)
{
	size_t cur = *idx, begin = cur, end = cur, db, ds, delim;
	*closed_r = 0;
	for (;;) {
		if (scan_dash2(m, len, &cur, b, blen, &db, &ds, &delim) < 0)
			return -1;
		end = db + ds;
		if (cur >= len)
			break;
		if (cur + 1 < len && m[cur] == '-' && m[cur + 1] == '-') {
			*closed_r = 1;
			break;
		}
	}
	*idx = cur;
	*begin_r = begin;
	*size_r = end - begin;
	return 0;
}

/* libetpan's mailmime_multipart_next_parse(). */
static void
scan_next(const char *m, size_t len, size_t *idx)
{
	size_t i = *idx;
	while (i < len && (m[i] == ' ' || m[i] == '\t'))
		i++;
	if (i < len && m[i] == '\r')
		i++;
	if (i < len && m[i] == '\n')
		*idx = i + 1;
}

static void
scan_push(struct scan *sc, const struct scan_item *item)
{
	if (sc->n_items == sc->cap_items) {
		sc->cap_items = sc->cap_items ? sc->cap_items * 2 : 16;
		sc->items = xreallocarray(sc->items, sc->cap_items, sizeof(*sc->items));
	}
	sc->items[sc->n_items++] = *item;
}

static int
scan_count_part(struct scan *sc, size_t depth)
{
	sc->parts++;
	if (depth > sc->max_depth)
		sc->max_depth = depth;
	if (sc->parts > sc->lim->max_parts) {
		sc->error = mime_limit_error("max_mime_parts", sc->lim->max_parts);
		return -1;
	}
	if (depth > sc->lim->max_depth) {
		sc->error = mime_limit_error("max_mime_depth", sc->lim->max_depth);
		return -1;
	}
	return 0;
}

/*
 * In place, in our copy: a ';' followed (after white space) by another ';'
 * in Content-Type or Content-Disposition becomes a space. libetpan stops
 * reading parameters at ";;" and would lose the boundary (or file name)
 * after it; MIME-tools, Python and mail clients read on.
 */
static size_t
repair_header_block(char *p, size_t len)
{
	size_t end, count, pos = 0, repairs = 0;
	mime_scan_header_block((const unsigned char *)p, len, &end, &count);
	while (pos < end) {
		int wanted = strncasecmp(p + pos, "content-type", 12) == 0 ||
			     strncasecmp(p + pos, "content-disposition", 19) == 0;
		int quoted = 0;
		size_t i = pos;
		/* to the end of the field: a line end not followed by blanks */
		for (; i < end; i++) {
			char c = p[i];
			if (c == '\n' && (i + 1 >= end || (p[i + 1] != ' ' && p[i + 1] != '\t'))) {
				i++;
				break;
			}
			if (!wanted)
				continue;
			if (c == '"')
				quoted = !quoted;
			else if (c == '\\' && quoted && i + 1 < end)
				i++;
			else if (c == ';' && !quoted) {
				size_t k = i + 1;
				while (k < end && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
					k++;
				if (k < end && p[k] == ';') {
					p[i] = ' ';
					repairs++;
				}
			}
		}
		pos = i;
	}
	return repairs;
}

static int
scan_header_limits(struct scan *sc, size_t size, struct mailimf_fields *fields)
{
	if (size > sc->lim->max_header_size) {
		sc->error = mime_limit_error("max_header_size", sc->lim->max_header_size);
		return -1;
	}
	if (fields != NULL && (size_t)clist_count(fields->fld_list) > sc->lim->max_header_count) {
		sc->error = mime_limit_error("max_header_count", sc->lim->max_header_count);
		return -1;
	}
	return 0;
}

static struct mailmime_content *
fields_content_type(struct mailmime_fields *fields)
{
	if (fields == NULL)
		return NULL;
	for (clistiter *it = clist_begin(fields->fld_list); it != NULL; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_TYPE)
			return f->fld_data.fld_content;
	}
	return NULL;
}

/* The boundary libetpan will use, or NULL; -1 for values that crash it. */
static int
scan_extract_boundary(struct mailmime_content *ct, char **boundary_r)
{
	const char *value = mailmime_content_param_get(ct, "boundary");
	*boundary_r = NULL;
	if (value == NULL)
		return 0;
	if (value[0] == '"' && strlen(value) < 2)
		return -1;
	*boundary_r = mailmime_extract_boundary(ct);
	return 0;
}

/*
 * A multipart that ends without its close delimiter (a truncated or
 * hand-made message) loses data in libetpan: its last part is cut at the
 * last line that starts with '-', which may take a nested multipart's
 * delimiters with it. The missing "--boundary--" is therefore inserted
 * where the multipart really ends, and the pre-scan run again (see
 * mime_prescan()). Where it really ends: the end of its slice, unless that
 * slice is the last part of a multipart that was itself not closed (and
 * so possibly cut short), then where that one really ends (true_end).
 */
static void
scan_add_closer(struct scan *sc, const struct scan_item *it, const char *b)
{
	if (sc->n_closers >= SCAN_CLOSERS_MAX || strlen(b) > 200)
		return;
	size_t pos = it->true_end;
	int nl = pos > 0 && sc->base[pos - 1] == '\n';
	sc->closers = xreallocarray(sc->closers, sc->n_closers + 1, sizeof(*sc->closers));
	sc->closers[sc->n_closers].pos = pos;
	sc->closers[sc->n_closers].depth = it->depth;
	sc->closers[sc->n_closers].text = xasprintf("%s--%s--\r\n", nl ? "" : "\r\n", b);
	sc->n_closers++;
}

/*
 * Split a multipart body into part slices and queue them, as libetpan
 * will. libetpan drops every part of a multipart when one part is empty
 * (a delimiter right after another, or a last delimiter with nothing
 * after it, as some mailers write): the delimiter line that opens the
 * empty part is then blanked out in our copy (so the part before it
 * absorbs a line of spaces) and the split is done again, at most
 * SCAN_BLANKS_MAX times per message.
 */
static int
scan_multipart(struct scan *sc, const struct scan_item *it, const char *b, int def)
{
	char *m = it->buf;
	size_t len = it->len, blen = strlen(b);
	size_t first = sc->n_items, first_parts = sc->parts, first_depth = sc->max_depth;

again:;
	size_t cur = it->idx, opener = len;
	if (scan_preamble(m, len, &cur, 1) == 0) {
		for (;;) {
			size_t t = cur;
			if (scan_boundary(m, len, &t, b, blen) == 0) {
				opener = cur - 2;
				cur = t;
				break;
			}
			if (scan_preamble(m, len, &cur, 0) < 0)
				break;
		}
	}
	size_t part_begin = cur;
	for (;;) {
		scan_lwsp(m, len, &cur);
		if (scan_crlf(m, len, &cur) < 0)
			break;
		part_begin = cur;
	}
	cur = part_begin;

	for (int final = 0; !final;) {
		size_t db, ds, delim = len;
		int closed = 1;
		if (scan_part_open(m, len, &cur, b, blen, &db, &ds, &delim) < 0) {
			if (scan_part_close(m, len, &cur, b, blen, &db, &ds, &closed) < 0) {
				for (size_t i = first; i < sc->n_items; i++)
					if (sc->items[i].fields != NULL)
						mailmime_fields_free(sc->items[i].fields);
				sc->n_items = first;
				sc->parts = first_parts;
				sc->max_depth = first_depth;
				if (opener < len && sc->blanks < SCAN_BLANKS_MAX) {
					memset(m + opener, ' ', 2 + blen);
					sc->blanks++;
					sc->repairs++;
					goto again;
				}
				return 0; /* libetpan keeps no part at all */
			}
			final = 1;
			if (!closed && opener < len)
				scan_add_closer(sc, it, b);
		}
		if (scan_count_part(sc, it->depth + 1) < 0)
			return -1;
		char *slice = m + db;
		size_t bp = 0;
		struct mailimf_fields *imf = NULL;
		struct mailmime_fields *mf = NULL;
		sc->repairs += repair_header_block(slice, ds);
		if (mailimf_optional_fields_parse(slice, ds, &bp, &imf) != MAILIMF_NO_ERROR)
			imf = NULL;
		if (scan_header_limits(sc, bp, imf) < 0) {
			if (imf != NULL)
				mailimf_fields_free(imf);
			return -1;
		}
		scan_crlf(slice, ds, &bp);
		if (imf != NULL) {
			if (mailmime_fields_parse(imf, &mf) != MAILIMF_NO_ERROR)
				mf = NULL;
			mailimf_fields_free(imf);
		}
		size_t true_end = final && !closed ? it->true_end : (size_t)(slice - sc->base) + ds;
		struct scan_item child = { ITEM_ENTITY, slice, ds, bp, def, mf, it->depth + 1, true_end };
		scan_push(sc, &child);
		scan_next(m, len, &cur);
		opener = delim;
	}
	return 0;
}

static int
scan_entity(struct scan *sc, const struct scan_item *it)
{
	struct mailmime_content *ct = fields_content_type(it->fields);
	enum { SINGLE, MULTIPLE, MESSAGE } body = SINGLE;
	char *boundary = NULL;
	int def = DEFAULT_TEXT;

	if (ct == NULL) {
		body = it->def == DEFAULT_MESSAGE ? MESSAGE : SINGLE;
	} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			if (scan_extract_boundary(ct, &boundary) < 0) {
				sc->error = "structure: malformed multipart boundary";
				return -1;
			}
			body = boundary != NULL ? MULTIPLE : SINGLE;
			if (strcasecmp(ct->ct_subtype, "digest") == 0)
				def = DEFAULT_MESSAGE;
			break;
		case MAILMIME_COMPOSITE_TYPE_MESSAGE:
			body = strcasecmp(ct->ct_subtype, "rfc822") == 0 ? MESSAGE : SINGLE;
			break;
		default:
			break;
		}
	}
	if (body == MESSAGE && it->fields != NULL) {
		int enc = mailmime_transfer_encoding_get(it->fields);
		if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE || enc == MAILMIME_MECHANISM_BASE64)
			body = SINGLE;
	}
	int ret = 0;
	if (body == MESSAGE) {
		struct scan_item msg = { ITEM_MESSAGE, it->buf, it->len, it->idx,
					 DEFAULT_TEXT, NULL, it->depth + 1, it->true_end };
		scan_push(sc, &msg);
	} else if (body == MULTIPLE) {
		ret = scan_multipart(sc, it, boundary, def);
	}
	free(boundary);
	return ret;
}

/* An embedded message (or the whole message): header block, then a part. */
static int
scan_message(struct scan *sc, const struct scan_item *it)
{
	size_t cur = it->idx;
	struct mailimf_fields *imf = NULL;
	struct mailmime_fields *mf = NULL;

	if (scan_count_part(sc, it->depth) < 0)
		return -1;
	sc->repairs += repair_header_block(it->buf + it->idx, it->len - it->idx);
	if (mailimf_envelope_and_optional_fields_parse(it->buf, it->len, &cur, &imf) !=
	    MAILIMF_NO_ERROR)
		imf = NULL;
	if (scan_header_limits(sc, cur - it->idx, imf) < 0) {
		if (imf != NULL)
			mailimf_fields_free(imf);
		return -1;
	}
	scan_crlf(it->buf, it->len, &cur);
	if (imf != NULL) {
		if (mailmime_fields_parse(imf, &mf) != MAILIMF_NO_ERROR)
			mf = NULL;
		mailimf_fields_free(imf);
	}
	struct scan_item entity = { ITEM_ENTITY, it->buf, it->len, cur,
				    DEFAULT_TEXT, mf, it->depth, it->true_end };
	int ret = scan_entity(sc, &entity);
	if (mf != NULL)
		mailmime_fields_free(mf);
	return ret;
}

static int
closer_cmp(const void *a, const void *b)
{
	const struct closer *x = a, *y = b;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	/* at one place, the inner multipart closes first */
	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return 0;
}

/* One pass over the structure of raw[0..len). */
static int
prescan_round(struct scan *sc, char *raw, size_t len)
{
	struct scan_item top = { ITEM_MESSAGE, raw, len, 0, DEFAULT_TEXT, NULL, 0, len };
	int ret = 0;

	sc->base = raw;
	scan_push(sc, &top);
	while (sc->n_items > 0) {
		struct scan_item it = sc->items[--sc->n_items];
		int r = it.kind == ITEM_MESSAGE ? scan_message(sc, &it) : scan_entity(sc, &it);
		if (it.kind == ITEM_ENTITY && it.fields != NULL)
			mailmime_fields_free(it.fields);
		if (r < 0) {
			ret = -1;
			break;
		}
	}
	for (size_t i = 0; i < sc->n_items; i++)
		if (sc->items[i].fields != NULL)
			mailmime_fields_free(sc->items[i].fields);
	sc->n_items = 0;
	return ret;
}

/*
 * Returns 0 with the part count and depth libetpan will find in *raw_r
 * (after the repairs made there, counted in *repairs_r: the copy may be
 * replaced by a longer one, *raw_r and *len_r updated), or -1 with *error_r
 * (a limit, or a structure libetpan cannot survive).
 */
int
mime_prescan(char **raw_r, size_t *len_r, const struct mime_limits *lim, size_t *parts_r,
	     size_t *depth_r, size_t *repairs_r, const char **error_r)
{
	struct scan sc = { .lim = lim };
	size_t repairs = 0;
	int ret;

	for (int round = 0;; round++) {
		sc.parts = sc.max_depth = sc.repairs = 0;
		ret = prescan_round(&sc, *raw_r, *len_r);
		repairs += sc.repairs;
		if (ret < 0 || sc.n_closers == 0 || round + 1 >= SCAN_ROUNDS_MAX)
			break;
		/* insert the missing close delimiters and look again */
		qsort(sc.closers, sc.n_closers, sizeof(*sc.closers), closer_cmp);
		size_t add = 0;
		for (size_t i = 0; i < sc.n_closers; i++)
			add += strlen(sc.closers[i].text);
		char *copy = xmalloc(*len_r + add + 3);
		size_t from = 0, to = 0;
		for (size_t i = 0; i < sc.n_closers; i++) {
			size_t pos = sc.closers[i].pos, n = strlen(sc.closers[i].text);
			memcpy(copy + to, *raw_r + from, pos - from);
			to += pos - from;
			from = pos;
			memcpy(copy + to, sc.closers[i].text, n);
			to += n;
			free(sc.closers[i].text);
		}
		memcpy(copy + to, *raw_r + from, *len_r - from);
		to += *len_r - from;
		copy[to] = '\0';
		free(*raw_r);
		*raw_r = copy;
		*len_r = to;
		repairs += sc.n_closers;
		sc.n_closers = 0;
	}
	for (size_t i = 0; i < sc.n_closers; i++)
		free(sc.closers[i].text);
	free(sc.closers);
	free(sc.items);
	*parts_r = sc.parts;
	*depth_r = sc.max_depth;
	*repairs_r = repairs;
	*error_r = sc.error;
	return ret;
}

