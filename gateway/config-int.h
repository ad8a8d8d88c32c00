/*
 * config-int: what config.c (the reader) and config-keys.c (the table of
 * every key) share. Not for other modules: they read struct config.
 */
#ifndef DESKGATE_CONFIG_INT_H
#define DESKGATE_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_STRING,	 /* char * */
	CONFIG_SECRET,	 /* char *, never printed */
	CONFIG_PATH,	 /* char *, resolved against the config directory */
	CONFIG_STATEPATH, /* char *, resolved against state_dir */
	CONFIG_ENUM,	 /* char *, one of enum_values */
	CONFIG_LIST,	 /* char *, items; given again, the items add up (joined by enum_values) */
	CONFIG_UINT,	 /* uint64_t */
	CONFIG_SIZE,	 /* uint64_t, bytes, "25M" */
	CONFIG_DURATION, /* uint64_t, seconds, "5m" */
	CONFIG_BOOL,	 /* int */
};


struct config_key {
	const char *name;
	enum config_type type;
	const char *def; /* NULL: no default (unset) */
	uint64_t min, max;
	size_t offset;
	const char *enum_values; /* "a|b|c" for CONFIG_ENUM; the joiner for CONFIG_LIST */
	const char *doc;
};

struct config_section {
	const char *name;
	int repeatable; /* [name LABEL] sections, stored in an array */
	const struct config_key *keys;
	size_t n_keys;
	size_t item_size;      /* repeatable: size of one item */
	size_t array_offset;   /* repeatable: offset of the array pointer in struct config */
	size_t count_offset;   /* repeatable: offset of the count */
	size_t label_offset;   /* repeatable: offset of the label (char *) in the item */
	size_t struct_offset;  /* fixed: offset of the section's struct in struct config */
};

/* Every section and its keys, in the order deskgate.conf(5) lists them. */
extern const struct config_section config_sections[];
extern const size_t config_n_sections;

#endif
