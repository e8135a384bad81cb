#!/usr/bin/env bash
# Make the Debian package from BUILD with `cpack -G DEB` into WORK, check that it holds the
# program, the libraries, the headers, the CMake and pkg-config files and share/e3check/,
# that it depends on the runtime packages, and that the program unpacked from it runs
# (its RPATH finds the libraries beside it; LD_LIBRARY_PATH unset) on FIXTURE. SOVERSION is
# the libraries' soname version (0.2: libe3check.so.0.2).
set -euo pipefail
build=$1 work=$2 fixture=$3 soversion=$4
rm -rf "$work" && mkdir -p "$work"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" > "$work/cpack.log"
deb=$(ls "$work"/e3check_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' > "$work/contents"
for f in usr/bin/e3check usr/lib/libe3check.so.$soversion usr/lib/libe3check_checks.so.$soversion usr/include/e3check/checks.h \
         usr/lib/cmake/e3check/e3checkConfig.cmake usr/lib/cmake/e3check/e3checkTargets.cmake usr/lib/pkgconfig/e3check.pc \
         usr/share/e3check/fixtures/fixture.schema.json usr/share/e3check/fixtures/README.md \
         usr/share/e3check/reports/report.schema.json; do
  grep -qx "./$f" "$work/contents" || { echo "$deb lacks $f" >&2; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for p in libtorch1.13 libcjson1 liblapacke; do
  [[ $depends == *"$p"* ]] || { echo "$deb does not depend on $p: $depends" >&2; exit 1; }
done
dpkg-deb -x "$deb" "$work/root"
env -u LD_LIBRARY_PATH "$work/root/usr/bin/e3check" run "$fixture" --jobs 2 --report "$work/report.json"
echo "1 passed, 0 failed"
