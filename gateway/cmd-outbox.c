/* deskgate outbox list [--json] [--status S] [--limit N] | show N [--raw|--json]
   | retry N | cancel N */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "base/util.h"

static void
outbox_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] outbox list [--json] [--status S] [--limit N]\n"
		"       deskgate [-c FILE] outbox show N [--raw | --json]\n"
		"       deskgate [-c FILE] outbox retry N\n"
		"       deskgate [-c FILE] outbox cancel N\n\n"
		"  list     outgoing mail, newest first; S is queued, sending, sent, failed\n"
		"           or cancelled\n"
		"  show     one message: its delivery state, each recipient's result, and\n"
		"           its headers; --raw prints the exact RFC 5322 bytes that are (or\n"
		"           were) sent\n"
		"  retry    make a queued, failed or cancelled message due now (the daemon\n"
		"           sends it on its next run)\n"
		"  cancel   never send a queued or failed message\n");
}

static struct jsonout *
outbox_json(const struct store_outbox *o)
{
	struct jsonout *j = jsonout_object();
	jsonout_set_int(j, "id", o->id);
	if (o->ticket_id > 0)
		jsonout_set_int(j, "ticket", o->ticket_id);
	else
		jsonout_set(j, "ticket", jsonout_str(NULL));
	jsonout_set_str(j, "kind", o->kind);
	jsonout_set_str(j, "status", o->status);
	jsonout_set_str(j, "message_id", o->message_id);
	jsonout_set_str(j, "envelope_from", o->envelope_from);
	jsonout_set_str(j, "recipients", o->recipients);
	jsonout_set_int(j, "size", (int64_t)o->raw_size);
	jsonout_set_int(j, "attempts", o->attempts);
	jsonout_set_int(j, "created_at", o->created_at);
	jsonout_set_int(j, "next_attempt_at", o->next_attempt_at);
	jsonout_set_int(j, "sent_at", o->sent_at);
	jsonout_set_str(j, "last_code", o->last_code);
	jsonout_set_str(j, "last_error", o->last_error);
	return j;
}

static int
outbox_list(struct store *store, int json, const char *status, size_t limit)
{
	const char *error;
	struct store_outbox *list;
	size_t n;
	if (store_outbox_list(store, status, limit, &list, &n, &error) < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	if (json) {
		struct jsonout *arr = jsonout_array();
		for (size_t i = 0; i < n; i++)
			jsonout_append(arr, outbox_json(&list[i]));
		jsonout_print(arr, stdout);
		jsonout_free(&arr);
	} else {
		printf("%-6s %-9s %-6s %-6s %3s %-20s %-10s %s\n", "ID", "STATUS", "KIND", "TICKET",
		       "TRY", "WHEN", "CODE", "TO");
		for (size_t i = 0; i < n; i++) {
			const struct store_outbox *o = &list[i];
			int64_t when = strcmp(o->status, "sent") == 0	    ? o->sent_at
				       : strcmp(o->status, "queued") == 0 ? o->next_attempt_at
									    : o->created_at;
			char ticket[24];
			if (o->ticket_id > 0)
				snprintf(ticket, sizeof(ticket), "%lld", (long long)o->ticket_id);
			else
				snprintf(ticket, sizeof(ticket), "-");
			printf("%-6lld %-9s %-6s %-6s %3lld %-20s %-10s %s\n", (long long)o->id,
			       o->status, o->kind, ticket, (long long)o->attempts, cli_time(when),
			       o->last_code != NULL ? log_safe(o->last_code, 10) : "-",
			       log_safe(o->recipients, 200));
		}
		if (n == 0)
			printf("(no outgoing mail)\n");
	}
	store_outboxes_free(&list, n);
	return 0;
}

static int
outbox_show(struct store *store, const struct config *config, int64_t id, int raw, int json)
{
	const char *error;
	struct store_outbox *o;
	int r = store_outbox_get(store, id, &o, &error);
	if (r < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	if (r == 0) {
		log_error("no outbox message %lld", (long long)id);
		return EXIT_DATAERR;
	}
	int ret = 0;
	struct store_outbox_rcpt *rcpts = NULL;
	size_t n_rcpts = 0;
	if (!raw && store_outbox_rcpt_list(store, id, &rcpts, &n_rcpts, &error) < 0) {
		log_error("%s", error);
		ret = EXIT_TEMPFAIL;
		goto rcpts_done;
	}
	if (raw) {
		if (fwrite(o->raw, 1, o->raw_size, stdout) != o->raw_size || fflush(stdout) != 0)
			ret = EXIT_IOERR;
	} else if (json) {
		struct jsonout *j = outbox_json(o);
		/* the header block, as text (it is ASCII: compose.c encodes) */
		const char *end = strstr((const char *)o->raw, "\r\n\r\n");
		size_t hlen = end != NULL ? (size_t)(end - (const char *)o->raw) : o->raw_size;
		char *headers = xstrndup((const char *)o->raw, hlen);
		jsonout_set_str(j, "headers", headers);
		free(headers);
		struct jsonout *ja = jsonout_array();
		for (size_t i = 0; i < n_rcpts; i++) {
			struct jsonout *a = jsonout_object();
			jsonout_set_str(a, "address", rcpts[i].address);
			jsonout_set_str(a, "status", rcpts[i].status);
			jsonout_set_str(a, "code", rcpts[i].code);
			jsonout_set_str(a, "detail", rcpts[i].detail);
			jsonout_append(ja, a);
		}
		jsonout_set(j, "recipient_results", ja);
		jsonout_print(j, stdout);
		jsonout_free(&j);
	} else {
		printf("Outbox message %lld: %s\n", (long long)o->id, o->status);
		printf("  kind %s, ticket %s%lld\n", o->kind, o->ticket_id > 0 ? "" : "none ",
		       (long long)(o->ticket_id > 0 ? o->ticket_id : 0));
		printf("  message-id <%s>\n", log_safe(o->message_id, 300));
		/* the VERP address actually used, not the template */
		struct outbox *ob;
		char *from = NULL;
		if (outbox_new(store, config, &ob, &error) == 0) {
			from = outbox_envelope_from(ob, o->envelope_from, o->id);
			outbox_free(&ob);
		}
		printf("  envelope from <%s> to %s\n",
		       log_safe(from != NULL ? from : o->envelope_from, 300),
		       log_safe(o->recipients, 1000));
		free(from);
		printf("  queued %s, attempts %lld, next attempt %s, sent %s\n",
		       cli_time(o->created_at), (long long)o->attempts,
		       strcmp(o->status, "queued") == 0 ? cli_time(o->next_attempt_at) : "-",
		       cli_time(o->sent_at));
		if (o->last_code != NULL || o->last_error != NULL)
			printf("  last result %s %s\n", o->last_code ? log_safe(o->last_code, 40) : "",
			       o->last_error ? log_safe(o->last_error, 1000) : "");
		/* each recipient's own result (one refused does not stop the others) */
		for (size_t i = 0; i < n_rcpts; i++)
			printf("  recipient %s: %s%s%s%s%s\n", log_safe(rcpts[i].address, 300),
			       rcpts[i].status, rcpts[i].code != NULL ? " " : "",
			       rcpts[i].code != NULL ? log_safe(rcpts[i].code, 40) : "",
			       rcpts[i].detail != NULL && strcmp(rcpts[i].status, "sent") != 0 ? " " : "",
			       rcpts[i].detail != NULL && strcmp(rcpts[i].status, "sent") != 0
				       ? log_safe(rcpts[i].detail, 500)
				       : "");
		printf("  size %zu bytes\n\n", o->raw_size);
		/* headers, line by line, made safe for the terminal */
		const char *p = (const char *)o->raw;
		const char *end = strstr(p, "\r\n\r\n");
		while (end != NULL && p < end) {
			const char *eol = strstr(p, "\r\n");
			size_t n = (size_t)(eol - p);
			char *line = xstrndup(p, n);
			printf("%s\n", log_safe(line, 2000));
			free(line);
			p = eol + 2;
		}
	}
rcpts_done:
	store_outbox_rcpts_free(&rcpts, n_rcpts);
	store_outbox_free(&o);
	return ret;
}

int
cmd_outbox(int argc, char **argv)
{
	int json = 0, raw = 0;
	uint64_t limit = 0, id = 0;
	const char *status = NULL;
	const char *sub = argc >= 2 ? argv[1] : NULL;
	static const char *const statuses[] = { "queued", "sending", "sent", "failed", "cancelled" };

	if (sub == NULL || cli_is_help(sub)) {
		outbox_usage(sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : 0;
	}
	int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0;
	int is_retry = strcmp(sub, "retry") == 0, is_cancel = strcmp(sub, "cancel") == 0;
	if (!is_list && !is_show && !is_retry && !is_cancel) {
		outbox_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			outbox_usage(stdout);
			return 0;
		} else if ((is_list || is_show) && strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (is_show && strcmp(argv[i], "--raw") == 0) {
			raw = 1;
		} else if (is_list && strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			if (str_to_u64(argv[++i], 1000000, &limit) < 0) {
				outbox_usage(stderr);
				return EXIT_USAGE;
			}
		} else if (is_list && strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
			status = argv[++i];
			int known = 0;
			for (size_t k = 0; k < N_ELEMENTS(statuses); k++)
				known |= strcmp(status, statuses[k]) == 0;
			if (!known) {
				fprintf(stderr, "deskgate: unknown status \"%s\"\n", log_safe(status, 40));
				return EXIT_USAGE;
			}
		} else if (!is_list && id == 0 && str_to_u64(argv[i], INT64_MAX, &id) == 0 && id > 0) {
			continue;
		} else {
			outbox_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((!is_list && id == 0) || (raw && json)) {
		outbox_usage(stderr);
		return EXIT_USAGE;
	}

	struct config *config;
	struct store *store;
	cli_open(&config, &store);
	int ret = 0;
	const char *error;
	if (is_list) {
		ret = outbox_list(store, json, status, limit);
	} else if (is_show) {
		ret = outbox_show(store, config, (int64_t)id, raw, json);
	} else {
		int r = is_retry ? outbox_retry(store, (int64_t)id, (int64_t)time(NULL), &error)
				 : outbox_cancel(store, (int64_t)id, &error);
		if (r < 0) {
			log_error("%s", error);
			ret = strncmp(error, "store:", 6) == 0 ? EXIT_TEMPFAIL : EXIT_DATAERR;
		} else {
			printf("outbox message %llu %s\n", (unsigned long long)id,
			       is_retry ? "queued for a new attempt" : "cancelled");
		}
	}
	store_close(&store);
	config_free(&config);
	return ret;
}
