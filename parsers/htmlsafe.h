/*
 * htmlsafe: an agent's HTML reply made fit to relay to a customer: the
 * markup sanitised by an allow-list, the quoted history and signature cut,
 * the agent's command lines taken out.
 *
 * Reads the document with html_walk() (libxml2's recovering HTML parser,
 * html.h) and writes a new, well-formed document from what it allows:
 * - elements: text formatting, paragraphs, lists, tables, links, images
 *   (the list is in htmlsafe.c); script, style, head, iframe, frame,
 *   object, embed, applet, form and its controls, svg, math, audio, video,
 *   canvas, noscript, template, link, meta and base are dropped with all
 *   they hold; any other element is unwrapped (its content kept);
 * - attributes: presentation only (dir, lang, title, align, valign,
 *   width, height, border, cellpadding, cellspacing, bgcolor, colspan,
 *   rowspan, color, face, size, span, start, type, alt, style), no event
 *   handlers, no id or class; values over HTMLSAFE_MAX_ATTR bytes dropped;
 * - style: dropped whole when it could load or run anything or overlay the
 *   page (url(, @import, expression, javascript, behavior, binding, image-set,
 *   position, escapes, comments);
 * - links: href kept when it is http, https or mailto (white space and
 *   control characters inside the scheme do not hide "javascript:");
 * - images: a cid: src naming one of the caller's inline parts is kept
 *   (reported in cids, to go with the mail as a multipart/related part);
 *   any other (remote, data:) image is replaced by its alt text, so opening
 *   the mail tells nobody it was read.
 * Quotes and signatures, as the common clients mark them:
 * - history from here to the end: Outlook's divRplyFwdMsg (and x_ form),
 *   appendonsend, the "border-top:solid #E1E1E1" (#B5C4DF) separator, a
 *   "From: / Sent:" header block (also Von/Gesendet, De/Envoyé, 发件人),
 *   with the <hr> just above; a "-- " line; a line starting with one of
 *   the caller's cut_lines (the agent's signature);
 * - blocks removed when nothing the writer wrote follows them: Gmail's
 *   gmail_quote / gmail_attr, Apple Mail's and Thunderbird's
 *   blockquote type=cite, moz-cite-prefix, Yahoo's yahoo_quoted, and the
 *   signatures gmail_signature, moz-signature, id=Signature; a quote
 *   between two pieces of the writer's text is an inline answer and kept.
 * A line (text between block boundaries or <br>) whose text equals one of
 * drop_lines (the agent's commands) is removed.
 *
 * Pure: no I/O, no logging. Hand-written on top of libxml2's parser: no
 * maintained C library sanitises HTML by an allow-list (the known ones are
 * DOMPurify in JavaScript, bleach/nh3 in Python, sanitize in Ruby).
 *
 * Ownership: htmlsafe_clean() fills *res; free it with
 * htmlsafe_result_clear().
 */
#ifndef DG_HTMLSAFE_H
#define DG_HTMLSAFE_H

#include <stddef.h>

/* Attribute values longer than this are dropped (style: 4 times this). */
#define HTMLSAFE_MAX_ATTR 2048

struct htmlsafe_options {
	size_t max_out;			  /* largest output document, in bytes */
	const char *const *cids;	  /* content ids of the mail's inline parts */
	size_t n_cids;
	const char *const *drop_lines;	  /* lines removed where their text equals one */
	size_t n_drop_lines;
	const char *const *cut_lines;	  /* a line starting with one ends the reply */
	size_t n_cut_lines;
	int keep_quotes;		  /* sanitise only */
};

struct htmlsafe_result {
	char *html;	   /* a whole document ("<!DOCTYPE html>..."), UTF-8 */
	size_t len;
	char **cids;	   /* content ids the kept images name, each once */
	size_t n_cids;
	int quote_removed;
	int signature_removed;
	size_t lines_dropped;	/* drop_lines taken out */
	size_t lines_left;	/* drop_lines found but not removable (caller: relay no HTML) */
	size_t images_dropped;	/* remote or data: images replaced by their alt text */
};

/* 0 with *res filled, or -1 with *error_r (unparseable, or the output
   would exceed max_out). */
int htmlsafe_clean(const char *html, size_t len, const struct htmlsafe_options *opt,
		   struct htmlsafe_result *res, const char **error_r);
void htmlsafe_result_clear(struct htmlsafe_result *res);

#endif
