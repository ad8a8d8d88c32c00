/* base32: see base32.h. */
#include "build-config.h"

#include "base/base32.h"

void
base32_encode(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t o = 0;
	unsigned int acc = 0, bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

int
base32_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
			return 0;
	}
	return 1;
}
