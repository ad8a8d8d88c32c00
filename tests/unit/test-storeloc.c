/*
 * test-storeloc: the store location from [store] url / [general] database
 * and password_file: the password escaped into a URI or a keyword string,
 * a password_file others may read refused with its line, url and database
 * not both.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/config.h"
#include "gateway/storeloc.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/dg-test-storeloc-XXXXXX";

static void
test_with_password(void)
{
	static const struct {
		const char *location, *password, *want;
	} cases[] = {
		{ "postgresql://u@h:5432/db", "s3cret", "postgresql://u@h:5432/db?password=s3cret" },
		{ "postgresql://u@h/db?sslmode=require", "a b&c=d%",
		  "postgresql://u@h/db?sslmode=require&password=a%20b%26c%3Dd%25" },
		{ "postgres://u@h/db", "é", "postgres://u@h/db?password=%C3%A9" },
		{ "postgresql:host=h dbname=db", "it's\\x",
		  "postgresql:host=h dbname=db password='it\\'s\\\\x'" },
	};
	test_begin("the password in the location, escaped");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *got = storeloc_with_password(cases[i].location, cases[i].password);
		test_assert_str(got, cases[i].want);
		free(got);
	}
}

/* Load a configuration of lines; NULL with *error_r on failure. */
static struct config *
load(const char *text, const char **error_r)
{
	char *path = xasprintf("%s/deskgate.conf", dir);
	FILE *fp = fopen(path, "w");
	struct config *config = NULL;
	if (fp != NULL) {
		fprintf(fp, "[general]\nstate_dir = %s\n%s", dir, text);
		fclose(fp);
		if (config_load(path, &config, error_r) < 0)
			config = NULL;
	}
	free(path);
	return config;
}

static void
test_finish(void)
{
	const char *error = NULL;
	struct config *config;
	char *pw = xasprintf("%s/pw", dir);
	FILE *fp = fopen(pw, "w");
	test_assert(fp != NULL);
	if (fp == NULL)
		return;
	fputs("Pa ss\n", fp);
	fclose(fp);

	test_begin("[store] url = sqlite:NAME is relative to state_dir");
	config = load("[store]\nurl = sqlite:desk.db\n", &error);
	test_assert(config != NULL);
	if (config != NULL) {
		char *want = xasprintf("%s/desk.db", dir);
		test_assert_str(config->store_location, want);
		test_assert_str(config->database, want);
		free(want);
	}
	config_free(&config);

	test_begin("password_file: only its owner may read it");
	test_assert(chmod(pw, 0644) == 0);
	char *text = xasprintf("[store]\nurl = postgresql://u@127.0.0.1/db\npassword_file = %s\n", pw);
	config = load(text, &error);
	test_assert(config == NULL);
	test_assert(error != NULL && strstr(error, "deskgate.conf:5: password_file") != NULL &&
		    strstr(error, "others may read it") != NULL);
	test_assert(chmod(pw, 0600) == 0);
	config = load(text, &error);
	test_assert(config != NULL);
	if (config != NULL) {
		test_assert_str(config->store_location,
				"postgresql://u@127.0.0.1/db?password=Pa%20ss");
		test_assert_str(config->database, "postgresql://u@127.0.0.1/db");
	}
	config_free(&config);
	free(text);

	test_begin("password_file is for PostgreSQL only");
	text = xasprintf("[store]\nurl = sqlite:x.db\npassword_file = %s\n", pw);
	config = load(text, &error);
	test_assert(config == NULL && error != NULL && strstr(error, ":5: ") != NULL);
	config_free(&config);
	free(text);

	test_begin("blob_dir is for PostgreSQL only");
	config = load("[store]\nurl = sqlite:x.db\nblob_dir = /srv/deskgate-blobs\n", &error);
	test_assert(config == NULL && error != NULL && strstr(error, ":5: ") != NULL &&
		    strstr(error, "blob_dir") != NULL);
	config_free(&config);
	config = load("[store]\nurl = postgresql://u@127.0.0.1/db\nblob_dir = /srv/deskgate-blobs\n",
		      &error);
	test_assert(config != NULL);
	if (config != NULL)
		test_assert_str(config->store.blob_dir, "/srv/deskgate-blobs");
	config_free(&config);

	test_begin("url and [general] database not both; a bad url");
	config = load("database = a.db\n[store]\nurl = sqlite:b.db\n", &error);
	test_assert(config == NULL && error != NULL &&
		    strstr(error, "deskgate.conf:3: [store] url and the deprecated") != NULL);
	config = load("[store]\nurl = mysql://x\n", &error);
	test_assert(config == NULL && error != NULL && strstr(error, ":4: [store] url:") != NULL);

	test_begin("the deprecated [general] database still works");
	config = load("database = old.db\n", &error);
	test_assert(config != NULL);
	if (config != NULL) {
		char *want = xasprintf("%s/old.db", dir);
		test_assert_str(config->store_location, want);
		free(want);
	}
	config_free(&config);
	unlink(pw);
	free(pw);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return test_skip("cannot make a temporary directory");
	test_with_password();
	test_finish();
	char *conf = xasprintf("%s/deskgate.conf", dir);
	unlink(conf);
	free(conf);
	rmdir(dir);
	return test_exit();
}
