/*
 * thread: see thread.h and docs/threading.md. Hand-written on top of
 * crypto (HMAC, random bytes) and the store's look-ups: the rules are
 * deskgate's own.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/store/store-merge.h"
#include "gateway/thread.h"
#include "parsers/authres.h"
#include "parsers/mime.h"
#include "base/base32.h"
#include "base/util.h"

#define SECRET_MAX 64
#define MSGID_RANDOM_BYTES 15 /* 120 bits, 24 base32 characters */
#define MSGID_RANDOM_LEN 24
#define MAX_REFERENCES 64     /* Message-IDs of one message looked up */
#define TICKET_DIGITS_MAX 18

struct thread_config {
	unsigned char secret[SECRET_MAX];
	size_t secret_len;
	char *support_local;
	char *support_domain;
	char delimiters[8];
	char *tag_prefix; /* the subject tag before the number ("%%" made "%") */
	char *tag_suffix; /* and after it */
	char *hostname;
	int64_t reopen_period;
	int64_t duplicate_window;
	enum thread_auth auth;
	char *authserv_id;
	char **agents;
	size_t n_agents;
	int64_t now;
};

const char *
thread_role_name(enum thread_role role)
{
	switch (role) {
	case THREAD_ROLE_AGENT:
		return "agent";
	case THREAD_ROLE_CC:
		return "cc";
	case THREAD_ROLE_CUSTOMER:
		break;
	}
	return "customer";
}

static void
wipe(void *p, size_t len)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	volatile unsigned char *v = p;
	while (len-- > 0)
		*v++ = 0;
#endif
}

/* Read the key: hex digits on the first line. */
static int
secret_load(const char *path, struct thread_config *tc, const char **error_r)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*error_r = errf("threading secret_file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("threading secret_file %s is readable by others (mode %o): chmod 600 it",
			  path, (unsigned int)(st.st_mode & 0777));
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		*error_r = errf("threading secret_file %s: %s", path, strerror(errno));
		return -1;
	}
	size_t len = (size_t)n, digits = 0;
	while (digits < len && hex_digit_value((unsigned char)buf[digits]) >= 0)
		digits++;
	int bad = digits < len && buf[digits] != '\n' && buf[digits] != '\r';
	if (bad || digits % 2 != 0 || digits / 2 < THREAD_SECRET_MIN || digits / 2 > SECRET_MAX) {
		wipe(buf, sizeof(buf));
		*error_r = errf("threading secret_file %s: want %d to %d hex digits on the first line "
				"(`deskgate init` writes one)", path, 2 * THREAD_SECRET_MIN,
				2 * SECRET_MAX);
		return -1;
	}
	for (size_t i = 0; i < digits / 2; i++)
		tc->secret[i] = (unsigned char)(hex_digit_value((unsigned char)buf[2 * i]) << 4 |
						hex_digit_value((unsigned char)buf[2 * i + 1]));
	tc->secret_len = digits / 2;
	wipe(buf, sizeof(buf));
	return 0;
}

/* Split "[Support #%d]" into "[Support #" and "]"; exactly one %d, other
   '%' only as "%%". */
static int
tag_format_parse(const char *fmt, struct thread_config *tc, const char **error_r)
{
	struct buf pre, suf, *cur = &pre;
	int seen = 0;
	buf_init(&pre, 256);
	buf_init(&suf, 256);
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%') {
			buf_putc(cur, (unsigned char)*p);
			continue;
		}
		if (p[1] == '%') {
			buf_putc(cur, '%');
			p++;
		} else if (p[1] == 'd' && !seen) {
			seen = 1;
			cur = &suf;
			p++;
		} else {
			seen = -1;
			break;
		}
	}
	const char *s = buf_cstr(&pre);
	int has_mark = 0;
	for (; *s != '\0'; s++)
		if (*s != ' ' && (*s < '0' || *s > '9'))
			has_mark = 1;
	if (seen != 1 || !has_mark) {
		buf_free(&pre);
		buf_free(&suf);
		*error_r = errf("threading subject_tag \"%s\": want text, then %%d once (the ticket "
				"number), e.g. \"[Support #%%d]\"", fmt);
		return -1;
	}
	tc->tag_prefix = buf_steal(&pre, NULL);
	tc->tag_suffix = buf_steal(&suf, NULL);
	buf_free(&pre);
	buf_free(&suf);
	return 0;
}

int
thread_config_new(const struct config *config, struct thread_config **tc_r, const char **error_r)
{
	const struct config_threading *th = &config->threading;
	struct thread_config *tc = xcalloc(1, sizeof(*tc));
	*tc_r = NULL;

	const char *at = strrchr(config->support_address, '@');
	if (at == NULL || at == config->support_address || at[1] == '\0') {
		*error_r = errf("support_address %s is not local@domain", config->support_address);
		goto fail;
	}
	tc->support_local = xstrndup(config->support_address, (size_t)(at - config->support_address));
	tc->support_domain = xstrdup(at + 1);
	const char *delim = th->recipient_delimiter != NULL ? th->recipient_delimiter : "+";
	if (strlen(delim) == 0 || strlen(delim) >= sizeof(tc->delimiters) ||
	    strpbrk(delim, "@\"<>()[],;:\\ 0123456789") != NULL) {
		*error_r = errf("threading recipient_delimiter \"%s\": want one to %zu punctuation "
				"characters such as \"+\"", delim, sizeof(tc->delimiters) - 1);
		goto fail;
	}
	snprintf(tc->delimiters, sizeof(tc->delimiters), "%s", delim);
	if (strchr(tc->support_local, tc->delimiters[0]) != NULL) {
		*error_r = errf("support_address %s already contains the recipient delimiter \"%c\"",
				config->support_address, tc->delimiters[0]);
		goto fail;
	}
	if (tag_format_parse(th->subject_tag != NULL ? th->subject_tag : "[Support #%d]", tc,
			     error_r) < 0)
		goto fail;
	if (th->secret_file == NULL) {
		*error_r = "threading secret_file is not set";
		goto fail;
	}
	if (secret_load(th->secret_file, tc, error_r) < 0)
		goto fail;
	tc->hostname = xstrdup(config->hostname != NULL ? config->hostname : "localhost");
	tc->authserv_id = xstrdup(th->authserv_id != NULL ? th->authserv_id : tc->hostname);
	/* The window a reply reopens in: [solved] reopen_grace, capped by
	   [threading] reopen_period (the older key). */
	tc->reopen_period = (int64_t)th->reopen_period;
	if ((int64_t)config->solved.reopen_grace < tc->reopen_period)
		tc->reopen_period = (int64_t)config->solved.reopen_grace;
	tc->duplicate_window = (int64_t)th->duplicate_window;
	const char *mode = th->require_auth_results != NULL ? th->require_auth_results : "auto";
	tc->auth = strcmp(mode, "yes") == 0 ? THREAD_AUTH_YES
		   : strcmp(mode, "no") == 0 ? THREAD_AUTH_NO
					     : THREAD_AUTH_AUTO;
	tc->agents = xcalloc(config->n_agents + 1, sizeof(*tc->agents));
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if (a->address == NULL || strchr(a->address, '@') == NULL) {
			*error_r = errf("[agent %s]: address (local@domain) is required", a->label);
			goto fail;
		}
		if (strcasecmp(a->address, config->support_address) == 0) {
			*error_r = errf("[agent %s]: the agent address cannot be support_address",
					a->label);
			goto fail;
		}
		tc->agents[tc->n_agents++] = xstrdup(a->address);
	}
	*tc_r = tc;
	return 0;
fail:
	thread_config_free(&tc);
	return -1;
}

void
thread_config_free(struct thread_config **tcp)
{
	struct thread_config *tc = *tcp;
	if (tc == NULL)
		return;
	wipe(tc->secret, sizeof(tc->secret));
	free(tc->support_local);
	free(tc->support_domain);
	free(tc->tag_prefix);
	free(tc->tag_suffix);
	free(tc->hostname);
	free(tc->authserv_id);
	for (size_t i = 0; tc->agents != NULL && i < tc->n_agents; i++)
		free(tc->agents[i]);
	free(tc->agents);
	free(tc);
	*tcp = NULL;
}

void
thread_config_set_now(struct thread_config *tc, int64_t now)
{
	tc->now = now;
}

enum thread_auth
thread_auth_mode(const struct thread_config *tc)
{
	return tc->auth;
}

int
thread_is_agent_address(const struct thread_config *tc, const char *address)
{
	if (address == NULL)
		return 0;
	for (size_t i = 0; i < tc->n_agents; i++)
		if (strcasecmp(tc->agents[i], address) == 0)
			return 1;
	return 0;
}

int
thread_is_support_address(const struct thread_config *tc, const char *address)
{
	if (address == NULL)
		return 0;
	const char *at = strrchr(address, '@');
	if (at == NULL || strcasecmp(at + 1, tc->support_domain) != 0)
		return 0;
	size_t llen = (size_t)(at - address), sl = strlen(tc->support_local);
	if (llen < sl || strncasecmp(address, tc->support_local, sl) != 0)
		return 0;
	return llen == sl || strchr(tc->delimiters, address[sl]) != NULL;
}

/* ---- signed reply addresses -------------------------------------------- */

static void
make_tag(const struct thread_config *tc, int64_t ticket_id, char side,
	 char out[THREAD_TAG_LEN + 1])
{
	char data[64];
	unsigned char mac[32];
	int n = snprintf(data, sizeof(data), "deskgate-reply-v1:%lld:%c", (long long)ticket_id, side);
	crypto_hmac_sha256(tc->secret, tc->secret_len, data, (size_t)n, mac);
	base32_encode(mac, THREAD_TAG_LEN * 5 / 8, out);
	wipe(mac, sizeof(mac));
}

static int
equal_const_time(const char *a, const char *b, size_t len)
{
	unsigned int diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

char *
thread_reply_address(const struct thread_config *tc, int64_t ticket_id, enum thread_role role)
{
	char tag[THREAD_TAG_LEN + 1];
	make_tag(tc, ticket_id, role == THREAD_ROLE_AGENT ? 'a' : 'c', tag);
	return xasprintf("%s%c%lld-%s@%s", tc->support_local, tc->delimiters[0],
			 (long long)ticket_id, tag, tc->support_domain);
}

/* The sub-address of a support+SUB@domain address (blanks and angle
   brackets around it allowed): 1 with *sub_r and *len_r pointing into
   address, 0 for any other address. */
static int
support_sub_address(const struct thread_config *tc, const char *address, const char **sub_r,
		    size_t *len_r)
{
	if (address == NULL)
		return 0;
	const char *a = address;
	size_t len = strlen(a);
	while (len > 0 && (*a == ' ' || *a == '\t' || *a == '<')) {
		a++;
		len--;
	}
	while (len > 0 && (a[len - 1] == ' ' || a[len - 1] == '\t' || a[len - 1] == '>'))
		len--;
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (a[i] == '@')
			at = a + i;
	if (at == NULL)
		return 0;
	size_t llen = (size_t)(at - a), dlen = len - llen - 1;
	if (dlen != strlen(tc->support_domain) || strncasecmp(at + 1, tc->support_domain, dlen) != 0)
		return 0;
	size_t sl = strlen(tc->support_local);
	if (llen <= sl + 1 || strncasecmp(a, tc->support_local, sl) != 0 ||
	    strchr(tc->delimiters, a[sl]) == NULL)
		return 0;
	*sub_r = a + sl + 1;
	*len_r = llen - sl - 1;
	return 1;
}

int
thread_reply_address_parse(const struct thread_config *tc, const char *address,
			   int64_t *ticket_id_r, enum thread_role *role_r, const char **error_r)
{
	const char *p;
	size_t rest, digits = 0;
	if (!support_sub_address(tc, address, &p, &rest))
		return 0;
	while (digits < rest && p[digits] >= '0' && p[digits] <= '9')
		digits++;
	if (digits == 0 || digits >= rest || p[digits] != '-')
		return 0; /* another sub-address, not a ticket's */

	const char *why = NULL;
	char num[TICKET_DIGITS_MAX + 1];
	uint64_t ticket = 0;
	const char *tag = p + digits + 1;
	size_t tlen = rest - digits - 1;
	if (digits > TICKET_DIGITS_MAX || p[0] == '0') {
		why = "bad ticket number";
	} else {
		memcpy(num, p, digits);
		num[digits] = '\0';
		if (str_to_u64(num, INT64_MAX, &ticket) < 0 || ticket == 0)
			why = "bad ticket number";
		else if (tlen != THREAD_TAG_LEN || !base32_valid(tag, tlen))
			why = "malformed tag";
	}
	if (why == NULL) {
		char given[THREAD_TAG_LEN + 1], want_c[THREAD_TAG_LEN + 1], want_a[THREAD_TAG_LEN + 1];
		for (size_t i = 0; i < THREAD_TAG_LEN; i++)
			given[i] = (char)(tag[i] >= 'A' && tag[i] <= 'Z' ? tag[i] - 'A' + 'a' : tag[i]);
		given[THREAD_TAG_LEN] = '\0';
		make_tag(tc, (int64_t)ticket, 'c', want_c);
		make_tag(tc, (int64_t)ticket, 'a', want_a);
		int is_c = equal_const_time(given, want_c, THREAD_TAG_LEN);
		int is_a = equal_const_time(given, want_a, THREAD_TAG_LEN);
		if (is_a || is_c) {
			*ticket_id_r = (int64_t)ticket;
			*role_r = is_a ? THREAD_ROLE_AGENT : THREAD_ROLE_CUSTOMER;
			return 1;
		}
		why = "tag does not verify";
	}
	*error_r = errf("reply address %s: %s", log_safe(address, 300), why);
	return -1;
}

/* ---- survey vote addresses --------------------------------------------- */

char *
thread_vote_address(const struct thread_config *tc, int64_t ticket_id, int score)
{
	char tag[THREAD_TAG_LEN + 1];
	make_tag(tc, ticket_id, (char)('0' + score), tag);
	return xasprintf("%s%cv%lld-%d-%s@%s", tc->support_local, tc->delimiters[0],
			 (long long)ticket_id, score, tag, tc->support_domain);
}

int
thread_vote_address_parse(const struct thread_config *tc, const char *address,
			  int64_t *ticket_id_r, int *score_r, const char **error_r)
{
	const char *p;
	size_t len, digits = 0;
	if (!support_sub_address(tc, address, &p, &len) || len < 2 || (p[0] != 'v' && p[0] != 'V'))
		return 0;
	p++;
	len--;
	while (digits < len && p[digits] >= '0' && p[digits] <= '9')
		digits++;
	/* v TICKET - SCORE - TAG */
	if (digits == 0 || digits + 3 + THREAD_TAG_LEN != len || p[digits] != '-' ||
	    p[digits + 1] < '0' || p[digits + 1] > '5' || p[digits + 2] != '-')
		return 0;
	char num[TICKET_DIGITS_MAX + 1];
	uint64_t ticket = 0;
	const char *tag = p + digits + 3, *why = "tag does not verify";
	if (digits > TICKET_DIGITS_MAX || p[0] == '0') {
		why = "bad ticket number";
	} else {
		memcpy(num, p, digits);
		num[digits] = '\0';
		if (str_to_u64(num, INT64_MAX, &ticket) < 0 || ticket == 0) {
			why = "bad ticket number";
		} else if (base32_valid(tag, THREAD_TAG_LEN)) {
			char given[THREAD_TAG_LEN + 1], want[THREAD_TAG_LEN + 1];
			for (size_t i = 0; i < THREAD_TAG_LEN; i++)
				given[i] = (char)(tag[i] >= 'A' && tag[i] <= 'Z' ? tag[i] - 'A' + 'a'
										  : tag[i]);
			make_tag(tc, (int64_t)ticket, p[digits + 1], want);
			if (equal_const_time(given, want, THREAD_TAG_LEN)) {
				*ticket_id_r = (int64_t)ticket;
				*score_r = p[digits + 1] - '0';
				return 1;
			}
		}
	}
	*error_r = errf("vote address %s: %s", log_safe(address, 300), why);
	return -1;
}

/* ---- subject tags -------------------------------------------------------- */

char *
thread_subject_tag(const struct thread_config *tc, int64_t ticket_id)
{
	return xasprintf("%s%lld%s", tc->tag_prefix, (long long)ticket_id, tc->tag_suffix);
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* Match lit at s: ASCII case-insensitively, any run of blanks in lit
   matching any run (of one or more) in s. Returns the bytes of s matched,
   or 0. */
static size_t
match_loose(const char *s, const char *lit)
{
	const char *p = s;
	while (*lit != '\0') {
		if (is_space((unsigned char)*lit)) {
			if (!is_space((unsigned char)*p))
				return 0;
			while (is_space((unsigned char)*lit))
				lit++;
			while (is_space((unsigned char)*p))
				p++;
			continue;
		}
		int a = (unsigned char)*p, b = (unsigned char)*lit;
		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a == '\0' || a != b)
			return 0;
		p++;
		lit++;
	}
	return (size_t)(p - s);
}

int
thread_subject_parse(const struct thread_config *tc, const char *subject, int64_t *ticket_id_r)
{
	if (subject == NULL)
		return 0;
	size_t len = strnlen(subject, 64 * 1024);
	for (size_t i = 0; i < len; i++) {
		size_t n = match_loose(subject + i, tc->tag_prefix);
		if (n == 0)
			continue;
		const char *p = subject + i + n;
		while (is_space((unsigned char)*p))
			p++;
		size_t digits = 0;
		while (p[digits] >= '0' && p[digits] <= '9')
			digits++;
		if (digits == 0 || digits > TICKET_DIGITS_MAX || p[0] == '0')
			continue;
		const char *q = p + digits;
		while (is_space((unsigned char)*q) && tc->tag_suffix[0] != '\0' &&
		       !is_space((unsigned char)tc->tag_suffix[0]))
			q++;
		if (tc->tag_suffix[0] != '\0' ? match_loose(q, tc->tag_suffix) == 0
					      : (*q >= '0' && *q <= '9'))
			continue;
		char num[TICKET_DIGITS_MAX + 1];
		uint64_t v;
		memcpy(num, p, digits);
		num[digits] = '\0';
		if (str_to_u64(num, INT64_MAX, &v) < 0 || v == 0)
			continue;
		*ticket_id_r = (int64_t)v;
		return 1;
	}
	return 0;
}

char *
thread_subject_add_tag(const struct thread_config *tc, const char *subject, int64_t ticket_id)
{
	int64_t have;
	if (subject == NULL)
		subject = "";
	if (thread_subject_parse(tc, subject, &have) == 1 && have == ticket_id)
		return xstrdup(subject);
	char *tag = thread_subject_tag(tc, ticket_id);
	char *out = *subject == '\0' ? xstrdup(tag) : xasprintf("%s %s", tag, subject);
	free(tag);
	return out;
}

/* ---- Message-IDs ----------------------------------------------------------- */

int
thread_message_id_new(const struct thread_config *tc, int64_t ticket_id, char **msgid_r,
		      const char **error_r)
{
	unsigned char rnd[MSGID_RANDOM_BYTES];
	char enc[MSGID_RANDOM_LEN + 1];
	if (crypto_random(rnd, sizeof(rnd), error_r) < 0)
		return -1;
	base32_encode(rnd, sizeof(rnd), enc);
	*msgid_r = xasprintf("dg.%lld.%s@%s", (long long)(ticket_id > 0 ? ticket_id : 0), enc,
			     tc->hostname);
	return 0;
}

int
thread_message_id_is_ours(const struct thread_config *tc, const char *msgid, int64_t *ticket_id_r)
{
	if (msgid == NULL)
		return 0;
	const char *p = msgid;
	size_t len = strlen(p);
	if (len > 0 && *p == '<') {
		p++;
		len--;
	}
	if (len > 0 && p[len - 1] == '>')
		len--;
	if (len < 3 || strncmp(p, "dg.", 3) != 0)
		return 0;
	size_t i = 3, digits = 0;
	while (i + digits < len && p[i + digits] >= '0' && p[i + digits] <= '9')
		digits++;
	if (digits == 0 || digits > TICKET_DIGITS_MAX || i + digits >= len || p[i + digits] != '.')
		return 0;
	char num[TICKET_DIGITS_MAX + 1];
	memcpy(num, p + i, digits);
	num[digits] = '\0';
	i += digits + 1;
	if (i + MSGID_RANDOM_LEN >= len || !base32_valid(p + i, MSGID_RANDOM_LEN) ||
	    p[i + MSGID_RANDOM_LEN] != '@')
		return 0;
	i += MSGID_RANDOM_LEN + 1;
	if (len - i != strlen(tc->hostname) || strncasecmp(p + i, tc->hostname, len - i) != 0)
		return 0;
	uint64_t v;
	if (str_to_u64(num, INT64_MAX, &v) < 0)
		return 0;
	if (ticket_id_r != NULL)
		*ticket_id_r = (int64_t)v;
	return 1;
}

/* ---- helpers of the decision ------------------------------------------------ */

static void
decision_event(struct thread_decision *d, const char *kind, int64_t other_ticket, const char *detail)
{
	if (d->event_detail == NULL) {
		d->event_detail = xstrdup(detail);
	} else {
		char *s = xasprintf("%s; %s", d->event_detail, detail);
		free(d->event_detail);
		d->event_detail = s;
	}
	if (d->event_kind == NULL || strcmp(kind, "security") == 0) {
		free(d->event_kind);
		d->event_kind = xstrdup(kind);
	}
	if (other_ticket != 0 && d->event_ticket == 0)
		d->event_ticket = other_ticket;
}

static enum thread_role
role_from_name(const char *name)
{
	if (name != NULL && strcmp(name, "customer") == 0)
		return THREAD_ROLE_CUSTOMER;
	/* "cc", and "agent" without the agent tag: never agent mail */
	return THREAD_ROLE_CC;
}

static int
text_is_blank(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; p != NULL && *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

/* The ticket of an earlier message with the same text from the same
   sender within the window: 1 found, 0 none, -1 error. */
static int
same_text(struct store *store, const struct thread_config *tc, const struct mime_message *msg,
	  int64_t now, int64_t *ticket_id_r, const char **error_r)
{
	if (msg->text == NULL || text_is_blank(msg->text) || tc->duplicate_window == 0)
		return 0;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	crypto_sha256_hex(msg->text, strlen(msg->text), hex);
	return store_message_find_same_text(store, msg->from.address, hex,
					    now - tc->duplicate_window, ticket_id_r, error_r);
}

/* Is domain d the From domain, or a parent of it (relaxed alignment,
   RFC 7489 3.1.1, without a public suffix list: only a verifier's pass
   for d gets here, and that needs d's own DNS)? */
static int
aligned(const char *from_domain, const char *d)
{
	if (d == NULL || from_domain == NULL)
		return 0;
	size_t fl = strlen(from_domain), dl = strlen(d);
	return dl > 0 && dl <= fl && strcasecmp(from_domain + fl - dl, d) == 0 &&
	       (dl == fl || from_domain[fl - dl - 1] == '.');
}

/* Authentication-Results (parsers/authres.c): only the topmost header
   counts (the receiving MTA prepends its own; any below it came with the
   mail and could be forged), and only when its authserv-id is ours. A pass
   is dmarc=pass with header.from the From domain, or dkim=pass with
   header.d (else header.i's domain) aligned with it. 1: a pass; 0: no
   pass (*why_r); -1: no header of ours at all (*why_r), which
   require_auth_results = auto reads as an MTA that adds none. */
static int
auth_results_pass(const struct thread_config *tc, const struct mime_message *msg,
		  const char *from, const char **why_r)
{
	const char *top = NULL;
	int ours = 0;
	for (size_t i = 0; i < msg->n_headers; i++) {
		if (strcasecmp(msg->headers[i].name, "Authentication-Results") != 0)
			continue;
		const char *v = msg->headers[i].value;
		if (top == NULL)
			top = v;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, " \t;(");
		if (n == strlen(tc->authserv_id) && strncasecmp(v, tc->authserv_id, n) == 0)
			ours = 1;
	}
	if (!ours) {
		*why_r = errf("no Authentication-Results header of authserv_id %s", tc->authserv_id);
		return -1;
	}
	struct authres *ar = NULL;
	const char *error;
	if (authres_parse(top, strlen(top), &ar, &error) < 0) {
		*why_r = errf("the topmost Authentication-Results header is unreadable (%s)", error);
		return 0;
	}
	int pass = 0;
	if (strcasecmp(ar->authserv_id, tc->authserv_id) != 0) {
		*why_r = "the topmost Authentication-Results header is not from authserv_id";
		authres_free(&ar);
		return 0;
	}
	const char *at = strrchr(from, '@');
	const char *domain = at != NULL ? at + 1 : "";
	for (size_t i = 0; i < ar->n_results && !pass; i++) {
		const struct authres_result *r = &ar->results[i];
		if (strcmp(r->result, "pass") != 0)
			continue;
		if (strcmp(r->method, "dmarc") == 0) {
			const char *hf = authres_prop(r, "header", "from");
			pass = hf != NULL && strcasecmp(authres_domain(hf) != NULL ? authres_domain(hf)
										    : "",
						       domain) == 0;
		} else if (strcmp(r->method, "dkim") == 0) {
			const char *d = authres_prop(r, "header", "d");
			if (d == NULL)
				d = authres_domain(authres_prop(r, "header", "i"));
			pass = aligned(domain, d);
		}
	}
	authres_free(&ar);
	if (!pass)
		*why_r = "Authentication-Results has no dmarc=pass for the From domain nor an aligned "
			 "dkim=pass";
	return pass;
}

/* Does the From header name nothing but the agent's address? Every '@' in
   it must belong to an occurrence of the address: a second address (a
   quoted local part such as "<agent@example.test>"@evil.example, or
   garbage around the address) is not the agent, whatever an address
   parser made of it. */
static int
from_is_only(const struct mime_message *msg, const char *address)
{
	const char *v = mime_header_get(msg, "From");
	size_t alen = strlen(address);
	if (v == NULL)
		return 1; /* nothing for a parser to have misread */
	for (const char *p = v; *p != '\0'; p++) {
		if (strncasecmp(p, address, alen) == 0) {
			p += alen - 1;
			continue;
		}
		if (*p == '@')
			return 0;
	}
	return 1;
}

/* When the ticket was closed: the instant pending_solve() keeps in the
   field "_closed_at" (PENDING_FIELD_CLOSED_AT of gateway/pending.h, read
   here by name: pending depends on threading, not the other way), so that
   a later note or event does not move it; else the ticket's last change
   (tickets closed before it existed). */
static int
closed_at(struct store *store, const struct store_ticket *t, int64_t *at_r, const char **error_r)
{
	struct store_field *fields = NULL;
	size_t n = 0;
	*at_r = t->updated_at;
	if (store_ticket_field_list(store, t->id, &fields, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *end;
		long long v;
		if (strcmp(fields[i].name, "_closed_at") == 0 &&
		    (v = strtoll(fields[i].value, &end, 10)) > 0 && *end == '\0')
			*at_r = v;
	}
	store_fields_free(&fields, n);
	return 0;
}

/* A customer-side reply: to a pending ticket (waiting on the customer), it
   opens it again; to a closed one, it reopens it within the reopen window
   after closing, else it opens a new ticket linked to it. */
static int
apply_closed(struct store *store, const struct thread_config *tc, const struct store_ticket *t,
	     int64_t now, struct thread_decision *d, const char **error_r)
{
	int64_t at;
	if (t->status == NULL || d->role == THREAD_ROLE_AGENT)
		return 0;
	if (strcmp(t->status, "pending") == 0) {
		d->reopen = 1;
		return 0;
	}
	if (strcmp(t->status, "closed") != 0)
		return 0;
	if (closed_at(store, t, &at, error_r) < 0)
		return -1;
	if (now - at <= tc->reopen_period) {
		d->reopen = 1;
		return 0;
	}
	char *detail = xasprintf("reply to ticket #%lld, closed more than the reopen period ago: "
				 "new ticket linked to it", (long long)t->id);
	decision_event(d, "thread", t->id, detail);
	free(detail);
	d->linked_ticket = t->id;
	d->ticket_id = 0;
	d->role = THREAD_ROLE_CUSTOMER;
	d->add_participant = 0;
	d->suppress_ack = 0;
	d->reason = "reply to a ticket closed long ago: new linked ticket";
	return 0;
}

/* Join ticket_id with role (from the participant list, or cc when the
   caller established the right another way). 1 joined, 0 no such ticket,
   -1 error. */
static int
join(struct store *store, const struct thread_config *tc, const struct mime_message *msg,
     int64_t ticket_id, enum thread_role role, int add_participant, enum thread_rule rule,
     const char *reason, int64_t now, struct thread_decision *d, const char **error_r)
{
	struct store_ticket *t = NULL;
	/* A merged ticket lives on in the one it was merged into (#merge,
	   gateway/merge.h): whatever reaches it reaches the end of its chain;
	   the right to write was checked on the ticket addressed (its
	   participants are copied, never moved). */
	int64_t end = ticket_id;
	int ret = store_ticket_merged_end(store, ticket_id, &end, error_r);
	if (ret <= 0)
		return ret;
	if (end != ticket_id) {
		d->merged_from = ticket_id;
		char *detail = xasprintf("ticket #%lld was merged into #%lld: joined #%lld",
					 (long long)ticket_id, (long long)end, (long long)end);
		decision_event(d, "thread", 0, detail);
		free(detail);
		ticket_id = end;
	}
	ret = store_ticket_get(store, ticket_id, &t, error_r);
	if (ret <= 0)
		return ret;
	d->ticket_id = ticket_id;
	d->role = role;
	d->rule = rule;
	d->reason = reason;
	d->add_participant = add_participant;
	if (role != THREAD_ROLE_AGENT) {
		int64_t dup = 0;
		ret = same_text(store, tc, msg, now, &dup, error_r);
		if (ret < 0) {
			store_ticket_free(&t);
			return -1;
		}
		d->suppress_ack = ret == 1 && dup == ticket_id;
	}
	ret = apply_closed(store, tc, t, now, d, error_r);
	store_ticket_free(&t);
	return ret < 0 ? -1 : 1;
}

static void
security(struct thread_decision *d, const struct mime_message *msg, int64_t ticket_id,
	 const char *detail)
{
	log_warnx("msgid=%s ticket=%lld: %s", log_safe(msg->message_id, 200), (long long)ticket_id,
		  detail);
	decision_event(d, "security", ticket_id, detail);
}

/* ---- the decision -------------------------------------------------------- */

/* Rule 1: the first signed reply address among the recipients. 1 found,
   0 none; *forged_r set when one of our form did not verify. */
static int
find_signed(const struct thread_config *tc, const struct mime_message *msg, int64_t *ticket_id_r,
	    enum thread_role *role_r, char **forged_r)
{
	static const char *const headers[] = { "Delivered-To", "X-Original-To", "Envelope-To",
					       "X-Delivered-To" };
	const struct mime_address_list *lists[] = { &msg->to, &msg->cc };
	const char *error;
	for (size_t l = 0; l < N_ELEMENTS(lists); l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			int ret = thread_reply_address_parse(tc, lists[l]->items[i].address,
							     ticket_id_r, role_r, &error);
			if (ret == 1)
				return 1;
			if (ret < 0 && *forged_r == NULL)
				*forged_r = xstrdup(error);
		}
	}
	for (size_t i = 0; i < msg->n_headers; i++) {
		for (size_t h = 0; h < N_ELEMENTS(headers); h++) {
			if (strcasecmp(msg->headers[i].name, headers[h]) != 0)
				continue;
			int ret = thread_reply_address_parse(tc, msg->headers[i].value, ticket_id_r,
							     role_r, &error);
			if (ret == 1)
				return 1;
			if (ret < 0 && *forged_r == NULL)
				*forged_r = xstrdup(error);
		}
	}
	return 0;
}

int
thread_agent_authentic(const struct thread_config *tc, const struct mime_message *msg,
		       int64_t ticket_id, const char **why_r)
{
	const char *from = msg->from.address;
	const char *why = NULL;
	if (from == NULL || !thread_is_agent_address(tc, from))
		why = "the sender is not a configured agent";
	else if (!from_is_only(msg, from))
		why = "the From header holds more than the agent's address";
	else if (tc->auth != THREAD_AUTH_NO) {
		int pass = auth_results_pass(tc, msg, from, &why);
		if (pass > 0 || (pass < 0 && tc->auth == THREAD_AUTH_AUTO)) {
			if (pass < 0)
				log_warnx("msgid=%s ticket=%lld: agent mail from %s accepted "
					  "without authentication: %s (require_auth_results = "
					  "auto)", log_safe(msg->message_id, 200),
					  (long long)ticket_id, log_safe(from, 200), why);
			why = NULL;
		}
	}
	*why_r = why;
	return why == NULL;
}

static int
resolve_signed(struct store *store, const struct thread_config *tc, const struct mime_message *msg,
	       int64_t ticket_id, enum thread_role side, int from_agent, int64_t now,
	       struct thread_decision *d, const char **error_r)
{
	const char *from = msg->from.address;
	if (side == THREAD_ROLE_AGENT) {
		const char *why = NULL;
		(void)thread_agent_authentic(tc, msg, ticket_id, &why);
		if (why != NULL) {
			char *detail = xasprintf("agent reply address of ticket #%lld used by %s (%s): "
						 "treated as a stranger's mail, new ticket",
						 (long long)ticket_id, log_safe(from, 200), why);
			security(d, msg, ticket_id, detail);
			free(detail);
			return 0;
		}
		const char *role = NULL;
		int ret = store_participant_find(store, ticket_id, from, &role, error_r);
		if (ret < 0)
			return -1;
		ret = join(store, tc, msg, ticket_id, THREAD_ROLE_AGENT, ret == 0 || strcmp(role, "agent") != 0,
			   THREAD_RULE_ADDRESS, "signed agent reply address", now, d, error_r);
		if (ret > 0)
			d->agent_trusted = 1;
		return ret;
	}
	/* The customer side: the customer, a cc'd colleague, or whoever the
	   customer's mail reached (the address is a capability). An agent
	   writing here is not agent mail. */
	const char *role = NULL;
	int ret = store_participant_find(store, ticket_id, from, &role, error_r);
	if (ret < 0)
		return -1;
	enum thread_role r = ret > 0 && !from_agent ? role_from_name(role) : THREAD_ROLE_CC;
	return join(store, tc, msg, ticket_id, r, ret == 0, THREAD_RULE_ADDRESS,
		    "signed reply address", now, d, error_r);
}

int
thread_resolve(struct store *store, const struct thread_config *tc,
	       const struct mime_message *msg, struct thread_decision *d, const char **error_r)
{
	memset(d, 0, sizeof(*d));
	d->role = THREAD_ROLE_CUSTOMER;
	d->rule = THREAD_RULE_NEW;
	d->reason = "new ticket";
	int64_t now = tc->now != 0 ? tc->now : (int64_t)time(NULL);
	const char *from = msg->from.address;
	if (from == NULL || *from == '\0') {
		d->reason = "no sender address: new ticket";
		return 0;
	}
	int from_agent = thread_is_agent_address(tc, from);
	int ret;

	/* 1. A signed reply address. */
	int64_t ticket_id = 0;
	enum thread_role side = THREAD_ROLE_CUSTOMER;
	char *forged = NULL;
	if (find_signed(tc, msg, &ticket_id, &side, &forged)) {
		free(forged);
		ret = resolve_signed(store, tc, msg, ticket_id, side, from_agent, now, d, error_r);
		if (ret != 0)
			return ret < 0 ? -1 : 0;
		if (d->event_kind != NULL)
			return 0; /* a misused agent address: a new ticket, nothing else */
		char *detail = xasprintf("signed reply address for ticket #%lld, which does not "
					 "exist", (long long)ticket_id);
		security(d, msg, 0, detail);
		free(detail);
	} else if (forged != NULL) {
		char *detail = xasprintf("%s (from %s)", forged, log_safe(from, 200));
		security(d, msg, 0, detail);
		free(detail);
		free(forged);
	}

	if (from_agent) {
		char *detail = xasprintf("mail from agent address %s without the agent reply "
					 "address: treated as a stranger's, new ticket",
					 log_safe(from, 200));
		security(d, msg, 0, detail);
		free(detail);
		d->reason = "agent address without agent reply address: new ticket";
		return 0;
	}

	/* 2. In-Reply-To, then References from the newest. */
	int64_t claimed = 0;
	size_t n_ids = msg->n_references + (msg->in_reply_to != NULL ? 1 : 0);
	for (size_t i = 0; i < n_ids && i < MAX_REFERENCES && claimed == 0; i++) {
		const char *id;
		if (msg->in_reply_to != NULL)
			id = i == 0 ? msg->in_reply_to : msg->references[msg->n_references - i];
		else
			id = msg->references[msg->n_references - 1 - i];
		if (id == NULL || *id == '\0')
			continue;
		ret = store_ticket_find_by_message_id(store, id, &ticket_id, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		const char *role = NULL;
		ret = store_participant_find(store, ticket_id, from, &role, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			ret = join(store, tc, msg, ticket_id, role_from_name(role), 0,
				   THREAD_RULE_REFERENCES, "In-Reply-To/References of a participant",
				   now, d, error_r);
			if (ret != 0)
				return ret < 0 ? -1 : 0;
			continue;
		}
		/* Was the sender a recipient of our mail with this Message-ID, or
		   of any message stored on the ticket? */
		ret = store_ticket_find_recipient(store, ticket_id, id, from, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			ret = join(store, tc, msg, ticket_id, THREAD_ROLE_CC, 1, THREAD_RULE_REFERENCES,
				   "In-Reply-To/References of a recipient of the ticket's mail", now,
				   d, error_r);
			if (ret != 0)
				return ret < 0 ? -1 : 0;
			continue;
		}
		claimed = ticket_id;
		char *detail = xasprintf("%s, not a participant, refers to Message-ID <%s> of "
					 "ticket #%lld: new ticket", log_safe(from, 200),
					 log_safe(id, 200), (long long)ticket_id);
		security(d, msg, ticket_id, detail);
		free(detail);
	}

	/* 3. The subject tag, from participants only. */
	if (claimed == 0 && thread_subject_parse(tc, msg->subject, &ticket_id) == 1) {
		const char *role = NULL;
		ret = store_participant_find(store, ticket_id, from, &role, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			ret = join(store, tc, msg, ticket_id, role_from_name(role), 0,
				   THREAD_RULE_SUBJECT, "subject tag of a participant", now, d,
				   error_r);
			if (ret != 0)
				return ret < 0 ? -1 : 0;
		} else {
			struct store_ticket *t = NULL;
			ret = store_ticket_get(store, ticket_id, &t, error_r);
			if (ret < 0)
				return -1;
			store_ticket_free(&t);
			if (ret > 0) {
				char *detail = xasprintf("%s, not a participant, used the subject tag of "
							 "ticket #%lld: new ticket",
							 log_safe(from, 200), (long long)ticket_id);
				security(d, msg, ticket_id, detail);
				free(detail);
			}
		}
	}

	/* 4. The same text again joins the first copy's ticket; else new. */
	ret = same_text(store, tc, msg, now, &ticket_id, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0) {
		const char *role = NULL;
		ret = store_participant_find(store, ticket_id, from, &role, error_r);
		if (ret < 0)
			return -1;
		enum thread_role r = ret > 0 ? role_from_name(role) : THREAD_ROLE_CUSTOMER;
		ret = join(store, tc, msg, ticket_id, r, ret == 0, THREAD_RULE_DUPLICATE,
			   "the same text again from the same sender", now, d, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0 && d->ticket_id != 0)
			d->suppress_ack = 1;
	}
	return 0;
}

void
thread_decision_clear(struct thread_decision *d)
{
	free(d->event_kind);
	free(d->event_detail);
	d->event_kind = NULL;
	d->event_detail = NULL;
}
