/*
 * crypto: the OpenSSL adapter (the only module that includes OpenSSL):
 * SHA-256 for content addressing, HMAC-SHA-256 for signed reply addresses,
 * random bytes for unguessable Message-IDs, and certificate chain
 * verification for the IMAP client (libetpan's Debian build verifies
 * nothing itself).
 */
#ifndef DG_CRYPTO_H
#define DG_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_HEX_LEN 64

/* hex_r receives 64 lower-case hex digits and a NUL. */
void crypto_sha256_hex(const void *data, size_t len, char hex_r[CRYPTO_SHA256_HEX_LEN + 1]);

/* digest_r receives the 32 bytes of SHA-256(data[0..len)): the hash
   function the pure detectors of parsers/ take (secrets_sha256_fn). */
void crypto_sha256(const void *data, size_t len, unsigned char digest_r[32]);

/* Incremental SHA-256, for hashing several pieces. */
struct crypto_sha256;
struct crypto_sha256 *crypto_sha256_new(void);
void crypto_sha256_update(struct crypto_sha256 *ctx, const void *data, size_t len);
/* Finishes and frees *ctxp. */
void crypto_sha256_final(struct crypto_sha256 **ctxp, char hex_r[CRYPTO_SHA256_HEX_LEN + 1]);

/* HMAC-SHA-256 of data with key; out_r gets 32 bytes. */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			unsigned char out_r[32]);

/* Cryptographically random bytes; -1 with error_r when the system has none. */
int crypto_random(void *buf, size_t len, const char **error_r);

/* Verify a server certificate chain (DER certificates, leaf first) against
   ca_file (NULL: the system's default store) and host (a DNS name, or an IP
   address). 0 when trusted, -1 with error_r ("certificate verify failed:
   hostname mismatch") otherwise. */
int crypto_verify_chain(const unsigned char *const *der, const size_t *der_len, size_t n,
			const char *host, const char *ca_file, const char **error_r);

#endif
