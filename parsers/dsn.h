/*
 * dsn: is an incoming message a bounce, a delay or success notice, an
 * abuse/feedback report or an automatic reply, and what does it say?
 * Pure functions over a parsed struct mime_message (mime.h); no I/O.
 *
 * Detection, in order (after sisimai's approach: the standard formats
 * first, then each known mail system's own format):
 * 0. A person forwarding a bounce or a notice (autoreply_person_forward():
 *    "Fwd:" and the report parts Gmail attaches, an Outlook "FW:" with the
 *    NDR quoted) is asking about it: DSN_NONE, a ticket.
 * 1. RFC 5965 ARF: a message/feedback-report part (Feedback-Type).
 * 2. RFC 3464: a message/delivery-status part (normally inside
 *    multipart/report; report-type=delivery-status): per-recipient
 *    Final-Recipient, Action, Status, Diagnostic-Code.
 * 3. Non-standard bounces, recognised by who sent them and how they are
 *    written: an empty Return-Path or a MAILER-DAEMON / postmaster-like
 *    sender, and a subject such as "Undelivered Mail Returned to Sender",
 *    "Mail delivery failed", "failure notice", "Delivery Status
 *    Notification (Failure)", "Undeliverable:", ... or a body in one of
 *    the known shapes (qmail, Exim, Sendmail, Postfix, Exchange, Notes,
 *    Domino, Courier, Yahoo, Gmail, ...). Then the same for notices that
 *    are not RFC 3464:
 *    - mobile carriers' error notices (autoreply_carrier_notice(), format
 *      "carrier");
 *    - notices a mailing-list manager wrote itself
 *      (autoreply_list_manager()) about a mail of ours: held for
 *      moderation (DSN_DELAYED, status 4.7.0, format "list-held"),
 *      stopped as a loop (DSN_FAILED, 5.4.6, "list-loop") or refused
 *      (DSN_FAILED, 5.7.1, "list-refusal"); the recipient is the list's
 *      posting address when the manager's address names it.
 *    The status code comes from an RFC 3463 code in the text, else from
 *    the SMTP reply code, else it is guessed from the wording (sisimai's
 *    reason table) as X.0.0-style codes where the text gives nothing
 *    better.
 * 4. RFC 3834 automatic replies, by their headers: autoreply_judge()
 *    says AUTOREPLY_AUTO_REPLY (one detector for both). A subject alone
 *    ("Out of office", "On vacation") never makes one.
 *
 * The original Message-ID is taken from the attached message/rfc822 or
 * text/rfc822-headers part, or from a quoted header block in the text, so
 * that the report can be matched to the outbox row it is about.
 *
 * Ownership: dsn_analyze() returns a report the caller frees with
 * dsn_report_free(); every string in it belongs to it.
 */
#ifndef DG_DSN_H
#define DG_DSN_H

#include <stddef.h>

struct mime_message;

enum dsn_kind {
	DSN_NONE = 0,	   /* an ordinary message */
	DSN_FAILED,	   /* a bounce: delivery failed (for at least one recipient) */
	DSN_DELAYED,	   /* delivery is delayed, still being tried */
	DSN_DELIVERED,	   /* a success notice (delivered, relayed, expanded) */
	DSN_FEEDBACK,	   /* an ARF abuse / feedback report */
	DSN_AUTO_REPLY,	   /* an RFC 3834 automatic reply (vacation, out of office) */
};

struct dsn_recipient {
	char *address;	   /* final (else original) recipient, or NULL */
	char *action;	   /* failed, delayed, delivered, relayed, expanded; or NULL */
	char status[16];   /* RFC 3463 code "5.1.1", or "" */
	char reply_code[4];/* SMTP reply code "550", or "" */
	char *diagnostic;  /* the diagnostic text (one line, bounded), or NULL */
};

struct dsn_report {
	enum dsn_kind kind;
	const char *format;  /* how it was recognised: "rfc3464", "arf", "text", "carrier",
				"list-held", "list-loop", "list-refusal", "amazonses",
				"rfc3834" (static) */
	struct dsn_recipient *recipients;
	size_t n_recipients;
	char *original_message_id; /* of the message reported on, without brackets, or NULL */
	char *feedback_type;	   /* ARF Feedback-Type, or NULL */
	/* Addresses the report was delivered to (To, Delivered-To,
	   X-Original-To, Envelope-To), for VERP matching. */
	char **envelope_to;
	size_t n_envelope_to;
};

/* Analyse msg. Returns the kind; *report_r is NULL for DSN_NONE, else a
   report (with at least one recipient for DSN_FAILED/DELAYED/DELIVERED,
   whose fields may be empty when the report does not say). */
enum dsn_kind dsn_analyze(const struct mime_message *msg, struct dsn_report **report_r);
void dsn_report_free(struct dsn_report **reportp);

/* "failed", "delayed", ... for logs and events (static). */
const char *dsn_kind_name(enum dsn_kind kind);

#endif
