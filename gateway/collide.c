/*
 * collide: see collide.h. The confirmation mail is English and written
 * here: it goes to the desk's own staff.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/collide.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/store.h"
#include "base/util.h"

/* Bound of the confirmation text (the quoted answers are bounded by
   [limits] max_text_size already). */
#define TEXT_MAX (64 * 1024 * 1024)

static const char *
who(const struct store_message *m)
{
	return m->from_address != NULL ? m->from_address : "another agent";
}

int
collide_check(struct store *store, const struct config *config, const struct store_ticket *t,
	      const char *from, int64_t now, struct collide *c, const char **error_r)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	memset(c, 0, sizeof(*c));
	if (from == NULL)
		return 0;
	int ret = store_message_list(store, t->id, &msgs, &n, error_r);
	if (ret < 0)
		return ret;
	/* The newest relayed answer, and the newest by another agent. */
	const struct store_message *newest = NULL, *other = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(msgs[i].direction, "agent") != 0)
			continue;
		newest = &msgs[i];
		if (msgs[i].from_address == NULL || strcasecmp(msgs[i].from_address, from) != 0)
			other = &msgs[i];
	}
	int64_t window = (int64_t)config->agent_desk.collision_minutes * 60;
	int collides = 0;
	/* The assignee's answer never collides: the ticket is theirs, and a
	   handover mailed them the whole ticket, other answers included. */
	int assignee = t->assignee != NULL && strcasecmp(t->assignee, from) == 0;
	if (!assignee && window > 0 && newest != NULL && newest == other &&
	    now - newest->created_at < window) {
		int64_t ago = now > newest->created_at ? (now - newest->created_at) / 60 : 0;
		snprintf(c->why, sizeof(c->why), "%s answered %lld minute%s ago", who(newest),
			 (long long)ago, ago == 1 ? "" : "s");
		collides = 1;
	} else if (!assignee && config->agent_desk.collision_assigned && t->assignee != NULL) {
		snprintf(c->why, sizeof(c->why), "the ticket is assigned to %s", t->assignee);
		collides = 1;
	}
	if (collides && other != NULL) {
		c->first_by = xstrdup(who(other));
		c->first_text = xstrdup(other->text != NULL ? other->text : "");
		c->first_at = other->created_at;
	}
	store_messages_free(&msgs, n);
	return collides;
}

void
collide_clear(struct collide *c)
{
	free(c->first_by);
	free(c->first_text);
	c->first_by = NULL;
	c->first_text = NULL;
}

/* text, each line behind "> ". */
static void
quote_into(struct buf *b, const char *text)
{
	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		(void)buf_printf(b, "> %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

int
collide_mail(struct deskmail *dm, const struct store_ticket *t, const char *to_name,
	     const char *to_address, const char *held_text, const struct collide *c,
	     const struct mime_message *msg, int64_t now, int64_t *outbox_id_r,
	     const char **error_r)
{
	struct buf text;
	buf_init(&text, TEXT_MAX);
	*outbox_id_r = 0;
	(void)buf_printf(&text,
			 "Your answer to ticket #%lld was HELD and NOT sent to the customer:\n"
			 "%s.\n\n",
			 (long long)t->id, c->why);
	if (c->first_text != NULL) {
		(void)buf_printf(&text, "The answer %s sent to the customer:\n\n", c->first_by);
		quote_into(&text, c->first_text);
	} else {
		(void)buf_puts(&text, "No other answer has been sent to the customer yet.\n");
	}
	(void)buf_puts(&text,
		       "\nTo send your answer anyway, reply to this mail with a line\n"
		       "\n    #send-anyway\n\n"
		       "(your answer goes as you wrote it, once). If the answer above\n"
		       "covers it, do nothing: yours stays on the ticket as an internal note.\n\n"
		       "Your held answer:\n\n");
	quote_into(&text, held_text);
	struct deskmail_msg *m = deskmail_start(dm, t->id, "error", DESKMAIL_REPLY_AGENT,
						"auto-replied", now);
	deskmail_add_to(m, to_name, to_address);
	deskmail_subject(m, "Held, confirm: ", t->subject);
	compose_set_text(deskmail_compose(m), buf_cstr(&text), text.len);
	deskmail_thread_msg(m, msg);
	buf_free(&text);
	struct deskmail_result res;
	const char *why;
	int ret = deskmail_queue(dm, &m, &res, &why, error_r);
	if (ret > 0)
		*outbox_id_r = res.outbox_id;
	deskmail_result_clear(&res);
	return ret < 0 ? ret : 0;
}
