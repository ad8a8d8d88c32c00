/*
 * sniff: what an attachment really is, from its bytes, and whether it can
 * bite the agent who opens it. The libmagic adapter (the only module that
 * includes magic.h); archives are looked into through gateway/arclist.c.
 *
 * The type comes from the bytes (libmagic), never from the sender's
 * Content-Type. The file name is used only to flag more: a name Windows
 * would run (invoice.js, photo.scr) is dangerous whatever the bytes, and a
 * name that disagrees with the bytes (invoice.pdf that is a PE file) is
 * flagged. Flagged, in order of severity:
 *
 *   executable   PE (Windows), ELF, Mach-O, MS-DOS, Java archives, MSI, APK
 *   script       shell, batch, PowerShell, JScript, VBScript, WSF, HTA, .reg
 *   shortcut     Windows .lnk and .url, .scf
 *   disk image   ISO 9660, raw disk and file-system images, VHD, VHDX, VMDK, DMG
 *   macros       OLE documents with a VBA project, OOXML with vbaProject.bin
 *                (docm, xlsm...), OpenDocument with Basic macros
 *   archive      a zip, 7z, rar, tar or compressed file holding any of these
 *                (looked into to a depth of limits.max_depth), or one that
 *                cannot be looked into (encrypted, damaged, over a limit)
 *   HTML         HTML, XHTML, SVG (they run scripts and imitate log-in pages)
 *   mismatch     a known extension whose type the bytes are not
 *
 * Ownership: struct sniff is created once per thread (libmagic handles
 * are not shared) and freed with sniff_free(); a verdict is a value.
 */
#ifndef DG_SNIFF_H
#define DG_SNIFF_H

#include <stddef.h>

enum sniff_kind {
	SNIFF_OK,
	SNIFF_EXECUTABLE,
	SNIFF_SCRIPT,
	SNIFF_SHORTCUT,
	SNIFF_DISK_IMAGE,
	SNIFF_MACROS,
	SNIFF_ARCHIVE,
	SNIFF_HTML,
	SNIFF_MISMATCH,
	SNIFF_KIND_COUNT
};

struct sniff_limits {
	size_t max_magic_bytes;	  /* bytes of a file given to libmagic */
	size_t max_entries;	  /* entries of one archive */
	size_t max_depth;	  /* archives inside archives looked into */
	size_t max_entry_bytes;	  /* bytes of an inner archive read to look into it */
	size_t max_archive_bytes; /* decompressed bytes read from one archive */
};

/* The defaults: 1 MiB, 10,000 entries, depth 3, 16 MiB, 64 MiB. */
void sniff_limits_default(struct sniff_limits *limits);

struct sniff_verdict {
	enum sniff_kind kind;
	char type[96];	  /* the MIME type of the bytes, e.g. "application/pdf" */
	char reason[320]; /* English, for agents and logs: why it is flagged
			     ("executable: PE32 executable ... (named
			     invoice.pdf)"), or the type when it is not */
};

struct sniff;

/* Load libmagic's database: NULL with *error_r when it cannot (Debian:
   libmagic-mgc). limits NULL: the defaults. */
struct sniff *sniff_new(const struct sniff_limits *limits, const char **error_r);
void sniff_free(struct sniff **sp);

/* The verdict on data[0..len), an attachment named filename (NULL or ""
   when it has none). 0, or -1 with *error_r when libmagic fails (the
   caller flags the attachment: what cannot be checked is not safe). */
int sniff_bytes(struct sniff *s, const unsigned char *data, size_t len, const char *filename,
		struct sniff_verdict *verdict_r, const char **error_r);

/* "safe", "executable", "script", "shortcut", "disk image", "macros",
   "archive", "HTML", "type mismatch". */
const char *sniff_kind_name(enum sniff_kind kind);

#endif
