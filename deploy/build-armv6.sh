#!/usr/bin/env bash
# Builds edgetap for ARMv6 (Raspberry Pi 1, Zero, Zero W: ARM1176JZF-S, VFPv2) on an x86_64
# Debian/Ubuntu machine, and with --check proves the result is an ARMv6 binary that works.
#
#   deploy/build-armv6.sh [--check] [--profile release|cross-ci]   (--check: release, it needs symbols)
#
# rustup ships no std for arm-unknown-linux-gnueabihf any more, and Debian's armhf gcc and glibc
# are ARMv7, so they cannot link an ARMv6 binary. What works: std built from source (rust-src,
# -Zbuild-std, RUSTC_BOOTSTRAP=1 on a stable toolchain) and zig as the linker with its own
# ARMv6-capable glibc stubs (glibc 2.31: Raspberry Pi OS Bullseye and later have it), through
# cargo-zigbuild. zig comes from PyPI's `ziglang`, cargo-zigbuild from crates.io.
#
# Output: target/arm-unknown-linux-gnueabihf/<profile>/edgetap ($CARGO_TARGET_DIR if set).
# --check compares with target/debug/edgetap (EDGETAP_NATIVE_BIN; built if missing) and
# cross-checks its instruction scan on target/armv7-unknown-linux-gnueabihf/cross-ci/edgetap
# (ARMV7_REFERENCE), which `.ci/run` builds.
#
# --check (needs binutils-arm-linux-gnueabihf, qemu-user, libc6-dev-armhf-cross):
#   * readelf -A: Tag_CPU_arch v6, Tag_FP_arch VFPv2, no Advanced SIMD (NEON);
#   * the disassembly has none of the instructions an ARM1176 lacks (see ARMV7_ONLY below); the
#     same scan must find them in an ARMv7 build, so it cannot pass by not seeing them;
#   * under qemu-arm the binary captures the emulated board and writes exactly the edges the
#     native (x86) binary writes for the same signal and config.
set -euo pipefail
cd "$(dirname "$0")/.."

check=no
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
  --check) check=yes ;;
  --profile) profile=${2:?--profile needs a name}; shift ;;
  *) echo "usage: $0 [--check] [--profile release|cross-ci]" >&2; exit 2 ;;
  esac
  shift
done

triple=arm-unknown-linux-gnueabihf
glibc=2.31
tdir=${CARGO_TARGET_DIR:-target}
bin=$tdir/$triple/$profile/edgetap

# Tools, each installed only when missing.
rustup component list --installed | grep '^rust-src' >/dev/null || rustup component add rust-src
if ! command -v zig >/dev/null 2>&1 && ! python3 -m ziglang version >/dev/null 2>&1; then
  python3 -m pip install --quiet ziglang
fi
command -v cargo-zigbuild >/dev/null 2>&1 || cargo install --locked cargo-zigbuild

# --check scans the disassembly with function names and $d mapping symbols, so its build keeps the
# symbol table: rustc's release default (strip = "debuginfo") leaves none when zig links.
if [ "$check" = yes ]; then
  profile_env=$(echo "$profile" | tr 'a-z-' 'A-Z_')
  export "CARGO_PROFILE_${profile_env}_STRIP=none"
fi
# panic_unwind: the release profile keeps panic = "unwind" (the DMA teardown's panic hook).
RUSTC_BOOTSTRAP=1 cargo zigbuild --locked --profile "$profile" --target "$triple.$glibc" \
  -Zbuild-std=std,panic_unwind
echo "built $bin"

[ "$check" = yes ] || exit 0

fail() { echo "build-armv6: FAIL: $*" >&2; exit 1; }
for tool in arm-linux-gnueabihf-readelf arm-linux-gnueabihf-objdump qemu-arm; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool missing (apt-get install binutils-arm-linux-gnueabihf qemu-user)"
done

# 1. The build attributes.
attrs=$(arm-linux-gnueabihf-readelf -A "$bin")
grep -q 'Tag_CPU_arch: v6$' <<<"$attrs" || fail "Tag_CPU_arch is not v6: $attrs"
grep -q 'Tag_FP_arch: VFPv2' <<<"$attrs" || fail "Tag_FP_arch is not VFPv2: $attrs"
! grep -q 'Tag_Advanced_SIMD_arch' <<<"$attrs" || fail "NEON attribute set: $attrs"
echo "attributes: Tag_CPU_arch v6, VFPv2, no NEON"

# 2. The instructions. ARM1176JZF-S is ARMv6KZ: it has ldrex/strex in every width, clrex,
# wfe/wfi/sev and yield (ARMv6K), but not what ARMv6T2/ARMv7 added: movw/movt (the first
# thing a v7 compiler emits for constants), the barrier instructions dmb/dsb/isb (ARMv6 does
# them with `mcr p15, 0, rX, c7, c10, 5/4` and `c7, c5, 4`: a dmb would be an undefined
# instruction on a Pi Zero), the bit-field and divide instructions (bfi, bfc, ubfx, sbfx, rbit,
# mls, sdiv, udiv), NEON, and VFPv3's vmov immediate. objdump decodes all of them whatever the
# file says. Two kinds of such code are in the binary on purpose and are never run on ARMv6:
#   * edgetap's own DMA barriers (src/hw/barrier.rs) pick `mcr p15` or the v7 instruction from
#     AT_PLATFORM at run time; the v7 ones are there as the exact words dsb st = f57ff04e and
#     dmb osh = f57ff053, which a compiler targeting ARMv6 never emits;
#   * ring's NEON and ARMv7 assembly (functions named *_neon, *NEON*, bsaes*, vpaes*), which
#     ring calls only when the kernel's HWCAP says NEON, which no ARMv6 core has.
# Everything else counts. The scan needs the symbol table (function names, and the $d mapping
# symbols without which objdump decodes constant tables as instructions): --check builds without
# stripping; a stripped binary is refused.
ARMV7_ONLY='movw|movt|dmb|dsb|isb|bfi|bfc|ubfx|sbfx|rbit|mls|sdiv|udiv|vld1|vst1'
RUNTIME_DISPATCHED='_neon|NEON|bsaes|vpaes'
scan() { # prints "<ARMv7-only count> <dispatched barriers> <runtime-dispatched NEON/v7 count>"
  arm-linux-gnueabihf-objdump -d "$1" |
    awk -v re="^($ARMV7_ONLY)(\\.|\$)" -v ok="$RUNTIME_DISPATCHED" -F'\t' '
      /^[0-9a-f]+ <[^.].*>:$/ { fn = $0; next }  # not local labels (<._loop>) inside one
      NF >= 3 {
        split($3, w, " ")
        bad = (w[1] ~ re) || (w[1] ~ /^vmov\.f(32|64)$/ && $4 ~ /^[sd][0-9]+, #/)
        if (!bad) next
        word = $2; gsub(/ /, "", word)
        if (word == "f57ff04e" || word == "f57ff053") barriers++
        else if (fn ~ ok) dispatched++
        else { n++; if (n <= 20) print "  " fn " " $0 > "/dev/stderr" }
      }
      END { print n + 0, barriers + 0, dispatched + 0 }'
}
# grep -c reads to the end: `grep -q` would close the pipe early and, under pipefail, readelf's
# SIGPIPE would read as "no symbols".
[ "$(arm-linux-gnueabihf-readelf -s "$bin" | grep -c ' \$d')" -gt 0 ] ||
  fail "$bin has no symbol table (stripped): --check builds it unstripped; rebuild with --check"
read -r found barriers dispatched < <(scan "$bin")
[ "$found" -eq 0 ] || fail "$found ARMv7-only instructions in $bin (the first ones above)"
v7=${ARMV7_REFERENCE:-target/armv7-unknown-linux-gnueabihf/cross-ci/edgetap}
if [ -f "$v7" ]; then
  read -r seen _ _ < <(scan "$v7" 2>/dev/null)
  [ "$seen" -gt 0 ] || fail "the scan finds no ARMv7-only instruction in $v7 either: it is blind"
  v7_note="the same scan finds $seen in $v7"
else
  v7_note="$v7 absent: scan not cross-checked"
fi
echo "instructions: none ARMv7-only outside $barriers run-time-chosen barriers and $dispatched" \
  "instructions of ring's NEON code ($v7_note)"

# 3. Run it on the emulated board and compare with the native binary. qemu's default CPU: the
# binary itself is ARMv6, but the dynamic loader and libc it runs with here are Debian's armhf
# ones, built for ARMv7 (movw in ld.so), so `-cpu arm1176` cannot start any dynamic armhf
# program on this machine — a Pi's own ARMv6 libc is what runs it there.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
native=${EDGETAP_NATIVE_BIN:-$tdir/debug/edgetap}
[ -x "$native" ] || cargo build --locked --quiet
"$native" signal demo --seconds 1 --out "$work/demo.vcd" >/dev/null
cat >"$work/board.toml" <<TOML
device_id = "armv6-check"
state_dir = "$work/state"
[sampler]
backend = "emulated"
period_us = 5
[sampler.emulated]
board = "pi3"
signal = "$work/demo.vcd"
realtime = false
start_us = 1764040000000000
[[inputs]]
pin = 17
glitch_us = 1000
[[inputs]]
pin = 18
[[inputs]]
pin = 27
lockout_us = 50000
TOML
RUST_LOG=warn qemu-arm -L /usr/arm-linux-gnueabihf "$bin" \
  capture --config "$work/board.toml" --duration 1.2 --out "$work/armv6.jsonl"
RUST_LOG=warn "$native" capture --config "$work/board.toml" --duration 1.2 --out "$work/x86.jsonl"
edges=$(wc -l <"$work/x86.jsonl")
[ "$edges" -gt 1000 ] || fail "the native capture found only $edges edges"
cmp -s "$work/armv6.jsonl" "$work/x86.jsonl" ||
  fail "the ARMv6 capture differs from the native one ($(wc -l <"$work/armv6.jsonl") vs $edges edges)"
echo "qemu-arm: the same $edges edges as the native binary"
echo "build-armv6: ok"
