/*
 * test-collide: two agents answering one ticket (collide.h), and the
 * customer's Cc list by mail (cclist.h), through the whole ingest pipeline
 * against a real SQLite store: a second agent's answer within
 * [agent] collision_minutes is held and its author asked to confirm with
 * the first answer quoted; the same agent twice is no collision; an answer
 * to a ticket assigned to someone else is held; #send-anyway releases it
 * once (by the author, not by another agent; a second one does nothing; a
 * crash before the commit keeps the hold and sends nothing); #cc and #uncc
 * with bad input (an agent's address, the support address, the customer,
 * a malformed address, an address not on the list), forged senders and an
 * unknown ticket.
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
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-collide.XXXXXX";
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
		"[agent]\ncollision_minutes = 10\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\n"
		"[agent carol]\naddress = carol@staff.example\nsupervisor = yes\n"
		"[agent dave]\naddress = dave@staff.example\n";
	if (desk_open(tmpdir, sections, &config, &store) < 0)
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
count_outbox(const char *kind, const char *rcpt, const char *needle, const char *raw_needle)
{
	return desk_count_outbox(store, kind, rcpt, needle, raw_needle);
}

/* An agent's mail to the ticket's signed agent address; the ticket it
   went to. */
static int64_t
agent_mail(int64_t ticket, const char *from, const char *text)
{
	char *to = thread_reply_address(tc, ticket, THREAD_ROLE_AGENT);
	char *mail = xasprintf("From: %s\nTo: %s\nSubject: Re: ticket\n"
			       "Date: Tue, 11 Mar 2025 11:00:00 +0800\nMessage-ID: <c%d.%d@staff.example>\n"
			       "Content-Type: text/plain; charset=utf-8\n\n%s",
			       from, to, ++counter, (int)getpid(), text);
	int64_t id = ingest_text(mail);
	free(mail);
	free(to);
	return id;
}

static int64_t
customer_ticket(const char *who)
{
	char *mail = xasprintf("From: Buyer <%s>\nTo: support@example.test\n"
			       "Subject: deposit missing\nMessage-ID: <k%d.%d@client.example>\n\n"
			       "My deposit of 2 ETH has not arrived.\n",
			       who, ++counter, (int)getpid());
	int64_t id = ingest_text(mail);
	free(mail);
	return id;
}

static int
held_kind(int64_t id)
{
	int64_t row;
	enum hold_kind kind;
	const char *error;
	int ret = hold_get_kind(store, id, &row, &kind, &error);
	return ret <= 0 ? -1 : (int)kind;
}

static void
test_collision(void)
{
	test_begin("collision: a second agent's answer within the window is held");
	int64_t id = customer_ticket("buyer@example.org");
	test_assert(id > 0);
	test_assert_int(agent_mail(id, "Alice Agent <alice@staff.example>",
				   "The deposit needs 64 confirmations; it is at 40 now.\n"), id);
	test_assert_int(count_outbox("relay", "buyer@example.org", "64 confirmations", NULL), 1);
	ingest_set_now(ingest, NOW + 180);
	agent_mail(id, "Bob Agent <bob@staff.example>", "We credited your deposit manually.\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "credited your deposit", NULL),
			0);
	test_assert_int(count_outbox("error", "bob@staff.example", "HELD and NOT sent", NULL), 1);
	test_assert_int(count_outbox("error", "bob@staff.example",
				     "alice@staff.example answered 3 minutes ago", NULL), 1);
	test_assert_int(count_outbox("error", "bob@staff.example",
				     "> The deposit needs 64 confirmations", NULL), 1);
	test_assert_int(count_outbox("error", "bob@staff.example", "#send-anyway", NULL), 1);
	test_assert_int(count_outbox("error", "alice@staff.example", NULL, NULL), 0);
	test_assert_int(held_kind(id), HOLD_COLLISION);
	test_assert(desk_has_event(store, id, "held", "collision"));

	test_begin("the agents' help lists the commands");
	test_assert(count_outbox("notify", "alice@staff.example", "#cc ADDRESS / #uncc ADDRESS",
				 NULL) >= 1);
	test_assert(count_outbox("notify", "alice@staff.example", "#send-anyway in a reply to "
				 "that mail", NULL) >= 1);

	test_begin("collision: #send-anyway by another agent is refused");
	agent_mail(id, "dave@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("error", "dave@staff.example", "only the author", NULL), 1);
	test_assert_int(count_outbox("relay", "buyer@example.org", "credited your deposit", NULL),
			0);
	test_assert_int(held_kind(id), HOLD_COLLISION);

	test_begin("collision: a crash before the commit keeps the hold, sends nothing");
	const char *error;
	test_assert_int(ingest_batch_begin(ingest, &error), 0);
	agent_mail(id, "bob@staff.example", "#send-anyway\n\n> Your answer to ticket\n");
	ingest_batch_rollback(ingest);
	test_assert_int(count_outbox("relay", "buyer@example.org", "credited your deposit", NULL),
			0);
	test_assert_int(held_kind(id), HOLD_COLLISION);

	test_begin("collision: #send-anyway by the author sends it once");
	agent_mail(id, "bob@staff.example", "#send-anyway\n\n> Your answer to ticket\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "credited your deposit", NULL),
			1);
	test_assert_int(count_outbox("relay", "buyer@example.org", "send-anyway", NULL), 0);
	test_assert_int(held_kind(id), -1);
	test_assert(desk_has_event(store, id, "released", "released by bob@staff.example"));
	agent_mail(id, "bob@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "credited your deposit", NULL),
			1);
	test_assert_int(count_outbox("error", "bob@staff.example", "no reply is held", NULL), 1);

	test_begin("collision: the same agent answering twice is none");
	ingest_set_now(ingest, NOW + 240);
	agent_mail(id, "alice@staff.example", "It has 50 confirmations now.\n");
	agent_mail(id, "alice@staff.example", "And now 64: done.\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "50 confirmations", NULL), 1);
	test_assert_int(count_outbox("relay", "buyer@example.org", "now 64: done", NULL), 1);

	test_begin("collision: a note and commands never collide");
	agent_mail(id, "bob@staff.example", "#note checked the node, all fine\n");
	agent_mail(id, "bob@staff.example", "#priority high\n");
	test_assert_int(held_kind(id), -1);
	struct store_ticket *t = NULL;
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	test_assert(t != NULL && strcmp(t->priority, "high") == 0);
	test_assert(t != NULL && t->assignee != NULL &&
		    strcmp(t->assignee, "alice@staff.example") == 0);
	store_ticket_free(&t);

	test_begin("collision: someone else's ticket, long after the last answer");
	ingest_set_now(ingest, NOW + 86400);
	agent_mail(id, "bob@staff.example", "Anything else I can do?\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "Anything else", NULL), 0);
	test_assert_int(count_outbox("error", "bob@staff.example",
				     "the ticket is assigned to alice@staff.example", NULL), 1);
	test_assert_int(count_outbox("error", "bob@staff.example", "> And now 64: done.", NULL), 1);
	test_assert_int(held_kind(id), HOLD_COLLISION);

	test_begin("collision: a supervisor releases it too");
	agent_mail(id, "carol@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "Anything else", NULL), 1);
	test_assert_int(held_kind(id), -1);

	test_begin("collision: the assignee answers freely");
	agent_mail(id, "alice@staff.example", "Closing this now.\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "Closing this now", NULL), 1);
}

static void
test_handover(void)
{
	test_begin("collision: the new assignee answers right after a handover");
	ingest_set_now(ingest, NOW + 100000);
	int64_t id = customer_ticket("second@example.org");
	test_assert(id > 0);
	agent_mail(id, "alice@staff.example", "We are looking into it.\n");
	ingest_set_now(ingest, NOW + 100060);
	agent_mail(id, "alice@staff.example", "#assign bob\n#note Bob knows this chain\n");
	ingest_set_now(ingest, NOW + 100120);
	agent_mail(id, "bob@staff.example", "Found it: the chain was congested.\n");
	test_assert_int(count_outbox("relay", "second@example.org", "chain was congested", NULL),
			1);
	test_assert_int(held_kind(id), -1);

	test_begin("collision: the former assignee is now the second agent");
	agent_mail(id, "alice@staff.example", "Anything else?\n");
	test_assert_int(count_outbox("relay", "second@example.org", "Anything else?", NULL), 0);
	test_assert_int(held_kind(id), HOLD_COLLISION);
}

static void
test_cc(void)
{
	test_begin("#cc: an address is copied on the next answer");
	ingest_set_now(ingest, NOW + 200000);
	int64_t id = customer_ticket("owner@example.org");
	test_assert(id > 0);
	agent_mail(id, "alice@staff.example", "#cc <Partner@Example.NET>\n");
	const char *role = NULL, *error;
	test_assert_int(store_participant_find(store, id, "partner@example.net", &role, &error), 1);
	test_assert(role != NULL && strcmp(role, "cc") == 0);
	test_assert(desk_has_event(store, id, "cc", "#cc partner@example.net by alice@staff.example"));
	test_assert_int(count_outbox("relay", "owner@example.org", NULL, NULL), 0); /* commands only */
	agent_mail(id, "alice@staff.example", "We have asked your partner to confirm.\n");
	test_assert_int(count_outbox("relay", "partner@example.net", "asked your partner", NULL), 1);
	test_assert_int(count_outbox("relay", "owner@example.org", "asked your partner",
				     "Cc: partner@example.net"), 1);

	test_begin("#cc: bad input is refused, nothing applied");
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "#cc bob@staff.example", "an agent's address" },
		{ "#cc support@example.test", "the support address" },
		{ "#cc support+sales@example.test", "the support address" },
		{ "#cc owner@example.org", "that is the customer" },
		{ "#cc not-an-address", "takes one address" },
		{ "#cc a@b", "takes one address" },
		{ "#cc", "takes one address" },
		{ "#uncc nobody@example.net", "not on the ticket's Cc list" },
		{ "#uncc owner@example.org", "not on the ticket's Cc list" },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		char *text = xasprintf("%s\nPlease see below.\n", bad[i].line);
		agent_mail(id, "alice@staff.example", text);
		free(text);
		test_assert_int(count_outbox("error", "alice@staff.example", bad[i].why, NULL) >= 1, 1);
		test_assert_int(count_outbox("relay", "owner@example.org", "Please see below", NULL),
				0);
	}
	test_assert_int(store_participant_find(store, id, "bob@staff.example", &role, &error), 0);
	test_assert_int(store_participant_find(store, id, "support@example.test", &role, &error), 0);

	test_begin("#uncc: removed, the next answer goes without it");
	agent_mail(id, "alice@staff.example", "#uncc partner@example.net\n#cc lawyer@example.net\n");
	test_assert_int(store_participant_find(store, id, "partner@example.net", &role, &error), 0);
	test_assert(desk_has_event(store, id, "uncc", "#uncc partner@example.net"));
	agent_mail(id, "alice@staff.example", "Your partner confirmed.\n");
	test_assert_int(count_outbox("relay", "partner@example.net", "partner confirmed", NULL), 0);
	test_assert_int(count_outbox("relay", "lawyer@example.net", "partner confirmed", NULL), 1);

	test_begin("#cc: a forged sender at the agent address is a stranger");
	int64_t other = agent_mail(id, "Mallory <mallory@evil.example>",
				   "#cc thief@evil.example\nSend me the keys.\n");
	test_assert(other != id);
	test_assert_int(store_participant_find(store, id, "thief@evil.example", &role, &error), 0);
	test_assert_int(count_outbox("relay", "owner@example.org", "Send me the keys", NULL), 0);

	test_begin("#cc: a customer's #cc line is text, never a command");
	char *reply_to = thread_reply_address(tc, id, THREAD_ROLE_CUSTOMER);
	char *mail = xasprintf("From: Buyer <owner@example.org>\nTo: %s\nSubject: Re: deposit\n"
			       "Message-ID: <cc%d@client.example>\n\n#cc friend@example.net\nthanks\n",
			       reply_to, ++counter);
	test_assert_int(ingest_text(mail), id);
	free(mail);
	free(reply_to);
	test_assert_int(store_participant_find(store, id, "friend@example.net", &role, &error), 0);

	test_begin("#cc: an unknown ticket");
	int64_t unknown = agent_mail(999999, "alice@staff.example", "#cc x@example.net\nHi\n");
	test_assert(unknown != 999999 && unknown > 0);
	test_assert(desk_has_event(store, unknown, "security", "does not exist"));
	test_assert_int(store_participant_find(store, unknown, "x@example.net", &role, &error), 0);
}

/* Issue 15 item 3 (w-merge): an answer released with #send-anyway is an
   answer: the other agents get the "Answered:" notice with it, and an
   unassigned ticket is assigned to its author, as for a relayed answer. */
static void
test_release_notice(void)
{
	test_begin("#send-anyway: the released answer is announced to the others");
	ingest_set_now(ingest, NOW + 300000);
	int64_t id = customer_ticket("released@example.org");
	test_assert(id > 0);
	agent_mail(id, "alice@staff.example", "Your deposit is at 12 confirmations.\n");
	ingest_set_now(ingest, NOW + 300060);
	agent_mail(id, "bob@staff.example", "Bob here: it is credited since noon.\n");
	test_assert_int(held_kind(id), HOLD_COLLISION);
	test_assert_int(count_outbox("notice", "alice@staff.example", "credited since noon", NULL),
			0);
	agent_mail(id, "bob@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("relay", "released@example.org", "credited since noon", NULL),
			1);
	test_assert_int(count_outbox("notice", "alice@staff.example", "credited since noon", NULL),
			1);
	test_assert_int(count_outbox("notice", "alice@staff.example", "answered by Bob Agent "
				     "<bob@staff.example>\non ", NULL) >= 1, 1);
	test_assert_int(count_outbox("notice", "bob@staff.example", "credited since noon", NULL),
			0);

	test_begin("#send-anyway: a released guard hold assigns its author, opens the ticket");
	int64_t id2 = customer_ticket("guarded@example.org");
	test_assert(id2 > 0);
	agent_mail(id2, "Bob Agent <bob@staff.example>",
		   "To check the wallet please send us your 12-word recovery phrase.\n");
	test_assert_int(held_kind(id2), HOLD_GUARD);
	agent_mail(id2, "carol@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("relay", "guarded@example.org", "12-word", NULL), 1);
	struct store_ticket *t = NULL;
	const char *error;
	test_assert_int(store_ticket_get(store, id2, &t, &error), 1);
	test_assert(t != NULL && t->assignee != NULL &&
		    strcmp(t->assignee, "bob@staff.example") == 0);
	test_assert(t != NULL && strcmp(t->status, "open") == 0);
	store_ticket_free(&t);
	test_assert(desk_has_event(store, id2, "agent", "assigned to bob@staff.example"));
	test_assert_int(count_outbox("notice", "alice@staff.example", "12-word", NULL), 1);
	test_assert_int(count_outbox("notice", "dave@staff.example", "12-word", NULL), 1);
	test_assert_int(count_outbox("notice", "bob@staff.example", "12-word", NULL), 0);
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
	test_collision();
	test_handover();
	test_cc();
	test_release_notice();
	teardown();
	desk_rm_tree(tmpdir);
	return test_exit();
}
