#!/usr/bin/env bash
# Installs edgetap on a Raspberry Pi as a systemd service. Idempotent: run it again to upgrade
# or to roll out an edited config.
#
#   sudo deploy/install.sh edgetap_0.1.0-1_arm64.deb [path/to/edgetap.toml]   # from the package
#   sudo deploy/install.sh path/to/edgetap [path/to/edgetap.toml]             # a bare binary
#
# From a .deb: the package (apt-get, so dependencies come too) puts the binary in /usr/bin, the
# unit in /lib/systemd/system and the commented default config in /etc/edgetap/edgetap.toml (a
# conffile: an edited one is kept), creates the `edgetap` user and /var/lib/edgetap, and enables
# the service. From a bare binary: the same places under /usr/local and /etc/systemd/system, and
# the package's own postinst does the rest.
#
# The service is (re)started only once the config passes `edgetap config check`; a config
# given here replaces /etc/edgetap/edgetap.toml first.
set -euo pipefail

src=${1:?usage: install.sh EDGETAP.deb|EDGETAP_BINARY [CONFIG]}
conf=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
etc_conf=/etc/edgetap/edgetap.toml

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
[ -z "$conf" ] || [ -r "$conf" ] || { echo "install.sh: cannot read $conf" >&2; exit 1; }

fresh_conf=no
[ -e "$etc_conf" ] || fresh_conf=yes

case "$src" in
*.deb)
  [ -r "$src" ] || { echo "install.sh: cannot read $src" >&2; exit 1; }
  # apt-get wants a path, not a bare name, to install a local file.
  deb=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
  DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-downgrades -o Dpkg::Options::=--force-confold "$deb"
  bin=/usr/bin/edgetap
  ;;
*)
  [ -x "$src" ] || { echo "install.sh: $src is neither a .deb nor an executable" >&2; exit 1; }
  bin=/usr/local/bin/edgetap
  install -m 0755 "$src" "$bin"
  install -d -m 0755 /etc/edgetap
  [ -e "$etc_conf" ] || install -m 0640 "$here/../config/default.toml" "$etc_conf"
  # The package's unit, pointed at /usr/local/bin.
  sed "s|/usr/bin/edgetap|$bin|g" "$here/edgetap.service" >/etc/systemd/system/edgetap.service.new
  mv /etc/systemd/system/edgetap.service.new /etc/systemd/system/edgetap.service
  chmod 0644 /etc/systemd/system/edgetap.service
  # The user, its groups, /var/lib/edgetap, the config's owner, the service enabled.
  sh "$here/debian/postinst" configure "$([ "$fresh_conf" = yes ] || echo installed)"
  systemctl daemon-reload
  ;;
esac

if [ -n "$conf" ]; then
  install -m 0640 -o root -g edgetap "$conf" "$etc_conf"
elif [ "$fresh_conf" = yes ]; then
  echo "install.sh: wrote $etc_conf from the default config: set device_id (or leave it to the" \
       "host name), sampler.backend = \"dma\", the inputs and [mqtt], then run this again" \
       "(or: systemctl start edgetap)" >&2
  exit 0
fi

"$bin" config check "$etc_conf" >/dev/null
"$bin" check --config "$etc_conf" || true

systemctl enable edgetap.service
systemctl restart edgetap.service
systemctl --no-pager status edgetap.service | head -n 5
