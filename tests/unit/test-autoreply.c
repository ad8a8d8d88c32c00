/*
 * Unit tests for parsers/autoreply.c. Table tests of each reason (and of
 * ordinary customer mail that must still be answered), then the sisimai
 * bounce corpus through mime_parse(): not one of its bounces, auto-replies
 * and abuse reports may be judged fit for an acknowledgement, and its two
 * ordinary messages (not/) must be.
 */
#include "build-config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/autoreply.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/test.h"

static const char *const own[] = { "support@example.test", "help@example.test" };

static const struct autoreply_policy policy = {
	.loop_header = "X-Deskgate-Loop",
	.loop_value = "gw.example.test",
	.msgid_prefix = "dg.",
	.msgid_domain = "gw.example.test",
	.own_addresses = own,
	.n_own_addresses = 2,
	.envelope_sender = NULL,
};

/* Parse raw (LF line ends are fine) with the default limits. */
static struct mime_message *
parse(const char *raw, size_t len)
{
	struct mime_limits limits;
	struct mime_message *msg = NULL;
	const char *error;
	mime_limits_default(&limits);
	if (mime_parse((const unsigned char *)raw, len, &limits, &msg, &error) < 0 && msg == NULL)
		return NULL;
	return msg;
}

#define CUSTOMER_HEAD                                                                       \
	"From: Li Wei <li.wei@example.com>\n"                                               \
	"To: support@example.test\n"                                                        \
	"Date: Tue, 14 May 2024 10:00:00 +0800\n"                                           \
	"Message-ID: <abc123@mail.example.com>\n"

static void
test_table(void)
{
	static const struct {
		const char *name;
		const char *raw;
		const char *envelope; /* NULL: unknown */
		const char *why;      /* NULL: may answer; else a substring of the reason */
	} cases[] = {
		/* Customers: answer. */
		{ "plain customer mail",
		  CUSTOMER_HEAD "Subject: Withdrawal not received\n\nHello, my withdrawal is missing.\n",
		  NULL, NULL },
		{ "customer with Auto-Submitted: no",
		  CUSTOMER_HEAD "Subject: help\nAuto-Submitted: no\n\nhi\n", NULL, NULL },
		{ "customer replying to our ack (our id in In-Reply-To)",
		  CUSTOMER_HEAD "Subject: Re: [#12] We received your message\n"
				"In-Reply-To: <dg.T12.ABCDEFGHIJKLMNOPQRSTUVWXYZ@gw.example.test>\n"
				"References: <dg.T12.ABCDEFGHIJKLMNOPQRSTUVWXYZ@gw.example.test>\n\nthanks\n",
		  NULL, NULL },
		{ "customer with X-Auto-Response-Suppress: DR, RN",
		  CUSTOMER_HEAD "Subject: help\nX-Auto-Response-Suppress: DR, RN, NRN\n\nhi\n", NULL, NULL },
		{ "customer forwarding a bounce they got",
		  CUSTOMER_HEAD "Subject: Fwd: the mail I sent you\n"
				"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
				"--b1\nContent-Type: text/plain\n\nI got this when I wrote to you:\n"
				"--b1\nContent-Type: message/rfc822\n\n"
				"From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n"
				"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b2\"\n\n"
				"--b2\nContent-Type: text/plain\n\nfailed\n"
				"--b2\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n"
				"--b2--\n--b1--\n",
		  NULL, NULL },
		{ "customer whose name contains Reply", "From: Noreen Replyman <noreen@example.com>\n"
			"Subject: order 123\nMessage-ID: <x@example.com>\n\nhi\n", NULL, NULL },
		{ "envelope sender known and normal",
		  CUSTOMER_HEAD "Subject: hello\n\nhi\n", "li.wei@example.com", NULL },
		{ "a different host's loop header",
		  CUSTOMER_HEAD "Subject: hello\nX-Deskgate-Loop: other.example.org\n\nhi\n", NULL, NULL },

		/* Our own mail. */
		{ "our loop header",
		  CUSTOMER_HEAD "Subject: hello\nX-Deskgate-Loop: gw.example.test\n\nhi\n", NULL,
		  "X-Deskgate-Loop" },
		{ "our loop header, case and spacing",
		  CUSTOMER_HEAD "Subject: hello\nx-deskgate-loop:   GW.Example.Test \n\nhi\n", NULL,
		  "X-Deskgate-Loop" },
		{ "our Message-ID",
		  "From: someone@example.com\nSubject: Re: hello\n"
		  "Message-ID: <dg.T7.ABCDEFGHIJKLMNOPQRSTUVWXYZ@gw.example.test>\n\nhi\n", NULL,
		  "Message-ID is one of ours" },
		{ "From our own address",
		  "From: Support <Support@Example.test>\nSubject: hello\nMessage-ID: <x@y>\n\nhi\n", NULL,
		  "From is our own address" },
		{ "envelope from our own address",
		  CUSTOMER_HEAD "Subject: hello\n\nhi\n", "help@example.test", "envelope sender is our own" },

		/* RFC 3834 and friends. */
		{ "Auto-Submitted: auto-replied",
		  CUSTOMER_HEAD "Subject: Re: hello\nAuto-Submitted: auto-replied\n\naway\n", NULL,
		  "Auto-Submitted: auto-replied" },
		{ "Auto-Submitted: auto-generated with a comment",
		  CUSTOMER_HEAD "Subject: news\nAuto-Submitted: auto-generated (rejected)\n\nx\n", NULL,
		  "Auto-Submitted: auto-generated" },
		{ "Auto-Submitted: empty value",
		  CUSTOMER_HEAD "Subject: news\nAuto-Submitted: \n\nx\n", NULL, "Auto-Submitted" },
		{ "Precedence: bulk", CUSTOMER_HEAD "Subject: news\nPrecedence: bulk\n\nx\n", NULL,
		  "Precedence: bulk" },
		{ "Precedence: junk", CUSTOMER_HEAD "Subject: x\nPrecedence: JUNK\n\nx\n", NULL,
		  "Precedence: junk" },
		{ "Precedence: list", CUSTOMER_HEAD "Subject: x\nPrecedence: list\n\nx\n", NULL,
		  "Precedence: list" },
		{ "Precedence: first-class is fine", CUSTOMER_HEAD "Subject: x\nPrecedence: first-class\n\nx\n",
		  NULL, NULL },
		{ "List-Id", CUSTOMER_HEAD "Subject: [list] x\nList-Id: <users.lists.example.org>\n\nx\n",
		  NULL, "List-Id" },
		{ "List-Unsubscribe",
		  CUSTOMER_HEAD "Subject: Our newsletter\nList-Unsubscribe: <mailto:u@example.com>\n\nx\n",
		  NULL, "List-Unsubscribe" },
		{ "X-Auto-Response-Suppress: All",
		  CUSTOMER_HEAD "Subject: x\nX-Auto-Response-Suppress: All\n\nx\n", NULL,
		  "X-Auto-Response-Suppress" },
		{ "X-Auto-Response-Suppress: OOF, AutoReply",
		  CUSTOMER_HEAD "Subject: x\nX-Auto-Response-Suppress: DR, OOF, AutoReply\n\nx\n", NULL,
		  "X-Auto-Response-Suppress" },
		{ "X-Autoreply", CUSTOMER_HEAD "Subject: x\nX-Autoreply: yes\n\nx\n", NULL, "X-Autoreply" },
		{ "X-Autorespond", CUSTOMER_HEAD "Subject: x\nX-Autorespond: vacation\n\nx\n", NULL,
		  "X-Autorespond" },
		{ "X-Autogenerated", CUSTOMER_HEAD "Subject: x\nX-AutoGenerated: Reply\n\nx\n", NULL,
		  "X-Autogenerated" },
		{ "X-Mail-Autoreply", CUSTOMER_HEAD "Subject: x\nX-Mail-Autoreply: yes\n\nx\n", NULL,
		  "X-Mail-Autoreply" },
		{ "X-Loop", CUSTOMER_HEAD "Subject: x\nX-Loop: robot@example.com\n\nx\n", NULL, "X-Loop" },

		/* Null senders and robots. */
		{ "Return-Path <>", "Return-Path: <>\n" CUSTOMER_HEAD "Subject: x\n\nx\n", NULL,
		  "empty return path" },
		{ "envelope <>", CUSTOMER_HEAD "Subject: x\n\nx\n", "", "empty envelope sender" },
		{ "Return-Path MAILER-DAEMON",
		  "Return-Path: <MAILER-DAEMON@mx.example.com>\n" CUSTOMER_HEAD "Subject: x\n\nx\n", NULL,
		  "Return-Path is a robot" },
		{ "From mailer-daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n"
					"Subject: hello\n\nx\n", NULL, "From is a robot" },
		{ "From postmaster", "From: postmaster@example.com\nSubject: hello\n\nx\n", NULL,
		  "From is a robot" },
		{ "From post_master", "From: post_master@vtext.example\nSubject: Re: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From no-reply", "From: Exchange <no-reply@exchange.example>\nSubject: Your code\n\nx\n",
		  NULL, "From is a robot" },
		{ "From noreply+tag", "From: noreply+abc@example.com\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From do_not_reply", "From: do_not_reply@bank.example\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From DoNotReply", "From: DoNotReply@bank.example\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From bounces+", "From: bounces+123-abc@em.example.com\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From list -request", "From: users-request@lists.example.org\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "From owner-", "From: owner-users@lists.example.org\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },
		{ "Sender robot", "From: Li <li@example.com>\nSender: bounce-list@example.org\nSubject: x\n\nx\n",
		  NULL, "Sender is a robot" },
		{ "display name Mail Delivery Subsystem",
		  "From: Mail Delivery Subsystem <daemon@mx.example.com>\nSubject: hi\n\nx\n", NULL,
		  "From is a robot" },

		/* Reports. */
		{ "DSN (multipart/report)",
		  "From: mx@example.com\nSubject: hello\nMIME-Version: 1.0\n"
		  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
		  "--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n"
		  "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n--b--\n",
		  NULL, "multipart/report" },
		{ "MDN inside multipart/mixed",
		  "From: Li <li@example.com>\nSubject: hello\nMIME-Version: 1.0\n"
		  "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
		  "--b\nContent-Type: text/plain\n\nread\n--b\nContent-Type: message/disposition-notification\n\n"
		  "Final-Recipient: rfc822; li@example.com\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n",
		  NULL, "message/disposition-notification" },

		/* Subjects alone (issue 10.2): a person's subject is never enough
		   to silence mail. These were suppressed by the subject until the
		   audit found customers' mail lost that way; the body "x" is
		   no automatic notice, so they are answered. */
		{ "Undelivered Mail Returned to Sender",
		  "From: robot@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n\nx\n", NULL,
		  NULL },
		{ "Automatic reply:", CUSTOMER_HEAD "Subject: Automatic reply: your ticket\n\nx\n", NULL,
		  NULL },
		{ "Out of Office", CUSTOMER_HEAD "Subject: Out of Office: Re: [#5]\n\nx\n", NULL, NULL },
		{ "Abwesenheitsnotiz", CUSTOMER_HEAD "Subject: Abwesenheitsnotiz: Ihre Anfrage\n\nx\n", NULL,
		  NULL },
		{ "Réponse automatique",
		  CUSTOMER_HEAD "Subject: =?UTF-8?Q?R=C3=A9ponse_automatique_=3A_votre_demande?=\n\nx\n", NULL,
		  NULL },
		{ "自动回复", CUSTOMER_HEAD "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDmgqjnmoTlt6XljZU=?=\n\nx\n",
		  NULL, NULL },
		{ "Read: receipt", CUSTOMER_HEAD "Subject: Read: your ticket\n\nx\n", NULL, NULL },
		{ "'Read:' in the middle is fine", CUSTOMER_HEAD "Subject: Please read: my order\n\nx\n", NULL,
		  NULL },
		/* ... but with a body shaped like one, uncertain: no ack */
		{ "Automatic reply: with an absence notice",
		  CUSTOMER_HEAD "Subject: Automatic reply: your ticket\n\n"
				"I am out of the office until 3 June with limited access to email.\n", NULL,
		  "uncertain" },
		{ "Undelivered with a report",
		  "From: robot@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n\n"
		  "This message could not be delivered.\n<x@example.net>: host mx said: 550 5.1.1 User unknown\n",
		  NULL, "uncertain" },
		{ "Read: with its notice", CUSTOMER_HEAD "Subject: Read: your ticket\n\n"
		  "Your message\n  To: support\n  Subject: your ticket\nwas read on Tuesday.\n", NULL,
		  "uncertain" },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct mime_message *msg = parse(cases[i].raw, strlen(cases[i].raw));
		test_assert(msg != NULL);
		if (msg == NULL)
			continue;
		struct autoreply_policy pol = policy;
		pol.envelope_sender = cases[i].envelope;
		const char *why = "unset";
		int ret = autoreply_suppress(msg, &pol, &why);
		if (cases[i].why == NULL) {
			test_assert_int(ret, 0);
			test_assert(why == NULL);
			if (ret != 0)
				printf("  suppressed: %s\n", why);
		} else {
			test_assert_int(ret, 1);
			test_assert(why != NULL && strstr(why, cases[i].why) != NULL);
			if (why == NULL || strstr(why, cases[i].why) == NULL)
				printf("  reason \"%s\", want \"%s\"\n", why ? why : "(null)", cases[i].why);
		}
		mime_message_free(&msg);
	}

	test_begin("NULL message and policy");
	const char *why;
	test_assert_int(autoreply_suppress(NULL, &policy, &why), 1);
	struct mime_message *msg = parse(CUSTOMER_HEAD "Subject: x\n\nx\n",
					 strlen(CUSTOMER_HEAD "Subject: x\n\nx\n"));
	test_assert(msg != NULL);
	if (msg != NULL)
		test_assert_int(autoreply_suppress(msg, NULL, &why), 0);
	mime_message_free(&msg);
}

/* The graded verdict (issue 10.2): headers and structure decide; text
   alone is at most uncertain, and a person's forward is a person's. */
static void
test_judge(void)
{
	static const struct {
		const char *name;
		const char *raw;
		enum autoreply_kind kind;
	} cases[] = {
		{ "a customer on vacation",
		  CUSTOMER_HEAD "Subject: On vacation - card blocked\n\nMy card was blocked in Spain.\n",
		  AUTOREPLY_NONE },
		{ "delivery failed, in a customer's words",
		  CUSTOMER_HEAD "Subject: Withdrawal delivery failed\n\n"
				"My withdrawal delivery failed twice, error 500 in the app.\n",
		  AUTOREPLY_NONE },
		{ "an absence notice without headers", CUSTOMER_HEAD "Subject: Out of Office: Re: [#5]\n\n"
		  "I am out of the office until 10 June with limited access to email.\n"
		  "For urgent matters please contact my colleague.\n", AUTOREPLY_UNCERTAIN },
		{ "Lotus Notes Auto:", CUSTOMER_HEAD "Subject: Auto: Re: [#6] Your request\n\n"
		  "I will be out of the office starting 01.06.2024 and will not return until 10.06.2024.\n",
		  AUTOREPLY_UNCERTAIN },
		{ "German absence notice", CUSTOMER_HEAD "Subject: Abwesenheitsnotiz: Ihre Anfrage\n\n"
		  "Ich bin bis 10. Juni nicht im B\xc3\xbcro.\n", AUTOREPLY_UNCERTAIN },
		{ "Chinese absence notice",
		  CUSTOMER_HEAD "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDmgqjnmoTlt6XljZU=?=\n\n"
				"\xe6\x88\x91\xe6\xad\xa3\xe5\x9c\xa8\xe4\xbc\x91\xe5\x81\x87\xef\xbc\x8c"
				"6\xe6\x9c\x88" "10\xe6\x97\xa5\xe5\x9b\x9e\xe6\x9d\xa5\xe3\x80\x82\n",
		  AUTOREPLY_UNCERTAIN },
		{ "an absence notice that quotes a long mail is still short",
		  CUSTOMER_HEAD "Subject: Automatic reply: [#7]\n\nI am on vacation until Monday.\n\n"
				"> quoted line\n> quoted line\n", AUTOREPLY_UNCERTAIN },
		{ "Auto-Submitted: auto-replied", CUSTOMER_HEAD "Subject: Re: x\nAuto-Submitted: auto-replied\n\nx\n",
		  AUTOREPLY_AUTO_REPLY },
		{ "Precedence: auto_reply", CUSTOMER_HEAD "Subject: Re: x\nPrecedence: auto_reply\n\nx\n",
		  AUTOREPLY_AUTO_REPLY },
		{ "Apple vacation", CUSTOMER_HEAD "Subject: Re: x\nX-Apple-Action: VACATION\n\nx\n",
		  AUTOREPLY_AUTO_REPLY },
		{ "Exchange OOF", CUSTOMER_HEAD "Subject: Automatic reply: x\nX-Auto-Response-Suppress: All\n\nx\n",
		  AUTOREPLY_AUTO_REPLY },
		{ "X-Autoreply: no", CUSTOMER_HEAD "Subject: x\nX-Autoreply: no\n\nx\n", AUTOREPLY_NONE },
		{ "auto-generated", CUSTOMER_HEAD "Subject: x\nAuto-Submitted: auto-generated\n\nx\n",
		  AUTOREPLY_AUTOMATIC },
		{ "list mail", CUSTOMER_HEAD "Subject: x\nList-Id: <l.example.org>\n\nx\n", AUTOREPLY_AUTOMATIC },
		{ "a list manager", "From: mylist-bounces@lists.example.org\nSubject: Your message awaits moderator "
				    "approval\n\nheld\n", AUTOREPLY_AUTOMATIC },
		{ "our loop header", CUSTOMER_HEAD "Subject: x\nX-Deskgate-Loop: gw.example.test\n"
				     "Auto-Submitted: auto-replied\n\nx\n", AUTOREPLY_LOOP },
		{ "our own From", "From: support@example.test\nSubject: x\n\nx\n", AUTOREPLY_LOOP },
		{ "a forwarded bounce, quoted",
		  CUSTOMER_HEAD "Subject: Fwd: Undelivered Mail Returned to Sender\n\nWhat is this?\n\n"
				"---------- Forwarded message ---------\nFrom: MAILER-DAEMON@mx.example.net\n"
				"This message could not be delivered.\n<x@example.net>: 550 5.1.1 User unknown\n",
		  AUTOREPLY_NONE },
		{ "a forwarded bounce with its report part",
		  CUSTOMER_HEAD "Subject: Fwd: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
				"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
				"see below\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
				"Final-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n--b--\n",
		  AUTOREPLY_NONE },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct mime_message *msg = parse(cases[i].raw, strlen(cases[i].raw));
		test_assert(msg != NULL);
		if (msg == NULL)
			continue;
		const char *why = NULL;
		enum autoreply_kind kind = autoreply_judge(msg, &policy, &why);
		if (kind != cases[i].kind)
			printf("  got %s (%s)\n", autoreply_kind_name(kind), why != NULL ? why : "-");
		test_assert_int(kind, cases[i].kind);
		test_assert((kind == AUTOREPLY_NONE) == (why == NULL));
		if (kind == AUTOREPLY_UNCERTAIN)
			test_assert(why != NULL && strncmp(why, "uncertain:", 10) == 0);
		test_assert_int(autoreply_suppress(msg, &policy, &why), kind != AUTOREPLY_NONE);
		mime_message_free(&msg);
	}
	test_begin("kind names");
	test_assert_str(autoreply_kind_name(AUTOREPLY_UNCERTAIN), "uncertain");
	test_assert_str(autoreply_kind_name(AUTOREPLY_LOOP), "loop");
	const char *why;
	test_assert_int(autoreply_judge(NULL, NULL, &why), AUTOREPLY_AUTOMATIC);
}

/* tests/data/notices: list managers' and carriers' notices are never
   answered; people's mail about bounces is. */
static void
test_notices(void)
{
	static const struct {
		const char *file;
		enum autoreply_kind kind;
	} cases[] = {
		{ "list-mailman2-held.eml", AUTOREPLY_AUTOMATIC },
		{ "list-mailman3-held-bare.eml", AUTOREPLY_AUTOMATIC },
		{ "list-sympa-moderation.eml", AUTOREPLY_AUTOMATIC },
		{ "list-googlegroups-pending.eml", AUTOREPLY_AUTOMATIC },
		{ "list-mailman-loop.eml", AUTOREPLY_AUTOMATIC },
		{ "list-listserv-refused.eml", AUTOREPLY_AUTOMATIC },
		{ "carrier-sprint-sms.eml", AUTOREPLY_AUTOMATIC },
		{ "carrier-tmobile-mms.eml", AUTOREPLY_AUTOMATIC },
		{ "carrier-docomo-jp.eml", AUTOREPLY_AUTOMATIC },
		{ "person-forward-gmail.eml", AUTOREPLY_NONE },
		{ "person-forward-outlook-inline.eml", AUTOREPLY_NONE },
		{ "person-carrier-text.eml", AUTOREPLY_NONE },
		{ "person-list-post.eml", AUTOREPLY_AUTOMATIC },
	};
	const char *top = getenv("top_srcdir");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *path = xasprintf("%s/tests/data/notices/%s", top != NULL ? top : ".", cases[i].file);
		size_t len;
		unsigned char *raw = test_read_file(path, &len);
		free(path);
		test_begin(cases[i].file);
		test_assert(raw != NULL);
		if (raw == NULL)
			continue;
		struct mime_message *msg = parse((const char *)raw, len);
		const char *why = NULL;
		enum autoreply_kind kind = msg != NULL ? autoreply_judge(msg, &policy, &why) : AUTOREPLY_NONE;
		if (kind != cases[i].kind)
			printf("  got %s (%s)\n", autoreply_kind_name(kind), why != NULL ? why : "-");
		test_assert_int(kind, cases[i].kind);
		mime_message_free(&msg);
		free(raw);
	}
}

static void
test_robot_address(void)
{
	static const struct {
		const char *addr;
		int robot;
	} cases[] = {
		{ "MAILER-DAEMON@example.com", 1 }, { "mailer_daemon@example.com", 1 },
		{ "postmaster", 1 },		    { "noreply@x", 1 },
		{ "no-reply@x", 1 },		    { "no.reply@x", 1 },
		{ "noreply-orders@x", 1 },	    { "do-not-reply@x", 1 },
		{ "bounce@x", 1 },		    { "bounce-123@x", 1 },
		{ "users-request@x", 1 },	    { "owner-users@x", 1 },
		{ "li.wei@example.com", 0 },	    { "noreen@example.com", 0 },
		{ "postmasters-friend@x", 0 },	    { "request@x", 0 },
		{ "", 0 },			    { "@x", 0 },
	};
	test_begin("robot addresses");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		int got = autoreply_robot_address(cases[i].addr);
		if (got != cases[i].robot)
			printf("  %s: got %d\n", cases[i].addr, got);
		test_assert_int(got, cases[i].robot);
	}
	test_assert_int(autoreply_robot_address(NULL), 0);
}

/* Every *.eml in dir: returns how many were judged fit for an ack. */
static int
run_dir(const char *dir, int *total_r, int print_ok, int print_all)
{
	DIR *d = opendir(dir);
	int ok = 0, total = 0;
	if (d == NULL) {
		*total_r = -1;
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".eml") != 0)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		size_t len;
		unsigned char *raw = test_read_file(path, &len);
		free(path);
		if (raw == NULL)
			continue;
		total++;
		struct mime_message *msg = parse((const char *)raw, len);
		const char *why = NULL;
		int suppress = msg == NULL ? 1 : autoreply_suppress(msg, &policy, &why);
		if (msg == NULL)
			why = "unparseable (quarantined, never acknowledged)";
		if (!suppress) {
			ok++;
			if (print_ok)
				printf("  would acknowledge %s (subject \"%s\")\n", de->d_name,
				       msg->subject != NULL ? msg->subject : "");
		}
		if (print_all)
			printf("  %s: %s\n", de->d_name, suppress ? why : "may acknowledge");
		mime_message_free(&msg);
		free(raw);
	}
	closedir(d);
	*total_r = total;
	return ok;
}

static int
test_corpus(void)
{
	char *corpora = test_corpora_dir();
	if (corpora == NULL)
		return 0;
	char *dir = xasprintf("%s/bounces/sisimai/maildir", corpora);
	int total;
	test_begin("sisimai corpus");
	int ok = run_dir(dir, &total, 1, 0);
	printf("sisimai maildir: %d messages, %d suppressed, %d judged fit for an acknowledgement\n",
	       total, total - ok, ok);
	test_assert(total >= 295);
	test_assert_int(ok, 0);
	free(dir);

	dir = xasprintf("%s/bounces/sisimai/not", corpora);
	test_begin("sisimai not/ (ordinary mail)");
	ok = run_dir(dir, &total, 0, 1);
	printf("sisimai not/: %d messages, %d judged fit for an acknowledgement\n", total, ok);
	test_assert_int(total, 2);
	test_assert_int(ok, 2);
	free(dir);
	free(corpora);
	return 1;
}

int
main(void)
{
	test_table();
	test_judge();
	test_notices();
	test_robot_address();
	if (!test_corpus())
		printf("corpus not found: table tests only\n");
	return test_exit();
}
