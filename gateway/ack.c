/*
 * ack: see ack.h. The data the templates see and the policy of when to
 * acknowledge; the templates themselves are in ack-templates.c. The
 * localised names, dates and durations are small hand-made tables:
 * glibc's locales (strftime %A/%B) are often not installed on servers,
 * and these few strings must read the way a support agent writes them, not
 * the way a locale's LC_TIME spells them.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hook.h"
#include "gateway/hours.h"
#include "gateway/sla.h"
#include "gateway/log.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/template.h"
#include "gateway/thread.h"
#include "parsers/addr.h"
#include "parsers/autoreply.h"
#include "parsers/lang.h"
#include "parsers/mime.h"
#include "parsers/secrets.h"
#include "base/util.h"

const char *const ack_categories[] = { "registration", "failed_trade", "delayed_payment",
				       "account_security", "complaint", "other", NULL };
const char *const ack_languages[] = { "zh-CN", "zh-TW", "en", "fr", "de", NULL };

enum { LANG_ZH_CN, LANG_ZH_TW, LANG_EN, LANG_FR, LANG_DE, N_LANGS };
#define N_CATEGORIES 6

static const char *const priorities[] = { "urgent", "high", "normal", "low" };

/* ---- localised strings --------------------------------------------------- */

static const char *const category_names[N_CATEGORIES][N_LANGS] = {
	{ "注册与身份认证", "註冊與身分驗證", "Registration and verification", "Inscription et vérification",
	  "Registrierung und Verifizierung" },
	{ "交易失败", "交易失敗", "Failed trade", "Ordre échoué", "Fehlgeschlagener Handel" },
	{ "充提币延迟", "入金／出金延遲", "Delayed deposit or withdrawal", "Dépôt ou retrait en attente",
	  "Verzögerte Ein- oder Auszahlung" },
	{ "账户安全", "帳戶安全", "Account security", "Sécurité du compte", "Kontosicherheit" },
	{ "投诉", "客訴", "Complaint", "Réclamation", "Beschwerde" },
	{ "其他咨询", "其他諮詢", "General enquiry", "Demande générale", "Allgemeine Anfrage" },
};

static const char *const priority_names[4][N_LANGS] = {
	{ "紧急", "緊急", "urgent", "urgente", "dringend" },
	{ "高", "高", "high", "haute", "hoch" },
	{ "普通", "一般", "normal", "normale", "normal" },
	{ "低", "低", "low", "basse", "niedrig" },
};

struct field_text {
	const char *key;
	const char *label[N_LANGS];
	const char *missing[N_LANGS]; /* how to ask for it */
};

static const struct field_text field_texts[] = {
	{ "order_id",
	  { "订单号", "訂單編號", "Order ID", "Numéro d'ordre", "Auftragsnummer" },
	  { "订单号（可在“订单记录”中查看）", "訂單編號（可在「訂單紀錄」中查看）",
	    "the order ID (you can find it in your order history)",
	    "le numéro d'ordre (visible dans votre historique d'ordres)",
	    "die Auftragsnummer (zu finden in Ihrem Auftragsverlauf)" } },
	{ "tx_hash",
	  { "交易哈希（TxID）", "交易雜湊值（TxID）", "Transaction hash (TxID)",
	    "Hash de la transaction (TxID)", "Transaktions-Hash (TxID)" },
	  { "交易哈希（TxID），可在转出方钱包或平台的记录中找到",
	    "交易雜湊值（TxID），可在轉出方錢包或平台的紀錄中找到",
	    "the transaction hash (TxID), shown by the sending wallet or platform",
	    "le hash de la transaction (TxID), indiqué par le portefeuille ou la plateforme d'envoi",
	    "den Transaktions-Hash (TxID) aus der sendenden Wallet oder Plattform" } },
	{ "amount",
	  { "金额", "金額", "Amount", "Montant", "Betrag" },
	  { "金额和币种（例如 0.5 BTC）", "金額與幣別（例如 0.5 BTC）",
	    "the amount and currency (for example 0.5 BTC)",
	    "le montant et la devise (par exemple 0,5 BTC)",
	    "Betrag und Währung (zum Beispiel 0,5 BTC)" } },
	{ "coin",
	  { "币种", "幣別", "Currency", "Devise", "Währung" },
	  { "币种", "幣別", "the currency", "la devise", "die Währung" } },
	{ "wallet_address",
	  { "钱包地址", "錢包地址", "Wallet address", "Adresse du portefeuille", "Wallet-Adresse" },
	  { "收款钱包地址", "收款錢包地址", "the receiving wallet address",
	    "l'adresse du portefeuille de réception", "die empfangende Wallet-Adresse" } },
	{ "account_email",
	  { "账户邮箱", "帳戶電子郵件", "Account email", "E-mail du compte", "Konto-E-Mail" },
	  { "您注册账户时使用的邮箱地址", "您註冊帳戶時使用的電子郵件地址",
	    "the email address your account is registered with",
	    "l'adresse e-mail avec laquelle votre compte est enregistré",
	    "die E-Mail-Adresse, mit der Ihr Konto registriert ist" } },
};

/* What each category needs before an agent can act (never a secret). */
static const char *const category_needs[N_CATEGORIES][3] = {
	{ "account_email", NULL },
	{ "order_id", NULL },
	{ "tx_hash", "amount", NULL },
	{ "account_email", NULL },
	{ NULL },
	{ NULL },
};

static const char *const weekdays[N_LANGS][7] = {
	{ "星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六" },
	{ "星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六" },
	{ "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" },
	{ "dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi" },
	{ "Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag" },
};

static const char *const months[N_LANGS][12] = {
	{ NULL },
	{ NULL },
	{ "January", "February", "March", "April", "May", "June", "July", "August", "September",
	  "October", "November", "December" },
	{ "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
	  "octobre", "novembre", "décembre" },
	{ "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
	  "Oktober", "November", "Dezember" },
};

static int
lang_index(const char *lang)
{
	for (int i = 0; i < N_LANGS; i++)
		if (lang != NULL && strcmp(ack_languages[i], lang) == 0)
			return i;
	return LANG_EN;
}

static int
category_index(const char *category)
{
	for (int i = 0; i < N_CATEGORIES; i++)
		if (category != NULL && strcmp(ack_categories[i], category) == 0)
			return i;
	return -1;
}

static int
priority_index(const char *priority)
{
	for (int i = 0; i < 4; i++)
		if (priority != NULL && strcmp(priorities[i], priority) == 0)
			return i;
	return 2;
}

const char *
ack_language(const struct config *config, const char *detected)
{
	const char *norm = lang_normalize(detected);
	if (norm != NULL && strcmp(norm, "zh") == 0)
		norm = "zh-CN";
	for (int i = 0; i < N_LANGS; i++)
		if (norm != NULL && strcmp(norm, ack_languages[i]) == 0)
			return ack_languages[i];
	const char *def = config != NULL ? config->ack.default_language : NULL;
	for (int i = 0; i < N_LANGS; i++)
		if (def != NULL && strcmp(def, ack_languages[i]) == 0)
			return ack_languages[i];
	return "en";
}

/* t as the customer reads it: in the zone of their Date header when it
   gave one (a fixed offset: the header says nothing of their DST rules,
   and the promise is at most days away), else in the calendar's zone.
   format_time() states the offset either way. */
static void
customer_localtime(const struct hours *hours, const struct ack_input *in, int64_t t,
		   struct tm *tm_r)
{
	if (!in->has_customer_zone || in->customer_utoff < -14 * 3600 ||
	    in->customer_utoff > 14 * 3600) {
		hours_localtime(hours, t, tm_r);
		return;
	}
	time_t local = (time_t)(t + in->customer_utoff);
	gmtime_r(&local, tm_r);
	tm_r->tm_gmtoff = in->customer_utoff;
	tm_r->tm_isdst = 0;
}

/* "2024年5月14日（星期二）14:00（UTC+08:00）" and friends. */
static char *
format_time(int lang, const struct tm *tm)
{
	long off = tm->tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	char zone[48];
	snprintf(zone, sizeof(zone), "UTC%c%02ld:%02ld", sign, off / 3600, (off % 3600) / 60);
	int y = tm->tm_year + 1900, mo = tm->tm_mon, d = tm->tm_mday, h = tm->tm_hour, mi = tm->tm_min;
	const char *wd = weekdays[lang][tm->tm_wday];
	switch (lang) {
	case LANG_ZH_CN:
	case LANG_ZH_TW:
		return xasprintf("%d年%d月%d日（%s）%02d:%02d（%s）", y, mo + 1, d, wd, h, mi, zone);
	case LANG_FR:
		return xasprintf("%s %d%s %s %d à %dh%02d (%s)", wd, d, d == 1 ? "er" : "",
				 months[lang][mo], y, h, mi, zone);
	case LANG_DE:
		return xasprintf("%s, %d. %s %d, %02d:%02d Uhr (%s)", wd, d, months[lang][mo], y, h, mi,
				 zone);
	default:
		return xasprintf("%s, %d %s %d, %02d:%02d (%s)", wd, d, months[lang][mo], y, h, mi, zone);
	}
}

/* "4 business hours" and friends; whole hours, else minutes. */
static char *
format_target(int lang, uint64_t seconds)
{
	int hours = seconds % 3600 == 0;
	unsigned long long n = hours ? seconds / 3600 : (seconds + 59) / 60;
	switch (lang) {
	case LANG_ZH_CN:
		return xasprintf("%llu 个工作%s", n, hours ? "小时" : "分钟");
	case LANG_ZH_TW:
		return xasprintf("%llu 個工作%s", n, hours ? "小時" : "分鐘");
	case LANG_FR:
		return xasprintf("%llu %s ouvré%s", n, hours ? (n > 1 ? "heures" : "heure")
						  : (n > 1 ? "minutes" : "minute"),
				 n > 1 ? "es" : "e");
	case LANG_DE:
		return xasprintf("%llu %s", n, hours ? (n == 1 ? "Geschäftsstunde" : "Geschäftsstunden")
						: (n == 1 ? "Geschäftsminute" : "Geschäftsminuten"));
	default:
		return xasprintf("%llu business %s%s", n, hours ? "hour" : "minute", n == 1 ? "" : "s");
	}
}

/* ---- hours ------------------------------------------------------------------ */

int
ack_hours_from_config(const struct config *config, struct hours **hours_r, const char **error_r)
{
	const struct config_hours *c = &config->hours;
	if (hours_new(c->timezone, c->week, c->holidays, hours_r, error_r) < 0) {
		*error_r = errf("[hours]: %s", *error_r);
		return -1;
	}
	hours_set_target(*hours_r, "urgent", c->target_urgent);
	hours_set_target(*hours_r, "high", c->target_high);
	hours_set_target(*hours_r, "normal", c->target_normal);
	hours_set_target(*hours_r, "low", c->target_low);
	return 0;
}

/* ---- data -------------------------------------------------------------------- */

#define MAX_VALUE 256	 /* bytes of one field value shown */
#define MAX_SELFHELP 10	 /* links per category */

static const struct field_text *
field_text(const char *key)
{
	for (size_t i = 0; i < N_ELEMENTS(field_texts); i++)
		if (strcmp(field_texts[i].key, key) == 0)
			return &field_texts[i];
	return NULL;
}

int
ack_field_internal(const char *name)
{
	static const char *const internal[] = { "tags", "tag", "queue", "queues", "priority",
						"category", "assignee", "status" };
	if (name == NULL || *name == '_' || strstr(name, "score") != NULL ||
	    str_starts_with(name, "internal"))
		return 1;
	for (size_t i = 0; i < N_ELEMENTS(internal); i++)
		if (strcmp(name, internal[i]) == 0)
			return 1;
	return 0;
}

static const char *
input_field(const struct ack_input *in, const char *key)
{
	for (size_t i = 0; i < in->n_fields; i++)
		if (in->fields[i].name != NULL && strcmp(in->fields[i].name, key) == 0 &&
		    in->fields[i].value != NULL && in->fields[i].value[0] != '\0')
			return in->fields[i].value;
	return NULL;
}

static void
set_nonempty(struct tmpl_value *map, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		tmpl_map_set_string(map, key, value);
}

static void
add_field(struct tmpl_value *list, struct tmpl_value *by_key, int lang, const char *key,
	  const char *value)
{
	size_t n = strlen(value);
	char *v = xstrndup(value, n > MAX_VALUE ? utf8_truncate_len(value, MAX_VALUE) : n);
	const struct field_text *ft = field_text(key);
	if (list != NULL) {
		struct tmpl_value *f = tmpl_list_add_map(list);
		tmpl_map_set_string(f, "key", key);
		tmpl_map_set_string(f, "label", ft != NULL ? ft->label[lang] : key);
		tmpl_map_set_string(f, "value", v);
	}
	tmpl_map_set_string(by_key, key, v);
	free(v);
}

/* [selfhelp]: a built-in category's key, or the key of a category the
   rules define; none for a category without links. */
static const char *
selfhelp_links(const struct config *config, int cat, const char *category)
{
	const struct config_selfhelp *s = &config->selfhelp;
	const char *const links[N_CATEGORIES] = { s->registration, s->failed_trade, s->delayed_payment,
						  s->account_security, s->complaint, s->other };
	if (cat >= 0)
		return links[cat];
	for (size_t i = 0; category != NULL && i < s->n_extra; i++)
		if (strcmp(s->extra[i].key, category) == 0)
			return s->extra[i].value;
	return category == NULL ? s->other : NULL;
}

char *
ack_category_readable(const char *category)
{
	struct buf b;
	buf_init(&b, 256);
	const char *p = category != NULL ? category : "other";
	for (int first = 1; *p != '\0';) {
		size_t n = strcspn(p, "_-. ");
		if (n > 0) {
			if (b.len > 0)
				(void)buf_putc(&b, ' ');
			/* a short first word is an acronym (KYC, OTC, API), as is a
			   word with a digit (P2P) */
			int digit = 0;
			for (size_t i = 0; i < n; i++)
				digit |= isdigit((unsigned char)p[i]) != 0;
			int caps = (first && n <= 3) || (digit && n <= 4);
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];
				if (caps || (first && i == 0))
					c = (unsigned char)toupper(c);
				(void)buf_putc(&b, c);
			}
			first = 0;
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	char *s = buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

char *
ack_category_name(const struct ack_templates *t, const char *category, const char *language)
{
	const char *lang = ack_language(NULL, language);
	char *name = NULL;
	if (category == NULL)
		category = "other";
	int cat = category_index(category);
	if (t != NULL && ack_templates_name(t, "categories", lang, category, &name) > 0)
		return name;
	if (cat >= 0)
		return xstrdup(category_names[cat][lang_index(lang)]);
	if (t != NULL && strcmp(lang, "en") != 0 &&
	    ack_templates_name(t, "categories", "en", category, &name) > 0)
		return name;
	return ack_category_readable(category);
}

struct tmpl_value *
ack_data_build(const struct config *config, const struct hours *hours, const struct ack_input *in,
	       int64_t *due_r)
{
	struct tmpl_value *d = tmpl_map_new();
	const char *language = ack_language(config, in->language);
	int lang = lang_index(language);
	int cat = category_index(in->category);
	int prio = priority_index(in->priority);
	char buf[64];

	if (due_r != NULL)
		*due_r = 0;
	tmpl_map_set_string(d, "lang", language);

	struct tmpl_value *t = tmpl_map_add_map(d, "ticket");
	snprintf(buf, sizeof(buf), "%lld", (long long)in->ticket_id);
	tmpl_map_set_string(t, "id", buf);
	snprintf(buf, sizeof(buf), "#%lld", (long long)in->ticket_id);
	tmpl_map_set_string(t, "ref", buf);
	set_nonempty(t, "subject", in->subject);

	if (in->secret_kinds != 0) {
		/* secret.recovery_phrase, secret.private_key...: the warning
		   partial names each kind in the customer's language. */
		struct tmpl_value *sv = tmpl_map_add_map(d, "secret");
		for (int k = 0; k < SECRET_KIND_COUNT; k++) {
			if (!(in->secret_kinds & SECRET_KIND_BIT(k)))
				continue;
			char key[32];
			snprintf(key, sizeof(key), "%s",
				 k == SECRET_OTP ? "otp" : secret_kind_tag((enum secret_kind)k));
			for (char *p = key; *p != '\0'; p++)
				if (*p == '-')
					*p = '_';
			tmpl_map_set_bool(sv, key, 1);
		}
		if (in->secret_kinds & SECRET_KIND_BIT(SECRET_EXTENDED_KEY))
			tmpl_map_set_bool(sv, "private_key", 1);
	}

	struct tmpl_value *c = tmpl_map_add_map(d, "customer");
	set_nonempty(c, "name", in->customer_name);
	set_nonempty(c, "address", in->customer_address);

	struct tmpl_value *cv = tmpl_map_add_map(d, "category");
	tmpl_map_set_string(cv, "key", cat >= 0 ? ack_categories[cat] : (in->category ? in->category : "other"));
	if (in->category_name != NULL) {
		tmpl_map_set_string(cv, "name", in->category_name);
	} else if (cat >= 0 || in->category == NULL) {
		tmpl_map_set_string(cv, "name", category_names[cat >= 0 ? cat : 5][lang]);
	} else {
		/* a category of the rules: never the name of another one */
		char *name = ack_category_readable(in->category);
		tmpl_map_set_string(cv, "name", name);
		free(name);
	}

	struct tmpl_value *pv = tmpl_map_add_map(d, "priority");
	tmpl_map_set_string(pv, "key", priorities[prio]);
	tmpl_map_set_string(pv, "name", priority_names[prio][lang]);

	/* Fields: the customer's data the desk knows (order id, TxID,
	   amount...) in a fixed order; an amount and its coin are shown
	   together. */
	struct tmpl_value *fields = tmpl_map_add_list(d, "fields");
	struct tmpl_value *by_key = tmpl_map_add_map(d, "field");
	const char *amount = input_field(in, "amount"), *coin = input_field(in, "coin");
	for (size_t i = 0; i < N_ELEMENTS(field_texts); i++) {
		const char *key = field_texts[i].key;
		const char *v = input_field(in, key);
		if (v == NULL)
			continue;
		if (strcmp(key, "coin") == 0 && amount != NULL)
			continue;
		if (strcmp(key, "amount") == 0 && coin != NULL && strstr(v, coin) == NULL) {
			char *both = xasprintf("%s %s", v, coin);
			add_field(fields, by_key, lang, key, both);
			free(both);
			continue;
		}
		add_field(fields, by_key, lang, key, v);
	}
	/* Any other field only by its name ({{field.NAME}}): a template shows
	   what it names, and the desk's own data never. */
	for (size_t i = 0; i < in->n_fields; i++) {
		const char *key = in->fields[i].name;
		if (key == NULL || field_text(key) != NULL || ack_field_internal(key) ||
		    input_field(in, key) != in->fields[i].value)
			continue;
		add_field(NULL, by_key, lang, key, in->fields[i].value);
	}
	tmpl_map_set_bool(d, "has_fields", tmpl_list_count(fields) > 0);

	/* What is still missing for this category. */
	struct tmpl_value *missing = tmpl_map_add_list(d, "missing");
	for (size_t k = 0; cat >= 0 && k < 3 && category_needs[cat][k] != NULL; k++) {
		const char *key = category_needs[cat][k];
		if (input_field(in, key) != NULL)
			continue;
		const struct field_text *ft = field_text(key);
		struct tmpl_value *m = tmpl_list_add_map(missing);
		tmpl_map_set_string(m, "key", key);
		tmpl_map_set_string(m, "label", ft->missing[lang]);
	}
	tmpl_map_set_bool(d, "has_missing", tmpl_list_count(missing) > 0);

	/* Self-help links configured for the category. */
	struct tmpl_value *links = tmpl_map_add_list(d, "selfhelp");
	const char *sh = config != NULL ? selfhelp_links(config, cat, in->category) : NULL;
	for (const char *p = sh; p != NULL && *p != '\0' && tmpl_list_count(links) < MAX_SELFHELP;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, " \t,");
		if (n > 0 && n < 2000) {
			char *url = xstrndup(p, n);
			tmpl_map_set_string(tmpl_list_add_map(links), "url", url);
			free(url);
		}
		p += n;
	}
	tmpl_map_set_bool(d, "has_selfhelp", tmpl_list_count(links) > 0);

	/* The promise. */
	int after_hours = 0;
	if (hours != NULL) {
		uint64_t target = in->target_given ? in->target : hours_target(hours, priorities[prio]);
		int64_t due;
		const char *error;
		after_hours = !hours_is_open(hours, in->received_at);
		if (target > 0 && hours_due(hours, in->received_at, target, &due, &error) == 0) {
			struct tm tm;
			struct tmpl_value *pr = tmpl_map_add_map(d, "promise");
			customer_localtime(hours, in, due, &tm);
			char *s = format_time(lang, &tm);
			tmpl_map_set_string(pr, "due", s);
			free(s);
			s = format_target(lang, target);
			tmpl_map_set_string(pr, "target", s);
			free(s);
			tmpl_map_set_string(pr, "timezone", hours_timezone(hours));
			if (in->has_customer_zone) {
				/* the same instant in the desk's zone, for the agents
				   and for templates that want both */
				hours_localtime(hours, due, &tm);
				s = format_time(lang, &tm);
				tmpl_map_set_string(pr, "due_desk", s);
				free(s);
			}
			char iso[32];
			time_t tt = (time_t)due;
			struct tm utc;
			gmtime_r(&tt, &utc);
			strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &utc);
			tmpl_map_set_string(pr, "iso", iso);
			if (due_r != NULL)
				*due_r = due;
		}
		struct tm rtm;
		customer_localtime(hours, in, in->received_at, &rtm);
		char *s = format_time(lang, &rtm);
		tmpl_map_set_string(d, "received", s);
		free(s);
	}
	tmpl_map_set_bool(d, "after_hours", after_hours);

	struct tmpl_value *sup = tmpl_map_add_map(d, "support");
	if (config != NULL) {
		set_nonempty(sup, "name", config->support_name);
		set_nonempty(sup, "address", config->support_address);
	}
	return d;
}

/* ---- sample data ---------------------------------------------------------------- */

struct sample {
	struct ack_input in;
	struct ack_field fields[4];
};

struct ack_input *
ack_sample_input(const char *category, const char *language, int64_t now)
{
	struct sample *s = xcalloc(1, sizeof(*s));
	int lang = lang_index(language);
	int cat = category_index(category);
	static const char *const names[N_LANGS] = { "李伟", "陳雅婷", "Alex Morgan", "Camille Martin",
						    "Jonas Becker" };
	static const char *const subjects[N_CATEGORIES][N_LANGS] = {
		{ "注册时收不到验证码", "註冊時收不到驗證碼", "No verification code when signing up",
		  "Pas de code de vérification à l'inscription", "Kein Bestätigungscode bei der Registrierung" },
		{ "限价单失败", "限價單失敗", "My limit order failed", "Mon ordre à cours limité a échoué",
		  "Meine Limit-Order ist fehlgeschlagen" },
		{ "提现还没到账", "提領還沒到帳", "Withdrawal not received", "Retrait non reçu",
		  "Auszahlung nicht angekommen" },
		{ "账户异常登录", "帳戶異常登入", "Login I don't recognise", "Connexion inconnue sur mon compte",
		  "Unbekannte Anmeldung in meinem Konto" },
		{ "对客服处理速度不满", "對客服處理速度不滿", "Very unhappy with the delays",
		  "Très mécontent des délais", "Sehr unzufrieden mit den Verzögerungen" },
		{ "关于手续费的问题", "關於手續費的問題", "Question about fees", "Question sur les frais",
		  "Frage zu den Gebühren" },
	};
	int c = cat >= 0 ? cat : 5;
	s->in.ticket_id = 1042;
	s->in.subject = subjects[c][lang];
	s->in.customer_name = names[lang];
	s->in.customer_address = "customer@example.com";
	s->in.category = cat >= 0 ? ack_categories[cat] : category;
	s->in.priority = c == 3 ? "high" : "normal";
	s->in.language = ack_languages[lang];
	s->in.received_at = now;
	s->in.fields = s->fields;
	/* One field found, one still missing where the category needs two. */
	switch (c) {
	case 1:
		s->fields[0] = (struct ack_field){ "amount", "1,200" };
		s->fields[1] = (struct ack_field){ "coin", "USDT" };
		s->in.n_fields = 2;
		break;
	case 2:
		s->fields[0] = (struct ack_field){ "amount", "0.5" };
		s->fields[1] = (struct ack_field){ "coin", "BTC" };
		s->in.n_fields = 2;
		break;
	case 4:
		s->fields[0] = (struct ack_field){ "order_id", "F2024051400123" };
		s->in.n_fields = 1;
		break;
	default:
		break;
	}
	return &s->in;
}

void
ack_sample_input_free(struct ack_input **inp)
{
	if (*inp == NULL)
		return;
	free(*inp); /* the struct sample starts with the input */
	*inp = NULL;
}


/* ---- the message ------------------------------------------------------------------ */

/* ack_message() in two halves: the envelope (what deskmail_precheck()
   needs), then the rendered mail. */
static struct deskmail_msg *
ack_envelope(struct deskmail *dm, int64_t ticket_id, const char *to_name, const char *to_address,
	     int64_t now)
{
	struct deskmail_msg *m = deskmail_start(dm, ticket_id, "ack", DESKMAIL_REPLY_CUSTOMER,
						"auto-replied", now);
	deskmail_add_to(m, to_name, to_address);
	return m;
}

static void
ack_fill(struct deskmail_msg *m, const struct mime_message *answered, const struct ack_mail *mail)
{
	deskmail_subject_as_is(m, mail->subject);
	if (answered != NULL)
		deskmail_thread_msg(m, answered);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, mail->text, strlen(mail->text));
	compose_set_html(c, mail->html, strlen(mail->html));
}

struct deskmail_msg *
ack_message(struct deskmail *dm, int64_t ticket_id, const char *to_name, const char *to_address,
	    const struct mime_message *answered, const struct ack_mail *mail, int64_t now)
{
	struct deskmail_msg *m = ack_envelope(dm, ticket_id, to_name, to_address, now);
	ack_fill(m, answered, mail);
	return m;
}

/* ---- the policy ---------------------------------------------------------------------- */

#define LOOP_HEADER "X-Deskgate-Loop"

struct ack {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct hours *hours;
	struct sla *sla; /* the policies the promise comes from; NULL: [hours] */
	struct ack_templates *templates;
	const char **own_addresses; /* support address and agents */
	size_t n_own_addresses;
};

int
ack_new(const struct config *config, struct store *store, struct deskmail *dm,
	const struct hours *hours, struct ack **ack_r, const char **error_r)
{
	(void)error_r;
	struct ack *ack = xcalloc(1, sizeof(*ack));
	ack->config = config;
	ack->store = store;
	ack->dm = dm;
	ack->hours = hours;
	const char *why;
	if (sla_new(config, &ack->sla, &why) < 0) {
		/* config_load() checked the same: not expected */
		log_error("ack: promises from [hours] only: %s", why);
		ack->sla = NULL;
	}
	ack->templates = ack_templates_new(config, NULL);
	ack->own_addresses = xcalloc(config->n_agents + 1, sizeof(char *));
	ack->own_addresses[ack->n_own_addresses++] = config->support_address;
	for (size_t i = 0; i < config->n_agents; i++)
		ack->own_addresses[ack->n_own_addresses++] = config->agents[i].address;
	*ack_r = ack;
	return 0;
}

void
ack_free(struct ack **ackp)
{
	struct ack *ack = *ackp;
	if (ack == NULL)
		return;
	ack_templates_free(&ack->templates);
	sla_free(&ack->sla);
	free(ack->own_addresses);
	free(ack);
	*ackp = NULL;
}

/* An event on a ticket (printf-style detail). */
#define event(ctx, ticket_id, kind, error_r, ...) \
	store_event_addf((ctx)->store, ticket_id, kind, error_r, __VA_ARGS__)

/* Only a valid addr-spec is ever answered. */
static int
has_address(const char *address)
{
	return address != NULL && addr_spec_valid(address);
}

/* The acknowledgements queued since `since`, or (when that is certainly
   under max) the count of every outbox row since then, which is not
   smaller: counting by kind reads each row of the window from the table,
   counting all of them reads the created_at index alone (measured: the
   exact count was 14% of the import's CPU, each of ~600 rows of the hour
   read back with pread() once they outgrew SQLite's page cache). */
static int
count_acks_since(struct store *store, int64_t since, uint64_t max, int64_t *n_r,
		 const char **error_r)
{
	int ret = store_outbox_count_since(store, NULL, since, n_r, error_r);
	if (ret < 0 || (uint64_t)*n_r < max)
		return ret;
	return store_outbox_count_since(store, "ack", since, n_r, error_r);
}

/* The rate limits: 0 with *why_r NULL when an acknowledgement may go,
   or why not; -1 when the store failed. They count by the sender's address
   with its plus-tags folded (deskmail_address_key()), so that a forger
   cannot multiply them with victim+1@, victim+2@..., and for the desk as a
   whole. */
static int
rate_limit(struct ack *ack, const struct hook_event *ev, const char **why_r, const char **error_r)
{
	const struct config_ack *cfg = &ack->config->ack;
	const struct {
		int64_t period;
		uint64_t max;
		int per_sender;
		int only_followup;
		const char *what;
	} limits[] = {
		{ 3600, cfg->max_per_sender_hour, 1, 0, "to this sender in the last hour" },
		{ 86400, cfg->max_per_sender_day, 1, 0, "to this sender in the last day" },
		/* a follow-up: at most one per period, to this customer */
		{ (int64_t)cfg->followup_period, 1, 1, 1,
		  "within [ack] followup_period: the follow-up is not acknowledged again" },
		{ 3600, cfg->max_per_hour, 0, 0, "in the last hour, to anyone ([ack] max_per_hour)" },
	};
	char *key = deskmail_address_key(ev->msg->from.address);
	const char *addr = key != NULL ? key : ev->msg->from.address;
	int ret = 0;

	*why_r = NULL;
	for (size_t i = 0; i < N_ELEMENTS(limits) && *why_r == NULL && ret == 0; i++) {
		int64_t n, since = ev->now - limits[i].period;
		if (limits[i].only_followup && ev->new_ticket)
			continue;
		if (limits[i].per_sender)
			ret = store_outbox_count_recent_folded(ack->store, addr, "ack", since, &n,
							       error_r);
		else
			ret = count_acks_since(ack->store, since, limits[i].max, &n, error_r);
		if (ret == 0 && (uint64_t)n >= limits[i].max)
			*why_r = errf("rate limit: %lld acknowledgement%s %s", (long long)n,
				      n == 1 ? "" : "s", limits[i].what);
	}
	free(key);
	return ret;
}

/* Why no acknowledgement may go out for this message, or NULL when one may.
   The loop guard first (never answer a machine), then the rate limits. A
   store failure is its result (< 0) in *failed_r. */
static const char *
refusal(struct ack *ack, const struct hook_event *ev, const char **error_r, int *failed_r)
{
	const struct config_ack *cfg = &ack->config->ack;
	const struct mime_message *msg = ev->msg;
	const struct thread_decision *d = ev->decision;
	const char *why = NULL;

	*failed_r = 0;
	if (!cfg->enabled)
		return "acknowledgements are off ([ack] enabled = no)";
	if (!has_address(msg->from.address))
		return "no sender address";
	if (ev->auto_reply)
		return "the mail is an automatic reply";
	if (d->suppress_ack)
		return "the same text was received again";
	if (d->role != THREAD_ROLE_CUSTOMER)
		return "the sender is not the customer";
	if (ev->rules != NULL && ev->rules->no_ack)
		return "a rule said no-ack";
	struct autoreply_policy policy = {
		.loop_header = LOOP_HEADER,
		.loop_value = ack->config->hostname,
		.msgid_prefix = "dg.",
		.msgid_domain = ack->config->hostname,
		.own_addresses = ack->own_addresses,
		.n_own_addresses = ack->n_own_addresses,
		.envelope_sender = ev->envelope_sender,
	};
	if (autoreply_suppress(msg, &policy, &why))
		return why;
	if ((why = deskmail_blocked(ack->dm)) != NULL)
		return errf("loop: %s", why);

	int ret = rate_limit(ack, ev, &why, error_r);
	if (ret < 0) {
		*failed_r = ret;
		return NULL;
	}
	return why;
}

/* The fields the template data may show. */
static struct ack_field *
ack_fields(const struct store_field *sf, size_t n_sf)
{
	struct ack_field *fields = xcalloc(n_sf + 1, sizeof(*fields));
	for (size_t i = 0; i < n_sf; i++) {
		fields[i].name = sf[i].name;
		fields[i].value = sf[i].value;
	}
	return fields;
}

/* Render the acknowledgement for a ticket and queue it in the outbox, with
   a message row of direction "out" so the ticket shows what was sent. */
static int
queue_ack(struct ack *ack, struct hook_event *ev, const struct store_ticket *t,
	  const char **error_r)
{
	const struct mime_message *msg = ev->msg;
	struct store_field *sf = NULL;
	size_t n_sf = 0;
	const char *why;
	int ret = -1;

	/* A forged From name must not put text into our mail (backscatter). */
	char *name = deskmail_display_name(msg->from.name);
	/* Refused by a cap before anything is rendered: past [limits]
	   max_mail_per_minute most of an import's mail is. */
	struct deskmail_msg *m = ack_envelope(ack->dm, t->id, name, msg->from.address, ev->now);
	if ((ret = deskmail_precheck(ack->dm, &m, &why, error_r)) <= 0) {
		if (ret == 0) {
			snprintf(ev->ack_refusal, sizeof(ev->ack_refusal), "%s", why);
			ret = event(ack, t->id, "ack", error_r, "not sent: %s", why);
		}
		free(name);
		return ret;
	}
	if ((ret = store_ticket_field_list(ack->store, t->id, &sf, &n_sf, error_r)) < 0) {
		deskmail_msg_free(&m);
		free(name);
		return ret;
	}
	struct ack_field *fields = ack_fields(sf, n_sf);
	const char *language = ack_language(ack->config, t->language);
	char *category_name = ack_category_name(ack->templates, t->category, language);
	struct ack_input in = {
		.ticket_id = t->id,
		.subject = t->subject,
		.customer_name = name,
		.customer_address = msg->from.address,
		.category = t->category,
		.category_name = category_name,
		.priority = t->priority,
		.language = language,
		.fields = fields,
		.n_fields = n_sf,
		.received_at = ev->now,
		.secret_kinds = ev->secret_kinds,
		.has_customer_zone = msg->has_date,
		.customer_utoff = msg->date_utoff,
	};
	/* The promise is the ticket's SLA first-response target in its
	   policy's calendar (sla.h), the same calculation as the escalations
	   (issue 13); [hours] by priority when the SLA cannot be set up. */
	const struct hours *calendar = ack->hours;
	if (ack->sla != NULL && calendar != NULL) {
		const struct sla_policy *policy = sla_match(ack->sla, t, sla_ticket_vip(ack->sla, t));
		const struct hours *c = sla_policy_calendar(ack->sla, policy, t->queue);
		if (c != NULL)
			calendar = c;
		in.target_given = 1;
		in.target = sla_policy_target(policy, STORE_SLA_FIRST_RESPONSE, t->priority);
	}
	int64_t due = 0;
	struct tmpl_value *data = ack_data_build(ack->config, calendar, &in, &due);
	struct ack_mail mail = { 0 };
	struct deskmail_result res = { 0 };

	if (ack_render(ack->templates, in.category, in.language, data, &mail, error_r) < 0) {
		/* A broken template must not lose the customer's mail: the
		   ticket is stored, the failure is an event and a log line. */
		log_error("%s ticket=%lld: acknowledgement not sent: %s", ev->logctx,
			  (long long)t->id, *error_r);
		snprintf(ev->ack_refusal, sizeof(ev->ack_refusal), "template error: %s", *error_r);
		ret = event(ack, t->id, "ack", error_r, "not sent: template error: %s", *error_r);
		goto out;
	}
	ack_fill(m, msg, &mail);
	ret = deskmail_queue(ack->dm, &m, &res, &why, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			snprintf(ev->ack_refusal, sizeof(ev->ack_refusal), "%s", why);
			ret = event(ack, t->id, "ack", error_r, "not sent: %s", why);
		}
		goto out;
	}
	ev->ack_outbox_id = res.outbox_id;

	char *key = xasprintf("out:%s", res.message_id);
	struct store_message m_out = {
		.ticket_id = t->id,
		.direction = "out",
		.message_id = res.message_id,
		.in_reply_to = msg->message_id,
		.from_address = ack->config->support_address,
		.from_name = ack->config->support_name,
		.to = res.recipients,
		.subject = res.subject,
		.date = ev->now,
		.text = mail.text,
		.dedupe_key = key,
		.mailbox = "outbox",
		/* No raw blob: the outbox row holds the exact bytes. */
		.raw_size = (int64_t)res.len,
	};
	ret = store_message_insert(ack->store, &m_out, NULL, error_r);
	free(key);
	if (ret < 0)
		goto out;
	if (due > 0 && t->due_at == 0 &&
	    (ret = store_ticket_set_time(ack->store, t->id, "due_at", due, error_r)) < 0)
		goto out;
	ret = event(ack, t->id, "ack", error_r, "queued as outbox #%lld (%s, %s, template %s)",
		    (long long)res.outbox_id, in.category, in.language, mail.template);
out:
	deskmail_msg_free(&m);
	deskmail_result_clear(&res);
	ack_mail_clear(&mail);
	tmpl_value_free(&data);
	free(fields);
	free(name);
	free(category_name);
	store_fields_free(&sf, n_sf);
	return ret;
}

int
ack_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct ack *ack = context;
	int failed;
	const char *why = refusal(ack, ev, error_r, &failed);
	if (failed < 0)
		return failed;
	if (why != NULL) {
		snprintf(ev->ack_refusal, sizeof(ev->ack_refusal), "%s", why);
		log_info("%s ticket=%lld: no acknowledgement: %s", ev->logctx,
			 (long long)ev->ticket_id, why);
		return event(ack, ev->ticket_id, "ack", error_r, "not sent: %s", why);
	}
	struct store_ticket *t;
	int ret = store_ticket_get(ack->store, ev->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			*error_r = errf("ack: ticket %lld not found", (long long)ev->ticket_id);
			ret = STORE_DATA_BAD;
		}
		return ret;
	}
	ret = queue_ack(ack, ev, t, error_r);
	store_ticket_free(&t);
	return ret;
}
