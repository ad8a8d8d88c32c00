/* deskgate ticket list [--json] [--limit N] | show N [--json] */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "base/util.h"

static void
ticket_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] ticket list [--json] [--limit N]\n"
		     "       deskgate [-c FILE] ticket show N [--json]\n\n"
		     "  list   tickets, newest first\n"
		     "  show   one ticket: its fields, participants, messages (with attachments)\n"
		     "         and event log\n");
}

static struct jsonout *
ticket_json(const struct store_ticket *t)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_int(o, "id", t->id);
	jsonout_set_str(o, "subject", t->subject);
	jsonout_set_str(o, "status", t->status);
	jsonout_set_str(o, "category", t->category);
	jsonout_set_str(o, "priority", t->priority);
	jsonout_set_str(o, "queue", t->queue);
	jsonout_set_str(o, "assignee", t->assignee);
	jsonout_set_str(o, "language", t->language);
	jsonout_set_str(o, "customer_address", t->customer_address);
	jsonout_set_str(o, "customer_name", t->customer_name);
	jsonout_set_int(o, "created_at", t->created_at);
	jsonout_set_int(o, "updated_at", t->updated_at);
	jsonout_set_int(o, "first_response_at", t->first_response_at);
	jsonout_set_int(o, "due_at", t->due_at);
	jsonout_set_int(o, "messages", t->n_messages);
	return o;
}

static int
ticket_list(struct store *store, int json, size_t limit)
{
	const char *error;
	struct store_ticket *tickets;
	size_t count;
	if (store_ticket_list(store, limit, &tickets, &count, &error) < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	if (json) {
		struct jsonout *arr = jsonout_array();
		for (size_t i = 0; i < count; i++)
			jsonout_append(arr, ticket_json(&tickets[i]));
		jsonout_print(arr, stdout);
		jsonout_free(&arr);
	} else {
		printf("%-6s %-7s %-17s %-8s %4s %-30s %s\n", "TICKET", "STATUS", "CATEGORY",
		       "PRIORITY", "MSGS", "CUSTOMER", "SUBJECT");
		for (size_t i = 0; i < count; i++) {
			const struct store_ticket *t = &tickets[i];
			printf("%-6lld %-7s %-17s %-8s %4lld %-30s %s\n", (long long)t->id, t->status,
			       t->category, t->priority, (long long)t->n_messages,
			       log_safe(t->customer_address, 30), log_safe(t->subject, 120));
		}
		if (count == 0)
			printf("(no tickets)\n");
	}
	store_tickets_free(&tickets, count);
	return 0;
}

static int
ticket_show(struct store *store, int64_t id, int json)
{
	const char *error;
	struct store_ticket *t = NULL;
	struct store_message *msgs = NULL;
	struct store_participant *parts = NULL;
	struct store_event *events = NULL;
	struct store_field *fields = NULL, *hits = NULL;
	size_t n_msgs = 0, n_parts = 0, n_events = 0, n_fields = 0, n_hits = 0;
	int exit_code = 0;

	int ret = store_ticket_get(store, id, &t, &error);
	if (ret == 0) {
		log_error("no ticket %lld", (long long)id);
		return EXIT_DATAERR;
	}
	if (ret < 0 || store_message_list(store, id, &msgs, &n_msgs, &error) < 0 ||
	    store_participant_list(store, id, &parts, &n_parts, &error) < 0 ||
	    store_event_list(store, id, &events, &n_events, &error) < 0 ||
	    store_ticket_field_list(store, id, &fields, &n_fields, &error) < 0 ||
	    store_rule_hit_list(store, id, &hits, &n_hits, &error) < 0) {
		log_error("%s", error);
		exit_code = EXIT_TEMPFAIL;
		goto out;
	}

	struct jsonout *root = json ? ticket_json(t) : NULL;
	if (!json) {
		printf("Ticket %lld: %s\n", (long long)t->id, log_safe(t->subject, 500));
		printf("  status %s, category %s, priority %s, queue %s, language %s, assignee %s\n",
		       t->status, t->category, t->priority, t->queue ? t->queue : "-",
		       t->language ? t->language : "-",
		       t->assignee ? log_safe(t->assignee, 300) : "-");
		printf("  customer %s%s%s%s\n", t->customer_name ? log_safe(t->customer_name, 200) : "",
		       t->customer_name ? " <" : "", log_safe(t->customer_address, 300),
		       t->customer_name ? ">" : "");
		printf("  created %s, updated %s, first response %s, due %s\n",
		       cli_time(t->created_at), cli_time(t->updated_at),
		       cli_time(t->first_response_at), cli_time(t->due_at));
		for (size_t i = 0; i < n_fields; i++)
			printf("  field %s = %s\n", fields[i].name, log_safe(fields[i].value, 300));
		for (size_t i = 0; i < n_hits; i++)
			printf("  rule %s: %s\n", hits[i].name, log_safe(hits[i].value, 300));
		for (size_t i = 0; i < n_parts; i++)
			printf("  participant %s %s\n", parts[i].role, log_safe(parts[i].address, 300));
	} else {
		struct jsonout *arr = jsonout_object();
		for (size_t i = 0; i < n_fields; i++)
			jsonout_set_str(arr, fields[i].name, fields[i].value);
		jsonout_set(root, "fields", arr);
		arr = jsonout_array();
		for (size_t i = 0; i < n_hits; i++) {
			struct jsonout *o = jsonout_object();
			jsonout_set_str(o, "rule", hits[i].name);
			jsonout_set_str(o, "detail", hits[i].value);
			jsonout_append(arr, o);
		}
		jsonout_set(root, "rules", arr);
		arr = jsonout_array();
		for (size_t i = 0; i < n_parts; i++) {
			struct jsonout *o = jsonout_object();
			jsonout_set_str(o, "address", parts[i].address);
			jsonout_set_str(o, "name", parts[i].name);
			jsonout_set_str(o, "role", parts[i].role);
			jsonout_append(arr, o);
		}
		jsonout_set(root, "participants", arr);
	}

	struct jsonout *jmsgs = json ? jsonout_array() : NULL;
	for (size_t i = 0; i < n_msgs; i++) {
		const struct store_message *m = &msgs[i];
		struct store_attachment *atts = NULL;
		size_t n_atts = 0;
		if (store_attachment_list(store, m->id, &atts, &n_atts, &error) < 0) {
			log_error("%s", error);
			exit_code = EXIT_TEMPFAIL;
			break;
		}
		if (json) {
			struct jsonout *o = jsonout_object();
			jsonout_set_int(o, "id", m->id);
			jsonout_set_str(o, "direction", m->direction);
			jsonout_set_str(o, "message_id", m->message_id);
			jsonout_set_str(o, "in_reply_to", m->in_reply_to);
			jsonout_set_str(o, "references", m->references);
			jsonout_set_str(o, "from_address", m->from_address);
			jsonout_set_str(o, "from_name", m->from_name);
			jsonout_set_str(o, "to", m->to);
			jsonout_set_str(o, "cc", m->cc);
			jsonout_set_str(o, "subject", m->subject);
			jsonout_set_int(o, "date", m->date);
			jsonout_set_str(o, "text", m->text);
			jsonout_set_str(o, "raw_sha256", m->raw_sha256);
			jsonout_set_int(o, "raw_size", m->raw_size);
			jsonout_set_str(o, "mailbox", m->mailbox);
			jsonout_set_int(o, "uid", m->uid);
			jsonout_set_int(o, "created_at", m->created_at);
			struct jsonout *ja = jsonout_array();
			for (size_t k = 0; k < n_atts; k++) {
				struct jsonout *a = jsonout_object();
				jsonout_set_str(a, "filename", atts[k].filename);
				jsonout_set_str(a, "content_type", atts[k].content_type);
				jsonout_set_str(a, "content_id", atts[k].content_id);
				jsonout_set_str(a, "sha256", atts[k].sha256);
				jsonout_set_int(a, "size", atts[k].size);
				jsonout_set_bool(a, "inline", atts[k].is_inline);
				jsonout_append(ja, a);
			}
			jsonout_set(o, "attachments", ja);
			jsonout_append(jmsgs, o);
		} else {
			printf("\n--- message %lld (%s) %s\n", (long long)m->id, m->direction,
			       cli_time(m->date > 0 ? m->date : m->created_at));
			printf("From: %s%s%s%s\n", m->from_name ? log_safe(m->from_name, 200) : "",
			       m->from_name ? " <" : "", log_safe(m->from_address, 300),
			       m->from_name ? ">" : "");
			if (m->to != NULL && *m->to != '\0')
				printf("To: %s\n", log_safe(m->to, 500));
			if (m->cc != NULL && *m->cc != '\0')
				printf("Cc: %s\n", log_safe(m->cc, 500));
			printf("Subject: %s\n", log_safe(m->subject, 500));
			if (m->message_id != NULL)
				printf("Message-ID: <%s>\n", log_safe(m->message_id, 300));
			for (size_t k = 0; k < n_atts; k++)
				printf("Attachment: %s (%s, %lld bytes%s)\n",
				       log_safe(atts[k].filename, 255), atts[k].content_type,
				       (long long)atts[k].size, atts[k].is_inline ? ", inline" : "");
			printf("\n%s\n", m->text != NULL ? m->text : "");
		}
		store_attachments_free(&atts, n_atts);
	}
	if (json) {
		jsonout_set(root, "messages", jmsgs);
		struct jsonout *jev = jsonout_array();
		for (size_t i = 0; i < n_events; i++) {
			struct jsonout *o = jsonout_object();
			jsonout_set_int(o, "at", events[i].at);
			jsonout_set_str(o, "kind", events[i].kind);
			jsonout_set_str(o, "detail", events[i].detail);
			jsonout_append(jev, o);
		}
		jsonout_set(root, "events", jev);
		jsonout_print(root, stdout);
		jsonout_free(&root);
	} else {
		printf("\n--- events\n");
		for (size_t i = 0; i < n_events; i++)
			printf("%s %-12s %s\n", cli_time(events[i].at), events[i].kind,
			       log_safe(events[i].detail, 500));
	}
out:
	store_ticket_free(&t);
	store_messages_free(&msgs, n_msgs);
	store_participants_free(&parts, n_parts);
	store_events_free(&events, n_events);
	store_fields_free(&fields, n_fields);
	store_fields_free(&hits, n_hits);
	return exit_code;
}

int
cmd_ticket(int argc, char **argv)
{
	int json = 0;
	uint64_t limit = 0, id = 0;
	const char *sub = argc >= 2 ? argv[1] : NULL;

	if (sub == NULL || cli_is_help(sub)) {
		ticket_usage(sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : 0;
	}
	int want_id = strcmp(sub, "show") == 0;
	if (!want_id && strcmp(sub, "list") != 0) {
		ticket_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			ticket_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (!want_id && strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			if (str_to_u64(argv[++i], 1000000, &limit) < 0) {
				ticket_usage(stderr);
				return EXIT_USAGE;
			}
		} else if (want_id && id == 0 && str_to_u64(argv[i], INT64_MAX, &id) == 0 && id > 0) {
			continue;
		} else {
			ticket_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (want_id && id == 0) {
		ticket_usage(stderr);
		return EXIT_USAGE;
	}
	struct config *config;
	struct store *store;
	cli_open(&config, &store);
	int ret = want_id ? ticket_show(store, (int64_t)id, json) : ticket_list(store, json, limit);
	store_close(&store);
	config_free(&config);
	return ret;
}
