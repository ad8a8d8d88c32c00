/*
 * test-imap: the parts of gateway/imap.c that need no server: folder name
 * encoding (modified UTF-7, with invalid UTF-8), the option parsers, and
 * the failure grading of a client that cannot connect or is not connected.
 * Everything that talks to a server is in tests/integration/test-imap-*.sh.
 */
#include "build-config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/imap.h"
#include "gateway/log.h"
#include "tests/unit/test.h"

static void
test_mutf7(void)
{
	static const struct {
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
		{ "INBOX", "INBOX" },
		{ "", "" },
		{ "Support/Tickets", "Support/Tickets" },
		{ "A&B", "A&-B" },
		{ "&", "&-" },
		{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
		/* RFC 3501 5.1.3 */
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		/* U+1F4E5, a surrogate pair */
		{ "\xf0\x9f\x93\xa5", "&2D3c5Q-" },
		/* a control character is not printable ASCII */
		{ "a\tb", "a&AAk-b" },
		{ "\xe5\xb7\xa5\xe5\x8d\x95 & x", "&XeVTVQ- &- x" },
		/* invalid UTF-8 */
		{ "\xff", NULL },
		{ "ab\xc0\xaf", NULL },
		{ "\xe4\xb8", NULL },
		{ "\xed\xa0\x80", NULL }, /* a surrogate */
	};
	test_begin("mutf7");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *got = imap_mutf7_encode(cases[i].in);
		test_assert_str(got, cases[i].want);
		free(got);
	}
}

static void
test_parsers(void)
{
	static const struct {
		const char *s;
		int ok;
		enum imap_security want;
	} sec[] = {
		{ "imaps", 1, IMAP_SECURITY_IMAPS },
		{ "starttls", 1, IMAP_SECURITY_STARTTLS },
		{ "none", 1, IMAP_SECURITY_NONE },
		{ "IMAPS", 0, 0 },
		{ "tls", 0, 0 },
		{ "", 0, 0 },
		{ "imaps ", 0, 0 },
	};
	static const struct {
		const char *s;
		int ok;
		enum imap_auth want;
	} auth[] = {
		{ "login", 1, IMAP_AUTH_LOGIN },
		{ "plain", 1, IMAP_AUTH_PLAIN },
		{ "xoauth2", 1, IMAP_AUTH_XOAUTH2 },
		{ "oauthbearer", 1, IMAP_AUTH_OAUTHBEARER },
		{ "cram-md5", 0, 0 },
		{ "", 0, 0 },
		{ "PLAIN", 0, 0 },
	};
	test_begin("parsers");
	for (size_t i = 0; i < N_ELEMENTS(sec); i++) {
		enum imap_security got = IMAP_SECURITY_NONE;
		int r = imap_security_parse(sec[i].s, &got);
		test_assert_int(r, sec[i].ok ? 0 : -1);
		if (sec[i].ok)
			test_assert_int(got, sec[i].want);
	}
	for (size_t i = 0; i < N_ELEMENTS(auth); i++) {
		enum imap_auth got = IMAP_AUTH_LOGIN;
		int r = imap_auth_parse(auth[i].s, &got);
		test_assert_int(r, auth[i].ok ? 0 : -1);
		if (auth[i].ok)
			test_assert_int(got, auth[i].want);
	}
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static unsigned
closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 1;
	close(fd);
	return ntohs(sa.sin_port);
}

static void
test_failures_offline(void)
{
	const char *error = NULL;
	struct imap_mailbox_info info;
	uint32_t *uids = NULL;
	size_t n = 99;

	test_begin("failures");
	struct imap_settings set = {
		.host = "127.0.0.1",
		.port = closed_port(),
		.security = IMAP_SECURITY_IMAPS,
		.tls_verify = 1,
		.timeout = 2,
	};
	struct imap_conn *conn = imap_new(&set);
	test_assert_int(imap_failure(conn), IMAP_FAIL_NONE);
	/* nothing may be attempted before a connection */
	test_assert_int(imap_select(conn, "INBOX", &info, &error), -1);
	test_assert_int(imap_failure(conn), IMAP_FAIL_NETWORK);
	test_assert_int(imap_uid_search(conn, 1, 0, 0, &uids, &n, &error), -1);
	test_assert(uids == NULL && n == 0);
	test_assert_int(imap_login(conn, IMAP_AUTH_PLAIN, "u", "p", &error), -1);
	test_assert_int(imap_idle_done(conn, &error), 0); /* not idling: nothing to end */

	/* connection refused: a network failure, with the address in the text */
	test_assert_int(imap_connect(conn, &error), -1);
	test_assert_int(imap_failure(conn), IMAP_FAIL_NETWORK);
	test_assert(error != NULL && strstr(error, "127.0.0.1") != NULL);
	test_assert(strstr(imap_describe(conn), "127.0.0.1") != NULL);
	imap_logout(conn);
	imap_logout(conn); /* twice is harmless */
	imap_free(&conn);
	test_assert(conn == NULL);
	imap_free(&conn); /* NULL is accepted */
}

int
main(void)
{
	log_init("test-imap", LOG_LEVEL_ERROR);
	test_mutf7();
	test_parsers();
	test_failures_offline();
	return test_exit();
}
