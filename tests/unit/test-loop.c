/*
 * test-loop: mail loops (issue 10.6) against real SQLite stores.
 * - loop_check() on each signal alone: our Message-ID, our loop header,
 *   our VERP return path (and a forged tag), our addresses, and automatic
 *   mail answering one of our Message-IDs; ordinary replies are not loops.
 * - A notification redirected back by an agent's mailbox (the exact bytes
 *   the outbox holds, with the trace headers a redirect adds): a "loop"
 *   event, no follow-up, nothing sent. The same with only the loop header
 *   (a forwarder that rewrote the Message-ID and From) and only the VERP
 *   return path.
 * - Two desks that list each other's support address as an agent: the
 *   mail each queues is carried to the other for ten rounds; each sends at
 *   most three messages to the other.
 * - The desk-wide caps: mail beyond [limits] max_mail_per_recipient_minute
 *   to one address, or max_mail_per_minute in all, is not queued and an
 *   event says so.
 * - Our own addresses (issue 10.8): a support+... address a customer
 *   copied in is never a participant nor a recipient of the relay, and the
 *   relay coming back is not stored as a follow-up.
 * - Backscatter (issue 10.7): a forged 20 KB display name never reaches the
 *   acknowledgement; acknowledgements are rate-limited per address with
 *   its plus-tags folded and case ignored, and for the desk as a whole.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/loop.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

struct desk {
	char dir[64];
	struct config *config;
	struct store *store;
	struct ingest *ingest;
	struct thread_config *tc;
	struct outbox *outbox;
	int64_t outbox_seen; /* highest outbox row carried away */
};

static int counter;

static int
desk_init(struct desk *d, const char *name, const char *sections)
{
	const char *error;
	snprintf(d->dir, sizeof(d->dir), "/tmp/dg-test-loop-%s.XXXXXX", name);
	if (mkdtemp(d->dir) == NULL || desk_open(d->dir, sections, &d->config, &d->store) < 0)
		return -1;
	if (ingest_init(d->config, d->store, &d->ingest, &error) < 0 ||
	    thread_config_new(d->config, &d->tc, &error) < 0 ||
	    outbox_new(d->store, d->config, &d->outbox, &error) < 0) {
		printf("%s: %s\n", name, error);
		return -1;
	}
	ingest_set_now(d->ingest, NOW);
	return 0;
}

static void
desk_done(struct desk *d)
{
	outbox_free(&d->outbox);
	thread_config_free(&d->tc);
	ingest_free(&d->ingest);
	store_close(&d->store);
	config_free(&d->config);
	desk_rm_tree(d->dir);
}

static int
deliver(struct desk *d, const char *raw, size_t len, struct ingest_result *res)
{
	const char *error = NULL;
	struct ingest_source src = { .label = "test" };
	if (ingest_message(d->ingest, (const unsigned char *)raw, len, &src, res, &error) < 0) {
		printf("ingest: %s\n", error);
		return -1;
	}
	return 0;
}

static char *
customer_mail(const char *from, const char *to, const char *extra, const char *subject,
	      const char *text)
{
	counter++;
	return xasprintf("From: %s\nTo: %s\n%sSubject: %s\nDate: Tue, 11 Mar 2025 10:00:%02d +0800\n"
			 "Message-ID: <c%d.%d@customer.example>\nMIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=utf-8\n\n%s",
			 from, to, extra, subject, counter % 60, counter, (int)getpid(), text);
}

static size_t
count_outbox(struct desk *d)
{
	struct store_outbox *list = NULL;
	size_t n = 0;
	const char *error;
	if (store_outbox_list(d->store, NULL, 0, &list, &n, &error) < 0)
		return 0;
	store_outboxes_free(&list, n);
	return n;
}

static size_t
count_messages(struct desk *d, int64_t ticket)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	const char *error;
	if (store_message_list(d->store, ticket, &msgs, &n, &error) < 0)
		return 0;
	store_messages_free(&msgs, n);
	return n;
}

/* The newest outbox row to rcpt (NULL: any), or NULL. */
static struct store_outbox *
last_outbox_to(struct desk *d, const char *rcpt)
{
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	const char *error;
	if (store_outbox_list(d->store, NULL, 0, &list, &n, &error) < 0)
		return NULL;
	for (size_t i = 0; i < n && o == NULL; i++)
		if (rcpt == NULL || strstr(list[i].recipients, rcpt) != NULL)
			(void)store_outbox_get(d->store, list[i].id, &o, &error);
	store_outboxes_free(&list, n);
	return o;
}

static struct mime_message *
parse(const char *raw)
{
	struct mime_message *msg = NULL;
	const char *error;
	struct mime_limits limits;
	mime_limits_default(&limits);
	if (mime_parse((const unsigned char *)raw, strlen(raw), &limits, &msg, &error) < 0)
		printf("parse: %s\n", error);
	return msg;
}

/* ---- loop_check, one signal at a time ----------------------------------------------- */

static void
test_check(struct desk *d)
{
	struct loop *loop = loop_new(d->config, d->tc, d->outbox);
	struct loop_verdict v;
	char *ours = NULL;
	const char *error;
	test_assert_int(thread_message_id_new(d->tc, 7, &ours, &error), 0);
	char *verp = outbox_envelope_from(d->outbox, d->config->smtp.envelope_from, 5);
	char *bad_verp = xstrdup(verp);
	char *tag = strrchr(bad_verp, '-');
	if (tag != NULL && tag[1] != '\0')
		tag[1] = tag[1] == 'a' ? 'b' : 'a';

	static const struct {
		const char *name;
		const char *headers; /* %s: our Message-ID; %v: our VERP address; %b: a forged one */
		int automatic;
		enum loop_kind want;
	} cases[] = {
		{ "our Message-ID", "Message-ID: <%s>\n", 0, LOOP_OURS },
		{ "our loop header", "X-Deskgate-Loop: desk-a.example.test\n", 0, LOOP_OURS },
		{ "our loop header among others", "X-Deskgate-Loop: x.example, DESK-A.example.test\n", 0,
		  LOOP_OURS },
		{ "another desk's loop header is not ours", "X-Deskgate-Loop: desk-b.example.test\n", 0,
		  LOOP_NONE },
		{ "our VERP return path", "Return-Path: <%v>\n", 0, LOOP_OURS },
		{ "a VERP address with a forged tag", "Return-Path: <%b>\n", 0, LOOP_NONE },
		{ "the support address as return path", "Return-Path: <support@a.example>\n", 0,
		  LOOP_OURS },
		{ "From a support sub-address", "From: support+sales@a.example\n", 0, LOOP_OURS },
		{ "a customer's reply to our mail", "In-Reply-To: <%s>\n", 0, LOOP_NONE },
		{ "an automatic answer to our mail",
		  "Auto-Submitted: auto-generated\nIn-Reply-To: <%s>\n", 0, LOOP_ANSWER },
		{ "an automatic answer naming ours in References",
		  "Auto-Submitted: auto-replied\nReferences: <x@y.example> <%s>\n", 0, LOOP_ANSWER },
		{ "another desk's notification answering ours",
		  "X-Deskgate-Loop: desk-b.example.test\nIn-Reply-To: <%s>\n", 0, LOOP_ANSWER },
		{ "a list answering ours", "Precedence: list\nIn-Reply-To: <%s>\n", 0, LOOP_ANSWER },
		{ "Auto-Submitted: no answering ours", "Auto-Submitted: no\nIn-Reply-To: <%s>\n", 0,
		  LOOP_NONE },
		{ "an out-of-office the caller recognised", "In-Reply-To: <%s>\n", 1, LOOP_ANSWER },
		{ "automatic, but answering someone else",
		  "Auto-Submitted: auto-replied\nIn-Reply-To: <x@y.example>\n", 0, LOOP_NONE },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct buf h;
		buf_init(&h, 4096);
		for (const char *p = cases[i].headers; *p != '\0'; p++) {
			if (p[0] == '%' && p[1] == 's') {
				buf_puts(&h, ours);
				p++;
			} else if (p[0] == '%' && p[1] == 'v') {
				buf_puts(&h, verp);
				p++;
			} else if (p[0] == '%' && p[1] == 'b') {
				buf_puts(&h, bad_verp);
				p++;
			} else {
				buf_putc(&h, (unsigned char)*p);
			}
		}
		const char *hs = buf_cstr(&h);
		char *raw = xasprintf("%s%s%sTo: support@a.example\nSubject: x\n\nhello\n", hs,
				      strstr(hs, "From:") != NULL ? "" : "From: someone@customer.example\n",
				      strstr(hs, "Message-ID:") != NULL ? "" : "Message-ID: <m1@customer.example>\n");
		struct mime_message *msg = parse(raw);
		if (msg != NULL) {
			loop_check(loop, msg, NULL, cases[i].automatic, &v);
			test_assert_int(v.kind, cases[i].want);
			if (v.kind != cases[i].want)
				printf("  %s -> %d (%s)\n", hs, v.kind, v.why);
			test_assert(v.kind == LOOP_NONE || v.why[0] != '\0');
			if (cases[i].want != LOOP_NONE && strstr(cases[i].headers, "%s") != NULL)
				test_assert_int(v.ticket_id, 7);
		}
		mime_message_free(&msg);
		free(raw);
		buf_free(&h);
	}
	test_begin("the envelope sender counts like Return-Path");
	char *raw = customer_mail("x@customer.example", "support@a.example", "", "x", "x\n");
	struct mime_message *msg = parse(raw);
	loop_check(loop, msg, verp, 0, &v);
	test_assert_int(v.kind, LOOP_OURS);
	loop_check(loop, msg, "x@customer.example", 0, &v);
	test_assert_int(v.kind, LOOP_NONE);
	mime_message_free(&msg);
	free(raw);
	free(ours);
	free(verp);
	free(bad_verp);
	loop_free(&loop);
	test_assert(loop == NULL);
}

/* ---- an agent's mailbox redirecting to support ------------------------------------ */

static void
test_redirect(struct desk *d)
{
	struct ingest_result res;
	test_begin("a notification redirected back: a loop event, nothing else");
	char *m = customer_mail("Wang <wang@customer.example>", "support@a.example", "",
				"Deposit missing", "My deposit has not arrived.\n");
	test_assert_int(deliver(d, m, strlen(m), &res), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	int64_t ticket = res.ticket_id;
	struct store_outbox *n = last_outbox_to(d, "alice@staff.example");
	test_assert(n != NULL && strcmp(n->kind, "notify") == 0);
	if (n == NULL)
		return;
	size_t out_before = count_outbox(d), msgs_before = count_messages(d, ticket);
	/* What a Sieve redirect delivers: the same bytes, with trace fields. */
	char *back = xasprintf("Return-Path: <alice@staff.example>\r\nDelivered-To: support@a.example\r\n"
			       "X-Sieve-Redirected-From: alice@staff.example\r\n%.*s",
			       (int)n->raw_size, (const char *)n->raw);
	test_assert_int(deliver(d, back, strlen(back), &res), 0);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert(strstr(res.reason, "loop") != NULL);
	test_assert_int(count_outbox(d), out_before);
	test_assert_int(count_messages(d, ticket), msgs_before);
	test_assert(desk_has_event(d->store, ticket, "loop", "our own Message-ID"));
	test_begin("the same, delivered again: still nothing");
	test_assert_int(deliver(d, back, strlen(back), &res), 0);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert_int(count_outbox(d), out_before);
	free(back);

	test_begin("only our loop header left (Message-ID and From rewritten by a forwarder)");
	const char *body = strstr((const char *)n->raw, "\r\n\r\n");
	char *fwd = xasprintf("From: Alice <alice@staff.example>\r\nTo: support@a.example\r\n"
			      "Subject: Fwd: New: Deposit missing\r\nMessage-ID: <fwd1@staff.example>\r\n"
			      "X-Deskgate-Loop: desk-a.example.test\r\n"
			      "Content-Type: text/plain; charset=utf-8\r\n%s",
			      body != NULL ? body : "\r\n\r\nx\r\n");
	test_assert_int(deliver(d, fwd, strlen(fwd), &res), 0);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert_int(count_outbox(d), out_before);
	free(fwd);

	test_begin("only our VERP return path left");
	char *verp = outbox_envelope_from(d->outbox, d->config->smtp.envelope_from, n->id);
	char *resent = xasprintf("Return-Path: <%s>\r\nFrom: Alice <alice@staff.example>\r\n"
				 "To: support@a.example\r\nSubject: Deposit missing\r\n"
				 "Message-ID: <fwd2@staff.example>\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n\r\nSee below.\r\n",
				 verp);
	test_assert_int(deliver(d, resent, strlen(resent), &res), 0);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert_int(count_outbox(d), out_before);
	test_assert_int(count_messages(d, ticket), msgs_before);
	free(resent);
	free(verp);
	store_outbox_free(&n);

	test_begin("an agent's out-of-office to a notification: kept as a note, nothing sent");
	n = last_outbox_to(d, "alice@staff.example");
	char *reply_to = thread_reply_address(d->tc, ticket, THREAD_ROLE_AGENT);
	char *hdrs = xasprintf("Auto-Submitted: auto-replied\nIn-Reply-To: <%s>\n",
			       n != NULL ? n->message_id : "x@y");
	m = customer_mail("alice@staff.example", reply_to, hdrs, "Out of office", "Back Monday.\n");
	test_assert_int(deliver(d, m, strlen(m), &res), 0);
	test_assert_int(res.outcome, INGEST_APPENDED);
	test_assert_int(count_outbox(d), out_before);
	test_assert(desk_has_event(d->store, ticket, "loop", "nothing sent"));
	free(m);
	free(hdrs);
	free(reply_to);
	store_outbox_free(&n);
}

/* ---- our own addresses --------------------------------------------------------------- */

static void
test_own_addresses(struct desk *d)
{
	struct ingest_result res;
	const char *error;
	test_begin("a support+... address in Cc is not a participant");
	char *m = customer_mail("Zhao <zhao@customer.example>", "support@a.example",
				"Cc: Sales <support+sales@a.example>, SUPPORT@A.EXAMPLE, "
				"Colleague <qian@customer.example>\n",
				"Order failed", "My order failed.\n");
	test_assert_int(deliver(d, m, strlen(m), &res), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	int64_t ticket = res.ticket_id;
	struct store_participant *parts = NULL;
	size_t n = 0;
	test_assert_int(store_participant_list(d->store, ticket, &parts, &n, &error), 0);
	test_assert_int(n, 2); /* the customer and the colleague */
	for (size_t i = 0; i < n; i++)
		test_assert(strstr(parts[i].address, "a.example") == NULL);
	store_participants_free(&parts, n);

	test_begin("the relay goes to the customer and the colleague, not to us");
	char *reply_to = thread_reply_address(d->tc, ticket, THREAD_ROLE_AGENT);
	m = customer_mail("Alice <alice@staff.example>", reply_to, "", "Re: Order failed",
			  "We are on it.\n");
	test_assert_int(deliver(d, m, strlen(m), &res), 0);
	free(m);
	free(reply_to);
	struct store_outbox *relay = last_outbox_to(d, "zhao@customer.example");
	test_assert(relay != NULL && strcmp(relay->kind, "relay") == 0);
	if (relay == NULL)
		return;
	test_assert_str(relay->recipients, "zhao@customer.example, qian@customer.example");
	test_assert(strstr((const char *)relay->raw, "support+sales") == NULL);

	test_begin("our relay delivered back to us: not a follow-up");
	size_t msgs = count_messages(d, ticket), out = count_outbox(d);
	char *back = xasprintf("Delivered-To: support+sales@a.example\r\n%.*s",
			       (int)relay->raw_size, (const char *)relay->raw);
	test_assert_int(deliver(d, back, strlen(back), &res), 0);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert_int(count_messages(d, ticket), msgs);
	test_assert_int(count_outbox(d), out);
	free(back);
	store_outbox_free(&relay);
}

/* ---- two desks that list each other as agents --------------------------------------- */

/* Carry every message d queued since the last call to other (when it is
   addressed to other's support address); returns how many. */
static size_t
carry(struct desk *from, struct desk *to, const char *to_address)
{
	struct store_outbox *list = NULL;
	size_t n = 0, carried = 0;
	const char *error;
	if (store_outbox_list(from->store, NULL, 0, &list, &n, &error) < 0)
		return 0;
	int64_t top = from->outbox_seen;
	for (size_t i = n; i-- > 0;) {
		if (list[i].id <= from->outbox_seen)
			continue;
		if (list[i].id > top)
			top = list[i].id;
		if (strstr(list[i].recipients, to_address) == NULL)
			continue;
		struct store_outbox *o = NULL;
		if (store_outbox_get(from->store, list[i].id, &o, &error) != 1)
			continue;
		/* What the receiving MTA prepends. */
		char *env = outbox_envelope_from(from->outbox, o->envelope_from, o->id);
		char *raw = xasprintf("Return-Path: <%s>\r\nDelivered-To: %s\r\n%.*s", env,
				      to_address, (int)o->raw_size, (const char *)o->raw);
		struct ingest_result res;
		if (deliver(to, raw, strlen(raw), &res) == 0)
			carried++;
		free(raw);
		free(env);
		store_outbox_free(&o);
	}
	from->outbox_seen = top;
	store_outboxes_free(&list, n);
	return carried;
}

static void
test_two_desks(void)
{
	struct desk a = { 0 }, b = { 0 };
	test_begin("two desks listing each other as agents: at most 3 mails each way");
	if (desk_init(&a, "a2",
		      "hostname = desk-a.example.test\nsupport_address = support@a.example\n"
		      "[agent deskb]\naddress = support@b.example\n") < 0 ||
	    desk_init(&b, "b2",
		      "hostname = desk-b.example.test\nsupport_address = support@b.example\n"
		      "[agent deska]\naddress = support@a.example\n") < 0) {
		test_assert(0);
		return;
	}
	char *m = customer_mail("wang@customer.example", "support@a.example", "", "Help",
				"Where is my withdrawal?\n");
	struct ingest_result res;
	test_assert_int(deliver(&a, m, strlen(m), &res), 0);
	free(m);
	size_t a_to_b = 0, b_to_a = 0;
	for (int round = 0; round < 10; round++) {
		a_to_b += carry(&a, &b, "support@b.example");
		b_to_a += carry(&b, &a, "support@a.example");
	}
	printf("  two desks: %zu mails a->b, %zu b->a\n", a_to_b, b_to_a);
	test_assert(a_to_b >= 1); /* the first notification does go out */
	test_assert(a_to_b <= 3);
	test_assert(b_to_a <= 3);
	/* The answer to A's own notification is recorded on A's ticket. */
	test_assert(desk_has_event(a.store, res.ticket_id, "loop",
				   "an automatic answer to our mail"));
	desk_done(&a);
	desk_done(&b);
}

/* ---- the caps -------------------------------------------------------------------------- */

static void
test_caps(void)
{
	struct desk c = { 0 };
	struct ingest_result res;
	test_begin("the per-recipient cap: the third notification to one agent is not sent");
	if (desk_init(&c, "caps",
		      "hostname = desk-c.example.test\nsupport_address = support@c.example\n"
		      "[limits]\nmax_mail_per_recipient_minute = 2\nmax_mail_per_minute = 8\n"
		      "[agent alice]\naddress = alice@staff.example\n") < 0) {
		test_assert(0);
		return;
	}
	for (int i = 0; i < 3; i++) {
		char *from = xasprintf("c%d@customer.example", i);
		char *m = customer_mail(from, "support@c.example", "", "Question", "Hello?\n");
		test_assert_int(deliver(&c, m, strlen(m), &res), 0);
		test_assert_int(res.outcome, INGEST_NEW_TICKET);
		free(m);
		free(from);
	}
	/* Three acknowledgements (three addresses), two notifications. */
	test_assert_int(count_outbox(&c), 5);
	test_assert(desk_has_event(c.store, res.ticket_id, "rate-limit",
				   "max_mail_per_recipient_minute"));

	test_begin("the desk-wide cap");
	for (int i = 3; i < 8; i++) {
		char *from = xasprintf("c%d@customer.example", i);
		char *m = customer_mail(from, "support@c.example", "", "Question", "Hello?\n");
		test_assert_int(deliver(&c, m, strlen(m), &res), 0);
		free(m);
		free(from);
	}
	test_assert_int(count_outbox(&c), 8);
	test_assert(desk_has_event(c.store, res.ticket_id, "rate-limit", "max_mail_per_minute"));
	/* The tickets themselves are all there. */
	int64_t tickets = 0;
	const char *error;
	test_assert_int(store_ticket_count(c.store, &tickets, &error), 0);
	test_assert_int(tickets, 8);

	test_begin("a minute later the caps let mail through again");
	ingest_set_now(c.ingest, NOW + 61);
	char *m = customer_mail("late@customer.example", "support@c.example", "", "Later", "Hi\n");
	test_assert_int(deliver(&c, m, strlen(m), &res), 0);
	free(m);
	test_assert_int(count_outbox(&c), 10);
	desk_done(&c);
}

/* The desk-wide cap is asked before the acknowledgement is rendered
   (bench-import rendered and composed every refused one): with every
   acknowledgement template broken, a mail over the cap is refused for the
   cap, not for the template. */
static void
test_cap_before_render(void)
{
	struct desk c = { 0 };
	struct ingest_result res;
	static const char *const cats[] = { "account_security", "complaint", "default",
					    "delayed_payment", "failed_trade", "other",
					    "registration" };
	char tdir[] = "/tmp/dg-test-loop-tmpl.XXXXXX";
	test_begin("over max_mail_per_minute: refused before rendering");
	if (mkdtemp(tdir) == NULL) {
		test_assert(0);
		return;
	}
	char *ack_dir = xasprintf("%s/ack", tdir);
	desk_mkdir_p(ack_dir);
	for (size_t i = 0; i < N_ELEMENTS(cats); i++) {
		char *path = xasprintf("%s/%s.en.txt", ack_dir, cats[i]);
		desk_write_file(path, "Subject: x\n\n{{#open}}\n");
		free(path);
	}
	free(ack_dir);
	char *conf = xasprintf("hostname = desk-r.example.test\nsupport_address = support@r.example\n"
			       "[limits]\nmax_mail_per_minute = 1\n"
			       "[ack]\ntemplates_dir = %s\n"
			       "[agent alice]\naddress = alice@staff.example\n",
			       tdir);
	int ret = desk_init(&c, "caprender", conf);
	free(conf);
	if (ret < 0) {
		test_assert(0);
		desk_rm_tree(tdir);
		return;
	}
	/* the first: its acknowledgement fails on the template, alice's
	   notification fills the minute */
	char *m = customer_mail("r1@customer.example", "support@r.example", "", "Question", "Hi?\n");
	test_assert_int(deliver(&c, m, strlen(m), &res), 0);
	free(m);
	test_assert(desk_has_event(c.store, res.ticket_id, "ack", "template error"));
	test_assert_int(count_outbox(&c), 1);
	m = customer_mail("r2@customer.example", "support@r.example", "", "Question", "Hi?\n");
	test_assert_int(deliver(&c, m, strlen(m), &res), 0);
	free(m);
	test_assert(desk_has_event(c.store, res.ticket_id, "rate-limit", "max_mail_per_minute"));
	test_assert(!desk_has_event(c.store, res.ticket_id, "ack", "template error"));
	desk_done(&c);
	desk_rm_tree(tdir);
}

static void
test_backscatter(void)
{
	struct desk d = { 0 };
	struct ingest_result res;
	test_begin("a forged 20 KB display name: not in the acknowledgement");
	if (desk_init(&d, "bs",
		      "hostname = desk-d.example.test\nsupport_address = support@d.example\n"
		      "[ack]\nmax_per_hour = 6\n") < 0) {
		test_assert(0);
		return;
	}
	struct buf name;
	buf_init(&name, 64 * 1024);
	buf_puts(&name, "\"");
	while (name.len < 20 * 1024)
		buf_puts(&name, "URGENT your account is LOCKED, call +1 555 0100 or visit "
				"https://evil.example/unlock now. ");
	buf_puts(&name, "\" <victim@customer.example>");
	char *m = customer_mail(buf_cstr(&name), "support@d.example", "", "Hello", "Hi.\n");
	buf_free(&name);
	test_assert_int(deliver(&d, m, strlen(m), &res), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	test_assert(res.ack_outbox_id != 0);
	struct store_outbox *o = last_outbox_to(&d, "victim@customer.example");
	test_assert(o != NULL && strcmp(o->kind, "ack") == 0);
	if (o != NULL) {
		test_assert(o->raw_size < 16 * 1024);
		test_assert(strstr((const char *)o->raw, "LOCKED") == NULL);
		test_assert(strstr((const char *)o->raw, "evil.example") == NULL);
		test_assert(strstr((const char *)o->raw, "Hello,") != NULL);
	}
	store_outbox_free(&o);

	test_begin("acknowledgements per address: plus-tags and case folded");
	/* [ack] max_per_sender_hour is 3: victim has one already. */
	static const char *const tagged[] = { "Victim+1@Customer.example", "victim+2@customer.example",
					      "VICTIM+promo@customer.example" };
	for (size_t i = 0; i < N_ELEMENTS(tagged); i++) {
		char *text = xasprintf("Question %zu\n", i);
		m = customer_mail(tagged[i], "support@d.example", "", "Hello", text);
		test_assert_int(deliver(&d, m, strlen(m), &res), 0);
		test_assert_int(res.outcome, INGEST_NEW_TICKET);
		test_assert((res.ack_outbox_id != 0) == (i < 2));
		if (i == 2)
			test_assert(strstr(res.reason, "rate limit") != NULL &&
				    strstr(res.reason, "this sender") != NULL);
		free(text);
		free(m);
	}

	test_begin("acknowledgements for the desk as a whole: [ack] max_per_hour");
	/* Three so far; the limit is 6. */
	for (int i = 0; i < 4; i++) {
		char *from = xasprintf("other%d@customer.example", i);
		m = customer_mail(from, "support@d.example", "", "Hello", "Hi\n");
		test_assert_int(deliver(&d, m, strlen(m), &res), 0);
		test_assert((res.ack_outbox_id != 0) == (i < 3));
		if (i == 3)
			test_assert(strstr(res.reason, "max_per_hour") != NULL);
		free(from);
		free(m);
	}
	desk_done(&d);
}

int
main(void)
{
	struct desk a = { 0 };
	desk_datadir();
	if (desk_init(&a, "a",
		      "hostname = desk-a.example.test\nsupport_address = support@a.example\n"
		      "[smtp]\nenvelope_from = bounces+{verp}@a.example\n"
		      "[agent alice]\naddress = alice@staff.example\n") < 0)
		return 1;
	test_check(&a);
	test_redirect(&a);
	test_own_addresses(&a);
	desk_done(&a);
	test_two_desks();
	test_caps();
	test_cap_before_render();
	test_backscatter();
	return test_exit();
}
