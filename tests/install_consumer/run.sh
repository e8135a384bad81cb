#!/usr/bin/env bash
# Install e3check from BUILD into a private prefix, then configure, build and run a
# consumer project against it with find_package(e3check) and with pkg-config.
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
flags=${E3C_CONSUMER_CFLAGS:-}
cmake -S "$src" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_FLAGS="$flags" > "$work/configure.log"
cmake --build "$work/consumer" > "$work/build.log"
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/consumer/consumer"
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/consumer/consumer_cli" | grep -q "^dim *8$"
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" cc $flags -std=c11 "$src/consumer.c" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs e3check)
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/consumer_pc"
test -x "$work/prefix/bin/e3check"
echo "1 passed, 0 failed"
