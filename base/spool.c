/* spool: see spool.h. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/spool.h"
#include "base/util.h"

struct spool {
	char *dir;
	size_t mem_max;
	uint64_t max;
	uint64_t size;	   /* written, kept or not */
	uint64_t kept;	   /* bytes kept (memory or file) */
	unsigned char *mem; /* the bytes while they fit in memory */
	size_t mem_cap;
	int fd;		   /* the file, once the bytes went there */
	unsigned char *map;
	size_t map_len;
	int finished;
};

struct spool *
spool_new(const char *dir, size_t mem_max, uint64_t max)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->mem_max = mem_max;
	sp->max = max;
	sp->fd = -1;
	return sp;
}

void
spool_free(struct spool **spoolp)
{
	struct spool *sp = *spoolp;
	if (sp == NULL)
		return;
	if (sp->map != NULL)
		munmap(sp->map, sp->map_len);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->mem);
	free(sp->dir);
	free(sp);
	*spoolp = NULL;
}

static int
write_all(int fd, const unsigned char *data, size_t len, const char **error_r)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errf("spool: write: %s", strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* An unnamed file in dir: O_TMPFILE where the file system has it, else a
   named one removed at once (nothing is left behind after a crash). */
static int
open_tmp(struct spool *sp, const char **error_r)
{
	int fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char *path = xasprintf("%s/spool.XXXXXX", sp->dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		*error_r = errf("spool: %s: %s", sp->dir, strerror(errno));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	return fd;
}

int
spool_write(struct spool *sp, const void *data, size_t len, const char **error_r)
{
	if (sp->finished) {
		*error_r = "spool: written after spool_data()";
		return -1;
	}
	sp->size += len;
	/* keep only up to max */
	if (sp->max > 0 && sp->kept + len > sp->max)
		len = sp->kept < sp->max ? (size_t)(sp->max - sp->kept) : 0;
	if (len == 0)
		return 0;
	if (sp->fd < 0 && sp->kept + len <= sp->mem_max) {
		if (sp->kept + len > sp->mem_cap) {
			size_t cap = sp->mem_cap > 0 ? sp->mem_cap : 64 * 1024;
			while (cap < sp->kept + len)
				cap = cap <= SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
			if (cap > sp->mem_max)
				cap = sp->mem_max;
			sp->mem = xrealloc(sp->mem, cap + 1);
			sp->mem_cap = cap;
		}
		memcpy(sp->mem + sp->kept, data, len);
		sp->kept += len;
		return 0;
	}
	if (sp->fd < 0) {
		/* too long for memory: what we have goes to a file first */
		sp->fd = open_tmp(sp, error_r);
		if (sp->fd < 0)
			return -1;
		if (write_all(sp->fd, sp->mem, (size_t)sp->kept, error_r) < 0)
			return -1;
		x_free(&sp->mem);
		sp->mem_cap = 0;
	}
	if (write_all(sp->fd, data, len, error_r) < 0)
		return -1;
	sp->kept += len;
	return 0;
}

int
spool_read_fd(struct spool *sp, int fd, const char **error_r)
{
	unsigned char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errf("read: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (spool_write(sp, chunk, (size_t)n, error_r) < 0)
			return -1;
	}
}

uint64_t
spool_size(const struct spool *sp)
{
	return sp->size;
}

int
spool_over(const struct spool *sp)
{
	return sp->max > 0 && sp->size > sp->max;
}

int
spool_on_disk(const struct spool *sp)
{
	return sp->fd >= 0;
}

int
spool_data(struct spool *sp, const unsigned char **data_r, size_t *len_r, const char **error_r)
{
	if (!sp->finished) {
		sp->finished = 1;
		if (sp->fd >= 0) {
			/* a NUL after the last byte, like the memory case, for
			   callers that treat the bytes as a string */
			static const unsigned char nul = 0;
			if (sp->kept >= SIZE_MAX || write_all(sp->fd, &nul, 1, error_r) < 0)
				return -1;
			sp->map_len = (size_t)sp->kept + 1;
			void *map = mmap(NULL, sp->map_len, PROT_READ, MAP_PRIVATE, sp->fd, 0);
			if (map == MAP_FAILED) {
				*error_r = errf("spool: mmap %llu bytes: %s",
						(unsigned long long)sp->map_len, strerror(errno));
				sp->map_len = 0;
				return -1;
			}
			sp->map = map;
			(void)madvise(sp->map, sp->map_len, MADV_SEQUENTIAL);
		} else {
			if (sp->mem == NULL)
				sp->mem = xcalloc(1, 1);
			sp->mem[sp->kept] = '\0';
		}
	}
	if (sp->fd >= 0 && sp->map == NULL) {
		*error_r = "spool: not mapped";
		return -1;
	}
	*data_r = sp->fd >= 0 ? sp->map : sp->mem;
	*len_r = (size_t)sp->kept;
	return 0;
}
