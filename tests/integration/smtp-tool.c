/*
 * smtp-tool: drives the smtp area's modules for the integration tests and
 * the benchmark (not installed).
 *
 *   smtp-tool compose [MSG OPTIONS]              print a composed message
 *   smtp-tool queue -c CONF [--count N] [--kind K] [--new-ticket] [--author A]
 *                  [MSG OPTIONS]                 compose and queue (one commit
 *                                                each); prints "id message-id";
 *                                                --author: who wrote it (a relay's
 *                                                agent, told if it bounces)
 *   smtp-tool run -c CONF [--now T] [--max N]    one outbox run; prints
 *                                                "sent=N deferred=N failed=N relay_down=N"
 *                [--until-done [--pause MS]]     runs of at most --max with one
 *                                                outbox, as the daemon's thread does,
 *                                                while more is due (--pause: MS
 *                                                between runs, --now moving with
 *                                                the clock); prints the totals and
 *                                                runs=N
 *   smtp-tool next -c CONF [--now T]             when the next attempt is due
 *   smtp-tool send -c CONF --mail-from A --rcpt B FILE
 *                                                one SMTP transaction, prints
 *                                                "ok|temporary|permanent CODE session=N TEXT"
 *                                                and "rcpt ADDR STATUS CODE ENHANCED TEXT"
 *                                                for recipients with another outcome
 *   smtp-tool dsn FILE...                        dsn_analyze() each file, one
 *                                                line per file
 *   smtp-tool bounce -c CONF FILE                dsn_analyze() + outbox_apply_report()
 *
 * MSG OPTIONS: --from A --from-name N --to A [--to-name N] --cc A --subject S
 *   --text S --html S --attach FILE[:NAME[:TYPE]] --ticket N --hostname H
 *   --auto (acknowledgement headers) --in-reply-to ID --ref ID --date T
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/smtp.h"
#include "gateway/store.h"
#include "parsers/dsn.h"
#include "parsers/mime.h"
#include "base/util.h"

static unsigned char *
read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			fclose(fp);
			buf_free(&b);
			return NULL;
		}
	}
	fclose(fp);
	return (unsigned char *)buf_steal(&b, len_r);
}

struct opts {
	const char *config_path;
	const char *from, *from_name, *subject, *text, *html, *hostname, *kind;
	const char *in_reply_to, *mail_from, *author;
	const char *to[16], *to_name[16], *cc[16], *refs[16], *attach[8], *rcpt[16];
	size_t n_to, n_cc, n_refs, n_attach, n_rcpt;
	int64_t ticket, now, date;
	int automatic, new_ticket, until_done;
	int64_t pause_ms;
	uint64_t count, max;
	char **args;
	int n_args;
};

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-tool compose|queue|run|next|send|dsn|bounce [options]\n");
	exit(64);
}

static int64_t
num(const char *s)
{
	uint64_t v;
	if (str_to_u64(s, INT64_MAX, &v) < 0)
		usage();
	return (int64_t)v;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = "ack";
	o->count = 1;
	o->hostname = "gw.example.test";
	o->args = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v != NULL && ++i)
		if (OPT("-c"))
			o->config_path = v;
		else if (OPT("--from"))
			o->from = v;
		else if (OPT("--from-name"))
			o->from_name = v;
		else if (OPT("--to")) {
			if (o->n_to < 16)
				o->to[o->n_to++] = v;
		} else if (OPT("--to-name")) {
			if (o->n_to > 0)
				o->to_name[o->n_to - 1] = v;
		} else if (OPT("--cc")) {
			if (o->n_cc < 16)
				o->cc[o->n_cc++] = v;
		} else if (OPT("--subject"))
			o->subject = v;
		else if (OPT("--text"))
			o->text = v;
		else if (OPT("--html"))
			o->html = v;
		else if (OPT("--attach")) {
			if (o->n_attach < 8)
				o->attach[o->n_attach++] = v;
		} else if (OPT("--ticket"))
			o->ticket = num(v);
		else if (OPT("--hostname"))
			o->hostname = v;
		else if (OPT("--kind"))
			o->kind = v;
		else if (OPT("--in-reply-to"))
			o->in_reply_to = v;
		else if (OPT("--ref")) {
			if (o->n_refs < 16)
				o->refs[o->n_refs++] = v;
		} else if (OPT("--date"))
			o->date = num(v);
		else if (OPT("--now"))
			o->now = num(v);
		else if (OPT("--max"))
			o->max = (uint64_t)num(v);
		else if (strcmp(a, "--until-done") == 0)
			o->until_done = 1;
		else if (OPT("--pause"))
			o->pause_ms = num(v);
		else if (OPT("--count"))
			o->count = (uint64_t)num(v);
		else if (OPT("--mail-from"))
			o->mail_from = v;
		else if (OPT("--author"))
			o->author = v;
		else if (OPT("--rcpt")) {
			if (o->n_rcpt < 16)
				o->rcpt[o->n_rcpt++] = v;
		} else if (strcmp(a, "--auto") == 0)
			o->automatic = 1;
		else if (strcmp(a, "--new-ticket") == 0)
			o->new_ticket = 1;
		else if (a[0] == '-' && a[1] != '\0')
			usage();
		else
			o->args[o->n_args++] = argv[i];
#undef OPT
	}
	if (o->now == 0)
		o->now = (int64_t)time(NULL);
}

static struct compose *
build(const struct opts *o, char **msgid_r)
{
	const char *error;
	struct compose *c = compose_new();
	compose_set_from(c, o->from_name, o->from != NULL ? o->from : "support@example.test");
	for (size_t i = 0; i < o->n_to; i++)
		compose_add_to(c, o->to_name[i], o->to[i]);
	for (size_t i = 0; i < o->n_cc; i++)
		compose_add_cc(c, NULL, o->cc[i]);
	if (o->subject != NULL)
		compose_set_subject(c, o->subject);
	if (o->text != NULL)
		compose_set_text(c, o->text, strlen(o->text));
	if (o->html != NULL)
		compose_set_html(c, o->html, strlen(o->html));
	if (o->date != 0)
		compose_set_date(c, o->date);
	if (o->in_reply_to != NULL)
		compose_set_in_reply_to(c, o->in_reply_to);
	for (size_t i = 0; i < o->n_refs; i++)
		compose_add_reference(c, o->refs[i]);
	if (o->automatic) {
		compose_set_auto_submitted(c, "auto-replied");
		compose_set_loop(c, o->hostname);
	}
	for (size_t i = 0; i < o->n_attach; i++) {
		char *spec = xstrdup(o->attach[i]);
		char *name = strchr(spec, ':');
		char *type = NULL;
		if (name != NULL) {
			*name++ = '\0';
			type = strchr(name, ':');
			if (type != NULL)
				*type++ = '\0';
		}
		size_t len;
		unsigned char *data = read_file(spec, &len);
		if (data == NULL) {
			fprintf(stderr, "smtp-tool: cannot read %s\n", spec);
			exit(66);
		}
		compose_add_attachment(c, name != NULL ? name : spec, type, data, len);
		free(data);
		free(spec);
	}
	char *msgid;
	if (compose_message_id(o->ticket, o->hostname, &msgid, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		exit(70);
	}
	compose_set_message_id(c, msgid);
	*msgid_r = msgid;
	return c;
}

static int
do_compose(const struct opts *o)
{
	char *msgid;
	struct compose *c = build(o, &msgid);
	unsigned char *data;
	size_t len;
	const char *error;
	if (compose_render(c, &data, &len, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		return 65;
	}
	fwrite(data, 1, len, stdout);
	free(data);
	free(msgid);
	compose_free(&c);
	return 0;
}

static void
open_all(const struct opts *o, struct config **config_r, struct store **store_r)
{
	const char *error;
	if (o->config_path == NULL)
		usage();
	if (config_load(o->config_path, config_r, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		exit(78);
	}
	if (store_open((*config_r)->database, (*config_r)->state_dir, store_r, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		exit(75);
	}
}

static int
do_queue(struct opts *o)
{
	struct config *config;
	struct store *store;
	const char *error;
	open_all(o, &config, &store);
	for (uint64_t k = 0; k < o->count; k++) {
		if (store_begin(store, &error) < 0)
			goto fail;
		if (o->new_ticket) {
			struct store_ticket t = { 0 };
			t.subject = (char *)(o->subject != NULL ? o->subject : "test");
			t.customer_address = (char *)(o->n_to > 0 ? o->to[0] : "x@example.net");
			if (store_ticket_insert(store, &t, &o->ticket, &error) < 0)
				goto fail;
		}
		char *msgid;
		struct compose *c = build(o, &msgid);
		unsigned char *data;
		size_t len;
		if (compose_render(c, &data, &len, &error) < 0)
			goto fail;
		const char *rcpts[32];
		size_t n = 0;
		for (size_t i = 0; i < o->n_to; i++)
			rcpts[n++] = o->to[i];
		for (size_t i = 0; i < o->n_cc; i++)
			rcpts[n++] = o->cc[i];
		int64_t id;
		if (outbox_queue(store, config, o->ticket, o->kind, msgid, data, len, rcpts, n, o->now,
				 &id, &error) < 0 ||
		    (o->author != NULL && outbox_set_author(store, id, o->author, &error) < 0) ||
		    store_commit(store, &error) < 0)
			goto fail;
		printf("%lld %s\n", (long long)id, msgid);
		free(data);
		free(msgid);
		compose_free(&c);
	}
	store_close(&store);
	config_free(&config);
	return 0;
fail:
	fprintf(stderr, "smtp-tool: %s\n", error);
	return 70;
}

static int
do_run(const struct opts *o)
{
	struct config *config;
	struct store *store;
	struct outbox *ob;
	const char *error;
	struct outbox_run_stats st, total = { 0 };
	unsigned runs = 0;
	int64_t now = o->now;
	open_all(o, &config, &store);
	if (outbox_new(store, config, &ob, &error) < 0)
		goto fail;
	do {
		if (runs > 0 && o->pause_ms > 0) {
			struct timespec ts = { (time_t)(o->pause_ms / 1000),
					       (long)(o->pause_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			now += (o->pause_ms + 999) / 1000;
		}
		if (outbox_run_due(ob, now, o->max, &st, &error) < 0)
			goto fail;
		runs++;
		total.sent += st.sent;
		total.deferred += st.deferred;
		total.failed += st.failed;
	} while (o->until_done && st.more && !st.relay_down);
	printf("sent=%zu deferred=%zu failed=%zu relay_down=%d more=%d", total.sent, total.deferred,
	       total.failed, st.relay_down, st.more);
	if (o->until_done)
		printf(" runs=%u", runs);
	printf("\n");
	outbox_free(&ob);
	store_close(&store);
	config_free(&config);
	return 0;
fail:
	fprintf(stderr, "smtp-tool: %s\n", error);
	return 70;
}

static int
do_next(const struct opts *o)
{
	struct config *config;
	struct store *store;
	struct outbox *ob;
	const char *error;
	int64_t when;
	open_all(o, &config, &store);
	if (outbox_new(store, config, &ob, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		return 70;
	}
	int r = outbox_next_due(ob, o->now, &when, &error);
	if (r < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		return 70;
	}
	if (r == 0)
		printf("none\n");
	else
		printf("%lld\n", (long long)(when - o->now));
	outbox_free(&ob);
	store_close(&store);
	config_free(&config);
	return 0;
}

static int
do_send(const struct opts *o)
{
	struct config *config;
	const char *error;
	struct smtp_client *client;
	struct smtp_result r;
	size_t len;
	if (o->config_path == NULL || o->n_args != 1 || o->n_rcpt == 0)
		usage();
	if (config_load(o->config_path, &config, &error) < 0) {
		fprintf(stderr, "smtp-tool: %s\n", error);
		return 78;
	}
	unsigned char *data = read_file(o->args[0], &len);
	if (data == NULL) {
		fprintf(stderr, "smtp-tool: cannot read %s\n", o->args[0]);
		return 66;
	}
	if (smtp_client_new(config, &client, &error) < 0) {
		printf("config %s\n", error);
		return 78;
	}
	/* --count N sends the same message N times over one client */
	for (uint64_t k = 0; k < o->count; k++) {
		struct smtp_rcpt_result rr[16];
		smtp_client_send(client, o->mail_from != NULL ? o->mail_from : "support@example.test",
				 o->rcpt, o->n_rcpt, data, len, &r, rr);
		if (r.status != SMTP_OK || k + 1 == o->count)
			printf("%s %s session=%d %s\n",
			       r.status == SMTP_OK ? "ok" : r.status == SMTP_TEMPORARY ? "temporary"
										: "permanent",
			       r.code > 0 ? smtp_result_code(&r) : "-", r.session, r.text);
		/* each recipient's own outcome, when some were refused */
		for (size_t i = 0; i < o->n_rcpt && (r.status != SMTP_OK || k + 1 == o->count); i++)
			if (rr[i].status != r.status || rr[i].code != r.code)
				printf("rcpt %s %s %d %s %s\n", o->rcpt[i],
				       rr[i].status == SMTP_OK		? "ok"
				       : rr[i].status == SMTP_TEMPORARY ? "temporary"
									: "permanent",
				       rr[i].code, rr[i].enhanced[0] != '\0' ? rr[i].enhanced : "-",
				       rr[i].text);
		if (r.status != SMTP_OK)
			break;
	}
	smtp_client_free(&client);
	free(data);
	config_free(&config);
	return 0;
}

static void
print_report(const char *name, enum dsn_kind kind, const struct dsn_report *r)
{
	printf("%s kind=%s", name, dsn_kind_name(kind));
	if (r != NULL) {
		printf(" format=%s msgid=%s", r->format,
		       r->original_message_id ? r->original_message_id : "-");
		for (size_t i = 0; i < r->n_recipients; i++)
			printf(" rcpt=%s status=%s code=%s", r->recipients[i].address ? r->recipients[i].address : "-",
			       r->recipients[i].status[0] ? r->recipients[i].status : "-",
			       r->recipients[i].reply_code[0] ? r->recipients[i].reply_code : "-");
		for (size_t i = 0; i < r->n_envelope_to; i++)
			printf(" envto=%s", r->envelope_to[i]);
	}
	printf("\n");
}

static int
analyze_file(const char *path, struct mime_message **msg_r, struct dsn_report **report_r,
	     enum dsn_kind *kind_r)
{
	struct mime_limits limits;
	const char *error;
	size_t len;
	unsigned char *data = read_file(path, &len);
	if (data == NULL) {
		fprintf(stderr, "smtp-tool: cannot read %s\n", path);
		return -1;
	}
	mime_limits_default(&limits);
	*msg_r = NULL;
	if (mime_parse(data, len, &limits, msg_r, &error) < 0 && *msg_r == NULL) {
		fprintf(stderr, "smtp-tool: %s: %s\n", path, error);
		free(data);
		return -1;
	}
	free(data);
	*kind_r = dsn_analyze(*msg_r, report_r);
	return 0;
}

static int
do_dsn(const struct opts *o)
{
	for (int i = 0; i < o->n_args; i++) {
		struct mime_message *msg;
		struct dsn_report *r;
		enum dsn_kind kind;
		if (analyze_file(o->args[i], &msg, &r, &kind) < 0)
			return 66;
		print_report(o->args[i], kind, r);
		dsn_report_free(&r);
		mime_message_free(&msg);
	}
	return 0;
}

/* What mime_parse() made of a file (for writing dsn detectors). */
static int
do_parts(const struct opts *o)
{
	for (int i = 0; i < o->n_args; i++) {
		struct mime_limits limits;
		struct mime_message *msg = NULL;
		const char *error = "";
		size_t len;
		unsigned char *data = read_file(o->args[i], &len);
		if (data == NULL)
			return 66;
		mime_limits_default(&limits);
		int r = mime_parse(data, len, &limits, &msg, &error);
		printf("== %s: %s\n", o->args[i], r < 0 ? error : "ok");
		free(data);
		if (msg == NULL)
			continue;
		printf("subject: %s\nfrom: %s <%s>\nreturn-path: %s\n", msg->subject,
		       msg->from.name ? msg->from.name : "", msg->from.address ? msg->from.address : "",
		       msg->return_path ? msg->return_path : "(none)");
		for (size_t k = 0; k < msg->n_parts; k++)
			printf("part %*s%s charset=%s enc=%s size=%zu\n", (int)msg->parts[k].depth * 2, "",
			       msg->parts[k].content_type, msg->parts[k].charset ? msg->parts[k].charset : "-",
			       msg->parts[k].encoding ? msg->parts[k].encoding : "-", msg->parts[k].decoded_size);
		for (size_t k = 0; k < msg->n_attachments; k++)
			printf("attachment %s %s %zu\n", msg->attachments[k].content_type,
			       msg->attachments[k].filename, msg->attachments[k].size);
		printf("text: %zu bytes\n", msg->text_len);
		mime_message_free(&msg);
	}
	return 0;
}

static int
do_bounce(const struct opts *o)
{
	struct config *config;
	struct store *store;
	struct outbox *ob;
	const char *error;
	struct mime_message *msg;
	struct dsn_report *r;
	enum dsn_kind kind;
	int64_t id = 0;
	if (o->n_args != 1)
		usage();
	open_all(o, &config, &store);
	if (analyze_file(o->args[0], &msg, &r, &kind) < 0)
		return 66;
	print_report(o->args[0], kind, r);
	if (outbox_new(store, config, &ob, &error) < 0 || store_begin(store, &error) < 0)
		goto fail;
	int m = outbox_apply_report(ob, r, o->now, &id, &error);
	if (m < 0 || store_commit(store, &error) < 0)
		goto fail;
	printf("matched=%d outbox=%lld\n", m, (long long)id);
	dsn_report_free(&r);
	mime_message_free(&msg);
	outbox_free(&ob);
	store_close(&store);
	config_free(&config);
	return 0;
fail:
	fprintf(stderr, "smtp-tool: %s\n", error);
	return 70;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int ret;
	log_init("smtp-tool", LOG_LEVEL_INFO);
	if (getenv("SMTP_TOOL_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	if (argc < 2)
		usage();
	parse(argc, argv, &o);
	if (strcmp(argv[1], "compose") == 0)
		ret = do_compose(&o);
	else if (strcmp(argv[1], "queue") == 0)
		ret = do_queue(&o);
	else if (strcmp(argv[1], "run") == 0)
		ret = do_run(&o);
	else if (strcmp(argv[1], "next") == 0)
		ret = do_next(&o);
	else if (strcmp(argv[1], "send") == 0)
		ret = do_send(&o);
	else if (strcmp(argv[1], "dsn") == 0)
		ret = do_dsn(&o);
	else if (strcmp(argv[1], "parts") == 0)
		ret = do_parts(&o);
	else if (strcmp(argv[1], "bounce") == 0)
		ret = do_bounce(&o);
	else
		usage();
	free(o.args);
	return ret;
}
