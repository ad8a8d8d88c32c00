/*
 * test-strset: the multi-string search against a naive search, on fixed
 * cases (overlaps, suffixes of other strings, bytes above 0x7f, empty
 * text) and on random sets and texts over a small alphabet.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "base/strset.h"
#include "base/util.h"
#include "tests/unit/test.h"

static int
naive_has(const char *text, size_t tlen, const char *s, size_t slen)
{
	if (slen > tlen)
		return 0;
	for (size_t i = 0; i + slen <= tlen; i++)
		if (memcmp(text + i, s, slen) == 0)
			return 1;
	return 0;
}

/* Build a set of strs, scan text, compare every string with the naive
   search; returns the number of disagreements. */
static int
check(const char *const *strs, size_t n, const char *text, size_t tlen)
{
	struct strset *set = strset_new();
	uint32_t *ids = xcalloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = strset_add(set, (const unsigned char *)strs[i], strlen(strs[i]));
	strset_compile(set);
	unsigned char *found = xcalloc(strset_count(set) / 8 + 1, 1);
	strset_scan(set, (const unsigned char *)text, tlen, found);
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		int got = (found[ids[i] / 8] >> (ids[i] % 8)) & 1;
		if (got != naive_has(text, tlen, strs[i], strlen(strs[i]))) {
			if (bad++ < 5)
				printf("FAIL \"%s\" in \"%.60s\": got %d\n", strs[i], text, got);
		}
	}
	free(found);
	free(ids);
	strset_free(&set);
	test_assert(set == NULL);
	return bad;
}

int
main(void)
{
	test_begin("fixed cases");
	static const char *const words[] = { "he", "she", "his", "hers", "usher", "pending",
					     "end", "d", "提现", "现金", "到账", "\xff\xfe", "aaa", "aa" };
	static const char *const texts[] = {
		"ushers", "she sells", "pending deposit", "提现未到账", "现金", "", "x",
		"hishershe", "\xff\xfe\xff", "aaaa", "the end", "pend ing",
	};
	for (size_t i = 0; i < N_ELEMENTS(texts); i++)
		test_assert_int(check(words, N_ELEMENTS(words), texts[i], strlen(texts[i])), 0);

	test_begin("ids: in order of first addition, repeats share one");
	struct strset *set = strset_new();
	test_assert_int(strset_add(set, (const unsigned char *)"abc", 3), 0);
	test_assert_int(strset_add(set, (const unsigned char *)"ab", 2), 1);
	test_assert_int(strset_add(set, (const unsigned char *)"abc", 3), 0);
	test_assert_int(strset_count(set), 2);
	strset_compile(set);
	unsigned char found[1] = { 0 };
	strset_scan(set, (const unsigned char *)"xxabx", 5, found);
	test_assert_int(found[0], 2);
	strset_free(&set);

	test_begin("an empty set finds nothing");
	set = strset_new();
	strset_compile(set);
	found[0] = 0;
	strset_scan(set, (const unsigned char *)"anything", 8, found);
	test_assert_int(found[0], 0);
	strset_free(&set);

	test_begin("random sets and texts");
	unsigned int seed = 7;
	char pool[64][8];
	const char *strs[64];
	char text[300];
	int bad = 0;
	for (int round = 0; round < 500; round++) {
		size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 64;
		for (size_t i = 0; i < n; i++) {
			size_t len = 1 + (((seed = seed * 1103515245u + 12345u) >> 16) & 3);
			for (size_t k = 0; k < len; k++)
				pool[i][k] = "abc\xe4"[((seed = seed * 1103515245u + 12345u) >> 16) % 4];
			pool[i][len] = '\0';
			strs[i] = pool[i];
		}
		size_t tlen = ((seed = seed * 1103515245u + 12345u) >> 16) % sizeof(text);
		for (size_t k = 0; k < tlen; k++)
			text[k] = "abc\xe4"[((seed = seed * 1103515245u + 12345u) >> 16) % 4];
		bad += check(strs, n, text, tlen);
	}
	test_assert_int(bad, 0);
	return test_exit();
}
