/* sl_suggest.c: optimal string alignment distance over one table on the
 * stack (SL_SUGGEST_MAX bounds it at 65 x 65 words). */
#include "sl_suggest.h"

#include "sl_ascii.h"

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

static int same_letter(char a, char b)
{
    return sl_ascii_lower(a) == sl_ascii_lower(b);
}

size_t sl_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > SL_SUGGEST_MAX || lb > SL_SUGGEST_MAX)
        return SL_SUGGEST_FAR;
    size_t d[SL_SUGGEST_MAX + 1][SL_SUGGEST_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = !same_letter(a[i - 1], b[j - 1]);
            d[i][j] =
                min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) &&
                same_letter(a[i - 2], b[j - 1]) &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[la][lb];
}
