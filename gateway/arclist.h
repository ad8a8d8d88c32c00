/*
 * arclist: the libarchive adapter (the only module that includes
 * libarchive): walks the entries of an archive held in memory (zip, 7z,
 * rar, tar, cab, and gzip/bzip2/xz-compressed files or tarballs) for
 * gateway/sniff.c, reading each entry's data only as far as the caller
 * asks and never more than the limits allow. Nothing is written to disk.
 */
#ifndef DG_ARCLIST_H
#define DG_ARCLIST_H

#include <stddef.h>
#include <stdint.h>

struct arclist_limits {
	size_t max_entries; /* entries looked at; more is an error */
	size_t head_bytes;  /* bytes of each entry given to the callback first */
	size_t max_entry;   /* bytes of one entry read when the callback asks for all */
	size_t max_total;   /* decompressed bytes read over the whole archive */
};

struct arclist_entry {
	const char *path;  /* as stored (may hold '/' and anything else) */
	int64_t size;	   /* declared size, or -1 */
	int is_dir;
	int encrypted;	   /* data cannot be read without a password */
	const unsigned char *data; /* the first bytes of the data (or all of it) */
	size_t data_len;
	int complete;	   /* data_len is the whole entry */
};

/* What the callback answers. */
#define ARCLIST_NEXT 0	 /* go on with the next entry */
#define ARCLIST_ALL 1	 /* call again with the whole entry (up to max_entry) */
#define ARCLIST_STOP (-1)

typedef int arclist_fn(void *ctx, const struct arclist_entry *entry);

/* Walk data[0..len) as an archive. raw: also accept a single compressed
   file (file.exe.gz) as one entry named "data". Returns the number of
   entries seen (0 or more), or -1 with *error_r: not an archive libarchive
   reads, damaged, or a limit reached ("more than N entries", "more than N
   bytes"). The callback's entry is valid during the call only. */
int arclist_walk(const unsigned char *data, size_t len, int raw, const struct arclist_limits *limits,
		 arclist_fn *fn, void *ctx, const char **error_r);

#endif
