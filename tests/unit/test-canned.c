/*
 * Unit tests for gateway/canned.c: the shipped starter set renders in
 * every acknowledgement language with the customer's data and the agent's
 * name; an admin directory wins over the installed one and falls back to
 * en; names that are paths, unknown names and a missing directory find
 * nothing; `template check` counts broken, misnamed and partial-using
 * files and passes the shipped set.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/ack.h"
#include "gateway/canned.h"
#include "gateway/template.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-test-canned.XXXXXX";

static struct tmpl_value *
sample(const char *lang)
{
	struct ack_input *in = ack_sample_input("delayed_payment", lang, 1741658400);
	struct tmpl_value *data = ack_data_build(NULL, NULL, in, NULL);
	tmpl_map_set_string(tmpl_map_add_map(data, "agent"), "name", "Alice Agent");
	ack_sample_input_free(&in);
	return data;
}

static void
test_shipped(const char *top)
{
	char *dir = xasprintf("%s/templates", top);
	struct canned *c = canned_new(NULL, dir);
	static const struct {
		const char *lang, *want;
	} langs[] = {
		{ "zh-CN", "充值需在区块链网络达到规定的确认数" },
		{ "zh-TW", "入金需在區塊鏈網路達到規定的確認數" },
		{ "en", "Deposits are credited once the network" },
		{ "fr", "Un dépôt est crédité une fois" },
		{ "de", "Einzahlungen werden gutgeschrieben" },
	};
	for (size_t i = 0; i < N_ELEMENTS(langs); i++) {
		char *label = xasprintf("shipped deposit_not_arrived in %s", langs[i].lang);
		test_begin(label);
		free(label);
		struct tmpl_value *data = sample(langs[i].lang);
		char *text = NULL, *path = NULL;
		const char *error = NULL;
		test_assert_int(canned_render(c, "deposit_not_arrived", langs[i].lang, data, &text,
					      &path, &error), 1);
		test_assert(text != NULL && strstr(text, langs[i].want) != NULL);
		test_assert(text != NULL && strstr(text, "#1042") != NULL);
		test_assert(text != NULL && strstr(text, "0.5 BTC") != NULL);
		test_assert(text != NULL && strstr(text, "Alice Agent") != NULL);
		test_assert(text != NULL && strstr(text, "{{") == NULL && text[0] != '\n');
		free(text);
		free(path);
		tmpl_value_free(&data);
	}
	/* every shipped name exists in every language */
	test_begin("shipped set complete");
	for (size_t n = 0; canned_shipped[n] != NULL; n++) {
		for (size_t l = 0; ack_languages[l] != NULL; l++) {
			char *path = xasprintf("%s/replies/%s.%s.txt", dir, canned_shipped[n],
					       ack_languages[l]);
			test_assert(access(path, R_OK) == 0);
			free(path);
		}
	}
	test_begin("template check passes the shipped set");
	size_t files = 0;
	FILE *out = tmpfile();
	test_assert_int(canned_check(NULL, dir, out, &files), 0);
	test_assert_int(files, 25);
	fclose(out);
	canned_free(&c);
	free(dir);
}

static void
test_admin(void)
{
	char *sub = xasprintf("%s/replies", tmpdir);
	desk_mkdir_p(sub);
	char *p = xasprintf("%s/only_en.en.txt", sub);
	desk_write_file(p, "Hi {{customer.name}}, {{ticket.ref}}.\n");
	free(p);
	p = xasprintf("%s/broken.en.txt", sub);
	desk_write_file(p, "{{#open}} never closed\n");
	free(p);
	p = xasprintf("%s/partial.en.txt", sub);
	desk_write_file(p, "{{> safety}}\n");
	free(p);
	p = xasprintf("%s/Bad Name.en.txt", sub);
	desk_write_file(p, "x\n");
	free(p);
	p = xasprintf("%s/only_fr.fr.txt", sub);
	desk_write_file(p, "Bonjour\n");
	free(p);

	struct canned *c = canned_new(NULL, tmpdir);
	struct tmpl_value *data = sample("zh-CN");
	char *text = NULL, *path = NULL;
	const char *error = NULL;

	test_begin("fallback to en");
	test_assert_int(canned_render(c, "only_en", "zh-CN", data, &text, &path, &error), 1);
	test_assert_str(text, "Hi 李伟, #1042.");
	test_assert(path != NULL && strstr(path, "/replies/only_en.en.txt") != NULL);
	x_free(&text);
	x_free(&path);

	test_begin("no en to fall back on");
	test_assert_int(canned_render(c, "only_fr", "de", data, &text, &path, &error), 0);
	test_assert_int(canned_render(c, "only_fr", "fr", data, &text, &path, &error), 1);
	x_free(&text);
	x_free(&path);

	test_begin("names that are not names");
	static const char *const bad[] = { "../replies/only_en", "only_en/../x", "", "ONLY_EN",
					   "only_en.en", "a b", "/etc/passwd" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		test_assert_int(canned_render(c, bad[i], "en", data, &text, &path, &error), 0);
		test_assert(text == NULL && path == NULL);
	}
	test_assert_int(canned_render(c, "only_en", "../../en", data, &text, &path, &error), 1);
	x_free(&text);
	x_free(&path);

	test_begin("a broken template is an error naming the file");
	test_assert_int(canned_render(c, "broken", "en", data, &text, &path, &error), -1);
	test_assert(error != NULL && strstr(error, "broken.en.txt") != NULL);

	test_begin("the list of names");
	char *list = canned_list(c);
	test_assert_str(list, "broken, only_en, only_fr, partial");
	free(list);

	test_begin("template check counts the problems");
	FILE *out = tmpfile();
	size_t files = 0;
	/* files: broken (syntax), partial, "Bad Name"; renders: broken in 5
	   languages, only_fr in the 4 without fr and no en to fall back on */
	test_assert_int(canned_check(NULL, tmpdir, out, &files), 3 + 5 + 4);
	test_assert_int(files, 5);
	fclose(out);

	test_begin("no replies directory");
	struct canned *none = canned_new(NULL, "/nonexistent/dir");
	list = canned_list(none);
	test_assert_str(list, "(none)");
	free(list);
	test_assert_int(canned_render(none, "only_en", "en", data, &text, &path, &error), 0);
	canned_free(&none);

	tmpl_value_free(&data);
	canned_free(&c);
	free(sub);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp failed\n");
		return 1;
	}
	test_shipped(top != NULL ? top : ".");
	test_admin();
	desk_rm_tree(tmpdir);
	return test_exit();
}
