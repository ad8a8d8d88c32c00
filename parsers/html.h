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

/* The events of a document as libxml2's recovering HTML parser reads it,
   for the modules that work on HTML without including libxml2
   (htmlsafe.h). Element names are in lower case (libxml2's); attrs holds
   name, value pairs and ends with NULL (a value may be NULL: an attribute
   without one); text comes in pieces, in UTF-8 as given (entities
   decoded). Comments, processing instructions and the doctype are not
   reported. Every element started is ended (the parser closes what the
   markup leaves open). A callback returning non-zero stops the walk. */
struct html_walker {
	int (*start)(void *ctx, const char *name, const char *const *attrs);
	int (*end)(void *ctx, const char *name);
	int (*text)(void *ctx, const char *s, size_t len);
	void *ctx;
};

/* Walk html[0..len) (UTF-8). 0, or -1 with *error_r when it cannot be
   parsed at all (too large, no parser). A walk stopped by a callback
   returns 0: the caller knows why it stopped. */
int html_walk(const char *html, size_t len, const struct html_walker *w, const char **error_r);

#endif
