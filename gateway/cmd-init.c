/*
 * deskgate init [--force] DIR: make DIR a working deskgate home: a
 * commented DIR/deskgate.conf with state_dir = DIR, and a fresh random
 * DIR/secret (the key of signed reply addresses). The other commands can
 * use it at once with -c DIR/deskgate.conf; the demo and the tests start
 * from it.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/storeloc.h"
#include "base/util.h"

static void
init_usage(FILE *out)
{
	fprintf(out, "usage: deskgate init [--force] [--address ADDR] [--hostname NAME] DIR\n\n"
		     "Create DIR (if needed) with a commented working configuration\n"
		     "DIR/deskgate.conf (store, spool and quarantine under DIR), a random\n"
		     "DIR/secret, and an empty ticket store. Refuses to overwrite an existing\n"
		     "deskgate.conf unless --force. --address sets support_address (the\n"
		     "desk's address), --hostname the host name used in Message-IDs.\n"
		     "Then: deskgate -c DIR/deskgate.conf ...\n");
}

static int
write_file(const char *path, int mode, int force, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
	if (fd < 0) {
		log_error("%s: %s%s", path, strerror(errno),
			  errno == EEXIST ? " (use --force to overwrite)" : "");
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		log_error("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return close(fd);
}

int
cmd_init(int argc, char **argv)
{
	int force = 0;
	const char *dir = NULL, *address = NULL, *hostname = NULL;
	const char *error;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			init_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = 1;
		} else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc &&
			   strchr(argv[i + 1], '@') != NULL && strpbrk(argv[i + 1], " \t\r\n") == NULL) {
			address = argv[++i];
		} else if (strcmp(argv[i], "--hostname") == 0 && i + 1 < argc &&
			   strpbrk(argv[i + 1], " \t\r\n/") == NULL) {
			hostname = argv[++i];
		} else if (dir == NULL && argv[i][0] != '-') {
			dir = argv[i];
		} else {
			init_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL) {
		init_usage(stderr);
		return EXIT_USAGE;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_error("%s: %s", dir, strerror(errno));
		return EXIT_CANTCREAT;
	}
	char abs[PATH_MAX];
	if (realpath(dir, abs) == NULL) {
		log_error("%s: %s", dir, strerror(errno));
		return EXIT_CANTCREAT;
	}

	char *conf_path = xasprintf("%s/deskgate.conf", abs);
	char *secret_path = xasprintf("%s/secret", abs);
	int exit_code = EXIT_CANTCREAT;

	char *text = NULL;
	size_t text_len = 0;
	FILE *mem = open_memstream(&text, &text_len);
	if (mem == NULL)
		fatal(EXIT_SOFTWARE, "open_memstream: %s", strerror(errno));
	config_write_template(mem, abs, address, hostname);
	fclose(mem);
	if (write_file(conf_path, 0600, force, text, text_len) < 0)
		goto out;

	struct stat st;
	if (stat(secret_path, &st) < 0) {
		unsigned char key[32];
		char hex[65];
		if (crypto_random(key, sizeof(key), &error) < 0) {
			log_error("%s", error);
			goto out;
		}
		for (size_t i = 0; i < sizeof(key); i++)
			snprintf(hex + 2 * i, 3, "%02x", key[i]);
		hex[64] = '\n';
		if (write_file(secret_path, 0600, 0, hex, sizeof(hex)) < 0)
			goto out;
	}

	/* Create the store now, so that a mistake shows here, not later. */
	struct config *config;
	if (config_load(conf_path, &config, &error) < 0) {
		log_error("%s", error);
		exit_code = EXIT_CONFIG;
		goto out;
	}
	struct store *store;
	if (storeloc_open(config, &store, &error) < 0) {
		log_error("%s", error);
		config_free(&config);
		goto out;
	}
	store_close(&store);
	config_free(&config);
	printf("deskgate home ready: %s\nnext: deskgate -c %s ingest < message.eml\n", abs,
	       conf_path);
	exit_code = 0;
out:
	free(text);
	free(conf_path);
	free(secret_path);
	return exit_code;
}
