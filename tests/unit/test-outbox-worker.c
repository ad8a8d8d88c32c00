/*
 * test-outbox-worker: the outbox on its own thread over a real SQLite
 * store. A relay that accepts the connection but never greets (a listening
 * socket nobody accepts on) stalls the worker's send; meanwhile the
 * caller's own store connection writes and commits at once (the worker
 * holds no transaction across a send); a stop waits for the stalled
 * attempt ([smtp] timeout), leaves nothing "sending" and the second row
 * untouched; a reload makes the worker read the file again (a relay
 * moved to another port is then tried there); a worker that cannot open
 * its configuration does not start.
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/outbox-worker.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "base/util.h"
#include "tests/unit/test.h"
#include "tests/unit/desk-test.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A listening socket on 127.0.0.1 that never accepts: connections
   complete in the kernel's backlog and no greeting ever comes. */
static int
silent_relay(int *port_r)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	*port_r = ntohs(sa.sin_port);
	return fd;
}

static int
closed_port(void)
{
	int fd, port;
	fd = silent_relay(&port);
	close(fd);
	return port;
}

static int64_t
queue_one(struct store *store, struct config *config, const char *msgid)
{
	static const char raw[] = "From: support@example.test\r\nTo: alice@example.net\r\n"
				  "Subject: hi\r\n\r\nbody\r\n";
	const char *rcpts[] = { "alice@example.net" };
	const char *error = NULL;
	int64_t id = 0;
	if (outbox_queue(store, config, 0, "ack", msgid, (const unsigned char *)raw,
			 sizeof(raw) - 1, rcpts, 1, time(NULL), &id, &error) < 0)
		printf("queue: %s\n", error);
	return id;
}

/* "status attempts" of row id ("" when it cannot be read) */
static char *
row(struct store *store, int64_t id)
{
	struct store_outbox *o = NULL;
	const char *error;
	char *s = xstrdup("");
	if (store_outbox_get(store, id, &o, &error) > 0) {
		free(s);
		s = xasprintf("%s %lld", o->status, (long long)o->attempts);
	}
	store_outbox_free(&o);
	return s;
}

static int
last_error_has_port(struct store *store, int64_t id, int port)
{
	struct store_outbox *o = NULL;
	const char *error;
	char want[32];
	snprintf(want, sizeof(want), "port %d", port);
	int ok = store_outbox_get(store, id, &o, &error) > 0 && o->last_error != NULL &&
		 strstr(o->last_error, want) != NULL;
	if (!ok)
		printf("row %lld: last error %s, wanted %s\n", (long long)id,
		       o != NULL && o->last_error != NULL ? o->last_error : "(none)", want);
	store_outbox_free(&o);
	return ok;
}

static int
wait_row(struct store *store, int64_t id, const char *want, double secs)
{
	double until = now_s() + secs;
	for (;;) {
		char *s = row(store, id);
		int ok = strcmp(s, want) == 0;
		free(s);
		if (ok)
			return 1;
		if (now_s() > until)
			return 0;
		usleep(20 * 1000);
	}
}

static char *
smtp_section(int port)
{
	return xasprintf("hostname = gw.example.test\nsupport_address = support@example.test\n"
			 "[smtp]\nhost = 127.0.0.1\nport = %d\nsecurity = none\ntimeout = 2s\n"
			 "retry_initial = 1h\n",
			 port);
}

static void
test_stall_and_stop(void)
{
	char dir[] = "/tmp/dg-test-outbox-worker.XXXXXX";
	struct config *config;
	struct store *store;
	struct outbox_worker *w = NULL;
	const char *error;
	int port;
	int relay = silent_relay(&port);
	test_begin("a stalled relay stalls only the worker; stop waits for the attempt");
	char *sections = smtp_section(port);
	if (mkdtemp(dir) == NULL || desk_open(dir, sections, &config, &store) < 0) {
		test_assert(0);
		free(sections);
		return;
	}
	free(sections);
	int64_t id1 = queue_one(store, config, "w1@example.test");
	int64_t id2 = queue_one(store, config, "w2@example.test");
	test_assert_int(outbox_worker_start(config, "test-host:1:abc", 60, &w, &error), 0);
	/* claimed as a batch, the first in flight at the silent relay */
	test_assert(wait_row(store, id1, "sending 1", 3.0));
	/* the caller's connection writes while the worker waits on the relay */
	double t0 = now_s();
	int64_t id3 = queue_one(store, config, "w3@example.test");
	test_assert(id3 > 0);
	test_assert(now_s() - t0 < 0.5);

	/* stop: the attempt runs out ([smtp] timeout 2 s), the relay counts
	   as down, the rest of the batch goes back as it was */
	t0 = now_s();
	test_assert_int(outbox_worker_stop(&w), 0);
	double took = now_s() - t0;
	test_assert(w == NULL);
	test_assert(took < 4.0);
	char *s = row(store, id1);
	test_assert_str(s, "queued 1");
	free(s);
	s = row(store, id2);
	test_assert_str(s, "queued 0");
	free(s);
	s = row(store, id3);
	test_assert_str(s, "queued 0"); /* queued after the claim: not tried */
	free(s);
	close(relay);

	/* a reload reads the file again: the relay moved from one closed
	   port to another; a row queued after the reload is tried there */
	int p1 = closed_port(), p2;
	do
		p2 = closed_port();
	while (p2 == p1);
	sections = smtp_section(p1);
	free(desk_write_config(dir, sections));
	free(sections);
	test_assert_int(outbox_worker_start(config, NULL, 60, &w, &error), 0);
	test_assert(wait_row(store, id2, "queued 1", 3.0));
	test_assert(last_error_has_port(store, id2, p1));
	sections = smtp_section(p2);
	free(desk_write_config(dir, sections));
	free(sections);
	/* the paused queue (relay down) starts again with the new relay; id3
	   was claimed with id2 and goes back untried once id2's outcome is
	   recorded (a commit of its own, after id2's: waited for, not read at
	   once, or the read may fall between the two) */
	test_assert(wait_row(store, id3, "queued 0", 3.0));
	outbox_worker_reload(w);
	test_assert(wait_row(store, id3, "queued 1", 3.0));
	test_assert(last_error_has_port(store, id3, p2));
	t0 = now_s();
	test_assert_int(outbox_worker_stop(&w), 0);
	test_assert(now_s() - t0 < 1.5);
	outbox_worker_stop(&w); /* NULL is fine */

	/* no configuration file: no worker */
	char *conf = xasprintf("%s/deskgate.conf", dir);
	unlink(conf);
	free(conf);
	test_assert_int(outbox_worker_start(config, NULL, 60, &w, &error), -1);
	test_assert(w == NULL);

	store_close(&store);
	config_free(&config);
	desk_rm_tree(dir);
}

/* outbox_set_stop() set before a run: the claimed batch goes back as it
   was (the stop path of outbox_run_due()), nothing attempted */
static void
test_stop_flag(void)
{
	char dir[] = "/tmp/dg-test-outbox-stop.XXXXXX";
	struct config *config;
	struct store *store;
	struct outbox *ob;
	struct outbox_run_stats st;
	const char *error;
	test_begin("a stop puts the claimed batch back untouched");
	char *sections = smtp_section(closed_port());
	if (mkdtemp(dir) == NULL || desk_open(dir, sections, &config, &store) < 0) {
		test_assert(0);
		free(sections);
		return;
	}
	free(sections);
	int64_t id1 = queue_one(store, config, "s1@example.test");
	int64_t id2 = queue_one(store, config, "s2@example.test");
	atomic_int stop;
	atomic_init(&stop, 1);
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	outbox_set_claimant(ob, "test-host:2:def", 60);
	outbox_set_stop(ob, &stop);
	test_assert_int(outbox_run_due(ob, time(NULL), 0, &st, &error), 0);
	test_assert_int(st.stopped, 1);
	test_assert_int(st.sent + st.deferred + st.failed, 0);
	char *s = row(store, id1);
	test_assert_str(s, "queued 0");
	free(s);
	s = row(store, id2);
	test_assert_str(s, "queued 0");
	free(s);
	/* not stopping: the first is tried (and deferred: nobody listens) */
	atomic_store(&stop, 0);
	test_assert_int(outbox_run_due(ob, time(NULL), 0, &st, &error), 0);
	test_assert_int(st.stopped, 0);
	test_assert_int(st.deferred, 1);
	outbox_free(&ob);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(dir);
}

int
main(void)
{
	log_init("test-outbox-worker", LOG_LEVEL_ERROR);
	test_stop_flag();
	test_stall_and_stop();
	return test_exit();
}
