/*
 * addr: see addr.h. A tokenizer (atoms, quoted strings, domain literals,
 * specials; comments and folding dropped but remembered as white space),
 * then RFC 5322's grammar over the tokens, and a recovery that looks for
 * the first valid addr-spec in an element the grammar refuses.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/addr.h"
#include "base/util.h"

enum tok_type {
	T_ATOM,	 /* atext and UTF-8 */
	T_QSTR,	 /* "quoted string", unquoted */
	T_DLIT,	 /* [domain literal], white space removed */
	T_DOT,
	T_AT,
	T_LT,
	T_GT,
	T_COMMA,
	T_COLON,
	T_SEMI,
	T_JUNK, /* anything else: a stray special, a control, invalid UTF-8 */
};

struct tok {
	enum tok_type type;
	size_t off, len; /* the token's text in struct parser's text */
	int space;	 /* white space or a comment before it */
};

struct parser {
	struct tok *t;
	size_t n, cap;
	struct buf text; /* the tokens' texts, one after the other */
	struct addr_list *out;
};

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Length of the valid UTF-8 character at s[0..len) that is not ASCII, or
   0 (RFC 6532's UTF8-non-ascii). */
static size_t
utf8_nonascii(const unsigned char *s, size_t len)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || n > len || !utf8_valid(s, n))
		return 0;
	/* C1 controls are not text */
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

static void
tok_add(struct parser *p, enum tok_type type, const void *text, size_t len, int space)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->t = xreallocarray(p->t, p->cap, sizeof(*p->t));
	}
	struct tok *t = &p->t[p->n++];
	t->type = type;
	t->off = p->text.len;
	t->len = len;
	t->space = space;
	/* cannot fail: text's maximum is twice the value */
	buf_append(&p->text, text, len);
}

/* Skip a comment at v[*i] == '(' (nested, with quoted pairs); an
   unterminated one runs to the end. */
static void
skip_comment(const char *v, size_t len, size_t *i)
{
	size_t depth = 0, k = *i;
	for (; k < len; k++) {
		if (v[k] == '\\') {
			k++;
		} else if (v[k] == '(') {
			depth++;
		} else if (v[k] == ')') {
			if (--depth == 0) {
				k++;
				break;
			}
		}
	}
	*i = k < len ? k : len;
}

/* A quoted string or a domain literal at v[*i] (the opening '"' or '['):
   its content without quoted-pair backslashes and line ends. -1 when it is
   not closed. */
static int
read_quoted(const char *v, size_t len, size_t *i, char close, int keep_wsp, struct buf *b)
{
	for (size_t k = *i + 1; k < len; k++) {
		unsigned char c = (unsigned char)v[k];
		if (c == (unsigned char)close) {
			*i = k + 1;
			return 0;
		}
		if (c == '\\' && k + 1 < len) {
			buf_putc(b, (unsigned char)v[++k]);
		} else if (c == '\r' || c == '\n') {
			continue; /* folding */
		} else if ((c == ' ' || c == '\t') && !keep_wsp) {
			continue;
		} else if (close == ']' && c == '[') {
			return -1;
		} else {
			buf_putc(b, c);
		}
	}
	return -1;
}

static void
tokenize(struct parser *p, const char *value, size_t len)
{
	const unsigned char *v = (const unsigned char *)value;
	int space = 0;
	struct buf q;
	buf_init(&q, len + 2);
	for (size_t i = 0; i < len;) {
		unsigned char c = v[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = 1;
			i++;
			continue;
		}
		if (c == '(') {
			skip_comment(value, len, &i);
			space = 1;
			continue;
		}
		enum tok_type type;
		switch (c) {
		case '.': type = T_DOT; break;
		case '@': type = T_AT; break;
		case '<': type = T_LT; break;
		case '>': type = T_GT; break;
		case ',': type = T_COMMA; break;
		case ':': type = T_COLON; break;
		case ';': type = T_SEMI; break;
		default: type = T_JUNK; break;
		}
		if (type != T_JUNK) {
			tok_add(p, type, v + i, 1, space);
			i++;
		} else if (c == '"' || c == '[') {
			size_t start = i;
			buf_reset(&q);
			if (c == '[')
				buf_putc(&q, '[');
			if (read_quoted(value, len, &i, c == '"' ? '"' : ']', c == '"', &q) < 0) {
				/* unterminated: junk to the end */
				tok_add(p, T_JUNK, v + start, len - start, space);
				i = len;
			} else {
				if (c == '[')
					buf_putc(&q, ']');
				tok_add(p, c == '"' ? T_QSTR : T_DLIT, q.data != NULL ? q.data : v, q.len,
					space);
			}
		} else if (is_atext(c) || c >= 0x80) {
			/* 8-bit bytes: UTF-8 (RFC 6532) or a legacy charset in a
			   name (or inside an encoded word, as Outlook writes them);
			   addr_spec_valid() keeps anything but UTF-8 out of an
			   address */
			size_t start = i;
			while (i < len && (is_atext(v[i]) || v[i] >= 0x80))
				i++;
			tok_add(p, T_ATOM, v + start, i - start, space);
		} else {
			tok_add(p, T_JUNK, v + i, 1, space);
			i++;
		}
		space = 0;
	}
	buf_free(&q);
}

static const char *
tok_text(const struct parser *p, size_t k)
{
	return (const char *)p->text.data + p->t[k].off;
}

static int
is_word(const struct parser *p, size_t k)
{
	return k < p->n && (p->t[k].type == T_ATOM || p->t[k].type == T_QSTR);
}

static int
is_type(const struct parser *p, size_t k, enum tok_type type)
{
	return k < p->n && p->t[k].type == type;
}

/* ---- addr-spec ---------------------------------------------------------- */

/* s[0..len) is a dot-atom: atoms of atext or UTF-8 joined by single dots. */
static int
dot_atom(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	if (len == 0 || u[0] == '.' || u[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len;) {
		size_t n;
		if (u[i] == '.') {
			if (u[i + 1] == '.')
				return 0;
			i++;
		} else if (is_atext(u[i])) {
			i++;
		} else if ((n = utf8_nonascii(u + i, len - i)) > 0) {
			i += n;
		} else {
			return 0;
		}
	}
	return 1;
}

int
addr_spec_valid(const char *s)
{
	if (s == NULL)
		return 0;
	size_t len = strlen(s), i = 0;
	if (len == 0 || len > ADDR_SPEC_MAX)
		return 0;
	if (s[0] == '"') {
		/* one quoted string: UTF-8 text, '"' and '\' escaped */
		size_t chars = 0;
		for (i = 1; i < len && s[i] != '"'; chars++) {
			unsigned char c = (unsigned char)s[i];
			size_t n;
			if (c == '\\') {
				c = (unsigned char)s[i + 1];
				if (c != '"' && c != '\\')
					return 0;
				i += 2;
			} else if (c >= 0x20 && c < 0x7f) {
				i++;
			} else if ((n = utf8_nonascii((const unsigned char *)s + i, len - i)) > 0) {
				i += n;
			} else {
				return 0;
			}
		}
		if (i >= len || chars == 0)
			return 0;
		i++;
	} else {
		const char *at = strrchr(s, '@');
		if (at == NULL || !dot_atom(s, (size_t)(at - s)))
			return 0;
		i = (size_t)(at - s);
	}
	if (i > ADDR_LOCAL_MAX || s[i] != '@')
		return 0;
	const char *d = s + i + 1;
	size_t dlen = len - i - 1;
	if (dlen >= 2 && d[0] == '[') {
		if (d[dlen - 1] != ']')
			return 0;
		for (size_t k = 1; k + 1 < dlen; k++) {
			unsigned char c = (unsigned char)d[k];
			if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
				return 0;
		}
		return dlen > 2;
	}
	return dot_atom(d, dlen);
}

/* The canonical addr-spec of a local part's value and a domain. */
static char *
spec_make(const char *local, size_t llen, const char *domain, size_t dlen)
{
	struct buf b;
	buf_init(&b, ADDR_SPEC_MAX + 1);
	int ok;
	if (dot_atom(local, llen)) {
		ok = buf_append(&b, local, llen) == 0;
	} else {
		ok = buf_putc(&b, '"') == 0;
		for (size_t i = 0; ok && i < llen; i++) {
			if ((local[i] == '"' || local[i] == '\\') && buf_putc(&b, '\\') < 0)
				ok = 0;
			else if (buf_putc(&b, (unsigned char)local[i]) < 0)
				ok = 0;
		}
		ok = ok && buf_putc(&b, '"') == 0;
	}
	ok = ok && buf_putc(&b, '@') == 0 && buf_append(&b, domain, dlen) == 0;
	char *spec = ok ? buf_steal(&b, NULL) : NULL;
	buf_free(&b);
	if (spec != NULL && !addr_spec_valid(spec))
		x_free(&spec);
	return spec;
}

/* local-part "@" domain at token *k: the obsolete local part (words and
   dots, white space around them, empty words between dots, as Japanese
   mobile carriers hand out) and a domain of atoms or a literal. Returns
   the canonical spec and moves *k past it, or NULL. Reads at most
   ADDR_SPEC_MAX bytes of token text, so trying every start stays linear. */
static char *
spec_parse(const struct parser *p, size_t *k)
{
	struct buf local, domain;
	size_t i = *k;
	char *spec = NULL;
	buf_init(&local, ADDR_SPEC_MAX);
	buf_init(&domain, ADDR_SPEC_MAX);
	int any = 0;
	for (;;) {
		if (is_type(p, i, T_DOT)) {
			if (buf_putc(&local, '.') < 0)
				goto out;
			i++;
		} else if (is_word(p, i)) {
			if (buf_append(&local, tok_text(p, i), p->t[i].len) < 0)
				goto out;
			any = 1;
			i++;
			if (is_word(p, i))
				goto out; /* two words without a dot: a name, not a local part */
		} else {
			break;
		}
	}
	if (!any || !is_type(p, i, T_AT))
		goto out;
	i++;
	if (is_type(p, i, T_DLIT)) {
		if (buf_append(&domain, tok_text(p, i), p->t[i].len) < 0)
			goto out;
		i++;
	} else {
		for (;;) {
			if (!is_type(p, i, T_ATOM) ||
			    buf_append(&domain, tok_text(p, i), p->t[i].len) < 0)
				goto out;
			i++;
			if (!is_type(p, i, T_DOT) || !is_type(p, i + 1, T_ATOM))
				break;
			if (buf_putc(&domain, '.') < 0)
				goto out;
			i++;
		}
	}
	spec = spec_make(buf_cstr(&local), local.len, buf_cstr(&domain), domain.len);
	if (spec != NULL)
		*k = i;
out:
	buf_free(&local);
	buf_free(&domain);
	return spec;
}

/* ---- names and mailboxes -------------------------------------------------- */

/* The text of the tokens [a, b): one space where there was white space. */
static char *
phrase_text(const struct parser *p, size_t a, size_t b)
{
	struct buf t;
	buf_init(&t, p->text.len + 1);
	for (size_t i = a; i < b; i++) {
		if (i > a && p->t[i].space)
			buf_putc(&t, ' ');
		buf_append(&t, tok_text(p, i), p->t[i].len);
	}
	return buf_steal(&t, NULL);
}

/* obs-phrase at *k: a word, then words and dots. NULL when there is no
   word. */
static char *
phrase_parse(const struct parser *p, size_t *k)
{
	size_t i = *k;
	if (!is_word(p, i))
		return NULL;
	while (is_word(p, i) || is_type(p, i, T_DOT))
		i++;
	char *phrase = phrase_text(p, *k, i);
	*k = i;
	return phrase;
}

/* The name the tokens [a, b) make when they are an obs-phrase, else NULL. */
static char *
phrase_range(const struct parser *p, size_t a, size_t b)
{
	if (a >= b || !is_word(p, a))
		return NULL;
	for (size_t i = a; i < b; i++)
		if (!is_word(p, i) && !is_type(p, i, T_DOT))
			return NULL;
	return phrase_text(p, a, b);
}

/* "<" [obs-route] addr-spec ">" at *k. */
static char *
angle_parse(const struct parser *p, size_t *k)
{
	size_t i = *k;
	if (!is_type(p, i, T_LT))
		return NULL;
	i++;
	/* obs-route: *("," / "@" domain) ":" */
	if (is_type(p, i, T_AT) || is_type(p, i, T_COMMA)) {
		while (is_type(p, i, T_COMMA) || is_type(p, i, T_AT)) {
			if (p->t[i++].type == T_COMMA)
				continue;
			if (is_type(p, i, T_DLIT)) {
				i++;
				continue;
			}
			if (!is_type(p, i, T_ATOM))
				return NULL;
			while (is_type(p, i, T_ATOM) && is_type(p, i + 1, T_DOT))
				i += 2;
			if (!is_type(p, i++, T_ATOM))
				return NULL;
		}
		if (!is_type(p, i++, T_COLON))
			return NULL;
	}
	char *spec = spec_parse(p, &i);
	if (spec == NULL)
		return NULL;
	if (!is_type(p, i, T_GT)) {
		free(spec);
		return NULL;
	}
	*k = i + 1;
	return spec;
}

static void
entry_add(struct parser *p, char *phrase, char *spec, int group, int recovered)
{
	struct addr_list *l = p->out;
	l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
	struct addr *a = &l->items[l->count++];
	a->phrase = phrase;
	a->spec = spec;
	a->group = group;
	a->recovered = recovered;
}

/* name-addr or addr-spec at *k; 0 and an entry, or -1. */
static int
mailbox_parse(struct parser *p, size_t *k)
{
	size_t i = *k;
	char *phrase = phrase_parse(p, &i);
	char *spec = angle_parse(p, &i);
	if (spec == NULL && phrase != NULL) {
		/* not a name: the words may be the addr-spec */
		x_free(&phrase);
		i = *k;
		spec = spec_parse(p, &i);
	}
	if (spec == NULL) {
		free(phrase);
		return -1;
	}
	entry_add(p, phrase, spec, 0, 0);
	*k = i;
	return 0;
}

/* A mailbox or a group at *k, ending at a ',' or the end (a group at its
   ';' or the end). */
static int
address_parse(struct parser *p, size_t *k)
{
	size_t i = *k;
	char *phrase = phrase_parse(p, &i);
	if (phrase != NULL && is_type(p, i, T_COLON)) {
		entry_add(p, phrase, NULL, 1, 0);
		i++;
		for (;;) {
			while (is_type(p, i, T_COMMA))
				i++;
			if (i >= p->n || is_type(p, i, T_SEMI))
				break;
			if (mailbox_parse(p, &i) < 0)
				return -1;
			if (!is_type(p, i, T_COMMA) && !is_type(p, i, T_SEMI) && i < p->n)
				return -1;
		}
		if (is_type(p, i, T_SEMI))
			i++;
	} else {
		free(phrase);
		i = *k;
		if (mailbox_parse(p, &i) < 0)
			return -1;
	}
	*k = i;
	return 0;
}

/* ---- recovery --------------------------------------------------------------- */

/* A malformed element [start, end): the first addr-spec in angle brackets,
   else the first free-standing one (white space or a special on both
   sides: never a piece of a longer word), with the words before it as the
   name. One entry (recovered), or none when there is neither. */
static void
recover(struct parser *p, size_t start, size_t end)
{
	char *spec = NULL;
	size_t at = end;
	for (size_t k = start; k < end && spec == NULL; k++) {
		size_t i = k;
		if (p->t[k].type == T_LT && (spec = angle_parse(p, &i)) != NULL && i > end)
			x_free(&spec);
		if (spec != NULL)
			at = k;
	}
	for (size_t k = start; k < end && spec == NULL; k++) {
		if (!is_word(p, k))
			continue;
		if (k > start && !p->t[k].space &&
		    (p->t[k - 1].type == T_ATOM || p->t[k - 1].type == T_QSTR ||
		     p->t[k - 1].type == T_DOT || p->t[k - 1].type == T_AT ||
		     p->t[k - 1].type == T_DLIT || p->t[k - 1].type == T_JUNK))
			continue;
		size_t i = k;
		spec = spec_parse(p, &i);
		if (spec == NULL)
			continue;
		enum tok_type next = i < end ? p->t[i].type : T_COMMA;
		if (i > end || (i < end && !p->t[i].space && next != T_COMMA && next != T_SEMI &&
				next != T_GT && next != T_LT)) {
			x_free(&spec);
			continue;
		}
		at = k;
	}
	/* without an address, a name only when nothing but "<...>" follows */
	size_t i = start;
	char *phrase = spec != NULL ? phrase_range(p, start, at) : phrase_parse(p, &i);
	if (spec == NULL && phrase != NULL && i < end && p->t[i].type != T_LT)
		x_free(&phrase);
	if (phrase != NULL || spec != NULL)
		entry_add(p, phrase, spec, 0, 1);
}

size_t
addr_list_parse(const char *value, size_t len, struct addr_list *list)
{
	struct parser p = { .out = list };
	size_t bad = 0;
	if (value == NULL)
		return 0;
	buf_init(&p.text, 2 * len + 2);
	tokenize(&p, value, len);
	for (size_t k = 0; k < p.n;) {
		/* empty elements, and ';' as a list separator (outside a group
		   it is one only in broken clients) */
		if (p.t[k].type == T_COMMA || p.t[k].type == T_SEMI) {
			k++;
			continue;
		}
		size_t start = k, mark = list->count;
		if (address_parse(&p, &k) == 0 && (k >= p.n || p.t[k].type == T_COMMA))
			continue;
		/* malformed: forget what the grammar took, recover the element */
		for (size_t i = mark; i < list->count; i++) {
			free(list->items[i].phrase);
			free(list->items[i].spec);
		}
		list->count = mark;
		size_t end = start;
		while (end < p.n && p.t[end].type != T_COMMA && p.t[end].type != T_SEMI)
			end++;
		recover(&p, start, end);
		bad++;
		k = end;
	}
	free(p.t);
	buf_free(&p.text);
	return bad;
}

void
addr_list_clear(struct addr_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].phrase);
		free(list->items[i].spec);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
