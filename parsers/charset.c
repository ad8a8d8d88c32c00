/*
 * charset: see charset.h. The conversion itself is glibc's iconv and the
 * guessing is uchardet's; this file adds the label table, the bounded
 * output with U+FFFD replacement, and small pieces for what glibc lacks.
 * Each of them hands bytes to an iconv codec, so the character tables stay
 * glibc's; only the framing is written here:
 *
 * - HZ (RFC 1843, "hz-gb-2312"): glibc has no HZ codec. ~{ ... ~} spans
 *   are turned into EUC-CN bytes and decoded as GB18030.
 * - ISO-2022-JP as Outlook and Japanese webmail write it (Microsoft's
 *   CP50221): glibc's ISO-2022-JP rejects the NEC row 13 characters
 *   (circled digits, roman numerals), the IBM extension rows and
 *   half-width katakana that these clients put in, and that WHATWG's
 *   decoder accepts. The escape sequences are followed here; JIS X 0208
 *   and 0212 pairs go to glibc's EUC-JP codec, the NEC/IBM rows to CP932.
 *   Text designating Chinese, Korean or Latin sets (ISO-2022-JP-2) goes to
 *   glibc's ISO-2022-JP-2 unchanged.
 * - EUC-KR "make-up sequences" (KS X 1001:1998 annex 3: HANGUL FILLER plus
 *   three jamo for a syllable outside the 2350 precomposed ones), which
 *   Python decodes and glibc does not; the syllable is composed here.
 * - Characters missing from one glibc table are looked up in a second
 *   (BIG5-HKSCS then CP950, EUC-JP then EUC-JP-MS), and UTF-16/32 without
 *   a BOM is read little-endian as WHATWG does, not in the host's order.
 */
#include "build-config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <uchardet/uchardet.h>

#include "parsers/charset.h"
#include "base/util.h"

/* Our decoder names that are not plain iconv codecs. */
#define CS_UTF8 "UTF-8"
#define CS_HZ "HZ-GB-2312"
#define CS_ISO2022JP "ISO-2022-JP"
#define CS_CP949 "CP949"
#define CS_WIN1252 "WINDOWS-1252"

/* Longest label looked up in the table or handed to iconv_open(). */
#define LABEL_MAX 40

/*
 * Label table. Compared case-insensitively, ignoring '-', '_' and ' ', so
 * "ISO_8859-1", "iso8859-1" and Python's "iso8859_1" are one entry; the
 * names are glibc iconv names (or one of the CS_ names above). After the
 * WHATWG Encoding Standard's table, except: us-ascii and latin1 read as
 * windows-1252 (as browsers do), euc-kr as CP949 plus make-up sequences,
 * and the codecs WHATWG maps to "replacement" (hz, iso-2022-kr/cn) are
 * decoded, since a mail gateway must read old mail rather than hide it.
 */
static const struct charset_label {
	const char *label;
	const char *name;
} charset_labels[] = {
	/* Unicode */
	{ "utf-8", CS_UTF8 },
	{ "unicode-1-1-utf-8", CS_UTF8 },
	{ "unicode11utf8", CS_UTF8 },
	{ "unicode20utf8", CS_UTF8 },
	{ "x-unicode20utf8", CS_UTF8 },
	{ "utf-7", "UTF-7" },
	{ "unicode-1-1-utf-7", "UTF-7" },
	{ "csunicode11utf7", "UTF-7" },
	/* UTF-16 and UTF-32 honour a BOM; without one the byte order is read
	   from the bytes (unicode_byte_order()). */
	{ "utf-16", "UTF-16" },
	{ "utf-16be", "UTF-16BE" },
	{ "utf-16le", "UTF-16LE" },
	{ "unicodefffe", "UTF-16BE" },
	{ "unicodefeff", "UTF-16LE" },
	{ "csunicode", "UTF-16LE" },
	{ "iso-10646-ucs-2", "UTF-16LE" },
	{ "ucs-2", "UTF-16LE" },
	{ "unicode", "UTF-16LE" },
	{ "utf-32", "UTF-32" },
	{ "utf-32be", "UTF-32BE" },
	{ "utf-32le", "UTF-32LE" },
	{ "ucs-4", "UTF-32" },
	/* Western: ASCII and Latin-1 labels mean windows-1252 in practice. */
	{ "us-ascii", CS_WIN1252 },
	{ "ascii", CS_WIN1252 },
	{ "ansi_x3.4-1968", CS_WIN1252 },
	{ "iso646-us", CS_WIN1252 },
	{ "csascii", CS_WIN1252 },
	{ "us", CS_WIN1252 },
	{ "iso-8859-1", CS_WIN1252 },
	{ "iso_8859-1:1987", CS_WIN1252 },
	{ "iso-ir-100", CS_WIN1252 },
	{ "csisolatin1", CS_WIN1252 },
	{ "latin1", CS_WIN1252 },
	{ "l1", CS_WIN1252 },
	{ "cp819", CS_WIN1252 },
	{ "ibm819", CS_WIN1252 },
	{ "cp1252", CS_WIN1252 },
	{ "windows-1252", CS_WIN1252 },
	{ "x-cp1252", CS_WIN1252 },
	/* ISO 8859 */
	{ "iso-8859-2", "ISO-8859-2" },
	{ "iso_8859-2:1987", "ISO-8859-2" },
	{ "iso-ir-101", "ISO-8859-2" },
	{ "csisolatin2", "ISO-8859-2" },
	{ "latin2", "ISO-8859-2" },
	{ "l2", "ISO-8859-2" },
	{ "iso-8859-3", "ISO-8859-3" },
	{ "iso_8859-3:1988", "ISO-8859-3" },
	{ "iso-ir-109", "ISO-8859-3" },
	{ "csisolatin3", "ISO-8859-3" },
	{ "latin3", "ISO-8859-3" },
	{ "l3", "ISO-8859-3" },
	{ "iso-8859-4", "ISO-8859-4" },
	{ "iso_8859-4:1988", "ISO-8859-4" },
	{ "iso-ir-110", "ISO-8859-4" },
	{ "csisolatin4", "ISO-8859-4" },
	{ "latin4", "ISO-8859-4" },
	{ "l4", "ISO-8859-4" },
	{ "iso-8859-5", "ISO-8859-5" },
	{ "iso_8859-5:1988", "ISO-8859-5" },
	{ "iso-ir-144", "ISO-8859-5" },
	{ "csisolatincyrillic", "ISO-8859-5" },
	{ "cyrillic", "ISO-8859-5" },
	{ "iso-8859-6", "ISO-8859-6" },
	{ "iso_8859-6:1987", "ISO-8859-6" },
	{ "iso-8859-6-e", "ISO-8859-6" },
	{ "iso-8859-6-i", "ISO-8859-6" },
	{ "iso-ir-127", "ISO-8859-6" },
	{ "csiso88596e", "ISO-8859-6" },
	{ "csiso88596i", "ISO-8859-6" },
	{ "csisolatinarabic", "ISO-8859-6" },
	{ "arabic", "ISO-8859-6" },
	{ "asmo-708", "ISO-8859-6" },
	{ "ecma-114", "ISO-8859-6" },
	{ "iso-8859-7", "ISO-8859-7" },
	{ "iso_8859-7:1987", "ISO-8859-7" },
	{ "iso-ir-126", "ISO-8859-7" },
	{ "csisolatingreek", "ISO-8859-7" },
	{ "ecma-118", "ISO-8859-7" },
	{ "elot_928", "ISO-8859-7" },
	{ "greek", "ISO-8859-7" },
	{ "greek8", "ISO-8859-7" },
	{ "sun_eu_greek", "ISO-8859-7" },
	{ "iso-8859-8", "ISO-8859-8" },
	{ "iso_8859-8:1988", "ISO-8859-8" },
	{ "iso-8859-8-e", "ISO-8859-8" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "iso-ir-138", "ISO-8859-8" },
	{ "csiso88598e", "ISO-8859-8" },
	{ "csiso88598i", "ISO-8859-8" },
	{ "csisolatinhebrew", "ISO-8859-8" },
	{ "hebrew", "ISO-8859-8" },
	{ "logical", "ISO-8859-8" },
	{ "visual", "ISO-8859-8" },
	{ "iso-8859-10", "ISO-8859-10" },
	{ "iso-ir-157", "ISO-8859-10" },
	{ "csisolatin6", "ISO-8859-10" },
	{ "latin6", "ISO-8859-10" },
	{ "l6", "ISO-8859-10" },
	{ "iso-8859-13", "ISO-8859-13" },
	{ "iso-8859-14", "ISO-8859-14" },
	{ "iso-8859-15", "ISO-8859-15" },
	{ "iso_8859-15", "ISO-8859-15" },
	{ "csisolatin9", "ISO-8859-15" },
	{ "latin9", "ISO-8859-15" },
	{ "l9", "ISO-8859-15" },
	{ "iso-8859-16", "ISO-8859-16" },
	/* WHATWG reads the Turkish and Thai ISO sets as their Windows supersets. */
	{ "iso-8859-9", "WINDOWS-1254" },
	{ "iso_8859-9:1989", "WINDOWS-1254" },
	{ "iso-ir-148", "WINDOWS-1254" },
	{ "csisolatin5", "WINDOWS-1254" },
	{ "latin5", "WINDOWS-1254" },
	{ "l5", "WINDOWS-1254" },
	{ "iso-8859-11", "WINDOWS-874" },
	{ "tis-620", "WINDOWS-874" },
	{ "dos-874", "WINDOWS-874" },
	{ "windows-874", "WINDOWS-874" },
	{ "cp874", "WINDOWS-874" },
	/* Windows code pages */
	{ "windows-1250", "WINDOWS-1250" },
	{ "cp1250", "WINDOWS-1250" },
	{ "x-cp1250", "WINDOWS-1250" },
	{ "windows-1251", "WINDOWS-1251" },
	{ "cp1251", "WINDOWS-1251" },
	{ "x-cp1251", "WINDOWS-1251" },
	{ "windows-1253", "WINDOWS-1253" },
	{ "cp1253", "WINDOWS-1253" },
	{ "x-cp1253", "WINDOWS-1253" },
	{ "windows-1254", "WINDOWS-1254" },
	{ "cp1254", "WINDOWS-1254" },
	{ "x-cp1254", "WINDOWS-1254" },
	{ "windows-1255", "WINDOWS-1255" },
	{ "cp1255", "WINDOWS-1255" },
	{ "x-cp1255", "WINDOWS-1255" },
	{ "windows-1256", "WINDOWS-1256" },
	{ "cp1256", "WINDOWS-1256" },
	{ "x-cp1256", "WINDOWS-1256" },
	{ "windows-1257", "WINDOWS-1257" },
	{ "cp1257", "WINDOWS-1257" },
	{ "x-cp1257", "WINDOWS-1257" },
	{ "windows-1258", "WINDOWS-1258" },
	{ "cp1258", "WINDOWS-1258" },
	{ "x-cp1258", "WINDOWS-1258" },
	/* Cyrillic and Mac */
	{ "koi8-r", "KOI8-R" },
	{ "koi", "KOI8-R" },
	{ "koi8", "KOI8-R" },
	{ "cskoi8r", "KOI8-R" },
	{ "koi8-u", "KOI8-U" },
	{ "koi8-ru", "KOI8-U" },
	{ "ibm866", "IBM866" },
	{ "cp866", "IBM866" },
	{ "866", "IBM866" },
	{ "csibm866", "IBM866" },
	{ "x-mac-cyrillic", "MAC-CYRILLIC" },
	{ "x-mac-ukrainian", "MAC-CYRILLIC" },
	{ "mac-cyrillic", "MAC-CYRILLIC" },
	{ "maccyrillic", "MAC-CYRILLIC" },
	{ "macintosh", "MACINTOSH" },
	{ "mac", "MACINTOSH" },
	{ "csmacintosh", "MACINTOSH" },
	{ "x-mac-roman", "MACINTOSH" },
	/* Simplified Chinese: every GB label reads as GB18030, its superset. */
	{ "gb18030", "GB18030" },
	{ "gb2312", "GB18030" },
	{ "gb_2312", "GB18030" },
	{ "gb_2312-80", "GB18030" },
	{ "gbk", "GB18030" },
	{ "x-gbk", "GB18030" },
	{ "euc-cn", "GB18030" },
	{ "cp936", "GB18030" },
	{ "ms936", "GB18030" },
	{ "windows-936", "GB18030" },
	{ "chinese", "GB18030" },
	{ "csgb2312", "GB18030" },
	{ "csiso58gb231280", "GB18030" },
	{ "iso-ir-58", "GB18030" },
	{ "hz-gb-2312", CS_HZ },
	{ "hz", CS_HZ },
	/* Traditional Chinese */
	{ "big5", "BIG5-HKSCS" },
	{ "big5-hkscs", "BIG5-HKSCS" },
	{ "cn-big5", "BIG5-HKSCS" },
	{ "csbig5", "BIG5-HKSCS" },
	{ "x-x-big5", "BIG5-HKSCS" },
	{ "cp950", "BIG5-HKSCS" },
	/* Japanese. Shift_JIS labels read as windows-31j (CP932): what
	   Windows and Japanese webmail write, ASCII in 0x5C/0x7E, NEC and IBM
	   extensions; both pass Python's shift_jis vectors. */
	{ "shift_jis", "CP932" },
	{ "sjis", "CP932" },
	{ "ms_kanji", "CP932" },
	{ "x-sjis", "CP932" },
	{ "windows-31j", "CP932" },
	{ "csshiftjis", "CP932" },
	{ "cswindows31j", "CP932" },
	{ "ms932", "CP932" },
	{ "cp932", "CP932" },
	{ "shift_jisx0213", "SHIFT_JISX0213" },
	{ "shift_jis-2004", "SHIFT_JISX0213" },
	{ "euc-jp", "EUC-JP" },
	{ "x-euc-jp", "EUC-JP" },
	{ "cseucpkdfmtjapanese", "EUC-JP" },
	{ "eucjp-ms", "EUC-JP-MS" },
	{ "euc-jisx0213", "EUC-JISX0213" },
	{ "euc-jis-2004", "EUC-JISX0213" },
	{ "iso-2022-jp", CS_ISO2022JP },
	{ "csiso2022jp", CS_ISO2022JP },
	{ "iso-2022-jp-1", CS_ISO2022JP },
	{ "iso-2022-jp-2", "ISO-2022-JP-2" },
	{ "csiso2022jp2", "ISO-2022-JP-2" },
	{ "iso-2022-jp-3", "ISO-2022-JP-3" },
	/* Korean */
	{ "euc-kr", CS_CP949 },
	{ "cseuckr", CS_CP949 },
	{ "ks_c_5601-1987", CS_CP949 },
	{ "ks_c_5601-1989", CS_CP949 },
	{ "ksc5601", CS_CP949 },
	{ "ksc_5601", CS_CP949 },
	{ "csksc56011987", CS_CP949 },
	{ "iso-ir-149", CS_CP949 },
	{ "korean", CS_CP949 },
	{ "windows-949", CS_CP949 },
	{ "cp949", CS_CP949 },
	{ "uhc", CS_CP949 },
	{ "iso-2022-kr", "ISO-2022-KR" },
	{ "csiso2022kr", "ISO-2022-KR" },
	{ "johab", "JOHAB" },
};

/* Compare a cleaned label with a table label, ignoring case, '-', '_' and
   ' '. */
static int
label_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-' || *a == '_' || *a == ' ')
			a++;
		while (*b == '-' || *b == '_' || *b == ' ')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		a++;
		b++;
	}
}

/* Copy label into clean[LABEL_MAX + 1] without surrounding white space and
   quotes and without an RFC 2231 language suffix ("utf-8*en"); -1 when the
   rest is empty, too long, or holds characters no charset name has. */
static int
label_clean(const char *label, char *clean)
{
	const char *s = label, *e;
	while (*s == ' ' || *s == '\t' || *s == '"' || *s == '\'' || *s == '\r' || *s == '\n')
		s++;
	e = s;
	while (*e != '\0' && *e != '*')
		e++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '"' || e[-1] == '\'' ||
			 e[-1] == '\r' || e[-1] == '\n'))
		e--;
	size_t len = (size_t)(e - s);
	if (len == 0 || len > LABEL_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return -1;
		clean[i] = c;
	}
	clean[len] = '\0';
	return 0;
}

/*
 * Charsets glibc decodes that the label table leaves out (DOS and IBM code
 * pages, Vietnamese, Armenian, Georgian, the rarer CJK forms): a fixed
 * table, so that no message can make the process keep names it sent (the
 * old table learnt up to 256 names for the life of the process; one
 * hostile message could fill it and leave every later message's unlisted
 * labels to detection). A name is used only when iconv_open() accepts it.
 */
static const struct charset_label charset_extras[] = {
	{ "cp437", "CP437" }, { "cp737", "CP737" }, { "cp775", "CP775" }, { "cp850", "CP850" },
	{ "cp852", "CP852" }, { "cp855", "CP855" }, { "cp857", "CP857" }, { "cp858", "CP858" },
	{ "cp860", "CP860" }, { "cp861", "CP861" }, { "cp862", "CP862" }, { "cp863", "CP863" },
	{ "cp864", "CP864" }, { "cp865", "CP865" }, { "cp869", "CP869" }, { "cp922", "CP922" },
	{ "cp1046", "CP1046" }, { "cp1124", "CP1124" }, { "cp1125", "CP1125" },
	{ "cp1129", "CP1129" }, { "cp1133", "CP1133" }, { "cp1161", "CP1161" },
	{ "cp1162", "CP1162" }, { "cp1163", "CP1163" }, { "ibm037", "IBM037" },
	{ "ibm273", "IBM273" }, { "ibm437", "IBM437" }, { "ibm500", "IBM500" },
	{ "ibm850", "IBM850" }, { "ibm852", "IBM852" }, { "ibm855", "IBM855" },
	{ "ibm865", "IBM865" }, { "ibm1047", "IBM1047" },
	{ "iso-2022-cn", "ISO-2022-CN" }, { "iso-2022-cn-ext", "ISO-2022-CN-EXT" },
	{ "johab", "JOHAB" }, { "euc-tw", "EUC-TW" }, { "tcvn5712-1", "TCVN5712-1" },
	{ "viscii", "VISCII" }, { "armscii-8", "ARMSCII-8" }, { "georgian-ps", "GEORGIAN-PS" },
	{ "georgian-academy", "GEORGIAN-ACADEMY" }, { "koi8-t", "KOI8-T" },
	{ "koi8-ru", "KOI8-RU" }, { "pt154", "PT154" }, { "rk1048", "RK1048" },
	{ "iso-8859-11", "ISO-8859-11" }, { "hp-roman8", "HP-ROMAN8" },
	{ "euc-jisx0213", "EUC-JISX0213" }, { "shift_jisx0213", "SHIFT_JISX0213" },
	{ "euc-jp-ms", "EUC-JP-MS" }, { "mac-uk", "MAC-UK" }, { "mac-sami", "MAC-SAMI" },
	{ "mac-is", "MAC-IS" }, { "mac-centraleurope", "MAC-CENTRALEUROPE" }, { "mik", "MIK" },
};

static const char *
iconv_probe(const char *clean)
{
	for (size_t i = 0; i < N_ELEMENTS(charset_extras); i++) {
		if (!label_equal(clean, charset_extras[i].label))
			continue;
		iconv_t cd = iconv_open("UTF-8", charset_extras[i].name);
		if (cd == (iconv_t)-1)
			return NULL;
		iconv_close(cd);
		return charset_extras[i].name;
	}
	return NULL;
}

/* Labels that no table or iconv knows but that name a well-known family
   ("eucgb2312_cn", Python's name for GB2312; "x-euc-kr-2"; "ms_big5"):
   reading them as that family beats guessing from a short header, where
   detection is weakest. Checked after the exact table and iconv. */
static const char *
family_guess(const char *clean)
{
	static const struct {
		const char *needle;
		const char *name;
	} families[] = {
		{ "gb18030", "GB18030" }, { "gb2312", "GB18030" }, { "gbk", "GB18030" },
		{ "big5", "BIG5-HKSCS" }, { "shift", "CP932" }, { "sjis", "CP932" },
		{ "euckr", "CP949" }, { "euc-kr", "CP949" }, { "ksc5601", "CP949" },
		{ "ks-c-5601", "CP949" }, { "ks_c_5601", "CP949" }, { "eucjp", "EUC-JP" },
		{ "euc-jp", "EUC-JP" }, { "utf8", CS_UTF8 }, { "utf-8", CS_UTF8 },
	};
	for (size_t i = 0; i < N_ELEMENTS(families); i++)
		if (strcasestr(clean, families[i].needle) != NULL)
			return families[i].name;
	return NULL;
}

const char *
charset_resolve(const char *label)
{
	char clean[LABEL_MAX + 1];

	if (label == NULL || label_clean(label, clean) < 0)
		return NULL;
	for (size_t i = 0; i < N_ELEMENTS(charset_labels); i++) {
		if (label_equal(clean, charset_labels[i].label))
			return charset_labels[i].name;
	}
	const char *name = iconv_probe(clean);
	if (name == NULL && strchr(clean, '_') != NULL) {
		for (char *p = clean; *p != '\0'; p++) {
			if (*p == '_')
				*p = '-';
		}
		name = iconv_probe(clean);
	}
	if (name == NULL)
		name = family_guess(clean);
	return name;
}

static int
has_8bit(const unsigned char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] >= 0x80)
			return 1;
	}
	return 0;
}

const char *
charset_detect(const unsigned char *in, size_t len)
{
	const char *name = NULL;

	if (len == 0)
		return CS_UTF8;
	uchardet_t ud = uchardet_new();
	if (ud == NULL)
		return NULL;
	if (uchardet_handle_data(ud, (const char *)in, len) == 0) {
		uchardet_data_end(ud);
		const char *guess = uchardet_get_charset(ud);
		if (guess == NULL || *guess == '\0') {
			/* No opinion: 7-bit text is ASCII, so UTF-8 reads it. */
			if (!has_8bit(in, len))
				name = CS_UTF8;
		} else if (strcasecmp(guess, "ASCII") == 0) {
			name = CS_UTF8;
		} else {
			name = charset_resolve(guess);
		}
	}
	uchardet_delete(ud);
	return name;
}

/* The output under construction: bounded, NUL bytes dropped. */
struct sink {
	struct buf b;
	int lossy;
	int overflow;
};

static int
sink_put(struct sink *s, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	const unsigned char *p = data, *end = p + len;
	while (p < end) {
		const unsigned char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
		if (buf_append(&s->b, p, n) < 0) {
			s->overflow = 1;
			return -1;
		}
		if (nul == NULL)
			break;
		s->lossy = 1;
		p = nul + 1;
	}
	return 0;
}

static int
sink_bad(struct sink *s)
{
	s->lossy = 1;
	return sink_put(s, "\xef\xbf\xbd", 3);
}

/* Length of the valid UTF-8 character at s, or 0. */
static size_t
utf8_char_len(const unsigned char *s, size_t len)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (n == 0 || n > len || !utf8_valid(s, n))
		return 0;
	return n;
}

static int
convert_utf8(const unsigned char *in, size_t len, struct sink *s)
{
	size_t i = 0, start = 0;

	if (len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0)
		i = start = 3;
	while (i < len) {
		size_t n = utf8_char_len(in + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		if (sink_put(s, in + start, i - start) < 0 || sink_bad(s) < 0)
			return -1;
		i++;
		start = i;
	}
	return sink_put(s, in + start, i - start);
}

/* glibc tables that lack characters browsers decode: the 7 Big5 codes
   that HKSCS-2008 dropped (among them U+FF0F FULLWIDTH SOLIDUS at A1FE)
   and the euro at A3E1, and EUC-JP's NEC row 13 and IBM rows (which
   WHATWG's jis0208 index has). A character the first table rejects is
   tried in the second before it becomes U+FFFD. */
static const struct {
	const char *name, *fallback;
} charset_fallbacks[] = {
	{ "BIG5-HKSCS", "CP950" },
	{ "EUC-JP", "EUC-JP-MS" },
};

/* Try the 2- or 3-byte character at *inp with the fallback converter. */
static int
try_fallback(iconv_t fb, char **inp, size_t *inleft, struct sink *s, int *done_r)
{
	*done_r = 0;
	if (fb == (iconv_t)-1 || *inleft < 2 || (unsigned char)**inp < 0x80)
		return 0;
	for (size_t n = 2; n <= 3 && n <= *inleft; n++) {
		char tmp[32], *p = *inp, *outp = tmp;
		size_t left = n, outleft = sizeof(tmp);
		iconv(fb, NULL, NULL, NULL, NULL);
		if (iconv(fb, &p, &left, &outp, &outleft) != (size_t)-1 && left == 0 && outp > tmp) {
			*done_r = 1;
			*inp += n;
			*inleft -= n;
			return sink_put(s, tmp, (size_t)(outp - tmp));
		}
	}
	return 0;
}

/* Decode in[0..len) with an open converter (and an optional fallback,
   else (iconv_t)-1); a code unit (a byte, or two or four for UTF-16/32)
   that starts an invalid or incomplete sequence becomes U+FFFD and
   decoding goes on after it. */
static int
convert_iconv_fb(iconv_t cd, iconv_t fb, size_t unit, const unsigned char *in, size_t len,
		 struct sink *s)
{
	char tmp[4096];
	char *inp = (char *)(uintptr_t)in;
	size_t inleft = len;

	while (inleft > 0) {
		char *outp = tmp;
		size_t outleft = sizeof(tmp);
		size_t ret = iconv(cd, &inp, &inleft, &outp, &outleft);
		int err = errno, done;
		if (sink_put(s, tmp, (size_t)(outp - tmp)) < 0)
			return -1;
		if (ret != (size_t)-1 || err == E2BIG)
			continue;
		/* EILSEQ, EINVAL (truncated at the end) or anything else. */
		if (err == EILSEQ) {
			if (try_fallback(fb, &inp, &inleft, s, &done) < 0)
				return -1;
			if (done)
				continue;
		}
		if (sink_bad(s) < 0)
			return -1;
		size_t skip = unit < inleft ? unit : inleft;
		inp += skip;
		inleft -= skip;
	}
	char *outp = tmp;
	size_t outleft = sizeof(tmp);
	iconv(cd, NULL, NULL, &outp, &outleft);
	return sink_put(s, tmp, (size_t)(outp - tmp));
}

static int
convert_iconv(iconv_t cd, size_t unit, const unsigned char *in, size_t len, struct sink *s)
{
	return convert_iconv_fb(cd, (iconv_t)-1, unit, in, len, s);
}

static int
convert_with(const char *name, const unsigned char *in, size_t len, struct sink *s,
	     const char **error_r)
{
	iconv_t cd = iconv_open("UTF-8", name), fb = (iconv_t)-1;
	if (cd == (iconv_t)-1) {
		*error_r = errf("charset %s: iconv_open: %s", name, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < N_ELEMENTS(charset_fallbacks); i++) {
		if (strcmp(name, charset_fallbacks[i].name) == 0)
			fb = iconv_open("UTF-8", charset_fallbacks[i].fallback);
	}
	size_t unit = 1;
	if (strncasecmp(name, "UTF-16", 6) == 0 || strncasecmp(name, "UCS-2", 5) == 0)
		unit = 2;
	else if (strncasecmp(name, "UTF-32", 6) == 0 || strncasecmp(name, "UCS-4", 5) == 0)
		unit = 4;
	int ret = convert_iconv_fb(cd, fb, unit, in, len, s);
	iconv_close(cd);
	if (fb != (iconv_t)-1)
		iconv_close(fb);
	if (ret < 0)
		*error_r = errf("decoded text exceeds %zu bytes", s->b.max);
	return ret;
}

/* Bytes no EUC codec accepts: they come out as U+FFFD. */
#define BAD_BYTE 0xff

/* RFC 1843 HZ to EUC-CN (ASCII stays, GB pairs get the high bit). */
static void
hz_to_euccn(const unsigned char *in, size_t len, struct buf *out)
{
	int gb = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = in[i];
		if (c == '~' && i + 1 < len) {
			unsigned char c2 = in[i + 1];
			if (c2 == '~' && !gb)
				buf_putc(out, '~');
			else if (c2 == '{' && !gb)
				gb = 1;
			else if (c2 == '}' && gb)
				gb = 0;
			else if (c2 == '\n' && !gb)
				; /* line continuation */
			else {
				buf_putc(out, BAD_BYTE);
				i++;
				continue;
			}
			i += 2;
		} else if (c >= 0x80) {
			buf_putc(out, BAD_BYTE);
			i++;
		} else if (!gb) {
			buf_putc(out, c);
			i++;
		} else if (c == '\n' || c == '\r') {
			/* Lenient: a line end closes an unterminated GB span. */
			gb = 0;
			buf_putc(out, c);
			i++;
		} else if (i + 1 < len && c >= 0x21 && c <= 0x7e && in[i + 1] >= 0x21 && in[i + 1] <= 0x7e) {
			buf_putc(out, (unsigned char)(c | 0x80));
			buf_putc(out, (unsigned char)(in[i + 1] | 0x80));
			i += 2;
		} else {
			buf_putc(out, BAD_BYTE);
			i++;
		}
	}
}

/* Put a code point as UTF-8. */
static int
sink_cp(struct sink *s, uint32_t cp)
{
	unsigned char u[3];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	}
	return sink_put(s, u, n);
}

enum jis_set { JIS_ASCII, JIS_ROMAN, JIS_KANA, JIS_0208, JIS_0212, JIS_1990 };

static const struct {
	const char *seq; /* after ESC */
	enum jis_set set;
} jis_escapes[] = {
	{ "(B", JIS_ASCII }, { "(J", JIS_ROMAN }, { "(H", JIS_ROMAN }, { "(I", JIS_KANA },
	{ "$@", JIS_0208 },  { "$B", JIS_0208 },  { "$(B", JIS_0208 }, { "$(D", JIS_0212 },
	{ "&@", JIS_1990 }, /* only announces JIS X 0208-1990 */
};

/* The escape sequence at in[0] (ESC): its index in jis_escapes, -1 for an
   unknown one that designates some other set (ISO-2022-JP-2), -2 for a
   stray ESC. */
static int
jis_escape(const unsigned char *in, size_t len)
{
	for (size_t k = 0; k < N_ELEMENTS(jis_escapes); k++) {
		size_t n = strlen(jis_escapes[k].seq);
		if (len - 1 >= n && memcmp(in + 1, jis_escapes[k].seq, n) == 0)
			return (int)k;
	}
	if (len > 1 && (in[1] == '$' || in[1] == '(' || in[1] == '.' || in[1] == 'N'))
		return -1;
	return -2;
}

/* Pending double-byte text, converted in runs by one of two codecs. */
struct jis_run {
	iconv_t cd[2]; /* EUC-JP, CP932 */
	struct buf b;
	int which;
};

static int
jis_run_flush(struct jis_run *r, struct sink *s)
{
	if (r->b.len == 0)
		return 0;
	int ret = convert_iconv(r->cd[r->which], 1, r->b.data, r->b.len, s);
	buf_reset(&r->b);
	return ret;
}

static int
jis_run_put(struct jis_run *r, struct sink *s, int which, const unsigned char *bytes, size_t n)
{
	if (which != r->which && jis_run_flush(r, s) < 0)
		return -1;
	r->which = which;
	if (buf_append(&r->b, bytes, n) < 0 && (jis_run_flush(r, s) < 0 || buf_append(&r->b, bytes, n) < 0))
		return -1;
	return 0;
}

/* One JIS X 0208 or 0212 character. NEC row 13 and the NEC-selected IBM
   extensions (rows 89-92) exist only in Microsoft's tables: they go to
   CP932 as Shift_JIS bytes; everything else to EUC-JP, whose glibc table
   maps 0x2141 to WAVE DASH as WHATWG and Python do. */
static int
jis_pair(struct jis_run *r, struct sink *s, enum jis_set set, unsigned char j1, unsigned char j2)
{
	unsigned char b[3];
	if (set == JIS_0212) {
		b[0] = 0x8f;
		b[1] = (unsigned char)(j1 | 0x80);
		b[2] = (unsigned char)(j2 | 0x80);
		return jis_run_put(r, s, 0, b, 3);
	}
	if (j1 == 0x2d || (j1 >= 0x79 && j1 <= 0x7c)) {
		b[0] = (unsigned char)(((j1 + 1) >> 1) + (j1 <= 0x5e ? 0x70 : 0xb0));
		b[1] = (unsigned char)(j2 + ((j1 & 1) ? (j2 >= 0x60 ? 0x20 : 0x1f) : 0x7e));
		return jis_run_put(r, s, 1, b, 2);
	}
	b[0] = (unsigned char)(j1 | 0x80);
	b[1] = (unsigned char)(j2 | 0x80);
	return jis_run_put(r, s, 0, b, 2);
}

/* ISO-2022-JP as Microsoft's CP50221 writes it: JIS X 0208 with the NEC
   and IBM rows, JIS X 0201 katakana by escape, SO/SI or 8-bit bytes, and
   JIS X 0212. Lenient: a line end returns to ASCII. */
static int
iso2022jp_decode(struct jis_run *r, const unsigned char *in, size_t len, struct sink *s)
{
	enum jis_set set = JIS_ASCII, saved = JIS_ASCII;
	size_t i = 0;
	int ret = 0;

	while (i < len && ret == 0) {
		unsigned char c = in[i];
		int k;
		if (c == 0x1b && (k = jis_escape(in + i, len - i)) >= 0) {
			if (jis_escapes[k].set != JIS_1990)
				set = jis_escapes[k].set;
			i += 1 + strlen(jis_escapes[k].seq);
			continue;
		}
		if (c == 0x0e || c == 0x0f) { /* SO, SI (CP50222) */
			if (c == 0x0e && set != JIS_KANA) {
				saved = set;
				set = JIS_KANA;
			} else if (c == 0x0f && set == JIS_KANA) {
				set = saved;
			}
			i++;
			continue;
		}
		if ((set == JIS_0208 || set == JIS_0212) && c >= 0x21 && c <= 0x7e && i + 1 < len &&
		    in[i + 1] >= 0x21 && in[i + 1] <= 0x7e) {
			ret = jis_pair(r, s, set, c, in[i + 1]);
			i += 2;
			continue;
		}
		ret = jis_run_flush(r, s);
		if (ret < 0)
			break;
		if (c >= 0xa1 && c <= 0xdf) {
			ret = sink_cp(s, 0xff61u + (c - 0xa1u));
		} else if (c == '\n' || c == '\r') {
			set = JIS_ASCII;
			ret = sink_cp(s, c);
		} else if (c >= 0x80 || c == 0x1b || set == JIS_0208 || set == JIS_0212) {
			ret = sink_bad(s);
		} else if (set == JIS_KANA) {
			ret = c >= 0x21 && c <= 0x5f ? sink_cp(s, 0xff61u + (c - 0x21u)) : sink_bad(s);
		} else if (set == JIS_ROMAN && c == 0x5c) {
			ret = sink_cp(s, 0xa5);
		} else if (set == JIS_ROMAN && c == 0x7e) {
			ret = sink_cp(s, 0x203e);
		} else {
			ret = sink_cp(s, c);
		}
		i++;
	}
	if (ret == 0)
		ret = jis_run_flush(r, s);
	return ret;
}

static int
convert_iso2022jp(const unsigned char *in, size_t len, struct sink *s, const char **error_r)
{
	struct jis_run r;
	const unsigned char *p = in, *end = in + len;
	int ret;

	/* Designations of Chinese, Korean or Latin sets: ISO-2022-JP-2. */
	while (p < end && (p = memchr(p, 0x1b, (size_t)(end - p))) != NULL) {
		if (jis_escape(p, (size_t)(end - p)) == -1)
			return convert_with("ISO-2022-JP-2", in, len, s, error_r);
		p++;
	}
	r.cd[0] = iconv_open("UTF-8", "EUC-JP");
	r.cd[1] = iconv_open("UTF-8", "CP932");
	if (r.cd[0] == (iconv_t)-1 || r.cd[1] == (iconv_t)-1) {
		*error_r = errf("charset %s: iconv_open: %s", CS_ISO2022JP, strerror(errno));
		ret = -2;
	} else {
		buf_init(&r.b, 4096);
		r.which = 0;
		ret = iso2022jp_decode(&r, in, len, s);
		buf_free(&r.b);
	}
	for (size_t k = 0; k < 2; k++) {
		if (r.cd[k] != (iconv_t)-1)
			iconv_close(r.cd[k]);
	}
	if (ret == -1)
		*error_r = errf("decoded text exceeds %zu bytes", s->b.max);
	return ret < 0 ? -1 : 0;
}

/* HZ through GB18030. The intermediate is never longer than the input. */
static int
convert_hz(const unsigned char *in, size_t len, struct sink *s, const char **error_r)
{
	struct buf tmp;
	int ret;

	buf_init(&tmp, len);
	hz_to_euccn(in, len, &tmp);
	ret = convert_with("GB18030", tmp.data, tmp.len, s, error_r);
	buf_free(&tmp);
	return ret;
}

/* KS X 1001 jamo (0xA4A1..0xA4BE) as Unicode initial and final consonant
   indexes; 0xff where that jamo cannot take the position. */
static const unsigned char ksx_choseong[30] = {
	0, 1, 0xff, 2, 0xff, 0xff, 3, 4, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 6, 7, 8, 0xff, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
};
static const unsigned char ksx_jongseong[30] = {
	1, 2, 3, 4, 5, 6, 7, 0xff, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 0xff, 18, 19, 20, 21, 22, 0xff, 23, 24, 25, 26, 27,
};

/* The syllable of a make-up sequence A4D4 A4xx A4yy A4zz at p, or 0. */
static uint32_t
euckr_makeup(const unsigned char *p)
{
	if (p[0] != 0xa4 || p[1] != 0xd4 || p[2] != 0xa4 || p[4] != 0xa4 || p[6] != 0xa4)
		return 0;
	if (p[3] < 0xa1 || p[3] > 0xbe || p[5] < 0xbf || p[5] > 0xd3)
		return 0;
	unsigned cho = ksx_choseong[p[3] - 0xa1], jung = p[5] - 0xbfu, jong;
	if (p[7] == 0xd4)
		jong = 0;
	else if (p[7] >= 0xa1 && p[7] <= 0xbe)
		jong = ksx_jongseong[p[7] - 0xa1];
	else
		return 0;
	if (cho == 0xff || jong == 0xff)
		return 0;
	return 0xac00 + (cho * 21 + jung) * 28 + jong;
}

static int
convert_cp949(const unsigned char *in, size_t len, struct sink *s, const char **error_r)
{
	iconv_t cd = iconv_open("UTF-8", CS_CP949);
	size_t i = 0, start = 0;
	int ret = 0;

	if (cd == (iconv_t)-1) {
		*error_r = errf("charset %s: iconv_open: %s", CS_CP949, strerror(errno));
		return -1;
	}
	while (i < len && ret == 0) {
		uint32_t cp;
		if (in[i] < 0x81 || in[i] == 0xff || i + 1 == len) {
			i++;
		} else if (len - i >= 8 && (cp = euckr_makeup(in + i)) != 0) {
			unsigned char u[3] = { (unsigned char)(0xe0 | (cp >> 12)),
					       (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
					       (unsigned char)(0x80 | (cp & 0x3f)) };
			ret = convert_iconv(cd, 1, in + start, i - start, s);
			if (ret == 0)
				ret = sink_put(s, u, sizeof(u));
			i += 8;
			start = i;
		} else {
			i += 2;
		}
	}
	if (ret == 0)
		ret = convert_iconv(cd, 1, in + start, len - start, s);
	iconv_close(cd);
	if (ret < 0)
		*error_r = errf("decoded text exceeds %zu bytes", s->b.max);
	return ret;
}

/* glibc reads UTF-16/32 without a BOM in the host's byte order. A BOM
   decides when there is one (glibc then drops it). Without one, the byte
   order is where the zero bytes stand (ASCII text in UTF-16BE has them
   at even offsets, a code point in UTF-32BE always starts with one):
   Java and RFC 2781 write big-endian, Windows and .NET little-endian
   (WHATWG's default, and ours when the bytes do not tell). */
static const char *
unicode_byte_order(const char *cs, const unsigned char *in, size_t len)
{
	size_t be = 0, le = 0;
	if (strcmp(cs, "UTF-16") == 0) {
		if (len >= 2 && ((in[0] == 0xfe && in[1] == 0xff) || (in[0] == 0xff && in[1] == 0xfe)))
			return cs;
		for (size_t i = 0; i + 1 < len; i += 2) {
			be += in[i] == 0 && in[i + 1] != 0;
			le += in[i] != 0 && in[i + 1] == 0;
		}
		return be > le ? "UTF-16BE" : "UTF-16LE";
	}
	if (len >= 4 && ((in[0] == 0 && in[1] == 0 && in[2] == 0xfe && in[3] == 0xff) ||
			 (in[0] == 0xff && in[1] == 0xfe && in[2] == 0 && in[3] == 0)))
		return cs;
	for (size_t i = 0; i + 3 < len; i += 4) {
		be += in[i] == 0 && in[i + 3] != 0;
		le += in[i] != 0 && in[i + 3] == 0;
	}
	return be > le ? "UTF-32BE" : "UTF-32LE";
}

/* The length of a byte order mark that in starts with when it matches the
   explicit byte order of cs (UTF-16LE...), else 0: glibc would keep it as
   U+FEFF, a character nobody wrote. */
static size_t
unicode_bom_len(const char *cs, const unsigned char *in, size_t len)
{
	static const struct {
		const char *name;
		const char *bom;
		size_t len;
	} boms[] = {
		{ "UTF-16BE", "\xfe\xff", 2 },
		{ "UTF-16LE", "\xff\xfe", 2 },
		{ "UTF-32BE", "\0\0\xfe\xff", 4 },
		{ "UTF-32LE", "\xff\xfe\0\0", 4 },
	};
	for (size_t i = 0; i < N_ELEMENTS(boms); i++)
		if (strcmp(cs, boms[i].name) == 0 && len >= boms[i].len &&
		    memcmp(in, boms[i].bom, boms[i].len) == 0)
			return boms[i].len;
	return 0;
}

/* Labels that promise 7-bit text: 8-bit bytes under them are usually
   UTF-8 from a client that did not say so. */
static int
label_is_ascii(const char *label)
{
	char clean[LABEL_MAX + 1];
	static const char *const names[] = { "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us",
					     "csascii", "us" };
	if (label_clean(label, clean) < 0)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		if (label_equal(clean, names[i]))
			return 1;
	}
	return 0;
}

/* An ISO 2022 designation (ESC $ or ESC (): 7-bit text that is not ASCII. */
static int
has_iso2022_escape(const unsigned char *in, size_t len)
{
	if (len == 0)
		return 0;
	const unsigned char *p = in, *end = in + len;
	while (p < end && (p = memchr(p, 0x1b, (size_t)(end - p))) != NULL) {
		if (end - p >= 3 && (p[1] == '$' || p[1] == '('))
			return 1;
		p++;
	}
	return 0;
}

static const char *
label_for_error(const char *label)
{
	char safe[LABEL_MAX + 4];
	size_t i;
	for (i = 0; label[i] != '\0' && i < LABEL_MAX; i++)
		safe[i] = label[i] > 0x20 && label[i] < 0x7f ? label[i] : '?';
	if (label[i] != '\0') {
		memcpy(safe + i, "...", 3);
		i += 3;
	}
	safe[i] = '\0';
	return errf("%s", safe);
}

/* Decode in[0..len) as cs into a fresh sink of at most max_out bytes;
   -1 with *error_r when it does not fit (or a codec is missing). */
static int
convert_as(const char *cs, const unsigned char *in, size_t len, size_t max_out, struct sink *s,
	   const char **error_r)
{
	int ret;
	buf_init(&s->b, max_out);
	s->lossy = 0;
	s->overflow = 0;
	if (strcmp(cs, CS_UTF8) == 0) {
		ret = convert_utf8(in, len, s);
		if (ret < 0)
			*error_r = errf("decoded text exceeds %zu bytes", max_out);
	} else if (strcmp(cs, CS_HZ) == 0) {
		ret = convert_hz(in, len, s, error_r);
	} else if (strcmp(cs, CS_ISO2022JP) == 0) {
		ret = convert_iso2022jp(in, len, s, error_r);
	} else if (strcmp(cs, CS_CP949) == 0) {
		ret = convert_cp949(in, len, s, error_r);
	} else if (strcmp(cs, "UTF-16") == 0 || strcmp(cs, "UTF-32") == 0) {
		ret = convert_with(unicode_byte_order(cs, in, len), in, len, s, error_r);
	} else if (unicode_bom_len(cs, in, len) > 0) {
		size_t bom = unicode_bom_len(cs, in, len);
		ret = convert_with(cs, in + bom, len - bom, s, error_r);
	} else {
		ret = convert_with(cs, in, len, s, error_r);
	}
	if (ret == 0 && !utf8_valid(s->b.data != NULL ? s->b.data : (const unsigned char *)"", s->b.len)) {
		/* iconv only writes valid UTF-8; never hand out anything else. */
		struct sink again;
		buf_init(&again.b, max_out);
		again.lossy = again.overflow = 0;
		ret = convert_utf8(s->b.data, s->b.len, &again);
		buf_free(&s->b);
		s->b = again.b;
		s->lossy = 1;
		if (ret < 0)
			*error_r = errf("decoded text exceeds %zu bytes", max_out);
	}
	if (ret < 0)
		buf_free(&s->b);
	return ret;
}

/* Multi-byte characters in in[0..len), valid ones only. */
static size_t
utf8_multibyte_count(const unsigned char *in, size_t len)
{
	size_t count = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(in + i, len - i);
		count += n > 1;
		i += n > 0 ? n : 1;
	}
	return count;
}

static int
is_ascii_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Text under a UTF-8 label that is Windows-1252 ("Envoy\xe9 de mon
 * iPhone"): not one valid multi-byte UTF-8 character, every byte that
 * breaks UTF-8 is a character of Windows-1252 (not 0xFE/0xFF, which no
 * Western text has), and one of them ends or continues a word (an ASCII
 * letter before it, something after it). A few broken bytes in real
 * UTF-8, a sequence cut at the end or binary junk stay UTF-8 with U+FFFD.
 */
static int
broken_utf8_is_cp1252(const unsigned char *in, size_t len)
{
	int word = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(in + i, len - i);
		if (n > 1)
			return 0;
		if (n == 1) {
			i++;
			continue;
		}
		unsigned char c = in[i];
		if (c < 0x80 || c > 0xfd || c == 0x81 || c == 0x8d || c == 0x8f || c == 0x90 ||
		    c == 0x9d)
			return 0;
		if (i > 0 && is_ascii_letter(in[i - 1]) && i + 1 < len)
			word = 1;
		i++;
	}
	return word;
}

/*
 * Text under a Western single-byte label (Latin-1, Windows-1252,
 * ISO-8859-x) that reads as another charset: Western text has its 8-bit
 * letters one or two at a time between ASCII letters, text in a
 * multi-byte charset (GB2312, Big5, Shift_JIS, UTF-8) or a Cyrillic or
 * Greek one has long runs of them. At least 8 bytes with the high bit,
 * four in five of them in runs of four or more.
 */
static int
single_byte_implausible(const char *cs, const unsigned char *in, size_t len)
{
	if (strcmp(cs, CS_WIN1252) != 0 && strncmp(cs, "ISO-8859-", 9) != 0)
		return 0;
	size_t high = 0, in_runs = 0;
	for (size_t i = 0; i < len;) {
		size_t run = 0;
		while (i + run < len && in[i + run] >= 0x80)
			run++;
		if (run == 0) {
			i++;
			continue;
		}
		high += run;
		if (run >= 4)
			in_runs += run;
		i += run;
	}
	return high >= 8 && in_runs * 5 >= high * 4;
}

/* Latin-script single-byte charsets: what uchardet names for short or
   ambiguous text, so never a better reading of text declared otherwise. */
static int
is_western(const char *cs)
{
	static const char *const names[] = {
		CS_WIN1252,	 "WINDOWS-1250", "WINDOWS-1254", "WINDOWS-1257",
		"MAC-CENTRALEUROPE", "MACINTOSH", "ISO-8859-1", "ISO-8859-2",
		"ISO-8859-3",	 "ISO-8859-4",	 "ISO-8859-9",	 "ISO-8859-10",
		"ISO-8859-13",	 "ISO-8859-14",	 "ISO-8859-15",	 "ISO-8859-16",
	};
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (strcmp(cs, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * When the bytes do not fit the declared charset cs, what mail clients
 * would read them as, or NULL to keep cs (with U+FFFD where they break):
 * - UTF-8 when they are valid UTF-8 (a GB2312 or Latin-1 label on UTF-8);
 * - what uchardet detects from at least eight 8-bit bytes, when it is not
 *   a Western single-byte charset and the bytes decode in it without one
 *   error (an ISO-8859-1 label on GB2312, a UTF-8 label on Big5);
 * - under a UTF-8 label, Windows-1252 when the bytes are that.
 */
static const char *
fallback_charset(const char *cs, const unsigned char *in, size_t len)
{
	if (strcmp(cs, CS_UTF8) != 0 && utf8_valid(in, len) && !has_iso2022_escape(in, len))
		return CS_UTF8;
	/* uchardet needs something to go on: a guess from fewer than eight
	   8-bit bytes is noise */
	size_t high = 0;
	for (size_t i = 0; i < len; i++)
		high += in[i] >= 0x80;
	const char *guess = high >= 8 ? charset_detect(in, len) : NULL;
	if (guess != NULL && strcmp(guess, cs) != 0 && strcmp(guess, CS_UTF8) != 0 &&
	    !is_western(guess)) {
		struct sink t;
		const char *ignored;
		if (convert_as(guess, in, len, len * 4 + 64, &t, &ignored) == 0) {
			int clean = !t.lossy;
			buf_free(&t.b);
			if (clean)
				return guess;
		}
	}
	if (strcmp(cs, CS_UTF8) == 0 && broken_utf8_is_cp1252(in, len))
		return CS_WIN1252;
	return NULL;
}

int
charset_to_utf8(const char *label, const unsigned char *in, size_t len, size_t max_out,
		char **out_r, size_t *out_len_r, int *lossy_r,
		const char **charset_used_r, const char **error_r)
{
	const char *cs = NULL;
	struct sink s;
	int ret;

	*out_r = NULL;
	*out_len_r = 0;
	*lossy_r = 0;
	if (in == NULL)
		in = (const unsigned char *)"";
	if (charset_used_r != NULL)
		*charset_used_r = NULL;

	if (label != NULL) {
		const char *p = label;
		while (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')
			p++;
		if (*p == '\0')
			label = NULL;
	}
	int declared = 0;
	if (label != NULL && (cs = charset_resolve(label)) != NULL) {
		declared = 1;
		/* 8-bit bytes under an ASCII label, and text with several
		   multi-byte characters that is all valid UTF-8 under any other
		   (GB2312, Latin-1), are UTF-8 from a client that did not say
		   so: no text in those charsets is valid UTF-8 by chance */
		if (has_8bit(in, len) && strncmp(cs, "UTF-", 4) != 0 && utf8_valid(in, len) &&
		    (label_is_ascii(label) || utf8_multibyte_count(in, len) >= 4))
			cs = CS_UTF8;
	} else if (utf8_valid(in, len) && !has_iso2022_escape(in, len)) {
		/* no label, or one nobody knows (X-UNKNOWN): strict UTF-8 first,
		   statistics only for what is not UTF-8 */
		cs = CS_UTF8;
	} else {
		cs = charset_detect(in, len);
		if (cs == NULL && label != NULL) {
			*error_r = errf("unknown charset %s", label_for_error(label));
			return -1;
		}
		/* Nothing better: keep the valid UTF-8, replace the rest. */
		if (cs == NULL)
			cs = CS_UTF8;
	}

	ret = convert_as(cs, in, len, max_out, &s, error_r);
	if (ret == 0 && declared && has_8bit(in, len) &&
	    (s.lossy || single_byte_implausible(cs, in, len))) {
		const char *alt = fallback_charset(cs, in, len);
		struct sink t;
		const char *ignored;
		if (alt != NULL && convert_as(alt, in, len, max_out, &t, &ignored) == 0) {
			buf_free(&s.b);
			s = t;
			cs = alt;
		}
	}
	if (ret < 0)
		return -1;
	*out_r = buf_steal(&s.b, out_len_r);
	*lossy_r = s.lossy;
	if (charset_used_r != NULL)
		*charset_used_r = cs;
	return 0;
}

int
charset_utf8_repair(const unsigned char *in, size_t len, size_t max_out, char **out_r,
		    size_t *out_len_r, int *lossy_r, const char **error_r)
{
	struct sink s;
	*out_r = NULL;
	*out_len_r = 0;
	*lossy_r = 0;
	if (convert_as(CS_UTF8, in != NULL ? in : (const unsigned char *)"", len, max_out, &s,
		       error_r) < 0)
		return -1;
	*out_r = buf_steal(&s.b, out_len_r);
	*lossy_r = s.lossy;
	return 0;
}
