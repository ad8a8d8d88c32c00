/*
 * Unit tests for gateway/template.c: the official mustache spec (the six
 * required modules, copied into tests/data/template with their licence),
 * then table tests of syntax errors, limits, hostile templates and the
 * escaping modes. jansson reads the spec files (tests may use any library).
 */
#include "build-config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/template.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* ---- the spec ----------------------------------------------------------- */

/* JSON numbers print the way the spec expects: integers plainly, reals in
   the shortest form that reads back the same. */
static char *
number_string(const json_t *j)
{
	if (json_is_integer(j))
		return xasprintf("%lld", (long long)json_integer_value(j));
	double d = json_real_value(j);
	for (int prec = 1; prec <= 17; prec++) {
		char *s = xasprintf("%.*g", prec, d);
		if (strtod(s, NULL) == d)
			return s;
		free(s);
	}
	return xasprintf("%.17g", d);
}

static struct tmpl_value *
from_json(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		struct tmpl_value *m = tmpl_map_new();
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)j, key, v)
			tmpl_map_set(m, key, from_json(v));
		return m;
	}
	case JSON_ARRAY: {
		struct tmpl_value *l = tmpl_list_new();
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			tmpl_list_append(l, from_json(v));
		return l;
	}
	case JSON_STRING:
		return tmpl_string_new(json_string_value(j));
	case JSON_INTEGER:
	case JSON_REAL: {
		char *s = number_string(j);
		struct tmpl_value *v = tmpl_string_new(s);
		free(s);
		return v;
	}
	case JSON_TRUE:
		return tmpl_bool_new(1);
	case JSON_FALSE:
		return tmpl_bool_new(0);
	default:
		return tmpl_null_new();
	}
}

static int
json_partial(void *ctx, const char *name, char **src_r, size_t *len_r, char **label_r,
	     const char **error_r)
{
	const json_t *partials = ctx;
	const json_t *p = partials != NULL ? json_object_get(partials, name) : NULL;
	if (p == NULL || !json_is_string(p))
		return 0;
	*len_r = json_string_length(p);
	*src_r = xstrndup(json_string_value(p), *len_r);
	*label_r = xasprintf("partial %s", name);
	return 1;
}

static int
run_spec_file(const char *dir, const char *module, int *total_r)
{
	char *path = xasprintf("%s/%s.json", dir, module);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	int passed = 0, total = 0;
	test_begin(module);
	test_assert(root != NULL);
	if (root == NULL) {
		printf("%s: %s\n", path, jerr.text);
		free(path);
		*total_r = 0;
		return 0;
	}
	json_t *tests = json_object_get(root, "tests");
	size_t i;
	json_t *t;
	json_array_foreach(tests, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		json_t *jtemplate = json_object_get(t, "template");
		const char *expected = json_string_value(json_object_get(t, "expected"));
		struct tmpl_value *data = from_json(json_object_get(t, "data"));
		struct tmpl_partials partials = { json_partial, json_object_get(t, "partials"), NULL };
		struct tmpl *tmpl = NULL;
		char *label = xasprintf("%s:%s", module, name);
		const char *error = NULL;
		char *out = NULL;
		size_t len = 0;
		int ok = 0;
		total++;
		if (tmpl_compile(json_string_value(jtemplate), json_string_length(jtemplate), label, 1,
				 NULL, &tmpl, &error) == 0 &&
		    tmpl_render(tmpl, data, TMPL_ESCAPE_HTML, &partials, &out, &len, &error) == 0) {
			ok = strcmp(out, expected) == 0 && len == strlen(expected);
			if (!ok)
				printf("FAIL %s: got \"%s\", want \"%s\"\n", label, out, expected);
		} else {
			printf("FAIL %s: error %s\n", label, error);
		}
		test_assert(ok);
		passed += ok;
		free(out);
		free(label);
		tmpl_free(&tmpl);
		tmpl_value_free(&data);
	}
	printf("mustache spec %s: %d/%d passed\n", module, passed, total);
	json_decref(root);
	free(path);
	*total_r = total;
	return passed;
}

static void
test_spec(void)
{
	static const char *const modules[] = { "comments", "delimiters", "interpolation",
					       "inverted", "partials", "sections" };
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/tests/data/template", top != NULL ? top : ".");
	int passed = 0, total = 0;
	for (size_t i = 0; i < N_ELEMENTS(modules); i++) {
		int n;
		passed += run_spec_file(dir, modules[i], &n);
		total += n;
	}
	printf("mustache spec required modules: %d/%d passed\n", passed, total);
	test_begin("spec totals");
	/* COUNTS.txt: 136 tests in the six required modules. */
	test_assert_int(total, 136);
	test_assert_int(passed, total);
	free(dir);
}

/* ---- syntax errors -------------------------------------------------------- */

static void
test_syntax_errors(void)
{
	static const struct {
		const char *src;
		unsigned int first_line;
		const char *error; /* expected error text; NULL: compiles */
	} cases[] = {
		{ "Hello {{name}}", 1, NULL },
		{ "{{#a}}x", 1, "t.txt:1: section \"a\" is never closed" },
		{ "line1\nline2\n{{#a}}\n{{#b}}\n{{/b}}\n", 1, "t.txt:3: section \"a\" is never closed" },
		{ "{{#a}}\n{{/b}}", 1, "t.txt:2: section \"a\" (line 1) closed by \"b\"" },
		{ "x\n\n{{/a}}", 1, "t.txt:3: closing tag {{/a}} without an open section" },
		{ "abc\n{{name", 1, "t.txt:2: unclosed tag" },
		{ "abc\n{{{name}}", 1, "t.txt:2: unclosed {{{ tag: expected }}}" },
		{ "{{a b}}", 1, "t.txt:1: bad tag name \"a b\"" },
		{ "{{}}", 1, "t.txt:1: bad tag name \"\"" },
		{ "{{#}}{{/}}", 1, "t.txt:1: bad tag name \"\"" },
		{ "{{a..b}}", 1, "t.txt:1: bad tag name \"a..b\"" },
		{ "{{.a}}", 1, "t.txt:1: bad tag name \".a\"" },
		{ "{{=a=}}", 1, "t.txt:1: set-delimiter tag needs two delimiters: {{=<% %>=}}" },
		{ "{{= a b c =}}", 1, "t.txt:1: set-delimiter tag needs two delimiters: {{=<% %>=}}" },
		{ "{{=<% %>=}}\n<%#a%>\n<%/a%>\n{{#b}}", 1, NULL },
		{ "{{=<% %>=}}\n<%#a%>", 1, "t.txt:2: section \"a\" is never closed" },
		{ "\n\n{{#a}}", 10, "t.txt:12: section \"a\" is never closed" },
		{ "{{! a comment\n spanning lines }}\n{{x", 1, "t.txt:3: unclosed tag" },
		{ "{{> partial}}{{> other }}", 1, NULL },
	};
	test_begin("syntax errors");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct tmpl *t = NULL;
		const char *error = NULL;
		int ret = tmpl_compile(cases[i].src, strlen(cases[i].src), "t.txt", cases[i].first_line,
				       NULL, &t, &error);
		if (cases[i].error == NULL) {
			test_assert_int(ret, 0);
			test_assert(t != NULL);
		} else {
			test_assert_int(ret, -1);
			test_assert(t == NULL);
			test_assert_str(error, cases[i].error);
		}
		tmpl_free(&t);
	}

	/* The partial names a template uses, once each. */
	struct tmpl *t = NULL;
	const char *error;
	const char *src = "{{>a}}{{#x}}{{>b}}{{/x}}{{>a}}";
	test_assert_int(tmpl_compile(src, strlen(src), "p", 1, NULL, &t, &error), 0);
	test_assert_int(tmpl_partial_count(t), 2);
	test_assert_str(tmpl_partial_name(t, 0), "a");
	test_assert_str(tmpl_partial_name(t, 1), "b");
	test_assert(tmpl_partial_name(t, 2) == NULL);
	tmpl_free(&t);

	/* A NUL byte inside the source. */
	test_assert_int(tmpl_compile("a\0b", 3, "nul", 1, NULL, &t, &error), -1);
	test_assert_str(error, "nul: template contains a NUL byte");
}

/* ---- limits and hostile input ------------------------------------------- */

struct mem_partials {
	const char *names[4];
	const char *srcs[4];
};

static int
mem_partial(void *ctx, const char *name, char **src_r, size_t *len_r, char **label_r,
	    const char **error_r)
{
	const struct mem_partials *mp = ctx;
	for (size_t i = 0; i < 4 && mp->names[i] != NULL; i++) {
		if (strcmp(mp->names[i], name) == 0) {
			*src_r = xstrdup(mp->srcs[i]);
			*len_r = strlen(mp->srcs[i]);
			*label_r = xasprintf("%s.txt", name);
			return 1;
		}
	}
	if (strcmp(name, "broken-fetch") == 0) {
		*error_r = "cannot read broken-fetch.txt";
		return -1;
	}
	return 0;
}

/* Render src with data, return the output or NULL (error in *error_r). */
static char *
render(const char *src, const struct tmpl_value *data, enum tmpl_escape esc,
       const struct tmpl_limits *limits, const struct mem_partials *mp, const char **error_r)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	struct tmpl_partials partials = { mem_partial, (void *)mp, NULL };
	if (tmpl_compile(src, strlen(src), "t", 1, limits, &t, error_r) < 0)
		return NULL;
	if (tmpl_render(t, data, esc, mp != NULL ? &partials : NULL, &out, NULL, error_r) < 0)
		out = NULL;
	tmpl_free(&t);
	return out;
}

static void
test_limits(void)
{
	struct tmpl_limits lim;
	const char *error = NULL;
	char *out;

	test_begin("limits: compile-time nesting");
	{
		struct buf b;
		buf_init(&b, 1 << 20);
		for (int i = 0; i < 40; i++)
			buf_printf(&b, "{{#s%d}}", i);
		for (int i = 39; i >= 0; i--)
			buf_printf(&b, "{{/s%d}}", i);
		tmpl_limits_default(&lim);
		struct tmpl *t = NULL;
		test_assert_int(tmpl_compile(buf_cstr(&b), b.len, "deep", 1, &lim, &t, &error), -1);
		test_assert_str(error, "deep:1: sections nested deeper than 32");
		lim.max_depth = 40;
		test_assert_int(tmpl_compile(buf_cstr(&b), b.len, "deep", 1, &lim, &t, &error), 0);
		tmpl_free(&t);
		buf_free(&b);
	}

	test_begin("limits: source size");
	tmpl_limits_default(&lim);
	lim.max_source = 10;
	out = render("0123456789A", NULL, TMPL_ESCAPE_TEXT, &lim, NULL, &error);
	test_assert(out == NULL);
	test_assert_str(error, "t: template larger than 10 bytes");

	test_begin("limits: output size is an error, not a truncation");
	{
		struct tmpl_value *data = tmpl_map_new();
		struct tmpl_value *list = tmpl_map_add_list(data, "list");
		char big[1001];
		memset(big, 'x', 1000);
		big[1000] = '\0';
		for (int i = 0; i < 1000; i++)
			tmpl_list_append_string(list, big);
		tmpl_limits_default(&lim);
		lim.max_output = 64 * 1024;
		out = render("{{#list}}{{.}}{{/list}}", data, TMPL_ESCAPE_TEXT, &lim, NULL, &error);
		test_assert(out == NULL);
		test_assert_str(error, "template output larger than 65536 bytes");
		/* Exactly at the limit is fine. */
		lim.max_output = 1000 * 1000;
		out = render("{{#list}}{{.}}{{/list}}", data, TMPL_ESCAPE_TEXT, &lim, NULL, &error);
		test_assert(out != NULL && strlen(out) == 1000 * 1000);
		free(out);
		tmpl_value_free(&data);
		test_assert(data == NULL);
	}

	test_begin("limits: endless partial recursion");
	{
		struct mem_partials mp = { { "self", NULL }, { "x{{>self}}", NULL } };
		tmpl_limits_default(&lim);
		out = render("{{>self}}", NULL, TMPL_ESCAPE_TEXT, &lim, &mp, &error);
		test_assert(out == NULL);
		test_assert_str(error, "template nesting deeper than 32 (partial \"self\")");
	}

	test_begin("limits: mutually recursive partials through sections");
	{
		struct mem_partials mp = { { "a", "b", NULL }, { "{{#x}}{{>b}}{{/x}}", "{{#x}}{{>a}}{{/x}}", NULL } };
		struct tmpl_value *data = tmpl_map_new();
		tmpl_map_set_bool(data, "x", 1);
		tmpl_limits_default(&lim);
		lim.max_depth = 10;
		out = render("{{>a}}", data, TMPL_ESCAPE_TEXT, &lim, &mp, &error);
		test_assert(out == NULL);
		test_assert(error != NULL && strstr(error, "nesting deeper than 10") != NULL);
		tmpl_value_free(&data);
	}

	test_begin("limits: partial inclusions");
	{
		struct mem_partials mp = { { "p", NULL }, { "-", NULL } };
		struct tmpl_value *data = tmpl_map_new();
		struct tmpl_value *list = tmpl_map_add_list(data, "l");
		for (int i = 0; i < 20; i++)
			tmpl_list_append_string(list, "i");
		tmpl_limits_default(&lim);
		lim.max_partials = 10;
		out = render("{{#l}}{{>p}}{{/l}}", data, TMPL_ESCAPE_TEXT, &lim, &mp, &error);
		test_assert(out == NULL);
		test_assert_str(error, "more than 10 partial inclusions");
		lim.max_partials = 20;
		out = render("{{#l}}{{>p}}{{/l}}", data, TMPL_ESCAPE_TEXT, &lim, &mp, &error);
		test_assert_str(out, "--------------------");
		free(out);
		tmpl_value_free(&data);
	}

	test_begin("limits: nested loops that print nothing");
	{
		/* 10 nested loops over 10 items: 10^10 iterations without the step
		   limit, and no output to stop them. */
		struct tmpl_value *data = tmpl_map_new();
		struct tmpl_value *list = tmpl_map_add_list(data, "l");
		for (int i = 0; i < 10; i++)
			tmpl_list_append_string(list, "i");
		struct buf b;
		buf_init(&b, 4096);
		for (int i = 0; i < 10; i++)
			buf_puts(&b, "{{#l}}");
		for (int i = 0; i < 10; i++)
			buf_puts(&b, "{{/l}}");
		tmpl_limits_default(&lim);
		out = render(buf_cstr(&b), data, TMPL_ESCAPE_TEXT, &lim, NULL, &error);
		test_assert(out == NULL);
		test_assert_str(error, "template rendering took more than 1000000 steps");
		buf_free(&b);
		tmpl_value_free(&data);
	}

	test_begin("partials: errors carry the partial's file:line");
	{
		struct mem_partials mp = { { "bad", NULL }, { "ok\n{{#open}}\n", NULL } };
		out = render("x{{>bad}}", NULL, TMPL_ESCAPE_TEXT, NULL, &mp, &error);
		test_assert(out == NULL);
		test_assert_str(error, "bad.txt:2: section \"open\" is never closed");
		out = render("x{{>broken-fetch}}", NULL, TMPL_ESCAPE_TEXT, NULL, &mp, &error);
		test_assert(out == NULL);
		test_assert_str(error, "cannot read broken-fetch.txt");
		/* Unknown partials render as nothing (the spec's "Failed Lookup"). */
		out = render("[{{>nope}}]", NULL, TMPL_ESCAPE_TEXT, NULL, &mp, &error);
		test_assert_str(out, "[]");
		free(out);
	}
}

/* ---- escaping modes ------------------------------------------------------ */

static void
test_escaping(void)
{
	static const struct {
		const char *src;
		enum tmpl_escape esc;
		const char *want;
	} cases[] = {
		{ "{{v}}", TMPL_ESCAPE_HTML, "&lt;b&gt; &amp; &quot;x&quot; &#39;y&#39;\n\x01z" },
		{ "{{{v}}}", TMPL_ESCAPE_HTML, "<b> & \"x\" 'y'\n\x01z" },
		{ "{{v}}", TMPL_ESCAPE_TEXT, "<b> & \"x\" 'y'\nz" },
		{ "{{&v}}", TMPL_ESCAPE_TEXT, "<b> & \"x\" 'y'\nz" },
		{ "{{v}}", TMPL_ESCAPE_HEADER, "<b> & \"x\" 'y' z" },
		{ "{{{v}}}", TMPL_ESCAPE_HEADER, "<b> & \"x\" 'y' z" },
		{ "S: {{inj}}", TMPL_ESCAPE_HEADER, "S: hi  Bcc: evil@example.test" },
		{ "S: {{inj}}", TMPL_ESCAPE_TEXT, "S: hi\nBcc: evil@example.test" },
		/* Template text itself is never altered. */
		{ "<p>{{n}}</p>\n", TMPL_ESCAPE_HTML, "<p>Zhang &amp; Sons</p>\n" },
		{ "{{b}}/{{f}}", TMPL_ESCAPE_TEXT, "true/false" },
		{ "[{{l}}][{{m}}][{{z}}]", TMPL_ESCAPE_TEXT, "[][][]" },
		{ "{{#m}}{{k}}{{/m}}", TMPL_ESCAPE_TEXT, "\xe4\xbd\xa0\xe5\xa5\xbd" },
		/* the empty string is false in sections */
		{ "{{#e}}x{{/e}}{{^e}}y{{/e}}", TMPL_ESCAPE_TEXT, "y" },
		{ "{{#n}}Dear {{n}}{{/n}}", TMPL_ESCAPE_TEXT, "Dear Zhang & Sons" },
	};
	struct tmpl_value *data = tmpl_map_new();
	tmpl_map_set_string(data, "v", "<b> & \"x\" 'y'\n\x01z");
	tmpl_map_set_string(data, "inj", "hi\r\nBcc: evil@example.test");
	tmpl_map_set_string(data, "n", "Zhang & Sons");
	tmpl_map_set_bool(data, "b", 1);
	tmpl_map_set_bool(data, "f", 0);
	tmpl_list_append_string(tmpl_map_add_list(data, "l"), "x");
	tmpl_map_set_string(tmpl_map_add_map(data, "m"), "k", "\xe4\xbd\xa0\xe5\xa5\xbd");
	tmpl_map_set(data, "z", tmpl_null_new());
	tmpl_map_set_string(data, "e", "");
	test_begin("escaping");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *error = NULL;
		char *out = render(cases[i].src, data, cases[i].esc, NULL, NULL, &error);
		test_assert_str(out, cases[i].want);
		free(out);
	}

	test_begin("data model");
	test_assert_int(tmpl_value_type(tmpl_map_get(data, "l")), TMPL_LIST);
	test_assert_int(tmpl_list_count(tmpl_map_get(data, "l")), 1);
	test_assert_str(tmpl_value_string(tmpl_list_at(tmpl_map_get(data, "l"), 0)), "x");
	test_assert(tmpl_list_at(tmpl_map_get(data, "l"), 1) == NULL);
	/* Setting a key again replaces it. */
	tmpl_map_set_string(data, "n", "again");
	test_assert_str(tmpl_value_string(tmpl_map_get(data, "n")), "again");
	test_assert(tmpl_map_get(data, "missing") == NULL);
	tmpl_value_free(&data);
	tmpl_value_free(&data); /* NULL is fine */
}

/* Issue 18: a caller's compiled partials (tmpl_partials.compiled) are
   used as they are for partials without indentation; an indented
   standalone partial comes from fetch, with its indent put in. */
static int
src_partial(void *ctx, const char *name, char **src_r, size_t *len_r, char **label_r,
	    const char **error_r)
{
	(void)ctx;
	(void)error_r;
	if (strcmp(name, "p") != 0)
		return 0;
	*src_r = xstrdup("fetched\n");
	*len_r = strlen(*src_r);
	*label_r = NULL;
	return 1;
}

static int
precompiled_partial(void *ctx, const char *name, const struct tmpl **tmpl_r, const char **error_r)
{
	if (strcmp(name, "bad") == 0) {
		*error_r = "no such luck";
		return -1;
	}
	if (strcmp(name, "p") != 0)
		return 0;
	*tmpl_r = ctx;
	return 1;
}

static void
test_compiled_partials(void)
{
	test_begin("partials compiled by the caller");
	struct tmpl_limits lim;
	tmpl_limits_default(&lim);
	const char *error = NULL;
	struct tmpl *p = NULL, *t = NULL;
	const char *psrc = "compiled {{v}}\n", *src = "a {{> p}}|{{> none}}\n  {{> p}}\n";
	test_assert_int(tmpl_compile(psrc, strlen(psrc), "p", 1, &lim, &p, &error), 0);
	test_assert_int(tmpl_compile(src, strlen(src), "t", 1, &lim, &t, &error), 0);
	struct tmpl_value *d = tmpl_map_new();
	tmpl_map_set_string(d, "v", "V");
	struct tmpl_partials partials = { src_partial, p, precompiled_partial };
	char *out = NULL;
	for (int round = 0; round < 2; round++) {
		test_assert_int(tmpl_render(t, d, TMPL_ESCAPE_TEXT, &partials, &out, NULL, &error), 0);
		test_assert_str(out, "a compiled V\n|\n  fetched\n");
		free(out);
		out = NULL;
	}
	tmpl_free(&t);
	src = "x {{> bad}}";
	test_assert_int(tmpl_compile(src, strlen(src), "t", 1, &lim, &t, &error), 0);
	test_assert_int(tmpl_render(t, d, TMPL_ESCAPE_TEXT, &partials, &out, NULL, &error), -1);
	test_assert_str(error, "no such luck");
	tmpl_free(&t);
	tmpl_free(&p);
	tmpl_value_free(&d);
}

int
main(void)
{
	test_spec();
	test_syntax_errors();
	test_limits();
	test_escaping();
	test_compiled_partials();
	return test_exit();
}
