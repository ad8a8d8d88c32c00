/* test-compose: outgoing message composition (gateway/compose.c). The
   decoders here (unfolding, RFC 2047 B/Q, base64, quoted-printable, RFC
   2231) are deliberately independent of the code under test. */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/compose.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* ---- independent decoders --------------------------------------------------- */

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64, skipping CR/LF; -1 on any other bad character. */
static int
b64_decode(const char *s, size_t len, struct buf *out)
{
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=')
			break;
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (unsigned char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
qp_decode(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
				i += 2;
				continue;
			}
			if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			buf_putc(out, (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else {
			buf_putc(out, (unsigned char)s[i]);
		}
	}
	return 0;
}

/* The unfolded value of the first header `name` in msg, caller frees. */
static char *
header_get(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n");
	const char *p = msg;
	while (p != NULL && p < end) {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			struct buf b;
			buf_init(&b, 1 << 20);
			const char *q = p + nlen + 1;
			for (;;) {
				const char *eol = strstr(q, "\r\n");
				buf_append(&b, q, (size_t)(eol - q));
				if (eol[2] == ' ' || eol[2] == '\t')
					q = eol + 2;
				else
					break;
			}
			char *v = buf_steal(&b, NULL);
			char *t = xstrdup(str_trim(v));
			free(v);
			return t;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

/* Decode RFC 2047 words (B and Q, UTF-8 only) in an unfolded value; white
   space between two adjacent encoded words is dropped. */
static char *
decode_2047(const char *v)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *p = v;
	int last_was_word = 0;
	while (*p != '\0') {
		if (strncmp(p, "=?", 2) == 0) {
			const char *q1 = strchr(p + 2, '?');
			const char *q2 = q1 ? strchr(q1 + 1, '?') : NULL;
			const char *e = q2 ? strstr(q2 + 1, "?=") : NULL;
			if (e != NULL && (q1[1] == 'B' || q1[1] == 'b' || q1[1] == 'Q' || q1[1] == 'q')) {
				if (q1[1] == 'B' || q1[1] == 'b') {
					b64_decode(q2 + 1, (size_t)(e - q2 - 1), &out);
				} else {
					for (const char *c = q2 + 1; c < e; c++) {
						if (*c == '_')
							buf_putc(&out, ' ');
						else if (*c == '=' && c + 2 < e) {
							buf_putc(&out, (unsigned char)(hexval(c[1]) * 16 + hexval(c[2])));
							c += 2;
						} else
							buf_putc(&out, (unsigned char)*c);
					}
				}
				p = e + 2;
				last_was_word = 1;
				continue;
			}
		}
		if (*p == ' ' && last_was_word) {
			const char *n = p;
			while (*n == ' ')
				n++;
			if (strncmp(n, "=?", 2) == 0) {
				p = n;
				continue;
			}
		}
		buf_putc(&out, (unsigned char)*p++);
		last_was_word = 0;
	}
	return buf_steal(&out, NULL);
}

/* Checks that hold for every rendered message: CRLF only, header lines
   within 78 columns unless one unbreakable word, body lines within 76,
   only ASCII. */
static void
check_shape(const char *name, const unsigned char *data, size_t len)
{
	test_begin(name);
	const char *s = (const char *)data;
	const char *hdr_end = strstr(s, "\r\n\r\n");
	test_assert(hdr_end != NULL);
	size_t line_start = 0;
	int bad_eol = 0, long_hdr = 0, long_body = 0, non_ascii = 0;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			non_ascii = 1;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			bad_eol = 1;
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			bad_eol = 1;
		if (s[i] == '\n') {
			size_t l = i - 1 - line_start;
			int in_header = hdr_end != NULL && s + i < hdr_end + 2;
			if (in_header && l > 78 && memchr(s + line_start + 1, ' ', l - 1) != NULL)
				long_hdr = 1;
			if (!in_header && l > 76 && strncmp(s + line_start, "--=_dg_", 7) != 0)
				long_body = 1;
			line_start = i + 1;
		}
	}
	test_assert(!bad_eol);
	test_assert(!long_hdr);
	test_assert(!long_body);
	test_assert(!non_ascii);
	test_assert(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
}

/* Count header lines (not continuations) that start with name + ':'. */
static int
count_headers(const char *msg, const char *name)
{
	int n = 0;
	size_t nlen = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n");
	const char *p = msg;
	while (p != NULL && p < end) {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
			n++;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return n;
}

static struct compose *
base_message(void)
{
	struct compose *c = compose_new();
	compose_set_from(c, "Support", "support@example.test");
	compose_add_to(c, "Alice", "alice@example.test");
	compose_set_subject(c, "Hello");
	compose_set_message_id(c, "dg.T1.aaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test");
	compose_set_date(c, 1700000000);
	return c;
}

static char *
render_ok(struct compose *c, const char *name, size_t *len_r)
{
	unsigned char *data = NULL;
	size_t len = 0;
	const char *error = NULL;
	test_begin(name);
	int r = compose_render(c, &data, &len, &error);
	test_assert_int(r, 0);
	if (r < 0) {
		printf("  error: %s\n", error);
		return NULL;
	}
	check_shape(name, data, len);
	char *s = xmalloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	free(data);
	if (len_r != NULL)
		*len_r = len;
	return s;
}

/* The body (after the blank line) of the part whose headers contain
   marker, up to the next boundary line. Caller frees. */
static char *
part_body(const char *msg, const char *marker)
{
	const char *m = strstr(msg, marker);
	if (m == NULL)
		return NULL;
	const char *b = strstr(m, "\r\n\r\n");
	if (b == NULL)
		return NULL;
	b += 4;
	const char *e = strstr(b, "\r\n--=_dg_");
	if (e == NULL)
		e = b + strlen(b);
	return xstrndup(b, (size_t)(e - b));
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_basic(void)
{
	struct compose *c = base_message();
	compose_set_text(c, "Thank you.\nWe will answer soon.\n", 32);
	char *m = render_ok(c, "basic", NULL);
	compose_free(&c);
	test_assert(c == NULL);
	if (m == NULL)
		return;
	char *v;
	test_assert_str((v = header_get(m, "Date")), "Tue, 14 Nov 2023 22:13:20 +0000");
	free(v);
	test_assert_str((v = header_get(m, "From")), "Support <support@example.test>");
	free(v);
	test_assert_str((v = header_get(m, "To")), "Alice <alice@example.test>");
	free(v);
	test_assert_str((v = header_get(m, "Subject")), "Hello");
	free(v);
	test_assert_str((v = header_get(m, "Message-ID")),
			"<dg.T1.aaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test>");
	free(v);
	test_assert_str((v = header_get(m, "MIME-Version")), "1.0");
	free(v);
	test_assert_str((v = header_get(m, "Content-Type")), "text/plain; charset=utf-8");
	free(v);
	test_assert_str((v = header_get(m, "Content-Transfer-Encoding")), "7bit");
	free(v);
	test_assert(header_get(m, "Auto-Submitted") == NULL);
	test_assert(strstr(m, "\r\n\r\nThank you.\r\nWe will answer soon.\r\n") != NULL);
	free(m);
}

static void
test_chinese(void)
{
	const char *subject = "回复：您的提币申请 #1234 已收到 — 我们将在24小时内处理";
	const char *name = "张伟 (客服)";
	struct compose *c = compose_new();
	compose_set_from(c, "币安客服中心", "support@example.test");
	compose_add_to(c, name, "zhang.wei@example.test");
	compose_add_to(c, NULL, "li@example.test");
	compose_set_subject(c, subject);
	compose_set_message_id(c, "dg.T2.bbbbbbbbbbbbbbbbbbbbbbbbbb@gw.example.test");
	const char *body = "您好，\n\n您的工单已收到。我们会尽快回复。\n谢谢！\n";
	compose_set_text(c, body, strlen(body));
	char *m = render_ok(c, "chinese", NULL);
	compose_free(&c);
	if (m == NULL)
		return;
	char *v = header_get(m, "Subject");
	char *d = decode_2047(v);
	test_assert_str(d, subject);
	free(d);
	free(v);
	v = header_get(m, "To");
	d = decode_2047(v);
	test_assert_str(d, "张伟 (客服) <zhang.wei@example.test>, li@example.test");
	free(d);
	free(v);
	v = header_get(m, "From");
	d = decode_2047(v);
	test_assert_str(d, "币安客服中心 <support@example.test>");
	free(d);
	free(v);
	/* Chinese text is base64 */
	v = header_get(m, "Content-Transfer-Encoding");
	test_assert_str(v, "base64");
	free(v);
	const char *b = strstr(m, "\r\n\r\n") + 4;
	struct buf out;
	buf_init(&out, 1 << 20);
	test_assert_int(b64_decode(b, strlen(b), &out), 0);
	test_assert_str(buf_cstr(&out), "您好，\r\n\r\n您的工单已收到。我们会尽快回复。\r\n谢谢！\r\n");
	buf_free(&out);
	free(m);
}

static void
test_long_subjects(void)
{
	/* 300 Chinese characters: many encoded words, never a split character */
	struct buf s;
	buf_init(&s, 1 << 20);
	for (int i = 0; i < 100; i++)
		buf_puts(&s, "提币中");
	struct compose *c = base_message();
	compose_set_subject(c, buf_cstr(&s));
	char *m = render_ok(c, "long chinese subject", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Subject");
		char *d = decode_2047(v);
		test_assert_str(d, buf_cstr(&s));
		/* each encoded word at most 75 characters */
		for (const char *w = strstr(v, "=?"); w != NULL; w = strstr(w + 2, "=?")) {
			const char *e = strstr(w, "?=");
			const char *q = strchr(w + 2, '?');
			q = q ? strchr(q + 1, '?') : NULL;
			e = q ? strstr(q + 1, "?=") : NULL;
			test_assert(e != NULL && e + 2 - w <= 75);
			if (e == NULL)
				break;
			w = e;
		}
		free(d);
		free(v);
		free(m);
	}
	buf_free(&s);

	/* long ASCII: folded at spaces, unfolds to the same text */
	const char *ascii = "Your withdrawal request of 0.5 BTC to address bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh has been received and is waiting for confirmation by our compliance team";
	c = base_message();
	compose_set_subject(c, ascii);
	m = render_ok(c, "long ascii subject", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Subject");
		test_assert_str(v, ascii);
		test_assert(strstr(m, "Subject: Your withdrawal") != NULL); /* still readable */
		free(v);
		free(m);
	}

	/* mixed: ASCII words stay plain, the tag stays visible */
	const char *mixed = "Re: [#42] 充值未到账 deposit not credited";
	c = base_message();
	compose_set_subject(c, mixed);
	m = render_ok(c, "mixed subject", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Subject");
		char *d = decode_2047(v);
		test_assert_str(d, mixed);
		free(d);
		free(v);
		free(m);
	}

	/* a subject that looks like an encoded word must not decode as one */
	c = base_message();
	compose_set_subject(c, "=?UTF-8?B?5Lit?= literal");
	m = render_ok(c, "pseudo encoded word", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Subject");
		char *d = decode_2047(v);
		test_assert_str(d, "=?UTF-8?B?5Lit?= literal");
		free(d);
		free(v);
		free(m);
	}
}

static void
test_injection(void)
{
	static const struct {
		const char *subject;
		const char *name;
		const char *header_value;
	} cases[] = {
		{ "Hello\r\nBcc: victim@evil.test", "Eve\r\nBcc: victim@evil.test", "x\r\nBcc: v@evil.test" },
		{ "Hi\nContent-Type: text/html", "Eve\nX-Injected: 1", "x\nX-Injected: 1" },
		{ "Hi\rX-Injected: 1", "Eve\rX-Injected: 1", "x\rX-Injected: 1" },
		{ "a\r\n\r\n<html>body</html>", "a\r\n\r\nbody", "\r\n\r\nbody" },
		{ "tab\there\x01\x7f\xc2\x85nel\xe2\x80\xa8ls", "nul\x1b[31m", "v\x0b\x0c" },
		{ "\xff\xfe invalid utf-8 \xc3", "\xe4\xb8", "\x80" },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct compose *c = compose_new();
		compose_set_from(c, cases[i].name, "support@example.test");
		compose_add_to(c, cases[i].name, "alice@example.test");
		compose_set_subject(c, cases[i].subject);
		compose_set_message_id(c, "dg.T1.aaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test");
		test_assert_int(compose_add_header(c, "X-Deskgate-Queue", cases[i].header_value), 0);
		compose_add_attachment(c, cases[i].subject, "text/plain\r\nX-Injected: 1",
				       (const unsigned char *)"x", 1);
		compose_set_text(c, "body", 4);
		char name[64];
		snprintf(name, sizeof(name), "injection %zu", i);
		char *m = render_ok(c, name, NULL);
		compose_free(&c);
		if (m == NULL)
			continue;
		test_assert_int(count_headers(m, "Bcc"), 0);
		test_assert_int(count_headers(m, "X-Injected"), 0);
		test_assert_int(count_headers(m, "Subject"), 1);
		test_assert_int(count_headers(m, "Content-Type"), 1);
		/* no control characters anywhere but CRLF and TAB-free */
		for (const unsigned char *p = (const unsigned char *)m; *p != '\0'; p++)
			test_assert(*p >= 0x20 || *p == '\r' || *p == '\n');
		/* the blank line is the header end: exactly one before the body */
		const char *end = strstr(m, "\r\n\r\n");
		test_assert(end != NULL && strstr(m, "This is a multi-part") > end);
		free(m);
	}

	/* addresses with CR/LF or other junk are refused, not cleaned */
	static const char *const bad[] = {
		"alice@example.test\r\nBcc: v@evil.test", "alice@example.test>", "<alice@example.test",
		"a b@example.test", "alice@exa mple.test", "a@b@c", "@example.test", "alice@",
		"alice", "", "alice@example..test", ".alice@example.test", "alice@-\x01.test",
		"\xe5\xbc\xa0@example.test",
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct compose *c = base_message();
		compose_add_cc(c, NULL, bad[i]);
		unsigned char *data = NULL;
		size_t len;
		const char *error = NULL;
		test_begin("bad address");
		test_assert_int(compose_render(c, &data, &len, &error), -1);
		test_assert(data == NULL);
		test_assert(error != NULL && strstr(error, "Cc: invalid address") != NULL);
		compose_free(&c);
	}
}

static void
test_display_names(void)
{
	static const struct {
		const char *name, *want_header;
	} cases[] = {
		{ "Alice", "Alice <a@example.test>" },
		{ "Doe, John", "\"Doe, John\" <a@example.test>" },
		{ "J. \"Jay\" Doe", "\"J. \\\"Jay\\\" Doe\" <a@example.test>" },
		{ "back\\slash", "\"back\\\\slash\" <a@example.test>" },
		{ "  spaced   out  ", "spaced out <a@example.test>" },
		{ "", "a@example.test" },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct compose *c = compose_new();
		compose_set_from(c, NULL, "support@example.test");
		compose_add_to(c, cases[i].name, "a@example.test");
		compose_set_message_id(c, "x1@example.test");
		char *m = render_ok(c, "display names", NULL);
		compose_free(&c);
		if (m == NULL)
			continue;
		char *v = header_get(m, "To");
		test_assert_str(v, cases[i].want_header);
		free(v);
		v = header_get(m, "From");
		test_assert_str(v, "support@example.test");
		free(v);
		free(m);
	}
	/* many recipients fold between addresses */
	struct compose *c = base_message();
	for (int i = 0; i < 12; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "customer%d@example.test", i);
		compose_add_cc(c, i % 2 ? "客户" : "Customer Name", addr);
	}
	char *m = render_ok(c, "many recipients", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Cc");
		char *d = decode_2047(v);
		test_assert(strstr(d, "Customer Name <customer0@example.test>, 客户 <customer1@example.test>") == d);
		free(d);
		free(v);
		free(m);
	}
}

static void
test_threading_headers(void)
{
	struct compose *c = base_message();
	compose_set_in_reply_to(c, "CAF=abc@mail.example.com");
	compose_add_reference(c, "root@example.com");
	compose_add_reference(c, "CAF=abc@mail.example.com");
	compose_add_reference(c, "root@example.com");		    /* duplicate */
	compose_add_reference(c, "bad id@example.com");	    /* dropped */
	compose_add_reference(c, "x>\r\nBcc: v@evil.test");	    /* dropped */
	compose_add_reference(c, NULL);
	char *m = render_ok(c, "threading", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "In-Reply-To");
		test_assert_str(v, "<CAF=abc@mail.example.com>");
		free(v);
		v = header_get(m, "References");
		test_assert_str(v, "<root@example.com> <CAF=abc@mail.example.com>");
		free(v);
		free(m);
	}
	/* a long thread keeps the root and the newest references */
	c = base_message();
	for (int i = 0; i < 40; i++) {
		char id[64];
		snprintf(id, sizeof(id), "msg%02d.0123456789abcdef@example.com", i);
		compose_add_reference(c, id);
	}
	m = render_ok(c, "long references", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "References");
		test_assert(strncmp(v, "<msg00.", 7) == 0);
		test_assert(strstr(v, "<msg01.") == NULL);
		test_assert(strstr(v, "<msg20.") == NULL);
		test_assert(strstr(v, "<msg21.") != NULL);
		test_assert(strstr(v, "<msg39.") != NULL);
		free(v);
		free(m);
	}
	/* a bad In-Reply-To is left out, a bad Message-ID is an error */
	c = base_message();
	compose_set_in_reply_to(c, "no-at-sign");
	m = render_ok(c, "bad in-reply-to", NULL);
	if (m != NULL)
		test_assert(header_get(m, "In-Reply-To") == NULL);
	free(m);
	compose_set_message_id(c, "a b@c");
	unsigned char *data;
	size_t len;
	const char *error;
	test_begin("bad message-id");
	test_assert_int(compose_render(c, &data, &len, &error), -1);
	compose_free(&c);
}

static void
test_automatic(void)
{
	struct compose *c = base_message();
	compose_set_auto_submitted(c, "auto-replied");
	compose_set_loop(c, "gw.example.test");
	test_begin("extra headers");
	test_assert_int(compose_add_header(c, "X-Deskgate-Ticket", "1234"), 0);
	test_assert_int(compose_add_header(c, "Bcc", "x@y.test"), -1);
	test_assert_int(compose_add_header(c, "content-type", "text/html"), -1);
	test_assert_int(compose_add_header(c, "Message-Id", "x@y"), -1);
	test_assert_int(compose_add_header(c, "X Bad", "1"), -1);
	test_assert_int(compose_add_header(c, "X-Bad:", "1"), -1);
	test_assert_int(compose_add_header(c, "", "1"), -1);
	char *m = render_ok(c, "automatic", NULL);
	compose_free(&c);
	if (m == NULL)
		return;
	char *v;
	test_assert_str((v = header_get(m, "Auto-Submitted")), "auto-replied");
	free(v);
	test_assert_str((v = header_get(m, "X-Auto-Response-Suppress")), "All");
	free(v);
	test_assert_str((v = header_get(m, "X-Deskgate-Loop")), "gw.example.test");
	free(v);
	test_assert_str((v = header_get(m, "X-Deskgate-Ticket")), "1234");
	free(v);
	free(m);
}

static void
test_bodies(void)
{
	/* mostly ASCII with accents and a long line: quoted-printable */
	struct buf text;
	buf_init(&text, 1 << 20);
	buf_puts(&text, "Bonjour, votre dépôt a été crédité.\n");
	for (int i = 0; i < 30; i++)
		buf_puts(&text, "long line = with equals and tabs\t ");
	buf_puts(&text, "\nFrom here on\n.\ntrailing space \nend");
	struct compose *c = base_message();
	compose_set_text(c, buf_cstr(&text), text.len);
	char *m = render_ok(c, "quoted-printable", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Content-Transfer-Encoding");
		test_assert_str(v, "quoted-printable");
		free(v);
		const char *b = strstr(m, "\r\n\r\n") + 4;
		test_assert(strstr(b, "\r\nFrom ") == NULL);
		test_assert(strstr(b, "\r\n.\r\n") == NULL);
		test_assert(strstr(b, " \r\n") == NULL);
		struct buf out;
		buf_init(&out, 1 << 20);
		test_assert_int(qp_decode(b, strlen(b), &out), 0);
		/* the text with CRLF line ends, plus the final CRLF */
		struct buf want;
		buf_init(&want, 1 << 20);
		for (size_t i = 0; i < text.len; i++) {
			if (text.data[i] == '\n')
				buf_putc(&want, '\r');
			buf_putc(&want, text.data[i]);
		}
		test_assert_str(buf_cstr(&out), buf_cstr(&want));
		buf_free(&want);
		buf_free(&out);
		free(m);
	}
	buf_free(&text);

	/* text + HTML: multipart/alternative */
	c = base_message();
	compose_set_text(c, "plain\r\n", 7);
	const char *html = "<p>您好 <b>world</b></p>";
	compose_set_html(c, html, strlen(html));
	m = render_ok(c, "alternative", NULL);
	compose_free(&c);
	if (m != NULL) {
		char *v = header_get(m, "Content-Type");
		test_assert(strncmp(v, "multipart/alternative; boundary=\"=_dg_", 38) == 0);
		free(v);
		char *p = part_body(m, "text/plain");
		test_assert_str(p, "plain\r\n");
		free(p);
		p = part_body(m, "text/html");
		struct buf out;
		buf_init(&out, 1 << 20);
		const char *cte = strstr(strstr(m, "text/html"), "Content-Transfer-Encoding: ");
		if (strncmp(cte + 27, "base64", 6) == 0)
			b64_decode(p, strlen(p), &out);
		else
			qp_decode(p, strlen(p), &out);
		test_assert_str(buf_cstr(&out), "<p>您好 <b>world</b></p>");
		buf_free(&out);
		free(p);
		test_assert(strstr(m, "--\r\n") != NULL);
		free(m);
	}

	/* bare CR and LF, NUL and invalid UTF-8 in a body */
	c = base_message();
	compose_set_text(c, "a\rb\nc\r\nd\0e\xff", 12);
	m = render_ok(c, "body line ends", NULL);
	compose_free(&c);
	if (m != NULL) {
		const char *b = strstr(m, "\r\n\r\n") + 4;
		struct buf out;
		buf_init(&out, 1 << 20);
		qp_decode(b, strlen(b), &out);
		test_assert_str(buf_cstr(&out), "a\r\nb\r\nc\r\nde?");
		buf_free(&out);
		free(m);
	}

	/* no text at all */
	c = base_message();
	m = render_ok(c, "empty body", NULL);
	compose_free(&c);
	free(m);
}

/* The quoted-printable of compose.c as it was before its fast path for runs
   of plain characters (2026-12-07), byte for byte: the acknowledgements'
   bytes must not change with it. */
static void
qp_reference(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[76 + 4];
	size_t o = 0, i = 0;
	while (i < len) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r' && i + 1 < len && s[i + 1] == '\n') {
			line[o++] = '\r';
			line[o++] = '\n';
			buf_append(out, line, o);
			o = 0;
			i += 2;
			continue;
		}
		char tok[3];
		size_t tn;
		int at_end = i + 1 >= len || s[i + 1] == '\r';
		int literal = (ch >= 33 && ch <= 126 && ch != '=') ||
			      ((ch == ' ' || ch == '\t') && !at_end);
		if (o == 0 && ch == '.' && at_end)
			literal = 0;
		if (o == 0 && ch == 'F' && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
			literal = 0;
		if (literal) {
			tok[0] = (char)ch;
			tn = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[ch >> 4];
			tok[2] = hex[ch & 15];
			tn = 3;
		}
		size_t limit = at_end ? 76 : 76 - 1;
		if (o + tn > limit) {
			line[o++] = '=';
			line[o++] = '\r';
			line[o++] = '\n';
			buf_append(out, line, o);
			o = 0;
			continue;
		}
		memcpy(line + o, tok, tn);
		o += tn;
		i++;
	}
	if (o > 0) {
		line[o++] = '=';
		line[o++] = '\r';
		line[o++] = '\n';
		buf_append(out, line, o);
	}
}

/* Random CRLF texts of the pieces that steer the encoder (spaces and tabs
   before line ends, '=', '.', "From ", lines around 76 characters, a
   little non-ASCII): compose_render()'s quoted-printable body must be the
   reference's bytes. */
static void
test_qp_bytes(void)
{
	static const char *const pieces[] = { "a", "b", " ", "\t", "=", ".", "From ", "F",
					      "\r\n", "\xc3\xa9", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
					      "\xe6\x82\xa8" };
	unsigned int seed = 12345;
	int compared = 0, same = 0;
	test_begin("quoted-printable bytes");
	for (int round = 0; round < 3000; round++) {
		struct buf text;
		buf_init(&text, 1 << 20);
		int n = 1 + round % 97;
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			unsigned int r = (seed >> 16) % 100;
			size_t pi = r < 40 ? (r % 2) : r < 85 ? 2 + (r % 8) : 10 + (r % 2);
			buf_puts(&text, pieces[pi]);
		}
		struct compose *c = base_message();
		compose_set_text(c, buf_cstr(&text), text.len);
		unsigned char *data = NULL;
		size_t len = 0;
		const char *error = NULL;
		if (compose_render(c, &data, &len, &error) == 0) {
			char *m = xmalloc(len + 1);
			memcpy(m, data, len);
			m[len] = '\0';
			if (strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n") != NULL) {
				const char *b = strstr(m, "\r\n\r\n") + 4;
				struct buf want;
				buf_init(&want, 1 << 22);
				qp_reference(&want, buf_cstr(&text), text.len);
				compared++;
				if (strlen(b) == want.len && memcmp(b, want.data, want.len) == 0)
					same++;
				else if (compared - same == 1)
					printf("  differs: text %s\n", buf_cstr(&text));
				buf_free(&want);
			}
			free(m);
			free(data);
		}
		compose_free(&c);
		buf_free(&text);
	}
	test_assert(compared > 1000);
	test_assert_int(same, compared);
}

/* RFC 2231 value of a parameter (joins continuations), decoded. */
static char *
param_get(const char *header_value, const char *name)
{
	struct buf out;
	char plain[128], ext[128], cont[128];
	if (header_value == NULL)
		return NULL;
	buf_init(&out, 1 << 20);
	snprintf(plain, sizeof(plain), "%s=\"", name);
	snprintf(ext, sizeof(ext), "%s*=", name);
	const char *p;
	if ((p = strstr(header_value, plain)) != NULL) {
		p += strlen(plain);
		const char *e = strchr(p, '"');
		buf_append(&out, p, (size_t)(e - p));
		return buf_steal(&out, NULL);
	}
	int k = 0;
	for (;;) {
		const char *v = NULL;
		if (k == 0 && (p = strstr(header_value, ext)) != NULL) {
			v = p + strlen(ext);
		} else {
			snprintf(cont, sizeof(cont), "%s*%d*=", name, k);
			if ((p = strstr(header_value, cont)) != NULL)
				v = p + strlen(cont);
		}
		if (v == NULL)
			break;
		if (strncmp(v, "utf-8''", 7) == 0)
			v += 7;
		const char *e = v + strcspn(v, "; ");
		for (const char *q = v; q < e; q++) {
			if (*q == '%' && q + 2 < e) {
				buf_putc(&out, (unsigned char)(hexval(q[1]) * 16 + hexval(q[2])));
				q += 2;
			} else {
				buf_putc(&out, (unsigned char)*q);
			}
		}
		if (k == 0 && strstr(header_value, ext) != NULL)
			break;
		k++;
	}
	if (out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out, NULL);
}

static void
test_attachments(void)
{
	static const struct {
		const char *given, *want;
		const char *type, *want_type;
	} cases[] = {
		{ "report.pdf", "report.pdf", "application/PDF", "application/pdf" },
		{ "交易记录.xlsx", "交易记录.xlsx", "application/vnd.ms-excel", "application/vnd.ms-excel" },
		{ "../../etc/passwd", "passwd", NULL, "application/octet-stream" },
		{ "C:\\Users\\x\\evil.exe", "evil.exe", "bad type", "application/octet-stream" },
		{ "..hidden", "hidden", "text/plain; charset=\"x\"", "text/plain" },
		{ "name\r\nContent-Type: text/html", "html", "image/png", "image/png" },
		{ "name\r\nContent-Type: text\nX: y", "name Content-Type: text X: y", "image/png", "image/png" },
		{ "quote\"s.txt", "quote\"s.txt", "text/plain", "text/plain" },
		{ "", "attachment", "text/plain", "text/plain" },
		{ "很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名.pdf",
		  "很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名很长的文件名.pdf",
		  "application/pdf", "application/pdf" },
	};
	unsigned char bin[3000];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	struct compose *c = base_message();
	compose_set_text(c, "see attached\n", 13);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		compose_add_attachment(c, cases[i].given, cases[i].type, bin, sizeof(bin) - i);
	char *m = render_ok(c, "attachments", NULL);
	compose_free(&c);
	if (m == NULL)
		return;
	char *v = header_get(m, "Content-Type");
	test_assert(strncmp(v, "multipart/mixed; boundary=\"=_dg_", 32) == 0);
	free(v);
	/* walk the attachment parts in order */
	const char *p = m;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		p = strstr(p, "Content-Disposition: attachment");
		test_assert(p != NULL);
		if (p == NULL)
			break;
		/* this part's headers: back to the boundary line, forward to the blank line */
		const char *start = p;
		while (start > m && strncmp(start, "\r\n--=_dg_", 9) != 0)
			start--;
		const char *hend = strstr(p, "\r\n\r\n");
		char *hdrs = xstrndup(start + 2, (size_t)(hend - start) + 2);
		char *ct = header_get(strstr(hdrs, "\r\n") + 2, "Content-Type");
		char *cd = header_get(strstr(hdrs, "\r\n") + 2, "Content-Disposition");
		test_begin(cases[i].given);
		test_assert(ct != NULL && strncmp(ct, cases[i].want_type, strlen(cases[i].want_type)) == 0 &&
			    ct[strlen(cases[i].want_type)] == ';');
		char *fn = param_get(cd, "filename");
		test_assert_str(fn, cases[i].want);
		free(fn);
		fn = param_get(ct, "name");
		test_assert_str(fn, cases[i].want);
		free(fn);
		/* the bytes come back */
		const char *bend = strstr(hend + 4, "\r\n--=_dg_");
		struct buf out;
		buf_init(&out, 1 << 20);
		test_assert_int(b64_decode(hend + 4, (size_t)(bend - hend - 4), &out), 0);
		test_assert_int(out.len, sizeof(bin) - i);
		test_assert(out.len == sizeof(bin) - i && memcmp(out.data, bin, out.len) == 0);
		buf_free(&out);
		free(ct);
		free(cd);
		free(hdrs);
		p = hend;
	}
	free(m);
}

/* An HTML body's inline image goes in a multipart/related beside the
   alternative, the other attachments stay in the multipart/mixed; read
   back by our MIME parser, each is where a mail client looks for it. */
static void
test_related(void)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', 0, 1, 2, 3 };
	test_begin("related");
	struct compose *c = base_message();
	compose_set_text(c, "see the screenshot\n", 19);
	compose_set_html(c, "<p>see <img src=\"cid:image001.png@01DA\"></p>", 44);
	test_assert_int(compose_add_related(c, "image001.png@01DA", "image001.png", "image/png", png,
					    sizeof(png)),
			0);
	test_assert_int(compose_add_related(c, "bad id>\r\nX: y", "x.png", "image/png", png,
					    sizeof(png)),
			-1);
	compose_add_attachment(c, "statement.pdf", "application/pdf", png, sizeof(png));
	char *m = render_ok(c, "related", NULL);
	compose_free(&c);
	if (m == NULL)
		return;
	test_assert(strstr(m, "Content-Type: multipart/mixed;") != NULL);
	test_assert(strstr(m, "Content-Type: multipart/related; type=\"multipart/alternative\";") != NULL);
	test_assert(strstr(m, "Content-ID: <image001.png@01DA>") != NULL);
	test_assert(strstr(m, "X: y") == NULL);
	/* related before the attachment, alternative inside related */
	const char *rel = strstr(m, "multipart/related");
	const char *alt = strstr(m, "multipart/alternative;");
	const char *pdf = strstr(m, "statement.pdf");
	test_assert(rel != NULL && alt != NULL && pdf != NULL && rel < alt && alt < pdf);
	struct mime_limits limits;
	mime_limits_default(&limits);
	struct mime_message *msg = NULL;
	const char *error = NULL;
	test_assert_int(mime_parse((const unsigned char *)m, strlen(m), &limits, &msg, &error), 0);
	if (msg != NULL) {
		test_assert(msg->html != NULL && strstr(msg->html, "cid:image001.png@01DA") != NULL);
		test_assert(msg->text != NULL && strstr(msg->text, "see the screenshot") != NULL);
		test_assert_int(msg->n_attachments, 2);
		for (size_t i = 0; i < msg->n_attachments; i++) {
			const struct mime_attachment *a = &msg->attachments[i];
			if (strcmp(a->filename, "image001.png") == 0) {
				test_assert_str(a->content_id, "image001.png@01DA");
				test_assert(a->is_inline);
				test_assert(a->size == sizeof(png) && memcmp(a->data, png, a->size) == 0);
			} else {
				test_assert_str(a->filename, "statement.pdf");
				test_assert(!a->is_inline);
			}
		}
		mime_message_free(&msg);
	}
	free(m);

	/* without HTML the image is an ordinary attachment */
	test_begin("related without html");
	c = base_message();
	compose_set_text(c, "text only\n", 10);
	compose_add_related(c, "a@b", "a.png", "image/png", png, sizeof(png));
	m = render_ok(c, "related without html", NULL);
	compose_free(&c);
	if (m != NULL) {
		test_assert(strstr(m, "multipart/related") == NULL);
		test_assert(strstr(m, "Content-Disposition: attachment;") != NULL);
	}
	free(m);
}

static void
test_errors(void)
{
	unsigned char *data;
	size_t len;
	const char *error;
	struct compose *c = compose_new();
	test_begin("no from");
	compose_add_to(c, NULL, "a@example.test");
	compose_set_message_id(c, "x@y.test");
	test_assert_int(compose_render(c, &data, &len, &error), -1);
	test_assert_str(error, "no From address");
	compose_free(&c);

	c = compose_new();
	test_begin("no recipient");
	compose_set_from(c, NULL, "a@example.test");
	compose_set_message_id(c, "x@y.test");
	test_assert_int(compose_render(c, &data, &len, &error), -1);
	test_assert_str(error, "no recipient");
	compose_free(&c);

	c = compose_new();
	test_begin("no message-id");
	compose_set_from(c, NULL, "a@example.test");
	compose_add_to(c, NULL, "b@example.test");
	test_assert_int(compose_render(c, &data, &len, &error), -1);
	compose_free(&c);

	c = base_message();
	test_begin("too large");
	unsigned char big[4096] = { 0 };
	compose_add_attachment(c, "big.bin", NULL, big, sizeof(big));
	compose_set_max_size(c, 2048);
	test_assert_int(compose_render(c, &data, &len, &error), -1);
	test_assert(strstr(error, "larger than") != NULL);
	compose_set_max_size(c, 100000);
	test_assert_int(compose_render(c, &data, &len, &error), 0);
	free(data);
	compose_free(&c);
	compose_free(&c); /* NULL is fine */
}

static void
test_message_ids(void)
{
	char *a = NULL, *b = NULL;
	const char *error;
	int64_t t = 0;
	test_begin("message-id");
	test_assert_int(compose_message_id(1234, "gw.example.test", &a, &error), 0);
	test_assert_int(compose_message_id(1234, "gw.example.test", &b, &error), 0);
	test_assert(strcmp(a, b) != 0);
	test_assert(strncmp(a, "dg.T1234.", 9) == 0);
	test_assert(strlen(a) == 9 + 26 + strlen("@gw.example.test"));
	test_assert(strcmp(a + 9 + 26, "@gw.example.test") == 0);
	test_assert_int(compose_message_id_ticket(a, &t), 1);
	test_assert_int(t, 1234);
	free(a);
	free(b);
	test_assert_int(compose_message_id(0, "bad host>\r\n", &a, &error), 0);
	test_assert(strncmp(a, "dg.", 3) == 0 && strstr(a, "@localhost") != NULL);
	test_assert_int(compose_message_id_ticket(a, &t), 0);
	free(a);
	static const char *const not_ours[] = {
		"dg.T.aaaaaaaaaaaaaaaaaaaaaaaaaa@h", "dg.T12x.aaaaaaaaaaaaaaaaaaaaaaaaaa@h",
		"dg.T12.short@h", "xdg.T12.aaaaaaaaaaaaaaaaaaaaaaaaaa@h", "", "dg.T0.aaaaaaaaaaaaaaaaaaaaaaaaaa@h",
		"dg.T99999999999999999999.aaaaaaaaaaaaaaaaaaaaaaaaaa@h",
	};
	for (size_t i = 0; i < N_ELEMENTS(not_ours); i++)
		test_assert_int(compose_message_id_ticket(not_ours[i], &t), 0);
	test_assert_int(compose_message_id_ticket(NULL, &t), 0);
}

int
main(void)
{
	test_basic();
	test_chinese();
	test_long_subjects();
	test_injection();
	test_display_names();
	test_threading_headers();
	test_automatic();
	test_bodies();
	test_qp_bytes();
	test_attachments();
	test_related();
	test_errors();
	test_message_ids();
	return test_exit();
}
