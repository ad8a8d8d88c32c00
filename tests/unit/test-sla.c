/*
 * test-sla: SLA policies and the clocks of a ticket (gateway/sla.c).
 * Configurations are written to a file and loaded as the daemon does;
 * expected instants are worked out by hand on the calendar (Europe/Berlin,
 * whose clocks go forward on Sunday 30 March 2025), in UTC.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/tz.h"
#include "tests/unit/test.h"

static char conf_path[] = "/tmp/test-sla.XXXXXX";

static int64_t
at(const char *s)
{
	int64_t t = 0;
	if (clock_parse(s, &t) < 0) {
		printf("bad test time %s\n", s);
		exit(99);
	}
	return t;
}

/* Load text as a configuration; NULL with *error_r. */
static struct config *
load(const char *text, const char **error_r)
{
	FILE *fp = fopen(conf_path, "w");
	fprintf(fp, "[general]\nstate_dir = /tmp\nsupport_address = support@example.test\n%s",
		text);
	fclose(fp);
	struct config *config = NULL;
	if (config_load(conf_path, &config, error_r) < 0)
		return NULL;
	return config;
}

static struct sla *
sla_load(const char *text, struct config **config_r)
{
	const char *error = NULL;
	struct sla *sla = NULL;
	*config_r = load(text, &error);
	if (*config_r == NULL || sla_new(*config_r, &sla, &error) < 0) {
		printf("  unexpected: %s\n", error);
		return NULL;
	}
	return sla;
}

static void
test_errors(void)
{
	static const struct {
		const char *text, *want;
		int line; /* of the offending key, counted after the 3 lines of [general] */
	} cases[] = {
		{ "[sla x]\ncalendar = nope\n", "[sla x] calendar: no [hours nope]", 5 },
		{ "[hours asia]\nweek = mon-fri 09:00-18:00\ntimezone = Mars/Olympus\n",
		  "[hours asia]: time zone \"Mars/Olympus\" not found", 6 },
		{ "[hours]\ntimezone = UTC\nweek = mon-fri 18:00-09:00\n", "must end after it starts",
		  6 },
		{ "[hours x]\nopen_days = 2025-02-30 09:00-10:00\n", "open days", 5 },
		{ "[hours default]\ntimezone = UTC\n", "[hours default]", 0 },
		{ "[sla x]\n\npriorities = high, critical\n", "\"critical\" is not low, normal", 6 },
		{ "[queue q]\nsupervisors = carol@example.test, nobody\n",
		  "[queue q] supervisors: \"nobody\" is neither", 5 },
		{ "[queue q]\ncalendar = asia\n", "[queue q] calendar: no [hours asia]", 5 },
		{ "[agent a]\naddress = a@example.test\ndigest = 25:00\n", "digest: expected HH:MM",
		  6 },
		{ "[agent a]\naddress = a@example.test\ntimezone = Nowhere/City\n",
		  "[agent a] timezone", 6 },
		{ "[agent a]\naddress = a@example.test\ncalendar = x\n", "no [hours x]", 6 },
		{ "[digest]\ntime = 08.00\n", "[digest] time: expected HH:MM", 5 },
		{ "[sla x]\nsupervisors = ghost\n", "[sla x] supervisors", 5 },
	};
	test_begin("configuration errors name file:line");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *error = NULL;
		struct sla *sla = NULL;
		struct config *config = load(cases[i].text, &error);
		int r = config != NULL ? sla_new(config, &sla, &error) : -1;
		test_assert_int(r, -1);
		test_assert(sla == NULL);
		if (error == NULL || strstr(error, cases[i].want) == NULL)
			printf("  case %zu: got \"%s\", want \"%s\"\n", i, error ? error : "(null)",
			       cases[i].want);
		test_assert(error != NULL && strstr(error, cases[i].want) != NULL);
		if (cases[i].line > 0 && error != NULL) {
			char *want = xasprintf("%s:%d:", conf_path, cases[i].line);
			if (strstr(error, want) == NULL)
				printf("  case %zu: no %s in \"%s\"\n", i, want, error);
			test_assert(strstr(error, want) != NULL);
			free(want);
		}
		config_free(&config);
	}
	/* sections the parser refuses */
	const char *error = NULL;
	test_assert(load("[pending]\nremind_after = x\n", &error) == NULL);
	test_assert(load("[sla x]\nwarn_at = 100\n", &error) == NULL);
	test_assert(load("[sla x]\nvip = maybe\n", &error) == NULL);
	test_assert(load("[digest x]\nenabled = no\n", &error) == NULL);
	test_assert(load("[hours asia]\ntarget_high = 1h\n", &error) == NULL);
}

static const char *const DESK =
	"[hours]\ntimezone = Europe/Berlin\nweek = mon-fri 09:00-17:00\n"
	"[hours 24x7]\ntimezone = UTC\nweek = 24x7\n"
	"[hours asia]\ntimezone = Asia/Shanghai\nweek = mon-fri 09:00-18:00\n"
	"[rules]\nvip_senders = boss@big.example, fund.example\n"
	"[agent carol]\naddress = carol@example.test\n"
	"[queue kyc]\ncategories = account_security\ncalendar = asia\nsupervisors = carol\n"
	"[queue private]\nvip = yes\n"
	"[sla vip]\nvip = yes\ncalendar = 24x7\nfirst_response = 1h\nresolution = 8h\n"
	"warn_at = 50\nrepeat = 2h\n"
	"[sla default]\nfirst_response = 8h\nnext_response = 8h\nresolution = 5d\n"
	"[sla fast]\npriorities = urgent, high\nfirst_response = 2h\nnext_response = 4h\n"
	"resolution = 2d\n"
	"[sla chinese]\nlanguages = zh\nfirst_response = 4h\n";

static struct store_ticket
ticket(const char *priority, const char *category, const char *queue, const char *language,
       const char *customer)
{
	return (struct store_ticket){ .id = 7, .subject = "s", .status = "new",
				      .priority = priority, .category = category, .queue = queue,
				      .language = language, .customer_address = customer,
				      .created_at = at("2025-03-28T15:00:00Z") };
}

static void
test_matching(void)
{
	struct config *config = NULL;
	struct sla *sla = sla_load(DESK, &config);
	test_begin("policies: first match wins, the default last");
	test_assert(sla != NULL);
	if (sla == NULL)
		return;
	test_assert_int(sla_policy_count(sla), 4);
	test_assert_str(sla_policy_name(sla_policy_at(sla, 3)), "default");
	static const struct {
		const char *priority, *category, *queue, *language, *customer, *want;
		int vip;
	} cases[] = {
		{ "urgent", "other", NULL, "en", "boss@big.example", "vip", 1 },
		{ "normal", "other", NULL, "en", "BOSS@Big.Example", "vip", 1 },
		{ "normal", "other", NULL, "en", "x@sub.fund.example", "vip", 1 },
		{ "normal", "other", NULL, "en", "x@notfund.example", "default", 0 },
		{ "normal", "other", "private", "en", "x@example.net", "vip", 1 },
		{ "high", "other", NULL, "zh-CN", "x@example.net", "fast", 0 },
		{ "normal", "other", NULL, "zh-TW", "x@example.net", "chinese", 0 },
		{ "normal", "other", NULL, "zhx", "x@example.net", "default", 0 },
		{ "low", "other", NULL, NULL, NULL, "default", 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct store_ticket t = ticket(cases[i].priority, cases[i].category, cases[i].queue,
					       cases[i].language, cases[i].customer);
		int vip = sla_ticket_vip(sla, &t);
		test_assert_int(vip, cases[i].vip);
		test_assert_str(sla_policy_name(sla_match(sla, &t, vip)), cases[i].want);
	}
	test_begin("calendars: the policy's, else the queue's, else [hours]");
	const struct sla_policy *vip = sla_policy_find(sla, "vip");
	const struct sla_policy *dflt = sla_policy_find(sla, "DEFAULT");
	test_assert_str(hours_name(sla_policy_calendar(sla, vip, "kyc")), "24x7");
	test_assert_str(hours_name(sla_policy_calendar(sla, dflt, "kyc")), "asia");
	test_assert_str(hours_name(sla_policy_calendar(sla, dflt, "nope")), "default");
	test_assert_str(hours_timezone(sla_calendar(sla, NULL)), "Europe/Berlin");
	test_assert(sla_calendar(sla, "nope") == NULL);
	test_assert(hours_is_24x7(sla_calendar(sla, "24x7")));
	test_assert_int(sla_policy_target(vip, STORE_SLA_RESOLUTION, "low"), 8 * 3600);
	test_assert_int(sla_policy_target(dflt, STORE_SLA_NEXT_RESPONSE, NULL), 8 * 3600);
	test_assert_int(sla_policy_warn_at(vip), 50);
	test_assert_int(sla_policy_repeat(vip), 7200);
	char buf[128];
	test_assert_str(sla_policy_describe(sla_policy_find(sla, "fast"), buf, sizeof(buf)),
			"priority urgent, high");
	test_assert_str(sla_policy_describe(vip, buf, sizeof(buf)), "VIP");
	sla_free(&sla);
	config_free(&config);

	test_begin("without [sla]: the first-response targets of [hours] by priority");
	sla = sla_load("[hours]\ntarget_urgent = 30m\ntarget_low = 3d\n", &config);
	test_assert(sla != NULL && sla_policy_count(sla) == 1);
	if (sla != NULL) {
		const struct sla_policy *p = sla_policy_at(sla, 0);
		test_assert_str(sla_policy_name(p), "default");
		test_assert_int(sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "urgent"), 1800);
		test_assert_int(sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "high"), 4 * 3600);
		test_assert_int(sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "low"), 3 * 86400);
		test_assert_int(sla_policy_target(p, STORE_SLA_FIRST_RESPONSE, "bogus"), 86400);
		test_assert_int(sla_policy_target(p, STORE_SLA_RESOLUTION, "urgent"), 0);
	}
	sla_free(&sla);
	config_free(&config);
}

static int
has_note(const struct sla_note *notes, size_t n, const char *kind, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(notes[i].kind, kind) == 0 && strstr(notes[i].detail, text) != NULL)
			return 1;
	return 0;
}

static void
show_notes(const struct sla_note *notes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("  note %s: %s\n", notes[i].kind, notes[i].detail);
}

/* A ticket's life on the default policy (8h first, 8h next, 5d
   resolution) of a Berlin desk open mon-fri 09:00-17:00, over the weekend
   the clocks go forward. */
static void
test_clocks(void)
{
	struct config *config = NULL;
	struct sla *sla = sla_load(DESK, &config);
	struct sla_note notes[SLA_MAX_NOTES];
	struct store_sla *row = xcalloc(1, sizeof(*row));
	test_begin("clocks: a new ticket on Friday 16:00 CET");
	test_assert(sla != NULL);
	if (sla == NULL) {
		free(row);
		return;
	}
	struct store_ticket t = ticket("normal", "other", NULL, "en", "x@example.net");
	int64_t now = t.created_at;
	size_t n = sla_sync(sla, &t, row, NULL, now, notes);
	test_assert(has_note(notes, n, "sla", "policy=default calendar=default"));
	test_assert_str(row->policy, "default");
	/* 1 business hour on Friday, 7 on Monday (summer time from Sunday) */
	test_assert_int(row->due[STORE_SLA_FIRST_RESPONSE], at("2025-03-31T14:00:00Z"));
	/* 75%: 6 hours */
	test_assert_int(row->warn[STORE_SLA_FIRST_RESPONSE], at("2025-03-31T12:00:00Z"));
	/* 5d is 120 business hours (durations count business time): Friday's
	   one, 14 working days of 8 (to Thursday 17 April), 7 on Friday 18 */
	test_assert_int(row->due[STORE_SLA_RESOLUTION], at("2025-04-18T14:00:00Z"));
	test_assert_int(row->start[STORE_SLA_NEXT_RESPONSE], 0);
	test_assert_int(sla_next_check(sla, row, now), at("2025-03-31T12:00:00Z"));
	test_assert_int(sla_next_check(sla, row, at("2025-03-31T12:00:00Z")),
			at("2025-03-31T14:00:00Z"));
	/* breached: repeats every day ([sla default] repeat = 1d) */
	test_assert_int(sla_next_check(sla, row, at("2025-03-31T15:00:00Z")),
			at("2025-04-01T14:00:00Z"));

	test_begin("clocks: nothing changed, nothing to say");
	test_assert_int(sla_sync(sla, &t, row, NULL, now + 60, notes), 0);

	test_begin("clocks: the agent answers on Monday 10:00 CEST");
	t.status = "open";
	struct sla_happening answer = { .agent_answer = at("2025-03-31T08:00:00Z") };
	n = sla_sync(sla, &t, row, &answer, answer.agent_answer, notes);
	test_assert(has_note(notes, n, "sla-met", "target=first_response"));
	/* 1 h Friday + 1 h Monday */
	test_assert(has_note(notes, n, "sla-met", "business=7200 "));
	test_assert(has_note(notes, n, "sla-met", "within=yes"));
	test_assert_int(row->met[STORE_SLA_FIRST_RESPONSE], answer.agent_answer);
	/* the next check is now the resolution's warning */
	test_assert_int(sla_next_check(sla, row, answer.agent_answer),
			row->warn[STORE_SLA_RESOLUTION]);

	test_begin("clocks: the customer writes on Monday 11:00: next response");
	struct sla_happening mail = { .customer_mail = at("2025-03-31T09:00:00Z") };
	n = sla_sync(sla, &t, row, &mail, mail.customer_mail, notes);
	test_assert(has_note(notes, n, "sla", "next_response started"));
	/* 6 hours on Monday, 2 on Tuesday */
	test_assert_int(row->due[STORE_SLA_NEXT_RESPONSE], at("2025-04-01T09:00:00Z"));
	/* another mail before the answer does not restart it */
	struct sla_happening mail2 = { .customer_mail = at("2025-03-31T09:30:00Z") };
	test_assert_int(sla_sync(sla, &t, row, &mail2, mail2.customer_mail, notes), 0);
	test_assert_int(row->start[STORE_SLA_NEXT_RESPONSE], mail.customer_mail);

	test_begin("clocks: pending on Monday 12:00, the customer answers Wednesday 12:00");
	t.status = "pending";
	n = sla_sync(sla, &t, row, NULL, at("2025-03-31T10:00:00Z"), notes);
	test_assert(has_note(notes, n, "sla-paused", "status=pending"));
	test_assert_int(row->paused_at, at("2025-03-31T10:00:00Z"));
	test_assert_int(sla_next_check(sla, row, at("2025-03-31T10:00:00Z")), 0);
	t.status = "open";
	struct sla_happening back = { .customer_mail = at("2025-04-02T10:00:00Z") };
	n = sla_sync(sla, &t, row, &back, back.customer_mail, notes);
	if (!has_note(notes, n, "sla-resumed", "paused_business=57600"))
		show_notes(notes, n);
	/* paused: Monday 12-17 (5 h), Tuesday (8 h), Wednesday 9-12 (3 h) */
	test_assert(has_note(notes, n, "sla-resumed", "paused_business=57600"));
	test_assert_int(row->paused_at, 0);
	test_assert_int(row->paused[STORE_SLA_NEXT_RESPONSE], 57600);
	/* 8 + 16 business hours from Monday 11:00: Thursday 11:00 */
	test_assert_int(row->due[STORE_SLA_NEXT_RESPONSE], at("2025-04-03T09:00:00Z"));
	/* the next response still runs from Monday's mail: not restarted */
	test_assert_int(row->start[STORE_SLA_NEXT_RESPONSE], mail.customer_mail);

	test_begin("clocks: priority raised: the fast policy, due times recomputed");
	t.priority = "urgent";
	struct sla_happening why = { .why = "#priority urgent" };
	n = sla_sync(sla, &t, row, &why, at("2025-04-02T11:00:00Z"), notes);
	test_assert(has_note(notes, n, "sla", "policy=fast"));
	test_assert(has_note(notes, n, "sla", "was default"));
	test_assert(has_note(notes, n, "sla", "#priority urgent"));
	/* 4 + 16 business hours from Monday 11:00: Wednesday 15:00 CEST */
	test_assert_int(row->due[STORE_SLA_NEXT_RESPONSE], at("2025-04-02T13:00:00Z"));

	test_begin("clocks: answered, closed, reopened");
	answer.agent_answer = at("2025-04-02T12:00:00Z");
	n = sla_sync(sla, &t, row, &answer, answer.agent_answer, notes);
	test_assert(has_note(notes, n, "sla-met", "target=next_response"));
	test_assert(has_note(notes, n, "sla-met", "within=yes"));
	t.status = "closed";
	n = sla_sync(sla, &t, row, NULL, at("2025-04-02T14:00:00Z"), notes);
	test_assert(has_note(notes, n, "sla-paused", "status=closed"));
	test_assert(has_note(notes, n, "sla-met", "target=resolution"));
	test_assert_int(row->met[STORE_SLA_RESOLUTION], at("2025-04-02T14:00:00Z"));
	t.status = "open";
	n = sla_sync(sla, &t, row, NULL, at("2025-04-03T07:00:00Z"), notes);
	test_assert(has_note(notes, n, "sla-resumed", "status=open"));
	test_assert_int(row->met[STORE_SLA_RESOLUTION], 0);
	test_assert(row->due[STORE_SLA_RESOLUTION] > at("2025-04-03T07:00:00Z"));
	test_assert(row->earliest_due == 0); /* computed by the store, not here */


	test_begin("clocks: a target late before a pause stays late after it");
	struct store_sla *late = xcalloc(1, sizeof(*late));
	struct store_ticket u = ticket("normal", "other", NULL, "en", "y@example.net");
	(void)sla_sync(sla, &u, late, NULL, u.created_at, notes);
	int64_t due_before = late->due[STORE_SLA_FIRST_RESPONSE];
	int64_t res_before = late->due[STORE_SLA_RESOLUTION];
	/* pending an hour after the first response was due, open a day later */
	u.status = "pending";
	(void)sla_sync(sla, &u, late, NULL, due_before + 3600, notes);
	u.status = "open";
	(void)sla_sync(sla, &u, late, NULL, due_before + 86400, notes);
	test_assert_int(late->due[STORE_SLA_FIRST_RESPONSE], due_before);
	test_assert_int(late->paused[STORE_SLA_FIRST_RESPONSE], 0);
	/* the resolution, not late yet, moved by the business hours paused:
	   Monday 17:00 (closing) to Tuesday 16:00, 7 hours */
	test_assert(late->due[STORE_SLA_RESOLUTION] > res_before);
	test_assert_int(late->paused[STORE_SLA_RESOLUTION], 7 * 3600);
	store_sla_free(&late);

	store_sla_free(&row);
	sla_free(&sla);
	config_free(&config);
}

/* A VIP ticket on the 24x7 calendar on the Saturday before the clocks go
   forward: wall-clock time, warnings at 50%, breaches repeated every 2 h. */
static void
test_vip_24x7(void)
{
	struct config *config = NULL;
	struct sla *sla = sla_load(DESK, &config);
	struct sla_note notes[SLA_MAX_NOTES];
	struct store_sla *row = xcalloc(1, sizeof(*row));
	test_begin("a VIP ticket on a 24x7 calendar");
	if (sla == NULL) {
		free(row);
		return;
	}
	struct store_ticket t = ticket("normal", "other", NULL, "en", "boss@big.example");
	t.created_at = at("2025-03-29T23:30:00Z");
	(void)sla_sync(sla, &t, row, NULL, t.created_at, notes);
	test_assert_str(row->policy, "vip");
	test_assert_str(row->calendar, "24x7");
	test_assert_int(row->due[STORE_SLA_FIRST_RESPONSE], at("2025-03-30T00:30:00Z"));
	test_assert_int(row->warn[STORE_SLA_FIRST_RESPONSE], at("2025-03-30T00:00:00Z"));
	test_assert_int(row->due[STORE_SLA_RESOLUTION], at("2025-03-30T07:30:00Z"));
	/* first response breached at 00:30, again at 02:30, 04:30; the
	   resolution's warning (50% of 8 h) comes first, at 03:30 */
	test_assert_int(sla_next_check(sla, row, at("2025-03-30T03:00:00Z")),
			at("2025-03-30T03:30:00Z"));
	test_assert_int(sla_next_check(sla, row, at("2025-03-30T03:30:00Z")),
			at("2025-03-30T04:30:00Z"));
	/* the customer moves to a non-VIP address? no: the queue decides too */
	t.queue = "kyc";
	(void)sla_sync(sla, &t, row, NULL, at("2025-03-30T00:10:00Z"), notes);
	test_assert_str(row->calendar, "24x7");
	store_sla_free(&row);
	sla_free(&sla);
	config_free(&config);
}

static void
test_format(void)
{
	struct config *config = NULL;
	struct sla *sla = sla_load(DESK, &config);
	char buf[64];
	test_begin("times and durations for people");
	if (sla == NULL)
		return;
	test_assert_str(sla_format_time(sla_calendar(sla, NULL), at("2025-03-31T08:00:00Z"), buf,
					sizeof(buf)),
			"Mon 2025-03-31 10:00 CEST (+02:00)");
	test_assert_str(sla_format_time(sla_calendar(sla, "asia"), at("2025-03-31T08:00:00Z"),
					buf, sizeof(buf)),
			"Mon 2025-03-31 16:00 CST (+08:00)");
	/* in the reader's language: the five ack languages, their regional
	   tags, and English for the rest */
	static const struct {
		const char *language, *want;
	} in[] = {
		{ "en", "Mon 2025-03-31 10:00 CEST (+02:00)" },
		{ "fr", "lun. 2025-03-31 10:00 CEST (+02:00)" },
		{ "fr-CA", "lun. 2025-03-31 10:00 CEST (+02:00)" },
		{ "de", "Mo. 2025-03-31 10:00 CEST (+02:00)" },
		{ "de_AT", "Mo. 2025-03-31 10:00 CEST (+02:00)" },
		{ "zh-CN", "周一 2025-03-31 10:00 CEST (+02:00)" },
		{ "zh", "周一 2025-03-31 10:00 CEST (+02:00)" },
		{ "zh-TW", "週一 2025-03-31 10:00 CEST (+02:00)" },
		{ "zh-Hant-HK", "週一 2025-03-31 10:00 CEST (+02:00)" },
		{ "frisian", "Mon 2025-03-31 10:00 CEST (+02:00)" },
		{ "es", "Mon 2025-03-31 10:00 CEST (+02:00)" },
		{ NULL, "Mon 2025-03-31 10:00 CEST (+02:00)" },
	};
	for (size_t i = 0; i < N_ELEMENTS(in); i++)
		test_assert_str(sla_format_time_in(sla_calendar(sla, NULL), at("2025-03-31T08:00:00Z"),
						   in[i].language, buf, sizeof(buf)),
				in[i].want);
	/* Sunday and Saturday: the ends of the table */
	test_assert_str(sla_format_time_in(sla_calendar(sla, NULL), at("2025-03-30T08:00:00Z"), "de",
					   buf, sizeof(buf)),
			"So. 2025-03-30 10:00 CEST (+02:00)");
	test_assert_str(sla_format_time_in(sla_calendar(sla, "asia"), at("2025-03-29T08:00:00Z"),
					   "zh-CN", buf, sizeof(buf)),
			"周六 2025-03-29 16:00 CST (+08:00)");
	test_assert_str(sla_format_duration(0, buf, sizeof(buf)), "0m");
	test_assert_str(sla_format_duration(59, buf, sizeof(buf)), "1m");
	test_assert_str(sla_format_duration(2 * 3600 + 5 * 60, buf, sizeof(buf)), "2h 5m");
	test_assert_str(sla_format_duration(2 * 3600, buf, sizeof(buf)), "2h");
	test_assert_str(sla_format_duration(86400 + 59, buf, sizeof(buf)), "1d");
	test_assert_str(sla_format_duration(-(3 * 86400 + 4 * 3600 + 59), buf, sizeof(buf)),
			"3d 4h");
	test_assert_str(sla_target_name(STORE_SLA_NEXT_RESPONSE), "next_response");
	test_assert_int(sla_target_from_name("resolution"), STORE_SLA_RESOLUTION);
	test_assert_int(sla_target_from_name("bogus"), -1);
	sla_free(&sla);
	config_free(&config);
}

int
main(void)
{
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0)
		return test_skip("no tz database (install tzdata)");
	int fd = mkstemp(conf_path);
	if (fd < 0)
		return test_skip("mkstemp failed");
	close(fd);
	test_errors();
	test_matching();
	test_clocks();
	test_vip_24x7();
	test_format();
	unlink(conf_path);
	tz_cache_clear();
	return test_exit();
}
