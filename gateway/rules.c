/*
 * rules: see rules.h; the language is documented in deskgate-rules(5).
 *
 * This file loads rule files and directories and owns the rule table's
 * life cycle; rules-int.h says which file does the rest. PCRE2 does all
 * the matching (rules-regex.c); parsers/quote.h takes quoted replies out
 * of `body`.
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway/config.h"
#include "gateway/rules-int.h"
#include "base/strset.h"

const char *const rules_priority_names[PRIORITY_MAX + 1] = { "low", "normal", "high", "urgent" };

const char *const rules_target_names[RULES_N_TARGETS] = {
	"subject", "body", "body-full", "text", "from", "to", "cc", "header",
	"attachment-name", "attachment-type", "mailbox", "before", "after", "around",
};

void
rules_options_default(struct rules_options *options)
{
	memset(options, 0, sizeof(*options));
	options->match_limit = 1000000;
	options->depth_limit = 100000;
	options->exclude_quotes = 1;
}

/* ---- freeing ------------------------------------------------------------ */

void
rules_cond_free(struct cond *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_kids; i++)
		rules_cond_free(c->kids[i]);
	free(c->kids);
	for (size_t i = 0; i < c->n_targets; i++) {
		free(c->targets[i].header);
		free(c->targets[i].label);
	}
	free(c->targets);
	rx_free(&c->pat.rx);
	free(c->pat.source);
	pf_free(&c->pat);
	free(c);
}

void
rules_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
rules_rule_clear(struct rule *r)
{
	free(r->name);
	rules_cond_free(r->cond);
	free(r->category);
	free(r->queue);
	rules_strv_free(r->tags, r->n_tags);
	for (size_t i = 0; i < r->n_extract_names; i++)
		free(r->extract_names[i].name);
	free(r->extract_names);
	memset(r, 0, sizeof(*r));
}

void
rules_free(struct rules **rulesp)
{
	struct rules *rules = *rulesp;
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->n_rules; i++)
		rules_rule_clear(&rules->rules[i]);
	free(rules->rules);
	rules_strv_free(rules->files, rules->n_files);
	free(rules->default_category);
	rules_strv_free(rules->vip.addresses, rules->vip.n_addresses);
	rules_strv_free(rules->vip.domains, rules->vip.n_domains);
	rx_matcher_free(&rules->matcher);
	strset_free(&rules->strset);
	free(rules->pairs);
	free(rules->str_first);
	free(rules->str_sets);
	free(rules);
	*rulesp = NULL;
}

size_t
rules_count(const struct rules *rules)
{
	return rules->n_rules;
}

int
rules_jit(const struct rules *rules)
{
	(void)rules;
	return rx_jit_available();
}

const char *
rules_name(const struct rules *rules, size_t n)
{
	return n < rules->n_rules ? rules->rules[n].name : NULL;
}

void
rules_info(const struct rules *rules, size_t n, struct rules_rule_info *info)
{
	memset(info, 0, sizeof(*info));
	if (n >= rules->n_rules)
		return;
	const struct rule *r = &rules->rules[n];
	info->name = r->name;
	info->file = r->file;
	info->line = r->line;
	info->category = r->category;
	info->queue = r->queue;
}


/* ---- loading ------------------------------------------------------------ */

static int
str_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void
vip_parse(struct vip *vip, const char *list)
{
	if (list == NULL)
		return;
	const char *p = list;
	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != ';')
			p++;
		if (p == start)
			continue;
		char *item = xstrndup(start, (size_t)(p - start));
		for (char *q = item; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		char *at = strchr(item, '@');
		if (at != NULL && at != item) {
			vip->addresses = xreallocarray(vip->addresses, vip->n_addresses + 1,
						       sizeof(*vip->addresses));
			vip->addresses[vip->n_addresses++] = item;
			continue;
		}
		const char *domain = item;
		if (*domain == '@')
			domain++;
		else if (str_starts_with(domain, "*."))
			domain += 2;
		if (*domain == '\0') {
			free(item);
			continue;
		}
		vip->domains = xreallocarray(vip->domains, vip->n_domains + 1, sizeof(*vip->domains));
		vip->domains[vip->n_domains++] = xstrdup(domain);
		free(item);
	}
}

static struct rules *
rules_new(const struct rules_options *options)
{
	struct rules *rules = xcalloc(1, sizeof(*rules));
	rules->max_groups = 1;
	rules->exclude_quotes = options->exclude_quotes;
	rules->default_category = xstrdup(options->default_category != NULL ? options->default_category
									     : "other");
	vip_parse(&rules->vip, options->vip_senders);
	rules->no_prefilter = options->no_prefilter;
	return rules;
}

struct name_ref {
	const char *name;
	size_t index;
};

/* By name, then by position: the later of two equal names is the duplicate. */
static int
name_ref_compare(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* After every file: duplicate names, and the match machinery. */
static int
rules_finish(struct parser *ps, const struct rules_options *options)
{
	struct rules *rules = ps->rules;
	if (rules->n_rules > 1) {
		struct name_ref *refs = xcalloc(rules->n_rules, sizeof(*refs));
		for (size_t i = 0; i < rules->n_rules; i++) {
			refs[i].name = rules->rules[i].name;
			refs[i].index = i;
		}
		qsort(refs, rules->n_rules, sizeof(*refs), name_ref_compare);
		for (size_t i = 1; i < rules->n_rules; i++) {
			if (strcmp(refs[i - 1].name, refs[i].name) != 0)
				continue;
			const struct rule *a = &rules->rules[refs[i - 1].index];
			const struct rule *b = &rules->rules[refs[i].index];
			ps->file = b->file;
			parser_error(ps, b->line, "duplicate rule name %s (first at %s:%u)", b->name,
				     a->file, a->line);
		}
		free(refs);
	}
	if (ps->n_errors > 0)
		return -1;
	rules->matcher = rx_matcher_new(options->match_limit, options->depth_limit, rules->max_groups);
	prefilter_finish(rules);
	return 0;
}

static int
load_file(struct parser *ps, const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		ps->file = path;
		parser_error(ps, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct buf b;
	buf_init(&b, RULES_MAX_FILE_SIZE);
	char chunk[8192];
	size_t n;
	int too_big = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			too_big = 1;
			break;
		}
	}
	int read_error = ferror(fp);
	fclose(fp);
	if (too_big || read_error) {
		buf_free(&b);
		ps->file = path;
		if (too_big)
			parser_error(ps, 0, "larger than %d bytes", RULES_MAX_FILE_SIZE);
		else
			parser_error(ps, 0, "read error");
		return -1;
	}
	int ret = parse_text(ps, path, buf_cstr(&b), b.len);
	buf_free(&b);
	return ret;
}

static int
load_dir(struct parser *ps, const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		ps->file = path;
		parser_error(ps, 0, "cannot open directory: %s", strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".rules"))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", path, de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), str_compare);
	int ret = 0;
	for (size_t i = 0; i < n; i++)
		if (load_file(ps, names[i]) < 0)
			ret = -1;
	rules_strv_free(names, n);
	return ret;
}

static int
load_finish(struct parser *ps, const struct rules_options *options, struct rules **rules_r,
	    const char **error_r)
{
	x_free(&ps->text);
	if (rules_finish(ps, options) < 0 || ps->n_errors > 0) {
		if (ps->n_errors > 1)
			*error_r = errf("%s (and %zu more errors)", ps->first_error, ps->n_errors - 1);
		else
			*error_r = errf("%s", ps->first_error != NULL ? ps->first_error : "error");
		free(ps->first_error);
		rules_free(&ps->rules);
		return -1;
	}
	*rules_r = ps->rules;
	return 0;
}

int
rules_load(const char *const *paths, size_t n_paths, const struct rules_options *options,
	   struct rules **rules_r, const char **error_r)
{
	struct parser ps = { .options = options };
	*rules_r = NULL;
	ps.rules = rules_new(options);
	for (size_t i = 0; i < n_paths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			ps.file = paths[i];
			parser_error(&ps, 0, "%s", strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode))
			load_dir(&ps, paths[i]);
		else
			load_file(&ps, paths[i]);
		x_free(&ps.text);
	}
	return load_finish(&ps, options, rules_r, error_r);
}

int
rules_load_text(const char *name, const char *text, size_t len, const struct rules_options *options,
		struct rules **rules_r, const char **error_r)
{
	struct parser ps = { .options = options };
	*rules_r = NULL;
	ps.rules = rules_new(options);
	parse_text(&ps, name, text, len);
	return load_finish(&ps, options, rules_r, error_r);
}

void
rules_options_from_config(struct rules_options *options, const struct config *config)
{
	rules_options_default(options);
	options->match_limit = (uint32_t)config->rules.match_limit;
	options->depth_limit = (uint32_t)config->rules.depth_limit;
	options->exclude_quotes = config->rules.exclude_quotes;
	options->vip_senders = config->rules.vip_senders;
}

int
rules_load_config(const struct config *config, struct rules **rules_r, const char **error_r)
{
	struct rules_options options;
	rules_options_from_config(&options, config);
	const char *dir = config->rules.dir;
	return rules_load(&dir, 1, &options, rules_r, error_r);
}

int
rules_reload(struct rules **rulesp, const char *const *paths, size_t n_paths,
	     const struct rules_options *options, const char **error_r)
{
	struct rules *fresh;
	if (rules_load(paths, n_paths, options, &fresh, error_r) < 0)
		return -1;
	rules_free(rulesp);
	*rulesp = fresh;
	return 0;
}
