/* outbox: see outbox.h. */
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

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/lease.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/outbox.h"
#include "gateway/retry.h"
#include "gateway/outage.h"
#include "gateway/smtp.h"
#include "gateway/store.h"
#include "gateway/store/store-lease.h"
#include "parsers/dsn.h"
#include "parsers/mime.h"
#include "base/clock.h"
#include "base/util.h"

#define OUTBOX_BATCH 50		 /* rows fetched per store query */
#define OUTBOX_RELAY_BACKOFF_MAX 3600 /* longest pause of the queue for a dead relay */
#define OUTBOX_VERP_MARK "{verp}"
#define OUTBOX_TAG_LEN 10

struct outbox {
	struct store *store;
	const struct config *config;
	int64_t relay_down_until; /* no attempts before this (0: relay fine) */
	unsigned relay_failures;  /* relay session failures in a row */
	/* The relay refusing our login (outage.h): its failures in a row */
	struct outage *outage;
	struct outage_streak *relay_auth;
	int have_key;
	unsigned char key[32];
	struct lease_set *leases; /* whose claims these are (lease.h) */
	int own_leases;		  /* made by outbox_run_due(), freed with us */
	char *claimant;		  /* or this holder's, renewed by its owner */
	int64_t claimant_ttl;
	const atomic_int *stop;	  /* set from another thread: stop soon */
	/* the relay connection, kept across runs while it is used; closed
	   when idle for [smtp] idle_timeout (outbox_close_idle()) */
	struct smtp_client *client;
	int64_t client_used_ms; /* monotonic time of its last run */
};

/* ---- queueing ---------------------------------------------------------- */

static int
recipient_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0' || strlen(a) > 254)
		return 0;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ',' || *p == '<' || *p == '>')
			return 0;
	return 1;
}

int
outbox_queue(struct store *store, const struct config *config, int64_t ticket_id,
	     const char *kind, const char *message_id, const unsigned char *raw, size_t len,
	     const char *const *recipients, size_t n_recipients, int64_t now, int64_t *id_r,
	     const char **error_r)
{
	if (n_recipients == 0) {
		*error_r = "outbox: no recipients";
		return -1;
	}
	struct buf rcpt;
	buf_init(&rcpt, 1 << 20);
	for (size_t i = 0; i < n_recipients; i++) {
		if (!recipient_ok(recipients[i])) {
			*error_r = errf("outbox: bad recipient address \"%s\"",
					log_safe(recipients[i], 100));
			buf_free(&rcpt);
			return -1;
		}
		if ((i > 0 && buf_puts(&rcpt, ", ") < 0) || buf_puts(&rcpt, recipients[i]) < 0) {
			*error_r = "outbox: too many recipients";
			buf_free(&rcpt);
			return -1;
		}
	}
	struct store_outbox o = { 0 };
	o.ticket_id = ticket_id;
	o.kind = (char *)kind;
	o.message_id = (char *)message_id;
	o.envelope_from = config->smtp.envelope_from != NULL ? config->smtp.envelope_from
							     : config->support_address;
	o.recipients = (char *)buf_cstr(&rcpt);
	o.raw = (unsigned char *)raw;
	o.raw_size = len;
	o.created_at = now;
	o.next_attempt_at = now;
	int ret = store_outbox_insert(store, &o, id_r, error_r);
	buf_free(&rcpt);
	return ret;
}

int
outbox_set_author(struct store *store, int64_t id, const char *address, const char **error_r)
{
	return store_outbox_author_set(store, id, address, error_r);
}

/* ---- VERP ----------------------------------------------------------------- */

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read a key file: 0 with the key in ob, -1 with *error_r. */
static int
read_key(struct outbox *ob, const char *path, int fd, const char **error_r)
{
	char hex[65];
	ssize_t n = read(fd, hex, 64);
	int ok = n == 64;
	for (int i = 0; ok && i < 32; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			ok = 0;
		else
			ob->key[i] = (unsigned char)(hi * 16 + lo);
	}
	explicit_bzero(hex, sizeof(hex));
	if (!ok) {
		*error_r = errf("%s: not a key (64 hex digits)", path);
		return -1;
	}
	ob->have_key = 1;
	return 0;
}

/* Write a new random key to a temporary file and link it to path, which
   either makes it the key or (EEXIST) leaves the one another process
   made first: path never exists half-written, and a key once published is
   never replaced. 0 made or lost the race, -1 with *error_r. */
static int
create_key(const char *path, const char **error_r)
{
	char hex[65];
	unsigned char key[32];
	static const char digits[] = "0123456789abcdef";
	if (crypto_random(key, sizeof(key), error_r) < 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 15];
	}
	hex[64] = '\n';
	explicit_bzero(key, sizeof(key));
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int ret = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*error_r = errf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	int ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		*error_r = errf("%s: cannot write", tmp);
		goto out;
	}
	if (link(tmp, path) < 0 && errno != EEXIST) {
		*error_r = errf("%s: %s", path, strerror(errno));
		goto out;
	}
	/* make the new name durable */
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		int dfd = open(dir[0] != '\0' ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	ret = 0;
out:
	unlink(tmp);
	free(tmp);
	explicit_bzero(hex, sizeof(hex));
	return ret;
}

/* Load <state_dir>/verp.key, creating it (mode 0600) on first use. */
static int
load_key(struct outbox *ob, const char **error_r)
{
	char *path = xasprintf("%s/verp.key", ob->config->state_dir);
	int ret = -1;
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ret = read_key(ob, path, fd, error_r);
			close(fd);
			goto out;
		}
		if (errno != ENOENT) {
			*error_r = errf("%s: %s", path, strerror(errno));
			goto out;
		}
		if (create_key(path, error_r) < 0)
			goto out;
	}
	*error_r = errf("%s: cannot create", path);
out:
	free(path);
	return ret;
}

static void
verp_tag(const struct outbox *ob, int64_t id, char tag_r[OUTBOX_TAG_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	char msg[64];
	unsigned char mac[32];
	int n = snprintf(msg, sizeof(msg), "bounce-%lld", (long long)id);
	crypto_hmac_sha256(ob->key, sizeof(ob->key), msg, (size_t)n, mac);
	/* 10 characters of 5 bits: the first 50 bits of the MAC */
	uint64_t bits = 0;
	for (int i = 0; i < 7; i++)
		bits = (bits << 8) | mac[i];
	bits >>= 6;
	for (int i = OUTBOX_TAG_LEN - 1; i >= 0; i--) {
		tag_r[i] = alphabet[bits & 31];
		bits >>= 5;
	}
	tag_r[OUTBOX_TAG_LEN] = '\0';
}

char *
outbox_envelope_from(struct outbox *ob, const char *template_from, int64_t id)
{
	const char *mark = strstr(template_from, OUTBOX_VERP_MARK);
	if (mark == NULL || !ob->have_key)
		return xstrdup(template_from);
	char tag[OUTBOX_TAG_LEN + 1];
	verp_tag(ob, id, tag);
	return xasprintf("%.*sbounce-%lld-%s%s", (int)(mark - template_from), template_from,
			 (long long)id, tag, mark + strlen(OUTBOX_VERP_MARK));
}

int
outbox_verp_match(struct outbox *ob, const char *address, int64_t *id_r)
{
	const char *tmpl = ob->config->smtp.envelope_from;
	const char *mark = tmpl != NULL ? strstr(tmpl, OUTBOX_VERP_MARK) : NULL;
	if (mark == NULL || !ob->have_key || address == NULL)
		return 0;
	size_t pre = (size_t)(mark - tmpl);
	const char *post = mark + strlen(OUTBOX_VERP_MARK);
	size_t alen = strlen(address), plen = strlen(post);
	/* local parts compare case-sensitively in principle, but mail systems
	   fold case; the tag is lower case, so compare without case */
	if (alen < pre + plen || strncasecmp(address, tmpl, pre) != 0 ||
	    strcasecmp(address + alen - plen, post) != 0)
		return 0;
	const char *p = address + pre;
	if (strncasecmp(p, "bounce-", 7) != 0)
		return 0;
	p += 7;
	int64_t id = 0;
	const char *digits = p;
	while (*p >= '0' && *p <= '9' && p - digits < 18)
		id = id * 10 + (*p++ - '0');
	if (p == digits || *p != '-' || id <= 0)
		return 0;
	p++;
	if ((size_t)(address + alen - plen - p) != OUTBOX_TAG_LEN)
		return 0;
	char tag[OUTBOX_TAG_LEN + 1];
	verp_tag(ob, id, tag);
	if (strncasecmp(p, tag, OUTBOX_TAG_LEN) != 0)
		return 0;
	*id_r = id;
	return 1;
}

/* ---- life cycle ---------------------------------------------------------- */

int
outbox_new(struct store *store, const struct config *config, struct outbox **outbox_r,
	   const char **error_r)
{
	struct outbox *ob = xcalloc(1, sizeof(*ob));
	ob->store = store;
	ob->config = config;
	*outbox_r = NULL;
	if (config->smtp.envelope_from != NULL &&
	    strstr(config->smtp.envelope_from, OUTBOX_VERP_MARK) != NULL &&
	    load_key(ob, error_r) < 0) {
		free(ob);
		return -1;
	}
	char *subject = outage_subject_relay(config->smtp.host, config->smtp.port);
	ob->relay_auth = outage_streak_new(subject);
	free(subject);
	*outbox_r = ob;
	return 0;
}

void
outbox_free(struct outbox **outboxp)
{
	struct outbox *ob = *outboxp;
	if (ob == NULL)
		return;
	explicit_bzero(ob->key, sizeof(ob->key));
	smtp_client_free(&ob->client);
	outage_free(&ob->outage);
	outage_streak_free(&ob->relay_auth);
	if (ob->own_leases)
		lease_set_free(&ob->leases);
	free(ob->claimant);
	free(ob);
	*outboxp = NULL;
}

/* ---- the relay refusing our login ---------------------------------------- */

/* A password or OAuth2 token the relay refuses (or a token command that
   fails) stops every outgoing mail silently unless someone is told: after
   [alerts] after failures in a row, one outage (outage.h) - an event and a
   log line at once, and an alert mail to the supervisors. That mail waits
   in the outbox like any other and leaves through the relay when it takes
   our login again (followed by the all-clear): the log line is what a
   monitoring system sees while the relay is refusing us. */
static struct outage *
relay_outage(struct outbox *ob)
{
	const char *error;
	if (ob->outage == NULL && outage_new(ob->config, ob->store, &ob->outage, &error) < 0)
		log_error("outbox: relay outage alerts are off: %s", error);
	return ob->outage;
}

static void
relay_auth_failed(struct outbox *ob, const char *text, int64_t now)
{
	const char *why;
	if (outage_streak_failed(ob->relay_auth, relay_outage(ob), ob->config->alerts.after,
				 "logins refused by the relay", text, now, &why) < 0)
		log_error("outbox: cannot record the relay outage (tried again at the next "
			  "failure): %s",
			  why);
}

static void
relay_auth_ok(struct outbox *ob, int64_t now)
{
	const char *why;
	if (outage_streak_ok(ob->relay_auth, relay_outage(ob), now, &why) < 0)
		log_error("outbox: cannot record the end of the relay outage: %s", why);
}

/* ---- sending ------------------------------------------------------------- */

void
outbox_set_leases(struct outbox *ob, struct lease_set *leases)
{
	if (ob->own_leases)
		lease_set_free(&ob->leases);
	ob->own_leases = 0;
	ob->leases = leases;
}

void
outbox_set_claimant(struct outbox *ob, const char *holder, int64_t ttl)
{
	free(ob->claimant);
	ob->claimant = xstrdup(holder);
	ob->claimant_ttl = ttl;
}

void
outbox_set_stop(struct outbox *ob, const atomic_int *stop)
{
	ob->stop = stop;
}

/* Claim what is due for this gateway (store-lease.h). A claim stands as
   long as its gateway's liveness lease, and at most long enough for a
   batch to be sent through a slow relay: a dead gateway's rows are sent
   again by another with the same Message-ID. */
static int
claim_due(struct outbox *ob, int64_t now, size_t limit, struct store_outbox **list_r,
	  size_t *n_r, const char **error_r)
{
	if (ob->leases == NULL && ob->claimant == NULL) {
		ob->leases = lease_set_new(ob->store, (int64_t)ob->config->store.lease_ttl, error_r);
		if (ob->leases == NULL)
			return -1;
		ob->own_leases = 1;
	}
	/* a claim is a write: when nothing is due (the common case) the
	   queue is only read, as it was, and the write lock left alone */
	struct store_outbox *probe;
	size_t n_probe;
	*list_r = NULL;
	*n_r = 0;
	if (store_outbox_due(ob->store, now, 1, &probe, &n_probe, error_r) < 0)
		return -1;
	store_outboxes_free(&probe, n_probe);
	if (n_probe == 0)
		return 0;
	if (ob->claimant != NULL) {
		/* the lease set's owner renews it (another thread) */
		int64_t claim_ttl = ob->claimant_ttl + 4 * (int64_t)ob->config->smtp.timeout;
		return store_outbox_claim(ob->store, ob->claimant, now, now + claim_ttl, limit,
					  list_r, n_r, error_r);
	}
	const char *error;
	if (lease_tick(ob->leases, clock_now(), &error) < 0)
		log_warnx("outbox: %s", error);
	int64_t claim_ttl = lease_set_ttl(ob->leases) + 4 * (int64_t)ob->config->smtp.timeout;
	return store_outbox_claim(ob->store, lease_set_holder(ob->leases), now, now + claim_ttl,
				  limit, list_r, n_r, error_r);
}

static const char *
duration_text(int64_t s)
{
	if (s < 120)
		return errf("%llds", (long long)s);
	if (s < 7200)
		return errf("%lldm", (long long)(s / 60));
	if (s < 172800)
		return errf("%lldh", (long long)(s / 3600));
	return errf("%lldd", (long long)(s / 86400));
}

/* Split "a@b, c@d" into an array of strings (pointing into a copy). */
static char **
split_recipients(const char *list, char **copy_r, size_t *n_r)
{
	char *copy = xstrdup(list);
	char **v = NULL;
	size_t n = 0;
	char *p = copy;
	while (*p != '\0') {
		char *comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		char *a = str_trim(p);
		if (*a != '\0') {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = a;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*copy_r = copy;
	*n_r = n;
	return v;
}

/* One recipient of the message being sent. */
struct rcpt {
	const char *address;	   /* as queued */
	const char *before;	   /* its status before this attempt */
	int attempted;
	struct smtp_rcpt_result r; /* this attempt's outcome */
	const char *after;	   /* its status after it */
};

static const char *
rcpt_code(const struct smtp_rcpt_result *r, char *buf, size_t size)
{
	struct smtp_result tmp = { .code = r->code };
	memcpy(tmp.enhanced, r->enhanced, sizeof(tmp.enhanced));
	snprintf(buf, size, "%s", smtp_result_code(&tmp));
	return buf;
}

/* The reply a relay answered: its subject, for the mail to the agent. */
static char *
relay_subject(const struct store_outbox *o)
{
	struct mime_limits limits;
	struct mime_message *msg = NULL;
	const char *why;
	char *subject = NULL;
	mime_limits_default(&limits);
	if (mime_parse(o->raw, o->raw_size, &limits, &msg, &why) == 0 && msg->subject != NULL)
		subject = xstrdup(msg->subject);
	mime_message_free(&msg);
	return subject != NULL ? subject : xstrdup("(no subject)");
}

/* A relayed reply did not reach the customer (refused, given up on, or
   bounced): tell the agent who wrote it (recorded with the row), or else
   the ticket's assignee, by mail, in the caller's transaction; and say so
   on the ticket. why: "550 5.1.1 user unknown" and the like. */
static int
tell_author(struct outbox *ob, const struct store_outbox *o, const char *customer,
	    const char *why, const char *delivered_to, int64_t now, const char **error_r)
{
	const struct config *config = ob->config;
	char *author = NULL;
	struct store_ticket *t = NULL;
	int r = store_outbox_author_get(ob->store, o->id, &author, error_r);
	if (r < 0)
		return -1;
	if (r == 0 && o->ticket_id > 0) {
		if (store_ticket_get(ob->store, o->ticket_id, &t, error_r) < 0)
			return -1;
		if (t != NULL && t->assignee != NULL)
			author = xstrdup(t->assignee);
		store_ticket_free(&t);
	}
	if (author == NULL)
		return store_event_addf(ob->store, o->ticket_id, "mail-undeliverable", error_r,
					"the reply (outbox #%lld) did not reach the customer %s: %s; "
					"no agent to tell (no author recorded, no assignee)",
					(long long)o->id, customer, why);

	char *subject = relay_subject(o);
	char *new_subject = xasprintf("Not delivered to the customer: %s", subject);
	struct buf text;
	buf_init(&text, 64 * 1024);
	(void)buf_printf(&text,
			 "Your reply on ticket #%lld did not reach the customer %s:\n\n"
			 "    %s\n\n"
			 "%s%s%s"
			 "The reply is kept on the ticket (outbox message %lld; `deskgate outbox show "
			 "%lld`).\nCheck the customer's address, or reach them another way; "
			 "answering this mail\nsends your answer to the ticket as usual.\n",
			 (long long)o->ticket_id, customer, why,
			 delivered_to[0] != '\0' ? "It was delivered to the others: " : "",
			 delivered_to, delivered_to[0] != '\0' ? ".\n\n" : "", (long long)o->id,
			 (long long)o->id);
	struct compose *c = compose_new();
	compose_set_from(c, config->support_name, config->support_address);
	compose_add_to(c, NULL, author);
	compose_set_subject(c, new_subject);
	compose_set_date(c, now);
	compose_set_in_reply_to(c, o->message_id);
	compose_add_reference(c, o->message_id);
	compose_set_auto_submitted(c, "auto-generated");
	compose_set_loop(c, config->hostname);
	compose_set_text(c, buf_cstr(&text), text.len);
	char *msgid = NULL;
	unsigned char *raw = NULL;
	size_t len = 0;
	const char *cwhy;
	int64_t id = 0;
	int ret;
	if (compose_message_id(o->ticket_id, config->hostname, &msgid, &cwhy) < 0 ||
	    (compose_set_message_id(c, msgid), compose_render(c, &raw, &len, &cwhy)) < 0) {
		/* an address compose refuses: the event still says it */
		log_warnx("outbox: id=%lld ticket=%lld: cannot tell %s the reply was not delivered: "
			  "%s",
			  (long long)o->id, (long long)o->ticket_id, log_safe(author, 200), cwhy);
		ret = store_event_addf(ob->store, o->ticket_id, "mail-undeliverable", error_r,
				       "the reply (outbox #%lld) did not reach the customer %s: %s; "
				       "%s could not be told: %s",
				       (long long)o->id, customer, why, author, cwhy);
		goto out;
	}
	const char *rcpts[] = { author };
	ret = outbox_queue(ob->store, config, o->ticket_id, "error", msgid, raw, len, rcpts, 1, now,
			   &id, error_r);
	if (ret == 0)
		ret = store_event_addf(ob->store, o->ticket_id, "mail-undeliverable", error_r,
				       "the reply (outbox #%lld) did not reach the customer %s: %s; "
				       "%s told (outbox #%lld)",
				       (long long)o->id, customer, why, author, (long long)id);
	if (ret == 0)
		log_warnx("outbox: id=%lld ticket=%lld msgid=<%s>: the customer %s was not reached "
			  "(%s); %s told (outbox #%lld)",
			  (long long)o->id, (long long)o->ticket_id, log_safe(o->message_id, 200),
			  log_safe(customer, 200), log_safe(why, 300), log_safe(author, 200),
			  (long long)id);
out:
	compose_free(&c);
	free(raw);
	free(msgid);
	buf_free(&text);
	free(new_subject);
	free(subject);
	free(author);
	return ret;
}

/* The ticket's customer address (for a relay: the recipient that matters). */
static char *
ticket_customer(struct outbox *ob, int64_t ticket_id, const char **error_r, int *failed_r)
{
	struct store_ticket *t = NULL;
	char *customer = NULL;
	*failed_r = 0;
	if (ticket_id <= 0)
		return NULL;
	if (store_ticket_get(ob->store, ticket_id, &t, error_r) < 0) {
		*failed_r = 1;
		return NULL;
	}
	if (t != NULL && t->customer_address != NULL)
		customer = xstrdup(t->customer_address);
	store_ticket_free(&t);
	return customer;
}

/* Record the outcome of one attempt, in one transaction: each recipient's
   result, the row, an event on the ticket, and for a relayed reply whose
   customer was not reached, the mail that tells its agent. */
static int
handle_result(struct outbox *ob, const struct store_outbox *o, int64_t attempts, int64_t now,
	      const struct smtp_result *r, struct rcpt *rc, size_t n,
	      struct outbox_run_stats *stats, const char **error_r)
{
	const struct config_smtp *cs = &ob->config->smtp;
	char code[32], one[32];
	snprintf(code, sizeof(code), "%s", smtp_result_code(r));
	int64_t deadline = o->created_at + (int64_t)cs->retry_max_age;
	int give_up = now >= deadline;
	size_t n_sent = 0, n_failed = 0, n_queued = 0;
	struct buf detail, refused, delivered;
	buf_init(&detail, 64 * 1024);
	buf_init(&refused, 64 * 1024);
	buf_init(&delivered, 64 * 1024);
	char *msgid = xstrdup(log_safe(o->message_id, 200));
	char *customer = NULL;
	char *customer_why = NULL;
	const struct rcpt *deferred = NULL; /* the first recipient waiting for a retry */
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		struct rcpt *x = &rc[i];
		if (!x->attempted) {
			x->after = x->before;
		} else if (x->r.status == SMTP_OK) {
			x->after = "sent";
		} else if (x->r.status == SMTP_PERMANENT || give_up) {
			x->after = "failed";
			(void)buf_printf(&refused, "%s%s (%s%s%s)", refused.len > 0 ? ", " : "",
					 x->address, rcpt_code(&x->r, one, sizeof(one)),
					 one[0] != '\0' ? " " : "", x->r.text);
		} else {
			x->after = "queued";
			if (deferred == NULL)
				deferred = x;
		}
		n_sent += strcmp(x->after, "sent") == 0;
		n_failed += strcmp(x->after, "failed") == 0;
		n_queued += strcmp(x->after, "queued") == 0;
		if (strcmp(x->after, "sent") == 0)
			(void)buf_printf(&delivered, "%s%s", delivered.len > 0 ? ", " : "", x->address);
	}
	const char *status = n_queued > 0 ? "queued" : n_sent > 0 ? "sent" : "failed";
	metrics_smtp_result(o->kind, n_queued > 0 ? 1 : n_sent > 0 ? 0 : 2, r->code);
	int failed_lookup;
	if (strcmp(o->kind, "relay") == 0) {
		customer = ticket_customer(ob, o->ticket_id, error_r, &failed_lookup);
		if (failed_lookup)
			goto out;
	}

	/* the event and the row's last error say what happened to whom */
	int64_t next = o->next_attempt_at;
	const char *event_kind, *row_error = NULL;
	if (strcmp(status, "sent") == 0) {
		event_kind = "mail-sent";
		stats->sent++;
		(void)buf_printf(&detail, "%s sent to %s (%s %s)", o->kind, buf_cstr(&delivered), code,
				 r->text);
		if (refused.len > 0) {
			(void)buf_printf(&detail, "; not delivered to %s", buf_cstr(&refused));
			row_error = buf_cstr(&refused);
		}
		log_info("outbox: sent id=%lld ticket=%lld msgid=<%s> to=%s attempt=%lld (%s %s)%s%s",
			 (long long)o->id, (long long)o->ticket_id, msgid,
			 log_safe(buf_cstr(&delivered), 300), (long long)attempts, code, r->text,
			 refused.len > 0 ? "; not delivered to " : "",
			 log_safe(buf_cstr(&refused), 300));
	} else if (strcmp(status, "failed") == 0) {
		event_kind = "mail-failed";
		stats->failed++;
		if (give_up && r->status != SMTP_PERMANENT) {
			(void)buf_printf(&detail, "%s to %s: gave up after %lld attempts in %s: %s%s%s",
					 o->kind, o->recipients, (long long)attempts,
					 duration_text(now - o->created_at), code,
					 code[0] != '\0' ? " " : "", r->text);
			log_warnx("outbox: giving up id=%lld ticket=%lld msgid=<%s> after %lld "
				  "attempts: %s %s",
				  (long long)o->id, (long long)o->ticket_id, msgid, (long long)attempts,
				  code, r->text);
			row_error = buf_cstr(&detail);
		} else {
			(void)buf_printf(&detail, "%s to %s refused by the relay: %s", o->kind,
					 o->recipients, buf_cstr(&refused));
			log_warnx("outbox: failed id=%lld ticket=%lld msgid=<%s> to=%s: %s", (long long)o->id,
				  (long long)o->ticket_id, msgid, log_safe(o->recipients, 300),
				  log_safe(buf_cstr(&refused), 500));
			row_error = r->text;
		}
	} else {
		event_kind = "mail-deferred";
		stats->deferred++;
		/* the message was taken for some: the row shows why the others
		   wait */
		const char *why_text = r->text;
		if (r->status == SMTP_OK && deferred != NULL) {
			rcpt_code(&deferred->r, code, sizeof(code));
			why_text = deferred->r.text;
		}
		struct retry_policy policy = { .initial = (double)cs->retry_initial,
					       .max = (double)cs->retry_max_age };
		/* never beyond the deadline anyway: the cap only keeps the number small */
		next = now + (int64_t)retry_delay(&policy, attempts > 0 ? (unsigned)attempts : 1);
		if (next > deadline)
			next = deadline; /* one last attempt at the deadline */
		(void)buf_printf(&detail, "%s to %s: temporary failure (attempt %lld, next in %s): "
					  "%s%s%s",
				 o->kind, o->recipients, (long long)attempts, duration_text(next - now),
				 code, code[0] != '\0' ? " " : "", why_text);
		if (n_sent > 0 || n_failed > 0)
			(void)buf_printf(&detail, "; delivered to %s%s%s", n_sent > 0 ? buf_cstr(&delivered) : "nobody yet",
					 refused.len > 0 ? "; refused: " : "", buf_cstr(&refused));
		log_info("outbox: deferred id=%lld ticket=%lld msgid=<%s> attempt=%lld next in %s: %s %s",
			 (long long)o->id, (long long)o->ticket_id, msgid, (long long)attempts,
			 duration_text(next - now), code, why_text);
		row_error = why_text;
	}

	if (store_begin(ob->store, error_r) < 0)
		goto out;
	int ok = 1;
	for (size_t i = 0; i < n && ok; i++) {
		struct rcpt *x = &rc[i];
		if (!x->attempted)
			continue;
		ok = store_outbox_rcpt_set(ob->store, o->id, x->address, x->after,
					   rcpt_code(&x->r, one, sizeof(one))[0] != '\0' ? one : NULL,
					   x->r.text, error_r) >= 0;
		/* the customer of a relayed reply was not reached: the agent must
		   know (the ticket shows it answered) */
		if (ok && customer != NULL && customer_why == NULL &&
		    strcmp(x->after, "failed") == 0 && strcasecmp(x->address, customer) == 0)
			customer_why = xasprintf("%s%s%s", one, one[0] != '\0' ? " " : "", x->r.text);
	}
	if (ok)
		ok = store_outbox_update(ob->store, o->id, status, attempts, next, row_error,
					 code[0] != '\0' ? code : NULL, error_r) == 0 &&
		     (o->ticket_id <= 0 ||
		      store_event_add(ob->store, o->ticket_id, event_kind, buf_cstr(&detail),
				      error_r) == 0);
	if (ok && customer_why != NULL)
		ok = tell_author(ob, o, customer, customer_why, buf_cstr(&delivered), now,
				 error_r) == 0;
	if (!ok || store_commit(ob->store, error_r) < 0) {
		store_rollback(ob->store);
		metrics_inc(METRIC_STORE_ERRORS, "outbox");
		goto out;
	}
	ret = 0;
out:
	free(customer);
	free(customer_why);
	free(msgid);
	buf_free(&detail);
	buf_free(&refused);
	buf_free(&delivered);
	return ret;
}

/* Send one row to the recipients that are still owed it. */
static int
send_one(struct outbox *ob, struct smtp_client *client, const struct store_outbox *o, int64_t now,
	 struct smtp_result *r, struct outbox_run_stats *stats, const char **error_r)
{
	char *copy;
	size_t n;
	char **addrs = split_recipients(o->recipients, &copy, &n);
	struct store_outbox_rcpt *rows = NULL;
	size_t n_rows = 0;
	int ret = -1;
	/* a first attempt has no recipient results to look up: they are
	   recorded with an attempt's outcome (a bounce can only fail the row,
	   and an operator's retry puts its failed recipients back as queued) */
	if (o->attempts > 0 &&
	    store_outbox_rcpt_list(ob->store, o->id, &rows, &n_rows, error_r) < 0) {
		free(addrs);
		free(copy);
		return -1;
	}
	struct rcpt *rc = xcalloc(n + 1, sizeof(*rc));
	const char **todo = xcalloc(n + 1, sizeof(*todo));
	struct smtp_rcpt_result *rr = xcalloc(n + 1, sizeof(*rr));
	size_t n_todo = 0;
	for (size_t i = 0; i < n; i++) {
		rc[i].address = addrs[i];
		rc[i].before = "queued";
		for (size_t k = 0; k < n_rows; k++)
			if (strcasecmp(rows[k].address, addrs[i]) == 0)
				rc[i].before = rows[k].status;
		if (strcmp(rc[i].before, "queued") == 0) {
			rc[i].attempted = 1;
			todo[n_todo++] = addrs[i];
		}
	}
	char *from = outbox_envelope_from(ob, o->envelope_from, o->id);
	if (n_todo > 0) {
		smtp_client_send(client, from, todo, n_todo, o->raw, o->raw_size, r, rr);
	} else {
		/* every recipient was done (a crash after their results were
		   recorded): just settle the row */
		memset(r, 0, sizeof(*r));
		r->status = SMTP_OK;
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (rc[i].attempted)
			rc[i].r = rr[k++];
	ret = handle_result(ob, o, o->attempts + 1, now, r, rc, n, stats, error_r);
	free(from);
	free(rr);
	free(todo);
	free(rc);
	store_outbox_rcpts_free(&rows, n_rows);
	free(addrs);
	free(copy);
	return ret;
}

/* Put rows marked "sending" but not sent back in the queue as they were
   (their attempt not counted). */
static int
put_back(struct outbox *ob, const struct store_outbox *list, size_t n, const char **error_r)
{
	if (n == 0)
		return 0;
	if (store_begin(ob->store, error_r) < 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (store_outbox_update(ob->store, list[k].id, "queued", list[k].attempts,
					list[k].next_attempt_at, list[k].last_error,
					list[k].last_code, error_r) < 0) {
			store_rollback(ob->store);
			return -1;
		}
	}
	if (store_commit(ob->store, error_r) < 0) {
		store_rollback(ob->store);
		return -1;
	}
	return 0;
}

static int64_t
monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
outbox_close_idle(struct outbox *ob)
{
	if (ob->client == NULL)
		return -1;
	int64_t left = (int64_t)ob->config->smtp.idle_timeout * 1000 -
		       (monotonic_ms() - ob->client_used_ms);
	if (left > 0)
		return left;
	smtp_client_free(&ob->client); /* QUIT */
	return -1;
}

int
outbox_run_due(struct outbox *ob, int64_t now, size_t max_messages,
	       struct outbox_run_stats *stats_r, const char **error_r)
{
	struct store_outbox *list = NULL;
	size_t n = 0, done = 0;
	int ret = -1, used = 0;

	memset(stats_r, 0, sizeof(*stats_r));
	(void)outbox_close_idle(ob);
	if (ob->relay_down_until > now) {
		stats_r->relay_down = 1;
		return 0;
	}
	for (;;) {
		size_t limit = OUTBOX_BATCH;
		if (max_messages > 0 && max_messages - done < limit)
			limit = max_messages - done;
		if (limit == 0) {
			/* at the limit: is there more? */
			if (store_outbox_due(ob->store, now, 1, &list, &n, error_r) < 0)
				goto store_failed;
			stats_r->more = n > 0;
			break;
		}
		if (claim_due(ob, now, limit, &list, &n, error_r) < 0)
			goto store_failed;
		if (n == 0)
			break;
		/* The claim's commit marked the batch in flight ("sending",
		   attempts + 1; store-lease.h): after a crash these rows are
		   sent again, never lost. Nothing went out without a client:
		   the batch goes back as it was (its attempt not counted). */
		if (ob->client == NULL && smtp_client_new(ob->config, &ob->client, error_r) < 0) {
			const char *ignored;
			(void)put_back(ob, list, n, &ignored);
			goto out;
		}
		used = 1;

		for (size_t i = 0; i < n; i++) {
			struct store_outbox *o = &list[i];
			struct smtp_result r;
			if (ob->stop != NULL && atomic_load(ob->stop)) {
				/* stopping: what was not sent waits for the next run */
				if (put_back(ob, list + i, n - i, error_r) < 0)
					goto store_failed;
				stats_r->stopped = 1;
				ret = 0;
				goto out;
			}
			if (send_one(ob, ob->client, o, now, &r, stats_r, error_r) < 0)
				goto out;
			if (r.status == SMTP_OK || !r.session) {
				/* the relay took our login */
				ob->relay_failures = 0;
				relay_auth_ok(ob, now);
			} else {
				if (r.auth)
					relay_auth_failed(ob, r.text, now);
				else
					outage_streak_reset(ob->relay_auth);
				/* The relay is unusable: put the rest of the batch
				   back as it was and pause the queue. */
				struct retry_policy pause = {
					.initial = (double)ob->config->smtp.retry_initial,
					.max = OUTBOX_RELAY_BACKOFF_MAX,
				};
				int64_t backoff = (int64_t)retry_delay(&pause, ++ob->relay_failures);
				ob->relay_down_until = now + backoff;
				stats_r->relay_down = 1;
				log_warnx("outbox: relay %s:%llu unusable (%s), pausing the queue for %s",
					  ob->config->smtp.host,
					  (unsigned long long)ob->config->smtp.port, r.text,
					  duration_text(backoff));
				if (put_back(ob, list + i + 1, n - i - 1, error_r) < 0) {
					/* the next attempt starts a session of its own */
					smtp_client_free(&ob->client);
					goto store_failed;
				}
				/* the next attempt starts a session of its own */
				smtp_client_free(&ob->client);
				ret = 0;
				goto out;
			}
		}
		done += n;
		store_outboxes_free(&list, n);
		n = 0;
	}
	ret = 0;
	goto out;
store_failed:
	/* the caller logs it (once); send_one() counts the outcomes it could
	   not record */
	metrics_inc(METRIC_STORE_ERRORS, "outbox");
out:
	store_outboxes_free(&list, n);
	/* kept for the next run (the next mail due) unless it must not idle;
	   a run that found nothing to send leaves it idling */
	if (ob->config->smtp.idle_timeout == 0)
		smtp_client_free(&ob->client);
	else if (used && ob->client != NULL)
		ob->client_used_ms = monotonic_ms();
	return ret;
}

int
outbox_next_due(struct outbox *ob, int64_t now, int64_t *when_r, const char **error_r)
{
	struct store_outbox *list;
	size_t n;
	int found = 0;
	int64_t when = 0;

	if (store_outbox_list(ob->store, "sending", 1, &list, &n, error_r) < 0)
		return -1;
	if (n > 0) {
		found = 1;
		when = now;
	}
	store_outboxes_free(&list, n);
	if (store_outbox_list(ob->store, "queued", 0, &list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!found || list[i].next_attempt_at < when)
			when = list[i].next_attempt_at;
		found = 1;
	}
	store_outboxes_free(&list, n);
	if (found && ob->relay_down_until > when)
		when = ob->relay_down_until;
	*when_r = when;
	return found;
}

/* ---- operator actions ----------------------------------------------------- */

/* An operator's retry is for the recipients that did not get it. */
static int
requeue_failed(struct store *store, int64_t id, const char **error_r)
{
	struct store_outbox_rcpt *rows;
	size_t n;
	int ret = store_outbox_rcpt_list(store, id, &rows, &n, error_r);
	for (size_t i = 0; i < n && ret == 0; i++)
		if (strcmp(rows[i].status, "failed") == 0 &&
		    store_outbox_rcpt_set(store, id, rows[i].address, "queued", rows[i].code,
					  rows[i].detail, error_r) < 0)
			ret = -1;
	store_outbox_rcpts_free(&rows, n);
	return ret;
}

static int
change_status(struct store *store, int64_t id, const char *to, int64_t now, const char **error_r)
{
	struct store_outbox *o;
	int r = store_outbox_get(store, id, &o, error_r);
	if (r <= 0) {
		if (r == 0)
			*error_r = errf("no outbox message %lld", (long long)id);
		return -1;
	}
	int retry = strcmp(to, "queued") == 0;
	int ok = strcmp(o->status, "queued") == 0 || strcmp(o->status, "failed") == 0 ||
		 (retry && strcmp(o->status, "cancelled") == 0);
	if (!ok) {
		*error_r = errf("outbox message %lld is %s%s", (long long)id, o->status,
				strcmp(o->status, "sending") == 0 ? " (in flight)" : "");
		store_outbox_free(&o);
		return -1;
	}
	int ret = -1;
	char *detail = xasprintf("outbox message %lld to %s: %s by the operator", (long long)id,
				 o->recipients, retry ? "retry requested" : "cancelled");
	if (store_begin(store, error_r) < 0)
		goto out;
	if ((retry && requeue_failed(store, id, error_r) < 0) ||
	    store_outbox_update(store, id, to, o->attempts, retry ? now : o->next_attempt_at,
				o->last_error, o->last_code, error_r) < 0 ||
	    (o->ticket_id > 0 &&
	     store_event_add(store, o->ticket_id, retry ? "mail-retry" : "mail-cancelled", detail,
			     error_r) < 0) ||
	    store_commit(store, error_r) < 0) {
		store_rollback(store);
		goto out;
	}
	ret = 0;
out:
	free(detail);
	store_outbox_free(&o);
	return ret;
}

int
outbox_retry(struct store *store, int64_t id, int64_t now, const char **error_r)
{
	return change_status(store, id, "queued", now, error_r);
}

int
outbox_cancel(struct store *store, int64_t id, const char **error_r)
{
	return change_status(store, id, "cancelled", 0, error_r);
}

/* ---- reports (bounces and friends) ---------------------------------------- */

static const char *const report_events[] = {
	[DSN_NONE] = NULL,
	[DSN_FAILED] = "mail-bounced",
	[DSN_DELAYED] = "mail-delayed",
	[DSN_DELIVERED] = "mail-delivered",
	[DSN_FEEDBACK] = "mail-feedback",
	[DSN_AUTO_REPLY] = "mail-auto-reply",
};

/* A bounce: each failed recipient's own result; and when a relayed reply
   bounced for its customer, the agent is told. */
static int
bounced_recipients(struct outbox *ob, const struct store_outbox *o, const struct dsn_report *report,
		   int64_t now, const char **error_r)
{
	int failed_lookup;
	char *customer = strcmp(o->kind, "relay") == 0
				 ? ticket_customer(ob, o->ticket_id, error_r, &failed_lookup)
				 : NULL;
	if (strcmp(o->kind, "relay") == 0 && failed_lookup)
		return -1;
	int ret = 0;
	char *why = NULL;
	for (size_t i = 0; i < report->n_recipients && ret == 0; i++) {
		const struct dsn_recipient *r = &report->recipients[i];
		if (r->address == NULL || (r->action != NULL && strcmp(r->action, "failed") != 0))
			continue;
		char *detail = xasprintf("bounced: %s%s%s%s%s", r->reply_code,
					 r->reply_code[0] != '\0' ? " " : "", r->status,
					 r->diagnostic != NULL ? ": " : "",
					 r->diagnostic != NULL ? r->diagnostic : "");
		/* addresses a forwarder rewrote are not ours: 0, not an error */
		ret = store_outbox_rcpt_set(ob->store, o->id, r->address, "failed",
					    r->status[0] != '\0' ? r->status : NULL, detail, error_r) < 0
			      ? -1
			      : 0;
		if (customer != NULL && why == NULL && strcasecmp(r->address, customer) == 0)
			why = detail;
		else
			free(detail);
	}
	if (ret == 0 && why != NULL)
		ret = tell_author(ob, o, customer, why, "", now, error_r);
	free(why);
	free(customer);
	return ret;
}

int
outbox_apply_report(struct outbox *ob, const struct dsn_report *report, int64_t now,
		    int64_t *outbox_id_r, const char **error_r)
{
	struct store_outbox *o = NULL;
	int64_t id = 0;
	const char *how = NULL;

	if (report == NULL || report->kind == DSN_NONE)
		return 0;
	for (size_t i = 0; i < report->n_envelope_to && how == NULL; i++)
		if (outbox_verp_match(ob, report->envelope_to[i], &id))
			how = "verp";
	if (how != NULL) {
		int r = store_outbox_get(ob->store, id, &o, error_r);
		if (r < 0)
			return -1;
		if (r == 0)
			how = NULL;
	}
	if (how == NULL && report->original_message_id != NULL) {
		int r = store_outbox_find_by_message_id(ob->store, report->original_message_id, &o,
							error_r);
		if (r < 0)
			return -1;
		if (r > 0)
			how = "message-id";
	}
	if (how == NULL)
		return 0;

	/* What to record: the failed recipients for a bounce, else the first. */
	struct buf detail;
	buf_init(&detail, 4096);
	buf_printf(&detail, "%s for outbox message %lld (%s, matched by %s)",
		   dsn_kind_name(report->kind), (long long)o->id, report->format, how);
	const struct dsn_recipient *first_failed = NULL;
	for (size_t i = 0; i < report->n_recipients; i++) {
		const struct dsn_recipient *r = &report->recipients[i];
		int failed = r->action == NULL || strcmp(r->action, "failed") == 0;
		if (report->kind == DSN_FAILED && !failed)
			continue;
		if (first_failed == NULL)
			first_failed = r;
		buf_printf(&detail, "; %s%s%s%s%s%s%s", r->address != NULL ? r->address : "?",
			   r->reply_code[0] != '\0' ? " " : "", r->reply_code,
			   r->status[0] != '\0' ? " " : "", r->status,
			   r->diagnostic != NULL ? ": " : "",
			   r->diagnostic != NULL ? r->diagnostic : "");
	}
	if (report->feedback_type != NULL)
		buf_printf(&detail, "; feedback type %s", report->feedback_type);

	int ret = -1;
	if (report->kind == DSN_FAILED && strcmp(o->status, "cancelled") != 0) {
		char code[32] = "";
		const char *error = "bounced";
		if (first_failed != NULL) {
			snprintf(code, sizeof(code), "%s%s%s", first_failed->reply_code,
				 first_failed->reply_code[0] != '\0' && first_failed->status[0] != '\0'
					 ? " "
					 : "",
				 first_failed->status);
			if (first_failed->diagnostic != NULL)
				error = first_failed->diagnostic;
		}
		char *error_copy = xstrdup(errf("bounced: %s", error));
		int r = store_outbox_update(ob->store, o->id, "failed", o->attempts,
					    o->next_attempt_at, error_copy,
					    code[0] != '\0' ? code : NULL, error_r);
		free(error_copy);
		if (r < 0 || bounced_recipients(ob, o, report, now, error_r) < 0)
			goto out;
	}
	if (o->ticket_id > 0 &&
	    store_event_add(ob->store, o->ticket_id, report_events[report->kind], buf_cstr(&detail),
			    error_r) < 0)
		goto out;
	log_info("outbox: %s", log_safe(buf_cstr(&detail), 1000));
	*outbox_id_r = o->id;
	ret = 1;
out:
	buf_free(&detail);
	store_outbox_free(&o);
	return ret;
}
