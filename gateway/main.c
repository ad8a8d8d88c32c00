/*
 * deskgate: an email-to-ticket mail gateway. This file only dispatches to
 * the subcommands; see cli.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/storeloc.h"

struct cli_global cli_global;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "write a working configuration and state directory" },
	{ "config", cmd_config, "check or show the configuration" },
	{ "ingest", cmd_ingest, "store one message (MTA pipe mode)" },
	{ "import", cmd_import, "import a maildir or mbox backlog" },
	{ "ticket", cmd_ticket, "list and show tickets" },
	{ "quarantine", cmd_quarantine, "list, show and retry quarantined mail" },
	{ "rules", cmd_rules, "check, test, evaluate, replay and reload classification rules" },
	{ "outbox", cmd_outbox, "list, show, retry and cancel outgoing mail" },
	{ "template", cmd_template, "check and render acknowledgement templates" },
	{ "parse", cmd_parse, "show what deskgate reads from one message, storing nothing" },
	{ "report", cmd_report, "how the desk is doing: volume, response times, backlog, CSAT" },
	{ "sla", cmd_sla, "check SLA policies and calendars, and what they promise" },
	{ "run", cmd_run, "watch the IMAP mailboxes and turn mail into tickets" },
	{ "status", cmd_status, "is the daemon running, and how are its mailboxes and outbox" },
	{ "store", cmd_store, "copy the store into another (SQLite into PostgreSQL) and verify it" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] [-v|-q] COMMAND [ARGS]\n\n"
		     "Options:\n"
		     "  -c FILE   configuration file (default %s)\n"
		     "  -v        verbose (debug log)\n"
		     "  -q        quiet (warnings and errors only)\n"
		     "  -h        this help; `deskgate COMMAND --help` for a command's\n"
		     "  -V        print the version\n\n"
		     "Commands:\n",
		CONFIG_DEFAULT_PATH);
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nSee deskgate(8), deskgate.conf(5).\n");
}

const char *
cli_time(int64_t t)
{
	static char ring[8][32];
	static unsigned int next;
	char *b = ring[next++ % N_ELEMENTS(ring)];
	if (t <= 0)
		return "-";
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(b, sizeof(ring[0]), "%Y-%m-%d %H:%M:%SZ", &tm);
	return b;
}

int
cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

struct config *
cli_config(void)
{
	struct config *config;
	const char *error;
	const char *path = cli_global.config_path != NULL ? cli_global.config_path
							  : CONFIG_DEFAULT_PATH;
	if (config_load(path, &config, &error) < 0)
		fatal(cli_global.config_exit != 0 ? cli_global.config_exit : EXIT_CONFIG, "%s", error);
	if (!cli_global.verbose && !cli_global.quiet) {
		enum log_level level;
		if (log_level_parse(config->log_level, &level) == 0)
			log_set_level(level);
	}
	enum log_target target;
	int facility;
	if (cli_global.unattended && log_target_parse(config->log.target, &target) == 0 &&
	    log_facility_parse(config->log.facility, &facility) == 0)
		log_open(target, facility);
	return config;
}

void
cli_open(struct config **config_r, struct store **store_r)
{
	const char *error;
	struct config *config = cli_config();
	if (storeloc_open(config, store_r, &error) < 0) {
		log_error("cannot open the store: %s", error);
		config_free(&config);
		exit(EXIT_TEMPFAIL);
	}
	store_set_blob_file_min(*store_r, (size_t)config->blob_file_min);
	*config_r = config;
}

int
main(int argc, char **argv)
{
	int i;

	log_init("deskgate", LOG_LEVEL_INFO);
#ifdef __GLIBC__
	/* One malloc arena for every thread: glibc gives each thread that
	   allocates an arena of its own (up to 8 per core), and the outbox
	   thread's kept ~1.4 MB resident beside the main heap (run --once
	   over bench-imap's mailbox: 36.5 -> 35.5 MB peak RSS, CPU the same;
	   docs/performance.md). The threads allocate little; glibc's
	   per-thread cache spares them most of the lock. MALLOC_ARENA_MAX or
	   GLIBC_TUNABLES in the environment still decide. */
	if (getenv("MALLOC_ARENA_MAX") == NULL && getenv("GLIBC_TUNABLES") == NULL)
		(void)mallopt(M_ARENA_MAX, 1);
#endif
	/* libetpan and libcurl write to sockets with send(); a peer that
	   goes away must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0 && i + 1 < argc) {
			cli_global.config_path = argv[++i];
		} else if (strcmp(a, "-v") == 0) {
			cli_global.verbose = 1;
			log_set_level(LOG_LEVEL_DEBUG);
		} else if (strcmp(a, "-q") == 0) {
			cli_global.quiet = 1;
			log_set_level(LOG_LEVEL_WARN);
		} else if (cli_is_help(a)) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("deskgate %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "deskgate: unknown option %s\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cli_global.unattended = strcmp(argv[i], "run") == 0 || strcmp(argv[i], "ingest") == 0;
	for (size_t k = 0; k < N_ELEMENTS(commands); k++) {
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(argc - i, argv + i);
	}
	fprintf(stderr, "deskgate: unknown command \"%s\"\n", log_safe(argv[i], 64));
	usage(stderr);
	return EXIT_USAGE;
}
