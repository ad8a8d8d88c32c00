/*
 * authres: the Authentication-Results header field (RFC 8601): who
 * checked the message (the authserv-id) and what each method (dkim, spf,
 * dmarc, arc...) found, with its properties (header.d=, header.from=,
 * smtp.mailfrom=...).
 *
 *   Authentication-Results: mx.example.com 1;
 *       dkim=pass (2048-bit key) header.d=example.org header.s=s1;
 *       dmarc=pass (p=reject) header.from=example.org
 *
 * The grammar of RFC 8601 section 2.2, with comments (nested) and folding
 * white space wherever CFWS may stand. Real MTAs bend it; accepted too:
 * property values that are not tokens (header.b=Ab+/c=, user@domain,
 * @domain), "key=value" pairs without a ptype (Microsoft's action=none,
 * compauth=pass) kept with ptype "", a missing result ("dkim;"), and
 * empty results between ';'. A value that makes no sense (an unclosed
 * quote or comment, a method without '=', a control character) is an
 * error: the caller then trusts nothing in the header.
 *
 * Method, result, ptype and property names are folded to lower case; the
 * authserv-id and values are kept as written (quotes removed).
 *
 * Hand-written: no Debian library parses this header (OpenDMARC and
 * OpenDKIM only write it). Pure: no I/O, no logging.
 *
 * Ownership: authres_parse() returns a struct authres owned by the caller,
 * freed with authres_free(); every string in it belongs to it.
 */
#ifndef DG_AUTHRES_H
#define DG_AUTHRES_H

#include <stddef.h>

/* Bounds on one header. */
#define AUTHRES_MAX_RESULTS 64
#define AUTHRES_MAX_PROPS 32
#define AUTHRES_MAX_LEN 65536

struct authres_prop {
	char *ptype;	/* "header", "smtp", "body", "policy", or "" (a bare key=value) */
	char *property; /* "d", "from", "mailfrom", ... */
	char *value;	/* as written, without quotes */
};

struct authres_result {
	char *method;	/* "dkim", "spf", "dmarc", ... */
	char *result;	/* "pass", "fail", "none", ...; "" when missing */
	char *reason;	/* reason=..., or NULL */
	struct authres_prop *props;
	size_t n_props;
};

struct authres {
	char *authserv_id;
	unsigned int version; /* 1 when not given */
	struct authres_result *results;
	size_t n_results;
};

/* Parse the field value text[0..len) (unfolded or not). 0 with *ar_r,
   or -1 with *error_r ("authres: ...") and *ar_r NULL. */
int authres_parse(const char *text, size_t len, struct authres **ar_r, const char **error_r);
void authres_free(struct authres **arp);

/* The value of ptype.property in r (case-insensitive names), or NULL. */
const char *authres_prop(const struct authres_result *r, const char *ptype,
			 const char *property);

/* The domain of a property value: "example.org", "@example.org" and
   "user@example.org" all give "example.org" (a pointer into value);
   NULL for an empty one. */
const char *authres_domain(const char *value);

#endif
