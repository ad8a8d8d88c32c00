/*
 * mime: one raw RFC 5322 message in, one struct mime_message out. libetpan's
 * MIME parser (mailmime_parse) builds the tree; this module walks it, applies
 * the limits, decodes transfer encodings (libetpan's mailmime_part_parse),
 * converts text to UTF-8 (charset), decodes header words (rfc2047) and turns
 * HTML into text (html). The only module that includes libetpan's MIME API.
 * Pure: no I/O, no logging.
 *
 * Ownership: mime_parse() allocates a struct mime_message that the caller
 * frees with mime_message_free(); every string and buffer in it belongs to
 * it. Strings are NUL-terminated UTF-8 without control characters unless
 * documented otherwise.
 */
#ifndef DG_MIME_H
#define DG_MIME_H

#include <stddef.h>
#include <stdint.h>

struct mime_limits {
	size_t max_message_size;    /* raw bytes */
	size_t max_header_size;	    /* bytes of one header block */
	size_t max_header_count;    /* fields in one header block */
	size_t max_line_length;	    /* longest raw line */
	size_t max_depth;	    /* multipart / message/rfc822 nesting */
	size_t max_parts;	    /* MIME parts in the whole message */
	size_t max_attachments;	    /* attachments + inline parts */
	size_t max_attachment_size; /* decoded bytes of one attachment */
	size_t max_decoded_size;    /* decoded bytes over all parts */
	size_t max_text_size;	    /* UTF-8 bytes of the body text kept */
};

/* The defaults documented in deskgate.conf(5). */
void mime_limits_default(struct mime_limits *limits);

/* Addresses are read as RFC 5322 says (parsers/addr.h): comments are
   removed, a quoted local part is part of the address, a display name or
   an encoded word is never an address, and a malformed field is never
   glued into one address: the first valid addr-spec in it is taken, as
   mail clients do, or none. So address, when set, is always a valid
   addr-spec (addr_spec_valid() holds); callers that answer mail need no
   other check, and must not answer one taken from elsewhere without
   addr_spec_valid(). */
struct mime_address {
	char *name;    /* decoded display name, or NULL */
	/* "local@domain" in canonical form (no angle brackets; the local part
	   quoted only when it is not a dot-atom: "<a@b>"@evil.example),
	   or NULL: a group's name (then name is never NULL), or no valid
	   address in the field or element */
	char *address;
	/* the field or element was malformed ("tim@a.com concierge@a.com",
	   "Big Bug bb@bug.com"): address is the first valid addr-spec found
	   in it (or NULL) and msg->warnings says so */
	int recovered;
};

struct mime_address_list {
	struct mime_address *items;
	size_t count;
};

struct mime_header {
	char *name;  /* as written, e.g. "Subject" */
	char *value; /* unfolded, RFC 2047 decoded, control characters removed */
};

/* One entry per MIME part in document order (a summary for tests and for
   `quarantine show`), the parts of embedded messages included; a
   uuencoded file found in a text part is listed as a child of that part
   (encoding "x-uuencode"). */
struct mime_part_info {
	unsigned int depth;   /* 0 for the top-level part */
	char *content_type;   /* lower case "type/subtype" */
	char *charset;	      /* declared charset label, or NULL */
	char *encoding;	      /* "7bit", "base64", "quoted-printable"..., lower case */
	char *filename;	      /* decoded file name, or NULL */
	char *disposition;    /* "inline", "attachment", or NULL */
	size_t decoded_size;  /* bytes after transfer decoding (leaf parts; the
				 embedded message for message/rfc822) */
};

/* How an attachment's bytes sit in the raw mail (struct mime_attachment). */
enum mime_raw_encoding {
	MIME_RAW_NONE = 0,     /* not a range of the raw mail */
	MIME_RAW_IDENTITY = 1, /* the range is the bytes (7bit, 8bit, binary) */
	MIME_RAW_BASE64 = 2,   /* the range is base64 */
};

struct mime_attachment {
	/* Decoded file name for display, never a path: no '/', '\\', control
	   characters or leading dots; "attachment-N" (with an extension from
	   the content type) when the part has none. */
	char *filename;
	char *content_type; /* lower case */
	char *content_id;   /* without angle brackets, or NULL */
	int is_inline;	    /* Content-Disposition inline, or none and a cid: image */
	int damaged;	    /* the transfer encoding had errors; bytes are best effort */
	unsigned char *data;
	size_t size;
	/* Where the bytes are in the raw mail given to mime_parse(): the
	   encoded body raw[raw_offset .. raw_offset + raw_length), which
	   mime_raw_decode(raw_encoding, ...) turns into data (the store keeps
	   that range instead of a second, decoded copy). MIME_RAW_NONE when
	   the bytes are not one range of the raw mail (a repaired structure,
	   a uuencoded block, a damaged base64 text part). */
	enum mime_raw_encoding raw_encoding;
	size_t raw_offset, raw_length;
};

struct mime_message {
	struct mime_header *headers; /* the top-level header block, in order */
	size_t n_headers;
	size_t header_size; /* raw bytes of the top-level header block */

	char *subject;	   /* decoded, "" when absent; a fold counts as one space */
	char *message_id;  /* without angle brackets, or NULL */
	char *in_reply_to; /* first msg-id, without angle brackets, or NULL */
	char **references; /* msg-ids without angle brackets */
	size_t n_references;

	struct mime_address from; /* address NULL when absent or unparseable */
	struct mime_address sender;
	struct mime_address_list reply_to, to, cc;
	char *return_path; /* the Return-Path address, "" for <>, NULL when absent */

	int64_t date;	   /* seconds since the epoch, UTC */
	int has_date;
	int date_utoff;	   /* the Date header's zone: seconds east of UTC (with has_date) */
	char *content_language; /* top-level Content-Language, or NULL */

	/* The body text in UTF-8, never NULL ("" when there is none), LF line
	   ends, no control characters but TAB and LF: the unnamed inline
	   text/plain parts outside embedded messages, joined in order (one
	   branch of a multipart/alternative only), else a named but inline
	   one; HTML made text when there is no plain text or only white
	   space. */
	char *text;
	size_t text_len;
	int text_from_html;
	int text_truncated; /* cut at max_text_size */
	char *html;	   /* the text/html parts chosen the same way, in UTF-8, or NULL */
	size_t html_len;

	/* Every other leaf part outside embedded messages (empty unnamed ones
	   and other forms of the body in a multipart/alternative excepted),
	   each message/rfc822 part ("<its subject>.eml"), and uuencoded files
	   found in the text. */
	struct mime_attachment *attachments;
	size_t n_attachments;

	struct mime_part_info *parts;
	size_t n_parts;

	/* Non-fatal findings, human readable ("part 3: invalid base64",
	   "part 1: charset x-foo unknown, read as GB18030"). */
	char **warnings;
	size_t n_warnings;
};

/* Parse raw[0..len). Returns 0 when the message can become a ticket (maybe
   with warnings), or -1 with *error_r naming why it must be quarantined: a
   limit exceeded ("limit: max_mime_depth 20 exceeded"), no header at all,
   unparseable structure, or body text in an undecodable charset. On -1,
   *msg_r may still hold what was parsed (NULL when nothing was), for
   display; the caller frees it either way. limits NULL: the defaults.
   A UTF-8 BOM, an mbox "From " line and blank lines before the header are
   skipped. Malformed structure that libetpan would lose data on (an empty
   body part, a missing close delimiter, ";;" in Content-Type) is repaired
   in a private copy, with a warning. */
int mime_parse(const unsigned char *raw, size_t len, const struct mime_limits *limits,
	       struct mime_message **msg_r, const char **error_r);
void mime_message_free(struct mime_message **msgp);

/* The decoded value of the first top-level header with this name
   (case-insensitive), or NULL. */
const char *mime_header_get(const struct mime_message *msg, const char *name);

/* Decode an attachment's range of the raw mail (enum mime_raw_encoding)
   into bytes the caller frees (NUL-terminated after *len_r); the same
   decoder mime_parse() used, so the bytes are the attachment's. -1 when
   encoding is MIME_RAW_NONE or unknown. */
int mime_raw_decode(int encoding, const unsigned char *p, size_t n, unsigned char **data_r,
		    size_t *len_r);

#endif
