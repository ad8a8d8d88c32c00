/*
 * vote: a customer's answer to a satisfaction survey, as people write it
 * in a reply: a digit 1-5 ("4", "4/5", "4 out of 5", "５", "4星"), stars
 * ("★★★★☆", "****", "⭐⭐⭐"), or words in the desk's five languages
 * ("great", "pas content", "sehr gut", "非常满意", "還可以").
 *
 *   "5"                         5
 *   "4/5 - quick and kind"      4, comment "quick and kind"
 *   "★★★☆☆"                     3
 *   "Pas content du tout."      2, comment "du tout."
 *   "非常满意，谢谢！"            5, comment "谢谢！"
 *   "3 days and still nothing"  no vote (a number, not a score)
 *   "50 USDT are missing"       no vote
 *
 * Only the start of the first non-empty line is read for the score: a
 * score later in the text is too likely a number about something else.
 * The rest of the text is the comment. A word is matched whole (a Latin
 * word ends at a non-letter, a Chinese phrase at punctuation, a blank or
 * the end of the line) and the longest phrase wins, so "not good" is 2,
 * never "good", and "非常不满意" is 1, never "满意".
 *
 * Pure: no I/O, no allocation, no locale. The word list is ours (no
 * library scores survey answers).
 */
#ifndef DG_VOTE_H
#define DG_VOTE_H

#include <stddef.h>

#define VOTE_MIN 1
#define VOTE_MAX 5

struct vote {
	int score; /* VOTE_MIN..VOTE_MAX, 0 when the text holds none */
	/* The comment: text[comment_start .. comment_start + comment_len),
	   trimmed of blanks and of the punctuation that separated it from
	   the score; the whole trimmed text when there is no score; length
	   0 when there is none. */
	size_t comment_start, comment_len;
};

/* Read text[0..len) (UTF-8; invalid bytes are no letters). Returns the
   score (0 for none) and fills *out. */
int vote_parse(const char *text, size_t len, struct vote *out);

/* The score in a word of the vote address or subject ("4"): one digit
   1-5 and nothing else, 0 otherwise. */
int vote_score_token(const char *s, size_t len);

/* Does a comment read as a new problem rather than an opinion: a question
   mark, or a question or problem word of the five languages ("not
   working", "pourquoi", "funktioniert nicht", "还没", "問題")? 1 or 0. A
   problem said not to exist is none: "no problems at all", "pas de
   problème", "kein Problem", "没问题", "沒有任何問題".
   The survey reopens the ticket on such a comment ([survey]
   reopen_on_problem); the rules' category is the other signal. */
int vote_reads_as_problem(const char *text, size_t len);

#endif
