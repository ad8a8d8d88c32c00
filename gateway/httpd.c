/* httpd: see httpd.h. */
#include "build-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/httpd.h"
#include "gateway/log.h"
#include "base/util.h"

#define HTTPD_CONNECTIONS 32
#define HTTPD_CONNECTIONS_PER_IP 8
#define HTTPD_TIMEOUT 10

struct httpd {
	struct MHD_Daemon *daemon;
	char *path;
	char *content_type;
	httpd_render_fn *render;
	void *ctx;
	char address[80];
};

int
httpd_parse_listen(const char *listen, struct sockaddr_storage *addr_r, socklen_t *len_r,
		   const char **error_r)
{
	char host[256];
	const char *port;
	const char *colon;

	if (listen == NULL || *listen == '\0') {
		*error_r = "empty listen address";
		return -1;
	}
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof(host)) {
			*error_r = errf("\"%s\": expected [IPV6]:PORT", listen);
			return -1;
		}
		memcpy(host, listen + 1, (size_t)(end - listen - 1));
		host[end - listen - 1] = '\0';
		port = end + 2;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof(host) ||
		    memchr(listen, ':', (size_t)(colon - listen)) != NULL) {
			*error_r = errf("\"%s\": expected HOST:PORT (or [IPV6]:PORT)", listen);
			return -1;
		}
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		port = colon + 1;
	}
	uint64_t p;
	if (str_to_u64(port, 65535, &p) < 0) {
		*error_r = errf("\"%s\": the port must be a number from 0 to 65535", listen);
		return -1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		*error_r = errf("\"%s\": %s", listen, gai_strerror(r));
		return -1;
	}
	if (ai->ai_addrlen > sizeof(*addr_r)) {
		freeaddrinfo(ai);
		*error_r = errf("\"%s\": unsupported address", listen);
		return -1;
	}
	memset(addr_r, 0, sizeof(*addr_r));
	memcpy(addr_r, ai->ai_addr, ai->ai_addrlen);
	*len_r = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, const char *content_type, char *body,
	size_t len, int allow_header)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow_header)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result
text(struct MHD_Connection *conn, unsigned status, const char *msg, int allow_header)
{
	return respond(conn, status, "text/plain; charset=utf-8", xstrdup(msg), strlen(msg),
		       allow_header);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	(void)version;
	(void)upload_data;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", 1);
	/* GET has no body; the first call is the only one */
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	(void)con_cls;
	if (strcmp(url, h->path) == 0) {
		size_t len;
		char *body = h->render(h->ctx, &len);
		if (body == NULL)
			return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render\n", 0);
		return respond(conn, MHD_HTTP_OK, h->content_type, body, len, 0);
	}
	if (strcmp(url, "/") == 0) {
		char *index = xasprintf("deskgate %s\nmetrics: %s\n", PACKAGE_VERSION, h->path);
		return respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", index, strlen(index),
			       0);
	}
	return text(conn, MHD_HTTP_NOT_FOUND, "not found\n", 0);
}

/* libmicrohttpd's error messages: while starting, kept for error_r (one
   thread then); later, logged. */
static _Thread_local char start_error[512];
static _Thread_local int starting;

static void httpd_log(void *cls, const char *fmt, va_list ap) DG_ATTR_PRINTF(2, 0);

static void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[sizeof(start_error)];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	if (starting)
		snprintf(start_error, sizeof(start_error), "%s", msg);
	else
		log_warnx("metrics http: %s", msg);
}

static void
format_address(const struct sockaddr_storage *ss, unsigned port, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, port);
	}
}

int
httpd_start(const char *listen, const char *path, const char *content_type,
	    httpd_render_fn *render, void *ctx, struct httpd **httpd_r, const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;

	*httpd_r = NULL;
	if (httpd_parse_listen(listen, &ss, &len, error_r) < 0)
		return -1;
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->path = xstrdup(path);
	h->content_type = xstrdup(content_type);
	h->render = render;
	h->ctx = ctx;

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The server's thread inherits this mask: no signal for it. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	starting = 1;
	start_error[0] = '\0';
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT,
		MHD_OPTION_EXTERNAL_LOGGER, httpd_log, NULL, MHD_OPTION_END);
	starting = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->daemon == NULL) {
		*error_r = errf("cannot listen on %s: %s", listen,
				start_error[0] != '\0' ? start_error : "libmicrohttpd failed to start");
		free(h->path);
		free(h->content_type);
		free(h);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	format_address(&ss, info != NULL ? info->port : 0, h->address, sizeof(h->address));
	*httpd_r = h;
	return 0;
}

const char *
httpd_address(const struct httpd *h)
{
	return h->address;
}

void
httpd_stop(struct httpd **hp)
{
	struct httpd *h = *hp;
	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	free(h->path);
	free(h->content_type);
	free(h);
	*hp = NULL;
}
