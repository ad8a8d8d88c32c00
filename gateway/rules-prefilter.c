/*
 * rules-prefilter: which words a pattern cannot match without, and the
 * one-pass check that skips patterns whose words a message lacks.
 *
 * Hand-written: PCRE2 has no API that lists a pattern's required literals
 * (it keeps only a first code unit and one "last literal"), and no
 * maintained library reads them out of PCRE2 syntax.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rules-int.h"
#include "base/strset.h"

/*
 * Before PCRE2 runs a pattern on a long target (subject, body, body-full,
 * text), the engine checks that the target contains strings that every
 * match of the pattern must contain. "(?:pending|stuck) (?:deposit|
 * withdrawal)" needs one of {pending, stuck} and one of {deposit,
 * withdrawal}; "a|b" needs what a needs or what b needs. So a pattern's
 * prefilter is an OR of branches, each an AND of sets, each an OR of
 * strings. All the strings of all patterns are found with one strset
 * (Aho-Corasick) pass over the case-folded target, and most patterns of a
 * large rule set are skipped without running.
 *
 * The strings come from a small reading of the pattern: literal runs
 * (small classes such as ['’] and optional pieces are expanded: "n['’]?t"
 * gives nt, n't, n’t), groups, alternation and quantifiers. Anything it
 * does not understand (inline options, \Q, back references, the x flag...)
 * leaves the pattern without a prefilter, which is always correct. Case
 * folding is ASCII plus the two non-ASCII characters that PCRE2 folds to
 * ASCII letters (U+212A KELVIN SIGN to k, U+017F LONG S to s); a literal
 * character outside ASCII is only kept when it has no case (CJK and the
 * like), so the check never rejects a text that the pattern would match.
 * tests/unit/test-rules.c compares results with and without it.
 */

#define LITS_MAX 64	/* a set with more strings is not worth it */
#define LITS_MIN_LEN 2	/* nor one with a string shorter than this */
#define CONJ_MAX 3	/* sets kept per branch */
#define DNF_MAX 32	/* branches per pattern */
#define LITS_MAX_DEPTH 100

struct litset {
	char **v; /* folded bytes, NUL-terminated */
	size_t *len;
	size_t n;
};

struct conj {
	struct litset *sets; /* all required */
	size_t n;
};

struct dnf {
	struct conj *c; /* any one suffices; n == 0: nothing known */
	size_t n;
};

struct litscan {
	const char *p, *end;
	int bail;
	int depth;
	char qkind; /* the last quantifier read: '?', '*', '+' or '{' */
};

static void
lits_free(struct litset *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

/* Append s (taken over); sets may hold duplicates, strset_add() merges
   them. */
static void
lits_take(struct litset *l, char *s, size_t len)
{
	if ((l->n & (l->n - 1)) == 0) { /* grow at powers of two */
		l->v = xreallocarray(l->v, l->n ? l->n * 2 : 1, sizeof(*l->v));
		l->len = xreallocarray(l->len, l->n ? l->n * 2 : 1, sizeof(*l->len));
	}
	l->v[l->n] = s;
	l->len[l->n] = len;
	l->n++;
}

static void
lits_add(struct litset *l, const char *s, size_t len)
{
	lits_take(l, xstrndup(s, len), len);
}

static size_t
lits_minlen(const struct litset *l)
{
	size_t m = SIZE_MAX;
	for (size_t i = 0; i < l->n; i++)
		if (l->len[i] < m)
			m = l->len[i];
	return l->n > 0 ? m : 0;
}

static int
lits_usable(const struct litset *l)
{
	return l->n > 0 && l->n <= LITS_MAX && lits_minlen(l) >= LITS_MIN_LEN;
}

/* a better than b: longer shortest string, then fewer strings. */
static int
lits_better(const struct litset *a, const struct litset *b)
{
	return lits_minlen(a) > lits_minlen(b) || (lits_minlen(a) == lits_minlen(b) && a->n < b->n);
}

/* Append s[0..len) to every string of a. */
static void
lits_append_all(struct litset *a, const char *s, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i < a->n; i++) {
		a->v[i] = xrealloc(a->v[i], a->len[i] + len + 1);
		memcpy(a->v[i] + a->len[i], s, len);
		a->len[i] += len;
		a->v[i][a->len[i]] = '\0';
	}
}

/* A literal character that no quantifier follows: it can wait in a
   pending buffer (flushed with lits_append_all()). */
static int
plain_next(const struct litscan *x)
{
	return x->p >= x->end || (*x->p != '?' && *x->p != '*' && *x->p != '+' &&
				  !(*x->p == '{' && x->p + 1 < x->end && isdigit((unsigned char)x->p[1])));
}

/* Every string of a followed by every string of b (a becomes the
   product); -1 (a unchanged) when it would hold more than LITS_MAX. */
static int
lits_product(struct litset *a, const struct litset *b)
{
	if (a->n * b->n > LITS_MAX)
		return -1;
	struct litset out = { 0 };
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < b->n; k++) {
			char *cat = xmalloc(a->len[i] + b->len[k] + 1);
			memcpy(cat, a->v[i], a->len[i]);
			memcpy(cat + a->len[i], b->v[k], b->len[k]);
			cat[a->len[i] + b->len[k]] = '\0';
			lits_take(&out, cat, a->len[i] + b->len[k]);
		}
	}
	lits_free(a);
	*a = out;
	return 0;
}

static void
conj_free(struct conj *c)
{
	for (size_t i = 0; i < c->n; i++)
		lits_free(&c->sets[i]);
	free(c->sets);
	memset(c, 0, sizeof(*c));
}

static void
dnf_free(struct dnf *d)
{
	for (size_t i = 0; i < d->n; i++)
		conj_free(&d->c[i]);
	free(d->c);
	memset(d, 0, sizeof(*d));
}

/* Add a required set to a branch (taken over, or freed when not usable);
   only the CONJ_MAX best are kept. */
static void
conj_add(struct conj *c, struct litset *set)
{
	if (!lits_usable(set)) {
		lits_free(set);
		return;
	}
	if (c->n < CONJ_MAX) {
		c->sets = xreallocarray(c->sets, c->n + 1, sizeof(*c->sets));
		c->sets[c->n++] = *set;
		memset(set, 0, sizeof(*set));
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < c->n; i++)
		if (lits_better(&c->sets[worst], &c->sets[i]))
			worst = i;
	if (lits_better(set, &c->sets[worst])) {
		lits_free(&c->sets[worst]);
		c->sets[worst] = *set;
		memset(set, 0, sizeof(*set));
	} else {
		lits_free(set);
	}
}

/* One set that a group's matches all need: the union of each branch's best
   set; n == 0 when some branch has none. */
static struct litset
dnf_collapse(const struct dnf *d)
{
	struct litset out = { 0 };
	for (size_t i = 0; i < d->n; i++) {
		const struct litset *best = NULL;
		for (size_t k = 0; k < d->c[i].n; k++)
			if (best == NULL || lits_better(&d->c[i].sets[k], best))
				best = &d->c[i].sets[k];
		if (best == NULL) {
			lits_free(&out);
			return out;
		}
		for (size_t k = 0; k < best->n; k++)
			lits_add(&out, best->v[k], best->len[k]);
	}
	if (out.n > LITS_MAX)
		lits_free(&out);
	return out;
}

/* A quantifier at x->p: consumed, 1 returned and *min_r set; 0 when none. */
static int
scan_quantifier(struct litscan *x, unsigned long *min_r)
{
	const char *p = x->p;
	if (p >= x->end)
		return 0;
	x->qkind = *p;
	if (*p == '?' || *p == '*' || *p == '+') {
		*min_r = *p == '+' ? 1 : 0;
		p++;
	} else if (*p == '{') {
		const char *q = p + 1;
		unsigned long min = 0;
		if (q >= x->end || *q < '0' || *q > '9')
			return 0; /* a literal "{" */
		while (q < x->end && *q >= '0' && *q <= '9' && min < 100000)
			min = min * 10 + (unsigned long)(*q++ - '0');
		if (q < x->end && *q == ',') {
			q++;
			while (q < x->end && *q >= '0' && *q <= '9')
				q++;
		}
		if (q >= x->end || *q != '}')
			return 0;
		*min_r = min;
		p = q + 1;
	} else {
		return 0;
	}
	if (p < x->end && (*p == '?' || *p == '+'))
		p++;
	x->p = p;
	return 1;
}

/* The code point of a UTF-8 sequence at p, with its length; -1 when invalid. */
static long
utf8_decode(const unsigned char *p, const unsigned char *end, size_t *len_r)
{
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || (size_t)(end - p) < n || !utf8_valid(p, n))
		return -1;
	long cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	*len_r = n;
	return cp;
}

/* Characters without case variants that literals may keep when matching is
   caseless: CJK, kana, hangul, general, CJK and full-width punctuation,
   full-width digits. */
static int
caseless_safe(long cp)
{
	return (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7af) ||
	       (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
	       (cp >= 0xff01 && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
	       (cp >= 0xff5b && cp <= 0xffef) || (cp >= 0x2000 && cp <= 0x206f);
}

/* One literal character at x->p (a plain or escaped character) into
   lit/len_r (folded). 1: literal; 0: a character that is not kept (a
   cased non-ASCII letter), consumed; -1: not a literal character (nothing
   consumed). */
static int
scan_literal(struct litscan *x, unsigned char *lit, size_t *len_r, int in_class)
{
	const unsigned char *p = (const unsigned char *)x->p, *end = (const unsigned char *)x->end;
	if (p >= end)
		return -1;
	int escaped = 0;
	if (*p == '\\') {
		if (p + 1 >= end)
			return -1;
		if (p[1] < 0x80 && isalnum(p[1])) {
			static const char from[] = "nrtfea", to[] = "\n\r\t\f\033\a";
			const char *k = strchr(from, p[1]);
			if (k == NULL)
				return -1;
			lit[0] = (unsigned char)to[k - from];
			*len_r = 1;
			x->p += 2;
			return 1;
		}
		p++;
		escaped = 1;
	} else if (!in_class && strchr("\\^$.[|()?*+", *p) != NULL) {
		return -1;
	} else if (in_class && (*p == ']' || *p == '[' || *p == '-' || *p == '^')) {
		return -1;
	}
	if (*p < 0x80) {
		if (!escaped && !in_class && *p == '{') {
			unsigned long dummy;
			struct litscan probe = *x;
			if (scan_quantifier(&probe, &dummy))
				return -1;
		}
		lit[0] = (unsigned char)tolower(*p);
		*len_r = 1;
		x->p = (const char *)p + 1;
		return 1;
	}
	size_t n;
	long cp = utf8_decode(p, end, &n);
	if (cp < 0)
		return -1;
	x->p = (const char *)p + n;
	if (!caseless_safe(cp))
		return 0;
	memcpy(lit, p, n);
	*len_r = n;
	return 1;
}

/* A small class of plain characters ("['’]", "[sz]") as a set; -1 (nothing
   consumed) for anything else. */
static int
scan_small_class(struct litscan *x, struct litset *out)
{
	struct litscan y = *x;
	if (y.p >= y.end || *y.p != '[')
		return -1;
	y.p++;
	struct litset set = { 0 };
	while (y.p < y.end && *y.p != ']') {
		unsigned char lit[4];
		size_t len;
		if (scan_literal(&y, lit, &len, 1) != 1 || set.n >= 4) {
			lits_free(&set);
			return -1;
		}
		int dup = 0;
		for (size_t i = 0; i < set.n; i++)
			if (set.len[i] == len && memcmp(set.v[i], lit, len) == 0)
				dup = 1;
		if (!dup)
			lits_add(&set, (const char *)lit, len);
	}
	if (y.p >= y.end || set.n == 0) {
		lits_free(&set);
		return -1;
	}
	y.p++;
	*x = y;
	*out = set;
	return 0;
}

static int scan_exact_alt(struct litscan *x, struct litset *out);

/* A sequence made only of literal characters, small classes, groups of
   such, and "?": its exact strings. -1 when it has anything else. */
static int
scan_exact_seq(struct litscan *x, struct litset *out)
{
	struct litset cur = { 0 };
	struct buf pend;
	buf_init(&pend, RULES_MAX_PATTERN);
	lits_add(&cur, "", 0);
	while (x->p < x->end && *x->p != '|' && *x->p != ')') {
		struct litset atom = { 0 };
		unsigned char lit[4];
		size_t len;
		int r = scan_literal(x, lit, &len, 0);
		if (r == 1 && plain_next(x)) {
			buf_append(&pend, lit, len);
			continue;
		}
		lits_append_all(&cur, (const char *)pend.data, pend.len);
		buf_reset(&pend);
		if (r == 1) {
			lits_add(&atom, (const char *)lit, len);
		} else if (r == 0) {
			goto fail;
		} else if (*x->p == '[') {
			if (scan_small_class(x, &atom) < 0)
				goto fail;
		} else if (*x->p == '(' && x->p + 2 < x->end && x->p[1] == '?' && x->p[2] == ':') {
			x->p += 3;
			if (++x->depth > LITS_MAX_DEPTH || scan_exact_alt(x, &atom) < 0 || x->p >= x->end ||
			    *x->p != ')')
				goto fail;
			x->depth--;
			x->p++;
		} else {
			goto fail;
		}
		if (x->p < x->end && *x->p == '?') {
			x->p++;
			if (x->p < x->end && (*x->p == '?' || *x->p == '+'))
				x->p++;
			lits_add(&atom, "", 0);
		} else if (x->p < x->end && (*x->p == '*' || *x->p == '+' || *x->p == '{')) {
			unsigned long dummy;
			struct litscan probe = *x;
			if (scan_quantifier(&probe, &dummy)) {
				lits_free(&atom);
				goto fail;
			}
		}
		int pr = lits_product(&cur, &atom);
		lits_free(&atom);
		if (pr < 0)
			goto fail;
	}
	lits_append_all(&cur, (const char *)pend.data, pend.len);
	buf_free(&pend);
	*out = cur;
	return 0;
fail:
	buf_free(&pend);
	lits_free(&cur);
	return -1;
}

static int
scan_exact_alt(struct litscan *x, struct litset *out)
{
	struct litset all = { 0 };
	for (;;) {
		struct litset s;
		if (scan_exact_seq(x, &s) < 0) {
			lits_free(&all);
			return -1;
		}
		for (size_t i = 0; i < s.n; i++)
			lits_add(&all, s.v[i], s.len[i]);
		lits_free(&s);
		if (all.n > LITS_MAX) {
			lits_free(&all);
			return -1;
		}
		if (x->p < x->end && *x->p == '|') {
			x->p++;
			continue;
		}
		break;
	}
	*out = all;
	return 0;
}

/* Skip a [...] class. */
static void
skip_class(struct litscan *x)
{
	const char *p = x->p + 1;
	if (p < x->end && *p == '^')
		p++;
	if (p < x->end && *p == ']')
		p++;
	while (p < x->end && *p != ']') {
		if (*p == '\\' && p + 1 < x->end) {
			p += 2;
			if ((p[-1] == 'p' || p[-1] == 'P') && p < x->end && *p == '{') {
				while (p < x->end && *p != '}')
					p++;
				p++;
			}
			continue;
		}
		if (*p == '[' && p + 1 < x->end && p[1] == ':') {
			const char *q = p + 2;
			while (q + 1 < x->end && !(q[0] == ':' && q[1] == ']'))
				q++;
			if (q + 1 < x->end) {
				p = q + 2;
				continue;
			}
		}
		p++;
	}
	if (p >= x->end)
		x->bail = 1;
	x->p = p + 1;
}

static struct dnf scan_alt(struct litscan *x);

/* Skip an escape that matches one character of a class, or is zero width:
   1 when it was one, 0 when not understood. */
static int
skip_class_escape(struct litscan *x)
{
	if (x->p + 1 >= x->end || x->p[0] != '\\')
		return 0;
	char d = x->p[1];
	if (strchr("bBAZzGdDwWsShHvVRX", d) != NULL && d != '\0') {
		x->p += 2;
		return 1;
	}
	if (d == 'N' && (x->p + 2 >= x->end || x->p[2] != '{')) {
		x->p += 2;
		return 1;
	}
	if (d == 'p' || d == 'P') {
		x->p += 2;
		if (x->p < x->end && *x->p == '{') {
			while (x->p < x->end && *x->p != '}')
				x->p++;
		}
		x->p++;
		return 1;
	}
	return 0;
}

static struct litset
lits_copy(const struct litset *l)
{
	struct litset out = { 0 };
	for (size_t i = 0; i < l->n; i++)
		lits_add(&out, l->v[i], l->len[i]);
	return out;
}

/* Whether the group whose body starts at p can be plain strings: no
   quantifier but "?", no escape but a literal one, no "." and no
   assertion, up to its ")". A cheap look before scan_exact_alt(). */
static int
group_may_be_exact(const char *p, const char *end)
{
	int depth = 0, in_class = 0;
	for (; p < end; p++) {
		char c = *p;
		if (c == '\\') {
			if (p + 1 < end && isalnum((unsigned char)p[1]) && strchr("nrtfea", p[1]) == NULL)
				return 0;
			p++;
			continue;
		}
		if (in_class) {
			if (c == ']')
				in_class = 0;
			else if (c == '-' || c == '^' || c == '[')
				return 0;
			continue;
		}
		switch (c) {
		case '[':
			in_class = 1;
			break;
		case '.':
		case '*':
		case '+':
		case '^':
		case '$':
			return 0;
		case '{':
			if (p + 1 < end && isdigit((unsigned char)p[1]))
				return 0;
			break;
		case '(':
			if (p + 2 >= end || p[1] != '?' || p[2] != ':')
				return 0;
			depth++;
			break;
		case ')':
			if (depth-- == 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* A sequence: the sets every match needs (an AND), or, when the sequence
   is mostly one alternation that no single set covers, that
   alternation's branches, each with the sequence's other sets added. */
static struct dnf
scan_seq(struct litscan *x)
{
	struct conj conj = { 0 };
	struct dnf alts = { 0 }; /* a group kept whole */
	struct litset cur = { 0 }; /* exact strings of the current run */
	struct buf pend;	   /* plain characters not yet appended to cur */
	buf_init(&pend, RULES_MAX_PATTERN);
	lits_add(&cur, "", 0);
	while (!x->bail && x->p < x->end && *x->p != '|' && *x->p != ')') {
		struct litset atom = { 0 };
		int exact = 0;
		struct dnf group = { 0 };
		int is_group = 0;
		unsigned char lit[4];
		size_t len;
		int r = scan_literal(x, lit, &len, 0);
		if (r == 1 && plain_next(x)) {
			buf_append(&pend, lit, len);
			continue;
		}
		lits_append_all(&cur, (const char *)pend.data, pend.len);
		buf_reset(&pend);
		if (r == 1) {
			lits_add(&atom, (const char *)lit, len);
			exact = 1;
		} else if (r == 0) {
			/* a cased non-ASCII letter: ends the run */
		} else if (*x->p == '[') {
			if (scan_small_class(x, &atom) == 0)
				exact = 1;
			else
				skip_class(x);
		} else if (*x->p == '\\') {
			if (!skip_class_escape(x)) {
				x->bail = 1; /* \x \o \c \Q \g \k \1 \K ...: not read here */
				break;
			}
		} else if (*x->p == '.' || *x->p == '^' || *x->p == '$') {
			x->p++;
		} else if (*x->p == '(') {
			const char *p = x->p + 1;
			int lookaround = 0;
			if (p < x->end && *p == '*') {
				x->bail = 1;
				break;
			}
			if (p < x->end && *p == '?') {
				p++;
				if (p < x->end && (*p == ':' || *p == '>' || *p == '|')) {
					p++;
				} else if (p < x->end && (*p == '=' || *p == '!')) {
					p++;
					lookaround = 1;
				} else if (p + 1 < x->end && *p == '<' && (p[1] == '=' || p[1] == '!')) {
					p += 2;
					lookaround = 1;
				} else if (p < x->end && (*p == '<' || *p == '\'' || *p == 'P')) {
					char close = *p == '\'' ? '\'' : '>';
					if (*p == 'P' && (p + 1 >= x->end || p[1] != '<')) {
						x->bail = 1;
						break;
					}
					p++;
					while (p < x->end && *p != close)
						p++;
					p++;
				} else if (p < x->end && *p == '#') {
					while (p < x->end && *p != ')')
						p++;
					x->p = p + 1;
					continue;
				} else {
					x->bail = 1; /* inline options, recursion, conditions */
					break;
				}
			}
			/* A group of plain strings extends the run. */
			struct litscan probe = { .p = p, .end = x->end, .depth = x->depth + 1 };
			if (!lookaround && probe.depth <= LITS_MAX_DEPTH && group_may_be_exact(p, x->end) &&
			    scan_exact_alt(&probe, &atom) == 0 && probe.p < x->end && *probe.p == ')') {
				x->p = probe.p + 1;
				exact = 1;
			} else {
				lits_free(&atom);
				x->p = p;
				if (++x->depth > LITS_MAX_DEPTH) {
					x->bail = 1;
					break;
				}
				group = scan_alt(x);
				x->depth--;
				if (x->bail || x->p >= x->end || *x->p != ')') {
					dnf_free(&group);
					x->bail = 1;
					break;
				}
				x->p++;
				if (lookaround)
					dnf_free(&group);
				else
					is_group = 1;
			}
		} else {
			x->bail = 1; /* a quantifier with nothing before it */
			break;
		}
		unsigned long min = 1;
		int quantified = scan_quantifier(x, &min);
		if (exact && !quantified) {
			if (lits_product(&cur, &atom) == 0) {
				lits_free(&atom);
				continue;
			}
			/* too many: close the run here and start again with atom */
			conj_add(&conj, &cur);
			cur = atom;
			continue;
		}
		if (exact && quantified && x->qkind == '?') {
			/* "x?" is x or nothing: the run goes on with both */
			lits_add(&atom, "", 0);
			if (lits_product(&cur, &atom) == 0) {
				lits_free(&atom);
				continue;
			}
			lits_free(&atom);
			conj_add(&conj, &cur);
			cur = (struct litset){ 0 };
			lits_add(&cur, "", 0);
			continue;
		}
		/* Anything else ends the run. */
		conj_add(&conj, &cur);
		cur = (struct litset){ 0 };
		lits_add(&cur, "", 0);
		if (exact && min >= 1)
			conj_add(&conj, &atom);
		else
			lits_free(&atom);
		if (is_group && min >= 1) {
			if (group.n == 1) {
				for (size_t i = 0; i < group.c[0].n; i++)
					conj_add(&conj, &group.c[0].sets[i]);
			} else {
				struct litset u = dnf_collapse(&group);
				if (u.n > 0) {
					conj_add(&conj, &u);
				} else if (alts.n == 0) {
					alts = group;
					memset(&group, 0, sizeof(group));
				}
			}
		}
		dnf_free(&group);
	}
	lits_append_all(&cur, (const char *)pend.data, pend.len);
	buf_free(&pend);
	conj_add(&conj, &cur);
	struct dnf out = { 0 };
	if (alts.n > 0) {
		for (size_t i = 0; i < alts.n; i++) {
			for (size_t k = 0; k < conj.n; k++) {
				struct litset copy = lits_copy(&conj.sets[k]);
				conj_add(&alts.c[i], &copy);
			}
		}
		conj_free(&conj);
		return alts;
	}
	if (conj.n > 0) {
		out.c = xcalloc(1, sizeof(*out.c));
		out.c[0] = conj;
		out.n = 1;
	} else {
		conj_free(&conj);
	}
	return out;
}

/* An alternation: what its matches need (an OR of ANDs). */
static struct dnf
scan_alt(struct litscan *x)
{
	struct dnf d = { 0 };
	int unknown = 0;
	for (;;) {
		struct dnf s = scan_seq(x);
		if (s.n == 0 || d.n + s.n > DNF_MAX) {
			unknown = 1;
		} else {
			d.c = xreallocarray(d.c, d.n + s.n, sizeof(*d.c));
			for (size_t i = 0; i < s.n; i++) {
				d.c[d.n++] = s.c[i];
				memset(&s.c[i], 0, sizeof(s.c[i]));
			}
		}
		dnf_free(&s);
		if (!x->bail && x->p < x->end && *x->p == '|') {
			x->p++;
			continue;
		}
		break;
	}
	if (unknown)
		dnf_free(&d);
	return d;
}

void
pf_free(struct pattern *pat)
{
	for (size_t i = 0; i < pat->n_pf; i++) {
		for (size_t k = 0; k < pat->pf[i].n; k++)
			free(pat->pf[i].sets[k].ids);
		free(pat->pf[i].sets);
	}
	free(pat->pf);
	pat->pf = NULL;
	pat->n_pf = 0;
}

void
pattern_prefilter(struct rules *rules, struct pattern *pat, const char *source,
		  unsigned int flags)
{
	if ((flags & RX_EXTENDED) != 0)
		return;
	struct litscan x = { .p = source, .end = source + strlen(source) };
	struct dnf d = scan_alt(&x);
	if (x.bail || x.p != x.end || d.n == 0) {
		dnf_free(&d);
		return;
	}
	if (rules->strset == NULL)
		rules->strset = strset_new();
	pat->pf = xcalloc(d.n, sizeof(*pat->pf));
	pat->n_pf = d.n;
	for (size_t i = 0; i < d.n; i++) {
		struct pf_branch *br = &pat->pf[i];
		br->sets = xcalloc(d.c[i].n, sizeof(*br->sets));
		br->n = d.c[i].n;
		for (size_t k = 0; k < d.c[i].n; k++) {
			const struct litset *l = &d.c[i].sets[k];
			br->sets[k].ids = xcalloc(l->n, sizeof(*br->sets[k].ids));
			br->sets[k].n = l->n;
			br->sets[k].sid = rules->n_sets++;
			rules->pairs = xreallocarray(rules->pairs, (rules->n_pairs + l->n) * 2,
						     sizeof(*rules->pairs));
			for (size_t m = 0; m < l->n; m++) {
				uint32_t id = strset_add(rules->strset, (const unsigned char *)l->v[m],
							 l->len[m]);
				br->sets[k].ids[m] = id;
				rules->pairs[2 * rules->n_pairs] = id;
				rules->pairs[2 * rules->n_pairs + 1] = br->sets[k].sid;
				rules->n_pairs++;
			}
		}
	}
	dnf_free(&d);
}

/* Case-fold text for the prefilter (see above); caller frees. */
static unsigned char *
prefilter_fold(const char *s, size_t len, size_t *len_r)
{
	unsigned char *out = xmalloc(len + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c >= 'A' && c <= 'Z') {
			out[o++] = (unsigned char)(c + 32);
		} else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x84 && p[i + 2] == 0xaa) {
			out[o++] = 'k';
			i += 2;
		} else if (c == 0xc5 && i + 1 < len && p[i + 1] == 0xbf) {
			out[o++] = 's';
			i += 1;
		} else {
			out[o++] = c;
		}
	}
	*len_r = o;
	return out;
}

void
prefilter_finish(struct rules *rules)
{
	if (rules->strset == NULL)
		return;
	/* The sets each string belongs to, for marking found sets. */
	strset_compile(rules->strset);
	uint32_t n = strset_count(rules->strset);
	rules->str_first = xcalloc((size_t)n + 1, sizeof(*rules->str_first));
	rules->str_sets = xcalloc(rules->n_pairs + 1, sizeof(*rules->str_sets));
	for (size_t i = 0; i < rules->n_pairs; i++)
		rules->str_first[rules->pairs[2 * i] + 1]++;
	for (uint32_t i = 0; i < n; i++)
		rules->str_first[i + 1] += rules->str_first[i];
	uint32_t *fill = xcalloc((size_t)n + 1, sizeof(*fill));
	for (size_t i = 0; i < rules->n_pairs; i++) {
		uint32_t id = rules->pairs[2 * i];
		rules->str_sets[rules->str_first[id] + fill[id]++] = rules->pairs[2 * i + 1];
	}
	free(fill);
	x_free(&rules->pairs);
}

unsigned char *
prefilter_scan(const struct rules *rules, const char *s, size_t len)
{
	/* One pass finds the strings; their sets are marked found. */
	size_t nstr = ((size_t)strset_count(rules->strset) + 7) / 8, flen;
	unsigned char *strs = xcalloc(nstr + 1, 1);
	unsigned char *folded = prefilter_fold(s, len, &flen);
	strset_scan(rules->strset, folded, flen, strs);
	free(folded);
	unsigned char *found = xcalloc(((size_t)rules->n_sets + 7) / 8 + 1, 1);
	for (size_t byte = 0; byte < nstr; byte++) {
		if (strs[byte] == 0)
			continue;
		for (unsigned int bit = 0; bit < 8; bit++) {
			if (!(strs[byte] & (1u << bit)))
				continue;
			uint32_t id = (uint32_t)(byte * 8 + bit);
			for (uint32_t k = rules->str_first[id]; k < rules->str_first[id + 1]; k++)
				found[rules->str_sets[k] / 8] |= (unsigned char)(1u << (rules->str_sets[k] % 8));
		}
	}
	free(strs);
	return found;
}

int
prefilter_admits(const struct pattern *pat, const unsigned char *found)
{
	if (pat->n_pf == 0)
		return 1;
	for (size_t b = 0; b < pat->n_pf; b++) {
		const struct pf_branch *br = &pat->pf[b];
		size_t k;
		for (k = 0; k < br->n; k++)
			if (!(found[br->sets[k].sid / 8] & (1u << (br->sets[k].sid % 8))))
				break; /* this set is absent: the branch fails */
		if (k == br->n)
			return 1;
	}
	return 0;
}
