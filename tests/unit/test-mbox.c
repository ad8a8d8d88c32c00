/* Unit tests for parsers/mbox.c. */
#include "build-config.h"

#include "parsers/mbox.h"
#include "base/util.h"
#include "tests/unit/test.h"

static const char box[] =
	"From a@example.test Mon Nov 23 09:00:00 2026\n"
	"Subject: one\n"
	"\n"
	"body one\n"
	">From the start\n"
	">>From quoted\n"
	"\n"
	"From b@example.test Mon Nov 23 09:00:01 2026\n"
	"Subject: two\n"
	"\n"
	"body two\n";

int
main(void)
{
	struct mbox_iter it;
	size_t len;
	unsigned char *m;

	test_begin("mbox split");
	test_assert(mbox_detect((const unsigned char *)box, sizeof(box) - 1));
	test_assert(!mbox_detect((const unsigned char *)"Subject: x\n", 11));
	test_assert(!mbox_detect((const unsigned char *)"From", 4));
	mbox_iter_init(&it, (const unsigned char *)box, sizeof(box) - 1);
	m = mbox_next(&it, 1000, &len);
	test_assert_str((char *)m, "Subject: one\n\nbody one\nFrom the start\n>From quoted\n");
	free(m);
	m = mbox_next(&it, 1000, &len);
	test_assert_str((char *)m, "Subject: two\n\nbody two\n");
	test_assert_int(len, strlen("Subject: two\n\nbody two\n"));
	free(m);
	test_assert(mbox_next(&it, 1000, &len) == NULL);

	test_begin("mbox bounded");
	mbox_iter_init(&it, (const unsigned char *)box, sizeof(box) - 1);
	m = mbox_next(&it, 10, &len);
	test_assert_int(len, 11); /* max + 1: the caller sees it as oversized */
	free(m);
	m = mbox_next(&it, 10, &len);
	test_assert(m != NULL && memcmp(m, "Subject: t", 10) == 0);
	free(m);

	test_begin("mbox empty and junk");
	mbox_iter_init(&it, (const unsigned char *)"", 0);
	test_assert(mbox_next(&it, 10, &len) == NULL);
	mbox_iter_init(&it, (const unsigned char *)"From x", 6);
	m = mbox_next(&it, 10, &len);
	test_assert(m != NULL && len == 0);
	free(m);
	test_assert(mbox_next(&it, 10, &len) == NULL);
	return test_exit();
}
