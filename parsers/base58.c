/*
 * base58: see base58.h. Written by hand: Debian packages no C library for
 * Base58 (libbase58 is not in Debian 12); the decoder is the usual
 * quadratic base conversion, bounded by BASE58_MAX_INPUT.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/base58.h"

/* The value of each character of the alphabet, -1 for the others. */
static const signed char b58_value[128] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  -1, -1, -1, -1, -1, -1,
	-1, 9,  10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1,
	-1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46,
	47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

int
base58_is_char(unsigned char c)
{
	return c < 128 && b58_value[c] >= 0;
}

int
base58_decode(const char *s, size_t len, unsigned char *out, size_t out_max, size_t *out_len_r)
{
	/* 128 characters of Base58 fit in 94 bytes. */
	unsigned char num[BASE58_MAX_INPUT];
	size_t zeros = 0, nlen = 0;

	if (len == 0 || len > BASE58_MAX_INPUT)
		return -1;
	while (zeros < len && s[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!base58_is_char(c))
			return -1;
		/* num = num * 58 + value, num little-endian in nlen bytes. */
		unsigned int carry = (unsigned int)b58_value[c];
		for (size_t j = 0; j < nlen; j++) {
			carry += (unsigned int)num[j] * 58;
			num[j] = (unsigned char)(carry & 0xff);
			carry >>= 8;
		}
		while (carry > 0) {
			num[nlen++] = (unsigned char)(carry & 0xff);
			carry >>= 8;
		}
	}
	if (zeros + nlen > out_max)
		return -1;
	memset(out, 0, zeros);
	for (size_t j = 0; j < nlen; j++)
		out[zeros + j] = num[nlen - 1 - j];
	*out_len_r = zeros + nlen;
	return 0;
}

int
base58check_decode(const char *s, size_t len, base58_sha256_fn *sha256, unsigned char *payload,
		   size_t payload_max, size_t *payload_len_r)
{
	unsigned char raw[BASE58_MAX_INPUT], d1[32], d2[32];
	size_t n;

	if (base58_decode(s, len, raw, sizeof(raw), &n) < 0 || n < 5 || n - 4 > payload_max)
		return -1;
	sha256(raw, n - 4, d1);
	sha256(d1, sizeof(d1), d2);
	if (memcmp(d2, raw + n - 4, 4) != 0)
		return -1;
	memcpy(payload, raw, n - 4);
	*payload_len_r = n - 4;
	return 0;
}
