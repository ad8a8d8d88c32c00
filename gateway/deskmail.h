/*
 * deskmail: the one place that composes and queues the mail the desk sends
 * about a ticket: acknowledgements, notifications to agents, relayed agent
 * replies, notices, error mail, and whatever later modules send
 * (escalations, digests, surveys). Every such message gets the same
 * envelope, decided here:
 *
 * - From: support_name <support_address>;
 * - Reply-To: the ticket's signed reply address of one side (customer or
 *   agent, thread_reply_address()), or none;
 * - Subject: the ticket's subject tag in front ("[Support #12] ..."), once;
 * - a fresh, unguessable Message-ID of ours (thread_message_id_new());
 * - In-Reply-To and References continuing a thread: the thread's root and
 *   its newest ids, at most DESKMAIL_MAX_REFERENCES;
 * - Auto-Submitted (with X-Auto-Response-Suppress: All) on automatic mail,
 *   and on every message our loop header X-Deskgate-Loop: hostname;
 * - display names cleaned by deskmail_display_name(): a forged From name
 *   cannot put attacker text into mail we send (backscatter).
 *
 * deskmail_queue() hands the rendered message to the outbox inside the
 * caller's store transaction, so it is sent exactly when its cause is
 * committed. It is also the last line of defence against mail loops: it
 * refuses a message
 * - while the caller has blocked mail (deskmail_block(): ingest does so
 *   while it handles a message that is an automatic answer to our own
 *   mail, so that no kind of mail can be sent because of it), and
 * - when a recipient already had [limits] max_mail_per_recipient_minute
 *   messages queued in the last minute, or the desk as a whole
 *   max_mail_per_minute.
 * A refusal, like a message compose refuses (a malformed address), is a
 * log line and an event on the ticket ("loop", "rate-limit", "error"),
 * never an error of the caller: the message that caused it is stored.
 *
 * Ownership: deskmail_new() borrows config, tc (NULL: no subject tag, no
 * Reply-To, e.g. `template render` without a threading secret) and store
 * (NULL: deskmail_render() only), which must outlive it. A struct
 * deskmail_msg is the caller's until deskmail_queue() or
 * deskmail_render() takes it; deskmail_msg_free() frees one not handed
 * over. Strings returned are the caller's to free().
 */
#ifndef DG_DESKMAIL_H
#define DG_DESKMAIL_H

#include <stddef.h>
#include <stdint.h>

struct compose;
struct config;
struct mime_message;
struct store;
struct thread_config;
struct deskmail;
struct deskmail_msg;

/* Longest display name put into mail, in characters. */
#define DESKMAIL_MAX_NAME 64
/* Most Message-IDs in References: the root and the newest. */
#define DESKMAIL_MAX_REFERENCES 20

/* Which signed reply address goes into Reply-To. */
enum deskmail_reply {
	DESKMAIL_REPLY_CUSTOMER, /* the ticket's customer-side address */
	DESKMAIL_REPLY_AGENT,	 /* the agents' address (notifications) */
	DESKMAIL_REPLY_NONE,	 /* no Reply-To */
};

int deskmail_new(const struct config *config, const struct thread_config *tc,
		 struct store *store, struct deskmail **dm_r, const char **error_r);
void deskmail_free(struct deskmail **dmp);

/* Refuse every message queued until deskmail_unblock(); why is copied
   and names the reason in the events and logs. */
void deskmail_block(struct deskmail *dm, const char *why);
void deskmail_unblock(struct deskmail *dm);
/* Why mail is blocked now, or NULL. */
const char *deskmail_blocked(const struct deskmail *dm);

/* A new message about ticket_id (0: none) of outbox kind ("ack",
   "notify", "relay", "notice", "error", ...). auto_submitted: the
   Auto-Submitted value ("auto-generated", "auto-replied"), or NULL for
   mail a person wrote (a relayed reply). now: its Date and the outbox
   time. */
struct deskmail_msg *deskmail_start(struct deskmail *dm, int64_t ticket_id, const char *kind,
				    enum deskmail_reply reply_side, const char *auto_submitted,
				    int64_t now);
void deskmail_msg_free(struct deskmail_msg **msgp);

/* Recipients; name may be NULL and is cleaned (deskmail_display_name()).
   The support address and its sub-addresses are never recipients: mail to
   them would come back (a message left without one is not queued). */
void deskmail_add_to(struct deskmail_msg *m, const char *name, const char *address);
void deskmail_add_cc(struct deskmail_msg *m, const char *name, const char *address);
/* 1 when address is the support address or one of its sub-addresses. */
int deskmail_is_own_address(const struct deskmail *dm, const char *address);

/* The subject, with the ticket's tag in front:
   - deskmail_subject(): "[Support #12] " + prefix + subject without its
     reply prefixes ("Re:", "AW:", "回复:"...), for mail to agents;
   - deskmail_subject_reply(): "Re: [Support #12] " + subject without
     reply prefixes, a person's answer in the customer's thread;
   - deskmail_subject_as_is(): the subject as given (a rendered template),
     the tag put in front unless it already carries it. */
void deskmail_subject(struct deskmail_msg *m, const char *prefix, const char *subject);
void deskmail_subject_reply(struct deskmail_msg *m, const char *subject);
void deskmail_subject_as_is(struct deskmail_msg *m, const char *subject);

/* Continue a thread: In-Reply-To in_reply_to, References the thread's ids
   (oldest first) and in_reply_to, capped at DESKMAIL_MAX_REFERENCES (the
   root and the newest). The _string form takes the ids as stored on a
   message row (separated by blanks); _msg answers msg itself. */
void deskmail_thread(struct deskmail_msg *m, const char *in_reply_to,
		     const char *const *references, size_t n_references);
void deskmail_thread_string(struct deskmail_msg *m, const char *in_reply_to,
			    const char *references);
void deskmail_thread_msg(struct deskmail_msg *m, const struct mime_message *msg);

/* The agents' thread of the ticket: References start with one id per
   ticket, "dg-ticket.N.agents@HOSTNAME", that no message carries, so that
   every agent's client shows the notifications, notices and handovers of
   a ticket as one thread (clients thread on References even when the
   root is missing); then, when answered is not NULL (a customer's mail
   being passed on), its references and itself, In-Reply-To answered,
   else In-Reply-To the root. Not of our Message-ID form
   (thread_message_id_is_ours()), so it never threads mail into a ticket.
   Nothing for a message about no ticket. */
void deskmail_thread_agents(struct deskmail_msg *m, const struct mime_message *answered);
/* That id (caller frees), for tests. */
char *deskmail_agents_root(const struct deskmail *dm, int64_t ticket_id);

/* The message being built, for its body and attachments (compose.h). */
struct compose *deskmail_compose(struct deskmail_msg *m);

/* What deskmail_queue() and deskmail_render() produced; clear with
   deskmail_result_clear(). */
struct deskmail_result {
	int64_t outbox_id;	/* the outbox row (deskmail_queue()) */
	char *message_id;	/* without angle brackets */
	char *subject;		/* as sent (tagged) */
	char *recipients;	/* "a@x, b@y" */
	unsigned char *raw;	/* deskmail_render() only: the message bytes */
	size_t len;		/* their size (both) */
};
void deskmail_result_clear(struct deskmail_result *res);

/* Render *msgp and queue it in the outbox (inside the caller's
   transaction); takes *msgp and sets it to NULL. 1: queued, *res filled.
   0: not queued (blocked, over a cap, or compose refused it): *why_r says
   why, the log line and the ticket's event are written. < 0 (a store
   result): the store failed (error_r). */
int deskmail_queue(struct deskmail *dm, struct deskmail_msg **msgp, struct deskmail_result *res,
		   const char **why_r, const char **error_r);
/* deskmail_queue()'s refusals that need only the recipients and the time
   (no recipient, blocked, a desk-wide cap), before the body is made:
   composing a message that the rate limit then refuses was most of an
   acknowledgement's cost. 1: none applies (*msgp untouched; deskmail_queue()
   asks again, for recipients added since). 0: refused as deskmail_queue() would (log line,
   event, *why_r), *msgp freed and NULL. < 0: the store failed. */
int deskmail_precheck(struct deskmail *dm, struct deskmail_msg **msgp, const char **why_r,
		      const char **error_r);
/* Render *msgp without queueing it (previews); takes *msgp. 0 with
   res->raw, -1 with error_r. */
int deskmail_render(struct deskmail *dm, struct deskmail_msg **msgp,
		    struct deskmail_result *res, const char **error_r);

/* A display name fit for mail we send, or NULL when there is none to
   use: control characters and line breaks made spaces, white space runs
   made one, trimmed; a name longer than DESKMAIL_MAX_NAME characters, or
   one that holds a URL, a mail address or a domain name, is not used at
   all (a forged "name" is how phishing text rides on backscatter). Caller
   frees. */
char *deskmail_display_name(const char *name);

/* The address rate limits count by: lower case, the local part without
   its "+tag" (Victim+1@Example.COM -> victim@example.com). Caller frees;
   NULL for a string without '@'. */
char *deskmail_address_key(const char *address);

/* The ticket's subject tag ("[Support #12]"); "#12" without threading
   settings. Caller frees. */
char *deskmail_ticket_tag(const struct deskmail *dm, int64_t ticket_id);

/* subject without its reply prefixes ("Re:", "AW:", "SV:", "回复:"...);
   "(no subject)" when nothing is left. Points into subject. */
const char *deskmail_subject_base(const char *subject);

#endif
