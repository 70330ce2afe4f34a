// SPDX-License-Identifier: MIT
/*
 * kernel_reports - provokes kernel reports on demand, for the bench's own
 * self-test (`make selftest`), never for a driver under test.
 *
 * Each subtest makes the kernel log exactly one kind of report through
 * LKDTM (drivers/misc/lkdtm, debugfs provoke-crash/DIRECT), so that a run
 * can show that every report is attributed to the subtest that caused it:
 * "warn" a WARN_ON splat, "kasan" a KASAN slab-use-after-free,
 * "kasan-overflow" a second KASAN report (KASAN prints only its first report
 * of a boot unless kasan_multi_shot is on the command line), and "clean"
 * nothing at all, which must pass even though earlier subtests tainted the
 * kernel.
 */

/**
 * TEST: kernel reports
 * Category: Infrastructure
 * Description: Provoke kernel reports through LKDTM (bench self-test only)
 *
 * SUBTEST: warn
 * Description: Makes the kernel log one WARNING.
 *
 * SUBTEST: kasan
 * Description: Makes KASAN log one slab-use-after-free report.
 *
 * SUBTEST: kasan-overflow
 * Description: Makes KASAN log one slab-out-of-bounds report.
 *
 * SUBTEST: clean
 * Description: Provokes nothing.
 */

#ifdef IGT_SUBSET_BUILD
#include "igt_subset.h"	/* Debian ships libigt without headers */
#else
#include "igt.h"
#include "igt_kmod.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

IGT_TEST_DESCRIPTION("Provoke one kernel report per subtest through LKDTM, "
		     "to check that test runs attribute each report to the "
		     "subtest that caused it.");

static char direct[PATH_MAX];

/* Makes LKDTM run crash type @type; its report follows in the kernel log. */
static void provoke(const char *type)
{
	int fd = open(direct, O_WRONLY | O_CLOEXEC);
	ssize_t len;

	igt_assert_f(fd >= 0, "cannot open %s: %m\n", direct);
	len = write(fd, type, strlen(type));
	close(fd);
	igt_info("provoked %s: write returned %zd (%s)\n", type, len,
		 len < 0 ? strerror(errno) : "ok");
}

int igt_main_args("", NULL, NULL, NULL, NULL)
{
	igt_fixture() {
		igt_require_f(igt_debugfs_mount(), "debugfs is not mounted\n");
		snprintf(direct, sizeof(direct), "%s/provoke-crash/DIRECT",
			 igt_debugfs_mount());
		if (access(direct, W_OK))
			igt_kmod_load("lkdtm", NULL);
		igt_require_f(access(direct, W_OK) == 0,
			      "%s missing: CONFIG_LKDTM=m and the lkdtm module are needed\n",
			      direct);
	}

	igt_describe("The kernel logs one WARNING (LKDTM's WARNING crash type).");
	igt_subtest("warn")
		provoke("WARNING");

	igt_describe("KASAN logs one slab-use-after-free report (LKDTM's READ_AFTER_FREE).");
	igt_subtest("kasan")
		provoke("READ_AFTER_FREE");

	igt_describe("KASAN logs one slab-out-of-bounds report (LKDTM's SLAB_LINEAR_OVERFLOW), the boot's second KASAN report.");
	igt_subtest("kasan-overflow")
		provoke("SLAB_LINEAR_OVERFLOW");

	igt_describe("Nothing is provoked: passes whatever earlier subtests left in the log.");
	igt_subtest("clean")
		igt_info("nothing provoked\n");
}
