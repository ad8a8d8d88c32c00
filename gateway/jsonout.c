/* jsonout: see jsonout.h. */
#include "build-config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/jsonout.h"
#include "base/util.h"

/* struct jsonout is jansson's json_t; the casts keep jansson out of headers. */
#define J(p) ((json_t *)(p))

static struct jsonout *
check(json_t *j)
{
	if (j == NULL) {
		fprintf(stderr, "deskgate: fatal: out of memory (json)\n");
		abort();
	}
	return (struct jsonout *)j;
}

struct jsonout *jsonout_object(void) { return check(json_object()); }
struct jsonout *jsonout_array(void) { return check(json_array()); }
struct jsonout *jsonout_int(int64_t value) { return check(json_integer((json_int_t)value)); }
struct jsonout *jsonout_real(double value) { return check(json_real(value)); }
struct jsonout *jsonout_bool(int value) { return check(json_boolean(value)); }

struct jsonout *
jsonout_str(const char *value)
{
	if (value == NULL)
		return check(json_null());
	/* Our strings are UTF-8 already; a stray invalid byte must not lose
	   the whole value, so fall back to a lossy copy. */
	json_t *j = json_string(value);
	if (j == NULL) {
		size_t len = strlen(value);
		char *copy = malloc(len + 1);
		if (copy == NULL)
			return check(NULL);
		for (size_t i = 0; i <= len; i++)
			copy[i] = (unsigned char)value[i] >= 0x80 ? '?' : value[i];
		j = json_string(copy);
		free(copy);
	}
	return check(j);
}

void
jsonout_set(struct jsonout *obj, const char *key, struct jsonout *value)
{
	json_object_set_new(J(obj), key, J(value));
}

void jsonout_set_str(struct jsonout *o, const char *k, const char *v) { jsonout_set(o, k, jsonout_str(v)); }
void jsonout_set_int(struct jsonout *o, const char *k, int64_t v) { jsonout_set(o, k, jsonout_int(v)); }
void jsonout_set_real(struct jsonout *o, const char *k, double v) { jsonout_set(o, k, jsonout_real(v)); }
void jsonout_set_bool(struct jsonout *o, const char *k, int v) { jsonout_set(o, k, jsonout_bool(v)); }

void
jsonout_append(struct jsonout *array, struct jsonout *value)
{
	json_array_append_new(J(array), J(value));
}

int
jsonout_print(const struct jsonout *value, FILE *out)
{
	if (json_dumpf(J(value), out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
		return -1;
	return fputc('\n', out) == EOF ? -1 : 0;
}

void
jsonout_free(struct jsonout **valuep)
{
	if (*valuep != NULL)
		json_decref(J(*valuep));
	*valuep = NULL;
}

struct jsonout *
jsonout_parse(const char *data, size_t len, const char **error_r)
{
	json_error_t err;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		*error_r = errf("line %d: %s", err.line, err.text);
		return NULL;
	}
	return (struct jsonout *)j;
}

const struct jsonout *
jsonout_get(const struct jsonout *obj, const char *key)
{
	if (obj == NULL || !json_is_object(J(obj)))
		return NULL;
	return (const struct jsonout *)json_object_get(J(obj), key);
}

const char *
jsonout_get_str(const struct jsonout *obj, const char *key)
{
	const struct jsonout *v = jsonout_get(obj, key);
	return v != NULL && json_is_string(J(v)) ? json_string_value(J(v)) : NULL;
}

int64_t
jsonout_get_int(const struct jsonout *obj, const char *key, int64_t def)
{
	const struct jsonout *v = jsonout_get(obj, key);
	if (v != NULL && json_is_integer(J(v)))
		return (int64_t)json_integer_value(J(v));
	if (v != NULL && json_is_boolean(J(v)))
		return json_is_true(J(v)) ? 1 : 0;
	return def;
}

size_t
jsonout_array_size(const struct jsonout *array)
{
	return array != NULL && json_is_array(J(array)) ? json_array_size(J(array)) : 0;
}

const struct jsonout *
jsonout_array_get(const struct jsonout *array, size_t i)
{
	if (array == NULL || !json_is_array(J(array)))
		return NULL;
	return (const struct jsonout *)json_array_get(J(array), i);
}
