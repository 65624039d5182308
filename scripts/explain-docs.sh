#!/usr/bin/env bash
# Makes the pictures of docs/explain.md (docs/explain-*.png, docs/parity-*.png) with bertj's own headless-Chromium
# driver (src/test/java/bertj/testing/Chromium.java), and prints the report sizes and times the doc quotes.
# Needs Chromium and PyTorch (scripts/setup.sh installs both). Usage: scripts/explain-docs.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs}
if [ -z "${JAVA_HOME:-}" ]; then JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1); fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -q -B -Dstyle.color=never test-compile
mvn -q -B -Dstyle.color=never dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
exec java -Xmx2g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dbertj.projectDir="$PWD" \
    -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" bertj.explain.DocsPictures "$out"
