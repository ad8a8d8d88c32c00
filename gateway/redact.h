/*
 * redact: a secret a customer mailed (recovery phrase, private key, API
 * secret, password, 2FA code, card number: parsers/secrets.h) goes no
 * further than the gateway. Two steps of the ingest pipeline (hook.h):
 *
 * HOOK_CLASSIFIED "secrets"  looks in the subject, the text and HTML
 *     bodies (quoted parts included), every header, and the text
 *     attachments (text types, .txt, .csv, .eml...). When it finds a secret and
 *     [secrets] action = redact (the default), it replaces each one by its
 *     mark ("[redacted: recovery phrase]") in the parsed message, in the
 *     rules' matches and extracted fields, and keeps a redacted raw message
 *     instead of the original (ev->stored_raw: the original's header block
 *     with the headers holding a secret re-encoded, and a MIME body
 *     composed again from the redacted parts; the dedupe key stays the
 *     original's). Before anything is written, so that no row, blob, log
 *     line, notification, relay or outbox message ever holds it. With
 *     action = quarantine the message is held whole instead. It sets
 *     ev->secret_kinds and ev->secret_where for the later steps.
 * HOOK_STORED "secrets" (runs before "ack" and "agents")  the ticket of
 *     such a message gets priority urgent, the tag secret-exposed, an event
 *     "secret" naming the kinds and where they were (never the value), and
 *     the [secrets] queue; a warn log line with the kinds only.
 *
 * The acknowledgement carries the customer's warning (templates:
 * secret_warning partial) and the agents' notification a banner
 * (redact_banner()).
 *
 * Fail closed: a text the detectors cannot finish (more secrets than they
 * count, a redacted text over its bound) or a redacted raw message that
 * cannot be built quarantines the message rather than store it.
 *
 * Ownership: redact_new() borrows config and store, which must outlive it.
 */
#ifndef DG_REDACT_H
#define DG_REDACT_H

#include <stddef.h>

struct config;
struct hook_event;
struct store;
struct redact;

struct redact *redact_new(const struct config *config, struct store *store);
void redact_free(struct redact **rp);

/* The steps (context: a struct redact). */
int redact_classified_step(void *redact, struct hook_event *ev, const char **error_r);
int redact_stored_step(void *redact, struct hook_event *ev, const char **error_r);

/* The banner that opens an agent's notification of a message whose
   secrets (SECRET_KIND_BIT()s) were redacted, ending with a blank line;
   "" for none. Static or the caller's buffer: valid until the next call. */
const char *redact_banner(unsigned int kinds, const char *where, char *buf, size_t size);

/* 1 when an attachment of this name and type is read as text: its
   secrets are redacted. */
int redact_attachment_is_text(const char *filename, const char *content_type);

#endif
