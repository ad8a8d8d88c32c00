/*
 * mime: see mime.h. libetpan parses (mailimf for header fields,
 * mailmime_parse for the tree, mailmime_part_parse for base64/QP); this
 * file applies the limits, walks the tree and turns it into our types.
 *
 * Written here by hand, and why:
 * - A structural pre-scan (prescan_*): libetpan has no depth or part limit
 *   and recurses once per nesting level (100,000 nested multiparts overflow
 *   the stack) and allocates every part of a message with millions of tiny
 *   parts. So before mailmime_parse() runs, the pre-scan finds the same
 *   tree shape without recursion or keeping anything: it calls libetpan's
 *   own header-block parsers for every part and repeats only the boundary
 *   search of libetpan 1.9.4's mailmime_content.c (static there, so it
 *   cannot be called), quirks included, so that both agree on depth and
 *   part count; mime_parse() checks that they do (a warning otherwise). The
 *   pre-scan also refuses boundary="\"", which crashes libetpan 1.9.4's
 *   mailmime_extract_boundary() (strncpy with a length of -1), and repairs
 *   in our copy what libetpan would lose data on (an empty body part makes
 *   it drop every part of the multipart; without a close delimiter it cuts
 *   the last part at its last line starting with '-'; ";;" ends its
 *   parameter list).
 * - Transfer-encoding checks: libetpan decodes bad base64/QP silently
 *   (skips junk, turns "=XY" with non-hex digits into a byte), so damage is
 *   detected by a separate scan of the encoded bytes.
 * - RFC 2231 continuations (name*0*=, name*1=): libetpan 1.9.4 hands them
 *   over as separate parameters; they are joined here and decoded by
 *   rfc2231_decode().
 * - uuencode (Content-Transfer-Encoding x-uuencode, "begin 644" blocks in
 *   text): no maintained library decodes it.
 * - A lenient parameter reader for Content-Type/-Disposition fields that
 *   libetpan refuses whole ("Content-Type: ; name=x.zip"), for file names.
 * - Safe display file names and the date-to-epoch conversion.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/mailimf.h>
#include <libetpan/mailmime.h>
#include <libetpan/mmapstring.h>

#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/mime.h"
#include "parsers/rfc2047.h"
#include "base/util.h"

/* Decoded header values are cut at this many bytes (OpenSMTPD's cap). */
#define HEADER_VALUE_MAX 65536
/* Decoded file names before sanitising, and the display name limit. */
#define FILENAME_DECODE_MAX 1024
#define FILENAME_MAX_BYTES 255
/* At most this many warnings are kept per message. */
#define WARNINGS_MAX 64
/* RFC 2231 continuation segments considered (name*0 .. name*63). */
#define RFC2231_SEGMENTS_MAX 64

void
mime_limits_default(struct mime_limits *limits)
{
	limits->max_message_size = (size_t)25 << 20;
	limits->max_header_size = (size_t)256 << 10;
	limits->max_header_count = 1000;
	limits->max_line_length = (size_t)1 << 20;
	limits->max_depth = 20;
	limits->max_parts = 500;
	limits->max_attachments = 100;
	limits->max_attachment_size = (size_t)20 << 20;
	limits->max_decoded_size = (size_t)60 << 20;
	limits->max_text_size = (size_t)2 << 20;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static const char *
limit_error(const char *key, size_t value)
{
	return errf("limit: %s %zu exceeded", key, value);
}

/* In place: bytes that do not form valid UTF-8 become '?'. */
static void
utf8_fix(char *s, size_t len)
{
	unsigned char *u = (unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = u[i] < 0x80 ? 1 : u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : 2;
		if (n == 1 || (n <= len - i && utf8_valid(u + i, n))) {
			i += n;
		} else {
			u[i] = '?';
			i++;
		}
	}
}

/* Copy s[0..len) without C0 controls, DEL and NUL, TAB made a space, and
   invalid UTF-8 made '?': a string mime.h may hand out. */
static char *
strip_controls(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			out[n++] = ' ';
		else if (c >= 0x20 && c != 0x7f)
			out[n++] = (char)c;
	}
	out[n] = '\0';
	utf8_fix(out, n);
	return out;
}

/* What rfc2047_decode()/rfc2231_decode() return, held to mime.h's promise
   once more (no control characters, valid UTF-8): header text is hostile
   input and a slip there must not reach the store. Frees s. */
static char *
words_clean(char *s)
{
	if (s == NULL)
		return NULL;
	char *c = strip_controls(s, strlen(s));
	free(s);
	return c;
}

static char *
words_decode(const char *s, size_t max_out)
{
	return words_clean(rfc2047_decode(s, max_out));
}

static char *
lower_dup(const char *s)
{
	char *out = strip_controls(s, strlen(s));
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* Remove one pair of surrounding angle brackets and white space. */
static char *
msgid_clean(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
			   s[len - 1] == '\n'))
		len--;
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c != 0x7f)
			out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	utf8_fix(out, n);
	return out;
}

/* ------------------------------------------------------------------ */
/* The message being built                                             */

struct leaf {
	struct mailmime *mime;
	size_t part; /* index into msg->parts */
	unsigned char *data;
	size_t size;
	int damaged;
	int is_message; /* an embedded message (message/rfc822) */
	int in_body;	/* part of the body text or HTML */
	size_t alt, branch; /* nearest multipart/alternative above (NO_ALT) and
			       which of its children leads here */
};

#define NO_ALT SIZE_MAX

struct ctx {
	const struct mime_limits *lim;
	struct mime_message *msg;
	const char *error; /* first reason to quarantine (error_buf), or NULL */
	char error_buf[512];
	size_t cap_headers, cap_parts, cap_warn;
	size_t decoded_total;
	size_t walk_max_depth;
	size_t uu_parts; /* parts[] entries for uuencoded blocks in text */
	struct leaf *leaves;
	size_t n_leaves, cap_leaves;
};

static void DG_ATTR_PRINTF(2, 3)
warn(struct ctx *ctx, const char *fmt, ...)
{
	struct mime_message *msg = ctx->msg;
	if (msg->n_warnings > WARNINGS_MAX)
		return;
	char *s;
	if (msg->n_warnings == WARNINGS_MAX) {
		s = xstrdup("further warnings suppressed");
	} else {
		va_list ap;
		va_start(ap, fmt);
		s = xvasprintf(fmt, ap);
		va_end(ap);
	}
	if (msg->n_warnings == ctx->cap_warn) {
		ctx->cap_warn = ctx->cap_warn ? ctx->cap_warn * 2 : 4;
		msg->warnings = xreallocarray(msg->warnings, ctx->cap_warn, sizeof(*msg->warnings));
	}
	msg->warnings[msg->n_warnings++] = s;
}

static void
fail(struct ctx *ctx, const char *error)
{
	/* copied at once: errf() buffers are reused */
	if (ctx->error == NULL) {
		snprintf(ctx->error_buf, sizeof(ctx->error_buf), "%s", error);
		ctx->error = ctx->error_buf;
	}
}

/* ------------------------------------------------------------------ */
/* Raw scans done before any parsing                                   */

/* Length of the longest line (without its CR LF). */
static size_t
longest_line(const unsigned char *raw, size_t len)
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
static void
scan_header_block(const unsigned char *raw, size_t len, size_t *end_r, size_t *count_r)
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
		char c = m[cur];
		switch (state) {
		case 0:
			state = c == '\r' ? 1 : c == '\n' ? 2 : 0;
			break;
		case 1:
			state = c == '\n' ? 2 : 0;
			break;
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
		sc->error = limit_error("max_mime_parts", sc->lim->max_parts);
		return -1;
	}
	if (depth > sc->lim->max_depth) {
		sc->error = limit_error("max_mime_depth", sc->lim->max_depth);
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
	scan_header_block((const unsigned char *)p, len, &end, &count);
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
		sc->error = limit_error("max_header_size", sc->lim->max_header_size);
		return -1;
	}
	if (fields != NULL && (size_t)clist_count(fields->fld_list) > sc->lim->max_header_count) {
		sc->error = limit_error("max_header_count", sc->lim->max_header_count);
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
 * prescan()). Where it really ends: the end of its slice, unless that
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
static int
prescan(char **raw_r, size_t *len_r, const struct mime_limits *lim, size_t *parts_r,
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

/* ------------------------------------------------------------------ */
/* Header fields                                                       */

static char *
decode_phrase(const char *s)
{
	if (s == NULL)
		return NULL;
	char *d = words_decode(s, HEADER_VALUE_MAX);
	str_trim(d);
	if (*d == '\0') {
		free(d);
		return NULL;
	}
	return d;
}

static void
address_set(struct mime_address *a, const char *name, const char *addr)
{
	a->name = decode_phrase(name);
	a->address = addr != NULL ? strip_controls(addr, strlen(addr)) : NULL;
}

static void
list_add(struct mime_address_list *l, const char *name, const char *addr, int is_group)
{
	l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
	struct mime_address *a = &l->items[l->count++];
	address_set(a, name, is_group ? NULL : addr);
	if (is_group && a->name == NULL)
		a->name = xstrdup("");
}

static void
list_from_mailboxes(struct mime_address_list *l, struct mailimf_mailbox_list *mbl)
{
	if (mbl == NULL)
		return;
	for (clistiter *it = clist_begin(mbl->mb_list); it != NULL; it = clist_next(it)) {
		struct mailimf_mailbox *mb = clist_content(it);
		list_add(l, mb->mb_display_name, mb->mb_addr_spec, 0);
	}
}

/* Groups become an entry with address NULL followed by their members. */
static void
list_from_addresses(struct mime_address_list *l, struct mailimf_address_list *al)
{
	if (al == NULL)
		return;
	for (clistiter *it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		struct mailimf_address *ad = clist_content(it);
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX && ad->ad_data.ad_mailbox != NULL) {
			list_add(l, ad->ad_data.ad_mailbox->mb_display_name,
				 ad->ad_data.ad_mailbox->mb_addr_spec, 0);
		} else if (ad->ad_type == MAILIMF_ADDRESS_GROUP && ad->ad_data.ad_group != NULL) {
			list_add(l, ad->ad_data.ad_group->grp_display_name, NULL, 1);
			list_from_mailboxes(l, ad->ad_data.ad_group->grp_mb_list);
		}
	}
}

/*
 * Lenient reading of one address that libetpan refused: "<addr>" anywhere
 * (the text before it is the name), else the first word with an '@'.
 */
static void
address_lenient(const char *s, size_t len, char **name_r, char **addr_r)
{
	char *v = xstrndup(s, len);
	char *lt = strchr(v, '<');
	char *gt = lt != NULL ? strchr(lt, '>') : NULL;
	*name_r = *addr_r = NULL;
	if (lt != NULL && gt != NULL) {
		*gt = '\0';
		*lt = '\0';
		*addr_r = msgid_clean(lt + 1);
		str_trim(v);
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			memmove(v, v + 1, n - 1);
		}
		*name_r = decode_phrase(v);
	} else {
		const char *seps = " \t\r\n,;";
		for (char *w = v; *w != '\0';) {
			size_t wl = strcspn(w, seps);
			if (wl > 0 && memchr(w, '@', wl) != NULL) {
				char *word = xstrndup(w, wl);
				*addr_r = msgid_clean(word);
				free(word);
				break;
			}
			w += wl;
			w += strspn(w, seps);
		}
	}
	free(v);
}

static void
list_lenient(struct mime_address_list *l, const char *value)
{
	const char *p = value;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char *name, *addr;
		address_lenient(p, n, &name, &addr);
		if (addr != NULL || name != NULL) {
			l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
			l->items[l->count].name = name;
			l->items[l->count].address = addr;
			l->count++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static void
mailbox_lenient(struct mime_address *a, const char *value)
{
	address_lenient(value, strlen(value), &a->name, &a->address);
}

/* Every "<...>" in s (or, with none, every word with an '@'). */
static void
msgid_list_lenient(const char *s, char ***ids_r, size_t *n_r)
{
	const char *p = s;
	int any = 0;
	while ((p = strchr(p, '<')) != NULL) {
		const char *gt = strchr(p, '>');
		if (gt == NULL)
			break;
		char *tmp = xstrndup(p, (size_t)(gt - p + 1));
		char *id = msgid_clean(tmp);
		free(tmp);
		if (id != NULL) {
			*ids_r = xreallocarray(*ids_r, *n_r + 1, sizeof(**ids_r));
			(*ids_r)[(*n_r)++] = id;
			any = 1;
		}
		p = gt + 1;
	}
	if (any)
		return;
	const char *seps = " \t\r\n,";
	for (p = s; *p != '\0';) {
		size_t wl = strcspn(p, seps);
		if (wl > 0 && memchr(p, '@', wl) != NULL) {
			char *tmp = xstrndup(p, wl);
			char *id = msgid_clean(tmp);
			free(tmp);
			if (id != NULL) {
				*ids_r = xreallocarray(*ids_r, *n_r + 1, sizeof(**ids_r));
				(*ids_r)[(*n_r)++] = id;
			}
		}
		p += wl;
		p += strspn(p, seps);
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
   days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
date_to_epoch(const struct mailimf_date_time *dt, int64_t *epoch_r)
{
	int64_t year = dt->dt_year;
	if (year >= 0 && year < 50)
		year += 2000;
	else if (year >= 50 && year < 1000)
		year += 1900;
	if (year < 1900 || year > 9999 || dt->dt_month < 1 || dt->dt_month > 12 || dt->dt_day < 1 ||
	    dt->dt_day > 31 || dt->dt_hour < 0 || dt->dt_hour > 23 || dt->dt_min < 0 ||
	    dt->dt_min > 59 || dt->dt_sec < 0 || dt->dt_sec > 60 || dt->dt_zone < -9959 ||
	    dt->dt_zone > 9959)
		return -1;
	int zone = dt->dt_zone < 0 ? -dt->dt_zone : dt->dt_zone;
	int64_t offset = (int64_t)(zone / 100) * 3600 + (int64_t)(zone % 100) * 60;
	if (dt->dt_zone < 0)
		offset = -offset;
	*epoch_r = days_from_civil(year, dt->dt_month, dt->dt_day) * 86400 +
		   (int64_t)dt->dt_hour * 3600 + (int64_t)dt->dt_min * 60 + dt->dt_sec - offset;
	return 0;
}

static void
headers_add(struct ctx *ctx, const char *name, const char *raw_value)
{
	struct mime_message *msg = ctx->msg;
	if (msg->n_headers == ctx->cap_headers) {
		ctx->cap_headers = ctx->cap_headers ? ctx->cap_headers * 2 : 16;
		msg->headers = xreallocarray(msg->headers, ctx->cap_headers, sizeof(*msg->headers));
	}
	struct mime_header *h = &msg->headers[msg->n_headers++];
	h->name = strip_controls(name, strlen(name));
	h->value = words_decode(raw_value, HEADER_VALUE_MAX);
	str_trim(h->value);
}

/* The decoded subject. A fold (CR LF and the white space after it) counts
   as one space: Outlook indents continuation lines, which would otherwise
   put runs of spaces into the subject. */
static char *
subject_decode(const char *raw)
{
	if (raw == NULL)
		return xstrdup("");
	char *v = xstrdup(raw);
	size_t w = 0;
	for (size_t r = 0; v[r] != '\0';) {
		size_t k = r;
		if (v[k] == '\r')
			k++;
		if (v[k] == '\n' && (v[k + 1] == ' ' || v[k + 1] == '\t')) {
			k++;
			while (v[k] == ' ' || v[k] == '\t')
				k++;
			while (w > 0 && (v[w - 1] == ' ' || v[w - 1] == '\t'))
				w--;
			v[w++] = ' ';
			r = k;
			continue;
		}
		v[w++] = v[r++];
	}
	v[w] = '\0';
	char *d = words_decode(v, HEADER_VALUE_MAX);
	free(v);
	str_trim(d);
	return d;
}

/* The top-level header block raw[0..len): the decoded list, then the
   structured fields from libetpan's typed parse, with lenient fallbacks
   for the ones it could not parse. */
static void
parse_headers(struct ctx *ctx, const char *raw, size_t len)
{
	struct mime_message *msg = ctx->msg;
	struct mailimf_fields *opt = NULL, *typed = NULL;
	size_t idx = 0;

	char *raw_subject = NULL;
	if (mailimf_optional_fields_parse(raw, len, &idx, &opt) == MAILIMF_NO_ERROR) {
		for (clistiter *it = clist_begin(opt->fld_list); it != NULL; it = clist_next(it)) {
			struct mailimf_field *f = clist_content(it);
			if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD)
				continue;
			struct mailimf_optional_field *of = f->fld_data.fld_optional_field;
			headers_add(ctx, of->fld_name, of->fld_value);
			if (raw_subject == NULL && strcasecmp(of->fld_name, "Subject") == 0)
				raw_subject = xstrdup(of->fld_value);
		}
		mailimf_fields_free(opt);
	}
	msg->subject = subject_decode(raw_subject);
	free(raw_subject);
	const char *lang = mime_header_get(msg, "Content-Language");
	msg->content_language = lang != NULL && *lang != '\0' ? xstrdup(lang) : NULL;

	int have_from = 0, have_sender = 0, have_reply_to = 0, have_to = 0, have_cc = 0;
	int have_msgid = 0, have_irt = 0, have_refs = 0, have_date = 0, have_rp = 0;
	idx = 0;
	if (mailimf_envelope_and_optional_fields_parse(raw, len, &idx, &typed) != MAILIMF_NO_ERROR)
		typed = NULL;
	for (clistiter *it = typed != NULL ? clist_begin(typed->fld_list) : NULL; it != NULL;
	     it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		switch (f->fld_type) {
		case MAILIMF_FIELD_FROM:
			if (!have_from++ && f->fld_data.fld_from->frm_mb_list != NULL) {
				clist *l = f->fld_data.fld_from->frm_mb_list->mb_list;
				struct mailimf_mailbox *mb =
					clist_begin(l) != NULL ? clist_content(clist_begin(l)) : NULL;
				if (mb != NULL)
					address_set(&msg->from, mb->mb_display_name, mb->mb_addr_spec);
			}
			break;
		case MAILIMF_FIELD_SENDER:
			if (!have_sender++ && f->fld_data.fld_sender->snd_mb != NULL)
				address_set(&msg->sender, f->fld_data.fld_sender->snd_mb->mb_display_name,
					    f->fld_data.fld_sender->snd_mb->mb_addr_spec);
			break;
		case MAILIMF_FIELD_REPLY_TO:
			if (!have_reply_to++)
				list_from_addresses(&msg->reply_to, f->fld_data.fld_reply_to->rt_addr_list);
			break;
		case MAILIMF_FIELD_TO:
			if (!have_to++)
				list_from_addresses(&msg->to, f->fld_data.fld_to->to_addr_list);
			break;
		case MAILIMF_FIELD_CC:
			if (!have_cc++)
				list_from_addresses(&msg->cc, f->fld_data.fld_cc->cc_addr_list);
			break;
		case MAILIMF_FIELD_MESSAGE_ID:
			if (!have_msgid++)
				msg->message_id = msgid_clean(f->fld_data.fld_message_id->mid_value);
			break;
		case MAILIMF_FIELD_IN_REPLY_TO:
			if (!have_irt++) {
				clist *l = f->fld_data.fld_in_reply_to->mid_list;
				if (clist_begin(l) != NULL)
					msg->in_reply_to = msgid_clean(clist_content(clist_begin(l)));
			}
			break;
		case MAILIMF_FIELD_REFERENCES:
			if (!have_refs++) {
				clist *l = f->fld_data.fld_references->mid_list;
				for (clistiter *r = clist_begin(l); r != NULL; r = clist_next(r)) {
					char *id = msgid_clean(clist_content(r));
					if (id == NULL)
						continue;
					msg->references = xreallocarray(msg->references, msg->n_references + 1,
									sizeof(*msg->references));
					msg->references[msg->n_references++] = id;
				}
			}
			break;
		case MAILIMF_FIELD_ORIG_DATE:
			if (!have_date++ && f->fld_data.fld_orig_date->dt_date_time != NULL &&
			    date_to_epoch(f->fld_data.fld_orig_date->dt_date_time, &msg->date) == 0)
				msg->has_date = 1;
			break;
		case MAILIMF_FIELD_RETURN_PATH:
			if (!have_rp++) {
				const char *a = f->fld_data.fld_return_path->ret_path != NULL
							? f->fld_data.fld_return_path->ret_path->pt_addr_spec
							: NULL;
				msg->return_path = a != NULL ? strip_controls(a, strlen(a)) : xstrdup("");
			}
			break;
		default:
			break;
		}
	}
	if (typed != NULL)
		mailimf_fields_free(typed);

	/* Fields present but refused by the typed parser: read them leniently
	   from the raw values. */
	for (size_t i = 0; i < msg->n_headers; i++) {
		const char *n = msg->headers[i].name, *v = msg->headers[i].value;
		if (!have_from && strcasecmp(n, "From") == 0) {
			have_from = 1;
			mailbox_lenient(&msg->from, v);
		} else if (!have_sender && strcasecmp(n, "Sender") == 0) {
			have_sender = 1;
			mailbox_lenient(&msg->sender, v);
		} else if (!have_reply_to && strcasecmp(n, "Reply-To") == 0) {
			have_reply_to = 1;
			list_lenient(&msg->reply_to, v);
		} else if (!have_to && strcasecmp(n, "To") == 0) {
			have_to = 1;
			list_lenient(&msg->to, v);
		} else if (!have_cc && strcasecmp(n, "Cc") == 0) {
			have_cc = 1;
			list_lenient(&msg->cc, v);
		} else if (!have_msgid && strcasecmp(n, "Message-ID") == 0) {
			have_msgid = 1;
			char **ids = NULL;
			size_t n_ids = 0;
			msgid_list_lenient(v, &ids, &n_ids);
			msg->message_id = n_ids > 0 ? ids[0] : msgid_clean(v);
			for (size_t k = 1; k < n_ids; k++)
				free(ids[k]);
			free(ids);
		} else if (!have_irt && strcasecmp(n, "In-Reply-To") == 0) {
			have_irt = 1;
			char **ids = NULL;
			size_t n_ids = 0;
			msgid_list_lenient(v, &ids, &n_ids);
			msg->in_reply_to = n_ids > 0 ? ids[0] : NULL;
			for (size_t k = 1; k < n_ids; k++)
				free(ids[k]);
			free(ids);
		} else if (!have_refs && strcasecmp(n, "References") == 0) {
			have_refs = 1;
			msgid_list_lenient(v, &msg->references, &msg->n_references);
		} else if (!have_rp && strcasecmp(n, "Return-Path") == 0) {
			have_rp = 1;
			char *name, *addr;
			address_lenient(v, strlen(v), &name, &addr);
			free(name);
			msg->return_path = addr != NULL ? addr : xstrdup("");
		}
	}
}

/* ------------------------------------------------------------------ */
/* Parameters and file names                                           */

struct param {
	const char *name, *value;
};

struct params {
	struct param *items;
	size_t count;
};

static void
params_add(struct params *ps, const char *name, const char *value)
{
	if (name == NULL || value == NULL)
		return;
	ps->items = xreallocarray(ps->items, ps->count + 1, sizeof(*ps->items));
	ps->items[ps->count].name = name;
	ps->items[ps->count].value = value;
	ps->count++;
}

/* Percent-encode a literal (non-extended) RFC 2231 segment so that it
   survives rfc2231_decode() unchanged. */
static void
append_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%' || c == '\'' || c < 0x20 || c >= 0x7f) {
			unsigned char e[3] = { '%', (unsigned char)hex[c >> 4], (unsigned char)hex[c & 15] };
			buf_append(b, e, 3);
		} else {
			buf_putc(b, c);
		}
	}
}

/*
 * The decoded value of parameter base ("filename", "name"): RFC 2231
 * "base*" first, then continuations "base*0[*]", "base*1[*]"... joined in
 * order, then plain "base" (RFC 2047 words in it decoded, as Outlook writes
 * them). NULL when absent or empty.
 */
static char *
param_decoded(const struct params *ps, const char *base)
{
	const char *plain = NULL, *star = NULL;
	const char *seg[RFC2231_SEGMENTS_MAX] = { NULL };
	int ext[RFC2231_SEGMENTS_MAX] = { 0 };
	size_t blen = strlen(base);
	char *out = NULL;

	for (size_t i = 0; i < ps->count; i++) {
		const char *n = ps->items[i].name;
		if (strcasecmp(n, base) == 0) {
			if (plain == NULL)
				plain = ps->items[i].value;
			continue;
		}
		if (strncasecmp(n, base, blen) != 0 || n[blen] != '*')
			continue;
		const char *r = n + blen + 1;
		if (*r == '\0') {
			if (star == NULL)
				star = ps->items[i].value;
			continue;
		}
		size_t k = 0, digits = 0;
		while (r[digits] >= '0' && r[digits] <= '9' && digits < 3)
			k = k * 10 + (size_t)(r[digits++] - '0');
		if (digits == 0 || (digits > 1 && r[0] == '0') || k >= RFC2231_SEGMENTS_MAX)
			continue;
		int is_ext = r[digits] == '*';
		if (r[digits + (size_t)is_ext] != '\0' || seg[k] != NULL)
			continue;
		seg[k] = ps->items[i].value;
		ext[k] = is_ext;
	}
	if (star != NULL)
		out = words_clean(rfc2231_decode(star, FILENAME_DECODE_MAX));
	if (out == NULL && seg[0] != NULL) {
		int any_ext = 0;
		for (size_t k = 0; k < RFC2231_SEGMENTS_MAX && seg[k] != NULL; k++)
			any_ext |= ext[k];
		struct buf b;
		buf_init(&b, (size_t)1 << 20);
		if (any_ext && !ext[0])
			buf_puts(&b, "''");
		for (size_t k = 0; k < RFC2231_SEGMENTS_MAX && seg[k] != NULL; k++) {
			if (!any_ext || ext[k])
				buf_puts(&b, seg[k]);
			else
				append_escaped(&b, seg[k]);
		}
		if (any_ext)
			out = words_clean(rfc2231_decode(buf_cstr(&b), FILENAME_DECODE_MAX));
		else
			out = words_decode(buf_cstr(&b), FILENAME_DECODE_MAX);
		buf_free(&b);
	}
	if (out == NULL && plain != NULL)
		out = words_decode(plain, FILENAME_DECODE_MAX);
	if (out != NULL) {
		str_trim(out);
		if (*out == '\0')
			x_free(&out);
	}
	return out;
}

static const struct {
	const char *type, *ext;
} type_exts[] = {
	{ "text/plain", "txt" },
	{ "text/html", "html" },
	{ "text/calendar", "ics" },
	{ "text/csv", "csv" },
	{ "text/xml", "xml" },
	{ "text/x-vcard", "vcf" },
	{ "text/vcard", "vcf" },
	{ "image/jpeg", "jpg" },
	{ "image/png", "png" },
	{ "image/gif", "gif" },
	{ "image/bmp", "bmp" },
	{ "image/webp", "webp" },
	{ "image/tiff", "tif" },
	{ "image/heic", "heic" },
	{ "image/svg+xml", "svg" },
	{ "application/pdf", "pdf" },
	{ "application/zip", "zip" },
	{ "application/json", "json" },
	{ "application/msword", "doc" },
	{ "application/vnd.ms-excel", "xls" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx" },
	{ "application/pgp-signature", "asc" },
	{ "application/pkcs7-signature", "p7s" },
	{ "application/x-pkcs7-signature", "p7s" },
	{ "application/ms-tnef", "dat" },
	{ "message/rfc822", "eml" },
	{ "message/delivery-status", "txt" },
	{ "audio/mpeg", "mp3" },
	{ "video/mp4", "mp4" },
};

static const char *
type_ext(const char *type)
{
	for (size_t i = 0; i < N_ELEMENTS(type_exts); i++)
		if (strcmp(type, type_exts[i].type) == 0)
			return type_exts[i].ext;
	if (str_starts_with(type, "text/"))
		return "txt";
	return "bin";
}

/* Length of the UTF-8 character at s[0..len), or 0 when invalid. */
static size_t
utf8_char(const unsigned char *s, size_t len)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || n > len || !utf8_valid(s, n))
		return 0;
	return n;
}

/* Invisible or direction-changing characters used to disguise names
   ("invoice\u202Efdp.exe"), and the BOM. */
static int
is_format_char(const unsigned char *s, size_t n)
{
	if (n == 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 1; /* C1 controls */
	if (n != 3)
		return 0;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x8b || s[2] == 0x8c || s[2] == 0x8d ||
					     s[2] == 0x8e || s[2] == 0x8f ||
					     (s[2] >= 0xaa && s[2] <= 0xae)))
		return 1;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 1;
	return s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf;
}

/*
 * A display file name: the last path component of the decoded name
 * ("/" and "\" both separate), without control or format characters,
 * Windows-reserved characters replaced by '_', no leading dots or spaces,
 * no trailing dots or spaces, at most FILENAME_MAX_BYTES (the extension
 * kept); "attachment-N.ext" when nothing is left.
 */
static char *
safe_filename(const char *name, size_t n, const char *type)
{
	struct buf b;
	buf_init(&b, FILENAME_DECODE_MAX * 4);
	if (name != NULL) {
		const char *base = name;
		for (const char *p = name; *p != '\0'; p++)
			if (*p == '/' || *p == '\\')
				base = p + 1;
		const unsigned char *s = (const unsigned char *)base;
		size_t len = strlen(base);
		for (size_t i = 0; i < len;) {
			size_t cl = utf8_char(s + i, len - i);
			if (cl == 0) {
				i++;
				continue;
			}
			unsigned char c = s[i];
			if (cl == 1 && (c < 0x20 || c == 0x7f)) {
				;
			} else if (is_format_char(s + i, cl)) {
				;
			} else if (cl == 1 && strchr(":*?\"<>|", c) != NULL) {
				buf_putc(&b, '_');
			} else if (b.len == 0 && cl == 1 && (c == '.' || c == ' ')) {
				;
			} else {
				buf_append(&b, s + i, cl);
			}
			i += cl;
		}
		while (b.len > 0 && (b.data[b.len - 1] == '.' || b.data[b.len - 1] == ' '))
			b.len--;
		if (b.data != NULL)
			b.data[b.len] = '\0';
	}
	if (b.len == 0) {
		buf_free(&b);
		return xasprintf("attachment-%zu.%s", n, type_ext(type));
	}
	char *s = buf_steal(&b, NULL);
	size_t len = strlen(s);
	if (len > FILENAME_MAX_BYTES) {
		const char *dot = strrchr(s, '.');
		size_t ext_len = dot != NULL ? strlen(dot) : 0;
		if (ext_len > 32 || ext_len == len)
			ext_len = 0;
		size_t stem = utf8_truncate_len(s, FILENAME_MAX_BYTES - ext_len);
		memmove(s + stem, s + len - ext_len, ext_len + 1);
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* Parts                                                               */

static const char *
discrete_name(int t)
{
	switch (t) {
	case MAILMIME_DISCRETE_TYPE_TEXT:
		return "text";
	case MAILMIME_DISCRETE_TYPE_IMAGE:
		return "image";
	case MAILMIME_DISCRETE_TYPE_AUDIO:
		return "audio";
	case MAILMIME_DISCRETE_TYPE_VIDEO:
		return "video";
	case MAILMIME_DISCRETE_TYPE_APPLICATION:
		return "application";
	default:
		return NULL;
	}
}

static char *
content_type_string(const struct mailmime *m)
{
	const struct mailmime_content *ct = m->mm_content_type;
	const char *type = NULL;
	if (ct == NULL || ct->ct_type == NULL || ct->ct_subtype == NULL)
		return xstrdup(m->mm_type == MAILMIME_MESSAGE ? "message/rfc822" : "text/plain");
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		const struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;
		type = d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION ? d->dt_extension
								       : discrete_name(d->dt_type);
	} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		const struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;
		type = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE	 ? "message"
		       : c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart"
									 : c->ct_token;
	}
	/* libetpan reads a subtype-less "text" as "text/unknown"; RFC 2045
	   makes an invalid text type text/plain */
	if (type != NULL && strcmp(type, "text") == 0 && strcmp(ct->ct_subtype, "unknown") == 0)
		return xstrdup("text/plain");
	char *s = xasprintf("%s/%s", type != NULL ? type : "application", ct->ct_subtype);
	char *l = lower_dup(s);
	free(s);
	return l;
}

static struct mailmime_field *
first_field(const struct mailmime *m, int type)
{
	if (m->mm_mime_fields == NULL)
		return NULL;
	for (clistiter *it = clist_begin(m->mm_mime_fields->fld_list); it != NULL; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == type)
			return f;
	}
	return NULL;
}

static int
part_encoding(const struct mailmime *m, const char **token_r)
{
	struct mailmime_field *f = first_field(m, MAILMIME_FIELD_TRANSFER_ENCODING);
	*token_r = NULL;
	if (f == NULL || f->fld_data.fld_encoding == NULL)
		return MAILMIME_MECHANISM_7BIT;
	*token_r = f->fld_data.fld_encoding->enc_token;
	return f->fld_data.fld_encoding->enc_type;
}

static char *
encoding_name(int enc, const char *token)
{
	switch (enc) {
	case MAILMIME_MECHANISM_7BIT:
		return xstrdup("7bit");
	case MAILMIME_MECHANISM_8BIT:
		return xstrdup("8bit");
	case MAILMIME_MECHANISM_BINARY:
		return xstrdup("binary");
	case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
		return xstrdup("quoted-printable");
	case MAILMIME_MECHANISM_BASE64:
		return xstrdup("base64");
	default:
		return lower_dup(token != NULL ? token : "unknown");
	}
}

/*
 * Lenient reading of the parameters of one header field of a part, for
 * fields libetpan refused or cut short ("Content-Type: ; name=x.zip",
 * junk before a parameter): the value after the first ';', split at ';'
 * outside quotes into name=value. Values are stored in *store (freed by
 * the caller with params_raw_free()).
 */
struct raw_params {
	struct params ps;
	char **store;
	size_t n_store;
};

static void
params_raw(const char *h, size_t hlen, const char *field, struct raw_params *rp)
{
	size_t flen = strlen(field), pos = 0;
	while (pos < hlen) {
		const char *nl = memchr(h + pos, '\n', hlen - pos);
		size_t next = nl != NULL ? (size_t)(nl - h) + 1 : hlen;
		if (hlen - pos > flen && strncasecmp(h + pos, field, flen) == 0) {
			size_t i = pos + flen;
			while (i < next && (h[i] == ' ' || h[i] == '\t'))
				i++;
			if (i < next && h[i] == ':')
				break;
		}
		pos = next;
	}
	if (pos >= hlen)
		return;
	/* the unfolded value */
	struct buf v;
	buf_init(&v, hlen);
	size_t i = pos + flen;
	while (i < hlen && h[i] != ':')
		i++;
	for (i++; i < hlen; i++) {
		if (h[i] == '\n' && (i + 1 >= hlen || (h[i + 1] != ' ' && h[i + 1] != '\t')))
			break;
		buf_putc(&v, h[i] == '\r' || h[i] == '\n' || h[i] == '\t' ? ' ' : (unsigned char)h[i]);
	}
	const char *s = buf_cstr(&v);
	int quoted = 0, first = 1;
	struct buf name, value;
	buf_init(&name, hlen);
	buf_init(&value, hlen);
	int in_value = 0;
	for (size_t k = 0;; k++) {
		char c = s[k];
		if (c == '\0' || (c == ';' && !quoted)) {
			if (!first && in_value) {
				char *n = str_trim(xstrdup(buf_cstr(&name)));
				char *val = str_trim(xstrdup(buf_cstr(&value)));
				rp->store = xreallocarray(rp->store, rp->n_store + 2, sizeof(*rp->store));
				rp->store[rp->n_store++] = n;
				rp->store[rp->n_store++] = val;
				params_add(&rp->ps, n, val);
			}
			first = 0;
			in_value = 0;
			buf_reset(&name);
			buf_reset(&value);
			if (c == '\0')
				break;
			continue;
		}
		if (first)
			continue;
		if (!in_value) {
			if (c == '=')
				in_value = 1;
			else
				buf_putc(&name, (unsigned char)c);
			continue;
		}
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (c == '\\' && quoted && s[k + 1] != '\0') {
			buf_putc(&value, (unsigned char)s[++k]);
			continue;
		}
		if (quoted || c != ' ' || value.len > 0)
			buf_putc(&value, (unsigned char)c);
	}
	buf_free(&name);
	buf_free(&value);
	buf_free(&v);
}

static void
params_raw_free(struct raw_params *rp)
{
	for (size_t i = 0; i < rp->n_store; i++)
		free(rp->store[i]);
	free(rp->store);
	free(rp->ps.items);
}

/* The raw header block of a part (libetpan keeps where the part starts and
   where its body starts). */
static int
part_header(const struct mailmime *m, const char **h_r, size_t *len_r)
{
	if (m->mm_mime_start == NULL || m->mm_body == NULL ||
	    m->mm_body->dt_type != MAILMIME_DATA_TEXT)
		return -1;
	const char *body = m->mm_body->dt_data.dt_text.dt_data;
	if (body < m->mm_mime_start || body > m->mm_mime_start + m->mm_length)
		return -1;
	*h_r = m->mm_mime_start;
	*len_r = (size_t)(body - m->mm_mime_start);
	return 0;
}

static size_t
add_part(struct ctx *ctx, const struct mailmime *m, size_t depth)
{
	struct mime_message *msg = ctx->msg;
	if (msg->n_parts == ctx->cap_parts) {
		ctx->cap_parts = ctx->cap_parts ? ctx->cap_parts * 2 : 8;
		msg->parts = xreallocarray(msg->parts, ctx->cap_parts, sizeof(*msg->parts));
	}
	struct mime_part_info *pi = &msg->parts[msg->n_parts];
	memset(pi, 0, sizeof(*pi));
	pi->depth = (unsigned int)depth;
	pi->content_type = content_type_string(m);
	if (m->mm_content_type != NULL) {
		const char *cs = mailmime_content_param_get(m->mm_content_type, "charset");
		if (cs != NULL)
			pi->charset = strip_controls(cs, strlen(cs));
	}
	const char *token;
	int enc = part_encoding(m, &token);
	pi->encoding = encoding_name(enc, token);

	struct params ps = { NULL, 0 };
	struct mailmime_field *df = first_field(m, MAILMIME_FIELD_DISPOSITION);
	if (df != NULL && df->fld_data.fld_disposition != NULL) {
		struct mailmime_disposition *d = df->fld_data.fld_disposition;
		if (d->dsp_type != NULL) {
			if (d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_INLINE)
				pi->disposition = xstrdup("inline");
			else if (d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
				pi->disposition = xstrdup("attachment");
			else if (d->dsp_type->dsp_extension != NULL)
				pi->disposition = lower_dup(d->dsp_type->dsp_extension);
		}
		for (clistiter *it = clist_begin(d->dsp_parms); it != NULL; it = clist_next(it)) {
			struct mailmime_disposition_parm *p = clist_content(it);
			if (p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				params_add(&ps, "filename", p->pa_data.pa_filename);
			else if (p->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
				 p->pa_data.pa_parameter != NULL)
				params_add(&ps, p->pa_data.pa_parameter->pa_name,
					   p->pa_data.pa_parameter->pa_value);
		}
		pi->filename = param_decoded(&ps, "filename");
		ps.count = 0;
	}
	if (pi->filename == NULL && m->mm_content_type != NULL) {
		for (clistiter *it = clist_begin(m->mm_content_type->ct_parameters); it != NULL;
		     it = clist_next(it)) {
			struct mailmime_parameter *p = clist_content(it);
			params_add(&ps, p->pa_name, p->pa_value);
		}
		pi->filename = param_decoded(&ps, "name");
	}
	free(ps.items);
	const char *h;
	size_t hlen;
	if (pi->filename == NULL && part_header(m, &h, &hlen) == 0) {
		struct raw_params rp = { { NULL, 0 }, NULL, 0 };
		params_raw(h, hlen, "Content-Disposition", &rp);
		pi->filename = param_decoded(&rp.ps, "filename");
		params_raw_free(&rp);
		if (pi->filename == NULL) {
			memset(&rp, 0, sizeof(rp));
			params_raw(h, hlen, "Content-Type", &rp);
			pi->filename = param_decoded(&rp.ps, "name");
			params_raw_free(&rp);
		}
	}
	return msg->n_parts++;
}

static int
is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static int
base64_damaged(const unsigned char *p, size_t n)
{
	size_t chars = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (is_b64(c)) {
			if (pad > 0)
				return 1;
			chars++;
		} else if (c == '=') {
			pad++;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return 1;
		}
	}
	return chars % 4 == 1 || pad > 2;
}

/* Bytes that cannot be in base64 text: not in the alphabet, '=' or a line
   end, and blanks other than trailing ones. */
static size_t
base64_junk(const unsigned char *p, size_t n)
{
	size_t junk = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (is_b64(c) || c == '=' || c == '\r' || c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			size_t k = i;
			while (k < n && (p[k] == ' ' || p[k] == '\t'))
				k++;
			if (k == n || p[k] == '\r' || p[k] == '\n') {
				i = k - 1;
				continue;
			}
		}
		junk++;
	}
	return junk;
}

static int
qp_damaged(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '=')
			continue;
		if (i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
			i += 2;
			continue;
		}
		if (i + 1 == n)
			continue; /* soft line break at the end of the part */
		if (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'))
			continue;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* uuencode                                                            */

/*
 * Content-Transfer-Encoding x-uuencode, and "begin 644 name" blocks in
 * plain text (old clients; Outlook Express still offers it). Neither
 * libetpan nor glibc decodes it, so it is done here.
 */

static const char *const uu_encodings[] = { "x-uuencode", "x-uue", "uuencode", "uue", NULL };

static int
is_uu_encoding(const char *token)
{
	for (size_t i = 0; token != NULL && uu_encodings[i] != NULL; i++)
		if (strcasecmp(token, uu_encodings[i]) == 0)
			return 1;
	return 0;
}

/* The line at p[pos..): its end without CR LF; *next_r the next line. */
static size_t
line_end(const unsigned char *p, size_t n, size_t pos, size_t *next_r)
{
	const unsigned char *nl = memchr(p + pos, '\n', n - pos);
	size_t end = nl != NULL ? (size_t)(nl - p) : n;
	*next_r = nl != NULL ? end + 1 : n;
	if (end > pos && p[end - 1] == '\r')
		end--;
	return end;
}

/* "begin 644 name": 3 or 4 octal digits; *name_r is the offset of the name. */
static int
uu_begin(const unsigned char *l, size_t len, size_t *name_r)
{
	size_t i = 6, digits = 0;
	if (len < 6 || memcmp(l, "begin ", 6) != 0)
		return 0;
	while (i < len && l[i] >= '0' && l[i] <= '7' && digits < 5) {
		i++;
		digits++;
	}
	if (digits < 3 || digits > 4 || i >= len || l[i] != ' ' || i + 1 >= len)
		return 0;
	*name_r = i + 1;
	return 1;
}

/* Decode lines from p[*pos_r..n) up to an "end" line: 0 with *pos_r after
   it, or -1 when there is none. */
static int
uu_decode(const unsigned char *p, size_t n, size_t *pos_r, struct buf *out, int *damaged_r)
{
	size_t pos = *pos_r, next;
	while (pos < n) {
		size_t end = line_end(p, n, pos, &next), len = end - pos;
		const unsigned char *l = p + pos;
		pos = next;
		if (len >= 3 && memcmp(l, "end", 3) == 0) {
			size_t k = 3;
			while (k < len && (l[k] == ' ' || l[k] == '\t'))
				k++;
			if (k == len) {
				*pos_r = pos;
				return 0;
			}
		}
		if (len == 0)
			continue;
		if (l[0] < 0x20 || l[0] > 0x60) {
			*damaged_r = 1;
			continue;
		}
		size_t count = (size_t)((l[0] - 0x20) & 0x3f), done = 0;
		for (size_t g = 1; done < count; g += 4) {
			unsigned int c[4];
			for (size_t k = 0; k < 4; k++) {
				/* missing characters: trailing spaces stripped in transit */
				unsigned char ch = g + k < len ? l[g + k] : ' ';
				if (ch < 0x20 || ch > 0x60)
					*damaged_r = 1;
				c[k] = (unsigned int)(ch - 0x20) & 0x3f;
			}
			unsigned char b[3] = { (unsigned char)(c[0] << 2 | c[1] >> 4),
					       (unsigned char)(c[1] << 4 | c[2] >> 2),
					       (unsigned char)(c[2] << 6 | c[3]) };
			size_t take = count - done < 3 ? count - done : 3;
			if (buf_append(out, b, take) < 0) {
				*damaged_r = 1;
				return -1;
			}
			done += take;
		}
	}
	*pos_r = n;
	return -1;
}

/* The body of a part in Content-Transfer-Encoding x-uuencode. */
static void
uu_decode_body(const unsigned char *p, size_t n, unsigned char **data_r, size_t *size_r,
	       int *damaged_r)
{
	struct buf out;
	size_t pos = 0, next, name;
	buf_init(&out, n);
	while (pos < n) {
		size_t end = line_end(p, n, pos, &next);
		if (uu_begin(p + pos, end - pos, &name))
			break;
		pos = next;
	}
	if (pos >= n) {
		*damaged_r = 1; /* no "begin" line: decode it all */
		pos = 0;
	} else {
		pos = next;
	}
	if (uu_decode(p, n, &pos, &out, damaged_r) < 0)
		*damaged_r = 1;
	*data_r = (unsigned char *)buf_steal(&out, size_r);
}

struct uu_block {
	char *name;
	unsigned char *data;
	size_t size;
	int damaged;
};

/* Cut complete "begin ... end" blocks out of a text leaf. */
static size_t
uu_extract(struct leaf *l, struct uu_block **blocks_r)
{
	const unsigned char *p = l->data;
	size_t n = l->size, pos = 0, copied = 0, next, name, count = 0;
	struct buf keep;
	*blocks_r = NULL;
	buf_init(&keep, n);
	while (pos < n) {
		size_t end = line_end(p, n, pos, &next);
		if (!uu_begin(p + pos, end - pos, &name)) {
			pos = next;
			continue;
		}
		struct buf out;
		size_t q = next;
		int damaged = 0;
		buf_init(&out, n);
		if (uu_decode(p, n, &q, &out, &damaged) < 0) {
			buf_free(&out);
			pos = next;
			continue;
		}
		*blocks_r = xreallocarray(*blocks_r, count + 1, sizeof(**blocks_r));
		struct uu_block *b = &(*blocks_r)[count++];
		b->name = xstrndup((const char *)p + pos + name, end - pos - name);
		b->damaged = damaged;
		b->data = (unsigned char *)buf_steal(&out, &b->size);
		buf_append(&keep, p + copied, pos - copied);
		copied = pos = q;
	}
	if (count == 0) {
		buf_free(&keep);
		return 0;
	}
	buf_append(&keep, p + copied, n - copied);
	free(l->data);
	l->data = (unsigned char *)buf_steal(&keep, &l->size);
	return count;
}

/* Transfer-decode a leaf with libetpan. The decoded bytes are ours. */
static void
decode_leaf(const struct mailmime *m, int is_text, unsigned char **data_r, size_t *size_r,
	    int *damaged_r)
{
	const struct mailmime_data *body = m->mm_body;
	*data_r = NULL;
	*size_r = 0;
	*damaged_r = 0;
	if (body == NULL || body->dt_type != MAILMIME_DATA_TEXT) {
		*data_r = xmalloc(1);
		return;
	}
	const unsigned char *p = (const unsigned char *)body->dt_data.dt_text.dt_data;
	size_t n = body->dt_data.dt_text.dt_length;
	const char *token;
	int enc = part_encoding(m, &token);

	size_t b64_chars = 0;
	if (enc == MAILMIME_MECHANISM_BASE64 && is_text && base64_junk(p, n) * 20 > n) {
		/* text labelled base64 that is not: shown as it is */
		*damaged_r = 2;
		enc = MAILMIME_MECHANISM_BINARY;
	} else if (enc == MAILMIME_MECHANISM_BASE64) {
		*damaged_r = base64_damaged(p, n);
		for (size_t i = 0; i < n; i++)
			b64_chars += is_b64(p[i]);
	} else if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		*damaged_r = qp_damaged(p, n);
		/* libetpan keeps a soft line break at the very end as "=" */
		size_t k = n;
		while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		if (k > 0 && p[k - 1] == '=')
			n = k - 1;
	} else if (enc == MAILMIME_MECHANISM_TOKEN && is_uu_encoding(token)) {
		uu_decode_body(p, n, data_r, size_r, damaged_r);
		return;
	} else {
		enc = MAILMIME_MECHANISM_BINARY;
	}

	size_t idx = 0, out_len = 0;
	char *out = NULL;
	if (n == 0 || mailmime_part_parse((const char *)p, n, &idx, enc, &out, &out_len) !=
			      MAILIMF_NO_ERROR) {
		*data_r = xmalloc(n + 1);
		if (n > 0)
			memcpy(*data_r, p, n);
		*size_r = n;
		return;
	}
	unsigned char *d = xmalloc(out_len + 1);
	if (out_len > 0)
		memcpy(d, out, out_len);
	mmap_string_unref(out);
	/* a lone base64 character left over holds 6 bits, no byte, but
	   libetpan writes one */
	if (enc == MAILMIME_MECHANISM_BASE64 && b64_chars % 4 == 1 && out_len > 0)
		out_len--;

	/* libetpan's QP decoder writes every line end as CR LF; give back the
	   line ends of the input when it had no CR at all. */
	if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE && memchr(p, '\r', n) == NULL) {
		int encoded_cr = 0;
		for (size_t i = 0; i + 2 < n && !encoded_cr; i++)
			encoded_cr = p[i] == '=' && p[i + 1] == '0' && (p[i + 2] == 'D' || p[i + 2] == 'd');
		if (!encoded_cr) {
			size_t w = 0;
			for (size_t i = 0; i < out_len; i++)
				if (!(d[i] == '\r' && i + 1 < out_len && d[i + 1] == '\n'))
					d[w++] = d[i];
			out_len = w;
		}
	}
	*data_r = d;
	*size_r = out_len;
}

static void
leaf_add(struct ctx *ctx, const struct leaf *l)
{
	if (ctx->n_leaves == ctx->cap_leaves) {
		ctx->cap_leaves = ctx->cap_leaves ? ctx->cap_leaves * 2 : 8;
		ctx->leaves = xreallocarray(ctx->leaves, ctx->cap_leaves, sizeof(*ctx->leaves));
	}
	ctx->leaves[ctx->n_leaves++] = *l;
}

static int
count_decoded(struct ctx *ctx, size_t size)
{
	ctx->decoded_total += size;
	if (ctx->decoded_total > ctx->lim->max_decoded_size) {
		fail(ctx, limit_error("max_decoded_size", ctx->lim->max_decoded_size));
		return -1;
	}
	return 0;
}

static int
part_is_named(const struct mime_part_info *pi)
{
	return pi->filename != NULL ||
	       (pi->disposition != NULL && strcmp(pi->disposition, "attachment") == 0);
}

/* A uuencoded block found in a text part becomes a part of its own (a
   child of the text part in parts[]) and an attachment. */
static void
uu_part(struct ctx *ctx, struct uu_block *b, size_t depth)
{
	struct mime_message *msg = ctx->msg;
	char *name = b->name;
	b->name = NULL;
	if (ctx->error != NULL || msg->n_parts >= ctx->lim->max_parts ||
	    count_decoded(ctx, b->size) < 0) {
		if (ctx->error == NULL)
			fail(ctx, limit_error("max_mime_parts", ctx->lim->max_parts));
		free(name);
		free(b->data);
		return;
	}
	if (msg->n_parts == ctx->cap_parts) {
		ctx->cap_parts = ctx->cap_parts ? ctx->cap_parts * 2 : 8;
		msg->parts = xreallocarray(msg->parts, ctx->cap_parts, sizeof(*msg->parts));
	}
	struct mime_part_info *pi = &msg->parts[msg->n_parts];
	memset(pi, 0, sizeof(*pi));
	pi->depth = (unsigned int)depth;
	pi->content_type = xstrdup("application/octet-stream");
	pi->encoding = xstrdup("x-uuencode");
	pi->filename = decode_phrase(name);
	pi->decoded_size = b->size;
	free(name);
	struct leaf l = { .part = msg->n_parts++, .data = b->data, .size = b->size,
			  .damaged = b->damaged, .alt = NO_ALT };
	ctx->uu_parts++;
	if (l.damaged)
		warn(ctx, "part %zu: invalid x-uuencode", l.part + 1);
	leaf_add(ctx, &l);
}

/* Depth-first walk of libetpan's tree, in document order. Recursion is
   bounded by max_depth (checked by the pre-scan, and again here). */
static void
walk(struct ctx *ctx, struct mailmime *m, size_t depth, int in_message, size_t alt,
     size_t branch)
{
	if (ctx->error != NULL || m == NULL)
		return;
	if (depth > ctx->lim->max_depth) {
		fail(ctx, limit_error("max_mime_depth", ctx->lim->max_depth));
		return;
	}
	if (ctx->msg->n_parts >= ctx->lim->max_parts) {
		fail(ctx, limit_error("max_mime_parts", ctx->lim->max_parts));
		return;
	}
	if (depth > ctx->walk_max_depth)
		ctx->walk_max_depth = depth;
	size_t idx = add_part(ctx, m, depth);
	struct leaf l = { .mime = m, .part = idx, .alt = alt, .branch = branch };

	switch (m->mm_type) {
	case MAILMIME_MULTIPLE: {
		int is_alt = strcmp(ctx->msg->parts[idx].content_type, "multipart/alternative") == 0;
		size_t i = 0;
		for (clistiter *it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
		     it = clist_next(it), i++)
			walk(ctx, clist_content(it), depth + 1, in_message, is_alt ? idx : alt,
			     is_alt ? i : branch);
		break;
	}
	case MAILMIME_MESSAGE:
		if (m->mm_body != NULL && m->mm_body->dt_type == MAILMIME_DATA_TEXT)
			l.size = m->mm_body->dt_data.dt_text.dt_length;
		ctx->msg->parts[idx].decoded_size = l.size;
		if (!in_message) {
			if (count_decoded(ctx, l.size) < 0)
				return;
			l.data = xmalloc(l.size + 1);
			if (l.size > 0)
				memcpy(l.data, m->mm_body->dt_data.dt_text.dt_data, l.size);
			l.is_message = 1;
			leaf_add(ctx, &l);
		}
		walk(ctx, m->mm_data.mm_message.mm_msg_mime, depth + 1, 1, NO_ALT, 0);
		break;
	default:
		decode_leaf(m, str_starts_with(ctx->msg->parts[idx].content_type, "text/"), &l.data,
			    &l.size, &l.damaged);
		ctx->msg->parts[idx].decoded_size = l.size;
		if (l.damaged == 2)
			warn(ctx, "part %zu: not base64 as declared, kept as it is", idx + 1);
		else if (l.damaged)
			warn(ctx, "part %zu: invalid %s", idx + 1, ctx->msg->parts[idx].encoding);
		if (count_decoded(ctx, l.size) < 0 || in_message) {
			free(l.data);
			return;
		}
		struct uu_block *blocks = NULL;
		size_t n_blocks = 0;
		if (strcmp(ctx->msg->parts[idx].content_type, "text/plain") == 0 &&
		    !part_is_named(&ctx->msg->parts[idx]) && depth < ctx->lim->max_depth)
			n_blocks = uu_extract(&l, &blocks);
		leaf_add(ctx, &l);
		for (size_t i = 0; i < n_blocks; i++)
			uu_part(ctx, &blocks[i], depth + 1);
		free(blocks);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Body text and attachments                                           */

/* Line ends become LF; C0 controls other than TAB and LF, and DEL, go. */
static char *
text_normalize(const char *s, size_t len, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r') {
			if (i + 1 < len && s[i + 1] == '\n')
				continue;
			out[n++] = '\n';
		} else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	utf8_fix(out, n);
	*len_r = n;
	return out;
}

/* A leaf's bytes in UTF-8, normalised; -1 with *error_r when its charset
   cannot be decoded. */
static int
leaf_to_utf8(struct ctx *ctx, const struct leaf *l, char **out_r, size_t *len_r,
	     const char **error_r)
{
	const struct mime_part_info *pi = &ctx->msg->parts[l->part];
	char *out;
	size_t len;
	int lossy = 0;
	const char *used = NULL;
	size_t max_out = l->size > (SIZE_MAX - 64) / 3 ? SIZE_MAX - 1 : l->size * 3 + 64;

	if (charset_to_utf8(pi->charset, l->data, l->size, max_out, &out, &len, &lossy, &used,
			    error_r) < 0)
		return -1;
	if (pi->charset != NULL && charset_resolve(pi->charset) == NULL)
		warn(ctx, "part %zu: charset %s unknown, detected %s", l->part + 1, pi->charset,
		     used != NULL ? used : "?");
	if (lossy)
		warn(ctx, "part %zu: bytes invalid in %s replaced", l->part + 1,
		     used != NULL ? used : pi->charset != NULL ? pi->charset : "the detected charset");
	*out_r = text_normalize(out, len, len_r);
	free(out);
	return 0;
}

static int
leaf_is_named(const struct ctx *ctx, const struct leaf *l)
{
	return part_is_named(&ctx->msg->parts[l->part]);
}

static void
set_text(struct ctx *ctx, char *text, size_t len)
{
	struct mime_message *msg = ctx->msg;
	if (len > ctx->lim->max_text_size) {
		len = utf8_truncate_len(text, ctx->lim->max_text_size);
		text[len] = '\0';
		msg->text_truncated = 1;
		warn(ctx, "body text cut at %zu bytes", len);
	}
	free(msg->text);
	msg->text = text;
	msg->text_len = len;
}

static int
only_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

/* Another leaf already used is an alternative to this one: under the same
   multipart/alternative, through another of its children. */
static int
is_other_alternative(const struct ctx *ctx, const struct leaf *l, const char *type)
{
	if (l->alt == NO_ALT)
		return 0;
	for (size_t i = 0; i < ctx->n_leaves; i++) {
		const struct leaf *u = &ctx->leaves[i];
		if (u != l && u->in_body && u->alt == l->alt && u->branch != l->branch &&
		    strcmp(ctx->msg->parts[u->part].content_type, type) == 0)
			return 1;
	}
	return 0;
}

/*
 * All unnamed, non-attachment leaves of this type outside embedded
 * messages, converted and joined in document order (mail clients show
 * them one after the other: Apple Mail splits HTML around inline images,
 * list servers add a footer part), but only one branch of a
 * multipart/alternative; failing that, the first named one that is
 * explicitly inline (which then stays an attachment as well). Returns the
 * number of leaves used, or -1 when one of them cannot be decoded.
 */
static int
join_body(struct ctx *ctx, const char *type, struct buf *out, const char **error_r)
{
	int used = 0;
	for (int pass = 0; pass < 2 && used == 0; pass++) {
		for (size_t i = 0; i < ctx->n_leaves; i++) {
			struct leaf *l = &ctx->leaves[i];
			const struct mime_part_info *pi = &ctx->msg->parts[l->part];
			if (l->is_message || strcmp(pi->content_type, type) != 0)
				continue;
			if (pass == 0 ? leaf_is_named(ctx, l)
				      : pi->disposition == NULL || strcmp(pi->disposition, "inline") != 0)
				continue;
			if (is_other_alternative(ctx, l, type)) {
				l->in_body = 1; /* an alternative form: not an attachment */
				continue;
			}
			char *s;
			size_t len;
			if (leaf_to_utf8(ctx, l, &s, &len, error_r) < 0) {
				*error_r = errf("part %zu: %s", l->part + 1, *error_r);
				return -1;
			}
			if (out->len > 0 && out->data[out->len - 1] != '\n')
				buf_putc(out, '\n');
			buf_append(out, s, len);
			free(s);
			l->in_body = 1;
			used++;
			if (pass == 1)
				break;
		}
	}
	return used;
}

/* Text forms that only render the body another way. */
static const char *const body_forms[] = { "text/plain",	   "text/html",	      "text/enriched",
					  "text/richtext", "text/watch-html", "text/x-watch-html",
					  "text/x-amp-html", NULL };

/* Unnamed leaves in another branch of a multipart/alternative than a body
   leaf, in one of body_forms[] (Apple's text/watch-html, text/enriched, a
   second text/plain) are other forms of the body, not attachments; a
   text/calendar invitation there stays an attachment. */
static void
consume_alternatives(struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_leaves; i++) {
		struct leaf *l = &ctx->leaves[i];
		int form = 0;
		for (size_t k = 0; body_forms[k] != NULL; k++)
			form |= strcmp(ctx->msg->parts[l->part].content_type, body_forms[k]) == 0;
		if (l->in_body || l->alt == NO_ALT || leaf_is_named(ctx, l) || !form)
			continue;
		for (size_t k = 0; k < ctx->n_leaves; k++) {
			const struct leaf *u = &ctx->leaves[k];
			if (u->in_body && u->alt == l->alt && u->branch != l->branch) {
				l->in_body = 1;
				break;
			}
		}
	}
}

static void
choose_body(struct ctx *ctx)
{
	struct mime_message *msg = ctx->msg;
	struct buf text, html;
	const char *error;

	buf_init(&text, SIZE_MAX / 2);
	buf_init(&html, SIZE_MAX / 2);
	int n_text = join_body(ctx, "text/plain", &text, &error);
	if (n_text < 0) {
		fail(ctx, errf("charset: %s", error));
		goto out;
	}
	int n_html = join_body(ctx, "text/html", &html, &error);
	if (n_html < 0) {
		if (n_text == 0) {
			fail(ctx, errf("charset: %s", error));
			goto out;
		}
		warn(ctx, "HTML dropped: %s", error);
		n_html = 0;
		buf_reset(&html);
	}
	if (n_html > 0)
		msg->html = buf_steal(&html, &msg->html_len);
	consume_alternatives(ctx);
	if (n_text > 0) {
		size_t len;
		char *s = buf_steal(&text, &len);
		set_text(ctx, s, len);
	}
	/* HTML made text when there is no plain text, or only white space */
	if (msg->html != NULL && only_space(msg->text)) {
		char *s;
		size_t len;
		size_t max_out = msg->html_len > (SIZE_MAX - 4096) / 2 ? SIZE_MAX - 1
									: msg->html_len * 2 + 4096;
		if (html_to_text(msg->html, msg->html_len, max_out, &s, &len, &error) < 0) {
			warn(ctx, "HTML not converted to text: %s", error);
		} else if (n_text == 0 || !only_space(s)) {
			char *norm = text_normalize(s, len, &len);
			set_text(ctx, norm, len);
			msg->text_from_html = 1;
		}
		free(s);
	}
out:
	buf_free(&text);
	buf_free(&html);
}

/* "Subject.eml" for an embedded message, or NULL. */
static char *
embedded_subject_name(const struct mailmime *m)
{
	if (m->mm_type != MAILMIME_MESSAGE || m->mm_data.mm_message.mm_fields == NULL)
		return NULL;
	clist *l = m->mm_data.mm_message.mm_fields->fld_list;
	for (clistiter *it = clist_begin(l); it != NULL; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		if (f->fld_type != MAILIMF_FIELD_SUBJECT || f->fld_data.fld_subject == NULL)
			continue;
		char *s = decode_phrase(f->fld_data.fld_subject->sbj_value);
		if (s == NULL)
			return NULL;
		s[utf8_truncate_len(s, strnlen(s, 200))] = '\0';
		char *name = xasprintf("%s.eml", s);
		free(s);
		return name;
	}
	return NULL;
}

static void
make_attachments(struct ctx *ctx)
{
	struct mime_message *msg = ctx->msg;
	size_t cap = 0;
	for (size_t i = 0; i < ctx->n_leaves; i++) {
		struct leaf *l = &ctx->leaves[i];
		const struct mime_part_info *pi = &msg->parts[l->part];
		if (l->in_body && !leaf_is_named(ctx, l))
			continue;
		struct mailmime_field *idf =
			l->mime != NULL ? first_field(l->mime, MAILMIME_FIELD_ID) : NULL;
		char *cid = idf != NULL && idf->fld_data.fld_id != NULL ? msgid_clean(idf->fld_data.fld_id)
								       : NULL;
		/* empty unnamed parts (a trailing empty text part, an empty
		   message) are noise */
		if (l->size == 0 && pi->filename == NULL && cid == NULL) {
			free(cid);
			continue;
		}
		if (msg->n_attachments >= ctx->lim->max_attachments) {
			fail(ctx, limit_error("max_attachments", ctx->lim->max_attachments));
			free(cid);
			return;
		}
		if (l->size > ctx->lim->max_attachment_size) {
			fail(ctx, limit_error("max_attachment_size", ctx->lim->max_attachment_size));
			free(cid);
			return;
		}
		if (msg->n_attachments == cap) {
			cap = cap ? cap * 2 : 4;
			msg->attachments = xreallocarray(msg->attachments, cap, sizeof(*msg->attachments));
		}
		struct mime_attachment *a = &msg->attachments[msg->n_attachments++];
		char *subject_name =
			pi->filename == NULL && l->mime != NULL ? embedded_subject_name(l->mime) : NULL;
		a->filename = safe_filename(pi->filename != NULL ? pi->filename : subject_name,
					    msg->n_attachments, pi->content_type);
		free(subject_name);
		a->content_type = xstrdup(pi->content_type);
		a->content_id = cid;
		a->is_inline = pi->disposition != NULL ? strcmp(pi->disposition, "inline") == 0
						       : cid != NULL && str_starts_with(pi->content_type, "image/");
		a->damaged = l->damaged != 0;
		a->data = l->data;
		a->size = l->size;
		l->data = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

int
mime_parse(const unsigned char *raw, size_t len, const struct mime_limits *limits,
	   struct mime_message **msg_r, const char **error_r)
{
	struct mime_limits defaults;
	struct ctx ctx;
	size_t hdr_end, hdr_count;

	*msg_r = NULL;
	*error_r = NULL;
	if (limits == NULL) {
		mime_limits_default(&defaults);
		limits = &defaults;
	}
	/* A UTF-8 byte order mark, an mbox postmark ("From sender date") and
	   white space before the header, as editors, mbox files, MTA pipes and
	   some web forms leave them: skipped. */
	if (raw != NULL && len >= 3 && raw[0] == 0xef && raw[1] == 0xbb && raw[2] == 0xbf) {
		raw += 3;
		len -= 3;
	}
	while (raw != NULL && len > 0) {
		const unsigned char *nl = memchr(raw, '\n', len);
		size_t line = nl != NULL ? (size_t)(nl - raw) + 1 : len, i = 0;
		while (i < line && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n'))
			i++;
		if (i < line && !(len >= 5 && memcmp(raw, "From ", 5) == 0 && nl != NULL)) {
			raw += i; /* " From: ..." */
			len -= i;
			break;
		}
		raw += line;
		len -= line;
	}
	if (raw == NULL || len == 0) {
		*error_r = "structure: empty message";
		return -1;
	}
	scan_header_block(raw, len, &hdr_end, &hdr_count);
	if (hdr_end > limits->max_header_size) {
		*error_r = limit_error("max_header_size", limits->max_header_size);
		return -1;
	}
	if (hdr_count > limits->max_header_count) {
		*error_r = limit_error("max_header_count", limits->max_header_count);
		return -1;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = limits;
	ctx.msg = xcalloc(1, sizeof(*ctx.msg));
	*msg_r = ctx.msg;

	/* NUL bytes in the header block: the copy stops there (libetpan would
	   misread them anyway); a last field without a line end gets one */
	char *hdr = xmalloc(hdr_end + 3);
	size_t hdr_len = strnlen((const char *)raw, hdr_end);
	memcpy(hdr, raw, hdr_len);
	if (hdr_len > 0 && hdr[hdr_len - 1] != '\n') {
		hdr[hdr_len++] = '\r';
		hdr[hdr_len++] = '\n';
	}
	hdr[hdr_len] = '\0';
	parse_headers(&ctx, hdr, hdr_len);
	free(hdr);
	ctx.msg->header_size = hdr_end;
	ctx.msg->text = xstrdup("");

	if (len > limits->max_message_size)
		fail(&ctx, limit_error("max_message_size", limits->max_message_size));
	else if (longest_line(raw, len) > limits->max_line_length)
		fail(&ctx, limit_error("max_line_length", limits->max_line_length));

	char *copy = NULL;
	struct mailmime *mime = NULL;
	size_t scan_parts = 0, scan_depth = 0;
	if (ctx.error == NULL) {
		/* libetpan gets a NUL-terminated copy: some of its token parsers
		   use C string functions */
		copy = xmalloc(len + 3);
		memcpy(copy, raw, len);
		/* a header that runs to the end without a line end loses its last
		   field in libetpan */
		if (hdr_end >= len && raw[len - 1] != '\n') {
			copy[len++] = '\r';
			copy[len++] = '\n';
		}
		copy[len] = '\0';
		const char *error;
		size_t repairs;
		if (prescan(&copy, &len, limits, &scan_parts, &scan_depth, &repairs, &error) < 0)
			fail(&ctx, error);
		else if (repairs > 0)
			warn(&ctx, "%zu MIME structure error(s) repaired", repairs);
	}
	if (ctx.error == NULL) {
		size_t idx = 0;
		int r = mailmime_parse(copy, len, &idx, &mime);
		if (r != MAILIMF_NO_ERROR) {
			mime = NULL;
			fail(&ctx, errf("structure: MIME parse failed (libetpan error %d)", r));
		}
	}
	if (mime != NULL) {
		if (mime->mm_type == MAILMIME_MESSAGE)
			walk(&ctx, mime->mm_data.mm_message.mm_msg_mime, 0, 0, NO_ALT, 0);
		if (ctx.error == NULL && (ctx.msg->n_parts - ctx.uu_parts != scan_parts ||
					  ctx.walk_max_depth != scan_depth))
			warn(&ctx, "internal: pre-scan found %zu parts, depth %zu; libetpan %zu, %zu",
			     scan_parts, scan_depth, ctx.msg->n_parts, ctx.walk_max_depth);
		if (ctx.error == NULL || strncmp(ctx.error, "limit:", 6) == 0)
			choose_body(&ctx);
		if (ctx.error == NULL)
			make_attachments(&ctx);
		mailmime_free(mime);
	}
	for (size_t i = 0; i < ctx.n_leaves; i++)
		free(ctx.leaves[i].data);
	free(ctx.leaves);
	free(copy);

	if (ctx.error == NULL && hdr_count == 0)
		fail(&ctx, "structure: no header fields");
	if (ctx.error != NULL) {
		*error_r = errf("%s", ctx.error_buf);
		return -1;
	}
	return 0;
}

static void
address_free(struct mime_address *a)
{
	free(a->name);
	free(a->address);
}

static void
address_list_free(struct mime_address_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		address_free(&l->items[i]);
	free(l->items);
}

void
mime_message_free(struct mime_message **msgp)
{
	struct mime_message *msg = msgp != NULL ? *msgp : NULL;
	if (msg == NULL)
		return;
	for (size_t i = 0; i < msg->n_headers; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	free(msg->subject);
	free(msg->message_id);
	free(msg->in_reply_to);
	for (size_t i = 0; i < msg->n_references; i++)
		free(msg->references[i]);
	free(msg->references);
	address_free(&msg->from);
	address_free(&msg->sender);
	address_list_free(&msg->reply_to);
	address_list_free(&msg->to);
	address_list_free(&msg->cc);
	free(msg->return_path);
	free(msg->content_language);
	free(msg->text);
	free(msg->html);
	for (size_t i = 0; i < msg->n_attachments; i++) {
		free(msg->attachments[i].filename);
		free(msg->attachments[i].content_type);
		free(msg->attachments[i].content_id);
		free(msg->attachments[i].data);
	}
	free(msg->attachments);
	for (size_t i = 0; i < msg->n_parts; i++) {
		free(msg->parts[i].content_type);
		free(msg->parts[i].charset);
		free(msg->parts[i].encoding);
		free(msg->parts[i].filename);
		free(msg->parts[i].disposition);
	}
	free(msg->parts);
	for (size_t i = 0; i < msg->n_warnings; i++)
		free(msg->warnings[i]);
	free(msg->warnings);
	free(msg);
	*msgp = NULL;
}

const char *
mime_header_get(const struct mime_message *msg, const char *name)
{
	if (msg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < msg->n_headers; i++)
		if (strcasecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	return NULL;
}
