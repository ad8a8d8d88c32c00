/*
 * test-vote: survey answers as customers write them (digits, stars, words
 * in en, fr, de, zh-CN, zh-TW), the comment after the score, and text that
 * must not be read as a vote: numbers about something else, greetings,
 * words inside longer words, scores out of range.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/vote.h"
#include "tests/unit/test.h"

static void
test_table(void)
{
	static const struct {
		const char *in;
		int score;
		const char *comment;
	} cases[] = {
		/* digits */
		{ "5", 5, "" },
		{ "  4\r\n", 4, "" },
		{ "1", 1, "" },
		{ "4/5 - quick and kind", 4, "quick and kind" },
		{ "3 out of 5", 3, "" },
		{ "2 sur 5, trop lent", 2, "trop lent" },
		{ "4 von 5", 4, "" },
		{ "5 stars!", 5, "" },
		{ "\xef\xbc\x95", 5, "" },			 /* full-width 5 */
		{ "4\xe6\x98\x9f", 4, "" },			 /* 4星 */
		{ "[5]", 5, "" },
		{ "5!\nThank you Anna", 5, "Thank you Anna" },
		{ "5.\nGreat job", 5, "Great job" },
		{ "4 - the agent was quick", 4, "the agent was quick" },
		/* numbers that are no score */
		{ "3 days and still nothing", 0, "3 days and still nothing" },
		{ "50 USDT are missing", 0, "50 USDT are missing" },
		{ "4.5", 0, "4.5" },
		{ "6", 0, "6" },
		{ "0", 0, "0" },
		{ "5%", 0, "5%" },
		{ "$5 missing", 0, "$5 missing" },
		/* stars */
		{ "\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x86\xe2\x98\x86", 3, "" },
		{ "****", 4, "" },
		{ "\xe2\xad\x90\xef\xb8\x8f\xe2\xad\x90\xef\xb8\x8f", 2, "" },
		{ "\xe2\x98\x85 \xe2\x98\x85 \xe2\x98\x85 \xe2\x98\x85 \xe2\x98\x85 great", 5, "great" },
		{ "******", 0, "******" },
		{ "\xe2\x98\x86\xe2\x98\x86", 0, "\xe2\x98\x86\xe2\x98\x86" },
		/* en */
		{ "Great, thanks!", 5, "thanks!" },
		{ "good", 4, "" },
		{ "Not good. The withdrawal took a week.", 2, "The withdrawal took a week." },
		{ "very bad", 1, "" },
		{ "OK", 3, "" },
		{ "okay I guess", 3, "I guess" },
		{ "Terrible service", 1, "service" },
		{ "Good morning, my deposit is missing", 0, "Good morning, my deposit is missing" },
		{ "goodbye", 0, "goodbye" },
		{ "Hello, my account is locked", 0, "Hello, my account is locked" },
		/* fr */
		{ "Pas content du tout.", 2, "du tout." },
		{ "Tr\xc3\xa8s bien !", 5, "" },
		{ "satisfaite", 4, "" },
		{ "bof", 3, "" },
		{ "Bonjour, je n'ai pas re\xc3\xa7u mes fonds", 0, NULL },
		{ "bien re\xc3\xa7u merci", 0, NULL },
		{ "M\xc3\xa9\x63ontent", 2, "" },
		/* de */
		{ "Sehr gut", 5, "" },
		{ "nicht zufrieden, zu langsam", 2, "zu langsam" },
		{ "Guten Tag, mein Konto", 0, NULL },
		{ "ungen\xc3\xbcgend", 1, "" },
		/* zh-CN */
		{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xa1\xe6\x84\x8f\xef\xbc\x8c\xe8\xb0\xa2\xe8\xb0\xa2\xef\xbc\x81", 5,
		  "\xe8\xb0\xa2\xe8\xb0\xa2\xef\xbc\x81" }, /* 非常满意，谢谢！ */
		{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f", 1, "" }, /* 非常不满意 */
		{ "\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f", 2, "" },			 /* 不满意 */
		{ "\xe6\xbb\xa1\xe6\x84\x8f", 4, "" },					 /* 满意 */
		{ "\xe4\xb8\x80\xe8\x88\xac", 3, "" },					 /* 一般 */
		{ "\xe5\xbe\x88\xe5\xa5\xbd\xe8\xb0\xa2\xe8\xb0\xa2", 5, "\xe8\xb0\xa2\xe8\xb0\xa2" }, /* 很好谢谢 */
		{ "\xe5\xa5\xbd\xe5\x83\x8f\xe6\x9c\x89\xe9\x97\xae\xe9\xa2\x98", 0, NULL }, /* 好像有问题 */
		{ "\xe5\xb7\xae\xe8\xaf\x84", 0, NULL },				 /* 差评: not a phrase end */
		/* zh-TW */
		{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xbf\xe6\x84\x8f", 5, "" }, /* 非常滿意 */
		{ "\xe9\x82\x84\xe5\x8f\xaf\xe4\xbb\xa5", 3, "" },	       /* 還可以 */
		{ "\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f", 2, "" },	       /* 不滿意 */
		/* the score is at the start of the first line only */
		{ "\n\n  5\n", 5, "" },
		{ "Thanks. 5", 0, "Thanks. 5" },
		{ "My ticket\ngreat", 0, "My ticket\ngreat" },
		{ "", 0, "" },
		{ " \n ", 0, "" },
	};
	test_begin("vote table");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vote v;
		int score = vote_parse(cases[i].in, strlen(cases[i].in), &v);
		if (score != cases[i].score)
			printf("case %zu: \"%s\"\n", i, cases[i].in);
		test_assert_int(score, cases[i].score);
		test_assert_int(v.score, cases[i].score);
		test_assert(v.comment_start + v.comment_len <= strlen(cases[i].in));
		if (cases[i].comment != NULL) {
			char got[256];
			size_t n = v.comment_len < sizeof(got) - 1 ? v.comment_len : sizeof(got) - 1;
			memcpy(got, cases[i].in + v.comment_start, n);
			got[n] = '\0';
			test_assert_str(got, cases[i].comment);
		}
	}
}

static void
test_not_nul_terminated(void)
{
	test_begin("vote length");
	/* The length bounds the read: "5" then "0" beyond it is still 5. */
	struct vote v;
	test_assert_int(vote_parse("50", 1, &v), 5);
	test_assert_int(vote_parse("\xe2\x98\x85\xe2\x98\x85", 3, &v), 1);
	/* A sequence cut by the length is no boundary. */
	test_assert_int(vote_parse("\xe2\x98\x85\xe2\x98", 5, &v), 0);
	test_assert_int(vote_parse("\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xa1", 9, &v), 0);
}

static void
test_token(void)
{
	test_begin("vote token");
	test_assert_int(vote_score_token("1", 1), 1);
	test_assert_int(vote_score_token("5", 1), 5);
	test_assert_int(vote_score_token("0", 1), 0);
	test_assert_int(vote_score_token("6", 1), 0);
	test_assert_int(vote_score_token("55", 2), 0);
	test_assert_int(vote_score_token("", 0), 0);
	test_assert_int(vote_score_token("a", 1), 0);
}

static void
test_problem(void)
{
	static const struct {
		const char *text;
		int problem;
	} cases[] = {
		/* questions and problem words, five languages */
		{ "why is my withdrawal still pending", 1 },
		{ "ok but the app does not work", 1 },
		{ "Can you check my deposit?", 1 },
		{ "I have another question about fees", 1 },
		{ "Probl\xc3\xa8me : le d\xc3\xa9p\xc3\xb4t est toujours pas l\xc3\xa0", 1 },
		{ "pourquoi si lent", 1 },
		{ "Die Auszahlung funktioniert nicht", 1 },
		{ "Warum dauert das so lange", 1 },
		{ "\xe6\x8f\x90\xe7\x8e\xb0\xe8\xbf\x98\xe6\xb2\xa1\xe5\x88\xb0", 1 }, /* 提现还没到 */
		{ "\xe6\x9c\x89\xe4\xb8\xaa\xe5\x95\x8f\xe9\xa1\x8c", 1 },	   /* 有个問題 */
		{ "\xe5\xa5\xbd\xe7\x9a\x84\xef\xbc\x9f", 1 },			   /* 好的？ */
		/* opinions */
		{ "quick and kind, thanks for the help", 0 },
		{ "merci beaucoup, tr\xc3\xa8s rapide", 0 },
		{ "danke, alles gut", 0 },
		{ "\xe8\xb0\xa2\xe8\xb0\xa2\xef\xbc\x81", 0 }, /* 谢谢！ */
		/* a problem said not to exist (negation), five languages */
		{ "no problems at all", 0 },
		{ "No problem, thanks a lot", 0 },
		{ "never had a single issue with you", 0 },
		{ "Pas de probl\xc3\xa8me, merci", 0 },
		{ "tout est r\xc3\xa9gl\xc3\xa9, sans aucun probl\xc3\xa8me", 0 },
		{ "Kein Problem, danke", 0 },
		{ "gar keine Fehler mehr", 0 },
		{ "\xe6\xb2\xa1\xe9\x97\xae\xe9\xa2\x98\xef\xbc\x8c\xe8\xb0\xa2\xe8\xb0\xa2", 0 }, /* 没问题，谢谢 */
		{ "\xe6\xb2\xa1\xe6\x9c\x89\xe4\xbb\xbb\xe4\xbd\x95\xe9\x97\xae\xe9\xa2\x98", 0 }, /* 没有任何问题 */
		{ "\xe6\xb2\x92\xe5\x95\x8f\xe9\xa1\x8c", 0 },				     /* 沒問題 */
		{ "\xe6\xb2\x92\xe6\x9c\x89\xe4\xbb\x80\xe9\xba\xbc\xe5\x95\x8f\xe9\xa1\x8c", 0 }, /* 沒有什麼問題 */
		/* a negation does not hide a problem elsewhere, nor "not working" */
		{ "no problem with the deposit but the withdrawal failed", 1 },
		{ "pas de probl\xc3\xa8me de d\xc3\xa9p\xc3\xb4t, mais le retrait ne marche pas", 1 },
		{ "kein Problem mit der Einzahlung, aber die Auszahlung fehlt", 1 },
		{ "\xe6\xb2\xa1\xe9\x97\xae\xe9\xa2\x98\xef\xbc\x8c\xe4\xbd\x86\xe6\x8f\x90\xe7\x8e\xb0\xe5\xa4\xb1\xe8\xb4\xa5", 1 }, /* 没问题，但提现失败 */
		{ "\xe6\xb2\x92\xe5\x95\x8f\xe9\xa1\x8c\xef\xbc\x8c\xe4\xbd\x86\xe9\x82\x84\xe6\xb2\x92\xe5\x88\xb0", 1 }, /* 沒問題，但還沒到 */
		{ "the app is not working", 1 },
		{ "a nobody problem", 1 }, /* "no" inside a word is none */
		{ "a tissue of lies", 0 },    /* "issue" inside a word is none */
		{ "", 0 },
	};
	test_begin("comments that read as a new problem");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = vote_reads_as_problem(cases[i].text, strlen(cases[i].text));
		if (got != cases[i].problem)
			printf("  \"%s\": got %d\n", cases[i].text, got);
		test_assert_int(got, cases[i].problem);
	}
}

int
main(void)
{
	test_problem();
	test_table();
	test_not_nul_terminated();
	test_token();
	return test_exit();
}
