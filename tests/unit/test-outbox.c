/* test-outbox: delivery policy (gateway/outbox.c) over a real store, with
   the relay on a closed port (so every attempt is a temporary connection
   failure; sending for real is tested against Postfix in
   tests/integration/test-smtp*.sh). Times are simulated. */
#include "build-config.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "parsers/dsn.h"
#include "base/util.h"
#include "tests/unit/test.h"

#define T0 1700000000

static char tmpdir[] = "/tmp/dg-outbox.XXXXXX";

/* A port on 127.0.0.1 with nobody listening. */
static int
closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	close(fd);
	return ntohs(sa.sin_port);
}

static void
set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

static struct config *
make_config(const char *envelope_from)
{
	struct config *c = config_defaults(tmpdir);
	set_str(&c->smtp.host, "127.0.0.1");
	c->smtp.port = (uint64_t)closed_port();
	set_str(&c->smtp.security, "none");
	set_str(&c->smtp.envelope_from, envelope_from);
	set_str(&c->support_address, "support@example.test");
	c->smtp.retry_initial = 60;
	c->smtp.retry_max_age = 1000;
	c->smtp.timeout = 5;
	return c;
}

static int64_t
new_ticket(struct store *store)
{
	struct store_ticket t = { 0 };
	int64_t id = 0;
	const char *error;
	t.subject = "test";
	t.customer_address = "alice@example.net";
	if (store_ticket_insert(store, &t, &id, &error) < 0) {
		printf("ticket: %s\n", error);
		abort();
	}
	return id;
}

static int64_t
queue(struct store *store, struct config *config, int64_t ticket, const char *msgid,
      int64_t now)
{
	static const char raw[] = "From: support@example.test\r\nTo: alice@example.net\r\n"
				  "Subject: hi\r\n\r\nbody\r\n";
	const char *rcpts[] = { "alice@example.net", "bob@example.net" };
	const char *error = NULL;
	int64_t id = 0;
	int r = outbox_queue(store, config, ticket, "ack", msgid, (const unsigned char *)raw,
			     sizeof(raw) - 1, rcpts, 2, now, &id, &error);
	test_assert_int(r, 0);
	if (r < 0)
		printf("queue: %s\n", error);
	return id;
}

static struct store_outbox *
get(struct store *store, int64_t id)
{
	struct store_outbox *o = NULL;
	const char *error;
	test_assert_int(store_outbox_get(store, id, &o, &error), 1);
	return o;
}

static int
count_events(struct store *store, int64_t ticket, const char *kind)
{
	struct store_event *ev;
	size_t n;
	const char *error;
	int count = 0;
	if (store_event_list(store, ticket, &ev, &n, &error) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		count += strcmp(ev[i].kind, kind) == 0;
	store_events_free(&ev, n);
	return count;
}

static void
test_queue(struct store *store, struct config *config)
{
	const char *error;
	int64_t id;
	const char *bad[][2] = { { "a@b.example", "evil@x\r\nRCPT TO:<y@z>" },
				 { "a@b.example", "no-at-sign" },
				 { "a@b.example", "a,b@c.example" } };
	test_begin("queue refuses bad recipients");
	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		test_assert_int(outbox_queue(store, config, 0, "ack", "x1@example.test",
					     (const unsigned char *)"x", 1, bad[i], 2, T0, &id, &error),
				-1);
	test_assert_int(outbox_queue(store, config, 0, "ack", "x2@example.test",
				     (const unsigned char *)"x", 1, NULL, 0, T0, &id, &error),
			-1);

	test_begin("queue");
	int64_t qid = id = queue(store, config, 0, "q1@example.test", T0);
	struct store_outbox *o = get(store, id);
	if (o != NULL) {
		test_assert_str(o->status, "queued");
		test_assert_str(o->recipients, "alice@example.net, bob@example.net");
		test_assert_str(o->envelope_from, "support@example.test");
		test_assert_int(o->created_at, T0);
		test_assert_int(o->next_attempt_at, T0);
		test_assert_int(o->attempts, 0);
	}
	store_outbox_free(&o);
	/* the same Message-ID twice is refused by the store */
	const char *rcpt[] = { "alice@example.net" };
	test_assert_int(outbox_queue(store, config, 0, "ack", "q1@example.test",
				     (const unsigned char *)"x", 1, rcpt, 1, T0, &id, &error),
			STORE_DATA_BAD);
	test_assert_int(outbox_cancel(store, qid, &error), 0);
}

static void
test_backoff(struct store *store, struct config *config)
{
	struct outbox *ob;
	struct outbox_run_stats st;
	const char *error;
	int64_t ticket = new_ticket(store);
	int64_t id = queue(store, config, ticket, "b1@example.test", T0);
	queue(store, config, ticket, "b2@example.test", T0);

	test_begin("backoff");
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	int64_t when;
	test_assert_int(outbox_next_due(ob, T0, &when, &error), 1);
	test_assert_int(when, T0);

	/* relay down: the first message is deferred, the second not tried */
	test_assert_int(outbox_run_due(ob, T0, 0, &st, &error), 0);
	test_assert_int(st.deferred, 1);
	test_assert_int(st.sent, 0);
	test_assert_int(st.relay_down, 1);
	struct store_outbox *o = get(store, id);
	if (o != NULL) {
		test_assert_str(o->status, "queued");
		test_assert_int(o->attempts, 1);
		test_assert_int(o->next_attempt_at, T0 + 60);
		test_assert(o->last_error != NULL && strlen(o->last_error) > 0);
	}
	store_outbox_free(&o);
	o = get(store, id + 1);
	if (o != NULL) {
		test_assert_str(o->status, "queued"); /* put back, not left "sending" */
		test_assert_int(o->attempts, 0);
	}
	store_outbox_free(&o);
	test_assert_int(count_events(store, ticket, "mail-deferred"), 1);

	/* the queue is paused: nothing is tried before the pause ends */
	test_assert_int(outbox_run_due(ob, T0 + 30, 0, &st, &error), 0);
	test_assert_int(st.relay_down, 1);
	test_assert_int(st.deferred, 0);
	test_assert_int(outbox_next_due(ob, T0 + 30, &when, &error), 1);
	test_assert_int(when, T0 + 60);

	/* the pause is over: oldest first, the first message again */
	test_assert_int(outbox_cancel(store, id + 1, &error), 0);
	test_assert_int(outbox_run_due(ob, T0 + 60, 0, &st, &error), 0);
	test_assert_int(st.deferred, 1);
	o = get(store, id);
	if (o != NULL) {
		test_assert_int(o->attempts, 2);
		test_assert_int(o->next_attempt_at, T0 + 60 + 120);
	}
	store_outbox_free(&o);
	outbox_free(&ob);
	test_assert(ob == NULL);

	/* a fresh outbox (restart) has no pause; retries double: 60, 120, 240,
	   480, then the last attempt at the deadline (T0 + 1000), then failed */
	int64_t now;
	int64_t prev_next = 0;
	for (int attempt = 2; attempt <= 10; attempt++) {
		o = get(store, id);
		if (o == NULL)
			break;
		if (strcmp(o->status, "failed") == 0) {
			store_outbox_free(&o);
			break;
		}
		now = o->next_attempt_at;
		prev_next = o->next_attempt_at;
		store_outbox_free(&o);
		test_assert_int(outbox_new(store, config, &ob, &error), 0);
		test_assert_int(outbox_run_due(ob, now, 1, &st, &error), 0);
		outbox_free(&ob);
		o = get(store, id);
		if (o != NULL && strcmp(o->status, "queued") == 0) {
			int64_t delay = o->next_attempt_at - now;
			int64_t want = (int64_t)60 << (o->attempts - 1);
			if (now + want > T0 + 1000)
				want = T0 + 1000 - now;
			test_assert_int(delay, want);
		}
		store_outbox_free(&o);
	}
	o = get(store, id);
	if (o != NULL) {
		test_assert_str(o->status, "failed");
		test_assert_int(prev_next, T0 + 1000); /* the last try was at the deadline */
		test_assert(o->last_error != NULL && strstr(o->last_error, "gave up") != NULL);
		test_assert_int(o->attempts, 6);
	}
	store_outbox_free(&o);
	test_assert_int(count_events(store, ticket, "mail-failed"), 1);
}

static void
test_crash_recovery(struct store *store, struct config *config)
{
	const char *error;
	struct store_outbox *list;
	size_t n;
	test_begin("crash recovery");
	int64_t id = queue(store, config, 0, "c1@example.test", T0 + 5000);
	/* as if the gateway died while sending: attempts already counted */
	test_assert_int(store_outbox_update(store, id, "sending", 1, T0 + 9999, NULL, NULL, &error),
			0);
	test_assert_int(store_outbox_due(store, T0 + 5000, 0, &list, &n, &error), 0);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found |= list[i].id == id;
	test_assert(found);
	store_outboxes_free(&list, n);
	struct outbox *ob;
	int64_t when;
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	test_assert_int(outbox_next_due(ob, T0 + 5000, &when, &error), 1);
	test_assert_int(when, T0 + 5000);
	struct outbox_run_stats st;
	test_assert_int(outbox_run_due(ob, T0 + 5000, 0, &st, &error), 0);
	struct store_outbox *o = get(store, id);
	if (o != NULL) {
		test_assert_str(o->status, "queued");
		test_assert_int(o->attempts, 2);
	}
	store_outbox_free(&o);
	outbox_free(&ob);
	outbox_cancel(store, id, &error);
}

static void
test_operator(struct store *store, struct config *config)
{
	const char *error = NULL;
	int64_t ticket = new_ticket(store);
	int64_t id = queue(store, config, ticket, "o1@example.test", T0);
	test_begin("cancel and retry");
	test_assert_int(outbox_cancel(store, id, &error), 0);
	struct store_outbox *o = get(store, id);
	if (o != NULL)
		test_assert_str(o->status, "cancelled");
	store_outbox_free(&o);
	test_assert_int(outbox_cancel(store, id, &error), -1);
	test_assert(error != NULL && strstr(error, "cancelled") != NULL);
	test_assert_int(outbox_retry(store, id, T0 + 77, &error), 0);
	o = get(store, id);
	if (o != NULL) {
		test_assert_str(o->status, "queued");
		test_assert_int(o->next_attempt_at, T0 + 77);
	}
	store_outbox_free(&o);
	test_assert_int(store_outbox_update(store, id, "sent", 1, T0, NULL, "250", &error), 0);
	test_assert_int(outbox_retry(store, id, T0, &error), -1);
	test_assert_int(outbox_cancel(store, id, &error), -1);
	test_assert_int(store_outbox_update(store, id, "sending", 1, T0, NULL, NULL, &error), 0);
	test_assert_int(outbox_cancel(store, id, &error), -1);
	test_assert(error != NULL && strstr(error, "in flight") != NULL);
	test_assert_int(outbox_retry(store, 999999, T0, &error), -1);
	test_assert_int(count_events(store, ticket, "mail-cancelled"), 1);
	test_assert_int(count_events(store, ticket, "mail-retry"), 1);
	test_assert_int(store_outbox_update(store, id, "sent", 1, T0, NULL, "250", &error), 0);
}

static void
test_verp_and_reports(struct store *store)
{
	const char *error;
	struct config *config = make_config("support+{verp}@example.test");
	struct outbox *ob, *ob2;
	test_begin("verp");
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	char *path = xasprintf("%s/verp.key", tmpdir);
	struct stat sb;
	test_assert_int(stat(path, &sb), 0);
	test_assert_int(sb.st_mode & 0777, 0600);
	free(path);
	char *a = outbox_envelope_from(ob, config->smtp.envelope_from, 42);
	test_assert(strncmp(a, "support+bounce-42-", 18) == 0);
	test_assert(strlen(a) == 18 + 10 + strlen("@example.test"));
	test_assert(strcmp(a + 28, "@example.test") == 0);
	int64_t id = 0;
	test_assert_int(outbox_verp_match(ob, a, &id), 1);
	test_assert_int(id, 42);
	/* the same key after a restart */
	test_assert_int(outbox_new(store, config, &ob2, &error), 0);
	char *b = outbox_envelope_from(ob2, config->smtp.envelope_from, 42);
	test_assert_str(b, a);
	outbox_free(&ob2);
	/* case folded by a mail system: still ours */
	char *upper = xstrdup(a);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	test_assert_int(outbox_verp_match(ob, upper, &id), 1);
	free(upper);
	/* forged: another id with this tag, a changed tag, other shapes */
	char *forged = xstrdup(a);
	forged[16] = '3';
	test_assert_int(outbox_verp_match(ob, forged, &id), 0);
	forged[16] = '2';
	forged[20] = forged[20] == 'a' ? 'b' : 'a';
	test_assert_int(outbox_verp_match(ob, forged, &id), 0);
	free(forged);
	static const char *const not_ours[] = {
		"support@example.test", "support+bounce-42@example.test",
		"support+bounce--abcdefghij@example.test", "support+bounce-42-abc@example.test",
		"other+bounce-42-abcdefghij@example.test", "support+bounce-42-abcdefghij@other.test",
		"", "support+bounce-0-abcdefghij@example.test",
	};
	for (size_t i = 0; i < N_ELEMENTS(not_ours); i++)
		test_assert_int(outbox_verp_match(ob, not_ours[i], &id), 0);
	test_assert_int(outbox_verp_match(ob, NULL, &id), 0);
	/* without {verp} the envelope is the configured address */
	char *plain = outbox_envelope_from(ob, "support@example.test", 42);
	test_assert_str(plain, "support@example.test");
	free(plain);
	free(b);

	/* reports */
	test_begin("reports");
	int64_t ticket = new_ticket(store);
	int64_t id1 = queue(store, config, ticket, "r1@example.test", T0);
	int64_t id2 = queue(store, config, ticket, "r2@example.test", T0);
	test_assert_int(store_outbox_update(store, id1, "sent", 1, T0, NULL, "250", &error), 0);
	test_assert_int(store_outbox_update(store, id2, "sent", 1, T0, NULL, "250", &error), 0);

	struct dsn_recipient rc = { 0 };
	rc.address = "alice@example.net";
	rc.action = "failed";
	memcpy(rc.status, "5.1.1", 6);
	memcpy(rc.reply_code, "550", 4);
	rc.diagnostic = "550 5.1.1 User unknown";
	struct dsn_report rep = { 0 };
	rep.kind = DSN_FAILED;
	rep.format = "rfc3464";
	rep.recipients = &rc;
	rep.n_recipients = 1;
	rep.original_message_id = "r1@example.test";
	int64_t matched = 0;
	test_assert_int(outbox_apply_report(ob, &rep, T0, &matched, &error), 1);
	test_assert_int(matched, id1);
	struct store_outbox *o = get(store, id1);
	if (o != NULL) {
		test_assert_str(o->status, "failed");
		test_assert_str(o->last_code, "550 5.1.1");
		test_assert(o->last_error != NULL && strstr(o->last_error, "User unknown") != NULL);
	}
	store_outbox_free(&o);
	test_assert_int(count_events(store, ticket, "mail-bounced"), 1);

	/* by VERP, when the bounce quotes nothing */
	char *verp = outbox_envelope_from(ob, config->smtp.envelope_from, id2);
	char *env[] = { verp };
	rep.original_message_id = NULL;
	rep.envelope_to = env;
	rep.n_envelope_to = 1;
	rep.kind = DSN_DELAYED;
	memcpy(rc.status, "4.4.1", 6);
	rc.action = "delayed";
	test_assert_int(outbox_apply_report(ob, &rep, T0, &matched, &error), 1);
	test_assert_int(matched, id2);
	o = get(store, id2);
	if (o != NULL)
		test_assert_str(o->status, "sent"); /* a delay does not fail it */
	store_outbox_free(&o);
	test_assert_int(count_events(store, ticket, "mail-delayed"), 1);
	free(verp);

	/* nothing to match */
	rep.envelope_to = NULL;
	rep.n_envelope_to = 0;
	rep.original_message_id = "unknown@example.test";
	test_assert_int(outbox_apply_report(ob, &rep, T0, &matched, &error), 0);
	rep.kind = DSN_NONE;
	test_assert_int(outbox_apply_report(ob, &rep, T0, &matched, &error), 0);
	test_assert_int(outbox_apply_report(ob, NULL, T0, &matched, &error), 0);

	free(a);
	outbox_free(&ob);
	config_free(&config);
}

/* The SMTP client's XOAUTH2 token_command runs with a clean signal state
   and a timeout, like the poller's (one credential helper): the daemon
   blocks TERM/INT/HUP and ignores SIGPIPE, and a hanging helper must not
   stop the loop. */
static void
test_token_command(struct store *store)
{
	struct outbox *ob;
	struct outbox_run_stats st;
	const char *error;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

	test_begin("smtp token_command: signal state and timeout");
	char *out = xasprintf("%s/token-signals", tmpdir);
	struct config *config = make_config(NULL);
	set_str(&config->smtp.auth, "xoauth2");
	set_str(&config->smtp.username, "support@example.test");
	char *cmd = xasprintf("awk '/^Sig(Blk|Ign)/ { printf \"%%s \", $2 }' /proc/self/status "
			      ">%s; echo token",
			      out);
	set_str(&config->smtp.token_command, cmd);
	int64_t ticket = new_ticket(store);
	int64_t first = queue(store, config, ticket, "token-1@example.test", T0);
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	test_assert_int(outbox_run_due(ob, T0, 0, &st, &error), 0);
	outbox_free(&ob);
	FILE *fp = fopen(out, "r");
	char line[128] = "";
	if (fp != NULL) {
		if (fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		fclose(fp);
	}
	char *end;
	unsigned long long blocked = strtoull(line, &end, 16);
	unsigned long long ignored = end != line ? strtoull(end, NULL, 16) : ~0ULL;
	test_assert(line[0] != '\0');
	test_assert_int(blocked & 0x7fffffffULL, 0); /* nothing blocked */
	test_assert_int(ignored & 0x7fffffffULL, 0); /* SIGPIPE not ignored */

	/* a helper that hangs is cut off after [smtp] timeout */
	config->smtp.timeout = 1;
	set_str(&config->smtp.token_command, "sleep 30; echo late");
	test_assert_int(outbox_cancel(store, first, &error), 0);
	queue(store, config, ticket, "token-2@example.test", T0 + 3600);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	test_assert_int(outbox_new(store, config, &ob, &error), 0);
	test_assert_int(outbox_run_due(ob, T0 + 3600, 0, &st, &error), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	outbox_free(&ob);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	test_assert(took < 5);
	test_assert_int(st.deferred, 1);
	test_assert_int(st.relay_down, 1);

	free(cmd);
	free(out);
	config_free(&config);
	signal(SIGPIPE, old_pipe);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Several processes making the VERP key at once (the daemon and a
   `deskgate ingest` from the MTA, say): each must either create it or read
   the one another made, never a half-written file, and all must end up
   with the same key. */
static void
test_verp_key_race(void)
{
	enum { ROUNDS = 30, PROCS = 6 };
	int failures = 0, disagreements = 0;
	test_begin("verp.key made by several processes at once");
	for (int round = 0; round < ROUNDS; round++) {
		char *dir = xasprintf("%s/race%d", tmpdir, round);
		if (mkdir(dir, 0700) < 0)
			abort();
		int gate[2], results[2];
		if (pipe(gate) < 0 || pipe(results) < 0)
			abort();
		pid_t pids[PROCS];
		for (int k = 0; k < PROCS; k++) {
			pids[k] = fork();
			if (pids[k] < 0)
				abort();
			if (pids[k] == 0) {
				char c;
				close(gate[1]);
				close(results[0]);
				/* wait for the gate to open: all start together */
				if (read(gate[0], &c, 1) < 0)
					_exit(2);
				struct config *config = config_defaults(dir);
				set_str(&config->smtp.envelope_from, "support+{verp}@example.test");
				struct outbox *ob;
				const char *error;
				char line[128];
				if (outbox_new(NULL, config, &ob, &error) < 0) {
					snprintf(line, sizeof(line), "%-100s\n", "FAIL");
				} else {
					char *from = outbox_envelope_from(ob, config->smtp.envelope_from, 7);
					snprintf(line, sizeof(line), "%-100s\n", from);
					free(from);
					outbox_free(&ob);
				}
				if (write(results[1], line, strlen(line)) < 0)
					_exit(2);
				_exit(0);
			}
		}
		close(gate[0]);
		close(results[1]);
		close(gate[1]); /* open the gate */
		char first[102] = "", line[102];
		FILE *fp = fdopen(results[0], "r");
		for (int k = 0; k < PROCS && fp != NULL && fgets(line, sizeof(line), fp) != NULL; k++) {
			if (strncmp(line, "FAIL", 4) == 0)
				failures++;
			else if (first[0] == '\0')
				memcpy(first, line, sizeof(first));
			else if (strcmp(first, line) != 0)
				disagreements++;
		}
		if (fp != NULL)
			fclose(fp);
		for (int k = 0; k < PROCS; k++)
			waitpid(pids[k], NULL, 0);
		free(dir);
	}
	test_assert_int(failures, 0);
	test_assert_int(disagreements, 0);
}

int
main(void)
{
	struct store *store;
	const char *error;
	log_init("test-outbox", LOG_LEVEL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("cannot make a temporary directory");
	char *db = xasprintf("%s/deskgate.db", tmpdir);
	if (store_open(db, tmpdir, &store, &error) < 0) {
		printf("store_open: %s\n", error);
		return 1;
	}
	struct config *config = make_config(NULL);
	test_queue(store, config);
	test_backoff(store, config);
	test_crash_recovery(store, config);
	test_operator(store, config);
	test_verp_and_reports(store);
	test_token_command(store);
	test_verp_key_race();
	config_free(&config);
	store_close(&store);
	free(db);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", tmpdir);
	free(cmd);
	return test_exit();
}
