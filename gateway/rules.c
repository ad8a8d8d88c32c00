/*
 * rules: see rules.h; the language is documented in deskgate-rules(5).
 *
 * Hand-written here: the small lexer and recursive-descent parser of the
 * rules language (no maintained library parses our own language). PCRE2
 * does all the matching; parsers/quote.h takes quoted replies out of
 * `body`.
 */
#include "build-config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gateway/config.h"
#include "gateway/rules.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/strset.h"
#include "base/util.h"

/* Limits on what an admin's files can make us do at load time. */
#define RULES_MAX_FILE_SIZE (4 * 1024 * 1024)
#define RULES_MAX_RULES 10000
#define RULES_MAX_NAME 128
#define RULES_MAX_PATTERN 65536
#define RULES_MAX_NESTING 16
#define RULES_MAX_WEIGHT 1000
/* What a result keeps of a match. */
#define RULES_SNIPPET_MAX 200
#define RULES_CONTEXT_MAX 40
/* The JIT stack bounds recursion of JIT-compiled patterns the way
   depth_limit bounds the interpreter. */
#define RULES_JIT_STACK_START (32 * 1024)
#define RULES_JIT_STACK_MAX (1024 * 1024)

static const char *const priority_names[] = { "low", "normal", "high", "urgent" };
#define PRIORITY_NORMAL 1
#define PRIORITY_MAX 3

enum target_kind {
	T_SUBJECT,
	T_BODY,
	T_BODY_FULL,
	T_TEXT,
	T_FROM,
	T_TO,
	T_CC,
	T_HEADER,
	T_ATTACHMENT_NAME,
	T_ATTACHMENT_TYPE,
	T_MAILBOX,
};

static const char *const target_names[] = {
	"subject", "body", "body-full", "text", "from", "to", "cc", "header",
	"attachment-name", "attachment-type", "mailbox",
};

struct target {
	enum target_kind kind;
	char *header; /* T_HEADER */
	char *label;  /* for results: "subject", "header X-Foo" */
};

struct pf_set {
	uint32_t *ids; /* string ids in rules->strset */
	size_t n;
	uint32_t sid;  /* this set's number: found when one of its strings is */
};

struct pf_branch {
	struct pf_set *sets;
	size_t n;
};

struct pattern {
	pcre2_code *code;
	char *source;
	int jit; /* 0: not tried yet, 1: JIT-compiled, -1: interpreter */
	/* Prefilter (see below): a match needs, for one of the branches, a
	   string of each of its sets (ids in rules->strset); none: always run
	   PCRE2. */
	struct pf_branch *pf;
	size_t n_pf;
};

enum cond_kind { C_ALL, C_ANY, C_NOT, C_MATCH, C_EXISTS, C_VIP, C_ALWAYS };

struct cond {
	enum cond_kind kind;
	unsigned int line;
	struct cond **kids; /* C_ALL, C_ANY, C_NOT */
	size_t n_kids;
	struct target *targets; /* C_MATCH, C_EXISTS */
	size_t n_targets;
	struct pattern pat; /* C_MATCH */
};

struct rule {
	char *name;
	const char *file; /* points into rules->files */
	unsigned int line;
	struct cond *cond; /* C_ALL of the rule's conditions */
	char *category;
	int weight;
	int priority;	   /* -1: not set */
	int priority_raise;
	char *queue;
	char **tags;
	size_t n_tags;
	int extract;	   /* extract named captures */
	char **extract_names; /* empty: all */
	size_t n_extract_names;
	int no_ack, spam, stop;
};

struct vip {
	char **addresses;
	size_t n_addresses;
	char **domains;
	size_t n_domains;
};

struct rules {
	struct rule *rules;
	size_t n_rules;
	char **files;
	size_t n_files;
	int exclude_quotes;
	char *default_category;
	struct vip vip;
	uint32_t max_groups;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *md;
	struct strset *strset; /* the prefilter's strings */
	int no_prefilter;
	uint32_t n_sets;       /* prefilter sets of all patterns */
	uint32_t *pairs;       /* (string id, set id) pairs while loading */
	size_t n_pairs;
	uint32_t *str_first;   /* after loading: the sets of string i are */
	uint32_t *str_sets;    /* str_sets[str_first[i] .. str_first[i + 1]) */
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

static void pf_free(struct pattern *pat);

static void
cond_free(struct cond *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_kids; i++)
		cond_free(c->kids[i]);
	free(c->kids);
	for (size_t i = 0; i < c->n_targets; i++) {
		free(c->targets[i].header);
		free(c->targets[i].label);
	}
	free(c->targets);
	if (c->pat.code != NULL)
		pcre2_code_free(c->pat.code);
	free(c->pat.source);
	pf_free(&c->pat);
	free(c);
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
rule_clear(struct rule *r)
{
	free(r->name);
	cond_free(r->cond);
	free(r->category);
	free(r->queue);
	strv_free(r->tags, r->n_tags);
	strv_free(r->extract_names, r->n_extract_names);
	memset(r, 0, sizeof(*r));
}

void
rules_free(struct rules **rulesp)
{
	struct rules *rules = *rulesp;
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->n_rules; i++)
		rule_clear(&rules->rules[i]);
	free(rules->rules);
	strv_free(rules->files, rules->n_files);
	free(rules->default_category);
	strv_free(rules->vip.addresses, rules->vip.n_addresses);
	strv_free(rules->vip.domains, rules->vip.n_domains);
	if (rules->md != NULL)
		pcre2_match_data_free(rules->md);
	if (rules->mctx != NULL)
		pcre2_match_context_free(rules->mctx);
	if (rules->jit_stack != NULL)
		pcre2_jit_stack_free(rules->jit_stack);
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
	uint32_t jit = 0;
	(void)rules;
	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	return jit != 0;
}

const char *
rules_name(const struct rules *rules, size_t n)
{
	return n < rules->n_rules ? rules->rules[n].name : NULL;
}

/* ---- lexer -------------------------------------------------------------- */

enum tok_kind { TOK_EOF, TOK_NL, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_COMMA, TOK_SEMI, TOK_TILDE };

struct parser {
	struct rules *rules;
	const struct rules_options *options;
	const char *file;
	const char *p, *end;
	unsigned int line;
	/* the current token */
	enum tok_kind tok;
	char *text; /* TOK_WORD, TOK_STRING */
	unsigned int tok_line;
	/* errors */
	char *first_error;
	size_t n_errors;
};

static void
parser_error(struct parser *ps, unsigned int line, const char *fmt, ...) DG_ATTR_PRINTF(3, 4);

static void
parser_error(struct parser *ps, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = xvasprintf(fmt, ap);
	va_end(ap);
	/* Line 0: about the file as a whole. */
	char *msg = line > 0 ? xasprintf("%s:%u: %s", ps->file, line, why)
			     : xasprintf("%s: %s", ps->file, why);
	free(why);
	if (ps->options->on_error != NULL)
		ps->options->on_error(ps->options->on_error_context, msg);
	if (ps->first_error == NULL)
		ps->first_error = msg;
	else
		free(msg);
	ps->n_errors++;
}

static int
is_word_char(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return 0;
	return strchr("{}\",;~/", c) == NULL;
}

/* Scan the next token into ps->tok; -1 on a lexical error (reported). */
static int
lex_next(struct parser *ps)
{
	x_free(&ps->text);
	for (;;) {
		while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		break;
	}
	ps->tok_line = ps->line;
	if (ps->p >= ps->end) {
		ps->tok = TOK_EOF;
		return 0;
	}
	unsigned char c = (unsigned char)*ps->p;
	switch (c) {
	case '\n':
		ps->p++;
		ps->line++;
		ps->tok = TOK_NL;
		return 0;
	case '{':
		ps->p++;
		ps->tok = TOK_LBRACE;
		return 0;
	case '}':
		ps->p++;
		ps->tok = TOK_RBRACE;
		return 0;
	case ',':
		ps->p++;
		ps->tok = TOK_COMMA;
		return 0;
	case ';':
		ps->p++;
		ps->tok = TOK_SEMI;
		return 0;
	case '~':
		ps->p++;
		ps->tok = TOK_TILDE;
		return 0;
	case '"': {
		struct buf b;
		buf_init(&b, RULES_MAX_PATTERN);
		ps->p++;
		for (;;) {
			if (ps->p >= ps->end || *ps->p == '\n') {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "unterminated string");
				return -1;
			}
			char ch = *ps->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\\')) {
					buf_free(&b);
					parser_error(ps, ps->tok_line,
						     "in a string, only \\\" and \\\\ are escapes");
					return -1;
				}
				ch = *ps->p++;
			}
			if ((unsigned char)ch < 0x20) {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "control character in a string");
				return -1;
			}
			if (buf_putc(&b, (unsigned char)ch) < 0) {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "string too long");
				return -1;
			}
		}
		ps->text = buf_steal(&b, NULL);
		ps->tok = TOK_STRING;
		return 0;
	}
	case '/':
		parser_error(ps, ps->line, "unexpected \"/\" (a /pattern/ must follow \"~\")");
		return -1;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		parser_error(ps, ps->line, "unexpected control character 0x%02x", c);
		return -1;
	}
	const char *start = ps->p;
	while (ps->p < ps->end && is_word_char((unsigned char)*ps->p))
		ps->p++;
	ps->text = xstrndup(start, (size_t)(ps->p - start));
	ps->tok = TOK_WORD;
	return 0;
}

static int
tok_is(const struct parser *ps, const char *word)
{
	return ps->tok == TOK_WORD && strcmp(ps->text, word) == 0;
}

static const char *
tok_describe(const struct parser *ps)
{
	switch (ps->tok) {
	case TOK_EOF:
		return "end of file";
	case TOK_NL:
		return "end of line";
	case TOK_WORD:
		return errf("\"%.40s\"", ps->text);
	case TOK_STRING:
		return errf("string \"%.40s\"", ps->text);
	case TOK_LBRACE:
		return "\"{\"";
	case TOK_RBRACE:
		return "\"}\"";
	case TOK_COMMA:
		return "\",\"";
	case TOK_SEMI:
		return "\";\"";
	case TOK_TILDE:
		return "\"~\"";
	}
	return "?";
}

/* Where the lines of a multi-line pattern were joined: offsets in the
   joined source, to name the right line in a compile error. */
struct joins {
	size_t *at;
	size_t n;
};

/* Read a /pattern/flags right after "~" (the current token). A pattern
   may continue on the following lines: each line break and the blanks
   that indent the next line are left out, so that long alternations can
   be laid out one per line while spaces inside phrases still count. */
static int
lex_pattern(struct parser *ps, char **source_r, uint32_t *options_r, unsigned int *line_r,
	    struct joins *joins)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
	*line_r = ps->line;
	if (ps->p >= ps->end || *ps->p != '/') {
		parser_error(ps, ps->line, "expected a /pattern/ after \"~\"");
		return -1;
	}
	ps->p++;
	struct buf b;
	buf_init(&b, RULES_MAX_PATTERN);
	int too_long = 0;
	while (ps->p < ps->end && *ps->p != '/') {
		char c = *ps->p;
		if (c == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n' && ps->p[1] != '\r') {
			too_long |= buf_append(&b, ps->p, 2) < 0;
			ps->p += 2;
			continue;
		}
		if (c == '\\') {
			buf_free(&b);
			parser_error(ps, ps->line, "a pattern line cannot end with a backslash");
			return -1;
		}
		if (c == '\r') {
			ps->p++;
			continue;
		}
		if (c == '\n') {
			ps->line++;
			ps->p++;
			while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
				ps->p++;
			joins->at = xreallocarray(joins->at, joins->n + 1, sizeof(*joins->at));
			joins->at[joins->n++] = b.len;
			continue;
		}
		too_long |= buf_putc(&b, (unsigned char)c) < 0;
		ps->p++;
	}
	if (ps->p >= ps->end) {
		buf_free(&b);
		parser_error(ps, *line_r, "unterminated pattern (a \"/\" inside a pattern is written \\/)");
		return -1;
	}
	ps->p++;
	if (too_long) {
		buf_free(&b);
		parser_error(ps, *line_r, "pattern longer than %d bytes", RULES_MAX_PATTERN);
		return -1;
	}
	if (b.len == 0) {
		buf_free(&b);
		parser_error(ps, *line_r, "empty pattern");
		return -1;
	}
	uint32_t opts = PCRE2_CASELESS;
	while (ps->p < ps->end && isalpha((unsigned char)*ps->p)) {
		switch (*ps->p) {
		case 'c':
			opts &= ~(uint32_t)PCRE2_CASELESS;
			break;
		case 'i':
			opts |= PCRE2_CASELESS;
			break;
		case 'm':
			opts |= PCRE2_MULTILINE;
			break;
		case 's':
			opts |= PCRE2_DOTALL;
			break;
		case 'x':
			opts |= PCRE2_EXTENDED;
			break;
		default:
			buf_free(&b);
			parser_error(ps, ps->line, "unknown pattern flag \"%c\" (flags: c i m s x)", *ps->p);
			return -1;
		}
		ps->p++;
	}
	if (ps->p < ps->end && is_word_char((unsigned char)*ps->p)) {
		buf_free(&b);
		parser_error(ps, ps->line, "unexpected \"%c\" after a pattern", *ps->p);
		return -1;
	}
	*source_r = buf_steal(&b, NULL);
	*options_r = opts;
	return 0;
}

/* ---- parser ------------------------------------------------------------- */

static int
valid_name(const char *s, int allow_space)
{
	size_t len = strlen(s);
	if (len == 0 || len > RULES_MAX_NAME)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p == ':' || *p >= 0x80)
			continue;
		if (allow_space && *p == ' ' && p != (const unsigned char *)s && p[1] != '\0')
			continue;
		return 0;
	}
	return utf8_valid((const unsigned char *)s, len);
}

/* End of a statement: a newline or ";" (consumed) or "}" (left). */
static int
expect_end(struct parser *ps)
{
	if (ps->tok == TOK_NL || ps->tok == TOK_SEMI)
		return lex_next(ps);
	if (ps->tok == TOK_RBRACE || ps->tok == TOK_EOF)
		return 0;
	parser_error(ps, ps->tok_line, "expected the end of the statement, got %s", tok_describe(ps));
	return -1;
}

static int
skip_separators(struct parser *ps)
{
	while (ps->tok == TOK_NL || ps->tok == TOK_SEMI)
		if (lex_next(ps) < 0)
			return -1;
	return 0;
}

static void
cond_add_kid(struct cond *parent, struct cond *kid)
{
	parent->kids = xreallocarray(parent->kids, parent->n_kids + 1, sizeof(*parent->kids));
	parent->kids[parent->n_kids++] = kid;
}

static struct cond *
cond_new(enum cond_kind kind, unsigned int line)
{
	struct cond *c = xcalloc(1, sizeof(*c));
	c->kind = kind;
	c->line = line;
	return c;
}

static int
parse_target(struct parser *ps, struct cond *c)
{
	if (ps->tok != TOK_WORD) {
		parser_error(ps, ps->tok_line, "expected a condition, got %s", tok_describe(ps));
		return -1;
	}
	size_t k;
	for (k = 0; k < N_ELEMENTS(target_names); k++)
		if (strcmp(ps->text, target_names[k]) == 0)
			break;
	if (k == N_ELEMENTS(target_names)) {
		parser_error(ps, ps->tok_line,
			     "unknown condition or target %s (targets: subject body body-full text "
			     "from to cc header attachment-name attachment-type mailbox)",
			     tok_describe(ps));
		return -1;
	}
	struct target t = { .kind = (enum target_kind)k };
	if (lex_next(ps) < 0)
		return -1;
	if (t.kind == T_HEADER) {
		if ((ps->tok != TOK_WORD && ps->tok != TOK_STRING) || ps->text[0] == '\0') {
			parser_error(ps, ps->tok_line, "header needs a field name, e.g. header \"X-Priority\"");
			return -1;
		}
		for (const unsigned char *p = (const unsigned char *)ps->text; *p != '\0'; p++) {
			if (*p <= ' ' || *p >= 0x7f || *p == ':') {
				parser_error(ps, ps->tok_line, "invalid header field name %s",
					     tok_describe(ps));
				return -1;
			}
		}
		t.header = xstrdup(ps->text);
		t.label = xasprintf("header %s", ps->text);
		if (lex_next(ps) < 0) {
			free(t.header);
			free(t.label);
			return -1;
		}
	} else {
		t.label = xstrdup(target_names[k]);
	}
	c->targets = xreallocarray(c->targets, c->n_targets + 1, sizeof(*c->targets));
	c->targets[c->n_targets++] = t;
	return 0;
}

/* Backslash-escape every ASCII punctuation character so that a string is
   matched literally (PCRE2 treats "\" before any non-alphanumeric ASCII
   character as a literal). */
static char *
literal_pattern(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(len * 2 + 1);
	char *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x80 && !isalnum(*p))
			*o++ = '\\';
		*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

/* ---- prefilter ----------------------------------------------------------- */

/*
 * Before PCRE2 runs a pattern on a long target (subject, body, body-full,
 * text), the engine checks that the target contains strings that every
 * match of the pattern must contain. "(?:pending|stuck) (?:deposit|
 * withdrawal)" needs one of {pending, stuck} and one of {deposit,
 * withdrawal}; "a|b" needs what a needs or what b needs. So a pattern's
 * prefilter is an OR of branches, each an AND of sets, each an OR of
 * strings. All the strings of all patterns are found with one strset
 * (Aho-Corasick) pass over the case-folded target, and most patterns of a
 * large rule set are skipped without running.
 *
 * The strings come from a small reading of the pattern: literal runs
 * (small classes such as ['’] and optional pieces are expanded: "n['’]?t"
 * gives nt, n't, n’t), groups, alternation and quantifiers. Anything it
 * does not understand (inline options, \Q, back references, the x flag...)
 * leaves the pattern without a prefilter, which is always correct. Case
 * folding is ASCII plus the two non-ASCII characters that PCRE2 folds to
 * ASCII letters (U+212A KELVIN SIGN to k, U+017F LONG S to s); a literal
 * character outside ASCII is only kept when it has no case (CJK and the
 * like), so the check never rejects a text that the pattern would match.
 * tests/unit/test-rules.c compares results with and without it.
 */

#define LITS_MAX 64	/* a set with more strings is not worth it */
#define LITS_MIN_LEN 2	/* nor one with a string shorter than this */
#define CONJ_MAX 3	/* sets kept per branch */
#define DNF_MAX 32	/* branches per pattern */
#define LITS_MAX_DEPTH 100

struct litset {
	char **v; /* folded bytes, NUL-terminated */
	size_t *len;
	size_t n;
};

struct conj {
	struct litset *sets; /* all required */
	size_t n;
};

struct dnf {
	struct conj *c; /* any one suffices; n == 0: nothing known */
	size_t n;
};

struct litscan {
	const char *p, *end;
	int bail;
	int depth;
	char qkind; /* the last quantifier read: '?', '*', '+' or '{' */
};

static void
lits_free(struct litset *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

/* Append s (taken over); sets may hold duplicates, strset_add() merges
   them. */
static void
lits_take(struct litset *l, char *s, size_t len)
{
	if ((l->n & (l->n - 1)) == 0) { /* grow at powers of two */
		l->v = xreallocarray(l->v, l->n ? l->n * 2 : 1, sizeof(*l->v));
		l->len = xreallocarray(l->len, l->n ? l->n * 2 : 1, sizeof(*l->len));
	}
	l->v[l->n] = s;
	l->len[l->n] = len;
	l->n++;
}

static void
lits_add(struct litset *l, const char *s, size_t len)
{
	lits_take(l, xstrndup(s, len), len);
}

static size_t
lits_minlen(const struct litset *l)
{
	size_t m = SIZE_MAX;
	for (size_t i = 0; i < l->n; i++)
		if (l->len[i] < m)
			m = l->len[i];
	return l->n > 0 ? m : 0;
}

static int
lits_usable(const struct litset *l)
{
	return l->n > 0 && l->n <= LITS_MAX && lits_minlen(l) >= LITS_MIN_LEN;
}

/* a better than b: longer shortest string, then fewer strings. */
static int
lits_better(const struct litset *a, const struct litset *b)
{
	return lits_minlen(a) > lits_minlen(b) || (lits_minlen(a) == lits_minlen(b) && a->n < b->n);
}

/* Append s[0..len) to every string of a. */
static void
lits_append_all(struct litset *a, const char *s, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i < a->n; i++) {
		a->v[i] = xrealloc(a->v[i], a->len[i] + len + 1);
		memcpy(a->v[i] + a->len[i], s, len);
		a->len[i] += len;
		a->v[i][a->len[i]] = '\0';
	}
}

/* A literal character that no quantifier follows: it can wait in a
   pending buffer (flushed with lits_append_all()). */
static int
plain_next(const struct litscan *x)
{
	return x->p >= x->end || (*x->p != '?' && *x->p != '*' && *x->p != '+' &&
				  !(*x->p == '{' && x->p + 1 < x->end && isdigit((unsigned char)x->p[1])));
}

/* Every string of a followed by every string of b (a becomes the
   product); -1 (a unchanged) when it would hold more than LITS_MAX. */
static int
lits_product(struct litset *a, const struct litset *b)
{
	if (a->n * b->n > LITS_MAX)
		return -1;
	struct litset out = { 0 };
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < b->n; k++) {
			char *cat = xmalloc(a->len[i] + b->len[k] + 1);
			memcpy(cat, a->v[i], a->len[i]);
			memcpy(cat + a->len[i], b->v[k], b->len[k]);
			cat[a->len[i] + b->len[k]] = '\0';
			lits_take(&out, cat, a->len[i] + b->len[k]);
		}
	}
	lits_free(a);
	*a = out;
	return 0;
}

static void
conj_free(struct conj *c)
{
	for (size_t i = 0; i < c->n; i++)
		lits_free(&c->sets[i]);
	free(c->sets);
	memset(c, 0, sizeof(*c));
}

static void
dnf_free(struct dnf *d)
{
	for (size_t i = 0; i < d->n; i++)
		conj_free(&d->c[i]);
	free(d->c);
	memset(d, 0, sizeof(*d));
}

/* Add a required set to a branch (taken over, or freed when not usable);
   only the CONJ_MAX best are kept. */
static void
conj_add(struct conj *c, struct litset *set)
{
	if (!lits_usable(set)) {
		lits_free(set);
		return;
	}
	if (c->n < CONJ_MAX) {
		c->sets = xreallocarray(c->sets, c->n + 1, sizeof(*c->sets));
		c->sets[c->n++] = *set;
		memset(set, 0, sizeof(*set));
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < c->n; i++)
		if (lits_better(&c->sets[worst], &c->sets[i]))
			worst = i;
	if (lits_better(set, &c->sets[worst])) {
		lits_free(&c->sets[worst]);
		c->sets[worst] = *set;
		memset(set, 0, sizeof(*set));
	} else {
		lits_free(set);
	}
}

/* One set that a group's matches all need: the union of each branch's best
   set; n == 0 when some branch has none. */
static struct litset
dnf_collapse(const struct dnf *d)
{
	struct litset out = { 0 };
	for (size_t i = 0; i < d->n; i++) {
		const struct litset *best = NULL;
		for (size_t k = 0; k < d->c[i].n; k++)
			if (best == NULL || lits_better(&d->c[i].sets[k], best))
				best = &d->c[i].sets[k];
		if (best == NULL) {
			lits_free(&out);
			return out;
		}
		for (size_t k = 0; k < best->n; k++)
			lits_add(&out, best->v[k], best->len[k]);
	}
	if (out.n > LITS_MAX)
		lits_free(&out);
	return out;
}

/* A quantifier at x->p: consumed, 1 returned and *min_r set; 0 when none. */
static int
scan_quantifier(struct litscan *x, unsigned long *min_r)
{
	const char *p = x->p;
	if (p >= x->end)
		return 0;
	x->qkind = *p;
	if (*p == '?' || *p == '*' || *p == '+') {
		*min_r = *p == '+' ? 1 : 0;
		p++;
	} else if (*p == '{') {
		const char *q = p + 1;
		unsigned long min = 0;
		if (q >= x->end || *q < '0' || *q > '9')
			return 0; /* a literal "{" */
		while (q < x->end && *q >= '0' && *q <= '9' && min < 100000)
			min = min * 10 + (unsigned long)(*q++ - '0');
		if (q < x->end && *q == ',') {
			q++;
			while (q < x->end && *q >= '0' && *q <= '9')
				q++;
		}
		if (q >= x->end || *q != '}')
			return 0;
		*min_r = min;
		p = q + 1;
	} else {
		return 0;
	}
	if (p < x->end && (*p == '?' || *p == '+'))
		p++;
	x->p = p;
	return 1;
}

/* The code point of a UTF-8 sequence at p, with its length; -1 when invalid. */
static long
utf8_decode(const unsigned char *p, const unsigned char *end, size_t *len_r)
{
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || (size_t)(end - p) < n || !utf8_valid(p, n))
		return -1;
	long cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	*len_r = n;
	return cp;
}

/* Characters without case variants that literals may keep when matching is
   caseless: CJK, kana, hangul, general, CJK and full-width punctuation,
   full-width digits. */
static int
caseless_safe(long cp)
{
	return (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7af) ||
	       (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
	       (cp >= 0xff01 && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
	       (cp >= 0xff5b && cp <= 0xffef) || (cp >= 0x2000 && cp <= 0x206f);
}

/* One literal character at x->p (a plain or escaped character) into
   lit/len_r (folded). 1: literal; 0: a character that is not kept (a
   cased non-ASCII letter), consumed; -1: not a literal character (nothing
   consumed). */
static int
scan_literal(struct litscan *x, unsigned char *lit, size_t *len_r, int in_class)
{
	const unsigned char *p = (const unsigned char *)x->p, *end = (const unsigned char *)x->end;
	if (p >= end)
		return -1;
	int escaped = 0;
	if (*p == '\\') {
		if (p + 1 >= end)
			return -1;
		if (p[1] < 0x80 && isalnum(p[1])) {
			static const char from[] = "nrtfea", to[] = "\n\r\t\f\033\a";
			const char *k = strchr(from, p[1]);
			if (k == NULL)
				return -1;
			lit[0] = (unsigned char)to[k - from];
			*len_r = 1;
			x->p += 2;
			return 1;
		}
		p++;
		escaped = 1;
	} else if (!in_class && strchr("\\^$.[|()?*+", *p) != NULL) {
		return -1;
	} else if (in_class && (*p == ']' || *p == '[' || *p == '-' || *p == '^')) {
		return -1;
	}
	if (*p < 0x80) {
		if (!escaped && !in_class && *p == '{') {
			unsigned long dummy;
			struct litscan probe = *x;
			if (scan_quantifier(&probe, &dummy))
				return -1;
		}
		lit[0] = (unsigned char)tolower(*p);
		*len_r = 1;
		x->p = (const char *)p + 1;
		return 1;
	}
	size_t n;
	long cp = utf8_decode(p, end, &n);
	if (cp < 0)
		return -1;
	x->p = (const char *)p + n;
	if (!caseless_safe(cp))
		return 0;
	memcpy(lit, p, n);
	*len_r = n;
	return 1;
}

/* A small class of plain characters ("['’]", "[sz]") as a set; -1 (nothing
   consumed) for anything else. */
static int
scan_small_class(struct litscan *x, struct litset *out)
{
	struct litscan y = *x;
	if (y.p >= y.end || *y.p != '[')
		return -1;
	y.p++;
	struct litset set = { 0 };
	while (y.p < y.end && *y.p != ']') {
		unsigned char lit[4];
		size_t len;
		if (scan_literal(&y, lit, &len, 1) != 1 || set.n >= 4) {
			lits_free(&set);
			return -1;
		}
		int dup = 0;
		for (size_t i = 0; i < set.n; i++)
			if (set.len[i] == len && memcmp(set.v[i], lit, len) == 0)
				dup = 1;
		if (!dup)
			lits_add(&set, (const char *)lit, len);
	}
	if (y.p >= y.end || set.n == 0) {
		lits_free(&set);
		return -1;
	}
	y.p++;
	*x = y;
	*out = set;
	return 0;
}

static int scan_exact_alt(struct litscan *x, struct litset *out);

/* A sequence made only of literal characters, small classes, groups of
   such, and "?": its exact strings. -1 when it has anything else. */
static int
scan_exact_seq(struct litscan *x, struct litset *out)
{
	struct litset cur = { 0 };
	struct buf pend;
	buf_init(&pend, RULES_MAX_PATTERN);
	lits_add(&cur, "", 0);
	while (x->p < x->end && *x->p != '|' && *x->p != ')') {
		struct litset atom = { 0 };
		unsigned char lit[4];
		size_t len;
		int r = scan_literal(x, lit, &len, 0);
		if (r == 1 && plain_next(x)) {
			buf_append(&pend, lit, len);
			continue;
		}
		lits_append_all(&cur, (const char *)pend.data, pend.len);
		buf_reset(&pend);
		if (r == 1) {
			lits_add(&atom, (const char *)lit, len);
		} else if (r == 0) {
			goto fail;
		} else if (*x->p == '[') {
			if (scan_small_class(x, &atom) < 0)
				goto fail;
		} else if (*x->p == '(' && x->p + 2 < x->end && x->p[1] == '?' && x->p[2] == ':') {
			x->p += 3;
			if (++x->depth > LITS_MAX_DEPTH || scan_exact_alt(x, &atom) < 0 || x->p >= x->end ||
			    *x->p != ')')
				goto fail;
			x->depth--;
			x->p++;
		} else {
			goto fail;
		}
		if (x->p < x->end && *x->p == '?') {
			x->p++;
			if (x->p < x->end && (*x->p == '?' || *x->p == '+'))
				x->p++;
			lits_add(&atom, "", 0);
		} else if (x->p < x->end && (*x->p == '*' || *x->p == '+' || *x->p == '{')) {
			unsigned long dummy;
			struct litscan probe = *x;
			if (scan_quantifier(&probe, &dummy)) {
				lits_free(&atom);
				goto fail;
			}
		}
		int pr = lits_product(&cur, &atom);
		lits_free(&atom);
		if (pr < 0)
			goto fail;
	}
	lits_append_all(&cur, (const char *)pend.data, pend.len);
	buf_free(&pend);
	*out = cur;
	return 0;
fail:
	buf_free(&pend);
	lits_free(&cur);
	return -1;
}

static int
scan_exact_alt(struct litscan *x, struct litset *out)
{
	struct litset all = { 0 };
	for (;;) {
		struct litset s;
		if (scan_exact_seq(x, &s) < 0) {
			lits_free(&all);
			return -1;
		}
		for (size_t i = 0; i < s.n; i++)
			lits_add(&all, s.v[i], s.len[i]);
		lits_free(&s);
		if (all.n > LITS_MAX) {
			lits_free(&all);
			return -1;
		}
		if (x->p < x->end && *x->p == '|') {
			x->p++;
			continue;
		}
		break;
	}
	*out = all;
	return 0;
}

/* Skip a [...] class. */
static void
skip_class(struct litscan *x)
{
	const char *p = x->p + 1;
	if (p < x->end && *p == '^')
		p++;
	if (p < x->end && *p == ']')
		p++;
	while (p < x->end && *p != ']') {
		if (*p == '\\' && p + 1 < x->end) {
			p += 2;
			if ((p[-1] == 'p' || p[-1] == 'P') && p < x->end && *p == '{') {
				while (p < x->end && *p != '}')
					p++;
				p++;
			}
			continue;
		}
		if (*p == '[' && p + 1 < x->end && p[1] == ':') {
			const char *q = p + 2;
			while (q + 1 < x->end && !(q[0] == ':' && q[1] == ']'))
				q++;
			if (q + 1 < x->end) {
				p = q + 2;
				continue;
			}
		}
		p++;
	}
	if (p >= x->end)
		x->bail = 1;
	x->p = p + 1;
}

static struct dnf scan_alt(struct litscan *x);

/* Skip an escape that matches one character of a class, or is zero width:
   1 when it was one, 0 when not understood. */
static int
skip_class_escape(struct litscan *x)
{
	if (x->p + 1 >= x->end || x->p[0] != '\\')
		return 0;
	char d = x->p[1];
	if (strchr("bBAZzGdDwWsShHvVRX", d) != NULL && d != '\0') {
		x->p += 2;
		return 1;
	}
	if (d == 'N' && (x->p + 2 >= x->end || x->p[2] != '{')) {
		x->p += 2;
		return 1;
	}
	if (d == 'p' || d == 'P') {
		x->p += 2;
		if (x->p < x->end && *x->p == '{') {
			while (x->p < x->end && *x->p != '}')
				x->p++;
		}
		x->p++;
		return 1;
	}
	return 0;
}

static struct litset
lits_copy(const struct litset *l)
{
	struct litset out = { 0 };
	for (size_t i = 0; i < l->n; i++)
		lits_add(&out, l->v[i], l->len[i]);
	return out;
}

/* Whether the group whose body starts at p can be plain strings: no
   quantifier but "?", no escape but a literal one, no "." and no
   assertion, up to its ")". A cheap look before scan_exact_alt(). */
static int
group_may_be_exact(const char *p, const char *end)
{
	int depth = 0, in_class = 0;
	for (; p < end; p++) {
		char c = *p;
		if (c == '\\') {
			if (p + 1 < end && isalnum((unsigned char)p[1]) && strchr("nrtfea", p[1]) == NULL)
				return 0;
			p++;
			continue;
		}
		if (in_class) {
			if (c == ']')
				in_class = 0;
			else if (c == '-' || c == '^' || c == '[')
				return 0;
			continue;
		}
		switch (c) {
		case '[':
			in_class = 1;
			break;
		case '.':
		case '*':
		case '+':
		case '^':
		case '$':
			return 0;
		case '{':
			if (p + 1 < end && isdigit((unsigned char)p[1]))
				return 0;
			break;
		case '(':
			if (p + 2 >= end || p[1] != '?' || p[2] != ':')
				return 0;
			depth++;
			break;
		case ')':
			if (depth-- == 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* A sequence: the sets every match needs (an AND), or, when the sequence
   is mostly one alternation that no single set covers, that
   alternation's branches, each with the sequence's other sets added. */
static struct dnf
scan_seq(struct litscan *x)
{
	struct conj conj = { 0 };
	struct dnf alts = { 0 }; /* a group kept whole */
	struct litset cur = { 0 }; /* exact strings of the current run */
	struct buf pend;	   /* plain characters not yet appended to cur */
	buf_init(&pend, RULES_MAX_PATTERN);
	lits_add(&cur, "", 0);
	while (!x->bail && x->p < x->end && *x->p != '|' && *x->p != ')') {
		struct litset atom = { 0 };
		int exact = 0;
		struct dnf group = { 0 };
		int is_group = 0;
		unsigned char lit[4];
		size_t len;
		int r = scan_literal(x, lit, &len, 0);
		if (r == 1 && plain_next(x)) {
			buf_append(&pend, lit, len);
			continue;
		}
		lits_append_all(&cur, (const char *)pend.data, pend.len);
		buf_reset(&pend);
		if (r == 1) {
			lits_add(&atom, (const char *)lit, len);
			exact = 1;
		} else if (r == 0) {
			/* a cased non-ASCII letter: ends the run */
		} else if (*x->p == '[') {
			if (scan_small_class(x, &atom) == 0)
				exact = 1;
			else
				skip_class(x);
		} else if (*x->p == '\\') {
			if (!skip_class_escape(x)) {
				x->bail = 1; /* \x \o \c \Q \g \k \1 \K ...: not read here */
				break;
			}
		} else if (*x->p == '.' || *x->p == '^' || *x->p == '$') {
			x->p++;
		} else if (*x->p == '(') {
			const char *p = x->p + 1;
			int lookaround = 0;
			if (p < x->end && *p == '*') {
				x->bail = 1;
				break;
			}
			if (p < x->end && *p == '?') {
				p++;
				if (p < x->end && (*p == ':' || *p == '>' || *p == '|')) {
					p++;
				} else if (p < x->end && (*p == '=' || *p == '!')) {
					p++;
					lookaround = 1;
				} else if (p + 1 < x->end && *p == '<' && (p[1] == '=' || p[1] == '!')) {
					p += 2;
					lookaround = 1;
				} else if (p < x->end && (*p == '<' || *p == '\'' || *p == 'P')) {
					char close = *p == '\'' ? '\'' : '>';
					if (*p == 'P' && (p + 1 >= x->end || p[1] != '<')) {
						x->bail = 1;
						break;
					}
					p++;
					while (p < x->end && *p != close)
						p++;
					p++;
				} else if (p < x->end && *p == '#') {
					while (p < x->end && *p != ')')
						p++;
					x->p = p + 1;
					continue;
				} else {
					x->bail = 1; /* inline options, recursion, conditions */
					break;
				}
			}
			/* A group of plain strings extends the run. */
			struct litscan probe = { .p = p, .end = x->end, .depth = x->depth + 1 };
			if (!lookaround && probe.depth <= LITS_MAX_DEPTH && group_may_be_exact(p, x->end) &&
			    scan_exact_alt(&probe, &atom) == 0 && probe.p < x->end && *probe.p == ')') {
				x->p = probe.p + 1;
				exact = 1;
			} else {
				lits_free(&atom);
				x->p = p;
				if (++x->depth > LITS_MAX_DEPTH) {
					x->bail = 1;
					break;
				}
				group = scan_alt(x);
				x->depth--;
				if (x->bail || x->p >= x->end || *x->p != ')') {
					dnf_free(&group);
					x->bail = 1;
					break;
				}
				x->p++;
				if (lookaround)
					dnf_free(&group);
				else
					is_group = 1;
			}
		} else {
			x->bail = 1; /* a quantifier with nothing before it */
			break;
		}
		unsigned long min = 1;
		int quantified = scan_quantifier(x, &min);
		if (exact && !quantified) {
			if (lits_product(&cur, &atom) == 0) {
				lits_free(&atom);
				continue;
			}
			/* too many: close the run here and start again with atom */
			conj_add(&conj, &cur);
			cur = atom;
			continue;
		}
		if (exact && quantified && x->qkind == '?') {
			/* "x?" is x or nothing: the run goes on with both */
			lits_add(&atom, "", 0);
			if (lits_product(&cur, &atom) == 0) {
				lits_free(&atom);
				continue;
			}
			lits_free(&atom);
			conj_add(&conj, &cur);
			cur = (struct litset){ 0 };
			lits_add(&cur, "", 0);
			continue;
		}
		/* Anything else ends the run. */
		conj_add(&conj, &cur);
		cur = (struct litset){ 0 };
		lits_add(&cur, "", 0);
		if (exact && min >= 1)
			conj_add(&conj, &atom);
		else
			lits_free(&atom);
		if (is_group && min >= 1) {
			if (group.n == 1) {
				for (size_t i = 0; i < group.c[0].n; i++)
					conj_add(&conj, &group.c[0].sets[i]);
			} else {
				struct litset u = dnf_collapse(&group);
				if (u.n > 0) {
					conj_add(&conj, &u);
				} else if (alts.n == 0) {
					alts = group;
					memset(&group, 0, sizeof(group));
				}
			}
		}
		dnf_free(&group);
	}
	lits_append_all(&cur, (const char *)pend.data, pend.len);
	buf_free(&pend);
	conj_add(&conj, &cur);
	struct dnf out = { 0 };
	if (alts.n > 0) {
		for (size_t i = 0; i < alts.n; i++) {
			for (size_t k = 0; k < conj.n; k++) {
				struct litset copy = lits_copy(&conj.sets[k]);
				conj_add(&alts.c[i], &copy);
			}
		}
		conj_free(&conj);
		return alts;
	}
	if (conj.n > 0) {
		out.c = xcalloc(1, sizeof(*out.c));
		out.c[0] = conj;
		out.n = 1;
	} else {
		conj_free(&conj);
	}
	return out;
}

/* An alternation: what its matches need (an OR of ANDs). */
static struct dnf
scan_alt(struct litscan *x)
{
	struct dnf d = { 0 };
	int unknown = 0;
	for (;;) {
		struct dnf s = scan_seq(x);
		if (s.n == 0 || d.n + s.n > DNF_MAX) {
			unknown = 1;
		} else {
			d.c = xreallocarray(d.c, d.n + s.n, sizeof(*d.c));
			for (size_t i = 0; i < s.n; i++) {
				d.c[d.n++] = s.c[i];
				memset(&s.c[i], 0, sizeof(s.c[i]));
			}
		}
		dnf_free(&s);
		if (!x->bail && x->p < x->end && *x->p == '|') {
			x->p++;
			continue;
		}
		break;
	}
	if (unknown)
		dnf_free(&d);
	return d;
}

static void
pf_free(struct pattern *pat)
{
	for (size_t i = 0; i < pat->n_pf; i++) {
		for (size_t k = 0; k < pat->pf[i].n; k++)
			free(pat->pf[i].sets[k].ids);
		free(pat->pf[i].sets);
	}
	free(pat->pf);
	pat->pf = NULL;
	pat->n_pf = 0;
}

/* Give a compiled pattern its prefilter, if its source allows. */
static void
pattern_prefilter(struct rules *rules, struct pattern *pat, const char *source, uint32_t opts)
{
	if ((opts & PCRE2_EXTENDED) != 0)
		return;
	struct litscan x = { .p = source, .end = source + strlen(source) };
	struct dnf d = scan_alt(&x);
	if (x.bail || x.p != x.end || d.n == 0) {
		dnf_free(&d);
		return;
	}
	if (rules->strset == NULL)
		rules->strset = strset_new();
	pat->pf = xcalloc(d.n, sizeof(*pat->pf));
	pat->n_pf = d.n;
	for (size_t i = 0; i < d.n; i++) {
		struct pf_branch *br = &pat->pf[i];
		br->sets = xcalloc(d.c[i].n, sizeof(*br->sets));
		br->n = d.c[i].n;
		for (size_t k = 0; k < d.c[i].n; k++) {
			const struct litset *l = &d.c[i].sets[k];
			br->sets[k].ids = xcalloc(l->n, sizeof(*br->sets[k].ids));
			br->sets[k].n = l->n;
			br->sets[k].sid = rules->n_sets++;
			rules->pairs = xreallocarray(rules->pairs, (rules->n_pairs + l->n) * 2,
						     sizeof(*rules->pairs));
			for (size_t m = 0; m < l->n; m++) {
				uint32_t id = strset_add(rules->strset, (const unsigned char *)l->v[m],
							 l->len[m]);
				br->sets[k].ids[m] = id;
				rules->pairs[2 * rules->n_pairs] = id;
				rules->pairs[2 * rules->n_pairs + 1] = br->sets[k].sid;
				rules->n_pairs++;
			}
		}
	}
	dnf_free(&d);
}

/* Case-fold text for the prefilter (see above); caller frees. */
static unsigned char *
prefilter_fold(const char *s, size_t len, size_t *len_r)
{
	unsigned char *out = xmalloc(len + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c >= 'A' && c <= 'Z') {
			out[o++] = (unsigned char)(c + 32);
		} else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x84 && p[i + 2] == 0xaa) {
			out[o++] = 'k';
			i += 2;
		} else if (c == 0xc5 && i + 1 < len && p[i + 1] == 0xbf) {
			out[o++] = 's';
			i += 1;
		} else {
			out[o++] = c;
		}
	}
	*len_r = o;
	return out;
}

static int
compile_pattern(struct parser *ps, struct pattern *pat, const char *source, uint32_t opts,
		unsigned int line, const struct joins *joins, const char *rule_name)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	pcre2_set_max_pattern_length(cctx, RULES_MAX_PATTERN);
	pat->code = pcre2_compile((PCRE2_SPTR)source, strlen(source),
				  opts | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
					  PCRE2_NEVER_BACKSLASH_C,
				  &errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	if (pat->code == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		/* Name the line the offset is on in a multi-line pattern. */
		unsigned int at = line;
		for (size_t i = 0; joins != NULL && i < joins->n; i++)
			if (joins->at[i] <= erroff)
				at++;
		parser_error(ps, at, "rule %s: pattern error at offset %zu: %s", rule_name,
			     (size_t)erroff, (const char *)msg);
		return -1;
	}
	pat->source = xstrdup(source);
	/* JIT compiling is left to the first match (eval_match()): with the
	   prefilter, many patterns never run, and a one-message process
	   (`deskgate ingest` from an MTA) compiles only what it uses. */
	uint32_t groups = 0;
	pcre2_pattern_info(pat->code, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups + 1 > ps->rules->max_groups)
		ps->rules->max_groups = groups + 1;
	if (!ps->rules->no_prefilter)
		pattern_prefilter(ps->rules, pat, source, opts);
	return 0;
}

static struct cond *parse_condition(struct parser *ps, const char *rule_name, int depth);

/* "all { ... }" / "any { ... }": the current token is "{". */
static int
parse_block(struct parser *ps, struct cond *c, const char *rule_name, int depth)
{
	if (ps->tok != TOK_LBRACE) {
		parser_error(ps, ps->tok_line, "expected \"{\" after %s", c->kind == C_ALL ? "all" : "any");
		return -1;
	}
	if (lex_next(ps) < 0)
		return -1;
	for (;;) {
		if (skip_separators(ps) < 0)
			return -1;
		if (ps->tok == TOK_RBRACE)
			break;
		if (ps->tok == TOK_EOF) {
			parser_error(ps, c->line, "missing \"}\" for the block opened here");
			return -1;
		}
		struct cond *kid = parse_condition(ps, rule_name, depth + 1);
		if (kid == NULL)
			return -1;
		cond_add_kid(c, kid);
		if (expect_end(ps) < 0)
			return -1;
	}
	if (c->n_kids == 0) {
		parser_error(ps, c->line, "empty %s { } block", c->kind == C_ALL ? "all" : "any");
		return -1;
	}
	return lex_next(ps); /* past "}" */
}

static struct cond *
parse_condition(struct parser *ps, const char *rule_name, int depth)
{
	unsigned int line = ps->tok_line;
	if (depth > RULES_MAX_NESTING) {
		parser_error(ps, line, "conditions nested deeper than %d", RULES_MAX_NESTING);
		return NULL;
	}
	struct cond *c;
	if (tok_is(ps, "all") || tok_is(ps, "any")) {
		c = cond_new(tok_is(ps, "all") ? C_ALL : C_ANY, line);
		if (lex_next(ps) < 0 || parse_block(ps, c, rule_name, depth) < 0)
			goto fail;
		return c;
	}
	if (tok_is(ps, "not")) {
		c = cond_new(C_NOT, line);
		if (lex_next(ps) < 0)
			goto fail;
		struct cond *kid = parse_condition(ps, rule_name, depth + 1);
		if (kid == NULL)
			goto fail;
		cond_add_kid(c, kid);
		return c;
	}
	if (tok_is(ps, "vip") || tok_is(ps, "always")) {
		c = cond_new(tok_is(ps, "vip") ? C_VIP : C_ALWAYS, line);
		if (lex_next(ps) < 0)
			goto fail;
		return c;
	}
	c = cond_new(C_MATCH, line);
	if (parse_target(ps, c) < 0)
		goto fail;
	while (ps->tok == TOK_COMMA) {
		if (lex_next(ps) < 0 || parse_target(ps, c) < 0)
			goto fail;
	}
	if (ps->tok == TOK_TILDE) {
		char *source;
		uint32_t opts;
		unsigned int pline;
		struct joins joins = { 0 };
		if (lex_pattern(ps, &source, &opts, &pline, &joins) < 0) {
			free(joins.at);
			goto fail;
		}
		/* A bad pattern is reported but parsing goes on, so that
		   `rules check` lists every bad pattern at once. */
		if (compile_pattern(ps, &c->pat, source, opts, pline, &joins, rule_name) < 0)
			c->pat.source = NULL;
		free(joins.at);
		free(source);
		if (lex_next(ps) < 0)
			goto fail;
		return c;
	}
	if (tok_is(ps, "contains")) {
		if (lex_next(ps) < 0)
			goto fail;
		if (ps->tok != TOK_STRING || ps->text[0] == '\0') {
			parser_error(ps, ps->tok_line, "contains needs a non-empty \"string\"");
			goto fail;
		}
		char *source = literal_pattern(ps->text);
		int r = compile_pattern(ps, &c->pat, source, PCRE2_CASELESS, ps->tok_line, NULL,
					 rule_name);
		free(source);
		if (r < 0 || lex_next(ps) < 0)
			goto fail;
		return c;
	}
	if (tok_is(ps, "exists")) {
		c->kind = C_EXISTS;
		if (lex_next(ps) < 0)
			goto fail;
		return c;
	}
	parser_error(ps, ps->tok_line, "expected \"~ /pattern/\", \"contains\" or \"exists\", got %s",
		     tok_describe(ps));
fail:
	cond_free(c);
	return NULL;
}

static int
parse_int(const char *s, int min, int max, int *value_r)
{
	int neg = 0;
	uint64_t v;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (str_to_u64(s, (uint64_t)RULES_MAX_WEIGHT * 10, &v) < 0)
		return -1;
	long long x = neg ? -(long long)v : (long long)v;
	if (x < min || x > max)
		return -1;
	*value_r = (int)x;
	return 0;
}

static int
take_name(struct parser *ps, const char *what, char **name_r)
{
	if (ps->tok != TOK_WORD || !valid_name(ps->text, 0)) {
		parser_error(ps, ps->tok_line,
			     "%s needs a name (letters, digits, _ - . :), got %s", what,
			     tok_describe(ps));
		return -1;
	}
	/* *name_r changes only on success (a second `queue` replaces the
	   first; a lexer error after the name leaks nothing). */
	char *name = xstrdup(ps->text);
	int ret = lex_next(ps);
	if (ret < 0) {
		free(name);
		return ret;
	}
	free(*name_r);
	*name_r = name;
	return ret;
}

static int
at_statement_end(const struct parser *ps)
{
	return ps->tok == TOK_NL || ps->tok == TOK_SEMI || ps->tok == TOK_RBRACE ||
	       ps->tok == TOK_EOF;
}

/* 1: an action was parsed; 0: the current token is not an action; -1: error. */
static int
parse_action(struct parser *ps, struct rule *r)
{
	unsigned int line = ps->tok_line;
	if (tok_is(ps, "category")) {
		if (r->category != NULL) {
			parser_error(ps, line, "rule %s: only one category per rule", r->name);
			return -1;
		}
		if (lex_next(ps) < 0 || take_name(ps, "category", &r->category) < 0)
			return -1;
		r->weight = 1;
		if (ps->tok == TOK_WORD) {
			if (parse_int(ps->text, -RULES_MAX_WEIGHT, RULES_MAX_WEIGHT, &r->weight) < 0) {
				parser_error(ps, ps->tok_line, "category weight must be an integer from %d to %d",
					     -RULES_MAX_WEIGHT, RULES_MAX_WEIGHT);
				return -1;
			}
			if (lex_next(ps) < 0)
				return -1;
		}
		return 1;
	}
	if (tok_is(ps, "priority")) {
		if (lex_next(ps) < 0)
			return -1;
		if (ps->tok == TOK_WORD && (ps->text[0] == '+')) {
			int n;
			if (parse_int(ps->text, 1, PRIORITY_MAX, &n) < 0) {
				parser_error(ps, ps->tok_line, "priority +N: N must be 1 to %d", PRIORITY_MAX);
				return -1;
			}
			r->priority_raise += n;
			if (r->priority_raise > PRIORITY_MAX)
				r->priority_raise = PRIORITY_MAX;
			return lex_next(ps) < 0 ? -1 : 1;
		}
		for (int k = 0; k <= PRIORITY_MAX; k++) {
			if (tok_is(ps, priority_names[k])) {
				r->priority = k;
				return lex_next(ps) < 0 ? -1 : 1;
			}
		}
		parser_error(ps, ps->tok_line,
			     "priority must be low, normal, high, urgent or +N, got %s", tok_describe(ps));
		return -1;
	}
	if (tok_is(ps, "queue")) {
		if (r->queue != NULL) {
			parser_error(ps, line, "rule %s: only one queue per rule", r->name);
			return -1;
		}
		if (lex_next(ps) < 0 || take_name(ps, "queue", &r->queue) < 0)
			return -1;
		return 1;
	}
	if (tok_is(ps, "tag")) {
		if (lex_next(ps) < 0)
			return -1;
		if (at_statement_end(ps)) {
			parser_error(ps, line, "tag needs at least one name");
			return -1;
		}
		while (!at_statement_end(ps)) {
			char *tag = NULL;
			if (take_name(ps, "tag", &tag) < 0)
				return -1;
			r->tags = xreallocarray(r->tags, r->n_tags + 1, sizeof(*r->tags));
			r->tags[r->n_tags++] = tag;
		}
		return 1;
	}
	if (tok_is(ps, "extract")) {
		r->extract = 1;
		if (lex_next(ps) < 0)
			return -1;
		while (!at_statement_end(ps)) {
			if (ps->tok != TOK_WORD) {
				parser_error(ps, ps->tok_line, "extract takes capture group names, got %s",
					     tok_describe(ps));
				return -1;
			}
			r->extract_names = xreallocarray(r->extract_names, r->n_extract_names + 1,
							 sizeof(*r->extract_names));
			r->extract_names[r->n_extract_names++] = xstrdup(ps->text);
			if (lex_next(ps) < 0)
				return -1;
		}
		return 1;
	}
	if (tok_is(ps, "no-ack") || tok_is(ps, "spam") || tok_is(ps, "stop")) {
		if (tok_is(ps, "no-ack"))
			r->no_ack = 1;
		else if (tok_is(ps, "spam"))
			r->spam = 1;
		else
			r->stop = 1;
		return lex_next(ps) < 0 ? -1 : 1;
	}
	return 0;
}

/* Whether any pattern of the condition tree has a group called name (or,
   with name NULL, any named group). */
static int
cond_has_group(const struct cond *c, const char *name)
{
	if (c->kind == C_MATCH && c->pat.code != NULL) {
		uint32_t count = 0;
		pcre2_pattern_info(c->pat.code, PCRE2_INFO_NAMECOUNT, &count);
		if (name == NULL && count > 0)
			return 1;
		if (name != NULL && pcre2_substring_number_from_name(c->pat.code, (PCRE2_SPTR)name) >= 0)
			return 1;
	}
	for (size_t i = 0; i < c->n_kids; i++)
		if (c->kids[i]->kind != C_NOT && cond_has_group(c->kids[i], name))
			return 1;
	return 0;
}

static int
parse_rule(struct parser *ps, struct rule *r)
{
	r->file = ps->rules->files[ps->rules->n_files - 1];
	r->line = ps->tok_line;
	r->priority = -1;
	r->cond = cond_new(C_ALL, ps->tok_line);
	if (lex_next(ps) < 0)
		return -1;
	if ((ps->tok != TOK_WORD && ps->tok != TOK_STRING) || !valid_name(ps->text, 1)) {
		parser_error(ps, ps->tok_line,
			     "rule needs a name (letters, digits, _ - . :, at most %d bytes), got %s",
			     RULES_MAX_NAME, tok_describe(ps));
		return -1;
	}
	r->name = xstrdup(ps->text);
	if (lex_next(ps) < 0)
		return -1;
	while (ps->tok == TOK_NL)
		if (lex_next(ps) < 0)
			return -1;
	if (ps->tok != TOK_LBRACE) {
		parser_error(ps, ps->tok_line, "expected \"{\" after rule %s", r->name);
		return -1;
	}
	unsigned int open_line = ps->tok_line;
	if (lex_next(ps) < 0)
		return -1;
	size_t n_actions = 0;
	for (;;) {
		if (skip_separators(ps) < 0)
			return -1;
		if (ps->tok == TOK_RBRACE)
			break;
		if (ps->tok == TOK_EOF) {
			parser_error(ps, open_line, "rule %s: missing \"}\"", r->name);
			return -1;
		}
		if (tok_is(ps, "rule")) {
			parser_error(ps, ps->tok_line, "rule %s: missing \"}\" before the next rule", r->name);
			return -1;
		}
		int a = parse_action(ps, r);
		if (a < 0)
			return -1;
		if (a > 0) {
			n_actions++;
		} else {
			struct cond *c = parse_condition(ps, r->name, 1);
			if (c == NULL)
				return -1;
			cond_add_kid(r->cond, c);
		}
		if (expect_end(ps) < 0)
			return -1;
	}
	if (lex_next(ps) < 0)
		return -1;
	if (r->cond->n_kids == 0) {
		parser_error(ps, r->line, "rule %s has no condition (write `always` for a rule that always fires)",
			     r->name);
		return -1;
	}
	if (n_actions == 0) {
		parser_error(ps, r->line, "rule %s has no action", r->name);
		return -1;
	}
	if (r->extract) {
		if (r->n_extract_names == 0 && !cond_has_group(r->cond, NULL)) {
			parser_error(ps, r->line, "rule %s: extract, but no pattern has a named group (?<name>...)",
				     r->name);
			return -1;
		}
		for (size_t i = 0; i < r->n_extract_names; i++) {
			if (!cond_has_group(r->cond, r->extract_names[i])) {
				parser_error(ps, r->line, "rule %s: extract %s, but no pattern has a group (?<%s>...)",
					     r->name, r->extract_names[i], r->extract_names[i]);
				return -1;
			}
		}
	}
	return 0;
}

/* Parse one file's text into ps->rules. Returns -1 after a syntax error
   (the rest of the file is skipped); pattern errors are only counted. */
static int
parse_text(struct parser *ps, const char *file, const char *text, size_t len)
{
	struct rules *rules = ps->rules;
	rules->files = xreallocarray(rules->files, rules->n_files + 1, sizeof(*rules->files));
	rules->files[rules->n_files++] = xstrdup(file);
	ps->file = rules->files[rules->n_files - 1];
	ps->p = text;
	ps->end = text + len;
	ps->line = 1;
	if (memchr(text, '\0', len) != NULL) {
		parser_error(ps, 1, "the file contains a NUL byte");
		return -1;
	}
	if (!utf8_valid((const unsigned char *)text, len)) {
		unsigned int line = 1;
		for (size_t i = 0; i < len; i++) {
			size_t end = i;
			while (end < len && text[end] != '\n')
				end++;
			if (!utf8_valid((const unsigned char *)text + i, end - i))
				break;
			line++;
			i = end;
		}
		parser_error(ps, line, "not valid UTF-8");
		return -1;
	}
	if (lex_next(ps) < 0)
		return -1;
	for (;;) {
		if (skip_separators(ps) < 0)
			return -1;
		if (ps->tok == TOK_EOF)
			break;
		if (!tok_is(ps, "rule")) {
			parser_error(ps, ps->tok_line, "expected \"rule NAME {\", got %s", tok_describe(ps));
			return -1;
		}
		if (rules->n_rules >= RULES_MAX_RULES) {
			parser_error(ps, ps->tok_line, "more than %d rules", RULES_MAX_RULES);
			return -1;
		}
		rules->rules = xreallocarray(rules->rules, rules->n_rules + 1, sizeof(*rules->rules));
		struct rule *r = &rules->rules[rules->n_rules];
		memset(r, 0, sizeof(*r));
		int ret = parse_rule(ps, r);
		if (ret < 0) {
			rule_clear(r);
			return -1;
		}
		rules->n_rules++;
	}
	return 0;
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
	rules->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(rules->mctx, options->match_limit > 0 ? options->match_limit : 1);
	pcre2_set_depth_limit(rules->mctx, options->depth_limit > 0 ? options->depth_limit : 1);
	rules->jit_stack = pcre2_jit_stack_create(RULES_JIT_STACK_START, RULES_JIT_STACK_MAX, NULL);
	if (rules->jit_stack != NULL)
		pcre2_jit_stack_assign(rules->mctx, NULL, rules->jit_stack);
	rules->md = pcre2_match_data_create(rules->max_groups, NULL);
	if (rules->md == NULL) {
		fprintf(stderr, "deskgate: fatal: out of memory (PCRE2 match data)\n");
		abort();
	}
	if (rules->strset != NULL) {
		/* The sets each string belongs to, for marking found sets. */
		strset_compile(rules->strset);
		uint32_t n = strset_count(rules->strset);
		rules->str_first = xcalloc((size_t)n + 1, sizeof(*rules->str_first));
		rules->str_sets = xcalloc(rules->n_pairs + 1, sizeof(*rules->str_sets));
		for (size_t i = 0; i < rules->n_pairs; i++)
			rules->str_first[rules->pairs[2 * i] + 1]++;
		for (uint32_t i = 0; i < n; i++)
			rules->str_first[i + 1] += rules->str_first[i];
		uint32_t *fill = xcalloc((size_t)n + 1, sizeof(*fill));
		for (size_t i = 0; i < rules->n_pairs; i++) {
			uint32_t id = rules->pairs[2 * i];
			rules->str_sets[rules->str_first[id] + fill[id]++] = rules->pairs[2 * i + 1];
		}
		free(fill);
		x_free(&rules->pairs);
	}
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
	strv_free(names, n);
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

/* ---- input -------------------------------------------------------------- */

void
rules_input_text(struct rules_input *input, const char *subject, const char *body)
{
	memset(input, 0, sizeof(*input));
	input->subject = subject;
	input->body = body;
	input->body_len = body != NULL ? strlen(body) : 0;
}

struct input_priv {
	const char **to;
	const char **cc;
	struct rules_header *headers;
	struct rules_attachment *attachments;
};

static const char **
address_array(const struct mime_address_list *list, size_t *n_r)
{
	const char **v = xcalloc(list->count + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].address != NULL)
			v[n++] = list->items[i].address;
	*n_r = n;
	return v;
}

struct rules_input *
rules_input_from_mime(const struct mime_message *msg, const char *mailbox)
{
	struct rules_input *in = xcalloc(1, sizeof(*in));
	struct input_priv *priv = xcalloc(1, sizeof(*priv));
	in->priv = priv;
	in->subject = msg->subject;
	in->body = msg->text;
	in->body_len = msg->text != NULL ? msg->text_len : 0;
	in->from = msg->from.address;
	priv->to = address_array(&msg->to, &in->n_to);
	in->to = priv->to;
	priv->cc = address_array(&msg->cc, &in->n_cc);
	in->cc = priv->cc;
	priv->headers = xcalloc(msg->n_headers + 1, sizeof(*priv->headers));
	for (size_t i = 0; i < msg->n_headers; i++) {
		priv->headers[i].name = msg->headers[i].name;
		priv->headers[i].value = msg->headers[i].value;
	}
	in->headers = priv->headers;
	in->n_headers = msg->n_headers;
	priv->attachments = xcalloc(msg->n_attachments + 1, sizeof(*priv->attachments));
	for (size_t i = 0; i < msg->n_attachments; i++) {
		priv->attachments[i].filename = msg->attachments[i].filename;
		priv->attachments[i].content_type = msg->attachments[i].content_type;
	}
	in->attachments = priv->attachments;
	in->n_attachments = msg->n_attachments;
	in->mailbox = mailbox;
	return in;
}

void
rules_input_free(struct rules_input **inputp)
{
	struct rules_input *in = *inputp;
	if (in == NULL)
		return;
	struct input_priv *priv = in->priv;
	if (priv != NULL) {
		free(priv->to);
		free(priv->cc);
		free(priv->headers);
		free(priv->attachments);
		free(priv);
	}
	free(in);
	*inputp = NULL;
}

/* ---- evaluation ---------------------------------------------------------- */

struct eval {
	struct rules *rules;
	const struct rules_input *in;
	const struct rule *rule;
	struct rules_result *res;
	char *noquote; /* body without quotes, built on first use */
	size_t noquote_len;
	int have_noquote;
	char *text;    /* subject "\n" body, built on first use */
	size_t text_len;
	int have_text;
	/* matches of the rule being evaluated */
	struct rules_match *matches;
	size_t n_matches, cap_matches;
	/* prefilter strings found in subject, body, body-full, text */
	unsigned char *found[4];
};

static void
match_clear(struct rules_match *m)
{
	free(m->target);
	free(m->text);
	free(m->before);
	free(m->after);
	for (size_t i = 0; i < m->n_captures; i++) {
		free(m->captures[i].name);
		free(m->captures[i].value);
	}
	free(m->captures);
}

static void
matches_truncate(struct eval *ev, size_t n)
{
	while (ev->n_matches > n)
		match_clear(&ev->matches[--ev->n_matches]);
}

static const char *
body_view(struct eval *ev, size_t *len_r)
{
	const char *body = ev->in->body != NULL ? ev->in->body : "";
	size_t len = ev->in->body != NULL ? ev->in->body_len : 0;
	if (!ev->rules->exclude_quotes) {
		*len_r = len;
		return body;
	}
	if (ev->in->body_new != NULL) {
		*len_r = ev->in->body_new_len;
		return ev->in->body_new;
	}
	if (!ev->have_noquote) {
		/* Quoted history and signature out (parsers/quote.h); a text
		   quote_strip() refuses is matched whole. */
		struct quote_result q;
		const char *ignored;
		if (quote_strip(body, len, 0, &q, &ignored) == 0) {
			ev->noquote = q.text;
			ev->noquote_len = q.len;
		} else {
			ev->noquote = xstrndup(body, len);
			ev->noquote_len = len;
		}
		ev->have_noquote = 1;
	}
	*len_r = ev->noquote_len;
	return ev->noquote;
}

static const char *
text_view(struct eval *ev, size_t *len_r)
{
	if (!ev->have_text) {
		size_t blen;
		const char *body = body_view(ev, &blen);
		const char *subject = ev->in->subject != NULL ? ev->in->subject : "";
		size_t slen = strlen(subject);
		ev->text = xmalloc(slen + 1 + blen + 1);
		memcpy(ev->text, subject, slen);
		ev->text[slen] = '\n';
		memcpy(ev->text + slen + 1, body, blen);
		ev->text[slen + 1 + blen] = '\0';
		ev->text_len = slen + 1 + blen;
		ev->have_text = 1;
	}
	*len_r = ev->text_len;
	return ev->text;
}

/* How many values a target has (some may be skipped by target_value()). */
static size_t
target_count(const struct eval *ev, const struct target *t)
{
	switch (t->kind) {
	case T_TO:
		return ev->in->n_to;
	case T_CC:
		return ev->in->n_cc;
	case T_HEADER:
		return ev->in->n_headers;
	case T_ATTACHMENT_NAME:
	case T_ATTACHMENT_TYPE:
		return ev->in->n_attachments;
	default:
		return 1;
	}
}

/* The i-th value of a target, or NULL when absent. */
static const char *
target_value(struct eval *ev, const struct target *t, size_t i, size_t *len_r)
{
	const char *s = NULL;
	switch (t->kind) {
	case T_SUBJECT:
		s = ev->in->subject != NULL ? ev->in->subject : "";
		break;
	case T_BODY:
		return body_view(ev, len_r);
	case T_BODY_FULL:
		*len_r = ev->in->body != NULL ? ev->in->body_len : 0;
		return ev->in->body != NULL ? ev->in->body : "";
	case T_TEXT:
		return text_view(ev, len_r);
	case T_FROM:
		s = ev->in->from;
		break;
	case T_TO:
		s = ev->in->to[i];
		break;
	case T_CC:
		s = ev->in->cc[i];
		break;
	case T_HEADER:
		if (ev->in->headers[i].name != NULL && strcasecmp(ev->in->headers[i].name, t->header) == 0)
			s = ev->in->headers[i].value != NULL ? ev->in->headers[i].value : "";
		break;
	case T_ATTACHMENT_NAME:
		s = ev->in->attachments[i].filename;
		break;
	case T_ATTACHMENT_TYPE:
		s = ev->in->attachments[i].content_type;
		break;
	case T_MAILBOX:
		s = ev->in->mailbox;
		break;
	}
	if (s != NULL)
		*len_r = strlen(s);
	return s;
}

static void
limit_hit(struct eval *ev, const struct target *t, int rc)
{
	struct rules_result *res = ev->res;
	for (size_t i = 0; i < res->n_limit_hits; i++)
		if (strcmp(res->limit_hits[i].rule, ev->rule->name) == 0 &&
		    strcmp(res->limit_hits[i].target, t->label) == 0)
			return;
	const char *why;
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
		why = "match limit";
		break;
	case PCRE2_ERROR_DEPTHLIMIT:
		why = "depth limit";
		break;
	case PCRE2_ERROR_HEAPLIMIT:
		why = "heap limit";
		break;
	case PCRE2_ERROR_JIT_STACKLIMIT:
		why = "JIT stack limit";
		break;
	default: {
		PCRE2_UCHAR msg[120];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		why = errf("%s", (const char *)msg);
	}
	}
	res->limit_hits = xreallocarray(res->limit_hits, res->n_limit_hits + 1,
					sizeof(*res->limit_hits));
	struct rules_limit_hit *h = &res->limit_hits[res->n_limit_hits++];
	h->rule = xstrdup(ev->rule->name);
	h->target = xstrdup(t->label);
	h->why = xstrdup(why);
}

/* A copy of s[start..end) cut to at most max bytes on character
   boundaries: from the end when keep_end, else from the start. */
static char *
snippet(const char *s, size_t start, size_t end, size_t max, int keep_end)
{
	if (end - start > max) {
		if (keep_end) {
			start = end - max;
			while (start < end && ((unsigned char)s[start] & 0xc0) == 0x80)
				start++;
		} else {
			end = start + utf8_truncate_len(s + start, max);
		}
	}
	return xstrndup(s + start, end - start);
}

static void
record_match(struct eval *ev, const struct target *t, const struct pattern *pat, const char *s,
	     size_t len)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ev->rules->md);
	size_t start = ov[0], end = ov[1];
	if (start > end) /* \K in a lookahead can do this */
		end = start;
	if (ev->n_matches == ev->cap_matches) {
		ev->cap_matches = ev->cap_matches ? ev->cap_matches * 2 : 4;
		ev->matches = xreallocarray(ev->matches, ev->cap_matches, sizeof(*ev->matches));
	}
	struct rules_match *m = &ev->matches[ev->n_matches++];
	memset(m, 0, sizeof(*m));
	m->target = xstrdup(t->label);
	m->text = snippet(s, start, end, RULES_SNIPPET_MAX, 0);
	m->before = snippet(s, start > RULES_CONTEXT_MAX ? start - RULES_CONTEXT_MAX : 0, start,
			    RULES_CONTEXT_MAX, 1);
	/* The context must not begin inside a character. */
	size_t skip = 0;
	while (m->before[skip] != '\0' && ((unsigned char)m->before[skip] & 0xc0) == 0x80)
		skip++;
	if (skip > 0)
		memmove(m->before, m->before + skip, strlen(m->before + skip) + 1);
	m->after = snippet(s, end, len, RULES_CONTEXT_MAX, 0);

	uint32_t count = 0, entry_size = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(pat->code, PCRE2_INFO_NAMECOUNT, &count);
	if (count == 0)
		return;
	pcre2_pattern_info(pat->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
	pcre2_pattern_info(pat->code, PCRE2_INFO_NAMETABLE, &table);
	uint32_t pairs = pcre2_get_ovector_count(ev->rules->md);
	for (uint32_t i = 0; i < count; i++, table += entry_size) {
		uint32_t group = ((uint32_t)table[0] << 8) | table[1];
		if (group >= pairs || ov[2 * group] == PCRE2_UNSET || ov[2 * group] > ov[2 * group + 1])
			continue;
		const char *name = (const char *)table + 2;
		/* Duplicate names ((?J)): keep the first that took part. */
		int seen = 0;
		for (size_t k = 0; k < m->n_captures; k++)
			if (strcmp(m->captures[k].name, name) == 0)
				seen = 1;
		if (seen)
			continue;
		m->captures = xreallocarray(m->captures, m->n_captures + 1, sizeof(*m->captures));
		m->captures[m->n_captures].name = xstrdup(name);
		m->captures[m->n_captures].value =
			snippet(s, ov[2 * group], ov[2 * group + 1], RULES_SNIPPET_MAX, 0);
		m->n_captures++;
	}
}

/* 0 when the prefilter proves that pat cannot match the value s of
   target t; 1 when PCRE2 must run. */
static int
prefilter_pass(struct eval *ev, const struct pattern *pat, const struct target *t, const char *s,
	       size_t len)
{
	int slot;
	switch (t->kind) {
	case T_SUBJECT:
		slot = 0;
		break;
	case T_BODY:
		slot = 1;
		break;
	case T_BODY_FULL:
		slot = 2;
		break;
	case T_TEXT:
		slot = 3;
		break;
	default:
		return 1; /* short values: not worth it */
	}
	if (pat->n_pf == 0)
		return 1;
	const struct rules *rules = ev->rules;
	if (ev->found[slot] == NULL) {
		/* One pass finds the strings; their sets are marked found. */
		size_t nstr = ((size_t)strset_count(rules->strset) + 7) / 8, flen;
		unsigned char *strs = xcalloc(nstr + 1, 1);
		unsigned char *folded = prefilter_fold(s, len, &flen);
		strset_scan(rules->strset, folded, flen, strs);
		free(folded);
		ev->found[slot] = xcalloc(((size_t)rules->n_sets + 7) / 8 + 1, 1);
		for (size_t byte = 0; byte < nstr; byte++) {
			if (strs[byte] == 0)
				continue;
			for (unsigned int bit = 0; bit < 8; bit++) {
				if (!(strs[byte] & (1u << bit)))
					continue;
				uint32_t id = (uint32_t)(byte * 8 + bit);
				for (uint32_t k = rules->str_first[id]; k < rules->str_first[id + 1]; k++)
					ev->found[slot][rules->str_sets[k] / 8] |=
						(unsigned char)(1u << (rules->str_sets[k] % 8));
			}
		}
		free(strs);
	}
	const unsigned char *found = ev->found[slot];
	for (size_t b = 0; b < pat->n_pf; b++) {
		const struct pf_branch *br = &pat->pf[b];
		size_t k;
		for (k = 0; k < br->n; k++)
			if (!(found[br->sets[k].sid / 8] & (1u << (br->sets[k].sid % 8))))
				break; /* this set is absent: the branch fails */
		if (k == br->n)
			return 1;
	}
	return 0;
}

static int
eval_match(struct eval *ev, struct cond *c)
{
	for (size_t ti = 0; ti < c->n_targets; ti++) {
		const struct target *t = &c->targets[ti];
		size_t n = target_count(ev, t);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			const char *s = target_value(ev, t, i, &len);
			if (s == NULL || !prefilter_pass(ev, &c->pat, t, s, len))
				continue;
			if (c->pat.jit == 0)
				c->pat.jit = pcre2_jit_compile(c->pat.code, PCRE2_JIT_COMPLETE) == 0 ? 1 : -1;
			int rc = pcre2_match(c->pat.code, (PCRE2_SPTR)s, len, 0, 0, ev->rules->md,
					     ev->rules->mctx);
			if (rc >= 0) {
				record_match(ev, t, &c->pat, s, len);
				return 1;
			}
			if (rc != PCRE2_ERROR_NOMATCH)
				limit_hit(ev, t, rc);
		}
	}
	return 0;
}

static int
eval_exists(struct eval *ev, const struct cond *c)
{
	for (size_t ti = 0; ti < c->n_targets; ti++) {
		const struct target *t = &c->targets[ti];
		size_t n = target_count(ev, t);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			const char *s = target_value(ev, t, i, &len);
			if (s == NULL)
				continue;
			/* A header or attachment that is there exists even when
			   empty; subject and body exist when not empty. */
			if (len > 0 || t->kind == T_HEADER || t->kind == T_ATTACHMENT_NAME ||
			    t->kind == T_ATTACHMENT_TYPE)
				return 1;
		}
	}
	return 0;
}

static int
eval_vip(const struct eval *ev)
{
	const struct vip *vip = &ev->rules->vip;
	const char *from = ev->in->from;
	if (from == NULL)
		return 0;
	for (size_t i = 0; i < vip->n_addresses; i++)
		if (strcasecmp(from, vip->addresses[i]) == 0)
			return 1;
	const char *at = strrchr(from, '@');
	if (at == NULL)
		return 0;
	const char *domain = at + 1;
	size_t dlen = strlen(domain);
	for (size_t i = 0; i < vip->n_domains; i++) {
		size_t n = strlen(vip->domains[i]);
		if (strcasecmp(domain, vip->domains[i]) == 0)
			return 1;
		if (dlen > n && domain[dlen - n - 1] == '.' &&
		    strcasecmp(domain + dlen - n, vip->domains[i]) == 0)
			return 1;
	}
	return 0;
}

static int
eval_cond(struct eval *ev, struct cond *c)
{
	size_t mark = ev->n_matches;
	switch (c->kind) {
	case C_ALL:
		for (size_t i = 0; i < c->n_kids; i++) {
			if (!eval_cond(ev, c->kids[i])) {
				matches_truncate(ev, mark);
				return 0;
			}
		}
		return 1;
	case C_ANY:
		for (size_t i = 0; i < c->n_kids; i++) {
			if (eval_cond(ev, c->kids[i]))
				return 1;
			matches_truncate(ev, mark);
		}
		return 0;
	case C_NOT: {
		int r = eval_cond(ev, c->kids[0]);
		matches_truncate(ev, mark);
		return !r;
	}
	case C_MATCH:
		return eval_match(ev, c);
	case C_EXISTS:
		return eval_exists(ev, c);
	case C_VIP:
		return eval_vip(ev);
	case C_ALWAYS:
		return 1;
	}
	return 0;
}

static void
add_score(struct rules_result *res, const char *category, int weight)
{
	for (size_t i = 0; i < res->n_scores; i++) {
		if (strcmp(res->scores[i].category, category) == 0) {
			res->scores[i].score += weight;
			return;
		}
	}
	res->scores = xreallocarray(res->scores, res->n_scores + 1, sizeof(*res->scores));
	res->scores[res->n_scores].category = xstrdup(category);
	res->scores[res->n_scores].score = weight;
	res->n_scores++;
}

static void
add_tag(struct rules_result *res, const char *tag)
{
	for (size_t i = 0; i < res->n_tags; i++)
		if (strcmp(res->tags[i], tag) == 0)
			return;
	res->tags = xreallocarray(res->tags, res->n_tags + 1, sizeof(*res->tags));
	res->tags[res->n_tags++] = xstrdup(tag);
}

static void
add_field(struct rules_result *res, const char *name, const char *value, const char *rule)
{
	for (size_t i = 0; i < res->n_fields; i++)
		if (strcmp(res->fields[i].name, name) == 0)
			return; /* first value wins */
	res->fields = xreallocarray(res->fields, res->n_fields + 1, sizeof(*res->fields));
	struct rules_field *f = &res->fields[res->n_fields++];
	f->name = xstrdup(name);
	f->value = xstrdup(value);
	f->rule = xstrdup(rule);
}

static int
extract_wanted(const struct rule *r, const char *name)
{
	if (r->n_extract_names == 0)
		return 1;
	for (size_t i = 0; i < r->n_extract_names; i++)
		if (strcmp(r->extract_names[i], name) == 0)
			return 1;
	return 0;
}

/* A fired rule: record the hit and apply the actions that do not depend
   on the winning category. */
static void
rule_fired(struct eval *ev, const struct rule *r)
{
	struct rules_result *res = ev->res;
	if (r->extract) {
		for (size_t i = 0; i < ev->n_matches; i++) {
			const struct rules_match *m = &ev->matches[i];
			for (size_t k = 0; k < m->n_captures; k++)
				if (extract_wanted(r, m->captures[k].name))
					add_field(res, m->captures[k].name, m->captures[k].value, r->name);
		}
	}
	res->hits = xreallocarray(res->hits, res->n_hits + 1, sizeof(*res->hits));
	struct rules_hit *h = &res->hits[res->n_hits++];
	h->rule = xstrdup(r->name);
	h->file = xstrdup(r->file);
	h->line = r->line;
	h->category = r->category != NULL ? xstrdup(r->category) : NULL;
	h->weight = r->category != NULL ? r->weight : 0;
	/* The matches move into the hit. */
	h->matches = ev->n_matches > 0 ? xreallocarray(NULL, ev->n_matches, sizeof(*h->matches))
				       : NULL;
	if (ev->n_matches > 0)
		memcpy(h->matches, ev->matches, ev->n_matches * sizeof(*h->matches));
	h->n_matches = ev->n_matches;
	ev->n_matches = 0;

	if (r->category != NULL)
		add_score(res, r->category, r->weight);
	for (size_t i = 0; i < r->n_tags; i++)
		add_tag(res, r->tags[i]);
	if (r->no_ack)
		res->no_ack = 1;
	if (r->spam)
		res->spam = 1;
}

int
rules_classify(struct rules *rules, const struct rules_input *input,
	       struct rules_result **result_r)
{
	struct rules_result *res = xcalloc(1, sizeof(*res));
	struct eval ev = { .rules = rules, .in = input, .res = res };
	const struct rule **fired = xcalloc(rules->n_rules + 1, sizeof(*fired));
	size_t n_fired = 0;

	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct rule *r = &rules->rules[i];
		ev.rule = r;
		if (!eval_cond(&ev, r->cond)) {
			matches_truncate(&ev, 0);
			continue;
		}
		rule_fired(&ev, r);
		fired[n_fired++] = r;
		if (r->stop) {
			res->stopped_by = xstrdup(r->name);
			break;
		}
	}

	const char *winner = NULL;
	int best = 0;
	for (size_t i = 0; i < res->n_scores; i++) {
		if (res->scores[i].score > best) {
			best = res->scores[i].score;
			winner = res->scores[i].category;
		}
	}
	res->category = xstrdup(winner != NULL ? winner : rules->default_category);

	/* Priority and queue come from the fired rules that name no
	   category or name the one that won. */
	int priority = -1, raise = 0;
	for (size_t i = 0; i < n_fired; i++) {
		const struct rule *r = fired[i];
		if (r->category != NULL && strcmp(r->category, res->category) != 0)
			continue;
		if (r->priority > priority)
			priority = r->priority;
		raise += r->priority_raise;
		if (r->queue != NULL && res->queue == NULL)
			res->queue = xstrdup(r->queue);
	}
	if (priority < 0)
		priority = PRIORITY_NORMAL;
	priority += raise;
	if (priority > PRIORITY_MAX)
		priority = PRIORITY_MAX;
	res->priority = xstrdup(priority_names[priority]);
	free(fired);
	free(ev.matches);
	free(ev.noquote);
	free(ev.text);
	for (size_t i = 0; i < N_ELEMENTS(ev.found); i++)
		free(ev.found[i]);
	*result_r = res;
	return 0;
}

void
rules_result_free(struct rules_result **resultp)
{
	struct rules_result *res = *resultp;
	if (res == NULL)
		return;
	free(res->category);
	free(res->priority);
	free(res->queue);
	strv_free(res->tags, res->n_tags);
	for (size_t i = 0; i < res->n_fields; i++) {
		free(res->fields[i].name);
		free(res->fields[i].value);
		free(res->fields[i].rule);
	}
	free(res->fields);
	for (size_t i = 0; i < res->n_hits; i++) {
		struct rules_hit *h = &res->hits[i];
		free(h->rule);
		free(h->file);
		free(h->category);
		for (size_t k = 0; k < h->n_matches; k++)
			match_clear(&h->matches[k]);
		free(h->matches);
	}
	free(res->hits);
	for (size_t i = 0; i < res->n_scores; i++)
		free(res->scores[i].category);
	free(res->scores);
	for (size_t i = 0; i < res->n_limit_hits; i++) {
		free(res->limit_hits[i].rule);
		free(res->limit_hits[i].target);
		free(res->limit_hits[i].why);
	}
	free(res->limit_hits);
	free(res->stopped_by);
	free(res);
	*resultp = NULL;
}

static void
put_clean(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		n = utf8_truncate_len(s, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : c) < 0)
			return;
	}
}

char *
rules_hit_summary(const struct rules_hit *hit)
{
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < hit->n_matches; i++) {
		const struct rules_match *m = &hit->matches[i];
		if (i > 0)
			buf_puts(&b, "; ");
		buf_printf(&b, "%s: \"", m->target);
		put_clean(&b, m->text, 120);
		buf_putc(&b, '"');
	}
	if (hit->n_matches == 0)
		buf_puts(&b, "(no pattern)");
	if (hit->category != NULL)
		buf_printf(&b, " => %s %+d", hit->category, hit->weight);
	return buf_steal(&b, NULL);
}
