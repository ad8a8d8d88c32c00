/*
 * template: see template.h. Hand-written because Debian packages no C
 * mustache library; the parser follows the spec's rules literally:
 *
 * - A tag is "standalone" when only spaces and tabs precede it on its line
 *   and only spaces and tabs (then LF, CRLF or the end) follow it; this
 *   applies to section, inverted, close, comment, partial and set-delimiter
 *   tags. The whole line is then dropped, and a standalone partial's
 *   leading white space becomes the indentation of every line of the
 *   partial's source.
 * - Name resolution: "." is the current context; "a.b.c" finds "a" in the
 *   nearest context (innermost first) that has it, then "b" and "c" only
 *   inside that value.
 * - Set delimiters are local to the template being compiled: a partial
 *   always starts with "{{ }}".
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/template.h"
#include "base/util.h"

/* ---- data ------------------------------------------------------------- */

struct tmpl_entry {
	char *key;
	struct tmpl_value *value;
};

struct tmpl_value {
	enum tmpl_type type;
	int b;
	char *s;
	/* list items or map entries */
	struct tmpl_value **items;
	struct tmpl_entry *entries;
	size_t count, cap;
};

static struct tmpl_value *
value_new(enum tmpl_type type)
{
	struct tmpl_value *v = xcalloc(1, sizeof(*v));
	v->type = type;
	return v;
}

struct tmpl_value *
tmpl_null_new(void)
{
	return value_new(TMPL_NULL);
}

struct tmpl_value *
tmpl_string_new(const char *s)
{
	struct tmpl_value *v = value_new(TMPL_STRING);
	v->s = xstrdup(s != NULL ? s : "");
	return v;
}

struct tmpl_value *
tmpl_bool_new(int b)
{
	struct tmpl_value *v = value_new(TMPL_BOOL);
	v->b = b != 0;
	return v;
}

struct tmpl_value *
tmpl_list_new(void)
{
	return value_new(TMPL_LIST);
}

struct tmpl_value *
tmpl_map_new(void)
{
	return value_new(TMPL_MAP);
}

void
tmpl_value_free(struct tmpl_value **vp)
{
	struct tmpl_value *v = *vp;
	if (v == NULL)
		return;
	if (v->type == TMPL_LIST) {
		for (size_t i = 0; i < v->count; i++)
			tmpl_value_free(&v->items[i]);
		free(v->items);
	} else if (v->type == TMPL_MAP) {
		for (size_t i = 0; i < v->count; i++) {
			free(v->entries[i].key);
			tmpl_value_free(&v->entries[i].value);
		}
		free(v->entries);
	}
	free(v->s);
	free(v);
	*vp = NULL;
}

enum tmpl_type
tmpl_value_type(const struct tmpl_value *v)
{
	return v->type;
}

int
tmpl_value_bool(const struct tmpl_value *v)
{
	return v != NULL && v->type == TMPL_BOOL && v->b;
}

const char *
tmpl_value_string(const struct tmpl_value *v)
{
	return v != NULL && v->type == TMPL_STRING ? v->s : NULL;
}

const struct tmpl_value *
tmpl_map_get(const struct tmpl_value *map, const char *key)
{
	if (map == NULL || map->type != TMPL_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->entries[i].key, key) == 0)
			return map->entries[i].value;
	return NULL;
}

static const struct tmpl_value *
map_get_n(const struct tmpl_value *map, const char *key, size_t len)
{
	if (map == NULL || map->type != TMPL_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++) {
		const char *k = map->entries[i].key;
		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return map->entries[i].value;
	}
	return NULL;
}

size_t
tmpl_list_count(const struct tmpl_value *list)
{
	return list != NULL && list->type == TMPL_LIST ? list->count : 0;
}

const struct tmpl_value *
tmpl_list_at(const struct tmpl_value *list, size_t i)
{
	return list != NULL && list->type == TMPL_LIST && i < list->count ? list->items[i] : NULL;
}

void
tmpl_map_set(struct tmpl_value *map, const char *key, struct tmpl_value *v)
{
	if (map->type != TMPL_MAP)
		abort();
	for (size_t i = 0; i < map->count; i++) {
		if (strcmp(map->entries[i].key, key) == 0) {
			tmpl_value_free(&map->entries[i].value);
			map->entries[i].value = v;
			return;
		}
	}
	if (map->count == map->cap) {
		map->cap = map->cap == 0 ? 8 : map->cap * 2;
		map->entries = xreallocarray(map->entries, map->cap, sizeof(*map->entries));
	}
	map->entries[map->count].key = xstrdup(key);
	map->entries[map->count].value = v;
	map->count++;
}

void
tmpl_map_set_string(struct tmpl_value *map, const char *key, const char *s)
{
	tmpl_map_set(map, key, tmpl_string_new(s));
}

void
tmpl_map_set_bool(struct tmpl_value *map, const char *key, int b)
{
	tmpl_map_set(map, key, tmpl_bool_new(b));
}

struct tmpl_value *
tmpl_map_add_map(struct tmpl_value *map, const char *key)
{
	struct tmpl_value *v = tmpl_map_new();
	tmpl_map_set(map, key, v);
	return v;
}

struct tmpl_value *
tmpl_map_add_list(struct tmpl_value *map, const char *key)
{
	struct tmpl_value *v = tmpl_list_new();
	tmpl_map_set(map, key, v);
	return v;
}

void
tmpl_list_append(struct tmpl_value *list, struct tmpl_value *v)
{
	if (list->type != TMPL_LIST)
		abort();
	if (list->count == list->cap) {
		list->cap = list->cap == 0 ? 8 : list->cap * 2;
		list->items = xreallocarray(list->items, list->cap, sizeof(*list->items));
	}
	list->items[list->count++] = v;
}

void
tmpl_list_append_string(struct tmpl_value *list, const char *s)
{
	tmpl_list_append(list, tmpl_string_new(s));
}

struct tmpl_value *
tmpl_list_add_map(struct tmpl_value *list)
{
	struct tmpl_value *v = tmpl_map_new();
	tmpl_list_append(list, v);
	return v;
}

/* ---- compiled form ------------------------------------------------------ */

enum node_kind { NODE_TEXT, NODE_VAR, NODE_RAW, NODE_SECTION, NODE_INVERTED, NODE_PARTIAL };

struct node {
	enum node_kind kind;
	char *text;	 /* TEXT: the bytes; VAR/RAW/sections: the name; PARTIAL: the name */
	size_t len;	 /* TEXT: byte count */
	char *indent;	 /* PARTIAL: standalone indentation, or NULL */
	unsigned int line;
	struct node_list {
		struct node **v;
		size_t n, cap;
	} children; /* sections */
};

struct tmpl {
	struct node_list root;
	char *label;
	struct tmpl_limits limits;
	char **partial_names;
	size_t n_partial_names;
};

void
tmpl_limits_default(struct tmpl_limits *limits)
{
	limits->max_source = 256 * 1024;
	limits->max_output = 1024 * 1024;
	limits->max_depth = 32;
	limits->max_partials = 1000;
	limits->max_steps = 1000000;
}

static void
list_push(struct node_list *l, struct node *n)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = n;
}

static void
list_free(struct node_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct node *n = l->v[i];
		list_free(&n->children);
		free(n->text);
		free(n->indent);
		free(n);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
tmpl_free(struct tmpl **tmplp)
{
	struct tmpl *t = *tmplp;
	if (t == NULL)
		return;
	list_free(&t->root);
	for (size_t i = 0; i < t->n_partial_names; i++)
		free(t->partial_names[i]);
	free(t->partial_names);
	free(t->label);
	free(t);
	*tmplp = NULL;
}

size_t
tmpl_partial_count(const struct tmpl *tmpl)
{
	return tmpl->n_partial_names;
}

const char *
tmpl_partial_name(const struct tmpl *tmpl, size_t i)
{
	return i < tmpl->n_partial_names ? tmpl->partial_names[i] : NULL;
}

/* ---- parser ------------------------------------------------------------ */

#define MAX_DELIM 16

struct parser {
	const char *src;
	size_t len;
	const char *label;
	unsigned int first_line;
	/* line counting: line number at offset line_off */
	size_t line_off;
	unsigned int line;
	char otag[MAX_DELIM + 1], ctag[MAX_DELIM + 1];
	size_t olen, clen;
	struct tmpl *tmpl;
	/* open sections: their nodes and the lists to append to */
	struct node **open;
	size_t depth, max_depth;
	const char *error;
};

static unsigned int
line_at(struct parser *p, size_t off)
{
	/* Offsets only grow during a parse, so counting is linear overall. */
	if (off < p->line_off) {
		p->line_off = 0;
		p->line = p->first_line;
	}
	for (size_t i = p->line_off; i < off && i < p->len; i++)
		if (p->src[i] == '\n')
			p->line++;
	p->line_off = off;
	return p->line;
}

static int
perror_at(struct parser *p, size_t off, const char *why)
{
	if (p->error == NULL)
		p->error = errf("%s:%u: %s", p->label, line_at(p, off), why);
	return -1;
}

static const char *
find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return NULL;
	const char *end = hay + hlen - nlen;
	for (const char *s = hay; s <= end; s++) {
		s = memchr(s, needle[0], (size_t)(end - s) + 1);
		if (s == NULL)
			return NULL;
		if (memcmp(s, needle, nlen) == 0)
			return s;
	}
	return NULL;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct node_list *
current_list(struct parser *p)
{
	return p->depth == 0 ? &p->tmpl->root : &p->open[p->depth - 1]->children;
}

static void
add_text(struct parser *p, size_t from, size_t to, unsigned int line)
{
	if (to <= from)
		return;
	struct node_list *l = current_list(p);
	/* Merge with a preceding text node (after a dropped standalone line). */
	if (l->n > 0 && l->v[l->n - 1]->kind == NODE_TEXT) {
		struct node *prev = l->v[l->n - 1];
		prev->text = xrealloc(prev->text, prev->len + (to - from) + 1);
		memcpy(prev->text + prev->len, p->src + from, to - from);
		prev->len += to - from;
		prev->text[prev->len] = '\0';
		return;
	}
	struct node *n = xcalloc(1, sizeof(*n));
	n->kind = NODE_TEXT;
	n->text = xstrndup(p->src + from, to - from);
	n->len = to - from;
	n->line = line;
	list_push(l, n);
}

/* A tag name: "." or dot-separated non-empty parts without white space or
   control characters. */
static int
valid_name(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (len == 1 && s[0] == '.')
		return 1;
	if (s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
		if (c == '{' || c == '}')
			return 0;
	}
	return 1;
}

static int
set_delimiters(struct parser *p, const char *s, size_t len, size_t tag_off)
{
	size_t i = 0, a0, a1, b0, b1;
	while (i < len && is_space(s[i]))
		i++;
	a0 = i;
	while (i < len && !is_space(s[i]))
		i++;
	a1 = i;
	while (i < len && is_space(s[i]))
		i++;
	b0 = i;
	while (i < len && !is_space(s[i]))
		i++;
	b1 = i;
	while (i < len && is_space(s[i]))
		i++;
	if (a1 == a0 || b1 == b0 || i != len)
		return perror_at(p, tag_off, "set-delimiter tag needs two delimiters: {{=<% %>=}}");
	if (a1 - a0 > MAX_DELIM || b1 - b0 > MAX_DELIM)
		return perror_at(p, tag_off, "delimiter longer than 16 bytes");
	if (memchr(s + a0, '=', a1 - a0) != NULL || memchr(s + b0, '=', b1 - b0) != NULL)
		return perror_at(p, tag_off, "a delimiter may not contain '='");
	memcpy(p->otag, s + a0, a1 - a0);
	p->otag[a1 - a0] = '\0';
	p->olen = a1 - a0;
	memcpy(p->ctag, s + b0, b1 - b0);
	p->ctag[b1 - b0] = '\0';
	p->clen = b1 - b0;
	return 0;
}

static void
remember_partial(struct tmpl *t, const char *name)
{
	for (size_t i = 0; i < t->n_partial_names; i++)
		if (strcmp(t->partial_names[i], name) == 0)
			return;
	t->partial_names = xreallocarray(t->partial_names, t->n_partial_names + 1,
					 sizeof(*t->partial_names));
	t->partial_names[t->n_partial_names++] = xstrdup(name);
}

static int
parse(struct parser *p)
{
	size_t pos = 0;
	while (pos < p->len) {
		const char *t = find(p->src + pos, p->len - pos, p->otag, p->olen);
		if (t == NULL) {
			add_text(p, pos, p->len, line_at(p, pos));
			break;
		}
		size_t tag_off = (size_t)(t - p->src);
		size_t in = tag_off + p->olen;
		char kind = in < p->len ? p->src[in] : '\0';
		char close_prefix = '\0';
		switch (kind) {
		case '{':
			close_prefix = '}';
			/* fall through */
		case '&':
		case '#':
		case '^':
		case '/':
		case '!':
		case '>':
			in++;
			break;
		case '=':
			close_prefix = '=';
			in++;
			break;
		default:
			kind = '\0';
		}
		/* Find the closing delimiter (with its '}' or '=' prefix). */
		char closing[MAX_DELIM + 2];
		size_t cllen = 0;
		if (close_prefix != '\0')
			closing[cllen++] = close_prefix;
		memcpy(closing + cllen, p->ctag, p->clen);
		cllen += p->clen;
		const char *c = find(p->src + in, p->len - in, closing, cllen);
		if (c == NULL)
			return perror_at(p, tag_off, kind == '{' ? "unclosed {{{ tag: expected }}}"
								 : "unclosed tag");
		size_t close_off = (size_t)(c - p->src);
		size_t after = close_off + cllen;

		/* The tag's content, trimmed. */
		size_t c0 = in, c1 = close_off;
		while (c0 < c1 && is_space(p->src[c0]))
			c0++;
		while (c1 > c0 && is_space(p->src[c1 - 1]))
			c1--;

		/* Standalone? */
		size_t text_end = tag_off, next = after;
		char *indent = NULL;
		if (kind != '\0' && kind != '{' && kind != '&') {
			size_t ls = tag_off;
			while (ls > pos && is_blank(p->src[ls - 1]))
				ls--;
			int line_start = ls == 0 || p->src[ls - 1] == '\n';
			size_t re = after;
			while (re < p->len && is_blank(p->src[re]))
				re++;
			size_t line_end = 0;
			int line_ends = 0;
			if (re == p->len) {
				line_ends = 1;
				line_end = re;
			} else if (p->src[re] == '\n') {
				line_ends = 1;
				line_end = re + 1;
			} else if (p->src[re] == '\r' && re + 1 < p->len && p->src[re + 1] == '\n') {
				line_ends = 1;
				line_end = re + 2;
			}
			if (line_start && line_ends) {
				text_end = ls;
				next = line_end;
				if (kind == '>' && tag_off > ls)
					indent = xstrndup(p->src + ls, tag_off - ls);
			}
		}
		add_text(p, pos, text_end, line_at(p, pos));
		unsigned int line = line_at(p, tag_off);
		const char *name = p->src + c0;
		size_t nlen = c1 - c0;

		switch (kind) {
		case '!':
			break;
		case '=':
			if (set_delimiters(p, name, nlen, tag_off) < 0)
				return -1;
			break;
		case '/': {
			if (p->depth == 0) {
				free(indent);
				return perror_at(p, tag_off, errf("closing tag {{/%.*s}} without an open section",
								  (int)(nlen > 64 ? 64 : nlen), name));
			}
			struct node *open = p->open[p->depth - 1];
			if (strlen(open->text) != nlen || memcmp(open->text, name, nlen) != 0)
				return perror_at(p, tag_off, errf("section \"%.64s\" (line %u) closed by \"%.*s\"",
								  open->text, open->line,
								  (int)(nlen > 64 ? 64 : nlen), name));
			p->depth--;
			break;
		}
		default: {
			if (!valid_name(name, nlen)) {
				free(indent);
				return perror_at(p, tag_off, errf("bad tag name \"%.*s\"",
								  (int)(nlen > 64 ? 64 : nlen), name));
			}
			struct node *n = xcalloc(1, sizeof(*n));
			n->text = xstrndup(name, nlen);
			n->line = line;
			switch (kind) {
			case '{':
			case '&':
				n->kind = NODE_RAW;
				break;
			case '#':
				n->kind = NODE_SECTION;
				break;
			case '^':
				n->kind = NODE_INVERTED;
				break;
			case '>':
				n->kind = NODE_PARTIAL;
				n->indent = indent;
				indent = NULL;
				remember_partial(p->tmpl, n->text);
				break;
			default:
				n->kind = NODE_VAR;
			}
			list_push(current_list(p), n);
			if (n->kind == NODE_SECTION || n->kind == NODE_INVERTED) {
				if (p->depth >= p->max_depth)
					return perror_at(p, tag_off,
							 errf("sections nested deeper than %zu", p->max_depth));
				p->open[p->depth++] = n;
			}
		}
		}
		free(indent);
		pos = next;
	}
	if (p->depth > 0) {
		struct node *open = p->open[p->depth - 1];
		if (p->error == NULL)
			p->error = errf("%s:%u: section \"%.64s\" is never closed", p->label, open->line,
					open->text);
		return -1;
	}
	return 0;
}

int
tmpl_compile(const char *src, size_t len, const char *label, unsigned int first_line,
	     const struct tmpl_limits *limits, struct tmpl **tmpl_r, const char **error_r)
{
	struct tmpl_limits deflimits;
	*tmpl_r = NULL;
	if (limits == NULL) {
		tmpl_limits_default(&deflimits);
		limits = &deflimits;
	}
	if (label == NULL)
		label = "(template)";
	if (len > limits->max_source) {
		*error_r = errf("%s: template larger than %zu bytes", label, limits->max_source);
		return -1;
	}
	if (memchr(src, '\0', len) != NULL) {
		*error_r = errf("%s: template contains a NUL byte", label);
		return -1;
	}
	struct tmpl *t = xcalloc(1, sizeof(*t));
	t->label = xstrdup(label);
	t->limits = *limits;
	struct parser p = { 0 };
	p.src = src;
	p.len = len;
	p.label = t->label;
	p.first_line = first_line > 0 ? first_line : 1;
	p.line = p.first_line;
	memcpy(p.otag, "{{", 3);
	memcpy(p.ctag, "}}", 3);
	p.olen = p.clen = 2;
	p.tmpl = t;
	p.max_depth = limits->max_depth > 0 ? limits->max_depth : 1;
	p.open = xcalloc(p.max_depth + 1, sizeof(*p.open));
	int ret = parse(&p);
	free(p.open);
	if (ret < 0) {
		*error_r = p.error != NULL ? p.error : errf("%s: syntax error", label);
		tmpl_free(&t);
		return -1;
	}
	*tmpl_r = t;
	return 0;
}

/* ---- renderer ------------------------------------------------------------ */

struct partial_cache {
	char *name;
	char *indent; /* "" when none */
	struct tmpl *tmpl; /* NULL: no such partial */
	const struct tmpl *borrowed; /* from partials->compiled, not freed */
};

struct render {
	struct buf out;
	enum tmpl_escape escape;
	const struct tmpl_partials *partials;
	struct tmpl_limits limits;
	const struct tmpl_value **stack;
	size_t sp, stack_cap;
	size_t depth;
	size_t n_partials;
	size_t steps;
	struct partial_cache *cache;
	size_t n_cache;
	const char *error;
};

static int
rerror(struct render *r, const char *why)
{
	if (r->error == NULL)
		r->error = why;
	return -1;
}

static int
out(struct render *r, const void *data, size_t len)
{
	if (buf_append(&r->out, data, len) < 0)
		return rerror(r, errf("template output larger than %zu bytes", r->limits.max_output));
	return 0;
}

static const struct tmpl_value *
lookup(const struct render *r, const char *name)
{
	if (strcmp(name, ".") == 0)
		return r->sp > 0 ? r->stack[r->sp - 1] : NULL;
	const char *dot = strchr(name, '.');
	size_t first = dot != NULL ? (size_t)(dot - name) : strlen(name);
	const struct tmpl_value *v = NULL;
	for (size_t i = r->sp; i > 0; i--) {
		v = map_get_n(r->stack[i - 1], name, first);
		if (v != NULL)
			break;
	}
	while (v != NULL && dot != NULL) {
		const char *part = dot + 1;
		dot = strchr(part, '.');
		size_t plen = dot != NULL ? (size_t)(dot - part) : strlen(part);
		v = map_get_n(v, part, plen);
	}
	return v;
}

static int
truthy(const struct tmpl_value *v)
{
	if (v == NULL)
		return 0;
	switch (v->type) {
	case TMPL_NULL:
		return 0;
	case TMPL_BOOL:
		return v->b;
	case TMPL_LIST:
		return v->count > 0;
	case TMPL_STRING:
		/* "" is false, as in mustache.js, so that {{#name}}Dear
		   {{name}}{{/name}} works when a value is empty. */
		return v->s[0] != '\0';
	default:
		return 1;
	}
}

static int
out_value(struct render *r, const char *s, int raw)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;
	for (size_t i = 0;; i++) {
		unsigned char c = p[i];
		const char *rep = NULL;
		int drop = 0;
		if (c == '\0')
			break;
		switch (r->escape) {
		case TMPL_ESCAPE_HTML:
			if (raw)
				break;
			switch (c) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&#39;"; break;
			default: break;
			}
			break;
		case TMPL_ESCAPE_TEXT:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				drop = 1;
			break;
		case TMPL_ESCAPE_HEADER:
			if (c == '\r' || c == '\n' || c == '\t')
				rep = " ";
			else if (c < 0x20 || c == 0x7f)
				drop = 1;
			break;
		}
		if (rep == NULL && !drop)
			continue;
		if (out(r, p + run, i - run) < 0)
			return -1;
		if (rep != NULL && out(r, rep, strlen(rep)) < 0)
			return -1;
		run = i + 1;
	}
	return out(r, p + run, strlen((const char *)p + run));
}

static int
push(struct render *r, const struct tmpl_value *v)
{
	if (r->sp == r->stack_cap) {
		r->stack_cap = r->stack_cap == 0 ? 16 : r->stack_cap * 2;
		r->stack = xreallocarray(r->stack, r->stack_cap, sizeof(*r->stack));
	}
	r->stack[r->sp++] = v;
	return 0;
}

static int render_list(struct render *r, const struct node_list *l);

/* The partial's source with indent put before every line (not after a
   final newline). */
static char *
indent_source(const char *src, size_t len, const char *indent, size_t *len_r)
{
	size_t ilen = strlen(indent), lines = 1;
	for (size_t i = 0; i < len; i++)
		if (src[i] == '\n' && i + 1 < len)
			lines++;
	char *o = xmalloc(len + lines * ilen + 1);
	size_t k = 0;
	int at_start = 1;
	for (size_t i = 0; i < len; i++) {
		if (at_start) {
			memcpy(o + k, indent, ilen);
			k += ilen;
			at_start = 0;
		}
		o[k++] = src[i];
		if (src[i] == '\n')
			at_start = 1;
	}
	o[k] = '\0';
	*len_r = k;
	return o;
}

static int
partial_get(struct render *r, const struct node *n, const struct tmpl **tmpl_r)
{
	const char *indent = n->indent != NULL ? n->indent : "";
	for (size_t i = 0; i < r->n_cache; i++) {
		if (strcmp(r->cache[i].name, n->text) == 0 && strcmp(r->cache[i].indent, indent) == 0) {
			*tmpl_r = r->cache[i].borrowed != NULL ? r->cache[i].borrowed : r->cache[i].tmpl;
			return 0;
		}
	}
	struct tmpl *t = NULL;
	const struct tmpl *borrowed = NULL;
	if (r->partials != NULL && r->partials->compiled != NULL && *indent == '\0') {
		const char *error = NULL;
		int ret = r->partials->compiled(r->partials->ctx, n->text, &borrowed, &error);
		if (ret < 0)
			return rerror(r, error != NULL ? error : errf("partial \"%s\": cannot load", n->text));
		if (ret == 0)
			borrowed = NULL;
	} else if (r->partials != NULL && r->partials->fetch != NULL) {
		char *src = NULL, *label = NULL;
		size_t len = 0;
		const char *error = NULL;
		int ret = r->partials->fetch(r->partials->ctx, n->text, &src, &len, &label, &error);
		if (ret < 0)
			return rerror(r, error != NULL ? error : errf("partial \"%s\": cannot load", n->text));
		if (ret > 0) {
			char *lbl = label != NULL ? label : xasprintf("partial %s", n->text);
			if (*indent != '\0' && len > 0) {
				size_t ilen;
				char *isrc = indent_source(src, len, indent, &ilen);
				free(src);
				src = isrc;
				len = ilen;
			}
			ret = tmpl_compile(src, len, lbl, 1, &r->limits, &t, &error);
			free(src);
			free(lbl);
			if (ret < 0)
				return rerror(r, error);
		}
	}
	r->cache = xreallocarray(r->cache, r->n_cache + 1, sizeof(*r->cache));
	r->cache[r->n_cache].name = xstrdup(n->text);
	r->cache[r->n_cache].indent = xstrdup(indent);
	r->cache[r->n_cache].tmpl = t;
	r->cache[r->n_cache].borrowed = borrowed;
	r->n_cache++;
	*tmpl_r = borrowed != NULL ? borrowed : t;
	return 0;
}

static int
render_node(struct render *r, const struct node *n)
{
	if (++r->steps > r->limits.max_steps)
		return rerror(r, errf("template rendering took more than %zu steps", r->limits.max_steps));
	switch (n->kind) {
	case NODE_TEXT:
		return out(r, n->text, n->len);
	case NODE_VAR:
	case NODE_RAW: {
		const struct tmpl_value *v = lookup(r, n->text);
		if (v == NULL)
			return 0;
		if (v->type == TMPL_STRING)
			return out_value(r, v->s, n->kind == NODE_RAW);
		if (v->type == TMPL_BOOL)
			return out_value(r, v->b ? "true" : "false", 1);
		return 0;
	}
	case NODE_SECTION:
	case NODE_INVERTED: {
		const struct tmpl_value *v = lookup(r, n->text);
		int t = truthy(v);
		if (n->kind == NODE_INVERTED)
			return t ? 0 : render_list(r, &n->children);
		if (!t)
			return 0;
		if (r->depth >= r->limits.max_depth)
			return rerror(r, errf("template nesting deeper than %zu", r->limits.max_depth));
		r->depth++;
		int ret = 0;
		if (v->type == TMPL_LIST) {
			for (size_t i = 0; i < v->count && ret == 0; i++) {
				push(r, v->items[i]);
				ret = render_list(r, &n->children);
				r->sp--;
			}
		} else {
			push(r, v);
			ret = render_list(r, &n->children);
			r->sp--;
		}
		r->depth--;
		return ret;
	}
	case NODE_PARTIAL: {
		const struct tmpl *pt;
		if (r->n_partials >= r->limits.max_partials)
			return rerror(r, errf("more than %zu partial inclusions", r->limits.max_partials));
		r->n_partials++;
		if (r->depth >= r->limits.max_depth)
			return rerror(r, errf("template nesting deeper than %zu (partial \"%.64s\")",
					      r->limits.max_depth, n->text));
		if (partial_get(r, n, &pt) < 0)
			return -1;
		if (pt == NULL)
			return 0;
		r->depth++;
		int ret = render_list(r, &pt->root);
		r->depth--;
		return ret;
	}
	}
	return 0;
}

static int
render_list(struct render *r, const struct node_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (render_node(r, l->v[i]) < 0)
			return -1;
	return 0;
}

int
tmpl_render(const struct tmpl *tmpl, const struct tmpl_value *data, enum tmpl_escape escape,
	    const struct tmpl_partials *partials, char **out_r, size_t *len_r,
	    const char **error_r)
{
	struct render r = { 0 };
	buf_init(&r.out, tmpl->limits.max_output);
	r.escape = escape;
	r.partials = partials;
	r.limits = tmpl->limits;
	if (data != NULL)
		push(&r, data);
	int ret = render_list(&r, &tmpl->root);
	free(r.stack);
	for (size_t i = 0; i < r.n_cache; i++) {
		free(r.cache[i].name);
		free(r.cache[i].indent);
		tmpl_free(&r.cache[i].tmpl);
	}
	free(r.cache);
	if (ret < 0) {
		buf_free(&r.out);
		*error_r = r.error != NULL ? r.error : "template rendering failed";
		return -1;
	}
	size_t len;
	*out_r = buf_steal(&r.out, &len);
	if (len_r != NULL)
		*len_r = len;
	buf_free(&r.out);
	return 0;
}
