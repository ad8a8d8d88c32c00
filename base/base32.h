/*
 * base32: the lower-case RFC 4648 alphabet without padding, as used in our
 * Message-IDs, signed reply addresses and VERP tags (case-insensitive on
 * the way back, since some MTAs and clients fold local parts).
 *
 * Written by hand: eight lines, and OpenSSL has no base32.
 */
#ifndef DG_BASE32_H
#define DG_BASE32_H

#include <stddef.h>

/* Characters base32_encode() writes for len input bytes (without the NUL). */
#define BASE32_LEN(len) (((len) * 8 + 4) / 5)

/* Encode len bytes into out, which must hold BASE32_LEN(len) + 1 bytes;
   the last group is padded with zero bits, out is NUL-terminated. */
void base32_encode(const unsigned char *in, size_t len, char *out);
/* 1 when the len characters at s are all of the alphabet (either case). */
int base32_valid(const char *s, size_t len);

#endif
