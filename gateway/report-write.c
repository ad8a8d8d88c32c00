/*
 * report-write: a report as text for a terminal, as JSON (the schema in
 * docs/reports.md) and as CSV (one row per group, the totals first).
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/hours.h"
#include "gateway/jsonout.h"
#include "gateway/report.h"
#include "gateway/sla.h"
#include "parsers/csv.h"
#include "base/util.h"

static const char *
day_time(const struct report *r, int64_t t, char *buf, size_t size)
{
	struct tm tm;
	hours_localtime(r->opt.hours, t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

static void
text_figures(const struct report_figures *f, FILE *out)
{
	char a[32], b[32], c[32], d[32];
	fprintf(out, "Volume\n  new tickets        %lld\n  customer messages  %lld\n"
		     "  agent replies      %lld\n  reopened           %lld\n  solved             %lld\n",
		(long long)f->new_tickets, (long long)f->customer_messages,
		(long long)f->agent_replies, (long long)f->reopened, (long long)f->solved);
	fprintf(out, "First response (wall time): %lld answered, %lld not yet\n"
		     "  median %s, p90 %s\n",
		(long long)f->first_response.count, (long long)f->unanswered,
		report_duration(a, sizeof(a), f->first_response.count, f->first_response.median),
		report_duration(b, sizeof(b), f->first_response.count, f->first_response.p90));
	fprintf(out, "  promise kept %s (%lld kept, %lld broken, %lld running)\n",
		report_percent(c, sizeof(c), 1, report_sla_share(f)), (long long)f->sla_met,
		(long long)f->sla_breached, (long long)f->sla_pending);
	fprintf(out, "Resolution (wall time): %lld solved\n  median %s, p90 %s\n",
		(long long)f->resolution.count,
		report_duration(a, sizeof(a), f->resolution.count, f->resolution.median),
		report_duration(b, sizeof(b), f->resolution.count, f->resolution.p90));
	fprintf(out, "Business time (the SLA calendar, else [hours]): first response median %s, "
		     "p90 %s; resolution median %s, p90 %s\n",
		report_duration(a, sizeof(a), f->first_response_business.count,
				f->first_response_business.median),
		report_duration(b, sizeof(b), f->first_response_business.count,
				f->first_response_business.p90),
		report_duration(c, sizeof(c), f->resolution_business.count,
				f->resolution_business.median),
		report_duration(d, sizeof(d), f->resolution_business.count,
				f->resolution_business.p90));
	fprintf(out, "SLA targets:\n");
	for (int k = 0; k < REPORT_SLA_TARGETS; k++)
		fprintf(out, "  %-15s met %s (%lld met, %lld breached, %lld running)\n",
			sla_target_name((enum store_sla_target)k),
			report_percent(a, sizeof(a), 1, report_target_share(f, k)),
			(long long)f->target_met[k], (long long)f->target_breached[k],
			(long long)f->target_running[k]);
	fprintf(out, "Satisfaction: %lld surveys, %lld votes (%s), CSAT %s\n",
		(long long)f->surveys_sent, (long long)f->votes,
		report_percent(a, sizeof(a), 1,
			f->surveys_sent > 0 ? 100.0 * (double)f->votes / (double)f->surveys_sent
					    : -1),
		report_percent(b, sizeof(b), 1, report_csat(f)));
	fprintf(out, "  scores 1..5: %lld %lld %lld %lld %lld\n", (long long)f->scores[1],
		(long long)f->scores[2], (long long)f->scores[3], (long long)f->scores[4],
		(long long)f->scores[5]);
}

int
report_write_text(const struct report *r, FILE *out)
{
	char a[32], b[32], c[32], d[32];
	fprintf(out, "deskgate report %s .. %s (%s)\n\n", day_time(r, r->opt.since, a, sizeof(a)),
		day_time(r, r->opt.until, b, sizeof(b)), hours_timezone(r->opt.hours));
	text_figures(&r->total, out);

	fprintf(out, "\nBacklog (open at the end of each day) and new tickets\n");
	for (size_t i = 0; i < r->n_days; i++)
		fprintf(out, "  %s  %6lld open  %6lld new\n", r->day_key[i],
			(long long)r->day_backlog[i], (long long)r->day_created[i]);

	fprintf(out, "\nOldest open tickets\n");
	for (size_t i = 0; i < r->n_oldest; i++)
		fprintf(out, "  #%-6lld %s  %-8s %-12s %s\n", (long long)r->oldest[i].id,
			day_time(r, r->oldest[i].created_at, a, sizeof(a)), r->oldest[i].status,
			*r->oldest[i].queue != '\0' ? r->oldest[i].queue : "-", r->oldest[i].subject);

	fprintf(out, "\nNew tickets by weekday and hour (%s)\n     ", hours_timezone(r->opt.hours));
	for (int h = 0; h < 24; h++)
		fprintf(out, "%4d", h);
	static const char *const wd[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	for (int w = 0; w < 7; w++) {
		fprintf(out, "\n  %s", wd[w]);
		for (int h = 0; h < 24; h++)
			fprintf(out, "%4lld", (long long)r->heatmap[w][h]);
	}

	fprintf(out, "\n\nRules that fired\n");
	for (size_t i = 0; i < r->n_rules; i++)
		fprintf(out, "  %-32s %6lld hits %6lld tickets\n", r->rules[i].rule,
			(long long)r->rules[i].hits, (long long)r->rules[i].tickets);
	fprintf(out, "\nCategories the rules chose, and agents' changes\n");
	for (size_t i = 0; i < r->n_categories; i++) {
		const struct report_category *k = &r->categories[i];
		fprintf(out, "  %-24s %6lld tickets %6lld changed (%s)\n", k->category,
			(long long)k->tickets, (long long)k->changed,
			report_percent(a, sizeof(a), 1, 100.0 * (double)k->changed / (double)k->tickets));
	}
	if (r->n_comments > 0)
		fprintf(out, "\nComments\n");
	for (size_t i = 0; i < r->n_comments; i++)
		fprintf(out, "  #%lld  %d/5  %s\n", (long long)r->comments[i].ticket_id,
			r->comments[i].score, r->comments[i].comment);

	if (r->n_groups > 0) {
		fprintf(out, "\nBy %s\n  %-24s %6s %6s %6s %6s %6s %10s %10s %10s %7s %7s\n",
			report_by_name(r->opt.by), "", "new", "in", "agent", "reopen", "solved",
			"1st median", "1st p90", "res median", "kept", "CSAT");
		for (size_t i = 0; i < r->n_groups; i++) {
			const struct report_figures *f = &r->groups[i].f;
			fprintf(out, "  %-24s %6lld %6lld %6lld %6lld %6lld %10s %10s %10s %7s %7s\n",
				r->groups[i].key, (long long)f->new_tickets,
				(long long)f->customer_messages, (long long)f->agent_replies,
				(long long)f->reopened, (long long)f->solved,
				report_duration(a, sizeof(a), f->first_response.count, f->first_response.median),
				report_duration(b, sizeof(b), f->first_response.count, f->first_response.p90),
				report_duration(c, sizeof(c), f->resolution.count, f->resolution.median),
				report_percent(d, sizeof(d), 1, report_sla_share(f)),
				report_percent(a, sizeof(a), 1, report_csat(f)));
		}
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ---- JSON ---------------------------------------------------------------------- */

static struct jsonout *
json_dist(const struct report_dist *d)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_int(o, "count", d->count);
	jsonout_set(o, "median", d->count > 0 ? jsonout_int(d->median) : jsonout_str(NULL));
	jsonout_set(o, "p90", d->count > 0 ? jsonout_int(d->p90) : jsonout_str(NULL));
	return o;
}

static struct jsonout *
json_percent(double p)
{
	return p < 0 ? jsonout_str(NULL) : jsonout_real(p);
}

static struct jsonout *
json_figures(const struct report_figures *f)
{
	struct jsonout *o = jsonout_object();
	jsonout_set_int(o, "new_tickets", f->new_tickets);
	jsonout_set_int(o, "customer_messages", f->customer_messages);
	jsonout_set_int(o, "agent_replies", f->agent_replies);
	jsonout_set_int(o, "reopened", f->reopened);
	jsonout_set_int(o, "solved", f->solved);
	jsonout_set(o, "first_response", json_dist(&f->first_response));
	jsonout_set_int(o, "unanswered", f->unanswered);
	jsonout_set(o, "resolution", json_dist(&f->resolution));
	struct jsonout *sla = jsonout_object();
	jsonout_set_int(sla, "met", f->sla_met);
	jsonout_set_int(sla, "breached", f->sla_breached);
	jsonout_set_int(sla, "pending", f->sla_pending);
	jsonout_set(sla, "share", json_percent(report_sla_share(f)));
	jsonout_set(o, "first_response_promise", sla);
	jsonout_set(o, "first_response_business", json_dist(&f->first_response_business));
	jsonout_set(o, "resolution_business", json_dist(&f->resolution_business));
	struct jsonout *targets = jsonout_object();
	for (int k = 0; k < REPORT_SLA_TARGETS; k++) {
		struct jsonout *t = jsonout_object();
		jsonout_set_int(t, "met", f->target_met[k]);
		jsonout_set_int(t, "breached", f->target_breached[k]);
		jsonout_set_int(t, "running", f->target_running[k]);
		jsonout_set(t, "share", json_percent(report_target_share(f, k)));
		jsonout_set(targets, sla_target_name((enum store_sla_target)k), t);
	}
	jsonout_set(o, "sla", targets);
	struct jsonout *sat = jsonout_object();
	jsonout_set_int(sat, "surveys", f->surveys_sent);
	jsonout_set_int(sat, "votes", f->votes);
	jsonout_set(sat, "response_rate",
		    json_percent(f->surveys_sent > 0
					 ? 100.0 * (double)f->votes / (double)f->surveys_sent
					 : -1));
	jsonout_set(sat, "csat", json_percent(report_csat(f)));
	struct jsonout *scores = jsonout_array();
	for (int s = 1; s <= 5; s++)
		jsonout_append(scores, jsonout_int(f->scores[s]));
	jsonout_set(sat, "scores", scores);
	jsonout_set(o, "satisfaction", sat);
	return o;
}

int
report_write_json(const struct report *r, FILE *out)
{
	struct jsonout *o = jsonout_object();
	struct jsonout *period = jsonout_object();
	jsonout_set_int(period, "since", r->opt.since);
	jsonout_set_int(period, "until", r->opt.until);
	jsonout_set_str(period, "timezone", hours_timezone(r->opt.hours));
	jsonout_set_str(period, "by", report_by_name(r->opt.by));
	jsonout_set(o, "period", period);
	jsonout_set(o, "totals", json_figures(&r->total));

	struct jsonout *groups = jsonout_array();
	for (size_t i = 0; i < r->n_groups; i++) {
		struct jsonout *g = json_figures(&r->groups[i].f);
		jsonout_set_str(g, "key", r->groups[i].key);
		jsonout_append(groups, g);
	}
	jsonout_set(o, "groups", groups);

	struct jsonout *days = jsonout_array();
	for (size_t i = 0; i < r->n_days; i++) {
		struct jsonout *d = jsonout_object();
		jsonout_set_str(d, "day", r->day_key[i]);
		jsonout_set_int(d, "start", r->day_start[i]);
		jsonout_set_int(d, "created", r->day_created[i]);
		jsonout_set_int(d, "backlog", r->day_backlog[i]);
		jsonout_append(days, d);
	}
	jsonout_set(o, "days", days);

	struct jsonout *heat = jsonout_array();
	for (int w = 0; w < 7; w++) {
		struct jsonout *row = jsonout_array();
		for (int h = 0; h < 24; h++)
			jsonout_append(row, jsonout_int(r->heatmap[w][h]));
		jsonout_append(heat, row);
	}
	jsonout_set(o, "heatmap", heat);

	struct jsonout *oldest = jsonout_array();
	for (size_t i = 0; i < r->n_oldest; i++) {
		struct jsonout *t = jsonout_object();
		jsonout_set_int(t, "id", r->oldest[i].id);
		jsonout_set_int(t, "created_at", r->oldest[i].created_at);
		jsonout_set_str(t, "subject", r->oldest[i].subject);
		jsonout_set_str(t, "status", r->oldest[i].status);
		jsonout_set_str(t, "queue", r->oldest[i].queue);
		jsonout_set_str(t, "assignee", r->oldest[i].assignee);
		jsonout_append(oldest, t);
	}
	jsonout_set(o, "oldest_open", oldest);

	struct jsonout *rules = jsonout_array();
	for (size_t i = 0; i < r->n_rules; i++) {
		struct jsonout *h = jsonout_object();
		jsonout_set_str(h, "rule", r->rules[i].rule);
		jsonout_set_int(h, "hits", r->rules[i].hits);
		jsonout_set_int(h, "tickets", r->rules[i].tickets);
		jsonout_append(rules, h);
	}
	jsonout_set(o, "rules", rules);

	struct jsonout *cats = jsonout_array();
	for (size_t i = 0; i < r->n_categories; i++) {
		const struct report_category *k = &r->categories[i];
		struct jsonout *c = jsonout_object();
		jsonout_set_str(c, "category", k->category);
		jsonout_set_int(c, "tickets", k->tickets);
		jsonout_set_int(c, "changed", k->changed);
		jsonout_set_real(c, "precision", k->precision);
		jsonout_set_real(c, "recall", k->recall);
		jsonout_append(cats, c);
	}
	jsonout_set(o, "categories", cats);

	struct jsonout *comments = jsonout_array();
	for (size_t i = 0; i < r->n_comments; i++) {
		struct jsonout *c = jsonout_object();
		jsonout_set_int(c, "ticket", r->comments[i].ticket_id);
		jsonout_set_int(c, "score", r->comments[i].score);
		jsonout_set_str(c, "comment", r->comments[i].comment);
		jsonout_set_str(c, "assignee", r->comments[i].assignee);
		jsonout_set_int(c, "voted_at", r->comments[i].voted_at);
		jsonout_append(comments, c);
	}
	jsonout_set(o, "comments", comments);

	int ret = jsonout_print(o, out);
	jsonout_free(&o);
	fputc('\n', out);
	return ret < 0 || fflush(out) != 0 || ferror(out) ? -1 : 0;
}

/* ---- CSV ----------------------------------------------------------------------- */

static const char *const csv_header[] = {
	"group",	      "new_tickets",	     "customer_messages",
	"agent_replies",      "reopened",	     "solved",
	"first_response_count", "first_response_median_s", "first_response_p90_s",
	"unanswered",	      "resolution_count",    "resolution_median_s",
	"resolution_p90_s",   "promise_met",	     "promise_breached",
	"promise_pending",    "surveys",	     "votes",
	"score_1",	      "score_2",	     "score_3",
	"score_4",	      "score_5",
	"first_response_business_median_s", "first_response_business_p90_s",
	"resolution_business_median_s", "resolution_business_p90_s",
	"sla_first_response_met", "sla_first_response_breached", "sla_first_response_running",
	"sla_next_response_met", "sla_next_response_breached", "sla_next_response_running",
	"sla_resolution_met", "sla_resolution_breached", "sla_resolution_running",
};

static int
csv_row(FILE *out, const char *key, const struct report_figures *f)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	int ret = csv_put_field(&b, key);
	const int64_t v[] = { f->new_tickets,	  f->customer_messages,	 f->agent_replies,
			      f->reopened,	  f->solved,		 f->first_response.count,
			      f->first_response.median, f->first_response.p90, f->unanswered,
			      f->resolution.count, f->resolution.median,	 f->resolution.p90,
			      f->sla_met,	  f->sla_breached,	 f->sla_pending,
			      f->surveys_sent,	  f->votes,		 f->scores[1],
			      f->scores[2],	  f->scores[3],		 f->scores[4],
			      f->scores[5],
			      f->first_response_business.median, f->first_response_business.p90,
			      f->resolution_business.median, f->resolution_business.p90,
			      f->target_met[0], f->target_breached[0], f->target_running[0],
			      f->target_met[1], f->target_breached[1], f->target_running[1],
			      f->target_met[2], f->target_breached[2], f->target_running[2] };
	for (size_t i = 0; ret == 0 && i < N_ELEMENTS(v); i++)
		ret = buf_printf(&b, ",%lld", (long long)v[i]);
	if (ret == 0)
		ret = buf_puts(&b, "\r\n");
	if (ret == 0 && fwrite(buf_cstr(&b), 1, b.len, out) != b.len)
		ret = -1;
	buf_free(&b);
	return ret;
}

int
report_write_csv(const struct report *r, FILE *out)
{
	for (size_t i = 0; i < N_ELEMENTS(csv_header); i++)
		fprintf(out, "%s%s", i > 0 ? "," : "", csv_header[i]);
	fputs("\r\n", out);
	int ret = csv_row(out, "total", &r->total);
	for (size_t i = 0; ret == 0 && i < r->n_groups; i++)
		ret = csv_row(out, r->groups[i].key, &r->groups[i].f);
	return ret < 0 || fflush(out) != 0 || ferror(out) ? -1 : 0;
}
