/*
 * test-amount: amounts in the conventions of the desk's customers (English,
 * Chinese, French, German and Swiss grouping, no-break and narrow spaces,
 * Chinese multipliers, currencies before and after), the ambiguous ones
 * with and without a convention, and text that is no amount. The value is
 * never a wrong number: "3 200 EUR" is 3200, never 200.
 */
#include "build-config.h"

#include "parsers/amount.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define NBSP "\xc2\xa0"
#define NNBSP "\xe2\x80\xaf"

static void
test_table(void)
{
	static const struct {
		const char *in;
		enum amount_convention conv;
		enum amount_status want;
		const char *value, *currency, *number;
	} cases[] = {
		/* the audit's case: French, no-break space */
		{ "3" NBSP "200 EUR", AMOUNT_ANY, AMOUNT_OK, "3200", "EUR", "3" NBSP "200" },
		{ "3" NNBSP "200,50" NBSP "\xe2\x82\xac", AMOUNT_ANY, AMOUNT_OK, "3200.5", "EUR", NULL },
		{ "3 200 EUR", AMOUNT_ANY, AMOUNT_OK, "3200", "EUR", "3 200" },
		{ "1 234 567,89 EUR", AMOUNT_ANY, AMOUNT_OK, "1234567.89", "EUR", NULL },
		/* English and Chinese */
		{ "1,250.5 USDT", AMOUNT_ANY, AMOUNT_OK, "1250.5", "USDT", "1,250.5" },
		{ "0.5 BTC", AMOUNT_ANY, AMOUNT_OK, "0.5", "BTC", "0.5" },
		{ "$1,500,000", AMOUNT_ANY, AMOUNT_OK, "1500000", "USD", "1,500,000" },
		{ "US$ 20", AMOUNT_ANY, AMOUNT_OK, "20", "USD", NULL },
		{ "300 \xe5\x85\x83", AMOUNT_ANY, AMOUNT_OK, "300", "CNY", "300" },
		{ "\xef\xbf\xa5" "1,000.00", AMOUNT_ANY, AMOUNT_OK, "1000", "CNY", NULL },
		{ "3\xe4\xb8\x87\xe5\x85\x83", AMOUNT_ANY, AMOUNT_OK, "30000", "CNY", "3\xe4\xb8\x87" },
		{ "1.5\xe4\xb8\x87", AMOUNT_ANY, AMOUNT_OK, "15000", "", NULL },
		{ "2\xe5\x8d\x83 USDT", AMOUNT_ANY, AMOUNT_OK, "2000", "USDT", NULL },
		{ "1\xe4\xba\xbf", AMOUNT_ANY, AMOUNT_OK, "100000000", "", NULL },
		{ "1\xe3\x80\x81" "200 \xe7\xbe\x8e\xe5\x85\x83", AMOUNT_ANY, AMOUNT_OK, "1200", "USD", NULL },
		{ "200 rmb", AMOUNT_ANY, AMOUNT_OK, "200", "CNY", NULL },
		/* German and Swiss */
		{ "1.234,56 \xe2\x82\xac", AMOUNT_ANY, AMOUNT_OK, "1234.56", "EUR", "1.234,56" },
		{ "1.500.000 EUR", AMOUNT_ANY, AMOUNT_OK, "1500000", "EUR", NULL },
		{ "0,5 BTC", AMOUNT_ANY, AMOUNT_OK, "0.5", "BTC", NULL },
		{ "1,25 ETH", AMOUNT_ANY, AMOUNT_OK, "1.25", "ETH", NULL },
		{ "CHF 1'234.50", AMOUNT_ANY, AMOUNT_OK, "1234.5", "CHF", NULL },
		{ "1\xe2\x80\x99" "234", AMOUNT_ANY, AMOUNT_OK, "1234", "", NULL },
		{ "12 Euro", AMOUNT_ANY, AMOUNT_OK, "12", "EUR", NULL },
		/* one ',' or '.' then three digits: the convention decides */
		{ "1,500 USDT", AMOUNT_ANY, AMOUNT_AMBIGUOUS, "", "USDT", "1,500" },
		{ "1.500", AMOUNT_ANY, AMOUNT_AMBIGUOUS, "", "", NULL },
		{ "1,500", AMOUNT_DECIMAL_POINT, AMOUNT_OK, "1500", "", NULL },
		{ "1,500", AMOUNT_DECIMAL_COMMA, AMOUNT_OK, "1.5", "", NULL },
		{ "1.500", AMOUNT_DECIMAL_POINT, AMOUNT_OK, "1.5", "", NULL },
		{ "1.500", AMOUNT_DECIMAL_COMMA, AMOUNT_OK, "1500", "", NULL },
		{ "0,500", AMOUNT_ANY, AMOUNT_OK, "0.5", "", NULL },	 /* no group starts with 0 */
		{ "1234,567", AMOUNT_ANY, AMOUNT_OK, "1234.567", "", NULL }, /* nor has 4 digits */
		{ "007", AMOUNT_ANY, AMOUNT_OK, "7", "", NULL },
		{ "0", AMOUNT_ANY, AMOUNT_OK, "0", "", NULL },
		{ " 42 ", AMOUNT_ANY, AMOUNT_OK, "42", "", NULL },
		/* not amounts: never a part of one */
		{ "2024 200 EUR", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "12,34,567", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1.234.5", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1 2345", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1.234 567", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1,234,56", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1.234.567,8.9", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1 234.567,8", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1,500\xe4\xb8\x87", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "$5 EUR", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "5 BTCX", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "5 apples", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "EUR", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1,", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ ",5", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "-5", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		{ "1234567890123456789012345678901", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		/* twelve groups and more (found by fuzzing) */
		{ "1.1.1.1.1.1.1.1.1.1.1.1.1", AMOUNT_ANY, AMOUNT_NONE, NULL, NULL, NULL },
		/* 30 digits and a multiplier: 38 digits of value (found by fuzzing) */
		{ "444444440001247594175626920482\xe4\xba\xbf\xc2\xa3", AMOUNT_ANY, AMOUNT_OK,
		  "44444444000124759417562692048200000000", "GBP", NULL },
	};
	test_begin("amount: the table");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct amount a;
		enum amount_status st = amount_parse(cases[i].in, strlen(cases[i].in), cases[i].conv, &a);
		int ok = st == cases[i].want;
		if (ok && st != AMOUNT_NONE) {
			ok = strcmp(a.value, cases[i].value) == 0 &&
			     strcmp(a.currency, cases[i].currency) == 0 &&
			     a.number_start + a.number_len <= strlen(cases[i].in);
			if (cases[i].number != NULL)
				ok = ok && a.number_len == strlen(cases[i].number) &&
				     memcmp(cases[i].in + a.number_start, cases[i].number, a.number_len) == 0;
		}
		if (!ok) {
			test_failures++;
			printf("FAIL amount case %zu \"%s\": got %d \"%s\" \"%s\" \"%.*s\"\n", i,
			       cases[i].in, (int)st, st != AMOUNT_NONE ? a.value : "",
			       st != AMOUNT_NONE ? a.currency : "",
			       st != AMOUNT_NONE ? (int)a.number_len : 0,
			       st != AMOUNT_NONE ? cases[i].in + a.number_start : "");
		}
		test_checks++;
	}
}

static void
test_unterminated(void)
{
	/* The input is a length, not a C string: nothing past it is read. */
	test_begin("amount: only len bytes are read");
	struct amount a;
	test_assert_int(amount_parse("3 200 EUR and more", 9, AMOUNT_ANY, &a), AMOUNT_OK);
	test_assert_str(a.value, "3200");
	test_assert_int(amount_parse("12", 1, AMOUNT_ANY, &a), AMOUNT_OK);
	test_assert_str(a.value, "1");
}

int
main(void)
{
	test_table();
	test_unterminated();
	return test_exit();
}
