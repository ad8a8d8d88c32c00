/*
 * quote: the new text of a reply, without the quoted history below (or
 * above) it and, optionally, without the sender's signature.
 *
 * Hand-written on purpose: no maintained C library strips reply quotes
 * (the known implementations are talon in Python and email_reply_parser in
 * Ruby, both regex-driven, one with catastrophic backtracking on long '>'
 * lines). This one scans line by line with bounded look-ahead, so the work
 * is linear in the input: no regular expressions, no backtracking.
 *
 * What is recognised (outside '>' quoted lines):
 * - attribution lines, also wrapped over up to three lines: "On <date>,
 *   <who> wrote:", "Le ... a écrit :", "Am ... schrieb ...:", "El ...
 *   escribió:", "Il giorno ... ha scritto:", "Op ... schreef ...:", "...
 *   napisał(a):", "W dniu ... pisze:", "... kl. 10.15 skrev ...:", "在 ...
 *   写道：", "<who> 于<date>写道：", "... написал:" and others; they must
 *   carry a date or time (also "10.15" beside the verb), so a sentence
 *   ending in "wrote:" is not taken for one, except right above a quoted
 *   block ("Bob <bob@example.com> wrote:", s-nail's default), where one
 *   that lost its colon ("On <date>, <who> wrote") counts too; Zoho's
 *   "---- On <date> <who> wrote ----" anywhere;
 * - "-----Original Message-----" separators in several languages;
 * - header blocks of quoted mail as Outlook, Hotmail, Windows Mail, Zimbra
 *   and others write them ("From: / Sent: / To: / Subject:", "*From:*",
 *   "Von: / Gesendet:", "De : / Envoyé :", "发件人: / 发送时间:", "От: /
 *   Отправлено:"), with the rule line above them;
 * - date-and-address attributions without a verb (mail.ru, Yandex, Gmail
 *   in some locales): "26.06.2014, 14:41, "Bob" <bob@example.com>:".
 * - '>' quoted lines, and tab-indented lines right below an attribution
 *   (the indentprefix of mailx and s-nail); a line that lost its '>' when
 *   a client wrapped a long quoted line (below a long, unfinished '>' line
 *   and above another, or ending a trailing quote in lower case).
 * An unquoted history (separator, header block, or an attribution that no
 * '>' block follows) is cut with everything after it. '>' blocks (with their
 * attribution) are removed when they are above or below the reply text;
 * a '>' block between two pieces of reply text is an inline answer and
 * kept, because the answer needs it. Text after a forwarding marker
 * ("---------- Forwarded message ----------") is content, never history.
 *
 * Signatures (unless QUOTE_KEEP_SIGNATURE): a "-- " (or "--") line and what
 * follows it up to the next quoted block (at most 20 lines), a mailing-list
 * footer after a line of underscores (or a short rule, "---", with
 * "unsubscribe" or "mailing list" below it), and mobile sign-offs at the
 * end of the text ("Sent from my iPhone", "Von meinem iPhone gesendet",
 * "发自我的iPhone", "Get Outlook for iOS<https://aka.ms/...>", "Envoyé à
 * partir de Outlook pour iOS"...). "Sent from my desk, which is..." is
 * text, not a sign-off.
 *
 * Pure: no I/O, no logging. The input need not be valid UTF-8; the output
 * is made of whole lines of the input (CR LF and CR become LF), so it is
 * valid UTF-8 when the input is.
 */
#ifndef DG_QUOTE_H
#define DG_QUOTE_H

#include <stddef.h>

/* Keep signatures and mobile sign-offs (strip quoted history only). */
#define QUOTE_KEEP_SIGNATURE 0x1u

/* Inputs with more lines than this are refused (the caller keeps the text
   as it is): the scan holds a small record per line. */
#define QUOTE_MAX_LINES 200000

struct quote_result {
	char *text;	       /* the visible new text, trimmed of blank lines; caller frees */
	size_t len;
	int quote_removed;     /* quoted history was found and removed */
	int signature_removed; /* a signature, footer or sign-off was removed */
};

/* Strip text[0..len). 0 with *result filled (result->text owned by the
   caller, "" when nothing new is left), or -1 with *error_r when the input
   has more than QUOTE_MAX_LINES lines (result untouched). */
int quote_strip(const char *text, size_t len, unsigned int flags, struct quote_result *result,
		const char **error_r);

/* 1 when line[0..len) is a mobile or webmail client's sign-off ("Sent
   from my iPhone", "Get Outlook for iOS<https://...>", "Gesendet von
   Outlook für Android"...): one short line of a few words, the links in
   angle brackets not counted. htmlsafe.c reads HTML lines with it. */
int quote_is_signoff(const char *line, size_t len);

#endif
