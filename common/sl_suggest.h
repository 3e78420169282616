/* sl_suggest.h: how far a mistyped word is from the one meant.
 *
 * "Did you mean" suggestions (config keys and values, grok pattern names)
 * rank their candidates by this one distance, so every message suggests by
 * the same rule. */
#ifndef SL_SUGGEST_H
#define SL_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never compared. */
#define SL_SUGGEST_MAX 64

/* Edits from a[0..la) to b[0..lb), letters' case ignored ("INFO" is meant
 * as "info"): insertions, deletions, substitutions and swaps of neighbours
 * (optimal string alignment). SL_SUGGEST_FAR when either is longer than
 * SL_SUGGEST_MAX. */
#define SL_SUGGEST_FAR ((size_t)-1)
size_t sl_edit_distance(const char *a, size_t la, const char *b, size_t lb);

#endif
