/* ingest: placeholder until the pipeline lands. */
#include "build-config.h"
#include "gateway/ingest.h"
