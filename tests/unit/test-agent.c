/*
 * test-agent: the agents' side of a ticket through the whole ingest
 * pipeline, against a real SQLite store in a temporary directory with a
 * deskgate.conf that has [agent] and [queue] sections: notification of a
 * new ticket (headers, signed agent Reply-To, summary block, attachment),
 * queues and the VIP queue, an agent's reply relayed to the customer
 * (quoted history and signature stripped, threaded, no agent address
 * anywhere, attachment kept, first response recorded, notice to the other
 * agents), #note, the other commands, errors mailed back, a forged agent
 * From and a stranger at the agent address (never relayed), an agent's
 * automatic reply, and every generated message parsed by Python's email
 * package.
 */
#include "build-config.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/agent.h"
#include "gateway/config.h"
#include "gateway/ingest.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/agentcmd.h"
#include "parsers/mime.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

/* Tuesday 2025-03-11 10:00 in Shanghai (02:00 UTC). */
#define NOW 1741658400

static char tmpdir[] = "/tmp/dg-test-agent.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static int64_t outbox_seen; /* highest outbox id looked at so far */
static int mail_counter;

/* A 1x1 PNG (the customer's "screenshot") and a small PDF-ish file. */
static const char png_b64[] =
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
	"rkJggg==";
static const unsigned char png_head[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };



static int
contains(const void *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	const unsigned char *h = hay;
	for (size_t i = 0; n <= len && i + n <= len; i++)
		if (strncasecmp((const char *)h + i, needle, n) == 0)
			return 1;
	return 0;
}

static int
scontains(const char *hay, const char *needle)
{
	return hay != NULL && contains(hay, strlen(hay), needle);
}

/* ---- mail in ---------------------------------------------------------------------- */

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

/* A mail: headers (each ending in \n, may be "") and a UTF-8 text body;
   with_png adds the screenshot, with_pdf a file. */
static char *
make_mail(const char *from, const char *to, const char *extra_headers, const char *subject,
	  const char *text, int with_png, const char *attach_name)
{
	mail_counter++;
	char *msgid = xasprintf("<m%d.%d@client.example>", mail_counter, (int)getpid());
	char *head = xasprintf("From: %s\nTo: %s\n%sSubject: %s\nDate: Tue, 11 Mar 2025 10:0%d:00 +0800\n"
			       "Message-ID: %s\nMIME-Version: 1.0\n",
			       from, to, extra_headers, subject, mail_counter % 10, msgid);
	char *mail;
	if (!with_png && attach_name == NULL) {
		mail = xasprintf("%sContent-Type: text/plain; charset=utf-8\n"
				 "Content-Transfer-Encoding: 8bit\n\n%s",
				 head, text);
	} else {
		char *att = with_png
				    ? xasprintf("--b1\nContent-Type: image/png\nContent-Disposition: "
						"attachment; filename=\"screenshot.png\"\n"
						"Content-Transfer-Encoding: base64\n\n%s\n",
						png_b64)
				    : xasprintf("--b1\nContent-Type: application/pdf\nContent-Disposition: "
						"attachment; filename=\"%s\"\n"
						"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcfsj6IK\n",
						attach_name);
		mail = xasprintf("%sContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
				 "--b1\nContent-Type: text/plain; charset=utf-8\n"
				 "Content-Transfer-Encoding: 8bit\n\n%s\n%s--b1--\n",
				 head, text, att);
		free(att);
	}
	free(head);
	free(msgid);
	return mail;
}

/* ---- mail out ---------------------------------------------------------------------- */

struct out {
	struct store_outbox *o;
	struct mime_message *m;
};

static void
out_clear(struct out *o)
{
	store_outbox_free(&o->o);
	mime_message_free(&o->m);
}

/* The outbox rows queued since the last call, oldest first. */
static size_t
new_outbox(struct out *outs, size_t max)
{
	struct store_outbox *list = NULL;
	size_t n = 0, k = 0;
	const char *error;
	struct mime_limits limits;
	mime_limits_default(&limits);
	if (store_outbox_list(store, NULL, 0, &list, &n, &error) < 0) {
		printf("outbox list: %s\n", error);
		return 0;
	}
	int64_t top = outbox_seen;
	for (size_t i = n; i-- > 0;) {
		if (list[i].id <= outbox_seen || k >= max)
			continue;
		struct out *o = &outs[k++];
		memset(o, 0, sizeof(*o));
		if (store_outbox_get(store, list[i].id, &o->o, &error) != 1) {
			printf("outbox get: %s\n", error);
			k--;
			continue;
		}
		if (mime_parse(o->o->raw, o->o->raw_size, &limits, &o->m, &error) < 0)
			printf("outbox #%lld does not parse: %s\n", (long long)list[i].id, error);
		if (list[i].id > top)
			top = list[i].id;
	}
	outbox_seen = top;
	store_outboxes_free(&list, n);
	return k;
}

static struct out *
find_out(struct out *outs, size_t n, const char *kind, const char *rcpt)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(outs[i].o->kind, kind) == 0 &&
		    (rcpt == NULL || scontains(outs[i].o->recipients, rcpt)))
			return &outs[i];
	return NULL;
}

static size_t
count_kind(struct out *outs, size_t n, const char *kind)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += strcmp(outs[i].o->kind, kind) == 0;
	return c;
}

static void
outs_clear(struct out *outs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_clear(&outs[i]);
}

static const char *
header(const struct out *o, const char *name)
{
	return o != NULL && o->m != NULL ? mime_header_get(o->m, name) : NULL;
}

static const char *
reply_to(const struct out *o)
{
	return o != NULL && o->m != NULL && o->m->reply_to.count == 1
		       ? o->m->reply_to.items[0].address
		       : NULL;
}

/* 1 when addr is the signed reply address of ticket for role. */
static int
signed_for(const char *addr, int64_t ticket, enum thread_role role)
{
	int64_t t = 0;
	enum thread_role r;
	const char *error;
	return addr != NULL && thread_reply_address_parse(tc, addr, &t, &r, &error) == 1 &&
	       t == ticket && r == role;
}

static struct store_ticket *
ticket(int64_t id)
{
	struct store_ticket *t = NULL;
	const char *error;
	if (store_ticket_get(store, id, &t, &error) != 1)
		printf("no ticket %lld\n", (long long)id);
	return t;
}

/* The newest message row of a ticket (caller frees the list). */
static struct store_message *
last_message(int64_t id, struct store_message **list_r, size_t *n_r)
{
	const char *error;
	*list_r = NULL;
	*n_r = 0;
	if (store_message_list(store, id, list_r, n_r, &error) < 0 || *n_r == 0)
		return NULL;
	return &(*list_r)[*n_r - 1];
}


/* An agent's reply to a notification as a mail client writes it: to the
   notification's Reply-To, In-Reply-To and References, "Re:" subject. */
static char *
agent_reply(const char *from, const struct out *notification, const char *text,
	    const char *extra_headers, const char *attach_name)
{
	const char *msgid = notification->o->message_id;
	const char *refs = header(notification, "References");
	char *hdrs = xasprintf("%sIn-Reply-To: <%s>\nReferences: %s <%s>\n", extra_headers,
			       msgid, refs != NULL ? refs : "", msgid);
	char *subject = xasprintf("Re: %s", notification->m->subject);
	char *mail = make_mail(from, reply_to(notification), hdrs, subject, text, 0, attach_name);
	free(hdrs);
	free(subject);
	return mail;
}

/* ---- setup -------------------------------------------------------------------------- */

static const char rules_text[] =
	"rule order-id {\n"
	"\tsubject, body ~ /(?:order|订单号)\\s*[:：#]?\\s*(?<order_id>[A-Z0-9]{6,})/\n"
	"\textract order_id\n"
	"}\n"
	"rule deposit {\n"
	"\tsubject, body ~ /充值|deposit/\n"
	"\tcategory delayed_payment 3\n"
	"}\n"
	"rule vip {\n"
	"\tvip\n"
	"\tpriority +1\n"
	"}\n";

static int
setup(void)
{
	const char *error;
	char *path;

	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	path = xasprintf("%s/secret", tmpdir);
	desk_write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	chmod(path, 0600);
	free(path);
	path = xasprintf("%s/rules", tmpdir);
	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/rules/test.rules", tmpdir);
	desk_write_file(path, rules_text);
	free(path);
	char *conf = xasprintf(
		"[general]\nstate_dir = %s\nhostname = desk.example.test\n"
		"support_address = support@example.test\nsupport_name = Example Support\n"
		"[ack]\ntemplates_dir = %s/tpl\n"
		"[rules]\ndir = %s/rules\nvip_senders = vip.example\n"
		"[hours]\ntimezone = Asia/Shanghai\nweek = mon-fri 09:00-18:00\n"
		/* agents here answer each other's tickets at one instant on
		   purpose; collisions are test-collide's */
		"[agent]\ncollision_minutes = 0\ncollision_assigned = no\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = payments\n"
		"signature = Alice Agent | Payments\n"
		"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\nqueues = payments, general\n"
		"[agent carol]\naddress = carol@staff.example\nname = Carol Agent\n"
		"[queue payments]\ncategories = delayed_payment, failed_trade\n"
		"[queue general]\ncategories = other\n"
		"[queue vip]\nagents = carol\nvip = yes\n",
		tmpdir, tmpdir, tmpdir);
	/* The admin's templates: two canned replies of their own, one broken. */
	path = xasprintf("%s/tpl/replies", tmpdir);
	desk_mkdir_p(path);
	free(path);
	path = xasprintf("%s/tpl/replies/custom_only.en.txt", tmpdir);
	desk_write_file(path, "Custom answer for {{ticket.ref}} by {{agent.name}}.\n");
	free(path);
	path = xasprintf("%s/tpl/replies/broken.en.txt", tmpdir);
	desk_write_file(path, "Unclosed {{#section}} here\n");
	free(path);
	path = xasprintf("%s/deskgate.conf", tmpdir);
	desk_write_file(path, conf);
	free(conf);
	if (config_load(path, &config, &error) < 0) {
		printf("config: %s\n", error);
		free(path);
		return -1;
	}
	free(path);
	path = xasprintf("%s/deskgate.db", tmpdir);
	int ret = store_open(path, tmpdir, &store, &error);
	free(path);
	if (ret < 0) {
		printf("store_open: %s\n", error);
		return -1;
	}
	if (ingest_init(config, store, &ingest, &error) < 0) {
		printf("ingest_init: %s\n", error);
		return -1;
	}
	ingest_set_now(ingest, NOW);
	if (thread_config_new(config, &tc, &error) < 0) {
		printf("thread_config_new: %s\n", error);
		return -1;
	}
	return 0;
}

/* ---- the tests ------------------------------------------------------------------------ */

#define MAXOUT 32

static struct out n_alice; /* the notification of ticket 1 to Alice, kept */
static char *customer_msgid;

static int64_t
test_new_ticket(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;

	test_begin("new ticket: acknowledgement and notifications");
	char *mail = make_mail("王小明 <wang@customer.example>",
			       "support@example.test", "Cc: 李雷 <li@customer.example>\n",
			       "充值未到账", "你好，我昨天充值的USDT还没有到账，订单号: ORD123456。\n截图见附件。\n",
			       1, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	customer_msgid = xstrndup(strstr(mail, "Message-ID: <") + 13,
				  strcspn(strstr(mail, "Message-ID: <") + 13, ">"));
	free(mail);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	test_assert(res.ack_outbox_id != 0);
	int64_t id = res.ticket_id;
	n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "ack"), 1);
	/* delayed_payment -> [queue payments]: alice and bob, not carol. */
	test_assert_int(count_kind(outs, n, "notify"), 2);
	test_assert(find_out(outs, n, "notify", "carol@") == NULL);
	struct out *a = find_out(outs, n, "notify", "alice@staff.example");
	test_assert(a != NULL && find_out(outs, n, "notify", "bob@staff.example") != NULL);
	if (a == NULL || a->m == NULL) {
		outs_clear(outs, n);
		return id;
	}
	test_assert_str(a->m->from.address, "support@example.test");
	test_assert_str(a->m->from.name, "Example Support");
	test_assert(a->m->to.count == 1 && strcmp(a->m->to.items[0].address,
						  "alice@staff.example") == 0);
	test_assert(signed_for(reply_to(a), id, THREAD_ROLE_AGENT));
	test_assert(!signed_for(reply_to(a), id, THREAD_ROLE_CUSTOMER));
	char tag[64];
	snprintf(tag, sizeof(tag), "[Support #%lld]", (long long)id);
	test_assert(scontains(a->m->subject, tag));
	test_assert(scontains(a->m->subject, "充值未到账"));
	test_assert_str(header(a, "Auto-Submitted"), "auto-generated");
	test_assert(header(a, "X-Deskgate-Loop") != NULL);
	test_assert_str(a->m->in_reply_to, customer_msgid);
	/* The summary block first, then the customer's text. */
	const char *text = a->m->text != NULL ? a->m->text : "";
	char want[128];
	snprintf(want, sizeof(want), "Ticket:       #%lld %s", (long long)id, tag);
	test_assert(scontains(text, want));
	test_assert(scontains(text, "Category:     delayed_payment"));
	test_assert(scontains(text, "Priority:     normal"));
	test_assert(scontains(text, "Queue:        payments (category)"));
	test_assert(scontains(text, "order_id: ORD123456"));
	test_assert(scontains(text, "Rules fired:  order-id, deposit"));
	test_assert(scontains(text, "History:      no earlier tickets"));
	test_assert(scontains(text, "Respond by:   ") && scontains(text, "+0800 (Asia/Shanghai)"));
	test_assert(scontains(text, "Attachments:  screenshot.png (image/png"));
	test_assert(scontains(text, "王小明 <wang@customer.example>"));
	const char *summary = strstr(text, "Ticket:");
	const char *body = strstr(text, "我昨天充值的USDT");
	test_assert(summary != NULL && body != NULL && summary < body);
	/* The screenshot, read back from the store, byte for byte. */
	test_assert_int(a->m->n_attachments, 1);
	if (a->m->n_attachments == 1) {
		test_assert_str(a->m->attachments[0].filename, "screenshot.png");
		test_assert_str(a->m->attachments[0].content_type, "image/png");
		test_assert(a->m->attachments[0].size > sizeof(png_head) &&
			    memcmp(a->m->attachments[0].data, png_head, sizeof(png_head)) == 0);
	}
	test_assert(desk_has_event(store, id, "notify", "alice@staff.example"));
	struct store_ticket *t = ticket(id);
	test_assert(t != NULL && t->queue != NULL && strcmp(t->queue, "payments") == 0);
	test_assert(t != NULL && t->due_at > NOW);
	test_assert(t != NULL && t->first_response_at == 0 && t->assignee == NULL);
	store_ticket_free(&t);

	n_alice = *a;
	a->o = NULL;
	a->m = NULL;
	outs_clear(outs, n);

	test_begin("new ticket: history, VIP queue, all agents");
	mail = make_mail("wang@customer.example", "support@example.test", "", "Another question",
			 "How do I change my password?\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	a = find_out(outs, n, "notify", "bob@staff.example"); /* other -> general: bob */
	test_assert(a != NULL && count_kind(outs, n, "notify") == 1);
	snprintf(want, sizeof(want), "1 earlier ticket: #%lld (", (long long)id);
	test_assert(a != NULL && scontains(a->m->text, want));
	outs_clear(outs, n);

	mail = make_mail("Boss <boss@vip.example>", "support@example.test", "", "Deposit question",
			 "My deposit is late.\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	/* The rules' category says payments, the VIP sender goes to vip: carol. */
	test_assert_int(count_kind(outs, n, "notify"), 1);
	a = find_out(outs, n, "notify", "carol@staff.example");
	test_assert(a != NULL && scontains(a->m->text, "Queue:        vip (VIP sender)"));
	test_assert(a != NULL && scontains(a->m->text, "Priority:     high"));
	outs_clear(outs, n);
	return id;
}

static void
test_relay(int64_t id)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;

	test_begin("agent reply: relayed to the customer");
	if (n_alice.m == NULL)
		return;
	char *mail = agent_reply(
		"Alice Agent <alice@staff.example>", &n_alice,
		"您好，我们已经查到您的充值，预计一小时内到账。\n\nBest regards,\nAlice\n\n"
		"-- \nAlice Agent | alice@staff.example | +1 555 0100\n\n"
		"On Tue, Mar 11, 2025 at 10:00 AM Example Support <support@example.test> wrote:\n"
		"> New ticket #1 from 王小明 <wang@customer.example>\n> \n"
		"> Ticket:       #1 [Support #1]\n> 你好，我昨天充值的USDT还没有到账\n",
		"", "receipt.pdf");
	test_assert_int(ingest_text(mail, &res), 0);
	char *agent_msgid = xstrndup(strstr(mail, "Message-ID: <") + 13,
				     strcspn(strstr(mail, "Message-ID: <") + 13, ">"));
	free(mail);
	test_assert_int(res.outcome, INGEST_APPENDED);
	test_assert_int(res.ticket_id, id);
	test_assert_int(res.ack_outbox_id, 0);

	struct store_message *msgs;
	size_t nm;
	struct store_message *m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "agent") == 0);
	test_assert(m != NULL && scontains(m->text, "预计一小时内到账") && scontains(m->text, "Alice"));
	test_assert(m != NULL && !scontains(m->text, "wrote:") && !scontains(m->text, "> ") &&
		    !scontains(m->text, "+1 555"));
	store_messages_free(&msgs, nm);

	n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "relay"), 1);
	struct out *r = find_out(outs, n, "relay", "wang@customer.example");
	test_assert(r != NULL && r->m != NULL);
	if (r != NULL && r->m != NULL) {
		test_assert(scontains(r->o->recipients, "li@customer.example"));
		test_assert_str(r->m->from.address, "support@example.test");
		test_assert_str(r->m->from.name, "Example Support");
		test_assert(r->m->to.count == 1 &&
			    strcmp(r->m->to.items[0].address, "wang@customer.example") == 0);
		test_assert(r->m->cc.count == 1 &&
			    strcmp(r->m->cc.items[0].address, "li@customer.example") == 0);
		test_assert(signed_for(reply_to(r), id, THREAD_ROLE_CUSTOMER));
		char want[128];
		snprintf(want, sizeof(want), "Re: [Support #%lld] 充值未到账", (long long)id);
		test_assert_str(r->m->subject, want);
		test_assert_str(r->m->in_reply_to, customer_msgid);
		test_assert(r->m->n_references >= 1 &&
			    strcmp(r->m->references[r->m->n_references - 1], customer_msgid) == 0);
		test_assert(header(r, "Auto-Submitted") == NULL);
		/* Only the new text; no quoted notification, no signature. */
		test_assert(scontains(r->m->text, "预计一小时内到账"));
		test_assert(!scontains(r->m->text, "New ticket") && !scontains(r->m->text, "wrote:") &&
			    !scontains(r->m->text, "Ticket:"));
		/* The agent's address appears nowhere in the bytes sent. */
		test_assert(!contains(r->o->raw, r->o->raw_size, "alice@"));
		test_assert(!contains(r->o->raw, r->o->raw_size, "staff.example"));
		test_assert(!contains(r->o->raw, r->o->raw_size, agent_msgid));
		test_assert_int(r->m->n_attachments, 1);
		if (r->m->n_attachments == 1)
			test_assert_str(r->m->attachments[0].filename, "receipt.pdf");
	}
	/* The other agents of the queue learn it was answered; not Alice. */
	struct out *nb = find_out(outs, n, "notice", "bob@staff.example");
	test_assert(nb != NULL && scontains(nb->m->text, "answered by Alice Agent"));
	test_assert(find_out(outs, n, "notice", "alice@") == NULL);
	test_assert(find_out(outs, n, "notice", "carol@") == NULL);
	test_assert(nb != NULL && signed_for(reply_to(nb), id, THREAD_ROLE_AGENT));
	test_assert_int(count_kind(outs, n, "error"), 0);

	struct store_ticket *t = ticket(id);
	test_assert(t != NULL && t->first_response_at == NOW);
	test_assert(t != NULL && t->assignee != NULL &&
		    strcmp(t->assignee, "alice@staff.example") == 0);
	test_assert(t != NULL && strcmp(t->status, "open") == 0);
	store_ticket_free(&t);
	test_assert(desk_has_event(store, id, "relay", "alice@staff.example"));
	test_assert(desk_has_event(store, id, "notice", "bob@staff.example"));

	test_begin("customer replies to the relay: assignee notified");
	char *relay_id = r != NULL ? xstrdup(r->o->message_id) : xstrdup("none@x");
	char *reply_addr = r != NULL ? xstrdup(reply_to(r)) : xstrdup("support@example.test");
	outs_clear(outs, n);
	char *hdrs = xasprintf("In-Reply-To: <%s>\nReferences: <%s> <%s>\n", relay_id,
			       customer_msgid, relay_id);
	mail = make_mail("王小明 <wang@customer.example>", reply_addr, hdrs,
			 "Re: [Support #1] 充值未到账", "谢谢，已经收到了。\n\n> 预计一小时内到账\n", 0,
			 NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	free(hdrs);
	test_assert_int(res.outcome, INGEST_APPENDED);
	test_assert_int(res.ticket_id, id);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "notify"), 1);
	struct out *f = find_out(outs, n, "notify", "alice@staff.example");
	test_assert(f != NULL && scontains(f->m->text, "谢谢，已经收到了") &&
		    !scontains(f->m->text, "> 预计"));
	test_assert(f != NULL && signed_for(reply_to(f), id, THREAD_ROLE_AGENT));
	test_assert_int(count_kind(outs, n, "relay"), 0);
	outs_clear(outs, n);
	free(relay_id);
	free(reply_addr);
	free(agent_msgid);

	test_begin("second relay continues the customer's newest message");
	mail = agent_reply("alice@staff.example", &n_alice, "Glad to hear it.\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	r = find_out(outs, n, "relay", NULL);
	test_assert(r != NULL && r->m->in_reply_to != NULL &&
		    strcmp(r->m->in_reply_to, customer_msgid) != 0);
	test_assert(r != NULL && r->m->n_references >= 2);
	t = ticket(id);
	test_assert(t != NULL && t->first_response_at == NOW); /* kept: the first one */
	store_ticket_free(&t);
	outs_clear(outs, n);
}

static void
test_commands(int64_t id)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	struct store_message *msgs;
	size_t nm;
	struct store_message *m;
	struct store_ticket *t;

	test_begin("#note: stored, not relayed");
	char *mail = agent_reply("Bob Agent <bob@staff.example>", &n_alice,
				 "#note customer called us too\nCheck the chain later.\n\n"
				 "On Tue, Alice wrote:\n> quoted\n",
				 "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.ticket_id, id);
	m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "note") == 0);
	test_assert(m != NULL && scontains(m->text, "customer called us too") &&
		    scontains(m->text, "Check the chain later.") && !scontains(m->text, "quoted"));
	store_messages_free(&msgs, nm);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(n, 0);
	outs_clear(outs, n);
	test_assert(desk_has_event(store, id, "note", "internal note by bob@staff.example"));

	test_begin("commands: priority, category, assign, queue; relayed");
	mail = agent_reply("alice@staff.example", &n_alice,
			   "#priority high\n#category failed_trade\n#assign bob@staff.example\n"
			   "#queue general\n\nWe have escalated your case.\n",
			   "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	t = ticket(id);
	test_assert(t != NULL && strcmp(t->priority, "high") == 0);
	test_assert(t != NULL && strcmp(t->category, "failed_trade") == 0);
	test_assert(t != NULL && t->assignee != NULL && strcmp(t->assignee, "bob@staff.example") == 0);
	test_assert(t != NULL && t->queue != NULL && strcmp(t->queue, "general") == 0);
	test_assert(t != NULL && strcmp(t->status, "open") == 0);
	store_ticket_free(&t);
	m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "agent") == 0);
	test_assert_str(m != NULL ? m->text : NULL, "We have escalated your case.");
	store_messages_free(&msgs, nm);
	n = new_outbox(outs, MAXOUT);
	struct out *r = find_out(outs, n, "relay", NULL);
	test_assert(r != NULL && scontains(r->m->text, "We have escalated your case.") &&
		    !scontains(r->m->text, "#priority") && !scontains(r->m->text, "#assign"));
	test_assert(r != NULL && !contains(r->o->raw, r->o->raw_size, "staff.example"));
	/* Bob was assigned: told so (and, as the new assignee, noticed). */
	struct out *as = find_out(outs, n, "notify", "bob@staff.example");
	test_assert(as != NULL && scontains(as->m->text, "assigned to you by Alice Agent"));
	test_assert(as != NULL && scontains(as->m->subject, "Assigned: "));
	/* The deposit rule fired on two messages: listed once. */
	test_assert(as != NULL && scontains(as->m->text, "Rules fired:  order-id, deposit\n"));
	test_assert(find_out(outs, n, "notice", "bob@staff.example") != NULL);
	outs_clear(outs, n);
	test_assert(desk_has_event(store, id, "agent", "#priority by alice@staff.example: priority normal -> high"));
	test_assert(desk_has_event(store, id, "agent", "#assign"));

	test_begin("unknown command: error mailed back, nothing applied or relayed");
	static const struct {
		const char *text;
		const char *error;
	} bad[] = {
		{ "#clsoe\nThanks for waiting, all done.\n", "unknown command" },
		{ "#priority high\n#queue nosuch\n\nHello.\n", "#queue nosuch: no such queue" },
		{ "#category nosuch\nHello.\n", "no such category" },
		{ "#assign mallory@evil.example\nHello.\n", "not a configured agent" },
		{ "#priority whenever\nHello.\n", "#priority" },
		{ "\n\nOn Tue, Bob wrote:\n> only a quote\n", "empty" },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		mail = agent_reply("alice@staff.example", &n_alice, bad[i].text, "", NULL);
		test_assert_int(ingest_text(mail, &res), 0);
		free(mail);
		n = new_outbox(outs, MAXOUT);
		test_assert_int(count_kind(outs, n, "relay"), 0);
		test_assert_int(count_kind(outs, n, "notice"), 0);
		test_assert_int(n, 1);
		struct out *e = find_out(outs, n, "error", "alice@staff.example");
		test_assert(e != NULL && scontains(e->m->text, bad[i].error));
		test_assert(e != NULL && scontains(e->m->text, "NOT applied"));
		test_assert(e != NULL && signed_for(reply_to(e), id, THREAD_ROLE_AGENT));
		test_assert(e != NULL && header(e, "Auto-Submitted") != NULL);
		if (e == NULL)
			printf("  case %zu: %s\n", i, bad[i].text);
		outs_clear(outs, n);
		m = last_message(id, &msgs, &nm);
		test_assert(m != NULL && strcmp(m->direction, "note") == 0);
		store_messages_free(&msgs, nm);
		t = ticket(id);
		test_assert(t != NULL && strcmp(t->priority, "high") == 0 &&
			    strcmp(t->queue, "general") == 0 && strcmp(t->status, "open") == 0);
		store_ticket_free(&t);
	}

	test_begin("#close alone: closed, nothing relayed");
	mail = agent_reply("bob@staff.example", &n_alice, "#close\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	t = ticket(id);
	test_assert(t != NULL && strcmp(t->status, "closed") == 0);
	store_ticket_free(&t);
	/* issue 13: nothing relayed, only the closing notice to the customer */
	n = new_outbox(outs, MAXOUT);
	test_assert_int(n, 1);
	test_assert_int(count_kind(outs, n, "relay"), 0);
	test_assert(find_out(outs, n, "notice", "wang@customer.example") != NULL);
	outs_clear(outs, n);
	m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "note") == 0 && scontains(m->text, "#close"));
	store_messages_free(&msgs, nm);

	test_begin("#reopen, then #close with a last word: relayed and closed");
	mail = agent_reply("bob@staff.example", &n_alice, "#reopen\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	t = ticket(id);
	test_assert(t != NULL && strcmp(t->status, "open") == 0);
	store_ticket_free(&t);
	mail = agent_reply("bob@staff.example", &n_alice, "#Close\nThis is resolved, goodbye.\n", "",
			   NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	t = ticket(id);
	test_assert(t != NULL && strcmp(t->status, "closed") == 0);
	store_ticket_free(&t);
	n = new_outbox(outs, MAXOUT);
	r = find_out(outs, n, "relay", "wang@customer.example");
	test_assert(r != NULL && scontains(r->m->text, "This is resolved, goodbye."));
	outs_clear(outs, n);
}

/* #queue on an unassigned ticket: the new queue's agents are told. */
static void
test_queue_move(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;

	test_begin("#queue: the new queue's other agents are told");
	char *to = thread_reply_address(tc, 2, THREAD_ROLE_AGENT);
	char *mail = make_mail("alice@staff.example", to, "", "Re: [Support #2] Another question",
			       "#queue payments\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	free(to);
	test_assert_int(res.ticket_id, 2);
	struct store_ticket *t = ticket(2);
	test_assert(t != NULL && t->queue != NULL && strcmp(t->queue, "payments") == 0);
	test_assert(t != NULL && t->assignee == NULL && t->first_response_at == 0);
	store_ticket_free(&t);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(n, 1);
	struct out *mv = find_out(outs, n, "notify", "bob@staff.example");
	test_assert(mv != NULL && scontains(mv->m->subject, "Moved: ") &&
		    scontains(mv->m->text, "moved to your queue by Alice Agent"));
	outs_clear(outs, n);
}

/* The mail just ingested sent nothing to the customer of ticket 1. */
static void
nothing_to_customer(struct out *outs)
{
	size_t n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "relay"), 0);
	for (size_t i = 0; i < n; i++)
		test_assert(!scontains(outs[i].o->recipients, "wang@customer.example"));
	outs_clear(outs, n);
}

static void
test_untrusted(int64_t id)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	struct store_message *msgs;
	size_t nm;
	struct store_message *m;

	test_begin("forged agent From without the agent address: a customer's, never relayed");
	char *hdrs = xasprintf("In-Reply-To: <%s>\n", n_alice.o->message_id);
	char *mail = make_mail("Alice Agent <alice@staff.example>", "support@example.test", hdrs,
			       "Re: [Support #1] 充值未到账",
			       "#close\nPlease send your password to verify.\n", 0, NULL);
	free(hdrs);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	test_assert(res.ticket_id != id);
	m = last_message(res.ticket_id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "in") == 0);
	store_messages_free(&msgs, nm);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "relay"), 0);
	test_assert(find_out(outs, n, "notice", NULL) == NULL);
	for (size_t i = 0; i < n; i++)
		test_assert(!scontains(outs[i].o->recipients, "wang@customer.example"));
	outs_clear(outs, n);
	test_assert(desk_has_event(store, res.ticket_id, "security", "alice@staff.example"));
	struct store_ticket *t = ticket(id);
	test_assert(t != NULL && strcmp(t->status, "closed") == 0); /* untouched */
	store_ticket_free(&t);

	test_begin("a stranger at the agent reply address: never relayed");
	mail = agent_reply("Mallory <mallory@evil.example>", &n_alice,
			   "#reopen\nHello customer, please pay here.\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert(res.ticket_id != id);
	nothing_to_customer(outs);

	test_begin("From: \"<agent>\"@evil.example at the agent address: never agent mail");
	mail = agent_reply("\"<alice@staff.example>\"@evil.example", &n_alice,
			   "#close\nPlease confirm your seed phrase here.\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
	test_assert(res.ticket_id != id);
	nothing_to_customer(outs);
	test_assert(desk_has_event(store, res.ticket_id, "security", NULL));

	test_begin("an agent's automatic reply: a note, nothing sent");
	mail = agent_reply("alice@staff.example", &n_alice,
			   "I am out of the office until Monday.\n",
			   "Auto-Submitted: auto-replied\n", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.ticket_id, id);
	m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "note") == 0);
	store_messages_free(&msgs, nm);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(n, 0);
	outs_clear(outs, n);
}

/* Issue 15: #reply NAME answers with a canned reply in the customer's
   language (ticket 1 is in Chinese), alone or below the agent's text;
   unknown names, bad names, broken templates and #reply with #note are
   errors mailed back with nothing relayed; a stranger's #reply is never
   agent mail. */
static void
test_canned(int64_t id)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	struct store_message *msgs;
	size_t nm;
	struct store_message *m;

	test_begin("#reply NAME alone: the canned reply in the customer's language");
	char *mail = agent_reply("alice@staff.example", &n_alice,
				 "#reply deposit_not_arrived\n\nOn Tue, Wang wrote:\n> 还没到账\n", "",
				 NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.ticket_id, id);
	n = new_outbox(outs, MAXOUT);
	struct out *r = find_out(outs, n, "relay", "wang@customer.example");
	test_assert(r != NULL && scontains(r->m->text, "充值需在区块链网络达到规定的确认数"));
	test_assert(r != NULL && scontains(r->m->text, "工单 #1 中的充值"));
	test_assert(r != NULL && scontains(r->m->text, "\nAlice Agent\nExample Support"));
	test_assert(r != NULL && !scontains(r->m->text, "#reply") &&
		    !scontains(r->m->text, "{{") && !scontains(r->m->text, "还没到账"));
	test_assert(r != NULL && !contains(r->o->raw, r->o->raw_size, "staff.example"));
	outs_clear(outs, n);
	m = last_message(id, &msgs, &nm);
	test_assert(m != NULL && strcmp(m->direction, "agent") == 0 &&
		    scontains(m->text, "充值需在区块链网络"));
	store_messages_free(&msgs, nm);
	test_assert(desk_has_event(store, id, "relay", "canned reply "));
	test_assert(desk_has_event(store, id, "relay", "replies/deposit_not_arrived.zh-CN.txt"));

	test_begin("#reply NAME below the agent's own text; the admin's reply, en fallback");
	mail = agent_reply("Alice Agent <alice@staff.example>", &n_alice,
			   "我们已加急处理。\n\n#Reply Custom_Only\n", "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	r = find_out(outs, n, "relay", "wang@customer.example");
	test_assert(r != NULL &&
		    scontains(r->m->text, "我们已加急处理。\n\nCustom answer for #1 by Alice Agent."));
	outs_clear(outs, n);
	test_assert(desk_has_event(store, id, "relay", "tpl/replies/custom_only.en.txt"));

	static const struct {
		const char *name, *text, *reason;
	} bad[] = {
		{ "unknown canned reply", "#reply no_such_answer\n",
		  "#reply no_such_answer: no such canned reply (known: account_unlocked, broken, "
		  "custom_only, deposit_not_arrived" },
		{ "a path as the name", "#reply ../../../etc/passwd\n", "#reply takes one name" },
		{ "a dotted name", "#reply deposit.zh-CN\n", "no such canned reply" },
		{ "missing name", "#reply\n", "#reply takes one name" },
		{ "given twice", "#reply account_unlocked\n#reply phishing_warning\n",
		  "#reply given twice" },
		{ "with #note", "#note check\n#reply account_unlocked\n", "use one of them" },
		{ "a template that does not render", "Hello\n#reply broken\n",
		  "#reply broken: the canned reply does not render: " },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		char *label = xasprintf("#reply error: %s: mailed back, nothing relayed", bad[i].name);
		test_begin(label);
		mail = agent_reply("alice@staff.example", &n_alice, bad[i].text, "", NULL);
		test_assert_int(ingest_text(mail, &res), 0);
		free(mail);
		test_assert_int(res.ticket_id, id);
		n = new_outbox(outs, MAXOUT);
		test_assert_int(count_kind(outs, n, "relay"), 0);
		struct out *e = find_out(outs, n, "error", "alice@staff.example");
		test_assert(e != NULL && scontains(e->m->text, bad[i].reason));
		if (e != NULL && !scontains(e->m->text, bad[i].reason))
			printf("error mail: %s\n", e->m->text);
		outs_clear(outs, n);
		free(label);
	}

	test_begin("#reply from a stranger at the agent address: never relayed");
	mail = agent_reply("Mallory <mallory@evil.example>", &n_alice, "#reply account_unlocked\n",
			   "", NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert(res.ticket_id != id);
	nothing_to_customer(outs);
}

/* The desk by mail (issue 15): a request to the support address answered
   with a list mailed to the agent's configured address, no ticket. */
static struct out
desk_request(const char *from, const char *text, const char *extra_headers, int64_t now)
{
	struct ingest_result res;
	struct out outs[MAXOUT], got = { 0 };
	int64_t before = 0, after = 0;
	const char *error;
	(void)store_ticket_count(store, &before, &error);
	char *mail = make_mail(from, "support@example.test", extra_headers, "desk", text, 0, NULL);
	ingest_set_now(ingest, now);
	test_assert_int(ingest_text(mail, &res), 0);
	ingest_set_now(ingest, NOW);
	free(mail);
	(void)store_ticket_count(store, &after, &error);
	test_assert_int(res.outcome, INGEST_REPORT);
	test_assert(after == before);
	size_t n = new_outbox(outs, MAXOUT);
	test_assert(n <= 1);
	for (size_t i = 0; i < n; i++) {
		test_assert_str(outs[i].o->kind, "desk");
		if (i == 0 && strcmp(outs[i].o->kind, "desk") == 0) {
			got = outs[i];
			continue;
		}
		out_clear(&outs[i]);
	}
	return got;
}

/* The "answer:" address of ticket id in a list, or NULL (caller frees). */
static char *
list_address(const char *text, int64_t id)
{
	char *head = xasprintf("\n#%lld  ", (long long)id);
	const char *p = text != NULL ? strstr(text, head) : NULL;
	free(head);
	if (p == NULL || (p = strstr(p, "answer: ")) == NULL)
		return NULL;
	p += strlen("answer: ");
	return xstrndup(p, strcspn(p, "\n"));
}

/* A new mail to the support address; its outcome (*ticket_r the ticket). */
static enum ingest_outcome
mail_support(const char *from, const char *subject, const char *text, int64_t *ticket_r)
{
	struct ingest_result res;
	char *mail = make_mail(from, "support@example.test", "", subject, text, 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	*ticket_r = res.ticket_id;
	return res.outcome;
}

static void
test_desk(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	char *mail;

	/* two fresh tickets: a deposit (payments) and a question (general) */
	int64_t t1, t2, other;
	(void)mail_support("Pay Er <payer@customer.example>", "Deposit missing",
			   "My deposit is missing.\n", &t1);
	(void)mail_support("Ask Er <asker@customer.example>", "A question about fees",
			   "How much is the fee?\n", &t2);
	n = new_outbox(outs, MAXOUT);
	struct out *nb = find_out(outs, n, "notify", "bob@staff.example");
	test_assert(nb != NULL);
	/* Bob takes the deposit ticket */
	if (nb != NULL) {
		mail = agent_reply("bob@staff.example", nb, "#assign bob\nWe are looking into it.\n",
				   "", NULL);
		test_assert_int(ingest_text(mail, &res), 0);
		free(mail);
	}
	outs_clear(outs, n);
	n = new_outbox(outs, MAXOUT);
	outs_clear(outs, n);

	test_begin("desk: #my lists the agent's open tickets with their answer addresses");
	struct out l = desk_request("Bob Agent <bob@staff.example>", "#my\n\n-- \nBob\n", "",
				    NOW + 60);
	test_assert(l.o != NULL && strcmp(l.o->recipients, "bob@staff.example") == 0);
	test_assert(l.m != NULL && scontains(l.m->subject, "#my: ") &&
		    scontains(l.m->subject, "assigned to bob@staff.example"));
	char *addr = list_address(l.m != NULL ? l.m->text : NULL, t1);
	test_assert(signed_for(addr, t1, THREAD_ROLE_AGENT));
	test_assert(l.m != NULL && scontains(l.m->text, "Deposit missing") &&
		    scontains(l.m->text, "payer@customer.example"));
	test_assert(l.m != NULL && !scontains(l.m->text, "A question about fees"));
	test_assert(l.m != NULL && !scontains(l.m->text, "\n#1  ")); /* closed */
	test_assert(header(&l, "In-Reply-To") != NULL);
	test_assert(desk_has_event(store, 0, "desk", "desk request #my by bob@staff.example: "));
	out_clear(&l);

	test_begin("desk: answering from the list is an agent's reply to that ticket");
	if (addr != NULL) {
		mail = make_mail("bob@staff.example", addr, "", "Re: Deposit missing",
				 "It has arrived now.\n", 0, NULL);
		test_assert_int(ingest_text(mail, &res), 0);
		free(mail);
		test_assert_int(res.ticket_id, t1);
		n = new_outbox(outs, MAXOUT);
		struct out *r = find_out(outs, n, "relay", "payer@customer.example");
		test_assert(r != NULL && scontains(r->m->text, "It has arrived now."));
		outs_clear(outs, n);
	}
	free(addr);

	test_begin("desk: #queue NAME");
	l = desk_request("alice@staff.example", "#Queue General\n", "", NOW + 60);
	test_assert(l.o != NULL && strcmp(l.o->recipients, "alice@staff.example") == 0);
	test_assert(l.m != NULL && scontains(l.m->subject, "#queue general: "));
	addr = list_address(l.m != NULL ? l.m->text : NULL, t2);
	test_assert(signed_for(addr, t2, THREAD_ROLE_AGENT));
	free(addr);
	test_assert(l.m != NULL && !scontains(l.m->text, "Deposit missing"));
	out_clear(&l);

	test_begin("desk: #overdue (the promised first answer passed, none given)");
	l = desk_request("carol@staff.example", "#overdue\n", "", NOW + 7 * 86400);
	test_assert(l.m != NULL && scontains(l.m->text, "A question about fees") &&
		    scontains(l.m->text, "OVERDUE"));
	test_assert(l.m != NULL && !scontains(l.m->text, "Deposit missing")); /* answered */
	out_clear(&l);
	l = desk_request("carol@staff.example", "#overdue\n", "", NOW + 60);
	test_assert(l.m != NULL && scontains(l.m->text, "Nothing: no open ticket matches."));
	out_clear(&l);

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "#queue nosuch\n", "#queue nosuch: no such queue" },
		{ "#queue\n", "#queue takes one name" },
		{ "#my tickets\n", "#my takes no argument" },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		char *label = xasprintf("desk: bad request %.20s: an error mail, no ticket", bad[i].text);
		test_begin(label);
		l = desk_request("alice@staff.example", bad[i].text, "", NOW + 60);
		test_assert(l.o != NULL && strcmp(l.o->recipients, "alice@staff.example") == 0);
		test_assert(l.m != NULL && scontains(l.m->text, bad[i].why));
		out_clear(&l);
		free(label);
	}

	test_begin("desk: a forged request (authentication fails): nothing mailed, no ticket");
	l = desk_request("bob@staff.example", "#my\n",
			 "Authentication-Results: desk.example.test; dmarc=fail "
			 "header.from=staff.example\n",
			 NOW + 60);
	test_assert(l.o == NULL);
	test_assert(desk_has_event(store, 0, "desk", "not answered (security)"));
	out_clear(&l);

	static const struct {
		const char *name, *from, *text;
	} tickets[] = {
		{ "a stranger's #my", "Mallory <mallory@evil.example>", "#my\n" },
		{ "an agent's #close (commands belong in replies)", "alice@staff.example",
		  "#close\n" },
		{ "an agent's ordinary mail", "alice@staff.example",
		  "I cannot log in to my own account.\n" },
	};
	for (size_t i = 0; i < N_ELEMENTS(tickets); i++) {
		char *label = xasprintf("desk: %s to the support address: a ticket, no list",
					tickets[i].name);
		test_begin(label);
		test_assert_int(mail_support(tickets[i].from, "desk", tickets[i].text, &other),
				INGEST_NEW_TICKET);
		n = new_outbox(outs, MAXOUT);
		test_assert(find_out(outs, n, "notice", "@staff.example") == NULL);
		outs_clear(outs, n);
		free(label);
	}
}

/* Issue 15: while a ticket is unassigned, a customer's follow-up goes to
   every agent of its queue (payments: alice and bob), not to nobody; once
   assigned, to the assignee alone. */
static void
test_unassigned_followup(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	int64_t id;

	(void)mail_support("Fu Lo <fulo@customer.example>", "Deposit still missing",
			   "My deposit of 20 USDT is missing.\n", &id);
	outs_clear(outs, new_outbox(outs, MAXOUT));
	char *cust = thread_reply_address(tc, id, THREAD_ROLE_CUSTOMER);
	char *mail = make_mail("Fu Lo <fulo@customer.example>", cust, "", "Re: Deposit still missing",
			       "Any news about my deposit?\n", 0, NULL);
	test_begin("unassigned follow-up: every agent of the queue");
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	struct out *fa = find_out(outs, n, "notify", "alice@staff.example");
	struct out *fb = find_out(outs, n, "notify", "bob@staff.example");
	test_assert(fa != NULL && scontains(fa->m->text, "Any news about my deposit?"));
	test_assert(fb != NULL && scontains(fb->m->text, "Any news about my deposit?"));
	test_assert(find_out(outs, n, "notify", "carol@staff.example") == NULL);
	test_assert_int(count_kind(outs, n, "notify"), 2);
	outs_clear(outs, n);
	free(cust);
}

/* Issue 15: #assign hands over the whole ticket: every customer mail,
   answer and note in order without quotes, and every attachment. */
static void
test_handover(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;
	int64_t id;

	char *mail = make_mail("Li Lei <lilei@customer.example>", "support@example.test", "",
			       "Withdrawal blocked", "My withdrawal is blocked, screenshot attached.\n",
			       1, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	id = res.ticket_id;
	char *cust = thread_reply_address(tc, id, THREAD_ROLE_CUSTOMER);
	char *agt = thread_reply_address(tc, id, THREAD_ROLE_AGENT);
	mail = make_mail("Li Lei <lilei@customer.example>", cust, "", "Re: Withdrawal blocked",
			 "Here is my bank statement.\n\nOn Tue, Support wrote:\n> Please send "
			 "a statement.\n",
			 0, "statement.pdf");
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	mail = make_mail("alice@staff.example", agt, "", "Re: Withdrawal blocked",
			 "#note the statement looks genuine\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	mail = make_mail("alice@staff.example", agt, "", "Re: Withdrawal blocked",
			 "We are checking your statement.\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_begin("agents' mail about a ticket is one thread: notifications, answered notices");
	char *root = xasprintf("<dg-ticket.%lld.agents@desk.example.test>", (long long)id);
	n = new_outbox(outs, MAXOUT);
	size_t agent_side = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(outs[i].o->kind, "notify") != 0 && strcmp(outs[i].o->kind, "notice") != 0)
			continue;
		agent_side++;
		test_assert(scontains(header(&outs[i], "References"), root));
	}
	test_assert(count_kind(outs, n, "notify") >= 2 && count_kind(outs, n, "notice") >= 1);
	test_assert(agent_side >= 3);
	outs_clear(outs, n);

	test_begin("handover: the new assignee gets the whole ticket and its attachments");
	mail = make_mail("alice@staff.example", agt, "", "Re: Withdrawal blocked",
			 "#assign carol\n#note Carol, please take over, I am away.\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	struct out *h = find_out(outs, n, "notify", "carol@staff.example");
	const char *text = h != NULL ? h->m->text : NULL;
	test_assert(scontains(text, "assigned to you by Alice Agent"));
	const char *order[] = { "from Li Lei <lilei@customer.example>",
				"My withdrawal is blocked, screenshot attached.",
				"Here is my bank statement.",
				"internal note by", "the statement looks genuine",
				"answer to the customer by", "We are checking your statement.",
				"Carol, please take over, I am away." };
	const char *at = text;
	for (size_t i = 0; i < N_ELEMENTS(order); i++) {
		const char *p = at != NULL ? strstr(at, order[i]) : NULL;
		test_assert(p != NULL);
		if (p == NULL)
			printf("not found in order: %s\n", order[i]);
		at = p != NULL ? p : at;
	}
	test_assert(!scontains(text, "Please send a statement")); /* quoted */
	test_assert(!scontains(text, "#assign carol"));
	test_assert(h != NULL && scontains(header(h, "References"), root));
	test_assert(h != NULL && h->m->n_attachments == 2);
	for (size_t i = 0; h != NULL && i < h->m->n_attachments; i++)
		test_assert(strcmp(h->m->attachments[i].filename, "screenshot.png") == 0 ||
			    strcmp(h->m->attachments[i].filename, "statement.pdf") == 0);
	for (size_t i = 0; h != NULL && i < h->m->n_attachments; i++)
		if (strcmp(h->m->attachments[i].filename, "screenshot.png") == 0)
			test_assert(h->m->attachments[i].size >= sizeof(png_head) &&
				    memcmp(h->m->attachments[i].data, png_head, sizeof(png_head)) == 0);
	outs_clear(outs, n);

	test_begin("#history: the whole ticket to the agent who asked, nothing else sent");
	mail = make_mail("bob@staff.example", agt, "", "Re: Withdrawal blocked", "#history\n", 0,
			 NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(n, 1);
	h = find_out(outs, n, "notify", "bob@staff.example");
	test_assert(h != NULL && scontains(h->m->subject, "History: "));
	test_assert(h != NULL && scontains(h->m->text, "Here is my bank statement.") &&
		    scontains(h->m->text, "Carol, please take over"));
	test_assert(h != NULL && h->m->n_attachments == 2);
	test_assert(h != NULL && scontains(header(h, "References"), root));
	outs_clear(outs, n);

	/* Issue 15: above [limits] max_handover_attachments the attachments
	   are listed, with #attachments to get them, not attached. (Carol asks:
	   mail to Bob here would count against his rate for the tests below.) */
	test_begin("handover over the attachment cap: listed with #attachments, not attached");
	uint64_t cap = config->limits.max_handover_attachments;
	config->limits.max_handover_attachments = 8;
	mail = make_mail("carol@staff.example", agt, "", "Re: Withdrawal blocked", "#history\n", 0,
			 NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	config->limits.max_handover_attachments = cap;
	n = new_outbox(outs, MAXOUT);
	h = find_out(outs, n, "notify", "carol@staff.example");
	test_assert(h != NULL && h->m->n_attachments == 0);
	test_assert(h != NULL && scontains(h->m->text, "screenshot.png") &&
		    scontains(h->m->text, "statement.pdf"));
	test_assert(h != NULL && scontains(h->m->text, "reply with #attachments to get it"));
	outs_clear(outs, n);
	mail = make_mail("carol@staff.example", agt, "", "Re: Withdrawal blocked", "#attachments\n",
			 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	h = find_out(outs, n, "notify", "carol@staff.example");
	test_assert(h != NULL && h->m->n_attachments == 2);
	outs_clear(outs, n);

	/* The relay counts the mail's bytes, base64 and all: a 9,000-byte
	   file is ~12,300 on the wire, so under max_message_size = 12,000 it
	   is listed, not attached, and the mail stays under the limit (the
	   file size alone fitted, and the mail went out 13 KB). */
	test_begin("attachments count their base64 size against max_message_size");
	struct buf big;
	buf_init(&big, 1 << 20);
	(void)buf_printf(&big,
			 "From: Li Lei <lilei@customer.example>\nTo: %s\nSubject: Re: Withdrawal "
			 "blocked\nMessage-ID: <big.%d@client.example>\nMIME-Version: 1.0\n"
			 "Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n"
			 "Content-Type: text/plain; charset=utf-8\n\nThe full export.\n--b1\n"
			 "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
			 "filename=\"export.bin\"\nContent-Transfer-Encoding: base64\n\n",
			 cust, (int)getpid());
	for (int i = 0; i < 3000; i++) /* 9,000 bytes of "AAA" */
		(void)buf_puts(&big, (i + 1) % 19 == 0 ? "QUFB\n" : "QUFB");
	(void)buf_puts(&big, "\n--b1--\n");
	test_assert_int(ingest_text(buf_cstr(&big), &res), 0);
	buf_free(&big);
	outs_clear(outs, new_outbox(outs, MAXOUT));
	uint64_t max = config->limits.max_message_size;
	config->limits.max_message_size = 12000;
	const char *asks[] = { "#attachments\n", "#history\n" };
	for (size_t i = 0; i < N_ELEMENTS(asks); i++) {
		mail = make_mail("carol@staff.example", agt, "", "Re: Withdrawal blocked", asks[i],
				 0, NULL);
		test_assert_int(ingest_text(mail, &res), 0);
		free(mail);
		n = new_outbox(outs, MAXOUT);
		h = find_out(outs, n, "notify", "carol@staff.example");
		test_assert(h != NULL && h->o->raw_size <= 12000);
		if (h != NULL && h->o->raw_size > 12000)
			printf("ask %zu: %zu bytes\n", i, h->o->raw_size);
		test_assert(h != NULL && h->m->n_attachments == 2);
		test_assert(h != NULL && scontains(h->m->text, "export.bin"));
		outs_clear(outs, n);
	}
	config->limits.max_message_size = max;
	free(root);
	free(cust);
	free(agt);
}

/* Issue 10.14: commands anywhere in the agent's own text, never relayed;
   signatures cut by the configured text and by the agent's own address;
   #priority urgent; #assign by name. */
static void
test_commands_anywhere(void)
{
	struct ingest_result res;
	struct out outs[MAXOUT];
	size_t n;

	char *mail;
	int64_t id;
	(void)mail_support("Zhou <zhou@customer.example>", "Withdrawal stuck",
			   "My withdrawal is stuck.\n", &id);
	outs_clear(outs, new_outbox(outs, MAXOUT));
	char *to = thread_reply_address(tc, id, THREAD_ROLE_AGENT);
	char *subject = xasprintf("Re: [Support #%lld] Withdrawal stuck", (long long)id);

	test_begin("commands between and below the text: applied, never relayed");
	mail = make_mail("Alice Agent <alice@staff.example>", to, "", subject,
			 "Hello,\n\n#priority urgent\n\nWe found your withdrawal and released it.\n\n"
			 "Best regards,\nAlice\n#assign Bob Agent\n",
			 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	test_assert_int(res.ticket_id, id);
	struct store_ticket *t = ticket(id);
	test_assert(t != NULL && strcmp(t->priority, "urgent") == 0);
	test_assert(t != NULL && t->assignee != NULL && strcmp(t->assignee, "bob@staff.example") == 0);
	store_ticket_free(&t);
	n = new_outbox(outs, MAXOUT);
	struct out *r = find_out(outs, n, "relay", "zhou@customer.example");
	test_assert(r != NULL && r->m != NULL);
	if (r != NULL && r->m != NULL) {
		test_assert(scontains(r->m->text, "We found your withdrawal and released it."));
		test_assert(scontains(r->m->text, "Best regards,\nAlice"));
		test_assert(!scontains(r->m->text, "#") && !scontains(r->m->text, "urgent") &&
			    !scontains(r->m->text, "Bob Agent"));
	}
	test_assert(find_out(outs, n, "notify", "bob@staff.example") != NULL); /* assigned */
	outs_clear(outs, n);

	test_begin("a signature cut by the agent's address, with its sign-off block");
	mail = make_mail("bob@staff.example", to, "", subject,
			 "We will call you today.\n\nThanks,\nBob Agent\nPayments desk, ext. 42\n"
			 "bob@staff.example | +1 555 0142\n",
			 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	r = find_out(outs, n, "relay", "zhou@customer.example");
	test_assert(r != NULL && r->m != NULL && scontains(r->m->text, "We will call you today.") &&
		    scontains(r->m->text, "Thanks,"));
	test_assert(r != NULL && r->m != NULL && !scontains(r->m->text, "ext. 42") &&
		    !scontains(r->m->text, "Bob Agent") && !scontains(r->m->text, "555 0142"));
	test_assert(r != NULL && !contains(r->o->raw, r->o->raw_size, "staff.example"));
	outs_clear(outs, n);

	test_begin("a signature cut by the configured text");
	mail = make_mail("alice@staff.example", to, "", subject,
			 "Your funds are back.\n\nALICE AGENT | Payments\nDirect line +1 555 0100\n", 0,
			 NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	r = find_out(outs, n, "relay", "zhou@customer.example");
	test_assert(r != NULL && r->m != NULL && scontains(r->m->text, "Your funds are back.") &&
		    !scontains(r->m->text, "Payments") && !scontains(r->m->text, "555 0100"));
	outs_clear(outs, n);

	test_begin("#assign by NAME of [agent NAME]");
	mail = make_mail("alice@staff.example", to, "", subject, "#assign carol\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	t = ticket(id);
	test_assert(t != NULL && t->assignee != NULL &&
		    strcmp(t->assignee, "carol@staff.example") == 0);
	store_ticket_free(&t);
	outs_clear(outs, new_outbox(outs, MAXOUT));

	test_begin("an unknown #word below the text: an error mail, nothing relayed");
	mail = make_mail("alice@staff.example", to, "", subject,
			 "All settled now.\n#resolved\n", 0, NULL);
	test_assert_int(ingest_text(mail, &res), 0);
	free(mail);
	n = new_outbox(outs, MAXOUT);
	test_assert_int(count_kind(outs, n, "relay"), 0);
	struct out *e = find_out(outs, n, "error", "alice@staff.example");
	test_assert(e != NULL && scontains(e->m->text, "unknown command #resolved"));
	outs_clear(outs, n);
	free(subject);
	free(to);
}

static void
test_config_errors(void)
{
	static const struct {
		const char *sections;
		const char *error;
	} cases[] = {
		{ "[agent a]\naddress = a@x.example\n[queue q]\nagents = a, nobody\n",
		  "[queue q] agents: no [agent nobody] section" },
	};
	test_begin("configuration errors");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *path = xasprintf("%s/bad%zu.conf", tmpdir, i);
		char *conf = xasprintf("[general]\nstate_dir = %s\nsupport_address = s@x.example\n"
				       "[rules]\ndir = %s/rules\n%s",
				       tmpdir, tmpdir, cases[i].sections);
		desk_write_file(path, conf);
		struct config *c = NULL;
		struct ingest *ing = NULL;
		const char *error = NULL;
		test_assert_int(config_load(path, &c, &error), 0);
		if (c != NULL) {
			test_assert_int(ingest_init(c, store, &ing, &error), -1);
			test_assert(error != NULL && strstr(error, cases[i].error) != NULL);
			if (error != NULL && strstr(error, cases[i].error) == NULL)
				printf("  got: %s\n", error);
		}
		ingest_free(&ing);
		config_free(&c);
		free(conf);
		free(path);
	}
}

/* Every message queued, parsed by Python's email package: no defects. */
static void
test_python_parse(void)
{
	struct store_outbox *list = NULL;
	size_t n = 0;
	const char *error;
	test_begin("python email parses every message without defects");
	if (system("python3 -c 'import email' >/dev/null 2>&1") != 0) {
		printf("python3 not available: check skipped\n");
		return;
	}
	char *dir = xasprintf("%s/out", tmpdir);
	mkdir(dir, 0700);
	test_assert_int(store_outbox_list(store, NULL, 0, &list, &n, &error), 0);
	test_assert(n > 10);
	for (size_t i = 0; i < n; i++) {
		struct store_outbox *o = NULL;
		if (store_outbox_get(store, list[i].id, &o, &error) != 1)
			continue;
		char *path = xasprintf("%s/%lld-%s.eml", dir, (long long)o->id, o->kind);
		FILE *fp = fopen(path, "wb");
		if (fp != NULL) {
			fwrite(o->raw, 1, o->raw_size, fp);
			fclose(fp);
		}
		free(path);
		store_outbox_free(&o);
	}
	store_outboxes_free(&list, n);
	char *cmd = xasprintf(
		"python3 - '%s' <<'EOF'\n"
		"import email, email.policy, glob, sys\n"
		"bad = 0\n"
		"files = sorted(glob.glob(sys.argv[1] + '/*.eml'))\n"
		"for f in files:\n"
		"    m = email.message_from_bytes(open(f, 'rb').read(), policy=email.policy.default)\n"
		"    defects = list(m.defects)\n"
		"    for part in m.walk():\n"
		"        defects += list(part.defects)\n"
		"        if not part.is_multipart(): part.get_content()\n"
		"    for h in ('From', 'To', 'Subject', 'Message-ID', 'Date'):\n"
		"        if m[h] is None: defects.append('no ' + h)\n"
		"        else:\n"
		"            v = m[h]\n"
		"            defects += list(getattr(v, 'defects', []))\n"
		"    if defects:\n"
		"        bad += 1\n"
		"        print(f, defects)\n"
		"print(len(files), 'messages,', bad, 'with defects')\n"
		"sys.exit(1 if bad or not files else 0)\n"
		"EOF\n",
		dir);
	test_assert_int(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* The command help agents get in every notification names every command
   the parser knows. */
static void
test_help_names_every_command(void)
{
	test_begin("the agents' command help names every command");
	for (int k = AGENTCMD_NOTE; k <= AGENTCMD_MERGE; k++) {
		char *name = xasprintf("#%s", agentcmd_name((enum agentcmd_kind)k));
		test_assert(strstr(agent_help_text, name) != NULL);
		if (strstr(agent_help_text, name) == NULL)
			printf("not in the help: %s\n", name);
		free(name);
	}
}

int
main(void)
{
	test_help_names_every_command();
	desk_datadir();
	if (setup() < 0)
		return 1;
	int64_t id = test_new_ticket();
	test_relay(id);
	test_commands(id);
	test_queue_move();
	test_untrusted(id);
	test_commands_anywhere();
	test_canned(id);
	test_desk();
	test_handover();
	test_unassigned_followup();
	test_config_errors();
	test_python_parse();

	out_clear(&n_alice);
	free(customer_msgid);
	thread_config_free(&tc);
	ingest_free(&ingest);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(tmpdir);
	return test_exit();
}
