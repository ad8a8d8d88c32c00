/*
 * phrase: see phrase.h. Hand-written (the reason is in phrase.h).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/phrase.h"

#define MAX_WORDS 6
#define MAX_HAN 8

void
phrase_options_default(struct phrase_options *o)
{
	o->max_words = 3;
	o->min_han = 2;
	o->max_han = 4;
	o->max_phrases = 0;
}

/* One code point at p (< end): its value and length, or -1 for a byte
   that starts no valid UTF-8 sequence (length 1). */
static long
next_cp(const unsigned char *p, const unsigned char *end, size_t *len_r)
{
	unsigned char c = p[0];
	size_t n;
	long cp, min;
	*len_r = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if ((size_t)(end - p) < n)
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len_r = n;
	return cp;
}

static int
is_han(long cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0xf900 && cp <= 0xfaff);
}

static int
is_letter(long cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	       (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7);
}

static int
is_word_cp(long cp)
{
	return is_letter(cp) || (cp >= '0' && cp <= '9') || cp == '\'';
}

/* Words that make no phrase at the start or the end of one. */
static const char *const stop_words[] = {
	"a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been",
	"but", "by", "can", "could", "dear", "did", "do", "does", "for", "from", "had", "has",
	"have", "he", "hello", "her", "hi", "him", "how", "i", "i'm", "if", "in", "into", "is",
	"it", "it's", "its", "just", "me", "my", "of", "on", "or", "our", "please", "she", "so",
	"that", "the", "their", "them", "there", "these", "they", "this", "those", "to", "too",
	"us", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
	"with", "would", "you", "your",
};

static int
is_stop_word(const char *w, size_t len)
{
	for (size_t i = 0; i < sizeof(stop_words) / sizeof(stop_words[0]); i++)
		if (strlen(stop_words[i]) == len && memcmp(stop_words[i], w, len) == 0)
			return 1;
	return 0;
}

/* Han characters that make no phrase at the start or the end of one:
   particles, pronouns, the copula, common adverbs. */
static int
is_han_function(long cp)
{
	static const char function[] = "的了吗嗎呢啊吧呀我你您他她它们們是在和就都也很这這那个個么麼";
	const unsigned char *p = (const unsigned char *)function, *end = p + sizeof(function) - 1;
	while (p < end) {
		size_t n;
		long c = next_cp(p, end, &n);
		if (c == cp)
			return 1;
		p += n;
	}
	return 0;
}

struct token {
	const char *s; /* in the text */
	size_t len;
	int has_letter;
};

struct state {
	const struct phrase_options *o;
	phrase_fn *fn;
	void *context;
	size_t calls;
	int stopped;
};

static void
emit(struct state *st, const char *phrase, size_t len, enum phrase_script script)
{
	if (st->stopped)
		return;
	if (st->o->max_phrases != 0 && st->calls >= st->o->max_phrases) {
		st->stopped = 1;
		return;
	}
	st->calls++;
	if (st->fn(st->context, phrase, len, script) != 0)
		st->stopped = 1;
}

/* A word lower-cased (ASCII) into its place in out. */
static size_t
put_word(char *out, const struct token *t)
{
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return t->len;
}

/* The phrases that end with the last of the n words in ring. */
static void
latin_phrases(struct state *st, const struct token *ring, size_t n_seen)
{
	size_t max = st->o->max_words < MAX_WORDS ? st->o->max_words : MAX_WORDS;
	const struct token *last = &ring[(n_seen - 1) % MAX_WORDS];
	char buf[PHRASE_MAX_LEN], w[PHRASE_MAX_LEN];
	if (last->len >= PHRASE_MAX_LEN)
		return;
	size_t lw = put_word(w, last);
	if (is_stop_word(w, lw) || !last->has_letter)
		return;
	for (size_t n = 1; n <= max && n <= n_seen; n++) {
		const struct token *first = &ring[(n_seen - n) % MAX_WORDS];
		if (!first->has_letter)
			break;
		size_t len = 0;
		int fits = 1;
		for (size_t k = n; k > 0 && fits; k--) {
			const struct token *t = &ring[(n_seen - k) % MAX_WORDS];
			if (len + t->len + 1 > sizeof(buf)) {
				fits = 0;
				break;
			}
			if (len > 0)
				buf[len++] = ' ';
			len += put_word(buf + len, t);
		}
		if (!fits)
			break;
		size_t fl = first->len;
		if (is_stop_word(buf, fl))
			continue;
		if (n == 1 && len < 3)
			continue;
		emit(st, buf, len, PHRASE_LATIN);
	}
}

/* The Han phrases that end with the last character of the run (offsets
   of its last characters in ring, n_run characters so far). */
static void
han_phrases(struct state *st, const char *text, const size_t *ring, size_t n_run, size_t end)
{
	size_t max = st->o->max_han < MAX_HAN ? st->o->max_han : MAX_HAN;
	size_t min = st->o->min_han < 1 ? 1 : st->o->min_han;
	const unsigned char *tp = (const unsigned char *)text;
	size_t lastlen;
	long last = next_cp(tp + ring[(n_run - 1) % MAX_HAN], tp + end, &lastlen);
	if (is_han_function(last))
		return;
	for (size_t n = min; n <= max && n <= n_run; n++) {
		size_t start = ring[(n_run - n) % MAX_HAN];
		size_t fl;
		if (is_han_function(next_cp(tp + start, tp + end, &fl)))
			continue;
		if (end - start <= PHRASE_MAX_LEN)
			emit(st, text + start, end - start, PHRASE_HAN);
	}
}

size_t
phrase_each(const char *text, size_t len, const struct phrase_options *o, phrase_fn *fn,
	    void *context)
{
	struct state st = { .o = o, .fn = fn, .context = context };
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	struct token ring[MAX_WORDS];
	size_t n_words = 0;   /* words of the current Latin phrase run */
	size_t han[MAX_HAN];
	size_t n_han = 0;     /* characters of the current Han run */
	int joined = 0;	      /* only blanks since the last word */
	while (p < end && !st.stopped) {
		size_t n;
		long cp = next_cp(p, end, &n);
		if (cp >= 0 && is_han(cp)) {
			n_words = 0;
			han[n_han % MAX_HAN] = (size_t)((const char *)p - text);
			n_han++;
			p += n;
			han_phrases(&st, text, han, n_han, (size_t)((const char *)p - text));
			continue;
		}
		n_han = 0;
		if (cp >= 0 && is_word_cp(cp) && cp != '\'') {
			const unsigned char *start = p;
			int letter = 0;
			while (p < end) {
				long c = next_cp(p, end, &n);
				if (c < 0 || !is_word_cp(c))
					break;
				letter |= is_letter(c);
				p += n;
			}
			/* An apostrophe belongs to a word only inside it. */
			while (p > start && p[-1] == '\'')
				p--;
			if (!letter || !joined)
				n_words = 0;
			if (!letter) {
				joined = 0;
				continue;
			}
			ring[n_words % MAX_WORDS] =
				(struct token){ (const char *)start, (size_t)(p - start), letter };
			n_words++;
			latin_phrases(&st, ring, n_words);
			joined = 1;
			continue;
		}
		if (cp != ' ' && cp != '\t')
			joined = 0;
		p += n;
	}
	return st.calls;
}

int
phrase_pattern(const char *phrase, size_t len, enum phrase_script script, char *out,
	       size_t size)
{
	const unsigned char *p = (const unsigned char *)phrase, *end = p + len;
	size_t o = 0;
#define PUT(s, n)                                   \
	do {                                        \
		if (o + (n) >= size)                \
			return -1;                  \
		memcpy(out + o, (s), (n));          \
		o += (n);                           \
	} while (0)
	if (len == 0)
		return -1;
	if (script == PHRASE_HAN) {
		while (p < end) {
			size_t n;
			if (!is_han(next_cp(p, end, &n)))
				return -1;
			PUT(p, n);
			p += n;
		}
	} else {
		if (phrase[0] == ' ' || phrase[len - 1] == ' ')
			return -1;
		PUT("\\b", 2);
		while (p < end) {
			size_t n;
			long cp = next_cp(p, end, &n);
			if (cp == ' ') {
				if (p + 1 < end && p[1] == ' ')
					return -1;
				PUT("\\s+", 3);
			} else if (cp == '\'') {
				PUT("['’]", strlen("['’]"));
			} else if (cp >= 0 && is_word_cp(cp)) {
				PUT(p, n);
			} else {
				return -1;
			}
			p += n;
		}
		PUT("\\b", 2);
	}
#undef PUT
	out[o] = '\0';
	return 0;
}
