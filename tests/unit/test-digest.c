/*
 * test-digest: the daily digests on a real SQLite store, through the real
 * ingest pipeline, deskmail and scheduler, with the test clock (no
 * sleeping): the agent's digest lists their late, own and unassigned
 * tickets and nobody else's; the supervisor's queue digest has the
 * backlog, the breached, the oldest unanswered; nothing is sent when there
 * is nothing; each digest goes once per local day, across a restart (a new
 * struct digest armed again) and after days of downtime (one late
 * digest), and once on the days the clocks change.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/digest.h"
#include "gateway/escalate.h"
#include "gateway/ingest.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

/* Tuesday 2025-03-11 10:00 in Berlin (09:00 UTC). */
#define NOW 1741683600
#define MIN 60
#define HOUR 3600
#define DAY 86400
/* Wednesday 2025-03-12 08:00 in Berlin (07:00 UTC). */
#define WED_0800 (NOW + DAY - 2 * HOUR)

static char tmpdir[] = "/tmp/dg-test-digest.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static struct deskmail *dm;
static struct escalate *esc;
static struct digest *digest;
static struct schedule *sched;
static char *clock_file;

static int64_t
customer_mail(const char *subject, int64_t now)
{
	return desk_customer_mail(ingest, clock_file, 'd', subject, now);
}

static int
tick(int64_t now)
{
	return desk_tick(sched, clock_file, now);
}

/* Digests (outbox kind "digest", about no ticket) queued to rcpt; the newest one's raw
   bytes in *raw_r (caller frees) when raw_r is given. */
static size_t
digests(const char *rcpt, char **raw_r)
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
		if (rows[i].ticket_id != 0 || strcmp(rows[i].kind, "digest") != 0 ||
		    strcasestr(rows[i].recipients, rcpt) == NULL)
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

/* A new struct digest (the daemon restarted), armed at now. */
static int
restart(int64_t now)
{
	const char *error;
	schedule_free(&sched);
	digest_free(&digest);
	desk_set_clock(clock_file, now);
	if (digest_new(config, store, dm, &digest, &error) < 0 ||
	    digest_arm(digest, now, &error) < 0) {
		printf("digest: %s\n", error);
		return -1;
	}
	sched = schedule_new(store);
	escalate_register(esc, sched);
	digest_register(digest, sched);
	return 0;
}

static void
test_empty(void)
{
	test_begin("nothing is sent when there is nothing");
	struct ack_mail mail = { 0 };
	int64_t items = -1;
	const char *error = NULL;
	test_assert_int(digest_recipient_count(digest), 4); /* alice bob carol, sue's queue digest */
	test_assert_int(digest_render(digest, "agent:alice@staff.example", NOW, &mail, &items,
				      &error),
			0);
	test_assert_int(items, 0);
	test_assert_int(digest_render(digest, "queue:sue@boss.example", NOW, &mail, &items, &error),
			0);
	test_assert_int(tick(WED_0800 - DAY), 0); /* Tue 08:00: not due (armed Tue 10:00) */
	test_assert_int((int)digests("alice@staff.example", NULL), 0);
}

static int64_t t_mine, t_free, t_bob;

static void
test_content(void)
{
	const char *error = NULL;
	test_begin("the agent's digest: late, own, unassigned in their queues");
	t_mine = customer_mail("Deposit missing", NOW);
	t_free = customer_mail("Withdrawal stuck", NOW + MIN);
	t_bob = customer_mail("KYC question", NOW + 2 * MIN);
	test_assert(t_mine > 0 && t_free > 0 && t_bob > 0);
	test_assert_int(store_ticket_set(store, t_mine, "assignee", "alice@staff.example", &error), 0);
	test_assert_int(store_ticket_set(store, t_bob, "assignee", "bob@staff.example", &error), 0);

	/* Wednesday 08:00: every 2h target (due Tue 12:00) is breached */
	test_assert_int(tick(WED_0800), 0);
	char *raw = NULL;
	test_assert_int((int)digests("alice@staff.example", &raw), 1);
	test_assert(raw != NULL && strstr(raw, "Subject: Your tickets for 2025-03-12: 1 yours, 1 "
					       "unassigned, 2 late") != NULL);
	test_assert(raw != NULL && strstr(raw, "Auto-Submitted: auto-generated") != NULL);
	test_assert(raw != NULL && strstr(raw, "In-Reply-To:") == NULL &&
		    strstr(raw, "References:") == NULL);
	test_assert(raw != NULL && strstr(raw, "Content-Type: text/html") != NULL);
	test_assert(raw != NULL && strstr(raw, "Deposit missing") != NULL &&
		    strstr(raw, "Withdrawal stuck") != NULL);
	/* Bob's ticket is not Alice's business */
	test_assert(raw != NULL && strstr(raw, "KYC question") == NULL);
	free(raw);

	test_begin("an agent without a queue gets their own tickets only, in their language");
	test_assert_int((int)digests("bob@staff.example", &raw), 1);
	test_assert(raw != NULL && strstr(raw, "KYC question") != NULL &&
		    strstr(raw, "Withdrawal stuck") == NULL);
	free(raw);

	test_begin("an agent with nothing gets nothing");
	test_assert_int((int)digests("carol@staff.example", NULL), 0);

	test_begin("the supervisor's queue digest");
	test_assert_int((int)digests("sue@boss.example", &raw), 1);
	test_assert(raw != NULL && strstr(raw, "Subject: Queue digest for 2025-03-12: 3 open") != NULL);
	test_assert(raw != NULL && strstr(raw, "Queue general: 3 open") != NULL);
	test_assert(raw != NULL && strstr(raw, "Breached (3)") != NULL);
	test_assert(raw != NULL && strstr(raw, "Oldest unanswered") != NULL);
	free(raw);
}

static void
test_once(void)
{
	test_begin("once per local day: later ticks, a restart, a timer set back");
	test_assert_int(tick(WED_0800 + HOUR), 0);
	test_assert_int((int)digests("alice@staff.example", NULL), 1);
	test_assert_int(restart(WED_0800 + 2 * HOUR), 0);
	/* a timer left due (a crash after the mail, before the next was
	   set, is impossible: one transaction; set it back by hand) */
	const char *error;
	test_assert_int(store_timer_set(store, DIGEST_TIMER, 0, "agent:alice@staff.example",
					WED_0800, &error),
			0);
	test_assert_int(tick(WED_0800 + 2 * HOUR), 0);
	test_assert_int((int)digests("alice@staff.example", NULL), 1);
	test_assert_int((int)digests("sue@boss.example", NULL), 1);
	/* and it is armed for Thursday 08:00 */
	struct store_timer *t = NULL;
	test_assert_int(store_timer_get(store, DIGEST_TIMER, 0, "agent:alice@staff.example", &t,
					&error),
			1);
	test_assert(t != NULL && t->due_at == WED_0800 + DAY);
	store_timer_free(&t);

	test_begin("a daemon down for three days sends one late digest");
	test_assert_int(restart(WED_0800 + 3 * DAY + 3 * HOUR), 0); /* Sat 11:00 */
	test_assert_int(tick(WED_0800 + 3 * DAY + 3 * HOUR), 0);
	test_assert_int((int)digests("alice@staff.example", NULL), 2);
	test_assert_int(tick(WED_0800 + 3 * DAY + 4 * HOUR), 0);
	test_assert_int((int)digests("alice@staff.example", NULL), 2);
}

/* Bob's digest is at 02:30 Berlin time: on 2025-03-30 that hour does not
   exist (02:00 -> 03:00), on 2025-10-26 it comes twice (03:00 -> 02:00). */
static void
test_dst(void)
{
	const char *error;
	test_begin("DST: one digest on the spring-forward and the fall-back day");
	/* Sat 2025-03-29 12:00 UTC */
	int64_t sat = 1743249600;
	/* the restart sends the digest missed since test_once() first */
	test_assert_int(restart(sat), 0);
	test_assert_int(tick(sat), 0);
	size_t before = digests("bob@staff.example", NULL);
	struct store_timer *t = NULL;
	test_assert_int(store_timer_get(store, DIGEST_TIMER, 0, "agent:bob@staff.example", &t,
					&error),
			1);
	/* Sun 03:30 CEST = 01:30 UTC: the time after the gap */
	test_assert(t != NULL && t->due_at == 1743298200);
	store_timer_free(&t);
	for (int64_t x = sat; x < sat + DAY; x += 15 * MIN)
		test_assert_int(tick(x), 0);
	test_assert_int((int)(digests("bob@staff.example", NULL) - before), 1);

	/* Sat 2025-10-25 12:00 UTC */
	sat = 1761393600;
	test_assert_int(restart(sat), 0);
	test_assert_int(tick(sat), 0);
	before = digests("bob@staff.example", NULL);
	for (int64_t x = sat; x < sat + DAY; x += 15 * MIN)
		test_assert_int(tick(x), 0);
	test_assert_int((int)(digests("bob@staff.example", NULL) - before), 1);
	/* and the next is Monday's 02:30 CET (01:30 UTC) */
	test_assert_int(store_timer_get(store, DIGEST_TIMER, 0, "agent:bob@staff.example", &t,
					&error),
			1);
	test_assert(t != NULL && t->due_at == 1761442200 + DAY);
	store_timer_free(&t);
	test_assert_int((int)digest_next(digest, "agent:bob@staff.example", 1761442200),
			(int)(1761442200 + DAY));
}

static void
test_language(void)
{
	test_begin("the digest in the agent's language");
	struct ack_mail mail = { 0 };
	int64_t items = 0;
	const char *error = NULL;
	test_assert_int(digest_render(digest, "agent:bob@staff.example", WED_0800, &mail, &items,
				      &error),
			1);
	test_assert(mail.text != NULL && strstr(mail.text, "IHRE OFFENEN TICKETS (1)") != NULL);
	test_assert(mail.html != NULL && strstr(mail.html, "KYC question") != NULL);
	ack_mail_clear(&mail);
	test_assert_int(digest_render(digest, "agent:nobody@staff.example", WED_0800, &mail,
				      &items, &error),
			0);
}

static int
setup(void)
{
	const char *error;
	if (desk_clock_init(tmpdir, NOW, &clock_file) < 0)
		return -1;
	int ret = desk_open(
		tmpdir,
		"hostname = desk.example.test\nsupport_address = support@example.test\n"
		"support_name = Example Support\n"
		"[hours]\ntimezone = Europe/Berlin\nweek = mon-fri 09:00-18:00\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = general\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\nlanguage = de\n"
		"digest = 02:30\ntimezone = Europe/Berlin\n"
		"[agent carol]\naddress = carol@staff.example\n"
		"[agent dave]\naddress = dave@staff.example\ndigest = off\n"
		"[queue general]\ncategories = other, delayed_payment, account_security, failed_trade, "
		"registration, complaint\nagents = alice\nsupervisors = sue@boss.example\n"
		"[sla default]\nfirst_response = 2h\nwarn_at = 75\nrepeat = 0\n",
		&config, &store);
	if (ret < 0)
		return -1;
	if (desk_ingest_open(config, store, 0, &ingest, &tc, &dm) < 0)
		return -1;
	if (escalate_new(config, store, dm, &esc, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	return restart(NOW);
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_empty();
	test_content();
	test_once();
	test_dst();
	test_language();
	schedule_free(&sched);
	digest_free(&digest);
	escalate_free(&esc);
	desk_close(&dm, &tc, &ingest, &store, &config);
	desk_rm_tree(tmpdir);
	free(clock_file);
	return test_exit();
}
