/*
 * spool: one message of any size, with bounded memory. The first mem_max
 * bytes stay in memory; a longer message moves to an unnamed temporary
 * file in a directory of the caller's choice (O_TMPFILE, else a named file
 * unlinked at once) and is handed back mmap()ed, so that a 200 MB mail
 * costs page cache, not heap. At most max bytes are kept: what comes
 * after is counted (spool_size()) but not kept, so a message over the
 * limit is still read to its end and can be refused with its true size.
 * Part of the base layer: it reads and writes, never logs.
 *
 * Ownership: struct spool is the caller's (spool_free()); the bytes
 * spool_data() returns belong to the spool and stay valid until it is
 * freed; they are followed by a NUL byte (not counted in the length).
 */
#ifndef DG_SPOOL_H
#define DG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

/* dir: where a large message goes (state_dir/tmp); mem_max: how much may
   stay in memory; max: how much is kept at all (0: no limit). */
struct spool *spool_new(const char *dir, size_t mem_max, uint64_t max);
void spool_free(struct spool **spoolp);

/* Append; -1 with *error_r only on an I/O error (bytes over max are
   counted and dropped, that is not an error). */
int spool_write(struct spool *spool, const void *data, size_t len, const char **error_r);
/* spool_write() everything read from fd up to its end. */
int spool_read_fd(struct spool *spool, int fd, const char **error_r);

/* Bytes written so far, kept or not. */
uint64_t spool_size(const struct spool *spool);
/* 1 when more than max bytes were written (the kept ones are a prefix). */
int spool_over(const struct spool *spool);
/* 1 when the message went to a file (it was longer than mem_max). */
int spool_on_disk(const struct spool *spool);

/* The kept bytes, contiguous: 0 with *data_r and *len_r, -1 with *error_r
   (mmap failed). No write may follow. */
int spool_data(struct spool *spool, const unsigned char **data_r, size_t *len_r,
	       const char **error_r);

#endif
