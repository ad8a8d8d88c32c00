/*
 * bench-secrets: what the secret detectors and attachment sniffing cost per
 * message, over a maildir (tests/bench/bench-secrets.sh makes one with
 * gen-corpus.py and compares with the CPU time of `deskgate import` over
 * the same mail). Every message is parsed first (not timed into the
 * detectors); then, timed in process CPU time: secrets_scan() over the
 * subject, the text and the HTML source, and danger_check() over every
 * attachment (what ingest runs: SHA-256, the verdict cache, sniff_bytes();
 * the cache is new for the round that is counted, as for one import). Prints the totals and the spans found (the generated mail
 * holds no secret: any span is a false positive).
 *
 * usage: bench-secrets MAILDIR [ROUNDS]
 */
#include "build-config.h"

#include <dirent.h>
#include <time.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/danger.h"
#include "parsers/mime.h"
#include "parsers/secrets.h"
#include "tests/unit/test.h"

static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double t_parse, t_secrets, t_sniff;
static size_t n_msgs, n_bytes_raw, n_bytes_text, n_spans, n_attach, n_flagged;

static size_t
scan(const char *text, size_t len, unsigned int flags)
{
	struct secrets_options opt = { crypto_sha256, 0, flags, 0 };
	struct secrets_result res;
	const char *error = NULL;
	size_t n = 0;
	if (text == NULL || len == 0)
		return 0;
	n_bytes_text += len;
	if (secrets_scan(text, len, &opt, &res, &error) == 0) {
		n = res.n;
		secrets_result_free(&res);
	}
	return n;
}

static void
one(struct danger *dg, const char *path, int count)
{
	size_t len;
	unsigned char *raw = test_read_file(path, &len);
	struct mime_message *msg = NULL;
	const char *error = NULL;
	if (raw == NULL)
		return;
	double t0 = cpu_now();
	mime_parse(raw, len, NULL, &msg, &error);
	double t1 = cpu_now();
	free(raw);
	if (msg == NULL)
		return;
	size_t spans = scan(msg->subject, strlen(msg->subject), 0) + scan(msg->text, msg->text_len, 0) +
		       scan(msg->html, msg->html_len, SECRETS_HTML);
	double t2 = cpu_now();
	for (size_t i = 0; i < msg->n_attachments; i++) {
		char reason[320];
		int flagged = danger_check(dg, msg->attachments[i].data, msg->attachments[i].size,
					   msg->attachments[i].filename, reason, sizeof(reason));
		if (count) {
			n_attach++;
			n_flagged += flagged;
		}
	}
	double t3 = cpu_now();
	if (count) {
		n_msgs++;
		n_bytes_raw += len;
		n_spans += spans;
		t_parse += t1 - t0;
		t_secrets += t2 - t1;
		t_sniff += t3 - t2;
	}
	mime_message_free(&msg);
}

int
main(int argc, char **argv)
{
	const char *error = NULL;
	if (argc < 2) {
		fprintf(stderr, "usage: bench-secrets MAILDIR [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
	struct danger *dg = NULL;
	for (int r = 0; r < rounds; r++) {
		danger_free(&dg);
		if ((dg = danger_new(NULL, &error)) == NULL) {
			fprintf(stderr, "%s\n", error);
			return 1;
		}
		static const char *const subdirs[] = { "new", "cur" };
		for (size_t k = 0; k < 2; k++) {
			char *dir = xasprintf("%s/%s", argv[1], subdirs[k]);
			DIR *d = opendir(dir);
			struct dirent *de;
			while (d != NULL && (de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				char *path = xasprintf("%s/%s", dir, de->d_name);
				one(dg, path, r == rounds - 1);
				free(path);
			}
			if (d != NULL)
				closedir(d);
			free(dir);
		}
	}
	danger_free(&dg);
	if (n_msgs == 0) {
		fprintf(stderr, "no messages in %s\n", argv[1]);
		return 1;
	}
	printf("messages %zu raw_bytes %zu text_bytes %zu attachments %zu\n", n_msgs, n_bytes_raw,
	       n_bytes_text, n_attach);
	printf("parse_s %.4f secrets_s %.4f sniff_s %.4f\n", t_parse, t_secrets, t_sniff);
	printf("secrets_ns_per_text_byte %.2f secrets_us_per_msg %.2f sniff_us_per_msg %.2f\n",
	       t_secrets * 1e9 / (double)n_bytes_text, t_secrets * 1e6 / (double)n_msgs,
	       t_sniff * 1e6 / (double)n_msgs);
	printf("spans_found %zu attachments_flagged %zu\n", n_spans, n_flagged);
	return 0;
}
