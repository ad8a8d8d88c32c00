/*
 * test-secrets: the secret detectors and their redaction (parsers/secrets.c)
 * on a table of texts: each row is a text and the text it must become.
 * Rows that must be found are written the way customers write (numbered,
 * one word a line, commas, capitals, NFC and NFD French, Chinese with and
 * without spaces, HTML, typos); rows that must not be found are the near
 * misses (a failing checksum, 11 words, an address, an xpub, a
 * transaction hash, a phone number, an order number, "my password is
 * wrong"). The false-positive counts over real text are in
 * test-secrets-corpus.
 *
 * Sources of the values: BIP39 phrases from the official vectors
 * (trezor/python-mnemonic vectors.json); WIF keys and the address from
 * Bitcoin Core's key_io_valid.json; the xprv of BIP32 test vector 1, the
 * xpub of the same, the zprv of BIP84; tprv and yprv are the BIP32 vector
 * 1 key re-encoded with those versions by Python's hashlib; card numbers
 * are the networks' published test numbers. Checksums that must fail were
 * checked with python3-mnemonic's Mnemonic.check().
 */
#include "build-config.h"

#include "base/util.h"
#include "gateway/crypto.h"
#include "parsers/secrets.h"
#include "tests/unit/test.h"

#define ALL 0u
#define PHRASE SECRET_KIND_BIT(SECRET_RECOVERY_PHRASE)
#define XKEY SECRET_KIND_BIT(SECRET_EXTENDED_KEY)
#define KEY SECRET_KIND_BIT(SECRET_PRIVATE_KEY)
#define API SECRET_KIND_BIT(SECRET_API_SECRET)
#define PW SECRET_KIND_BIT(SECRET_PASSWORD)
#define OTP SECRET_KIND_BIT(SECRET_OTP)
#define CARD SECRET_KIND_BIT(SECRET_CARD)

#define P12 "legal winner thank year wave sausage worth useful legal winner thank yellow"
#define R_PHRASE "[redacted: recovery phrase]"
#define HEX64 "e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262"

static const struct row {
	const char *name;
	unsigned int flags;
	const char *text;
	const char *want;	/* the redacted text */
	unsigned int kinds;	/* the kinds found */
} rows[] = {
	/* ---- recovery phrases ---- */
	{ "12 words", 0, "my words: " P12 " thanks", "my words: " R_PHRASE " thanks", PHRASE },
	{ "numbered", 0,
	  "Here they are:\n1. legal 2. winner 3. thank 4. year 5. wave 6. sausage\n7. worth "
	  "8. useful 9. legal 10. winner 11. thank 12. yellow\nPlease help",
	  "Here they are:\n1. " R_PHRASE "\nPlease help", PHRASE },
	/* "Seed" and "phrase" are list words, and the window "Seed ... winner"
	   happens to pass the checksum too (1 in 16): which window is the
	   phrase cannot be known, so the union of both is redacted. */
	{ "numbered, list words before", 0,
	  "Seed phrase:\n1. legal 2. winner 3. thank 4. year 5. wave 6. sausage\n7. worth 8. useful "
	  "9. legal 10. winner 11. thank 12. yellow\nPlease help",
	  R_PHRASE "\nPlease help", PHRASE },
	{ "one a line", 0,
	  "legal\nwinner\nthank\nyear\nwave\nsausage\nworth\nuseful\nlegal\nwinner\nthank\nyellow\n",
	  R_PHRASE "\n", PHRASE },
	{ "commas, capitals", 0,
	  "Legal, Winner, Thank, Year, Wave, Sausage, Worth, Useful, Legal, Winner, Thank, YELLOW.",
	  R_PHRASE ".", PHRASE },
	{ "words around it", 0, "my private key seed phrase is " P12 " please help",
	  "my private key seed phrase is " R_PHRASE " please help", PHRASE },
	{ "18 words", 0,
	  "gravity machine north sort system female filter attitude volume fold club stay feature "
	  "office ecology stable narrow fog",
	  R_PHRASE, PHRASE },
	{ "24 words", 0,
	  "hamster diagram private dutch cause delay private meat slide toddler razor book happy "
	  "fancy gospel tennis maple dilemma loan word shrug inflict delay length",
	  R_PHRASE, PHRASE },
	{ "two phrases in one run", 0, P12 "\n" P12, R_PHRASE "\n" R_PHRASE, PHRASE },
	{ "French NFC", 0,
	  "mes mots : monument d\303\251penser f\303\251roce entasser com\303\251die ferveur "
	  "optique sonnette codifier discuter dioxyde nerveux",
	  "mes mots : " R_PHRASE, PHRASE },
	{ "French NFD, no accents, capitals", 0,
	  "MONUMENT de\314\201penser FEROCE entasser comedie ferveur optique sonnette codifier "
	  "discuter dioxyde nerveux",
	  R_PHRASE, PHRASE },
	{ "Chinese with spaces", 0,
	  "\345\212\251\350\256\260\350\257\215\357\274\232\350\222\231 \345\217\260 \350\204\261 "
	  "\347\272\252 \346\236\204 \347\241\253 \346\265\206 \351\234\211 \346\204\237 \344\273\205 "
	  "\351\261\274 \346\261\244",
	  "\345\212\251\350\256\260\350\257\215\357\274\232" R_PHRASE, PHRASE },
	{ "Chinese, no separators, after 助记词", 0,
	  "\345\212\251\350\256\260\350\257\215\346\230\257\350\222\231\345\217\260\350\204\261"
	  "\347\272\252\346\236\204\347\241\253\346\265\206\351\234\211\346\204\237\344\273\205"
	  "\351\261\274\346\261\244\343\200\202",
	  "\345\212\251\350\256\260\350\257\215\346\230\257" R_PHRASE "\343\200\202", PHRASE },
	{ "Chinese, no separators, 18 words", 0,
	  "\347\210\266\346\263\245\347\202\274\350\203\201\351\236\213\346\216\247\350\275\275"
	  "\346\224\277\346\203\250\351\200\220\346\225\264\347\242\227\347\216\257\346\203\257"
	  "\346\241\210\346\243\222\350\256\242\347\247\273",
	  R_PHRASE, PHRASE },
	{ "traditional Chinese, numbered", 0,
	  "1.\347\210\266 2.\346\263\245 3.\347\205\211 4.\350\204\205 5.\351\236\213 "
	  "6.\346\216\247 7.\350\274\211 8.\346\224\277 9.\346\205\230 10.\351\200\220 "
	  "11.\346\225\264 12.\347\242\227 13.\347\222\260 14.\346\205\243 15.\346\241\210 "
	  "16.\346\243\222 17.\350\250\202 18.\347\247\273",
	  "1." R_PHRASE, PHRASE },
	{ "HTML list", SECRETS_HTML,
	  "<ol><li>legal</li><li>winner</li><li>thank</li><li>year</li><li>wave</li>"
	  "<li>sausage</li><li>worth</li><li>useful</li><li>legal</li><li>winner</li>"
	  "<li>thank</li><li>yellow</li></ol>",
	  "<ol><li>" R_PHRASE "</li></ol>", PHRASE },
	{ "typo inside, checksum confirms", 0,
	  "legal winner thank year wave sausage worth useful legal winnr thank yellow",
	  R_PHRASE, PHRASE },
	{ "typo after four letters at the end", 0,
	  "legal winner thank year wave sausage worth useful legal winner thank yellowish",
	  R_PHRASE, PHRASE },
	{ "checksum fails", 0,
	  "legal winner thank year wave sausage worth useful legal winner thank year",
	  "legal winner thank year wave sausage worth useful legal winner thank year", 0 },
	{ "11 words", 0, "legal winner thank year wave sausage worth useful legal winner thank",
	  "legal winner thank year wave sausage worth useful legal winner thank", 0 },
	{ "a word of another list inside", 0,
	  "legal winner thank year wave sausage worth useful legal gagner thank yellow",
	  "legal winner thank year wave sausage worth useful legal gagner thank yellow", 0 },
	{ "too far apart", 0,
	  "legal winner thank year wave sausage                          worth useful legal "
	  "winner thank yellow",
	  "legal winner thank year wave sausage                          worth useful legal "
	  "winner thank yellow",
	  0 },
	{ "Chinese, no separators, 12 words, no cue", 0,
	  "\350\222\231\345\217\260\350\204\261\347\272\252\346\236\204\347\241\253\346\265\206"
	  "\351\234\211\346\204\237\344\273\205\351\261\274\346\261\244",
	  "\350\222\231\345\217\260\350\204\261\347\272\252\346\236\204\347\241\253\346\265\206"
	  "\351\234\211\346\204\237\344\273\205\351\261\274\346\261\244",
	  0 },
	{ "prose", 0,
	  "I tried to withdraw my funds but the order failed twice, and support asked me to "
	  "wait. Can you check the account balance and tell me what happened? Thank you.",
	  "I tried to withdraw my funds but the order failed twice, and support asked me to "
	  "wait. Can you check the account balance and tell me what happened? Thank you.",
	  0 },

	/* ---- keys ---- */
	{ "WIF", 0, "key 5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b9 ok",
	  "key [redacted: private key] ok", KEY },
	{ "compressed WIF", 0, "(L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEd)",
	  "([redacted: private key])", KEY },
	{ "testnet WIF", 0, "cV83kKisF3RQSvXbUCm9ox3kaz5JjEUBWcx8tNydfGJcyeUxuH47",
	  "[redacted: private key]", KEY },
	{ "WIF, bad checksum", 0, "5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b8",
	  "5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b8", 0 },
	{ "address", 0, "send to 1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo please",
	  "send to 1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo please", 0 },
	{ "xprv", 0,
	  "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
	  "[redacted: extended private key]", XKEY },
	{ "xprv, bad checksum", 0,
	  "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL",
	  "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL",
	  0 },
	{ "zprv", 0,
	  "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5",
	  "[redacted: extended private key]", XKEY },
	{ "tprv", 0,
	  "tprv8ZgxMBicQKsPeDgjzdC36fs6bMjGApWDNLR9erAXMs5skhMv36j9MV5ecvfavji5khqjWaWSFhN3YcCUUdiKH6isR4Pwy3U5y5egddBr16m",
	  "[redacted: extended private key]", XKEY },
	{ "yprv", 0,
	  "yprvABrGsX5C9jantheLAR8A97LcTCTVsvThwu2FZpdxFtyH2CS4JPYxToNLixTWvGygnuRmFxVEZ18ny3GJ57nPGH8skkt4tbZXKhxuaUFh6jt",
	  "[redacted: extended private key]", XKEY },
	{ "xpub is public", 0,
	  "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
	  "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
	  0 },
	{ "hex after private key", 0, "My private key: 0x" HEX64 ".",
	  "My private key: [redacted: private key].", KEY },
	{ "hex after 私钥", 0, "\347\247\201\351\222\245\357\274\232" HEX64,
	  "\347\247\201\351\222\245\357\274\232[redacted: private key]", KEY },
	{ "hex after clé privée", 0, "ma cl\303\251 priv\303\251e est " HEX64,
	  "ma cl\303\251 priv\303\251e est [redacted: private key]", KEY },
	{ "hex after privater Schlüssel", 0, "Mein privater Schl\303\274ssel lautet " HEX64,
	  "Mein privater Schl\303\274ssel lautet [redacted: private key]", KEY },
	{ "hex, then the word", 0, HEX64 " is my private key",
	  "[redacted: private key] is my private key", KEY },
	{ "transaction hash", 0, "My withdrawal txid is " HEX64 ", still pending.",
	  "My withdrawal txid is " HEX64 ", still pending.", 0 },
	{ "bare hex", 0, HEX64, HEX64, 0 },
	{ "hash nearer than secret", 0, "I keep my secret safe. Transaction hash: " HEX64,
	  "I keep my secret safe. Transaction hash: " HEX64, 0 },

	/* ---- API secrets, passwords, PINs, 2FA codes ---- */
	{ "API key and secret", 0,
	  "API Key: vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\n"
	  "Secret Key: NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j\n",
	  "API Key: [redacted: API secret]\nSecret Key: [redacted: API secret]\n", API },
	{ "API 密钥", 0, "API\345\257\206\351\222\245\357\274\23224f8c3a1-9b7e-4d2a-8c5f-1e6b3d9a7c20",
	  "API\345\257\206\351\222\245\357\274\232[redacted: API secret]", API },
	{ "secret, short", 0, "it is a secret: abc", "it is a secret: abc", 0 },
	{ "password is", 0, "my password is Hunter2! please reset it",
	  "my password is [redacted: password] please reset it", PW },
	{ "password:", 0, "Password: correcthorse\nEmail: a@b.example",
	  "Password: [redacted: password]\nEmail: a@b.example", PW },
	{ "password quoted", 0, "the password \"my dog rex\" stopped working",
	  "the password \"[redacted: password]\" stopped working", PW },
	{ "密码是", 0, "\346\210\221\347\232\204\345\257\206\347\240\201\346\230\257abc12345\357\274\214\350\260\242\350\260\242",
	  "\346\210\221\347\232\204\345\257\206\347\240\201\346\230\257[redacted: password]\357\274\214\350\260\242\350\260\242", PW },
	{ "mot de passe", 0, "mon mot de passe est Soleil2024 depuis hier",
	  "mon mot de passe est [redacted: password] depuis hier", PW },
	{ "Passwort", 0, "mein Passwort ist Geheim123 und geht nicht",
	  "mein Passwort ist [redacted: password] und geht nicht", PW },
	{ "password is wrong", 0, "my password is wrong and my password is not accepted",
	  "my password is wrong and my password is not accepted", 0 },
	{ "password is a word", 0, "The password is incorrect. Password is required.",
	  "The password is incorrect. Password is required.", 0 },
	/* From banking77: a verb right after the word is not a password. */
	{ "password doesn't work", 0, "My password doesn't work. The passcode isn't working.",
	  "My password doesn't work. The passcode isn't working.", 0 },
	{ "password, symbols", 0, "pwd: })=~ pwd: !!b?", "pwd: })=~ pwd: !!b?", 0 },
	{ "password masked", 0, "Password: ********", "Password: ********", 0 },
	{ "password reset link", 0, "password: https://example.test/reset?t=1",
	  "password: https://example.test/reset?t=1", 0 },
	{ "we never ask", 0, "We will never ask for your password or 2FA code.",
	  "We will never ask for your password or 2FA code.", 0 },
	{ "2FA code", 0, "2FA code: 123 456", "2FA code: [redacted: 2FA code]", OTP },
	{ "验证码", 0, "\351\252\214\350\257\201\347\240\201\346\230\257 482913",
	  "\351\252\214\350\257\201\347\240\201\346\230\257 [redacted: 2FA code]", OTP },
	{ "code de vérification", 0, "mon code de v\303\251rification : 774201",
	  "mon code de v\303\251rification : [redacted: 2FA code]", OTP },
	{ "Bestätigungscode", 0, "Der Best\303\244tigungscode lautet 55512",
	  "Der Best\303\244tigungscode lautet [redacted: 2FA code]", OTP },
	{ "no code given", 0, "I did not receive the verification code yet",
	  "I did not receive the verification code yet", 0 },
	{ "PIN", 0, "card PIN 4821", "card PIN [redacted: password]", PW },

	/* ---- card numbers ---- */
	{ "Visa, spaces", 0, "Card 4111 1111 1111 1111 please",
	  "Card 4111 11** **** 1111 [redacted: card number] please", CARD },
	{ "Mastercard, dashes", 0, "5500-0000-0000-0004", "5500-00**-****-0004 [redacted: card number]",
	  CARD },
	{ "Amex 4-6-5", 0, "3782 822463 10005", "3782 82**** *0005 [redacted: card number]", CARD },
	{ "UnionPay, glued", 0, "\345\215\241\345\217\2676212345678901265\343\200\202",
	  "\345\215\241\345\217\267621234******1265 [redacted: card number]\343\200\202", CARD },
	{ "Luhn fails", 0, "4111 1111 1111 1112", "4111 1111 1111 1112", 0 },
	{ "phone", 0, "call +44 7911 1234 5678 9012", "call +44 7911 1234 5678 9012", 0 },
	{ "order number", 0, "order 2023110912345678 failed", "order 2023110912345678 failed", 0 },
	{ "Luhn-valid order number of no network", 0, "ref 1234567812345670",
	  "ref 1234567812345670", 0 },
	{ "same digit", 0, "4444 4444 4444 4444", "4444 4444 4444 4444", 0 },
	{ "decimal", 0, "amount 4111111111111111.5 USDT", "amount 4111111111111111.5 USDT", 0 },

	/* ---- several at once ---- */
	{ "everything", 0,
	  "seed " P12 "\nkey L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEd\n"
	  "password: hunter22\ncard 4111111111111111\n",
	  "seed " R_PHRASE "\nkey [redacted: private key]\npassword: [redacted: password]\n"
	  "card 411111******1111 [redacted: card number]\n",
	  PHRASE | KEY | PW | CARD },
};

static void
test_rows(void)
{
	struct secrets_options opt = { crypto_sha256, 0, 0, 0 };
	for (size_t i = 0; i < N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		char *out = NULL;
		size_t out_len = 0;
		unsigned int kinds = 0;
		const char *error = NULL;
		test_begin(r->name);
		opt.flags = r->flags;
		int ret = secrets_redact_text(r->text, strlen(r->text), &opt, 65536, &out, &out_len,
					      &kinds, &error);
		test_assert_int(ret, 0);
		test_assert_str(out, r->want);
		test_assert_int(kinds, r->kinds);
		if (out != NULL)
			test_assert_int(out_len, strlen(out));
		if (out != NULL && strcmp(out, r->want) != 0)
			printf("  row \"%s\"\n  got  [%s]\n  want [%s]\n", r->name, out, r->want);
		free(out);
	}
}

static void
test_spans(void)
{
	struct secrets_options opt = { crypto_sha256, 0, 0, 0 };
	struct secrets_result res;
	const char *error = NULL;
	const char *text = "pw: hunter22 / 4111 1111 1111 1111 / seed " P12;

	test_begin("spans");
	test_assert_int(secrets_scan(text, strlen(text), &opt, &res, &error), 0);
	test_assert_int(res.n, 3);
	if (res.n == 3) {
		test_assert_int(res.spans[0].kind, SECRET_PASSWORD);
		test_assert_int(res.spans[0].offset, 4);
		test_assert_int(res.spans[0].len, 8);
		test_assert_int(res.spans[1].kind, SECRET_CARD);
		test_assert_int(res.spans[1].offset, 15);
		test_assert_int(res.spans[1].len, 19);
		test_assert_int(res.spans[1].keep_head, 7);
		test_assert_int(res.spans[1].keep_tail, 4);
		test_assert_str(res.spans[1].detail, "Visa");
		test_assert_int(res.spans[2].kind, SECRET_RECOVERY_PHRASE);
		test_assert_int(res.spans[2].offset, 42);
		test_assert_int(res.spans[2].len, strlen(P12));
		test_assert_str(res.spans[2].detail, "BIP39 English, 12 words");
		test_assert(res.spans[2].confidence >= 90);
	}
	test_assert_int(res.kinds, PW | CARD | PHRASE);
	secrets_result_free(&res);
	test_assert(res.spans == NULL && res.n == 0);

	/* Only the kinds asked for. */
	opt.kinds = CARD;
	test_assert_int(secrets_scan(text, strlen(text), &opt, &res, &error), 0);
	test_assert_int(res.n, 1);
	test_assert_int(res.kinds, CARD);
	secrets_result_free(&res);

	/* Overlapping findings merge into the most severe kind: 64 hex digits
	   after "secret" are both an API secret and a private key. */
	opt.kinds = 0;
	const char *both = "secret: " HEX64;
	test_assert_int(secrets_scan(both, strlen(both), &opt, &res, &error), 0);
	test_assert_int(res.n, 1);
	if (res.n == 1) {
		test_assert_int(res.spans[0].kind, SECRET_PRIVATE_KEY);
		test_assert_int(res.spans[0].offset, 8);
		test_assert_int(res.spans[0].len, 64);
	}
	secrets_result_free(&res);
}

static void
test_errors(void)
{
	struct secrets_options opt = { crypto_sha256, 0, 0, 2 };
	struct secrets_result res;
	const char *error = NULL;
	char *out = NULL;
	size_t out_len;

	test_begin("errors");
	/* Fail closed: more secrets than max_spans is an error, not a
	   partial redaction. */
	const char *three = "4111111111111111 4111111111111111 4111111111111111";
	test_assert_int(secrets_scan(three, strlen(three), &opt, &res, &error), -1);
	test_assert_str(error, "secrets: more than 2 secrets in one text");
	test_assert(res.spans == NULL);
	opt.max_spans = 0;
	opt.sha256 = NULL;
	test_assert_int(secrets_scan(three, strlen(three), &opt, &res, &error), -1);
	test_assert_str(error, "secrets: no SHA-256 function given");
	opt.sha256 = crypto_sha256;
	/* The redacted text has a limit. */
	test_assert_int(secrets_redact_text(three, strlen(three), &opt, 40, &out, &out_len, NULL,
					    &error),
			-1);
	test_assert_str(error, "secrets: redacted text larger than 40 bytes");
	test_assert_int(secrets_redact_text("", 0, &opt, 40, &out, &out_len, NULL, &error), 0);
	test_assert_str(out, "");
	free(out);
	/* Invalid UTF-8 and NUL bytes are tolerated. */
	const char bad[] = "\377\376 4111111111111111 \0 \300\200 " P12;
	test_assert_int(secrets_redact_text(bad, sizeof(bad) - 1, &opt, 1024, &out, &out_len, NULL,
					    &error),
			0);
	test_assert_int(out_len, 3 + 16 + 24 + 6 + strlen(R_PHRASE));
	free(out);
}

static void
test_names(void)
{
	test_begin("names");
	test_assert_str(secret_kind_name(SECRET_RECOVERY_PHRASE), "recovery phrase");
	test_assert_str(secret_kind_name(SECRET_OTP), "2FA code");
	test_assert_str(secret_kind_tag(SECRET_CARD), "card-number");
	test_assert_str(secret_kind_name(SECRET_KIND_COUNT), "secret");
	char *s = secret_kinds_names(CARD | PHRASE | PW);
	test_assert_str(s, "recovery phrase, password, card number");
	free(s);
	s = secret_kinds_names(0);
	test_assert_str(s, "");
	free(s);
}

int
main(void)
{
	test_rows();
	test_spans();
	test_errors();
	test_names();
	return test_exit();
}
