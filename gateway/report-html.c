/*
 * report-html: a report as one self-contained HTML page: headline figures,
 * a chart of new tickets and backlog per day, a week-by-hour heatmap, the
 * score distribution, and tables. The charts are SVG drawn here (a few
 * rectangles, a polyline and text: no chart library is worth vendoring
 * for that); the page has no script, no external reference, and prints.
 *
 * Every chart is an <svg data-chart="NAME"> whose data points are
 * elements of class "mark" (tests count them): "daily" one bar per day
 * and one point per day of backlog, "heatmap" 168 cells, "scores" 5 bars.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/hours.h"
#include "gateway/report.h"
#include "base/util.h"

/* Text into HTML: the five characters that matter escaped (libxml2 would
   build a tree to serialise one string). */
static void
esc(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char *
local_day(const struct report *r, int64_t t, char *buf, size_t size)
{
	struct tm tm;
	hours_localtime(r->opt.hours, t, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
	return buf;
}

static const char style[] =
	"body{font:15px/1.45 -apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK SC',"
	"sans-serif;color:#1f2937;background:#f3f4f6;margin:0}"
	"main{max-width:1080px;margin:0 auto;padding:28px 32px 40px}"
	"h1{font-size:26px;margin:0 0 2px}h2{font-size:17px;margin:0 0 12px;color:#111827}"
	".sub{color:#6b7280;margin:0 0 22px}"
	".cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-bottom:18px}"
	".card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px #0001}"
	".card .v{font-size:25px;font-weight:650;color:#111827;white-space:nowrap}"
	".card .l{font-size:12.5px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}"
	".card .n{font-size:12.5px;color:#6b7280}"
	".panel{background:#fff;border-radius:10px;padding:18px 20px;margin-bottom:18px;"
	"box-shadow:0 1px 2px #0001}"
	".row{display:grid;grid-template-columns:2fr 1fr;gap:18px}"
	"svg{display:block;width:100%;height:auto}svg text{font-size:11px;fill:#6b7280}"
	"table{border-collapse:collapse;width:100%;font-size:13.5px}"
	"th{text-align:left;color:#6b7280;font-weight:600;border-bottom:1px solid #e5e7eb;"
	"padding:6px 8px}td{padding:6px 8px;border-bottom:1px solid #f3f4f6}"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
	".legend{font-size:12.5px;color:#6b7280}.sw{display:inline-block;width:10px;height:10px;"
	"border-radius:2px;margin:0 4px 0 12px}"
	"@media print{body{background:#fff}.panel,.card{box-shadow:none;border:1px solid #e5e7eb}}"
	/* a mail reader's pane (the weekly report by mail, report-mail.h) */
	"@media (max-width:760px){main{padding:16px 12px}.cards{grid-template-columns:repeat(3,1fr)}"
	".row{grid-template-columns:1fr}.panel{padding:14px 12px;overflow-x:auto}"
	"svg[data-chart=scores]{max-width:340px}}";

static void
card(FILE *out, const char *label, const char *value, const char *note)
{
	fprintf(out, "<div class=\"card\"><div class=\"l\">%s</div><div class=\"v\">%s</div>"
		     "<div class=\"n\">%s</div></div>\n",
		label, value, note);
}

static void
cards(const struct report *r, FILE *out)
{
	const struct report_figures *f = &r->total;
	char v[64], n[96], a[32];
	fputs("<section class=\"cards\">\n", out);
	snprintf(v, sizeof(v), "%lld", (long long)f->new_tickets);
	snprintf(n, sizeof(n), "%lld messages in", (long long)f->customer_messages);
	card(out, "New tickets", v, n);
	report_duration(v, sizeof(v), f->first_response.count, f->first_response.median);
	char bt[32];
	snprintf(n, sizeof(n), "p90 %s &#183; business %s",
		 report_duration(a, sizeof(a), f->first_response.count, f->first_response.p90),
		 report_duration(bt, sizeof(bt), f->first_response_business.count,
				 f->first_response_business.median));
	card(out, "First response", v, n);
	report_duration(v, sizeof(v), f->resolution.count, f->resolution.median);
	snprintf(n, sizeof(n), "p90 %s &#183; business %s",
		 report_duration(a, sizeof(a), f->resolution.count, f->resolution.p90),
		 report_duration(bt, sizeof(bt), f->resolution_business.count,
				 f->resolution_business.median));
	card(out, "Resolution", v, n);
	report_percent(v, sizeof(v), 0, report_sla_share(f));
	snprintf(n, sizeof(n), "%lld late", (long long)f->sla_breached);
	card(out, "Promise kept", v, n);
	report_percent(v, sizeof(v), 0, report_csat(f));
	snprintf(n, sizeof(n), "%lld votes", (long long)f->votes);
	card(out, "CSAT", v, n);
	snprintf(v, sizeof(v), "%lld", r->n_days > 0 ? (long long)r->day_backlog[r->n_days - 1] : 0LL);
	snprintf(n, sizeof(n), "%lld solved", (long long)f->solved);
	card(out, "Open now", v, n);
	fputs("</section>\n", out);
}

static int64_t
max_of(const int64_t *v, size_t n)
{
	int64_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* A round step for an axis up to max: 1, 2, 5, 10, 20, 50... */
static int64_t
axis_step(int64_t max)
{
	int64_t step = 1;
	for (int k = 0; max / step > 5; k++)
		step = k % 3 == 1 ? step * 5 / 2 : step * 2;
	return step;
}

static void
chart_daily(const struct report *r, FILE *out)
{
	const double W = 720, H = 240, L = 40, R = 12, T = 12, B = 28;
	size_t n = r->n_days;
	int64_t m = max_of(r->day_created, n), mb = max_of(r->day_backlog, n);
	if (mb > m)
		m = mb;
	int64_t step = axis_step(m > 0 ? m : 1);
	int64_t top = (m / step + 1) * step;
	double pw = (W - L - R) / (double)(n > 0 ? n : 1), ph = H - T - B;
	fprintf(out, "<svg data-chart=\"daily\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		     "aria-label=\"New tickets and backlog per day\">\n", W, H);
	for (int64_t y = 0; y <= top; y += step) {
		double py = T + ph - ph * (double)y / (double)top;
		fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%lld</text>\n",
			L, W - R, py, py, L - 6, py + 4, (long long)y);
	}
	for (size_t i = 0; i < n; i++) {
		double bh = ph * (double)r->day_created[i] / (double)top;
		double bw = pw * 0.7 > 1 ? pw * 0.7 : 1;
		fprintf(out, "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			     "rx=\"2\" fill=\"#3b82f6\"><title>%s: %lld new</title></rect>\n",
			L + pw * (double)i + (pw - bw) / 2, T + ph - bh, bw, bh, r->day_key[i],
			(long long)r->day_created[i]);
	}
	fputs("<polyline fill=\"none\" stroke=\"#f59e0b\" stroke-width=\"2.5\" points=\"", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%.1f,%.1f ", L + pw * ((double)i + 0.5),
			T + ph - ph * (double)r->day_backlog[i] / (double)top);
	fputs("\"/>\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
			     "fill=\"#f59e0b\"><title>%s: %lld open</title></circle>\n",
			L + pw * ((double)i + 0.5), T + ph - ph * (double)r->day_backlog[i] / (double)top,
			n > 60 ? 1.0 : 3.0, r->day_key[i], (long long)r->day_backlog[i]);
	/* About eight date labels. */
	size_t every = n / 8 + 1;
	for (size_t i = 0; i < n; i += every)
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			L + pw * ((double)i + 0.5), H - 8, r->day_key[i] + 5);
	fputs("</svg>\n<div class=\"legend\"><span class=\"sw\" style=\"background:#3b82f6\">"
	      "</span>new tickets<span class=\"sw\" style=\"background:#f59e0b\"></span>"
	      "open at the end of the day</div>\n",
	      out);
}

static void
chart_heatmap(const struct report *r, FILE *out)
{
	static const char *const wd[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	const double L = 34, T = 4, C = 27, G = 2;
	int64_t m = 0;
	for (int w = 0; w < 7; w++)
		for (int h = 0; h < 24; h++)
			if (r->heatmap[w][h] > m)
				m = r->heatmap[w][h];
	fprintf(out, "<svg data-chart=\"heatmap\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		     "aria-label=\"New tickets by weekday and hour\">\n",
		L + 24 * C + 4, T + 7 * C + 20);
	for (int w = 0; w < 7; w++) {
		fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6,
			T + w * C + C / 2 + 4, wd[w]);
		for (int h = 0; h < 24; h++) {
			double k = m > 0 ? (double)r->heatmap[w][h] / (double)m : 0;
			/* from #eff6ff to #1d4ed8 */
			int cr = (int)(239 - k * (239 - 29)), cg = (int)(246 - k * (246 - 78)),
			    cb = (int)(255 - k * (255 - 216));
			fprintf(out, "<rect class=\"mark\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" "
				     "height=\"%.0f\" rx=\"3\" fill=\"#%02x%02x%02x\"><title>%s %02d:00 "
				     "%lld</title></rect>\n",
				L + h * C, T + w * C, C - G, C - G, cr, cg, cb, wd[w], h,
				(long long)r->heatmap[w][h]);
		}
	}
	for (int h = 0; h < 24; h += 3)
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%02d</text>\n",
			L + h * C + (C - G) / 2, T + 7 * C + 14, h);
	fputs("</svg>\n", out);
}

static void
chart_scores(const struct report *r, FILE *out)
{
	static const char *const colors[6] = { "", "#ef4444", "#f97316", "#eab308", "#84cc16",
					       "#22c55e" };
	const struct report_figures *f = &r->total;
	const double W = 300, L = 40, BH = 26, G = 10;
	int64_t m = max_of(f->scores + 1, 5);
	fprintf(out, "<svg data-chart=\"scores\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		     "aria-label=\"Votes by score\">\n", W, 5 * (BH + G));
	for (int s = 5; s >= 1; s--) {
		double y = (5 - s) * (BH + G);
		double w = m > 0 ? (W - L - 40) * (double)f->scores[s] / (double)m : 0;
		fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%d &#9733;</text>"
			     "<rect class=\"mark\" x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" "
			     "height=\"%.0f\" rx=\"3\" fill=\"%s\"><title>%d: %lld</title></rect>"
			     "<text x=\"%.1f\" y=\"%.1f\">%lld</text>\n",
			L - 8, y + BH / 2 + 4, s, L, y, w > 0 ? w : 0.5, BH, colors[s], s,
			(long long)f->scores[s],
			L + w + 6, y + BH / 2 + 4, (long long)f->scores[s]);
	}
	fputs("</svg>\n", out);
}

static void
groups_table(const struct report *r, FILE *out)
{
	char a[48], b[48], c[48], d[48], e[48];
	fprintf(out, "<section class=\"panel\"><h2>By %s</h2><table><tr><th></th>"
		     "<th class=\"num\">New</th><th class=\"num\">Messages in</th>"
		     "<th class=\"num\">Agent replies</th><th class=\"num\">Reopened</th>"
		     "<th class=\"num\">Solved</th><th class=\"num\">First response</th>"
		     "<th class=\"num\">p90</th><th class=\"num\">Resolution</th>"
		     "<th class=\"num\">Kept</th><th class=\"num\">CSAT</th></tr>\n",
		report_by_name(r->opt.by));
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct report_figures *f = &r->groups[i].f;
		fputs("<tr><td>", out);
		esc(out, r->groups[i].key);
		fprintf(out, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
			     "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
			     "<td class=\"num\">%lld</td><td class=\"num\">%s</td>"
			     "<td class=\"num\">%s</td><td class=\"num\">%s</td>"
			     "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
			(long long)f->new_tickets, (long long)f->customer_messages,
			(long long)f->agent_replies, (long long)f->reopened, (long long)f->solved,
			report_duration(a, sizeof(a), f->first_response.count, f->first_response.median),
			report_duration(b, sizeof(b), f->first_response.count, f->first_response.p90),
			report_duration(c, sizeof(c), f->resolution.count, f->resolution.median),
			report_percent(d, sizeof(d), 0, report_sla_share(f)), report_percent(e, sizeof(e), 0, report_csat(f)));
	}
	fputs("</table></section>\n", out);
}

static void
sla_row(FILE *out, const char *key, const struct report_figures *f)
{
	char a[48];
	fputs("<tr><td>", out);
	esc(out, key);
	fputs("</td>", out);
	for (int k = 0; k < REPORT_SLA_TARGETS; k++)
		fprintf(out, "<td class=\"num\">%s</td><td class=\"num\">%lld</td>",
			report_percent(a, sizeof(a), 0, report_target_share(f, k)),
			(long long)f->target_breached[k]);
	fputs("</tr>\n", out);
}

/* SLA attainment and breaches per target, for the totals and each group
   (per queue with --by queue). */
static void
sla_table(const struct report *r, FILE *out)
{
	fputs("<section class=\"panel\"><h2>SLA targets met (breaches)</h2><table><tr><th></th>"
	      "<th class=\"num\">First response</th><th class=\"num\">Breached</th>"
	      "<th class=\"num\">Next response</th><th class=\"num\">Breached</th>"
	      "<th class=\"num\">Resolution</th><th class=\"num\">Breached</th></tr>\n",
	      out);
	sla_row(out, "total", &r->total);
	for (size_t i = 0; i < r->n_groups; i++)
		sla_row(out, r->groups[i].key, &r->groups[i].f);
	fputs("</table></section>\n", out);
}

static void
detail_tables(const struct report *r, FILE *out)
{
	char a[48];
	fputs("<div class=\"row\"><section class=\"panel\"><h2>Oldest open tickets</h2><table>"
	      "<tr><th>#</th><th>Since</th><th>Subject</th><th>Queue</th><th>Assignee</th></tr>\n",
	      out);
	for (size_t i = 0; i < r->n_oldest; i++) {
		const struct report_ticket *t = &r->oldest[i];
		fprintf(out, "<tr><td>%lld</td><td>%s</td><td>", (long long)t->id,
			local_day(r, t->created_at, a, sizeof(a)));
		esc(out, t->subject);
		fputs("</td><td>", out);
		esc(out, t->queue);
		fputs("</td><td>", out);
		esc(out, t->assignee);
		fputs("</td></tr>\n", out);
	}
	fputs("</table></section>\n<section class=\"panel\"><h2>Rules that fired</h2><table>"
	      "<tr><th>Rule</th><th class=\"num\">Hits</th><th class=\"num\">Tickets</th></tr>\n",
	      out);
	for (size_t i = 0; i < r->n_rules && i < 15; i++) {
		fputs("<tr><td>", out);
		esc(out, r->rules[i].rule);
		fprintf(out, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td></tr>\n",
			(long long)r->rules[i].hits, (long long)r->rules[i].tickets);
	}
	fputs("</table></section></div>\n<div class=\"row\"><section class=\"panel\"><h2>"
	      "Comments</h2><table><tr><th>#</th><th>Score</th><th>Comment</th></tr>\n",
	      out);
	for (size_t i = 0; i < r->n_comments && i < 10; i++) {
		fprintf(out, "<tr><td>%lld</td><td>%d/5</td><td>", (long long)r->comments[i].ticket_id,
			r->comments[i].score);
		esc(out, r->comments[i].comment);
		fputs("</td></tr>\n", out);
	}
	fputs("</table></section>\n<section class=\"panel\"><h2>Categories the rules chose"
	      "</h2><table><tr><th>Category</th><th class=\"num\">Tickets</th>"
	      "<th class=\"num\">Changed</th></tr>\n",
	      out);
	for (size_t i = 0; i < r->n_categories; i++) {
		const struct report_category *k = &r->categories[i];
		fputs("<tr><td>", out);
		esc(out, k->category);
		fprintf(out, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld (%s)</td></tr>\n",
			(long long)k->tickets, (long long)k->changed,
			report_percent(a, sizeof(a), 0, 100.0 * (double)k->changed / (double)k->tickets));
	}
	fputs("</table></section></div>\n", out);
}

int
report_write_html(const struct report *r, FILE *out)
{
	char a[32], b[32];
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width\">"
		     "<title>deskgate report %s &#8211; %s</title><style>%s</style></head>\n"
		     "<body><main>\n<h1>How the desk is doing</h1>\n"
		     "<p class=\"sub\">%s &#8211; %s (",
		local_day(r, r->opt.since, a, sizeof(a)),
		local_day(r, r->opt.until, b, sizeof(b)), style, a, b);
	esc(out, hours_timezone(r->opt.hours));
	fputs("), wall time unless business time is named; definitions in docs/reports.md</p>\n",
	      out);
	cards(r, out);
	fputs("<section class=\"panel\"><h2>New tickets and backlog</h2>\n", out);
	chart_daily(r, out);
	fputs("</section>\n<div class=\"row\"><section class=\"panel\"><h2>When customers write "
	      "(new tickets by weekday and hour)</h2>\n",
	      out);
	chart_heatmap(r, out);
	fputs("</section>\n<section class=\"panel\"><h2>Satisfaction</h2>\n", out);
	chart_scores(r, out);
	fputs("</section></div>\n", out);
	if (r->n_groups > 0)
		groups_table(r, out);
	sla_table(r, out);
	detail_tables(r, out);
	fputs("</main></body></html>\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
