/*
 * quote: see quote.h. Hand-written: no maintained C library does this.
 *
 * The text is split into lines, each classified as blank, quoted ('>'),
 * or text. One top-down pass finds where an unquoted history starts (and
 * attribution lines that introduce a '>' block); everything from there on
 * is history. Then '>' blocks and signatures are peeled off the end and
 * '>' blocks off the start. Every test looks at a bounded window of lines
 * (at most 14) and bounded line lengths, so the whole is linear.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/quote.h"
#include "base/util.h"

enum line_kind {
	L_BLANK,
	L_TEXT,
	L_QUOTED, /* starts with '>' */
	L_ATTR,	  /* attribution line of the '>' block below it */
};

struct line {
	const char *s;
	size_t len;	  /* without the line end */
	ptrdiff_t sig;	  /* index of the signature delimiter governing this line, or -1 */
	unsigned char kind;
	unsigned char drop;
};

/* Lines longer than this are never markers (attributions, headers). */
#define MARKER_MAX_LEN 400
/* Most lines a "-- " signature may have before it is taken for text. */
#define SIG_MAX_LINES 20
/* Look-ahead of the header block test. */
#define HEADER_WINDOW 14

/* ------------------------------------------------------------------------ */
/* Characters and literals */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_ascii_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of lit when s starts with it (ASCII letters compared without
   case, other bytes exactly), else 0. */
static size_t
prefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	if (n > len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
			return 0;
	return n;
}

static size_t
suffix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	if (n > len)
		return 0;
	return prefix(s + len - n, n, lit);
}

/* Offset of lit in s, or -1. Only used on short (bounded) strings. */
static ptrdiff_t
find(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (prefix(s + i, len - i, lit) > 0)
			return (ptrdiff_t)i;
	return -1;
}

/* Length of a colon (ASCII or full width) at s, or 0. */
static size_t
colon_len(const char *s, size_t len)
{
	if (len >= 1 && s[0] == ':')
		return 1;
	if (len >= 3 && prefix(s, len, "\xef\xbc\x9a") > 0)
		return 3;
	return 0;
}

static size_t
colon_len_back(const char *s, size_t len)
{
	if (len >= 1 && s[len - 1] == ':')
		return 1;
	if (suffix(s, len, "\xef\xbc\x9a") > 0)
		return 3;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Line tests */

static int
is_quoted(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && i < 3 && s[i] == ' ')
		i++;
	return i < len && s[i] == '>';
}

static int
is_blank(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	return len == 0;
}

/* A rule: only '-', '_', '=', '*', '~', em dashes or box lines, at least
   five of them. */
static int
is_rule(const char *s, size_t len)
{
	size_t marks = 0;
	str_ws_trim(&s, &len);
	for (size_t i = 0; i < len;) {
		size_t n;
		if (s[i] != '\0' && strchr("-_=*~", s[i]) != NULL) {
			marks++;
			i++;
		} else if (prefix(s + i, len - i, "\xe2\x80\x94") > 0 ||
			   prefix(s + i, len - i, "\xe2\x94\x80") > 0) {
			marks++;
			i += 3;
		} else if ((n = str_ws_len(s + i, len - i)) > 0) {
			i += n;
		} else {
			return 0;
		}
	}
	return marks >= 5;
}

/* The words between a line of dashes: "-----Original Message-----". */
static int
dashed_phrase(const char *s, size_t len, const char *const *phrases, size_t n_phrases)
{
	size_t lead = 0;
	str_ws_trim(&s, &len);
	while (len > 0 && (*s == '-' || *s == '_' || *s == '=' || *s == '*' || str_ws_len(s, len) > 0)) {
		if (*s == '-' || *s == '_' || *s == '=')
			lead++;
		size_t w = str_ws_len(s, len);
		s += w > 0 ? w : 1;
		len -= w > 0 ? w : 1;
	}
	if (lead < 2)
		return 0;
	while (len > 0) {
		char c = s[len - 1];
		size_t w = str_ws_len_back(s, len);
		if (c == '-' || c == '_' || c == '=' || c == '*' || c == ':')
			len--;
		else if (w > 0)
			len -= w;
		else
			break;
	}
	for (size_t i = 0; i < n_phrases; i++)
		if (len == strlen(phrases[i]) && prefix(s, len, phrases[i]) == len)
			return 1;
	return 0;
}

static const char *const original_phrases[] = {
	"original message", "original", "reply message", "ursprüngliche nachricht",
	"ursprungliche nachricht", "antwort nachricht", "oprindelig meddelelse",
	"message d'origine", "message original", "mensaje original", "messaggio originale",
	"mensagem original", "oorspronkelijk bericht", "originalmeddelande",
	"opprinnelig melding", "alkuperäinen viesti", "původní zpráva",
	"oryginalna wiadomość", "wiadomość oryginalna", "oprindelig besked", "original meddelelse",
	"opprinnelig e-post", "eredeti üzenet", "orijinal mesaj",
	"исходное сообщение", "原始邮件", "原始郵件", "原邮件", "元のメッセージ",
	"원본 메시지",
};

static const char *const forward_phrases[] = {
	"forwarded message", "forwarded message follows", "weitergeleitete nachricht",
	"message transféré", "mensaje reenviado", "messaggio inoltrato",
	"mensagem encaminhada", "doorgestuurd bericht", "videresendt meddelelse",
	"vidarebefordrat meddelande", "пересылаемое сообщение", "转发邮件", "转发的邮件",
	"轉寄郵件", "転送メッセージ",
};

static const char *const forward_starts[] = {
	"Begin forwarded message:", "Anfang der weitergeleiteten Nachricht:",
	"Début du message réexpédié", "Inicio del mensaje reenviado:",
	"Inizio messaggio inoltrato:", "Início da mensagem reencaminhada:",
};

static int
is_forward_marker(const char *s, size_t len)
{
	if (dashed_phrase(s, len, forward_phrases, N_ELEMENTS(forward_phrases)))
		return 1;
	str_ws_trim(&s, &len);
	for (size_t i = 0; i < N_ELEMENTS(forward_starts); i++)
		if (prefix(s, len, forward_starts[i]) > 0)
			return 1;
	return 0;
}

/* ---- header blocks ("From: / Sent: / To: / Subject:") ------------------ */

enum hgroup { HG_NONE, HG_FROM, HG_DATE, HG_TO, HG_CC, HG_SUBJECT };

struct hkey {
	const char *key;
	enum hgroup group;
};

static const struct hkey header_keys[] = {
	{ "From", HG_FROM }, { "Von", HG_FROM }, { "De", HG_FROM }, { "Van", HG_FROM },
	{ "Fra", HG_FROM }, { "Från", HG_FROM }, { "Da", HG_FROM }, { "Od", HG_FROM },
	{ "Mittente", HG_FROM }, { "Remitente", HG_FROM }, { "Kimden", HG_FROM },
	{ "Lähettäjä", HG_FROM }, { "Feladó", HG_FROM }, { "Afzender", HG_FROM },
	{ "Expéditeur", HG_FROM }, { "Absender", HG_FROM }, { "От", HG_FROM },
	{ "发件人", HG_FROM }, { "寄件者", HG_FROM }, { "寄件人", HG_FROM },
	{ "差出人", HG_FROM }, { "보낸 사람", HG_FROM },

	{ "Sent", HG_DATE }, { "Date", HG_DATE }, { "Datum", HG_DATE }, { "Gesendet", HG_DATE },
	{ "Envoyé", HG_DATE }, { "Enviado", HG_DATE }, { "Enviada", HG_DATE },
	{ "Inviato", HG_DATE }, { "Verzonden", HG_DATE }, { "Skickat", HG_DATE },
	{ "Sendt", HG_DATE }, { "Wysłano", HG_DATE }, { "Data", HG_DATE }, { "Fecha", HG_DATE },
	{ "Gönderildi", HG_DATE }, { "Tarih", HG_DATE }, { "Lähetetty", HG_DATE },
	{ "Odesláno", HG_DATE }, { "Отправлено", HG_DATE }, { "Дата", HG_DATE },
	{ "发送时间", HG_DATE }, { "發送時間", HG_DATE }, { "时间", HG_DATE },
	{ "日期", HG_DATE }, { "送信日時", HG_DATE }, { "날짜", HG_DATE },
	{ "보낸 날짜", HG_DATE },

	{ "To", HG_TO }, { "An", HG_TO }, { "À", HG_TO }, { "A", HG_TO }, { "Aan", HG_TO },
	{ "Til", HG_TO }, { "Till", HG_TO }, { "Para", HG_TO }, { "Per", HG_TO },
	{ "Do", HG_TO }, { "Kime", HG_TO }, { "Vastaanottaja", HG_TO }, { "Címzett", HG_TO },
	{ "Komu", HG_TO }, { "Destinataire", HG_TO }, { "Кому", HG_TO },
	{ "收件人", HG_TO }, { "收件者", HG_TO }, { "宛先", HG_TO }, { "받는 사람", HG_TO },

	{ "Cc", HG_CC }, { "Kopie", HG_CC }, { "Kopia", HG_CC }, { "Копия", HG_CC },
	{ "抄送", HG_CC }, { "副本", HG_CC },

	{ "Subject", HG_SUBJECT }, { "Betreff", HG_SUBJECT }, { "Objet", HG_SUBJECT },
	{ "Onderwerp", HG_SUBJECT }, { "Asunto", HG_SUBJECT }, { "Oggetto", HG_SUBJECT },
	{ "Assunto", HG_SUBJECT }, { "Emne", HG_SUBJECT }, { "Ämne", HG_SUBJECT },
	{ "Temat", HG_SUBJECT }, { "Konu", HG_SUBJECT }, { "Aihe", HG_SUBJECT },
	{ "Tárgy", HG_SUBJECT }, { "Předmět", HG_SUBJECT }, { "Тема", HG_SUBJECT },
	{ "主题", HG_SUBJECT }, { "主旨", HG_SUBJECT }, { "件名", HG_SUBJECT },
	{ "제목", HG_SUBJECT },
};

/* The group of the "Key:" the line starts with ("*From:*", "De :",
   "发件人：" included), or HG_NONE. */
static enum hgroup
header_key(const char *s, size_t len)
{
	if (len > MARKER_MAX_LEN * 4)
		return HG_NONE;
	str_ws_trim(&s, &len);
	while (len > 0 && *s == '*') {
		s++;
		len--;
	}
	for (size_t i = 0; i < N_ELEMENTS(header_keys); i++) {
		size_t n = prefix(s, len, header_keys[i].key);
		if (n == 0)
			continue;
		const char *p = s + n;
		size_t rest = len - n, w;
		while (rest > 0 && *p == '*') {
			p++;
			rest--;
		}
		while ((w = str_ws_len(p, rest)) > 0) {
			p += w;
			rest -= w;
		}
		if (colon_len(p, rest) > 0)
			return header_keys[i].group;
	}
	return HG_NONE;
}

/* 1 when a header block of quoted mail starts at line i: at least two
   different header keys, one of them the sender, within a few lines
   (Outlook's HTML puts blank lines and wrapped values between them). */
static int
header_block(const struct line *lines, size_t n, size_t i)
{
	enum hgroup g = header_key(lines[i].s, lines[i].len);
	if (g == HG_NONE)
		return 0;
	unsigned int seen = 1u << g;
	int blanks = 0, cont = 0;
	for (size_t j = i + 1; j < n && j < i + HEADER_WINDOW; j++) {
		if (lines[j].kind == L_QUOTED)
			break;
		if (lines[j].kind == L_BLANK) {
			if (++blanks > 2)
				break;
			continue;
		}
		blanks = 0;
		g = header_key(lines[j].s, lines[j].len);
		if (g != HG_NONE) {
			seen |= 1u << g;
			cont = 0;
		} else if (++cont > 2) {
			break;
		}
	}
	int groups = 0;
	for (int k = HG_FROM; k <= HG_SUBJECT; k++)
		groups += (seen >> k) & 1;
	if ((seen & (1u << HG_FROM)) && groups >= 2)
		return 1;
	return groups >= 3 && (seen & (1u << HG_DATE)) && (seen & (1u << HG_SUBJECT));
}

/* ---- attribution lines ("On <date>, <who> wrote:") ---------------------- */

static const char *const lead_words[] = {
	"On ", "Le ", "Am ", "Op ", "El ", "Il ", "Em ", "W dniu ", "Den ", "På ", "Dne ",
	"Dana ", "В ", "在", "於", "于",
};

/* Verbs an attribution ends with (before the colon). */
static const char *const wrote_words[] = {
	"wrote", "writes", "a écrit", "a ecrit", "schrieb", "schreef", "escribió", "escribio",
	"escreveu", "ha scritto", "scrisse", "napisał", "napisała", "napisał(a)", "napisal", "napisal(a)",
	"pisze", "skrev",
	"kirjoitti", "napsal", "napsala", "написал", "написала", "написал(а)", "пишет",
	"yazdı", "a scris", "írta", "έγραψε", "写道", "寫道", "寫了", "来信", "書きました",
	"작성",
};

/* Verbs of attributions that put them in the middle: "Am <date> schrieb
   <who>:". */
static const char *const wrote_inner[] = {
	" schrieb ", " schreef ", " skrev ", " escribió ", " escreveu ", " wrote ",
};

static int
lead_score(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	for (size_t i = 0; i < N_ELEMENTS(lead_words); i++)
		if (prefix(s, len, lead_words[i]) > 0)
			return 2;
	return len > 0 && is_digit((unsigned char)s[0]) ? 1 : 0;
}

/* "10:15", or "10.15" as Scandinavian, Finnish and some French clients
   write times ("kl. 10.15"): one or two digits up to 23, a dot, two
   digits, and nothing numeric around it ("3.03.2025" and "0.5" are not
   times). 2 for a time with a colon, 1 for one with a dot, 0 for none:
   a dotted time is only evidence beside an attribution's verb ("10.50" is
   as likely an amount). */
static int
has_time(const char *s, size_t len)
{
	int dotted = 0;
	for (size_t i = 1; i + 2 < len; i++) {
		if (!is_digit((unsigned char)s[i - 1]) || !is_digit((unsigned char)s[i + 1]) ||
		    !is_digit((unsigned char)s[i + 2]))
			continue;
		if (s[i] == ':')
			return 2;
		if (s[i] != '.' || dotted)
			continue;
		size_t h = i - 1;
		if (h > 0 && is_digit((unsigned char)s[h - 1]))
			h--;
		if ((h > 0 && (is_digit((unsigned char)s[h - 1]) || s[h - 1] == '.')) ||
		    (i + 3 < len && (is_digit((unsigned char)s[i + 3]) ||
				     (s[i + 3] == '.' && i + 4 < len && is_digit((unsigned char)s[i + 4])))))
			continue;
		int hours = 0;
		for (size_t k = h; k < i; k++)
			hours = hours * 10 + (s[k] - '0');
		if (hours <= 23 && s[i + 1] <= '5')
			dotted = 1;
	}
	return dotted;
}

/* A year (19xx/20xx as a run of exactly four digits) or d.m.y / m/d/y. */
static int
has_date(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]) || (i > 0 && is_digit((unsigned char)s[i - 1])))
			continue;
		size_t j = i;
		while (j < len && is_digit((unsigned char)s[j]))
			j++;
		if (j - i == 4 && (prefix(s + i, 2, "19") || prefix(s + i, 2, "20")))
			return 1;
		if (j < len && (s[j] == '.' || s[j] == '/' || s[j] == '-') && j + 1 < len &&
		    is_digit((unsigned char)s[j + 1])) {
			size_t k = j + 1;
			while (k < len && is_digit((unsigned char)s[k]))
				k++;
			if (k + 1 < len && s[k] == s[j] && is_digit((unsigned char)s[k + 1]))
				return 1;
		}
	}
	return 0;
}

/* Zoho's attribution between dashes: "---- On <date> <who> wrote ----".
   The text between the dashes, or 0 when s is not of that shape. */
static size_t
dashed_inner(const char **sp, size_t len)
{
	const char *s = *sp;
	size_t lead = 0, trail = 0;
	while (lead < len && s[lead] == '-')
		lead++;
	while (trail < len - lead && s[len - 1 - trail] == '-')
		trail++;
	if (lead < 3 || trail < 3)
		return 0;
	const char *in = s + lead;
	size_t n = len - lead - trail;
	str_ws_trim(&in, &n);
	*sp = in;
	return n;
}

/* Is s (the joined, trimmed lines, ending in a colon) an attribution?
   relaxed: just "<who> wrote:" (s-nail's default), accepted only right
   above a quoted block; there an attribution without its colon ("On
   <date>, <who> wrote", as some webmails and text conversions leave it)
   is one too when it has the lead word and a time or an address. Zoho's
   "---- On ... wrote ----" is an attribution without a colon. */
static int
attribution_text(const char *s, size_t len, int relaxed)
{
	const char *body = s;
	size_t blen = len;
	int nocolon = 0;
	size_t c = colon_len_back(s, len);
	if (c > 0) {
		blen = len - c;
	} else if ((blen = dashed_inner(&body, len)) == 0) {
		if (!relaxed)
			return 0;
		body = s;
		blen = len;
		nocolon = 1;
	}
	str_ws_trim(&body, &blen);

	int digit = 0, at = 0;
	for (size_t i = 0; i < blen; i++) {
		if (is_digit((unsigned char)body[i]))
			digit = 1;
		else if (body[i] == '@')
			at = 1;
	}
	if (!digit && !relaxed)
		return 0;
	/* Without a colon it needs a digit and the lead word (below): asked
	   before the scans, for every line of every mail comes here. */
	if (nocolon && !digit)
		return 0;
	int lead = lead_score(body, blen) == 2;
	if (nocolon && !lead)
		return 0;
	int time = has_time(body, blen);
	if (nocolon) {
		if (!digit || !lead || !(time || at))
			return 0;
		relaxed = 0;
	}

	for (size_t i = 0; i < N_ELEMENTS(wrote_words); i++) {
		size_t n = suffix(body, blen, wrote_words[i]);
		if (n == 0)
			continue;
		/* a whole word: "<bob@example.com>wrote" counts, "rewrote" does not */
		if (blen > n && is_ascii_alpha((unsigned char)wrote_words[i][0]) &&
		    is_ascii_alpha((unsigned char)body[blen - n - 1]))
			continue;
		if (lead || time || at || relaxed)
			return 1;
	}
	if (relaxed)
		return 0;
	/* "Am <date> schrieb <who>:", "3. mar. 2025 kl. 10.15 skrev <who>:" */
	if ((lead && (time || at)) || (time && at))
		for (size_t i = 0; i < N_ELEMENTS(wrote_inner); i++)
			if (find(body, blen, wrote_inner[i]) >= 0)
				return 1;
	/* no verb: "26.06.2014, 14:41, "Bob" <bob@example.com>:" */
	if (at && time == 2 && has_date(body, blen)) {
		if (body[blen - 1] == '>')
			return 1;
		size_t k = blen;
		while (k > 0 && body[k - 1] != ' ')
			k--;
		if (memchr(body + k, '@', blen - k) != NULL)
			return 1;
	}
	return 0;
}

static int
ends_sentence(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	return len > 0 && (s[len - 1] == '.' || s[len - 1] == '!' || s[len - 1] == '?');
}

/* Number of lines (1 to 3) of an attribution starting at line i, or 0. */
static size_t
attribution_at(const struct line *lines, size_t n, size_t i, int relaxed, int depth)
{
	char buf[3 * MARKER_MAX_LEN + 8];
	size_t blen = 0;
	for (size_t k = 0; k < 3 && i + k < n; k++) {
		const struct line *l = &lines[i + k];
		if (l->kind != L_TEXT)
			return 0;
		const char *s = l->s;
		size_t len = l->len;
		str_ws_trim(&s, &len);
		if (len > MARKER_MAX_LEN)
			return 0;
		if (blen > 0)
			buf[blen++] = ' ';
		memcpy(buf + blen, s, len);
		blen += len;
		int colon = colon_len_back(s, len) > 0;
		if (!attribution_text(buf, blen, relaxed)) {
			if (colon)
				return 0;
			/* a wrapped attribution does not contain a finished sentence */
			if (ends_sentence(s, len))
				return 0;
			continue;
		}
		if (depth == 0) {
			/* "Thanks,\nBob\nOn <date>, Bob wrote:": a later start wins
			   when it looks more like one. */
			int score = lead_score(lines[i].s, lines[i].len);
			for (size_t j = 1; j <= k; j++)
				if (lead_score(lines[i + j].s, lines[i + j].len) > score &&
				    attribution_at(lines, n, i + j, relaxed, 1) > 0)
					return 0;
		}
		return k + 1;
	}
	return 0;
}

/* ---- signatures ---------------------------------------------------------- */

/* "-- " (RFC 3676), "--", or a mailing list footer's line of underscores. */
static int
is_sig_delimiter(const char *s, size_t len)
{
	size_t w;
	while ((w = str_ws_len_back(s, len)) > 0)
		len -= w;
	if (len == 2 && s[0] == '-' && s[1] == '-')
		return 1;
	if (len >= 10) {
		for (size_t i = 0; i < len; i++)
			if (s[i] != '_')
				return 0;
		return 1;
	}
	return 0;
}

/* Words of a mailing list's footer. */
static const char *const list_footer_words[] = {
	"unsubscribe", "mailing list", "listinfo", "abmelden", "désinscri", "desinscri",
	"darse de baja", "cancellare l'iscrizione", "afmelden", "afmeld", "wypisać", "退订",
	"取消订阅", "取消訂閱",
};

/* A short rule ("---", "_____") that starts a mailing list's footer: a
   footer word within the few lines below it. Longer underscore lines are
   delimiters by themselves (is_sig_delimiter()). */
static int
list_rule_at(const struct line *lines, size_t n, size_t i)
{
	const char *s = lines[i].s;
	size_t len = lines[i].len;
	str_ws_trim(&s, &len);
	if (len < 3 || len > 80)
		return 0;
	for (size_t k = 0; k < len; k++)
		if (s[k] != '-' && s[k] != '_' && s[k] != '=')
			return 0;
	for (size_t j = i + 1; j < n && j <= i + 6; j++) {
		if (lines[j].kind != L_TEXT || lines[j].len > MARKER_MAX_LEN)
			continue;
		for (size_t w = 0; w < N_ELEMENTS(list_footer_words); w++)
			if (find(lines[j].s, lines[j].len, list_footer_words[w]) >= 0)
				return 1;
	}
	return 0;
}

static const char *const signoff_prefixes[] = {
	"Sent from my ", "Sent with my ", "Sent via my ", "Sent from Outlook", "Sent from Mail for ",
	"Sent from Yahoo Mail", "Sent from Samsung", "Sent from Gmail", "Sent from Proton",
	"Sent from the ", "Sent from iPhone", "Sent from iPad", "Sent from Android",
	"Sent with Sparrow", "Sent with ProtonMail", "Sent with Proton Mail", "Sent from BlueMail",
	"Sent from Spark", "Sent from AOL", "Sent from Huawei", "Sent from Xiaomi",
	"Get Outlook for ", "Von meinem ", "Gesendet von meinem ", "Gesendet mit ",
	"Envoyé de mon ", "Envoyé depuis mon ", "Enviado desde mi ", "Enviado do meu ",
	"Enviado de meu ", "Enviado desde ", "Inviato da ", "Verzonden vanaf ", "Verstuurd vanaf ",
	"Skickat från ", "Sendt fra ", "Lähetetty ", "Wysłane z ", "Отправлено с ",
	"Envoyé à partir de ", "Envoyé de ", "Envoyé depuis ", "Gesendet von ", "Verzonden met ",
	"Verstuurd met ", "Télécharger Outlook pour ", "Scarica Outlook per ", "Download Outlook for ",
	"Hent Outlook til ", "Skaff deg Outlook for ", "Pobierz Outlook dla ", "Obtenez Outlook pour ",
	"Holen Sie sich Outlook für ", "Outlook voor ",
	"Отправлено из ", "发自我的", "来自我的", "從我的", "从我的", "來自我的", "寄自我的",
};

static const char *const signoff_suffixes[] = {
	"から送信", "发送", "發送", "gesendet",
};

/* A mobile client's sign-off: one short line of a few words, no sentence.
   Links in angle brackets, as Outlook's apps and Windows Mail write them
   into the text ("Get Outlook for iOS<https://aka.ms/o0ukef>", "Sent from
   Mail<https://go.microsoft.com/...> for Windows"), are not counted. */
int
quote_is_signoff(const char *line, size_t line_len)
{
	char nolinks[MARKER_MAX_LEN];
	const char *s = line;
	size_t len = 0;
	if (line_len >= sizeof(nolinks))
		return 0;
	for (size_t i = 0; i < line_len; i++) {
		const char *close;
		if (line[i] == '<' && prefix(line + i + 1, line_len - i - 1, "http") > 0 &&
		    (close = memchr(line + i, '>', line_len - i)) != NULL) {
			i = (size_t)(close - line);
			continue;
		}
		nolinks[len++] = line[i];
	}
	s = nolinks;
	str_ws_trim(&s, &len);
	if (len == 0 || len > 80)
		return 0;
	size_t p = 0;
	for (size_t i = 0; i < N_ELEMENTS(signoff_prefixes) && p == 0; i++)
		p = prefix(s, len, signoff_prefixes[i]);
	if (p == 0) {
		/* "iPhoneから送信", "从我的iPhone发送", "Von meinem iPhone gesendet" */
		for (size_t i = 0; i < N_ELEMENTS(signoff_suffixes); i++)
			if (suffix(s, len, signoff_suffixes[i]) > 0 && len <= 48 &&
			    memchr(s, ' ', len) == NULL)
				return 1;
		return 0;
	}
	/* The rest: at most five words, no sentence punctuation outside
	   parentheses ("Sent with Sparrow (http://...)" is fine). */
	int words = 0, in_word = 0, paren = 0;
	for (size_t i = p; i < len; i++) {
		char c = s[i];
		if (c == '(')
			paren++;
		else if (c == ')' && paren > 0)
			paren--;
		else if (paren == 0 && (c == ',' || c == ';' || c == '!' || c == '?' ||
					(c == '.' && i + 1 < len)))
			return 0;
		if (c == ' ') {
			in_word = 0;
		} else if (!in_word && paren == 0) {
			in_word = 1;
			words++;
		}
	}
	return words <= 5;
}

/* "Hi,", "Hello Bob!", "Dear team,": one short line ending in ',' or '!'. */
static int
is_salutation(const char *s, size_t len)
{
	str_ws_trim(&s, &len);
	if (len == 0 || len > 40)
		return 0;
	return s[len - 1] == ',' || s[len - 1] == '!' || suffix(s, len, "\xef\xbc\x8c") > 0 ||
	       suffix(s, len, "\xef\xbc\x81") > 0;
}

/* Clients that wrap quoted text after quoting it leave the continuation
   of a long '>' line without its '>':
     > ... please log in again and set up a
     new authenticator on your phone within 24 hours, otherwise the reset
     > expires and ...
   Such a line is quoted when the '>' line above it is long and unfinished
   and either a '>' line follows, or it starts in lower case and only
   quoted or blank lines follow (the end of a trailing quote). A line
   between two short quoted lines is an inline answer and stays. */
#define WRAPPED_QUOTE_MIN 60

static void
rejoin_wrapped_quotes(struct line *lines, size_t n)
{
	size_t made = 0; /* the line last made quoted, + 1 (0: none) */
	size_t last_text = 0;
	for (size_t i = 0; i < n; i++)
		if (lines[i].kind == L_TEXT)
			last_text = i;
	for (size_t i = 1; i < n; i++) {
		const struct line *up = &lines[i - 1];
		struct line *l = &lines[i];
		/* the line above must be a '>' line of the input, not one made so */
		if (l->kind != L_TEXT || up->kind != L_QUOTED || made == i ||
		    up->len < WRAPPED_QUOTE_MIN || l->len > 2 * WRAPPED_QUOTE_MIN ||
		    ends_sentence(up->s, up->len) || colon_len_back(up->s, up->len) > 0)
			continue;
		int quoted_below = i + 1 < n && lines[i + 1].kind == L_QUOTED;
		if (quoted_below || (i == last_text && l->s[0] >= 'a' && l->s[0] <= 'z')) {
			l->kind = L_QUOTED;
			made = i + 1;
		}
	}
}

/* ------------------------------------------------------------------------ */

int
quote_strip(const char *text, size_t len, unsigned int flags, struct quote_result *result,
	    const char **error_r)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n')))
			n++;
	if (n > QUOTE_MAX_LINES) {
		*error_r = errf("text has more than %d lines", QUOTE_MAX_LINES);
		return -1;
	}
	int strip_sig = (flags & QUOTE_KEEP_SIGNATURE) == 0;
	struct line *lines = xcalloc(n, sizeof(*lines));
	size_t nl = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n' && text[i] != '\r')
			continue;
		lines[nl].s = text + start;
		lines[nl].len = i - start;
		nl++;
		if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	n = nl;
	for (size_t i = 0; i < n; i++) {
		struct line *l = &lines[i];
		l->sig = -1;
		if (is_blank(l->s, l->len))
			l->kind = L_BLANK;
		else if (is_quoted(l->s, l->len))
			l->kind = L_QUOTED;
		else
			l->kind = L_TEXT;
	}
	rejoin_wrapped_quotes(lines, n);

	int quote_removed = 0, sig_removed = 0;

	/* 1. Where the unquoted history starts; attributions of '>' blocks. */
	size_t cut = n;
	for (size_t i = 0; i < n; i++) {
		if (lines[i].kind != L_TEXT)
			continue;
		const char *s = lines[i].s;
		size_t l = lines[i].len;
		if (is_forward_marker(s, l))
			break;
		int history = 0;
		size_t span;
		if (l <= MARKER_MAX_LEN &&
		    dashed_phrase(s, l, original_phrases, N_ELEMENTS(original_phrases))) {
			history = 1;
		} else if (header_block(lines, n, i)) {
			history = 1;
		} else if ((span = attribution_at(lines, n, i, 0, 0)) > 0 ||
			   (span = attribution_at(lines, n, i, 1, 0)) > 0) {
			size_t j = i + span;
			while (j < n && j < i + span + 6 && lines[j].kind == L_BLANK)
				j++;
			/* mailx and s-nail quote with a tab (indentprefix): below an
			   attribution, a run of tab-indented lines is a quote */
			int tabbed = j < n && lines[j].kind == L_TEXT && lines[j].s[0] == '\t';
			for (size_t k = j; tabbed && k < n; k++) {
				if (lines[k].kind == L_TEXT && lines[k].s[0] == '\t')
					lines[k].kind = L_QUOTED;
				else if (lines[k].kind != L_BLANK)
					break;
			}
			if (j < n && lines[j].kind == L_QUOTED) {
				for (size_t k = i; k < i + span; k++)
					lines[k].kind = L_ATTR;
				i += span - 1;
				continue;
			}
			/* only a dated attribution starts an unquoted history */
			history = attribution_at(lines, n, i, 0, 0) > 0;
		}
		if (!history)
			continue;
		cut = i;
		/* the rule line above an Outlook header block belongs to it */
		size_t k = i;
		while (k > 0 && k + 3 > i && lines[k - 1].kind == L_BLANK)
			k--;
		if (k > 0 && lines[k - 1].kind == L_TEXT && is_rule(lines[k - 1].s, lines[k - 1].len))
			cut = k - 1;
		break;
	}
	for (size_t i = cut; i < n; i++)
		if (lines[i].kind != L_BLANK)
			quote_removed = 1;

	/* 2. Signature regions: from a delimiter to the next quoted block. */
	ptrdiff_t cur = -1;
	for (size_t i = 0; i < cut; i++) {
		struct line *l = &lines[i];
		if (l->kind == L_QUOTED || l->kind == L_ATTR) {
			cur = -1;
			continue;
		}
		if (cur < 0 && l->kind == L_TEXT &&
		    (is_sig_delimiter(l->s, l->len) || list_rule_at(lines, cut, i)))
			cur = (ptrdiff_t)i;
		l->sig = cur;
	}
	for (size_t i = 0; i < cut;) {
		if (lines[i].sig != (ptrdiff_t)i) {
			i++;
			continue;
		}
		size_t j = i + 1, textlines = 0;
		while (j < cut && lines[j].sig == (ptrdiff_t)i) {
			if (lines[j].kind == L_TEXT)
				textlines++;
			j++;
		}
		if (textlines > SIG_MAX_LINES)
			for (size_t k = i; k < j; k++)
				lines[k].sig = -1;
		i = j;
	}

	/* 3. Peel quoted blocks and signatures off the end... */
	size_t i = cut;
	while (i > 0) {
		struct line *l = &lines[i - 1];
		if (l->kind == L_BLANK) {
			i--;
		} else if (l->kind == L_QUOTED || l->kind == L_ATTR) {
			l->drop = 1;
			quote_removed = 1;
			i--;
		} else if (l->sig >= 0) {
			size_t s = (size_t)l->sig;
			if (strip_sig) {
				for (size_t k = s; k < i; k++)
					lines[k].drop = 1;
				sig_removed = 1;
			}
			i = s;
		} else if (quote_is_signoff(l->s, l->len)) {
			if (strip_sig) {
				l->drop = 1;
				sig_removed = 1;
			}
			i--;
		} else {
			break;
		}
	}
	/* ...and quoted blocks off the start (bottom posting), also below a
	   salutation ("Hi,"), which is kept; unless the reply answers inline
	   (a kept quoted block between pieces of text), where each quote
	   gives the answer below it its meaning. */
	size_t first = 0;
	while (first < cut && lines[first].kind == L_BLANK)
		first++;
	if (first < cut && lines[first].kind == L_TEXT && is_salutation(lines[first].s, lines[first].len)) {
		size_t k = first + 1;
		while (k < cut && lines[k].kind == L_BLANK)
			k++;
		if (k < cut && (lines[k].kind == L_QUOTED || lines[k].kind == L_ATTR))
			first = k;
	}
	size_t body = first;
	while (body < cut && lines[body].kind != L_TEXT)
		body++;
	int inline_reply = 0;
	for (size_t k = body; k < cut && !inline_reply; k++)
		inline_reply = !lines[k].drop && (lines[k].kind == L_QUOTED || lines[k].kind == L_ATTR);
	for (size_t k = first; !inline_reply && k < body; k++) {
		if (lines[k].kind != L_BLANK) {
			lines[k].drop = 1;
			quote_removed = 1;
		}
	}

	/* 4. Output: kept lines, without blank lines at either end or
	   doubled where something was dropped between. */
	char *out = xmalloc(len + 1);
	size_t olen = 0, pending_blanks = 0;
	int any = 0, dropped_since = 0;
	for (size_t j = 0; j < cut; j++) {
		const struct line *l = &lines[j];
		if (l->drop) {
			dropped_since = 1;
			continue;
		}
		if (l->kind == L_BLANK) {
			if (any)
				pending_blanks++;
			continue;
		}
		if (pending_blanks > 0 && dropped_since)
			pending_blanks = 1;
		for (; pending_blanks > 0; pending_blanks--)
			out[olen++] = '\n';
		if (any)
			out[olen++] = '\n';
		memcpy(out + olen, l->s, l->len);
		olen += l->len;
		any = 1;
		dropped_since = 0;
	}
	out[olen] = '\0';
	free(lines);

	result->text = out;
	result->len = olen;
	result->quote_removed = quote_removed;
	result->signature_removed = sig_removed;
	return 0;
}
