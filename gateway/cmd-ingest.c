/* deskgate ingest / import: placeholder until the pipeline lands. */
#include "build-config.h"
#include "gateway/cli.h"
#include "gateway/log.h"
int cmd_ingest(int argc, char **argv) { (void)argc; (void)argv; log_error("ingest: not built yet"); return EXIT_SOFTWARE; }
int cmd_import(int argc, char **argv) { (void)argc; (void)argv; log_error("import: not built yet"); return EXIT_SOFTWARE; }
