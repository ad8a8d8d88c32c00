/*
 * phrase: the candidate phrases of a customer's text, for `deskgate rules
 * suggest` (gateway/suggest.c), which counts them over the mails agents
 * re-categorised and proposes the distinctive ones as rule patterns.
 *
 *   - Latin script: runs of 1 to max_words words, lower-cased (ASCII; other
 *     Latin letters kept as they are). A word is a run of letters (ASCII,
 *     Latin-1 and Latin Extended-A/B), digits and apostrophes with at least
 *     one letter ("2fa", "trc20"); a run of digits alone, a line break or
 *     any other character ends a phrase. A phrase never starts or
 *     ends with a stop word ("the", "my", "is"...), and a one-word phrase
 *     has at least three characters.
 *   - Han script: runs of min_han to max_han characters of a run of Han
 *     characters, except those that start or end with a function character
 *     (的 了 吗 我 你 是...), which make no pattern of their own.
 *
 * Pure: no I/O, no allocation, no state. Invalid UTF-8 is a separator.
 * Hand-written: no maintained C library extracts n-grams for both scripts
 * (ICU's word break needs dictionaries for Chinese and gives words, not
 * the character n-grams a PCRE2 pattern over Chinese text wants).
 */
#ifndef DG_PHRASE_H
#define DG_PHRASE_H

#include <stddef.h>

#define PHRASE_MAX_LEN 256 /* bytes of one phrase, at most */
/* Bytes of the pattern of a phrase, NUL included, at most: an apostrophe
   becomes ['’] (6 bytes), and \b...\b adds 4. */
#define PHRASE_PATTERN_MAX (6 * PHRASE_MAX_LEN + 5)

enum phrase_script { PHRASE_LATIN, PHRASE_HAN };

struct phrase_options {
	size_t max_words; /* Latin phrases of 1..max_words words (at most 6) */
	size_t min_han;	  /* Han phrases of min_han..max_han characters (1..8) */
	size_t max_han;
	size_t max_phrases; /* calls of fn at most (0: no limit) */
};

/* Defaults: 1..3 words, 2..4 Han characters, no limit. */
void phrase_options_default(struct phrase_options *o);

/* fn gets each phrase (phrase[0..len), not NUL-terminated, at most
   PHRASE_MAX_LEN bytes, valid UTF-8) in the order of their last word or
   character, shorter first, repeats included; a non-zero return stops. Returns the number of calls. */
typedef int phrase_fn(void *context, const char *phrase, size_t len, enum phrase_script script);
size_t phrase_each(const char *text, size_t len, const struct phrase_options *o, phrase_fn *fn,
		   void *context);

/* The pattern of deskgate-rules(5) (the text between the slashes) that
   matches the phrase where it stands as a phrase: Latin words between
   \b, joined by \s+ ("reset link" -> "\breset\s+link\b"); Han characters
   as they are. A phrase is made of letters, apostrophes and spaces only
   (what phrase_each() gives), so nothing needs escaping; anything else is
   refused. 0 and out NUL-terminated, or -1 when it does not fit in size
   (PHRASE_PATTERN_MAX always suffices) or is no phrase. */
int phrase_pattern(const char *phrase, size_t len, enum phrase_script script, char *out,
		   size_t size);

#endif
