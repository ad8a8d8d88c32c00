/*
 * thread: which ticket an inbound message belongs to, and the identifiers
 * that make this decidable and safe: signed reply addresses, subject tags
 * and unguessable Message-IDs. The rules, in order (docs/threading.md):
 *
 * 1. Signed reply address. Mail we send to a participant carries a
 *    Reply-To support+TICKET-TAG@domain; TAG is a truncated HMAC-SHA-256
 *    of the ticket number and the role ("c" customer side, "a" agent) under
 *    the server secret. Mail that arrives at a valid one (To, Cc,
 *    Delivered-To, X-Original-To, Envelope-To) joins that ticket. The agent
 *    tag counts only with a configured agent From address, a From header
 *    that holds no other address, and (require_auth_results) a DMARC pass
 *    for the From domain or an aligned DKIM pass in the topmost
 *    Authentication-Results header of our authserv-id (parsers/authres.h);
 *    otherwise the mail is a stranger's.
 * 2. In-Reply-To / References naming a Message-ID stored or sent for a
 *    ticket, when the sender is a participant of that ticket or was a
 *    recipient (To/Cc) of one of its messages (a colleague the customer
 *    copied in joins as "cc").
 * 3. The subject tag ("[Support #1234]"), only when the sender is already
 *    a participant of that ticket.
 * 4. Otherwise a new ticket; but the same text again from the same sender
 *    within duplicate_window joins the ticket of the first copy and is not
 *    acknowledged again.
 * A customer's reply to a pending ticket (waiting on the customer) opens
 * it again; to a closed one, it reopens it within [solved] reopen_grace
 * (capped by reopen_period) after closing (the "_closed_at" field of
 * gateway/pending.h), later it opens a new ticket linked to the old one. A
 * stranger who uses someone else's ticket number, Message-ID or a forged
 * tag gets a new ticket, and the decision carries an event to record. Mail
 * From a configured agent address without the agent tag is never agent
 * mail: it is treated as a stranger's (a new ticket, an event).
 *
 * thread_resolve() only reads the store; the caller writes the decision
 * (ticket, participant, reopening, events) in its transaction. It logs the
 * security-relevant decisions once, with msgid= and ticket=.
 *
 * Ownership: strings returned by thread_* functions are the caller's to
 * free(); struct thread_decision's strings are freed by
 * thread_decision_clear(); the thread_config by thread_config_free().
 */
#ifndef DG_THREAD_H
#define DG_THREAD_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct mime_message;
struct thread_config;

/* Characters of the tag in a reply address: base32 of 80 HMAC bits. */
#define THREAD_TAG_LEN 16
/* Least key length read from secret_file, in bytes. */
#define THREAD_SECRET_MIN 16

/* [threading] require_auth_results. */
enum thread_auth {
	THREAD_AUTH_NO,	  /* the agent From and the agent tag suffice */
	THREAD_AUTH_AUTO, /* a pass is required when the mail has our A-R header */
	THREAD_AUTH_YES,  /* a pass is always required */
};

enum thread_role {
	THREAD_ROLE_CUSTOMER,
	THREAD_ROLE_CC,
	THREAD_ROLE_AGENT,
};

/* "customer", "cc", "agent" (the store's participant roles). */
const char *thread_role_name(enum thread_role role);

/* Build the threading settings from the configuration: reads and checks
   secret_file (hex, at least THREAD_SECRET_MIN bytes), the subject tag
   format, the support address and the [agent] addresses. -1 with
   error_r naming what is wrong. */
int thread_config_new(const struct config *config, struct thread_config **tc_r,
		      const char **error_r);
void thread_config_free(struct thread_config **tcp);
/* Use this clock instead of time(NULL) (tests). */
void thread_config_set_now(struct thread_config *tc, int64_t now);
enum thread_auth thread_auth_mode(const struct thread_config *tc);
/* 1 when address (case-insensitive) is a configured agent's. */
int thread_is_agent_address(const struct thread_config *tc, const char *address);
/* 1 when msg is an agent's own mail as agent replies must be: its From is
   a configured agent's address and nothing else, and Authentication-
   Results of our authserv-id pass for it as require_auth_results asks
   (auto without our header: accepted with a warning naming ticket_id).
   0 with *why_r (static or errf()) otherwise. */
int thread_agent_authentic(const struct thread_config *tc, const struct mime_message *msg,
			   int64_t ticket_id, const char **why_r);
/* 1 when address is the support address or one of its sub-addresses
   (support+anything@domain, with any recipient_delimiter): reply
   addresses, VERP bounce addresses, aliases such as support+sales@. */
int thread_is_support_address(const struct thread_config *tc, const char *address);

/* ---- signed reply addresses -------------------------------------------- */

/* "support+1234-k3j5...@example.test" for the ticket and side: agent
   for THREAD_ROLE_AGENT, the customer side for the others. */
char *thread_reply_address(const struct thread_config *tc, int64_t ticket_id,
			   enum thread_role role);
/* 1 when address is a valid signed reply address (*ticket_id_r, and
   *role_r CUSTOMER or AGENT, filled); 0 when it is not one of ours (another
   address, or no ticket sub-address); -1 when it has our form but the tag
   does not verify (forged or damaged), with error_r. Tags are compared in
   constant time. */
int thread_reply_address_parse(const struct thread_config *tc, const char *address,
			       int64_t *ticket_id_r, enum thread_role *role_r,
			       const char **error_r);

/* ---- survey vote addresses --------------------------------------------- */

/* "support+v1234-4-TAG@domain": a vote of score (1-5) on the ticket's
   satisfaction survey, or with score 0 a reply to the survey whose text is
   read (parsers/vote.h). TAG is the HMAC of the ticket and the score
   under the server secret, as for reply addresses; threading ignores these
   addresses (the survey module takes the mail first). */
char *thread_vote_address(const struct thread_config *tc, int64_t ticket_id, int score);
/* 1 with *ticket_id_r and *score_r (0-5) for a valid vote address; 0 for
   any other address; -1 when it has the form but does not verify (forged
   or damaged), with error_r. Compared in constant time. */
int thread_vote_address_parse(const struct thread_config *tc, const char *address,
			      int64_t *ticket_id_r, int *score_r, const char **error_r);

/* ---- subject tags -------------------------------------------------------- */

/* "[Support #1234]" */
char *thread_subject_tag(const struct thread_config *tc, int64_t ticket_id);
/* subject with the ticket's tag in front, unless it already carries it
   (after "Re: " and the like the tag may stand anywhere). */
char *thread_subject_add_tag(const struct thread_config *tc, const char *subject,
			     int64_t ticket_id);
/* 1 and *ticket_id_r when the subject carries a tag, wherever ("Re: Fwd:
   [Support #1234] ...", case-insensitive, spaces around the number
   tolerated); the first one counts. 0 when none. */
int thread_subject_parse(const struct thread_config *tc, const char *subject,
			 int64_t *ticket_id_r);

/* ---- Message-IDs ----------------------------------------------------------- */

/* A Message-ID for mail we send: "dg.TICKET.RANDOM@hostname" (no angle
   brackets), RANDOM 120 bits from crypto_random in base32. -1 when the
   system has no randomness. */
int thread_message_id_new(const struct thread_config *tc, int64_t ticket_id, char **msgid_r,
			  const char **error_r);
/* 1 (and *ticket_id_r) when msgid (with or without angle brackets) has
   the form of ours. The form can be forged: use it for loop protection,
   never to choose a ticket. */
int thread_message_id_is_ours(const struct thread_config *tc, const char *msgid,
			      int64_t *ticket_id_r);

/* ---- the decision -------------------------------------------------------- */

enum thread_rule {
	THREAD_RULE_NEW,	   /* no rule matched: new ticket */
	THREAD_RULE_ADDRESS,	   /* 1: signed reply address */
	THREAD_RULE_REFERENCES,	   /* 2: In-Reply-To / References */
	THREAD_RULE_SUBJECT,	   /* 3: subject tag */
	THREAD_RULE_DUPLICATE,	   /* same text again */
};

struct thread_decision {
	int64_t ticket_id;	/* the ticket to append to; 0: open a new one */
	enum thread_role role;	/* the sender's role (CUSTOMER for a new ticket) */
	enum thread_rule rule;
	const char *reason;	/* static, for logs: "signed reply address", ... */
	int agent_trusted;	/* role AGENT: agent tag + agent From (+ auth results) */
	int add_participant;	/* the sender is not a participant yet: add with role */
	int reopen;		/* the ticket is closed or pending: set it open again */
	int suppress_ack;	/* same text again: no second acknowledgement */
	int64_t linked_ticket;	/* new ticket: link it to this closed one (0: none) */
	int64_t merged_from;	/* the ticket addressed, merged into ticket_id (#merge,
				   gateway/merge.h); 0: none */
	/* An event to record (NULL: none) on the new or joined ticket and,
	   when event_ticket is not 0, also on that ticket. */
	char *event_kind;	/* "security" or "thread" */
	char *event_detail;
	int64_t event_ticket;
};

/* Decide for msg. 0 with *decision filled (clear it with
   thread_decision_clear()), -1 when the store failed (retry later). */
int thread_resolve(struct store *store, const struct thread_config *tc,
		   const struct mime_message *msg, struct thread_decision *decision,
		   const char **error_r);
void thread_decision_clear(struct thread_decision *decision);

#endif
