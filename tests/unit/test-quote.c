/*
 * Unit tests for parsers/quote.c: a table of replies from many clients and
 * languages, hostile input with time bounds, then the reply corpora:
 *
 * - talon (mailgun): 12 .eml replies (input: the first text/plain part,
 *   decoded, as mime_parse gives it) and 9 HTML replies (input: the HTML
 *   made text by html_to_text). talon's expected text is quotation removal
 *   only (its extract_from_plain keeps signatures: "Sent from my iPhone"
 *   stays), so this corpus runs with QUOTE_KEEP_SIGNATURE.
 * - email_reply_parser (GitHub): the visible text of 8 replies; it hides
 *   signatures, so this corpus runs with the default (signatures removed).
 *
 * Comparison: exact after white-space normalisation (runs of white space
 * made one space, ends trimmed). The rate per corpus is printed and must
 * not fall below the ratchet (the level achieved). A few fixtures with
 * their licences are copied into tests/data/thread, so part of this runs
 * without the shared corpora. jansson reads the expectations.
 */
#include "build-config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/html.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* The exact-match rates achieved (percent); a regression fails the test. */
#define RATCHET_TALON 100.0
#define RATCHET_ERP 100.0

#define K QUOTE_KEEP_SIGNATURE

static const struct {
	const char *name;
	unsigned int flags;
	const char *in;
	const char *want;
} cases[] = {
	{ "gmail top post", 0,
	  "Thanks, fixed.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Bob <bob@example.com> wrote:\n\n"
	  "> Hi\n> there\n",
	  "Thanks, fixed." },
	{ "gmail wrapped attribution", 0,
	  "Done.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Bob Smith <\nbob@example.com> wrote:\n> Hi\n",
	  "Done." },
	{ "gmail three-line attribution", 0,
	  "Ok\n\nOn Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@example.com>\nwrote:\n\n> x\n",
	  "Ok" },
	{ "foxmail chinese original", 0,
	  "已处理，请查收。\n\n------------------ 原始邮件 ------------------\n"
	  "发件人: \"客户\"<c@example.com>;\n发送时间: 2024年3月1日(星期五) 上午10:00\n"
	  "收件人: \"support\"<support@example.com>;\n主题: 充值未到账\n\n我的充值没有到账\n",
	  "已处理，请查收。" },
	{ "outlook chinese header block", 0,
	  "好的\n\n发件人: 客服 <support@example.com>\n发送时间: 2024年3月1日 10:00\n"
	  "收件人: 客户 <c@example.com>\n主题: 回复: 提现\n\n您好\n",
	  "好的" },
	{ "gmail chinese", 0,
	  "好的，谢谢\n\n张三 <zhang@example.com> 于2024年3月1日周五 10:00写道：\n\n> 您好\n",
	  "好的，谢谢" },
	{ "apple mail chinese, unquoted history", 0,
	  "收到\n\n在 2024年3月1日，10:00，客服 <support@example.com> 写道：\n\n您好，请提供订单号。\n",
	  "收到" },
	{ "german outlook", 0,
	  "Danke!\n\nVon: Support <support@example.com>\nGesendet: Freitag, 1. März 2024 10:00\n"
	  "An: Kunde <k@example.de>\nBetreff: AW: Auszahlung\n\nHallo\n",
	  "Danke!" },
	{ "german thunderbird", 0,
	  "Erledigt.\n\nAm 01.03.2024 um 10:00 schrieb Support <support@example.com>:\n> Hallo\n",
	  "Erledigt." },
	{ "french apple mail", 0,
	  "Merci.\n\nLe 1 mars 2024 à 10:00, Support <support@example.com> a écrit :\n> Bonjour\n",
	  "Merci." },
	{ "french outlook, space before colon", 0,
	  "Voilà.\n\nDe : Support <support@example.com>\nEnvoyé : vendredi 1 mars 2024 10:00\n"
	  "À : client@example.fr\nObjet : RE: retrait\n\nBonjour\n",
	  "Voilà." },
	{ "italian outlook", 0,
	  "Fatto\n\nDa: Supporto <s@example.it>\nInviato: venerdì 1 marzo 2024 10:00\n"
	  "A: cliente@example.it\nOggetto: R: prelievo\n\nCiao\n",
	  "Fatto" },
	{ "spanish", 0,
	  "Listo\n\nEl 1 mar 2024, a las 10:00, Soporte <s@example.com> escribió:\n> Hola\n",
	  "Listo" },
	{ "russian gmail", 0,
	  "Спасибо\n\n02.04.2012 14:20 пользователь \"bob@example.com\" <\nbob@example.com> "
	  "написал:\n\n> Привет\n",
	  "Спасибо" },
	{ "russian windows mail", 0,
	  "Готово\n\nОт: Alexander\nОтправлено: четверг, 26 июня 2014 г. 15:05\nКому: Alex\n\n"
	  "Привет\n",
	  "Готово" },
	{ "yandex, no verb", 0,
	  "Ok\n\n26.06.2014, 14:41, \"Alexander L\" <abc@example.com>:\n> Hello\n", "Ok" },
	{ "japanese gmail, no verb", 0,
	  "了解です\n\n2024年3月1日(金) 10:00 Support <support@example.com>:\n\n> こんにちは\n",
	  "了解です" },
	{ "korean gmail", 0,
	  "확인했습니다\n\n2024년 3월 1일 (금) 오전 10:00, Support <s@example.com>님이 작성:\n\n"
	  "> 안녕하세요\n",
	  "확인했습니다" },
	{ "outlook with underscores", 0,
	  "See attached.\n\n________________________________\nFrom: Support <support@example.com>\n"
	  "Sent: Friday, March 1, 2024 10:00 AM\nTo: Customer\nSubject: RE: withdrawal\n\nHello\n",
	  "See attached." },
	{ "outlook bold headers", 0,
	  "Reply\n\n ------------------------------\n\n*From:* Team [mailto:t@example.com]\n"
	  "*Sent:* Thursday, February 09, 2012 1:36 PM\n*To:* j@example.com\n*Subject:* x\n\nBody\n",
	  "Reply" },
	{ "original message", 0, "OK\n\n-----Original Message-----\nFrom: a@example.com\nHi\n", "OK" },
	{ "zimbra original message", 0,
	  "Hello \n\n----- Original Message -----\nFrom: b@example.org \nSent: Monday\n\nHi\n",
	  "Hello " },
	{ "hotmail quoted header block", 0,
	  "Hello\n\n> Subject: Test\n> From: bob@example.com\n> \n> Hi\n", "Hello" },
	{ "mutt bottom post", 0,
	  "On Fri, Mar 01, 2024 at 10:00:00AM +0000, Support wrote:\n> Please send the TXID.\n\n"
	  "Here it is: 0xabc\n",
	  "Here it is: 0xabc" },
	{ "salutation, then bottom post", 0,
	  "Hi,\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <b@x.io> wrote:\n> q?\n\nAnswer.\n",
	  "Hi,\n\nAnswer." },
	{ "inline answers keep their questions", 0,
	  "> Order id?\n12345\n> Amount?\n0.5 BTC\n", "> Order id?\n12345\n> Amount?\n0.5 BTC" },
	{ "thanks line before attribution", 0,
	  "Thanks Bob\nOn Mon, 1 Jan 2024 at 10:00, Bob <b@x.io> wrote:\n> q\n", "Thanks Bob" },
	{ "two lines before an unquoted attribution", 0,
	  "Thanks,\nAlex\nOn 26.06.2014 14:41, Alexander L wrote:\n\nHello!\n", "Thanks,\nAlex" },
	{ "only a quote", 0, "> just a quote\n", "" },
	{ "empty", 0, "", "" },
	{ "blank lines only", 0, "\n \n\t\n", "" },
	{ "crlf", 0, "Hi\r\n\r\nOn Mon, 1 Jan 2024 at 10:00, A <a@b.io> wrote:\r\n> x\r\n", "Hi" },
	{ "cr only", 0, "Hi\r\rOn Mon, 1 Jan 2024 at 10:00, A <a@b.io> wrote:\r> x", "Hi" },
	{ "forwarded content is kept", 0,
	  "FYI see below\n\n---------- Forwarded message ---------\nFrom: Bank <b@example.com>\n"
	  "Date: Fri, Mar 1, 2024\nSubject: Transfer\nTo: me@example.com\n\nYour transfer\n",
	  "FYI see below\n\n---------- Forwarded message ---------\nFrom: Bank <b@example.com>\n"
	  "Date: Fri, Mar 1, 2024\nSubject: Transfer\nTo: me@example.com\n\nYour transfer" },
	{ "s-nail attribution", 0,
	  "Your deposit arrived.\n\nCustomer <c@example.com> wrote:\n\n> where is my deposit?\n",
	  "Your deposit arrived." },
	{ "s-nail tab quote above the reply", 0,
	  "Support <support@example.test> wrote:\n\n\tCustomer wrote:\n\tMy deposit is missing.\n"
	  "#close\nCredited.\n",
	  "#close\nCredited." },
	{ "tab-indented text without attribution stays", 0, "Run:\n\tmake check\nthen report\n",
	  "Run:\n\tmake check\nthen report" },
	{ "undated attribution of an inline quote stays with it", 0,
	  "Hello\n\nBob wrote:\n> question\nanswer\n", "Hello\n\nBob wrote:\n> question\nanswer" },
	{ "a sentence ending in wrote:", 0, "As John wrote:\nthe fee is 1%\n",
	  "As John wrote:\nthe fee is 1%" },
	{ "no date, no attribution", 0, "On the other hand, Bob wrote:\nfoo\n",
	  "On the other hand, Bob wrote:\nfoo" },
	{ "one header key is not a block", 0, "From: my side all is fine\nthanks\n",
	  "From: my side all is fine\nthanks" },
	{ "signature", 0, "Hello\n-- \nAlice\nSupport team\n", "Hello" },
	{ "signature kept", K, "Hello\n-- \nAlice\nSupport team\n", "Hello\n-- \nAlice\nSupport team" },
	{ "signature before the quote", 0,
	  "Hello\n\n-- \nAlice\n\nOn Mon, 1 Jan 2024 at 10:00, A <a@b.io> wrote:\n> x\n", "Hello" },
	{ "dashes inside a line", 0, "a -- b\nc\n", "a -- b\nc" },
	{ "mailing list footer", 0,
	  "Answer\n\n_______________________________________________\nusers mailing list\n"
	  "users@example.org\n",
	  "Answer" },
	{ "sent from my iphone", 0, "Sure\n\nSent from my iPhone\n", "Sure" },
	{ "sent from my iphone kept", K, "Sure\n\nSent from my iPhone\n", "Sure\n\nSent from my iPhone" },
	{ "german iphone", 0, "Sure\n\nVon meinem iPhone gesendet\n", "Sure" },
	{ "chinese iphone", 0, "好的\n\n发自我的iPhone\n", "好的" },
	{ "japanese iphone", 0, "はい\n\niPhoneから送信\n", "はい" },
	{ "outlook mobile", 0, "Sure\n\nGet Outlook for Android\n", "Sure" },
	{ "sign-off, then quote", 0,
	  "Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:"
	  "\n\n> Hi\n",
	  "Hello" },
	{ "not a sign-off", 0, "Here\n\nSent from my desk, is much easier then my phone.\n",
	  "Here\n\nSent from my desk, is much easier then my phone." },
	{ "not a sign-off either", 0, "Here\n\nSent from a magnificent torch of pixels\n",
	  "Here\n\nSent from a magnificent torch of pixels" },
	/* issue 15: the writer's own words are never cut */
	{ "own words: a dated sentence ending in a colon", 0,
	  "On 3 March at 10.15 I sent 0.5 BTC, the app said:\n\nPending\n",
	  "On 3 March at 10.15 I sent 0.5 BTC, the app said:\n\nPending" },
	{ "own words: 'On ... wrote' without colon and no quote below", 0,
	  "On Mon, Mar 3, 2025 at 10:15 AM my colleague wrote\nthat the fee is 1%.\n",
	  "On Mon, Mar 3, 2025 at 10:15 AM my colleague wrote\nthat the fee is 1%." },
	{ "own words: an answer right below a long unfinished quote line", 0,
	  "> Could you tell us the transaction id of the deposit you made on Monday and\n"
	  "> the network\nTRC20, id 0xabc\n\nThanks\n",
	  "TRC20, id 0xabc\n\nThanks" },
	{ "own words: capitalised line after a long quote, more text below", 0,
	  "> We need the source of funds declaration signed and dated by you and\n"
	  "Here it is\n\nBob\n", "Here it is\n\nBob" },
	{ "own words: a short rule in the text", 0, "Steps:\n---\n1. log in\n2. withdraw\n",
	  "Steps:\n---\n1. log in\n2. withdraw" },
	{ "own words: a dotted amount is not a time", 0,
	  "On 3.3.2025 Bob sent 10.50 USDT to bob@example.com:\nplease check\n",
	  "On 3.3.2025 Bob sent 10.50 USDT to bob@example.com:\nplease check" },
	{ "own words: zoho-like dashes around a sentence", 0,
	  "Ok\n---- nothing here wrote ----\nreally\n", "Ok\n---- nothing here wrote ----\nreally" },
	{ "own words: Get Outlook in a sentence", 0,
	  "Get Outlook for iOS, then try again, it crashed.\n",
	  "Get Outlook for iOS, then try again, it crashed." },
	{ "sign-off mid text stays", 0, "Sent from my iPhone\nbut the amount is wrong\n",
	  "Sent from my iPhone\nbut the amount is wrong" },
};

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct quote_result r;
		const char *error = NULL;
		test_begin(cases[i].name);
		int ret = quote_strip(cases[i].in, strlen(cases[i].in), cases[i].flags, &r, &error);
		test_assert_int(ret, 0);
		if (ret < 0)
			continue;
		test_assert_str(r.text, cases[i].want);
		test_assert_int(r.len, strlen(r.text));
		free(r.text);
	}
}

static void
test_flags(void)
{
	struct quote_result r;
	const char *error;
	const char *in = "Hi\n-- \nA\n\nOn Mon, 1 Jan 2024 at 10:00, A <a@b.io> wrote:\n> x\n";
	test_begin("result flags");
	test_assert_int(quote_strip(in, strlen(in), 0, &r, &error), 0);
	test_assert_int(r.quote_removed, 1);
	test_assert_int(r.signature_removed, 1);
	free(r.text);
	test_assert_int(quote_strip("plain", 5, 0, &r, &error), 0);
	test_assert_int(r.quote_removed, 0);
	test_assert_int(r.signature_removed, 0);
	test_assert_str(r.text, "plain");
	free(r.text);
	/* not NUL-terminated input: only len bytes are read */
	test_assert_int(quote_strip("abcXYZ", 3, 0, &r, &error), 0);
	test_assert_str(r.text, "abc");
	free(r.text);
}

static double
seconds_since(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

static void
run_hostile(const char *name, const char *in, size_t len, int want_ret)
{
	struct quote_result r;
	const char *error = NULL;
	test_begin(name);
	clock_t start = clock();
	int ret = quote_strip(in, len, 0, &r, &error);
	double secs = seconds_since(start);
	test_assert_int(ret, want_ret);
	if (secs >= 2.0)
		printf("%s took %.2f s\n", name, secs);
	test_assert(secs < 2.0);
	if (ret == 0) {
		test_assert(r.len <= len);
		test_assert(r.text[r.len] == '\0');
		free(r.text);
	} else {
		test_assert(error != NULL);
	}
}

static void
test_hostile(void)
{
	size_t big = 8 * 1024 * 1024;
	char *s = xmalloc(big + 1);

	/* one 8 MB line of '>' (email_reply_parser's regex hangs on this) */
	memset(s, '>', big);
	run_hostile("one huge quoted line", s, big, 0);

	/* one 8 MB line that starts like an attribution */
	memcpy(s, "On 1 Jan 2024 10:00, ", 21);
	memset(s + 21, 'x', big - 21);
	s[big - 1] = ':';
	run_hostile("one huge attribution-like line", s, big, 0);

	/* too many lines */
	memset(s, '\n', QUOTE_MAX_LINES + 10);
	run_hostile("too many lines", s, QUOTE_MAX_LINES + 10, -1);

	/* many short lines that each look like a marker's start */
	struct buf b;
	buf_init(&b, big);
	for (size_t lines = 0; lines + 5 < QUOTE_MAX_LINES; lines += 5)
		buf_puts(&b, "From: a\nOn 1 2:30\nwrote\n-- \n> q\n");
	run_hostile("many marker-like lines", (const char *)b.data, b.len, 0);
	buf_reset(&b);
	for (size_t lines = 0; lines + 1 < QUOTE_MAX_LINES; lines++)
		buf_puts(&b, "Sent: x\n");
	run_hostile("many header lines", (const char *)b.data, b.len, 0);
	buf_free(&b);

	/* long '>' lines alternating with text lines (wrapped-quote rejoin) */
	buf_init(&b, big);
	for (size_t lines = 0; lines + 2 < QUOTE_MAX_LINES; lines += 2)
		buf_puts(&b, "> a long quoted line without an end that goes on and on and on and on\n"
			     "continued\n");
	run_hostile("many wrapped quote lines", (const char *)b.data, b.len, 0);
	buf_free(&b);

	/* NUL bytes, invalid UTF-8, truncated UTF-8 white space */
	static const char junk[] = "a\0b\n\xff\xfe\xc2\n\xe2\x80\n> \x80\nOn 1:11 \xc0\xaf wrote:\n\xef\xbb";
	run_hostile("binary junk", junk, sizeof(junk) - 1, 0);
	free(s);
}

/* ---- corpora --------------------------------------------------------------- */

static char *
normalise(const char *s)
{
	struct buf b;
	buf_init(&b, 64 * 1024 * 1024);
	int space = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		int ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
			 *p == '\v';
		if (!ws && p[0] == 0xc2 && p[1] == 0xa0) {
			ws = 1;
			p++;
		}
		if (ws) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = 0;
		buf_putc(&b, *p);
	}
	char *out = buf_steal(&b, NULL);
	buf_free(&b);
	return out;
}

/* The text a reply's file gives the stripper: an .eml through mime_parse
   (text/plain preferred), an .html file through html_to_text, anything
   else as it is. NULL when it cannot be read or parsed (printed). */
static char *
input_text(const char *path)
{
	size_t len;
	unsigned char *raw = test_read_file(path, &len);
	if (raw == NULL) {
		printf("cannot read %s\n", path);
		return NULL;
	}
	size_t plen = strlen(path);
	char *text = NULL;
	const char *error = NULL;
	if (plen > 4 && strcmp(path + plen - 4, ".eml") == 0) {
		struct mime_limits limits;
		struct mime_message *msg = NULL;
		mime_limits_default(&limits);
		if (mime_parse(raw, len, &limits, &msg, &error) == 0 && msg->text != NULL)
			text = xstrdup(msg->text);
		else
			printf("%s: mime_parse: %s\n", path, error != NULL ? error : "no text");
		mime_message_free(&msg);
	} else if (plen > 5 && strcmp(path + plen - 5, ".html") == 0) {
		size_t tlen;
		if (html_to_text((const char *)raw, len, 4 * len + 1024, &text, &tlen, &error) < 0) {
			printf("%s: html_to_text: %s\n", path, error);
			text = NULL;
		}
	} else {
		text = xstrndup((const char *)raw, len);
	}
	free(raw);
	return text;
}

/* Score the files of one corpus: expected is an object mapping a path
   (relative to dir) to the expected text, either a string or an object
   with "expected_reply_text". Returns the exact-match percentage. */
static double
score(const char *label, const char *dir, json_t *expected, unsigned int flags, int verbose)
{
	const char *key;
	json_t *v;
	int total = 0, ok = 0;
	json_object_foreach(expected, key, v)
	{
		const char *want = json_is_string(v) ? json_string_value(v)
						     : json_string_value(json_object_get(v, "expected_reply_text"));
		if (want == NULL)
			continue;
		total++;
		char *path = xasprintf("%s/%s", dir, key);
		char *in = input_text(path);
		free(path);
		if (in == NULL)
			continue;
		struct quote_result r;
		const char *error;
		if (quote_strip(in, strlen(in), flags, &r, &error) < 0) {
			printf("%s %s: %s\n", label, key, error);
			free(in);
			continue;
		}
		char *got = normalise(r.text), *exp = normalise(want);
		if (strcmp(got, exp) == 0)
			ok++;
		else if (verbose)
			printf("%s %s:\n  got  \"%.300s\"\n  want \"%.300s\"\n", label, key, got, exp);
		free(got);
		free(exp);
		free(r.text);
		free(in);
	}
	double rate = total > 0 ? 100.0 * ok / total : 0.0;
	printf("%s: %d/%d exact after white-space normalisation (%.1f%%)\n", label, ok, total, rate);
	return total > 0 ? rate : -1.0;
}

static json_t *
load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (j == NULL)
		printf("%s:%d: %s\n", path, jerr.line, jerr.text);
	return j;
}

/* The copies in tests/data/thread: always present. */
static void
test_local_data(void)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/tests/data/thread", top != NULL ? top : ".");
	char *path = xasprintf("%s/expected.json", dir);
	json_t *j = load_json(path);
	test_begin("tests/data/thread");
	test_assert(j != NULL);
	if (j != NULL) {
		json_t *keep = json_object_get(j, "keep_signature");
		json_t *strip = json_object_get(j, "strip_signature");
		test_assert(keep != NULL && strip != NULL);
		if (keep != NULL)
			test_assert(score("local talon copies", dir, keep, QUOTE_KEEP_SIGNATURE, 1) == 100.0);
		if (strip != NULL)
			test_assert(score("local email_reply_parser copies", dir, strip, 0, 1) == 100.0);
		json_decref(j);
	}
	free(path);
	free(dir);
}

/* Replies written for the classes of issue 15 (tests/data/replies/README):
   "tuned" is what the stripper was tuned on, "heldout" was written at the
   same time and never tuned on; both must stay at or above 95% exact. */
#define GOAL_OWN_REPLIES 95.0

static void
test_own_replies(void)
{
	const char *top = getenv("top_srcdir");
	static const char *const sets[] = { "tuned", "heldout" };
	for (size_t i = 0; i < N_ELEMENTS(sets); i++) {
		char *dir = xasprintf("%s/tests/data/replies/%s", top != NULL ? top : ".", sets[i]);
		char *path = xasprintf("%s/expected.json", dir);
		char *label = xasprintf("own replies, %s", sets[i]);
		json_t *j = load_json(path);
		test_begin(label);
		test_assert(j != NULL);
		if (j != NULL)
			test_assert(score(label, dir, j, 0, 1) >= GOAL_OWN_REPLIES);
		json_decref(j);
		free(label);
		free(path);
		free(dir);
	}
}

static int
test_corpora(void)
{
	char *corpora = test_corpora_dir();
	if (corpora == NULL) {
		printf("shared corpora not found: corpus scores skipped\n");
		return 0;
	}
	char *talon = xasprintf("%s/replies/talon", corpora);
	char *erp = xasprintf("%s/replies/email_reply_parser", corpora);
	char *p1 = xasprintf("%s/expected_reply_text.json", talon);
	char *p2 = xasprintf("%s/expected_visible_text.json", erp);
	json_t *j1 = load_json(p1), *j2 = load_json(p2);
	test_begin("corpora");
	test_assert(j1 != NULL && j2 != NULL);
	if (j1 != NULL) {
		double rate = score("talon (quotations only)", talon, j1, QUOTE_KEEP_SIGNATURE, 1);
		test_assert(rate >= RATCHET_TALON);
		/* for information: talon's expectations keep signatures */
		score("talon with signatures removed (informational)", talon, j1, 0, 0);
	}
	if (j2 != NULL) {
		double rate = score("email_reply_parser (visible text)", erp, j2, 0, 1);
		test_assert(rate >= RATCHET_ERP);
	}
	json_decref(j1);
	json_decref(j2);
	free(p1);
	free(p2);
	free(talon);
	free(erp);
	free(corpora);
	return 1;
}

int
main(void)
{
	test_table();
	test_flags();
	test_hostile();
	test_local_data();
	test_own_replies();
	test_corpora();
	return test_exit();
}
