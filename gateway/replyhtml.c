/*
 * replyhtml: see replyhtml.h.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/guard.h"
#include "gateway/replyhtml.h"
#include "parsers/agentcmd.h"
#include "parsers/html.h"
#include "parsers/htmlsafe.h"
#include "parsers/mime.h"
#include "base/util.h"

/* Bound of the sanitised document and its text. */
#define HTML_MAX (16 * 1024 * 1024)

struct replyhtml {
	struct htmlsafe_result res;
};

/* Line number n (1-based) of text, trimmed, white space runs made one
   space. Caller frees. */
static char *
line_at(const char *text, unsigned int n)
{
	const char *p = text;
	for (unsigned int i = 1; i < n && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return xstrdup("");
	size_t len = strcspn(p, "\n");
	char *out = xmalloc(len + 1);
	size_t o = 0;
	int space = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x20)
			return 0;
	return 1;
}

/* Why the cleaned HTML may not go out, or NULL. */
static const char *
check(const struct config *config, const struct htmlsafe_result *res,
      const struct config_agent *agent)
{
	char *text = NULL;
	size_t len = 0;
	const char *error = NULL;
	const char *why = NULL;
	char held[400];
	if (res->lines_left > 0)
		return "a command line could not be taken out of the HTML";
	if (html_to_text(res->html, res->len, HTML_MAX, &text, &len, &error) < 0)
		return error;
	struct agentcmd_list *cmds = agentcmd_parse(text, len);
	if (cmds->n_cmds > 0)
		why = "the HTML still holds a command line";
	else if (blank(text) && res->n_cids == 0)
		why = "nothing is left of the HTML";
	else if (guard_check(config, text, held, sizeof(held)))
		why = "the outbound guard objects to the HTML's text";
	else if (agent != NULL && agent->address != NULL && agent->address[0] != '\0' &&
		 strcasestr(res->html, agent->address) != NULL)
		why = "the HTML shows the agent's own address";
	agentcmd_list_free(&cmds);
	free(text);
	return why;
}

struct replyhtml *
replyhtml_make(const struct config *config, const struct mime_message *msg,
	       const char *stripped, const struct agentcmd_list *cmds,
	       const struct config_agent *agent, const char **why_r)
{
	*why_r = NULL;
	if (msg->html == NULL || msg->html_len == 0)
		return NULL;
	const char **cids = xcalloc(msg->n_attachments + 1, sizeof(*cids));
	size_t n_cids = 0;
	for (size_t i = 0; i < msg->n_attachments; i++)
		if (msg->attachments[i].content_id != NULL) /* inline or not: the HTML names it */
			cids[n_cids++] = msg->attachments[i].content_id;
	char **drop = xcalloc(cmds->n_cmds + 1, sizeof(*drop));
	for (size_t i = 0; i < cmds->n_cmds; i++)
		drop[i] = line_at(stripped, cmds->cmds[i].line);
	const char *cut[1] = { agent != NULL ? agent->signature : NULL };
	struct htmlsafe_options o = {
		.max_out = HTML_MAX,
		.cids = cids,
		.n_cids = n_cids,
		.drop_lines = (const char *const *)drop,
		.n_drop_lines = cmds->n_cmds,
		.cut_lines = cut,
		.n_cut_lines = cut[0] != NULL ? 1 : 0,
	};
	struct replyhtml *rh = xcalloc(1, sizeof(*rh));
	const char *error = NULL;
	if (htmlsafe_clean(msg->html, msg->html_len, &o, &rh->res, &error) < 0) {
		*why_r = error;
		free(rh);
		rh = NULL;
	} else if ((*why_r = check(config, &rh->res, agent)) != NULL) {
		replyhtml_free(&rh);
	}
	for (size_t i = 0; i < cmds->n_cmds; i++)
		free(drop[i]);
	free(drop);
	free(cids);
	return rh;
}

void
replyhtml_free(struct replyhtml **rhp)
{
	struct replyhtml *rh = *rhp;
	if (rh == NULL)
		return;
	htmlsafe_result_clear(&rh->res);
	free(rh);
	*rhp = NULL;
}

const char *
replyhtml_html(const struct replyhtml *rh)
{
	return rh->res.html;
}

static int
shown(const struct replyhtml *rh, const char *cid)
{
	for (size_t i = 0; cid != NULL && i < rh->res.n_cids; i++)
		if (strcmp(rh->res.cids[i], cid) == 0)
			return 1;
	return 0;
}

void
replyhtml_compose(const struct replyhtml *rh, const struct mime_message *msg, struct compose *c)
{
	compose_set_html(c, rh->res.html, rh->res.len);
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		int is_image = a->content_id != NULL;
		if (is_image && shown(rh, a->content_id) &&
		    compose_add_related(c, a->content_id, a->filename, a->content_type, a->data,
					a->size) == 0)
			continue;
		/* an image of the quote or the signature is not the customer's */
		if (is_image && !shown(rh, a->content_id) && strstr(msg->html, a->content_id) != NULL)
			continue;
		compose_add_attachment(c, a->filename, a->content_type, a->data, a->size);
	}
}
