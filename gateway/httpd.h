/*
 * httpd: the metrics endpoint's HTTP server, the libmicrohttpd adapter (the
 * only module that includes microhttpd.h). It answers GET and HEAD for one
 * path with what a callback renders (the Prometheus exposition), a short
 * index at "/", 404 elsewhere and 405 for other methods.
 *
 * It runs in libmicrohttpd's own thread (MHD_USE_INTERNAL_POLLING_THREAD),
 * not in the daemon's loop: the loop blocks for the length of an IMAP
 * batch or an SMTP session, and a scrape must be answered exactly then,
 * when something may be stuck. So the callback runs in that thread and
 * must be thread-safe (metrics_render() is); the thread is started with
 * every signal blocked, so that SIGTERM, SIGHUP and SIGINT keep going to
 * the daemon's signalfd.
 *
 * Limits: 32 connections (8 per client address), 10 s idle time-out, and
 * libmicrohttpd's default 32 KiB of memory per connection for the request.
 *
 * Ownership: httpd_start() returns a server the caller stops and frees
 * with httpd_stop(); ctx is borrowed and must outlive it.
 */
#ifndef DG_HTTPD_H
#define DG_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

struct httpd;

/* Render the body for path: malloc'ed bytes (the server frees them) and
   their length; NULL when it cannot (the client gets 500). */
typedef char *httpd_render_fn(void *ctx, size_t *len_r);

/* Parse "HOST:PORT" or "[IPV6]:PORT" (HOST a numeric address or a name
   that resolves, such as localhost; PORT 0 picks a free one). -1 with
   error_r. */
int httpd_parse_listen(const char *listen, struct sockaddr_storage *addr_r, socklen_t *len_r,
		       const char **error_r);

/* Listen on listen and serve render()'s output at path with content_type.
   -1 with error_r (bad address, address in use...). */
int httpd_start(const char *listen, const char *path, const char *content_type,
		httpd_render_fn *render, void *ctx, struct httpd **httpd_r, const char **error_r);
/* The address it listens on, with the port it got ("127.0.0.1:9166"). */
const char *httpd_address(const struct httpd *httpd);
/* Stop listening, wait for the thread, free. Accepts NULL. */
void httpd_stop(struct httpd **httpdp);

#endif
