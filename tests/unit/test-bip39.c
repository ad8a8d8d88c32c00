/*
 * test-bip39: the BIP39 word lists, checksum and scanner (parsers/bip39.c)
 * and Base58Check (parsers/base58.c).
 *
 * 1. The files data/bip39/NAME.txt have the SHA-256 of data/bip39/SHA256SUMS, and every
 *    word compiled in equals its line of the file and is found again by
 *    bip39_lookup() (so the lists and the code cannot drift apart).
 * 2. The official vectors (tests/data/secrets/bip39-vectors.json, from
 *    trezor/python-mnemonic) in English, French, simplified and
 *    traditional Chinese: the entropy decoded from each mnemonic, the
 *    mnemonic found by bip39_scan() as one whole phrase, and its BIP32
 *    root xprv verified by Base58Check and found by secrets_scan().
 * 3. Base58 and Base58Check vectors (Bitcoin Core's key_io_valid.json).
 */
#include "build-config.h"

#include <jansson.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "parsers/base58.h"
#include "parsers/bip39.h"
#include "parsers/secrets.h"
#include "tests/unit/test.h"

static const char *const list_files[BIP39_LANG_COUNT] = {
	"english.txt", "french.txt", "chinese_simplified.txt", "chinese_traditional.txt",
};

static char *
src_path(const char *rel)
{
	const char *top = getenv("top_srcdir");
	return xasprintf("%s/%s", top != NULL ? top : ".", rel);
}

/* ------------------------------------------------------------------ */

static void
test_word_lists(void)
{
	test_begin("word lists");
	char *sums_path = src_path("data/bip39/SHA256SUMS");
	size_t sums_len;
	char *sums = (char *)test_read_file(sums_path, &sums_len);
	test_assert(sums != NULL);
	if (sums == NULL) {
		free(sums_path);
		return;
	}
	for (int l = 0; l < BIP39_LANG_COUNT; l++) {
		char *rel = xasprintf("data/bip39/%s", list_files[l]);
		char *path = src_path(rel);
		size_t len;
		char *data = (char *)test_read_file(path, &len);
		test_assert(data != NULL);
		if (data == NULL) {
			free(rel);
			free(path);
			continue;
		}
		/* The checksum recorded in SHA256SUMS. */
		char hex[CRYPTO_SHA256_HEX_LEN + 1], *line = xasprintf("%s  %s", "", list_files[l]);
		crypto_sha256_hex(data, len, hex);
		char *want = xasprintf("%s  %s\n", hex, list_files[l]);
		if (strstr(sums, want) == NULL)
			printf("FAIL: %s: SHA-256 %s is not the one in SHA256SUMS\n", list_files[l], hex);
		test_assert(strstr(sums, want) != NULL);
		free(want);
		free(line);

		/* Each line is the compiled-in word, found again by lookup. */
		char *p = data;
		if (len >= 3 && memcmp(p, "\357\273\277", 3) == 0)
			p += 3; /* french.txt starts with a BOM */
		unsigned int i = 0, bad = 0;
		while (*p != '\0') {
			char *nl = strchr(p, '\n');
			size_t wl = nl != NULL ? (size_t)(nl - p) : strlen(p);
			const char *w = bip39_word((enum bip39_lang)l, i);
			if (w == NULL || strlen(w) != wl || memcmp(w, p, wl) != 0 ||
			    bip39_lookup((enum bip39_lang)l, p, wl) != (int)i)
				bad++;
			i++;
			p = nl != NULL ? nl + 1 : p + wl;
		}
		test_assert_int(i, BIP39_WORDS);
		test_assert_int(bad, 0);
		test_assert(bip39_word((enum bip39_lang)l, BIP39_WORDS) == NULL);
		free(data);
		free(rel);
		free(path);
	}
	free(sums);
	free(sums_path);
}

/* Lookups a customer's spelling must find: case, accents (NFC, NFD or
   none), prefixes, one-edit typos; and words that must not be found. */
static void
test_lookup(void)
{
	static const struct {
		enum bip39_lang lang;
		const char *word;
		int index;
	} cases[] = {
		{ BIP39_ENGLISH, "abandon", 0 },
		{ BIP39_ENGLISH, "ABANDON", 0 },
		{ BIP39_ENGLISH, "Zoo", 2047 },
		{ BIP39_ENGLISH, "zoos", -1 },
		{ BIP39_ENGLISH, "the", -1 },
		{ BIP39_ENGLISH, "", -1 },
		{ BIP39_ENGLISH, "abandonment", -1 },
		{ BIP39_ENGLISH, "ab\303\241ndon", 0 }, /* an accent is ignored */
		{ BIP39_FRENCH, "acad\303\251mie", 18 },
		{ BIP39_FRENCH, "academie", 18 },
		{ BIP39_FRENCH, "ACAD\303\211MIE", 18 },
		{ BIP39_FRENCH, "acade\314\201mie", 18 }, /* NFD, as in the file */
		{ BIP39_FRENCH, "z\303\251nith", 2045 },
		{ BIP39_FRENCH, "abaisser", 0 },
		{ BIP39_FRENCH, "\305\223uvre", -1 }, /* œ has no base letter */
		{ BIP39_CHINESE_SIMPLIFIED, "\347\232\204", 0 },   /* 的 */
		{ BIP39_CHINESE_TRADITIONAL, "\347\232\204", 0 },  /* 的 */
		{ BIP39_CHINESE_SIMPLIFIED, "\346\230\257", 2 },   /* 是 */
		{ BIP39_CHINESE_SIMPLIFIED, "\347\232\204\347\232\204", -1 }, /* two characters */
		{ BIP39_CHINESE_SIMPLIFIED, "a", -1 },
	};
	test_begin("lookup");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		int got = bip39_lookup(cases[i].lang, cases[i].word, strlen(cases[i].word));
		if (got != cases[i].index)
			printf("  lookup %s: got %d want %d\n", cases[i].word, got, cases[i].index);
		test_assert_int(got, cases[i].index);
	}
	/* The table above says académie is word 18: check it against the file. */
	test_assert_str(bip39_word(BIP39_FRENCH, 18), "acade\314\201mie");
	test_assert_str(bip39_word(BIP39_CHINESE_SIMPLIFIED, 2), "\346\230\257");

	test_begin("prefix and near");
	test_assert_int(bip39_lookup_prefix(BIP39_ENGLISH, "aban", 4), 0);
	test_assert_int(bip39_lookup_prefix(BIP39_ENGLISH, "abandonned", 10), 0);
	test_assert_int(bip39_lookup_prefix(BIP39_ENGLISH, "abx", 3), -1);
	test_assert_int(bip39_lookup_prefix(BIP39_CHINESE_SIMPLIFIED, "\347\232\204", 3), -1);
	int near[8];
	size_t n = bip39_near(BIP39_ENGLISH, "abandn", 6, near, 8); /* deletion */
	test_assert(n >= 1);
	test_assert_int(near[0], 0);
	n = bip39_near(BIP39_ENGLISH, "abnadon", 7, near, 8); /* transposition */
	test_assert_int(n, 1);
	test_assert_int(near[0], 0);
	n = bip39_near(BIP39_ENGLISH, "qqqqqq", 6, near, 8);
	test_assert_int(n, 0);
	n = bip39_near(BIP39_ENGLISH, "cat", 3, near, 2); /* many neighbours: count all */
	test_assert(n > 2);
}

/* ------------------------------------------------------------------ */

struct found {
	struct bip39_match m[8];
	size_t n;
};

static int
on_found(void *ctx, const struct bip39_match *m)
{
	struct found *f = ctx;
	if (f->n < N_ELEMENTS(f->m))
		f->m[f->n] = *m;
	f->n++;
	return 0;
}

static int
hex_to_bytes(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex) / 2;
	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(hex_digit_value((unsigned char)hex[2 * i]) << 4 |
					 hex_digit_value((unsigned char)hex[2 * i + 1]));
	return (int)n;
}

static void
test_vectors(void)
{
	static const struct {
		const char *key;
		enum bip39_lang lang;
	} langs[] = {
		{ "english", BIP39_ENGLISH },
		{ "french", BIP39_FRENCH },
		{ "chinese_simplified", BIP39_CHINESE_SIMPLIFIED },
		{ "chinese_traditional", BIP39_CHINESE_TRADITIONAL },
	};
	char *path = src_path("tests/data/secrets/bip39-vectors.json");
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	test_begin("vectors");
	test_assert(root != NULL);
	free(path);
	if (root == NULL)
		return;
	struct secrets_options opt = { crypto_sha256, 0, 0, 0 };
	unsigned int total = 0;
	for (size_t l = 0; l < N_ELEMENTS(langs); l++) {
		json_t *arr = json_object_get(root, langs[l].key);
		test_assert(json_is_array(arr) && json_array_size(arr) == 24);
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			const char *entropy = json_string_value(json_array_get(v, 0));
			const char *mnemonic = json_string_value(json_array_get(v, 1));
			const char *xprv = json_string_value(json_array_get(v, 3));
			if (entropy == NULL || mnemonic == NULL || xprv == NULL) {
				test_assert(!"vector has 4 strings");
				continue;
			}
			total++;
			/* Words to indices (the Chinese vectors separate words with
			   spaces too). */
			uint16_t idx[BIP39_MAX_WORDS];
			size_t n = 0;
			const char *p = mnemonic;
			int bad = 0;
			while (*p != '\0' && n < BIP39_MAX_WORDS) {
				size_t wl = strcspn(p, " ");
				int k = bip39_lookup(langs[l].lang, p, wl);
				bad |= k < 0;
				idx[n++] = (uint16_t)(k < 0 ? 0 : k);
				p += wl;
				p += *p == ' ';
			}
			test_assert(!bad);
			unsigned char ent[32], want[32];
			size_t ent_len = 0;
			int want_len = hex_to_bytes(entropy, want, sizeof(want));
			test_assert_int(bip39_entropy(idx, n, crypto_sha256, ent, &ent_len), 0);
			test_assert_int(ent_len, want_len);
			test_assert(want_len > 0 && memcmp(ent, want, (size_t)want_len) == 0);
			/* A wrong word somewhere no longer decodes... unless the
			   checksum happens to match: then the entropy differs. */
			idx[n / 2] = (uint16_t)((idx[n / 2] + 1) % BIP39_WORDS);
			if (bip39_entropy(idx, n, crypto_sha256, ent, &ent_len) == 0)
				test_assert(memcmp(ent, want, (size_t)want_len) != 0);

			/* The scanner finds the whole mnemonic as one phrase (a
			   Chinese one made only of characters the simplified and
			   traditional lists share, at the same index, is both). */
			struct found f = { .n = 0 };
			int r = bip39_scan(mnemonic, strlen(mnemonic), 0, crypto_sha256, on_found, &f);
			test_assert(r == 1 || (r == 2 && langs[l].lang >= BIP39_CHINESE_SIMPLIFIED));
			test_assert_int(r, (int)f.n);
			int seen = 0;
			for (size_t k = 0; k < f.n && k < N_ELEMENTS(f.m); k++) {
				test_assert_int(f.m[k].offset, 0);
				test_assert_int(f.m[k].len, strlen(mnemonic));
				test_assert_int(f.m[k].n_words, n);
				test_assert_int(f.m[k].n_typos, 0);
				seen |= f.m[k].lang == langs[l].lang;
			}
			test_assert(seen);

			/* The xprv: Base58Check, a private BIP32 key, found. */
			unsigned char payload[100];
			size_t plen = 0;
			test_assert_int(base58check_decode(xprv, strlen(xprv), crypto_sha256, payload,
							   sizeof(payload), &plen), 0);
			test_assert_int(plen, 78);
			test_assert(payload[45] == 0);
			struct secrets_result res;
			const char *error = NULL;
			char *text = xasprintf("root key: %s.", xprv);
			test_assert_int(secrets_scan(text, strlen(text), &opt, &res, &error), 0);
			test_assert_int(res.n, 1);
			if (res.n == 1) {
				test_assert_int(res.spans[0].kind, SECRET_EXTENDED_KEY);
				test_assert_int(res.spans[0].offset, 10);
				test_assert_int(res.spans[0].len, strlen(xprv));
			}
			secrets_result_free(&res);
			free(text);
		}
	}
	test_assert_int(total, 96);
	json_decref(root);
}

/* ------------------------------------------------------------------ */

static void
test_base58(void)
{
	/* From Bitcoin Core src/test/data/key_io_valid.json (MIT): WIF keys
	   (version, 32 bytes, 0x01 when compressed) and an address (version 0
	   and a 20-byte hash), which is Base58Check too. */
	static const struct {
		const char *b58;
		const char *payload_hex;
	} valid[] = {
		{ "5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b9",
		  "808f8943bf956de595665c38ffff23827e17c10cdc1c27a028caae6c9810626198" },
		{ "L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEd",
		  "80ff778740f88ddcf102aeb81daee289c044c4a4571c4b6f287400f4b8e0b843f801" },
		{ "92ZdE5HoLafywnTBbzPxbvRmp75pSfzvdU3XaZGh1cToipgdHVh",
		  "ef80c32d81e91bdea04cd7a3819b32275fc3298af4c7ec87eb0099527d041ced5c" },
		{ "cV83kKisF3RQSvXbUCm9ox3kaz5JjEUBWcx8tNydfGJcyeUxuH47",
		  "efe0fcd4ce4e3d0e3de091f21415bb7cd011fac288c42020a879f28c2a4387df9b01" },
		{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", "00a31c06bd463e3923bc1aadbde48b16976c080717" },
	};
	static const char *const invalid[] = {
		"5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b8", /* last character changed */
		"L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEe",
		"1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mO",		       /* O is not Base58 */
		"",
		"1",
		"11111",
	};
	test_begin("base58");
	unsigned char out[100];
	size_t n;
	test_assert_int(base58_decode("1", 1, out, sizeof(out), &n), 0);
	test_assert_int(n, 1);
	test_assert(out[0] == 0);
	test_assert_int(base58_decode("2g", 2, out, sizeof(out), &n), 0); /* 1*58+39 = 97 */
	test_assert_int(n, 1);
	test_assert(out[0] == 'a');
	test_assert_int(base58_decode("0", 1, out, sizeof(out), &n), -1);
	test_assert_int(base58_decode("zzzz", 4, out, 2, &n), -1); /* too big for 2 bytes */
	for (size_t i = 0; i < N_ELEMENTS(valid); i++) {
		unsigned char want[64];
		int wl = hex_to_bytes(valid[i].payload_hex, want, sizeof(want));
		test_assert_int(base58check_decode(valid[i].b58, strlen(valid[i].b58), crypto_sha256,
						   out, sizeof(out), &n), 0);
		test_assert_int(n, wl);
		test_assert(memcmp(out, want, (size_t)wl) == 0);
	}
	for (size_t i = 0; i < N_ELEMENTS(invalid); i++)
		test_assert_int(base58check_decode(invalid[i], strlen(invalid[i]), crypto_sha256, out,
						   sizeof(out), &n), -1);
}

int
main(void)
{
	test_word_lists();
	test_lookup();
	test_vectors();
	test_base58();
	return test_exit();
}
