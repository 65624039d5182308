#!/usr/bin/env bash
# The test command: installs missing Debian packages (scripts/setup.sh), then
#   1. every test with Maven — unit tests, PyTorch parity on a fresh random checkpoint, hostile files,
#      kernels-tests on PoCL, the explain report in headless Chromium (which fails here, rather than skips, when
#      Chromium is missing) — and `mvn install` of the artifacts (library, sources, javadoc, CLI jar);
#   2. the Spark job's tests (src/spark/test/java) in a second invocation with the spark profile, which compiles
#      against Spark 4.2 and the Jackson it pins (docs/spark.md); BERTJ_SKIP_SPARK=1 leaves it out;
#   3. the README's "Use from Java" code, built and run by a separate project against the installed artifact
#      (scripts/consumer-test.sh);
#   4. the self-contained distribution, built and run with no Java on PATH (scripts/dist.sh, scripts/dist-test.sh).
# With arguments (e.g. -Dtest=FooTest) only `mvn test ARGS` runs: a developer's subset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1 || true)
fi
[ -n "$JAVA_HOME" ] || { echo "test: needs JDK 21+ (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
export BERTJ_REQUIRE_CHROMIUM=1
if [ "$#" -gt 0 ]; then
    exec mvn -B -Dstyle.color=never test "$@"
fi
step() { printf '\n=== test: %s (%s)\n' "$1" "$(date +%T)"; }
step "mvn install: every test, then the artifacts"
mvn -B -Dstyle.color=never install
if [ "${BERTJ_SKIP_SPARK:-0}" != 1 ]; then
    step "the Spark job on local[2]"
    mvn -B -Dstyle.color=never -Pspark test -Dtest='bertj.spark.*Test' -Dsurefire.failIfNoSpecifiedTests=false
fi
step "the README's Java code against the installed artifact"
scripts/consumer-test.sh
step "the self-contained distribution"
scripts/dist.sh
scripts/dist-test.sh
step "all passed"
