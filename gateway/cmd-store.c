/*
 * deskgate store migrate --to URL [--from URL] [--batch N] [--verify-only]:
 * copy the desk's store (by default the one the configuration names) into
 * another, typically a SQLite desk into PostgreSQL, then verify the copy
 * and print a table of rows and digests per table. The work is
 * store-copy.h's; this file parses options and prints.
 *
 * Exit: 0 copied and verified; 1 the verification found a difference;
 * 64 usage; 65 refused (another desk's data in the destination, or a
 * table or column the copier does not know); 75 a store was unavailable
 * (run it again: it resumes); 78 configuration.
 */
#include "build-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/store/store-copy.h"
#include "gateway/storeloc.h"

static void
store_usage(FILE *out)
{
	fprintf(out,
		"usage: deskgate [-c FILE] store migrate --to URL [--from URL] [--batch N]\n"
		"                                        [--blob-dir DIR] [--verify-only]\n\n"
		"Copy the desk's store into another (a SQLite desk into PostgreSQL): every\n"
		"table with its ids, and every raw mail and attachment, then compare both\n"
		"sides table by table (row counts and digests; blobs read back and checked\n"
		"by their SHA-256) and print the comparison.\n\n"
		"  --to URL       the destination: postgresql://user@host:port/db (the\n"
		"                 password from PGPASSFILE or passfile=; never printed)\n"
		"  --from URL     the source (default: the configuration's store)\n"
		"  --batch N      rows per destination transaction (default 500)\n"
		"  --blob-dir DIR the destination's [store] blob_dir (PostgreSQL): its raw\n"
		"                 mails and attachments are written there as files, as the\n"
		"                 gateways will write them, not as rows\n"
		"  --verify-only  copy nothing, only compare\n\n"
		"Run it again at will: rows already copied are kept, so a second run\n"
		"copies nothing and a run that was stopped resumes. A destination that\n"
		"holds another desk's tickets is refused. Stop the gateways of the source\n"
		"while copying, or run it once more after they stopped.\n\n"
		"Exit 0 copied and verified, 1 a difference, 65 refused, 75 a store was\n"
		"unavailable (run again), 78 configuration.\n");
}

static int
exit_for(int store_ret)
{
	return store_ret == STORE_DATA_BAD ? EXIT_DATAERR : EXIT_TEMPFAIL;
}

static void
print_report(const struct store_copy_report *r, FILE *out)
{
	fprintf(out, "%-20s %10s %10s %8s  %-16s %-16s %s\n", "table", "source", "dest", "copied",
		"source digest", "dest digest", "check");
	for (size_t i = 0; i < r->count; i++) {
		const struct store_copy_line *l = &r->lines[i];
		if (l->skipped != NULL) {
			fprintf(out, "%-20s %10s %10s %8s  %-16s %-16s skipped: %s\n", l->name, "-",
				"-", "-", "-", "-", l->skipped);
			continue;
		}
		fprintf(out, "%-20s %10" PRId64 " %10" PRId64 " %8" PRId64 "  %-16s %-16s %s\n",
			l->name, l->source_rows, l->dest_rows, l->copied, l->source_digest,
			l->dest_digest, l->ok ? "ok" : "MISMATCH");
	}
	if (r->mismatches > 0)
		fprintf(out, "%zu mismatch%s\n", r->mismatches, r->mismatches == 1 ? "" : "es");
	else
		fprintf(out, "verified: every table and blob matches\n");
}

static int
store_migrate(int argc, char **argv)
{
	const char *to = NULL, *from = NULL, *blob_dir = NULL, *error;
	struct store_copy_options o = { 0 };

	for (int i = 1; i < argc; i++) {
		uint64_t v;
		if (cli_is_help(argv[i])) {
			store_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
			to = argv[++i];
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			from = argv[++i];
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			if (str_to_u64(argv[++i], 1000000, &v) < 0 || v == 0) {
				fprintf(stderr, "deskgate store migrate: --batch: 1 to 1000000\n");
				return EXIT_USAGE;
			}
			o.batch = (size_t)v;
		} else if (strcmp(argv[i], "--blob-dir") == 0 && i + 1 < argc) {
			blob_dir = argv[++i];
		} else if (strcmp(argv[i], "--verify-only") == 0) {
			o.verify_only = 1;
		} else {
			store_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (to == NULL) {
		store_usage(stderr);
		return EXIT_USAGE;
	}

	struct config *config = cli_config();
	struct store *src = NULL, *dst = NULL;
	struct store_copy_report *report = NULL;
	int ret, status;

	if (from == NULL)
		from = config->store_location;
	if (strcmp(from, to) == 0) {
		log_error("store migrate: the source and the destination are the same store");
		config_free(&config);
		return EXIT_USAGE;
	}
	/* The configured store with its [store] blob_dir; another one as it is. */
	if ((ret = from == config->store_location ? storeloc_open(config, &src, &error)
						  : store_open(from, config->state_dir, &src, &error)) < 0) {
		log_error("store migrate: cannot open the source: %s", error);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	if ((ret = store_open(to, config->state_dir, &dst, &error)) < 0) {
		log_error("store migrate: cannot open the destination: %s", error);
		store_close(&src);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	/* The destination's blobs where its gateways will keep them: without
	   it a PostgreSQL desk that is to run with blob_dir would hold every
	   migrated mail in its rows (readable, but the database grows by the
	   whole mail archive). */
	if (blob_dir != NULL && (ret = store_set_blob_dir(dst, blob_dir, &error)) < 0) {
		log_error("store migrate: --blob-dir %s: %s", blob_dir, error);
		store_close(&dst);
		store_close(&src);
		config_free(&config);
		return ret == STORE_UNAVAILABLE ? EXIT_TEMPFAIL : EXIT_USAGE;
	}
	ret = store_copy(src, dst, &o, &report, &error);
	if (ret < 0) {
		log_error("store migrate: %s", error);
		status = exit_for(ret);
	} else {
		print_report(report, stdout);
		status = report->mismatches > 0 ? 1 : 0;
		if (report->mismatches > 0)
			log_error("store migrate: %zu table(s) differ", report->mismatches);
		else
			log_info("store migrate: verified");
	}
	store_copy_report_free(&report);
	store_close(&dst);
	store_close(&src);
	config_free(&config);
	return status;
}

int
cmd_store(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		store_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "migrate") == 0)
		return store_migrate(argc - 1, argv + 1);
	store_usage(stderr);
	return EXIT_USAGE;
}
