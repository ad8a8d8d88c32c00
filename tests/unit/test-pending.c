/*
 * test-pending: #pending, #solved, #close and #snooze (gateway/pending.h)
 * through the real ingest pipeline, deskmail, the scheduler and a real
 * SQLite store, with the test clock (no sleeping): the reminder after
 * remind_after business days and the automatic solve after solve_after
 * more, each once; a daemon that slept through both sends the reminder
 * only; a customer's reply reopens a pending ticket and restarts its
 * clocks; the solved notice and the reopen grace; quiet categories; the
 * agent's snooze, once, and cancelled; bad input refused with an error
 * mail and nothing applied.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/ingest.h"
#include "gateway/pending.h"
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
#define DAY 86400

static char tmpdir[] = "/tmp/dg-test-pending.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static struct deskmail *dm;
static struct pending *pend;
static struct schedule *sched;
static int n_mail;
static char *clock_file;

/* Ingest a mail at now; its ticket (0 on failure). */
static int64_t
deliver(const char *from, const char *to, const char *subject, const char *body, int64_t now)
{
	char *raw = xasprintf("From: %s\nTo: %s\nSubject: %s\nDate: Tue, 11 Mar 2025 10:00:00 +0100\n"
			      "Message-ID: <p%d.%d@mail.example>\nMIME-Version: 1.0\n"
			      "Content-Type: text/plain; charset=utf-8\n\n%s",
			      from, to, subject, ++n_mail, (int)getpid(), body);
	int64_t id = desk_ingest_at(ingest, clock_file, raw, now);
	free(raw);
	return id;
}

static int64_t
customer_mail(const char *subject, int64_t now)
{
	/* a text of its own: the same text again would join the first ticket */
	char *body = xasprintf("About %s: please help.\n", subject);
	int64_t id = deliver("Carl Customer <carl@customer.example>", "support@example.test", subject,
			     body, now);
	free(body);
	return id;
}

/* A mail from the customer's side to the ticket's signed address. */
static int64_t
customer_reply(int64_t id, const char *text, int64_t now)
{
	char *to = thread_reply_address(tc, id, THREAD_ROLE_CUSTOMER);
	int64_t got = deliver("Carl Customer <carl@customer.example>", to, "Re: help", text, now);
	free(to);
	return got;
}

/* An agent's mail to the ticket's agent address. */
static int64_t
agent_mail(const char *from, int64_t id, const char *text, int64_t now)
{
	char *to = thread_reply_address(tc, id, THREAD_ROLE_AGENT);
	int64_t got = deliver(from, to, "Re: [Support] help", text, now);
	free(to);
	return got;
}

static int
tick(int64_t now)
{
	return desk_tick(sched, clock_file, now);
}

/* Outbox rows of kind about ticket id to rcpt (NULL: anyone); the newest
   one's raw bytes in *raw_r when given (caller frees), its id in *id_r. */
static size_t
outbox(int64_t id, const char *kind, const char *rcpt, char **raw_r, int64_t *id_r)
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
		if (rows[i].ticket_id != id || strcmp(rows[i].kind, kind) != 0)
			continue;
		if (rcpt != NULL && strcasestr(rows[i].recipients, rcpt) == NULL)
			continue;
		if (found++ == 0) {
			if (id_r != NULL)
				*id_r = rows[i].id;
			struct store_outbox *full = NULL;
			if (raw_r != NULL && store_outbox_get(store, rows[i].id, &full, &error) > 0) {
				*raw_r = xstrndup((const char *)full->raw, full->raw_size);
				store_outbox_free(&full);
			}
		}
	}
	store_outboxes_free(&rows, n);
	return found;
}

static char *
status(int64_t id)
{
	struct store_ticket *t = NULL;
	const char *error;
	static char s[16];
	snprintf(s, sizeof(s), "?");
	if (store_ticket_get(store, id, &t, &error) > 0)
		snprintf(s, sizeof(s), "%s", t->status);
	store_ticket_free(&t);
	return s;
}

static int64_t
timer_due(const char *kind, int64_t id, const char *subject)
{
	struct store_timer *tm = NULL;
	const char *error;
	int64_t due = 0;
	if (store_timer_get(store, kind, id, subject, &tm, &error) > 0)
		due = tm->due_at;
	store_timer_free(&tm);
	return due;
}

static int64_t
paused_at(int64_t id)
{
	struct store_sla *row = NULL;
	const char *error;
	int64_t p = -1;
	if (store_sla_get(store, id, &row, &error) > 0)
		p = row->paused_at;
	store_sla_free(&row);
	return p;
}

static void
test_pending_flow(void)
{
	test_begin("#pending: status, clocks paused, reminder timer");
	int64_t id = customer_mail("Deposit missing", NOW);
	test_assert(id > 0);
	test_assert_int(agent_mail("Alice Agent <alice@staff.example>", id,
				   "#pending\nCould you send us the transaction hash?\n", NOW + HOUR),
			id);
	test_assert_str(status(id), "pending");
	test_assert_int((int)outbox(id, "relay", "carl@customer.example", NULL, NULL), 1);
	test_assert(desk_has_event(store, id, "pending", "#pending by alice@staff.example"));
	test_assert(desk_has_event(store, id, "sla-paused", NULL));
	test_assert(paused_at(id) > 0);
	/* 3 business days after Tue 11:00 Berlin: Fri 11:00 */
	int64_t remind = NOW + HOUR + 3 * DAY;
	test_assert_int(timer_due(PENDING_TIMER, id, NULL), remind);

	test_begin("#pending: one reminder, in the customer's thread");
	test_assert_int(tick(remind - MIN), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 0);
	test_assert_int(tick(remind), 0);
	char *raw = NULL;
	test_assert_int((int)outbox(id, "reminder", "carl@customer.example", &raw, NULL), 1);
	test_assert(raw != NULL && strstr(raw, "[Support #") != NULL &&
		    strstr(raw, "In-Reply-To: <p") != NULL &&
		    strstr(raw, "Auto-Submitted: auto-generated") != NULL &&
		    strstr(raw, "text/html") != NULL);
	test_assert(raw != NULL && strstr(raw, "have not heard back") != NULL);
	free(raw);
	test_assert(desk_has_event(store, id, "reminder", "reminder to carl@customer.example"));
	test_assert_int(tick(remind + 10), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 1);
	/* the handler again for the same wait (a crash after the commit
	   cannot run it twice, but a stray timer could): still one */
	const char *error;
	struct store_timer tm = { .kind = PENDING_TIMER, .ticket_id = id, .subject = "",
				  .created_at = NOW + HOUR };
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_sla_notice_find(store, id, "pending", "reminder", NOW + HOUR,
					      "carl@customer.example", &error), 1);
	test_assert_int(store_commit(store, &error), 0);

	test_begin("#pending: solved after 4 more business days, with the notice");
	/* Fri 11:00 + 4 business days: Thu 11:00 */
	int64_t solve = remind + 6 * DAY;
	test_assert_int(timer_due(PENDING_TIMER, id, NULL), solve);
	test_assert_int(tick(solve - MIN), 0);
	test_assert_str(status(id), "pending");
	test_assert_int(tick(solve), 0);
	test_assert_str(status(id), "closed");
	test_assert_int((int)outbox(id, "notice", "carl@customer.example", &raw, NULL), 1);
	test_assert(raw != NULL && strstr(raw, "reply to this message before") != NULL);
	free(raw);
	test_assert(desk_has_event(store, id, "closed", "solved by auto no answer"));
	test_assert_int(timer_due(PENDING_TIMER, id, NULL), 0);
	/* the handler run again for this wait: nothing more */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_set(store, id, "status", "pending", &error), 0);
	test_assert_int(pending_timer(pend, store, &tm, solve + HOUR, &error), 0);
	test_assert_str(status(id), "pending");
	test_assert_int(store_ticket_set(store, id, "status", "closed", &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int((int)outbox(id, "notice", "carl@customer.example", NULL, NULL), 1);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 1);
}

static void
test_catch_up(void)
{
	test_begin("a daemon asleep across both instants: one reminder, then the wait");
	int64_t id = customer_mail("Withdrawal stuck", NOW);
	test_assert_int(agent_mail("alice@staff.example", id, "#pending\nYour TXID please.\n",
				   NOW + HOUR),
			id);
	int64_t late = NOW + 30 * DAY; /* a Thursday */
	test_assert_int(tick(late), 0);
	test_assert_int(tick(late + 1), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 1);
	test_assert_int((int)outbox(id, "notice", "carl@", NULL, NULL), 0);
	test_assert_str(status(id), "pending");
	/* Thu + 4 business days: Wed */
	test_assert_int(timer_due(PENDING_TIMER, id, NULL), late + 6 * DAY);
	test_assert_int(tick(late + 6 * DAY), 0);
	test_assert_str(status(id), "closed");
	test_assert_int((int)outbox(id, "notice", "carl@", NULL, NULL), 1);
}

static void
test_customer_reopens(void)
{
	test_begin("a customer's reply reopens a pending ticket and restarts the clocks");
	int64_t id = customer_mail("KYC", NOW);
	test_assert_int(agent_mail("alice@staff.example", id, "#pending\nYour ID please.\n",
				   NOW + HOUR),
			id);
	test_assert(paused_at(id) > 0);
	test_assert_int(customer_reply(id, "Here it is.\n", NOW + DAY), id);
	test_assert_str(status(id), "open");
	test_assert_int(paused_at(id), 0);
	test_assert(desk_has_event(store, id, "sla-resumed", NULL));
	struct store_sla *row = NULL;
	const char *error;
	test_assert_int(store_sla_get(store, id, &row, &error), 1);
	test_assert(row != NULL && row->start[STORE_SLA_NEXT_RESPONSE] == NOW + DAY &&
		    row->due[STORE_SLA_NEXT_RESPONSE] > NOW + DAY);
	store_sla_free(&row);
	test_assert_int(tick(NOW + 10 * DAY), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 0);
	test_assert_str(status(id), "open");

	test_begin("an out-of-office answer does not reopen a pending ticket");
	test_assert_int(agent_mail("alice@staff.example", id, "#pending\n", NOW + 2 * DAY), id);
	char *to = thread_reply_address(tc, id, THREAD_ROLE_CUSTOMER);
	struct ingest_result res;
	struct ingest_source src = { .label = "test" };
	char *raw = xasprintf("From: carl@customer.example\nTo: %s\nSubject: Out of office\n"
			      "Auto-Submitted: auto-replied\nMessage-ID: <ooo%d@x.example>\n"
			      "Content-Type: text/plain\n\nI am away.\n",
			      to, (int)getpid());
	ingest_set_now(ingest, NOW + 2 * DAY + HOUR);
	test_assert_int(ingest_message(ingest, (const unsigned char *)raw, strlen(raw), &src, &res,
				       &error),
			0);
	free(raw);
	free(to);
	test_assert_str(status(id), "pending");
}

static void
test_solved(void)
{
	test_begin("#solved with an answer: the answer, then the notice; closed by agent");
	int64_t id = customer_mail("Password reset", NOW);
	test_assert_int(agent_mail("alice@staff.example", id,
				   "Done: your account is unlocked.\n#solved\n", NOW + HOUR),
			id);
	test_assert_str(status(id), "closed");
	int64_t relay_id = 0, notice_id = 0;
	char *raw = NULL;
	test_assert_int((int)outbox(id, "relay", "carl@customer.example", NULL, &relay_id), 1);
	test_assert_int((int)outbox(id, "notice", "carl@customer.example", &raw, &notice_id), 1);
	test_assert(relay_id > 0 && notice_id > relay_id);
	test_assert(raw != NULL && strstr(raw, "solved") != NULL &&
		    strstr(raw, "reply to this message before") != NULL);
	free(raw);
	test_assert(desk_has_event(store, id, "closed", "solved by agent alice@staff.example"));

	test_begin("a reply within the grace reopens the same ticket");
	test_assert_int(customer_reply(id, "Still cannot log in.\n", NOW + 6 * DAY), id);
	test_assert_str(status(id), "open");
	test_assert(desk_has_event(store, id, "reopened", NULL));

	test_begin("#close again; a reply after the grace opens a linked ticket");
	test_assert_int(agent_mail("alice@staff.example", id, "#close\n", NOW + 7 * DAY), id);
	test_assert_str(status(id), "closed");
	test_assert(desk_has_event(store, id, "closed", "closed by agent"));
	test_assert_int((int)outbox(id, "notice", "carl@customer.example", NULL, NULL), 2);
	/* an agent's note after closing does not move the grace */
	test_assert_int(agent_mail("alice@staff.example", id, "#note checked\n", NOW + 13 * DAY),
			id);
	int64_t other = customer_reply(id, "Again a problem.\n", NOW + 14 * DAY + HOUR);
	test_assert(other > 0 && other != id);
	test_assert_str(status(id), "closed");
	test_assert(desk_has_event(store, other, "linked", NULL));
}

static void
test_quiet_and_bad(void)
{
	test_begin("a quiet category is closed without a notice");
	int64_t id = customer_mail("Signup", NOW);
	test_assert_int(agent_mail("alice@staff.example", id, "#category registration\n#solved\n",
				   NOW + HOUR),
			id);
	test_assert_str(status(id), "closed");
	test_assert_int((int)outbox(id, "notice", "carl@customer.example", NULL, NULL), 0);
	test_assert(desk_has_event(store, id, "closed", "category registration is quiet"));

	test_begin("#pending on a closed ticket: refused, an error mail, nothing applied");
	char *raw = NULL;
	test_assert_int(agent_mail("alice@staff.example", id, "#pending\nAny news?\n", NOW + 2 * HOUR),
			id);
	test_assert_str(status(id), "closed");
	test_assert_int((int)outbox(id, "relay", NULL, NULL, NULL), 0);
	test_assert_int((int)outbox(id, "error", "alice@staff.example", &raw, NULL), 1);
	test_assert(raw != NULL && strstr(raw, "the ticket is closed") != NULL);
	free(raw);

	test_begin("#snooze with a bad time: refused, nothing applied");
	int64_t id2 = customer_mail("Fees", NOW);
	test_assert_int(agent_mail("alice@staff.example", id2, "#snooze tomorrow\n#pending\n",
				   NOW + HOUR),
			id2);
	test_assert_str(status(id2), "new");
	test_assert_int((int)outbox(id2, "error", "alice@staff.example", &raw, NULL), 1);
	test_assert(raw != NULL && strstr(raw, "#snooze takes a duration") != NULL);
	free(raw);
	test_assert_int(agent_mail("alice@staff.example", id2, "#snooze 2020-01-01\n", NOW + HOUR),
			id2);
	test_assert_int((int)outbox(id2, "error", "alice@staff.example", &raw, NULL), 2);
	test_assert(raw != NULL && strstr(raw, "already past") != NULL);
	free(raw);
	test_assert_int(agent_mail("alice@staff.example", id2, "#snooze off\n", NOW + HOUR), id2);
	test_assert_int((int)outbox(id2, "error", "alice@staff.example", &raw, NULL), 3);
	test_assert(raw != NULL && strstr(raw, "no snooze on this ticket") != NULL);
	free(raw);

	test_begin("not an agent: #pending from the customer is text, not a command");
	test_assert_int(customer_reply(id2, "#pending\n#solved\n", NOW + 2 * HOUR), id2);
	test_assert(strcmp(status(id2), "pending") != 0 && strcmp(status(id2), "closed") != 0);
	test_assert_int(timer_due(PENDING_TIMER, id2, NULL), 0);
}

static void
test_snooze(void)
{
	test_begin("#snooze 4h: one reminder to the agent, in the agents' thread");
	int64_t id = customer_mail("Margin call", NOW);
	test_assert_int(agent_mail("Bob Agent <bob@staff.example>", id, "#snooze 4h\n", NOW + HOUR),
			id);
	test_assert_int(timer_due(PENDING_SNOOZE_TIMER, id, "bob@staff.example"), NOW + 5 * HOUR);
	test_assert(desk_has_event(store, id, "snooze", "#snooze 4h by bob@staff.example"));
	test_assert_int(tick(NOW + 5 * HOUR - 1), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 0);
	test_assert_int(tick(NOW + 5 * HOUR), 0);
	char *raw = NULL;
	test_assert_int((int)outbox(id, "reminder", "bob@staff.example", &raw, NULL), 1);
	char *root = deskmail_agents_root(dm, id);
	test_assert(raw != NULL && strstr(raw, root) != NULL &&
		    strstr(raw, "Snoozed ticket is back") != NULL);
	free(root);
	free(raw);
	test_assert_int(tick(NOW + 6 * HOUR), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 1);

	test_begin("#snooze DATE, moved, then off: nothing sent");
	test_assert_int(agent_mail("bob@staff.example", id, "#snooze 2025-03-14\n", NOW + 6 * HOUR),
			id);
	/* a date alone: the start of Bob's working day (09:00 Berlin) */
	test_assert_int(timer_due(PENDING_SNOOZE_TIMER, id, "bob@staff.example"),
			NOW + 3 * DAY - HOUR);
	test_assert_int(agent_mail("bob@staff.example", id, "#snooze 2d\n", NOW + 7 * HOUR), id);
	test_assert_int(timer_due(PENDING_SNOOZE_TIMER, id, "bob@staff.example"),
			NOW + 7 * HOUR + 2 * DAY);
	test_assert_int(agent_mail("bob@staff.example", id, "#snooze off\n", NOW + 8 * HOUR), id);
	test_assert_int(timer_due(PENDING_SNOOZE_TIMER, id, "bob@staff.example"), 0);
	test_assert_int(tick(NOW + 4 * DAY), 0);
	test_assert_int((int)outbox(id, "reminder", NULL, NULL, NULL), 1);
	test_assert_int((int)outbox(id, "error", NULL, NULL, NULL), 0);
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
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = general\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\nlanguage = en\n"
		"[queue general]\ncategories = other, delayed_payment, account_security, failed_trade, "
		"registration, complaint\nagents = alice, bob\n"
		"[sla default]\nfirst_response = 2h\nnext_response = 4h\n"
		"[solved]\nquiet_categories = registration\n");
	int ret = desk_open(tmpdir, sections, &config, &store);
	free(sections);
	if (ret < 0)
		return -1;
	if (desk_ingest_open(config, store, 0, &ingest, &tc, &dm) < 0)
		return -1;
	if (pending_new(config, store, dm, &pend, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	sched = schedule_new(store);
	pending_register(pend, sched);
	return 0;
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_pending_flow();
	test_catch_up();
	test_customer_reopens();
	test_solved();
	test_quiet_and_bad();
	test_snooze();
	schedule_free(&sched);
	pending_free(&pend);
	desk_close(&dm, &tc, &ingest, &store, &config);
	desk_rm_tree(tmpdir);
	free(clock_file);
	return test_exit();
}
