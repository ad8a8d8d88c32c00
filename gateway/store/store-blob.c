/*
 * store-blob: content-addressed blob files; see store-blob.h.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store/store-blob.h"

/* Temporary blob files left by a crash are removed at open once older
   than this (younger ones may belong to a process writing right now). */
#define STORE_TMP_MAX_AGE (24 * 60 * 60)

struct store_blobs {
	char *state_dir;
	int pending; /* deferred blobs written since the last flush */
	unsigned int tmp_counter;
};

static const char *const blob_kind_dirs[] = {
	[STORE_BLOB_RAW] = "raw",
	[STORE_BLOB_ATTACHMENT] = "att",
};

/* fsync() a file or directory by name (flags: O_DIRECTORY or O_NOFOLLOW). */
static int
fsync_path(const char *path, int flags, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0) {
		*error_r = errf("store: open %s: %s", path, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	if (fsync(fd) < 0) {
		*error_r = errf("store: fsync %s: %s", path, strerror(errno));
		close(fd);
		return STORE_UNAVAILABLE;
	}
	close(fd);
	return STORE_OK;
}

int
store_fsync_dir(const char *dir, const char **error_r)
{
	return fsync_path(dir, O_DIRECTORY, error_r);
}

/* mkdir with mode 0700 unless it exists; *created_r tells which. */
static int
make_dir(const char *dir, int *created_r, const char **error_r)
{
	struct stat st;
	*created_r = 0;
	if (mkdir(dir, 0700) == 0) {
		*created_r = 1;
		return STORE_OK;
	}
	if (errno != EEXIST) {
		*error_r = errf("store: mkdir %s: %s", dir, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = errf("store: %s: not a directory", dir);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

static int
make_state_dirs(const char *state_dir, const char **error_r)
{
	static const char *const subdirs[] = { "raw", "att", "tmp" };
	int created, any = 0;

	if (make_dir(state_dir, &created, error_r) < 0)
		return STORE_UNAVAILABLE;
	for (size_t i = 0; i < N_ELEMENTS(subdirs); i++) {
		char *dir = xasprintf("%s/%s", state_dir, subdirs[i]);
		int ret = make_dir(dir, &created, error_r);
		any |= created;
		if (ret == 0 && access(dir, W_OK | X_OK) < 0) {
			*error_r = errf("store: %s: %s", dir, strerror(errno));
			ret = STORE_UNAVAILABLE;
		}
		free(dir);
		if (ret < 0)
			return STORE_UNAVAILABLE;
	}
	if (access(state_dir, W_OK | X_OK) < 0) {
		*error_r = errf("store: %s: %s", state_dir, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	return any ? store_fsync_dir(state_dir, error_r) : STORE_OK;
}

/* Remove temporary blob files a crash left behind. Best effort. */
static void
clean_tmp(const char *state_dir)
{
	char *dir = xasprintf("%s/tmp", state_dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	time_t limit = time(NULL) - STORE_TMP_MAX_AGE;

	free(dir);
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < limit)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
store_blobs_open(const char *state_dir, struct store_blobs **blobs_r, const char **error_r)
{
	*blobs_r = NULL;
	if (make_state_dirs(state_dir, error_r) < 0)
		return STORE_UNAVAILABLE;
	clean_tmp(state_dir);
	struct store_blobs *blobs = xcalloc(1, sizeof(*blobs));
	blobs->state_dir = xstrdup(state_dir);
	*blobs_r = blobs;
	return STORE_OK;
}

void
store_blobs_close(struct store_blobs **blobsp)
{
	struct store_blobs *blobs = *blobsp;
	if (blobs == NULL)
		return;
	free(blobs->state_dir);
	free(blobs);
	*blobsp = NULL;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
store_blob_hex_valid(const char *hex)
{
	if (hex == NULL)
		return 0;
	for (size_t i = 0; i < CRYPTO_SHA256_HEX_LEN; i++) {
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	}
	return hex[CRYPTO_SHA256_HEX_LEN] == '\0';
}

static const char *
kind_dir(enum store_blob_kind kind)
{
	if ((unsigned int)kind >= N_ELEMENTS(blob_kind_dirs))
		return NULL;
	return blob_kind_dirs[kind];
}

char *
store_blobs_path(struct store_blobs *blobs, enum store_blob_kind kind, const char *hex)
{
	const char *kd = kind_dir(kind);
	if (kd == NULL || !store_blob_hex_valid(hex))
		return NULL;
	return xasprintf("%s/%s/%.2s/%s", blobs->state_dir, kd, hex, hex);
}

/* 1 when the file at path holds exactly these bytes. A file renamed into
   place whose data a crash kept from the disk has the right name and
   size but other bytes (zeros on some file systems), so neither is proof:
   compare (cheaper than hashing it, and the data is at hand). */
static int
same_bytes(const char *path, const unsigned char *data, size_t len)
{
	unsigned char chunk[64 * 1024];
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), same = fd >= 0;

	while (same && off < len) {
		size_t want = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		same = n > 0 && memcmp(chunk, data + off, (size_t)n) == 0;
		off += same ? (size_t)n : 0;
	}
	if (same && read(fd, chunk, 1) != 0)
		same = 0; /* longer than len */
	if (fd >= 0)
		close(fd);
	return same;
}

/* Make an existing blob as durable as a new one would be. */
static int
settle_existing(struct store_blobs *blobs, const char *path, const char *dir, int defer,
		const char **error_r)
{
	if (defer) {
		blobs->pending = 1;
		return STORE_OK;
	}
	int ret = fsync_path(path, O_NOFOLLOW, error_r);
	return ret < 0 ? ret : store_fsync_dir(dir, error_r);
}

int
store_blobs_put(struct store_blobs *blobs, enum store_blob_kind kind, const void *data,
		size_t len, int defer, char hex_r[65], const char **error_r)
{
	const char *kd = kind_dir(kind);
	char *path = NULL, *dir = NULL, *kdir = NULL, *tmp = NULL;
	struct stat st;
	int fd = -1, created = 0, ret = STORE_UNAVAILABLE;

	crypto_sha256_hex(data, len, hex_r);
	path = store_blobs_path(blobs, kind, hex_r);
	kdir = xasprintf("%s/%s", blobs->state_dir, kd);
	dir = xasprintf("%s/%.2s", kdir, hex_r);

	/* Keep a file in place only when it holds these bytes; anything else
	   (cut short, or of the right size with the wrong bytes) is replaced
	   below by a rename over it. */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == len &&
	    same_bytes(path, data, len)) {
		ret = settle_existing(blobs, path, dir, defer, error_r);
		goto out;
	}
	if (make_dir(dir, &created, error_r) < 0)
		goto out;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		free(tmp);
		tmp = xasprintf("%s/tmp/%.16s.%ld.%u", blobs->state_dir, hex_r, (long)getpid(),
				blobs->tmp_counter++);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		*error_r = errf("store: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) < 0) {
		*error_r = errf("store: write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (!defer && fsync(fd) < 0) {
		*error_r = errf("store: fsync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = errf("store: close %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		*error_r = errf("store: rename %s to %s: %s", tmp, path, strerror(errno));
		goto out_unlink;
	}
	if (defer) {
		/* Flushed by one syncfs() in store_blobs_flush(). */
		blobs->pending = 1;
		ret = STORE_OK;
	} else if (store_fsync_dir(dir, error_r) == 0 &&
		   (!created || store_fsync_dir(kdir, error_r) == 0)) {
		ret = STORE_OK;
	}
	goto out;

out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dir);
	free(kdir);
	free(path);
	return ret;
}

int
store_blobs_get(struct store_blobs *blobs, enum store_blob_kind kind, const char *hex,
		unsigned char **data_r, size_t *len_r, const char **error_r)
{
	char *path = store_blobs_path(blobs, kind, hex);
	unsigned char *data = NULL;
	char got[CRYPTO_SHA256_HEX_LEN + 1];
	struct stat st;
	size_t len = 0;
	int fd;

	*data_r = NULL;
	*len_r = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*error_r = errf("store: open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = errf("store: %s: not a regular file", path);
		goto fail;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errf("store: read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	crypto_sha256_hex(data, len, got);
	if (strcmp(got, hex) != 0) {
		*error_r = errf("store: %s: blob is corrupt (its SHA-256 is %s)", path, got);
		goto fail;
	}
	close(fd);
	free(path);
	*data_r = data;
	*len_r = len;
	return STORE_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(data);
	free(path);
	return STORE_UNAVAILABLE;
}

int
store_blobs_flush(struct store_blobs *blobs, const char **error_r)
{
	if (!blobs->pending)
		return STORE_OK;
	/* One flush for every blob of the batch, before the rows that point
	   at them can become durable. */
	int fd = open(blobs->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0) {
		*error_r = errf("store: commit: syncfs %s: %s", blobs->state_dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return STORE_UNAVAILABLE;
	}
	close(fd);
	blobs->pending = 0;
	return STORE_OK;
}

void
store_blobs_forget(struct store_blobs *blobs)
{
	blobs->pending = 0;
}
