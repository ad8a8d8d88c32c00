/*
 * loop: is an inbound message our own mail coming back, or a machine
 * answering our mail? The first question ingest asks after recognising
 * reports, so that no kind of outgoing mail (acknowledgement,
 * notification, relay, notice, error mail) can feed a loop
 * (docs/pipeline.md, "Loops"):
 *
 * LOOP_OURS    a message we sent, delivered back to us: an agent's mailbox
 *              that redirects to the support address (Sieve redirect, an
 *              alias, a list that contains it), our relay to a support+...
 *              address a customer copied in. Its Message-ID is one of ours
 *              (the form and our host name, thread_message_id_is_ours()),
 *              or it carries our loop header (X-Deskgate-Loop naming our
 *              host name), or its return path is ours (a VERP envelope
 *              sender of the outbox with a valid tag, the configured
 *              envelope sender), or its From is the support address or one
 *              of its sub-addresses. It never becomes a ticket or a
 *              follow-up; it is recorded as a "loop" event and nothing is
 *              sent.
 * LOOP_ANSWER  a machine answering our mail: automatic mail (Auto-Submitted
 *              other than "no", any deskgate's loop header, Precedence bulk,
 *              junk, list or auto_reply, or what the caller already knows
 *              to be an automatic reply) whose In-Reply-To or References
 *              name one of our Message-IDs. Two desks that list each other
 *              as agents, an out-of-office that answers a notification.
 *              It is stored where threading puts it (never as a new
 *              ticket), and no mail at all is sent because of it.
 *
 * The checks use only what the message says and our own keys; a forged
 * signal can only make the forger's own mail be recorded without an
 * answer.
 *
 * Ownership: loop_new() borrows config, tc and outbox (VERP; may be NULL),
 * which must outlive it.
 */
#ifndef DG_LOOP_H
#define DG_LOOP_H

#include <stdint.h>

struct config;
struct mime_message;
struct outbox;
struct thread_config;
struct loop;

enum loop_kind {
	LOOP_NONE,
	LOOP_OURS,
	LOOP_ANSWER,
};

struct loop_verdict {
	enum loop_kind kind;
	char why[256];	   /* "our Message-ID dg.12...@host", ... */
	int64_t ticket_id; /* the ticket our Message-ID names, or 0 */
};

struct loop *loop_new(const struct config *config, const struct thread_config *tc,
		      struct outbox *outbox);
void loop_free(struct loop **loopp);

/* Classify msg. envelope_sender: the SMTP MAIL FROM when known, else
   NULL (the Return-Path header is read either way). automatic: the caller
   already knows msg is an automatic reply. Never fails. */
void loop_check(const struct loop *loop, const struct mime_message *msg,
		const char *envelope_sender, int automatic, struct loop_verdict *verdict);

#endif
