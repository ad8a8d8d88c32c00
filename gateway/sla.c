/*
 * sla: see sla.h. The clocks are kept as instants (due, warn) computed
 * from when each started, its target and the business time it spent
 * paused, so that any change (a pause, a new policy) recomputes them the
 * same way and a restart of the daemon changes nothing.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/sla.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/tz.h"
#include "base/clock.h"
#include "base/util.h"

static const char *const target_names[SLA_TARGETS] = {
	"first_response", "next_response", "resolution"
};
static const char *const priorities[4] = { "urgent", "high", "normal", "low" };

struct sla_policy {
	const struct config_sla *c; /* NULL: the built-in default */
	const char *name;
	uint64_t target[SLA_TARGETS];
	uint64_t first_by_priority[4]; /* the built-in default */
	unsigned int warn_at;
	uint64_t repeat;
	const struct hours *calendar; /* NULL: the queue's, else default */
};

struct sla {
	const struct config *config;
	struct hours **calendars; /* [0] is [hours], "default" */
	size_t n_calendars;
	struct sla_policy *policies; /* in file order; the default last */
	size_t n_policies;
};

const char *
sla_target_name(enum store_sla_target target)
{
	return (unsigned)target < SLA_TARGETS ? target_names[target] : "?";
}

int
sla_target_from_name(const char *name)
{
	for (int i = 0; name != NULL && i < SLA_TARGETS; i++)
		if (strcmp(name, target_names[i]) == 0)
			return i;
	return -1;
}

/* ---- lists in configuration values -------------------------------------------- */

/* The next item of a list ("a, b; c"): 1 with [*s, *s + *n). */
static int
list_next(const char **pp, const char **s, size_t *n)
{
	const char *p = *pp;
	if (p == NULL)
		return 0;
	p += strspn(p, ",; \t");
	if (*p == '\0')
		return 0;
	*s = p;
	*n = strcspn(p, ",; \t");
	*pp = p + *n;
	return 1;
}

/* 1 when list is empty or has an item equal (ASCII case) to value; with
   prefix, an item also matches value's subtags ("zh" matches "zh-CN"). */
static int
list_allows(const char *list, const char *value, int prefix)
{
	const char *s;
	size_t n;
	const char *p = list;
	if (!list_next(&p, &s, &n))
		return 1;
	if (value == NULL)
		return 0;
	p = list;
	while (list_next(&p, &s, &n)) {
		if (strncasecmp(s, value, n) == 0 &&
		    (value[n] == '\0' || (prefix && value[n] == '-')))
			return 1;
	}
	return 0;
}

/* ---- construction ------------------------------------------------------------------ */

static const char *
where(const struct config *config, const char *section, const char *label, const char *key)
{
	unsigned int line = config_line(config, section, label, key);
	if (line > 0)
		return errf("%s:%u", config->path, line);
	return errf("%s", config->path);
}

static struct hours *
calendar_build(const struct config *config, const struct config_hours *c, const char *name,
	       const char **error_r)
{
	struct hours *h = NULL;
	const char *label = c->name; /* NULL for [hours] */
	const char *sec = label != NULL ? errf("[hours %s]", label) : "[hours]";
	const char *why;
	if (hours_new(c->timezone, c->week, c->holidays, &h, &why) < 0) {
		/* name the key the error is about */
		const char *key = strstr(why, "time zone") != NULL ? "timezone"
				  : strstr(why, "holidays") != NULL ? "holidays"
								    : "week";
		*error_r = errf("%s: %s: %s", where(config, "hours", label, key), sec, why);
		return NULL;
	}
	if (hours_set_open_days(h, c->open_days, &why) < 0) {
		*error_r = errf("%s: %s: %s", where(config, "hours", label, "open_days"), sec, why);
		hours_free(&h);
		return NULL;
	}
	hours_set_name(h, name);
	hours_set_target(h, "urgent", c->target_urgent);
	hours_set_target(h, "high", c->target_high);
	hours_set_target(h, "normal", c->target_normal);
	hours_set_target(h, "low", c->target_low);
	return h;
}

static int
is_hhmm(const char *s)
{
	return s != NULL && strlen(s) == 5 && isdigit((unsigned char)s[0]) &&
	       isdigit((unsigned char)s[1]) && s[2] == ':' && isdigit((unsigned char)s[3]) &&
	       isdigit((unsigned char)s[4]) && (s[0] - '0') * 10 + (s[1] - '0') < 24 &&
	       s[3] < '6';
}

/* A list of agents (their NAME) or addresses. */
static const char *
check_people(const struct config *config, const char *list)
{
	const char *p = list, *s;
	size_t n;
	while (list_next(&p, &s, &n)) {
		if (memchr(s, '@', n) != NULL)
			continue;
		size_t a;
		for (a = 0; a < config->n_agents; a++)
			if (strlen(config->agents[a].label) == n &&
			    strncasecmp(config->agents[a].label, s, n) == 0)
				break;
		if (a == config->n_agents)
			return errf("\"%.*s\" is neither an [agent NAME] nor an address",
				    (int)(n > 64 ? 64 : n), s);
	}
	return NULL;
}

/* The references between sections that calendars and policies make. */
static const char *
check_references(const struct sla *sla, const struct config *config)
{
	const char *why;
	for (size_t i = 0; i < config->n_queues; i++) {
		const struct config_queue *q = &config->queues[i];
		if (q->calendar != NULL && sla_calendar(sla, q->calendar) == NULL)
			return errf("%s: [queue %s] calendar: no [hours %s]",
				    where(config, "queue", q->name, "calendar"), q->name, q->calendar);
		if ((why = check_people(config, q->supervisors)) != NULL)
			return errf("%s: [queue %s] supervisors: %s",
				    where(config, "queue", q->name, "supervisors"), q->name, why);
	}
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if (a->calendar != NULL && sla_calendar(sla, a->calendar) == NULL)
			return errf("%s: [agent %s] calendar: no [hours %s]",
				    where(config, "agent", a->label, "calendar"), a->label,
				    a->calendar);
		if (a->timezone != NULL && tz_get(a->timezone, &why) == NULL)
			return errf("%s: [agent %s] timezone: %s",
				    where(config, "agent", a->label, "timezone"), a->label, why);
		if (a->digest != NULL && strcmp(a->digest, "off") != 0 && !is_hhmm(a->digest))
			return errf("%s: [agent %s] digest: expected HH:MM or off",
				    where(config, "agent", a->label, "digest"), a->label);
	}
	if (!is_hhmm(config->digest.time))
		return errf("%s: [digest] time: expected HH:MM",
			    where(config, "digest", NULL, "time"));
	return NULL;
}

static const char *
policy_build(struct sla *sla, const struct config_sla *c, struct sla_policy *p)
{
	const struct config *config = sla->config;
	p->c = c;
	p->name = c->name;
	p->target[STORE_SLA_FIRST_RESPONSE] = c->first_response;
	p->target[STORE_SLA_NEXT_RESPONSE] = c->next_response;
	p->target[STORE_SLA_RESOLUTION] = c->resolution;
	p->warn_at = (unsigned int)c->warn_at;
	p->repeat = c->repeat;
	if (c->calendar != NULL && (p->calendar = sla_calendar(sla, c->calendar)) == NULL)
		return errf("%s: [sla %s] calendar: no [hours %s]",
			    where(config, "sla", c->name, "calendar"), c->name, c->calendar);
	const char *s, *pr = c->priorities;
	size_t n;
	while (list_next(&pr, &s, &n)) {
		int ok = 0;
		for (size_t i = 0; i < N_ELEMENTS(priorities); i++)
			ok |= strlen(priorities[i]) == n && strncasecmp(priorities[i], s, n) == 0;
		if (!ok)
			return errf("%s: [sla %s] priorities: \"%.*s\" is not low, normal, high or "
				    "urgent",
				    where(config, "sla", c->name, "priorities"), c->name,
				    (int)(n > 32 ? 32 : n), s);
	}
	const char *why = check_people(config, c->supervisors);
	if (why != NULL)
		return errf("%s: [sla %s] supervisors: %s",
			    where(config, "sla", c->name, "supervisors"), c->name, why);
	return NULL;
}

int
sla_new(const struct config *config, struct sla **sla_r, const char **error_r)
{
	struct sla *sla = xcalloc(1, sizeof(*sla));
	const char *why = NULL;
	sla->config = config;
	*sla_r = NULL;

	sla->calendars = xcalloc(config->n_calendars + 1, sizeof(*sla->calendars));
	if ((sla->calendars[0] = calendar_build(config, &config->hours, "default", error_r)) == NULL)
		goto fail;
	sla->n_calendars = 1;
	for (size_t i = 0; i < config->n_calendars; i++) {
		const struct config_hours *c = &config->calendars[i];
		if (strcasecmp(c->name, "default") == 0) {
			*error_r = errf("%s: [hours default]: the name of [hours] itself; choose "
					"another", config->path);
			goto fail;
		}
		if ((sla->calendars[i + 1] = calendar_build(config, c, c->name, error_r)) == NULL)
			goto fail;
		sla->n_calendars++;
	}

	/* the policies in file order, [sla default] last */
	sla->policies = xcalloc(config->n_slas + 1, sizeof(*sla->policies));
	const struct config_sla *dflt = NULL;
	for (size_t i = 0; i < config->n_slas; i++) {
		const struct config_sla *c = &config->slas[i];
		if (strcasecmp(c->name, "default") == 0) {
			dflt = c;
			continue;
		}
		if ((why = policy_build(sla, c, &sla->policies[sla->n_policies++])) != NULL)
			break;
	}
	if (why == NULL && dflt != NULL)
		why = policy_build(sla, dflt, &sla->policies[sla->n_policies++]);
	if (why == NULL && dflt == NULL) {
		struct sla_policy *p = &sla->policies[sla->n_policies++];
		const struct config_hours *h = &config->hours;
		p->name = "default";
		p->first_by_priority[0] = h->target_urgent;
		p->first_by_priority[1] = h->target_high;
		p->first_by_priority[2] = h->target_normal;
		p->first_by_priority[3] = h->target_low;
		p->target[STORE_SLA_FIRST_RESPONSE] = h->target_normal;
		p->warn_at = 75;
		p->repeat = 86400;
	}
	if (why == NULL)
		why = check_references(sla, config);
	if (why != NULL) {
		*error_r = why;
		goto fail;
	}
	*sla_r = sla;
	return 0;
fail:
	sla_free(&sla);
	return -1;
}

void
sla_free(struct sla **slap)
{
	struct sla *sla = *slap;
	if (sla == NULL)
		return;
	for (size_t i = 0; i < sla->n_calendars; i++)
		hours_free(&sla->calendars[i]);
	free(sla->calendars);
	free(sla->policies);
	free(sla);
	*slap = NULL;
}

/* ---- look-ups -------------------------------------------------------------------------- */

const struct hours *
sla_calendar(const struct sla *sla, const char *name)
{
	if (name == NULL || strcasecmp(name, "default") == 0)
		return sla->calendars[0];
	for (size_t i = 1; i < sla->n_calendars; i++)
		if (strcasecmp(hours_name(sla->calendars[i]), name) == 0)
			return sla->calendars[i];
	return NULL;
}

size_t
sla_calendar_count(const struct sla *sla)
{
	return sla->n_calendars;
}

const struct hours *
sla_calendar_at(const struct sla *sla, size_t i)
{
	return i < sla->n_calendars ? sla->calendars[i] : NULL;
}

size_t
sla_policy_count(const struct sla *sla)
{
	return sla->n_policies;
}

const struct sla_policy *
sla_policy_at(const struct sla *sla, size_t i)
{
	return i < sla->n_policies ? &sla->policies[i] : NULL;
}

const struct sla_policy *
sla_policy_find(const struct sla *sla, const char *name)
{
	for (size_t i = 0; name != NULL && i < sla->n_policies; i++)
		if (strcasecmp(sla->policies[i].name, name) == 0)
			return &sla->policies[i];
	return NULL;
}

const char *
sla_policy_name(const struct sla_policy *p)
{
	return p->name;
}

uint64_t
sla_policy_target(const struct sla_policy *p, enum store_sla_target target, const char *priority)
{
	if ((unsigned)target >= SLA_TARGETS)
		return 0;
	if (p->c == NULL && target == STORE_SLA_FIRST_RESPONSE) {
		for (size_t i = 0; priority != NULL && i < N_ELEMENTS(priorities); i++)
			if (strcmp(priority, priorities[i]) == 0)
				return p->first_by_priority[i];
	}
	return p->target[target];
}

unsigned int
sla_policy_warn_at(const struct sla_policy *p)
{
	return p->warn_at;
}

uint64_t
sla_policy_repeat(const struct sla_policy *p)
{
	return p->repeat;
}

const char *
sla_policy_describe(const struct sla_policy *p, char *buf, size_t size)
{
	struct buf b;
	buf_init(&b, size > 0 ? size - 1 : 0);
	if (p->c == NULL) {
		snprintf(buf, size, "every ticket ([hours] targets by priority)");
		buf_free(&b);
		return buf;
	}
	const struct {
		const char *what, *list;
	} parts[] = {
		{ "priority", p->c->priorities }, { "category", p->c->categories },
		{ "queue", p->c->queues },	   { "language", p->c->languages },
	};
	for (size_t i = 0; i < N_ELEMENTS(parts); i++)
		if (parts[i].list != NULL && *parts[i].list != '\0')
			(void)buf_printf(&b, "%s%s %s", b.len > 0 ? "; " : "", parts[i].what,
					 parts[i].list);
	if (strcmp(p->c->vip, "any") != 0)
		(void)buf_printf(&b, "%s%s", b.len > 0 ? "; " : "",
				 strcmp(p->c->vip, "yes") == 0 ? "VIP" : "not VIP");
	snprintf(buf, size, "%s", b.len > 0 ? buf_cstr(&b) : "every ticket");
	buf_free(&b);
	return buf;
}

int
sla_ticket_vip(const struct sla *sla, const struct store_ticket *t)
{
	const struct config *config = sla->config;
	for (size_t i = 0; t->queue != NULL && i < config->n_queues; i++)
		if (config->queues[i].vip && strcasecmp(config->queues[i].name, t->queue) == 0)
			return 1;
	const char *addr = t->customer_address, *at;
	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return 0;
	const char *p = config->rules.vip_senders, *s;
	size_t n, dlen = strlen(at + 1);
	while (list_next(&p, &s, &n)) {
		if (memchr(s, '@', n) != NULL) {
			if (strlen(addr) == n && strncasecmp(addr, s, n) == 0)
				return 1;
		} else if (dlen >= n && strncasecmp(at + 1 + dlen - n, s, n) == 0 &&
			   (dlen == n || at[dlen - n] == '.')) {
			return 1; /* the domain, or a subdomain */
		}
	}
	return 0;
}

const struct sla_policy *
sla_match(const struct sla *sla, const struct store_ticket *t, int vip)
{
	for (size_t i = 0; i < sla->n_policies; i++) {
		const struct sla_policy *p = &sla->policies[i];
		if (p->c == NULL || strcasecmp(p->name, "default") == 0)
			return p;
		if (list_allows(p->c->priorities, t->priority, 0) &&
		    list_allows(p->c->categories, t->category, 0) &&
		    list_allows(p->c->queues, t->queue, 0) &&
		    list_allows(p->c->languages, t->language, 1) &&
		    (strcmp(p->c->vip, "any") == 0 || (strcmp(p->c->vip, "yes") == 0) == (vip != 0)))
			return p;
	}
	return &sla->policies[sla->n_policies - 1];
}

const struct hours *
sla_policy_calendar(const struct sla *sla, const struct sla_policy *p, const char *queue)
{
	if (p != NULL && p->calendar != NULL)
		return p->calendar;
	const struct config *config = sla->config;
	for (size_t i = 0; queue != NULL && i < config->n_queues; i++) {
		if (strcasecmp(config->queues[i].name, queue) == 0 &&
		    config->queues[i].calendar != NULL) {
			const struct hours *h = sla_calendar(sla, config->queues[i].calendar);
			if (h != NULL)
				return h;
		}
	}
	return sla->calendars[0];
}

/* ---- formatting -------------------------------------------------------------------------- */

/* The abbreviated weekday names (CLDR "format/abbreviated") of the ack
   languages (ack_languages[] in gateway/ack.h). A table of 35 names, not
   strftime_l(): the C library's names come only with generated locales,
   which a gateway host cannot be assumed to have (Debian's "locales" is
   optional), and a mail must read the same on every host. */
static const struct {
	const char *language; /* a prefix: "fr" is also "fr-CA" */
	const char *names[7];
} weekdays[] = {
	{ "zh-TW", { "週日", "週一", "週二", "週三", "週四", "週五", "週六" } },
	{ "zh-HK", { "週日", "週一", "週二", "週三", "週四", "週五", "週六" } },
	{ "zh-Hant", { "週日", "週一", "週二", "週三", "週四", "週五", "週六" } },
	{ "zh", { "周日", "周一", "周二", "周三", "周四", "周五", "周六" } },
	{ "fr", { "dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam." } },
	{ "de", { "So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa." } },
	{ "en", { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" } },
};

/* The weekday names of language (a BCP 47 tag; a prefix match on its
   subtags), English when it is none of the table's. */
static const char *const *
weekday_names(const char *language)
{
	for (size_t i = 0; language != NULL && i < N_ELEMENTS(weekdays); i++) {
		size_t n = strlen(weekdays[i].language);
		if (strncasecmp(language, weekdays[i].language, n) == 0 &&
		    (language[n] == '\0' || language[n] == '-' || language[n] == '_'))
			return weekdays[i].names;
	}
	return weekdays[N_ELEMENTS(weekdays) - 1].names;
}

const char *
sla_format_time_in(const struct hours *calendar, int64_t t, const char *language, char *buf,
		   size_t size)
{
	struct tzif_tm tm;
	char off[16];
	tzif_localtime(hours_zone(calendar), t, &tm);
	snprintf(buf, size, "%s %04d-%02d-%02d %02d:%02d %s (%s)", weekday_names(language)[tm.wday],
		 tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.abbr,
		 tz_offset_string(tm.utoff, off, sizeof(off)));
	return buf;
}

const char *
sla_format_time(const struct hours *calendar, int64_t t, char *buf, size_t size)
{
	return sla_format_time_in(calendar, t, "en", buf, size);
}

const char *
sla_format_duration(int64_t seconds, char *buf, size_t size)
{
	int64_t s = seconds < 0 ? -seconds : seconds;
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	if (d > 0 && h > 0)
		snprintf(buf, size, "%lldd %lldh", d, h);
	else if (d > 0)
		snprintf(buf, size, "%lldd", d);
	else if (h > 0 && m > 0)
		snprintf(buf, size, "%lldh %lldm", h, m);
	else if (h > 0)
		snprintf(buf, size, "%lldh", h);
	else
		snprintf(buf, size, "%lldm", m > 0 || s == 0 ? m : 1);
	return buf;
}

/* ---- the clocks ---------------------------------------------------------------------------- */

static const char *
iso(int64_t t, char *buf, size_t size)
{
	int y, mo, d;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	clock_civil_from_days(days, &y, &mo, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
	return buf;
}

static int
running(const struct store_sla *row, int i)
{
	return row->start[i] != 0 && row->met[i] == 0;
}

/* Due and warning instants of the running targets. */
static void
compute(const struct sla_policy *p, const struct hours *cal, const char *priority,
	struct store_sla *row)
{
	for (int i = 0; i < SLA_TARGETS; i++) {
		if (!running(row, i))
			continue;
		uint64_t target = sla_policy_target(p, (enum store_sla_target)i, priority);
		const char *ignored;
		if (target == 0 ||
		    hours_due(cal, row->start[i], target + (uint64_t)row->paused[i], &row->due[i],
			      &ignored) < 0 ||
		    hours_due(cal, row->start[i],
			      target * p->warn_at / 100 + (uint64_t)row->paused[i], &row->warn[i],
			      &ignored) < 0) {
			row->due[i] = 0;
			row->warn[i] = 0;
		}
	}
}

static struct sla_note *
note(struct sla_note *notes, size_t *n, const char *kind)
{
	if (*n >= SLA_MAX_NOTES)
		return NULL;
	notes[*n].kind = kind;
	notes[*n].detail[0] = '\0';
	return &notes[(*n)++];
}

/* "first_response_due=... resolution_due=..." of the running targets. */
static void
dues(const struct store_sla *row, char *out, size_t size)
{
	size_t len = strlen(out);
	char t[32];
	for (int i = 0; i < SLA_TARGETS && len < size; i++) {
		if (running(row, i) && row->due[i] > 0) {
			snprintf(out + len, size - len, " %s_due=%s", target_names[i],
				 iso(row->due[i], t, sizeof(t)));
			len = strlen(out);
		}
	}
}

static int
status_waits(const char *status)
{
	return status != NULL && (strcmp(status, "pending") == 0 || strcmp(status, "closed") == 0);
}

/* A clock met at `at`: the business time it ran (without its pauses) and
   whether within its target. */
static void
meet(const struct sla_policy *p, const struct hours *cal, const char *priority,
     struct store_sla *row, int i, int64_t at, struct sla_note *notes, size_t *n)
{
	row->met[i] = at;
	uint64_t ran = hours_between(cal, row->start[i], at);
	ran = ran > (uint64_t)row->paused[i] ? ran - (uint64_t)row->paused[i] : 0;
	struct sla_note *nt = note(notes, n, "sla-met");
	char d[32], a[32];
	if (nt != NULL)
		snprintf(nt->detail, sizeof(nt->detail),
			 "target=%s policy=%s business=%llu target_seconds=%llu due=%s at=%s "
			 "within=%s",
			 target_names[i], row->policy, (unsigned long long)ran,
			 (unsigned long long)sla_policy_target(p, (enum store_sla_target)i, priority),
			 row->due[i] > 0 ? iso(row->due[i], d, sizeof(d)) : "-", iso(at, a, sizeof(a)),
			 row->due[i] == 0 || at <= row->due[i] ? "yes" : "no");
}

size_t
sla_sync(const struct sla *sla, const struct store_ticket *t, struct store_sla *row,
	 const struct sla_happening *what, int64_t now, struct sla_note *notes)
{
	static const struct sla_happening nothing;
	size_t n = 0;
	int vip = sla_ticket_vip(sla, t);
	char basis[512];
	snprintf(basis, sizeof(basis), "%s|%s|%s|%d", t->priority != NULL ? t->priority : "",
		 t->category != NULL ? t->category : "", t->queue != NULL ? t->queue : "", vip);
	if (what == NULL)
		what = &nothing;

	const struct sla_policy *p = sla_policy_find(sla, row->policy);
	const struct hours *cal = sla_calendar(sla, row->calendar);
	if (row->ticket_id == 0 || p == NULL || cal == NULL ||
	    strcmp(row->basis != NULL ? row->basis : "", basis) != 0) {
		/* new, or matched from fields that changed (or a policy that is
		   gone from the configuration) */
		const char *old = row->policy != NULL ? xstrdup(row->policy) : NULL;
		const char *old_basis = row->basis != NULL ? xstrdup(row->basis) : NULL;
		int is_new = row->ticket_id == 0;
		p = sla_match(sla, t, vip);
		cal = sla_policy_calendar(sla, p, t->queue);
		row->ticket_id = t->id;
		row->vip = vip;
		store_string_replace(&row->policy, p->name);
		store_string_replace(&row->calendar, hours_name(cal));
		store_string_replace(&row->basis, basis);
		if (is_new) {
			row->start[STORE_SLA_FIRST_RESPONSE] = t->created_at;
			row->start[STORE_SLA_RESOLUTION] = t->created_at;
			store_string_replace(&row->status, t->status);
			if (status_waits(t->status))
				row->paused_at = now;
		}
		compute(p, cal, t->priority, row);
		struct sla_note *nt = note(notes, &n, "sla");
		if (nt != NULL) {
			if (is_new)
				snprintf(nt->detail, sizeof(nt->detail), "policy=%s calendar=%s vip=%d "
					 "(new ticket)", p->name, hours_name(cal), vip);
			else
				snprintf(nt->detail, sizeof(nt->detail),
					 "policy=%s calendar=%s vip=%d (was %.64s; %.150s -> %.150s%s%.64s)",
					 p->name,
					 hours_name(cal), vip, old != NULL ? old : "-",
					 old_basis != NULL ? old_basis : "-", basis,
					 what->why != NULL ? ", " : "", what->why != NULL ? what->why : "");
			dues(row, nt->detail, sizeof(nt->detail));
		}
		free((char *)old);
		free((char *)old_basis);
	}

	/* an answer relayed while the clocks ran meets the first response,
	   else the next one */
	if (what->agent_answer != 0 && row->paused_at == 0) {
		if (running(row, STORE_SLA_FIRST_RESPONSE))
			meet(p, cal, t->priority, row, STORE_SLA_FIRST_RESPONSE, what->agent_answer,
			     notes, &n);
		else if (running(row, STORE_SLA_NEXT_RESPONSE))
			meet(p, cal, t->priority, row, STORE_SLA_NEXT_RESPONSE, what->agent_answer,
			     notes, &n);
	}

	/* waiting on the customer, closed, or open again */
	int was_waiting = row->paused_at != 0;
	int waits = status_waits(t->status);
	if (!was_waiting && waits) {
		row->paused_at = now;
		struct sla_note *nt = note(notes, &n, "sla-paused");
		if (nt != NULL)
			snprintf(nt->detail, sizeof(nt->detail), "status=%s", t->status);
	} else if (was_waiting && !waits) {
		int64_t pause = (int64_t)hours_between(cal, row->paused_at, now);
		int64_t wall = now - row->paused_at;
		for (int i = 0; i < SLA_TARGETS; i++) {
			/* closing met the resolution: reopening restarts it */
			if (i == STORE_SLA_RESOLUTION && row->met[i] != 0 &&
			    strcmp(row->status != NULL ? row->status : "", "closed") == 0)
				row->met[i] = 0;
			/* a target already late when the ticket paused stays
			   late: the pause does not move it */
			if (running(row, i) && (row->due[i] == 0 || row->due[i] > row->paused_at))
				row->paused[i] += pause;
		}
		row->paused_at = 0;
		compute(p, cal, t->priority, row);
		struct sla_note *nt = note(notes, &n, "sla-resumed");
		char d[32];
		if (nt != NULL) {
			snprintf(nt->detail, sizeof(nt->detail), "status=%s paused_business=%lld "
				 "paused_wall=%s", t->status, (long long)pause,
				 sla_format_duration(wall, d, sizeof(d)));
			dues(row, nt->detail, sizeof(nt->detail));
		}
	}
	if (strcmp(t->status, "closed") == 0 && running(row, STORE_SLA_RESOLUTION) &&
	    strcmp(row->status != NULL ? row->status : "", "closed") != 0)
		meet(p, cal, t->priority, row, STORE_SLA_RESOLUTION, now, notes, &n);
	if (row->status == NULL || strcmp(row->status, t->status) != 0)
		store_string_replace(&row->status, t->status);

	/* a customer's mail while nothing waits on us starts the next
	   response (once the first one is done) */
	if (what->customer_mail != 0 && row->paused_at == 0 &&
	    row->met[STORE_SLA_FIRST_RESPONSE] != 0 && !running(row, STORE_SLA_NEXT_RESPONSE) &&
	    sla_policy_target(p, STORE_SLA_NEXT_RESPONSE, t->priority) > 0) {
		row->start[STORE_SLA_NEXT_RESPONSE] = what->customer_mail;
		row->met[STORE_SLA_NEXT_RESPONSE] = 0;
		row->paused[STORE_SLA_NEXT_RESPONSE] = 0;
		compute(p, cal, t->priority, row);
		struct sla_note *nt = note(notes, &n, "sla");
		char d[32];
		if (nt != NULL)
			snprintf(nt->detail, sizeof(nt->detail),
				 "next_response started (customer mail) next_response_due=%s",
				 row->due[STORE_SLA_NEXT_RESPONSE] > 0
					 ? iso(row->due[STORE_SLA_NEXT_RESPONSE], d, sizeof(d))
					 : "-");
	}
	return n;
}

int64_t
sla_next_check(const struct sla *sla, const struct store_sla *row, int64_t now)
{
	if (row->paused_at != 0)
		return 0;
	const struct sla_policy *p = sla_policy_find(sla, row->policy);
	uint64_t repeat = p != NULL ? p->repeat : 0;
	int64_t best = 0;
	for (int i = 0; i < SLA_TARGETS; i++) {
		if (!running(row, i) || row->due[i] == 0)
			continue;
		int64_t c;
		if (row->warn[i] > now)
			c = row->warn[i];
		else if (row->due[i] > now)
			c = row->due[i];
		else if (repeat > 0)
			c = row->due[i] + ((now - row->due[i]) / (int64_t)repeat + 1) * (int64_t)repeat;
		else
			continue;
		if (best == 0 || c < best)
			best = c;
	}
	return best;
}

int
sla_sync_store(const struct sla *sla, struct store *store, int64_t ticket_id,
	       const struct sla_happening *what, int64_t now, const char **error_r)
{
	struct store_ticket *t = NULL;
	struct store_sla *row = NULL;
	struct sla_note notes[SLA_MAX_NOTES];
	int ret = store_ticket_get(store, ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			*error_r = errf("sla: no ticket %lld", (long long)ticket_id);
			ret = STORE_DATA_BAD;
		}
		return ret;
	}
	if ((ret = store_sla_get(store, ticket_id, &row, error_r)) < 0)
		goto out;
	if (row == NULL)
		row = xcalloc(1, sizeof(*row));
	int is_new = row->ticket_id == 0;
	size_t n = sla_sync(sla, t, row, what, now, notes);
	if (n > 0 || is_new) {
		row->updated_at = now;
		if ((ret = store_sla_put(store, row, error_r)) < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((ret = store_event_add(store, ticket_id, notes[i].kind, notes[i].detail,
					   error_r)) < 0)
			goto out;
	/* the promised first response, as the acknowledgement states it */
	int64_t first = row->due[STORE_SLA_FIRST_RESPONSE];
	if (first > 0 && t->due_at != first &&
	    (ret = store_ticket_set_time(store, ticket_id, "due_at", first, error_r)) < 0)
		goto out;
	int64_t next = sla_next_check(sla, row, now);
	ret = next > 0 ? store_timer_set(store, SLA_TIMER, ticket_id, NULL, next, error_r)
		       : store_timer_cancel(store, SLA_TIMER, ticket_id, NULL, error_r);
out:
	store_sla_free(&row);
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

const char *
sla_target_state(const struct store_sla *row, enum store_sla_target target, int64_t now)
{
	int64_t due = row->due[target];
	if (due == 0)
		return "none";
	if (row->met[target] != 0)
		return row->met[target] > due ? "met-late" : "met";
	if (row->start[target] == 0)
		return "idle";
	if (row->paused_at != 0)
		return "paused";
	if (now >= due)
		return "breached";
	if (row->warn[target] != 0 && now >= row->warn[target])
		return "at-risk";
	return "running";
}

const char *
sla_ticket_state(const struct store_sla *row, int64_t now)
{
	/* worst first */
	static const char *const order[] = { "breached", "at-risk", "paused", "running",
					     "met-late", "met", "idle", "none" };
	size_t best = N_ELEMENTS(order);
	if (row == NULL || row->ticket_id == 0)
		return "-";
	for (int i = 0; i < SLA_TARGETS; i++) {
		const char *st = sla_target_state(row, (enum store_sla_target)i, now);
		for (size_t k = 0; k < best; k++)
			if (strcmp(order[k], st) == 0)
				best = k;
	}
	return best < N_ELEMENTS(order) ? order[best] : "-";
}
