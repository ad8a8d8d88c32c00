/*
 * dsn: see dsn.h.
 *
 * Written by hand: no maintained C library parses bounces. The approach
 * follows sisimai (BSD-2-Clause; studied, not copied): recognise the
 * standard machine-readable reports first, then fall back to reading the
 * human text of the ~75 mail systems in the shared corpus through a small
 * set of generic rules (where the recipient address is written, where the
 * quoted original begins), and derive an RFC 3463 status from the text,
 * from the SMTP reply code, or from the wording.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/autoreply.h"
#include "parsers/dsn.h"
#include "parsers/mime.h"
#include "base/util.h"

#define DSN_MAX_RECIPIENTS 100
#define DSN_MAX_DIAG 1000	/* bytes of diagnostic text kept per recipient */
#ifndef DSN_BLANK_END
#define DSN_BLANK_END 2		/* blank lines that end a recipient's text */
#endif

/* ---- small text helpers ------------------------------------------------- */

static int
has_ci(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

static int
has_any_ci(const char *hay, const char *const *needles)
{
	for (size_t i = 0; needles[i] != NULL; i++)
		if (has_ci(hay, needles[i]))
			return 1;
	return 0;
}

static int
starts_ci(const char *s, const char *prefix)
{
	return s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int
addr_char_local(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static int
addr_char_domain(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.';
}

/* Find the first address-like token local@domain in [s, end); fills
   out (lower-cased domain kept as written) and returns a pointer just after
   it, or NULL when there is none. start_r gets where it begins. */
static const char *
find_address(const char *s, const char *end, char *out, size_t n, const char **start_r)
{
	for (const char *p = s; p < end; p++) {
		if (*p != '@' || p == s)
			continue;
		const char *a = p;
		while (a > s && addr_char_local((unsigned char)a[-1]))
			a--;
		const char *b = p + 1;
		while (b < end && addr_char_domain((unsigned char)*b))
			b++;
		while (a < p && *a == '.')
			a++;
		while (b > p + 1 && b[-1] == '.')
			b--;
		if (a == p || b == p + 1 || memchr(p + 1, '.', (size_t)(b - p - 1)) == NULL)
			continue;
		size_t len = (size_t)(b - a);
		if (len + 1 > n)
			continue;
		memcpy(out, a, len);
		out[len] = '\0';
		if (start_r != NULL)
			*start_r = a;
		return b;
	}
	return NULL;
}

/* ---- status and reply codes ------------------------------------------- */

/* An RFC 3463 code at s: class digit, '.', subject 0-7, '.', detail 1-3
   digits; not part of a longer number, an IP address or a version. Fills
   out and returns its length, 0 when none. */
static size_t
status_at(const char *start, const char *s, char cls, char out[16])
{
	if (!(s[0] == '2' || s[0] == '4' || s[0] == '5') || (cls != 0 && s[0] != cls))
		return 0;
	if (s > start) {
		unsigned char prev = (unsigned char)s[-1];
		if (isdigit(prev) || prev == '.' || prev == 'v' || prev == 'V' || prev == '-')
			return 0;
	}
	if (s[1] != '.' || s[2] < '0' || s[2] > '7' || s[3] != '.' || !isdigit((unsigned char)s[4]))
		return 0;
	size_t i = 4;
	while (isdigit((unsigned char)s[i]) && i < 7)
		i++;
	if (isdigit((unsigned char)s[i]) || (s[i] == '.' && isdigit((unsigned char)s[i + 1])))
		return 0;
	memcpy(out, s, i);
	out[i] = '\0';
	return i;
}

static int
is_zero_code(const char *st)
{
	return st[0] != '\0' && strcmp(st + 1, ".0.0") == 0;
}

/* Choose between the status of a Status: field (a) and one found in the
   text (b), given the reply code: the more specific one wins; a class
   disagreement is settled by the reply code. */
static const char *
status_prefer(const char *a, const char *b, const char *reply)
{
	if (a[0] == '\0')
		return b;
	if (b[0] == '\0')
		return a;
	if (a[0] != b[0] && reply != NULL && reply[0] != '\0') {
		if (reply[0] == a[0])
			return a;
		if (reply[0] == b[0])
			return b;
	}
	if (strcmp(a, b) == 0)
		return a;
	if (is_zero_code(a))
		return is_zero_code(b) ? a : b;
	if (is_zero_code(b))
		return a;
	/* a bare ".0" detail or subject says less than the text */
	if ((strstr(a, ".0") != NULL) && strstr(b, ".0") == NULL)
		return b;
	/* generic codes that a more specific text should replace */
	if (strcmp(a, "4.4.7") == 0 || strcmp(a, "4.7.0") == 0 || strncmp(a, "5.3.", 4) == 0 ||
	    strncmp(a + 1, ".5.1", 4) == 0 || strncmp(a + 1, ".5.2", 4) == 0 ||
	    strncmp(a + 1, ".5.4", 4) == 0 || strncmp(a + 1, ".5.5", 4) == 0)
		return b;
	if (strcmp(a, "5.1.1") == 0)
		return strncmp(b, "5.5.", 4) == 0 || strstr(b, ".0") != NULL ? a : b;
	if (strcmp(a, "5.1.3") == 0 && strncmp(b, "5.7.", 4) == 0)
		return b;
	return a;
}

/* The status code a text gives, preferring specific codes over X.0.0 and
   4.4.7; cls restricts the class when not 0. */
static void
status_find(const char *text, char cls, char out[16])
{
	char best[16] = "", fallback[16] = "", c[16];
	out[0] = '\0';
	if (text == NULL)
		return;
	for (const char *p = text; *p != '\0'; p++) {
		size_t n = status_at(text, p, cls, c);
		if (n == 0)
			continue;
		if (is_zero_code(c) || strcmp(c, "4.4.7") == 0) {
			if (fallback[0] == '\0')
				memcpy(fallback, c, sizeof(c));
		} else if (best[0] == '\0') {
			memcpy(best, c, sizeof(c));
		} else {
			const char *pick = status_prefer(best, c, NULL);
			if (pick != best)
				memcpy(best, c, sizeof(c));
		}
		p += n - 1;
	}
	const char *r = best[0] != '\0' ? best : fallback;
	memcpy(out, r, strlen(r) + 1);
}

/* The reply codes RFC 5321 and its extensions (AUTH, DSN, RFC 7504)
   define; anything else in a text is more likely a number than a reply. */
static int
reply_code_valid(int code)
{
	static const int codes[] = {
		211, 214, 220, 221, 235, 250, 251, 252, 253, 421, 422, 430, 432, 450, 451,
		452, 453, 454, 455, 458, 459, 500, 501, 502, 503, 504, 521, 523, 524, 525,
		530, 533, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
	};
	for (size_t i = 0; i < N_ELEMENTS(codes); i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* The first SMTP reply code of class cls ('4', '5', '2'; 0: 5 then 4 then
   2) that stands as a word in text. */
static void
reply_find(const char *text, char cls, char out[4])
{
	out[0] = '\0';
	if (text == NULL || has_ci(text, "X-Unix"))
		return;
	static const char order[] = "542";
	for (int k = 0; k < 3; k++) {
		char want = cls != 0 ? cls : order[k];
		for (const char *p = text; *p != '\0'; p++) {
			if (p[0] != want || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
				continue;
			if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.' || p[-1] == '#' ||
					 p[-1] == '-' || p[-1] == '/' || p[-1] == '_' || p[-1] == '='))
				continue;
			unsigned char next = (unsigned char)p[3];
			if (isalnum(next) || next == '.' || next == '@' || next == '_' || next == '/' ||
			    next == '%' || (next == ':' && isdigit((unsigned char)p[4])))
				continue;
			int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			if (!reply_code_valid(code))
				continue;
			memcpy(out, p, 3);
			out[3] = '\0';
			return;
		}
		if (cls != 0)
			return;
	}
}

/* ---- reasons: the wording when no code is given --------------------------- */

struct reason_rule {
	const char *reason;
	const char *code; /* detail of the pseudo status X.0.<code> */
	const char *const *phrases;
};

static const char *const r_mailboxfull[] = {
	"mailbox is full", "mailbox full", "over quota", "overquota", "quota exceeded",
	"storage quota", "exceeds allowed size", "mailbox exceeds", "mailbox size limit",
	"insufficient disk space", "their mailbox is full", "user is over", "mailfolder is full",
	"exceeded storage allocation", "too much mail data", "not enough storage", NULL,
};
static const char *const r_suspend[] = {
	"account has been disabled", "account is disabled", "account disabled",
	"has been disabled or discontinued", "mailbox disabled", "mailbox is inactive",
	"account is inactive", "account has been suspended", "suspended", "is not active",
	"deactivated", "mailbox is frozen", NULL,
};
static const char *const r_hasmoved[] = { "has been replaced by", "address has changed", NULL };
static const char *const r_requireptr[] = {
	"reverse dns", "ptr record", "no ptr", "without ptr", "reverse lookup", "reverse-dns",
	"unverifyable sending ip", "unresolvable", "rdns", NULL,
};
static const char *const r_userunknown[] = {
	"user unknown", "unknown user", "no such user", "no such mailbox", "no such recipient",
	"user not found", "recipient not found", "mailbox not found", "unknown recipient",
	"recipient address rejected", "recipient name is not recognized", "invalid recipient",
	"doesn't have a", "address does not exist", "mailbox does not exist",
	"account does not exist", "not listed in",
	"unknown mailbox", "user doesn't exist", "no mailbox here", "unable to deliver message to <",
	"is not a valid mailbox", "no such account", "invalid mailbox", "mailbox unavailable",
	"user does not exist", "bad destination mailbox", "addressee unknown", "unknown local part",
	"not our customer", "not a valid user", NULL,
};
static const char *const r_hostunknown[] = {
	"host unknown", "unknown host", "host not found", "domain does not exist",
	"domain not found", "unrouteable address", "unroutable address", "no such domain",
	"domain name not found", "name or service not known", "nxdomain", "host or domain name not found",
	"does not exist", "dns lookup failure", "domain may not exist", NULL,
};
static const char *const r_notaccept[] = {
	"no mx record", "no mx found", "null mx", "does not accept mail", "not accepting mail",
	"accepts no mail", NULL,
};
static const char *const r_expired[] = {
	"retry timeout exceeded", "retry time not reached", "giving up", "envelope expired",
	"delivery time expired", "message expired", "has been delayed", "will be retried",
	"could not deliver for the last", "after multiple retries", "delivery attempts",
	"failed 20 attempts", "attempts:", "did not accept our requests to connect",
	"connection timed out", "timed out", "too long in the queue", "queue too long",
	"host not reachable", "unable to connect", "not yet been delivered", NULL,
};
static const char *const r_networkerror[] = {
	"name service error", "could not connect", "connection refused",
	"network is unreachable", "routing loop", "mail loop", "too many hops", NULL,
};
static const char *const r_blocked[] = {
	"blocked", "blacklisted", "blocklisted", "access denied", "no access from",
	"open relay", "listed in", "rbl", "spamhaus", "banned", "dnsbl", "is not allowed to send",
	"client host rejected", "redundant", NULL,
};
static const char *const r_rejected[] = {
	"sender rejected", "sender address rejected", "not a member", "permission to post",
	"not allowed to post", "may not exist, or you may not have permission", "envelope sender",
	"domain of sender address", "sender verify failed", "group you tried to contact",
	"google groups", NULL,
};
static const char *const r_filtered[] = {
	"content filter", "filtered", "message filtered", "rejected by filter", NULL,
};
static const char *const r_spamdetected[] = {
	"spam", "unsolicited", "junk mail", NULL,
};
static const char *const r_mailererror[] = {
	"pipe to |", "mailer error", "command died", "exit status", "x-unix", NULL,
};
static const char *const r_systemerror[] = {
	"system error", "internal error", "local error", "server error", NULL,
};

/* Order matters: the more specific wording first. */
static const struct reason_rule reason_rules[] = {
	{ "mailboxfull", "922", r_mailboxfull },
	{ "suspend", "921", r_suspend },
	{ "hasmoved", "916", r_hasmoved },
	{ "requireptr", "973", r_requireptr },
	{ "notaccept", "932", r_notaccept },
	{ "mailererror", "939", r_mailererror },
	{ "rejected", "918", r_rejected },
	{ "userunknown", "911", r_userunknown },
	{ "networkerror", "944", r_networkerror },
	{ "hostunknown", "912", r_hostunknown },
	{ "expired", "947", r_expired },
	{ "spamdetected", "980", r_spamdetected },
	{ "blocked", "971", r_blocked },
	{ "filtered", "910", r_filtered },
	{ "systemerror", "930", r_systemerror },
};

static const struct reason_rule *
reason_find(const char *text)
{
	if (text == NULL || *text == '\0')
		return NULL;
	for (size_t i = 0; i < N_ELEMENTS(reason_rules); i++)
		if (has_any_ci(text, reason_rules[i].phrases))
			return &reason_rules[i];
	return NULL;
}

static int
text_is_temporary(const char *diag, const char *reply)
{
	if (reply != NULL && reply[0] == '4')
		return 1;
	if (reply != NULL && reply[0] == '5')
		return 0;
	return has_ci(diag, "temporar");
}

/* ---- building the report -------------------------------------------------- */

static struct dsn_report *
report_new(enum dsn_kind kind, const char *format)
{
	struct dsn_report *r = xcalloc(1, sizeof(*r));
	r->kind = kind;
	r->format = format;
	return r;
}

/* One line, printable, at most max bytes on a UTF-8 boundary; NULL when
   nothing is left. */
static char *
text_clean(const char *s, size_t len, size_t max)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	int space = 1;
	for (size_t i = 0; i < len && o < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				out[o++] = ' ';
			space = 1;
		} else {
			out[o++] = (char)c;
			space = 0;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	out[utf8_truncate_len(out, o)] = '\0';
	if (out[0] == '\0') {
		free(out);
		return NULL;
	}
	return out;
}

static char *
diag_clean(const char *s, size_t len)
{
	return text_clean(s, len, DSN_MAX_DIAG);
}

static struct dsn_recipient *
recipient_add(struct dsn_report *r, const char *address)
{
	if (address != NULL) {
		for (size_t i = 0; i < r->n_recipients; i++)
			if (r->recipients[i].address != NULL &&
			    strcasecmp(r->recipients[i].address, address) == 0)
				return &r->recipients[i];
	}
	if (r->n_recipients >= DSN_MAX_RECIPIENTS)
		return NULL;
	r->recipients = xreallocarray(r->recipients, r->n_recipients + 1, sizeof(*r->recipients));
	struct dsn_recipient *d = &r->recipients[r->n_recipients++];
	memset(d, 0, sizeof(*d));
	d->address = address != NULL ? xstrdup(address) : NULL;
	return d;
}

/* Fill status and reply code from what the recipient's diagnostic says,
   given the Status: field (may be ""). When the diagnostic says nothing
   usable (no code, no known wording), the whole report text (context,
   may be NULL) is read instead. */
static void
recipient_codes(struct dsn_recipient *d, const char *field_status, const char *context)
{
	char found[16], reply[4];
	const char *diag = d->diagnostic;
	int own = 1; /* the recipient's own text, not the whole report's */
	status_find(diag, 0, found);
	reply_find(diag, 0, reply);
	if (found[0] == '\0' && reply[0] == '\0' && reason_find(diag) == NULL && context != NULL) {
		if (field_status[0] == '\0' || is_zero_code(field_status)) {
			diag = context;
			own = 0;
			status_find(diag, 0, found);
			reply_find(diag, 0, reply);
		} else {
			reply_find(context, field_status[0], reply);
		}
	}
	const char *st = status_prefer(field_status, found, reply);
	const struct reason_rule *rule = reason_find(diag);
	/* "5.0.0" alone with no text of its own: the wording says more */
	if (st[0] == '\0' || (is_zero_code(st) && !own && found[0] == '\0' && rule != NULL)) {
		int temp = st[0] != '\0' ? st[0] == '4' : text_is_temporary(diag, reply);
		snprintf(d->status, sizeof(d->status), "%c.0.%s", temp ? '4' : '5',
			 rule != NULL ? rule->code : diag != NULL ? "901" : "900");
	} else {
		snprintf(d->status, sizeof(d->status), "%s", st);
	}
	/* a reply code of another class than the status is not this failure's */
	if (reply[0] != '\0' && reply[0] != d->status[0])
		reply_find(diag, d->status[0], reply);
	memcpy(d->reply_code, reply, sizeof(d->reply_code));
}

/* ---- header blocks (delivery-status, feedback-report, rfc822 headers) ------ */

/* Iterate over the fields of a header-like block, unfolding. Calls fn for
   each field with its name and value (NUL-terminated copies); a blank line
   ends a group (fn called with name NULL). */
typedef void (*field_fn)(void *ctx, const char *name, const char *value);

static void
fields_walk(const unsigned char *data, size_t len, field_fn fn, void *ctx)
{
	struct buf name, value;
	int have = 0;
	buf_init(&name, 256);
	buf_init(&value, 64 * 1024);
	size_t i = 0;
	while (i <= len) {
		size_t e = i;
		while (e < len && data[e] != '\n')
			e++;
		size_t le = e;
		if (le > i && data[le - 1] == '\r')
			le--;
		const unsigned char *line = data + i;
		size_t ll = le - i;
		if (ll == 0) {
			if (have)
				fn(ctx, buf_cstr(&name), buf_cstr(&value));
			have = 0;
			fn(ctx, NULL, NULL);
		} else if ((line[0] == ' ' || line[0] == '\t') && have) {
			buf_putc(&value, ' ');
			size_t k = 0;
			while (k < ll && (line[k] == ' ' || line[k] == '\t'))
				k++;
			buf_append(&value, line + k, ll - k);
		} else {
			if (have)
				fn(ctx, buf_cstr(&name), buf_cstr(&value));
			have = 0;
			const unsigned char *colon = memchr(line, ':', ll);
			if (colon != NULL && colon > line) {
				buf_reset(&name);
				buf_reset(&value);
				buf_append(&name, line, (size_t)(colon - line));
				size_t k = (size_t)(colon - line) + 1;
				while (k < ll && (line[k] == ' ' || line[k] == '\t'))
					k++;
				buf_append(&value, line + k, ll - k);
				have = 1;
			}
		}
		if (e >= len)
			break;
		i = e + 1;
	}
	if (have)
		fn(ctx, buf_cstr(&name), buf_cstr(&value));
	fn(ctx, NULL, NULL);
	buf_free(&name);
	buf_free(&value);
}

/* "rfc822; a@b" -> "a@b" */
static const char *
after_type(const char *v)
{
	const char *semi = strchr(v, ';');
	if (semi != NULL)
		v = semi + 1;
	while (*v == ' ' || *v == '\t' || *v == '<')
		v++;
	return v;
}

struct ds_group {
	char final_rcpt[320];
	char orig_rcpt[320];
	char action[32];
	char status[16];
	struct buf diag;
	int any;
};

struct ds_ctx {
	struct dsn_report *report;
	const char *context; /* the human-readable report, or NULL */
	struct ds_group g;
	int failed, delayed, delivered;
};

static void
ds_flush(struct ds_ctx *c)
{
	struct ds_group *g = &c->g;
	if (g->final_rcpt[0] != '\0' || g->orig_rcpt[0] != '\0' ||
	    (g->action[0] != '\0' && g->status[0] != '\0')) {
		const char *addr = g->final_rcpt[0] != '\0' ? g->final_rcpt : g->orig_rcpt;
		char clean[320];
		if (find_address(addr, addr + strlen(addr), clean, sizeof(clean), NULL) == NULL)
			clean[0] = '\0';
		struct dsn_recipient *d = recipient_add(c->report, clean[0] != '\0' ? clean : NULL);
		if (d != NULL) {
			free(d->action);
			d->action = g->action[0] != '\0' ? xstrdup(g->action) : NULL;
			free(d->diagnostic);
			d->diagnostic = diag_clean(buf_cstr(&g->diag), g->diag.len);
			char st[16] = "";
			/* "5.0.0 (permanent failure)" and the like */
			for (const char *p = g->status; *p != '\0'; p++)
				if (status_at(g->status, p, 0, st) > 0)
					break;
			recipient_codes(d, st, c->context);
			const char *a = g->action;
			int cls = d->status[0];
			if (starts_ci(a, "failed") || (a[0] == '\0' && (cls == '5')))
				c->failed++;
			else if (starts_ci(a, "delayed") || (a[0] == '\0' && cls == '4'))
				c->delayed++;
			else if (starts_ci(a, "deliver") || starts_ci(a, "relayed") ||
				 starts_ci(a, "expanded") || (a[0] == '\0' && cls == '2'))
				c->delivered++;
			else if (cls == '4')
				c->delayed++;
			else
				c->failed++;
		}
	}
	g->final_rcpt[0] = g->orig_rcpt[0] = g->action[0] = g->status[0] = '\0';
	buf_reset(&g->diag);
	g->any = 0;
}

static void
copy_field(char *dst, size_t n, const char *v)
{
	size_t len = strlen(v);
	if (len >= n)
		len = n - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	str_trim(dst);
}

static void
ds_field(void *ctx, const char *name, const char *value)
{
	struct ds_ctx *c = ctx;
	struct ds_group *g = &c->g;
	if (name == NULL) {
		ds_flush(c);
		return;
	}
	if (strcasecmp(name, "Final-Recipient") == 0) {
		if (g->final_rcpt[0] != '\0')
			ds_flush(c); /* a new recipient without a blank line */
		copy_field(g->final_rcpt, sizeof(g->final_rcpt), after_type(value));
	} else if (strcasecmp(name, "Original-Recipient") == 0) {
		copy_field(g->orig_rcpt, sizeof(g->orig_rcpt), after_type(value));
	} else if (strcasecmp(name, "Action") == 0) {
		copy_field(g->action, sizeof(g->action), value);
	} else if (strcasecmp(name, "Status") == 0) {
		copy_field(g->status, sizeof(g->status), value);
	} else if (strcasecmp(name, "Diagnostic-Code") == 0) {
		buf_reset(&g->diag);
		buf_puts(&g->diag, after_type(value));
	}
}

/* Parse RFC 3464 fields; returns the kind they add up to (DSN_NONE when
   no recipient was found). */
static enum dsn_kind
parse_delivery_status(struct dsn_report *r, const unsigned char *data, size_t len,
		      const char *context)
{
	struct ds_ctx c;
	memset(&c, 0, sizeof(c));
	c.report = r;
	c.context = context;
	buf_init(&c.g.diag, 64 * 1024);
	fields_walk(data, len, ds_field, &c);
	buf_free(&c.g.diag);
	if (c.failed > 0)
		return DSN_FAILED;
	if (c.delayed > 0)
		return DSN_DELAYED;
	if (c.delivered > 0)
		return DSN_DELIVERED;
	return DSN_NONE;
}

/* Message-ID of a header block (first one). */
struct msgid_ctx {
	char *id;
	int done;
};

static void
msgid_field(void *ctx, const char *name, const char *value)
{
	struct msgid_ctx *c = ctx;
	if (name == NULL) {
		c->done = 1; /* only the first header block */
		return;
	}
	if (c->done || c->id != NULL || strcasecmp(name, "Message-ID") != 0)
		return;
	const char *lt = strchr(value, '<');
	const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt == NULL || gt == NULL || gt - lt < 4)
		return;
	c->id = diag_clean(lt + 1, (size_t)(gt - lt - 1));
	if (c->id != NULL && (strchr(c->id, '@') == NULL || strchr(c->id, ' ') != NULL)) {
		free(c->id);
		c->id = NULL;
	}
}

static char *
header_block_message_id(const unsigned char *data, size_t len)
{
	struct msgid_ctx c = { NULL, 0 };
	/* skip leading blank lines (some MTAs start the part with one) */
	while (len > 0 && (data[0] == '\r' || data[0] == '\n')) {
		data++;
		len--;
	}
	fields_walk(data, len, msgid_field, &c);
	return c.id;
}

/* ---- ARF (RFC 5965) --------------------------------------------------------- */

struct arf_ctx {
	struct dsn_report *report;
};

static void
arf_field(void *ctx, const char *name, const char *value)
{
	struct arf_ctx *c = ctx;
	if (name == NULL)
		return;
	if (strcasecmp(name, "Feedback-Type") == 0 && c->report->feedback_type == NULL) {
		c->report->feedback_type = diag_clean(value, strlen(value));
	} else if (strcasecmp(name, "Original-Rcpt-To") == 0 ||
		   strcasecmp(name, "Removal-Recipient") == 0) {
		char a[320];
		if (find_address(value, value + strlen(value), a, sizeof(a), NULL) != NULL)
			recipient_add(c->report, a);
	}
}

/* ---- the parsed message ------------------------------------------------------ */

/* The first attachment of one of the content types, when the part is a
   direct child of the top (depth <= 1): a report forwarded inside another
   message does not count. */
static const struct mime_attachment *
top_attachment(const struct mime_message *msg, const char *const *types)
{
	int shallow = 0;
	for (size_t i = 0; i < msg->n_parts && !shallow; i++)
		for (size_t k = 0; types[k] != NULL; k++)
			if (msg->parts[i].depth <= 1 &&
			    strcmp(msg->parts[i].content_type, types[k]) == 0)
				shallow = 1;
	if (!shallow)
		return NULL;
	for (size_t i = 0; i < msg->n_attachments; i++)
		for (size_t k = 0; types[k] != NULL; k++)
			if (strcmp(msg->attachments[i].content_type, types[k]) == 0)
				return &msg->attachments[i];
	return NULL;
}

static const char *const ds_types[] = { "message/delivery-status",
					"message/global-delivery-status", NULL };
static const char *const fb_types[] = { "message/feedback-report", NULL };
static const char *const orig_types[] = { "message/rfc822", "text/rfc822-headers",
					  "message/global", "message/global-headers",
					  "message/partial", NULL };

static char *
original_message_id_from_parts(const struct mime_message *msg)
{
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		for (size_t k = 0; orig_types[k] != NULL; k++) {
			if (strcmp(a->content_type, orig_types[k]) != 0 || a->size == 0)
				continue;
			char *id = header_block_message_id(a->data, a->size);
			if (id != NULL)
				return id;
		}
	}
	return NULL;
}

/* "Message-ID: <x@y>" anywhere in text (a quoted original). */
static char *
original_message_id_from_text(const char *text)
{
	if (text == NULL)
		return NULL;
	const char *p = text;
	while ((p = strcasestr(p, "message-id:")) != NULL) {
		int at_line_start = p == text || p[-1] == '\n' || p[-1] == ' ' || p[-1] == '\t';
		p += 11;
		if (!at_line_start)
			continue;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '<')
			continue;
		const char *gt = strchr(p, '>');
		const char *nl = strchr(p, '\n');
		if (gt == NULL || (nl != NULL && nl < gt) || gt - p < 4)
			continue;
		char *id = diag_clean(p + 1, (size_t)(gt - p - 1));
		if (id != NULL && strchr(id, '@') != NULL && strchr(id, ' ') == NULL)
			return id;
		free(id);
	}
	return NULL;
}

static const char *
from_address(const struct mime_message *msg)
{
	return msg->from.address != NULL ? msg->from.address : "";
}

/* Is the sender a mail system rather than a person? */
static int
sender_is_daemon(const struct mime_message *msg)
{
	static const char *const locals[] = {
		"mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon", "postmaster",
		"post_master", "mail.delivery", "mail-delivery", "mailerdaemon", "bounce", "bounces",
		NULL,
	};
	static const char *const names[] = {
		"mail delivery", "mailer daemon", "mailer-daemon", "postmaster",
		"system administrator", "mail deliver system", "mail administrator",
		"interscan", "content-filter", "content filter", NULL,
	};
	const char *from_hdr = mime_header_get(msg, "From");
	const char *addr = from_address(msg);
	const char *at = strchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	/* the whole local part, or a prefix of it ending at a separator */
	for (size_t i = 0; locals[i] != NULL; i++) {
		size_t n = strlen(locals[i]);
		if (llen >= n && strncasecmp(addr, locals[i], n) == 0 &&
		    (llen == n || !isalnum((unsigned char)addr[n])))
			return 1;
	}
	if (msg->from.name != NULL && has_any_ci(msg->from.name, names))
		return 1;
	/* From: MAILER-DAEMON <> and other forms libetpan leaves unparsed */
	return from_hdr != NULL && (has_ci(from_hdr, "mailer-daemon") || has_ci(from_hdr, "postmaster"));
}

/* A mailing list manager refusing a post from a non-member (fml,
   Mailman...): sent from the list's -admin/-owner/-request address or with
   list headers. People writing "rejected" in a subject must not match. */
static int
list_sender(const struct mime_message *msg)
{
	static const char *const suffixes[] = { "-admin@", "-owner@", "-request@", "-bounces@",
						NULL };
	return mime_header_get(msg, "X-MLServer") != NULL ||
	       mime_header_get(msg, "X-ML-Name") != NULL ||
	       mime_header_get(msg, "List-Id") != NULL ||
	       mime_header_get(msg, "List-Subscribe") != NULL ||
	       has_any_ci(from_address(msg), suffixes);
}

static int
list_refusal(const struct mime_message *msg, const char *report_text)
{
	return list_sender(msg) &&
	       (has_ci(msg->subject, "not member") || has_ci(msg->subject, "not a member") ||
		has_ci(report_text, "not a member of this"));
}

static int
null_sender(const struct mime_message *msg)
{
	const char *rp = msg->return_path;
	if (rp == NULL)
		return 0;
	return rp[0] == '\0' || strcasecmp(rp, "MAILER-DAEMON") == 0 ||
	       starts_ci(rp, "mailer-daemon@") || starts_ci(rp, "postmaster@");
}

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "not delivered", "delivery status notification",
	"returned mail", "mail delivery failed", "failure notice", "delivery failure",
	"delivery has failed", "could not be delivered", "non-delivery", "nondeliver",
	"mail system error", "delivery notification", "permanent delivery failure",
	"error sending your mail", "returned to sender", "delivery failed", "delivery problem",
	"returning message to sender", "mail failed", "message delayed", "delivery delayed",
	"warning: message", "delivery status", "rejected", "mail delivery", "bounce",
	"are not member", "not a member", "unzustellbar", "non remis", "no entregado", "退信", "无法投递", "未送達", "配信", NULL,
};

static const char *const bounce_bodies[] = {
	"this is the qmail-send program", "mail delivery software", "mail delivery system",
	"i'm sorry to have to inform you", "could not be delivered", "couldn't be delivered",
	"delivery to the following recipient", "the following address(es) failed",
	"transcript of session follows", "did not reach the following recipient",
	"permanent fatal errors", "fatal errors", "unable to deliver", "failure reasons",
	"was not delivered", "delivery has failed", "this is the mailer-daemon",
	"unable to deliver your message", "error delivering your mail", "retry timeout exceeded",
	"below this line is a copy of the message", "delivery failed", "could not be reached",
	"was undeliverable", "undeliverable", "has not yet been delivered", "permanent error",
	"delivery problems", "not be delivered", "returned mail", "delivery report",
	"rejected by", "not a member of this", "may not exist, or you may not have permission",
	"group you tried to contact", "not be able to deliver", "delivery status notification",
	"message could not", "this message was created automatically", "user unknown",
	"mailbox is full", "delivery failure", "error has occurred while attempting to deliver",
	"your message", "invalid user address", "error message below", NULL,
};

/* Where the quoted original starts in a text bounce (NULL: not found). */
static const char *
original_start(const char *text)
{
	static const char *const marks[] = {
		"below this line is a copy of the message", "this is a copy of the message",
		"original message follows", "----- original message", "original message -----",
		"message headers follow", "unsent message follows", "returned message",
		"below is a copy of the original message", "message text follows",
		"the original message was", "original message header", "headers of the original",
		"-- original message", "content-type: message/rfc822", "received: from",
		"return-path: <", NULL,
	};
	/* The marks are lower case: the text is folded once and searched
	   with strstr() (17 strcasestr() over every mail's text were ~1% of
	   an import); the offsets are the same in both. */
	size_t len = strlen(text);
	char *folded = xmalloc(len + 1);
	for (size_t i = 0; i <= len; i++)
		folded[i] = (char)tolower((unsigned char)text[i]);
	const char *best = NULL;
	for (size_t i = 0; marks[i] != NULL; i++) {
		const char *p = strstr(folded, marks[i]);
		/* "the original message was received at ..." opens Sendmail's report */
		if (p != NULL && i == 10)
			continue;
		if (p != NULL && (best == NULL || p < best))
			best = p;
	}
	if (best != NULL)
		best = text + (best - folded);
	free(folded);
	if (best == NULL)
		return NULL;
	/* back to the start of the line */
	while (best > text && best[-1] != '\n')
		best--;
	return best;
}

/* A line that starts with a recipient address: "<a@b>:", "a@b", "a@b on
   <date>", "Recipient: <a@b>", "RCPT TO:<a@b>", "Final-Recipient: rfc822;
   a@b", ">>> a@b". Fills addr and returns the rest of the line. */
static const char *
address_led(const char *line, const char *eol, char *addr, size_t n)
{
	static const char *const prefixes[] = {
		"final-recipient:", "original-recipient:", "recipient:", "rcpt to:", ">>> rcpt to:",
		">>>", "address:", "to:", "recipient address:", "failed recipient:", "*", "-", NULL,
	};
	const char *p = line;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	for (size_t i = 0; prefixes[i] != NULL; i++) {
		size_t l = strlen(prefixes[i]);
		if ((size_t)(eol - p) > l && strncasecmp(p, prefixes[i], l) == 0) {
			p += l;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if ((i == 0 || i == 1) && p < eol) {
				const char *semi = memchr(p, ';', (size_t)(eol - p));
				if (semi != NULL)
					p = semi + 1;
				while (p < eol && *p == ' ')
					p++;
			}
			break;
		}
	}
	const char *q = p;
	if (q < eol && (*q == '<' || *q == '"' || *q == '('))
		q++;
	const char *start;
	const char *end = find_address(q, eol, addr, n, &start);
	if (end == NULL || start != q)
		return NULL;
	if (end < eol && (*end == '>' || *end == '"' || *end == ')'))
		end++;
	while (end < eol && (*end == ':' || *end == ',' || *end == ' ' || *end == '\t' || *end == '.'))
		end++;
	return end;
}

/* Collect recipients from the text of a non-standard bounce. */
static void
parse_text_bounce(struct dsn_report *r, const struct mime_message *msg, const char *text,
		  size_t len)
{
	char addr[320];
	struct dsn_recipient *cur = NULL;
	struct buf diag;
	int blank_run = 0;
	char *context = text_clean(text, len, len);
	buf_init(&diag, 64 * 1024);
	const char *ignore1 = msg->to.count > 0 ? msg->to.items[0].address : NULL;
	const char *end = text + len;

	for (const char *line = text; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		const char *rest = address_led(line, eol, addr, sizeof(addr));
		if (rest != NULL && ignore1 != NULL && strcasecmp(addr, ignore1) == 0)
			rest = NULL; /* the bounce's own recipient, our sender */
		if (rest != NULL) {
			if (cur != NULL && cur->diagnostic == NULL)
				cur->diagnostic = diag_clean(buf_cstr(&diag), diag.len);
			buf_reset(&diag);
			cur = recipient_add(r, addr);
			if (cur != NULL && cur->diagnostic != NULL)
				cur = NULL; /* the same address again: keep the first text */
			buf_append(&diag, rest, (size_t)(eol - rest));
			blank_run = 0;
		} else if (cur != NULL) {
			const char *p = line;
			while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p == eol) {
				/* two blank lines end the text unless none was read yet */
				if (diag.len > 0 && ++blank_run >= DSN_BLANK_END) {
					cur->diagnostic = diag_clean(buf_cstr(&diag), diag.len);
					buf_reset(&diag);
					cur = NULL;
				}
			} else {
				buf_putc(&diag, ' ');
				buf_append(&diag, p, (size_t)(eol - p));
				blank_run = 0;
			}
		}
		line = eol < end ? eol + 1 : end;
	}
	if (cur != NULL && cur->diagnostic == NULL)
		cur->diagnostic = diag_clean(buf_cstr(&diag), diag.len);
	buf_free(&diag);

	/* Exim names them in a header */
	const char *xfr = mime_header_get(msg, "X-Failed-Recipients");
	if (xfr != NULL) {
		const char *p = xfr, *e = xfr + strlen(xfr);
		while ((p = find_address(p, e, addr, sizeof(addr), NULL)) != NULL)
			recipient_add(r, addr);
	}
	/* Nothing address-led: the first address in the text that is not the
	   bounce's own sender or recipient, with the whole text. */
	if (r->n_recipients == 0) {
		const char *p = text, *s;
		while ((p = find_address(p, end, addr, sizeof(addr), &s)) != NULL) {
			if ((ignore1 != NULL && strcasecmp(addr, ignore1) == 0) ||
			    strcasecmp(addr, from_address(msg)) == 0 || s < text)
				continue;
			break;
		}
		struct dsn_recipient *d = recipient_add(r, p != NULL ? addr : NULL);
		if (d != NULL)
			d->diagnostic = diag_clean(text, len);
	}
	/* recipients without their own text share the whole report's */
	for (size_t i = 0; i < r->n_recipients; i++) {
		struct dsn_recipient *d = &r->recipients[i];
		if (d->diagnostic == NULL)
			d->diagnostic = diag_clean(text, len);
		recipient_codes(d, "", context);
		if (d->action == NULL)
			d->action = xstrdup(d->status[0] == '4' ? "delayed" : "failed");
	}
	free(context);
}

/* ---- Amazon SES notifications (JSON relayed by SNS) ------------------------ */

/* The string value of "key" in [p, end) (JSON, escapes not decoded except
   \" ), or 0 when absent. */
static int
json_value(const char *p, const char *end, const char *key, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *k = memmem(p, (size_t)(end - p), pat, strlen(pat));
	if (k == NULL)
		return 0;
	k += strlen(pat);
	while (k < end && (*k == ' ' || *k == ':'))
		k++;
	if (k >= end || *k != '"')
		return 0;
	k++;
	size_t o = 0;
	while (k < end && *k != '"' && o + 1 < n) {
		if (*k == '\\' && k + 1 < end)
			k++;
		out[o++] = *k++;
	}
	out[o] = '\0';
	return 1;
}

static int
parse_ses(struct dsn_report *r, const char *text)
{
	/* The notification is a JSON string inside SNS's JSON: undo \" */
	size_t len = strlen(text);
	char *j = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && (text[i + 1] == '"' || text[i + 1] == '\\'))
			i++;
		j[o++] = text[i];
	}
	j[o] = '\0';
	const char *end = j + o;
	char type[32], v[1024], addr[320];
	int ret = 0;
	if (!json_value(j, end, "notificationType", type, sizeof(type)))
		goto out;
	if (strcmp(type, "Bounce") == 0 || strcmp(type, "Complaint") == 0) {
		int complaint = type[0] == 'C';
		r->kind = complaint ? DSN_FEEDBACK : DSN_FAILED;
		if (complaint && json_value(j, end, "complaintFeedbackType", v, sizeof(v)))
			r->feedback_type = xstrdup(v);
		const char *p = j;
		while ((p = memmem(p, (size_t)(end - p), "\"emailAddress\"", 14)) != NULL) {
			const char *obj_end = memchr(p, '}', (size_t)(end - p));
			if (obj_end == NULL)
				obj_end = end;
			if (json_value(p, obj_end, "emailAddress", addr, sizeof(addr))) {
				struct dsn_recipient *d = recipient_add(r, addr);
				if (d != NULL && !complaint) {
					if (json_value(p, obj_end, "action", v, sizeof(v)))
						d->action = xstrdup(v);
					if (json_value(p, obj_end, "diagnosticCode", v, sizeof(v)))
						d->diagnostic = diag_clean(after_type(v), strlen(after_type(v)));
					char st[16] = "";
					if (json_value(p, obj_end, "status", v, sizeof(v)))
						status_at(v, v, 0, st);
					recipient_codes(d, st, NULL);
				}
			}
			p = obj_end;
		}
		ret = 1;
	} else if (strcmp(type, "Delivery") == 0) {
		r->kind = DSN_DELIVERED;
		const char *rc = memmem(j, o, "\"recipients\"", 12);
		if (rc != NULL) {
			const char *close = memchr(rc, ']', (size_t)(end - rc));
			const char *q = rc;
			while ((q = find_address(q, close != NULL ? close : end, addr, sizeof(addr),
						 NULL)) != NULL) {
				struct dsn_recipient *d = recipient_add(r, addr);
				if (d != NULL) {
					d->action = xstrdup("delivered");
					if (json_value(j, end, "smtpResponse", v, sizeof(v)))
						d->diagnostic = diag_clean(v, strlen(v));
					recipient_codes(d, "", NULL);
				}
			}
		}
		ret = 1;
	}
out:
	free(j);
	return ret;
}

/* RFC 3834 automatic replies, by their headers: autoreply.c decides. */
static int
is_auto_reply(const struct mime_message *msg)
{
	const char *why;
	return autoreply_judge(msg, NULL, &why) == AUTOREPLY_AUTO_REPLY;
}

/* ---- notices written by mailing-list managers ------------------------------ */

static const char *const list_held[] = {
	"awaits moderator approval", "awaiting moderator approval", "is being held",
	"held for moderation", "held until the list moderator", "pending moderation",
	"pending approval", "awaiting approval", "awaiting moderation", "requires approval",
	"requires moderator approval", "forwarded to the moderator", "forwarded to the list's editor",
	"forwarded to editor", "forwarded to the editor", "waiting for approval",
	"submitted to the moderators", "needs to be approved", NULL,
};
static const char *const list_looped[] = {
	"loop detected", "mail loop", "is looping", "appears to be looping", "looping message",
	"implicit destination", "already been through this list", "already went through this list",
	"already has my delivered-to", NULL,
};
static const char *const list_refused[] = {
	"not a member", "non-member", "members-only", "not allowed to post",
	"not authorized to send", "not authorised to send", "permission to post",
	"has been rejected", "was rejected", "rejected posting", "was not distributed",
	"has been discarded", NULL,
};

/* The posting address of the list whose manager wrote msg: its From
   without the manager's suffix ("mylist-bounces@x" -> "mylist@x"), or
   NULL (Sympa and LISTSERV write from one address for all lists). */
static char *
list_address(const struct mime_message *msg)
{
	static const char *const suffixes[] = { "-bounces", "-owner", "-request", "-admin",
						"-approval", "+owners", "+owner", NULL };
	const char *addr = from_address(msg);
	const char *at = strchr(addr, '@');
	if (at == NULL || at == addr)
		return NULL;
	size_t llen = (size_t)(at - addr);
	for (size_t i = 0; suffixes[i] != NULL; i++) {
		size_t n = strlen(suffixes[i]);
		if (llen > n && strncasecmp(at - n, suffixes[i], n) == 0)
			return xasprintf("%.*s%s", (int)(llen - n), addr, at);
	}
	if (starts_ci(addr, "owner-") && llen > 6)
		return xstrdup(addr + 6);
	return NULL;
}

/* A list manager's notice about a mail of ours: held for moderation (a
   delay: a moderator may still let it through), refused, or stopped as a
   loop. Only the manager's own words count (text before the original). */
static struct dsn_report *
list_notice(const struct mime_message *msg, const char *report_text)
{
	if (!autoreply_list_manager(msg))
		return NULL;
	const char *status, *format, *action;
	enum dsn_kind kind;
	if (has_any_ci(report_text, list_looped) || has_any_ci(msg->subject, list_looped)) {
		kind = DSN_FAILED, status = "5.4.6", format = "list-loop", action = "failed";
	} else if (has_any_ci(report_text, list_held) || has_any_ci(msg->subject, list_held)) {
		kind = DSN_DELAYED, status = "4.7.0", format = "list-held", action = "delayed";
	} else if (has_any_ci(report_text, list_refused) || has_any_ci(msg->subject, list_refused)) {
		kind = DSN_FAILED, status = "5.7.1", format = "list-refusal", action = "failed";
	} else {
		return NULL;
	}
	struct dsn_report *r = report_new(kind, format);
	char *list = list_address(msg);
	struct dsn_recipient *d = recipient_add(r, list);
	free(list);
	if (d != NULL) {
		d->action = xstrdup(action);
		snprintf(d->status, sizeof(d->status), "%s", status);
		d->diagnostic = diag_clean(report_text, strlen(report_text));
	}
	return r;
}

/* ---- error notices of mobile carriers (not RFC 3464) ----------------------- */

static void
envelope_add(struct dsn_report *r, const char *value)
{
	char a[320];
	if (value == NULL)
		return;
	const char *p = value, *e = value + strlen(value);
	while ((p = find_address(p, e, a, sizeof(a), NULL)) != NULL) {
		for (size_t i = 0; i < r->n_envelope_to; i++)
			if (strcasecmp(r->envelope_to[i], a) == 0)
				goto next;
		if (r->n_envelope_to >= 16)
			return;
		r->envelope_to = xreallocarray(r->envelope_to, r->n_envelope_to + 1, sizeof(char *));
		r->envelope_to[r->n_envelope_to++] = xstrdup(a);
next:;
	}
}

static void
report_finish(struct dsn_report *r, const struct mime_message *msg, const char *text)
{
	static const char *const env_headers[] = { "Delivered-To", "X-Original-To", "Envelope-To",
						   "X-Envelope-To", NULL };
	for (size_t i = 0; i < msg->n_headers; i++)
		for (size_t k = 0; env_headers[k] != NULL; k++)
			if (strcasecmp(msg->headers[i].name, env_headers[k]) == 0)
				envelope_add(r, msg->headers[i].value);
	for (size_t i = 0; i < msg->to.count; i++)
		envelope_add(r, msg->to.items[i].address);
	if (r->original_message_id == NULL)
		r->original_message_id = original_message_id_from_parts(msg);
	if (r->original_message_id == NULL && text != NULL) {
		const char *orig = original_start(text);
		r->original_message_id = original_message_id_from_text(orig != NULL ? orig : text);
	}
}

static enum dsn_kind analyze(const struct mime_message *msg, const char *text,
			     struct dsn_report **report_r);

enum dsn_kind
dsn_analyze(const struct mime_message *msg, struct dsn_report **report_r)
{
	*report_r = NULL;
	if (msg == NULL)
		return DSN_NONE;
	const char *text = msg->text != NULL ? msg->text : "";
	struct dsn_report *r = NULL;
	char *fallback_text = NULL;
	enum dsn_kind kind;

	/* No body text (e.g. a multipart whose boundary parameter was lost to
	   bad folding): read the first text-like part instead. */
	if (*text == '\0') {
		for (size_t i = 0; i < msg->n_attachments; i++) {
			const struct mime_attachment *a = &msg->attachments[i];
			if (a->size > 0 && (str_starts_with(a->content_type, "text/plain") ||
					    str_starts_with(a->content_type, "multipart/"))) {
				fallback_text = xstrndup((const char *)a->data, a->size);
				text = fallback_text;
				break;
			}
		}
	}
	kind = analyze(msg, text, &r);
	free(fallback_text);
	*report_r = r;
	return kind;
}

static enum dsn_kind
analyze(const struct mime_message *msg, const char *text, struct dsn_report **report_r)
{
	struct dsn_report *r = NULL;

	/* a person forwarding a bounce or a notice asks about it: mail */
	if (autoreply_person_forward(msg))
		return DSN_NONE;

	/* 1. ARF feedback reports, and the two common non-standard ones */
	const struct mime_attachment *fb = top_attachment(msg, fb_types);
	if (fb != NULL || has_ci(mime_header_get(msg, "X-Apple-Unsubscribe"), "true") ||
	    (strcasestr(msg->subject, "complaint about message from") != NULL &&
	     msg->n_attachments > 0)) {
		r = report_new(DSN_FEEDBACK, "arf");
		if (fb != NULL) {
			struct arf_ctx c = { r };
			fields_walk(fb->data, fb->size, arf_field, &c);
		} else if (mime_header_get(msg, "X-Apple-Unsubscribe") != NULL) {
			r->feedback_type = xstrdup("opt-out");
		} else {
			r->feedback_type = xstrdup("abuse");
		}
		/* the complained-about message's recipient, when not stated */
		for (size_t i = 0; i < msg->n_attachments && r->n_recipients == 0; i++) {
			const struct mime_attachment *a = &msg->attachments[i];
			if (strcmp(a->content_type, "message/rfc822") != 0 &&
			    strcmp(a->content_type, "text/rfc822-headers") != 0)
				continue;
			const char *d = (const char *)a->data, *end = d + a->size;
			const char *h = NULL;
			const char *keys[] = { "X-HmXmrOriginalRecipient:", "\nTo:" };
			for (size_t k = 0; k < 2 && h == NULL; k++) {
				const char *p = memmem(d, a->size, keys[k], strlen(keys[k]));
				if (p != NULL)
					h = p + strlen(keys[k]);
			}
			char addr[320];
			if (h != NULL && h < end) {
				const char *eol = memchr(h, '\n', (size_t)(end - h));
				if (find_address(h, eol != NULL ? eol : end, addr, sizeof(addr), NULL) !=
				    NULL)
					recipient_add(r, addr);
			}
		}
		if (r->n_recipients == 0)
			recipient_add(r, NULL);
		report_finish(r, msg, text);
		*report_r = r;
		return r->kind;
	}

	/* 2. RFC 3464 delivery status notifications */
	const struct mime_attachment *ds = top_attachment(msg, ds_types);
	if (ds != NULL) {
		r = report_new(DSN_FAILED, "rfc3464");
		const char *orig = original_start(text);
		size_t clen = orig != NULL ? (size_t)(orig - text) : strlen(text);
		char *context = text_clean(text, clen, clen);
		enum dsn_kind k = parse_delivery_status(r, ds->data, ds->size, context);
		free(context);
		if (k != DSN_NONE) {
			r->kind = k;
			report_finish(r, msg, text);
			*report_r = r;
			return r->kind;
		}
		dsn_report_free(&r);
	}

	/* Amazon SES notifications forwarded by SNS */
	if (strcasestr(from_address(msg), "amazonaws.com") != NULL &&
	    strstr(text, "notificationType") != NULL) {
		r = report_new(DSN_FAILED, "amazonses");
		if (parse_ses(r, text) && r->n_recipients > 0) {
			report_finish(r, msg, NULL);
			*report_r = r;
			return r->kind;
		}
		dsn_report_free(&r);
	}

	/* 3. bounces in prose (and delivery-status fields pasted in text);
	   the text is only searched when the sender looks automatic, so that
	   ordinary mail costs next to nothing here */
	int daemon = sender_is_daemon(msg), null_rp = null_sender(msg);
	const char *orig = original_start(text);
	size_t report_len = orig != NULL ? (size_t)(orig - text) : strlen(text);
	char *report_text = xstrndup(text, report_len);
	/* The bounce phrases only count from a daemon or a null sender: not
	   searched for in anyone else's mail (they were ~2.5% of an import). */
	int subj = 0, body = 0;
	if (daemon || null_rp) {
		subj = has_any_ci(msg->subject, bounce_subjects);
		body = has_any_ci(report_text, bounce_bodies);
	}
	int carrier = 0;
	if (!daemon && !null_rp && !list_sender(msg)) {
		carrier = autoreply_carrier_notice(msg, report_text);
		if (!carrier && (r = list_notice(msg, report_text)) == NULL) {
			free(report_text);
			goto auto_reply;
		}
	}
	if (r == NULL && !carrier && !(daemon && (subj || body)) &&
	    !(null_rp && (subj || body) && !is_auto_reply(msg)) && !list_refusal(msg, report_text))
		r = list_notice(msg, report_text);
	if (r != NULL) {
		report_finish(r, msg, text);
		free(report_text);
		*report_r = r;
		return r->kind;
	}
	if (carrier || (daemon && (subj || body)) || (null_rp && (subj || body) && !is_auto_reply(msg)) ||
	    list_refusal(msg, report_text)) {
		r = report_new(DSN_FAILED, carrier ? "carrier" : "text");
		if (strcasestr(report_text, "Final-Recipient:") != NULL &&
		    strcasestr(report_text, "Status:") != NULL) {
			const char *f = strcasestr(report_text, "Final-Recipient:");
			enum dsn_kind k = parse_delivery_status(r, (const unsigned char *)f, strlen(f),
								NULL);
			if (k != DSN_NONE)
				r->kind = k;
		}
		if (r->n_recipients == 0)
			parse_text_bounce(r, msg, report_text, report_len);
		int failed = 0, delayed = 0;
		for (size_t i = 0; i < r->n_recipients; i++) {
			if (r->recipients[i].status[0] == '4')
				delayed++;
			else
				failed++;
		}
		if (r->kind == DSN_FAILED && failed == 0 && delayed > 0)
			r->kind = DSN_DELAYED;
		report_finish(r, msg, text);
		free(report_text);
		*report_r = r;
		return r->kind;
	}
	free(report_text);

auto_reply:
	/* 4. automatic replies */
	if (is_auto_reply(msg)) {
		r = report_new(DSN_AUTO_REPLY, "rfc3834");
		recipient_add(r, msg->from.address);
		report_finish(r, msg, NULL);
		*report_r = r;
		return r->kind;
	}
	return DSN_NONE;
}

const char *
dsn_kind_name(enum dsn_kind kind)
{
	static const char *const names[] = { "none", "failed", "delayed", "delivered", "feedback",
					     "auto-reply" };
	return (size_t)kind < N_ELEMENTS(names) ? names[kind] : "?";
}

void
dsn_report_free(struct dsn_report **reportp)
{
	struct dsn_report *r = *reportp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_recipients; i++) {
		free(r->recipients[i].address);
		free(r->recipients[i].action);
		free(r->recipients[i].diagnostic);
	}
	free(r->recipients);
	free(r->original_message_id);
	free(r->feedback_type);
	for (size_t i = 0; i < r->n_envelope_to; i++)
		free(r->envelope_to[i]);
	free(r->envelope_to);
	free(r);
	*reportp = NULL;
}
