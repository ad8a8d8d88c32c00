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

/* How much of the body text the shape checks read. */
#define TEXT_SCAN_MAX 4096
/* An absence notice is short: its own words fit in this many bytes. */
#define NOTICE_TEXT_MAX 1500

static int
ci_contains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

/* ASCII lower case (the process runs in the C locale, where strcasestr()
   folds ASCII letters only), at most size - 1 bytes, NUL-terminated; 0
   when s does not fit. */
static int
lower_copy(const char *s, char *buf, size_t size)
{
	size_t i;
	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= size)
			return 0;
		buf[i] = (char)tolower((unsigned char)s[i]);
	}
	buf[i] = '\0';
	return 1;
}

/* Like ci_contains() for each needle, but the haystack is folded once and
   searched with strstr(): judging a mail ran strcasestr() over the same
   4 KB for each of a few dozen needles (~5% of an import's CPU). */
static int
ci_contains_any(const char *hay, const char *const *needles, size_t n)
{
	char lhay[TEXT_SCAN_MAX + 1], lneedle[128];
	if (hay == NULL)
		return 0;
	int folded = lower_copy(hay, lhay, sizeof(lhay));
	for (size_t i = 0; i < n; i++) {
		if (folded && lower_copy(needles[i], lneedle, sizeof(lneedle))) {
			if (strstr(lhay, lneedle) != NULL)
				return 1;
		} else if (ci_contains(hay, needles[i])) {
			return 1;
		}
	}
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

/* ---- subjects and the shapes of bodies ------------------------------------ */

static const char *const auto_reply_subjects[] = {
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
	"auto-response", "autoresponse", "out of office", "out of the office", "away from my mail",
	"away until", "on vacation", "vacation reply", "abwesenheitsnotiz", "abwesend",
	"abwesenheit", "automatische antwort", "réponse automatique", "absence du bureau",
	"respuesta automática", "risposta automatica", "autosvar", "自动回复", "自動回覆",
	"自動回复", "自动答复", "自動応答", "自動返信", "不在通知",
};

static const char *const bounce_subjects[] = {
	"undelivered mail", "undeliverable", "undelivered:", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed", "delivery problem",
	"mail delivery failed", "mail delivery failure", "returned mail", "failure notice",
	"non-delivery", "nondeliverable", "non deliverable", "could not be delivered",
	"message not delivered", "delivery notification", "mail system error",
	"warning: could not send message", "delayed mail", "delivery delayed",
	"message delayed", "returned to sender", "mail could not be delivered",
	"unzustellbar", "nicht zustellbar", "non remis", "non distribuable",
	"échec de la remise", "退信", "系统退信", "邮件退回", "無法傳遞", "无法投递",
};

static const char *const receipt_prefixes[] = {
	"read:", "gelesen:", "lu :", "lu:", "已读:", "已讀:", "已读：", "已讀：",
};

/* The subject, without leading blanks, starts with prefix (ignoring case). */
static int
subject_starts(const char *subject, const char *prefix)
{
	while (*subject == ' ')
		subject++;
	return strncasecmp(subject, prefix, strlen(prefix)) == 0;
}

static int
auto_reply_subject(const char *subject)
{
	/* "Auto:" (Lotus Notes) is a prefix */
	return ci_contains_any(subject, auto_reply_subjects, N_ELEMENTS(auto_reply_subjects)) ||
	       subject_starts(subject, "auto:");
}

/* Words of absence notices, in the languages of the desk. */
static const char *const absence_words[] = {
	"out of the office", "out of office", "on vacation", "on holiday", "on annual leave",
	"on leave", "away from the office", "away from my desk", "away until", "currently away",
	"currently out", "limited access to e-mail", "limited access to email",
	"no access to e-mail", "no access to email", "will be back", "i will return",
	"i'll be back", "back in the office", "return to the office", "returning on",
	"i am back on", "automatic reply", "auto-reply", "automatically generated",
	"this is an automated", "abwesend", "nicht im büro", "außer haus", "im urlaub",
	"ich bin bis", "je suis absent", "je serai absent", "absente du bureau", "en congé",
	"de retour le", "réponse automatique", "休假", "不在办公室", "不在辦公室", "外出",
	"自动回复", "自動回覆", "不在", "出差",
};

/* What mail systems write in a failure report. */
static const char *const failure_words[] = {
	"could not be delivered", "couldn't be delivered", "was not delivered",
	"delivery has failed", "delivery failed", "undeliverable", "permanent error",
	"permanent fatal error", "user unknown", "mailbox unavailable", "no such user",
	"recipient address rejected", "unable to deliver", "returned to sender",
	"delivery to the following recipient", "the following address(es) failed",
	"message could not be delivered", "unzustellbar", "n'a pas pu être remis", "退信",
	"无法投递", "無法傳遞",
};

/* The machine part of a failure report: an SMTP reply code followed by an
   RFC 3463 code ("550 5.1.1"), delivery-status fields, or the quoted
   header of the original at a line start. */
static int
report_shape(const char *text)
{
	static const char *const fields[] = {
		"\nfinal-recipient:", "\ndiagnostic-code:", "\nreporting-mta:", "\nremote-mta:",
		"\nreceived: from ", "\nreturn-path: <", "\nx-failed-recipients:",
	};
	if (ci_contains_any(text, fields, N_ELEMENTS(fields)))
		return 1;
	for (const char *p = text; *p != '\0'; p++) {
		if (!(p[0] == '4' || p[0] == '5') || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || (p > text && isalnum((unsigned char)p[-1])))
			continue;
		const char *q = p + 3;
		if (*q == '-' || *q == ' ')
			q++;
		if (q[0] == p[0] && q[1] == '.' && isdigit((unsigned char)q[2]) && q[3] == '.' &&
		    isdigit((unsigned char)q[4]))
			return 1;
	}
	return 0;
}

/* The attachments are only Outlook's winmail.dat (a TNEF read receipt). */
static int
only_tnef(const struct mime_message *msg)
{
	if (msg->n_attachments == 0)
		return 0;
	for (size_t i = 0; i < msg->n_attachments; i++)
		if (strcmp(msg->attachments[i].content_type, "application/ms-tnef") != 0)
			return 0;
	return 1;
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

/* The first TEXT_SCAN_MAX bytes of the body text (on a character
   boundary) in head. */
static const char *
text_head(const struct mime_message *msg, char *head, size_t size)
{
	const char *text = msg->text != NULL ? msg->text : "";
	size_t n = utf8_truncate_len(text, strnlen(text, size - 1));
	memcpy(head, text, n);
	head[n] = '\0';
	return head;
}

/* A subject and a body shaped like automatic mail: the reason, or NULL. */
static const char *
check_text(const struct mime_message *msg)
{
	const char *subject = msg->subject != NULL ? msg->subject : "";
	char head[TEXT_SCAN_MAX + 1];
	text_head(msg, head, sizeof(head));
	size_t n = strlen(head);

	if (auto_reply_subject(subject) && msg->text_len <= TEXT_SCAN_MAX &&
	    ci_contains_any(head, absence_words, N_ELEMENTS(absence_words))) {
		/* the notice's own words, before any quoted original */
		const char *quote = strstr(head, "\n>");
		size_t own = quote != NULL ? (size_t)(quote - head) : n;
		if (own <= NOTICE_TEXT_MAX)
			return "uncertain: subject and text read like an automatic reply";
	}
	if (ci_contains_any(subject, bounce_subjects, N_ELEMENTS(bounce_subjects)) &&
	    ci_contains_any(head, failure_words, N_ELEMENTS(failure_words)) && report_shape(head))
		return "uncertain: subject and text read like a delivery failure report";
	for (size_t i = 0; i < N_ELEMENTS(receipt_prefixes); i++) {
		if (!subject_starts(subject, receipt_prefixes[i]))
			continue;
		if (ci_contains(head, "was read on") || ci_contains(head, "wurde am") ||
		    ci_contains(head, "a été lu") || ci_contains(head, "已读") ||
		    (blank(head) && only_tnef(msg)))
			return "uncertain: subject and text read like a read receipt";
		break;
	}
	return NULL;
}

/* ---- headers ------------------------------------------------------------------ */

/* Headers that mark an automatic reply (RFC 3834 and what Exchange, Apple
   and vacation programs write); "X-Autoreply: no" is the only way to say
   "not one". */
static const char *const auto_reply_headers[] = {
	"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply", "X-Auto-Reply",
	"X-Autoreply-From",
};

static const char *const robot_headers[] = {
	"X-Autogenerated", "X-Loop", "X-FC-MachineGenerated", "X-Failed-Recipients", "X-Cron-Env",
	"X-MS-Exchange-Message-Is-Ndr", "X-MS-Exchange-Generated-Message-Source",
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

static int
header_says_no(const char *value)
{
	char tok[64];
	first_token(value, tok, sizeof(tok));
	return strcmp(tok, "no") == 0 || strcmp(tok, "false") == 0;
}

/* Each header field in turn, until fn gives a reason. */
typedef const char *header_fn(const struct mime_message *msg, const void *ctx, const char *name,
			      const char *value);

static const char *
each_header(const struct mime_message *msg, header_fn *fn, const void *ctx)
{
	for (size_t i = 0; i < msg->n_headers; i++) {
		const char *name = msg->headers[i].name;
		const char *why;
		if (name != NULL &&
		    (why = fn(msg, ctx, name, msg->headers[i].value != NULL ? msg->headers[i].value
									    : "")) != NULL)
			return why;
	}
	return NULL;
}

static const char *
loop_header(const struct mime_message *msg, const void *ctx, const char *name, const char *value)
{
	const struct autoreply_policy *policy = ctx;
	(void)msg;
	if (policy->loop_header != NULL && strcasecmp(name, policy->loop_header) == 0 &&
	    (policy->loop_value == NULL || has_word(value, policy->loop_value)))
		return errf("%s: %s (our own mail)", policy->loop_header,
			    policy->loop_value != NULL ? policy->loop_value : "present");
	return NULL;
}

static const char *
auto_reply_header(const struct mime_message *msg, const void *ctx, const char *name,
		  const char *value)
{
	char tok[64];
	(void)ctx;
	if (strcasecmp(name, "Auto-Submitted") == 0) {
		if (strcmp(first_token(value, tok, sizeof(tok)), "auto-replied") == 0)
			return "Auto-Submitted: auto-replied";
	} else if (strcasecmp(name, "Precedence") == 0) {
		if (strcmp(first_token(value, tok, sizeof(tok)), "auto_reply") == 0)
			return "Precedence: auto_reply";
	} else if (strcasecmp(name, "X-Apple-Action") == 0) {
		if (ci_contains(value, "vacation"))
			return "X-Apple-Action: vacation";
	} else if (strcasecmp(name, "X-Auto-Response-Suppress") == 0) {
		/* Exchange marks its out-of-office replies so */
		if (auto_reply_subject(msg->subject != NULL ? msg->subject : ""))
			return "X-Auto-Response-Suppress on an automatic reply's subject";
	} else {
		for (size_t k = 0; k < N_ELEMENTS(auto_reply_headers); k++)
			if (strcasecmp(name, auto_reply_headers[k]) == 0 && !header_says_no(value))
				return errf("%s header", auto_reply_headers[k]);
	}
	return NULL;
}

static const char *
machine_header(const struct mime_message *msg, const void *ctx, const char *name,
	       const char *value)
{
	char tok[64];
	(void)msg;
	(void)ctx;
	if (strcasecmp(name, "Auto-Submitted") == 0) {
		first_token(value, tok, sizeof(tok));
		return strcmp(tok, "no") != 0 ? errf("Auto-Submitted: %s", tok[0] != '\0' ? tok : "(empty)")
					      : NULL;
	}
	if (strcasecmp(name, "Precedence") == 0) {
		first_token(value, tok, sizeof(tok));
		if (strcmp(tok, "bulk") == 0 || strcmp(tok, "junk") == 0 || strcmp(tok, "list") == 0)
			return errf("Precedence: %s", tok);
		return NULL;
	}
	if (strcasecmp(name, "X-Auto-Response-Suppress") == 0) {
		if (has_word(value, "All") || has_word(value, "OOF") || has_word(value, "AutoReply"))
			return "X-Auto-Response-Suppress covers automatic replies";
		return NULL;
	}
	for (size_t k = 0; k < N_ELEMENTS(list_headers); k++)
		if (strcasecmp(name, list_headers[k]) == 0)
			return errf("%s: mailing list mail", list_headers[k]);
	for (size_t k = 0; k < N_ELEMENTS(robot_headers); k++)
		if (strcasecmp(name, robot_headers[k]) == 0 && !header_says_no(value))
			return errf("%s header", robot_headers[k]);
	if (strcasecmp(name, "Return-Path") == 0) {
		char addr[256];
		path_address(value, addr, sizeof(addr));
		if (addr[0] == '\0')
			return "empty return path (Return-Path: <>)";
		if (autoreply_robot_address(addr))
			return errf("Return-Path is a robot (%s)", addr);
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

static int
robot_name(const char *name)
{
	return name != NULL && (ci_contains(name, "mail delivery subsystem") ||
				ci_contains(name, "mail delivery system") ||
				ci_contains(name, "mailer-daemon") ||
				ci_contains(name, "mail administrator"));
}

/* Robots whose local part looks like a person's: feedback loops. */
static const char *const robot_senders[] = {
	"staff@hotmail.com", /* Microsoft JMRP complaints */
	"scomp@aol.net",     /* AOL feedback loop */
};

static const char *
check_sender(const struct mime_address *a, const char *which)
{
	if (a->address != NULL && autoreply_robot_address(a->address))
		return errf("%s is a robot (%s)", which, a->address);
	for (size_t i = 0; a->address != NULL && i < N_ELEMENTS(robot_senders); i++)
		if (strcasecmp(a->address, robot_senders[i]) == 0)
			return errf("%s is a robot (%s)", which, a->address);
	/* "From: MAILER-DAEMON" has no domain, so no address: its name says it */
	if (robot_name(a->name) || (a->address == NULL && autoreply_robot_address(a->name)))
		return errf("%s is a robot (%s)", which, a->name);
	return NULL;
}

/* hay contains one of the NULL-terminated needles (ignoring case). */
static int
any_ci(const char *hay, const char *const *needles)
{
	for (size_t i = 0; hay != NULL && needles[i] != NULL; i++)
		if (strcasestr(hay, needles[i]) != NULL)
			return 1;
	return 0;
}

static int
starts_ci(const char *s, const char *prefix)
{
	return s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *
from_address(const struct mime_message *msg)
{
	return msg->from.address != NULL ? msg->from.address : "";
}

/* ---- mailing-list managers and mobile carriers ------------------------------ */

/* The list manager itself wrote it: Mailman's -bounces/-owner/-request
   addresses, Sympa, LISTSERV, Majordomo, ezmlm, Google Groups' +owners,
   or Mailman's X-List-Administrivia. A list post from a person carries
   list headers too, so they do not count. */
int
autoreply_list_manager(const struct mime_message *msg)
{
	static const char *const locals[] = {
		"mailman", "sympa", "listserv", "majordomo", "ezmlm", "lyris", "listproc",
		"listmanager", NULL,
	};
	static const char *const suffixes[] = { "-bounces", "-owner", "-request", "-admin",
						"-approval", "+owners", "+owner", NULL };
	static const char *const names[] = { "listserv", "mailman", "sympa", "google groups", NULL };
	const char *v = mime_header_get(msg, "X-List-Administrivia");
	if (v != NULL && starts_ci(v, "yes"))
		return 1;
	const char *addr = from_address(msg);
	const char *at = strchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : 0;
	if (llen == 0)
		return msg->from.name != NULL && any_ci(msg->from.name, names);
	for (size_t i = 0; locals[i] != NULL; i++)
		if (llen == strlen(locals[i]) && strncasecmp(addr, locals[i], llen) == 0)
			return 1;
	for (size_t i = 0; suffixes[i] != NULL; i++) {
		size_t n = strlen(suffixes[i]);
		if (llen > n && strncasecmp(at - n, suffixes[i], n) == 0)
			return 1;
	}
	return starts_ci(addr, "owner-") || (msg->from.name != NULL && any_ci(msg->from.name, names));
}

/* SMS/MMS gateways and carrier mail systems whose error notices are
   written in prose. Their customers write mail from the same domains, so
   the domain alone says nothing: see carrier_notice(). */
static const char *const carrier_domains[] = {
	"vtext.com", "vzwpix.com", "mypixmessages.com", "txt.att.net", "mms.att.net",
	"tmomail.net", "messaging.sprintpcs.com", "pm.sprint.com", "mymetropcs.com",
	"myboostmobile.com", "email.uscc.net", "mms.uscc.net", "mms.cricketwireless.net",
	"sms.cricketwireless.net", "msg.fi.google.com", "vmobl.com", "vmpix.com",
	"text.republicwireless.com", "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp",
	"i.softbank.jp", "vodafone.ne.jp", "disney.ne.jp", "ymobile.ne.jp", "emnet.ne.jp",
	"pdx.ne.jp", "willcom.com", "wcm.ne.jp", NULL,
};
static const char *const carrier_automatic[] = {
	"automatically generated", "automatic message", "automated message", "automatic notification",
	"this is an automated", "this is a system", "do not reply", "please do not reply",
	"system generated", "自動送信", "送信専用", "自動的に送信", "自動配信", NULL,
};
static const char *const carrier_failed[] = {
	"could not be delivered", "couldn't be delivered", "not delivered", "undeliverable",
	"delivery failed", "failed to deliver", "no valid recipients", "invalid number",
	"invalid recipient", "not a valid", "unable to deliver", "does not exist",
	"not reachable", "送信エラー", "送信に失敗", "配信できません", "届きませんでした",
	"宛先不明", "送信できませんでした", NULL,
};
/* Service accounts of carrier mail systems (a person's local part is a
   name or a phone number). */
static const char *const carrier_services[] = {
	"post_master", "sms", "mms", "mmsc", "error", "mail-err", "mailerror", "notice",
	"system", "delivery", "sms-gateway", "mms-gateway", NULL,
};

static int
carrier_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (at == NULL)
		return 0;
	const char *d = at + 1;
	size_t dl = strlen(d);
	for (size_t i = 0; carrier_domains[i] != NULL; i++) {
		size_t n = strlen(carrier_domains[i]);
		if (dl == n ? strcasecmp(d, carrier_domains[i]) == 0
			    : dl > n && d[dl - n - 1] == '.' && strcasecmp(d + dl - n, carrier_domains[i]) == 0)
			return 1;
	}
	return 0;
}

/* A line of the shape "Error: ...", "Reason: ...", "理由: ...". */
static int
has_field_line(const char *text)
{
	static const char *const labels[] = { "error:", "reason:", "error code:", "status:",
					      "理由:", "理由：", "エラー:", "宛先:", "宛先：", NULL };
	for (const char *line = text; line != NULL && *line != '\0';) {
		while (*line == ' ' || *line == '\t')
			line++;
		for (size_t i = 0; labels[i] != NULL; i++)
			if (starts_ci(line, labels[i]))
				return 1;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return 0;
}

/* A carrier's error notice: from a carrier's domain, saying that a mail
   failed, and written by a machine: a service account with a labelled
   error line, or any sender (an MMS gateway answers as the phone number)
   with the words of an automatic message. */
int
autoreply_carrier_notice(const struct mime_message *msg, const char *report_text)
{
	const char *addr = from_address(msg);
	if (!carrier_domain(addr) && !(msg->return_path != NULL && carrier_domain(msg->return_path)))
		return 0;
	if (!any_ci(report_text, carrier_failed) && !any_ci(msg->subject, carrier_failed))
		return 0;
	if (any_ci(report_text, carrier_automatic))
		return 1;
	const char *at = strchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : 0;
	for (size_t i = 0; carrier_services[i] != NULL; i++)
		if (llen == strlen(carrier_services[i]) && strncasecmp(addr, carrier_services[i], llen) == 0)
			return has_field_line(report_text);
	return 0;
}

/* ---- a person's forward --------------------------------------------------------- */

static const char *const forward_prefixes[] = {
	"fwd:", "fw:", "wg:", "tr:", "rv:", "vb:", "doorst:", "enc:", "i:", "转发:", "轉寄:",
	"转发：", "轉寄：", "回复: fwd:",
};

static const char *const forward_marks[] = {
	"---------- forwarded message", "begin forwarded message:", "-----original message-----",
	"-------- original message --------", "-------- forwarded message --------",
	"-------- weitergeleitete nachricht --------", "-------- message transféré --------",
	"----- forwarded by ", "---- 转发邮件信息 ----", "原始邮件", "转发的邮件",
};

int
autoreply_person_forward(const struct mime_message *msg)
{
	if (msg == NULL || check_sender(&msg->from, "From") != NULL ||
	    (msg->return_path != NULL &&
	     (msg->return_path[0] == '\0' || autoreply_robot_address(msg->return_path))))
		return 0;
	if (msg->n_parts > 0 && strcmp(msg->parts[0].content_type, "multipart/report") == 0)
		return 0;
	const char *as = mime_header_get(msg, "Auto-Submitted");
	char tok[64];
	if (as != NULL && strcmp(first_token(as, tok, sizeof(tok)), "no") != 0)
		return 0;
	const char *subject = msg->subject != NULL ? msg->subject : "";
	for (size_t i = 0; i < N_ELEMENTS(forward_prefixes); i++)
		if (subject_starts(subject, forward_prefixes[i]))
			return 1;
	char head[TEXT_SCAN_MAX + 1];
	return ci_contains_any(text_head(msg, head, sizeof(head)), forward_marks,
			       N_ELEMENTS(forward_marks));
}

/* ---- the verdict ------------------------------------------------------------------ */

static enum autoreply_kind
judge(const struct mime_message *msg, const struct autoreply_policy *policy, const char **why_r)
{
	const char *why;
	char head[TEXT_SCAN_MAX + 1];

	/* our own mail */
	if (msg->message_id != NULL && (policy->msgid_prefix != NULL || policy->msgid_domain != NULL)) {
		const char *at = strrchr(msg->message_id, '@');
		int prefix_ok = policy->msgid_prefix == NULL ||
				strncasecmp(msg->message_id, policy->msgid_prefix,
					    strlen(policy->msgid_prefix)) == 0;
		int domain_ok = policy->msgid_domain == NULL ||
				(at != NULL && strcasecmp(at + 1, policy->msgid_domain) == 0);
		if (prefix_ok && domain_ok) {
			*why_r = "Message-ID is one of ours";
			return AUTOREPLY_LOOP;
		}
	}
	if ((why = each_header(msg, loop_header, policy)) != NULL) {
		*why_r = why;
		return AUTOREPLY_LOOP;
	}
	if (policy->envelope_sender != NULL && own_address(policy, policy->envelope_sender)) {
		*why_r = "envelope sender is our own address";
		return AUTOREPLY_LOOP;
	}
	if (own_address(policy, msg->from.address) || own_address(policy, msg->sender.address)) {
		*why_r = own_address(policy, msg->from.address) ? "From is our own address"
								 : "Sender is our own address";
		return AUTOREPLY_LOOP;
	}

	/* an automatic reply by its headers */
	if ((why = each_header(msg, auto_reply_header, NULL)) != NULL) {
		*why_r = why;
		return AUTOREPLY_AUTO_REPLY;
	}

	/* a machine: envelope, headers, senders, structure */
	why = NULL;
	if (policy->envelope_sender != NULL) {
		if (policy->envelope_sender[0] == '\0')
			why = "empty envelope sender (<>)";
		else if (autoreply_robot_address(policy->envelope_sender))
			why = errf("envelope sender is a robot (%s)", policy->envelope_sender);
	}
	if (why == NULL && msg->return_path != NULL && msg->return_path[0] == '\0')
		why = "empty return path (Return-Path: <>)";
	if (why == NULL)
		why = each_header(msg, machine_header, NULL);
	if (why == NULL)
		why = check_sender(&msg->from, "From");
	if (why == NULL)
		why = check_sender(&msg->sender, "Sender");
	if (why == NULL && autoreply_list_manager(msg))
		why = errf("From is a mailing-list manager (%s)", from_address(msg));
	if (why == NULL && autoreply_carrier_notice(msg, text_head(msg, head, sizeof(head))))
		why = "a mobile carrier's error notice";
	/* asked once: it searches the text's head */
	int forward = 0;
	if (why == NULL && !(forward = autoreply_person_forward(msg)))
		why = check_parts(msg);
	if (why != NULL) {
		*why_r = why;
		return AUTOREPLY_AUTOMATIC;
	}

	/* only the text is left: subject and body shape together */
	if (!forward && (why = check_text(msg)) != NULL) {
		*why_r = why;
		return AUTOREPLY_UNCERTAIN;
	}
	return AUTOREPLY_NONE;
}

enum autoreply_kind
autoreply_judge(const struct mime_message *msg, const struct autoreply_policy *policy,
		const char **why_r)
{
	static const struct autoreply_policy none = { 0 };
	*why_r = NULL;
	if (msg == NULL) {
		*why_r = "no message";
		return AUTOREPLY_AUTOMATIC;
	}
	return judge(msg, policy != NULL ? policy : &none, why_r);
}

const char *
autoreply_kind_name(enum autoreply_kind kind)
{
	static const char *const names[] = { "none", "uncertain", "automatic", "auto-reply", "loop" };
	return (size_t)kind < N_ELEMENTS(names) ? names[kind] : "?";
}

int
autoreply_suppress(const struct mime_message *msg, const struct autoreply_policy *policy,
		   const char **why_r)
{
	return autoreply_judge(msg, policy, why_r) != AUTOREPLY_NONE;
}
