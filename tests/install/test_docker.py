#!/usr/bin/env python3
"""docker/ checked without a Docker engine (none runs on these machines):

  - compose.yaml parses (PyYAML) and holds together: the five services,
    each with an image or a build whose context, Dockerfile and target
    exist; depends_on naming services (service_healthy only on one with a
    healthcheck); named volumes declared; bind-mounted paths present in the
    repository; Redis with AOF; Elasticsearch and Kibana at the version the
    tests run (tests/lib/services.sh), security stated; the indexer running
    setup before run; ports on 127.0.0.1 only;
  - the Dockerfile: its stages, every COPY source present in the context and
    not ignored, COPY --from naming an earlier stage, the build stage's
    packages those of scripts/setup, its build the Makefile's own
    `make install` (the cmake commands the tests' trees are built with), the
    staged DESTDIR what the runtime copies, and the runtime stage holding
    the package of every shared library the binaries load (readelf + dpkg,
    on this Debian 12 machine the image's twin);
  - the configs compose mounts pass `check` with this tree's binaries, and
    the shipper's, run on the samples compose mounts by default, gives
    every event the fields the Kibana dashboards read.

usage: test_docker.py SOURCE_DIR SLUICE_SHIPPER SLUICE_INDEXER
"""
import fnmatch
import os
import re
import shlex
import subprocess
import sys

SOURCE, SHIPPER, INDEXER = sys.argv[1:4]
DOCKER = os.path.join(SOURCE, "docker")
failures = []

try:
    import yaml
except ImportError:
    print("FAIL PyYAML is missing for " + sys.executable + ": scripts/setup "
          "installs Debian's python3-yaml (pip install pyyaml elsewhere)")
    sys.exit(1)


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


def run(argv, env=None, cwd=None):
    p = subprocess.run(argv, capture_output=True, env=env, cwd=cwd,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


with open(os.path.join(DOCKER, "compose.yaml")) as f:
    COMPOSE = yaml.safe_load(f)
SERVICES = COMPOSE.get("services") or {}


# --- the Dockerfile ----------------------------------------------------------

def dockerfile_instructions(path):
    """[(stage, INSTRUCTION, args)] with continuation lines joined; stage is
    the name of the FROM ... AS NAME the instruction is in."""
    out, stage, pending = [], None, ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not pending and (not line.strip() or
                                line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = pending + line, ""
            word, _, args = line.strip().partition(" ")
            word = word.upper()
            if word == "FROM":
                m = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", args.strip(), re.I)
                if not m:
                    raise AssertionError(f"FROM without AS NAME: {line!r}")
                stage = m.group(2)
            out.append((stage, word, " ".join(args.split())))
    return out


DOCKERFILE = os.path.join(DOCKER, "Dockerfile")
INSTR = dockerfile_instructions(DOCKERFILE)
STAGES = [a.split()[-1] for _, w, a in INSTR if w == "FROM"]


def stage_runs(stage):
    return [a for s, w, a in INSTR if s == stage and w == "RUN"]


def apt_packages(stage):
    """The packages the stage's `apt-get install` lines name."""
    pkgs = []
    for cmd in stage_runs(stage):
        for part in cmd.split("&&"):
            words = shlex.split(part)
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def setup_packages():
    code, out, err = run(["bash", "-c",
                          'eval "$(sed -n "/^packages=(/,/^)/p" '
                          '"$1/scripts/setup")"; printf "%s\\n" '
                          '"${packages[@]}"', "-", SOURCE])
    if code != 0 or not out.strip():
        raise AssertionError(f"cannot read scripts/setup's packages: {err}")
    return out.split()


def ignored(rel):
    """Whether docker/Dockerfile.dockerignore leaves rel out of the
    context (its patterns are paths from the root, no negations)."""
    path = os.path.join(DOCKER, "Dockerfile.dockerignore")
    with open(path) as f:
        pats = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    parts = rel.strip("/").split("/")
    return any(fnmatch.fnmatch("/".join(parts[:i]), p)
               for p in pats for i in range(1, len(parts) + 1))


@case
def dockerfile_has_a_build_a_runtime_and_one_stage_per_daemon():
    eq(STAGES, ["build", "runtime", "shipper", "indexer"])
    froms = [a.split()[0] for _, w, a in INSTR if w == "FROM"]
    eq(froms, ["debian:12-slim", "debian:12-slim", "runtime", "runtime"])
    for stage in ("shipper", "indexer"):
        users = [a for s, w, a in INSTR if s == stage and w == "USER"]
        eq((stage, users), (stage, ["sluice"]))  # not root
        cmd = [a for s, w, a in INSTR if s == stage and w == "CMD"]
        eq(cmd, [f'["sluice-{stage}", "run"]'])
    assert any("useradd" in r and " sluice" in r for r in
               stage_runs("runtime")), stage_runs("runtime")


@case
def every_path_the_dockerfile_copies_exists():
    seen = []
    for stage, word, args in INSTR:
        if word != "COPY":
            continue
        words = args.split()
        opts = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        src = paths[:-1]
        frm = [o.split("=", 1)[1] for o in opts if o.startswith("--from=")]
        if frm:
            # an earlier stage
            assert frm[0] in STAGES[:STAGES.index(stage)], args
            continue
        for s in src:
            p = os.path.join(SOURCE, s)
            assert os.path.exists(p), f"COPY {s}: not in the repository"
            assert not ignored(s), f"COPY {s}: left out by the dockerignore"
            seen.append(s.rstrip("/"))
    # What the CMake tree reads at configure time is all copied.
    for needed in ("CMakeLists.txt", "Makefile", "cmake", "common", "grok",
                   "shipper", "indexer", "tests", "conf", "README.md"):
        assert needed in seen, f"{needed} is not copied into the build stage"


@case
def the_build_stage_installs_what_scripts_setup_installs_to_build():
    setup = setup_packages()
    build = apt_packages("build")
    extra = sorted(set(build) - set(setup))
    eq(("not in scripts/setup", extra), ("not in scripts/setup", []))
    # Every library's -dev package and the toolchain (clang's fuzzing
    # runtime is for `make fuzz` only); python3: tests/ needs it to
    # configure.
    want = {p for p in setup if p.endswith("-dev") and
            not p.startswith("libclang-rt")}
    want |= {"gcc", "make", "cmake", "ninja-build", "pkg-config", "python3"}
    eq(("missing", sorted(want - set(build))), ("missing", []))


@case
def the_build_stage_builds_with_the_makefile_and_stages_what_runtime_copies():
    runs = stage_runs("build")
    make = [r for r in runs if r.startswith("make ")]
    eq(len(make), 1)
    words = shlex.split(make[0])
    eq(words[:2], ["make", "install"])
    opts = dict(w.split("=", 1) for w in words[2:])
    eq(sorted(opts), ["DESTDIR", "PREFIX", "SYSCONFDIR"])
    eq((opts["PREFIX"], opts["SYSCONFDIR"]), ("/usr", "/etc"))
    copies = [a for s, w, a in INSTR if s == "runtime" and w == "COPY"]
    eq(copies, [f"--from=build {opts['DESTDIR'].rstrip('/')}/ /"])
    # make install's build is `make release`'s, with the prefix added: the
    # same cmake commands the test trees are configured and built with.
    code, release, err = run(["make", "-n", "--no-print-directory",
                              "release"], cwd=SOURCE)
    assert code == 0, err
    code, install, err = run(["make", "-n", "--no-print-directory", "install",
                              *words[2:]], cwd=SOURCE)
    assert code == 0, err
    rel = [" ".join(line.split()) for line in release.splitlines()]
    ins = [" ".join(line.split()) for line in install.splitlines()]
    eq(len(ins), len(rel) + 1)
    for r, i in zip(rel, ins):
        eq(i.replace(f" -DCMAKE_INSTALL_PREFIX={opts['PREFIX']} "
                     f"-DSLUICE_SYSCONFDIR={opts['SYSCONFDIR']}", ""), r)
    eq(ins[-1], f'DESTDIR="{opts["DESTDIR"]}" cmake --install build/release '
                f'--prefix "{opts["PREFIX"]}"')


def package_of(soname):
    code, out, err = run(["dpkg", "-S", f"*/{soname}"])
    if code != 0:
        raise AssertionError(f"dpkg -S */{soname}: {err.strip()}")
    for line in out.splitlines():
        pkg, _, path = line.partition(": ")
        if re.search(r"^/(usr/)?lib/[^/]+-linux-gnu/" + re.escape(soname) +
                     "$", path):
            return pkg.split(":")[0]
    raise AssertionError(f"no multiarch package holds {soname}: {out!r}")


@case
def the_runtime_stage_has_every_library_the_binaries_load():
    runtime = set(apt_packages("runtime"))
    # In debian:12-slim already (Priority: required), or sanitizer runtimes
    # of an Asan tree, not of the image's release build.
    base = {"libc6", "libgcc-s1"}
    for prog in (SHIPPER, INDEXER):
        code, out, err = run(["readelf", "-d", prog])
        assert code == 0, f"readelf -d {prog}: {err}"
        for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                                 out):
            pkg = package_of(soname)
            if pkg in base or re.match(r"lib(a|ub|l|t)san\d", pkg):
                continue
            assert pkg in runtime, (f"{os.path.basename(prog)} loads "
                                    f"{soname} ({pkg}), not installed in "
                                    f"the runtime stage")


# --- compose.yaml ------------------------------------------------------------

def default_of(value):
    """${VAR:-default} -> default, as compose does when VAR is unset."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


@case
def compose_has_the_five_services_and_nothing_unknown():
    eq(sorted(COMPOSE), ["name", "services", "volumes"])
    eq(sorted(SERVICES), ["elasticsearch", "indexer", "kibana", "redis",
                          "shipper"])
    for name, svc in SERVICES.items():
        assert "image" in svc or "build" in svc, name
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


@case
def compose_builds_name_existing_contexts_dockerfiles_and_targets():
    for name in ("indexer", "shipper"):
        b = SERVICES[name]["build"]
        ctx = os.path.normpath(os.path.join(DOCKER, b["context"]))
        eq(ctx, os.path.normpath(SOURCE))
        assert os.path.isfile(os.path.join(ctx, b["dockerfile"])), b
        eq(b["target"], name)
        assert b["target"] in STAGES, b


@case
def compose_depends_on_and_volumes_refer_to_what_exists():
    declared = set(COMPOSE.get("volumes") or {})
    used = set()
    for name, svc in SERVICES.items():
        deps = svc.get("depends_on", {})
        for dep, how in (deps.items() if isinstance(deps, dict) else
                         ((d, {}) for d in deps)):
            assert dep in SERVICES and dep != name, (name, dep)
            if (how or {}).get("condition") == "service_healthy":
                assert "healthcheck" in SERVICES[dep], (name, dep)
        for vol in svc.get("volumes", []):
            src, target = default_of(vol).split(":")[:2]
            assert target.startswith("/"), (name, vol)
            if src.startswith((".", "/")):
                path = os.path.normpath(os.path.join(DOCKER, src))
                assert os.path.exists(path), f"{name}: {vol}: {path} missing"
            else:
                used.add(src)
                assert src in declared, f"{name}: volume {src} not declared"
    eq(sorted(declared - used), [])


def environment(svc):
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


@case
def compose_redis_keeps_an_aof_and_elastic_is_the_tested_version():
    cmd = SERVICES["redis"]["command"]
    eq(cmd[cmd.index("--appendonly") + 1], "yes")
    eq(cmd[cmd.index("--appendfsync") + 1], "always")
    code, out, err = run(["bash", "-c", '. "$1/tests/lib/services.sh" && '
                          'echo "$SLUICE_ES_VERSION"', "-", SOURCE],
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                              "HOME": os.environ.get("HOME", "/tmp")})
    assert code == 0 and out.strip(), err
    version = out.strip()
    eq(SERVICES["elasticsearch"]["image"],
       f"docker.elastic.co/elasticsearch/elasticsearch:{version}")
    eq(SERVICES["kibana"]["image"], f"docker.elastic.co/kibana/kibana:{version}")
    env = environment(SERVICES["elasticsearch"])
    eq(env.get("discovery.type"), "single-node")
    # The quickstart's choice, stated in compose.yaml's header.
    eq(env.get("xpack.security.enabled"), "false")


@case
def compose_indexer_runs_setup_before_run():
    cmd = SERVICES["indexer"]["command"]
    eq(cmd[:2], ["sh", "-c"])
    eq(cmd[2], "sluice-indexer setup && exec sluice-indexer run")


@case
def compose_mounts_match_the_configs():
    mounts = {}
    for name in ("indexer", "shipper"):
        for vol in SERVICES[name]["volumes"]:
            src, target = default_of(vol).split(":")[:2]
            mounts.setdefault(name, {})[target] = src
        # the daemon's default config path
        eq(mounts[name].get(f"/etc/sluice/{name}.json"),
           f"./conf/{name}.json")
    with open(os.path.join(DOCKER, "conf", "shipper.json")) as f:
        text = f.read()
    data_dir = re.search(r'"data_dir"\s*:\s*"([^"]+)"', text).group(1)
    assert data_dir in mounts["shipper"], data_dir
    for glob in re.findall(r'"paths"\s*:\s*\[([^\]]*)\]', text):
        for p in re.findall(r'"([^"]+)"', glob):
            assert p.startswith("/logs/") and "/logs" in mounts["shipper"], p


@case
def the_configs_compose_mounts_pass_check():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOSTNAME": "compose-test",  # Docker sets it in a container
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
    for prog, name in ((SHIPPER, "shipper"), (INDEXER, "indexer")):
        path = os.path.join(DOCKER, "conf", f"{name}.json")
        eq(run([prog, "-c", path, "check"], env=env)[:3], (0, "", ""))


@case
def the_compose_shipper_gives_the_dashboards_their_fields_on_the_samples():
    # compose's default: conf/samples mounted at /logs. Every event of every
    # sample file must carry what the dashboards read (the shipper once
    # read everything but the access log as bare lines: "Application
    # errors" stayed empty).
    import json
    import tempfile
    with open(os.path.join(DOCKER, "conf", "shipper.json")) as f:
        text = f.read()
    samples = os.path.join(SOURCE, "conf", "samples")
    env = dict(os.environ, LOG_TIMEZONE=default_of(environment(
        SERVICES["shipper"])["LOG_TIMEZONE"]))
    with tempfile.TemporaryDirectory(prefix="sluice-docker-") as d:
        text = text.replace('"/logs/', '"' + samples + "/")
        text = text.replace("/var/lib/sluice-shipper", os.path.join(d, "data"))
        text = re.sub(r'"output": \{.*?\n  \},', '"output": {"stdout": {}},',
                      text, flags=re.S)
        conf = os.path.join(d, "shipper.json")
        with open(conf, "w") as f:
            f.write(text)
        rc, out, err = run([SHIPPER, "-c", conf, "run", "--once"], env=env)
    eq(rc, 0)
    seen = {}
    for line in out.splitlines():
        e = json.loads(line)
        name = os.path.basename(e["log"]["file"]["path"])
        s = seen.setdefault(name, {"events": 0, "level": 0, "status": 0,
                                   "error.type": 0, "tags": 0})
        s["events"] += 1
        s["level"] += bool(e["log"].get("level"))
        s["status"] += "status_code" in e.get("http", {}).get("response", {})
        s["error.type"] += "type" in e.get("error", {})
        s["tags"] += bool(e.get("tags"))
    eq(sorted(seen), sorted(os.listdir(samples)))
    for name, s in seen.items():
        assert s["tags"] == 0, (name, s)  # no parse failure of any kind
        if "access" in name:
            eq(s["status"], s["events"])
        else:
            eq(s["level"], s["events"])
    assert seen["app.log"]["error.type"] > 0, seen["app.log"]
    assert seen["services.json.log"]["error.type"] > 0, seen


print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
