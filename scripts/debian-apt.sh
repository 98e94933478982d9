# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by scripts/setup-host.sh and scripts/test-packages.sh.
# debian_uris prints the URIs of the host's bookworm apt source, read from
# its own configuration, so that no mirror is ever named in this tree
# (uses $HOST_SOURCES, default /etc/apt/sources.list.d/debian.sources, and
# the caller's die()); packages_installed succeeds if every package named
# is installed.

debian_uris() {
	local uris=""
	if [ -f "${HOST_SOURCES:=/etc/apt/sources.list.d/debian.sources}" ]; then
		# deb822: the stanza whose Suites: contains the word "bookworm".
		uris=$(awk '
			/^[[:space:]]*$/ { if (s && u) { print u; exit } s = 0; u = ""; next }
			/^URIs:/   { sub(/^URIs:[[:space:]]*/, ""); u = $0 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") s = 1 }
			END { if (s && u) print u }' "$HOST_SOURCES" | head -n1)
	fi
	if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
		# one-line format fallback: "deb [opts] URI bookworm main ..."
		uris=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+bookworm[[:space:]].*/\2/p' \
			/etc/apt/sources.list | head -n1)
	fi
	[ -n "$uris" ] || die "cannot find the bookworm URIs in $HOST_SOURCES or /etc/apt/sources.list"
	echo "$uris"
}

packages_installed() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) ||
			return 1
		[ "$st" = installed ] || return 1
	done
}
