/*
 * canned: see canned.h. The templates are rendered by template.c; the
 * data is the acknowledgements' (ack.c).
 */
#include "build-config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/canned.h"
#include "gateway/config.h"
#include "gateway/template.h"
#include "base/file.h"
#include "base/util.h"

const char *const canned_shipped[] = {
	"deposit_not_arrived", "withdrawal_under_review", "kyc_documents_needed",
	"account_unlocked", "phishing_warning", NULL,
};

#define NAME_MAX_LEN 64

struct canned {
	char *dirs[2];
	size_t n_dirs;
	struct tmpl_limits limits;
};

struct canned *
canned_new(const struct config *config, const char *dir)
{
	struct canned *c = xcalloc(1, sizeof(*c));
	tmpl_limits_default(&c->limits);
	if (config != NULL && config->ack.max_output > 0)
		c->limits.max_output = (size_t)config->ack.max_output;
	if (dir != NULL) {
		c->dirs[c->n_dirs++] = xstrdup(dir);
	} else {
		if (config != NULL && config->ack.templates_dir != NULL)
			c->dirs[c->n_dirs++] = xstrdup(config->ack.templates_dir);
		c->dirs[c->n_dirs++] = config_data_path("templates");
	}
	return c;
}

void
canned_free(struct canned **cp)
{
	struct canned *c = *cp;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_dirs; i++)
		free(c->dirs[i]);
	free(c);
	*cp = NULL;
}

/* [a-z0-9_-], and for languages also A-Z ("zh-CN"): never a path. */
static int
safe_part(const char *s, size_t len, int upper_ok)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      (upper_ok && ch >= 'A' && ch <= 'Z')))
			return 0;
	}
	return 1;
}

static int
find_file(const struct canned *c, const char *name, const char *lang, char **src_r,
	  size_t *len_r, char **path_r, const char **error_r)
{
	for (size_t i = 0; i < c->n_dirs; i++) {
		char *path = xasprintf("%s/replies/%s.%s.txt", c->dirs[i], name, lang);
		int ret = file_read(path, c->limits.max_source, src_r, len_r, error_r);
		if (ret > 0) {
			*path_r = path;
			return 1;
		}
		free(path);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int
render_src(const struct canned *c, const char *path, const char *src, size_t len,
	   const struct tmpl_value *data, char **text_r, const char **error_r)
{
	struct tmpl *tm;
	if (tmpl_compile(src, len, path, 1, &c->limits, &tm, error_r) < 0)
		return -1;
	int ret = tmpl_render(tm, data, TMPL_ESCAPE_TEXT, NULL, text_r, NULL, error_r);
	tmpl_free(&tm);
	if (ret == 0) {
		/* no blank lines at either end: the agent's text goes above */
		char *t = *text_r;
		size_t start = strspn(t, "\n"), end = strlen(t);
		while (end > start && (t[end - 1] == '\n' || t[end - 1] == ' '))
			end--;
		memmove(t, t + start, end - start);
		t[end - start] = '\0';
	}
	return ret;
}

int
canned_render(const struct canned *c, const char *name, const char *language,
	      const struct tmpl_value *data, char **text_r, char **path_r, const char **error_r)
{
	*text_r = NULL;
	*path_r = NULL;
	if (!safe_part(name, strlen(name), 0))
		return 0;
	const char *langs[2] = { language, "en" };
	for (int i = 0; i < 2; i++) {
		if (langs[i] == NULL || !safe_part(langs[i], strlen(langs[i]), 1))
			continue;
		char *src = NULL, *path = NULL;
		size_t len = 0;
		int ret = find_file(c, name, langs[i], &src, &len, &path, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		ret = render_src(c, path, src, len, data, text_r, error_r);
		free(src);
		if (ret < 0) {
			free(path);
			return -1;
		}
		*path_r = path;
		return 1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names under dir/replies, sorted; NULL when there is no such
   directory. */
static char **
list_files(const char *dir, size_t *n_r)
{
	char *sub = xasprintf("%s/replies", dir);
	DIR *d = opendir(sub);
	free(sub);
	*n_r = 0;
	if (d == NULL)
		return NULL;
	char **names = xcalloc(1, sizeof(*names));
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*n_r = n;
	return names;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* "name.lang.txt": 0 with name's length and lang (pointer and length),
   -1 when the file name is not of that shape. */
static int
split_name(const char *file, size_t *name_len_r, const char **lang_r, size_t *lang_len_r)
{
	const char *d1 = strchr(file, '.');
	size_t flen = strlen(file);
	if (d1 == NULL || flen < 4 || strcmp(file + flen - 4, ".txt") != 0 ||
	    file + flen - 4 <= d1)
		return -1;
	*name_len_r = (size_t)(d1 - file);
	*lang_r = d1 + 1;
	*lang_len_r = (size_t)(file + flen - 4 - (d1 + 1));
	if (!safe_part(file, *name_len_r, 0) || !safe_part(*lang_r, *lang_len_r, 1))
		return -1;
	return 0;
}

/* The distinct canned reply names of every directory, sorted. */
static char **
all_names(const struct canned *c, size_t *n_r)
{
	char **out = xcalloc(1, sizeof(*out));
	size_t n_out = 0;
	for (size_t d = 0; d < c->n_dirs; d++) {
		size_t n;
		char **files = list_files(c->dirs[d], &n);
		for (size_t i = 0; i < n; i++) {
			size_t nl, ll;
			const char *lang;
			if (split_name(files[i], &nl, &lang, &ll) < 0)
				continue;
			char *name = xstrndup(files[i], nl);
			int seen = 0;
			for (size_t k = 0; k < n_out && !seen; k++)
				seen = strcmp(out[k], name) == 0;
			if (seen) {
				free(name);
				continue;
			}
			out = xreallocarray(out, n_out + 1, sizeof(*out));
			out[n_out++] = name;
		}
		free_names(files, n);
	}
	if (n_out > 1)
		qsort(out, n_out, sizeof(*out), cmp_str);
	*n_r = n_out;
	return out;
}

char *
canned_list(const struct canned *c)
{
	size_t n;
	char **names = all_names(c, &n);
	struct buf b;
	buf_init(&b, 1024 * 1024);
	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&b, "%s%s", i > 0 ? ", " : "", names[i]);
	free_names(names, n);
	char *s = xstrdup(n > 0 ? buf_cstr(&b) : "(none)");
	buf_free(&b);
	return s;
}

/* Problems of one file: its name, UTF-8, syntax, partials. */
static size_t
check_file(const struct canned *c, const char *dir, const char *file, FILE *out)
{
	char *path = xasprintf("%s/replies/%s", dir, file);
	size_t nl, ll, problems = 0;
	const char *lang, *error;
	char *src = NULL;
	size_t len = 0;
	struct tmpl *tm = NULL;
	int r;
	if (split_name(file, &nl, &lang, &ll) < 0) {
		fprintf(out, "%s: unexpected file name (want NAME.LANG.txt, NAME of a-z 0-9 _ -)\n",
			path);
		problems++;
	} else if ((r = file_read(path, c->limits.max_source, &src, &len, &error)) <= 0) {
		fprintf(out, "%s\n", r < 0 ? error : errf("%s: cannot read", path));
		problems++;
	} else if (!utf8_valid((const unsigned char *)src, len)) {
		fprintf(out, "%s: not valid UTF-8\n", path);
		problems++;
	} else if (tmpl_compile(src, len, path, 1, &c->limits, &tm, &error) < 0) {
		fprintf(out, "%s\n", error);
		problems++;
	} else if (tmpl_partial_count(tm) > 0) {
		fprintf(out, "%s: partials ({{> %s}}) are not available to canned replies\n", path,
			tmpl_partial_name(tm, 0));
		problems++;
	}
	tmpl_free(&tm);
	free(src);
	free(path);
	return problems;
}

size_t
canned_check(const struct config *config, const char *dir, FILE *out, size_t *n_files_r)
{
	struct canned *c = canned_new(config, dir);
	size_t problems = 0, files = 0;
	for (size_t d = 0; d < c->n_dirs; d++) {
		size_t n;
		char **names = list_files(c->dirs[d], &n);
		for (size_t i = 0; i < n; i++)
			problems += check_file(c, c->dirs[d], names[i], out);
		files += n;
		free_names(names, n);
	}
	/* A sample render of each name in each language. */
	size_t n_names;
	char **names = all_names(c, &n_names);
	time_t now = time(NULL);
	for (size_t i = 0; i < n_names; i++) {
		for (size_t l = 0; ack_languages[l] != NULL; l++) {
			struct ack_input *in = ack_sample_input("other", ack_languages[l], now);
			struct tmpl_value *data = ack_data_build(config, NULL, in, NULL);
			tmpl_map_set_string(tmpl_map_add_map(data, "agent"), "name", "Alice Agent");
			char *text = NULL, *path = NULL;
			const char *error;
			int r = canned_render(c, names[i], ack_languages[l], data, &text, &path, &error);
			if (r < 0) {
				fprintf(out, "%s\n", error);
				problems++;
			} else if (r == 0) {
				fprintf(out, "replies/%s: no %s.en.txt to fall back on\n", names[i],
					names[i]);
				problems++;
			} else {
				char *want = xasprintf("/replies/%s.%s.txt", names[i], ack_languages[l]);
				size_t wl = strlen(want), pl = strlen(path);
				if (pl < wl || strcmp(path + pl - wl, want) != 0)
					fprintf(out, "note: reply %s.%s falls back to %s\n", names[i],
						ack_languages[l], path);
				free(want);
			}
			free(text);
			free(path);
			tmpl_value_free(&data);
			ack_sample_input_free(&in);
		}
	}
	free_names(names, n_names);
	canned_free(&c);
	if (n_files_r != NULL)
		*n_files_r = files;
	return problems;
}
