/* sl_config_subst.c: ${VAR} and ${VAR:-default} in string values.
 *
 * Substitution runs on the parsed tree, on decoded string values only, so an
 * environment value can never change the structure of the config (a value
 * holding `", "x": "` stays one string). Names are [A-Za-z_][A-Za-z0-9_]*.
 * As in the shell, the default applies when the variable is unset or empty;
 * ${VAR} alone of an unset variable is an error, of an empty one is "".
 * `$${` gives a literal `${`; any other `$` is kept as it is. Defaults are
 * literal text up to the first '}' (no nesting).
 *
 * The value before substitution is kept in the node (str.raw) so messages
 * show "${REDIS_PASSWORD}", never the secret. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_config_priv.h"

#define SUBST_MAX    (1u << 20) /* bytes of one value after substitution */
#define NAME_MAX_LEN 128

static bool is_name_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static int bad_reference(const struct sl_config_node *n, struct sl_err *err)
{
    char text[200];
    sl_text_quote(text, sizeof text, n->u.str.s, n->u.str.len, '"');
    return sl_config_error_at(n, false, SL_EINVAL, err,
                              "bad variable reference in %s; write ${NAME} "
                              "or ${NAME:-default}, or $${ for a literal ${",
                              text);
}

/* Expands the reference starting at s[*i] == '$', s[*i + 1] == '{'. */
static int expand_one(const struct sl_config_node *n, size_t *i,
                      struct sl_buf *out, struct sl_err *err)
{
    const char *s = n->u.str.s;
    size_t len = n->u.str.len, p = *i + 2, name_len = 0;
    while (p + name_len < len && is_name_char(s[p + name_len], name_len == 0))
        name_len++;
    size_t q = p + name_len;
    if (name_len == 0 || name_len > NAME_MAX_LEN || q >= len)
        return bad_reference(n, err);
    const char *def = NULL;
    size_t def_len = 0;
    if (s[q] == ':' && q + 1 < len && s[q + 1] == '-') {
        def = s + q + 2;
        const char *close = memchr(def, '}', len - (q + 2));
        if (close == NULL)
            return bad_reference(n, err);
        def_len = (size_t)(close - def);
        q = (size_t)(close - s);
    } else if (s[q] != '}') {
        return bad_reference(n, err);
    }
    char name[NAME_MAX_LEN + 1];
    memcpy(name, s + p, name_len);
    name[name_len] = '\0';
    const char *val = getenv(name);
    char host[256];
    /* ${HOSTNAME}: shells set it without exporting it, and systemd not at
     * all; the machine's name is what every config that uses it means */
    if (val == NULL && strcmp(name, "HOSTNAME") == 0 &&
        gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        val = host;
    }
    int rc;
    if (def != NULL && (val == NULL || *val == '\0'))
        rc = sl_buf_append(out, def, def_len, NULL);
    else if (val != NULL)
        rc = sl_buf_append_str(out, val, NULL);
    else
        return sl_config_error_at(
            n, false, SL_EINVAL, err,
            "environment variable '%s' is not set; set it or write "
            "${%s:-default}",
            name, name);
    if (rc < 0)
        return sl_config_error_at(n, false, SL_ELIMIT, err,
                                  "value is longer than %u bytes after "
                                  "substituting variables",
                                  SUBST_MAX);
    *i = q + 1;
    return 0;
}

static int subst_string(struct sl_config *c, struct sl_config_node *n,
                        struct sl_err *err)
{
    const char *s = n->u.str.s;
    size_t len = n->u.str.len;
    struct sl_buf out = SL_BUF_INIT(SUBST_MAX);
    bool changed = false;
    for (size_t i = 0; i < len;) {
        int rc = 0;
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            rc = sl_buf_append(&out, "${", 2, NULL);
            i += 3;
            changed = true;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            if (expand_one(n, &i, &out, err) < 0)
                goto fail;
            changed = true;
        } else {
            rc = sl_buf_append_char(&out, s[i++], NULL);
        }
        if (rc < 0) {
            sl_config_error_at(n, false, SL_ELIMIT, err,
                               "value is longer than %u bytes", SUBST_MAX);
            goto fail;
        }
    }
    if (changed) {
        char *v = sl_arena_strndup(c->arena, out.ptr ? out.ptr : "", out.len);
        if (v == NULL) {
            sl_err_set(err, SL_ENOMEM, "%s: out of memory", c->name);
            goto fail;
        }
        n->u.str.raw = n->u.str.s;
        n->u.str.raw_len = n->u.str.len;
        n->u.str.s = v;
        n->u.str.len = out.len;
    }
    sl_buf_release(&out);
    return 0;
fail:
    sl_buf_release(&out);
    return -1;
}

int sl_config_subst_tree(struct sl_config *c, struct sl_config_node *n,
                         struct sl_err *err)
{
    if (n == NULL)
        return 0;
    if (n->type == SL_CONFIG_STRING) {
        if (memchr(n->u.str.s, '$', n->u.str.len) == NULL)
            return 0;
        return subst_string(c, n, err);
    }
    if (n->type != SL_CONFIG_OBJECT && n->type != SL_CONFIG_ARRAY)
        return 0;
    for (size_t i = 0; i < n->u.kids.n; i++)
        if (sl_config_subst_tree(c, n->u.kids.items[i], err) < 0)
            return -1;
    return 0;
}
