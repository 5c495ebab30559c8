#!/usr/bin/env bash
# Makes Debian's chromium available for the report's browser test (tests/insights/browser.rs).
# Exit 0 when /usr/bin/chromium is there afterwards, 1 when it could not be installed.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo -n); else
  echo "install-chromium: not root and no sudo; the browser test will skip" >&2
  exit 1
fi
install() { timeout 900 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }
install || { timeout 300 "${sudo[@]}" apt-get update -q >/dev/null && install; }
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "install-chromium: apt-get could not install chromium; the browser test will skip" >&2
exit 1
