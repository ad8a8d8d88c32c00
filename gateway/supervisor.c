/* supervisor: see supervisor.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/route.h"
#include "gateway/supervisor.h"

/* The longest address or agent name of a list item. */
#define ITEM_MAX 320
/* Most people one answer passes on (a list is at most 4096 bytes). */
#define MAX_PEOPLE 256

struct supervisor {
	const struct config *config;
	struct route *route;
};

/* The addresses passed on so far, so that each goes once. */
struct seen {
	char items[MAX_PEOPLE][ITEM_MAX];
	size_t n;
	supervisor_fn *fn;
	void *context;
};

int
supervisor_new(const struct config *config, struct supervisor **sv_r, const char **error_r)
{
	struct supervisor *sv = xcalloc(1, sizeof(*sv));
	sv->config = config;
	*sv_r = NULL;
	if (route_new(config, &sv->route, error_r) < 0) {
		supervisor_free(&sv);
		return -1;
	}
	*sv_r = sv;
	return 0;
}

void
supervisor_free(struct supervisor **svp)
{
	struct supervisor *sv = *svp;
	if (sv == NULL)
		return;
	route_free(&sv->route);
	free(sv);
	*svp = NULL;
}

/* Pass one person on, once. */
static void
pass(struct seen *s, const char *address, const struct config_agent *a)
{
	if (address == NULL || *address == '\0' || strlen(address) >= ITEM_MAX ||
	    s->n == MAX_PEOPLE)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->items[i], address) == 0)
			return;
	memcpy(s->items[s->n], address, strlen(address) + 1);
	s->n++;
	if (s->fn != NULL)
		s->fn(s->context, address, a);
}

/* The people of a list of [agent NAME]s and addresses; where names the
   key for the log (NULL: not logged, the load checked it). */
static void
pass_list(const struct supervisor *sv, struct seen *s, const char *list, const char *where)
{
	const char *p = list, *item;
	size_t n;
	char buf[ITEM_MAX];
	while (list != NULL && route_list_next(&p, &item, &n)) {
		if (n >= sizeof(buf))
			continue;
		memcpy(buf, item, n);
		buf[n] = '\0';
		const struct config_agent *a = route_find_agent(sv->route, buf);
		if (a != NULL)
			pass(s, a->address, a);
		else if (strchr(buf, '@') != NULL)
			pass(s, buf, NULL);
		else if (where != NULL)
			log_warnx("%s: %s is no [agent] and no address", where, log_safe(buf, 100));
	}
}

static void
pass_flagged(const struct supervisor *sv, struct seen *s)
{
	for (size_t i = 0; i < sv->config->n_agents; i++)
		if (sv->config->agents[i].supervisor)
			pass(s, sv->config->agents[i].address, &sv->config->agents[i]);
}

static const char *
queue_list(const struct config *config, const char *queue)
{
	for (size_t i = 0; queue != NULL && i < config->n_queues; i++)
		if (strcasecmp(config->queues[i].name, queue) == 0)
			return config->queues[i].supervisors;
	return NULL;
}

static const char *
sla_list(const struct config *config, const char *policy)
{
	for (size_t i = 0; policy != NULL && i < config->n_slas; i++)
		if (config->slas[i].name != NULL && strcasecmp(config->slas[i].name, policy) == 0)
			return config->slas[i].supervisors;
	return NULL;
}

/* The named steps of a ticket's chain into s: its source. */
static enum supervisor_source
ticket_named(const struct supervisor *sv, struct seen *s, const char *queue, const char *policy)
{
	pass_list(sv, s, queue_list(sv->config, queue), NULL);
	if (s->n > 0)
		return SUPERVISOR_QUEUE;
	pass_list(sv, s, sla_list(sv->config, policy), NULL);
	return s->n > 0 ? SUPERVISOR_SLA : SUPERVISOR_NOBODY;
}

enum supervisor_source
supervisor_ticket(const struct supervisor *sv, const char *queue, const char *policy,
		  supervisor_fn *fn, void *context)
{
	struct seen *s = xcalloc(1, sizeof(*s));
	s->fn = fn;
	s->context = context;
	enum supervisor_source source = ticket_named(sv, s, queue, policy);
	if (source == SUPERVISOR_NOBODY) {
		pass_flagged(sv, s);
		if (s->n > 0)
			source = SUPERVISOR_FLAGGED;
	}
	free(s);
	return source;
}

enum supervisor_source
supervisor_desk(const struct supervisor *sv, supervisor_fn *fn, void *context)
{
	const struct config *c = sv->config;
	struct seen *s = xcalloc(1, sizeof(*s));
	enum supervisor_source source = SUPERVISOR_ALERTS;
	s->fn = fn;
	s->context = context;
	pass_list(sv, s, c->alerts.supervisors, "[alerts] supervisors");
	if (s->n == 0) {
		source = SUPERVISOR_FLAGGED;
		pass_flagged(sv, s);
	}
	if (s->n == 0) {
		source = SUPERVISOR_EVERYONE;
		for (size_t i = 0; i < c->n_agents; i++)
			pass(s, c->agents[i].address, &c->agents[i]);
	}
	if (s->n == 0)
		source = SUPERVISOR_NOBODY;
	free(s);
	return source;
}

int
supervisor_may_release(const struct supervisor *sv, const char *address, const char *queue,
		       const char *policy)
{
	if (address == NULL || *address == '\0')
		return 0;
	const struct config_agent *a = route_find_agent(sv->route, address);
	if (a == NULL || a->address == NULL || strcasecmp(a->address, address) != 0)
		return 0; /* only an agent, by the address they mail from */
	if (a->supervisor)
		return 1;
	struct seen *s = xcalloc(1, sizeof(*s));
	pass_list(sv, s, queue_list(sv->config, queue), NULL);
	pass_list(sv, s, sla_list(sv->config, policy), NULL);
	int named = 0;
	for (size_t i = 0; i < s->n && !named; i++)
		named = strcasecmp(s->items[i], address) == 0;
	free(s);
	return named;
}

const char *
supervisor_source_name(enum supervisor_source source)
{
	static const char *const names[] = {
		[SUPERVISOR_NOBODY] = "nobody",	   [SUPERVISOR_QUEUE] = "queue",
		[SUPERVISOR_SLA] = "sla",	   [SUPERVISOR_ALERTS] = "alerts",
		[SUPERVISOR_FLAGGED] = "flagged", [SUPERVISOR_EVERYONE] = "everyone",
	};
	return (size_t)source < N_ELEMENTS(names) ? names[source] : "nobody";
}
