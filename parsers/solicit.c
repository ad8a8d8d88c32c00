/*
 * solicit: see solicit.h. Tables of nouns, requests, determiners,
 * negations and compounds, matched on a copy of each clause with ASCII
 * letters in lower case.
 */
#include "parsers/solicit.h"

#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* A clause longer than this is looked at in its first bytes only. */
#define MAX_CLAUSE 1024

struct noun {
	const char *s;
	enum solicit_kind kind;
	int cjk; /* no word boundaries, no determiner */
};

static const struct noun nouns[] = {
	/* en */
	{ "recovery phrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "seed phrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "secret phrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "backup phrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "mnemonic", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "seed words", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "recovery words", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "wallet words", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "12 words", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "24 words", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "12-word", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "24-word", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "seed", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "private key", SOLICIT_PRIVATE_KEY, 0 },
	{ "privkey", SOLICIT_PRIVATE_KEY, 0 },
	{ "password", SOLICIT_PASSWORD, 0 },
	{ "passcode", SOLICIT_PASSWORD, 0 },
	{ "pin code", SOLICIT_PASSWORD, 0 },
	{ "pin", SOLICIT_PASSWORD, 0 },
	{ "2fa code", SOLICIT_OTP, 0 },
	{ "2fa", SOLICIT_OTP, 0 },
	{ "otp", SOLICIT_OTP, 0 },
	{ "one-time code", SOLICIT_OTP, 0 },
	{ "verification code", SOLICIT_OTP, 0 },
	{ "authenticator code", SOLICIT_OTP, 0 },
	{ "authentication code", SOLICIT_OTP, 0 },
	{ "google authenticator code", SOLICIT_OTP, 0 },
	{ "sms code", SOLICIT_OTP, 0 },
	{ "security code", SOLICIT_OTP, 0 },
	/* fr */
	{ "phrase de récupération", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "phrase secrète", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "mots de récupération", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "phrase mnémonique", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "clé privée", SOLICIT_PRIVATE_KEY, 0 },
	{ "mot de passe", SOLICIT_PASSWORD, 0 },
	{ "code 2fa", SOLICIT_OTP, 0 },
	{ "code de vérification", SOLICIT_OTP, 0 },
	{ "code d'authentification", SOLICIT_OTP, 0 },
	{ "code sms", SOLICIT_OTP, 0 },
	/* de */
	{ "seed-phrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "wiederherstellungsphrase", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "wiederherstellungswörter", SOLICIT_RECOVERY_PHRASE, 0 },
	{ "privaten schlüssel", SOLICIT_PRIVATE_KEY, 0 },
	{ "privater schlüssel", SOLICIT_PRIVATE_KEY, 0 },
	{ "private schlüssel", SOLICIT_PRIVATE_KEY, 0 },
	{ "passwort", SOLICIT_PASSWORD, 0 },
	{ "kennwort", SOLICIT_PASSWORD, 0 },
	{ "2fa-code", SOLICIT_OTP, 0 },
	{ "bestätigungscode", SOLICIT_OTP, 0 },
	{ "verifizierungscode", SOLICIT_OTP, 0 },
	{ "authentifizierungscode", SOLICIT_OTP, 0 },
	{ "sms-code", SOLICIT_OTP, 0 },
	/* zh-CN, zh-TW */
	{ "助记词", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "助記詞", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "恢复短语", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "恢復短語", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "种子短语", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "種子短語", SOLICIT_RECOVERY_PHRASE, 1 },
	{ "私钥", SOLICIT_PRIVATE_KEY, 1 },
	{ "私鑰", SOLICIT_PRIVATE_KEY, 1 },
	{ "密码", SOLICIT_PASSWORD, 1 },
	{ "密碼", SOLICIT_PASSWORD, 1 },
	{ "口令", SOLICIT_PASSWORD, 1 },
	{ "验证码", SOLICIT_OTP, 1 },
	{ "驗證碼", SOLICIT_OTP, 1 },
};

/* Requests before the noun in the clause (prefixes of words for Latin
   languages: "envoy" is envoyer, envoyez, envoie). */
static const char *const requests[] = {
	/* en */
	"send", "give", "provide", "share", "tell", "reply with", "email", "e-mail", "forward",
	"need your", "need the", "require your", "what is your", "what's your", "whats your",
	"paste", "submit", "let us know", "let me know", "write down for us", "include",
	"read out", "read me",
	/* fr */
	"envoy", "fourni", "communiqu", "donne", "indiqu", "transmet", "partag", "quel est votre",
	"quel est ton", "besoin de votre", "écrivez", "précisez", "confirmez", "saisissez",
	/* de */
	"send", "schick", "geben sie", "gib ", "mitteil", "teilen sie", "nennen", "übermittel",
	"brauchen ihr", "brauchen wir ihr", "benötigen ihr", "benötigen wir ihr", "wie lautet",
	"bestätigen sie", "geben sie uns",
	/* zh */
	"请提供", "请发送", "请发给", "请发", "请告诉", "请告知", "请回复", "请把", "请将", "请输入",
	"麻烦", "发给我们", "发送给我们", "提供给我们", "告诉我们", "告诉我", "发我", "给我们",
	"需要您的", "需要你的", "請提供", "請發送", "請發給", "請發", "請告訴", "請告知", "請回覆",
	"請把", "請將", "發給我們", "告訴我們", "給我們", "需要您的",
};

/* A German verb may come last: "Bitte Ihre Seed-Phrase senden". */
static const char *const requests_after[] = {
	"senden", "schicken", "mitteilen", "nennen", "übermitteln", "angeben",
	"是什么", "是多少", "是什麼", "發給我們", "发给我们",
};

static const char *const determiners[] = {
	"your", "ur", "the", "those", "these", "that", "votre", "vos", "ton", "ta", "tes", "la",
	"le", "les", "ihre", "ihren", "ihr", "ihrer", "deine", "deinen", "dein", "den", "die",
	"das", "eure", "euren", "all", "full", "complete", "entire", "12", "24", "wallet",
	"exchange", "account", "current", "complète", "vollständige", "vollständigen", "12-word",
	"24-word", "login", "backup", "wallet's", "de",
};

static const char *const negations[] = {
	"never", "don't", "dont", "do not", "not ", "no one", "nobody", "won't", "will not",
	"shouldn't", "should not", "must not", "without", "nor ", "neither",
	"jamais", "ne ", "n'", "personne", "aucun",
	"niemals", "nie ", "nicht", "keine", "kein ", "niemand",
	"不要", "不会", "绝不", "切勿", "请勿", "勿", "别", "不得", "不能", "不需要", "無需", "无需",
	"不會", "絕不", "請勿", "別", "不需",
};

/* Words after the noun that make it a thing about the secret. */
static const char *const compounds[] = {
	" reset", " change", " link", " manager", " policy", " strength", " requirement",
	" rule", " setting", " page", " field", " protection", " app", " recovery", " expired",
	" expire", " login", " sent", " was sent", " will be sent", " has been sent",
	"-reset", " oublié", " réinitialis", "-manager", "-zurücksetzung", " zurücksetz",
	"重置", "找回", "修改", "管理器", "已发送", "已發送", "會發送", "会发送", "设置", "設定",
};

static const char *const to_customer[] = { " you ", " you a", " vous ", " ihnen ", " dir ",
					   "给您", "给你", "給您", "給你", "发送到您", "發送到您" };

/* Between the request and the noun: a question about the thing, not a
   request for it ("tell me about the card PIN", "where to find the
   code"). */
static const char *const indirect[] = { " about ", " where ", " how ", " why ", " when ",
					" whether ", " if ", " comment ", " où ", " wo ", " wie ",
					" warum ", "如何", "怎么", "在哪" };

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* The ASCII letters of s[0..n) in lower case, NUL-terminated. */
static char *
lower_copy(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	d[n] = '\0';
	return d;
}

/* The first occurrence of word in c[from..to) at a word start, or -1. */
static long
find_at_word(const char *c, size_t from, size_t to, const char *word, int boundary)
{
	size_t k = strlen(word);
	for (size_t i = from; i + k <= to; i++) {
		if (memcmp(c + i, word, k) != 0)
			continue;
		if (boundary && i > 0 && is_alpha((unsigned char)c[i - 1]))
			continue;
		return (long)i;
	}
	return -1;
}

static int
any_in(const char *c, size_t from, size_t to, const char *const *words, size_t n, int boundary)
{
	for (size_t i = 0; i < n; i++)
		if (find_at_word(c, from, to, words[i], boundary) >= 0)
			return 1;
	return 0;
}

/* The last word before offset end of c (bytes since the clause start). */
static int
determiner_before(const char *c, size_t end)
{
	/* the three words before the noun: "your 12-word recovery phrase" */
	size_t e = end;
	for (int w = 0; w < 3; w++) {
		while (e > 0 && c[e - 1] == ' ')
			e--;
		size_t s = e;
		while (s > 0 && (is_alpha((unsigned char)c[s - 1]) || c[s - 1] == '-'))
			s--;
		if (s == e)
			return 0;
		for (size_t i = 0; i < N_ELEMENTS(determiners); i++)
			if (strlen(determiners[i]) == e - s && memcmp(c + s, determiners[i], e - s) == 0)
				return 1;
		e = s;
	}
	return 0;
}

/* Does clause c[0..n) ask for a secret? Its kind, or SOLICIT_NONE. */
static enum solicit_kind
clause_asks(const char *c, size_t n)
{
	for (size_t k = 0; k < N_ELEMENTS(nouns); k++) {
		const struct noun *no = &nouns[k];
		size_t nl = strlen(no->s);
		size_t from = 0;
		long at;
		while ((at = find_at_word(c, from, n, no->s, !no->cjk)) >= 0) {
			size_t a = (size_t)at, end = a + nl;
			from = a + 1;
			if (!no->cjk && end < n && is_alpha((unsigned char)c[end]) &&
			    !(end + 1 < n && c[end] == 's' && !is_alpha((unsigned char)c[end + 1])))
				continue; /* "pinned", "seeded"; "passwords" is fine */
			int compound = 0;
			for (size_t i = 0; i < N_ELEMENTS(compounds) && !compound; i++) {
				size_t cl = strlen(compounds[i]);
				size_t e2 = end + (end < n && c[end] == 's');
				compound = e2 + cl <= n && memcmp(c + e2, compounds[i], cl) == 0;
			}
			if (compound)
				continue;
			if (any_in(c, 0, a, negations, N_ELEMENTS(negations), 1))
				continue;
			long req = -1;
			for (size_t i = 0; i < N_ELEMENTS(requests) && req < 0; i++)
				req = find_at_word(c, 0, a, requests[i], 1);
			if (req >= 0) {
				/* to the customer: "we will send you the code", "nous vous
				   envoyons le code" (the French pronoun comes first) */
				size_t from_pron = (size_t)req > 7 ? (size_t)req - 7 : 0;
				if (any_in(c, (size_t)req, a + 1, to_customer, N_ELEMENTS(to_customer),
					   0) ||
				    find_at_word(c, from_pron, (size_t)req, " vous ", 0) >= 0 ||
				    any_in(c, (size_t)req, a + 1, indirect, N_ELEMENTS(indirect), 0))
					continue;
				if (no->cjk || determiner_before(c, a))
					return no->kind;
				continue;
			}
			if (any_in(c, end, n, requests_after, N_ELEMENTS(requests_after), 0) &&
			    (no->cjk || determiner_before(c, a)))
				return no->kind;
		}
	}
	return SOLICIT_NONE;
}

/* Length of a clause separator at s (UTF-8), 0 when none. */
static size_t
separator(const char *s, size_t n)
{
	static const char *const wide[] = { "。", "！", "？", "；", "，", "\xef\xbc\x8e" };
	if (*s == '.' || *s == '!' || *s == '?' || *s == ';' || *s == ',' || *s == '\n')
		return 1;
	for (size_t i = 0; i < N_ELEMENTS(wide); i++) {
		size_t k = strlen(wide[i]);
		if (k <= n && memcmp(s, wide[i], k) == 0)
			return k;
	}
	return 0;
}

int
solicit_find(const char *text, size_t len, struct solicit_hit *hit_r)
{
	size_t start = 0;
	memset(hit_r, 0, sizeof(*hit_r));
	for (size_t i = 0; i <= len;) {
		size_t sep = i < len ? separator(text + i, len - i) : 1;
		if (sep == 0) {
			i++;
			continue;
		}
		size_t n = i - start;
		if (n > 0) {
			size_t m = n > MAX_CLAUSE ? MAX_CLAUSE : n;
			char *c = lower_copy(text + start, m);
			enum solicit_kind k = c != NULL ? clause_asks(c, m) : SOLICIT_NONE;
			free(c);
			if (k != SOLICIT_NONE) {
				hit_r->kind = k;
				hit_r->offset = start;
				hit_r->len = n;
				return 1;
			}
		}
		i += sep;
		start = i;
	}
	return 0;
}

const char *
solicit_kind_name(enum solicit_kind kind)
{
	switch (kind) {
	case SOLICIT_RECOVERY_PHRASE:
		return "recovery phrase";
	case SOLICIT_PRIVATE_KEY:
		return "private key";
	case SOLICIT_PASSWORD:
		return "password";
	case SOLICIT_OTP:
		return "2FA code";
	case SOLICIT_NONE:
		break;
	}
	return "nothing";
}
