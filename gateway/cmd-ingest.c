/*
 * deskgate ingest [FILE|-]: one message, also the MTA pipe mode (like
 * rt-mailgate): exit 0 when the mail is stored or quarantined, 75 for
 * anything that is not about the message itself (the store, the
 * configuration, the rules, the templates): the MTA keeps the mail and
 * retries, where 78 (EX_CONFIG) would make it bounce the customer's mail.
 * deskgate import PATH...: a maildir, a directory of message files, a
 * single message file or an mbox; batched transactions, a progress bar on a
 * terminal, and a summary.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "parsers/mbox.h"
#include "base/spool.h"
#include "base/util.h"

#define IMPORT_BATCH 200

/* A message longer than this is read into an unnamed file in
   state_dir/tmp (and mmap()ed) instead of memory. */
#define SPOOL_MEMORY (8 * 1024 * 1024)

/* The largest message kept at all (whole, in quarantine when it is over
   max_message_size): [limits] max_quarantine_size, never below
   max_message_size. */
static uint64_t
keep_limit(const struct config *config)
{
	const struct config_limits *l = &config->limits;
	return l->max_quarantine_size > l->max_message_size ? l->max_quarantine_size
							    : l->max_message_size;
}

/* Read a message from fd, whole, memory bounded by SPOOL_MEMORY. NULL with
   *error_r on a read error; else the spool (spool_over(): more than
   keep_limit() bytes, only a prefix kept). */
static struct spool *
read_message(const struct config *config, int fd, const char **error_r)
{
	char *dir = xasprintf("%s/tmp", config->state_dir);
	struct spool *sp = spool_new(dir, SPOOL_MEMORY, keep_limit(config));
	free(dir);
	if (spool_read_fd(sp, fd, error_r) < 0)
		spool_free(&sp);
	return sp;
}

static void
ingest_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] ingest [FILE|-]\n\n"
		     "Store one RFC 5322 message read from FILE or standard input, as a new\n"
		     "ticket, a reply on an existing ticket, or in quarantine. For an MTA pipe\n"
		     "(e.g. a Postfix transport or an alias \"|deskgate ingest\"). A message\n"
		     "over max_message_size is quarantined whole (read to disk, not memory).\n"
		     "Exit status: 0 stored or quarantined; 75 for anything that is not about\n"
		     "the message (store unavailable, an error in the configuration, rules or\n"
		     "templates): the MTA keeps the mail and retries; 65 the message is larger\n"
		     "than max_quarantine_size and is refused (the MTA returns it to the sender\n"
		     "with the reason); 64 usage and 66 no such FILE (never from an MTA, which\n"
		     "passes no arguments).\n");
}

static const char *
source_label(const char *path)
{
	return strcmp(path, "-") == 0 ? "ingest" : path;
}

int
cmd_ingest(int argc, char **argv)
{
	const char *path = "-";
	const char *error;

	if (argc > 2 || (argc == 2 && cli_is_help(argv[1]))) {
		ingest_usage(argc > 2 ? stderr : stdout);
		return argc > 2 ? EXIT_USAGE : 0;
	}
	if (argc == 2)
		path = argv[1];

	struct config *config;
	struct store *store;
	/* a broken configuration is not the customer's fault: retry, never
	   bounce */
	cli_global.config_exit = EXIT_TEMPFAIL;
	cli_open(&config, &store);

	int fd = STDIN_FILENO;
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		store_close(&store);
		config_free(&config);
		return EXIT_NOINPUT;
	}
	const unsigned char *raw;
	size_t len;
	struct spool *sp = read_message(config, fd, &error);
	if (fd != STDIN_FILENO)
		close(fd);
	if (sp == NULL || spool_data(sp, &raw, &len, &error) < 0) {
		log_error("ingest: %s; message not accepted (the MTA will retry)", error);
		spool_free(&sp);
		store_close(&store);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	if (spool_over(sp)) {
		/* Too large to keep even in quarantine: refuse it for good, so
		   that the MTA tells the sender now instead of retrying for days
		   (75 did). Recorded, with the sizes, for the operator. */
		uint64_t size = spool_size(sp);
		const char *why = errf("message of %llu bytes refused: larger than "
				       "max_quarantine_size (%llu bytes); not kept",
				       (unsigned long long)size, (unsigned long long)keep_limit(config));
		log_error("ingest: %s", why);
		fprintf(stderr, "deskgate: %s\n", why);
		if (store_event_addf(store, 0, "refused", &error, "%s: %s", source_label(path),
				     why) < 0)
			log_error("ingest: %s", error);
		spool_free(&sp);
		store_close(&store);
		config_free(&config);
		return EXIT_DATAERR;
	}

	struct ingest *ingest;
	if (ingest_init(config, store, &ingest, &error) < 0) {
		/* rules, templates, the threading key: ours to fix, so the MTA
		   keeps the mail until we have */
		log_error("ingest: %s; message not accepted (the MTA will retry)", error);
		spool_free(&sp);
		store_close(&store);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	struct ingest_source source = { .label = source_label(path) };
	struct ingest_result result;
	int exit_code = 0;
	if (ingest_message(ingest, raw, len, &source, &result, &error) < 0) {
		log_error("ingest: store failed, message not accepted (retry): %s", error);
		exit_code = EXIT_TEMPFAIL;
	} else {
		switch (result.outcome) {
		case INGEST_NEW_TICKET:
			printf("ticket %lld: new\n", (long long)result.ticket_id);
			break;
		case INGEST_APPENDED:
			printf("ticket %lld: reply added\n", (long long)result.ticket_id);
			break;
		case INGEST_DUPLICATE:
			printf("ticket %lld: duplicate, already stored\n", (long long)result.ticket_id);
			break;
		case INGEST_QUARANTINED:
			printf("quarantine %lld: %s\n", (long long)result.quarantine_id, result.reason);
			break;
		case INGEST_REPORT:
			printf("no ticket: %s\n", result.reason);
			break;
		}
	}
	ingest_free(&ingest);
	spool_free(&sp);
	store_close(&store);
	config_free(&config);
	return exit_code;
}

/* ------------------------------------------------------------------------ */

struct import {
	struct ingest *ingest;
	const struct config *config;
	size_t total;	/* messages expected (0: unknown) */
	size_t done;
	size_t in_batch;
	size_t counts[INGEST_OUTCOMES]; /* by enum ingest_outcome */
	size_t unreadable;
	size_t skipped; /* directory entries that are not messages (listed in the log) */
	int progress;	/* draw a progress bar */
	double started;
	double last_draw;
	int failed;	/* store failure: stop */
};

static double
now_seconds(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void
draw_progress(struct import *im, int final)
{
	double now = now_seconds();
	if (!im->progress || (!final && now - im->last_draw < 0.2))
		return;
	im->last_draw = now;
	double rate = now > im->started ? (double)im->done / (now - im->started) : 0;
	if (im->total > 0) {
		int width = 30;
		int filled = (int)((double)width * (double)im->done / (double)im->total);
		if (filled > width)
			filled = width;
		fprintf(stderr, "\rimport [%.*s%*s] %zu/%zu %3d%% %.0f msg/s ", filled,
			"##############################", width - filled, "", im->done, im->total,
			(int)(100.0 * (double)im->done / (double)im->total), rate);
	} else {
		fprintf(stderr, "\rimport %zu messages %.0f msg/s ", im->done, rate);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static int
import_flush(struct import *im)
{
	const char *error;
	if (im->in_batch == 0)
		return 0;
	if (ingest_batch_commit(im->ingest, &error) < 0) {
		log_error("import: commit failed: %s", error);
		im->failed = 1;
		return -1;
	}
	im->in_batch = 0;
	return 0;
}

static int
import_one(struct import *im, const unsigned char *raw, size_t len, const char *label)
{
	const char *error;
	struct ingest_result result;
	if (im->in_batch == 0 && ingest_batch_begin(im->ingest, &error) < 0) {
		log_error("import: %s", error);
		im->failed = 1;
		return -1;
	}
	struct ingest_source source = { .label = label };
	if (ingest_message(im->ingest, raw, len, &source, &result, &error) < 0) {
		log_error("import: %s: store failed: %s", label, error);
		ingest_batch_rollback(im->ingest);
		im->in_batch = 0;
		im->failed = 1;
		return -1;
	}
	im->counts[result.outcome]++;
	im->done++;
	if (++im->in_batch >= IMPORT_BATCH && import_flush(im) < 0)
		return -1;
	draw_progress(im, 0);
	return 0;
}

/* Larger than max_quarantine_size: not imported (a cut copy would be
   worse than none), and said so. */
static void
too_large(struct import *im, const char *what, uint64_t size)
{
	log_warnx("import: %s: skipped: %s%llu bytes, larger than max_quarantine_size (%llu)", what,
		  size > keep_limit(im->config) + 1 ? "" : "more than ",
		  (unsigned long long)size, (unsigned long long)keep_limit(im->config));
	im->skipped++;
}

static int
import_file(struct import *im, const char *path)
{
	const char *error;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("import: %s", path);
		im->unreadable++;
		return 0;
	}
	const unsigned char *raw;
	size_t len;
	struct spool *sp = read_message(im->config, fd, &error);
	close(fd);
	if (sp == NULL || spool_data(sp, &raw, &len, &error) < 0) {
		log_warnx("import: %s: %s", path, error);
		im->unreadable++;
		spool_free(&sp);
		return 0;
	}
	if (spool_over(sp)) {
		too_large(im, path, spool_size(sp));
		spool_free(&sp);
		return 0;
	}
	char *label = xasprintf("import:%s", path);
	int ret = import_one(im, raw, len, label);
	free(label);
	spool_free(&sp);
	return ret;
}

static int
import_mbox(struct import *im, const char *path, int fd, size_t size)
{
	if (size == 0)
		return 0;
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		log_warn("import: mmap %s", path);
		im->unreadable++;
		return 0;
	}
	struct mbox_iter it;
	mbox_iter_init(&it, map, size);
	unsigned char *raw;
	size_t len;
	size_t n = 0;
	int ret = 0;
	/* mbox_next() copies a message (unescaping >From): at most
	   keep_limit() + 1 bytes, and one that long was cut: skipped */
	uint64_t keep = keep_limit(im->config);
	size_t ceiling = keep < SIZE_MAX - 1 ? (size_t)keep : SIZE_MAX - 1;
	while (ret == 0 && (raw = mbox_next(&it, ceiling, &len)) != NULL) {
		char *label = xasprintf("import:%s#%zu", path, ++n);
		if (len > ceiling)
			too_large(im, label, len);
		else
			ret = import_one(im, raw, len, label);
		free(label);
		free(raw);
	}
	munmap(map, size);
	return ret;
}

/* What a directory holds for import. The names are kept relative to the
   directory, packed one after another in one array (a pointer and a
   malloc'ed path per file were ~72 bytes per message: 7 MB of the peak RSS
   of a 100,000-message import; packed ~30). */
union dir_entry {
	size_t off;	  /* while scanning: where the name starts in names */
	const char *name; /* after: the name itself, inside names */
};

struct dir_scan {
	union dir_entry *files; /* message files, sorted by name once scanned */
	size_t count, files_cap;
	char *names; /* "new/1790000000.M0P1.host\0cur/...\0" */
	size_t names_len, names_cap;
	struct buf skipped; /* "tmp/ (2 files being delivered), .Sent/ (a folder)" */
	size_t n_skipped;
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const union dir_entry *)a)->name, ((const union dir_entry *)b)->name);
}

static void
skip(struct dir_scan *scan, const char *what, const char *why)
{
	scan->n_skipped++;
	(void)buf_printf(&scan->skipped, "%s%s (%s)", scan->skipped.len > 0 ? ", " : "", what,
			 why);
}

static int
is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static size_t
count_entries(const char *path)
{
	size_t n = 0;
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Add the regular files of path to scan; what is not a message file is
   recorded as skipped (prefix: how to name it in the summary). */
/* Append name (relative to the scanned directory) to the scan's list. */
static void
add_name(struct dir_scan *scan, const char *name)
{
	size_t len = strlen(name) + 1;
	if (scan->names_cap - scan->names_len < len) {
		size_t cap = scan->names_cap ? scan->names_cap : 64 * 1024;
		while (cap - scan->names_len < len)
			cap *= 2;
		scan->names = xrealloc(scan->names, cap);
		scan->names_cap = cap;
	}
	if (scan->count == scan->files_cap) {
		scan->files_cap = scan->files_cap ? scan->files_cap * 2 : 256;
		scan->files = xreallocarray(scan->files, scan->files_cap, sizeof(*scan->files));
	}
	memcpy(scan->names + scan->names_len, name, len);
	scan->files[scan->count++].off = scan->names_len;
	scan->names_len += len;
}

static void
scan_files(struct dir_scan *scan, const char *path, const char *prefix, int maildir)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		skip(scan, prefix[0] != '\0' ? prefix : path, strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* at a maildir's top, cur/ new/ tmp/ are handled by the caller */
		if (maildir && prefix[0] == '\0' &&
		    (strcmp(de->d_name, "cur") == 0 || strcmp(de->d_name, "new") == 0 ||
		     strcmp(de->d_name, "tmp") == 0))
			continue;
		char *file = xasprintf("%s/%s", path, de->d_name);
		char *name = xasprintf("%s%s", prefix, de->d_name);
		struct stat st;
		if (stat(file, &st) < 0) {
			skip(scan, name, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			skip(scan, errf("%s/", name),
			     de->d_name[0] == '.' && maildir ? "a maildir++ folder: import it by its path"
							       : "a directory: import it by its path");
		} else if (!S_ISREG(st.st_mode)) {
			skip(scan, name, "not a regular file");
		} else if (de->d_name[0] == '.' || (maildir && prefix[0] == '\0')) {
			/* dot files (.DS_Store...) and the files beside cur/ new/
			   (dovecot-uidlist, subscriptions...) are not mail */
			skip(scan, name, maildir ? "maildir metadata, not a message" : "a hidden file");
		} else {
			add_name(scan, name);
		}
		free(file);
		free(name);
	}
	closedir(d);
}

/* The message files of a maildir (any of cur/ and new/; tmp/ holds
   deliveries in progress and is left alone) or of a plain directory,
   sorted by name (maildir names start with the delivery time). */
static void
collect_dir(const char *dir, struct dir_scan *scan)
{
	static const char *const subdirs[] = { "cur", "new" };
	memset(scan, 0, sizeof(*scan));
	buf_init(&scan->skipped, 64 * 1024);
	char *cur = xasprintf("%s/cur", dir), *new = xasprintf("%s/new", dir);
	int maildir = is_dir(cur) || is_dir(new);
	free(cur);
	free(new);

	if (maildir) {
		for (size_t s = 0; s < N_ELEMENTS(subdirs); s++) {
			char *path = xasprintf("%s/%s", dir, subdirs[s]);
			char *prefix = xasprintf("%s/", subdirs[s]);
			if (is_dir(path))
				scan_files(scan, path, prefix, 1);
			free(prefix);
			free(path);
		}
		char *tmp = xasprintf("%s/tmp", dir);
		size_t n = is_dir(tmp) ? count_entries(tmp) : 0;
		if (n > 0)
			skip(scan, "tmp/",
			     errf("%zu file%s being delivered, not yet mail", n, n == 1 ? "" : "s"));
		free(tmp);
	}
	/* the top: in a maildir its folders and metadata (reported), else
	   the message files themselves */
	scan_files(scan, dir, "", maildir);
	/* names no longer moves: the offsets become pointers */
	for (size_t i = 0; i < scan->count; i++)
		scan->files[i].name = scan->names + scan->files[i].off;
	if (scan->count > 0)
		qsort(scan->files, scan->count, sizeof(*scan->files), cmp_entry);
}

static void
dir_scan_free(struct dir_scan *scan)
{
	x_free(&scan->files);
	x_free(&scan->names);
	buf_free(&scan->skipped);
}

static void
import_usage(FILE *out)
{
	fprintf(out, "usage: deskgate [-c FILE] import [--no-progress] PATH...\n\n"
		     "Import a backlog: each PATH is a maildir (either of cur/ and new/; tmp/ is\n"
		     "left alone), a directory of message files, an mbox file, or one message\n"
		     "file. Messages are committed in batches of %d; duplicates are skipped, bad\n"
		     "mail is quarantined. What is skipped (subfolders, metadata, tmp/) is listed\n"
		     "with the reason. A progress bar is drawn when standard error is a terminal;\n"
		     "a summary is printed at the end. Exit status: 0 done, 64 usage, 66 a PATH\n"
		     "yielded no message (or cannot be read), 75 store failure (run it again:\n"
		     "what was committed is skipped as duplicate).\n",
		IMPORT_BATCH);
}

int
cmd_import(int argc, char **argv)
{
	int progress = isatty(STDERR_FILENO);
	int i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (cli_is_help(argv[i])) {
			import_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--no-progress") == 0) {
			progress = 0;
		} else {
			import_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		import_usage(stderr);
		return EXIT_USAGE;
	}

	struct config *config;
	struct store *store;
	cli_open(&config, &store);
	struct import im = { 0 };
	im.ingest = ingest_new(config, store);
	im.config = config;
	im.progress = progress && !cli_global.quiet;
	im.started = now_seconds();
	/* Per-message lines would bury the progress bar. */
	if (log_get_level() == LOG_LEVEL_INFO)
		log_set_level(LOG_LEVEL_WARN);

	int empty_paths = 0;
	for (; i < argc && !im.failed; i++) {
		struct stat st;
		const char *path = argv[i];
		size_t done_before = im.done;
		if (stat(path, &st) < 0) {
			log_error("import: %s: %s: nothing imported", path, strerror(errno));
			im.unreadable++;
			empty_paths++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			struct dir_scan scan;
			collect_dir(path, &scan);
			im.total += scan.count;
			for (size_t k = 0; k < scan.count && !im.failed; k++) {
				char *file = xasprintf("%s/%s", path, scan.files[k].name);
				import_file(&im, file);
				free(file);
			}
			im.skipped += scan.n_skipped;
			if (scan.n_skipped > 0)
				log_warnx("import: %s: skipped %zu: %s", path, scan.n_skipped,
					  buf_cstr(&scan.skipped));
			dir_scan_free(&scan);
		} else {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				log_error("import: %s: %s: nothing imported", path, strerror(errno));
				im.unreadable++;
				empty_paths++;
				continue;
			}
			unsigned char head[5];
			ssize_t n = pread(fd, head, sizeof(head), 0);
			if (n == (ssize_t)sizeof(head) && mbox_detect(head, sizeof(head))) {
				import_mbox(&im, path, fd, (size_t)st.st_size);
			} else {
				im.total++;
				import_file(&im, path);
			}
			close(fd);
		}
		if (im.done == done_before && !im.failed) {
			log_error("import: %s: no message found in it%s", path,
				  S_ISDIR(st.st_mode) ? " (a maildir has cur/ or new/, a directory "
							"holds message files)"
						      : "");
			empty_paths++;
		}
	}
	if (!im.failed)
		import_flush(&im);
	draw_progress(&im, 1);

	double secs = now_seconds() - im.started;
	fprintf(stdout,
		"imported %zu messages in %.1f s (%.0f msg/s): %zu new tickets, %zu replies, "
		"%zu duplicates, %zu quarantined, %zu reports, %zu unreadable, %zu skipped%s\n",
		im.done, secs, secs > 0 ? (double)im.done / secs : 0.0, im.counts[INGEST_NEW_TICKET],
		im.counts[INGEST_APPENDED], im.counts[INGEST_DUPLICATE],
		im.counts[INGEST_QUARANTINED], im.counts[INGEST_REPORT], im.unreadable, im.skipped,
		im.failed ? " (stopped: store failure; run again to continue)" : "");
	ingest_free(&im.ingest);
	store_close(&store);
	config_free(&config);
	if (im.failed)
		return EXIT_TEMPFAIL;
	return empty_paths > 0 ? EXIT_NOINPUT : 0;
}
