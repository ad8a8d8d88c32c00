/* hook: see hook.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/hook.h"
#include "gateway/log.h"
#include "base/util.h"

struct hook {
	const char *name;
	hook_fn *fn;
	void *context;
};

struct hook_list {
	struct hook *steps[HOOK_PHASES];
	size_t n_steps[HOOK_PHASES];
};

struct hook_list *
hook_list_new(void)
{
	return xcalloc(1, sizeof(struct hook_list));
}

void
hook_list_free(struct hook_list **listp)
{
	struct hook_list *list = *listp;
	if (list == NULL)
		return;
	for (size_t p = 0; p < HOOK_PHASES; p++)
		free(list->steps[p]);
	free(list);
	*listp = NULL;
}

void
hook_add(struct hook_list *list, enum hook_phase phase, const char *name, hook_fn *fn,
	 void *context)
{
	size_t *n = &list->n_steps[phase];
	list->steps[phase] = xreallocarray(list->steps[phase], *n + 1, sizeof(struct hook));
	list->steps[phase][*n] = (struct hook){ name, fn, context };
	(*n)++;
}

int
hook_run(const struct hook_list *list, enum hook_phase phase, struct hook_event *ev,
	 const char **error_r)
{
	ev->phase = phase;
	for (size_t i = 0; i < list->n_steps[phase]; i++) {
		const struct hook *h = &list->steps[phase][i];
		const char *why = NULL;
		int ret = h->fn(h->context, ev, &why);
		if (ret < 0) {
			if (why == NULL)
				why = "failed without saying why";
			if (phase == HOOK_COMMITTED) {
				log_error("%s ticket=%lld: step %s: %s", ev->logctx != NULL ? ev->logctx : "",
					  (long long)ev->ticket_id, h->name, why);
				continue;
			}
			*error_r = errf("%s: %s", h->name, why);
			return ret;
		}
		if (phase == HOOK_CLASSIFIED && (ev->quarantine[0] != '\0' || ev->handled[0] != '\0'))
			break;
	}
	return 0;
}

size_t
hook_count(const struct hook_list *list, enum hook_phase phase)
{
	return list->n_steps[phase];
}

const char *
hook_name(const struct hook_list *list, enum hook_phase phase, size_t n)
{
	return n < list->n_steps[phase] ? list->steps[phase][n].name : NULL;
}
