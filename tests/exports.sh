#!/bin/bash
# Sealed library boundaries: each library given exports e3c_-prefixed symbols and nothing
# else (no internal helper, no C++ symbol). Fails naming every other exported symbol.
# Usage: exports.sh LIBRARY...
set -u
command -v nm >/dev/null || { echo "exports.sh: nm not found" >&2; exit 1; }
status=0
for lib in "$@"; do
    syms=$(nm -D --defined-only "$lib") || { echo "$lib: nm failed" >&2; status=1; continue; }
    names=$(awk 'NF >= 3 { print $3 }' <<<"$syms")
    if ! grep -q '^e3c_' <<<"$names"; then
        echo "$lib: exports no e3c_ symbol" >&2
        status=1
    fi
    other=$(grep -v '^e3c_' <<<"$names")
    if [ -n "$other" ]; then
        echo "$lib: exports $(wc -l <<<"$other") symbols without the e3c_ prefix:" >&2
        head -n 20 <<<"$other" | sed 's/^/  /' >&2
        status=1
    fi
    echo "$lib: $(grep -c '^e3c_' <<<"$names") e3c_ symbols, nothing else"
done
exit $status
