/* Unit tests for gateway/config.c: parsing, validation, file:line errors. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "base/util.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-test-config.XXXXXX";

static char *
write_conf(const char *text)
{
	char *path = xasprintf("%s/deskgate.conf", tmpdir);
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void
test_sizes(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t size, duration;
	} cases[] = {
		{ "0", 0, 0, 0 },
		{ "25", 0, 25, 25 },
		{ "2k", 0, 2048, 0 },
		{ "25M", 0, 25 * 1048576ULL, 0 },
		{ "1G", 0, 1073741824ULL, 0 },
		{ "30s", 0, 0, 30 },
		{ "5m", 0, 5 * 1048576ULL, 300 },
		{ "2h", 0, 0, 7200 },
		{ "1d", 0, 0, 86400 },
		{ "", -1, 0, 0 },
		{ "k", -1, 0, 0 },
		{ "10kb", -1, 0, 0 },
		{ "-1", -1, 0, 0 },
		{ "99999999999999999999", -1, 0, 0 },
		{ "18446744073709551615G", -1, 0, 0 },
	};
	test_begin("sizes and durations");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t v;
		int r1 = config_parse_size(cases[i].in, &v);
		if (cases[i].ret < 0 || cases[i].size != 0 || strcmp(cases[i].in, "0") == 0) {
			if (r1 == 0 && cases[i].size != 0)
				test_assert(v == cases[i].size);
		}
		int r2 = config_parse_duration(cases[i].in, &v);
		if (cases[i].ret < 0) {
			test_assert_int(r1, -1);
			test_assert_int(r2, -1);
		} else if (cases[i].duration != 0) {
			test_assert_int(r2, 0);
			test_assert(v == cases[i].duration);
		}
	}
}

static void
test_good(void)
{
	test_begin("good file");
	char *path = write_conf("# comment\n"
				"; also a comment\n"
				"[general]\n"
				"state_dir = state\n"
				"support_address = help@example.test\n"
				"support_name = Example 客服\n"
				"\n"
				"[limits]\n"
				"max_message_size = 10M\n"
				"max_mime_depth = 5\n"
				"[mailbox main]\n"
				"host = 127.0.0.1\n"
				"username = support@example.test\n"
				"password_file = pw\n"
				"security = starttls\n"
				"[mailbox second]\n"
				"host = imap.example.test\n"
				"username = b\n"
				"password = secret-value\n");
	struct config *config;
	const char *error = NULL;
	int ret = config_load(path, &config, &error);
	test_assert_int(ret, 0);
	if (ret < 0) {
		printf("error: %s\n", error);
		free(path);
		return;
	}
	char *want = xasprintf("%s/state", tmpdir);
	test_assert_str(config->state_dir, want);
	free(want);
	want = xasprintf("%s/state/deskgate.db", tmpdir);
	test_assert_str(config->database, want);
	free(want);
	test_assert_str(config->support_name, "Example 客服");
	test_assert(config->limits.max_message_size == 10 * 1048576ULL);
	test_assert(config->limits.max_mime_depth == 5);
	test_assert(config->limits.max_mime_parts == 500); /* default kept */
	test_assert_int(config->n_mailboxes, 2);
	test_assert_str(config->mailboxes[0].name, "main");
	test_assert(config->mailboxes[0].port == 143); /* starttls default */
	test_assert(config->mailboxes[1].port == 993); /* imaps default */
	test_assert_int(config->mailboxes[0].tls_verify, 1);
	test_assert_str(config->mailboxes[0].folder, "INBOX");
	want = xasprintf("%s/pw", tmpdir);
	test_assert_str(config->mailboxes[0].password_file, want);
	free(want);

	/* Secrets never printed. */
	char *out = NULL;
	size_t out_len = 0;
	FILE *mem = open_memstream(&out, &out_len);
	config_print(config, mem);
	fclose(mem);
	test_assert(strstr(out, "secret-value") == NULL);
	test_assert(strstr(out, "password = <hidden>") != NULL);
	free(out);
	config_free(&config);
	test_assert(config == NULL);
	config_free(&config);
	free(path);
}

static void
test_errors(void)
{
	static const struct {
		const char *text;
		const char *want; /* substring after "deskgate.conf" */
	} cases[] = {
		{ "[general]\nbogus = 1\n", ":2: unknown key \"bogus\" in section [general]" },
		{ "[nosuch]\nx = 1\n", ":2: unknown section [nosuch]" },
		{ "[limits]\n\nmax_mime_depth = 0\n", ":3: max_mime_depth: out of range" },
		{ "[limits]\nmax_mime_depth = many\n", ":2: max_mime_depth: not a non-negative integer" },
		{ "[limits]\nmax_message_size = 10 MB\n", ":2: max_message_size: not a size" },
		{ "[general]\nlog_level = loud\n", ":2: log_level: must be one of error|warn|info|debug" },
		{ "x = 1\n", ":1: key outside of any section" },
		{ "[general]\nthis line has no equals sign\n", ":2: syntax error" },
		{ "[mailbox]\nhost = a\n", ":2: section [mailbox NAME] needs one name" },
		{ "[general]\nhostname = a\n[limits]\nmax_mime_depth = 3\n[limits]\nmax_mime_depth = 0\n",
		  ":6: max_mime_depth: out of range" },
		{ "[mailbox a]\nhost = h\nusername = u\npassword = p\n[general]\nhostname = x\n"
		  "[mailbox a]\nhost = h\n",
		  ":8: duplicate section [mailbox a]" },
		{ "[mailbox a]\nhost = h\n", ": [mailbox a]: username is required" },
		{ "[mailbox a]\nhost = h\nusername = u\n", ": [mailbox a]: password or password_file is required" },
		{ "[mailbox a]\nhost = h\nusername = u\nauth = xoauth2\n", "needs token_command or token_file" },
		{ "[mailbox a]\nhost = h\nusername = u\npassword = p\nidle = maybe\n",
		  ":5: idle: not a boolean" },
		{ "[general]\nsupport_address = nobody\n", "support_address must be an address" },
		{ "[smtp]\nhost = mail.example.test\nsecurity = none\n", "only allowed for a loopback relay" },
		{ "[general]\nsupport_name = a\x01" "b\n", ":2: support_name: control characters" },
	};
	test_begin("errors name file:line");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *path = write_conf(cases[i].text);
		struct config *config = NULL;
		const char *error = NULL;
		test_assert_int(config_load(path, &config, &error), -1);
		test_assert(config == NULL);
		char *want = xasprintf("%s%s", path, cases[i].want);
		if (error == NULL || strncmp(error, want, strlen(want)) != 0) {
			if (error == NULL || strstr(error, cases[i].want) == NULL ||
			    cases[i].want[0] == ':') {
				test_failures++;
				printf("FAIL case %zu: got \"%s\", want prefix \"%s\"\n", i,
				       error ? error : "(null)", want);
			}
		}
		test_checks++;
		free(want);
		free(path);
	}

	test_begin("long line");
	struct buf b;
	buf_init(&b, 100000);
	buf_puts(&b, "[general]\nsupport_name = ");
	for (int i = 0; i < 5000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\n");
	char *path = write_conf(buf_cstr(&b));
	buf_free(&b);
	struct config *config = NULL;
	const char *error = NULL;
	test_assert_int(config_load(path, &config, &error), -1);
	test_assert(error != NULL && strstr(error, ":2: line too long") != NULL);
	free(path);

	test_begin("missing file");
	test_assert_int(config_load("/nonexistent/deskgate.conf", &config, &error), -1);
	test_assert(error != NULL && strstr(error, "/nonexistent/deskgate.conf: No such file") != NULL);
}

static void
test_template(void)
{
	/* What `deskgate init` writes must load, with state_dir set. */
	test_begin("init template");
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	config_write_template(mem, "/var/tmp/dg-state", "help@example.test", "gw.example.test");
	fclose(mem);
	char *path = write_conf(text);
	struct config *config = NULL;
	const char *error = NULL;
	int ret = config_load(path, &config, &error);
	test_assert_int(ret, 0);
	if (ret < 0)
		printf("error: %s\n", error);
	else
	{
		test_assert_str(config->state_dir, "/var/tmp/dg-state");
		test_assert_str(config->support_address, "help@example.test");
		test_assert_str(config->hostname, "gw.example.test");
	}
	config_free(&config);
	free(text);
	free(path);

	test_begin("defaults");
	config = config_defaults("/srv/dg");
	test_assert_str(config->database, "/srv/dg/deskgate.db");
	test_assert(config->limits.max_attachments == 100);
	test_assert_str(config->smtp.security, "auto");
	config_free(&config);
}

/* ---- long lines and lists (issue 10, item 16) ------------------------------ */

static void
test_lists(void)
{
	test_begin("a 10,000-character vip_senders on one line");
	struct buf b;
	buf_init(&b, 1000000);
	buf_puts(&b, "# a comment line longer than libinih's 200-byte buffer: ");
	for (int i = 0; i < 300; i++)
		buf_putc(&b, 'c');
	buf_puts(&b, "\n[rules]\nvip_senders = ");
	int n = 0;
	size_t start = b.len;
	while (b.len - start < 10000) {
		n++;
		buf_printf(&b, "%strader%04d@vip%d.example", n > 1 ? ", " : "", n, n % 7);
	}
	buf_puts(&b, "\n[hours]\nweek = mon-fri 09:00-18:00\n");
	char *path = write_conf(buf_cstr(&b));
	struct config *config = NULL;
	const char *error = NULL;
	test_assert_int(config_load(path, &config, &error), 0);
	if (error != NULL && config == NULL)
		printf("error: %s\n", error);
	if (config != NULL) {
		const char *v = config->rules.vip_senders;
		test_assert(v != NULL && strlen(v) >= 10000);
		char *last = xasprintf("trader%04d@vip%d.example", n, n % 7);
		test_assert(v != NULL && strlen(v) > strlen(last) &&
			    strcmp(v + strlen(v) - strlen(last), last) == 0);
		free(last);
		test_assert_str(config->hours.week, "mon-fri 09:00-18:00");
	}
	config_free(&config);
	free(path);

	test_begin("list keys given again add up; other keys are replaced");
	path = write_conf("[rules]\n"
			  "vip_senders = a@one.example\n"
			  "vip_senders = two.example, b@three.example\n"
			  "[hours]\n"
			  "week = mon-fri 09:00-12:00\n"
			  "week = sat 10:00-14:00\n"
			  "holidays = 2026-01-01\n"
			  "holidays = 2026-12-25\n"
			  "timezone = UTC\n"
			  "timezone = Europe/Paris\n"
			  "[queue wallet]\n"
			  "categories = delayed_payment\n"
			  "categories = failed_trade\n"
			  "[queue kyc]\n"
			  "categories = registration\n");
	test_assert_int(config_load(path, &config, &error), 0);
	if (config != NULL) {
		test_assert_str(config->rules.vip_senders, "a@one.example, two.example, b@three.example");
		test_assert_str(config->hours.week, "mon-fri 09:00-12:00, sat 10:00-14:00");
		test_assert_str(config->hours.holidays, "2026-01-01 2026-12-25");
		test_assert_str(config->hours.timezone, "Europe/Paris");
		test_assert_int(config->n_queues, 2);
		if (config->n_queues == 2) {
			test_assert_str(config->queues[0].categories, "delayed_payment, failed_trade");
			test_assert_str(config->queues[1].categories, "registration");
		}
	}
	config_free(&config);
	free(path);

	test_begin("errors after a long line name the right line");
	buf_reset(&b);
	buf_puts(&b, "[rules]\nvip_senders = ");
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "u%d@x.example, ", i);
	buf_puts(&b, "last@x.example\nmatch_limit = lots\n");
	path = write_conf(buf_cstr(&b));
	test_assert_int(config_load(path, &config, &error), -1);
	test_assert(error != NULL && strstr(error, "deskgate.conf:3: match_limit: not a non-negative integer") != NULL);
	free(path);

	test_begin("a list longer than its key allows, and a line longer than 128 KiB");
	buf_reset(&b);
	buf_puts(&b, "[agent ann]\naddress = ann@desk.example\nqueues = ");
	for (int i = 0; i < 600; i++)
		buf_printf(&b, "queue%d, ", i);
	buf_puts(&b, "x\n");
	path = write_conf(buf_cstr(&b));
	test_assert_int(config_load(path, &config, &error), -1);
	test_assert(error != NULL && strstr(error, ":3: line too long: queues: length must be 0 to 4096") != NULL);
	free(path);
	buf_reset(&b);
	buf_puts(&b, "[rules]\n\nvip_senders = ");
	while (b.len < 140000)
		buf_puts(&b, "someone@example.org, ");
	buf_puts(&b, "x@y.example\n");
	path = write_conf(buf_cstr(&b));
	test_assert_int(config_load(path, &config, &error), -1);
	test_assert(error != NULL && strstr(error, ":3: line longer than 131072 bytes") != NULL);
	free(path);
	buf_free(&b);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("mkdtemp failed");
	test_sizes();
	test_good();
	test_errors();
	test_template();
	test_lists();
	char *conf = xasprintf("%s/deskgate.conf", tmpdir);
	unlink(conf);
	free(conf);
	rmdir(tmpdir);
	return test_exit();
}
