/*
 * rules-eval: classifying one message with loaded rules (rules.h): the
 * inputs (a text, or a parsed message), the values of each target, the
 * walk over every rule's conditions with the prefilter in front of each
 * pattern, how fired rules combine into a result (the contract written in
 * rules.h and deskgate-rules(5)), and freeing and summarising results.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/rules-int.h"
#include "parsers/amount.h"
#include "parsers/mime.h"
#include "parsers/quote.h"

/* ---- input -------------------------------------------------------------- */

void
rules_input_text(struct rules_input *input, const char *subject, const char *body)
{
	memset(input, 0, sizeof(*input));
	input->subject = subject;
	input->body = body;
	input->body_len = body != NULL ? strlen(body) : 0;
}

struct input_priv {
	const char **to;
	const char **cc;
	struct rules_header *headers;
	struct rules_attachment *attachments;
};

static const char **
address_array(const struct mime_address_list *list, size_t *n_r)
{
	const char **v = xcalloc(list->count + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].address != NULL)
			v[n++] = list->items[i].address;
	*n_r = n;
	return v;
}

struct rules_input *
rules_input_from_mime(const struct mime_message *msg, const char *mailbox)
{
	struct rules_input *in = xcalloc(1, sizeof(*in));
	struct input_priv *priv = xcalloc(1, sizeof(*priv));
	in->priv = priv;
	in->subject = msg->subject;
	in->body = msg->text;
	in->body_len = msg->text != NULL ? msg->text_len : 0;
	in->from = msg->from.address;
	priv->to = address_array(&msg->to, &in->n_to);
	in->to = priv->to;
	priv->cc = address_array(&msg->cc, &in->n_cc);
	in->cc = priv->cc;
	priv->headers = xcalloc(msg->n_headers + 1, sizeof(*priv->headers));
	for (size_t i = 0; i < msg->n_headers; i++) {
		priv->headers[i].name = msg->headers[i].name;
		priv->headers[i].value = msg->headers[i].value;
	}
	in->headers = priv->headers;
	in->n_headers = msg->n_headers;
	priv->attachments = xcalloc(msg->n_attachments + 1, sizeof(*priv->attachments));
	for (size_t i = 0; i < msg->n_attachments; i++) {
		priv->attachments[i].filename = msg->attachments[i].filename;
		priv->attachments[i].content_type = msg->attachments[i].content_type;
	}
	in->attachments = priv->attachments;
	in->n_attachments = msg->n_attachments;
	in->mailbox = mailbox;
	return in;
}

void
rules_input_free(struct rules_input **inputp)
{
	struct rules_input *in = *inputp;
	if (in == NULL)
		return;
	struct input_priv *priv = in->priv;
	if (priv != NULL) {
		free(priv->to);
		free(priv->cc);
		free(priv->headers);
		free(priv->attachments);
		free(priv);
	}
	free(in);
	*inputp = NULL;
}

/* ---- evaluation ---------------------------------------------------------- */

struct eval {
	struct rules *rules;
	const struct rules_input *in;
	const struct rule *rule;
	struct rules_result *res;
	char *noquote; /* body without quotes, built on first use */
	size_t noquote_len;
	int have_noquote;
	char *text;    /* subject "\n" body, built on first use */
	size_t text_len;
	int have_text;
	/* matches of the rule being evaluated */
	struct rules_match *matches;
	size_t n_matches, cap_matches;
	/* prefilter strings found in subject, body, body-full, text */
	unsigned char *found[4];
	/* while a context block is evaluated: the value and the match */
	const char *ctx_s;
	size_t ctx_len, ctx_start, ctx_end;
};

static void
match_clear(struct rules_match *m)
{
	free(m->target);
	free(m->text);
	free(m->before);
	free(m->after);
	for (size_t i = 0; i < m->n_captures; i++) {
		free(m->captures[i].name);
		free(m->captures[i].value);
	}
	free(m->captures);
}

static void
matches_truncate(struct eval *ev, size_t n)
{
	while (ev->n_matches > n)
		match_clear(&ev->matches[--ev->n_matches]);
}

static const char *
body_view(struct eval *ev, size_t *len_r)
{
	const char *body = ev->in->body != NULL ? ev->in->body : "";
	size_t len = ev->in->body != NULL ? ev->in->body_len : 0;
	if (!ev->rules->exclude_quotes) {
		*len_r = len;
		return body;
	}
	if (ev->in->body_new != NULL) {
		*len_r = ev->in->body_new_len;
		return ev->in->body_new;
	}
	if (!ev->have_noquote) {
		/* Quoted history and signature out (parsers/quote.h); a text
		   quote_strip() refuses is matched whole. */
		struct quote_result q;
		const char *ignored;
		if (quote_strip(body, len, 0, &q, &ignored) == 0) {
			ev->noquote = q.text;
			ev->noquote_len = q.len;
		} else {
			ev->noquote = xstrndup(body, len);
			ev->noquote_len = len;
		}
		ev->have_noquote = 1;
	}
	*len_r = ev->noquote_len;
	return ev->noquote;
}

static const char *
text_view(struct eval *ev, size_t *len_r)
{
	if (!ev->have_text) {
		size_t blen;
		const char *body = body_view(ev, &blen);
		const char *subject = ev->in->subject != NULL ? ev->in->subject : "";
		size_t slen = strlen(subject);
		ev->text = xmalloc(slen + 1 + blen + 1);
		memcpy(ev->text, subject, slen);
		ev->text[slen] = '\n';
		memcpy(ev->text + slen + 1, body, blen);
		ev->text[slen + 1 + blen] = '\0';
		ev->text_len = slen + 1 + blen;
		ev->have_text = 1;
	}
	*len_r = ev->text_len;
	return ev->text;
}

/* How many values a target has (some may be skipped by target_value()). */
static size_t
target_count(const struct eval *ev, const struct target *t)
{
	switch (t->kind) {
	case T_TO:
		return ev->in->n_to;
	case T_CC:
		return ev->in->n_cc;
	case T_HEADER:
		return ev->in->n_headers;
	case T_ATTACHMENT_NAME:
	case T_ATTACHMENT_TYPE:
		return ev->in->n_attachments;
	case T_AROUND:
		return 2; /* the window before, then the one after */
	default:
		return 1;
	}
}

/* The width characters of s before byte offset at (backward) or from it
   (forward): the window's other end. */
static size_t
window_end(const char *s, size_t len, size_t at, unsigned int width, int backward)
{
	for (unsigned int n = 0; n < width; n++) {
		if (backward ? at == 0 : at >= len)
			break;
		do
			at += backward ? (size_t)-1 : 1;
		while ((backward ? at > 0 : at < len) && ((unsigned char)s[at] & 0xc0) == 0x80);
	}
	return at;
}

/* The i-th value of a target, or NULL when absent. */
static const char *
target_value(struct eval *ev, const struct target *t, size_t i, size_t *len_r)
{
	const char *s = NULL;
	switch (t->kind) {
	case T_SUBJECT:
		s = ev->in->subject != NULL ? ev->in->subject : "";
		break;
	case T_BODY:
		return body_view(ev, len_r);
	case T_BODY_FULL:
		*len_r = ev->in->body != NULL ? ev->in->body_len : 0;
		return ev->in->body != NULL ? ev->in->body : "";
	case T_TEXT:
		return text_view(ev, len_r);
	case T_FROM:
		s = ev->in->from;
		break;
	case T_TO:
		s = ev->in->to[i];
		break;
	case T_CC:
		s = ev->in->cc[i];
		break;
	case T_HEADER:
		if (ev->in->headers[i].name != NULL && strcasecmp(ev->in->headers[i].name, t->header) == 0)
			s = ev->in->headers[i].value != NULL ? ev->in->headers[i].value : "";
		break;
	case T_ATTACHMENT_NAME:
		s = ev->in->attachments[i].filename;
		break;
	case T_ATTACHMENT_TYPE:
		s = ev->in->attachments[i].content_type;
		break;
	case T_MAILBOX:
		s = ev->in->mailbox;
		break;
	case T_BEFORE:
	case T_AFTER:
	case T_AROUND: {
		/* A window of the value whose match is being judged; it is
		   matched as a string of its own. */
		size_t from, to;
		if (t->kind == T_BEFORE || (t->kind == T_AROUND && i == 0)) {
			to = ev->ctx_start;
			from = window_end(ev->ctx_s, ev->ctx_len, to, t->width, 1);
		} else {
			from = ev->ctx_end;
			to = window_end(ev->ctx_s, ev->ctx_len, from, t->width, 0);
		}
		*len_r = to - from;
		return ev->ctx_s + from;
	}
	}
	if (s != NULL)
		*len_r = strlen(s);
	return s;
}

static void
limit_hit(struct eval *ev, const struct target *t, const char *why)
{
	struct rules_result *res = ev->res;
	for (size_t i = 0; i < res->n_limit_hits; i++)
		if (strcmp(res->limit_hits[i].rule, ev->rule->name) == 0 &&
		    strcmp(res->limit_hits[i].target, t->label) == 0)
			return;
	res->limit_hits = xreallocarray(res->limit_hits, res->n_limit_hits + 1,
					sizeof(*res->limit_hits));
	struct rules_limit_hit *h = &res->limit_hits[res->n_limit_hits++];
	h->rule = xstrdup(ev->rule->name);
	h->target = xstrdup(t->label);
	h->why = xstrdup(why);
}

/* A copy of s[start..end) cut to at most max bytes on character
   boundaries: from the end when keep_end, else from the start. */
static char *
snippet(const char *s, size_t start, size_t end, size_t max, int keep_end)
{
	if (end - start > max) {
		if (keep_end) {
			start = end - max;
			while (start < end && ((unsigned char)s[start] & 0xc0) == 0x80)
				start++;
		} else {
			end = start + utf8_truncate_len(s + start, max);
		}
	}
	return xstrndup(s + start, end - start);
}

static void
record_match(struct eval *ev, const struct target *t, const struct pattern *pat, const char *s,
	     size_t len)
{
	const struct rx_matcher *mt = ev->rules->matcher;
	size_t start, end;
	rx_span(mt, &start, &end);
	if (ev->n_matches == ev->cap_matches) {
		ev->cap_matches = ev->cap_matches ? ev->cap_matches * 2 : 4;
		ev->matches = xreallocarray(ev->matches, ev->cap_matches, sizeof(*ev->matches));
	}
	struct rules_match *m = &ev->matches[ev->n_matches++];
	memset(m, 0, sizeof(*m));
	m->target = xstrdup(t->label);
	m->text = snippet(s, start, end, RULES_SNIPPET_MAX, 0);
	m->before = snippet(s, start > RULES_CONTEXT_MAX ? start - RULES_CONTEXT_MAX : 0, start,
			    RULES_CONTEXT_MAX, 1);
	/* The context must not begin inside a character. */
	size_t skip = 0;
	while (m->before[skip] != '\0' && ((unsigned char)m->before[skip] & 0xc0) == 0x80)
		skip++;
	if (skip > 0)
		memmove(m->before, m->before + skip, strlen(m->before + skip) + 1);
	m->after = snippet(s, end, len, RULES_CONTEXT_MAX, 0);

	size_t count = rx_names(pat->rx);
	for (size_t i = 0; i < count; i++) {
		const char *name;
		size_t gs, ge;
		if (!rx_named(mt, pat->rx, i, &name, &gs, &ge))
			continue;
		/* Duplicate names ((?J)): keep the first that took part. */
		int seen = 0;
		for (size_t k = 0; k < m->n_captures; k++)
			if (strcmp(m->captures[k].name, name) == 0)
				seen = 1;
		if (seen)
			continue;
		m->captures = xreallocarray(m->captures, m->n_captures + 1, sizeof(*m->captures));
		m->captures[m->n_captures].name = xstrdup(name);
		m->captures[m->n_captures].value = snippet(s, gs, ge, RULES_SNIPPET_MAX, 0);
		m->n_captures++;
	}
}

/* 0 when the prefilter proves that pat cannot match the value s of
   target t; 1 when the pattern must run. */
static int
prefilter_pass(struct eval *ev, const struct pattern *pat, const struct target *t, const char *s,
	       size_t len)
{
	int slot;
	switch (t->kind) {
	case T_SUBJECT:
		slot = 0;
		break;
	case T_BODY:
		slot = 1;
		break;
	case T_BODY_FULL:
		slot = 2;
		break;
	case T_TEXT:
		slot = 3;
		break;
	default:
		return 1; /* short values: not worth it */
	}
	if (pat->n_pf == 0)
		return 1;
	if (ev->found[slot] == NULL)
		ev->found[slot] = prefilter_scan(ev->rules, s, len);
	return prefilter_admits(pat, ev->found[slot]);
}

static int eval_cond(struct eval *ev, struct cond *c);

/* Whether the context block of c holds around the match s[start..end). */
static int
context_holds(struct eval *ev, struct cond *c, const char *s, size_t len, size_t start, size_t end)
{
	const char *saved_s = ev->ctx_s;
	size_t saved[3] = { ev->ctx_len, ev->ctx_start, ev->ctx_end };
	size_t mark = ev->n_matches;
	ev->ctx_s = s;
	ev->ctx_len = len;
	ev->ctx_start = start;
	ev->ctx_end = end;
	int ok = 1;
	for (size_t k = 0; k < c->n_kids && ok; k++)
		ok = eval_cond(ev, c->kids[k]);
	matches_truncate(ev, mark); /* what the context matched is not recorded */
	ev->ctx_s = saved_s;
	ev->ctx_len = saved[0];
	ev->ctx_start = saved[1];
	ev->ctx_end = saved[2];
	return ok;
}

static int
eval_match(struct eval *ev, struct cond *c)
{
	for (size_t ti = 0; ti < c->n_targets; ti++) {
		const struct target *t = &c->targets[ti];
		size_t n = target_count(ev, t);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			const char *s = target_value(ev, t, i, &len);
			if (s == NULL || !prefilter_pass(ev, &c->pat, t, s, len))
				continue;
			/* Every match in turn until one whose context holds. */
			size_t from = 0;
			for (;;) {
				const char *why;
				int rc = rx_match(ev->rules->matcher, c->pat.rx, s, len, from, &why);
				if (rc < 0)
					limit_hit(ev, t, why);
				if (rc <= 0)
					break;
				size_t start, end;
				rx_span(ev->rules->matcher, &start, &end);
				record_match(ev, t, &c->pat, s, len);
				if (c->n_kids == 0 || context_holds(ev, c, s, len, start, end))
					return 1;
				matches_truncate(ev, ev->n_matches - 1);
				from = end > start ? end : window_end(s, len, start, 1, 0);
				if (end == start && start >= len)
					break;
			}
		}
	}
	return 0;
}

static int
eval_exists(struct eval *ev, const struct cond *c)
{
	for (size_t ti = 0; ti < c->n_targets; ti++) {
		const struct target *t = &c->targets[ti];
		size_t n = target_count(ev, t);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			const char *s = target_value(ev, t, i, &len);
			if (s == NULL)
				continue;
			/* A header or attachment that is there exists even when
			   empty; subject and body exist when not empty. */
			if (len > 0 || t->kind == T_HEADER || t->kind == T_ATTACHMENT_NAME ||
			    t->kind == T_ATTACHMENT_TYPE)
				return 1;
		}
	}
	return 0;
}

static int
eval_vip(const struct eval *ev)
{
	const struct vip *vip = &ev->rules->vip;
	const char *from = ev->in->from;
	if (from == NULL)
		return 0;
	for (size_t i = 0; i < vip->n_addresses; i++)
		if (strcasecmp(from, vip->addresses[i]) == 0)
			return 1;
	const char *at = strrchr(from, '@');
	if (at == NULL)
		return 0;
	const char *domain = at + 1;
	size_t dlen = strlen(domain);
	for (size_t i = 0; i < vip->n_domains; i++) {
		size_t n = strlen(vip->domains[i]);
		if (strcasecmp(domain, vip->domains[i]) == 0)
			return 1;
		if (dlen > n && domain[dlen - n - 1] == '.' &&
		    strcasecmp(domain + dlen - n, vip->domains[i]) == 0)
			return 1;
	}
	return 0;
}

static int
eval_cond(struct eval *ev, struct cond *c)
{
	size_t mark = ev->n_matches;
	switch (c->kind) {
	case C_ALL:
		for (size_t i = 0; i < c->n_kids; i++) {
			if (!eval_cond(ev, c->kids[i])) {
				matches_truncate(ev, mark);
				return 0;
			}
		}
		return 1;
	case C_ANY:
		for (size_t i = 0; i < c->n_kids; i++) {
			if (eval_cond(ev, c->kids[i]))
				return 1;
			matches_truncate(ev, mark);
		}
		return 0;
	case C_NOT: {
		int r = eval_cond(ev, c->kids[0]);
		matches_truncate(ev, mark);
		return !r;
	}
	case C_MATCH:
		return eval_match(ev, c);
	case C_EXISTS:
		return eval_exists(ev, c);
	case C_VIP:
		return eval_vip(ev);
	case C_ALWAYS:
		return 1;
	}
	return 0;
}

static void
add_score(struct rules_result *res, const char *category, int weight)
{
	for (size_t i = 0; i < res->n_scores; i++) {
		if (strcmp(res->scores[i].category, category) == 0) {
			res->scores[i].score += weight;
			return;
		}
	}
	res->scores = xreallocarray(res->scores, res->n_scores + 1, sizeof(*res->scores));
	res->scores[res->n_scores].category = xstrdup(category);
	res->scores[res->n_scores].score = weight;
	res->n_scores++;
}

static void
add_tag(struct rules_result *res, const char *tag)
{
	for (size_t i = 0; i < res->n_tags; i++)
		if (strcmp(res->tags[i], tag) == 0)
			return;
	res->tags = xreallocarray(res->tags, res->n_tags + 1, sizeof(*res->tags));
	res->tags[res->n_tags++] = xstrdup(tag);
}

static void
add_field(struct rules_result *res, const char *name, const char *value, const char *normal,
	  const char *rule)
{
	for (size_t i = 0; i < res->n_fields; i++)
		if (strcmp(res->fields[i].name, name) == 0)
			return; /* first value wins */
	res->fields = xreallocarray(res->fields, res->n_fields + 1, sizeof(*res->fields));
	struct rules_field *f = &res->fields[res->n_fields++];
	f->name = xstrdup(name);
	f->value = xstrdup(value);
	f->normal = normal != NULL ? xstrdup(normal) : NULL;
	f->rule = xstrdup(rule);
}

/* Whether the rule extracts the group name, and how (*type_r). */
static int
extract_wanted(const struct rule *r, const char *name, enum extract_type *type_r)
{
	*type_r = EXTRACT_TEXT;
	if (r->n_extract_names == 0)
		return 1;
	for (size_t i = 0; i < r->n_extract_names; i++) {
		if (strcmp(r->extract_names[i].name, name) == 0) {
			*type_r = r->extract_names[i].type;
			return 1;
		}
	}
	return 0;
}

/* Whether a captured value is of its type (an amount that is no amount
   gives nothing rather than a wrong number). */
static int
extract_ok(const struct rules_capture *cap, enum extract_type type)
{
	struct amount a;
	return type == EXTRACT_TEXT ||
	       amount_parse(cap->value, strlen(cap->value), AMOUNT_ANY, &a) != AMOUNT_NONE;
}

/* A captured value (extract_ok()) as a field of its type. */
static void
extract_one(struct rules_result *res, const struct rule *r, const struct rules_capture *cap,
	    enum extract_type type)
{
	if (type == EXTRACT_TEXT) {
		add_field(res, cap->name, cap->value, NULL, r->name);
		return;
	}
	struct amount a;
	enum amount_status st = amount_parse(cap->value, strlen(cap->value), AMOUNT_ANY, &a);
	/* The number as the customer wrote it; its value when unambiguous. */
	char *number = xstrndup(cap->value + a.number_start, a.number_len);
	char *normal = st == AMOUNT_OK ? xasprintf("%s%s%s", a.value, a.currency[0] ? " " : "",
						   a.currency)
				       : NULL;
	add_field(res, cap->name, number, normal, r->name);
	free(number);
	free(normal);
}

/* A fired rule: record the hit and apply the actions that do not depend
   on the winning category. */
static void
rule_fired(struct eval *ev, const struct rule *r)
{
	struct rules_result *res = ev->res;
	if (r->extract) {
		for (size_t i = 0; i < ev->n_matches; i++) {
			const struct rules_match *m = &ev->matches[i];
			/* A typed group that is not of its type voids the whole
			   match: no currency without its amount. */
			int bad = 0;
			for (size_t k = 0; k < m->n_captures && !bad; k++) {
				enum extract_type type;
				if (extract_wanted(r, m->captures[k].name, &type))
					bad = !extract_ok(&m->captures[k], type);
			}
			for (size_t k = 0; k < m->n_captures && !bad; k++) {
				enum extract_type type;
				if (extract_wanted(r, m->captures[k].name, &type))
					extract_one(res, r, &m->captures[k], type);
			}
		}
	}
	res->hits = xreallocarray(res->hits, res->n_hits + 1, sizeof(*res->hits));
	struct rules_hit *h = &res->hits[res->n_hits++];
	h->rule = xstrdup(r->name);
	h->file = xstrdup(r->file);
	h->line = r->line;
	h->category = r->category != NULL ? xstrdup(r->category) : NULL;
	h->weight = r->category != NULL ? r->weight : 0;
	/* The matches move into the hit. */
	h->matches = ev->n_matches > 0 ? xreallocarray(NULL, ev->n_matches, sizeof(*h->matches))
				       : NULL;
	if (ev->n_matches > 0)
		memcpy(h->matches, ev->matches, ev->n_matches * sizeof(*h->matches));
	h->n_matches = ev->n_matches;
	ev->n_matches = 0;

	if (r->category != NULL)
		add_score(res, r->category, r->weight);
	for (size_t i = 0; i < r->n_tags; i++)
		add_tag(res, r->tags[i]);
	if (r->no_ack)
		res->no_ack = 1;
	if (r->spam)
		res->spam = 1;
}

int
rules_classify(struct rules *rules, const struct rules_input *input,
	       struct rules_result **result_r)
{
	struct rules_result *res = xcalloc(1, sizeof(*res));
	struct eval ev = { .rules = rules, .in = input, .res = res };
	const struct rule **fired = xcalloc(rules->n_rules + 1, sizeof(*fired));
	size_t n_fired = 0;

	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct rule *r = &rules->rules[i];
		ev.rule = r;
		if (!eval_cond(&ev, r->cond)) {
			matches_truncate(&ev, 0);
			continue;
		}
		rule_fired(&ev, r);
		fired[n_fired++] = r;
		if (r->stop) {
			res->stopped_by = xstrdup(r->name);
			break;
		}
	}

	const char *winner = NULL;
	int best = 0;
	for (size_t i = 0; i < res->n_scores; i++) {
		if (res->scores[i].score > best) {
			best = res->scores[i].score;
			winner = res->scores[i].category;
		}
	}
	res->category = xstrdup(winner != NULL ? winner : rules->default_category);

	/* Priority and queue come from the fired rules that name no
	   category or name the one that won. */
	int priority = -1, raise = 0;
	for (size_t i = 0; i < n_fired; i++) {
		const struct rule *r = fired[i];
		if (r->category != NULL && strcmp(r->category, res->category) != 0)
			continue;
		if (r->priority > priority)
			priority = r->priority;
		raise += r->priority_raise;
		if (r->queue != NULL && res->queue == NULL)
			res->queue = xstrdup(r->queue);
	}
	if (priority < 0)
		priority = PRIORITY_NORMAL;
	priority += raise;
	if (priority > PRIORITY_MAX)
		priority = PRIORITY_MAX;
	res->priority = xstrdup(rules_priority_names[priority]);
	free(fired);
	free(ev.matches);
	free(ev.noquote);
	free(ev.text);
	for (size_t i = 0; i < N_ELEMENTS(ev.found); i++)
		free(ev.found[i]);
	*result_r = res;
	return 0;
}

void
rules_result_free(struct rules_result **resultp)
{
	struct rules_result *res = *resultp;
	if (res == NULL)
		return;
	free(res->category);
	free(res->priority);
	free(res->queue);
	rules_strv_free(res->tags, res->n_tags);
	for (size_t i = 0; i < res->n_fields; i++) {
		free(res->fields[i].name);
		free(res->fields[i].value);
		free(res->fields[i].normal);
		free(res->fields[i].rule);
	}
	free(res->fields);
	for (size_t i = 0; i < res->n_hits; i++) {
		struct rules_hit *h = &res->hits[i];
		free(h->rule);
		free(h->file);
		free(h->category);
		for (size_t k = 0; k < h->n_matches; k++)
			match_clear(&h->matches[k]);
		free(h->matches);
	}
	free(res->hits);
	for (size_t i = 0; i < res->n_scores; i++)
		free(res->scores[i].category);
	free(res->scores);
	for (size_t i = 0; i < res->n_limit_hits; i++) {
		free(res->limit_hits[i].rule);
		free(res->limit_hits[i].target);
		free(res->limit_hits[i].why);
	}
	free(res->limit_hits);
	free(res->stopped_by);
	free(res);
	*resultp = NULL;
}

static void
put_clean(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		n = utf8_truncate_len(s, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : c) < 0)
			return;
	}
}

char *
rules_verdict_format(const struct rules_result *res)
{
	return xasprintf("category %s, priority %s, queue %s", res->category, res->priority,
			 res->queue != NULL ? res->queue : "(default)");
}

/* "WORD VALUE" at *pp, up to ", " or the end, into out[size]. */
static int
verdict_item(const char **pp, const char *word, char *out, size_t size)
{
	size_t wl = strlen(word);
	const char *p = *pp;
	if (strncmp(p, word, wl) != 0 || p[wl] != ' ')
		return -1;
	p += wl + 1;
	size_t n = strcspn(p, ",");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	p += n;
	if (*p == ',' && p[1] == ' ')
		p += 2;
	*pp = p;
	return 0;
}

int
rules_verdict_parse(const char *text, struct rules_verdict *v)
{
	const char *p = text;
	memset(v, 0, sizeof(*v));
	if (verdict_item(&p, "category", v->category, sizeof(v->category)) < 0 ||
	    verdict_item(&p, "priority", v->priority, sizeof(v->priority)) < 0 ||
	    verdict_item(&p, "queue", v->queue, sizeof(v->queue)) < 0 || *p != '\0')
		return -1;
	if (strcmp(v->queue, "(default)") == 0)
		v->queue[0] = '\0';
	return 0;
}

char *
rules_hit_summary(const struct rules_hit *hit)
{
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < hit->n_matches; i++) {
		const struct rules_match *m = &hit->matches[i];
		if (i > 0)
			buf_puts(&b, "; ");
		buf_printf(&b, "%s: \"", m->target);
		put_clean(&b, m->text, 120);
		buf_putc(&b, '"');
	}
	if (hit->n_matches == 0)
		buf_puts(&b, "(no pattern)");
	if (hit->category != NULL)
		buf_printf(&b, " => %s %+d", hit->category, hit->weight);
	return buf_steal(&b, NULL);
}
