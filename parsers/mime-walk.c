/*
 * mime-walk: the depth-first walk over libetpan's tree (parts, leaves,
 * limits), then the choice of the body text and HTML and the attachments.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/mime-int.h"

/* ------------------------------------------------------------------ */
/* The walk                                                            */

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
		mime_fail(ctx, mime_limit_error("max_decoded_size", ctx->lim->max_decoded_size));
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
			mime_fail(ctx, mime_limit_error("max_mime_parts", ctx->lim->max_parts));
		free(name);
		free(b->data);
		return;
	}
	struct mime_part_info *pi = mime_part_append(ctx, depth);
	pi->content_type = xstrdup("application/octet-stream");
	pi->encoding = xstrdup("x-uuencode");
	pi->filename = mime_decode_phrase(name);
	pi->decoded_size = b->size;
	free(name);
	struct leaf l = { .part = msg->n_parts - 1, .data = b->data, .size = b->size,
			  .damaged = b->damaged, .alt = NO_ALT };
	ctx->uu_parts++;
	if (l.damaged)
		mime_warn(ctx, "part %zu: invalid x-uuencode", l.part + 1);
	leaf_add(ctx, &l);
}

/* Depth-first walk of libetpan's tree, in document order. Recursion is
   bounded by max_depth (checked by the pre-scan, and again here). */
/* Where a decoded leaf's bytes are in the raw mail (struct
   mime_attachment's range): a base64 body, or any other whose decoding
   changed nothing (7bit, 8bit, binary, quoted-printable without escapes).
   Not when the walk runs over a repaired copy (ctx->copy NULL) or text
   labelled base64 that was not. */
static void
leaf_range(const struct ctx *ctx, const struct mailmime *m, struct leaf *l)
{
	const struct mailmime_data *body = m->mm_body;
	if (ctx->copy == NULL || body == NULL || body->dt_type != MAILMIME_DATA_TEXT ||
	    l->damaged == 2)
		return;
	const char *p = body->dt_data.dt_text.dt_data;
	size_t n = body->dt_data.dt_text.dt_length;
	uintptr_t at = (uintptr_t)p, base = (uintptr_t)ctx->copy;
	/* libetpan points into the buffer it parsed; checked all the same */
	if (p == NULL || at < base || n > ctx->copy_len || at - base > ctx->copy_len - n)
		return;
	const char *token;
	if (mime_part_encoding(m, &token) == MAILMIME_MECHANISM_BASE64)
		l->raw_encoding = MIME_RAW_BASE64;
	else if (n == l->size && (n == 0 || memcmp(p, l->data, n) == 0))
		l->raw_encoding = MIME_RAW_IDENTITY;
	else
		return;
	l->raw_offset = ctx->copy_skip + (size_t)(at - base);
	l->raw_length = n;
}

void
mime_walk(struct ctx *ctx, struct mailmime *m, size_t depth, int in_message, size_t alt,
	  size_t branch)
{
	if (ctx->error != NULL || m == NULL)
		return;
	if (depth > ctx->lim->max_depth) {
		mime_fail(ctx, mime_limit_error("max_mime_depth", ctx->lim->max_depth));
		return;
	}
	if (ctx->msg->n_parts >= ctx->lim->max_parts) {
		mime_fail(ctx, mime_limit_error("max_mime_parts", ctx->lim->max_parts));
		return;
	}
	if (depth > ctx->walk_max_depth)
		ctx->walk_max_depth = depth;
	size_t idx = mime_add_part(ctx, m, depth);
	struct leaf l = { .mime = m, .part = idx, .alt = alt, .branch = branch };

	switch (m->mm_type) {
	case MAILMIME_MULTIPLE: {
		int is_alt = strcmp(ctx->msg->parts[idx].content_type, "multipart/alternative") == 0;
		size_t i = 0;
		for (clistiter *it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
		     it = clist_next(it), i++)
			mime_walk(ctx, clist_content(it), depth + 1, in_message, is_alt ? idx : alt,
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
		mime_walk(ctx, m->mm_data.mm_message.mm_msg_mime, depth + 1, 1, NO_ALT, 0);
		break;
	default:
		mime_decode_leaf(m, str_starts_with(ctx->msg->parts[idx].content_type, "text/"), &l.data,
			    &l.size, &l.damaged);
		ctx->msg->parts[idx].decoded_size = l.size;
		if (l.damaged == 2)
			mime_warn(ctx, "part %zu: not base64 as declared, kept as it is", idx + 1);
		else if (l.damaged)
			mime_warn(ctx, "part %zu: invalid %s", idx + 1, ctx->msg->parts[idx].encoding);
		if (count_decoded(ctx, l.size) < 0 || in_message) {
			free(l.data);
			return;
		}
		struct uu_block *blocks = NULL;
		size_t n_blocks = 0;
		if (strcmp(ctx->msg->parts[idx].content_type, "text/plain") == 0 &&
		    !part_is_named(&ctx->msg->parts[idx]) && depth < ctx->lim->max_depth)
			n_blocks = mime_uu_extract(&l, &blocks);
		if (n_blocks == 0)
			leaf_range(ctx, m, &l);
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
	mime_utf8_fix(out, n);
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
	const char *declared = pi->charset != NULL ? charset_resolve(pi->charset) : NULL;
	if (pi->charset != NULL && declared == NULL)
		mime_warn(ctx, "part %zu: charset %s unknown, read as %s", l->part + 1, pi->charset,
			  used != NULL ? used : "?");
	else if (declared != NULL && used != NULL && strcmp(declared, used) != 0)
		mime_warn(ctx, "part %zu: text does not fit the declared charset %s, read as %s",
			  l->part + 1, pi->charset, used);
	if (lossy)
		mime_warn(ctx, "part %zu: bytes invalid in %s replaced", l->part + 1,
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
		mime_warn(ctx, "body text cut at %zu bytes", len);
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

void
mime_choose_body(struct ctx *ctx)
{
	struct mime_message *msg = ctx->msg;
	struct buf text, html;
	const char *error;

	buf_init(&text, SIZE_MAX / 2);
	buf_init(&html, SIZE_MAX / 2);
	int n_text = join_body(ctx, "text/plain", &text, &error);
	if (n_text < 0) {
		mime_fail(ctx, errf("charset: %s", error));
		goto out;
	}
	int n_html = join_body(ctx, "text/html", &html, &error);
	if (n_html < 0) {
		if (n_text == 0) {
			mime_fail(ctx, errf("charset: %s", error));
			goto out;
		}
		mime_warn(ctx, "HTML dropped: %s", error);
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
			mime_warn(ctx, "HTML not converted to text: %s", error);
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
		char *s = mime_decode_phrase(f->fld_data.fld_subject->sbj_value);
		if (s == NULL)
			return NULL;
		s[utf8_truncate_len(s, strnlen(s, 200))] = '\0';
		char *name = xasprintf("%s.eml", s);
		free(s);
		return name;
	}
	return NULL;
}

void
mime_make_attachments(struct ctx *ctx)
{
	struct mime_message *msg = ctx->msg;
	size_t cap = 0;
	for (size_t i = 0; i < ctx->n_leaves; i++) {
		struct leaf *l = &ctx->leaves[i];
		const struct mime_part_info *pi = &msg->parts[l->part];
		if (l->in_body && !leaf_is_named(ctx, l))
			continue;
		struct mailmime_field *idf =
			l->mime != NULL ? mime_first_field(l->mime, MAILMIME_FIELD_ID) : NULL;
		char *cid = idf != NULL && idf->fld_data.fld_id != NULL ? mime_msgid_clean(idf->fld_data.fld_id)
								       : NULL;
		/* empty unnamed parts (a trailing empty text part, an empty
		   message) are noise */
		if (l->size == 0 && pi->filename == NULL && cid == NULL) {
			free(cid);
			continue;
		}
		if (msg->n_attachments >= ctx->lim->max_attachments) {
			mime_fail(ctx, mime_limit_error("max_attachments", ctx->lim->max_attachments));
			free(cid);
			return;
		}
		if (l->size > ctx->lim->max_attachment_size) {
			mime_fail(ctx, mime_limit_error("max_attachment_size", ctx->lim->max_attachment_size));
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
		a->filename = mime_safe_filename(pi->filename != NULL ? pi->filename : subject_name,
					    msg->n_attachments, pi->content_type);
		free(subject_name);
		a->content_type = xstrdup(pi->content_type);
		a->content_id = cid;
		a->is_inline = pi->disposition != NULL ? strcmp(pi->disposition, "inline") == 0
						       : cid != NULL && str_starts_with(pi->content_type, "image/");
		a->damaged = l->damaged != 0;
		a->data = l->data;
		a->size = l->size;
		a->raw_encoding = l->raw_encoding;
		a->raw_offset = l->raw_offset;
		a->raw_length = l->raw_length;
		l->data = NULL;
	}
}

