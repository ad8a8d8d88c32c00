/*
 * mime-decode: transfer decoding of one leaf. Written here by hand, and
 * why:
 * - base64: one table-driven pass that decodes, checks for damage and
 *   writes straight into the leaf's buffer. libetpan's decoder appends
 *   every 3 bytes to an MMAPString (a call, a length check and a possible
 *   realloc per 3 bytes), decodes bad input silently, so it needed two more
 *   scans of ours (damage, alphabet count) and a copy out of its string:
 *   four passes over every attachment. Measured on the bench corpus
 *   (docs/performance.md, "MIME and blobs"). The output is libetpan's
 *   byte for byte (test-mime: "base64 attachment bytes"). OpenSSL's EVP
 *   decoder refuses what mail clients send (junk, missing padding) instead
 *   of decoding around it, and lives in the gateway layer.
 * - quoted-printable: one pass that writes into the leaf's buffer with the
 *   line ends it will keep. libetpan's decoder (mailmime_part_parse)
 *   appends to an MMAPString, always writes CR LF, so a second pass took
 *   the CRs out again for LF mail, and a third copied the result out of
 *   its string. The output is libetpan's byte for byte (test-mime: "QP
 *   attachment bytes"), with one exception: "=X" as the last two bytes,
 *   where libetpan also writes the byte after the part (it reads one past
 *   its length); here X alone.
 * - Damage checks: libetpan decodes bad QP silently (turns "=XY" with
 *   non-hex digits into a byte), so damage is found by a scan of the '='
 *   signs (memchr) before decoding.
 * - uuencode (Content-Transfer-Encoding x-uuencode, "begin 644" blocks in
 *   text): no maintained library decodes it.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/mime-int.h"

/* ------------------------------------------------------------------ */
/* Damage checks                                                       */

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* Each byte's base64 value (0-63), or what else it is. */
enum { B64_PAD = 64, B64_SPACE, B64_JUNK };
#define P B64_PAD
#define S B64_SPACE
#define J B64_JUNK
static const unsigned char b64_value[256] = {
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  S,  S,  J,  J,  S,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 S,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J, 62,  J,  J,  J, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61,  J,  J,  J,  P,  J,  J,
	 J,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,  J,  J,  J,  J,  J,
	 J, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
	 J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,  J,
};
#undef P
#undef S
#undef J

/* Decode base64 in one pass: characters outside the alphabet are skipped
   (as libetpan does), a last group of 2 or 3 characters gives 1 or 2
   bytes, a lone one none. Damaged: a byte that is neither alphabet, '='
   nor white space, a character after padding, more than two '=', or a
   lone last character. */
static void
base64_decode(const unsigned char *p, size_t n, unsigned char **data_r, size_t *size_r,
	      int *damaged_r)
{
	unsigned char *d = xmalloc(n / 4 * 3 + 3);
	size_t w = 0, chars = 0, pad = 0;
	uint32_t acc = 0;
	int damaged = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned int v = b64_value[p[i]];
		if (v < 64) {
			damaged |= pad > 0;
			acc = acc << 6 | v;
			if ((++chars & 3) == 0) {
				d[w] = (unsigned char)(acc >> 16);
				d[w + 1] = (unsigned char)(acc >> 8);
				d[w + 2] = (unsigned char)acc;
				w += 3;
				acc = 0;
			}
		} else if (v == B64_PAD) {
			pad++;
		} else if (v == B64_JUNK) {
			damaged = 1;
		}
	}
	switch (chars & 3) {
	case 2:
		d[w++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		d[w++] = (unsigned char)(acc >> 10);
		d[w++] = (unsigned char)(acc >> 2);
		break;
	default:
		break;
	}
	d[w] = '\0';
	*data_r = d;
	*size_r = w;
	*damaged_r = damaged || (chars & 3) == 1 || pad > 2;
}

/* Bytes that cannot be in base64 text: not in the alphabet, '=' or a line
   end, and blanks other than trailing ones. */
static size_t
base64_junk(const unsigned char *p, size_t n)
{
	size_t junk = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (b64_value[c] <= B64_PAD || c == '\r' || c == '\n')
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

/* Damage in the n bytes of a QP part: an '=' neither followed by two hex
   digits, nor ending a line (soft break), nor last. *encoded_cr_r: an
   "=0D" (any case of D) starts before the first `decoded` bytes end. */
static int
qp_scan(const unsigned char *p, size_t n, size_t decoded, int *encoded_cr_r)
{
	int damaged = 0;
	*encoded_cr_r = 0;
	const unsigned char *e = p, *end = p + n;
	while ((e = memchr(e, '=', (size_t)(end - e))) != NULL) {
		size_t i = (size_t)(e - p);
		e++;
		if (i + 2 < decoded && p[i + 1] == '0' && (p[i + 2] == 'D' || p[i + 2] == 'd'))
			*encoded_cr_r = 1;
		if (i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2]))
			continue;
		if (i + 1 == n)
			continue; /* soft line break at the end of the part */
		if (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'))
			continue;
		damaged = 1;
	}
	return damaged;
}

/* A hex digit's value; anything else 0, as libetpan reads it. */
static unsigned
qp_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10U;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10U;
	return 0;
}

/* Decode n bytes of quoted-printable into d (room for 2n bytes; n when
   lf_only), as libetpan's mailmime_quoted_printable_body_parse() did,
   followed by deskgate's removal of the CR of each CR LF when the part
   had no CR (lf_only: no CR and no "=0D"). Returns the length. libetpan,
   step by step: a line end (LF, CR LF, a lone CR) is written CR LF; a CR
   that ends the part is dropped; "=" LF, "=" CR LF and "=" CR are soft
   breaks; "=" CR ending the part ends the output; "=XY" is one byte with
   a non-hex digit read as 0, whatever X and Y are (a line end included);
   "=" last is kept; "==" last gives "==". */
static size_t
qp_decode(const unsigned char *p, size_t n, int lf_only, unsigned char *d)
{
	size_t i = 0, w = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c == '\n' || (c == '\r' && i + 1 < n)) {
			if (!lf_only)
				d[w++] = '\r';
			d[w++] = '\n';
			i += c == '\r' && p[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		if (c == '\r')
			break; /* a CR that ends the part */
		if (c != '=') {
			d[w++] = c;
			i++;
			continue;
		}
		if (i + 1 == n) {
			d[w++] = '=';
			break;
		}
		unsigned char x = p[i + 1];
		if (x == '\n') {
			i += 2;
		} else if (x == '\r') {
			if (i + 2 == n)
				break;
			i += p[i + 2] == '\n' ? 3 : 2;
		} else if (i + 2 == n) {
			/* "=X" last: libetpan writes X and the byte after the part */
			d[w++] = x;
			if (x == '=')
				d[w++] = '=';
			break;
		} else {
			unsigned char b = (unsigned char)(qp_hex(x) << 4 | qp_hex(p[i + 2]));
			/* an encoded CR (from "=<not hex>D") before an encoded LF */
			if (lf_only && b == '\n' && w > 0 && d[w - 1] == '\r')
				w--;
			d[w++] = b;
			i += 3;
		}
	}
	return w;
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

/* Cut complete "begin ... end" blocks out of a text leaf. */
size_t
mime_uu_extract(struct leaf *l, struct uu_block **blocks_r)
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

/* Transfer-decode a leaf (base64, QP and uuencode here, anything else
   copied by libetpan). The decoded bytes are ours. */
void
mime_decode_leaf(const struct mailmime *m, int is_text, unsigned char **data_r, size_t *size_r,
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
	int enc = mime_part_encoding(m, &token);

	if (enc == MAILMIME_MECHANISM_BASE64 && is_text && base64_junk(p, n) * 20 > n) {
		/* text labelled base64 that is not: shown as it is */
		*damaged_r = 2;
		enc = MAILMIME_MECHANISM_BINARY;
	} else if (enc == MAILMIME_MECHANISM_BASE64) {
		base64_decode(p, n, data_r, size_r, damaged_r);
		return;
	} else if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		/* a soft line break at the very end (blanks after it too) is
		   dropped: libetpan would keep it as "=" */
		size_t k = n;
		while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		size_t len = k > 0 && p[k - 1] == '=' ? k - 1 : n;
		int encoded_cr;
		*damaged_r = qp_scan(p, n, len, &encoded_cr);
		int lf_only = !encoded_cr && memchr(p, '\r', len) == NULL;
		unsigned char *d = xmalloc(lf_only ? len + 1 : 2 * len + 1);
		*size_r = qp_decode(p, len, lf_only, d);
		d[*size_r] = '\0';
		/* give back the slack of a large part */
		*data_r = *size_r + 4096 < len ? xrealloc(d, *size_r + 1) : d;
		return;
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
	*data_r = d;
	*size_r = out_len;
}


/* An attachment's range of the raw mail decoded again (the store keeps the
   range, not the decoded bytes): the decoders mime_decode_leaf() used. */
int
mime_raw_decode(int encoding, const unsigned char *p, size_t n, unsigned char **data_r,
		size_t *len_r)
{
	int damaged;
	*data_r = NULL;
	*len_r = 0;
	switch (encoding) {
	case MIME_RAW_BASE64:
		base64_decode(p, n, data_r, len_r, &damaged);
		return 0;
	case MIME_RAW_IDENTITY:
		*data_r = xmalloc(n + 1);
		if (n > 0)
			memcpy(*data_r, p, n);
		(*data_r)[n] = '\0';
		*len_r = n;
		return 0;
	default:
		return -1;
	}
}
