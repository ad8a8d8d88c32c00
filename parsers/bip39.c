/*
 * bip39: see bip39.h. Written by hand: Debian packages no C library for
 * BIP39 (libwally-core is not in Debian), and what a library would give
 * (a word lookup and an 11-bit unpacking) is the small part; the scanning
 * heuristics are ours whatever library is used. SHA-256 is the caller's.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "parsers/bip39.h"

#include "parsers/bip39-words.inc"

static const struct list {
	const char *name;
	const char *const *words;
	const uint64_t *latin_keys; /* sorted; NULL for Chinese */
	const uint16_t *cjk_keys;   /* sorted code points - 0x4E00; NULL for Latin */
	const uint16_t *index;	    /* word index of each key */
} lists[BIP39_LANG_COUNT] = {
	[BIP39_ENGLISH] = { "English", words_english, keys_english, NULL, index_english },
	[BIP39_FRENCH] = { "French", words_french, keys_french, NULL, index_french },
	[BIP39_CHINESE_SIMPLIFIED] = { "simplified Chinese", words_chinese_simplified, NULL,
				       keys_chinese_simplified, index_chinese_simplified },
	[BIP39_CHINESE_TRADITIONAL] = { "traditional Chinese", words_chinese_traditional, NULL,
					keys_chinese_traditional, index_chinese_traditional },
};

#define IS_LATIN(lang) (lists[lang].latin_keys != NULL)
#define CJK_FIRST 0x4E00
#define CJK_LAST 0x9FFF
/* Letters a Latin token may have to be looked at (typos add one). */
#define LATIN_MAX 9

const char *
bip39_lang_name(enum bip39_lang lang)
{
	return (unsigned int)lang < BIP39_LANG_COUNT ? lists[lang].name : "?";
}

const char *
bip39_word(enum bip39_lang lang, unsigned int index)
{
	if ((unsigned int)lang >= BIP39_LANG_COUNT || index >= BIP39_WORDS)
		return NULL;
	return lists[lang].words[index];
}

/* ------------------------------------------------------------------ */
/* Code points                                                         */

/* Decode the code point at s[0..len) (len > 0) into *cp_r; returns its
   length in bytes, or 1 with *cp_r = -1 for an invalid sequence. */
static size_t
utf8_decode(const unsigned char *s, size_t len, int32_t *cp_r)
{
	unsigned char c = s[0];
	int32_t cp, min;
	size_t n;

	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
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
		*cp_r = -1;
		return 1;
	}
	if (n > len) {
		*cp_r = -1;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp_r = -1;
			return 1;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		*cp_r = -1;
		return 1;
	}
	*cp_r = cp;
	return n;
}

/* Latin-1 letters without their accents (1..26 for a..z), 0 for letters
   that have no single base letter (Æ, Ð, Þ, ß...). */
static const unsigned char latin1_base[64] = {
	/* C0 */ 1, 1, 1, 1, 1, 1, 0, 3, 5, 5, 5, 5, 9, 9, 9, 9,
	/* D0 */ 0, 14, 15, 15, 15, 15, 15, 0, 15, 21, 21, 21, 21, 25, 0, 0,
	/* E0 */ 1, 1, 1, 1, 1, 1, 0, 3, 5, 5, 5, 5, 9, 9, 9, 9,
	/* F0 */ 0, 14, 15, 15, 15, 15, 15, 0, 15, 21, 21, 21, 21, 25, 0, 25,
};

enum cp_class { CP_SEP, CP_LATIN, CP_MARK, CP_CJK, CP_OTHER };

static enum cp_class
cp_classify(int32_t cp)
{
	if (cp < 0)
		return CP_SEP;
	if (cp < 0x80)
		return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ? CP_LATIN : CP_SEP;
	if (cp >= 0xc0 && cp <= 0x24f)
		return (cp == 0xd7 || cp == 0xf7) ? CP_SEP : CP_LATIN;
	if (cp >= 0x300 && cp <= 0x36f)
		return CP_MARK;
	if (cp >= CJK_FIRST && cp <= CJK_LAST)
		return CP_CJK;
	/* Letters of other scripts: Greek to the end of the Indic and South
	   East Asian blocks, kana, CJK extension A, Hangul, compatibility
	   ideographs, fullwidth Latin letters, and the supplementary
	   ideographs. Punctuation, digits and spaces of every block
	   separate. */
	if ((cp >= 0x370 && cp <= 0x1fff) || (cp >= 0x3040 && cp <= 0x30ff) ||
	    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xa000 && cp <= 0xd7af) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xff21 && cp <= 0xff3a) ||
	    (cp >= 0xff41 && cp <= 0xff5a) || cp >= 0x20000)
		return CP_OTHER;
	return CP_SEP;
}

/* The letters a..z (as 1..26) of the Latin word w[0..len), accents and
   case removed; the number of letters, or -1 when w has a letter with no
   base letter among a..z or more than max letters. */
static int
latin_letters(const char *w, size_t len, unsigned char *out, size_t max)
{
	const unsigned char *s = (const unsigned char *)w;
	size_t i = 0, n = 0;

	while (i < len) {
		int32_t cp;
		size_t k = utf8_decode(s + i, len - i, &cp);
		unsigned char l;
		i += k;
		if (cp >= 0x300 && cp <= 0x36f)
			continue; /* NFD accent */
		if (cp >= 'A' && cp <= 'Z')
			l = (unsigned char)(cp - 'A' + 1);
		else if (cp >= 'a' && cp <= 'z')
			l = (unsigned char)(cp - 'a' + 1);
		else if (cp >= 0xc0 && cp <= 0xff)
			l = latin1_base[cp - 0xc0];
		else
			l = 0;
		if (l == 0 || n == max)
			return -1;
		out[n++] = l;
	}
	return (int)n;
}

/* The key of letters[0..n) as gen-bip39-inc.py packs it (n <= 8). */
static uint64_t
latin_key(const unsigned char *letters, size_t n)
{
	uint64_t key = 0;
	for (size_t i = 0; i < n; i++)
		key |= (uint64_t)letters[i] << (5 * (7 - i));
	return key;
}

/* Index of the word with this key (or, with shift 20, this four-letter
   prefix), or -1. */
static int
latin_find(enum bip39_lang lang, uint64_t key, unsigned int shift)
{
	const uint64_t *keys = lists[lang].latin_keys;
	size_t lo = 0, hi = BIP39_WORDS;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k = keys[mid] >> shift;
		if (k == key)
			return lists[lang].index[mid];
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
latin_lookup_letters(enum bip39_lang lang, const unsigned char *letters, size_t n)
{
	if (n < 3 || n > 8)
		return -1;
	return latin_find(lang, latin_key(letters, n), 0);
}

static int
cjk_find(enum bip39_lang lang, int32_t cp)
{
	if (cp < CJK_FIRST || cp > CJK_LAST)
		return -1;
	const uint16_t *keys = lists[lang].cjk_keys;
	uint16_t key = (uint16_t)(cp - CJK_FIRST);
	size_t lo = 0, hi = BIP39_WORDS;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid] == key)
			return lists[lang].index[mid];
		if (keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
bip39_lookup(enum bip39_lang lang, const char *word, size_t len)
{
	if ((unsigned int)lang >= BIP39_LANG_COUNT || len == 0)
		return -1;
	if (IS_LATIN(lang)) {
		unsigned char letters[8];
		int n = latin_letters(word, len, letters, sizeof(letters));
		return n < 0 ? -1 : latin_lookup_letters(lang, letters, (size_t)n);
	}
	int32_t cp;
	size_t k = utf8_decode((const unsigned char *)word, len, &cp);
	return k == len ? cjk_find(lang, cp) : -1;
}

int
bip39_lookup_prefix(enum bip39_lang lang, const char *word, size_t len)
{
	unsigned char letters[LATIN_MAX * 2];
	if ((unsigned int)lang >= BIP39_LANG_COUNT || !IS_LATIN(lang))
		return -1;
	int n = latin_letters(word, len, letters, sizeof(letters));
	if (n < 4)
		return -1;
	return latin_find(lang, latin_key(letters, 4) >> 20, 20);
}

static size_t
near_add(enum bip39_lang lang, const unsigned char *letters, size_t n, int *out, size_t max,
	 size_t count)
{
	int idx = latin_lookup_letters(lang, letters, n);
	if (idx < 0)
		return count;
	for (size_t i = 0; i < count && i < max; i++)
		if (out[i] == idx)
			return count;
	if (count < max)
		out[count] = idx;
	return count + 1;
}

size_t
bip39_near(enum bip39_lang lang, const char *word, size_t len, int *indices_r, size_t max)
{
	unsigned char w[LATIN_MAX], v[LATIN_MAX + 1];
	size_t count = 0;

	if ((unsigned int)lang >= BIP39_LANG_COUNT || !IS_LATIN(lang))
		return 0;
	int r = latin_letters(word, len, w, sizeof(w));
	if (r < 2)
		return 0;
	size_t n = (size_t)r;
	for (size_t i = 0; i < n; i++) { /* deletion */
		memcpy(v, w, i);
		memcpy(v + i, w + i + 1, n - i - 1);
		count = near_add(lang, v, n - 1, indices_r, max, count);
	}
	for (size_t i = 0; i + 1 < n; i++) { /* transposition */
		memcpy(v, w, n);
		v[i] = w[i + 1];
		v[i + 1] = w[i];
		count = near_add(lang, v, n, indices_r, max, count);
	}
	for (size_t i = 0; i < n; i++) { /* substitution */
		memcpy(v, w, n);
		for (unsigned char c = 1; c <= 26; c++) {
			if (c == w[i])
				continue;
			v[i] = c;
			count = near_add(lang, v, n, indices_r, max, count);
		}
	}
	for (size_t i = 0; i <= n && n < 8; i++) { /* insertion */
		memcpy(v, w, i);
		memcpy(v + i + 1, w + i, n - i);
		for (unsigned char c = 1; c <= 26; c++) {
			v[i] = c;
			count = near_add(lang, v, n + 1, indices_r, max, count);
		}
	}
	return count;
}

/* ------------------------------------------------------------------ */
/* Checksum                                                            */

int
bip39_entropy(const uint16_t *indices, size_t n, bip39_sha256_fn *sha256,
	      unsigned char entropy_r[32], size_t *entropy_len_r)
{
	unsigned char bits[33], digest[32];

	if (n < BIP39_MIN_WORDS || n > BIP39_MAX_WORDS || n % 3 != 0)
		return -1;
	memset(bits, 0, sizeof(bits));
	for (size_t i = 0; i < n; i++) {
		if (indices[i] >= BIP39_WORDS)
			return -1;
		for (unsigned int b = 0; b < 11; b++) {
			size_t pos = i * 11 + b;
			if (indices[i] & (1u << (10 - b)))
				bits[pos / 8] |= (unsigned char)(0x80u >> (pos % 8));
		}
	}
	size_t ent_bytes = n * 4 / 3; /* n * 32 / 3 bits */
	unsigned int cs_bits = (unsigned int)(n / 3);
	sha256(bits, ent_bytes, digest);
	unsigned char mask = (unsigned char)(0xffu << (8 - cs_bits));
	if ((bits[ent_bytes] & mask) != (digest[0] & mask))
		return -1;
	memcpy(entropy_r, bits, ent_bytes);
	*entropy_len_r = ent_bytes;
	return 0;
}

int
bip39_checksum_ok(const uint16_t *indices, size_t n, bip39_sha256_fn *sha256)
{
	unsigned char entropy[32];
	size_t len;
	return bip39_entropy(indices, n, sha256, entropy, &len) == 0;
}

/* ------------------------------------------------------------------ */
/* Scanner                                                             */

/* Words of a run kept before it is evaluated (and then its tail kept). */
#define RUN_MAX 256
/* Bytes before a Chinese phrase written without separators searched for a
   word that announces a phrase. */
#define CUE_WINDOW 64
/* A window with typos tries at most this many combinations of candidates
   (1 for 12 words: 4 checksum bits leave no room to choose). */
#define MAX_COMBOS 8
#define MAX_NEAR 4

enum how { HOW_EXACT, HOW_PREFIX, HOW_BRIDGE };

struct slot {
	size_t off, len;
	int idx;	     /* word index; -1 for a bridge */
	unsigned char how;   /* enum how */
	unsigned char sep;   /* separated from the previous word */
	/* Running counts over the run up to this slot, so that a window's
	   typos and missing separators are two subtractions. */
	unsigned int typos, unseps;
};

struct run {
	struct slot slots[RUN_MAX];
	size_t n;
	int pending;	      /* the last slot is a bridge waiting for a list word */
	unsigned int bridges; /* bridges in the run */
	int truncated;	      /* the run's head was evaluated and dropped */
};

struct scan {
	const char *text;
	size_t len;
	bip39_sha256_fn *sha256;
	bip39_found_fn *found;
	void *ctx;
	int count;
	int stop;
	size_t cue_off; /* the last offset cue_before() answered for, + 1 */
	int cue_val;
	struct run runs[BIP39_LANG_COUNT];
};

static const char *const cues[] = {
	"seed", "mnemonic", "phrase", "recovery", "\345\212\251\350\256\260" /* 助记 */,
	"\345\212\251\350\250\230" /* 助記 */, "\347\247\215\345\255\220" /* 种子 */,
	"\347\250\256\345\255\220" /* 種子 */, "\346\201\242\345\244\215" /* 恢复 */,
	"\346\201\242\345\276\251" /* 恢復 */, "\345\244\207\344\273\275" /* 备份 */,
	"\345\202\231\344\273\275" /* 備份 */,
};

/* 1 when a word announcing a phrase is in the CUE_WINDOW bytes before off
   (ASCII without regard to case). The windows of a run share their first
   word: the last answer is kept. */
static int
cue_before(struct scan *sc, size_t off)
{
	char w[CUE_WINDOW];
	size_t start = off > CUE_WINDOW ? off - CUE_WINDOW : 0;

	if (sc->cue_off == off + 1)
		return sc->cue_val;
	for (size_t i = start; i < off; i++) {
		unsigned char t = (unsigned char)sc->text[i];
		w[i - start] = (char)((t >= 'A' && t <= 'Z') ? (t | 0x20) : t);
	}
	sc->cue_off = off + 1;
	sc->cue_val = 0;
	for (size_t c = 0; c < N_ELEMENTS(cues) && !sc->cue_val; c++)
		sc->cue_val = memmem(w, off - start, cues[c], strlen(cues[c])) != NULL;
	return sc->cue_val;
}

static void
report(struct scan *sc, enum bip39_lang lang, const struct slot *s, size_t k, unsigned int typos,
       int unseparated)
{
	struct bip39_match m;
	m.offset = s[0].off;
	m.len = s[k - 1].off + s[k - 1].len - s[0].off;
	m.lang = lang;
	m.n_words = (unsigned int)k;
	m.n_typos = typos;
	m.unseparated = unseparated;
	sc->count++;
	if (sc->found(sc->ctx, &m) < 0)
		sc->stop = 1;
}

/* Is run[st..st+k) a phrase? Reports it when it is. whole: the window is
   the whole run and the run has ended. */
static int
try_window(struct scan *sc, enum bip39_lang lang, size_t st, size_t k, int final)
{
	struct run *run = &sc->runs[lang];
	const struct slot *s = run->slots + st;
	int whole = final && !run->truncated && st == 0 && k == run->n;
	unsigned int typos = 0;
	int unseparated = 0;

	typos = s[k - 1].typos - s[0].typos + (s[0].how != HOW_EXACT);
	unseparated = s[k - 1].unseps != s[0].unseps;
	if (typos > 0 && (!whole || typos > (k <= 15 ? 1u : 2u) || s[0].how == HOW_BRIDGE ||
			  s[k - 1].how == HOW_BRIDGE))
		return 0;
	if (unseparated && !IS_LATIN(lang)) {
		int edge = final && !run->truncated && (st == 0 || st + k == run->n);
		if (!(whole && k >= 18) && !(edge && cue_before(sc, s[0].off)))
			return 0;
	}

	uint16_t idx[BIP39_MAX_WORDS];
	int cand[BIP39_MAX_WORDS][MAX_NEAR];
	size_t n_cand[BIP39_MAX_WORDS];
	size_t combos = 1;
	for (size_t i = 0; i < k; i++) {
		if (s[i].how == HOW_BRIDGE) {
			n_cand[i] = bip39_near(lang, sc->text + s[i].off, s[i].len, cand[i], MAX_NEAR);
			if (n_cand[i] == 0 || n_cand[i] > MAX_NEAR)
				return 0;
		} else {
			cand[i][0] = s[i].idx;
			n_cand[i] = 1;
		}
		combos *= n_cand[i];
		if (combos > (k == 12 ? 1u : MAX_COMBOS))
			return 0;
	}
	for (size_t c = 0; c < combos; c++) {
		size_t rest = c;
		for (size_t i = 0; i < k; i++) {
			idx[i] = (uint16_t)cand[i][rest % n_cand[i]];
			rest /= n_cand[i];
		}
		if (bip39_checksum_ok(idx, k, sc->sha256)) {
			report(sc, lang, s, k, typos, unseparated && !IS_LATIN(lang));
			return 1;
		}
	}
	return 0;
}

static const size_t phrase_lengths[] = { 24, 21, 18, 15, 12 };

/* Windows of the run reported by this evaluation: one inside another is
   not tried again. */
struct reported {
	size_t start[16], end[16];
	size_t n;
};

static int
inside_reported(const struct reported *r, size_t st, size_t k)
{
	for (size_t i = 0; i < r->n; i++)
		if (st >= r->start[i] && st + k <= r->end[i])
			return 1;
	return 0;
}

/* Try the window run[st..st+k) unless it is inside one already reported;
   1 when it is a phrase. */
static int
try_new_window(struct scan *sc, enum bip39_lang lang, struct reported *r, size_t st, size_t k,
	       int final)
{
	if (inside_reported(r, st, k) || !try_window(sc, lang, st, k, final))
		return 0;
	if (r->n < N_ELEMENTS(r->start)) {
		r->start[r->n] = st;
		r->end[r->n] = st + k;
		r->n++;
	}
	return 1;
}

/* Every phrase starting at most BIP39_SLACK words after p, then again
   after the furthest one found: which window of a run is the phrase is
   not known (the words around it may be list words too, and a wrong
   window passes the checksum 1 time in 16), so all that pass are
   reported and the caller redacts their union. Returns the end of the
   last phrase found, or p. */
static size_t
scan_forward(struct scan *sc, enum bip39_lang lang, struct reported *r, size_t p, int final)
{
	struct run *run = &sc->runs[lang];
	while (!sc->stop && run->n - p >= BIP39_MIN_WORDS) {
		size_t furthest = p;
		for (size_t s = 0; s <= BIP39_SLACK && !sc->stop; s++)
			for (size_t j = 0; j < N_ELEMENTS(phrase_lengths) && !sc->stop; j++) {
				size_t k = phrase_lengths[j];
				if (p + s + k <= run->n && try_new_window(sc, lang, r, p + s, k, final) &&
				    p + s + k > furthest)
					furthest = p + s + k;
			}
		if (furthest == p)
			break;
		p = furthest;
	}
	return p;
}

/* Evaluate the run of lang: all of it when final, else (the run is full)
   its head, keeping the tail where a phrase may go on. */
static void
run_evaluate(struct scan *sc, enum bip39_lang lang, int final)
{
	struct run *run = &sc->runs[lang];
	struct reported r;

	r.n = 0;
	if (final && run->pending) {
		run->n--;
		run->bridges--;
		run->pending = 0;
	}
	size_t p = scan_forward(sc, lang, &r, 0, final);
	if (final) {
		/* And the phrases ending at most BIP39_SLACK words before the
		   end of the run. */
		for (size_t s = 0; s <= BIP39_SLACK && !sc->stop; s++)
			for (size_t j = 0; j < N_ELEMENTS(phrase_lengths) && !sc->stop; j++) {
				size_t k = phrase_lengths[j];
				if (run->n >= s + k && run->n - s - k >= p)
					try_new_window(sc, lang, &r, run->n - s - k, k, final);
			}
		run->n = 0;
		run->bridges = 0;
		run->pending = 0;
		run->truncated = 0;
		return;
	}
	/* Keep the words after the last phrase, at most one phrase and its
	   slack. */
	size_t keep = run->n - p;
	if (keep > BIP39_MAX_WORDS + BIP39_SLACK)
		keep = BIP39_MAX_WORDS + BIP39_SLACK;
	memmove(run->slots, run->slots + run->n - keep, keep * sizeof(run->slots[0]));
	run->n = keep;
	run->bridges = 0;
	for (size_t i = 0; i < keep; i++)
		if (run->slots[i].how == HOW_BRIDGE)
			run->bridges++;
	run->truncated = 1;
}

static void
run_add(struct scan *sc, enum bip39_lang lang, const struct slot *slot)
{
	struct run *run = &sc->runs[lang];
	if (run->n == RUN_MAX)
		run_evaluate(sc, lang, 0);
	struct slot *new = &run->slots[run->n];
	*new = *slot;
	new->typos = run->n > 0 ? run->slots[run->n - 1].typos : 0;
	new->unseps = run->n > 0 ? run->slots[run->n - 1].unseps : 0;
	new->typos += slot->how != HOW_EXACT;
	new->unseps += run->n > 0 && !slot->sep;
	run->n++;
}

static void
end_all(struct scan *sc)
{
	for (int l = 0; l < BIP39_LANG_COUNT && !sc->stop; l++)
		if (sc->runs[l].n > 0)
			run_evaluate(sc, (enum bip39_lang)l, 1);
}

/* One token: a Latin word, a Chinese character, or a word of another
   script (cls CP_OTHER). gap: visible separator bytes before it;
   separated: something (maybe only an HTML tag) is before it. */
static void
token(struct scan *sc, enum cp_class cls, size_t off, size_t len, size_t gap, int separated)
{
	unsigned char letters[LATIN_MAX];
	int n_letters = -1;
	int32_t cp = -1;

	if (gap > BIP39_MAX_GAP)
		end_all(sc);
	if (cls == CP_LATIN)
		n_letters = latin_letters(sc->text + off, len, letters, sizeof(letters));
	else if (cls == CP_CJK)
		utf8_decode((const unsigned char *)sc->text + off, len, &cp);

	for (int l = 0; l < BIP39_LANG_COUNT && !sc->stop; l++) {
		enum bip39_lang lang = (enum bip39_lang)l;
		struct run *run = &sc->runs[l];
		struct slot slot = { off, len, -1, HOW_EXACT, (unsigned char)(separated != 0), 0, 0 };
		int bridgeable = 0;

		if (IS_LATIN(lang) && cls == CP_LATIN && n_letters > 0) {
			slot.idx = latin_lookup_letters(lang, letters, (size_t)n_letters);
			if (slot.idx < 0 && n_letters >= 4) {
				slot.idx = latin_find(lang, latin_key(letters, 4) >> 20, 20);
				slot.how = HOW_PREFIX;
			}
			bridgeable = n_letters >= 2;
		} else if (!IS_LATIN(lang) && cls == CP_CJK) {
			slot.idx = cjk_find(lang, cp);
		}
		if (slot.idx >= 0) {
			run->pending = 0;
			run_add(sc, lang, &slot);
		} else if (bridgeable && run->n > 0 && !run->pending && run->bridges < 2) {
			slot.how = HOW_BRIDGE;
			run->pending = 1;
			run->bridges++;
			run_add(sc, lang, &slot);
		} else if (run->n > 0) {
			run_evaluate(sc, lang, 1);
		}
	}
}

/* Length of the HTML tag or entity at s[0..len), or 0 when it is none. */
static size_t
html_skip(const char *s, size_t len)
{
	if (s[0] == '<') {
		const char *gt = memchr(s, '>', len < 1024 ? len : 1024);
		return gt != NULL ? (size_t)(gt - s) + 1 : 0;
	}
	if (s[0] == '&') {
		for (size_t i = 1; i < len && i < 12; i++) {
			char c = s[i];
			if (c == ';')
				return i > 1 ? i + 1 : 0;
			if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
			    c != '#')
				return 0;
		}
	}
	return 0;
}

int
bip39_scan(const char *text, size_t len, unsigned int flags, bip39_sha256_fn *sha256,
	   bip39_found_fn *found, void *ctx)
{
	const unsigned char *s = (const unsigned char *)text;
	/* Not zeroed: the run slots are written before they are read. */
	struct scan *sc = xmalloc(sizeof(*sc));
	size_t i = 0, gap = 0;
	int separated = 0;

	for (int l = 0; l < BIP39_LANG_COUNT; l++) {
		sc->runs[l].n = 0;
		sc->runs[l].pending = 0;
		sc->runs[l].bridges = 0;
		sc->runs[l].truncated = 0;
	}
	sc->count = 0;
	sc->stop = 0;
	sc->cue_off = 0;
	sc->cue_val = 0;
	sc->text = text;
	sc->len = len;
	sc->sha256 = sha256;
	sc->found = found;
	sc->ctx = ctx;
	while (i < len && !sc->stop) {
		if ((flags & BIP39_SCAN_HTML) && (s[i] == '<' || s[i] == '&')) {
			size_t k = html_skip(text + i, len - i);
			if (k > 0) {
				i += k;
				gap += s[i - k] == '&'; /* an entity is one visible character */
				separated = 1;
				continue;
			}
		}
		int32_t cp;
		size_t k = utf8_decode(s + i, len - i, &cp);
		enum cp_class cls = cp_classify(cp);
		if (cls == CP_SEP || cls == CP_MARK) {
			gap += k;
			i += k;
			separated = 1;
			continue;
		}
		size_t start = i;
		i += k;
		if (cls != CP_CJK) {
			/* A word: letters of its class and, for Latin, NFD accents. */
			while (i < len) {
				size_t k2 = utf8_decode(s + i, len - i, &cp);
				enum cp_class c2 = cp_classify(cp);
				if (!(c2 == cls || (cls == CP_LATIN && c2 == CP_MARK)))
					break;
				i += k2;
			}
		}
		token(sc, cls, start, i - start, gap, separated);
		gap = 0;
		separated = 0;
	}
	if (!sc->stop)
		end_all(sc);
	int ret = sc->stop ? -1 : sc->count;
	free(sc);
	return ret;
}
