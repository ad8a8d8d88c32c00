/*
 * Unit tests for gateway/ack.c: the template data (localised names,
 * promise, after-hours flag, missing information, self-help links), the
 * shipped templates rendered for every category and language (each must
 * carry the ticket number, the promise and the safety line), fallbacks,
 * escaping of hostile values, and `template check` on broken templates.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/template.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

static char *templates_dir;

/* 2024-05-14 08:00:00 UTC: Tuesday 16:00 in Shanghai. */
#define TUE_1600_SHANGHAI 1715673600
/* 2024-05-14 13:00:00 UTC: Tuesday 21:00 in Shanghai, after hours. */
#define TUE_2100_SHANGHAI 1715691600

static struct config *
test_config(void)
{
	struct config *c = config_defaults("/tmp");
	free(c->hours.timezone);
	c->hours.timezone = xstrdup("Asia/Shanghai");
	free(c->hours.week);
	c->hours.week = xstrdup("mon-fri 09:00-18:00");
	free(c->hours.holidays);
	c->hours.holidays = xstrdup("2024-05-15");
	c->selfhelp.delayed_payment = xstrdup("https://help.example.test/deposits https://help.example.test/withdrawals");
	free(c->support_name);
	c->support_name = xstrdup("Example Exchange Support");
	return c;
}

static const char *
str_at(const struct tmpl_value *v, const char *path)
{
	/* "a.b" look-up for tests */
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	const struct tmpl_value *cur = v;
	for (char *p = buf, *dot; cur != NULL && p != NULL; p = dot != NULL ? dot + 1 : NULL) {
		dot = strchr(p, '.');
		if (dot != NULL)
			*dot = '\0';
		cur = tmpl_map_get(cur, p);
	}
	return cur != NULL ? tmpl_value_string(cur) : NULL;
}

static int
bool_at(const struct tmpl_value *v, const char *key)
{
	return tmpl_value_bool(tmpl_map_get(v, key));
}

static void
test_data(void)
{
	struct config *config = test_config();
	struct hours *hours;
	const char *error;
	test_begin("data: hours from config");
	test_assert_int(ack_hours_from_config(config, &hours, &error), 0);

	static const struct ack_field fields[] = {
		{ "amount", "0.5" }, { "coin", "BTC" }, { "wallet_address", "0x1234" },
		{ "custom_ref", "R-77" }, { "amount", "9.9" },
	};
	struct ack_input in = {
		.ticket_id = 1042,
		.subject = "提现还没到账",
		.customer_name = "李伟",
		.customer_address = "li.wei@example.com",
		.category = "delayed_payment",
		.priority = "high",
		.language = "zh-CN",
		.fields = fields,
		.n_fields = N_ELEMENTS(fields),
		.received_at = TUE_1600_SHANGHAI,
	};
	int64_t due = 0;
	struct tmpl_value *d = ack_data_build(config, hours, &in, &due);
	test_begin("data: zh-CN delayed payment, high, in hours, next day a holiday");
	test_assert_str(str_at(d, "lang"), "zh-CN");
	test_assert_str(str_at(d, "ticket.ref"), "#1042");
	test_assert_str(str_at(d, "ticket.id"), "1042");
	test_assert_str(str_at(d, "customer.name"), "李伟");
	test_assert_str(str_at(d, "category.key"), "delayed_payment");
	test_assert_str(str_at(d, "category.name"), "充提币延迟");
	test_assert_str(str_at(d, "priority.name"), "高");
	/* 4 business hours from Tue 16:00: 2 on Tuesday, Wednesday is a
	   holiday, 2 on Thursday -> Thu 11:00. */
	test_assert_str(str_at(d, "promise.due"), "2024年5月16日（星期四）11:00（UTC+08:00）");
	test_assert_str(str_at(d, "promise.target"), "4 个工作小时");
	test_assert_str(str_at(d, "promise.iso"), "2024-05-16T03:00:00Z");
	test_assert_int(due, 1715828400);
	test_assert(!bool_at(d, "after_hours"));
	/* amount and coin together; first value per name; other fields only
	   by name (issue 10.12: only what a template names is shown) */
	const struct tmpl_value *fl = tmpl_map_get(d, "fields");
	test_assert_int(tmpl_list_count(fl), 2);
	test_assert_str(str_at(tmpl_list_at(fl, 0), "label"), "金额");
	test_assert_str(str_at(tmpl_list_at(fl, 0), "value"), "0.5 BTC");
	test_assert_str(str_at(tmpl_list_at(fl, 1), "label"), "钱包地址");
	test_assert_str(str_at(d, "field.custom_ref"), "R-77");
	test_assert_str(str_at(d, "field.amount"), "0.5 BTC");
	/* the TxID is missing; the amount is not */
	const struct tmpl_value *ml = tmpl_map_get(d, "missing");
	test_assert_int(tmpl_list_count(ml), 1);
	test_assert_str(str_at(tmpl_list_at(ml, 0), "key"), "tx_hash");
	test_assert(bool_at(d, "has_missing"));
	const struct tmpl_value *sl = tmpl_map_get(d, "selfhelp");
	test_assert_int(tmpl_list_count(sl), 2);
	test_assert_str(str_at(tmpl_list_at(sl, 1), "url"), "https://help.example.test/withdrawals");
	test_assert_str(str_at(d, "support.name"), "Example Exchange Support");
	test_assert(str_at(d, "promise.due_desk") == NULL);
	tmpl_value_free(&d);

	/* The customer's Date header said -0500: the same instant in their
	   zone, the offset stated; the desk's time beside it. */
	test_begin("data: the promise in the customer's zone");
	in.has_customer_zone = 1;
	in.customer_utoff = -5 * 3600;
	due = 0;
	d = ack_data_build(config, hours, &in, &due);
	test_assert_str(str_at(d, "promise.due"), "2024年5月15日（星期三）22:00（UTC-05:00）");
	test_assert_str(str_at(d, "promise.due_desk"), "2024年5月16日（星期四）11:00（UTC+08:00）");
	test_assert_str(str_at(d, "promise.iso"), "2024-05-16T03:00:00Z");
	test_assert_int(due, 1715828400);
	tmpl_value_free(&d);
	/* A target the SLA policy gives (here 1 business hour) wins over the
	   priority's; a given 0 is no promise. */
	test_begin("data: the SLA policy's target");
	in.has_customer_zone = 0;
	in.target_given = 1;
	in.target = 3600;
	d = ack_data_build(config, hours, &in, &due);
	test_assert_str(str_at(d, "promise.due"), "2024年5月14日（星期二）17:00（UTC+08:00）");
	test_assert_str(str_at(d, "promise.target"), "1 个工作小时");
	tmpl_value_free(&d);
	in.target = 0;
	due = 1;
	d = ack_data_build(config, hours, &in, &due);
	test_assert(tmpl_map_get(d, "promise") == NULL);
	test_assert_int(due, 0);
	tmpl_value_free(&d);
	in.target_given = 0;

	struct {
		const char *lang, *category, *priority;
		int64_t at;
		const char *due, *target, *catname;
		int after;
	} cases[] = {
		{ "en", "failed_trade", "normal", TUE_2100_SHANGHAI,
		  /* 24 business hours of 9 a day from Tue 21:00, Wed closed:
		     Thu 9, Fri 9, Mon 6 -> Mon 15:00 */
		  "Monday, 20 May 2024, 15:00 (UTC+08:00)", "24 business hours", "Failed trade", 1 },
		{ "fr", "complaint", "urgent", TUE_2100_SHANGHAI, "jeudi 16 mai 2024 à 10h00 (UTC+08:00)",
		  "1 heure ouvrée", "Réclamation", 1 },
		{ "de", "account_security", "low", TUE_1600_SHANGHAI,
		  "Donnerstag, 23. Mai 2024, 10:00 Uhr (UTC+08:00)", "48 Geschäftsstunden", "Kontosicherheit", 0 },
		{ "zh-TW", "registration", "high", TUE_1600_SHANGHAI,
		  "2024年5月16日（星期四）11:00（UTC+08:00）", "4 個工作小時", "註冊與身分驗證", 0 },
		/* unknown language: the default language; a category of the rules
		   (issue 10.19: never "General enquiry"): its key made readable */
		{ "ja", "kyc", NULL, TUE_1600_SHANGHAI, "Monday, 20 May 2024, 13:00 (UTC+08:00)",
		  "24 business hours", "KYC", 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].lang);
		struct ack_input x = { .ticket_id = 7, .category = cases[i].category,
				       .priority = cases[i].priority, .language = cases[i].lang,
				       .received_at = cases[i].at };
		d = ack_data_build(config, hours, &x, NULL);
		test_assert_str(str_at(d, "promise.due"), cases[i].due);
		test_assert_str(str_at(d, "promise.target"), cases[i].target);
		test_assert_str(str_at(d, "category.name"), cases[i].catname);
		test_assert_int(bool_at(d, "after_hours"), cases[i].after);
		test_assert(str_at(d, "customer.name") == NULL);
		tmpl_value_free(&d);
	}

	test_begin("data: no hours, no promise");
	struct ack_input y = { .ticket_id = 8, .language = "en" };
	d = ack_data_build(config, NULL, &y, &due);
	test_assert(tmpl_map_get(d, "promise") == NULL);
	test_assert_int(due, 0);
	tmpl_value_free(&d);

	test_begin("ack_language");
	test_assert_str(ack_language(config, "zh-Hant-HK"), "zh-TW");
	test_assert_str(ack_language(config, "zh"), "zh-CN");
	test_assert_str(ack_language(config, "ja"), "en");
	free(config->ack.default_language);
	config->ack.default_language = xstrdup("de");
	test_assert_str(ack_language(config, "ko"), "de");
	test_assert_str(ack_language(config, NULL), "de");
	test_assert_str(ack_language(NULL, NULL), "en");
	hours_free(&hours);
	config_free(&config);
}

/* Phrases every rendered acknowledgement must contain, per language. */
static const struct {
	const char *lang;
	const char *safety[3]; /* password, private key, seed phrase */
	const char *promise;
} musts[] = {
	{ "zh-CN", { "密码", "私钥", "助记词" }, "最晚将于" },
	{ "zh-TW", { "密碼", "私鑰", "助記詞" }, "最晚會在" },
	{ "en", { "password", "private key", "seed phrase" }, "at the latest" },
	{ "fr", { "mot de passe", "clé privée", "phrase de récupération" }, "au plus tard" },
	{ "de", { "Passwort", "privaten Schlüssel", "Seed-Phrase" }, "spätestens" },
};

static void
test_render_shipped(void)
{
	struct config *config = test_config();
	struct hours *hours;
	const char *error;
	ack_hours_from_config(config, &hours, &error);
	struct ack_templates *t = ack_templates_new(config, templates_dir);
	for (size_t c = 0; ack_categories[c] != NULL; c++) {
		for (size_t l = 0; l < N_ELEMENTS(musts); l++) {
			char name[96];
			snprintf(name, sizeof(name), "render %s.%s", ack_categories[c], musts[l].lang);
			test_begin(name);
			struct ack_input *in = ack_sample_input(ack_categories[c], musts[l].lang,
								TUE_2100_SHANGHAI);
			struct tmpl_value *d = ack_data_build(config, hours, in, NULL);
			struct ack_mail mail;
			int ret = ack_render(t, ack_categories[c], musts[l].lang, d, &mail, &error);
			test_assert_int(ret, 0);
			if (ret < 0) {
				printf("  %s\n", error);
			} else {
				char *want = xasprintf("/ack/%s.%s.txt", ack_categories[c], musts[l].lang);
				test_assert(strstr(mail.template, want) != NULL);
				free(want);
				/* The gateway adds the configured subject tag itself;
				   a template must not bring a second one. */
				test_assert(mail.subject[0] != '\0' && strstr(mail.subject, "1042") == NULL);
				test_assert(strchr(mail.subject, '\n') == NULL);
				test_assert(strstr(mail.text, "#1042") != NULL);
				test_assert(strstr(mail.text, "{{") == NULL && strstr(mail.html, "{{") == NULL);
				test_assert(strstr(mail.text, "\n\n\n") == NULL);
				for (int k = 0; k < 3; k++) {
					test_assert(strstr(mail.text, musts[l].safety[k]) != NULL);
					test_assert(strstr(mail.html, musts[l].safety[k]) != NULL);
				}
				test_assert(strstr(mail.text, musts[l].promise) != NULL);
				/* the customer's name, the category and the after-hours note */
				test_assert(strstr(mail.text, in->customer_name) != NULL);
				test_assert(strstr(mail.text, tmpl_value_string(tmpl_map_get(
							  tmpl_map_get(d, "category"), "name"))) != NULL);
				test_assert(strstr(mail.html, "<!DOCTYPE html>") != NULL);
				test_assert(strstr(mail.html, "lang=\"") != NULL);
				/* the missing-information list where the category needs one */
				int needs = strcmp(ack_categories[c], "complaint") != 0 &&
					    strcmp(ack_categories[c], "other") != 0;
				const struct tmpl_value *ml = tmpl_map_get(d, "missing");
				test_assert_int(tmpl_list_count(ml) > 0, needs);
				if (needs)
					test_assert(strstr(mail.text, tmpl_value_string(tmpl_map_get(
								  tmpl_list_at(ml, 0), "label"))) != NULL);
				if (getenv("ACK_PRINT") != NULL)
					printf("==== %s\nSubject: %s\n%s", name, mail.subject, mail.text);
				ack_mail_clear(&mail);
			}
			tmpl_value_free(&d);
			ack_sample_input_free(&in);
		}
	}

	test_begin("fallbacks");
	struct ack_input in = { .ticket_id = 5, .language = "en", .category = "kyc" };
	struct tmpl_value *d = ack_data_build(config, hours, &in, NULL);
	struct ack_mail mail;
	test_assert_int(ack_render(t, "kyc", "en", d, &mail, &error), 0);
	test_assert(strstr(mail.template, "/ack/default.en.txt") != NULL);
	ack_mail_clear(&mail);
	test_assert_int(ack_render(t, "failed_trade", "ja", d, &mail, &error), 0);
	test_assert(strstr(mail.template, "/ack/failed_trade.en.txt") != NULL);
	ack_mail_clear(&mail);
	/* path tricks are not names */
	test_assert_int(ack_render(t, "../../etc/passwd", "en", d, &mail, &error), 0);
	test_assert(strstr(mail.template, "/ack/default.en.txt") != NULL);
	ack_mail_clear(&mail);
	tmpl_value_free(&d);

	test_begin("hostile values");
	static const struct ack_field evil_fields[] = { { "order_id", "<img src=x onerror=alert(1)>" } };
	struct ack_input evil = { .ticket_id = 6, .language = "en", .category = "failed_trade",
				  .customer_name = "Eve <script>alert(1)</script>\r\nBcc: x@evil.test",
				  .fields = evil_fields, .n_fields = 1, .received_at = TUE_1600_SHANGHAI };
	d = ack_data_build(config, hours, &evil, NULL);
	test_assert_int(ack_render(t, "failed_trade", "en", d, &mail, &error), 0);
	test_assert(strstr(mail.html, "<script>") == NULL);
	test_assert(strstr(mail.html, "&lt;script&gt;") != NULL);
	test_assert(strstr(mail.html, "<img") == NULL);
	test_assert(strchr(mail.subject, '\r') == NULL && strchr(mail.subject, '\n') == NULL);
	ack_mail_clear(&mail);
	tmpl_value_free(&d);

	test_begin("no templates at all");
	struct ack_templates *none = ack_templates_new(config, "/nonexistent/deskgate");
	d = ack_data_build(config, hours, &in, NULL);
	test_assert_int(ack_render(none, "other", "en", d, &mail, &error), -1);
	test_assert(strstr(error, "no acknowledgement template") != NULL);
	tmpl_value_free(&d);
	ack_templates_free(&none);

	ack_templates_free(&t);
	hours_free(&hours);
	config_free(&config);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, fp);
	fclose(fp);
}

static void
test_check(void)
{
	struct config *config = test_config();
	size_t files = 0;
	test_begin("check: shipped templates");
	FILE *out = tmpfile();
	size_t problems = ack_templates_check(config, templates_dir, out, &files);
	if (problems != 0) {
		rewind(out);
		char line[512];
		while (fgets(line, sizeof(line), out) != NULL)
			printf("  %s", line);
	}
	fclose(out);
	test_assert_int(problems, 0);
	/* templates, partials, name tables; escalation notices (sla/) and status mail (status/:
	   reminder, snooze, solved, merged) */
	test_assert_int(files, 35 + 35 + 5 + 10 + 15 + 5);

	test_begin("check: broken templates");
	char tmpl[] = "/tmp/dg-ack-XXXXXX";
	test_assert(mkdtemp(tmpl) != NULL);
	char *ack = xasprintf("%s/ack", tmpl), *parts = xasprintf("%s/ack/partials", tmpl);
	mkdir(ack, 0755);
	mkdir(parts, 0755);
	char *f1 = xasprintf("%s/default.en.txt", ack), *f2 = xasprintf("%s/other.fr.txt", ack),
	     *f3 = xasprintf("%s/bad.en.txt", parts), *f4 = xasprintf("%s/notes.md", ack),
	     *f5 = xasprintf("%s/complaint.de.txt", ack);
	write_file(f1, "Subject: [{{ticket.ref}}] ok\n\nHello\n{{#x}}\nline 4\n{{> bad}}\n{{> nope}}\n");
	write_file(f2, "Bonjour\n");
	write_file(f3, "one\n{{#open}}\n");
	write_file(f4, "notes");
	write_file(f5, "Subject: x\nno blank line\n");
	out = tmpfile();
	problems = ack_templates_check(config, tmpl, out, &files);
	rewind(out);
	char all[8192];
	size_t n = fread(all, 1, sizeof(all) - 1, out);
	all[n] = '\0';
	fclose(out);
	char *want1 = xasprintf("%s:4: section \"x\" is never closed", f1);
	char *want2 = xasprintf("%s:1: the first line must be \"Subject: ...\"", f2);
	char *want3 = xasprintf("%s:2: section \"open\" is never closed", f3);
	char *want4 = xasprintf("%s: unexpected file name", f4);
	char *want5 = xasprintf("%s:2: expected an empty line after the subject", f5);
	test_assert(strstr(all, want1) != NULL);
	test_assert(strstr(all, want2) != NULL);
	test_assert(strstr(all, want3) != NULL);
	test_assert(strstr(all, want4) != NULL);
	test_assert(strstr(all, want5) != NULL);
	test_assert(problems >= 5);
	if (strstr(all, want1) == NULL || strstr(all, want3) == NULL)
		printf("%s", all);
	/* a fixed default with a missing partial */
	write_file(f1, "Subject: ok\n\nHello\n{{> nope}}\n");
	unlink(f2);
	unlink(f3);
	unlink(f4);
	unlink(f5);
	out = tmpfile();
	problems = ack_templates_check(config, tmpl, out, &files);
	rewind(out);
	n = fread(all, 1, sizeof(all) - 1, out);
	all[n] = '\0';
	fclose(out);
	test_assert_int(problems, 1);
	test_assert(strstr(all, "partial \"nope\" not found") != NULL);
	unlink(f1);
	rmdir(parts);
	rmdir(ack);
	rmdir(tmpl);
	free(want1);
	free(want2);
	free(want3);
	free(want4);
	free(want5);
	free(f1);
	free(f2);
	free(f3);
	free(f4);
	free(f5);
	free(ack);
	free(parts);
	config_free(&config);
}

/* Issue 18: templates and partials are read and compiled once per load
   (one ack_templates): editing the files changes nothing until a new one
   is made (a reload), which then sees the edit. An indented standalone
   partial (compiled with its indent) and the HTML template go the same
   way. */
static void
test_compiled_once(void)
{
	struct config *config = test_config();
	test_begin("templates compiled once per load");
	char dir[] = "/tmp/dg-ack-once-XXXXXX";
	test_assert(mkdtemp(dir) != NULL);
	char *parts = xasprintf("%s/ack/partials", dir);
	desk_mkdir_p(parts);
	char *main_txt = xasprintf("%s/ack/default.en.txt", dir),
	     *main_html = xasprintf("%s/ack/default.en.html", dir),
	     *sig = xasprintf("%s/sig.en.txt", parts), *hsig = xasprintf("%s/sig.en.html", parts);
	write_file(main_txt, "Subject: one {{name}}\n\nbody one {{> sig}}\n  {{> sig}}\n");
	write_file(main_html, "<p>html one {{> sig}}</p>\n");
	write_file(sig, "sig one\n");
	write_file(hsig, "hsig one");
	struct tmpl_value *d = tmpl_map_new();
	tmpl_map_set_string(d, "name", "N");
	struct ack_templates *t = ack_templates_new(config, dir);
	struct ack_mail mail;
	const char *error = NULL;
	const char *want_text = "body one sig one\n\n  sig one\n";
	for (int round = 0; round < 2; round++) {
		int ret = ack_render(t, "other", "en", d, &mail, &error);
		test_assert_int(ret, 0);
		if (ret == 0) {
			test_assert_str(mail.subject, "one N");
			test_assert_str(mail.text, want_text);
			test_assert_str(mail.html, "<p>html one hsig one</p>\n");
			test_assert_str(mail.template, main_txt);
			ack_mail_clear(&mail);
		}
		/* edited on disk after the first render: not seen by t */
		write_file(main_txt, "Subject: two {{name}}\n\nbody two {{> sig}}\n  {{> sig}}\n");
		write_file(main_html, "<p>html two {{> sig}}</p>\n");
		write_file(sig, "sig two\n");
		write_file(hsig, "hsig two");
	}
	ack_templates_free(&t);
	t = ack_templates_new(config, dir);
	test_assert_int(ack_render(t, "other", "en", d, &mail, &error), 0);
	test_assert_str(mail.subject, "two N");
	test_assert_str(mail.text, "body two sig two\n\n  sig two\n");
	test_assert_str(mail.html, "<p>html two hsig two</p>\n");
	ack_mail_clear(&mail);
	/* a template that does not compile fails every render, not only the first */
	write_file(sig, "{{#open}}\n");
	ack_templates_free(&t);
	t = ack_templates_new(config, dir);
	for (int round = 0; round < 2; round++) {
		error = NULL;
		test_assert_int(ack_render(t, "other", "en", d, &mail, &error), -1);
		test_assert(error != NULL && strstr(error, "never closed") != NULL);
	}
	ack_templates_free(&t);
	tmpl_value_free(&d);
	unlink(main_txt);
	unlink(main_html);
	unlink(sig);
	unlink(hsig);
	rmdir(parts);
	char *ack = xasprintf("%s/ack", dir);
	rmdir(ack);
	rmdir(dir);
	free(ack);
	free(parts);
	free(main_txt);
	free(main_html);
	free(sig);
	free(hsig);
	config_free(&config);
}

/* Issue 10.19: the names of categories the rules define. */
static void
test_category_names(void)
{
	static const struct {
		const char *key, *want;
	} readable[] = {
		{ "kyc", "KYC" }, { "kyc_review", "KYC review" }, { "account-unlock", "Account unlock" },
		{ "p2p.trade", "P2P trade" }, { "api_keys", "API keys" }, { "withdrawal", "Withdrawal" },
		{ "fiat_on_ramp", "Fiat on ramp" }, { "account_2fa", "Account 2FA" },
		{ "__x__", "X" }, { NULL, "Other" },
	};
	test_begin("a category key made readable");
	for (size_t i = 0; i < N_ELEMENTS(readable); i++) {
		char *got = ack_category_readable(readable[i].key);
		test_assert_str(got, readable[i].want);
		free(got);
	}

	test_begin("name tables: language, built-in, English, readable");
	char dir[] = "/tmp/dg-ack-names-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return;
	char *path = xasprintf("%s/ack/names", dir);
	desk_mkdir_p(path);
	free(path);
	path = xasprintf("%s/ack/names/categories.zh-CN.txt", dir);
	write_file(path, "# 中文\n  kyc = 身份认证（KYC） \n\nother = 一般问题\n");
	free(path);
	path = xasprintf("%s/ack/names/categories.en.txt", dir);
	write_file(path, "kyc = Identity verification\nvip_desk = Priority desk\n");
	free(path);
	struct config *config = test_config();
	struct ack_templates *t = ack_templates_new(config, dir);
	static const struct {
		const char *key, *lang, *want;
	} names[] = {
		{ "kyc", "zh-CN", "身份认证（KYC）" },	  /* the language's table */
		{ "kyc", "de", "Identity verification" }, /* no German table: English */
		{ "vip_desk", "zh-CN", "Priority desk" }, /* not in zh-CN: English */
		{ "other", "zh-CN", "一般问题" },	  /* a table wins over the built-in */
		{ "other", "fr", "Demande générale" },	  /* built-in before English */
		{ "unheard_of", "fr", "Unheard of" },	  /* nowhere: readable */
	};
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		char *got = ack_category_name(t, names[i].key, names[i].lang);
		test_assert_str(got, names[i].want);
		free(got);
	}
	char *none = ack_category_name(NULL, "kyc", "en");
	test_assert_str(none, "KYC");
	free(none);

	test_begin("template check reads the name tables");
	path = xasprintf("%s/ack/names/categories.fr.txt", dir);
	write_file(path, "kyc Vérification\n");
	free(path);
	char *out_path = xasprintf("%s/check.out", dir);
	FILE *out = fopen(out_path, "w+");
	size_t files = 0;
	size_t problems = ack_templates_check(config, dir, out, &files);
	test_assert(problems >= 1);
	rewind(out);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), out) != NULL)
		found |= strstr(line, "categories.fr.txt:1: want \"key = Name\"") != NULL;
	test_assert(found);
	fclose(out);
	free(out_path);
	ack_templates_free(&t);
	config_free(&config);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	free(cmd);
}

/* Issue 10.12: the desk's own data (rule tags, queue, scores) never
   reaches an acknowledgement, whatever the template names. */
static void
test_internal_fields(void)
{
	struct config *config = test_config();
	struct ack_templates *t = ack_templates_new(config, templates_dir);
	static const struct ack_field fields[] = {
		{ "tags", "vip,whale" }, { "queue", "vip-desk" }, { "risk_score", "97" },
		{ "priority", "urgent" }, { "_rule", "x" }, { "internal_note", "watch him" },
		{ "order_id", "ORD7" },
	};
	struct ack_input in = { .ticket_id = 8, .language = "en", .category = "failed_trade",
				.fields = fields, .n_fields = N_ELEMENTS(fields),
				.received_at = TUE_1600_SHANGHAI };
	test_begin("internal fields: not in the list, not by name");
	struct tmpl_value *d = ack_data_build(config, NULL, &in, NULL);
	const struct tmpl_value *fl = tmpl_map_get(d, "fields");
	test_assert_int(tmpl_list_count(fl), 1);
	test_assert_str(str_at(tmpl_list_at(fl, 0), "key"), "order_id");
	static const char *const never[] = { "field.tags", "field.queue", "field.risk_score",
					     "field._rule", "field.internal_note" };
	for (size_t i = 0; i < N_ELEMENTS(never); i++)
		test_assert(str_at(d, never[i]) == NULL);
	test_assert_str(str_at(d, "priority.key"), "normal"); /* the ticket's, not a field */

	test_begin("internal fields: not in the rendered acknowledgement");
	struct ack_mail mail;
	const char *error;
	test_assert_int(ack_render(t, "failed_trade", "en", d, &mail, &error), 0);
	static const char *const words[] = { "vip", "whale", "97", "tags", "watch him" };
	for (size_t i = 0; i < N_ELEMENTS(words); i++) {
		test_assert(strstr(mail.text, words[i]) == NULL);
		test_assert(strstr(mail.html, words[i]) == NULL);
	}
	test_assert(strstr(mail.text, "ORD7") != NULL);
	ack_mail_clear(&mail);
	tmpl_value_free(&d);

	test_begin("ack_field_internal");
	test_assert(ack_field_internal("tags") && ack_field_internal("score") &&
		    ack_field_internal("fraud_score") && ack_field_internal("internal") &&
		    ack_field_internal(NULL));
	test_assert(!ack_field_internal("order_id") && !ack_field_internal("custom_ref") &&
		    !ack_field_internal("uid"));
	ack_templates_free(&t);
	config_free(&config);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	templates_dir = xasprintf("%s/templates", top != NULL ? top : ".");
	if (access("/usr/share/zoneinfo/Asia/Shanghai", R_OK) != 0)
		return test_skip("no tz database (install tzdata)");
	test_data();
	test_render_shipped();
	test_internal_fields();
	test_category_names();
	test_check();
	test_compiled_once();
	free(templates_dir);
	return test_exit();
}
