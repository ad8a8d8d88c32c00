/*
 * file: bounded whole-file and whole-stream readers. Part of the base layer:
 * it reads, but never logs. A file larger than the bound is an error, never
 * a silent truncation.
 *
 * Ownership: *data_r is malloc'ed, NUL-terminated after *len_r bytes, and
 * owned by the caller.
 */
#ifndef DG_FILE_H
#define DG_FILE_H

#include <stddef.h>

/* Read fd to its end, at most max bytes. 0, or -1 with *error_r
   ("read: REASON" or "input larger than MAX bytes"). */
int file_read_fd(int fd, size_t max, char **data_r, size_t *len_r, const char **error_r);

/* Read the file at path ("-" is standard input), at most max bytes.
   1 read, 0 absent (ENOENT or ENOTDIR), -1 other error with *error_r
   naming the path. */
int file_read(const char *path, size_t max, char **data_r, size_t *len_r,
	      const char **error_r);

#endif
