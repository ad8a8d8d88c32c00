#include "build-config.h"
#include "gateway/cli.h"
#include "gateway/log.h"
int cmd_ticket(int argc, char **argv) { (void)argc; (void)argv; log_error("ticket: not built yet"); return EXIT_SOFTWARE; }
