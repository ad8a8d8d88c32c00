/*
 * amount: an amount of money as customers write it, in their conventions:
 * digit groups of three separated by one kind of separator (',', '.', a
 * space, a no-break space U+00A0, a narrow no-break space U+202F, a thin
 * space U+2009, an apostrophe ' or ’, the ideographic comma '、'), a
 * decimal part after '.' or ',' (whichever is not the group separator),
 * a Chinese multiplier after the number (千 thousand, 万 ten thousand,
 * 亿 hundred million), and an optional currency before or after it:
 *
 *   "3 200 EUR" (no-break space)   3200 EUR
 *   "1.234,56 €"                   1234.56 EUR
 *   "1,250.5 USDT"                 1250.5 USDT
 *   "$1,500"                       ambiguous under AMOUNT_ANY (1500 or 1.5)
 *   "3万元"                         30000 CNY
 *   "12,34,567" "1.234.5" "1 2345" not amounts
 *
 * Pure: no I/O, no allocation. It returns the value and currency, or says
 * that the text is no amount (or an ambiguous one), never a wrong number:
 * a misread grouping such as "3 200" read as "200" is exactly what it is
 * for.
 */
#ifndef DG_AMOUNT_H
#define DG_AMOUNT_H

#include <stddef.h>

/* Which decimal mark the customer uses, when it is known: it settles
   "1,500" and "1.500" (one separator, then exactly three digits). */
enum amount_convention {
	AMOUNT_ANY,	      /* unknown: such a number is ambiguous */
	AMOUNT_DECIMAL_POINT, /* 1,234.56 (English, Chinese) */
	AMOUNT_DECIMAL_COMMA, /* 1.234,56 or 1 234,56 (French, German) */
};

#define AMOUNT_MAX_DIGITS 30

struct amount {
	/* The value as a plain decimal number: no group separators, '.' as
	   the decimal mark, no leading or trailing zeros ("3200", "0.5",
	   "1234.56"); "" when ambiguous. Room for a multiplier's zeros. */
	char value[AMOUNT_MAX_DIGITS + 8 + 3];
	/* An ISO 4217 code or a coin ticker, upper case ("EUR", "CNY",
	   "USDT"); "" when the text names none. */
	char currency[8];
	/* The number as written (digits, separators, multiplier) in the
	   input: input[number_start .. number_start + number_len). */
	size_t number_start, number_len;
};

enum amount_status {
	AMOUNT_NONE = -1,     /* not an amount (or more than AMOUNT_MAX_DIGITS digits) */
	AMOUNT_OK = 0,
	AMOUNT_AMBIGUOUS = 1, /* well formed, but "1,500" without a convention */
};

/* Parse s[0..len) (UTF-8): a number with an optional currency before or
   after it, spaces around allowed, nothing else. Fills *out but for
   AMOUNT_NONE. */
enum amount_status amount_parse(const char *s, size_t len, enum amount_convention conv,
				struct amount *out);

#endif
