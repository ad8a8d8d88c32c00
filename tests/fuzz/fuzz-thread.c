/*
 * fuzz-thread: the threading header parsers of gateway/thread.c over
 * untrusted header values: subject tags (thread_subject_parse), signed
 * reply addresses (thread_reply_address_parse) and our Message-IDs
 * (thread_message_id_is_ours). Byte 0 chooses one of several subject tag
 * formats and byte 1..4 a ticket number; the rest is the header value.
 * Checks that parsed ticket numbers are positive, that a subject without a
 * tag gets one that parses back to the ticket, and that the reply address
 * and Message-ID we make parse back to their ticket.
 */
#include "build-config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/thread.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 8192

static const char *const tag_formats[] = {
	"[Support #%d]", "Ticket %d:", "#%d", "[工单 #%d]", "(Case %d) ", "{%d}",
};
static struct thread_config *tcs[N_ELEMENTS(tag_formats)];

static void
thread_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/deskgate-fuzz-thread-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	char *secret = xasprintf("%s/secret", dir);
	static const char key[] = "00112233445566778899aabbccddeeff0123456789abcdef\n";
	int fd = open(secret, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, key, sizeof(key) - 1) == (ssize_t)(sizeof(key) - 1));
	FUZZ_CHECK(close(fd) == 0);

	for (size_t i = 0; i < N_ELEMENTS(tag_formats); i++) {
		const char *error = NULL;
		struct config *config = config_defaults(dir);
		free(config->support_address);
		config->support_address = xstrdup("support@example.test");
		free(config->threading.secret_file);
		config->threading.secret_file = xstrdup(secret);
		free(config->threading.subject_tag);
		config->threading.subject_tag = xstrdup(tag_formats[i]);
		free(config->hostname);
		config->hostname = xstrdup("desk.example.test");
		if (thread_config_new(config, &tcs[i], &error) < 0) {
			fprintf(stderr, "fuzz-thread: %s\n", error);
			abort();
		}
		thread_config_set_now(tcs[i], 1700000000);
		config_free(&config);
	}
	unlink(secret);
	rmdir(dir);
	free(secret);
	free(dir);
}

FUZZ_TARGET(thread)
{
	int64_t id = 0;
	enum thread_role role;
	const char *error = NULL;

	if (size < 5 || size > MAX_INPUT)
		return 0;
	if (tcs[0] == NULL)
		thread_init();
	const struct thread_config *tc = tcs[data[0] % N_ELEMENTS(tcs)];
	int64_t ticket = 1 + (int64_t)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
				       (uint32_t)data[3] << 8 | data[4]) % 999999999;
	char *s = fuzz_strndup(data + 5, size - 5);

	int have = thread_subject_parse(tc, s, &id);
	FUZZ_CHECK(have == 0 || (have == 1 && id > 0));
	if (have == 0) {
		char *tagged = thread_subject_add_tag(tc, s, ticket);
		FUZZ_CHECK(thread_subject_parse(tc, tagged, &id) == 1 && id == ticket);
		free(tagged);
	} else {
		char *tagged = thread_subject_add_tag(tc, s, id);
		FUZZ_CHECK(strcmp(tagged, s) == 0);
		free(tagged);
	}

	int ret = thread_reply_address_parse(tc, s, &id, &role, &error);
	FUZZ_CHECK(ret >= -1 && ret <= 1);
	if (ret == 1)
		FUZZ_CHECK(id > 0);
	if (ret == -1)
		FUZZ_CHECK(error != NULL);
	(void)thread_is_agent_address(tc, s);
	if (thread_message_id_is_ours(tc, s, &id) == 1)
		FUZZ_CHECK(id >= 0);

	char *addr = thread_reply_address(tc, ticket, (data[1] & 1) ? THREAD_ROLE_AGENT
								     : THREAD_ROLE_CUSTOMER);
	FUZZ_CHECK(thread_reply_address_parse(tc, addr, &id, &role, &error) == 1);
	FUZZ_CHECK(id == ticket);
	FUZZ_CHECK(role == ((data[1] & 1) ? THREAD_ROLE_AGENT : THREAD_ROLE_CUSTOMER));
	free(addr);
	free(s);
	return 0;
}
