#!/bin/sh
# SPDX-License-Identifier: MIT
# One run of a test list, the pipeline that make, make run, make quick and
# make check share: the guest and the kernel (unless --no-build), the list
# booted in one guest or two (run-vms.sh), the listed flakes and the tests
# a guest hung in retried once (retry-flakes.sh), then, unless
# --no-report, the results against the variant's expectations, the phase
# table and why they differ. The run records its variant, test list and
# settings in $BENCH_OUT/RUN/job/; summary.sh, why.sh and make compare
# read that record, not the environment.
# Usage: run.sh [--no-build] [--no-report] VARIANT [RUN]
#   VARIANT: fixed or stock; RUN: the results' name in $BENCH_OUT
#   (default: VARIANT). TESTLIST and the other variables: README.
set -eu
. "$(dirname "$0")/lib.sh"

build=1
report=1
while :; do
	case ${1:-} in
	--no-build) build= ;;
	--no-report) report= ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] && [ $# -le 2 ] ||
	die "usage: run.sh [--no-build] [--no-report] VARIANT [RUN]"
variant=$1
name=${2:-$variant}
case $variant in
fixed | stock) ;;
*) die "unknown kernel variant '$variant' (use fixed or stock)" ;;
esac

[ -z "$report" ] || "$BENCH_TOP/bench/phases.sh" --reset
if [ -n "$build" ]; then
	"$BENCH_TOP/bench/host-deps.sh"
	guest=$("$BENCH_TOP/bench/build-guest.sh")
	"$BENCH_TOP/bench/build-kernel.sh" "$variant" "$guest"
else
	# (BENCH_GUEST: the guest root a caller has built already)
	guest=${BENCH_GUEST:-$("$BENCH_TOP/bench/build-guest.sh")}
fi
BENCH_RUN=$name "$BENCH_TOP/bench/run-vms.sh" "$variant" "$guest"
"$BENCH_TOP/bench/retry-flakes.sh" "$name" "$guest"
[ -n "$report" ] || exit 0
rc=0
"$BENCH_TOP/bench/summary.sh" "$name" || rc=$?
"$BENCH_TOP/bench/phases.sh"
"$BENCH_TOP/bench/why.sh" "$name"
exit "$rc"
