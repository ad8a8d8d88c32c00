/*
 * deskgate run [--once]: the daemon. Serves every [mailbox NAME] of the
 * configuration in one event loop (see poller.h) until SIGTERM; SIGHUP
 * reloads the configuration. With --once it processes what is in the
 * mailboxes now and exits: 0 when every mailbox was processed, 75 when one
 * could not be (the reason is logged), for cron and for tests. On a
 * terminal --once draws a progress bar (and logs only warnings and errors,
 * unless -v).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/poller.h"
#include "gateway/store.h"

/* The outbox sender, run from the poller's loop. The outbox keeps a
   pointer to the configuration, which a reload replaces: it is made anew
   when the configuration changed. */
struct run_outbox {
	struct poller *poller;
	struct store *store;
	struct outbox *outbox;
	const struct config *config; /* the one outbox was made with */
	int broken;		     /* the last run failed on the store or config */
};

static int
run_outbox_send(struct run_outbox *ro, size_t max)
{
	const char *error;
	const struct config *config = poller_config(ro->poller);
	struct outbox_run_stats stats;

	if (ro->outbox == NULL || ro->config != config) {
		outbox_free(&ro->outbox);
		if (outbox_new(ro->store, config, &ro->outbox, &error) < 0) {
			if (!ro->broken)
				log_error("outbox: %s", error);
			ro->broken = 1;
			return -1;
		}
		ro->config = config;
	}
	if (outbox_run_due(ro->outbox, (int64_t)time(NULL), max, &stats, &error) < 0) {
		if (!ro->broken)
			log_error("outbox: %s", error);
		ro->broken = 1;
		return -1;
	}
	ro->broken = 0;
	return stats.more && !stats.relay_down ? 1 : 0;
}

static void
run_outbox_timer(void *context)
{
	(void)run_outbox_send(context, 100);
}

/* The pid file for `deskgate rules reload` (SIGHUP). */
static char *
pidfile_write(const struct config *config)
{
	char *path = xasprintf("%s/deskgate.pid", config->state_dir);
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		log_warn("pid file %s", path);
		free(tmp);
		free(path);
		return NULL;
	}
	free(tmp);
	return path;
}

static void
run_usage(FILE *out)
{
	fprintf(out, "usage: deskgate run [--once]\n\n"
		     "Watch every [mailbox NAME] of the configuration and turn new mail into\n"
		     "tickets: IMAP IDLE where the server offers it, else polling. Messages\n"
		     "are flagged \\Seen (or moved, after = move) only once their ticket is\n"
		     "committed. SIGTERM finishes the current batch and exits; SIGHUP\n"
		     "reloads the configuration and the rules. Queued mail (acknowledgements,\n"
		     "notifications, relayed replies) is sent through [smtp] every second.\n\n"
		     "  --once    process what is there now, then exit (0 done, 75 a mailbox\n"
		     "            failed); a progress bar on a terminal\n");
}

int
cmd_run(int argc, char **argv)
{
	struct poller_options opt = { 0 };
	struct config *config;
	struct store *store;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			run_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--once") == 0) {
			opt.once = 1;
		} else {
			fprintf(stderr, "deskgate run: unknown argument %s\n", argv[i]);
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	opt.progress_bar = opt.once && !cli_global.quiet && isatty(STDERR_FILENO);
	opt.keep_log_level = cli_global.verbose || cli_global.quiet;

	cli_open(&config, &store);
	/* with a bar, one info line per message would only tear it apart */
	if (opt.progress_bar && !cli_global.verbose && log_get_level() > LOG_LEVEL_WARN)
		log_set_level(LOG_LEVEL_WARN);
	struct poller *poller = poller_new(config, store, &opt);
	struct run_outbox ro = { .poller = poller, .store = store };
	char *pidfile = opt.once ? NULL : pidfile_write(config);
	poller_add_timer(poller, 1, run_outbox_timer, &ro);
	int r = poller_run(poller);
	if (opt.once) {
		/* Send what the run queued before exiting (while there is more
		   due and the relay answers). */
		while (run_outbox_send(&ro, 500) > 0)
			;
	}
	if (pidfile != NULL) {
		unlink(pidfile);
		free(pidfile);
	}
	outbox_free(&ro.outbox);
	poller_free(&poller);
	store_close(&store);
	return r == 0 && !ro.broken ? 0 : EXIT_TEMPFAIL;
}
