/* test-httpd: listen addresses, and a real server on 127.0.0.1 answering
   raw HTTP requests: 200, HEAD, 404, 405, 500, a port in use, and the
   server thread's signal mask. */
#include "build-config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gateway/httpd.h"
#include "test.h"

static int render_calls;
static int render_fail;

static char *
render(void *ctx, size_t *len_r)
{
	render_calls++;
	if (render_fail)
		return NULL;
	char *body = strdup((const char *)ctx);
	*len_r = strlen(body);
	return body;
}

static void
test_parse(void)
{
	static const struct {
		const char *listen;
		int family; /* 0: must fail */
		unsigned port;
	} cases[] = {
		{ "127.0.0.1:9166", AF_INET, 9166 },
		{ "0.0.0.0:0", AF_INET, 0 },
		{ "[::1]:9166", AF_INET6, 9166 },
		{ "localhost:80", -1, 80 }, /* resolves: either family */
		{ "", 0, 0 },
		{ "9166", 0, 0 },
		{ ":9166", 0, 0 },
		{ "127.0.0.1", 0, 0 },
		{ "127.0.0.1:", 0, 0 },
		{ "127.0.0.1:65536", 0, 0 },
		{ "127.0.0.1:http", 0, 0 },
		{ "127.0.0.1:-1", 0, 0 },
		{ "::1:9166", 0, 0 },
		{ "[::1]", 0, 0 },
		{ "[::1]9166", 0, 0 },
		{ "[::1:9166", 0, 0 },
		{ "no-such-host.invalid:80", 0, 0 },
	};
	test_begin("httpd_parse_listen");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *error = NULL;
		int r = httpd_parse_listen(cases[i].listen, &ss, &len, &error);
		if (cases[i].family == 0) {
			if (r != -1)
				printf("accepted: %s\n", cases[i].listen);
			test_assert_int(r, -1);
			test_assert(error != NULL);
			continue;
		}
		test_assert_int(r, 0);
		if (r < 0) {
			printf("refused: %s: %s\n", cases[i].listen, error);
			continue;
		}
		if (cases[i].family > 0)
			test_assert_int(ss.ss_family, cases[i].family);
		unsigned port = ss.ss_family == AF_INET
					? ntohs(((struct sockaddr_in *)&ss)->sin_port)
					: ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		test_assert_int(port, cases[i].port);
	}
}

/* One request on a new connection; the whole response. */
static char *
request(unsigned port, const char *req)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return strdup("");
	}
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return strdup("");
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	return b != NULL ? b + 4 : "";
}

/* SIGTERM, SIGHUP and SIGINT blocked in every thread but this one. */
static int
other_threads_block_signals(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int others = 0, ok = 1;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (pid_t)strtol(e->d_name, NULL, 10) == getpid())
			continue;
		char path[300], line[256];
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		FILE *fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, "SigBlk:", 7) != 0)
				continue;
			unsigned long long mask = strtoull(line + 7, NULL, 16);
			unsigned long long want = (1ULL << (SIGTERM - 1)) | (1ULL << (SIGHUP - 1)) |
						  (1ULL << (SIGINT - 1));
			others++;
			if ((mask & want) != want)
				ok = 0;
		}
		fclose(fp);
	}
	closedir(d);
	return others > 0 && ok;
}

static void
test_server(void)
{
	struct httpd *h = NULL;
	const char *error = NULL;
	test_begin("a server on 127.0.0.1, port chosen by the kernel");
	int r = httpd_start("127.0.0.1:0", "/metrics", "text/plain; version=0.0.4; charset=utf-8",
			    render, (void *)"x_total 1\n", &h, &error);
	test_assert_int(r, 0);
	if (r < 0) {
		printf("httpd_start: %s\n", error);
		return;
	}
	const char *addr = httpd_address(h);
	test_assert(strncmp(addr, "127.0.0.1:", 10) == 0);
	unsigned port = (unsigned)strtoul(addr + 10, NULL, 10);
	test_assert(port > 0);

	char *resp = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	/* after an answer (a new thread starts with everything blocked until
	   it has set the mask it was created with) */
	test_assert_int(other_threads_block_signals(), 1);
	test_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	test_assert(strstr(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != NULL);
	test_assert_str(body_of(resp), "x_total 1\n");
	free(resp);

	resp = request(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	test_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	test_assert_str(body_of(resp), "");
	free(resp);

	resp = request(port, "GET / HTTP/1.0\r\n\r\n");
	test_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	test_assert(strstr(body_of(resp), "metrics: /metrics") != NULL);
	free(resp);

	resp = request(port, "GET /metrics/../etc/passwd HTTP/1.0\r\n\r\n");
	test_assert(strncmp(resp, "HTTP/1.1 404", 12) == 0);
	free(resp);

	resp = request(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	test_assert(strncmp(resp, "HTTP/1.1 405", 12) == 0);
	test_assert(strstr(resp, "Allow: GET, HEAD\r\n") != NULL);
	free(resp);

	render_fail = 1;
	resp = request(port, "GET /metrics HTTP/1.0\r\n\r\n");
	test_assert(strncmp(resp, "HTTP/1.1 500", 12) == 0);
	free(resp);
	render_fail = 0;

	test_begin("a port in use: a clear error");
	char busy[64];
	snprintf(busy, sizeof(busy), "127.0.0.1:%u", port);
	struct httpd *h2 = NULL;
	r = httpd_start(busy, "/metrics", "text/plain", render, (void *)"", &h2, &error);
	test_assert_int(r, -1);
	test_assert(h2 == NULL);
	test_assert(error != NULL && strstr(error, busy) != NULL);
	test_assert(r == -1 && strstr(error, "in use") != NULL);

	httpd_stop(&h);
	test_assert(h == NULL);
	httpd_stop(&h); /* NULL is fine */
	test_assert(render_calls >= 2);

	test_begin("stopped: the port is free again");
	resp = request(port, "GET /metrics HTTP/1.0\r\n\r\n");
	test_assert_str(resp, "");
	free(resp);
	r = httpd_start(busy, "/metrics", "text/plain", render, (void *)"again\n", &h, &error);
	test_assert_int(r, 0);
	httpd_stop(&h);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse();
	test_server();
	return test_exit();
}
