/*
 * fuzz-mime: mime_parse() over one raw message, with small limits so that
 * every limit is reached often and a run stays fast. Checks what mime.h
 * promises of a parsed message: decoded strings are UTF-8 without control
 * characters, the body text is UTF-8 within max_text_size, attachment file
 * names are safe to display; and, when it returns 0, that the limits held.
 * A message returned with -1 (for display in the quarantine) must still
 * have safe strings.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/mime.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 65536

/* Failures are named "fuzz-mime.c:FIELD:what" (for FUZZ_IGNORE). */
static void
check_string(const char *field, const char *s, int allow_null)
{
	char key[128];
	const char *why = NULL;
	if (s == NULL) {
		if (!allow_null)
			why = "null";
	} else if (!utf8_valid((const unsigned char *)s, strlen(s))) {
		why = "utf8";
	} else if (fuzz_has_control(s, strlen(s), 0)) {
		why = "control";
	}
	if (why == NULL)
		return;
	snprintf(key, sizeof(key), "fuzz-mime.c:%s:%s", field, why);
	fuzz_fail_key(key, s != NULL ? s : "(null)");
}

static void
check_address(const char *field, const struct mime_address *a)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.name", field);
	check_string(name, a->name, 1);
	snprintf(name, sizeof(name), "%s.address", field);
	check_string(name, a->address, 1);
}

static void
check_message(const struct mime_message *msg, const struct mime_limits *lim, int complete)
{
	for (size_t i = 0; i < msg->n_headers; i++) {
		FUZZ_CHECK(msg->headers[i].name != NULL);
		check_string("header", msg->headers[i].value, 0);
	}
	if (complete)
		FUZZ_CHECK(msg->n_headers <= lim->max_header_count);
	check_string("subject", msg->subject, 0);
	check_string("message_id", msg->message_id, 1);
	check_string("in_reply_to", msg->in_reply_to, 1);
	for (size_t i = 0; i < msg->n_references; i++)
		check_string("references", msg->references[i], 0);
	check_address("from", &msg->from);
	check_address("sender", &msg->sender);
	const struct mime_address_list *lists[] = { &msg->reply_to, &msg->to, &msg->cc };
	static const char *const list_names[] = { "reply_to", "to", "cc" };
	for (size_t k = 0; k < N_ELEMENTS(lists); k++)
		for (size_t i = 0; i < lists[k]->count; i++)
			check_address(list_names[k], &lists[k]->items[i]);
	check_string("return_path", msg->return_path, 1);
	check_string("content_language", msg->content_language, 1);

	if (msg->text != NULL) {
		FUZZ_CHECK(utf8_valid((const unsigned char *)msg->text, msg->text_len));
		FUZZ_CHECK(memchr(msg->text, '\0', msg->text_len) == NULL);
		FUZZ_CHECK(msg->text[msg->text_len] == '\0');
		if (complete)
			FUZZ_CHECK(msg->text_len <= lim->max_text_size);
	}
	if (msg->html != NULL)
		FUZZ_CHECK(utf8_valid((const unsigned char *)msg->html, msg->html_len));

	if (complete) {
		FUZZ_CHECK(msg->n_attachments <= lim->max_attachments);
		FUZZ_CHECK(msg->n_parts <= lim->max_parts);
	}
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		FUZZ_CHECK(a->filename != NULL && a->filename[0] != '\0');
		check_string("attachment.filename", a->filename, 0);
		check_string("attachment.content_type", a->content_type, 0);
		check_string("attachment.content_id", a->content_id, 1);
		FUZZ_CHECK(strchr(a->filename, '/') == NULL);
		FUZZ_CHECK(strchr(a->filename, '\\') == NULL);
		FUZZ_CHECK(a->filename[0] != '.');
		if (complete)
			FUZZ_CHECK(a->size <= lim->max_attachment_size);
		FUZZ_CHECK(a->size == 0 || a->data != NULL);
	}
	for (size_t i = 0; i < msg->n_parts; i++) {
		if (complete)
			FUZZ_CHECK(msg->parts[i].depth <= lim->max_depth);
		check_string("part.content_type", msg->parts[i].content_type, 1);
		check_string("part.filename", msg->parts[i].filename, 1);
	}
	for (size_t i = 0; i < msg->n_warnings; i++)
		FUZZ_CHECK(msg->warnings[i] != NULL);
}

FUZZ_TARGET(mime)
{
	struct mime_limits lim;
	struct mime_message *msg = NULL;
	const char *error = NULL;

	if (size > MAX_INPUT)
		return 0;
	fuzz_mime_limits(&lim, MAX_INPUT);

	int ret = mime_parse(data, size, &lim, &msg, &error);
	if (ret == 0)
		FUZZ_CHECK(msg != NULL);
	else
		FUZZ_CHECK(error != NULL);
	if (msg != NULL) {
		check_message(msg, &lim, ret == 0);
		(void)mime_header_get(msg, "subject");
		(void)mime_header_get(msg, "x-no-such-header");
	}
	mime_message_free(&msg);
	FUZZ_CHECK(msg == NULL);
	return 0;
}
