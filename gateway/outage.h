/*
 * outage: one alert mail per outage of something the desk depends on,
 * and one when it is over; never one per retry. Today's subject: a
 * mailbox that cannot log in (its OAuth2 token command fails, or the
 * server keeps refusing its token or password), the silent failure that
 * stopped other helpdesks' fetching for days (issue 17).
 *
 * The record is in the store, as desk events (no ticket): "outage" when
 * the alert is queued, "recovered" when the all-clear is, each written in
 * the same transaction as its mail (deskmail_queue() into the outbox). So
 * an alert is sent exactly when its record is committed: once per outage,
 * across restarts too (a daemon started during an outage finds it open and
 * sends nothing new; its first good login sends the all-clear).
 *
 * Who is told: the desk's supervisors (supervisor.h: [alerts] supervisors,
 * agent names or addresses, else the agents with supervisor = yes, else
 * every [agent]). Nobody to tell: the event and the log line still say it.
 * The mail says what fails, since when and the error (which never holds
 * a secret: the IMAP and credential modules keep tokens out of errors).
 *
 * Ownership: outage_new() borrows config and store, which must outlive it.
 */
#ifndef DG_OUTAGE_H
#define DG_OUTAGE_H

#include <stdint.h>

struct config;
struct store;
struct outage;

int outage_new(const struct config *config, struct store *store, struct outage **outage_r,
	       const char **error_r);
void outage_free(struct outage **outagep);

/* subject names what fails ("mailbox support"); why says how. 1: the
   outage starts now and its alert is queued; 0: it was already open
   (nothing sent); -1 with *error_r: the store failed (try again later). */
int outage_begin(struct outage *outage, const char *subject, const char *why, int64_t now,
		 const char **error_r);
/* 1: an open outage of subject ended and the all-clear is queued; 0: none
   was open; -1 with *error_r. */
int outage_end(struct outage *outage, const char *subject, int64_t now, const char **error_r);
/* 1: subject has an open outage, 0: not, -1 with *error_r. */
int outage_is_open(struct outage *outage, const char *subject, const char **error_r);

/* The subjects, one format for every caller (malloc()ed). */
char *outage_subject_mailbox(const char *name);
char *outage_subject_relay(const char *host, uint64_t port);
/* The open outages of subjects not in known[] (a mailbox removed from the
   configuration, a relay replaced): each ends with an all-clear that says
   so, so that none stays open for ever. Returns how many ended, or -1
   with *error_r. */
int outage_close_unknown(struct outage *outage, const char *const *known, size_t n_known,
			 int64_t now, const char **error_r);

/* ---- streaks: N failures in a row begin an outage, a success ends it ---- */

/* The failures in a row of one subject (a mailbox's logins, the relay's),
   and whether this process's outage of it is open. The first success (or
   the first after start, which looks for a previous run's outage) ends
   it. Each streak takes its own lock, so any thread may count; the
   struct outage passed in must be the caller's (it borrows the caller's
   store connection). Ownership: outage_streak_new() copies subject. */
struct outage_streak;

struct outage_streak *outage_streak_new(const char *subject);
void outage_streak_free(struct outage_streak **streakp);
/* One more failure: when it makes `after` in a row and no outage of ours
   is open, it begins (outage_begin(), why "<N> <what> in a row; the last:
   <last>"). 1 begun now, 0 nothing to do, -1 with *error_r when the store
   failed (tried again at the next failure). o NULL: only counted. */
int outage_streak_failed(struct outage_streak *s, struct outage *o, unsigned after,
			 const char *what, const char *last, int64_t now, const char **error_r);
/* A success: the count starts again, and an open outage (ours, or one a
   previous run left open: looked for once) ends. 1 ended now, 0 nothing
   to do, -1 with *error_r (tried again at the next success). */
int outage_streak_ok(struct outage_streak *s, struct outage *o, int64_t now, const char **error_r);
/* The count starts again, an open outage stays open (a failure of
   another kind came between). */
void outage_streak_reset(struct outage_streak *s);
/* Failures in a row now. */
unsigned outage_streak_count(struct outage_streak *s);
const char *outage_streak_subject(const struct outage_streak *s);

#endif
