/*
 * test-survey: satisfaction surveys through the whole ingest pipeline,
 * against a real SQLite store: an agent's #close mails the customer one
 * survey in the ticket's language (text and HTML, five mailto: choices to
 * vote addresses that verify, a Reply-To that reads a plain reply); a
 * vote by link is recorded without reopening the ticket; a plain reply
 * with a score and a comment replaces it and tells the assignee of the low
 * score; a forged vote address, a stranger and a ticket without a survey
 * are refused; a reply to the survey without a score is mail about the
 * ticket; a second closed ticket of the same customer within [survey]
 * period gets no survey; vote addresses sign the ticket and the score.
 * Any close surveys: one by the store's own path (no agent mail) is
 * surveyed by the scheduler's tick, once, and not when reopened first. A
 * vote's comment is redacted like customer mail; a comment that reads as
 * a new problem (words, or the rules' category) reopens the ticket and
 * tells the assignee, an opinion does not.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/ingest.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "gateway/survey.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/clock.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-survey.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static int64_t outbox_seen;
static int n_mail;

static struct ingest_result
ingest_text(const char *raw)
{
	struct ingest_result res;
	const char *error = NULL;
	struct ingest_source src = { .label = "test" };
	if (ingest_message(ingest, (const unsigned char *)raw, strlen(raw), &src, &res, &error) < 0) {
		printf("ingest_message: %s\n", error);
		memset(&res, 0, sizeof(res));
		res.outcome = -1;
	}
	return res;
}

static char *
mail(const char *from, const char *to, const char *extra, const char *subject, const char *text)
{
	n_mail++;
	return xasprintf("From: %s\nTo: %s\n%sSubject: %s\nDate: Tue, 11 Mar 2025 10:00:%02d +0800\n"
			 "Message-ID: <s%d@client.example>\nMIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s",
			 from, to, extra, subject, n_mail % 60, n_mail, text);
}

/* The newest outbox row queued since the last call to kind/recipient,
   parsed; NULL when none. */
struct out {
	struct store_outbox *o;
	struct mime_message *m;
};

static int
next_out(const char *kind, const char *rcpt, struct out *out)
{
	struct store_outbox *list = NULL;
	size_t n = 0;
	const char *error;
	int found = 0;
	int64_t top = outbox_seen;
	memset(out, 0, sizeof(*out));
	if (store_outbox_list(store, NULL, 0, &list, &n, &error) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (list[i].id > top)
			top = list[i].id;
		if (found || list[i].id <= outbox_seen || strcmp(list[i].kind, kind) != 0 ||
		    strstr(list[i].recipients, rcpt) == NULL)
			continue;
		struct mime_limits limits;
		mime_limits_default(&limits);
		if (store_outbox_get(store, list[i].id, &out->o, &error) == 1 &&
		    mime_parse(out->o->raw, out->o->raw_size, &limits, &out->m, &error) == 0)
			found = 1;
	}
	outbox_seen = top;
	store_outboxes_free(&list, n);
	return found;
}

static void
out_clear(struct out *o)
{
	store_outbox_free(&o->o);
	mime_message_free(&o->m);
}

struct vote_seen {
	int64_t ticket;
	int score;
	char comment[200];
	char assignee[100];
};

static int
on_survey(void *context, const void *record)
{
	struct vote_seen *v = context;
	const struct store_report_survey *s = record;
	if (s->ticket_id == v->ticket) {
		v->score = s->score;
		snprintf(v->comment, sizeof(v->comment), "%s", s->comment != NULL ? s->comment : "");
		snprintf(v->assignee, sizeof(v->assignee), "%s", s->assignee != NULL ? s->assignee : "");
	}
	return 0;
}

static struct vote_seen
vote_of(int64_t ticket)
{
	struct vote_seen v = { .ticket = ticket, .score = -1 };
	const char *error;
	test_assert_int(store_report_surveys(store, 0, (int64_t)1 << 40, on_survey, &v, &error), 0);
	return v;
}

static char *
ticket_status(int64_t id)
{
	struct store_ticket *t = NULL;
	const char *error;
	char *s = NULL;
	if (store_ticket_get(store, id, &t, &error) == 1)
		s = xstrdup(t->status);
	store_ticket_free(&t);
	return s != NULL ? s : xstrdup("?");
}

static int
setup(void)
{
	const char *error;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	desk_datadir();
	/* the desk's default rules, which classify a vote's comment too */
	const char *top = getenv("top_srcdir");
	char *rules = realpath(top != NULL ? top : ".", NULL);
	char *conf = xasprintf("hostname = desk.example.test\nsupport_address = support@example.test\n"
			       "[agent alice]\naddress = alice@staff.example\nname = Alice\n"
			       "[survey]\nenabled = yes\nlow_score = 2\n"
			       "[sla default]\nfirst_response = 8h\nnext_response = 8h\nresolution = 5d\n"
			       "[rules]\ndir = %s/contrib/rules.d\n",
			       rules != NULL ? rules : ".");
	free(rules);
	int opened = desk_open(tmpdir, conf, &config, &store);
	free(conf);
	if (opened < 0)
		return -1;
	if (ingest_init(config, store, &ingest, &error) < 0 ||
	    thread_config_new(config, &tc, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	ingest_set_now(ingest, NOW);
	return 0;
}

/* The customer writes, alice assigns and closes: the ticket's id. */
static int64_t
closed_ticket(const char *customer, const char *subject, const char *text)
{
	char *m = mail(customer, "support@example.test", "", subject, text);
	struct ingest_result res = ingest_text(m);
	free(m);
	struct out n;
	test_assert(next_out("notify", "alice@staff.example", &n));
	const char *agent_addr = n.m != NULL && n.m->reply_to.count == 1
					 ? n.m->reply_to.items[0].address
					 : "support@example.test";
	char *hdrs = xasprintf("In-Reply-To: <%s>\n", n.o != NULL ? n.o->message_id : "x");
	m = mail("alice@staff.example", agent_addr, hdrs, "Re: help", "#assign alice\n#close\n");
	free(hdrs);
	struct ingest_result r2 = ingest_text(m);
	test_assert_int(r2.ticket_id, res.ticket_id);
	free(m);
	out_clear(&n);
	return res.ticket_id;
}

static void
test_addresses(void)
{
	test_begin("vote addresses");
	const char *error = NULL;
	int64_t t = 0;
	int score = -1;
	char *a = thread_vote_address(tc, 42, 4);
	test_assert(strncmp(a, "support+v42-4-", 14) == 0);
	test_assert_int(thread_vote_address_parse(tc, a, &t, &score, &error), 1);
	test_assert_int(t, 42);
	test_assert_int(score, 4);
	/* another score or ticket with the same tag does not verify */
	char *b = xstrdup(a);
	b[12] = '5'; /* support+v42-5-TAG */
	test_assert_int(thread_vote_address_parse(tc, b, &t, &score, &error), -1);
	free(b);
	b = xasprintf("support+v43%s", a + 11); /* support+v43-4-TAG */
	test_assert_int(thread_vote_address_parse(tc, b, &t, &score, &error), -1);
	free(b);
	/* reply addresses and other sub-addresses are not vote addresses */
	char *r = thread_reply_address(tc, 42, THREAD_ROLE_CUSTOMER);
	test_assert_int(thread_vote_address_parse(tc, r, &t, &score, &error), 0);
	enum thread_role role;
	test_assert_int(thread_reply_address_parse(tc, a, &t, &role, &error), 0);
	test_assert_int(thread_reply_address_parse(tc, r, &t, &role, &error), 1);
	free(r);
	test_assert_int(thread_vote_address_parse(tc, "support+sales@example.test", &t, &score, &error), 0);
	test_assert_int(thread_vote_address_parse(tc, "other@example.test", &t, &score, &error), 0);
	free(a);
}

static void
test_round_trip(void)
{
	test_begin("survey sent on close");
	int64_t id = closed_ticket("Chloe <c@example.net>", "Ma demande",
				   "Bonjour, mon retrait est bloqu\xc3\xa9 depuis hier. Merci.\n");
	char *st = ticket_status(id);
	test_assert_str(st, "closed");
	free(st);
	struct out s;
	test_assert(next_out("survey", "c@example.net", &s));
	const char *error;
	if (s.m != NULL) {
		/* French, text and HTML, the Reply-To reads a plain reply */
		test_assert(strstr(s.m->subject, "Votre avis") != NULL);
		test_assert(s.m->html != NULL && strstr(s.m->html, "mailto:support+v") != NULL);
		int64_t t = 0;
		int score = -1;
		test_assert_int(s.m->reply_to.count, 1);
		if (s.m->reply_to.count == 1) {
			test_assert_int(thread_vote_address_parse(tc, s.m->reply_to.items[0].address, &t,
								  &score, &error), 1);
			test_assert_int(score, 0);
			test_assert_int(t, id);
		}
		/* five choices, each a vote address of this ticket that verifies */
		int seen = 0;
		for (const char *p = s.m->text; (p = strstr(p, "<mailto:")) != NULL; p++) {
			const char *end = strchr(p, '?');
			char *addr = xstrndup(p + 8, end != NULL ? (size_t)(end - p - 8) : 0);
			if (thread_vote_address_parse(tc, addr, &t, &score, &error) == 1 && t == id)
				seen |= 1 << score;
			free(addr);
		}
		test_assert_int(seen, 0x3e);
	}
	int64_t at = 0;
	test_assert_int(store_survey_for_ticket(store, id, &at, &error), 1);
	out_clear(&s);

	test_begin("vote by link");
	char *a4 = thread_vote_address(tc, id, 4);
	char *m = mail("c@example.net", a4, "", "4", "");
	struct ingest_result r = ingest_text(m);
	free(m);
	test_assert_int(r.outcome, INGEST_REPORT);
	test_assert_int(r.ticket_id, id);
	struct vote_seen v = vote_of(id);
	test_assert_int(v.score, 4);
	test_assert_str(v.assignee, "alice@staff.example");
	st = ticket_status(id);
	test_assert_str(st, "closed"); /* a vote does not reopen */
	free(st);
	test_assert(desk_has_event(store, id, "survey", "vote 4 by c@example.net"));

	test_begin("a plain reply replaces the vote; a low score is told");
	char *a0 = thread_vote_address(tc, id, 0);
	m = mail("c@example.net", a0, "", "Re: Votre avis",
		 "2 - trop lent\n\nLe 11 mars, Support a \xc3\xa9\x63rit :\n> Votre demande\n");
	r = ingest_text(m);
	free(m);
	test_assert_int(r.outcome, INGEST_REPORT);
	v = vote_of(id);
	test_assert_int(v.score, 2);
	test_assert_str(v.comment, "trop lent");
	struct out low;
	test_assert(next_out("survey", "alice@staff.example", &low));
	test_assert(low.m != NULL && strstr(low.m->subject, "Low satisfaction score") != NULL &&
		    strstr(low.m->text, "trop lent") != NULL);
	out_clear(&low);

	test_begin("forged and strangers' votes are refused");
	char forged[128];
	snprintf(forged, sizeof(forged), "support+v%lld-5-aaaaaaaaaaaaaaaa@example.test", (long long)id);
	m = mail("c@example.net", forged, "", "5", "");
	r = ingest_text(m);
	free(m);
	test_assert_int(r.outcome, INGEST_REPORT);
	test_assert(strstr(r.reason, "refused") != NULL);
	char *a5 = thread_vote_address(tc, id, 5);
	m = mail("mallory@evil.example", a5, "", "5", "");
	r = ingest_text(m);
	free(m);
	test_assert_int(r.outcome, INGEST_REPORT);
	test_assert(strstr(r.reason, "not the ticket's customer") != NULL);
	v = vote_of(id);
	test_assert_int(v.score, 2);

	test_begin("a reply to the survey without a score is mail about the ticket");
	m = mail("c@example.net", a0, "", "Re: Votre avis", "J'ai une autre question sur les frais.\n");
	r = ingest_text(m);
	free(m);
	test_assert(r.outcome != INGEST_REPORT);
	v = vote_of(id);
	test_assert_int(v.score, 2);

	test_begin("one survey per customer per period");
	int64_t id2 = closed_ticket("c@example.net", "Another", "Second question, about fees.\n");
	test_assert(id2 != id);
	test_assert_int(store_survey_for_ticket(store, id2, &at, &error), 0);
	test_assert(desk_has_event(store, id2, "survey", "within [survey] period"));

	test_begin("no vote on a ticket without a survey");
	char *b5 = thread_vote_address(tc, id2, 5);
	m = mail("c@example.net", b5, "", "5", "");
	r = ingest_text(m);
	free(m);
	test_assert_int(r.outcome, INGEST_REPORT);
	test_assert(strstr(r.reason, "no survey") != NULL);
	free(a0);
	free(a4);
	free(a5);
	free(b5);
}

/* The customer writes, alice answers and closes: a survey goes out; the
   id, and the survey's vote address for a plain reply in *a0_r. */
static int64_t
surveyed_ticket(const char *customer, char **a0_r)
{
	int64_t id = closed_ticket(customer, "Withdrawal", "My withdrawal is blocked.\n");
	struct out s;
	test_assert(next_out("survey", customer, &s));
	out_clear(&s);
	*a0_r = thread_vote_address(tc, id, 0);
	return id;
}

static void
test_any_close(void)
{
	test_begin("a close outside the pipeline: the scheduler surveys");
	const char *error = NULL;
	char *m = mail("Dora <d@example.net>", "support@example.test", "", "Card",
		       "Where is my card?\n");
	struct ingest_result r = ingest_text(m);
	free(m);
	int64_t id = r.ticket_id;
	test_assert(id > 0);
	struct out n;
	test_assert(next_out("notify", "alice@staff.example", &n));
	out_clear(&n);
	/* a close by the store's own path (the command line's, an automatic
	   solve's), no agent mail: nothing goes out until the scheduler runs */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_set(store, id, "status", "closed", &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	struct out s;
	test_assert(!next_out("survey", "d@example.net", &s));
	struct schedule *sched = schedule_new(store);
	struct deskmail *dm = NULL;
	test_assert_int(deskmail_new(config, tc, store, &dm, &error), 0);
	struct survey *sv = survey_new(config, store, dm, tc);
	survey_register(sv, sched);
	struct schedule_stats st;
	test_assert_int(schedule_run_due(sched, clock_now() + 1, 100, 5, &st, &error), 0);
	test_assert(next_out("survey", "d@example.net", &s));
	test_assert(s.m != NULL && strstr(s.m->subject, "How did we do?") != NULL);
	out_clear(&s);
	int64_t at = 0;
	test_assert_int(store_survey_for_ticket(store, id, &at, &error), 1);
	/* once: a second tick, and closing again, send nothing more */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_set(store, id, "status", "closed", &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(schedule_run_due(sched, clock_now() + 1, 100, 5, &st, &error), 0);
	test_assert(!next_out("survey", "d@example.net", &s));
	/* reopened before the tick: no survey */
	m = mail("Erin <e@example.net>", "support@example.test", "", "Fees", "What are the fees\n");
	r = ingest_text(m);
	free(m);
	test_assert(next_out("notify", "alice@staff.example", &n));
	out_clear(&n);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_set(store, r.ticket_id, "status", "closed", &error), 0);
	test_assert_int(store_ticket_set(store, r.ticket_id, "status", "open", &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	int ran = schedule_run_due(sched, clock_now() + 1, 100, 5, &st, &error);
	if (ran < 0)
		printf("schedule_run_due: %s\n", error);
	test_assert_int(ran, 0);
	test_assert(!next_out("survey", "e@example.net", &s));
	test_assert_int(store_survey_for_ticket(store, r.ticket_id, &at, &error), 0);
	schedule_free(&sched);
	survey_free(&sv);
	deskmail_free(&dm);
}

/* A new customer's ticket is closed and surveyed; the customer answers
   the survey with text: the vote's score must be score and the ticket's
   status then want_status. The ticket's id. */
static int64_t
answer_survey(const char *customer, const char *text, int score, const char *want_status)
{
	char *a0 = NULL;
	int64_t id = surveyed_ticket(customer, &a0);
	char *m = mail(customer, a0, "", "Re: How did we do?", text);
	struct ingest_result r = ingest_text(m);
	free(m);
	free(a0);
	test_assert_int(r.outcome, INGEST_REPORT);
	test_assert_int(vote_of(id).score, score);
	char *st = ticket_status(id);
	test_assert_str(st, want_status);
	free(st);
	return id;
}

static void
test_comments(void)
{
	test_begin("a vote's comment is redacted like customer mail");
	int64_t id = answer_survey("f@example.net", "4 - fine. My password is Tr0ub4dor&3xyz\n", 4,
				   /* the rules read it as account security: reopened */ "open");
	struct vote_seen v = vote_of(id);
	test_assert(strstr(v.comment, "Tr0ub4dor") == NULL);
	test_assert(strstr(v.comment, "[redacted") != NULL);
	test_assert(!desk_has_event(store, id, "survey", "Tr0ub4dor"));
	test_assert(desk_has_event(store, id, "survey", "[redacted"));
	struct out n;
	test_assert(next_out("survey", "alice@staff.example", &n));
	test_assert(n.m != NULL && strstr(n.m->text, "Tr0ub4dor") == NULL);
	out_clear(&n);

	test_begin("a comment that is a new problem reopens (words)");
	id = answer_survey("g@example.net", "3 - ok, but the app still does not work on my phone\n",
			   3, "open");
	test_assert(desk_has_event(store, id, "reopened", "survey comment of g@example.net"));
	/* the SLA clocks follow the reopening as for a customer's reply: no
	   longer paused, the resolution met by the close runs again */
	struct store_sla *row = NULL;
	const char *error = NULL;
	test_assert_int(store_sla_get(store, id, &row, &error), 1);
	if (row != NULL) {
		test_assert_str(row->status, "open");
		test_assert_int(row->paused_at, 0);
		test_assert_int(row->met[STORE_SLA_RESOLUTION], 0);
		test_assert(row->due[STORE_SLA_RESOLUTION] > 0);
	}
	store_sla_free(&row);
	test_assert(desk_has_event(store, id, "sla-resumed", "status=open"));
	test_assert(next_out("survey", "alice@staff.example", &n));
	test_assert(n.m != NULL && strstr(n.m->subject, "Reopened by a survey comment") != NULL &&
		    strstr(n.m->text, "does not work") != NULL);
	out_clear(&n);

	test_begin("a comment that is a new problem reopens (the rules' category)");
	answer_survey("h@example.net", "5 - thanks. Now my new deposit is pending since Monday\n", 5,
		      "open");
	test_assert(next_out("survey", "alice@staff.example", &n));
	out_clear(&n);

	test_begin("an opinion does not reopen");
	answer_survey("k@example.net", "5 - quick and kind, thanks for the help\n", 5, "closed");
	test_assert(!next_out("survey", "alice@staff.example", &n));

	test_begin("[survey] reopen_on_problem = no");
	config->survey.reopen_on_problem = 0;
	id = answer_survey("l@example.net", "4 - why is my withdrawal still pending?\n", 4, "closed");
	test_assert(!desk_has_event(store, id, "reopened", NULL));
	test_assert(!next_out("survey", "alice@staff.example", &n));
	config->survey.reopen_on_problem = 1;
}

static void
test_templates(void)
{
	test_begin("survey templates: checked, and an edited one is used");
	size_t files = 0;
	FILE *devnull = fopen("/dev/null", "w");
	test_assert_int(survey_templates_check(config, NULL, devnull, &files), 0);
	test_assert_int(files, 5);
	/* an admin's directory: a broken French template, and an English one
	   without the link for score 1 */
	char *dir = xasprintf("%s/tpl", tmpdir), *sub = xasprintf("%s/tpl/survey", tmpdir);
	desk_mkdir_p(sub);
	char *f = xasprintf("%s/request.fr.txt", sub);
	desk_write_file(f, "Subject: Avis\n\n{{#ticket}}oops\n");
	free(f);
	f = xasprintf("%s/request.en.txt", sub);
	desk_write_file(f, "Subject: Rate us {{ticket.ref}}\n\n<{{vote.s5}}> <{{vote.s4}}> "
			   "<{{vote.s3}}> <{{vote.s2}}>\n");
	free(f);
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	size_t problems = survey_templates_check(config, dir, mem, &files);
	fclose(mem);
	test_assert(problems >= 2);
	test_assert(strstr(out, "request.fr.txt") != NULL);
	test_assert(strstr(out, "no link for score 1") != NULL);
	free(out);
	fclose(devnull);
	free(sub);
	free(dir);
}

int
main(void)
{
	if (setup() < 0)
		return 1;
	test_addresses();
	test_round_trip();
	test_any_close();
	test_comments();
	test_templates();
	test_begin("subjects");
	test_assert_str(survey_subject("en"), "How did we do?");
	test_assert_str(survey_subject("zh-HK"), survey_subject("zh-TW"));
	test_assert_str(survey_subject("zh"), survey_subject("zh-CN"));
	test_assert_str(survey_subject("de-CH"), survey_subject("de"));
	ingest_free(&ingest);
	thread_config_free(&tc);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(tmpdir);
	return test_exit();
}
