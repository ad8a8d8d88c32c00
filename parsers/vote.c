/*
 * vote: survey answers (see vote.h). Hand-written: a table of phrases per
 * language and a few shapes of numbers and stars, which no library does.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/vote.h"

struct phrase {
	const char *text; /* lower-case ASCII letters, or UTF-8 */
	int score;
};

/* Longest match wins, so negated and intensified phrases need no order. */
static const struct phrase phrases[] = {
	/* en */
	{ "excellent", 5 }, { "great", 5 }, { "perfect", 5 }, { "awesome", 5 },
	{ "amazing", 5 }, { "very good", 5 }, { "very satisfied", 5 }, { "very happy", 5 },
	{ "good", 4 }, { "satisfied", 4 }, { "happy", 4 }, { "nice", 4 },
	{ "ok", 3 }, { "okay", 3 }, { "average", 3 }, { "neutral", 3 }, { "so-so", 3 },
	{ "so so", 3 }, { "fine", 3 },
	{ "bad", 2 }, { "poor", 2 }, { "unsatisfied", 2 }, { "dissatisfied", 2 },
	{ "not good", 2 }, { "not satisfied", 2 }, { "not happy", 2 }, { "unhappy", 2 },
	{ "very bad", 1 }, { "very poor", 1 }, { "terrible", 1 }, { "awful", 1 },
	{ "horrible", 1 }, { "worst", 1 }, { "very dissatisfied", 1 },
	{ "very unsatisfied", 1 }, { "very unhappy", 1 },
	/* fr */
	{ "tr\xc3\xa8s bien", 5 }, { "tres bien", 5 }, { "tr\xc3\xa8s satisfait", 5 },
	{ "tr\xc3\xa8s satisfaite", 5 }, { "tr\xc3\xa8s content", 5 },
	{ "tr\xc3\xa8s contente", 5 }, { "parfait", 5 }, { "g\xc3\xa9nial", 5 },
	{ "bien", 4 }, { "satisfait", 4 }, { "satisfaite", 4 }, { "content", 4 },
	{ "contente", 4 }, { "bon", 4 },
	{ "moyen", 3 }, { "correct", 3 }, { "bof", 3 }, { "passable", 3 },
	{ "pas content", 2 }, { "pas contente", 2 }, { "pas satisfait", 2 },
	{ "pas satisfaite", 2 }, { "pas bien", 2 }, { "mauvais", 2 }, { "insatisfait", 2 },
	{ "insatisfaite", 2 }, { "m\xc3\xa9\x63ontent", 2 }, { "m\xc3\xa9\x63ontente", 2 },
	{ "tr\xc3\xa8s mauvais", 1 }, { "nul", 1 }, { "tr\xc3\xa8s insatisfait", 1 },
	{ "tr\xc3\xa8s insatisfaite", 1 }, { "tr\xc3\xa8s m\xc3\xa9\x63ontent", 1 },
	{ "catastrophique", 1 }, { "pas du tout satisfait", 1 }, { "pas du tout content", 1 },
	/* de */
	{ "sehr gut", 5 }, { "ausgezeichnet", 5 }, { "hervorragend", 5 },
	{ "sehr zufrieden", 5 }, { "perfekt", 5 }, { "super", 5 },
	{ "gut", 4 }, { "zufrieden", 4 },
	{ "mittel", 3 }, { "geht so", 3 }, { "befriedigend", 3 },
	{ "schlecht", 2 }, { "unzufrieden", 2 }, { "nicht zufrieden", 2 }, { "nicht gut", 2 },
	{ "mangelhaft", 2 },
	{ "sehr schlecht", 1 }, { "sehr unzufrieden", 1 }, { "ungen\xc3\xbcgend", 1 },
	{ "furchtbar", 1 }, { "katastrophal", 1 }, { "gar nicht zufrieden", 1 },
	/* zh-CN */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xa1\xe6\x84\x8f", 5 }, /* 非常满意 */
	{ "\xe5\xbe\x88\xe6\xbb\xa1\xe6\x84\x8f", 5 },		     /* 很满意 */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe5\xa5\xbd", 5 },		     /* 非常好 */
	{ "\xe5\xbe\x88\xe5\xa5\xbd", 5 },			     /* 很好 */
	{ "\xe5\xa4\xaa\xe5\xa5\xbd\xe4\xba\x86", 5 },		     /* 太好了 */
	{ "\xe6\xbb\xa1\xe6\x84\x8f", 4 },			     /* 满意 */
	{ "\xe5\xa5\xbd", 4 },					     /* 好 */
	{ "\xe4\xb8\x8d\xe9\x94\x99", 4 },			     /* 不错 */
	{ "\xe4\xb8\x80\xe8\x88\xac", 3 },			     /* 一般 */
	{ "\xe8\xbf\x98\xe8\xa1\x8c", 3 },			     /* 还行 */
	{ "\xe8\xbf\x98\xe5\x8f\xaf\xe4\xbb\xa5", 3 },		     /* 还可以 */
	{ "\xe5\x87\x91\xe5\x90\x88", 3 },			     /* 凑合 */
	{ "\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f", 2 },		     /* 不满意 */
	{ "\xe4\xb8\x8d\xe5\xa5\xbd", 2 },			     /* 不好 */
	{ "\xe5\xb7\xae", 2 },					     /* 差 */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f", 1 }, /* 非常不满意 */
	{ "\xe5\xbe\x88\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f", 1 },	       /* 很不满意 */
	{ "\xe5\xbe\x88\xe5\xb7\xae", 1 },				       /* 很差 */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe5\xb7\xae", 1 },			       /* 非常差 */
	{ "\xe5\xa4\xaa\xe5\xb7\xae\xe4\xba\x86", 1 },			       /* 太差了 */
	{ "\xe6\x9e\x81\xe5\xb7\xae", 1 },				       /* 极差 */
	/* zh-TW (the phrases that differ) */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xbf\xe6\x84\x8f", 5 }, /* 非常滿意 */
	{ "\xe5\xbe\x88\xe6\xbb\xbf\xe6\x84\x8f", 5 },		     /* 很滿意 */
	{ "\xe6\xbb\xbf\xe6\x84\x8f", 4 },			     /* 滿意 */
	{ "\xe4\xb8\x8d\xe9\x8c\xaf", 4 },			     /* 不錯 */
	{ "\xe9\x82\x84\xe8\xa1\x8c", 3 },			     /* 還行 */
	{ "\xe9\x82\x84\xe5\x8f\xaf\xe4\xbb\xa5", 3 },		     /* 還可以 */
	{ "\xe6\x99\xae\xe9\x80\x9a", 3 },			     /* 普通 */
	{ "\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f", 2 },		     /* 不滿意 */
	{ "\xe9\x9d\x9e\xe5\xb8\xb8\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f", 1 }, /* 非常不滿意 */
	{ "\xe5\xbe\x88\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f", 1 },	       /* 很不滿意 */
	{ "\xe6\xa5\xb5\xe5\xb7\xae", 1 },				       /* 極差 */
	/* Greetings that start like an answer: no score (0). */
	{ "good morning", 0 }, { "good afternoon", 0 }, { "good evening", 0 },
	{ "good day", 0 }, { "good night", 0 }, { "bien re\xc3\xa7u", 0 },
	{ "bon courage", 0 }, { "bon apr\xc3\xa8s-midi", 0 }, { "ok so", 0 },
};

/* Words after a digit that make it a score: "4 stars", "4 sur 5". */
static const char *const digit_tails[] = {
	"/5", "/ 5", "of 5", "out of 5", "sur 5", "von 5", "star", "stars", "\xc3\xa9toile",
	"\xc3\xa9toiles", "stern", "sterne", "\xe6\x98\x9f", /* 星 */
	"\xe5\x88\x86",					     /* 分 */
};

static int
is_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The length of a blank at s (ASCII blank, U+00A0, U+3000), 0 if none. */
static size_t
blank_len(const unsigned char *s, size_t len)
{
	if (len >= 1 && is_blank(s[0]))
		return 1;
	if (len >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (len >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

/* The length of a punctuation mark at s: ASCII punctuation, CJK
   punctuation (U+3001-U+303F), full-width forms of ASCII punctuation,
   U+2013/U+2014 dashes; 0 if none. */
static size_t
punct_len(const unsigned char *s, size_t len)
{
	if (len >= 1 && s[0] < 0x80)
		return s[0] > ' ' && s[0] < 0x7f && !is_ascii_alnum(s[0]) ? 1 : 0;
	if (len >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] >= 0x81)
		return 3;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc &&
	    ((s[2] >= 0x81 && s[2] <= 0x8f) || (s[2] >= 0x9a && s[2] <= 0xa0)))
		return 3;
	if (len >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x93 || s[2] == 0x94))
		return 3;
	return 0;
}

/* Does the text at s end a word or phrase: end, a blank, a newline,
   punctuation? */
static int
at_boundary(const unsigned char *s, size_t len)
{
	return len == 0 || s[0] == '\n' || blank_len(s, len) > 0 || punct_len(s, len) > 0;
}

/* Case-insensitive (ASCII) prefix match of p at s; its length or 0. */
static size_t
prefix_len(const unsigned char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	if (n > len)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)p[i])
			return 0;
	}
	return n;
}

static size_t
skip_blanks(const unsigned char *s, size_t len, size_t i)
{
	size_t n;
	while (i < len && (n = blank_len(s + i, len - i)) > 0)
		i += n;
	return i;
}

/* A digit 1-5 (ASCII or full-width) at s: its value, *n_r its length. */
static int
digit_at(const unsigned char *s, size_t len, size_t *n_r)
{
	if (len >= 1 && s[0] >= '0' && s[0] <= '9') {
		*n_r = 1;
		return s[0] - '0';
	}
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc && s[2] >= 0x90 && s[2] <= 0x99) {
		*n_r = 3;
		return s[2] - 0x90;
	}
	return -1;
}

/* "4", "4/5", "4 stars", "４星", "4." then the end of the line or a
   blank; the length of the score, 0 if none. */
static size_t
match_digit(const unsigned char *s, size_t len, int *score_r)
{
	size_t n;
	int d = digit_at(s, len, &n);
	if (d < VOTE_MIN || d > VOTE_MAX)
		return 0;
	size_t after;
	int d2 = digit_at(s + n, len - n, &after);
	if (d2 >= 0 || (n < len && (s[n] == '.' || s[n] == ',') && n + 1 < len &&
			digit_at(s + n + 1, len - n - 1, &after) >= 0))
		return 0; /* 45, 4.5, 3,2: a number */
	size_t i = skip_blanks(s, len, n);
	size_t best = 0;
	for (size_t k = 0; k < sizeof(digit_tails) / sizeof(digit_tails[0]); k++) {
		size_t m = prefix_len(s + i, len - i, digit_tails[k]);
		if (m > best && at_boundary(s + i + m, len - i - m))
			best = m;
	}
	if (best > 0) {
		*score_r = d;
		return i + best;
	}
	/* A bare digit: the line ends, or punctuation then a blank or the
	   end ("5!", "4 - fast", "5. Thanks"). */
	if (i >= len || s[i] == '\n') {
		*score_r = d;
		return n;
	}
	size_t p = punct_len(s + i, len - i);
	if (p > 0 && s[i] != '%' && s[i] != '$' && s[i] != '/' &&
	    (i + p >= len || s[i + p] == '\n' || blank_len(s + i + p, len - i - p) > 0)) {
		*score_r = d;
		return n;
	}
	return 0;
}

/* A run of stars: ★ ⭐ (with its optional U+FE0F) and '*' count, ☆
   does not; 1-5 filled stars. */
static size_t
match_stars(const unsigned char *s, size_t len, int *score_r)
{
	size_t i = 0, last = 0;
	int filled = 0, total = 0;
	for (;;) {
		if (i < len && s[i] == '*') {
			i++;
			filled++;
		} else if (i + 3 <= len && memcmp(s + i, "\xe2\x98\x85", 3) == 0) {
			i += 3;
			filled++;
		} else if (i + 3 <= len && memcmp(s + i, "\xe2\xad\x90", 3) == 0) {
			i += 3;
			filled++;
			if (i + 3 <= len && memcmp(s + i, "\xef\xb8\x8f", 3) == 0)
				i += 3;
		} else if (i + 3 <= len && memcmp(s + i, "\xe2\x98\x86", 3) == 0) {
			i += 3;
		} else {
			break;
		}
		if (++total > VOTE_MAX)
			return 0;
		last = i;
		i = skip_blanks(s, len, i);
	}
	if (filled < VOTE_MIN || !at_boundary(s + last, len - last))
		return 0;
	*score_r = filled;
	return last;
}

static size_t
match_phrase(const unsigned char *s, size_t len, int *score_r)
{
	size_t best = 0;
	for (size_t k = 0; k < sizeof(phrases) / sizeof(phrases[0]); k++) {
		size_t m = prefix_len(s, len, phrases[k].text);
		if (m <= best)
			continue;
		/* A Latin word must end; a Chinese phrase too, except before
		   "thanks" (谢/謝), which customers write without a comma. */
		if (!at_boundary(s + m, len - m) &&
		    !((unsigned char)phrases[k].text[0] >= 0x80 && len - m >= 3 &&
		      (memcmp(s + m, "\xe8\xb0\xa2", 3) == 0 || memcmp(s + m, "\xe8\xac\x9d", 3) == 0)))
			continue;
		best = m;
		*score_r = phrases[k].score;
	}
	return best;
}

/* Trim blanks and newlines on both sides of s[*start .. *end); with
   lead_punct, punctuation too at the front. */
static void
trim(const unsigned char *s, size_t *start, size_t *end, int lead_punct)
{
	for (;;) {
		size_t n = blank_len(s + *start, *end - *start);
		if (n == 0 && *start < *end && s[*start] == '\n')
			n = 1;
		if (n == 0 && lead_punct)
			n = punct_len(s + *start, *end - *start);
		if (n == 0)
			break;
		*start += n;
	}
	while (*end > *start && (is_blank(s[*end - 1]) || s[*end - 1] == '\n'))
		(*end)--;
}

int
vote_parse(const char *text, size_t len, struct vote *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t start = 0, end = len;
	out->score = 0;
	trim(s, &start, &end, 0);
	/* Opening brackets or quotes before the score: "[5]", "\"great\"". */
	size_t i = start, p;
	while (i < end && (p = punct_len(s + i, end - i)) > 0 && s[i] != '*')
		i += p;
	int score = 0;
	size_t n = match_stars(s + i, end - i, &score);
	if (n == 0)
		n = match_digit(s + i, end - i, &score);
	if (n == 0)
		n = match_phrase(s + i, end - i, &score);
	if (n > 0 && score > 0) {
		out->score = score;
		start = i + n;
		trim(s, &start, &end, 1);
	}
	out->comment_start = start;
	out->comment_len = end - start;
	return out->score;
}

int
vote_score_token(const char *s, size_t len)
{
	if (len != 1 || s[0] < '0' + VOTE_MIN || s[0] > '0' + VOTE_MAX)
		return 0;
	return s[0] - '0';
}

/* ---- does a comment read as a new problem? -------------------------------------- */

/* Question and problem words of the five languages. A Latin phrase
   matches as whole words (no letter before or after it: "help" alone would
   read "thanks for the help" as a problem, so only "need help" is here);
   Chinese phrases match anywhere. */
static const char *const problem_words[] = {
	/* en */
	"problem", "problems", "issue", "issues", "error", "errors", "not working",
	"doesn't work", "does not work", "didn't work", "can't", "cannot", "can not",
	"unable", "still not", "still no", "still nothing", "still waiting", "missing",
	"wrong", "failed", "broken", "need help", "why", "how do", "how can", "what about",
	"another question",
	/* fr */
	"probl\xc3\xa8me", "probl\xc3\xa8mes", "erreur", "question", "ne marche pas",
	"ne fonctionne pas", "impossible", "toujours pas", "toujours rien", "bloqu\xc3\xa9",
	"bloqu\xc3\xa9" "e", "manque", "pourquoi", "besoin d'aide",
	/* de */
	"fehler", "frage", "funktioniert nicht", "geht nicht", "immer noch", "noch immer",
	"nicht angekommen", "fehlt", "warum", "wieso", "brauche hilfe", "kann nicht",
	/* zh-CN */
	"\xe9\x97\xae\xe9\xa2\x98", /* 问题 */ "\xe6\x97\xa0\xe6\xb3\x95", /* 无法 */
	"\xe4\xb8\x8d\xe8\x83\xbd", /* 不能 */ "\xe8\xbf\x98\xe6\xb2\xa1", /* 还没 */
	"\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88", /* 为什么 */ "\xe6\x80\x8e\xe4\xb9\x88", /* 怎么 */
	"\xe5\xa4\xb1\xe8\xb4\xa5", /* 失败 */ "\xe9\x94\x99\xe8\xaf\xaf", /* 错误 */
	"\xe5\xb8\xae\xe5\xbf\x99", /* 帮忙 */ "\xe6\x9c\xaa\xe5\x88\xb0\xe8\xb4\xa6", /* 未到账 */
	/* zh-TW (the words that differ) */
	"\xe5\x95\x8f\xe9\xa1\x8c", /* 問題 */ "\xe7\x84\xa1\xe6\xb3\x95", /* 無法 */
	"\xe9\x82\x84\xe6\xb2\x92", /* 還沒 */ "\xe7\x82\xba\xe4\xbb\x80\xe9\xba\xbc", /* 為什麼 */
	"\xe6\x80\x8e\xe9\xba\xbc", /* 怎麼 */ "\xe5\xa4\xb1\xe6\x95\x97", /* 失敗 */
	"\xe9\x8c\xaf\xe8\xaa\xa4", /* 錯誤 */
};

/* A problem noun said not to exist: "no problems at all", "not a single
   issue", "pas de problème", "sans aucun problème", "kein Problem", "gar
   keine Fehler", "没问题", "沒有任何問題". A negation word, at most
   MAX_FILLERS filler words, then one of the nouns; a match is skipped as a
   whole, so the noun inside it is no problem word. Only nouns are negated:
   "not working" stays a problem. */
static const char *const negations[] = {
	/* en */
	"no", "not", "never", "without", "zero", "didn't", "did not", "haven't", "have not",
	"hasn't", "has not",
	/* fr */
	"pas", "aucun", "aucune", "sans", "jamais", "plus",
	/* de */
	"kein", "keine", "keinen", "keiner", "keinerlei", "ohne", "nie",
	/* zh-CN, zh-TW */
	"\xe6\xb2\xa1\xe6\x9c\x89", /* 没有 */ "\xe6\xb2\xa1", /* 没 */
	"\xe6\xb2\x92\xe6\x9c\x89", /* 沒有 */ "\xe6\xb2\x92", /* 沒 */
	"\xe4\xb8\x8d\xe6\x98\xaf", /* 不是 */ "\xe6\xaf\xab\xe6\x97\xa0", /* 毫无 */
	"\xe6\xaf\xab\xe7\x84\xa1", /* 毫無 */
};
static const char *const negation_fillers[] = {
	"a", "an", "any", "more", "other", "further", "real", "single", "have", "had", "the",
	"slightest", "at", "de", "d'", "du", "aucun", "aucune", "autre", "autres", "eu", "un",
	"une", "seul", "seule", "gar", "mehr", "weiteren", "weitere", "einziges", "einzigen",
	"irgendwelche", "\xc3\xbc" "berhaupt" /* überhaupt */,
	"\xe4\xbb\xbb\xe4\xbd\x95", /* 任何 */ "\xe4\xbb\x80\xe4\xb9\x88", /* 什么 */
	"\xe4\xbb\x80\xe9\xba\xbc", /* 什麼 */ "\xe5\x95\xa5", /* 啥 */
	"\xe5\xa4\xa7", /* 大 */
};
static const char *const negated_nouns[] = {
	"problem", "problems", "issue", "issues", "error", "errors", "question", "questions",
	"complaint", "complaints",
	"probl\xc3\xa8me", "probl\xc3\xa8mes", "erreur", "erreurs", "souci", "soucis",
	"probleme", "problemen", "fehler", "frage", "fragen",
	"\xe9\x97\xae\xe9\xa2\x98", /* 问题 */ "\xe5\x95\x8f\xe9\xa1\x8c", /* 問題 */
	"\xe9\x94\x99\xe8\xaf\xaf", /* 错误 */ "\xe9\x8c\xaf\xe8\xaa\xa4", /* 錯誤 */
};
#define MAX_FILLERS 3

/* A letter or digit: ASCII, or any byte of a multi-byte character (the
   Latin accented letters; a Latin phrase next to a Chinese character is
   rare enough to be read as one word). */
static int
is_word_byte(unsigned char c)
{
	return is_ascii_alnum(c) || c >= 0x80;
}

/* The longest phrase of list at s[i..len): a Latin phrase as whole words
   (one ending in an apostrophe needs no end), a Chinese one anywhere.
   Its length, 0 for none. */
static size_t
phrase_at(const unsigned char *s, size_t len, size_t i, const char *const *list, size_t n)
{
	size_t best = 0;
	for (size_t w = 0; w < n; w++) {
		const char *p = list[w];
		int latin = (unsigned char)p[0] < 0x80;
		if (latin && i > 0 && is_word_byte(s[i - 1]))
			continue;
		size_t m = prefix_len(s + i, len - i, p);
		if (m == 0 || m <= best)
			continue;
		if (latin && p[m - 1] != '\'' && i + m < len && is_word_byte(s[i + m]))
			continue;
		best = m;
	}
	return best;
}

#define PHRASE_AT(s, len, i, list) phrase_at(s, len, i, list, sizeof(list) / sizeof(list[0]))

/* The length of a negated problem noun at s[i..len), 0 for none. */
static size_t
negated_len(const unsigned char *s, size_t len, size_t i)
{
	size_t m = PHRASE_AT(s, len, i, negations);
	if (m == 0)
		return 0;
	size_t j = i + m;
	for (int k = 0; k <= MAX_FILLERS; k++) {
		j = skip_blanks(s, len, j);
		size_t noun = PHRASE_AT(s, len, j, negated_nouns);
		if (noun > 0)
			return j + noun - i;
		size_t filler = k < MAX_FILLERS ? PHRASE_AT(s, len, j, negation_fillers) : 0;
		if (filler == 0)
			return 0;
		j += filler;
	}
	return 0;
}

int
vote_reads_as_problem(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len; i++) {
		/* a question: ? or the full-width ？ (EF BC 9F) */
		if (s[i] == '?' ||
		    (i + 2 < len && s[i] == 0xef && s[i + 1] == 0xbc && s[i + 2] == 0x9f))
			return 1;
		size_t negated = negated_len(s, len, i);
		if (negated > 0) {
			i += negated - 1;
			continue;
		}
		for (size_t w = 0; w < sizeof(problem_words) / sizeof(problem_words[0]); w++) {
			const char *p = problem_words[w];
			int latin = (unsigned char)p[0] < 0x80;
			if (latin && i > 0 && is_word_byte(s[i - 1]))
				continue;
			size_t n = prefix_len(s + i, len - i, p);
			if (n > 0 && (!latin || i + n == len || !is_word_byte(s[i + n])))
				return 1;
		}
	}
	return 0;
}
