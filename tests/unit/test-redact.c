/*
 * test-redact: secrets a customer mails go no further than the gateway.
 * The whole ingest pipeline against a real SQLite store in a temporary
 * state directory: a mail with a private key in its subject and body, a
 * recovery phrase in a base64 .txt attachment and in its HTML part, and a
 * rule that extracts a field from the text. Then every file under the
 * state directory (database, WAL, blobs) is searched for the secrets; the
 * ticket is urgent, tagged, queued and has an event naming the kinds; the
 * acknowledgement carries the warning in the customer's language; the
 * agents' notification opens with the banner; the redacted raw message
 * parses and says what was there. Also [secrets] action = quarantine,
 * mail without secrets (its raw kept byte for byte), and Chinese mail.
 */
#include "build-config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/hold.h"
#include "gateway/ingest.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define NOW 1741658400

/* The official BIP39 vector "legal winner ... yellow" (valid checksum) and
   the WIF of the Bitcoin wiki's example key. */
#define PHRASE "legal winner thank year wave sausage worth useful legal winner thank yellow"
#define WIF "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
/* Pieces of them that must not be anywhere either. */
static const char *const needles[] = { WIF, "5HueCGU8rMjxEXxiPu", "sausage worth useful",
				       "wave sausage", "rMjxEXxiPuD5BDku4Mk" };

static char tmpdir[] = "/tmp/dg-test-redact.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static int counter;

static const char rules_text[] =
	"rule key-field {\n"
	"\tbody ~ /my key is (?<wallet_key>\\S+)/\n"
	"\textract wallet_key\n"
	"}\n";

static int
contains_mem(const unsigned char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= len && i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static int
setup(const char *action)
{
	const char *error;
	char *path = xasprintf("%s/rules", tmpdir);
	desk_mkdir_p(path);
	free(path);
	path = xasprintf("%s/rules/test.rules", tmpdir);
	desk_write_file(path, rules_text);
	free(path);
	char *sections = xasprintf(
		"hostname = desk.example.test\nsupport_address = support@example.test\n"
		"[rules]\ndir = %s/rules\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = security\n"
		"[agent bob]\naddress = bob@staff.example\n"
		"[agent carol]\naddress = carol@staff.example\nsupervisor = yes\n"
		"[agent dave]\naddress = dave@staff.example\n"
		"[queue security]\ncategories = account_security\nsupervisors = dave\n"
		"[secrets]\naction = %s\nqueue = security\n",
		tmpdir, action);
	int ret = desk_open(tmpdir, sections, &config, &store);
	free(sections);
	if (ret < 0)
		return -1;
	if (ingest_init(config, store, &ingest, &error) < 0) {
		printf("ingest_init: %s\n", error);
		return -1;
	}
	ingest_set_now(ingest, NOW);
	return 0;
}

static void
teardown(void)
{
	ingest_free(&ingest);
	store_close(&store);
	config_free(&config);
}

static int
ingest_text(const char *raw, struct ingest_result *res)
{
	const char *error = NULL;
	struct ingest_source src = { .label = "test" };
	if (ingest_message(ingest, (const unsigned char *)raw, strlen(raw), &src, res, &error) < 0) {
		printf("ingest_message: %s\n", error);
		return -1;
	}
	return 0;
}

static char *
b64(const char *s)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	char *out = xmalloc(n * 2 + 8), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The customer's mail: the key in the subject and the text, the phrase in
   a base64 .txt and in the HTML part. */
static char *
secret_mail(const char *from, const char *lang)
{
	char *att = b64("My wallet words, please restore:\n" PHRASE "\n");
	char *mail = xasprintf(
		"From: Victim <%s>\nTo: support@example.test\nSubject: help, key " WIF "\n"
		"Thread-Topic: help, key " WIF "\n"
		"Date: Tue, 11 Mar 2025 10:00:00 +0800\nMessage-ID: <s%d.%d@client.example>\n"
		"Content-Language: %s\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"out\"\n\n"
		"--out\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n"
		"--alt\nContent-Type: text/plain; charset=utf-8\n\n"
		"%s\nSupport told me to send my private key. my key is " WIF "\nThanks\n"
		"--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
		"<p>Support told me to send my private key. my key is<br>" WIF "</p>"
		"<p>" PHRASE "</p>\n"
		"--alt--\n"
		"--out\nContent-Type: text/plain; name=\"words.txt\"\n"
		"Content-Disposition: attachment; filename=\"words.txt\"\n"
		"Content-Transfer-Encoding: base64\n\n%s\n--out--\n",
		from, ++counter, (int)getpid(), lang,
		strcmp(lang, "zh-CN") == 0 ? "您好，客服让我把私钥发过来，请帮我看看我的账户。" : "", att);
	free(att);
	return mail;
}

/* ---- the state directory holds no secret ---------------------------------------- */

static int n_files, n_hits;

static int
search_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return 0;
	struct buf b;
	buf_init(&b, 512u << 20);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		(void)buf_append(&b, chunk, n);
	fclose(fp);
	n_files++;
	for (size_t i = 0; i < N_ELEMENTS(needles); i++) {
		size_t l = strlen(needles[i]);
		for (size_t k = 0; k + l <= b.len; k++) {
			if (memcmp(b.data + k, needles[i], l) == 0) {
				printf("secret \"%s\" found in %s\n", needles[i], path);
				n_hits++;
				break;
			}
		}
	}
	buf_free(&b);
	return 0;
}

static void
assert_state_clean(const char *when)
{
	n_files = n_hits = 0;
	nftw(tmpdir, search_file, 16, FTW_PHYS);
	test_begin(when);
	test_assert(n_files >= 3); /* database, WAL, blobs */
	test_assert_int(n_hits, 0);
}

/* ---- questions to the store --------------------------------------------------------- */

static char *
field(int64_t ticket, const char *name)
{
	struct store_field *f = NULL;
	size_t n = 0;
	const char *error;
	char *v = NULL;
	if (store_ticket_field_list(store, ticket, &f, &n, &error) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			v = xstrdup(f[i].value);
	store_fields_free(&f, n);
	return v;
}

/* The text of the outbox message of kind to rcpt, parsed; NULL if none. */
static struct mime_message *
outbox_mail(const char *kind, const char *rcpt)
{
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	const char *error;
	struct mime_message *m = NULL;
	struct mime_limits limits;
	mime_limits_default(&limits);
	if (store_outbox_list(store, NULL, 0, &list, &n, &error) < 0)
		return NULL;
	for (size_t i = 0; i < n && m == NULL; i++) {
		if (strcmp(list[i].kind, kind) != 0 || strstr(list[i].recipients, rcpt) == NULL)
			continue;
		if (store_outbox_get(store, list[i].id, &o, &error) == 1 &&
		    mime_parse(o->raw, o->raw_size, &limits, &m, &error) < 0)
			mime_message_free(&m);
		store_outbox_free(&o);
	}
	store_outboxes_free(&list, n);
	return m;
}

static void
test_redacted(void)
{
	struct ingest_result res;
	char *mail = secret_mail("victim@example.org", "en");
	test_begin("redact: stored");
	test_assert_int(ingest_text(mail, &res), 0);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	free(mail);

	struct store_ticket *t = NULL;
	const char *error;
	test_assert_int(store_ticket_get(store, res.ticket_id, &t, &error), 1);
	if (t == NULL)
		return;
	test_begin("redact: the ticket");
	test_assert_str(t->priority, "urgent");
	test_assert_str(t->queue, "security");
	test_assert(strstr(t->subject, "[redacted: private key]") != NULL);
	test_assert(strstr(t->subject, "5Hue") == NULL);
	char *tags = field(t->id, "tags");
	test_assert(tags != NULL && strstr(tags, "secret-exposed") != NULL);
	free(tags);
	char *key = field(t->id, "wallet_key");
	test_assert(key != NULL && strstr(key, "redacted") != NULL);
	free(key);
	test_assert(desk_has_event(store, t->id, "secret",
				   "recovery phrase, private key redacted before storing"));
	test_assert(desk_has_event(store, t->id, "secret", "attachment words.txt"));

	test_begin("redact: the message and its raw copy");
	struct store_message *msgs = NULL;
	size_t n = 0;
	test_assert_int(store_message_list(store, t->id, &msgs, &n, &error), 0);
	test_assert(n >= 1);
	if (n >= 1) {
		test_assert(strstr(msgs[0].text, "my key is [redacted: private key]") != NULL);
		unsigned char *raw = NULL;
		size_t len = 0;
		test_assert_int(store_blob_get(store, STORE_BLOB_RAW, msgs[0].raw_sha256, &raw, &len,
					       &error), 0);
		struct mime_message *m = NULL;
		struct mime_limits limits;
		mime_limits_default(&limits);
		test_assert_int(mime_parse(raw, len, &limits, &m, &error), 0);
		if (m != NULL) {
			test_assert(strstr(m->subject, "[redacted: private key]") != NULL);
			test_assert_str(mime_header_get(m, "Thread-Topic"),
					"help, key [redacted: private key]");
			test_assert_str(mime_header_get(m, "Content-Language"), "en");
			test_assert_int(m->n_attachments, 1);
			if (m->n_attachments == 1) {
				test_assert_str(m->attachments[0].filename, "words.txt");
				test_assert(contains_mem(m->attachments[0].data,
							 m->attachments[0].size,
							 "[redacted: recovery phrase]"));
			}
			test_assert(m->html != NULL &&
				    strstr(m->html, "[redacted: recovery phrase]") != NULL);
		}
		mime_message_free(&m);
		free(raw);
	}
	/* An attachment is read through the store: kept as a range of the raw
	   blob (issue 18), its bytes are decoded from there, so a search of the
	   files for the secret in clear would not see it: read and search it. */
	test_begin("redact: every attachment as the store reads it");
	size_t atts_seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_attachment *atts = NULL;
		size_t n_atts = 0;
		test_assert_int(store_attachment_list(store, msgs[i].id, &atts, &n_atts, &error), 0);
		for (size_t k = 0; k < n_atts; k++) {
			unsigned char *data = NULL;
			size_t len = 0;
			test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, atts[k].sha256,
						       &data, &len, &error), 0);
			test_assert(contains_mem(data, len, "[redacted: recovery phrase]"));
			for (size_t j = 0; j < N_ELEMENTS(needles); j++)
				test_assert(!contains_mem(data, len, needles[j]));
			free(data);
			atts_seen++;
		}
		store_attachments_free(&atts, n_atts);
	}
	test_assert_int(atts_seen, 1);
	store_messages_free(&msgs, n);

	test_begin("redact: the acknowledgement warns");
	struct mime_message *ack = outbox_mail("ack", "victim@example.org");
	test_assert(ack != NULL);
	if (ack != NULL) {
		test_assert(strstr(ack->text, "your message contained a secret") != NULL);
		test_assert(strstr(ack->text, "- a wallet recovery phrase") != NULL);
		test_assert(strstr(ack->text, "- a private key") != NULL);
		test_assert(strstr(ack->text, "- a payment card number") == NULL);
		test_assert(strstr(ack->text, "move your funds to a new wallet") != NULL);
		/* in addition to the normal acknowledgement */
		test_assert(strstr(ack->text, "we will never ask for your password") != NULL);
	}
	mime_message_free(&ack);

	test_begin("redact: the agents' banner");
	struct mime_message *note = outbox_mail("notify", "alice@staff.example");
	test_assert(note != NULL);
	if (note != NULL) {
		test_assert(strncmp(note->text, "*** SECRET EXPOSED: this mail held recovery phrase, "
						"private key", 60) == 0);
		test_assert(strstr(note->text, "my key is [redacted: private key]") != NULL);
		test_assert(strstr(note->subject, "[redacted: private key]") != NULL);
		test_assert(note->n_attachments == 1 &&
			    contains_mem(note->attachments[0].data, note->attachments[0].size,
					 "[redacted: recovery phrase]"));
	}
	mime_message_free(&note);
	store_ticket_free(&t);
}

static void
test_french_and_chinese(void)
{
	struct ingest_result res;
	const char *langs[][2] = {
		{ "fr", "votre message contenait un secret" },
		{ "zh-CN", "您的邮件中含有机密信息" },
		{ "de", "Ihre Nachricht enthielt ein Geheimnis" },
	};
	for (size_t i = 0; i < N_ELEMENTS(langs); i++) {
		char *from = xasprintf("customer%zu@example.org", i);
		char *mail = secret_mail(from, langs[i][0]);
		test_begin(langs[i][0]);
		test_assert_int(ingest_text(mail, &res), 0);
		struct mime_message *ack = outbox_mail("ack", from);
		test_assert(ack != NULL && strstr(ack->text, langs[i][1]) != NULL);
		mime_message_free(&ack);
		free(mail);
		free(from);
	}
}

static void
test_no_secret(void)
{
	const char *mail = "From: a@example.org\nTo: support@example.test\nSubject: deposit\n"
			   "Message-ID: <plain@client.example>\n\n"
			   "My deposit tx 9f2c4a1b7e3d5f60718293a4b5c6d7e8f9012345678901234567890abcdef12 "
			   "is pending.\n";
	struct ingest_result res;
	test_begin("no secret: raw kept as received");
	test_assert_int(ingest_text(mail, &res), 0);
	struct store_message *msgs = NULL;
	size_t n = 0;
	const char *error;
	test_assert_int(store_message_list(store, res.ticket_id, &msgs, &n, &error), 0);
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	struct crypto_sha256 *h = crypto_sha256_new();
	crypto_sha256_update(h, mail, strlen(mail));
	crypto_sha256_final(&h, hex);
	test_assert(n >= 1 && strcmp(msgs[0].raw_sha256, hex) == 0);
	store_messages_free(&msgs, n);
	struct store_ticket *t = NULL;
	test_assert_int(store_ticket_get(store, res.ticket_id, &t, &error), 1);
	test_assert(t != NULL && strcmp(t->priority, "urgent") != 0);
	test_assert(!desk_has_event(store, res.ticket_id, "secret", NULL));
	store_ticket_free(&t);
}

/* Outbox rows of kind to rcpt whose text holds needle (NULL: any). */
static int
count_outbox(const char *kind, const char *rcpt, const char *needle)
{
	return desk_count_outbox(store, kind, rcpt, needle, NULL);
}

/* Attachments of the outbox mail to rcpt whose text holds needle, or -1. */
static int
count_outbox_attachments(const char *rcpt, const char *needle)
{
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	const char *error;
	int count = -1;
	struct mime_limits limits;
	mime_limits_default(&limits);
	if (store_outbox_list(store, NULL, 0, &list, &n, &error) < 0)
		return -1;
	for (size_t i = 0; i < n && count < 0; i++) {
		struct mime_message *m = NULL;
		if (strstr(list[i].recipients, rcpt) != NULL &&
		    store_outbox_get(store, list[i].id, &o, &error) == 1 &&
		    mime_parse(o->raw, o->raw_size, &limits, &m, &error) == 0 &&
		    strstr(m->text, needle) != NULL)
			count = (int)m->n_attachments;
		mime_message_free(&m);
		store_outbox_free(&o);
	}
	store_outboxes_free(&list, n);
	return count;
}

/* An agent's mail to the ticket's signed agent address. */
static void
agent_mail(struct thread_config *tc, int64_t ticket, const char *from, const char *text)
{
	char *to = thread_reply_address(tc, ticket, THREAD_ROLE_AGENT);
	char *mail = xasprintf("From: %s\nTo: %s\nSubject: Re: ticket\n"
			       "Date: Tue, 11 Mar 2025 11:00:00 +0800\nMessage-ID: <a%d.%d@staff.example>\n"
			       "Content-Type: text/plain; charset=utf-8\n\n%s",
			       from, to, ++counter, (int)getpid(), text);
	struct ingest_result res;
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	free(to);
}

static void
test_guard(void)
{
	const char *error;
	struct thread_config *tc = NULL;
	struct ingest_result res;
	const char *customer = "From: Buyer <buyer@example.org>\nTo: support@example.test\n"
			       "Subject: withdrawal stuck\nMessage-ID: <g1@client.example>\n\n"
			       "My withdrawal has been pending for two days.\n";
	const char *ask = "Hello,\n\nto check the wallet please send us your 12-word recovery "
			  "phrase.\n\nAlice\n";
	int64_t row;

	test_begin("guard: a reply asking for the seed phrase is held");
	test_assert_int(thread_config_new(config, &tc, &error), 0);
	test_assert_int(ingest_text(customer, &res), 0);
	int64_t id = res.ticket_id;
	agent_mail(tc, id, "Alice Agent <alice@staff.example>", ask);
	test_assert_int(count_outbox("relay", "buyer@example.org", NULL), 0);
	test_assert_int(count_outbox("error", "alice@staff.example", "HELD by the outbound guard: "
				     "it asks the customer for their recovery phrase"), 1);
	test_assert_int(count_outbox("error", "alice@staff.example", "#send-anyway"), 1);
	test_assert(desk_has_event(store, id, "held", "recovery phrase"));
	test_assert_int(hold_get(store, id, &row, &error), 1);

	test_begin("guard: #send-anyway from an agent who is no supervisor");
	agent_mail(tc, id, "bob@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", NULL), 0);
	test_assert_int(count_outbox("error", "bob@staff.example", "only a supervisor"), 1);
	test_assert_int(hold_get(store, id, &row, &error), 1);

	test_begin("guard: #send-anyway from a supervisor releases it");
	agent_mail(tc, id, "carol@staff.example", "#send-anyway\nI checked with Alice.\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "send us your 12-word"), 1);
	test_assert_int(count_outbox("relay", "buyer@example.org", "checked with Alice"), 0);
	test_assert(desk_has_event(store, id, "released", "released by carol@staff.example"));
	test_assert_int(hold_get(store, id, &row, &error), 0);
	agent_mail(tc, id, "carol@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("error", "carol@staff.example", "no reply is held"), 1);

	test_begin("guard: a safety reminder is relayed");
	agent_mail(tc, id, "alice@staff.example",
		   "Your withdrawal is on its way. Remember: we will never ask for your seed "
		   "phrase, private key or 2FA code.\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "on its way"), 1);

	test_begin("guard: in Chinese");
	agent_mail(tc, id, "alice@staff.example", "您好，请提供您的谷歌验证码，我们帮您处理。\n");
	test_assert_int(count_outbox("relay", "buyer@example.org", "验证码"), 0);
	test_assert_int(count_outbox("error", "alice@staff.example", "for their 2FA code"), 1);

	/* supervisor.h: an agent a queue names a supervisor releases a hold
	   on that queue's tickets, not on others */
	test_begin("guard: #send-anyway from another queue's supervisor");
	agent_mail(tc, id, "dave@staff.example", "#send-anyway\n");
	test_assert_int(count_outbox("error", "dave@staff.example", "only a supervisor"), 1);
	test_assert_int(hold_get(store, id, &row, &error), 1);
	test_begin("guard: #send-anyway from the ticket's queue's supervisor releases it");
	agent_mail(tc, id, "alice@staff.example", "#queue security\n");
	test_assert_int(hold_get(store, id, &row, &error), 1);
	agent_mail(tc, id, "dave@staff.example", "#send-anyway\n");
	test_assert(desk_has_event(store, id, "released", "released by dave@staff.example"));
	test_assert_int(hold_get(store, id, &row, &error), 0);
	test_assert_int(count_outbox("error", "dave@staff.example", NULL), 1);
	thread_config_free(&tc);
}

/* A PE32 program for i386 (as test-sniff builds it): DOS header, PE
   header, optional header, one section holding one "ret". */
static unsigned char *
make_pe(size_t *len_r)
{
	unsigned char *p = xcalloc(1, 1024);
#define PUT16(at, v) ((at)[0] = (unsigned char)((v) & 0xff), (at)[1] = (unsigned char)((v) >> 8))
#define PUT32(at, v) (PUT16(at, (v) & 0xffff), PUT16((at) + 2, (uint32_t)(v) >> 16))
	p[0] = 'M';
	p[1] = 'Z';
	PUT32(p + 0x3c, 0x40);
	unsigned char *pe = p + 0x40;
	memcpy(pe, "PE\0\0", 4);
	PUT16(pe + 4, 0x14c);
	PUT16(pe + 6, 1);
	PUT16(pe + 20, 0xe0);
	PUT16(pe + 22, 0x0102);
	unsigned char *opt = pe + 24;
	PUT16(opt, 0x10b);
	PUT32(opt + 16, 0x1000);
	PUT32(opt + 28, 0x400000);
	PUT32(opt + 32, 0x1000);
	PUT32(opt + 36, 0x200);
	PUT16(opt + 40, 4);
	PUT16(opt + 48, 4);
	PUT32(opt + 56, 0x2000);
	PUT32(opt + 60, 0x200);
	PUT16(opt + 68, 2);
	PUT32(opt + 92, 16);
	unsigned char *sec = opt + 0xe0;
	memcpy(sec, ".text", 5);
	PUT32(sec + 8, 0x10);
	PUT32(sec + 12, 0x1000);
	PUT32(sec + 16, 0x200);
	PUT32(sec + 20, 0x200);
	PUT32(sec + 36, 0x60000020);
#undef PUT32
#undef PUT16
	p[0x200] = 0xc3;
	*len_r = 1024;
	return p;
}

static char *
b64_bytes(const unsigned char *data, size_t len)
{
	char *s = xmalloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	/* b64() stops at a NUL: encode in 3-byte groups by hand */
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc(len * 2 + 8), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = '\0';
	free(s);
	return out;
}

static void
test_dangerous(void)
{
	static const char png[] =
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
		"rkJggg==";
	size_t pe_len;
	unsigned char *pe = make_pe(&pe_len);
	char *pe64 = b64_bytes(pe, pe_len);
	free(pe);
	char *mail = xasprintf(
		"From: Forwarder <fwd@example.org>\nTo: support@example.test\n"
		"Subject: is this invoice from you?\nMessage-ID: <d1@client.example>\n"
		"Content-Language: en\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
		"--b\nContent-Type: text/plain\n\nI got this invoice, is it yours?\n"
		"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
		"filename=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\n%s\n"
		"--b\nContent-Type: image/png\nContent-Disposition: attachment; "
		"filename=\"screenshot.png\"\nContent-Transfer-Encoding: base64\n\n%s\n--b--\n",
		pe64, png);
	free(pe64);
	struct ingest_result res;
	test_begin("dangerous attachment: flagged, stored, not attached");
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert(desk_has_event(store, res.ticket_id, "attachment",
				   "dangerous attachment invoice.pdf"));
	test_assert(desk_has_event(store, res.ticket_id, "attachment", "executable"));
	struct mime_message *note = NULL;
	/* the newest notification to alice */
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	const char *error;
	struct mime_limits limits;
	mime_limits_default(&limits);
	test_assert_int(store_outbox_list(store, NULL, 0, &list, &n, &error), 0);
	for (size_t i = 0; i < n && note == NULL; i++)
		if (strcmp(list[i].kind, "notify") == 0 && list[i].ticket_id == res.ticket_id &&
		    store_outbox_get(store, list[i].id, &o, &error) == 1) {
			if (mime_parse(o->raw, o->raw_size, &limits, &note, &error) < 0)
				mime_message_free(&note);
			store_outbox_free(&o);
		}
	store_outboxes_free(&list, n);
	test_assert(note != NULL);
	if (note != NULL) {
		test_assert_int(note->n_attachments, 1);
		test_assert(note->n_attachments < 1 ||
			    strcmp(note->attachments[0].filename, "screenshot.png") == 0);
		test_assert(strstr(note->text, "invoice.pdf (application/pdf, 1.0 KB, NOT ATTACHED: "
					       "dangerous: executable") != NULL ||
			    strstr(note->text, "NOT ATTACHED: dangerous: executable") != NULL);
		test_assert(strstr(note->text, "#attachments") != NULL);
	}
	mime_message_free(&note);

	test_begin("#attachments mails them on purpose");
	struct thread_config *tc = NULL;
	test_assert_int(thread_config_new(config, &tc, &error), 0);
	agent_mail(tc, res.ticket_id, "alice@staff.example", "#attachments\n");
	test_assert_int(count_outbox("notify", "alice@staff.example",
				     "sent because you asked with #attachments"), 1);
	test_assert_int(count_outbox("notify", "alice@staff.example",
				     "WARNING: these were flagged as dangerous"), 1);
	test_assert_int(count_outbox("relay", "fwd@example.org", NULL), 0);
	test_assert_int(count_outbox_attachments("alice@staff.example", "#attachments"), 2);
	thread_config_free(&tc);
}

static void
test_quarantine(void)
{
	struct ingest_result res;
	char *mail = secret_mail("q@example.org", "en");
	test_begin("action = quarantine");
	test_assert_int(ingest_text(mail, &res), 0);
	test_assert_int(res.outcome, INGEST_QUARANTINED);
	test_assert(strstr(res.reason, "secrets: recovery phrase, private key in") != NULL);
	test_assert(strstr(res.reason, "5Hue") == NULL);
	free(mail);
}

int
main(void)
{
	desk_datadir();
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if (setup("redact") < 0)
		return 1;
	test_redacted();
	test_french_and_chinese();
	test_no_secret();
	test_guard();
	test_dangerous();
	assert_state_clean("state directory, store open");
	teardown();
	assert_state_clean("state directory, store closed");

	if (setup("quarantine") < 0)
		return 1;
	test_quarantine();
	teardown();
	desk_rm_tree(tmpdir);
	return test_exit();
}
