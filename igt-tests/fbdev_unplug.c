// SPDX-License-Identifier: MIT
/*
 * fbdev_unplug - fbdev deferred-I/O mappings across DRM hot-unplug.
 *
 * What this proves: a DRM driver with fbdev emulation hands userspace an
 * mmap() of its framebuffer through fbdev deferred I/O (writes fault, the
 * pages are tracked and flushed to the device every HZ/20).  When the DRM
 * device is hot-unplugged, every such mapping must be revoked: any later
 * touch of any page, read or write, in any process sharing the mapping,
 * raises SIGBUS instead of silently reaching memory the driver is tearing
 * down; the old fb file descriptor fails every operation; tearing down the
 * mapping and the fd in either order afterwards frees everything without a
 * kernel report; and the module stays pinned until the last mapping goes.
 *
 * Each run tests one target, a device and a way for it to go away, which
 * --removal names (see --help):
 *  - debugfs: a device of the "vunplug" virtual DRM driver, whose per-device
 *    debugfs files `scanout` (checksum and counters of what reached the
 *    device) and `unplug`, and module-level vunplug/control ("add", "sync",
 *    a list of devices) make every check exact;
 *  - configfs: a vkms device made through configfs, then disabled;
 *  - remove, unbind, device-del: the PCI display device that --device or
 *    $IGT_DEVICE names (drm:/dev/dri/cardN or pci:slot=BDF), removed through
 *    sysfs and rescanned, unbound from its driver and bound again, or
 *    hot-unplugged by the machine (an ACPI eject, through the program
 *    $FBDEV_UNPLUG_HOTPLUG names, see lib/fbdev_target.c) and added back.
 * Without --removal: unbind when a device is named, else debugfs when the
 * vunplug module loads, else configfs.
 * Subtests that read the scanout run on vunplug only.  On a kernel without
 * the revoke, touches after unplug never fault: every wait for SIGBUS below
 * is bounded, so such a kernel fails the test instead of hanging it.
 */

/**
 * TEST: fbdev unplug
 * Category: Core
 * Description: fbdev deferred I/O mappings and fds across DRM hot-unplug
 *
 * SUBTEST: aperture-handover
 * Description: simpledrm on the firmware framebuffer hands over to bochs: its
 *              old mapping gets SIGBUS on every page, its old fd fails with
 *              ENODEV, the new fb works, and the kernel logs no report.
 *
 * SUBTEST: defio-flush
 * Description: Writes through the fbdev mmap reach the device: the scanout
 *              checksum changes and its update and damage counters grow.
 *
 * SUBTEST: read-after-unplug
 * Description: After unplug, reading any page of an fbdev mapping raises
 *              SIGBUS and the kernel logs no report.
 *
 * SUBTEST: write-after-unplug
 * Description: After unplug, writing any page of an fbdev mapping, including
 *              pages already write-protected by deferred I/O, raises SIGBUS
 *              and the kernel logs no report.
 *
 * SUBTEST: fork-after-mmap
 * Description: A child that inherited an fbdev mapping gets SIGBUS on read
 *              and write after unplug, and both processes unmapping frees
 *              everything.
 *
 * SUBTEST: munmap-after-unplug
 * Description: After unplug, munmap then close of the fbdev tears down
 *              cleanly, and a newly added device works.
 *
 * SUBTEST: close-after-unplug
 * Description: After unplug, close then munmap of the fbdev tears down
 *              cleanly, and a newly added device works.
 *
 * SUBTEST: fd-ops-after-unplug
 * Description: After unplug, read, write, ioctls, mmap and fsync on the old
 *              fbdev fd fail with an error instead of touching the device.
 *
 * SUBTEST: drm-fd-after-unplug
 * Description: After unplug, an ioctl on the device's DRM node that was open
 *              across it fails with ENODEV.
 *
 * SUBTEST: module-unload-while-mapped
 * Description: A mapping of an unplugged fbdev keeps the driver module loaded
 *              until it is unmapped and closed.
 *
 * SUBTEST: unplug-while-writing
 * Description: Threads and processes writing an fbdev mapping while the
 *              device is unplugged all end in SIGBUS, repeatedly.
 *
 * SUBTEST: plug-unplug-cycles
 * Description: Repeated plug, map, write, unplug and teardown leaves no
 *              kernel report and no leak.
 *
 * SUBTEST: replug-while-open
 * Description: The device is added again while the old device's fb is still
 *              open and mapped: the new fb works, the old mapping raises
 *              SIGBUS, the old fd fails with ENODEV, and the kernel logs no
 *              report.
 *
 * SUBTEST: second-node-writes-reach-scanout
 * Description: With a second device node of the same fb open, as a
 *              container's own /dev has, repeated writes through either
 *              node's mapping keep reaching the device.
 *
 * SUBTEST: second-node-after-unplug
 * Description: After unplug, every page of mappings made through /dev/fbN and
 *              through a second node of the same fb raises SIGBUS.
 *
 * SUBTEST: evicted-node-unplug
 * Description: Unplug after a second device node of the fb was opened, closed
 *              and removed revokes the /dev/fbN mapping without a kernel
 *              report.
 *
 * SUBTEST: private-mapping-after-unplug
 * Description: After unplug, every page of a MAP_PRIVATE mapping, copied-on-
 *              write or not, raises SIGBUS.
 *
 * SUBTEST: proc-mem-after-unplug
 * Description: After unplug, reading the mapping through /proc/self/mem fails
 *              instead of returning the old buffer.
 *
 * SUBTEST: evicted-node-writes
 * Description: After a second device node of the fb was opened, closed and
 *              removed, writes through /dev/fbN keep reaching the device and
 *              the kernel logs no report.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fb.h>
#include <xf86drm.h>

#include "fbdev_target.h"

IGT_TEST_DESCRIPTION("Check that fbdev deferred-I/O mappings and file "
		     "descriptors are revoked cleanly when the DRM device "
		     "behind them is hot-unplugged.");

#define DEFAULT_ITERATIONS	20
#define RACE_PROCS		3	/* single-threaded writer processes */
#define RACE_THREADS		4	/* writer threads in one more process */
#define RACE_WRITERS		(RACE_PROCS + RACE_THREADS)

/* --- subtests ------------------------------------------------------------ */

static void test_defio_flush(struct target *t)
{
	struct vdev *d = vdev_add(t);
	size_t middle;

	vdev_map(d);
	assert_write_reaches_scanout(d, 0, d->fix.smem_len);

	middle = (d->var.yres / 2) * d->fix.line_length / pagesz * pagesz;
	if (middle + pagesz > d->fix.smem_len)
		middle = 0;
	assert_write_reaches_scanout(d, middle, pagesz);

	vdev_release(d);
}

static void test_touch_after_unplug(struct target *t, bool write)
{
	struct vdev *d = vdev_add(t);

	vdev_map(d);
	touch_some_pages(d);
	vdev_unplug(d);
	assert_pages_fault(d, write, "");
	vdev_release(d);
}

static void fork_child_body(struct vdev *d, int ready_fd, int go_fd)
{
	sigbus_install();
	d->map[(1 % d->npages) * pagesz] = 0x42;
	read_byte(d->map + (2 % d->npages) * pagesz);
	igt_assert_eq(write(ready_fd, "r", 1), 1);
	igt_assert_f(pipe_wait(go_fd, 10000),
		     "child: no unplug notification from the parent in 10 s\n");
	assert_pages_fault(d, false, "child: ");
	assert_pages_fault(d, true, "child: ");
	vdev_unmap(d);
}

static void test_fork_after_mmap(struct target *t)
{
	struct vdev *d = vdev_add(t);
	int ready[2], go[2], missed, first;

	igt_assert(pipe(ready) == 0 && pipe(go) == 0);
	vdev_map(d);
	touch_some_pages(d);

	fflush(NULL);	/* children must not repeat buffered output */
	igt_fork(child, 1)
		fork_child_body(d, ready[1], go[0]);

	igt_assert_f(pipe_wait(ready[0], 10000), "child did not start in 10 s\n");
	igt_assert_eq(fsync(d->fb_fd), 0);	/* the child's write, too */
	vdev_unplug(d);
	igt_assert_eq(write(go[1], "g", 1), 1);

	/*
	 * The child ends before the parent's verdict: a child left running
	 * by a failed assertion would report into the next subtest.
	 */
	missed = map_faults_missed(d->map, d->npages, false, "parent: ", &first);
	igt_waitchildren();
	assert_no_missed_faults(missed, first, d->npages, false, "parent: ");
	vdev_release(d);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
}

static void test_teardown_after_unplug(struct target *t, bool close_first)
{
	struct vdev *d = vdev_add(t);

	vdev_map(d);
	touch_some_pages(d);
	vdev_unplug(d);
	if (close_first) {
		vdev_close_fb(d);
		vdev_unmap(d);
	} else {
		vdev_unmap(d);
		vdev_close_fb(d);
	}
	vdev_free(d);

	/* the driver is still usable: a new device shows our writes */
	d = vdev_add(t);
	vdev_map(d);
	assert_write_reaches_scanout(d, 0, d->fix.smem_len);
	vdev_release(d);
}

static long op_read(struct vdev *d)
{
	char buf[64];

	return pread(d->fb_fd, buf, sizeof(buf), 0);
}

static long op_write(struct vdev *d)
{
	char buf[64] = { 0 };

	return pwrite(d->fb_fd, buf, sizeof(buf), 0);
}

static long op_get_vscreeninfo(struct vdev *d)
{
	struct fb_var_screeninfo var;

	return ioctl(d->fb_fd, FBIOGET_VSCREENINFO, &var);
}

static long op_pan_display(struct vdev *d)
{
	struct fb_var_screeninfo var = d->var;

	return ioctl(d->fb_fd, FBIOPAN_DISPLAY, &var);
}

static long op_mmap(struct vdev *d)
{
	void *p = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fb_fd, 0);

	if (p == MAP_FAILED)
		return -1;
	munmap(p, d->map_len);
	return 0;
}

static long op_fsync(struct vdev *d)
{
	return fsync(d->fb_fd);
}

static void test_fd_ops_after_unplug(struct target *t)
{
	static const struct {
		const char *name;
		long (*fn)(struct vdev *d);
	} ops[] = {
		{ "read()", op_read },
		{ "write()", op_write },
		{ "FBIOGET_VSCREENINFO", op_get_vscreeninfo },
		{ "FBIOPAN_DISPLAY", op_pan_display },
		{ "mmap()", op_mmap },
		{ "fsync()", op_fsync },
	};
	struct vdev *d = vdev_add(t);
	char wrong[512] = "";

	/* each operation works on the plugged device ... */
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		errno = 0;
		igt_assert_f(ops[i].fn(d) != -1, "%s on the plugged /dev/fb%d failed: %m\n",
			     ops[i].name, d->fb);
	}

	/* ... and fails with ENODEV on the unplugged one */
	vdev_unplug(d);
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		long ret;
		int err;

		errno = 0;
		ret = ops[i].fn(d);
		err = errno;
		if (ret == -1)
			igt_info("%s on the unplugged fb failed with errno %d (%s)\n",
				 ops[i].name, err, strerror(err));
		if (ret != -1 || err != ENODEV) {
			igt_warn("%s on the unplugged fb: %ld, errno %d, expected -1 and ENODEV\n",
				 ops[i].name, ret, err);
			snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong),
				 " %s", ops[i].name);
		}
	}
	errno = 0;
	igt_assert_f(!wrong[0], "did not fail with ENODEV on the unplugged fb:%s\n", wrong);
	vdev_release(d);
}

/*
 * The device's DRM node, held open across the unplug: drm_dev_unplug()
 * makes every later ioctl on it fail with ENODEV. A driver that only
 * unregisters its device (vkms before it could be unplugged) keeps
 * serving them.
 */
static void test_drm_fd_after_unplug(struct target *t)
{
	struct vdev *d = vdev_add(t);
	struct drm_version v;
	char node[64];
	int fd, ret, err;

	snprintf(node, sizeof(node), "/dev/dri/card%d", d->card);
	fd = open(node, O_RDWR | O_CLOEXEC);
	igt_assert_f(fd >= 0, "cannot open %s: %m\n", node);
	memset(&v, 0, sizeof(v));
	igt_assert_f(ioctl(fd, DRM_IOCTL_VERSION, &v) == 0,
		     "DRM_IOCTL_VERSION on the plugged %s failed: %m\n", node);

	vdev_unplug(d);
	memset(&v, 0, sizeof(v));
	errno = 0;
	ret = ioctl(fd, DRM_IOCTL_VERSION, &v);
	err = errno;
	close(fd);
	errno = 0;
	igt_assert_f(ret == -1 && err == ENODEV,
		     "DRM_IOCTL_VERSION on the unplugged %s: %d, errno %d (%s), expected ENODEV\n",
		     node, ret, err, strerror(err));
	vdev_release(d);
}

static void unplug_all_devices(void)
{
	int ids[MAX_DEVICES], cards[MAX_DEVICES];
	int n = control_list(ids, cards, MAX_DEVICES);
	int ret;

	for (int i = 0; i < n; i++) {
		int fd = card_open(cards[i]);
		int dir = fd >= 0 ? igt_debugfs_dir(fd) : -1;

		if (fd >= 0)
			close(fd);
		igt_assert_f(dir >= 0, "cannot reach debugfs of vunplug.%d (card%d)\n",
			     ids[i], cards[i]);
		ret = write_unplug(dir);
		close(dir);
		igt_assert_f(ret == 0, "unplugging vunplug.%d failed: %s\n",
			     ids[i], strerror(-ret));
	}
	ret = control_write("sync");
	igt_assert_f(ret == 0, "\"sync\" failed: %s\n", strerror(-ret));
	igt_assert_f(control_list(ids, cards, MAX_DEVICES) == 0,
		     "vunplug devices still listed after unplugging all of them\n");
}

static int module_refcount(void)
{
	int dir = open("/sys/module/vunplug", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint32_t ref;
	bool ok;

	if (dir < 0)
		return -1;
	ok = __igt_sysfs_get_u32(dir, "refcnt", &ref);
	close(dir);
	return ok ? (int)ref : -1;
}

static bool module_unused(void)
{
	return module_refcount() == 0;
}

static void test_module_unload_while_mapped(struct target *t)
{
	struct vdev *d = vdev_add(t);
	long ret;
	int err = 0;

	vdev_map(d);
	touch_some_pages(d);
	unplug_all_devices();
	d->unplugged = true;

	ret = vunplug_delete_module();
	err = errno;
	igt_assert_f(ret == -1 && (err == EBUSY || err == EAGAIN),
		     "delete_module(vunplug) while /dev/fb%d is mapped returned %ld (%s), expected EBUSY or EAGAIN\n",
		     d->fb, ret, ret ? strerror(err) : "unloaded");
	igt_info("delete_module(vunplug) refused while mapped: %s\n", strerror(err));

	assert_pages_fault(d, true, "");
	vdev_release(d);

	igt_assert_f(igt_wait(module_unused(), 5000, 5),
		     "vunplug's refcount is %d 5 s after munmap + close, expected 0\n",
		     module_refcount());
	igt_assert_f(vunplug_delete_module() == 0,
		     "delete_module(vunplug) with a refcount of 0 failed: %m\n");
	kmsg_watch_finish();	/* what the reload logs is not this test's */

	ret = igt_kmod_load("vunplug", NULL);
	igt_assert_f(ret == 0 && access(control_path(), W_OK) == 0,
		     "reloading vunplug failed: %ld (%s)\n", ret, strerror(-ret));
}

/* unplug-while-writing: writers share this through MAP_SHARED memory */
struct writer {
	int started;
	int faulted;
	unsigned long writes;
};

struct race {
	int stop;
	uint8_t *map;
	int npages;
	struct writer w[RACE_WRITERS];
};

struct writer_arg {
	struct race *r;
	struct writer *w;
};

/* Writes page after page until SIGBUS, the stop flag or 30 s pass. */
static void write_until_stopped(void *data)
{
	struct writer_arg *a = data;
	volatile uint8_t *map = a->r->map;
	struct timespec start = {};
	int page = (a->w - a->r->w) * 7 % a->r->npages;

	igt_nsec_elapsed(&start);	/* the first call starts the clock */
	__atomic_store_n(&a->w->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->r->stop, __ATOMIC_ACQUIRE) &&
	       igt_nsec_elapsed(&start) < 30 * 1000000000ull) {
		for (int k = 0; k < 256; k++) {
			map[page * pagesz + (k & 63)] = k;
			page = (page + 1) % a->r->npages;
		}
		__atomic_add_fetch(&a->w->writes, 256, __ATOMIC_RELAXED);
	}
}

static void *writer_thread(void *data)
{
	struct writer_arg *a = data;

	if (raises_sigbus(write_until_stopped, a))
		__atomic_store_n(&a->w->faulted, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void writer_process(struct race *r, int child)
{
	struct writer_arg args[RACE_THREADS];
	pthread_t threads[RACE_THREADS];

	sigbus_install();
	if (child > 0) {
		args[0] = (struct writer_arg){ r, &r->w[RACE_THREADS + child - 1] };
		writer_thread(&args[0]);
		return;
	}
	for (int t = 0; t < RACE_THREADS; t++) {
		args[t] = (struct writer_arg){ r, &r->w[t] };
		igt_assert_eq(pthread_create(&threads[t], NULL, writer_thread, &args[t]), 0);
	}
	for (int t = 0; t < RACE_THREADS; t++)
		pthread_join(threads[t], NULL);
}

static bool all_started(struct race *r)
{
	for (int i = 0; i < RACE_WRITERS; i++)
		if (!__atomic_load_n(&r->w[i].started, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static bool all_faulted(struct race *r)
{
	for (int i = 0; i < RACE_WRITERS; i++)
		if (!__atomic_load_n(&r->w[i].faulted, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static void race_once(struct target *t, struct race *r, unsigned int iter)
{
	struct vdev *d = vdev_add(t);

	vdev_map(d);
	memset(r, 0, sizeof(*r));
	r->map = d->map;
	r->npages = d->npages;

	fflush(NULL);	/* children must not repeat buffered output */
	igt_fork(child, RACE_PROCS + 1)
		writer_process(r, child);

	igt_assert_f(igt_wait(all_started(r), 5000, 5),
		     "iteration %u: writers did not all start within 5 s\n", iter);
	usleep(10000 + (iter * 37 % 90) * 1000);
	vdev_unplug(d);
	if (!igt_wait(all_faulted(r), SIGBUS_TIMEOUT_MS, 5))
		igt_debug("iteration %u: not every writer faulted\n", iter);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	igt_waitchildren();

	errno = 0;
	for (int i = 0; i < RACE_WRITERS; i++)
		igt_assert_f(r->w[i].faulted,
			     "iteration %u: writer %d (%s) did not get SIGBUS within %d ms after the unplug completed (%lu writes)\n",
			     iter, i, i < RACE_THREADS ? "thread" : "process",
			     SIGBUS_TIMEOUT_MS, r->w[i].writes);
	vdev_release(d);
}

static void test_unplug_while_writing(struct target *t)
{
	struct race *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	igt_assert(r != MAP_FAILED);
	for (unsigned int i = 0; i < target_iterations(t); i++)
		race_once(t, r, i);
	munmap(r, sizeof(*r));
}

static void test_plug_unplug_cycles(struct target *t)
{
	for (unsigned int i = 0; i < target_iterations(t); i++) {
		struct vdev *d = vdev_add(t);

		igt_debug("cycle %u: card%d fb%d\n", i, d->card, d->fb);
		vdev_map(d);
		memset(d->map, i, d->fix.smem_len);
		vdev_unplug(d);	/* with deferred I/O still pending */
		assert_pages_fault(d, true, "");
		vdev_release(d);
	}
	kmemleak_assert_clean(target_iterations(t));
}

/*
 * The device comes back (rescan, bind, a new vunplug or vkms device) while
 * the old device's fb is still open and mapped, as a compositor that has
 * not yet noticed the unplug keeps it: the old device's structures and
 * the new device's coexist. The new fb works; the old mapping and fd stay
 * dead and never reach the new device.
 */
static void test_replug_while_open(struct target *t)
{
	struct vdev *old = vdev_add(t);
	struct vdev *new;
	long ret;

	vdev_map(old);
	memset(old->map, 0x5a, old->fix.smem_len);	/* deferred I/O pending */
	vdev_unplug(old);

	new = vdev_add(t);
	igt_debug("old card%d fb%d, new card%d fb%d\n", old->card, old->fb,
		  new->card, new->fb);
	vdev_map(new);
	memset(new->map, 0xa5, new->fix.smem_len);

	assert_pages_fault(old, true, "after re-plug, the old device's ");
	errno = 0;
	ret = op_read(old);
	igt_assert_f(ret == -1 && errno == ENODEV,
		     "read() on the old device's fd after re-plug: %ld (%m), expected ENODEV\n",
		     ret);

	vdev_release(new);
	vdev_release(old);
}

/* --- a second device node for the same fb -------------------------------- */

/* A node made with mknod, as in a container's own /dev. */
struct fb_node {
	char dir[64];
	char path[96];
	int fd;
	uint8_t *map;
	size_t map_len;
};

static void fb_node_make(struct vdev *d, struct fb_node *n)
{
	struct stat st;

	igt_assert_f(fstat(d->fb_fd, &st) == 0 && S_ISCHR(st.st_mode),
		     "/dev/fb%d is not a character device: %m\n", d->fb);
	snprintf(n->dir, sizeof(n->dir), "/tmp/fbdev_unplug.XXXXXX");
	igt_assert_f(mkdtemp(n->dir), "mkdtemp(%s): %m\n", n->dir);
	snprintf(n->path, sizeof(n->path), "%s/fb%d", n->dir, d->fb);
	igt_assert_f(mknod(n->path, S_IFCHR | 0600, st.st_rdev) == 0,
		     "mknod %s (%u:%u): %m\n", n->path,
		     major(st.st_rdev), minor(st.st_rdev));
	n->fd = open(n->path, O_RDWR | O_CLOEXEC);
	igt_assert_f(n->fd >= 0, "cannot open %s: %m\n", n->path);
	n->map = NULL;
	n->map_len = d->map_len;
}

static void fb_node_map(struct fb_node *n)
{
	void *p = mmap(NULL, n->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       n->fd, 0);

	igt_assert_f(p != MAP_FAILED, "mmap of %s: %m\n", n->path);
	n->map = p;
}

/*
 * Unmap, close and remove the node. Once the last reference is gone its
 * inode is evicted; MEMBARRIER_CMD_GLOBAL waits for an RCU grace period,
 * after which the inode's memory is really freed.
 */
static void fb_node_remove(struct fb_node *n)
{
	if (n->map)
		igt_assert_f(munmap(n->map, n->map_len) == 0, "munmap of %s: %m\n",
			     n->path);
	n->map = NULL;
	if (n->fd >= 0)
		igt_assert_f(close(n->fd) == 0, "close of %s: %m\n", n->path);
	n->fd = -1;
	igt_assert_f(unlink(n->path) == 0, "unlink %s: %m\n", n->path);
	igt_assert_f(rmdir(n->dir) == 0, "rmdir %s: %m\n", n->dir);
	for (int i = 0; i < 2; i++)
		igt_assert_f(syscall(SYS_membarrier, 1 /* MEMBARRIER_CMD_GLOBAL */, 0, 0) == 0,
			     "membarrier: %m\n");
}

static void test_second_node_writes(struct target *t)
{
	struct vdev *d = vdev_add(t);
	struct fb_node n;

	vdev_map(d);		/* /dev/fbN first ... */
	fb_node_make(d, &n);	/* ... then a second node, opened last */
	fb_node_map(&n);
	for (int round = 0; round < 3; round++) {
		assert_write_reaches_scanout(d, 0, pagesz);
		assert_write_via_reaches_scanout(d, n.map, n.fd, pagesz, pagesz);
	}
	fb_node_remove(&n);
	vdev_release(d);
}

static void test_evicted_node_writes(struct target *t)
{
	struct vdev *d = vdev_add(t);
	struct fb_node n;

	vdev_map(d);
	assert_write_reaches_scanout(d, 0, pagesz);
	fb_node_make(d, &n);
	fb_node_remove(&n);
	for (int round = 0; round < 3; round++)
		assert_write_reaches_scanout(d, 0, pagesz);
	vdev_release(d);
}

static void test_second_node_after_unplug(struct target *t)
{
	struct vdev *d = vdev_add(t);
	struct fb_node n;

	vdev_map(d);
	touch_some_pages(d);
	fb_node_make(d, &n);
	fb_node_map(&n);
	for (int i = 0; i < d->npages; i += 3)
		n.map[i * pagesz] = i;
	igt_assert_eq(fsync(n.fd), 0);
	vdev_unplug(d);
	assert_map_faults(d->map, d->npages, false, "/dev/fbN: ");
	assert_map_faults(n.map, d->npages, false, "second node: ");
	assert_map_faults(d->map, d->npages, true, "/dev/fbN: ");
	assert_map_faults(n.map, d->npages, true, "second node: ");
	fb_node_remove(&n);
	vdev_release(d);
}

static void test_evicted_node_unplug(struct target *t)
{
	struct vdev *d = vdev_add(t);
	struct fb_node n;

	vdev_map(d);
	touch_some_pages(d);
	fb_node_make(d, &n);
	fb_node_remove(&n);
	vdev_unplug(d);
	assert_pages_fault(d, false, "");
	assert_pages_fault(d, true, "");
	vdev_release(d);
}

static void test_private_mapping_after_unplug(struct target *t)
{
	struct vdev *d = vdev_add(t);
	uint8_t *p = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			  d->fb_fd, 0);

	igt_assert_f(p != MAP_FAILED, "MAP_PRIVATE mmap of /dev/fb%d: %m\n", d->fb);
	for (int i = 0; i < d->npages; i++) {
		if (i % 4 == 0)
			p[i * pagesz] = i;	/* a private copy */
		else if (i % 4 == 1)
			read_byte(p + i * pagesz);
	}
	vdev_unplug(d);
	assert_map_faults(p, d->npages, false, "private mapping: ");
	assert_map_faults(p, d->npages, true, "private mapping: ");
	igt_assert_f(munmap(p, d->map_len) == 0, "munmap: %m\n");
	vdev_release(d);
}

static void test_proc_mem_after_unplug(struct target *t)
{
	struct vdev *d = vdev_add(t);
	int mem, readable = 0;
	uint8_t buf[64];

	vdev_map(d);
	touch_some_pages(d);
	mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	igt_assert_f(mem >= 0, "cannot open /proc/self/mem: %m\n");
	igt_require_f(pread(mem, buf, sizeof(buf), (off_t)(uintptr_t)d->map) ==
		      (ssize_t)sizeof(buf),
		      "/proc/self/mem cannot read /dev/fb%d's mapping before unplug (%m): nothing to compare with\n",
		      d->fb);

	vdev_unplug(d);
	for (int i = 0; i < d->npages; i++)
		readable += pread(mem, buf, 1, (off_t)(uintptr_t)(d->map + i * pagesz)) == 1;
	close(mem);
	igt_assert_f(readable == 0,
		     "%d of %d pages of the mapping are still readable through /proc/self/mem after unplug\n",
		     readable, d->npages);
	vdev_release(d);
}

/* --- aperture handover: simpledrm to a native driver -------------------- */

/* The card of the first DRM device whose driver is @name, or -1. */
static int card_of_driver(const char *name)
{
	int card = -1, fd = card_open_driver(-1, name, &card);

	if (fd >= 0)
		close(fd);
	return card;
}

/* The PCI device the firmware framebuffer was on: boot_vga = 1. */
static bool boot_vga_bdf(char *bdf, size_t size)
{
	char path[PATH_MAX], text[8];
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");
	bool found = false;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/boot_vga", de->d_name);
		if (read_text(path, text, sizeof(text)) && !strcmp(text, "1")) {
			snprintf(bdf, size, "%.15s", de->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

/* Pages of @map (of @npages) on which a read or write raised SIGBUS. */
static int pages_faulting(uint8_t *map, int npages, bool write)
{
	int faulted = 0;

	sigbus_install();
	for (int i = 0; i < npages; i++)
		faulted += raises_sigbus(write ? write_byte : read_byte, map + i * pagesz);
	return faulted;
}

static void fault_outcome(int faulted, int npages, char *buf, size_t size)
{
	if (faulted == npages)
		snprintf(buf, size, "SIGBUS");
	else if (faulted == 0)
		snprintf(buf, size, "succeeds, no SIGBUS");
	else
		snprintf(buf, size, "SIGBUS on %d of %d pages", faulted, npages);
}

struct card_wait {
	int card;
};

static bool card_gone(struct card_wait *w)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/drm/card%d", w->card);
	return path_gone(path);
}

static void test_aperture_handover(void)
{
	/* static: a failed subtest's leftover device still points to it */
	static struct target t = { .name = "simpledrm", .how = REMOVE_PCI };
	struct vdev *d = calloc(1, sizeof(*d));
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	struct card_wait cw;
	struct pci_wait w;
	char bdf[16], out[4][64], path[PATH_MAX];
	int kmsg, faulted[2], err, ret, fd;
	uint8_t *map;

	igt_assert(d);
	igt_require_f(access("/sys/module/bochs", F_OK),
		      "bochs is loaded already: simpledrm hands over once per boot, so this subtest runs first in it\n");
	d->t = &t;
	d->fb_fd = -1;
	d->debugfs = -1;
	d->card = card_of_driver("simpledrm");
	igt_require_f(d->card >= 0,
		      "no simpledrm device: it needs CONFIG_DRM_SIMPLEDRM, CONFIG_SYSFB_SIMPLEFB and a firmware framebuffer (under SeaBIOS: vga=0x311 on the kernel command line)\n");
	igt_require_f(boot_vga_bdf(bdf, sizeof(bdf)),
		      "no PCI device with boot_vga = 1 for bochs to take over\n");
	d->fb = card_fb_index(d->card);
	igt_assert_f(d->fb >= 0, "simpledrm's card%d has no fbdev\n", d->card);
	kmsg = subtest_begin();
	track(d, true);
	fb_open(d);
	vdev_map(d);
	for (int i = 0; i < d->npages; i += 4)
		d->map[i * pagesz] = i;
	igt_assert_eq(fsync(d->fb_fd), 0);

	ret = igt_kmod_load("bochs", NULL);
	igt_assert_f(ret == 0, "loading bochs: %s\n", strerror(-ret));
	cw.card = d->card;
	igt_assert_f(igt_wait(card_gone(&cw), 10000, 20),
		     "simpledrm's card%d is still there 10 s after bochs loaded\n", d->card);
	w.bdf = bdf;
	igt_assert_f(igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20),
		     "bochs did not bring up %s with an fbdev\n", bdf);

	/* what the old mapping, the old fd and the new fb see */
	faulted[0] = pages_faulting(d->map, d->npages, false);
	faulted[1] = pages_faulting(d->map, d->npages, true);
	fault_outcome(faulted[0], d->npages, out[0], sizeof(out[0]));
	fault_outcome(faulted[1], d->npages, out[1], sizeof(out[1]));
	errno = 0;
	ret = ioctl(d->fb_fd, FBIOGET_VSCREENINFO, &var);
	err = errno;
	snprintf(out[2], sizeof(out[2]), "%s%s", ret ? "fails: " : "succeeds",
		 ret ? (strerrorname_np(err) ?: strerror(err)) : "");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/graphics", bdf);
	snprintf(out[3], sizeof(out[3]), "/dev/fb%d", fb_index_in(path));
	fd = open(out[3], O_RDWR | O_CLOEXEC);
	igt_assert_f(fd >= 0, "cannot open bochs' %s: %m\n", out[3]);
	igt_assert_eq(ioctl(fd, FBIOGET_FSCREENINFO, &fix), 0);
	map = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	igt_assert_f(map != MAP_FAILED, "mmap of bochs' %s: %m\n", out[3]);
	memset(map, 0x5a, fix.smem_len < pagesz ? fix.smem_len : pagesz);
	igt_assert_eq(fsync(fd), 0);
	munmap(map, fix.smem_len);
	close(fd);
	igt_info("the new %s (%.16s) opens, maps and takes writes\n", out[3], fix.id);

	errno = 0;
	igt_assert_f(faulted[0] == d->npages && faulted[1] == d->npages,
		     "simpledrm's old mapping after the handover: read: %s; write: %s\n",
		     out[0], out[1]);
	igt_assert_f(ret == -1 && err == ENODEV,
		     "FBIOGET_VSCREENINFO on simpledrm's old fd after the handover %s, expected ENODEV\n",
		     out[2]);
	vdev_unmap(d);
	vdev_close_fb(d);
	track(d, false);
	free(d);
	kmsg_watch_end(kmsg);
}

/* --- the subtests on the run's target ------------------------------------- */

static void test_read_after_unplug(struct target *t)
{
	test_touch_after_unplug(t, false);
}

static void test_write_after_unplug(struct target *t)
{
	test_touch_after_unplug(t, true);
}

static void test_munmap_after_unplug(struct target *t)
{
	test_teardown_after_unplug(t, false);
}

static void test_close_after_unplug(struct target *t)
{
	test_teardown_after_unplug(t, true);
}

/*
 * The subtests that run on the target, in the order they run: one
 * execution runs the subtests it is given in this order, whatever the order
 * of igt_runner's test list. evicted-node-writes comes last of the checks:
 * on a kernel without the fix it ends in a use-after-free, after which
 * nothing that runs is trustworthy.
 */
static const struct {
	const char *name;
	void (*test)(struct target *t);
	unsigned int needs;
} per_target[] = {
	{ "defio-flush", test_defio_flush, NEED_SCANOUT },
	{ "read-after-unplug", test_read_after_unplug, 0 },
	{ "write-after-unplug", test_write_after_unplug, 0 },
	{ "fork-after-mmap", test_fork_after_mmap, 0 },
	{ "munmap-after-unplug", test_munmap_after_unplug, 0 },
	{ "close-after-unplug", test_close_after_unplug, 0 },
	{ "fd-ops-after-unplug", test_fd_ops_after_unplug, 0 },
	{ "drm-fd-after-unplug", test_drm_fd_after_unplug, 0 },
	{ "module-unload-while-mapped", test_module_unload_while_mapped, NEED_VUNPLUG },
	{ "unplug-while-writing", test_unplug_while_writing, 0 },
	{ "plug-unplug-cycles", test_plug_unplug_cycles, NEED_KMEMLEAK },
	{ "replug-while-open", test_replug_while_open, 0 },
	{ "second-node-writes-reach-scanout", test_second_node_writes, NEED_SCANOUT },
	{ "second-node-after-unplug", test_second_node_after_unplug, 0 },
	{ "evicted-node-unplug", test_evicted_node_unplug, 0 },
	{ "private-mapping-after-unplug", test_private_mapping_after_unplug, 0 },
	{ "proc-mem-after-unplug", test_proc_mem_after_unplug, 0 },
	{ "evicted-node-writes", test_evicted_node_writes, 0 },
};

/* --- options ------------------------------------------------------------- */

static int opt_handler(int opt, int opt_index, void *data)
{
	char *end;

	(void)opt_index;
	(void)data;
	switch (opt) {
	case 'i':
		iterations = strtoul(optarg, &end, 0);
		return *end || !iterations ? IGT_OPT_HANDLER_ERROR : IGT_OPT_HANDLER_SUCCESS;
	case 'r':
		return target_opt_handler(optarg);
	}
	return IGT_OPT_HANDLER_ERROR;
}

static const struct option long_opts[] = {
	{ "iterations", required_argument, NULL, 'i' },
	{ "removal", required_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

static const char help_str[] =
	"  -i, --iterations=N\tRounds of unplug-while-writing and cycles of\n"
	"\t\t\tplug-unplug-cycles (default 20, or $FBDEV_UNPLUG_ITERATIONS)\n"
	TARGET_HELP;

int igt_main_args("i:r:", long_opts, help_str, opt_handler, NULL)
{
	if (!iterations && getenv("FBDEV_UNPLUG_ITERATIONS"))
		iterations = strtoul(getenv("FBDEV_UNPLUG_ITERATIONS"), NULL, 0);
	if (!iterations)
		iterations = DEFAULT_ITERATIONS;

	igt_fixture()
		fbdev_target_init();

	igt_subtest("aperture-handover")
		test_aperture_handover();
	igt_fixture()
		free_leftovers();

	for (volatile unsigned int i = 0; i < ARRAY_SIZE(per_target); i++) {
		igt_subtest(per_target[i].name)
			run_on_target(per_target[i].test, per_target[i].needs);
		igt_fixture()
			free_leftovers();
	}
}
