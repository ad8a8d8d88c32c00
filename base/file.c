/* file: see file.h. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/util.h"

int
file_read_fd(int fd, size_t max, char **data_r, size_t *len_r, const char **error_r)
{
	struct buf b;
	buf_init(&b, max);
	unsigned char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = errf("read: %s", strerror(errno));
			buf_free(&b);
			return -1;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			*error_r = errf("input larger than %zu bytes", max);
			buf_free(&b);
			return -1;
		}
	}
	*data_r = buf_steal(&b, len_r);
	return 0;
}

int
file_read(const char *path, size_t max, char **data_r, size_t *len_r, const char **error_r)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = errf("%s: %s", path, strerror(errno));
		return -1;
	}
	const char *error;
	int ret = file_read_fd(fd, max, data_r, len_r, &error);
	if (!is_stdin)
		close(fd);
	if (ret < 0) {
		*error_r = errf("%s: %s", path, error);
		return -1;
	}
	return 1;
}
