# SPDX-License-Identifier: GPL-2.0
#
# Cost against N for irqroute_set_msi (1 of N routes), a batch of N set_msi
# with its commit, the stock whole-table KVM_SET_GSI_ROUTING (with and
# without N irqfds) and the module's own share of a commit: one colour per
# operation, one dash style per kernel.
# Called by bench/run.sh:
#
#   gnuplot -e "files='a.dat b.dat'; names='6.1 6.12'; out='x.png'" cost-vs-n.gp
#
# Data columns (microseconds): N set_msi push push_bare batch commit
# rebuild_share empty_commit set_msi_minus_push retarget_share (the
# shares can be negative or 0: not drawn on the log scale).

set terminal pngcairo size 1000,800 font ",10" noenhanced
set output out
set title "irqroute-bench: cost against N (medians; L1 = QEMU TCG: compare lines, not absolute values)"
set logscale xy
set xlabel "N (routes / table entries)"
set ylabel "microseconds per operation"
set key below
set grid
set xtics (16, 64, 256, 1024, 4000)
set pointsize 1.2

plot for [i=1:words(files)] word(files, i) using 1:2 with linespoints \
	lt 1 dt i pt 7 title sprintf("set_msi, 1 of N (%s)", word(names, i)), \
     for [i=1:words(files)] word(files, i) using 1:3 with linespoints \
	lt 2 dt i pt 5 title sprintf("raw KVM_SET_GSI_ROUTING, N irqfds (%s)", word(names, i)), \
     for [i=1:words(files)] word(files, i) using 1:4 with linespoints \
	lt 3 dt i pt 4 title sprintf("raw KVM_SET_GSI_ROUTING, no irqfds (%s)", word(names, i)), \
     for [i=1:words(files)] word(files, i) using 1:5 with linespoints \
	lt 4 dt i pt 9 title sprintf("batch: N set_msi + 1 commit (%s)", word(names, i)), \
     for [i=1:words(files)] word(files, i) using 1:7 with linespoints \
	lt 6 dt i pt 13 title sprintf("the module's own share of a rebuilding commit (%s)", word(names, i)), \
     for [i=1:words(files)] word(files, i) using 1:10 with linespoints \
	lt 7 dt i pt 11 title sprintf("the module's own share of a retarget (refused, paired) (%s)", word(names, i))
