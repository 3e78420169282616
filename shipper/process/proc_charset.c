/* proc_charset.c: the charset processor: a field written in a legacy
 * single-byte charset read as the text it is.
 *
 *   {"charset": {"from": "windows-1252"}}            on "message"
 *   {"charset": {"field": "user.name", "from": "ISO-8859-1"}}
 *
 * An event's text is UTF-8 (DESIGN.md): bytes that are not are written as
 * U+FFFD, so a log written in ISO-8859-1 or Windows-1252 (a Java
 * application on a platform charset, a .NET Framework program, files
 * from Windows) loses each of its accented letters ("caf\xE9" shows
 * "caf\uFFFD"). Logstash's codecs take a `charset` for this, Filebeat's
 * inputs an `encoding`. This processor converts the field from `from` to
 * UTF-8 when it is not valid UTF-8 already, so ASCII lines and the UTF-8
 * lines of a log that changed its charset are kept as they are. Each byte
 * is one character: ISO-8859-1's byte b is U+00b; Windows-1252 puts
 * punctuation, the euro sign and a few letters at 0x80-0x9F (its five
 * unassigned bytes read as ISO-8859-1's, as browsers read them). The text
 * is at most three times as long (the euro sign), in the event's arena.
 * Strings only (a number or an object is left alone).
 *
 * Not here: UTF-16, whose lines a reader splitting at the byte "\n"
 * cannot find (a file written so is read as bytes: convert it with iconv
 * first, or have its writer write UTF-8). */
#include <stdlib.h>
#include <string.h>

#include "process_priv.h"
#include "sl_json.h"

enum charset { CHARSET_LATIN1, CHARSET_CP1252 };

static const char *const charset_words[] = {"ISO-8859-1", "latin1",
                                            "windows-1252", "cp1252", NULL};

struct charset_opts {
    const struct sl_config_node *when;
    const char *field;
    int from;
};

#define C(m) SL_OPT_FIELD(struct charset_opts, m)
static const struct sl_opt charset_opts[] = {
    PROC_WHEN_OPT(struct charset_opts),
    {"field", SL_OPT_STRING, C(field), .def = "message",
     .help = "the field whose text is in that charset"},
    {"from", SL_OPT_ENUM, C(from), .def = "windows-1252",
     .words = charset_words,
     .help = "the charset the text is in when it is not UTF-8: `ISO-8859-1` "
             "(`latin1`) or `windows-1252` (`cp1252`)"},
    SL_OPT_END};
static const struct sl_config_table charset_table = {
    "charset", sizeof(struct charset_opts), charset_opts, NULL};

struct charset_proc {
    struct sl_fieldpath field;
    enum charset from;
};

/* Windows-1252's 0x80-0x9F; 0 where it assigns nothing. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static bool utf8(struct sl_slice s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (size_t i = 0; i < s.len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = sl_utf8_seq_len(p + i, s.len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* s in UTF-8 into out (3 * s.len bytes): its length. */
static size_t convert(struct sl_slice s, enum charset from, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned c = (unsigned char)s.ptr[i];
        if (from == CHARSET_CP1252 && c >= 0x80 && c < 0xA0 &&
            cp1252_high[c - 0x80] != 0)
            c = cp1252_high[c - 0x80];
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

static void charset_fini(struct proc *p)
{
    struct charset_proc *cp = p->state;
    if (cp == NULL)
        return;
    sl_fieldpath_release(&cp->field);
    free(cp);
}

static int charset_init(struct proc *p, const struct sl_config_node *cfg,
                        const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct charset_opts o;
    if (sl_config_table_fill(&charset_table, cfg, &o, err) < 0)
        return -1;
    struct charset_proc *cp = calloc(1, sizeof *cp);
    if (cp == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    p->state = cp;
    cp->from = o.from < 2 ? CHARSET_LATIN1 : CHARSET_CP1252;
    if (proc_fieldpath(&cp->field, sl_config_get(cfg, "field"), o.field, err) <
        0) {
        charset_fini(p);
        p->state = NULL;
        return -1;
    }
    return 0;
}

static enum proc_result charset_run(struct proc *p, const struct proc_ctx *cx)
{
    struct charset_proc *cp = p->state;
    struct sl_value *v = sl_event_get(cx->ev, &cp->field);
    if (v == NULL || v->type != SL_VALUE_STRING || utf8(v->text))
        return PROC_OK;
    char *out = sl_arena_alloc(cx->ev->arena, 3 * v->text.len);
    if (out == NULL)
        return PROC_OK; /* the text stays, its bytes replaced when written */
    v->text = (struct sl_slice){out, convert(v->text, cp->from, out)};
    return PROC_OK;
}

const struct proc_ops proc_charset_ops = {.name = "charset",
                                          .table = &charset_table,
                                          .init = charset_init,
                                          .run = charset_run,
                                          .fini = charset_fini};
