/* Unit tests for parsers/charset.c, plus Python's CJK codec vectors. */
#include "build-config.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>

#include "parsers/charset.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define FFFD "\xef\xbf\xbd"

static void
test_resolve(void)
{
	static const struct {
		const char *label;
		const char *want;
	} cases[] = {
		{ "utf-8", "UTF-8" },
		{ "UTF8", "UTF-8" },
		{ "\"utf-8\"", "UTF-8" },
		{ " 'Utf-8' ", "UTF-8" },
		{ "utf-8*en", "UTF-8" },
		/* GB family: everything reads as GB18030 */
		{ "gb2312", "GB18030" },
		{ "GB2312", "GB18030" },
		{ "gbk", "GB18030" },
		{ "x-gbk", "GB18030" },
		/* unknown spellings of a known family */
		{ "eucgb2312_cn", "GB18030" },
		{ "ms_big5", "BIG5-HKSCS" },
		{ "x-sjis-2", "CP932" },
		{ "euc-cn", "GB18030" },
		{ "cp936", "GB18030" },
		{ "gb_2312-80", "GB18030" },
		{ "chinese", "GB18030" },
		{ "csgb2312", "GB18030" },
		{ "iso-ir-58", "GB18030" },
		{ "gb18030", "GB18030" },
		{ "hz-gb-2312", "HZ-GB-2312" },
		{ "big5", "BIG5-HKSCS" },
		{ "big5-hkscs", "BIG5-HKSCS" },
		{ "cn-big5", "BIG5-HKSCS" },
		{ "x-x-big5", "BIG5-HKSCS" },
		{ "ks_c_5601-1987", "CP949" },
		{ "ks_c_5601-1989", "CP949" },
		{ "euc-kr", "CP949" },
		{ "korean", "CP949" },
		{ "ksc5601", "CP949" },
		{ "windows-949", "CP949" },
		{ "cp949", "CP949" },
		{ "iso-8859-1", "WINDOWS-1252" },
		{ "ISO_8859-1", "WINDOWS-1252" },
		{ "latin1", "WINDOWS-1252" },
		{ "us-ascii", "WINDOWS-1252" },
		{ "ascii", "WINDOWS-1252" },
		{ "ansi_x3.4-1968", "WINDOWS-1252" },
		{ "cp1252", "WINDOWS-1252" },
		{ "windows-1252", "WINDOWS-1252" },
		{ "shift_jis", "CP932" },
		{ "Shift_JIS", "CP932" },
		{ "sjis", "CP932" },
		{ "ms_kanji", "CP932" },
		{ "x-sjis", "CP932" },
		{ "windows-31j", "CP932" },
		{ "csshiftjis", "CP932" },
		{ "euc-jp", "EUC-JP" },
		{ "iso-2022-jp", "ISO-2022-JP" },
		{ "koi8-r", "KOI8-R" },
		{ "koi8-u", "KOI8-U" },
		{ "x-mac-cyrillic", "MAC-CYRILLIC" },
		{ "utf-7", "UTF-7" },
		{ "utf-16", "UTF-16" },
		{ "utf-16le", "UTF-16LE" },
		{ "utf-16be", "UTF-16BE" },
		{ "utf-32", "UTF-32" },
		{ "windows-1251", "WINDOWS-1251" },
		{ "iso-8859-2", "ISO-8859-2" },
		{ "iso-8859-15", "ISO-8859-15" },
		{ "iso-8859-9", "WINDOWS-1254" },
		{ "tis-620", "WINDOWS-874" },
		/* Python codec names */
		{ "iso2022_jp", "ISO-2022-JP" },
		{ "euc_kr", "CP949" },
		{ "big5hkscs", "BIG5-HKSCS" },
		/* not in the table: iconv's own names */
		{ "cp850", "CP850" },
		{ "IBM437", "IBM437" },
		{ "iso-2022-cn", "ISO-2022-CN" },
		{ "johab", "JOHAB" },
		/* rejected */
		{ "", NULL },
		{ "   ", NULL },
		{ "\"\"", NULL },
		{ "x-unknown", NULL },
		{ "unknown-8bit", NULL },
		{ "utf-8; format=flowed", NULL },
		{ "../../etc/passwd", NULL },
		{ "UTF-8//TRANSLIT", NULL },
		{ "utf-8\n", "UTF-8" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL }, /* 41 chars */
		{ "caf\xc3\xa9", NULL },
	};
	test_begin("charset_resolve");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		test_assert_str(charset_resolve(cases[i].label), cases[i].want);
	test_assert(charset_resolve(NULL) == NULL);
	/* A resolved name resolves to itself (detection results are fed back
	   as labels). */
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		if (cases[i].want != NULL)
			test_assert_str(charset_resolve(cases[i].want), cases[i].want);
	}
}

/* Names no table lists that iconv knows, and every name uchardet gives
   (fed back as labels), resolve from a fixed table: a label never grows
   what the process keeps. Before, 256 unlisted labels filled a table
   that then stayed full, and every later unlisted label went to
   detection. */
static void
test_resolve_fixed(void)
{
	static const char *const uchardet_names[] = {
		"ASCII", "BIG5", "EUC-KR", "EUC-TW", "GB18030", "HZ-GB-2312", "IBM852", "IBM855",
		"IBM866", "IBM865", "ISO-2022-CN", "ISO-2022-JP", "ISO-2022-KR", "ISO-8859-1",
		"ISO-8859-10", "ISO-8859-13", "ISO-8859-15", "ISO-8859-16", "ISO-8859-2",
		"ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
		"ISO-8859-8", "ISO-8859-9", "ISO-8859-11", "KOI8-R", "MAC-CENTRALEUROPE",
		"MAC-CYRILLIC", "SHIFT_JIS", "TIS-620", "UTF-16BE", "UTF-16LE", "UTF-32",
		"UTF-8", "VISCII", "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252",
		"WINDOWS-1253", "WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258",
		"EUC-JP", "GEORGIAN-ACADEMY", "GEORGIAN-PS",
	};
	test_begin("charset_resolve: uchardet's names");
	for (size_t i = 0; i < N_ELEMENTS(uchardet_names); i++) {
		const char *name = charset_resolve(uchardet_names[i]);
		if (name == NULL)
			printf("  %s does not resolve\n", uchardet_names[i]);
		test_assert(name != NULL);
	}
	test_begin("charset_resolve: a hostile message's labels change nothing");
	/* more glibc names than the old table had room for: ibmN, cpN and
	   iso-ir-N, 300 of which glibc accepts */
	char label[32];
	for (int i = 0; i < 2000; i++) {
		static const char *const forms[] = { "ibm", "cp", "iso-ir-", "x-made-up-" };
		for (size_t f = 0; f < N_ELEMENTS(forms); f++) {
			snprintf(label, sizeof(label), "%s%d", forms[f], i);
			(void)charset_resolve(label);
		}
	}
	test_assert(charset_resolve("x-made-up-1") == NULL);
	/* labels first seen after the flood still resolve */
	test_assert_str(charset_resolve("armscii-8"), "ARMSCII-8");
	test_assert_str(charset_resolve("koi8-t"), "KOI8-T");
	test_assert_str(charset_resolve("cp850"), "CP850");
	test_assert_str(charset_resolve("IBM437"), "IBM437");
	test_assert_str(charset_resolve("johab"), "JOHAB");
	/* the same text decodes the same after the flood */
	char *out;
	size_t len;
	int lossy;
	const char *used, *error;
	test_assert_int(charset_to_utf8("cp1125", (const unsigned char *)"\x82", 1, 16, &out, &len,
					&lossy, &used, &error), 0);
	test_assert_str(out, "\xd0\x92"); /* CP1125 0x82: CYRILLIC CAPITAL LETTER VE */
	test_assert_str(used, "CP1125");
	free(out);
}

static void
test_detect(void)
{
	static const char gbk[] = "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7\xa3\xa1\xce\xd2\xc3\xc7"
				  "\xb5\xc4\xd5\xcb\xbb\xa7";
	test_begin("charset_detect");
	test_assert_str(charset_detect((const unsigned char *)"", 0), "UTF-8");
	test_assert_str(charset_detect((const unsigned char *)"hello world", 11), "UTF-8");
	test_assert_str(charset_detect((const unsigned char *)"\xe4\xbd\xa0\xe5\xa5\xbd", 6),
			"UTF-8");
	test_assert_str(charset_detect((const unsigned char *)gbk, sizeof(gbk) - 1), "GB18030");
	test_assert_str(charset_detect((const unsigned char *)"\x1b$B$3$s$K$A$O\x1b(B", 16),
			"ISO-2022-JP");
	/* uchardet's "ISO-8859-1" goes through the label table */
	static const char latin1[] = "Le caf\xe9 de la gare \xe9tait ferm\xe9, nous sommes all\xe9s "
				     "\xe0 la brasserie pr\xe8s du th\xe9\xe2tre.";
	test_assert_str(charset_detect((const unsigned char *)latin1, sizeof(latin1) - 1),
			"WINDOWS-1252");
	test_assert(charset_detect((const unsigned char *)"\x80\x81\xff", 3) == NULL);
}

static void
test_convert(void)
{
	static const struct {
		const char *label;
		const char *in;
		size_t len;
		size_t max;
		int ret;
		const char *want; /* output, or the start of the error */
		int lossy;
		const char *used;
	} cases[] = {
		/* UTF-8 */
		{ "utf-8", "caf\xc3\xa9", 5, 100, 0, "caf\xc3\xa9", 0, "UTF-8" },
		{ "utf-8", "a\xff" "b", 3, 100, 0, "a" FFFD "b", 1, "UTF-8" },
		{ "utf-8", "a\xc3", 2, 100, 0, "a" FFFD, 1, "UTF-8" },
		{ "utf-8", "\xed\xa0\x80", 3, 100, 0, FFFD FFFD FFFD, 1, "UTF-8" }, /* surrogate */
		{ "utf-8", "\xc0\xaf", 2, 100, 0, FFFD FFFD, 1, "UTF-8" },          /* overlong */
		{ "utf-8", "\xef\xbb\xbfhi", 5, 100, 0, "hi", 0, "UTF-8" },         /* BOM */
		{ "utf-8", "a\0b", 3, 100, 0, "ab", 1, "UTF-8" },
		{ "utf-8", "", 0, 100, 0, "", 0, "UTF-8" },
		/* bounded output: an error, never a cut */
		{ "utf-8", "abcdef", 6, 6, 0, "abcdef", 0, "UTF-8" },
		{ "utf-8", "abcdef", 6, 5, -1, "decoded text exceeds 5 bytes", 0, NULL },
		{ "gbk", "\xc4\xe3\xba\xc3", 4, 6, 0, "\xe4\xbd\xa0\xe5\xa5\xbd", 0, "GB18030" },
		{ "gbk", "\xc4\xe3\xba\xc3", 4, 5, -1, "decoded text exceeds 5 bytes", 0, NULL },
		{ "utf-8", "a\xff", 2, 3, -1, "decoded text exceeds 3 bytes", 0, NULL },
		{ "iso-2022-jp", "\x1b$B$3$s\x1b(B", 10, 5, -1, "decoded text exceeds", 0, NULL },
		/* CJK */
		{ "gb2312", "\xc4\xe3\xba\xc3", 4, 100, 0, "\xe4\xbd\xa0\xe5\xa5\xbd", 0, "GB18030" },
		{ "gb2312", "\xc4\xe3\xba", 3, 100, 0, "\xe4\xbd\xa0" FFFD, 1, "GB18030" },
		{ "gb2312", "\xc4\xe3\xff" "a", 4, 100, 0, "\xe4\xbd\xa0" FFFD "a", 1, "GB18030" },
		{ "big5", "\xa4\xa4\xa4\xe5", 4, 100, 0, "\xe4\xb8\xad\xe6\x96\x87", 0, "BIG5-HKSCS" },
		/* codes glibc's HKSCS table lacks, found in CP950: U+FF0F, euro */
		{ "big5", "a\xa1\xfe\xa3\xe1" "b", 6, 100, 0, "a\xef\xbc\x8f\xe2\x82\xac" "b", 0,
		  "BIG5-HKSCS" },
		{ "big5", "\xa1", 1, 100, 0, FFFD, 1, "BIG5-HKSCS" },
		/* EUC-JP NEC row 13 (found in EUC-JP-MS) */
		{ "euc-jp", "\xad\xa1", 2, 100, 0, "\xe2\x91\xa0", 0, "EUC-JP" },
		{ "shift_jis", "\x82\xa0\x87\x40", 4, 100, 0, "\xe3\x81\x82\xe2\x91\xa0", 0, "CP932" },
		{ "shift_jis", "\\~", 2, 100, 0, "\\~", 0, "CP932" },
		{ "euc-jp", "\xa4\xa2\x8f\xb0\xa1", 5, 100, 0, "\xe3\x81\x82\xe4\xb8\x82", 0, "EUC-JP" },
		{ "ks_c_5601-1987", "\xc7\xd1\xb1\xdb", 4, 100, 0, "\xed\x95\x9c\xea\xb8\x80", 0,
		  "CP949" },
		/* KS X 1001 make-up sequence (Python decodes it as U+D61C) */
		{ "euc-kr", "a\xa4\xd4\xa4\xbe\xa4\xc6\xa4\xd4" "b", 10, 100, 0, "a\xed\x98\x9c" "b", 0,
		  "CP949" },
		/* a filler not followed by jamo is the filler itself */
		{ "euc-kr", "\xa4\xd4", 2, 100, 0, "\xe3\x85\xa4", 0, "CP949" },
		/* ISO-2022-JP, including what glibc's codec rejects: NEC row 13,
		   half-width katakana, JIS X 0212 */
		{ "iso-2022-jp", "\x1b$B$3$s\x1b(B!", 11, 100, 0, "\xe3\x81\x93\xe3\x82\x93!", 0,
		  "ISO-2022-JP" },
		{ "iso-2022-jp", "\x1b$B-!\x1b(B", 8, 100, 0, "\xe2\x91\xa0", 0, "ISO-2022-JP" },
		{ "iso-2022-jp", "\x1b(I1\x1b(B", 7, 100, 0, "\xef\xbd\xb1", 0, "ISO-2022-JP" },
		{ "iso-2022-jp", "\x1b$(D0!\x1b(B", 9, 100, 0, "\xe4\xb8\x82", 0, "ISO-2022-JP" },
		/* NEC-selected IBM extension (row 89), as CP932 maps it */
		{ "iso-2022-jp", "\x1b$By!\x1b(B", 8, 100, 0, "\xe7\xba\x8a", 0, "ISO-2022-JP" },
		/* WAVE DASH, as WHATWG and Python map 0x2141 */
		{ "iso-2022-jp", "\x1b$B!A\x1b(B", 8, 100, 0, "\xe3\x80\x9c", 0, "ISO-2022-JP" },
		/* JIS X 0201 Roman: yen sign and overline */
		{ "iso-2022-jp", "\x1b(J\\~\x1b(B\\", 9, 100, 0, "\xc2\xa5\xe2\x80\xbe\\", 0,
		  "ISO-2022-JP" },
		/* katakana by SO/SI and as 8-bit bytes */
		{ "iso-2022-jp", "a\x0e" "1\x0f" "b\xb1", 6, 100, 0, "a\xef\xbd\xb1" "b\xef\xbd\xb1", 0,
		  "ISO-2022-JP" },
		/* a stray ESC and a line end inside JIS X 0208 */
		{ "iso-2022-jp", "\x1bx\x1b$B$3\nA", 9, 100, 0, FFFD "x\xe3\x81\x93\nA", 1,
		  "ISO-2022-JP" },
		{ "iso-2022-jp", "\x1b$A\x44\x63\x1b(B", 8, 100, 0, "\xe4\xbd\xa0", 0, "ISO-2022-JP" },
		{ "iso-2022-jp", "\x1b$B$\x1b(B", 7, 100, 0, FFFD, 1, "ISO-2022-JP" },
		/* HZ (glibc has no HZ codec) */
		{ "hz-gb-2312", "~{<:Ky2;S{#,NpJ)l6HK!#~}~~", 26, 100, 0,
		  "\xe5\xb7\xb1\xe6\x89\x80\xe4\xb8\x8d\xe6\xac\xb2\xef\xbc\x8c\xe5\x8b\xbf\xe6\x96\xbd"
		  "\xe6\x96\xbc\xe4\xba\xba\xe3\x80\x82~",
		  0, "HZ-GB-2312" },
		{ "hz", "a~xb", 4, 100, 0, "a" FFFD "xb", 1, "HZ-GB-2312" },
		/* Western */
		{ "iso-8859-1", "caf\xe9", 4, 100, 0, "caf\xc3\xa9", 0, "WINDOWS-1252" },
		{ "iso-8859-1", "\x80", 1, 100, 0, "\xe2\x82\xac", 0, "WINDOWS-1252" },
		{ "windows-1252", "\x81", 1, 100, 0, FFFD, 1, "WINDOWS-1252" },
		{ "us-ascii", "caf\xe9", 4, 100, 0, "caf\xc3\xa9", 0, "WINDOWS-1252" },
		/* 8-bit under an ASCII label that is valid UTF-8 is UTF-8 */
		{ "us-ascii", "caf\xc3\xa9", 5, 100, 0, "caf\xc3\xa9", 0, "UTF-8" },
		{ "iso-8859-15", "\xa4", 1, 100, 0, "\xe2\x82\xac", 0, "ISO-8859-15" },
		{ "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 6, 100, 0,
		  "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 0, "KOI8-R" },
		{ "windows-1251", "\xcf\xf0\xe8", 3, 100, 0, "\xd0\x9f\xd1\x80\xd0\xb8", 0,
		  "WINDOWS-1251" },
		/* Unicode forms */
		{ "utf-16", "\xff\xfe" "a\0", 4, 100, 0, "a", 0, "UTF-16" },
		{ "utf-16", "\xfe\xff\0a", 4, 100, 0, "a", 0, "UTF-16" },
		/* no BOM: little-endian, as WHATWG and Thunderbird read it */
		{ "utf-16", "a\0", 2, 100, 0, "a", 0, "UTF-16" },
		{ "utf-32", "a\0\0\0", 4, 100, 0, "a", 0, "UTF-32" },
		{ "utf-32", "\0\0\xfe\xff\0\0\0a", 8, 100, 0, "a", 0, "UTF-32" },
		{ "utf-16le", "a\0b", 3, 100, 0, "a" FFFD, 1, "UTF-16LE" },
		{ "utf-16le", "a\0\0\0b\0", 6, 100, 0, "ab", 1, "UTF-16LE" },
		{ "utf-16le", "\x00\xd8" "a\0", 4, 100, 0, FFFD "a", 1, "UTF-16LE" },
		{ "utf-7", "+ZeVnLIqe-", 10, 100, 0, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, "UTF-7" },
		{ "utf-32be", "\0\0\0a\0\x11\0\0", 8, 100, 0, "a" FFFD, 1, "UTF-32BE" },
		/* issue 10.20: valid UTF-8 under an unknown label is UTF-8 (it
		   was read as MAC-CENTRALEUROPE: "Envoy\xe2\x88\x9a\xc2\xa9") */
		{ "x-unknown", "Envoy\xc3\xa9 de mon iPhone", 21, 100, 0, "Envoy\xc3\xa9 de mon iPhone", 0,
		  "UTF-8" },
		/* bytes invalid in the declared charset: Windows-1252 for a
		   broken UTF-8 that is Windows-1252, UTF-8 or detection else */
		{ "utf-8", "Envoy\xe9 de mon iPhone", 20, 100, 0, "Envoy\xc3\xa9 de mon iPhone", 0,
		  "WINDOWS-1252" },
		{ "utf-8", "Gr\xfc\xdf" "e, J\xfcrgen", 13, 100, 0, "Gr\xc3\xbc\xc3\x9f" "e, J\xc3\xbcrgen", 0,
		  "WINDOWS-1252" },
		{ "iso-8859-1",
		  "\xce\xd2\xb5\xc4\xb3\xe4\xd6\xb5\xc3\xbb\xd3\xd0\xb5\xbd\xd5\xcb\xa3\xac\xc7\xeb\xb0"
		  "\xef\xce\xd2\xb2\xe9\xd2\xbb\xcf\xc2\xa1\xa3\xd0\xbb\xd0\xbb\xa3\xa1", 38, 200, 0,
		  "\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe6\xb2\xa1\xe6\x9c\x89\xe5\x88\xb0"
		  "\xe8\xb4\xa6\xef\xbc\x8c\xe8\xaf\xb7\xe5\xb8\xae\xe6\x88\x91\xe6\x9f\xa5\xe4\xb8\x80"
		  "\xe4\xb8\x8b\xe3\x80\x82\xe8\xb0\xa2\xe8\xb0\xa2\xef\xbc\x81", 0, "GB18030" },
		{ "utf-8",
		  "\xa7\xda\xaa\xba\xa5\x52\xad\xc8\xa8\x53\xa6\xb3\xa8\xec\xb1\x62\xa1\x41\xbd\xd0\xc0"
		  "\xb0\xa7\xda\xac\x64\xa4\x40\xa4\x55\xa1\x43\xc1\xc2\xc1\xc2\xa1\x49", 38, 200, 0,
		  "\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe6\xb2\x92\xe6\x9c\x89\xe5\x88\xb0"
		  "\xe5\xb8\xb3\xef\xbc\x8c\xe8\xab\x8b\xe5\xb9\xab\xe6\x88\x91\xe6\x9f\xa5\xe4\xb8\x80"
		  "\xe4\xb8\x8b\xe3\x80\x82\xe8\xac\x9d\xe8\xac\x9d\xef\xbc\x81", 0, "BIG5-HKSCS" },
		{ "gb2312", "\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe6\xb2\xa1\xe6\x9c\x89\xe5\x88"
		  "\xb0\xe8\xb4\xa6", 24, 100, 0,
		  "\xe6\x88\x91\xe7\x9a\x84\xe5\x85\x85\xe5\x80\xbc\xe6\xb2\xa1\xe6\x9c\x89\xe5\x88"
		  "\xb0\xe8\xb4\xa6", 0, "UTF-8" },
		{ "iso-8859-1", "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen, sch\xc3\xb6n", 28, 100, 0,
		  "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen, sch\xc3\xb6n", 0, "UTF-8" },
		/* ... but Latin-1 that looks like Latin-1 stays it */
		{ "iso-8859-1", "Gr\xfc\xdf" "e aus M\xfcnchen, sch\xf6ne Gr\xfc\xdf" "e", 31, 100, 0,
		  "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen, sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f" "e", 0,
		  "WINDOWS-1252" },
		/* UTF-16 without a BOM: the byte order from the zero bytes */
		{ "utf-16", "\0H\0i", 4, 100, 0, "Hi", 0, "UTF-16" },
		{ "utf-32", "\0\0\0H\0\0\0i", 8, 100, 0, "Hi", 0, "UTF-32" },
		{ "utf-16le", "\xff\xfeH\0", 4, 100, 0, "H", 0, "UTF-16LE" },
		/* no label */
		{ NULL, "plain", 5, 100, 0, "plain", 0, "UTF-8" },
		{ NULL, "\xe4\xbd\xa0", 3, 100, 0, "\xe4\xbd\xa0", 0, "UTF-8" },
		{ NULL, "", 0, 100, 0, "", 0, "UTF-8" },
		{ NULL, "a\0b", 3, 100, 0, "ab", 1, "UTF-8" },
		{ "", "x", 1, 100, 0, "x", 0, "UTF-8" },
		{ NULL, "\x1b$B$3$s$K$A$O\x1b(B", 16, 100, 0,
		  "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf", 0, "ISO-2022-JP" },
		{ NULL, "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7\xa3\xa1\xce\xd2\xc3\xc7\xb5\xc4\xd5"
			"\xcb\xbb\xa7", 22, 100, 0,
		  "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81\xe6\x88\x91"
		  "\xe4\xbb\xac\xe7\x9a\x84\xe8\xb4\xa6\xe6\x88\xb7", 0, "GB18030" },
		/* no label, undetectable: valid parts kept, the rest replaced */
		{ NULL, "\x80\x81\xff", 3, 100, 0, FFFD FFFD FFFD, 1, "UTF-8" },
		/* unknown label: detection */
		{ "x-unknown", "hello", 5, 100, 0, "hello", 0, "UTF-8" },
		{ "unknown-8bit", "", 0, 100, 0, "", 0, "UTF-8" },
		{ "x-unknown", "\x80\x81\xff", 3, 100, -1, "unknown charset x-unknown", 0, NULL },
		{ "bad label\x01\xff", "\x80\x81\xff", 3, 100, -1, "unknown charset bad?label??", 0,
		  NULL },
	};
	test_begin("charset_to_utf8");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *out = (char *)"sentinel";
		size_t out_len = 99;
		int lossy = 99;
		const char *used = "sentinel", *error = NULL;
		int ret = charset_to_utf8(cases[i].label, (const unsigned char *)cases[i].in,
					  cases[i].len, cases[i].max, &out, &out_len, &lossy, &used,
					  &error);
		test_assert_int(ret, cases[i].ret);
		if (ret != cases[i].ret) {
			printf("  case %zu (label %s)\n", i, cases[i].label ? cases[i].label : "NULL");
		} else if (ret == 0) {
			test_assert_str(out, cases[i].want);
			test_assert_int(out_len, strlen(cases[i].want));
			test_assert_int(lossy, cases[i].lossy);
			test_assert_str(used, cases[i].used);
			if (strcmp(out, cases[i].want) != 0 || lossy != cases[i].lossy)
				printf("  case %zu (label %s)\n", i,
				       cases[i].label ? cases[i].label : "NULL");
		} else {
			test_assert(out == NULL);
			test_assert(used == NULL);
			test_assert(error != NULL && str_starts_with(error, cases[i].want));
			if (error != NULL && !str_starts_with(error, cases[i].want))
				printf("  case %zu: error \"%s\"\n", i, error);
		}
		if (ret == 0)
			free(out);
	}
}

/* Random bytes under many labels: always valid UTF-8, never a NUL, never
   more than max_out. */
static void
test_random(void)
{
	static const char *const labels[] = {
		NULL, "utf-8", "gbk", "big5", "shift_jis", "euc-jp", "iso-2022-jp", "euc-kr",
		"hz-gb-2312", "utf-16", "utf-7", "iso-8859-1", "koi8-r", "x-unknown", "iso-2022-kr",
		"utf-32",
	};
	uint32_t seed = 12345;
	unsigned char in[300];
	int bad = 0, bounded = 0;

	test_begin("charset_to_utf8 random");
	for (int round = 0; round < 400; round++) {
		size_t len = (size_t)(round % 300);
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			unsigned char b = (unsigned char)(seed >> 16);
			/* bias towards ESC, '~', '{' and '+' to reach the state machines */
			if ((seed >> 8) % 16 == 0)
				b = "\x1b$B(~{}+-"[(seed >> 4) % 9];
			in[k] = b;
		}
		for (size_t l = 0; l < N_ELEMENTS(labels); l++) {
			char *out;
			size_t out_len, max = (size_t)(round % 7 == 0 ? 50 : 4000);
			int lossy;
			const char *error;
			if (charset_to_utf8(labels[l], in, len, max, &out, &out_len, &lossy, NULL,
					    &error) < 0) {
				continue;
			}
			if (!utf8_valid((unsigned char *)out, out_len) || strlen(out) != out_len)
				bad++;
			if (out_len > max)
				bounded++;
			free(out);
		}
	}
	test_assert_int(bad, 0);
	test_assert_int(bounded, 0);
}

/* The label for a Python vector file name ("iso2022_jp.txt"). */
static void
vector_label(const char *file, char *label, size_t size)
{
	size_t n = strlen(file) - 4;
	if (n >= size)
		n = size - 1;
	memcpy(label, file, n);
	label[n] = '\0';
}

/* Codecs whose Python vectors we do not claim to decode, with why. Empty:
   every vector Python ships decodes byte-exact. */
static const struct {
	const char *codec;
	const char *why;
} unsupported[] = {
	{ NULL, NULL },
};

static int
is_unsupported(const char *label)
{
	for (size_t i = 0; i < N_ELEMENTS(unsupported); i++) {
		if (unsupported[i].codec != NULL && strcmp(unsupported[i].codec, label) == 0)
			return 1;
	}
	return 0;
}

/* Decode every <codec>.txt in dir with the label <codec> and compare with
   <codec>-utf8.txt. Returns the number of vectors found. */
static int
run_vectors(const char *dir, int *passed_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t n = strlen(name);
		if (n < 5 || strcmp(name + n - 4, ".txt") != 0 || strstr(name, "-utf8") != NULL ||
		    strcmp(name, "SOURCE.txt") == 0)
			continue;
		char label[64], *enc_path, *utf8_path;
		vector_label(name, label, sizeof(label));
		enc_path = xasprintf("%s/%s", dir, name);
		utf8_path = xasprintf("%s/%s-utf8.txt", dir, label);
		size_t enc_len, want_len;
		unsigned char *enc = test_read_file(enc_path, &enc_len);
		unsigned char *want = test_read_file(utf8_path, &want_len);
		free(enc_path);
		free(utf8_path);
		if (enc == NULL || want == NULL) {
			free(enc);
			free(want);
			continue;
		}
		found++;
		char *out = NULL;
		size_t out_len = 0;
		int lossy = 0;
		const char *used = NULL, *error = NULL;
		int ret = charset_to_utf8(label, enc, enc_len, 1 << 20, &out, &out_len, &lossy, &used,
					  &error);
		int ok = ret == 0 && !lossy && out_len == want_len && memcmp(out, want, want_len) == 0;
		if (ok) {
			(*passed_r)++;
		} else if (is_unsupported(label)) {
			printf("  vector %s: unsupported, as listed\n", label);
		} else {
			printf("FAIL vector %s/%s: ret %d lossy %d len %zu want %zu charset %s %s\n",
			       dir, label, ret, lossy, out_len, want_len, used ? used : "-",
			       ret < 0 ? error : "");
			test_failures++;
		}
		test_checks++;
		free(out);
		free(enc);
		free(want);
	}
	closedir(d);
	return found;
}

static void
test_vectors(void)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/tests/data/charset", top != NULL ? top : ".");
	int passed = 0, found;

	test_begin("codec vectors");
	found = run_vectors(dir, &passed);
	printf("tests/data/charset: %d of %d vectors decode byte-exact\n", passed, found);
	test_assert(found >= 6);
	free(dir);

	char *corpora = test_corpora_dir();
	if (corpora == NULL) {
		printf("corpora not found: python-cjk-codec-vectors not run\n");
		return;
	}
	dir = xasprintf("%s/mime/python-cjk-codec-vectors/cjkencodings", corpora);
	passed = 0;
	found = run_vectors(dir, &passed);
	printf("python-cjk-codec-vectors: %d of %d vectors decode byte-exact\n", passed, found);
	test_assert(found >= 15);
	free(dir);
	free(corpora);
}

int
main(void)
{
	test_resolve();
	test_resolve_fixed();
	test_detect();
	test_convert();
	test_random();
	test_vectors();
	return test_exit();
}
