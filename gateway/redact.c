/*
 * redact: secrets a customer mailed are replaced by marks before anything
 * of the message is written (redact.h). The detectors are
 * parsers/secrets.c; this module decides where to look, what replaces
 * what, and what the ticket records.
 *
 * The redacted raw message is the original header block (every header but
 * the top-level MIME ones kept byte for byte, those holding a secret
 * written again from their redacted value) over a body composed again by
 * compose.c from the redacted parts: patching the original body in place
 * is not possible in general, since a secret may sit inside base64 or
 * quoted-printable, split over lines.
 */
#include "build-config.h"

#include "gateway/redact.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/hook.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "parsers/mime.h"
#include "parsers/secrets.h"

/* Words of secrets looked for in the rules' short texts (their matches
   and fields are cut from the message, so a secret may be there in
   part): at most this many, of at least MIN_TOKEN bytes. */
#define MAX_TOKENS 4096
#define MIN_TOKEN 4
/* A redacted text may be longer than the original: a 4-digit PIN
   becomes "[redacted: password]". */
#define MAX_GROWTH(len) ((len) * 4 + 4096)
/* Bytes of an attachment name in the event and the banner. */
#define NAME_SHOWN 40

struct redact {
	const struct config *config;
	struct store *store;
};

struct redact *
redact_new(const struct config *config, struct store *store)
{
	struct redact *r = xcalloc(1, sizeof(*r));
	r->config = config;
	r->store = store;
	return r;
}

void
redact_free(struct redact **rp)
{
	free(*rp);
	*rp = NULL;
}

int
redact_attachment_is_text(const char *filename, const char *content_type)
{
	static const char *const exts[] = { ".txt", ".csv", ".tsv", ".log", ".md", ".json",
					    ".xml", ".eml", ".htm", ".html", ".ini", ".conf" };
	if (content_type != NULL &&
	    (strncasecmp(content_type, "text/", 5) == 0 ||
	     strcasecmp(content_type, "message/rfc822") == 0 ||
	     strcasecmp(content_type, "application/json") == 0 ||
	     strcasecmp(content_type, "application/csv") == 0))
		return 1;
	size_t n = filename != NULL ? strlen(filename) : 0;
	for (size_t i = 0; i < N_ELEMENTS(exts); i++) {
		size_t e = strlen(exts[i]);
		if (n > e && strcasecmp(filename + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

/* ---- what one message holds ----------------------------------------------------- */

struct tokens {
	char **items;
	size_t n;
};

/* What was found in one message: kinds, where, and the words of the
   secrets (in memory only, wiped when freed). */
struct scan {
	unsigned int kinds;
	struct buf where;
	struct tokens tokens;
	unsigned char *header_hit; /* per msg->headers entry: its value was redacted */
};

static void
tokens_add_span(struct tokens *t, const char *text, const struct secret_span *sp)
{
	if (sp->kind == SECRET_CARD)
		return; /* the marks keep its head and tail: its groups are no words */
	const char *p = text + sp->offset, *end = p + sp->len;
	while (p < end && t->n < MAX_TOKENS) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',' ||
				   *p == '.' || *p == ';' || *p == ':' || *p == '<' || *p == '>'))
			p++;
		const char *s = p;
		while (p < end && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',' ||
				    *p == '.' || *p == ';' || *p == ':' || *p == '<' || *p == '>'))
			p++;
		if ((size_t)(p - s) >= MIN_TOKEN) {
			t->items = xreallocarray(t->items, t->n + 1, sizeof(*t->items));
			t->items[t->n++] = xstrndup(s, (size_t)(p - s));
		}
	}
}

static void
scan_clear(struct scan *s)
{
	for (size_t i = 0; i < s->tokens.n; i++) {
		explicit_bzero(s->tokens.items[i], strlen(s->tokens.items[i]));
		free(s->tokens.items[i]);
	}
	free(s->tokens.items);
	free(s->header_hit);
	buf_free(&s->where);
	memset(s, 0, sizeof(*s));
}

static void
note_where(struct scan *s, const char *what, const char *name)
{
	(void)buf_printf(&s->where, "%s%s%s%.*s", s->where.len > 0 ? ", " : "", what,
			 name != NULL ? " " : "", NAME_SHOWN, name != NULL ? name : "");
}

/* Redact text[0..len): 1 with *out_r (malloc'ed, *out_len_r bytes) when a
   secret was found, 0 when none, -1 with *error_r when the detectors
   could not finish. */
static int
redact_one(struct scan *s, const char *text, size_t len, unsigned int flags, char **out_r,
	   size_t *out_len_r, const char **error_r)
{
	struct secrets_options opt = { crypto_sha256, 0, flags, 0 };
	struct secrets_result res;
	*out_r = NULL;
	if (secrets_scan(text, len, &opt, &res, error_r) < 0)
		return -1;
	if (res.n == 0) {
		secrets_result_free(&res);
		return 0;
	}
	for (size_t i = 0; i < res.n; i++)
		tokens_add_span(&s->tokens, text, &res.spans[i]);
	s->kinds |= res.kinds;
	int ret = secrets_redact(text, len, &res, MAX_GROWTH(len), out_r, out_len_r, error_r);
	secrets_result_free(&res);
	return ret < 0 ? -1 : 1;
}

/* Replace the NUL-terminated string *sp by its redacted copy. */
static int
redact_string(struct scan *s, char **sp, const char *what, const char *name,
	      const char **error_r)
{
	char *out;
	size_t out_len;
	if (*sp == NULL)
		return 0;
	int ret = redact_one(s, *sp, strlen(*sp), 0, &out, &out_len, error_r);
	if (ret > 0) {
		explicit_bzero(*sp, strlen(*sp));
		free(*sp);
		*sp = out;
		if (what != NULL)
			note_where(s, what, name);
	}
	return ret;
}

/* A short text the rules cut from the message: redacted as any text, and
   replaced whole when it still holds a word of a secret (a part of a
   phrase the pattern cut out would pass the detectors). */
static int
redact_rule_text(struct scan *s, char **sp, const char **error_r)
{
	if (*sp == NULL)
		return 0;
	if (redact_string(s, sp, NULL, NULL, error_r) < 0)
		return -1;
	for (size_t i = 0; i < s->tokens.n; i++) {
		if (strstr(*sp, s->tokens.items[i]) != NULL) {
			explicit_bzero(*sp, strlen(*sp));
			free(*sp);
			*sp = xstrdup("[redacted: part of a secret]");
			break;
		}
	}
	return 0;
}

static int
redact_rules(struct scan *s, struct rules_result *rr, const char **error_r)
{
	if (rr == NULL)
		return 0;
	for (size_t i = 0; i < rr->n_fields; i++)
		if (redact_rule_text(s, &rr->fields[i].value, error_r) < 0 ||
		    redact_rule_text(s, &rr->fields[i].normal, error_r) < 0)
			return -1;
	for (size_t h = 0; h < rr->n_hits; h++) {
		struct rules_hit *hit = &rr->hits[h];
		for (size_t m = 0; m < hit->n_matches; m++) {
			struct rules_match *rm = &hit->matches[m];
			if (redact_rule_text(s, &rm->text, error_r) < 0 ||
			    redact_rule_text(s, &rm->before, error_r) < 0 ||
			    redact_rule_text(s, &rm->after, error_r) < 0)
				return -1;
			for (size_t c = 0; c < rm->n_captures; c++)
				if (redact_rule_text(s, &rm->captures[c].value, error_r) < 0)
					return -1;
		}
	}
	return 0;
}

/* Every place of the parsed message a secret can be in; redacted in place
   when redact is set, else only looked at. */
static int
scan_message(struct scan *s, struct mime_message *msg, const char **error_r)
{
	char *out;
	size_t out_len;
	int ret;

	buf_init(&s->where, 4096);
	s->header_hit = xcalloc(msg->n_headers + 1, 1);
	if (redact_string(s, &msg->subject, "subject", NULL, error_r) < 0)
		return -1;
	if ((ret = redact_one(s, msg->text, msg->text_len, 0, &out, &out_len, error_r)) < 0)
		return -1;
	if (ret > 0) {
		explicit_bzero(msg->text, msg->text_len);
		free(msg->text);
		msg->text = out;
		msg->text_len = out_len;
		note_where(s, "text", NULL);
	}
	if (msg->html != NULL) {
		if ((ret = redact_one(s, msg->html, msg->html_len, SECRETS_HTML, &out, &out_len,
				      error_r)) < 0)
			return -1;
		if (ret > 0) {
			explicit_bzero(msg->html, msg->html_len);
			free(msg->html);
			msg->html = out;
			msg->html_len = out_len;
			if (strstr(buf_cstr(&s->where), "text") == NULL)
				note_where(s, "HTML", NULL);
		}
	}
	for (size_t i = 0; i < msg->n_attachments; i++) {
		struct mime_attachment *a = &msg->attachments[i];
		if (!redact_attachment_is_text(a->filename, a->content_type) || a->size == 0)
			continue;
		int html = a->content_type != NULL && strcasecmp(a->content_type, "text/html") == 0;
		if ((ret = redact_one(s, (const char *)a->data, a->size, html ? SECRETS_HTML : 0, &out,
				      &out_len, error_r)) < 0)
			return -1;
		if (ret > 0) {
			explicit_bzero(a->data, a->size);
			free(a->data);
			a->data = (unsigned char *)out;
			a->size = out_len;
			note_where(s, "attachment", a->filename);
		}
	}
	for (size_t i = 0; i < msg->n_headers; i++) {
		if ((ret = redact_string(s, &msg->headers[i].value, NULL, NULL, error_r)) < 0)
			return -1;
		if (ret > 0) {
			s->header_hit[i] = 1;
			if (strcasecmp(msg->headers[i].name, "Subject") != 0)
				note_where(s, "header", msg->headers[i].name);
		}
	}
	return 0;
}

/* ---- the redacted raw message -------------------------------------------------- */

static int
is_mime_header(const char *name, size_t len)
{
	static const char *const names[] = { "Content-Type", "Content-Transfer-Encoding",
					     "MIME-Version", "Content-Disposition" };
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

/* Where the body starts: after the first empty line (CRLF or LF). */
static size_t
header_end(const unsigned char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 1;
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 1;
	}
	return len;
}

/* The header field that starts at *pp in block[0..len) (a line and its
   continuation lines): its start, *pp moved past it. */
static size_t
next_field(const unsigned char *block, size_t len, size_t *pp)
{
	size_t start = *pp, p = start;
	do {
		const unsigned char *nl = memchr(block + p, '\n', len - p);
		p = nl != NULL ? (size_t)(nl - block) + 1 : len;
	} while (p < len && (block[p] == ' ' || block[p] == '\t'));
	*pp = p;
	return start;
}

/* The index in msg->headers of the k-th (0-based) header named name, or
   -1. */
static long
nth_header(const struct mime_message *msg, const char *name, size_t name_len, size_t k)
{
	for (size_t i = 0; i < msg->n_headers; i++) {
		const char *n = msg->headers[i].name;
		if (strlen(n) == name_len && strncasecmp(n, name, name_len) == 0 && k-- == 0)
			return (long)i;
	}
	return -1;
}

/* Copy the header fields of block[0..len) that hold no secret; the
   redacted ones are given to c to encode. */
static int
copy_headers(const struct scan *s, const struct mime_message *msg, const unsigned char *block,
	     size_t len, struct compose *c, struct buf *out, const char **error_r)
{
	size_t p = 0;
	while (p < len) {
		size_t start = next_field(block, len, &p);
		const unsigned char *colon = memchr(block + start, ':', p - start);
		if (colon == NULL)
			continue; /* an mbox "From " line, a BOM, blank lines before */
		const char *name = (const char *)block + start;
		size_t name_len = (size_t)(colon - (block + start));
		if (is_mime_header(name, name_len))
			continue;
		size_t k = 0;
		for (size_t q = 0; q < start;) { /* occurrences of this name before */
			size_t e = q;
			while (e < start && block[e] != '\n')
				e++;
			if (e - q > name_len && block[q + name_len] == ':' &&
			    strncasecmp((const char *)block + q, name, name_len) == 0)
				k++;
			q = e + 1;
		}
		long h = nth_header(msg, name, name_len, k);
		int hit = h >= 0 && s->header_hit[h];
		if (h < 0) {
			/* A field the parser did not list: kept only when it holds
			   no secret. */
			struct secrets_options opt = { crypto_sha256, 0, 0, 0 };
			struct secrets_result res;
			if (secrets_scan((const char *)block + start, p - start, &opt, &res, error_r) < 0)
				return -1;
			hit = res.n > 0;
			secrets_result_free(&res);
			if (hit)
				continue;
		}
		if (!hit) {
			if (buf_append(out, block + start, p - start) < 0)
				goto too_large;
			if (block[p - 1] != '\n' && buf_puts(out, "\r\n") < 0)
				goto too_large;
		} else if (strcasecmp(msg->headers[h].name, "Subject") == 0) {
			compose_set_subject(c, msg->headers[h].value);
		} else {
			/* A header compose sets itself (From, To, Date...) with a
			   secret in it is left out. */
			(void)compose_add_header(c, msg->headers[h].name, msg->headers[h].value);
		}
	}
	return 0;
too_large:
	*error_r = "redacted header block too large";
	return -1;
}

/* The headers of the composed message that go into the redacted one:
   the MIME ones and those set from redacted values. */
static int
wanted_composed(const char *name, size_t len, const struct scan *s,
		const struct mime_message *msg)
{
	if (is_mime_header(name, len))
		return 1;
	for (size_t i = 0; i < msg->n_headers; i++)
		if (s->header_hit[i] && strlen(msg->headers[i].name) == len &&
		    strncasecmp(msg->headers[i].name, name, len) == 0)
			return 1;
	return 0;
}

static int
build_raw(const struct scan *s, const struct mime_message *msg, const unsigned char *raw,
	  size_t len, size_t max, unsigned char **out_r, size_t *out_len_r, const char **error_r)
{
	struct compose *c = compose_new();
	struct buf out;
	unsigned char *composed = NULL;
	size_t composed_len = 0;
	int ret = -1;

	buf_init(&out, max);
	compose_set_max_size(c, max);
	compose_set_from(c, NULL, "redacted@invalid");
	compose_add_to(c, NULL, "redacted@invalid");
	compose_set_message_id(c, "redacted@invalid");
	compose_set_text(c, msg->text, msg->text_len);
	if (msg->html != NULL && !msg->text_from_html)
		compose_set_html(c, msg->html, msg->html_len);
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		compose_add_attachment(c, a->filename, a->content_type, a->data, a->size);
	}
	size_t hend = header_end(raw, len);
	if (copy_headers(s, msg, raw, hend, c, &out, error_r) < 0)
		goto out;
	if (compose_render(c, &composed, &composed_len, error_r) < 0)
		goto out;
	size_t chend = header_end(composed, composed_len);
	size_t p = 0;
	while (p < chend) {
		size_t start = next_field(composed, chend, &p);
		const unsigned char *colon = memchr(composed + start, ':', p - start);
		if (colon != NULL &&
		    wanted_composed((const char *)composed + start, (size_t)(colon - (composed + start)),
				    s, msg) &&
		    buf_append(&out, composed + start, p - start) < 0)
			goto too_large;
	}
	char *names = secret_kinds_names(s->kinds);
	int r = buf_printf(&out, "X-Deskgate-Redacted: %s\r\n", names);
	free(names);
	if (r < 0 || buf_append(&out, composed + chend, composed_len - chend) < 0)
		goto too_large;
	*out_r = (unsigned char *)buf_steal(&out, out_len_r);
	ret = 0;
	goto out;
too_large:
	*error_r = errf("redacted message larger than %zu bytes", max);
out:
	buf_free(&out);
	free(composed);
	compose_free(&c);
	return ret;
}

/* ---- the steps ------------------------------------------------------------------- */

int
redact_classified_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct redact *r = context;
	struct scan s = { 0 };
	const char *why = NULL;
	int quarantine = strcmp(r->config->secrets.action, "quarantine") == 0;

	(void)error_r;
	if (scan_message(&s, ev->msg, &why) < 0) {
		snprintf(ev->quarantine, sizeof(ev->quarantine),
			 "secrets: the detectors could not finish (%s): held rather than stored",
			 why);
		scan_clear(&s);
		return 0;
	}
	if (s.kinds == 0) {
		scan_clear(&s);
		return 0;
	}
	char *names = secret_kinds_names(s.kinds);
	if (quarantine) {
		snprintf(ev->quarantine, sizeof(ev->quarantine),
			 "secrets: %s in %.100s ([secrets] action = quarantine)", names,
			 buf_cstr(&s.where));
		free(names);
		scan_clear(&s);
		return 0;
	}
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	if (redact_rules(&s, ev->rules, &why) < 0 ||
	    build_raw(&s, ev->msg, ev->stored_raw != NULL ? ev->stored_raw : ev->raw,
		      ev->stored_raw != NULL ? ev->stored_raw_len : ev->raw_len,
		      (size_t)r->config->limits.max_message_size * 2 + 65536, &raw, &raw_len,
		      &why) < 0) {
		snprintf(ev->quarantine, sizeof(ev->quarantine),
			 "secrets: %s found, the redacted copy could not be made (%s): held", names,
			 why);
		free(names);
		scan_clear(&s);
		return 0;
	}
	free(ev->stored_raw); /* an earlier step's copy, now redacted again */
	ev->stored_raw = raw;
	ev->stored_raw_len = raw_len;
	ev->secret_kinds = s.kinds;
	snprintf(ev->secret_where, sizeof(ev->secret_where), "%s", buf_cstr(&s.where));
	log_warnx("%s: secret redacted before storing: %s (in %s)", ev->logctx, names,
		  ev->secret_where);
	free(names);
	scan_clear(&s);
	return 0;
}

/* Append tag to the comma-separated list in the ticket's "tags" field. */
static int
add_tag(struct redact *r, int64_t ticket_id, const char *tag, const char **error_r)
{
	struct store_field *fields = NULL;
	size_t n = 0;
	int ret = store_ticket_field_list(r->store, ticket_id, &fields, &n, error_r);
	if (ret < 0)
		return ret;
	const char *tags = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, "tags") == 0)
			tags = fields[i].value;
	int have = 0;
	for (const char *p = tags; p != NULL && *p != '\0';) {
		size_t l = strcspn(p, ",");
		have |= l == strlen(tag) && strncmp(p, tag, l) == 0;
		p += l + (p[l] == ',');
	}
	if (!have) {
		char *v = tags != NULL && *tags != '\0' ? xasprintf("%s,%s", tags, tag) : xstrdup(tag);
		ret = store_ticket_field_set(r->store, ticket_id, "tags", v, error_r);
		free(v);
	}
	store_fields_free(&fields, n);
	return ret;
}

int
redact_stored_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct redact *r = context;
	const char *queue = r->config->secrets.queue;
	int ret;

	if (ev->secret_kinds == 0)
		return 0;
	char *names = secret_kinds_names(ev->secret_kinds);
	if ((ret = store_ticket_set(r->store, ev->ticket_id, "priority", "urgent", error_r)) < 0 ||
	    (ret = add_tag(r, ev->ticket_id, "secret-exposed", error_r)) < 0 ||
	    (queue != NULL && *queue != '\0' &&
	     (ret = store_ticket_set(r->store, ev->ticket_id, "queue", queue, error_r)) < 0) ||
	    (ret = store_event_addf(r->store, ev->ticket_id, "secret", error_r,
				    "%s redacted before storing (in %s); priority urgent, tag "
				    "secret-exposed%s%s",
				    names, ev->secret_where, queue != NULL ? ", queue " : "",
				    queue != NULL ? queue : "")) < 0) {
		free(names);
		return ret;
	}
	log_warnx("%s ticket=%lld: secret exposed: %s (in %s): ticket urgent, tagged secret-exposed",
		  ev->logctx, (long long)ev->ticket_id, names, ev->secret_where);
	free(names);
	return 0;
}

const char *
redact_banner(unsigned int kinds, const char *where, char *buf, size_t size)
{
	if (kinds == 0)
		return "";
	char *names = secret_kinds_names(kinds);
	snprintf(buf, size,
		 "*** SECRET EXPOSED: this mail held %s (in %s). ***\n"
		 "It was redacted before it was stored or sent to anyone. Treat the customer's "
		 "funds as at risk: tell them to move them to a new wallet now, never ask them "
		 "for the secret again, and suspect whoever asked them for it. The customer's "
		 "acknowledgement carries the same warning.\n\n",
		 names, where != NULL && *where != '\0' ? where : "the mail");
	free(names);
	return buf;
}
