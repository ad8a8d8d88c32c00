/*
 * test-phrase: the candidate phrases of English, Chinese and mixed text
 * (stop words at the edges, digits, punctuation and line breaks that end
 * a phrase, function characters in Chinese), the call limit, invalid
 * UTF-8, and the patterns made of phrases.
 */
#include "build-config.h"

#include "parsers/phrase.h"
#include "base/util.h"
#include "tests/unit/test.h"

static int
collect(void *context, const char *phrase, size_t len, enum phrase_script script)
{
	struct buf *b = context;
	if (b->len > 0)
		buf_putc(b, '|');
	buf_append(b, phrase, len);
	if (script == PHRASE_HAN)
		buf_putc(b, '*');
	return 0;
}

static char *
phrases(const char *text, size_t max_words, size_t max_phrases)
{
	struct phrase_options o;
	struct buf b;
	phrase_options_default(&o);
	o.max_words = max_words;
	o.max_phrases = max_phrases;
	buf_init(&b, 1 << 16);
	phrase_each(text, strlen(text), &o, collect, &b);
	return buf_steal(&b, NULL);
}

static void
test_each(void)
{
	static const struct {
		const char *text;
		size_t max_words, max_phrases;
		const char *want;
	} cases[] = {
		{ "Reset link", 3, 0, "reset|link|reset link" },
		/* stop words never at an edge; inside they stay */
		{ "the reset link of my account", 3, 0, "reset|link|reset link|account" },
		{ "not received", 2, 0, "not|received|not received" },
		/* a two-letter word is no phrase of its own; digits end a run */
		{ "my 2fa is gone", 2, 0, "2fa|gone" },
		{ "code 123456 expired", 2, 0, "code|expired" },
		/* punctuation and line breaks end a phrase */
		{ "card, blocked\nagain", 2, 0, "card|blocked|again" },
		{ "don't work", 2, 0, "don't|work|don't work" },
		/* a closing quote ends a phrase */
		{ "'quoted' word", 2, 0, "quoted|word" },
		/* Han: runs of 2..4, no function character at an edge */
		{ "提现没到账", 3, 0, "提现*|现没*|提现没*|没到*|现没到*|提现没到*|到账*|没到账*|现没到账*" },
		{ "我的钱", 3, 0, "" },
		{ "USDT没到账", 3, 0, "usdt|没到*|到账*|没到账*" },
		/* the limit */
		{ "one two three four", 1, 2, "one|two" },
		{ "", 3, 0, "" },
		{ "\xff\xfe reset \xc3 link", 2, 0, "reset|link" },
		{ "Crème brûlée", 2, 0, "crème|brûlée|crème brûlée" },
	};
	test_begin("phrase_each");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *got = phrases(cases[i].text, cases[i].max_words, cases[i].max_phrases);
		test_assert_str(got, cases[i].want);
		free(got);
	}
}

static int
stop_after_one(void *context, const char *phrase, size_t len, enum phrase_script script)
{
	(void)phrase;
	(void)len;
	(void)script;
	(*(int *)context)++;
	return 1;
}

static void
test_stop(void)
{
	test_begin("phrase_each stops when fn says so");
	struct phrase_options o;
	int calls = 0;
	phrase_options_default(&o);
	test_assert_int((long)phrase_each("alpha beta gamma", 16, &o, stop_after_one, &calls), 1);
	test_assert_int(calls, 1);
}

static void
test_pattern(void)
{
	static const struct {
		const char *phrase;
		enum phrase_script script;
		const char *want; /* NULL: refused */
	} cases[] = {
		{ "reset link", PHRASE_LATIN, "\\breset\\s+link\\b" },
		{ "don't", PHRASE_LATIN, "\\bdon['’]t\\b" },
		{ "没到账", PHRASE_HAN, "没到账" },
		{ "a/b", PHRASE_LATIN, NULL },
		{ "a(b", PHRASE_LATIN, NULL },
		{ " lead", PHRASE_LATIN, NULL },
		{ "two  spaces", PHRASE_LATIN, NULL },
		{ "没x", PHRASE_HAN, NULL },
		{ "", PHRASE_LATIN, NULL },
	};
	test_begin("phrase_pattern");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char out[64];
		int r = phrase_pattern(cases[i].phrase, strlen(cases[i].phrase), cases[i].script, out,
				       sizeof(out));
		if (cases[i].want == NULL) {
			test_assert_int(r, -1);
		} else {
			test_assert_int(r, 0);
			if (r == 0)
				test_assert_str(out, cases[i].want);
		}
	}
	char small[8];
	test_assert_int(phrase_pattern("reset link", 10, PHRASE_LATIN, small, sizeof(small)), -1);
}

int
main(void)
{
	test_each();
	test_stop();
	test_pattern();
	return test_exit();
}
