#!/usr/bin/env bash
# Install e3check from BUILD into a fresh prefix, then: run the installed e3check on a
# fixture with LD_LIBRARY_PATH unset (its RPATH must find the libraries); configure, build
# and test a consumer project with find_package(e3check) (the library and e3check::cli in
# add_test); build the consumer again with pkg-config; check share/e3check/ and that the
# consumer needs the libraries by their soname version SOVERSION (libe3check.so.0.2).
set -euo pipefail
build=$1 src=$2 work=$3 fixture=$4 soversion=$5
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in fixtures/README.md fixtures/fixture.schema.json reports/report.schema.json; do
  test -s "$prefix/share/e3check/$f" || { echo "not installed: share/e3check/$f" >&2; exit 1; }
done
env -u LD_LIBRARY_PATH "$prefix/bin/e3check" run "$fixture" --jobs 2 --report "$work/installed-report.json"
flags=${E3C_CONSUMER_CFLAGS:-}
cmake -S "$src" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$flags" \
  -DE3C_FIXTURES="$fixture" > "$work/configure.log"
cmake --build "$work/consumer" > "$work/build.log"
grep -q "$prefix/bin/e3check" "$work/consumer/CTestTestfile.cmake" \
  || { echo "e3check::cli is not the installed program" >&2; exit 1; }
env -u LD_LIBRARY_PATH ctest --test-dir "$work/consumer" --output-on-failure
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc $flags -std=c11 "$src/consumer.c" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs e3check)
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$work/consumer_pc"
# Every e3check library it needs is named by its soname (the linker may keep the two it does not
# use: a sanitizer build links without --as-needed).
needed=$(objdump -p "$work/consumer_pc" | awk '$1 == "NEEDED" && $2 ~ /^libe3check/ { print $2 }')
grep -qx "libe3check.so.$soversion" <<< "$needed" \
  || { echo "the consumer needs '$needed', not libe3check.so.$soversion" >&2; exit 1; }
if grep -vx "libe3check[a-z_]*\.so\.$soversion" <<< "$needed"; then
  echo "the consumer needs an e3check library without its soname version $soversion" >&2; exit 1
fi
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$work/consumer/consumer_cli" | grep -q "^dim *8$"
echo "1 passed, 0 failed"
