/*
 * fuzz-rules: the rules engine. The input is a rule file, then a NUL byte,
 * then a message: its first line the subject, the rest the body (without a
 * NUL byte, a fixed message is classified). Rules load with small PCRE2
 * match and depth limits, so a pattern cannot stall a run; when they
 * compile the message is classified. Checks that a failed load leaves no
 * rules and names the file, and that a result is well formed: a category,
 * a known priority, hits and summaries without control characters.
 */
#include "build-config.h"

#include <string.h>

#include "gateway/rules.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static const char default_message[] =
	"Withdrawal pending since yesterday\n"
	"Hello, my withdrawal of 0.5 BTC (order id A1234567) is still pending.\n"
	"tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060\n"
	"> On Mon, 1 Jan 2024 at 10:00, Support <support@example.test> wrote:\n"
	"> please send the tx hash\n";

static int
priority_known(const char *p)
{
	return p != NULL && (strcmp(p, "low") == 0 || strcmp(p, "normal") == 0 ||
			     strcmp(p, "high") == 0 || strcmp(p, "urgent") == 0);
}

static void
classify(struct rules *rules, const char *message)
{
	static const struct rules_header headers[] = {
		{ "X-Priority", "1 (Highest)" },
		{ "Auto-Submitted", "no" },
		{ "List-Id", "<traders.example.test>" },
	};
	static const struct rules_attachment attachments[] = {
		{ "screenshot.png", "image/png" },
		{ "statement.pdf", "application/pdf" },
	};
	static const char *const to[] = { "support@example.test" };
	static const char *const cc[] = { "vip@example.org", "ops@example.test" };
	struct rules_input in;
	struct rules_result *res = NULL;

	char *subject = xstrdup(message);
	char *nl = strchr(subject, '\n');
	const char *body = "";
	if (nl != NULL) {
		*nl = '\0';
		body = nl + 1;
	}
	rules_input_text(&in, subject, body);
	in.from = "customer@example.org";
	in.to = to;
	in.n_to = N_ELEMENTS(to);
	in.cc = cc;
	in.n_cc = N_ELEMENTS(cc);
	in.headers = headers;
	in.n_headers = N_ELEMENTS(headers);
	in.attachments = attachments;
	in.n_attachments = N_ELEMENTS(attachments);
	in.mailbox = "support";

	FUZZ_CHECK(rules_classify(rules, &in, &res) == 0);
	FUZZ_CHECK(res != NULL);
	FUZZ_CHECK(res->category != NULL && res->category[0] != '\0');
	FUZZ_CHECK(priority_known(res->priority));
	FUZZ_CHECK(res->n_hits <= rules_count(rules));
	for (size_t i = 0; i < res->n_hits; i++) {
		const struct rules_hit *h = &res->hits[i];
		FUZZ_CHECK(h->rule != NULL);
		for (size_t k = 0; k < h->n_matches; k++) {
			const struct rules_match *m = &h->matches[k];
			FUZZ_CHECK(m->target != NULL && m->text != NULL);
			FUZZ_CHECK(strlen(m->text) <= 200);
			FUZZ_CHECK(m->before == NULL || strlen(m->before) <= 40);
			FUZZ_CHECK(m->after == NULL || strlen(m->after) <= 40);
		}
		char *summary = rules_hit_summary(h);
		FUZZ_CHECK(summary != NULL);
		FUZZ_CHECK(!fuzz_has_control(summary, strlen(summary), 0));
		free(summary);
	}
	for (size_t i = 0; i < res->n_fields; i++)
		FUZZ_CHECK(res->fields[i].name != NULL && res->fields[i].value != NULL);
	rules_result_free(&res);
	FUZZ_CHECK(res == NULL);
	free(subject);
}

FUZZ_TARGET(rules)
{
	struct rules_options options;
	struct rules *rules = NULL;
	const char *error = NULL;

	if (size > MAX_INPUT)
		return 0;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t text_len = nul != NULL ? (size_t)(nul - data) : size;
	char *text = fuzz_strndup(data, text_len);
	char *message = nul != NULL ? fuzz_strndup(nul + 1, size - text_len - 1)
				    : xstrdup(default_message);

	rules_options_default(&options);
	options.match_limit = 20000;
	options.depth_limit = 2000;
	options.vip_senders = "vip@example.org, example.net";

	if (rules_load_text("fuzz.rules", text, text_len, &options, &rules, &error) == 0) {
		FUZZ_CHECK(rules != NULL);
		for (size_t i = 0; i < rules_count(rules); i++)
			FUZZ_CHECK(rules_name(rules, i) != NULL);
		classify(rules, message);
		rules_free(&rules);
		FUZZ_CHECK(rules == NULL);
	} else {
		FUZZ_CHECK(rules == NULL);
		FUZZ_CHECK(error != NULL && strstr(error, "fuzz.rules") != NULL);
	}
	free(message);
	free(text);
	return 0;
}
