/*
 * danger: see danger.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/crypto.h"
#include "gateway/danger.h"
#include "gateway/hook.h"
#include "gateway/log.h"
#include "gateway/sniff.h"
#include "gateway/store.h"
#include "parsers/mime.h"
#include "base/util.h"

/* Verdicts kept, by SHA-256 of the content and the name (the name
   decides too: invoice.exe, invoice.pdf that is no PDF). Direct-mapped:
   a newer verdict replaces an older one in its slot. */
#define CACHE_SLOTS 1024

struct verdict_slot {
	unsigned char key[32];
	int used;
	int flagged;
	char reason[320];
};

struct danger {
	struct store *store;
	struct sniff *sniff;
	struct verdict_slot *cache;
	struct hook_flagged *flagged; /* of the current message */
	size_t n_flagged;
};

struct danger *
danger_new(struct store *store, const char **error_r)
{
	struct sniff *s = sniff_new(NULL, error_r);
	if (s == NULL)
		return NULL;
	struct danger *d = xcalloc(1, sizeof(*d));
	d->store = store;
	d->sniff = s;
	d->cache = xcalloc(CACHE_SLOTS, sizeof(*d->cache));
	return d;
}

void
danger_free(struct danger **dp)
{
	struct danger *d = *dp;
	if (d == NULL)
		return;
	sniff_free(&d->sniff);
	free(d->cache);
	free(d->flagged);
	free(d);
	*dp = NULL;
}

static void
hex(const unsigned char digest[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 15];
	}
	out[64] = '\0';
}

/* The verdict for content (its SHA-256 given) named filename. */
static int
check_digest(struct danger *d, const unsigned char digest[32], const unsigned char *data,
	     size_t len, const char *filename, char *reason, size_t size)
{
	const char *name = filename != NULL ? filename : "";
	size_t nlen = strlen(name);
	unsigned char *k = xmalloc(32 + nlen + 1);
	unsigned char key[32];
	memcpy(k, digest, 32);
	memcpy(k + 32, name, nlen + 1);
	crypto_sha256(k, 32 + nlen + 1, key);
	free(k);
	struct verdict_slot *slot = &d->cache[(key[0] | (key[1] << 8)) % CACHE_SLOTS];
	if (!slot->used || memcmp(slot->key, key, 32) != 0) {
		struct sniff_verdict v;
		const char *error;
		memcpy(slot->key, key, 32);
		slot->used = 1;
		if (sniff_bytes(d->sniff, data, len, name, &v, &error) < 0) {
			/* what cannot be checked is not safe */
			slot->flagged = 1;
			snprintf(slot->reason, sizeof(slot->reason), "cannot be checked: %s", error);
		} else {
			slot->flagged = v.kind != SNIFF_OK;
			snprintf(slot->reason, sizeof(slot->reason), "%s", v.reason);
		}
	}
	snprintf(reason, size, "%s", slot->reason);
	return slot->flagged;
}

int
danger_check(struct danger *d, const unsigned char *data, size_t len, const char *filename,
	     char *reason, size_t size)
{
	unsigned char digest[32];
	crypto_sha256(data, len, digest);
	return check_digest(d, digest, data, len, filename, reason, size);
}

int
danger_classified_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct danger *d = context;
	const struct mime_message *msg = ev->msg;
	(void)error_r;
	d->n_flagged = 0;
	ev->flagged = NULL;
	ev->n_flagged = 0;
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		unsigned char digest[32];
		char reason[320];
		crypto_sha256(a->data, a->size, digest);
		if (!check_digest(d, digest, a->data, a->size, a->filename, reason, sizeof(reason)))
			continue;
		d->flagged = xreallocarray(d->flagged, d->n_flagged + 1, sizeof(*d->flagged));
		struct hook_flagged *f = &d->flagged[d->n_flagged++];
		hex(digest, f->sha256);
		f->filename = a->filename;
		snprintf(f->reason, sizeof(f->reason), "%s", reason);
	}
	ev->flagged = d->flagged;
	ev->n_flagged = d->n_flagged;
	return 0;
}

int
danger_stored_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct danger *d = context;
	for (size_t i = 0; i < ev->n_flagged; i++) {
		const struct hook_flagged *f = &ev->flagged[i];
		log_warnx("%s ticket=%lld: dangerous attachment %s: %s: stored, not sent to agents",
			  ev->logctx, (long long)ev->ticket_id, log_safe(f->filename, 200),
			  log_safe(f->reason, 320));
		int ret = store_event_addf(d->store, ev->ticket_id, "attachment", error_r,
					   "dangerous attachment %s (message %lld): %s; stored, not "
					   "attached to notifications (#attachments sends it)",
					   f->filename, (long long)ev->message_row_id, f->reason);
		if (ret < 0)
			return ret;
	}
	return 0;
}

const char *
danger_flag_for(const struct hook_event *ev, const char *sha256)
{
	for (size_t i = 0; ev != NULL && sha256 != NULL && i < ev->n_flagged; i++)
		if (strcmp(ev->flagged[i].sha256, sha256) == 0)
			return ev->flagged[i].reason;
	return NULL;
}
