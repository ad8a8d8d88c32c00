/*
 * danger: attachments that can bite the agent who opens them (sniff.h:
 * executables, scripts, shortcuts, disk images, Office macros, archives
 * holding those, HTML, a type that disagrees with the name). Two steps of
 * the ingest pipeline (hook.h):
 *
 * HOOK_CLASSIFIED "attachments"  sniffs every attachment of the message
 *     (after "secrets" redacted the text ones) and lists the flagged ones
 *     in ev->flagged. Each distinct content is sniffed once: verdicts are
 *     kept by SHA-256 (a signature image in every mail of a thread costs
 *     one look), and sniff.c answers the common safe types without
 *     libmagic.
 * HOOK_STORED "attachments" (before "agents")  records each flagged
 *     attachment on the ticket (an event "attachment" with the reason) and
 *     logs it. The attachment itself is stored like any other; the agents'
 *     notification lists it with the reason instead of attaching it
 *     (danger_flag_for()), and an agent gets it on purpose with the
 *     command #attachments.
 *
 * Ownership: danger_new() returns an object freed with danger_free(); the
 * flagged list it puts in an event lives until the next message.
 */
#ifndef DG_DANGER_H
#define DG_DANGER_H

#include <stddef.h>

struct hook_event;
struct store;
struct danger;

/* NULL with *error_r when libmagic cannot start (a configuration error). */
struct danger *danger_new(struct store *store, const char **error_r);
void danger_free(struct danger **dp);

int danger_classified_step(void *danger, struct hook_event *ev, const char **error_r);
int danger_stored_step(void *danger, struct hook_event *ev, const char **error_r);

/* The reason the attachment whose blob is sha256 was flagged in ev, or
   NULL when it was not (ev may be NULL). */
const char *danger_flag_for(const struct hook_event *ev, const char *sha256);

/* Sniff data as a file called filename: 1 with reason (at most size
   bytes) when it is dangerous, 0 when not. What cannot be checked is
   flagged. Uses the same cache as the steps. */
int danger_check(struct danger *d, const unsigned char *data, size_t len, const char *filename,
		 char *reason, size_t size);

#endif
