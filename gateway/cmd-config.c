/* deskgate config check|show|keys */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/log.h"

static void
config_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] config check|show|keys\n\n"
		     "  check   validate the configuration; errors name file:line\n"
		     "  show    print the effective configuration (secrets hidden)\n"
		     "  keys    list every key: section.key, type, default, meaning\n");
}

int
cmd_config(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		config_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (argc > 2) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "keys") == 0) {
		config_print_keys(stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "show") != 0) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	struct config *config = cli_config();
	if (strcmp(argv[1], "show") == 0)
		config_print(config, stdout);
	else
		printf("%s: ok\n", config->path);
	config_free(&config);
	return 0;
}
