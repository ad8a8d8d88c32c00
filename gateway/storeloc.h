/*
 * storeloc: where the desk's store is, from the configuration: [store] url
 * (sqlite:PATH, PATH relative to state_dir, or postgresql://...), or the
 * deprecated [general] database (warned about once per process), with the
 * password of [store] password_file put into the PostgreSQL location
 * (config->store_location, which store_open() takes and nothing prints).
 * password_file is refused unless only its owner may read it.
 */
#ifndef DG_STORELOC_H
#define DG_STORELOC_H

struct config;
struct store;

/* Fill config->store_location (and config->database from [store] url).
   NULL, or "LINE: why" (an errf() string) naming the line of the key. */
const char *storeloc_finish(struct config *config);
/* location with password added: a URI parameter (%XX-escaped) for
   postgresql://..., a quoted keyword for "postgresql:host=... ". Caller
   frees (wipe it first: it holds a secret). */
char *storeloc_with_password(const char *location, const char *password);
/* store_open() of config->store_location with what the configuration says
   about the store beyond its location ([store] blob_dir). */
int storeloc_open(const struct config *config, struct store **store_r, const char **error_r);

#endif
