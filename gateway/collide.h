/*
 * collide: two agents answering one ticket at once (issue 15). An agent's
 * answer collides when another agent's answer was relayed less than
 * [agent] collision_minutes before it, or (collision_assigned) while the
 * ticket is assigned to someone else. The same agent answering twice never
 * collides, nor does the ticket's assignee (the ticket is theirs; a
 * handover mailed them the whole ticket, other answers included). A
 * colliding answer is held (hold.h, HOLD_COLLISION) and its author gets a
 * confirmation request quoting the other answer; #send-anyway (by the
 * author or a supervisor) releases it, once.
 *
 * Everything is written in the caller's transaction. Results are the
 * store's (< 0 graded, store.h).
 *
 * Ownership: a struct collide is the caller's; collide_clear() frees what
 * collide_check() put in it.
 */
#ifndef DG_COLLIDE_H
#define DG_COLLIDE_H

#include <stdint.h>

struct config;
struct deskmail;
struct mime_message;
struct store;
struct store_ticket;

struct collide {
	char why[400];	  /* "Bob <bob@...> answered 3 minutes ago", for the event and mail */
	char *first_by;	  /* who wrote the other answer quoted, or NULL (none yet) */
	char *first_text; /* that answer as relayed, or NULL */
	int64_t first_at; /* when it was stored */
};

/* Does an answer by agent address from to ticket t at now collide?
   1 (c filled), 0 not, < 0 the store failed. */
int collide_check(struct store *store, const struct config *config, const struct store_ticket *t,
		  const char *from, int64_t now, struct collide *c, const char **error_r);
void collide_clear(struct collide *c);

/* Queue the confirmation request to the agent (to_name, to_address):
   why, the other answer quoted, the held text, how to release it;
   threaded under the agent's mail msg, Reply-To the agent address.
   *outbox_id_r: 0 when deskmail refused it. */
int collide_mail(struct deskmail *dm, const struct store_ticket *t, const char *to_name,
		 const char *to_address, const char *held_text, const struct collide *c,
		 const struct mime_message *msg, int64_t now, int64_t *outbox_id_r,
		 const char **error_r);

#endif
