/* test-service: the STATUS= line and reading the status file back (the
   daemon's side is exercised by tests/integration/test-ops-*.sh). */
#include "build-config.h"

#include <unistd.h>

#include "gateway/service.h"
#include "gateway/store.h"
#include "test.h"

static void
test_line(void)
{
	test_begin("STATUS= line");
	char *l = service_status_line(NULL, 0, NULL);
	test_assert_str(l, "no mailboxes");
	free(l);
	struct poller_mb_status mbs[] = {
		{ .name = "support", .state = POLLER_MB_IDLE, .connected = 1 },
		{ .name = "sales", .state = POLLER_MB_BACKOFF, .failures = 1 },
		{ .name = "vip\nline", .state = POLLER_MB_SYNCING, .connected = 1, .backlog = 120 },
		{ .name = "b", .state = POLLER_MB_BACKOFF, .failures = 4 },
	};
	struct store_stats st = { .outbox_queued = 2, .outbox_sending = 1, .outbox_deferred = 3,
				  .outbox_failed = 4, .quarantine_held = 5, .tickets_unanswered = 6 };
	l = service_status_line(mbs, 4, &st);
	test_assert_str(l, "support idle, sales backoff after 1 failure, vip?line syncing (120 to go), "
			   "b backoff after 4 failures; outbox 3 queued, 3 deferred, 4 failed; "
			   "quarantine 5; unanswered 6");
	free(l);

	test_begin("a line with very many mailboxes stays bounded");
	struct poller_mb_status many[500];
	for (size_t i = 0; i < 500; i++)
		many[i] = (struct poller_mb_status){ .name = "mailbox-with-a-long-name",
						     .state = POLLER_MB_WAITING };
	l = service_status_line(many, 500, &st);
	test_assert(strlen(l) < 4096);
	test_assert(strncmp(l, "mailbox-with-a-long-name waiting, ", 34) == 0);
	free(l);

	test_begin("state names");
	test_assert_str(service_state_name(POLLER_MB_CONNECTING), "connecting");
	test_assert_str(service_state_name(POLLER_MB_FAILED), "failed");
	test_assert_str(service_state_name((enum poller_mb_state)99), "unknown");
}

static void
test_read(void)
{
	char dir[] = "/tmp/dg-service.XXXXXX";
	char path[128];
	struct service_snapshot *s = NULL;
	const char *error = NULL;
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, SERVICE_STATUS_FILE);

	test_begin("status file: absent");
	test_assert_int(service_snapshot_read(dir, &s, &error), 0);
	test_assert(s == NULL);

	test_begin("status file: read back");
	test_write_file(path, "{\"version\": 1, \"pid\": 42, \"started_at\": 100, \"updated_at\": 200,"
			 " \"metrics\": \"127.0.0.1:9166\", \"mailboxes\": ["
			 " {\"name\": \"support\", \"state\": \"idle\", \"connected\": true,"
			 "  \"failures\": 0, \"last_sync\": 190, \"last_error\": null, \"backlog\": 0},"
			 " {\"name\": \"sales\", \"state\": \"backoff\", \"connected\": false,"
			 "  \"failures\": 2, \"last_sync\": 0, \"last_error\": \"LOGIN failed\","
			 "  \"backlog\": 7},"
			 " {\"state\": \"nameless: skipped\"}, 17]}");
	test_assert_int(service_snapshot_read(dir, &s, &error), 1);
	if (s != NULL) {
		test_assert_int(s->pid, 42);
		test_assert_int(s->started_at, 100);
		test_assert_int(s->updated_at, 200);
		test_assert_int(s->stopped_at, 0);
		test_assert_str(s->metrics, "127.0.0.1:9166");
		test_assert_int(s->n_mailboxes, 2);
		test_assert_str(s->mailboxes[0].name, "support");
		test_assert_int(s->mailboxes[0].connected, 1);
		test_assert_int(s->mailboxes[0].last_sync, 190);
		test_assert(s->mailboxes[0].last_error == NULL);
		test_assert_str(s->mailboxes[1].state, "backoff");
		test_assert_int(s->mailboxes[1].failures, 2);
		test_assert_str(s->mailboxes[1].last_error, "LOGIN failed");
		test_assert_int(s->mailboxes[1].backlog, 7);
	}
	service_snapshot_free(&s);
	test_assert(s == NULL);

	test_begin("status file: broken, wrong version, duplicate keys");
	test_write_file(path, "{\"version\": 1, \"pid\": ");
	test_assert_int(service_snapshot_read(dir, &s, &error), -1);
	test_assert(error != NULL && strstr(error, SERVICE_STATUS_FILE) != NULL);
	test_write_file(path, "{\"version\": 2, \"pid\": 1}");
	test_assert_int(service_snapshot_read(dir, &s, &error), -1);
	test_assert(strstr(error, "version 1") != NULL);
	test_write_file(path, "{\"version\": 1, \"pid\": 1, \"pid\": 2}");
	test_assert_int(service_snapshot_read(dir, &s, &error), -1);
	test_write_file(path, "[1, 2]");
	test_assert_int(service_snapshot_read(dir, &s, &error), -1);
	test_assert(s == NULL);

	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_line();
	test_read();
	return test_exit();
}
