#include "build-config.h"
#include "gateway/cli.h"
#include "gateway/log.h"
int cmd_quarantine(int argc, char **argv) { (void)argc; (void)argv; log_error("quarantine: not built yet"); return EXIT_SOFTWARE; }
