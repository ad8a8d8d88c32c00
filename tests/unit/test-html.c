/*
 * test-html: html_to_text() on a table of documents (block structure,
 * links, images, dropped elements, entities, white space, bounds) and on
 * hostile input (deep nesting, broken markup, invalid UTF-8, NUL bytes).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/html.h"
#include "base/util.h"
#include "tests/unit/test.h"


static const struct {
	const char *name, *html;
	size_t max_out; /* 0: 65536 */
	int ret;
	const char *text; /* expected output when ret == 0 */
} cases[] = {
	{ "paragraphs", "<p>Hello <b>world</b></p><p>Second</p>", 0, 0, "Hello world\n\nSecond" },
	{ "divs are lines", "<div>line 1</div><div>line 2</div>", 0, 0, "line 1\nline 2" },
	{ "br", "a<br>b<br><br>c", 0, 0, "a\nb\n\nc" },
	{ "at most one blank line", "a<br><br><br><br>b<p></p><p></p><p>c</p>", 0, 0, "a\n\nb\n\nc" },
	{ "list items", "<ul><li>one</li><li>two</li></ul>after", 0, 0, "- one\n- two\n\nafter" },
	{ "headings", "<h1>Title</h1>text", 0, 0, "Title\n\ntext" },
	{ "white space collapsed", "  a \t\n  b   <span> c </span>  ", 0, 0, "a b c" },
	{ "entities", "<p>&lt;tag&gt; &amp; &quot;q&quot; &#20320;&#x597D; caf&eacute;</p>", 0, 0,
	  "<tag> & \"q\" 你好 café" },
	{ "nbsp is a space", "a&nbsp;&nbsp;b", 0, 0, "a b" },
	{ "link with other text", "<a href=\"https://exchange.test/t/1\">ticket</a>", 0, 0,
	  "ticket <https://exchange.test/t/1>" },
	{ "link whose text is the URL", "<a href=\"https://exchange.test/\">https://exchange.test/</a>",
	  0, 0, "https://exchange.test/" },
	{ "mailto link", "<a href=\"mailto:help@exchange.test\">help@exchange.test</a> or "
		"<a href=\"mailto:help@exchange.test\">write us</a>", 0, 0,
	  "help@exchange.test or write us <mailto:help@exchange.test>" },
	{ "other schemes are not shown",
	  "<a href=\"javascript:evil()\">js</a> <a href=\"/rel\">rel</a> <a href=\"cid:x\">c</a>", 0,
	  0, "js rel c" },
	{ "image link", "<a href=\"http://x.test/\"><img src=\"a.png\"></a>", 0, 0, "<http://x.test/>" },
	{ "empty link first", "<a href=\"https://x.test/\"></a>", 0, 0, "<https://x.test/>" },
	{ "img alt", "<p>Logo: <img src=\"x.png\" alt=\"[Exchange]\"> end</p>", 0, 0,
	  "Logo: [Exchange] end" },
	{ "dropped elements",
	  "<html><head><title>T</title><style>p{color:red}</style></head><body>"
	  "<script>alert(1)</script>Body<!-- a comment --><template>tpl</template></body></html>",
	  0, 0, "Body" },
	{ "table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>",
	  0, 0, "a b\nc d" },
	{ "pre keeps white space", "<pre>  x   y\n    z</pre>after", 0, 0, "  x   y\n    z\n\nafter" },
	{ "plain text", "no markup at all", 0, 0, "no markup at all" },
	{ "empty", "", 0, 0, "" },
	{ "only white space", " \n\t ", 0, 0, "" },
	{ "unclosed tags", "<p><b>bold <i>both", 0, 0, "bold both" },
	{ "stray end tags", "</div></p>text</b>", 0, 0, "text" },
	{ "garbage markup", "<<<>>><p <<a>x</p>", 0, 0, NULL },
	{ "output bound", "<p>abcdefghij</p>", 5, -1, NULL },
	{ "output bound exactly", "<p>abcde</p>", 5, 0, "abcde" },
	{ "invalid UTF-8", "bad \xff\xfe bytes <p>\xc3\xa9t\xc3\xa9</p>", 0, 0, NULL },
	{ "control characters", "a&#1;b\x01c<pre>x\x02y\r\nz</pre>", 0, 0, NULL },
};

static void
run_case(size_t i)
{
	char *text = NULL;
	size_t len = 0;
	const char *error = NULL;
	size_t max_out = cases[i].max_out ? cases[i].max_out : 65536;

	test_begin(cases[i].name);
	int ret = html_to_text(cases[i].html, strlen(cases[i].html), max_out, &text, &len, &error);
	test_assert_int(ret, cases[i].ret);
	if (ret == 0) {
		test_assert(text != NULL && strlen(text) == len && len <= max_out);
		test_assert(text != NULL && utf8_valid((const unsigned char *)text, len));
		for (size_t k = 0; text != NULL && k < len; k++)
			test_assert((unsigned char)text[k] >= 0x20 || text[k] == '\n' || text[k] == '\t');
		if (cases[i].text != NULL)
			test_assert_str(text, cases[i].text);
	} else {
		test_assert(text == NULL && error != NULL);
	}
	free(text);
}

/* Nothing may crash or overflow on these; their text is what is left
   after libxml2's recovery. */
static void
test_hostile(void)
{
	static const size_t depths[] = { 100, 300, 5000, 100000 };
	for (size_t k = 0; k < N_ELEMENTS(depths); k++) {
		size_t n = depths[k], len = 0;
		char *html = malloc(n * 11 + 64);
		for (size_t i = 0; i < n; i++) {
			memcpy(html + len, "<div>", 5);
			len += 5;
		}
		memcpy(html + len, "deep", 4);
		len += 4;
		for (size_t i = 0; i < n; i++) {
			memcpy(html + len, "</div>", 6);
			len += 6;
		}
		char *text = NULL;
		size_t tlen;
		const char *error;
		test_begin("deep nesting");
		int ret = html_to_text(html, len, 1 << 20, &text, &tlen, &error);
		test_assert(ret == 0 && text != NULL && strcmp(text, "deep") == 0);
		free(text);
		free(html);
	}

	test_begin("NUL bytes");
	static const char with_nul[] = "<p>a\0b</p>c";
	char *text = NULL;
	size_t tlen;
	const char *error;
	int ret = html_to_text(with_nul, sizeof(with_nul) - 1, 1024, &text, &tlen, &error);
	test_assert(ret == 0 || ret == -1);
	test_assert(ret != 0 || memchr(text, '\0', tlen) == NULL);
	free(text);

	test_begin("many links");
	size_t n = 20000, len = 0;
	char *html = malloc(n * 40 + 1);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(html + len, 41, "<a href=\"https://x.test/%zu\">l</a>", i % 10);
	text = NULL;
	ret = html_to_text(html, len, 1 << 22, &text, &tlen, &error);
	test_assert_int(ret, 0);
	test_assert(text != NULL && strstr(text, "l <https://x.test/9>") != NULL);
	free(text);
	ret = html_to_text(html, len, 1000, &text, &tlen, &error);
	test_assert_int(ret, -1);
	free(html);
}

int
main(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		run_case(i);
	test_hostile();
	return test_exit();
}
