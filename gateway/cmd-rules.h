/*
 * cmd-rules: what the `deskgate rules` subcommands share, private to
 * cmd-rules.c and the subcommands in files of their own (cmd-suggest.c):
 * the table of a subcommand's options and their parser, loading the rules
 * (--rules or the configured ones) and reading a --since date.
 */
#ifndef DG_CMD_RULES_H
#define DG_CMD_RULES_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct rules;

/* Options of one subcommand: --json and --rules PATH where the command
   takes them, its own options (a flag, or a string argument), and its
   positional arguments. */
struct rules_opt {
	const char *name;
	int *flag;	   /* set to 1, or */
	const char **arg;  /* takes the next argument */
};

struct rules_cmd {
	const char *name;	   /* "test" */
	const char *help;	   /* printed for --help */
	int json, rules;	   /* takes --json, --rules PATH */
	int args_are_rules;	   /* positional arguments are rules paths */
	size_t max_args;	   /* positional arguments otherwise */
	const char *usage;	   /* printed when they are wrong */
	const struct rules_opt *opts; /* { NULL } terminated, or NULL */
};

struct rules_opts {
	const char **paths; /* --rules */
	size_t n_paths;
	int json;
	const char *args[2];
	size_t n_args;
};

/* Parse argv (argv[0] is the subcommand) into *o: -1 to go on, else the
   exit status to return (0 after --help, EXIT_USAGE). */
int cmd_rules_opts_parse(const struct rules_cmd *cmd, int argc, char **argv, struct rules_opts *o);
void cmd_rules_opts_clear(struct rules_opts *o);
/* A number option (--errors N); -1 after printing why. */
int cmd_rules_opt_number(const struct rules_cmd *cmd, const char *name, const char *value,
			 uint64_t max, uint64_t *value_r);
/* The rules: --rules paths, else the configured directory (config may be
   NULL: the installed rules). -1 after printing the error(s). */
int cmd_rules_load(const struct config *config, const struct rules_opts *o, struct rules **rules_r,
		   int print_all);
/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (UTC) or an age such as "7d". */
int cmd_rules_parse_since(const char *s, int64_t *since_r);

/* deskgate rules suggest (cmd-suggest.c). */
int cmd_rules_suggest(int argc, char **argv);

#endif
