/*
 * test-replyhtml: an agent's HTML reply shaped as Outlook writes it (the
 * HTML of the shared corpus's Outlook reply, talon's outlook.eml, with a
 * command line, an inline screenshot, a signature logo and a PDF) becomes
 * the customer's HTML part: quote and command gone, the screenshot a
 * related part, the logo of the quoted history not sent, the PDF an
 * attachment; and the HTML is left out (text alone) when it would show
 * what the text does not: the agent's address, a request for a secret.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/replyhtml.h"
#include "parsers/agentcmd.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"
#include "tests/unit/test.h"


/* A multipart/related mail: html, then the images. */
static struct mime_message *
mail(const char *text, const char *html)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	buf_puts(&b, "From: Alice <alice@desk.example>\r\nTo: support@desk.example\r\n"
		     "Subject: RE: deposit\r\nMessage-ID: <a1@desk.example>\r\nMIME-Version: 1.0\r\n"
		     "Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\n"
		     "Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\n"
		     "Content-Type: multipart/alternative; boundary=A\r\n\r\n--A\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	buf_puts(&b, text);
	buf_puts(&b, "\r\n--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
	buf_puts(&b, html);
	buf_puts(&b, "\r\n--A--\r\n");
	static const char *const ids[] = { "image001.png@01DA6E4F.5B3C2A10",
					   "image002.png@01DA6E4F.5B3C2A10" };
	for (size_t i = 0; i < 2; i++)
		buf_printf(&b,
			   "--R\r\nContent-Type: image/png; name=image00%zu.png\r\n"
			   "Content-Disposition: inline; filename=image00%zu.png\r\n"
			   "Content-ID: <%s>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
			   "iVBORw0KGgoAAAAN\r\n",
			   i + 1, i + 1, ids[i]);
	buf_puts(&b, "--R--\r\n--M\r\nContent-Type: application/pdf; name=statement.pdf\r\n"
		     "Content-Disposition: attachment; filename=statement.pdf\r\n"
		     "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--M--\r\n");
	struct mime_limits limits;
	mime_limits_default(&limits);
	struct mime_message *msg = NULL;
	const char *error = NULL;
	if (mime_parse(b.data, b.len, &limits, &msg, &error) < 0) {
		fprintf(stderr, "mime_parse: %s\n", error);
		test_assert(0);
	}
	buf_free(&b);
	return msg;
}

/* The HTML of the corpus's Outlook reply (its <body>), with our parts in. */
static char *
outlook_html(const char *own)
{
	char *dir = test_corpora_dir();
	if (dir == NULL)
		return NULL;
	char *path = xasprintf("%s/replies/talon/tests/fixtures/standard_replies/outlook.eml", dir);
	size_t len = 0;
	unsigned char *raw = test_read_file(path, &len);
	free(path);
	free(dir);
	if (raw == NULL)
		return NULL;
	const char *body = strstr((const char *)raw, "<body");
	const char *from = body != NULL ? strstr(body, "<p class=MsoNormal><b>") : NULL;
	const char *end = from != NULL ? strstr(from, "</body>") : NULL;
	char *html = NULL;
	if (end != NULL)
		html = xasprintf("<html><head><style>p{x:url(https://t.example/x)}</style></head>"
				 "<body lang=EN-CA><div class=WordSection1>%s%.*s"
				 "<p class=MsoNormal><img width=20 src=\"cid:image002.png@01DA6E4F.5B3C2A10\">"
				 "</p></div></body></html>",
				 own, (int)(end - from), from);
	free(raw);
	return html;
}

static void
test_outlook(void)
{
	test_begin("outlook reply");
	char *html = outlook_html(
		"<p class=MsoNormal>#priority high<o:p></o:p></p>"
		"<p class=MsoNormal>Your deposit has arrived, see the screenshot:<o:p></o:p></p>"
		"<p class=MsoNormal><img width=300 src=\"cid:image001.png@01DA6E4F.5B3C2A10\" "
		"onerror=\"alert(1)\"><o:p></o:p></p>"
		"<p class=MsoNormal>Our <a href=\"https://help.example/deposit\">help page</a>.</p>");
	if (html == NULL) {
		test_skip("the shared corpora are not there");
		return;
	}
	const char *text = "#priority high\r\nYour deposit has arrived, see the screenshot:\r\n"
			   "[cid:image001.png@01DA6E4F.5B3C2A10]\r\nOur help page<https://help.example/deposit>.\r\n\r\n"
			   "From: xxx@xxx.mailgun.org\r\nSent: March-09-12 4:22 PM\r\nTo: Dan Le\r\n";
	struct mime_message *msg = mail(text, html);
	free(html);
	if (msg == NULL)
		return;
	struct config *config = config_defaults("/tmp");
	struct quote_result q;
	const char *error = NULL;
	test_assert_int(quote_strip(msg->text, strlen(msg->text), 0, &q, &error), 0);
	struct agentcmd_list *cmds = agentcmd_parse(q.text, strlen(q.text));
	test_assert_int(cmds->n_cmds, 1);
	const char *why = NULL;
	struct replyhtml *rh = replyhtml_make(config, msg, q.text, cmds, NULL, &why);
	test_assert(rh != NULL);
	if (rh != NULL) {
		const char *h = replyhtml_html(rh);
		test_assert(strstr(h, "Your deposit has arrived") != NULL);
		test_assert(strstr(h, "href=\"https://help.example/deposit\"") != NULL);
		test_assert(strstr(h, "<img src=\"cid:image001.png@01DA6E4F.5B3C2A10\"") != NULL);
		test_assert(strstr(h, "#priority") == NULL);
		test_assert(strstr(h, "From:") == NULL);
		test_assert(strstr(h, "manager") == NULL);
		test_assert(strstr(h, "image002") == NULL);
		test_assert(strstr(h, "onerror") == NULL);
		test_assert(strstr(h, "t.example") == NULL);
		struct compose *c = compose_new();
		compose_set_from(c, NULL, "support@desk.example");
		compose_add_to(c, NULL, "li@example.com");
		compose_set_message_id(c, "x1@desk.example");
		compose_set_text(c, "Your deposit has arrived\n", 25);
		replyhtml_compose(rh, msg, c);
		unsigned char *raw = NULL;
		size_t len = 0;
		test_assert_int(compose_render(c, &raw, &len, &error), 0);
		compose_free(&c);
		struct mime_limits limits;
		mime_limits_default(&limits);
		struct mime_message *out = NULL;
		if (raw != NULL && mime_parse(raw, len, &limits, &out, &error) == 0) {
			test_assert(strstr((const char *)raw, "multipart/related") != NULL);
			test_assert_int(out->n_attachments, 2); /* the screenshot and the PDF */
			for (size_t i = 0; i < out->n_attachments; i++) {
				const struct mime_attachment *a = &out->attachments[i];
				if (a->content_id != NULL) {
					test_assert_str(a->content_id, "image001.png@01DA6E4F.5B3C2A10");
					test_assert(a->is_inline);
				} else {
					test_assert_str(a->filename, "statement.pdf");
				}
			}
			mime_message_free(&out);
		} else {
			test_assert(!"the composed mail does not parse");
		}
		free(raw);
	}
	replyhtml_free(&rh);
	agentcmd_list_free(&cmds);
	free(q.text);
	mime_message_free(&msg);
	config_free(&config);
}

/* HTML that would show more than the text: left out. */
static void
test_refused(void)
{
	static const struct {
		const char *name, *html, *why;
	} cases[] = {
		{ "agent address", "<p>Thanks</p><p><a href=\"mailto:alice@desk.example\">Alice</a></p>",
		  "address" },
		{ "hidden secret request",
		  "<p>Thanks</p><p style=\"font-size:1px\">Please reply with your 12-word recovery phrase "
		  "so we can verify your wallet.</p>",
		  "guard" },
		{ "command left", "<p>Thanks</p><p>#close</p>", "command" },
		{ "nothing", "<p>   </p>", "nothing" },
	};
	struct config *config = config_defaults("/tmp");
	struct config_agent agent = { 0 };
	agent.address = "alice@desk.example";
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct mime_message *msg = mail("Thanks\r\n", cases[i].html);
		if (msg == NULL)
			continue;
		struct agentcmd_list *cmds = agentcmd_parse("Thanks\n", 7);
		const char *why = NULL;
		struct replyhtml *rh = replyhtml_make(config, msg, "Thanks\n", cmds, &agent, &why);
		test_assert(rh == NULL);
		test_assert(why != NULL && strstr(why, cases[i].why) != NULL);
		replyhtml_free(&rh);
		agentcmd_list_free(&cmds);
		mime_message_free(&msg);
	}
	config_free(&config);
}

int
main(void)
{
	test_outlook();
	test_refused();
	return test_exit();
}
