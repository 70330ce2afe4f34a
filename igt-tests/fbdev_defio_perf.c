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

#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "fbdev_target.h"

IGT_TEST_DESCRIPTION("Measure the cost of fbdev deferred I/O on a mapping.");

/* --- cost of deferred I/O ------------------------------------------------ */

#define PERF_ROUNDS	11

static void test_defio_perf(struct target *t)
{
	igt_stats_t reads, writes, latency;
	struct timespec clock = {};
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);

	igt_stats_init_with_size(&reads, PERF_ROUNDS);
	igt_stats_init_with_size(&writes, PERF_ROUNDS);
	igt_stats_init_with_size(&latency, PERF_ROUNDS);
	igt_nsec_elapsed(&clock);	/* the first call starts the clock */
	for (int r = 0; r < PERF_ROUNDS; r++) {
		struct scanout_wait w = { .d = d };
		uint64_t t0, t1, t2;

		/* a fresh mapping has no PTEs: every read is a first-touch fault */
		vdev_map(d);
		t0 = igt_nsec_elapsed(&clock);
		for (int i = 0; i < d->npages; i++)
			read_byte(d->map + i * pagesz);
		t1 = igt_nsec_elapsed(&clock);
		/* pages are mapped read-only: every first write is a page_mkwrite */
		for (int i = 0; i < d->npages; i++)
			d->map[i * pagesz] = r;
		t2 = igt_nsec_elapsed(&clock);
		igt_stats_push_float(&reads, d->npages * 1e9 / (t1 - t0));
		igt_stats_push_float(&writes, d->npages * 1e9 / (t2 - t1));
		igt_assert_eq(fsync(d->fb_fd), 0);

		/* one written byte until the device's update counter moves */
		igt_assert(scanout_read(d, &w.before));
		t0 = igt_nsec_elapsed(&clock);
		d->map[(r % d->npages) * pagesz + 1] ^= 0xff;
		igt_assert_f(igt_wait(scanout_updated(&w), SCANOUT_TIMEOUT_MS, 5),
			     "round %d: a write did not reach the scanout in %d ms\n",
			     r, SCANOUT_TIMEOUT_MS);
		igt_stats_push_float(&latency, (igt_nsec_elapsed(&clock) - t0) / 1e6);
		vdev_unmap(d);
	}
	igt_info("perf: read-faults-per-s %.0f\n", igt_stats_get_median(&reads));
	igt_info("perf: first-writes-per-s %.0f\n", igt_stats_get_median(&writes));
	igt_info("perf: write-to-scanout-ms %.2f\n", igt_stats_get_median(&latency));
	igt_stats_fini(&reads);
	igt_stats_fini(&writes);
	igt_stats_fini(&latency);
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
