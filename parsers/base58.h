/*
 * base58: Bitcoin's Base58 (the alphabet without 0, O, I and l) and
 * Base58Check (a payload followed by the first four bytes of its double
 * SHA-256), as used by WIF private keys, BIP32 extended keys and
 * addresses. Pure: no I/O; SHA-256 comes from the caller (parsers/ does
 * not include OpenSSL: gateway/crypto.c does).
 */
#ifndef DG_BASE58_H
#define DG_BASE58_H

#include <stddef.h>

/* Inputs longer than this are refused (a BIP32 key is 111 characters). */
#define BASE58_MAX_INPUT 128

/* digest_r receives SHA-256(data[0..len)). */
typedef void base58_sha256_fn(const void *data, size_t len, unsigned char digest_r[32]);

/* 1 when c is a character of the Base58 alphabet. */
int base58_is_char(unsigned char c);

/* Decode s[0..len) into out (room for out_max bytes): 0 and *out_len_r, or
   -1 when s is empty, longer than BASE58_MAX_INPUT, has a character outside
   the alphabet, or decodes to more than out_max bytes. Each leading '1' is
   a zero byte. */
int base58_decode(const char *s, size_t len, unsigned char *out, size_t out_max,
		  size_t *out_len_r);

/* Decode s[0..len) and check its Base58Check checksum: 0 and the payload
   (without the checksum) in payload[0..*payload_len_r), or -1 when it does
   not decode, is shorter than 5 bytes, has more than payload_max bytes of
   payload, or the checksum is wrong. */
int base58check_decode(const char *s, size_t len, base58_sha256_fn *sha256,
		       unsigned char *payload, size_t payload_max, size_t *payload_len_r);

#endif
