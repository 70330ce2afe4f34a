// SPDX-License-Identifier: MIT
/*
 * fbdev_defio_perf - the cost of fbdev deferred I/O on vunplug's mapping.
 *
 * Not a test: it measures first-touch read faults and first writes per
 * second on an fbdev mapping and the latency from a write to the device,
 * prints the medians ("perf: <name> <value>") and asserts nothing on
 * timing: comparing them between two kernels is the reader's job.
 */

/**
 * TEST: fbdev defio perf
 * Category: Core
 * Description: Cost of fbdev deferred I/O on a mapping
 *
 * SUBTEST: defio-perf
 * Description: Measures first-touch read faults and first writes per second
 *              on the fbdev mapping and the latency from a write to the
 *              scanout; prints the medians and asserts nothing on timing.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fbdev_target.h"

IGT_TEST_DESCRIPTION("Measure the cost of fbdev deferred I/O on a mapping.");

/* --- cost of deferred I/O ------------------------------------------------ */

#define PERF_ROUNDS	11

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void test_defio_perf(struct target *t)
{
	double reads[PERF_ROUNDS], writes[PERF_ROUNDS], latency[PERF_ROUNDS];
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);

	for (int r = 0; r < PERF_ROUNDS; r++) {
		struct scanout_wait w = { .d = d };
		uint64_t t0, t1, t2;

		/* a fresh mapping has no PTEs: every read is a first-touch fault */
		vdev_map(d);
		t0 = now_ns();
		for (int i = 0; i < d->npages; i++)
			read_byte(d->map + i * pagesz);
		t1 = now_ns();
		/* pages are mapped read-only: every first write is a page_mkwrite */
		for (int i = 0; i < d->npages; i++)
			d->map[i * pagesz] = r;
		t2 = now_ns();
		reads[r] = d->npages * 1e9 / (t1 - t0);
		writes[r] = d->npages * 1e9 / (t2 - t1);
		igt_assert_eq(fsync(d->fb_fd), 0);

		/* one written byte until the device's update counter moves */
		igt_assert(scanout_read(d, &w.before));
		t0 = now_ns();
		d->map[(r % d->npages) * pagesz + 1] ^= 0xff;
		igt_assert_f(igt_wait(scanout_updated(&w), SCANOUT_TIMEOUT_MS, 5),
			     "round %d: a write did not reach the scanout in %d ms\n",
			     r, SCANOUT_TIMEOUT_MS);
		latency[r] = (now_ns() - t0) / 1e6;
		vdev_unmap(d);
	}
	igt_info("perf: read-faults-per-s %.0f\n", median(reads, PERF_ROUNDS));
	igt_info("perf: first-writes-per-s %.0f\n", median(writes, PERF_ROUNDS));
	igt_info("perf: write-to-scanout-ms %.2f\n", median(latency, PERF_ROUNDS));
	vdev_release(d);
	kmsg_watch_end(kmsg);
}

int igt_main_args("", NULL, NULL, NULL, NULL)
{
	igt_fixture()
		fbdev_target_init();

	igt_subtest("defio-perf")
		test_defio_perf(vunplug_target());
	igt_fixture()
		free_leftovers();
}
