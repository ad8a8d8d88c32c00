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
   returns "UTF-8". */
const char *charset_resolve(const char *label);

/* uchardet's guess for 8-bit text, as an iconv name, or NULL. Pure ASCII
   returns "UTF-8". */
const char *charset_detect(const unsigned char *in, size_t len);

/* Convert in[0..len) to UTF-8.
   label: the declared charset, or NULL when none was declared. An unknown
   label, or no label on text that is not valid UTF-8, falls back to
   detection.
   Invalid byte sequences are replaced with U+FFFD and *lossy_r is set to 1
   (0 otherwise); the output is always valid UTF-8 with no NUL bytes.
   Returns 0 and *out_r (NUL-terminated, caller frees) / *out_len_r, or -1
   with *error_r when the output would exceed max_out bytes or the text is
   in an unknown charset that detection cannot identify. *charset_used_r
   (may be NULL) receives the iconv name used (static storage). */
int charset_to_utf8(const char *label, const unsigned char *in, size_t len, size_t max_out,
		    char **out_r, size_t *out_len_r, int *lossy_r,
		    const char **charset_used_r, const char **error_r);

#endif
