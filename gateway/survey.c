/*
 * survey: satisfaction surveys by mail (see survey.h).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hook.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
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
};

/* The survey mail in the desk's languages: the choices from 5 down to 1. */
struct survey_text {
	const char *lang;
	const char *subject;
	const char *intro;   /* before the ticket's subject */
	const char *closed;  /* after it */
	const char *how;     /* how the links work */
	const char *reply;   /* a plain reply works too */
	const char *choices[5];
};

static const struct survey_text texts[] = {
	{ "en", "How did we do?", "Your request", "is closed. How did we do?",
	  "Choose one answer: your mail program opens a prepared message; send it and your "
	  "answer is recorded.",
	  "You can also simply reply with a number from 1 to 5, and a comment if you like.",
	  { "Excellent", "Good", "OK", "Poor", "Very poor" } },
	{ "zh-CN", "\xe6\x88\x91\xe4\xbb\xac\xe7\x9a\x84\xe6\x9c\x8d\xe5\x8a\xa1\xe6\x80\x8e\xe4"
		   "\xb9\x88\xe6\xa0\xb7\xef\xbc\x9f", /* 我们的服务怎么样？ */
	  "\xe6\x82\xa8\xe7\x9a\x84\xe8\xaf\xb7\xe6\xb1\x82", /* 您的请求 */
	  "\xe5\xb7\xb2\xe5\xa4\x84\xe7\x90\x86\xe5\xae\x8c\xe6\xaf\x95\xe3\x80\x82", /* 已处理完毕。 */
	  "\xe8\xaf\xb7\xe9\x80\x89\xe6\x8b\xa9\xe4\xb8\x80\xe4\xb8\xaa\xe8\xaf\x84\xe4\xbb\xb7\xef"
	  "\xbc\x9a\xe6\x82\xa8\xe7\x9a\x84\xe9\x82\xae\xe4\xbb\xb6\xe7\xa8\x8b\xe5\xba\x8f\xe4\xbc"
	  "\x9a\xe6\x89\x93\xe5\xbc\x80\xe4\xb8\x80\xe5\xb0\x81\xe5\xb7\xb2\xe5\x86\x99\xe5\xa5\xbd"
	  "\xe7\x9a\x84\xe9\x82\xae\xe4\xbb\xb6\xef\xbc\x8c\xe5\x8f\x91\xe9\x80\x81\xe5\x8d\xb3\xe5"
	  "\x8f\xaf\xe3\x80\x82", /* 请选择一个评价：您的邮件程序会打开一封已写好的邮件，发送即可。 */
	  "\xe6\x82\xa8\xe4\xb9\x9f\xe5\x8f\xaf\xe4\xbb\xa5\xe7\x9b\xb4\xe6\x8e\xa5\xe5\x9b\x9e\xe5"
	  "\xa4\x8d 1 \xe5\x88\xb0 5 \xe7\x9a\x84\xe6\x95\xb0\xe5\xad\x97\xef\xbc\x8c\xe5\xb9\xb6"
	  "\xe9\x99\x84\xe4\xb8\x8a\xe6\x82\xa8\xe7\x9a\x84\xe6\x84\x8f\xe8\xa7\x81\xe3\x80\x82",
	  /* 您也可以直接回复 1 到 5 的数字，并附上您的意见。 */
	  { "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xa1\xe6\x84\x8f", "\xe6\xbb\xa1\xe6\x84\x8f",
	    "\xe4\xb8\x80\xe8\x88\xac", "\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f",
	    "\xe9\x9d\x9e\xe5\xb8\xb8\xe4\xb8\x8d\xe6\xbb\xa1\xe6\x84\x8f" } },
	{ "zh-TW", "\xe6\x88\x91\xe5\x80\x91\xe7\x9a\x84\xe6\x9c\x8d\xe5\x8b\x99\xe6\x80\x8e\xe9"
		   "\xba\xbc\xe6\xa8\xa3\xef\xbc\x9f", /* 我們的服務怎麼樣？ */
	  "\xe6\x82\xa8\xe7\x9a\x84\xe8\xab\x8b\xe6\xb1\x82", /* 您的請求 */
	  "\xe5\xb7\xb2\xe8\x99\x95\xe7\x90\x86\xe5\xae\x8c\xe7\x95\xa2\xe3\x80\x82", /* 已處理完畢。 */
	  "\xe8\xab\x8b\xe9\x81\xb8\xe6\x93\x87\xe4\xb8\x80\xe5\x80\x8b\xe8\xa9\x95\xe5\x83\xb9\xef"
	  "\xbc\x9a\xe6\x82\xa8\xe7\x9a\x84\xe9\x83\xb5\xe4\xbb\xb6\xe7\xa8\x8b\xe5\xbc\x8f\xe6\x9c"
	  "\x83\xe6\x89\x93\xe9\x96\x8b\xe4\xb8\x80\xe5\xb0\x81\xe5\xb7\xb2\xe5\xaf\xab\xe5\xa5\xbd"
	  "\xe7\x9a\x84\xe9\x83\xb5\xe4\xbb\xb6\xef\xbc\x8c\xe5\x82\xb3\xe9\x80\x81\xe5\x8d\xb3\xe5"
	  "\x8f\xaf\xe3\x80\x82", /* 請選擇一個評價：您的郵件程式會打開一封已寫好的郵件，傳送即可。 */
	  "\xe6\x82\xa8\xe4\xb9\x9f\xe5\x8f\xaf\xe4\xbb\xa5\xe7\x9b\xb4\xe6\x8e\xa5\xe5\x9b\x9e\xe8"
	  "\xa6\x86 1 \xe5\x88\xb0 5 \xe7\x9a\x84\xe6\x95\xb8\xe5\xad\x97\xef\xbc\x8c\xe4\xb8\xa6"
	  "\xe9\x99\x84\xe4\xb8\x8a\xe6\x82\xa8\xe7\x9a\x84\xe6\x84\x8f\xe8\xa6\x8b\xe3\x80\x82",
	  /* 您也可以直接回覆 1 到 5 的數字，並附上您的意見。 */
	  { "\xe9\x9d\x9e\xe5\xb8\xb8\xe6\xbb\xbf\xe6\x84\x8f", "\xe6\xbb\xbf\xe6\x84\x8f",
	    "\xe6\x99\xae\xe9\x80\x9a", "\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f",
	    "\xe9\x9d\x9e\xe5\xb8\xb8\xe4\xb8\x8d\xe6\xbb\xbf\xe6\x84\x8f" } },
	{ "fr", "Votre avis sur notre r\xc3\xa9ponse", "Votre demande",
	  "est close. Comment avons-nous r\xc3\xa9pondu ?",
	  "Choisissez une r\xc3\xa9ponse : votre messagerie ouvre un message pr\xc3\xaat ; "
	  "envoyez-le et votre avis est enregistr\xc3\xa9.",
	  "Vous pouvez aussi r\xc3\xa9pondre simplement par un chiffre de 1 \xc3\xa0 5, avec un "
	  "commentaire si vous le souhaitez.",
	  { "Excellent", "Bien", "Correct", "Mauvais", "Tr\xc3\xa8s mauvais" } },
	{ "de", "Wie zufrieden sind Sie?", "Ihre Anfrage",
	  "ist abgeschlossen. Wie zufrieden waren Sie?",
	  "W\xc3\xa4hlen Sie eine Antwort: Ihr Mailprogramm \xc3\xb6\x66\x66net eine vorbereitete "
	  "Nachricht; senden Sie sie ab, und Ihre Antwort ist erfasst.",
	  "Sie k\xc3\xb6nnen auch einfach mit einer Zahl von 1 bis 5 antworten, gern mit einem "
	  "Kommentar.",
	  { "Sehr gut", "Gut", "Geht so", "Schlecht", "Sehr schlecht" } },
};

static const struct survey_text *
text_for(const char *language)
{
	if (language != NULL) {
		for (size_t i = 0; i < N_ELEMENTS(texts); i++)
			if (strcasecmp(language, texts[i].lang) == 0)
				return &texts[i];
		/* zh-Hant, zh-HK: traditional; other zh: simplified */
		if (strncasecmp(language, "zh", 2) == 0)
			return strcasestr(language, "hant") != NULL || strcasestr(language, "tw") != NULL ||
					       strcasestr(language, "hk") != NULL
				       ? &texts[2]
				       : &texts[1];
		for (size_t i = 0; i < N_ELEMENTS(texts); i++)
			if (strncasecmp(language, texts[i].lang, 2) == 0)
				return &texts[i];
	}
	return &texts[0];
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
	return s;
}

void
survey_free(struct survey **surveyp)
{
	free(*surveyp);
	*surveyp = NULL;
}

#define event(s, ticket_id, kind, error_r, ...) \
	store_event_addf((s)->store, ticket_id, kind, error_r, __VA_ARGS__)

/* ---- sending ------------------------------------------------------------------------ */

/* Text into HTML (the five characters that matter). */
static void
html_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, (unsigned char)*s);
		}
	}
}

static void
stars(struct buf *b, int score)
{
	for (int k = 1; k <= 5; k++)
		buf_puts(b, k <= score ? "\xe2\x98\x85" : "\xe2\x98\x86");
}

/* Write the text and HTML bodies: the choices as mailto: links to the
   vote addresses (subject: the score, so the prepared mail says it). */
static void
bodies(const struct survey *s, const struct store_ticket *t, const struct survey_text *x,
       struct buf *text, struct buf *html)
{
	const char *subject = t->subject != NULL && *t->subject != '\0' ? t->subject : "-";
	buf_printf(text, "%s \"%s\" (#%lld) %s\n\n%s\n\n", x->intro, subject, (long long)t->id,
		   x->closed, x->how);
	buf_puts(html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>"
		       "<body style=\"font-family:sans-serif;color:#1f2937\"><p>");
	html_escape(html, x->intro);
	buf_puts(html, " \xe2\x80\x9c");
	html_escape(html, subject);
	buf_printf(html, "\xe2\x80\x9d (#%lld) ", (long long)t->id);
	html_escape(html, x->closed);
	buf_puts(html, "</p><p>");
	html_escape(html, x->how);
	buf_puts(html, "</p><table cellpadding=\"6\">");
	for (int score = VOTE_MAX; score >= VOTE_MIN; score--) {
		char *addr = thread_vote_address(s->tc, t->id, score);
		const char *label = x->choices[VOTE_MAX - score];
		buf_puts(text, "  ");
		stars(text, score);
		buf_printf(text, "  %s  <mailto:%s?subject=%d>\n", label, addr, score);
		buf_printf(html, "<tr><td style=\"color:#f59e0b;font-size:20px\">");
		stars(html, score);
		buf_printf(html, "</td><td><a href=\"mailto:%s?subject=%d\" style=\"font-size:16px\">",
			   addr, score);
		html_escape(html, label);
		buf_puts(html, "</a></td></tr>");
		free(addr);
	}
	buf_printf(text, "\n%s\n", x->reply);
	buf_puts(html, "</table><p>");
	html_escape(html, x->reply);
	buf_puts(html, "</p></body></html>\n");
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

	const struct survey_text *x = text_for(t->language);
	struct deskmail_msg *m = deskmail_start(s->dm, t->id, "notice", DESKMAIL_REPLY_NONE,
						"auto-generated", now);
	deskmail_add_to(m, t->customer_name, t->customer_address);
	char *subject = xasprintf("%s #%lld", x->subject, (long long)t->id);
	deskmail_subject_as_is(m, subject);
	free(subject);
	char *reply_to = thread_vote_address(s->tc, t->id, 0);
	struct compose *c = deskmail_compose(m);
	compose_set_reply_to(c, NULL, reply_to);
	free(reply_to);
	struct buf text, html;
	buf_init(&text, 64 * 1024);
	buf_init(&html, 64 * 1024);
	bodies(s, t, x, &text, &html);
	compose_set_text(c, buf_cstr(&text), text.len);
	compose_set_html(c, buf_cstr(&html), html.len);
	buf_free(&text);
	buf_free(&html);

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
	struct deskmail_msg *m = deskmail_start(s->dm, ticket_id, "notice", DESKMAIL_REPLY_AGENT,
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
   (an event "reopened", as a customer's reply to a closed ticket writes). */
static int
reopen(struct survey *s, int64_t ticket_id, const char *from, const char **error_r)
{
	struct store_ticket *t = NULL;
	int ret = store_ticket_get(s->store, ticket_id, &t, error_r);
	if (ret > 0 && is_closed(t->status)) {
		ret = store_ticket_set(s->store, ticket_id, "status", "open", error_r);
		if (ret >= 0)
			ret = event(s, ticket_id, "reopened",
				    error_r, "reopened by the survey comment of %s: it reads as a "
				    "new problem ([survey] reopen_on_problem)", from);
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
		ret = reopened = reopen(s, ticket, from, error_r);
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
