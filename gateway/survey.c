/*
 * survey: satisfaction surveys by mail (see survey.h).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hook.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/template.h"
#include "gateway/survey.h"
#include "gateway/thread.h"
#include "parsers/autoreply.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "parsers/vote.h"
#include "base/util.h"

#define SURVEY_MAX_COMMENT 2000

struct survey {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct thread_config *tc;
	struct ack_templates *templates;
	/* The SLA policies, to restart the clocks of a ticket a comment
	   reopens; NULL when the configuration has none that builds
	   (escalate_new() then refuses the same configuration). */
	struct sla *sla;
};

/* The languages of the survey templates (templates/survey/request.LANG.*)
   and their subjects (for tests and sample data). */
static const struct survey_lang {
	const char *lang;
	const char *subject;
} langs[] = {
	{ "en", "How did we do?" },
	{ "zh-CN", "\xe6\x88\x91\xe4\xbb\xac\xe7\x9a\x84\xe6\x9c\x8d\xe5\x8a\xa1\xe6\x80\x8e\xe4"
		   "\xb9\x88\xe6\xa0\xb7\xef\xbc\x9f" }, /* 我们的服务怎么样？ */
	{ "zh-TW", "\xe6\x88\x91\xe5\x80\x91\xe7\x9a\x84\xe6\x9c\x8d\xe5\x8b\x99\xe6\x80\x8e\xe9"
		   "\xba\xbc\xe6\xa8\xa3\xef\xbc\x9f" }, /* 我們的服務怎麼樣？ */
	{ "fr", "Votre avis sur notre r\xc3\xa9ponse" },
	{ "de", "Wie zufrieden sind Sie?" },
};

static const struct survey_lang *
text_for(const char *language)
{
	if (language != NULL) {
		for (size_t i = 0; i < N_ELEMENTS(langs); i++)
			if (strcasecmp(language, langs[i].lang) == 0)
				return &langs[i];
		/* zh-Hant, zh-HK: traditional; other zh: simplified */
		if (strncasecmp(language, "zh", 2) == 0)
			return strcasestr(language, "hant") != NULL || strcasestr(language, "tw") != NULL ||
					       strcasestr(language, "hk") != NULL
				       ? &langs[2]
				       : &langs[1];
		for (size_t i = 0; i < N_ELEMENTS(langs); i++)
			if (strncasecmp(language, langs[i].lang, 2) == 0)
				return &langs[i];
	}
	return &langs[0];
}

const char *
survey_subject(const char *language)
{
	return text_for(language)->subject;
}

struct survey *
survey_new(const struct config *config, struct store *store, struct deskmail *dm,
	   const struct thread_config *tc)
{
	struct survey *s = xcalloc(1, sizeof(*s));
	s->config = config;
	s->store = store;
	s->dm = dm;
	s->tc = tc;
	s->templates = ack_templates_new(config, NULL);
	const char *ignored = NULL;
	if (sla_new(config, &s->sla, &ignored) < 0)
		s->sla = NULL;
	return s;
}

void
survey_free(struct survey **surveyp)
{
	if (*surveyp != NULL) {
		ack_templates_free(&(*surveyp)->templates);
		sla_free(&(*surveyp)->sla);
	}
	free(*surveyp);
	*surveyp = NULL;
}

#define event(s, ticket_id, kind, error_r, ...) \
	store_event_addf((s)->store, ticket_id, kind, error_r, __VA_ARGS__)

/* ---- sending ------------------------------------------------------------------------ */

/* The template's data: the ticket, and the five signed vote links
   (vote.s1 .. vote.s5: "mailto:ADDRESS?subject=N", built here so that no
   template can break the signature). Caller frees. */
static struct tmpl_value *
survey_data(const struct thread_config *tc, int64_t id, const char *subject, const char *name,
	    const char *lang)
{
	char buf[64];
	struct tmpl_value *d = tmpl_map_new();
	tmpl_map_set_string(d, "lang", lang);
	struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	tmpl_map_set_string(tk, "id", buf);
	snprintf(buf, sizeof(buf), "#%lld", (long long)id);
	tmpl_map_set_string(tk, "ref", buf);
	tmpl_map_set_string(tk, "subject", subject != NULL && *subject != '\0' ? subject : "-");
	struct tmpl_value *cu = tmpl_map_add_map(d, "customer");
	if (name != NULL && *name != '\0')
		tmpl_map_set_string(cu, "name", name);
	struct tmpl_value *v = tmpl_map_add_map(d, "vote");
	for (int score = VOTE_MIN; score <= VOTE_MAX; score++) {
		char *addr = tc != NULL ? thread_vote_address(tc, id, score)
					: xasprintf("support+v%lld-%d-SAMPLE@example.com",
						    (long long)id, score);
		char *url = xasprintf("mailto:%s?subject=%d", addr, score);
		snprintf(buf, sizeof(buf), "s%d", score);
		tmpl_map_set_string(v, buf, url);
		free(url);
		free(addr);
	}
	return d;
}

/* Why no survey goes out for t, or NULL. */
static const char *
refusal(struct survey *s, const struct store_ticket *t, int64_t now, const char **error_r,
	int *failed_r)
{
	int64_t at = 0;
	*failed_r = 0;
	if (t->customer_address == NULL || *t->customer_address == '\0')
		return "no customer address";
	if (autoreply_robot_address(t->customer_address))
		return "the customer address is an automatic sender";
	if (t->category != NULL &&
	    (strcasecmp(t->category, "spam") == 0 || strcasecmp(t->category, "duplicate") == 0))
		return "closed as spam or duplicate";
	int ret = store_survey_for_ticket(s->store, t->id, &at, error_r);
	if (ret != 0) {
		*failed_r = ret < 0 ? ret : 0;
		return ret < 0 ? "" : "a survey was already sent for this ticket";
	}
	ret = store_survey_last_sent(s->store, t->customer_address, &at, error_r);
	if (ret < 0) {
		*failed_r = ret;
		return "";
	}
	if (at > 0 && now - at < (int64_t)s->config->survey.period)
		return "the customer had one within [survey] period";
	return NULL;
}

static int
send_survey(struct survey *s, const struct store_ticket *t, int64_t now, const char **error_r)
{
	int failed;
	const char *why = refusal(s, t, now, error_r, &failed);
	if (failed < 0)
		return failed;
	if (why != NULL)
		return event(s, t->id, "survey", error_r, "no survey: %s", why);

	const char *lang = text_for(t->language)->lang;
	struct tmpl_value *data = survey_data(s->tc, t->id, t->subject, t->customer_name, lang);
	struct ack_mail mail;
	const char *terr;
	int r = ack_render_in(s->templates, "survey", "request", lang, data, &mail, &terr);
	tmpl_value_free(&data);
	if (r < 0) {
		/* The template is the admin's business: say so and go on (no
		   survey for this ticket, the close stands). */
		log_error("ticket=%lld: survey: %s", (long long)t->id, terr);
		return event(s, t->id, "error", error_r, "no survey: %s", terr);
	}
	struct deskmail_msg *m = deskmail_start(s->dm, t->id, "survey", DESKMAIL_REPLY_NONE,
						"auto-generated", now);
	deskmail_add_to(m, t->customer_name, t->customer_address);
	deskmail_subject_as_is(m, mail.subject);
	char *reply_to = thread_vote_address(s->tc, t->id, 0);
	struct compose *c = deskmail_compose(m);
	compose_set_reply_to(c, NULL, reply_to);
	free(reply_to);
	compose_set_text(c, mail.text, strlen(mail.text));
	compose_set_html(c, mail.html, strlen(mail.html));
	ack_mail_clear(&mail);

	struct deskmail_result res = { 0 };
	const char *not_sent = NULL;
	int ret = deskmail_queue(s->dm, &m, &res, &not_sent, error_r);
	if (ret == 1)
		ret = store_survey_sent(s->store, t->id, t->customer_address, res.outbox_id, now,
					error_r);
	if (ret == 0 && res.outbox_id != 0)
		ret = event(s, t->id, "survey", error_r, "survey sent to %s (outbox %lld)",
			    t->customer_address, (long long)res.outbox_id);
	deskmail_result_clear(&res);
	deskmail_msg_free(&m);
	return ret;
}

static int
is_closed(const char *status)
{
	return status != NULL && (strcmp(status, "closed") == 0 || strcmp(status, "solved") == 0);
}

/* The close's timer (STORE_TIMER_CLOSED) was taken: survey the ticket if
   it is still closed. */
static int
closed(struct survey *s, int64_t ticket_id, int64_t now, const char **error_r)
{
	if (!s->config->survey.enabled)
		return 0;
	struct store_ticket *t = NULL;
	int ret = store_ticket_get(s->store, ticket_id, &t, error_r);
	if (ret <= 0)
		return ret;
	ret = is_closed(t->status) ? send_survey(s, t, now, error_r) : 0;
	store_ticket_free(&t);
	return ret;
}

int
survey_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct survey *s = context;
	/* Closed while this mail was stored (an agent's #close, #solved...):
	   the survey goes now, after the agent's answer, in the same
	   transaction; the scheduler need not see the close. */
	struct store_timer *timer = NULL;
	int ret = store_timer_get(s->store, STORE_TIMER_CLOSED, ev->ticket_id, NULL, &timer,
				  error_r);
	store_timer_free(&timer);
	if (ret <= 0)
		return ret;
	if ((ret = store_timer_cancel(s->store, STORE_TIMER_CLOSED, ev->ticket_id, NULL,
				      error_r)) < 0)
		return ret;
	return closed(s, ev->ticket_id, ev->now, error_r);
}

static int
survey_timer(void *context, struct store *store, const struct store_timer *timer, int64_t now,
	     const char **error_r)
{
	(void)store;
	return closed(context, timer->ticket_id, now, error_r);
}

void
survey_register(struct survey *s, struct schedule *schedule)
{
	schedule_register(schedule, STORE_TIMER_CLOSED, survey_timer, s);
}

size_t
survey_templates_check(const struct config *config, const char *dir, FILE *out,
		       size_t *n_files_r)
{
	struct ack_templates *t = ack_templates_new(config, dir);
	size_t problems = 0, files = 0;
	for (size_t i = 0; i < N_ELEMENTS(langs); i++) {
		struct tmpl_value *data = survey_data(NULL, 1042, "Withdrawal not received",
						      "Li Wei", langs[i].lang);
		struct ack_mail mail;
		const char *error;
		if (ack_render_in(t, "survey", "request", langs[i].lang, data, &mail, &error) < 0) {
			fprintf(out, "%s\n", error);
			problems++;
		} else {
			char *want = xasprintf("/survey/request.%s.txt", langs[i].lang);
			size_t wl = strlen(want), pl = strlen(mail.template);
			if (pl < wl || strcmp(mail.template + pl - wl, want) != 0)
				fprintf(out, "note: survey request.%s falls back to %s\n",
					langs[i].lang, mail.template);
			else
				files++;
			/* the choices must be there: a survey without them is no survey */
			for (int score = VOTE_MIN; score <= VOTE_MAX; score++) {
				char needle[48];
				snprintf(needle, sizeof(needle), "support+v1042-%d-SAMPLE", score);
				if (strstr(mail.text, needle) == NULL) {
					fprintf(out, "%s: the text has no link for score %d "
						     "({{vote.s%d}})\n", mail.template, score, score);
					problems++;
				}
			}
			free(want);
			ack_mail_clear(&mail);
		}
		tmpl_value_free(&data);
	}
	ack_templates_free(&t);
	if (n_files_r != NULL)
		*n_files_r = files;
	return problems;
}

/* ---- receiving ---------------------------------------------------------------------- */

/* The first vote address among the recipients: 1 valid, -1 forged (why
   in *error_r), 0 none. */
static int
find_vote_address(const struct survey *s, const struct mime_message *msg, int64_t *ticket_r,
		  int *score_r, const char **why_r)
{
	const struct mime_address_list *lists[2] = { &msg->to, &msg->cc };
	int forged = 0;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			int r = thread_vote_address_parse(s->tc, lists[l]->items[i].address, ticket_r,
							  score_r, why_r);
			if (r == 1)
				return 1;
			forged |= r < 0;
		}
	}
	const char *delivered = mime_header_get(msg, "Delivered-To");
	if (delivered != NULL) {
		int r = thread_vote_address_parse(s->tc, delivered, ticket_r, score_r, why_r);
		if (r != 0)
			return r;
	}
	return forged ? -1 : 0;
}

/* Tell the assignee of a low score, or of a comment that reopened the
   ticket. */
static int
notify_low_score(struct survey *s, int64_t ticket_id, int score, const char *comment,
		 int reopened, int64_t now, const char **error_r)
{
	struct store_ticket *t = NULL;
	int ret = store_ticket_get(s->store, ticket_id, &t, error_r);
	if (ret <= 0 || t->assignee == NULL) {
		store_ticket_free(&t);
		return ret < 0 ? ret : 0;
	}
	/* kind "survey", like the survey itself: a notice about a vote is
	   counted, listed and retried with the survey mail, not with the
	   SLA and desk notices */
	struct deskmail_msg *m = deskmail_start(s->dm, ticket_id, "survey", DESKMAIL_REPLY_AGENT,
						"auto-generated", now);
	deskmail_add_to(m, NULL, t->assignee);
	deskmail_subject(m, reopened ? "Reopened by a survey comment: " : "Low satisfaction score: ",
			 t->subject);
	char *body = xasprintf("The customer %s rated ticket #%lld %d of 5.%s\n\n%s%s\n",
			       t->customer_address != NULL ? t->customer_address : "",
			       (long long)ticket_id, score,
			       reopened ? " The comment reads as a new problem: the ticket is open "
					  "again." : "",
			       comment != NULL ? "Comment:\n\n" : "", comment != NULL ? comment : "");
	compose_set_text(deskmail_compose(m), body, strlen(body));
	free(body);
	struct deskmail_result res = { 0 };
	const char *not_sent = NULL;
	ret = deskmail_queue(s->dm, &m, &res, &not_sent, error_r);
	deskmail_result_clear(&res);
	deskmail_msg_free(&m);
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

/* The customer's new text (quotes and signature stripped), bounded. */
static char *
new_text(const struct mime_message *msg)
{
	struct quote_result q;
	const char *ignored;
	if (quote_strip(msg->text, msg->text_len, 0, &q, &ignored) < 0)
		return xstrndup(msg->text, msg->text_len < SURVEY_MAX_COMMENT ? msg->text_len
									    : SURVEY_MAX_COMMENT);
	if (q.len > SURVEY_MAX_COMMENT)
		q.text[utf8_truncate_len(q.text, SURVEY_MAX_COMMENT)] = '\0';
	return q.text;
}

int
survey_is_vote(const struct survey *s, const struct mime_message *msg)
{
	int64_t ticket = 0;
	int score = 0;
	const char *why = NULL;
	return find_vote_address(s, msg, &ticket, &score, &why) != 0;
}

/* Does the comment read as a new problem: the rules gave the vote's text a
   category of its own, or it asks or complains in words (vote.h)? */
static int
reads_as_problem(const struct survey *s, const char *comment, const char *category)
{
	if (!s->config->survey.reopen_on_problem || comment == NULL)
		return 0;
	if (category != NULL && *category != '\0') {
		struct rules_options o;
		rules_options_from_config(&o, s->config);
		const char *def = o.default_category != NULL ? o.default_category : "other";
		if (strcasecmp(category, def) != 0 && strcasecmp(category, "other") != 0 &&
		    strcasecmp(category, "spam") != 0)
			return 1;
	}
	return vote_reads_as_problem(comment, strlen(comment));
}

/* A comment that reads as a new problem: the closed ticket is open again
   (an event "reopened", as a customer's reply to a closed ticket writes),
   and its SLA clocks follow as they do for that reply: the customer's
   mail at now resumes them, a new resolution clock runs and the next
   response starts (sla_sync_store(), the pipeline's "sla" step). */
static int
reopen(struct survey *s, int64_t ticket_id, const char *from, int64_t now,
       const char **error_r)
{
	struct store_ticket *t = NULL;
	int ret = store_ticket_get(s->store, ticket_id, &t, error_r);
	if (ret > 0 && is_closed(t->status)) {
		ret = store_ticket_set(s->store, ticket_id, "status", "open", error_r);
		if (ret >= 0)
			ret = event(s, ticket_id, "reopened",
				    error_r, "reopened by the survey comment of %s: it reads as a "
				    "new problem ([survey] reopen_on_problem)", from);
		if (ret >= 0 && s->sla != NULL) {
			struct sla_happening what = { .customer_mail = now,
						      .why = "survey comment" };
			ret = sla_sync_store(s->sla, s->store, ticket_id, &what, now, error_r);
		}
		if (ret >= 0)
			ret = 1;
	}
	store_ticket_free(&t);
	return ret;
}

int
survey_take_vote(struct survey *s, const struct mime_message *msg, const char *category,
		 int64_t now, int64_t *ticket_id_r, char *reason, size_t reason_size,
		 const char **error_r)
{
	int64_t ticket = 0;
	int score = 0;
	const char *why = NULL;
	*ticket_id_r = 0;
	int r = find_vote_address(s, msg, &ticket, &score, &why);
	if (r == 0)
		return SURVEY_NOT_A_VOTE;
	const char *from = msg->from.address;
	if (r < 0) {
		snprintf(reason, reason_size, "survey vote refused: %s", why);
		return SURVEY_REFUSED;
	}
	*ticket_id_r = ticket;
	char *text = new_text(msg);
	struct vote v;
	int read = vote_parse(text, strlen(text), &v);
	if (score == 0 && read == 0) {
		/* A reply to the survey without a score: mail about the ticket. */
		free(text);
		*ticket_id_r = 0;
		return SURVEY_NOT_A_VOTE;
	}
	if (score == 0)
		score = read;
	const char *role = NULL;
	int ret = from != NULL ? store_participant_find(s->store, ticket, from, &role, error_r) : 0;
	if (ret < 0) {
		free(text);
		return ret;
	}
	if (ret == 0 || strcmp(role, "agent") == 0) {
		snprintf(reason, reason_size, "survey vote refused: %s is not the ticket's customer",
			 from != NULL ? from : "<>");
		free(text);
		return (ret = event(s, ticket, "survey", error_r, "%s", reason)) < 0 ? ret
										    : SURVEY_REFUSED;
	}
	/* The comment: what follows the score, or all the text of a vote by
	   link (whose score is in the address). */
	char *comment = NULL;
	if (v.comment_len > 0)
		comment = xstrndup(text + v.comment_start, v.comment_len);
	free(text);
	ret = store_survey_vote(s->store, ticket, score, comment, now, error_r);
	if (ret == 0) {
		snprintf(reason, reason_size, "survey vote refused: no survey was sent for ticket %lld",
			 (long long)ticket);
		free(comment);
		return (ret = event(s, ticket, "survey", error_r, "%s", reason)) < 0 ? ret
										    : SURVEY_REFUSED;
	}
	if (ret > 0)
		ret = event(s, ticket, "survey", error_r, "vote %d by %s%s%s", score, from,
			    comment != NULL ? ": " : "", comment != NULL ? comment : "");
	int reopened = 0;
	if (ret == 0 && reads_as_problem(s, comment, category))
		ret = reopened = reopen(s, ticket, from, now, error_r);
	if (ret >= 0 && (reopened > 0 || (s->config->survey.low_score > 0 &&
					  (uint64_t)score <= s->config->survey.low_score)))
		ret = notify_low_score(s, ticket, score, comment, reopened > 0, now, error_r);
	free(comment);
	if (ret < 0)
		return ret;
	snprintf(reason, reason_size, "survey vote %d recorded for ticket %lld%s", score,
		 (long long)ticket, reopened > 0 ? ", reopened: the comment reads as a new problem" : "");
	return SURVEY_VOTED;
}
