/*
 * design: see design.h. Colours and sizes are chosen for contrast (WCAG AA
 * on white) and for clients that drop <style> (Gmail) or ignore max-width
 * (Outlook for Windows: the outer table's width="600" holds it there).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/design.h"
#include "base/util.h"

#define FONT "font-family:Arial,Helvetica,sans-serif;"
#define DEFAULT_COLOUR "#1f4e8c"

/* HTML-escaped s: runs without a character to escape are appended whole
   (byte by byte this was most of design_html()'s time). */
static int
esc(struct buf *b, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '&' && s[j] != '<' && s[j] != '>' && s[j] != '"' && s[j] != '\'')
			j++;
		if (j > i && buf_append(b, s + i, j - i) < 0)
			return -1;
		if (j == len)
			break;
		const char *rep = NULL;
		switch (s[j]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = "&#39;"; break;
		}
		if (buf_puts(b, rep) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static int
escs(struct buf *b, const char *s)
{
	return esc(b, s, strlen(s));
}

static int
url_at(const char *s, size_t len)
{
	return (len > 8 && memcmp(s, "https://", 8) == 0) || (len > 7 && memcmp(s, "http://", 7) == 0);
}

/* One line of text, with http(s) links made clickable. */
static int
line(struct buf *b, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		if (!url_at(s + i, len - i)) {
			j++;
			while (j < len && (s[j] != 'h' || !url_at(s + j, len - j)))
				j++;
			if (esc(b, s + i, j - i) < 0)
				return -1;
			i = j;
			continue;
		}
		while (j < len && (unsigned char)s[j] > 0x20 && (unsigned char)s[j] < 0x7f &&
		       strchr("<>\"'", s[j]) == NULL)
			j++;
		while (j > i && strchr(".,;:!?)", s[j - 1]) != NULL)
			j--;
		if (buf_puts(b, "<a href=\"") < 0 || esc(b, s + i, j - i) < 0 ||
		    buf_puts(b, "\">") < 0 || esc(b, s + i, j - i) < 0 || buf_puts(b, "</a>") < 0)
			return -1;
		i = j;
	}
	return 0;
}

static int
colour_ok(const char *c)
{
	size_t n = c != NULL ? strlen(c) : 0;
	return n > 0 && c[0] == '#' && (n == 4 || n == 7) &&
	       strspn(c + 1, "0123456789abcdefABCDEF") == n - 1;
}

const char *
design_ticket_label(const char *lang)
{
	static const char *const labels[][2] = {
		{ "en", "Ticket" },   { "de", "Ticket" },	  { "fr", "Demande" },
		{ "zh-CN", "工单" }, { "zh-TW", "工單" },
	};
	for (size_t i = 0; lang != NULL && i < N_ELEMENTS(labels); i++)
		if (strcmp(lang, labels[i][0]) == 0)
			return labels[i][1];
	return labels[0][1];
}

/* Does the paragraph text[0..len) say what safety says (white space
   aside)? */
static int
same_words(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i = 0, j = 0;
	for (;;) {
		while (i < alen && (unsigned char)a[i] <= 0x20)
			i++;
		while (j < blen && (unsigned char)b[j] <= 0x20)
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		if (a[i] != b[j])
			return 0;
		i++;
		j++;
	}
}

/* A line of ten or more '-', '=' or '_' (white space around): a rule. */
static int
is_rule(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	size_t k = strspn(s, " \t");
	if (k >= len || len - k < 10)
		return 0;
	for (size_t i = k; i < len; i++)
		if (s[i] != s[k] || strchr("-=_", s[i]) == NULL)
			return 0;
	return 1;
}

static const char *
para_end(const char *p)
{
	/* up to the next blank line */
	for (;;) {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			return p + strlen(p);
		const char *q = eol + 1;
		size_t k = strspn(q, " \t\r");
		if (q[k] == '\n' || q[k] == '\0')
			return eol;
		p = q;
	}
}

int
design_html(const char *text, const struct design_input *in, size_t max, char **html_r)
{
	const char *colour = colour_ok(in->colour) ? in->colour : DEFAULT_COLOUR;
	const char *brand = in->brand != NULL ? in->brand : "";
	struct buf b;
	buf_init(&b, max);
	int err = buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"") < 0 || escs(&b, in->lang) < 0;
	err |= buf_puts(&b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
			    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			    "<title>") < 0 || escs(&b, in->title) < 0;
	err |= buf_printf(&b,
			  "</title>\n</head>\n<body style=\"margin:0;padding:0;background:#f3f4f6;\">\n"
			  "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" cellspacing=\"0\" "
			  "border=\"0\" style=\"background:#f3f4f6;\"><tr><td align=\"center\" "
			  "style=\"padding:24px 12px;\">\n"
			  "<table role=\"presentation\" class=\"dg-card\" width=\"600\" cellpadding=\"0\" "
			  "cellspacing=\"0\" border=\"0\" style=\"width:100%%;max-width:600px;"
			  "background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;\">\n"
			  "<tr><td class=\"dg-brand\" style=\"background:%s;padding:16px 24px;color:#ffffff;"
			  FONT "font-size:18px;font-weight:bold;line-height:1.3;\">",
			  colour) < 0;
	if (in->logo_url != NULL && strncmp(in->logo_url, "https://", 8) == 0) {
		err |= buf_puts(&b, "<img src=\"") < 0 || escs(&b, in->logo_url) < 0 ||
		       buf_puts(&b, "\" alt=\"") < 0 || escs(&b, brand) < 0 ||
		       buf_puts(&b, "\" height=\"32\" style=\"display:block;height:32px;border:0;"
				    "margin-bottom:8px;\">") < 0;
	}
	err |= escs(&b, brand) < 0 || buf_puts(&b, "</td></tr>\n") < 0;
	if (in->ticket_ref != NULL && in->ticket_ref[0] != '\0') {
		err |= buf_printf(&b,
				  "<tr><td style=\"padding:20px 24px 0 24px;\"><table role=\"presentation\" "
				  "cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td class=\"dg-ticket\" "
				  "style=\"border:2px solid %s;border-radius:4px;padding:8px 14px;color:%s;"
				  FONT "font-size:20px;font-weight:bold;\">",
				  colour, colour) < 0;
		err |= escs(&b, design_ticket_label(in->lang)) < 0 || buf_puts(&b, " ") < 0 ||
		       escs(&b, in->ticket_ref) < 0 || buf_puts(&b, "</td></tr></table></td></tr>\n") < 0;
	}
	err |= buf_puts(&b, "<tr><td class=\"dg-body\" style=\"padding:16px 24px 24px 24px;color:#1f2937;"
			    FONT "font-size:15px;line-height:1.6;\">\n") < 0;
	static const char p_open[] = "<p style=\"margin:0 0 14px 0;\">";
	static const char s_open[] =
		"<p class=\"dg-safety\" style=\"margin:18px 0;padding:12px 14px;background:#fff7e6;"
		"border-left:4px solid #b45309;color:#5b3a00;font-size:14px;\">&#9888;&#65039; ";
	const char *p = text;
	const char *pend = NULL; /* end of the current paragraph, NULL between them */
	int in_ul = 0;
	while (*p != '\0' && !err) {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		size_t k = strspn(p, " \t\r");
		int blank = k >= len;
		int item = len >= 2 && p[0] == '-' && p[1] == ' ';
		int rule = is_rule(p, len);
		if ((blank || item || rule) && pend != NULL) {
			err |= buf_puts(&b, "</p>\n") < 0;
			pend = NULL;
		}
		if (!item && in_ul) {
			err |= buf_puts(&b, "</ul>\n") < 0;
			in_ul = 0;
		}
		if (rule) {
			/* the notices' "-----" separators (agent.c) */
			err |= buf_puts(&b, "<hr style=\"border:0;border-top:1px solid #d1d5db;"
					    "margin:18px 0;\">\n") < 0;
		} else if (item) {
			if (!in_ul)
				err |= buf_puts(&b, "<ul style=\"margin:0 0 14px 0;padding-left:22px;\">\n") < 0;
			in_ul = 1;
			err |= buf_puts(&b, "<li>") < 0 || line(&b, p + 2, len - 2) < 0 ||
			       buf_puts(&b, "</li>\n") < 0;
		} else if (!blank) {
			if (pend == NULL) {
				pend = para_end(p);
				int safety = in->safety != NULL && in->safety[0] != '\0' &&
					     same_words(p, (size_t)(pend - p), in->safety);
				err |= buf_puts(&b, safety ? s_open : p_open) < 0;
			} else {
				err |= buf_puts(&b, "<br>\n") < 0;
			}
			size_t l = len;
			while (l > 0 && p[l - 1] == '\r')
				l--;
			err |= line(&b, p, l) < 0;
		}
		p = eol != NULL ? eol + 1 : p + len;
	}
	if (pend != NULL)
		err |= buf_puts(&b, "</p>\n") < 0;
	if (in_ul)
		err |= buf_puts(&b, "</ul>\n") < 0;
	err |= buf_puts(&b, "</td></tr>\n<tr><td class=\"dg-footer\" style=\"padding:12px 24px;"
			    "border-top:1px solid #e5e7eb;color:#6b7280;" FONT
			    "font-size:12px;line-height:1.5;\">") < 0;
	err |= escs(&b, brand) < 0;
	err |= buf_puts(&b, "</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n") < 0;
	if (err) {
		buf_free(&b);
		return -1;
	}
	*html_r = buf_steal(&b, NULL);
	return 0;
}

int
design_compose(const struct config *config, const char *lang, const char *subject,
	       const char *ticket_ref, struct compose *c)
{
	const char *text = compose_text(c);
	if (text == NULL || text[0] == '\0' || compose_html(c) != NULL)
		return 0;
	const struct config_brand *b = &config->brand;
	struct design_input in = { lang != NULL ? lang : "en",
				   subject != NULL ? subject : "",
				   b->name != NULL ? b->name : config->support_name,
				   b->colour,
				   b->logo_url,
				   ticket_ref,
				   NULL };
	/* every byte escaped at most 6 times ("&quot;"), links twice, and the frame */
	size_t max = strlen(text) * 12 + 16384;
	char *html = NULL;
	if (design_html(text, &in, max, &html) < 0)
		return -1;
	compose_set_html(c, html, strlen(html));
	free(html);
	return 1;
}
