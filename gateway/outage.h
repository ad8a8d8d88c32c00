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
 * Who is told: [alerts] supervisors (agent names or addresses), else
 * every [agent]. Nobody to tell: the event and the log line still say it.
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

#endif
