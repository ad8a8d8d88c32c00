/*
 * fuzz-agentcmd: agent command lines in a reply. Checks what agentcmd.h
 * promises: never fails, at most AGENTCMD_MAX_COMMANDS commands,
 * arguments of the documented shape, error lines cut to 200 bytes without
 * control characters, and the remaining text no longer than the input
 * with no command line left in it.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/agentcmd.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static int
name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

FUZZ_TARGET(agentcmd)
{
	/* An exact-size copy without a NUL: the parser must honour len. */
	char *text = fuzz_text_copy(data, size, MAX_INPUT);
	if (text == NULL)
		return 0;

	struct agentcmd_list *list = agentcmd_parse(text, size);
	FUZZ_CHECK(list != NULL);
	FUZZ_CHECK(list->n_cmds <= AGENTCMD_MAX_COMMANDS);
	FUZZ_CHECK(list->text != NULL);
	FUZZ_CHECK(list->text[list->text_len] == '\0');
	FUZZ_CHECK(list->text_len <= size);
	for (size_t i = 0; i < list->n_cmds; i++) {
		const struct agentcmd *c = &list->cmds[i];
		FUZZ_CHECK(agentcmd_name(c->kind) != NULL);
		FUZZ_CHECK(c->line >= 1);
		switch (c->kind) {
		case AGENTCMD_NOTE:
		case AGENTCMD_CLOSE:
		case AGENTCMD_REOPEN:
		case AGENTCMD_SEND_ANYWAY:
		case AGENTCMD_ATTACHMENTS:
		case AGENTCMD_HISTORY:
		case AGENTCMD_PENDING:
		case AGENTCMD_SOLVED:
			FUZZ_CHECK(c->arg == NULL);
			break;
		case AGENTCMD_SNOOZE: {
			/* what the parser accepted, the gateway can read again */
			struct agentcmd_snooze sn;
			const char *why;
			FUZZ_CHECK(c->arg != NULL &&
				   agentcmd_snooze_parse(c->arg, strlen(c->arg), &sn, &why) == 0);
			FUZZ_CHECK(sn.kind != AGENTCMD_SNOOZE_FOR ||
				   (sn.seconds > 0 && sn.seconds <= AGENTCMD_SNOOZE_MAX));
			break;
		}
		case AGENTCMD_PRIORITY:
			FUZZ_CHECK(c->arg != NULL &&
				   (strcmp(c->arg, "urgent") == 0 || strcmp(c->arg, "high") == 0 ||
				    strcmp(c->arg, "normal") == 0 || strcmp(c->arg, "low") == 0));
			break;
		case AGENTCMD_CATEGORY:
		case AGENTCMD_QUEUE:
		case AGENTCMD_REPLY:
			FUZZ_CHECK(c->arg != NULL && name_ok(c->arg));
			break;
		case AGENTCMD_ASSIGN:
			FUZZ_CHECK(c->arg != NULL && c->arg[0] != '\0');
			FUZZ_CHECK(strchr(c->arg, '<') == NULL && strchr(c->arg, '>') == NULL);
			FUZZ_CHECK(!fuzz_has_control(c->arg, strlen(c->arg), 0));
			break;
		case AGENTCMD_MERGE: {
			/* a ticket number the gateway reads with strtoll */
			size_t n = c->arg != NULL ? strlen(c->arg) : 0;
			FUZZ_CHECK(n >= 1 && n <= 18 && c->arg[0] != '0');
			FUZZ_CHECK(strspn(c->arg, "0123456789") == n);
			break;
		}
		case AGENTCMD_CC:
		case AGENTCMD_UNCC:
			/* one address, lower case, no brackets or controls */
			FUZZ_CHECK(c->arg != NULL && strchr(c->arg, '@') != NULL);
			FUZZ_CHECK(strchr(c->arg, '<') == NULL && strchr(c->arg, '>') == NULL &&
				   strchr(c->arg, ',') == NULL);
			FUZZ_CHECK(!fuzz_has_control(c->arg, strlen(c->arg), 0));
			for (const char *q = c->arg; *q != '\0'; q++)
				FUZZ_CHECK(*q < 'A' || *q > 'Z');
			break;
		}
		if (c->kind == AGENTCMD_NOTE)
			FUZZ_CHECK(list->is_note);
	}
	for (size_t i = 0; i < list->n_errors; i++) {
		const struct agentcmd_error *e = &list->errors[i];
		FUZZ_CHECK(e->command != NULL && e->reason != NULL);
		FUZZ_CHECK(strlen(e->command) <= 200);
		FUZZ_CHECK(!fuzz_has_control(e->command, strlen(e->command), 0));
	}
	/* No command line is left in the text: parsing it again finds
	   nothing (a "#note words" line may leave words that look like one). */
	if (!list->is_note) {
		struct agentcmd_list *again = agentcmd_parse(list->text, list->text_len);
		FUZZ_CHECK(again->n_cmds == 0 && again->n_errors == 0);
		agentcmd_list_free(&again);
	}
	agentcmd_list_free(&list);
	FUZZ_CHECK(list == NULL);
	free(text);
	return 0;
}
