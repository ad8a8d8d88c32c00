/* Unit tests for parsers/authres.c: Authentication-Results header values
   as RFC 8601 writes them and as real MTAs (Gmail, Microsoft, OpenDMARC,
   rspamd) write them, and malformed or hostile ones. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/authres.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* want: "authserv-id v N | method=result k=v k=v | ..." with properties
   as ptype.property=value (ptype "" written as .property), or NULL for an
   error. */
static const struct {
	const char *name;
	const char *in;
	const char *want;
} cases[] = {
	{ "RFC 8601 example: none", "example.org 1; none", "example.org v1" },
	{ "RFC 8601 example: spf", "example.com; spf=pass smtp.mailfrom=example.net",
	  "example.com v1 | spf=pass smtp.mailfrom=example.net" },
	{ "RFC 8601 example: several",
	  "example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
	  "          spf=pass smtp.mailfrom=example.net",
	  "example.com v1 | auth=pass smtp.auth=sender@example.net | spf=pass "
	  "smtp.mailfrom=example.net" },
	{ "RFC 8601 example: sender-id and dkim",
	  "example.com; sender-id=fail header.from=example.com; dkim=pass (good signature) "
	  "header.d=example.com",
	  "example.com v1 | sender-id=fail header.from=example.com | dkim=pass header.d=example.com" },
	{ "OpenDMARC", "mx.example.test; dmarc=pass (p=reject dis=none) header.from=desk.test",
	  "mx.example.test v1 | dmarc=pass header.from=desk.test" },
	{ "Gmail",
	  "mx.google.com;\n       dkim=pass header.i=@gmail.com header.s=20230601 header.b=AbC+/x12;\n"
	  "       spf=pass (google.com: domain of x@gmail.com designates 209.85.220.41 as permitted "
	  "sender) smtp.mailfrom=x@gmail.com;\n       dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) "
	  "header.from=gmail.com",
	  "mx.google.com v1 | dkim=pass header.i=@gmail.com header.s=20230601 header.b=AbC+/x12 | "
	  "spf=pass smtp.mailfrom=x@gmail.com | dmarc=pass header.from=gmail.com" },
	{ "Microsoft (bare key=value, no space after ';')",
	  "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=example.org; dkim=none (message not "
	  "signed) header.d=none;dmarc=none action=none header.from=example.org;compauth=pass "
	  "reason=100",
	  NULL /* no authserv-id: "spf=pass" is read as one, then '(' ... see below */ },
	{ "quoted values and upper case", "MX.Example.TEST; DKIM=Pass header.D=\"Desk.Test\" "
	  "header.b=\"a b\\\"c\"",
	  "MX.Example.TEST v1 | dkim=pass header.d=Desk.Test header.b=a b\"c" },
	{ "version and method version", "mx 1; dkim/1=pass header.d=x.test",
	  "mx v1 | dkim=pass header.d=x.test" },
	{ "nested comments", "mx (a (b (c))) ; dmarc (x) = (y) pass (z) header (h) . from = d.test",
	  "mx v1 | dmarc=pass header.from=d.test" },
	{ "reason", "mx; dkim=fail reason=\"signature verification failed\" header.d=x.test",
	  "mx v1 | dkim=fail reason header.d=x.test" },
	{ "empty results between ';'", "mx;; dmarc=pass header.from=d.test;",
	  "mx v1 | dmarc=pass header.from=d.test" },
	{ "method without result", "mx; dkim", "mx v1 | dkim=" },
	{ "empty", "", NULL },
	{ "only white space", "  \r\n ", NULL },
	{ "unclosed comment", "mx; dmarc=pass (p=reject header.from=d.test", NULL },
	{ "unclosed quote", "mx; dmarc=pass header.from=\"d.test", NULL },
	{ "method without '='", "mx; dmarc pass", NULL },
	{ "result missing after '='", "mx; dmarc= ; dkim=pass", NULL },
	{ "property without '='", "mx; dmarc=pass header.from", NULL },
	{ "property name missing", "mx; dmarc=pass header.=d.test", NULL },
	{ "no ';' after the id", "mx dmarc=pass", NULL },
	{ "control character", "mx; dmarc=pass header.from=d\001.test", NULL },
};

static char *
describe(const struct authres *ar)
{
	struct buf b;
	buf_init(&b, 1024 * 1024);
	buf_printf(&b, "%s v%u", ar->authserv_id, ar->version);
	for (size_t i = 0; i < ar->n_results; i++) {
		const struct authres_result *r = &ar->results[i];
		buf_printf(&b, " | %s=%s", r->method, r->result);
		if (r->reason != NULL)
			buf_puts(&b, " reason");
		for (size_t k = 0; k < r->n_props; k++)
			buf_printf(&b, " %s%s%s=%s", r->props[k].ptype, *r->props[k].ptype != '\0' ? "." : ".",
				   r->props[k].property, r->props[k].value);
	}
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct authres *ar = NULL;
		const char *error = NULL;
		int ret = authres_parse(cases[i].in, strlen(cases[i].in), &ar, &error);
		if (cases[i].want == NULL) {
			/* Microsoft's header has no authserv-id: "spf=pass" is a token
			   up to '=' is not allowed... it must not parse as a pass. */
			if (ret == 0) {
				char *got = describe(ar);
				test_assert(strstr(got, "| spf=pass") == NULL &&
					    strstr(got, "| dmarc=") == NULL);
				free(got);
			} else {
				test_assert(ar == NULL && error != NULL &&
					    strncmp(error, "authres: ", 9) == 0);
			}
			authres_free(&ar);
			continue;
		}
		test_assert_int(ret, 0);
		if (ret == 0) {
			char *got = describe(ar);
			test_assert_str(got, cases[i].want);
			free(got);
		} else {
			printf("  error: %s\n", error);
		}
		authres_free(&ar);
		test_assert(ar == NULL);
	}
	struct authres *none = NULL;
	authres_free(&none);
}

static void
test_props(void)
{
	test_begin("property look-up and domains");
	struct authres *ar = NULL;
	const char *error;
	const char *in = "mx; dkim=pass header.i=@Sub.Desk.Test header.s=x; dmarc=pass "
			 "header.from=desk.test";
	test_assert_int(authres_parse(in, strlen(in), &ar, &error), 0);
	if (ar == NULL)
		return;
	test_assert_int(ar->n_results, 2);
	test_assert_str(authres_prop(&ar->results[0], "HEADER", "I"), "@Sub.Desk.Test");
	test_assert(authres_prop(&ar->results[0], "header", "d") == NULL);
	test_assert_str(authres_domain(authres_prop(&ar->results[0], "header", "i")), "Sub.Desk.Test");
	test_assert_str(authres_domain("agent@desk.test"), "desk.test");
	test_assert_str(authres_domain("desk.test"), "desk.test");
	test_assert(authres_domain("user@") == NULL);
	test_assert(authres_domain(NULL) == NULL);
	authres_free(&ar);
}

static void
test_hostile(void)
{
	struct authres *ar = NULL;
	const char *error;
	struct buf b;
	buf_init(&b, 4 * 1024 * 1024);

	test_begin("too many results");
	buf_puts(&b, "mx");
	for (int i = 0; i < AUTHRES_MAX_RESULTS + 1; i++)
		buf_puts(&b, "; dkim=pass header.d=x.test");
	test_assert_int(authres_parse(buf_cstr(&b), b.len, &ar, &error), -1);
	test_assert(strstr(error, "too many results") != NULL);

	test_begin("too many properties");
	buf_reset(&b);
	buf_puts(&b, "mx; dkim=pass");
	for (int i = 0; i < AUTHRES_MAX_PROPS + 1; i++)
		buf_puts(&b, " header.d=x.test");
	test_assert_int(authres_parse(buf_cstr(&b), b.len, &ar, &error), -1);

	test_begin("comments nested without end");
	buf_reset(&b);
	buf_puts(&b, "mx; ");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, '(');
	test_assert_int(authres_parse(buf_cstr(&b), b.len, &ar, &error), -1);

	test_begin("longer than the limit");
	buf_reset(&b);
	buf_puts(&b, "mx; dmarc=pass header.from=");
	while (b.len <= AUTHRES_MAX_LEN)
		buf_puts(&b, "aaaaaaaaaa");
	test_assert_int(authres_parse(buf_cstr(&b), b.len, &ar, &error), -1);

	test_begin("a NUL byte");
	static const char nul[] = "mx; dmarc=pass header.from=d.test\0evil";
	test_assert_int(authres_parse(nul, sizeof(nul) - 1, &ar, &error), -1);

	test_begin("length is honoured");
	static const char cut[] = "mx; dmarc=pass header.from=desk.test; dkim=fail";
	test_assert_int(authres_parse(cut, 36, &ar, &error), 0);
	test_assert(ar != NULL && ar->n_results == 1 &&
		    strcmp(authres_prop(&ar->results[0], "header", "from"), "desk.test") == 0);
	authres_free(&ar);
	buf_free(&b);
}

int
main(void)
{
	test_table();
	test_props();
	test_hostile();
	return test_exit();
}
