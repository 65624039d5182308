#!/usr/bin/env bash
# Installs the Debian packages bertj's tests and scripts need, if any is missing (idempotent; needs root or sudo):
# PyTorch for the references, OpenBLAS (makes Debian's PyTorch ~5x faster), PoCL (OpenCL on the CPU) with the
# ICD loader and clinfo, Maven, Chromium (the explain report's browser test, run headless) and a font for it and
# for the charts Java2D draws. Java 21+ must already be there (JDK 25 under /usr/lib/jvm/temurin-25*).
set -euo pipefail
packages=(maven python3 python3-torch python3-numpy libopenblas0-pthread
          pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev clinfo chromium fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "setup: installing ${missing[*]}" >&2
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q >&2
as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
