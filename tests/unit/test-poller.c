/*
 * test-poller: the daemon loop's reload bookkeeping (gateway/poller.c),
 * without a mailbox: SIGHUP (sent to ourselves, read from the poller's
 * signalfd like a real one) loads the configuration again and counts a
 * generation; a configuration that does not load leaves both the running
 * configuration and the generation alone; SIGTERM stops the loop. The
 * outbox timer in cmd-run.c compares generations to learn of a reload:
 * comparing configuration pointers, as it once did, misses a reload when
 * the allocator hands the new configuration the old one's address.
 */
#include "build-config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/poller.h"
#include "gateway/store.h"
#include "base/util.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-poller.XXXXXX";
static char *conf_path;

struct tick {
	struct poller *poller;
	int n;
	unsigned long gen[4];
	const struct config *cfg[4];
};

static void
write_conf(const char *extra)
{
	FILE *fp = fopen(conf_path, "w");
	if (fp == NULL)
		abort();
	fprintf(fp, "[general]\nstate_dir = %s\nlog_level = error\n%s", tmpdir, extra);
	fclose(fp);
}

static void
on_tick(void *context)
{
	struct tick *t = context;
	if (t->n < 4) {
		t->gen[t->n] = poller_config_generation(t->poller);
		t->cfg[t->n] = poller_config(t->poller);
	}
	switch (t->n++) {
	case 0: /* a good reload */
		write_conf("hostname = reloaded.example.test\n");
		raise(SIGHUP);
		break;
	case 1: /* a configuration that does not load */
		write_conf("no such key = 1\n");
		raise(SIGHUP);
		break;
	case 2: /* a good one again */
		write_conf("hostname = again.example.test\n");
		raise(SIGHUP);
		break;
	default:
		raise(SIGTERM);
		break;
	}
}

int
main(void)
{
	const char *error;
	struct config *config;
	struct store *store;
	log_init("test-poller", LOG_LEVEL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("cannot make a temporary directory");
	conf_path = xasprintf("%s/deskgate.conf", tmpdir);
	write_conf("");
	/* the threading key (deskgate init makes one) */
	char *secret = xasprintf("%s/secret", tmpdir);
	FILE *fp = fopen(secret, "w");
	if (fp == NULL)
		abort();
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", fp);
	fclose(fp);
	free(secret);
	if (config_load(conf_path, &config, &error) < 0 ||
	    store_open(config->database, config->state_dir, &store, &error) < 0) {
		printf("%s\n", error);
		return 1;
	}
	struct poller_options opt = { .keep_log_level = 1 };
	struct poller *p = poller_new(config, store, &opt);
	struct tick t = { .poller = p };
	poller_add_timer(p, 1, on_tick, &t);

	test_begin("reload generations");
	test_assert_int(poller_config_generation(p), 0);
	test_assert_int(poller_run(p), 0);
	test_assert_int(t.n, 4);
	test_assert_int(t.gen[0], 0);
	test_assert_int(t.gen[1], 1); /* reloaded */
	test_assert_int(t.gen[2], 1); /* the bad file changed nothing */
	test_assert(t.cfg[2] == t.cfg[1]);
	test_assert_int(t.gen[3], 2);
	test_assert_str(poller_config(p)->hostname, "again.example.test");

	poller_free(&p);
	store_close(&store);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", tmpdir);
	free(cmd);
	free(conf_path);
	return test_exit();
}
