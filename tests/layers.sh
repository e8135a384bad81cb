#!/bin/bash
# The floors of e3check, lowest first:
#   core -> torch -> o3 -> jit -> nn/seed/atoms -> registry -> checks -> cli
# A file of framework/ or checks/ may include headers of its own floor or a lower one, never
# a higher one (a public header of framework/include/e3check belongs to the floor named for
# it in file_floor below). Fails naming the file and each include that goes up, or that it cannot
# place; also fails when files include each other in a circle. With object files after the
# source directory, it also fails when they call each other in a circle (nm: a file that uses
# a symbol another file defines calls it).
# Usage: layers.sh SOURCE_DIR [OBJECT_FILE...]
set -u -o pipefail
export LC_ALL=C # sort and join agree on the order
cd "${1:?usage: layers.sh SOURCE_DIR [OBJECT_FILE...]}" || exit 1
shift
FLOORS=(core torch o3 jit nn/seed/atoms registry checks cli)

# FLOOR = the floor (its index in FLOORS) of the file at path $1; empty when unknown.
# A public header's floor is set by its name.
file_floor() {
    FLOOR=
    case $1 in
    framework/include/e3check/*)
        case ${1##*/} in
        export.h | error.h | file.h | json.h | rng.h) FLOOR=0 ;;
        torch.h | state.h | values.h) FLOOR=1 ;;
        irreps.h | o3.h) FLOOR=2 ;;
        module.h) FLOOR=3 ;;
        nn.h | seed.h | atoms.h) FLOOR=4 ;;
        registry.h) FLOOR=5 ;;
        checks.h | fixture.h | report.h | structured.h) FLOOR=6 ;;
        command.h) FLOOR=7 ;;
        esac
        ;;
    framework/core/*) FLOOR=0 ;;
    framework/torch/*) FLOOR=1 ;;
    framework/o3/*) FLOOR=2 ;;
    framework/jit/*) FLOOR=3 ;;
    framework/nn/* | framework/seed/* | framework/atoms/*) FLOOR=4 ;;
    framework/registry/*) FLOOR=5 ;;
    checks/cli/*) FLOOR=7 ;;
    checks/*) FLOOR=6 ;;
    generated/act_constants.h) FLOOR=4 ;; # written at build time for nn/activation.c
    generated/presets_data.h) FLOOR=6 ;;  # written at build time for checks/structured.c
    esac
}

# TARGET = the path of `#include "$2"` seen from file $1, as the build finds it: beside the
# file, then in the include directories; generated/NAME for the headers written at build
# time; empty when not found.
resolve() {
    local dir
    TARGET=
    for dir in "${1%/*}" framework/include checks/include framework/core; do
        if [ -f "$dir/$2" ]; then
            TARGET=$dir/$2
            while [[ $TARGET =~ ^(.*/)?[^/.][^/]*/\.\./(.*)$ ]]; do # a/b/../c -> a/c
                TARGET=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
            done
            return
        fi
    done
    case $2 in
    act_constants.h | presets_data.h) TARGET=generated/$2 ;;
    esac
}

status=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
n_files=0 n_includes=0
while IFS= read -r file; do
    n_files=$((n_files + 1))
    file_floor "$file"
    own=$FLOOR
    if [ -z "$own" ]; then
        echo "$file: not on any floor (add it to layers.sh)" >&2
        status=1
        continue
    fi
    while IFS= read -r name; do
        n_includes=$((n_includes + 1))
        resolve "$file" "$name"
        target=$TARGET
        file_floor "$target"
        floor=$FLOOR
        if [ -z "$target" ] || [ -z "$floor" ]; then
            echo "$file: #include \"$name\": cannot place it on a floor (add it to layers.sh)" >&2
            status=1
        elif [ "$floor" -gt "$own" ]; then
            echo "$file: #include \"$name\" goes up from ${FLOORS[own]} to ${FLOORS[floor]}" >&2
            status=1
        fi
        [ -n "$target" ] && echo "$target $file" >>"$edges"
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find framework checks -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) | sort)

# tsort names the files of a circle on standard error.
if ! loop=$(tsort "$edges" 2>&1 >/dev/null) || [ -n "$loop" ]; then
    echo "files include each other in a circle:" >&2
    sed -e '/input contains a loop/d' -e 's/^tsort: /  /' <<<"$loop" >&2
    status=1
fi
echo "$n_files files, $n_includes includes checked against the floors ${FLOORS[*]}"

# Calls between object files: an edge from the definer to each user of a global symbol.
if [ $# -gt 0 ]; then
    objects=() # CMake may pass a list of objects as one argument, separated by ';'
    for arg in "$@"; do
        IFS=';' read -r -a parts <<<"$arg"
        objects+=("${parts[@]}")
    done
    defs=$(mktemp) calls=$(mktemp)
    trap 'rm -f "$edges" "$defs" "$calls"' EXIT
    for obj in "${objects[@]}"; do
        nm --defined-only -g "$obj" | awk -v o="$obj" 'NF >= 3 && $2 ~ /^[TDBRGS]$/ { print $3, o }' >>"$defs" ||
            { echo "$obj: nm failed" >&2; exit 1; }
    done
    sort -o "$defs" "$defs"
    for obj in "${objects[@]}"; do
        nm -u "$obj" | awk -v o="$obj" '{ print $NF, o }'
    done | sort | join "$defs" - | awk '$2 != $3 { print $2, $3 }' | sort -u >"$calls"
    if ! loop=$(tsort "$calls" 2>&1 >/dev/null) || [ -n "$loop" ]; then
        echo "object files call each other in a circle:" >&2
        sed -e '/input contains a loop/d' -e 's/^tsort: /  /' <<<"$loop" >&2
        status=1
    fi
    echo "${#objects[@]} object files, $(wc -l <"$calls") calls between them, checked for circles"
fi
exit $status
