#!/usr/bin/env python3
"""Checks conf/elasticsearch/sluice-template.json against what Sluice emits.

The template is written by hand (it is the file Elasticsearch reads, and the
easiest place to review a field's type); this checker keeps it honest as the
pattern library and the case files change:

1. Every capture of every ecs-v1 library pattern (sluice-grok --list, then
   --explain of each) has an explicit mapping whose type holds the capture's
   type: :int -> long, :float -> double, a string -> keyword, text or ip.
   Captures under [@metadata] are skipped: Sluice drops them, as Logstash does.
2. A string capture mapped as ip is captured only with IP, IPV4 or IPV6 in
   the pattern files (IPORHOST may yield a host name), unless it is listed in
   IP_EXCEPTIONS with the reason.
3. Every field the shipper emits (SHIPPER_FIELDS, DESIGN.md "The event") has
   its explicit mapping.
4. Every value of every expected event in the ecs-v1 case files fits the
   mapping its path resolves to: explicitly, or through the dynamic templates
   for a case that names its own captures (%{INT:n:int}), as a user's own
   grok fields would. An IP field holds IPs, a long field integers only (a
   float would be truncated), a double field numbers; arrays are checked
   element by element; an object never lands on a leaf, nor a leaf on an
   object (a mapping conflict in one index).
5. No path is both a leaf and an object across all of the above.
6. Every explicit leaf is produced by something (no stale mappings), every
   keyword has an ignore_above (a term over 32766 bytes rejects the whole
   document), and the settings the README promises are there.

usage: check_template.py TEMPLATE SLUICE_GROK PATTERNS_DIR CASES_DIR VERSION
"""
import ipaddress
import json
import os
import re
import subprocess
import sys

# DESIGN.md "The event", the container stream of docker and CRI inputs
# (Filebeat's name for it), plus the traceback processor's fields.
SHIPPER_FIELDS = {
    "@timestamp": "date",
    "message": "text",
    "host.name": "keyword",
    "agent.type": "keyword",
    "agent.version": "keyword",
    "log.file.path": "keyword",
    "log.offset": "long",
    "tags": "keyword",
    "stream": "keyword",
    "event.original": "keyword",
    "error.type": "keyword",
    "error.message": "text",
    "error.stack_trace": "text",
    "log.origin.file.name": "keyword",
    "log.origin.file.line": "long",
    "log.origin.function": "keyword",
    # the json processor's ECS keys (trace_id, spanId, ... and Datadog's
    # numbers): keyword, or a day's first numeric id maps them long
    "trace.id": "keyword",
    "span.id": "keyword",
}

# ECS fields mapped though no library pattern captures them: one a processor
# will set, and one the Java multi-line recipe of the case files captures.
RESERVED = {"event.duration", "process.thread.name"}

# Captures typed :int whose ECS type is keyword; a keyword field indexes the
# number's text, so the event indexes, and ECS queries still work.
INT_AS_KEYWORD = {"dns.id": "ECS dns.id is keyword; BIND9 captures it :int"}

# ip fields some pattern captures with a syntax that also matches host names.
IP_EXCEPTIONS = {
    ("source.ip", "IPORHOST"):
        "CLOUDFRONT_ACCESS_LOG: c-ip is always an address in CloudFront "
        "logs; a host name would be dropped by ignore_malformed, the event "
        "still indexed",
}

IP_SYNTAXES = {"IP", "IPV4", "IPV6"}
KEYWORD_MAX_IGNORE_ABOVE = 8191  # 32766 bytes / 4 bytes per UTF-8 char
INT64 = (-(2**63), 2**63 - 1)


def ecs_path(ref):
    """'[a][b]' -> 'a.b'; a bare name stays as it is."""
    if ref.startswith("["):
        return ".".join(re.findall(r"\[([^\]]+)\]", ref))
    return ref


def is_leaf(node):
    # A property named "type" (agent.type) holds a dict, a leaf a string.
    return isinstance(node.get("type"), str)


class Mapping:
    def __init__(self, template):
        mappings = template["template"]["mappings"]
        self.leaves = {}
        self.objects = set()
        self.walk("", mappings["properties"])
        self.dynamic = {}
        for entry in mappings.get("dynamic_templates", []):
            for name, dt in entry.items():
                self.dynamic[dt.get("match_mapping_type")] = (name,
                                                              dt["mapping"])

    def walk(self, prefix, props):
        for name, node in props.items():
            path = prefix + name
            if is_leaf(node):
                self.leaves[path] = node
            else:
                self.objects.add(path)
                self.walk(path + ".", node.get("properties", {}))

    def resolve(self, path, json_kind):
        """(mapping, how) for a path holding a JSON value of json_kind
        ('string', 'long', 'double', 'boolean', 'object'); how is
        'explicit', 'dynamic:NAME' or 'default'. Raises ValueError on a
        conflict."""
        parts = path.split(".")
        for i in range(1, len(parts)):
            anc = ".".join(parts[:i])
            if anc in self.leaves:
                raise ValueError(f"'{anc}' is mapped as "
                                 f"{self.leaves[anc]['type']}, but '{path}' "
                                 "needs it to be an object")
        if json_kind == "object":
            if path in self.leaves:
                raise ValueError(f"an object lands on '{path}', mapped as "
                                 f"{self.leaves[path]['type']}")
            return None, "explicit" if path in self.objects else "default"
        if path in self.leaves:
            return self.leaves[path], "explicit"
        if path in self.objects:
            raise ValueError(f"a {json_kind} lands on '{path}', mapped as an "
                             "object")
        if json_kind in self.dynamic:
            name, m = self.dynamic[json_kind]
            return m, "dynamic:" + name
        # Elasticsearch's own dynamic mapping for the rest.
        default = {"long": "long", "boolean": "boolean", "double": "float"}
        return {"type": default[json_kind]}, "default"


def json_kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    raise ValueError(f"unexpected JSON value {value!r}")


def value_fits(path, mtype, value):
    """None if value can be indexed into a field of mtype, else why not."""
    if isinstance(value, bool):
        return None if mtype in ("boolean", "keyword") else "a boolean"
    if mtype == "long":
        if not isinstance(value, int):
            return f"{value!r} is not an integer"
        if not INT64[0] <= value <= INT64[1]:
            return f"{value} is out of the long range"
        return None
    if mtype in ("double", "float"):
        if isinstance(value, (int, float)):
            return None
        return f"{value!r} is not a number"
    if mtype == "ip":
        if not isinstance(value, str) or "%" in value:
            return f"{value!r} is not an IP address"
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not an IP address"
        return None
    if mtype == "date":
        if isinstance(value, str) and re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)",
                value):
            return None
        return f"{value!r} is not an ISO 8601 date"
    if mtype in ("keyword", "text"):
        if isinstance(value, str):
            return None
        if mtype == "keyword" and isinstance(value, int) and \
                path in INT_AS_KEYWORD:
            return None
        return f"{value!r} is not a string"
    return f"unexpected mapping type {mtype}"


def capture_fits(path, ctype, mapping):
    mtype = mapping["type"]
    if ctype == "int":
        if mtype == "long" or (mtype == "keyword" and path in INT_AS_KEYWORD):
            return None
    elif ctype == "float":
        if mtype == "double":
            return None
    elif ctype == "string":
        if mtype in ("keyword", "text", "ip"):
            return None
    return f"a :{ctype} capture is mapped as {mtype}"


def library_captures(tool):
    """{path: {type: [pattern names]}} for every ecs-v1 pattern."""
    run = subprocess.run([tool, "--ecs", "v1", "--list"], capture_output=True,
                         text=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"{tool} --list failed: {run.stderr}")
    names = run.stdout.split()
    captures = {}
    for name in names:
        run = subprocess.run([tool, "--ecs", "v1", "--explain",
                              "%{" + name + "}"], capture_output=True,
                             text=True, timeout=120)
        if run.returncode != 0:
            sys.exit(f"{tool} --explain %{{{name}}} failed: {run.stderr}")
        for line in run.stdout.splitlines():
            m = re.match(r"\s+g\d+\s+(\S+) \((\w+)\)$", line)
            if m and not m.group(1).startswith("[@metadata]"):
                path = ecs_path(m.group(1))
                captures.setdefault(path, {}).setdefault(m.group(2),
                                                         []).append(name)
    return names, captures


def capture_syntaxes(patterns_dir):
    """{path: {SYNTAX}} from %{SYNTAX:field...} in the pattern files;
    (?<field>...) counts as syntax '(?<>)'."""
    syntaxes = {}
    for fname in sorted(os.listdir(patterns_dir)):
        with open(os.path.join(patterns_dir, fname), encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"%\{(\w+):([^:}]+)(?::\w+)?\}", text):
            syntaxes.setdefault(ecs_path(m.group(2)), set()).add(m.group(1))
        for m in re.finditer(r"\(\?<([^>=!][^>]*)>", text):
            syntaxes.setdefault(ecs_path(m.group(1)), set()).add("(?<>)")
    return syntaxes


def adhoc_case(pattern):
    """True when a case names its own captures (%{INT:n:int}, (?<x>...)),
    as a user would: its fields may go through the dynamic templates."""
    refs = re.findall(r"%\{\w+:([^:}]+)", pattern)
    refs += re.findall(r"\(\?<([^>=!][^>]*)>", pattern)
    return any(not r.startswith("[") and r not in ("timestamp", "message")
               for r in refs)


def walk_values(prefix, value, out):
    """(path, leaf value or {}) pairs; arrays are flattened, as
    Elasticsearch maps them by their elements."""
    if isinstance(value, list):
        for v in value:
            walk_values(prefix, v, out)
    elif isinstance(value, dict):
        out.append((prefix, {}))
        for k, v in value.items():
            walk_values(prefix + "." + k if prefix else k, v, out)
    else:
        out.append((prefix, value))


def check_cases(cases_dir, mapping, failures, stats):
    for fname in sorted(os.listdir(cases_dir)):
        if not fname.endswith(".jsonl"):
            continue
        path = os.path.join(cases_dir, fname)
        with open(path, encoding="utf-8") as f:
            for lineno, raw in enumerate(f, 1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                case = json.loads(text)
                if case["expect"] is None:
                    continue
                adhoc = adhoc_case(case["pattern"])
                stats["events"] += 1
                pairs = []
                walk_values("", case["expect"], pairs)
                for field, value in pairs:
                    if field == "":
                        continue
                    where = f"{fname}:{lineno}: {field}"
                    try:
                        m, how = mapping.resolve(field, json_kind(value))
                    except ValueError as e:
                        failures.append(f"{where}: {e}")
                        continue
                    if m is None:
                        continue
                    if how != "explicit":
                        if not adhoc:
                            failures.append(f"{where}: a library pattern's "
                                            "field has no explicit mapping")
                            continue
                        stats["dynamic"].add(field)
                    else:
                        stats["explicit"].add(field)
                    why = value_fits(field, m["type"], value)
                    if why:
                        failures.append(f"{where}: {why} for a "
                                        f"{m['type']} field ({how})")


# Field types that refuse a value that does not parse.
STRICT_TYPES = ("long", "double", "ip", "date")


def check_settings(template, version, failures):
    if template.get("index_patterns") != ["sluice-*"]:
        failures.append("index_patterns must be [\"sluice-*\"]")
    meta = template.get("_meta", {})
    if meta.get("sluice_version") != version:
        failures.append(f"_meta.sluice_version is not {version}")
    if not isinstance(template.get("version"), int) or \
            template.get("version") != meta.get("template_version"):
        failures.append("version and _meta.template_version must be the same "
                        "integer")
    mappings = template["template"]["mappings"]
    for key in ("date_detection", "numeric_detection"):
        if mappings.get(key) is not False:
            failures.append(f"mappings.{key} must be false")
    index = template["template"]["settings"]["index"]
    if "number_of_replicas" in index:
        failures.append("number_of_replicas is forced; README says "
                        "auto_expand_replicas")
    # A value that does not fit its field costs the field, not the event:
    # every field that can refuse a value (numbers, ips, dates) sets
    # ignore_malformed, and so do the dynamic templates for numbers. Except
    # @timestamp: an event without a usable time is invisible in every
    # time-filtered view, so a bad one is refused (dead-lettered with its
    # reason). This is done per field, not with the index-level setting,
    # because OpenSearch 2 and 3 let the index-level setting override a
    # field's "ignore_malformed": false (measured on 2.17).
    if "ignore_malformed" in index.get("mapping", {}):
        failures.append("index.mapping.ignore_malformed must not be set: "
                        "OpenSearch would apply it to @timestamp too")
    stamp = mappings.get("properties", {}).get("@timestamp", {})
    if stamp.get("ignore_malformed") is not False:
        failures.append("@timestamp must set ignore_malformed: false")

    def walk(props, prefix):
        for name, m in props.items():
            path = prefix + name
            if "properties" in m:
                walk(m["properties"], path + ".")
            elif m.get("type") in STRICT_TYPES and path != "@timestamp" \
                    and m.get("ignore_malformed") is not True:
                failures.append(f"{path}: a {m['type']} field without "
                                f"ignore_malformed: true")
    walk(mappings.get("properties", {}), "")
    for entry in mappings.get("dynamic_templates", []):
        for name, d in entry.items():
            m = d.get("mapping", {})
            if m.get("type") in STRICT_TYPES and \
                    m.get("ignore_malformed") is not True:
                failures.append(f"dynamic template {name}: a {m['type']} "
                                f"mapping without ignore_malformed: true")
    dynamic_types = {d.get("match_mapping_type")
                     for entry in mappings.get("dynamic_templates", [])
                     for d in entry.values()}
    for t in ("long", "double"):
        if t not in dynamic_types:
            failures.append(f"no dynamic template for JSON {t} values")


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    tpath, tool, patterns_dir, cases_dir, version = sys.argv[1:]
    with open(tpath, encoding="utf-8") as f:
        template = json.load(f)
    mapping = Mapping(template)
    failures, notes = [], []
    check_settings(template, version, failures)

    for path, m in mapping.leaves.items():
        if m["type"] == "keyword" and m.get("index", True) and \
                not 0 < m.get("ignore_above", 0) <= KEYWORD_MAX_IGNORE_ABOVE:
            failures.append(f"{path}: a keyword needs an ignore_above from 1 "
                            f"to {KEYWORD_MAX_IGNORE_ABOVE}")
    for kind in ("string", "double"):
        if kind not in mapping.dynamic:
            failures.append(f"no dynamic template for JSON {kind}s")

    names, captures = library_captures(tool)
    syntaxes = capture_syntaxes(patterns_dir)
    for path, types in sorted(captures.items()):
        if len(types) > 1:
            failures.append(f"{path}: captured as {' and '.join(types)} by "
                            "different patterns: one index cannot hold both")
        m = mapping.leaves.get(path)
        if m is None:
            failures.append(f"{path}: captured by {types} but not mapped")
            continue
        for ctype, pats in types.items():
            why = capture_fits(path, ctype, m)
            if why:
                failures.append(f"{path}: {why} (%{{{pats[0]}}})")
        if path in INT_AS_KEYWORD:
            notes.append(f"{path}: {INT_AS_KEYWORD[path]}")
        if m["type"] == "ip":
            for syn in sorted(syntaxes.get(path, set()) - IP_SYNTAXES):
                if (path, syn) in IP_EXCEPTIONS:
                    notes.append(f"{path} from {syn}: "
                                 f"{IP_EXCEPTIONS[(path, syn)]}")
                else:
                    failures.append(f"{path} is mapped as ip but captured "
                                    f"with %{{{syn}}}, which may not be an IP")

    for path, mtype in SHIPPER_FIELDS.items():
        m = mapping.leaves.get(path)
        if m is None or m["type"] != mtype:
            failures.append(f"{path} (shipper): expected {mtype}, mapped as "
                            f"{m['type'] if m else 'nothing'}")

    produced = set(captures) | set(SHIPPER_FIELDS) | RESERVED
    for path in sorted(set(mapping.leaves) - produced):
        failures.append(f"{path}: mapped, but nothing emits it (stale?)")
    paths = sorted(produced)
    for a, b in zip(paths, paths[1:]):
        if b.startswith(a + "."):
            failures.append(f"'{a}' is a leaf and '{b}' needs it to be an "
                            "object")

    stats = {"events": 0, "explicit": set(), "dynamic": set()}
    check_cases(cases_dir, mapping, failures, stats)

    for n in notes:
        print("note:", n)
    if failures:
        for f in failures:
            print("FAIL:", f)
        print(f"{len(failures)} problem(s) in {tpath}")
        return 1
    print(f"ok: {len(mapping.leaves)} mapped leaves; {len(captures)} capture "
          f"fields of {len(names)} ecs-v1 patterns and {len(SHIPPER_FIELDS)} "
          f"shipper fields explicitly mapped; {stats['events']} case events: "
          f"{len(stats['explicit'])} fields explicit, "
          f"{len(stats['dynamic'])} via dynamic templates "
          f"({', '.join(sorted(stats['dynamic']))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
