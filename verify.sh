#!/usr/bin/env bash
# The test command (README "The two commands"; .ci/run calls exactly this).
#   ./verify.sh [extra mvn arguments]
# Installs the Debian packages whose programs the tests start, when missing, then runs
# `mvn -B verify`. Uses only shell builtins before mvn, so it runs on a bare PATH.
#   chromium                headless checks of the HTML reports
#   prometheus-pushgateway  the metrics tests push to a real Pushgateway on loopback
#   prometheus              promtool, which checks conf/prometheus/propensity-alerts.yml
set -euo pipefail
cd "${BASH_SOURCE[0]%/*}"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "verify.sh: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo DEBIAN_FRONTEND=noninteractive)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
fi

exec mvn -B verify "$@"
