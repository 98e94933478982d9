#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
#
# install-check.sh <outdir>: `make install` into a DESTDIR with PREFIX=/usr,
# the prefix where the library's uapi header could collide with the
# kernel's headers (linux-libc-dev owns /usr/include/linux/). The install
# must leave include/linux/ alone, and a program built with nothing but
# `pkg-config --cflags --libs libirqroute` must get the library's copy of
# <linux/irqroute.h> even when the kernel's headers have one too: here a
# stand-in that stops the compiler, in the directory the compiler searches
# as the system's (-isystem, for /usr/include).
set -eu

lib=$(cd "$(dirname "$0")/.." && pwd)
O=${1:?usage: install-check.sh <outdir>}
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

root=$tmp/root
inc=$root/usr/include
# The caller's make variables (debian/rules passes its own PREFIX and
# LIBDIR) must not reach this install.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$lib" install \
	O="$O" DESTDIR="$root" PREFIX=/usr LIBDIR=/usr/lib \
	INCLUDEDIR=/usr/include MANDIR=/usr/share/man \
	>"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	fail "make install DESTDIR=... PREFIX=/usr"
	echo "$passed passed, $failed failed"
	exit 1
fi

if [ -e "$inc/linux/irqroute.h" ]; then
	fail "make install wrote include/linux/irqroute.h, the kernel headers' directory"
elif [ -f "$inc/irqroute/linux/irqroute.h" ] &&
	cmp -s "$inc/irqroute/linux/irqroute.h" "$lib/../uapi/linux/irqroute.h"; then
	ok "the uapi header is installed as include/irqroute/linux/irqroute.h"
else
	fail "include/irqroute/linux/irqroute.h missing or not the uapi header"
fi

# What linux-libc-dev would ship if irqroute were merged upstream.
mkdir -p "$inc/linux"
printf '#error "the kernel headers'"'"' linux/irqroute.h, not libirqroute'"'"'s"\n' \
	>"$inc/linux/irqroute.h"

cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <irqroute.h>
#include <linux/irqroute.h>

int main(void)
{
	/* Only the uapi copy defines these. */
	printf("%d %#x %s\n", IRQROUTE_API_VERSION, IRQROUTE_SHM_MAGIC,
	       irqroute_version());
	return 0;
}
EOF

flags=$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_LIBDIR='' \
	PKG_CONFIG_SYSROOT_DIR="$root" \
	pkg-config --cflags --libs libirqroute) ||
	{ fail "pkg-config --cflags --libs libirqroute"; flags=; }
echo "# pkg-config: $flags"

# shellcheck disable=SC2086 # $flags is a list of options
if "$CC" -isystem "$inc" -M "$tmp/prog.c" $flags >"$tmp/deps" 2>"$tmp/err"; then
	# One file per line: cc -M wraps its list with backslashes.
	sed 's/[[:space:]\\]\{1,\}/\n/g' "$tmp/deps" >"$tmp/files"
	if grep -qx "$inc/irqroute/linux/irqroute.h" "$tmp/files"; then
		ok "<linux/irqroute.h> is include/irqroute/linux/irqroute.h"
	else
		fail "<linux/irqroute.h> is not the library's copy: $(grep 'linux/irqroute.h' "$tmp/files")"
	fi
else
	sed 's/^/# /' "$tmp/err"
	fail "<linux/irqroute.h> is the kernel headers' copy (cc -M failed)"
fi

# shellcheck disable=SC2086
if "$CC" -Wall -Werror -isystem "$inc" -o "$tmp/prog" "$tmp/prog.c" $flags \
	2>"$tmp/err" &&
	out=$(LD_LIBRARY_PATH="$root/usr/lib" "$tmp/prog") &&
	[ "${out##* }" = "$(cat "$lib/../VERSION")" ]; then
	ok "built with pkg-config's flags only, linked and ran ($out)"
else
	sed 's/^/# /' "$tmp/err"
	fail "build with pkg-config's flags only"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
