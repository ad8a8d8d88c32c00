/*
 * jsonout: JSON output for scripts (`--json`); the jansson adapter (the only
 * module that includes jansson). A small builder: objects and arrays own what
 * is added to them; jsonout_print() writes UTF-8 JSON with sorted keys.
 */
#ifndef DG_JSONOUT_H
#define DG_JSONOUT_H

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

#endif
