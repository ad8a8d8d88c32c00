/* stopwatch: see stopwatch.h. */
#include "build-config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/stopwatch.h"

static double
seconds(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The second field of /proc/thread-self/schedstat: nanoseconds spent on
   a run queue, waiting for a core (Documentation/scheduler/sched-stats). */
static double
runq_seconds(void)
{
	char buf[128];
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	(void)strtoull(buf, &end, 10); /* time on a core */
	unsigned long long waited = strtoull(end, NULL, 10);
	return (double)waited / 1e9;
}

void
stopwatch_read(struct stopwatch *sw, int with_runq)
{
	sw->wall = seconds(CLOCK_MONOTONIC);
	sw->cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
	sw->runq = with_runq ? runq_seconds() : 0;
	sw->has_runq = with_runq;
}

void
stopwatch_add_since(struct stopwatch *acc, const struct stopwatch *since)
{
	struct stopwatch now;
	stopwatch_read(&now, since->has_runq);
	acc->wall += now.wall - since->wall;
	acc->cpu += now.cpu - since->cpu;
	if (since->has_runq)
		acc->runq += now.runq - since->runq;
}
