#!/usr/bin/env python3
"""test_kibana_objects.py: conf/kibana/ passes check_kibana_objects.py, is
what kibana_objects.py writes, and each kind of defect the checker looks
for (a text field, an unmapped field, a multi-field taken for its parent,
a broken reference, a panel off the grid...) is found in a broken copy,
so the check cannot pass by checking nothing.

usage: test_kibana_objects.py TEMPLATE.json KIBANA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_kibana_objects as ck  # noqa: E402

TEMPLATE, KIBANA = sys.argv[1:3]
failures = []


def case(fn):
    try:
        fn()
        print("ok   " + fn.__name__)
    except AssertionError as e:
        failures.append(fn.__name__)
        print("FAIL %s: %s" % (fn.__name__, e))
    return fn


def objects():
    objs = []
    for name in sorted(os.listdir(KIBANA)):
        if name.endswith(".ndjson"):
            with open(os.path.join(KIBANA, name), encoding="utf-8") as f:
                objs += [json.loads(line) for line in f]
    return objs


def find(objs, oid):
    return next(o for o in objs if o["id"] == oid)


def column(o, cid):
    state = o["attributes"]["state"]["datasourceStates"]["indexpattern"]
    return state["layers"]["layer1"]["columns"][cid]


def problems_of(objs):
    with tempfile.TemporaryDirectory(prefix="sluice-kibana-") as d:
        with open(os.path.join(d, "sluice.ndjson"), "w") as f:
            for o in objs:
                f.write(json.dumps(o) + "\n")
        return ck.check(TEMPLATE, d)[0]


def expect(objs, text):
    found = problems_of(objs)
    if not any(text in p for p in found):
        raise AssertionError("no problem with %r among %s" % (text, found))


@case
def the_shipped_objects_pass():
    problems, boards = ck.check(TEMPLATE, KIBANA)
    if problems:
        raise AssertionError("; ".join(problems))
    if sorted(boards) != ["Application errors", "Web access"]:
        raise AssertionError("dashboards %s" % sorted(boards))
    want = {"Web access": {"@timestamp", "http.response.status_code",
                           "http.response.body.bytes", "url.original",
                           "source.address", "user_agent.original"},
            "Application errors": {"@timestamp", "error.type",
                                   "log.origin.file.name",
                                   "log.origin.file.line",
                                   "log.origin.function", "host.name",
                                   "service.name", "log.level"}}
    if boards != want:
        raise AssertionError("fields %s, wanted %s" % (boards, want))


@case
def the_file_is_what_the_generator_writes():
    for name in os.listdir(KIBANA):
        if name.endswith(".ndjson") and name != "sluice.ndjson":
            raise AssertionError("unexpected file %s" % name)
    p = subprocess.run([sys.executable,
                        os.path.join(HERE, "kibana_objects.py"), "--check",
                        os.path.join(KIBANA, "sluice.ndjson")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(p.stderr)


@case
def one_data_view_for_the_template_indices_and_the_time_field():
    views = [o for o in objects() if o["type"] == "index-pattern"]
    if [v["attributes"] for v in views] != [
            {"title": "sluice-*", "timeFieldName": "@timestamp"}]:
        raise AssertionError(views)
    # the data view comes first, as in an export with its references
    if objects()[0]["type"] != "index-pattern":
        raise AssertionError("the data view is not the first object")


@case
def a_text_field_is_refused():
    objs = objects()
    column(find(objs, "sluice-web-top-urls"), "u")["sourceField"] = "message"
    expect(objs, "field 'message' is text, which terms cannot aggregate")


@case
def a_multi_field_is_not_its_parent():
    objs = objects()
    column(find(objs, "sluice-web-user-agents"), "a")["sourceField"] = \
        "user_agent.original.text"
    expect(objs, "field 'user_agent.original.text' is text")


@case
def an_unmapped_field_is_refused_in_a_column_and_in_kql():
    objs = objects()
    column(find(objs, "sluice-web-top-clients"), "a")["sourceField"] = \
        "client.address.nope"
    expect(objs, "field 'client.address.nope' is not in the index template")
    objs = objects()
    f = column(find(objs, "sluice-web-requests-by-status-class"), "c")
    f["params"]["filters"][0]["input"]["query"] = "http.status >= 200"
    expect(objs, "field 'http.status' is not in the index template")
    objs = objects()
    find(objs, "sluice-errors-by-host")["attributes"]["state"]["query"][
        "query"] = "exception.type : *"
    expect(objs, "field 'exception.type' is not in the index template")


@case
def a_sum_needs_a_number_and_a_dataType_matches_the_field():
    objs = objects()
    column(find(objs, "sluice-web-bytes-served"), "b")["sourceField"] = \
        "url.original"
    expect(objs, "field 'url.original' is keyword, which sum cannot")
    objs = objects()
    column(find(objs, "sluice-web-response-codes"), "s")["dataType"] = \
        "string"
    expect(objs, "field 'http.response.status_code' is long, but the "
           "column says dataType string")


@case
def references_resolve():
    objs = objects()
    find(objs, "sluice-web-access")["references"][0]["id"] = "gone"
    expect(objs, "reference 'p1:panel_p1' to lens 'gone' resolves to "
           "nothing")
    objs = objects()
    find(objs, "sluice-errors-crash-sites")["references"] = []
    expect(objs, "layer 'layer1' has no reference "
           "'indexpattern-datasource-layer-layer1'")
    objs = [o for o in objects() if o["type"] != "index-pattern"]
    expect(objs, "to index-pattern 'sluice-data-view' resolves to nothing")


@case
def ids_are_unique_and_every_lens_is_on_a_dashboard():
    objs = objects()
    objs.append(dict(find(objs, "sluice-web-top-urls")))
    expect(objs, "lens 'sluice-web-top-urls' is there twice")
    objs = objects()
    board = find(objs, "sluice-application-errors")
    board["references"] = board["references"][:-1]
    expect(objs, "no reference 'p5:panel_p5'")
    expect(objs, "lens 'sluice-errors-by-service': on no dashboard")


@case
def panels_stay_on_the_grid_and_apart():
    objs = objects()
    board = find(objs, "sluice-web-access")
    panels = json.loads(board["attributes"]["panelsJSON"])
    panels[1]["gridData"]["x"] = 30
    board["attributes"]["panelsJSON"] = json.dumps(panels)
    expect(objs, "outside the 48-column grid")
    panels[1]["gridData"].update(x=0, y=6)
    board["attributes"]["panelsJSON"] = json.dumps(panels)
    expect(objs, "panel 'p2': overlaps panel 'p1'")
    board["attributes"]["panelsJSON"] = "[{"
    expect(objs, "panelsJSON is not a JSON string")


@case
def no_object_claims_a_newer_kibana_than_8_0():
    objs = objects()
    find(objs, "sluice-web-top-urls")["migrationVersion"]["lens"] = "8.9.0"
    expect(objs, "migrationVersion lens 8.9.0: Kibana 8.0.0 knows lens "
           "7.16.0 at most")
    objs = objects()
    find(objs, "sluice-web-access")["typeMigrationVersion"] = "8.9.0"
    expect(objs, "typeMigrationVersion is Kibana 8.8's")
    objs = objects()
    find(objs, "sluice-data-view")["coreMigrationVersion"] = "8.8.0"
    expect(objs, "coreMigrationVersion 8.8.0 is newer than Kibana 8.0.0")


@case
def a_line_that_is_not_a_saved_object_is_said():
    with tempfile.TemporaryDirectory(prefix="sluice-kibana-") as d:
        with open(os.path.join(d, "x.ndjson"), "w") as f:
            f.write('{"id":"a"}\n{"id":\n')
        problems = ck.check(TEMPLATE, d)[0]
    if "x.ndjson:1: not a saved object" not in " ".join(problems) or \
            "x.ndjson:2: not JSON" not in " ".join(problems):
        raise AssertionError(problems)


print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
