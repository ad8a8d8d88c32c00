/*
 * desk-test: helpers the desk's unit tests share (test-agent, test-deskmail,
 * test-ingest, test-merge, test-collide): a temporary state directory with
 * a threading secret and a configuration, ingest and threading over its
 * store, and questions to the store about what a test did; for the tests
 * of time (test-escalate, test-digest, test-pending, test-schedule-dst):
 * the test clock, a mail ingested at an instant, a scheduler tick.
 */
#ifndef DG_DESK_TEST_H
#define DG_DESK_TEST_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/ingest.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"

static inline void
desk_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp == NULL) {
		printf("cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

static inline int
desk_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* mkdir -p path (mode 0700). */
static inline void
desk_mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(p, 0700);
		*s = '/';
	}
	(void)mkdir(p, 0700);
	free(p);
}

/* Remove dir and everything in it, unless KEEP_TMP is set. */
static inline void
desk_rm_tree(const char *dir)
{
	if (getenv("KEEP_TMP") == NULL)
		nftw(dir, desk_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/secret (a fixed threading key, mode 0600) and dir/deskgate.conf with
   [general] state_dir = dir, then the sections given; returns the
   configuration's path (caller frees). */
static inline char *
desk_write_config(const char *dir, const char *sections)
{
	char *path = xasprintf("%s/secret", dir);
	desk_write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	chmod(path, 0600);
	free(path);
	char *conf = xasprintf("[general]\nstate_dir = %s\n%s", dir, sections);
	path = xasprintf("%s/deskgate.conf", dir);
	desk_write_file(path, conf);
	free(conf);
	return path;
}

/* desk_write_config(dir, sections), then load it and open the store at
   location (NULL: dir/deskgate.db). 0, or -1 after printing why. */
static inline int
desk_open_at(const char *dir, const char *sections, const char *location,
	     struct config **config_r, struct store **store_r)
{
	const char *error;
	char *path = desk_write_config(dir, sections);
	int ret = config_load(path, config_r, &error);
	free(path);
	if (ret < 0) {
		printf("config: %s\n", error);
		return -1;
	}
	path = location != NULL ? xstrdup(location) : xasprintf("%s/deskgate.db", dir);
	ret = store_open(path, dir, store_r, &error);
	free(path);
	if (ret < 0)
		printf("store_open: %s\n", error);
	return ret;
}

/* desk_open_at(dir, sections, NULL, ...). */
static inline int
desk_open(const char *dir, const char *sections, struct config **config_r,
	  struct store **store_r)
{
	return desk_open_at(dir, sections, NULL, config_r, store_r);
}

/* Ingest and threading over store (now > 0: ingest's clock set to it);
   with dm_r also deskmail. 0, or -1 after printing why. */
static inline int
desk_ingest_open(struct config *config, struct store *store, int64_t now,
		 struct ingest **ingest_r, struct thread_config **tc_r, struct deskmail **dm_r)
{
	const char *error;
	if (ingest_init(config, store, ingest_r, &error) < 0) {
		printf("ingest_init: %s\n", error);
		return -1;
	}
	if (thread_config_new(config, tc_r, &error) < 0) {
		printf("thread_config_new: %s\n", error);
		return -1;
	}
	if (dm_r != NULL && deskmail_new(config, *tc_r, store, dm_r, &error) < 0) {
		printf("deskmail_new: %s\n", error);
		return -1;
	}
	if (now > 0)
		ingest_set_now(*ingest_r, now);
	return 0;
}

/* Frees what desk_open() and desk_ingest_open() made (dm may be NULL). */
static inline void
desk_close(struct deskmail **dm, struct thread_config **tc, struct ingest **ingest,
	   struct store **store, struct config **config)
{
	if (dm != NULL)
		deskmail_free(dm);
	thread_config_free(tc);
	ingest_free(ingest);
	store_close(store);
	config_free(config);
}

/* Templates and rules from the source tree when the build runs the tests. */
static inline void
desk_datadir(void)
{
	const char *top = getenv("top_srcdir");
	if (getenv("DESKGATE_DATADIR") == NULL && top != NULL) {
		char *dd = xasprintf("%s:%s/contrib", top, top);
		setenv("DESKGATE_DATADIR", dd, 1);
		free(dd);
	}
}

/* 1 when ticket id has an event of kind whose detail contains needle
   (NULL: any). */
static inline int
desk_has_event(struct store *store, int64_t id, const char *kind, const char *needle)
{
	struct store_event *ev = NULL;
	size_t n = 0;
	const char *error;
	int found = 0;
	if (store_event_list(store, id, &ev, &n, &error) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(ev[i].kind, kind) == 0 &&
			 (needle == NULL ||
			  (ev[i].detail != NULL && strstr(ev[i].detail, needle) != NULL));
	store_events_free(&ev, n);
	return found;
}

/* Outbox rows of kind to rcpt whose text holds needle (NULL: any) and
   whose raw bytes hold raw_needle (NULL: any); -1 when the store fails. */
static inline int
desk_count_outbox(struct store *store, const char *kind, const char *rcpt, const char *needle,
		  const char *raw_needle)
{
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	const char *error;
	int count = 0;
	struct mime_limits limits;
	mime_limits_default(&limits);
	if (store_outbox_list(store, NULL, 0, &list, &n, &error) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].kind, kind) != 0 || strstr(list[i].recipients, rcpt) == NULL)
			continue;
		struct mime_message *m = NULL;
		if (store_outbox_get(store, list[i].id, &o, &error) == 1 &&
		    mime_parse(o->raw, o->raw_size, &limits, &m, &error) == 0)
			count += (needle == NULL || strstr(m->text, needle) != NULL) &&
				 (raw_needle == NULL ||
				  memmem(o->raw, o->raw_size, raw_needle, strlen(raw_needle)) != NULL);
		mime_message_free(&m);
		store_outbox_free(&o);
	}
	store_outboxes_free(&list, n);
	return count;
}

/* The test clock (base/clock.h, compiled in with DG_TEST_CLOCK): the
   store's stamps, ingest and the scheduler all read the file clock_file
   (DESKGATE_TEST_CLOCK) holds. */
static inline void
desk_set_clock(const char *clock_file, int64_t t)
{
	char *s = xasprintf("%lld\n", (long long)t);
	desk_write_file(clock_file, s);
	free(s);
}

/* A test of time's start: mkdtemp(dir), the test clock in dir/clock
   (*clock_file_r, caller frees) at now, DESKGATE_TEST_CLOCK naming it.
   0, or -1 after printing why. */
static inline int
desk_clock_init(char *dir, int64_t now, char **clock_file_r)
{
	if (mkdtemp(dir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	*clock_file_r = xasprintf("%s/clock", dir);
	desk_set_clock(*clock_file_r, now);
	setenv("DESKGATE_TEST_CLOCK", *clock_file_r, 1);
	return 0;
}

/* Ingest raw (source "test") with the clock at now; its ticket, or 0
   after printing why. */
static inline int64_t
desk_ingest_at(struct ingest *ingest, const char *clock_file, const char *raw, int64_t now)
{
	struct ingest_result res;
	const char *error = NULL;
	struct ingest_source src = { .label = "test" };
	desk_set_clock(clock_file, now);
	ingest_set_now(ingest, now);
	if (ingest_message(ingest, (const unsigned char *)raw, strlen(raw), &src, &res, &error) <
	    0) {
		printf("ingest_message: %s\n", error);
		return 0;
	}
	return res.ticket_id;
}

/* A customer's mail about subject (Carl, to support@example.test; a new
   Message-ID "<TAG.N.PID@customer.example>" each time), ingested with the
   clock at now: its ticket. */
static inline int64_t
desk_customer_mail(struct ingest *ingest, const char *clock_file, char tag, const char *subject,
		   int64_t now)
{
	static int n;
	char *raw = xasprintf("From: Carl Customer <carl@customer.example>\nTo: support@example.test\n"
			      "Subject: %s\nDate: Tue, 11 Mar 2025 10:00:00 +0100\n"
			      "Message-ID: <%c%d.%d@customer.example>\nMIME-Version: 1.0\n"
			      "Content-Type: text/plain; charset=utf-8\n\nAbout %s: please help.\n",
			      subject, tag, ++n, (int)getpid(), subject);
	int64_t id = desk_ingest_at(ingest, clock_file, raw, now);
	free(raw);
	return id;
}

/* Run what is due on the scheduler with the clock at now. 0, or -1
   after printing why. */
static inline int
desk_tick(struct schedule *sched, const char *clock_file, int64_t now)
{
	struct schedule_stats st;
	const char *error;
	desk_set_clock(clock_file, now);
	if (schedule_run_due(sched, now, 100, 10, &st, &error) < 0) {
		printf("tick: %s\n", error);
		return -1;
	}
	return 0;
}

#endif
