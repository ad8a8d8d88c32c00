/* Unit tests for parsers/rfc2047.c. */
#include "build-config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "parsers/rfc2047.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define FFFD "\xef\xbf\xbd"
#define NI "\xe4\xbd\xa0"  /* 你 */
#define HAO "\xe5\xa5\xbd" /* 好 */

static void
test_decode(void)
{
	static const struct {
		const char *in;
		size_t max;
		const char *want;
	} cases[] = {
		/* RFC 2047 section 8 */
		{ "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", 100, "Keith Moore <moore@cs.utk.edu>" },
		{ "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", 100,
		  "Keld J\xc3\xb8rn Simonsen <keld@dkuug.dk>" },
		{ "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", 100,
		  "Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>" },
		{ "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
		  "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
		  100, "If you can read this you understand the example." },
		{ "(=?ISO-8859-1?Q?a?=)", 100, "(a)" },
		{ "(=?ISO-8859-1?Q?a?= b)", 100, "(a b)" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", 100, "(ab)" },
		{ "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", 100, "(ab)" },
		{ "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", 100, "(ab)" },
		{ "(=?ISO-8859-1?Q?a_b?=)", 100, "(a b)" },
		{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", 100, "(a b)" },
		/* RFC 2231 section 5 language suffix */
		{ "=?US-ASCII*EN?Q?Keith_Moore?=", 100, "Keith Moore" },
		/* a character split across words: bytes are joined first */
		{ "=?gbk?B?xA==?= =?gbk?B?47rD?=", 100, NI HAO },
		{ "=?gb2312?Q?=C4?=\r\n =?GBK?Q?=E3?=", 100, NI },
		{ "=?utf-8?B?5L0=?= =?UTF-8?B?oOWlvQ==?=", 100, NI HAO },
		{ "=?utf-8?q?=E4=BD?= =?utf-8?q?=A0?=", 100, NI },
		/* ... but not across charsets */
		{ "=?utf-8?q?=E4?= =?iso-8859-1?q?=BD?=", 100, FFFD "\xc2\xbd" },
		/* adjacent without white space, lower case, no padding */
		{ "=?utf-8?q?a?==?utf-8?q?b?=", 100, "ab" },
		{ "=?utf-8?b?5L2g5aW9?=", 100, NI HAO },
		{ "=?utf-8?B?YWI?=", 100, "ab" },
		/* client leniency: glued to text, inside quotes, spaces inside */
		{ "abc=?utf-8?q?x?=def", 100, "abcxdef" },
		{ "\"=?utf-8?q?J=C3=B6rg?=\" <j@example.com>", 100, "\"J\xc3\xb6rg\" <j@example.com>" },
		{ "=?iso-8859-1?q?Hello World?=", 100, "Hello World" },
		{ "Re: =?utf-8?q?caf=C3=A9?= ok", 100, "Re: caf\xc3\xa9 ok" },
		/* label resolution: gb2312 reads as GB18030, big5 as HKSCS */
		{ "=?gb2312?B?xOO6ww==?=", 100, NI HAO },
		{ "=?ks_c_5601-1987?B?x9Gx2w==?=", 100, "\xed\x95\x9c\xea\xb8\x80" },
		{ "=?iso-2022-jp?B?GyRCJDMkcxsoQg==?=", 100, "\xe3\x81\x93\xe3\x82\x93" },
		/* UTF-16 and UTF-32 (issue 10.10): Java writes a BOM in every
		   word, .NET little-endian without one; RFC 2781 big-endian
		   without one. The byte order is read from the BOM, else from
		   where the zero bytes of ASCII text stand. */
		{ "=?UTF-16?B?/v8ASA==?= =?UTF-16?B?/v8AaQ==?=", 100, "Hi" },
		{ "=?UTF-16?B?/v9PYFl9?=", 100, NI HAO },
		{ "=?utf-16?b?AEgAaQ==?=", 100, "Hi" },
		{ "=?utf-16?b?SABpAA==?=", 100, "Hi" },
		{ "=?utf-16?b?//5IAGkA?=", 100, "Hi" },
		{ "=?utf-16?q?=FE=FF=00H=00i?=", 100, "Hi" },
		{ "=?utf-16be?b?/v8ASA==?=", 100, "H" },
		{ "=?utf-16le?b?//5IAA==?= =?utf-16le?b?//5pAA==?=", 100, "Hi" },
		{ "=?utf-16be?b?AEg=?= =?utf-16be?b?AGk=?=", 100, "Hi" },
		{ "=?utf-32?b?AAD+/wAAAEg=?= =?utf-32?b?AAD+/wAAAGk=?=", 100, "Hi" },
		{ "=?utf-32?b?AAAASAAAAGk=?=", 100, "Hi" },
		{ "=?utf-32?b?SAAAAGkAAAA=?=", 100, "Hi" },
		{ "=?utf-32le?b?//4AAEgAAAA=?=", 100, "H" },
		{ "Re: =?utf-16?b?/v8AQwBhAGYA6Q==?= ok", 100, "Re: Caf\xc3\xa9 ok" },
		/* malformed words stay as they are */
		{ "=?utf-8?q?unterminated", 100, "=?utf-8?q?unterminated" },
		{ "=?utf-8?B?***?=", 100, "=?utf-8?B?***?=" },
		{ "=?utf-8?B?Y?=", 100, "=?utf-8?B?Y?=" },
		{ "=?utf-8?B?YQ=b?=", 100, "=?utf-8?B?YQ=b?=" },
		{ "=??Q?abc?=", 100, "=??Q?abc?=" },
		{ "=?utf-8?X?abc?=", 100, "=?utf-8?X?abc?=" },
		{ "=?utf-8*?Q?abc?=", 100, "abc" },
		{ "=?utf 8?Q?abc?=", 100, "=?utf 8?Q?abc?=" },
		{ "=?", 100, "=?" },
		{ "?=", 100, "?=" },
		{ "=?=?=?=?", 100, "=?=?=?=?" },
		{ "=?x?Q?=ZZ?=", 100, "=ZZ" },
		{ "=?utf-8?q?=?utf-8?q?x?=?=", 100, "=?utf-8?q?x?=" },
		{ "=?utf-8?q?a=?= b", 100, "a= b" },
		/* unknown charset: detection; undetectable: kept literally */
		{ "=?x-unknown?q?hello?=", 100, "hello" },
		{ "=?x-bogus?q?=80=81=FF?=", 100, "=?x-bogus?q?=80=81=FF?=" },
		/* a malformed word between two good ones keeps the space */
		{ "=?utf-8?q?a?= =?utf-8?B?*?= =?utf-8?q?b?=", 100, "a =?utf-8?B?*?= b" },
		/* invalid bytes in a word */
		{ "=?utf-8?q?a=FFb?=", 100, "a" FFFD "b" },
		/* control characters: removed, TAB becomes a space */
		{ "a\x01" "b\tc\x7f" "d", 100, "ab cd" },
		{ "=?utf-8?q?a=0D=0Ab?=", 100, "ab" },
		{ "=?utf-8?q?a=00b=09c?=", 100, "ab c" },
		{ "=?utf-8?q?a=C2=85b=C2=A0c?=", 100, "ab\xc2\xa0" "c" },
		/* unfolding */
		{ "Hello\r\n World", 100, "Hello World" },
		{ "Hello\r\n\tWorld", 100, "Hello World" },
		{ "Hello\nWorld\r", 100, "HelloWorld" },
		/* raw 8-bit: UTF-8 when valid, else detected */
		{ "caf\xc3\xa9 " NI, 100, "caf\xc3\xa9 " NI },
		{ "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7\xa3\xa1\xce\xd2\xc3\xc7\xb5\xc4\xd5\xcb\xbb\xa7",
		  100,
		  "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81\xe6\x88\x91"
		  "\xe4\xbb\xac\xe7\x9a\x84\xe8\xb4\xa6\xe6\x88\xb7" },
		{ "Le caf\xe9 de la gare \xe9tait ferm\xe9, nous sommes all\xe9s \xe0 la brasserie "
		  "pr\xe8s du th\xe9\xe2tre. =?utf-8?q?ok?=",
		  200,
		  "Le caf\xc3\xa9 de la gare \xc3\xa9tait ferm\xc3\xa9, nous sommes all\xc3\xa9s \xc3\xa0 la "
		  "brasserie pr\xc3\xa8s du th\xc3\xa9\xc3\xa2tre. ok" },
		{ "\x1b$B$3$s\x1b(B", 100, "\xe3\x81\x93\xe3\x82\x93" },
		/* bounded: cut on a character boundary */
		{ "=?utf-8?b?5L2g5aW9?=", 6, NI HAO },
		{ "=?utf-8?b?5L2g5aW9?=", 5, NI },
		{ "=?utf-8?b?5L2g5aW9?=", 3, NI },
		{ "=?utf-8?b?5L2g5aW9?=", 2, "" },
		{ "abc", 0, "" },
		{ "abc\tdef", 4, "abc " },
		{ "", 100, "" },
	};
	test_begin("rfc2047_decode");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *out = rfc2047_decode(cases[i].in, cases[i].max);
		test_assert_str(out, cases[i].want);
		if (strcmp(out, cases[i].want) != 0)
			printf("  case %zu\n", i);
		test_assert(utf8_valid((unsigned char *)out, strlen(out)));
		free(out);
	}
	char *out = rfc2047_decode(NULL, 10);
	test_assert_str(out, "");
	free(out);
}

/* Hostile sizes: linear time, bounded output, valid UTF-8. */
static void
test_decode_huge(void)
{
	static const char *const units[] = {
		"=?utf-8?q?a?= ", "=?", "=?a?q?", "=?utf-8?B?", "?=", "=?gbk?B?xA==?= ",
		"=?utf-8?q?=E4=BD?=", "\xff\xfe", "=?utf-8?q?" NI "?=",
	};
	const size_t size = 1 << 20;
	char *in = xmalloc(size + 1);

	test_begin("rfc2047_decode huge");
	for (size_t u = 0; u < N_ELEMENTS(units); u++) {
		size_t n = strlen(units[u]), len = 0;
		while (len + n <= size) {
			memcpy(in + len, units[u], n);
			len += n;
		}
		in[len] = '\0';
		clock_t t0 = clock();
		char *out = rfc2047_decode(in, 1000);
		double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		test_assert(strlen(out) <= 1000);
		test_assert(utf8_valid((unsigned char *)out, strlen(out)));
		test_assert(secs < 5.0);
		if (secs >= 5.0)
			printf("  unit %zu took %.1f s\n", u, secs);
		free(out);
	}
	/* without a limit the 1 MiB of words decodes completely (the white
	   space between words goes, the last space stays) */
	size_t len = 0;
	while (len + 14 <= size) {
		memcpy(in + len, "=?utf-8?q?a?= ", 14);
		len += 14;
	}
	in[len] = '\0';
	char *out = rfc2047_decode(in, size);
	test_assert_int(strlen(out), len / 14 + 1);
	free(out);
	free(in);
}

static void
test_rfc2231(void)
{
	static const struct {
		const char *in;
		size_t max;
		const char *want;
	} cases[] = {
		{ "utf-8''%E4%B8%AD%E6%96%87.pdf", 100, "\xe4\xb8\xad\xe6\x96\x87.pdf" },
		{ "UTF-8'zh-cn'%E4%BD%A0", 100, NI },
		{ "iso-8859-1'en'%A3%20rates", 100, "\xc2\xa3 rates" },
		{ "us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", 100, "This is ***fun***" },
		{ "gb2312''%C4%E3%BA%C3", 100, NI HAO },
		{ "''abc", 100, "abc" },
		{ "abc%20def", 100, "abc def" },
		{ "%E4%BD%A0.txt", 100, NI ".txt" },
		{ "%FF", 100, FFFD },
		{ "it's a file", 100, "it's a file" },
		{ "x y'z'%41", 100, "x y'z'A" },
		{ "utf-8''%ZZ%4", 100, "%ZZ%4" },
		{ "utf-8''a%0Ab%00c%09d", 100, "abc d" },
		{ "utf-8''abcdef", 6, "abcdef" },
		{ "utf-8''abcdef", 5, NULL },
		{ "x-bogus''%80%81%FF", 100, NULL },
		{ "", 100, "" },
	};
	test_begin("rfc2231_decode");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *out = rfc2231_decode(cases[i].in, cases[i].max);
		test_assert_str(out, cases[i].want);
		free(out);
	}
	test_assert(rfc2231_decode(NULL, 100) == NULL);
}

/* Check the folding of an encoded value: lines of at most 78 columns (the
   first after name_len), continuation lines starting with a space, no
   other CR/LF, encoded words of at most 75 characters each holding
   whole UTF-8 characters. */
static int
check_folding(const char *enc, size_t name_len)
{
	const char *line = enc;
	size_t col0 = name_len;
	int first = 1;

	for (;;) {
		const char *crlf = strstr(line, "\r\n");
		size_t n = crlf != NULL ? (size_t)(crlf - line) : strlen(line);
		if (memchr(line, '\r', n) != NULL || memchr(line, '\n', n) != NULL)
			return 0;
		if (col0 + n > 78)
			return 0;
		if (!first && (n < 2 || line[0] != ' '))
			return 0;
		/* each encoded word on the line decodes alone to valid UTF-8 */
		const char *w = line, *end = line + n;
		while ((w = strstr(w, "=?UTF-8?")) != NULL && w < end) {
			const char *we = strstr(w + 10, "?=");
			if (we == NULL || we + 2 > end || we + 2 - w > 75)
				return 0;
			char *word = xstrndup(w, (size_t)(we + 2 - w));
			char *dec = rfc2047_decode(word, 1000);
			int bad = strstr(dec, FFFD) != NULL || strcmp(dec, word) == 0;
			free(word);
			free(dec);
			if (bad)
				return 0;
			w = we + 2;
		}
		if (crlf == NULL)
			return 1;
		line = crlf + 2;
		col0 = 0;
		first = 0;
	}
}

static void
test_encode(void)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: only round trip and folding checked */
	} cases[] = {
		{ "", "" },
		{ "Hello", "Hello" },
		{ "Re: [#1234] Withdrawal pending", "Re: [#1234] Withdrawal pending" },
		{ NI HAO, "=?UTF-8?B?5L2g5aW9?=" },
		{ "caf\xc3\xa9 au lait, s'il vous pla\xc3\xaet", NULL },
		/* header injection: CR, LF and controls go */
		{ "a\r\nBcc: x@example.com", "aBcc: x@example.com" },
		{ "a\tb\x01" "c", "a bc" },
		/* text that looks like an encoded word is encoded itself */
		{ "=?utf-8?q?x?=", NULL },
		/* long plain text folds on spaces */
		{ "This is a rather long subject line that goes on and on past the seventy-eight column "
		  "limit of RFC 5322 and has to be folded",
		  "This is a rather long subject line that goes on and on past the\r\n"
		  " seventy-eight column limit of RFC 5322 and has to be folded" },
		/* a word too long to fold is encoded */
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		  NULL },
		/* emoji (4 bytes), CJK and mixed text long enough for many words */
		{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82\xf0\x9f\x98\x83\xf0\x9f\x98\x84\xf0\x9f"
		  "\x98\x85\xf0\x9f\x98\x86\xf0\x9f\x98\x87\xf0\x9f\x98\x88\xf0\x9f\x98\x89\xf0\x9f\x98\x8a"
		  "\xf0\x9f\x98\x8b\xf0\x9f\x98\x8c\xf0\x9f\x98\x8d\xf0\x9f\x98\x8e\xf0\x9f\x98\x8f",
		  NULL },
		{ "\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe8\xbf\x98\xe6\xb2\xa1\xe6\x9c\x89\xe5"
		  "\x88\xb0\xe8\xb4\xa6\xef\xbc\x8c\xe8\xaf\xb7\xe5\xb8\xae\xe6\x88\x91\xe6\x9f\xa5\xe4\xb8"
		  "\x80\xe4\xb8\x8b\xe3\x80\x82\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe8\xbf\x98"
		  "\xe6\xb2\xa1\xe6\x9c\x89\xe5\x88\xb0\xe8\xb4\xa6\xef\xbc\x8c\xe8\xaf\xb7\xe5\xb8\xae\xe6"
		  "\x88\x91\xe6\x9f\xa5\xe4\xb8\x80\xe4\xb8\x8b\xe3\x80\x82",
		  NULL },
		{ "Re: [#42] Deposit of 0.5 BTC not credited \xe2\x80\x94 \xe5\x85\x85\xe5\x80\xbc\xe6\x9c"
		  "\xaa\xe5\x88\xb0\xe8\xb4\xa6 \xf0\x9f\x98\x9f (tx 3f1a9c0e7b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f)"
		  " please help, it has been three days already",
		  NULL },
		{ "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen, Stra\xc3\x9f" "e 5 \xe2\x80\x93 Konto gesperrt "
		  "nach Passwort\xc3\xa4nderung, bitte um R\xc3\xbc" "ckruf unter +49 89 1234567",
		  NULL },
		{ "  leading and trailing spaces  ", NULL },
		{ "a  b   c", NULL },
	};
	static const size_t name_lens[] = { 0, 9, 40 };

	test_begin("rfc2047_encode");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		for (size_t k = 0; k < N_ELEMENTS(name_lens); k++) {
			char *enc = rfc2047_encode(cases[i].in, name_lens[k]);
			if (cases[i].want != NULL && name_lens[k] == 9)
				test_assert_str(enc, cases[i].want);
			test_assert(check_folding(enc, name_lens[k]));
			/* round trip, once control characters are gone */
			char *dec = rfc2047_decode(enc, 100000);
			char *clean = rfc2047_decode(cases[i].in, 100000);
			if (strstr(cases[i].in, "=?") != NULL) {
				free(clean);
				clean = xstrdup(cases[i].in);
			}
			test_assert_str(dec, clean);
			if (strcmp(dec, clean) != 0 || !check_folding(enc, name_lens[k]))
				printf("  case %zu name_len %zu: %s\n", i, name_lens[k], enc);
			free(clean);
			free(dec);
			free(enc);
		}
	}
	/* invalid UTF-8 input is repaired, not passed on */
	char *enc = rfc2047_encode("a\xff" "b", 9);
	char *dec = rfc2047_decode(enc, 100);
	test_assert_str(dec, "a" FFFD "b");
	free(dec);
	free(enc);
	enc = rfc2047_encode(NULL, 9);
	test_assert_str(enc, "");
	free(enc);
	/* mostly ASCII text uses Q */
	enc = rfc2047_encode("Probl\xc3\xa8me de connexion au compte", 9);
	test_assert(str_starts_with(enc, "=?UTF-8?Q?Probl=C3=A8me_de_connexion"));
	free(enc);
}

/* Random UTF-8 strings: encode then decode is the identity. */
static void
test_encode_random(void)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "  ", "?", "=", "_", "=?", "?=", "\xc3\xa9", NI, "\xf0\x9f\x98\x80",
		"\xe2\x80\x94", "x", "1", "-", "\"", "(", ")",
	};
	uint32_t seed = 42;
	int bad = 0;

	test_begin("rfc2047_encode random");
	for (int round = 0; round < 300; round++) {
		struct buf b;
		buf_init(&b, 4096);
		size_t n = (size_t)(round % 120);
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&b, pieces[(seed >> 16) % N_ELEMENTS(pieces)]);
		}
		const char *in = buf_cstr(&b);
		size_t name_len = (size_t)(round % 30);
		char *enc = rfc2047_encode(in, name_len);
		char *dec = rfc2047_decode(enc, 100000);
		if (strcmp(dec, in) != 0 || !check_folding(enc, name_len)) {
			if (bad++ < 5)
				printf("  round %d: \"%s\" -> \"%s\" -> \"%s\"\n", round, in, enc, dec);
		}
		free(enc);
		free(dec);
		buf_free(&b);
	}
	test_assert_int(bad, 0);
}

/* Malformed words are kept literally; raw 8-bit bytes in them (found by
   fuzzing mime) must not make the result invalid UTF-8. */
static void
test_decode_malformed_8bit(void)
{
	static const char *const cases[] = {
		"=?qtf-8?q?Patrik_+EC3=A4ltstr=C3=B\xd1\x92\xc0\xc2\xdf\xc3\x8f\x9e?=",
		"=?qtf-8?q?\xc0\xc2\xdf?= x",
		"=?utf-8?q?ok?= \xff\xfe =?bogus",
	};
	test_begin("decode: malformed words with 8-bit bytes");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *d = rfc2047_decode(cases[i], 1000);
		test_assert(d != NULL && utf8_valid((const unsigned char *)d, strlen(d)));
		free(d);
	}
}

int
main(void)
{
	test_decode();
	test_decode_malformed_8bit();
	test_decode_huge();
	test_rfc2231();
	test_encode();
	test_encode_random();
	return test_exit();
}
