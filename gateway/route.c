/* route: see route.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/ack.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/route.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "base/util.h"

struct route {
	const struct config *config;
	/* The rules' own `vip` condition over [rules] vip_senders, so that
	   routing and the rules agree on who is a VIP; NULL when there are
	   no VIP senders or no VIP queue. */
	struct rules *vip;
	const char *vip_queue;
	char **queues; /* every queue name: [queue] sections and agents' queues */
	size_t n_queues;
	char **categories; /* categories the rules define */
	size_t n_categories;
};

int
route_list_next(const char **pp, const char **start_r, size_t *len_r)
{
	const char *p = *pp;
	if (p == NULL)
		return 0;
	while (*p == ',' || *p == ';' || *p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	const char *s = p;
	while (*p != '\0' && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
		p++;
	*start_r = s;
	*len_r = (size_t)(p - s);
	*pp = p;
	return 1;
}

static int
list_contains(const char *list, const char *item)
{
	const char *p = list, *s;
	size_t n;
	if (item == NULL)
		return 0;
	while (route_list_next(&p, &s, &n))
		if (n == strlen(item) && strncasecmp(s, item, n) == 0)
			return 1;
	return 0;
}

static const struct config_agent *
find_agent(const struct config *config, const char *who)
{
	if (who == NULL)
		return NULL;
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if ((a->address != NULL && strcasecmp(a->address, who) == 0) ||
		    (a->label != NULL && strcasecmp(a->label, who) == 0) ||
		    (a->name != NULL && *a->name != '\0' && strcasecmp(a->name, who) == 0))
			return a;
	}
	return NULL;
}

const struct config_agent *
route_find_agent(const struct route *route, const char *who)
{
	return find_agent(route->config, who);
}

const char *
route_agent_name(const struct config_agent *a)
{
	return a->name != NULL && *a->name != '\0' ? a->name : a->label;
}

const char *
route_queue(const struct route *route, const char *name)
{
	for (size_t i = 0; name != NULL && i < route->n_queues; i++)
		if (strcasecmp(route->queues[i], name) == 0)
			return route->queues[i];
	return NULL;
}

static void
add_name(char ***names, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*names)[i]) == len && strncasecmp((*names)[i], s, len) == 0)
			return;
	*names = xreallocarray(*names, *n + 1, sizeof(char *));
	(*names)[(*n)++] = xstrndup(s, len);
}

void
route_set_rules(struct route *route, const struct rules *rules)
{
	for (size_t i = 0; i < route->n_categories; i++)
		free(route->categories[i]);
	route->n_categories = 0;
	for (size_t i = 0; rules != NULL && i < rules_count(rules); i++) {
		struct rules_rule_info info;
		rules_info(rules, i, &info);
		if (info.category != NULL)
			add_name(&route->categories, &route->n_categories, info.category,
				 strlen(info.category));
	}
}

int
route_category_known(const struct route *route, const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; ack_categories[i] != NULL; i++)
		if (strcmp(ack_categories[i], name) == 0)
			return 1;
	for (size_t i = 0; i < route->config->n_queues; i++)
		if (list_contains(route->config->queues[i].categories, name))
			return 1;
	for (size_t i = 0; i < route->n_categories; i++)
		if (strcasecmp(route->categories[i], name) == 0)
			return 1;
	return 0;
}

size_t
route_select_queue(const struct route *route, const char *queue, unsigned char *sel)
{
	const struct config *config = route->config;
	size_t n = 0;
	for (size_t i = 0; i < config->n_agents; i++) {
		int in = list_contains(config->agents[i].queues, queue);
		for (size_t q = 0; !in && q < config->n_queues; q++)
			in = strcasecmp(config->queues[q].name, queue) == 0 &&
			     (list_contains(config->queues[q].agents, config->agents[i].label) ||
			      list_contains(config->queues[q].agents, config->agents[i].address));
		if (in && !sel[i]) {
			sel[i] = 1;
			n++;
		}
	}
	return n;
}

size_t
route_select_ticket(const struct route *route, const char *queue, unsigned char *sel)
{
	const char *q = route_queue(route, queue);
	size_t n = q != NULL ? route_select_queue(route, q, sel) : 0;
	if (n > 0)
		return n;
	for (size_t i = 0; i < route->config->n_agents; i++)
		sel[i] = 1;
	return route->config->n_agents;
}

void
route_unselect(const struct route *route, unsigned char *sel, const char *address)
{
	const struct config *config = route->config;
	for (size_t i = 0; address != NULL && i < config->n_agents; i++)
		if (strcasecmp(config->agents[i].address, address) == 0)
			sel[i] = 0;
}

/* ---- lifecycle ---------------------------------------------------------------- */

int
route_new(const struct config *config, struct route **route_r, const char **error_r)
{
	struct route *route = xcalloc(1, sizeof(*route));
	route->config = config;
	*route_r = NULL;

	for (size_t q = 0; q < config->n_queues; q++) {
		const struct config_queue *cq = &config->queues[q];
		const char *p = cq->agents, *s;
		size_t n;
		add_name(&route->queues, &route->n_queues, cq->name, strlen(cq->name));
		while (route_list_next(&p, &s, &n)) {
			char *name = xstrndup(s, n);
			int found = find_agent(config, name) != NULL;
			if (!found)
				*error_r = errf("%s: [queue %s] agents: no [agent %s] section",
						config->path != NULL ? config->path : "configuration",
						cq->name, log_safe(name, 100));
			free(name);
			if (!found) {
				route_free(&route);
				return -1;
			}
		}
		if (cq->vip && route->vip_queue == NULL)
			route->vip_queue = cq->name;
	}
	for (size_t i = 0; i < config->n_agents; i++) {
		const char *p = config->agents[i].queues, *s;
		size_t n;
		while (route_list_next(&p, &s, &n))
			add_name(&route->queues, &route->n_queues, s, n);
	}
	if (route->vip_queue != NULL && config->rules.vip_senders != NULL &&
	    *config->rules.vip_senders != '\0') {
		static const char vip_rule[] = "rule vip { vip; tag vip }\n";
		struct rules_options opt;
		rules_options_default(&opt);
		opt.vip_senders = config->rules.vip_senders;
		if (rules_load_text("[rules] vip_senders", vip_rule, sizeof(vip_rule) - 1, &opt,
				    &route->vip, error_r) < 0) {
			route_free(&route);
			return -1;
		}
	}
	*route_r = route;
	return 0;
}

void
route_free(struct route **routep)
{
	struct route *route = *routep;
	if (route == NULL)
		return;
	rules_free(&route->vip);
	for (size_t i = 0; i < route->n_queues; i++)
		free(route->queues[i]);
	free(route->queues);
	for (size_t i = 0; i < route->n_categories; i++)
		free(route->categories[i]);
	free(route->categories);
	free(route);
	*routep = NULL;
}

/* ---- the queue of a ticket ------------------------------------------------------- */

static int
is_vip(const struct route *route, const char *address)
{
	if (route->vip == NULL || address == NULL)
		return 0;
	struct rules_input in;
	struct rules_result *rr = NULL;
	rules_input_text(&in, NULL, NULL);
	in.from = address;
	rules_classify(route->vip, &in, &rr);
	int vip = rr != NULL && rr->n_hits > 0;
	rules_result_free(&rr);
	return vip;
}

const char *
route_ticket_queue(const struct route *route, const struct store_ticket *t,
		   const struct rules_result *rr, const char **why_r)
{
	const char *q;
	*why_r = NULL;
	if ((q = route_queue(route, t->queue)) != NULL) {
		*why_r = "rules";
		return q;
	}
	if (rr != NULL && (q = route_queue(route, rr->queue)) != NULL) {
		*why_r = "rules";
		return q;
	}
	if (route->vip_queue != NULL && is_vip(route, t->customer_address)) {
		*why_r = "VIP sender";
		return route->vip_queue;
	}
	for (size_t i = 0; i < route->config->n_queues; i++) {
		if (list_contains(route->config->queues[i].categories, t->category)) {
			*why_r = "category";
			return route->config->queues[i].name;
		}
	}
	return NULL;
}
