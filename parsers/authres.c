/* authres: see authres.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/authres.h"
#include "base/util.h"

#define MAX_COMMENT_DEPTH 16

struct cursor {
	const char *p, *end;
	const char *error;
};

static int
at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static int
is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* Folding white space and comments; a comment that does not close (or
   nests too deep) is an error. */
static int
skip_cfws(struct cursor *c)
{
	while (!at_end(c)) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			c->p++;
			continue;
		}
		if (ch != '(')
			break;
		int depth = 0;
		do {
			if (at_end(c)) {
				c->error = "authres: unclosed comment";
				return -1;
			}
			ch = (unsigned char)*c->p++;
			if (ch == '\\' && !at_end(c))
				c->p++;
			else if (ch == '(' && ++depth > MAX_COMMENT_DEPTH) {
				c->error = "authres: comments nested too deep";
				return -1;
			} else if (ch == ')')
				depth--;
		} while (depth > 0);
	}
	return 0;
}

static int
is_keyword_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/* A keyword (letters, digits, '-', '_'), lower case; NULL when there is
   none at the cursor. */
static char *
keyword(struct cursor *c)
{
	const char *s = c->p;
	while (!at_end(c) && is_keyword_char((unsigned char)*c->p))
		c->p++;
	if (c->p == s)
		return NULL;
	char *k = xstrndup(s, (size_t)(c->p - s));
	for (char *q = k; *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return k;
}

/* A quoted-string (without its quotes and quoting backslashes), or a run
   of characters up to white space, ';', '(' or a quote: RFC 2045 values,
   addresses and the base64 of header.b= alike. NULL with c->error on an
   unclosed quote or a control character. */
static char *
value(struct cursor *c)
{
	if (!at_end(c) && *c->p == '"') {
		struct buf b;
		buf_init(&b, AUTHRES_MAX_LEN);
		c->p++;
		for (;;) {
			if (at_end(c)) {
				buf_free(&b);
				c->error = "authres: unclosed quoted string";
				return NULL;
			}
			unsigned char ch = (unsigned char)*c->p++;
			if (ch == '"')
				break;
			if (ch == '\\' && !at_end(c))
				ch = (unsigned char)*c->p++;
			if (is_ctl(ch) && ch != '\t') {
				buf_free(&b);
				c->error = "authres: control character in a quoted string";
				return NULL;
			}
			(void)buf_putc(&b, ch);
		}
		char *s = buf_steal(&b, NULL);
		buf_free(&b);
		return s;
	}
	const char *s = c->p;
	while (!at_end(c)) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ';' || ch == '(' ||
		    ch == '"')
			break;
		if (is_ctl(ch)) {
			c->error = "authres: control character in a value";
			return NULL;
		}
		c->p++;
	}
	return xstrndup(s, (size_t)(c->p - s));
}

static void
result_clear(struct authres_result *r)
{
	free(r->method);
	free(r->result);
	free(r->reason);
	for (size_t i = 0; i < r->n_props; i++) {
		free(r->props[i].ptype);
		free(r->props[i].property);
		free(r->props[i].value);
	}
	free(r->props);
}

void
authres_free(struct authres **arp)
{
	struct authres *ar = *arp;
	if (ar == NULL)
		return;
	free(ar->authserv_id);
	for (size_t i = 0; i < ar->n_results; i++)
		result_clear(&ar->results[i]);
	free(ar->results);
	free(ar);
	*arp = NULL;
}

static int
fail(struct cursor *c, const char *why)
{
	if (c->error == NULL)
		c->error = why;
	return -1;
}

/* The properties (and reason) after "method=result", up to ';'. */
static int
properties(struct cursor *c, struct authres_result *r)
{
	for (;;) {
		if (skip_cfws(c) < 0)
			return -1;
		if (at_end(c) || *c->p == ';')
			return 0;
		char *k = keyword(c);
		if (k == NULL)
			return fail(c, "authres: expected a property");
		if (skip_cfws(c) < 0) {
			free(k);
			return -1;
		}
		char *ptype, *property;
		if (!at_end(c) && *c->p == '.') {
			c->p++;
			ptype = k;
			if (skip_cfws(c) < 0 || (property = keyword(c)) == NULL) {
				free(ptype);
				return fail(c, "authres: expected a property name after '.'");
			}
			if (skip_cfws(c) < 0) {
				free(ptype);
				free(property);
				return -1;
			}
		} else {
			ptype = xstrdup("");
			property = k;
		}
		if (at_end(c) || *c->p != '=') {
			free(ptype);
			free(property);
			return fail(c, "authres: expected '=' after a property");
		}
		c->p++;
		char *v = skip_cfws(c) < 0 ? NULL : value(c);
		if (v == NULL) {
			free(ptype);
			free(property);
			return -1;
		}
		if (*ptype == '\0' && strcmp(property, "reason") == 0 && r->reason == NULL) {
			r->reason = v;
			free(ptype);
			free(property);
			continue;
		}
		if (r->n_props >= AUTHRES_MAX_PROPS) {
			free(ptype);
			free(property);
			free(v);
			return fail(c, "authres: too many properties in one result");
		}
		r->props = xreallocarray(r->props, r->n_props + 1, sizeof(*r->props));
		r->props[r->n_props++] = (struct authres_prop){ ptype, property, v };
	}
}

/* One "; method[/version] = result props..." (the ';' consumed). */
static int
resinfo(struct cursor *c, struct authres *ar)
{
	if (skip_cfws(c) < 0)
		return -1;
	if (at_end(c) || *c->p == ';')
		return 0; /* an empty result between two ';' */
	char *method = keyword(c);
	if (method == NULL)
		return fail(c, "authres: expected a method name");
	if (ar->n_results >= AUTHRES_MAX_RESULTS) {
		free(method);
		return fail(c, "authres: too many results");
	}
	ar->results = xreallocarray(ar->results, ar->n_results + 1, sizeof(*ar->results));
	struct authres_result *r = &ar->results[ar->n_results++];
	memset(r, 0, sizeof(*r));
	r->method = method;
	if (skip_cfws(c) < 0)
		return -1;
	if (!at_end(c) && *c->p == '/') { /* method-version */
		c->p++;
		if (skip_cfws(c) < 0)
			return -1;
		while (!at_end(c) && *c->p >= '0' && *c->p <= '9')
			c->p++;
		if (skip_cfws(c) < 0)
			return -1;
	}
	if (at_end(c) || *c->p == ';') {
		/* "none" (no-result) or a method without a result */
		r->result = xstrdup("");
		return 0;
	}
	if (*c->p != '=')
		return fail(c, "authres: expected '=' after the method");
	c->p++;
	if (skip_cfws(c) < 0)
		return -1;
	r->result = keyword(c);
	if (r->result == NULL)
		return fail(c, "authres: expected a result after '='");
	return properties(c, r);
}

int
authres_parse(const char *text, size_t len, struct authres **ar_r, const char **error_r)
{
	struct cursor c = { text, text + len, NULL };
	struct authres *ar = xcalloc(1, sizeof(*ar));
	*ar_r = NULL;
	if (len > AUTHRES_MAX_LEN) {
		*error_r = "authres: header too long";
		authres_free(&ar);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		*error_r = "authres: NUL byte";
		authres_free(&ar);
		return -1;
	}
	ar->version = 1;
	if (skip_cfws(&c) < 0 || (ar->authserv_id = value(&c)) == NULL)
		goto fail;
	if (*ar->authserv_id == '\0') {
		c.error = "authres: no authserv-id";
		goto fail;
	}
	if (skip_cfws(&c) < 0)
		goto fail;
	if (!at_end(&c) && *c.p >= '0' && *c.p <= '9') {
		unsigned int v = 0;
		while (!at_end(&c) && *c.p >= '0' && *c.p <= '9' && v < 1000)
			v = v * 10 + (unsigned int)(*c.p++ - '0');
		ar->version = v;
		if (skip_cfws(&c) < 0)
			goto fail;
	}
	while (!at_end(&c)) {
		if (*c.p != ';') {
			c.error = "authres: expected ';'";
			goto fail;
		}
		c.p++;
		if (resinfo(&c, ar) < 0)
			goto fail;
		if (skip_cfws(&c) < 0)
			goto fail;
	}
	/* "; none" says no method ran: no results. */
	if (ar->n_results == 1 && strcmp(ar->results[0].method, "none") == 0 &&
	    ar->results[0].result[0] == '\0') {
		result_clear(&ar->results[0]);
		ar->n_results = 0;
	}
	*ar_r = ar;
	return 0;
fail:
	*error_r = c.error != NULL ? c.error : "authres: malformed";
	authres_free(&ar);
	return -1;
}

const char *
authres_prop(const struct authres_result *r, const char *ptype, const char *property)
{
	for (size_t i = 0; i < r->n_props; i++)
		if (strcasecmp(r->props[i].ptype, ptype) == 0 &&
		    strcasecmp(r->props[i].property, property) == 0)
			return r->props[i].value;
	return NULL;
}

const char *
authres_domain(const char *v)
{
	if (v == NULL)
		return NULL;
	const char *at = strrchr(v, '@');
	const char *d = at != NULL ? at + 1 : v;
	return *d != '\0' ? d : NULL;
}
