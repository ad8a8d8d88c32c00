/*
 * test-rules: the rules language (parsing, errors with file:line and PCRE2
 * offsets), every target, condition and action, how rules combine, Chinese
 * matching, the match limits on hostile input, and the default rules in
 * contrib/rules.d (categories, extraction, priority).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/rules.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/test.h"

static struct rules_options opts;

static struct rules *
load(const char *text, const char **error_r)
{
	struct rules *rules;
	const char *error = NULL;
	if (rules_load_text("t.rules", text, strlen(text), &opts, &rules, &error) < 0) {
		if (error_r != NULL)
			*error_r = error;
		return NULL;
	}
	return rules;
}

static struct rules_result *
classify(struct rules *rules, const char *subject, const char *body)
{
	struct rules_input in;
	struct rules_result *res;
	rules_input_text(&in, subject, body);
	rules_classify(rules, &in, &res);
	return res;
}

static int
fired(const struct rules_result *res, const char *rule)
{
	for (size_t i = 0; i < res->n_hits; i++)
		if (strcmp(res->hits[i].rule, rule) == 0)
			return 1;
	return 0;
}

static const char *
field(const struct rules_result *res, const char *name)
{
	for (size_t i = 0; i < res->n_fields; i++)
		if (strcmp(res->fields[i].name, name) == 0)
			return res->fields[i].value;
	return NULL;
}

static const char *
field_normal(const struct rules_result *res, const char *name)
{
	for (size_t i = 0; i < res->n_fields; i++)
		if (strcmp(res->fields[i].name, name) == 0)
			return res->fields[i].normal;
	return NULL;
}

static int
has_tag(const struct rules_result *res, const char *tag)
{
	for (size_t i = 0; i < res->n_tags; i++)
		if (strcmp(res->tags[i], tag) == 0)
			return 1;
	return 0;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- parse errors ----------------------------------------------------- */

static void
test_errors(void)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the error */
	} cases[] = {
		{ "rule a {\n  subject ~ /x/\n  category c\n", "t.rules:1: rule a: missing \"}\"" },
		{ "rule a {\n  subjet ~ /x/\n  category c\n}\n", "t.rules:2: unknown condition or target \"subjet\"" },
		{ "rule a {\n  subject ~ /(x/\n  category c\n}\n",
		  "t.rules:2: rule a: pattern error at offset 2: missing closing parenthesis" },
		{ "rule a {\n  subject ~ /ok/\n  body ~ /\n   abc|\n   [z-a]/\n  category c\n}\n",
		  "t.rules:5: rule a: pattern error at offset 7: range out of order" },
		{ "rule a {\n  subject ~ //\n  category c\n}\n", "t.rules:2: empty pattern" },
		{ "rule a {\n  subject ~ /abc\n", "t.rules:2: unterminated pattern" },
		{ "rule a {\n  subject ~ /x/q\n  category c\n}\n", "t.rules:2: unknown pattern flag \"q\"" },
		{ "rule a {\n  subject ~ abc\n  category c\n}\n", "t.rules:2: expected a /pattern/" },
		{ "rule a {\n  subject /x/\n  category c\n}\n", "t.rules:2: unexpected \"/\" (a /pattern/ must follow" },
		{ "rule a {\n  category c\n}\n", "t.rules:1: rule a has no condition" },
		{ "rule a {\n  subject ~ /x/\n}\n", "t.rules:1: rule a has no action" },
		{ "rule a {\n  subject ~ /x/\n  category c\n  category d\n}\n",
		  "t.rules:4: rule a: only one category per rule" },
		{ "rule a {\n  subject ~ /x/\n  category c 5000\n}\n", "t.rules:3: category weight must be" },
		{ "rule a {\n  subject ~ /x/\n  priority soon\n}\n", "t.rules:3: priority must be low" },
		{ "rule a {\n  subject ~ /x/\n  priority +9\n}\n", "t.rules:3: priority +N" },
		{ "rule a {\n  subject ~ /(?<id>x)/\n  extract order_id\n}\n",
		  "t.rules:1: rule a: extract order_id, but no pattern has a group" },
		{ "rule a {\n  subject ~ /x/\n  extract\n}\n", "t.rules:1: rule a: extract, but no pattern has a named group" },
		{ "rule a {\n  subject ~ /x/\n  category c\n}\nrule a {\n  body ~ /y/\n  tag t\n}\n",
		  "t.rules:5: duplicate rule name a (first at t.rules:1)" },
		{ "rule {\n  subject ~ /x/\n  tag t\n}\n", "t.rules:1: rule needs a name" },
		{ "rule a\n  subject ~ /x/\n}\n", "t.rules:2: expected \"{\" after rule a" },
		{ "rules a {\n}\n", "t.rules:1: expected \"rule NAME {\"" },
		{ "rule a {\n  header ~ /x/\n  tag t\n}\n", "t.rules:2: header needs a field name" },
		{ "rule a {\n  subject contains \"\"\n  tag t\n}\n", "t.rules:2: contains needs a non-empty" },
		{ "rule a {\n  subject contains \"abc\n  tag t\n}\n", "t.rules:2: unterminated string" },
		{ "rule a {\n  all {\n  }\n  tag t\n}\n", "t.rules:2: empty all { } block" },
		{ "rule a {\n  any {\n    subject ~ /x/\n", "t.rules:2: missing \"}\" for the block" },
		{ "rule a {\n  subject ~ /x/ tag t\n}\n", "t.rules:2: expected the end of the statement" },
		{ "rule a {\n  subject ~ /x/\n  tag\n}\n", "t.rules:3: tag needs at least one name" },
		{ "rule a {\n  subject ~ /x/\n  queue a/b\n}\n", "t.rules:3: unexpected \"/\"" },
		{ "rule a {\n  subject ~ /x/\n  category c\nrule b {\n", "t.rules:4: rule a: missing \"}\" before the next rule" },
		{ "rule a {\n  subject ~ /a\\\n  b/\n  tag t\n}\n", "t.rules:2: a pattern line cannot end with a backslash" },
		{ "rule a {\n  subject ~ /\\C/\n  tag t\n}\n", "t.rules:2: rule a: pattern error at offset" },
		{ "rule a {\n  \x01 subject ~ /x/\n}\n", "t.rules:2: unexpected control character 0x01" },
		{ "rule a {\n  subject ~ /\xff/\n  tag t\n}\n", "t.rules:2: not valid UTF-8" },
	};
	test_begin("parse errors name file:line");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *error = NULL;
		struct rules *rules = load(cases[i].text, &error);
		test_assert(rules == NULL);
		if (error == NULL || strstr(error, cases[i].want) == NULL) {
			test_failures++;
			printf("FAIL case %zu: got \"%s\", want \"%s\"\n", i, error ? error : "(none)",
			       cases[i].want);
		}
		test_checks++;
		rules_free(&rules);
	}

	/* Nesting deeper than allowed. */
	struct buf b;
	buf_init(&b, 65536);
	buf_puts(&b, "rule deep {\n");
	for (int i = 0; i < 40; i++)
		buf_puts(&b, "not ");
	buf_puts(&b, "subject ~ /x/\n tag t\n}\n");
	const char *error = NULL;
	test_assert(load(buf_cstr(&b), &error) == NULL);
	test_assert(error != NULL && strstr(error, "nested deeper") != NULL);
	buf_free(&b);

	/* A NUL byte in a file. */
	struct rules *rules;
	test_assert(rules_load_text("n.rules", "rule a {\0}", 10, &opts, &rules, &error) < 0);
	test_assert(strstr(error, "n.rules:1: the file contains a NUL byte") != NULL);
}

static void
collect(void *context, const char *error)
{
	struct buf *b = context;
	buf_puts(b, error);
	buf_putc(b, '\n');
}

static void
test_all_errors_reported(void)
{
	test_begin("every bad pattern is reported");
	struct buf b;
	buf_init(&b, 65536);
	struct rules_options o = opts;
	o.on_error = collect;
	o.on_error_context = &b;
	const char *text = "rule a {\n subject ~ /(/\n tag t\n}\nrule b {\n body ~ /[/\n tag t\n}\n"
			   "rule c {\n body ~ /ok/\n tag t\n}\n";
	struct rules *rules;
	const char *error;
	test_assert(rules_load_text("m.rules", text, strlen(text), &o, &rules, &error) < 0);
	test_assert(strstr(buf_cstr(&b), "m.rules:2: rule a: pattern error") != NULL);
	test_assert(strstr(buf_cstr(&b), "m.rules:6: rule b: pattern error") != NULL);
	test_assert(strstr(error, "(and 1 more errors)") != NULL);
	buf_free(&b);
}

/* ---- the language: targets and conditions ------------------------------ */

static void
test_targets(void)
{
	const char *text =
		"# comment line\n"
		"rule subj { subject ~ /invoice/ ; tag t-subject }\n"
		"rule body { body ~ /pending/ ; tag t-body }\n"
		"rule full { body-full ~ /old question/ ; tag t-full }\n"
		"rule quoted { body ~ /old question/ ; tag t-quoted }\n"
		"rule text { text ~ /c\\nmy deposit/ ; tag t-text }\n"
		"rule from { from ~ /@vip\\.example$/ ; tag t-from }\n"
		"rule to { to ~ /^support@/ ; tag t-to }\n"
		"rule cc { cc ~ /^boss@/ ; tag t-cc }\n"
		"rule hdr { header \"X-Priority\" ~ /^1/ ; tag t-header }\n"
		"rule hdr-exists { header List-Id exists ; tag t-list }\n"
		"rule att { attachment-name ~ /\\.pdf$/ ; tag t-attname }\n"
		"rule atttype { attachment-type ~ /^image\\// ; tag t-atttype }\n"
		"rule mbox { mailbox ~ /^vip-inbox$/c ; tag t-mailbox }\n"
		"rule contains { subject contains \"a.b*c\" ; tag t-contains }\n"
		"rule multi { subject, body ~ /refund/ ; tag t-multi }\n";
	test_begin("targets");
	const char *error = NULL;
	struct rules *rules = load(text, &error);
	test_assert(rules != NULL);
	if (rules == NULL) {
		printf("error: %s\n", error);
		return;
	}
	const char *to[] = { "support@desk.example", "other@x.example" };
	const char *cc[] = { "boss@desk.example" };
	struct rules_header headers[] = { { "Received", "x" }, { "x-priority", "1 (Highest)" },
					  { "List-Id", "" } };
	struct rules_attachment atts[] = { { "screen.png", "image/png" }, { "order.PDF", "application/pdf" } };
	struct rules_input in;
	rules_input_text(&in, "Your invoice a.b*c", "My deposit is pending, refund?\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <b@x.example> wrote:\n> old question\n");
	in.from = "ceo@vip.example";
	in.to = to;
	in.n_to = 2;
	in.cc = cc;
	in.n_cc = 1;
	in.headers = headers;
	in.n_headers = N_ELEMENTS(headers);
	in.attachments = atts;
	in.n_attachments = N_ELEMENTS(atts);
	in.mailbox = "vip-inbox";
	struct rules_result *res;
	rules_classify(rules, &in, &res);
	static const char *const want[] = { "t-subject", "t-body", "t-full", "t-text", "t-from",
					    "t-to", "t-cc", "t-header", "t-list", "t-attname",
					    "t-atttype", "t-mailbox", "t-contains", "t-multi" };
	for (size_t i = 0; i < N_ELEMENTS(want); i++) {
		if (!has_tag(res, want[i])) {
			test_failures++;
			printf("FAIL targets: tag %s missing\n", want[i]);
		}
		test_checks++;
	}
	test_assert(!has_tag(res, "t-quoted")); /* exclude_quotes: body has no quoted reply */
	test_assert_str(res->category, "other");
	rules_result_free(&res);

	/* Misses: another mailbox (the c flag makes it case-sensitive), no
	   List-Id, "contains" is literal. */
	rules_input_text(&in, "abc", "nothing");
	in.mailbox = "VIP-INBOX";
	rules_classify(rules, &in, &res);
	test_assert_int(res->n_hits, 0);
	rules_result_free(&res);

	/* A caller that stripped the quotes already passes the new text. */
	rules_input_text(&in, "", "old question\n");
	in.body_new = "refund please";
	in.body_new_len = strlen(in.body_new);
	rules_classify(rules, &in, &res);
	test_assert(has_tag(res, "t-multi"));
	test_assert(!has_tag(res, "t-quoted"));
	test_assert(has_tag(res, "t-full")); /* body-full is the whole body */
	rules_result_free(&res);

	/* exclude_quotes off: body keeps the quoted reply. */
	rules_free(&rules);
	struct rules_options o = opts;
	o.exclude_quotes = 0;
	test_assert(rules_load_text("t.rules", text, strlen(text), &o, &rules, &error) == 0);
	rules_input_text(&in, "", "new\n> old question\n");
	rules_classify(rules, &in, &res);
	test_assert(has_tag(res, "t-quoted"));
	rules_result_free(&res);
	rules_free(&rules);
}

static void
test_conditions(void)
{
	const char *text =
		"rule all-of {\n  all {\n    subject ~ /a1/\n    body ~ /b1/\n  }\n  tag all\n}\n"
		"rule any-of {\n  any {\n    subject ~ /a2/\n    body ~ /b2/\n  }\n  tag any\n}\n"
		"rule none-of {\n  not any { subject ~ /a3/ ; body ~ /b3/ }\n  tag none\n}\n"
		"rule implicit-all {\n  subject ~ /a4/\n  not body ~ /b4/\n  tag implicit\n}\n"
		"rule nested {\n  any {\n    all { subject ~ /x/ ; body ~ /y/ }\n    not subject ~ /./\n  }\n  tag nested\n}\n"
		"rule always { always ; tag always }\n";
	static const struct {
		const char *subject, *body;
		const char *tags; /* space separated, in any order */
	} cases[] = {
		{ "a1", "b1", "all none always" },
		{ "a1", "zz", "none always" },
		{ "a2", "zz", "any none always" },
		{ "zz", "b2", "any none always" },
		{ "a3", "zz", "always" },
		{ "zz", "b3", "always" },
		{ "a4", "zz", "implicit none always" },
		{ "a4", "b4", "none always" },
		{ "x", "y", "nested none always" },
		{ "", "", "nested none always" },
		{ "x", "zz", "none always" },
	};
	test_begin("all / any / not");
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rules_result *res = classify(rules, cases[i].subject, cases[i].body);
		struct buf got;
		buf_init(&got, 4096);
		for (size_t k = 0; k < res->n_tags; k++)
			buf_printf(&got, "%s%s", k > 0 ? " " : "", res->tags[k]);
		/* compare as sets */
		int ok = 1;
		char *want = xstrdup(cases[i].tags);
		size_t n_want = 0;
		for (char *p = want, *w; (w = p) != NULL && *w != '\0'; n_want++) {
			char *sp = strchr(p, ' ');
			if (sp != NULL)
				*sp = '\0';
			if (!has_tag(res, w))
				ok = 0;
			p = sp != NULL ? sp + 1 : NULL;
		}
		if (n_want != res->n_tags)
			ok = 0;
		if (!ok) {
			test_failures++;
			printf("FAIL conditions case %zu: got \"%s\", want \"%s\"\n", i, buf_cstr(&got),
			       cases[i].tags);
		}
		test_checks++;
		free(want);
		buf_free(&got);
		rules_result_free(&res);
	}
	rules_free(&rules);
}

static void
test_patterns(void)
{
	const char *text =
		"rule caseless { subject ~ /WITHDRAWAL/ ; tag caseless }\n"
		"rule cased { subject ~ /USDT/c ; tag cased }\n"
		"rule chinese { subject, body ~ /提现|未到账/ ; tag chinese }\n"
		"rule han { subject ~ /^\\p{Han}{2,}$/ ; tag han }\n"
		"rule word { body ~ /\\bpin\\b/ ; tag word }\n"
		"rule fullwidth { body ~ /ＡＢＣ/ ; tag fullwidth }\n"
		"rule multiline {\n  body ~ /^second/m\n  tag multiline\n}\n"
		"rule dotall { body ~ /first.second/s ; tag dotall }\n"
		"rule nodot { body ~ /first.second/ ; tag nodot }\n"
		"rule extended { body ~ /f i r s t/x ; tag extended }\n"
		"rule joined {\n  body ~ /(?:nothing|\n         first line|\n         never)/\n  tag joined\n}\n"
		"rule slash { body ~ /a\\/b/ ; tag slash }\n";
	static const struct {
		const char *subject, *body, *tag;
		int want;
	} cases[] = {
		{ "my withdrawal", "", "caseless", 1 },
		{ "usdt", "", "cased", 0 },
		{ "USDT", "", "cased", 1 },
		{ "", "我的提现还没有未到账", "chinese", 1 },
		{ "充值", "", "han", 1 },
		{ "充值 x", "", "han", 0 },
		{ "", "my PIN is blocked", "word", 1 },
		{ "", "spinning", "word", 0 },
		{ "", "ａｂｃ", "fullwidth", 1 }, /* caseless full-width letters (UCP) */
		{ "", "first\nsecond", "multiline", 1 },
		{ "", "first\nsecond", "dotall", 1 },
		{ "", "first\nsecond", "nodot", 0 },
		{ "", "first", "extended", 1 },
		{ "", "the first line", "joined", 1 },
		{ "", "first\nline", "joined", 0 },
		{ "", "a/b", "slash", 1 },
		{ "\xff\xfe invalid", "\xc3\x28 withdrawal", "caseless", 0 }, /* invalid UTF-8 is no error */
	};
	test_begin("patterns: flags, Unicode, Chinese, layout");
	const char *error = NULL;
	struct rules *rules = load(text, &error);
	test_assert(rules != NULL);
	if (rules == NULL) {
		printf("error: %s\n", error);
		return;
	}
	test_assert(rules_count(rules) == 12);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rules_result *res = classify(rules, cases[i].subject, cases[i].body);
		if (has_tag(res, cases[i].tag) != cases[i].want) {
			test_failures++;
			printf("FAIL patterns case %zu (%s): got %d\n", i, cases[i].tag, !cases[i].want);
		}
		test_checks++;
		test_assert_int(res->n_limit_hits, 0);
		rules_result_free(&res);
	}
	rules_free(&rules);
}

/* ---- actions and how rules combine --------------------------------------- */

static void
test_combination(void)
{
	const char *text =
		"rule r1 { body ~ /declined/ ; category failed_trade 3 ; queue trading ; priority normal }\n"
		"rule r2 { body ~ /pending/ ; category delayed_payment 4 ; queue wallet ; priority high }\n"
		"rule r3 { body ~ /fee/ ; category failed_trade -2 }\n"
		"rule r4 { body ~ /tie/ ; category registration 2 }\n"
		"rule r5 { body ~ /tie/ ; category complaint 2 ; priority urgent }\n"
		"rule r6 { body ~ /generic/ ; queue general ; tag g ; tag g2 g }\n"
		"rule r7 { body ~ /quiet/ ; no-ack ; tag q }\n"
		"rule r8 { body ~ /junk/ ; spam }\n"
		"rule r9 { body ~ /halt/ ; category other 1 ; stop }\n"
		"rule r10 { body ~ /halt|pending/ ; tag after-stop }\n"
		"rule r11 { body ~ /raise/ ; priority +1 }\n"
		"rule r12 { body ~ /raise2/ ; priority +2 }\n"
		"rule r13 { body ~ /low/ ; priority low }\n";
	test_begin("how rules combine");
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	struct rules_result *res;

	res = classify(rules, NULL, "nothing at all");
	test_assert_str(res->category, "other");
	test_assert_str(res->priority, "normal");
	test_assert(res->queue == NULL);
	test_assert(!res->no_ack && !res->spam && res->stopped_by == NULL);
	rules_result_free(&res);

	/* Highest score wins; queue and priority follow the winner. */
	res = classify(rules, NULL, "declined but pending");
	test_assert_str(res->category, "delayed_payment");
	test_assert_str(res->queue, "wallet");
	test_assert_str(res->priority, "high");
	test_assert_int(res->n_scores, 2);
	test_assert(fired(res, "r1") && fired(res, "r2") && fired(res, "r10"));
	rules_result_free(&res);

	/* Negative weights lower a score; 3 - 2 = 1 still wins over none. */
	res = classify(rules, NULL, "declined, a fee");
	test_assert_str(res->category, "failed_trade");
	test_assert_str(res->queue, "trading");
	rules_result_free(&res);
	res = classify(rules, NULL, "a fee");
	test_assert_str(res->category, "other"); /* -2: no positive score */
	rules_result_free(&res);

	/* A tie goes to the category named first; the loser's priority does
	   not apply. */
	res = classify(rules, NULL, "tie");
	test_assert_str(res->category, "registration");
	test_assert_str(res->priority, "normal");
	rules_result_free(&res);

	/* Queue of a rule without category applies; tags are a set. */
	res = classify(rules, NULL, "generic quiet");
	test_assert_str(res->queue, "general");
	test_assert_int(res->n_tags, 3);
	test_assert(has_tag(res, "g") && has_tag(res, "g2") && has_tag(res, "q"));
	test_assert(res->no_ack);
	rules_result_free(&res);

	res = classify(rules, NULL, "junk");
	test_assert(res->spam);
	rules_result_free(&res);

	/* stop: later rules are not evaluated. */
	res = classify(rules, NULL, "halt pending");
	test_assert_str(res->stopped_by, "r9");
	test_assert(!fired(res, "r10"));
	test_assert(!fired(res, "r11"));
	test_assert_str(res->category, "delayed_payment"); /* r2 came before the stop */
	rules_result_free(&res);

	/* Priority: highest level, then raises, capped. */
	res = classify(rules, NULL, "raise");
	test_assert_str(res->priority, "high");
	rules_result_free(&res);
	res = classify(rules, NULL, "pending raise raise2");
	test_assert_str(res->priority, "urgent");
	rules_result_free(&res);
	res = classify(rules, NULL, "low");
	test_assert_str(res->priority, "low");
	rules_result_free(&res);
	res = classify(rules, NULL, "low pending");
	test_assert_str(res->priority, "high");
	rules_result_free(&res);
	rules_free(&rules);

	/* A custom default category. */
	struct rules_options o = opts;
	o.default_category = "unsorted";
	const char *error;
	test_assert(rules_load_text("d.rules", text, strlen(text), &o, &rules, &error) == 0);
	res = classify(rules, NULL, "x");
	test_assert_str(res->category, "unsorted");
	rules_result_free(&res);
	rules_free(&rules);
}

static void
test_extract(void)
{
	const char *text =
		"rule ids {\n  body ~ /order (?<order_id>\\d+)(?: for (?<coin>[A-Z]+))?/\n  extract\n}\n"
		"rule only-coin {\n  body ~ /(?<amount>\\d+) (?<coin>BTC)/\n  extract coin\n}\n"
		"rule second-order {\n  body ~ /ref (?<order_id>\\d+)/\n  extract order_id\n}\n"
		"rule no-extract {\n  body ~ /(?<secret>pw\\d+)/\n  tag x\n}\n"
		"rule negated {\n  not body ~ /(?<ghost>zzz)/\n  body ~ /(?<real>real)/\n  extract\n}\n";
	test_begin("extract named captures");
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	struct rules_result *res = classify(rules, NULL, "order 123 then ref 456, 5 BTC pw99 real");
	test_assert_str(field(res, "order_id"), "123"); /* the first value wins */
	test_assert(field(res, "coin") != NULL && strcmp(field(res, "coin"), "BTC") == 0);
	test_assert(field(res, "amount") == NULL);	/* not asked for */
	test_assert(field(res, "secret") == NULL);	/* no extract */
	test_assert_str(field(res, "real"), "real");
	test_assert(field(res, "ghost") == NULL);
	/* The hit shows the match, its context and the captures. */
	const struct rules_hit *h = &res->hits[0];
	test_assert_str(h->rule, "ids");
	test_assert_int(h->n_matches, 1);
	test_assert_str(h->matches[0].target, "body");
	test_assert_str(h->matches[0].text, "order 123");
	test_assert_str(h->matches[0].before, "");
	test_assert(str_starts_with(h->matches[0].after, " then ref 456"));
	test_assert_int(h->matches[0].n_captures, 1); /* coin did not take part */
	test_assert_str(h->file, "t.rules");
	test_assert_int(h->line, 1);
	char *summary = rules_hit_summary(h);
	test_assert_str(summary, "body: \"order 123\"");
	free(summary);
	rules_result_free(&res);
	rules_free(&rules);
}

static void
test_vip(void)
{
	const char *text = "rule vip { vip ; priority +1 ; tag vip }\n";
	static const struct {
		const char *from;
		int want;
	} cases[] = {
		{ "boss@big.example", 1 },   { "BOSS@BIG.EXAMPLE", 1 }, { "other@big.example", 0 },
		{ "a@corp.example", 1 },     { "a@eu.corp.example", 1 }, { "a@notcorp.example", 0 },
		{ "a@fund.example", 1 },     { NULL, 0 },		  { "nobody", 0 },
	};
	test_begin("vip senders");
	struct rules_options o = opts;
	o.vip_senders = " boss@big.example, corp.example;@fund.example  ";
	struct rules *rules;
	const char *error;
	test_assert(rules_load_text("v.rules", text, strlen(text), &o, &rules, &error) == 0);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rules_input in;
		struct rules_result *res;
		rules_input_text(&in, "s", "b");
		in.from = cases[i].from;
		rules_classify(rules, &in, &res);
		if (has_tag(res, "vip") != cases[i].want) {
			test_failures++;
			printf("FAIL vip case %zu\n", i);
		}
		test_checks++;
		test_assert_str(res->priority, cases[i].want ? "high" : "normal");
		rules_result_free(&res);
	}
	rules_free(&rules);
}

/* ---- files, directories, reload ---------------------------------------------- */

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
}

static void
test_files(void)
{
	test_begin("directories and reload");
	char dir[] = "/tmp/test-rules.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		test_assert(0);
		return;
	}
	char *p1 = xasprintf("%s/20-b.rules", dir), *p2 = xasprintf("%s/10-a.rules", dir);
	char *p3 = xasprintf("%s/.hidden.rules", dir), *p4 = xasprintf("%s/notes.txt", dir);
	write_file(p1, "rule b { body ~ /x/ ; category second 5 }\n");
	write_file(p2, "rule a { body ~ /x/ ; category first 5 }\n");
	write_file(p3, "this is not a rule file\n");
	write_file(p4, "neither is this\n");
	const char *paths[] = { dir };
	struct rules *rules;
	const char *error;
	test_assert(rules_load(paths, 1, &opts, &rules, &error) == 0);
	test_assert_int(rules_count(rules), 2);
	test_assert_str(rules_name(rules, 0), "a"); /* 10-a.rules before 20-b.rules */
	struct rules_result *res = classify(rules, NULL, "x");
	test_assert_str(res->category, "first");
	test_assert_str(res->hits[0].file, p2);
	rules_result_free(&res);

	/* A broken file: reload fails, the old rules stay. */
	write_file(p1, "rule b { body ~ /(x/ ; category second 5 }\n");
	struct rules *kept = rules;
	test_assert(rules_reload(&rules, paths, 1, &opts, &error) < 0);
	test_assert(rules == kept);
	test_assert(strstr(error, "20-b.rules:1: rule b: pattern error at offset 2") != NULL);
	/* Fixed: reload swaps. */
	write_file(p1, "rule b { body ~ /x/ ; category second 50 }\n");
	test_assert(rules_reload(&rules, paths, 1, &opts, &error) == 0);
	res = classify(rules, NULL, "x");
	test_assert_str(res->category, "second");
	rules_result_free(&res);
	rules_free(&rules);
	test_assert(rules == NULL);

	/* Files given one by one, a missing one. */
	const char *files[] = { p1, "/nonexistent/x.rules" };
	test_assert(rules_load(files, 2, &opts, &rules, &error) < 0);
	test_assert(strstr(error, "/nonexistent/x.rules: No such file") != NULL);
	/* An empty directory is no error: everything is "other". */
	unlink(p1);
	unlink(p2);
	test_assert(rules_load(paths, 1, &opts, &rules, &error) == 0);
	test_assert_int(rules_count(rules), 0);
	rules_free(&rules);
	unlink(p3);
	unlink(p4);
	rmdir(dir);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
}

static void
test_input_from_mime(void)
{
	test_begin("rules_input_from_mime");
	struct mime_message msg;
	memset(&msg, 0, sizeof(msg));
	struct mime_header headers[] = { { "Subject", "提现未到账" }, { "X-Tag", "gold" } };
	struct mime_address to[] = { { .name = NULL }, { .name = "Desk", .address = "support@desk.example" } };
	struct mime_address cc[] = { { .name = "Boss", .address = "boss@desk.example" } };
	struct mime_attachment atts[1];
	memset(atts, 0, sizeof(atts));
	atts[0].filename = "screenshot.png";
	atts[0].content_type = "image/png";
	msg.headers = headers;
	msg.n_headers = 2;
	msg.subject = "提现未到账";
	msg.from.address = "user@mail.example";
	msg.to.items = to;
	msg.to.count = 2;
	msg.cc.items = cc;
	msg.cc.count = 1;
	msg.text = "TxID 0x1234";
	msg.text_len = strlen(msg.text);
	msg.attachments = atts;
	msg.n_attachments = 1;
	struct rules_input *in = rules_input_from_mime(&msg, "inbox");
	test_assert_int(in->n_to, 1); /* the group (NULL address) is left out */
	test_assert_str(in->to[0], "support@desk.example");
	test_assert_str(in->cc[0], "boss@desk.example");
	test_assert_str(in->headers[1].value, "gold");
	test_assert_str(in->attachments[0].content_type, "image/png");
	test_assert_str(in->mailbox, "inbox");
	const char *text = "rule r {\n  all {\n    subject ~ /提现/\n    header x-tag ~ /^gold$/\n"
			   "    attachment-name ~ /png$/\n    to ~ /^support@/\n    cc ~ /^boss@/\n"
			   "    from ~ /@mail\\.example$/\n    body ~ /txid/\n    mailbox ~ /inbox/\n  }\n"
			   "  category delayed_payment\n}\n";
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules != NULL) {
		struct rules_result *res;
		rules_classify(rules, in, &res);
		test_assert_str(res->category, "delayed_payment");
		rules_result_free(&res);
		rules_free(&rules);
	}
	rules_input_free(&in);
	test_assert(in == NULL);
}

/* ---- limits ---------------------------------------------------------------- */

static void
test_limits(void)
{
	test_begin("match limits: catastrophic patterns count as no match");
	const char *text = "rule evil {\n  body ~ /(a+)+b/\n  category failed_trade 10\n}\n"
			   "rule evil-quote {\n  body-full ~ /^(?:>+\\s*)+x$/m\n  category complaint 10\n}\n"
			   "rule fine {\n  body ~ /c/\n  tag fine\n}\n";
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	/* The synthetic case: 'a' * 5000 then "c b" - a required "b" exists,
	   so PCRE2 cannot give up early. */
	size_t n = 5000;
	char *body = xmalloc(n + 4);
	memset(body, 'a', n);
	memcpy(body + n, "c b", 4);
	double t0 = now();
	struct rules_result *res = classify(rules, NULL, body);
	double t = now() - t0;
	test_assert_str(res->category, "other");
	test_assert(!fired(res, "evil"));
	test_assert(fired(res, "fine"));
	test_assert(res->n_limit_hits >= 1);
	if (res->n_limit_hits >= 1) {
		test_assert_str(res->limit_hits[0].rule, "evil");
		test_assert_str(res->limit_hits[0].target, "body");
		test_assert(strstr(res->limit_hits[0].why, "limit") != NULL);
	}
	test_assert(t < 5.0);
	printf("(a+)+b on %zu bytes: %.3f s, limit hits %zu\n", n, t, res->n_limit_hits);
	rules_result_free(&res);

	/* A line of 700,000 '>' (the shape of email_reply_parser's
	   email_long_quote.txt): the quote stripper and the limits keep it
	   bounded. */
	size_t m = 700000;
	char *quote = xmalloc(m + 64);
	memcpy(quote, "Hi folks\n", 9);
	memset(quote + 9, '>', m);
	memcpy(quote + 9 + m, "\nI am using the Java API\n", 26);
	t0 = now();
	res = classify(rules, NULL, quote);
	t = now() - t0;
	test_assert(!fired(res, "evil-quote"));
	test_assert(t < 10.0);
	printf("700,000 '>' line: %.3f s, limit hits %zu\n", t, res->n_limit_hits);
	rules_result_free(&res);
	free(quote);
	free(body);
	rules_free(&rules);

	/* With a tiny match limit even an ordinary pattern is cut off. */
	struct rules_options o = opts;
	o.match_limit = 1;
	const char *simple = "rule tiny { body ~ /(?:x|y)+z/ ; tag t }\n";
	test_assert(rules_load_text("l.rules", simple, strlen(simple), &o, &rules, NULL) == 0);
	res = classify(rules, NULL, "xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyz");
	test_assert(res->n_limit_hits == 1 || fired(res, "tiny"));
	rules_result_free(&res);
	rules_free(&rules);
}

static char *
default_rules_dir(void)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/contrib/rules.d", top != NULL ? top : ".");
	struct stat st;
	if (stat(dir, &st) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

static void
test_long_quote_corpus(struct rules *defaults)
{
	test_begin("default rules on email_long_quote.txt");
	char *corpora = test_corpora_dir();
	if (corpora == NULL) {
		printf("(corpus absent: email_long_quote.txt part skipped)\n");
		return;
	}
	char *path = xasprintf("%s/replies/email_reply_parser/test/emails/email_long_quote.txt", corpora);
	size_t len;
	char *text = (char *)test_read_file(path, &len);
	if (text != NULL) {
		const char *evil = "rule evil-quote { body-full ~ /^(?!On.*On\\s.+?wrote:)(On\\s(.+?)wrote:)$/m ;"
				   " tag t }\nrule evil-nest { body-full ~ /(>+)+x/ ; tag t2 }\n";
		struct rules *rules = load(evil, NULL);
		test_assert(rules != NULL);
		struct rules_input in;
		struct rules_result *res;
		rules_input_text(&in, "Re: clearing a bucket", text);
		double t0 = now();
		rules_classify(defaults, &in, &res);
		double t1 = now();
		test_assert(t1 - t0 < 10.0);
		printf("default rules on %zu bytes of quotes: %.3f s, category %s, limit hits %zu\n", len,
		       t1 - t0, res->category, res->n_limit_hits);
		rules_result_free(&res);
		if (rules != NULL) {
			rules_classify(rules, &in, &res);
			double t2 = now();
			test_assert(t2 - t1 < 10.0);
			test_assert(!has_tag(res, "t2"));
			printf("catastrophic patterns on it: %.3f s, limit hits %zu\n", t2 - t1,
			       res->n_limit_hits);
			rules_result_free(&res);
			rules_free(&rules);
		}
		free(text);
	}
	free(path);
	free(corpora);
}

/* ---- the default rules ----------------------------------------------------- */

static void
test_default_rules(void)
{
	static const struct {
		const char *subject, *body, *category, *priority;
	} cases[] = {
		{ "收不到验证码", "注册的时候一直收不到短信验证码，怎么办？", "registration", "normal" },
		{ "实名认证失败", "我的身份证上传了三次都审核不通过", "registration", "normal" },
		{ "Verification email", "I signed up yesterday but never got the verification email.", "registration", "normal" },
		{ "KYC", "Why was my identity verification rejected? I uploaded my passport twice.", "registration", "normal" },
		{ "下单失败", "限价单下单失败，提示系统错误", "failed_trade", "normal" },
		{ "交易失败", "我的交易失败了，但是余额被扣了", "failed_trade", "normal" },
		{ "Order failed", "My limit order to buy ETH failed with an error.", "failed_trade", "normal" },
		{ "Charged twice", "I was charged twice for the same purchase.", "failed_trade", "normal" },
		{ "提现未到账", "昨天提现的USDT到现在还没到账", "delayed_payment", "normal" },
		{ "充值延迟", "充值已经过了两个小时还没到账，区块确认数已经够了", "delayed_payment", "normal" },
		{ "Deposit not credited", "My BTC deposit has not been credited yet, it has 3 confirmations.", "delayed_payment", "normal" },
		{ "Withdrawal pending", "My withdrawal is still pending since Monday.", "delayed_payment", "normal" },
		{ "账户被冻结", "我的账户被冻结了，无法登录", "account_security", "high" },
		{ "资产被盗", "我的账号被盗了，资产被转走了", "account_security", "high" },
		{ "Hacked", "Someone hacked my account and withdrew my funds, I did not make these withdrawals!", "account_security", "high" },
		{ "Lost 2FA", "I lost my phone with the Google Authenticator, I cannot log in.", "account_security", "high" },
		{ "投诉", "我要投诉你们的客服，太差了", "complaint", "high" },
		{ "Complaint", "This is unacceptable. I will contact my lawyer and the regulator.", "complaint", "high" },
		{ "Question", "What are your opening hours?", "other", "normal" },
		{ "Fees", "How much is the fee for a transfer?", "other", "normal" },
		{ "Card", "When will my new card arrive?", "other", "normal" },
	};
	test_begin("default rules: categories and priority");
	char *dir = default_rules_dir();
	if (dir == NULL) {
		printf("(contrib/rules.d not found: default rules not tested)\n");
		test_assert(0);
		return;
	}
	const char *paths[] = { dir };
	struct rules_options o = opts;
	o.vip_senders = "vip.example";
	struct rules *rules;
	const char *error = NULL;
	test_assert(rules_load(paths, 1, &o, &rules, &error) == 0);
	if (error != NULL)
		printf("error: %s\n", error);
	free(dir);
	if (rules == NULL)
		return;
	test_assert(rules_count(rules) >= 30);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rules_result *res = classify(rules, cases[i].subject, cases[i].body);
		if (strcmp(res->category, cases[i].category) != 0 ||
		    strcmp(res->priority, cases[i].priority) != 0) {
			test_failures++;
			printf("FAIL default case %zu \"%s\": got %s/%s, want %s/%s; fired:", i,
			       cases[i].body, res->category, res->priority, cases[i].category,
			       cases[i].priority);
			for (size_t k = 0; k < res->n_hits; k++)
				printf(" %s", res->hits[k].rule);
			printf("\n");
		}
		test_checks++;
		rules_result_free(&res);
	}

	test_begin("default rules: extraction");
	const char *hash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
	const char *btc = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16";
	char *body = xasprintf("Withdrawal of 1,250.5 USDT to 0x52908400098527886E0F7030069857D2E4169EE7 "
			       "is stuck, tx hash %s. Order ID: A1B2C3D4E5. My account email is "
			       "alice.w+desk@mail.example.com",
			       hash);
	struct rules_result *res = classify(rules, "Withdrawal stuck", body);
	test_assert_str(field(res, "tx_hash"), hash);
	test_assert_str(field(res, "amount"), "1,250.5");
	test_assert_str(field(res, "coin"), "USDT");
	test_assert_str(field(res, "order_id"), "A1B2C3D4E5");
	test_assert_str(field(res, "account_email"), "alice.w+desk@mail.example.com");
	test_assert_str(field(res, "wallet_address"), "0x52908400098527886E0F7030069857D2E4169EE7");
	test_assert_str(res->category, "delayed_payment");
	rules_result_free(&res);
	free(body);
	body = xasprintf("提现0.5 BTC，交易哈希：%s，订单号：202405170001", btc);
	res = classify(rules, "提现", body);
	test_assert_str(field(res, "tx_hash"), btc);
	test_assert_str(field(res, "amount"), "0.5");
	test_assert_str(field(res, "coin"), "BTC");
	test_assert_str(field(res, "order_id"), "202405170001");
	rules_result_free(&res);
	free(body);
	/* 63 or 65 hex digits are no hash; a word is no order id. */
	res = classify(rules, "x", "hash 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b2206 "
				   "and 5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b220601 "
				   "order history please");
	test_assert(field(res, "tx_hash") == NULL);
	test_assert(field(res, "order_id") == NULL);
	rules_result_free(&res);

	test_begin("default rules: VIP senders are raised");
	struct rules_input in;
	rules_input_text(&in, "Question", "What are your opening hours?");
	in.from = "trader@desk.vip.example";
	rules_classify(rules, &in, &res);
	test_assert_str(res->priority, "high");
	test_assert(has_tag(res, "vip"));
	rules_result_free(&res);
	rules_input_text(&in, "Hacked", "My account was hacked");
	in.from = "trader@vip.example";
	rules_classify(rules, &in, &res);
	test_assert_str(res->priority, "urgent");
	rules_result_free(&res);

	test_long_quote_corpus(rules);
	rules_free(&rules);
}

/* ---- the prefilter never changes a result ---------------------------------- */

static int
same_result(const struct rules_result *a, const struct rules_result *b)
{
	if (strcmp(a->category, b->category) != 0 || strcmp(a->priority, b->priority) != 0 ||
	    a->n_hits != b->n_hits || a->n_fields != b->n_fields || a->n_tags != b->n_tags)
		return 0;
	for (size_t i = 0; i < a->n_hits; i++) {
		if (strcmp(a->hits[i].rule, b->hits[i].rule) != 0 ||
		    a->hits[i].n_matches != b->hits[i].n_matches)
			return 0;
		for (size_t k = 0; k < a->hits[i].n_matches; k++)
			if (strcmp(a->hits[i].matches[k].text, b->hits[i].matches[k].text) != 0)
				return 0;
	}
	for (size_t i = 0; i < a->n_fields; i++)
		if (strcmp(a->fields[i].value, b->fields[i].value) != 0)
			return 0;
	return 1;
}

static size_t prefilter_diffs;

static void
compare_prefilter(struct rules *with, struct rules *without, const char *subject, const char *body)
{
	struct rules_result *a = classify(with, subject, body);
	struct rules_result *b = classify(without, subject, body);
	if (!same_result(a, b)) {
		if (prefilter_diffs++ < 10)
			printf("FAIL prefilter changed the result for \"%s\" / \"%.80s\": %s (%zu hits) vs %s (%zu hits)\n",
			       subject ? subject : "", body, a->category, a->n_hits, b->category, b->n_hits);
	}
	rules_result_free(&a);
	rules_result_free(&b);
}

static void
test_prefilter(void)
{
	/* Patterns of every shape the prefilter reads (and some it must
	   refuse), each with its own category. */
	static const char *const patterns[] = {
		"plain words", "(?:pend|stuck) (?:deposit|withdrawal)", "withdraw(?:al|als)?\\b",
		"\\bnot\\s+(?:\\w+\\s+){0,3}arrived", "a{2,3}bc", "x{1}yz", "lit\\{eral", "\\{brace\\}",
		"[Tt]wice|dou+ble", "colou?r", "(?=.*fee)charge", "(?<!no )refund", "caf\\x{e9}",
		"(?i)CASE|other", "\\Qa.b\\E", "提现|未到账", "ＡＢＣ|ｘｙｚ", "\\bk(?:elvin|ilo)", "lo[sſ]t|ſtolen",
		"(?:a|bb)+cc", "(?:word|)end", "^start|end$", "\\d{3,}-?code", "(?<name>named) group",
		"\\.\\-\\/\\#punct", "tab\\there", "(?>atomic)ally", "(?|branch|reset)", "a(?#comment)bc",
		"USDT/c", "\\p{Han}{2}钱", "[^x]yz|pq[rs]", "(?:(?:deep(?:er)?)+)est",
		"ab(?:cd)*?ef", "gh??ij", "kl{0,1}mn", "op?+qr", "n['’]?t know", "(?:abc|de)?fg",
		"(?:x|y)z(?:w|v)", "(st)?uv", "wx(?:yz)?", "[àé]clair|ÉCLAIR", "(?:a|b)c{2}d",
	};
	test_begin("the prefilter never changes a result");
	struct buf src;
	buf_init(&src, 1 << 20);
	for (size_t i = 0; i < N_ELEMENTS(patterns); i++) {
		const char *p = patterns[i];
		const char *flags = "";
		if (strcmp(p, "USDT/c") == 0) {
			p = "USDT";
			flags = "c";
		}
		buf_printf(&src, "rule p%zu { text ~ /%s/%s ; category c%zu }\n", i, p, flags, i);
		buf_printf(&src, "rule q%zu { body-full ~ /%s/%s ; tag t%zu }\n", i, p, flags, i);
	}
	struct rules_options o = opts;
	struct rules *with, *without;
	const char *error = NULL;
	test_assert(rules_load_text("p.rules", buf_cstr(&src), src.len, &o, &with, &error) == 0);
	if (error != NULL)
		printf("error: %s\n", error);
	o.no_prefilter = 1;
	test_assert(rules_load_text("p.rules", buf_cstr(&src), src.len, &o, &without, &error) == 0);
	buf_free(&src);
	if (with == NULL || without == NULL) {
		rules_free(&with);
		rules_free(&without);
		return;
	}
	static const char *const texts[] = {
		"PLAIN WORDS", "Plain  words", "my deposit is PENDING deposit", "Pend Withdrawal", "Withdrawals now",
		"not yet arrived", "NOT  really   quite arrived", "aabc aaabc abc", "xyz", "lit{eral", "{brace}",
		"TWICE double douuuble", "color COLOUR", "a fee charge", "no refund", "refund", "café CAFÉ",
		"case OTHER", "a.b", "提现 未到账", "ａｂｃ ＸＹＺ", "\xe2\x84\xaa" "elvin kilo", "lo\xc5\xbft \xc5\xbftolen",
		"LOſT", "aabbcc", "end", "start here", "the end", "123-code 4567code", "Named Group",
		".-/#punct", "tab\there", "atomically", "reset", "abc", "usdt", "USDT", "中国钱", "ayz pqs",
		"deepdeeperest", "", "\xff\xfe broken \xc3 utf8 pending deposit",
		"abcdcdef", "abef", "ghij", "gij", "kmn", "klmn", "kllmn", "oqr", "opqr", "nt know",
		"N’T KNOW", "n't know", "fg", "abcfg", "defg", "xzw", "yzv", "uv", "stuv", "wx", "wxyz",
		"éclair", "Éclair", "ÀCLAIR", "éclair", "accd", "bccd",
	};
	for (size_t i = 0; i < N_ELEMENTS(texts); i++) {
		compare_prefilter(with, without, NULL, texts[i]);
		compare_prefilter(with, without, texts[i], "x");
	}
	/* Random texts made of the patterns' own pieces. */
	static const char *const pieces[] = {
		"ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "n't", "know", "fg", "de",
		"plain", "words", "pend", "stuck", "deposit", "withdrawal", "not", "arrived", "aa", "bc",
		"x", "yz", "{", "}", "twice", "double", "colour", "fee", "charge", "no", "refund", "提现",
		"未到账", "ＡＢＣ", "\xe2\x84\xaa", "\xc5\xbf", "lost", "cc", "end", "start", " ", "  ", "\n",
		"123", "-code", "named", "group", "USDT", "usdt", "钱", "中国", "deep", "est", "er", "K", "S",
	};
	unsigned int seed = 12345;
	char text[512];
	for (int round = 0; round < 3000; round++) {
		size_t len = 0;
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		for (int k = 0; k < n; k++) {
			const char *piece = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % N_ELEMENTS(pieces)];
			size_t pl = strlen(piece);
			if (len + pl + 1 >= sizeof(text))
				break;
			memcpy(text + len, piece, pl);
			len += pl;
		}
		text[len] = '\0';
		compare_prefilter(with, without, NULL, text);
	}
	test_assert_int(prefilter_diffs, 0);
	test_checks++;
	rules_free(&with);
	rules_free(&without);

	/* The default rules on banking77 and on a few mails, with and
	   without the prefilter. */
	char *dir = default_rules_dir();
	char *corpora = test_corpora_dir();
	if (dir == NULL || corpora == NULL) {
		printf("(default rules or corpora absent: banking77 comparison skipped)\n");
		free(dir);
		free(corpora);
		return;
	}
	const char *paths[] = { dir };
	o = opts;
	test_assert(rules_load(paths, 1, &o, &with, &error) == 0);
	o.no_prefilter = 1;
	test_assert(rules_load(paths, 1, &o, &without, &error) == 0);
	char *csv = xasprintf("%s/classify/banking77/train.csv", corpora);
	size_t len;
	char *data = (char *)test_read_file(csv, &len);
	size_t rows = 0;
	if (data != NULL && with != NULL && without != NULL) {
		/* One query per line; quoted ones may hold commas and quotes. */
		char *line = strchr(data, '\n');
		while (line != NULL && rows < 4000) {
			char *start = line + 1;
			line = strchr(start, '\n');
			if (line == NULL)
				break;
			*line = '\0';
			char *comma = strrchr(start, ',');
			if (comma != NULL)
				*comma = '\0';
			compare_prefilter(with, without, NULL, start);
			rows++;
		}
	}
	printf("prefilter on the default rules: %zu banking77 rows compared, %zu differ\n", rows,
	       prefilter_diffs);
	test_assert_int(prefilter_diffs, 0);
	free(data);
	free(csv);
	rules_free(&with);
	rules_free(&without);
	free(dir);
	free(corpora);
}

/* ---- context blocks ------------------------------------------------------- */

static void
test_context(void)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the error */
	} errors[] = {
		{ "rule a {\n  body ~ /x/ {\n  }\n  tag t\n}\n", "t.rules:2: empty context block" },
		{ "rule a {\n  body ~ /x/ {\n    body ~ /y/\n  }\n  tag t\n}\n",
		  "t.rules:3: in a context block, conditions look at before, after or around" },
		{ "rule a {\n  before ~ /y/\n  tag t\n}\n",
		  "t.rules:2: unknown condition or target \"before\"" },
		{ "rule a {\n  body ~ /x/ { before 0 ~ /y/ }\n  tag t\n}\n", "t.rules:2: before N: N must be 1 to 1000" },
		{ "rule a {\n  body ~ /x/ { after 1001 ~ /y/ }\n  tag t\n}\n", "t.rules:2: after N: N must be 1 to 1000" },
		{ "rule a {\n  body ~ /x/ { before ~ /y/ { after ~ /z/ } }\n  tag t\n}\n",
		  "t.rules:2: a context block cannot hold another" },
		{ "rule a {\n  body ~ /x/ { before exists }\n  tag t\n}\n", "t.rules:2: exists has no meaning" },
		{ "rule a {\n  body ~ /x/ {\n    before ~ /y/\n", "t.rules:2: missing \"}\" for the context block" },
		{ "rule a {\n  body ~ /x/ {\n    before ~ /y/\n  tag t\n}\n",
		  "t.rules:4: in a context block, conditions look at before, after or around" },
		{ "rule a {\n  body ~ /(?<v>x)/ { before ~ /(?<w>y)/ }\n  extract w\n}\n",
		  "t.rules:1: rule a: extract w, but no pattern has a group (?<w>...)" },
	};
	test_begin("context blocks: errors name file:line");
	for (size_t i = 0; i < N_ELEMENTS(errors); i++) {
		const char *error = NULL;
		struct rules *rules = load(errors[i].text, &error);
		test_assert(rules == NULL);
		if (error == NULL || strstr(error, errors[i].want) == NULL) {
			test_failures++;
			printf("FAIL context error case %zu: got \"%s\", want \"%s\"\n", i,
			       error != NULL ? error : "(none)", errors[i].want);
		}
		test_checks++;
		rules_free(&rules);
	}

	test_begin("context blocks: the first match whose context holds counts");
	const char *text =
		"rule id {\n"
		"  body ~ /(?<id>\\d{4})/ {\n"
		"    before 12 ~ /ref/\n"
		"    not around 10 ~ /pin|密码/\n"
		"  }\n"
		"  extract id\n"
		"}\n"
		"rule near-window {\n"
		"  body ~ /X/ { after 4 ~ /abc/ }\n"
		"  tag near\n"
		"}\n"
		"rule any-side {\n"
		"  body contains \"Q\" { any { before 2 ~ /L/; after 2 ~ /R/ } }\n"
		"  tag side\n"
		"}\n";
	struct rules *rules = load(text, NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	static const struct {
		const char *body, *id;
	} cases[] = {
		{ "ref 1234", "1234" },
		{ "1234 ref", NULL },			  /* the context is before */
		{ "pin 1111, ref 2222", "2222" },	  /* the first match fails, the second holds */
		{ "ref 3333 is my pin", NULL },		  /* "pin" after it */
		{ "ref 4444 and the other ref 5555", "4444" },
		{ "reference number is 6666", NULL },	  /* "ref" more than 12 characters before */
		{ "密码 ref 7777", NULL },		  /* characters, not bytes: 密码 is in the window */
		{ "ref\n8888", "8888" },		  /* windows cross lines */
		{ "", NULL },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rules_result *res = classify(rules, NULL, cases[i].body);
		const char *got = field(res, "id");
		if ((got == NULL) != (cases[i].id == NULL) ||
		    (got != NULL && strcmp(got, cases[i].id) != 0)) {
			test_failures++;
			printf("FAIL context case %zu \"%s\": got %s, want %s\n", i, cases[i].body,
			       got != NULL ? got : "(none)", cases[i].id != NULL ? cases[i].id : "(none)");
		}
		test_checks++;
		/* The hit records the match that counted, not the context's. */
		if (got != NULL && fired(res, "id")) {
			test_assert_int(res->hits[0].n_matches, 1);
			test_assert_str(res->hits[0].matches[0].text, got);
		}
		rules_result_free(&res);
	}
	struct rules_result *res = classify(rules, NULL, "X abc");
	test_assert(has_tag(res, "near"));
	rules_result_free(&res);
	res = classify(rules, NULL, "X  abc"); /* abc ends 5 characters after */
	test_assert(!has_tag(res, "near"));
	rules_result_free(&res);
	res = classify(rules, NULL, "Q R");
	test_assert(has_tag(res, "side"));
	rules_result_free(&res);
	res = classify(rules, NULL, "L Q");
	test_assert(has_tag(res, "side"));
	rules_result_free(&res);
	res = classify(rules, NULL, "L  Q  R");
	test_assert(!has_tag(res, "side"));
	rules_result_free(&res);
	rules_free(&rules);
}

/* ---- secrets are never extracted (issue 10, item 11) ------------------------- */

static void
test_default_secrets(void)
{
	static const char key[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
	static const char tx[] = "5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
	static const struct {
		const char *fmt; /* "@": the key (or hash) */
		int is_tx;	 /* 1: the hash must be extracted; 0: nothing */
	} cases[] = {
		/* English */
		{ "My withdrawal is missing. private key: 0x@", 0 },
		{ "Here is my wallet's private key 0x@, the transaction never arrived", 0 },
		{ "transaction 0x@ (that is my secret key, sorry)", 0 },
		{ "My seed is @", 0 },
		{ "0x@", 0 },
		{ "The withdrawal 0x@ is missing", 0 }, /* no word says what it is */
		{ "TxID: 0x@", 1 },
		{ "The transaction hash is @", 1 },
		{ "tx 0x@", 1 },
		/* Chinese */
		{ "提现没到账，我的私钥是0x@", 0 },
		{ "密钥：@", 0 },
		{ "助记词 @", 0 },
		{ "我的私鑰：0x@", 0 },
		{ "交易哈希：0x@", 1 },
		{ "哈希 @", 1 },
		{ "交易雜湊值：@", 1 },
		/* French */
		{ "Ma clé privée : 0x@", 0 },
		{ "Voici la phrase de récupération @", 0 },
		{ "Le hachage de la transaction : 0x@", 1 },
		{ "ID de transaction @", 1 },
		/* German */
		{ "Mein privater Schlüssel: 0x@", 0 },
		{ "Der geheime Wiederherstellungscode lautet @", 0 },
		{ "Transaktions-Hash: 0x@", 1 },
		{ "Die Transaktions-ID ist @", 1 },
	};
	test_begin("default rules: a key, seed or secret is never extracted, in four languages");
	char *dir = default_rules_dir();
	if (dir == NULL) {
		test_assert(0);
		return;
	}
	const char *paths[] = { dir };
	struct rules *rules;
	const char *error = NULL;
	test_assert(rules_load(paths, 1, &opts, &rules, &error) == 0);
	free(dir);
	if (rules == NULL)
		return;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *at = strchr(cases[i].fmt, '@');
		char *body = xasprintf("%.*s%s%s", (int)(at - cases[i].fmt), cases[i].fmt,
				       cases[i].is_tx ? tx : key, at + 1);
		struct rules_result *res = classify(rules, "Support", body);
		const char *got = field(res, "tx_hash");
		int ok = cases[i].is_tx ? got != NULL && strstr(got, tx) != NULL : got == NULL;
		/* Nothing extracted may hold the key, under any name. */
		for (size_t k = 0; k < res->n_fields; k++)
			if (strstr(res->fields[k].value, key) != NULL)
				ok = 0;
		if (!ok) {
			test_failures++;
			printf("FAIL secrets case %zu \"%s\": tx_hash %s\n", i, body,
			       got != NULL ? got : "(none)");
		}
		test_checks++;
		rules_result_free(&res);
		free(body);
	}
	/* An address is not taken near a key either. */
	struct rules_result *res = classify(rules, "x", "send to 0x52908400098527886E0F7030069857D2E4169EE7 please");
	test_assert_str(field(res, "wallet_address"), "0x52908400098527886E0F7030069857D2E4169EE7");
	rules_result_free(&res);
	res = classify(rules, "x", "my private key 0x52908400098527886E0F7030069857D2E4169EE7");
	test_assert(field(res, "wallet_address") == NULL);
	rules_result_free(&res);
	rules_free(&rules);
}

/* ---- typed extraction: amounts (issue 10, item 13) ------------------------- */

static void
test_amounts(void)
{
	test_begin("extract GROUP:amount: errors");
	const char *error = NULL;
	struct rules *rules = load("rule a {\n  body ~ /(?<n>\\d+)/\n  extract n:money\n}\n", &error);
	test_assert(rules == NULL);
	test_assert(error != NULL && strstr(error, "t.rules:3: extract n:money: unknown type \"money\"") != NULL);
	rules_free(&rules);

	test_begin("extract GROUP:amount: a run that is no amount gives no field");
	rules = load("rule a {\n  body ~ /(?<n>\\d[\\d\\h.,]*) (?<c>EUR)/\n  extract n:amount c\n}\n", NULL);
	test_assert(rules != NULL);
	if (rules == NULL)
		return;
	struct rules_result *res = classify(rules, NULL, "paid 1.234,56 EUR");
	test_assert_str(field(res, "n"), "1.234,56");
	test_assert_str(field_normal(res, "n"), "1234.56");
	rules_result_free(&res);
	res = classify(rules, NULL, "paid 1,500 EUR"); /* ambiguous: kept as written, no reading */
	test_assert_str(field(res, "n"), "1,500");
	test_assert(field_normal(res, "n") == NULL);
	rules_result_free(&res);
	res = classify(rules, NULL, "in 2024 200 EUR");
	test_assert(field(res, "n") == NULL);
	test_assert(field(res, "c") == NULL); /* no currency without its amount */
	test_assert(fired(res, "a"));	      /* the rule still fired */
	rules_result_free(&res);
	rules_free(&rules);

	test_begin("default rules: amounts in the customer's conventions");
	static const struct {
		const char *body, *amount, *coin;
	} cases[] = {
		{ "J'ai envoy\xc3\xa9 3\xc2\xa0" "200 EUR hier, rien re\xc3\xa7u.", "3\xc2\xa0" "200", "EUR" },
		{ "Virement de 3\xe2\x80\xaf" "200,50 EUR", "3\xe2\x80\xaf" "200,50", "EUR" },
		{ "I sent 3 200 EUR", "3 200", "EUR" },
		{ "Betrag: 1.234,56 \xe2\x82\xac", "1.234,56", "\xe2\x82\xac" },
		{ "Withdrawal of 1,250.5 USDT", "1,250.5", "USDT" },
		{ "\xe6\x8f\x90\xe7\x8e\xb0" "0.5 BTC", "0.5", "BTC" },
		{ "\xe5\x85\x85\xe5\x80\xbc" "3\xe4\xb8\x87\xe5\x85\x83", "3\xe4\xb8\x87", "\xe5\x85\x83" },
		{ "I paid $1,500.00 for it", "1,500.00", "$" },
		{ "CHF 1'234.50 fehlen", "1'234.50", "CHF" },
		{ "in 2024 200 EUR", NULL, NULL },
		{ "ref 12 3 200 EUR", NULL, NULL },
	};
	char *dir = default_rules_dir();
	if (dir == NULL) {
		test_assert(0);
		return;
	}
	const char *paths[] = { dir };
	test_assert(rules_load(paths, 1, &opts, &rules, &error) == 0);
	free(dir);
	if (rules == NULL)
		return;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		res = classify(rules, "Support", cases[i].body);
		const char *amount = field(res, "amount"), *coin = field(res, "coin");
		int ok = cases[i].amount == NULL
				 ? amount == NULL && coin == NULL
				 : amount != NULL && coin != NULL && strcmp(amount, cases[i].amount) == 0 &&
					   strcmp(coin, cases[i].coin) == 0;
		if (!ok) {
			test_failures++;
			printf("FAIL amount case %zu \"%s\": got %s %s\n", i, cases[i].body,
			       amount != NULL ? amount : "(none)", coin != NULL ? coin : "(none)");
		}
		test_checks++;
		rules_result_free(&res);
	}
	rules_free(&rules);
}

int
main(void)
{
	rules_options_default(&opts);
	test_errors();
	test_all_errors_reported();
	test_targets();
	test_conditions();
	test_patterns();
	test_combination();
	test_extract();
	test_vip();
	test_files();
	test_input_from_mime();
	test_limits();
	test_default_rules();
	test_prefilter();
	test_context();
	test_default_secrets();
	test_amounts();
	return test_exit();
}
