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

/*
 * The time and the TSC at that time: the TSC read on both sides of the
 * clock read, the tightest of five tries, so that a preemption between
 * the two reads does not count.
 */
static void sample(double *t, double *tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec ts;
		uint64_t a = __rdtsc(), b;

		clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
		b = __rdtsc();
		if (b - a < best) {
			best = b - a;
			*t = ts.tv_sec + ts.tv_nsec / 1e9;
			*tsc = a / 2.0 + b / 2.0;
		}
	}
}

int main(void)
{
	double t0, c0, t1, c1;

	sample(&t0, &c0);
	do {
		sample(&t1, &c1);
	} while (t1 - t0 < 0.2);
	printf("%.0f\n", (c1 - c0) / (t1 - t0) / 1e3);
	return 0;
}
