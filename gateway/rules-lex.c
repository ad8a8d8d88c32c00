/*
 * rules-lex: the lexer of the rules language (deskgate-rules(5)): words,
 * "strings", punctuation, line breaks, and /patterns/ with their flags,
 * which may continue on the following lines. Hand-written: no maintained
 * library reads our own language.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rules-int.h"

void
parser_error(struct parser *ps, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = xvasprintf(fmt, ap);
	va_end(ap);
	/* Line 0: about the file as a whole. */
	char *msg = line > 0 ? xasprintf("%s:%u: %s", ps->file, line, why)
			     : xasprintf("%s: %s", ps->file, why);
	free(why);
	if (ps->options->on_error != NULL)
		ps->options->on_error(ps->options->on_error_context, msg);
	if (ps->first_error == NULL)
		ps->first_error = msg;
	else
		free(msg);
	ps->n_errors++;
}

int
is_word_char(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return 0;
	return strchr("{}\",;~/", c) == NULL;
}

int
lex_next(struct parser *ps)
{
	x_free(&ps->text);
	for (;;) {
		while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		break;
	}
	ps->tok_line = ps->line;
	if (ps->p >= ps->end) {
		ps->tok = TOK_EOF;
		return 0;
	}
	unsigned char c = (unsigned char)*ps->p;
	switch (c) {
	case '\n':
		ps->p++;
		ps->line++;
		ps->tok = TOK_NL;
		return 0;
	case '{':
		ps->p++;
		ps->tok = TOK_LBRACE;
		return 0;
	case '}':
		ps->p++;
		ps->tok = TOK_RBRACE;
		return 0;
	case ',':
		ps->p++;
		ps->tok = TOK_COMMA;
		return 0;
	case ';':
		ps->p++;
		ps->tok = TOK_SEMI;
		return 0;
	case '~':
		ps->p++;
		ps->tok = TOK_TILDE;
		return 0;
	case '"': {
		struct buf b;
		buf_init(&b, RULES_MAX_PATTERN);
		ps->p++;
		for (;;) {
			if (ps->p >= ps->end || *ps->p == '\n') {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "unterminated string");
				return -1;
			}
			char ch = *ps->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\\')) {
					buf_free(&b);
					parser_error(ps, ps->tok_line,
						     "in a string, only \\\" and \\\\ are escapes");
					return -1;
				}
				ch = *ps->p++;
			}
			if ((unsigned char)ch < 0x20) {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "control character in a string");
				return -1;
			}
			if (buf_putc(&b, (unsigned char)ch) < 0) {
				buf_free(&b);
				parser_error(ps, ps->tok_line, "string too long");
				return -1;
			}
		}
		ps->text = buf_steal(&b, NULL);
		ps->tok = TOK_STRING;
		return 0;
	}
	case '/':
		parser_error(ps, ps->line, "unexpected \"/\" (a /pattern/ must follow \"~\")");
		return -1;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		parser_error(ps, ps->line, "unexpected control character 0x%02x", c);
		return -1;
	}
	const char *start = ps->p;
	while (ps->p < ps->end && is_word_char((unsigned char)*ps->p))
		ps->p++;
	ps->text = xstrndup(start, (size_t)(ps->p - start));
	ps->tok = TOK_WORD;
	return 0;
}

int
tok_is(const struct parser *ps, const char *word)
{
	return ps->tok == TOK_WORD && strcmp(ps->text, word) == 0;
}

const char *
tok_describe(const struct parser *ps)
{
	switch (ps->tok) {
	case TOK_EOF:
		return "end of file";
	case TOK_NL:
		return "end of line";
	case TOK_WORD:
		return errf("\"%.40s\"", ps->text);
	case TOK_STRING:
		return errf("string \"%.40s\"", ps->text);
	case TOK_LBRACE:
		return "\"{\"";
	case TOK_RBRACE:
		return "\"}\"";
	case TOK_COMMA:
		return "\",\"";
	case TOK_SEMI:
		return "\";\"";
	case TOK_TILDE:
		return "\"~\"";
	}
	return "?";
}

/* Read a /pattern/flags right after "~" (the current token). A pattern
   may continue on the following lines: each line break and the blanks
   that indent the next line are left out, so that long alternations can
   be laid out one per line while spaces inside phrases still count. */
int
lex_pattern(struct parser *ps, char **source_r, unsigned int *flags_r, unsigned int *line_r,
	    struct joins *joins)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
	*line_r = ps->line;
	if (ps->p >= ps->end || *ps->p != '/') {
		parser_error(ps, ps->line, "expected a /pattern/ after \"~\"");
		return -1;
	}
	ps->p++;
	struct buf b;
	buf_init(&b, RULES_MAX_PATTERN);
	int too_long = 0;
	while (ps->p < ps->end && *ps->p != '/') {
		char c = *ps->p;
		if (c == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n' && ps->p[1] != '\r') {
			too_long |= buf_append(&b, ps->p, 2) < 0;
			ps->p += 2;
			continue;
		}
		if (c == '\\') {
			buf_free(&b);
			parser_error(ps, ps->line, "a pattern line cannot end with a backslash");
			return -1;
		}
		if (c == '\r') {
			ps->p++;
			continue;
		}
		if (c == '\n') {
			ps->line++;
			ps->p++;
			while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
				ps->p++;
			joins->at = xreallocarray(joins->at, joins->n + 1, sizeof(*joins->at));
			joins->at[joins->n++] = b.len;
			continue;
		}
		too_long |= buf_putc(&b, (unsigned char)c) < 0;
		ps->p++;
	}
	if (ps->p >= ps->end) {
		buf_free(&b);
		parser_error(ps, *line_r, "unterminated pattern (a \"/\" inside a pattern is written \\/)");
		return -1;
	}
	ps->p++;
	if (too_long) {
		buf_free(&b);
		parser_error(ps, *line_r, "pattern longer than %d bytes", RULES_MAX_PATTERN);
		return -1;
	}
	if (b.len == 0) {
		buf_free(&b);
		parser_error(ps, *line_r, "empty pattern");
		return -1;
	}
	unsigned int opts = RX_CASELESS;
	while (ps->p < ps->end && isalpha((unsigned char)*ps->p)) {
		switch (*ps->p) {
		case 'c':
			opts &= ~(unsigned int)RX_CASELESS;
			break;
		case 'i':
			opts |= RX_CASELESS;
			break;
		case 'm':
			opts |= RX_MULTILINE;
			break;
		case 's':
			opts |= RX_DOTALL;
			break;
		case 'x':
			opts |= RX_EXTENDED;
			break;
		default:
			buf_free(&b);
			parser_error(ps, ps->line, "unknown pattern flag \"%c\" (flags: c i m s x)", *ps->p);
			return -1;
		}
		ps->p++;
	}
	if (ps->p < ps->end && is_word_char((unsigned char)*ps->p)) {
		buf_free(&b);
		parser_error(ps, ps->line, "unexpected \"%c\" after a pattern", *ps->p);
		return -1;
	}
	*source_r = buf_steal(&b, NULL);
	*flags_r = opts;
	return 0;
}
