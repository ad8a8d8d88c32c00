/*
 * rfc2047: see rfc2047.h for why this is not libetpan's phrase decoder.
 * The base64 and Q codecs here are a few lines each: libetpan's are only
 * reachable through its MIME adapter (mime.c) and OpenSSL's through
 * crypto.c, and neither fits the lenient per-word rules below. All charset
 * work goes through charset.c.
 *
 * Decoding follows what Thunderbird and Python's email package accept, not
 * only what RFC 2047 allows: encoded words glued to text or inside quoted
 * strings, lower-case B/Q, missing base64 padding, and spaces inside the
 * encoded text are all decoded.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/charset.h"
#include "parsers/rfc2047.h"
#include "base/util.h"

/* Longest charset (with language) and encoded text accepted in one word.
   RFC 2047 allows 75 characters for the whole word; real mail exceeds
   that, so the limits are generous but keep scanning linear. */
#define CHARSET_MAX 64
#define WORD_TEXT_MAX 2048

/* ------------------------------------------------------------------ */
/* Output with a hard maximum, cut on a character boundary.            */

struct out {
	struct buf b;
	int full;
};

/* Append valid UTF-8 text without control characters (TAB becomes a
   space; C0, DEL and C1 go); cut at the maximum. */
static void
out_text(struct out *o, const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len && !o->full) {
		size_t start = i;
		while (i < len && s[i] >= 0x20 && s[i] != 0x7f &&
		       !(s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			i++;
		if (i > start) {
			size_t n = i - start, room = o->b.max - o->b.len;
			if (n > room) {
				n = utf8_truncate_len((const char *)s + start, room);
				o->full = 1;
			}
			buf_append(&o->b, s + start, n);
		}
		if (i >= len || o->full)
			break;
		if (s[i] == '\t') {
			if (buf_putc(&o->b, ' ') < 0)
				o->full = 1;
			i++;
		} else {
			i += s[i] == 0xc2 ? 2 : 1;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Encoded word parsing.                                                */

struct word {
	size_t start, end;      /* the whole "=?...?=" in the unfolded text */
	char charset[CHARSET_MAX + 1]; /* without the *lang suffix */
	const char *key;        /* charset_resolve() name, or charset */
	struct buf bytes;       /* decoded, not yet converted */
};

/* Where the next "?=" is: first occurrence at or after from, or len.
   Remembered so that text full of "=?" is scanned in linear time. */
struct end_cache {
	size_t from, at;
	int valid;
};

static size_t
find_word_end(const char *text, size_t len, size_t from, struct end_cache *c)
{
	if (c->valid && c->from <= from && from <= c->at)
		return c->at;
	size_t at = len;
	for (size_t i = from; i + 1 < len; i++) {
		const char *q = memchr(text + i, '?', len - i - 1);
		if (q == NULL)
			break;
		i = (size_t)(q - text);
		if (text[i + 1] == '=') {
			at = i;
			break;
		}
	}
	c->from = from;
	c->at = at;
	c->valid = 1;
	return at;
}

/* The next "=?" at or after from, or NULL. */
static const char *
find_word_start(const char *text, size_t len, size_t from)
{
	while (from + 1 < len) {
		const char *q = memchr(text + from, '=', len - from - 1);
		if (q == NULL)
			return NULL;
		if (q[1] == '?')
			return q;
		from = (size_t)(q - text) + 1;
	}
	return NULL;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Lenient base64: white space ignored, padding optional; -1 on any other
   junk or a dangling single character. */
static int
b_decode(const char *s, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	unsigned n = 0;
	int padding = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t')
			continue;
		if (c == '=') {
			padding = 1;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || padding)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		if (++n == 4) {
			unsigned char b[3] = { (unsigned char)(acc >> 16), (unsigned char)(acc >> 8),
					       (unsigned char)acc };
			buf_append(out, b, 3);
			acc = 0;
			n = 0;
		}
	}
	if (n == 1)
		return -1;
	if (n == 2) {
		buf_putc(out, (unsigned char)(acc >> 4));
	} else if (n == 3) {
		buf_putc(out, (unsigned char)(acc >> 10));
		buf_putc(out, (unsigned char)(acc >> 2));
	}
	return 0;
}

/* Q: '_' is a space, =XX a byte; a '=' without two hex digits stays. */
static void
q_decode(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;
		if (c == '_') {
			buf_putc(out, ' ');
		} else if (c == '=' && i + 2 < len && (hi = hex_digit_value((unsigned char)s[i + 1])) >= 0 &&
			   (lo = hex_digit_value((unsigned char)s[i + 2])) >= 0) {
			buf_putc(out, (unsigned char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_putc(out, c);
		}
	}
}

static int
charset_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '?' && c != '=' && c != '"' && c != '(' && c != ')' &&
	       c != '<' && c != '>' && c != ',' && c != ';' && c != '\\';
}

/* Parse an encoded word at text[pos] ("=?" there); 0 and *w filled (its
   bytes buffer initialised) or -1. */
static int
word_parse(const char *text, size_t len, size_t pos, struct end_cache *cache, struct word *w)
{
	size_t i = pos + 2, cs_start = i;

	while (i < len && i - cs_start <= CHARSET_MAX && charset_char_ok((unsigned char)text[i]))
		i++;
	size_t cs_len = i - cs_start;
	if (cs_len == 0 || cs_len > CHARSET_MAX || i + 3 > len || text[i] != '?' || text[i + 2] != '?')
		return -1;
	char enc = text[i + 1];
	if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q')
		return -1;
	size_t t0 = i + 3;
	size_t e = find_word_end(text, len, t0, cache);
	if (e >= len || e - t0 > WORD_TEXT_MAX)
		return -1;

	memcpy(w->charset, text + cs_start, cs_len);
	w->charset[cs_len] = '\0';
	char *star = strchr(w->charset, '*');
	if (star != NULL)
		*star = '\0';
	if (w->charset[0] == '\0')
		return -1;
	buf_init(&w->bytes, WORD_TEXT_MAX);
	if (enc == 'B' || enc == 'b') {
		if (b_decode(text + t0, e - t0, &w->bytes) < 0) {
			buf_free(&w->bytes);
			return -1;
		}
	} else {
		q_decode(text + t0, e - t0, &w->bytes);
	}
	w->start = pos;
	w->end = e + 2;
	w->key = charset_resolve(w->charset);
	if (w->key == NULL)
		w->key = w->charset;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding.                                                           */

struct decoder {
	const char *text;     /* unfolded value */
	size_t len;
	const char *raw_label; /* charset for text outside encoded words */
	struct out out;
	/* the run of adjacent encoded words with one charset, not yet converted */
	struct buf run;
	char run_label[CHARSET_MAX + 1];
	const char *run_key;
	size_t run_start, run_end;
	int in_run;
};

/* Largest decoded size asked of charset_to_utf8() for len input bytes:
   no decoder produces more than 8 bytes of UTF-8 per input byte. */
static size_t
convert_max(size_t len)
{
	return len > (SIZE_MAX - 64) / 8 ? SIZE_MAX - 1 : len * 8 + 64;
}

static void
run_flush(struct decoder *d)
{
	char *s;
	size_t n;
	int lossy;
	const char *error;

	if (!d->in_run)
		return;
	d->in_run = 0;
	if (charset_to_utf8(d->run_label, d->run.data, d->run.len, convert_max(d->run.len), &s, &n,
			    &lossy, NULL, &error) < 0) {
		/* Unknown charset that detection cannot name: keep the words. */
		out_text(&d->out, (const unsigned char *)d->text + d->run_start,
			 d->run_end - d->run_start);
	} else {
		out_text(&d->out, (unsigned char *)s, n);
		free(s);
	}
	buf_reset(&d->run);
}

static void
emit_raw(struct decoder *d, size_t start, size_t end)
{
	char *s;
	size_t n;
	int lossy;
	const char *error;

	if (start >= end)
		return;
	run_flush(d);
	if (charset_to_utf8(d->raw_label, (const unsigned char *)d->text + start, end - start,
			    convert_max(end - start), &s, &n, &lossy, NULL, &error) < 0) {
		/* Cannot happen for UTF-8 or a detected charset; be safe. */
		if (charset_utf8_repair((const unsigned char *)d->text + start, end - start,
					convert_max(end - start), &s, &n, &lossy, &error) < 0)
			return;
	}
	out_text(&d->out, (unsigned char *)s, n);
	free(s);
}

/* A UTF-16/32 word that starts with a byte order mark (Java writes one in
   every word): it starts a run of its own, or the mark would be read as
   U+FEFF in the middle of the joined bytes. */
static int
word_has_bom(const struct word *w)
{
	const unsigned char *b = w->bytes.data;
	size_t n = w->bytes.len;
	if (b == NULL || (strncasecmp(w->key, "UTF-16", 6) != 0 && strncasecmp(w->key, "UTF-32", 6) != 0))
		return 0;
	return (n >= 2 && ((b[0] == 0xfe && b[1] == 0xff) || (b[0] == 0xff && b[1] == 0xfe))) ||
	       (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xfe && b[3] == 0xff);
}

static void
emit_word(struct decoder *d, struct word *w)
{
	if (d->in_run && (strcasecmp(d->run_key, w->key) != 0 || word_has_bom(w)))
		run_flush(d);
	if (!d->in_run) {
		d->in_run = 1;
		memcpy(d->run_label, w->charset, sizeof(d->run_label));
		d->run_start = w->start;
		/* The key may point into w->charset: keep our own copy. */
		d->run_key = w->key == w->charset ? d->run_label : w->key;
	}
	if (buf_append(&d->run, w->bytes.data, w->bytes.len) < 0) {
		/* Cannot happen: the run is as long as the text at most. */
		run_flush(d);
		return;
	}
	d->run_end = w->end;
}

static int
only_wsp(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/* The charset for the text outside encoded words: UTF-8 when it all is,
   else uchardet's guess over all of it (NULL lets charset_to_utf8 try
   again per piece). */
static const char *
raw_charset(const char *text, size_t len, struct end_cache *cache)
{
	struct buf raw;
	const char *label = "UTF-8";
	size_t pos = 0;

	buf_init(&raw, len);
	while (pos < len) {
		const char *q = find_word_start(text, len, pos);
		size_t next = q != NULL ? (size_t)(q - text) : len;
		struct word w;
		if (q != NULL && word_parse(text, len, next, cache, &w) == 0) {
			buf_append(&raw, text + pos, next - pos);
			buf_free(&w.bytes);
			pos = w.end;
		} else if (q != NULL) {
			buf_append(&raw, text + pos, next + 1 - pos);
			pos = next + 1;
		} else {
			buf_append(&raw, text + pos, len - pos);
			pos = len;
		}
	}
	if (raw.len > 0 && (!utf8_valid(raw.data, raw.len) || memchr(raw.data, 0x1b, raw.len) != NULL))
		label = charset_detect(raw.data, raw.len);
	buf_free(&raw);
	return label;
}

char *
rfc2047_decode(const char *value, size_t max_out)
{
	struct decoder d;
	struct end_cache cache = { 0, 0, 0 };
	size_t vlen = value != NULL ? strlen(value) : 0;
	char *text = xmalloc(vlen + 1);
	size_t len = 0;

	/* Unfold: CR and LF go, the white space after them stays. */
	for (size_t i = 0; i < vlen; i++) {
		if (value[i] != '\r' && value[i] != '\n')
			text[len++] = value[i];
	}
	text[len] = '\0';

	memset(&d, 0, sizeof(d));
	d.text = text;
	d.len = len;
	buf_init(&d.out.b, max_out);
	buf_init(&d.run, len);
	d.raw_label = raw_charset(text, len, &cache);
	cache.valid = 0;

	size_t pos = 0, raw_start = 0;
	int prev_word = 0;
	while (pos < len && !d.out.full) {
		const char *q = find_word_start(text, len, pos);
		if (q == NULL)
			break;
		size_t at = (size_t)(q - text);
		struct word w;
		if (word_parse(text, len, at, &cache, &w) < 0) {
			pos = at + 1;
			continue;
		}
		/* White space between two encoded words disappears. */
		if (!(prev_word && only_wsp(text + raw_start, at - raw_start)))
			emit_raw(&d, raw_start, at);
		emit_word(&d, &w);
		buf_free(&w.bytes);
		pos = raw_start = w.end;
		prev_word = 1;
	}
	if (!d.out.full)
		emit_raw(&d, raw_start, len);
	run_flush(&d);
	buf_free(&d.run);
	free(text);
	size_t out_len;
	char *out = buf_steal(&d.out.b, &out_len);
	if (!utf8_valid((const unsigned char *)out, out_len)) {
		/* A malformed word kept literally can carry raw 8-bit bytes:
		   the result must still be valid UTF-8. */
		char *clean;
		size_t clean_len;
		int lossy;
		const char *ignored;
		if (charset_utf8_repair((const unsigned char *)out, out_len, max_out, &clean,
					&clean_len, &lossy, &ignored) == 0) {
			free(out);
			out = clean;
		} else {
			for (size_t i = 0; i < out_len; i++)
				if ((unsigned char)out[i] >= 0x80)
					out[i] = '?';
		}
		/* Removing a C1 pair from invalid bytes can join two others
		   into a new one ("\xc2\xc2\x9d\x94"): the text is valid
		   UTF-8 now, so removing whole C1 characters once more joins
		   nothing. */
		size_t w = 0;
		for (size_t r = 0; out[r] != '\0'; r++) {
			if ((unsigned char)out[r] == 0xc2 && (unsigned char)out[r + 1] >= 0x80 &&
			    (unsigned char)out[r + 1] <= 0x9f) {
				r++;
				continue;
			}
			out[w++] = out[r];
		}
		out[w] = '\0';
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* RFC 2231                                                            */

char *
rfc2231_decode(const char *value, size_t max_out)
{
	const char *label = NULL, *p = value;
	char cs[CHARSET_MAX + 1];
	struct buf bytes;
	struct out o;
	char *s;
	size_t n;
	int lossy;
	const char *error;

	if (value == NULL)
		return NULL;
	const char *q1 = strchr(value, '\'');
	const char *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
	if (q2 != NULL && (size_t)(q1 - value) <= CHARSET_MAX) {
		int ok = 1;
		for (const char *c = value; c < q1 && ok; c++)
			ok = charset_char_ok((unsigned char)*c) && *c != '\'' && *c != '%';
		for (const char *c = q1 + 1; c < q2 && ok; c++)
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '-';
		if (ok) {
			memcpy(cs, value, (size_t)(q1 - value));
			cs[q1 - value] = '\0';
			label = cs[0] != '\0' ? cs : NULL;
			p = q2 + 1;
		}
	}
	if (p == value)
		label = "UTF-8";

	size_t plen = strlen(p);
	buf_init(&bytes, plen);
	for (size_t i = 0; i < plen; i++) {
		int hi, lo;
		if (p[i] == '%' && i + 2 < plen && (hi = hex_digit_value((unsigned char)p[i + 1])) >= 0 &&
		    (lo = hex_digit_value((unsigned char)p[i + 2])) >= 0) {
			buf_putc(&bytes, (unsigned char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_putc(&bytes, (unsigned char)p[i]);
		}
	}
	int ret = charset_to_utf8(label, bytes.data, bytes.len, max_out, &s, &n, &lossy, NULL, &error);
	buf_free(&bytes);
	if (ret < 0)
		return NULL;
	buf_init(&o.b, max_out);
	o.full = 0;
	out_text(&o, (unsigned char *)s, n);
	free(s);
	return buf_steal(&o.b, NULL);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

#define LINE_MAX_COLS 78
#define WORD_MAX 75
#define WORD_OVERHEAD 12 /* "=?UTF-8?B?" "?=" */

static int
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

/* Plain folding of printable ASCII on spaces; -1 when some piece cannot
   fit in 78 columns (then the text is encoded instead). */
static int
fold_plain(const char *s, size_t len, size_t name_len, struct buf *out)
{
	size_t col = name_len, i = 0;
	int line_used = 0;

	while (i < len) {
		/* A chunk is a space (except at the start) plus the word after it. */
		size_t start = i;
		if (s[i] == ' ')
			i++;
		while (i < len && s[i] != ' ')
			i++;
		size_t n = i - start;
		if (line_used && col + n > LINE_MAX_COLS && s[start] == ' ' && n > 1) {
			buf_puts(out, "\r\n");
			col = 0;
		}
		if (col + n > LINE_MAX_COLS)
			return -1;
		buf_append(out, s + start, n);
		col += n;
		line_used = 1;
	}
	return 0;
}

static void
b64_encode(const unsigned char *in, size_t len, struct buf *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		char q[4] = { alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
			      i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
			      i + 2 < len ? alphabet[v & 63] : '=' };
		buf_append(out, q, 4);
	}
}

static size_t
char_len(const unsigned char *s, size_t len)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	return n > len ? len : n;
}

static void
encode_words(const unsigned char *s, size_t len, size_t name_len, struct buf *out)
{
	size_t qlen = 0, blen = (len + 2) / 3 * 4;
	for (size_t i = 0; i < len; i++)
		qlen += q_safe(s[i]) || s[i] == ' ' ? 1 : 3;
	int use_q = qlen <= blen;
	size_t cap = name_len < LINE_MAX_COLS ? LINE_MAX_COLS - name_len : 0;
	if (cap > WORD_MAX)
		cap = WORD_MAX;
	size_t i = 0;

	while (i < len) {
		/* Room for the encoded text of this word. */
		size_t room = cap > WORD_OVERHEAD ? cap - WORD_OVERHEAD : 0;
		size_t start = i, used = 0;
		if (use_q) {
			while (i < len) {
				size_t n = char_len(s + i, len - i), w = 0;
				for (size_t k = 0; k < n; k++)
					w += q_safe(s[i + k]) || s[i + k] == ' ' ? 1 : 3;
				if (used + w > room && i > start)
					break;
				used += w;
				i += n;
			}
		} else {
			size_t max_bytes = room / 4 * 3;
			while (i < len) {
				size_t n = char_len(s + i, len - i);
				if (used + n > max_bytes && i > start)
					break;
				used += n;
				i += n;
			}
		}
		if (start > 0)
			buf_puts(out, "\r\n ");
		buf_puts(out, use_q ? "=?UTF-8?Q?" : "=?UTF-8?B?");
		if (use_q) {
			for (size_t k = start; k < i; k++) {
				if (s[k] == ' ')
					buf_putc(out, '_');
				else if (q_safe(s[k]))
					buf_putc(out, s[k]);
				else
					buf_printf(out, "=%02X", s[k]);
			}
		} else {
			b64_encode(s + start, i - start, out);
		}
		buf_puts(out, "?=");
		cap = WORD_MAX;
	}
}

char *
rfc2047_encode(const char *utf8, size_t name_len)
{
	char *valid;
	size_t vlen;
	int lossy;
	const char *error;
	struct buf clean, out;

	if (utf8 == NULL)
		return xstrdup("");
	size_t len = strlen(utf8);
	/* Only UTF-8 leaves here: invalid bytes become U+FFFD. */
	if (charset_utf8_repair((const unsigned char *)utf8, len, len * 3 + 16, &valid, &vlen, &lossy,
				&error) < 0)
		return xstrdup("");
	/* No CR, LF or other control characters: header injection. */
	struct out o;
	buf_init(&o.b, vlen);
	o.full = 0;
	out_text(&o, (unsigned char *)valid, vlen);
	free(valid);
	clean = o.b;

	int plain = 1;
	for (size_t i = 0; i < clean.len && plain; i++)
		plain = clean.data[i] >= 0x20 && clean.data[i] < 0x7f;
	/* Text that looks like an encoded word must be encoded itself. */
	if (plain && find_word_start((const char *)clean.data, clean.len, 0) != NULL)
		plain = 0;

	size_t max = clean.len > (SIZE_MAX - 256) / 8 ? SIZE_MAX - 1 : clean.len * 8 + 256;
	buf_init(&out, max);
	if (!plain || fold_plain((const char *)clean.data, clean.len, name_len, &out) < 0) {
		buf_reset(&out);
		encode_words(clean.data, clean.len, name_len, &out);
	}
	buf_free(&clean);
	return buf_steal(&out, NULL);
}
