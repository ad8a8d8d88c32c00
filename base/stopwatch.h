/*
 * stopwatch: where a thread's wall time goes, for profiling logs: on a
 * core (its CPU time), waiting for a core (the scheduler's run-queue
 * delay, from /proc/thread-self/schedstat; 0 where that file is missing),
 * or neither, i.e. blocked (a socket, the disk, a lock). On a loaded
 * machine the second can be most of the wall time; without it, waiting for
 * a core looks like waiting for the server.
 *
 * stopwatch_read() costs two clock_gettime() and, with runq, one read of
 * a small /proc file: for timings at phase boundaries (a batch, a commit),
 * not for each message. No state; thread-safe.
 */
#ifndef DG_STOPWATCH_H
#define DG_STOPWATCH_H

struct stopwatch {
	double wall; /* CLOCK_MONOTONIC, seconds */
	double cpu;  /* this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) */
	double runq; /* this thread's time waiting for a core so far */
	int has_runq; /* runq was read */
};

/* Now, for the calling thread; runq is read only when with_runq. */
void stopwatch_read(struct stopwatch *sw, int with_runq);
/* *acc += now - *since, field by field (runq only when since has it). */
void stopwatch_add_since(struct stopwatch *acc, const struct stopwatch *since);

#endif
