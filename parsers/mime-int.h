/*
 * mime-int: what the files of the mime module share, and nothing else
 * includes. The module is one noun split by responsibility:
 *
 *   mime.c        entry points (mime_parse(), mime_message_free()), the
 *                 message being built, and the small string helpers
 *   mime-scan.c   raw scans and the structural pre-scan that enforces the
 *                 limits before libetpan sees the message
 *   mime-header.c the top-level header block: decoded fields, addresses,
 *                 message ids, the date
 *   mime-part.c   one part's type, encoding, parameters and file name
 *   mime-decode.c transfer decoding (base64 and QP through libetpan,
 *                 damage checks, uuencode)
 *   mime-walk.c   the walk over libetpan's tree, the body text and the
 *                 attachments
 *
 * This header is the only one that includes libetpan's MIME API (checked
 * by tests/unit/check-style.sh). Pure: no I/O, no logging.
 */
#ifndef DG_MIME_INT_H
#define DG_MIME_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libetpan/mailimf.h>
#include <libetpan/mailmime.h>
#include <libetpan/mmapstring.h>

#include "parsers/mime.h"
#include "base/util.h"

/* Decoded header values are cut at this many bytes (OpenSMTPD's cap). */
#define HEADER_VALUE_MAX 65536
/* Decoded file names before sanitising, and the display name limit. */
#define FILENAME_DECODE_MAX 1024
#define FILENAME_MAX_BYTES 255
/* At most this many warnings are kept per message. */
#define WARNINGS_MAX 64
/* RFC 2231 continuation segments considered (name*0 .. name*63). */
#define RFC2231_SEGMENTS_MAX 64

/* ---- the message being built (mime.c) ------------------------------ */

/* A leaf part (or an embedded message) with its decoded bytes. */
struct leaf {
	struct mailmime *mime;
	size_t part; /* index into msg->parts */
	unsigned char *data;
	size_t size;
	int damaged;
	enum mime_raw_encoding raw_encoding; /* struct mime_attachment's */
	size_t raw_offset, raw_length;
	int is_message; /* an embedded message (message/rfc822) */
	int in_body;	/* part of the body text or HTML */
	size_t alt, branch; /* nearest multipart/alternative above (NO_ALT) and
			       which of its children leads here */
};

#define NO_ALT SIZE_MAX

struct ctx {
	const struct mime_limits *lim;
	struct mime_message *msg;
	const char *error; /* first reason to quarantine (error_buf), or NULL */
	char error_buf[512];
	size_t cap_headers, cap_parts, cap_warn;
	size_t decoded_total;
	size_t walk_max_depth;
	size_t uu_parts; /* parts[] entries for uuencoded blocks in text */
	struct leaf *leaves;
	size_t n_leaves, cap_leaves;
	/* libetpan's buffer and the offset of its first byte in the raw mail
	   given to mime_parse(); copy NULL when the copy was repaired (its
	   offsets are not the raw mail's) */
	const char *copy;
	size_t copy_len, copy_skip;
};

/* A non-fatal finding, kept in msg->warnings (at most WARNINGS_MAX). */
void mime_warn(struct ctx *ctx, const char *fmt, ...) DG_ATTR_PRINTF(2, 3);
/* The first reason to quarantine wins; error is copied. */
void mime_fail(struct ctx *ctx, const char *error);
/* "limit: KEY VALUE exceeded" (an errf() buffer). */
const char *mime_limit_error(const char *key, size_t value);

/* ---- strings handed out (mime.c) ----------------------------------- */

/* In place: bytes that do not form valid UTF-8 become '?'. */
void mime_utf8_fix(char *s, size_t len);
/* A copy of s[0..len) without C0 controls, DEL and NUL, TAB made a space,
   invalid UTF-8 made '?'. */
char *mime_strip_controls(const char *s, size_t len);
/* rfc2047_decode()/rfc2231_decode() results held to mime.h's promise once
   more; mime_words_clean() frees s. */
char *mime_words_clean(char *s);
char *mime_words_decode(const char *s, size_t max_out);
/* mime_strip_controls(), ASCII lower-cased. */
char *mime_lower_dup(const char *s);
/* Without one pair of angle brackets, white space and controls; NULL when
   nothing is left. */
char *mime_msgid_clean(const char *s);

/* ---- raw scans and the pre-scan (mime-scan.c) ---------------------- */

/* Length of the longest line (without its CR LF). */
size_t mime_longest_line(const unsigned char *raw, size_t len);
/* The header block at raw[0..len): *end_r just past its last field line,
   *count_r its fields (the block ends as libetpan ends it). */
void mime_scan_header_block(const unsigned char *raw, size_t len, size_t *end_r,
			    size_t *count_r);
/* 0 with the part count and depth libetpan will find in *raw_r (after the
   repairs made there, counted in *repairs_r; the copy may be replaced by
   a longer one), or -1 with *error_r (a limit, or a structure libetpan
   cannot survive). */
int mime_prescan(char **raw_r, size_t *len_r, const struct mime_limits *lim, size_t *parts_r,
		 size_t *depth_r, size_t *repairs_r, const char **error_r);

/* ---- header fields (mime-header.c) --------------------------------- */

/* A decoded, trimmed display phrase, or NULL when empty. */
char *mime_decode_phrase(const char *s);
/* The top-level header block raw[0..len) into ctx->msg. */
void mime_parse_headers(struct ctx *ctx, const char *raw, size_t len);

/* ---- parts (mime-part.c) ------------------------------------------- */

struct mailmime_field *mime_first_field(const struct mailmime *m, int type);
/* MAILMIME_MECHANISM_*; *token_r the name of an unknown one. */
int mime_part_encoding(const struct mailmime *m, const char **token_r);
/* A new zeroed entry at the end of msg->parts[]. */
struct mime_part_info *mime_part_append(struct ctx *ctx, size_t depth);
/* Append msg->parts[] for m; returns its index. */
size_t mime_add_part(struct ctx *ctx, const struct mailmime *m, size_t depth);
/* A display file name for a decoded name (NULL: none): the last path
   component without control or format characters, Windows-reserved
   characters made '_', at most FILENAME_MAX_BYTES; "attachment-N.EXT"
   (EXT from type) when nothing is left. The caller frees it. */
char *mime_safe_filename(const char *name, size_t n, const char *type);

/* ---- transfer decoding (mime-decode.c) ----------------------------- */

struct uu_block {
	char *name;
	unsigned char *data;
	size_t size;
	int damaged;
};

/* Transfer-decode a leaf; *damaged_r 1 when the encoding had errors, 2
   when text labelled base64 was not (kept as it is). The bytes are the
   caller's. */
void mime_decode_leaf(const struct mailmime *m, int is_text, unsigned char **data_r,
		      size_t *size_r, int *damaged_r);
/* Cut complete "begin ... end" uuencoded blocks out of a text leaf. */
size_t mime_uu_extract(struct leaf *l, struct uu_block **blocks_r);

/* ---- the walk, the body and attachments (mime-walk.c) -------------- */

void mime_walk(struct ctx *ctx, struct mailmime *m, size_t depth, int in_message, size_t alt,
	       size_t branch);
void mime_choose_body(struct ctx *ctx);
void mime_make_attachments(struct ctx *ctx);

#endif
