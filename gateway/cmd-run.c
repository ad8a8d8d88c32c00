/*
 * deskgate run [--once]: the daemon. Serves every [mailbox NAME] of the
 * configuration in one event loop (see poller.h) until SIGTERM; SIGHUP
 * reloads the configuration. With --once it processes what is in the
 * mailboxes now and exits: 0 when every mailbox was processed, 75 when one
 * could not be (the reason is logged), for cron and for tests. On a
 * terminal --once draws a progress bar (and logs only warnings and errors,
 * unless -v). One `run` per store: state_dir/deskgate.pid is locked
 * (flock) for the life of the process; a second one exits 75 naming the
 * pid that holds it.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/cli.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/digest.h"
#include "gateway/report-mail.h"
#include "gateway/escalate.h"
#include "gateway/pending.h"
#include "gateway/lease.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/outbox-worker.h"
#include "gateway/outbox.h"
#include "gateway/poller.h"
#include "gateway/schedule.h"
#include "gateway/service.h"
#include "gateway/store.h"
#include "gateway/survey.h"
#include "gateway/thread.h"
#include "base/clock.h"
#include "base/stopwatch.h"
#include "base/util.h"

/* The outbox sender in the main thread: --once's last drain, and the
   loop's when the outbox thread could not start. The outbox keeps a
   pointer to the configuration, which a reload replaces: it is made anew
   when the configuration changed. */
struct run_outbox {
	struct poller *poller;
	struct store *store;
	struct outbox *outbox;
	unsigned long generation;    /* of the configuration it was made with */
	int broken;		     /* the last run failed on the store or config */
	struct lease_set *leases;    /* this gateway's claims (lease.h) */
};

static int
run_outbox_send(struct run_outbox *ro, size_t max)
{
	const char *error;
	const struct config *config = poller_config(ro->poller);
	struct outbox_run_stats stats;

	/* a reload makes a new configuration: compare generations, not
	   pointers (a freed configuration's address can be reused) */
	unsigned long generation = poller_config_generation(ro->poller);
	if (ro->outbox == NULL || ro->generation != generation) {
		outbox_free(&ro->outbox);
		if (outbox_new(ro->store, config, &ro->outbox, &error) < 0) {
			if (!ro->broken)
				log_error("outbox: %s", error);
			ro->broken = 1;
			return -1;
		}
		ro->generation = generation;
		outbox_set_leases(ro->outbox, ro->leases);
	}
	if (outbox_run_due(ro->outbox, clock_now(), max, &stats, &error) < 0) {
		if (!ro->broken)
			log_error("outbox: %s", error);
		ro->broken = 1;
		return -1;
	}
	ro->broken = 0;
	return stats.more && !stats.relay_down ? 1 : 0;
}

/* The outbox on its own thread (outbox-worker.h): the loop only tells it
   about reloads. Without the thread (it could not start), the loop sends
   as it did before, every second. */
struct run_worker {
	struct run_outbox *ro;
	struct outbox_worker *worker;
	unsigned long generation;
};

static void
run_outbox_timer(void *context)
{
	struct run_worker *rw = context;
	if (rw->worker == NULL) {
		(void)run_outbox_send(rw->ro, 100);
		return;
	}
	unsigned long generation = poller_config_generation(rw->ro->poller);
	if (generation != rw->generation) {
		rw->generation = generation;
		outbox_worker_reload(rw->worker);
	}
	/* each tick, and at once on a wake-up (LISTEN/NOTIFY): the thread
	   looks at the queue now rather than at the end of its own wait */
	outbox_worker_kick(rw->worker);
}

/* The scheduler (gateway/schedule.h), ticked from the poller's loop: the
   SLA escalation ladder. Made anew with what it borrows from the
   configuration when a reload replaced it. */
struct run_schedule {
	struct poller *poller;
	struct store *store;
	unsigned long generation;
	struct thread_config *tc;
	struct deskmail *dm;
	struct escalate *escalate;
	struct pending *pending;
	struct digest *digest;
	struct report_mail *report;
	struct survey *survey;
	struct schedule *schedule;
	int64_t metrics_at; /* the SLA gauges were set then */
	int broken;
	struct lease_set *leases;
};

static void
run_schedule_clear(struct run_schedule *rs)
{
	schedule_free(&rs->schedule);
	digest_free(&rs->digest);
	report_mail_free(&rs->report);
	escalate_free(&rs->escalate);
	pending_free(&rs->pending);
	survey_free(&rs->survey);
	deskmail_free(&rs->dm);
	thread_config_free(&rs->tc);
}

/* Handle what is due now; 1 when more is due, 0 done, -1 failure. */
static int
run_schedule_tick(struct run_schedule *rs, unsigned int rounds)
{
	const char *error;
	const struct config *config = poller_config(rs->poller);
	unsigned long generation = poller_config_generation(rs->poller);
	if (rs->schedule == NULL || rs->generation != generation) {
		run_schedule_clear(rs);
		if (thread_config_new(config, &rs->tc, &error) < 0 ||
		    deskmail_new(config, rs->tc, rs->store, &rs->dm, &error) < 0 ||
		    escalate_new(config, rs->store, rs->dm, &rs->escalate, &error) < 0 ||
		    pending_new(config, rs->store, rs->dm, &rs->pending, &error) < 0 ||
		    digest_new(config, rs->store, rs->dm, &rs->digest, &error) < 0 ||
		    digest_arm(rs->digest, clock_now(), &error) < 0 ||
		    report_mail_new(config, rs->store, rs->dm, &rs->report, &error) < 0 ||
		    report_mail_arm(rs->report, clock_now(), &error) < 0) {
			if (!rs->broken)
				log_error("schedule: %s", error);
			run_schedule_clear(rs);
			rs->broken = 1;
			return -1;
		}
		rs->schedule = schedule_new(rs->store);
		schedule_set_leases(rs->schedule, rs->leases);
		escalate_register(rs->escalate, rs->schedule);
		pending_register(rs->pending, rs->schedule);
		digest_register(rs->digest, rs->schedule);
		report_mail_register(rs->report, rs->schedule);
		rs->survey = survey_new(config, rs->store, rs->dm, rs->tc);
		survey_register(rs->survey, rs->schedule);
		rs->generation = generation;
	}
	struct schedule_stats stats;
	int64_t now = clock_now();
	if (now - rs->metrics_at >= 60) {
		/* the SLA gauges, once a minute (one indexed query) */
		rs->metrics_at = now;
		if (escalate_update_metrics(rs->escalate, now, &error) < 0) {
			metrics_inc(METRIC_STORE_ERRORS, "schedule");
			log_warnx("schedule: SLA metrics: %s", error);
		}
	}
	if (schedule_run_due(rs->schedule, now, 100, rounds, &stats, &error) < 0) {
		/* schedule_run_due() fails only on the store */
		metrics_inc(METRIC_STORE_ERRORS, "schedule");
		if (!rs->broken)
			log_error("schedule: %s", error);
		rs->broken = 1;
		return -1;
	}
	rs->broken = 0;
	return stats.more ? 1 : 0;
}

static void
run_schedule_timer(void *context)
{
	(void)run_schedule_tick(context, 1);
}

/* Several gateways on one store: renew this one's leases (lease.h). */
static void
run_lease_timer(void *context)
{
	const char *error;
	if (lease_tick(context, clock_now(), &error) < 0)
		log_warnx("lease: %s", error);
}

/* The pid file, state_dir/deskgate.pid: `deskgate rules reload` reads the
   pid to send SIGHUP, and it is the lock that keeps a second daemon off the
   same store. The lock is flock() on the open file, held until the
   process ends (the kernel drops it even after SIGKILL), so a stale file
   of a dead daemon is never mistaken for a live one. */
struct pidfile {
	char *path;
	int fd;
};

/* The pid written in an existing lock file, or 0. */
static long
pidfile_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t pid;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return str_to_u64(str_trim(buf), 4194304, &pid) == 0 ? (long)pid : 0;
}

static int
same_file(int fd, const char *path)
{
	struct stat fst, pst;
	return fstat(fd, &fst) == 0 && stat(path, &pst) == 0 && fst.st_dev == pst.st_dev &&
	       fst.st_ino == pst.st_ino;
}

/* 0: the lock is ours and our pid is in the file; -1 with *error_r: another
   deskgate holds it (named by its pid), or the file cannot be used.

   The file appears under its name already written and locked (made under a
   temporary name, then link()ed, which never replaces), so a reader never
   finds it empty. A file left by a dead daemon is not locked: whoever
   locks it may remove it, after checking that the name still points to it
   (only one process at a time holds that lock, and the daemon that
   replaced it released it only after its own file was in place). */
static int
pidfile_lock(const struct config *config, struct pidfile *pf, const char **error_r)
{
	pf->path = xasprintf("%s/deskgate.pid", config->state_dir);
	pf->fd = -1;
	char *tmp = xasprintf("%s.%ld.tmp", pf->path, (long)getpid());
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	int ret = -1;
	(void)unlink(tmp);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*error_r = errf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (int tries = 0; tries < 10; tries++) {
		if (link(tmp, pf->path) == 0) {
			pf->fd = fd;
			fd = -1;
			ret = 0;
			goto out;
		}
		if (errno != EEXIST) {
			*error_r = errf("%s: %s", pf->path, strerror(errno));
			goto out;
		}
		int old = open(pf->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (old < 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile: try again */
			*error_r = errf("%s: %s", pf->path, strerror(errno));
			goto out;
		}
		if (flock(old, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;
			long holder = pidfile_holder(old);
			close(old);
			if (err != EWOULDBLOCK)
				*error_r = errf("%s: lock: %s", pf->path, strerror(err));
			else if (holder > 0)
				*error_r = errf("another deskgate run (pid %ld) is using %s: it holds "
						"the lock on %s",
						holder, config->state_dir, pf->path);
			else
				*error_r = errf("another deskgate run is using %s: it holds the lock "
						"on %s",
						config->state_dir, pf->path);
			goto out;
		}
		/* left by a daemon that is gone: remove it, if it is still the
		   file under that name */
		long stale = pidfile_holder(old);
		if (same_file(old, pf->path)) {
			(void)unlink(pf->path);
			log_info("removed the stale pid file %s (pid %ld no longer holds it)", pf->path,
				 stale);
		}
		close(old);
	}
	*error_r = errf("%s: keeps changing under us", pf->path);
out:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return ret;
}

static void
pidfile_release(struct pidfile *pf)
{
	if (pf->fd >= 0) {
		/* remove it while the lock is still held (see pidfile_lock()) */
		unlink(pf->path);
		close(pf->fd);
		pf->fd = -1;
	}
	x_free(&pf->path);
}

static void
run_usage(FILE *out)
{
	fprintf(out, "usage: deskgate run [--once]\n\n"
		     "Watch every [mailbox NAME] of the configuration and turn new mail into\n"
		     "tickets: IMAP IDLE where the server offers it, else polling. Messages\n"
		     "are flagged \\Seen (or moved, after = move) only once their ticket is\n"
		     "committed. SIGTERM finishes the current batch and exits; SIGHUP\n"
		     "reloads the configuration and the rules. Queued mail (acknowledgements,\n"
		     "notifications, relayed replies) is sent through [smtp] by a thread of\n"
		     "its own, so a slow relay never holds up a mailbox.\n"
		     "One run per state directory: a second one (daemon or --once) exits 75\n"
		     "naming the pid in state_dir/deskgate.pid, whose lock the first holds.\n"
		     "Several runs (each with its own state_dir) may share one store: each\n"
		     "mailbox is watched by one of them at a time ([store] lease_ttl).\n\n"
		     "  --once    process what is there now, then exit (0 done, 75 a mailbox\n"
		     "            failed); a progress bar on a terminal\n");
}

int
cmd_run(int argc, char **argv)
{
	struct poller_options opt = { 0 };
	struct config *config;
	struct store *store;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			run_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--once") == 0) {
			opt.once = 1;
		} else {
			fprintf(stderr, "deskgate run: unknown argument %s\n", argv[i]);
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	opt.progress_bar = opt.once && !cli_global.quiet && isatty(STDERR_FILENO);
	opt.keep_log_level = cli_global.verbose || cli_global.quiet;

	/* Block the signals the poller reads from its signalfd before anything
	   can see this daemon (its pid file): a SIGTERM sent as soon as the pid
	   file appears waits for the poller instead of killing the process
	   with the default action (a stale pid file, exit 143). Children get
	   an empty mask of their own (credential.c). */
	sigset_t stop_signals, orig_mask;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stop_signals, &orig_mask) < 0)
		fatal(EXIT_FAILURE, "sigprocmask: %s", strerror(errno));
	cli_open(&config, &store);
	struct pidfile pidfile;
	const char *error;
	if (pidfile_lock(config, &pidfile, &error) < 0) {
		log_error("%s", error);
		pidfile_release(&pidfile);
		store_close(&store);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	/* with a bar, one info line per message would only tear it apart */
	if (opt.progress_bar && !cli_global.verbose && log_get_level() > LOG_LEVEL_WARN)
		log_set_level(LOG_LEVEL_WARN);
	struct lease_set *leases = lease_set_new(store, (int64_t)config->store.lease_ttl, &error);
	if (leases == NULL) {
		log_error("%s", error);
		pidfile_release(&pidfile);
		store_close(&store);
		config_free(&config);
		return EXIT_TEMPFAIL;
	}
	struct poller *poller = poller_new(config, store, &opt);
	poller_set_leases(poller, leases);
	struct run_outbox ro = { .poller = poller, .store = store, .leases = leases };
	struct run_worker rw = { .ro = &ro, .generation = poller_config_generation(poller) };
	if (outbox_worker_start(config, lease_set_holder(leases), lease_set_ttl(leases),
				&rw.worker, &error) < 0)
		log_error("outbox: no thread of its own (%s): sending from the main loop", error);
	struct service *service = NULL;
	int failed = opt.once ? 0 : service_start(poller, store, &service);
	struct run_schedule rsch = { .poller = poller, .store = store, .leases = leases };
	poller_add_timer(poller, 1, run_lease_timer, leases);
	poller_add_timer(poller, 1, run_schedule_timer, &rsch);
	/* a wake timer: a NOTIFY from another gateway (store-pg) makes it due
	   at once, and it kicks the outbox thread */
	poller_add_wake_timer(poller, (unsigned)config->store.poll, run_outbox_timer, &rw);
	int r = failed ? 1 : poller_run(poller);
	/* the message in flight is finished, the rest waits in the queue */
	if (outbox_worker_stop(&rw.worker) && !opt.once)
		ro.broken = 1; /* --once: the drain below decides */
	if (opt.once) {
		struct stopwatch t0, spent = { 0 };
		stopwatch_read(&t0, 1);
		/* What is due now, then the mail it queued. */
		(void)run_schedule_tick(&rsch, 1000);
		/* Send what the run queued before exiting (while there is more
		   due and the relay answers). */
		while (run_outbox_send(&ro, 500) > 0)
			;
		stopwatch_add_since(&spent, &t0);
		log_debug("--once: schedule and outbox drain %.1f ms (cpu %.1f, waiting for a core "
			  "%.1f, blocked %.1f)",
			  spent.wall * 1e3, spent.cpu * 1e3, spent.runq * 1e3,
			  (spent.wall - spent.cpu - spent.runq) * 1e3);
	}
	service_stop(&service);
	run_schedule_clear(&rsch);
	outbox_free(&ro.outbox);
	poller_free(&poller);
	lease_set_free(&leases); /* a clean stop: the others take over at once */
	store_close(&store);
	pidfile_release(&pidfile);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	return failed ? failed : r == 0 && !ro.broken && !rsch.broken ? 0 : EXIT_TEMPFAIL;
}
