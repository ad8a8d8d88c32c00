/*
 * test-lease: several gateways on one store, on a real SQLite file:
 * leases (acquire, renew, expiry, takeover, release, the fence inside a
 * transaction that a lost lease rolls back), lease sets (holder ids, the
 * liveness lease, a dead holder of this host released at once, a clean
 * stop releasing everything), and outbox claims (one gateway per row,
 * rows in flight claimed again only when their claimer is gone or the
 * claim expired, counted as resends), and a renewal the store does not
 * answer (its write lock held by another connection): the lease is kept,
 * the failure counted once per try, and the store not asked again at once
 * (the daemon's loop once spent a whole lock in such silent waits). Two
 * stores opened on one file are two gateways.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/lease.h"
#include "gateway/metrics.h"
#include "gateway/store.h"
#include "gateway/store/store-lease.h"
#include "tests/unit/test.h"

#define T0 1700000000

static char *tmpdir;

static struct store *
open_store(const char *name)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);
	char *db = xasprintf("%s/shared.db", tmpdir);
	struct store *store = NULL;
	const char *error = NULL;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || store_open(db, dir, &store, &error) < 0)
		printf("open: %s\n", error);
	free(db);
	free(dir);
	return store;
}

static void
test_leases(struct store *a, struct store *b)
{
	const char *error = NULL;
	char *current = NULL;
	test_begin("lease acquire, renew, expiry, takeover");
	test_assert_int(store_lease_acquire(a, "mailbox:x", "A", T0, 30, &current, &error), 1);
	test_assert(current == NULL);
	/* another gateway, another connection to the file */
	test_assert_int(store_lease_acquire(b, "mailbox:x", "B", T0 + 1, 30, &current, &error), 0);
	test_assert_str(current, "A");
	free(current);
	current = NULL;
	/* acquiring again is a renewal */
	test_assert_int(store_lease_acquire(a, "mailbox:x", "A", T0 + 10, 30, NULL, &error), 1);
	test_assert_int(store_lease_renew(a, "mailbox:x", "A", T0 + 20, 30, &error), 1);
	test_assert_int(store_lease_renew(b, "mailbox:x", "B", T0 + 20, 30, &error), 0);
	/* held until T0 + 50: not before */
	test_assert_int(store_lease_acquire(b, "mailbox:x", "B", T0 + 49, 30, NULL, &error), 0);
	/* the holder died: at its expiry the other takes over */
	test_assert_int(store_lease_acquire(b, "mailbox:x", "B", T0 + 50, 30, NULL, &error), 1);
	/* the old holder cannot renew: it must stop */
	test_assert_int(store_lease_renew(a, "mailbox:x", "A", T0 + 51, 30, &error), 0);
	/* an expired lease is not renewed either, even with nobody after it */
	test_assert_int(store_lease_acquire(a, "mailbox:y", "A", T0, 5, NULL, &error), 1);
	test_assert_int(store_lease_renew(a, "mailbox:y", "A", T0 + 5, 5, &error), 0);

	struct store_lease *list;
	size_t n;
	test_assert_int(store_lease_list(a, &list, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_str(list[0].name, "mailbox:x");
		test_assert_str(list[0].holder, "B");
		test_assert_int(list[0].acquired_at, T0 + 50);
		test_assert_int(list[0].expires_at, T0 + 80);
	}
	store_leases_free(&list, n);

	test_begin("lease release");
	test_assert_int(store_lease_release(a, "mailbox:x", "A", &error), 0); /* not A's */
	test_assert_int(store_lease_acquire(a, "mailbox:x", "A", T0 + 52, 30, NULL, &error), 0);
	test_assert_int(store_lease_release(b, "mailbox:x", "B", &error), 0);
	test_assert_int(store_lease_acquire(a, "mailbox:x", "A", T0 + 52, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(a, "scheduler", "A", T0 + 52, 30, NULL, &error), 1);
	test_assert_int(store_lease_release(a, NULL, "A", &error), 0); /* all of A's */
	test_assert_int(store_lease_acquire(b, "scheduler", "B", T0 + 53, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(b, "mailbox:x", "B", T0 + 53, 30, NULL, &error), 1);
	test_assert_int(store_lease_release(b, NULL, "B", &error), 0);

	test_begin("lease invalid input");
	test_assert_int(store_lease_acquire(a, "", "A", T0, 30, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_lease_acquire(a, "n", "", T0, 30, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_lease_acquire(a, "n", NULL, T0, 30, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_lease_renew(a, "n", "A", T0, -1, &error), STORE_DATA_BAD);
	test_assert_int(store_lease_release(a, NULL, NULL, &error), STORE_DATA_BAD);
}

static int64_t
new_ticket(struct store *store)
{
	struct store_ticket t = { .subject = "s", .created_at = T0 };
	int64_t id = 0;
	const char *error;
	if (store_ticket_insert(store, &t, &id, &error) < 0)
		printf("ticket: %s\n", error);
	return id;
}

/* The fence: a gateway whose lease was taken over cannot commit what it
   fetched; the new holder's commit goes through. */
static void
test_fence(struct store *a, struct store *b)
{
	const char *error = NULL;
	int64_t before, after;
	test_begin("fence");
	struct lease_set *la = lease_set_new(a, 30, &error);
	struct lease_set *lb = lease_set_new(b, 30, &error);
	test_assert(la != NULL && lb != NULL);
	if (la == NULL || lb == NULL)
		goto out;
	test_assert(strcmp(lease_set_holder(la), lease_set_holder(lb)) != 0);
	test_assert_int(lease_hold(la, "mailbox:f", T0, &error), 1);
	test_assert_int(lease_hold(lb, "mailbox:f", T0, &error), 0);
	test_assert_int(lease_held(la, "mailbox:f", T0 + 29), 1);
	test_assert_int(lease_held(la, "mailbox:f", T0 + 30), 0);
	test_assert_int(lease_held(lb, "mailbox:f", T0), 0);

	/* a batch of A inside its lease commits */
	test_assert_int(store_ticket_count(a, &before, &error), 0);
	test_assert_int(store_begin(a, &error), 0);
	new_ticket(a);
	test_assert_int(lease_fence(la, "mailbox:f", T0 + 5, &error), 1);
	test_assert_int(store_commit(a, &error), 0);

	/* A stalls past its lease (renewed at T0 + 5, until T0 + 35); B takes
	   over, and A's batch, begun before, must roll back */
	test_assert_int(lease_hold(lb, "mailbox:f", T0 + 35, &error), 1);
	test_assert_int(store_begin(a, &error), 0);
	new_ticket(a);
	test_assert_int(lease_fence(la, "mailbox:f", T0 + 36, &error), 0);
	store_rollback(a);
	test_assert_int(lease_held(la, "mailbox:f", T0 + 36), 0);
	test_assert_int(lease_hold(la, "mailbox:f", T0 + 36, &error), 0);
	test_assert_int(store_ticket_count(a, &after, &error), 0);
	test_assert_int(after, before + 1);

	/* renewal every third of the ttl keeps it; lease_tick does it */
	test_assert_int(lease_tick(lb, T0 + 45, &error), 0);
	test_assert_int(lease_hold(la, "mailbox:f", T0 + 70, &error), 0); /* B renewed at 45 */
	test_assert_int(lease_hold(la, "mailbox:f", T0 + 75, &error), 1); /* 45 + 30 */

	/* a clean stop gives everything up at once */
	test_assert_int(lease_hold(lb, "scheduler", T0 + 75, &error), 1);
	lease_set_free(&lb);
	test_assert_int(lease_hold(la, "scheduler", T0 + 76, &error), 1);
out:
	lease_set_free(&la);
	lease_set_free(&lb);
}

/* deskgate_store_errors_total{during="lease"}, or -1 when absent. */
static long
lease_errors(void)
{
	const char *error, *series = "deskgate_store_errors_total{during=\"lease\"} ";
	size_t len;
	char *text = metrics_render(1 << 20, &len, &error);
	const char *p = text != NULL ? strstr(text, series) : NULL;
	long n = p != NULL ? strtol(p + strlen(series), NULL, 10) : -1;
	free(text);
	return n;
}

/* B holds the write lock (a transaction, or another process): A's
   renewal waits the busy time-out (5 s) and fails. The lease is kept
   until it expires, the failure counted; the next renewals of the set
   within half a renewal interval (ttl 6: 1 s) do not ask the store again,
   so a loop that calls lease_hold() and lease_tick() every turn does not
   wait 5 s each time; once the store answers, the renewal goes through. */
static void
test_renew_locked(struct store *a, struct store *b)
{
	const char *error = NULL;
	test_begin("a renewal the store does not answer");
	metrics_enable();
	struct lease_set *la = lease_set_new(a, 6, &error);
	test_assert(la != NULL);
	if (la == NULL)
		goto out;
	test_assert_int(lease_hold(la, "mailbox:l", T0 + 1000, &error), 1);
	test_assert_int(lease_errors(), 0);
	test_assert_int(store_begin(b, &error), 0);
	double t = clock_mono();
	test_assert_int(lease_hold(la, "mailbox:l", T0 + 1002, &error), 1); /* due, kept */
	test_assert(clock_mono() - t >= 4);
	test_assert_int(lease_errors(), 1);
	t = clock_mono();
	test_assert_int(lease_hold(la, "mailbox:l", T0 + 1002, &error), 1);
	test_assert_int(lease_tick(la, T0 + 1002, &error), 0);
	test_assert(clock_mono() - t < 1);
	test_assert_int(lease_errors(), 1);
	store_rollback(b);
	struct timespec half = { 1, 100 * 1000 * 1000 };
	nanosleep(&half, NULL);
	test_assert_int(lease_hold(la, "mailbox:l", T0 + 1003, &error), 1);
	test_assert_int(lease_errors(), 1);
	struct store_lease *list;
	size_t n;
	int64_t expires = 0;
	test_assert_int(store_lease_list(a, &list, &n, &error), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, "mailbox:l") == 0)
			expires = list[i].expires_at;
	store_leases_free(&list, n);
	test_assert_int(expires, T0 + 1009); /* renewed at T0 + 1003 */
out:
	lease_set_free(&la);
	metrics_disable();
}

/* A pid that is certainly not running. */
static long
dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	int status;
	waitpid(pid, &status, 0);
	return (long)pid;
}

static void
test_dead_holder(struct store *a)
{
	const char *error = NULL;
	char host[256];
	test_begin("a dead holder on this host");
	test_assert_int(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	char *dead = xasprintf("%s:%ld:0badc0de", host, dead_pid());
	char *alive = xasprintf("%s:%ld:0badc0de", host, (long)getppid());
	char *remote = xasprintf("elsewhere.invalid:%ld:0badc0de", dead_pid());
	char *live_name = xasprintf("gateway:%s", dead);
	test_assert_int(store_lease_acquire(a, live_name, dead, T0 + 100, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(a, "mailbox:d", dead, T0 + 100, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(a, "mailbox:e", alive, T0 + 100, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(a, "mailbox:r", remote, T0 + 100, 30, NULL, &error), 1);
	struct lease_set *ls = lease_set_new(a, 30, &error);
	test_assert(ls != NULL);
	if (ls != NULL) {
		/* the dead process's leases went at once; the live one's and
		   the other host's wait for their expiry */
		test_assert_int(lease_hold(ls, "mailbox:d", T0 + 101, &error), 1);
		test_assert_int(lease_hold(ls, "mailbox:e", T0 + 101, &error), 0);
		test_assert_int(lease_hold(ls, "mailbox:r", T0 + 101, &error), 0);
		test_assert_int(lease_hold(ls, "mailbox:r", T0 + 130, &error), 1);
	}
	lease_set_free(&ls);
	(void)store_lease_release(a, NULL, alive, &error);
	free(live_name);
	free(dead);
	free(alive);
	free(remote);
}

static int64_t
queue(struct store *store, int n)
{
	char *msgid = xasprintf("claim-%d@example.test", n);
	struct store_outbox o = {
		.kind = "ack",
		.message_id = msgid,
		.envelope_from = "support@example.test",
		.recipients = "c@example.net",
		.raw = (const unsigned char *)"Subject: x\r\n\r\nx\r\n",
		.raw_size = 17,
		.created_at = T0,
		.next_attempt_at = T0,
	};
	int64_t id = 0;
	const char *error;
	if (store_outbox_insert(store, &o, &id, &error) < 0)
		printf("outbox: %s\n", error);
	free(msgid);
	return id;
}

static void
test_claims(struct store *a, struct store *b)
{
	const char *error = NULL;
	struct store_outbox *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0;
	int64_t resends;
	test_begin("outbox claims");
	int64_t id[4];
	for (int i = 0; i < 4; i++)
		id[i] = queue(a, i);
	/* A and B are alive */
	test_assert_int(store_lease_acquire(a, "gateway:A", "A", T0, 30, NULL, &error), 1);
	test_assert_int(store_lease_acquire(b, "gateway:B", "B", T0, 30, NULL, &error), 1);
	test_assert_int(store_outbox_claim(a, "A", T0, T0 + 300, 2, &la, &na, &error), 0);
	test_assert_int(na, 2);
	if (na == 2) {
		test_assert_int(la[0].id, id[0]);
		test_assert_int(la[1].id, id[1]);
		test_assert_str(la[0].status, "sending");
		test_assert_int(la[0].attempts, 0);
	}
	test_assert_int(store_outbox_claim(b, "B", T0, T0 + 300, 10, &lb, &nb, &error), 0);
	test_assert_int(nb, 2);
	if (nb == 2) {
		test_assert_int(lb[0].id, id[2]);
		test_assert_int(lb[1].id, id[3]);
	}
	store_outboxes_free(&lb, nb);
	/* nothing left: A's rows are in flight and A is alive */
	test_assert_int(store_outbox_claim(b, "B", T0 + 1, T0 + 300, 10, &lb, &nb, &error), 0);
	test_assert_int(nb, 0);
	store_outboxes_free(&lb, nb);
	test_assert_int(store_outbox_resends(a, &resends, &error), 0);
	test_assert_int(resends, 0);
	/* B sends its two */
	for (int i = 2; i < 4; i++)
		test_assert_int(store_outbox_update(b, id[i], "sent", 1, T0, NULL, "250", &error), 0);
	/* A sends one, then dies (its liveness lease expires at T0 + 30) */
	test_assert_int(store_outbox_update(a, id[0], "sent", 1, T0, NULL, "250", &error), 0);
	store_outboxes_free(&la, na);
	test_assert_int(store_outbox_claim(b, "B", T0 + 29, T0 + 300, 10, &lb, &nb, &error), 0);
	test_assert_int(nb, 0);
	store_outboxes_free(&lb, nb);
	test_assert_int(store_lease_renew(b, "gateway:B", "B", T0 + 20, 30, &error), 1);
	test_assert_int(store_outbox_claim(b, "B", T0 + 31, T0 + 300, 10, &lb, &nb, &error), 0);
	test_assert_int(nb, 1);
	if (nb == 1) {
		test_assert_int(lb[0].id, id[1]);
		/* the same row, so the same Message-ID */
		test_assert_str(lb[0].message_id, "claim-1@example.test");
	}
	store_outboxes_free(&lb, nb);
	test_assert_int(store_outbox_resends(a, &resends, &error), 0);
	test_assert_int(resends, 1);

	/* a claim that expires is taken again even from a live claimer */
	int64_t late = queue(a, 9);
	test_assert_int(store_lease_renew(b, "gateway:B", "B", T0 + 40, 300, &error), 1);
	test_assert_int(store_outbox_claim(b, "B", T0 + 40, T0 + 50, 10, &lb, &nb, &error), 0);
	test_assert_int(nb, 1); /* late only: B's own claim of id[1] stands */
	if (nb == 1)
		test_assert_int(lb[0].id, late);
	store_outboxes_free(&lb, nb);
	test_assert_int(store_lease_acquire(a, "gateway:A", "A", T0 + 40, 300, NULL, &error), 1);
	test_assert_int(store_outbox_claim(a, "A", T0 + 49, T0 + 400, 10, &la, &na, &error), 0);
	test_assert_int(na, 0);
	store_outboxes_free(&la, na);
	test_assert_int(store_outbox_claim(a, "A", T0 + 50, T0 + 400, 10, &la, &na, &error), 0);
	test_assert_int(na, 1);
	if (na == 1)
		test_assert_int(la[0].id, late);
	store_outboxes_free(&la, na);
	test_assert_int(store_outbox_resends(a, &resends, &error), 0);
	test_assert_int(resends, 2);

	test_begin("outbox claims: invalid");
	test_assert_int(store_outbox_claim(a, "", T0, T0 + 1, 1, &la, &na, &error), STORE_DATA_BAD);
	test_assert_int(store_outbox_claim(a, "A", T0, T0 - 1, 1, &la, &na, &error),
			STORE_DATA_BAD);
	test_assert_int(store_begin(a, &error), 0);
	test_assert_int(store_outbox_claim(a, "A", T0, T0 + 1, 1, &la, &na, &error),
			STORE_UNAVAILABLE);
	store_rollback(a);
	test_assert_int(store_wake_notify(a, "outbox", &error), 0); /* SQLite: no wake */
}

int
main(void)
{
	char tmpl[] = "/tmp/test-lease.XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (tmpdir == NULL)
		return test_skip("mkdtemp failed");
	struct store *a = open_store("a"), *b = open_store("b");
	test_assert(a != NULL && b != NULL);
	if (a != NULL && b != NULL) {
		test_leases(a, b);
		test_fence(a, b);
		test_dead_holder(a);
		test_claims(a, b);
		test_renew_locked(a, b);
	}
	store_close(&a);
	store_close(&b);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	free(cmd);
	return test_exit();
}
