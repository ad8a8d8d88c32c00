/*
 * rules-parse: the recursive-descent parser of the rules language
 * (deskgate-rules(5)): rules, conditions and blocks, targets, actions, and
 * the checks that need a whole rule (a condition and an action, extracted
 * groups that exist). Patterns are compiled here (rules-regex.c) and get
 * their prefilter (rules-prefilter.c). Hand-written: no maintained library
 * parses our own language.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rules-int.h"

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
	for (k = 0; k < RULES_N_TARGETS; k++)
		if (strcmp(ps->text, rules_target_names[k]) == 0)
			break;
	int window = k == T_BEFORE || k == T_AFTER || k == T_AROUND;
	if (k == RULES_N_TARGETS || window != ps->in_context) {
		if (ps->in_context)
			parser_error(ps, ps->tok_line,
				     "in a context block, conditions look at before, after or around "
				     "[N], got %s", tok_describe(ps));
		else
			parser_error(ps, ps->tok_line,
				     "unknown condition or target %s (targets: subject body body-full "
				     "text from to cc header attachment-name attachment-type mailbox%s)",
				     tok_describe(ps),
				     window ? "; before, after and around only in a context block" : "");
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
	} else if (window) {
		uint64_t width = RULES_WINDOW_DEFAULT;
		if (ps->tok == TOK_WORD && isdigit((unsigned char)ps->text[0])) {
			if (str_to_u64(ps->text, RULES_WINDOW_MAX, &width) < 0 || width == 0) {
				parser_error(ps, ps->tok_line, "%s N: N must be 1 to %d characters",
					     rules_target_names[k], RULES_WINDOW_MAX);
				return -1;
			}
			if (lex_next(ps) < 0)
				return -1;
		}
		t.width = (unsigned int)width;
		t.label = xasprintf("%s %u", rules_target_names[k], t.width);
	} else {
		t.label = xstrdup(rules_target_names[k]);
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

static int
compile_pattern(struct parser *ps, struct pattern *pat, const char *source, unsigned int flags,
		unsigned int line, const struct joins *joins, const char *rule_name)
{
	size_t erroff;
	const char *why;
	if (rx_compile(source, flags, &pat->rx, &erroff, &why) < 0) {
		/* Name the line the offset is on in a multi-line pattern. */
		unsigned int at = line;
		for (size_t i = 0; joins != NULL && i < joins->n; i++)
			if (joins->at[i] <= erroff)
				at++;
		parser_error(ps, at, "rule %s: pattern error at offset %zu: %s", rule_name, erroff,
			     why);
		return -1;
	}
	pat->source = xstrdup(source);
	uint32_t groups = rx_groups(pat->rx);
	if (groups > ps->rules->max_groups)
		ps->rules->max_groups = groups;
	/* A window is short: no prefilter for context patterns. */
	if (!ps->rules->no_prefilter && !ps->in_context)
		pattern_prefilter(ps->rules, pat, source, flags);
	return 0;
}

static struct cond *parse_condition(struct parser *ps, const char *rule_name, int depth);
static int parse_context(struct parser *ps, struct cond *c, const char *rule_name, int depth);

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

/* The optional context block after a pattern: "{" (the current token)
   opens conditions on the text around each match; they become c's kids. */
static int
parse_context(struct parser *ps, struct cond *c, const char *rule_name, int depth)
{
	if (ps->tok != TOK_LBRACE)
		return 0;
	if (ps->in_context) {
		parser_error(ps, ps->tok_line, "a context block cannot hold another");
		return -1;
	}
	unsigned int open_line = ps->tok_line;
	if (lex_next(ps) < 0)
		return -1;
	ps->in_context = 1;
	int ret = -1;
	for (;;) {
		if (skip_separators(ps) < 0)
			goto out;
		if (ps->tok == TOK_RBRACE)
			break;
		if (ps->tok == TOK_EOF) {
			parser_error(ps, open_line, "missing \"}\" for the context block opened here");
			goto out;
		}
		struct cond *kid = parse_condition(ps, rule_name, depth + 1);
		if (kid == NULL)
			goto out;
		cond_add_kid(c, kid);
		if (expect_end(ps) < 0)
			goto out;
	}
	if (c->n_kids == 0) {
		parser_error(ps, open_line, "empty context block");
		goto out;
	}
	ret = lex_next(ps); /* past "}" */
out:
	ps->in_context = 0;
	return ret;
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
		unsigned int opts;
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
		if (lex_next(ps) < 0 || parse_context(ps, c, rule_name, depth) < 0)
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
		int r = compile_pattern(ps, &c->pat, source, RX_CASELESS, ps->tok_line, NULL,
					 rule_name);
		free(source);
		if (r < 0 || lex_next(ps) < 0 || parse_context(ps, c, rule_name, depth) < 0)
			goto fail;
		return c;
	}
	if (tok_is(ps, "exists") && ps->in_context) {
		parser_error(ps, ps->tok_line, "exists has no meaning in a context block");
		goto fail;
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
	rules_cond_free(c);
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
			if (tok_is(ps, rules_priority_names[k])) {
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
			/* GROUP or GROUP:TYPE */
			const char *colon = strchr(ps->text, ':');
			enum extract_type type = EXTRACT_TEXT;
			if (colon != NULL && strcmp(colon + 1, "amount") == 0) {
				type = EXTRACT_AMOUNT;
			} else if (colon != NULL) {
				parser_error(ps, ps->tok_line,
					     "extract %s: unknown type \"%s\" (types: amount)", ps->text,
					     colon + 1);
				return -1;
			}
			r->extract_names = xreallocarray(r->extract_names, r->n_extract_names + 1,
							 sizeof(*r->extract_names));
			struct extract_name *en = &r->extract_names[r->n_extract_names++];
			en->name = colon != NULL ? xstrndup(ps->text, (size_t)(colon - ps->text))
						 : xstrdup(ps->text);
			en->type = type;
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
	/* The kids of a match are its context block: their groups are not
	   extracted. */
	if (c->kind == C_MATCH)
		return c->pat.rx != NULL && rx_has_name(c->pat.rx, name);
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
			const char *name = r->extract_names[i].name;
			if (!cond_has_group(r->cond, name)) {
				parser_error(ps, r->line, "rule %s: extract %s, but no pattern has a group (?<%s>...)",
					     r->name, name, name);
				return -1;
			}
		}
	}
	return 0;
}

int
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
			rules_rule_clear(r);
			return -1;
		}
		rules->n_rules++;
	}
	return 0;
}
