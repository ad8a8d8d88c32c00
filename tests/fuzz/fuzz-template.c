/*
 * fuzz-template: the mustache renderer. The input is a template; byte 0
 * chooses the escape mode and whether the output limit is tiny. It is
 * compiled with small limits and, when it compiles, rendered against a
 * fixed data tree (strings with markup and control characters, booleans,
 * nested lists and maps) with partials: "self" is the template itself
 * (recursion), "deep" includes itself, "bad" does not compile, "fail"
 * cannot be fetched, anything else is missing. Checks that a render
 * returns a NUL-terminated string within max_output or fails with an
 * error and no output, and that no value brings a CR (text and header
 * modes) or an LF (header mode) into the output: rendered again with the
 * same data but a "subject" without control characters, the output has as
 * many of them.
 */
#include "build-config.h"

#include <string.h>

#include "gateway/template.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 8192

struct fuzz_src {
	const char *src;
	size_t len;
};

static int
fetch(void *ctx, const char *name, char **src_r, size_t *len_r, char **label_r,
      const char **error_r)
{
	const struct fuzz_src *self = ctx;
	const char *src;
	size_t len;

	if (strcmp(name, "self") == 0) {
		src = self->src;
		len = self->len;
	} else if (strcmp(name, "deep") == 0) {
		src = "<{{name}}{{>deep}}>";
		len = strlen(src);
	} else if (strcmp(name, "bad") == 0) {
		src = "{{#open}} never closed";
		len = strlen(src);
	} else if (strcmp(name, "fail") == 0) {
		*error_r = "partial fail: cannot be read";
		return -1;
	} else if (strcmp(name, "row") == 0) {
		src = "  {{#.}}{{name}}={{value}}\n{{/.}}";
		len = strlen(src);
	} else {
		return 0;
	}
	*src_r = xstrndup(src, len);
	*len_r = len;
	*label_r = xasprintf("partial %s", name);
	return 1;
}

static struct tmpl_value *
make_data(int clean)
{
	struct tmpl_value *root = tmpl_map_new();
	tmpl_map_set_string(root, "name", "Zoë <b>&amp;\" 'x'");
	tmpl_map_set_string(root, "subject", clean ? "line one  Bcc: victim@example.org tab"
						   : "line one\r\nBcc: victim@example.org\ttab");
	tmpl_map_set_string(root, "empty", "");
	tmpl_map_set_string(root, "zh", "您好，您的工单已收到");
	tmpl_map_set_bool(root, "yes", 1);
	tmpl_map_set_bool(root, "no", 0);
	tmpl_map_set(root, "nothing", tmpl_null_new());
	struct tmpl_value *ticket = tmpl_map_add_map(root, "ticket");
	tmpl_map_set_string(ticket, "id", "1234");
	tmpl_map_set_string(ticket, "category", "delayed_payment");
	struct tmpl_value *inner = tmpl_map_add_map(ticket, "agent");
	tmpl_map_set_string(inner, "name", "Li {{name}}");
	struct tmpl_value *items = tmpl_map_add_list(root, "items");
	for (int i = 0; i < 3; i++) {
		struct tmpl_value *m = tmpl_list_add_map(items);
		tmpl_map_set_string(m, "name", i == 0 ? "a" : i == 1 ? "b" : "c");
		tmpl_map_set_string(m, "value", "{{{x}}}\x01\x7f");
		tmpl_map_add_list(m, "items");
	}
	struct tmpl_value *strs = tmpl_map_add_list(root, "list");
	tmpl_list_append_string(strs, "x");
	tmpl_list_append_string(strs, "y\n");
	tmpl_list_append(strs, tmpl_bool_new(0));
	tmpl_map_add_list(root, "none");
	return root;
}

static size_t
count_bytes(const char *s, size_t len, int c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

FUZZ_TARGET(template)
{
	static struct tmpl_value *data_tree, *data_clean;
	struct tmpl_limits lim;
	struct tmpl *t = NULL;
	const char *error = NULL;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	if (data_tree == NULL) {
		data_tree = make_data(0);
		data_clean = make_data(1);
	}
	unsigned char mode = data[0];
	struct fuzz_src self = { (const char *)data + 1, size - 1 };

	tmpl_limits_default(&lim);
	lim.max_source = 16384;
	lim.max_output = (mode & 0x80) ? 64 : 65536;
	lim.max_depth = 12;
	lim.max_partials = 64;
	lim.max_steps = 20000;

	if (tmpl_compile(self.src, self.len, "fuzz", 1, &lim, &t, &error) < 0) {
		FUZZ_CHECK(t == NULL && error != NULL);
		return 0;
	}
	FUZZ_CHECK(t != NULL);
	for (size_t i = 0; i < tmpl_partial_count(t); i++)
		FUZZ_CHECK(tmpl_partial_name(t, i) != NULL);

	static const enum tmpl_escape modes[] = { TMPL_ESCAPE_HTML, TMPL_ESCAPE_TEXT,
						  TMPL_ESCAPE_HEADER };
	struct tmpl_partials partials = { fetch, &self, NULL };
	enum tmpl_escape escape = modes[(mode & 0x7f) % N_ELEMENTS(modes)];
	const struct tmpl_partials *pp = (mode & 0x40) ? NULL : &partials;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	if (tmpl_render(t, data_tree, escape, pp, &out, &len, &error) == 0) {
		FUZZ_CHECK(out != NULL);
		FUZZ_CHECK(len <= lim.max_output);
		FUZZ_CHECK(out[len] == '\0');
		if (escape != TMPL_ESCAPE_HTML &&
		    tmpl_render(t, data_clean, escape, pp, &out2, &len2, &error) == 0) {
			FUZZ_CHECK(count_bytes(out, len, '\r') == count_bytes(out2, len2, '\r'));
			if (escape == TMPL_ESCAPE_HEADER)
				FUZZ_CHECK(count_bytes(out, len, '\n') ==
					   count_bytes(out2, len2, '\n'));
			free(out2);
		}
		free(out);
	} else {
		FUZZ_CHECK(out == NULL && error != NULL);
	}
	tmpl_free(&t);
	FUZZ_CHECK(t == NULL);
	return 0;
}
