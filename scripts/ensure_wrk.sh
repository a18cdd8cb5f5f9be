#!/usr/bin/env bash
# The HTTP benchmarks (bench/lookup) drive the server with wrk: Debian's package 'wrk'.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "wrk is missing: install Debian's package 'wrk' (sudo apt-get install wrk) and run the benchmark again." >&2
    exit 1
fi
echo "installing Debian's wrk for the HTTP benchmarks …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
