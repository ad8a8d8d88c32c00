/*
 * solicit: does a text ask its reader for a secret? The outbound guard
 * (gateway/guard.h) holds an agent's reply that asks the customer for a
 * recovery phrase, a private key, a password or a 2FA code: support never
 * needs them, and a compromised or careless agent account must not be able
 * to get them from customers.
 *
 * A request is, within one clause (split at . ! ? ; , and line ends, and
 * their full-width forms):
 *   - a secret named in one of the five languages (zh-CN, zh-TW, en, fr,
 *     de): "recovery phrase", "seed words", "private key", "password",
 *     "2FA code", 助记词, 私钥, 密码, 验证码, "phrase de récupération",
 *     "clé privée", "mot de passe", "Seed-Phrase", "privaten Schlüssel",
 *     "Passwort", "Bestätigungscode"...;
 *   - after a request: "send", "give", "provide", "share", "tell",
 *     "what is your", "envoyez", "fournissez", "quel est votre", "senden
 *     Sie", "teilen Sie ... mit", "wie lautet", 请提供, 请发送, 告诉我们,
 *     发给我们, 需要您的 ... (German also with the verb after the noun;
 *     Chinese also "您的密码是什么");
 *   - in Latin languages, with a determiner right before the noun ("your",
 *     "the", "votre", "Ihre"...): "send you a password reset link" is not
 *     a request, "send us your password" is;
 * and not:
 *   - negated in the clause ("we will never ask for your password", "ne
 *     communiquez jamais", "geben Sie niemals", 请勿, 不要, 绝不);
 *   - addressed to the customer ("we will send you the verification
 *     code": "you"/"vous"/"Ihnen" between the verb and the noun);
 *   - a compound about the thing rather than the secret ("password reset
 *     link", "password manager", "2FA settings").
 *
 * Hand-written: word tables and a clause scan; no library answers this.
 * Pure: no I/O, no logging. Linear in the length of the text.
 */
#ifndef DG_SOLICIT_H
#define DG_SOLICIT_H

#include <stddef.h>

enum solicit_kind {
	SOLICIT_NONE,
	SOLICIT_RECOVERY_PHRASE,
	SOLICIT_PRIVATE_KEY,
	SOLICIT_PASSWORD,
	SOLICIT_OTP,
};

struct solicit_hit {
	enum solicit_kind kind;
	size_t offset, len; /* the clause that asks, in the text's bytes */
};

/* 1 with *hit_r: the first clause of text[0..len) (UTF-8) that asks for a
   secret; 0 when none does. */
int solicit_find(const char *text, size_t len, struct solicit_hit *hit_r);

/* "recovery phrase", "private key", "password", "2FA code". */
const char *solicit_kind_name(enum solicit_kind kind);

#endif
