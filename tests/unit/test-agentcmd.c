/* Unit tests for parsers/agentcmd.c: a table of replies with commands,
   including invalid and hostile ones. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/agentcmd.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* cmds: the commands as "name[=arg]" joined by spaces; errors: the line
   numbers of the errors joined by spaces. */
static const struct {
	const char *name;
	const char *in;
	const char *cmds;
	const char *errors;
	int is_note;
	const char *text;
} cases[] = {
	{ "no commands", "Hello,\nyour withdrawal is sent.\n", "", "", 0,
	  "Hello,\nyour withdrawal is sent.\n" },
	{ "close", "#close\nDone, thanks!\n", "close", "", 0, "Done, thanks!\n" },
	{ "several, blank lines between", "\n#priority high\n\n#category Deposit\n#queue vip\n\nHi\n",
	  "priority=high category=deposit queue=vip", "", 0, "Hi\n" },
	{ "case and white space", "  #Close \xc2\xa0\r\n#PRIORITY   Low\r\nOk\r\n", "close priority=low",
	  "", 0, "Ok\r\n" },
	/* the same white space as quote.c (base/util's str_ws_len): a word
	   joiner U+2060 some editors put before a line is not a word */
	{ "word joiner before the mark", "\xe2\x81\xa0#close\nOk\n", "close", "", 0, "Ok\n" },
	{ "full-width mark", "\xef\xbc\x83note\n内部备注\n", "note", "", 1, "内部备注\n" },
	{ "note with text", "#note checked with finance\nthe rest\n", "note", "", 1,
	  "checked with finance\nthe rest\n" },
	{ "note alone", "#note\n", "note", "", 1, "" },
	{ "assign", "#assign <Alice@Example.com>\nFYI\n", "assign=Alice@Example.com", "", 0, "FYI\n" },
	{ "reopen", "#reopen\n", "reopen", "", 0, "" },
	{ "only commands, no text", "#close", "close", "", 0, "" },
	/* issue 10.14: a command below the text was relayed; it is a command */
	{ "commands after text", "Hi\n#close\n", "close", "", 0, "Hi\n" },
	{ "heading and number are text", "# Heading\n#1234 is the order\n", "", "", 0,
	  "# Heading\n#1234 is the order\n" },
	{ "unknown command", "#clsoe\nThanks\n", "", "1", 0, "Thanks\n" },
	{ "mistyped note is an error", "#nte internal\nsecret\n", "", "1", 0, "secret\n" },
	/* issue 10.14: #priority urgent was refused; the store has it */
	{ "priority urgent", "#priority urgent\n", "priority=urgent", "", 0, "" },
	{ "bad priority", "#priority whenever\n", "", "1", 0, "" },
	{ "missing priority", "#priority\n", "", "1", 0, "" },
	{ "priority with two words", "#priority high now\n", "", "1", 0, "" },
	{ "close with argument", "#close now\n", "", "1", 0, "" },
	{ "glued punctuation", "#close.\n#priority:high\n", "", "1 2", 0, "" },
	{ "bad category", "#category a/b\n", "", "1", 0, "" },
	{ "canned reply below text", "Hi,\nsee below.\n#Reply Deposit_Not_Arrived\n",
	  "reply=deposit_not_arrived", "", 0, "Hi,\nsee below.\n" },
	{ "canned reply without a name", "#reply\n", "", "1", 0, "" },
	{ "history", "#History\n", "history", "", 0, "" },
	{ "history with an argument", "#history all\n", "", "1", 0, "" },
	{ "pending", "#Pending\nCould you send the TXID?\n", "pending", "", 0,
	  "Could you send the TXID?\n" },
	{ "solved", "#solved\n", "solved", "", 0, "" },
	{ "pending with an argument", "#pending 3d\n", "", "1", 0, "" },
	{ "pending and solved contradict", "#pending\n#solved\n", "pending solved", "0", 0, "" },
	{ "close and pending contradict", "#close\n#pending\n", "close pending", "0", 0, "" },
	{ "snooze days", "#snooze 2d\n", "snooze=2d", "", 0, "" },
	{ "snooze hours, capital unit", "#snooze 4H\n", "snooze=4h", "", 0, "" },
	{ "snooze minutes and weeks", "#snooze 30m\n#note\n", "snooze=30m note", "", 1, "" },
	{ "snooze a date", "#snooze 2026-12-24\n", "snooze=2026-12-24", "", 0, "" },
	{ "snooze a date and time", "#snooze 2026-12-24 15:30\n", "snooze=2026-12-24 15:30", "", 0,
	  "" },
	{ "snooze off", "#snooze OFF\n", "snooze=off", "", 0, "" },
	{ "snooze without a time", "#snooze\n", "", "1", 0, "" },
	{ "snooze, an unknown unit", "#snooze 2y\n", "", "1", 0, "" },
	{ "snooze, a word", "#snooze tomorrow\n", "", "1", 0, "" },
	{ "snooze, zero", "#snooze 0d\n", "", "1", 0, "" },
	{ "snooze, more than a year", "#snooze 400d\n", "", "1", 0, "" },
	{ "snooze, no such date", "#snooze 2026-02-30\n", "", "1", 0, "" },
	{ "snooze, a bad time", "#snooze 2026-12-24 25:00\n", "", "1", 0, "" },
	{ "snooze, trailing text", "#snooze 2d please\n", "", "1", 0, "" },
	{ "snooze, too many digits", "#snooze 123456h\n", "", "1", 0, "" },
	{ "cc and uncc, several", "#cc <Partner@Example.NET>\n#cc b@example.org\n#uncc c@example.org\nHi\n",
	  "cc=partner@example.net cc=b@example.org uncc=c@example.org", "", 0, "Hi\n" },
	{ "cc without an address", "#cc\n#uncc\n", "", "1 2", 0, "" },
	{ "cc, not an address", "#cc Bob Agent\n#cc a@b\n#cc a@@b.example\n#cc \"x\"@y.example\n", "",
	  "1 2 3 4", 0, "" },
	{ "cc, two addresses", "#cc a@example.org, b@example.org\n", "", "1", 0, "" },
	{ "canned reply, a path", "#reply ../x\n", "", "1", 0, "" },
	{ "canned reply, two names", "#reply a b\n", "", "1", 0, "" },
	{ "canned reply twice", "#reply a\n#reply b\n", "reply=a", "2", 0, "" },
	{ "canned reply with a note", "#note x\n#reply a\n", "note reply=a", "0", 1, "x\n" },
	{ "long category", "#category aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "",
	  "1", 0, "" },
	/* issue 10.14: #assign takes an agent's name too */
	{ "assign by name, queue without name", "#assign bob\n#queue\n", "assign=bob", "2", 0, "" },
	{ "bad agent name", "#assign <bob\n#assign \"Bob\"\n", "", "1 2", 0, "" },
	{ "address with space", "#assign a b@example.com\n", "", "1", 0, "" },
	{ "address with two @", "#assign a@b@example.com\n", "", "1", 0, "" },
	{ "address without dot", "#assign a@localhost\n", "", "1", 0, "" },
	{ "given twice", "#priority high\n#priority low\n", "priority=high", "2", 0, "" },
	{ "close and reopen", "#close\n#reopen\n", "close reopen", "0", 0, "" },
	{ "control characters", "#category a\x01\x02\n", "", "1", 0, "" },
	{ "invalid utf-8 argument", "#category \xff\xfe\n", "", "1", 0, "" },
	{ "mixed good and bad", "#close\n#frobnicate\nbye\n", "close", "2", 0, "bye\n" },
	/* issue 10.14: commands on any line of the agent's text */
	{ "command between paragraphs", "Hello,\n\n#priority high\n\nWe are on it.\n",
	  "priority=high", "", 0, "Hello,\n\nWe are on it.\n" },
	{ "command at the end, after a sign-off", "Done.\n\nBest,\nAlice\n#close\n", "close", "",
	  0, "Done.\n\nBest,\nAlice\n" },
	{ "note in the middle", "Checked the chain.\n#note ask finance\nMore.\n", "note", "", 1,
	  "Checked the chain.\nask finance\nMore.\n" },
	{ "unknown #word in the text", "Thanks for waiting.\n#blessed to help\nBye\n", "", "2", 0,
	  "Thanks for waiting.\nBye\n" },
	{ "a quoted command is text", "Yes.\n> #close\n>#priority low\n", "", "", 0,
	  "Yes.\n> #close\n>#priority low\n" },
	{ "assign by display name", "Over to you.\n#assign Bob Agent\n", "assign=Bob Agent", "",
	  0, "Over to you.\n" },
	{ "assign a Chinese name", "#assign 李伟\n", "assign=李伟", "", 0, "" },
	{ "CRLF around a removed command", "Hi\r\n\r\n#close\r\n\r\nBye\r\n", "close", "", 0,
	  "Hi\r\n\r\nBye\r\n" },
};

static char *
cmds_string(const struct agentcmd_list *l)
{
	struct buf b;
	buf_init(&b, 64 * 1024 * 1024);
	for (size_t i = 0; i < l->n_cmds; i++) {
		if (i > 0)
			buf_putc(&b, ' ');
		buf_puts(&b, agentcmd_name(l->cmds[i].kind));
		if (l->cmds[i].arg != NULL)
			buf_printf(&b, "=%s", l->cmds[i].arg);
	}
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

static char *
errors_string(const struct agentcmd_list *l)
{
	struct buf b;
	buf_init(&b, 64 * 1024 * 1024);
	for (size_t i = 0; i < l->n_errors; i++)
		buf_printf(&b, "%s%u", i > 0 ? " " : "", l->errors[i].line);
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		struct agentcmd_list *l = agentcmd_parse(cases[i].in, strlen(cases[i].in));
		char *c = cmds_string(l), *e = errors_string(l);
		test_assert_str(c, cases[i].cmds);
		test_assert_str(e, cases[i].errors);
		test_assert_int(l->is_note, cases[i].is_note);
		test_assert_str(l->text, cases[i].text);
		test_assert_int(l->text_len, strlen(l->text));
		for (size_t k = 0; k < l->n_errors; k++) {
			test_assert(l->errors[k].reason != NULL && *l->errors[k].reason != '\0');
			test_assert(strlen(l->errors[k].command) <= 200);
			for (const char *p = l->errors[k].command; *p != '\0'; p++)
				test_assert((unsigned char)*p >= 0x20 && *p != 0x7f);
		}
		free(c);
		free(e);
		agentcmd_list_free(&l);
		test_assert(l == NULL);
	}
	struct agentcmd_list *none = NULL;
	agentcmd_list_free(&none);
}

static void
test_messages(void)
{
	test_begin("error messages");
	struct agentcmd_list *l = agentcmd_parse("#bogus x\n", 9);
	test_assert_int(l->n_errors, 1);
	if (l->n_errors == 1) {
		test_assert(strstr(l->errors[0].reason, "unknown command #bogus") != NULL);
		test_assert(strstr(l->errors[0].reason, "#note") != NULL);
		test_assert_str(l->errors[0].command, "#bogus x");
	}
	agentcmd_list_free(&l);
}

static void
test_snooze(void)
{
	struct agentcmd_snooze sn;
	const char *why = NULL;
	test_begin("snooze values");
	test_assert_int(agentcmd_snooze_parse("2d", 2, &sn, &why), 0);
	test_assert_int(sn.kind, AGENTCMD_SNOOZE_FOR);
	test_assert_int(sn.seconds, 2 * 86400);
	test_assert_int(agentcmd_snooze_parse("90m", 3, &sn, &why), 0);
	test_assert_int(sn.seconds, 90 * 60);
	test_assert_int(agentcmd_snooze_parse("1w", 2, &sn, &why), 0);
	test_assert_int(sn.seconds, 7 * 86400);
	test_assert_int(agentcmd_snooze_parse("365d", 4, &sn, &why), 0);
	test_assert_int(agentcmd_snooze_parse("off", 3, &sn, &why), 0);
	test_assert_int(sn.kind, AGENTCMD_SNOOZE_OFF);
	test_assert_int(agentcmd_snooze_parse("2028-02-29 07:05", 16, &sn, &why), 0);
	test_assert_int(sn.kind, AGENTCMD_SNOOZE_AT);
	test_assert_int(sn.year, 2028);
	test_assert_int(sn.month, 2);
	test_assert_int(sn.day, 29);
	test_assert_int(sn.hour, 7);
	test_assert_int(sn.minute, 5);
	test_assert_int(sn.has_time, 1);
	test_assert_int(agentcmd_snooze_parse("2026-12-24", 10, &sn, &why), 0);
	test_assert_int(sn.has_time, 0);
	test_begin("snooze refusals");
	static const char *const bad[] = { "", "0h", "366d", "53w", "-1d", "2d4h", "d", "2", "2026-12",
					   "2026-13-01", "2026-12-24 9", "2026-12-24 09:60",
					   "1969-12-31", "2026-12-24x", "offf" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		why = NULL;
		test_assert_int(agentcmd_snooze_parse(bad[i], strlen(bad[i]), &sn, &why), -1);
		test_assert(why != NULL && strstr(why, "#snooze") != NULL);
	}
}

static void
test_hostile(void)
{
	test_begin("too many command lines");
	struct buf b;
	buf_init(&b, 64 * 1024 * 1024);
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "#note\n");
	buf_puts(&b, "text\n");
	struct agentcmd_list *l = agentcmd_parse((const char *)b.data, b.len);
	test_assert_int(l->n_cmds, AGENTCMD_MAX_COMMANDS);
	test_assert_int(l->n_errors, 100 - AGENTCMD_MAX_COMMANDS);
	test_assert_str(l->text, "text\n");
	agentcmd_list_free(&l);

	test_begin("very long command line");
	buf_reset(&b);
	buf_puts(&b, "#category ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\nrest");
	l = agentcmd_parse((const char *)b.data, b.len);
	test_assert_int(l->n_cmds, 0);
	test_assert_int(l->n_errors, 1);
	if (l->n_errors == 1)
		test_assert(strlen(l->errors[0].command) <= 200);
	test_assert_str(l->text, "rest");
	agentcmd_list_free(&l);

	test_begin("NUL bytes and junk");
	static const char junk[] = "#close\0\n#\n#\xff\n\0#note\n";
	l = agentcmd_parse(junk, sizeof(junk) - 1);
	/* "#close\0": the NUL glues to the word: malformed, an error, no close */
	test_assert_int(l->n_cmds, 0);
	test_assert(l->n_errors >= 1);
	test_assert(l->text_len <= sizeof(junk) - 1);
	agentcmd_list_free(&l);

	test_begin("empty");
	l = agentcmd_parse("", 0);
	test_assert_int(l->n_cmds + l->n_errors, 0);
	test_assert_str(l->text, "");
	agentcmd_list_free(&l);
	buf_free(&b);
}

/* The desk by mail's requests (agentcmd_desk_parse()). */
static void
test_desk(void)
{
	static const struct {
		const char *in;
		enum agentcmd_desk want;
		const char *arg;   /* queue name, or NULL */
		const char *error; /* substring, or NULL */
	} desk[] = {
		{ "#my\n", AGENTCMD_DESK_MY, NULL, NULL },
		{ "\n  #MY  \r\nthanks\n", AGENTCMD_DESK_MY, NULL, NULL },
		{ "\xef\xbc\x83my\n", AGENTCMD_DESK_MY, NULL, NULL },
		{ "#queue Payments\n", AGENTCMD_DESK_QUEUE, "payments", NULL },
		{ "#overdue", AGENTCMD_DESK_OVERDUE, NULL, NULL },
		{ "#queue\n", AGENTCMD_DESK_BAD, NULL, "#queue takes one name" },
		{ "#queue a/b\n", AGENTCMD_DESK_BAD, NULL, "#queue takes one name" },
		{ "#queue a b\n", AGENTCMD_DESK_BAD, NULL, "#queue takes one name" },
		{ "#my all\n", AGENTCMD_DESK_BAD, NULL, "#my takes no argument" },
		{ "#overdue:\n", AGENTCMD_DESK_BAD, NULL, "malformed" },
		{ "#close\n", AGENTCMD_DESK_NONE, NULL, NULL },
		{ "#myself\n", AGENTCMD_DESK_NONE, NULL, NULL },
		{ "Hello\n#my\n", AGENTCMD_DESK_NONE, NULL, NULL },
		{ "# my\n", AGENTCMD_DESK_NONE, NULL, NULL },
		{ "", AGENTCMD_DESK_NONE, NULL, NULL },
		{ "\n\n \n", AGENTCMD_DESK_NONE, NULL, NULL },
	};
	test_begin("desk requests");
	for (size_t i = 0; i < N_ELEMENTS(desk); i++) {
		char *arg = NULL;
		const char *error = NULL;
		enum agentcmd_desk got = agentcmd_desk_parse(desk[i].in, strlen(desk[i].in), &arg,
							     &error);
		test_assert_int(got, desk[i].want);
		if (desk[i].arg != NULL)
			test_assert_str(arg, desk[i].arg);
		else
			test_assert(arg == NULL);
		if (desk[i].error != NULL)
			test_assert(error != NULL && strstr(error, desk[i].error) != NULL);
		free(arg);
	}
	/* a line longer than the limit */
	struct buf b;
	buf_init(&b, 4 * AGENTCMD_MAX_LINE);
	buf_puts(&b, "#queue ");
	for (int i = 0; i < AGENTCMD_MAX_LINE; i++)
		buf_putc(&b, 'a');
	char *arg = NULL;
	const char *error = NULL;
	test_assert_int(agentcmd_desk_parse((const char *)b.data, b.len, &arg, &error),
			AGENTCMD_DESK_BAD);
	test_assert(arg == NULL);
	buf_free(&b);
}

int
main(void)
{
	test_table();
	test_messages();
	test_snooze();
	test_hostile();
	test_desk();
	return test_exit();
}
