/*
 * fuzz-authres: Authentication-Results values (parsers/authres.h). The
 * whole input is the header value. Checks what authres.h promises: it
 * returns 0 with a result or -1 with an "authres: " error and nothing
 * else; an authserv-id that is not empty; at most AUTHRES_MAX_RESULTS
 * results of AUTHRES_MAX_PROPS properties; method, result, ptype and
 * property names in lower case letters, digits, '-' and '_'; values
 * without control characters but TAB; and the same answer for the same
 * input (parsing twice).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/authres.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 8192

static int
name_ok(const char *s, int may_be_empty)
{
	if (*s == '\0')
		return may_be_empty;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static int
value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

FUZZ_TARGET(authres)
{
	/* An exact-size copy without a NUL: the parser must honour len. */
	char *text = fuzz_text_copy(data, size, MAX_INPUT);
	if (text == NULL)
		return 0;

	struct authres *ar = NULL, *again = NULL;
	const char *error = NULL, *error2 = NULL;
	int ret = authres_parse(text, size, &ar, &error);
	int ret2 = authres_parse(text, size, &again, &error2);
	FUZZ_CHECK(ret == ret2);
	if (ret < 0) {
		FUZZ_CHECK(ar == NULL && error != NULL && strncmp(error, "authres: ", 9) == 0);
	} else {
		FUZZ_CHECK(ar != NULL && again != NULL);
		FUZZ_CHECK(ar->authserv_id != NULL && ar->authserv_id[0] != '\0');
		FUZZ_CHECK(value_ok(ar->authserv_id));
		FUZZ_CHECK(ar->n_results <= AUTHRES_MAX_RESULTS);
		FUZZ_CHECK(ar->n_results == again->n_results);
		for (size_t i = 0; i < ar->n_results; i++) {
			const struct authres_result *r = &ar->results[i];
			FUZZ_CHECK(name_ok(r->method, 0));
			FUZZ_CHECK(name_ok(r->result, 1));
			FUZZ_CHECK(r->reason == NULL || value_ok(r->reason));
			FUZZ_CHECK(r->n_props <= AUTHRES_MAX_PROPS);
			FUZZ_CHECK(r->n_props == again->results[i].n_props);
			for (size_t k = 0; k < r->n_props; k++) {
				FUZZ_CHECK(name_ok(r->props[k].ptype, 1));
				FUZZ_CHECK(name_ok(r->props[k].property, 0));
				FUZZ_CHECK(value_ok(r->props[k].value));
				FUZZ_CHECK(authres_prop(r, r->props[k].ptype, r->props[k].property) != NULL);
			}
		}
	}
	authres_free(&ar);
	authres_free(&again);
	FUZZ_CHECK(ar == NULL);
	free(text);
	return 0;
}
