/*
 * template: a small, bounded mustache renderer and the data tree it renders.
 *
 * Written by hand: Debian has no maintained C mustache library (the C
 * implementations on the web are unmaintained single-author projects, none
 * packaged), and what we need is small: the required modules of the official
 * spec (variables, sections, inverted sections, comments, partials with
 * standalone indentation, set delimiters), all of which tests/unit/
 * test-template.c runs. Lambdas and the optional ~ modules are not supported.
 *
 * Bounded: a template source is limited in size, section/partial nesting is
 * limited at compile and at render time, and the output is written into a
 * struct buf with a maximum. Hitting a limit is an error, never a truncated
 * result. Syntax errors name "label:line: why".
 *
 * Escaping: each render chooses a mode for {{name}} values:
 *   TMPL_ESCAPE_HTML    & < > " ' become entities ({{{x}}} and {{&x}} are raw);
 *   TMPL_ESCAPE_TEXT    no HTML escaping; control characters other than TAB
 *                       and LF are removed from values (raw or not);
 *   TMPL_ESCAPE_HEADER  for a header line: every control character in a value
 *                       (raw or not) is removed, CR/LF/TAB becoming a space, so
 *                       a value can never start a new header line.
 *
 * Data: struct tmpl_value is a tree of strings, booleans, lists, maps and
 * null. Sections treat null, false, an empty list and the empty string as
 * false (the spec leaves "" open; mustache.js treats it as false too). Maps keep insertion order; setting a key again replaces its value.
 * Builders that take a struct tmpl_value * take ownership of it; the
 * tmpl_map_add_*()/tmpl_list_add_*() helpers return a borrowed pointer to
 * the child they created (owned by the parent).
 *
 * Pure: no I/O, no logging. Partials are fetched through a callback, so the
 * caller decides where they live (ack.c reads them from template dirs).
 */
#ifndef DG_TEMPLATE_H
#define DG_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

/* ---- data ------------------------------------------------------------- */

enum tmpl_type { TMPL_NULL, TMPL_STRING, TMPL_BOOL, TMPL_LIST, TMPL_MAP };

struct tmpl_value;

struct tmpl_value *tmpl_null_new(void);
struct tmpl_value *tmpl_string_new(const char *s);
struct tmpl_value *tmpl_bool_new(int b);
struct tmpl_value *tmpl_list_new(void);
struct tmpl_value *tmpl_map_new(void);
void tmpl_value_free(struct tmpl_value **vp);

enum tmpl_type tmpl_value_type(const struct tmpl_value *v);
/* 1 for a TMPL_BOOL that is true, else 0 (also for NULL). */
int tmpl_value_bool(const struct tmpl_value *v);
/* The string of a TMPL_STRING, else NULL. Borrowed. */
const char *tmpl_value_string(const struct tmpl_value *v);
/* Map look-up of one key (no dots), or NULL. Borrowed. */
const struct tmpl_value *tmpl_map_get(const struct tmpl_value *map, const char *key);
/* List length and element (borrowed). */
size_t tmpl_list_count(const struct tmpl_value *list);
const struct tmpl_value *tmpl_list_at(const struct tmpl_value *list, size_t i);

/* Takes ownership of v. */
void tmpl_map_set(struct tmpl_value *map, const char *key, struct tmpl_value *v);
void tmpl_map_set_string(struct tmpl_value *map, const char *key, const char *s);
void tmpl_map_set_bool(struct tmpl_value *map, const char *key, int b);
struct tmpl_value *tmpl_map_add_map(struct tmpl_value *map, const char *key);
struct tmpl_value *tmpl_map_add_list(struct tmpl_value *map, const char *key);
/* Takes ownership of v. */
void tmpl_list_append(struct tmpl_value *list, struct tmpl_value *v);
void tmpl_list_append_string(struct tmpl_value *list, const char *s);
struct tmpl_value *tmpl_list_add_map(struct tmpl_value *list);

/* ---- templates -------------------------------------------------------- */

struct tmpl_limits {
	size_t max_source;  /* bytes of one template or partial source */
	size_t max_output;  /* bytes of one rendered result */
	size_t max_depth;   /* nesting of sections plus partials */
	size_t max_partials; /* partial inclusions in one render */
	size_t max_steps;    /* nodes visited in one render (bounds the work of
				nested loops that print nothing) */
};

/* 256 KiB sources, 1 MiB output, depth 32, 1000 partial inclusions,
   1,000,000 steps. */
void tmpl_limits_default(struct tmpl_limits *limits);

enum tmpl_escape { TMPL_ESCAPE_HTML, TMPL_ESCAPE_TEXT, TMPL_ESCAPE_HEADER };

struct tmpl;

/* Compile src[0..len). label names the source in errors ("label:line: why");
   first_line is the line number of src[0] in that file (1 normally). On -1
   *error_r is set and *tmpl_r is NULL. */
int tmpl_compile(const char *src, size_t len, const char *label, unsigned int first_line,
		 const struct tmpl_limits *limits, struct tmpl **tmpl_r, const char **error_r);
void tmpl_free(struct tmpl **tmplp);

/* Names of the partials a compiled template refers to directly, for
   checking that they exist. Borrowed; valid while the template lives. */
size_t tmpl_partial_count(const struct tmpl *tmpl);
const char *tmpl_partial_name(const struct tmpl *tmpl, size_t i);

/* Fetch a partial's source. Return 1 and fill *src_r (malloc'd, the
   renderer frees it), *len_r and *label_r (malloc'd or NULL, for errors);
   0 when there is no such partial (it renders as nothing, as the spec
   says); -1 with *error_r on failure. */
typedef int tmpl_partial_fn(void *ctx, const char *name, char **src_r, size_t *len_r,
			    char **label_r, const char **error_r);

/* Optional, for callers that keep compiled templates (compiled once per
   configuration load, not once per render): return 1 with *tmpl_r, a
   compiled partial the caller keeps alive and unchanged for the whole
   render; 0 when there is no such partial; -1 with *error_r on failure.
   Used for partials without indentation; an indented standalone partial
   is compiled from fetch's source with the indent put in. */
typedef int tmpl_partial_compiled_fn(void *ctx, const char *name, const struct tmpl **tmpl_r,
				     const char **error_r);

struct tmpl_partials {
	tmpl_partial_fn *fetch;
	void *ctx;
	tmpl_partial_compiled_fn *compiled; /* may be NULL */
};

/* Render with data as the root context. partials may be NULL (every
   partial is then empty). On 0, *out_r is a malloc'd NUL-terminated string
   of *len_r bytes, owned by the caller; on -1 nothing is returned and
   *error_r says why (a limit, a partial's syntax error, a fetch error). */
int tmpl_render(const struct tmpl *tmpl, const struct tmpl_value *data, enum tmpl_escape escape,
		const struct tmpl_partials *partials, char **out_r, size_t *len_r,
		const char **error_r);

#endif
