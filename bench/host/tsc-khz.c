// SPDX-License-Identifier: MIT
/*
 * Prints the host's TSC rate in kHz, measured against CLOCK_MONOTONIC_RAW
 * over 200 ms. Under TCG a guest's TSC is the host's, and a microvm guest
 * has no timer to calibrate it against (no HPET, no PM timer, no PC
 * speaker gate for the PIT): run-vm.sh hands it the rate with
 * tsc_early_khz=.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	double t0 = seconds(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do {
		t1 = seconds();
	} while (t1 - t0 < 0.2);
	c1 = __rdtsc();
	printf("%.0f\n", (c1 - c0) / (t1 - t0) / 1e3);
	return 0;
}
