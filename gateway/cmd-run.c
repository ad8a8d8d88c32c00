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

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/poller.h"
#include "gateway/store.h"

static void
run_usage(FILE *out)
{
	fprintf(out, "usage: deskgate run [--once]\n\n"
		     "Watch every [mailbox NAME] of the configuration and turn new mail into\n"
		     "tickets: IMAP IDLE where the server offers it, else polling. Messages\n"
		     "are flagged \\Seen (or moved, after = move) only once their ticket is\n"
		     "committed. SIGTERM finishes the current batch and exits; SIGHUP\n"
		     "reloads the configuration.\n\n"
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
	int r = poller_run(poller);
	poller_free(&poller);
	store_close(&store);
	return r == 0 ? 0 : EXIT_TEMPFAIL;
}
