#!/usr/bin/env bash
# The test command: installs missing Debian packages (scripts/setup.sh), then runs every test with Maven —
# unit tests, PyTorch parity on a fresh random checkpoint, hostile files, kernels-tests on PoCL — and then the
# Spark job's tests (src/spark/test/java) in a second invocation with the spark profile, which compiles against
# Spark 4.2 and the Jackson it pins (docs/spark.md). BERTJ_SKIP_SPARK=1 leaves the second one out.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1 || true)
fi
[ -n "$JAVA_HOME" ] || { echo "test: needs JDK 21+ (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -B -Dstyle.color=never test "$@"
[ "${BERTJ_SKIP_SPARK:-0}" = 1 ] && exit 0
exec mvn -B -Dstyle.color=never -Pspark test -Dtest='bertj.spark.*Test' -Dsurefire.failIfNoSpecifiedTests=false "$@"
