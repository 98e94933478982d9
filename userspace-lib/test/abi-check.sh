#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
#
# abi-check.sh <outdir>: the ABI of libirqroute, checked without the module.
#  - the public header's functions, libirqroute.map and the shared
#    library's dynamic symbols are the same set, each at its map node's
#    version (IRQROUTE_1.0, IRQROUTE_1.1, ...);
#  - nothing released is gone: every symbol of debian/libirqroute1.symbols
#    (the record of what each release exported) is still there, at the
#    same version;
#  - the SONAME is libirqroute.so.1;
#  - every other global symbol of libirqroute.a is __irqroute_-prefixed;
#  - the public header compiles on its own as C99, C11 and C++, and a
#    program using every public function links against both libraries.
set -eu

out=${1:?usage: abi-check.sh <outdir>}
lib=$(cd "$(dirname "$0")/.." && pwd)
uapi=$(cd "$lib/../uapi" && pwd)
map=$lib/libirqroute.map
so=$out/libirqroute.so.$(cat "$lib/../VERSION")
CC=${CC:-cc}
CXX=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

# "name@@NODE" for every global of every node of the version script.
awk '/^[A-Z_0-9.]+ *\{/ { node = $1; glob = 0; next }
     /global:/ { glob = 1; next }
     /local:|^}/ { glob = 0; next }
     glob && NF { gsub(/[ \t;]/, ""); print $0 "@@" node }' "$map" |
	sort > "$tmp/map-ver"
sed 's/@.*//' "$tmp/map-ver" | sort > "$tmp/map"

# Function declarations of the public header (name followed by "(").
"$CC" -E -P -I"$uapi" "$lib/include/irqroute.h" |
	grep -o '\birqroute_[a-z_]*[ ]*(' | tr -d ' (' | sort -u > "$tmp/header"

# Dynamic symbols the shared library defines, minus the version node.
nm -D --defined-only "$so" | awk '{ print $3 }' |
	grep -v '^IRQROUTE_[0-9.]*$' | sort > "$tmp/dynsym-ver"
sed 's/@.*//' "$tmp/dynsym-ver" | sort > "$tmp/dynsym"

if [ -s "$tmp/map" ] && diff -u "$tmp/header" "$tmp/map"; then
	ok "version script lists exactly the header's $(wc -l < "$tmp/map") functions"
else
	fail "version script and public header differ"
fi

if diff -u "$tmp/map" "$tmp/dynsym"; then
	ok "$(basename "$so") exports exactly the version script's symbols"
else
	fail "$(basename "$so") exports differ from the version script"
fi

if diff -u "$tmp/map-ver" "$tmp/dynsym-ver"; then
	ok "every exported symbol has its map node's version ($(sed 's/.*@@//' "$tmp/map-ver" | sort -u | tr '\n' ' '))"
else
	fail "exported symbols' versions differ from the version script"
fi

# debian/libirqroute1.symbols: " name@NODE first-version" per released symbol.
sed -n 's/^ \(irqroute_[a-z_0-9]*\)@\(IRQROUTE_[0-9.]*\) .*/\1@@\2/p' \
	"$lib/../debian/libirqroute1.symbols" | sort > "$tmp/released"
if [ -s "$tmp/released" ] &&
   [ -z "$(comm -23 "$tmp/released" "$tmp/dynsym-ver" | tee "$tmp/gone")" ] &&
   [ -z "$(comm -13 "$tmp/released" "$tmp/dynsym-ver" | tee "$tmp/new")" ]; then
	ok "the $(wc -l < "$tmp/released") symbols of debian/libirqroute1.symbols are exported as recorded, none gone, none unrecorded"
else
	sed 's/^/# gone: /' "$tmp/gone"
	sed 's/^/# not in debian\/libirqroute1.symbols: /' "$tmp/new"
	fail "the exported symbols differ from debian/libirqroute1.symbols"
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = libirqroute.so.1 ] &&
   [ "$(readlink "$out/libirqroute.so.1")" = "$(basename "$so")" ] &&
   [ "$(readlink "$out/libirqroute.so")" = libirqroute.so.1 ]; then
	ok "SONAME libirqroute.so.1 and the .so.1/.so links"
else
	fail "SONAME is '$soname' or the .so links are wrong"
fi

# Global symbols of the archive: public, or in the __irqroute_ namespace.
nm -g --defined-only "$out/libirqroute.a" | awk 'NF == 3 { print $3 }' |
	grep -v -e '^__irqroute_' | sort > "$tmp/archive"
if diff -u "$tmp/header" "$tmp/archive"; then
	ok "libirqroute.a defines no global outside irqroute_*/__irqroute_*"
else
	fail "libirqroute.a pollutes the global namespace (above)"
fi

# The header stands alone: it must pull in what it uses, in any language.
hdr_ok=1
printf '#include <irqroute.h>\n#include <irqroute.h>\n' > "$tmp/h.c"
for std in c99 c11 gnu89; do
	"$CC" -std=$std -Wall -Wextra -Werror -Wstrict-prototypes \
		-I"$lib/include" -fsyntax-only "$tmp/h.c" ||
		{ hdr_ok=0; echo "# header fails as $std"; }
done
cp "$tmp/h.c" "$tmp/h.cc"
for std in c++98 c++11 c++17; do
	"$CXX" -std=$std -Wall -Wextra -Werror -I"$lib/include" \
		-fsyntax-only "$tmp/h.cc" ||
		{ hdr_ok=0; echo "# header fails as $std"; }
done
if [ $hdr_ok = 1 ]; then
	ok "irqroute.h compiles standalone as C99/C11/gnu89 and C++98/11/17"
else
	fail "irqroute.h does not compile standalone"
fi

# Every public function, called through the header, from C and C++.
{
	echo '#include <irqroute.h>'
	echo '#include <linux/irqroute.h>'
	echo '#include <stdio.h>'
	echo 'int main(int argc, char **argv) {'
	echo '	void *p[] = {'
	sed 's/.*/		(void *)\&&,/' "$tmp/header"
	echo '	};'
	echo '	(void)argv;'
	echo '	if (argc > 1) return p[0] == 0;'
	echo '	puts(irqroute_version());'
	echo '	return 0;'
	echo '}'
} > "$tmp/use.c"
cp "$tmp/use.c" "$tmp/use.cc"
link_ok=1
"$CC" -Wall -Werror -I"$lib/include" -I"$uapi" -o "$tmp/use-static" \
	"$tmp/use.c" "$out/libirqroute.a" -pthread || link_ok=0
"$CC" -Wall -Werror -I"$lib/include" -I"$uapi" -o "$tmp/use-shared" \
	"$tmp/use.c" -L"$out" -lirqroute || link_ok=0
"$CXX" -Wall -Werror -I"$lib/include" -I"$uapi" -o "$tmp/use-cxx" \
	"$tmp/use.cc" -L"$out" -lirqroute || link_ok=0
if [ $link_ok = 1 ] &&
   [ "$("$tmp/use-static")" = "$(LD_LIBRARY_PATH=$out "$tmp/use-shared")" ] &&
   [ "$(LD_LIBRARY_PATH=$out "$tmp/use-cxx")" = "$("$tmp/use-static")" ]; then
	ok "C and C++ programs link every function, static and shared ($("$tmp/use-static"))"
else
	fail "linking or running against the library failed"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
