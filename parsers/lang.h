/*
 * lang: which language to answer a customer in. The Content-Language
 * header first, then the text itself, then a fallback.
 *
 * Answers: "zh-CN" (simplified Chinese), "zh-TW" (traditional Chinese),
 * "ja", "ko", "en", "fr", "de", or the caller's fallback.
 *
 * - Content-Language: the first tag we know, normalised ("zh-Hant", "zh-HK"
 *   -> zh-TW; "zh-Hans", "zh-SG" -> zh-CN; "en-US" -> en; "zh" alone is
 *   settled by the text). It is overruled when the text plainly says
 *   otherwise, because mail clients stamp their own UI language on every
 *   mail (Outlook writes "en-US" on Chinese mail from an English Windows):
 *   a Latin-language tag over a mostly Chinese/Japanese/Korean text, or a
 *   CJK tag over a text with no CJK at all. A zh-CN/zh-TW tag over text
 *   whose characters clearly belong to the other script follows the text.
 * - Text: quoted history is left out ('>' lines, and everything after an
 *   attribution or separator such as "On ... wrote:", "-----Original
 *   Message-----", "发件人:", "Le ... a écrit :"); callers that have the
 *   output of quote_strip() should pass that instead. Scripts are counted:
 *   Hangul -> ko; kana (at least a tenth of the CJK characters) -> ja;
 *   other Han text -> zh, simplified vs traditional decided by counting
 *   characters that exist in only one of the two forms (们/們, 这/這,
 *   钱/錢 ... about 200 frequent pairs). Latin text is scored for en, fr
 *   and de by function words and diacritics (é è ç / ä ö ü ß).
 *
 * Why hand-written rather than libexttextcat (Debian's n-gram language
 * guesser): parsers/ is pure and libexttextcat loads its fingerprint files
 * from disk at run time, so it would need an adapter in gateway/ plus a
 * data package on every host; it guesses Chinese as one language (no
 * simplified/traditional split, which is the decision that matters most
 * here), and support mail is short and full of order ids and hashes, where
 * n-gram guessing is unreliable. Three Latin languages separate well on
 * function words.
 *
 * Pure: no I/O, no logging. Returned strings are static (or the caller's
 * fallback).
 */
#ifndef DG_LANG_H
#define DG_LANG_H

#include <stddef.h>

/* Where the answer came from, for logs and tests. */
enum lang_source { LANG_FROM_HEADER, LANG_FROM_TEXT, LANG_FROM_FALLBACK };

/* content_language: the header value or NULL; text: UTF-8 body text
   (text[0..len), need not be NUL-terminated, invalid bytes are skipped);
   fallback: returned when nothing is conclusive (may be NULL). */
const char *lang_detect(const char *content_language, const char *text, size_t len,
			const char *fallback, enum lang_source *source_r);

/* One BCP 47 tag normalised to the answers above ("zh-hant-hk" -> "zh-TW",
   "EN_us" -> "en"), "zh" for a bare "zh", or NULL when unsupported. */
const char *lang_normalize(const char *tag);

#endif
