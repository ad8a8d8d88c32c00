/*
 * route: who works a ticket. The desk's agents and queues as the
 * configuration describes them ([agent NAME], [queue NAME]), and the
 * decisions made from them:
 *
 * - The queue of a ticket: the ticket's (or the rules') queue when such a
 *   queue exists; else, for a sender the rules' `vip` condition selects
 *   ([rules] vip_senders), the first queue with `vip = yes`; else the first
 *   queue whose `categories` include the ticket's category; else none.
 * - The agents of a queue: those its `agents` key names and those whose
 *   `queues` key names it. A ticket without a queue, or whose queue has no
 *   agent, goes to every agent: no ticket goes unseen.
 * - An agent by what people write: the address, the section NAME or the
 *   display name (#assign bob, #assign Bob Agent, #assign bob@...).
 * - The categories a ticket may have: the acknowledgement categories,
 *   those a [queue] routes, and those the rules define.
 *
 * Selections are arrays of one flag per configured agent
 * (config->agents[i]), so that several rules of "who" combine without
 * allocating.
 *
 * Ownership: route_new() borrows config, which must outlive the route;
 * route_free() frees it. Returned strings belong to the route or the
 * configuration.
 */
#ifndef DG_ROUTE_H
#define DG_ROUTE_H

#include <stddef.h>

struct config;
struct config_agent;
struct rules;
struct rules_result;
struct store_ticket;
struct route;

/* -1 with *error_r when [agent]/[queue] sections contradict each other (a
   queue naming an agent that has no [agent NAME] section). */
int route_new(const struct config *config, struct route **route_r, const char **error_r);
void route_free(struct route **routep);

/* The categories rules define (copied; those of earlier rules are
   forgotten), known besides the acknowledgement and [queue] ones. */
void route_set_rules(struct route *route, const struct rules *rules);

/* The configured agent whose address, section NAME or display name is
   who (case-insensitive, ASCII), or NULL. */
const struct config_agent *route_find_agent(const struct route *route, const char *who);
/* How an agent is named to people: the display name, else NAME. */
const char *route_agent_name(const struct config_agent *a);

/* The queue called name as configured (its spelling), or NULL. */
const char *route_queue(const struct route *route, const char *name);
/* 1 when a ticket may have category name. */
int route_category_known(const struct route *route, const char *name);

/* The queue a new ticket goes to (NULL: none) and *why_r ("rules", "VIP
   sender", "category"; static). rr: the ticket's classification, or NULL. */
const char *route_ticket_queue(const struct route *route, const struct store_ticket *t,
			       const struct rules_result *rr, const char **why_r);

/* Mark in sel the agents of queue; how many were newly marked. */
size_t route_select_queue(const struct route *route, const char *queue, unsigned char *sel);
/* Mark the agents to tell about a ticket of queue: the queue's, or every
   agent when it has none (queue NULL, unknown or without agents). */
size_t route_select_ticket(const struct route *route, const char *queue, unsigned char *sel);
/* Unmark the agent with address. */
void route_unselect(const struct route *route, unsigned char *sel, const char *address);

/* Lists in configuration values: items separated by commas, semicolons or
   blanks. 1 with the next item [*start_r, *start_r + *len_r), 0 at the end. */
int route_list_next(const char **pp, const char **start_r, size_t *len_r);

#endif
