/*
 * compose: see compose.h.
 *
 * Written by hand: header folding, quoted-printable and base64 encoding and
 * RFC 2231 parameters. libetpan can write MIME, but its MIME API belongs to
 * parsers/mime.c alone (one adapter per library), and its writer neither
 * folds encoded words at character boundaries nor writes RFC 2231 file
 * names. RFC 2047 words come from parsers/rfc2047.c.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/compose.h"
#include "gateway/crypto.h"
#include "parsers/rfc2047.h"
#include "base/base32.h"
#include "base/util.h"

#define COMPOSE_FOLD 78		/* fold header lines at this column */
#define COMPOSE_BODY_LINE 76	/* longest encoded body line */
#define COMPOSE_DEFAULT_MAX (64u * 1024 * 1024)
#define COMPOSE_MAX_REFERENCES 20
#define COMPOSE_MAX_FILENAME 255

struct compose_addr {
	char *name;
	char *address;
};

struct compose_addrs {
	struct compose_addr *items;
	size_t count;
};

struct compose_extra {
	char *name;
	char *value;
};

struct compose_att {
	char *filename;
	char *content_type;
	char *content_id; /* a related part of the HTML body (cid:), or NULL */
	unsigned char *data;
	size_t len;
};

struct compose {
	struct compose_addrs from, reply_to, to, cc;
	char *subject;
	int64_t date;
	int has_date;
	char *message_id;
	char *in_reply_to;
	char **references;
	size_t n_references;
	char *auto_submitted;
	char *loop;
	struct compose_extra *extra;
	size_t n_extra;
	char *text;
	size_t text_len;
	char *html;
	size_t html_len;
	struct compose_att *atts;
	size_t n_atts;
	size_t max_size;
};

/* ---- cleaning ------------------------------------------------------------ */

/* Length of the valid UTF-8 character at s (at most len bytes), 0 if the
   bytes there are not one. */
static size_t
utf8_char_len(const unsigned char *s, size_t len)
{
	size_t n;
	if (s[0] < 0x80)
		n = 1;
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len || !utf8_valid(s, n))
		return 0;
	return n;
}

/* A header value from untrusted text: valid UTF-8 ('?' for bad bytes),
   every control character (C0, DEL, C1, and the Unicode line and paragraph
   separators) made a space, runs of spaces made one, trimmed. This is what
   makes header injection impossible. Caller frees. */
static char *
clean_header_text(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	char *out = xmalloc(len + 1);
	size_t o = 0;
	int space = 1; /* drops leading spaces */
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(p + i, len - i);
		int blank = 0;
		if (n == 0) {
			out[o++] = '?';
			space = 0;
			i++;
			continue;
		}
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == ' '))
			blank = 1;
		else if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			blank = 1; /* C1 controls and NBSP */
		else if (n == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
			 (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			blank = 1; /* U+2028, U+2029 */
		if (blank) {
			if (!space)
				out[o++] = ' ';
			space = 1;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			space = 0;
		}
		i += n;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

/* Body text: valid UTF-8, NUL removed, line ends made CRLF. Written into
   one allocation sized up front (each CR or LF grows by at most one byte,
   everything else by none), runs of printable ASCII copied whole: called
   for the text and the HTML of every acknowledgement, where appending
   byte by byte to a growing buffer was ~2.5% of an import's CPU. */
static char *
clean_body(const char *s, size_t len, size_t *len_r)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t ends = 0;
	for (size_t i = 0; i < len; i++)
		ends += p[i] == '\r' || p[i] == '\n';
	char *out = xmalloc(len + ends + 1);
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t run = i;
		while (run < len && p[run] >= 0x20 && p[run] < 0x80)
			run++;
		if (run > i) {
			memcpy(out + o, p + i, run - i);
			o += run - i;
			i = run;
			continue;
		}
		if (p[i] == '\r') {
			out[o++] = '\r';
			out[o++] = '\n';
			i += i + 1 < len && p[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		if (p[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			i++;
			continue;
		}
		if (p[i] == '\0') {
			i++;
			continue;
		}
		size_t n = utf8_char_len(p + i, len - i);
		if (n == 0) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* local@domain, dot-atom local part, LDH domain labels. */
static int
address_valid(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t len = strlen(a);
	if (at == NULL || at == a || len > 254 || (size_t)(at - a) > 64)
		return 0;
	for (const char *p = a; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (p == a || p + 1 == at || p[1] == '.')
				return 0;
		} else if (!is_atext(c)) {
			return 0;
		}
	}
	const char *d = at + 1;
	if (*d == '\0' || *d == '.' || d[strlen(d) - 1] == '.')
		return 0;
	for (const char *p = d; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (p[1] == '.')
				return 0;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-')) {
			return 0;
		}
	}
	return 1;
}

/* A msg-id without brackets: printable ASCII, no white space, no angle
   brackets, one '@' with something on both sides. */
static int
msgid_valid(const char *id)
{
	size_t len = strlen(id);
	const char *at = strchr(id, '@');
	if (len < 3 || len > 250 || at == NULL || at == id || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"' ||
		    *p == '\\' || *p == ',' || *p == ';')
			return 0;
	return 1;
}

/* ---- life cycle and setters ---------------------------------------------- */

struct compose *
compose_new(void)
{
	struct compose *c = xcalloc(1, sizeof(*c));
	c->max_size = COMPOSE_DEFAULT_MAX;
	return c;
}

static void
addrs_clear(struct compose_addrs *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].name);
		free(l->items[i].address);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static void
addrs_add(struct compose_addrs *l, const char *name, const char *address)
{
	l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
	struct compose_addr *a = &l->items[l->count++];
	a->name = name != NULL ? clean_header_text(name) : NULL;
	/* kept as given (cleaned only for display): render validates it */
	a->address = xstrdup(address != NULL ? address : "");
}

void
compose_free(struct compose **cp)
{
	struct compose *c = *cp;
	if (c == NULL)
		return;
	addrs_clear(&c->from);
	addrs_clear(&c->reply_to);
	addrs_clear(&c->to);
	addrs_clear(&c->cc);
	free(c->subject);
	free(c->message_id);
	free(c->in_reply_to);
	for (size_t i = 0; i < c->n_references; i++)
		free(c->references[i]);
	free(c->references);
	free(c->auto_submitted);
	free(c->loop);
	for (size_t i = 0; i < c->n_extra; i++) {
		free(c->extra[i].name);
		free(c->extra[i].value);
	}
	free(c->extra);
	free(c->text);
	free(c->html);
	for (size_t i = 0; i < c->n_atts; i++) {
		free(c->atts[i].filename);
		free(c->atts[i].content_type);
		free(c->atts[i].content_id);
		free(c->atts[i].data);
	}
	free(c->atts);
	free(c);
	*cp = NULL;
}

void
compose_set_from(struct compose *c, const char *name, const char *address)
{
	addrs_clear(&c->from);
	addrs_add(&c->from, name, address);
}

void
compose_set_reply_to(struct compose *c, const char *name, const char *address)
{
	addrs_clear(&c->reply_to);
	addrs_add(&c->reply_to, name, address);
}

void
compose_add_to(struct compose *c, const char *name, const char *address)
{
	addrs_add(&c->to, name, address);
}

void
compose_add_cc(struct compose *c, const char *name, const char *address)
{
	addrs_add(&c->cc, name, address);
}

void
compose_set_subject(struct compose *c, const char *utf8)
{
	free(c->subject);
	c->subject = clean_header_text(utf8);
}

void
compose_set_date(struct compose *c, int64_t when)
{
	c->date = when;
	c->has_date = 1;
}

static void
set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

void
compose_set_message_id(struct compose *c, const char *message_id)
{
	set_str(&c->message_id, message_id);
}

void
compose_set_in_reply_to(struct compose *c, const char *message_id)
{
	set_str(&c->in_reply_to, message_id);
}

void
compose_add_reference(struct compose *c, const char *message_id)
{
	if (message_id == NULL || !msgid_valid(message_id))
		return; /* from customer mail: a broken id is dropped, not fatal */
	for (size_t i = 0; i < c->n_references; i++)
		if (strcmp(c->references[i], message_id) == 0)
			return;
	c->references = xreallocarray(c->references, c->n_references + 1, sizeof(char *));
	c->references[c->n_references++] = xstrdup(message_id);
}

void
compose_set_auto_submitted(struct compose *c, const char *value)
{
	free(c->auto_submitted);
	c->auto_submitted = value != NULL ? clean_header_text(value) : NULL;
}

void
compose_set_loop(struct compose *c, const char *hostname)
{
	free(c->loop);
	c->loop = hostname != NULL ? clean_header_text(hostname) : NULL;
}

static const char *const reserved_headers[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Auto-Submitted", "X-Auto-Response-Suppress",
	"X-Deskgate-Loop", "Return-Path", "Received",
};

int
compose_add_header(struct compose *c, const char *name, const char *value)
{
	size_t len = strlen(name);
	if (len == 0 || len > 76)
		return -1;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return -1;
	if (strncasecmp(name, "Content-", 8) == 0)
		return -1;
	for (size_t i = 0; i < N_ELEMENTS(reserved_headers); i++)
		if (strcasecmp(name, reserved_headers[i]) == 0)
			return -1;
	c->extra = xreallocarray(c->extra, c->n_extra + 1, sizeof(*c->extra));
	c->extra[c->n_extra].name = xstrdup(name);
	c->extra[c->n_extra].value = clean_header_text(value);
	c->n_extra++;
	return 0;
}

void
compose_set_text(struct compose *c, const char *utf8, size_t len)
{
	free(c->text);
	c->text = clean_body(utf8, len, &c->text_len);
}

void
compose_set_html(struct compose *c, const char *utf8, size_t len)
{
	free(c->html);
	c->html = NULL;
	c->html_len = 0;
	if (utf8 != NULL)
		c->html = clean_body(utf8, len, &c->html_len);
}

const char *
compose_text(const struct compose *c)
{
	return c->text;
}

const char *
compose_html(const struct compose *c)
{
	return c->html;
}

/* Content type "type/subtype" in token characters, lower-cased; else
   application/octet-stream. Parameters are not taken over. */
static char *
clean_content_type(const char *ct)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?=";
	if (ct == NULL)
		return xstrdup("application/octet-stream");
	size_t len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	const char *slash = memchr(ct, '/', len);
	int ok = slash != NULL && slash != ct && slash + 1 < ct + len && len <= 127;
	for (size_t i = 0; ok && i < len; i++) {
		unsigned char ch = (unsigned char)ct[i];
		if (ct + i == slash)
			continue;
		if (ch <= 0x20 || ch >= 0x7f || strchr(tspecials, ch) != NULL)
			ok = 0;
	}
	if (!ok)
		return xstrdup("application/octet-stream");
	char *out = xstrndup(ct, len);
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* A display file name: the last path component, cleaned like a header,
   no leading dots, at most 255 bytes; "attachment" when nothing is left. */
static char *
clean_filename(const char *name)
{
	const char *base = name != NULL ? name : "";
	for (const char *p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	char *clean = clean_header_text(base);
	char *p = clean;
	while (*p == '.' || *p == ' ')
		p++;
	size_t len = utf8_truncate_len(p, strlen(p) > COMPOSE_MAX_FILENAME ? COMPOSE_MAX_FILENAME
									   : strlen(p));
	char *out = len > 0 ? xstrndup(p, len) : xstrdup("attachment");
	free(clean);
	return out;
}

void
compose_add_attachment(struct compose *c, const char *filename, const char *content_type,
		       const unsigned char *data, size_t len)
{
	c->atts = xreallocarray(c->atts, c->n_atts + 1, sizeof(*c->atts));
	struct compose_att *a = &c->atts[c->n_atts++];
	a->content_id = NULL;
	a->filename = clean_filename(filename);
	a->content_type = clean_content_type(content_type);
	a->data = xmalloc(len);
	if (len > 0)
		memcpy(a->data, data, len);
	a->len = len;
}

/* A Content-ID without brackets: printable ASCII without white space,
   brackets, quotes, '\\', ',' or ';' (the '@' of a msg-id is not required:
   Gmail's ids have none). */
static int
content_id_valid(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > 250)
		return 0;
	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"' ||
		    *p == '\\' || *p == ',' || *p == ';')
			return 0;
	return 1;
}

int
compose_add_related(struct compose *c, const char *content_id, const char *filename,
		    const char *content_type, const unsigned char *data, size_t len)
{
	if (content_id == NULL || !content_id_valid(content_id))
		return -1;
	compose_add_attachment(c, filename, content_type, data, len);
	c->atts[c->n_atts - 1].content_id = xstrdup(content_id);
	return 0;
}

void
compose_set_max_size(struct compose *c, size_t max)
{
	c->max_size = max;
}

/* ---- Message-IDs ---------------------------------------------------------- */

/* 16 random bytes as 26 base32 characters. */
static int
random_token(char out[27], const char **error_r)
{
	unsigned char rnd[16];
	if (crypto_random(rnd, sizeof(rnd), error_r) < 0)
		return -1;
	base32_encode(rnd, sizeof(rnd), out);
	return 0;
}

int
compose_message_id(int64_t ticket_id, const char *hostname, char **message_id_r,
		   const char **error_r)
{
	char tok[27];
	if (random_token(tok, error_r) < 0)
		return -1;
	/* a host name that is not LDH would make an invalid id */
	const char *host = hostname != NULL && *hostname != '\0' ? hostname : "localhost";
	for (const char *p = host; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			host = "localhost";
	if (ticket_id > 0)
		*message_id_r = xasprintf("dg.T%lld.%s@%s", (long long)ticket_id, tok, host);
	else
		*message_id_r = xasprintf("dg.%s@%s", tok, host);
	return 0;
}

int
compose_message_id_ticket(const char *message_id, int64_t *ticket_id_r)
{
	if (message_id == NULL || strncmp(message_id, "dg.T", 4) != 0)
		return 0;
	const char *p = message_id + 4;
	int64_t v = 0;
	const char *start = p;
	while (*p >= '0' && *p <= '9' && p - start < 18)
		v = v * 10 + (*p++ - '0');
	if (p == start || *p != '.' || v <= 0)
		return 0;
	p++;
	size_t n = 0;
	while (p[n] != '\0' && p[n] != '@')
		n++;
	if (n != 26 || p[n] != '@')
		return 0;
	*ticket_id_r = v;
	return 1;
}

/* ---- header writing ------------------------------------------------------- */

struct writer {
	struct buf out;
	int overflow;
};

static void
w_put(struct writer *w, const void *data, size_t len)
{
	if (buf_append(&w->out, data, len) < 0)
		w->overflow = 1;
}

static void
w_puts(struct writer *w, const char *s)
{
	w_put(w, s, strlen(s));
}

/* Write "Name: value" folded at COMPOSE_FOLD columns. value is one line
   whose single spaces are the possible fold points (which is true of every
   value built here: cleaned text, encoded words and addresses); a word
   longer than a line stays whole. */
static void
w_header(struct writer *w, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;
	w_puts(w, name);
	w_puts(w, ":");
	const char *p = value;
	int first = 1;
	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n > 0) {
			if (!first && col + 1 + n > COMPOSE_FOLD) {
				w_puts(w, "\r\n ");
				col = 1;
			} else {
				w_puts(w, " ");
				col++;
			}
			w_put(w, p, n);
			col += n;
			first = 0;
		}
		p += n;
		if (*p == ' ')
			p++;
	}
	w_puts(w, "\r\n");
}

/* Does a word need RFC 2047 encoding? Non-ASCII, something that looks like
   an encoded word, or too long to fold. */
static int
word_needs_encoding(const char *w, size_t n)
{
	if (n > COMPOSE_FOLD - 2)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80)
			return 1;
		if (w[i] == '=' && i + 1 < n && w[i + 1] == '?')
			return 1;
	}
	return 0;
}

/* The shared encoder folds; turn its folding back into single spaces so
   that w_header() can fold the whole line. */
static void
encode_run(struct buf *out, const char *text, size_t len, size_t col)
{
	char *run = xstrndup(text, len);
	char *enc = rfc2047_encode(run, col);
	for (const char *p = enc; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n' || *p == '\t') {
			continue;
		}
		if (*p == ' ' && out->len > 0 && out->data[out->len - 1] == ' ')
			continue;
		buf_putc(out, (unsigned char)*p);
	}
	free(enc);
	free(run);
}

/* Unstructured text (subject, display name in a phrase): plain ASCII words
   stay readable; each run of words that needs encoding becomes encoded
   words (the spaces inside a run are encoded with it, since white space
   between encoded words disappears when decoding). col: where the value
   starts on its line, for sizing the first word. Caller frees. */
static char *
encode_text(const char *clean, size_t col)
{
	struct buf out;
	buf_init(&out, SIZE_MAX / 4);
	const char *p = clean;
	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (!word_needs_encoding(p, n)) {
			if (out.len > 0)
				buf_putc(&out, ' ');
			buf_append(&out, p, n);
			p += n;
		} else {
			/* extend the run over following words that need it too */
			const char *end = p + n;
			while (*end == ' ') {
				const char *next = end + 1;
				const char *nsp = strchr(next, ' ');
				size_t nn = nsp != NULL ? (size_t)(nsp - next) : strlen(next);
				if (nn == 0 || !word_needs_encoding(next, nn))
					break;
				end = next + nn;
			}
			if (out.len > 0)
				buf_putc(&out, ' ');
			encode_run(&out, p, (size_t)(end - p), out.len == 0 ? col : 0);
			p = end;
		}
		if (*p == ' ')
			p++;
	}
	return buf_steal(&out, NULL);
}

/* A display name as a phrase: atoms as they are, a quoted string when it
   has specials, encoded words when not ASCII. */
static char *
encode_phrase(const char *name, size_t col)
{
	int ascii = 1, special = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p >= 0x80)
			ascii = 0;
		else if (*p != ' ' && !is_atext(*p))
			special = 1;
	}
	if (!ascii || strstr(name, "=?") != NULL) {
		/* encode the whole phrase: inside a phrase, plain words next to
		   encoded words would need their specials quoted separately */
		char *enc = rfc2047_encode(name, col);
		struct buf out;
		buf_init(&out, SIZE_MAX / 4);
		for (const char *p = enc; *p != '\0'; p++) {
			if (*p == '\r' || *p == '\n' || *p == '\t')
				continue;
			if (*p == ' ' && out.len > 0 && out.data[out.len - 1] == ' ')
				continue;
			buf_putc(&out, (unsigned char)*p);
		}
		free(enc);
		return buf_steal(&out, NULL);
	}
	if (!special)
		return xstrdup(name);
	struct buf out;
	buf_init(&out, SIZE_MAX / 4);
	buf_putc(&out, '"');
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(&out, '\\');
		buf_putc(&out, (unsigned char)*p);
	}
	buf_putc(&out, '"');
	return buf_steal(&out, NULL);
}

/* "Name <addr>, addr2" for a header; -1 with error_r on a bad address. */
static int
w_addresses(struct writer *w, const char *header, const struct compose_addrs *l,
	    const char **error_r)
{
	struct buf v;
	buf_init(&v, SIZE_MAX / 4);
	for (size_t i = 0; i < l->count; i++) {
		const struct compose_addr *a = &l->items[i];
		if (!address_valid(a->address)) {
			char *shown = clean_header_text(a->address);
			*error_r = errf("%s: invalid address \"%s\"", header, shown);
			free(shown);
			buf_free(&v);
			return -1;
		}
		if (i > 0)
			buf_puts(&v, ", ");
		if (a->name != NULL && a->name[0] != '\0') {
			char *phrase = encode_phrase(a->name, i == 0 ? strlen(header) + 2 : 0);
			buf_puts(&v, phrase);
			buf_printf(&v, " <%s>", a->address);
			free(phrase);
		} else {
			buf_puts(&v, a->address);
		}
	}
	w_header(w, header, buf_cstr(&v));
	buf_free(&v);
	return 0;
}

static void
w_date(struct writer *w, int64_t when)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	char value[64];
	snprintf(value, sizeof(value), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	w_header(w, "Date", value);
}

/* ---- body encoding -------------------------------------------------------- */

enum cte { CTE_7BIT, CTE_QP, CTE_BASE64 };

static const char *const cte_names[] = { "7bit", "quoted-printable", "base64" };

/* 7bit for short-lined ASCII without controls that ends with a line end;
   quoted-printable when at most a fifth of the bytes are not ASCII; base64
   otherwise. Every encoded part ends with CRLF, and every boundary
   delimiter after a part starts with its own CRLF, so text comes back
   exactly, final line end included. */
static enum cte
choose_cte(const char *s, size_t len)
{
	size_t high = 0, line = 0, longest = 0;
	int ctl = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n') {
			line = 0;
			continue;
		}
		if (ch >= 0x80)
			high++;
		else if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f)
			ctl = 1;
		if (ch != '\r' && ++line > longest)
			longest = line;
	}
	if (high == 0 && !ctl && longest <= COMPOSE_BODY_LINE && (len == 0 || s[len - 1] == '\n'))
		return CTE_7BIT;
	return high * 5 <= len ? CTE_QP : CTE_BASE64;
}

size_t
compose_attachment_wire_size(size_t len)
{
	size_t chars = (len / 3 + (len % 3 != 0)) * 4;
	size_t lines = chars / COMPOSE_BODY_LINE + (chars % COMPOSE_BODY_LINE != 0);
	return chars + 2 * lines;
}

uint64_t
compose_attachments_room(uint64_t max_size)
{
	uint64_t reserve = max_size / 8;
	if (reserve > 1024 * 1024)
		reserve = 1024 * 1024;
	return max_size - reserve;
}

static void
w_base64(struct writer *w, const unsigned char *data, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[COMPOSE_BODY_LINE + 2];
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned int)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		line[o++] = b64[(v >> 18) & 63];
		line[o++] = b64[(v >> 12) & 63];
		line[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		line[o++] = i + 2 < len ? b64[v & 63] : '=';
		if (o == COMPOSE_BODY_LINE) {
			line[o++] = '\r';
			line[o++] = '\n';
			w_put(w, line, o);
			o = 0;
		}
	}
	if (o > 0) {
		line[o++] = '\r';
		line[o++] = '\n';
		w_put(w, line, o);
	}
}

/* Quoted-printable (RFC 2045 6.7) of CRLF text: lines of at most 76
   characters with soft breaks that never split an =XX triplet; trailing
   white space encoded; "From " and a lone "." at a line start encoded too,
   so no mbox or SMTP quirk can touch the text. */
static void
w_qp(struct writer *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[COMPOSE_BODY_LINE + 4];
	size_t o = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r' && i + 1 < len && s[i + 1] == '\n') {
			line[o++] = '\r';
			line[o++] = '\n';
			w_put(w, line, o);
			o = 0;
			i += 2;
			continue;
		}
		/* Fast path, the same bytes as below: inside a line (no
		   line-start rule applies), a character that is not the last
		   of its line (the limit is that of a soft break) and needs no
		   encoding is copied. */
		while (o > 0 && o < COMPOSE_BODY_LINE - 1 && i + 1 < len && s[i + 1] != '\r' &&
		       ((ch >= 33 && ch <= 126 && ch != '=') || ch == ' ' || ch == '\t')) {
			line[o++] = (char)ch;
			ch = (unsigned char)s[++i];
		}
		char tok[3];
		size_t tn;
		int at_end = i + 1 >= len || s[i + 1] == '\r';
		int literal = (ch >= 33 && ch <= 126 && ch != '=') ||
			      ((ch == ' ' || ch == '\t') && !at_end);
		if (o == 0 && ch == '.' && at_end)
			literal = 0;
		if (o == 0 && ch == 'F' && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
			literal = 0;
		if (literal) {
			tok[0] = (char)ch;
			tn = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[ch >> 4];
			tok[2] = hex[ch & 15];
			tn = 3;
		}
		/* room for the token plus a soft break '=' unless it ends the line */
		size_t limit = at_end ? COMPOSE_BODY_LINE : COMPOSE_BODY_LINE - 1;
		if (o + tn > limit) {
			line[o++] = '=';
			line[o++] = '\r';
			line[o++] = '\n';
			w_put(w, line, o);
			o = 0;
			continue; /* re-examine: line-start rules may now apply */
		}
		memcpy(line + o, tok, tn);
		o += tn;
		i++;
	}
	if (o > 0) {
		/* text without a final line end: a soft break keeps it exact */
		line[o++] = '=';
		line[o++] = '\r';
		line[o++] = '\n';
		w_put(w, line, o);
	}
}

static void
w_text_part(struct writer *w, const char *subtype, const char *s, size_t len)
{
	enum cte cte = choose_cte(s, len);
	char *ct = xasprintf("text/%s; charset=utf-8", subtype);
	w_header(w, "Content-Type", ct);
	free(ct);
	w_header(w, "Content-Transfer-Encoding", cte_names[cte]);
	w_puts(w, "\r\n");
	if (cte == CTE_BASE64) {
		w_base64(w, (const unsigned char *)s, len);
	} else if (cte == CTE_QP) {
		w_qp(w, s, len);
	} else {
		w_put(w, s, len); /* empty, or ends with CRLF (choose_cte()) */
	}
}

/* RFC 2231 parameter: name="value" for plain short ASCII, else
   name*=utf-8''%XX... split into name*0*, name*1*... continuations at
   character boundaries so that no line gets long. Appended to v with a
   leading "; " (which w_header() may fold at). */
static void
param_append(struct buf *v, const char *name, const char *value)
{
	int plain = strlen(value) <= 60;
	for (const unsigned char *p = (const unsigned char *)value; plain && *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			plain = 0;
	if (plain) {
		buf_printf(v, "; %s=\"%s\"", name, value);
		return;
	}
	static const char hex[] = "0123456789ABCDEF";
	static const char attr_ok[] = "!#$&+-.^_`|~";
	const unsigned char *p = (const unsigned char *)value;
	size_t len = strlen(value);
	/* encoded chunks of at most ~50 characters each */
	struct buf enc;
	buf_init(&enc, SIZE_MAX / 4);
	size_t *cuts = NULL, n_cuts = 0;
	size_t chunk = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(p + i, len - i);
		if (n == 0)
			n = 1;
		size_t cost = 0;
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = p[i + k];
			int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				 (ch >= '0' && ch <= '9') || strchr(attr_ok, ch) != NULL;
			cost += ok && ch != '\0' ? 1 : 3;
		}
		if (chunk + cost > 50 && chunk > 0) {
			cuts = xreallocarray(cuts, n_cuts + 1, sizeof(*cuts));
			cuts[n_cuts++] = enc.len;
			chunk = 0;
		}
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = p[i + k];
			int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				 (ch >= '0' && ch <= '9') || strchr(attr_ok, ch) != NULL;
			if (ok && ch != '\0') {
				buf_putc(&enc, ch);
			} else {
				buf_putc(&enc, '%');
				buf_putc(&enc, (unsigned char)hex[ch >> 4]);
				buf_putc(&enc, (unsigned char)hex[ch & 15]);
			}
		}
		chunk += cost;
		i += n;
	}
	const char *e = buf_cstr(&enc);
	if (n_cuts == 0) {
		buf_printf(v, "; %s*=utf-8''%s", name, e);
	} else {
		size_t start = 0;
		for (size_t k = 0; k <= n_cuts; k++) {
			size_t end = k < n_cuts ? cuts[k] : enc.len;
			buf_printf(v, "; %s*%zu*=%s%.*s", name, k, k == 0 ? "utf-8''" : "",
				   (int)(end - start), e + start);
			start = end;
		}
	}
	free(cuts);
	buf_free(&enc);
}

/* related: an image the HTML body shows (inline, with its Content-ID). */
static void
w_attachment(struct writer *w, const struct compose_att *a, int related)
{
	struct buf v;
	buf_init(&v, SIZE_MAX / 4);
	buf_puts(&v, a->content_type);
	param_append(&v, "name", a->filename);
	w_header(w, "Content-Type", buf_cstr(&v));
	buf_reset(&v);
	buf_puts(&v, related ? "inline" : "attachment");
	param_append(&v, "filename", a->filename);
	w_header(w, "Content-Disposition", buf_cstr(&v));
	if (related) {
		char *cid = xasprintf("<%s>", a->content_id);
		w_header(w, "Content-ID", cid);
		free(cid);
	}
	buf_free(&v);
	w_header(w, "Content-Transfer-Encoding", "base64");
	w_puts(w, "\r\n");
	w_base64(w, a->data, a->len);
}

/* A boundary delimiter line; all but the first start with the CRLF that
   RFC 2046 makes part of the delimiter. */
static void
w_delimiter(struct writer *w, const char *tok, int first, int close)
{
	if (!first)
		w_puts(w, "\r\n");
	w_puts(w, "--=_dg_");
	w_puts(w, tok);
	w_puts(w, close ? "--\r\n" : "\r\n");
}

/* The text body: one part, or multipart/alternative of text and HTML. */
static int
w_alternative(struct writer *w, const struct compose *c, const char **error_r)
{
	const char *text = c->text != NULL ? c->text : "";
	size_t text_len = c->text != NULL ? c->text_len : 0;
	if (c->html == NULL) {
		w_text_part(w, "plain", text, text_len);
		return 0;
	}
	char tok[27];
	if (random_token(tok, error_r) < 0)
		return -1;
	char *ct = xasprintf("multipart/alternative; boundary=\"=_dg_%s\"", tok);
	w_header(w, "Content-Type", ct);
	free(ct);
	w_puts(w, "\r\n");
	w_delimiter(w, tok, 1, 0);
	w_text_part(w, "plain", text, text_len);
	w_delimiter(w, tok, 0, 0);
	w_text_part(w, "html", c->html, c->html_len);
	w_delimiter(w, tok, 0, 1);
	return 0;
}

/* Parts that go with the HTML body (RFC 2387): the HTML's inline images. */
static int
is_related(const struct compose *c, const struct compose_att *a)
{
	return a->content_id != NULL && c->html != NULL;
}

/* The body: the alternative, inside a multipart/related with the images
   the HTML shows when there are some. */
static int
w_body(struct writer *w, const struct compose *c, const char **error_r)
{
	size_t n_related = 0;
	for (size_t i = 0; i < c->n_atts; i++)
		n_related += is_related(c, &c->atts[i]);
	if (n_related == 0)
		return w_alternative(w, c, error_r);
	char tok[27];
	if (random_token(tok, error_r) < 0)
		return -1;
	char *ct = xasprintf("multipart/related; type=\"multipart/alternative\"; "
			     "boundary=\"=_dg_%s\"", tok);
	w_header(w, "Content-Type", ct);
	free(ct);
	w_puts(w, "\r\n");
	w_delimiter(w, tok, 1, 0);
	if (w_alternative(w, c, error_r) < 0)
		return -1;
	for (size_t i = 0; i < c->n_atts; i++) {
		if (!is_related(c, &c->atts[i]))
			continue;
		w_delimiter(w, tok, 0, 0);
		w_attachment(w, &c->atts[i], 1);
	}
	w_delimiter(w, tok, 0, 1);
	return 0;
}

int
compose_render(struct compose *c, unsigned char **data_r, size_t *len_r, const char **error_r)
{
	struct writer w = { { 0 }, 0 };
	*data_r = NULL;
	*len_r = 0;

	if (c->from.count == 0) {
		*error_r = "no From address";
		return -1;
	}
	if (c->to.count == 0 && c->cc.count == 0) {
		*error_r = "no recipient";
		return -1;
	}
	if (c->message_id == NULL || !msgid_valid(c->message_id)) {
		*error_r = "no valid Message-ID";
		return -1;
	}
	buf_init(&w.out, c->max_size);

	w_date(&w, c->has_date ? c->date : (int64_t)time(NULL));
	if (w_addresses(&w, "From", &c->from, error_r) < 0)
		goto fail;
	if (c->reply_to.count > 0 && w_addresses(&w, "Reply-To", &c->reply_to, error_r) < 0)
		goto fail;
	if (c->to.count > 0 && w_addresses(&w, "To", &c->to, error_r) < 0)
		goto fail;
	if (c->cc.count > 0 && w_addresses(&w, "Cc", &c->cc, error_r) < 0)
		goto fail;
	if (c->subject != NULL && c->subject[0] != '\0') {
		char *subj = encode_text(c->subject, strlen("Subject: "));
		w_header(&w, "Subject", subj);
		free(subj);
	}
	char *id = xasprintf("<%s>", c->message_id);
	w_header(&w, "Message-ID", id);
	free(id);
	if (c->in_reply_to != NULL && msgid_valid(c->in_reply_to)) {
		id = xasprintf("<%s>", c->in_reply_to);
		w_header(&w, "In-Reply-To", id);
		free(id);
	}
	if (c->n_references > 0) {
		/* the first (thread root) and the newest ones */
		struct buf refs;
		buf_init(&refs, SIZE_MAX / 4);
		size_t skip_to = c->n_references > COMPOSE_MAX_REFERENCES
					 ? c->n_references - (COMPOSE_MAX_REFERENCES - 1)
					 : 1;
		for (size_t i = 0; i < c->n_references; i++) {
			if (i > 0 && i < skip_to)
				continue;
			buf_printf(&refs, "%s<%s>", refs.len > 0 ? " " : "", c->references[i]);
		}
		w_header(&w, "References", buf_cstr(&refs));
		buf_free(&refs);
	}
	if (c->auto_submitted != NULL && c->auto_submitted[0] != '\0') {
		w_header(&w, "Auto-Submitted", c->auto_submitted);
		w_header(&w, "X-Auto-Response-Suppress", "All");
	}
	if (c->loop != NULL && c->loop[0] != '\0')
		w_header(&w, "X-Deskgate-Loop", c->loop);
	for (size_t i = 0; i < c->n_extra; i++) {
		char *v = encode_text(c->extra[i].value, strlen(c->extra[i].name) + 2);
		w_header(&w, c->extra[i].name, v);
		free(v);
	}
	w_header(&w, "MIME-Version", "1.0");

	size_t n_mixed = 0;
	for (size_t i = 0; i < c->n_atts; i++)
		n_mixed += !is_related(c, &c->atts[i]);
	if (n_mixed == 0) {
		if (w_body(&w, c, error_r) < 0)
			goto fail;
	} else {
		char tok[27];
		if (random_token(tok, error_r) < 0)
			goto fail;
		char *ct = xasprintf("multipart/mixed; boundary=\"=_dg_%s\"", tok);
		w_header(&w, "Content-Type", ct);
		free(ct);
		w_puts(&w, "\r\n");
		w_puts(&w, "This is a multi-part message in MIME format.\r\n");
		w_delimiter(&w, tok, 0, 0);
		if (w_body(&w, c, error_r) < 0)
			goto fail;
		for (size_t i = 0; i < c->n_atts; i++) {
			if (is_related(c, &c->atts[i]))
				continue;
			w_delimiter(&w, tok, 0, 0);
			w_attachment(&w, &c->atts[i], 0);
		}
		w_delimiter(&w, tok, 0, 1);
	}
	if (w.overflow) {
		*error_r = errf("message larger than %zu bytes", c->max_size);
		goto fail;
	}
	*data_r = (unsigned char *)buf_steal(&w.out, len_r);
	return 0;
fail:
	buf_free(&w.out);
	return -1;
}
