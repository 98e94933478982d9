#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
#
# man-check.sh: every public function of irqroute.h has a man page that
# renders without a warning (installed layout, so ".so man3/..." links
# resolve), names the function, has the sections a liburing-style page
# has (ATTRIBUTES too, with a row for each function the page documents),
# and refers only to pages that exist.
set -eu

lib=$(cd "$(dirname "$0")/.." && pwd)
uapi=$(cd "$lib/../uapi" && pwd)
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

mkdir -p "$tmp/man3" "$tmp/man7"
cp "$lib"/man/*.3 "$tmp/man3/"
cp "$lib"/man/*.7 "$tmp/man7/"

"$CC" -E -P -I"$uapi" "$lib/include/irqroute.h" |
	grep -o '\birqroute_[a-z_]*[ ]*(' | tr -d ' (' | sort -u > "$tmp/funcs"

missing=
for fn in $(cat "$tmp/funcs"); do
	[ -f "$tmp/man3/$fn.3" ] || missing="$missing $fn"
done
if [ -z "$missing" ]; then
	ok "a page for each of the $(wc -l < "$tmp/funcs") public functions"
else
	fail "no man page for:$missing"
fi

bad=
cd "$tmp"
for page in man3/*.3 man7/*.7; do
	warn=$(LC_ALL=C MANWIDTH=80 man --warnings=all -l "$page" 2>&1 \
		>"$tmp/out") || true
	if [ -n "$warn" ] || [ ! -s "$tmp/out" ]; then
		bad="$bad $page"
		echo "# $page: $warn"
		continue
	fi
	# lexgrog parses NAME as whatis/apropos will.
	name=$(basename "$page" | sed 's/\.[37]$//')
	if ! lexgrog "$page" 2>/dev/null |
		sed 's/^[^"]*"\([^ ]*\) - .*/\1/' | grep -qx "$name"; then
		bad="$bad $page"
		echo "# $page: NAME does not list $name"
	fi
	# A ".so" page is the page it names; that one is checked itself.
	if [ "$(sed '/^\.\\"/d' "$page")" = "$(grep '^\.so ' "$page")" ]; then
		continue
	fi
	sections="NAME SYNOPSIS DESCRIPTION ATTRIBUTES SEE.ALSO"
	case $page in
	man3/*) sections="$sections RETURN.VALUE ERRORS" ;;
	esac
	# The ATTRIBUTES table names every function the page documents
	# (libirqroute.7: every public function).
	sed -n '/^ATTRIBUTES$/,/^[A-Z]/p' "$tmp/out" > "$tmp/attr"
	case $page in
	man3/*) names=$(lexgrog "$page" 2>/dev/null |
			sed 's/^[^"]*"\([^ ]*\) - .*/\1/') ;;
	*) names=$(cat "$tmp/funcs") ;;
	esac
	for fn in $names; do
		if [ -s "$tmp/attr" ] && ! grep -q "\b$fn()" "$tmp/attr"; then
			bad="$bad $page"
			echo "# $page: $fn() not in the ATTRIBUTES table"
		fi
	done
	for s in $sections; do
		if ! grep -q "^$s\$" "$tmp/out"; then
			bad="$bad $page"
			echo "# $page: no $s section"
		fi
	done
	for ref in $(sed -n '/^SEE ALSO/,$p' "$tmp/out" |
			grep -o '\(lib\)\?irqroute_*[a-z_]*([37])'); do
		refname=${ref%(*}
		sec=$(echo "$ref" | tr -dc 37)
		if [ ! -f "man$sec/$refname.$sec" ]; then
			bad="$bad $page"
			echo "# $page: SEE ALSO $ref has no page"
		fi
	done
done
if [ -z "$bad" ]; then
	ok "every page renders with man -l, without warnings, with its sections"
else
	fail "pages with problems:$(echo $bad | tr ' ' '\n' | sort -u | tr '\n' ' ')"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
