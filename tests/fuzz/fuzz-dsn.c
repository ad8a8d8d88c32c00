/*
 * fuzz-dsn: dsn_analyze() and autoreply_judge() over one raw message
 * parsed by mime_parse() with small limits. Checks what dsn.h and
 * autoreply.h promise: a report exactly when the kind is not DSN_NONE,
 * with at least one recipient for failed/delayed/delivered, bounded
 * statuses ("" or a class digit 2, 4 or 5) and reply codes, clean one-line
 * diagnostics; a verdict in range whose reason is NULL exactly for
 * AUTOREPLY_NONE and starts "uncertain:" for AUTOREPLY_UNCERTAIN; the two
 * agree (DSN_AUTO_REPLY only for AUTOREPLY_AUTO_REPLY) and a person's
 * forward is never a report. The leading byte chooses the envelope sender
 * (none, "<>", a robot, a person).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/autoreply.h"
#include "parsers/dsn.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 65536

static void
check_report(const struct dsn_report *r, enum dsn_kind kind)
{
	FUZZ_CHECK(r != NULL && r->kind == kind && r->format != NULL);
	if (kind == DSN_FAILED || kind == DSN_DELAYED || kind == DSN_DELIVERED)
		FUZZ_CHECK(r->n_recipients >= 1);
	FUZZ_CHECK(r->n_recipients <= 100);
	for (size_t i = 0; i < r->n_recipients; i++) {
		const struct dsn_recipient *d = &r->recipients[i];
		size_t n = strnlen(d->status, sizeof(d->status));
		FUZZ_CHECK(n < sizeof(d->status));
		FUZZ_CHECK(n == 0 || d->status[0] == '2' || d->status[0] == '4' || d->status[0] == '5');
		FUZZ_CHECK(strnlen(d->reply_code, sizeof(d->reply_code)) < sizeof(d->reply_code));
		if (d->diagnostic != NULL) {
			size_t dl = strlen(d->diagnostic);
			FUZZ_CHECK(dl > 0 && dl <= 1000);
			FUZZ_CHECK(!fuzz_has_control(d->diagnostic, dl, 0));
		}
	}
	for (size_t i = 0; i < r->n_envelope_to; i++)
		FUZZ_CHECK(r->envelope_to[i] != NULL);
}

FUZZ_TARGET(dsn)
{
	static const char *const envelopes[] = { NULL, "", "MAILER-DAEMON@mx.example.net",
						 "carol@example.net" };
	static const char *const own[] = { "support@example.test" };
	struct mime_limits lim;
	struct mime_message *msg = NULL;
	const char *error = NULL;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	struct autoreply_policy policy = {
		.loop_header = "X-Deskgate-Loop",
		.loop_value = "gw.example.test",
		.msgid_prefix = "dg.",
		.msgid_domain = "gw.example.test",
		.own_addresses = own,
		.n_own_addresses = 1,
		.envelope_sender = envelopes[data[0] % N_ELEMENTS(envelopes)],
	};
	data++;
	size--;
	fuzz_mime_limits(&lim, MAX_INPUT);
	mime_parse(data, size, &lim, &msg, &error);
	if (msg != NULL) {
		struct dsn_report *r = NULL;
		enum dsn_kind kind = dsn_analyze(msg, &r);
		FUZZ_CHECK(kind >= DSN_NONE && kind <= DSN_AUTO_REPLY);
		FUZZ_CHECK(strcmp(dsn_kind_name(kind), "?") != 0);
		if (kind == DSN_NONE)
			FUZZ_CHECK(r == NULL);
		else
			check_report(r, kind);

		const char *why = "unset";
		enum autoreply_kind ak = autoreply_judge(msg, &policy, &why);
		FUZZ_CHECK(ak >= AUTOREPLY_NONE && ak <= AUTOREPLY_LOOP);
		FUZZ_CHECK((ak == AUTOREPLY_NONE) == (why == NULL));
		if (ak == AUTOREPLY_UNCERTAIN)
			FUZZ_CHECK(strncmp(why, "uncertain:", 10) == 0);
		FUZZ_CHECK(autoreply_suppress(msg, &policy, &why) == (ak != AUTOREPLY_NONE));
		const char *why0;
		enum autoreply_kind bare = autoreply_judge(msg, NULL, &why0);
		if (kind == DSN_AUTO_REPLY)
			FUZZ_CHECK(bare == AUTOREPLY_AUTO_REPLY);
		if (autoreply_person_forward(msg))
			FUZZ_CHECK(kind == DSN_NONE && bare != AUTOREPLY_UNCERTAIN);
		dsn_report_free(&r);
		FUZZ_CHECK(r == NULL);
	}
	mime_message_free(&msg);
	return 0;
}
