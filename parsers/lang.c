/*
 * lang: see lang.h for what is decided and why it is hand-written.
 */
#include "build-config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <uchar.h>

#include "parsers/lang.h"
#include "base/util.h"

/* Pairs of (simplified, traditional) characters that differ, frequent in
   support mail; each form is evidence for its script. */
static const char32_t zh_pairs[] =
	U"们們这這为為说說时時国國会會来來对對过過还還发發问問题題应應该該钱錢账賬"
	U"户戶码碼么麼吗嗎请請谢謝单單现現员員务務号號没沒经經买買卖賣币幣转轉处處"
	U"认認证證确確订訂额額冻凍结結个個无無与與从從让讓样樣数數据據库庫击擊开開"
	U"关關门門间間页頁点點联聯络絡网網线線绑綁邮郵验驗录錄陆陸银銀资資产產帐帳"
	U"审審实實风風险險帮幫给給进進长長败敗错錯误誤显顯价價汇匯费費续續谁誰觉覺"
	U"记記东東车車见見视視话話语語读讀写寫书書图圖场場报報气氣电電脑腦机機动動"
	U"备備设設计計虽雖难難级級总總须須试試尽盡办辦几幾种種类類区區华華营營业業"
	U"体體运運权權护護条條约約规規则則负負责責杂雜变變选選择擇执執称稱赔賠偿償"
	U"诉訴满滿态態亿億万萬块塊两兩亲親爱愛欢歡谨謹紧緊马馬钟鐘顺順链鏈节節导導"
	U"离離层層标標识識缘緣详詳细細询詢损損补補拥擁历歷调調质質极極况況将將并並"
	U"闭閉状狀异異达達传傳输輸创創购購于於";

/* At most this many bytes of text are looked at. */
#define SCAN_MAX (64 * 1024)

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Decode one code point at s[*i] (advancing *i); 0xFFFD for bad bytes. */
static uint32_t
next_cp(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	size_t n;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if ((c & 0xe0) == 0xc0) {
		cp = c & 0x1f;
		n = 1;
	} else if ((c & 0xf0) == 0xe0) {
		cp = c & 0x0f;
		n = 2;
	} else if ((c & 0xf8) == 0xf0) {
		cp = c & 0x07;
		n = 3;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (*i + n >= len) {
		(*i)++;
		return 0xfffd;
	}
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	*i += n + 1;
	return cp;
}

static int
is_han(uint32_t cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x3134f);
}

static int
is_kana(uint32_t cp)
{
	/* hiragana, katakana (without the middle dot and prolonged sound
	   mark shared with Chinese typography), small kana, half-width */
	return (cp >= 0x3041 && cp <= 0x309f) || (cp >= 0x30a0 && cp <= 0x30fa) ||
	       (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xff66 && cp <= 0xff9d);
}

static int
is_hangul(uint32_t cp)
{
	return (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) ||
	       (cp >= 0x3130 && cp <= 0x318f);
}

static int
is_latin_letter(uint32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	       (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7);
}

/* ---- quoted history ------------------------------------------------------ */

static int
line_has(const char *line, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(line + i, needle, n) == 0)
			return 1;
	return 0;
}

static int
line_starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && strncasecmp(line, prefix, n) == 0;
}

/* A line after which everything is quoted history. */
static int
history_starts(const char *line, size_t len)
{
	static const char *const separators[] = {
		"original message", "ursprüngliche nachricht", "message d'origine",
		"原始邮件", "原始郵件", "原始信件", "forwarded message",
	};
	static const char *const header_starts[] = {
		"From:", "*From:*", "Von:", "De :", "De:", "发件人", "發件人", "寄件者", "Sent from my",
	};
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && (line_starts(line, len, "-----") || line_starts(line, len, "_____"))) {
		for (size_t i = 0; i < N_ELEMENTS(separators); i++)
			if (line_has(line, len, separators[i]))
				return 1;
		if (line_starts(line, len, "_____"))
			return 1;
	}
	for (size_t i = 0; i < N_ELEMENTS(header_starts); i++)
		if (line_starts(line, len, header_starts[i]))
			return 1;
	/* attributions: "On ... wrote:", "Le ... a écrit :", "Am ... schrieb
	   ...:", "在 ... 写道：", "... 於 ... 寫道：" */
	if (len > 0 && (line[len - 1] == ':' || (len >= 3 && memcmp(line + len - 3, "\xef\xbc\x9a", 3) == 0))) {
		if ((line_starts(line, len, "On ") && line_has(line, len, "wrote")) ||
		    (line_starts(line, len, "Le ") && line_has(line, len, "crit")) ||
		    (line_starts(line, len, "Am ") && line_has(line, len, "schrieb")) ||
		    line_has(line, len, "写道") || line_has(line, len, "寫道"))
			return 1;
	}
	return 0;
}

/* ---- counting ---------------------------------------------------------------- */

enum { L_EN, L_FR, L_DE, N_LATIN };

struct counts {
	size_t han, kana, hangul, latin_words;
	size_t simp, trad;
	int latin[N_LATIN];
};

static const char *const stopwords[N_LATIN][64] = {
	[L_EN] = { "the", "and", "is", "are", "was", "to", "of", "in", "my", "i", "you", "your",
		   "have", "has", "not", "it", "this", "that", "for", "with", "please", "can", "on",
		   "me", "we", "but", "be", "do", "did", "hello", "hi", "thanks", "thank", "would",
		   "could", "what", "when", "why", "how", "been", "still", "yet", "an", "there",
		   "dear", "regards", "received", "withdrawal", "deposit", "account", NULL },
	[L_FR] = { "le", "la", "les", "un", "une", "des", "du", "et", "est", "je", "vous", "mon",
		   "ma", "mes", "pas", "ne", "que", "qui", "pour", "avec", "sur", "dans", "merci",
		   "bonjour", "votre", "vos", "ai", "avez", "suis", "sont", "mais", "ce", "cette",
		   "il", "elle", "nous", "au", "aux", "compte", "commande", "retrait", "madame",
		   "monsieur", "cordialement", "toujours", "depuis", "jours", "pourquoi", "mon",
		   "été", "reçu", "n'ai", "j'ai", "c'est", "dépôt", NULL },
	[L_DE] = { "der", "die", "das", "und", "ist", "ich", "sie", "nicht", "ein", "eine", "einen",
		   "mein", "meine", "mit", "auf", "für", "zu", "von", "den", "dem", "bitte", "danke",
		   "hallo", "guten", "tag", "habe", "haben", "wurde", "kann", "können", "ihr", "ihre",
		   "wir", "aber", "auch", "noch", "es", "sehr", "geehrte", "geehrter", "geehrtes",
		   "konto", "auszahlung", "grüße", "freundlichen", "seit", "immer", "warum", "meiner",
		   "meinem", "keine", "nach", "wie", "einzahlung", NULL },
};

/* The stop words of all languages in one hash set: each word once, with
   the bit of every language it belongs to. A lookup hashes the word once
   and compares it with one or two entries, where scanning the lists cost
   ~160 strcmp() per word (39 M calls per 2,000 messages in the profile of
   issue 18). An open-addressing table built once (pthread_once) rather than
   a generated perfect hash: ~170 fixed words, no generator to maintain, and
   at a load under 1/3 the probe sequences are a slot or two. */
#define STOP_SLOTS 512 /* power of two, > 3x the words */

struct stop_slot {
	const char *word; /* NULL: empty */
	unsigned int langs; /* bit per L_* */
};

static struct stop_slot stop_set[STOP_SLOTS];
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

/* FNV-1a over the bytes of s[0..len). */
static uint32_t
stop_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void
stop_set_build(void)
{
	for (int l = 0; l < N_LATIN; l++) {
		for (size_t k = 0; stopwords[l][k] != NULL; k++) {
			const char *w = stopwords[l][k];
			size_t len = strlen(w);
			uint32_t i = stop_hash(w, len) & (STOP_SLOTS - 1);
			while (stop_set[i].word != NULL && strcmp(stop_set[i].word, w) != 0)
				i = (i + 1) & (STOP_SLOTS - 1);
			stop_set[i].word = w;
			stop_set[i].langs |= 1u << l;
		}
	}
}

/* The languages (bit per L_*) whose stop words include low (NUL-terminated,
   len bytes). */
static unsigned int
stop_langs(const char *low, size_t len)
{
	pthread_once(&stop_once, stop_set_build);
	uint32_t i = stop_hash(low, len) & (STOP_SLOTS - 1);
	while (stop_set[i].word != NULL) {
		if (strcmp(stop_set[i].word, low) == 0)
			return stop_set[i].langs;
		i = (i + 1) & (STOP_SLOTS - 1);
	}
	return 0;
}

static void
count_word(struct counts *c, const char *w, size_t len)
{
	if (len == 0 || len > 20)
		return;
	char low[64];
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < sizeof(low); i++)
		low[n++] = (char)tolower((unsigned char)w[i]);
	low[n] = '\0';
	if (len >= 2)
		c->latin_words++;
	unsigned int langs = stop_langs(low, n);
	for (int l = 0; l < N_LATIN; l++)
		if (langs & (1u << l))
			c->latin[l]++;
}

static void
count_zh(struct counts *c, uint32_t cp)
{
	for (size_t k = 0; k + 1 < N_ELEMENTS(zh_pairs); k += 2) {
		if (zh_pairs[k] == cp) {
			c->simp++;
			return;
		}
		if (zh_pairs[k + 1] == cp) {
			c->trad++;
			return;
		}
	}
}

static void
count_text(const char *text, size_t len, struct counts *c)
{
	const unsigned char *s = (const unsigned char *)text;
	if (len > SCAN_MAX)
		len = utf8_truncate_len(text, SCAN_MAX);
	size_t i = 0;
	while (i < len) {
		size_t eol = i;
		while (eol < len && s[eol] != '\n')
			eol++;
		const char *line = text + i;
		size_t llen = eol - i;
		size_t k = 0;
		while (k < llen && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k < llen && line[k] == '>') {
			i = eol + 1;
			continue;
		}
		if (history_starts(line, llen))
			break;
		/* words and scripts on this line */
		size_t p = i, wstart = 0;
		int in_word = 0, word_ok = 1;
		while (p < eol) {
			size_t at = p;
			uint32_t cp = next_cp(s, eol, &p);
			if (is_latin_letter(cp) || (in_word && cp == '\'')) {
				if (!in_word) {
					in_word = 1;
					word_ok = 1;
					wstart = at;
				}
				if (cp >= 0xc0) {
					/* diacritics typical of one language */
					if (cp == 0xe4 || cp == 0xf6 || cp == 0xfc || cp == 0xdf || cp == 0xc4 ||
					    cp == 0xd6 || cp == 0xdc)
						c->latin[L_DE]++;
					else if (cp == 0xe9 || cp == 0xe8 || cp == 0xea || cp == 0xe0 ||
						 cp == 0xe7 || cp == 0xf9 || cp == 0xfb || cp == 0xf4 ||
						 cp == 0xee || cp == 0xef || cp == 0x153 || cp == 0xc9)
						c->latin[L_FR]++;
				}
				continue;
			}
			if (in_word && (cp < 0x80 && isdigit((int)cp)))
				word_ok = 0;
			if (in_word && !(cp < 0x80 && isalnum((int)cp))) {
				if (word_ok)
					count_word(c, text + wstart, at - wstart);
				in_word = 0;
			} else if (in_word) {
				continue;
			}
			if (is_han(cp)) {
				c->han++;
				count_zh(c, cp);
			} else if (is_kana(cp)) {
				c->kana++;
			} else if (is_hangul(cp)) {
				c->hangul++;
			}
		}
		if (in_word && word_ok)
			count_word(c, text + wstart, eol - wstart);
		i = eol + 1;
	}
}

/* ---- decisions ------------------------------------------------------------ */

static const char *
zh_variant(const struct counts *c, const char *tie)
{
	if (c->trad > c->simp)
		return "zh-TW";
	if (c->simp > c->trad)
		return "zh-CN";
	return tie;
}

/* The text's language, or NULL when inconclusive. cjk_r: 1 when the text
   is mostly CJK, -1 when it has no CJK and some Latin words, else 0. */
static const char *
text_language(const struct counts *c, int *cjk_r)
{
	size_t cjk = c->han + c->kana + c->hangul;
	*cjk_r = 0;
	if (cjk >= 2 && cjk >= c->latin_words) {
		*cjk_r = 1;
		if (c->hangul > c->han + c->kana)
			return "ko";
		if (c->kana >= 2 && c->kana * 10 >= c->han + c->kana)
			return "ja";
		return zh_variant(c, "zh-CN");
	}
	if (cjk == 0 && c->latin_words >= 3)
		*cjk_r = -1;
	int best = -1, second = -1;
	for (int l = 0; l < N_LATIN; l++) {
		if (best < 0 || c->latin[l] > c->latin[best]) {
			second = best;
			best = l;
		} else if (second < 0 || c->latin[l] > c->latin[second]) {
			second = l;
		}
	}
	if (c->latin[best] < 2 || c->latin[best] == c->latin[second])
		return NULL;
	static const char *const names[N_LATIN] = { "en", "fr", "de" };
	return names[best];
}

const char *
lang_normalize(const char *tag)
{
	char low[64];
	size_t n = 0;
	if (tag == NULL)
		return NULL;
	while (*tag == ' ' || *tag == '\t')
		tag++;
	for (; tag[n] != '\0' && n + 1 < sizeof(low); n++) {
		char ch = (char)tolower((unsigned char)tag[n]);
		low[n] = ch == '_' ? '-' : ch;
	}
	while (n > 0 && (low[n - 1] == ' ' || low[n - 1] == '\t'))
		n--;
	low[n] = '\0';
	if (n == 0)
		return NULL;
	char *dash = strchr(low, '-');
	size_t plen = dash != NULL ? (size_t)(dash - low) : n;
	if (plen == 2 && strncmp(low, "zh", 2) == 0) {
		if (dash == NULL)
			return "zh";
		if (strstr(low, "-hant") != NULL || strstr(low, "-tw") != NULL ||
		    strstr(low, "-hk") != NULL || strstr(low, "-mo") != NULL)
			return "zh-TW";
		return "zh-CN";
	}
	static const char *const simple[] = { "en", "fr", "de", "ja", "ko" };
	for (size_t i = 0; i < N_ELEMENTS(simple); i++)
		if (plen == 2 && strncmp(low, simple[i], 2) == 0)
			return simple[i];
	/* a few three-letter and legacy forms */
	if (strcmp(low, "cmn") == 0 || strncmp(low, "cmn-hans", 8) == 0)
		return "zh-CN";
	if (strncmp(low, "cmn-hant", 8) == 0 || strncmp(low, "yue", 3) == 0)
		return "zh-TW";
	return NULL;
}

/* The first supported tag of a Content-Language list. */
static const char *
header_language(const char *value)
{
	if (value == NULL)
		return NULL;
	const char *p = value;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		if (n < 64) {
			char tag[64];
			memcpy(tag, p, n);
			tag[n] = '\0';
			/* drop a ";q=" weight some clients copy from HTTP */
			char *semi = strchr(tag, ';');
			if (semi != NULL)
				*semi = '\0';
			const char *norm = lang_normalize(tag);
			if (norm != NULL)
				return norm;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return NULL;
}

static int
is_cjk_tag(const char *tag)
{
	return strncmp(tag, "zh", 2) == 0 || strcmp(tag, "ja") == 0 || strcmp(tag, "ko") == 0;
}

const char *
lang_detect(const char *content_language, const char *text, size_t len, const char *fallback,
	    enum lang_source *source_r)
{
	struct counts c = { 0 };
	enum lang_source dummy;
	if (source_r == NULL)
		source_r = &dummy;
	if (text != NULL)
		count_text(text, len, &c);
	int cjk;
	const char *from_text = text_language(&c, &cjk);
	const char *header = header_language(content_language);

	if (header != NULL) {
		int contradicted = (!is_cjk_tag(header) && cjk == 1 && c.han + c.kana + c.hangul >= 4) ||
				   (is_cjk_tag(header) && cjk == -1);
		if (!contradicted) {
			*source_r = LANG_FROM_HEADER;
			if (strcmp(header, "zh") == 0)
				return zh_variant(&c, "zh-CN");
			/* A Chinese tag whose region disagrees with the script of
			   the text (zh-CN on traditional text): the script wins. */
			if (strncmp(header, "zh-", 3) == 0 && from_text != NULL &&
			    strncmp(from_text, "zh-", 3) == 0 && (c.simp + c.trad) >= 3)
				return from_text;
			return header;
		}
	}
	if (from_text != NULL) {
		*source_r = LANG_FROM_TEXT;
		return from_text;
	}
	*source_r = LANG_FROM_FALLBACK;
	return fallback;
}
