/*
 * ack-templates: the acknowledgement templates of ack.h: finding a
 * template with its fallbacks, rendering the subject, the text and the
 * HTML body, and `deskgate template check`. The mustache renderer itself
 * is template.c; the data the templates see is ack.c's.
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/design.h"
#include "gateway/hours.h"
#include "gateway/template.h"
#include "base/file.h"
#include "base/util.h"

/* A template file as found by its relative name ("ack/other.en.txt"):
   read once, and its parts compiled once, for the life of the
   ack_templates (one configuration load: a reload makes a new one).
   Issue 18's profile had every acknowledgement read up to four files,
   stat the misses and compile three templates plus partials again (10% of
   the ingest CPU). Absences are kept too: most look-ups are fallbacks.
   Read errors are not kept (the next look-up tries again), nor are
   compile errors (the file is reported on every use, as before). */
struct tfile {
	char *rel;	/* or the path, when by_path */
	int by_path;	/* read from that path, not looked up in the directories */
	int found;	/* 0: in no directory */
	char *path;	/* where found */
	char *src;
	size_t len;
	struct tmpl *part[2]; /* compiled: [0] subject or whole file, [1] body */
};

struct tfile_cache {
	pthread_mutex_t lock;
	struct tfile **files; /* entries never move nor change once filled */
	size_t n, cap;
};

struct ack_templates {
	char *dirs[2];
	size_t n_dirs;
	struct tmpl_limits limits;
	/* [brand] for the designed HTML (design.h) */
	char *brand, *colour, *logo_url;
	struct tfile_cache *cache;
};

struct ack_templates *
ack_templates_new(const struct config *config, const char *dir)
{
	struct ack_templates *t = xcalloc(1, sizeof(*t));
	tmpl_limits_default(&t->limits);
	if (config != NULL) {
		const char *brand = config->brand.name != NULL ? config->brand.name
							       : config->support_name;
		t->brand = brand != NULL ? xstrdup(brand) : NULL;
		t->colour = config->brand.colour != NULL ? xstrdup(config->brand.colour) : NULL;
		t->logo_url = config->brand.logo_url != NULL ? xstrdup(config->brand.logo_url) : NULL;
	}
	t->cache = xcalloc(1, sizeof(*t->cache));
	pthread_mutex_init(&t->cache->lock, NULL);
	if (config != NULL && config->ack.max_output > 0)
		t->limits.max_output = (size_t)config->ack.max_output;
	if (dir != NULL) {
		t->dirs[t->n_dirs++] = xstrdup(dir);
	} else {
		if (config != NULL && config->ack.templates_dir != NULL)
			t->dirs[t->n_dirs++] = xstrdup(config->ack.templates_dir);
		t->dirs[t->n_dirs++] = config_data_path("templates");
	}
	return t;
}

void
ack_templates_free(struct ack_templates **tp)
{
	struct ack_templates *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_dirs; i++)
		free(t->dirs[i]);
	free(t->brand);
	free(t->colour);
	free(t->logo_url);
	for (size_t i = 0; i < t->cache->n; i++) {
		struct tfile *f = t->cache->files[i];
		free(f->rel);
		free(f->path);
		free(f->src);
		tmpl_free(&f->part[0]);
		tmpl_free(&f->part[1]);
		free(f);
	}
	free(t->cache->files);
	pthread_mutex_destroy(&t->cache->lock);
	free(t->cache);
	free(t);
	*tp = NULL;
}

void
ack_mail_clear(struct ack_mail *mail)
{
	x_free(&mail->subject);
	x_free(&mail->text);
	x_free(&mail->html);
	x_free(&mail->template);
}

/* Names used in file names: [A-Za-z0-9_-], so never a path. */
static int
safe_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Find rel (e.g. "ack/other.en.txt") in the directories. 1 with the
   content and its path, 0 absent, -1 error. */
static int
find_file(const struct ack_templates *t, const char *rel, char **data_r, size_t *len_r,
	  char **path_r, const char **error_r)
{
	for (size_t i = 0; i < t->n_dirs; i++) {
		char *path = xasprintf("%s/%s", t->dirs[i], rel);
		int ret = file_read(path, t->limits.max_source, data_r, len_r, error_r);
		if (ret != 0) {
			if (ret > 0)
				*path_r = path;
			else
				free(path);
			return ret;
		}
		free(path);
	}
	return 0;
}

static void
tfile_add_locked(struct tfile_cache *c, struct tfile *f)
{
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->files = xreallocarray(c->files, c->cap, sizeof(*c->files));
	}
	c->files[c->n++] = f;
}

/* The cache entry for rel, looked up in the directories on first use.
   1 found, 0 absent (*f_r set either way), -1 read error. Call with the
   cache locked. */
static int
tfile_get_locked(const struct ack_templates *t, const char *rel, struct tfile **f_r,
		 const char **error_r)
{
	struct tfile_cache *c = t->cache;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->files[i]->rel, rel) == 0) {
			*f_r = c->files[i];
			return c->files[i]->found;
		}
	}
	struct tfile *f = xcalloc(1, sizeof(*f));
	int ret = find_file(t, rel, &f->src, &f->len, &f->path, error_r);
	if (ret < 0) {
		free(f);
		return -1;
	}
	f->rel = xstrdup(rel);
	f->found = ret;
	tfile_add_locked(c, f);
	*f_r = f;
	return ret;
}

/* The cache entry for the file at path itself (no fallback directories):
   the name tables, which fall back key by key from one directory to the
   next. Same returns as tfile_get_locked(). */
static int
tfile_at_locked(const struct ack_templates *t, const char *path, struct tfile **f_r,
		const char **error_r)
{
	struct tfile_cache *c = t->cache;
	for (size_t i = 0; i < c->n; i++) {
		if (c->files[i]->by_path && strcmp(c->files[i]->rel, path) == 0) {
			*f_r = c->files[i];
			return c->files[i]->found;
		}
	}
	struct tfile *f = xcalloc(1, sizeof(*f));
	int ret = file_read(path, t->limits.max_source, &f->src, &f->len, error_r);
	if (ret < 0) {
		free(f);
		return -1;
	}
	f->rel = xstrdup(path);
	f->by_path = 1;
	f->found = ret > 0;
	tfile_add_locked(c, f);
	*f_r = f;
	return f->found;
}

/* ---- name tables ---------------------------------------------------------------- */

/* One line of a name table: "key = Name" (blanks around both), '#' and
   blank lines ignored. 1 with the parts, 0 for a line to skip, -1 for a
   malformed one. */
static int
name_line(const char *s, size_t len, const char **key_r, size_t *key_len_r, const char **name_r,
	  size_t *name_len_r)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len == 0 || *s == '#')
		return 0;
	const char *eq = memchr(s, '=', len);
	if (eq == NULL)
		return -1;
	size_t kl = (size_t)(eq - s);
	while (kl > 0 && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
		kl--;
	const char *n = eq + 1;
	size_t nl = len - (size_t)(n - s);
	while (nl > 0 && (*n == ' ' || *n == '\t')) {
		n++;
		nl--;
	}
	if (kl == 0 || nl == 0 || nl > 200)
		return -1;
	for (size_t i = 0; i < kl; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return -1;
	for (size_t i = 0; i < nl; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			return -1;
	*key_r = s;
	*key_len_r = kl;
	*name_r = n;
	*name_len_r = nl;
	return 1;
}

int
ack_templates_name(const struct ack_templates *t, const char *table, const char *lang,
		   const char *key, char **name_r)
{
	if (key == NULL || !safe_name(table) || !safe_name(lang))
		return 0;
	size_t klen = strlen(key);
	for (size_t d = 0; d < t->n_dirs; d++) {
		char *path = xasprintf("%s/ack/names/%s.%s.txt", t->dirs[d], table, lang);
		struct tfile *f;
		const char *error;
		/* read once per configuration load, as the templates (issue 18:
		   an open() per acknowledgement and table was 1.2% of an import) */
		pthread_mutex_lock(&t->cache->lock);
		int r = tfile_at_locked(t, path, &f, &error);
		pthread_mutex_unlock(&t->cache->lock);
		free(path);
		if (r <= 0)
			continue;
		const char *src = f->src; /* an entry never changes once filled */
		size_t len = f->len;
		int found = 0;
		for (size_t pos = 0; pos < len && !found;) {
			const char *nl = memchr(src + pos, '\n', len - pos);
			size_t end = nl != NULL ? (size_t)(nl - src) : len;
			const char *k, *n;
			size_t kl, nlen;
			if (name_line(src + pos, end - pos, &k, &kl, &n, &nlen) > 0 && kl == klen &&
			    strncmp(k, key, klen) == 0 && utf8_valid((const unsigned char *)n, nlen)) {
				*name_r = xstrndup(n, nlen);
				found = 1;
			}
			pos = end + 1;
		}
		if (found)
			return 1;
	}
	return 0;
}

struct partial_ctx {
	const struct ack_templates *t;
	const char *lang;
	const char *ext; /* "txt" or "html" */
};

/* The partial's file in the context's language, else English: 1 with *f_r,
   0 absent, -1 error. Call with the cache locked. */
static int
partial_file_locked(const struct partial_ctx *ctx, const char *name, struct tfile **f_r,
		    const char **error_r)
{
	if (!safe_name(name))
		return 0;
	const char *langs[2] = { ctx->lang, "en" };
	int ret = 0;
	for (int i = 0; i < 2 && ret == 0; i++) {
		char *rel = xasprintf("ack/partials/%s.%s.%s", name, langs[i], ctx->ext);
		ret = tfile_get_locked(ctx->t, rel, f_r, error_r);
		free(rel);
	}
	return ret;
}

/* tmpl_partial_fn: the partial's source, from the cache. */
static int
fetch_partial(void *vctx, const char *name, char **src_r, size_t *len_r, char **label_r,
	      const char **error_r)
{
	const struct partial_ctx *ctx = vctx;
	struct tfile *f;
	pthread_mutex_lock(&ctx->t->cache->lock);
	int ret = partial_file_locked(ctx, name, &f, error_r);
	if (ret > 0) {
		*src_r = xmalloc(f->len + 1);
		memcpy(*src_r, f->src, f->len);
		(*src_r)[f->len] = '\0';
		*len_r = f->len;
		*label_r = xstrdup(f->path);
	}
	pthread_mutex_unlock(&ctx->t->cache->lock);
	return ret;
}

/* tmpl_partial_compiled_fn: the partial's file compiled once. */
static int
compiled_partial(void *vctx, const char *name, const struct tmpl **tmpl_r, const char **error_r)
{
	const struct partial_ctx *ctx = vctx;
	struct tfile *f;
	pthread_mutex_lock(&ctx->t->cache->lock);
	int ret = partial_file_locked(ctx, name, &f, error_r);
	if (ret > 0 && f->part[0] == NULL &&
	    tmpl_compile(f->src, f->len, f->path, 1, &ctx->t->limits, &f->part[0], error_r) < 0)
		ret = -1;
	if (ret > 0)
		*tmpl_r = f->part[0];
	pthread_mutex_unlock(&ctx->t->cache->lock);
	return ret;
}

/* Split "Subject: ...\n\n<body>". */
static int
split_subject(const char *path, const char *src, size_t len, size_t *subj_off, size_t *subj_len,
	      size_t *body_off, const char **error_r)
{
	const char *nl = memchr(src, '\n', len);
	size_t l1 = nl != NULL ? (size_t)(nl - src) : len;
	if (l1 < 8 || strncmp(src, "Subject:", 8) != 0) {
		*error_r = errf("%s:1: the first line must be \"Subject: ...\"", path);
		return -1;
	}
	*subj_off = 8;
	while (*subj_off < l1 && (src[*subj_off] == ' ' || src[*subj_off] == '\t'))
		(*subj_off)++;
	*subj_len = l1 - *subj_off;
	while (*subj_len > 0 && (src[*subj_off + *subj_len - 1] == '\r' ||
				 src[*subj_off + *subj_len - 1] == ' '))
		(*subj_len)--;
	size_t p = nl != NULL ? l1 + 1 : len;
	if (p < len && src[p] == '\r')
		p++;
	if (p < len && src[p] != '\n') {
		*error_r = errf("%s:2: expected an empty line after the subject", path);
		return -1;
	}
	*body_off = p < len ? p + 1 : len;
	return 0;
}

/* Collapse white space runs to one space and trim. */
static void
squeeze(char *s)
{
	char *o = s;
	int space = 1;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			if (!space)
				*o++ = ' ';
			space = 1;
		} else {
			*o++ = *p;
			space = 0;
		}
	}
	if (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
}

/* Look rel up (cached); when found, compile its parts once: a template
   ("Subject: ...", an empty line, the body) into part[0] and part[1], an
   HTML body whole into part[0]. 1 found and compiled, 0 absent, -1 error. */
static int
tfile_compiled(const struct ack_templates *t, const char *rel, int with_subject,
	       const struct tfile **f_r, const char **error_r)
{
	struct tfile_cache *c = t->cache;
	struct tfile *f;
	pthread_mutex_lock(&c->lock);
	int ret = tfile_get_locked(t, rel, &f, error_r);
	if (ret > 0 && f->part[0] == NULL) {
		if (with_subject) {
			size_t so, sl, bo;
			if (split_subject(f->path, f->src, f->len, &so, &sl, &bo, error_r) < 0 ||
			    tmpl_compile(f->src + so, sl, f->path, 1, &t->limits, &f->part[0],
					 error_r) < 0 ||
			    tmpl_compile(f->src + bo, f->len - bo, f->path, 3, &t->limits,
					 &f->part[1], error_r) < 0) {
				tmpl_free(&f->part[0]);
				ret = -1;
			}
		} else if (tmpl_compile(f->src, f->len, f->path, 1, &t->limits, &f->part[0],
					error_r) < 0) {
			ret = -1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	*f_r = f;
	return ret;
}

/* Render a compiled template with the partials of pctx. */
static int
render_part(const struct tmpl *tm, const struct tmpl_value *data, enum tmpl_escape esc,
	    struct partial_ctx *pctx, char **out_r, const char **error_r)
{
	struct tmpl_partials partials = { fetch_partial, pctx, compiled_partial };
	return tmpl_render(tm, data, esc, &partials, out_r, NULL, error_r);
}

/* The ticket's number as the mail shows it ("#1042"; notices: the tag). */
static const char *
ticket_ref(const struct tmpl_value *data)
{
	const struct tmpl_value *tk = tmpl_map_get(data, "ticket");
	const char *ref = tmpl_value_string(tmpl_map_get(tk, "ref"));
	return ref != NULL ? ref : tmpl_value_string(tmpl_map_get(tk, "tag"));
}

/* The HTML body made from the rendered text (design.h), the safety
   partial's paragraph marked. */
static int
designed(const struct ack_templates *t, struct ack_mail *mail, const char *lang,
	 const struct tmpl_value *data, const char **error_r)
{
	char *safety = NULL;
	const struct tmpl *tm = NULL;
	const char *error = NULL;
	struct partial_ctx pctx = { t, lang, "txt" };
	if (compiled_partial(&pctx, "safety", &tm, &error) > 0 &&
	    render_part(tm, data, TMPL_ESCAPE_TEXT, &pctx, &safety, &error) < 0)
		safety = NULL; /* no mark, the text still shows it */
	struct design_input in = { lang, mail->subject, t->brand, t->colour, t->logo_url,
				   ticket_ref(data), safety };
	size_t max = t->limits.max_output * 3 + 8192;
	int ret = design_html(mail->text, &in, max, &mail->html);
	if (ret < 0)
		*error_r = errf("HTML body larger than %zu bytes", max);
	free(safety);
	return ret;
}

int
ack_render(const struct ack_templates *t, const char *category, const char *language,
	   const struct tmpl_value *data, struct ack_mail *mail, const char **error_r)
{
	return ack_render_in(t, "ack", category, language, data, mail, error_r);
}

int
ack_render_in(const struct ack_templates *t, const char *kind, const char *category,
	      const char *language, const struct tmpl_value *data, struct ack_mail *mail,
	      const char **error_r)
{
	memset(mail, 0, sizeof(*mail));
	int is_ack = strcmp(kind, "ack") == 0;
	if (!safe_name(category)) {
		if (!is_ack) {
			*error_r = errf("%s: bad template name", kind);
			return -1;
		}
		category = "default";
	}
	if (!safe_name(language))
		language = "en";
	/* Only acknowledgements fall back on the "default" template. */
	const char *cands[4][2] = { { category, language }, { category, "en" },
				    { "default", language }, { "default", "en" } };
	if (is_ack) {
		cands[1][0] = "default";
		cands[2][0] = category;
		cands[2][1] = "en";
		cands[1][1] = language;
	}
	int n_cands = is_ack ? 4 : 2;
	const struct tfile *f = NULL;
	const char *lang = NULL, *cat = NULL;
	for (int i = 0; i < n_cands && cat == NULL; i++) {
		char *rel = xasprintf("%s/%s.%s.txt", kind, cands[i][0], cands[i][1]);
		int ret = tfile_compiled(t, rel, 1, &f, error_r);
		free(rel);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			cat = cands[i][0];
			lang = cands[i][1];
		}
	}
	if (cat == NULL) {
		*error_r = errf("no %s template for %s.%s (nor %s.en) in %s%s%s",
				is_ack ? "acknowledgement" : kind, category,
				language, is_ack ? "default" : category, t->dirs[0],
				t->n_dirs > 1 ? " or " : "",
				t->n_dirs > 1 ? t->dirs[1] : "");
		return -1;
	}
	struct partial_ctx pctx = { t, lang, "txt" };
	int ret = render_part(f->part[0], data, TMPL_ESCAPE_HEADER, &pctx, &mail->subject, error_r);
	if (ret == 0)
		ret = render_part(f->part[1], data, TMPL_ESCAPE_TEXT, &pctx, &mail->text, error_r);
	if (ret < 0) {
		ack_mail_clear(mail);
		return -1;
	}
	squeeze(mail->subject);
	mail->template = xstrdup(f->path);

	/* HTML: its own template when there is one, else made from the text. */
	char *rel = xasprintf("%s/%s.%s.html", kind, cat, lang);
	const struct tfile *hf;
	ret = tfile_compiled(t, rel, 0, &hf, error_r);
	free(rel);
	if (ret > 0) {
		struct partial_ctx hctx = { t, lang, "html" };
		ret = render_part(hf->part[0], data, TMPL_ESCAPE_HTML, &hctx, &mail->html, error_r);
	} else if (ret == 0) {
		ret = designed(t, mail, lang, data, error_r);
	}
	if (ret < 0) {
		ack_mail_clear(mail);
		return -1;
	}
	return 0;
}

/* ---- check ------------------------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of regular-looking entries in dir (NULL when absent). */
static char **
list_dir(const char *dir, size_t *n_r)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	*n_r = 0;
	if (d == NULL)
		return NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "partials") == 0 ||
		    strcmp(de->d_name, "names") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (names == NULL)
		names = xcalloc(1, sizeof(*names)); /* an empty directory */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*n_r = n;
	return names;
}

/* "name.lang.ext" -> 0 with the parts, -1 when the name is not like that. */
static int
parse_name(const char *file, char *name, char *lang, char *ext, size_t size)
{
	const char *d1 = strchr(file, '.');
	const char *d2 = strrchr(file, '.');
	if (d1 == NULL || d2 == d1 || (size_t)(d1 - file) >= size || (size_t)(d2 - d1 - 1) >= size ||
	    strlen(d2 + 1) >= size)
		return -1;
	memcpy(name, file, (size_t)(d1 - file));
	name[d1 - file] = '\0';
	memcpy(lang, d1 + 1, (size_t)(d2 - d1 - 1));
	lang[d2 - d1 - 1] = '\0';
	memcpy(ext, d2 + 1, strlen(d2 + 1) + 1);
	if (!safe_name(name) || !safe_name(lang) || (strcmp(ext, "txt") != 0 && strcmp(ext, "html") != 0))
		return -1;
	return 0;
}

static size_t
check_partial_refs(const struct ack_templates *t, const char *path, const struct tmpl *tm,
		   const char *lang, const char *ext, FILE *out)
{
	size_t problems = 0;
	struct partial_ctx pctx = { t, lang, ext };
	for (size_t i = 0; i < tmpl_partial_count(tm); i++) {
		char *src = NULL, *label = NULL;
		size_t len;
		const char *error = NULL;
		int ret = fetch_partial(&pctx, tmpl_partial_name(tm, i), &src, &len, &label, &error);
		if (ret == 0) {
			fprintf(out, "%s: partial \"%s\" not found (ack/partials/%s.%s.%s or .en.%s)\n",
				path, tmpl_partial_name(tm, i), tmpl_partial_name(tm, i), lang, ext, ext);
			problems++;
		} else if (ret < 0) {
			fprintf(out, "%s\n", error);
			problems++;
		}
		free(src);
		free(label);
	}
	return problems;
}

static size_t
check_file(const struct ack_templates *t, const char *dir, const char *sub, const char *file,
	   int is_partial, FILE *out)
{
	char name[80], lang[80], ext[80];
	char *path = xasprintf("%s/%s/%s", dir, sub, file);
	size_t problems = 0;
	char *src = NULL;
	size_t len;
	const char *error;
	if (parse_name(file, name, lang, ext, sizeof(name)) < 0) {
		fprintf(out, "%s: unexpected file name (want NAME.LANG.txt or NAME.LANG.html)\n", path);
		free(path);
		return 1;
	}
	int r = file_read(path, t->limits.max_source, &src, &len, &error);
	if (r <= 0) {
		fprintf(out, "%s\n", r < 0 ? error : errf("%s: cannot read", path));
		free(path);
		return 1;
	}
	if (!utf8_valid((const unsigned char *)src, len)) {
		fprintf(out, "%s: not valid UTF-8\n", path);
		problems++;
	}
	size_t so = 0, sl = 0, bo = 0;
	int main_txt = !is_partial && strcmp(ext, "txt") == 0;
	if (main_txt && split_subject(path, src, len, &so, &sl, &bo, &error) < 0) {
		fprintf(out, "%s\n", error);
		free(src);
		free(path);
		return problems + 1;
	}
	struct {
		size_t off, len;
		unsigned int line;
	} pieces[2] = { { so, sl, 1 }, { bo, len - bo, 3 } };
	if (!main_txt) {
		pieces[0].off = 0;
		pieces[0].len = len;
		pieces[0].line = 1;
	}
	for (int i = 0; i < (main_txt ? 2 : 1); i++) {
		struct tmpl *tm;
		if (tmpl_compile(src + pieces[i].off, pieces[i].len, path, pieces[i].line, &t->limits,
				 &tm, &error) < 0) {
			fprintf(out, "%s\n", error);
			problems++;
			continue;
		}
		problems += check_partial_refs(t, path, tm, lang, ext, out);
		tmpl_free(&tm);
	}
	free(src);
	free(path);
	return problems;
}

/* Problems of the name tables under dir/ack/names, as "FILE:LINE: why". */
static size_t
check_names(const struct ack_templates *t, const char *dir, FILE *out, size_t *files_r)
{
	char *sub = xasprintf("%s/ack/names", dir);
	size_t n, problems = 0;
	char **names = list_dir(sub, &n);
	for (size_t i = 0; i < n; i++) {
		char name[80], lang[80], ext[80];
		char *path = xasprintf("%s/%s", sub, names[i]);
		char *src = NULL;
		size_t len = 0;
		const char *error;
		(*files_r)++;
		if (parse_name(names[i], name, lang, ext, sizeof(name)) < 0 || strcmp(ext, "txt") != 0) {
			fprintf(out, "%s: unexpected file name (want TABLE.LANG.txt)\n", path);
			problems++;
		} else if (file_read(path, t->limits.max_source, &src, &len, &error) <= 0) {
			fprintf(out, "%s: cannot read\n", path);
			problems++;
		} else if (!utf8_valid((const unsigned char *)src, len)) {
			fprintf(out, "%s: not valid UTF-8\n", path);
			problems++;
		} else {
			unsigned int line = 0;
			for (size_t pos = 0; pos < len;) {
				const char *nl = memchr(src + pos, '\n', len - pos);
				size_t end = nl != NULL ? (size_t)(nl - src) : len;
				const char *k, *v;
				size_t kl, vl;
				line++;
				if (name_line(src + pos, end - pos, &k, &kl, &v, &vl) < 0) {
					fprintf(out, "%s:%u: want \"key = Name\" (key: a-z, 0-9, '.', "
						     "'_', '-'; a name of at most 200 bytes)\n",
						path, line);
					problems++;
				}
				pos = end + 1;
			}
		}
		free(src);
		free(path);
		free(names[i]);
	}
	free(names);
	free(sub);
	return problems;
}

size_t
ack_templates_check(const struct config *config, const char *dir, FILE *out, size_t *n_files_r)
{
	struct ack_templates *t = ack_templates_new(config, dir);
	size_t problems = 0, files = 0;
	for (size_t d = 0; d < t->n_dirs; d++) {
		/* and the other mail rendered the same way: the escalation
		   notices (sla/) and the status mail (status/, pending.h) */
		static const char *const subs[] = { "ack", "ack/partials", "sla", "status" };
		for (int s = 0; s < (int)N_ELEMENTS(subs); s++) {
			char *sub = xasprintf("%s/%s", t->dirs[d], subs[s]);
			size_t n;
			char **names = list_dir(sub, &n);
			if (names == NULL && s == 0 && (dir != NULL || d + 1 == t->n_dirs)) {
				fprintf(out, "%s: no such directory\n", sub);
				problems++;
			}
			for (size_t i = 0; i < n; i++) {
				problems += check_file(t, t->dirs[d], subs[s], names[i], s == 1, out);
				files++;
				free(names[i]);
			}
			free(names);
			free(sub);
		}
		problems += check_names(t, t->dirs[d], out, &files);
	}
	/* A sample render of every category and language, so that runtime
	   errors (a partial's syntax, a limit) show up now and not on a
	   customer's mail. */
	time_t now = time(NULL);
	struct hours *hours = NULL;
	const char *error;
	if (config != NULL && ack_hours_from_config(config, &hours, &error) < 0) {
		fprintf(out, "%s\n", error);
		problems++;
	}
	for (size_t c = 0; ack_categories[c] != NULL; c++) {
		for (size_t l = 0; ack_languages[l] != NULL; l++) {
			struct ack_input *in = ack_sample_input(ack_categories[c], ack_languages[l], now);
			struct tmpl_value *data = ack_data_build(config, hours, in, NULL);
			struct ack_mail mail;
			if (ack_render(t, ack_categories[c], ack_languages[l], data, &mail, &error) < 0) {
				fprintf(out, "%s\n", error);
				problems++;
			} else {
				char *want = xasprintf("/ack/%s.%s.txt", ack_categories[c], ack_languages[l]);
				size_t wl = strlen(want), pl = strlen(mail.template);
				if (pl < wl || strcmp(mail.template + pl - wl, want) != 0)
					fprintf(out, "note: %s.%s falls back to %s\n", ack_categories[c],
						ack_languages[l], mail.template);
				free(want);
				ack_mail_clear(&mail);
			}
			tmpl_value_free(&data);
			ack_sample_input_free(&in);
		}
	}
	hours_free(&hours);
	ack_templates_free(&t);
	if (n_files_r != NULL)
		*n_files_r = files;
	return problems;
}
