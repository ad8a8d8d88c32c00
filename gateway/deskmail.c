/*
 * deskmail: see deskmail.h. The headers are written by compose.c; this
 * module decides which ones every message about a ticket carries, so that
 * acknowledgements, notifications and relays cannot drift apart.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/design.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"

struct deskmail {
	const struct config *config;
	const struct thread_config *tc;
	struct store *store;
	char *blocked; /* why no mail may go out now, or NULL */
};

struct deskmail_msg {
	const struct deskmail *dm; /* outlives the message */
	struct compose *c;
	int64_t ticket_id;
	char *kind;
	char *subject;
	char **rcpts;
	size_t n_rcpts;
	int64_t now;
};

int
deskmail_new(const struct config *config, const struct thread_config *tc, struct store *store,
	     struct deskmail **dm_r, const char **error_r)
{
	(void)error_r;
	struct deskmail *dm = xcalloc(1, sizeof(*dm));
	dm->config = config;
	dm->tc = tc;
	dm->store = store;
	*dm_r = dm;
	return 0;
}

void
deskmail_free(struct deskmail **dmp)
{
	struct deskmail *dm = *dmp;
	if (dm == NULL)
		return;
	free(dm->blocked);
	free(dm);
	*dmp = NULL;
}

void
deskmail_block(struct deskmail *dm, const char *why)
{
	free(dm->blocked);
	dm->blocked = xstrdup(why != NULL ? why : "blocked");
}

void
deskmail_unblock(struct deskmail *dm)
{
	x_free(&dm->blocked);
}

const char *
deskmail_blocked(const struct deskmail *dm)
{
	return dm->blocked;
}

struct deskmail_msg *
deskmail_start(struct deskmail *dm, int64_t ticket_id, const char *kind,
	       enum deskmail_reply reply_side, const char *auto_submitted, int64_t now)
{
	const struct config *config = dm->config;
	struct deskmail_msg *m = xcalloc(1, sizeof(*m));
	m->dm = dm;
	m->c = compose_new();
	m->ticket_id = ticket_id;
	m->kind = xstrdup(kind);
	m->now = now;
	compose_set_from(m->c, config->support_name, config->support_address);
	if (dm->tc != NULL && ticket_id > 0 && reply_side != DESKMAIL_REPLY_NONE) {
		char *reply_to = thread_reply_address(dm->tc, ticket_id,
						      reply_side == DESKMAIL_REPLY_AGENT
							      ? THREAD_ROLE_AGENT
							      : THREAD_ROLE_CUSTOMER);
		compose_set_reply_to(m->c, config->support_name, reply_to);
		free(reply_to);
	}
	if (now != 0)
		compose_set_date(m->c, now);
	if (auto_submitted != NULL)
		compose_set_auto_submitted(m->c, auto_submitted);
	compose_set_loop(m->c, config->hostname);
	return m;
}

void
deskmail_msg_free(struct deskmail_msg **msgp)
{
	struct deskmail_msg *m = *msgp;
	if (m == NULL)
		return;
	compose_free(&m->c);
	free(m->kind);
	free(m->subject);
	for (size_t i = 0; i < m->n_rcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m);
	*msgp = NULL;
}

/* ---- names and addresses ------------------------------------------------------- */

/* Bytes of the UTF-8 character at s, 0 when it is not valid. */
static size_t
char_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0')
			return 0;
	return n > 0 && utf8_valid(s, n) ? n : 0;
}

/* Does the cleaned name hold something that reads as a link or an
   address: "://", "www.", '@', or a dot between a letter or digit and
   two letters ("evil.example", "bit.ly")? */
static int
looks_like_link(const char *s)
{
	if (strstr(s, "://") != NULL || strchr(s, '@') != NULL)
		return 1;
	for (const char *p = s; *p != '\0'; p++) {
		if (str_case_starts_with(p, "www.") && (p == s || p[-1] == ' '))
			return 1;
		if (*p == '.' && p > s && isalnum((unsigned char)p[-1]) && isalpha((unsigned char)p[1]) &&
		    isalpha((unsigned char)p[2]))
			return 1;
	}
	return 0;
}

char *
deskmail_display_name(const char *name)
{
	if (name == NULL)
		return NULL;
	struct buf b;
	size_t chars = 0;
	int space = 1;
	buf_init(&b, DESKMAIL_MAX_NAME * 4 + 8);
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0';) {
		size_t n = char_len(p);
		int blank = n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f || *p == ' ')) ||
			    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
			    (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9));
		if (blank) {
			if (!space && buf_putc(&b, ' ') < 0)
				goto drop;
			space = 1;
		} else {
			if (++chars > DESKMAIL_MAX_NAME || buf_append(&b, p, n) < 0)
				goto drop;
			space = 0;
		}
		p += n > 0 ? n : 1;
	}
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	str_trim(s);
	if (*s == '\0' || looks_like_link(s)) {
		free(s);
		return NULL;
	}
	return s;
drop:
	buf_free(&b);
	return NULL;
}

char *
deskmail_address_key(const char *address)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	if (at == NULL || at == address)
		return NULL;
	size_t llen = (size_t)(at - address);
	const char *plus = memchr(address, '+', llen);
	if (plus != NULL && plus > address)
		llen = (size_t)(plus - address);
	char *key = xasprintf("%.*s%s", (int)llen, address, at);
	for (char *p = key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return key;
}

/* Mail to the support address or one of its sub-addresses would come back
   to us: never a recipient. */
static int
is_ours(const struct deskmail *dm, const char *address)
{
	if (dm->tc != NULL)
		return thread_is_support_address(dm->tc, address);
	return strcasecmp(address, dm->config->support_address) == 0;
}

int
deskmail_is_own_address(const struct deskmail *dm, const char *address)
{
	return address != NULL && is_ours(dm, address);
}

static void
add_rcpt(struct deskmail_msg *m, const char *address)
{
	for (size_t i = 0; i < m->n_rcpts; i++)
		if (strcasecmp(m->rcpts[i], address) == 0)
			return;
	m->rcpts = xreallocarray(m->rcpts, m->n_rcpts + 1, sizeof(*m->rcpts));
	m->rcpts[m->n_rcpts++] = xstrdup(address);
}

void
deskmail_add_to(struct deskmail_msg *m, const char *name, const char *address)
{
	if (address == NULL || is_ours(m->dm, address))
		return;
	char *clean = deskmail_display_name(name);
	compose_add_to(m->c, clean, address);
	free(clean);
	add_rcpt(m, address);
}

void
deskmail_add_cc(struct deskmail_msg *m, const char *name, const char *address)
{
	if (address == NULL || is_ours(m->dm, address))
		return;
	char *clean = deskmail_display_name(name);
	compose_add_cc(m->c, clean, address);
	free(clean);
	add_rcpt(m, address);
}

/* ---- subjects ------------------------------------------------------------- */

const char *
deskmail_subject_base(const char *subject)
{
	static const char *const prefixes[] = { "re:", "aw:", "sv:", "antw:", "回复:", "回复：",
						"回覆:", "回覆：", "答复:", "答复：" };
	const char *s = subject != NULL ? subject : "";
	for (int again = 1; again;) {
		again = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		for (size_t i = 0; i < N_ELEMENTS(prefixes); i++) {
			if (str_case_starts_with(s, prefixes[i])) {
				s += strlen(prefixes[i]);
				again = 1;
				break;
			}
		}
	}
	return *s != '\0' ? s : "(no subject)";
}

char *
deskmail_ticket_tag(const struct deskmail *dm, int64_t ticket_id)
{
	if (dm->tc == NULL)
		return xasprintf("#%lld", (long long)ticket_id);
	return thread_subject_tag(dm->tc, ticket_id);
}

static char *
with_tag(const struct deskmail *dm, int64_t ticket_id, const char *subject)
{
	if (dm->tc == NULL || ticket_id <= 0)
		return xstrdup(subject);
	return thread_subject_add_tag(dm->tc, subject, ticket_id);
}

static void
set_subject(struct deskmail_msg *m, char *subject)
{
	free(m->subject);
	m->subject = subject;
	compose_set_subject(m->c, subject);
}

void
deskmail_subject(struct deskmail_msg *m, const char *prefix, const char *subject)
{
	char *s = xasprintf("%s%s", prefix != NULL ? prefix : "", deskmail_subject_base(subject));
	set_subject(m, with_tag(m->dm, m->ticket_id, s));
	free(s);
}

void
deskmail_subject_reply(struct deskmail_msg *m, const char *subject)
{
	char *tagged = with_tag(m->dm, m->ticket_id, deskmail_subject_base(subject));
	set_subject(m, xasprintf("Re: %s", tagged));
	free(tagged);
}

void
deskmail_subject_as_is(struct deskmail_msg *m, const char *subject)
{
	set_subject(m, with_tag(m->dm, m->ticket_id, subject != NULL ? subject : ""));
}

/* ---- threading ------------------------------------------------------------- */

void
deskmail_thread(struct deskmail_msg *m, const char *in_reply_to, const char *const *references,
		size_t n_references)
{
	if (in_reply_to == NULL || *in_reply_to == '\0')
		return;
	compose_set_in_reply_to(m->c, in_reply_to);
	/* The root, then the newest: a long thread keeps its start and its
	   end, as compose renders them. */
	size_t keep = DESKMAIL_MAX_REFERENCES - 1; /* and in_reply_to */
	for (size_t i = 0; i < n_references; i++)
		if (i == 0 || n_references - i < keep)
			compose_add_reference(m->c, references[i]);
	compose_add_reference(m->c, in_reply_to);
}

char *
deskmail_agents_root(const struct deskmail *dm, int64_t ticket_id)
{
	return xasprintf("dg-ticket.%lld.agents@%s", (long long)ticket_id, dm->config->hostname);
}

void
deskmail_thread_agents(struct deskmail_msg *m, const struct mime_message *answered)
{
	if (m->ticket_id <= 0)
		return;
	char *root = deskmail_agents_root(m->dm, m->ticket_id);
	if (answered == NULL || answered->message_id == NULL) {
		deskmail_thread(m, root, NULL, 0);
	} else {
		const char **ids = xcalloc(answered->n_references + 1, sizeof(*ids));
		ids[0] = root;
		for (size_t i = 0; i < answered->n_references; i++)
			ids[i + 1] = answered->references[i];
		deskmail_thread(m, answered->message_id, ids, answered->n_references + 1);
		free(ids);
	}
	free(root);
}

void
deskmail_thread_string(struct deskmail_msg *m, const char *in_reply_to, const char *references)
{
	const char **ids = NULL;
	char *copy = xstrdup(references != NULL ? references : "");
	size_t n = 0;
	for (char *p = copy; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '<' || *p == '>')
			*p++ = '\0';
		if (*p == '\0')
			break;
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',' && *p != '<' && *p != '>')
			p++;
	}
	deskmail_thread(m, in_reply_to, ids, n);
	free(ids);
	free(copy);
}

void
deskmail_thread_msg(struct deskmail_msg *m, const struct mime_message *msg)
{
	deskmail_thread(m, msg->message_id, (const char *const *)msg->references,
			msg->n_references);
}

struct compose *
deskmail_compose(struct deskmail_msg *m)
{
	return m->c;
}

/* ---- rendering and queueing ------------------------------------------------------ */

void
deskmail_result_clear(struct deskmail_result *res)
{
	x_free(&res->message_id);
	x_free(&res->subject);
	x_free(&res->recipients);
	x_free(&res->raw);
	res->len = 0;
	res->outbox_id = 0;
}

static char *
rcpt_string(const struct deskmail_msg *m)
{
	struct buf b;
	buf_init(&b, 1024 * 1024);
	for (size_t i = 0; i < m->n_rcpts; i++)
		(void)buf_printf(&b, "%s%s", i > 0 ? ", " : "", m->rcpts[i]);
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

/* Message-ID and bytes: 0, or -1 with *why_r (not a store failure). */
static int
render(struct deskmail *dm, struct deskmail_msg *m, struct deskmail_result *res,
       const char **why_r)
{
	int ret;
	memset(res, 0, sizeof(*res));
	if (dm->tc != NULL)
		ret = thread_message_id_new(dm->tc, m->ticket_id, &res->message_id, why_r);
	else
		ret = compose_message_id(m->ticket_id, dm->config->hostname, &res->message_id,
					 why_r);
	int designed = 0;
	if (ret == 0 && strcmp(m->kind, "relay") != 0) {
		/* every mail people read gets the design; a relayed reply is the
		   agent's own words, sent as written */
		char ref[32] = "";
		if (m->ticket_id > 0)
			(void)snprintf(ref, sizeof(ref), "#%lld", (long long)m->ticket_id);
		designed = design_compose(dm->config, NULL, m->subject,
					  ref[0] != '\0' ? ref : NULL, m->c);
		if (designed < 0)
			log_warnx("ticket=%lld: %s: sent as text alone: its HTML would be too large",
				  (long long)m->ticket_id, m->kind);
	}
	if (ret == 0) {
		compose_set_message_id(m->c, res->message_id);
		ret = compose_render(m->c, &res->raw, &res->len, why_r);
	}
	/* The design is an extra (more than the text's size again): never
	   the reason a notice (a handover or #history of a long ticket)
	   outgrows [limits] max_message_size or fails to render. Then the
	   text goes alone, whole. */
	if (designed == 1 && (ret < 0 || res->len > dm->config->limits.max_message_size)) {
		log_warnx("ticket=%lld: %s: sent as text alone: with its HTML it would exceed "
			  "max_message_size",
			  (long long)m->ticket_id, m->kind);
		x_free(&res->raw);
		res->len = 0;
		compose_set_html(m->c, NULL, 0);
		ret = compose_render(m->c, &res->raw, &res->len, why_r);
	}
	res->recipients = rcpt_string(m);
	res->subject = m->subject != NULL ? xstrdup(m->subject) : xstrdup("");
	return ret;
}

int
deskmail_render(struct deskmail *dm, struct deskmail_msg **msgp, struct deskmail_result *res,
		const char **error_r)
{
	int ret = render(dm, *msgp, res, error_r);
	deskmail_msg_free(msgp);
	if (ret < 0)
		deskmail_result_clear(res);
	return ret;
}

/* The desk-wide caps: NULL when m may go, else why not (errf()). A store
   failure is its result (< 0) in *failed_r. */
static const char *
over_cap(struct deskmail *dm, const struct deskmail_msg *m, int *failed_r, const char **error_r)
{
	const struct config_limits *l = &dm->config->limits;
	int64_t n, since = m->now - 60;
	*failed_r = 0;
	for (size_t i = 0; i < m->n_rcpts; i++) {
		if ((*failed_r = store_outbox_count_recent(dm->store, m->rcpts[i], NULL, since, &n,
							   error_r)) < 0)
			return NULL;
		if ((uint64_t)n >= l->max_mail_per_recipient_minute)
			return errf("rate limit: %lld messages to %s in the last minute ([limits] "
				    "max_mail_per_recipient_minute)", (long long)n,
				    log_safe(m->rcpts[i], 200));
	}
	if ((*failed_r = store_outbox_count_since(dm->store, NULL, since, &n, error_r)) < 0)
		return NULL;
	if ((uint64_t)n >= l->max_mail_per_minute)
		return errf("rate limit: %lld messages queued in the last minute ([limits] "
			    "max_mail_per_minute)", (long long)n);
	return NULL;
}

/* The refusals that need only m's recipients and time: NULL when none
   applies, else why (and *kind_r). A store failure is *failed_r < 0. */
static const char *
refusal(struct deskmail *dm, const struct deskmail_msg *m, const char **kind_r, int *failed_r,
	const char **error_r)
{
	const char *why;
	*failed_r = 0;
	*kind_r = "error";
	if (m->n_rcpts == 0)
		return "no recipient";
	if (dm->blocked != NULL) {
		*kind_r = "loop";
		return errf("loop: %s", dm->blocked);
	}
	if ((why = over_cap(dm, m, failed_r, error_r)) != NULL || *failed_r < 0)
		*kind_r = "rate-limit";
	return why;
}

/* Not sent: the log line and the ticket's event; frees *msgp. */
static int
refused(struct deskmail *dm, struct deskmail_msg **msgp, const char *kind, const char *why,
	const char **error_r)
{
	struct deskmail_msg *m = *msgp;
	const char *to = m->n_rcpts > 0 ? m->rcpts[0] : "nobody";
	if (strcmp(kind, "error") == 0)
		log_error("ticket=%lld: %s to %s not sent: %s", (long long)m->ticket_id, m->kind,
			  log_safe(to, 200), why);
	else
		log_warnx("ticket=%lld: %s to %s not sent: %s", (long long)m->ticket_id, m->kind,
			  log_safe(to, 200), why);
	int ret = store_event_addf(dm->store, m->ticket_id, kind, error_r, "%s to %s not sent: %s",
				   m->kind, to, why);
	deskmail_msg_free(msgp);
	return ret < 0 ? ret : 0;
}

int
deskmail_precheck(struct deskmail *dm, struct deskmail_msg **msgp, const char **why_r,
		  const char **error_r)
{
	const char *kind;
	int failed;
	*why_r = refusal(dm, *msgp, &kind, &failed, error_r);
	if (failed < 0) {
		deskmail_msg_free(msgp);
		return failed;
	}
	if (*why_r != NULL)
		return refused(dm, msgp, kind, *why_r, error_r);
	return 1;
}

int
deskmail_queue(struct deskmail *dm, struct deskmail_msg **msgp, struct deskmail_result *res,
	       const char **why_r, const char **error_r)
{
	struct deskmail_msg *m = *msgp;
	const char *why = NULL, *kind = "error";
	int failed = 0, ret;

	*why_r = NULL;
	memset(res, 0, sizeof(*res));
	why = refusal(dm, m, &kind, &failed, error_r);
	if (why == NULL && failed == 0 && render(dm, m, res, &why) == 0)
		why = NULL;
	if (failed < 0) {
		deskmail_msg_free(msgp);
		return failed;
	}
	if (why != NULL) {
		*why_r = why;
		deskmail_result_clear(res);
		return refused(dm, msgp, kind, why, error_r);
	}
	ret = outbox_queue(dm->store, dm->config, m->ticket_id, m->kind, res->message_id, res->raw,
			   res->len, (const char *const *)m->rcpts, m->n_rcpts, m->now,
			   &res->outbox_id, error_r);
	x_free(&res->raw); /* the outbox row holds the bytes; len stays */
	deskmail_msg_free(msgp);
	if (ret < 0) {
		deskmail_result_clear(res);
		return ret;
	}
	return 1;
}
