/* agentcmd: see agentcmd.h. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/agentcmd.h"
#include "base/util.h"

enum arg_type { ARG_NONE, ARG_OPTIONAL_TEXT, ARG_PRIORITY, ARG_NAME, ARG_AGENT, ARG_SNOOZE, ARG_ADDRESS,
	       ARG_TICKET };

static const struct {
	const char *name;
	enum agentcmd_kind kind;
	enum arg_type arg;
} commands[] = {
	{ "note", AGENTCMD_NOTE, ARG_OPTIONAL_TEXT },
	{ "close", AGENTCMD_CLOSE, ARG_NONE },
	{ "reopen", AGENTCMD_REOPEN, ARG_NONE },
	{ "priority", AGENTCMD_PRIORITY, ARG_PRIORITY },
	{ "category", AGENTCMD_CATEGORY, ARG_NAME },
	{ "assign", AGENTCMD_ASSIGN, ARG_AGENT },
	{ "queue", AGENTCMD_QUEUE, ARG_NAME },
	{ "send-anyway", AGENTCMD_SEND_ANYWAY, ARG_NONE },
	{ "attachments", AGENTCMD_ATTACHMENTS, ARG_NONE },
	{ "reply", AGENTCMD_REPLY, ARG_NAME },
	{ "history", AGENTCMD_HISTORY, ARG_NONE },
	{ "pending", AGENTCMD_PENDING, ARG_NONE },
	{ "solved", AGENTCMD_SOLVED, ARG_NONE },
	{ "snooze", AGENTCMD_SNOOZE, ARG_SNOOZE },
	{ "cc", AGENTCMD_CC, ARG_ADDRESS },
	{ "uncc", AGENTCMD_UNCC, ARG_ADDRESS },
	{ "merge", AGENTCMD_MERGE, ARG_TICKET },
};

#define KNOWN                                                                                     \
	"#note #close #solved #pending #reopen #priority #category #assign #queue #reply #history "  \
	"#snooze #send-anyway #attachments #cc #uncc #merge"
#define NAME_MAX_LEN 64
#define ADDRESS_MAX_LEN 254
#define AGENT_NAME_MAX_LEN 200
#define ERROR_LINE_MAX 200

const char *
agentcmd_name(enum agentcmd_kind kind)
{
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		if (commands[i].kind == kind)
			return commands[i].name;
	return "?";
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the command mark ('#' or full-width '＃') at s, or 0. */
static size_t
hash_len(const char *s, size_t len)
{
	if (len >= 1 && s[0] == '#')
		return 1;
	if (len >= 3 && memcmp(s, "\xef\xbc\x83", 3) == 0)
		return 3;
	return 0;
}

/* A command line: the mark directly followed by a letter. */
static int
is_command_line(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	size_t h = hash_len(s, len);
	return h > 0 && h < len && is_alpha((unsigned char)s[h]);
}

static char *
safe_copy(const char *s, size_t len)
{
	if (len > ERROR_LINE_MAX)
		len = utf8_truncate_len(s, ERROR_LINE_MAX);
	char *out = xstrndup(s, len);
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static void
add_error(struct agentcmd_list *list, unsigned int line, const char *s, size_t len,
	  const char *reason)
{
	list->errors = xreallocarray(list->errors, list->n_errors + 1, sizeof(*list->errors));
	struct agentcmd_error *e = &list->errors[list->n_errors++];
	e->line = line;
	e->command = safe_copy(s, len);
	e->reason = xstrdup(reason);
}

static int
valid_name(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!is_alpha((unsigned char)c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' &&
		    c != '.')
			return 0;
	}
	return 1;
}

/* local@domain, printable ASCII, no spaces, quotes, brackets or commas. */
static int
valid_address(const char *s, size_t len)
{
	if (len < 3 || len > ADDRESS_MAX_LEN)
		return 0;
	const char *at = memchr(s, '@', len);
	if (at == NULL || at == s || at == s + len - 1 || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c) != NULL)
			return 0;
	}
	const char *dom = at + 1;
	size_t dlen = len - (size_t)(dom - s);
	if (dom[0] == '.' || dom[dlen - 1] == '.' || memchr(dom, '.', dlen) == NULL)
		return 0;
	for (size_t i = 0; i + 1 < dlen; i++)
		if (dom[i] == '.' && dom[i + 1] == '.')
			return 0;
	return 1;
}

/* An agent's name as configured ([agent NAME] or its display name):
   printable UTF-8 without quotes, brackets or list separators. */
static int
valid_agent_name(const char *s, size_t len)
{
	if (len == 0 || len > AGENT_NAME_MAX_LEN || !utf8_valid((const unsigned char *)s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || strchr("\"<>,;()[]\\", c) != NULL)
			return 0;
	}
	return 1;
}

static char *
lower_copy(const char *s, size_t len)
{
	char *out = xstrndup(s, len);
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* Parse one command line into list; note text is returned through
   note_r (borrowed from the line). */
static void
parse_line(struct agentcmd_list *list, unsigned int lineno, const char *line, size_t line_len,
	   const char **note_r, size_t *note_len_r)
{
	const char *s = line;
	size_t len = line_len;
	str_ws_trim(&s, &len);
	if (line_len > AGENTCMD_MAX_LINE) {
		add_error(list, lineno, s, len, errf("command line longer than %d bytes",
						      AGENTCMD_MAX_LINE));
		return;
	}
	size_t h = hash_len(s, len);
	size_t nlen = 0;
	while (h + nlen < len && (is_alpha((unsigned char)s[h + nlen]) || s[h + nlen] == '_' ||
				  s[h + nlen] == '-'))
		nlen++;
	const char *name = s + h;
	const char *arg = s + h + nlen;
	size_t alen = len - h - nlen;
	if (alen > 0 && str_ws_len(arg, alen) == 0) {
		/* "#close." or "#priority:high": the word must end at a space */
		add_error(list, lineno, s, len, errf("malformed command (known: %s)", KNOWN));
		return;
	}
	str_ws_trim(&arg, &alen);

	size_t c;
	for (c = 0; c < N_ELEMENTS(commands); c++)
		if (strlen(commands[c].name) == nlen &&
		    strncasecmp(commands[c].name, name, nlen) == 0)
			break;
	if (c == N_ELEMENTS(commands)) {
		add_error(list, lineno, s, len,
			  errf("unknown command #%.*s (known: %s)", (int)(nlen > 40 ? 40 : nlen),
			       name, KNOWN));
		return;
	}
	enum agentcmd_kind kind = commands[c].kind;
	for (size_t i = 0; i < list->n_cmds; i++) {
		if (list->cmds[i].kind == kind && kind != AGENTCMD_NOTE && kind != AGENTCMD_CC &&
		    kind != AGENTCMD_UNCC) {
			add_error(list, lineno, s, len, errf("#%s given twice", commands[c].name));
			return;
		}
	}
	if (!utf8_valid((const unsigned char *)arg, alen)) {
		add_error(list, lineno, s, len, "invalid UTF-8");
		return;
	}

	char *value = NULL;
	switch (commands[c].arg) {
	case ARG_NONE:
		if (alen > 0) {
			add_error(list, lineno, s, len, errf("#%s takes no argument", commands[c].name));
			return;
		}
		break;
	case ARG_OPTIONAL_TEXT:
		*note_r = arg;
		*note_len_r = alen;
		break;
	case ARG_PRIORITY:
		if ((alen == 6 && strncasecmp(arg, "urgent", 6) == 0) ||
		    (alen == 4 && strncasecmp(arg, "high", 4) == 0) ||
		    (alen == 6 && strncasecmp(arg, "normal", 6) == 0) ||
		    (alen == 3 && strncasecmp(arg, "low", 3) == 0)) {
			value = lower_copy(arg, alen);
			break;
		}
		add_error(list, lineno, s, len, "#priority takes one of: urgent, high, normal, low");
		return;
	case ARG_NAME:
		if (!valid_name(arg, alen)) {
			add_error(list, lineno, s, len,
				  errf("#%s takes one name of letters, digits, '.', '_' or '-' "
				       "(at most %d)", commands[c].name, NAME_MAX_LEN));
			return;
		}
		value = lower_copy(arg, alen);
		break;
	case ARG_TICKET: {
		/* "#merge 1234" or "#merge #1234": a ticket number, 1 to 18 digits */
		if (alen >= 1 && arg[0] == '#') {
			arg++;
			alen--;
		}
		size_t digits = 0;
		while (digits < alen && arg[digits] >= '0' && arg[digits] <= '9')
			digits++;
		if (digits == 0 || digits != alen || digits > 18 || arg[0] == '0') {
			add_error(list, lineno, s, len,
				  errf("#%s takes one ticket number (#%s 1234)", commands[c].name,
				       commands[c].name));
			return;
		}
		value = xstrndup(arg, alen);
		break;
	}
	case ARG_AGENT:
		if (alen >= 2 && arg[0] == '<' && arg[alen - 1] == '>') {
			arg++;
			alen -= 2;
		}
		if (memchr(arg, '@', alen) != NULL ? !valid_address(arg, alen)
						    : !valid_agent_name(arg, alen)) {
			add_error(list, lineno, s, len,
				  "#assign takes an agent's address (name@example.com) or name");
			return;
		}
		value = xstrndup(arg, alen);
		break;
	case ARG_SNOOZE: {
		struct agentcmd_snooze sn;
		const char *why;
		if (agentcmd_snooze_parse(arg, alen, &sn, &why) < 0) {
			add_error(list, lineno, s, len, why);
			return;
		}
		value = lower_copy(arg, alen);
		break;
	}
	case ARG_ADDRESS:
		if (alen >= 2 && arg[0] == '<' && arg[alen - 1] == '>') {
			arg++;
			alen -= 2;
		}
		if (!valid_address(arg, alen)) {
			add_error(list, lineno, s, len,
				  errf("#%s takes one address (name@example.com)", commands[c].name));
			return;
		}
		value = lower_copy(arg, alen);
		break;
	}
	list->cmds = xreallocarray(list->cmds, list->n_cmds + 1, sizeof(*list->cmds));
	struct agentcmd *cmd = &list->cmds[list->n_cmds++];
	cmd->kind = kind;
	cmd->arg = value;
	cmd->line = lineno;
	if (kind == AGENTCMD_NOTE)
		list->is_note = 1;
}

/* A quoted line ("> ...", after blanks): never a command. */
static int
is_quote_line(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	return len > 0 && s[0] == '>';
}

struct agentcmd_list *
agentcmd_parse(const char *text, size_t len)
{
	struct agentcmd_list *list = xcalloc(1, sizeof(*list));
	struct buf b;
	size_t pos = 0, n_lines = 0;
	unsigned int lineno = 0;
	int have_close = 0, have_reopen = 0, have_reply = 0, n_status = 0;
	int started = 0;      /* a non-blank line of text was kept */
	int last_blank = 0;   /* the last line kept was blank */
	int removed = 0;      /* a command line was removed since then */

	buf_init(&b, len + 2);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t next = nl != NULL ? end + 1 : len;
		const char *s = text + pos;
		size_t l = end - pos;
		const char *t = s;
		size_t tl = l;
		lineno++;
		str_ws_trim(&t, &tl);
		pos = next;
		if (tl > 0 && is_command_line(s, l) && !is_quote_line(s, l)) {
			removed = 1;
			if (++n_lines > AGENTCMD_MAX_COMMANDS) {
				add_error(list, lineno, t, tl,
					  errf("more than %d command lines", AGENTCMD_MAX_COMMANDS));
				continue;
			}
			const char *note = NULL;
			size_t note_len = 0;
			parse_line(list, lineno, s, l, &note, &note_len);
			if (note == NULL || note_len == 0)
				continue;
			/* "#note words": the words stand where the line was. */
			s = note;
			l = note_len;
			tl = note_len;
		}
		if (tl == 0) {
			/* Blank lines: none before the text, and one where a removed
			   command line leaves two. */
			if (!started || (last_blank && removed))
				continue;
			last_blank = 1;
		} else {
			started = 1;
			last_blank = 0;
			removed = 0;
		}
		(void)buf_append(&b, s, l);
		if (nl != NULL) {
			/* the line's own end, also after a note's words */
			if (end > 0 && text[end - 1] == '\r' && (l == 0 || s[l - 1] != '\r'))
				(void)buf_putc(&b, '\r');
			(void)buf_putc(&b, '\n');
		}
	}

	for (size_t i = 0; i < list->n_cmds; i++) {
		have_close |= list->cmds[i].kind == AGENTCMD_CLOSE;
		have_reopen |= list->cmds[i].kind == AGENTCMD_REOPEN;
		have_reply |= list->cmds[i].kind == AGENTCMD_REPLY;
		n_status += list->cmds[i].kind == AGENTCMD_CLOSE ||
			    list->cmds[i].kind == AGENTCMD_SOLVED ||
			    list->cmds[i].kind == AGENTCMD_PENDING ||
			    list->cmds[i].kind == AGENTCMD_REOPEN;
	}
	if (have_close && have_reopen)
		add_error(list, 0, "#close #reopen", 14, "#close and #reopen contradict each other");
	else if (n_status > 1)
		add_error(list, 0, "#status", 7,
			  "#close, #solved, #pending and #reopen each set the status: use one of "
			  "them");
	if (have_reply && list->is_note)
		add_error(list, 0, "#note #reply", 12,
			  "#reply sends a canned answer to the customer, #note keeps the mail "
			  "internal: use one of them");
	list->text = buf_steal(&b, &list->text_len);
	buf_free(&b);
	return list;
}

enum agentcmd_desk
agentcmd_desk_parse(const char *text, size_t len, char **arg_r, const char **error_r)
{
	static const struct {
		const char *word;
		enum agentcmd_desk kind;
		int takes_name;
	} desk[] = {
		{ "my", AGENTCMD_DESK_MY, 0 },
		{ "queue", AGENTCMD_DESK_QUEUE, 1 },
		{ "overdue", AGENTCMD_DESK_OVERDUE, 0 },
	};
	*arg_r = NULL;
	*error_r = NULL;
	/* the first non-blank line */
	const char *s = text;
	size_t l = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		s = text + pos;
		l = end - pos;
		str_ws_trim(&s, &l);
		pos = end + 1;
		if (l > 0)
			break;
	}
	if (l == 0 || !is_command_line(s, l))
		return AGENTCMD_DESK_NONE;
	if (l > AGENTCMD_MAX_LINE) {
		*error_r = errf("command line longer than %d bytes", AGENTCMD_MAX_LINE);
		return AGENTCMD_DESK_BAD;
	}
	size_t h = hash_len(s, l), nlen = 0;
	while (h + nlen < l && is_alpha((unsigned char)s[h + nlen]))
		nlen++;
	const char *arg = s + h + nlen;
	size_t alen = l - h - nlen;
	if (alen > 0 && str_ws_len(arg, alen) == 0) {
		*error_r = "malformed request (known: #my, #queue NAME, #overdue)";
		return AGENTCMD_DESK_BAD;
	}
	str_ws_trim(&arg, &alen);
	for (size_t i = 0; i < N_ELEMENTS(desk); i++) {
		if (strlen(desk[i].word) != nlen || strncasecmp(desk[i].word, s + h, nlen) != 0)
			continue;
		if (!desk[i].takes_name && alen > 0) {
			*error_r = errf("#%s takes no argument", desk[i].word);
			return AGENTCMD_DESK_BAD;
		}
		if (desk[i].takes_name && !valid_name(arg, alen)) {
			*error_r = errf("#%s takes one name of letters, digits, '.', '_' or '-' (at "
					"most %d)", desk[i].word, NAME_MAX_LEN);
			return AGENTCMD_DESK_BAD;
		}
		if (desk[i].takes_name)
			*arg_r = lower_copy(arg, alen);
		return desk[i].kind;
	}
	return AGENTCMD_DESK_NONE;
}

/* Digits at s[*pos..len) as a number of at most max_digits digits; -1
   when there are none or more. */
static long
read_number(const char *s, size_t len, size_t *pos, size_t max_digits)
{
	size_t start = *pos;
	long n = 0;
	while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && *pos - start < max_digits)
		n = n * 10 + (s[(*pos)++] - '0');
	if (*pos == start || (*pos < len && s[*pos] >= '0' && s[*pos] <= '9'))
		return -1;
	return n;
}

int
agentcmd_snooze_parse(const char *arg, size_t len, struct agentcmd_snooze *sn,
		      const char **error_r)
{
	static const char usage[] =
		"#snooze takes a duration (30m, 4h, 2d, 1w: at most 365 days), a date "
		"(2026-12-24 or 2026-12-24 15:30, in your calendar's time zone) or off";
	memset(sn, 0, sizeof(*sn));
	if (len == 3 && strncasecmp(arg, "off", 3) == 0) {
		sn->kind = AGENTCMD_SNOOZE_OFF;
		return 0;
	}
	size_t pos = 0;
	long n = read_number(arg, len, &pos, 5);
	if (n > 0 && pos + 1 == len) {
		static const struct {
			char unit;
			long seconds;
		} units[] = { { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 } };
		for (size_t i = 0; i < N_ELEMENTS(units); i++) {
			if ((arg[pos] | 0x20) != units[i].unit)
				continue;
			if (n * units[i].seconds > AGENTCMD_SNOOZE_MAX) {
				*error_r = usage;
				return -1;
			}
			sn->kind = AGENTCMD_SNOOZE_FOR;
			sn->seconds = (int64_t)n * units[i].seconds;
			return 0;
		}
	}
	/* YYYY-MM-DD[( |T)HH:MM] */
	pos = 0;
	long y = read_number(arg, len, &pos, 4);
	long mo = pos < len && arg[pos] == '-' ? (pos++, read_number(arg, len, &pos, 2)) : -1;
	long d = pos < len && arg[pos] == '-' ? (pos++, read_number(arg, len, &pos, 2)) : -1;
	long hh = 0, mi = 0;
	if (pos < len && (arg[pos] == ' ' || arg[pos] == 'T' || arg[pos] == 't')) {
		pos++;
		hh = read_number(arg, len, &pos, 2);
		mi = pos < len && arg[pos] == ':' ? (pos++, read_number(arg, len, &pos, 2)) : -1;
		sn->has_time = 1;
	}
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (pos != len || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || hh < 0 || hh > 23 || mi < 0 || mi > 59) {
		*error_r = usage;
		return -1;
	}
	sn->kind = AGENTCMD_SNOOZE_AT;
	sn->year = (int)y;
	sn->month = (int)mo;
	sn->day = (int)d;
	sn->hour = (int)hh;
	sn->minute = (int)mi;
	return 0;
}

void
agentcmd_list_free(struct agentcmd_list **listp)
{
	struct agentcmd_list *list = *listp;
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->n_cmds; i++)
		free(list->cmds[i].arg);
	for (size_t i = 0; i < list->n_errors; i++) {
		free(list->errors[i].command);
		free(list->errors[i].reason);
	}
	free(list->cmds);
	free(list->errors);
	free(list->text);
	free(list);
	*listp = NULL;
}
