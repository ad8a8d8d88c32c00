/* test-dsn: bounce, feedback and auto-reply detection (parsers/dsn.c).
   Synthetic cases (including mail that must NOT be taken for a bounce),
   then the sisimai corpus: every message there must be detected, the two
   in not/ must not be, and the status and reply codes are compared with
   upstream's expected results (rates printed, failing below the ratchet). */
#include "build-config.h"

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/dsn.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* Measured rates must not fall below these (raise them when they improve). */
#define RATCHET_STATUS 0.91
#define RATCHET_REPLY 0.95

static enum dsn_kind
analyze(const char *raw, struct dsn_report **r_r, struct mime_message **msg_r)
{
	struct mime_limits limits;
	const char *error;
	mime_limits_default(&limits);
	*msg_r = NULL;
	if (mime_parse((const unsigned char *)raw, strlen(raw), &limits, msg_r, &error) < 0 &&
	    *msg_r == NULL) {
		printf("mime_parse: %s\n", error);
		*r_r = NULL;
		return DSN_NONE;
	}
	return dsn_analyze(*msg_r, r_r);
}

static const char dsn_postfix[] =
	"Return-Path: <>\r\n"
	"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
	"To: support+bounce-12-abcdefghij@example.test\r\n"
	"Delivered-To: support+bounce-12-abcdefghij@example.test\r\n"
	"Subject: Undelivered Mail Returned to Sender\r\n"
	"Auto-Submitted: auto-replied\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=delivery-status;\r\n"
	"\tboundary=\"B\"\r\n"
	"\r\n"
	"--B\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"I'm sorry to have to inform you that your message could not\r\n"
	"be delivered to one or more recipients.\r\n"
	"\r\n"
	"<nobody@example.net>: host mx.example.net said: 550 5.1.1 <nobody@example.net>:\r\n"
	"    Recipient address rejected: User unknown (in reply to RCPT TO command)\r\n"
	"--B\r\n"
	"Content-Type: message/delivery-status\r\n"
	"\r\n"
	"Reporting-MTA: dns; mx.example.net\r\n"
	"\r\n"
	"Final-Recipient: rfc822; nobody@example.net\r\n"
	"Original-Recipient: rfc822;nobody@example.net\r\n"
	"Action: failed\r\n"
	"Status: 5.0.0\r\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient address\r\n"
	"    rejected: User unknown\r\n"
	"\r\n"
	"Final-Recipient: rfc822; later@example.net\r\n"
	"Action: delayed\r\n"
	"Status: 4.4.1\r\n"
	"\r\n"
	"--B\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: Support <support@example.test>\r\n"
	"To: nobody@example.net\r\n"
	"Subject: Your ticket\r\n"
	"Message-ID: <dg.T7.aaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test>\r\n"
	"\r\n"
	"Thank you.\r\n"
	"--B--\r\n";

static const char qmail_bounce[] =
	"Return-Path: <>\r\n"
	"From: MAILER-DAEMON@mx4.example.jp\r\n"
	"To: support@example.test\r\n"
	"Subject: failure notice\r\n"
	"\r\n"
	"Hi. This is the qmail-send program at mx4.example.jp.\r\n"
	"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
	"This is a permanent error; I've given up. Sorry it didn't work out.\r\n"
	"\r\n"
	"<kijitora@example.ne.jp>:\r\n"
	"192.0.2.32 does not like recipient.\r\n"
	"Remote host said: 550 5.2.2 Mailbox full\r\n"
	"\r\n"
	"--- Below this line is a copy of the message.\r\n"
	"\r\n"
	"Return-Path: <support@example.test>\r\n"
	"Message-ID: <dg.T9.bbbbbbbbbbbbbbbbbbbbbbbbbb@gw.example.test>\r\n"
	"From: support@example.test\r\n"
	"\r\n"
	"body\r\n";

static const char vacation[] =
	"Return-Path: <alice@example.net>\r\n"
	"From: Alice <alice@example.net>\r\n"
	"To: support@example.test\r\n"
	"Subject: Out of office: Re: your ticket\r\n"
	"Auto-Submitted: auto-replied\r\n"
	"\r\n"
	"I am away until Monday.\r\n";

static const char arf[] =
	"From: feedback@isp.example\r\n"
	"To: abuse@example.test\r\n"
	"Subject: FW: complaint\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\r\n"
	"\r\n"
	"--A\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"This is an abuse report.\r\n"
	"--A\r\n"
	"Content-Type: message/feedback-report\r\n"
	"\r\n"
	"Feedback-Type: abuse\r\n"
	"User-Agent: SomeGenerator/1.0\r\n"
	"Version: 1\r\n"
	"Original-Rcpt-To: <bob@isp.example>\r\n"
	"\r\n"
	"--A\r\n"
	"Content-Type: text/rfc822-headers\r\n"
	"\r\n"
	"From: support@example.test\r\n"
	"Message-ID: <dg.T3.cccccccccccccccccccccccccc@gw.example.test>\r\n"
	"\r\n"
	"--A--\r\n";

/* Mail from people that talks about bounces must stay mail. */
static const char *const not_bounces[] = {
	/* a customer forwards a bounce they got */
	"From: Carol <carol@example.net>\r\n"
	"To: support@example.test\r\n"
	"Subject: Fwd: Undelivered Mail Returned to Sender\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"F\"\r\n"
	"\r\n"
	"--F\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"My withdrawal confirmation mail bounced, see below. What now?\r\n"
	"--F\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: MAILER-DAEMON@mx.example.net\r\n"
	"Subject: Undelivered Mail Returned to Sender\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
	"\r\n"
	"--B\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"could not be delivered\r\n"
	"--B\r\n"
	"Content-Type: message/delivery-status\r\n"
	"\r\n"
	"Final-Recipient: rfc822; x@example.net\r\n"
	"Action: failed\r\n"
	"Status: 5.1.1\r\n"
	"\r\n"
	"--B--\r\n"
	"--F--\r\n",
	/* a customer says their mail was not delivered */
	"From: Dave <dave@example.net>\r\n"
	"To: support@example.test\r\n"
	"Subject: Deposit not delivered to my wallet\r\n"
	"\r\n"
	"My deposit was not delivered. Your message said it failed. Please help.\r\n",
	/* a customer whose withdrawal was rejected, quoting our mail */
	"From: Erin <erin@example.net>\r\n"
	"To: support@example.test\r\n"
	"Subject: Withdrawal rejected - mail delivery of the code failed\r\n"
	"\r\n"
	"Your message said my withdrawal was rejected and could not be delivered.\r\n"
	"User unknown? My address is erin@example.net. Delivery failed again.\r\n",
	/* a list message (List-Id) that is not a refusal */
	"From: news-owner@lists.example.org\r\n"
	"List-Id: <news.lists.example.org>\r\n"
	"To: support@example.test\r\n"
	"Subject: Weekly digest: delivery failures explained\r\n"
	"\r\n"
	"This week: why mail could not be delivered.\r\n",
	/* an ordinary Chinese message */
	"From: =?UTF-8?B?5byg5Lyf?= <zhang@example.cn>\r\n"
	"To: support@example.test\r\n"
	"Subject: =?UTF-8?B?5o+Q5biB5pyq5Yiw6LSm?=\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"\xe6\x82\xa8\xe5\xa5\xbd\r\n",
	/* issue 10.2: customers' subjects that read like an automatic reply
	   are not one without headers that say so (these were dropped:
	   no ticket, no ack, the server copy flagged) */
	"From: Li Wei <li.wei@example.com>\r\nTo: support@example.test\r\n"
	"Subject: On vacation - card blocked abroad\r\n\r\n"
	"I am on vacation in Spain and my card was blocked. Please unblock it.\r\n",
	"From: Anna <anna@example.de>\r\nTo: support@example.test\r\n"
	"Subject: Abwesenheit: Auszahlung fehlt\r\n\r\nMeine Auszahlung fehlt seit Montag.\r\n",
	"From: Bob <bob@example.com>\r\nTo: support@example.test\r\n"
	"Subject: Out of office until Monday, please answer by mail\r\n\r\nWhere is my BTC?\r\n",
	"From: Bob <bob@example.com>\r\nTo: support@example.test\r\n"
	"Subject: Auto: withdrawal question\r\n\r\nIs auto-withdrawal possible?\r\n",
	"From: Bob <bob@example.com>\r\nTo: support@example.test\r\n"
	"Subject: Away until 5 June, account locked\r\n\r\n"
	"I am away until 5 June and my account got locked, please help.\r\n",
	/* automatic, but not a reply: a notification is not an auto-reply */
	"From: alerts@bank.example\r\n"
	"To: support@example.test\r\n"
	"Subject: Statement ready\r\n"
	"Auto-Submitted: auto-generated\r\n"
	"\r\n"
	"Your statement is ready.\r\n",
};

static void
test_synthetic(void)
{
	struct dsn_report *r;
	struct mime_message *msg;

	test_begin("rfc3464");
	test_assert_int(analyze(dsn_postfix, &r, &msg), DSN_FAILED);
	if (r != NULL) {
		test_assert_str(r->format, "rfc3464");
		test_assert_int(r->n_recipients, 2);
		test_assert_str(r->recipients[0].address, "nobody@example.net");
		test_assert_str(r->recipients[0].status, "5.1.1"); /* text beats 5.0.0 */
		test_assert_str(r->recipients[0].reply_code, "550");
		test_assert_str(r->recipients[0].action, "failed");
		test_assert(r->recipients[0].diagnostic != NULL &&
			    strstr(r->recipients[0].diagnostic, "User unknown") != NULL);
		test_assert_str(r->recipients[1].status, "4.4.1");
		test_assert_str(r->recipients[1].action, "delayed");
		test_assert_str(r->original_message_id,
				"dg.T7.aaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test");
		test_assert(r->n_envelope_to >= 1);
		test_assert_str(r->envelope_to[0], "support+bounce-12-abcdefghij@example.test");
	}
	dsn_report_free(&r);
	test_assert(r == NULL);
	mime_message_free(&msg);

	test_begin("qmail");
	test_assert_int(analyze(qmail_bounce, &r, &msg), DSN_FAILED);
	if (r != NULL) {
		test_assert_str(r->format, "text");
		test_assert_int(r->n_recipients, 1);
		test_assert_str(r->recipients[0].address, "kijitora@example.ne.jp");
		test_assert_str(r->recipients[0].status, "5.2.2");
		test_assert_str(r->recipients[0].reply_code, "550");
		test_assert_str(r->original_message_id,
				"dg.T9.bbbbbbbbbbbbbbbbbbbbbbbbbb@gw.example.test");
	}
	dsn_report_free(&r);
	mime_message_free(&msg);

	test_begin("vacation");
	test_assert_int(analyze(vacation, &r, &msg), DSN_AUTO_REPLY);
	dsn_report_free(&r);
	mime_message_free(&msg);

	test_begin("arf");
	test_assert_int(analyze(arf, &r, &msg), DSN_FEEDBACK);
	if (r != NULL) {
		test_assert_str(r->feedback_type, "abuse");
		test_assert_int(r->n_recipients, 1);
		test_assert_str(r->recipients[0].address, "bob@isp.example");
		test_assert_str(r->original_message_id,
				"dg.T3.cccccccccccccccccccccccccc@gw.example.test");
	}
	dsn_report_free(&r);
	mime_message_free(&msg);

	for (size_t i = 0; i < N_ELEMENTS(not_bounces); i++) {
		test_begin("not a bounce");
		test_assert_int(analyze(not_bounces[i], &r, &msg), DSN_NONE);
		test_assert(r == NULL);
		dsn_report_free(&r);
		mime_message_free(&msg);
	}

	/* hostile: truncated and malformed reports do not crash */
	static const char *const hostile[] = {
		"From: MAILER-DAEMON@x\r\nSubject: failure notice\r\nReturn-Path: <>\r\n\r\n",
		"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient:\r\n"
		"Status: 9.9.9.9.9\r\nAction: \r\n--B--\r\n",
		"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: message/delivery-status\r\n\r\n\r\n\r\n--B--\r\n",
		"Return-Path: <>\r\nFrom: postmaster@x.example\r\nSubject: Undeliverable\r\n\r\n"
		"@@@@ <@> a@ @b <<<>>> 5. 5.1 5.1. 555555 5.9.9 4.7.0000 could not be delivered\r\n",
	};
	for (size_t i = 0; i < N_ELEMENTS(hostile); i++) {
		test_begin("hostile");
		enum dsn_kind k = analyze(hostile[i], &r, &msg);
		test_assert(k == DSN_NONE || r != NULL);
		for (size_t n = 0; r != NULL && n < r->n_recipients; n++)
			test_assert(strlen(r->recipients[n].status) < sizeof(r->recipients[n].status));
		dsn_report_free(&r);
		mime_message_free(&msg);
	}
	test_assert(analyze("", &r, &msg) == DSN_NONE);
	mime_message_free(&msg);
	test_assert(dsn_analyze(NULL, &r) == DSN_NONE && r == NULL);
	test_assert_str(dsn_kind_name(DSN_AUTO_REPLY), "auto-reply");
}

/* Notices written by list managers and mobile carriers, and people's mail
   about bounces (tests/data/notices, issue 10.3): the notices are reports
   (never tickets), the people's mail is mail. */
static void
test_notices(void)
{
	static const struct {
		const char *file;
		enum dsn_kind kind;
		const char *format;
		const char *rcpt; /* NULL: none named */
		const char *status;
	} cases[] = {
		{ "list-mailman2-held.eml", DSN_DELAYED, "list-held", "mylist@lists.example.org", "4.7.0" },
		{ "list-mailman3-held-bare.eml", DSN_DELAYED, "list-held", "mylist@lists.example.org",
		  "4.7.0" },
		{ "list-sympa-moderation.eml", DSN_DELAYED, "list-held", NULL, "4.7.0" },
		{ "list-googlegroups-pending.eml", DSN_DELAYED, "list-held", "traders@googlegroups.com",
		  "4.7.0" },
		{ "list-mailman-loop.eml", DSN_FAILED, "list-loop", "desk@lists.example.com", "5.4.6" },
		{ "list-listserv-refused.eml", DSN_FAILED, "list-refusal", NULL, "5.7.1" },
		{ "carrier-sprint-sms.eml", DSN_FAILED, "carrier", "3125550142@messaging.sprintpcs.com",
		  NULL },
		{ "carrier-tmobile-mms.eml", DSN_FAILED, "carrier", NULL, NULL },
		{ "carrier-docomo-jp.eml", DSN_FAILED, "carrier", "taro.yamada.1977@docomo.ne.jp", NULL },
		{ "person-forward-gmail.eml", DSN_NONE, NULL, NULL, NULL },
		{ "person-forward-outlook-inline.eml", DSN_NONE, NULL, NULL, NULL },
		{ "person-carrier-text.eml", DSN_NONE, NULL, NULL, NULL },
		{ "person-list-post.eml", DSN_NONE, NULL, NULL, NULL },
	};
	const char *top = getenv("top_srcdir");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char path[4096];
		size_t len;
		snprintf(path, sizeof(path), "%s/tests/data/notices/%s", top != NULL ? top : ".",
			 cases[i].file);
		test_begin(cases[i].file);
		unsigned char *raw = test_read_file(path, &len);
		test_assert(raw != NULL);
		if (raw == NULL)
			continue;
		struct mime_message *msg = NULL;
		struct dsn_report *r = NULL;
		const char *error;
		mime_parse(raw, len, NULL, &msg, &error);
		test_assert(msg != NULL);
		enum dsn_kind kind = msg != NULL ? dsn_analyze(msg, &r) : DSN_NONE;
		test_assert_int(kind, cases[i].kind);
		if (cases[i].kind == DSN_NONE) {
			test_assert(r == NULL);
		} else if (r != NULL) {
			test_assert_str(r->format, cases[i].format);
			test_assert(r->n_recipients >= 1);
			if (r->n_recipients >= 1) {
				test_assert_str(r->recipients[0].address, cases[i].rcpt);
				if (cases[i].status != NULL)
					test_assert_str(r->recipients[0].status, cases[i].status);
				test_assert(r->recipients[0].status[0] == '4' ||
					    r->recipients[0].status[0] == '5');
			}
		}
		dsn_report_free(&r);
		mime_message_free(&msg);
		free(raw);
	}
}

struct tally {
	int files, detected, records, status_ok, reply_ok, msgid_found, rfc822_with_id;
};

static void
corpus_file(const char *dir, const char *name, json_t *expected, struct tally *t, int verbose)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unsigned char *raw = test_read_file(path, &len);
	if (raw == NULL) {
		printf("cannot read %s\n", path);
		test_assert(0);
		return;
	}
	struct mime_limits limits;
	struct mime_message *msg = NULL;
	struct dsn_report *r = NULL;
	const char *error;
	mime_limits_default(&limits);
	mime_parse(raw, len, &limits, &msg, &error);
	enum dsn_kind kind = msg != NULL ? dsn_analyze(msg, &r) : DSN_NONE;
	t->files++;
	if (expected == NULL) {
		/* not/: must not be detected */
		test_begin(name);
		test_assert_int(kind, DSN_NONE);
	} else {
		test_begin(name);
		test_assert(kind != DSN_NONE);
		if (kind != DSN_NONE)
			t->detected++;
		else
			printf("NOT DETECTED: %s\n", name);
		if (r != NULL && r->original_message_id != NULL)
			t->msgid_found++;
		size_t n = json_array_size(expected);
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(expected, i);
			const char *want_st = json_string_value(json_object_get(e, "status"));
			const char *want_rc = json_string_value(json_object_get(e, "replycode"));
			const char *got_st = r != NULL && i < r->n_recipients ? r->recipients[i].status : "-";
			const char *got_rc =
				r != NULL && i < r->n_recipients ? r->recipients[i].reply_code : "-";
			t->records++;
			int ok_st = want_st != NULL && strcmp(want_st, got_st) == 0;
			int ok_rc = want_rc != NULL && strcmp(want_rc, got_rc) == 0;
			t->status_ok += ok_st;
			t->reply_ok += ok_rc;
			if (verbose && (!ok_st || !ok_rc))
				printf("MISMATCH %s[%zu] status %s/%s reply %s/%s (%s) %s\n", name, i,
				       got_st, want_st, got_rc, want_rc,
				       json_string_value(json_object_get(e, "reason")),
				       r != NULL && i < r->n_recipients && r->recipients[i].diagnostic
					       ? r->recipients[i].diagnostic
					       : "");
		}
	}
	dsn_report_free(&r);
	mime_message_free(&msg);
	free(raw);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
list_dir(const char *dir, size_t *n_r)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), name_cmp);
	*n_r = n;
	return names;
}

static int
test_corpus(void)
{
	char *corpora = test_corpora_dir();
	char path[4096];
	if (corpora == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/bounces/sisimai/expected.json", corpora);
	json_error_t jerr;
	json_t *expected = json_load_file(path, 0, &jerr);
	if (expected == NULL) {
		printf("SKIP corpus: %s: %s\n", path, jerr.text);
		free(corpora);
		return 0;
	}
	int verbose = getenv("DSN_VERBOSE") != NULL;
	struct tally t = { 0 };
	size_t n;
	snprintf(path, sizeof(path), "%s/bounces/sisimai/maildir", corpora);
	char **names = list_dir(path, &n);
	for (size_t i = 0; i < n; i++) {
		char key[512];
		snprintf(key, sizeof(key), "maildir/%s", names[i]);
		json_t *e = json_object_get(expected, key);
		/* a file upstream has no expectations for still must be detected */
		json_t *empty = e == NULL ? json_array() : NULL;
		corpus_file(path, names[i], e != NULL ? e : empty, &t, verbose);
		json_decref(empty);
		free(names[i]);
	}
	free(names);
	int bounces = t.files;
	snprintf(path, sizeof(path), "%s/bounces/sisimai/not", corpora);
	names = list_dir(path, &n);
	int not_ok = 0;
	for (size_t i = 0; i < n; i++) {
		int before = test_failures;
		corpus_file(path, names[i], NULL, &t, verbose);
		not_ok += test_failures == before;
		free(names[i]);
	}
	free(names);
	json_decref(expected);
	free(corpora);

	double det = bounces > 0 ? (double)t.detected / bounces : 0;
	double st = t.records > 0 ? (double)t.status_ok / t.records : 0;
	double rc = t.records > 0 ? (double)t.reply_ok / t.records : 0;
	printf("sisimai corpus: %d messages, detected %d (%.1f%%); not-bounces correctly ignored "
	       "%d/%zu\n",
	       bounces, t.detected, 100 * det, not_ok, n);
	printf("  %d expected records: status code match %d (%.1f%%), reply code match %d "
	       "(%.1f%%); original Message-ID found in %d messages\n",
	       t.records, t.status_ok, 100 * st, t.reply_ok, 100 * rc, t.msgid_found);
	test_begin("corpus rates");
	test_assert(bounces > 0);
	test_assert(t.detected == bounces);
	test_assert(st >= RATCHET_STATUS);
	test_assert(rc >= RATCHET_REPLY);
	return 1;
}

/* Ordinary mail from the other corpora (client mail, replies, MIME
   torture tests) must never be taken for a report. */
static int fp_checked, fp_detected;

static int
fp_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	if (type != FTW_F || dot == NULL ||
	    (strcmp(dot, ".eml") != 0 && strcmp(dot, ".msg") != 0 && strcmp(dot, ".txt") != 0) ||
	    strstr(base, "README") != NULL || strncmp(base, "SOURCE", 6) == 0 ||
	    strncmp(base, "MISSING", 7) == 0 || strncmp(base, "LICENSE", 7) == 0)
		return 0;
	size_t len;
	unsigned char *raw = test_read_file(path, &len);
	if (raw == NULL || len > (8u << 20)) {
		free(raw);
		return 0;
	}
	struct mime_limits limits;
	struct mime_message *msg = NULL;
	struct dsn_report *r = NULL;
	const char *error;
	mime_limits_default(&limits);
	mime_parse(raw, len, &limits, &msg, &error);
	if (msg != NULL) {
		fp_checked++;
		if (dsn_analyze(msg, &r) != DSN_NONE) {
			fp_detected++;
			printf("FALSE POSITIVE: %s (%s)\n", path, r != NULL ? r->format : "?");
		}
	}
	dsn_report_free(&r);
	mime_message_free(&msg);
	free(raw);
	return 0;
}

static void
test_false_positives(void)
{
	static const char *const dirs[] = { "mime/zbateson-mail-mime-parser",
					    "mime/php-mime-mail-parser", "mime/mime-tools",
					    "replies" };
	char *corpora = test_corpora_dir();
	char path[4096];
	if (corpora == NULL)
		return;
	for (size_t i = 0; i < N_ELEMENTS(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", corpora, dirs[i]);
		nftw(path, fp_visit, 16, FTW_PHYS);
	}
	free(corpora);
	printf("ordinary mail: %d messages, %d taken for reports\n", fp_checked, fp_detected);
	test_begin("false positives");
	test_assert(fp_checked > 0);
	test_assert_int(fp_detected, 0);
}

int
main(void)
{
	test_synthetic();
	test_notices();
	if (!test_corpus())
		printf("corpus not found: synthetic cases only\n");
	else
		test_false_positives();
	return test_exit();
}
