/*
 * smtp: see smtp.h. libcurl speaks the protocol; this file sets it up,
 * reads the server's replies from libcurl's debug stream (the only place
 * libcurl exposes the reply text) and grades the outcome.
 *
 * Only lines the server sends (CURLINFO_HEADER_IN) are kept. Of what we
 * send, only the command verb is looked at (to know whether a failure
 * concerns the session or the message); AUTH arguments and continuation
 * lines are never stored.
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/credential.h"
#include "gateway/log.h"
#include "gateway/smtp.h"
#include "base/util.h"

struct smtp_capture {
	/* the reply being read (multi-line replies arrive line by line) */
	int cur_code;
	char cur_enhanced[16];
	char cur_text[512];
	size_t cur_len;
	/* the last complete reply */
	int code;
	char enhanced[16];
	char text[512];
	/* the last command verb sent, and whether message data went out */
	char verb[12];
	int data_sent;
	int quit; /* QUIT sent: its 221 says nothing about the outcome */
	/* each RCPT's reply, in the order sent (libcurl sends them one at a
	   time, in the order of the list) */
	struct smtp_rcpt_result *rcpts;
	size_t n_rcpts;
	size_t rcpt_sent; /* RCPT commands sent so far */
};

struct smtp_client {
	CURL *curl;
	char *url;
	char *security;
	char *ca_file;
	int tls_verify;
	char *auth;
	char *username;
	char *password;
	char *token_command;
	char *token_file;
	char *token; /* XOAUTH2 access token, fetched on first use */
	long timeout;
	struct smtp_capture cap;
	char errbuf[CURL_ERROR_SIZE];
	int kept; /* the last transfer succeeded: libcurl kept its connection */
};

/* What we send to curl as the message body. */
struct smtp_upload {
	const unsigned char *data;
	size_t len;
	size_t pos;
};

int
smtp_host_is_loopback(const char *host)
{
	unsigned char addr[16];
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] == 127;
	if (inet_pton(AF_INET6, host, addr) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		return memcmp(addr, one, 16) == 0;
	}
	return 0;
}

/* Copy s into out (size n) with every byte that is not printable ASCII
   replaced by '?', so that server text is safe to log and store. */
static void
copy_printable(char *out, size_t n, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

/* Length of an RFC 3463 enhanced status code ("5.1.1") at s, 0 if none. */
static size_t
enhanced_code_len(const char *s, size_t len)
{
	size_t i = 0;
	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < len && i - start < 3 && isdigit((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;
		if (part == 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && s[i] != ' ' && s[i] != '\t')
		return 0;
	return i;
}

static void
capture_line(struct smtp_capture *cap, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (cap->quit)
		return;
	if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return;
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	int last = len == 3 || line[3] != '-';
	const char *text = len > 4 ? line + 4 : "";
	size_t tlen = len > 4 ? len - 4 : 0;

	if (cap->cur_code != code) {
		/* a new reply starts */
		cap->cur_code = code;
		cap->cur_enhanced[0] = '\0';
		cap->cur_len = 0;
		cap->cur_text[0] = '\0';
	}
	size_t elen = enhanced_code_len(text, tlen);
	if (elen > 0) {
		if (cap->cur_enhanced[0] == '\0' && elen < sizeof(cap->cur_enhanced))
			copy_printable(cap->cur_enhanced, sizeof(cap->cur_enhanced), text, elen);
		text += elen;
		tlen -= elen;
		while (tlen > 0 && (*text == ' ' || *text == '\t')) {
			text++;
			tlen--;
		}
	}
	if (tlen > 0 && cap->cur_len + 2 < sizeof(cap->cur_text)) {
		if (cap->cur_len > 0)
			cap->cur_text[cap->cur_len++] = ' ';
		copy_printable(cap->cur_text + cap->cur_len, sizeof(cap->cur_text) - cap->cur_len,
			       text, tlen);
		cap->cur_len += strlen(cap->cur_text + cap->cur_len);
	}
	if (last) {
		cap->code = code;
		memcpy(cap->enhanced, cap->cur_enhanced, sizeof(cap->enhanced));
		memcpy(cap->text, cap->cur_text, sizeof(cap->text));
		cap->cur_code = 0;
		if (strcmp(cap->verb, "RCPT") == 0 && cap->rcpt_sent > 0 &&
		    cap->rcpt_sent <= cap->n_rcpts) {
			struct smtp_rcpt_result *r = &cap->rcpts[cap->rcpt_sent - 1];
			r->code = code;
			r->status = code < 400 ? SMTP_OK : code < 500 ? SMTP_TEMPORARY : SMTP_PERMANENT;
			memcpy(r->enhanced, cap->enhanced, sizeof(r->enhanced));
			copy_printable(r->text, sizeof(r->text), cap->text, strlen(cap->text));
		}
	}
}

/* Remember the verb of a command we sent; AUTH exchange lines and anything
   else that is not a known verb are ignored (they may carry credentials). */
static void
capture_command(struct smtp_capture *cap, const char *line, size_t len)
{
	static const char *const verbs[] = { "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL",
					     "RCPT", "DATA", "RSET", "QUIT", "NOOP" };
	for (size_t i = 0; i < N_ELEMENTS(verbs); i++) {
		size_t n = strlen(verbs[i]);
		if (len >= n && strncasecmp(line, verbs[i], n) == 0 &&
		    (len == n || line[n] == ' ' || line[n] == '\r' || line[n] == '\n')) {
			if (strcmp(verbs[i], "QUIT") == 0) {
				cap->quit = 1;
				return;
			}
			memcpy(cap->verb, verbs[i], n + 1);
			if (strcmp(verbs[i], "MAIL") == 0)
				cap->data_sent = 0;
			if (strcmp(verbs[i], "RCPT") == 0)
				cap->rcpt_sent++;
			return;
		}
	}
}

static int
debug_cb(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
	struct smtp_capture *cap = userp;
	(void)handle;
	if (type == CURLINFO_HEADER_IN) {
		/* normally one line per call; split to be safe */
		size_t start = 0;
		for (size_t i = 0; i < size; i++) {
			if (data[i] == '\n') {
				capture_line(cap, data + start, i + 1 - start);
				start = i + 1;
			}
		}
		if (start < size)
			capture_line(cap, data + start, size - start);
	} else if (type == CURLINFO_HEADER_OUT) {
		capture_command(cap, data, size);
	} else if (type == CURLINFO_DATA_OUT) {
		cap->data_sent = 1;
	}
	return 0;
}

static size_t
read_cb(char *buffer, size_t size, size_t nitems, void *userp)
{
	struct smtp_upload *up = userp;
	size_t room = size * nitems;
	size_t n = up->len - up->pos;
	if (n > room)
		n = room;
	memcpy(buffer, up->data + up->pos, n);
	up->pos += n;
	return n;
}

static int
fetch_token(struct smtp_client *client, const char **error_r)
{
	credential_free(&client->token);
	if (client->token_command != NULL)
		client->token = credential_run(client->token_command, (unsigned)client->timeout,
					       error_r);
	else
		client->token = credential_read_file(client->token_file, error_r);
	return client->token != NULL ? 0 : -1;
}

static int
client_oauth(const struct smtp_client *client)
{
	return strcmp(client->auth, "xoauth2") == 0 || strcmp(client->auth, "oauthbearer") == 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
smtp_client_new(const struct config *config, struct smtp_client **client_r, const char **error_r)
{
	static int curl_ready;
	const struct config_smtp *cs = &config->smtp;
	*client_r = NULL;

	if (strcmp(cs->security, "none") == 0 && !smtp_host_is_loopback(cs->host)) {
		*error_r = errf("[smtp] security = none is only allowed for a loopback relay, not %s",
				cs->host);
		return -1;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*error_r = "libcurl cannot initialise";
			return -1;
		}
		curl_ready = 1;
	}

	struct smtp_client *client = xcalloc(1, sizeof(*client));
	/* auto: STARTTLS required (and verified) off this machine; a relay on
	   loopback is spoken to in clear, as mail to it never leaves the host. */
	if (strcmp(cs->security, "auto") == 0)
		client->security = xstrdup(smtp_host_is_loopback(cs->host) ? "none" : "starttls");
	else
		client->security = xstrdup(cs->security);
	client->ca_file = dup_or_null(cs->ca_file);
	client->tls_verify = cs->tls_verify;
	client->auth = xstrdup(cs->auth);
	client->username = dup_or_null(cs->username);
	client->token_command = dup_or_null(cs->token_command);
	client->token_file = dup_or_null(cs->token_file);
	client->timeout = (long)cs->timeout;

	if (strcmp(cs->auth, "none") != 0 && cs->username == NULL) {
		*error_r = errf("[smtp] auth = %s needs username", cs->auth);
		goto fail;
	}
	if (strcmp(cs->auth, "plain") == 0 || strcmp(cs->auth, "login") == 0) {
		if (cs->password != NULL) {
			client->password = xstrdup(cs->password);
		} else if (cs->password_file != NULL) {
			client->password = credential_read_file(cs->password_file, error_r);
			if (client->password == NULL) {
				*error_r = errf("[smtp] password_file: %s", *error_r);
				goto fail;
			}
		} else {
			*error_r = errf("[smtp] auth = %s needs password or password_file", cs->auth);
			goto fail;
		}
	}

	const char *helo = cs->helo != NULL ? cs->helo : config->hostname;
	const char *scheme = strcmp(cs->security, "smtps") == 0 ? "smtps" : "smtp";
	int v6 = strchr(cs->host, ':') != NULL;
	client->url = xasprintf("%s://%s%s%s:%llu/%s", scheme, v6 ? "[" : "", cs->host,
				v6 ? "]" : "", (unsigned long long)cs->port, helo);

	client->curl = curl_easy_init();
	if (client->curl == NULL) {
		*error_r = "libcurl: cannot create a handle";
		goto fail;
	}
	*client_r = client;
	return 0;
fail:
	smtp_client_free(&client);
	return -1;
}

void
smtp_client_free(struct smtp_client **clientp)
{
	struct smtp_client *client = *clientp;
	if (client == NULL)
		return;
	if (client->curl != NULL)
		curl_easy_cleanup(client->curl);
	free(client->url);
	free(client->security);
	free(client->ca_file);
	free(client->auth);
	free(client->username);
	credential_free(&client->password);
	free(client->token_command);
	free(client->token_file);
	credential_free(&client->token);
	free(client);
	*clientp = NULL;
}

static void
setup_handle(struct smtp_client *client, struct smtp_upload *up, const char *envelope_from,
	     struct curl_slist *rcpts)
{
	CURL *c = client->curl;
	curl_easy_setopt(c, CURLOPT_URL, client->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, client->timeout);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, client->timeout);
	/* a stalled upload counts as a time-out too */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, client->timeout);
	/* the outbox decides how long a connection is kept idle
	   ([smtp] idle_timeout, at most 300 s), not libcurl's 118 s */
#if LIBCURL_VERSION_NUM >= 0x074100
	curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, 300L);
#endif
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, client->errbuf);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &client->cap);

	if (strcmp(client->security, "starttls") == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	else
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, client->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, client->tls_verify ? 2L : 0L);
	if (client->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, client->ca_file);

	if (strcmp(client->auth, "none") != 0) {
		curl_easy_setopt(c, CURLOPT_USERNAME, client->username);
		if (client_oauth(client)) {
			/* libcurl speaks both bearer mechanisms (RFC 7628 OAUTHBEARER
			   and Google/Microsoft's XOAUTH2) from the same token. */
			curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS,
					 strcmp(client->auth, "oauthbearer") == 0 ? "AUTH=OAUTHBEARER"
										  : "AUTH=XOAUTH2");
			curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, client->token);
		} else {
			curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS,
					 strcmp(client->auth, "plain") == 0 ? "AUTH=PLAIN"
									    : "AUTH=LOGIN");
			curl_easy_setopt(c, CURLOPT_PASSWORD, client->password);
		}
	}

	curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	/* a refused recipient does not stop the others (libcurl before 8.2
	   spells the option with three L's) */
#if LIBCURL_VERSION_NUM >= 0x080200
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
}

/* Message-level commands: a refusal there is about this message. */
static int
capture_in_message(const struct smtp_capture *cap)
{
	return cap->data_sent || strcmp(cap->verb, "MAIL") == 0 || strcmp(cap->verb, "RCPT") == 0 ||
	       strcmp(cap->verb, "DATA") == 0;
}

static void
grade(struct smtp_client *client, CURLcode rc, struct smtp_result *r)
{
	const struct smtp_capture *cap = &client->cap;
	long code = 0;
	curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code <= 0)
		code = cap->code;

	r->code = (int)code;
	r->session = 0;
	if (rc == CURLE_OK) {
		r->status = SMTP_OK;
		memcpy(r->enhanced, cap->enhanced, sizeof(r->enhanced));
		memcpy(r->text, cap->text, sizeof(r->text));
		return;
	}
	int in_message = capture_in_message(cap);
	if (code == cap->code && code >= 400) {
		memcpy(r->enhanced, cap->enhanced, sizeof(r->enhanced));
		memcpy(r->text, cap->text, sizeof(r->text));
	} else {
		r->enhanced[0] = '\0';
		r->text[0] = '\0';
	}
	if (r->text[0] == '\0') {
		const char *why = client->errbuf[0] != '\0' ? client->errbuf : curl_easy_strerror(rc);
		copy_printable(r->text, sizeof(r->text), why, strlen(why));
	}
	if (code >= 500 && code < 600 && in_message) {
		r->status = SMTP_PERMANENT;
	} else {
		r->status = SMTP_TEMPORARY;
		r->session = !(code >= 400 && in_message);
	}
}

static CURLcode
perform(struct smtp_client *client, const char *envelope_from, struct curl_slist *rcpts,
	struct smtp_rcpt_result *rcpt_results, size_t n_rcpts, const unsigned char *data,
	size_t len)
{
	struct smtp_upload up = { data, len, 0 };
	memset(&client->cap, 0, sizeof(client->cap));
	memset(rcpt_results, 0, n_rcpts * sizeof(*rcpt_results));
	client->cap.rcpts = rcpt_results;
	client->cap.n_rcpts = n_rcpts;
	client->errbuf[0] = '\0';
	setup_handle(client, &up, envelope_from, rcpts);
	return curl_easy_perform(client->curl);
}

/* 1 when a transfer failed on a connection kept from an earlier successful
   one (libcurl made no new connection for it) before any message data went
   out, without
   a refusal from the relay: no reply at all, a reply that was not a
   refusal, or 421 ("closing the channel", what Postfix says when its idle
   time-out ends). A refusal (4xx, 5xx) of MAIL or RCPT stays what it is. */
static int
lost_kept_connection(struct smtp_client *client, CURLcode rc)
{
	long connects = -1;
	const struct smtp_capture *cap = &client->cap;
	int kept = client->kept;
	client->kept = rc == CURLE_OK; /* libcurl closes a connection that failed */
	/* not a connection that failed to open, nor a relay that hangs (a
	   second wait would double the time-out) */
	if (!kept || rc == CURLE_OK || rc == CURLE_LOGIN_DENIED || rc == CURLE_COULDNT_CONNECT ||
	    rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT ||
	    rc == CURLE_SSL_CONNECT_ERROR || cap->data_sent)
		return 0;
	if (curl_easy_getinfo(client->curl, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
	    connects != 0)
		return 0;
	return cap->code < 400 || cap->code == 421;
}

/* Each recipient's outcome: refused at RCPT (its own reply), else (accepted,
   or never asked about) the message's. */
static void
grade_recipients(const struct smtp_result *r, struct smtp_rcpt_result *rcpts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct smtp_rcpt_result *rr = &rcpts[i];
		if (rr->code >= 400)
			continue;
		rr->status = r->status;
		rr->code = r->code;
		memcpy(rr->enhanced, r->enhanced, sizeof(rr->enhanced));
		copy_printable(rr->text, sizeof(rr->text), r->text, strlen(r->text));
	}
}

enum smtp_status
smtp_client_send(struct smtp_client *client, const char *envelope_from,
		 const char *const *recipients, size_t n_recipients, const unsigned char *data,
		 size_t len, struct smtp_result *result, struct smtp_rcpt_result *rcpt_results)
{
	struct smtp_rcpt_result *own = NULL;
	if (rcpt_results == NULL && n_recipients > 0)
		rcpt_results = own = xcalloc(n_recipients, sizeof(*own));
	memset(result, 0, sizeof(*result));
	result->status = SMTP_TEMPORARY;
	if (n_recipients == 0) {
		result->status = SMTP_PERMANENT;
		copy_printable(result->text, sizeof(result->text), "no recipients", 13);
		return result->status;
	}
	memset(rcpt_results, 0, n_recipients * sizeof(*rcpt_results));
	int oauth = client_oauth(client);
	if (oauth && client->token == NULL) {
		const char *error;
		if (fetch_token(client, &error) < 0) {
			result->session = 1;
			result->auth = 1;
			copy_printable(result->text, sizeof(result->text), error, strlen(error));
			goto out;
		}
	}

	struct curl_slist *rcpts = NULL;
	for (size_t i = 0; i < n_recipients; i++) {
		struct curl_slist *n = curl_slist_append(rcpts, recipients[i]);
		if (n == NULL) {
			curl_slist_free_all(rcpts);
			copy_printable(result->text, sizeof(result->text), "out of memory", 13);
			goto out;
		}
		rcpts = n;
	}

	CURLcode rc = perform(client, envelope_from, rcpts, rcpt_results, n_recipients, data, len);
	if (lost_kept_connection(client, rc)) {
		/* The relay closed the connection we kept (its idle time-out
		   ran out as we reused it) before any of the message went out:
		   nothing was delivered, so this is no failure of the relay. */
		log_debug("smtp: the connection kept open was closed by the relay (%s); "
			  "connecting again",
			  client->errbuf[0] != '\0' ? client->errbuf : curl_easy_strerror(rc));
		curl_easy_setopt(client->curl, CURLOPT_FRESH_CONNECT, 1L);
		rc = perform(client, envelope_from, rcpts, rcpt_results, n_recipients, data, len);
		curl_easy_setopt(client->curl, CURLOPT_FRESH_CONNECT, 0L);
		client->kept = rc == CURLE_OK;
	}
	if (rc == CURLE_LOGIN_DENIED && oauth) {
		/* The token may have expired: fetch a fresh one and try once more. */
		const char *error;
		log_debug("smtp: %s token rejected, fetching a new one", client->auth);
		if (fetch_token(client, &error) == 0) {
			rc = perform(client, envelope_from, rcpts, rcpt_results, n_recipients, data,
				     len);
			client->kept = rc == CURLE_OK;
		} else {
			grade(client, rc, result);
			copy_printable(result->text, sizeof(result->text), error, strlen(error));
			result->auth = 1;
			goto done;
		}
	}
	grade(client, rc, result);
	result->auth = rc == CURLE_LOGIN_DENIED;
done:
	curl_slist_free_all(rcpts);
	/* the handle must not keep pointers to our stack or list */
	curl_easy_setopt(client->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(client->curl, CURLOPT_READDATA, NULL);
	client->cap.rcpts = NULL;
	client->cap.n_rcpts = 0;
out:
	grade_recipients(result, rcpt_results, n_recipients);
	free(own);
	return result->status;
}

const char *
smtp_result_code(const struct smtp_result *result)
{
	if (result->code <= 0)
		return "";
	if (result->enhanced[0] != '\0')
		return errf("%d %s", result->code, result->enhanced);
	return errf("%d", result->code);
}
