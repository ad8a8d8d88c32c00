/*
 * config: see config.h. Reads configuration files against the table of
 * every key (config-keys.c, the one place where a key is defined;
 * deskgate.conf(5) documents each of them and a test,
 * tests/unit/check-config-doc.sh, fails when one is missing from the page).
 */
#include "build-config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gateway/config.h"
#include "gateway/config-int.h"
#include "gateway/hours.h"
#include "gateway/storeloc.h"
#include "base/util.h"

static const char *const config_type_names[] = {
	"string", "secret", "path", "path", "enum", "list", "integer", "size", "duration", "boolean",
};

#define U64MAX UINT64_MAX

/* ------------------------------------------------------------------------ */

static int
parse_scaled(const char *s, const char *units, const uint64_t *factors, uint64_t *value_r)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (U64MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	uint64_t f = 1;
	if (*p != '\0') {
		const char *u = strchr(units, *p);
		if (u == NULL || p[1] != '\0')
			return -1;
		f = factors[u - units];
	}
	if (f != 1 && v > U64MAX / f)
		return -1;
	*value_r = v * f;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *value_r)
{
	static const uint64_t f[] = { 1024ULL, 1024ULL, 1048576ULL, 1048576ULL,
				      1073741824ULL, 1073741824ULL };
	return parse_scaled(s, "kKmMgG", f, value_r);
}

int
config_parse_duration(const char *s, uint64_t *value_r)
{
	static const uint64_t f[] = { 1, 60, 3600, 86400, 604800 };
	return parse_scaled(s, "smhdw", f, value_r);
}

static int
parse_bool(const char *s, int *value_r)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "on") == 0 ||
	    strcmp(s, "1") == 0)
		*value_r = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "off") == 0 ||
		 strcmp(s, "0") == 0)
		*value_r = 0;
	else
		return -1;
	return 0;
}

static int
enum_allows(const char *values, const char *s)
{
	size_t n = strlen(s);
	const char *p = values;
	while (*p != '\0') {
		const char *end = strchr(p, '|');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, s, n) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/* Set one key in the struct at base; NULL on success, else a reason. */
static const char *
key_set(const struct config_key *key, void *base, const char *value)
{
	void *field = (char *)base + key->offset;
	uint64_t v;
	int b;

	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_SECRET:
	case CONFIG_PATH:
	case CONFIG_STATEPATH:
	case CONFIG_ENUM:
	case CONFIG_LIST: {
		size_t len = strlen(value);
		for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				return "control characters are not allowed";
		if (key->type == CONFIG_ENUM && !enum_allows(key->enum_values, value))
			return errf("must be one of %s", key->enum_values);
		if ((key->type == CONFIG_STRING || key->type == CONFIG_SECRET ||
		     key->type == CONFIG_LIST) && key->max != 0 &&
		    (len < key->min || len > key->max))
			return errf("length must be %llu to %llu characters",
				    (unsigned long long)key->min, (unsigned long long)key->max);
		if ((key->type == CONFIG_PATH || key->type == CONFIG_STATEPATH) && len == 0)
			return "empty path";
		char **s = field;
		free(*s);
		*s = xstrdup(value);
		return NULL;
	}
	case CONFIG_UINT:
		if (str_to_u64(value, U64MAX, &v) < 0)
			return "not a non-negative integer";
		break;
	case CONFIG_SIZE:
		if (config_parse_size(value, &v) < 0)
			return "not a size (bytes, or a number with k, M or G)";
		break;
	case CONFIG_DURATION:
		if (config_parse_duration(value, &v) < 0)
			return "not a duration (seconds, or a number with s, m, h, d or w)";
		break;
	case CONFIG_BOOL:
		if (parse_bool(value, &b) < 0)
			return "not a boolean (yes or no)";
		*(int *)field = b;
		return NULL;
	}
	if (v < key->min || v > key->max)
		return errf("out of range (%llu to %llu)", (unsigned long long)key->min,
			    (unsigned long long)key->max);
	*(uint64_t *)field = v;
	return NULL;
}

static void
section_apply_defaults(const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->def == NULL)
			continue;
		const char *why = key_set(key, base, key->def);
		if (why != NULL) {
			fprintf(stderr, "deskgate: bad built-in default for %s.%s: %s\n",
				sec->name, key->name, why);
			abort();
		}
	}
}

static void
section_free_strings(const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->type <= CONFIG_LIST)
			x_free((char *)base + key->offset);
	}
}

static void *
section_base(struct config *config, const struct config_section *sec)
{
	return (char *)config + sec->struct_offset;
}

/* ------------------------------------------------------------------------ */

/* Longest physical line read (a list may be given on one line or on many:
   each key's own maximum still applies to the whole value). */
#define CONFIG_MAX_LINE (128 * 1024)
/* What the reader hands inih in place of a value too long for its line
   buffer (Debian's libinih reads at most 200 bytes a line and ignores the
   run-time ini_max_line): the handler takes the value from the stash. A
   control character, so no real value can be it (key_set() refuses
   them). */
#define LONG_VALUE_MARK "\x1f"

struct parse_ctx {
	struct config *config;
	FILE *fp;
	int line;
	int error_line;
	char *error;
	char *stash; /* the value of the current line, when it was too long */
	/* the repeatable section currently open: index into sections, item */
	char *cur_section_raw;
	const struct config_section *cur_sec;
	void *cur_base;
};

/* A key set in the file: which, in which section, on which line (for
   lists: the first replaces the default, the others add items). */
struct config_key_line {
	const struct config_section *sec;
	size_t item; /* which [section NAME] (0 for a fixed section) */
	const struct config_key *key;
	unsigned int line;
};

static void
ctx_error(struct parse_ctx *ctx, const char *why);

/* One physical line of ctx->fp into b (without the limit), 0 at the end. */
static int
read_line(struct parse_ctx *ctx, struct buf *b)
{
	char chunk[4096];
	int got = 0, too_long = 0;
	while (fgets(chunk, sizeof(chunk), ctx->fp) != NULL) {
		size_t n = strlen(chunk);
		got = 1;
		if (!too_long && buf_append(b, chunk, n) < 0)
			too_long = 1;
		if (n > 0 && chunk[n - 1] == '\n')
			break;
	}
	if (got) {
		ctx->line++;
		if (too_long) {
			ctx_error(ctx, errf("line longer than %d bytes", CONFIG_MAX_LINE));
			buf_reset(b);
		}
	}
	return got;
}

/* inih's line reader: each physical line once (so inih's line numbers stay
   right), and a key line too long for inih's buffer as "name=MARK" with
   the value kept in ctx->stash. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	struct buf b;
	buf_init(&b, CONFIG_MAX_LINE);
	x_free(&ctx->stash);
	if (!read_line(ctx, &b)) {
		buf_free(&b);
		return NULL;
	}
	const char *line = buf_cstr(&b);
	if (b.len + 1 < (size_t)num) {
		memcpy(str, line, b.len + 1);
		buf_free(&b);
		return str;
	}
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *sep = strpbrk(p, "=:");
	if (*p == '#' || *p == ';') {
		snprintf(str, (size_t)num, "#\n"); /* a long comment */
	} else if (*p != '[' && sep != NULL && (size_t)(sep - line) + 4 < (size_t)num) {
		snprintf(str, (size_t)num, "%.*s=" LONG_VALUE_MARK "\n", (int)(sep - line), line);
		char *value = xstrdup(sep + 1);
		ctx->stash = xstrdup(str_trim(value));
		free(value);
	} else {
		ctx_error(ctx, errf("line too long (%zu bytes) and not a key = value line", b.len));
		snprintf(str, (size_t)num, "#\n");
	}
	buf_free(&b);
	return str;
}

static void
ctx_error(struct parse_ctx *ctx, const char *why)
{
	if (ctx->error == NULL) {
		ctx->error_line = ctx->line;
		ctx->error = xstrdup(why);
	}
}

static int
open_section(struct parse_ctx *ctx, const char *section)
{
	const char *sp = strchr(section, ' ');
	size_t namelen = sp != NULL ? (size_t)(sp - section) : strlen(section);
	ctx->cur_sec = NULL;
	ctx->cur_base = NULL;
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		if (strlen(sec->name) != namelen || strncmp(sec->name, section, namelen) != 0)
			continue;
		if (!sec->repeatable) {
			if (sp != NULL && i + 1 < config_n_sections &&
			    strcmp(config_sections[i + 1].name, sec->name) == 0)
				continue; /* [hours NAME]: the repeatable twin that follows */
			if (sp != NULL) {
				ctx_error(ctx, errf("section [%s] takes no name", sec->name));
				return -1;
			}
			ctx->cur_sec = sec;
			ctx->cur_base = section_base(ctx->config, sec);
			return 0;
		}
		const char *label = sp != NULL ? sp + 1 : "";
		while (*label == ' ')
			label++;
		if (*label == '\0' || strchr(label, ' ') != NULL || strlen(label) > 64) {
			ctx_error(ctx, errf("section [%s NAME] needs one name of at most 64 characters",
					    sec->name));
			return -1;
		}
		void **arrayp = (void **)((char *)ctx->config + sec->array_offset);
		size_t *countp = (size_t *)((char *)ctx->config + sec->count_offset);
		for (size_t k = 0; k < *countp; k++) {
			char **lbl = (char **)((char *)*arrayp + k * sec->item_size + sec->label_offset);
			if (strcmp(*lbl, label) == 0) {
				ctx_error(ctx, errf("duplicate section [%s %s]", sec->name, label));
				return -1;
			}
		}
		*arrayp = xreallocarray(*arrayp, *countp + 1, sec->item_size);
		void *item = (char *)*arrayp + *countp * sec->item_size;
		memset(item, 0, sec->item_size);
		*(char **)((char *)item + sec->label_offset) = xstrdup(label);
		section_apply_defaults(sec, item);
		(*countp)++;
		ctx->cur_sec = sec;
		ctx->cur_base = item;
		return 0;
	}
	ctx_error(ctx, errf("unknown section [%.*s]", (int)namelen, section));
	return -1;
}

/* Whether key was already set in the current section; notes where it is
   set the first time. */
static int
key_seen(struct parse_ctx *ctx, const struct config_key *key)
{
	struct config *config = ctx->config;
	size_t item = 0;
	if (ctx->cur_sec->repeatable)
		item = *(size_t *)((char *)config + ctx->cur_sec->count_offset) - 1;
	for (size_t i = 0; i < config->n_key_lines; i++)
		if (config->key_lines[i].key == key && config->key_lines[i].item == item)
			return 1;
	config->key_lines = xreallocarray(config->key_lines, config->n_key_lines + 1,
					  sizeof(*config->key_lines));
	struct config_key_line *kl = &config->key_lines[config->n_key_lines++];
	kl->sec = ctx->cur_sec;
	kl->item = item;
	kl->key = key;
	kl->line = (unsigned int)ctx->line;
	return 0;
}

unsigned int
config_line(const struct config *config, const char *section, const char *label, const char *key)
{
	for (size_t i = 0; i < config->n_key_lines; i++) {
		const struct config_key_line *kl = &config->key_lines[i];
		if (strcmp(kl->sec->name, section) != 0 || strcmp(kl->key->name, key) != 0)
			continue;
		if (kl->sec->repeatable) {
			const void *array = *(void *const *)((const char *)config + kl->sec->array_offset);
			const char *const *lbl =
				(const char *const *)((const char *)array + kl->item * kl->sec->item_size +
						      kl->sec->label_offset);
			if (label == NULL || strcmp(*lbl, label) != 0)
				continue;
		}
		return kl->line;
	}
	return 0;
}

/* [selfhelp] CATEGORY = URLs for a category the rules define: any name of
   [a-z0-9._-] (whether a rule defines it is checked with the rules, at
   start-up). */
static int
selfhelp_extra(struct parse_ctx *ctx, const char *name, const char *value)
{
	static const struct config_key links = { "CATEGORY", CONFIG_STRING, NULL, 0, 4000, 0,
						 NULL, NULL };
	struct config_selfhelp *sh = &ctx->config->selfhelp;
	size_t n = strlen(name);
	int ok = n > 0 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		     name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok) {
		ctx_error(ctx, errf("[selfhelp] \"%.64s\": not a category name (a-z, 0-9, '.', '_', "
				    "'-')", name));
		return 0;
	}
	char *v = NULL;
	const char *why = key_set(&links, &v, value);
	if (why != NULL) {
		ctx_error(ctx, errf("%s: %s", name, why));
		return 0;
	}
	for (size_t i = 0; i < sh->n_extra; i++) {
		if (strcmp(sh->extra[i].key, name) == 0) {
			free(sh->extra[i].value);
			sh->extra[i].value = v;
			return 1;
		}
	}
	sh->extra = xreallocarray(sh->extra, sh->n_extra + 1, sizeof(*sh->extra));
	sh->extra[sh->n_extra++] = (struct config_pair){ xstrdup(name), v, ctx->line };
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	if (strcmp(value, LONG_VALUE_MARK) == 0 && ctx->stash != NULL)
		value = ctx->stash;
	if (ctx->cur_section_raw == NULL || strcmp(ctx->cur_section_raw, section) != 0) {
		free(ctx->cur_section_raw);
		ctx->cur_section_raw = xstrdup(section);
		if (*section == '\0') {
			ctx_error(ctx, "key outside of any section");
			ctx->cur_sec = NULL;
			return 0;
		}
		if (open_section(ctx, section) < 0)
			return 0;
	}
	if (ctx->cur_sec == NULL)
		return 0; /* error already recorded for this section */
	for (size_t i = 0; i < ctx->cur_sec->n_keys; i++) {
		const struct config_key *key = &ctx->cur_sec->keys[i];
		if (strcmp(key->name, name) != 0)
			continue;
		const char *why;
		if (key_seen(ctx, key) && key->type == CONFIG_LIST) {
			/* A list given again: its items add up. */
			char **cur = (char **)((char *)ctx->cur_base + key->offset);
			char *joined = *cur != NULL && **cur != '\0'
					       ? xasprintf("%s%s%s", *cur, key->enum_values, value)
					       : xstrdup(value);
			why = key_set(key, ctx->cur_base, joined);
			free(joined);
		} else {
			why = key_set(key, ctx->cur_base, value);
		}
		if (why != NULL) {
			ctx_error(ctx, errf("%s%s: %s", value == ctx->stash ? "line too long: " : "", name,
					    why));
			return 0;
		}
		return 1;
	}
	if (ctx->cur_sec->struct_offset == offsetof(struct config, selfhelp))
		return selfhelp_extra(ctx, name, value);
	ctx_error(ctx, errf("unknown key \"%.64s\" in section [%s]", name, ctx->cur_sec->name));
	return 0;
}

/* ------------------------------------------------------------------------ */

static struct config *
config_new(const char *path, const char *dir)
{
	struct config *config = xcalloc(1, sizeof(*config));
	config->path = xstrdup(path);
	config->dir = xstrdup(dir);
	for (size_t i = 0; i < config_n_sections; i++)
		if (!config_sections[i].repeatable)
			section_apply_defaults(&config_sections[i], section_base(config, &config_sections[i]));
	return config;
}

char *
config_resolve_path(const struct config *config, const char *path)
{
	if (path == NULL)
		return NULL;
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", config->dir, path);
}

static void
resolve_paths(struct config *config, const struct config_section *sec, void *base)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *key = &sec->keys[i];
		if (key->type != CONFIG_PATH && key->type != CONFIG_STATEPATH)
			continue; /* numbers and booleans are not char * */
		char **s = (char **)((char *)base + key->offset);
		if (*s == NULL || (*s)[0] == '/')
			continue;
		/* a store location naming a database server, not a file */
		if (key->type == CONFIG_STATEPATH && (str_starts_with(*s, "postgresql:") ||
						      str_starts_with(*s, "postgres:")))
			continue;
		char *abs = NULL;
		if (key->type == CONFIG_PATH)
			abs = config_resolve_path(config, *s);
		else if (key->type == CONFIG_STATEPATH)
			abs = xasprintf("%s/%s", config->state_dir, *s);
		if (abs != NULL) {
			free(*s);
			*s = abs;
		}
	}
}

static void
config_finish_paths(struct config *config)
{
	if (config->rules.dir == NULL)
		config->rules.dir = config_data_path("rules.d");
	/* state_dir first: STATEPATH keys are relative to it. */
	resolve_paths(config, &config_sections[0], config);
	for (size_t i = 1; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		if (!sec->repeatable) {
			resolve_paths(config, sec, section_base(config, sec));
			continue;
		}
		void *array = *(void **)((char *)config + sec->array_offset);
		size_t count = *(size_t *)((char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++)
			resolve_paths(config, sec, (char *)array + k * sec->item_size);
	}
}

struct config *
config_defaults(const char *dir)
{
	struct config *config = config_new("(defaults)", dir);
	free(config->state_dir);
	config->state_dir = xstrdup(dir);
	config_finish_paths(config);
	config->store_location = xstrdup(config->database);
	return config;
}

/* Checks that involve more than one key. */
static const char *
config_validate(struct config *config)
{
	/* libetpan waits with select() on every mailbox's socket and its
	   cancellation pipe (3 descriptors each, docs/performance.md,
	   "Descriptors above 1023"): past FD_SETSIZE (1024) the fortified
	   FD_SET() aborts the process. Refused here, with the way out,
	   rather than found by a crash when the 340th mailbox connects. */
	if (config->n_mailboxes > CONFIG_MAX_MAILBOXES) {
		const struct config_mailbox *mb = &config->mailboxes[CONFIG_MAX_MAILBOXES];
		return errf("%s:%u: [mailbox %s]: one gateway watches at most %d mailboxes (%zu "
			    "configured): libetpan waits with select(), which cannot watch a "
			    "descriptor above 1023; run several gateways on one PostgreSQL store "
			    "(README, Production)",
			    config->path, config_line(config, "mailbox", mb->name, "host"), mb->name,
			    CONFIG_MAX_MAILBOXES, config->n_mailboxes);
	}
	for (size_t i = 0; i < config->n_mailboxes; i++) {
		struct config_mailbox *mb = &config->mailboxes[i];
		if (mb->host == NULL)
			return errf("[mailbox %s]: host is required", mb->name);
		if (mb->username == NULL)
			return errf("[mailbox %s]: username is required", mb->name);
		if (mb->port == 0)
			mb->port = strcmp(mb->security, "imaps") == 0 ? 993 : 143;
		int oauth = strcmp(mb->auth, "xoauth2") == 0 || strcmp(mb->auth, "oauthbearer") == 0;
		if (oauth && mb->token_command == NULL && mb->token_file == NULL)
			return errf("[mailbox %s]: auth = %s needs token_command or token_file",
				    mb->name, mb->auth);
		if (!oauth && mb->password == NULL && mb->password_file == NULL)
			return errf("[mailbox %s]: password or password_file is required", mb->name);
	}
	if ((strcmp(config->smtp.auth, "xoauth2") == 0 ||
	     strcmp(config->smtp.auth, "oauthbearer") == 0) &&
	    config->smtp.token_command == NULL && config->smtp.token_file == NULL)
		return errf("[smtp]: auth = %s needs token_command or token_file", config->smtp.auth);
	if (strcmp(config->smtp.security, "none") == 0 && strcmp(config->smtp.host, "127.0.0.1") != 0 &&
	    strcmp(config->smtp.host, "::1") != 0 && strcmp(config->smtp.host, "localhost") != 0 &&
	    strncmp(config->smtp.host, "127.", 4) != 0)
		return "[smtp]: security = none is only allowed for a loopback relay";
	if (strchr(config->support_address, '@') == NULL)
		return "[general]: support_address must be an address (local@domain)";
	const char *col = config->brand.colour;
	size_t cl = col != NULL ? strlen(col) : 0;
	if (col != NULL && (col[0] != '#' || (cl != 4 && cl != 7) || strspn(col + 1, "0123456789abcdefABCDEF") != cl - 1))
		return "[brand]: colour must be #rrggbb or #rgb";
	const char *logo = config->brand.logo_url;
	if (logo != NULL && (strncmp(logo, "https://", 8) != 0 || logo[8] == '\0' ||
			     strpbrk(logo, " \t\"'<>\\") != NULL))
		return "[brand]: logo_url must be an https:// URL (no quotes, brackets or blanks)";
	if (hours_parse_weekly(config->report.weekly, NULL, NULL) < 0)
		return errf("%s:%u: [report] weekly: \"%.20s\": expected DAY HH:MM (mon ... sun) or "
			    "off",
			    config->path, config_line(config, "report", NULL, "weekly"),
			    config->report.weekly);
	return NULL;
}

/* The next item of a list ("a, b; c d"): 1 with *start_r and *len_r. */
static int
list_item(const char **pp, const char **start_r, size_t *len_r)
{
	const char *p = *pp;
	p += strspn(p, ",; \t");
	if (*p == '\0')
		return 0;
	*start_r = p;
	*len_r = strcspn(p, ",; \t");
	*pp = p + *len_r;
	return 1;
}

const char *
config_check_references(const struct config *config)
{
	for (size_t q = 0; q < config->n_queues; q++) {
		const struct config_queue *cq = &config->queues[q];
		const char *p = cq->agents, *s;
		size_t n;
		while (p != NULL && list_item(&p, &s, &n)) {
			/* An agent by its section's NAME or its address (any case). */
			size_t a;
			for (a = 0; a < config->n_agents; a++) {
				const struct config_agent *ag = &config->agents[a];
				if ((strlen(ag->label) == n && strncasecmp(ag->label, s, n) == 0) ||
				    (ag->address != NULL && strlen(ag->address) == n &&
				     strncasecmp(ag->address, s, n) == 0))
					break;
			}
			if (a == config->n_agents)
				return errf("%s:%u: [queue %s] agents: no [agent %.*s] section", config->path,
					    config_line(config, "queue", cq->name, "agents"), cq->name,
					    (int)(n > 64 ? 64 : n), s);
		}
	}
	if (config->secrets.queue != NULL && *config->secrets.queue != '\0') {
		size_t q;
		for (q = 0; q < config->n_queues; q++)
			if (strcmp(config->queues[q].name, config->secrets.queue) == 0)
				break;
		if (q == config->n_queues)
			return errf("%s:%u: [secrets] queue: no [queue %.64s] section", config->path,
				    config_line(config, "secrets", NULL, "queue"), config->secrets.queue);
	}
	return NULL;
}

int
config_load(const char *path, struct config **config_r, const char **error_r)
{
	*config_r = NULL;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		*error_r = errf("%s: %s", path, strerror(errno));
		return -1;
	}
	char *dir;
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));

	struct parse_ctx ctx = { 0 };
	ctx.config = config_new(path, dir);
	ctx.fp = fp;
	free(dir);

	/* Debian's libinih exposes these as run-time settings, but reads at
	   most 200 bytes a line whatever ini_max_line says: reader() hands
	   longer values over itself. */
	ini_max_line = 4096;
	ini_use_stack = false;
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;

	int ret = ini_parse_stream(reader, &ctx, handler, &ctx);
	fclose(fp);
	free(ctx.cur_section_raw);
	free(ctx.stash);
	if (ret != 0 || ctx.error != NULL) {
		if (ctx.error != NULL)
			*error_r = errf("%s:%d: %s", path, ctx.error_line, ctx.error);
		else if (ret > 0)
			*error_r = errf("%s:%d: syntax error (expected [section] or key = value)",
					path, ret);
		else
			*error_r = errf("%s: cannot parse (%d)", path, ret);
		free(ctx.error);
		config_free(&ctx.config);
		return -1;
	}
	const char *why = config_validate(ctx.config);
	if (why != NULL) {
		*error_r = errf("%s: %s", path, why);
		config_free(&ctx.config);
		return -1;
	}
	config_finish_paths(ctx.config);
	if ((why = storeloc_finish(ctx.config)) != NULL) {
		*error_r = errf("%s:%s", path, why);
		config_free(&ctx.config);
		return -1;
	}
	*config_r = ctx.config;
	return 0;
}

void
config_free(struct config **configp)
{
	struct config *config = *configp;
	if (config == NULL)
		return;
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		if (!sec->repeatable) {
			section_free_strings(sec, section_base(config, sec));
			continue;
		}
		void **arrayp = (void **)((char *)config + sec->array_offset);
		size_t count = *(size_t *)((char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++) {
			void *item = (char *)*arrayp + k * sec->item_size;
			section_free_strings(sec, item);
			x_free((char *)item + sec->label_offset);
		}
		x_free(arrayp);
	}
	free(config->key_lines);
	if (config->store_location != NULL) {
		explicit_bzero(config->store_location, strlen(config->store_location));
		x_free(&config->store_location);
	}
	for (size_t i = 0; i < config->selfhelp.n_extra; i++) {
		free(config->selfhelp.extra[i].key);
		free(config->selfhelp.extra[i].value);
	}
	free(config->selfhelp.extra);
	free(config->path);
	free(config->dir);
	free(config);
	*configp = NULL;
}

void
config_print_keys(FILE *out)
{
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		for (size_t k = 0; k < sec->n_keys; k++) {
			const struct config_key *key = &sec->keys[k];
			fprintf(out, "%s%s.%s\t%s\t%s\t%s\n", sec->name, sec->repeatable ? " NAME" : "",
				key->name,
				key->type == CONFIG_ENUM ? key->enum_values : config_type_names[key->type],
				key->def != NULL ? key->def : "-", key->doc);
		}
	}
}

static void
print_section(const struct config_section *sec, const void *base, const char *label, FILE *out)
{
	if (label != NULL)
		fprintf(out, "\n[%s %s]\n", sec->name, label);
	else
		fprintf(out, "\n[%s]\n", sec->name);
	for (size_t k = 0; k < sec->n_keys; k++) {
		const struct config_key *key = &sec->keys[k];
		const void *field = (const char *)base + key->offset;
		switch (key->type) {
		case CONFIG_SECRET:
			if (*(char *const *)field != NULL)
				fprintf(out, "%s = <hidden>\n", key->name);
			break;
		case CONFIG_STRING:
		case CONFIG_PATH:
		case CONFIG_STATEPATH:
		case CONFIG_ENUM:
		case CONFIG_LIST:
			if (*(char *const *)field != NULL)
				fprintf(out, "%s = %s\n", key->name, *(char *const *)field);
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s = %s\n", key->name, *(const int *)field ? "yes" : "no");
			break;
		default:
			fprintf(out, "%s = %llu\n", key->name,
				(unsigned long long)*(const uint64_t *)field);
		}
	}
}

void
config_print(const struct config *config, FILE *out)
{
	fprintf(out, "# %s\n", config->path);
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		if (!sec->repeatable) {
			print_section(sec, (const char *)config + sec->struct_offset, NULL, out);
			if (sec->struct_offset == offsetof(struct config, selfhelp))
				for (size_t k = 0; k < config->selfhelp.n_extra; k++)
					fprintf(out, "%s = %s\n", config->selfhelp.extra[k].key,
						config->selfhelp.extra[k].value);
			continue;
		}
		const void *array = *(void *const *)((const char *)config + sec->array_offset);
		size_t count = *(const size_t *)((const char *)config + sec->count_offset);
		for (size_t k = 0; k < count; k++) {
			const void *item = (const char *)array + k * sec->item_size;
			print_section(sec, item, *(char *const *)((const char *)item + sec->label_offset),
				      out);
		}
	}
}

static void
write_section_template(FILE *out, const struct config_section *sec, const char *label)
{
	if (label != NULL)
		fprintf(out, "\n# [%s %s]\n", sec->name, label);
	else
		fprintf(out, "\n[%s]\n", sec->name);
	for (size_t k = 0; k < sec->n_keys; k++) {
		const struct config_key *key = &sec->keys[k];
		fprintf(out, "# %s\n", key->doc);
		if (key->type == CONFIG_ENUM)
			fprintf(out, "# (one of: %s)\n", key->enum_values);
		fprintf(out, "#%s = %s\n", key->name, key->def != NULL ? key->def : "");
	}
}

void
config_write_template(FILE *out, const char *state_dir, const char *support_address,
		      const char *hostname)
{
	fprintf(out, "# deskgate.conf: written by `deskgate init`. See deskgate.conf(5).\n"
		     "# Every key is listed with its default, commented out; uncomment to change.\n"
		     "# Relative paths are relative to this file's directory.\n");
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct config_section *sec = &config_sections[i];
		if (sec->repeatable) {
			fprintf(out, "\n# Repeatable section: one [%s NAME] per %s.", sec->name, sec->name);
			write_section_template(out, sec, "NAME");
			continue;
		}
		if (strcmp(sec->name, "general") == 0) {
			fprintf(out, "\n[general]\nstate_dir = %s\n", state_dir);
			if (support_address != NULL)
				fprintf(out, "support_address = %s\n", support_address);
			if (hostname != NULL)
				fprintf(out, "hostname = %s\n", hostname);
			for (size_t k = 0; k < sec->n_keys; k++) {
				const struct config_key *key = &sec->keys[k];
				if (strcmp(key->name, "state_dir") == 0 ||
				    (support_address != NULL && strcmp(key->name, "support_address") == 0) ||
				    (hostname != NULL && strcmp(key->name, "hostname") == 0))
					continue;
				fprintf(out, "# %s\n#%s = %s\n", key->doc, key->name,
					key->def != NULL ? key->def : "");
			}
			continue;
		}
		write_section_template(out, sec, NULL);
	}
}

char *
config_data_path(const char *name)
{
	/* DESKGATE_DATADIR: a colon-separated list of directories searched
	   before the installed data, so that a build tree runs uninstalled
	   (the tests and the demo set it to the source tree). */
	const char *env = getenv("DESKGATE_DATADIR");
	if (env != NULL && *env != '\0') {
		char *list = xstrdup(env);
		char *save = NULL;
		for (char *d = strtok_r(list, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
			char *path = xasprintf("%s/%s", d, name);
			struct stat st;
			if (stat(path, &st) == 0) {
				free(list);
				return path;
			}
			free(path);
		}
		free(list);
	}
	return xasprintf("%s/%s", PKGDATADIR, name);
}
