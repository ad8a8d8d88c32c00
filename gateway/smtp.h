/*
 * smtp: the SMTP client, the only module that includes libcurl. It hands one
 * finished RFC 5322 message (CRLF line ends) to the configured relay and
 * says how that went; what to do about a failure (retry, give up) is
 * decided by the outbox, not here.
 *
 * - Security: "smtps" (TLS from the first byte), "starttls" (STARTTLS is
 *   required: a relay that does not offer it is an error, never a silent
 *   fall-back to plain text) or "none", which is refused unless the relay
 *   is a loopback address. Certificates are verified (chain and host name)
 *   unless tls_verify = no; ca_file replaces the system's CA bundle.
 * - AUTH PLAIN or LOGIN with the password (or the first line of
 *   password_file), or XOAUTH2 with a token printed by token_command or read
 *   from token_file; the token is fetched again once when the relay rejects
 *   it. Credentials are never logged or copied into results.
 * - The EHLO name goes in the URL path (libcurl's convention).
 * - One client keeps its connection open between messages (libcurl reuses
 *   it, with no RSET needed after a completed transaction), which is what
 *   makes a queue run fast; the caller decides how long a client lives
 *   (the outbox keeps it across runs for [smtp] idle_timeout). A kept
 *   connection the relay has closed is seen by libcurl before reuse and a
 *   new one made; one that dies as it is reused (the relay's time-out and
 *   our next message crossing) is connected again once when nothing of
 *   the message had gone out, instead of failing the relay session.
 *   smtp_client_free() ends the session with QUIT.
 *
 * Results are graded: SMTP_OK; SMTP_TEMPORARY for 4xx replies, connection
 * and TLS failures, time-outs and AUTH failures; SMTP_PERMANENT only for a
 * 5xx reply to MAIL, RCPT, DATA or the end of the data, i.e. a refusal of
 * this message. result->session is set when the failure is about the relay
 * session rather than the message (connect, TLS, EHLO, AUTH): the next
 * message would fail the same way, so a queue run should stop.
 *
 * Recipients one by one: a recipient the relay refuses at RCPT does not stop
 * the others (CURLOPT_MAIL_RCPT_ALLOWFAILS): the message goes to every
 * recipient that is accepted, and each recipient's own outcome is reported
 * (its RCPT reply, or the outcome of the data for the accepted ones). The
 * message as a whole is SMTP_OK when the relay took it for at least one
 * recipient.
 *
 * Ownership: smtp_client_new() returns a client the caller frees with
 * smtp_client_free(); it keeps a copy of what it needs from the
 * configuration. The message bytes are borrowed for the call.
 */
#ifndef DG_SMTP_H
#define DG_SMTP_H

#include <stddef.h>

struct config;
struct smtp_client;

enum smtp_status { SMTP_OK = 0, SMTP_TEMPORARY = 1, SMTP_PERMANENT = 2 };

struct smtp_result {
	enum smtp_status status;
	int code;	   /* the last SMTP reply code, 0 when there was none */
	char enhanced[16]; /* RFC 3463 status of that reply ("5.1.1"), or "" */
	/* The server's last reply text without the codes (continuation lines
	   joined by spaces), or the transport error; printable, no CR/LF. */
	char text[512];
	int session;	   /* the failure concerns the relay session, not this message */
	int auth;	   /* that session failure is our login: the password or OAuth2 token
			      was refused, or the token could not be had */
};

/* Check the [smtp] configuration and read password_file. -1 with error_r on
   a configuration problem (plain text to a non-loopback relay, unreadable
   password file, no password for AUTH). */
int smtp_client_new(const struct config *config, struct smtp_client **client_r,
		    const char **error_r);
void smtp_client_free(struct smtp_client **clientp);

/* One recipient's outcome: SMTP_OK (accepted and the message taken),
   SMTP_TEMPORARY (4xx, or not reached: try again), SMTP_PERMANENT (5xx:
   refused). code/enhanced/text: its RCPT reply when it was refused there,
   else the message's. */
struct smtp_rcpt_result {
	enum smtp_status status;
	int code;
	char enhanced[16];
	char text[256];
};

/* Send data[0..len) from envelope_from ("" for the null sender) to the
   recipients. Fills *result (never NULL) and, when rcpt_results is not
   NULL, rcpt_results[i] for recipients[i]; returns result->status. */
enum smtp_status smtp_client_send(struct smtp_client *client, const char *envelope_from,
				  const char *const *recipients, size_t n_recipients,
				  const unsigned char *data, size_t len,
				  struct smtp_result *result, struct smtp_rcpt_result *rcpt_results);

/* "550 5.1.1" style summary of a result's code, or "" when there is none;
   static ring buffer like errf(). */
const char *smtp_result_code(const struct smtp_result *result);

/* 1 when host is a loopback address (127.0.0.0/8, ::1) or "localhost". */
int smtp_host_is_loopback(const char *host);

#endif
