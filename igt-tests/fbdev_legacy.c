// SPDX-License-Identifier: MIT
/*
 * fbdev_legacy - fbdev deferred I/O on framebuffers without DRM, removed
 * the way legacy fbdev drivers remove theirs.
 *
 * No virtual machine emulates a legacy deferred-I/O device, so the test
 * runs on vfbdefio (drivers/video/fbdev/vfbdefio.c), a virtual framebuffer
 * whose removal follows one of these lifecycles, chosen per device:
 *  - unreg-cleanup: unregister_framebuffer(), then fb_deferred_io_cleanup()
 *    (broadsheetfb, metronomefb, fbtft, ssd1307fb);
 *  - cleanup-unreg: cleanup, a driver-queued update of the display, then
 *    unregister (hecubafb and xen-fbfront clean up first; sh_mobile_lcdcfb,
 *    ssd1307fb, fbtft and hid-picolcd_fb queue the deferred work themselves);
 *  - driver-flush: unregister, then queue the deferred work and wait for its
 *    callback before cleanup (sh_mobile_lcdc_remove() and _stop());
 *  - reinit: as driver-flush, and fb_set_par() cleans up and initializes
 *    deferred I/O again (sh_mobile_lcdc_set_par()).
 * vfbdefio copies what deferred I/O hands its callback into a scanout
 * buffer, and its debugfs file vfbdefio/control reports the scanout's
 * checksum and how long a removal took, so every check is exact.
 */

/**
 * TEST: fbdev legacy
 * Category: Core
 * Description: fbdev deferred I/O on plain fbdev devices across removal
 *
 * SUBTEST: sigbus-%s
 * Description: After removal, every page of a mapping raises SIGBUS on read
 *              and on write.
 * arg[1]: @unreg-cleanup, @cleanup-unreg, @driver-flush, @reinit
 *
 * SUBTEST: last-frame-%s
 * Description: What was written just before the removal of a present device
 *              reaches its scanout.
 * arg[1]: @unreg-cleanup, @cleanup-unreg, @driver-flush, @reinit
 *
 * SUBTEST: remove-bounded-%s
 * Description: The removal completes within its bound, also when the driver
 *              queues the deferred work and waits for it.
 * arg[1]: @unreg-cleanup, @cleanup-unreg, @driver-flush, @reinit
 *
 * SUBTEST: modeset-then-mmap-reinit
 * Description: open, mode set, mmap: the mapping works and its writes reach
 *              the scanout.
 *
 * SUBTEST: mapped-across-modeset-reinit
 * Description: A mapping made before a mode set keeps working after it.
 */

#ifdef IGT_SUBSET_BUILD
#include "igt_subset.h"	/* libigt, without IGT's headers */
#else
#include "igt.h"
#include "igt_kmod.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/fb.h>

IGT_TEST_DESCRIPTION("Check fbdev deferred-I/O mappings of plain fbdev "
		     "devices across removal and mode sets");

/* vfbdefio's bound on a driver-queued flush; the test allows some slack. */
#define REMOVE_BOUND_MS	1500

struct vfb {
	int id;			/* vfbdefio's device id */
	int node;		/* /dev/fb<node> */
	int fd;
	uint8_t *map;
	size_t len;		/* smem_len, whole pages */
	bool removed;
};

struct vfb_report {
	char state[16];		/* "live" or "removed" */
	uint32_t checksum;	/* crc32 of the scanout */
	unsigned int updates, timeouts, remove_ms;
};

static struct vfb cur = { .id = -1, .fd = -1 };

/* --- vfbdefio control ----------------------------------------------------- */

static const char *control_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/vfbdefio/control", igt_debugfs_mount());
	return path;
}

/* Writes @cmd to the control file: 0 or -errno. */
static int control(const char *cmd)
{
	int fd = open(control_path(), O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* Parses the control file's line of device @id; false if there is none. */
static bool report(int id, struct vfb_report *r, int *node)
{
	FILE *f = fopen(control_path(), "re");
	char lc[32];
	bool found = false;
	int i, n;

	igt_assert_f(f, "cannot read %s: %s\n", control_path(), strerror(errno));
	while (fscanf(f, "%d fb%d %31s %15s checksum=%x updates=%u timeouts=%u remove_ms=%u\n",
		      &i, &n, lc, r->state, &r->checksum, &r->updates,
		      &r->timeouts, &r->remove_ms) == 8) {
		if (i == id) {
			found = true;
			if (node)
				*node = n;
		}
		if (found)
			break;
	}
	fclose(f);
	return found;
}

/* The id of the newest device, or -1. */
static int newest_id(void)
{
	FILE *f = fopen(control_path(), "re");
	char line[256];
	int id = -1, i;

	igt_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d ", &i) == 1 && i > id)
			id = i;
	fclose(f);
	return id;
}

/* --- one device ----------------------------------------------------------- */

static void vfb_release(struct vfb *v)
{
	if (v->map)
		munmap(v->map, v->len);
	v->map = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (v->id >= 0 && !v->removed) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "remove %d", v->id);
		control(cmd);
	}
	v->id = -1;
}

static void vfb_add(struct vfb *v, const char *lifecycle)
{
	struct fb_fix_screeninfo fix;
	struct vfb_report r;
	char cmd[64], path[32];

	vfb_release(v);
	memset(v, 0, sizeof(*v));
	v->fd = -1;

	snprintf(cmd, sizeof(cmd), "add %s", lifecycle);
	igt_assert_eq(control(cmd), 0);
	v->id = newest_id();
	igt_assert(report(v->id, &r, &v->node));

	snprintf(path, sizeof(path), "/dev/fb%d", v->node);
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	igt_assert_f(v->fd >= 0, "open %s: %s\n", path, strerror(errno));
	igt_assert_eq(ioctl(v->fd, FBIOGET_FSCREENINFO, &fix), 0);
	v->len = fix.smem_len;
	igt_assert(v->len > 0);
}

static void vfb_map(struct vfb *v)
{
	void *p = mmap(NULL, v->len, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);

	igt_assert_f(p != MAP_FAILED, "mmap of fb%d: %s\n", v->node, strerror(errno));
	v->map = p;
}

/* Removes the device; returns the control write's result, 0 or -errno. */
static int vfb_remove(struct vfb *v, unsigned int *ms)
{
	struct timespec t0 = {};
	char cmd[32];
	int err;

	igt_nsec_elapsed(&t0);
	snprintf(cmd, sizeof(cmd), "remove %d", v->id);
	err = control(cmd);
	if (ms)
		*ms = igt_nsec_elapsed(&t0) / 1000000;
	v->removed = true;
	return err;
}

static void modeset(struct vfb *v)
{
	struct fb_var_screeninfo var;

	igt_assert_eq(ioctl(v->fd, FBIOGET_VSCREENINFO, &var), 0);
	var.activate = FB_ACTIVATE_NOW | FB_ACTIVATE_FORCE;
	igt_assert_f(ioctl(v->fd, FBIOPUT_VSCREENINFO, &var) == 0,
		     "FBIOPUT_VSCREENINFO: %s\n", strerror(errno));
}

/* --- patterns and checksums ------------------------------------------------ */

static uint32_t crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* Fills the mapping with a pattern; returns the pattern's checksum. */
static uint32_t fill(struct vfb *v, uint32_t seed)
{
	uint32_t *w = (uint32_t *)v->map;

	for (size_t i = 0; i < v->len / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
	return crc32(v->map, v->len);
}

static uint32_t scanout_checksum(struct vfb *v)
{
	struct vfb_report r;

	igt_assert(report(v->id, &r, NULL));
	return r.checksum;
}

/* --- SIGBUS probing --------------------------------------------------------- */

static sigjmp_buf *volatile probe_jmp;

static void sigbus_handler(int sig)
{
	if (probe_jmp)
		siglongjmp(*probe_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Touches @p; true if the touch raised SIGBUS. */
static bool touch_faults(volatile uint8_t *p, bool write)
{
	struct sigaction sa = { .sa_handler = sigbus_handler }, old;
	sigjmp_buf env;
	bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(env, 1) == 0) {
		probe_jmp = &env;
		if (write)
			*p = 0x5a;
		else
			(void)*p;
	} else {
		faulted = true;
	}
	probe_jmp = NULL;
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/* --- subtests --------------------------------------------------------------- */

static void test_sigbus(const char *lifecycle)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	size_t pages, reads = 0, writes = 0;

	vfb_add(&cur, lifecycle);
	vfb_map(&cur);
	fill(&cur, 0x1234);
	vfb_remove(&cur, NULL);

	pages = cur.len / pagesz;
	for (size_t i = 0; i < pages; i++) {
		reads += touch_faults(cur.map + i * pagesz, false);
		writes += touch_faults(cur.map + i * pagesz + 1, true);
	}
	igt_assert_f(reads == pages && writes == pages,
		     "after removal, %zu of %zu reads and %zu writes raised SIGBUS\n",
		     reads, pages, writes);
}

static void test_last_frame(const char *lifecycle)
{
	uint32_t want;

	vfb_add(&cur, lifecycle);
	vfb_map(&cur);
	/* vfbdefio's delay is 1 s: this is still pending at the removal */
	want = fill(&cur, 0xfeed);
	vfb_remove(&cur, NULL);
	igt_assert_f(scanout_checksum(&cur) == want,
		     "the writes before the removal did not reach the scanout (%08x, want %08x)\n",
		     scanout_checksum(&cur), want);
}

static void test_remove_bounded(const char *lifecycle)
{
	struct vfb_report r;
	unsigned int ms;
	int err;

	vfb_add(&cur, lifecycle);
	vfb_map(&cur);
	fill(&cur, 0xbeef);
	err = vfb_remove(&cur, &ms);
	igt_assert(report(cur.id, &r, NULL));
	igt_info("removal took %u ms (driver-flush timeouts: %u)\n", ms, r.timeouts);
	igt_assert_f(err != -ETIMEDOUT && r.timeouts == 0,
		     "the driver's flush before stopping never ran its callback\n");
	igt_assert_eq(err, 0);
	igt_assert_f(ms < REMOVE_BOUND_MS, "removal took %u ms\n", ms);
}

static void test_modeset_then_mmap(const char *lifecycle)
{
	uint32_t want;

	vfb_add(&cur, lifecycle);
	modeset(&cur);
	vfb_map(&cur);
	want = fill(&cur, 0xabcd);
	igt_assert_eq(fsync(cur.fd), 0);
	igt_assert_f(scanout_checksum(&cur) == want,
		     "writes after open, mode set, mmap did not reach the scanout\n");
	/* and a second round to a page the work write-protected again */
	want = fill(&cur, 0xdcba);
	igt_assert_eq(fsync(cur.fd), 0);
	igt_assert_f(scanout_checksum(&cur) == want,
		     "second writes after the mode set did not reach the scanout\n");
}

static void test_mapped_across_modeset(const char *lifecycle)
{
	uint32_t want;

	vfb_add(&cur, lifecycle);
	vfb_map(&cur);
	want = fill(&cur, 0x1111);
	igt_assert_eq(fsync(cur.fd), 0);
	igt_assert(scanout_checksum(&cur) == want);
	modeset(&cur);
	igt_assert_f(!touch_faults(cur.map, true),
		     "a mapping made before the mode set raised SIGBUS after it\n");
	want = fill(&cur, 0x2222);
	igt_assert_eq(fsync(cur.fd), 0);
	igt_assert_f(scanout_checksum(&cur) == want,
		     "writes after the mode set did not reach the scanout\n");
}

static const char * const all_lifecycles[] = {
	"unreg-cleanup", "cleanup-unreg", "driver-flush", "reinit", NULL
};
static const char * const reinit_only[] = { "reinit", NULL };

/* The subtests, one per check and lifecycle; the doc block describes them. */
static const struct {
	const char *name;
	void (*fn)(const char *lifecycle);
	const char * const *lifecycles;
} checks[] = {
	{ "sigbus", test_sigbus, all_lifecycles },
	{ "last-frame", test_last_frame, all_lifecycles },
	{ "remove-bounded", test_remove_bounded, all_lifecycles },
	{ "modeset-then-mmap", test_modeset_then_mmap, reinit_only },
	{ "mapped-across-modeset", test_mapped_across_modeset, reinit_only },
};

int igt_main_args("", NULL, NULL, NULL, NULL)
{
	igt_fixture() {
		igt_require_f(igt_kmod_load("vfbdefio", NULL) == 0,
			      "the vfbdefio module (CONFIG_FB_VFBDEFIO) is needed\n");
		igt_require_f(access(control_path(), W_OK) == 0,
			      "%s is not writable\n", control_path());
		/*
		 * fbcon may take over each new framebuffer; its drawing would
		 * change the screen and the scanout behind the test's back.
		 */
		kmstest_set_vt_graphics_mode();
	}

	for (volatile size_t c = 0; c < ARRAY_SIZE(checks); c++) {
		for (const char * const *volatile lc = checks[c].lifecycles; *lc; lc++) {
			char name[64];

			snprintf(name, sizeof(name), "%s-%s", checks[c].name, *lc);
			igt_subtest(name)
				checks[c].fn(*lc);
			/* recovery: no device or mapping outlives its subtest */
			igt_fixture()
				vfb_release(&cur);
		}
	}
}
