#!/usr/bin/env bash
# tests/lib/es-test-analysis/install.sh ES_HOME ES_VERSION JAVA_HOME
#
# Builds the test-only analysis plugin (src/: pattern_capture, unique and
# uax_url_email, which the .security index needs and the integ-test-zip
# lacks; see SluiceTestAnalysisPlugin.java) with JAVA_HOME's javac against
# ES_HOME's own lib/*.jar (nothing is downloaded), and installs it as
# ES_HOME/plugins/sluice-test-analysis. scripts/setup runs it for es_tls's
# home, which es, es_cluster and es_restart of the same version share.
#
# Idempotent and silent when the installed plugin was built from these
# sources, for this version, with this JDK (ES_HOME/.sluice-test-analysis
# holds their hash); exit 0 then or after installing, 1 with a message
# otherwise. The plugin appears at once or not at all (built beside the
# home, then renamed into plugins/), so a node booting meanwhile sees
# a whole plugin or none, never a half-built one.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 ES_HOME ES_VERSION JAVA_HOME" >&2; exit 2; }
home=$1 version=$2 jdk=$3
src=$(cd "$(dirname "$0")" && pwd)
name=sluice-test-analysis
dest=$home/plugins/$name
stamp=$home/.$name

die() {
    printf 'es-test-analysis: error: %s\n' "$*" >&2
    exit 1
}

want=$(cd "$src" && cat install.sh src/sluice/esanalysis/*.java |
    { cat; printf '%s\n' "$version" "$jdk"; } | sha256sum | cut -d' ' -f1)
if [ -d "$dest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

[ -x "$jdk/bin/javac" ] && [ -x "$jdk/bin/jar" ] ||
    die "no javac and jar in $jdk; install the JDK package (openjdk-17-jdk-headless; scripts/setup does) or set SLUICE_ES_TLS_JAVA_HOME to a full JDK"
[ -f "$home/lib/elasticsearch-$version.jar" ] ||
    die "$home/lib/elasticsearch-$version.jar is missing; is $home Elasticsearch $version? run scripts/setup"
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")
[ -n "$major" ] || die "cannot read JAVA_VERSION from $jdk/release"

tmp=$(mktemp -d "$(dirname "$home")/.$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/classes" "$tmp/$name"
if ! "$jdk/bin/javac" --release "$major" -Xlint:all \
    -cp "$home/lib/*" -d "$tmp/classes" "$src"/src/sluice/esanalysis/*.java \
    >"$tmp/javac.log" 2>&1; then
    cat "$tmp/javac.log" >&2
    die "javac of $src/src against $home/lib failed (output above)"
fi
"$jdk/bin/jar" --create --file "$tmp/$name/$name.jar" -C "$tmp/classes" . ||
    die "jar of the plugin failed"
cat >"$tmp/$name/plugin-descriptor.properties" <<EOP
description=Sluice tests only: pattern_capture, unique and uax_url_email for the .security index
version=$version
name=$name
classname=sluice.esanalysis.SluiceTestAnalysisPlugin
java.version=$major
elasticsearch.version=$version
EOP
chmod -R a+rX "$tmp/$name"
mkdir -p "$home/plugins"
rm -rf "$dest"
# -T: never into a $dest that another setup running at once has just made
# (then its plugin, built from the same sources, stays).
if ! mv -T "$tmp/$name" "$dest" 2>/dev/null; then
    [ -f "$dest/plugin-descriptor.properties" ] || die "could not move the plugin into $dest"
fi
echo "$want" >"$stamp"
