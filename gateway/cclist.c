/*
 * cclist: see cclist.h.
 */
#include "build-config.h"

#include <strings.h>

#include "gateway/cclist.h"
#include "gateway/deskmail.h"
#include "gateway/route.h"
#include "gateway/store.h"

int
cclist_allowed(const struct route *route, const struct deskmail *dm, const struct store_ticket *t,
	       const char *address, const char **why_r)
{
	*why_r = NULL;
	if (route_find_agent(route, address) != NULL)
		*why_r = "an agent's address is never copied on mail to the customer";
	else if (deskmail_is_own_address(dm, address))
		*why_r = "the support address (or one of its sub-addresses) cannot be copied";
	else if (t->customer_address != NULL && strcasecmp(t->customer_address, address) == 0)
		*why_r = "that is the customer, who gets every answer anyway";
	return *why_r == NULL;
}

int
cclist_add(struct store *store, const struct store_ticket *t, const char *address, const char *by,
	   const char **error_r)
{
	const char *role = NULL;
	int ret = store_participant_find(store, t->id, address, &role, error_r);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return store_event_addf(store, t->id, "cc", error_r, "#cc %s by %s: already a %s",
					address, by, role);
	if ((ret = store_participant_add(store, t->id, address, NULL, "cc", error_r)) < 0)
		return ret;
	return store_event_addf(store, t->id, "cc", error_r,
				"#cc %s by %s: copied on the answers to the customer", address, by);
}

int
cclist_remove(struct store *store, const struct store_ticket *t, const char *address,
	      const char *by, const char **error_r)
{
	int ret = store_participant_remove(store, t->id, address, "cc", error_r);
	if (ret <= 0)
		return ret;
	ret = store_event_addf(store, t->id, "uncc", error_r,
			       "#uncc %s by %s: no longer copied on the answers", address, by);
	return ret < 0 ? ret : 1;
}
