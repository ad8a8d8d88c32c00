/*
 * mime: see mime.h, and mime-int.h for how the module is split. libetpan
 * parses (mailimf for header fields, mailmime_parse for the tree,
 * mailmime_part_parse for base64/QP); the mime files apply the limits,
 * walk the tree and turn it into our types. This file holds the entry
 * points, the message being built and the helpers that keep every string
 * handed out to mime.h's promise (UTF-8, no control characters).
 *
 * What is written by hand, and why, is said at the top of each file:
 * mime-scan.c (the structural pre-scan), mime-decode.c (transfer-encoding
 * damage checks, uuencode), mime-part.c (RFC 2231 continuations, lenient
 * parameters, safe file names) and mime-header.c (the date conversion).
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/mime-int.h"
#include "parsers/rfc2047.h"

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

const char *
mime_limit_error(const char *key, size_t value)
{
	return errf("limit: %s %zu exceeded", key, value);
}

/* In place: bytes that do not form valid UTF-8 become '?'. */
void
mime_utf8_fix(char *s, size_t len)
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
char *
mime_strip_controls(const char *s, size_t len)
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
	mime_utf8_fix(out, n);
	return out;
}

/* What rfc2047_decode()/rfc2231_decode() return, held to mime.h's promise
   once more (no control characters, valid UTF-8): header text is hostile
   input and a slip there must not reach the store. Frees s. */
char *
mime_words_clean(char *s)
{
	if (s == NULL)
		return NULL;
	char *c = mime_strip_controls(s, strlen(s));
	free(s);
	return c;
}

char *
mime_words_decode(const char *s, size_t max_out)
{
	return mime_words_clean(rfc2047_decode(s, max_out));
}

char *
mime_lower_dup(const char *s)
{
	char *out = mime_strip_controls(s, strlen(s));
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* Remove one pair of surrounding angle brackets and white space. */
char *
mime_msgid_clean(const char *s)
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
	mime_utf8_fix(out, n);
	return out;
}

/* ------------------------------------------------------------------ */
/* The message being built                                             */

void
mime_warn(struct ctx *ctx, const char *fmt, ...)
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

void
mime_fail(struct ctx *ctx, const char *error)
{
	/* copied at once: errf() buffers are reused */
	if (ctx->error == NULL) {
		snprintf(ctx->error_buf, sizeof(ctx->error_buf), "%s", error);
		ctx->error = ctx->error_buf;
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
	const unsigned char *const raw_start = raw;
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
	mime_scan_header_block(raw, len, &hdr_end, &hdr_count);
	if (hdr_end > limits->max_header_size) {
		*error_r = mime_limit_error("max_header_size", limits->max_header_size);
		return -1;
	}
	if (hdr_count > limits->max_header_count) {
		*error_r = mime_limit_error("max_header_count", limits->max_header_count);
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
	mime_parse_headers(&ctx, hdr, hdr_len);
	free(hdr);
	ctx.msg->header_size = hdr_end;
	ctx.msg->text = xstrdup("");

	if (len > limits->max_message_size)
		mime_fail(&ctx, mime_limit_error("max_message_size", limits->max_message_size));
	else if (mime_longest_line(raw, len) > limits->max_line_length)
		mime_fail(&ctx, mime_limit_error("max_line_length", limits->max_line_length));

	char *copy = NULL;
	struct mailmime *mime = NULL;
	size_t scan_parts = 0, scan_depth = 0, raw_len = 0;
	if (ctx.error == NULL) {
		/* libetpan gets a NUL-terminated copy: some of its token parsers
		   use C string functions */
		copy = xmalloc(len + 3);
		memcpy(copy, raw, len);
		raw_len = len;
		/* a header that runs to the end without a line end loses its last
		   field in libetpan */
		if (hdr_end >= len && raw[len - 1] != '\n') {
			copy[len++] = '\r';
			copy[len++] = '\n';
		}
		copy[len] = '\0';
		const char *error;
		size_t repairs;
		if (mime_prescan(&copy, &len, limits, &scan_parts, &scan_depth, &repairs, &error) < 0)
			mime_fail(&ctx, error);
		else if (repairs > 0)
			mime_warn(&ctx, "%zu MIME structure error(s) repaired", repairs);
		else if (len == raw_len) {
			/* unrepaired: a body's offset in the copy is its offset in raw */
			ctx.copy = copy;
			ctx.copy_len = len;
			ctx.copy_skip = (size_t)(raw - raw_start);
		}
	}
	if (ctx.error == NULL) {
		size_t idx = 0;
		int r = mailmime_parse(copy, len, &idx, &mime);
		if (r != MAILIMF_NO_ERROR) {
			mime = NULL;
			mime_fail(&ctx, errf("structure: MIME parse failed (libetpan error %d)", r));
		}
	}
	if (mime != NULL) {
		if (mime->mm_type == MAILMIME_MESSAGE)
			mime_walk(&ctx, mime->mm_data.mm_message.mm_msg_mime, 0, 0, NO_ALT, 0);
		if (ctx.error == NULL && (ctx.msg->n_parts - ctx.uu_parts != scan_parts ||
					  ctx.walk_max_depth != scan_depth))
			mime_warn(&ctx, "internal: pre-scan found %zu parts, depth %zu; libetpan %zu, %zu",
			     scan_parts, scan_depth, ctx.msg->n_parts, ctx.walk_max_depth);
		if (ctx.error == NULL || strncmp(ctx.error, "limit:", 6) == 0)
			mime_choose_body(&ctx);
		if (ctx.error == NULL)
			mime_make_attachments(&ctx);
		mailmime_free(mime);
	}
	for (size_t i = 0; i < ctx.n_leaves; i++)
		free(ctx.leaves[i].data);
	free(ctx.leaves);
	free(copy);

	if (ctx.error == NULL && hdr_count == 0)
		mime_fail(&ctx, "structure: no header fields");
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

