/*
 * charset: everything becomes UTF-8. Uses iconv (glibc) for conversion and
 * uchardet for detection; both are included only by charset.c.
 *
 * Labels are resolved the way mail clients resolve them (the WHATWG Encoding
 * Standard's label table, which is what browsers and Thunderbird use):
 * gb2312/gbk/x-gbk/euc-cn read as GB18030, ks_c_5601-1987 and euc-kr as CP949,
 * iso-8859-1/us-ascii/latin1 as windows-1252, big5 as BIG5-HKSCS, shift_jis as
 * windows-31j (CP932), etc. Unknown or missing labels on 8-bit text are
 * detected with uchardet.
 *
 * All functions are pure: no I/O, no logging. Ownership: returned strings are
 * malloc'd and owned by the caller.
 */
#ifndef DG_CHARSET_H
#define DG_CHARSET_H

#include <stddef.h>

/* The iconv name to use for a MIME charset label (case-insensitive, quotes
   and white space ignored), or NULL when no decoder is known. "utf-8"
   returns "UTF-8". Names come from fixed tables (static storage): no
   label, however many a message carries, changes what later labels
   resolve to. */
const char *charset_resolve(const char *label);

/* uchardet's guess for 8-bit text, as an iconv name, or NULL. Pure ASCII
   returns "UTF-8". */
const char *charset_detect(const unsigned char *in, size_t len);

/* Convert in[0..len) to UTF-8.
   label: the declared charset, or NULL when none was declared. Text
   without a label, or under one nobody knows (X-UNKNOWN), is read as
   UTF-8 when it is valid UTF-8 and detected otherwise. Text that does not
   fit its label is read the way mail clients read it: several multi-byte
   UTF-8 characters and nothing invalid is UTF-8 whatever the label says;
   bytes invalid in the declared charset (or, under a Western single-byte
   label, long runs of 8-bit bytes) are read as what uchardet detects when
   that is not a Western single-byte charset and decodes them without an
   error; a broken UTF-8 that is Windows-1252 is Windows-1252. Otherwise
   the declared charset stays, invalid byte sequences become U+FFFD and
   *lossy_r is set to 1 (0 otherwise). *charset_used_r (may be NULL)
   receives the name used (static storage): the caller warns when it is
   not charset_resolve(label). UTF-16/32 honour a BOM and read the byte
   order from the zero bytes without one.
   The output is always valid UTF-8 with no NUL bytes. Returns 0 and
   *out_r (NUL-terminated, caller frees) / *out_len_r, or -1 with *error_r
   when the output would exceed max_out bytes or the text is in an unknown
   charset that is neither UTF-8 nor detected. */
int charset_to_utf8(const char *label, const unsigned char *in, size_t len, size_t max_out,
		    char **out_r, size_t *out_len_r, int *lossy_r,
		    const char **charset_used_r, const char **error_r);

/* in[0..len) as UTF-8 without any guessing: invalid sequences become
   U+FFFD (*lossy_r 1), a BOM and NUL bytes go. For text that is ours to
   clean (a header value being built, text to encode), not for mail. 0 and
   *out_r (caller frees), or -1 with *error_r when over max_out bytes. */
int charset_utf8_repair(const unsigned char *in, size_t len, size_t max_out, char **out_r,
			size_t *out_len_r, int *lossy_r, const char **error_r);

#endif
