/*
 * jsonout: JSON output for scripts (`--json`); the jansson adapter (the only
 * module that includes jansson). A small builder: objects and arrays own what
 * is added to them; jsonout_print() writes UTF-8 JSON with sorted keys.
 * jsonout_parse() and the getters read back what deskgate itself wrote
 * (the daemon's status file).
 */
#ifndef DG_JSONOUT_H
#define DG_JSONOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jsonout;

struct jsonout *jsonout_object(void);
struct jsonout *jsonout_array(void);
struct jsonout *jsonout_str(const char *value); /* NULL: JSON null */
struct jsonout *jsonout_int(int64_t value);
struct jsonout *jsonout_real(double value);
struct jsonout *jsonout_bool(int value);
/* Setters take ownership of value. */
void jsonout_set(struct jsonout *obj, const char *key, struct jsonout *value);
void jsonout_set_str(struct jsonout *obj, const char *key, const char *value);
void jsonout_set_int(struct jsonout *obj, const char *key, int64_t value);
void jsonout_set_real(struct jsonout *obj, const char *key, double value);
void jsonout_set_bool(struct jsonout *obj, const char *key, int value);
void jsonout_append(struct jsonout *array, struct jsonout *value);
/* Write with indentation and a final newline; -1 on a write error. */
int jsonout_print(const struct jsonout *value, FILE *out);
void jsonout_free(struct jsonout **valuep);

/* Parse data[0..len); NULL with error_r ("line N: why"). The caller frees
   the result with jsonout_free(). */
struct jsonout *jsonout_parse(const char *data, size_t len, const char **error_r);
/* Getters: borrowed from obj; NULL (or def) when obj is not an object, the
   key is absent or the value has another type. */
const struct jsonout *jsonout_get(const struct jsonout *obj, const char *key);
const char *jsonout_get_str(const struct jsonout *obj, const char *key);
int64_t jsonout_get_int(const struct jsonout *obj, const char *key, int64_t def);
/* Arrays: 0 / NULL when not an array or out of range. */
size_t jsonout_array_size(const struct jsonout *array);
const struct jsonout *jsonout_array_get(const struct jsonout *array, size_t i);

#endif
