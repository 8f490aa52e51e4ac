#!/usr/bin/env bash
# `edgetap check` and `edgetap selftest` (backend "dma") inside QEMU's raspi3b machine, booting
# Debian's arm64 kernel with a busybox initramfs: an independent model of the BCM2837's DMA
# engine, system timer and GPIO registers, and a real kernel's device tree and pagemap.
#
# What it checks, and what it cannot (QEMU runs a chain synchronously, ignores DREQ, has no
# PWM/PCM and no caches): see README.md, "The selftest under QEMU".
#
# Installs what is missing (rustup target, cross gcc, QEMU, cpio, the arm64 kernel and busybox
# packages), cross-builds edgetap for aarch64 (static), boots, and prints a last line
# `raspi3b: ok …` (exit 0) or `raspi3b: FAIL …` (exit 1). No network in the guest; bounded time.
#
# Environment: EDGETAP_QEMU_CACHE (downloaded packages, default target/qemu-cache),
# EDGETAP_QEMU_TIMEOUT (seconds the guest may take, default 240).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
start=$(date +%s)
target=aarch64-unknown-linux-gnu
cache=${EDGETAP_QEMU_CACHE:-$here/target/qemu-cache}
guest_timeout=${EDGETAP_QEMU_TIMEOUT:-240}
marker=EDGETAP-QEMU-DONE

stop_qemu() {
    if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
    qemu_pid=
}
fail() {
    stop_qemu
    echo "raspi3b: FAIL $*"
    exit 1
}

work=$(mktemp -d /tmp/edgetap-raspi3b.XXXXXX)
qemu_pid=
cleanup() {
    stop_qemu
    rm -rf "$work"
}
trap cleanup EXIT

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
        fail "need root to run: $*"; fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root timeout 300 apt-get update -qq >/dev/null || fail "apt-get update"
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "$@" >/dev/null \
        || fail "apt-get install $*"
}

# --- tools ---------------------------------------------------------------------------------
rustup target list --installed 2>/dev/null | grep -qx "$target" \
    || timeout 600 rustup target add "$target" >/dev/null || fail "rustup target add $target"
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v cpio >/dev/null || need+=(cpio)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# --- guest kernel and busybox (Debian arm64 packages, kept in the cache) ----------------------
mkdir -p "$cache"
if ! ls "$cache"/linux-image-*_arm64.deb >/dev/null 2>&1 || ! ls "$cache"/busybox-static_*_arm64.deb >/dev/null 2>&1; then
    dpkg --print-foreign-architectures | grep -qx arm64 || { as_root dpkg --add-architecture arm64; apt_updated=; }
    if [ -z "$apt_updated" ]; then as_root timeout 300 apt-get update -qq >/dev/null || fail "apt-get update"; apt_updated=1; fi
    kernel_pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-arm64$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$kernel_pkg" ] || fail "no linux-image-6.1.0-*-arm64 package known to apt"
    (cd "$cache" && rm -f ./*.deb && timeout 600 apt-get download "$kernel_pkg:arm64" busybox-static:arm64 >/dev/null 2>&1) \
        || fail "apt-get download $kernel_pkg:arm64 busybox-static:arm64"
fi
kernel_deb=$(ls "$cache"/linux-image-*_arm64.deb | head -1)
busybox_deb=$(ls "$cache"/busybox-static_*_arm64.deb | head -1)
mkdir -p "$work/kernel" "$work/busybox"
dpkg-deb --fsys-tarfile "$kernel_deb" \
    | tar -x -C "$work/kernel" --wildcards './boot/vmlinuz-*' '*/broadcom/bcm2837-rpi-3-b.dtb' \
    || fail "cannot unpack $kernel_deb"
dpkg-deb -x "$busybox_deb" "$work/busybox" || fail "cannot unpack $busybox_deb"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -1)
dtb=$(find "$work/kernel" -name bcm2837-rpi-3-b.dtb | head -1)
[ -f "$vmlinuz" ] && [ -f "$dtb" ] || fail "no vmlinuz or bcm2837-rpi-3-b.dtb in $kernel_deb"

# --- edgetap for aarch64, statically linked --------------------------------------------------
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
timeout 1800 nice cargo build --quiet --locked --target "$target" --bin edgetap \
    || fail "cross build for $target"
bin=target/$target/debug/edgetap

# --- initramfs ------------------------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc}
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
aarch64-linux-gnu-strip -o "$root/edgetap" "$bin" || fail "strip $bin"
aarch64-linux-gnu-gcc -O1 -static -o "$root/unaligned" tests/qemu/unaligned.c || fail "cross-compile tests/qemu/unaligned.c"
cat >"$root/etc/selftest.toml" <<'TOML'
device_id = "raspi3b"
state_dir = "/tmp/state"
[sampler]
backend = "dma"
# QEMU models no caches: the chain's pages are read through this process's own mapping, which
# Debian's kernel (STRICT_DEVMEM) leaves as the only way in. Never on a real Pi.
dma_memory = "own-mapping"
[[inputs]]
pin = 17
TOML
cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "--- edgetap check"
/edgetap check --config /etc/selftest.toml
c=\$?
echo "--- edgetap selftest"
/edgetap selftest --config /etc/selftest.toml
s=\$?
echo "--- unaligned"
/unaligned
echo "$marker check=\$c selftest=\$s"
# Neither poweroff -f nor reboot -f ends QEMU's raspi3b: the host kills it on the marker.
while true; do sleep 60; done
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$work/initrd.gz") || fail "cpio"

# --- boot -----------------------------------------------------------------------------------
log=$work/serial.log
boot=$(date +%s)
qemu-system-aarch64 -M raspi3b -m 1G -kernel "$vmlinuz" -dtb "$dtb" -initrd "$work/initrd.gz" \
    -append "console=ttyAMA0 iomem=relaxed rdinit=/init quiet" \
    -display none -serial file:"$log" -monitor none -nic none -no-reboot 2>"$work/qemu.err" &
qemu_pid=$!
deadline=$((boot + guest_timeout))
while ! grep -q "^$marker" "$log" 2>/dev/null; do
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
        tail -n 40 "$log" "$work/qemu.err" 2>/dev/null
        fail "QEMU exited before the guest finished"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        tail -n 40 "$log" 2>/dev/null
        fail "no '$marker' within ${guest_timeout}s"
    fi
    sleep 1
done
stop_qemu
guest=$(($(date +%s) - boot))

# The guest's output from the first edgetap line on, without the console's carriage returns.
sed -n '/^--- edgetap check/,$p' "$log" | tr -d '\r'
result=$(grep "^$marker" "$log" | tr -d '\r')
check_rc=$(sed -n 's/.*check=\([0-9]*\).*/\1/p' <<<"$result")
selftest_rc=$(sed -n 's/.*selftest=\([0-9]*\).*/\1/p' <<<"$result")
total=$(($(date +%s) - start))
last_selftest=$(tr -d '\r' <"$log" | grep '^selftest: ' | tail -1 || true)
if [ "$check_rc" != 0 ]; then fail "edgetap check exited $check_rc (guest ${guest}s, total ${total}s)"; fi
# `check` reports a finding it cannot satisfy as a FAIL line (an unknown board exits 0 too).
check_fail=$(tr -d '\r' <"$log" | sed -n '/^--- edgetap check/,/^--- edgetap selftest/p' | grep '^FAIL' | head -1 || true)
if [ -n "$check_fail" ]; then fail "edgetap check: $check_fail (guest ${guest}s, total ${total}s)"; fi
if [ "$selftest_rc" != 0 ] || [ "$last_selftest" != "selftest: ok" ]; then
    fail "edgetap selftest exited $selftest_rc: ${last_selftest:-no selftest line} (guest ${guest}s, total ${total}s)"
fi
# Which accesses to a Device mapping (/dev/mem, the system timer) fault under QEMU.
unaligned=$(tr -d '\r' <"$log" | sed -n 's/^unaligned-device \([^:]*\): \(SIGBUS\|SIGSEGV\|no fault\).*/\1 \2/p' | paste -sd, - | sed 's/,/, /g')
echo "raspi3b: ok check and selftest passed; Device-memory loads: ${unaligned:-not probed} (guest ${guest}s, total ${total}s)"
