/*
 * guard: see guard.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/guard.h"
#include "parsers/solicit.h"

/* Bytes of the clause quoted back to the agent. */
#define CLAUSE_SHOWN 160

int
guard_check(const struct config *config, const char *text, char *why, size_t size)
{
	struct solicit_hit hit;
	if (!config->secrets.guard || text == NULL ||
	    !solicit_find(text, strlen(text), &hit))
		return 0;
	const char *c = text + hit.offset;
	size_t n = hit.len;
	while (n > 0 && (*c == ' ' || *c == '\n' || *c == '\t')) {
		c++;
		n--;
	}
	/* Cut on a character boundary. */
	size_t shown = n > CLAUSE_SHOWN ? CLAUSE_SHOWN : n;
	while (shown < n && shown > 0 && ((unsigned char)c[shown] & 0xc0) == 0x80)
		shown--;
	snprintf(why, size, "it asks the customer for their %s (\"%.*s%s\")",
		 solicit_kind_name(hit.kind), (int)shown, c, shown < n ? "..." : "");
	for (char *p = why; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return 1;
}
