# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by mkinitramfs.sh and mkinitramfs-l2.sh: a kernel's modules in
# load order, from its modules.dep (the initramfs has no modprobe).
#   moddep_read <moddir>         PATHOF[name] = path under <moddir>, DEPS
#   moddep_add <name>            appends name to ORDER after what it needs
#   moddep_stage <moddir> <dir>  ORDER's modules as <dir>/<name>.ko, and
#                                <dir>/ORDER, the list the init loads

declare -A DEPS=() PATHOF=() MODDEP_SEEN=()
ORDER=()

moddep_read() {
	local mod deps name
	while IFS=: read -r mod deps; do
		name=${mod##*/}	# basename without a fork per line
		PATHOF[${name%.ko}]=$mod
		DEPS[${name%.ko}]=$deps
	done <"$1/modules.dep"
}

moddep_add() {
	local d
	[ -n "${MODDEP_SEEN[$1]:-}" ] && return 0
	MODDEP_SEEN[$1]=1
	for d in ${DEPS[$1]}; do
		d=${d##*/}
		moddep_add "${d%.ko}"
	done
	ORDER+=("$1")
}

moddep_stage() {
	local m
	mkdir -p "$2"
	for m in "${ORDER[@]}"; do
		cp "$1/${PATHOF[$m]}" "$2/$m.ko"
		echo "$m" >>"$2/ORDER"
	done
}
