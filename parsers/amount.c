/*
 * amount: see amount.h. Written by hand: ICU's number parser (the one
 * maintained library that reads grouped numbers by locale) needs the
 * customer's locale, which we do not know, reads "3 200" only with the
 * locale's exact space character, and returns a double; here each
 * grouping is checked on its own terms and an ambiguous one is said to be
 * ambiguous.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/amount.h"

#define MAX_RUNS 12

/* Characters that may separate digit groups, and whether each can also be
   a decimal mark. */
static const struct sep {
	const char *utf8;
	char id; /* one byte naming it */
	int decimal;
} seps[] = {
	{ ",", ',', 1 },	    { ".", '.', 1 },	       { " ", ' ', 0 },
	{ "\xc2\xa0", 'n', 0 },	    /* U+00A0 no-break space */
	{ "\xe2\x80\xaf", 'N', 0 }, /* U+202F narrow no-break space */
	{ "\xe2\x80\x89", 't', 0 }, /* U+2009 thin space */
	{ "'", '\'', 0 },	    { "\xe2\x80\x99", 'q', 0 }, /* U+2019 ’ */
	{ "\xe3\x80\x81", 'c', 0 },			       /* U+3001 、 */
};

/* Blanks around the number and currency: ASCII space and tab, no-break,
   narrow no-break and thin spaces. */
static size_t
blank_len(const char *p, const char *end)
{
	if (p < end && (*p == ' ' || *p == '\t'))
		return 1;
	static const char *const wide[] = { "\xc2\xa0", "\xe2\x80\xaf", "\xe2\x80\x89" };
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		size_t n = strlen(wide[i]);
		if ((size_t)(end - p) >= n && memcmp(p, wide[i], n) == 0)
			return n;
	}
	return 0;
}

static const char *
skip_blanks(const char *p, const char *end)
{
	size_t n;
	while ((n = blank_len(p, end)) > 0)
		p += n;
	return p;
}

/* Currency words and symbols, longest first where one is a prefix of
   another; codes and tickers are matched as ASCII words below. */
static const struct {
	const char *text, *code;
} currency_words[] = {
	{ "US$", "USD" },   { "HK$", "HKD" },	  { "\xe2\x82\xac", "EUR" }, /* € */
	{ "$", "USD" },	    { "\xc2\xa3", "GBP" },			     /* £ */
	{ "\xc2\xa5", "CNY" },						     /* ¥ */
	{ "\xef\xbf\xa5", "CNY" },					     /* ￥ */
	{ "\xe4\xba\xba\xe6\xb0\x91\xe5\xb8\x81", "CNY" },		     /* 人民币 */
	{ "\xe7\xbe\x8e\xe5\x85\x83", "USD" },				     /* 美元 */
	{ "\xe6\xac\xa7\xe5\x85\x83", "EUR" },				     /* 欧元 */
	{ "\xe6\xad\x90\xe5\x85\x83", "EUR" },				     /* 歐元 */
	{ "\xe8\x8b\xb1\xe9\x95\x91", "GBP" },				     /* 英镑 */
	{ "\xe6\xb8\xaf\xe5\xb8\x81", "HKD" },				     /* 港币 */
	{ "\xe6\xb8\xaf\xe5\x85\x83", "HKD" },				     /* 港元 */
	{ "\xe6\x97\xa5\xe5\x85\x83", "JPY" },				     /* 日元 */
	{ "\xe5\x85\x83", "CNY" },					     /* 元 */
	{ "\xe5\x9d\x97", "CNY" },					     /* 块 */
};

/* ISO codes and coin tickers read as ASCII words (any case). */
static const char *const tickers[] = {
	"BTC", "ETH", "USDT", "USDC", "BUSD", "DAI", "BNB", "XRP", "SOL", "TRX", "DOGE", "LTC",
	"ADA", "DOT", "MATIC", "POL", "AVAX", "SHIB", "TON", "LINK", "XLM", "BCH", "ETC", "FIL",
	"ATOM", "UNI", "ARB", "OP", "APT", "SUI", "PEPE", "USD", "EUR", "GBP", "CNY", "RMB",
	"HKD", "JPY", "CHF", "TWD", "EURO", "EUROS",
};

static int
ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A currency at p: its length and code, or 0. */
static size_t
currency_at(const char *p, const char *end, const char **code_r)
{
	for (size_t i = 0; i < sizeof(currency_words) / sizeof(currency_words[0]); i++) {
		size_t n = strlen(currency_words[i].text);
		if ((size_t)(end - p) >= n && memcmp(p, currency_words[i].text, n) == 0) {
			*code_r = currency_words[i].code;
			return n;
		}
	}
	size_t n = 0;
	while (p + n < end && ascii_letter(p[n]))
		n++;
	if (n < 2 || n > 5)
		return 0;
	for (size_t i = 0; i < sizeof(tickers) / sizeof(tickers[0]); i++) {
		if (strlen(tickers[i]) != n)
			continue;
		size_t k;
		for (k = 0; k < n; k++)
			if ((p[k] & ~0x20) != tickers[i][k])
				break;
		if (k == n) {
			*code_r = strcmp(tickers[i], "RMB") == 0   ? "CNY"
				  : strncmp(tickers[i], "EURO", 4) == 0 ? "EUR"
								       : tickers[i];
			return n;
		}
	}
	return 0;
}

/* A separator at p: its id, and its length in *len_r; 0 when none. */
static char
sep_at(const char *p, const char *end, size_t *len_r)
{
	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		size_t n = strlen(seps[i].utf8);
		if ((size_t)(end - p) >= n && memcmp(p, seps[i].utf8, n) == 0) {
			*len_r = n;
			return seps[i].id;
		}
	}
	return 0;
}

static int
is_decimal_mark(char id)
{
	return id == ',' || id == '.';
}

/* Digit runs separated by separators: "3 200,5" is runs 3|200|5, seps ' ' ','. */
struct runs {
	const char *start[MAX_RUNS];
	size_t len[MAX_RUNS];
	char sep[MAX_RUNS]; /* sep[i] precedes run i (i >= 1) */
	size_t n;
};

/* Runs i..j-1 are groups of a grouped integer: the first 1 to 3 digits
   and not starting with 0, the others exactly 3. */
static int
grouped(const struct runs *r, size_t j)
{
	if (r->len[0] < 1 || r->len[0] > 3 || r->start[0][0] == '0')
		return 0;
	for (size_t i = 1; i < j; i++)
		if (r->len[i] != 3)
			return 0;
	return 1;
}

/* Append the digits of runs [0, j) to out (the integer part). */
static size_t
put_digits(const struct runs *r, size_t from, size_t to, char *out, size_t o)
{
	for (size_t i = from; i < to; i++) {
		memcpy(out + o, r->start[i], r->len[i]);
		o += r->len[i];
	}
	return o;
}

/* The canonical value of integer digits intd[0..ni) and fraction
   fracd[0..nf), times 10^shift. */
static void
canonical(const char *intd, size_t ni, const char *fracd, size_t nf, unsigned int shift,
	  char *out)
{
	char digits[2 * AMOUNT_MAX_DIGITS + 16];
	memcpy(digits, intd, ni);
	memcpy(digits + ni, fracd, nf);
	size_t n = ni + nf, point = ni; /* the point is after digits[point - 1] */
	for (unsigned int i = 0; i < shift; i++) {
		if (point == n)
			digits[n++] = '0';
		point++;
	}
	size_t a = 0;
	while (a + 1 < point && digits[a] == '0')
		a++;
	size_t b = n;
	while (b > point && digits[b - 1] == '0')
		b--;
	size_t o = 0;
	for (size_t i = a; i < point; i++)
		out[o++] = digits[i];
	if (o == 0)
		out[o++] = '0';
	if (b > point) {
		out[o++] = '.';
		for (size_t i = point; i < b; i++)
			out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* Interpret the runs; AMOUNT_OK with the digits split into integer and
   fraction, AMOUNT_AMBIGUOUS, or AMOUNT_NONE. */
static enum amount_status
interpret(const struct runs *r, enum amount_convention conv, char *intd, size_t *ni_r,
	  char *fracd, size_t *nf_r)
{
	size_t k = r->n - 1; /* separators */
	size_t frac_run = 0; /* index of the fraction's run, 0: none */
	if (k > 0) {
		int same = 1;
		for (size_t i = 2; i <= k; i++)
			same &= r->sep[i] == r->sep[1];
		char last = r->sep[k];
		if (same && (!is_decimal_mark(last) || k >= 2)) {
			if (!grouped(r, r->n))
				return AMOUNT_NONE;
		} else if (same) {
			/* One ',' or '.': a decimal mark unless it reads as one
			   group of three after one to three digits. */
			if (r->len[1] != 3 || !grouped(r, 2)) {
				frac_run = 1;
			} else if (conv == AMOUNT_ANY) {
				return AMOUNT_AMBIGUOUS;
			} else if ((conv == AMOUNT_DECIMAL_POINT) == (last == '.')) {
				frac_run = 1;
			}
		} else {
			/* Groups with one separator, then a decimal mark. */
			if (!is_decimal_mark(last))
				return AMOUNT_NONE;
			for (size_t i = 2; i < k; i++)
				if (r->sep[i] != r->sep[1])
					return AMOUNT_NONE;
			if (r->sep[1] == last || !grouped(r, k))
				return AMOUNT_NONE;
			frac_run = k;
		}
	}
	size_t end_int = frac_run > 0 ? frac_run : r->n;
	*ni_r = put_digits(r, 0, end_int, intd, 0);
	*nf_r = frac_run > 0 ? put_digits(r, frac_run, r->n, fracd, 0) : 0;
	return AMOUNT_OK;
}

enum amount_status
amount_parse(const char *s, size_t len, enum amount_convention conv, struct amount *out)
{
	const char *p = s, *end = s + len;
	const char *pre = NULL, *post = NULL;
	memset(out, 0, sizeof(*out));

	p = skip_blanks(p, end);
	size_t n = currency_at(p, end, &pre);
	if (n > 0)
		p = skip_blanks(p + n, end);

	/* The number: digit runs and separators. */
	struct runs r = { .n = 0 };
	const char *num = p;
	size_t digits = 0;
	for (;;) {
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return AMOUNT_NONE;
		digits += (size_t)(p - d);
		if (digits > AMOUNT_MAX_DIGITS)
			return AMOUNT_NONE;
		r.start[r.n] = d;
		r.len[r.n++] = (size_t)(p - d);
		size_t sl;
		char id = sep_at(p, end, &sl);
		if (id == 0 || p + sl >= end || p[sl] < '0' || p[sl] > '9')
			break;
		if (r.n == MAX_RUNS)
			return AMOUNT_NONE; /* more groups than any real amount has */
		r.sep[r.n] = id;
		p += sl;
	}
	/* A Chinese multiplier, right after the number. */
	unsigned int shift = 0;
	static const struct {
		const char *utf8;
		unsigned int shift;
	} mult[] = {
		{ "\xe5\x8d\x83", 3 }, /* 千 */
		{ "\xe4\xb8\x87", 4 }, /* 万 */
		{ "\xe8\x90\xac", 4 }, /* 萬 */
		{ "\xe4\xba\xbf", 8 }, /* 亿 */
		{ "\xe5\x84\x84", 8 }, /* 億 */
	};
	for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++) {
		if ((size_t)(end - p) >= 3 && memcmp(p, mult[i].utf8, 3) == 0) {
			shift = mult[i].shift;
			p += 3;
			break;
		}
	}
	const char *num_end = p;

	p = skip_blanks(p, end);
	n = currency_at(p, end, &post);
	if (n > 0) {
		/* "5 BTCX" is no amount: a ticker ends at a non-letter. */
		if (ascii_letter(p[0]) && p + n < end && ascii_letter(p[n]))
			return AMOUNT_NONE;
		p = skip_blanks(p + n, end);
	}
	if (p != end)
		return AMOUNT_NONE;
	if (pre != NULL && post != NULL && strcmp(pre, post) != 0)
		return AMOUNT_NONE;
	/* A multiplier goes with a plain number ("1.5万", not "1,500万"). */
	if (shift > 0 && r.n > 2)
		return AMOUNT_NONE;

	char intd[AMOUNT_MAX_DIGITS + 1], fracd[AMOUNT_MAX_DIGITS + 1];
	size_t ni = 0, nf = 0;
	enum amount_status st = interpret(&r, conv, intd, &ni, fracd, &nf);
	if (st == AMOUNT_NONE)
		return AMOUNT_NONE;
	if (shift > 0 && r.n == 2 && st == AMOUNT_OK && nf == 0)
		return AMOUNT_NONE; /* "1,500万": a group before a multiplier */
	if (shift > 0 && st == AMOUNT_AMBIGUOUS)
		return AMOUNT_NONE;
	const char *code = pre != NULL ? pre : post;
	if (code != NULL)
		memcpy(out->currency, code, strlen(code) + 1);
	out->number_start = (size_t)(num - s);
	out->number_len = (size_t)(num_end - num);
	if (st == AMOUNT_OK)
		canonical(intd, ni, fracd, nf, shift, out->value);
	return st;
}
