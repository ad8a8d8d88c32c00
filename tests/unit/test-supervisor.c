/*
 * test-supervisor: the one fallback chain of supervisors (supervisor.h)
 * over real configuration files: a ticket's queue's supervisors, else its
 * SLA policy's, else the agents with supervisor = yes, else nobody; the
 * desk's: [alerts] supervisors, else the flagged agents, else every agent;
 * items as agent names, display names or addresses, each person once;
 * the right to release a held reply by flag or by name, never by the
 * every-agent fallback nor to a non-agent.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/config.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "tests/unit/test.h"
#include "tests/unit/desk-test.h"

struct desk {
	char dir[64];
	struct config *config;
	struct supervisor *sv;
};

/* The people an answer passed on, "a, b" (agents by their label). */
struct heard {
	char text[1024];
};

static void
hear(void *context, const char *address, const struct config_agent *agent)
{
	struct heard *h = context;
	size_t len = strlen(h->text);
	(void)snprintf(h->text + len, sizeof(h->text) - len, "%s%s", len > 0 ? ", " : "",
		       agent != NULL ? agent->label : address);
}

static int
desk_up(struct desk *d, const char *sections)
{
	const char *error;
	snprintf(d->dir, sizeof(d->dir), "/tmp/dg-test-supervisor.XXXXXX");
	if (mkdtemp(d->dir) == NULL)
		return -1;
	char *path = desk_write_config(d->dir, sections);
	int ret = config_load(path, &d->config, &error);
	free(path);
	if (ret < 0 || supervisor_new(d->config, &d->sv, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	return 0;
}

static void
desk_down(struct desk *d)
{
	supervisor_free(&d->sv);
	config_free(&d->config);
	desk_rm_tree(d->dir);
}

/* The ticket chain's answer as "source: people". */
static const char *
ticket(struct desk *d, const char *queue, const char *policy, char *buf, size_t size)
{
	struct heard h = { "" };
	enum supervisor_source s = supervisor_ticket(d->sv, queue, policy, hear, &h);
	(void)snprintf(buf, size, "%s: %s", supervisor_source_name(s), h.text);
	return buf;
}

static const char *
desk(struct desk *d, char *buf, size_t size)
{
	struct heard h = { "" };
	enum supervisor_source s = supervisor_desk(d->sv, hear, &h);
	(void)snprintf(buf, size, "%s: %s", supervisor_source_name(s), h.text);
	return buf;
}

#define AGENTS                                                                               \
	"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\n"                 \
	"[agent bob]\naddress = bob@staff.example\n"                                         \
	"[agent carol]\naddress = Carol@Staff.example\nsupervisor = yes\n"                   \
	"[agent dave]\naddress = dave@staff.example\nsupervisor = yes\n"

static void
test_ticket_chain(void)
{
	struct desk d;
	char buf[1100];
	test_begin("a ticket: queue, then SLA policy, then flagged agents, then nobody");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n" AGENTS
		    "[queue kyc]\ncategories = registration\n"
		    "supervisors = bob, sue@boss.example, BOB@staff.example\n"
		    "[queue payments]\ncategories = delayed_payment\n"
		    "[sla vip]\npriorities = urgent\nfirst_response = 1h\n"
		    "supervisors = Alice Agent, vip-lead@boss.example\n"
		    "[sla default]\nfirst_response = 2h\n") < 0)
		return;
	/* the queue's own, by agent name and address, once each; the queue
	   name without case */
	test_assert_str(ticket(&d, "KYC", "vip", buf, sizeof(buf)), "queue: bob, sue@boss.example");
	/* the queue names none: the policy's (by display name) */
	test_assert_str(ticket(&d, "payments", "VIP", buf, sizeof(buf)),
			"sla: alice, vip-lead@boss.example");
	/* neither names anybody: the agents with supervisor = yes */
	test_assert_str(ticket(&d, "payments", "default", buf, sizeof(buf)),
			"flagged: carol, dave");
	test_assert_str(ticket(&d, NULL, NULL, buf, sizeof(buf)), "flagged: carol, dave");
	test_assert_str(ticket(&d, "no-such-queue", "no-such-policy", buf, sizeof(buf)),
			"flagged: carol, dave");
	/* no callback: the source alone */
	test_assert_int(supervisor_ticket(d.sv, "kyc", NULL, NULL, NULL), SUPERVISOR_QUEUE);

	/* release: flagged agents on every ticket; named agents on theirs */
	test_assert_int(supervisor_may_release(d.sv, "carol@staff.example", "payments", NULL), 1);
	test_assert_int(supervisor_may_release(d.sv, "bob@staff.example", "kyc", NULL), 1);
	test_assert_int(supervisor_may_release(d.sv, "BOB@STAFF.EXAMPLE", "Kyc", NULL), 1);
	test_assert_int(supervisor_may_release(d.sv, "bob@staff.example", "payments", NULL), 0);
	test_assert_int(supervisor_may_release(d.sv, "alice@staff.example", "payments", "vip"), 1);
	test_assert_int(supervisor_may_release(d.sv, "alice@staff.example", "payments", "default"),
			0);
	/* an address on the list that is no agent, an agent's label or
	   display name in place of the address: no authority */
	test_assert_int(supervisor_may_release(d.sv, "sue@boss.example", "kyc", NULL), 0);
	test_assert_int(supervisor_may_release(d.sv, "bob", "kyc", NULL), 0);
	test_assert_int(supervisor_may_release(d.sv, "Alice Agent", NULL, "vip"), 0);
	test_assert_int(supervisor_may_release(d.sv, NULL, "kyc", NULL), 0);
	test_assert_int(supervisor_may_release(d.sv, "", "kyc", NULL), 0);
	desk_down(&d);

	test_begin("a ticket: no supervisor anywhere: nobody (the caller's last resort)");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
		    "[agent alice]\naddress = alice@staff.example\n"
		    "[queue kyc]\ncategories = registration\n") < 0)
		return;
	test_assert_str(ticket(&d, "kyc", NULL, buf, sizeof(buf)), "nobody: ");
	/* nor does the every-agent fallback give authority */
	test_assert_int(supervisor_may_release(d.sv, "alice@staff.example", "kyc", NULL), 0);
	desk_down(&d);
}

static void
test_desk_chain(void)
{
	struct desk d;
	char buf[1100];
	test_begin("the desk: [alerts] supervisors, then flagged agents, then every agent");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n" AGENTS
		    "[alerts]\nsupervisors = bob, ops@example.test, nobody-known, bob\n") < 0)
		return;
	/* "nobody-known" is neither: skipped (and logged) */
	test_assert_str(desk(&d, buf, sizeof(buf)), "alerts: bob, ops@example.test");
	desk_down(&d);

	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n" AGENTS) <
	    0)
		return;
	test_assert_str(desk(&d, buf, sizeof(buf)), "flagged: carol, dave");
	desk_down(&d);

	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
		    "[agent alice]\naddress = alice@staff.example\n"
		    "[agent bob]\naddress = bob@staff.example\n") < 0)
		return;
	test_assert_str(desk(&d, buf, sizeof(buf)), "everyone: alice, bob");
	desk_down(&d);

	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n") < 0)
		return;
	test_assert_str(desk(&d, buf, sizeof(buf)), "nobody: ");
	desk_down(&d);
}

int
main(void)
{
	test_ticket_chain();
	test_desk_chain();
	test_assert_str(supervisor_source_name((enum supervisor_source)99), "nobody");
	return test_exit();
}
