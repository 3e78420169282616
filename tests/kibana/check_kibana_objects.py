#!/usr/bin/env python3
"""check_kibana_objects.py: the Kibana saved objects `setup` imports
(conf/kibana/*.ndjson), checked without a Kibana:

- every line is one JSON saved object (id, type, attributes, references),
  ids unique per type, the JSON strings inside (panelsJSON, optionsJSON,
  searchSourceJSON) parse too;
- every reference resolves to an object of its type in the files, and
  each one a panel or layer needs is there (a dashboard panel's
  "<panel>:<panelRefName>", a Lens layer's indexpattern-datasource-layer-*);
  every lens object is on a dashboard; panels fit the 48-column grid and do
  not overlap;
- no object claims migrations Kibana 8.0 does not have (Kibana refuses
  an object whose migrationVersion is past its type's newest migration),
  so the file imports into every 8.x;
- the data view is for the indices the index template maps (sluice-*), its
  time field a date there;
- every field a panel uses (a column's sourceField, each field of the KQL
  in a filters column, a panel's query) is mapped in the index template,
  multi-fields resolved (user_agent.original is the keyword,
  user_agent.original.text the text), with a type the operation can
  aggregate: date for date histograms, a number for sums, keyword, a
  number, ip, date or boolean for top values (never text), and the
  column's dataType matches it.

usage: check_kibana_objects.py TEMPLATE.json KIBANA_DIR
Also a module: fields_by_dashboard(dir) for the examples' test.
"""
import glob
import json
import os
import re
import sys

GRID_COLUMNS = 48
NUMERIC = {"long", "integer", "short", "byte", "double", "float",
           "half_float", "scaled_float", "unsigned_long"}
AGGREGATABLE = NUMERIC | {"keyword", "constant_keyword", "date",
                          "date_nanos", "ip", "boolean"}
DATA_TYPE = dict({t: "number" for t in NUMERIC}, keyword="string",
                 constant_keyword="string", date="date", date_nanos="date",
                 ip="ip", boolean="boolean")
# What each Lens operation needs of its sourceField.
NEEDS = {"date_histogram": {"date", "date_nanos"},
         "sum": NUMERIC, "average": NUMERIC, "min": NUMERIC | {"date"},
         "max": NUMERIC | {"date"}, "median": NUMERIC,
         "percentile": NUMERIC, "range": NUMERIC,
         "terms": AGGREGATABLE, "cardinality": AGGREGATABLE,
         "last_value": AGGREGATABLE, "count": AGGREGATABLE}
RECORDS = {"Records", "___records___"}  # count of documents: no field
# The newest migrationVersion Kibana 8.0.0 accepts for each type (its
# types' newest migrations then; lens's next is 8.1.0's), and its core
# version. A claim past these is refused by 8.0 as "a more recent version".
OLDEST_KIBANA = "8.0.0"
MIGRATED_IN_8_0 = {"lens": "7.16.0", "dashboard": "7.14.0",
                   "index-pattern": "7.6.0"}


def semver(v):
    return tuple(int(x) for x in v.split("."))


def check_versions(where, o, problems):
    if "typeMigrationVersion" in o:
        problems.add(where, "typeMigrationVersion is Kibana 8.8's; say "
                     "migrationVersion, which every 8.x reads")
    core = o.get("coreMigrationVersion", OLDEST_KIBANA)
    if semver(core) > semver(OLDEST_KIBANA):
        problems.add(where, "coreMigrationVersion %s is newer than Kibana "
                     "%s" % (core, OLDEST_KIBANA))
    for t, v in (o.get("migrationVersion") or {}).items():
        top = MIGRATED_IN_8_0.get(t)
        if t != o["type"] or top is None or semver(v) > semver(top):
            problems.add(where, "migrationVersion %s %s: Kibana %s knows "
                         "%s %s at most" % (t, v, OLDEST_KIBANA, t, top))


class Problems(list):
    def add(self, where, what):
        self.append("%s: %s" % (where, what))


def template_fields(path):
    """{"a.b.c": (type, mapping)} of every leaf and multi-field."""
    with open(path, encoding="utf-8") as f:
        props = json.load(f)["template"]["mappings"]["properties"]
    out = {}

    def walk(prefix, props):
        for name, m in props.items():
            full = prefix + name
            if "properties" in m:
                walk(full + ".", m["properties"])
                continue
            out[full] = (m.get("type", "object"), m)
            for sub, sm in m.get("fields", {}).items():
                out[full + "." + sub] = (sm.get("type", "object"), sm)
    walk("", props)
    return out


def read_objects(kibana_dir, problems):
    objs = []
    files = sorted(glob.glob(os.path.join(kibana_dir, "*.ndjson")))
    if not files:
        problems.add(kibana_dir, "no .ndjson files")
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        if not data.endswith(b"\n"):
            problems.add(path, "does not end with a newline")
        for n, line in enumerate(data.split(b"\n")[:-1], 1):
            where = "%s:%d" % (os.path.basename(path), n)
            try:
                o = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                problems.add(where, "not JSON: %s" % e)
                continue
            if not isinstance(o, dict) or not all(
                    isinstance(o.get(k), t) for k, t in (
                        ("id", str), ("type", str), ("attributes", dict),
                        ("references", list))):
                problems.add(where, "not a saved object (id, type, "
                             "attributes, references)")
                continue
            objs.append((where, o))
    return objs


def json_attr(where, o, keys, problems):
    v = o["attributes"]
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
    try:
        return json.loads(v)
    except (TypeError, ValueError) as e:
        problems.add(where, "%s is not a JSON string: %s" % (".".join(keys),
                                                             e))
        return None


def kql_fields(query):
    """The field names of a KQL query: a name before ':' or a range
    operator. Enough for the simple queries the objects use."""
    return re.findall(r"([A-Za-z_@][\w.@]*)\s*(?::|<=|>=|<|>)", query)


def check_field(where, field, op, data_type, fields, problems):
    if field not in fields:
        problems.add(where, "field '%s' is not in the index template" %
                     field)
        return
    ftype, m = fields[field]
    if m.get("index") is False or m.get("doc_values") is False:
        problems.add(where, "field '%s' is not indexed" % field)
    need = NEEDS.get(op, AGGREGATABLE) if op else None
    if need is not None and ftype not in need:
        problems.add(where, "field '%s' is %s, which %s cannot aggregate" %
                     (field, ftype, op))
    if data_type is not None and DATA_TYPE.get(ftype) != data_type:
        problems.add(where, "field '%s' is %s, but the column says "
                     "dataType %s" % (field, ftype, data_type))


def check_query(where, query, fields, problems, used):
    if not isinstance(query, dict) or query.get("language") != "kuery":
        problems.add(where, "query is not {language: kuery, query: ...}")
        return
    for f in kql_fields(query.get("query", "")):
        check_field(where, f, None, None, fields, problems)
        used.add(f)


def check_lens(where, o, fields, problems):
    """The fields the lens object uses."""
    used = set()
    a = o["attributes"]
    state = a.get("state", {})
    layers = (state.get("datasourceStates", {}).get("indexpattern") or
              state.get("datasourceStates", {}).get("formBased") or
              {}).get("layers", {})
    if not a.get("title") or not a.get("visualizationType") or not layers:
        problems.add(where, "lens without title, visualizationType or "
                     "layers")
    refs = {r.get("name"): r for r in o["references"]}
    for lid, layer in layers.items():
        name = "indexpattern-datasource-layer-" + lid
        if refs.get(name, {}).get("type") != "index-pattern":
            problems.add(where, "layer '%s' has no reference '%s'" %
                         (lid, name))
        cols = layer.get("columns", {})
        if sorted(layer.get("columnOrder", [])) != sorted(cols):
            problems.add(where, "layer '%s': columnOrder and columns "
                         "differ" % lid)
        for cid, c in cols.items():
            w = "%s column '%s'" % (where, cid)
            op, src = c.get("operationType"), c.get("sourceField")
            if src and src not in RECORDS:
                check_field(w, src, op, c.get("dataType"), fields, problems)
                used.add(src)
            elif op != "count" and op != "filters":
                problems.add(w, "operation %s without a field" % op)
            if op == "terms":
                order = c.get("params", {}).get("orderBy", {})
                if order.get("type") == "column" and \
                        order.get("columnId") not in cols:
                    problems.add(w, "orders by a column that is not there")
            for flt in c.get("params", {}).get("filters", []):
                check_query(w, flt.get("input"), fields, problems, used)
            if c.get("filter"):
                check_query(w, c["filter"], fields, problems, used)
        accessors = json.dumps(state.get("visualization", {}))
        for cid in cols:
            if '"%s"' % cid not in accessors:
                problems.add(where, "column '%s' is not shown" % cid)
    check_query(where, state.get("query"), fields, problems, used)
    return used


def overlap(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and
            a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def check_dashboard(where, o, by_key, problems):
    """The ids of the lens objects on the dashboard."""
    panels = json_attr(where, o, ["panelsJSON"], problems) or []
    json_attr(where, o, ["optionsJSON"], problems)
    json_attr(where, o, ["kibanaSavedObjectMeta", "searchSourceJSON"],
              problems)
    if not o["attributes"].get("title"):
        problems.add(where, "dashboard without a title")
    refs = {r.get("name"): r for r in o["references"]}
    shown, grids = [], []
    for p in panels:
        g, idx = p.get("gridData", {}), p.get("panelIndex")
        w = "%s panel '%s'" % (where, idx)
        if g.get("i") != idx:
            problems.add(w, "gridData.i is not the panelIndex")
        if not all(isinstance(g.get(k), int) and g[k] >= 0
                   for k in "xywh") or g["w"] == 0 or g["h"] == 0 or \
                g["x"] + g["w"] > GRID_COLUMNS:
            problems.add(w, "gridData %s outside the %d-column grid" %
                         (g, GRID_COLUMNS))
            continue
        for other_idx, other in grids:
            if overlap(g, other):
                problems.add(w, "overlaps panel '%s'" % other_idx)
        grids.append((idx, g))
        ref = refs.get("%s:%s" % (idx, p.get("panelRefName")))
        if ref is None:
            problems.add(w, "no reference '%s:%s'" % (idx,
                                                      p.get("panelRefName")))
        elif ref.get("type") != p.get("type"):
            problems.add(w, "panel type %s, reference type %s" %
                         (p.get("type"), ref.get("type")))
        else:
            shown.append(ref["id"])
    if len(set(shown)) != len(shown):
        problems.add(where, "a panel is there twice")
    return shown


def check(template, kibana_dir):
    """(problems, {dashboard title: set of fields})."""
    problems = Problems()
    fields = template_fields(template)
    with open(template, encoding="utf-8") as f:
        patterns = json.load(f)["index_patterns"]
    objs = read_objects(kibana_dir, problems)
    by_key = {}
    for where, o in objs:
        key = (o["type"], o["id"])
        if key in by_key:
            problems.add(where, "%s '%s' is there twice" % key)
        by_key[key] = (where, o)
    for where, o in objs:
        check_versions(where, o, problems)
        for r in o["references"]:
            if (r.get("type"), r.get("id")) not in by_key:
                problems.add(where, "reference '%s' to %s '%s' resolves "
                             "to nothing in the files" %
                             (r.get("name"), r.get("type"), r.get("id")))
    views = [o for _, o in objs if o["type"] == "index-pattern"]
    for v in views:
        a = v["attributes"]
        if a.get("title") not in patterns:
            problems.add("data view", "title %r is not one of the "
                         "template's index_patterns %s" %
                         (a.get("title"), patterns))
        if fields.get(a.get("timeFieldName"), ("",))[0] != "date":
            problems.add("data view", "time field %r is not a date in the "
                         "template" % a.get("timeFieldName"))
    if len(views) != 1:
        problems.add(kibana_dir, "%d data views, wanted 1" % len(views))
    lens_fields, on_board = {}, set()
    for where, o in objs:
        if o["type"] == "lens":
            lens_fields[o["id"]] = check_lens(where, o, fields, problems)
    dashboards = {}
    for where, o in objs:
        if o["type"] == "dashboard":
            ids = check_dashboard(where, o, by_key, problems)
            on_board.update(ids)
            dashboards[o["attributes"].get("title")] = set().union(
                *(lens_fields.get(i, set()) for i in ids))
    for lid in sorted(set(lens_fields) - on_board):
        problems.add("lens '%s'" % lid, "on no dashboard")
    for where, o in objs:
        if o["type"] not in ("index-pattern", "lens", "dashboard"):
            problems.add(where, "unexpected type %s" % o["type"])
    return problems, dashboards


def fields_by_dashboard(template, kibana_dir):
    problems, dashboards = check(template, kibana_dir)
    if problems:
        raise ValueError("; ".join(problems))
    return dashboards


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    problems, dashboards = check(argv[1], argv[2])
    for p in problems:
        print("FAIL " + p)
    for title in sorted(dashboards):
        print("ok   %s: %s" % (title, ", ".join(sorted(dashboards[title]))))
    if not dashboards:
        print("FAIL no dashboards")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
