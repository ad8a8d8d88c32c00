/*
 * credential: the secret a client logs in with, from where the
 * configuration says: the first line of a file (password_file,
 * token_file), or the first line a command prints (token_command, an
 * OAuth2 token helper). Used by the IMAP poller and the SMTP client.
 *
 * A command runs as `/bin/sh -c COMMAND`:
 * - in a process group of its own, so that a timeout ends the helpers it
 *   started too;
 * - with a clean signal state: an empty signal mask and every signal at
 *   its default disposition, whatever the daemon blocks (it reads
 *   TERM/INT/HUP from a signalfd) or ignores (SIGPIPE);
 * - with standard input from /dev/null, standard output to us and standard
 *   error inherited (it reaches the daemon's log);
 * - for at most `timeout` seconds: then its process group is killed and
 *   reaped, and waiting for it is bounded too, so that a hanging helper
 *   can never stop the daemon's loop.
 * Its output must end within CREDENTIAL_MAX bytes; the exit status must be
 * 0 and the first line not empty.
 *
 * Secrets never appear in error messages. Ownership: the returned string is
 * the caller's; free it with credential_free(), which wipes it first.
 */
#ifndef DG_CREDENTIAL_H
#define DG_CREDENTIAL_H

#define CREDENTIAL_MAX 8192

/* The first line of the file at path, without its line end and trimmed of
   white space; NULL with *error_r ("PATH: REASON", "PATH: empty"). */
char *credential_read_file(const char *path, const char **error_r);

/* Run command and take the first line of its output (trimmed); NULL with
   *error_r ("token_command did not finish within N s", "... exited with
   status N", "... killed by signal N", "... printed no token", "...
   printed more than 8 KiB"). timeout 0 means 60 s. */
char *credential_run(const char *command, unsigned timeout, const char **error_r);

/* Wipe and free *secretp; sets it to NULL; accepts NULL. */
void credential_free(char **secretp);

#endif
