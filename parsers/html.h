/*
 * html: HTML to readable plain text with libxml2's HTML parser (the only
 * module that includes libxml2). Block elements become line breaks,
 * paragraphs blank lines, list items "- ", links "text <url>" when the URL
 * differs from the text, images their alt text; script, style, head and
 * comments are dropped; entities decoded; runs of white space collapsed.
 * Pure: no I/O (no network entity loading), no logging.
 */
#ifndef DG_HTML_H
#define DG_HTML_H

#include <stddef.h>

/* html: UTF-8 HTML (convert it first). Returns 0 and *text_r (caller frees),
   or -1 with *error_r when the text would exceed max_out bytes or the
   document cannot be parsed at all. */
int html_to_text(const char *html, size_t len, size_t max_out, char **text_r, size_t *len_r,
		 const char **error_r);

#endif
