#!/usr/bin/env bash
# Checks the distribution as a user without Java would run it: unpacks target/bertj-*-linux-x64.tar.gz into a
# temporary directory and runs bin/bertj --version and a MiniLM embedding there with no java on PATH, no
# JAVA_HOME and an empty home directory (no ~/.m2), and checks that the JVM starts from the distribution's start-up
# cache. Exit 0 only if all work and the embedding is the known one.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=$(ls target/bertj-*-linux-x64.tar.gz 2>/dev/null | head -n1)
[ -n "$tarball" ] || { echo "dist-test: no target/bertj-*-linux-x64.tar.gz (run scripts/dist.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tarball"
dist=$(ls -d "$tmp"/bertj-*)
# A PATH with the few tools the launcher uses and no java.
mkdir -p "$tmp/tools" "$tmp/home"
for t in bash cat dirname sed find readlink; do ln -s "$(command -v "$t")" "$tmp/tools/$t"; done
run() { env -i HOME="$tmp/home" PATH="$tmp/tools" "$dist/bin/bertj" "$@"; }
if env -i PATH="$tmp/tools" bash -c 'command -v java' >/dev/null; then echo "dist-test: java is on the test PATH" >&2; exit 1; fi

version=$(run --version)
echo "dist-test: bin/bertj --version: $version"
case "$version" in *bertj*) ;; *) echo "dist-test: unexpected --version output" >&2; exit 1 ;; esac

# The start-up cache made by dist.sh must still be taken after the move to another directory (the JVM ignores a
# cache it cannot use without a word, so only its class-loading log tells).
loaded=$(env -i HOME="$tmp/home" PATH="$tmp/tools" JAVA_OPTS=-Xlog:class+load "$dist/bin/bertj" --version | grep 'bertj\.cli\.Main ' || true)
echo "dist-test: $loaded"
case "$loaded" in *"source: shared objects file"*) ;; *) echo "dist-test: the JVM did not use lib/bertj.aot" >&2; exit 1 ;; esac

out=$(run similarity "A man is eating food." "A man is eating a piece of bread.")
echo "$out" | sed 's/^/dist-test: /'
echo "$out" | grep -q '0\.7553 *A man is eating a piece of bread\.' || { echo "dist-test: MiniLM similarity is not 0.7553" >&2; exit 1; }
out=$(run embed --model minilm --normalize --json "A man is eating food.")
echo "$out" | grep -q '"dimension" *: *384\|384' || { echo "dist-test: embed gave no 384-wide vector: $out" >&2; exit 1; }
echo "dist-test: ok ($(du -sm "$dist" | cut -f1) MB unpacked, no java on PATH, empty HOME)"
