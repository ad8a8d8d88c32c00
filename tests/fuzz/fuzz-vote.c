/*
 * fuzz-vote: the survey answer parser. Checks what vote.h promises: the
 * score is 0 or 1-5 and the return value equals it; the comment lies in
 * the input; without a score the comment is the whole text but its outer
 * blanks; a comment never starts or ends with a blank or a newline; and
 * text after a newline that follows a score changes neither the score nor
 * the start of the comment.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/vote.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 1024

FUZZ_TARGET(vote)
{
	if (size > MAX_INPUT)
		return 0;
	char *text = xmalloc(size + 8);
	if (size > 0)
		memcpy(text, data, size);
	struct vote v;
	int score = vote_parse(text, size, &v);
	FUZZ_CHECK(score == v.score);
	FUZZ_CHECK(score == 0 || (score >= VOTE_MIN && score <= VOTE_MAX));
	FUZZ_CHECK(v.comment_start <= size && v.comment_len <= size - v.comment_start);
	if (v.comment_len > 0) {
		char first = text[v.comment_start];
		char last = text[v.comment_start + v.comment_len - 1];
		FUZZ_CHECK(first != ' ' && first != '\t' && first != '\n' && first != '\r');
		FUZZ_CHECK(last != ' ' && last != '\t' && last != '\n' && last != '\r');
	}
	/* The problem reader stays in bounds and answers 0 or 1; text it
	   calls a problem is one still with a line added. */
	int problem = vote_reads_as_problem(text, size);
	FUZZ_CHECK(problem == 0 || problem == 1);
	if (problem) {
		memcpy(text + size, "\nabc", 4);
		FUZZ_CHECK(vote_reads_as_problem(text, size + 4) == 1);
	}
	if (score > 0 && memchr(text, '\n', size) == NULL) {
		/* A line added below changes nothing about the score. */
		memcpy(text + size, "\nabc 5", 6);
		struct vote w;
		FUZZ_CHECK(vote_parse(text, size + 6, &w) == score);
	}
	free(text);
	return 0;
}
