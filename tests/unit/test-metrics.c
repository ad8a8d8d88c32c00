/* test-metrics: the registry, held updates, cardinality, escaping, the
   exposition text, registration, threads, and the reason labels. */
#include "build-config.h"

#include <pthread.h>
#include <stdint.h>

#include "gateway/metrics.h"
#include "test.h"

static char *
render(void)
{
	size_t len;
	const char *error = NULL;
	char *text = metrics_render(1 << 20, &len, &error);
	test_assert(text != NULL);
	if (text != NULL)
		test_assert_int(strlen(text), len);
	return text != NULL ? text : strdup("");
}

/* The value of the sample line that starts with `series ` (name and
   labels as exposed), or -1 when absent. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

static size_t
count_lines_starting(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static void
test_disabled(void)
{
	test_begin("disabled: no-op");
	metrics_disable();
	test_assert(!metrics_enabled());
	metrics_inc(METRIC_TICKETS_OPENED, NULL);
	metrics_ingested("new_ticket", NULL);
	char *t = render();
	test_assert_str(t, "");
	free(t);
}

static void
test_presets_and_counters(void)
{
	test_begin("presets, counters, gauges");
	metrics_enable();
	char *t = render();
	test_assert(strstr(t, "# HELP deskgate_mail_sent_total ") != NULL);
	test_assert(strstr(t, "# TYPE deskgate_mail_sent_total counter\n") != NULL);
	test_assert(sample(t, "deskgate_mail_sent_total{kind=\"ack\"}") == 0);
	test_assert(sample(t, "deskgate_mail_sent_total{kind=\"notify\"}") == 0);
	test_assert(sample(t, "deskgate_tickets_opened_total") == 0);
	test_assert(sample(t, "deskgate_build_info{version=\"" PACKAGE_VERSION "\"}") == 1);
	test_assert(sample(t, "deskgate_outbox_messages{state=\"deferred\"}") == 0);
	test_assert(strstr(t, "# TYPE deskgate_outbox_messages gauge\n") != NULL);
	free(t);

	metrics_ingested("new_ticket", NULL);
	metrics_ingested("new_ticket", NULL);
	metrics_ingested("appended", NULL);
	metrics_ingested("quarantined", "limit: max_mime_depth 20 exceeded");
	metrics_smtp_result("ack", 0, 250);
	metrics_smtp_result("notify", 1, 451);
	metrics_smtp_result("relay", 2, 550);
	metrics_smtp_result("ack", 1, 0);
	metrics_add(METRIC_TICKETS_OPENED, NULL, NULL, -5); /* ignored: counters only grow */
	metrics_set(METRIC_TICKETS_OPENED, NULL, NULL, 100); /* ignored: not a gauge */
	metrics_set(METRIC_QUARANTINE_HELD, NULL, NULL, 7);
	metrics_set(METRIC_QUARANTINE_HELD, NULL, NULL, 3);
	metrics_add(METRIC_FETCHED_BYTES, "support", NULL, 1.5);
	metrics_add(METRIC_FETCHED_BYTES, "support", NULL, 1e15);
	t = render();
	test_assert(sample(t, "deskgate_messages_ingested_total{outcome=\"new_ticket\"}") == 2);
	test_assert(sample(t, "deskgate_messages_ingested_total{outcome=\"appended\"}") == 1);
	test_assert(sample(t, "deskgate_messages_ingested_total{outcome=\"quarantined\"}") == 1);
	test_assert(sample(t, "deskgate_messages_quarantined_total{reason=\"max_mime_depth\"}") == 1);
	test_assert(sample(t, "deskgate_tickets_opened_total") == 2);
	test_assert(sample(t, "deskgate_mail_sent_total{kind=\"ack\"}") == 1);
	test_assert(sample(t, "deskgate_mail_sent_total{kind=\"notify\"}") == 0);
	test_assert(sample(t, "deskgate_mail_failed_total{kind=\"relay\"}") == 1);
	test_assert(sample(t, "deskgate_smtp_results_total{class=\"2xx\"}") == 1);
	test_assert(sample(t, "deskgate_smtp_results_total{class=\"4xx\"}") == 1);
	test_assert(sample(t, "deskgate_smtp_results_total{class=\"5xx\"}") == 1);
	test_assert(sample(t, "deskgate_smtp_results_total{class=\"transport\"}") == 1);
	test_assert(sample(t, "deskgate_quarantine_held_messages") == 3);
	/* integers are written exactly, other values with 17 digits */
	test_assert(strstr(t, "deskgate_imap_fetched_bytes_total{mailbox=\"support\"} "
			      "1000000000000001.5\n") != NULL);
	free(t);
	metrics_disable();
}

static void
test_escaping(void)
{
	test_begin("label values escaped, bad UTF-8 replaced");
	metrics_enable();
	metrics_inc(METRIC_FETCHED, "a\"b\\c\nd");
	metrics_inc(METRIC_FETCHED, "caf\xc3\xa9-\xff");
	int id = metrics_register("deskgate_test_gauge", METRICS_GAUGE, "Line one\nback\\slash",
				  NULL, NULL, &(const char *){ NULL });
	test_assert(id >= METRIC_BUILTIN_COUNT);
	char *t = render();
	test_assert(strstr(t, "deskgate_imap_messages_fetched_total{mailbox=\"a\\\"b\\\\c\\nd\"} 1\n") !=
		    NULL);
	test_assert(strstr(t, "deskgate_imap_messages_fetched_total{mailbox=\"caf\xc3\xa9-?\"} 1\n") !=
		    NULL);
	test_assert(strstr(t, "# HELP deskgate_test_gauge Line one\\nback\\\\slash\n") != NULL);
	test_assert(strstr(t, "deskgate_test_gauge 0\n") != NULL);
	free(t);
	metrics_disable();
}

static void
test_update_and_hold(void)
{
	test_begin("begin/end update drops what was not set again");
	metrics_enable();
	metrics_set(METRIC_MAILBOX_UP, "a", NULL, 1);
	metrics_set(METRIC_MAILBOX_UP, "b", NULL, 0);
	metrics_begin_update(METRIC_MAILBOX_UP);
	metrics_set(METRIC_MAILBOX_UP, "b", NULL, 1);
	metrics_end_update(METRIC_MAILBOX_UP);
	char *t = render();
	test_assert(sample(t, "deskgate_mailbox_up{mailbox=\"a\"}") == -1);
	test_assert(sample(t, "deskgate_mailbox_up{mailbox=\"b\"}") == 1);
	free(t);

	test_begin("held updates: applied on commit, dropped on rollback");
	metrics_hold();
	metrics_ingested("new_ticket", NULL);
	metrics_inc(METRIC_FETCHED, "held"); /* never held: counted now */
	t = render();
	test_assert(sample(t, "deskgate_tickets_opened_total") == 0);
	test_assert(sample(t, "deskgate_imap_messages_fetched_total{mailbox=\"held\"}") == 1);
	free(t);
	metrics_release(0);
	t = render();
	test_assert(sample(t, "deskgate_tickets_opened_total") == 0);
	test_assert(sample(t, "deskgate_messages_ingested_total{outcome=\"new_ticket\"}") == 0);
	free(t);

	metrics_hold();
	metrics_hold(); /* nested: the outer release decides */
	metrics_ingested("new_ticket", NULL);
	metrics_release(1);
	t = render();
	test_assert(sample(t, "deskgate_tickets_opened_total") == 0);
	free(t);
	metrics_ingested("quarantined", "spam: marked by the rules (fired: x)");
	metrics_release(1);
	t = render();
	test_assert(sample(t, "deskgate_tickets_opened_total") == 1);
	test_assert(sample(t, "deskgate_messages_quarantined_total{reason=\"spam\"}") == 1);
	free(t);
	metrics_disable();
}

static void
test_cardinality(void)
{
	test_begin("at most METRICS_MAX_SERIES series per family");
	metrics_enable();
	for (int i = 0; i < METRICS_MAX_SERIES + 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "mb%d", i);
		metrics_inc(METRIC_FETCHED, name);
	}
	char *t = render();
	test_assert_int(count_lines_starting(t, "deskgate_imap_messages_fetched_total{"),
			METRICS_MAX_SERIES);
	test_assert(sample(t, "deskgate_imap_messages_fetched_total{mailbox=\"other\"}") == 101);
	free(t);

	test_begin("render refuses to exceed its maximum");
	size_t len;
	const char *error = NULL;
	test_assert(metrics_render(100, &len, &error) == NULL);
	test_assert(error != NULL && strstr(error, "exceeds 100 bytes") != NULL);
	metrics_disable();
}

static void
test_register(void)
{
	const char *error;
	test_begin("register: names, types, duplicates");
	test_assert(metrics_register("bad name", METRICS_GAUGE, "x", NULL, NULL, &error) == -1);
	test_assert(metrics_register("1abc", METRICS_GAUGE, "x", NULL, NULL, &error) == -1);
	test_assert(metrics_register("x_total", METRICS_GAUGE, "x", NULL, NULL, &error) == -1);
	test_assert(metrics_register("x_count", METRICS_COUNTER, "x", NULL, NULL, &error) == -1);
	test_assert(metrics_register("x", METRICS_GAUGE, "x", "__reserved", NULL, &error) == -1);
	test_assert(metrics_register("x", METRICS_GAUGE, "x", NULL, "l2", &error) == -1);
	test_assert(metrics_register("x", METRICS_GAUGE, "x", "bad-label", NULL, &error) == -1);
	/* registered before the registry is enabled: kept, with the builtins first */
	int at_risk = metrics_register("deskgate_sla_at_risk_tickets", METRICS_GAUGE,
				       "Tickets near their SLA target.", "queue", NULL, &error);
	test_assert(at_risk >= METRIC_BUILTIN_COUNT);
	test_assert_int(metrics_register("deskgate_sla_at_risk_tickets", METRICS_GAUGE, "again",
					 "queue", NULL, &error),
			at_risk);
	test_assert(metrics_register("deskgate_sla_at_risk_tickets", METRICS_COUNTER, "x", NULL,
				     NULL, &error) == -1);
	test_assert(metrics_register("deskgate_mail_sent_total", METRICS_COUNTER, "x", "kind",
				     NULL, &error) == METRIC_MAIL_SENT);
	metrics_enable();
	metrics_set(at_risk, "vip", NULL, 4);
	metrics_inc(METRIC_TICKETS_OPENED, NULL);
	char *t = render();
	test_assert(sample(t, "deskgate_sla_at_risk_tickets{queue=\"vip\"}") == 4);
	test_assert(sample(t, "deskgate_tickets_opened_total") == 1);
	/* builtins come first, in their order */
	test_assert(strstr(t, "deskgate_build_info") < strstr(t, "deskgate_sla_at_risk_tickets"));
	free(t);
	metrics_disable();
}

#define THREADS 4
#define PER_THREAD 200000
#define LABELS 100 /* per thread: the series array grows while others use it */

static pthread_barrier_t start_line;
static char labels[THREADS][LABELS][16];

static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_inc(METRIC_FETCHED, i % 2 == 0 ? "even" : "odd");
		metrics_add(METRIC_FETCHED_BYTES, labels[id][i % LABELS], NULL, 2);
	}
	return NULL;
}

static void *
scraper(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < 200; i++) {
		size_t len;
		const char *error;
		free(metrics_render(1 << 20, &len, &error));
	}
	return NULL;
}

static void
test_threads(void)
{
	test_begin("threads: no update lost while series are added and scraped");
	metrics_enable();
	for (int t = 0; t < THREADS; t++)
		for (int k = 0; k < LABELS; k++)
			snprintf(labels[t][k], sizeof(labels[t][k]), "w%d-%d", t, k);
	pthread_t t[THREADS + 1];
	pthread_barrier_init(&start_line, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	pthread_create(&t[THREADS], NULL, scraper, NULL);
	for (int i = 0; i <= THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start_line);
	char *text = render();
	test_assert(sample(text, "deskgate_imap_messages_fetched_total{mailbox=\"even\"}") ==
		    THREADS * PER_THREAD / 2);
	test_assert(sample(text, "deskgate_imap_messages_fetched_total{mailbox=\"odd\"}") ==
		    THREADS * PER_THREAD / 2);
	int wrong = 0;
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < LABELS; k++) {
			char series[96];
			snprintf(series, sizeof(series),
				 "deskgate_imap_fetched_bytes_total{mailbox=\"%s\"}", labels[i][k]);
			wrong += sample(text, series) != 2.0 * PER_THREAD / LABELS;
		}
	test_assert_int(wrong, 0);
	test_assert_int(count_lines_starting(text, "deskgate_imap_fetched_bytes_total{"),
			THREADS * LABELS);
	free(text);
	metrics_disable();
}

static void
test_reason_labels(void)
{
	static const struct {
		const char *reason, *label;
	} cases[] = {
		{ "limit: max_message_size 26214400 exceeded (30000000 bytes)", "max_message_size" },
		{ "limit: max_mime_depth 20 exceeded", "max_mime_depth" },
		{ "part 3: limit: max_attachment_size 100 exceeded", "max_attachment_size" },
		{ "structure: MIME parse failed (libetpan error 3)", "structure" },
		{ "charset: unknown charset x-foo", "charset" },
		{ "spam: marked by the rules (fired: a, b)", "spam" },
		{ "store refused the message: too big", "store" },
		{ "Store-Refused: x", "store_refused" },
		{ "", "other" },
		{ NULL, "other" },
		{ ": nothing", "other" },
		{ "limit:", "limit" },
		{ "\xe4\xb8\xad\xe6\x96\x87", "other" },
		{ "a_very_long_reason_word_that_goes_on_and_on_and_on: x", "other" },
		{ "limit: a_very_long_key_name_that_goes_on_and_on_and_on 1", "other" },
	};
	test_begin("quarantine reason labels");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[48];
		test_assert_str(metrics_reason_label(cases[i].reason, out, sizeof(out)),
				cases[i].label);
	}
	char tiny[4];
	test_assert_str(metrics_reason_label("structure: x", tiny, sizeof(tiny)), "str");
}

int
main(void)
{
	test_disabled();
	test_presets_and_counters();
	test_escaping();
	test_update_and_hold();
	test_cardinality();
	test_register();
	test_threads();
	test_reason_labels();
	test_disabled();
	return test_exit();
}
