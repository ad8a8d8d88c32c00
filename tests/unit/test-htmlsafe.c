/*
 * test-htmlsafe: agents' HTML as the common clients write it (Gmail,
 * Outlook desktop and web, Apple Mail, Thunderbird) and hostile markup
 * (scripts, event handlers, javascript: links hidden by white space and
 * entities, CSS that loads things, forms and frames, nested comments,
 * broken markup, huge attributes, deep nesting): what must stay, what must
 * go, and the quote and signature cuts.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/htmlsafe.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define MAX_OUT (1024 * 1024)

static const char *const cids[] = { "image001.png@01DA1234.ABCDEF00", "logo@x" };
static const char *const cmds[] = { "#close", "#priority high" };
static const char *const sigs[] = { "Alice Agent | Support" };

static struct htmlsafe_result
clean(const char *html)
{
	struct htmlsafe_options o = { MAX_OUT, cids, 2, cmds, 2, sigs, 1, 0 };
	struct htmlsafe_result r;
	const char *error = NULL;
	if (htmlsafe_clean(html, strlen(html), &o, &r, &error) < 0) {
		test_assert(!"htmlsafe_clean failed");
		memset(&r, 0, sizeof(r));
		r.html = xstrdup("");
	}
	return r;
}

/* A case: the document, what its output holds, and what it must not. */
struct hcase {
	const char *name;
	const char *in;
	const char *has[6];
	const char *not[8];
	int quote, signature;
};

static const struct hcase cases[] = {
	{ "plain", "<p>Hello <b>there</b></p>", { "<p>Hello <b>there</b></p>" }, { "<script" }, 0, 0 },
	{ "script", "<p>a</p><script>alert(1)</script><p>b</p>", { "<p>a</p>", "<p>b</p>" },
	  { "script", "alert" }, 0, 0 },
	{ "events", "<p onclick=\"x()\" onmouseover=x>a</p><img src=x onerror=alert(1)>",
	  { "<p>a</p>" }, { "onclick", "onerror", "onmouseover", "<img" }, 0, 0 },
	{ "javascript links",
	  "<a href=\"javascript:alert(1)\">a</a><a href=\" java\tscript:x\">b</a>"
	  "<a href=\"&#106;avascript:x\">c</a><a href=\"JaVaScRiPt:x\">d</a>"
	  "<a href=\"vbscript:x\">e</a><a href=\"data:text/html,x\">f</a>",
	  { "<a>a</a>", "<a>b</a>", "<a>c</a>", "<a>d</a>", "<a>f</a>" },
	  { "javascript", "script:", "data:", "href" }, 0, 0 },
	{ "good links",
	  "<a href=\"https://example.com/a?b=1&amp;c=2\">x</a> <a href=\"mailto:s@example.com\">m</a>",
	  { "href=\"https://example.com/a?b=1&amp;c=2\"", "href=\"mailto:s@example.com\"" }, { 0 },
	  0, 0 },
	{ "forms and frames",
	  "<form action=\"https://evil\"><input name=p><button>Go</button></form>"
	  "<iframe src=\"https://evil\"></iframe><object data=x></object><embed src=y>"
	  "<svg><script>z</script></svg><math>m</math><p>kept</p>",
	  { "<p>kept</p>" }, { "form", "input", "iframe", "object", "embed", "svg", "evil", "Go" },
	  0, 0 },
	{ "css",
	  "<p style=\"color:red\">a</p><p style=\"background:url(https://t/x.png)\">b</p>"
	  "<p style=\"width:expression(alert(1))\">c</p><p style=\"@import 'x'\">d</p>"
	  "<p style=\"background:u\\72l(x)\">e</p><p style=\"position:fixed;top:0\">f</p>"
	  "<style>@import url(https://t/)</style>",
	  { "<p style=\"color:red\">a</p>", "<p>b</p>", "<p>c</p>", "<p>d</p>", "<p>e</p>",
	    "<p>f</p>" },
	  { "url(", "expression", "import", "position", "\\72" }, 0, 0 },
	{ "remote images",
	  "<p>Logo: <img src=\"https://tracker.example/p.gif\" alt=\"ACME\"> "
	  "<img src=\"data:image/png;base64,AAAA\"><img src=\"cid:logo@x\" alt=\"l\" width=\"10\"></p>",
	  { "ACME", "<img src=\"cid:logo@x\" alt=\"l\" width=\"10\">" },
	  { "tracker", "data:", "https:" }, 0, 0 },
	{ "unknown cid", "<img src=\"cid:nothere@x\" alt=\"gone\">", { "gone" }, { "<img" }, 0, 0 },
	{ "nested comments",
	  "<p>a<!-- <!-- <script>alert(1)</script> --> -->b</p><!--[if mso]><p>x</p><![endif]-->",
	  { "<p>a" }, { "<script", "mso" }, 0, 0 },
	{ "broken markup", "<div><p>one<b>two<i>three</div><td>four</span><p>five",
	  { "one", "two", "three", "four", "five" }, { 0 }, 0, 0 },
	{ "attribute quotes", "<p title='a\"><script>x</script>'>t</p>",
	  { "title=\"a&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"" }, { "<script" }, 0, 0 },
	{ "text escapes", "<p>1 &lt; 2 &amp;&amp; &lt;script&gt;</p>", { "1 &lt; 2 &amp;&amp; &lt;script&gt;" },
	  { "<script" }, 0, 0 },
	/* quotes */
	{ "gmail",
	  "<div dir=\"ltr\">Your deposit has arrived.</div><br><div class=\"gmail_quote\">"
	  "<div dir=\"ltr\" class=\"gmail_attr\">On Mon, 4 Mar 2024 at 10:00, Li Wei &lt;li@example.com&gt; wrote:<br></div>"
	  "<blockquote class=\"gmail_quote\" style=\"margin:0\">where is my deposit</blockquote></div>",
	  { "Your deposit has arrived." }, { "wrote", "where is my deposit", "gmail", "<br>\n</body>" },
	  1, 0 },
	{ "apple mail",
	  "<div>Done, see below.</div><div><br><blockquote type=\"cite\"><div>On 4 Mar 2024, at 10:00, Li Wei wrote:</div>"
	  "<br><div>my question</div></blockquote></div>",
	  { "Done, see below." }, { "my question", "wrote" }, 1, 0 },
	{ "thunderbird",
	  "<p>Answer here.</p><div class=\"moz-cite-prefix\">On 04.03.24 10:00, Li Wei wrote:<br></div>"
	  "<blockquote type=\"cite\" cite=\"mid:x@y\">question</blockquote>",
	  { "Answer here." }, { "question", "wrote", "moz" }, 1, 0 },
	{ "inline answer kept",
	  "<p>See my answers.</p><blockquote type=\"cite\">Q1?</blockquote><p>A1.</p>",
	  { "See my answers.", "Q1?", "A1." }, { 0 }, 0, 0 },
	{ "outlook web",
	  "<div>We have unlocked your account.</div><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">"
	  "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Li Wei<br><b>Sent:</b> Monday</div>"
	  "<div>my account is locked</div>",
	  { "We have unlocked your account." }, { "<hr", "From:", "locked</div>", "Monday" }, 1, 0 },
	{ "outlook desktop",
	  "<div class=WordSection1><p class=MsoNormal>Refund sent.<o:p></o:p></p>"
	  "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
	  "<p class=MsoNormal><b>From:</b> Li Wei <br><b>Sent:</b> Monday</p></div></div>"
	  "<p class=MsoNormal>old text</p></div>",
	  { "<p>Refund sent.</p>" }, { "From:", "old text", "o:p", "E1E1E1" }, 1, 0 },
	{ "outlook header block",
	  "<div><p>Allo!</p><p><b><span>From:</span></b><span> x@example.org [mailto:x@example.org]<br>"
	  "<b>Sent:</b> March-09-12 4:22 PM<br><b>To:</b> Dan</span></p><p>Hi dan</p></div>",
	  { "<p>Allo!</p>" }, { "From:", "Sent:", "Hi dan" }, 1, 0 },
	{ "from in text", "<p>From: our compliance team, a note.</p><p>Please wait.</p>",
	  { "From: our compliance team", "Please wait." }, { 0 }, 0, 0 },
	{ "appendonsend",
	  "<div>Yes.</div><div id=\"appendonsend\"></div><div>older</div>", { "Yes." },
	  { "older" }, 1, 0 },
	/* signatures and commands */
	{ "gmail signature",
	  "<div>Thanks!</div><div class=\"gmail_signature\">Alice<br>ACME</div>", { "Thanks!" },
	  { "ACME" }, 0, 1 },
	{ "dash signature", "<div>Thanks!</div><div>-- <br>Alice<br>+1 555</div>", { "Thanks!" },
	  { "555", "Alice" }, 0, 1 },
	{ "agent signature",
	  "<p>Sent.</p><p>Alice Agent | Support<br>ACME Exchange</p>", { "<p>Sent.</p>" },
	  { "ACME" }, 0, 1 },
	/* mobile and webmail sign-offs carrying a link (issue 15) */
	{ "outlook ios",
	  "<div dir=\"ltr\">Thanks, done.</div><div><br></div><div id=\"ms-outlook-mobile-signature\">"
	  "<div dir=\"ltr\">Get <a href=\"https://aka.ms/o0ukef\">Outlook for iOS</a></div></div>",
	  { "Thanks, done." }, { "Outlook", "aka.ms", "Get " }, 0, 1 },
	{ "outlook ios fr",
	  "<div>Merci, c'est r\xc3\xa9gl\xc3\xa9.</div><div><br></div><div>Envoy\xc3\xa9 \xc3\xa0 partir de "
	  "<a href=\"https://aka.ms/o0ukef\">Outlook pour iOS</a></div>",
	  { "Merci, c'est r\xc3\xa9gl\xc3\xa9." }, { "Envoy", "Outlook", "aka.ms" }, 0, 1 },
	{ "outlook android de",
	  "<p>Erledigt.</p><p>Gesendet von <a href=\"https://aka.ms/ghei36\">Outlook f\xc3\xbcr "
	  "Android</a></p>",
	  { "<p>Erledigt.</p>" }, { "Gesendet", "Outlook", "aka.ms" }, 0, 1 },
	{ "outlook ios, link in the text",
	  "<div>Done.</div><div>Get Outlook for iOS&lt;https://aka.ms/o0ukef&gt;</div>",
	  { "Done." }, { "Outlook", "aka.ms" }, 0, 1 },
	{ "iphone above the quote",
	  "<div dir=\"ltr\">Yes, sent.</div><div dir=\"ltr\"><br><div dir=\"ltr\">Sent from my iPhone</div>"
	  "<div dir=\"ltr\"><br><blockquote type=\"cite\">On 3 May 2024, at 10:00, Bob wrote:<br>"
	  "where is it?</blockquote></div></div>",
	  { "Yes, sent." }, { "iPhone", "where is it", "wrote" }, 1, 1 },
	{ "yahoo android",
	  "<div>OK, thanks</div><div id=\"ymail_android_signature\"><a "
	  "href=\"https://go.onelink.me/107872968?pid=InProduct\">Sent from Yahoo Mail on Android</a></div>",
	  { "OK, thanks" }, { "Yahoo", "onelink" }, 0, 1 },
	{ "samsung",
	  "<div>Done</div><div><br></div><div id=\"composer_signature\"><div "
	  "style=\"font-size:85%;color:#575757\" dir=\"auto\">Sent from my Galaxy</div></div>",
	  { "Done" }, { "Galaxy" }, 0, 1 },
	{ "sign-off words in the middle kept",
	  "<p>Sent from my iPhone</p><p>Then more words of mine.</p>",
	  { "Sent from my iPhone", "Then more words of mine." }, { 0 }, 0, 0 },
	{ "a sentence is not a sign-off",
	  "<p>Hello.</p><p>Sent from my desk, which is cold, I checked the deposit.</p>",
	  { "Sent from my desk, which is cold, I checked the deposit." }, { 0 }, 0, 0 },
	{ "a line above the sign-off kept",
	  "<p>We meet at 10:</p><p>Sent from my iPhone</p>",
	  { "We meet at 10:" }, { "iPhone" }, 0, 1 },
	{ "commands",
	  "<div>#close</div><div>Hello,</div><div><b>#priority&nbsp;high</b><br>Your refund is on its way.</div>",
	  { "Hello,", "Your refund is on its way." }, { "#close", "#priority", "<b></b>" }, 0, 0 },
};

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const struct hcase *c = &cases[i];
		test_begin(c->name);
		struct htmlsafe_result r = clean(c->in);
		for (size_t k = 0; k < N_ELEMENTS(c->has) && c->has[k] != NULL; k++)
			if (strstr(r.html, c->has[k]) == NULL) {
				fprintf(stderr, "%s: missing %s in\n%s\n", c->name, c->has[k], r.html);
				test_assert(0);
			}
		for (size_t k = 0; k < N_ELEMENTS(c->not) && c->not[k] != NULL; k++)
			if (strcasestr(r.html, c->not[k]) != NULL) {
				fprintf(stderr, "%s: %s left in\n%s\n", c->name, c->not[k], r.html);
				test_assert(0);
			}
		test_assert_int(r.quote_removed, c->quote);
		test_assert_int(r.signature_removed, c->signature);
		test_assert(strncmp(r.html, "<!DOCTYPE html>", 15) == 0);
		test_assert(strstr(r.html, "</body></html>") != NULL);
		htmlsafe_result_clear(&r);
	}
}

static void
test_cids(void)
{
	test_begin("cids");
	struct htmlsafe_result r =
		clean("<img src=\"cid:image001.png%4001DA1234.ABCDEF00\"><img src=\"CID:logo@x\">"
		      "<img src=\"cid:logo@x\"><img src=\"cid:other\">");
	test_assert_int(r.n_cids, 2);
	if (r.n_cids == 2) {
		test_assert_str(r.cids[0], "image001.png@01DA1234.ABCDEF00");
		test_assert_str(r.cids[1], "logo@x");
	}
	htmlsafe_result_clear(&r);
	/* a quoted image is not reported (it does not go out) */
	r = clean("<p>hi</p><blockquote type=cite><img src=\"cid:logo@x\"></blockquote>");
	test_assert(strstr(r.html, "cid:") == NULL);
	test_assert_int(r.n_cids, 0);
	htmlsafe_result_clear(&r);
}

static void
test_hostile_sizes(void)
{
	test_begin("huge attribute");
	size_t n = 1024 * 1024;
	char *big = xmalloc(n + 64);
	memcpy(big, "<p title=\"", 10);
	memset(big + 10, 'A', n);
	memcpy(big + 10 + n, "\" style=\"color:red\">x</p>", 26);
	struct htmlsafe_result r = clean(big);
	test_assert(strstr(r.html, "AAAA") == NULL);
	test_assert(strstr(r.html, "<p style=\"color:red\">x</p>") != NULL);
	htmlsafe_result_clear(&r);

	test_begin("deep nesting");
	struct buf b;
	buf_init(&b, 16 * 1024 * 1024);
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, "<div><blockquote type=cite>");
	buf_puts(&b, "deep");
	struct htmlsafe_options o = { MAX_OUT, NULL, 0, NULL, 0, NULL, 0, 1 };
	const char *error = NULL;
	int ret = htmlsafe_clean(buf_cstr(&b), b.len, &o, &r, &error);
	test_assert_int(ret, 0);
	if (ret == 0)
		test_assert(strstr(r.html, "</body></html>") != NULL);
	htmlsafe_result_clear(&r);

	test_begin("output limit");
	o.max_out = 100;
	ret = htmlsafe_clean(buf_cstr(&b), b.len, &o, &r, &error);
	test_assert_int(ret, -1);
	test_assert(r.html == NULL);
	buf_free(&b);
	free(big);

	test_begin("not utf-8");
	r = clean("<p>caf\xe9 \xff</p>");
	test_assert(utf8_valid((const unsigned char *)r.html, r.len));
	htmlsafe_result_clear(&r);
}

int
main(void)
{
	test_table();
	test_cids();
	test_hostile_sizes();
	return test_exit();
}
