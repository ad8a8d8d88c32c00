/*
 * strset: see strset.h. A trie of the strings, with failure links (the
 * longest proper suffix that is also in the trie) and output links (the
 * nearest state on the failure chain where a string ends), built breadth
 * first; the root has a full 256-entry table since most bytes of a text
 * leave or never reach the deeper states.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "base/strset.h"
#include "base/util.h"

#define NO_STATE UINT32_MAX

struct edge {
	unsigned char c;
	uint32_t to;
};

struct state {
	uint32_t fail;
	uint32_t out_link;  /* next state on the failure chain with an output, or NO_STATE */
	uint32_t output;    /* id of the string ending here, or NO_STATE */
	uint32_t first;	    /* edges[first .. first + n) once compiled */
	uint32_t n;
	struct edge *build; /* children while building, sorted by c */
	uint32_t cap;
};

struct strset {
	struct state *states;
	uint32_t n_states, cap_states;
	struct edge *edges;
	uint32_t n_strings;
	uint32_t root_next[256];
	int compiled;
};

static uint32_t
state_new(struct strset *set)
{
	if (set->n_states == set->cap_states) {
		set->cap_states = set->cap_states ? set->cap_states * 2 : 64;
		set->states = xreallocarray(set->states, set->cap_states, sizeof(*set->states));
	}
	struct state *s = &set->states[set->n_states];
	memset(s, 0, sizeof(*s));
	s->output = NO_STATE;
	s->out_link = NO_STATE;
	return set->n_states++;
}

struct strset *
strset_new(void)
{
	struct strset *set = xcalloc(1, sizeof(*set));
	state_new(set); /* the root, 0 */
	return set;
}

void
strset_free(struct strset **setp)
{
	struct strset *set = *setp;
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->n_states; i++)
		free(set->states[i].build);
	free(set->states);
	free(set->edges);
	free(set);
	*setp = NULL;
}

uint32_t
strset_count(const struct strset *set)
{
	return set->n_strings;
}

/* The child of s for byte c while building (binary search), or NO_STATE;
   *pos_r is where it is or would go. */
static uint32_t
build_child(const struct state *s, unsigned char c, uint32_t *pos_r)
{
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (s->build[mid].c < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos_r = lo;
	return lo < s->n && s->build[lo].c == c ? s->build[lo].to : NO_STATE;
}

uint32_t
strset_add(struct strset *set, const unsigned char *str, size_t len)
{
	uint32_t cur = 0;
	for (size_t i = 0; i < len; i++) {
		uint32_t pos;
		uint32_t next = build_child(&set->states[cur], str[i], &pos);
		if (next == NO_STATE) {
			next = state_new(set); /* may move set->states */
			struct state *s = &set->states[cur];
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 2;
				s->build = xreallocarray(s->build, s->cap, sizeof(*s->build));
			}
			memmove(&s->build[pos + 1], &s->build[pos], (s->n - pos) * sizeof(*s->build));
			s->build[pos].c = str[i];
			s->build[pos].to = next;
			s->n++;
		}
		cur = next;
	}
	if (set->states[cur].output == NO_STATE)
		set->states[cur].output = set->n_strings++;
	return set->states[cur].output;
}

static uint32_t
child(const struct strset *set, const struct state *s, unsigned char c)
{
	const struct edge *e = &set->edges[s->first];
	uint32_t lo = 0, hi = s->n;
	if (hi <= 8) {
		for (uint32_t i = 0; i < hi; i++)
			if (e[i].c == c)
				return e[i].to;
		return NO_STATE;
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (e[mid].c < c)
			lo = mid + 1;
		else if (e[mid].c > c)
			hi = mid;
		else
			return e[mid].to;
	}
	return NO_STATE;
}

void
strset_compile(struct strset *set)
{
	/* Flatten the children into one edge array. */
	uint32_t total = 0;
	for (uint32_t i = 0; i < set->n_states; i++)
		total += set->states[i].n;
	set->edges = xreallocarray(NULL, total + 1, sizeof(*set->edges));
	uint32_t k = 0;
	for (uint32_t i = 0; i < set->n_states; i++) {
		struct state *s = &set->states[i];
		s->first = k;
		if (s->n > 0)
			memcpy(&set->edges[k], s->build, s->n * sizeof(*s->build));
		k += s->n;
		x_free(&s->build);
		s->cap = 0;
	}
	/* Breadth first: a state's failure link is found through its
	   parent's, which is nearer the root and so already done. */
	uint32_t *queue = xreallocarray(NULL, set->n_states, sizeof(*queue));
	uint32_t head = 0, tail = 0;
	for (int c = 0; c < 256; c++)
		set->root_next[c] = 0;
	const struct state *root = &set->states[0];
	for (uint32_t i = 0; i < root->n; i++) {
		const struct edge *e = &set->edges[root->first + i];
		set->root_next[e->c] = e->to;
		set->states[e->to].fail = 0;
		queue[tail++] = e->to;
	}
	while (head < tail) {
		uint32_t r = queue[head++];
		const struct state *rs = &set->states[r];
		for (uint32_t i = 0; i < rs->n; i++) {
			const struct edge *e = &set->edges[rs->first + i];
			uint32_t f = rs->fail, t;
			for (;;) {
				t = f == 0 ? set->root_next[e->c] : child(set, &set->states[f], e->c);
				if (t != NO_STATE || f == 0)
					break;
				f = set->states[f].fail;
			}
			struct state *ts = &set->states[e->to];
			ts->fail = t == NO_STATE || t == e->to ? 0 : t;
			const struct state *fs = &set->states[ts->fail];
			ts->out_link = fs->output != NO_STATE ? ts->fail : fs->out_link;
			queue[tail++] = e->to;
		}
	}
	free(queue);
	set->compiled = 1;
}

void
strset_scan(const struct strset *set, const unsigned char *text, size_t len, unsigned char *found)
{
	uint32_t s = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = text[i];
		for (;;) {
			if (s == 0) {
				s = set->root_next[c];
				break;
			}
			uint32_t t = child(set, &set->states[s], c);
			if (t != NO_STATE) {
				s = t;
				break;
			}
			s = set->states[s].fail;
		}
		for (uint32_t o = set->states[s].output != NO_STATE ? s : set->states[s].out_link;
		     o != NO_STATE && o != 0; o = set->states[o].out_link) {
			uint32_t id = set->states[o].output;
			found[id / 8] |= (unsigned char)(1u << (id % 8));
		}
	}
}
