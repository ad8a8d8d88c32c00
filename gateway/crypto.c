/* crypto: see crypto.h. */
#include "build-config.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "gateway/crypto.h"
#include "base/util.h"

struct crypto_sha256 {
	EVP_MD_CTX *md;
};

static void
to_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

struct crypto_sha256 *
crypto_sha256_new(void)
{
	struct crypto_sha256 *ctx = xmalloc(sizeof(*ctx));
	ctx->md = EVP_MD_CTX_new();
	if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "deskgate: fatal: OpenSSL cannot initialise SHA-256\n");
		abort();
	}
	return ctx;
}

void
crypto_sha256_update(struct crypto_sha256 *ctx, const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(ctx->md, data, len) != 1)
		abort();
}

void
crypto_sha256_final(struct crypto_sha256 **ctxp, char hex_r[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256 *ctx = *ctxp;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx->md, md, &len) != 1 || len != 32)
		abort();
	to_hex(md, len, hex_r);
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
	*ctxp = NULL;
}

void
crypto_sha256(const void *data, size_t len, unsigned char digest_r[32])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, digest_r, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
}

void
crypto_sha256_hex(const void *data, size_t len, char hex_r[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256 *ctx = crypto_sha256_new();
	crypto_sha256_update(ctx, data, len);
	crypto_sha256_final(&ctx, hex_r);
}

void
crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		   unsigned char out_r[32])
{
	unsigned int out_len = 32;
	if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out_r, &out_len) == NULL)
		abort();
}

int
crypto_random(void *buf, size_t len, const char **error_r)
{
	if (RAND_bytes(buf, (int)len) != 1) {
		*error_r = errf("no random bytes: %s", ERR_reason_error_string(ERR_get_error()));
		return -1;
	}
	return 0;
}

int
crypto_verify_chain(const unsigned char *const *der, const size_t *der_len, size_t n,
		    const char *host, const char *ca_file, const char **error_r)
{
	int ret = -1;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	STACK_OF(X509) *chain = NULL;
	X509 *leaf = NULL;

	if (n == 0) {
		*error_r = "certificate verify failed: the server sent no certificate";
		return -1;
	}
	chain = sk_X509_new_null();
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = der[i];
		X509 *x = d2i_X509(NULL, &p, (long)der_len[i]);
		if (x == NULL) {
			*error_r = errf("certificate verify failed: certificate %zu is not valid DER", i);
			goto out;
		}
		if (i == 0)
			leaf = x;
		else
			sk_X509_push(chain, x);
	}
	store = X509_STORE_new();
	if (ca_file != NULL) {
		if (X509_STORE_load_file(store, ca_file) != 1) {
			*error_r = errf("cannot load CA file %s", ca_file);
			goto out;
		}
	} else if (X509_STORE_set_default_paths(store) != 1) {
		*error_r = "cannot load the system's CA certificates";
		goto out;
	}
	vctx = X509_STORE_CTX_new();
	if (X509_STORE_CTX_init(vctx, store, leaf, chain) != 1) {
		*error_r = "certificate verify failed: cannot initialise";
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(vctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	else
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	if (X509_verify_cert(vctx) != 1) {
		int err = X509_STORE_CTX_get_error(vctx);
		*error_r = errf("certificate verify failed: %s", X509_verify_cert_error_string(err));
		goto out;
	}
	ret = 0;
out:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return ret;
}
