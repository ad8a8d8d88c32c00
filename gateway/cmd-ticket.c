/* deskgate ticket list [filters] [--json] [--limit N] | show N [--json]. The
   filters are the store's (store_ticket_query()); the SLA states sla.c's. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/jsonout.h"
#include "gateway/log.h"
#include "gateway/route.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "base/util.h"

static void
ticket_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] ticket list [--status S] [--queue Q] [--assignee WHO|none]\n"
		"                [--overdue] [--due-within DURATION] [--vip] [--limit N] [--json]\n"
		"       deskgate [-c FILE] ticket show N [--json]\n\n"
		"  list   tickets, newest first (with --overdue or --due-within: the earliest due\n"
		"         first), with their due time, assignee and SLA state\n"
		"         --status S        new, open, pending or closed\n"
		"         --queue Q         tickets of queue Q\n"
		"         --assignee WHO    assigned to an agent (NAME or address); none: unassigned\n"
		"         --overdue         a running SLA target is past due\n"
		"         --due-within D    a running SLA target is due within D (30m, 2h, 1d)\n"
		"         --vip             VIP tickets only\n"
		"         --limit N         at most N tickets\n"
		"  show   one ticket: its fields, SLA targets (due time and state: met, running,\n"
		"         at-risk, paused, breached), participants, messages (with attachments)\n"
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

/* The SLA of a ticket in JSON: policy, calendar, state, each target. */
static struct jsonout *
sla_json(const struct store_sla *row, int64_t now)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_str(o, "policy", row->policy);
	jsonout_set_str(o, "calendar", row->calendar);
	jsonout_set_bool(o, "vip", row->vip);
	jsonout_set_str(o, "state", sla_ticket_state(row, now));
	jsonout_set_int(o, "paused_at", row->paused_at);
	struct jsonout *arr = jsonout_array();
	for (int i = 0; i < SLA_TARGETS; i++) {
		struct jsonout *t = jsonout_object();
		jsonout_set_str(t, "target", sla_target_name(i));
		jsonout_set_str(t, "state", sla_target_state(row, i, now));
		jsonout_set_int(t, "started_at", row->start[i]);
		jsonout_set_int(t, "due_at", row->due[i]);
		jsonout_set_int(t, "warn_at", row->warn[i]);
		jsonout_set_int(t, "met_at", row->met[i]);
		jsonout_append(arr, t);
	}
	jsonout_set(o, "targets", arr);
	return o;
}

/* The due time a list shows: the earliest running target's, else the
   promise of the acknowledgement. */
static int64_t
list_due(const struct store_ticket_due *r)
{
	return r->sla.earliest_due > 0 ? r->sla.earliest_due : r->t.due_at;
}

static int
ticket_list(struct store *store, const struct store_ticket_filter *filter, int json)
{
	const char *error;
	struct store_ticket_due *rows;
	size_t count;
	int64_t now = clock_now();
	if (store_ticket_query(store, filter, &rows, &count, &error) < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	if (json) {
		struct jsonout *arr = jsonout_array();
		for (size_t i = 0; i < count; i++) {
			struct jsonout *o = ticket_json(&rows[i].t);
			if (rows[i].sla.ticket_id != 0)
				jsonout_set(o, "sla", sla_json(&rows[i].sla, now));
			jsonout_append(arr, o);
		}
		jsonout_print(arr, stdout);
		jsonout_free(&arr);
	} else {
		printf("%-6s %-7s %-8s %-17s %-12s %-24s %-20s %-8s %-26s %s\n", "TICKET", "STATUS",
		       "PRIORITY", "CATEGORY", "QUEUE", "ASSIGNEE", "DUE", "SLA", "CUSTOMER",
		       "SUBJECT");
		for (size_t i = 0; i < count; i++) {
			const struct store_ticket *t = &rows[i].t;
			printf("%-6lld %-7s %-8s %-17s %-12s %-24s %-20s %-8s %-26s %s\n",
			       (long long)t->id, t->status, t->priority, t->category, t->queue != NULL ? log_safe(t->queue, 12) : "-",
			       t->assignee != NULL ? log_safe(t->assignee, 24) : "-",
			       cli_time(list_due(&rows[i])), sla_ticket_state(&rows[i].sla, now),
			       log_safe(t->customer_address, 26), log_safe(t->subject, 120));
		}
		if (count == 0)
			printf("(no tickets)\n");
	}
	store_ticket_dues_free(&rows, count);
	return 0;
}

/* The SLA targets of a ticket, for people. */
static void
print_targets(const struct store_sla *row, int64_t now)
{
	char buf[64];
	printf("  SLA %s (calendar %s)%s: %s\n", log_safe(row->policy, 100),
	       log_safe(row->calendar, 100), row->vip ? ", VIP" : "", sla_ticket_state(row, now));
	for (int i = 0; i < SLA_TARGETS; i++) {
		const char *st = sla_target_state(row, i, now);
		if (strcmp(st, "none") == 0)
			continue;
		printf("    %-15s %-9s due %s", sla_target_name(i), st, cli_time(row->due[i]));
		if (row->met[i] != 0)
			printf(", met %s", cli_time(row->met[i]));
		else if (strcmp(st, "breached") == 0)
			printf(", late by %s", sla_format_duration(now - row->due[i], buf, sizeof(buf)));
		else if (strcmp(st, "running") == 0 || strcmp(st, "at-risk") == 0)
			printf(", %s left", sla_format_duration(row->due[i] - now, buf, sizeof(buf)));
		printf("\n");
	}
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
	struct store_sla *sla = NULL;
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
	    store_rule_hit_list(store, id, &hits, &n_hits, &error) < 0 ||
	    store_sla_get(store, id, &sla, &error) < 0) {
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
		if (sla != NULL)
			print_targets(sla, clock_now());
		for (size_t i = 0; i < n_fields; i++)
			printf("  field %s = %s\n", fields[i].name, log_safe(fields[i].value, 300));
		for (size_t i = 0; i < n_hits; i++)
			printf("  rule %s: %s\n", hits[i].name, log_safe(hits[i].value, 300));
		for (size_t i = 0; i < n_parts; i++)
			printf("  participant %s %s\n", parts[i].role, log_safe(parts[i].address, 300));
	} else {
		if (sla != NULL)
			jsonout_set(root, "sla", sla_json(sla, clock_now()));
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
	store_sla_free(&sla);
	store_ticket_free(&t);
	store_messages_free(&msgs, n_msgs);
	store_participants_free(&parts, n_parts);
	store_events_free(&events, n_events);
	store_fields_free(&fields, n_fields);
	store_fields_free(&hits, n_hits);
	return exit_code;
}

/* --assignee WHO: an agent's NAME, display name or address, as
   configured (the store keeps the configured address); "none":
   unassigned. 0, or the exit status. */
static int
set_assignee(const struct config *config, const char *who, struct store_ticket_filter *f)
{
	struct route *route;
	const char *error;
	if (strcmp(who, "none") == 0) {
		f->unassigned = 1;
		return 0;
	}
	if (route_new(config, &route, &error) < 0) {
		log_error("%s", error);
		return EXIT_CONFIG;
	}
	const struct config_agent *a = route_find_agent(route, who);
	f->assignee = a != NULL ? a->address : who;
	route_free(&route);
	if (a == NULL && strchr(who, '@') == NULL) {
		fprintf(stderr, "deskgate ticket: --assignee %s: no such agent (a NAME of [agent NAME], "
				"an address, or none)\n",
			log_safe(who, 100));
		return EXIT_USAGE;
	}
	return 0;
}

int
cmd_ticket(int argc, char **argv)
{
	int json = 0;
	uint64_t limit = 0, id = 0, within = 0;
	int overdue = 0, has_within = 0;
	const char *assignee = NULL;
	struct store_ticket_filter filter = { 0 };
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
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (cli_is_help(arg)) {
			ticket_usage(stdout);
			return 0;
		} else if (strcmp(arg, "--json") == 0) {
			json = 1;
		} else if (want_id) {
			bad = id != 0 || str_to_u64(arg, INT64_MAX, &id) < 0 || id == 0;
		} else if (strcmp(arg, "--overdue") == 0) {
			overdue = 1;
		} else if (strcmp(arg, "--vip") == 0) {
			filter.vip = 1;
		} else if (val == NULL) {
			bad = 1;
		} else if (strcmp(arg, "--limit") == 0) {
			bad = str_to_u64(val, 1000000, &limit) < 0;
			i++;
		} else if (strcmp(arg, "--due-within") == 0) {
			bad = config_parse_duration(val, &within) < 0 || within > 366 * 86400ULL;
			has_within = 1;
			i++;
		} else if (strcmp(arg, "--status") == 0) {
			bad = strcmp(val, "new") != 0 && strcmp(val, "open") != 0 &&
			      strcmp(val, "pending") != 0 && strcmp(val, "closed") != 0;
			filter.status = val;
			i++;
		} else if (strcmp(arg, "--queue") == 0) {
			filter.queue = val;
			i++;
		} else if (strcmp(arg, "--assignee") == 0) {
			assignee = val;
			i++;
		} else {
			bad = 1;
		}
		if (bad) {
			fprintf(stderr, "deskgate ticket: bad option or value: %s%s%s\n", arg,
				val != NULL && strncmp(arg, "--", 2) == 0 ? " " : "",
				val != NULL && strncmp(arg, "--", 2) == 0 ? val : "");
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
	int ret;
	if (want_id) {
		ret = ticket_show(store, (int64_t)id, json);
	} else if ((ret = assignee != NULL ? set_assignee(config, assignee, &filter) : 0) == 0) {
		int64_t now = clock_now();
		filter.limit = (size_t)limit;
		if (overdue || has_within) {
			/* the earlier bound wins when both are given */
			filter.due_before = overdue ? now + 1 : now + (int64_t)within;
			if (overdue && has_within && now + (int64_t)within < filter.due_before)
				filter.due_before = now + (int64_t)within;
			filter.by_due = 1;
		}
		ret = ticket_list(store, &filter, json);
	}
	store_close(&store);
	config_free(&config);
	return ret;
}
