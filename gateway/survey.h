/*
 * survey: satisfaction surveys by mail (issue 14; docs/reports.md).
 *
 * Sending: every close ("closed" or "solved", however it came: an agent's
 * #close or #solved, an automatic solve, the command line) sets the
 * store's STORE_TIMER_CLOSED timer in its transaction. The HOOK_STORED
 * step "survey" (after "replies") takes it when the mail being stored
 * closed the ticket; the scheduler's handler (survey_register()) takes
 * any other at its next tick. Either way, if the ticket is still closed
 * and [survey] enabled, the customer gets one
 * short mail in the ticket's language (zh-CN, zh-TW, en, fr, de; text and
 * HTML from the templates survey/request.LANG.txt and .html, mustache,
 * editable like the acknowledgements') with five choices, each a mailto:
 * link to a signed vote address built by the code (thread_vote_address():
 * the ticket and the score under the server secret), and a Reply-To that reads a plain reply (score 0: the text is
 * read by parsers/vote.h). It goes through deskmail in the transaction
 * that took the timer, and is recorded in the store's surveys table. Not sent:
 * to a customer who got one within [survey] period, to automatic senders
 * (no-reply, mailer-daemon...), for tickets of category spam or duplicate,
 * twice for one ticket. Link-following scanners cannot vote: a vote is a
 * mail sent from the customer's address, never a web request.
 *
 * Receiving: survey_take_vote(), before threading, recognises mail to a
 * vote address. A valid one from a participant of the ticket records the
 * score, the comment (the rest of the text), the assignee at the time and
 * the time of the vote; a later vote replaces an earlier one. A forged
 * address, a stranger, or a ticket without a survey is refused (an event,
 * the mail kept as a report, no ticket). A vote at or below [survey]
 * low_score is mailed to the ticket's assignee. The vote's text was
 * redacted by the caller like any customer mail ([secrets]), so neither
 * the comment, the event nor the notice holds a secret; a comment that
 * reads as a new problem reopens the ticket ([survey] reopen_on_problem).
 *
 * Ownership: survey_new() returns a struct freed with survey_free(); it
 * borrows the configuration, store, deskmail and threading settings.
 */
#ifndef DG_SURVEY_H
#define DG_SURVEY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct deskmail;
struct hook_event;
struct mime_message;
struct schedule;
struct store;
struct thread_config;
struct survey;

struct survey *survey_new(const struct config *config, struct store *store,
			  struct deskmail *dm, const struct thread_config *tc);
void survey_free(struct survey **surveyp);

/* The HOOK_STORED step "survey" (context: a struct survey). */
int survey_step(void *context, struct hook_event *ev, const char **error_r);

enum survey_vote_outcome {
	SURVEY_NOT_A_VOTE = 0, /* not addressed to a vote address: go on */
	SURVEY_VOTED = 1,      /* recorded */
	SURVEY_REFUSED = 2,    /* a vote address, but not a vote we take */
};

/* 1 when msg is addressed to a vote address (valid or forged): the
   caller redacts its secrets ([secrets], redact.h) and classifies it
   before survey_take_vote(), as it would any customer mail. */
int survey_is_vote(const struct survey *s, const struct mime_message *msg);

/* Is msg a vote? SURVEY_NOT_A_VOTE; SURVEY_VOTED or SURVEY_REFUSED with
   *ticket_id_r (0 when unknown) and reason (for the log and the event);
   < 0 (a store result) with *error_r. A reply to the survey address that
   holds no score is no vote: it goes on as mail about the ticket.
   category: what the rules chose for the vote's text (NULL: not
   classified); with the words of vote_reads_as_problem(), it says whether
   a comment is a new problem, which reopens the ticket ([survey]
   reopen_on_problem) and tells its assignee. */
int survey_take_vote(struct survey *s, const struct mime_message *msg, const char *category,
		     int64_t now, int64_t *ticket_id_r, char *reason, size_t reason_size,
		     const char **error_r);

/* Handle the close's timer (STORE_TIMER_CLOSED, store.h) in the
   scheduler: a ticket closed or solved outside the ingest pipeline (an
   automatic solve, the command line) is surveyed at the next tick. */
void survey_register(struct survey *s, struct schedule *schedule);

/* `deskgate template check`: render templates/survey/request.LANG (in
   dir, or the configured directories) for every language with sample
   data; each problem (syntax, a limit, a missing vote link) is written to
   out. The number of problems; *n_files_r the languages that have their own
   template. */
size_t survey_templates_check(const struct config *config, const char *dir, FILE *out,
			      size_t *n_files_r);

/* The default survey template's subject for a language ("How did we
   do?"), for tests. */
const char *survey_subject(const char *language);

#endif
