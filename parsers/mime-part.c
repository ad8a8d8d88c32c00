/*
 * mime-part: one part's description (type, charset, encoding,
 * disposition, file name) for msg->parts. Written here by hand, and why:
 * - RFC 2231 continuations (name*0*=, name*1=): libetpan 1.9.4 hands them
 *   over as separate parameters; they are joined here and decoded by
 *   rfc2231_decode().
 * - A lenient parameter reader for Content-Type/-Disposition fields that
 *   libetpan refuses whole ("Content-Type: ; name=x.zip"), for file names.
 * - Safe display file names (no library knows what is safe to show).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/mime-int.h"
#include "parsers/rfc2047.h"

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
		out = mime_words_clean(rfc2231_decode(star, FILENAME_DECODE_MAX));
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
			out = mime_words_clean(rfc2231_decode(buf_cstr(&b), FILENAME_DECODE_MAX));
		else
			out = mime_words_decode(buf_cstr(&b), FILENAME_DECODE_MAX);
		buf_free(&b);
	}
	if (out == NULL && plain != NULL)
		out = mime_words_decode(plain, FILENAME_DECODE_MAX);
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
char *
mime_safe_filename(const char *name, size_t n, const char *type)
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
	char *l = mime_lower_dup(s);
	free(s);
	return l;
}

struct mailmime_field *
mime_first_field(const struct mailmime *m, int type)
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

int
mime_part_encoding(const struct mailmime *m, const char **token_r)
{
	struct mailmime_field *f = mime_first_field(m, MAILMIME_FIELD_TRANSFER_ENCODING);
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
		return mime_lower_dup(token != NULL ? token : "unknown");
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

struct mime_part_info *
mime_part_append(struct ctx *ctx, size_t depth)
{
	struct mime_message *msg = ctx->msg;
	if (msg->n_parts == ctx->cap_parts) {
		ctx->cap_parts = ctx->cap_parts ? ctx->cap_parts * 2 : 8;
		msg->parts = xreallocarray(msg->parts, ctx->cap_parts, sizeof(*msg->parts));
	}
	struct mime_part_info *pi = &msg->parts[msg->n_parts++];
	memset(pi, 0, sizeof(*pi));
	pi->depth = (unsigned int)depth;
	return pi;
}

size_t
mime_add_part(struct ctx *ctx, const struct mailmime *m, size_t depth)
{
	struct mime_part_info *pi = mime_part_append(ctx, depth);
	pi->content_type = content_type_string(m);
	if (m->mm_content_type != NULL) {
		const char *cs = mailmime_content_param_get(m->mm_content_type, "charset");
		if (cs != NULL)
			pi->charset = mime_strip_controls(cs, strlen(cs));
	}
	const char *token;
	int enc = mime_part_encoding(m, &token);
	pi->encoding = encoding_name(enc, token);

	struct params ps = { NULL, 0 };
	struct mailmime_field *df = mime_first_field(m, MAILMIME_FIELD_DISPOSITION);
	if (df != NULL && df->fld_data.fld_disposition != NULL) {
		struct mailmime_disposition *d = df->fld_data.fld_disposition;
		if (d->dsp_type != NULL) {
			if (d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_INLINE)
				pi->disposition = xstrdup("inline");
			else if (d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
				pi->disposition = xstrdup("attachment");
			else if (d->dsp_type->dsp_extension != NULL)
				pi->disposition = mime_lower_dup(d->dsp_type->dsp_extension);
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
	return ctx->msg->n_parts - 1;
}
