/*
 * test-deskmail: the envelope every message of the desk carries (From,
 * signed Reply-To, tagged subject, our Message-ID, threading headers,
 * Auto-Submitted, loop header), queueing into a real SQLite outbox, and
 * messages that cannot be sent (refused by compose, no recipient): an
 * event on the ticket, never an error of the caller.
 */
#include "build-config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-deskmail.XXXXXX";
static struct config *config;
static struct store *store;
static struct thread_config *tc;
static struct deskmail *dm;

static int
setup(void)
{
	const char *error;
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	int ret = desk_open(
		tmpdir,
		"hostname = desk.example.test\n"
		"support_address = support@example.test\nsupport_name = Example Support\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\n",
		&config, &store);
	if (ret < 0 || thread_config_new(config, &tc, &error) < 0 ||
	    deskmail_new(config, tc, store, &dm, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	return 0;
}

static int64_t
make_ticket(void)
{
	const char *error;
	int64_t id = 0;
	struct store_ticket t = {
		.subject = (char *)"Deposit missing",
		.status = (char *)"new",
		.category = (char *)"other",
		.priority = (char *)"normal",
		.customer_address = (char *)"wang@customer.example",
		.language = (char *)"en",
	};
	if (store_begin(store, &error) < 0 || store_ticket_insert(store, &t, &id, &error) < 0 ||
	    store_commit(store, &error) < 0)
		printf("ticket: %s\n", error);
	return id;
}

/* Queue m in its own transaction and parse what the outbox holds. */
static int
queue(struct deskmail_msg **m, struct deskmail_result *res, const char **why_r,
      struct mime_message **msg_r, struct store_outbox **o_r)
{
	const char *error = NULL;
	*msg_r = NULL;
	*o_r = NULL;
	if (store_begin(store, &error) < 0)
		return -1;
	int ret = deskmail_queue(dm, m, res, why_r, &error);
	if (ret < 0) {
		printf("queue: %s\n", error);
		store_rollback(store);
		return -1;
	}
	if (store_commit(store, &error) < 0)
		return -1;
	if (ret == 1) {
		struct mime_limits limits;
		mime_limits_default(&limits);
		if (store_outbox_get(store, res->outbox_id, o_r, &error) != 1 ||
		    mime_parse((*o_r)->raw, (*o_r)->raw_size, &limits, msg_r, &error) < 0)
			printf("outbox #%lld: %s\n", (long long)res->outbox_id, error);
	}
	return ret;
}


static void
out_clear(struct deskmail_result *res, struct mime_message **msg, struct store_outbox **o)
{
	deskmail_result_clear(res);
	mime_message_free(msg);
	store_outbox_free(o);
}

static void
test_envelope(int64_t id)
{
	struct deskmail_result res;
	struct mime_message *msg;
	struct store_outbox *o;
	const char *why;
	char want[128];

	test_begin("envelope: From, signed Reply-To, tag, Message-ID, automatic, loop");
	struct deskmail_msg *m = deskmail_start(dm, id, "notify", DESKMAIL_REPLY_AGENT,
						"auto-generated", NOW);
	deskmail_add_to(m, "Alice Agent", "alice@staff.example");
	deskmail_add_cc(m, NULL, "ALICE@staff.example"); /* the same recipient once */
	deskmail_add_cc(m, "Bob", "bob@staff.example");
	deskmail_subject(m, "New: ", "Re: AW: 回复：Deposit missing");
	compose_set_text(deskmail_compose(m), "hello\n", 6);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 1);
	test_assert(m == NULL);
	test_assert(msg != NULL && o != NULL);
	if (msg == NULL || o == NULL)
		return;
	test_assert_str(o->kind, "notify");
	test_assert_str(o->recipients, "alice@staff.example, bob@staff.example");
	test_assert_str(res.recipients, "alice@staff.example, bob@staff.example");
	test_assert_str(o->message_id, res.message_id);
	test_assert_int(o->ticket_id, id);
	test_assert_str(msg->from.address, "support@example.test");
	test_assert_str(msg->from.name, "Example Support");
	test_assert(msg->reply_to.count == 1);
	int64_t t = 0;
	enum thread_role role;
	const char *error;
	test_assert(msg->reply_to.count == 1 &&
		    thread_reply_address_parse(tc, msg->reply_to.items[0].address, &t, &role,
					       &error) == 1 &&
		    t == id && role == THREAD_ROLE_AGENT);
	snprintf(want, sizeof(want), "[Support #%lld] New: Deposit missing", (long long)id);
	test_assert_str(msg->subject, want);
	test_assert_str(res.subject, want);
	test_assert(thread_message_id_is_ours(tc, msg->message_id, &t) && t == id);
	test_assert_str(mime_header_get(msg, "Auto-Submitted"), "auto-generated");
	test_assert_str(mime_header_get(msg, "X-Auto-Response-Suppress"), "All");
	test_assert_str(mime_header_get(msg, "X-Deskgate-Loop"), "desk.example.test");
	test_assert(msg->has_date && msg->date == NOW);
	out_clear(&res, &msg, &o);

	test_begin("a person's mail in the customer's thread: Re: before the tag");
	m = deskmail_start(dm, id, "relay", DESKMAIL_REPLY_CUSTOMER, NULL, NOW);
	deskmail_add_to(m, NULL, "wang@customer.example");
	deskmail_subject_reply(m, "Re: Deposit missing");
	compose_set_text(deskmail_compose(m), "hello\n", 6);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 1);
	snprintf(want, sizeof(want), "Re: [Support #%lld] Deposit missing", (long long)id);
	test_assert_str(msg != NULL ? msg->subject : NULL, want);
	test_assert(msg != NULL && mime_header_get(msg, "Auto-Submitted") == NULL);
	test_assert(msg != NULL && mime_header_get(msg, "X-Deskgate-Loop") != NULL);
	test_assert(msg != NULL && msg->reply_to.count == 1 &&
		    thread_reply_address_parse(tc, msg->reply_to.items[0].address, &t, &role,
					       &error) == 1 &&
		    role == THREAD_ROLE_CUSTOMER);
	out_clear(&res, &msg, &o);

	test_begin("a rendered subject keeps its tag once; no Reply-To when asked");
	m = deskmail_start(dm, id, "ack", DESKMAIL_REPLY_NONE, "auto-replied", NOW);
	deskmail_add_to(m, NULL, "wang@customer.example");
	snprintf(want, sizeof(want), "We got it [Support #%lld]", (long long)id);
	deskmail_subject_as_is(m, want);
	compose_set_text(deskmail_compose(m), "hello\n", 6);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 1);
	test_assert_str(msg != NULL ? msg->subject : NULL, want);
	test_assert(msg != NULL && msg->reply_to.count == 0);
	out_clear(&res, &msg, &o);
}

static void
test_threading(int64_t id)
{
	struct deskmail_result res;
	struct mime_message *msg;
	struct store_outbox *o;
	const char *why;
	char *ids[30];

	test_begin("threading: the root and the newest references");
	for (size_t i = 0; i < N_ELEMENTS(ids); i++)
		ids[i] = xasprintf("m%zu@client.example", i);
	struct deskmail_msg *m = deskmail_start(dm, id, "notify", DESKMAIL_REPLY_AGENT,
						"auto-generated", NOW);
	deskmail_add_to(m, NULL, "alice@staff.example");
	deskmail_subject(m, "", "x");
	deskmail_thread(m, "last@client.example", (const char *const *)ids, N_ELEMENTS(ids));
	compose_set_text(deskmail_compose(m), "x\n", 2);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 1);
	test_assert(msg != NULL && msg->in_reply_to != NULL &&
		    strcmp(msg->in_reply_to, "last@client.example") == 0);
	test_assert(msg != NULL && msg->n_references == DESKMAIL_MAX_REFERENCES);
	if (msg != NULL && msg->n_references == DESKMAIL_MAX_REFERENCES) {
		test_assert_str(msg->references[0], "m0@client.example");
		test_assert_str(msg->references[1], "m12@client.example");
		test_assert_str(msg->references[18], "m29@client.example");
		test_assert_str(msg->references[19], "last@client.example");
	}
	for (size_t i = 0; i < N_ELEMENTS(ids); i++)
		free(ids[i]);
	out_clear(&res, &msg, &o);

	test_begin("threading from a stored References string");
	m = deskmail_start(dm, id, "relay", DESKMAIL_REPLY_CUSTOMER, NULL, NOW);
	deskmail_add_to(m, NULL, "wang@customer.example");
	deskmail_subject_reply(m, "x");
	deskmail_thread_string(m, "c@x.example", " <a@x.example>  b@x.example\t<c@x.example>");
	compose_set_text(deskmail_compose(m), "x\n", 2);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 1);
	test_assert(msg != NULL && msg->n_references == 3);
	if (msg != NULL && msg->n_references == 3) {
		test_assert_str(msg->references[0], "a@x.example");
		test_assert_str(msg->references[1], "b@x.example");
		test_assert_str(msg->references[2], "c@x.example");
	}
	out_clear(&res, &msg, &o);
}

static void
test_refused(int64_t id)
{
	struct deskmail_result res;
	struct mime_message *msg;
	struct store_outbox *o;
	const char *why = NULL;

	test_begin("an address compose refuses: an event, not an error");
	struct deskmail_msg *m = deskmail_start(dm, id, "relay", DESKMAIL_REPLY_CUSTOMER, NULL, NOW);
	deskmail_add_to(m, NULL, "not an address");
	deskmail_subject_reply(m, "x");
	compose_set_text(deskmail_compose(m), "x\n", 2);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 0);
	test_assert(m == NULL && why != NULL);
	test_assert(res.outbox_id == 0 && res.message_id == NULL);
	test_assert(desk_has_event(store, id, "error", "relay to not an address not sent"));

	test_begin("no recipient: not queued");
	m = deskmail_start(dm, id, "notice", DESKMAIL_REPLY_AGENT, "auto-generated", NOW);
	deskmail_add_to(m, "nobody", NULL);
	test_assert_int(queue(&m, &res, &why, &msg, &o), 0);
	test_assert(why != NULL && strcmp(why, "no recipient") == 0);
	test_assert(desk_has_event(store, id, "error", "notice to nobody not sent: no recipient"));

	test_begin("a message freed without being sent");
	m = deskmail_start(dm, id, "notice", DESKMAIL_REPLY_AGENT, "auto-generated", NOW);
	deskmail_msg_free(&m);
	test_assert(m == NULL);
	deskmail_msg_free(&m);
}

static void
test_preview(void)
{
	struct deskmail *plain = NULL;
	struct deskmail_result res;
	const char *error;
	struct mime_message *msg = NULL;
	struct mime_limits limits;

	test_begin("render without threading settings: no tag, no Reply-To");
	test_assert_int(deskmail_new(config, NULL, NULL, &plain, &error), 0);
	struct deskmail_msg *m = deskmail_start(plain, 42, "ack", DESKMAIL_REPLY_CUSTOMER,
						"auto-replied", 0);
	deskmail_add_to(m, "李雷", "li@customer.example");
	deskmail_subject_as_is(m, "We got your mail");
	compose_set_text(deskmail_compose(m), "x\n", 2);
	test_assert_int(deskmail_render(plain, &m, &res, &error), 0);
	test_assert(m == NULL && res.raw != NULL && res.len > 0);
	mime_limits_default(&limits);
	test_assert(res.raw != NULL && mime_parse(res.raw, res.len, &limits, &msg, &error) == 0);
	test_assert_str(msg != NULL ? msg->subject : NULL, "We got your mail");
	test_assert(msg != NULL && msg->reply_to.count == 0);
	int64_t t = 0;
	test_assert(msg != NULL && compose_message_id_ticket(msg->message_id, &t) == 1 && t == 42);
	test_assert(msg != NULL && msg->to.count == 1 && strcmp(msg->to.items[0].name, "李雷") == 0);
	mime_message_free(&msg);
	deskmail_result_clear(&res);
	test_assert(res.raw == NULL && res.message_id == NULL);
	deskmail_free(&plain);
	test_assert(plain == NULL);
	deskmail_free(&plain);

	test_begin("subject base");
	test_assert_str(deskmail_subject_base("Re: RE: aw: Sv:  Hello"), "Hello");
	test_assert_str(deskmail_subject_base("回复：答复: 充值"), "充值");
	test_assert_str(deskmail_subject_base("Re: "), "(no subject)");
	test_assert_str(deskmail_subject_base(NULL), "(no subject)");
	test_assert_str(deskmail_subject_base("Reminder"), "Reminder");
}

static void
test_names(void)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: no name */
	} cases[] = {
		{ "Li Wei", "Li Wei" },
		{ "王小明", "王小明" },
		{ "  J. Smith ", "J. Smith" },
		{ "Ms. O'Neil", "Ms. O'Neil" },
		{ NULL, NULL },
		{ "", NULL },
		{ " \t\r\n", NULL },
		{ "Bob\r\n  Agent", "Bob Agent" },
		{ "Eve\xe2\x80\xa8" "Bcc", "Eve Bcc" },	/* U+2028 */
		{ "Bad\xff\xfe" "bytes", "Bad bytes" },
		{ "Win big at http://evil.example/x", NULL },
		{ "www.evil.com prize", NULL },
		{ "Visit evil.example now", NULL },
		{ "bit.ly/3xyz", NULL },
		{ "support@your-bank.example", NULL },
		{ "1234567890123456789012345678901234567890123456789012345678901234", /* 64 */
		  "1234567890123456789012345678901234567890123456789012345678901234" },
		{ "12345678901234567890123456789012345678901234567890123456789012345", NULL },
	};
	test_begin("display names used in mail");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *got = deskmail_display_name(cases[i].in);
		if (cases[i].want == NULL)
			test_assert(got == NULL);
		else
			test_assert_str(got, cases[i].want);
		if ((got == NULL) != (cases[i].want == NULL))
			printf("  case %zu: %s\n", i, got != NULL ? got : "(none)");
		free(got);
	}
	test_begin("display names: characters, not bytes; a forged 20 KB name");
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (int i = 0; i < 64; i++)
		buf_puts(&b, "名");
	char *got = deskmail_display_name(buf_cstr(&b));
	test_assert(got != NULL && strlen(got) == 64 * 3);
	free(got);
	buf_reset(&b);
	for (int i = 0; i < 2000; i++)
		buf_puts(&b, "Your account is locked. ");
	test_assert(deskmail_display_name(buf_cstr(&b)) == NULL);
	buf_free(&b);

	test_begin("address keys fold plus-tags and case");
	static const struct {
		const char *in, *want;
	} keys[] = {
		{ "Victim+1@Example.COM", "victim@example.com" },
		{ "victim@example.com", "victim@example.com" },
		{ "a+b+c@x.example", "a@x.example" },
		{ "+x@y.example", "+x@y.example" },
		{ "nobody", NULL },
		{ NULL, NULL },
	};
	for (size_t i = 0; i < N_ELEMENTS(keys); i++) {
		char *k = deskmail_address_key(keys[i].in);
		if (keys[i].want == NULL)
			test_assert(k == NULL);
		else
			test_assert_str(k, keys[i].want);
		free(k);
	}

	test_begin("a recipient's name is cleaned in the headers");
	struct deskmail_result res;
	const char *error;
	struct mime_message *msg = NULL;
	struct mime_limits limits;
	struct deskmail_msg *m = deskmail_start(dm, 0, "ack", DESKMAIL_REPLY_NONE, "auto-replied",
						NOW);
	deskmail_add_to(m, "Claim your prize at https://evil.example", "victim@customer.example");
	deskmail_add_cc(m, "Li\r\nWei", "li@customer.example");
	deskmail_subject_as_is(m, "x");
	compose_set_text(deskmail_compose(m), "x\n", 2);
	test_assert_int(deskmail_render(dm, &m, &res, &error), 0);
	mime_limits_default(&limits);
	test_assert(mime_parse(res.raw, res.len, &limits, &msg, &error) == 0);
	test_assert(msg != NULL && msg->to.count == 1 && msg->to.items[0].name == NULL);
	test_assert(msg != NULL && msg->cc.count == 1 && msg->cc.items[0].name != NULL &&
		    strcmp(msg->cc.items[0].name, "Li Wei") == 0);
	test_assert(strstr((const char *)res.raw, "evil") == NULL);
	mime_message_free(&msg);
	deskmail_result_clear(&res);
}

int
main(void)
{
	if (setup() < 0)
		return 1;
	int64_t id = make_ticket();
	test_envelope(id);
	test_threading(id);
	test_refused(id);
	test_preview();
	test_names();
	deskmail_free(&dm);
	thread_config_free(&tc);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(tmpdir);
	return test_exit();
}
