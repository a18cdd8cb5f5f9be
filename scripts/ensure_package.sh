#!/usr/bin/env bash
# A Debian package's command, installed when missing (as root with apt-get), or a clear message how.
#   bash scripts/ensure_package.sh COMMAND PACKAGE WHAT-FOR
# The browser tests need Debian's chromium (Playwright cannot download its own browser here); the
# HTTP benchmarks need wrk; bench/pooler needs pgbouncer.
set -euo pipefail
command_name=$1 package=$2 purpose=$3
if command -v "$command_name" >/dev/null 2>&1 || [ -x "/usr/sbin/$command_name" ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$command_name is missing ($purpose): install Debian's package '$package' (sudo apt-get install $package)." >&2
    exit 1
fi
echo "installing Debian's $package for $purpose …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
