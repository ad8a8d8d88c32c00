/*
 * rules: the classification rules engine. Reads rule files written in the
 * rules language of deskgate-rules(5), compiles every pattern once with
 * PCRE2 (the only module that includes it: UTF-8, Unicode properties,
 * caseless by default; JIT-compiled on first use where available) and
 * classifies one message:
 * category, priority, queue, tags, extracted fields, "no acknowledgement"
 * and "spam" flags, and which rules fired with what they matched.
 *
 * How several rules combine (the contract deskgate-rules(5) gives admins):
 *   - Rules are evaluated in order: files in the byte order of their names,
 *     rules in file order. A rule whose conditions hold "fires". A rule
 *     with `stop` that fires ends the evaluation.
 *   - category: each fired `category NAME [WEIGHT]` adds WEIGHT (default
 *     1, may be negative) to NAME's score. The highest positive score
 *     wins; on a tie the category named by the earlier rule wins; with no
 *     positive score the result is the default category ("other").
 *   - priority and queue are taken only from fired rules that name no
 *     category or name the winning one ("category X; priority high"
 *     means "high when it is X"). priority: the highest level set by such
 *     a `priority LEVEL` (or "normal"), then raised one step per
 *     `priority +N` step, capped at "urgent". queue: the first such
 *     rule's `queue`.
 *   - tags: the union, in order; fields: the first value extracted under
 *     each name; no-ack and spam: set when any fired rule sets them.
 *
 * Hostile input: every match runs under the configured PCRE2 match and
 * depth limits (and a bounded JIT stack). A match that hits a limit counts
 * as "no match" and is listed in rules_result.limit_hits with the rule's
 * name so that the caller logs it; it never stalls the caller.
 *
 * Speed: a prefilter (base/strset.h) finds in one pass which words of
 * all patterns occur in the subject and body, and a pattern whose required
 * words are absent is not run (see rules-prefilter.c and deskgate-rules(5)).
 *
 * Not thread-safe: a struct rules holds one scratch match block and JIT-
 * compiles patterns as they are first used; use one per thread. Pure
 * otherwise: no logging, no I/O but reading rule files.
 *
 * Ownership: rules_load() returns a struct rules freed with rules_free();
 * rules_classify() returns a struct rules_result freed with
 * rules_result_free(); every string in them belongs to them. A struct
 * rules_input only borrows the strings it points to.
 */
#ifndef DG_RULES_H
#define DG_RULES_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct mime_message;
struct rules;

#define RULES_VERDICT_NAME 129 /* a category or queue name (128 bytes) and NUL */

struct rules_options {
	uint32_t match_limit;	/* PCRE2 match limit per pattern match */
	uint32_t depth_limit;	/* PCRE2 backtracking depth limit (interpreter) */
	int exclude_quotes;	/* `body` leaves out quoted replies */
	const char *vip_senders; /* "addr@example.com, example.org ..." or NULL */
	const char *default_category; /* NULL: "other" */
	int no_prefilter;	/* run every pattern (for tests of the prefilter) */
	/* When set, rules_load() reports every error it finds through this
	   callback (one "FILE:LINE: why" each) instead of only the first. */
	void (*on_error)(void *context, const char *error);
	void *on_error_context;
};

/* The defaults documented in deskgate.conf(5) ([rules] section). */
void rules_options_default(struct rules_options *options);

/* The options of a configuration's [rules] section (vip_senders is
   borrowed from config). */
void rules_options_from_config(struct rules_options *options, const struct config *config);
/* rules_load() of the configured directory ([rules] dir). */
int rules_load_config(const struct config *config, struct rules **rules_r, const char **error_r);

/* Load and compile rules from paths: each is a rule file or a directory
   whose "*.rules" files (not starting with '.') are read in byte order of
   their names. 0 with *rules_r, or -1 with *error_r "FILE:LINE: why" (for
   a pattern "FILE:LINE: rule NAME: pattern error at offset N: why"); on -1
   *rules_r is NULL. */
int rules_load(const char *const *paths, size_t n_paths, const struct rules_options *options,
	       struct rules **rules_r, const char **error_r);
/* The same from a buffer (text[0..len)); name is used in messages. */
int rules_load_text(const char *name, const char *text, size_t len,
		    const struct rules_options *options, struct rules **rules_r,
		    const char **error_r);
/* Load candidate rules and, only when they compile, free *rulesp and put
   the new ones in its place: a broken file leaves the old rules running.
   -1 with *error_r otherwise (and *rulesp untouched). */
int rules_reload(struct rules **rulesp, const char *const *paths, size_t n_paths,
		 const struct rules_options *options, const char **error_r);
void rules_free(struct rules **rulesp);

size_t rules_count(const struct rules *rules);
/* 1 when PCRE2 has a JIT compiler: each pattern is JIT-compiled the first
   time it runs (the interpreter serves where that fails); 0 when every
   pattern uses the interpreter. */
int rules_jit(const struct rules *rules);
/* Name of the n-th rule (n < rules_count()), for listings. */
const char *rules_name(const struct rules *rules, size_t n);
/* What the n-th rule sets, for cross-checks with the configuration
   (`deskgate config check`); the strings belong to rules. */
struct rules_rule_info {
	const char *name, *file;
	unsigned int line;
	const char *category; /* NULL: none */
	const char *queue;    /* NULL: none */
};
void rules_info(const struct rules *rules, size_t n, struct rules_rule_info *info);

/* ---- input ----------------------------------------------------------- */

struct rules_header {
	const char *name;
	const char *value;
};

struct rules_attachment {
	const char *filename;
	const char *content_type;
};

struct rules_input {
	const char *subject;  /* NULL counts as "" */
	const char *body;     /* decoded UTF-8 text; NULL counts as "" */
	size_t body_len;
	/* Optional: body without its quoted history, when the caller has
	   already run quote_strip() on it (saves doing it again); NULL:
	   rules_classify() strips body itself when exclude_quotes is on. */
	const char *body_new;
	size_t body_new_len;
	const char *from;     /* the From address (local@domain), or NULL */
	const char *const *to;
	size_t n_to;
	const char *const *cc;
	size_t n_cc;
	const struct rules_header *headers;
	size_t n_headers;
	const struct rules_attachment *attachments;
	size_t n_attachments;
	const char *mailbox;  /* where the message arrived, or NULL */
	void *priv;	      /* owned arrays of rules_input_from_mime() */
};

/* A plain-text input (subject may be NULL), for eval and tests: fills
   *input, borrows the strings, allocates nothing. */
void rules_input_text(struct rules_input *input, const char *subject, const char *body);
/* An input from a parsed message; borrows msg's strings (msg must outlive
   it) and allocates the arrays, freed with rules_input_free(). */
struct rules_input *rules_input_from_mime(const struct mime_message *msg, const char *mailbox);
void rules_input_free(struct rules_input **inputp);

/* ---- result ------------------------------------------------------------ */

struct rules_capture {
	char *name;
	char *value;
};

/* One pattern that matched in a fired rule. */
struct rules_match {
	char *target;	/* "subject", "body", "from", "header X-Foo", ... */
	char *text;	/* the matched text (at most 200 bytes) */
	char *before;	/* up to 40 bytes of context before it */
	char *after;	/* up to 40 bytes after it */
	struct rules_capture *captures; /* named groups that took part */
	size_t n_captures;
};

struct rules_hit {
	char *rule;
	char *file;
	unsigned int line;
	char *category; /* what the rule scores, or NULL */
	int weight;
	struct rules_match *matches;
	size_t n_matches;
};

struct rules_field {
	char *name;
	char *value;  /* as it was written in the message */
	char *normal; /* typed groups: the value read, e.g. "3200 EUR" for an
			 amount (NULL when ambiguous); else NULL */
	char *rule;   /* the rule that extracted it */
};

struct rules_score {
	char *category;
	int score;
};

/* A pattern that hit the match or depth limit: counted as no match. */
struct rules_limit_hit {
	char *rule;
	char *target;
	char *why; /* "match limit", "depth limit", "JIT stack limit", ... */
};

struct rules_result {
	char *category;	/* never NULL */
	char *priority;	/* "low", "normal", "high" or "urgent" */
	char *queue;	/* NULL: the default queue */
	char **tags;
	size_t n_tags;
	struct rules_field *fields;
	size_t n_fields;
	struct rules_hit *hits; /* in evaluation order */
	size_t n_hits;
	struct rules_score *scores; /* every category scored, in first-scored order */
	size_t n_scores;
	struct rules_limit_hit *limit_hits;
	size_t n_limit_hits;
	int no_ack;
	int spam;
	char *stopped_by; /* the rule whose `stop` ended evaluation, or NULL */
};

/* Classify one message. Never fails (a pattern over its limit is "no
   match" and listed in limit_hits); *result_r is the caller's. */
int rules_classify(struct rules *rules, const struct rules_input *input,
		   struct rules_result **result_r);
void rules_result_free(struct rules_result **resultp);

/* What the rules decided, as the store records it (an event "classified"
   on a new ticket) so that `rules replay` compares verdicts, not what
   agents changed since: "category C, priority P, queue Q" (queue
   "(default)" when the rules named none). Caller frees. */
char *rules_verdict_format(const struct rules_result *result);
struct rules_verdict {
	char category[RULES_VERDICT_NAME];
	char priority[16];
	char queue[RULES_VERDICT_NAME]; /* "" for the default queue */
};
/* Read rules_verdict_format()'s text back: 0, or -1 when it is not one. */
int rules_verdict_parse(const char *text, struct rules_verdict *verdict);

/* A one-line summary of a hit for the ticket history and logs, e.g.
   `body: "withdrawal still pending" => delayed_payment +2`; control
   characters are made spaces. Caller frees. */
char *rules_hit_summary(const struct rules_hit *hit);

#endif
