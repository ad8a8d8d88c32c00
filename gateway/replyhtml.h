/*
 * replyhtml: the HTML part of an agent's reply as the customer gets it
 * (issue 15, "HTML mail"). The agent's HTML goes through htmlsafe_clean()
 * (allow-list, no remote content but links, quotes, signature and command
 * lines out, inline images kept as related parts); then it is checked
 * against what the text relay already guarantees, and dropped (the reply
 * goes as text alone, as before) when the check fails:
 * - no command line is left in it (agentcmd_parse() of its text);
 * - the outbound guard (guard.h) finds nothing in its text: HTML may hold
 *   words the text part does not;
 * - the agent's own address appears nowhere in it (not even in a link);
 * - it has something to show.
 * A canned reply (#reply) goes as text alone: the canned text has no HTML.
 *
 * Ownership: replyhtml_make() returns an object the caller frees with
 * replyhtml_free(); it borrows nothing.
 */
#ifndef DG_REPLYHTML_H
#define DG_REPLYHTML_H

#include <stddef.h>

struct agentcmd_list;
struct compose;
struct config;
struct config_agent;
struct mime_message;
struct replyhtml;

/* msg: the agent's mail; cmds: its commands as read from the text (their
   lines are taken out of the HTML); agent: who wrote it (may be NULL).
   Returns NULL with *why_r when the reply goes as text alone (no HTML in
   the mail: why is NULL; else why, for the log and the ticket's event). */
struct replyhtml *replyhtml_make(const struct config *config, const struct mime_message *msg,
				 const char *stripped, const struct agentcmd_list *cmds,
				 const struct config_agent *agent, const char **why_r);
void replyhtml_free(struct replyhtml **rhp);

/* Put the HTML body and msg's attachments into c: the inline images the
   HTML shows as related parts, the inline images the agent's HTML showed
   and the clean one no longer does (they were in the quote or the
   signature) not at all, every other attachment as one. */
void replyhtml_compose(const struct replyhtml *rh, const struct mime_message *msg,
		       struct compose *c);
/* The sanitised document, for tests. */
const char *replyhtml_html(const struct replyhtml *rh);

#endif
