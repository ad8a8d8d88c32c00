/*
 * Unit tests for gateway/thread.c: signed reply addresses (round trip,
 * forged and tampered tags), subject tags, Message-IDs, the secret file,
 * then every threading rule against a real SQLite store in a temporary
 * directory. Messages are built as struct mime_message by hand, so the
 * rules are tested apart from the MIME parser; the store is filled the way
 * ingest does it. The store's sqlite3_step() calls are counted (a
 * definition of our own that calls SQLite's), so that a look-up whose cost
 * grows with the size of a ticket shows.
 */
#include "build-config.h"

#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define SUPPORT "support@example.test"
#define AGENT "agent@desk.test"

static char tmpdir[] = "/tmp/dg-thread-XXXXXX";

static unsigned long sqlite_steps;

int
sqlite3_step(sqlite3_stmt *st)
{
	typedef int step_fn(sqlite3_stmt *);
	static step_fn *real;
	if (real == NULL)
		real = (step_fn *)dlsym(RTLD_NEXT, "sqlite3_step");
	sqlite_steps++;
	return real != NULL ? real(st) : SQLITE_ERROR;
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
	chmod(path, 0600);
}

/* The configuration is built by hand with the documented defaults of
   [threading], so that this test depends on nothing else of config.c. */
static struct config *
make_config(void)
{
	struct config *c = xcalloc(1, sizeof(*c));
	c->state_dir = xstrdup(tmpdir);
	c->support_address = xstrdup(SUPPORT);
	c->hostname = xstrdup("gw.example.test");
	c->threading.secret_file = xasprintf("%s/secret", tmpdir);
	c->threading.recipient_delimiter = xstrdup("+");
	c->threading.subject_tag = xstrdup("[Support #%d]");
	c->threading.reopen_period = 14 * 86400;
	c->solved.reopen_grace = 14 * 86400; /* the same: reopen_period is tested */
	c->threading.duplicate_window = 3 * 86400;
	c->agents = xcalloc(1, sizeof(*c->agents));
	c->agents[0].label = xstrdup("alice");
	c->agents[0].address = xstrdup(AGENT);
	c->n_agents = 1;
	return c;
}

static struct thread_config *
make_tc(struct config *c)
{
	struct thread_config *tc = NULL;
	const char *error = NULL;
	if (thread_config_new(c, &tc, &error) < 0) {
		printf("thread_config_new: %s\n", error);
		exit(99);
	}
	return tc;
}

/* ---- pure parts ---------------------------------------------------------- */

static void
test_reply_address(struct thread_config *tc)
{
	const char *error;
	int64_t ticket;
	enum thread_role role;

	test_begin("reply address round trip");
	char *c = thread_reply_address(tc, 1234, THREAD_ROLE_CUSTOMER);
	char *a = thread_reply_address(tc, 1234, THREAD_ROLE_AGENT);
	char *cc = thread_reply_address(tc, 1234, THREAD_ROLE_CC);
	test_assert(str_starts_with(c, "support+1234-"));
	test_assert(strlen(c) == strlen("support+1234-@example.test") + THREAD_TAG_LEN);
	test_assert(strcmp(c, a) != 0);
	test_assert_str(cc, c);
	test_assert_int(thread_reply_address_parse(tc, c, &ticket, &role, &error), 1);
	test_assert_int(ticket, 1234);
	test_assert_int(role, THREAD_ROLE_CUSTOMER);
	test_assert_int(thread_reply_address_parse(tc, a, &ticket, &role, &error), 1);
	test_assert_int(role, THREAD_ROLE_AGENT);

	test_begin("reply address variants");
	char *upper = xstrdup(c);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	test_assert_int(thread_reply_address_parse(tc, upper, &ticket, &role, &error), 1);
	char *bracketed = xasprintf(" <%s> ", c);
	test_assert_int(thread_reply_address_parse(tc, bracketed, &ticket, &role, &error), 1);

	test_begin("reply address forgeries");
	char *tampered = xstrdup(c);
	char *tag = strchr(tampered, '-') + 1;
	tag[3] = tag[3] == 'a' ? 'b' : 'a';
	test_assert_int(thread_reply_address_parse(tc, tampered, &ticket, &role, &error), -1);
	test_assert(strstr(error, "does not verify") != NULL);
	/* the tag of ticket 1234 on ticket 1235 */
	char *moved = xstrdup(c);
	moved[strlen("support+123")] = '5';
	test_assert_int(thread_reply_address_parse(tc, moved, &ticket, &role, &error), -1);
	static const char *const bad[] = {
		"support+1234-abc@example.test",		 /* short tag */
		"support+1234-aaaaaaaaaaaaaaaaaaaa@example.test", /* long tag */
		"support+1234-aaaaaaaa1aaaaaaa@example.test",	 /* not base32 */
		"support+01234-aaaaaaaaaaaaaaaa@example.test",	 /* leading zero */
		"support+0-aaaaaaaaaaaaaaaa@example.test",
		"support+99999999999999999999-aaaaaaaaaaaaaaaa@example.test",
		"support+1234-@example.test",
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert_int(thread_reply_address_parse(tc, bad[i], &ticket, &role, &error), -1);
		test_assert(error != NULL);
	}
	static const char *const not_ours[] = {
		"support@example.test", "support+orders@example.test", "other+1234-x@example.test",
		"support+1234-aaaaaaaaaaaaaaaa@example.org", "nobody", "", "@", "support+@example.test",
		"supportx+1234-aaaaaaaaaaaaaaaa@example.test",
	};
	for (size_t i = 0; i < N_ELEMENTS(not_ours); i++)
		test_assert_int(thread_reply_address_parse(tc, not_ours[i], &ticket, &role, &error), 0);
	test_assert_int(thread_reply_address_parse(tc, NULL, &ticket, &role, &error), 0);
	free(c);
	free(a);
	free(cc);
	free(upper);
	free(bracketed);
	free(tampered);
	free(moved);
}

static void
test_other_key(struct config *conf)
{
	/* an address signed with another key does not verify */
	test_begin("another key");
	struct thread_config *tc1 = make_tc(conf);
	char *addr = thread_reply_address(tc1, 77, THREAD_ROLE_CUSTOMER);
	char *path = xasprintf("%s/secret2", tmpdir);
	write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	char *old = conf->threading.secret_file;
	conf->threading.secret_file = path;
	struct thread_config *tc2 = make_tc(conf);
	int64_t ticket;
	enum thread_role role;
	const char *error;
	test_assert_int(thread_reply_address_parse(tc2, addr, &ticket, &role, &error), -1);
	test_assert_int(thread_reply_address_parse(tc1, addr, &ticket, &role, &error), 1);

	test_begin("delimiter set");
	free(conf->threading.recipient_delimiter);
	conf->threading.recipient_delimiter = xstrdup("-+");
	struct thread_config *tc3 = make_tc(conf);
	char *a3 = thread_reply_address(tc3, 5, THREAD_ROLE_CUSTOMER);
	test_assert(str_starts_with(a3, "support-5-"));
	char *plus = xstrdup(a3);
	plus[strlen("support")] = '+';
	test_assert_int(thread_reply_address_parse(tc3, plus, &ticket, &role, &error), 1);
	test_assert_int(ticket, 5);
	free(conf->threading.recipient_delimiter);
	conf->threading.recipient_delimiter = xstrdup("+");

	conf->threading.secret_file = old;
	free(path);
	free(addr);
	free(a3);
	free(plus);
	thread_config_free(&tc1);
	thread_config_free(&tc2);
	thread_config_free(&tc3);
	test_assert(tc1 == NULL);
	thread_config_free(&tc1);
}

static void
test_config_errors(struct config *conf)
{
	static const struct {
		const char *secret;
		const char *tag;
		const char *delim;
		const char *want;
	} cases[] = {
		{ "abc\n", NULL, NULL, "hex digits" },
		{ "0011223344556677\n", NULL, NULL, "hex digits" }, /* 8 bytes: too short */
		{ "zz112233445566778899aabbccddeeff\n", NULL, NULL, "hex digits" },
		{ NULL, "[Ticket %s]", NULL, "subject_tag" },
		{ NULL, "no number", NULL, "subject_tag" },
		{ NULL, "%d", NULL, "subject_tag" },
		{ NULL, "[#%d] %d", NULL, "subject_tag" },
		{ NULL, NULL, "@", "recipient_delimiter" },
		{ NULL, NULL, "1", "recipient_delimiter" },
	};
	char *path = xasprintf("%s/secret3", tmpdir);
	char *old_secret = conf->threading.secret_file;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char name[64];
		snprintf(name, sizeof(name), "config error %zu", i);
		test_begin(name);
		char *old_tag = conf->threading.subject_tag, *old_delim = conf->threading.recipient_delimiter;
		if (cases[i].secret != NULL) {
			write_file(path, cases[i].secret);
			conf->threading.secret_file = path;
		}
		if (cases[i].tag != NULL)
			conf->threading.subject_tag = (char *)cases[i].tag;
		if (cases[i].delim != NULL)
			conf->threading.recipient_delimiter = (char *)cases[i].delim;
		struct thread_config *tc = NULL;
		const char *error = NULL;
		test_assert_int(thread_config_new(conf, &tc, &error), -1);
		test_assert(tc == NULL);
		test_assert(error != NULL && strstr(error, cases[i].want) != NULL);
		conf->threading.secret_file = old_secret;
		conf->threading.subject_tag = old_tag;
		conf->threading.recipient_delimiter = old_delim;
	}
	test_begin("missing secret file");
	conf->threading.secret_file = (char *)"/nonexistent/deskgate-secret";
	struct thread_config *tc = NULL;
	const char *error = NULL;
	test_assert_int(thread_config_new(conf, &tc, &error), -1);
	test_assert(error != NULL && strstr(error, "/nonexistent/deskgate-secret") != NULL);
	conf->threading.secret_file = old_secret;

	test_begin("agent address required");
	char *old_addr = conf->agents[0].address;
	conf->agents[0].address = NULL;
	test_assert_int(thread_config_new(conf, &tc, &error), -1);
	test_assert(strstr(error, "[agent alice]") != NULL);
	conf->agents[0].address = old_addr;
	free(path);
}

static void
test_subject(struct thread_config *tc)
{
	static const struct {
		const char *subject;
		int ret;
		int64_t ticket;
	} cases[] = {
		{ "[Support #1234] Withdrawal", 1, 1234 },
		{ "Re: Fwd: [Support #1234] Withdrawal", 1, 1234 },
		{ "RE: AW: 回复: [support # 1234 ] x", 1, 1234 },
		{ "Re: [Support #12] Fwd: [Support #34]", 1, 12 },
		{ "[Support #0]", 0, 0 },
		{ "[Support #]", 0, 0 },
		{ "[Support #abc]", 0, 0 },
		{ "[Support #12345678901234567890]", 0, 0 },
		{ "[Support #12", 0, 0 },
		{ "Support #12", 0, 0 },
		{ "ticket 1234", 0, 0 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char name[128];
		snprintf(name, sizeof(name), "subject \"%s\"", cases[i].subject);
		test_begin(name);
		int64_t t = 0;
		test_assert_int(thread_subject_parse(tc, cases[i].subject, &t), cases[i].ret);
		if (cases[i].ret == 1)
			test_assert_int(t, cases[i].ticket);
	}
	test_begin("subject tag");
	int64_t t;
	test_assert_int(thread_subject_parse(tc, NULL, &t), 0);
	char *tag = thread_subject_tag(tc, 42);
	test_assert_str(tag, "[Support #42]");
	char *s1 = thread_subject_add_tag(tc, "Deposit missing", 42);
	test_assert_str(s1, "[Support #42] Deposit missing");
	char *s2 = thread_subject_add_tag(tc, s1, 42);
	test_assert_str(s2, s1);
	char *s3 = thread_subject_add_tag(tc, "Re: [Support #41] x", 42);
	test_assert_str(s3, "[Support #42] Re: [Support #41] x");
	char *s4 = thread_subject_add_tag(tc, "", 42);
	test_assert_str(s4, "[Support #42]");
	free(tag);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
}

static void
test_support_address(struct thread_config *tc)
{
	static const struct {
		const char *address;
		int ours;
	} cases[] = {
		{ "support@example.test", 1 },
		{ "SUPPORT@Example.TEST", 1 },
		{ "support+sales@example.test", 1 },
		{ "support+12-abcdefghijklmnop@example.test", 1 },
		{ "support+bounce-5-abcdefghij@example.test", 1 },
		{ "supporter@example.test", 0 },
		{ "support-x@example.test", 0 },
		{ "support@example.test.evil", 0 },
		{ "support@other.test", 0 },
		{ "support", 0 },
		{ "@example.test", 0 },
		{ AGENT, 0 },
		{ NULL, 0 },
	};
	test_begin("the support address and its sub-addresses");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_assert_int(thread_is_support_address(tc, cases[i].address), cases[i].ours);
		if (thread_is_support_address(tc, cases[i].address) != cases[i].ours)
			printf("  %s\n", cases[i].address != NULL ? cases[i].address : "(null)");
	}
}

static void
test_message_id(struct thread_config *tc)
{
	test_begin("message-id");
	char *a = NULL, *b = NULL;
	const char *error;
	test_assert_int(thread_message_id_new(tc, 99, &a, &error), 0);
	test_assert_int(thread_message_id_new(tc, 99, &b, &error), 0);
	test_assert(strcmp(a, b) != 0);
	test_assert(str_starts_with(a, "dg.99."));
	test_assert(strlen(a) == strlen("dg.99.@gw.example.test") + 24);
	int64_t t = 0;
	test_assert_int(thread_message_id_is_ours(tc, a, &t), 1);
	test_assert_int(t, 99);
	char *br = xasprintf("<%s>", a);
	test_assert_int(thread_message_id_is_ours(tc, br, NULL), 1);
	static const char *const not_ours[] = {
		"dg.99.abc@gw.example.test", "dg.99.aaaaaaaaaaaaaaaaaaaaaaaa@other.test",
		"dg.x.aaaaaaaaaaaaaaaaaaaaaaaa@gw.example.test", "CAF=x@mail.gmail.com", "", "dg.",
		"dg.1.aaaaaaaaaaaaaaaaaaaaaaa1@gw.example.test",
	};
	for (size_t i = 0; i < N_ELEMENTS(not_ours); i++)
		test_assert_int(thread_message_id_is_ours(tc, not_ours[i], NULL), 0);
	test_assert_int(thread_message_id_is_ours(tc, NULL, NULL), 0);
	free(a);
	free(b);
	free(br);
}

/* ---- the rules, with a store --------------------------------------------- */

struct msgspec {
	const char *from;
	const char *to;	  /* one address, or NULL: SUPPORT */
	const char *cc;	  /* one "Name <addr>" style address, or NULL */
	const char *subject;
	const char *message_id;
	const char *in_reply_to;
	const char *references; /* one id */
	const char *text;
	const char *hname[3]; /* extra headers */
	const char *hvalue[3];
};

static struct mime_message *
make_msg(const struct msgspec *s)
{
	struct mime_message *m = xcalloc(1, sizeof(*m));
	m->from.address = s->from != NULL ? xstrdup(s->from) : NULL;
	m->to.items = xcalloc(1, sizeof(*m->to.items));
	m->to.items[0].address = xstrdup(s->to != NULL ? s->to : SUPPORT);
	m->to.count = 1;
	if (s->cc != NULL) {
		m->cc.items = xcalloc(1, sizeof(*m->cc.items));
		m->cc.items[0].address = xstrdup(s->cc);
		m->cc.count = 1;
	}
	m->subject = xstrdup(s->subject != NULL ? s->subject : "Help");
	m->message_id = s->message_id != NULL ? xstrdup(s->message_id) : NULL;
	m->in_reply_to = s->in_reply_to != NULL ? xstrdup(s->in_reply_to) : NULL;
	if (s->references != NULL) {
		m->references = xcalloc(1, sizeof(char *));
		m->references[0] = xstrdup(s->references);
		m->n_references = 1;
	}
	m->text = xstrdup(s->text != NULL ? s->text : "some text");
	m->text_len = strlen(m->text);
	m->headers = xcalloc(3, sizeof(*m->headers));
	for (size_t i = 0; i < 3 && s->hname[i] != NULL; i++) {
		m->headers[i].name = xstrdup(s->hname[i]);
		m->headers[i].value = xstrdup(s->hvalue[i]);
		m->n_headers++;
	}
	return m;
}

static void
free_msg(struct mime_message *m)
{
	free(m->from.address);
	free(m->to.items[0].address);
	free(m->to.items);
	if (m->cc.items != NULL)
		free(m->cc.items[0].address);
	free(m->cc.items);
	free(m->subject);
	free(m->message_id);
	free(m->in_reply_to);
	if (m->references != NULL)
		free(m->references[0]);
	free(m->references);
	free(m->text);
	for (size_t i = 0; i < m->n_headers; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m);
}

/* Store a message the way ingest does; returns the ticket. */
static int64_t
store_as(struct store *store, const struct mime_message *m, const struct thread_decision *d,
	 const char *cc_string)
{
	const char *error;
	int64_t ticket = d->ticket_id;
	if (ticket == 0) {
		struct store_ticket t = {
			.subject = m->subject,
			.status = (char *)"new",
			.category = (char *)"other",
			.priority = (char *)"normal",
			.customer_address = m->from.address,
		};
		if (store_ticket_insert(store, &t, &ticket, &error) < 0) {
			printf("store: %s\n", error);
			exit(99);
		}
	}
	struct store_message sm = {
		.ticket_id = ticket,
		.direction = (char *)(d->role == THREAD_ROLE_AGENT ? "agent" : "in"),
		.message_id = m->message_id,
		.from_address = m->from.address,
		.to = m->to.items[0].address,
		.cc = (char *)cc_string,
		.subject = m->subject,
		.text = m->text,
	};
	if (store_message_insert(store, &sm, NULL, &error) < 0 ||
	    store_participant_add(store, ticket, m->from.address, NULL,
				  d->ticket_id == 0 ? "customer" : thread_role_name(d->role),
				  &error) < 0) {
		printf("store: %s\n", error);
		exit(99);
	}
	return ticket;
}

static void
resolve(struct store *store, struct thread_config *tc, const struct msgspec *s,
	struct thread_decision *d)
{
	struct mime_message *m = make_msg(s);
	const char *error;
	if (thread_resolve(store, tc, m, d, &error) < 0) {
		printf("thread_resolve: %s\n", error);
		exit(99);
	}
	free_msg(m);
}

static void
expect(const struct thread_decision *d, int64_t ticket, enum thread_rule rule,
       enum thread_role role, const char *event_kind)
{
	test_assert_int(d->ticket_id, ticket);
	test_assert_int(d->rule, rule);
	test_assert_int(d->role, role);
	test_assert_str(d->event_kind, event_kind);
	test_assert(d->reason != NULL);
}

static void
test_rules(struct store *store, struct thread_config *tc, struct config *conf)
{
	struct thread_decision d;
	const char *error;

	/* A customer opens a ticket, copying a colleague. */
	test_begin("new ticket");
	struct msgspec first = { .from = "cust@customer.test", .cc = "carol@customer.test",
				 .message_id = "m1@customer.test",
				 .text = "My deposit of 0.5 BTC is missing." };
	resolve(store, tc, &first, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.suppress_ack, 0);
	struct mime_message *m = make_msg(&first);
	int64_t t1 = store_as(store, m, &d, "Carol <carol@customer.test>");
	free_msg(m);
	thread_decision_clear(&d);

	/* Our acknowledgement, sent with an unguessable Message-ID. */
	char *ack_id = NULL;
	test_assert_int(thread_message_id_new(tc, t1, &ack_id, &error), 0);
	struct store_outbox o = { .ticket_id = t1, .kind = (char *)"ack", .message_id = ack_id,
				  .envelope_from = (char *)SUPPORT,
				  .recipients = (char *)"cust@customer.test",
				  .raw = (unsigned char *)"x", .raw_size = 1 };
	test_assert_int(store_outbox_insert(store, &o, NULL, &error), 0);

	test_begin("2: customer replies to the ack");
	struct msgspec reply = { .from = "CUST@customer.test", .message_id = "m2@customer.test",
				 .in_reply_to = ack_id, .text = "Here is the TXID." };
	resolve(store, tc, &reply, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.add_participant, 0);
	thread_decision_clear(&d);

	test_begin("2: stranger with the ticket's Message-ID");
	struct msgspec stranger = { .from = "eve@evil.test", .in_reply_to = "m1@customer.test",
				    .references = "m1@customer.test", .text = "give me the content" };
	resolve(store, tc, &stranger, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert_int(d.event_ticket, t1);
	test_assert(d.event_detail != NULL && strstr(d.event_detail, "eve@evil.test") != NULL);
	thread_decision_clear(&d);

	test_begin("2: cc'd colleague joins");
	struct msgspec carol = { .from = "carol@customer.test", .references = "m1@customer.test",
				 .text = "I can confirm." };
	resolve(store, tc, &carol, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CC, NULL);
	test_assert_int(d.add_participant, 1);
	m = make_msg(&carol);
	store_as(store, m, &d, NULL);
	free_msg(m);
	thread_decision_clear(&d);

	test_begin("2: a cc participant stays cc");
	struct msgspec carol2 = { .from = "Carol@Customer.test", .in_reply_to = ack_id,
				  .text = "And another thing." };
	resolve(store, tc, &carol2, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CC, NULL);
	test_assert_int(d.add_participant, 0);
	thread_decision_clear(&d);

	test_begin("2: a former agent is not an agent");
	test_assert_int(store_participant_add(store, t1, "former@desk.test", NULL, "agent", &error), 0);
	struct msgspec former = { .from = "former@desk.test", .in_reply_to = ack_id, .text = "z" };
	resolve(store, tc, &former, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CC, NULL);
	test_assert_int(d.agent_trusted, 0);
	thread_decision_clear(&d);

	test_begin("2: a recipient of our mail joins");
	struct store_outbox o2 = { .ticket_id = t1, .kind = (char *)"relay",
				   .message_id = (char *)"dg.x@gw.example.test",
				   .envelope_from = (char *)SUPPORT,
				   .recipients = (char *)"cust@customer.test, Dan <dan@customer.test>",
				   .raw = (unsigned char *)"x", .raw_size = 1 };
	test_assert_int(store_outbox_insert(store, &o2, NULL, &error), 0);
	struct msgspec dan = { .from = "dan@customer.test", .in_reply_to = "dg.x@gw.example.test" };
	resolve(store, tc, &dan, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CC, NULL);
	thread_decision_clear(&d);

	test_begin("3: subject tag from a participant");
	char *tagged = thread_subject_add_tag(tc, "more info", t1);
	struct msgspec subj = { .from = "cust@customer.test", .subject = tagged,
				.text = "Another screenshot." };
	resolve(store, tc, &subj, &d);
	expect(&d, t1, THREAD_RULE_SUBJECT, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	test_begin("3: subject tag from a stranger");
	struct msgspec subj2 = { .from = "eve@evil.test", .subject = tagged, .text = "hi" };
	resolve(store, tc, &subj2, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert_int(d.event_ticket, t1);
	thread_decision_clear(&d);

	test_begin("3: tag of a ticket that does not exist");
	struct msgspec subj3 = { .from = "eve@evil.test", .subject = "[Support #999999] x" };
	resolve(store, tc, &subj3, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	char *caddr = thread_reply_address(tc, t1, THREAD_ROLE_CUSTOMER);
	char *aaddr = thread_reply_address(tc, t1, THREAD_ROLE_AGENT);

	test_begin("1: signed address, customer");
	struct msgspec sig = { .from = "cust@customer.test", .to = caddr, .subject = "new subject",
			       .text = "Any news?" };
	resolve(store, tc, &sig, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	test_begin("1: signed address in Delivered-To");
	struct msgspec sig2 = { .from = "cust@customer.test", .text = "x",
				.hname = { "Delivered-To" }, .hvalue = { caddr } };
	resolve(store, tc, &sig2, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	test_begin("1: signed customer address, someone new");
	struct msgspec sig3 = { .from = "frank@customer.test", .to = caddr, .text = "me too" };
	resolve(store, tc, &sig3, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_CC, NULL);
	test_assert_int(d.add_participant, 1);
	thread_decision_clear(&d);

	test_begin("1: forged tag");
	char *forged = xstrdup(caddr);
	char *tag = strchr(forged, '-') + 1;
	tag[0] = tag[0] == 'q' ? 'r' : 'q';
	struct msgspec sig4 = { .from = "eve@evil.test", .to = forged, .text = "x" };
	resolve(store, tc, &sig4, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert(strstr(d.event_detail, "does not verify") != NULL);
	thread_decision_clear(&d);

	test_begin("1: forged tag, but a participant's reply");
	struct msgspec sig5 = { .from = "cust@customer.test", .to = forged, .in_reply_to = ack_id,
				.text = "y" };
	resolve(store, tc, &sig5, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CUSTOMER, "security");
	thread_decision_clear(&d);

	test_begin("1: agent through the agent address");
	struct msgspec ag = { .from = "Agent@Desk.test", .to = aaddr, .text = "#close\nDone." };
	resolve(store, tc, &ag, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_AGENT, NULL);
	test_assert_int(d.agent_trusted, 1);
	test_assert_int(d.add_participant, 1);
	thread_decision_clear(&d);

	test_begin("1: agent address used by a non-agent");
	struct msgspec ag2 = { .from = "cust@customer.test", .to = aaddr, .text = "x" };
	resolve(store, tc, &ag2, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert_int(d.agent_trusted, 0);
	test_assert_int(d.event_ticket, t1);
	thread_decision_clear(&d);

	test_begin("agent From without the agent address");
	struct msgspec ag3 = { .from = AGENT, .in_reply_to = "m1@customer.test",
			       .subject = tagged, .text = "x" };
	resolve(store, tc, &ag3, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert_int(d.agent_trusted, 0);
	thread_decision_clear(&d);

	test_begin("agent on the customer address is not agent mail");
	struct msgspec ag4 = { .from = AGENT, .to = caddr, .text = "x" };
	resolve(store, tc, &ag4, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_CC, NULL);
	test_assert_int(d.agent_trusted, 0);
	thread_decision_clear(&d);

	/* Authentication-Results required. */
	free(conf->threading.require_auth_results);
	conf->threading.require_auth_results = xstrdup("yes");
	free(conf->threading.authserv_id);
	conf->threading.authserv_id = xstrdup("mx.example.test");
	struct thread_config *tca = make_tc(conf);
	static const struct {
		const char *name;
		const char *h1, *v1, *h2, *v2;
		int trusted;
	} ar[] = {
		{ "no header", NULL, NULL, NULL, NULL, 0 },
		{ "dmarc pass", "Authentication-Results", "mx.example.test; dmarc=pass header.from=desk.test",
		  NULL, NULL, 1 },
		{ "aligned dkim", "Authentication-Results",
		  "mx.example.test; spf=fail; dkim=pass (2048-bit) header.d=desk.test header.s=s1", NULL,
		  NULL, 1 },
		{ "parent-domain dkim", "Authentication-Results",
		  "mx.example.test; dkim=pass header.d=test", NULL, NULL, 1 },
		{ "other domain's dkim", "Authentication-Results",
		  "mx.example.test; dkim=pass header.d=evil.test", NULL, NULL, 0 },
		{ "suffix is not a parent", "Authentication-Results",
		  "mx.example.test; dkim=pass header.d=sk.test", NULL, NULL, 0 },
		{ "foreign authserv-id", "Authentication-Results", "evil.test; dmarc=pass", NULL, NULL, 0 },
		{ "fail", "Authentication-Results", "mx.example.test; dmarc=fail; dkim=fail", NULL, NULL,
		  0 },
		{ "forged header below ours", "Authentication-Results", "mx.example.test; dmarc=fail",
		  "Authentication-Results", "mx.example.test; dmarc=pass", 0 },
		/* issue 10.9: a pass counts only for the From domain */
		{ "dmarc pass for another From domain", "Authentication-Results",
		  "mx.example.test; dmarc=pass header.from=evil.test", NULL, NULL, 0 },
		{ "dmarc pass without header.from", "Authentication-Results",
		  "mx.example.test; dmarc=pass", NULL, NULL, 0 },
		{ "dmarc pass in a comment only", "Authentication-Results",
		  "mx.example.test; dmarc=fail (was dmarc=pass header.from=desk.test) "
		  "header.from=desk.test", NULL, NULL, 0 },
		{ "dkim pass by header.i", "Authentication-Results",
		  "mx.example.test; dkim=pass header.i=@desk.test", NULL, NULL, 1 },
		{ "unreadable header", "Authentication-Results",
		  "mx.example.test; dmarc=pass (header.from=desk.test", NULL, NULL, 0 },
		{ "authserv-id as a prefix only", "Authentication-Results",
		  "mx.example.test.evil.test; dmarc=pass header.from=desk.test", NULL, NULL, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(ar); i++) {
		char name[128];
		snprintf(name, sizeof(name), "auth results: %s", ar[i].name);
		test_begin(name);
		struct msgspec s = { .from = AGENT, .to = aaddr, .text = "x",
				     .hname = { ar[i].h1, ar[i].h2 }, .hvalue = { ar[i].v1, ar[i].v2 } };
		resolve(store, tca, &s, &d);
		test_assert_int(d.agent_trusted, ar[i].trusted);
		test_assert_int(d.ticket_id, ar[i].trusted ? t1 : 0);
		if (!ar[i].trusted)
			test_assert_str(d.event_kind, "security");
		thread_decision_clear(&d);
	}
	thread_config_free(&tca);

	/* require_auth_results = auto (the default): a pass is needed when
	   the mail carries a header of our authserv-id, not otherwise. */
	free(conf->threading.require_auth_results);
	conf->threading.require_auth_results = xstrdup("auto");
	tca = make_tc(conf);
	test_assert_int(thread_auth_mode(tca), THREAD_AUTH_AUTO);
	static const struct {
		const char *name;
		const char *value; /* NULL: no header */
		int trusted;
	} autos[] = {
		{ "auto: no Authentication-Results (the MTA adds none)", NULL, 1 },
		{ "auto: only a foreign header", "evil.test; dmarc=pass header.from=desk.test", 1 },
		{ "auto: ours says fail", "mx.example.test; dmarc=fail header.from=desk.test", 0 },
		{ "auto: ours says pass", "mx.example.test; dmarc=pass header.from=desk.test", 1 },
		{ "auto: ours, a pass for another domain",
		  "mx.example.test; dmarc=pass header.from=evil.test", 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(autos); i++) {
		test_begin(autos[i].name);
		struct msgspec s = { .from = AGENT, .to = aaddr, .text = "x",
				     .hname = { autos[i].value != NULL ? "Authentication-Results" : NULL },
				     .hvalue = { autos[i].value } };
		resolve(store, tca, &s, &d);
		test_assert_int(d.agent_trusted, autos[i].trusted);
		thread_decision_clear(&d);
	}

	/* issue 10.9: a quoted local part that holds the agent's address. */
	test_begin("From: \"<agent>\"@evil.example is not the agent");
	struct msgspec q = { .from = AGENT, .to = aaddr, .text = "x",
			     .hname = { "From", "Authentication-Results" },
			     .hvalue = { "\"<" AGENT ">\"@evil.example",
					 "mx.example.test; dmarc=pass header.from=desk.test" } };
	resolve(store, tca, &q, &d);
	test_assert_int(d.agent_trusted, 0);
	test_assert_int(d.ticket_id, 0);
	test_assert_str(d.event_kind, "security");
	test_assert(d.event_detail != NULL && strstr(d.event_detail, "more than") != NULL);
	thread_decision_clear(&d);
	test_begin("the agent's address as display name is still the agent");
	struct msgspec q2 = { .from = AGENT, .to = aaddr, .text = "x",
			      .hname = { "From" }, .hvalue = { "\"" AGENT "\" <" AGENT ">" } };
	resolve(store, tca, &q2, &d);
	test_assert_int(d.agent_trusted, 1);
	thread_decision_clear(&d);
	thread_config_free(&tca);
	free(conf->threading.require_auth_results);
	conf->threading.require_auth_results = xstrdup("no");

	test_begin("duplicate text joins, no second ack");
	struct msgspec dup = { .from = "cust@customer.test", .subject = "Deposit missing again",
			       .message_id = "m9@customer.test",
			       .text = "My deposit of 0.5 BTC is missing." };
	resolve(store, tc, &dup, &d);
	expect(&d, t1, THREAD_RULE_DUPLICATE, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.suppress_ack, 1);
	thread_decision_clear(&d);

	test_begin("same text from someone else is new");
	struct msgspec dup2 = { .from = "other@customer.test",
				.text = "My deposit of 0.5 BTC is missing." };
	resolve(store, tc, &dup2, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.suppress_ack, 0);
	thread_decision_clear(&d);

	test_begin("blank text is never a duplicate");
	struct msgspec blank = { .from = "cust@customer.test", .text = " \n" };
	resolve(store, tc, &blank, &d);
	m = make_msg(&blank);
	store_as(store, m, &d, NULL);
	free_msg(m);
	thread_decision_clear(&d);
	resolve(store, tc, &blank, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	test_begin("a resent reply is not acknowledged twice");
	resolve(store, tc, &reply, &d);
	m = make_msg(&reply);
	store_as(store, m, &d, NULL);
	free_msg(m);
	thread_decision_clear(&d);
	resolve(store, tc, &reply, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.suppress_ack, 1);
	thread_decision_clear(&d);

	test_begin("no sender");
	struct msgspec nofrom = { .from = NULL, .in_reply_to = ack_id };
	resolve(store, tc, &nofrom, &d);
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, NULL);
	thread_decision_clear(&d);

	/* Closed: reopen within the period, later a new linked ticket. */
	test_assert_int(store_ticket_set(store, t1, "status", "closed", &error), 0);
	test_begin("closed ticket reopens");
	resolve(store, tc, &reply, &d);
	expect(&d, t1, THREAD_RULE_REFERENCES, THREAD_ROLE_CUSTOMER, NULL);
	test_assert_int(d.reopen, 1);
	test_assert_int(d.linked_ticket, 0);
	thread_decision_clear(&d);

	test_begin("closed long ago: new linked ticket");
	thread_config_set_now(tc, (int64_t)time(NULL) + (int64_t)conf->threading.reopen_period + 3600);
	resolve(store, tc, &sig, &d);
	expect(&d, 0, THREAD_RULE_ADDRESS, THREAD_ROLE_CUSTOMER, "thread");
	test_assert_int(d.linked_ticket, t1);
	test_assert_int(d.reopen, 0);
	test_assert_int(d.event_ticket, t1);
	thread_decision_clear(&d);

	test_begin("agent reply to a closed ticket does not reopen");
	resolve(store, tc, &ag, &d);
	expect(&d, t1, THREAD_RULE_ADDRESS, THREAD_ROLE_AGENT, NULL);
	test_assert_int(d.reopen, 0);
	test_assert_int(d.linked_ticket, 0);
	thread_decision_clear(&d);

	test_begin("duplicate of a message on a ticket closed long ago");
	thread_config_set_now(tc, (int64_t)time(NULL) + 2 * 86400);
	conf->threading.reopen_period = 0;
	struct thread_config *tc0 = make_tc(conf);
	thread_config_set_now(tc0, (int64_t)time(NULL) + 60);
	resolve(store, tc0, &dup, &d);
	test_assert_int(d.ticket_id, 0);
	test_assert_int(d.linked_ticket, t1);
	test_assert_int(d.suppress_ack, 0);
	thread_decision_clear(&d);
	thread_config_free(&tc0);
	thread_config_set_now(tc, 0);

	free(tagged);
	free(caddr);
	free(aaddr);
	free(forged);
	free(ack_id);
}

/* A reply that refers to a message of a long ticket is threaded with a
   few indexed look-ups, not by reading every message of the ticket (and
   its text) to see whether the sender was a recipient. */
static void
test_long_ticket(struct store *store, struct thread_config *tc)
{
	const int n_messages = 300;
	const char *error;
	struct thread_decision d;
	char *text = xmalloc(2049);
	memset(text, 't', 2048);
	text[2048] = '\0';

	test_begin("2: a recipient far back in a long ticket, in a few look-ups");
	struct store_ticket t = { .subject = "long", .customer_address = "lee@customer.test" };
	int64_t ticket = 0;
	test_assert_int(store_ticket_insert(store, &t, &ticket, &error), 0);
	test_assert_int(store_participant_add(store, ticket, "lee@customer.test", NULL, "customer",
					      &error),
			0);
	for (int i = 0; i < n_messages; i++) {
		char *msgid = xasprintf("long%d@customer.test", i);
		char *cc = xasprintf("Colleague %d <c%d@customer.test>", i, i);
		struct store_message sm = { .ticket_id = ticket, .direction = "in",
					    .message_id = msgid, .from_address = "lee@customer.test",
					    .to = SUPPORT, .cc = cc, .text = text };
		test_assert_int(store_message_insert(store, &sm, NULL, &error), 0);
		free(cc);
		free(msgid);
	}
	struct msgspec c0 = { .from = "c0@customer.test", .references = "long299@customer.test",
			      .text = "I was copied on the first one." };
	unsigned long before = sqlite_steps;
	resolve(store, tc, &c0, &d);
	unsigned long steps = sqlite_steps - before;
	expect(&d, ticket, THREAD_RULE_REFERENCES, THREAD_ROLE_CC, NULL);
	test_assert_int(d.add_participant, 1);
	thread_decision_clear(&d);
	test_assert(steps < 40);
	if (steps >= 40)
		printf("%lu SQLite steps for one reply to a ticket of %d messages\n", steps,
		       n_messages);

	test_begin("2: a stranger's reference to a long ticket, in a few look-ups");
	struct msgspec eve = { .from = "eve@evil.test", .references = "long150@customer.test",
			       .text = "what is in it?" };
	before = sqlite_steps;
	resolve(store, tc, &eve, &d);
	steps = sqlite_steps - before;
	expect(&d, 0, THREAD_RULE_NEW, THREAD_ROLE_CUSTOMER, "security");
	test_assert_int(d.event_ticket, ticket);
	thread_decision_clear(&d);
	test_assert(steps < 40);
	free(text);
}

int
main(void)
{
	log_init("test-thread", LOG_LEVEL_ERROR);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	char *secret = xasprintf("%s/secret", tmpdir);
	write_file(secret, "6b1c2f0e9d8a7b6c5d4e3f20112233445566778899aabbccddeeff0011223344\n");
	struct config *conf = make_config();
	struct thread_config *tc = make_tc(conf);

	test_reply_address(tc);
	test_other_key(conf);
	test_config_errors(conf);
	test_subject(tc);
	test_support_address(tc);
	test_message_id(tc);

	struct store *store = NULL;
	const char *error;
	char *db = xasprintf("%s/deskgate.db", tmpdir);
	if (store_open(db, tmpdir, &store, &error) < 0) {
		printf("store_open: %s\n", error);
		return 99;
	}
	test_rules(store, tc, conf);
	test_long_ticket(store, tc);
	store_close(&store);

	thread_config_free(&tc);
	config_free(&conf);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	free(cmd);
	free(db);
	free(secret);
	return test_exit();
}
