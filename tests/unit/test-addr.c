/*
 * Unit tests for parsers/addr.c: RFC 5322 address lists (the examples of
 * RFC 5322 appendix A and section 4.4, what mail clients really send, and
 * the malformed and hostile fields an audit found glued into garbage or
 * read as someone else's address), and addr_spec_valid().
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/addr.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* want: the entries as "phrase|spec" joined by " ; ", a group's name as
   "phrase:" and a recovered entry with a leading '!'; "-" for NULL. */
static const struct {
	const char *name;
	const char *in;
	const char *want;
	size_t bad; /* malformed elements */
} cases[] = {
	/* RFC 5322 appendix A */
	{ "A.1.1 addr-spec", "jdoe@example.org", "-|jdoe@example.org", 0 },
	{ "A.1.1 name-addr", "John Doe <jdoe@machine.example>", "John Doe|jdoe@machine.example", 0 },
	{ "A.1.2 list", "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	  "Mary Smith|mary@x.test ; -|jdoe@example.org ; Who?|one@y.test", 0 },
	{ "A.1.2 quoted name with comma", "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	  "Giant; \"Big\" Box|sysservices@example.net", 0 },
	{ "A.1.3 group", "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	  "A Group:|- ; Ed Jones|c@a.test ; -|joe@where.test ; John|jdoe@one.test", 0 },
	{ "A.1.3 empty group", "Undisclosed recipients:;", "Undisclosed recipients:|-", 0 },
	{ "A.5 comments and folding", "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	  "Pete|pete@silly.test", 0 },
	{ "A.5 group with comments",
	  "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	  "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
	  "A Group:|- ; Chris Jones|c@public.example ; -|joe@example.org ; John|jdoe@one.test", 0 },
	{ "A.6.1 obsolete route", "Joe Q. Public <@route.test,@other.test:john.q.public@example.com>",
	  "Joe Q. Public|john.q.public@example.com", 0 },
	{ "A.6.3 CFWS around dots", "John Doe <jdoe@machine(comment).  example>",
	  "John Doe|jdoe@machine.example", 0 },
	{ "obs-local-part with CFWS", "john (Johnny) . doe @ example . com", "-|john.doe@example.com", 0 },
	{ "empty list elements", ", a@x.test,,b@x.test,", "-|a@x.test ; -|b@x.test", 0 },
	{ "group without its ';'", "undisclosed-recipients:", "undisclosed-recipients:|-", 0 },

	/* the quoted local part is part of the address */
	{ "quoted local part with an address in it", "\"<agent@example.test>\"@evil.example",
	  "-|\"<agent@example.test>\"@evil.example", 0 },
	{ "quoted local part and a name", "Agent <\"agent@example.test\"@evil.example>",
	  "Agent|\"agent@example.test\"@evil.example", 0 },
	{ "quoted local part with a space", "\"john doe\"@example.com", "-|\"john doe\"@example.com", 0 },
	{ "needless quotes are dropped", "\"john.doe\"@example.com", "-|john.doe@example.com", 0 },
	{ "quoted pair in a local part", "\"a\\\"b\"@example.com", "-|\"a\\\"b\"@example.com", 0 },
	{ "a quoted name is never the address", "\"agent@example.test\" <x@evil.example>",
	  "agent@example.test|x@evil.example", 0 },
	{ "an encoded word is only a name", "=?utf-8?q?agent=40example.test?= <x@evil.example>",
	  "=?utf-8?q?agent=40example.test?=|x@evil.example", 0 },
	{ "comments are removed, never the name", "john@example.com (John Doe)", "-|john@example.com", 0 },
	{ "a comment holding an address", "(agent@example.test) x@evil.example", "-|x@evil.example", 0 },
	{ "domain literal", "u@[192.0.2.1]", "-|u@[192.0.2.1]", 0 },
	{ "UTF-8 (RFC 6532)", "\xe5\xbc\xa0\xe4\xbc\x9f <\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe4\xb8\xad\xe5\x9b\xbd>",
	  "\xe5\xbc\xa0\xe4\xbc\x9f|\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe4\xb8\xad\xe5\x9b\xbd", 0 },
	{ "Latin-1 bytes in a name", "Heinz M\xfcller <m@x.test>", "Heinz M\xfcller|m@x.test", 0 },
	{ "dots a mobile carrier hands out", "taro..yamada.@docomo.ne.jp",
	  "-|\"taro..yamada.\"@docomo.ne.jp", 0 },

	/* malformed: the first valid address, never a glued one */
	{ "two addresses without a comma", "tim@a.com concierge@a.com", "!-|tim@a.com", 1 },
	{ "name without brackets", "Big Bug bb@bug.com", "!Big Bug|bb@bug.com", 1 },
	{ "words after the brackets", "Agent <agent@example.test> more words",
	  "!Agent|agent@example.test", 1 },
	{ "an address before the brackets", "a@b.test <c@d.test>", "!-|c@d.test", 1 },
	{ "glued into one word", "tim@a.comconcierge@a.com", "", 1 },
	{ "unclosed bracket", "Li <li@example.com", "!-|li@example.com", 1 },
	{ "semicolons between addresses", "a@x.test; b@x.test", "!-|a@x.test ; -|b@x.test", 1 },
	{ "quoted string then garbage", "\"<agent@example.test>\"@evil.example junk",
	  "!-|\"<agent@example.test>\"@evil.example", 1 },
	{ "unclosed quote", "\"agent@example.test <x@evil.example>", "", 1 },
	{ "no domain", "root", "!root|-", 1 },
	{ "empty brackets", "Foo <>", "!Foo|-", 1 },
	{ "two @", "a@b@c.test", "", 1 },
	{ "trailing dot in the domain", "a@example.com.", "", 1 },
	{ "control character", "a\x01" "b@x.test", "", 1 },
	{ "local part too long",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.test", "", 1 },
	{ "one bad element, the rest kept", "good@x.test, bad bad, other@x.test",
	  "-|good@x.test ; !bad bad|- ; -|other@x.test", 1 },
	{ "only specials", "<<<>>> ,;:@.", "", 2 },
	{ "empty", "", "", 0 },
	{ "white space only", " \r\n\t", "", 0 },
	{ "unterminated comment", "a@x.test (comment", "-|a@x.test", 0 },
};

static char *
show(const struct addr_list *l)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < l->count; i++) {
		const struct addr *a = &l->items[i];
		buf_printf(&b, "%s%s%s%s|%s", i > 0 ? " ; " : "", a->recovered ? "!" : "",
			   a->phrase != NULL ? a->phrase : "-", a->group ? ":" : "",
			   a->spec != NULL ? a->spec : "-");
	}
	char *s = buf_steal(&b, NULL);
	return s;
}

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct addr_list l = { NULL, 0 };
		size_t bad = addr_list_parse(cases[i].in, strlen(cases[i].in), &l);
		char *got = show(&l);
		test_assert_str(got, cases[i].want);
		test_assert_int(bad, cases[i].bad);
		for (size_t k = 0; k < l.count; k++)
			test_assert(l.items[k].spec == NULL || addr_spec_valid(l.items[k].spec));
		free(got);
		addr_list_clear(&l);
		test_assert(l.items == NULL && l.count == 0);
	}
	struct addr_list l = { NULL, 0 };
	test_begin("NULL value");
	test_assert_int(addr_list_parse(NULL, 0, &l), 0);
	test_assert_int(l.count, 0);
	addr_list_clear(&l);
	addr_list_clear(NULL);
}

static void
test_valid(void)
{
	static const struct {
		const char *spec;
		int valid;
	} specs[] = {
		{ "a@x.test", 1 },
		{ "first.last+tag@sub.example.com", 1 },
		{ "\"john doe\"@example.com", 1 },
		{ "\"<agent@example.test>\"@evil.example", 1 },
		{ "\"a\\\"b\"@x", 1 },
		{ "u@[192.0.2.1]", 1 },
		{ "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe4\xb8\xad\xe5\x9b\xbd", 1 },
		{ "localhost@localhost", 1 },
		{ "", 0 },
		{ "agent", 0 },
		{ "@x.test", 0 },
		{ "a@", 0 },
		{ "a@@x.test", 0 },
		{ "a@b@x.test", 0 },
		{ "tim@a.com concierge@a.com", 0 },
		{ "Big Bug bb@bug.com", 0 },
		{ "<a@x.test>", 0 },
		{ "a..b@x.test", 0 },
		{ ".a@x.test", 0 },
		{ "a.@x.test", 0 },
		{ "a@x..test", 0 },
		{ "a@.x.test", 0 },
		{ "a@x.test.", 0 },
		{ "\"\"@x.test", 0 },
		{ "\"a\"b\"@x.test", 0 },
		{ "\"a\\b\"@x.test", 0 },
		{ "\"a\x01\"@x.test", 0 },
		{ "a\r\nBcc: x@y@x.test", 0 },
		{ "a@[1.2.3.4", 0 },
		{ "a@[]", 0 },
		{ "a@[a[b]", 0 },
		{ "a\xff@x.test", 0 },
		{ "a\xc2\x85@x.test", 0 }, /* C1 control */
		{ "a(c)@x.test", 0 },
		{ "a,b@x.test", 0 },
	};
	test_begin("addr_spec_valid");
	for (size_t i = 0; i < N_ELEMENTS(specs); i++) {
		int got = addr_spec_valid(specs[i].spec);
		if (got != specs[i].valid)
			printf("  %s: got %d\n", specs[i].spec, got);
		test_assert_int(got, specs[i].valid);
	}
	test_assert_int(addr_spec_valid(NULL), 0);
	/* RFC 5321 lengths: 64 before the '@', 254 in all */
	char local[80], spec[300];
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(spec, sizeof(spec), "%s@x.test", local);
	test_assert_int(addr_spec_valid(spec), 1);
	snprintf(spec, sizeof(spec), "%sa@x.test", local);
	test_assert_int(addr_spec_valid(spec), 0);
	memset(spec, 'd', sizeof(spec));
	memcpy(spec, "a@", 2);
	spec[254] = '\0';
	test_assert_int(addr_spec_valid(spec), 1);
	spec[254] = 'd';
	spec[255] = '\0';
	test_assert_int(addr_spec_valid(spec), 0);
}

/* Hostile sizes stay linear and every address given out is valid. */
static void
test_hostile(void)
{
	static const char *const units[] = { "a.", "a ", "\"\".", "a@", "<", "(", "\\", "a@b ", "x<a@b> " };
	test_begin("hostile repetitions");
	for (size_t u = 0; u < N_ELEMENTS(units); u++) {
		struct buf b;
		buf_init(&b, 1 << 20);
		while (b.len + strlen(units[u]) < 200000)
			buf_puts(&b, units[u]);
		struct addr_list l = { NULL, 0 };
		addr_list_parse(buf_cstr(&b), b.len, &l);
		for (size_t k = 0; k < l.count; k++)
			test_assert(l.items[k].spec == NULL || addr_spec_valid(l.items[k].spec));
		addr_list_clear(&l);
		buf_free(&b);
	}
}

int
main(void)
{
	test_table();
	test_valid();
	test_hostile();
	return test_exit();
}
