/* loop: see loop.h. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/loop.h"
#include "gateway/outbox.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"

#define LOOP_HEADER "X-Deskgate-Loop"

struct loop {
	const struct config *config;
	const struct thread_config *tc;
	struct outbox *outbox;
};

struct loop *
loop_new(const struct config *config, const struct thread_config *tc, struct outbox *outbox)
{
	struct loop *loop = xcalloc(1, sizeof(*loop));
	loop->config = config;
	loop->tc = tc;
	loop->outbox = outbox;
	return loop;
}

void
loop_free(struct loop **loopp)
{
	free(*loopp);
	*loopp = NULL;
}

/* Is word (a host name) one of the blank- or comma-separated words of
   value, ignoring case? */
static int
has_word(const char *value, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = value; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')
			p++;
		size_t len = strcspn(p, " \t,;");
		if (len == n && strncasecmp(p, word, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* A return path of ours: a VERP address of the outbox with a valid tag,
   the configured envelope sender, or the support address and its
   sub-addresses. */
static int
our_return_path(const struct loop *loop, const char *address)
{
	int64_t id;
	if (address == NULL || *address == '\0')
		return 0;
	if (loop->outbox != NULL && outbox_verp_match(loop->outbox, address, &id))
		return 1;
	const char *env = loop->config->smtp.envelope_from;
	if (env != NULL && strstr(env, "{verp}") == NULL && strcasecmp(env, address) == 0)
		return 1;
	return thread_is_support_address(loop->tc, address);
}

static int
is_automatic(const struct mime_message *msg)
{
	const char *v = mime_header_get(msg, "Auto-Submitted");
	if (v != NULL) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(v, "no", 2) != 0 || (v[2] != '\0' && v[2] != ' ' && v[2] != ';'))
			return 1;
	}
	if (mime_header_get(msg, LOOP_HEADER) != NULL)
		return 1;
	if ((v = mime_header_get(msg, "Precedence")) != NULL) {
		static const char *const kinds[] = { "bulk", "junk", "list", "auto_reply" };
		for (size_t i = 0; i < N_ELEMENTS(kinds); i++)
			if (has_word(v, kinds[i]))
				return 1;
	}
	return 0;
}

void
loop_check(const struct loop *loop, const struct mime_message *msg, const char *envelope_sender,
	   int automatic, struct loop_verdict *v)
{
	const char *hostname = loop->config->hostname;
	int64_t ticket = 0;

	memset(v, 0, sizeof(*v));
	if (thread_message_id_is_ours(loop->tc, msg->message_id, &ticket)) {
		v->kind = LOOP_OURS;
		v->ticket_id = ticket;
		snprintf(v->why, sizeof(v->why), "our own Message-ID %s",
			 log_safe(msg->message_id, 200));
		return;
	}
	for (size_t i = 0; i < msg->n_headers; i++) {
		if (strcasecmp(msg->headers[i].name, LOOP_HEADER) == 0 &&
		    has_word(msg->headers[i].value, hostname)) {
			v->kind = LOOP_OURS;
			snprintf(v->why, sizeof(v->why), "our loop header %s: %s", LOOP_HEADER,
				 log_safe(msg->headers[i].value, 100));
			return;
		}
	}
	const char *paths[] = { envelope_sender, msg->return_path };
	for (size_t i = 0; i < N_ELEMENTS(paths); i++) {
		if (our_return_path(loop, paths[i])) {
			v->kind = LOOP_OURS;
			snprintf(v->why, sizeof(v->why), "our return path %s", log_safe(paths[i], 200));
			return;
		}
	}
	if (thread_is_support_address(loop->tc, msg->from.address) ||
	    thread_is_support_address(loop->tc, msg->sender.address)) {
		v->kind = LOOP_OURS;
		snprintf(v->why, sizeof(v->why), "sent from our address %s",
			 log_safe(thread_is_support_address(loop->tc, msg->from.address)
					  ? msg->from.address
					  : msg->sender.address,
				  200));
		return;
	}

	if (!automatic && !is_automatic(msg))
		return;
	const char *ours = NULL;
	if (thread_message_id_is_ours(loop->tc, msg->in_reply_to, &ticket))
		ours = msg->in_reply_to;
	for (size_t i = msg->n_references; ours == NULL && i-- > 0;)
		if (thread_message_id_is_ours(loop->tc, msg->references[i], &ticket))
			ours = msg->references[i];
	if (ours == NULL)
		return;
	v->kind = LOOP_ANSWER;
	v->ticket_id = ticket;
	snprintf(v->why, sizeof(v->why), "automatic mail answering our Message-ID %s",
		 log_safe(ours, 200));
}
