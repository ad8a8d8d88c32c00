/*
 * fuzz-addr: addr_list_parse() over one raw header value, and
 * addr_spec_valid() over the same bytes. Checks what addr.h promises:
 * every address given out is a valid addr-spec (no control characters,
 * UTF-8, RFC 5321 lengths) in canonical form, so parsing it again gives
 * itself, alone and not recovered; an input that is a valid addr-spec
 * parses to one valid address; the malformed count never exceeds the
 * entries and elements there can be.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/addr.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

FUZZ_TARGET(addr)
{
	if (size > MAX_INPUT)
		return 0;
	char *value = fuzz_strndup(data, size);
	struct addr_list l = { NULL, 0 };
	size_t bad = addr_list_parse(value, size, &l);
	FUZZ_CHECK(bad <= size);
	for (size_t i = 0; i < l.count; i++) {
		const struct addr *a = &l.items[i];
		FUZZ_CHECK(!(a->group && a->spec != NULL));
		FUZZ_CHECK(!(a->group && a->recovered));
		FUZZ_CHECK(a->spec != NULL || a->phrase != NULL || a->group);
		if (a->spec == NULL)
			continue;
		size_t n = strlen(a->spec);
		FUZZ_CHECK(addr_spec_valid(a->spec));
		FUZZ_CHECK(n <= ADDR_SPEC_MAX);
		FUZZ_CHECK(utf8_valid((const unsigned char *)a->spec, n));
		FUZZ_CHECK(!fuzz_has_control(a->spec, n, 0) && !fuzz_has_c1(a->spec, n));
		/* canonical: a fixed point */
		struct addr_list again = { NULL, 0 };
		FUZZ_CHECK(addr_list_parse(a->spec, n, &again) == 0);
		FUZZ_CHECK(again.count == 1 && again.items[0].spec != NULL &&
			   strcmp(again.items[0].spec, a->spec) == 0 && !again.items[0].recovered);
		addr_list_clear(&again);
	}
	if (memchr(value, '\0', size) == NULL && addr_spec_valid(value)) {
		FUZZ_CHECK(bad == 0 && l.count == 1 && l.items[0].spec != NULL);
	}
	addr_list_clear(&l);
	FUZZ_CHECK(l.items == NULL && l.count == 0);
	free(value);
	return 0;
}
