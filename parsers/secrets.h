/*
 * secrets: finds the secrets a customer should never have mailed (wallet
 * recovery phrases, private keys, exchange API secrets, passwords and 2FA
 * codes given with context, payment card numbers) in UTF-8 text, and
 * writes the text again with each one replaced by a mark that says what
 * was there: "[redacted: recovery phrase]". docs/secrets.md says what is
 * detected, what is not, and why.
 *
 * - secrets_scan(): the spans (offset, length, kind, confidence) to redact,
 *   sorted and never overlapping (overlapping findings are merged into one
 *   span of the most severe kind).
 * - secrets_redact(): the text with the spans replaced. A card number keeps
 *   its first 6 and last 4 digits and its separators, the other digits
 *   become '*', and the mark follows it ("4111 11** **** 1111 [redacted:
 *   card number]"). The result is valid UTF-8 when the text was.
 * - secrets_redact_text(): both at once.
 *
 * The detectors: recovery phrases are bip39.h's; WIF keys and BIP32
 * extended private keys are Base58Check strings whose checksum and version
 * are verified (base58.h); 64 hex digits are a private key only after a
 * word such as "private key", 私钥, "clé privée" or "privater Schlüssel"
 * (a transaction hash is not a secret); API secrets, passwords, PINs and
 * 2FA codes only as the value that follows such a word ("my password is
 * ...", "密码是 ...", "mon mot de passe est ...", "mein Passwort ist ...",
 * "API secret: ...", "验证码 ..."); card numbers are 13 to 19 digits
 * (spaces or dashes between groups) of a known card range, passing Luhn,
 * not preceded by '+' (a phone number).
 *
 * Pure: no I/O, no logging. SHA-256 (for the BIP39 and Base58Check
 * checksums) comes from the caller, since parsers/ does not include
 * OpenSSL: gateway code passes crypto_sha256() from gateway/crypto.h.
 *
 * Ownership: secrets_scan() fills a struct secrets_result that the caller
 * frees with secrets_result_free(); redacted texts are malloc'ed and the
 * caller's. The detail strings are static and never hold any part of the
 * secret, so they may be logged.
 */
#ifndef DG_SECRETS_H
#define DG_SECRETS_H

#include <stddef.h>

/* In order of severity: overlapping findings take the first kind. */
enum secret_kind {
	SECRET_RECOVERY_PHRASE,
	SECRET_EXTENDED_KEY,
	SECRET_PRIVATE_KEY,
	SECRET_API_SECRET,
	SECRET_PASSWORD,
	SECRET_OTP,
	SECRET_CARD,
	SECRET_KIND_COUNT
};

#define SECRET_KIND_BIT(kind) (1u << (kind))
#define SECRETS_ALL_KINDS ((1u << SECRET_KIND_COUNT) - 1)
#define SECRETS_DEFAULT_MAX_SPANS 256

/* digest_r receives SHA-256(data[0..len)). */
typedef void secrets_sha256_fn(const void *data, size_t len, unsigned char digest_r[32]);

struct secret_span {
	size_t offset, len;	 /* bytes of the text, on UTF-8 character boundaries */
	enum secret_kind kind;
	unsigned int confidence; /* 50..100: how sure the detector is (docs/secrets.md) */
	size_t keep_head;	 /* bytes at the start left visible (card numbers), else 0 */
	size_t keep_tail;	 /* bytes at the end left visible */
	const char *detail;	 /* static, e.g. "BIP39 English, 12 words": never the secret */
};

struct secrets_options {
	secrets_sha256_fn *sha256; /* required */
	unsigned int kinds;	   /* SECRET_KIND_BIT()s to look for; 0: all */
	unsigned int flags;	   /* SECRETS_HTML */
	size_t max_spans;	   /* more is an error; 0: SECRETS_DEFAULT_MAX_SPANS */
};

/* The text is HTML source: tags and entities separate words (and are
   skipped between a context word and its value). */
#define SECRETS_HTML 0x01

struct secrets_result {
	struct secret_span *spans; /* sorted by offset, not overlapping */
	size_t n;
	unsigned int kinds; /* SECRET_KIND_BIT() of each kind found */
};

/* Scan text[0..len) (UTF-8; invalid bytes are tolerated and never part of
   a secret). 0 and *result_r (empty when nothing was found), or -1 with
   *error_r: no SHA-256 function, or more than max_spans secrets (fail
   closed: the caller quarantines rather than let a secret through).
   Linear in len. */
int secrets_scan(const char *text, size_t len, const struct secrets_options *options,
		 struct secrets_result *result_r, const char **error_r);
void secrets_result_free(struct secrets_result *result);

/* text[0..len) with result's spans replaced by their marks: 0 and *out_r
   (NUL-terminated, *out_len_r bytes, the caller frees), or -1 with
   *error_r when it would exceed max_out bytes. */
int secrets_redact(const char *text, size_t len, const struct secrets_result *result,
		   size_t max_out, char **out_r, size_t *out_len_r, const char **error_r);

/* secrets_scan() then secrets_redact(): *out_r is a copy of the text when
   nothing was found; *kinds_r (may be NULL) gets the kinds found. */
int secrets_redact_text(const char *text, size_t len, const struct secrets_options *options,
			size_t max_out, char **out_r, size_t *out_len_r, unsigned int *kinds_r,
			const char **error_r);

/* "recovery phrase", "extended private key", "private key", "API secret",
   "password", "2FA code", "card number": the words of the marks, shown to
   agents (English). */
const char *secret_kind_name(enum secret_kind kind);
/* "recovery-phrase", "extended-key", "private-key", "api-secret",
   "password", "2fa-code", "card-number": for events, logs and JSON. */
const char *secret_kind_tag(enum secret_kind kind);
/* The names of the kinds in mask, most severe first, joined by ", "
   ("recovery phrase, card number"), "" for none. The caller frees. */
char *secret_kinds_names(unsigned int kinds);

#endif
