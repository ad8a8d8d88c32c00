/*
 * mime-header: the top-level header block. Every field decoded (RFC 2047)
 * for msg->headers; addresses from the raw values by addr.c (RFC 5322,
 * never glued, never decoded first); message ids, the date and the return
 * path from libetpan's typed parse, with lenient fallbacks for what it
 * refuses. The date-to-epoch conversion is a few
 * lines of calendar arithmetic (no libc function converts a broken-down
 * time with an arbitrary zone offset without touching TZ).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/addr.h"
#include "parsers/mime-int.h"

/* ------------------------------------------------------------------ */
/* Header fields                                                       */

char *
mime_decode_phrase(const char *s)
{
	if (s == NULL)
		return NULL;
	char *d = mime_words_decode(s, HEADER_VALUE_MAX);
	str_trim(d);
	if (*d == '\0') {
		free(d);
		return NULL;
	}
	return d;
}

/* The entries of the raw address list value into l: a group's name as an
   entry with address NULL (name "" when it has none), then its members;
   a malformed element as its recovered address (or its name alone). */
static size_t
addresses_parse(struct ctx *ctx, const char *field, const char *value,
		struct mime_address_list *l)
{
	struct addr_list al = { NULL, 0 };
	size_t bad = addr_list_parse(value, strlen(value), &al);
	if (bad > 0)
		mime_warn(ctx, "%s: malformed address list, read as mail clients do", field);
	if (al.count > 0)
		l->items = xreallocarray(l->items, l->count + al.count, sizeof(*l->items));
	for (size_t i = 0; i < al.count; i++) {
		struct mime_address *a = &l->items[l->count++];
		a->name = mime_decode_phrase(al.items[i].phrase);
		if (al.items[i].group && a->name == NULL)
			a->name = xstrdup("");
		/* canonical specs are valid UTF-8 without controls already */
		a->address = al.items[i].spec;
		al.items[i].spec = NULL;
		a->recovered = al.items[i].recovered;
	}
	addr_list_clear(&al);
	return bad;
}

/* The first mailbox of a mailbox-list field (From, Sender): the first
   entry with an address, else the first name of a malformed element;
   recovered when the field was malformed and gave no address. */
static void
mailbox_parse(struct ctx *ctx, const char *field, const char *value, struct mime_address *a)
{
	struct mime_address_list l = { NULL, 0 };
	size_t bad = addresses_parse(ctx, field, value, &l);
	size_t pick = l.count;
	for (size_t i = 0; i < l.count && pick == l.count; i++)
		if (l.items[i].address != NULL)
			pick = i;
	for (size_t i = 0; i < l.count && pick == l.count; i++)
		if (l.items[i].name != NULL && l.items[i].recovered)
			pick = i;
	for (size_t i = 0; i < l.count; i++) {
		if (i == pick) {
			*a = l.items[i];
			continue;
		}
		free(l.items[i].name);
		free(l.items[i].address);
	}
	free(l.items);
	if (a->address == NULL && bad > 0)
		a->recovered = 1;
}

/*
 * Lenient reading of a Return-Path that libetpan refused: "<addr>" anywhere
 * (the text before it is the name), else the first word with an '@'. Only
 * the robot and null-sender checks read the return path, so it is kept as
 * written ("MAILER-DAEMON" without a domain included).
 */
static void
address_lenient(const char *s, size_t len, char **name_r, char **addr_r)
{
	char *v = xstrndup(s, len);
	char *lt = strchr(v, '<');
	char *gt = lt != NULL ? strchr(lt, '>') : NULL;
	*name_r = *addr_r = NULL;
	if (lt != NULL && gt != NULL) {
		*gt = '\0';
		*lt = '\0';
		*addr_r = mime_msgid_clean(lt + 1);
		str_trim(v);
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			memmove(v, v + 1, n - 1);
		}
		*name_r = mime_decode_phrase(v);
	} else {
		const char *seps = " \t\r\n,;";
		for (char *w = v; *w != '\0';) {
			size_t wl = strcspn(w, seps);
			if (wl > 0 && memchr(w, '@', wl) != NULL) {
				char *word = xstrndup(w, wl);
				*addr_r = mime_msgid_clean(word);
				free(word);
				break;
			}
			w += wl;
			w += strspn(w, seps);
		}
	}
	free(v);
}

/* Every "<...>" in s (or, with none, every word with an '@'). */
static void
msgid_list_lenient(const char *s, char ***ids_r, size_t *n_r)
{
	const char *p = s;
	int any = 0;
	while ((p = strchr(p, '<')) != NULL) {
		const char *gt = strchr(p, '>');
		if (gt == NULL)
			break;
		char *tmp = xstrndup(p, (size_t)(gt - p + 1));
		char *id = mime_msgid_clean(tmp);
		free(tmp);
		if (id != NULL) {
			*ids_r = xreallocarray(*ids_r, *n_r + 1, sizeof(**ids_r));
			(*ids_r)[(*n_r)++] = id;
			any = 1;
		}
		p = gt + 1;
	}
	if (any)
		return;
	const char *seps = " \t\r\n,";
	for (p = s; *p != '\0';) {
		size_t wl = strcspn(p, seps);
		if (wl > 0 && memchr(p, '@', wl) != NULL) {
			char *tmp = xstrndup(p, wl);
			char *id = mime_msgid_clean(tmp);
			free(tmp);
			if (id != NULL) {
				*ids_r = xreallocarray(*ids_r, *n_r + 1, sizeof(**ids_r));
				(*ids_r)[(*n_r)++] = id;
			}
		}
		p += wl;
		p += strspn(p, seps);
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
   days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
date_to_epoch(const struct mailimf_date_time *dt, int64_t *epoch_r)
{
	int64_t year = dt->dt_year;
	if (year >= 0 && year < 50)
		year += 2000;
	else if (year >= 50 && year < 1000)
		year += 1900;
	if (year < 1900 || year > 9999 || dt->dt_month < 1 || dt->dt_month > 12 || dt->dt_day < 1 ||
	    dt->dt_day > 31 || dt->dt_hour < 0 || dt->dt_hour > 23 || dt->dt_min < 0 ||
	    dt->dt_min > 59 || dt->dt_sec < 0 || dt->dt_sec > 60 || dt->dt_zone < -9959 ||
	    dt->dt_zone > 9959)
		return -1;
	int zone = dt->dt_zone < 0 ? -dt->dt_zone : dt->dt_zone;
	int64_t offset = (int64_t)(zone / 100) * 3600 + (int64_t)(zone % 100) * 60;
	if (dt->dt_zone < 0)
		offset = -offset;
	*epoch_r = days_from_civil(year, dt->dt_month, dt->dt_day) * 86400 +
		   (int64_t)dt->dt_hour * 3600 + (int64_t)dt->dt_min * 60 + dt->dt_sec - offset;
	return 0;
}

static void
headers_add(struct ctx *ctx, const char *name, const char *raw_value)
{
	struct mime_message *msg = ctx->msg;
	if (msg->n_headers == ctx->cap_headers) {
		ctx->cap_headers = ctx->cap_headers ? ctx->cap_headers * 2 : 16;
		msg->headers = xreallocarray(msg->headers, ctx->cap_headers, sizeof(*msg->headers));
	}
	struct mime_header *h = &msg->headers[msg->n_headers++];
	h->name = mime_strip_controls(name, strlen(name));
	h->value = mime_words_decode(raw_value, HEADER_VALUE_MAX);
	str_trim(h->value);
}

/* The decoded subject. A fold (CR LF and the white space after it) counts
   as one space: Outlook indents continuation lines, which would otherwise
   put runs of spaces into the subject. */
static char *
subject_decode(const char *raw)
{
	if (raw == NULL)
		return xstrdup("");
	char *v = xstrdup(raw);
	size_t w = 0;
	for (size_t r = 0; v[r] != '\0';) {
		size_t k = r;
		if (v[k] == '\r')
			k++;
		if (v[k] == '\n' && (v[k + 1] == ' ' || v[k + 1] == '\t')) {
			k++;
			while (v[k] == ' ' || v[k] == '\t')
				k++;
			while (w > 0 && (v[w - 1] == ' ' || v[w - 1] == '\t'))
				w--;
			v[w++] = ' ';
			r = k;
			continue;
		}
		v[w++] = v[r++];
	}
	v[w] = '\0';
	char *d = mime_words_decode(v, HEADER_VALUE_MAX);
	free(v);
	str_trim(d);
	return d;
}

/* The top-level header block raw[0..len): the decoded list, then the
   structured fields from libetpan's typed parse, with lenient fallbacks
   for the ones it could not parse. */
void
mime_parse_headers(struct ctx *ctx, const char *raw, size_t len)
{
	struct mime_message *msg = ctx->msg;
	struct mailimf_fields *opt = NULL, *typed = NULL;
	size_t idx = 0;

	/* the first of each field, raw: addresses are read before any RFC
	   2047 decoding, so that an encoded word is never an address */
	static const char *const raw_names[] = { "Subject", "From", "Sender", "Reply-To", "To",
						 "Cc" };
	char *raw_values[N_ELEMENTS(raw_names)] = { NULL };
	if (mailimf_optional_fields_parse(raw, len, &idx, &opt) == MAILIMF_NO_ERROR) {
		for (clistiter *it = clist_begin(opt->fld_list); it != NULL; it = clist_next(it)) {
			struct mailimf_field *f = clist_content(it);
			if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD)
				continue;
			struct mailimf_optional_field *of = f->fld_data.fld_optional_field;
			headers_add(ctx, of->fld_name, of->fld_value);
			for (size_t i = 0; i < N_ELEMENTS(raw_names); i++)
				if (raw_values[i] == NULL && strcasecmp(of->fld_name, raw_names[i]) == 0)
					raw_values[i] = xstrdup(of->fld_value);
		}
		mailimf_fields_free(opt);
	}
	msg->subject = subject_decode(raw_values[0]);
	if (raw_values[1] != NULL)
		mailbox_parse(ctx, "From", raw_values[1], &msg->from);
	if (raw_values[2] != NULL)
		mailbox_parse(ctx, "Sender", raw_values[2], &msg->sender);
	struct mime_address_list *lists[] = { &msg->reply_to, &msg->to, &msg->cc };
	for (size_t i = 0; i < N_ELEMENTS(lists); i++)
		if (raw_values[i + 3] != NULL)
			addresses_parse(ctx, raw_names[i + 3], raw_values[i + 3], lists[i]);
	for (size_t i = 0; i < N_ELEMENTS(raw_names); i++)
		free(raw_values[i]);
	const char *lang = mime_header_get(msg, "Content-Language");
	msg->content_language = lang != NULL && *lang != '\0' ? xstrdup(lang) : NULL;

	int have_msgid = 0, have_irt = 0, have_refs = 0, have_date = 0, have_rp = 0;
	idx = 0;
	if (mailimf_envelope_and_optional_fields_parse(raw, len, &idx, &typed) != MAILIMF_NO_ERROR)
		typed = NULL;
	for (clistiter *it = typed != NULL ? clist_begin(typed->fld_list) : NULL; it != NULL;
	     it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		switch (f->fld_type) {
		case MAILIMF_FIELD_MESSAGE_ID:
			if (!have_msgid++)
				msg->message_id = mime_msgid_clean(f->fld_data.fld_message_id->mid_value);
			break;
		case MAILIMF_FIELD_IN_REPLY_TO:
			if (!have_irt++) {
				clist *l = f->fld_data.fld_in_reply_to->mid_list;
				if (clist_begin(l) != NULL)
					msg->in_reply_to = mime_msgid_clean(clist_content(clist_begin(l)));
			}
			break;
		case MAILIMF_FIELD_REFERENCES:
			if (!have_refs++) {
				clist *l = f->fld_data.fld_references->mid_list;
				for (clistiter *r = clist_begin(l); r != NULL; r = clist_next(r)) {
					char *id = mime_msgid_clean(clist_content(r));
					if (id == NULL)
						continue;
					msg->references = xreallocarray(msg->references, msg->n_references + 1,
									sizeof(*msg->references));
					msg->references[msg->n_references++] = id;
				}
			}
			break;
		case MAILIMF_FIELD_ORIG_DATE:
			if (!have_date++ && f->fld_data.fld_orig_date->dt_date_time != NULL &&
			    date_to_epoch(f->fld_data.fld_orig_date->dt_date_time, &msg->date) == 0) {
				int z = f->fld_data.fld_orig_date->dt_date_time->dt_zone;
				int a = z < 0 ? -z : z;
				msg->has_date = 1;
				msg->date_utoff = (z < 0 ? -1 : 1) * ((a / 100) * 3600 + (a % 100) * 60);
			}
			break;
		case MAILIMF_FIELD_RETURN_PATH:
			if (!have_rp++) {
				const char *a = f->fld_data.fld_return_path->ret_path != NULL
							? f->fld_data.fld_return_path->ret_path->pt_addr_spec
							: NULL;
				msg->return_path = a != NULL ? mime_strip_controls(a, strlen(a)) : xstrdup("");
			}
			break;
		default:
			break;
		}
	}
	if (typed != NULL)
		mailimf_fields_free(typed);

	/* Fields present but refused by the typed parser: read them leniently
	   from the raw values. */
	for (size_t i = 0; i < msg->n_headers; i++) {
		const char *n = msg->headers[i].name, *v = msg->headers[i].value;
		if (!have_msgid && strcasecmp(n, "Message-ID") == 0) {
			have_msgid = 1;
			char **ids = NULL;
			size_t n_ids = 0;
			msgid_list_lenient(v, &ids, &n_ids);
			msg->message_id = n_ids > 0 ? ids[0] : mime_msgid_clean(v);
			for (size_t k = 1; k < n_ids; k++)
				free(ids[k]);
			free(ids);
		} else if (!have_irt && strcasecmp(n, "In-Reply-To") == 0) {
			have_irt = 1;
			char **ids = NULL;
			size_t n_ids = 0;
			msgid_list_lenient(v, &ids, &n_ids);
			msg->in_reply_to = n_ids > 0 ? ids[0] : NULL;
			for (size_t k = 1; k < n_ids; k++)
				free(ids[k]);
			free(ids);
		} else if (!have_refs && strcasecmp(n, "References") == 0) {
			have_refs = 1;
			msgid_list_lenient(v, &msg->references, &msg->n_references);
		} else if (!have_rp && strcasecmp(n, "Return-Path") == 0) {
			have_rp = 1;
			char *name, *addr;
			address_lenient(v, strlen(v), &name, &addr);
			free(name);
			msg->return_path = addr != NULL ? addr : xstrdup("");
		}
	}
}

