/*
 * deskgate parse MESSAGE.eml [--json]: what deskgate reads from one
 * message, without storing anything, for admins who wonder why a mail was
 * handled as it was: the decoded headers and addresses, the text and the
 * new text without quotes and signature, the language, the attachments
 * with the types their bytes have, and the automatic-mail and report
 * verdicts with their reasons. The work is the parsers' and sniff's; this
 * file only prints.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/sniff.h"
#include "parsers/autoreply.h"
#include "parsers/dsn.h"
#include "parsers/lang.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/file.h"
#include "base/util.h"

static void
parse_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] parse MESSAGE.eml [--json]\n\n"
		     "  Print what deskgate reads from one message (\"-\": standard input)\n"
		     "  without storing it: decoded headers and addresses, the text, the new\n"
		     "  text without quoted history and signature, the language, attachments\n"
		     "  with their sniffed types, and whether it is automatic mail or a report\n"
		     "  (and why). Exit 65 when the message would be quarantined (the reason\n"
		     "  is printed), 66 when it cannot be read.\n");
}

/* "Name <address>", the address, or the group name. Caller frees. */
static char *
address_string(const struct mime_address *a)
{
	if (a->address == NULL)
		return xstrdup(a->name != NULL ? a->name : "");
	return a->name != NULL ? xasprintf("%s <%s>", a->name, a->address) : xstrdup(a->address);
}

static struct jsonout *
address_json(const struct mime_address *a)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_str(o, "name", a->name);
	jsonout_set_str(o, "address", a->address);
	return o;
}

static struct jsonout *
list_json(const struct mime_address_list *l)
{
	struct jsonout *arr = jsonout_array();
	for (size_t i = 0; i < l->count; i++)
		jsonout_append(arr, address_json(&l->items[i]));
	return arr;
}

static void
print_list(const char *label, const struct mime_address_list *l)
{
	if (l->count == 0)
		return;
	printf("%-13s", label);
	for (size_t i = 0; i < l->count; i++) {
		char *s = address_string(&l->items[i]);
		printf("%s%s", i > 0 ? ", " : "", s);
		free(s);
	}
	printf("\n");
}

/* The verdicts on msg, as ingest reaches them. */
struct verdicts {
	enum autoreply_kind automatic;
	const char *automatic_why;
	enum dsn_kind report;
	const char *language;
	enum lang_source language_source;
	struct quote_result stripped;
	int stripped_ok;
};

static void
judge(const struct config *config, const struct mime_message *msg, struct verdicts *v)
{
	const char *own[1] = { config->support_address };
	struct autoreply_policy pol = {
		.loop_header = "X-Deskgate-Loop",
		.loop_value = config->hostname,
		.msgid_prefix = "dg.",
		.msgid_domain = config->hostname,
		.own_addresses = own,
		.n_own_addresses = config->support_address != NULL ? 1 : 0,
	};
	const char *why = NULL;
	v->automatic = autoreply_judge(msg, &pol, &why);
	v->automatic_why = why;
	struct dsn_report *report = NULL;
	v->report = dsn_analyze(msg, &report);
	dsn_report_free(&report);
	v->language = lang_detect(msg->content_language, msg->text, msg->text_len, NULL,
				  &v->language_source);
	const char *error;
	v->stripped_ok = quote_strip(msg->text, msg->text_len, 0, &v->stripped, &error) == 0;
}

static const char *
source_name(enum lang_source s)
{
	return s == LANG_FROM_HEADER ? "Content-Language" : s == LANG_FROM_TEXT ? "the text" : "none";
}

static void
sniff_attachment(struct sniff *sn, const struct mime_attachment *a, struct sniff_verdict *sv)
{
	const char *error;
	memset(sv, 0, sizeof(*sv));
	if (sn == NULL || sniff_bytes(sn, a->data, a->size, a->filename, sv, &error) < 0) {
		sv->kind = SNIFF_KIND_COUNT;
		snprintf(sv->reason, sizeof(sv->reason), "not checked: %s",
			 sn == NULL ? "libmagic unavailable" : error);
	}
}

static int
print_json(const struct mime_message *msg, const struct verdicts *v, struct sniff *sn)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_str(o, "subject", msg->subject);
	jsonout_set(o, "from", address_json(&msg->from));
	jsonout_set(o, "to", list_json(&msg->to));
	jsonout_set(o, "cc", list_json(&msg->cc));
	jsonout_set(o, "reply_to", list_json(&msg->reply_to));
	jsonout_set_str(o, "return_path", msg->return_path);
	jsonout_set_str(o, "message_id", msg->message_id);
	jsonout_set_str(o, "in_reply_to", msg->in_reply_to);
	struct jsonout *refs = jsonout_array();
	for (size_t i = 0; i < msg->n_references; i++)
		jsonout_append(refs, jsonout_str(msg->references[i]));
	jsonout_set(o, "references", refs);
	if (msg->has_date)
		jsonout_set_int(o, "date", msg->date);
	jsonout_set_str(o, "language", v->language);
	jsonout_set_str(o, "language_source", source_name(v->language_source));
	jsonout_set_str(o, "text", msg->text);
	jsonout_set_bool(o, "text_from_html", msg->text_from_html);
	jsonout_set_bool(o, "text_truncated", msg->text_truncated);
	jsonout_set_str(o, "new_text", v->stripped_ok ? v->stripped.text : msg->text);
	jsonout_set_bool(o, "quote_removed", v->stripped_ok && v->stripped.quote_removed);
	jsonout_set_bool(o, "signature_removed", v->stripped_ok && v->stripped.signature_removed);
	struct jsonout *atts = jsonout_array();
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		struct sniff_verdict sv;
		sniff_attachment(sn, a, &sv);
		struct jsonout *j = jsonout_object();
		jsonout_set_str(j, "filename", a->filename);
		jsonout_set_str(j, "declared_type", a->content_type);
		jsonout_set_str(j, "sniffed_type", sv.type[0] != '\0' ? sv.type : NULL);
		jsonout_set_str(j, "verdict", sv.kind < SNIFF_KIND_COUNT ? sniff_kind_name(sv.kind)
									 : "unchecked");
		jsonout_set_str(j, "reason", sv.reason);
		jsonout_set_int(j, "size", (int64_t)a->size);
		jsonout_set_bool(j, "inline", a->is_inline);
		jsonout_set_str(j, "content_id", a->content_id);
		jsonout_append(atts, j);
	}
	jsonout_set(o, "attachments", atts);
	jsonout_set_str(o, "automatic", autoreply_kind_name(v->automatic));
	jsonout_set_str(o, "automatic_why", v->automatic_why);
	jsonout_set_str(o, "report", dsn_kind_name(v->report));
	struct jsonout *warn = jsonout_array();
	for (size_t i = 0; i < msg->n_warnings; i++)
		jsonout_append(warn, jsonout_str(msg->warnings[i]));
	jsonout_set(o, "warnings", warn);
	int ret = jsonout_print(o, stdout);
	jsonout_free(&o);
	return ret;
}

static void
print_text(const struct mime_message *msg, const struct verdicts *v, struct sniff *sn)
{
	printf("%-13s%s\n", "Subject:", msg->subject);
	char *from = address_string(&msg->from);
	printf("%-13s%s\n", "From:", msg->from.address != NULL ? from : "(none readable)");
	free(from);
	print_list("To:", &msg->to);
	print_list("Cc:", &msg->cc);
	print_list("Reply-To:", &msg->reply_to);
	if (msg->return_path != NULL)
		printf("%-13s<%s>\n", "Return-Path:", msg->return_path);
	if (msg->has_date)
		printf("%-13s%s\n", "Date:", cli_time(msg->date));
	printf("%-13s%s\n", "Message-ID:", msg->message_id != NULL ? msg->message_id : "(none)");
	if (msg->in_reply_to != NULL)
		printf("%-13s%s\n", "In-Reply-To:", msg->in_reply_to);
	if (msg->n_references > 0)
		printf("%-13s%zu ids, the newest %s\n", "References:", msg->n_references,
		       msg->references[msg->n_references - 1]);
	printf("%-13s%s (%s)\n", "Language:", v->language != NULL ? v->language : "unknown",
	       source_name(v->language_source));
	printf("%-13s%s%s%s\n", "Automatic:", autoreply_kind_name(v->automatic),
	       v->automatic_why != NULL ? ": " : "",
	       v->automatic_why != NULL ? v->automatic_why : "");
	printf("%-13s%s\n", "Report:", dsn_kind_name(v->report));
	printf("%-13s%zu\n", "Attachments:", msg->n_attachments);
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		struct sniff_verdict sv;
		sniff_attachment(sn, a, &sv);
		printf("  %zu. %s, %zu bytes, declared %s%s%s\n     %s: %s\n", i + 1, a->filename,
		       a->size, a->content_type, a->is_inline ? ", inline" : "",
		       a->content_id != NULL ? " (cid)" : "",
		       sv.kind < SNIFF_KIND_COUNT ? sniff_kind_name(sv.kind) : "unchecked",
		       sv.reason);
	}
	for (size_t i = 0; i < msg->n_warnings; i++)
		printf("%-13s%s\n", i == 0 ? "Warnings:" : "", msg->warnings[i]);
	printf("\n--- text (%zu bytes%s%s) ---\n%s\n", msg->text_len,
	       msg->text_from_html ? ", made from HTML" : "",
	       msg->text_truncated ? ", cut at max_text_size" : "", msg->text);
	printf("--- new text (%s, %s) ---\n%s\n",
	       v->stripped_ok && v->stripped.quote_removed ? "quoted history removed"
							    : "no quoted history found",
	       v->stripped_ok && v->stripped.signature_removed ? "signature removed"
								: "no signature found",
	       v->stripped_ok ? v->stripped.text : msg->text);
}

int
cmd_parse(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			parse_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((argv[i][0] == '-' && argv[i][1] != '\0') || path != NULL) {
			parse_usage(stderr);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (path == NULL) {
		parse_usage(stderr);
		return EXIT_USAGE;
	}
	/* The configuration names our host and address for the loop checks;
	   without one, the defaults. */
	struct config *config = cli_global.config_path == NULL && access(CONFIG_DEFAULT_PATH, R_OK) != 0
					? config_defaults(".")
					: cli_config();
	char *raw = NULL;
	size_t len = 0;
	const char *error;
	int r = file_read(path, (size_t)config->limits.max_message_size + 1, &raw, &len, &error);
	if (r <= 0) {
		log_error("%s", r < 0 ? error : errf("%s: no such file", path));
		config_free(&config);
		return EXIT_NOINPUT;
	}
	int ret = 0;
	struct mime_limits limits;
	struct mime_message *msg = NULL;
	ingest_mime_limits(config, &limits);
	if (len > (size_t)config->limits.max_message_size) {
		printf("would be quarantined: limit: max_message_size %llu exceeded\n",
		       (unsigned long long)config->limits.max_message_size);
		ret = EXIT_DATAERR;
	} else if (mime_parse((const unsigned char *)raw, len, &limits, &msg, &error) < 0) {
		printf("would be quarantined: %s\n", error);
		ret = EXIT_DATAERR;
	} else {
		struct verdicts v = { 0 };
		judge(config, msg, &v);
		struct sniff *sn = sniff_new(NULL, &error);
		if (sn == NULL)
			fprintf(stderr, "note: attachments not sniffed: %s\n", error);
		if (json)
			ret = print_json(msg, &v, sn) < 0 ? EXIT_IOERR : 0;
		else
			print_text(msg, &v, sn);
		sniff_free(&sn);
		if (v.stripped_ok)
			free(v.stripped.text);
	}
	mime_message_free(&msg);
	free(raw);
	config_free(&config);
	return ret;
}
