/*
 * imap: the IMAP client, an adapter over libetpan's mailimap (the only
 * module that includes it). It speaks our types: UIDs, byte ranges and
 * error strings; the poller decides what to do with them.
 *
 * - Connection: imaps, STARTTLS (refused when the server does not offer it,
 *   never a silent fall back to plain text) or plain text; SNI is sent for
 *   host names. Debian's libetpan verifies no certificate, so the chain is
 *   verified with crypto_verify_chain() right after the handshake, before
 *   any credential is sent.
 * - Authentication: LOGIN, AUTHENTICATE PLAIN, XOAUTH2 and OAUTHBEARER
 *   (with SASL-IR when offered). Capabilities are refreshed after STARTTLS
 *   and after authentication.
 * - Messages are fetched with UID FETCH (UID RFC822.SIZE BODY.PEEK[]<0.max>)
 *   and handed to a callback one at a time as they arrive, so a batch never
 *   sits whole in memory; a message longer than that is fetched alone with
 *   imap_fetch_stream(), its bytes passed on as they arrive.
 * - Network reads and writes time out after settings.timeout seconds; a
 *   response that trickles in slower than 64 KiB per timeout period counts
 *   as stalled and the connection is dropped.
 *
 * Failures: every function returns 0 or -1 with *error_r; imap_failure()
 * then grades it: IMAP_FAIL_NETWORK (connection lost, timeout, stall,
 * garbage, BYE: the connection is unusable, reconnect), IMAP_FAIL_TLS
 * (handshake failed or certificate refused), IMAP_FAIL_AUTH (credentials
 * rejected), IMAP_FAIL_SERVER (the server answered NO or BAD to a command;
 * the connection is still usable).
 *
 * Ownership: struct imap_conn belongs to the caller (imap_free()); strings
 * and arrays passed in are borrowed; *uids_r from imap_uid_search() is the
 * caller's to free(). Not thread-safe; one connection per mailbox.
 */
#ifndef DG_IMAP_H
#define DG_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct imap_conn;

enum imap_security { IMAP_SECURITY_IMAPS, IMAP_SECURITY_STARTTLS, IMAP_SECURITY_NONE };

enum imap_auth { IMAP_AUTH_LOGIN, IMAP_AUTH_PLAIN, IMAP_AUTH_XOAUTH2, IMAP_AUTH_OAUTHBEARER };

enum imap_failure {
	IMAP_FAIL_NONE,
	IMAP_FAIL_NETWORK,
	IMAP_FAIL_TLS,
	IMAP_FAIL_AUTH,
	IMAP_FAIL_SERVER,
};

struct imap_settings {
	const char *host;
	unsigned port;
	enum imap_security security;
	const char *ca_file; /* NULL: the system's trust store */
	int tls_verify;	     /* 0 only when configured so (logged as a warning) */
	unsigned timeout;    /* seconds, for connect and every read and write */
};

struct imap_mailbox_info {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t exists;
	int keywords_allowed; /* PERMANENTFLAGS has \* */
	int read_only;
};

/* Called for each fetched message, in the server's order. data is borrowed
   for the call only; NULL when the server answered NIL for the body (it
   has the message but will not give it). size is the message's
   RFC822.SIZE, 0 when the server did not say. Return 0 to go on, -1 to
   ignore the rest of this fetch (the command still completes, so the
   connection stays usable). */
typedef int imap_message_fn(void *context, uint32_t uid, const unsigned char *data, size_t len,
			    uint64_t size);
/* A piece of a message being streamed (imap_fetch_stream()). */
typedef void imap_chunk_fn(void *context, const unsigned char *data, size_t len);

/* Parse "imaps|starttls|none" and "login|plain|xoauth2|oauthbearer"; -1
   when unknown. */
int imap_security_parse(const char *s, enum imap_security *security_r);
int imap_auth_parse(const char *s, enum imap_auth *auth_r);

/* A folder name (UTF-8) in IMAP's modified UTF-7 (RFC 3501 5.1.3), as sent
   on the wire; NULL when name is not valid UTF-8. The caller frees it. */
char *imap_mutf7_encode(const char *name);

/* A new, unconnected client; settings are copied. */
struct imap_conn *imap_new(const struct imap_settings *settings);
void imap_free(struct imap_conn **connp);
enum imap_failure imap_failure(const struct imap_conn *conn);

/* Connect, negotiate TLS as configured, verify the certificate, read the
   capabilities. */
int imap_connect(struct imap_conn *conn, const char **error_r);
/* Authenticate. secret is the password (LOGIN, PLAIN) or the OAuth2 access
   token (XOAUTH2, OAUTHBEARER). */
int imap_login(struct imap_conn *conn, enum imap_auth auth, const char *user, const char *secret,
	       const char **error_r);
/* 1 when the server announced the capability (e.g. "IDLE", "MOVE",
   "UIDPLUS", "AUTH=PLAIN"), case-insensitive. */
int imap_has_capability(struct imap_conn *conn, const char *name);
/* "host:port security=S user=U" for log lines; static storage. */
const char *imap_describe(const struct imap_conn *conn);

/* SELECT a folder (UTF-8 name; encoded to modified UTF-7 here). */
int imap_select(struct imap_conn *conn, const char *folder, struct imap_mailbox_info *info_r,
		const char **error_r);
/* UIDs in [first, last] (last 0: no upper bound), ascending; with
   unseen_only only those without \Seen. */
int imap_uid_search(struct imap_conn *conn, uint32_t first, uint32_t last, int unseen_only,
		    uint32_t **uids_r, size_t *count_r, const char **error_r);
/* Fetch the messages with these UIDs (ascending), at most max_size + 1
   bytes of each (max_size 0: whole messages), calling fn once for each one
   the server returns (UIDs not asked for, and repeats, are ignored). A
   message longer than max_size arrives cut to max_size + 1 bytes, which is
   how the caller tells it is too large. */
int imap_fetch(struct imap_conn *conn, const uint32_t *uids, size_t count, size_t max_size,
	       imap_message_fn *fn, void *context, const char **error_r);
/* Fetch one message whole, UID FETCH uid (UID BODY.PEEK[]), handing its
   bytes to fn as they arrive (libetpan's body handler): a message of any
   size passes through without being held in memory. 1 delivered, 0 the
   server sent no body for it (NIL, or nothing: expunged), -1 with
   *error_r. */
int imap_fetch_stream(struct imap_conn *conn, uint32_t uid, imap_chunk_fn *fn, void *context,
		      const char **error_r);
/* UID STORE +FLAGS.SILENT: \Seen when seen, and keyword when not NULL. */
int imap_add_flags(struct imap_conn *conn, const uint32_t *uids, size_t count, int seen,
		   const char *keyword, const char **error_r);
/* Move to folder: MOVE when offered, else COPY, \Deleted and UID EXPUNGE
   (plain EXPUNGE without UIDPLUS). */
int imap_move(struct imap_conn *conn, const uint32_t *uids, size_t count, const char *folder,
	      const char **error_r);
int imap_create(struct imap_conn *conn, const char *folder, const char **error_r);
/* \Deleted and UID EXPUNGE: the messages are gone from the folder. Needs
   UIDPLUS (a plain EXPUNGE would take what others marked \Deleted too):
   without it, -1 and nothing is done. */
int imap_delete(struct imap_conn *conn, const uint32_t *uids, size_t count, const char **error_r);

/* IDLE (needs a selected folder and the IDLE capability). While idling,
   poll imap_idle_fd() for reading, but first check imap_idle_pending():
   data may already be buffered. imap_idle_done() ends it and reads what
   the server sent; then search for new mail. */
int imap_idle_start(struct imap_conn *conn, const char **error_r);
int imap_idle_fd(struct imap_conn *conn);
int imap_idle_pending(struct imap_conn *conn);
int imap_idle_done(struct imap_conn *conn, const char **error_r);

/* 1 when a response to any command since the last call (or since SELECT)
   carried an untagged EXISTS, RECENT or EXPUNGE: the folder changed, look
   for new mail before going back to IDLE; the server will not repeat it.
   Clears it. */
int imap_take_changes(struct imap_conn *conn);

/* LOGOUT when the connection is healthy; always safe to call. */
void imap_logout(struct imap_conn *conn);

#endif
