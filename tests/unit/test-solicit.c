/*
 * test-solicit: which agent texts ask the customer for a secret, in the
 * five languages, and the everyday support sentences that must not be
 * held: safety reminders, reset links, codes the desk sends.
 */
#include "build-config.h"

#include "parsers/solicit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

static const struct {
	const char *text;
	enum solicit_kind want;
} cases[] = {
	/* asks */
	{ "Please send us your 12-word recovery phrase so we can restore the wallet.",
	  SOLICIT_RECOVERY_PHRASE },
	{ "To verify the account, reply with your seed phrase.", SOLICIT_RECOVERY_PHRASE },
	{ "Could you tell me the private key of the deposit address?", SOLICIT_PRIVATE_KEY },
	{ "What is your password?", SOLICIT_PASSWORD },
	{ "Hi,\n\nwe need your 2FA code to unlock the withdrawal.\n", SOLICIT_OTP },
	{ "Please provide the verification code you just received.", SOLICIT_OTP },
	{ "Merci de nous envoyer votre phrase de récupération.", SOLICIT_RECOVERY_PHRASE },
	{ "Pouvez-vous nous communiquer votre mot de passe ?", SOLICIT_PASSWORD },
	{ "Quel est votre code de vérification ?", SOLICIT_OTP },
	{ "Bitte senden Sie uns Ihre Seed-Phrase.", SOLICIT_RECOVERY_PHRASE },
	{ "Bitte Ihren privaten Schlüssel übermitteln.", SOLICIT_PRIVATE_KEY },
	{ "Wie lautet Ihr Passwort?", SOLICIT_PASSWORD },
	{ "Bitte teilen Sie uns Ihren Bestätigungscode mit.", SOLICIT_OTP },
	{ "您好，请提供您的助记词，我们帮您恢复钱包。", SOLICIT_RECOVERY_PHRASE },
	{ "请把私钥发给我们。", SOLICIT_PRIVATE_KEY },
	{ "您的登录密码是什么？", SOLICIT_PASSWORD },
	{ "麻烦告诉我们您收到的验证码。", SOLICIT_OTP },
	{ "請提供您的助記詞。", SOLICIT_RECOVERY_PHRASE },
	{ "請告訴我們您的驗證碼。", SOLICIT_OTP },
	/* does not ask */
	{ "We will never ask for your password, private key, seed phrase or 2FA codes.",
	  SOLICIT_NONE },
	{ "Never share your recovery phrase with anyone, including us.", SOLICIT_NONE },
	{ "Do not send your private key to anyone.", SOLICIT_NONE },
	{ "We have sent you a password reset link.", SOLICIT_NONE },
	{ "Please reset your password from the login page.", SOLICIT_NONE },
	{ "We will send you the verification code by SMS.", SOLICIT_NONE },
	{ "Please enter your 2FA code in the app to confirm the withdrawal.", SOLICIT_NONE },
	{ "Your withdrawal of 0.5 BTC was sent; the TxID is in your history.", SOLICIT_NONE },
	{ "Please share the screenshot of the error page.", SOLICIT_NONE },
	{ "Use a password manager and enable 2FA.", SOLICIT_NONE },
	{ "Please send us the pinned message link.", SOLICIT_NONE },
	{ "Ne communiquez jamais votre phrase de récupération.", SOLICIT_NONE },
	{ "Nous vous envoyons le code de vérification par SMS.", SOLICIT_NONE },
	{ "Geben Sie niemals Ihr Passwort weiter.", SOLICIT_NONE },
	{ "请勿向任何人提供您的助记词或私钥。", SOLICIT_NONE },
	{ "我们不会索要您的密码。", SOLICIT_NONE },
	{ "验证码已发送到您的手机。", SOLICIT_NONE },
	{ "请在App中输入验证码完成提现。", SOLICIT_NONE },
	{ "請勿向任何人提供您的助記詞。", SOLICIT_NONE },
	{ "", SOLICIT_NONE },
};

/* The banking77 queries: customers' sentences about cards, PINs,
   passwords and codes, none of them a request to a customer for a
   secret. Rows flagged are printed; the count is kept as a ceiling. */
#define MAX_HITS_BANKING77 0

static void
test_banking77(void)
{
	char *corpora = test_corpora_dir();
	if (corpora == NULL) {
		printf("no shared corpora: banking77 pass skipped\n");
		return;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/classify/banking77/train.csv", corpora);
	free(corpora);
	FILE *fp = fopen(path, "r");
	test_begin("banking77");
	test_assert(fp != NULL);
	if (fp == NULL)
		return;
	char line[4096];
	unsigned int rows = 0, hits = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct solicit_hit hit;
		if (rows++ == 0)
			continue; /* the header */
		if (solicit_find(line, strlen(line), &hit)) {
			hits++;
			printf("  banking77 row %u asks for a %s: %s", rows, solicit_kind_name(hit.kind),
			       line);
		}
	}
	fclose(fp);
	printf("banking77: %u rows, %u read as asking for a secret (ceiling %d)\n", rows - 1, hits,
	       MAX_HITS_BANKING77);
	test_assert(rows > 10000);
	test_assert(hits <= MAX_HITS_BANKING77);
}

int
main(void)
{
	test_begin("solicit_find");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct solicit_hit hit;
		int found = solicit_find(cases[i].text, strlen(cases[i].text), &hit);
		if (found != (cases[i].want != SOLICIT_NONE) || hit.kind != cases[i].want)
			printf("case %zu: \"%s\": got %s\n", i, cases[i].text,
			       found ? solicit_kind_name(hit.kind) : "none");
		test_assert_int(hit.kind, cases[i].want);
		test_assert(!found || (hit.offset + hit.len <= strlen(cases[i].text) && hit.len > 0));
	}
	test_begin("the clause is given");
	struct solicit_hit hit;
	const char *t = "Thanks for waiting. Please send us your seed phrase. Regards";
	test_assert_int(solicit_find(t, strlen(t), &hit), 1);
	test_assert(strncmp(t + hit.offset, " Please send us your seed phrase", hit.len) == 0);
	test_banking77();
	return test_exit();
}
