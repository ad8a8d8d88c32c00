/*
 * deskgate template check [DIR]
 * deskgate template render --category C --lang L [--ticket N | --eml FILE]
 *                          [--priority P] [--dir DIR] [--now EPOCH] [--mime]
 *
 * check: every template and partial compiles, subjects are in place,
 * partials exist, and every category and language renders; problems are
 * printed as FILE:LINE: why, exit 65 when there are any.
 * render: the acknowledgement for sample data (default), a stored ticket,
 * or a mail file (language detected, rules applied, and whether an
 * acknowledgement would be suppressed as a loop); prints the subject, the
 * text and the HTML body, or with --mime the whole message as it would be
 * queued.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ack.h"
#include "gateway/canned.h"
#include "gateway/cli.h"
#include "gateway/thread.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/survey.h"
#include "gateway/template.h"
#include "parsers/autoreply.h"
#include "parsers/lang.h"
#include "parsers/mime.h"
#include "base/util.h"

static void
template_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] template check [DIR]\n"
		"       deskgate [-c FILE] template render --category C --lang L\n"
		"                [--ticket N | --eml FILE] [--priority P] [--dir DIR]\n"
		"                [--now EPOCH] [--mime]\n\n"
		"  check    compile every acknowledgement template and partial (in DIR, or\n"
		"           the configured and installed ones) and render each category\n"
		"           and language once, and the same for the canned replies\n"
		"           (replies/NAME.LANG.txt, #reply NAME) and the survey mail\n"
		"           (survey/request.LANG.txt and .html); problems are printed\n"
		"           as FILE:LINE: why\n"
		"  render   print the acknowledgement for sample data, a stored ticket\n"
		"           (--ticket), or a mail file (--eml: language detected and rules\n"
		"           applied unless --lang/--category are given)\n"
		"  --dir    use the templates in DIR instead of the configured ones\n"
		"  --now    pretend the mail arrived at EPOCH (seconds), for the promise\n"
		"  --mime   print the whole message as it would be queued\n");
}

/* The configuration: -c FILE, else the default file when it exists, else
   the built-in defaults (so that `template check DIR` works anywhere). */
static struct config *
template_config(void)
{
	if (cli_global.config_path == NULL && access(CONFIG_DEFAULT_PATH, R_OK) != 0)
		return config_defaults(".");
	return cli_config();
}

static int
template_check(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			template_usage(stdout);
			return 0;
		}
		if (argv[i][0] == '-' || dir != NULL) {
			template_usage(stderr);
			return EXIT_USAGE;
		}
		dir = argv[i];
	}
	struct config *config = template_config();
	size_t files = 0;
	size_t problems = ack_templates_check(config, dir, stdout, &files);
	printf("%zu template files checked, %zu problem%s\n", files, problems, problems == 1 ? "" : "s");
	size_t canned_files = 0;
	size_t canned_problems = canned_check(config, dir, stdout, &canned_files);
	printf("%zu canned reply files checked, %zu problem%s\n", canned_files, canned_problems,
	       canned_problems == 1 ? "" : "s");
	problems += canned_problems;
	size_t survey_files = 0;
	size_t survey_problems = survey_templates_check(config, dir, stdout, &survey_files);
	printf("%zu survey languages checked, %zu problem%s\n", survey_files, survey_problems,
	       survey_problems == 1 ? "" : "s");
	problems += survey_problems;
	config_free(&config);
	return problems == 0 ? 0 : EXIT_DATAERR;
}

struct render_opts {
	const char *category, *lang, *priority, *dir, *eml;
	int64_t ticket;
	int64_t now;
	int mime;
};

/* Fill in from a mail file: customer, subject, language, and the rules'
   category, priority and fields. Prints the loop verdict to stderr. */
static int
input_from_eml(const struct config *config, const struct render_opts *o, struct ack_input *in,
	       struct mime_message **msg_r, struct rules_result **rr_r, struct ack_field **fields_r)
{
	const char *error;
	FILE *fp = fopen(o->eml, "rb");
	if (fp == NULL) {
		log_warn("%s", o->eml);
		return EXIT_NOINPUT;
	}
	struct buf b;
	buf_init(&b, (size_t)config->limits.max_message_size);
	char chunk[65536];
	size_t n;
	int too_big = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			too_big = 1;
			break;
		}
	fclose(fp);
	if (too_big) {
		log_error("%s: larger than max_message_size", o->eml);
		buf_free(&b);
		return EXIT_DATAERR;
	}
	struct mime_limits limits;
	mime_limits_default(&limits);
	struct mime_message *msg = NULL;
	if (mime_parse(b.data != NULL ? b.data : (const unsigned char *)"", b.len, &limits, &msg,
		       &error) < 0) {
		log_error("%s: would be quarantined: %s", o->eml, error);
		mime_message_free(&msg);
		buf_free(&b);
		return EXIT_DATAERR;
	}
	buf_free(&b);

	struct autoreply_policy pol = { 0 };
	const char *own[1] = { config->support_address };
	pol.loop_header = "X-Deskgate-Loop";
	pol.loop_value = config->hostname;
	pol.msgid_prefix = "dg.";
	pol.msgid_domain = config->hostname;
	pol.own_addresses = own;
	pol.n_own_addresses = 1;
	const char *why;
	if (autoreply_suppress(msg, &pol, &why))
		fprintf(stderr, "note: no acknowledgement would be sent: %s\n", why);

	enum lang_source src;
	const char *detected = lang_detect(msg->content_language, msg->text, msg->text_len, NULL, &src);
	in->language = o->lang != NULL ? o->lang : ack_language(config, detected);
	in->subject = msg->subject;
	in->customer_name = msg->from.name;
	in->customer_address = msg->from.address;
	in->received_at = o->now != 0 ? o->now : (msg->has_date ? msg->date : (int64_t)time(NULL));
	in->category = o->category != NULL ? o->category : "other";
	in->priority = o->priority;

	struct rules *rules = NULL;
	if (rules_load_config(config, &rules, &error) < 0) {
		fprintf(stderr, "note: rules not applied: %s\n", error);
	} else {
		struct rules_input *ri = rules_input_from_mime(msg, NULL);
		struct rules_result *rr = NULL;
		rules_classify(rules, ri, &rr);
		rules_input_free(&ri);
		if (o->category == NULL)
			in->category = rr->category;
		if (o->priority == NULL)
			in->priority = rr->priority;
		if (rr->no_ack || rr->spam)
			fprintf(stderr, "note: no acknowledgement would be sent: the rules say %s\n",
				rr->spam ? "spam" : "no-ack");
		*fields_r = xcalloc(rr->n_fields + 1, sizeof(**fields_r));
		for (size_t i = 0; i < rr->n_fields; i++) {
			(*fields_r)[i].name = rr->fields[i].name;
			(*fields_r)[i].value = rr->fields[i].value;
		}
		in->fields = *fields_r;
		in->n_fields = rr->n_fields;
		*rr_r = rr;
		rules_free(&rules);
	}
	fprintf(stderr, "note: language %s (%s)\n", in->language,
		o->lang != NULL ? "--lang" : src == LANG_FROM_HEADER ? "Content-Language"
					   : src == LANG_FROM_TEXT   ? "detected from the text"
								     : "default");
	*msg_r = msg;
	return 0;
}

static int
input_from_ticket(const struct config *config, const struct render_opts *o, struct store **store_r,
		  struct ack_input *in, struct store_ticket **ticket_r, struct store_field **sf_r,
		  size_t *n_sf_r, struct ack_field **fields_r)
{
	struct config *c2;
	const char *error;
	cli_open(&c2, store_r);
	config_free(&c2);
	int ret = store_ticket_get(*store_r, o->ticket, ticket_r, &error);
	if (ret <= 0) {
		log_error("ticket %lld: %s", (long long)o->ticket, ret < 0 ? error : "no such ticket");
		return ret < 0 ? EXIT_TEMPFAIL : EXIT_DATAERR;
	}
	struct store_ticket *t = *ticket_r;
	if (store_ticket_field_list(*store_r, t->id, sf_r, n_sf_r, &error) < 0) {
		log_error("%s", error);
		return EXIT_TEMPFAIL;
	}
	*fields_r = xcalloc(*n_sf_r + 1, sizeof(**fields_r));
	for (size_t i = 0; i < *n_sf_r; i++) {
		(*fields_r)[i].name = (*sf_r)[i].name;
		(*fields_r)[i].value = (*sf_r)[i].value;
	}
	in->ticket_id = t->id;
	in->subject = t->subject;
	in->customer_name = t->customer_name;
	in->customer_address = t->customer_address;
	in->category = o->category != NULL ? o->category : t->category;
	in->priority = o->priority != NULL ? o->priority : t->priority;
	in->language = o->lang != NULL ? o->lang : ack_language(config, t->language);
	in->fields = *fields_r;
	in->n_fields = *n_sf_r;
	in->received_at = o->now != 0 ? o->now : t->created_at;
	return 0;
}

/* The subject and, with --mime, the whole message exactly as the gateway
   would send it (ack_message(), deskmail). The subject tag and Reply-To
   need the threading secret of a configuration (-c); without one they are
   left out. */
static int
print_mail(const struct config *config, const struct ack_input *in, const struct ack_mail *mail,
	   int mime)
{
	const char *error;
	struct thread_config *tc = NULL;
	struct deskmail *dm = NULL;
	struct deskmail_result res = { 0 };
	if (thread_config_new(config, &tc, &error) < 0)
		tc = NULL;
	int ret = deskmail_new(config, tc, NULL, &dm, &error);
	if (ret == 0) {
		struct deskmail_msg *m = ack_message(
			dm, in->ticket_id, in->customer_name,
			in->customer_address != NULL ? in->customer_address : "customer@example.com",
			NULL, mail, 0);
		ret = deskmail_render(dm, &m, &res, &error);
	}
	deskmail_free(&dm);
	thread_config_free(&tc);
	if (ret < 0) {
		log_error("%s", error);
		return EXIT_DATAERR;
	}
	if (mime) {
		fwrite(res.raw, 1, res.len, stdout);
	} else {
		printf("Subject: %s\n", res.subject);
		printf("X-Template: %s\n\n", mail->template);
		printf("----- text/plain -----\n%s", mail->text);
		printf("----- text/html -----\n%s", mail->html);
	}
	deskmail_result_clear(&res);
	return 0;
}

static int
template_render(int argc, char **argv)
{
	struct render_opts o = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		if (cli_is_help(a)) {
			template_usage(stdout);
			return 0;
		} else if (strcmp(a, "--mime") == 0) {
			o.mime = 1;
			continue;
		} else if (v == NULL) {
			template_usage(stderr);
			return EXIT_USAGE;
		} else if (strcmp(a, "--category") == 0) {
			o.category = v;
		} else if (strcmp(a, "--lang") == 0) {
			o.lang = v;
		} else if (strcmp(a, "--priority") == 0) {
			o.priority = v;
		} else if (strcmp(a, "--dir") == 0) {
			o.dir = v;
		} else if (strcmp(a, "--eml") == 0) {
			o.eml = v;
		} else if (strcmp(a, "--ticket") == 0 && str_to_u64(v, INT64_MAX, &n) == 0 && n > 0) {
			o.ticket = (int64_t)n;
		} else if (strcmp(a, "--now") == 0 && str_to_u64(v, INT64_MAX, &n) == 0) {
			o.now = (int64_t)n;
		} else {
			template_usage(stderr);
			return EXIT_USAGE;
		}
		i++;
	}
	if (o.eml != NULL && o.ticket != 0) {
		fprintf(stderr, "deskgate: template render: --ticket and --eml exclude each other\n");
		return EXIT_USAGE;
	}
	if (o.eml == NULL && o.ticket == 0 && (o.category == NULL || o.lang == NULL)) {
		fprintf(stderr, "deskgate: template render: --category and --lang are needed for sample data\n");
		return EXIT_USAGE;
	}
	if (o.lang != NULL && lang_normalize(o.lang) == NULL) {
		fprintf(stderr, "deskgate: template render: unknown language \"%s\"\n", log_safe(o.lang, 32));
		return EXIT_USAGE;
	}
	if (o.lang != NULL)
		o.lang = ack_language(NULL, o.lang);

	struct config *config = o.ticket != 0 ? cli_config() : template_config();
	struct store *store = NULL;
	struct store_ticket *ticket = NULL;
	struct store_field *sf = NULL;
	size_t n_sf = 0;
	struct ack_field *fields = NULL;
	struct mime_message *msg = NULL;
	struct rules_result *rr = NULL;
	struct ack_input *sample = NULL;
	struct ack_input in = { 0 };
	int ret = 0;
	const char *error;
	int64_t now = o.now != 0 ? o.now : (int64_t)time(NULL);

	if (o.eml != NULL) {
		in.ticket_id = 1042;
		ret = input_from_eml(config, &o, &in, &msg, &rr, &fields);
	} else if (o.ticket != 0) {
		ret = input_from_ticket(config, &o, &store, &in, &ticket, &sf, &n_sf, &fields);
	} else {
		sample = ack_sample_input(o.category, o.lang, now);
		if (o.priority != NULL)
			sample->priority = o.priority;
		in = *sample;
	}

	/* The name as the gateway would use it (deskmail_display_name()). */
	char *name = deskmail_display_name(in.customer_name);
	in.customer_name = name;
	struct hours *hours = NULL;
	if (ret == 0 && ack_hours_from_config(config, &hours, &error) < 0) {
		log_error("%s", error);
		ret = EXIT_CONFIG;
	}
	if (ret == 0) {
		int64_t due;
		struct ack_templates *t = ack_templates_new(config, o.dir);
		const char *lang = ack_language(config, in.language);
		char *category_name = ack_category_name(t, in.category, lang);
		in.category_name = category_name;
		struct tmpl_value *data = ack_data_build(config, hours, &in, &due);
		struct ack_mail mail;
		if (ack_render(t, in.category != NULL ? in.category : "other", lang, data, &mail,
			       &error) < 0) {
			log_error("%s", error);
			ret = EXIT_DATAERR;
		} else {
			ret = print_mail(config, &in, &mail, o.mime);
			ack_mail_clear(&mail);
		}
		ack_templates_free(&t);
		tmpl_value_free(&data);
		free(category_name);
	}
	hours_free(&hours);
	free(name);
	ack_sample_input_free(&sample);
	free(fields);
	rules_result_free(&rr);
	mime_message_free(&msg);
	store_fields_free(&sf, n_sf);
	store_ticket_free(&ticket);
	store_close(&store);
	config_free(&config);
	return ret;
}

int
cmd_template(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		template_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return template_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "render") == 0)
		return template_render(argc - 1, argv + 1);
	fprintf(stderr, "deskgate: template: unknown subcommand \"%s\"\n", log_safe(argv[1], 32));
	template_usage(stderr);
	return EXIT_USAGE;
}
