/* test-health: the pid file probe against real locks, and the verdict of
   `deskgate status` from each combination of facts. */
#include "build-config.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/health.h"
#include "gateway/service.h"
#include "test.h"

static void
test_probe(void)
{
	char dir[] = "/tmp/dg-health.XXXXXX";
	char path[64], text[32];
	int64_t pid;
	int locked, alive;
	const char *error;
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/deskgate.pid", dir);

	test_begin("probe: no pid file");
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 0);
	test_assert_int(pid, 0);

	test_begin("probe: our own pid, unlocked");
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	test_write_file(path, text);
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 1);
	test_assert_int(pid, getpid());
	test_assert_int(locked, 0);
	test_assert_int(alive, 1);

	test_begin("probe: locked by another open file (the daemon's flock)");
	int fd = open(path, O_RDONLY);
	test_assert(flock(fd, LOCK_EX | LOCK_NB) == 0);
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 1);
	test_assert_int(locked, 1);
	/* the probe let go of nothing: the daemon's lock still holds */
	int fd2 = open(path, O_RDONLY);
	test_assert(flock(fd2, LOCK_EX | LOCK_NB) < 0);
	close(fd2);
	close(fd);
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 1);
	test_assert_int(locked, 0);
	/* and the probe leaves no lock behind either */
	fd = open(path, O_RDONLY);
	test_assert(flock(fd, LOCK_EX | LOCK_NB) == 0);
	close(fd);

	test_begin("probe: a process that is gone");
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	snprintf(text, sizeof(text), "%ld\n", (long)child);
	test_write_file(path, text);
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 1);
	test_assert_int(pid, child);
	test_assert_int(alive, 0);

	test_begin("probe: garbage, empty, pid 1");
	test_write_file(path, "not a pid\n");
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 0);
	test_write_file(path, "");
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 0);
	test_write_file(path, "1\n");
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 0);
	test_write_file(path, "123456789012345678901234567890\n");
	test_assert_int(health_pid_probe(path, &pid, &locked, &alive, &error), 0);

	unlink(path);
	rmdir(dir);
}

/* A status file snapshot: pid, updated_at, and mailboxes "name=state/failures". */
static struct service_snapshot *
snap(int64_t pid, int64_t updated_at, int64_t stopped_at, const char *const *mbs)
{
	struct service_snapshot *s = calloc(1, sizeof(*s));
	s->pid = pid;
	s->started_at = updated_at - 100;
	s->updated_at = updated_at;
	s->stopped_at = stopped_at;
	size_t n = 0;
	while (mbs != NULL && mbs[n] != NULL)
		n++;
	s->mailboxes = calloc(n + 1, sizeof(*s->mailboxes));
	for (size_t i = 0; i < n; i++) {
		char *spec = strdup(mbs[i]);
		char *eq = strchr(spec, '='), *slash = strchr(spec, '/');
		*eq = '\0';
		*slash = '\0';
		s->mailboxes[i].name = strdup(spec);
		s->mailboxes[i].state = strdup(eq + 1);
		s->mailboxes[i].failures = strtol(slash + 1, NULL, 10);
		s->mailboxes[i].connected = strcmp(eq + 1, "idle") == 0;
		if (s->mailboxes[i].failures > 0)
			s->mailboxes[i].last_error = strdup("connect: Connection refused");
		free(spec);
	}
	s->n_mailboxes = n;
	return s;
}

static int
has_reason(const struct health_report *r, const char *part)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i], part) != NULL)
			return 1;
	return 0;
}

static void
test_judge(void)
{
	static const char *const healthy[] = { "support=idle/0", "sales=waiting/0", NULL };
	static const char *const failing[] = { "support=idle/0", "sales=backoff/3", NULL };
	static const char *const partial[] = { "support=idle/0", NULL };
	static const struct {
		const char *what;
		int64_t pid;
		int locked, alive;
		int snapshot; /* 0 none, 1 fresh, 2 stale, 3 another pid, 4 stopped */
		const char *const *mbs;
		int stats;    /* 0 unreadable, 1 fine, 2 deferred mail */
		enum health_status want;
		const char *reason;
	} cases[] = {
		{ "locked, fresh, healthy", 100, 1, 1, 1, healthy, 1, HEALTH_OK, NULL },
		{ "unlocked but alive and fresh", 100, 0, 1, 1, healthy, 1, HEALTH_OK, NULL },
		{ "no pid file", 0, 0, 0, 0, NULL, 1, HEALTH_NOT_RUNNING, "no pid file" },
		{ "pid gone", 100, 0, 0, 1, healthy, 1, HEALTH_NOT_RUNNING, "process 100 is gone" },
		{ "stopped cleanly, pid reused", 100, 0, 1, 4, healthy, 1, HEALTH_UNKNOWN,
		  "does not lock" },
		{ "alive, unlocked, stale", 100, 0, 1, 2, healthy, 1, HEALTH_UNKNOWN, "is it deskgate" },
		{ "alive, unlocked, no status file", 100, 0, 1, 0, NULL, 1, HEALTH_UNKNOWN,
		  "does not lock" },
		{ "locked, stuck loop", 100, 1, 1, 2, healthy, 1, HEALTH_DEGRADED, "busy or stuck" },
		{ "locked, no status file", 100, 1, 1, 0, NULL, 1, HEALTH_DEGRADED, "no status file" },
		{ "locked, status of another pid", 100, 1, 1, 3, healthy, 1, HEALTH_DEGRADED,
		  "from process 999" },
		{ "a mailbox in backoff", 100, 1, 1, 1, failing, 1, HEALTH_DEGRADED,
		  "mailbox sales: backoff after 3 failures: connect: Connection refused" },
		{ "a mailbox not served", 100, 1, 1, 1, partial, 1, HEALTH_DEGRADED,
		  "mailbox sales: not served" },
		{ "deferred mail", 100, 1, 1, 1, healthy, 2, HEALTH_DEGRADED,
		  "2 outgoing messages deferred" },
		{ "store unreadable", 100, 1, 1, 1, healthy, 0, HEALTH_UNKNOWN, "cannot read the store" },
		{ "store unreadable and a mailbox failing", 100, 1, 1, 1, failing, 0, HEALTH_DEGRADED,
		  "cannot read the store" },
		{ "not running beats an unreadable store", 0, 0, 0, 0, NULL, 0, HEALTH_NOT_RUNNING,
		  "no pid file" },
	};
	const int64_t now = 1800000000;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_begin(cases[i].what);
		struct health_report *r = calloc(1, sizeof(*r));
		r->now = now;
		r->pid = cases[i].pid;
		r->locked = cases[i].locked;
		r->alive = cases[i].alive;
		switch (cases[i].snapshot) {
		case 1:
			r->snapshot = snap(100, now - 3, 0, cases[i].mbs);
			break;
		case 2:
			r->snapshot = snap(100, now - SERVICE_STALE - 5, 0, cases[i].mbs);
			break;
		case 3:
			r->snapshot = snap(999, now - 3, 0, cases[i].mbs);
			break;
		case 4:
			r->snapshot = snap(100, now - 3, now - 3, cases[i].mbs);
			break;
		}
		r->have_stats = cases[i].stats > 0;
		if (cases[i].stats == 0)
			r->stats_error = strdup("store: open: disk I/O error");
		if (cases[i].stats == 2)
			r->stats.outbox_deferred = 2;
		health_add_mailbox(r, "support");
		health_add_mailbox(r, "sales");
		health_judge(r);
		test_assert_int(r->status, cases[i].want);
		test_assert_int(r->running, cases[i].want == HEALTH_OK || cases[i].want == HEALTH_DEGRADED ||
						    (cases[i].want == HEALTH_UNKNOWN && cases[i].stats == 0));
		if (cases[i].reason != NULL && !has_reason(r, cases[i].reason)) {
			printf("  want a reason with \"%s\"; got:\n", cases[i].reason);
			for (size_t k = 0; k < r->n_reasons; k++)
				printf("  - %s\n", r->reasons[k]);
			test_assert(0);
		}
		if (cases[i].want == HEALTH_OK)
			test_assert_int(r->n_reasons, 0);
		/* judging again gives the same, without piling reasons up */
		size_t n = r->n_reasons;
		health_judge(r);
		test_assert_int(r->n_reasons, n);
		health_report_free(&r);
		test_assert(r == NULL);
	}
	test_begin("mailboxes from the status file");
	struct health_report *r = calloc(1, sizeof(*r));
	r->snapshot = snap(1, 1, 0, failing);
	health_add_mailbox(r, "sales");
	health_add_mailbox(r, "new");
	test_assert_str(r->mailboxes[0].state, "backoff");
	test_assert_int(r->mailboxes[0].known, 1);
	test_assert_int(r->mailboxes[0].failures, 3);
	test_assert_str(r->mailboxes[0].last_error, "connect: Connection refused");
	test_assert_str(r->mailboxes[1].state, "unknown");
	test_assert_int(r->mailboxes[1].known, 0);
	health_report_free(&r);

	test_begin("health_unknown");
	r = health_unknown(5, "cannot read the configuration: x");
	test_assert_int(r->status, HEALTH_UNKNOWN);
	test_assert(has_reason(r, "cannot read the configuration"));
	test_assert_str(health_status_name(r->status), "unknown");
	test_assert_str(health_status_name(HEALTH_NOT_RUNNING), "not_running");
	health_report_free(&r);
}

/* store_stats() over a real SQLite store: the numbers status reports. */
static void
test_store_stats(void)
{
	char dir[] = "/tmp/dg-health-store.XXXXXX";
	struct store *store = NULL;
	struct store_stats st;
	const char *error = NULL;
	test_assert(mkdtemp(dir) != NULL);
	char db[96];
	snprintf(db, sizeof(db), "%s/deskgate.db", dir);
	test_begin("store_stats: empty store");
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store == NULL)
		return;
	test_assert_int(store_stats(store, &st, &error), 0);
	test_assert_int(st.outbox_queued + st.outbox_deferred + st.outbox_sending + st.outbox_failed, 0);
	test_assert_int(st.quarantine_held, 0);
	test_assert_int(st.tickets_unanswered, 0);
	test_assert_int(st.oldest_unanswered_id, 0);
	test_assert_int(st.outbox_oldest_at, 0);

	test_begin("store_stats: tickets, outbox, quarantine");
	int64_t ids[4];
	static const char *const statuses[] = { "new", "open", "closed", "pending" };
	for (int i = 0; i < 4; i++) {
		struct store_ticket t = { .subject = "s", .status = statuses[i],
					  .created_at = 1000 + 100 * (4 - i), .due_at = 5000 + i };
		test_assert_int(store_ticket_insert(store, &t, &ids[i], &error), 0);
	}
	/* the oldest (the pending one, created at 1100) has been answered */
	test_assert_int(store_ticket_set_time(store, ids[3], "first_response_at", 1200, &error), 0);
	static const char *const mids[] = { "q1@x", "q2@x", "d1@x", "s1@x", "f1@x", "ok@x" };
	int64_t oid[6];
	for (int i = 0; i < 6; i++) {
		struct store_outbox o = { .kind = "ack", .message_id = mids[i],
					  .envelope_from = "support@example.test",
					  .recipients = "c@example.net",
					  .raw = (unsigned char *)"x", .raw_size = 1,
					  .created_at = 2000 + i };
		test_assert_int(store_outbox_insert(store, &o, &oid[i], &error), 0);
	}
	test_assert_int(store_outbox_update(store, oid[0], "queued", 0, 0, NULL, NULL, &error), 0);
	test_assert_int(store_outbox_update(store, oid[2], "queued", 2, 0, "x", "451", &error), 0);
	test_assert_int(store_outbox_update(store, oid[3], "sending", 1, 0, NULL, NULL, &error), 0);
	test_assert_int(store_outbox_update(store, oid[4], "failed", 1, 0, "x", "550", &error), 0);
	test_assert_int(store_outbox_update(store, oid[5], "sent", 1, 0, NULL, "250", &error), 0);
	struct store_quarantine q = { .raw_sha256 = "0123456789abcdef0123456789abcdef"
							    "0123456789abcdef0123456789abcdef",
				      .raw_size = 1, .reason = "r", .source = "ingest" };
	int64_t qid;
	int existed;
	test_assert_int(store_quarantine_insert(store, &q, &qid, &existed, &error), 0);
	q.raw_sha256 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	test_assert_int(store_quarantine_insert(store, &q, &qid, &existed, &error), 0);
	test_assert_int(store_quarantine_set_status(store, qid, "released", 0, &error), 0);

	test_assert_int(store_stats(store, &st, &error), 0);
	test_assert_int(st.outbox_queued, 2);
	test_assert_int(st.outbox_deferred, 1);
	test_assert_int(st.outbox_sending, 1);
	test_assert_int(st.outbox_failed, 1);
	test_assert_int(st.outbox_oldest_at, 2000);
	test_assert_int(st.quarantine_held, 1);
	test_assert_int(st.tickets_unanswered, 2);
	test_assert_int(st.oldest_unanswered_id, ids[1]);
	test_assert_int(st.oldest_unanswered_at, 1300);
	test_assert_int(st.oldest_unanswered_due, 5001);
	store_close(&store);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	test_assert(system(cmd) == 0);
}

int
main(void)
{
	test_probe();
	test_judge();
	test_store_stats();
	return test_exit();
}
