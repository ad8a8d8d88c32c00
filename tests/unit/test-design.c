/*
 * test-design: the designed HTML of acknowledgements and SLA notices,
 * rendered from the shipped templates: the brand band, the ticket number
 * box, the safety line marked in every language, links, no <style>, no
 * flex or grid, no remote content unless a logo is configured, values
 * escaped. With a directory argument it also writes ack.html,
 * ack-zh-CN.html and notice.html there, for test-design-html.sh to open
 * in Chromium.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/design.h"
#include "gateway/template.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define NOW 1715691600

static void
save(const char *dir, const char *name, const char *html)
{
	if (dir == NULL)
		return;
	char *path = xasprintf("%s/%s", dir, name);
	test_assert_int(test_write_file(path, html), 0);
	free(path);
}

static int
has(const char *html, const char *s)
{
	if (strstr(html, s) != NULL)
		return 1;
	fprintf(stderr, "%s: missing %s\n", test_current, s);
	return 0;
}

/* What every designed document must be. */
static void
common(const char *html)
{
	test_assert(has(html, "<!DOCTYPE html>"));
	test_assert(has(html, "max-width:600px"));
	test_assert(has(html, "class=\"dg-brand\" style=\"background:#0a7d5a;"));
	test_assert(has(html, "ACME &amp; Co"));
	test_assert(strstr(html, "<style") == NULL);
	test_assert(strstr(html, "flex") == NULL && strstr(html, "grid") == NULL);
	test_assert(strstr(html, "<script") == NULL);
	test_assert(strstr(html, "<img") == NULL); /* no logo configured */
}

static void
test_acks(struct config *config, struct ack_templates *t, const char *dir)
{
	static const char *const langs[] = { "en", "de", "fr", "zh-CN", "zh-TW" };
	for (size_t i = 0; i < N_ELEMENTS(langs); i++) {
		char name[64];
		snprintf(name, sizeof(name), "ack %s", langs[i]);
		test_begin(name);
		struct ack_input *in = ack_sample_input("delayed_payment", langs[i], NOW);
		struct tmpl_value *d = ack_data_build(config, NULL, in, NULL);
		struct ack_mail mail;
		const char *error = NULL;
		test_assert_int(ack_render(t, "delayed_payment", langs[i], d, &mail, &error), 0);
		if (mail.html != NULL) {
			common(mail.html);
			/* the ticket box: the label and the number */
			char *box = xasprintf("%s %s</td>", design_ticket_label(langs[i]),
					      tmpl_value_string(tmpl_map_get(tmpl_map_get(d, "ticket"), "ref")));
			test_assert(has(mail.html, "class=\"dg-ticket\""));
			test_assert(has(mail.html, box));
			free(box);
			/* the safety line is marked, once */
			const char *s = strstr(mail.html, "class=\"dg-safety\"");
			test_assert(s != NULL);
			test_assert(s == NULL || strstr(s + 17, "dg-safety") == NULL);
			test_assert(has(mail.html, "href=\"https://"));
			/* the text part is whole */
			test_assert(mail.text != NULL && strlen(mail.text) > 100);
			if (strcmp(langs[i], "en") == 0)
				save(dir, "ack.html", mail.html);
			if (strcmp(langs[i], "zh-CN") == 0)
				save(dir, "ack-zh-CN.html", mail.html);
		}
		ack_mail_clear(&mail);
		tmpl_value_free(&d);
		ack_sample_input_free(&in);
	}
}

static void
test_notice(struct ack_templates *t, const char *dir)
{
	test_begin("sla notice");
	struct tmpl_value *d = tmpl_map_new();
	struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
	tmpl_map_set_string(tk, "tag", "[Support #1042]");
	tmpl_map_set_string(tk, "subject", "Withdrawal <not> received");
	tmpl_map_set_string(tk, "customer", "Li Wei <li@example.com>");
	tmpl_map_set_string(tk, "priority", "high");
	tmpl_map_set_string(tk, "queue", "payments");
	tmpl_map_set_string(tk, "status", "open");
	tmpl_map_set_bool(d, "first_response", 1);
	tmpl_map_set_string(d, "due", "Tuesday, 14 May 2024, 14:00 (UTC+08:00)");
	tmpl_map_set_string(d, "left", "45 minutes");
	tmpl_map_set_string(d, "policy", "standard");
	struct ack_mail mail;
	const char *error = NULL;
	test_assert_int(ack_render_in(t, "sla", "warning", "en", d, &mail, &error), 0);
	if (mail.html != NULL) {
		common(mail.html);
		test_assert(has(mail.html, "Ticket [Support #1042]</td>"));
		test_assert(has(mail.html, "Withdrawal &lt;not&gt; received"));
		test_assert(strstr(mail.html, "dg-safety") == NULL);
		save(dir, "notice.html", mail.html);
	}
	ack_mail_clear(&mail);
	tmpl_value_free(&d);
}

static void
test_logo_and_colour(void)
{
	test_begin("logo");
	struct design_input in = { "en", "t", "B", "red;background:url(x)", "https://cdn.example/l\".png",
				   "#1", NULL };
	char *html = NULL;
	test_assert_int(design_html("Hello\n", &in, 1 << 20, &html), 0);
	if (html != NULL) {
		test_assert(has(html, "<img src=\"https://cdn.example/l&quot;.png\" alt=\"B\""));
		test_assert(strstr(html, "url(x)") == NULL); /* a bad colour is not used */
		test_assert(has(html, "background:#1f4e8c"));
	}
	free(html);
	test_begin("limit");
	test_assert_int(design_html("Hello\n", &in, 100, &html), -1);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/templates", top != NULL ? top : "..");
	struct config *config = config_defaults("/tmp");
	free(config->support_name);
	config->support_name = xstrdup("Example Support");
	config->brand.name = xstrdup("ACME & Co");
	free(config->brand.colour);
	config->brand.colour = xstrdup("#0a7d5a");
	config->selfhelp.delayed_payment = xstrdup("https://help.example.test/deposits");
	struct ack_templates *t = ack_templates_new(config, dir);
	test_acks(config, t, argc > 1 ? argv[1] : NULL);
	test_notice(t, argc > 1 ? argv[1] : NULL);
	test_logo_and_colour();
	ack_templates_free(&t);
	config_free(&config);
	free(dir);
	return test_exit();
}
