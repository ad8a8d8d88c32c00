/*
 * canned: the desk's canned replies, which an agent sends with "#reply
 * NAME" (alone, or below text of their own) instead of writing the same
 * answer again.
 *
 * A canned reply is a mustache template (template.h) of the text body
 * only: the relay's subject, thread and envelope are deskmail's, as for
 * any agent's answer. Files, under each template directory (the admin's,
 * [ack] templates_dir, first, then the installed one):
 *   replies/<name>.<lang>.txt
 * Look-up: (name, the ticket's acknowledgement language), then (name,
 * en). Names are [a-z0-9_-] (at most 64): never a path. Variables: those
 * of the acknowledgements (templates/README.md: ticket, customer,
 * category, priority, fields, support...) and agent.name, the answering
 * agent's display name (never their address: the relay hides it).
 * Partials are not available to canned replies (a {{> name}} renders as
 * nothing, and `template check` reports it). Escaping: none (a text body,
 * TMPL_ESCAPE_TEXT).
 *
 * Ownership: canned_new() borrows config (may be NULL). Strings returned
 * are the caller's to free().
 */
#ifndef DG_CANNED_H
#define DG_CANNED_H

#include <stddef.h>
#include <stdio.h>

struct config;
struct tmpl_value;
struct canned;

/* The starter set shipped in templates/replies (NULL-terminated). */
extern const char *const canned_shipped[];

/* dir: a template directory to use instead of the configured ones (NULL:
   [ack] templates_dir, then the installed templates). */
struct canned *canned_new(const struct config *config, const char *dir);
void canned_free(struct canned **cp);

/* Render the canned reply name in language (falling back to en) with
   data (ack_data_build()'s tree; the caller adds agent.name). 1 with
   *text_r and *path_r (the file used), 0 when there is no such canned
   reply in either language, -1 with *error_r ("FILE:LINE: why", a limit,
   an unreadable file). */
int canned_render(const struct canned *c, const char *name, const char *language,
		  const struct tmpl_value *data, char **text_r, char **path_r,
		  const char **error_r);

/* The names of the canned replies found (any language), sorted, ", "
   between them, for the error mail of an unknown name. Caller frees. */
char *canned_list(const struct canned *c);

/* `deskgate template check`: every replies/ file compiles and is valid
   UTF-8 with a good name; every canned reply renders with sample data in
   every acknowledgement language (a fallback to en is a note, not a
   problem). Problems written to out as "FILE:LINE: why"; returns their
   number, *n_files_r the files checked. */
size_t canned_check(const struct config *config, const char *dir, FILE *out,
		    size_t *n_files_r);

#endif
