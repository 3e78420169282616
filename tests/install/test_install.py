#!/usr/bin/env python3
"""`make install` as an admin meets it: this build tree installed with
`cmake --install` into a scratch DESTDIR (the paths compiled into the
binaries and written into the units are the tree's PREFIX), then

  - every file where cmake/SluiceInstall.cmake says it goes, with its mode;
  - each installed binary's --version;
  - `check` on the installed configs (with the environment the units give
    them) and on every installed example, silent;
  - sluice-grok and the shipper finding the installed patterns with no flag
    (a pattern only the installed copy has);
  - the units: sections, hardening, ExecStart* naming the installed binaries
    and configs, then `systemd-analyze verify` when it is installed (the
    parser's checks are what is left when it is not, and the test says so);
  - a second install keeping an edited config;
  - `make install`'s commands carrying PREFIX, SYSCONFDIR and DESTDIR.

usage: test_install.py CMAKE BUILD_DIR SOURCE_DIR PREFIX SYSCONFDIR UNIT_DIR
                       VERSION
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

CMAKE, BUILD, SOURCE, PREFIX, SYSCONF, UNIT_DIR, VERSION = sys.argv[1:8]
DAEMONS = ("shipper", "indexer")
failures = []
tmp = tempfile.TemporaryDirectory(prefix="sluice-install-")
DESTDIR = os.path.join(tmp.name, "root")
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}


def staged(path):
    """Where the installed absolute path lies under DESTDIR."""
    return DESTDIR + path


def run(argv, env=None, status=0, stdin=None, cwd=None):
    p = subprocess.run(argv, capture_output=True, env=env or BASE_ENV,
                       input=stdin, timeout=60, cwd=cwd)
    out, err = p.stdout.decode(), p.stderr.decode()
    if p.returncode != status:
        raise AssertionError(f"{' '.join(argv)}: exit {p.returncode}, wanted "
                             f"{status}; stdout: {out!r} stderr: {err!r}")
    return out, err


def install():
    return run([CMAKE, "--install", BUILD],
               env=dict(BASE_ENV, DESTDIR=DESTDIR))


def case(fn):
    try:
        fn()
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def eq(got, want):
    if got != want:
        raise AssertionError(f"\n   got: {got!r}\n  want: {want!r}")


def files_under(root):
    """Relative paths of the files under root (empty if it is missing)."""
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


BIN = os.path.join(PREFIX, "bin")
SHARE = os.path.join(PREFIX, "share", "sluice")
DOC = os.path.join(PREFIX, "share", "doc", "sluice")
CONFIG_DIR = os.path.join(SYSCONF, "sluice")
ENV_DIR = os.path.join(SYSCONF, "default")

try:
    install()
except AssertionError as e:
    print(f"FAIL install: {e}")
    sys.exit(1)


# --- what goes where -------------------------------------------------------

@case
def every_file_lands_where_the_layout_says():
    for prog in ("sluice-shipper", "sluice-indexer", "sluice-grok"):
        eq((prog, mode(staged(os.path.join(BIN, prog))) & 0o111), (prog, 0o111))
    for d in DAEMONS:
        eq(mode(staged(f"{CONFIG_DIR}/{d}.json")), 0o644)
        eq(mode(staged(f"{ENV_DIR}/sluice-{d}")), 0o600)  # secrets
        assert os.path.isfile(staged(f"{UNIT_DIR}/sluice-{d}.service")), d
    assert os.path.isfile(staged(f"{SHARE}/elasticsearch/sluice-template.json"))
    assert os.path.isfile(staged(f"{DOC}/README.md"))
    # Directories installed whole: the same files as in the source tree.
    for src, dst in (("grok/patterns", f"{SHARE}/patterns"),
                     ("conf/kibana", f"{SHARE}/kibana"),
                     ("conf/examples", f"{DOC}/examples")):
        want = files_under(os.path.join(SOURCE, src))
        eq((src, files_under(staged(dst))), (src, want))
        if not want:
            print(f"     note: {src}/ is empty or missing in this tree: "
                  f"nothing installed from it")
    assert files_under(staged(f"{SHARE}/patterns/ecs-v1")), "no ecs-v1"


@case
def the_installed_binaries_say_their_version():
    for prog in ("sluice-shipper", "sluice-indexer", "sluice-grok"):
        out, err = run([staged(os.path.join(BIN, prog)), "--version"])
        eq((out, err), (f"{prog} {VERSION}\n", ""))


# --- the installed configs -------------------------------------------------

def env_file_values(path):
    """KEY=VALUE lines of an EnvironmentFile (comments and blanks skipped)."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                values[k.strip()] = v.strip()
    return values


def unit_env(daemon):
    """The environment the unit gives the daemon: Environment=HOSTNAME=%H
    and its EnvironmentFile."""
    env = dict(BASE_ENV, HOSTNAME="install-test")
    env.update(env_file_values(staged(f"{ENV_DIR}/sluice-{daemon}")))
    return env


@case
def the_installed_configs_pass_check_as_the_units_run_it():
    for d in DAEMONS:
        out, err = run([staged(f"{BIN}/sluice-{d}"), "-c",
                        staged(f"{CONFIG_DIR}/{d}.json"), "check"],
                       env=unit_env(d))
        eq((d, out, err), (d, "", ""))


def daemon_of(text):
    """Which daemon an example is for: only the shipper's has inputs."""
    return "shipper" if re.search(r'"inputs"\s*:', text) else "indexer"


@case
def every_installed_example_passes_check():
    examples = sorted(p for p in files_under(staged(f"{DOC}/examples"))
                      if p.endswith((".json", ".jsonc")))
    if not examples:
        print("     note: no example configs installed (conf/examples/ has "
              "none): the two configs above are all that was checked")
    for rel in examples:
        path = staged(f"{DOC}/examples/{rel}")
        with open(path) as f:
            text = f.read()
        # Every ${VAR} without a default gets a value, as a user sets them.
        env = dict(BASE_ENV)
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text):
            env[name] = "install-test"
        d = daemon_of(text)
        ca = re.search(r'"ca_file"\s*:\s*"([^"]+)"', text)
        if ca and "https://" in text and not os.path.exists(ca.group(1)):
            # an https:// node's CA that is not on this machine: `run`
            # refuses it, so `check` does (test_examples checks the message)
            p = subprocess.run([staged(f"{BIN}/sluice-{d}"), "-c", path,
                                "check"], capture_output=True, text=True,
                               env=env, timeout=60)
            eq((rel, p.returncode, p.stdout), (rel, 2, ""))
            eq((p.stderr.startswith(f"sluice-indexer: {path}:"),
                f'cannot read "{ca.group(1)}"' in p.stderr), (True, True))
            continue
        out, err = run([staged(f"{BIN}/sluice-{d}"), "-c", path, "check"],
                       env=env)
        eq((rel, d, out, err), (rel, d, "", ""))


# --- patterns found without flags --------------------------------------------

MARK = "SLUICE_INSTALL_MARK"


def add_marker_pattern():
    """A pattern only the installed copy of the library has: found, it
    proves the installed patterns were read, not the source tree's."""
    with open(staged(f"{SHARE}/patterns/ecs-v1/zz-install-test"), "w") as f:
        f.write(f"{MARK} install-%{{INT:test.n:int}}\n")


@case
def installed_grok_finds_installed_patterns_without_flags():
    add_marker_pattern()
    grok = staged(f"{BIN}/sluice-grok")
    out, err = run([grok, f"%{{{MARK}}}"], stdin=b"install-42\n")
    eq((out, err), ('{"message":"install-42","test":{"n":42}}\n', ""))
    # The library itself, too (HTTPD_COMBINEDLOG, as the shipped config).
    line = (b'10.0.0.1 - - [21/Nov/2025:20:56:01 +0000] "GET /a HTTP/1.1" '
            b'200 5 "-" "curl/8"\n')
    out, _ = run([grok, "%{HTTPD_COMBINEDLOG}"], stdin=line)
    assert '"status_code":200' in out, out
    # The control: the build tree's binary does not see the marker.
    _, err = run([os.path.join(BUILD, "bin", "sluice-grok"), f"%{{{MARK}}}"],
                 stdin=b"install-42\n", status=2)
    assert f"unknown pattern '{MARK}'" in err, err


@case
def installed_shipper_finds_installed_patterns_without_flags():
    add_marker_pattern()
    data = os.path.join(tmp.name, "data")
    conf = os.path.join(tmp.name, "stdin.json")
    with open(conf, "w") as f:
        f.write('{"host": {"name": "h"}, "data_dir": "%s", "inputs": [{'
                '"type": "stdin", "processors": [{"grok": {"patterns": '
                '["%%{%s}"]}}]}], "output": {"stdout": {}}}\n' % (data, MARK))
    out, err = run([staged(f"{BIN}/sluice-shipper"), "-c", conf, "run",
                    "--once"], stdin=b"install-7\n")
    assert '"test":{"n":7}' in out and "_grokparsefailure" not in out, \
        (out, err)


# --- the systemd units -------------------------------------------------------

def parse_unit(path):
    """[(section, key, value)] of a unit file; raises on a line that is
    neither a comment, a section header nor KEY=VALUE."""
    entries, section = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
            if m:
                section = m.group(1)
                continue
            m = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)=(.*)", line)
            if not m or section is None:
                raise AssertionError(f"{path}:{n}: not KEY=VALUE: {line!r}")
            entries.append((section, m.group(1), m.group(2)))
    return entries


def unit_values(entries, section, key):
    return [v for s, k, v in entries if s == section and k == key]


def one(entries, section, key):
    values = unit_values(entries, section, key)
    eq((section, key, len(values)), (section, key, 1))
    return values[0]


@case
def units_run_the_installed_binaries_on_the_installed_configs():
    for d in DAEMONS:
        path = staged(f"{UNIT_DIR}/sluice-{d}.service")
        u = parse_unit(path)
        eq(sorted({s for s, _, _ in u}), ["Install", "Service", "Unit"])
        prog, config = f"{BIN}/sluice-{d}", f"{CONFIG_DIR}/{d}.json"
        eq(one(u, "Service", "ExecStartPre"), f"{prog} -c {config} check")
        eq(one(u, "Service", "ExecStart"), f"{prog} -c {config} run")
        eq(one(u, "Service", "EnvironmentFile"), f"-{ENV_DIR}/sluice-{d}")
        for key, want in (("Restart", "on-failure"), ("User", "sluice"),
                          ("DynamicUser", "yes"), ("ProtectSystem", "strict"),
                          ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                          ("Environment", "HOSTNAME=%H")):
            eq((d, key, one(u, "Service", key)), (d, key, want))
        assert one(u, "Service", "ProtectHome") in ("yes", "read-only"), d
        eq(one(u, "Install", "WantedBy"), "multi-user.target")
    u = parse_unit(staged(f"{UNIT_DIR}/sluice-shipper.service"))
    eq(one(u, "Service", "SupplementaryGroups"), "adm")  # reads /var/log
    eq(one(u, "Service", "ExecReload"), "/bin/kill -HUP $MAINPID")
    # The registry's directory is the state directory systemd makes.
    with open(staged(f"{CONFIG_DIR}/shipper.json")) as f:
        data_dir = re.search(r'"data_dir"\s*:\s*"([^"]*)"', f.read()).group(1)
    eq(data_dir, "/var/lib/" + one(u, "Service", "StateDirectory"))


@case
def systemd_analyze_verifies_the_units():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("     note: systemd-analyze is not installed: the units were "
              "checked by this test's parser only "
              "(units_run_the_installed_binaries_on_the_installed_configs)")
        return
    # verify wants the binaries at the paths the units name: a copy of each
    # unit names the staged ones (the check above compared the real paths).
    vdir = os.path.join(tmp.name, "verify")
    os.makedirs(vdir, exist_ok=True)
    copies = []
    for d in DAEMONS:
        with open(staged(f"{UNIT_DIR}/sluice-{d}.service")) as f:
            text = f.read().replace(f"{BIN}/", staged(BIN) + "/")
        copies.append(os.path.join(vdir, f"sluice-{d}.service"))
        with open(copies[-1], "w") as f:
            f.write(text)
    out, err = run([tool, "verify", *copies], env=dict(os.environ))
    # verify exits 0 on an unknown key; its warning is a failure here.
    eq((out, err), ("", ""))


# --- installing again -------------------------------------------------------

@case
def a_second_install_keeps_an_edited_config():
    path = staged(f"{CONFIG_DIR}/shipper.json")
    with open(path, "a") as f:
        f.write("// edited by the admin\n")
    with open(path) as f:
        edited = f.read()
    out, _ = install()
    with open(path) as f:
        eq(f.read(), edited)
    assert f"Kept: {path}" in out, out


@case
def make_install_passes_prefix_sysconfdir_and_destdir():
    if shutil.which("make") is None:
        raise AssertionError("make is not installed: cannot check the "
                             "Makefile's install target")
    out, _ = run(["make", "-n", "--no-print-directory", "install",
                  "PREFIX=/opt/sl", "SYSCONFDIR=/opt/etc", "DESTDIR=/stage"],
                 cwd=SOURCE)
    lines = out.splitlines()
    assert any(line.startswith("cmake -S . -B build/release ") and
               "-DCMAKE_BUILD_TYPE=Release" in line and
               "-DCMAKE_INSTALL_PREFIX=/opt/sl" in line and
               "-DSLUICE_SYSCONFDIR=/opt/etc" in line for line in lines), out
    assert ('DESTDIR="/stage" cmake --install build/release --prefix '
            '"/opt/sl"') in lines, out


print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
