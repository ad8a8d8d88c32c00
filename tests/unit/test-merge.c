/*
 * test-merge: #merge N (merge.h) through the whole ingest pipeline against
 * a real SQLite store: two tickets of one customer, an agent merges one
 * into the other; the messages, participants, fields and history are on
 * the ticket merged into, the merged one is closed as a duplicate with its
 * SLA clocks stopped; the customer is told once, the other agents once;
 * afterwards the customer's replies (signed address, In-Reply-To, subject
 * tag) and the agents' replies to the merged ticket act on the other.
 * Refusals: an unknown ticket, the ticket itself, a closed ticket, another
 * customer's, a ticket already merged, #merge with text or other
 * commands, a bad number, a forged sender. A chain is followed to its end.
 * A crash before the commit merges nothing; the same command mail again
 * merges once. The store entry on its own: bad arguments, twice.
 * On SQLite, and on PostgreSQL through test-merge-pg.sh
 * (DESKGATE_TEST_STORE_URL, test-store-url.h).
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/hold.h"
#include "gateway/ingest.h"
#include "gateway/store.h"
#include "gateway/store/store-merge.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-merge.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static int counter;

static int
setup(void)
{
	const char *sections =
		"hostname = desk.example.test\nsupport_address = support@example.test\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\n"
		"[agent carol]\naddress = carol@staff.example\n";
	char *location = test_store_location(tmpdir, "merge");
	if (location == NULL)
		return -1;
	int ret = desk_open_at(tmpdir, sections, location, &config, &store);
	free(location);
	if (ret < 0)
		return -1;
	return desk_ingest_open(config, store, NOW, &ingest, &tc, NULL);
}

static void
teardown(void)
{
	desk_close(NULL, &tc, &ingest, &store, &config);
}

static int64_t
ingest_text(const char *raw)
{
	const char *error = NULL;
	struct ingest_result res;
	struct ingest_source src = { .label = "test" };
	if (ingest_message(ingest, (const unsigned char *)raw, strlen(raw), &src, &res, &error) < 0) {
		printf("ingest_message: %s\n", error);
		return -1;
	}
	return res.ticket_id;
}

static int
count_outbox(const char *kind, const char *rcpt, const char *needle)
{
	return desk_count_outbox(store, kind, rcpt, needle, NULL);
}

/* An agent's mail to ticket's signed agent address, Message-ID msgid. */
static char *
agent_raw(int64_t ticket, const char *from, const char *text, const char *msgid)
{
	char *to = thread_reply_address(tc, ticket, THREAD_ROLE_AGENT);
	char *mail = xasprintf("From: %s\nTo: %s\nSubject: Re: ticket\n"
			       "Date: Tue, 11 Mar 2025 11:00:00 +0800\nMessage-ID: <%s>\n"
			       "Content-Type: text/plain; charset=utf-8\n\n%s",
			       from, to, msgid, text);
	free(to);
	return mail;
}

static int64_t
agent_mail(int64_t ticket, const char *from, const char *text)
{
	char msgid[64];
	snprintf(msgid, sizeof(msgid), "m%d.%d@staff.example", ++counter, (int)getpid());
	char *mail = agent_raw(ticket, from, text, msgid);
	int64_t id = ingest_text(mail);
	free(mail);
	return id;
}

static int64_t
customer_ticket(const char *who, const char *subject, const char *text, char *msgid,
		size_t size)
{
	snprintf(msgid, size, "k%d.%d@client.example", ++counter, (int)getpid());
	char *mail = xasprintf("From: Buyer <%s>\nTo: support@example.test\nSubject: %s\n"
			       "Message-ID: <%s>\n\n%s\n", who, subject, msgid, text);
	int64_t id = ingest_text(mail);
	free(mail);
	return id;
}

static struct store_ticket *
ticket(int64_t id)
{
	struct store_ticket *t = NULL;
	const char *error;
	return store_ticket_get(store, id, &t, &error) == 1 ? t : NULL;
}

static int64_t
merged_into(int64_t id)
{
	int64_t into = -1;
	const char *error;
	return store_ticket_merged_into(store, id, &into, &error) == 1 ? into : -1;
}

static size_t
n_messages(int64_t id)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	const char *error;
	if (store_message_list(store, id, &msgs, &n, &error) < 0)
		return (size_t)-1;
	store_messages_free(&msgs, n);
	return n;
}

/* The row of ticket id's last stored message; 0: none. */
static int64_t
last_message_row(int64_t id)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	const char *error;
	if (store_message_list(store, id, &msgs, &n, &error) < 0)
		return 0;
	int64_t row = n > 0 ? msgs[n - 1].id : 0;
	store_messages_free(&msgs, n);
	return row;
}

static int
status_is(int64_t id, const char *status)
{
	struct store_ticket *t = ticket(id);
	int ok = t != NULL && strcmp(t->status, status) == 0;
	store_ticket_free(&t);
	return ok;
}

static void
test_merge(void)
{
	char first_id[64], second_id[64], mid[64];
	const char *error, *role;

	test_begin("#merge: two tickets of one customer, the second folded into the first");
	int64_t a = customer_ticket("buyer@example.org", "deposit missing",
				    "My deposit of 2 ETH has not arrived.", first_id,
				    sizeof(first_id));
	ingest_set_now(ingest, NOW + 60);
	int64_t b = customer_ticket("buyer@example.org", "where is my ETH??",
				    "I wrote before: 2 ETH, tx 0xabc, still nothing.", second_id,
				    sizeof(second_id));
	test_assert(a > 0 && b > 0 && a != b);
	test_assert_int(store_ticket_field_set(store, b, "txid", "0xabc", &error), 0);
	/* a reply held on b (a collision): its message moves to a, so does the
	   hold, which #send-anyway on a releases */
	int64_t held_row = last_message_row(b);
	test_assert(held_row > 0);
	test_assert_int(hold_put(store, b, held_row, HOLD_COLLISION, "test", "bob@staff.example",
				 &error), 0);
	agent_mail(b, "bob@staff.example", "#cc partner@example.net\n");
	size_t before = n_messages(a) + n_messages(b);
	ingest_set_now(ingest, NOW + 120);
	char *sel = xasprintf("#merge %lld\n", (long long)a);
	test_assert_int(agent_mail(b, "Alice Agent <alice@staff.example>", sel), b);
	free(sel);
	test_assert_int(merged_into(b), a);
	test_assert(status_is(b, "closed"));
	struct store_ticket *t = ticket(b);
	test_assert(t != NULL && strcmp(t->category, "duplicate") == 0);
	store_ticket_free(&t);
	test_assert(status_is(a, "new"));
	test_assert_int(n_messages(b), 0);
	test_assert_int(n_messages(a), before + 1); /* and the #merge mail */
	test_assert_int(store_participant_find(store, a, "partner@example.net", &role, &error), 1);
	test_assert_int(store_participant_find(store, b, "buyer@example.org", &role, &error), 1);
	struct store_field *fields = NULL;
	size_t n_fields = 0;
	test_assert_int(store_ticket_field_list(store, a, &fields, &n_fields, &error), 0);
	int has_tx = 0;
	for (size_t i = 0; i < n_fields; i++)
		has_tx |= strcmp(fields[i].name, "txid") == 0 && strcmp(fields[i].value, "0xabc") == 0;
	store_fields_free(&fields, n_fields);
	test_assert(has_tx);
	int64_t held_now = 0;
	enum hold_kind held_kind = HOLD_GUARD;
	test_assert_int(hold_get_kind(store, a, &held_now, &held_kind, &error), 1);
	test_assert(held_now == held_row && held_kind == HOLD_COLLISION);
	char *from_b = xasprintf("merged from #%lld by alice@staff.example", (long long)b);
	test_assert(desk_has_event(store, a, "merged", from_b));
	free(from_b);
	char *copied = xasprintf("[#%lld] #cc partner@example.net", (long long)b);
	test_assert(desk_has_event(store, a, "cc", copied));
	free(copied);
	char *into_a = xasprintf("merged into #%lld", (long long)a);
	test_assert(desk_has_event(store, b, "closed", into_a));
	free(into_a);

	test_begin("#merge: the customer is told once, in the thread, the agents once");
	test_assert_int(count_outbox("notice", "buyer@example.org", "so we have merged it into"), 1);
	char *raw_thread = xasprintf("In-Reply-To: <%s>", second_id);
	test_assert_int(desk_count_outbox(store, "notice", "buyer@example.org", "so we have merged",
					  raw_thread), 1);
	free(raw_thread);
	test_assert_int(desk_count_outbox(store, "notice", "buyer@example.org", NULL,
					  "Content-Type: text/html"), 1);
	test_assert_int(count_outbox("notify", "bob@staff.example", "was merged into ticket"), 1);
	test_assert_int(count_outbox("notify", "carol@staff.example", "was merged into ticket"), 1);
	test_assert_int(count_outbox("notify", "alice@staff.example", "was merged into ticket"), 0);
	test_assert_int(count_outbox("notice", "partner@example.net", NULL), 0);

	test_begin("#merge: the customer's replies to the old ticket land in the new one");
	char *reply_to = thread_reply_address(tc, b, THREAD_ROLE_CUSTOMER);
	char *mail = xasprintf("From: Buyer <buyer@example.org>\nTo: %s\nSubject: Re: where\n"
			       "Message-ID: <r%d@client.example>\n\nAny news?\n", reply_to,
			       ++counter);
	test_assert_int(ingest_text(mail), a);
	free(mail);
	free(reply_to);
	char *tag_subject = thread_subject_add_tag(tc, "more info", b);
	mail = xasprintf("From: Buyer <buyer@example.org>\nTo: support@example.test\n"
			 "Subject: %s\nMessage-ID: <r%d@client.example>\n\nThe tx is 0xabc.\n",
			 tag_subject, ++counter);
	test_assert_int(ingest_text(mail), a);
	free(mail);
	free(tag_subject);
	mail = xasprintf("From: Buyer <buyer@example.org>\nTo: support@example.test\n"
			 "Subject: Re: where is my ETH??\nIn-Reply-To: <%s>\n"
			 "Message-ID: <r%d@client.example>\n\nHello?\n", second_id, ++counter);
	test_assert_int(ingest_text(mail), a);
	free(mail);
	test_assert(status_is(b, "closed"));
	test_assert_int(n_messages(b), 0);

	test_begin("#merge: an agent's reply to the old ticket acts on the new one");
	test_assert_int(agent_mail(b, "bob@staff.example", "#priority high\n"), a);
	t = ticket(a);
	test_assert(t != NULL && strcmp(t->priority, "high") == 0);
	store_ticket_free(&t);
	test_assert_int(agent_mail(b, "bob@staff.example", "We are on it.\n"), a);
	test_assert_int(count_outbox("relay", "buyer@example.org", "We are on it."), 1);

	test_begin("#merge: refused, nothing applied");
	ingest_set_now(ingest, NOW + 600);
	int64_t c = customer_ticket("buyer@example.org", "card", "My card was declined.", mid,
				    sizeof(mid));
	int64_t other = customer_ticket("someone@example.com", "card", "Card declined too.", mid,
					sizeof(mid));
	int64_t closed = customer_ticket("buyer@example.org", "old", "Old question.", mid,
					 sizeof(mid));
	agent_mail(closed, "alice@staff.example", "#close\n");
	test_assert(status_is(closed, "closed"));
	struct {
		int64_t on;
		char *text;
		const char *why;
	} bad[] = {
		{ c, xasprintf("#merge 999999\n"), "there is no ticket #999999" },
		{ c, xasprintf("#merge %lld\n", (long long)c), "is this ticket" },
		{ c, xasprintf("#merge %lld\n", (long long)closed), "is closed" },
		{ c, xasprintf("#merge %lld\n", (long long)other), "another customer's" },
		{ b, xasprintf("#merge %lld\n", (long long)a), "is already merged into" },
		{ b, xasprintf("#merge %lld\n", (long long)c), "is already merged into" },
		{ c, xasprintf("#merge %lld\nSorry for the wait!\n", (long long)a), "without text" },
		{ c, xasprintf("#merge %lld\n#priority low\n", (long long)a), "goes alone" },
		{ c, xasprintf("#merge abc\n"), "takes one ticket number" },
		{ c, xasprintf("#merge 0012\n"), "takes one ticket number" },
		{ c, xasprintf("#merge %lld %lld\n", (long long)a, (long long)b),
		  "takes one ticket number" },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		int errors = count_outbox("error", "carol@staff.example", bad[i].why);
		agent_mail(bad[i].on, "carol@staff.example", bad[i].text);
		test_assert_int(count_outbox("error", "carol@staff.example", bad[i].why),
				errors + 1);
		free(bad[i].text);
	}
	test_assert_int(merged_into(c), 0);
	test_assert_int(merged_into(a), 0);
	test_assert_int(merged_into(closed), 0);
	test_assert(status_is(c, "new"));
	test_assert_int(count_outbox("relay", "buyer@example.org", "Sorry for the wait"), 0);

	test_begin("#merge: a forged sender at the agent address is a stranger");
	mail = xasprintf("#merge %lld\n", (long long)a);
	int64_t forged = agent_mail(c, "Mallory <mallory@evil.example>", mail);
	free(mail);
	test_assert(forged != c && forged != a && forged > 0);
	test_assert_int(merged_into(c), 0);

	test_begin("#merge: a chain is followed to its end");
	int64_t d = customer_ticket("buyer@example.org", "again", "Card again.", mid, sizeof(mid));
	mail = xasprintf("#merge %lld\n", (long long)c);
	agent_mail(d, "alice@staff.example", mail); /* d into c */
	free(mail);
	test_assert_int(merged_into(d), c);
	int64_t e = customer_ticket("buyer@example.org", "and again", "Card declined 3.", mid,
				    sizeof(mid));
	mail = xasprintf("#merge %lld\n", (long long)d);
	agent_mail(e, "alice@staff.example", mail); /* d was merged into c: e goes to c */
	free(mail);
	test_assert_int(merged_into(e), c);
	test_assert_int(count_outbox("notify", "bob@staff.example", "the ticket asked for was merged "
				     "into it"), 1);
}

static void
test_replay(void)
{
	char mid[64];
	const char *error;

	test_begin("#merge: a crash before the commit merges nothing, then once");
	ingest_set_now(ingest, NOW + 7200);
	int64_t a = customer_ticket("replay@example.org", "login", "Cannot log in.", mid,
				    sizeof(mid));
	int64_t b = customer_ticket("replay@example.org", "login!!", "Still cannot log in.", mid,
				    sizeof(mid));
	char *text = xasprintf("#merge %lld\n", (long long)a);
	char *raw = agent_raw(b, "alice@staff.example", text, "replay1@staff.example");
	free(text);
	test_assert_int(ingest_batch_begin(ingest, &error), 0);
	test_assert_int(ingest_text(raw), b);
	ingest_batch_rollback(ingest);
	test_assert_int(merged_into(b), 0);
	test_assert_int(count_outbox("notice", "replay@example.org", "merged it into"), 0);
	test_assert_int(ingest_text(raw), b);
	test_assert_int(merged_into(b), a);
	/* the same mail again is a duplicate: it is where it lives now */
	test_assert_int(ingest_text(raw), a);
	test_assert_int(count_outbox("notice", "replay@example.org", "merged it into"), 1);
	test_assert_int(count_outbox("notify", "bob@staff.example", "(\"login!!\") was merged"), 1);
	free(raw);

	test_begin("store: the merge entry refuses bad arguments and a second merge");
	test_assert_int(store_ticket_merge(store, b, a, NOW, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_merge(store, a, a, NOW, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_merge(store, a, 999999, NOW, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_merge(store, 999999, a, NOW, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_merge(store, a, b, NOW, &error), STORE_DATA_BAD);
	test_assert_int(merged_into(a), 0);
	int64_t end = 0;
	test_assert_int(store_ticket_merged_end(store, b, &end, &error), 1);
	test_assert_int(end, a);
	test_assert_int(store_ticket_merged_end(store, 999999, &end, &error), 0);
}

static void
test_language(void)
{
	char mid[64];
	test_begin("#merge: the customer is told in their language");
	ingest_set_now(ingest, NOW + 90000);
	int64_t a = customer_ticket("zhang@example.cn", "充值未到账",
				    "您好，我昨天充值的 500 USDT 一直没有到账，请帮忙查一下。", mid,
				    sizeof(mid));
	int64_t b = customer_ticket("zhang@example.cn", "还是没到账",
				    "你好，我的 USDT 充值到现在还没有到账，交易哈希 0x5f3e。", mid,
				    sizeof(mid));
	char *text = xasprintf("#merge %lld\n", (long long)a);
	agent_mail(b, "alice@staff.example", text);
	free(text);
	test_assert_int(merged_into(b), a);
	test_assert_int(count_outbox("notice", "zhang@example.cn", "因此我们已将其合并到"), 1);
	test_assert_int(count_outbox("notice", "zhang@example.cn", "so we have merged"), 0);
}

int
main(void)
{
	desk_datadir();
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if (setup() < 0)
		return 1;
	test_merge();
	test_replay();
	test_language();
	teardown();
	desk_rm_tree(tmpdir);
	return test_exit();
}
