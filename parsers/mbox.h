/*
 * mbox: split an mbox file (already in memory) into messages. Written by
 * hand: libetpan's mailmbox driver takes dot-locks and is built to modify
 * the file, while an import only reads; the format rule is short. Handles
 * mboxo and mboxrd: a message starts at a line "From " at the start of the
 * file or after a newline; in the message, lines ">From ", ">>From "...
 * lose one '>' (mboxrd unquoting, which is also right for mboxo's
 * ">From " lines).
 */
#ifndef DG_MBOX_H
#define DG_MBOX_H

#include <stddef.h>

struct mbox_iter {
	const unsigned char *data;
	size_t len;
	size_t pos;
};

/* 1 when data looks like an mbox (starts with "From "). */
int mbox_detect(const unsigned char *data, size_t len);
void mbox_iter_init(struct mbox_iter *it, const unsigned char *data, size_t len);
/* The next message's bytes (without the "From " separator line, with
   mboxrd unquoting) in a new buffer the caller frees; NULL at the end.
   max_size bounds one message: a longer one is returned cut to max_size + 1
   bytes so that the caller sees it as oversized. */
unsigned char *mbox_next(struct mbox_iter *it, size_t max_size, size_t *len_r);

#endif
