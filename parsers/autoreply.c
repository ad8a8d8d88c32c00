/*
 * autoreply: see autoreply.h. Hand-written: the rules are RFC 3834's and
 * the de-facto headers of Exchange, Gmail, Postfix and friends; no library
 * makes this decision.
 */
#include "build-config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "parsers/autoreply.h"
#include "parsers/mime.h"
#include "base/util.h"

static int
ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p != '\0'; p++)
		if (strncasecmp(p, needle, n) == 0)
			return 1;
	return 0;
}

/* The first word of a header value, lower-cased into buf. */
static const char *
first_token(const char *value, char *buf, size_t size)
{
	size_t n = 0;
	while (*value == ' ' || *value == '\t')
		value++;
	while (*value != '\0' && *value != ';' && *value != ',' && *value != ' ' && *value != '\t' &&
	       *value != '(' && n + 1 < size)
		buf[n++] = (char)tolower((unsigned char)*value++);
	buf[n] = '\0';
	return buf;
}

/* value contains word as a token (letters, digits, '.', '-' around it). */
static int
has_word(const char *value, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = value; *p != '\0'; p++) {
		if (strncasecmp(p, word, n) != 0)
			continue;
		int before = p == value || !(isalnum((unsigned char)p[-1]) || p[-1] == '.' || p[-1] == '-');
		char a = p[n];
		int after = a == '\0' || !(isalnum((unsigned char)a) || a == '.' || a == '-');
		if (before && after)
			return 1;
	}
	return 0;
}

int
autoreply_robot_address(const char *address)
{
	static const char *const exact[] = {
		"mailerdaemon", "maildaemon", "postmaster", "noreply", "donotreply", "dontreply",
		"noresponse", "bounce", "bounces", "autoreply", "autoresponder", "autorespond",
		"doublebounce", "nobody", "mailerdeamon",
	};
	if (address == NULL)
		return 0;
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);
	char raw[128], squeezed[128];
	size_t r = 0, s = 0;
	if (len == 0 || len >= sizeof(raw))
		return 0;
	/* "+detail" does not change who it is */
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)address[i]);
		if (c == '+')
			break;
		raw[r++] = c;
		if (c != '-' && c != '_' && c != '.')
			squeezed[s++] = c;
	}
	raw[r] = '\0';
	squeezed[s] = '\0';
	for (size_t i = 0; i < N_ELEMENTS(exact); i++)
		if (strcmp(squeezed, exact[i]) == 0)
			return 1;
	if (strncmp(raw, "bounce", 6) == 0 || strncmp(raw, "owner-", 6) == 0 ||
	    strncmp(squeezed, "noreply", 7) == 0 || strncmp(squeezed, "donotreply", 10) == 0 ||
	    strncmp(squeezed, "mailerdaemon", 12) == 0)
		return 1;
	if (r > 8 && strcmp(raw + r - 8, "-request") == 0)
		return 1;
	return 0;
}

static int
own_address(const struct autoreply_policy *policy, const char *address)
{
	if (address == NULL)
		return 0;
	for (size_t i = 0; i < policy->n_own_addresses; i++)
		if (policy->own_addresses[i] != NULL && strcasecmp(policy->own_addresses[i], address) == 0)
			return 1;
	return 0;
}

/* Return-Path: "<a@b>" or "a@b" -> the address into buf ("" for <>). */
static const char *
path_address(const char *value, char *buf, size_t size)
{
	size_t n = 0;
	while (*value == ' ' || *value == '\t' || *value == '<')
		value++;
	while (*value != '\0' && *value != '>' && *value != ' ' && n + 1 < size)
		buf[n++] = *value++;
	buf[n] = '\0';
	return buf;
}

static const char *const bounce_subjects[] = {
	/* delivery failures */
	"undelivered mail", "undeliverable", "undelivered:", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed", "delivery problem",
	"mail delivery failed", "mail delivery failure", "returned mail", "failure notice",
	"non-delivery", "nondeliverable", "non deliverable", "could not be delivered",
	"message not delivered", "delivery notification", "mail system error",
	"warning: could not send message", "delayed mail", "delivery delayed",
	"message delayed", "returned to sender", "mail could not be delivered",
	"unzustellbar", "nicht zustellbar", "non remis", "non distribuable",
	"échec de la remise", "退信", "系统退信", "邮件退回", "無法傳遞", "无法投递",
	"complaint about message from",
	/* out of office and other auto replies */
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
	"auto-response", "autoresponse", "out of office", "out of the office", "away from my mail",
	"on vacation", "vacation reply", "abwesenheitsnotiz", "abwesend", "automatische antwort",
	"réponse automatique", "absence du bureau", "自动回复", "自動回覆", "自動回复", "自动答复",
	"自動応答", "不在通知", "read:", "gelesen:", "lu :", "已读:", "已讀:",
};

static int
bounce_subject(const char *subject)
{
	if (subject == NULL)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(bounce_subjects); i++) {
		const char *pat = bounce_subjects[i];
		size_t n = strlen(pat);
		/* read receipts only as a prefix ("Read: your order") */
		if (pat[n - 1] == ':' && (strcmp(pat, "undelivered:") != 0)) {
			const char *s = subject;
			while (*s == ' ')
				s++;
			if (strncasecmp(s, pat, n) == 0)
				return 1;
			continue;
		}
		if (ci_contains(subject, pat))
			return 1;
	}
	/* "Auto:" (Lotus Notes), "Autosvar", "AW: Abwesend" are prefixes */
	while (*subject == ' ')
		subject++;
	return strncasecmp(subject, "auto:", 5) == 0;
}

static const char *const robot_headers[] = {
	"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated", "X-Mail-Autoreply",
	"X-Auto-Reply", "X-Autoreply-From", "X-AutoReply-From", "X-Loop", "X-FC-MachineGenerated",
	"X-Failed-Recipients", "X-Cron-Env", "X-MS-Exchange-Message-Is-Ndr",
	"X-MS-Exchange-Generated-Message-Source",
};

static const char *const list_headers[] = {
	"List-Id", "List-Unsubscribe", "List-Post", "List-Subscribe", "List-Help", "List-Owner",
	"Mailing-List",
};

static const char *const report_parts[] = {
	"message/delivery-status", "message/global-delivery-status",
	"message/disposition-notification", "message/global-disposition-notification",
	"message/feedback-report",
};

static const char *
check_headers(const struct mime_message *msg, const struct autoreply_policy *policy)
{
	char tok[64];
	for (size_t i = 0; i < msg->n_headers; i++) {
		const char *name = msg->headers[i].name;
		const char *value = msg->headers[i].value != NULL ? msg->headers[i].value : "";
		if (name == NULL)
			continue;
		if (policy->loop_header != NULL && strcasecmp(name, policy->loop_header) == 0 &&
		    (policy->loop_value == NULL || has_word(value, policy->loop_value)))
			return errf("%s: %s (our own mail)", policy->loop_header,
				    policy->loop_value != NULL ? policy->loop_value : "present");
		if (strcasecmp(name, "Auto-Submitted") == 0) {
			first_token(value, tok, sizeof(tok));
			if (strcmp(tok, "no") != 0)
				return errf("Auto-Submitted: %s", tok[0] != '\0' ? tok : "(empty)");
			continue;
		}
		if (strcasecmp(name, "Precedence") == 0) {
			first_token(value, tok, sizeof(tok));
			if (strcmp(tok, "bulk") == 0 || strcmp(tok, "junk") == 0 ||
			    strcmp(tok, "list") == 0 || strcmp(tok, "auto_reply") == 0)
				return errf("Precedence: %s", tok);
			continue;
		}
		if (strcasecmp(name, "X-Auto-Response-Suppress") == 0) {
			if (has_word(value, "All") || has_word(value, "OOF") || has_word(value, "AutoReply"))
				return "X-Auto-Response-Suppress covers automatic replies";
			continue;
		}
		for (size_t k = 0; k < N_ELEMENTS(list_headers); k++)
			if (strcasecmp(name, list_headers[k]) == 0)
				return errf("%s: mailing list mail", list_headers[k]);
		for (size_t k = 0; k < N_ELEMENTS(robot_headers); k++) {
			if (strcasecmp(name, robot_headers[k]) != 0)
				continue;
			/* "X-Autoreply: no" is the only way to say "not one" */
			first_token(value, tok, sizeof(tok));
			if (strcmp(tok, "no") == 0 || strcmp(tok, "false") == 0)
				break;
			return errf("%s header", robot_headers[k]);
		}
		if (strcasecmp(name, "Return-Path") == 0) {
			char addr[256];
			path_address(value, addr, sizeof(addr));
			if (addr[0] == '\0')
				return "empty return path (Return-Path: <>)";
			if (autoreply_robot_address(addr))
				return errf("Return-Path is a robot (%s)", addr);
		}
	}
	return NULL;
}

static const char *
check_parts(const struct mime_message *msg)
{
	size_t forwarded_depth = (size_t)-1; /* inside a message/rfc822 below this depth */
	for (size_t i = 0; i < msg->n_parts; i++) {
		const struct mime_part_info *p = &msg->parts[i];
		const char *ct = p->content_type != NULL ? p->content_type : "";
		if (forwarded_depth != (size_t)-1 && p->depth > forwarded_depth)
			continue;
		forwarded_depth = (size_t)-1;
		if (i == 0 && strcmp(ct, "multipart/report") == 0)
			return "multipart/report (delivery or disposition report)";
		for (size_t k = 0; k < N_ELEMENTS(report_parts); k++)
			if (strcmp(ct, report_parts[k]) == 0)
				return errf("%s part", report_parts[k]);
		if (strcmp(ct, "message/rfc822") == 0 || strcmp(ct, "message/global") == 0)
			forwarded_depth = p->depth;
	}
	return NULL;
}

static const char *
check_sender(const struct autoreply_policy *policy, const struct mime_address *a,
	     const char *which)
{
	if (a->address != NULL) {
		if (own_address(policy, a->address))
			return errf("%s is our own address", which);
		if (autoreply_robot_address(a->address))
			return errf("%s is a robot (%s)", which, a->address);
	}
	if (a->name != NULL &&
	    (ci_contains(a->name, "mail delivery subsystem") || ci_contains(a->name, "mail delivery system") ||
	     ci_contains(a->name, "mailer-daemon") || ci_contains(a->name, "mail administrator")))
		return errf("%s is a robot (%s)", which, a->name);
	return NULL;
}

int
autoreply_suppress(const struct mime_message *msg, const struct autoreply_policy *policy,
		   const char **why_r)
{
	static const struct autoreply_policy none = { 0 };
	const char *why = NULL;
	if (policy == NULL)
		policy = &none;
	if (msg == NULL) {
		*why_r = "no message";
		return 1;
	}
	if (msg->message_id != NULL && (policy->msgid_prefix != NULL || policy->msgid_domain != NULL)) {
		const char *at = strrchr(msg->message_id, '@');
		int prefix_ok = policy->msgid_prefix == NULL ||
				strncasecmp(msg->message_id, policy->msgid_prefix,
					    strlen(policy->msgid_prefix)) == 0;
		int domain_ok = policy->msgid_domain == NULL ||
				(at != NULL && strcasecmp(at + 1, policy->msgid_domain) == 0);
		if (prefix_ok && domain_ok) {
			*why_r = "Message-ID is one of ours";
			return 1;
		}
	}
	if (policy->envelope_sender != NULL) {
		if (policy->envelope_sender[0] == '\0')
			why = "empty envelope sender (<>)";
		else if (own_address(policy, policy->envelope_sender))
			why = "envelope sender is our own address";
		else if (autoreply_robot_address(policy->envelope_sender))
			why = errf("envelope sender is a robot (%s)", policy->envelope_sender);
	}
	if (why == NULL && msg->return_path != NULL && msg->return_path[0] == '\0')
		why = "empty return path (Return-Path: <>)";
	if (why == NULL)
		why = check_headers(msg, policy);
	if (why == NULL)
		why = check_sender(policy, &msg->from, "From");
	if (why == NULL)
		why = check_sender(policy, &msg->sender, "Sender");
	if (why == NULL)
		why = check_parts(msg);
	if (why == NULL && bounce_subject(msg->subject))
		why = "subject of a bounce or automatic reply";
	*why_r = why;
	return why != NULL;
}
