/*
 * html: see html.h. libxml2's HTML parser reads the document (forgiving, no
 * network, no error output) and calls us back for each element and piece
 * of text (SAX): no tree is built, so memory stays small whatever the size
 * of the document (a 15 MB newsletter took 400 MB as a tree), and nothing
 * here recurses, so nesting depth does not matter to our stack.
 */
#include "build-config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "parsers/html.h"
#include "base/util.h"

/* Links longer than this are not written out. */
#define HREF_MAX 2048
/* Nested <a> elements tracked (HTML forbids nesting them at all). */
#define ANCHOR_STACK 16

struct out {
	struct buf b;
	int pending_nl; /* line breaks owed before the next text (at most 2) */
	int pending_sp; /* a space owed before the next text */
	int pre;	/* inside <pre>: keep white space */
	int skip;	/* inside script, style, head...: drop everything */
	int full;	/* max_out reached */
	htmlParserCtxtPtr ctxt;
	struct {
		size_t start; /* output length at <a> */
		char *url;    /* its http(s)/mailto target, or NULL */
	} anchors[ANCHOR_STACK];
	size_t n_anchors;
};

static void
put(struct out *o, const void *s, size_t n)
{
	if (!o->full && buf_append(&o->b, s, n) < 0) {
		o->full = 1;
		xmlStopParser(o->ctxt);
	}
}

static int
last_is_space(const struct out *o)
{
	return o->b.len == 0 || o->b.data[o->b.len - 1] == ' ' || o->b.data[o->b.len - 1] == '\n';
}

/* Write what is owed before new text; nothing at the very start. */
static void
flush(struct out *o)
{
	if (o->b.len > 0) {
		if (o->pending_nl > 0) {
			while (o->b.len > 0 && o->b.data[o->b.len - 1] == ' ')
				o->b.len--;
			size_t nl = 0;
			while (nl < o->b.len && nl < 2 && o->b.data[o->b.len - 1 - nl] == '\n')
				nl++;
			for (int i = (int)nl; i < o->pending_nl; i++)
				put(o, "\n", 1);
		} else if (o->pending_sp && !last_is_space(o)) {
			put(o, " ", 1);
		}
	}
	o->pending_nl = 0;
	o->pending_sp = 0;
}

static void
block(struct out *o, int n)
{
	if (n > o->pending_nl)
		o->pending_nl = n;
	o->pending_sp = 0;
}

static void
raw_text(struct out *o, const char *s)
{
	flush(o);
	put(o, s, strlen(s));
}

/* Other C0 controls and DEL are dropped in <pre>, white space elsewhere. */
static int
is_space(unsigned char c)
{
	return c < 0x20 || c == ' ' || c == 0x7f;
}

static void
text(struct out *o, const unsigned char *s, size_t len)
{
	const unsigned char *end = s + len;
	while (s < end) {
		size_t n;
		if (o->pre) {
			if (*s != '\n' && *s != '\t' && *s != ' ' && is_space(*s)) {
				s++;
				continue;
			}
			if (*s == '\n') {
				o->pending_sp = 0;
				if (o->b.len > 0)
					put(o, "\n", 1);
				s++;
				continue;
			}
			flush(o);
			n = 1;
			while (s + n < end && !(is_space(s[n]) && s[n] != ' ' && s[n] != '\t'))
				n++;
			put(o, s, n);
			s += n;
			continue;
		}
		if (is_space(*s)) {
			o->pending_sp = 1;
			s++;
			continue;
		}
		if (s + 1 < end && s[0] == 0xc2 && s[1] == 0xa0) { /* no-break space */
			o->pending_sp = 1;
			s += 2;
			continue;
		}
		flush(o);
		n = 1;
		while (s + n < end && !is_space(s[n]) &&
		       !(s + n + 1 < end && s[n] == 0xc2 && s[n + 1] == 0xa0))
			n++;
		put(o, s, n);
		s += n;
	}
}

static int
name_is(const xmlChar *name, const char *want)
{
	return strcasecmp((const char *)name, want) == 0;
}

static int
name_in(const xmlChar *name, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcasecmp((const char *)name, *names) == 0)
			return 1;
	return 0;
}

static const char *const skipped[] = { "script", "style", "head", "title", "template", NULL };
static const char *const paragraphs[] = { "p",	"h1",	"h2",	"h3",	  "h4",	   "h5",
					  "h6", "blockquote", "table", "ul", "ol", "dl",
					  "hr", "address", "figure", "fieldset", "form", NULL };
static const char *const lines[] = { "div",	"tr",	  "li",	     "dt",	"dd",	  "section",
				     "article", "header", "footer",  "nav",	"aside",  "main",
				     "center",	"caption", "details", "summary", "option", "body",
				     "html",	"tbody",   "thead",   "tfoot",	 NULL };

static const xmlChar *
attr(const xmlChar **atts, const char *name)
{
	for (size_t i = 0; atts != NULL && atts[i] != NULL; i += 2)
		if (strcasecmp((const char *)atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

/* An http(s) or mailto URL without control characters or white space, or
   NULL. Caller frees. */
static char *
link_target(const xmlChar *href)
{
	if (href == NULL)
		return NULL;
	const char *h = (const char *)href;
	while (*h == ' ' || *h == '\t' || *h == '\n' || *h == '\r')
		h++;
	if (strncasecmp(h, "http://", 7) != 0 && strncasecmp(h, "https://", 8) != 0 &&
	    strncasecmp(h, "mailto:", 7) != 0)
		return NULL;
	size_t len = strlen(h);
	if (len > HREF_MAX)
		return NULL;
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)h[i] > 0x20 && h[i] != 0x7f)
			out[n++] = h[i];
	out[n] = '\0';
	return out;
}

/* After an <a>: " <url>" unless the link text already says it. */
static void
anchor_end(struct out *o, const char *url, size_t start)
{
	if (url == NULL)
		return;
	int have = o->b.data != NULL && start <= o->b.len;
	const char *t = have ? (const char *)o->b.data + start : "";
	size_t tlen = have ? o->b.len - start : 0;
	while (tlen > 0 && (*t == ' ' || *t == '\n')) {
		t++;
		tlen--;
	}
	while (tlen > 0 && (t[tlen - 1] == ' ' || t[tlen - 1] == '\n'))
		tlen--;
	const char *bare = url;
	if (strncasecmp(bare, "mailto:", 7) == 0)
		bare += 7;
	int same = (tlen == strlen(url) && strncasecmp(t, url, tlen) == 0) ||
		   (tlen == strlen(bare) && strncasecmp(t, bare, tlen) == 0);
	if (!same) {
		if (tlen > 0)
			o->pending_sp = 1;
		flush(o);
		put(o, "<", 1);
		put(o, url, strlen(url));
		put(o, ">", 1);
	}
}

static void
on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct out *o = ((htmlParserCtxtPtr)ctx)->_private;
	if (name == NULL || o->full)
		return;
	if (o->skip > 0 || name_in(name, skipped)) {
		if (name_in(name, skipped))
			o->skip++;
		return;
	}
	if (name_is(name, "br")) {
		if (o->b.len > 0 && o->pending_nl < 2)
			o->pending_nl++;
		o->pending_sp = 0;
		return;
	}
	if (name_is(name, "img")) {
		const xmlChar *alt = attr(atts, "alt");
		if (alt != NULL)
			text(o, alt, strlen((const char *)alt));
		return;
	}
	if (name_is(name, "pre")) {
		block(o, 2);
		o->pre++;
	} else if (name_in(name, paragraphs)) {
		block(o, 2);
	} else if (name_in(name, lines)) {
		block(o, 1);
	} else if (name_is(name, "td") || name_is(name, "th")) {
		o->pending_sp = 1;
	}
	if (name_is(name, "li"))
		raw_text(o, "- ");
	if (name_is(name, "a")) {
		if (o->n_anchors < ANCHOR_STACK) {
			o->anchors[o->n_anchors].start = o->b.len;
			o->anchors[o->n_anchors].url = link_target(attr(atts, "href"));
		}
		o->n_anchors++;
	}
}

static void
on_end(void *ctx, const xmlChar *name)
{
	struct out *o = ((htmlParserCtxtPtr)ctx)->_private;
	if (name == NULL || o->full)
		return;
	if (o->skip > 0) {
		if (name_in(name, skipped))
			o->skip--;
		return;
	}
	if (name_is(name, "a") && o->n_anchors > 0) {
		o->n_anchors--;
		if (o->n_anchors < ANCHOR_STACK) {
			anchor_end(o, o->anchors[o->n_anchors].url, o->anchors[o->n_anchors].start);
			free(o->anchors[o->n_anchors].url);
			o->anchors[o->n_anchors].url = NULL;
		}
	}
	if (name_is(name, "pre")) {
		if (o->pre > 0)
			o->pre--;
		block(o, 2);
	} else if (name_in(name, paragraphs)) {
		block(o, 2);
	} else if (name_in(name, lines)) {
		block(o, 1);
	} else if (name_is(name, "td") || name_is(name, "th")) {
		o->pending_sp = 1;
	}
}

static void
on_text(void *ctx, const xmlChar *ch, int len)
{
	struct out *o = ((htmlParserCtxtPtr)ctx)->_private;
	if (o->skip == 0 && !o->full && ch != NULL && len > 0)
		text(o, ch, (size_t)len);
}

static void
on_error(void *ctx, xmlErrorPtr error)
{
	(void)ctx;
	(void)error;
}

/* Read html with libxml2's recovering parser, calling start, end and text
   (each given the parser context, whose _private is priv); *ctxt_r holds
   the context while it runs (for xmlStopParser()). Our callbacks only: no
   tree, no error output, no network. */
static int
sax_read(const char *html, size_t len, startElementSAXFunc start, endElementSAXFunc end,
	 charactersSAXFunc chars, void *priv, htmlParserCtxtPtr *ctxt_r, const char **error_r)
{
	xmlInitParser();
	htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
	if (ctxt == NULL) {
		*error_r = "html: no parser";
		return -1;
	}
	memset(ctxt->sax, 0, sizeof(*ctxt->sax));
	ctxt->sax->initialized = XML_SAX2_MAGIC;
	ctxt->sax->startElement = start;
	ctxt->sax->endElement = end;
	ctxt->sax->characters = chars;
	ctxt->sax->ignorableWhitespace = chars;
	ctxt->sax->cdataBlock = chars;
	ctxt->sax->serror = on_error;
	ctxt->_private = priv;
	*ctxt_r = ctxt;
	xmlDocPtr doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
					   HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
						   HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc != NULL)
		xmlFreeDoc(doc);
	htmlFreeParserCtxt(ctxt);
	*ctxt_r = NULL;
	return 0;
}

int
html_to_text(const char *html, size_t len, size_t max_out, char **text_r, size_t *len_r,
	     const char **error_r)
{
	struct out o;

	*text_r = NULL;
	if (len_r != NULL)
		*len_r = 0;
	if (len > INT_MAX) {
		*error_r = "html: document too large";
		return -1;
	}
	memset(&o, 0, sizeof(o));
	buf_init(&o.b, max_out);
	if (len == 0 || html == NULL) {
		*text_r = buf_steal(&o.b, len_r);
		return 0;
	}
	if (sax_read(html, len, on_start, on_end, on_text, &o, &o.ctxt, error_r) < 0)
		return -1;
	for (size_t i = 0; i < ANCHOR_STACK; i++)
		free(o.anchors[i].url);
	if (o.full) {
		buf_free(&o.b);
		*error_r = errf("html: text longer than %zu bytes", max_out);
		return -1;
	}
	/* trailing white space */
	while (o.b.len > 0 && (o.b.data[o.b.len - 1] == ' ' || o.b.data[o.b.len - 1] == '\n'))
		o.b.len--;
	if (o.b.data != NULL)
		o.b.data[o.b.len] = '\0';
	/* invalid UTF-8 passed through by libxml2 (input not UTF-8 after all) */
	for (size_t i = 0; i < o.b.len;) {
		unsigned char c = o.b.data[i];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (n == 1 || (n <= o.b.len - i && utf8_valid(o.b.data + i, n)))
			i += n;
		else
			o.b.data[i++] = '?';
	}
	*text_r = buf_steal(&o.b, len_r);
	return 0;
}


/* ---- html_walk ----------------------------------------------------------- */

struct walk {
	const struct html_walker *w;
	htmlParserCtxtPtr ctxt;
	int stopped;
};

static void
walk_stop(struct walk *wk, int ret)
{
	if (ret != 0 && !wk->stopped) {
		wk->stopped = 1;
		xmlStopParser(wk->ctxt);
	}
}

static void
walk_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct walk *wk = ((htmlParserCtxtPtr)ctx)->_private;
	static const char *const none[] = { NULL };
	if (name != NULL && !wk->stopped && wk->w->start != NULL)
		walk_stop(wk, wk->w->start(wk->w->ctx, (const char *)name,
					   atts != NULL ? (const char *const *)atts : none));
}

static void
walk_end(void *ctx, const xmlChar *name)
{
	struct walk *wk = ((htmlParserCtxtPtr)ctx)->_private;
	if (name != NULL && !wk->stopped && wk->w->end != NULL)
		walk_stop(wk, wk->w->end(wk->w->ctx, (const char *)name));
}

static void
walk_text(void *ctx, const xmlChar *ch, int len)
{
	struct walk *wk = ((htmlParserCtxtPtr)ctx)->_private;
	if (ch != NULL && len > 0 && !wk->stopped && wk->w->text != NULL)
		walk_stop(wk, wk->w->text(wk->w->ctx, (const char *)ch, (size_t)len));
}

int
html_walk(const char *html, size_t len, const struct html_walker *w, const char **error_r)
{
	if (len > INT_MAX) {
		*error_r = "html: document too large";
		return -1;
	}
	if (len == 0 || html == NULL)
		return 0;
	struct walk wk = { w, NULL, 0 };
	if (sax_read(html, len, walk_start, walk_end, walk_text, &wk, &wk.ctxt, error_r) < 0)
		return -1;
	return 0;
}
