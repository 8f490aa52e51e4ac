#!/usr/bin/env bash
# Installs edgetap on a Raspberry Pi as a systemd service.
#
#   sudo deploy/install.sh path/to/edgetap [path/to/edgetap.toml]
#
# The binary goes to /usr/local/bin, the config to /etc/edgetap/edgetap.toml (an existing one
# is kept; config/default.toml is the documented starting point), the unit to
# /etc/systemd/system. The config is checked before the service is (re)started.
set -euo pipefail

bin=${1:?usage: install.sh EDGETAP_BINARY [CONFIG]}
conf=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
[ -x "$bin" ] || { echo "install.sh: $bin is not an executable" >&2; exit 1; }

install -m 0755 "$bin" /usr/local/bin/edgetap
install -d -m 0755 /etc/edgetap
if [ -n "$conf" ]; then
  install -m 0640 "$conf" /etc/edgetap/edgetap.toml
elif [ ! -e /etc/edgetap/edgetap.toml ]; then
  install -m 0640 "$here/../config/default.toml" /etc/edgetap/edgetap.toml
  echo "install.sh: wrote /etc/edgetap/edgetap.toml from config/default.toml: set device_id," \
       "sampler.backend = \"dma\", the inputs and [mqtt], then run this again" >&2
fi

/usr/local/bin/edgetap config check /etc/edgetap/edgetap.toml >/dev/null
/usr/local/bin/edgetap check --config /etc/edgetap/edgetap.toml || true

install -m 0644 "$here/edgetap.service" /etc/systemd/system/edgetap.service
systemctl daemon-reload
systemctl enable edgetap.service
systemctl restart edgetap.service
systemctl --no-pager status edgetap.service | head -n 5
