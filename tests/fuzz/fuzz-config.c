/*
 * fuzz-config: config_load() over the input written to a temporary file
 * (config_load() reads a path; libinih reads the stream), then
 * config_print() of what loaded; and config_parse_size() /
 * config_parse_duration() over the first line. Checks that a failure names
 * the file and that print and free survive every accepted configuration.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static char conf_path[4096];
static int conf_fd = -1;
static FILE *devnull;

static void
conf_cleanup(void)
{
	if (conf_fd >= 0) {
		close(conf_fd);
		unlink(conf_path);
		conf_fd = -1;
	}
	if (devnull != NULL)
		fclose(devnull);
	devnull = NULL;
}

static void
conf_init(void)
{
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	int n = snprintf(conf_path, sizeof(conf_path), "%s/deskgate-fuzz-config-XXXXXX", tmp);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(conf_path));
	conf_fd = mkstemp(conf_path);
	FUZZ_CHECK(conf_fd >= 0);
	devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL);
	atexit(conf_cleanup);
}

static void
parse_values(const uint8_t *data, size_t size)
{
	char line[64];
	size_t n = 0;
	uint64_t v;
	while (n < size && n < sizeof(line) - 1 && data[n] != '\n') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	(void)config_parse_size(line, &v);
	(void)config_parse_duration(line, &v);
}

FUZZ_TARGET(config)
{
	struct config *config = NULL;
	const char *error = NULL;

	if (size > MAX_INPUT)
		return 0;
	if (conf_fd < 0)
		conf_init();
	parse_values(data, size);

	FUZZ_CHECK(ftruncate(conf_fd, 0) == 0);
	FUZZ_CHECK(size == 0 || pwrite(conf_fd, data, size, 0) == (ssize_t)size);

	if (config_load(conf_path, &config, &error) == 0) {
		FUZZ_CHECK(config != NULL);
		config_print(config, devnull);
		char *p = config_resolve_path(config, "rules.d");
		FUZZ_CHECK(p != NULL);
		free(p);
		config_free(&config);
		FUZZ_CHECK(config == NULL);
	} else {
		FUZZ_CHECK(config == NULL);
		FUZZ_CHECK(error != NULL && strstr(error, conf_path) != NULL);
	}
	return 0;
}
