/*
 * rules-int.h: what the files of the rules engine share; nothing outside
 * gateway/rules*.c includes it. The public interface is rules.h.
 *
 *   rules.c            options, loading files and directories, the rule
 *                      table's life cycle, listings
 *   rules-lex.c        the lexer of the rules language (tokens, /patterns/)
 *   rules-parse.c      the parser: rules, conditions, context blocks, actions
 *   rules-prefilter.c  the literal extractor and the one-pass prefilter
 *   rules-eval.c       inputs, evaluation, how fired rules combine, results
 *   rules-regex.c      the PCRE2 adapter: the only file that includes pcre2.h
 *
 * A rule is a tree of conditions (struct cond) and a list of actions. A
 * match condition (C_MATCH) holds one compiled pattern and the targets it
 * looks at; its context block (its kids) is evaluated on the text around
 * each match of the pattern, and the first match whose context holds is
 * the one that counts. Evaluation walks
 * the tree once per message (struct eval); nothing in a struct rules
 * changes during evaluation but the JIT state of patterns, the prefilter's
 * scratch and the matcher's match data.
 */
#ifndef DG_RULES_INT_H
#define DG_RULES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/rules.h"
#include "base/util.h"

/* Limits on what an admin's files can make us do at load time. */
#define RULES_MAX_FILE_SIZE (4 * 1024 * 1024)
#define RULES_MAX_RULES 10000
#define RULES_MAX_NAME 128
#define RULES_MAX_PATTERN 65536
#define RULES_MAX_NESTING 16
#define RULES_MAX_WEIGHT 1000
/* Context windows: characters before or after a match (default, most). */
#define RULES_WINDOW_DEFAULT 40
#define RULES_WINDOW_MAX 1000
/* What a result keeps of a match. */
#define RULES_SNIPPET_MAX 200
#define RULES_CONTEXT_MAX 40

#define PRIORITY_NORMAL 1
#define PRIORITY_MAX 3
extern const char *const rules_priority_names[PRIORITY_MAX + 1];

/* ---- the PCRE2 adapter (rules-regex.c) ---------------------------------- */

enum rx_flag { RX_CASELESS = 1, RX_MULTILINE = 2, RX_DOTALL = 4, RX_EXTENDED = 8 };

struct rx;	   /* one compiled pattern (UTF-8, Unicode properties) */
struct rx_matcher; /* match and depth limits, a JIT stack, match data */

/* Compile source (flags: enum rx_flag). -1 with *erroff_r (byte offset in
   source) and *error_r (PCRE2's words, an errf() string). */
int rx_compile(const char *source, unsigned int flags, struct rx **rx_r, size_t *erroff_r,
	       const char **error_r);
void rx_free(struct rx **rxp);
/* Capture groups, plus one for the whole match. */
uint32_t rx_groups(const struct rx *rx);
/* 1 when the pattern has a group called name (name NULL: any named group). */
int rx_has_name(const struct rx *rx, const char *name);
/* 1 when PCRE2 has a JIT compiler. */
int rx_jit_available(void);

struct rx_matcher *rx_matcher_new(uint32_t match_limit, uint32_t depth_limit, uint32_t groups);
void rx_matcher_free(struct rx_matcher **mp);
/* Match rx in s[0..len) from byte offset start (look-behind sees what is
   before start). JIT-compiles rx the first time. 1: a match (rx_span(),
   rx_named()); 0: none; -1: a limit or another error, *why_r says which
   ("match limit", "depth limit", ...: static or errf()). */
int rx_match(struct rx_matcher *m, struct rx *rx, const char *s, size_t len, size_t start,
	     const char **why_r);
/* The last match's span (start <= end even for \K tricks). */
void rx_span(const struct rx_matcher *m, size_t *start_r, size_t *end_r);
/* Named groups of rx: how many names, and the i-th name with, when its
   group took part in the last match, its span (1); 0 when it did not. */
size_t rx_names(const struct rx *rx);
int rx_named(const struct rx_matcher *m, const struct rx *rx, size_t i, const char **name_r,
	     size_t *start_r, size_t *end_r);

/* ---- the rule table -------------------------------------------------------- */

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
	/* the text around a match: only in a context block */
	T_BEFORE,
	T_AFTER,
	T_AROUND,
};

#define RULES_N_TARGETS (T_AROUND + 1)
extern const char *const rules_target_names[RULES_N_TARGETS];

struct target {
	enum target_kind kind;
	char *header;	   /* T_HEADER */
	char *label;  /* for results: "subject", "header X-Foo", "before 40" */
	unsigned int width; /* T_BEFORE, T_AFTER, T_AROUND: characters */
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
	struct rx *rx;
	char *source;
	/* Prefilter (rules-prefilter.c): a match needs, for one of the
	   branches, a string of each of its sets (ids in rules->strset);
	   none: always run the pattern. */
	struct pf_branch *pf;
	size_t n_pf;
};

enum cond_kind { C_ALL, C_ANY, C_NOT, C_MATCH, C_EXISTS, C_VIP, C_ALWAYS };

struct cond {
	enum cond_kind kind;
	unsigned int line;
	/* C_ALL, C_ANY, C_NOT; C_MATCH: its context block, all of which must
	   hold on the text around a match for the match to count */
	struct cond **kids;
	size_t n_kids;
	struct target *targets; /* C_MATCH, C_EXISTS */
	size_t n_targets;
	struct pattern pat; /* C_MATCH */
};

/* A group of `extract`, and how its value is read. */
enum extract_type {
	EXTRACT_TEXT,	/* as matched */
	EXTRACT_AMOUNT, /* an amount (parsers/amount.h): kept only when it is one */
};

struct extract_name {
	char *name;
	enum extract_type type;
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
	struct extract_name *extract_names; /* empty: all, as text */
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
	struct rx_matcher *matcher;
	struct strset *strset; /* the prefilter's strings */
	int no_prefilter;
	uint32_t n_sets;       /* prefilter sets of all patterns */
	uint32_t *pairs;       /* (string id, set id) pairs while loading */
	size_t n_pairs;
	uint32_t *str_first;   /* after loading: the sets of string i are */
	uint32_t *str_sets;    /* str_sets[str_first[i] .. str_first[i + 1]) */
};

void rules_strv_free(char **v, size_t n);
void rules_cond_free(struct cond *c);
void rules_rule_clear(struct rule *r);

/* ---- lexer and parser (rules-lex.c, rules-parse.c) ------------------------ */

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
	int in_context; /* parsing a context block */
	/* errors */
	char *first_error;
	size_t n_errors;
};

/* Where the lines of a multi-line pattern were joined: offsets in the
   joined source, to name the right line in a compile error. */
struct joins {
	size_t *at;
	size_t n;
};

/* Report an error at line (0: about the file) of ps->file. */
void parser_error(struct parser *ps, unsigned int line, const char *fmt, ...) DG_ATTR_PRINTF(3, 4);
int is_word_char(unsigned char c);
/* Scan the next token into ps->tok; -1 on a lexical error (reported). */
int lex_next(struct parser *ps);
int tok_is(const struct parser *ps, const char *word);
const char *tok_describe(const struct parser *ps);
/* Read a /pattern/flags right after "~" (flags: enum rx_flag). */
int lex_pattern(struct parser *ps, char **source_r, unsigned int *flags_r, unsigned int *line_r,
		struct joins *joins);

/* Parse one file's text into ps->rules. -1 after a syntax error (the rest
   of the file is skipped); pattern errors are only counted. */
int parse_text(struct parser *ps, const char *file, const char *text, size_t len);

/* ---- prefilter (rules-prefilter.c) ------------------------------------------ */

/* Give a compiled pattern its prefilter, if its source allows. */
void pattern_prefilter(struct rules *rules, struct pattern *pat, const char *source,
		       unsigned int flags);
void pf_free(struct pattern *pat);
/* After loading: index which sets each prefilter string belongs to. */
void prefilter_finish(struct rules *rules);
/* Which prefilter sets occur in s[0..len): a bit per set (caller frees). */
unsigned char *prefilter_scan(const struct rules *rules, const char *s, size_t len);
/* 0 when the found sets prove that pat cannot match; 1 otherwise. */
int prefilter_admits(const struct pattern *pat, const unsigned char *found);

#endif
