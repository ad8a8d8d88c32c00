/*
 * secrets: see secrets.h. The context words and the rules for the values
 * that follow them are written by hand: a fixed table of a few dozen words
 * in four languages, matched in one pass; PCRE2 is only for the rules
 * module (one adapter per library) and parsers/ stays pure.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "parsers/base58.h"
#include "parsers/bip39.h"
#include "parsers/secrets.h"

static const struct {
	const char *name, *tag;
} kind_names[SECRET_KIND_COUNT] = {
	[SECRET_RECOVERY_PHRASE] = { "recovery phrase", "recovery-phrase" },
	[SECRET_EXTENDED_KEY] = { "extended private key", "extended-key" },
	[SECRET_PRIVATE_KEY] = { "private key", "private-key" },
	[SECRET_API_SECRET] = { "API secret", "api-secret" },
	[SECRET_PASSWORD] = { "password", "password" },
	[SECRET_OTP] = { "2FA code", "2fa-code" },
	[SECRET_CARD] = { "card number", "card-number" },
};

const char *
secret_kind_name(enum secret_kind kind)
{
	return (unsigned int)kind < SECRET_KIND_COUNT ? kind_names[kind].name : "secret";
}

const char *
secret_kind_tag(enum secret_kind kind)
{
	return (unsigned int)kind < SECRET_KIND_COUNT ? kind_names[kind].tag : "secret";
}

char *
secret_kinds_names(unsigned int kinds)
{
	struct buf b;
	buf_init(&b, 256);
	for (int k = 0; k < SECRET_KIND_COUNT; k++) {
		if (!(kinds & SECRET_KIND_BIT(k)))
			continue;
		if (b.len > 0)
			buf_puts(&b, ", ");
		buf_puts(&b, kind_names[k].name);
	}
	return buf_steal(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* Collecting spans                                                    */

struct collect {
	const char *text;
	size_t len;
	unsigned int kinds; /* wanted */
	unsigned int flags;
	secrets_sha256_fn *sha256;
	struct secret_span *spans;
	size_t n, cap, limit;
	int overflow;
	unsigned char cue_first[256]; /* bytes a wanted context word starts with */
};

static int
add_span(struct collect *c, size_t off, size_t len, enum secret_kind kind, unsigned int confidence,
	 const char *detail, size_t keep_head, size_t keep_tail)
{
	if (!(c->kinds & SECRET_KIND_BIT(kind)))
		return 0;
	if (c->n == c->limit) {
		c->overflow = 1;
		return -1;
	}
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->spans = xreallocarray(c->spans, c->cap, sizeof(*c->spans));
	}
	struct secret_span *s = &c->spans[c->n++];
	s->offset = off;
	s->len = len;
	s->kind = kind;
	s->confidence = confidence;
	s->detail = detail;
	s->keep_head = keep_head;
	s->keep_tail = keep_tail;
	return 0;
}

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* ------------------------------------------------------------------ */
/* Recovery phrases                                                    */

static const char *const phrase_details[BIP39_LANG_COUNT][5] = {
	{ "BIP39 English, 12 words", "BIP39 English, 15 words", "BIP39 English, 18 words",
	  "BIP39 English, 21 words", "BIP39 English, 24 words" },
	{ "BIP39 French, 12 words", "BIP39 French, 15 words", "BIP39 French, 18 words",
	  "BIP39 French, 21 words", "BIP39 French, 24 words" },
	{ "BIP39 simplified Chinese, 12 words", "BIP39 simplified Chinese, 15 words",
	  "BIP39 simplified Chinese, 18 words", "BIP39 simplified Chinese, 21 words",
	  "BIP39 simplified Chinese, 24 words" },
	{ "BIP39 traditional Chinese, 12 words", "BIP39 traditional Chinese, 15 words",
	  "BIP39 traditional Chinese, 18 words", "BIP39 traditional Chinese, 21 words",
	  "BIP39 traditional Chinese, 24 words" },
};

static int
phrase_found(void *ctx, const struct bip39_match *m)
{
	struct collect *c = ctx;
	unsigned int confidence = m->n_typos > 0 ? 75 : m->unseparated ? 80 : m->n_words > 12 ? 95 : 90;
	return add_span(c, m->offset, m->len, SECRET_RECOVERY_PHRASE, confidence,
			phrase_details[m->lang][(m->n_words - 12) / 3], 0, 0);
}

/* ------------------------------------------------------------------ */
/* Keys: WIF, BIP32 extended private keys, 64 hex digits with context  */

/* The offset of the last needle in hay[0..len) (hay in lower case), or -1. */
static long
find_last(const char *hay, size_t len, const char *needle)
{
	size_t nlen = strlen(needle);
	long last = -1;
	for (const char *p = hay, *end = hay + len; p < end;) {
		const char *m = memmem(p, (size_t)(end - p), needle, nlen);
		if (m == NULL)
			break;
		last = (long)(m - hay);
		p = m + 1;
	}
	return last;
}

/* text[from..to) with ASCII in lower case, in buf (room for to - from). */
static void
lower_copy(const struct collect *c, size_t from, size_t to, char *buf)
{
	for (size_t i = from; i < to; i++)
		buf[i - from] = (char)lower((unsigned char)c->text[i]);
}

/* Words that make 64 hex digits a private key, and words that make them
   something public (which win when they are nearer). Lower case. */
static const char *const key_cues[] = {
	"private key", "private-key", "private_key", "privatekey", "privkey", "priv key",
	"secret", "seed", "wallet key",
	"\347\247\201\351\222\245" /* 私钥 */, "\347\247\201\351\221\260" /* 私鑰 */,
	"\345\257\206\351\222\245" /* 密钥 */, "\345\257\206\351\221\260" /* 密鑰 */,
	"cl\303\251 priv\303\251e", "cle privee", "clef priv\303\251e", "clef privee",
	"privater schl\303\274ssel", "privaten schl\303\274ssel", "privatschl\303\274ssel",
	"privater schluessel", "geheimer schl\303\274ssel", "geheimen schl\303\274ssel",
};
static const char *const public_cues[] = {
	"hash", "txid", "tx id", "tx:", "transaction", "block", "address", "adresse",
	"\344\272\244\346\230\223" /* 交易 */, "\345\223\210\345\270\214" /* 哈希 */,
	"\345\234\260\345\235\200" /* 地址 */, "\345\214\272\345\235\227" /* 区块 */,
};

#define KEY_CUE_BEFORE 100
#define KEY_CUE_AFTER 60

/* Distance from the end of the nearest cue of the list in w[0..len) (a
   lower-case copy of the text before the digits) to its end, or -1. */
static long
nearest_cue(const char *w, size_t len, const char *const *list, size_t n)
{
	long best = -1;
	for (size_t i = 0; i < n; i++) {
		long at = find_last(w, len, list[i]);
		if (at >= 0) {
			long dist = (long)len - at - (long)strlen(list[i]);
			if (best < 0 || dist < best)
				best = dist;
		}
	}
	return best;
}

static void
hex_key(struct collect *c, size_t off, size_t len)
{
	char w[KEY_CUE_BEFORE > KEY_CUE_AFTER ? KEY_CUE_BEFORE : KEY_CUE_AFTER];
	size_t start = off > KEY_CUE_BEFORE ? off - KEY_CUE_BEFORE : 0;
	lower_copy(c, start, off, w);
	long pos = nearest_cue(w, off - start, key_cues, N_ELEMENTS(key_cues));
	long neg = nearest_cue(w, off - start, public_cues, N_ELEMENTS(public_cues));
	if (pos < 0 && neg < 0) {
		/* "<hex> is my private key" on the same line. */
		size_t end = off + len, stop = end;
		while (stop < c->len && stop - end < KEY_CUE_AFTER && c->text[stop] != '\n')
			stop++;
		lower_copy(c, end, stop, w);
		if (nearest_cue(w, stop - end, key_cues, N_ELEMENTS(key_cues)) >= 0)
			pos = 0;
	}
	if (pos >= 0 && (neg < 0 || pos <= neg))
		add_span(c, off, len, SECRET_PRIVATE_KEY, 80, "64 hex digits with a private key word",
			 0, 0);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* BIP32 and SLIP-132 private versions: xprv yprv zprv Yprv Zprv (main),
   tprv uprv vprv Uprv Vprv (test). */
static const uint32_t xprv_versions[] = {
	0x0488ade4, 0x049d7878, 0x04b2430c, 0x0295b005, 0x02aa7a99,
	0x04358394, 0x044a4e62, 0x045f18bc, 0x024285b5, 0x02575048,
};

/* An ASCII letter-and-digit word text[off..off+len): a key? */
static void
check_key(struct collect *c, size_t off, size_t len)
{
	const char *s = c->text + off;
	unsigned char payload[BASE58_MAX_INPUT];
	size_t n;

	if ((len == 51 || len == 52) && (c->kinds & SECRET_KIND_BIT(SECRET_PRIVATE_KEY)) &&
	    base58check_decode(s, len, c->sha256, payload, sizeof(payload), &n) == 0 &&
	    (n == 33 || (n == 34 && payload[33] == 0x01))) {
		int known = payload[0] == 0x80 || payload[0] == 0xef;
		add_span(c, off, len, SECRET_PRIVATE_KEY, known ? 99 : 90,
			 n == 34 ? "WIF private key (compressed)" : "WIF private key", 0, 0);
		return;
	}
	if (len >= 107 && len <= 115 && (c->kinds & SECRET_KIND_BIT(SECRET_EXTENDED_KEY)) &&
	    base58check_decode(s, len, c->sha256, payload, sizeof(payload), &n) == 0 && n == 78 &&
	    payload[45] == 0x00) {
		int known = 0;
		for (size_t i = 0; i < N_ELEMENTS(xprv_versions); i++)
			known |= be32(payload) == xprv_versions[i];
		add_span(c, off, len, SECRET_EXTENDED_KEY, known ? 99 : 90,
			 "BIP32 extended private key", 0, 0);
		return;
	}
	size_t h = (len == 66 && s[0] == '0' && (s[1] | 0x20) == 'x') ? 2 : 0;
	if (len - h == 64 && (c->kinds & SECRET_KIND_BIT(SECRET_PRIVATE_KEY))) {
		for (size_t i = h; i < len; i++)
			if (hex_digit_value((unsigned char)s[i]) < 0)
				return;
		hex_key(c, off, len);
	}
}

/* ------------------------------------------------------------------ */
/* Card numbers                                                        */

static int
luhn_ok(const unsigned char *digits, size_t n)
{
	unsigned int sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = digits[n - 1 - i];
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* The network of a card number by its first digits and length, or NULL.
   Ranges from the networks' published IIN tables. */
static const char *
card_network(const unsigned char *d, size_t n)
{
	unsigned int p2 = d[0] * 10u + d[1];
	unsigned int p3 = p2 * 10u + d[2];
	unsigned int p4 = p3 * 10u + d[3];

	if (d[0] == 4 && (n == 13 || n == 16 || n == 19))
		return "Visa";
	if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16)
		return "Mastercard";
	if ((p2 == 34 || p2 == 37) && n == 15)
		return "American Express";
	if (p2 == 62 && n >= 16 && n <= 19)
		return "UnionPay";
	if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) && n >= 16 && n <= 19)
		return "Discover";
	if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19)
		return "JCB";
	if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 19)
		return "Diners Club";
	if (p4 >= 2200 && p4 <= 2204 && n >= 16 && n <= 19)
		return "Mir";
	if ((p2 == 50 || (p2 >= 56 && p2 <= 69)) && n >= 13 && n <= 19)
		return "Maestro";
	return NULL;
}

/* Groups of digits a card number may be written in: one group, groups of
   4 with a shorter last one, 4-6-5 (American Express) or 4-6-4 (Diners). */
static int
card_layout_ok(const size_t *len, size_t n)
{
	if (n == 1)
		return 1;
	if (n == 3 && len[0] == 4 && len[1] == 6 && (len[2] == 5 || len[2] == 4))
		return 1;
	for (size_t g = 0; g + 1 < n; g++)
		if (len[g] != 4)
			return 0;
	return len[n - 1] >= 1 && len[n - 1] <= 4;
}

/* The card number text[off..end) of digits d[0..n), if it is one. */
static void
card_candidate(struct collect *c, size_t off, size_t end, const unsigned char *d, size_t n)
{
	const unsigned char *s = (const unsigned char *)c->text;
	int same = 1;
	for (size_t k = 1; k < n; k++)
		same &= d[k] == d[0];
	const char *network = card_network(d, n);
	if (same || network == NULL || !luhn_ok(d, n))
		return;
	/* Keep the first 6 and the last 4 digits visible. */
	size_t head = 0, tail = 0, seen = 0;
	for (size_t k = off; k < end; k++)
		if (is_digit(s[k]) && ++seen == 6) {
			head = k + 1 - off;
			break;
		}
	seen = 0;
	for (size_t k = end; k-- > off;)
		if (is_digit(s[k]) && ++seen == 4) {
			tail = end - k;
			break;
		}
	add_span(c, off, end - off, SECRET_CARD, 90, network, head, tail);
}

/* The digits from text[off], in groups separated by single spaces or
   dashes (the same separator throughout); each run of consecutive groups
   that holds 13 to 19 digits in a card layout is a candidate ("4111 1111
   1111 1111 4111 1111 1111 1111" is two). Returns the end of the digits. */
static size_t
check_card(struct collect *c, size_t off)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t g_off[24], g_len[24], m = 0, i = off;
	unsigned char sep = 0;

	while (i < c->len && m < N_ELEMENTS(g_off)) {
		size_t st = i;
		while (i < c->len && is_digit(s[i]))
			i++;
		g_off[m] = st;
		g_len[m++] = i - st;
		if (i + 1 < c->len && (s[i] == ' ' || s[i] == '-') && (sep == 0 || sep == s[i]) &&
		    is_digit(s[i + 1])) {
			sep = s[i];
			i++;
			continue;
		}
		break;
	}
	size_t end = i;
	/* After '+' it is a phone number; glued to a letter or a decimal
	   point, something else. */
	if (off > 0 && s[off - 1] == '+')
		return end;
	int bad_end = end < c->len && (is_alnum(s[end]) || (s[end] == '.' && end + 1 < c->len &&
							       is_digit(s[end + 1])));
	for (size_t a = 0; a < m; a++) {
		unsigned char d[19];
		size_t n = 0;
		for (size_t b = a; b < m; b++) {
			if (n + g_len[b] > sizeof(d))
				break;
			for (size_t k = 0; k < g_len[b]; k++)
				d[n++] = (unsigned char)(s[g_off[b] + k] - '0');
			if (n < 13 || (b == m - 1 && bad_end) || !card_layout_ok(g_len + a, b - a + 1))
				continue;
			size_t before = c->n;
			card_candidate(c, g_off[a], g_off[b] + g_len[b], d, n);
			if (c->n > before) {
				a = b;
				break;
			}
		}
	}
	return end;
}

/* ------------------------------------------------------------------ */
/* Values given after a context word                                   */

enum value_type { V_PASSWORD, V_DIGITS, V_TOKEN };

/* Lower case; a space matches one or more of space, tab, '-', '_'.
   Patterns starting with an ASCII letter must start and end on word
   boundaries; the longest pattern matching at a position wins. */
static const struct cue {
	const char *pattern;
	enum secret_kind kind;
	enum value_type value;
	const char *detail;
} cues[] = {
#define PW(p) { p, SECRET_PASSWORD, V_PASSWORD, "value given as a password" }
#define PIN(p) { p, SECRET_PASSWORD, V_DIGITS, "value given as a PIN" }
#define OTP(p) { p, SECRET_OTP, V_DIGITS, "value given as a 2FA or verification code" }
#define API(p) { p, SECRET_API_SECRET, V_TOKEN, "value given as an API key or secret" }
	PW("password"), PW("passwd"), PW("pwd"), PW("pw"), PW("pass word"), PW("passcode"),
	PW("passphrase"), PW("pass phrase"), PW("mot de passe"), PW("mdp"), PW("passwort"),
	PW("kennwort"), PW("\345\257\206\347\240\201" /* 密码 */),
	PW("\345\257\206\347\242\274" /* 密碼 */), PW("\345\217\243\344\273\244" /* 口令 */),
	PIN("pin"), PIN("pin code"), PIN("code pin"), PIN("pin number"),
	OTP("2fa"), OTP("2fa code"), OTP("code 2fa"), OTP("otp"), OTP("otp code"), OTP("totp"),
	OTP("one time code"), OTP("one time password"), OTP("authenticator code"),
	OTP("google authenticator"), OTP("google authenticator code"), OTP("google auth code"),
	OTP("verification code"), OTP("security code"), OTP("sms code"), OTP("auth code"),
	OTP("authentication code"), OTP("code de v\303\251rification"),
	OTP("code de verification"), OTP("code de s\303\251curit\303\251"),
	OTP("code de securite"), OTP("code d'authentification"), OTP("code a2f"),
	OTP("best\303\244tigungscode"), OTP("bestaetigungscode"), OTP("verifizierungscode"),
	OTP("sicherheitscode"), OTP("authentifizierungscode"), OTP("2fa code"),
	OTP("\351\252\214\350\257\201\347\240\201" /* 验证码 */),
	OTP("\351\251\227\350\255\211\347\242\274" /* 驗證碼 */),
	OTP("\345\212\250\346\200\201\347\240\201" /* 动态码 */),
	OTP("\346\240\241\351\252\214\347\240\201" /* 校验码 */),
	OTP("\345\256\211\345\205\250\347\240\201" /* 安全码 */),
	API("api key"), API("apikey"), API("api secret"), API("apisecret"), API("secret key"),
	API("secretkey"), API("secret"), API("access key"), API("api token"),
	API("\345\257\206\351\222\245" /* 密钥 */), API("\345\257\206\351\221\260" /* 密鑰 */),
	API("cl\303\251 api"), API("cle api"), API("cl\303\251 secr\303\250te"),
	API("cle secrete"), API("api schl\303\274ssel"), API("api schluessel"),
	API("geheimer schl\303\274ssel"), API("geheimschl\303\274ssel"),
#undef PW
#undef PIN
#undef OTP
#undef API
};

/* Words that follow "password is" without being one. */
static const char *const not_passwords[] = {
	"not", "wrong", "incorrect", "invalid", "correct", "right", "expired", "too", "very",
	"the", "a", "an", "my", "your", "being", "still", "now", "ok", "okay", "fine", "reset",
	"changed", "lost", "forgotten", "forgot", "required", "needed", "case", "weak", "strong",
	"short", "long", "same", "different", "empty", "blank", "missing", "locked", "blocked",
	"compromised", "hacked", "stolen", "leaked", "set", "updated", "saved", "sent", "stored",
	"also", "and", "or", "but", "in", "on", "at", "for", "of", "to", "with", "without",
	"working", "accepted", "rejected", "unknown", "secure", "safe", "encrypted", "hidden",
	"pas", "faux", "incorrecte", "le", "la", "les", "mon", "trop", "toujours", "bon", "bien",
	"nicht", "falsch", "korrekt", "richtig", "zu", "sehr", "mein", "das", "der", "die", "noch",
	"jetzt", "abgelaufen", "vergessen", "gesperrt", "none", "null", "nil", "none.",
	"required.", "here", "below", "above", "attached", "this", "that", "it", "is", "was",
	"unchanged", "ignored", "protected", "mandatory", "optional", "hashed", "stored.",
};

/* Length of pattern matched at text[i], or 0. */
static size_t
cue_match(const struct collect *c, size_t i, const char *pattern)
{
	const unsigned char *s = (const unsigned char *)c->text, *p = (const unsigned char *)pattern;
	size_t j = i;

	for (; *p != '\0'; p++) {
		if (*p == ' ') {
			size_t k = j;
			while (k < c->len && (s[k] == ' ' || s[k] == '\t' || s[k] == '-' || s[k] == '_'))
				k++;
			if (k == j)
				return 0;
			j = k;
			continue;
		}
		if (j >= c->len || lower(s[j]) != *p)
			return 0;
		j++;
	}
	if ((unsigned char)pattern[0] < 0x80 && j < c->len && is_alnum(s[j]))
		return 0;
	return j - i;
}

static int
is_ascii_value(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Skip what connects a context word to its value: spaces, ':' '=' and
   quotes, "is", "est", "ist", 是... Returns the offset of the value;
   *explicit_r: a ':' '=' or quote was seen; *linked_r: that, or a word
   such as "is" or 是; *quote_r: the closing quote (1 byte, or the UTF-8
   bytes) the value ends at, or NULL. */
static size_t
skip_connectors(const struct collect *c, size_t i, int *explicit_r, int *linked_r,
		const char **quote_r)
{
	static const char *const words[] = { "is", "was", "est", "ist", "lautet", "war", "c'est" };
	static const struct {
		const char *open, *close;
	} quotes[] = {
		{ "\"", "\"" }, { "'", "'" }, { "`", "`" },
		{ "\342\200\234", "\342\200\235" } /* “ ” */, { "\342\200\230", "\342\200\231" } /* ‘ ’ */,
		{ "\302\253", "\302\273" } /* « » */, { "\343\200\214", "\343\200\215" } /* 「 」 */,
		{ "\343\200\216", "\343\200\217" } /* 『 』 */,
	};
	static const char *const marks[] = {
		"\357\274\232" /* ： */, "\357\274\235" /* ＝ */, "\302\240" /* NBSP */,
		"\343\200\200" /* ideographic space */, "\346\230\257" /* 是 */, "\344\270\272" /* 为 */,
		"\347\202\272" /* 為 */, "\345\260\261" /* 就 */, "\357\274\210" /* （ */,
		"\342\206\222" /* → */, "\342\200\224" /* — */, "\342\200\223" /* – */,
	};
	const unsigned char *s = (const unsigned char *)c->text;
	size_t limit = i + 40 < c->len ? i + 40 : c->len;
	unsigned int n_words = 0, newlines = 0;

	*explicit_r = 0;
	*linked_r = 0;
	*quote_r = NULL;
	while (i < limit) {
		unsigned char ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '-' || ch == '>' || ch == '(' ||
		    ch == '[' || ch == '*') {
			i++;
			continue;
		}
		if (ch == '\n') {
			if (++newlines > 1)
				break;
			i++;
			continue;
		}
		if (ch == ':' || ch == '=') {
			*explicit_r = 1;
			*linked_r = 1;
			i++;
			continue;
		}
		if (ch == '<' && (c->flags & SECRETS_HTML)) {
			const char *gt = memchr(s + i, '>', c->len - i < 512 ? c->len - i : 512);
			if (gt == NULL)
				break;
			i = (size_t)(gt - c->text) + 1;
			limit = i + 40 < c->len ? i + 40 : c->len;
			continue;
		}
		int matched = 0;
		for (size_t q = 0; q < N_ELEMENTS(quotes) && !matched; q++) {
			size_t ql = strlen(quotes[q].open);
			if (i + ql <= c->len && memcmp(s + i, quotes[q].open, ql) == 0) {
				*explicit_r = 1;
				*linked_r = 1;
				*quote_r = quotes[q].close;
				return i + ql;
			}
		}
		for (size_t m = 0; m < N_ELEMENTS(marks) && !matched; m++) {
			size_t ml = strlen(marks[m]);
			if (i + ml <= c->len && memcmp(s + i, marks[m], ml) == 0) {
				*explicit_r |= m < 2;
				*linked_r |= m < 2 || (m >= 4 && m <= 7);
				i += ml;
				matched = 1;
			}
		}
		for (size_t w = 0; w < N_ELEMENTS(words) && !matched && n_words < 2; w++) {
			size_t wl = strlen(words[w]), k = 0;
			while (k < wl && i + k < c->len && lower(s[i + k]) == (unsigned char)words[w][k])
				k++;
			if (k == wl && (i + k == c->len || !is_alnum(s[i + k]))) {
				i += wl;
				n_words++;
				*linked_r = 1;
				matched = 1;
			}
		}
		if (!matched)
			break;
	}
	return i;
}

static int
is_not_password(const char *v, size_t len)
{
	char w[16];
	if (len >= sizeof(w))
		return 0;
	for (size_t i = 0; i < len; i++)
		w[i] = (char)lower((unsigned char)v[i]);
	/* Compare without the sentence punctuation that may follow. */
	while (len > 0 && strchr(".,;!?)", w[len - 1]) != NULL)
		len--;
	w[len] = '\0';
	for (size_t i = 0; i < N_ELEMENTS(not_passwords); i++)
		if (strcmp(w, not_passwords[i]) == 0)
			return 1;
	for (size_t i = 0; i < len; i++)
		if (w[i] != '*' && w[i] != 'x' && w[i] != '.')
			return 0;
	return 1; /* "********", "xxxx": masked, not a password */
}

/* The password value at text[i..): its length, or 0. */
static size_t
password_value(const struct collect *c, size_t i, int explicit, const char *quote)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t j = i;

	if (quote != NULL) {
		size_t ql = strlen(quote);
		while (j < c->len && j - i <= 64 && s[j] != '\n' &&
		       !(j + ql <= c->len && memcmp(s + j, quote, ql) == 0))
			j++;
		if (j >= c->len || j - i > 64 || s[j] == '\n' || j - i < 4)
			return 0;
		return is_not_password(c->text + i, j - i) ? 0 : j - i;
	}
	while (j < c->len && is_ascii_value(s[j]) && j - i <= 64)
		j++;
	size_t len = j - i;
	size_t alnum = 0;
	for (size_t k = 0; k < len; k++)
		alnum += is_alnum(s[i + k]);
	/* Mostly letters and digits: a run of symbols is no password. */
	if (len < 4 || len > 64 || alnum * 2 < len || is_not_password(c->text + i, len) ||
	    (lower(s[i]) == 'h' && lower(s[i + 1]) == 't' && lower(s[i + 2]) == 't' &&
	     lower(s[i + 3]) == 'p') ||
	    (lower(s[i]) == 'w' && lower(s[i + 1]) == 'w' && lower(s[i + 2]) == 'w' && s[i + 3] == '.'))
		return 0; /* a word that is no password, or a link */
	if (!explicit) {
		/* After "is", only what looks like a password: a digit, a
		   symbol, or a capital letter after the first. */
		int ok = 0;
		for (size_t k = 0; k < len && !ok; k++) {
			unsigned char ch = s[i + k];
			if (is_digit(ch) || (k > 0 && ch >= 'A' && ch <= 'Z'))
				ok = 1;
			else if (!is_alnum(ch) && !(k + 1 == len && strchr(".,;!?)", ch) != NULL))
				ok = 1;
		}
		if (!ok)
			return 0;
	}
	return len;
}

/* 4 to 8 digits, maybe split once by a space or '-' ("123 456"). */
static size_t
digits_value(const struct collect *c, size_t i)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t j = i, n = 0;
	int split = 0;

	while (j < c->len) {
		if (is_digit(s[j])) {
			n++;
			j++;
		} else if (!split && n > 0 && (s[j] == ' ' || s[j] == '-') && j + 1 < c->len &&
			   is_digit(s[j + 1])) {
			split = 1;
			j++;
		} else {
			break;
		}
	}
	if (n < 4 || n > 8 || (j < c->len && is_alnum(s[j])))
		return 0;
	return j - i;
}

/* An API key or secret: 16 to 128 of [A-Za-z0-9_-+/=.] with a letter and a
   digit. */
static size_t
token_value(const struct collect *c, size_t i)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t j = i;
	int letter = 0, digit = 0;

	while (j < c->len && j - i <= 128 &&
	       (is_alnum(s[j]) || strchr("_-+/=.", s[j]) != NULL) && s[j] != '\0') {
		letter |= (s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z';
		digit |= is_digit(s[j]);
		j++;
	}
	while (j > i && s[j - 1] == '.')
		j--;
	if (j - i < 16 || j - i > 128 || !letter || !digit)
		return 0;
	return j - i;
}

/* A context word at text[i]? Adds the value after it; returns where the
   scan goes on. */
static size_t
check_cue(struct collect *c, size_t i)
{
	const struct cue *best = NULL;
	size_t best_len = 0;

	for (size_t k = 0; k < N_ELEMENTS(cues); k++) {
		if ((unsigned char)cues[k].pattern[0] != lower((unsigned char)c->text[i]) ||
		    !(c->kinds & SECRET_KIND_BIT(cues[k].kind)))
			continue;
		size_t m = cue_match(c, i, cues[k].pattern);
		if (m > best_len) {
			best = &cues[k];
			best_len = m;
		}
	}
	if (best == NULL)
		return i + 1;
	int explicit, linked;
	const char *quote;
	size_t v = skip_connectors(c, i + best_len, &explicit, &linked, &quote);
	size_t vlen = 0;
	switch (best->value) {
	case V_PASSWORD:
		/* "password doesn't work": after a Latin word, a password is
		   announced by ':' '=' a quote or "is" (Chinese omits them). */
		if (linked || (unsigned char)best->pattern[0] >= 0x80)
			vlen = password_value(c, v, explicit, quote);
		break;
	case V_DIGITS:
		vlen = digits_value(c, v);
		break;
	case V_TOKEN:
		vlen = token_value(c, v);
		break;
	}
	if (vlen == 0)
		return i + best_len;
	add_span(c, v, vlen, best->kind, explicit ? 80 : 65, best->detail, 0, 0);
	return v; /* the value may be a key or a card number too */
}

/* ------------------------------------------------------------------ */
/* The pass over the text                                              */

static void
scan_text(struct collect *c)
{
	const unsigned char *s = (const unsigned char *)c->text;
	unsigned int want_keys = SECRET_KIND_BIT(SECRET_PRIVATE_KEY) |
				 SECRET_KIND_BIT(SECRET_EXTENDED_KEY);
	unsigned int want_cues = SECRET_KIND_BIT(SECRET_PASSWORD) | SECRET_KIND_BIT(SECRET_OTP) |
				 SECRET_KIND_BIT(SECRET_API_SECRET);
	size_t i = 0;

	for (size_t k = 0; k < N_ELEMENTS(cues); k++)
		if (c->kinds & SECRET_KIND_BIT(cues[k].kind))
			c->cue_first[(unsigned char)cues[k].pattern[0]] = 1;
	while (i < c->len && !c->overflow) {
		unsigned char ch = s[i];
		int boundary = i == 0 || !is_alnum(s[i - 1]);
		if ((c->kinds & want_cues) && c->cue_first[lower(ch)] && (ch >= 0x80 || boundary)) {
			size_t next = check_cue(c, i);
			if (next > i + 1) {
				i = next;
				continue;
			}
		}
		if (!is_alnum(ch) || !boundary) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < c->len && is_alnum(s[j]))
			j++;
		if (c->kinds & want_keys)
			check_key(c, i, j - i);
		if (is_digit(ch) && (c->kinds & SECRET_KIND_BIT(SECRET_CARD)) &&
		    !(i > 0 && (s[i - 1] == '.' || s[i - 1] == ',' || s[i - 1] == '/' ||
				s[i - 1] == '_'))) {
			size_t end = check_card(c, i);
			if (end > j)
				j = end;
		}
		i = j;
	}
}

static int
span_cmp(const void *a, const void *b)
{
	const struct secret_span *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

/* Sort and merge overlapping spans into one of the most severe kind. */
static void
merge_spans(struct collect *c)
{
	size_t out = 0;
	if (c->n > 1)
		qsort(c->spans, c->n, sizeof(*c->spans), span_cmp);
	for (size_t i = 0; i < c->n; i++) {
		struct secret_span *s = &c->spans[i];
		if (out > 0) {
			struct secret_span *last = &c->spans[out - 1];
			size_t last_end = last->offset + last->len;
			if (s->offset < last_end) {
				size_t end = s->offset + s->len;
				if (end > last_end)
					last->len = end - last->offset;
				if (s->kind < last->kind) {
					last->kind = s->kind;
					last->detail = s->detail;
				}
				if (s->confidence > last->confidence)
					last->confidence = s->confidence;
				last->keep_head = last->keep_tail = 0;
				continue;
			}
		}
		c->spans[out++] = *s;
	}
	c->n = out;
}

int
secrets_scan(const char *text, size_t len, const struct secrets_options *options,
	     struct secrets_result *result_r, const char **error_r)
{
	struct collect c;
	memset(&c, 0, sizeof(c));
	memset(result_r, 0, sizeof(*result_r));
	if (options == NULL || options->sha256 == NULL) {
		*error_r = "secrets: no SHA-256 function given";
		return -1;
	}
	c.text = text;
	c.len = len;
	c.kinds = options->kinds != 0 ? options->kinds & SECRETS_ALL_KINDS : SECRETS_ALL_KINDS;
	c.flags = options->flags;
	c.sha256 = options->sha256;
	size_t max = options->max_spans != 0 ? options->max_spans : SECRETS_DEFAULT_MAX_SPANS;
	/* Findings before merging: every secret may be found twice. */
	c.limit = max * 2;

	if (c.kinds & SECRET_KIND_BIT(SECRET_RECOVERY_PHRASE))
		bip39_scan(text, len, (c.flags & SECRETS_HTML) ? BIP39_SCAN_HTML : 0, c.sha256,
			   phrase_found, &c);
	if (!c.overflow)
		scan_text(&c);
	if (!c.overflow)
		merge_spans(&c);
	if (c.overflow || c.n > max) {
		free(c.spans);
		*error_r = errf("secrets: more than %zu secrets in one text", max);
		return -1;
	}
	result_r->spans = c.spans;
	result_r->n = c.n;
	for (size_t i = 0; i < c.n; i++)
		result_r->kinds |= SECRET_KIND_BIT(c.spans[i].kind);
	return 0;
}

void
secrets_result_free(struct secrets_result *result)
{
	if (result == NULL)
		return;
	free(result->spans);
	memset(result, 0, sizeof(*result));
}

/* ------------------------------------------------------------------ */
/* Redaction                                                           */

int
secrets_redact(const char *text, size_t len, const struct secrets_result *result, size_t max_out,
	       char **out_r, size_t *out_len_r, const char **error_r)
{
	struct buf b;
	size_t at = 0;
	int ret = 0;

	buf_init(&b, max_out);
	for (size_t i = 0; i < result->n && ret == 0; i++) {
		const struct secret_span *s = &result->spans[i];
		if (s->offset < at || s->offset + s->len > len) {
			*error_r = "secrets: spans out of order or out of the text";
			buf_free(&b);
			return -1;
		}
		ret |= buf_append(&b, text + at, s->offset - at);
		if (s->keep_head + s->keep_tail < s->len && (s->keep_head > 0 || s->keep_tail > 0)) {
			size_t end = s->offset + s->len;
			ret |= buf_append(&b, text + s->offset, s->keep_head);
			for (size_t k = s->offset + s->keep_head; k < end - s->keep_tail; k++)
				ret |= buf_putc(&b, is_digit((unsigned char)text[k]) ? '*'
										: (unsigned char)text[k]);
			ret |= buf_append(&b, text + end - s->keep_tail, s->keep_tail);
			ret |= buf_printf(&b, " [redacted: %s]", secret_kind_name(s->kind));
		} else {
			ret |= buf_printf(&b, "[redacted: %s]", secret_kind_name(s->kind));
		}
		at = s->offset + s->len;
	}
	if (ret == 0)
		ret = buf_append(&b, text + at, len - at);
	if (ret != 0) {
		buf_free(&b);
		*error_r = errf("secrets: redacted text larger than %zu bytes", max_out);
		return -1;
	}
	*out_r = buf_steal(&b, out_len_r);
	return 0;
}

int
secrets_redact_text(const char *text, size_t len, const struct secrets_options *options,
		    size_t max_out, char **out_r, size_t *out_len_r, unsigned int *kinds_r,
		    const char **error_r)
{
	struct secrets_result res;
	if (secrets_scan(text, len, options, &res, error_r) < 0)
		return -1;
	int ret = secrets_redact(text, len, &res, max_out, out_r, out_len_r, error_r);
	if (kinds_r != NULL)
		*kinds_r = ret == 0 ? res.kinds : 0;
	secrets_result_free(&res);
	return ret;
}
