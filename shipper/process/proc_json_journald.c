/* proc_json_journald.c: the journal's JSON (`journalctl -o json`, the
 * gateway's and journal-remote's exports) for the json processor: its
 * fields to the names Filebeat's journald input gives them, ECS's where
 * there is one, so Kibana finds a unit's lines as it finds Filebeat's.
 *
 * A line is the journal's when it has "__REALTIME_TIMESTAMP" (journalctl
 * always writes it), or "MESSAGE" and "_TRANSPORT", and at most
 * JOURNAL_MEMBERS_MAX members (journald's own limit). Every value is a
 * string; a field logged twice is an array of them; a value that is not
 * valid UTF-8 (or is binary) is an array of its bytes, numbers, which
 * becomes the string of those bytes (invalid UTF-8 is replaced when the
 * event is written, DESIGN.md); a value over journalctl's size limit is
 * null. The fields (`table`): MESSAGE message, PRIORITY
 * log.syslog.priority (and log.level by its syslog name: emerg, alert,
 * crit, err, warning, notice, info, debug), _HOSTNAME host.hostname,
 * _SYSTEMD_UNIT systemd.unit, _PID process.pid, SYSLOG_IDENTIFIER
 * syslog.identifier, CODE_FILE / CODE_LINE / CODE_FUNC log.origin.*, and
 * the rest of Filebeat's list; a number field whose value is no integer
 * (Filebeat drops a ",user" after SYSLOG_PID: not here) goes to
 * journald.custom with the fields not listed, under its name in
 * lower case without its leading underscores ("__CURSOR"
 * journald.custom.cursor), as Filebeat puts them. __REALTIME_TIMESTAMP,
 * microseconds since the epoch, is the event's @timestamp (unless the line
 * has one) and is kept as journald.realtime_timestamp, whose microseconds
 * @timestamp cannot hold. A null MESSAGE leaves the line as the message.
 * A field of the line that has the ECS name already keeps it. */
#include <string.h>

#include "process_priv.h"
#include "sl_ascii.h"
#include "sl_date.h"
#include "sl_json.h"

static struct sl_value *member(struct sl_value *obj, const char *key)
{
    return proc_json_member(obj, sl_slice_from(key));
}

/* A journal field, where it goes, and whether it is a number there. */
struct field {
    const char *journal, *name;
    bool integer;
};

static const struct field table[] = {
    {"MESSAGE", "message", false},
    {"MESSAGE_ID", "event.code", false},
    {"PRIORITY", "log.syslog.priority", true},
    {"SYSLOG_FACILITY", "log.syslog.facility.code", true},
    {"SYSLOG_IDENTIFIER", "syslog.identifier", false},
    {"SYSLOG_PID", "syslog.pid", true},
    {"_HOSTNAME", "host.hostname", false},
    {"_MACHINE_ID", "host.id", false},
    {"_BOOT_ID", "journald.host.boot_id", false},
    {"_PID", "process.pid", true},
    {"_COMM", "process.name", false},
    {"_EXE", "process.executable", false},
    {"_CMDLINE", "process.command_line", false},
    {"_UID", "user.id", false},
    {"_GID", "user.group.id", false},
    {"_CAP_EFFECTIVE", "journald.process.capabilities", false},
    {"_AUDIT_LOGINUID", "journald.audit.login_uid", true},
    {"_AUDIT_SESSION", "journald.audit.session", false},
    {"_SYSTEMD_CGROUP", "systemd.cgroup", false},
    {"_SYSTEMD_SLICE", "systemd.slice", false},
    {"_SYSTEMD_UNIT", "systemd.unit", false},
    {"_SYSTEMD_USER_UNIT", "systemd.user_unit", false},
    {"_SYSTEMD_USER_SLICE", "systemd.user_slice", false},
    {"_SYSTEMD_SESSION", "systemd.session", false},
    {"_SYSTEMD_OWNER_UID", "systemd.owner_uid", true},
    {"_SYSTEMD_INVOCATION_ID", "systemd.invocation_id", false},
    {"_TRANSPORT", "systemd.transport", false},
    {"CODE_FILE", "log.origin.file.name", false},
    {"CODE_LINE", "log.origin.file.line", true},
    {"CODE_FUNC", "log.origin.function", false},
    {"UNIT", "journald.unit", false},
    {"COREDUMP_UNIT", "journald.coredump.unit", false},
    {"COREDUMP_USER_UNIT", "journald.coredump.user_unit", false},
    {"OBJECT_PID", "journald.object.pid", true},
    {"OBJECT_UID", "journald.object.uid", true},
    {"OBJECT_GID", "journald.object.gid", true},
    {"OBJECT_COMM", "journald.object.process.name", false},
    {"OBJECT_EXE", "journald.object.process.executable", false},
    {"OBJECT_CMDLINE", "journald.object.process.command_line", false},
    {"OBJECT_SYSTEMD_UNIT", "journald.object.systemd.unit", false},
    {"_KERNEL_DEVICE", "journald.kernel.device", false},
    {"_KERNEL_SUBSYSTEM", "journald.kernel.subsystem", false},
    {"_UDEV_SYSNAME", "journald.kernel.device_name", false},
    {"_UDEV_DEVNODE", "journald.kernel.device_node_path", false},
    {"_UDEV_DEVLINK", "journald.kernel.device_symlinks", false},
    {"CONTAINER_ID", "container.id_truncated", false},
    {"CONTAINER_ID_FULL", "container.id", false},
    {"CONTAINER_NAME", "container.name", false},
    {"CONTAINER_TAG", "container.log.tag", false},
    {"CONTAINER_PARTIAL_MESSAGE", "container.partial", false},
    {"IMAGE_NAME", "container.image.name", false},
    {"__REALTIME_TIMESTAMP", "journald.realtime_timestamp", false},
};

static const struct field *field_of(struct sl_slice key)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (sl_slice_eq(key, table[i].journal, strlen(table[i].journal)))
            return &table[i];
    return NULL;
}

/* An array of numbers 0..255 (a value that is no UTF-8 text, as
 * journalctl writes it) becomes the string of those bytes. -1: out of
 * memory. */
static int bytes_as_string(struct sl_event *ev, struct sl_value *v)
{
    size_t n = 0;
    if (v->type != SL_VALUE_ARRAY || v->first == NULL)
        return 0;
    for (const struct sl_value *e = v->first; e != NULL; e = e->next, n++) {
        if (e->type != SL_VALUE_NUMBER || e->text.len == 0 || e->text.len > 3)
            return 0;
        unsigned b = 0;
        for (size_t i = 0; i < e->text.len; i++) {
            if (!sl_ascii_digit(e->text.ptr[i]))
                return 0;
            b = b * 10 + (unsigned)(e->text.ptr[i] - '0');
        }
        if (b > 255)
            return 0;
    }
    char *s = sl_arena_alloc(ev->arena, n);
    if (s == NULL)
        return -1;
    n = 0;
    for (const struct sl_value *e = v->first; e != NULL; e = e->next) {
        unsigned b = 0;
        for (size_t i = 0; i < e->text.len; i++)
            b = b * 10 + (unsigned)(e->text.ptr[i] - '0');
        s[n++] = (char)b;
    }
    v->type = SL_VALUE_STRING;
    v->text = (struct sl_slice){s, n};
    v->first = v->last = NULL;
    return 0;
}

/* A string that is a JSON integer ("0", "42"; at most 18 digits). */
static bool integer(const struct sl_value *v)
{
    size_t n = 0;
    while (n < v->text.len && sl_ascii_digit(v->text.ptr[n]))
        n++;
    return v->type == SL_VALUE_STRING && n > 0 && n == v->text.len && n <= 18 &&
           (n == 1 || v->text.ptr[0] != '0');
}

/* "journald.custom." and key in lower case, without its leading
 * underscores; the key kept as it is when that name is taken. */
static struct sl_slice custom_name(struct sl_event *ev, struct sl_value *line,
                                   struct sl_slice key)
{
    static const char pre[] = "journald.custom.";
    size_t skip = 0;
    while (skip < key.len && key.ptr[skip] == '_')
        skip++;
    if (skip == key.len)
        skip = 0;
    size_t n = sizeof pre - 1 + key.len - skip;
    char *s = sl_arena_alloc(ev->arena, sizeof pre + key.len);
    if (s == NULL)
        return (struct sl_slice){NULL, 0};
    memcpy(s, pre, sizeof pre - 1);
    for (size_t i = skip; i < key.len; i++) {
        char c = key.ptr[i];
        s[sizeof pre - 1 + i - skip] =
            c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    s[n] = '\0';
    if (member(line, s) != NULL) { /* "_FOO" after "FOO" */
        memcpy(s + sizeof pre - 1, key.ptr, key.len);
        n = sizeof pre - 1 + key.len;
    }
    return (struct sl_slice){s, n};
}

/* A new string member of line, last. -1: out of memory. */
static int add(struct sl_event *ev, struct sl_value *line, const char *key,
               struct sl_slice text)
{
    return proc_json_link_new(ev, line, SL_VALUE_STRING, sl_slice_from(key),
                              text);
}

/* log.level from PRIORITY, @timestamp from __REALTIME_TIMESTAMP. */
static int derived(struct sl_event *ev, struct sl_value *line)
{
    static const char *const levels[] = {"emerg",   "alert",  "crit", "err",
                                         "warning", "notice", "info", "debug"};
    struct sl_value *p = member(line, "PRIORITY");
    if (p != NULL && p->type == SL_VALUE_STRING && p->text.len == 1 &&
        p->text.ptr[0] >= '0' && p->text.ptr[0] <= '7' &&
        member(line, "log.level") == NULL &&
        add(ev, line, "log.level",
            sl_slice_from(levels[p->text.ptr[0] - '0'])) < 0)
        return -1;
    struct sl_value *t = member(line, "__REALTIME_TIMESTAMP");
    if (t == NULL || t->type != SL_VALUE_STRING || t->text.len < 4 ||
        t->text.len > 18 || member(line, "@timestamp") != NULL)
        return 0;
    int64_t us = 0;
    for (size_t i = 0; i < t->text.len; i++) {
        if (!sl_ascii_digit(t->text.ptr[i]))
            return 0;
        us = us * 10 + (t->text.ptr[i] - '0');
    }
    char *iso = sl_arena_alloc(ev->arena, SL_DATE_ISO8601_SIZE);
    if (iso == NULL)
        return -1;
    if (sl_date_format_iso8601_ms(us / 1000, iso) < 0)
        return 0; /* past year 9999: the time read stays */
    return add(ev, line, "@timestamp",
               (struct sl_slice){iso, SL_DATE_ISO8601_SIZE - 1});
}

/* journald stores at most 1024 fields an entry (ENTRY_FIELD_COUNT_MAX);
 * journalctl adds its own few (__CURSOR, the timestamps). A line of more
 * members is no journal's: mapping looks each member's new name up among
 * the others, and a 1 MiB line of 93,000 members took minutes of CPU. */
#define JOURNAL_MEMBERS_MAX 1100

static bool journal_line(struct sl_value *line)
{
    size_t n = 0;
    for (const struct sl_value *m = line->first; m != NULL; m = m->next)
        if (++n > JOURNAL_MEMBERS_MAX)
            return false;
    struct sl_value *t = member(line, "__REALTIME_TIMESTAMP");
    return (t != NULL && t->type == SL_VALUE_STRING) ||
           (member(line, "MESSAGE") != NULL &&
            member(line, "_TRANSPORT") != NULL);
}

int proc_json_journald(struct sl_event *ev, struct sl_value *line)
{
    if (!journal_line(line))
        return 0;
    if (derived(ev, line) < 0)
        return -1;
    for (struct sl_value *m = line->first; m != NULL; m = m->next) {
        if (m->key.len == 0 || m->key.ptr[0] == '@' ||
            (m->key.ptr[0] >= 'a' && m->key.ptr[0] <= 'z'))
            continue; /* ours (log.level, @timestamp), or no journal's */
        if (bytes_as_string(ev, m) < 0)
            return -1;
        const struct field *f = field_of(m->key);
        bool null_message = f == table && m->type == SL_VALUE_NULL;
        if (f != NULL && !null_message && (!f->integer || integer(m)) &&
            member(line, f->name) == NULL) {
            m->key = sl_slice_from(f->name);
            if (f->integer)
                m->type = SL_VALUE_NUMBER;
        } else if ((m->key = custom_name(ev, line, m->key)).ptr == NULL) {
            return -1;
        }
        m->key_plain =
            sl_json_plain_prefix(m->key.ptr, m->key.len) == m->key.len;
    }
    return 0;
}
