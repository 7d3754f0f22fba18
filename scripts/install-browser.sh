#!/bin/sh
# Installs what the browser tests need: Debian's chromium (Playwright drives it through
# executable_path, so no browser download) and axe-core from npm into node_modules/.
set -e
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing: run 'sudo apt-get install chromium'" >&2
        exit 1
    fi
fi
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
    fi
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
    npm install --no-save --no-audit --no-fund --silent axe-core@4 >/dev/null
fi
