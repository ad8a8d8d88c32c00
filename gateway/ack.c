/*
 * ack: see ack.h. The localised names, dates and durations are small
 * hand-made tables: glibc's locales (strftime %A/%B) are often not
 * installed on servers, and these few strings must read the way a support
 * agent writes them, not the way a locale's LC_TIME spells them.
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/thread.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/template.h"
#include "parsers/lang.h"
#include "base/file.h"
#include "base/util.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/deskgate"
#endif

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
	struct tmpl_value *f = tmpl_list_add_map(list);
	tmpl_map_set_string(f, "key", key);
	tmpl_map_set_string(f, "label", ft != NULL ? ft->label[lang] : key);
	tmpl_map_set_string(f, "value", v);
	tmpl_map_set_string(by_key, key, v);
	free(v);
}

static const char *
selfhelp_links(const struct config *config, int cat)
{
	const struct config_selfhelp *s = &config->selfhelp;
	const char *const links[N_CATEGORIES] = { s->registration, s->failed_trade, s->delayed_payment,
						  s->account_security, s->complaint, s->other };
	return cat >= 0 ? links[cat] : s->other;
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

	struct tmpl_value *c = tmpl_map_add_map(d, "customer");
	set_nonempty(c, "name", in->customer_name);
	set_nonempty(c, "address", in->customer_address);

	struct tmpl_value *cv = tmpl_map_add_map(d, "category");
	tmpl_map_set_string(cv, "key", cat >= 0 ? ack_categories[cat] : (in->category ? in->category : "other"));
	tmpl_map_set_string(cv, "name", category_names[cat >= 0 ? cat : 5][lang]);

	struct tmpl_value *pv = tmpl_map_add_map(d, "priority");
	tmpl_map_set_string(pv, "key", priorities[prio]);
	tmpl_map_set_string(pv, "name", priority_names[prio][lang]);

	/* Fields: known ones in a fixed order, then the rest as given. An
	   amount and its coin are shown together. */
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
	for (size_t i = 0; i < in->n_fields; i++) {
		const char *key = in->fields[i].name;
		if (key == NULL || field_text(key) != NULL || input_field(in, key) != in->fields[i].value)
			continue;
		add_field(fields, by_key, lang, key, in->fields[i].value);
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
	const char *sh = config != NULL ? selfhelp_links(config, cat) : NULL;
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
		uint64_t target = hours_target(hours, priorities[prio]);
		int64_t due;
		const char *error;
		after_hours = !hours_is_open(hours, in->received_at);
		if (hours_due(hours, in->received_at, target, &due, &error) == 0) {
			struct tm tm;
			struct tmpl_value *pr = tmpl_map_add_map(d, "promise");
			hours_localtime(hours, due, &tm);
			char *s = format_time(lang, &tm);
			tmpl_map_set_string(pr, "due", s);
			free(s);
			s = format_target(lang, target);
			tmpl_map_set_string(pr, "target", s);
			free(s);
			tmpl_map_set_string(pr, "timezone", hours_timezone(hours));
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
		hours_localtime(hours, in->received_at, &rtm);
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

/* ---- templates ------------------------------------------------------------------- */

struct ack_templates {
	char *dirs[2];
	size_t n_dirs;
	struct tmpl_limits limits;
};

struct ack_templates *
ack_templates_new(const struct config *config, const char *dir)
{
	struct ack_templates *t = xcalloc(1, sizeof(*t));
	tmpl_limits_default(&t->limits);
	if (config != NULL && config->ack.max_output > 0)
		t->limits.max_output = (size_t)config->ack.max_output;
	if (dir != NULL) {
		t->dirs[t->n_dirs++] = xstrdup(dir);
	} else {
		if (config != NULL && config->ack.templates_dir != NULL)
			t->dirs[t->n_dirs++] = xstrdup(config->ack.templates_dir);
		t->dirs[t->n_dirs++] = config_data_path("templates");
	}
	return t;
}

void
ack_templates_free(struct ack_templates **tp)
{
	struct ack_templates *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_dirs; i++)
		free(t->dirs[i]);
	free(t);
	*tp = NULL;
}

void
ack_mail_clear(struct ack_mail *mail)
{
	x_free(&mail->subject);
	x_free(&mail->text);
	x_free(&mail->html);
	x_free(&mail->template);
}

/* Names used in file names: [A-Za-z0-9_-], so never a path. */
static int
safe_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Find rel (e.g. "ack/other.en.txt") in the directories. 1 with the
   content and its path, 0 absent, -1 error. */
static int
find_file(const struct ack_templates *t, const char *rel, char **data_r, size_t *len_r,
	  char **path_r, const char **error_r)
{
	for (size_t i = 0; i < t->n_dirs; i++) {
		char *path = xasprintf("%s/%s", t->dirs[i], rel);
		int ret = file_read(path, t->limits.max_source, data_r, len_r, error_r);
		if (ret != 0) {
			if (ret > 0)
				*path_r = path;
			else
				free(path);
			return ret;
		}
		free(path);
	}
	return 0;
}

struct partial_ctx {
	const struct ack_templates *t;
	const char *lang;
	const char *ext; /* "txt" or "html" */
};

static int
fetch_partial(void *vctx, const char *name, char **src_r, size_t *len_r, char **label_r,
	      const char **error_r)
{
	const struct partial_ctx *ctx = vctx;
	if (!safe_name(name))
		return 0;
	const char *langs[2] = { ctx->lang, "en" };
	for (int i = 0; i < 2; i++) {
		char *rel = xasprintf("ack/partials/%s.%s.%s", name, langs[i], ctx->ext);
		int ret = find_file(ctx->t, rel, src_r, len_r, label_r, error_r);
		free(rel);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Split "Subject: ...\n\n<body>". */
static int
split_subject(const char *path, const char *src, size_t len, size_t *subj_off, size_t *subj_len,
	      size_t *body_off, const char **error_r)
{
	const char *nl = memchr(src, '\n', len);
	size_t l1 = nl != NULL ? (size_t)(nl - src) : len;
	if (l1 < 8 || strncmp(src, "Subject:", 8) != 0) {
		*error_r = errf("%s:1: the first line must be \"Subject: ...\"", path);
		return -1;
	}
	*subj_off = 8;
	while (*subj_off < l1 && (src[*subj_off] == ' ' || src[*subj_off] == '\t'))
		(*subj_off)++;
	*subj_len = l1 - *subj_off;
	while (*subj_len > 0 && (src[*subj_off + *subj_len - 1] == '\r' ||
				 src[*subj_off + *subj_len - 1] == ' '))
		(*subj_len)--;
	size_t p = nl != NULL ? l1 + 1 : len;
	if (p < len && src[p] == '\r')
		p++;
	if (p < len && src[p] != '\n') {
		*error_r = errf("%s:2: expected an empty line after the subject", path);
		return -1;
	}
	*body_off = p < len ? p + 1 : len;
	return 0;
}

/* Collapse white space runs to one space and trim. */
static void
squeeze(char *s)
{
	char *o = s;
	int space = 1;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			if (!space)
				*o++ = ' ';
			space = 1;
		} else {
			*o++ = *p;
			space = 0;
		}
	}
	if (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
}

static int
html_escape_put(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: break;
		}
		if ((rep != NULL ? buf_puts(b, rep) : buf_putc(b, (unsigned char)s[i])) < 0)
			return -1;
	}
	return 0;
}

static int
url_at(const char *s, size_t len)
{
	return (len > 8 && memcmp(s, "https://", 8) == 0) || (len > 7 && memcmp(s, "http://", 7) == 0);
}

/* One line of text as HTML, with http(s) links made clickable. */
static int
html_line(struct buf *b, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		if (!url_at(s + i, len - i)) {
			j++;
			while (j < len && !url_at(s + j, len - j))
				j++;
			if (html_escape_put(b, s + i, j - i) < 0)
				return -1;
			i = j;
			continue;
		}
		while (j < len && (unsigned char)s[j] > 0x20 && (unsigned char)s[j] < 0x7f &&
		       strchr("<>\"'", s[j]) == NULL)
			j++;
		while (j > i && strchr(".,;:!?)", s[j - 1]) != NULL)
			j--;
		if (buf_puts(b, "<a href=\"") < 0 || html_escape_put(b, s + i, j - i) < 0 ||
		    buf_puts(b, "\">") < 0 || html_escape_put(b, s + i, j - i) < 0 ||
		    buf_puts(b, "</a>") < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* The rendered text as a small HTML document: blank lines separate
   paragraphs, "- " lines become a list, links become links. */
static int
text_to_html(const char *text, const char *lang, const char *title, size_t max, char **html_r)
{
	struct buf b;
	buf_init(&b, max);
	int err = buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
				 "<title>", lang) < 0;
	err |= html_escape_put(&b, title, strlen(title)) < 0;
	err |= buf_puts(&b, "</title>\n</head>\n<body style=\"font-family: sans-serif; line-height: 1.5;\">\n") < 0;
	const char *p = text;
	int in_p = 0, in_ul = 0;
	while (*p != '\0' && !err) {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		size_t k = 0;
		while (k < len && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
			k++;
		int blank = k == len;
		int item = len >= 2 && p[0] == '-' && p[1] == ' ';
		if (blank || item) {
			if (in_p)
				err |= buf_puts(&b, "</p>\n") < 0;
			in_p = 0;
		}
		if (!item && in_ul) {
			err |= buf_puts(&b, "</ul>\n") < 0;
			in_ul = 0;
		}
		if (item) {
			if (!in_ul)
				err |= buf_puts(&b, "<ul>\n") < 0;
			in_ul = 1;
			err |= buf_puts(&b, "<li>") < 0;
			err |= html_line(&b, p + 2, len - 2) < 0;
			err |= buf_puts(&b, "</li>\n") < 0;
		} else if (!blank) {
			err |= buf_puts(&b, in_p ? "<br>\n" : "<p>") < 0;
			in_p = 1;
			size_t l = len;
			while (l > 0 && p[l - 1] == '\r')
				l--;
			err |= html_line(&b, p, l) < 0;
		}
		p = eol != NULL ? eol + 1 : p + len;
	}
	if (in_p)
		err |= buf_puts(&b, "</p>\n") < 0;
	if (in_ul)
		err |= buf_puts(&b, "</ul>\n") < 0;
	err |= buf_puts(&b, "</body>\n</html>\n") < 0;
	if (err) {
		buf_free(&b);
		return -1;
	}
	*html_r = buf_steal(&b, NULL);
	buf_free(&b);
	return 0;
}

/* Compile and render src[off..off+len) of file path. */
static int
render_part(const struct ack_templates *t, const char *path, const char *src, size_t len,
	    unsigned int first_line, const struct tmpl_value *data, enum tmpl_escape esc,
	    struct partial_ctx *pctx, char **out_r, const char **error_r)
{
	struct tmpl *tm;
	struct tmpl_partials partials = { fetch_partial, pctx };
	if (tmpl_compile(src, len, path, first_line, &t->limits, &tm, error_r) < 0)
		return -1;
	int ret = tmpl_render(tm, data, esc, &partials, out_r, NULL, error_r);
	tmpl_free(&tm);
	return ret;
}

int
ack_render(const struct ack_templates *t, const char *category, const char *language,
	   const struct tmpl_value *data, struct ack_mail *mail, const char **error_r)
{
	memset(mail, 0, sizeof(*mail));
	if (!safe_name(category))
		category = "default";
	if (!safe_name(language))
		language = "en";
	const char *cands[4][2] = { { category, language }, { "default", language },
				    { category, "en" }, { "default", "en" } };
	char *src = NULL, *path = NULL;
	size_t len = 0;
	const char *lang = NULL, *cat = NULL;
	for (int i = 0; i < 4 && src == NULL; i++) {
		char *rel = xasprintf("ack/%s.%s.txt", cands[i][0], cands[i][1]);
		int ret = find_file(t, rel, &src, &len, &path, error_r);
		free(rel);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			cat = cands[i][0];
			lang = cands[i][1];
		}
	}
	if (src == NULL) {
		*error_r = errf("no acknowledgement template for %s.%s (nor default.en) in %s%s%s",
				category, language, t->dirs[0], t->n_dirs > 1 ? " or " : "",
				t->n_dirs > 1 ? t->dirs[1] : "");
		return -1;
	}
	size_t so, sl, bo;
	struct partial_ctx pctx = { t, lang, "txt" };
	int ret = split_subject(path, src, len, &so, &sl, &bo, error_r);
	if (ret == 0)
		ret = render_part(t, path, src + so, sl, 1, data, TMPL_ESCAPE_HEADER, &pctx,
				  &mail->subject, error_r);
	if (ret == 0)
		ret = render_part(t, path, src + bo, len - bo, 3, data, TMPL_ESCAPE_TEXT, &pctx,
				  &mail->text, error_r);
	free(src);
	if (ret < 0) {
		free(path);
		ack_mail_clear(mail);
		return -1;
	}
	squeeze(mail->subject);
	mail->template = path;

	/* HTML: its own template when there is one, else made from the text. */
	char *rel = xasprintf("ack/%s.%s.html", cat, lang);
	char *hpath = NULL;
	ret = find_file(t, rel, &src, &len, &hpath, error_r);
	free(rel);
	if (ret > 0) {
		struct partial_ctx hctx = { t, lang, "html" };
		ret = render_part(t, hpath, src, len, 1, data, TMPL_ESCAPE_HTML, &hctx, &mail->html,
				  error_r);
		free(src);
		free(hpath);
	} else if (ret == 0) {
		ret = text_to_html(mail->text, lang, mail->subject, t->limits.max_output * 2 + 4096,
				   &mail->html);
		if (ret < 0)
			*error_r = errf("HTML body larger than %zu bytes", t->limits.max_output * 2 + 4096);
	}
	if (ret < 0) {
		ack_mail_clear(mail);
		return -1;
	}
	return 0;
}

/* ---- check ------------------------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of regular-looking entries in dir (NULL when absent). */
static char **
list_dir(const char *dir, size_t *n_r)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	*n_r = 0;
	if (d == NULL)
		return NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "partials") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (names == NULL)
		names = xcalloc(1, sizeof(*names)); /* an empty directory */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*n_r = n;
	return names;
}

/* "name.lang.ext" -> 0 with the parts, -1 when the name is not like that. */
static int
parse_name(const char *file, char *name, char *lang, char *ext, size_t size)
{
	const char *d1 = strchr(file, '.');
	const char *d2 = strrchr(file, '.');
	if (d1 == NULL || d2 == d1 || (size_t)(d1 - file) >= size || (size_t)(d2 - d1 - 1) >= size ||
	    strlen(d2 + 1) >= size)
		return -1;
	memcpy(name, file, (size_t)(d1 - file));
	name[d1 - file] = '\0';
	memcpy(lang, d1 + 1, (size_t)(d2 - d1 - 1));
	lang[d2 - d1 - 1] = '\0';
	memcpy(ext, d2 + 1, strlen(d2 + 1) + 1);
	if (!safe_name(name) || !safe_name(lang) || (strcmp(ext, "txt") != 0 && strcmp(ext, "html") != 0))
		return -1;
	return 0;
}

static size_t
check_partial_refs(const struct ack_templates *t, const char *path, const struct tmpl *tm,
		   const char *lang, const char *ext, FILE *out)
{
	size_t problems = 0;
	struct partial_ctx pctx = { t, lang, ext };
	for (size_t i = 0; i < tmpl_partial_count(tm); i++) {
		char *src = NULL, *label = NULL;
		size_t len;
		const char *error = NULL;
		int ret = fetch_partial(&pctx, tmpl_partial_name(tm, i), &src, &len, &label, &error);
		if (ret == 0) {
			fprintf(out, "%s: partial \"%s\" not found (ack/partials/%s.%s.%s or .en.%s)\n",
				path, tmpl_partial_name(tm, i), tmpl_partial_name(tm, i), lang, ext, ext);
			problems++;
		} else if (ret < 0) {
			fprintf(out, "%s\n", error);
			problems++;
		}
		free(src);
		free(label);
	}
	return problems;
}

static size_t
check_file(const struct ack_templates *t, const char *dir, const char *sub, const char *file,
	   int is_partial, FILE *out)
{
	char name[80], lang[80], ext[80];
	char *path = xasprintf("%s/%s/%s", dir, sub, file);
	size_t problems = 0;
	char *src = NULL;
	size_t len;
	const char *error;
	if (parse_name(file, name, lang, ext, sizeof(name)) < 0) {
		fprintf(out, "%s: unexpected file name (want NAME.LANG.txt or NAME.LANG.html)\n", path);
		free(path);
		return 1;
	}
	int r = file_read(path, t->limits.max_source, &src, &len, &error);
	if (r <= 0) {
		fprintf(out, "%s\n", r < 0 ? error : errf("%s: cannot read", path));
		free(path);
		return 1;
	}
	if (!utf8_valid((const unsigned char *)src, len)) {
		fprintf(out, "%s: not valid UTF-8\n", path);
		problems++;
	}
	size_t so = 0, sl = 0, bo = 0;
	int main_txt = !is_partial && strcmp(ext, "txt") == 0;
	if (main_txt && split_subject(path, src, len, &so, &sl, &bo, &error) < 0) {
		fprintf(out, "%s\n", error);
		free(src);
		free(path);
		return problems + 1;
	}
	struct {
		size_t off, len;
		unsigned int line;
	} pieces[2] = { { so, sl, 1 }, { bo, len - bo, 3 } };
	if (!main_txt) {
		pieces[0].off = 0;
		pieces[0].len = len;
		pieces[0].line = 1;
	}
	for (int i = 0; i < (main_txt ? 2 : 1); i++) {
		struct tmpl *tm;
		if (tmpl_compile(src + pieces[i].off, pieces[i].len, path, pieces[i].line, &t->limits,
				 &tm, &error) < 0) {
			fprintf(out, "%s\n", error);
			problems++;
			continue;
		}
		problems += check_partial_refs(t, path, tm, lang, ext, out);
		tmpl_free(&tm);
	}
	free(src);
	free(path);
	return problems;
}

size_t
ack_templates_check(const struct config *config, const char *dir, FILE *out, size_t *n_files_r)
{
	struct ack_templates *t = ack_templates_new(config, dir);
	size_t problems = 0, files = 0;
	for (size_t d = 0; d < t->n_dirs; d++) {
		static const char *const subs[2] = { "ack", "ack/partials" };
		for (int s = 0; s < 2; s++) {
			char *sub = xasprintf("%s/%s", t->dirs[d], subs[s]);
			size_t n;
			char **names = list_dir(sub, &n);
			if (names == NULL && s == 0 && (dir != NULL || d + 1 == t->n_dirs)) {
				fprintf(out, "%s: no such directory\n", sub);
				problems++;
			}
			for (size_t i = 0; i < n; i++) {
				problems += check_file(t, t->dirs[d], subs[s], names[i], s == 1, out);
				files++;
				free(names[i]);
			}
			free(names);
			free(sub);
		}
	}
	/* A sample render of every category and language, so that runtime
	   errors (a partial's syntax, a limit) show up now and not on a
	   customer's mail. */
	time_t now = time(NULL);
	struct hours *hours = NULL;
	const char *error;
	if (config != NULL && ack_hours_from_config(config, &hours, &error) < 0) {
		fprintf(out, "%s\n", error);
		problems++;
	}
	for (size_t c = 0; ack_categories[c] != NULL; c++) {
		for (size_t l = 0; ack_languages[l] != NULL; l++) {
			struct ack_input *in = ack_sample_input(ack_categories[c], ack_languages[l], now);
			struct tmpl_value *data = ack_data_build(config, hours, in, NULL);
			struct ack_mail mail;
			if (ack_render(t, ack_categories[c], ack_languages[l], data, &mail, &error) < 0) {
				fprintf(out, "%s\n", error);
				problems++;
			} else {
				char *want = xasprintf("/ack/%s.%s.txt", ack_categories[c], ack_languages[l]);
				size_t wl = strlen(want), pl = strlen(mail.template);
				if (pl < wl || strcmp(mail.template + pl - wl, want) != 0)
					fprintf(out, "note: %s.%s falls back to %s\n", ack_categories[c],
						ack_languages[l], mail.template);
				free(want);
				ack_mail_clear(&mail);
			}
			tmpl_value_free(&data);
			ack_sample_input_free(&in);
		}
	}
	hours_free(&hours);
	ack_templates_free(&t);
	if (n_files_r != NULL)
		*n_files_r = files;
	return problems;
}

int
ack_compose(const struct config *config, const struct thread_config *tc,
	    const struct ack_envelope *env, const struct ack_mail *mail, char **message_id_r,
	    char **subject_r, unsigned char **raw_r, size_t *len_r, const char **error_r)
{
	char *msgid = NULL, *reply_to = NULL, *subject;
	int ret;

	*message_id_r = NULL;
	*subject_r = NULL;
	if (tc != NULL)
		ret = thread_message_id_new(tc, env->ticket_id, &msgid, error_r);
	else
		ret = compose_message_id(env->ticket_id, config->hostname, &msgid, error_r);
	if (ret < 0)
		return -1;
	if (tc != NULL) {
		reply_to = thread_reply_address(tc, env->ticket_id, THREAD_ROLE_CUSTOMER);
		subject = thread_subject_add_tag(tc, mail->subject, env->ticket_id);
	} else {
		subject = xstrdup(mail->subject);
	}

	struct compose *c = compose_new();
	compose_set_from(c, config->support_name, config->support_address);
	if (reply_to != NULL)
		compose_set_reply_to(c, config->support_name, reply_to);
	compose_add_to(c, env->to_name, env->to_address);
	compose_set_subject(c, subject);
	if (env->date != 0)
		compose_set_date(c, env->date);
	compose_set_message_id(c, msgid);
	if (env->in_reply_to != NULL) {
		compose_set_in_reply_to(c, env->in_reply_to);
		for (size_t i = 0; i < env->n_references; i++)
			compose_add_reference(c, env->references[i]);
		compose_add_reference(c, env->in_reply_to);
	}
	compose_set_auto_submitted(c, "auto-replied");
	compose_set_loop(c, config->hostname);
	compose_set_text(c, mail->text, strlen(mail->text));
	compose_set_html(c, mail->html, strlen(mail->html));
	ret = compose_render(c, raw_r, len_r, error_r);
	compose_free(&c);
	free(reply_to);
	if (ret < 0) {
		free(msgid);
		free(subject);
		return -1;
	}
	*message_id_r = msgid;
	*subject_r = subject;
	return 0;
}
