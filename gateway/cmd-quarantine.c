/*
 * deskgate quarantine list [--all] [--json] | show N [--raw] | retry N|--all
 *                     | release N [--by NAME]
 * Quarantined mail keeps its raw bytes; `show` re-parses them to display
 * what could be read, `retry` runs the pipeline again with the current
 * configuration (after raising a limit, say), `release` ingests a message
 * the rules held as spam as a normal ticket (a false positive) and records
 * who released it.
 */
#include "build-config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "parsers/mime.h"
#include "base/util.h"

static void
quarantine_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] quarantine list [--all] [--json]\n"
		     "       deskgate [-c FILE] quarantine show N [--raw]\n"
		     "       deskgate [-c FILE] quarantine retry N|--all\n"
		     "       deskgate [-c FILE] quarantine release N [--by NAME]\n\n"
		     "  list     mail held in quarantine (--all: also released), newest first\n"
		     "  show     why a message is held and what of it could be parsed;\n"
		     "           --raw prints the exact bytes received\n"
		     "  retry    run held mail through the pipeline again (current limits)\n"
		     "  release  a message the rules held as spam is no spam: ingest it as a\n"
		     "           normal ticket; the ticket records who released it (--by, else\n"
		     "           the invoking user)\n");
}

static int
quarantine_list(struct store *store, int all, int json)
{
	const char *error;
	struct store_quarantine *qs;
	size_t count;
	if (store_quarantine_list(store, all ? NULL : "held", &qs, &count, &error) < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	if (json) {
		struct jsonout *arr = jsonout_array();
		for (size_t i = 0; i < count; i++) {
			struct jsonout *o = jsonout_object();
			jsonout_set_int(o, "id", qs[i].id);
			jsonout_set_str(o, "status", qs[i].status);
			jsonout_set_str(o, "reason", qs[i].reason);
			jsonout_set_str(o, "source", qs[i].source);
			jsonout_set_str(o, "raw_sha256", qs[i].raw_sha256);
			jsonout_set_int(o, "raw_size", qs[i].raw_size);
			jsonout_set_int(o, "created_at", qs[i].created_at);
			jsonout_set_int(o, "ticket_id", qs[i].ticket_id);
			jsonout_append(arr, o);
		}
		jsonout_print(arr, stdout);
		jsonout_free(&arr);
	} else {
		for (size_t i = 0; i < count; i++)
			printf("%-5lld %-8s %s %9lld  %s  (%s)\n", (long long)qs[i].id, qs[i].status,
			       cli_time(qs[i].created_at), (long long)qs[i].raw_size,
			       log_safe(qs[i].reason, 200), log_safe(qs[i].source, 200));
		if (count == 0)
			printf("(quarantine is empty)\n");
	}
	store_quarantines_free(&qs, count);
	return 0;
}

/* An entry without raw bytes stands for a message left on an IMAP server
   (refused as too large, or not delivered): the daemon fetches it again at
   each connection and reload; there is nothing here to show or retry. */
static int
unfetched_note(const struct store_quarantine *q)
{
	if (q->raw_sha256 != NULL)
		return 0;
	printf("quarantine %lld: no raw bytes (%s): mailbox %s uid %lld (uidvalidity %lld) is left "
	       "unflagged on the server; the daemon fetches it again at each connection and "
	       "reload\n",
	       (long long)q->id, log_safe(q->reason, 300), log_safe(q->mailbox, 100),
	       (long long)q->uid, (long long)q->uidvalidity);
	return 1;
}

static int
quarantine_show(struct store *store, const struct config *config, int64_t id, int raw_only)
{
	const char *error;
	struct store_quarantine *q;
	int ret = store_quarantine_get(store, id, &q, &error);
	if (ret <= 0) {
		if (ret < 0)
			log_error("%s", error);
		else
			log_error("no quarantined message %lld", (long long)id);
		return ret < 0 ? EXIT_TEMPFAIL : EXIT_DATAERR;
	}
	if (unfetched_note(q)) {
		store_quarantine_free(&q);
		return raw_only ? EXIT_DATAERR : 0;
	}
	unsigned char *raw;
	size_t len;
	if (store_blob_get(store, STORE_BLOB_RAW, q->raw_sha256, &raw, &len, &error) < 0) {
		log_error("%s", error);
		store_quarantine_free(&q);
		return EXIT_TEMPFAIL;
	}
	if (raw_only) {
		fwrite(raw, 1, len, stdout);
	} else {
		printf("Quarantine %lld (%s)\n  reason: %s\n  source: %s\n  received: %s\n"
		       "  size: %lld bytes, sha256 %s\n",
		       (long long)q->id, q->status, log_safe(q->reason, 500), log_safe(q->source, 300),
		       cli_time(q->created_at), (long long)q->raw_size, q->raw_sha256);
		if (q->ticket_id > 0)
			printf("  released into ticket %lld\n", (long long)q->ticket_id);
		/* What can be read of it, parsed with the configured limits. */
		struct mime_limits limits;
		ingest_mime_limits(config, &limits);
		struct mime_message *msg = NULL;
		const char *why;
		int pret = mime_parse(raw, len, &limits, &msg, &why);
		printf("  parse: %s\n", pret == 0 ? "ok with the current limits" : log_safe(why, 300));
		if (msg != NULL) {
			printf("  from: %s\n  subject: %s\n  message-id: %s\n",
			       log_safe(msg->from.address, 300), log_safe(msg->subject, 300),
			       log_safe(msg->message_id, 300));
			for (size_t i = 0; i < msg->n_parts && i < 50; i++)
				printf("  part %zu: %*s%s %s %s %s\n", i, (int)msg->parts[i].depth * 2, "",
				       msg->parts[i].content_type,
				       msg->parts[i].encoding ? msg->parts[i].encoding : "",
				       msg->parts[i].charset ? msg->parts[i].charset : "",
				       msg->parts[i].filename ? log_safe(msg->parts[i].filename, 100) : "");
			for (size_t i = 0; i < msg->n_warnings; i++)
				printf("  warning: %s\n", log_safe(msg->warnings[i], 300));
		}
		mime_message_free(&msg);
	}
	free(raw);
	store_quarantine_free(&q);
	return 0;
}

static int
quarantine_retry(struct store *store, const struct config *config, int64_t id)
{
	const char *error;
	struct ingest *ingest = ingest_new(config, store);
	struct store_quarantine *qs = NULL;
	size_t count = 0;
	int exit_code = 0;
	if (id == 0 && store_quarantine_list(store, "held", &qs, &count, &error) < 0) {
		log_error("%s", error);
		ingest_free(&ingest);
		return EXIT_TEMPFAIL;
	}
	if (id != 0) {
		struct store_quarantine *q;
		int r = store_quarantine_get(store, id, &q, &error);
		int unfetched = r > 0 && unfetched_note(q);
		store_quarantine_free(&q);
		if (unfetched) {
			ingest_free(&ingest);
			return 0;
		}
	}
	for (size_t i = 0; i < (id == 0 ? count : 1); i++) {
		int64_t qid = id == 0 ? qs[i].id : id;
		struct ingest_result result;
		if (id == 0 && unfetched_note(&qs[i]))
			continue;
		if (ingest_retry_quarantined(ingest, qid, &result, &error) < 0) {
			log_error("quarantine %lld: %s", (long long)qid, error);
			exit_code = EXIT_TEMPFAIL;
			break;
		}
		if (result.outcome == INGEST_QUARANTINED)
			printf("quarantine %lld: still held: %s\n", (long long)qid, result.reason);
		else
			printf("quarantine %lld: released into ticket %lld\n", (long long)qid,
			       (long long)result.ticket_id);
	}
	store_quarantines_free(&qs, count);
	ingest_free(&ingest);
	return exit_code;
}

/* Who runs the command: $SUDO_USER under sudo, else the login name. */
static const char *
invoking_user(char *buf, size_t size)
{
	const char *sudo = getenv("SUDO_USER");
	if (getuid() == 0 && sudo != NULL && *sudo != '\0') {
		snprintf(buf, size, "%s", sudo);
		return buf;
	}
	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned int)getuid());
	return buf;
}

static int
quarantine_release(struct store *store, const struct config *config, int64_t id, const char *by)
{
	const char *error;
	struct ingest *ingest = ingest_new(config, store);
	struct ingest_result result;
	int exit_code = 0;
	if (ingest_release_quarantined(ingest, id, by, &result, &error) < 0) {
		log_error("quarantine %lld: %s", (long long)id, error);
		exit_code = EXIT_TEMPFAIL;
	} else if (result.outcome == INGEST_QUARANTINED) {
		printf("quarantine %lld: still held: %s\n", (long long)id, result.reason);
		exit_code = EXIT_DATAERR;
	} else {
		printf("quarantine %lld: released by %s into ticket %lld\n", (long long)id, by,
		       (long long)result.ticket_id);
	}
	ingest_free(&ingest);
	return exit_code;
}

int
cmd_quarantine(int argc, char **argv)
{
	int json = 0, all = 0, raw = 0;
	uint64_t id = 0;
	const char *by = NULL;
	const char *sub = argc >= 2 ? argv[1] : NULL;
	if (sub == NULL || cli_is_help(sub)) {
		quarantine_usage(sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : 0;
	}
	int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0,
	    is_retry = strcmp(sub, "retry") == 0, is_release = strcmp(sub, "release") == 0;
	if (!is_list && !is_show && !is_retry && !is_release) {
		quarantine_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			quarantine_usage(stdout);
			return 0;
		} else if (is_list && strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((is_list || is_retry) && strcmp(argv[i], "--all") == 0) {
			all = 1;
		} else if (is_show && strcmp(argv[i], "--raw") == 0) {
			raw = 1;
		} else if (is_release && strcmp(argv[i], "--by") == 0 && i + 1 < argc &&
			   argv[i + 1][0] != '\0' && strlen(argv[i + 1]) <= 200) {
			by = argv[++i];
		} else if (!is_list && id == 0 && str_to_u64(argv[i], INT64_MAX, &id) == 0 && id > 0) {
			continue;
		} else {
			quarantine_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (((is_show || is_release) && id == 0) || (is_retry && (id == 0) == (all == 0))) {
		quarantine_usage(stderr);
		return EXIT_USAGE;
	}
	char user[256];
	if (is_release && by == NULL)
		by = invoking_user(user, sizeof(user));
	struct config *config;
	struct store *store;
	cli_open(&config, &store);
	int ret = is_list     ? quarantine_list(store, all, json)
		  : is_show   ? quarantine_show(store, config, (int64_t)id, raw)
		  : is_retry  ? quarantine_retry(store, config, (int64_t)id)
			      : quarantine_release(store, config, (int64_t)id, by);
	store_close(&store);
	config_free(&config);
	return ret;
}
