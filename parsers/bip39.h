/*
 * bip39: BIP39 recovery phrases. The official word lists (English, French,
 * simplified and traditional Chinese; compiled in from data/bip39/, whose
 * README gives their source and checksums), the BIP39 checksum, and a
 * scanner that finds phrases in UTF-8 text.
 *
 * What counts as a phrase (docs/secrets.md says why):
 * - 12, 15, 18, 21 or 24 words of ONE list in sequence, whatever separates
 *   them (spaces, line breaks, commas, numbering such as "1. abandon
 *   2. ability", HTML tags with BIP39_SCAN_HTML), at most
 *   BIP39_MAX_GAP bytes between two words, and no other word in between;
 *   English and French without regard to case or accents (NFC or NFD);
 * - whose BIP39 checksum passes. A random run of 12 list words passes it
 *   1 time in 16, so the run must also look like a phrase: a 12..24-word
 *   window is only taken at most BIP39_SLACK words from either end of a
 *   run of list words; a Chinese phrase written without separators must be
 *   the whole run of list characters and either have 18 words or more or
 *   follow a word such as 助记词 or "seed";
 * - a few typos are tolerated only where the checksum still confirms:
 *   a Latin word that is not in the list but whose first four letters are
 *   those of exactly one list word (BIP39 words are unique by their first
 *   four letters), or inside the phrase a word one edit away from a list
 *   word (at most 1 such word in a 12- or 15-word phrase, 2 in longer
 *   ones, and only when the phrase is the whole run).
 *
 * Pure: no I/O, no logging, no global state. SHA-256 comes from the caller
 * (parsers/ does not include OpenSSL: gateway/crypto.c does).
 */
#ifndef DG_BIP39_H
#define DG_BIP39_H

#include <stddef.h>
#include <stdint.h>

enum bip39_lang {
	BIP39_ENGLISH,
	BIP39_FRENCH,
	BIP39_CHINESE_SIMPLIFIED,
	BIP39_CHINESE_TRADITIONAL,
	BIP39_LANG_COUNT
};

#define BIP39_WORDS 2048
#define BIP39_MIN_WORDS 12
#define BIP39_MAX_WORDS 24
/* Visible separator bytes allowed between two words of a phrase. */
#define BIP39_MAX_GAP 24
/* Extra list words tolerated at either end of a run around a phrase. */
#define BIP39_SLACK 3

/* digest_r receives SHA-256(data[0..len)). */
typedef void bip39_sha256_fn(const void *data, size_t len, unsigned char digest_r[32]);

/* "English", "French", "simplified Chinese", "traditional Chinese". */
const char *bip39_lang_name(enum bip39_lang lang);

/* Word index of the list, exactly as in the shipped file (French in NFD),
   or NULL when index >= BIP39_WORDS. Static storage. */
const char *bip39_word(enum bip39_lang lang, unsigned int index);

/* The index of word[0..len) in the list, or -1. English and French: case
   and accents ignored (NFC or NFD); Chinese: one character. */
int bip39_lookup(enum bip39_lang lang, const char *word, size_t len);

/* Latin lists: the index of the only word whose first four letters are
   those of word[0..len) (at least four letters), or -1. */
int bip39_lookup_prefix(enum bip39_lang lang, const char *word, size_t len);

/* Latin lists: up to max indices of the list words one edit (insertion,
   deletion, substitution or transposition of adjacent letters) away from
   word[0..len); returns how many there are (which may exceed max: only
   max are stored). */
size_t bip39_near(enum bip39_lang lang, const char *word, size_t len, int *indices_r,
		  size_t max);

/* The entropy that the n word indices encode (n = 12, 15, 18, 21 or 24):
   0 and n * 4 / 3 bytes in entropy_r (room for 32) when the checksum
   passes, -1 when it does not or n is not a phrase length. */
int bip39_entropy(const uint16_t *indices, size_t n, bip39_sha256_fn *sha256,
		  unsigned char entropy_r[32], size_t *entropy_len_r);

/* 1 when the n indices are a phrase whose checksum passes, else 0. */
int bip39_checksum_ok(const uint16_t *indices, size_t n, bip39_sha256_fn *sha256);

/* A phrase found by bip39_scan(). */
struct bip39_match {
	size_t offset, len;	/* bytes of text, first word to last word */
	enum bip39_lang lang;
	unsigned int n_words;
	unsigned int n_typos;	/* words taken for a list word they are not */
	int unseparated;	/* Chinese written without separators */
};

/* Called for each phrase, in text order (windows of one run may touch).
   Return 0 to go on, -1 to stop the scan. */
typedef int bip39_found_fn(void *ctx, const struct bip39_match *match);

#define BIP39_SCAN_HTML 0x01 /* <...> tags and &...; entities separate words */

/* Find the phrases of text[0..len) (UTF-8; invalid bytes separate words).
   Returns the number of phrases found, or -1 when found() asked to stop.
   Bounded work: linear in len (a run of list words is evaluated every 256
   words at most). */
int bip39_scan(const char *text, size_t len, unsigned int flags, bip39_sha256_fn *sha256,
	       bip39_found_fn *found, void *ctx);

#endif
