/*
 * test-ingest: the pipeline's steps (hook.h) against a real SQLite store:
 * the order of the steps of each phase, a CLASSIFIED step that changes
 * what is stored or holds the message, a STORED step that writes in the
 * message's transaction (and one that fails: nothing of the message is
 * kept, the error names the step), COMMITTED steps that run only after the
 * commit (at the end of a batch, never for a batch rolled back), the log
 * line of every message with mailbox= uid= msgid= ticket=, and every
 * failure with an error message.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hook.h"
#include "gateway/ingest.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-ingest.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static int counter;

static int
setup(void)
{
	const char *error;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char *path = xasprintf("%s/rules", tmpdir);
	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/rules/test.rules", tmpdir);
	desk_write_file(path, "rule spam {\n\tsubject ~ /lottery/\n\tspam\n}\n"
			      "rule whale {\n\tsubject ~ /Deposit/\n\ttag whale-vip\n}\n"
			      "rule kyc {\n\tsubject ~ /KYC/\n\tcategory kyc_review 5\n}\n");
	free(path);
	/* An admin's name table for the rules' category, in English only. */
	path = xasprintf("%s/tmpl/ack/names", tmpdir);
	desk_mkdir_p(path);
	free(path);
	path = xasprintf("%s/tmpl/ack/names/categories.en.txt", tmpdir);
	desk_write_file(path, "# ours\nkyc_review = Identity check (KYC)\n");
	free(path);
	char *sections = xasprintf("hostname = desk.example.test\n"
				   "support_address = support@example.test\n"
				   "[rules]\ndir = %s/rules\n"
				   "[ack]\ntemplates_dir = %s/tmpl\n"
				   "[selfhelp]\nkyc_review = https://help.example.test/kyc\n"
				   "[agent alice]\naddress = alice@staff.example\n",
				   tmpdir, tmpdir);
	int ret = desk_open(tmpdir, sections, &config, &store);
	free(sections);
	if (ret < 0 || ingest_init(config, store, &ingest, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	ingest_set_now(ingest, NOW);
	return 0;
}

static char *
mail(const char *from, const char *subject, const char *text)
{
	counter++;
	return xasprintf("From: %s\nTo: support@example.test\nSubject: %s\n"
			 "Date: Tue, 11 Mar 2025 10:00:%02d +0800\n"
			 "Message-ID: <t%d.%d@client.example>\nMIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=utf-8\n\n%s",
			 from, subject, counter % 60, counter, (int)getpid(), text);
}

static int
ingest_text(const char *raw, const struct ingest_source *src, struct ingest_result *res,
	    const char **error_r)
{
	*error_r = NULL;
	return ingest_message(ingest, (const unsigned char *)raw, strlen(raw), src, res, error_r);
}


/* ---- test steps ------------------------------------------------------------------ */

struct probe {
	int classified, stored, committed;
	int64_t last_ticket;
	int last_outcome;
	int fail_stored;      /* return -1 from the STORED step */
	int64_t committed_seen_in_store; /* the committed step's ticket was readable */
	char order[64];
};

static struct probe probe;

static void
note(char c)
{
	size_t n = strlen(probe.order);
	if (n + 1 < sizeof(probe.order)) {
		probe.order[n] = c;
		probe.order[n + 1] = '\0';
	}
}

static int
classified_step(void *context, struct hook_event *ev, const char **error_r)
{
	(void)context;
	(void)error_r;
	probe.classified++;
	note('c');
	if (ev->phase != HOOK_CLASSIFIED || ev->msg == NULL || ev->decision == NULL)
		note('!');
	if (ev->msg->subject != NULL && strstr(ev->msg->subject, "hold me") != NULL) {
		snprintf(ev->quarantine, sizeof(ev->quarantine), "held by a test step");
		return 0;
	}
	if (strstr(ev->msg->text, "SECRET") != NULL) {
		/* What a redaction step does: the stored text is its string, and
		   the raw message kept is a redacted copy. */
		free(ev->msg->text);
		ev->msg->text = xstrdup("[redacted]\n");
		ev->msg->text_len = strlen(ev->msg->text);
		ev->stored_raw = (unsigned char *)xasprintf("From: someone\n\n[redacted]\n");
		ev->stored_raw_len = strlen((const char *)ev->stored_raw);
	}
	return 0;
}

static int
never_step(void *context, struct hook_event *ev, const char **error_r)
{
	(void)context;
	(void)ev;
	(void)error_r;
	note('n'); /* after a step that held the message: must not run */
	return 0;
}

static int
stored_step(void *context, struct hook_event *ev, const char **error_r)
{
	(void)context;
	probe.stored++;
	note('s');
	if (ev->phase != HOOK_STORED || ev->ticket_id == 0 || ev->message_row_id == 0)
		note('!');
	if (probe.fail_stored) {
		if (probe.fail_stored == 2)
			return -1; /* without a word: the caller must still say something */
		*error_r = "disk on fire";
		return -1;
	}
	return store_event_addf(store, ev->ticket_id, "test", error_r, "stored step saw %s",
				ev->new_ticket ? "a new ticket" : "a follow-up");
}

static int
committed_step(void *context, struct hook_event *ev, const char **error_r)
{
	(void)context;
	(void)error_r;
	probe.committed++;
	note('m');
	probe.last_ticket = ev->ticket_id;
	probe.last_outcome = ev->outcome;
	if (ev->phase != HOOK_COMMITTED || ev->logctx == NULL)
		note('!');
	/* Committed means another connection would see it: the store says
	   it is not in a transaction any more. */
	struct store_ticket *t = NULL;
	const char *error;
	if (ev->ticket_id != 0 && store_ticket_get(store, ev->ticket_id, &t, &error) == 1)
		probe.committed_seen_in_store = ev->ticket_id;
	store_ticket_free(&t);
	return -1; /* a failing COMMITTED step is logged, nothing else */
}

/* ---- tests --------------------------------------------------------------------- */

static void
test_list(void)
{
	test_begin("hook list: order, names, phases");
	struct hook_list *l = hook_list_new();
	hook_add(l, HOOK_STORED, "first", stored_step, NULL);
	hook_add(l, HOOK_STORED, "second", stored_step, NULL);
	hook_add(l, HOOK_CLASSIFIED, "only", classified_step, NULL);
	test_assert_int(hook_count(l, HOOK_STORED), 2);
	test_assert_int(hook_count(l, HOOK_CLASSIFIED), 1);
	test_assert_int(hook_count(l, HOOK_COMMITTED), 0);
	test_assert_str(hook_name(l, HOOK_STORED, 0), "first");
	test_assert_str(hook_name(l, HOOK_STORED, 1), "second");
	test_assert(hook_name(l, HOOK_STORED, 2) == NULL);

	test_begin("hook list: a failing step names itself and stops the phase");
	struct hook_event ev = { .ticket_id = 1, .message_row_id = 1, .logctx = "test" };
	const char *error = NULL;
	memset(&probe, 0, sizeof(probe));
	probe.fail_stored = 1;
	test_assert_int(hook_run(l, HOOK_STORED, &ev, &error), -1);
	test_assert_str(error, "first: disk on fire");
	test_assert_str(probe.order, "s");
	probe.fail_stored = 2;
	error = NULL;
	test_assert_int(hook_run(l, HOOK_STORED, &ev, &error), -1);
	test_assert(error != NULL && strstr(error, "first: ") == error);
	hook_list_free(&l);
	test_assert(l == NULL);
	hook_list_free(&l);
	memset(&probe, 0, sizeof(probe));
}

static void
test_builtin(void)
{
	test_begin("the built-in steps, in their documented order");
	const struct hook_list *l = ingest_hooks(ingest);
	test_assert_int(hook_count(l, HOOK_CLASSIFIED), 3);
	test_assert_str(hook_name(l, HOOK_CLASSIFIED, 0), "secrets");
	test_assert_str(hook_name(l, HOOK_CLASSIFIED, 1), "attachments");
	test_assert_str(hook_name(l, HOOK_CLASSIFIED, 2), "desk");
	test_assert_int(hook_count(l, HOOK_STORED), 7);
	test_assert_str(hook_name(l, HOOK_STORED, 0), "secrets");
	test_assert_str(hook_name(l, HOOK_STORED, 1), "attachments");
	test_assert_str(hook_name(l, HOOK_STORED, 2), "ack");
	test_assert_str(hook_name(l, HOOK_STORED, 3), "agents");
	test_assert_str(hook_name(l, HOOK_STORED, 4), "replies");
	test_assert_str(hook_name(l, HOOK_STORED, 5), "sla");
	test_assert_str(hook_name(l, HOOK_STORED, 6), "survey");
	test_assert_int(hook_count(l, HOOK_COMMITTED), 1);
	test_assert_str(hook_name(l, HOOK_COMMITTED, 0), "log");
}

static void
test_pipeline(void)
{
	struct ingest_result res;
	const char *error;
	struct ingest_source src = { .label = "test" };

	ingest_add_hook(ingest, HOOK_CLASSIFIED, "probe", classified_step, NULL);
	ingest_add_hook(ingest, HOOK_CLASSIFIED, "never", never_step, NULL);
	ingest_add_hook(ingest, HOOK_STORED, "probe", stored_step, NULL);
	ingest_add_hook(ingest, HOOK_COMMITTED, "probe", committed_step, NULL);

	test_begin("a new ticket: classified, stored, then committed, in that order");
	memset(&probe, 0, sizeof(probe));
	char *m = mail("wang@customer.example", "Deposit", "Hello, where is my deposit?\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	test_assert_str(probe.order, "cnsm");
	test_assert_int(probe.last_ticket, res.ticket_id);
	test_assert_int(probe.last_outcome, INGEST_NEW_TICKET);
	test_assert_int(probe.committed_seen_in_store, res.ticket_id);
	test_assert(desk_has_event(store, res.ticket_id, "test", "stored step saw a new ticket"));
	/* The built-in acknowledgement ran in the same unit. */
	test_assert(res.ack_outbox_id != 0);
	/* The rule's tag is on the ticket, never in the acknowledgement. */
	struct store_outbox *ack = NULL;
	test_assert_int(store_outbox_get(store, res.ack_outbox_id, &ack, &error), 1);
	struct mime_message *ackmsg = NULL;
	struct mime_limits limits;
	mime_limits_default(&limits);
	test_assert(ack != NULL && mime_parse(ack->raw, ack->raw_size, &limits, &ackmsg, &error) == 0);
	test_assert(ackmsg != NULL && strstr(ackmsg->text, "noted so far") != NULL &&
		    strstr(ackmsg->text, "whale") == NULL &&
		    (ackmsg->html == NULL || strstr(ackmsg->html, "whale") == NULL));
	mime_message_free(&ackmsg);
	store_outbox_free(&ack);
	struct store_field *fields = NULL;
	size_t n_fields = 0;
	test_assert_int(store_ticket_field_list(store, res.ticket_id, &fields, &n_fields, &error), 0);
	test_assert(n_fields == 1 && strcmp(fields[0].value, "whale-vip") == 0);
	store_fields_free(&fields, n_fields);

	test_begin("a CLASSIFIED step changes what is stored");
	memset(&probe, 0, sizeof(probe));
	char *secret_mail = mail("li@customer.example", "Key", "my SECRET is hunter2\n");
	test_assert_int(ingest_text(secret_mail, &src, &res, &error), 0);
	int64_t secret_ticket = res.ticket_id;
	struct store_message *msgs = NULL;
	size_t n = 0;
	test_assert_int(store_message_list(store, res.ticket_id, &msgs, &n, &error), 0);
	test_assert(n >= 1 && strcmp(msgs[0].text, "[redacted]\n") == 0);
	unsigned char *kept = NULL;
	size_t kept_len = 0;
	test_assert(n >= 1 && store_blob_get(store, STORE_BLOB_RAW, msgs[0].raw_sha256, &kept,
					     &kept_len, &error) == 0);
	test_assert(kept != NULL && memmem(kept, kept_len, "hunter2", 7) == NULL &&
		    memmem(kept, kept_len, "[redacted]", 10) != NULL);
	test_assert(n >= 1 && msgs[0].raw_size == (int64_t)kept_len);
	free(kept);
	store_messages_free(&msgs, n);
	test_begin("the same mail again is still a duplicate (the key is the original's)");
	test_assert_int(ingest_text(secret_mail, &src, &res, &error), 0);
	test_assert_int(res.outcome, INGEST_DUPLICATE);
	test_assert_int(res.ticket_id, secret_ticket);
	free(secret_mail);

	test_begin("a CLASSIFIED step holds the message: quarantined, later steps skipped");
	memset(&probe, 0, sizeof(probe));
	m = mail("zhao@customer.example", "please hold me", "text\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_QUARANTINED);
	test_assert_str(res.reason, "held by a test step");
	test_assert_str(probe.order, "cm");
	test_assert_int(probe.last_outcome, INGEST_QUARANTINED);
	struct store_quarantine *q = NULL;
	test_assert_int(store_quarantine_get(store, res.quarantine_id, &q, &error), 1);
	test_assert(q != NULL && q->raw_size > 0);
	store_quarantine_free(&q);

	test_begin("a failing STORED step: nothing of the message is kept, the error says who");
	memset(&probe, 0, sizeof(probe));
	int64_t tickets_before = 0, tickets_after = 0;
	(void)store_ticket_count(store, &tickets_before, &error);
	probe.fail_stored = 1;
	m = mail("qian@customer.example", "Withdrawal", "Where is it?\n");
	test_assert_int(ingest_text(m, &src, &res, &error), -1);
	test_assert(error != NULL && strstr(error, "probe: disk on fire") != NULL);
	(void)store_ticket_count(store, &tickets_after, &error);
	test_assert_int(tickets_after, tickets_before);
	test_assert_int(probe.committed, 0);

	test_begin("every failure says why (a step that gives no reason)");
	probe.fail_stored = 2;
	test_assert_int(ingest_text(m, &src, &res, &error), -1);
	test_assert(error != NULL && *error != '\0');
	probe.fail_stored = 0;

	test_begin("the same message again when the store is well: stored once");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	int64_t first = res.ticket_id;
	memset(&probe, 0, sizeof(probe));
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	test_assert_int(res.outcome, INGEST_DUPLICATE);
	test_assert_int(res.ticket_id, first);
	test_assert_str(probe.order, "m"); /* a duplicate: only the COMMITTED steps */
	free(m);

	test_begin("in a batch: COMMITTED steps wait for the commit");
	memset(&probe, 0, sizeof(probe));
	test_assert_int(ingest_batch_begin(ingest, &error), 0);
	for (int i = 0; i < 3; i++) {
		m = mail("batch@customer.example", "Batch", i == 0 ? "one\n" : i == 1 ? "two\n" : "three\n");
		test_assert_int(ingest_text(m, &src, &res, &error), 0);
		free(m);
	}
	test_assert_int(probe.stored, 3);
	test_assert_int(probe.committed, 0);
	test_assert_int(ingest_batch_commit(ingest, &error), 0);
	test_assert_int(probe.committed, 3);

	test_begin("a batch rolled back: COMMITTED steps never run");
	memset(&probe, 0, sizeof(probe));
	test_assert_int(ingest_batch_begin(ingest, &error), 0);
	m = mail("gone@customer.example", "Rolled back", "never stored\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	ingest_batch_rollback(ingest);
	test_assert_int(probe.stored, 1);
	test_assert_int(probe.committed, 0);
	test_assert_int(ingest_batch_begin(ingest, &error), 0);
	test_assert_int(ingest_batch_commit(ingest, &error), 0);
	test_assert_int(probe.committed, 0);
}

/* The log line of a message carries mailbox=, uid=, msgid= and ticket=. */
static void
test_log_line(void)
{
	struct ingest_result res;
	const char *error;
	struct ingest_source src = { .label = "mailbox:support", .mailbox = "support",
				     .uidvalidity = 7, .uid = 42 };
	test_begin("the log line of a message: mailbox= uid= msgid= ticket=");
	char *path = xasprintf("%s/stderr.log", tmpdir);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	int saved = dup(2);
	fflush(stderr);
	dup2(fd, 2);
	char *m = mail("log@customer.example", "Logged", "hello\n");
	int ret = ingest_text(m, &src, &res, &error);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	test_assert_int(ret, 0);
	char want[200];
	snprintf(want, sizeof(want), "mailbox=support uid=42 msgid=t%d.%d@client.example ticket=%lld",
		 counter, (int)getpid(), (long long)res.ticket_id);
	size_t len;
	char *log = (char *)test_read_file(path, &len);
	test_assert(log != NULL && strstr(log, want) != NULL && strstr(log, "new ticket") != NULL);
	if (log != NULL && strstr(log, want) == NULL)
		printf("  want \"%s\" in:\n%s\n", want, log);
	free(log);
	free(m);
	free(path);
}

/* Issue 10.17: a false-positive spam is released into a normal ticket. */
static void
test_release(void)
{
	struct ingest_result res, r2;
	const char *error;
	struct ingest_source src = { .label = "test" };
	test_begin("spam is held; retry keeps it held");
	char *m = mail("lucky@customer.example", "I won the lottery, where are my coins?",
		       "My withdrawal of the prize is stuck.\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_QUARANTINED);
	test_assert(strstr(res.reason, "spam") != NULL);
	int64_t q = res.quarantine_id;
	test_assert_int(ingest_retry_quarantined(ingest, q, &r2, &error), 0);
	test_assert_int(r2.outcome, INGEST_QUARANTINED);

	test_begin("release: a normal ticket, acknowledged, who released it recorded");
	test_assert_int(ingest_release_quarantined(ingest, q, "Olivia Operator", &r2, &error), 0);
	test_assert_int(r2.outcome, INGEST_NEW_TICKET);
	test_assert(r2.ack_outbox_id != 0);
	test_assert(desk_has_event(store, r2.ticket_id, "released", "released by Olivia Operator"));
	test_assert(desk_has_event(store, r2.ticket_id, "released", "spam"));
	struct store_quarantine *qr = NULL;
	test_assert_int(store_quarantine_get(store, q, &qr, &error), 1);
	test_assert(qr != NULL && strcmp(qr->status, "released") == 0 &&
		    qr->ticket_id == r2.ticket_id);
	store_quarantine_free(&qr);

	test_begin("release twice: refused, nothing happens twice");
	int64_t tickets = 0, after = 0;
	(void)store_ticket_count(store, &tickets, &error);
	error = NULL;
	test_assert_int(ingest_release_quarantined(ingest, q, "Olivia Operator", &r2, &error), -1);
	test_assert(error != NULL && strstr(error, "already released") != NULL);
	(void)store_ticket_count(store, &after, &error);
	test_assert_int(after, tickets);

	test_begin("release of a message that does not exist");
	error = NULL;
	test_assert_int(ingest_release_quarantined(ingest, 999999, "x", &r2, &error), -1);
	test_assert(error != NULL && strstr(error, "999999") != NULL);
}

/* Issue 10.19: a category the rules define works where a built-in does. */
static void
test_rules_category(void)
{
	struct ingest_result res;
	const char *error;
	struct ingest_source src = { .label = "test" };
	struct mime_limits limits;
	mime_limits_default(&limits);

	test_begin("a rules category in the ack: its name and its self-help links");
	char *m = mail("kyc@customer.example", "KYC documents rejected", "Why was my ID refused?\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	struct store_ticket *t = NULL;
	test_assert_int(store_ticket_get(store, res.ticket_id, &t, &error), 1);
	test_assert(t != NULL && strcmp(t->category, "kyc_review") == 0);
	store_ticket_free(&t);
	struct store_outbox *ack = NULL;
	struct mime_message *msg = NULL;
	test_assert_int(store_outbox_get(store, res.ack_outbox_id, &ack, &error), 1);
	test_assert(ack != NULL && mime_parse(ack->raw, ack->raw_size, &limits, &msg, &error) == 0);
	test_assert(msg != NULL && strstr(msg->text, "Identity check (KYC)") != NULL);
	test_assert(msg != NULL && strstr(msg->text, "https://help.example.test/kyc") != NULL);
	test_assert(msg != NULL && strstr(msg->text, "General enquiry") == NULL);
	mime_message_free(&msg);
	store_outbox_free(&ack);

	test_begin("an agent's #category takes it");
	int64_t ticket = res.ticket_id;
	m = mail("other@customer.example", "Question", "How do I verify?\n");
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	struct thread_config *tc = NULL;
	test_assert_int(thread_config_new(config, &tc, &error), 0);
	char *to = thread_reply_address(tc, res.ticket_id, THREAD_ROLE_AGENT);
	char *raw = xasprintf("From: alice@staff.example\nTo: %s\nSubject: Re: Question\n"
			      "Message-ID: <cat1@staff.example>\n\n#category kyc_review\n", to);
	test_assert_int(ingest_text(raw, &src, &res, &error), 0);
	test_assert_int(store_ticket_get(store, res.ticket_id, &t, &error), 1);
	test_assert(t != NULL && strcmp(t->category, "kyc_review") == 0);
	store_ticket_free(&t);
	test_assert(!desk_has_event(store, res.ticket_id, "error", "no such category"));
	free(raw);
	free(to);
	thread_config_free(&tc);
	(void)ticket;

	test_begin("[selfhelp] for a category nobody defines: a configuration error");
	struct config_selfhelp *sh = &config->selfhelp;
	sh->extra = xreallocarray(sh->extra, sh->n_extra + 1, sizeof(*sh->extra));
	sh->extra[sh->n_extra++] = (struct config_pair){ xstrdup("nosuch"), xstrdup("x"), 9 };
	struct ingest *other = NULL;
	error = NULL;
	test_assert_int(ingest_init(config, store, &other, &error), -1);
	test_assert(error != NULL && strstr(error, ":9: [selfhelp] nosuch") != NULL);
	sh->n_extra--;
	free(sh->extra[sh->n_extra].key);
	free(sh->extra[sh->n_extra].value);
}

/* With require_auth_results = no, start-up says what that means. */
static void
test_auth_warning(void)
{
	test_begin("require_auth_results = no: a warning at start-up");
	const char *error;
	char *path = xasprintf("%s/stderr-auth.log", tmpdir);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	int saved = dup(2);
	const char *modes[] = { "no", "auto" };
	size_t lens[2];
	for (int i = 0; i < 2; i++) {
		free(config->threading.require_auth_results);
		config->threading.require_auth_results = xstrdup(modes[i]);
		struct ingest *other = NULL;
		fflush(stderr);
		dup2(fd, 2);
		int ret = ingest_init(config, store, &other, &error);
		fflush(stderr);
		dup2(saved, 2);
		test_assert_int(ret, 0);
		ingest_free(&other);
		lens[i] = (size_t)lseek(fd, 0, SEEK_END);
	}
	close(saved);
	close(fd);
	size_t len;
	char *log = (char *)test_read_file(path, &len);
	test_assert(log != NULL && strstr(log, "require_auth_results = no: anyone who knows") != NULL);
	test_assert(lens[1] == lens[0]); /* auto: nothing more */
	free(log);
	free(path);
}

/* The acknowledgement step never fails without saying why, even for a
   ticket that is not there (ingest.c's old maybe_ack() returned -1 with
   *error_r unset on that path). */
static void
test_step_errors(void)
{
	test_begin("the ack step on a ticket that vanished: a graded failure with a reason");
	struct deskmail *dm = NULL;
	struct ack *ack = NULL;
	const char *error = NULL;
	test_assert_int(deskmail_new(config, NULL, store, &dm, &error), 0);
	test_assert_int(ack_new(config, store, dm, NULL, &ack, &error), 0);
	struct mime_message *msg = NULL;
	struct mime_limits limits;
	mime_limits_default(&limits);
	char *m = mail("ghost@customer.example", "Ghost", "boo\n");
	test_assert_int(mime_parse((const unsigned char *)m, strlen(m), &limits, &msg, &error), 0);
	struct thread_decision d = { .role = THREAD_ROLE_CUSTOMER };
	struct hook_event ev = {
		.msg = msg, .decision = &d, .ticket_id = 999999, .new_ticket = 1,
		.now = NOW, .logctx = "test",
	};
	error = NULL;
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(ack_step(ack, &ev, &error), STORE_DATA_BAD);
	test_assert(error != NULL && strstr(error, "999999") != NULL);
	store_rollback(store);
	mime_message_free(&msg);
	free(m);
	ack_free(&ack);
	deskmail_free(&dm);
}

/* A display name is text, never an address: one that holds a comma and an
   address (plain or encoded) does not make that address a recipient of
   the ticket's mail (which would let its owner thread into the ticket). */
static void
test_address_names(void)
{
	struct ingest_result res;
	const char *error;
	struct ingest_source src = { .label = "test" };

	test_begin("a display name holding ', addr' stays a name");
	counter++;
	char *m = xasprintf("From: ning@customer.example\nTo: \"evil@x.example, Bob\" "
			    "<support@example.test>\nCc: =?utf-8?q?mallory=40evil.example=2C_Al?= "
			    "<al@customer.example>, \"q\\\"x, <z@evil.example>\" <q@customer.example>\n"
			    "Subject: names\nDate: Tue, 11 Mar 2025 10:00:00 +0800\n"
			    "Message-ID: <names%d.%d@client.example>\n\nhello\n",
			    counter, (int)getpid());
	test_assert_int(ingest_text(m, &src, &res, &error), 0);
	free(m);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	const char *bad[] = { "evil@x.example", "mallory@evil.example", "z@evil.example" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		test_assert_int(store_ticket_find_recipient(store, res.ticket_id, NULL, bad[i],
							    &error), 0);
	test_assert_int(store_ticket_find_recipient(store, res.ticket_id, NULL, "al@customer.example",
						    &error), 1);
	test_assert_int(store_ticket_find_recipient(store, res.ticket_id, NULL, "q@customer.example",
						    &error), 1);
	struct store_message *msgs = NULL;
	size_t n = 0;
	test_assert_int(store_message_list(store, res.ticket_id, &msgs, &n, &error), 0);
	test_assert(n >= 1 && strstr(msgs[0].to, "\"evil@x.example, Bob\" <support@example.test>") !=
				      NULL);
	store_messages_free(&msgs, n);
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_list();
	test_builtin();
	test_pipeline();
	test_log_line();
	test_step_errors();
	test_release();
	test_rules_category();
	test_auth_warning();
	test_address_names();
	ingest_free(&ingest);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(tmpdir);
	return test_exit();
}
