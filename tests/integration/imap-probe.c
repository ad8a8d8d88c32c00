/*
 * imap-probe: drives gateway/imap.c from the integration tests, one
 * connection per run, and prints what happened in a stable form:
 *
 *   imap-probe [-s imaps|starttls|none] [-C CA_FILE] [-k] [-t TIMEOUT]
 *              [-a login|plain|xoauth2|oauthbearer] [-m MAX_SIZE]
 *              HOST PORT USER SECRET COMMAND...
 *
 * Commands (run in order, on one connection):
 *   caps                 print "cap NAME" for IDLE MOVE UIDPLUS SASL-IR
 *   select FOLDER        print "select uidvalidity=N uidnext=N exists=N"
 *   search FIRST [unseen] print "search N: uid uid ..."
 *   fetch FIRST          fetch every UID >= FIRST: "msg UID LEN SHA256"
 *   seen UID...          add \Seen
 *   keyword KW UID...    add a keyword
 *   move FOLDER UID...   move
 *   idle SECONDS         IDLE until data or SECONDS: "idle woke" / "idle timeout"
 *
 * On failure it prints "error KIND: message" and exits 1 (KIND: network,
 * tls, auth, server).
 */
#include "build-config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/crypto.h"
#include "gateway/imap.h"
#include "gateway/log.h"

static const char *const kinds[] = { "none", "network", "tls", "auth", "server" };

static int
die(struct imap_conn *conn, const char *error)
{
	printf("error %s: %s\n", kinds[imap_failure(conn)], error);
	imap_logout(conn);
	imap_free(&conn);
	return 1;
}

static int
on_message(void *context, uint32_t uid, const unsigned char *data, size_t len, uint64_t size)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	(void)context;
	(void)size;
	if (data == NULL) {
		printf("msg %u nil\n", uid);
		return 0;
	}
	crypto_sha256_hex(data, len, hex);
	printf("msg %u %zu %s\n", uid, len, hex);
	return 0;
}

static uint32_t
num(const char *s)
{
	uint64_t v;
	if (str_to_u64(s, UINT32_MAX, &v) < 0) {
		fprintf(stderr, "imap-probe: bad number %s\n", s);
		exit(64);
	}
	return (uint32_t)v;
}

int
main(int argc, char **argv)
{
	struct imap_settings set = { .security = IMAP_SECURITY_IMAPS, .tls_verify = 1, .timeout = 10 };
	enum imap_auth auth = IMAP_AUTH_LOGIN;
	size_t max_size = 0;
	const char *error;
	int c;

	log_init("imap-probe", LOG_LEVEL_WARN);
	while ((c = getopt(argc, argv, "s:C:kt:a:m:v")) != -1) {
		switch (c) {
		case 's':
			if (imap_security_parse(optarg, &set.security) < 0)
				return 64;
			break;
		case 'C':
			set.ca_file = optarg;
			break;
		case 'k':
			set.tls_verify = 0;
			break;
		case 't':
			set.timeout = num(optarg);
			break;
		case 'a':
			if (imap_auth_parse(optarg, &auth) < 0)
				return 64;
			break;
		case 'm':
			max_size = num(optarg);
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		default:
			return 64;
		}
	}
	if (argc - optind < 4) {
		fprintf(stderr, "usage: imap-probe [options] HOST PORT USER SECRET COMMAND...\n");
		return 64;
	}
	set.host = argv[optind];
	set.port = num(argv[optind + 1]);
	const char *user = argv[optind + 2], *secret = argv[optind + 3];
	char **cmd = argv + optind + 4;
	int ncmd = argc - optind - 4;

	struct imap_conn *conn = imap_new(&set);
	if (imap_connect(conn, &error) < 0)
		return die(conn, error);
	printf("connected\n");
	if (imap_login(conn, auth, user, secret, &error) < 0)
		return die(conn, error);
	printf("logged in\n");

	for (int i = 0; i < ncmd; i++) {
		if (strcmp(cmd[i], "caps") == 0) {
			static const char *const names[] = { "IDLE", "MOVE", "UIDPLUS", "SASL-IR" };
			for (size_t k = 0; k < N_ELEMENTS(names); k++)
				if (imap_has_capability(conn, names[k]))
					printf("cap %s\n", names[k]);
		} else if (strcmp(cmd[i], "select") == 0 && i + 1 < ncmd) {
			struct imap_mailbox_info info;
			if (imap_select(conn, cmd[++i], &info, &error) < 0)
				return die(conn, error);
			printf("select uidvalidity=%u uidnext=%u exists=%u keywords=%d\n",
			       info.uidvalidity, info.uidnext, info.exists, info.keywords_allowed);
		} else if (strcmp(cmd[i], "search") == 0 && i + 1 < ncmd) {
			uint32_t *uids;
			size_t n;
			uint32_t first = num(cmd[++i]);
			int unseen = i + 1 < ncmd && strcmp(cmd[i + 1], "unseen") == 0;
			if (unseen)
				i++;
			if (imap_uid_search(conn, first, 0, unseen, &uids, &n, &error) < 0)
				return die(conn, error);
			printf("search %zu:", n);
			for (size_t k = 0; k < n; k++)
				printf(" %u", uids[k]);
			printf("\n");
			free(uids);
		} else if (strcmp(cmd[i], "fetch") == 0 && i + 1 < ncmd) {
			uint32_t *uids;
			size_t n;
			if (imap_uid_search(conn, num(cmd[++i]), 0, 0, &uids, &n, &error) < 0)
				return die(conn, error);
			int r = imap_fetch(conn, uids, n, max_size, on_message, NULL, &error);
			free(uids);
			if (r < 0)
				return die(conn, error);
		} else if ((strcmp(cmd[i], "seen") == 0 || strcmp(cmd[i], "keyword") == 0 ||
			    strcmp(cmd[i], "move") == 0) &&
			   i + 1 < ncmd) {
			const char *what = cmd[i], *arg = NULL;
			if (strcmp(what, "seen") != 0)
				arg = cmd[++i];
			uint32_t uids[1000];
			size_t n = 0;
			while (i + 1 < ncmd && n < N_ELEMENTS(uids) && cmd[i + 1][0] >= '0' &&
			       cmd[i + 1][0] <= '9')
				uids[n++] = num(cmd[++i]);
			int r = strcmp(what, "move") == 0
					? imap_move(conn, uids, n, arg, &error)
					: imap_add_flags(conn, uids, n, arg == NULL, arg, &error);
			if (r < 0)
				return die(conn, error);
			printf("%s ok\n", what);
		} else if (strcmp(cmd[i], "idle") == 0 && i + 1 < ncmd) {
			int secs = (int)num(cmd[++i]);
			if (imap_idle_start(conn, &error) < 0)
				return die(conn, error);
			int woke = imap_idle_pending(conn);
			if (!woke) {
				struct pollfd pfd = { .fd = imap_idle_fd(conn), .events = POLLIN };
				woke = poll(&pfd, 1, secs * 1000) > 0;
			}
			if (imap_idle_done(conn, &error) < 0)
				return die(conn, error);
			printf("idle %s\n", woke ? "woke" : "timeout");
		} else {
			fprintf(stderr, "imap-probe: bad command %s\n", cmd[i]);
			return 64;
		}
		fflush(stdout);
	}
	imap_logout(conn);
	imap_free(&conn);
	printf("bye\n");
	return 0;
}
