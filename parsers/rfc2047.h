/*
 * rfc2047: header words. Decoding RFC 2047 encoded words and RFC 2231
 * parameter values to UTF-8, and (for outgoing mail) encoding UTF-8 text as
 * RFC 2047 encoded words. Pure functions; the caller owns returned strings.
 *
 * Why not libetpan's mailmime_encoded_phrase_parse(): it converts each
 * encoded word on its own, so a multibyte character split across two adjacent
 * encoded words (common from some Chinese webmail) is destroyed, and it does
 * not resolve charset labels the way mail clients do (gb2312 -> GB18030).
 * Here adjacent encoded words in the same charset are joined before
 * conversion, and labels go through charset_resolve().
 */
#ifndef DG_RFC2047_H
#define DG_RFC2047_H

#include <stddef.h>

/* Decode an unstructured header value (Subject, display names...).
   Encoded words are decoded (B and Q, any charset charset_resolve() knows;
   RFC 2231 language suffixes "=?utf-8*en?..." accepted); white space
   between adjacent encoded words is dropped; raw 8-bit bytes outside
   encoded words are taken as UTF-8 when valid, else detected. Folding
   (CRLF + WSP) is unfolded, and the result has no control characters
   (TAB becomes a space). Never fails: malformed words are kept literally.
   Output is cut on a character boundary at max_out bytes. */
char *rfc2047_decode(const char *value, size_t max_out);

/* Decode an RFC 2231 extended value "charset'lang'%E4%B8%AD" (the caller has
   already joined continuations name*0*, name*1* ...). A value without the
   charset'lang' prefix is percent-decoded as UTF-8. Returns NULL when it
   cannot be decoded. */
char *rfc2231_decode(const char *value, size_t max_out);

/* Encode UTF-8 text for a header as RFC 2047 encoded words when it is not
   plain printable ASCII; splits only on character boundaries, so that no
   encoded word exceeds 75 characters and lines fold at 78 columns given
   that the header name takes name_len columns. Control characters are
   removed. Returns the folded value (CRLF + space between lines). */
char *rfc2047_encode(const char *utf8, size_t name_len);

#endif
