/*
 * test-mime: mime_parse() on inline messages (table-driven: each case a
 * raw message, limits and the expected outcome, most with a check
 * function for the details), generated hostile messages (deep nesting,
 * garbage), and a few corpus messages kept in tests/data/mime with the
 * expectations their upstream tests state.
 */
#include "build-config.h"

#include <stdint.h>
#include <ctype.h>
#include <string.h>

#include "base/util.h"
#include "parsers/mime.h"
#include "tests/unit/test.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int
has_warning(const struct mime_message *m, const char *needle)
{
	for (size_t i = 0; i < m->n_warnings; i++)
		if (strstr(m->warnings[i], needle) != NULL)
			return 1;
	return 0;
}

static const struct mime_attachment *
find_att(const struct mime_message *m, const char *filename)
{
	for (size_t i = 0; i < m->n_attachments; i++)
		if (strcmp(m->attachments[i].filename, filename) == 0)
			return &m->attachments[i];
	return NULL;
}

static int
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* No control characters but TAB/LF in text, none at all in other strings,
   and valid UTF-8 everywhere: what mime.h promises. */
static int
clean_string(const char *s, int is_text)
{
	if (s == NULL)
		return 1;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && !(is_text && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
			return 0;
	/* utf8_valid() is in util; a small check here keeps the test
	   independent */
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0)
			return 0;
		p++;
		for (int k = 0; k < n; k++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static void
check_invariants(const struct mime_message *m, const struct mime_limits *lim)
{
	if (m == NULL)
		return;
	test_assert(m->subject != NULL);
	test_assert(clean_string(m->subject, 0));
	test_assert(m->text != NULL);
	test_assert(m->text == NULL || strlen(m->text) == m->text_len);
	test_assert(m->text_len <= lim->max_text_size);
	test_assert(clean_string(m->text, 1));
	test_assert(m->n_parts <= lim->max_parts + 64);
	for (size_t i = 0; i < m->n_headers; i++) {
		test_assert(clean_string(m->headers[i].name, 0));
		test_assert(clean_string(m->headers[i].value, 0));
	}
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct mime_attachment *a = &m->attachments[i];
		test_assert(a->filename != NULL && a->filename[0] != '\0' && a->filename[0] != '.');
		test_assert(strchr(a->filename, '/') == NULL && strchr(a->filename, '\\') == NULL);
		test_assert(strlen(a->filename) <= 255);
		test_assert(clean_string(a->filename, 0));
		test_assert(a->size <= lim->max_attachment_size);
		test_assert(a->data != NULL || a->size == 0);
	}
	test_assert(m->n_attachments <= lim->max_attachments);
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part_info *p = &m->parts[i];
		test_assert(p->depth <= lim->max_depth + 1);
		test_assert(p->content_type != NULL && clean_string(p->content_type, 0));
		test_assert(p->encoding != NULL && clean_string(p->encoding, 0));
		test_assert(clean_string(p->charset, 0) && clean_string(p->filename, 0) &&
			    clean_string(p->disposition, 0));
	}
	const struct mime_address *single[] = { &m->from, &m->sender };
	for (size_t i = 0; i < 2; i++)
		test_assert(clean_string(single[i]->name, 0) && clean_string(single[i]->address, 0));
	const struct mime_address_list *lists[] = { &m->to, &m->cc, &m->reply_to };
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < lists[k]->count; i++)
			test_assert(clean_string(lists[k]->items[i].name, 0) &&
				    clean_string(lists[k]->items[i].address, 0));
	test_assert(clean_string(m->message_id, 0) && clean_string(m->in_reply_to, 0) &&
		    clean_string(m->return_path, 0) && clean_string(m->content_language, 0));
	for (size_t i = 0; i < m->n_references; i++)
		test_assert(clean_string(m->references[i], 0));
	for (size_t i = 0; i < m->n_attachments; i++)
		test_assert(clean_string(m->attachments[i].content_type, 0) &&
			    clean_string(m->attachments[i].content_id, 0));
	test_assert(m->html == NULL || strlen(m->html) == m->html_len);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

struct mime_case {
	const char *name;
	const char *raw;
	void (*limits)(struct mime_limits *lim); /* NULL: defaults */
	int ret;
	const char *error;			   /* expected prefix of the error */
	void (*check)(const struct mime_message *m);
};

static void
check_simple(const struct mime_message *m)
{
	test_assert_str(m->subject, "Deposit not received");
	test_assert_str(m->from.name, "Li Wei");
	test_assert_str(m->from.address, "li.wei@example.com");
	test_assert_int(m->to.count, 2);
	test_assert_str(m->to.items[0].address, "support@exchange.test");
	test_assert(m->to.items[0].name == NULL);
	test_assert_str(m->to.items[1].name, "Ops, Team");
	test_assert_str(m->message_id, "abc.123@mail.example.com");
	test_assert_str(m->in_reply_to, "prev@exchange.test");
	test_assert_int(m->n_references, 2);
	test_assert_str(m->references[0], "first@exchange.test");
	test_assert_str(m->references[1], "prev@exchange.test");
	test_assert_int(m->has_date, 1);
	/* 2024-03-05 10:20:30 +0800 = 02:20:30 UTC */
	test_assert_int(m->date, 1709605230);
	test_assert_int(m->date_utoff, 8 * 3600); /* the Date header's +0800 */
	test_assert_str(m->text, "My deposit of 0.5 BTC has not arrived.\nTxID: 9f2c\n");
	test_assert_int(m->text_from_html, 0);
	test_assert(m->html == NULL);
	test_assert_int(m->n_attachments, 0);
	test_assert_int(m->n_parts, 1);
	test_assert_str(m->parts[0].content_type, "text/plain");
	test_assert_str(m->parts[0].charset, "us-ascii");
	test_assert_str(m->parts[0].encoding, "7bit");
	test_assert_str(mime_header_get(m, "x-mailer"), "Test Mailer 1.0");
	test_assert(mime_header_get(m, "X-Absent") == NULL);
	test_assert_str(m->content_language, "zh-CN");
	test_assert(m->return_path != NULL && strcmp(m->return_path, "bounce@example.com") == 0);
}

static void
check_alternative(const struct mime_message *m)
{
	test_assert_str(m->text, "Plain version\n");
	test_assert_int(m->text_from_html, 0);
	test_assert(contains(m->html, "<b>HTML</b> version"));
	test_assert_int(m->n_attachments, 0);
	test_assert_int(m->n_parts, 3);
	test_assert_str(m->parts[0].content_type, "multipart/alternative");
	test_assert_int(m->parts[1].depth, 1);
	test_assert_str(m->parts[2].content_type, "text/html");
	test_assert_str(m->parts[2].encoding, "quoted-printable");
}

static void
check_html_only(const struct mime_message *m)
{
	test_assert_int(m->text_from_html, 1);
	test_assert(contains(m->text, "Hello agent"));
	test_assert(contains(m->text, "my account <https://exchange.test/acct/42>"));
	test_assert(!contains(m->text, "alert"));
	test_assert(!contains(m->text, "color"));
	test_assert(contains(m->html, "<script>"));
}

static void
check_gbk(const struct mime_message *m)
{
	test_assert_str(m->text, "您好，我的提现还没有到账。");
	test_assert_str(m->parts[0].charset, "gbk");
	test_assert_int(m->n_warnings, 0);
}

static void
check_subject_gb2312(const struct mime_message *m)
{
	test_assert_str(m->subject, "充值问题 [urgent]");
	test_assert_str(m->from.name, "你好");
	test_assert_str(m->from.address, "user@example.cn");
}

static void
check_rfc2231(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 3);
	test_assert(find_att(m, "提现截图.png") != NULL);
	const struct mime_attachment *a = find_att(m, "提现截图.png");
	test_assert(a != NULL && strcmp(a->content_type, "image/png") == 0 && a->size == 4);
	/* literal segments keep their '%' */
	test_assert(find_att(m, "100% 发票.pdf") != NULL);
	/* RFC 2047 inside a quoted filename (Outlook) */
	test_assert(find_att(m, "发票.pdf") != NULL);
	test_assert_str(m->parts[1].filename, "提现截图.png");
}

static void
check_evil_names(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 7);
	test_assert(find_att(m, "passwd") != NULL);
	test_assert(find_att(m, "evil.exe") != NULL);
	test_assert(find_att(m, "htaccess") != NULL);
	test_assert(find_att(m, "attachment-4.pdf") != NULL);
	test_assert(find_att(m, "invoicefdp.exe") != NULL); /* U+202E removed */
	test_assert(find_att(m, "a_b.txt") != NULL);
	/* a 300-byte name is cut to 255 bytes, keeping its extension */
	int long_ok = 0;
	for (size_t i = 0; i < m->n_attachments; i++) {
		const char *f = m->attachments[i].filename;
		size_t n = strlen(f);
		if (n == 255 && strcmp(f + n - 4, ".zip") == 0)
			long_ok = 1;
	}
	test_assert(long_ok);
	/* parts[] keeps the decoded name as written */
	test_assert_str(m->parts[1].filename, "../../etc/passwd");
}

static void
check_8bit_utf8(const struct mime_message *m)
{
	test_assert_str(m->text, "Grüße aus Köln 你好\n");
	test_assert(m->parts[0].charset == NULL);
}

static void
check_8bit_latin1(const struct mime_message *m)
{
	test_assert(contains(m->text, "Grüße aus Köln"));
}

static void
check_bad_base64(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 1);
	test_assert_int(m->attachments[0].damaged, 1);
	test_assert(has_warning(m, "invalid base64"));
	/* the line end before a delimiter belongs to the delimiter */
	test_assert_str(m->text, "see attached");
}

static void
check_not_base64_text(const struct mime_message *m)
{
	test_assert_str(m->text, "This text is not base64 at all.\n");
	test_assert(has_warning(m, "not base64"));
}

static void
check_truncated_text(const struct mime_message *m)
{
	test_assert_int(m->text_truncated, 1);
	test_assert_int(m->text_len, 1024);
	test_assert(has_warning(m, "cut"));
}

static void
check_headers_kept(const struct mime_message *m)
{
	test_assert_str(m->subject, "kept");
}

static void
check_header_only(const struct mime_message *m)
{
	test_assert_str(m->subject, "only a header");
	test_assert_str(m->text, "");
	test_assert_int(m->n_attachments, 0);
}

static void
check_no_blank_line(const struct mime_message *m)
{
	test_assert_str(m->subject, "no blank line");
	test_assert(contains(m->text, "this line is the body"));
}

static void
check_rfc822(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 1);
	test_assert_str(m->attachments[0].filename, "Original complaint.eml");
	test_assert_str(m->attachments[0].content_type, "message/rfc822");
	test_assert(m->attachments[0].size > 0 &&
		    memcmp(m->attachments[0].data, "From: a@b.test", 14) == 0);
	/* not walked for body text */
	test_assert_str(m->text, "Forwarding this.");
	/* but summarised */
	test_assert_int(m->n_parts, 4);
	test_assert_int(m->parts[3].depth, 2);
}

static void
check_groups(const struct mime_message *m)
{
	test_assert_int(m->to.count, 3);
	test_assert_str(m->to.items[0].name, "Team");
	test_assert(m->to.items[0].address == NULL);
	test_assert_str(m->to.items[1].address, "a@x.test");
	test_assert_str(m->to.items[2].address, "c@x.test");
	test_assert_int(m->cc.count, 1);
	test_assert_str(m->cc.items[0].name, "undisclosed-recipients");
	test_assert(m->cc.items[0].address == NULL);
	test_assert_str(m->return_path, "");
	test_assert_int(m->reply_to.count, 1);
	test_assert_str(m->reply_to.items[0].address, "reply@x.test");
}

/* Issue 10.9/10.10: the quoted local part is part of the address, and a
   malformed field is never glued into one address. */
static void
check_addresses_rfc5322(const struct mime_message *m)
{
	test_assert_str(m->from.address, "\"<agent@example.test>\"@evil.example");
	test_assert(m->from.name == NULL);
	test_assert_int(m->from.recovered, 0);
	test_assert_int(m->to.count, 2);
	test_assert_str(m->to.items[0].address, "tim@a.com");
	test_assert_int(m->to.items[0].recovered, 1);
	test_assert_str(m->to.items[1].address, "li.wei@example.com");
	test_assert_str(m->to.items[1].name, "Li Wei");
	test_assert_int(m->to.items[1].recovered, 0);
	test_assert_int(m->cc.count, 2);
	test_assert_str(m->cc.items[0].name, "Big Bug");
	test_assert_str(m->cc.items[0].address, "bb@bug.com");
	test_assert_str(m->cc.items[1].address, "john.doe@example.com");
	test_assert(m->cc.items[1].name == NULL); /* comments are not names */
	test_assert_int(m->reply_to.count, 1);
	test_assert_str(m->reply_to.items[0].name, "agent@example.test");
	test_assert_str(m->reply_to.items[0].address, "x@evil.example");
	test_assert_str(m->sender.address, "\"john doe\"@example.com");
	test_assert(has_warning(m, "To: malformed address list"));
	test_assert(has_warning(m, "Cc: malformed address list"));
}

static void
check_from_glued(const struct mime_message *m)
{
	test_assert_str(m->from.name, "Big Bug");
	test_assert_str(m->from.address, "bb@bug.com");
	test_assert_int(m->from.recovered, 1);
	test_assert(has_warning(m, "From: malformed"));
}

static void
check_from_none(const struct mime_message *m)
{
	test_assert(m->from.address == NULL);
	test_assert_int(m->from.recovered, 1);
}

/* Issue 10.20: valid UTF-8 under an unknown label is UTF-8, and text that
   breaks its declared charset is read as mail clients read it. */
static void
check_charset_unknown_utf8(const struct mime_message *m)
{
	test_assert_str(m->text, "Envoy\xc3\xa9 de mon iPhone\n");
	test_assert(has_warning(m, "charset X-UNKNOWN unknown, read as UTF-8"));
}

static void
check_charset_broken_utf8(const struct mime_message *m)
{
	test_assert_str(m->text, "Envoy\xc3\xa9 de mon iPhone\n");
	test_assert(has_warning(m, "does not fit the declared charset utf-8, read as WINDOWS-1252"));
}

static void
check_junk_headers(const struct mime_message *m)
{
	test_assert_str(m->message_id, "no-brackets@x.test");
	test_assert_int(m->has_date, 0);
	test_assert_str(m->from.address, "bob@x.test");
	test_assert_int(m->n_references, 2);
	test_assert_str(m->references[1], "b@x.test");
}

static void
check_uuencode(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 1);
	test_assert_str(m->attachments[0].filename, "cat.txt");
	test_assert_int(m->attachments[0].size, 4);
	test_assert(m->attachments[0].size == 4 && memcmp(m->attachments[0].data, "Cat\n", 4) == 0);
	test_assert(contains(m->text, "before"));
	test_assert(contains(m->text, "after"));
	test_assert(!contains(m->text, "begin 644"));
}

static void
check_uu_cte(const struct mime_message *m)
{
	const struct mime_attachment *a = find_att(m, "cat.txt");
	test_assert(a != NULL && a->size == 4 && memcmp(a->data, "Cat\n", 4) == 0);
}

static void
check_empty_last_part(const struct mime_message *m)
{
	test_assert_int(m->n_parts, 3);
	test_assert_str(m->text, "A text section");
	test_assert_int(m->n_attachments, 1);
	test_assert_str(m->attachments[0].filename, "foo.zip");
	test_assert_int(m->attachments[0].size, 7);
}

static void
check_no_close(const struct mime_message *m)
{
	test_assert_int(m->n_parts, 4);
	test_assert(contains(m->text, "inner text"));
	test_assert(contains(m->text, "-- \nsignature"));
}

static void
check_double_semicolon(const struct mime_message *m)
{
	test_assert_int(m->n_parts, 3);
	/* alternatives: the first one is the text, the other is not an
	   attachment either */
	test_assert_str(m->text, "The better part");
	test_assert_int(m->n_attachments, 0);
}

static void
check_qp_lf(const struct mime_message *m)
{
	test_assert_str(m->text, "soft broken line\nsecond line = ok\n");
	test_assert_int(m->parts[0].decoded_size, 34);
}

static void
check_postmark(const struct mime_message *m)
{
	test_assert_str(m->subject, "after a postmark");
	test_assert_str(m->text, "body\n");
}

static void
check_lenient_filename(const struct mime_message *m)
{
	test_assert(find_att(m, "payroll.zip") != NULL);
}

static void
check_inline_image(const struct mime_message *m)
{
	test_assert_int(m->n_attachments, 1);
	test_assert_str(m->attachments[0].content_id, "img1@x.test");
	test_assert_int(m->attachments[0].is_inline, 1);
	test_assert_str(m->attachments[0].filename, "attachment-1.png");
	test_assert_int(m->text_from_html, 1);
}

static void
check_empty_plain_with_html(const struct mime_message *m)
{
	test_assert_int(m->text_from_html, 1);
	test_assert_str(m->text, "Only the HTML says something.");
}

static void
check_alternatives(const struct mime_message *m)
{
	test_assert_str(m->text, "plain");
	test_assert_str(m->html, "<p>html</p>");
	test_assert_int(m->n_attachments, 1);
	test_assert_str(m->attachments[0].content_type, "text/calendar");
	test_assert_str(m->attachments[0].filename, "attachment-1.ics");
}

static void
check_mixed_text_parts(const struct mime_message *m)
{
	/* a list footer in its own part is joined to the text */
	test_assert_str(m->text, "Hello\n-- \nList footer");
	test_assert_int(m->n_attachments, 1);
}

static void
lim_depth1(struct mime_limits *l)
{
	l->max_depth = 1;
}

static void
lim_parts2(struct mime_limits *l)
{
	l->max_parts = 2;
}

static void
lim_att1(struct mime_limits *l)
{
	l->max_attachments = 1;
}

static void
lim_header256(struct mime_limits *l)
{
	l->max_header_size = 256;
}

static void
lim_count10(struct mime_limits *l)
{
	l->max_header_count = 10;
}

static void
lim_line78(struct mime_limits *l)
{
	l->max_line_length = 78;
}

static void
lim_text1k(struct mime_limits *l)
{
	l->max_text_size = 1024;
}

static void
lim_msg1k(struct mime_limits *l)
{
	l->max_message_size = 1024;
}

static void
lim_attsize3(struct mime_limits *l)
{
	l->max_attachment_size = 3;
}

static void
lim_decoded10(struct mime_limits *l)
{
	l->max_decoded_size = 10;
}

#define CRLF "\r\n"

static const struct mime_case cases[] = {
	{ "simple",
	  "Return-Path: <bounce@example.com>" CRLF
	  "From: Li Wei <li.wei@example.com>" CRLF
	  "To: support@exchange.test, \"Ops, Team\" <ops@exchange.test>" CRLF
	  "Subject: Deposit not received" CRLF
	  "Date: Tue, 5 Mar 2024 10:20:30 +0800" CRLF
	  "Message-ID: <abc.123@mail.example.com>" CRLF
	  "In-Reply-To: <prev@exchange.test>" CRLF
	  "References: <first@exchange.test>" CRLF "\t<prev@exchange.test>" CRLF
	  "X-Mailer: Test Mailer 1.0" CRLF
	  "Content-Language: zh-CN" CRLF
	  "Content-Type: text/plain; charset=us-ascii" CRLF CRLF
	  "My deposit of 0.5 BTC has not arrived." CRLF "TxID: 9f2c" CRLF,
	  NULL, 0, NULL, check_simple },
	{ "multipart/alternative",
	  "From: a@x.test" CRLF "Subject: alt" CRLF "MIME-Version: 1.0" CRLF
	  "Content-Type: multipart/alternative; boundary=\"b1\"" CRLF CRLF
	  "preamble" CRLF "--b1" CRLF
	  "Content-Type: text/plain; charset=utf-8" CRLF CRLF "Plain version" CRLF CRLF "--b1" CRLF
	  "Content-Type: text/html; charset=utf-8" CRLF
	  "Content-Transfer-Encoding: quoted-printable" CRLF CRLF
	  "<p><b>HTML</b> version=3D</p>" CRLF "--b1--" CRLF "epilogue" CRLF,
	  NULL, 0, NULL, check_alternative },
	{ "html only",
	  "From: a@x.test" CRLF "Subject: html" CRLF
	  "Content-Type: text/html; charset=utf-8" CRLF CRLF
	  "<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
	  "<body><p>Hello agent,</p><p>see <a href=\"https://exchange.test/acct/42\">my account</a>"
	  "</p></body></html>" CRLF,
	  NULL, 0, NULL, check_html_only },
	{ "base64 GBK body",
	  "From: a@x.test" CRLF "Subject: gbk" CRLF
	  "Content-Type: text/plain; charset=gbk" CRLF "Content-Transfer-Encoding: base64" CRLF CRLF
	  "xPq6w6OsztK1xMzhz9a7ucO709C1vdXLoaM=" CRLF,
	  NULL, 0, NULL, check_gbk },
	{ "RFC 2047 GB2312 subject and name",
	  "From: =?gb2312?B?xOO6ww==?= <user@example.cn>" CRLF
	  "Subject: =?gb2312?B?s+TWtc7KzOI=?= [urgent]" CRLF CRLF "x" CRLF,
	  NULL, 0, NULL, check_subject_gb2312 },
	{ "RFC 2231 continuations",
	  "From: a@x.test" CRLF "Subject: files" CRLF
	  "Content-Type: multipart/mixed; boundary=b" CRLF CRLF "--b" CRLF
	  "Content-Type: image/png" CRLF
	  "Content-Disposition: attachment;" CRLF
	  " filename*1*=%E6%88%AA%E5%9B%BE.png;" CRLF
	  " filename*0*=utf-8''%E6%8F%90%E7%8E%B0" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "iVBORw==" CRLF "--b" CRLF
	  "Content-Type: application/pdf" CRLF
	  "Content-Disposition: attachment; filename*0=\"100% \"; filename*1*=%E5%8F%91%E7%A5%A8.pdf" CRLF
	  CRLF "x" CRLF "--b" CRLF
	  "Content-Type: application/pdf; name=\"=?utf-8?B?5Y+R56WoLnBkZg==?=\"" CRLF
	  "Content-Disposition: attachment; filename=\"=?utf-8?B?5Y+R56WoLnBkZg==?=\"" CRLF CRLF
	  "y" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_rfc2231 },
	{ "path and control characters in file names",
	  "From: a@x.test" CRLF "Subject: evil" CRLF
	  "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF "Content-Disposition: attachment; filename=\"../../etc/passwd\"" CRLF CRLF "1" CRLF
	  "--b" CRLF "Content-Disposition: attachment; filename=\"..\\\\..\\\\windows\\\\evil.exe\"" CRLF
	  CRLF "2" CRLF
	  "--b" CRLF "Content-Disposition: attachment; filename=\".htaccess\"" CRLF CRLF "3" CRLF
	  "--b" CRLF "Content-Type: application/pdf" CRLF
	  "Content-Disposition: attachment; filename=\"..\"" CRLF CRLF "4" CRLF
	  "--b" CRLF "Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe" CRLF
	  CRLF "5" CRLF
	  "--b" CRLF "Content-Disposition: attachment; filename*=utf-8''a%01%1F%3Ab.txt" CRLF CRLF "6"
	  CRLF "--b" CRLF "Content-Type: application/zip" CRLF "Content-Disposition: attachment;" CRLF
	  " filename*=utf-8''" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".zip" CRLF CRLF "7" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_evil_names },
	{ "8-bit UTF-8 text without charset",
	  "From: a@x.test" CRLF "Subject: 8bit" CRLF "Content-Transfer-Encoding: 8bit" CRLF CRLF
	  "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe4\xbd\xa0\xe5\xa5\xbd" CRLF,
	  NULL, 0, NULL, check_8bit_utf8 },
	{ "8-bit Latin-1 text without charset",
	  "From: a@x.test" CRLF "Subject: 8bit" CRLF CRLF
	  "Gr\xfc\xdf" "e aus K\xf6ln, sch\xf6ne Gr\xfc\xdf" "e an alle, die \xfc" "ber den Bahnhof gehen." CRLF,
	  NULL, 0, NULL, check_8bit_latin1 },
	{ "bad base64 attachment",
	  "From: a@x.test" CRLF "Subject: bad" CRLF
	  "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF "Content-Type: text/plain" CRLF CRLF "see attached" CRLF
	  "--b" CRLF "Content-Type: application/octet-stream; name=x.bin" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "QUJD!!RA==QUJD" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_bad_base64 },
	{ "text labelled base64 that is not",
	  "From: a@x.test" CRLF "Subject: bad" CRLF "Content-Type: text/plain" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "This text is not base64 at all." CRLF,
	  NULL, 0, NULL, check_not_base64_text },
	{ "undecodable charset quarantines, keeps the rest",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: text/plain; charset=x-no-such-charset" CRLF CRLF
	  "\x81\x82\x83\x84\x85\x86\x87\x88" CRLF,
	  NULL, -1, "charset: ", check_headers_kept },
	{ "limit max_mime_depth",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=o" CRLF CRLF "--o" CRLF
	  "Content-Type: multipart/alternative; boundary=i" CRLF CRLF "--i" CRLF CRLF "deep" CRLF
	  "--i--" CRLF "--o--" CRLF,
	  lim_depth1, -1, "limit: max_mime_depth 1 exceeded", check_headers_kept },
	{ "limit max_mime_parts",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=o" CRLF CRLF "--o" CRLF CRLF "a" CRLF "--o" CRLF CRLF
	  "b" CRLF "--o--" CRLF,
	  lim_parts2, -1, "limit: max_mime_parts 2 exceeded", check_headers_kept },
	{ "limit max_attachments",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=o" CRLF CRLF
	  "--o" CRLF "Content-Type: image/gif" CRLF CRLF "a" CRLF
	  "--o" CRLF "Content-Type: image/gif" CRLF CRLF "b" CRLF "--o--" CRLF,
	  lim_att1, -1, "limit: max_attachments 1 exceeded", check_headers_kept },
	{ "limit max_attachment_size",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=o" CRLF CRLF
	  "--o" CRLF "Content-Type: image/gif" CRLF CRLF "abcd" CRLF "--o--" CRLF,
	  lim_attsize3, -1, "limit: max_attachment_size 3 exceeded", check_headers_kept },
	{ "limit max_decoded_size",
	  "From: a@x.test" CRLF "Subject: kept" CRLF CRLF "0123456789abcdef" CRLF,
	  lim_decoded10, -1, "limit: max_decoded_size 10 exceeded", check_headers_kept },
	{ "limit max_header_size",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF CRLF
	  "body" CRLF,
	  lim_header256, -1, "limit: max_header_size 256 exceeded", NULL },
	{ "limit max_header_size in a part",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=o" CRLF CRLF "--o" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF CRLF
	  "x" CRLF "--o--" CRLF,
	  lim_header256, -1, "limit: max_header_size 256 exceeded", check_headers_kept },
	{ "limit max_header_count",
	  "From: a@x.test" CRLF "Subject: kept" CRLF "A: 1" CRLF "B: 1" CRLF "C: 1" CRLF "D: 1" CRLF
	  "E: 1" CRLF "F: 1" CRLF "G: 1" CRLF "H: 1" CRLF "I: 1" CRLF CRLF "body" CRLF,
	  lim_count10, -1, "limit: max_header_count 10 exceeded", NULL },
	{ "limit max_line_length",
	  "From: a@x.test" CRLF "Subject: kept" CRLF CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF,
	  lim_line78, -1, "limit: max_line_length 78 exceeded", check_headers_kept },
	{ "line of exactly max_line_length",
	  "From: a@x.test" CRLF "Subject: kept" CRLF CRLF
	  "012345678901234567890123456789012345678901234567890123456789012345678901234567" CRLF,
	  lim_line78, 0, NULL, check_headers_kept },
	{ "limit max_message_size",
	  "From: a@x.test" CRLF "Subject: kept" CRLF CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678" CRLF,
	  lim_msg1k, -1, "limit: max_message_size 1024 exceeded", check_headers_kept },
	{ "empty message", "", NULL, -1, "structure: empty message", NULL },
	{ "white space only", " \r\n\r\n\t\r\n", NULL, -1, "structure: empty message", NULL },
	{ "header only, no body, no final line end",
	  "From: a@x.test" CRLF "Subject: only a header", NULL, 0, NULL, check_header_only },
	{ "no blank line after the header",
	  "From: a@x.test" CRLF "Subject: no blank line" CRLF "this line is the body" CRLF,
	  NULL, 0, NULL, check_no_blank_line },
	{ "no header at all", "just some text\r\nand more\r\n", NULL, -1, "structure: no header", NULL },
	{ "boundary=\"\\\"\" (crashes libetpan 1.9.4)",
	  "From: a@x.test" CRLF "Subject: kept" CRLF
	  "Content-Type: multipart/mixed; boundary=\"\\\"\"" CRLF CRLF "--\"" CRLF CRLF "x" CRLF,
	  NULL, -1, "structure: malformed multipart boundary", check_headers_kept },
	{ "message/rfc822 attachment",
	  "From: a@x.test" CRLF "Subject: fwd" CRLF
	  "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF "Content-Type: text/plain" CRLF CRLF "Forwarding this." CRLF
	  "--b" CRLF "Content-Type: message/rfc822" CRLF CRLF
	  "From: a@b.test" CRLF "Subject: Original complaint" CRLF CRLF "inner body" CRLF
	  "--b--" CRLF,
	  NULL, 0, NULL, check_rfc822 },
	{ "groups, Reply-To and an empty Return-Path",
	  "Return-Path: <>" CRLF "From: a@x.test" CRLF "Subject: groups" CRLF
	  "To: Team: a@x.test, Bee <c@x.test>;" CRLF "Cc: undisclosed-recipients:;" CRLF
	  "Reply-To: <reply@x.test>" CRLF CRLF "x" CRLF,
	  NULL, 0, NULL, check_groups },
	{ "addresses as RFC 5322 reads them",
	  "From: \"<agent@example.test>\"@evil.example" CRLF
	  "Sender: \"john doe\"@example.com" CRLF
	  "To: tim@a.com concierge@a.com, Li Wei <li.wei@example.com>" CRLF
	  "Cc: Big Bug bb@bug.com, john (Johnny) . doe @ example . com (John Doe)" CRLF
	  "Reply-To: =?utf-8?q?agent=40example.test?= <x@evil.example>" CRLF
	  "Subject: spoof" CRLF CRLF "x" CRLF,
	  NULL, 0, NULL, check_addresses_rfc5322 },
	{ "valid UTF-8 labelled X-UNKNOWN",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: text/plain; charset=X-UNKNOWN" CRLF
	  "Content-Transfer-Encoding: 8bit" CRLF CRLF "Envoy\xc3\xa9 de mon iPhone" CRLF,
	  NULL, 0, NULL, check_charset_unknown_utf8 },
	{ "Windows-1252 labelled UTF-8",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: text/plain; charset=utf-8" CRLF
	  "Content-Transfer-Encoding: 8bit" CRLF CRLF "Envoy\xe9 de mon iPhone" CRLF,
	  NULL, 0, NULL, check_charset_broken_utf8 },
	{ "From without brackets around the address",
	  "From: Big Bug bb@bug.com" CRLF "Subject: x" CRLF CRLF "x" CRLF, NULL, 0, NULL,
	  check_from_glued },
	{ "From glued into one word",
	  "From: tim@a.comconcierge@a.com" CRLF "Subject: x" CRLF CRLF "x" CRLF, NULL, 0, NULL,
	  check_from_none },
	{ "junk in structured headers",
	  "From: Bob bob@x.test (((" CRLF "Subject: junk" CRLF "Date: yesterday at noon" CRLF
	  "Message-ID: no-brackets@x.test" CRLF "References: <a@x.test> junk <b@x.test" CRLF
	  " >" CRLF CRLF "x" CRLF,
	  NULL, 0, NULL, check_junk_headers },
	{ "malformed encoded word with 8-bit bytes (found by fuzzing)",
	  "From: =?qtf-8?q?Patrik_+EC3=A4ltstr=C3=B\xd1\x92\xc0\xc2\xdf\xc3\x8f\x9e"
	  "f@nada.kth.se\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9" "1\xf9\xf9\xf9\xf9~\xf9"
	  "\xf9t/p\xab\xab\xab\xab\xab\xab\xab\xab\xab\xabnsen?= <keld@dFA nicng.dk>" CRLF
	  "Subject: =?qtf-8?q?\xc0\xc2\xdf?= x" CRLF CRLF "body" CRLF,
	  NULL, 0, NULL, NULL },
	{ "uuencoded block in text",
	  "From: a@x.test" CRLF "Subject: uu" CRLF CRLF "before" CRLF "begin 644 cat.txt" CRLF
	  "$0V%T\"@``" CRLF "`" CRLF "end" CRLF "after" CRLF,
	  NULL, 0, NULL, check_uuencode },
	{ "Content-Transfer-Encoding: x-uuencode",
	  "From: a@x.test" CRLF "Subject: uu" CRLF "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF CRLF "text" CRLF "--b" CRLF
	  "Content-Type: text/plain; name=cat.txt" CRLF "Content-Transfer-Encoding: x-uuencode" CRLF
	  CRLF "begin 600 cat.txt" CRLF "$0V%T\"@``" CRLF "`" CRLF "end" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_uu_cte },
	{ "empty last part (libetpan would drop all parts)",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/mixed; boundary=\"E\"" CRLF
	  CRLF "--E" CRLF "Content-Type: text/plain" CRLF CRLF "A text section" CRLF
	  "--E" CRLF "Content-Type: application/zip; name=\"foo.zip\"" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "PGh0bWw+Cg==" CRLF CRLF "--E" CRLF CRLF,
	  NULL, 0, NULL, check_empty_last_part },
	{ "no close delimiters (truncated message)",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/mixed; boundary=o" CRLF CRLF
	  "--o" CRLF "Content-Type: multipart/alternative; boundary=i" CRLF CRLF
	  "--i" CRLF "Content-Type: text/plain" CRLF CRLF "inner text" CRLF "-- " CRLF "signature" CRLF
	  "--i" CRLF "Content-Type: text/html" CRLF CRLF "<p>inner</p>" CRLF,
	  NULL, 0, NULL, check_no_close },
	{ "\";;\" in Content-Type",
	  "From: a@x.test" CRLF "Subject: x" CRLF
	  "Content-Type: multipart/alternative;; boundary=\"foo\"" CRLF CRLF
	  "--foo" CRLF "Content-Type: text/plain; charset=us-ascii" CRLF CRLF "The better part" CRLF
	  "--foo" CRLF "Content-Type: text/plain; charset=us-ascii" CRLF CRLF "The worse part" CRLF
	  "--foo--" CRLF,
	  NULL, 0, NULL, check_double_semicolon },
	{ "quoted-printable with LF line ends and a final soft break",
	  "From: a@x.test\nSubject: qp\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: quoted-printable\n\nsoft bro=\nken line\nsecond line =3D ok\n",
	  NULL, 0, NULL, check_qp_lf },
	{ "BOM, mbox postmark",
	  "\xef\xbb\xbf" "From someone@x.test Mon Jan  1 00:00:00 2024\nFrom: a@x.test\n"
	  "Subject: after a postmark\n\nbody\n",
	  NULL, 0, NULL, check_postmark },
	{ "file name from a Content-Type libetpan refuses",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF CRLF "text" CRLF "--b" CRLF "Content-Type: ; name=\"payroll.zip\"" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "UEsDBA==" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_lenient_filename },
	{ "inline cid image",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/related; boundary=b" CRLF CRLF
	  "--b" CRLF "Content-Type: text/html" CRLF CRLF "<img src=\"cid:img1@x.test\"> hi" CRLF
	  "--b" CRLF "Content-Type: image/png" CRLF "Content-ID: <img1@x.test>" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF "iVBORw==" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_inline_image },
	{ "empty text/plain beside HTML",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/alternative; boundary=b" CRLF
	  CRLF "--b" CRLF "Content-Type: text/plain" CRLF CRLF " " CRLF
	  "--b" CRLF "Content-Type: text/html" CRLF CRLF "<p>Only the HTML says something.</p>" CRLF
	  "--b--" CRLF,
	  NULL, 0, NULL, check_empty_plain_with_html },
	{ "alternatives: watch-html consumed, calendar kept",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/alternative; boundary=b" CRLF
	  CRLF "--b" CRLF "Content-Type: text/plain" CRLF CRLF "plain" CRLF
	  "--b" CRLF "Content-Type: text/watch-html" CRLF CRLF "<b>watch</b>" CRLF
	  "--b" CRLF "Content-Type: text/html" CRLF CRLF "<p>html</p>" CRLF
	  "--b" CRLF "Content-Type: text/calendar; method=REQUEST" CRLF CRLF "BEGIN:VCALENDAR" CRLF
	  "--b--" CRLF,
	  NULL, 0, NULL, check_alternatives },
	{ "inline text parts joined",
	  "From: a@x.test" CRLF "Subject: x" CRLF "Content-Type: multipart/mixed; boundary=b" CRLF CRLF
	  "--b" CRLF "Content-Type: text/plain" CRLF CRLF "Hello" CRLF
	  "--b" CRLF "Content-Type: image/png; name=a.png" CRLF CRLF "PNG" CRLF
	  "--b" CRLF "Content-Type: text/plain" CRLF "Content-Disposition: inline" CRLF CRLF
	  "-- " CRLF "List footer" CRLF "--b--" CRLF,
	  NULL, 0, NULL, check_mixed_text_parts },
	{ "text cut at max_text_size",
	  "From: a@x.test" CRLF "Subject: x" CRLF CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF
	  "0123456789012345678901234567890123456789012345678901234567890123456789" CRLF,
	  lim_text1k, 0, NULL, check_truncated_text },
};

static void
run_case(const struct mime_case *c)
{
	struct mime_limits lim;
	struct mime_message *m = NULL;
	const char *error = NULL;

	test_begin(c->name);
	mime_limits_default(&lim);
	if (c->limits != NULL)
		c->limits(&lim);
	int ret = mime_parse((const unsigned char *)c->raw, strlen(c->raw), &lim, &m, &error);
	test_assert_int(ret, c->ret);
	if (c->ret == 0) {
		test_assert(error == NULL);
		test_assert(m != NULL);
	} else {
		test_assert(error != NULL);
		if (error != NULL && c->error != NULL && strncmp(error, c->error, strlen(c->error)) != 0)
			test_assert_str(error, c->error);
	}
	if (c->check != NULL) {
		test_assert(m != NULL);
		if (m != NULL)
			c->check(m);
	}
	check_invariants(m, &lim);
	if (m != NULL)
		for (size_t i = 0; i < m->n_warnings; i++)
			test_assert(strncmp(m->warnings[i], "internal:", 9) != 0);
	mime_message_free(&m);
	test_assert(m == NULL);
}

/* ------------------------------------------------------------------ */
/* Generated messages                                                  */

static void
test_utf8_cut(void)
{
	struct mime_limits lim;
	struct mime_message *m = NULL;
	const char *error;
	char raw[2048];
	size_t len = (size_t)snprintf(raw, sizeof(raw),
				      "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");

	test_begin("text cut on a UTF-8 boundary");
	for (int i = 0; i < 400; i++) {
		memcpy(raw + len, "\xe4\xbd\xa0", 3); /* U+4F60 */
		len += 3;
	}
	mime_limits_default(&lim);
	lim.max_text_size = 1024;
	test_assert_int(mime_parse((const unsigned char *)raw, len, &lim, &m, &error), 0);
	test_assert(m != NULL && m->text_truncated && m->text_len == 1023);
	check_invariants(m, &lim);
	mime_message_free(&m);
}

/* One base64 attachment: its decoded bytes and damage flag, exact, on
   clean and damaged input (characters outside the alphabet skipped, a
   last group of 2 or 3 characters giving 1 or 2 bytes, a lone one none):
   what libetpan's decoder gave, kept by the one-pass decoder. */
/* Each attachment's range of the raw mail decodes to its bytes; the
   number of attachments with a range. */
static size_t
check_ranges(const unsigned char *raw, size_t len, const struct mime_message *m)
{
	size_t ranged = 0;
	for (size_t i = 0; m != NULL && i < m->n_attachments; i++) {
		const struct mime_attachment *a = &m->attachments[i];
		if (a->raw_encoding == MIME_RAW_NONE)
			continue;
		unsigned char *data = NULL;
		size_t n = 0;
		int ok = a->raw_offset <= len && a->raw_length <= len - a->raw_offset &&
			 mime_raw_decode(a->raw_encoding, raw + a->raw_offset, a->raw_length, &data,
					 &n) == 0 &&
			 n == a->size && memcmp(data, a->data, n) == 0;
		if (!ok)
			printf("attachment %zu (%s): range %zu+%zu, encoding %d: not its bytes\n", i,
			       a->filename, a->raw_offset, a->raw_length, (int)a->raw_encoding);
		test_assert(ok);
		free(data);
		ranged++;
	}
	return ranged;
}

static void
check_base64_att(const char *what, const char *enc, const unsigned char *want, size_t want_len,
		 int damaged)
{
	struct mime_limits lim;
	struct mime_message *m = NULL;
	const char *error = NULL;
	char *raw = xasprintf("From: a@x.test\r\nSubject: b64\r\n"
			      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
			      "--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
			      enc);
	mime_limits_default(&lim);
	test_assert_int(mime_parse((const unsigned char *)raw, strlen(raw), &lim, &m, &error), 0);
	const struct mime_attachment *a = m != NULL && m->n_attachments == 1 ? &m->attachments[0]
									     : NULL;
	int same = a != NULL && a->size == want_len && memcmp(a->data, want, want_len) == 0 &&
		   a->damaged == damaged;
	if (!same)
		printf("base64 \"%s\": %zu bytes, damaged %d\n", what, a != NULL ? a->size : 0,
		       a != NULL ? a->damaged : -1);
	test_assert(same);
	test_assert(a == NULL || a->raw_encoding == MIME_RAW_BASE64);
	test_assert_int(check_ranges((const unsigned char *)raw, strlen(raw), m), a != NULL);
	mime_message_free(&m);
	free(raw);
}

/* One quoted-printable attachment: its decoded bytes and damage flag,
   exact. What libetpan's decoder gave, followed by deskgate's removal of
   the CRs it added to LF-only input, kept by the one-pass decoder; one
   exception ("=A" last, marked): libetpan also wrote the byte after the
   part, here "\r" of the delimiter's line. */
static void
check_qp_att(const char *enc, const char *want, size_t want_len, int damaged)
{
	struct mime_limits lim;
	struct mime_message *m = NULL;
	const char *error = NULL;
	char *raw = xasprintf("From: a@x.test\r\nSubject: qp\r\n"
			      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
			      "--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--b--\r\n",
			      enc);
	mime_limits_default(&lim);
	test_assert_int(mime_parse((const unsigned char *)raw, strlen(raw), &lim, &m, &error), 0);
	const struct mime_attachment *a = m != NULL && m->n_attachments == 1 ? &m->attachments[0]
									     : NULL;
	int same = a != NULL && a->size == want_len && memcmp(a->data, want, want_len) == 0 &&
		   a->damaged == damaged;
	if (!same && a != NULL) {
		printf("QP \"");
		for (const char *c = enc; *c != '\0'; c++)
			printf(isprint((unsigned char)*c) ? "%c" : "\\x%02x", (unsigned char)*c);
		printf("\": \"");
		for (size_t i = 0; i < a->size; i++)
			printf(isprint(a->data[i]) ? "%c" : "\\x%02x", a->data[i]);
		printf("\" (%zu bytes), damaged %d\n", a->size, a->damaged);
	}
	test_assert(same);
	mime_message_free(&m);
	free(raw);
}

static void
test_qp_bytes(void)
{
	static const struct {
		const char *enc, *want;
		size_t len;
		int damaged;
	} qp[] = {
		{ "caf=C3=A9", "caf\xc3\xa9", 5, 0 },
		{ "soft=\r\nbreak\r\nline", "softbreak\r\nline", 15, 0 },
		{ "soft=\nbreak\nline\n", "softbreak\nline\n", 15, 0 },
		{ "a=3Db=3d", "a=b=", 4, 0 },
		{ "bad=G1x", "bad\x01x", 5, 1 },
		{ "lone\rcr x", "lone\r\ncr x", 10, 0 },
		{ "end=\r", "end", 3, 1 },
		{ "x=0D=0Ay\nz", "x\r\ny\r\nz", 7, 0 },
		{ "x= D\ny", "x\r\ny", 4, 1 },
		{ "x= D=0Ay\nz", "x\ny\nz", 5, 1 },
		{ "trail=  ", "trail", 5, 1 },
		{ "trail= \t", "trail", 5, 1 },
		{ "x==", "x=", 2, 1 },
		{ "tab\t=\n", "tab\t", 4, 0 },
		{ "=A", "A", 1, 1 }, /* libetpan: "A\r" */
		{ "", "", 0, 0 },
		{ "a_b", "a_b", 3, 0 },
		{ "\xff=FF", "\xff\xff", 2, 0 },
		{ "line1\r\nline2\nline3", "line1\r\nline2\r\nline3", 19, 0 },
		{ "=\r\n", "", 0, 0 },
		{ "=A\nb", "\xa0" "b", 2, 1 },
		{ "=\rb", "b", 1, 1 },
		{ "last\r", "last", 4, 0 },
		{ "= \nnext", "\x00next", 5, 1 },
		{ "a=\r\n\r\nb\r\n", "a\r\nb\r\n", 6, 0 },
		{ "a\r\r\nb", "a\r\n\r\nb", 6, 0 },
		{ "long=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D"
		  "=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D",
		  "long==========================", 30, 0 },
	};
	test_begin("QP attachment bytes, clean and damaged");
	for (size_t i = 0; i < N_ELEMENTS(qp); i++)
		check_qp_att(qp[i].enc, qp[i].want, qp[i].len, qp[i].damaged);
}

/* Where an attachment's bytes are in the raw mail: offsets count the
   skipped prefix; no range over a repaired copy or for changed bytes. */
static void
test_raw_ranges(void)
{
	static const struct {
		const char *what, *raw;
		int enc; /* of the last attachment */
	} rcases[] = {
		{ "7bit", "From: a@x.test\r\nSubject: r\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
			  "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/csv; "
			  "name=a.csv\r\n\r\na,b\r\n1,2\r\n--b--\r\n", MIME_RAW_IDENTITY },
		{ "mbox and BOM", "\xef\xbb\xbf\nFrom x@y Mon Jan  1 00:00:00 2024\nFrom: a@x.test\n"
			  "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
			  "--b\nContent-Type: image/png; name=p.png\nContent-Transfer-Encoding: base64\n\n"
			  "iVBORw0KGgo=\n--b--\n", MIME_RAW_BASE64 },
		{ "quoted-printable", "From: a@x.test\nContent-Type: multipart/mixed; boundary=b\n\n"
			  "--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: text/csv; name=a.csv\n"
			  "Content-Transfer-Encoding: quoted-printable\n\nx=3Dy\n--b--\n", MIME_RAW_NONE },
		{ "repaired", "From: a@x.test\nContent-Type: multipart/mixed; boundary=b\n\n"
			  "--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: image/png; name=p.png\n"
			  "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n", MIME_RAW_NONE },
	};
	for (size_t i = 0; i < N_ELEMENTS(rcases); i++) {
		test_begin(rcases[i].what);
		struct mime_message *m = NULL;
		const char *error;
		size_t len = strlen(rcases[i].raw);
		test_assert_int(mime_parse((const unsigned char *)rcases[i].raw, len, NULL, &m, &error), 0);
		const struct mime_attachment *a =
			m != NULL && m->n_attachments > 0 ? &m->attachments[m->n_attachments - 1] : NULL;
		test_assert(a != NULL && (int)a->raw_encoding == rcases[i].enc);
		test_assert_int(check_ranges((const unsigned char *)rcases[i].raw, len, m),
				rcases[i].enc != MIME_RAW_NONE);
		mime_message_free(&m);
	}
}

static void
test_base64_bytes(void)
{
	static const struct {
		const char *enc, *want;
		size_t len;
		int damaged;
	} b64[] = {
		{ "QUJD", "ABC", 3, 0 },
		{ "QUJDRA==", "ABCD", 4, 0 },
		{ "QUJDREU=", "ABCDE", 5, 0 },
		{ "QUJDRA", "ABCD", 4, 0 },
		{ "QUJDREU", "ABCDE", 5, 0 },
		{ "QUJDR", "ABC", 3, 1 },
		{ "QUJD!!RA==", "ABCD", 4, 1 },
		{ "QUJD\r\nRA==\r\n", "ABCD", 4, 0 },
		{ "QUJDRA==QUJD", "ABCD\x04\x14$", 7, 1 },
		{ " QU JD\tRA = = ", "ABCD", 4, 0 },
		{ "QUJD===", "ABC", 3, 1 },
		{ "/+/+", "\xff\xef\xfe", 3, 0 },
		{ "4pyT8J+Ygg", "\xe2\x9c\x93\xf0\x9f\x98\x82", 7, 0 },
		{ "QUJD\x80RA==", "ABCD", 4, 1 },
		{ "====", "", 0, 1 },
		{ "", "", 0, 0 },
	};
	test_begin("base64 attachment bytes, clean and damaged");
	for (size_t i = 0; i < N_ELEMENTS(b64); i++)
		check_base64_att(b64[i].enc, b64[i].enc, (const unsigned char *)b64[i].want,
				 b64[i].len, b64[i].damaged);

	/* Every byte value, in lines of 76 characters. */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char all[256];
	char enc[512];
	size_t w = 0;
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof(all); i += 3) {
		unsigned int v = (unsigned int)all[i] << 16;
		size_t left = sizeof(all) - i;
		if (left > 1)
			v |= (unsigned int)all[i + 1] << 8;
		if (left > 2)
			v |= all[i + 2];
		enc[w++] = alphabet[v >> 18 & 63];
		enc[w++] = alphabet[v >> 12 & 63];
		enc[w++] = left > 1 ? alphabet[v >> 6 & 63] : '=';
		enc[w++] = left > 2 ? alphabet[v & 63] : '=';
		if (w % 78 == 76) {
			enc[w++] = '\r';
			enc[w++] = '\n';
		}
	}
	enc[w] = '\0';
	check_base64_att("every byte", enc, all, sizeof(all), 0);
}

/* n nested multiparts, each with its own boundary (fixed width: none is a
   prefix of another), closed or not. */
static char *
deep_multipart(size_t n, int closed, size_t *len_r)
{
	size_t cap = n * 96 + 256, len = 0;
	char *m = malloc(cap);
	len += (size_t)snprintf(m + len, cap - len, "From: a@x.test\r\nSubject: deep\r\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(m + len, cap - len,
					"Content-Type: multipart/mixed; boundary=b%06zu\r\n\r\n--b%06zu\r\n",
					i, i);
	len += (size_t)snprintf(m + len, cap - len, "\r\nthe bottom\r\n");
	for (size_t i = n; closed && i-- > 0;)
		len += (size_t)snprintf(m + len, cap - len, "--b%06zu--\r\n", i);
	*len_r = len;
	return m;
}

/* n nested message/rfc822 parts. */
static char *
deep_rfc822(size_t n, size_t *len_r)
{
	size_t cap = n * 48 + 256, len = 0;
	char *m = malloc(cap);
	len += (size_t)snprintf(m + len, cap - len, "From: a@x.test\r\nSubject: deep\r\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(m + len, cap - len, "Content-Type: message/rfc822\r\n\r\n");
	len += (size_t)snprintf(m + len, cap - len, "\r\nthe bottom\r\n");
	*len_r = len;
	return m;
}

static void
test_deep(void)
{
	static const size_t depths[] = { 3, 19, 20, 21, 5000, 10000, 100000 };
	struct mime_limits lim;
	mime_limits_default(&lim);

	for (size_t k = 0; k < N_ELEMENTS(depths); k++) {
		for (int kind = 0; kind < 3; kind++) {
			size_t n = depths[k], len;
			char *raw = kind < 2 ? deep_multipart(n, kind == 0, &len) : deep_rfc822(n, &len);
			struct mime_message *m = NULL;
			const char *error = NULL;
			char name[64];
			snprintf(name, sizeof(name), "%s nesting %zu",
				 kind == 0 ? "multipart" : kind == 1 ? "unclosed multipart" : "rfc822", n);
			test_begin(name);
			int ret = mime_parse((const unsigned char *)raw, len, &lim, &m, &error);
			/* the innermost part is at depth n. Without close delimiters
			   libetpan cuts each level at the last line starting with
			   '-', which the repairs undo for a few levels only */
			if (kind == 1 && n > 3) {
				test_assert(ret == 0 ||
					    (error != NULL && strcmp(error, "limit: max_mime_depth 20 exceeded") == 0));
			} else if (n <= lim.max_depth) {
				test_assert_int(ret, 0);
				/* an embedded message is an attachment, not body text */
				if (kind < 2)
					test_assert(m != NULL && contains(m->text, "the bottom"));
				test_assert(m != NULL && m->n_parts == n + 1);
			} else {
				test_assert_int(ret, -1);
				test_assert_str(error, "limit: max_mime_depth 20 exceeded");
				test_assert(m != NULL && strcmp(m->subject, "deep") == 0);
			}
			check_invariants(m, &lim);
			if (m != NULL)
				for (size_t i = 0; i < m->n_warnings; i++)
					test_assert(strncmp(m->warnings[i], "internal:", 9) != 0);
			mime_message_free(&m);
			free(raw);
		}
	}

	/* the deepest the configuration allows (1000), and deeper */
	lim.max_depth = 1000;
	lim.max_parts = 1000000;
	for (size_t n = 999; n <= 1001; n++) {
		size_t len;
		char *raw = deep_multipart(n, 1, &len);
		struct mime_message *m = NULL;
		const char *error = NULL;
		test_begin("multipart nesting near max_mime_depth 1000");
		int ret = mime_parse((const unsigned char *)raw, len, &lim, &m, &error);
		test_assert_int(ret, n <= 1000 ? 0 : -1);
		if (ret == 0)
			test_assert(m != NULL && m->n_parts == n + 1 && contains(m->text, "the bottom"));
		mime_message_free(&m);
		free(raw);
	}
}

/* Many sibling parts: the part limit is checked before libetpan builds
   them. */
static void
test_many_parts(void)
{
	size_t n = 200000, cap = n * 12 + 256, len = 0;
	char *raw = malloc(cap);
	struct mime_limits lim;
	struct mime_message *m = NULL;
	const char *error = NULL;

	test_begin("200000 sibling parts");
	mime_limits_default(&lim);
	len += (size_t)snprintf(raw + len, cap - len,
				"From: a@x.test\r\nSubject: many\r\n"
				"Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(raw + len, cap - len, "--b\r\n\r\nx\r\n");
	int ret = mime_parse((const unsigned char *)raw, len, &lim, &m, &error);
	test_assert_int(ret, -1);
	test_assert_str(error, "limit: max_mime_parts 500 exceeded");
	mime_message_free(&m);
	free(raw);
}

/* Deeply nested comments and many addresses in a header. */
static void
test_hostile_headers(void)
{
	size_t n = 200000, len = 0;
	char *raw = malloc(n * 2 + 256);
	struct mime_message *m = NULL;
	const char *error = NULL;

	test_begin("200000 nested comments");
	len += (size_t)snprintf(raw, 64, "Subject: c\r\nFrom: a");
	memset(raw + len, '(', n);
	len += n;
	len += (size_t)snprintf(raw + len, 64, " <a@x.test>\r\n\r\nbody\r\n");
	int ret = mime_parse((const unsigned char *)raw, len, NULL, &m, &error);
	test_assert(ret == 0 || ret == -1);
	test_assert(m != NULL && strcmp(m->subject, "c") == 0);
	mime_message_free(&m);

	test_begin("10000 addresses");
	len = (size_t)snprintf(raw, 64, "Subject: c\r\nTo: ");
	for (size_t i = 0; i < 10000; i++)
		len += (size_t)snprintf(raw + len, 32, "u%zu@x.test, ", i);
	len += (size_t)snprintf(raw + len, 64, "last@x.test\r\n\r\nbody\r\n");
	ret = mime_parse((const unsigned char *)raw, len, NULL, &m, &error);
	test_assert_int(ret, 0);
	test_assert(m != NULL && m->to.count == 10001);
	mime_message_free(&m);
	free(raw);
}

/* Pseudo-random bytes, and random mutations of a valid message. */
static void
test_garbage(void)
{
	static const char base[] =
		"From: a@x.test\r\nSubject: g\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nhello=20world=\r\n\r\n"
		"--b\r\nContent-Type: application/pdf; name*0*=utf-8''a%20b; name*1=c.pdf\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
	struct mime_limits lim;
	uint32_t seed = 12345;
	unsigned char buf[4096];

	mime_limits_default(&lim);
	test_begin("garbage bytes");
	for (int round = 0; round < 300; round++) {
		size_t len = 1 + (seed >> 8) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
		}
		struct mime_message *m = NULL;
		const char *error = NULL;
		int ret = mime_parse(buf, len, &lim, &m, &error);
		test_assert(ret == 0 || (ret == -1 && error != NULL));
		check_invariants(m, &lim);
		mime_message_free(&m);
	}
	test_begin("mutated message");
	for (int round = 0; round < 2000; round++) {
		size_t len = sizeof(base) - 1;
		memcpy(buf, base, len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			static const char alphabet[] = "-\r\n;=\"'*%:<>()\\ \t\x80\xff\0b";
			buf[at] = (unsigned char)alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		struct mime_message *m = NULL;
		const char *error = NULL;
		int ret = mime_parse(buf, len, &lim, &m, &error);
		test_assert(ret == 0 || (ret == -1 && error != NULL));
		check_invariants(m, &lim);
		if (m != NULL)
			for (size_t i = 0; i < m->n_warnings; i++)
				test_assert(strncmp(m->warnings[i], "internal:", 9) != 0);
		mime_message_free(&m);
	}
}

/* ------------------------------------------------------------------ */
/* Corpus messages kept in tests/data/mime                             */

static size_t data_ranged; /* attachments with a range in the last parse_data() */

static struct mime_message *
parse_data(const char *rel, int *ret_r)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	size_t len;
	struct mime_message *m = NULL;
	const char *error;

	snprintf(path, sizeof(path), "%s/tests/data/mime/%s", top != NULL ? top : ".", rel);
	unsigned char *raw = test_read_file(path, &len);
	if (raw == NULL) {
		printf("FAIL cannot read %s\n", path);
		test_failures++;
		*ret_r = -2;
		return NULL;
	}
	*ret_r = mime_parse(raw, len, NULL, &m, &error);
	data_ranged = check_ranges(raw, len, m);
	free(raw);
	return m;
}

static void
test_data_files(void)
{
	struct mime_message *m;
	int ret;

	/* zbateson EmailFunctionalTest m1005: "attachments" => 4, HTML body */
	test_begin("data zbateson m1005");
	m = parse_data("zbateson/m1005.txt", &ret);
	test_assert_int(ret, 0);
	if (m != NULL) {
		test_assert_str(m->subject, "Die Hasen und die Frösche (Netscape Messenger 4.7)");
		test_assert_str(m->to.count > 0 ? m->to.items[0].name : NULL, "Heinz Müller");
		test_assert_int(m->n_attachments, 4);
		test_assert(contains(m->text, "Die Hasen klagten einst über ihre mißliche Lage"));
		test_assert(data_ranged > 0);
	}
	mime_message_free(&m);

	/* zbateson m0018: three uuencoded files in the text part */
	test_begin("data zbateson m0018");
	m = parse_data("zbateson/m0018.txt", &ret);
	test_assert_int(ret, 0);
	if (m != NULL) {
		test_assert_int(m->n_attachments, 3);
		test_assert(contains(m->text, "Slow but steady wins the race."));
		test_assert_int(data_ranged, 0); /* uuencoded blocks cut from a text */
		test_assert(!contains(m->text, "begin 666"));
	}
	mime_message_free(&m);

	/* php-mime-mail-parser m0018: ks_c_5601-1987 name, 174 bytes */
	test_begin("data php m0018");
	m = parse_data("php-mime-mail-parser/m0018", &ret);
	test_assert_int(ret, 0);
	if (m != NULL) {
		test_assert_str(m->subject, "[Korea] Name");
		test_assert_int(m->n_attachments, 2);
		const struct mime_attachment *a = find_att(m, "사진.JPG");
		test_assert(a != NULL && a->size == 174 && !a->is_inline);
		test_assert(contains(m->text, "My traveling companions!"));
	}
	mime_message_free(&m);

	/* MIME-tools multi-nested.ref */
	test_begin("data mime-tools multi-nested");
	m = parse_data("mime-tools/multi-nested.msg", &ret);
	test_assert_int(ret, 0);
	if (m != NULL) {
		static const char *const types[] = { "multipart/mixed",	   "text/plain",
						     "text/plain",	   "multipart/parallel",
						     "image/gif",	   "image/gif",
						     "text/richtext",	   "message/rfc822",
						     "text/plain" };
		test_assert_int(m->n_parts, N_ELEMENTS(types));
		for (size_t i = 0; i < N_ELEMENTS(types) && i < m->n_parts; i++)
			test_assert_str(m->parts[i].content_type, types[i]);
		if (m->n_parts >= 6) {
			test_assert_str(m->parts[4].filename, "3d-vise.gif");
			test_assert_int(m->parts[4].decoded_size, 419);
			test_assert_int(m->parts[5].decoded_size, 357);
		}
	}
	mime_message_free(&m);

	/* enmime bad-final-boundary: the text and the zip survive */
	test_begin("data enmime bad-final-boundary");
	m = parse_data("enmime/bad-final-boundary.raw", &ret);
	test_assert_int(ret, 0);
	if (m != NULL) {
		test_assert_str(m->text, "A text section");
		test_assert(find_att(m, "foo_9E5D72.zip") != NULL);
	}
	mime_message_free(&m);
}

int
main(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		run_case(&cases[i]);
	test_utf8_cut();
	test_base64_bytes();
	test_qp_bytes();
	test_raw_ranges();
	test_deep();
	test_many_parts();
	test_hostile_headers();
	test_garbage();
	test_data_files();

	test_begin("mime_limits_default");
	struct mime_limits lim;
	mime_limits_default(&lim);
	test_assert_int(lim.max_message_size, 25 << 20);
	test_assert_int(lim.max_header_size, 256 << 10);
	test_assert_int(lim.max_header_count, 1000);
	test_assert_int(lim.max_line_length, 1 << 20);
	test_assert_int(lim.max_depth, 20);
	test_assert_int(lim.max_parts, 500);
	test_assert_int(lim.max_attachments, 100);
	test_assert_int(lim.max_attachment_size, 20 << 20);
	test_assert_int(lim.max_decoded_size, 60 << 20);
	test_assert_int(lim.max_text_size, 2 << 20);
	return test_exit();
}
