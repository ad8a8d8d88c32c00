/*
 * rules-regex: the PCRE2 adapter of the rules engine (see rules-int.h), the
 * only file of deskgate that includes pcre2.h (tests/unit/check-style.sh).
 *
 * Every pattern is compiled with UTF-8, Unicode properties, invalid UTF-8
 * tolerated in subjects and \C refused; every match runs under the match
 * and depth limits of its matcher and, once JIT-compiled (on first use),
 * within a bounded JIT stack, so that no pattern can stall the caller.
 */
#include "build-config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rules-int.h"

/* The JIT stack bounds recursion of JIT-compiled patterns the way
   depth_limit bounds the interpreter. */
#define RX_JIT_STACK_START (32 * 1024)
#define RX_JIT_STACK_MAX (1024 * 1024)

struct rx {
	pcre2_code *code;
	int jit; /* 0: not tried yet, 1: JIT-compiled, -1: interpreter */
};

struct rx_matcher {
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *md;
};

int
rx_compile(const char *source, unsigned int flags, struct rx **rx_r, size_t *erroff_r,
	   const char **error_r)
{
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
	if (flags & RX_CASELESS)
		opts |= PCRE2_CASELESS;
	if (flags & RX_MULTILINE)
		opts |= PCRE2_MULTILINE;
	if (flags & RX_DOTALL)
		opts |= PCRE2_DOTALL;
	if (flags & RX_EXTENDED)
		opts |= PCRE2_EXTENDED;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	pcre2_set_max_pattern_length(cctx, RULES_MAX_PATTERN);
	pcre2_code *code =
		pcre2_compile((PCRE2_SPTR)source, strlen(source), opts, &errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	*rx_r = NULL;
	if (code == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		*erroff_r = (size_t)erroff;
		*error_r = errf("%s", (const char *)msg);
		return -1;
	}
	/* JIT compiling is left to the first match (rx_match()): with the
	   prefilter, many patterns never run, and a one-message process
	   (`deskgate ingest` from an MTA) compiles only what it uses. */
	struct rx *rx = xcalloc(1, sizeof(*rx));
	rx->code = code;
	*rx_r = rx;
	return 0;
}

void
rx_free(struct rx **rxp)
{
	struct rx *rx = *rxp;
	if (rx == NULL)
		return;
	pcre2_code_free(rx->code);
	free(rx);
	*rxp = NULL;
}

uint32_t
rx_groups(const struct rx *rx)
{
	uint32_t groups = 0;
	pcre2_pattern_info(rx->code, PCRE2_INFO_CAPTURECOUNT, &groups);
	return groups + 1;
}

int
rx_has_name(const struct rx *rx, const char *name)
{
	if (name == NULL)
		return rx_names(rx) > 0;
	return pcre2_substring_number_from_name(rx->code, (PCRE2_SPTR)name) >= 0;
}

int
rx_jit_available(void)
{
	uint32_t jit = 0;
	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	return jit != 0;
}

struct rx_matcher *
rx_matcher_new(uint32_t match_limit, uint32_t depth_limit, uint32_t groups)
{
	struct rx_matcher *m = xcalloc(1, sizeof(*m));
	m->mctx = pcre2_match_context_create(NULL);
	m->md = pcre2_match_data_create(groups > 0 ? groups : 1, NULL);
	if (m->mctx == NULL || m->md == NULL) {
		fprintf(stderr, "deskgate: fatal: out of memory (PCRE2 match data)\n");
		abort();
	}
	pcre2_set_match_limit(m->mctx, match_limit > 0 ? match_limit : 1);
	pcre2_set_depth_limit(m->mctx, depth_limit > 0 ? depth_limit : 1);
	m->jit_stack = pcre2_jit_stack_create(RX_JIT_STACK_START, RX_JIT_STACK_MAX, NULL);
	if (m->jit_stack != NULL)
		pcre2_jit_stack_assign(m->mctx, NULL, m->jit_stack);
	return m;
}

void
rx_matcher_free(struct rx_matcher **mp)
{
	struct rx_matcher *m = *mp;
	if (m == NULL)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mctx);
	if (m->jit_stack != NULL)
		pcre2_jit_stack_free(m->jit_stack);
	free(m);
	*mp = NULL;
}

int
rx_match(struct rx_matcher *m, struct rx *rx, const char *s, size_t len, size_t start,
	 const char **why_r)
{
	if (rx->jit == 0)
		rx->jit = pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE) == 0 ? 1 : -1;
	int rc = pcre2_match(rx->code, (PCRE2_SPTR)s, len, start, 0, m->md, m->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
		*why_r = "match limit";
		break;
	case PCRE2_ERROR_DEPTHLIMIT:
		*why_r = "depth limit";
		break;
	case PCRE2_ERROR_HEAPLIMIT:
		*why_r = "heap limit";
		break;
	case PCRE2_ERROR_JIT_STACKLIMIT:
		*why_r = "JIT stack limit";
		break;
	default: {
		PCRE2_UCHAR msg[120];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		*why_r = errf("%s", (const char *)msg);
	}
	}
	return -1;
}

void
rx_span(const struct rx_matcher *m, size_t *start_r, size_t *end_r)
{
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
	*start_r = ov[0];
	*end_r = ov[1] < ov[0] ? ov[0] : ov[1]; /* \K in a lookahead can do this */
}

size_t
rx_names(const struct rx *rx)
{
	uint32_t count = 0;
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMECOUNT, &count);
	return count;
}

int
rx_named(const struct rx_matcher *m, const struct rx *rx, size_t i, const char **name_r,
	 size_t *start_r, size_t *end_r)
{
	uint32_t entry_size = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMETABLE, &table);
	table += i * entry_size;
	uint32_t group = ((uint32_t)table[0] << 8) | table[1];
	*name_r = (const char *)table + 2;
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
	if (group >= pcre2_get_ovector_count(m->md) || ov[2 * group] == PCRE2_UNSET ||
	    ov[2 * group] > ov[2 * group + 1])
		return 0;
	*start_r = ov[2 * group];
	*end_r = ov[2 * group + 1];
	return 1;
}
