/*
 * cli: the deskgate command line. One binary with subcommands, each in its
 * own cmd-*.c file and listed in main.c's table. Exit codes follow
 * sysexits(3): 0 ok, 64 usage, 65 bad input data, 69 unavailable,
 * 75 temporary failure (the MTA retries), 78 configuration error.
 */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_UNAVAILABLE 69
#define EXIT_SOFTWARE 70
#define EXIT_CANTCREAT 73
#define EXIT_IOERR 74
#define EXIT_TEMPFAIL 75
#define EXIT_CONFIG 78

struct config;
struct store;

/* Options every command takes, parsed by main() before the command. */
struct cli_global {
	const char *config_path; /* -c FILE */
	int verbose;		 /* -v */
	int quiet;		 /* -q */
	int config_exit;	 /* exit status of cli_config() on an error; 0: 78 */
	int unattended;		 /* run, ingest: [log] target applies */
};

extern struct cli_global cli_global;

/* Load the configuration named by -c (or the default); exits 78 (or
   cli_global.config_exit: 75 for the MTA pipe, where 78 would bounce the
   mail) with "file:line: why" on error. Applies log_level. */
struct config *cli_config(void);
/* Load the configuration and open the store; exits 78 on a configuration
   error and 75 when the store cannot be opened. */
void cli_open(struct config **config_r, struct store **store_r);

/* A time for people: "2026-11-23 09:12:00Z", "-" for 0. Points into a
   small ring of static buffers (valid for the next few calls). */
const char *cli_time(int64_t t);

/* For commands' option parsing: 1 when argv[i] is -h or --help. */
int cli_is_help(const char *arg);

int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_ticket(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sla(int argc, char **argv);
int cmd_store(int argc, char **argv);

#endif
