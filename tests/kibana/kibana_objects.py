#!/usr/bin/env python3
"""kibana_objects.py: writes conf/kibana/sluice.ndjson, the saved objects
`sluice-indexer setup` imports into Kibana: the data view for sluice-*,
and the "Web access" and "Application errors" dashboards with their Lens
panels. The .ndjson file is what ships; this script is its readable
source, and `--check` (run by ctest kibana_objects_current) fails when the
file and this script differ.

    kibana_objects.py OUT.ndjson          write the file
    kibana_objects.py --check OUT.ndjson  exit 1 if the file is not what
                                          this script writes

Shape, and why (Kibana 8's export format, one object a line):
- Each panel is its own `lens` saved object, and a dashboard lists its
  panels by reference (panelRefName + a "<panel>:panel_<panel>"
  reference), the shape Kibana 8.0's own sample dashboards use. A lens
  object carries its own type migrations, so one written in the shape
  Kibana 8.0 stores (the "indexpattern" datasource, the count column on
  "Records", layerType "data") is brought forward by every later Kibana,
  as an export from 8.0 is; panels embedded by value in panelsJSON would
  be migrated only through the dashboard's embeddable migrations, whose
  handling of by-value Lens state has changed several times in 8.x. The
  panels are also in the Visualize library, to reuse or edit one alone.
- migrationVersion says which of its type's migrations an object has had:
  Kibana runs the later ones, and refuses an object that claims a version
  newer than its type's newest migration ("belongs to a more recent
  version of Kibana"). So each claims what Kibana 8.0 itself knows: lens
  7.16.0 (its last migration before 8.1.0's), dashboard 7.14.0 (as 8.0's
  sample dashboards), the data view none (its migrations all run on two
  attributes). coreMigrationVersion 8.0.0: the ids are 8.0's.
- One file, all objects, data view first: an import resolves references
  inside the file, so it needs no object to exist before it, and a user
  can import it by hand (Stack Management > Saved objects > Import) in
  one step. Fixed ids: `setup` imports with overwrite=true, so a second
  run replaces the same objects.
- Only what the picture needs: no field list in the data view (Kibana
  reads the fields from Elasticsearch), no colours, no custom palettes.
"""
import json
import sys

DATA_VIEW = "sluice-data-view"
CORE_VERSION = "8.0.0"     # coreMigrationVersion, and panels' version
LENS_VERSION = "7.16.0"    # see the docstring
DASHBOARD_VERSION = "7.14.0"
# Events that are errors: a traceback was found (error.type), or the log
# said so: log.level as the loggers write "error or worse" (kept as
# written, and a keyword matches exactly, so every spelling is listed):
# Python's and log4j's ERROR, CRITICAL, FATAL (and the json processor's
# error and fatal for pino's numbers), .NET's Error and Critical,
# Serilog's Fatal, java.util.logging's SEVERE, zap's and logrus's panic
# and dpanic, syslog's err, crit, alert and emerg, Monolog's and Google
# Cloud's ALERT and EMERGENCY.
ERROR_LEVELS = (
    "ERROR", "error", "Error", "ERR", "err", "CRITICAL", "critical",
    "Critical", "CRIT", "crit", "FATAL", "fatal", "Fatal", "SEVERE",
    "severe", "Severe", "PANIC", "panic", "DPANIC", "dpanic", "ALERT",
    "alert", "Alert", "EMERGENCY", "emergency", "Emergency", "EMERG",
    "emerg")
ERRORS = ("error.type : * or log.level : (" + " or ".join(ERROR_LEVELS) +
          ")")


# --- Lens columns ---------------------------------------------------------

def date_histogram():
    return {"label": "@timestamp", "dataType": "date",
            "operationType": "date_histogram", "sourceField": "@timestamp",
            "isBucketed": True, "scale": "interval",
            "params": {"interval": "auto"}}


def count(label):
    return {"label": label, "customLabel": True, "dataType": "number",
            "operationType": "count", "sourceField": "Records",
            "isBucketed": False, "scale": "ratio"}


def total_bytes(label):
    return {"label": label, "customLabel": True, "dataType": "number",
            "operationType": "sum", "sourceField": "http.response.body.bytes",
            "isBucketed": False, "scale": "ratio",
            "params": {"format": {"id": "bytes", "params": {"decimals": 1}}}}


def terms(label, field, data_type, size, order_by):
    return {"label": label, "customLabel": True, "dataType": data_type,
            "operationType": "terms", "sourceField": field,
            "isBucketed": True, "scale": "ordinal",
            "params": {"size": size,
                       "orderBy": {"type": "column", "columnId": order_by},
                       "orderDirection": "desc", "otherBucket": False,
                       "missingBucket": False}}


def status_classes():
    f = "http.response.status_code"
    return {"label": "Status class", "customLabel": True,
            "dataType": "string", "operationType": "filters",
            "isBucketed": True, "scale": "ordinal",
            "params": {"filters": [
                {"label": "%dxx" % c, "input": {
                    "language": "kuery",
                    "query": "%s >= %d and %s < %d" % (f, c * 100, f,
                                                       c * 100 + 100)}}
                for c in (2, 3, 4, 5)]}}


# --- Lens visualisations --------------------------------------------------

def xy(series, x, ys, split=None):
    layer = {"layerId": "layer1", "layerType": "data", "seriesType": series,
             "xAccessor": x, "accessors": ys}
    if split:
        layer["splitAccessor"] = split
    return "lnsXY", {"legend": {"isVisible": True, "position": "right"},
                     "valueLabels": "hide", "fittingFunction": "None",
                     "preferredSeriesType": series, "layers": [layer]}


def table(columns):
    return "lnsDatatable", {"layerId": "layer1", "layerType": "data",
                            "columns": [{"columnId": c, "isTransposed": False}
                                        for c in columns]}


def donut(group, metric):
    return "lnsPie", {"shape": "donut", "layers": [
        {"layerId": "layer1", "layerType": "data", "groups": [group],
         "metric": metric, "numberDisplay": "percent",
         "categoryDisplay": "default", "legendDisplay": "default",
         "nestedLegend": False}]}


def lens(oid, title, columns, vis, query=""):
    """A lens saved object of one layer ("layer1") on the data view;
    columns is a list of (id, column) in display order."""
    vis_type, vis_state = vis
    return {
        "id": oid, "type": "lens",
        "coreMigrationVersion": CORE_VERSION,
        "migrationVersion": {"lens": LENS_VERSION},
        "attributes": {
            "title": title, "description": "",
            "visualizationType": vis_type,
            "state": {
                "datasourceStates": {"indexpattern": {"layers": {"layer1": {
                    "columnOrder": [c for c, _ in columns],
                    "columns": dict(columns),
                    "incompleteColumns": {}}}}},
                "visualization": vis_state,
                "query": {"language": "kuery", "query": query},
                "filters": []}},
        "references": [
            {"type": "index-pattern", "id": DATA_VIEW,
             "name": "indexpattern-datasource-current-indexpattern"},
            {"type": "index-pattern", "id": DATA_VIEW,
             "name": "indexpattern-datasource-layer-layer1"}]}


def dashboard(oid, title, description, panels):
    """panels: (lens object, x, y, w, h) on Kibana's 48-column grid."""
    specs, refs = [], []
    for i, (obj, x, y, w, h) in enumerate(panels, 1):
        p = "p%d" % i
        specs.append({"version": CORE_VERSION, "type": "lens",
                      "panelIndex": p,
                      "gridData": {"x": x, "y": y, "w": w, "h": h, "i": p},
                      "embeddableConfig": {"enhancements": {}},
                      "panelRefName": "panel_" + p})
        refs.append({"name": "%s:panel_%s" % (p, p), "type": "lens",
                     "id": obj["id"]})
    search = {"query": {"query": "", "language": "kuery"}, "filter": []}
    options = {"useMargins": True, "syncColors": False,
               "hidePanelTitles": False}
    return {
        "id": oid, "type": "dashboard",
        "coreMigrationVersion": CORE_VERSION,
        "migrationVersion": {"dashboard": DASHBOARD_VERSION},
        "attributes": {
            "title": title, "description": description, "hits": 0,
            "timeRestore": False, "version": 1,
            "optionsJSON": json.dumps(options, separators=(",", ":")),
            "panelsJSON": json.dumps(specs, separators=(",", ":")),
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
                search, separators=(",", ":"))}},
        "references": refs}


# --- the objects ----------------------------------------------------------

def web_access():
    by_class = lens(
        "sluice-web-requests-by-status-class",
        "Requests over time by status class",
        [("t", date_histogram()), ("n", count("Requests")),
         ("c", status_classes())],
        xy("bar_stacked", "t", ["n"], "c"))
    bytes_served = lens(
        "sluice-web-bytes-served", "Bytes served",
        [("t", date_histogram()), ("b", total_bytes("Bytes served"))],
        xy("area", "t", ["b"]))
    codes = lens(
        "sluice-web-response-codes", "Response codes",
        [("s", terms("Status code", "http.response.status_code", "number",
                     10, "n")),
         ("n", count("Requests"))],
        donut("s", "n"))
    urls = lens(
        "sluice-web-top-urls", "Top URLs",
        [("u", terms("URL", "url.original", "string", 10, "n")),
         ("n", count("Requests")), ("b", total_bytes("Bytes"))],
        table(["u", "n", "b"]))
    clients = lens(
        "sluice-web-top-clients", "Top clients",
        [("a", terms("Client", "source.address", "string", 10, "n")),
         ("n", count("Requests")), ("b", total_bytes("Bytes"))],
        table(["a", "n", "b"]))
    agents = lens(
        "sluice-web-user-agents", "User agents",
        [("a", terms("User agent", "user_agent.original", "string", 10,
                     "n")),
         ("n", count("Requests"))],
        table(["a", "n"]))
    board = dashboard(
        "sluice-web-access", "Web access",
        "Apache and nginx access logs parsed by sluice-shipper "
        "(%{HTTPD_COMBINEDLOG} or %{HTTPD_COMMONLOG}).",
        [(by_class, 0, 0, 48, 12), (bytes_served, 0, 12, 24, 12),
         (codes, 24, 12, 24, 12), (urls, 0, 24, 24, 14),
         (clients, 24, 24, 24, 14), (agents, 0, 38, 48, 12)])
    return [by_class, bytes_served, codes, urls, clients, agents, board]


def application_errors():
    over_time = lens(
        "sluice-errors-over-time", "Errors over time by service",
        [("t", date_histogram()), ("n", count("Errors")),
         ("s", terms("Service", "service.name", "string", 5, "n"))],
        xy("bar_stacked", "t", ["n"], "s"), ERRORS)
    types = lens(
        "sluice-errors-top-types", "Top exception types",
        [("e", terms("Exception type", "error.type", "string", 10, "n")),
         ("n", count("Errors"))],
        xy("bar_horizontal", "e", ["n"]), ERRORS)
    sites = lens(
        "sluice-errors-crash-sites", "Top crash sites",
        [("f", terms("File", "log.origin.file.name", "string", 10, "n")),
         ("l", terms("Line", "log.origin.file.line", "number", 5, "n")),
         ("fn", terms("Function", "log.origin.function", "string", 5, "n")),
         ("n", count("Errors"))],
        table(["f", "l", "fn", "n"]), ERRORS)
    hosts = lens(
        "sluice-errors-by-host", "Errors by host",
        [("h", terms("Host", "host.name", "string", 10, "n")),
         ("n", count("Errors"))],
        xy("bar_horizontal", "h", ["n"]), ERRORS)
    services = lens(
        "sluice-errors-by-service", "Errors by service",
        [("s", terms("Service", "service.name", "string", 10, "n")),
         ("n", count("Errors"))],
        donut("s", "n"), ERRORS)
    board = dashboard(
        "sluice-application-errors", "Application errors",
        "Errors from application logs: Python tracebacks and Java stack "
        "traces found by the traceback processor (error.type, "
        "log.origin.*), and lines logged at ERROR, CRITICAL, FATAL or "
        "worse, in each logger's spelling.",
        [(over_time, 0, 0, 48, 12), (types, 0, 12, 24, 14),
         (sites, 24, 12, 24, 14), (hosts, 0, 26, 24, 12),
         (services, 24, 26, 24, 12)])
    return [over_time, types, sites, hosts, services, board]


def objects():
    view = {"id": DATA_VIEW, "type": "index-pattern",
            "coreMigrationVersion": CORE_VERSION, "migrationVersion": {},
            "attributes": {"title": "sluice-*",
                           "timeFieldName": "@timestamp"},
            "references": []}
    return [view] + web_access() + application_errors()


def text():
    return "".join(json.dumps(o, sort_keys=True, separators=(",", ":")) +
                   "\n" for o in objects())


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2], encoding="utf-8") as f:
            if f.read() != text():
                sys.stderr.write("%s is not what %s writes; run: %s %s\n" %
                                 (argv[2], argv[0], argv[0], argv[2]))
                return 1
        return 0
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "w", encoding="utf-8") as f:
        f.write(text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
