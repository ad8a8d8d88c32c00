/*
 * store-blob: content-addressed blob files under the state directory,
 * private to gateway/store/ (a driver that keeps its blobs in files uses
 * it; the interface callers see is store_blob_put() and friends in
 * store.h):
 *
 *   state_dir/raw/ab/<sha256>   raw messages
 *   state_dir/att/ab/<sha256>   decoded attachments
 *   state_dir/tmp/              files being written
 *
 * A blob is written to a temporary file in tmp/ (O_EXCL, mode 0600) and
 * renamed into place, so a file is never half-written under its final
 * name. A file already in place is kept only when it holds the blob's
 * bytes (a crash can leave a renamed file whose data never reached the
 * disk: same name, same size, other bytes); otherwise it is replaced.
 *
 * Durability: without `defer`, the file and its directory are fsync()ed
 * before store_blobs_put() returns. With `defer` (inside a transaction)
 * the flush is left to store_blobs_flush(), one syncfs() for the whole
 * batch, which the driver calls before it commits the rows that point at
 * the blobs.
 *
 * Results are STORE_OK or STORE_UNAVAILABLE (a file system error) with
 * *error_r naming the file.
 */
#ifndef DG_STORE_BLOB_H
#define DG_STORE_BLOB_H

#include <stddef.h>

#include "gateway/store/store.h"

struct store_blobs;

/* Create state_dir and its subdirectories (mode 0700) unless they exist,
   check that they are writable (so a read-only state directory fails at
   start-up, not at the first message), and remove temporary files a crash
   left behind more than a day ago. */
int store_blobs_open(const char *state_dir, struct store_blobs **blobs_r, const char **error_r);
void store_blobs_close(struct store_blobs **blobsp);

/* kind must be valid (checked by the dispatcher). */
int store_blobs_put(struct store_blobs *blobs, enum store_blob_kind kind, const void *data,
		    size_t len, int defer, char hex_r[65], const char **error_r);
/* Read a blob whole and check its SHA-256 (a mismatch is an error); the
   caller frees *data_r (NUL-terminated after len bytes). */
int store_blobs_get(struct store_blobs *blobs, enum store_blob_kind kind, const char *hex,
		    unsigned char **data_r, size_t *len_r, const char **error_r);
/* The file of a blob (caller frees), or NULL unless kind is valid and hex
   is exactly 64 lower-case hex digits. */
char *store_blobs_path(struct store_blobs *blobs, enum store_blob_kind kind, const char *hex);

/* Make every blob written with defer since the last flush durable: one
   syncfs() of the state directory's file system. A no-op when none. */
int store_blobs_flush(struct store_blobs *blobs, const char **error_r);
/* Forget the pending flush (a rolled-back transaction: its blobs stay,
   unreferenced and harmless). */
void store_blobs_forget(struct store_blobs *blobs);

/* 1 when hex is exactly 64 lower-case hex digits. */
int store_blob_hex_valid(const char *hex);
/* fsync() a directory (after creating or renaming something in it). */
int store_fsync_dir(const char *dir, const char **error_r);

#endif
