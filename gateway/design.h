/*
 * design: the default HTML of the mail the desk sends from a text
 * template (acknowledgements, SLA notices): one column at most 600 px
 * wide, laid out with tables and inline CSS only (no flex or grid, no
 * <style> block: Gmail, Outlook and phone clients all read it), a header
 * band in the brand colour with the brand name (and the logo when the
 * admin configured one), the ticket number in a box of its own, the text's
 * paragraphs, "- " lists and links, the safety line in a marked box, and
 * the brand in the footer. The text part stays the first and complete
 * part of the mail; this is its alternative.
 *
 * design_compose() gives any composed message that has only a text body
 * this design as its HTML alternative: deskmail.c calls it for every
 * message but relayed replies (an agent's own words go as written), so no
 * notice carries a copy of it.
 *
 * Ownership: design_html() gives the caller a malloc()ed document.
 */
#ifndef DG_DESIGN_H
#define DG_DESIGN_H

#include <stddef.h>

struct design_input {
	const char *lang;	  /* the document's language */
	const char *title;	  /* the subject */
	const char *brand;	  /* the name in the header band and footer */
	const char *colour;	  /* "#rrggbb" or "#rgb" (else a default blue) */
	const char *logo_url;	  /* https:// image above the name, or NULL */
	const char *ticket_ref;	  /* "#1042" or "[Support #1042]", or NULL: no box */
	const char *safety;	  /* the paragraph of the text to mark as the safety line, or NULL */
};

/* The label of the ticket box ("Ticket", "工单"...) in lang. Static. */
const char *design_ticket_label(const char *lang);

/* text (UTF-8, "\n" lines) as a designed document. 0 with *html_r, -1 when
   it would exceed max bytes. */
int design_html(const char *text, const struct design_input *in, size_t max, char **html_r);

struct compose;
struct config;

/* The one design of every mail people read that has no HTML of its own
   (notifications, handovers, "Answered by" and status notices, desk lists,
   error mail to agents): when c holds a text body and no HTML, the
   designed document of that text is set as its HTML alternative, with
   [brand] from config, the subject as title and ticket_ref (or NULL) in
   the ticket box. lang: the document's language (NULL: "en"). 1 when set,
   0 when c already has HTML or no text, -1 when the document would be too
   large (c keeps its text alone). */
int design_compose(const struct config *config, const char *lang, const char *subject,
		   const char *ticket_ref, struct compose *c);

#endif
