#!/bin/sh
# SPDX-License-Identifier: MIT
# Self-test of the bench's crash handling: run the test list with a guest
# that panics, then one that hangs, after the first test. Both must be
# reported (with their last console lines) and keep the first result.
set -eu
. "$(dirname "$0")/lib.sh"

"$BENCH_TOP/bench/host-deps.sh"
guest=$("$BENCH_TOP/bench/build-guest.sh")
"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest"
ok=0
bad=0
for fault in panic hang; do
	out=$BENCH_OUT/selftest-$fault
	say "selftest: guest that will $fault after the first test"
	t0=$(date +%s)
	BENCH_OUT=$out BENCH_FAULT=$fault BENCH_TIMEOUT=${SELFTEST_TIMEOUT:-480} \
		"$BENCH_TOP/bench/run-vm.sh" fixed "$guest"
	BENCH_OUT=$out "$BENCH_TOP/bench/summary.sh" fixed /dev/null || true
	if [ -f "$out/fixed/vm-failure" ] && [ -f "$out/fixed/results.json" ] &&
	   [ "$(jq '[.tests[] | select(.result == "pass")] | length' "$out/fixed/results.json")" -ge 1 ]; then
		say "selftest: $fault reported after $(( $(date +%s) - t0 )) s with partial results: ok"
		ok=$((ok + 1))
	else
		say "selftest: $fault was not reported with partial results"
		bad=$((bad + 1))
	fi
done
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
