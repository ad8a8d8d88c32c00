/*
 * imap: see imap.h. Written by hand here, with a reason each:
 * - base64 encoding of SASL responses and the modified UTF-7 of folder
 *   names (RFC 3501 5.1.3): libetpan has both only as private functions,
 *   and crypto.h has no base64;
 * - the AUTHENTICATE exchange for PLAIN and OAUTHBEARER: libetpan only does
 *   them through Cyrus SASL plug-ins (which Debian may not install) and its
 *   XOAUTH2 helper neither uses SASL-IR negotiation nor reports the
 *   server's reason, so all three share one small exchange built on
 *   libetpan's public tag, stream and response-parser calls.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libetpan/libetpan.h>

#include "gateway/crypto.h"
#include "gateway/imap.h"
#include "gateway/log.h"
#include "base/util.h"

/* A UID set longer than this many ranges is sent in several commands, to
   stay well under servers' command line limits (Dovecot: 64 KiB). */
#define IMAP_MAX_RANGES 400
/* A response that brings less than this per timeout period is stalled. */
#define IMAP_STALL_MIN_BYTES (64 * 1024)

struct imap_conn {
	struct imap_settings set;
	char *host;
	char *ca_file;
	char *user; /* for imap_describe() */
	mailimap *imap;
	enum imap_failure failure;
	int idling;
	int changed; /* EXISTS, RECENT or EXPUNGE seen since imap_take_changes() */

	/* fetch state */
	imap_chunk_fn *chunk_fn; /* imap_fetch_stream() */
	void *chunk_context;
	uint64_t chunk_bytes;
	const uint32_t *want; /* sorted */
	unsigned char *want_done;
	size_t want_count;
	imap_message_fn *fn;
	void *fn_context;
	int fn_stop;
	int stalled;
	time_t window_start;
	size_t window_bytes;
};

int
imap_security_parse(const char *s, enum imap_security *security_r)
{
	if (strcmp(s, "imaps") == 0)
		*security_r = IMAP_SECURITY_IMAPS;
	else if (strcmp(s, "starttls") == 0)
		*security_r = IMAP_SECURITY_STARTTLS;
	else if (strcmp(s, "none") == 0)
		*security_r = IMAP_SECURITY_NONE;
	else
		return -1;
	return 0;
}

int
imap_auth_parse(const char *s, enum imap_auth *auth_r)
{
	if (strcmp(s, "login") == 0)
		*auth_r = IMAP_AUTH_LOGIN;
	else if (strcmp(s, "plain") == 0)
		*auth_r = IMAP_AUTH_PLAIN;
	else if (strcmp(s, "xoauth2") == 0)
		*auth_r = IMAP_AUTH_XOAUTH2;
	else if (strcmp(s, "oauthbearer") == 0)
		*auth_r = IMAP_AUTH_OAUTHBEARER;
	else
		return -1;
	return 0;
}

struct imap_conn *
imap_new(const struct imap_settings *settings)
{
	struct imap_conn *conn = xcalloc(1, sizeof(*conn));
	conn->set = *settings;
	conn->host = xstrdup(settings->host);
	conn->set.host = conn->host;
	if (settings->ca_file != NULL) {
		conn->ca_file = xstrdup(settings->ca_file);
		conn->set.ca_file = conn->ca_file;
	}
	if (conn->set.timeout == 0)
		conn->set.timeout = 60;
	return conn;
}

void
imap_free(struct imap_conn **connp)
{
	struct imap_conn *conn = *connp;
	if (conn == NULL)
		return;
	if (conn->imap != NULL)
		mailimap_free(conn->imap);
	free(conn->host);
	free(conn->ca_file);
	free(conn->user);
	free(conn);
	*connp = NULL;
}

enum imap_failure
imap_failure(const struct imap_conn *conn)
{
	return conn->failure;
}

const char *
imap_describe(const struct imap_conn *conn)
{
	static const char *const sec[] = { "imaps", "starttls", "none" };
	static char desc[600];
	snprintf(desc, sizeof(desc), "%s:%u security=%s%s%s", conn->host, conn->set.port,
		 sec[conn->set.security], conn->user != NULL ? " user=" : "",
		 conn->user != NULL ? log_safe(conn->user, 320) : "");
	return desc;
}

/* ---- errors ------------------------------------------------------------ */

/* The server's last response text, made safe for a log line. */
static const char *
server_text(const struct imap_conn *conn)
{
	if (conn->imap == NULL || conn->imap->imap_response == NULL ||
	    conn->imap->imap_response[0] == '\0')
		return NULL;
	return log_safe(conn->imap->imap_response, 200);
}

/* Grade a libetpan result and build the error message. */
static int
fail(struct imap_conn *conn, int r, const char *what, const char **error_r)
{
	const char *text = server_text(conn);
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_PROTOCOL:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_BAD_STATE:
		conn->failure = IMAP_FAIL_NETWORK;
		if (conn->stalled)
			*error_r = errf("%s: server stalled (less than %d bytes in %u s)", what,
					IMAP_STALL_MIN_BYTES, conn->set.timeout);
		else if (r == MAILIMAP_ERROR_CONNECTION_REFUSED)
			*error_r = errf("%s: cannot connect to %s:%u", what, conn->host, conn->set.port);
		else if (r == MAILIMAP_ERROR_PARSE)
			*error_r = errf("%s: unparseable response from the server", what);
		else if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION)
			*error_r = errf("%s: the server refused the connection%s%s", what,
					text != NULL ? ": " : "", text != NULL ? text : "");
		else
			*error_r = errf("%s: connection lost or timed out (%u s)%s%s", what,
					conn->set.timeout, text != NULL ? ": " : "",
					text != NULL ? text : "");
		break;
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_STARTTLS:
		conn->failure = IMAP_FAIL_TLS;
		*error_r = errf("%s: TLS failed%s%s", what, text != NULL ? ": " : "",
				text != NULL ? text : "");
		break;
	case MAILIMAP_ERROR_LOGIN:
	case MAILIMAP_ERROR_SASL:
		conn->failure = IMAP_FAIL_AUTH;
		*error_r = errf("%s: authentication rejected%s%s", what, text != NULL ? ": " : "",
				text != NULL ? text : "");
		break;
	default:
		conn->failure = IMAP_FAIL_SERVER;
		*error_r = errf("%s: the server said no%s%s", what, text != NULL ? ": " : "",
				text != NULL ? text : "");
		break;
	}
	return -1;
}

static int
fail_msg(struct imap_conn *conn, enum imap_failure failure, const char *msg, const char **error_r)
{
	conn->failure = failure;
	*error_r = msg;
	return -1;
}

static void
stall_window_reset(struct imap_conn *conn)
{
	conn->window_start = time(NULL);
	conn->window_bytes = 0;
}

static int
check_usable(struct imap_conn *conn, const char **error_r)
{
	if (conn->imap == NULL || conn->failure == IMAP_FAIL_NETWORK ||
	    conn->failure == IMAP_FAIL_TLS)
		return fail_msg(conn, IMAP_FAIL_NETWORK, "not connected", error_r);
	conn->failure = IMAP_FAIL_NONE;
	conn->stalled = 0;
	stall_window_reset(conn);
	return 0;
}

/* After every command (and IDLE): did any response carry an untagged
   EXISTS, RECENT or EXPUNGE? Servers send them inside the response to
   whatever command comes next (UID SEARCH, FETCH, STORE...), not only in
   IDLE, and will not say it again: a client that looks only after IDLE
   misses new mail until the next keep-alive. libetpan records EXISTS and
   RECENT in flags it never clears (so they are cleared here) and the
   expunged numbers of the last response. Returns r, to wrap a call. */
static int
note_changes(struct imap_conn *conn, int r)
{
	mailimap *imap = conn->imap;
	if (imap == NULL)
		return r;
	struct mailimap_selection_info *sel = imap->imap_selection_info;
	if (sel != NULL && (sel->sel_has_exists || sel->sel_has_recent)) {
		conn->changed = 1;
		sel->sel_has_exists = 0;
		sel->sel_has_recent = 0;
	}
	if (imap->imap_response_info != NULL && imap->imap_response_info->rsp_expunged != NULL &&
	    clist_count(imap->imap_response_info->rsp_expunged) > 0)
		conn->changed = 1;
	return r;
}

int
imap_take_changes(struct imap_conn *conn)
{
	int changed = conn->changed;
	conn->changed = 0;
	return changed;
}

/* ---- encodings --------------------------------------------------------- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_imap[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static void
b64_encode(struct buf *out, const unsigned char *in, size_t len, const char *alphabet, int pad)
{
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		buf_putc(out, (unsigned char)alphabet[v >> 18 & 63]);
		buf_putc(out, (unsigned char)alphabet[v >> 12 & 63]);
		buf_putc(out, (unsigned char)alphabet[v >> 6 & 63]);
		buf_putc(out, (unsigned char)alphabet[v & 63]);
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		buf_putc(out, (unsigned char)alphabet[v >> 18 & 63]);
		buf_putc(out, (unsigned char)alphabet[v >> 12 & 63]);
		if (i + 1 < len)
			buf_putc(out, (unsigned char)alphabet[v >> 6 & 63]);
		else if (pad)
			buf_putc(out, '=');
		if (pad)
			buf_putc(out, '=');
	}
}

/* Decode one UTF-8 sequence at s (valid UTF-8 assumed, checked before). */
static uint32_t
utf8_next(const unsigned char **sp)
{
	const unsigned char *s = *sp;
	uint32_t c = s[0];
	size_t n = 1;
	if (c >= 0xf0) {
		c = (c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 |
		    (s[3] & 0x3f);
		n = 4;
	} else if (c >= 0xe0) {
		c = (c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		n = 3;
	} else if (c >= 0xc0) {
		c = (c & 0x1f) << 6 | (s[1] & 0x3f);
		n = 2;
	}
	*sp = s + n;
	return c;
}

char *
imap_mutf7_encode(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name);
	struct buf out;
	if (!utf8_valid(s, len))
		return NULL;
	buf_init(&out, len * 8 + 16);
	while (*s != '\0') {
		if (*s >= 0x20 && *s < 0x7f) {
			buf_putc(&out, *s);
			if (*s == '&')
				buf_putc(&out, '-');
			s++;
			continue;
		}
		/* a run of non-printable-ASCII characters, as UTF-16BE */
		struct buf u16;
		buf_init(&u16, len * 4 + 4);
		while (*s != '\0' && !(*s >= 0x20 && *s < 0x7f)) {
			uint32_t c = utf8_next(&s);
			if (c >= 0x10000) {
				c -= 0x10000;
				uint32_t hi = 0xd800 | (c >> 10), lo = 0xdc00 | (c & 0x3ff);
				buf_putc(&u16, (unsigned char)(hi >> 8));
				buf_putc(&u16, (unsigned char)hi);
				buf_putc(&u16, (unsigned char)(lo >> 8));
				buf_putc(&u16, (unsigned char)lo);
			} else {
				buf_putc(&u16, (unsigned char)(c >> 8));
				buf_putc(&u16, (unsigned char)c);
			}
		}
		buf_putc(&out, '&');
		b64_encode(&out, u16.data, u16.len, b64_imap, 0);
		buf_putc(&out, '-');
		buf_free(&u16);
	}
	return buf_steal(&out, NULL);
}

/* ---- end-of-file guard ------------------------------------------------- */

/* libetpan's literal reader loops for ever when the connection closes in the
   middle of a literal: its stream drivers return 0 at end of file, which the
   loop takes for "nothing yet". This pass-through driver wraps the real one
   and turns that 0 into an error. */
struct guard {
	mailstream_low *inner;
	struct imap_conn *conn;
};

#define GUARD_INNER(s) (((struct guard *)(s)->data)->inner)

/* Also the place for the stall rule: a server that keeps the connection
   alive with a trickle of bytes never trips libetpan's read timeout, so
   when a timeout period passes with less than IMAP_STALL_MIN_BYTES read,
   the read fails. The window restarts with every command and after every
   message handed to the caller. */
static ssize_t
guard_read(mailstream_low *s, void *buf, size_t count)
{
	struct guard *g = s->data;
	struct imap_conn *conn = g->conn;
	ssize_t r = g->inner->driver->mailstream_read(g->inner, buf, count);
	if (r <= 0)
		return -1;
	conn->window_bytes += (size_t)r;
	time_t now = time(NULL);
	if (now - conn->window_start >= (time_t)conn->set.timeout) {
		if (conn->window_bytes < IMAP_STALL_MIN_BYTES) {
			conn->stalled = 1;
			return -1;
		}
		stall_window_reset(conn);
	}
	return r;
}

static ssize_t
guard_write(mailstream_low *s, const void *buf, size_t count)
{
	mailstream_low *inner = GUARD_INNER(s);
	return inner->driver->mailstream_write(inner, buf, count);
}

static int
guard_close(mailstream_low *s)
{
	return mailstream_low_close(GUARD_INNER(s));
}

static int
guard_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(GUARD_INNER(s));
}

static void
guard_free(mailstream_low *s)
{
	mailstream_low_free(GUARD_INNER(s));
	free(s->data);
	free(s);
}

static void
guard_cancel(mailstream_low *s)
{
	mailstream_low_cancel(GUARD_INNER(s));
}

static struct mailstream_cancel *
guard_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(GUARD_INNER(s));
}

static carray *
guard_get_certificate_chain(mailstream_low *s)
{
	return mailstream_low_get_certificate_chain(GUARD_INNER(s));
}

static int
guard_setup_idle(mailstream_low *s)
{
	mailstream_low *inner = GUARD_INNER(s);
	return inner->driver->mailstream_setup_idle != NULL
		       ? inner->driver->mailstream_setup_idle(inner)
		       : -1;
}

static int
guard_unsetup_idle(mailstream_low *s)
{
	mailstream_low *inner = GUARD_INNER(s);
	return inner->driver->mailstream_unsetup_idle != NULL
		       ? inner->driver->mailstream_unsetup_idle(inner)
		       : -1;
}

static int
guard_interrupt_idle(mailstream_low *s)
{
	mailstream_low *inner = GUARD_INNER(s);
	return inner->driver->mailstream_interrupt_idle != NULL
		       ? inner->driver->mailstream_interrupt_idle(inner)
		       : -1;
}

static mailstream_low_driver guard_driver = {
	.mailstream_read = guard_read,
	.mailstream_write = guard_write,
	.mailstream_close = guard_close,
	.mailstream_get_fd = guard_get_fd,
	.mailstream_free = guard_free,
	.mailstream_cancel = guard_cancel,
	.mailstream_get_cancel = guard_get_cancel,
	.mailstream_get_certificate_chain = guard_get_certificate_chain,
	.mailstream_setup_idle = guard_setup_idle,
	.mailstream_unsetup_idle = guard_unsetup_idle,
	.mailstream_interrupt_idle = guard_interrupt_idle,
};

/* TCP keepalive, so that a peer that vanished without a word (a NAT
   dropping the connection, a crashed host) wakes an idling client within
   about a minute and a half instead of at the next IDLE re-issue. */
static void
set_keepalive(struct imap_conn *conn)
{
	int fd = mailstream_low_get_fd(mailstream_get_low(conn->imap->imap_stream));
	int on = 1, idle = 60, intvl = 10, cnt = 3;
	if (fd < 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)
		log_debug("imap %s: TCP keepalive not set: %s", imap_describe(conn), strerror(errno));
}

static void
guard_install(struct imap_conn *conn)
{
	mailstream_low *low = mailstream_get_low(conn->imap->imap_stream);
	if (low == NULL || low->driver == &guard_driver)
		return;
	struct guard *g = xmalloc(sizeof(*g));
	g->inner = low;
	g->conn = conn;
	mailstream_low *wrapper = mailstream_low_new(g, &guard_driver);
	if (wrapper == NULL)
		fatal(EXIT_FAILURE, "out of memory");
	mailstream_set_low(conn->imap->imap_stream, wrapper);
	stall_window_reset(conn);
}

/* ---- connection -------------------------------------------------------- */

static int
is_ip_literal(const char *host)
{
	unsigned char tmp[16];
	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

static void
tls_setup(struct mailstream_ssl_context *ssl_context, void *data)
{
	struct imap_conn *conn = data;
	/* SNI is for host names only (RFC 6066 3). */
	if (!is_ip_literal(conn->host))
		mailstream_ssl_set_server_name(ssl_context, conn->host);
}

static int
verify_peer(struct imap_conn *conn, const char **error_r)
{
	if (!conn->set.tls_verify) {
		log_warnx("imap %s: certificate verification is off (tls_verify = no)",
			  imap_describe(conn));
		return 0;
	}
	carray *chain = mailstream_get_certificate_chain(conn->imap->imap_stream);
	if (chain == NULL || carray_count(chain) == 0) {
		if (chain != NULL)
			mailstream_certificate_chain_free(chain);
		return fail_msg(conn, IMAP_FAIL_TLS, "the server sent no certificate", error_r);
	}
	size_t n = carray_count(chain);
	const unsigned char **der = xcalloc(n, sizeof(*der));
	size_t *der_len = xcalloc(n, sizeof(*der_len));
	for (size_t i = 0; i < n; i++) {
		MMAPString *s = carray_get(chain, (unsigned int)i);
		der[i] = (const unsigned char *)s->str;
		der_len[i] = s->len;
	}
	const char *why;
	int ret = crypto_verify_chain(der, der_len, n, conn->host, conn->set.ca_file, &why);
	free(der);
	free(der_len);
	mailstream_certificate_chain_free(chain);
	if (ret < 0)
		return fail_msg(conn, IMAP_FAIL_TLS,
				errf("%s:%u: %s", conn->host, conn->set.port, why), error_r);
	return 0;
}

static int
refresh_capabilities(struct imap_conn *conn, const char **error_r)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(conn->imap, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, "CAPABILITY", error_r);
	mailimap_capability_data_free(cap);
	return 0;
}

int
imap_has_capability(struct imap_conn *conn, const char *name)
{
	if (conn->imap == NULL || conn->imap->imap_connection_info == NULL ||
	    conn->imap->imap_connection_info->imap_capability == NULL)
		return 0;
	if (str_case_starts_with(name, "AUTH="))
		return mailimap_has_authentication(conn->imap, name + 5);
	return mailimap_has_extension(conn->imap, name);
}

int
imap_connect(struct imap_conn *conn, const char **error_r)
{
	int r;

	if (conn->imap != NULL) {
		mailimap_free(conn->imap);
		conn->imap = NULL;
	}
	conn->failure = IMAP_FAIL_NONE;
	conn->idling = 0;
	conn->changed = 0;
	conn->stalled = 0;
	conn->imap = mailimap_new(0, NULL);
	if (conn->imap == NULL)
		fatal(EXIT_FAILURE, "out of memory");
	mailimap_set_timeout(conn->imap, (time_t)conn->set.timeout);

	if (conn->set.security == IMAP_SECURITY_IMAPS)
		r = mailimap_ssl_connect_with_callback(conn->imap, conn->host,
						       (uint16_t)conn->set.port, tls_setup, conn);
	else
		r = mailimap_socket_connect(conn->imap, conn->host, (uint16_t)conn->set.port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		/* only a handshake that failed is a TLS problem; a stream error may
		   be a server going away, which is worth a retry */
		if (r == MAILIMAP_ERROR_SSL) {
			conn->failure = IMAP_FAIL_TLS;
			*error_r = errf("connect %s:%u: TLS handshake failed", conn->host,
					conn->set.port);
			return -1;
		}
		return fail(conn, r, "connect", error_r);
	}
	if (conn->set.security == IMAP_SECURITY_IMAPS && verify_peer(conn, error_r) < 0)
		return -1;
	guard_install(conn);
	set_keepalive(conn);
	if (refresh_capabilities(conn, error_r) < 0)
		return -1;

	if (conn->set.security == IMAP_SECURITY_STARTTLS) {
		if (!imap_has_capability(conn, "STARTTLS"))
			return fail_msg(conn, IMAP_FAIL_TLS,
					errf("%s:%u does not offer STARTTLS (security = starttls)",
					     conn->host, conn->set.port),
					error_r);
		r = mailimap_socket_starttls_with_callback(conn->imap, tls_setup, conn);
		if (r != MAILIMAP_NO_ERROR) {
			conn->failure = IMAP_FAIL_TLS;
			*error_r = errf("STARTTLS with %s:%u failed", conn->host, conn->set.port);
			return -1;
		}
		if (verify_peer(conn, error_r) < 0)
			return -1;
		guard_install(conn);
		/* what was announced in plain text cannot be trusted */
		if (refresh_capabilities(conn, error_r) < 0)
			return -1;
	}
	return 0;
}

/* ---- authentication ------------------------------------------------------ */

static int
stream_write(struct imap_conn *conn, const void *data, size_t len)
{
	if (mailstream_write(conn->imap->imap_stream, data, len) != (ssize_t)len)
		return -1;
	return 0;
}

/* One AUTHENTICATE exchange with a single client response (raw, before
   base64). cancel is what to answer to an error challenge. */
static int
sasl_exchange(struct imap_conn *conn, const char *mech, const unsigned char *resp, size_t resp_len,
	      const char *cancel, const char **error_r)
{
	struct buf b64, line;
	int sasl_ir = imap_has_capability(conn, "SASL-IR");
	int sent = 0, ret = -1;

	buf_init(&b64, resp_len * 2 + 16);
	b64_encode(&b64, resp, resp_len, b64_std, 1);
	buf_init(&line, b64.len + 64);
	buf_printf(&line, "AUTHENTICATE %s", mech);
	if (sasl_ir) {
		buf_putc(&line, ' ');
		buf_append(&line, b64.data, b64.len);
		sent = 1;
	}
	buf_puts(&line, "\r\n");

	/* keep the credentials out of libetpan's logger */
	mailstream_set_privacy(conn->imap->imap_stream, 0);
	if (mailimap_send_current_tag(conn->imap) != MAILIMAP_NO_ERROR ||
	    stream_write(conn, line.data, line.len) < 0 ||
	    mailstream_flush(conn->imap->imap_stream) < 0) {
		mailstream_set_privacy(conn->imap->imap_stream, 1);
		fail(conn, MAILIMAP_ERROR_STREAM, "AUTHENTICATE", error_r);
		goto out;
	}
	for (int rounds = 0;; rounds++) {
		char *l = mailimap_read_line(conn->imap);
		if (l == NULL) {
			mailstream_set_privacy(conn->imap->imap_stream, 1);
			fail(conn, MAILIMAP_ERROR_STREAM, "AUTHENTICATE", error_r);
			goto out;
		}
		if (l[0] != '+')
			break;
		if (rounds >= 3) {
			mailstream_set_privacy(conn->imap->imap_stream, 1);
			fail(conn, MAILIMAP_ERROR_PROTOCOL, "AUTHENTICATE: too many challenges",
			     error_r);
			goto out;
		}
		/* a continuation: our response, or an error challenge after it */
		const char *answer = sent ? cancel : (const char *)b64.data;
		sent = 1;
		if (stream_write(conn, answer, strlen(answer)) < 0 || stream_write(conn, "\r\n", 2) < 0 ||
		    mailstream_flush(conn->imap->imap_stream) < 0) {
			mailstream_set_privacy(conn->imap->imap_stream, 1);
			fail(conn, MAILIMAP_ERROR_STREAM, "AUTHENTICATE", error_r);
			goto out;
		}
	}
	mailstream_set_privacy(conn->imap->imap_stream, 1);

	struct mailimap_response *response = NULL;
	int r = mailimap_parse_response(conn->imap, &response);
	if (r != MAILIMAP_NO_ERROR) {
		fail(conn, r, "AUTHENTICATE", error_r);
		goto out;
	}
	int ok = response->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED &&
		 response->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
			 MAILIMAP_RESP_COND_STATE_OK;
	int fatal_bye = response->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_FATAL;
	mailimap_response_free(response);
	if (fatal_bye) {
		fail(conn, MAILIMAP_ERROR_FATAL, "AUTHENTICATE", error_r);
		goto out;
	}
	if (!ok) {
		fail(conn, MAILIMAP_ERROR_LOGIN, errf("AUTHENTICATE %s", mech), error_r);
		goto out;
	}
	conn->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	ret = 0;
out:
	explicit_bzero(b64.data, b64.len);
	explicit_bzero(line.data, line.len);
	buf_free(&b64);
	buf_free(&line);
	return ret;
}

int
imap_login(struct imap_conn *conn, enum imap_auth auth, const char *user, const char *secret,
	   const char **error_r)
{
	static const char *const mechs[] = { "LOGIN", "PLAIN", "XOAUTH2", "OAUTHBEARER" };
	struct buf resp;
	int r;

	if (check_usable(conn, error_r) < 0)
		return -1;
	free(conn->user);
	conn->user = xstrdup(user);
	if (conn->imap->imap_state == MAILIMAP_STATE_AUTHENTICATED)
		return 0; /* PREAUTH */
	if (secret == NULL)
		secret = "";

	if (auth == IMAP_AUTH_LOGIN) {
		if (imap_has_capability(conn, "LOGINDISABLED"))
			return fail_msg(conn, IMAP_FAIL_AUTH,
					"the server refuses LOGIN here (LOGINDISABLED)", error_r);
		r = mailimap_login(conn->imap, user, secret);
		if (r != MAILIMAP_NO_ERROR)
			return fail(conn, r, "LOGIN", error_r);
	} else {
		if (!imap_has_capability(conn, errf("AUTH=%s", mechs[auth])))
			return fail_msg(conn, IMAP_FAIL_AUTH,
					errf("the server does not offer AUTH=%s", mechs[auth]),
					error_r);
		buf_init(&resp, strlen(user) + strlen(secret) + strlen(conn->host) + 64);
		const char *cancel = "*";
		switch (auth) {
		case IMAP_AUTH_PLAIN:
			/* authzid NUL authcid NUL password (RFC 4616) */
			buf_putc(&resp, '\0');
			buf_puts(&resp, user);
			buf_putc(&resp, '\0');
			buf_puts(&resp, secret);
			break;
		case IMAP_AUTH_XOAUTH2:
			buf_printf(&resp, "user=%s\001auth=Bearer %s\001\001", user, secret);
			cancel = ""; /* Google's XOAUTH2: an empty line ends the error */
			break;
		case IMAP_AUTH_OAUTHBEARER:
			/* RFC 7628 3.1: gs2 header, then key=value pairs */
			buf_printf(&resp, "n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s\001\001",
				   user, conn->host, conn->set.port, secret);
			cancel = "AQ=="; /* a single %x01 (RFC 7628 3.2.3) */
			break;
		case IMAP_AUTH_LOGIN:
			break;
		}
		r = sasl_exchange(conn, mechs[auth], resp.data, resp.len, cancel, error_r);
		explicit_bzero(resp.data, resp.len);
		buf_free(&resp);
		if (r < 0)
			return -1;
	}
	return refresh_capabilities(conn, error_r);
}

/* ---- mailbox ------------------------------------------------------------- */

int
imap_select(struct imap_conn *conn, const char *folder, struct imap_mailbox_info *info_r,
	    const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	char *name = imap_mutf7_encode(folder);
	if (name == NULL)
		return fail_msg(conn, IMAP_FAIL_SERVER, "folder name is not UTF-8", error_r);
	int r = note_changes(conn, mailimap_select(conn->imap, name));
	free(name);
	/* what SELECT reports is the starting point, not a change */
	conn->changed = 0;
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, errf("SELECT %s", log_safe(folder, 100)), error_r);
	const struct mailimap_selection_info *sel = conn->imap->imap_selection_info;
	memset(info_r, 0, sizeof(*info_r));
	info_r->uidvalidity = sel->sel_uidvalidity;
	info_r->uidnext = sel->sel_uidnext;
	info_r->exists = sel->sel_exists;
	info_r->read_only = sel->sel_perm == MAILIMAP_MAILBOX_READONLY;
	if (sel->sel_perm_flags != NULL) {
		for (clistiter *it = clist_begin(sel->sel_perm_flags); it != NULL;
		     it = clist_next(it)) {
			const struct mailimap_flag_perm *p = clist_content(it);
			if (p->fl_type == MAILIMAP_FLAG_PERM_ALL)
				info_r->keywords_allowed = 1;
		}
	}
	if (info_r->uidvalidity == 0)
		return fail_msg(conn, IMAP_FAIL_SERVER,
				errf("SELECT %s: the server sent no UIDVALIDITY", log_safe(folder, 100)),
				error_r);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
imap_uid_search(struct imap_conn *conn, uint32_t first, uint32_t last, int unseen_only,
		uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	*uids_r = NULL;
	*count_r = 0;
	if (check_usable(conn, error_r) < 0)
		return -1;
	if (first == 0)
		first = 1;
	struct mailimap_set *set = mailimap_set_new_interval(first, last);
	struct mailimap_search_key *key = mailimap_search_key_new_uid(set);
	if (unseen_only) {
		struct mailimap_search_key *multi = mailimap_search_key_new_multiple_empty();
		mailimap_search_key_multiple_add(multi, key);
		mailimap_search_key_multiple_add(
			multi, mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL, NULL,
						       NULL, NULL, NULL, NULL, NULL, NULL, NULL,
						       NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL,
						       NULL, NULL, NULL, 0, NULL, NULL, NULL));
		key = multi;
	}
	clist *result = NULL;
	int r = note_changes(conn, mailimap_uid_search(conn->imap, NULL, key, &result));
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, "UID SEARCH", error_r);

	size_t n = 0, cap = (size_t)clist_count(result);
	uint32_t *uids = xcalloc(cap + 1, sizeof(*uids));
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		/* "UID n:*" matches the highest UID even when it is below n */
		if (uid < first || (last != 0 && uid > last))
			continue;
		uids[n++] = uid;
	}
	mailimap_search_result_free(result);
	qsort(uids, n, sizeof(*uids), cmp_u32);
	/* drop duplicates a sloppy server might send */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || uids[k - 1] != uids[i])
			uids[k++] = uids[i];
	*uids_r = uids;
	*count_r = k;
	return 0;
}

/* A set of up to IMAP_MAX_RANGES ranges from uids[*pos...]; advances *pos. */
static struct mailimap_set *
set_from_uids(const uint32_t *uids, size_t count, size_t *pos)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t ranges = 0, i = *pos;
	while (i < count && ranges < IMAP_MAX_RANGES) {
		uint32_t lo = uids[i], hi = uids[i];
		i++;
		while (i < count && uids[i] == hi + 1)
			hi = uids[i++];
		mailimap_set_add_interval(set, lo, hi);
		ranges++;
	}
	*pos = i;
	return set;
}

/* 1 the first time a requested UID arrives; 0 for one not asked for, or
   sent again (a server may repeat itself: the caller sees each UID once). */
static int
uid_wanted(struct imap_conn *conn, uint32_t uid)
{
	const uint32_t *p = bsearch(&uid, conn->want, conn->want_count, sizeof(uint32_t), cmp_u32);
	if (p == NULL)
		return 0;
	size_t i = (size_t)(p - conn->want);
	if (conn->want_done[i])
		return 0;
	conn->want_done[i] = 1;
	return 1;
}

static void
msg_att_handler(struct mailimap_msg_att *msg_att, void *context)
{
	struct imap_conn *conn = context;
	uint32_t uid = 0;
	uint64_t size = 0;
	const struct mailimap_msg_att_body_section *body = NULL;

	for (clistiter *it = clist_begin(msg_att->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		const struct mailimap_msg_att_static *st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
			size = st->att_data.att_rfc822_size;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
			body = st->att_data.att_body_section;
	}
	/* unsolicited FETCH (flag changes by other clients) have no body */
	if (uid == 0 || body == NULL || conn->fn_stop || !uid_wanted(conn, uid))
		return;
	/* NIL: the server has the message but will not give its body; the
	   caller decides what that means (data NULL) */
	const unsigned char *data = (const unsigned char *)body->sec_body_part;
	if (conn->fn(conn->fn_context, uid, data, data != NULL ? body->sec_length : 0, size) < 0)
		conn->fn_stop = 1;
	/* the time spent by the callback is not the server's */
	stall_window_reset(conn);
}

/* libetpan hands messages to the handler only when a progress callback is
   set too; there is nothing to do in it. */
static void
progress_noop(size_t current, size_t maximum, void *context)
{
	(void)current;
	(void)maximum;
	(void)context;
}

int
imap_fetch(struct imap_conn *conn, const uint32_t *uids, size_t count, size_t max_size,
	   imap_message_fn *fn, void *context, const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	conn->want = uids;
	conn->want_count = count;
	conn->want_done = xcalloc(count + 1, 1);
	conn->fn = fn;
	conn->fn_context = context;
	conn->fn_stop = 0;
	/* Both are needed for libetpan to hand over messages one at a time:
	   without a progress callback the handler is silently ignored. */
	mailimap_set_msg_att_handler(conn->imap, msg_att_handler, conn);
	mailimap_set_progress_callback(conn->imap, progress_noop, progress_noop, NULL);

	int ret = 0;
	size_t pos = 0;
	while (pos < count && ret == 0) {
		struct mailimap_set *set = set_from_uids(uids, count, &pos);
		struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid());
		mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_rfc822_size());
		struct mailimap_section *section = mailimap_section_new(NULL);
		struct mailimap_fetch_att *body =
			max_size > 0 && max_size < UINT32_MAX
				? mailimap_fetch_att_new_body_peek_section_partial(
					  section, 0, (uint32_t)max_size + 1)
				: mailimap_fetch_att_new_body_peek_section(section);
		mailimap_fetch_type_new_fetch_att_list_add(type, body);
		clist *result = NULL;
		int r = note_changes(conn, mailimap_uid_fetch(conn->imap, set, type, &result));
		mailimap_fetch_type_free(type);
		mailimap_set_free(set);
		/* on failure libetpan has freed the list already */
		if (r == MAILIMAP_NO_ERROR && result != NULL)
			mailimap_fetch_list_free(result);
		if (r != MAILIMAP_NO_ERROR)
			ret = fail(conn, r, "UID FETCH", error_r);
		if (conn->fn_stop)
			break;
	}
	mailimap_set_msg_att_handler(conn->imap, NULL, NULL);
	mailimap_set_progress_callback(conn->imap, NULL, NULL, NULL);
	conn->want = NULL;
	x_free(&conn->want_done);
	conn->want_count = 0;
	conn->fn = NULL;
	return ret;
}

/* libetpan's streaming body handler: the literal's bytes as they arrive,
   never gathered in memory (imap_fetch_stream()). Always goes on: a false
   return would abandon the response half read. */
static bool
body_chunk(int msg_att_type, struct mailimap_msg_att_body_section *section, const char *bytes,
	   size_t length, void *context)
{
	struct imap_conn *conn = context;
	(void)section;
	if (msg_att_type == MAILIMAP_MSG_ATT_BODY_SECTION && conn->chunk_fn != NULL) {
		conn->chunk_fn(conn->chunk_context, (const unsigned char *)bytes, length);
		conn->chunk_bytes += length;
	}
	return true;
}

int
imap_fetch_stream(struct imap_conn *conn, uint32_t uid, imap_chunk_fn *fn, void *context,
		  const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	conn->chunk_fn = fn;
	conn->chunk_context = context;
	conn->chunk_bytes = 0;
	mailimap_set_msg_body_handler(conn->imap, body_chunk, conn);

	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		type, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	clist *result = NULL;
	int r = note_changes(conn, mailimap_uid_fetch(conn->imap, set, type, &result));
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);
	mailimap_set_msg_body_handler(conn->imap, NULL, NULL);
	conn->chunk_fn = NULL;
	conn->chunk_context = NULL;
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, "UID FETCH", error_r);

	/* Delivered when a body section came for this UID and it was not NIL
	   (its bytes went to fn; libetpan keeps an empty string). */
	int delivered = 0;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att *att = clist_content(it);
		uint32_t got = 0;
		int body = 0;
		for (clistiter *i = clist_begin(att->att_list); i != NULL; i = clist_next(i)) {
			const struct mailimap_msg_att_item *item = clist_content(i);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			const struct mailimap_msg_att_static *st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				got = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
				body = st->att_data.att_body_section->sec_body_part != NULL;
		}
		if (got == uid && body)
			delivered = 1;
	}
	mailimap_fetch_list_free(result);
	return delivered;
}

static int
store_flags(struct imap_conn *conn, const uint32_t *uids, size_t count, int seen, int deleted,
	    const char *keyword, const char **error_r)
{
	size_t pos = 0;
	while (pos < count) {
		struct mailimap_set *set = set_from_uids(uids, count, &pos);
		struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
		if (seen)
			mailimap_flag_list_add(flags, mailimap_flag_new_seen());
		if (deleted)
			mailimap_flag_list_add(flags, mailimap_flag_new_deleted());
		if (keyword != NULL)
			mailimap_flag_list_add(flags, mailimap_flag_new_flag_keyword(xstrdup(keyword)));
		struct mailimap_store_att_flags *att = mailimap_store_att_flags_new_add_flags_silent(flags);
		int r = note_changes(conn, mailimap_uid_store(conn->imap, set, att));
		mailimap_store_att_flags_free(att);
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR)
			return fail(conn, r, "UID STORE", error_r);
	}
	return 0;
}

int
imap_add_flags(struct imap_conn *conn, const uint32_t *uids, size_t count, int seen,
	       const char *keyword, const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	if (count == 0 || (!seen && keyword == NULL))
		return 0;
	return store_flags(conn, uids, count, seen, 0, keyword, error_r);
}

int
imap_move(struct imap_conn *conn, const uint32_t *uids, size_t count, const char *folder,
	  const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	if (count == 0)
		return 0;
	char *name = imap_mutf7_encode(folder);
	if (name == NULL)
		return fail_msg(conn, IMAP_FAIL_SERVER, "folder name is not UTF-8", error_r);
	int has_move = imap_has_capability(conn, "MOVE");
	int has_uidplus = imap_has_capability(conn, "UIDPLUS");
	int ret = 0;
	size_t pos = 0;
	while (pos < count && ret == 0) {
		size_t start = pos;
		struct mailimap_set *set = set_from_uids(uids, count, &pos);
		int r;
		if (has_move) {
			r = note_changes(conn, mailimap_uid_move(conn->imap, set, name));
			if (r != MAILIMAP_NO_ERROR)
				ret = fail(conn, r, errf("UID MOVE to %s", log_safe(folder, 100)),
					   error_r);
		} else {
			r = note_changes(conn, mailimap_uid_copy(conn->imap, set, name));
			if (r != MAILIMAP_NO_ERROR)
				ret = fail(conn, r, errf("UID COPY to %s", log_safe(folder, 100)),
					   error_r);
			else if (store_flags(conn, uids + start, pos - start, 0, 1, NULL, error_r) < 0)
				ret = -1;
			else {
				r = note_changes(conn, has_uidplus
								       ? mailimap_uid_expunge(conn->imap, set)
								       : mailimap_expunge(conn->imap));
				if (r != MAILIMAP_NO_ERROR)
					ret = fail(conn, r, "EXPUNGE", error_r);
			}
		}
		mailimap_set_free(set);
	}
	free(name);
	return ret;
}

int
imap_delete(struct imap_conn *conn, const uint32_t *uids, size_t count, const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	if (count == 0)
		return 0;
	if (!imap_has_capability(conn, "UIDPLUS"))
		return fail_msg(conn, IMAP_FAIL_SERVER, "no UIDPLUS: not expunged", error_r);
	int ret = 0;
	size_t pos = 0;
	while (pos < count && ret == 0) {
		size_t start = pos;
		struct mailimap_set *set = set_from_uids(uids, count, &pos);
		if (store_flags(conn, uids + start, pos - start, 0, 1, NULL, error_r) < 0) {
			ret = -1;
		} else {
			int r = note_changes(conn, mailimap_uid_expunge(conn->imap, set));
			if (r != MAILIMAP_NO_ERROR)
				ret = fail(conn, r, "UID EXPUNGE", error_r);
		}
		mailimap_set_free(set);
	}
	return ret;
}

int
imap_create(struct imap_conn *conn, const char *folder, const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	char *name = imap_mutf7_encode(folder);
	if (name == NULL)
		return fail_msg(conn, IMAP_FAIL_SERVER, "folder name is not UTF-8", error_r);
	int r = note_changes(conn, mailimap_create(conn->imap, name));
	free(name);
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, errf("CREATE %s", log_safe(folder, 100)), error_r);
	return 0;
}

/* ---- IDLE ---------------------------------------------------------------- */

int
imap_idle_start(struct imap_conn *conn, const char **error_r)
{
	if (check_usable(conn, error_r) < 0)
		return -1;
	int r = mailimap_idle(conn->imap);
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, "IDLE", error_r);
	conn->idling = 1;
	return 0;
}

int
imap_idle_fd(struct imap_conn *conn)
{
	return mailimap_idle_get_fd(conn->imap);
}

int
imap_idle_pending(struct imap_conn *conn)
{
	return conn->imap->imap_stream->read_buffer_len > 0;
}

int
imap_idle_done(struct imap_conn *conn, const char **error_r)
{
	if (!conn->idling)
		return 0;
	conn->idling = 0;
	if (check_usable(conn, error_r) < 0)
		return -1;
	int r = note_changes(conn, mailimap_idle_done(conn->imap));
	if (r != MAILIMAP_NO_ERROR)
		return fail(conn, r, "IDLE DONE", error_r);
	return 0;
}

void
imap_logout(struct imap_conn *conn)
{
	if (conn->imap == NULL)
		return;
	if (conn->failure != IMAP_FAIL_NETWORK && conn->failure != IMAP_FAIL_TLS &&
	    conn->imap->imap_stream != NULL) {
		const char *error;
		if (conn->idling)
			(void)imap_idle_done(conn, &error);
		if (conn->failure != IMAP_FAIL_NETWORK)
			(void)mailimap_logout(conn->imap);
	}
	mailimap_free(conn->imap);
	conn->imap = NULL;
	conn->idling = 0;
}
