/*
 * test-escalate: the SLA step and the escalation ladder on a real SQLite
 * store, through the real ingest pipeline, deskmail and scheduler, with
 * times given to them (no sleeping): one warning to the queue's agent at
 * 75%, one breach notice to the supervisor, nothing twice at later ticks,
 * one repeat per interval (a tick after a long outage sends one), an
 * agent's answer stops the ladder, a pending ticket is silent, and a
 * warning that falls in the recipient's night waits for their morning.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/escalate.h"
#include "gateway/ingest.h"
#include "gateway/metrics.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

/* Tuesday 2025-03-11 10:00 in Berlin (09:00 UTC). */
#define NOW 1741683600
#define MIN 60
#define HOUR 3600

static char tmpdir[] = "/tmp/dg-test-escalate.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static struct deskmail *dm;
static struct escalate *esc;
static struct schedule *sched;
static char *clock_file;

/* The test clock (base/clock.h, compiled in with DG_TEST_CLOCK): the
   store's stamps, ingest and the scheduler all read it. */
static int64_t
customer_mail(const char *subject, int64_t now)
{
	return desk_customer_mail(ingest, clock_file, 'e', subject, now);
}

static int
tick(int64_t now)
{
	return desk_tick(sched, clock_file, now);
}

/* Escalation mail about ticket id queued to rcpt (NULL: anyone), and the
   newest one's raw bytes in *raw_r (caller frees) when raw_r is given. */
static size_t
escalations(int64_t id, const char *rcpt, char **raw_r)
{
	struct store_outbox *rows = NULL;
	size_t n = 0, found = 0;
	const char *error;
	if (raw_r != NULL)
		*raw_r = NULL;
	if (store_outbox_list(store, NULL, 0, &rows, &n, &error) < 0) {
		printf("outbox list: %s\n", error);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].ticket_id != id || strcmp(rows[i].kind, "escalation") != 0)
			continue;
		if (rcpt != NULL && strcasestr(rows[i].recipients, rcpt) == NULL)
			continue;
		if (found++ == 0 && raw_r != NULL) {
			struct store_outbox *full = NULL;
			if (store_outbox_get(store, rows[i].id, &full, &error) > 0) {
				*raw_r = xstrndup((const char *)full->raw, full->raw_size);
				store_outbox_free(&full);
			}
		}
	}
	store_outboxes_free(&rows, n);
	return found;
}

static void
test_ladder(void)
{
	test_begin("ladder: one warning to the queue's agent, one breach to the supervisor");
	metrics_enable(); /* the notices are counted from here */
	int64_t id = customer_mail("Deposit missing", NOW);
	test_assert(id > 0);
	struct store_sla *row = NULL;
	const char *error;
	test_assert_int(store_sla_get(store, id, &row, &error), 1);
	/* 2h business first response from 10:00: due 12:00, warned 11:30 */
	test_assert(row != NULL && row->due[STORE_SLA_FIRST_RESPONSE] == NOW + 2 * HOUR &&
		    row->warn[STORE_SLA_FIRST_RESPONSE] == NOW + 90 * MIN);
	store_sla_free(&row);
	/* The acknowledgement promised the same instant (the SLA's 2 hours,
	   not [hours]' 24 for a normal ticket), and the ticket keeps it. */
	struct store_ticket *t = NULL;
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	test_assert(t != NULL && t->due_at == NOW + 2 * HOUR);
	store_ticket_free(&t);
	struct store_message *msgs = NULL;
	size_t n_msgs = 0;
	int promised = 0;
	test_assert_int(store_message_list(store, id, &msgs, &n_msgs, &error), 0);
	for (size_t i = 0; i < n_msgs; i++)
		if (strcmp(msgs[i].direction, "out") == 0 && msgs[i].text != NULL &&
		    strstr(msgs[i].text, "by Tuesday, 11 March 2025, 12:00 (UTC+01:00)") != NULL)
			promised = 1;
	store_messages_free(&msgs, n_msgs);
	test_assert(promised);

	test_assert_int(tick(NOW + HOUR), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 0);
	test_assert_int(tick(NOW + 91 * MIN), 0);
	char *raw = NULL;
	test_assert_int((int)escalations(id, "alice@staff.example", &raw), 1);
	test_assert_int((int)escalations(id, NULL, NULL), 1);
	test_assert(raw != NULL && strstr(raw, "Subject: [Support #") != NULL &&
		    strstr(raw, "SLA warning: first response due in 29m") != NULL);
	test_assert(raw != NULL && strstr(raw, "In-Reply-To: <e") != NULL);
	test_assert(raw != NULL && strstr(raw, "Auto-Submitted: auto-generated") != NULL);
	test_assert(raw != NULL && strstr(raw, "#assign NAME") != NULL &&
		    strstr(raw, "text/html") != NULL);
	/* the commands to act, #pending among them again (issue 13) */
	test_assert(raw != NULL && strstr(raw, "#pending ") != NULL);
	free(raw);
	/* the same instant again, and later before the breach: nothing more */
	test_assert_int(tick(NOW + 91 * MIN), 0);
	test_assert_int(tick(NOW + 119 * MIN), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 1);
	/* the handler running again in the same level (another target's
	   timer, a recipient's morning): the recorded key keeps it at one */
	struct store_timer tm = { .kind = SLA_TIMER, .ticket_id = id, .subject = "" };
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(escalate_timer(esc, store, &tm, NOW + 100 * MIN, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 1);

	test_assert_int(tick(NOW + 2 * HOUR + MIN), 0);
	test_assert_int((int)escalations(id, "sue@boss.example", &raw), 1);
	test_assert(raw != NULL && strstr(raw, "SLA breached: first response late by 1m") != NULL);
	free(raw);
	test_assert_int((int)escalations(id, NULL, NULL), 2);
	test_assert(desk_has_event(store, id, "escalation", "breach: first_response"));

	/* the SLA metrics: one breached ticket in queue general, the notices
	   counted by level */
	test_assert_int(escalate_update_metrics(esc, NOW + 2 * HOUR + MIN, &error), 0);
	size_t mlen = 0;
	char *mtext = metrics_render(1 << 20, &mlen, &error);
	test_assert(mtext != NULL &&
		    strstr(mtext, "deskgate_sla_breached_tickets{queue=\"general\"} 1\n") != NULL &&
		    strstr(mtext, "deskgate_sla_at_risk_tickets{queue=\"general\"} 0\n") != NULL);
	test_assert(mtext != NULL &&
		    strstr(mtext, "deskgate_sla_notices_total{level=\"warning\"} 1\n") != NULL &&
		    strstr(mtext, "deskgate_sla_notices_total{level=\"breach\"} 1\n") != NULL);
	free(mtext);
	metrics_disable();

	/* repeat = 1h: a tick 5h later (a daemon that was down) sends one */
	test_assert_int(tick(NOW + 7 * HOUR), 0);
	test_assert_int(tick(NOW + 7 * HOUR + 10), 0);
	test_assert_int((int)escalations(id, "sue@boss.example", &raw), 2);
	test_assert(raw != NULL && strstr(raw, "is still late") != NULL);
	free(raw);
	int64_t n = 0;
	test_assert_int(store_timer_count(store, SLA_TIMER, &n, &error), 0);
	test_assert(n >= 1);
}

static void
test_answer_stops(void)
{
	test_begin("an agent's answer stops the ladder; a pending ticket is silent");
	int64_t id = customer_mail("Withdrawal stuck", NOW);
	const char *error;
	test_assert(id > 0);
	struct sla_happening answer = { .agent_answer = NOW + HOUR, .why = "test answer" };
	const struct sla *sla = NULL;
	struct sla *own = NULL;
	test_assert_int(sla_new(config, &own, &error), 0);
	sla = own;
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(sla_sync_store(sla, store, id, &answer, NOW + HOUR, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(tick(NOW + 3 * HOUR), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 0);
	test_assert(desk_has_event(store, id, "sla-met", NULL));

	int64_t id2 = customer_mail("Account frozen", NOW);
	test_assert_int(store_ticket_set(store, id2, "status", "pending", &error), 0);
	struct sla_happening none = { .why = "#pending" };
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(sla_sync_store(sla, store, id2, &none, NOW + 10 * MIN, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(tick(NOW + 5 * HOUR), 0);
	test_assert_int((int)escalations(id2, NULL, NULL), 0);
	sla_free(&own);
}

static void
test_quiet_hours(void)
{
	test_begin("quiet hours: notices in the recipient's night wait for their morning");
	/* Urgent tickets: policy "vip" counts on Shanghai hours; the agents
	   work Berlin hours. Opened Tue 09:00 Shanghai (02:00 Berlin), first
	   response 1h: warned 09:45 and due 10:00 Shanghai (02:45 and 03:00
	   Berlin); the desk opens at 09:00 Berlin. */
	int64_t t0 = NOW - 8 * HOUR;
	int64_t id = customer_mail("Urgent: withdrawal", t0);
	test_assert(id > 0);
	const char *error;
	struct sla *sla = NULL;
	struct sla_happening why = { .why = "#priority" };
	test_assert_int(sla_new(config, &sla, &error), 0);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_set(store, id, "priority", "urgent", &error), 0);
	test_assert_int(store_ticket_set(store, id, "assignee", "bob@staff.example", &error), 0);
	test_assert_int(sla_sync_store(sla, store, id, &why, t0, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	sla_free(&sla);
	struct store_sla *row = NULL;
	test_assert_int(store_sla_get(store, id, &row, &error), 1);
	test_assert(row != NULL && strcmp(row->policy, "vip") == 0 &&
		    row->due[STORE_SLA_FIRST_RESPONSE] == t0 + HOUR);
	store_sla_free(&row);

	test_assert_int(tick(t0 + 46 * MIN), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 0);
	test_assert_int(tick(t0 + 2 * HOUR), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 0);
	test_assert_int(tick(NOW - HOUR - MIN), 0); /* 08:59 Berlin */
	test_assert_int((int)escalations(id, NULL, NULL), 0);
	/* 09:00 Berlin: the breach goes, to the supervisor; the warning is
	   moot by then and never sent */
	test_assert_int(tick(NOW - HOUR + 1), 0);
	test_assert_int((int)escalations(id, "bob@staff.example", NULL), 0);
	test_assert_int((int)escalations(id, "sue@boss.example", NULL), 1);
	test_assert_int(tick(NOW + 5 * HOUR), 0);
	test_assert_int((int)escalations(id, NULL, NULL), 1);
}

static int
setup(void)
{
	const char *error;
	if (desk_clock_init(tmpdir, NOW, &clock_file) < 0)
		return -1;
	char *sections = xasprintf(
		"hostname = desk.example.test\nsupport_address = support@example.test\n"
		"support_name = Example Support\n"
		"[hours]\ntimezone = Europe/Berlin\nweek = mon-fri 09:00-18:00\n"
		"[hours shanghai]\ntimezone = Asia/Shanghai\nweek = mon-fri 09:00-18:00\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = general\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\n"
		"language = en\n"
		"[queue general]\ncategories = other, delayed_payment, account_security, failed_trade, "
		"registration, complaint\nagents = alice\n"
		"supervisors = sue@boss.example\n"
		"[sla vip]\npriorities = urgent\ncalendar = shanghai\nfirst_response = 1h\n"
		"repeat = 0\n"
		"[sla default]\nfirst_response = 2h\nwarn_at = 75\nrepeat = 1h\n");
	int ret = desk_open(tmpdir, sections, &config, &store);
	free(sections);
	if (ret < 0)
		return -1;
	if (desk_ingest_open(config, store, 0, &ingest, &tc, &dm) < 0)
		return -1;
	if (escalate_new(config, store, dm, &esc, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	sched = schedule_new(store);
	escalate_register(esc, sched);
	return 0;
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_ladder();
	test_answer_stops();
	test_quiet_hours();
	schedule_free(&sched);
	escalate_free(&esc);
	desk_close(&dm, &tc, &ingest, &store, &config);
	desk_rm_tree(tmpdir);
	free(clock_file);
	return test_exit();
}
