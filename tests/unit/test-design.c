/*
 * test-design: the designed HTML of acknowledgements and SLA notices,
 * rendered from the shipped templates: the brand band, the ticket number
 * box, the safety line marked in every language, links, no <style>, no
 * flex or grid, no remote content unless a logo is configured, values
 * escaped; every other mail people read (agents' notifications and
 * handovers, "Answered by" and status notices, desk lists, error mail,
 * survey notices, customers' status mail, digests) designed by the one
 * function deskmail.c calls, relayed replies left as written, a notice
 * near [limits] max_message_size sent as its text alone. With a
 * directory argument it also writes ack.html, ack-zh-CN.html, notice.html
 * and one KIND.html per notice kind there, for test-design-html.sh to
 * open in Chromium.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ack.h"
#include "gateway/agent.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/design.h"
#include "gateway/deskmail.h"
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


/* The texts of the notices as their modules write them (agent.c,
   reply.c, desklist.c, survey.c, collide.c): what design_compose() gets. */
struct kind {
	const char *name;    /* written as NAME.html */
	const char *subject;
	int64_t ticket;      /* 0: about no one ticket (no box) */
	const char *text;
	const char *must;    /* a piece of the text the HTML must show */
};

static char *
kind_text(const char *name)
{
	if (strcmp(name, "new-ticket") == 0)
		return xasprintf("New ticket from Li Wei <li@example.com>\n\n"
				 "Status: new, priority high, queue payments\n"
				 "Attachments: screenshot.png (image/png, 48 KB)\n\n%s%s"
				 "Hello, my deposit of 500 USDT has not arrived.\n"
				 "TxID: 0x5f2c...\n",
				 agent_help_text, agent_rule_line);
	if (strcmp(name, "follow-up") == 0)
		return xasprintf("Follow-up from Li Wei <li@example.com> (unassigned: to every "
				 "agent of queue payments)\n\nStatus: open, priority high, queue "
				 "payments\n\n%s%sAny news? It has been two days.\n",
				 agent_help_text, agent_rule_line);
	if (strcmp(name, "handover") == 0)
		return xasprintf("Ticket #1042 was assigned to you by Bob Agent.\n\n"
				 "Status: open, priority high, queue payments, assigned to "
				 "alice@example.test\nFirst response due: Tuesday, 14 May 2024, 14:00\n"
				 "Attachments: screenshot.png (image/png, 48 KB)\n\n%s%s"
				 "[1] Tuesday, 14 May 2024, 10:00, from Li Wei <li@example.com>\n\n"
				 "Hello, my deposit of 500 USDT has not arrived.\n\n"
				 "[2] Tuesday, 14 May 2024, 10:30, answer to the customer by Bob Agent\n\n"
				 "We are checking it with the wallet team.\n\n"
				 "[3] Tuesday, 14 May 2024, 10:31, internal note by Bob Agent\n\n"
				 "Customer is in a hurry, please follow up.\n%s",
				 agent_help_text, agent_rule_line, agent_rule_line);
	if (strcmp(name, "answered") == 0)
		return xasprintf("Ticket #1042 was answered by Bob Agent <bob@example.test>\n"
				 "on Tuesday, 14 May 2024, 10:30.\n"
				 "Status open, priority high. No need to answer it too.\n\n"
				 "The reply sent to the customer:\n%s"
				 "We are checking it with the wallet team.\n", agent_rule_line);
	if (strcmp(name, "status") == 0)
		return xstrdup("Ticket #1042 is now solved (by Bob Agent, #solved).\n"
			       "The customer was told how to reopen it.\n");
	if (strcmp(name, "desk-list") == 0)
		return xstrdup("Your open tickets (2), by due time:\n\n"
			       "#1042  high, open, assigned to alice@example.test, answer due "
			       "Tuesday, 14 May 2024, 14:00\n     OVERDUE\n"
			       "     Deposit not arrived\n     from Li Wei <li@example.com>, 2 messages\n"
			       "     answer: support+a.1042.k3j2@example.test\n\n"
			       "#1043  normal, new\n     KYC documents\n"
			       "     from <anna@example.org>, 1 message\n"
			       "     answer: support+a.1043.x9q1@example.test\n");
	if (strcmp(name, "error") == 0)
		return xstrdup("Your reply to ticket #1042 was not sent: another agent answered "
			       "it 3 minutes ago.\n\nReply to this mail with #send-anyway to send it "
			       "all the same.\n");
	/* survey-notice */
	return xstrdup("The customer li@example.com rated ticket #1042 2 of 5.\n\nComment:\n\n"
		       "Too slow.\n");
}

/* a and b equal but for CRs */
static int
same_lines(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		if (*a == '\r') {
			a++;
			continue;
		}
		if (*a != *b)
			return 0;
		a++;
		b++;
	}
	return 1;
}

static const struct kind kinds[] = {
	{ "new-ticket", "[Support #1042] New: Deposit not arrived", 1042, NULL,
	  "my deposit of 500 USDT" },
	{ "follow-up", "[Support #1042] Follow-up: Deposit not arrived", 1042, NULL,
	  "Any news?" },
	{ "handover", "[Support #1042] Assigned: Deposit not arrived", 1042, NULL,
	  "internal note by Bob Agent" },
	{ "answered", "[Support #1042] Answered: Deposit not arrived", 1042, NULL,
	  "No need to answer it too." },
	{ "status", "[Support #1042] Solved: Deposit not arrived", 1042, NULL, "now solved" },
	{ "desk-list", "Your open tickets (2)", 0, NULL, "support+a.1043.x9q1@example.test" },
	{ "error", "[Support #1042] Held: Deposit not arrived", 1042, NULL, "#send-anyway" },
	{ "survey-notice", "[Support #1042] Low satisfaction score: Deposit not arrived", 1042,
	  NULL, "Too slow." },
};

static void
test_notices(struct config *config, const char *dir)
{
	for (size_t i = 0; i < N_ELEMENTS(kinds); i++) {
		const struct kind *k = &kinds[i];
		char *file = xasprintf("%s.html", k->name);
		test_begin(file);
		char *text = kind_text(k->name);
		struct compose *c = compose_new();
		compose_set_text(c, text, strlen(text));
		char ref[32] = "";
		if (k->ticket > 0)
			snprintf(ref, sizeof(ref), "#%lld", (long long)k->ticket);
		test_assert_int(design_compose(config, NULL, k->subject, k->ticket > 0 ? ref : NULL, c),
				1);
		const char *html = compose_html(c);
		test_assert(html != NULL);
		if (html != NULL) {
			common(html);
			test_assert(has(html, k->must));
			if (k->ticket > 0)
				test_assert(has(html, "Ticket #1042</td>"));
			else
				test_assert(strstr(html, "dg-ticket") == NULL);
			/* the "-----" rules of the notices are rules, not text */
			test_assert(strstr(html, "-------") == NULL);
			test_assert(strstr(html, "dg-safety") == NULL); /* agents' mail */
			save(dir, file, html);
		}
		/* the text part stays as it was (compose.c writes CRLF) */
		test_assert(same_lines(compose_text(c), text));
		/* a second call leaves the HTML alone */
		test_assert_int(design_compose(config, NULL, k->subject, NULL, c), 0);
		compose_free(&c);
		free(text);
		free(file);
	}
	test_begin("no text, no design");
	struct compose *c = compose_new();
	test_assert_int(design_compose(config, NULL, "s", NULL, c), 0);
	test_assert(compose_html(c) == NULL);
	compose_free(&c);
}

/* deskmail.c designs every message but a relayed reply. */
static void
test_deskmail_hook(struct config *config)
{
	static const struct {
		const char *kind;
		int designed;
	} cases[] = { { "notify", 1 }, { "notice", 1 }, { "desk", 1 }, { "error", 1 },
		      { "alert", 1 }, { "relay", 0 } };
	struct deskmail *dm = NULL;
	const char *error = NULL;
	test_assert_int(deskmail_new(config, NULL, NULL, &dm, &error), 0);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].kind);
		struct deskmail_msg *m = deskmail_start(dm, 1042, cases[i].kind, DESKMAIL_REPLY_NONE,
							NULL, NOW);
		deskmail_add_to(m, NULL, "alice@example.test");
		deskmail_subject(m, "New: ", "Deposit not arrived");
		const char *text = "Hello,\n\nthe deposit arrived.\n";
		compose_set_text(deskmail_compose(m), text, strlen(text));
		struct deskmail_result res;
		test_assert_int(deskmail_render(dm, &m, &res, &error), 0);
		if (res.raw != NULL) {
			char *raw = xmalloc(res.len + 1);
			memcpy(raw, res.raw, res.len);
			raw[res.len] = '\0';
			char *plain = strstr(raw, "Content-Type: text/plain");
			char *html = strstr(raw, "Content-Type: text/html");
			test_assert(plain != NULL);
			test_assert_int(html != NULL, cases[i].designed);
			/* the text first: clients show the last alternative they can */
			test_assert(html == NULL || (plain != NULL && plain < html));
			free(raw);
		}
		deskmail_result_clear(&res);
	}
	deskmail_free(&dm);
}

/* A notice near [limits] max_message_size (a handover or #history of a
   long ticket): the design adds more than the text's size again, but it
   is an extra, never the reason a notice outgrows the limit or does not
   go. With the HTML the mail fits: it keeps it; it would not: the text
   goes alone, whole; text alone too large: it still goes. */
static void
test_deskmail_near_limit(struct config *config)
{
	static const struct {
		const char *name;
		size_t text;
		int designed;
	} cases[] = { { "near limit: designed", 2000, 1 },
		      { "near limit: HTML dropped, text kept", 9000, 0 },
		      { "near limit: text alone too large, still sent", 20000, 0 } };
	uint64_t saved = config->limits.max_message_size;
	config->limits.max_message_size = 16384;
	struct deskmail *dm = NULL;
	const char *error = NULL;
	test_assert_int(deskmail_new(config, NULL, NULL, &dm, &error), 0);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		/* "<b> & </b>" lines: markup the design escapes, several times
		   their size */
		struct buf b;
		buf_init(&b, cases[i].text + 64);
		while (b.len + 40 < cases[i].text)
			(void)buf_puts(&b, "- quoted <b>a & b</b> \"x\" line\n");
		(void)buf_puts(&b, "END-OF-HISTORY\n");
		struct deskmail_msg *m = deskmail_start(dm, 1042, "notify", DESKMAIL_REPLY_NONE,
							NULL, NOW);
		deskmail_add_to(m, NULL, "alice@example.test");
		deskmail_subject(m, "Handover: ", "Deposit not arrived");
		compose_set_text(deskmail_compose(m), buf_cstr(&b), b.len);
		buf_free(&b);
		struct deskmail_result res;
		test_assert_int(deskmail_render(dm, &m, &res, &error), 0);
		test_assert(res.raw != NULL);
		if (res.raw != NULL) {
			test_assert(memmem(res.raw, res.len, "Content-Type: text/plain", 24) != NULL);
			test_assert(memmem(res.raw, res.len, "END-OF-HISTORY", 14) != NULL);
			test_assert_int(memmem(res.raw, res.len, "Content-Type: text/html", 23) != NULL,
					cases[i].designed);
			if (cases[i].text < 16384)
				test_assert(res.len <= 16384);
		}
		deskmail_result_clear(&res);
	}
	deskmail_free(&dm);
	config->limits.max_message_size = saved;
}

/* Customers' status mail (pending.c) and the digest (digest.c) come
   from templates and get the design there (ack_render_in()). */
static void
test_status_and_digest(struct ack_templates *t, const char *dir)
{
	static const char *const names[] = { "reminder", "solved" };
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		test_begin(names[i]);
		struct tmpl_value *d = tmpl_map_new();
		struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
		tmpl_map_set_string(tk, "tag", "[Support #1042]");
		tmpl_map_set_string(tk, "ref", "#1042");
		tmpl_map_set_string(tk, "subject", "Deposit not arrived");
		tmpl_map_set_string(tk, "customer_name", "Li Wei");
		tmpl_map_set_string(d, "since", "Tuesday, 14 May 2024");
		tmpl_map_set_bool(d, "solved", 1);
		tmpl_map_set_bool(d, "reopen", 1);
		tmpl_map_set_string(d, "reopen_until", "Tuesday, 28 May 2024");
		struct ack_mail mail;
		const char *error = NULL;
		test_assert_int(ack_render_in(t, "status", names[i], "en", d, &mail, &error), 0);
		if (mail.html != NULL) {
			common(mail.html);
			test_assert(has(mail.html, "Ticket #1042</td>"));
			/* customers' mail: the safety line, marked */
			test_assert(has(mail.html, "class=\"dg-safety\""));
			char *file = xasprintf("status-%s.html", names[i]);
			save(dir, file, mail.html);
			free(file);
		}
		ack_mail_clear(&mail);
		tmpl_value_free(&d);
	}
	test_begin("digest");
	struct tmpl_value *d = tmpl_map_new();
	tmpl_map_set_string(d, "recipient", "Alice Agent");
	tmpl_map_set_string(d, "date", "Tuesday, 14 May 2024");
	tmpl_map_set_string(d, "now", "09:00");
	tmpl_map_set_string(d, "timezone", "Asia/Shanghai");
	tmpl_map_set_string(d, "count_mine", "1");
	tmpl_map_set_string(d, "count_unassigned", "1");
	tmpl_map_set_bool(d, "has_mine", 1);
	tmpl_map_set_bool(d, "has_unassigned", 1);
	struct tmpl_value *mine = tmpl_list_add_map(tmpl_map_add_list(d, "mine"));
	tmpl_map_set_string(mine, "tag", "[Support #1042]");
	tmpl_map_set_string(mine, "subject", "Deposit not arrived");
	tmpl_map_set_string(mine, "priority", "high");
	tmpl_map_set_string(mine, "status", "open");
	tmpl_map_set_string(mine, "due", "14:00");
	struct tmpl_value *un = tmpl_list_add_map(tmpl_map_add_list(d, "unassigned"));
	tmpl_map_set_string(un, "tag", "[Support #1043]");
	tmpl_map_set_string(un, "subject", "KYC documents");
	tmpl_map_set_string(un, "queue", "kyc");
	tmpl_map_set_string(un, "priority", "normal");
	struct ack_mail mail;
	const char *error = NULL;
	test_assert_int(ack_render_in(t, "digest", "agent", "en", d, &mail, &error), 0);
	if (mail.html != NULL) {
		common(mail.html);
		test_assert(has(mail.html, "KYC documents"));
		test_assert(strstr(mail.html, "dg-ticket") == NULL);
		save(dir, "digest.html", mail.html);
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
	test_notices(config, argc > 1 ? argv[1] : NULL);
	test_deskmail_hook(config);
	test_deskmail_near_limit(config);
	test_status_and_digest(t, argc > 1 ? argv[1] : NULL);
	test_logo_and_colour();
	ack_templates_free(&t);
	config_free(&config);
	free(dir);
	return test_exit();
}
