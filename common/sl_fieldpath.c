/* sl_fieldpath.c: parsing field references into segments (see header). */
#include "sl_fieldpath.h"

#include <stdlib.h>
#include <string.h>

#include "sl_json.h"

static int add_seg(struct sl_fieldpath *p, const char *s, size_t n,
                   const char *ref, struct sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_EINVAL,
                          "field reference '%s' has an empty name", ref);
    if (p->nseg == SL_FIELDPATH_MAX_SEGS)
        return sl_err_set(err, SL_ELIMIT,
                          "field reference '%s' is nested more than %d deep",
                          ref, SL_FIELDPATH_MAX_SEGS);
    p->seg[p->nseg].ptr = s;
    p->seg[p->nseg].len = n;
    if (sl_json_plain_prefix(s, n) == n)
        p->plain |= 1u << p->nseg;
    p->nseg++;
    return 0;
}

static int parse_brackets(struct sl_fieldpath *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] != '[')
            return -1;
        size_t j = i + 1;
        while (j < len && s[j] != ']' && s[j] != '[')
            j++;
        if (j >= len || s[j] != ']')
            return -1;
        if (add_seg(p, s + i + 1, j - i - 1, p->text, NULL) < 0)
            return -1;
        i = j + 1;
    }
    return 0;
}

static int parse_dotted(struct sl_fieldpath *p, const char *s, size_t len,
                        struct sl_err *err)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (add_seg(p, s + start, i - start, p->text, err) < 0)
                return -1;
            start = i + 1;
        } else if (s[i] == '[' || s[i] == ']') {
            return sl_err_set(err, SL_EINVAL,
                              "field reference '%s' mixes names and "
                              "brackets; write [a][b] or a.b",
                              p->text);
        }
    }
    return 0;
}

int sl_fieldpath_parse(struct sl_fieldpath *p, const char *ref, size_t len,
                       struct sl_err *err)
{
    memset(p, 0, sizeof *p);
    p->text = malloc(len + 1);
    p->buf = malloc(len + 1);
    if (p->text == NULL || p->buf == NULL) {
        sl_fieldpath_release(p);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    memcpy(p->text, ref, len);
    p->text[len] = '\0';
    memcpy(p->buf, ref, len);
    p->buf[len] = '\0';
    int rc;
    if (len > 0 && p->buf[0] == '[') {
        rc = parse_brackets(p, p->buf, len);
        if (rc < 0)
            sl_err_set(err, SL_EINVAL,
                       "field reference '%s' is not of the form [a][b] "
                       "(unbalanced or empty brackets)",
                       p->text);
    } else {
        rc = parse_dotted(p, p->buf, len, err);
    }
    if (rc < 0)
        sl_fieldpath_release(p);
    return rc;
}

void sl_fieldpath_release(struct sl_fieldpath *p)
{
    free(p->text);
    free(p->buf);
    memset(p, 0, sizeof *p);
}
