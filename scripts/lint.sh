#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of the kernel module, for every supported kernel:
#   1. W=1 build with zero warnings (6.1, 6.12 and 7.x);
#   2. sparse (C=2) with zero warnings in our files (6.1, 6.12 and 7.x);
#   3. checkpatch.pl --strict clean on module/ and uapi/;
#   4. every symbol irqroute.ko imports is exported, to every GPL module (no
#      module namespace restriction), by the kernel it was built for (6.1,
#      6.12 and Debian sid's newest 7.x, built in the sid chroot);
#   5. Documentation/ renders without a docutils warning, and every test
#      the input table names exists.
# Exit status is non-zero if any check fails; all checks always run.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
[ -f "$CACHE/env.sh" ] || { echo "lint: run scripts/setup-host.sh first" >&2; exit 2; }
# shellcheck disable=SC1091
. "$CACHE/env.sh"
cd "$ROOT"

LINT=$ROOT/build/lint
KVERS=("$KVER_61" "$KVER_612" "$KVER_7")
FAILED=()
JOBS=$(nproc)

section() { printf '\n=== lint: %s ===\n' "$*"; }
fail() { FAILED+=("$*"); echo "lint: FAIL: $*"; }

# kbuild for $1; 7.x runs in the sid chroot (scripts/sid-run.sh).
kbuild() {	# $1 = kver, rest = make arguments
	local kver=$1
	shift
	if [ "$kver" = "$KVER_7" ]; then
		"$ROOT/scripts/sid-run.sh" make -C "/lib/modules/$kver/build" "$@"
	else
		make -C "/lib/modules/$kver/build" "$@"
	fi
}

# Fresh copy of the module sources, so every file is compiled (and checked).
stage() {	# $1 = name; prints the directory
	local dir=$LINT/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a Kbuild VERSION module uapi "$dir/"
	echo "$dir"
}

# --- 1. W=1 -----------------------------------------------------------------
for kver in "${KVERS[@]}"; do
	section "W=1 build, $kver"
	dir=$(stage "w1-$kver")
	log=$dir/build.log
	if ! kbuild "$kver" M="$dir" W=1 -j"$JOBS" modules >"$log" 2>&1; then
		cat "$log"
		fail "W=1 build failed on $kver"
		continue
	fi
	if grep -E 'warning:|WARNING:|error:' "$log" |
	   sed "s|$dir/||" >"$dir/warnings"; then
		cat "$dir/warnings"
		fail "W=1 build has $(wc -l <"$dir/warnings") warning line(s) on $kver"
	else
		echo "clean"
	fi
done

# --- 2. sparse ----------------------------------------------------------------
for kver in "${KVERS[@]}"; do
	section "sparse (C=2), $kver"
	dir=$(stage "sparse-$kver")
	log=$dir/build.log
	if ! kbuild "$kver" M="$dir" C=2 CHECK=sparse -j"$JOBS" modules \
		>"$log" 2>&1; then
		cat "$log"
		fail "sparse build failed on $kver"
		continue
	fi
	# kbuild turns the checker off with only a warning if it does not run.
	if grep -q 'not available or not up to date' "$log"; then
		grep 'not available or not up to date' "$log"
		fail "sparse did not run on $kver"
		continue
	fi
	# sparse prints "file:line:col: warning|error: ..." followed by
	# indented context lines. Reports located in the kernel's own headers
	# are not about this code: they are printed, but do not fail the check.
	# Our files are those of the staged copy (paths shown relative to it).
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log" |
		sed "s|^$dir/||" >"$dir/all" || true
	grep -E '^(module|uapi)/' "$dir/all" >"$dir/ours" || true
	grep -vE '^(module|uapi)/' "$dir/all" >"$dir/theirs" || true
	if [ -s "$dir/theirs" ]; then
		echo "(not counted: $(wc -l <"$dir/theirs") report(s) inside kernel headers)"
		sed 's/^/  kernel: /' "$dir/theirs"
	fi
	if [ -s "$dir/ours" ]; then
		cat "$dir/ours"
		fail "sparse: $(wc -l <"$dir/ours") report(s) in irqroute on $kver"
	else
		echo "clean"
	fi
done

# --- 3. checkpatch ----------------------------------------------------------
section "checkpatch.pl --strict"
shopt -s nullglob
mod_files=(module/*.c module/*.h)
shopt -u nullglob
[ ${#mod_files[@]} -gt 0 ] && [ -f uapi/linux/irqroute.h ] ||
	fail "checkpatch: module/*.c or uapi/linux/irqroute.h missing"
mkdir -p "$LINT"
cp_log=$LINT/checkpatch.log
CHECKPATCH=(perl "$LINUX_SRC/scripts/checkpatch.pl" --no-tree --strict
	    --terse --show-types)
# Module sources: no --ignore, every ERROR, WARNING and CHECK counts.
"${CHECKPATCH[@]}" -f "${mod_files[@]}" >"$cp_log" 2>&1 || true
# The uapi header: checkpatch exempts include/uapi/ from BIT_MACRO because
# BIT() is not available to userspace; our header lives at uapi/linux/, so
# the same exemption is given by hand. Nothing else is ignored.
"${CHECKPATCH[@]}" --ignore BIT_MACRO -f uapi/linux/irqroute.h \
	>>"$cp_log" 2>&1 || true
if grep -E ': (ERROR|WARNING|CHECK):' "$cp_log"; then
	fail "checkpatch: $(grep -cE ': (ERROR|WARNING|CHECK):' "$cp_log") report(s)"
elif grep -i 'no such file' "$cp_log"; then
	fail "checkpatch: missing input"
else
	echo "clean ($((${#mod_files[@]} + 1)) files)"
fi

# --- 4. imported symbols ----------------------------------------------------
# Module.symvers columns (tab separated): crc, symbol, exporting module,
# export type, namespace. Since 6.x a namespace "module:a,b" means the
# symbol is exported only to those modules (EXPORT_SYMBOL_FOR_MODULES).

check_symbols() {	# $1 = .ko, $2 = Module.symvers, $3 = label
	local ko=$1 symvers=$2 label=$3 bad=0 sym line
	while read -r sym; do
		line=$(awk -F'\t' -v s="$sym" '$2 == s { print; exit }' "$symvers")
		if [ -z "$line" ]; then
			echo "  $label: $sym NOT EXPORTED"
			bad=1
			continue
		fi
		IFS=$'\t' read -r _ _ owner type ns <<<"$line"
		case $type in
		EXPORT_SYMBOL | EXPORT_SYMBOL_GPL) ;;
		*) echo "  $label: $sym exported as $type"; bad=1 ;;
		esac
		case $ns in
		module:*) echo "  $label: $sym restricted to $ns"; bad=1 ;;
		"") ;;
		*) echo "  $label: $sym in namespace $ns (needs MODULE_IMPORT_NS)" ;;
		esac
		printf '  %-5s %-40s %-20s %s\n' "$label" "$sym" "$owner" "$type"
	done < <(nm -u "$ko" | awk '{ print $2 }' | sort -u)
	return $bad
}

section "imported symbols"
# Identifiers our module sources use, comments stripped.
IDENTS=$LINT/identifiers
perl -0777 -ne 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; print' module/*.[ch] |
	grep -ohwE '[A-Za-z_][A-Za-z0-9_]*' | sort -u >"$IDENTS"
for kver in "${KVERS[@]}"; do
	ko=$ROOT/build/$kver/irqroute.ko
	make -s module KVER="$kver" >/dev/null 2>&1 ||
		{ fail "module does not build for $kver"; continue; }
	echo "irqroute.ko built for $kver imports:"
	label=${kver%.*-amd64}	# 6.1.0-56-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12
	symvers=/lib/modules/$kver/build/Module.symvers
	[ "$kver" = "$KVER_7" ] && symvers=$SYMVERS_7
	check_symbols "$ko" "$symvers" "$label" ||
		fail "symbols of the $kver build not all exported by $kver"
done
# Also any identifier in our sources that 7.x exports only to some modules,
# even in code the 7.x build did not compile (version-specific branches).
restricted=$(awk -F'\t' '$5 ~ /^module:/ { print $2 }' "$SYMVERS_7" |
	     grep -xFf - "$IDENTS" || true)
if [ -n "$restricted" ]; then
	for sym in $restricted; do
		echo "  7.x: module/ names $sym: $(awk -F'\t' -v s="$sym" '$2 == s { print $4, $5 }' "$SYMVERS_7")"
	done
	fail "module/ uses symbols that 7.x exports only to specific modules"
else
	echo "  no identifier in module/ is a 7.x export restricted to specific modules"
fi

# --- 5. Documentation -------------------------------------------------------
section "Documentation (docutils, input table)"
make -s -C Documentation check || fail "Documentation/ check"

section "summary"
if [ ${#FAILED[@]} -gt 0 ]; then
	printf 'lint: FAILED: %s\n' "${FAILED[@]}"
	exit 1
fi
echo "lint: all checks passed"
