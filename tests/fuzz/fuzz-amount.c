/*
 * fuzz-amount: the amount parser. Byte 0 chooses the convention (mod 3);
 * the rest is the text, passed without a terminating NUL. Checks what
 * amount.h promises: a value is a plain decimal number (digits, at most
 * one '.', no leading zero but "0", no trailing zero after the point) or
 * "" exactly when ambiguous; the currency is upper-case ASCII; the number
 * span lies in the input and starts with a digit; and the value does not
 * depend on blanks around the text.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/amount.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 512

static void
check_value(const char *v)
{
	size_t n = strlen(v), dots = 0;
	FUZZ_CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK((v[i] >= '0' && v[i] <= '9') || v[i] == '.');
		dots += v[i] == '.';
	}
	FUZZ_CHECK(dots <= 1);
	FUZZ_CHECK(v[0] != '.' && v[n - 1] != '.');
	if (v[0] == '0')
		FUZZ_CHECK(n == 1 || v[1] == '.');
	if (dots == 1)
		FUZZ_CHECK(v[n - 1] != '0');
}

FUZZ_TARGET(amount)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	enum amount_convention conv = (enum amount_convention)(data[0] % 3);
	data++;
	size--;
	char *text = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	struct amount a;
	enum amount_status st = amount_parse(text, size, conv, &a);
	FUZZ_CHECK(st == AMOUNT_NONE || st == AMOUNT_OK || st == AMOUNT_AMBIGUOUS);
	if (st != AMOUNT_NONE) {
		if (st == AMOUNT_OK)
			check_value(a.value);
		else
			FUZZ_CHECK(a.value[0] == '\0');
		for (const char *c = a.currency; *c != '\0'; c++)
			FUZZ_CHECK(*c >= 'A' && *c <= 'Z');
		FUZZ_CHECK(a.number_len > 0 && a.number_start + a.number_len <= size);
		FUZZ_CHECK(text[a.number_start] >= '0' && text[a.number_start] <= '9');
		/* Blanks around change nothing. */
		char *padded = xmalloc(size + 4);
		padded[0] = ' ';
		memcpy(padded + 1, text, size);
		memcpy(padded + 1 + size, "\xc2\xa0 ", 3);
		struct amount b;
		FUZZ_CHECK(amount_parse(padded, size + 4, conv, &b) == st);
		FUZZ_CHECK(strcmp(a.value, b.value) == 0 && strcmp(a.currency, b.currency) == 0);
		FUZZ_CHECK(b.number_start == a.number_start + 1 && b.number_len == a.number_len);
		free(padded);
	}
	free(text);
	return 0;
}
