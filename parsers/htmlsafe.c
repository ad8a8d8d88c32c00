/*
 * htmlsafe: see htmlsafe.h. One pass over html_walk()'s events writes the
 * allowed markup into a bounded buffer. Quote blocks are written too and
 * remembered as regions (their output offset and the closing tags of what
 * was open there); at the end the first region that nothing of the
 * writer's own follows, or the first "history from here" marker, is cut
 * with everything after it, and the open elements are closed again. A
 * dropped command line is taken back out of the buffer the same way.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/html.h"
#include "parsers/htmlsafe.h"
#include "parsers/quote.h"
#include "base/util.h"

/* Elements deeper than this are unwrapped (content kept, tags dropped). */
#define MAX_DEPTH 256
/* Quote blocks remembered; later ones are kept as they are. */
#define MAX_REGIONS 256
/* Text of a line compared with drop_lines and markers. */
#define LINE_MAX 512
/* Elements that may close inside one line and still let it be dropped. */
#define CLOSED_MAX 32
/* A "From:" line is a header block when a header line follows within. */
#define HEADER_LINES 4

static const char *const kept[] = {
	"a",	  "abbr",   "b",      "bdi",  "bdo",   "big",   "blockquote", "br",	  "caption",
	"center", "cite",   "code",   "col",  "colgroup", "dd", "del",	    "dfn",	  "div",
	"dl",	  "dt",	    "em",     "font", "h1",    "h2",	"h3",	      "h4",	  "h5",
	"h6",	  "hr",	    "i",      "img",  "ins",   "kbd",	"li",	      "mark",	  "ol",
	"p",	  "pre",    "q",      "s",    "samp",  "small", "span",	      "strike",	  "strong",
	"sub",	  "sup",    "table",  "tbody", "td",   "tfoot", "th",	      "thead",	  "tr",
	"tt",	  "u",	    "ul",     "wbr",  NULL
};
static const char *const voids[] = { "br", "col", "hr", "img", "wbr", NULL };
static const char *const dropped[] = {
	"script", "style",  "head",	"title",    "template", "iframe", "frame",  "frameset",
	"object", "applet", "input",	"button",   "select",	"textarea", "option", "optgroup",
	"noscript", "noembed", "noframes", "svg",  "math",	"audio",  "video",  "canvas",
	"dialog", "portal", "xml",	NULL
};
/* Line boundaries (as in html_to_text()). */
static const char *const blocks[] = {
	"p",	 "div",	  "h1",	      "h2",	"h3",	   "h4",     "h5",	"h6",	  "blockquote",
	"table", "tr",	  "ul",	      "ol",	"li",	   "dl",     "dt",	"dd",	  "pre",
	"hr",	 "center", "caption", "section", "article", "header", "footer", "address", "body",
	NULL
};
static const char *const attrs_ok[] = { "dir",	       "lang",	 "title",   "align",   "valign",
					"width",       "height", "border",  "cellpadding",
					"cellspacing", "bgcolor", "colspan", "rowspan", "color",
					"face",	       "size",	 "span",    "start",   "type",
					"alt",	       NULL };
/* Inside a style: anything that loads, runs, or covers the page. */
static const char *const style_bad[] = { "url(",    "@import", "expression", "javascript",
					 "behavior", "binding", "image-set", "position",
					 "\\",	     "/*",	"<",	     "&",
					 "@",	     NULL };

struct elem {
	const char *name; /* the closing tag's name when one was written, else NULL */
};

struct region {
	size_t start;  /* output offset of the block */
	size_t cut;    /* where to cut: start, or its attribution line above */
	char *closers; /* "</p></div>": what was open at cut */
	int rest;      /* history from here to the end */
	int signature;
};

struct st {
	const struct htmlsafe_options *opt;
	struct htmlsafe_result *res;
	struct buf out;
	int full;
	struct elem stack[MAX_DEPTH];
	size_t depth;
	size_t skip;	    /* > 0: inside a dropped element begun at this depth */
	size_t region_depth; /* > 0: inside a quote block begun at this depth */
	int stopped;	    /* history from here: the walk stopped */
	struct region *regions;
	size_t n_regions;
	size_t *cid_at; /* output offset of each reported image */
	size_t last_text; /* output offset after the writer's last visible content */
	/* the current line */
	size_t line_start, line_depth, line_min_depth;
	size_t line_last_text; /* last_text when the line began */
	char line[LINE_MAX];
	size_t line_len;
	int line_space;
	const char *closed[CLOSED_MAX];
	size_t n_closed;
	int closed_over;
	/* a "From:" line that may start a header block */
	int from_on;
	size_t from_start;
	char *from_closers;
	int from_lines;
	/* a line ending in ':' with a digit in it: an attribution, if a
	   quote block follows */
	int attr_on;
	size_t attr_start;
	char *attr_closers;
	/* an <hr> with nothing visible after it yet */
	int hr_on;
	size_t hr_start, hr_depth;
};

static int
in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(name, *list) == 0)
			return 1;
	return 0;
}

static const char *
find(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(name, *list) == 0)
			return *list;
	return NULL;
}

static void
put(struct st *s, const char *p, size_t n)
{
	if (!s->full && buf_append(&s->out, p, n) < 0)
		s->full = 1;
}

static void
puts_(struct st *s, const char *p)
{
	put(s, p, strlen(p));
}

static void
put_esc(struct st *s, const char *p, size_t n, int attr)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		case '\'': rep = attr ? "&#39;" : NULL; break;
		default: break;
		}
		if (rep != NULL) {
			put(s, p + from, i - from);
			puts_(s, rep);
			from = i + 1;
		}
	}
	put(s, p + from, n - from);
}

static const char *
attr(const char *const *attrs, const char *name)
{
	for (size_t i = 0; attrs[i] != NULL; i += 2)
		if (strcasecmp(attrs[i], name) == 0)
			return attrs[i + 1];
	return NULL;
}

/* Does the white-space separated list v hold token? */
static int
has_token(const char *v, const char *token)
{
	size_t k = strlen(token);
	while (v != NULL && *v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		size_t n = strcspn(v, " \t\r\n");
		if (n == k && strncasecmp(v, token, k) == 0)
			return 1;
		v += n;
	}
	return 0;
}

/* v in lower case without white space or control characters (what a
   browser's URL and CSS readers skip over). Caller frees. */
static char *
squeezed(const char *v)
{
	char *o = xmalloc(strlen(v) + 1);
	size_t n = 0;
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (c > 0x20 && c != 0x7f)
			o[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	o[n] = '\0';
	return o;
}

static int
style_ok(const char *v)
{
	if (strlen(v) > 4 * HTMLSAFE_MAX_ATTR)
		return 0;
	char *q = squeezed(v);
	int ok = 1;
	for (size_t i = 0; style_bad[i] != NULL && ok; i++)
		if (strstr(q, style_bad[i]) != NULL)
			ok = 0;
	free(q);
	return ok;
}

static int
href_ok(const char *v)
{
	if (strlen(v) > HTMLSAFE_MAX_ATTR)
		return 0;
	char *q = squeezed(v);
	int ok = strncmp(q, "http://", 7) == 0 || strncmp(q, "https://", 8) == 0 ||
		 strncmp(q, "mailto:", 7) == 0;
	free(q);
	return ok;
}

/* The caller's content id a "cid:" src names (RFC 2392: %-encoded), or
   NULL. */
static const char *
src_cid(const struct st *s, const char *src)
{
	while (*src == ' ' || *src == '\t' || *src == '\n' || *src == '\r')
		src++;
	if (strncasecmp(src, "cid:", 4) != 0 || strlen(src) > HTMLSAFE_MAX_ATTR)
		return NULL;
	src += 4;
	char *id = xmalloc(strlen(src) + 1);
	size_t n = 0;
	for (; *src != '\0'; src++) {
		if (*src == '%' && hex_digit_value((unsigned char)src[1]) >= 0 &&
		    hex_digit_value((unsigned char)src[2]) >= 0) {
			id[n++] = (char)(hex_digit_value((unsigned char)src[1]) * 16 +
				       hex_digit_value((unsigned char)src[2]));
			src += 2;
		} else {
			id[n++] = *src;
		}
	}
	id[n] = '\0';
	const char *found = NULL;
	for (size_t i = 0; i < s->opt->n_cids && found == NULL; i++)
		if (s->opt->cids[i] != NULL && strcmp(s->opt->cids[i], id) == 0)
			found = s->opt->cids[i];
	free(id);
	return found;
}

/* An image kept at output offset at: its id is reported unless the
   image is cut with a quote (cids_cut()). */
static void
note_cid(struct st *s, const char *cid, size_t at)
{
	for (size_t i = 0; i < s->res->n_cids; i++)
		if (strcmp(s->res->cids[i], cid) == 0)
			return;
	s->res->cids = xreallocarray(s->res->cids, s->res->n_cids + 1, sizeof(*s->res->cids));
	s->cid_at = xreallocarray(s->cid_at, s->res->n_cids + 1, sizeof(*s->cid_at));
	s->cid_at[s->res->n_cids] = at;
	s->res->cids[s->res->n_cids++] = xstrdup(cid);
}

/* Forget the images at or after offset cut (first sight counts: an image
   named again later is rare, and then it stays out). */
static void
cids_cut(struct st *s, size_t cut)
{
	size_t n = 0;
	for (size_t i = 0; i < s->res->n_cids; i++) {
		if (s->cid_at[i] >= cut) {
			free(s->res->cids[i]);
			continue;
		}
		s->res->cids[n++] = s->res->cids[i];
	}
	s->res->n_cids = n;
}

/* The closing tags of the elements written and open below depth d. */
static char *
closers(const struct st *s, size_t d)
{
	struct buf b;
	buf_init(&b, SIZE_MAX / 4);
	buf_puts(&b, "");
	for (size_t i = d < MAX_DEPTH ? d : MAX_DEPTH; i > 0; i--)
		if (s->stack[i - 1].name != NULL)
			(void)buf_printf(&b, "</%s>", s->stack[i - 1].name);
	return buf_steal(&b, NULL);
}

static void
region_add(struct st *s, size_t start, char *closers_, int rest, int signature)
{
	if (s->n_regions >= MAX_REGIONS && !rest) {
		free(closers_);
		return;
	}
	s->regions = xreallocarray(s->regions, s->n_regions + 1, sizeof(*s->regions));
	s->regions[s->n_regions++] = (struct region){ start, start, closers_, rest, signature };
	/* "On <date>, <who> wrote:" just above the block goes with it */
	if (s->attr_on && !rest) {
		s->regions[s->n_regions - 1].cut = s->attr_start;
		free(s->regions[s->n_regions - 1].closers);
		s->regions[s->n_regions - 1].closers = s->attr_closers;
		s->attr_closers = NULL;
		s->attr_on = 0;
	}
}

/* History from here: cut at start (or at the <hr> just above). Stops the
   walk. */
static int
rest_here(struct st *s, size_t start, char *closers_, int signature)
{
	region_add(s, start, closers_, 1, signature);
	s->stopped = 1;
	return 1;
}

static void
visible(struct st *s)
{
	if (s->region_depth == 0)
		s->last_text = s->out.len;
}

static void
line_begin(struct st *s)
{
	s->line_start = s->out.len;
	s->line_last_text = s->last_text;
	s->line_depth = s->line_min_depth = s->depth;
	s->line_len = 0;
	s->line_space = 0;
	s->n_closed = 0;
	s->closed_over = 0;
}

static void
line_add(struct st *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int sp = c <= 0x20 || (c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] == 0xa0);
		if (sp) {
			if (c == 0xc2)
				i++;
			s->line_space = 1;
			continue;
		}
		if (s->line_space && s->line_len > 0 && s->line_len < LINE_MAX - 1)
			s->line[s->line_len++] = ' ';
		s->line_space = 0;
		if (s->line_len < LINE_MAX - 1)
			s->line[s->line_len++] = (char)c;
	}
	s->line[s->line_len] = '\0';
}

static int
starts(const char *line, const char *const *prefixes)
{
	for (; *prefixes != NULL; prefixes++)
		if (strncasecmp(line, *prefixes, strlen(*prefixes)) == 0)
			return 1;
	return 0;
}

static const char *const from_words[] = { "From:", "*From:*", "Von:", "De :", "De:", "发件人:",
					  "发件人：", "寄件者:", "寄件者：", "Van:", "Da:", "От:",
					  "Od:", NULL };
static const char *const header_words[] = { "Sent:", "Date:", "To:", "Subject:", "Gesendet:",
					    "Datum:", "An:", "Betreff:", "Envoyé :", "Envoyé:",
					    "À :", "Objet :", "发送时间:", "发送时间：", "收件人:",
					    "收件人：", "主题:", "主题：", "Verzonden:", "Inviato:",
					    "Отправлено:", "Кому:", "Тема:", "Wysłane:", NULL };

/* Take the line just ended back out of the output. */
static int
line_drop(struct st *s)
{
	if (s->closed_over || s->full)
		return -1;
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start > s->line_start)
			return -1;
	s->out.len = s->line_start;
	for (size_t i = 0; i < s->n_closed; i++)
		(void)buf_printf(&s->out, "</%s>", s->closed[i]);
	if (s->last_text > s->line_start)
		s->last_text = s->line_start;
	if (s->hr_on && s->hr_start > s->line_start)
		s->hr_on = 0;
	if (s->attr_on && s->attr_start >= s->line_start) {
		s->attr_on = 0;
		x_free(&s->attr_closers);
	}
	if (s->from_on && s->from_start > s->line_start) {
		s->from_on = 0;
		x_free(&s->from_closers);
	}
	return 0;
}

/* A line ended (a block boundary or <br>). 1: stop the walk (history
   from here), 2: the line was dropped, 0 otherwise. */
static int
line_end(struct st *s)
{
	const char *l = s->line;
	if (s->line_len == 0 || s->skip > 0)
		return 0;
	int intact = s->line_min_depth >= s->line_depth;
	for (size_t i = 0; i < s->opt->n_drop_lines; i++) {
		const char *d = s->opt->drop_lines[i];
		if (d != NULL && strcasecmp(l, d) == 0) {
			if (line_drop(s) < 0) {
				s->res->lines_left++;
				return 0;
			}
			s->res->lines_dropped++;
			return 2;
		}
	}
	if (s->opt->keep_quotes || !intact)
		return 0;
	for (size_t i = 0; i < s->opt->n_cut_lines; i++) {
		const char *c = s->opt->cut_lines[i];
		if (c != NULL && *c != '\0' && strncasecmp(l, c, strlen(c)) == 0) {
			s->res->signature_removed = 1;
			return rest_here(s, s->line_start, closers(s, s->line_depth), 1);
		}
	}
	if (strcmp(l, "--") == 0) {
		s->res->signature_removed = 1;
		return rest_here(s, s->line_start, closers(s, s->line_depth), 1);
	}
	if (s->region_depth == 0 && quote_is_signoff(l, s->line_len)) {
		/* "Sent from my iPhone", "Get <a>Outlook for iOS</a>": the text
		   version's rule (quote.h), cut when nothing the writer wrote
		   follows it; its own words are not the writer's */
		s->last_text = s->line_last_text;
		s->attr_on = 0; /* a line above is not the sign-off's */
		x_free(&s->attr_closers);
		region_add(s, s->line_start, closers(s, s->line_depth), 0, 1);
		return 0;
	}
	if (s->from_on) {
		if (starts(l, header_words)) {
			s->from_on = 0;
			s->res->quote_removed = 1;
			char *c = s->from_closers;
			s->from_closers = NULL;
			return rest_here(s, s->from_start, c, 0);
		}
		if (++s->from_lines > HEADER_LINES) {
			s->from_on = 0;
			x_free(&s->from_closers);
		}
	}
	s->attr_on = 0;
	x_free(&s->attr_closers);
	if ((l[s->line_len - 1] == ':' || (s->line_len >= 3 && strcmp(l + s->line_len - 3, "：") == 0)) &&
	    strpbrk(l, "0123456789") != NULL) {
		s->attr_on = 1;
		s->attr_start = s->line_start;
		s->attr_closers = closers(s, s->line_depth);
	}
	if (s->hr_on && (starts(l, from_words) || starts(l, header_words))) {
		/* Hotmail, Windows Mail: "Date: / From:" right below a rule */
		s->res->quote_removed = 1;
		return rest_here(s, s->hr_start, closers(s, s->hr_depth), 0);
	}
	if (!s->from_on && starts(l, from_words)) {
		s->from_on = 1;
		s->from_lines = 0;
		s->from_start = s->line_start;
		s->from_closers = closers(s, s->line_depth);
		/* the rule line above Outlook's block goes with it */
		if (s->hr_on && s->hr_depth + 1 == s->line_depth) {
			s->from_start = s->hr_start;
			free(s->from_closers);
			s->from_closers = closers(s, s->hr_depth);
		}
	}
	s->hr_on = 0;
	return 0;
}

static const char *const signoff_ids[] = { "ms-outlook-mobile-signature",
					   "x_ms-outlook-mobile-signature",
					   "ymail_android_signature", "x_ymail_android_signature",
					   "ymail_ios_signature", "x_ymail_ios_signature",
					   "composer_signature", "x_composer_signature", NULL };

/* What kind of quote marker an element is: 2 history from here, 1 a
   quote block, 3 a signature block, 0 none. */
static int
marker(const char *name, const char *const *attrs)
{
	const char *id = attr(attrs, "id");
	const char *cls = attr(attrs, "class");
	if (id != NULL &&
	    (strcasecmp(id, "divRplyFwdMsg") == 0 || strcasecmp(id, "x_divRplyFwdMsg") == 0 ||
	     strcasecmp(id, "appendonsend") == 0 || strcasecmp(id, "x_appendonsend") == 0 ||
	     strcasecmp(id, "OLK_SRC_BODY_SECTION") == 0 || strcasecmp(id, "stopSpelling") == 0))
		return 2;
	const char *style = attr(attrs, "style");
	if (style != NULL && strcasecmp(name, "div") == 0) {
		char *q = squeezed(style);
		int outlook = strstr(q, "border-top:solid#e1e1e1") != NULL ||
			      strstr(q, "border-top:solid#b5c4df") != NULL;
		free(q);
		if (outlook)
			return 2;
	}
	if (has_token(cls, "gmail_quote") || has_token(cls, "gmail_attr") ||
	    has_token(cls, "gmail_quote_container") || has_token(cls, "moz-cite-prefix") ||
	    has_token(cls, "yahoo_quoted") || has_token(cls, "x_gmail_quote"))
		return 1;
	/* any blockquote (type=cite: Apple Mail, Thunderbird): removed only
	   when nothing of the writer's follows */
	if (strcasecmp(name, "blockquote") == 0)
		return 1;
	if (has_token(cls, "gmail_signature") || has_token(cls, "moz-signature") ||
	    has_token(cls, "x_gmail_signature") ||
	    (id != NULL && (strcasecmp(id, "Signature") == 0 || strcasecmp(id, "x_Signature") == 0)))
		return 3;
	/* the mobile apps' sign-off blocks: Outlook for iOS and Android,
	   Yahoo Mail's apps, Samsung Email */
	if (id != NULL && in(id, signoff_ids))
		return 3;
	return 0;
}

static void
write_attrs(struct st *s, const char *name, const char *const *attrs)
{
	for (size_t i = 0; attrs[i] != NULL; i += 2) {
		const char *n = attrs[i], *v = attrs[i + 1];
		const char *ok = find(n, attrs_ok);
		if (v == NULL)
			continue;
		if (ok == NULL && strcasecmp(n, "style") == 0 && style_ok(v))
			ok = "style";
		else if (ok == NULL && strcasecmp(n, "href") == 0 && strcmp(name, "a") == 0 &&
			 href_ok(v))
			ok = "href";
		else if (ok != NULL && strlen(v) > HTMLSAFE_MAX_ATTR)
			ok = NULL;
		if (ok == NULL)
			continue;
		put(s, " ", 1);
		puts_(s, ok);
		puts_(s, "=\"");
		if (strcmp(ok, "href") == 0) {
			while (*v != '\0' && (unsigned char)*v <= 0x20)
				v++;
			put_esc(s, v, strlen(v), 1);
		} else {
			put_esc(s, v, strlen(v), 1);
		}
		put(s, "\"", 1);
	}
}

static int
on_text(void *ctx, const char *p, size_t n)
{
	struct st *s = ctx;
	if (s->skip > 0)
		return 0;
	put_esc(s, p, n, 0);
	line_add(s, p, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c > 0x20 && !(c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] == 0xa0) &&
		    !(c == 0xa0 && i > 0 && (unsigned char)p[i - 1] == 0xc2)) {
			visible(s);
			break;
		}
	}
	return s->full;
}

static int
boundary(struct st *s)
{
	int r = line_end(s);
	if (r != 1)
		line_begin(s);
	return r;
}

static int
on_start(void *ctx, const char *name, const char *const *attrs)
{
	struct st *s = ctx;
	s->depth++;
	if (s->depth <= MAX_DEPTH)
		s->stack[s->depth - 1].name = NULL;
	if (s->skip > 0)
		return 0;
	if (in(name, dropped)) {
		s->skip = s->depth;
		return 0;
	}
	if (strcasecmp(name, "br") == 0) {
		/* the <br> ends its line; a dropped line takes it along */
		int r = line_end(s);
		if (r == 1)
			return 1;
		if (r != 2)
			puts_(s, "<br>");
		line_begin(s);
		s->line_depth = s->line_min_depth = s->depth - 1; /* the <br> ends at once */
		return s->full;
	}
	int block = in(name, blocks);
	if (block && boundary(s) == 1)
		return 1;
	if (!s->opt->keep_quotes && s->region_depth == 0) {
		int m = marker(name, attrs);
		size_t here = s->out.len, d = s->depth - 1;
		if (m == 2) {
			s->res->quote_removed = 1;
			if (s->hr_on && s->hr_depth == d)
				here = s->hr_start;
			return rest_here(s, here, closers(s, d), 0);
		}
		if (m != 0) {
			region_add(s, here, closers(s, d), 0, m == 3);
			s->region_depth = s->depth;
		}
	}
	const char *k = s->depth <= MAX_DEPTH ? find(name, kept) : NULL;
	if (k != NULL && strcmp(k, "img") == 0) {
		const char *src = attr(attrs, "src");
		const char *cid = src != NULL ? src_cid(s, src) : NULL;
		if (cid == NULL) {
			const char *alt = attr(attrs, "alt");
			if (src != NULL)
				s->res->images_dropped++;
			if (alt != NULL && strlen(alt) <= HTMLSAFE_MAX_ATTR)
				on_text(s, alt, strlen(alt));
			return s->full;
		}
		note_cid(s, cid, s->out.len);
		puts_(s, "<img src=\"cid:");
		put_esc(s, cid, strlen(cid), 1);
		put(s, "\"", 1);
		write_attrs(s, k, attrs);
		put(s, ">", 1);
		visible(s);
		return s->full;
	}
	if (k != NULL) {
		if (strcmp(k, "hr") == 0) {
			s->hr_on = 1;
			s->hr_start = s->out.len;
			s->hr_depth = s->depth - 1;
		}
		put(s, "<", 1);
		puts_(s, k);
		write_attrs(s, k, attrs);
		put(s, ">", 1);
		if (!in(k, voids))
			s->stack[s->depth - 1].name = k;
	}
	if (block)
		line_begin(s);
	return s->full;
}

static int
on_end(void *ctx, const char *name)
{
	struct st *s = ctx;
	if (s->depth == 0)
		return 0;
	if (s->skip > 0) {
		if (s->depth == s->skip)
			s->skip = 0;
		s->depth--;
		return 0;
	}
	int block = in(name, blocks);
	if (block && boundary(s) == 1)
		return 1;
	const char *k = s->depth <= MAX_DEPTH ? s->stack[s->depth - 1].name : NULL;
	if (k != NULL) {
		puts_(s, "</");
		puts_(s, k);
		put(s, ">", 1);
		s->stack[s->depth - 1].name = NULL;
		if (s->depth <= s->line_depth) {
			if (s->n_closed < CLOSED_MAX)
				s->closed[s->n_closed++] = k;
			else
				s->closed_over = 1;
		}
	}
	if (s->region_depth == s->depth)
		s->region_depth = 0;
	s->depth--;
	if (s->depth < s->line_min_depth)
		s->line_min_depth = s->depth;
	if (block)
		line_begin(s);
	return s->full;
}

/* Trailing white space, <br> and &nbsp; of the content. */
static void
trim_tail(struct buf *b, size_t floor)
{
	for (;;) {
		size_t n = b->len;
		while (n > floor && (b->data[n - 1] == ' ' || b->data[n - 1] == '\n' ||
				     b->data[n - 1] == '\r' || b->data[n - 1] == '\t'))
			n--;
		if (n >= floor + 4 && memcmp(b->data + n - 4, "<br>", 4) == 0)
			n -= 4;
		else if (n >= floor + 2 && (unsigned char)b->data[n - 1] == 0xa0 &&
			 (unsigned char)b->data[n - 2] == 0xc2)
			n -= 2;
		if (n == b->len)
			return;
		b->len = n;
	}
}

static const char head[] = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n";

int
htmlsafe_clean(const char *html, size_t len, const struct htmlsafe_options *opt,
	       struct htmlsafe_result *res, const char **error_r)
{
	struct st *s = xcalloc(1, sizeof(*s));
	memset(res, 0, sizeof(*res));
	s->opt = opt;
	s->res = res;
	buf_init(&s->out, opt->max_out);
	puts_(s, head);
	size_t floor = s->out.len;
	line_begin(s);
	struct html_walker w = { on_start, on_end, on_text, s };
	int ret = html_walk(html, len, &w, error_r);
	if (ret == 0 && !s->stopped)
		(void)line_end(s);
	if (ret == 0 && !s->full) {
		const struct region *cut = NULL;
		for (size_t i = 0; i < s->n_regions && cut == NULL; i++)
			if (s->regions[i].rest || s->regions[i].start >= s->last_text)
				cut = &s->regions[i];
		if (cut != NULL) {
			if (cut->signature)
				res->signature_removed = 1;
			else
				res->quote_removed = 1;
			/* a sign-off above the quote: the quote goes with it */
			for (const struct region *r = cut + 1; r < s->regions + s->n_regions; r++)
				if (!r->signature && r->start >= cut->cut)
					res->quote_removed = 1;
			if (cut->cut < s->out.len)
				s->out.len = cut->cut;
			cids_cut(s, cut->cut);
			trim_tail(&s->out, floor);
			puts_(s, cut->closers);
		} else {
			/* what the markup left open (a stopped walk, a deep tree) */
			char *c = closers(s, s->depth);
			trim_tail(&s->out, floor);
			puts_(s, c);
			free(c);
			res->quote_removed = res->signature_removed = 0;
		}
		puts_(s, "\n</body></html>\n");
	}
	if (ret == 0 && s->full) {
		*error_r = errf("html: sanitised document longer than %zu bytes", opt->max_out);
		ret = -1;
	}
	for (size_t i = 0; i < s->n_regions; i++)
		free(s->regions[i].closers);
	free(s->regions);
	free(s->from_closers);
	free(s->attr_closers);
	free(s->cid_at);
	if (ret < 0) {
		buf_free(&s->out);
		htmlsafe_result_clear(res);
		free(s);
		return -1;
	}
	/* bytes that are not UTF-8 (libxml2 passes them through) */
	for (size_t i = 0; i < s->out.len;) {
		unsigned char c = s->out.data[i];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (n == 1 || (n <= s->out.len - i && utf8_valid(s->out.data + i, n)))
			i += n;
		else
			s->out.data[i++] = '?';
	}
	res->html = buf_steal(&s->out, &res->len);
	free(s);
	return 0;
}

void
htmlsafe_result_clear(struct htmlsafe_result *res)
{
	x_free(&res->html);
	for (size_t i = 0; i < res->n_cids; i++)
		free(res->cids[i]);
	free(res->cids);
	memset(res, 0, sizeof(*res));
}
