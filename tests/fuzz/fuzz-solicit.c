/*
 * fuzz-solicit: the outbound guard's question "does this text ask for a
 * secret?" over any bytes (passed without a terminating NUL). Checks what
 * solicit.h promises: a hit is a known kind and a clause inside the text;
 * no hit leaves the result empty; the same text gives the same answer.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/solicit.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 65536

FUZZ_TARGET(solicit)
{
	if (size > MAX_INPUT)
		return 0;
	char *text = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	struct solicit_hit hit, again;
	int found = solicit_find(text, size, &hit);
	FUZZ_CHECK(found == 0 || found == 1);
	if (found) {
		FUZZ_CHECK(hit.kind != SOLICIT_NONE);
		FUZZ_CHECK(hit.len > 0 && hit.offset + hit.len <= size);
		FUZZ_CHECK(strcmp(solicit_kind_name(hit.kind), "nothing") != 0);
	} else {
		FUZZ_CHECK(hit.kind == SOLICIT_NONE && hit.len == 0);
	}
	FUZZ_CHECK(solicit_find(text, size, &again) == found && again.kind == hit.kind &&
		   again.offset == hit.offset);
	free(text);
	return 0;
}
