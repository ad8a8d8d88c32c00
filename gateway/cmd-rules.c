/*
 * deskgate rules check|test|eval|replay|reload: the admin's tools for the
 * classification rules (deskgate-rules(5)).
 *
 *   check [FILES]        compile the configured rules (or FILES); every
 *                        error names file:line (and the PCRE2 offset)
 *   test MESSAGE.eml     which rules fire on one message, what they
 *                        matched, and the result; --json
 *   eval DATA            precision/recall/F1 per category, macro-F1 and the
 *                        confusion matrix over a labelled set; --json
 *   replay [--since D]   re-classify stored tickets without writing and
 *                        list what would change
 *   suggest              candidate patterns from the agents' corrections
 *                        (suggest.h); eval --from-store scores the rules
 *                        against the agents' labels (label.h)
 *   reload               check the rules, then send SIGHUP to the daemon
 *
 * JSON is written by hand here (a few flat objects): jansson belongs to
 * another module, and these writers need only string escaping.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "gateway/cli.h"
#include "gateway/cmd-rules.h"
#include "gateway/confusion.h"
#include "gateway/jsonout.h"
#include "gateway/label.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "parsers/csv.h"
#include "parsers/mime.h"
#include "base/file.h"
#include "base/util.h"

#define EVAL_MAX_FILE (512 * 1024 * 1024)


static void
rules_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] rules COMMAND [OPTIONS]\n\n"
		"Commands (`deskgate rules COMMAND --help` for each):\n"
		"  check [FILES]          compile the rules; errors name file:line\n"
		"  test MESSAGE.eml       show the rules that fire on a message and the result\n"
		"  eval DATA              precision, recall and F1 over a labelled set\n"
		"  eval --from-store      the same against the agents' #category labels\n"
		"  suggest                candidate patterns from the agents' corrections\n"
		"  replay [--since DATE]  re-classify stored tickets, list what would change\n"
		"  reload                 check the rules, then make the daemon reload them\n\n"
		"Every command but reload takes --rules PATH (a file or directory, repeatable)\n"
		"instead of the configured [rules] dir. See deskgate-rules(5).\n");
}

/* ---- common -------------------------------------------------------------- */

static void
opts_add_path(struct rules_opts *o, const char *path)
{
	o->paths = xreallocarray(o->paths, o->n_paths + 1, sizeof(*o->paths));
	o->paths[o->n_paths++] = path;
}

void
cmd_rules_opts_clear(struct rules_opts *o)
{
	free(o->paths);
	memset(o, 0, sizeof(*o));
}

/* Parse argv (argv[0] is the subcommand) into *o: -1 to go on, else the
   exit status to return (0 after --help, EXIT_USAGE). */
int
cmd_rules_opts_parse(const struct rules_cmd *cmd, int argc, char **argv, struct rules_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(cmd->help, stdout);
			cmd_rules_opts_clear(o);
			return 0;
		}
		if (cmd->json && strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (cmd->rules && strcmp(a, "--rules") == 0 && i + 1 < argc) {
			opts_add_path(o, argv[++i]);
			continue;
		}
		const struct rules_opt *opt = cmd->opts;
		while (opt != NULL && opt->name != NULL &&
		       (strcmp(a, opt->name) != 0 || (opt->arg != NULL && i + 1 >= argc)))
			opt++;
		if (opt != NULL && opt->name != NULL) {
			if (opt->flag != NULL)
				*opt->flag = 1;
			else
				*opt->arg = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "deskgate rules %s: unknown option %s\n", cmd->name,
				log_safe(a, 40));
			cmd_rules_opts_clear(o);
			return EXIT_USAGE;
		}
		if (cmd->args_are_rules) {
			opts_add_path(o, a);
		} else if (o->n_args < cmd->max_args && o->n_args < N_ELEMENTS(o->args)) {
			o->args[o->n_args++] = a;
		} else {
			fprintf(stderr, "%s", cmd->usage);
			cmd_rules_opts_clear(o);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* A number option (--errors N); -1 after printing why. */
int
cmd_rules_opt_number(const struct rules_cmd *cmd, const char *name, const char *value, uint64_t max,
	   uint64_t *value_r)
{
	if (value == NULL)
		return 0;
	if (str_to_u64(value, max, value_r) < 0) {
		fprintf(stderr, "deskgate rules %s: %s takes a number\n", cmd->name, name);
		return -1;
	}
	return 0;
}

/* The configuration: the one named by -c, else the default file when it
   exists, else NULL: built-in defaults (so that `rules check FILE` and
   `rules eval` work without a configured gateway). */
static struct config *
load_config_optional(void)
{
	if (cli_global.config_path != NULL || access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return cli_config();
	return NULL;
}

static void
print_error_line(void *context, const char *error)
{
	(void)context;
	fprintf(stderr, "%s\n", error);
}

/* Load the rules: --rules paths, else the configured directory. On error,
   print every error and return -1. */
int
cmd_rules_load(const struct config *config, const struct rules_opts *o, struct rules **rules_r,
	   int print_all)
{
	struct rules_options options;
	const char *error;
	if (config != NULL)
		rules_options_from_config(&options, config);
	else
		rules_options_default(&options);
	if (print_all)
		options.on_error = print_error_line;
	/* Without a configuration: the installed rules (or the first of
	   $DESKGATE_DATADIR that has them). */
	char *data = config != NULL ? NULL : config_data_path("rules.d");
	const char *dir = config != NULL ? config->rules.dir : data;
	const char *const *paths = o->n_paths > 0 ? o->paths : &dir;
	size_t n = o->n_paths > 0 ? o->n_paths : 1;
	int ret = rules_load(paths, n, &options, rules_r, &error);
	free(data);
	if (ret < 0) {
		if (!print_all)
			fprintf(stderr, "deskgate: %s\n", error);
		return -1;
	}
	return 0;
}

/* Read a whole file into memory, at most max bytes ("-" is standard input). */
static unsigned char *
read_file(const char *path, size_t max, size_t *len_r, const char **error_r)
{
	char *data = NULL;
	int ret = file_read(path, max, &data, len_r, error_r);
	if (ret == 0)
		*error_r = errf("%s: %s", path, strerror(ENOENT));
	return ret > 0 ? (unsigned char *)data : NULL;
}

/* The configured limits, or mime's defaults without a configuration. */
static void
mime_limits_from_config(struct mime_limits *l, const struct config *config)
{
	if (config == NULL)
		mime_limits_default(l);
	else
		ingest_mime_limits(config, l);
}

/* ---- JSON and text output -------------------------------------------------- */


/* Text for a terminal: control characters shown as spaces, cut to max. */
static void
print_clean(FILE *out, const char *s, size_t max)
{
	fputs(log_safe(s, max), out);
}

/* ---- check --------------------------------------------------------------- */

static int
rules_check(int argc, char **argv)
{
	int list = 0;
	const struct rules_opt opts[] = { { "--list", &list, NULL }, { NULL, NULL, NULL } };
	const struct rules_cmd cmd = {
		.name = "check",
		.help = "usage: deskgate rules check [--list] [FILE|DIR...]\n\n"
			"Compile the rules: the configured [rules] dir, or the files and\n"
			"directories given. Every error is printed as FILE:LINE: why (with the\n"
			"PCRE2 error offset for a bad pattern). --list prints each rule's name.\n"
			"Exit 0 when everything compiles, 78 otherwise.\n",
		.rules = 1,
		.args_are_rules = 1,
		.opts = opts,
	};
	struct rules_opts o;
	int r = cmd_rules_opts_parse(&cmd, argc, argv, &o);
	if (r >= 0)
		return r;
	struct config *config = load_config_optional();
	struct rules *rules;
	int ret = 0;
	if (cmd_rules_load(config, &o, &rules, 1) < 0) {
		fprintf(stderr, "deskgate: rules check: failed\n");
		ret = EXIT_CONFIG;
	} else {
		if (list)
			for (size_t i = 0; i < rules_count(rules); i++)
				printf("%s\n", rules_name(rules, i));
		printf("%zu rules ok (PCRE2 JIT: %s)\n", rules_count(rules),
		       rules_jit(rules) ? "yes, on first use" : "no, interpreter");
		rules_free(&rules);
	}
	config_free(&config);
	cmd_rules_opts_clear(&o);
	return ret;
}

/* ---- test ---------------------------------------------------------------- */

static void
print_result_json(FILE *out, const char *source, const struct rules_result *res)
{
	struct jsonout *o = jsonout_object(), *a, *m;
	jsonout_set_str(o, "source", source);
	jsonout_set_str(o, "category", res->category);
	jsonout_set_str(o, "priority", res->priority);
	jsonout_set_str(o, "queue", res->queue);
	a = jsonout_array();
	for (size_t i = 0; i < res->n_tags; i++)
		jsonout_append(a, jsonout_str(res->tags[i]));
	jsonout_set(o, "tags", a);
	m = jsonout_object();
	for (size_t i = 0; i < res->n_fields; i++)
		jsonout_set_str(m, res->fields[i].name, res->fields[i].value);
	jsonout_set(o, "fields", m);
	jsonout_set_bool(o, "no_ack", res->no_ack);
	jsonout_set_bool(o, "spam", res->spam);
	jsonout_set_str(o, "stopped_by", res->stopped_by);
	m = jsonout_object();
	for (size_t i = 0; i < res->n_scores; i++)
		jsonout_set_int(m, res->scores[i].category, res->scores[i].score);
	jsonout_set(o, "scores", m);
	a = jsonout_array();
	for (size_t i = 0; i < res->n_hits; i++) {
		const struct rules_hit *h = &res->hits[i];
		struct jsonout *jh = jsonout_object(), *jm = jsonout_array();
		jsonout_set_str(jh, "rule", h->rule);
		jsonout_set_str(jh, "file", h->file);
		jsonout_set_int(jh, "line", h->line);
		jsonout_set_str(jh, "category", h->category);
		jsonout_set_int(jh, "weight", h->weight);
		for (size_t k = 0; k < h->n_matches; k++) {
			const struct rules_match *mt = &h->matches[k];
			struct jsonout *x = jsonout_object(), *caps = jsonout_object();
			jsonout_set_str(x, "target", mt->target);
			jsonout_set_str(x, "text", mt->text);
			jsonout_set_str(x, "before", mt->before);
			jsonout_set_str(x, "after", mt->after);
			for (size_t c = 0; c < mt->n_captures; c++)
				jsonout_set_str(caps, mt->captures[c].name, mt->captures[c].value);
			jsonout_set(x, "captures", caps);
			jsonout_append(jm, x);
		}
		jsonout_set(jh, "matches", jm);
		jsonout_append(a, jh);
	}
	jsonout_set(o, "hits", a);
	a = jsonout_array();
	for (size_t i = 0; i < res->n_limit_hits; i++) {
		struct jsonout *x = jsonout_object();
		jsonout_set_str(x, "rule", res->limit_hits[i].rule);
		jsonout_set_str(x, "target", res->limit_hits[i].target);
		jsonout_set_str(x, "why", res->limit_hits[i].why);
		jsonout_append(a, x);
	}
	jsonout_set(o, "limit_hits", a);
	jsonout_print(o, out);
	jsonout_free(&o);
}

static void
print_result_text(FILE *out, const struct rules_result *res)
{
	fprintf(out, "rules fired: %zu\n", res->n_hits);
	for (size_t i = 0; i < res->n_hits; i++) {
		const struct rules_hit *h = &res->hits[i];
		fprintf(out, "  %s (%s:%u)", h->rule, h->file, h->line);
		if (h->category != NULL)
			fprintf(out, " => %s %+d", h->category, h->weight);
		fputc('\n', out);
		for (size_t k = 0; k < h->n_matches; k++) {
			const struct rules_match *m = &h->matches[k];
			fprintf(out, "      %s: ...", m->target);
			print_clean(out, m->before, 120);
			fputs("[[", out);
			print_clean(out, m->text, 240);
			fputs("]]", out);
			print_clean(out, m->after, 120);
			fputs("...\n", out);
			for (size_t c = 0; c < m->n_captures; c++) {
				fprintf(out, "        capture %s = ", m->captures[c].name);
				print_clean(out, m->captures[c].value, 240);
				fputc('\n', out);
			}
		}
	}
	for (size_t i = 0; i < res->n_limit_hits; i++)
		fprintf(out, "  LIMIT: rule %s on %s: %s (counted as no match)\n", res->limit_hits[i].rule,
			res->limit_hits[i].target, res->limit_hits[i].why);
	if (res->n_scores > 0) {
		fputs("scores:", out);
		for (size_t i = 0; i < res->n_scores; i++)
			fprintf(out, " %s=%d", res->scores[i].category, res->scores[i].score);
		fputc('\n', out);
	}
	if (res->stopped_by != NULL)
		fprintf(out, "stopped by: %s\n", res->stopped_by);
	fprintf(out, "category: %s\npriority: %s\nqueue: %s\n", res->category, res->priority,
		res->queue != NULL ? res->queue : "(default)");
	fputs("tags:", out);
	for (size_t i = 0; i < res->n_tags; i++)
		fprintf(out, " %s", res->tags[i]);
	fputs("\nfields:\n", out);
	for (size_t i = 0; i < res->n_fields; i++) {
		fprintf(out, "  %s = ", res->fields[i].name);
		print_clean(out, res->fields[i].value, 240);
		fprintf(out, "  (rule %s", res->fields[i].rule);
		if (res->fields[i].normal != NULL)
			fprintf(out, "; read as %s", res->fields[i].normal);
		fputs(")\n", out);
	}
	fprintf(out, "acknowledgement: %s\nspam: %s\n", res->no_ack ? "suppressed" : "yes",
		res->spam ? "yes (quarantine)" : "no");
}

static int
rules_test(int argc, char **argv)
{
	const char *text = NULL, *subject = NULL, *mailbox = NULL;
	const struct rules_opt opts[] = {
		{ "--mailbox", NULL, &mailbox },
		{ "--text", NULL, &text },
		{ "--subject", NULL, &subject },
		{ NULL, NULL, NULL },
	};
	const struct rules_cmd cmd = {
		.name = "test",
		.help = "usage: deskgate rules test [--rules PATH] [--mailbox NAME] [--json] MESSAGE.eml|-\n"
			"       deskgate rules test [--rules PATH] [--json] [--subject S] --text TEXT\n\n"
			"Classify one message (or a text) and show each rule that fired, the\n"
			"text it matched with context ([[...]]), the named captures, limits hit,\n"
			"the category scores and the final category, priority, queue, tags,\n"
			"fields and flags. Nothing is written.\n",
		.json = 1,
		.rules = 1,
		.max_args = 1,
		.usage = "deskgate rules test: one message at a time\n",
		.opts = opts,
	};
	struct rules_opts o;
	int r = cmd_rules_opts_parse(&cmd, argc, argv, &o);
	if (r >= 0)
		return r;
	const char *file = o.n_args > 0 ? o.args[0] : NULL;
	if ((file == NULL) == (text == NULL)) {
		fprintf(stderr, "usage: deskgate rules test [OPTIONS] MESSAGE.eml|- (or --text TEXT)\n");
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	struct config *config = load_config_optional();
	struct rules *rules;
	if (cmd_rules_load(config, &o, &rules, 0) < 0) {
		config_free(&config);
		cmd_rules_opts_clear(&o);
		return EXIT_CONFIG;
	}
	int ret = 0;
	struct rules_result *res = NULL;
	if (text != NULL) {
		struct rules_input in;
		rules_input_text(&in, subject, text);
		in.mailbox = mailbox;
		rules_classify(rules, &in, &res);
	} else {
		const char *error;
		size_t len;
		struct mime_limits limits;
		struct mime_message *msg = NULL;
		mime_limits_from_config(&limits, config);
		unsigned char *raw = read_file(file, limits.max_message_size, &len, &error);
		if (raw == NULL) {
			fprintf(stderr, "deskgate: %s\n", error);
			ret = EXIT_NOINPUT;
			goto out;
		}
		if (mime_parse(raw, len, &limits, &msg, &error) < 0) {
			fprintf(stderr, "deskgate: %s: would be quarantined: %s\n", file, error);
			if (msg == NULL) {
				free(raw);
				ret = EXIT_DATAERR;
				goto out;
			}
		}
		struct rules_input *in = rules_input_from_mime(msg, mailbox);
		rules_classify(rules, in, &res);
		rules_input_free(&in);
		if (!o.json) {
			printf("message: %s\nsubject: ", file);
			print_clean(stdout, msg->subject != NULL ? msg->subject : "", 200);
			printf("\nfrom: %s\n", msg->from.address != NULL ? msg->from.address : "(none)");
		}
		mime_message_free(&msg);
		free(raw);
	}
	if (o.json)
		print_result_json(stdout, file != NULL ? file : "--text", res);
	else
		print_result_text(stdout, res);
	rules_result_free(&res);
out:
	rules_free(&rules);
	config_free(&config);
	cmd_rules_opts_clear(&o);
	return ret;
}

/* ---- eval ---------------------------------------------------------------- */

struct eval_stats {
	struct confusion *confusion;
	size_t skipped;
	size_t limit_hits;
	size_t errors_to_show;
	size_t errors_shown;
};

static int
eval_one(struct eval_stats *st, struct rules *rules, const struct rules_input *in,
	 const char *gold, const char *shown)
{
	struct rules_result *res;
	rules_classify(rules, in, &res);
	if (confusion_add(st->confusion, gold, res->category) < 0) {
		fprintf(stderr, "deskgate: more than %d categories\n", CONFUSION_MAX_CATEGORIES);
		rules_result_free(&res);
		return -1;
	}
	st->limit_hits += res->n_limit_hits;
	if (strcmp(gold, res->category) != 0 && st->errors_shown < st->errors_to_show) {
		st->errors_shown++;
		printf("MISS %s -> %s:", gold, res->category);
		for (size_t i = 0; i < res->n_hits; i++)
			printf(" %s", res->hits[i].rule);
		printf(" | ");
		print_clean(stdout, shown, 300);
		putchar('\n');
	}
	rules_result_free(&res);
	return 0;
}

struct mapping {
	char **from;
	char **to;
	size_t n;
};

static void
mapping_free(struct mapping *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->from[i]);
		free(m->to[i]);
	}
	free(m->from);
	free(m->to);
}

/* Fields of a TSV line (or CSV when the line has no tab), in place. */
static size_t
split_line(char *line, char **fields, size_t max)
{
	char sep = strchr(line, '\t') != NULL ? '\t' : ',';
	size_t n = 0;
	char *p = line;
	while (n < max) {
		fields[n++] = p;
		char *s = strchr(p, sep);
		if (s == NULL)
			break;
		*s = '\0';
		p = s + 1;
	}
	for (size_t i = 0; i < n; i++)
		str_trim(fields[i]);
	return n;
}

/* A mapping file: "label<TAB>category[<TAB>...]" per line; '#' comments;
   a first line naming a "gateway_category" or "category" column is a
   header that says which column holds the category. */
static int
mapping_load(const char *path, struct mapping *m)
{
	const char *error;
	size_t len;
	char *data = (char *)read_file(path, 16 * 1024 * 1024, &len, &error);
	if (data == NULL) {
		fprintf(stderr, "deskgate: %s\n", error);
		return -1;
	}
	size_t col = 1;
	unsigned int lineno = 0;
	char *save = data;
	while (save != NULL && *save != '\0') {
		char *line = save;
		char *nl = strchr(line, '\n');
		if (nl != NULL) {
			*nl = '\0';
			save = nl + 1;
		} else {
			save = NULL;
		}
		lineno++;
		size_t ll = strlen(line);
		if (ll > 0 && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *f[64];
		size_t nf = split_line(line, f, N_ELEMENTS(f));
		if (lineno == 1) {
			int header = 0;
			for (size_t i = 1; i < nf; i++) {
				if (strcmp(f[i], "gateway_category") == 0 || strcmp(f[i], "category") == 0) {
					col = i;
					header = 1;
					break;
				}
			}
			if (header)
				continue;
		}
		if (nf <= col || f[col][0] == '\0') {
			fprintf(stderr, "deskgate: %s:%u: expected LABEL<TAB>CATEGORY\n", path, lineno);
			free(data);
			return -1;
		}
		m->from = xreallocarray(m->from, m->n + 1, sizeof(*m->from));
		m->to = xreallocarray(m->to, m->n + 1, sizeof(*m->to));
		m->from[m->n] = xstrdup(f[0]);
		m->to[m->n] = xstrdup(f[col]);
		m->n++;
	}
	free(data);
	return 0;
}

static const char *
mapping_get(const struct mapping *m, const char *label)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->from[i], label) == 0)
			return m->to[i];
	return NULL;
}

static int
eval_csv(struct eval_stats *st, struct rules *rules, const char *path, const struct mapping *map)
{
	static const char *const text_names[] = { "text", NULL };
	static const char *const label_names[] = { "label", "category", "intent", NULL };
	const char *error;
	size_t len;
	char *data = (char *)read_file(path, EVAL_MAX_FILE, &len, &error);
	if (data == NULL) {
		fprintf(stderr, "deskgate: %s\n", error);
		return EXIT_NOINPUT;
	}
	struct csv_reader rd;
	struct csv_record rec = { 0 };
	csv_reader_init(&rd, data, len, EVAL_MAX_FILE);
	int r = csv_next(&rd, &rec, &error);
	int text_col = r != 0 ? csv_column(&rec, text_names) : -1;
	int label_col = r != 0 ? csv_column(&rec, label_names) : -1;
	if (text_col < 0)
		text_col = 0;
	if (label_col < 0)
		label_col = 1;
	int ret = 0;
	while (ret == 0 && (r = csv_next(&rd, &rec, &error)) != 0) {
		if (r < 0) {
			fprintf(stderr, "deskgate: %s: record %u: %s\n", path, rd.record, error);
			ret = EXIT_DATAERR;
		} else if (csv_record_blank(&rec)) {
			/* blank line */
		} else if (rec.n <= (size_t)text_col || rec.n <= (size_t)label_col) {
			fprintf(stderr, "deskgate: %s: record %u: expected text,label\n", path, rd.record);
			ret = EXIT_DATAERR;
		} else {
			const char *label = rec.fields[label_col], *gold = label;
			if (map->n > 0 && (gold = mapping_get(map, label)) == NULL) {
				fprintf(stderr, "deskgate: %s: record %u: label \"%s\" is not in the mapping\n",
					path, rd.record, log_safe(label, 80));
				ret = EXIT_DATAERR;
			} else {
				struct rules_input in;
				rules_input_text(&in, NULL, rec.fields[text_col]);
				if (eval_one(st, rules, &in, gold, rec.fields[text_col]) < 0)
					ret = EXIT_DATAERR;
			}
		}
	}
	csv_record_clear(&rec);
	free(data);
	return ret;
}

static int
eval_dir(struct eval_stats *st, struct rules *rules, const char *path, const struct mapping *map,
	 const struct config *config)
{
	struct mime_limits limits;
	mime_limits_from_config(&limits, config);
	DIR *d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "deskgate: %s: %s\n", path, strerror(errno));
		return EXIT_NOINPUT;
	}
	struct dirent *de;
	int ret = 0;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", path, de->d_name);
		struct stat sst;
		if (stat(sub, &sst) < 0 || !S_ISDIR(sst.st_mode)) {
			free(sub);
			continue;
		}
		const char *gold = de->d_name;
		if (map->n > 0 && (gold = mapping_get(map, de->d_name)) == NULL) {
			fprintf(stderr, "deskgate: %s: label \"%s\" is not in the mapping\n", path,
				log_safe(de->d_name, 80));
			free(sub);
			ret = EXIT_DATAERR;
			break;
		}
		DIR *sd = opendir(sub);
		struct dirent *fe;
		while (sd != NULL && ret == 0 && (fe = readdir(sd)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			char *file = xasprintf("%s/%s", sub, fe->d_name);
			struct stat fst;
			const char *error;
			size_t len;
			unsigned char *raw;
			if (stat(file, &fst) < 0 || !S_ISREG(fst.st_mode) ||
			    (raw = read_file(file, limits.max_message_size, &len, &error)) == NULL) {
				st->skipped++;
				free(file);
				continue;
			}
			struct mime_message *msg = NULL;
			if (mime_parse(raw, len, &limits, &msg, &error) < 0 && msg == NULL) {
				st->skipped++;
			} else {
				struct rules_input *in = rules_input_from_mime(msg, NULL);
				if (eval_one(st, rules, in, gold, file) < 0)
					ret = EXIT_DATAERR;
				rules_input_free(&in);
			}
			mime_message_free(&msg);
			free(raw);
			free(file);
		}
		if (sd != NULL)
			closedir(sd);
		free(sub);
	}
	closedir(d);
	return ret;
}

static void
eval_report(const struct eval_stats *st, int json, double seconds, size_t n_rules)
{
	const struct confusion *c = st->confusion;
	size_t n = confusion_size(c), rows = confusion_rows(c), labelled;
	double macro = confusion_macro_f1(c, &labelled);
	if (json) {
		struct jsonout *o = confusion_json(c);
		jsonout_print(o, stdout);
		jsonout_free(&o);
		return;
	}
	printf("%zu rows, %zu rules, %.2f s (%.0f rows/s)", rows, n_rules, seconds,
	       seconds > 0 ? (double)rows / seconds : 0.0);
	if (st->skipped > 0)
		printf(", %zu unreadable skipped", st->skipped);
	if (st->limit_hits > 0)
		printf(", %zu pattern limit hits", st->limit_hits);
	printf("\n\n%-20s %9s %9s %9s %9s %9s\n", "category", "precision", "recall", "f1", "support",
	       "predicted");
	for (size_t i = 0; i < n; i++) {
		struct confusion_metrics m;
		confusion_metrics(c, i, &m);
		printf("%-20s %9.3f %9.3f %9.3f %9zu %9zu%s\n", confusion_name(c, i), m.precision,
		       m.recall, m.f1, m.support, m.predicted,
		       m.support == 0 ? "  (not a label: left out of macro-F1)" : "");
	}
	printf("\nmacro-F1 over %zu labelled categories: %.3f\naccuracy: %.3f\n", labelled, macro,
	       confusion_accuracy(c));
	printf("\nconfusion matrix (rows: label, columns: predicted)\n%-20s", "");
	for (size_t j = 0; j < n; j++)
		printf(" %10.10s", confusion_name(c, j));
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		printf("%-20.20s", confusion_name(c, i));
		for (size_t j = 0; j < n; j++)
			printf(" %10zu", confusion_count(c, i, j));
		putchar('\n');
	}
}

/* rules eval --from-store: the agents' labels as the labelled set. */
static int
eval_from_store(struct rules_opts *o, int64_t since, size_t show)
{
	struct config *config;
	struct store *store;
	struct rules *rules;
	struct label_example *ex = NULL;
	size_t n = 0;
	const char *error;
	int ret = 0;
	cli_open(&config, &store);
	struct eval_stats st = { .confusion = confusion_new(), .errors_to_show = show };
	if (cmd_rules_load(config, o, &rules, 0) < 0) {
		ret = EXIT_CONFIG;
	} else if (label_examples_load(store, since, &ex, &n, &error) < 0) {
		log_error("cannot read the labelled examples: %s", error);
		ret = EXIT_TEMPFAIL;
	} else if (n == 0) {
		fprintf(stderr, "deskgate: no ticket has a category set by an agent (#category)%s\n",
			since != 0 ? " since then" : "");
		ret = EXIT_DATAERR;
	} else {
		double t0 = clock_mono();
		for (size_t i = 0; i < n && ret == 0; i++) {
			struct rules_input in;
			rules_input_text(&in, ex[i].subject, ex[i].text);
			if (eval_one(&st, rules, &in, ex[i].label, ex[i].text) < 0)
				ret = EXIT_DATAERR;
		}
		if (ret == 0)
			eval_report(&st, o->json, clock_mono() - t0, rules_count(rules));
	}
	label_examples_free(&ex, n);
	confusion_free(&st.confusion);
	rules_free(&rules);
	store_close(&store);
	config_free(&config);
	cmd_rules_opts_clear(o);
	return ret;
}

static int
rules_eval(int argc, char **argv)
{
	const char *mapping = NULL, *errors = NULL, *since_arg = NULL;
	int from_store = 0;
	const struct rules_opt opts[] = {
		{ "--mapping", NULL, &mapping },
		{ "--errors", NULL, &errors },
		{ "--from-store", &from_store, NULL },
		{ "--since", NULL, &since_arg },
		{ NULL, NULL, NULL },
	};
	const struct rules_cmd cmd = {
		.name = "eval",
		.help = "usage: deskgate rules eval [--rules PATH] [--mapping FILE] [--json]\n"
			"                           [--errors N] DATA\n"
			"       deskgate rules eval [--rules PATH] [--json] [--errors N] --from-store\n"
			"                           [--since DATE]\n\n"
			"Run the rules over a labelled set and print precision, recall, F1 and\n"
			"support per category, the macro-F1 (the mean F1 of the categories that\n"
			"occur as labels) and the confusion matrix (rows: label, columns:\n"
			"predicted). DATA is either a directory with one sub-directory of\n"
			"messages (.eml) per label, or a CSV file with a header line and the\n"
			"columns text and label (or category, intent; else the first two).\n"
			"--mapping FILE maps the data's labels onto categories: one\n"
			"LABEL<TAB>CATEGORY per line; a header line naming a gateway_category\n"
			"(or category) column picks that column. --errors N prints the first N\n"
			"misclassified rows with the rules that fired. --json prints\n"
			"{\"per_category\": {NAME: {\"precision\", \"recall\", \"f1\", \"support\"}},\n"
			" \"macro_f1\", \"confusion\": {LABEL: {PREDICTED: COUNT}}}.\n"
			"--from-store takes the labelled set from the store: every ticket whose\n"
			"category an agent set with #category, labelled with the agent's latest\n"
			"category (--since DATE: labels given since then).\n",
		.json = 1,
		.rules = 1,
		.max_args = 1,
		.usage = "deskgate rules eval: one DATA at a time\n",
		.opts = opts,
	};
	struct rules_opts o;
	uint64_t show = 0;
	int r = cmd_rules_opts_parse(&cmd, argc, argv, &o);
	if (r >= 0)
		return r;
	if (cmd_rules_opt_number(&cmd, "--errors", errors, 1000000, &show) < 0) {
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	const char *data = o.n_args > 0 ? o.args[0] : NULL;
	int64_t since = 0;
	if ((data == NULL) == !from_store || (from_store && mapping != NULL) ||
	    (since_arg != NULL && (!from_store || cmd_rules_parse_since(since_arg, &since) < 0))) {
		fprintf(stderr, "usage: deskgate rules eval [OPTIONS] DATA | --from-store [--since DATE]\n");
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	if (from_store)
		return eval_from_store(&o, since, (size_t)show);
	struct config *config = load_config_optional();
	struct mapping map = { 0 };
	struct rules *rules = NULL;
	struct eval_stats *st = xcalloc(1, sizeof(*st));
	st->confusion = confusion_new();
	st->errors_to_show = (size_t)show;
	int ret;
	if (mapping != NULL && mapping_load(mapping, &map) < 0) {
		ret = EXIT_NOINPUT;
		goto out;
	}
	if (cmd_rules_load(config, &o, &rules, 0) < 0) {
		ret = EXIT_CONFIG;
		goto out;
	}
	struct stat sst;
	if (stat(data, &sst) < 0) {
		fprintf(stderr, "deskgate: %s: %s\n", data, strerror(errno));
		ret = EXIT_NOINPUT;
		goto out;
	}
	double t0 = clock_mono();
	ret = S_ISDIR(sst.st_mode) ? eval_dir(st, rules, data, &map, config)
				   : eval_csv(st, rules, data, &map);
	double t1 = clock_mono();
	if (ret == 0) {
		if (confusion_rows(st->confusion) == 0) {
			fprintf(stderr, "deskgate: %s: no labelled rows\n", data);
			ret = EXIT_DATAERR;
		} else {
			eval_report(st, o.json, t1 - t0, rules_count(rules));
		}
	}
out:
	confusion_free(&st->confusion);
	free(st);
	mapping_free(&map);
	rules_free(&rules);
	config_free(&config);
	cmd_rules_opts_clear(&o);
	return ret;
}

/* ---- replay --------------------------------------------------------------- */

static int
parse_digits(const char **pp, size_t n, int *value_r)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (*pp)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*pp += n;
	*value_r = v;
	return 0;
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" or "...THH:MM[:SS]" (UTC), or an
   age such as "7d", "12h" (config_parse_duration units). */
int
cmd_rules_parse_since(const char *s, int64_t *since_r)
{
	uint64_t age;
	if (config_parse_duration(s, &age) == 0 && strchr(s, '-') == NULL) {
		*since_r = (int64_t)time(NULL) - (int64_t)age;
		return 0;
	}
	struct tm tm = { 0 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0;
	if (parse_digits(&p, 4, &y) < 0 || *p++ != '-' || parse_digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || parse_digits(&p, 2, &d) < 0)
		return -1;
	if (*p == ' ' || *p == 'T') {
		p++;
		if (parse_digits(&p, 2, &h) < 0 || *p++ != ':' || parse_digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':' && (p++, parse_digits(&p, 2, &se) < 0))
			return -1;
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*since_r = (int64_t)timegm(&tm);
	return 0;
}

/* Split "Name <a@b>, c@d" into addresses (borrowed pointers into a copy). */
static size_t
split_addresses(char *list, const char **out, size_t max)
{
	size_t n = 0;
	char *p = list;
	int quoted = 0;
	char *start = p;
	for (;; p++) {
		if (*p == '"')
			quoted = !quoted;
		if ((*p == ',' && !quoted) || *p == '\0') {
			int last = *p == '\0';
			*p = '\0';
			char *lt = strrchr(start, '<');
			char *addr = start;
			if (lt != NULL) {
				addr = lt + 1;
				char *gt = strchr(addr, '>');
				if (gt != NULL)
					*gt = '\0';
			}
			addr = str_trim(addr);
			if (*addr != '\0' && strchr(addr, '@') != NULL && n < max)
				out[n++] = addr;
			if (last)
				break;
			start = p + 1;
		}
	}
	return n;
}

struct transition {
	char *what;
	size_t count;
};

static void
count_transition(struct transition **t, size_t *n, const char *what)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*t)[i].what, what) == 0) {
			(*t)[i].count++;
			return;
		}
	}
	*t = xreallocarray(*t, *n + 1, sizeof(**t));
	(*t)[*n].what = xstrdup(what);
	(*t)[*n].count = 1;
	(*n)++;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Copy s[0..n) into out[size] when it fits. */
static int
copy_word(char *out, size_t size, const char *s, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* An agent's change, "#priority by ann@x: priority high -> normal": the
   field and the value before it. */
static int
agent_change(const char *detail, char *field, size_t fsize, char *old, size_t osize)
{
	const char *p = strstr(detail, ": ");
	if (detail[0] != '#' || p == NULL)
		return -1;
	p += 2;
	size_t n = strcspn(p, " ");
	if (copy_word(field, fsize, p, n) < 0 || p[n] != ' ')
		return -1;
	p += n + 1;
	const char *arrow = strstr(p, " -> ");
	if (arrow == NULL || copy_word(old, osize, p, (size_t)(arrow - p)) < 0)
		return -1;
	if (strcmp(old, "(none)") == 0)
		old[0] = '\0';
	return 0;
}

/* What the rules decided when ticket t was classified: 1 from the
   "classified" event ingest records; 0 for a ticket stored before that
   event existed, rebuilt from its events: each field as it was before
   the first agent's change to it, the category of the "created" event,
   and no queue when the queue came from [queue] routing; -1 on a store
   error. */
static int
old_verdict(struct store *store, const struct store_ticket *t, struct rules_verdict *v,
	    const char **error_r)
{
	struct store_event *ev;
	size_t n;
	if (store_event_list(store, t->id, &ev, &n, error_r) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		if (strcmp(ev[i].kind, "classified") == 0 && ev[i].detail != NULL &&
		    rules_verdict_parse(ev[i].detail, v) == 0)
			ret = 1;
	if (ret == 0) {
		snprintf(v->category, sizeof(v->category), "%s", t->category ? t->category : "");
		snprintf(v->priority, sizeof(v->priority), "%s", t->priority ? t->priority : "");
		snprintf(v->queue, sizeof(v->queue), "%s", t->queue ? t->queue : "");
		int undone[3] = { 0, 0, 0 };
		for (size_t i = 0; i < n; i++) {
			const char *d = ev[i].detail != NULL ? ev[i].detail : "";
			char field[32], old[RULES_VERDICT_NAME];
			const char *c;
			if (strcmp(ev[i].kind, "created") == 0 && (c = strstr(d, ", category ")) != NULL &&
			    !undone[0]) {
				snprintf(v->category, sizeof(v->category), "%s", c + 11);
				undone[0] = 1;
			} else if (strcmp(ev[i].kind, "notify") == 0 && strstr(d, "; queue ") != NULL &&
				   (ends_with(d, " (category)") || ends_with(d, " (VIP sender)")) &&
				   !undone[2]) {
				v->queue[0] = '\0'; /* routed by the configuration, not the rules */
				undone[2] = 1;
			} else if (strcmp(ev[i].kind, "agent") == 0 &&
				   agent_change(d, field, sizeof(field), old, sizeof(old)) == 0) {
				static const char *const fields[3] = { "category", "priority", "queue" };
				char *const dest[3] = { v->category, v->priority, v->queue };
				const size_t size[3] = { sizeof(v->category), sizeof(v->priority),
							 sizeof(v->queue) };
				for (int k = 0; k < 3; k++) {
					if (strcmp(field, fields[k]) == 0 && !undone[k]) {
						snprintf(dest[k], size[k], "%s", old);
						undone[k] = 1;
					}
				}
			}
		}
	}
	store_events_free(&ev, n);
	return ret;
}


/* Classify the first inbound message of a ticket: from its raw mail when
   the blob is there, else from the stored fields. */
static int
replay_ticket(struct store *store, struct rules *rules, const struct mime_limits *limits,
	      const struct store_ticket *t, struct rules_result **res_r, const char **error_r)
{
	struct store_message *msgs;
	const struct store_message *m;
	size_t n;
	*res_r = NULL;
	if (label_classified_message(store, t->id, &msgs, &n, &m, error_r) < 0)
		return -1;
	if (m == NULL) {
		store_messages_free(&msgs, n);
		return 0;
	}
	unsigned char *raw = NULL;
	size_t len = 0;
	struct mime_message *mime = NULL;
	const char *ignored;
	if (m->raw_sha256 != NULL &&
	    store_blob_get(store, STORE_BLOB_RAW, m->raw_sha256, &raw, &len, &ignored) == 0)
		mime_parse(raw, len, limits, &mime, &ignored);
	if (mime != NULL) {
		struct rules_input *in = rules_input_from_mime(mime, m->mailbox);
		rules_classify(rules, in, res_r);
		rules_input_free(&in);
	} else {
		char *to = xstrdup(m->to != NULL ? m->to : "");
		char *cc = xstrdup(m->cc != NULL ? m->cc : "");
		const char *tov[256], *ccv[256];
		struct rules_input in;
		rules_input_text(&in, m->subject, m->text);
		in.from = m->from_address;
		in.n_to = split_addresses(to, tov, N_ELEMENTS(tov));
		in.to = tov;
		in.n_cc = split_addresses(cc, ccv, N_ELEMENTS(ccv));
		in.cc = ccv;
		in.mailbox = m->mailbox;
		rules_classify(rules, &in, res_r);
		free(to);
		free(cc);
	}
	mime_message_free(&mime);
	free(raw);
	store_messages_free(&msgs, n);
	return 0;
}

static int
rules_replay(int argc, char **argv)
{
	const char *since_arg = NULL, *limit_arg = NULL;
	int all = 0;
	const struct rules_opt opts[] = {
		{ "--since", NULL, &since_arg },
		{ "--limit", NULL, &limit_arg },
		{ "--all", &all, NULL },
		{ NULL, NULL, NULL },
	};
	const struct rules_cmd cmd = {
		.name = "replay",
		.help = "usage: deskgate rules replay [--rules PATH] [--since DATE] [--limit N] [--all]\n\n"
			"Re-classify the first customer message of each stored ticket with the\n"
			"candidate rules (--rules, else the configured ones), write nothing, and\n"
			"list each ticket whose category, priority or queue would change, then\n"
			"the counts per change. The comparison is with what the rules decided\n"
			"when the ticket was classified, not with the ticket as agents have\n"
			"changed it since. DATE: YYYY-MM-DD[ HH:MM[:SS]] (UTC) or an age\n"
			"such as 7d or 12h; tickets created before it are left out. --limit N\n"
			"looks at the newest N tickets; --all lists unchanged tickets too.\n",
		.rules = 1,
		.usage = "deskgate rules replay: no arguments but options\n",
		.opts = opts,
	};
	struct rules_opts o;
	int64_t since = 0;
	uint64_t limit = 0;
	int r = cmd_rules_opts_parse(&cmd, argc, argv, &o);
	if (r >= 0)
		return r;
	if (since_arg != NULL && cmd_rules_parse_since(since_arg, &since) < 0) {
		fprintf(stderr, "deskgate rules replay: bad date \"%s\" (YYYY-MM-DD or 7d)\n",
			log_safe(since_arg, 40));
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	if (cmd_rules_opt_number(&cmd, "--limit", limit_arg, 100000000, &limit) < 0) {
		cmd_rules_opts_clear(&o);
		return EXIT_USAGE;
	}
	struct config *config;
	struct store *store;
	cli_open(&config, &store);
	struct rules *rules;
	if (cmd_rules_load(config, &o, &rules, 0) < 0) {
		store_close(&store);
		config_free(&config);
		cmd_rules_opts_clear(&o);
		return EXIT_CONFIG;
	}
	struct mime_limits limits;
	mime_limits_from_config(&limits, config);
	struct store_ticket *tickets = NULL;
	size_t n = 0;
	const char *error;
	int ret = 0;
	if (store_ticket_list(store, (size_t)limit, &tickets, &n, &error) < 0) {
		log_error("cannot list tickets: %s", error);
		ret = EXIT_TEMPFAIL;
		n = 0;
	}
	size_t seen = 0, changed = 0;
	struct transition *trans = NULL;
	size_t n_trans = 0;
	/* Oldest first reads better; the store lists newest first. */
	for (size_t k = n; k-- > 0;) {
		const struct store_ticket *t = &tickets[k];
		if (t->created_at < since)
			continue;
		struct rules_result *res;
		if (replay_ticket(store, rules, &limits, t, &res, &error) < 0) {
			log_error("ticket %lld: %s", (long long)t->id, error);
			ret = EXIT_TEMPFAIL;
			break;
		}
		if (res == NULL)
			continue;
		seen++;
		/* The rules' verdict then against theirs now: what agents
		   changed since is not a change of the rules. */
		struct rules_verdict was;
		if (old_verdict(store, t, &was, &error) < 0) {
			log_error("ticket %lld: %s", (long long)t->id, error);
			rules_result_free(&res);
			ret = EXIT_TEMPFAIL;
			break;
		}
		const char *now_queue = res->queue != NULL ? res->queue : "";
		int cat = strcmp(was.category, res->category) != 0;
		int pri = strcmp(was.priority, res->priority) != 0;
		int que = strcmp(was.queue, now_queue) != 0;
		const char *was_queue = was.queue[0] != '\0' ? was.queue : "(default)";
		const char *res_queue = res->queue != NULL ? res->queue : "(default)";
		if (cat || pri || que || all) {
			printf("ticket %lld:", (long long)t->id);
			if (cat)
				printf(" category %s -> %s", was.category[0] ? was.category : "-", res->category);
			if (pri)
				printf(" priority %s -> %s", was.priority[0] ? was.priority : "-", res->priority);
			if (que)
				printf(" queue %s -> %s", was_queue, res_queue);
			if (!cat && !pri && !que)
				printf(" unchanged (%s, %s)", res->category, res->priority);
			printf("  [");
			for (size_t i = 0; i < res->n_hits; i++)
				printf("%s%s", i > 0 ? " " : "", res->hits[i].rule);
			printf("]\n");
			for (size_t i = 0; i < res->n_limit_hits; i++)
				printf("  LIMIT: rule %s on %s: %s\n", res->limit_hits[i].rule,
				       res->limit_hits[i].target, res->limit_hits[i].why);
		}
		if (cat || pri || que) {
			changed++;
			char *what;
			if (cat)
				what = xasprintf("category %s -> %s", was.category[0] ? was.category : "-",
						 res->category);
			else if (pri)
				what = xasprintf("priority %s -> %s", was.priority[0] ? was.priority : "-",
						 res->priority);
			else
				what = xasprintf("queue %s -> %s", was_queue, res_queue);
			count_transition(&trans, &n_trans, what);
			free(what);
		}
		rules_result_free(&res);
	}
	printf("\n%zu tickets re-classified, %zu would change, nothing written\n", seen, changed);
	for (size_t i = 0; i < n_trans; i++) {
		printf("  %6zu  %s\n", trans[i].count, trans[i].what);
		free(trans[i].what);
	}
	free(trans);
	store_tickets_free(&tickets, n);
	rules_free(&rules);
	store_close(&store);
	config_free(&config);
	cmd_rules_opts_clear(&o);
	return ret;
}

/* ---- reload --------------------------------------------------------------- */

static int
rules_reload_cmd(int argc, char **argv)
{
	if (argc > 1 && cli_is_help(argv[1])) {
		printf("usage: deskgate [-c FILE] rules reload\n\n"
		       "Compile the configured rules; when they compile, send SIGHUP to the\n"
		       "running daemon (the pid in state_dir/deskgate.pid), which loads them\n"
		       "again and swaps them in between two messages. A file that does not\n"
		       "compile is reported here and nothing is signalled; the daemon would\n"
		       "keep its old rules anyway and log why. Exit 0 when signalled, 78 on a\n"
		       "rules error, 69 when no daemon runs.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: deskgate [-c FILE] rules reload\n");
		return EXIT_USAGE;
	}
	struct config *config = cli_config();
	struct rules_opts o = { 0 };
	struct rules *rules;
	if (cmd_rules_load(config, &o, &rules, 1) < 0) {
		fprintf(stderr, "deskgate: rules reload: the rules do not compile; nothing signalled\n");
		config_free(&config);
		return EXIT_CONFIG;
	}
	size_t count = rules_count(rules);
	rules_free(&rules);
	char *pidfile = xasprintf("%s/deskgate.pid", config->state_dir);
	const char *error;
	size_t len;
	char *data = (char *)read_file(pidfile, 64, &len, &error);
	int ret = 0;
	uint64_t pid = 0;
	if (data == NULL) {
		fprintf(stderr, "deskgate: no running daemon: %s\n", error);
		ret = EXIT_UNAVAILABLE;
	} else if (str_to_u64(str_trim(data), 4194304, &pid) < 0 || pid < 2) {
		fprintf(stderr, "deskgate: %s: not a process id\n", pidfile);
		ret = EXIT_UNAVAILABLE;
	} else if (kill((pid_t)pid, SIGHUP) < 0) {
		fprintf(stderr, "deskgate: cannot signal pid %llu (%s): %s\n", (unsigned long long)pid,
			pidfile, errno == ESRCH ? "no such process (stale pid file)" : strerror(errno));
		ret = EXIT_UNAVAILABLE;
	} else {
		printf("%zu rules ok; sent SIGHUP to deskgate (pid %llu), which reloads them and logs the result\n",
		       count, (unsigned long long)pid);
	}
	free(data);
	free(pidfile);
	config_free(&config);
	return ret;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		rules_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "check") == 0)
		return rules_check(argc - 1, argv + 1);
	if (strcmp(sub, "test") == 0)
		return rules_test(argc - 1, argv + 1);
	if (strcmp(sub, "eval") == 0)
		return rules_eval(argc - 1, argv + 1);
	if (strcmp(sub, "replay") == 0)
		return rules_replay(argc - 1, argv + 1);
	if (strcmp(sub, "reload") == 0)
		return rules_reload_cmd(argc - 1, argv + 1);
	if (strcmp(sub, "suggest") == 0)
		return cmd_rules_suggest(argc - 1, argv + 1);
	fprintf(stderr, "deskgate rules: unknown command \"%s\"\n", log_safe(sub, 40));
	rules_usage(stderr);
	return EXIT_USAGE;
}
