/* placeholder */
#include "build-config.h"
#include "gateway/cli.h"
int cmd_init(int argc, char **argv) { (void)argc; (void)argv; return EXIT_SOFTWARE; }
