/*
 * Unit tests for parsers/lang.c: real-looking support mails in each
 * language, mixed text, quoted history in another language, the
 * Content-Language header (trusted, overruled, unsupported), and hostile
 * input (invalid UTF-8, huge text).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/lang.h"
#include "base/util.h"
#include "tests/unit/test.h"

static void
test_detect(void)
{
	static const struct {
		const char *name;
		const char *header;
		const char *text;
		const char *want;
		enum lang_source source;
	} cases[] = {
		{ "zh-CN withdrawal", NULL,
		  "您好，我昨天提现了500 USDT，到现在还没有到账，订单号是 W2024051400123，请帮忙查一下。谢谢！",
		  "zh-CN", LANG_FROM_TEXT },
		{ "zh-TW withdrawal", NULL,
		  "您好，我昨天提領了500 USDT，到現在還沒有到帳，訂單編號是 W2024051400123，請幫忙查一下。謝謝！",
		  "zh-TW", LANG_FROM_TEXT },
		{ "zh-TW account locked", NULL,
		  "客服你好：\n我的帳戶被凍結了，登入時顯示「帳號異常」，請問要怎麼處理？我已經完成實名認證。\n",
		  "zh-TW", LANG_FROM_TEXT },
		{ "zh-CN complaint", NULL,
		  "你们的客服太慢了！我的充值三天都没到账，发了好几封邮件都没人回复，再不处理我就投诉了。",
		  "zh-CN", LANG_FROM_TEXT },
		{ "ja", NULL,
		  "お世話になっております。昨日出金申請をしましたが、まだ着金していません。確認をお願いします。",
		  "ja", LANG_FROM_TEXT },
		{ "ko", NULL, "안녕하세요. 어제 출금 신청을 했는데 아직 입금되지 않았습니다. 확인 부탁드립니다.",
		  "ko", LANG_FROM_TEXT },
		{ "en", NULL,
		  "Hello,\n\nI made a withdrawal of 0.5 BTC yesterday and it still has not arrived. "
		  "TxID 3f2a9c0d5e. Can you please check?\n\nThanks,\nJohn",
		  "en", LANG_FROM_TEXT },
		{ "fr", NULL,
		  "Bonjour,\n\nJ'ai effectué un retrait de 0,5 BTC hier et je ne l'ai toujours pas reçu. "
		  "Pouvez-vous vérifier ?\n\nMerci d'avance,\nCamille",
		  "fr", LANG_FROM_TEXT },
		{ "de", NULL,
		  "Guten Tag,\n\nich habe gestern eine Auszahlung von 0,5 BTC beantragt, aber sie ist noch "
		  "nicht angekommen. Können Sie das bitte prüfen?\n\nMit freundlichen Grüßen\nJonas",
		  "de", LANG_FROM_TEXT },
		{ "de short with umlauts", NULL, "Grüße, wo ist mein Geld?", "de", LANG_FROM_TEXT },
		{ "fr short", NULL, "Mon compte est bloqué depuis hier, pourquoi ?", "fr", LANG_FROM_TEXT },
		/* Quoted English history under a Chinese reply. */
		{ "zh reply over quoted en (gmail)", NULL,
		  "好的，我已经把截图发给你们了，请尽快处理。\n\n"
		  "On Mon, May 13, 2024 at 10:00 AM Support <support@example.com> wrote:\n"
		  "> Dear customer,\n> Thank you for contacting us. Please send us a screenshot of the\n"
		  "> error message you see when you log in to your account, and we will look into it.\n"
		  "> Kind regards, the support team\n",
		  "zh-CN", LANG_FROM_TEXT },
		{ "zh reply over en history (outlook)", NULL,
		  "已附上交易哈希，麻烦再看一下。\n\n________________________________\n"
		  "From: Support <support@example.com>\nSent: Monday, May 13, 2024 10:00 AM\n"
		  "Subject: Re: withdrawal\n\nDear customer, thank you for your message. Could you please "
		  "send us the transaction hash of your deposit so that we can check it with the team?\n",
		  "zh-CN", LANG_FROM_TEXT },
		{ "zh-TW reply over quoted zh-CN", NULL,
		  "我已經提供了訂單編號，請盡快處理，謝謝。\n\n在 2024年5月13日 上午10:00，客服 <support@example.com> 写道：\n"
		  "> 您好，请提供您的订单号，我们会尽快为您处理。这个问题我们已经转给相关部门。\n",
		  "zh-TW", LANG_FROM_TEXT },
		{ "fr reply over quoted de", NULL,
		  "Merci pour votre réponse, je vous envoie la capture d'écran.\n\n"
		  "Am 13.05.2024 um 10:00 schrieb Support <support@example.com>:\n"
		  "> Sehr geehrte Kundin, sehr geehrter Kunde, bitte senden Sie uns einen Screenshot der\n"
		  "> Fehlermeldung, damit wir das Problem mit dem Team prüfen können. Mit freundlichen Grüßen\n",
		  "fr", LANG_FROM_TEXT },
		{ "en reply over quoted zh", NULL,
		  "Sorry, I do not read Chinese. Can you please answer in English?\n\n"
		  "-----原始邮件-----\n发件人: 客服 <support@example.com>\n"
		  "您好，我们已经收到您的来信，请提供您的订单号和交易哈希，我们会尽快为您处理。\n",
		  "en", LANG_FROM_TEXT },
		/* Mixed text. */
		{ "en with a Chinese name", NULL,
		  "Hi, my name is 王伟 and my order 12345 failed. Please help, thanks.", "en", LANG_FROM_TEXT },
		{ "zh with English terms", NULL, "我的 BTC withdrawal 一直 pending，已经三天了，怎么回事？",
		  "zh-CN", LANG_FROM_TEXT },
		{ "ja with kanji-heavy text", NULL, "口座凍結の件について、本人確認書類を再提出しました。ご確認ください。",
		  "ja", LANG_FROM_TEXT },
		/* Content-Language. */
		{ "header fr on short text", "fr", "ok", "fr", LANG_FROM_HEADER },
		{ "header de-DE over en text", "de-DE",
		  "Hello, I still have not received my withdrawal, can you check it please?", "de",
		  LANG_FROM_HEADER },
		{ "header en-US (Outlook) over Chinese", "en-US",
		  "您好，我的账户无法登录，提示密码错误，但是我确定密码是对的。", "zh-CN", LANG_FROM_TEXT },
		{ "header zh-CN over English text", "zh-CN",
		  "Hello, I still have not received my withdrawal, can you check it please?", "en",
		  LANG_FROM_TEXT },
		{ "header zh-Hant", "zh-Hant", "謝謝", "zh-TW", LANG_FROM_HEADER },
		{ "header zh-HK", "zh-HK", "ok", "zh-TW", LANG_FROM_HEADER },
		{ "header bare zh, traditional text", "zh", "請問我的訂單為什麼還沒有完成？", "zh-TW",
		  LANG_FROM_HEADER },
		{ "header bare zh, no text", "zh", "", "zh-CN", LANG_FROM_HEADER },
		{ "header zh-CN over traditional text", "zh-CN", "請問我的訂單為什麼還沒有完成？這個問題很久了。",
		  "zh-TW", LANG_FROM_HEADER },
		{ "header list, first unsupported", "es, fr", "ok", "fr", LANG_FROM_HEADER },
		{ "header unsupported only", "es-ES",
		  "Hello, my deposit has not arrived yet, please check the transaction.", "en",
		  LANG_FROM_TEXT },
		{ "header with q weight", "en;q=0.9", "", "en", LANG_FROM_HEADER },
		{ "header garbage", ";;;,,", "", "xx-fallback", LANG_FROM_FALLBACK },
		/* Nothing to go on. */
		{ "empty", NULL, "", "xx-fallback", LANG_FROM_FALLBACK },
		{ "only ids", NULL, "0x3fa9c0d5e1b2 W2024051400123 500 USDT", "xx-fallback",
		  LANG_FROM_FALLBACK },
		{ "one English word", NULL, "Thanks", "xx-fallback", LANG_FROM_FALLBACK },
		{ "invalid UTF-8", NULL, "\xff\xfe\xe4\xb8 \xc3 hello \xf0\x9f", "xx-fallback",
		  LANG_FROM_FALLBACK },
		{ "truncated CJK at the end", NULL, "您好，请帮我查一下订单\xe4\xb8", "zh-CN", LANG_FROM_TEXT },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		test_begin(cases[i].name);
		enum lang_source src = (enum lang_source)-1;
		const char *got = lang_detect(cases[i].header, cases[i].text, strlen(cases[i].text),
					      "xx-fallback", &src);
		test_assert_str(got, cases[i].want);
		test_assert_int(src, cases[i].source);
	}
	test_begin("NULL text and fallback");
	test_assert(lang_detect(NULL, NULL, 0, NULL, NULL) == NULL);
	test_assert_str(lang_detect("de", NULL, 0, NULL, NULL), "de");
}

static void
test_normalize(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "en", "en" },	      { "EN_us", "en" },	{ "en-GB", "en" },
		{ "fr-CA", "fr" },    { "de-CH", "de" },	{ "zh", "zh" },
		{ "zh-CN", "zh-CN" }, { "zh-Hans", "zh-CN" },	{ "zh-Hans-CN", "zh-CN" },
		{ "zh-SG", "zh-CN" }, { "zh-TW", "zh-TW" },	{ "zh-Hant", "zh-TW" },
		{ "zh-hant-hk", "zh-TW" }, { "zh-HK", "zh-TW" }, { "zh-MO", "zh-TW" },
		{ "ja-JP", "ja" },    { " ko ", "ko" },		{ "cmn-Hant-TW", "zh-TW" },
		{ "es", NULL },	      { "", NULL },		{ "english", NULL },
		{ "e", NULL },
	};
	test_begin("normalize");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		test_assert_str(lang_normalize(cases[i].in), cases[i].want);
	test_assert(lang_normalize(NULL) == NULL);
}

static void
test_hostile(void)
{
	test_begin("huge text is bounded");
	size_t len = 8 * 1024 * 1024;
	char *big = xmalloc(len + 1);
	/* 8 MB of traditional Chinese, then simplified after the scan window. */
	const char *trad = "這個問題還沒有處理";
	size_t tl = strlen(trad), k = 0;
	while (k + tl <= len / 2) {
		memcpy(big + k, trad, tl);
		k += tl;
	}
	const char *simp = "这个问题还没有处理";
	size_t sl = strlen(simp);
	while (k + sl <= len) {
		memcpy(big + k, simp, sl);
		k += sl;
	}
	big[k] = '\0';
	test_assert_str(lang_detect(NULL, big, k, "en", NULL), "zh-TW");
	/* One endless line of '>' quotes: nothing left. */
	memset(big, '>', len);
	big[len] = '\0';
	test_assert_str(lang_detect(NULL, big, len, "en", NULL), "en");
	/* NUL bytes inside the text. */
	static const char nul[] = "Bonjour\0 merci pour votre aide, mon compte est bloqué";
	test_assert_str(lang_detect(NULL, nul, sizeof(nul) - 1, "en", NULL), "fr");
	free(big);
}

int
main(void)
{
	test_detect();
	test_normalize();
	test_hostile();
	return test_exit();
}
