/*
 * compose: builds the outgoing mail deskgate sends (acknowledgements,
 * notifications, relayed agent replies) as RFC 5322 bytes with CRLF line
 * ends, ready for the outbox.
 *
 * - Headers are folded at 78 columns. Display names and the subject are RFC
 *   2047 encoded (UTF-8, split on character boundaries) when they are not
 *   plain ASCII; file names use RFC 2231 (filename*=utf-8''...).
 * - Header injection is impossible: every value set here may come from mail
 *   or templates, so CR, LF and every other control character is replaced
 *   by a space (runs of white space become one space), invalid UTF-8 bytes
 *   become '?', and addresses and Message-IDs that are not well formed are
 *   refused at render time.
 * - Bodies: text/plain alone, or multipart/alternative text/plain +
 *   text/html (inside a multipart/related with the HTML's inline images
 *   when it shows some), in UTF-8; 7bit when pure short-lined ASCII, quoted-printable
 *   when mostly ASCII, base64 otherwise; no encoded line exceeds 76
 *   characters. Attachments make a multipart/mixed (base64).
 * - compose_message_id() makes the Message-ID: dg.T<ticket>.<26 base32
 *   random characters>@<hostname>, so that a reply or a bounce quoting it
 *   finds the ticket (compose_message_id_ticket()) and nobody can guess it.
 *
 * Ownership: compose_new() returns an object the caller frees with
 * compose_free(); the setters copy their arguments. compose_render() gives
 * the caller a malloc()ed buffer.
 */
#ifndef DG_COMPOSE_H
#define DG_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

struct compose;

struct compose *compose_new(void);
void compose_free(struct compose **composep);

/* Addresses: name may be NULL or UTF-8; address is "local@domain" without
   angle brackets. */
void compose_set_from(struct compose *c, const char *name, const char *address);
void compose_set_reply_to(struct compose *c, const char *name, const char *address);
void compose_add_to(struct compose *c, const char *name, const char *address);
void compose_add_cc(struct compose *c, const char *name, const char *address);
void compose_set_subject(struct compose *c, const char *utf8);
/* Seconds since the epoch; default: the time of compose_render(). */
void compose_set_date(struct compose *c, int64_t when);
/* Message-ID, In-Reply-To and References ids are given without angle
   brackets. Without a Message-ID, compose_render() fails. */
void compose_set_message_id(struct compose *c, const char *message_id);
void compose_set_in_reply_to(struct compose *c, const char *message_id);
/* Appended in order; duplicates are dropped. Use for the customer
   message's References followed by its Message-ID. */
void compose_add_reference(struct compose *c, const char *message_id);
/* Automatic mail: Auto-Submitted: value ("auto-replied" for
   acknowledgements, "auto-generated" for notifications) and
   X-Auto-Response-Suppress: All. NULL (the default): mail written by a
   person. */
void compose_set_auto_submitted(struct compose *c, const char *value);
/* X-Deskgate-Loop: hostname, which ingest recognises as our own mail. */
void compose_set_loop(struct compose *c, const char *hostname);
/* Any other header (name: letters, digits and '-'); the value is cleaned
   and RFC 2047 encoded like a subject. -1 when the name is not allowed
   (it is one compose sets itself, or malformed). */
int compose_add_header(struct compose *c, const char *name, const char *value);
/* Body parts in UTF-8 (invalid bytes become '?'); any line end convention
   is accepted and sent as CRLF. HTML is optional (NULL: none again). */
void compose_set_text(struct compose *c, const char *utf8, size_t len);
void compose_set_html(struct compose *c, const char *utf8, size_t len);
/* The bodies set so far (cleaned), or NULL; borrowed from c. */
const char *compose_text(const struct compose *c);
const char *compose_html(const struct compose *c);
/* content_type NULL or malformed: application/octet-stream. The file name
   is cleaned (no path, no control characters). */
void compose_add_attachment(struct compose *c, const char *filename, const char *content_type,
			    const unsigned char *data, size_t len);
/* The bytes an attachment of len bytes takes in the rendered mail: its
   base64 body with its line ends (about 1.37 times len), not counting its
   part's headers. For a sender that must keep a mail under a size. */
size_t compose_attachment_wire_size(size_t len);
/* Of a mail that must stay under max_size bytes, what its attachments'
   wire sizes may add up to: the rest (an eighth, at most 1 MiB) is kept for
   the headers, the text, its HTML and the parts' headers. */
uint64_t compose_attachments_room(uint64_t max_size);
/* A part the HTML body shows (<img src="cid:content_id">), sent with it
   in a multipart/related (RFC 2387) with Content-ID <content_id> and
   Content-Disposition inline; without an HTML body it is an ordinary
   attachment. -1 (nothing added) when content_id is not one a header can
   carry (white space, brackets, quotes, controls). */
int compose_add_related(struct compose *c, const char *content_id, const char *filename,
			const char *content_type, const unsigned char *data, size_t len);
/* Refuse to render more than max bytes (default 64 MiB). */
void compose_set_max_size(struct compose *c, size_t max);

/* Render the message: 0 with *data_r (caller frees) and *len_r, or -1 with
   error_r (no From or recipient, a malformed address or Message-ID, too
   large). Rendering twice gives the same bytes except for MIME boundaries,
   which are random. */
int compose_render(struct compose *c, unsigned char **data_r, size_t *len_r,
		   const char **error_r);

/* A new Message-ID (without angle brackets) for ticket_id (0: none) at
   hostname; caller frees. -1 with error_r when no random bytes. */
int compose_message_id(int64_t ticket_id, const char *hostname, char **message_id_r,
		       const char **error_r);
/* The ticket encoded in one of our Message-IDs: 1 with *ticket_id_r, 0
   when it is not one of ours or names no ticket. */
int compose_message_id_ticket(const char *message_id, int64_t *ticket_id_r);

#endif
