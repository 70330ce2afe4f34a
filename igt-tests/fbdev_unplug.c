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
 * Each subtest runs once per target, a device and a way for it to go away,
 * as a dynamic subtest named <device>-<path>:
 *  - vunplug-debugfs: the "vunplug" virtual DRM driver, whose per-device
 *    debugfs files `scanout` (checksum and counters of what reached the
 *    device) and `unplug`, and module-level vunplug/control ("add", "sync",
 *    a list of devices) make every check exact;
 *  - vkms-configfs: a vkms device made through configfs, then disabled;
 *  - <pci-device>-remove, -unbind, -device-del: every PCI display device
 *    with an fbdev (named as QEMU names it: bochs-display, cirrus-vga,
 *    virtio-gpu-pci, qxl, vga), removed through sysfs and rescanned,
 *    unbound from its driver and bound again, or hot-unplugged by QEMU
 *    (device_del through QEMU's monitor on a virtio-serial port named
 *    org.qemu.qmp) and added back.
 * $FBDEV_UNPLUG_TARGETS picks targets: globs matched against <target> and
 * <subtest>@<target>, in order, a leading ! excludes (default: all).
 * $FBDEV_UNPLUG_SHARD, globs of the same kind matched against <target>
 * only, narrows that down further: the bench splits the targets between
 * two guests run side by side, one taking "a b", the other "!a !b".
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
 * SUBTEST: ffmpeg-after-unplug
 * Description: ffmpeg drawing a test pattern through its fbdev output device
 *              is stopped by SIGBUS on its next write after unplug; how and
 *              when it ended is logged, and the kernel logs no report.
 *
 * SUBTEST: xorg-fbdev-after-unplug
 * Description: Xorg with xf86-video-fbdev, drawing an animated client, is
 *              stopped by SIGBUS (its handler reports the bus error) after
 *              unplug, and the kernel logs no report.
 *
 * SUBTEST: example-after-unplug
 * Description: examples/fbdev_unplug_aware, which watches uevents, ioctl
 *              errors and SIGBUS on its mapping, notices the unplug and exits
 *              with status 0.
 *
 * SUBTEST: evicted-node-writes
 * Description: After a second device node of the fb was opened, closed and
 *              removed, writes through /dev/fbN keep reaching the device and
 *              the kernel logs no report.
 *
 * SUBTEST: defio-perf
 * Description: Measures first-touch read faults and first writes per second
 *              on the fbdev mapping and the latency from a write to the
 *              scanout; prints the medians and asserts nothing on timing.
 */

#ifdef IGT_SUBSET_BUILD
#include "igt_subset.h"	/* Debian ships libigt without headers */
#else
#include "igt.h"
#include "igt_kmod.h"
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>

#include <linux/fb.h>
#include <xf86drm.h>

IGT_TEST_DESCRIPTION("Check that fbdev deferred-I/O mappings and file "
		     "descriptors are revoked cleanly when the DRM device "
		     "behind them is hot-unplugged.");

#define DEFAULT_ITERATIONS	20
#define MAX_DEVICES		64
#define SCANOUT_TIMEOUT_MS	5000	/* damage worker runs after fsync */
#define SIGBUS_TIMEOUT_MS	5000	/* after the unplug has completed */
#define RACE_PROCS		3	/* single-threaded writer processes */
#define RACE_THREADS		4	/* writer threads in one more process */
#define RACE_WRITERS		(RACE_PROCS + RACE_THREADS)

static unsigned int iterations;
static size_t pagesz;

/*
 * A target is one device with fbdev emulation and one removal path. Each
 * subtest runs once per target, as a dynamic subtest named after both
 * (e.g. bochs-display-unbind), so that results name the driver and the path.
 */
enum removal {
	REMOVE_VUNPLUG,		/* vunplug's debugfs "unplug"; a new device after */
	REMOVE_VKMS,		/* vkms configfs "enabled" 0; a new device after */
	REMOVE_PCI,		/* PCI sysfs "remove", then a bus "rescan" */
	REMOVE_UNBIND,		/* driver "unbind", then "bind" */
	REMOVE_QEMU,		/* QEMU device_del (an ACPI eject), then device_add */
};

struct target {
	char name[64];		/* dynamic subtest name: <device>-<path> */
	enum removal how;
	char bdf[16];		/* PCI paths: the device's address */
	char driver[32];	/* PCI paths: its driver */
	char qdev_id[64];	/* REMOVE_QEMU: QEMU's id of the device, ... */
	char qdev_type[64];	/* ... its QEMU device type, ... */
	char qdev_bus[64];	/* ... the bridge it is behind ("": root bus) */
	char qpath[64];		/* ... and QEMU's path of its bus, "0000:00:" */
};

/* One device of a target and, once opened, its fbdev node and mapping. */
struct vdev {
	struct target *t;	/* what it is and how it goes away */
	int id;			/* vunplug: platform id, vunplug.<id> */
	char vkms[64];		/* vkms: configfs device directory */
	int card;		/* /dev/dri/card<card> */
	int fb;			/* /dev/fb<fb> */
	int debugfs;		/* vunplug: its debugfs directory (unplug, scanout) */
	int fb_fd;
	uint8_t *map;
	size_t map_len;		/* whole pages covering smem_len */
	int npages;
	struct fb_fix_screeninfo fix;
	struct fb_var_screeninfo var;
	bool unplugged;
};

/* Devices still open, so a failed subtest does not leak into the next. */
static struct vdev *open_devs[16];
/* /dev/kmsg from kmsg_watch_begin() to _end(); a failed subtest leaves it. */
static int kmsg_fd = -1;

struct scanout {
	uint32_t checksum;
	unsigned long long updates, damage_rects;
	unsigned int width, height;
};

/* --- small utilities ---------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static bool pipe_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, timeout_ms) == 1 && read(fd, &c, 1) == 1;
}

/* --- vunplug module control --------------------------------------------- */

static const char *control_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/vunplug/control", igt_debugfs_mount());
	return path;
}

/* Writes @text to the file at @path; 0 or -errno. */
static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ret = -errno;
	close(fd);
	return ret;
}

/* Returns 0 or -errno. */
static int control_write(const char *cmd)
{
	return write_text(control_path(), cmd);
}

/* Parses "vunplug.<id> <card>" lines; returns the number of devices. */
static int control_list(int *ids, int *cards, int max)
{
	char buf[4096], *line, *save = NULL;
	int fd = open(control_path(), O_RDONLY | O_CLOEXEC);
	ssize_t len;
	int n = 0;

	igt_assert_f(fd >= 0, "cannot open %s: %m\n", control_path());
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	igt_assert_f(len >= 0, "cannot read %s: %m\n", control_path());
	buf[len] = '\0';

	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "vunplug.%d %*[^0-9]%d", &ids[n], &cards[n]) == 2 ||
		    sscanf(line, "vunplug.%d %d", &ids[n], &cards[n]) == 2)
			n++;
		else
			igt_debug("ignoring control line \"%s\"\n", line);
	}
	return n;
}

static bool control_lists_id(int id)
{
	int ids[MAX_DEVICES], cards[MAX_DEVICES];
	int n = control_list(ids, cards, MAX_DEVICES);

	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static long vunplug_delete_module(void)
{
	return syscall(SYS_delete_module, "vunplug", O_NONBLOCK);
}

/* --- finding the card and its fbdev --------------------------------------- */

static bool driver_is(int fd, const char *name)
{
	drmVersionPtr v = drmGetVersion(fd);
	bool ret = v && v->name && strcmp(v->name, name) == 0;

	drmFreeVersion(v);
	return ret;
}

/*
 * Opens the primary node of the first DRM card whose driver is @driver
 * (card @card only, unless it is -1) through libdrm; its fd or -1, and
 * its card number in @found.
 */
static int card_open_driver(int card, const char *driver, int *found)
{
	drmDevicePtr devs[MAX_DEVICES];
	int n = drmGetDevices2(0, devs, MAX_DEVICES);
	int fd = -1;

	for (int i = 0; i < n && fd < 0; i++) {
		const char *node = devs[i]->nodes[DRM_NODE_PRIMARY];
		int idx;

		if (!(devs[i]->available_nodes & (1 << DRM_NODE_PRIMARY)) ||
		    sscanf(node, "/dev/dri/card%d", &idx) != 1 ||
		    (card >= 0 && idx != card))
			continue;
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !driver_is(fd, driver)) {
			igt_debug("%s is not a %s device\n", node, driver);
			close(fd);
			fd = -1;
		}
		if (fd >= 0 && found)
			*found = idx;
	}
	if (n > 0)
		drmFreeDevices(devs, n);
	return fd;
}

/* Opens the primary node of vunplug card @card, or -1. */
static int card_open(int card)
{
	return card_open_driver(card, "vunplug", NULL);
}

static int fb_index_in(const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	struct dirent *de;
	int fb = -1, idx;

	if (!dir)
		return -1;
	while (fb < 0 && (de = readdir(dir)))
		if (sscanf(de->d_name, "fb%d", &idx) == 1)
			fb = idx;
	closedir(dir);
	return fb;
}

/*
 * fbdev emulation registers fbM as a child of the DRM device's parent, so
 * the expected layout is /sys/class/drm/cardN/device/graphics/fbM.  If that
 * does not hold, look for an fb whose device link resolves to the same
 * parent.
 */
static int card_fb_index(int card)
{
	char path[PATH_MAX], parent[PATH_MAX], other[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int fb, idx;

	snprintf(path, sizeof(path), "/sys/class/drm/card%d/device", card);
	igt_assert_f(realpath(path, parent),
		     "sysfs layout: %s does not resolve (%m); the DRM card is expected to have a parent device\n",
		     path);

	snprintf(path, sizeof(path), "/sys/class/drm/card%d/device/graphics", card);
	fb = fb_index_in(path);
	if (fb >= 0)
		return fb;

	dir = opendir("/sys/class/graphics");
	if (!dir)
		return -1;
	while (fb < 0 && (de = readdir(dir))) {
		if (sscanf(de->d_name, "fb%d", &idx) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/graphics/%s/device", de->d_name);
		if (realpath(path, other) && strcmp(other, parent) == 0)
			fb = idx;
	}
	closedir(dir);
	if (fb >= 0)
		igt_info("sysfs layout: card%d/device has no graphics/fb*, found fb%d through /sys/class/graphics\n",
			 card, fb);
	return fb;
}

struct fb_lookup {
	int card;
	int fb;
};

static bool fb_appeared(struct fb_lookup *l)
{
	l->fb = card_fb_index(l->card);
	return l->fb >= 0;
}

/* --- devices ------------------------------------------------------------- */

static void track(struct vdev *d, bool add)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(open_devs); i++) {
		if (add && !open_devs[i]) {
			open_devs[i] = d;
			return;
		}
		if (!add && open_devs[i] == d) {
			open_devs[i] = NULL;
			return;
		}
	}
	/* a device that is not tracked would outlive a failed subtest */
	igt_assert_f(!add, "more than %zu devices open at once\n", ARRAY_SIZE(open_devs));
}

static void fb_open(struct vdev *d)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/fb%d", d->fb);
	d->fb_fd = open(path, O_RDWR | O_CLOEXEC);
	igt_assert_f(d->fb_fd >= 0, "cannot open %s: %m\n", path);
	igt_assert_f(ioctl(d->fb_fd, FBIOGET_FSCREENINFO, &d->fix) == 0,
		     "FBIOGET_FSCREENINFO on %s: %m\n", path);
	igt_assert_f(ioctl(d->fb_fd, FBIOGET_VSCREENINFO, &d->var) == 0,
		     "FBIOGET_VSCREENINFO on %s: %m\n", path);
	igt_assert_f(d->fix.smem_len > 0, "%s has no framebuffer memory\n", path);
	d->npages = (d->fix.smem_len + pagesz - 1) / pagesz;
	d->map_len = d->npages * pagesz;
	igt_debug("%s: card%d fb%d %ux%u %ubpp, smem_len %u (%d pages)\n",
		  d->t->name, d->card, d->fb, d->var.xres, d->var.yres,
		  d->var.bits_per_pixel, d->fix.smem_len, d->npages);
}

/* --- targets: a device and the way it goes away -------------------------- */

#define MAX_TARGETS	48
#define DEVICE_ITERATIONS	3	/* repeated subtests on a real device */
#define PCI_TIMEOUT_MS	30000	/* a PCI device (re)appearing, with its fb */

static struct target targets[MAX_TARGETS];
static int ntargets;

/* Reads the first line of the file at @path into @buf; false if none. */
static bool read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Runs a command to completion; its exit status, or -1. */
static int run_cmd(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* --- QEMU's monitor, when the guest has a virtio-serial port to it ------- */

/*
 * QMP reaches the guest through a virtio-serial port named org.qemu.qmp
 * (or the device named by $FBDEV_UNPLUG_QMP). The connection outlives this
 * process: the greeting came once per boot, capabilities may already be
 * negotiated (QEMU then answers with an error, which is fine), and events
 * of earlier commands may be waiting, so replies are matched by their id.
 */
static int qmp_fd = -1;
static char qmp_buf[65536];
static size_t qmp_len;
static char qmp_reply[65536];

static bool qmp_port(char *path, size_t size)
{
	const char *env = getenv("FBDEV_UNPLUG_QMP");
	char name[PATH_MAX], text[64];
	struct dirent *de;
	DIR *dir;

	if (env) {
		snprintf(path, size, "%s", env);
		return true;
	}
	dir = opendir("/sys/class/virtio-ports");
	if (!dir)
		return false;
	*path = '\0';
	while (!*path && (de = readdir(dir))) {
		snprintf(name, sizeof(name), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (read_text(name, text, sizeof(text)) && !strcmp(text, "org.qemu.qmp"))
			snprintf(path, size, "/dev/%s", de->d_name);
	}
	closedir(dir);
	return *path;
}

/* Moves the next line of QEMU's output into @out, waiting up to @timeout_ms. */
static bool qmp_line(char *out, size_t size, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(qmp_buf, '\n', qmp_len);
		struct pollfd pfd = { .fd = qmp_fd, .events = POLLIN };
		int left = end - now_ms();
		ssize_t len;

		if (nl) {
			size_t n = nl - qmp_buf;

			snprintf(out, size, "%.*s", (int)n, qmp_buf);
			memmove(qmp_buf, nl + 1, qmp_len - n - 1);
			qmp_len -= n + 1;
			return true;
		}
		if (qmp_len == sizeof(qmp_buf))
			qmp_len = 0;	/* no line is that long: drop it */
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return false;
		len = read(qmp_fd, qmp_buf + qmp_len, sizeof(qmp_buf) - qmp_len);
		if (len < 0 && errno == EAGAIN)
			continue;
		if (len <= 0)
			return false;
		qmp_len += len;
	}
}

/*
 * Sends one command (the members of its JSON object, without "id") and
 * waits for its reply, left in qmp_reply. True if QEMU returned success.
 */
static bool qmp_cmd(const char *members)
{
	static int seq;
	char line[1024], id[64];
	int len;

	snprintf(id, sizeof(id), "\"id\": \"fbdev_unplug-%d-%d\"", getpid(), ++seq);
	len = snprintf(line, sizeof(line), "{%s, %s}\n", members, id);
	if (write(qmp_fd, line, len) != len)
		return false;
	while (qmp_line(qmp_reply, sizeof(qmp_reply), 10000)) {
		if (strstr(qmp_reply, id))
			return strstr(qmp_reply, "\"return\"") != NULL;
		igt_debug("qmp: %.200s\n", qmp_reply);
	}
	snprintf(qmp_reply, sizeof(qmp_reply), "(no reply in 10 s)");
	return false;
}

static bool qmp_open(void)
{
	char path[PATH_MAX];

	if (qmp_fd >= 0)
		return true;
	if (!qmp_port(path, sizeof(path)))
		return false;
	qmp_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (qmp_fd < 0) {
		igt_debug("cannot open QEMU's monitor port %s: %m\n", path);
		return false;
	}
	qmp_cmd("\"execute\": \"qmp_capabilities\"");
	if (strstr(qmp_reply, "\"return\"") || strstr(qmp_reply, "\"error\""))
		return true;
	igt_debug("no answer from QEMU's monitor on %s\n", path);
	close(qmp_fd);
	qmp_fd = -1;
	return false;
}

/*
 * The JSON object of @json that encloses @pos: its opening brace, and in
 * @end its closing one. (QMP replies hold no braces inside strings here.)
 */
static const char *json_object_at(const char *json, const char *pos, const char **end)
{
	const char *p = pos;
	int depth = 0;

	while (p > json) {
		p--;
		if (*p == '}')
			depth++;
		else if (*p == '{' && depth-- == 0)
			break;
	}
	if (*p != '{' || depth != -1)
		return NULL;
	depth = 0;
	for (*end = p; **end; (*end)++) {
		if (**end == '{')
			depth++;
		else if (**end == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

/*
 * Member @name of the object from @obj to @end (not of the objects nested
 * in it): a pointer to its value, or NULL.
 */
static const char *json_member(const char *obj, const char *end, const char *name)
{
	size_t len = strlen(name);
	int depth = 0;

	for (const char *p = obj + 1; p < end; p++) {
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0 && *p == '"' && !strncmp(p + 1, name, len) &&
			 !strncmp(p + 1 + len, "\": ", 3))
			return p + len + 4;
	}
	return NULL;
}

/*
 * Whether @pci (query-pci's reply, where bridges nest the devices behind
 * them) has a device at PCI @bus and @slot, and its QEMU id ("" for the
 * devices a machine has built in).
 */
static bool qmp_pci_id(const char *pci, int bus, int slot, char *id, size_t size)
{
	const char *p = pci;

	while ((p = strstr(p, "\"qdev_id\": \""))) {
		const char *end, *obj = json_object_at(pci, p, &end);
		const char *b = obj ? json_member(obj, end, "bus") : NULL;
		const char *s = obj ? json_member(obj, end, "slot") : NULL;
		const char *name = p + strlen("\"qdev_id\": \"");
		int n = strcspn(name, "\"");

		if (b && s && isdigit(*b) && atoi(b) == bus && atoi(s) == slot) {
			snprintf(id, size, "%.*s", n, name);
			return true;
		}
		p = name;
	}
	return false;
}

/*
 * Whether @slot of @bus holds a device (in @pci, query-pci's reply) or
 * the memory of one that QEMU has not freed (in @ramblocks, "info
 * ramblock", whose blocks are named after QEMU's path of their device:
 * @qpath with the slot for @slot).
 */
static bool qmp_slot_taken(const char *pci, const char *ramblocks, int bus, int slot,
			   const char *qpath)
{
	char id[64], used[96];

	if (qmp_pci_id(pci, bus, slot, id, sizeof(id)))
		return true;
	snprintf(used, sizeof(used), "%s%02x.0/", qpath, slot);
	return strstr(ramblocks, used) != NULL;
}

/* --- PCI ------------------------------------------------------------------ */

static void pci_path(const struct target *t, const char *file, char *out, size_t size)
{
	snprintf(out, size, "/sys/bus/pci/devices/%s%s%s", t->bdf, *file ? "/" : "", file);
}

/*
 * The sysfs directory whose drm/ and graphics/ hold a PCI device's card and
 * fb: the PCI device's own (virtio-gpu, too, parents its DRM device to the
 * PCI device), or that of a child device whose driver registered the card.
 */
static void pci_drm_parent(const char *bdf, char *out, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(out, size, "/sys/bus/pci/devices/%s", bdf);
	snprintf(path, sizeof(path), "%s/drm", out);
	if (path_exists(path))
		return;
	dir = opendir(out);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%.64s/drm",
			 bdf, de->d_name);
		if (de->d_name[0] != '.' && path_exists(path)) {
			snprintf(out, size, "/sys/bus/pci/devices/%s/%.64s", bdf, de->d_name);
			break;
		}
	}
	closedir(dir);
}

/* The card of a PCI device: <its DRM parent>/drm/card<N>. */
static int pci_card(const char *bdf)
{
	char path[PATH_MAX], parent[PATH_MAX];
	struct dirent *de;
	int card = -1;
	DIR *dir;

	pci_drm_parent(bdf, parent, sizeof(parent));
	snprintf(path, sizeof(path), "%.4000s/drm", parent);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (card < 0 && (de = readdir(dir)))
		if (sscanf(de->d_name, "card%d", &card) != 1)
			card = -1;
	closedir(dir);
	return card;
}

static bool pci_has_fb(const char *bdf)
{
	char path[PATH_MAX], parent[PATH_MAX];

	pci_drm_parent(bdf, parent, sizeof(parent));
	snprintf(path, sizeof(path), "%.4000s/graphics", parent);
	return fb_index_in(path) >= 0;
}

static unsigned long sysfs_hex(const char *dir, const char *file)
{
	char path[PATH_MAX], text[32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return 0;
	return read_text(path, text, sizeof(text)) ? strtoul(text, NULL, 16) : 0;
}

/* QEMU's name of a display device, so that results name what QEMU emulates. */
static const char *qemu_device_name(unsigned long vendor, unsigned long device,
				    unsigned long class)
{
	static const struct {
		unsigned short vendor, device, class;
		const char *name;
	} names[] = {
		{ 0x1234, 0x1111, 0x0300, "vga" },
		{ 0x1234, 0x1111, 0x0380, "bochs-display" },
		{ 0x1013, 0x00b8, 0x0300, "cirrus-vga" },
		{ 0x1af4, 0x1050, 0x0300, "virtio-vga" },
		{ 0x1af4, 0x1050, 0x0380, "virtio-gpu-pci" },
		{ 0x1b36, 0x0100, 0x0300, "qxl-vga" },
		{ 0x1b36, 0x0100, 0x0380, "qxl" },
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].vendor == vendor && names[i].device == device &&
		    names[i].class == class >> 8)
			return names[i].name;
	return NULL;
}

/* The PCI bridge that @bdf is behind; false on a root bus. */
static bool pci_bridge_of(const char *bdf, char *bridge, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], *parent;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!realpath(path, real) || !(parent = strrchr(real, '/')))
		return false;
	*parent = '\0';
	parent = strrchr(real, '/');
	if (!parent || !strncmp(parent + 1, "pci", 3))
		return false;	/* /sys/devices/pci<domain>:<bus> */
	snprintf(bridge, size, "%s", parent + 1);
	return true;
}

/*
 * QEMU's path of the device at @bdf, as it names the device's memory: the
 * root bus address of the first bridge, then ":<slot>.<fn>" per bus.
 */
static void qemu_dev_path(const char *bdf, char *out, size_t size)
{
	char bridge[16];

	if (!pci_bridge_of(bdf, bridge, sizeof(bridge))) {
		snprintf(out, size, "%s", bdf);
		return;
	}
	qemu_dev_path(bridge, out, size);
	snprintf(out + strlen(out), size - strlen(out), ":%s", bdf + 8);
}

/* Whether ACPI hotplug (acpiphp) manages the slot of @bdf. */
static bool pci_slot_hotpluggable(const char *bdf)
{
	char path[PATH_MAX], addr[32];
	struct dirent *de;
	bool found = false;
	DIR *dir = opendir("/sys/bus/pci/slots");

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/bus/pci/slots/%s/address", de->d_name);
		found = read_text(path, addr, sizeof(addr)) &&
			!strncmp(addr, bdf, strlen(addr)) && bdf[strlen(addr)] == '.';
	}
	closedir(dir);
	return found;
}

/* Every PCI display device bound to a DRM driver has its fbdev. */
static bool display_fbs_ready(void)
{
	struct dirent *de;
	bool ready = true;
	DIR *dir = opendir("/sys/bus/pci/devices");

	if (!dir)
		return true;
	while (ready && (de = readdir(dir))) {
		char dev[PATH_MAX];

		snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", de->d_name);
		if (de->d_name[0] != '.' && sysfs_hex(dev, "class") >> 16 == 0x03 &&
		    pci_card(de->d_name) >= 0)
			ready = pci_has_fb(de->d_name);
	}
	closedir(dir);
	return ready;
}

/* Devices a failed subtest left removed or unbound come back here. */
static void pci_bring_back(void)
{
	char path[PATH_MAX], alias[256];
	char *modprobe[] = { "modprobe", "-q", "-b", alias, NULL };
	struct dirent *de;
	DIR *dir;

	write_text("/sys/bus/pci/rescan", "1");
	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char dev[PATH_MAX];

		snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", de->d_name);
		if (de->d_name[0] == '.' || sysfs_hex(dev, "class") >> 16 != 0x03)
			continue;
		snprintf(path, sizeof(path), "%.200s/driver", dev);
		if (path_exists(path)) {
			/* a virtio device's driver, e.g. virtio-gpu */
			struct dirent **sub;
			int n = scandir(dev, &sub, NULL, alphasort);

			for (int i = 0; i < n; i++) {
				snprintf(path, sizeof(path), "%.200s/%.64s/modalias",
					 dev, sub[i]->d_name);
				if (!strncmp(sub[i]->d_name, "virtio", 6) &&
				    read_text(path, alias, sizeof(alias)))
					run_cmd(modprobe);
				free(sub[i]);
			}
			if (n > 0)
				free(sub);
			continue;
		}
		snprintf(path, sizeof(path), "%.200s/modalias", dev);
		if (!read_text(path, alias, sizeof(alias)))
			continue;
		/* loads the driver, which binds; else bind an unbound device */
		run_cmd(modprobe);
		write_text("/sys/bus/pci/drivers_probe", de->d_name);
	}
	closedir(dir);
	/* some drivers (virtio-gpu) set up their fbdev after probe returns */
	igt_wait(display_fbs_ready(), 10000, 50);
}

static bool globs_want(const char *env, const char *name)
{
	bool pair = strchr(name, '@') != NULL;
	bool includes = false, matched = false, wanted = false;
	char *copy, *word, *save = NULL;

	if (!env || !*env)
		return true;
	copy = strdup(env);
	igt_assert(copy);
	/*
	 * Globs, in order; a leading ! excludes what matches, and the last
	 * glob that matches decides. A glob without an @ names targets, also
	 * in a <subtest>@<target> name; one with an @ names subtests on
	 * targets and is not matched against a bare target name. What no
	 * glob matches is wanted only if none of the globs that apply to it
	 * includes anything.
	 */
	for (word = strtok_r(copy, " ,", &save); word; word = strtok_r(NULL, " ,", &save)) {
		bool exclude = *word == '!';
		const char *glob = exclude ? word + 1 : word;
		const char *what = name;

		if (strchr(glob, '@') && !pair)
			continue;
		if (!strchr(glob, '@') && pair)
			what = strchr(name, '@') + 1;
		includes |= !exclude;
		if (!fnmatch(glob, what, 0)) {
			matched = true;
			wanted = !exclude;
		}
	}
	free(copy);
	return matched ? wanted : !includes;
}

static bool target_wanted(const char *name)
{
	return globs_want(getenv("FBDEV_UNPLUG_TARGETS"), name);
}

static struct target *target_push(const char *device, const char *path,
				  enum removal how)
{
	struct target *t;
	char name[64];

	snprintf(name, sizeof(name), "%s-%s", device, path);
	if (ntargets == MAX_TARGETS || !target_wanted(name) ||
	    !globs_want(getenv("FBDEV_UNPLUG_SHARD"), name))
		return NULL;
	t = &targets[ntargets++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->how = how;
	return t;
}

static bool vunplug_available(void)
{
	if (!igt_debugfs_mount())
		return false;
	if (access(control_path(), F_OK))
		igt_kmod_load("vunplug", NULL);
	return access(control_path(), W_OK) == 0;
}

#define VKMS_CONFIGFS	"/sys/kernel/config/vkms"

static bool vkms_available(void)
{
	if (access(VKMS_CONFIGFS, F_OK)) {
		igt_kmod_load("vkms", "create_default_dev=0");
		if (access("/sys/kernel/config", F_OK) == 0 &&
		    access(VKMS_CONFIGFS, F_OK))
			mount("configfs", "/sys/kernel/config", "configfs", 0, NULL);
	}
	return access(VKMS_CONFIGFS, W_OK) == 0;
}

/* Every PCI display device with a DRM driver and an fbdev, three ways. */
static void discover_pci_targets(void)
{
	struct dirent **list;
	int n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	bool qmp = qmp_open();

	for (int i = 0; i < n; i++) {
		char dev[PATH_MAX], link[PATH_MAX], drv[PATH_MAX];
		unsigned long class;
		const char *name, *bdf = list[i]->d_name;
		struct target *t;
		ssize_t len;

		snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf);
		class = sysfs_hex(dev, "class");
		snprintf(link, sizeof(link), "%.200s/driver", dev);
		len = readlink(link, drv, sizeof(drv) - 1);
		if (bdf[0] == '.' || class >> 16 != 0x03 || len <= 0 ||
		    pci_card(bdf) < 0 || !pci_has_fb(bdf))
			goto next;
		drv[len] = '\0';
		name = qemu_device_name(sysfs_hex(dev, "vendor"),
					sysfs_hex(dev, "device"), class);
		if (!name)
			name = strrchr(drv, '/') + 1;
		for (int how = REMOVE_PCI; how <= REMOVE_QEMU; how++) {
			if (how == REMOVE_QEMU && (!qmp || !pci_slot_hotpluggable(bdf)))
				continue;
			t = target_push(name, how == REMOVE_PCI ? "remove" :
					how == REMOVE_UNBIND ? "unbind" : "device-del", how);
			if (!t)
				continue;
			snprintf(t->bdf, sizeof(t->bdf), "%.15s", bdf);
			snprintf(t->driver, sizeof(t->driver), "%s", strrchr(drv, '/') + 1);
		}
next:
		free(list[i]);
	}
	if (n > 0)
		free(list);
}

/*
 * Finds the targets once per run: vunplug and vkms (loading them), and the
 * PCI display devices (loading their drivers). No assertion here: this
 * runs inside igt_subtest_with_dynamic().
 */
static void discover_targets(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (vunplug_available())
		target_push("vunplug", "debugfs", REMOVE_VUNPLUG);
	/* loading vkms costs a second or two under TCG: only when wanted */
	if (target_wanted("vkms-configfs") && vkms_available())
		target_push("vkms", "configfs", REMOVE_VKMS);
	pci_bring_back();
	discover_pci_targets();
	for (int i = 0; i < ntargets; i++)
		igt_debug("target %s%s%s\n", targets[i].name,
			  targets[i].bdf[0] ? " at " : "", targets[i].bdf);
}

/* Rounds of a repeated subtest: all on vunplug, a few on the other devices. */
static unsigned int target_iterations(const struct target *t)
{
	if (t->how == REMOVE_VUNPLUG)
		return iterations;
	return iterations < DEVICE_ITERATIONS ? iterations : DEVICE_ITERATIONS;
}

/* --- bringing a device up ------------------------------------------------- */

struct pci_wait {
	const char *bdf;
	int card;
};

static bool pci_card_ready(struct pci_wait *w)
{
	w->card = pci_card(w->bdf);
	return w->card >= 0 && pci_has_fb(w->bdf);
}

/*
 * device_add of the deleted device into a free hotplug slot of the bus it
 * was on.
 */
static void qemu_device_readd(struct target *t)
{
	char cmd[512], id[64], bus[96] = "", path[PATH_MAX], addr[32], *pci;
	char old[sizeof(t->bdf)];
	struct dirent *de;
	int slot = -1, busnr;
	DIR *dir;

	igt_assert_f(qmp_open(), "QEMU's monitor port is gone\n");
	igt_assert(sscanf(t->bdf, "%*x:%x:", &busnr) == 1);
	/*
	 * QEMU 7.2 never finalizes an unplugged display device (no
	 * DEVICE_DELETED event; its memory stays registered under the old
	 * address, and a device_add there aborts QEMU): take a slot that
	 * neither holds a device nor the memory of an old one.
	 */
	igt_assert_f(qmp_cmd("\"execute\": \"query-pci\""), "query-pci: %s\n", qmp_reply);
	pci = strdup(qmp_reply);
	igt_assert(pci);
	igt_assert_f(qmp_cmd("\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info ramblock\"}"),
		     "info ramblock: %s\n", qmp_reply);
	dir = opendir("/sys/bus/pci/slots");
	while (dir && (de = readdir(dir))) {
		int s;

		/* a hotplug slot's address is <domain>:<bus>:<slot> */
		snprintf(path, sizeof(path), "/sys/bus/pci/slots/%s/address", de->d_name);
		if (de->d_name[0] == '.' || !read_text(path, addr, sizeof(addr)) ||
		    strncmp(addr, t->bdf, 8) || sscanf(addr + 8, "%x", &s) != 1)
			continue;
		if ((slot < 0 || s < slot) &&
		    !qmp_slot_taken(pci, qmp_reply, busnr, s, t->qpath))
			slot = s;
	}
	if (dir)
		closedir(dir);
	free(pci);
	igt_assert_f(slot >= 0, "no free hotplug slot left on bus %.7s to add %s back\n",
		     t->bdf, t->qdev_type);
	snprintf(id, sizeof(id), "%.*s.s%d", (int)strcspn(t->qdev_id, "."),
		 t->qdev_id, slot);
	if (t->qdev_bus[0])
		snprintf(bus, sizeof(bus), ", \"bus\": \"%s\"", t->qdev_bus);
	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"device_add\", \"arguments\": {\"driver\": \"%s\", \"id\": \"%s\"%s, \"addr\": \"%#x\"}",
		 t->qdev_type, id, bus, slot);
	igt_assert_f(qmp_cmd(cmd), "device_add %s,id=%s%s%s,addr=%#x: %s\n",
		     t->qdev_type, id, t->qdev_bus[0] ? ",bus=" : "", t->qdev_bus,
		     slot, qmp_reply);
	igt_debug("QEMU: device_add %s,id=%s%s%s,addr=%#x\n", t->qdev_type, id,
		  t->qdev_bus[0] ? ",bus=" : "", t->qdev_bus, slot);
	/*
	 * The device has a new address: so have the other targets of the
	 * same device (its PCI remove and unbind), for the rest of this
	 * execution's subtests.
	 */
	snprintf(old, sizeof(old), "%s", t->bdf);
	for (int i = 0; i < ntargets; i++) {
		if (strcmp(targets[i].bdf, old))
			continue;
		snprintf(targets[i].bdf + 8, sizeof(targets[i].bdf) - 8, "%02x.0",
			 slot & 0x1f);
		if (targets[i].how == REMOVE_QEMU)
			snprintf(targets[i].qdev_id, sizeof(targets[i].qdev_id), "%s", id);
	}
}

/* Brings a PCI target's device back (if gone) and waits for its fb. */
static int pci_target_up(struct target *t)
{
	struct pci_wait w = { .bdf = t->bdf };
	char path[PATH_MAX];
	int ret = 0;

	pci_path(t, "", path, sizeof(path));
	if (!path_exists(path)) {
		if (t->how == REMOVE_QEMU)
			qemu_device_readd(t);
		else
			ret = write_text("/sys/bus/pci/rescan", "1");
	} else {
		pci_path(t, "driver", path, sizeof(path));
		if (!path_exists(path)) {
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", t->driver);
			ret = write_text(path, t->bdf);
		}
	}
	igt_assert_f(ret == 0, "bringing %s back failed: %s\n", t->bdf, strerror(-ret));
	w.bdf = t->bdf;
	igt_assert_f(igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20),
		     "%s (%s): no DRM card with an fbdev %d s after bringing it back\n",
		     t->bdf, t->driver, PCI_TIMEOUT_MS / 1000);
	return w.card;
}

/* A vkms device with one pipeline, made through configfs. */
static void vkms_make(struct vdev *d)
{
	static const char *const dirs[] = {
		"", "/planes/plane0", "/crtcs/crtc0", "/encoders/encoder0",
		"/connectors/connector0",
	};
	static const char *const links[][2] = {
		{ "/crtcs/crtc0", "/planes/plane0/possible_crtcs/crtc0" },
		{ "/crtcs/crtc0", "/encoders/encoder0/possible_crtcs/crtc0" },
		{ "/encoders/encoder0", "/connectors/connector0/possible_encoders/encoder0" },
	};
	static int seq;
	char a[PATH_MAX], b[PATH_MAX];
	int ret;

	snprintf(d->vkms, sizeof(d->vkms), "fbdev_unplug-%d-%d", getpid(), ++seq);
	for (unsigned int i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(a, sizeof(a), VKMS_CONFIGFS "/%s%s", d->vkms, dirs[i]);
		igt_assert_f(mkdir(a, 0755) == 0, "mkdir %s: %m\n", a);
	}
	snprintf(a, sizeof(a), VKMS_CONFIGFS "/%s/planes/plane0/type", d->vkms);
	ret = write_text(a, "1");	/* DRM_PLANE_TYPE_PRIMARY */
	igt_assert_f(ret == 0, "writing 1 to %s: %s\n", a, strerror(-ret));
	for (unsigned int i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(a, sizeof(a), VKMS_CONFIGFS "/%s%s", d->vkms, links[i][0]);
		snprintf(b, sizeof(b), VKMS_CONFIGFS "/%s%s", d->vkms, links[i][1]);
		igt_assert_f(symlink(a, b) == 0, "symlink %s -> %s: %m\n", b, a);
	}
	snprintf(a, sizeof(a), VKMS_CONFIGFS "/%s/enabled", d->vkms);
	ret = write_text(a, "1");
	igt_assert_f(ret == 0, "writing 1 to %s: %s\n", a, strerror(-ret));
}

static int vkms_enable(struct vdev *d, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), VKMS_CONFIGFS "/%s/enabled", d->vkms);
	return write_text(path, value);
}

/* Best effort: the configfs tree of a disabled vkms device, leaves first. */
static void vkms_rmdir(struct vdev *d)
{
	static const char *const paths[] = {
		"/planes/plane0/possible_crtcs/crtc0",
		"/encoders/encoder0/possible_crtcs/crtc0",
		"/connectors/connector0/possible_encoders/encoder0",
		"/planes/plane0", "/crtcs/crtc0", "/encoders/encoder0",
		"/connectors/connector0", "",
	};
	char path[PATH_MAX];

	for (unsigned int i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(path, sizeof(path), VKMS_CONFIGFS "/%s%s", d->vkms, paths[i]);
		if (i < 3 ? unlink(path) : rmdir(path))
			igt_debug("removing %s: %m\n", path);
	}
	d->vkms[0] = '\0';
}

/* The card of the vkms device: /sys/devices/faux/<name>/drm/card<N>. */
static bool vkms_card(struct fb_lookup *l, const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/devices/faux/%s/drm", name);
	dir = opendir(path);
	l->card = -1;
	if (!dir)
		return false;
	while (l->card < 0 && (de = readdir(dir)))
		if (sscanf(de->d_name, "card%d", &l->card) != 1)
			l->card = -1;
	closedir(dir);
	return l->card >= 0;
}

/* vunplug: "add" a fresh device, find its card and debugfs. */
static void vunplug_add(struct vdev *d)
{
	int old_ids[MAX_DEVICES], ids[MAX_DEVICES], cards[MAX_DEVICES];
	int nold = control_list(old_ids, cards, MAX_DEVICES);
	int n, ret, drm_fd;

	ret = control_write("add");
	igt_assert_f(ret == 0, "writing \"add\" to %s failed: %s\n",
		     control_path(), strerror(-ret));

	n = control_list(ids, cards, MAX_DEVICES);
	for (int i = 0; i < n && d->id < 0; i++) {
		bool known = false;

		for (int j = 0; j < nold; j++)
			known |= old_ids[j] == ids[i];
		if (!known) {
			d->id = ids[i];
			d->card = cards[i];
		}
	}
	igt_assert_f(d->id >= 0, "\"add\" did not list a new device in %s\n",
		     control_path());

	drm_fd = card_open(d->card);
	igt_assert_f(drm_fd >= 0,
		     "vunplug.%d: no vunplug primary node card%d among drmGetDevices2()\n",
		     d->id, d->card);
	d->debugfs = igt_debugfs_dir(drm_fd);
	close(drm_fd);
	igt_assert_f(d->debugfs >= 0, "no debugfs directory for card%d\n", d->card);
	igt_assert_f(faccessat(d->debugfs, "unplug", W_OK, 0) == 0 &&
		     faccessat(d->debugfs, "scanout", R_OK, 0) == 0,
		     "card%d debugfs lacks unplug/scanout\n", d->card);
}

/*
 * A device of @t, plugged, with its fb open: a new one for vunplug and
 * vkms, the PCI device (brought back if a removal left it gone) otherwise.
 */
static struct vdev *vdev_add(struct target *t)
{
	struct vdev *d = calloc(1, sizeof(*d));
	struct fb_lookup lookup;

	igt_assert(d);
	d->t = t;
	d->id = -1;
	d->fb_fd = -1;
	d->debugfs = -1;
	track(d, true);

	switch (t->how) {
	case REMOVE_VUNPLUG:
		vunplug_add(d);
		break;
	case REMOVE_VKMS:
		vkms_make(d);
		igt_assert_f(vkms_card(&lookup, d->vkms),
			     "vkms device %s: no /sys/devices/faux/%s/drm/card*\n",
			     d->vkms, d->vkms);
		d->card = lookup.card;
		break;
	default:
		d->card = pci_target_up(t);
		break;
	}

	lookup.card = d->card;
	igt_assert_f(igt_wait(fb_appeared(&lookup), 2000, 5),
		     "no fbdev for card%d: neither /sys/class/drm/card%d/device/graphics/fb* nor a /sys/class/graphics/fb*/device sharing its parent (CONFIG_DRM_FBDEV_EMULATION?)\n",
		     d->card, d->card);
	d->fb = lookup.fb;
	fb_open(d);
	return d;
}

static void vdev_map(struct vdev *d)
{
	void *p = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fb_fd, 0);

	igt_assert_f(p != MAP_FAILED, "mmap of /dev/fb%d (%zu bytes): %m\n",
		     d->fb, d->map_len);
	d->map = p;
}

static void vdev_unmap(struct vdev *d)
{
	igt_assert_f(munmap(d->map, d->map_len) == 0,
		     "munmap of /dev/fb%d: %m\n", d->fb);
	d->map = NULL;
}

static void vdev_close_fb(struct vdev *d)
{
	igt_assert_f(close(d->fb_fd) == 0, "close of /dev/fb%d: %m\n", d->fb);
	d->fb_fd = -1;
}

static int write_unplug(int debugfs)
{
	int fd = openat(debugfs, "unplug", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static bool path_gone(const char *path)
{
	return access(path, F_OK) && errno == ENOENT;
}

/*
 * After unplug + sync, user space sees the card and the fb gone: their
 * sysfs devices at once, their /dev nodes once devtmpfs has caught up.
 */
static void assert_nodes_gone(struct vdev *d)
{
	char path[4][64];

	snprintf(path[0], sizeof(path[0]), "/sys/class/drm/card%d", d->card);
	snprintf(path[1], sizeof(path[1]), "/sys/class/graphics/fb%d", d->fb);
	snprintf(path[2], sizeof(path[2]), "/dev/dri/card%d", d->card);
	snprintf(path[3], sizeof(path[3]), "/dev/fb%d", d->fb);
	for (int i = 0; i < 2; i++)
		igt_assert_f(path_gone(path[i]), "%s still exists after unplug + sync\n",
			     path[i]);
	for (int i = 2; i < 4; i++)
		igt_assert_f(igt_wait(path_gone(path[i]), 2000, 5),
			     "%s still exists 2 s after unplug + sync\n", path[i]);
}

struct gone_wait {
	char path[PATH_MAX];
};

static bool gone(struct gone_wait *w)
{
	return path_gone(w->path);
}

/* QEMU device_del of a PCI target's device; returns once the guest let go. */
static void qemu_device_del(struct target *t)
{
	char cmd[256], bridge[16], *pci;
	struct gone_wait w;
	int bus, slot;

	igt_assert_f(qmp_open(), "QEMU's monitor port is gone\n");
	igt_assert(sscanf(t->bdf, "%*x:%x:%x.", &bus, &slot) == 2);
	igt_assert_f(qmp_cmd("\"execute\": \"query-pci\""), "query-pci: %s\n", qmp_reply);
	pci = strdup(qmp_reply);
	igt_assert(pci);
	igt_assert_f(qmp_pci_id(pci, bus, slot, t->qdev_id, sizeof(t->qdev_id)) &&
		     t->qdev_id[0], "QEMU's query-pci has no device id for %s: %.300s\n",
		     t->bdf, pci);
	/* behind a bridge, device_add names the bridge's bus (its id) */
	t->qdev_bus[0] = '\0';
	snprintf(t->qpath, sizeof(t->qpath), "%.8s", t->bdf);
	if (pci_bridge_of(t->bdf, bridge, sizeof(bridge))) {
		int bbus, bslot;

		igt_assert(sscanf(bridge, "%*x:%x:%x.", &bbus, &bslot) == 2);
		igt_assert_f(qmp_pci_id(pci, bbus, bslot, t->qdev_bus, sizeof(t->qdev_bus)) &&
			     t->qdev_bus[0], "QEMU's query-pci has no id for the bridge %s of %s\n",
			     bridge, t->bdf);
		qemu_dev_path(bridge, t->qpath, sizeof(t->qpath) - 1);
		strcat(t->qpath, ":");
	}
	free(pci);
	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral/%s\", \"property\": \"type\"}",
		 t->qdev_id);
	igt_assert_f(qmp_cmd(cmd) && strstr(qmp_reply, "\"return\": \""),
		     "qom-get type of %s: %s\n", t->qdev_id, qmp_reply);
	snprintf(t->qdev_type, sizeof(t->qdev_type), "%.*s",
		 (int)strcspn(strstr(qmp_reply, "\"return\": \"") + 11, "\""),
		 strstr(qmp_reply, "\"return\": \"") + 11);

	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"device_del\", \"arguments\": {\"id\": \"%s\"}", t->qdev_id);
	igt_assert_f(qmp_cmd(cmd), "device_del %s: %s\n", t->qdev_id, qmp_reply);
	pci_path(t, "", w.path, sizeof(w.path));
	igt_assert_f(igt_wait(gone(&w), PCI_TIMEOUT_MS, 20),
		     "%s is still there %d s after device_del %s (ACPI hotplug in the guest?)\n",
		     w.path, PCI_TIMEOUT_MS / 1000, t->qdev_id);
}

/* Removes the device the way its target says, and checks its nodes went. */
static void vdev_unplug(struct vdev *d)
{
	struct target *t = d->t;
	char path[PATH_MAX];
	int ret = 0;

	switch (t->how) {
	case REMOVE_VUNPLUG:
		ret = write_unplug(d->debugfs);
		igt_assert_f(ret == 0, "writing 1 to card%d's unplug failed: %s\n",
			     d->card, strerror(-ret));
		d->unplugged = true;
		ret = control_write("sync");
		igt_assert_f(ret == 0, "writing \"sync\" to %s failed: %s\n",
			     control_path(), strerror(-ret));
		igt_assert_f(!control_lists_id(d->id),
			     "vunplug.%d is still listed in %s after unplug + sync\n",
			     d->id, control_path());
		break;
	case REMOVE_VKMS:
		ret = vkms_enable(d, "0");
		igt_assert_f(ret == 0, "writing 0 to %s/%s/enabled failed: %s\n",
			     VKMS_CONFIGFS, d->vkms, strerror(-ret));
		break;
	case REMOVE_PCI:
		pci_path(t, "remove", path, sizeof(path));
		ret = write_text(path, "1");
		igt_assert_f(ret == 0, "writing 1 to %s failed: %s\n", path, strerror(-ret));
		break;
	case REMOVE_UNBIND:
		pci_path(t, "driver/unbind", path, sizeof(path));
		ret = write_text(path, t->bdf);
		igt_assert_f(ret == 0, "writing %s to %s failed: %s\n", t->bdf, path,
			     strerror(-ret));
		break;
	case REMOVE_QEMU:
		qemu_device_del(t);
		break;
	}
	d->unplugged = true;
	assert_nodes_gone(d);
}

/*
 * Best effort, also for devices left behind by a failed subtest: closes
 * what is open, removes what the subtest added (vunplug, vkms) and brings
 * back what it removed (PCI).
 */
static void vdev_free(struct vdev *d)
{
	struct target *t = d->t;

	if (d->map)
		munmap(d->map, d->map_len);
	if (d->fb_fd >= 0)
		close(d->fb_fd);
	switch (t->how) {
	case REMOVE_VUNPLUG:
		if (!d->unplugged && d->debugfs >= 0 && write_unplug(d->debugfs) == 0)
			control_write("sync");
		break;
	case REMOVE_VKMS:
		if (d->vkms[0]) {
			if (!d->unplugged)
				vkms_enable(d, "0");
			vkms_rmdir(d);
		}
		break;
	default:
		if (d->unplugged) {
			struct pci_wait w = { .bdf = t->bdf };
			char path[PATH_MAX];

			pci_path(t, "", path, sizeof(path));
			if (t->how == REMOVE_QEMU && !path_exists(path))
				qemu_device_readd(t);
			else if (t->how == REMOVE_PCI && !path_exists(path))
				write_text("/sys/bus/pci/rescan", "1");
			else if (t->how == REMOVE_UNBIND) {
				snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
					 t->driver);
				write_text(path, t->bdf);
			}
			w.bdf = t->bdf;
			igt_abort_on_f(!igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20),
				       "%s did not come back with a card and an fb: every later subtest would run without it\n",
				       t->bdf);
		}
		break;
	}
	if (d->debugfs >= 0)
		close(d->debugfs);
	track(d, false);
	free(d);
}

/* Unmaps (if mapped) and closes the fb, checking both, then frees @d. */
static void vdev_release(struct vdev *d)
{
	if (d->map)
		vdev_unmap(d);
	vdev_close_fb(d);
	vdev_free(d);
}

static void stop_leftover_progs(void);

static void kmsg_watch_close(void);

static void free_leftovers(void)
{
	stop_leftover_progs();
	kmsg_watch_close();
	for (unsigned int i = 0; i < ARRAY_SIZE(open_devs); i++)
		if (open_devs[i])
			vdev_free(open_devs[i]);
}

/* --- scanout ------------------------------------------------------------- */

static bool scanout_read(struct vdev *d, struct scanout *s)
{
	char buf[512], *line, *save = NULL;
	unsigned int found = 0;

	if (igt_debugfs_simple_read(d->debugfs, "scanout", buf, sizeof(buf)) <= 0)
		return false;

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		found |= (sscanf(line, "checksum 0x%x", &s->checksum) == 1) << 0;
		found |= (sscanf(line, "updates %llu", &s->updates) == 1) << 1;
		found |= (sscanf(line, "damage_rects %llu", &s->damage_rects) == 1) << 2;
		found |= (sscanf(line, "width %u", &s->width) == 1) << 3;
		found |= (sscanf(line, "height %u", &s->height) == 1) << 4;
	}
	return found == 0x1f;
}

struct scanout_wait {
	struct vdev *d;
	struct scanout before, now;
};

static bool scanout_changed(struct scanout_wait *w)
{
	return scanout_read(w->d, &w->now) &&
	       w->now.checksum != w->before.checksum &&
	       w->now.updates > w->before.updates &&
	       w->now.damage_rects > w->before.damage_rects;
}

/*
 * Fill [offset, offset + len) of @map, a mapping of @d's fb made through
 * @fd, and wait for the device.
 */
static void assert_write_via_reaches_scanout(struct vdev *d, uint8_t *map, int fd,
					     size_t offset, size_t len)
{
	struct scanout_wait w = { .d = d };
	uint8_t value;

	if (d->debugfs < 0) {	/* a device without a scanout to check */
		memset(map + offset, map[offset] ^ 0xa5, len);
		igt_assert_eq(fsync(fd), 0);
		return;
	}
	igt_assert_f(scanout_read(d, &w.before),
		     "cannot parse card%d's debugfs scanout\n", d->card);
	value = map[offset] ^ 0xa5;
	memset(map + offset, value, len);
	igt_assert_eq(fsync(fd), 0);

	igt_assert_f(igt_wait(scanout_changed(&w), SCANOUT_TIMEOUT_MS, 5),
		     "writing %zu bytes at %zu of /dev/fb%d did not reach the scanout within %d ms: checksum 0x%08x -> 0x%08x, updates %llu -> %llu, damage_rects %llu -> %llu\n",
		     len, offset, d->fb, SCANOUT_TIMEOUT_MS,
		     w.before.checksum, w.now.checksum,
		     w.before.updates, w.now.updates,
		     w.before.damage_rects, w.now.damage_rects);
	igt_debug("scanout %ux%u: checksum 0x%08x, updates %llu, damage_rects %llu\n",
		  w.now.width, w.now.height, w.now.checksum,
		  w.now.updates, w.now.damage_rects);
}

static void assert_write_reaches_scanout(struct vdev *d, size_t offset, size_t len)
{
	assert_write_via_reaches_scanout(d, d->map, d->fb_fd, offset, len);
}

/* --- SIGBUS probing ------------------------------------------------------ */

static __thread sigjmp_buf *volatile sigbus_jmp;
static struct sigaction saved_sigbus;

static void sigbus_handler(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)info;
	(void)ctx;
	if (sigbus_jmp)
		siglongjmp(*sigbus_jmp, 1);
	/* Not expected here: let the previous (igt) handler report it. */
	sigaction(SIGBUS, &saved_sigbus, NULL);
}

static void sigbus_install(void)
{
	struct sigaction sa = {
		.sa_sigaction = sigbus_handler,
		.sa_flags = SA_SIGINFO,
	};
	struct sigaction old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (old.sa_sigaction != sigbus_handler)
		saved_sigbus = old;
}

/* Runs @fn(@arg); true if it was cut short by SIGBUS. */
static bool raises_sigbus(void (*fn)(void *), void *arg)
{
	sigjmp_buf jmp;

	if (sigsetjmp(jmp, 1)) {
		sigbus_jmp = NULL;
		return true;
	}
	sigbus_jmp = &jmp;
	fn(arg);
	sigbus_jmp = NULL;
	return false;
}

static void read_byte(void *p)
{
	(void)*(volatile uint8_t *)p;
}

static void write_byte(void *p)
{
	*(volatile uint8_t *)p = 0x5a;
}

/* Every page of @map must raise SIGBUS on a read or a write. */
static void assert_map_faults(uint8_t *map, int npages, bool write, const char *who)
{
	int missed = 0, first = -1;

	sigbus_install();
	for (int i = 0; i < npages; i++) {
		if (raises_sigbus(write ? write_byte : read_byte, map + i * pagesz))
			continue;
		if (first < 0)
			first = i;
		missed++;
	}
	/* One line per operation, collected into the README's table. */
	if (missed == 0)
		igt_info("behaviour: %s%s of a mapped page | SIGBUS\n",
			 who, write ? "write" : "read");
	else if (missed == npages)
		igt_info("behaviour: %s%s of a mapped page | succeeds, no SIGBUS\n",
			 who, write ? "write" : "read");
	else
		igt_info("behaviour: %s%s of a mapped page | SIGBUS on %d of %d pages\n",
			 who, write ? "write" : "read", npages - missed, npages);
	errno = 0;	/* a stale errno would only confuse the report */
	igt_assert_f(missed == 0,
		     "%spage %d of %d: %s after unplug did not raise SIGBUS (%d pages did not)\n",
		     who, first, npages, write ? "write" : "read", missed);
}

static void assert_pages_fault(struct vdev *d, bool write, const char *who)
{
	assert_map_faults(d->map, d->npages, write, who);
}

static bool scanout_updated(struct scanout_wait *w)
{
	return scanout_read(w->d, &w->now) && w->now.updates > w->before.updates;
}

/*
 * Flush @d's deferred I/O: when fsync() returns, the deferred work has run
 * and write-protected the written pages again. A second write to page 0,
 * written before, must then be tracked and reach the device.
 */
static void flush_and_check_wrprotect(struct vdev *d)
{
	struct scanout_wait w = { .d = d };

	igt_assert_eq(fsync(d->fb_fd), 0);
	if (d->debugfs < 0)
		return;
	igt_assert_f(scanout_read(d, &w.before),
		     "cannot parse card%d's debugfs scanout\n", d->card);
	d->map[0] ^= 0xff;
	igt_assert_eq(fsync(d->fb_fd), 0);
	igt_assert_f(igt_wait(scanout_updated(&w), SCANOUT_TIMEOUT_MS, 5),
		     "a second write to a written page of /dev/fb%d did not reach the scanout in %d ms: deferred I/O did not write-protect it again\n",
		     d->fb, SCANOUT_TIMEOUT_MS);
}

/* Dirty some pages (page 0 among them), read others, flush deferred I/O. */
static void touch_some_pages(struct vdev *d)
{
	for (int i = 0; i < d->npages; i++) {
		if (i % 4 == 0)
			d->map[i * pagesz] = i;
		else if (i % 4 == 1)
			read_byte(d->map + i * pagesz);
	}
	flush_and_check_wrprotect(d);
}

/* --- kernel log ---------------------------------------------------------- */

static void kmsg_watch_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

static int kmsg_watch_begin(void)
{
	kmsg_watch_close();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	igt_assert_f(kmsg_fd >= 0, "cannot open /dev/kmsg: %m\n");
	lseek(kmsg_fd, 0, SEEK_END);
	return kmsg_fd;
}

/* Fails on any kernel report logged since kmsg_watch_begin(). */
static void kmsg_watch_end(int fd)
{
	/* what the kernel logs when it finds a bug in itself */
	static const char *const bad[] = {
		"BUG:", "WARNING:", "KASAN", "possible circular locking",
		"Oops", "suspected memory leak", "refcount_t:",
		"list_add corruption", "list_del corruption", "ODEBUG",
		"kernel BUG at", "UBSAN:", "blocked for more than",
		"detected stalls", "Kernel panic",
	};
	char rec[8192], first[512] = "";
	int reports = 0;
	ssize_t len;

	usleep(100000);	/* let release paths and workers finish */
	for (;;) {
		char *msg;

		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* records overwritten, keep going */
		if (len <= 0)
			break;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (!strstr(msg, bad[i]))
				continue;
			igt_warn("kernel: %s\n", msg);
			if (!reports++)
				snprintf(first, sizeof(first), "%.*s",
					 (int)sizeof(first) - 1, msg);
			break;
		}
	}
	if (fd == kmsg_fd)
		kmsg_watch_close();
	else
		close(fd);
	igt_assert_f(reports == 0, "%d kernel report line(s), first: %s\n",
		     reports, first);
}

/* --- kmemleak ------------------------------------------------------------ */

static const char *kmemleak_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/kmemleak", igt_debugfs_mount());
	return path;
}

static bool kmemleak_cmd(const char *cmd)
{
	int fd = open(kmemleak_path(), O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd);
	close(fd);
	return ok;
}

/* Forget leaks that predate the subtest; skip without kmemleak. */
static void kmemleak_baseline(void)
{
	igt_require_f(access(kmemleak_path(), W_OK) == 0,
		      "kmemleak is unavailable (%s: %m): CONFIG_DEBUG_KMEMLEAK and a mounted debugfs are needed to check for leaks\n",
		      kmemleak_path());
	if (!kmemleak_cmd("scan"))
		/* kmemleak_write() refuses everything once kmemleak is off */
		igt_require_f(errno != EPERM,
			      "kmemleak is disabled (kmemleak=off, or it turned itself off): no leak check possible\n");
	igt_assert_f(kmemleak_cmd("scan") && kmemleak_cmd("clear"),
		     "kmemleak baseline scan failed: %m\n");
}

static void kmemleak_assert_clean(unsigned int cycles)
{
	char buf[4096];
	ssize_t len;
	int fd;

	/*
	 * kmemleak reports no object younger than its fixed minimum age of
	 * 5 s, and nothing tells when that has passed: wait it out.
	 */
	sleep(6);
	igt_assert_f(kmemleak_cmd("scan") && kmemleak_cmd("scan"),
		     "kmemleak scan failed: %m\n");
	fd = open(kmemleak_path(), O_RDONLY | O_CLOEXEC);
	igt_assert_f(fd >= 0, "cannot open %s: %m\n", kmemleak_path());
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	igt_assert_f(len == 0, "kmemleak reports leaks after %u plug/unplug cycles:\n%s\n",
		     cycles, buf);
}

/* --- subtests ------------------------------------------------------------ */

static int subtest_begin(void)
{
	free_leftovers();
	return kmsg_watch_begin();
}

static void test_defio_flush(struct target *t)
{
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);
	size_t middle;

	vdev_map(d);
	assert_write_reaches_scanout(d, 0, d->fix.smem_len);

	middle = (d->var.yres / 2) * d->fix.line_length / pagesz * pagesz;
	if (middle + pagesz > d->fix.smem_len)
		middle = 0;
	assert_write_reaches_scanout(d, middle, pagesz);

	vdev_release(d);
	kmsg_watch_end(kmsg);
}

static void test_touch_after_unplug(struct target *t, bool write)
{
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);

	vdev_map(d);
	touch_some_pages(d);
	vdev_unplug(d);
	assert_pages_fault(d, write, "");
	vdev_release(d);
	kmsg_watch_end(kmsg);
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
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);
	int ready[2], go[2];

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

	assert_pages_fault(d, false, "parent: ");
	igt_waitchildren();
	vdev_release(d);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
	kmsg_watch_end(kmsg);
}

static void test_teardown_after_unplug(struct target *t, bool close_first)
{
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
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
	int kmsg = subtest_begin();
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
		if (ret == -1) {
			igt_info("%s on the unplugged fb failed with errno %d (%s)\n",
				 ops[i].name, err, strerror(err));
			igt_info("behaviour: %s on the open fd | fails: %s\n",
				 ops[i].name, strerrorname_np(err) ?: strerror(err));
		} else {
			igt_info("behaviour: %s on the open fd | succeeds (returns %ld)\n",
				 ops[i].name, ret);
		}
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
	kmsg_watch_end(kmsg);
}

/*
 * The device's DRM node, held open across the unplug: drm_dev_unplug()
 * makes every later ioctl on it fail with ENODEV. A driver that only
 * unregisters its device (vkms before it could be unplugged) keeps
 * serving them.
 */
static void test_drm_fd_after_unplug(struct target *t)
{
	int kmsg = subtest_begin();
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
	igt_info("behaviour: DRM_IOCTL_VERSION on the open DRM fd | %s\n",
		 ret == -1 ? strerrorname_np(err) ?: strerror(err) : "succeeds");
	errno = 0;
	igt_assert_f(ret == -1 && err == ENODEV,
		     "DRM_IOCTL_VERSION on the unplugged %s: %d, errno %d (%s), expected ENODEV\n",
		     node, ret, err, strerror(err));
	vdev_release(d);
	kmsg_watch_end(kmsg);
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
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);
	long ret;
	int err = 0;

	vdev_map(d);
	touch_some_pages(d);
	unplug_all_devices();
	d->unplugged = true;

	ret = vunplug_delete_module();
	err = errno;
	igt_info("behaviour: unloading the driver while mapped | %s%s\n",
		 ret == -1 ? "refused: " : "succeeds",
		 ret == -1 ? (strerrorname_np(err) ?: strerror(err)) : "");
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
	kmsg_watch_end(kmsg);

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
	uint64_t end = now_ms() + 30000;
	int page = (a->w - a->r->w) * 7 % a->r->npages;

	__atomic_store_n(&a->w->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&a->r->stop, __ATOMIC_ACQUIRE) && now_ms() < end) {
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
	int kmsg = subtest_begin();
	struct race *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	igt_assert(r != MAP_FAILED);
	for (unsigned int i = 0; i < target_iterations(t); i++)
		race_once(t, r, i);
	munmap(r, sizeof(*r));
	kmsg_watch_end(kmsg);
}

static void test_plug_unplug_cycles(struct target *t)
{
	int kmsg;

	kmemleak_baseline();	/* its scan may log: before the kmsg watch */
	kmsg = subtest_begin();

	for (unsigned int i = 0; i < target_iterations(t); i++) {
		struct vdev *d = vdev_add(t);

		igt_debug("cycle %u: card%d fb%d\n", i, d->card, d->fb);
		vdev_map(d);
		memset(d->map, i, d->fix.smem_len);
		vdev_unplug(d);	/* with deferred I/O still pending */
		assert_pages_fault(d, true, "");
		vdev_release(d);
	}
	kmsg_watch_end(kmsg);
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
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
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
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
}

static void test_evicted_node_writes(struct target *t)
{
	int kmsg = subtest_begin();
	struct vdev *d = vdev_add(t);
	struct fb_node n;

	vdev_map(d);
	assert_write_reaches_scanout(d, 0, pagesz);
	fb_node_make(d, &n);
	fb_node_remove(&n);
	for (int round = 0; round < 3; round++)
		assert_write_reaches_scanout(d, 0, pagesz);
	vdev_release(d);
	kmsg_watch_end(kmsg);
}

static void test_second_node_after_unplug(struct target *t)
{
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
}

static void test_evicted_node_unplug(struct target *t)
{
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
}

static void test_private_mapping_after_unplug(struct target *t)
{
	int kmsg = subtest_begin();
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
	kmsg_watch_end(kmsg);
}

static void test_proc_mem_after_unplug(struct target *t)
{
	int kmsg = subtest_begin();
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
	igt_info("behaviour: read of a mapped page through /proc/self/mem | %s\n",
		 readable ? "succeeds" : "fails: EIO");
	igt_assert_f(readable == 0,
		     "%d of %d pages of the mapping are still readable through /proc/self/mem after unplug\n",
		     readable, d->npages);
	vdev_release(d);
	kmsg_watch_end(kmsg);
}

/* --- real fbdev programs ----------------------------------------------- */

#define PROG_DRAW_TIMEOUT_MS	90000	/* program start under TCG + KASAN */
#define PROG_END_TIMEOUT_MS	15000	/* after the unplug has completed */

/* A program from the guest's PATH, run with its output captured. */
struct prog {
	const char *name;
	pid_t pid;
	int out;		/* stdout + stderr */
	char log[2048];		/* the last of its output */
	size_t len;
	int status;
	bool ended;
};

/*
 * Every program started, running or not: static, so that free_leftovers()
 * can stop what a failed subtest left running. A slot is reused once its
 * program has been stopped (pid 0); its output stays readable until then.
 */
static struct prog progs[4];

static bool in_path(const char *file)
{
	char *path = getenv("PATH"), *copy, *dir, *save = NULL;
	char full[PATH_MAX];
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	igt_assert(copy);
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof(full), "%s/%s", dir, file);
		found = access(full, X_OK) == 0;
	}
	free(copy);
	return found;
}

static void prog_require(const char *file, const char *package)
{
	igt_require_f(in_path(file), "%s not found in PATH (Debian package %s)\n",
		      file, package);
}

/* Starts @argv[0] from PATH in its own process group. */
static struct prog *prog_start(char *const argv[])
{
	struct prog *p = NULL;
	int pipefd[2];

	for (unsigned int i = 0; i < sizeof(progs) / sizeof(progs[0]) && !p; i++)
		if (progs[i].pid == 0)
			p = &progs[i];
	igt_assert_f(p, "more than %zu programs running\n",
		     sizeof(progs) / sizeof(progs[0]));
	memset(p, 0, sizeof(*p));
	p->name = argv[0];
	igt_assert(pipe2(pipefd, O_CLOEXEC) == 0);
	fflush(NULL);
	p->pid = fork();
	igt_assert_f(p->pid >= 0, "fork: %m\n");
	if (p->pid == 0) {
		setpgid(0, 0);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(p->pid, p->pid);	/* before any kill(-pid), whoever runs first */
	close(pipefd[1]);
	p->out = pipefd[0];
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	return p;
}

/* Keeps the last part of the program's output in p->log. */
static void prog_drain(struct prog *p)
{
	char buf[1024];
	ssize_t len;

	_Static_assert(sizeof(buf) < sizeof(p->log), "one read fits the log");
	while ((len = read(p->out, buf, sizeof(buf))) > 0) {
		if (p->len + len >= sizeof(p->log)) {
			size_t drop = p->len + len - (sizeof(p->log) - 1);

			memmove(p->log, p->log + drop, p->len - drop);
			p->len -= drop;
		}
		memcpy(p->log + p->len, buf, len);
		p->len += len;
		p->log[p->len] = '\0';
	}
}

static bool prog_ended(struct prog *p)
{
	prog_drain(p);
	if (!p->ended && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
		p->ended = true;
	return p->ended;
}

/* Kills what is left of the program's process group and reaps it. */
static void prog_stop(struct prog *p)
{
	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGKILL);
	if (!p->ended && waitpid(p->pid, &p->status, 0) == p->pid)
		p->ended = true;
	prog_drain(p);
	close(p->out);
	p->pid = 0;
}

static void stop_leftover_progs(void)
{
	for (unsigned int i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (progs[i].pid > 0)
			prog_stop(&progs[i]);
}

/* Copies the line of @log that holds @at, without its line break. */
static void line_at(const char *log, const char *at, char *out, size_t size)
{
	const char *start = at, *end = at + strcspn(at, "\r\n");

	while (start > log && start[-1] != '\n' && start[-1] != '\r')
		start--;
	snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* "exit status 254" or "killed by signal 7 (Bus error)"; its last line in @last. */
static const char *prog_how(struct prog *p, char *buf, size_t size,
			    char *last, size_t last_size)
{
	const char *end = p->log + p->len;

	if (WIFSIGNALED(p->status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(p->status),
			 strsignal(WTERMSIG(p->status)));
	else
		snprintf(buf, size, "exit status %d", WEXITSTATUS(p->status));

	while (end > p->log && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	*last = '\0';
	if (end > p->log)
		line_at(p->log, end - 1, last, last_size);
	return buf;
}

struct scanout_moves {
	struct vdev *d;
	struct scanout before, now;
	struct prog *p;
};

/* Whether @p's process has /dev/fb@fb mapped. */
static bool prog_maps_fb(struct prog *p, int fb)
{
	char path[64], line[512], name[32];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	snprintf(name, sizeof(name), " /dev/fb%d\n", fb);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/*
 * The scanout changed, or the program already ended. A device without a
 * scanout to read (debugfs < 0) counts as drawn into once the program has
 * mapped its fb.
 */
static bool drawn_or_ended(struct scanout_moves *m)
{
	if (prog_ended(m->p))
		return true;
	if (m->d->debugfs < 0)
		return prog_maps_fb(m->p, m->d->fb);
	return scanout_read(m->d, &m->now) &&
	       m->now.checksum != m->before.checksum &&
	       m->now.updates > m->before.updates;
}

/* Logs the last @lines lines of the file at @path. */
static void log_tail(const char *path, int lines)
{
	static char buf[16384];
	struct stat st;
	char *start;
	ssize_t len;
	off_t from;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		igt_info("%s: %m\n", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	from = st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size - (off_t)sizeof(buf) + 1 : 0;
	len = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	start = buf + strlen(buf);
	while (start > buf && lines >= 0)
		if (*--start == '\n')
			lines--;
	igt_info("last lines of %s:\n%s\n", path, start);
}

/*
 * Waits until @p draws into @d's fb; fails if it ends before it does, with
 * the end of @logfile (if any) in the output.
 */
static void assert_prog_draws(struct vdev *d, struct prog *p, const char *logfile)
{
	struct scanout_moves m = { .d = d, .p = p };
	char how[64], last[256];
	bool drawn;

	igt_assert(d->debugfs < 0 || scanout_read(d, &m.before));
	drawn = igt_wait(drawn_or_ended(&m), PROG_DRAW_TIMEOUT_MS, 20) && !p->ended;
	if (drawn && d->debugfs < 0)
		usleep(500000);	/* mapped: let it draw a few frames */
	if (!drawn && logfile)
		log_tail(logfile, 30);
	igt_assert_f(p->ended || drawn,
		     "%s drew nothing into /dev/fb%d within %d s; its output:\n%s\n",
		     p->name, d->fb, PROG_DRAW_TIMEOUT_MS / 1000, p->log);
	igt_assert_f(!p->ended, "%s ended before drawing: %s, last output: %s\n",
		     p->name, prog_how(p, how, sizeof(how), last, sizeof(last)), last);
}

enum prog_expect {
	ENDS_BY_SIGBUS,		/* killed by it, or its own handler reports it */
	ENDS_CLEANLY,		/* exit status 0 */
};

/*
 * Unplugs @d while @p draws into it and waits for @p to end. Records how it
 * ended and when (a "behaviour:" line for the README's table), fails on a
 * kernel report, then checks the outcome against @expect.
 */
static void unplug_under_prog(int kmsg, struct vdev *d, struct prog *p,
			      const char *what, enum prog_expect expect,
			      const char *bus_error_message)
{
	struct timespec start = {};
	char how[64], last[256], *bus;
	bool ended, sigbus;
	uint64_t ms;

	igt_nsec_elapsed(&start);	/* the first call sets the start */
	vdev_unplug(d);
	ended = igt_wait(prog_ended(p), PROG_END_TIMEOUT_MS, 20);
	ms = igt_nsec_elapsed(&start) / 1000000;
	if (!ended) {
		prog_stop(p);
		prog_how(p, how, sizeof(how), last, sizeof(last));
		igt_info("behaviour: %s | still running %d s after the unplug (then killed)%s%s%s\n",
			 what, PROG_END_TIMEOUT_MS / 1000, *last ? ", last output \"" : "",
			 last, *last ? "\"" : "");
		kmsg_watch_end(kmsg);
		igt_assert_f(false, "%s was still running %d s after the unplug; last output: %s\n",
			     p->name, PROG_END_TIMEOUT_MS / 1000, last);
	}
	prog_stop(p);
	prog_how(p, how, sizeof(how), last, sizeof(last));
	/* A program that catches SIGBUS itself: show its own report of it. */
	if (bus_error_message && (bus = strstr(p->log, bus_error_message)))
		line_at(p->log, bus, last, sizeof(last));
	igt_info("%s ended %.1f s after the unplug: %s; last output: %s\n",
		 p->name, ms / 1000.0, how, last);
	igt_info("behaviour: %s | %s%s%s%s after %.1f s\n", what, how,
		 *last ? ", \"" : "", last, *last ? "\"" : "", ms / 1000.0);
	kmsg_watch_end(kmsg);

	sigbus = (WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGBUS) ||
		 (bus_error_message && strstr(p->log, bus_error_message));
	if (expect == ENDS_BY_SIGBUS)
		igt_assert_f(sigbus,
			     "%s was not stopped by SIGBUS on the revoked mapping: %s (\"%s\")\n",
			     p->name, how, last);
	else
		igt_assert_f(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
			     "%s did not exit cleanly: %s (\"%s\")\n", p->name, how, last);
}

static void test_ffmpeg_after_unplug(struct target *t)
{
	char fbpath[32], size[64];
	char *argv[] = {
		"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
		"-re", "-f", "lavfi", "-i", size, "-pix_fmt", "bgra",
		"-f", "fbdev", fbpath, NULL,
	};
	struct prog *p;
	struct vdev *d;
	int kmsg;

	prog_require("ffmpeg", "ffmpeg");
	kmsg = subtest_begin();
	d = vdev_add(t);
	igt_require_f(d->var.bits_per_pixel == 32,
		      "/dev/fb%d is %u bpp, the ffmpeg command draws bgra\n",
		      d->fb, d->var.bits_per_pixel);
	vdev_close_fb(d);
	snprintf(fbpath, sizeof(fbpath), "/dev/fb%d", d->fb);
	snprintf(size, sizeof(size), "testsrc=size=%ux%u:rate=5",
		 d->var.xres, d->var.yres);

	p = prog_start(argv);
	assert_prog_draws(d, p, NULL);
	unplug_under_prog(kmsg, d, p, "ffmpeg -f fbdev (its output device)",
			  ENDS_BY_SIGBUS, NULL);
	vdev_free(d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	igt_assert_f(f, "cannot create %s: %m\n", path);
	fputs(text, f);
	igt_assert_f(fclose(f) == 0, "writing %s: %m\n", path);
}

static void test_xorg_after_unplug(struct target *t)
{
	char conf[] = "/tmp/fbdev_unplug-xorg.conf";
	char text[1024], fbpath[32], busid[32];
	unsigned int domain, bus, dev, func;
	char *xorg[] = {
		"Xorg", ":7", "-config", conf, "-nolisten", "tcp", "-noreset", "-retro",
		"-novtswitch", "-sharevts", "-logfile", "/tmp/fbdev_unplug-Xorg.log",
		"vt7", NULL,
	};
	char *client[] = { "ico", "-display", ":7", "-faces", NULL };
	struct prog *x, *c;
	struct vdev *d;
	int kmsg;

	prog_require("Xorg", "xserver-xorg-core");
	prog_require("ico", "x11-apps");
	igt_require_f(access("/usr/lib/xorg/modules/drivers/fbdev_drv.so", R_OK) == 0,
		      "Xorg's fbdev driver is missing (Debian package xserver-xorg-video-fbdev)\n");
	kmsg = subtest_begin();
	d = vdev_add(t);
	vdev_close_fb(d);
	snprintf(fbpath, sizeof(fbpath), "/dev/fb%d", d->fb);
	/*
	 * The device's own BusID, or one of no device: otherwise the server
	 * gives this section to the primary PCI display device, and the fbdev
	 * driver opens that device's fb, whatever "fbdev" says.
	 */
	if (sscanf(d->t->bdf, "%x:%x:%x.%x", &domain, &bus, &dev, &func) == 4)
		snprintf(busid, sizeof(busid), "PCI:%u@%u:%u:%u", bus, domain, dev, func);
	else
		snprintf(busid, sizeof(busid), "PCI:255:31:7");
	snprintf(text, sizeof(text),
		 "Section \"ServerFlags\"\n"
		 "\tOption \"AutoAddDevices\" \"false\"\n"
		 "\tOption \"AutoEnableDevices\" \"false\"\n"
		 "EndSection\n"
		 "Section \"Device\"\n"
		 "\tIdentifier \"vunplug\"\n"
		 "\tDriver \"fbdev\"\n"
		 "\tBusID \"%s\"\n"
		 "\tOption \"fbdev\" \"%s\"\n"
		 "EndSection\n"
		 "Section \"Screen\"\n"
		 "\tIdentifier \"screen\"\n"
		 "\tDevice \"vunplug\"\n"
		 "EndSection\n", busid, fbpath);
	write_file(conf, text);
	unlink("/tmp/.X11-unix/X7");
	unlink("/tmp/.X7-lock");

	/* -retro: the root weave, so that the first frame differs from black */
	x = prog_start(xorg);
	assert_prog_draws(d, x, "/tmp/fbdev_unplug-Xorg.log");
	igt_assert_f(igt_wait(path_exists("/tmp/.X11-unix/X7") || prog_ended(x),
			      PROG_DRAW_TIMEOUT_MS, 20) && !x->ended,
		     "Xorg did not open its socket: %s\n", x->log);
	c = prog_start(client);
	if (d->debugfs >= 0) {
		assert_prog_draws(d, c, NULL);
	} else {	/* no scanout to see it: the client runs for a second */
		sleep(1);
		igt_assert_f(!prog_ended(c), "ico ended at once: %s\n", c->log);
	}
	unplug_under_prog(kmsg, d, x, "Xorg with the fbdev driver, showing ico",
			  ENDS_BY_SIGBUS, "Bus error");
	prog_stop(c);
	vdev_free(d);
}

static void test_example_after_unplug(struct target *t)
{
	const char *dir = getenv("FBDEV_UNPLUG_EXAMPLES");
	char path[PATH_MAX], fbpath[32];
	char *argv[] = { path, fbpath, NULL };
	struct prog *p;
	struct vdev *d;
	int kmsg;

	snprintf(path, sizeof(path), "%s/fbdev_unplug_aware",
		 dir ? dir : "/opt/vunplug-bench/bin");
	igt_require_f(access(path, X_OK) == 0,
		      "%s not found: build examples/fbdev_unplug_aware.c (FBDEV_UNPLUG_EXAMPLES names its directory)\n",
		      path);
	kmsg = subtest_begin();
	d = vdev_add(t);
	vdev_close_fb(d);
	snprintf(fbpath, sizeof(fbpath), "/dev/fb%d", d->fb);

	p = prog_start(argv);
	assert_prog_draws(d, p, NULL);
	unplug_under_prog(kmsg, d, p, "examples/fbdev_unplug_aware (the recipe)",
			  ENDS_CLEANLY, NULL);
	igt_assert_f(strstr(p->log, "device went away"),
		     "the example did not report the unplug: %s\n", p->log);
	vdev_free(d);
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

static const char *fault_outcome(int faulted, int npages, char *buf, size_t size)
{
	if (faulted == npages)
		snprintf(buf, size, "SIGBUS");
	else if (faulted == 0)
		snprintf(buf, size, "succeeds, no SIGBUS");
	else
		snprintf(buf, size, "SIGBUS on %d of %d pages", faulted, npages);
	return buf;
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
	igt_info("behaviour: read of a mapped page | %s\n",
		 fault_outcome(faulted[0], d->npages, out[0], sizeof(out[0])));
	igt_info("behaviour: write of a mapped page | %s\n",
		 fault_outcome(faulted[1], d->npages, out[1], sizeof(out[1])));
	errno = 0;
	ret = ioctl(d->fb_fd, FBIOGET_VSCREENINFO, &var);
	err = errno;
	snprintf(out[2], sizeof(out[2]), "%s%s", ret ? "fails: " : "succeeds",
		 ret ? (strerrorname_np(err) ?: strerror(err)) : "");
	igt_info("behaviour: FBIOGET_VSCREENINFO on the open fd | %s\n", out[2]);

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
	igt_info("behaviour: the new %s (%.16s) | opens, maps and takes writes\n",
		 out[3], fix.id);

	errno = 0;
	igt_assert_f(faulted[0] == d->npages && faulted[1] == d->npages,
		     "simpledrm's old mapping after the handover: read %s, write %s\n",
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

/* --- cost of deferred I/O, for the bench -------------------------------- */

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

/* --- running subtests per target ---------------------------------------- */

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

#define NEED_SCANOUT	(1 << 0)	/* vunplug's debugfs scanout */
#define NEED_VUNPLUG	(1 << 1)	/* the vunplug module itself */

/* Runs @test as one dynamic subtest per target that has what it needs. */
static void each_target(void (*test)(struct target *t), unsigned int needs)
{
	discover_targets();
	for (int i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];

		char name[128];

		if ((needs & (NEED_SCANOUT | NEED_VUNPLUG)) && t->how != REMOVE_VUNPLUG)
			continue;
		/* $FBDEV_UNPLUG_TARGETS may also name <subtest>@<target> */
		snprintf(name, sizeof(name), "%s@%s", igt_subtest_name(), t->name);
		if (!target_wanted(name))
			continue;
		igt_dynamic(t->name)
			test(t);
		free_leftovers();
	}
}

static struct target *vunplug_target(void)
{
	discover_targets();
	for (int i = 0; i < ntargets; i++)
		if (targets[i].how == REMOVE_VUNPLUG)
			return &targets[i];
	igt_require_f(false, "no vunplug device: the vunplug module did not load\n");
	return NULL;
}

/*
 * The subtests that run once per target, in the order they run: one
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
	{ "plug-unplug-cycles", test_plug_unplug_cycles, 0 },
	{ "replug-while-open", test_replug_while_open, 0 },
	{ "second-node-writes-reach-scanout", test_second_node_writes, NEED_SCANOUT },
	{ "second-node-after-unplug", test_second_node_after_unplug, 0 },
	{ "evicted-node-unplug", test_evicted_node_unplug, 0 },
	{ "private-mapping-after-unplug", test_private_mapping_after_unplug, 0 },
	{ "proc-mem-after-unplug", test_proc_mem_after_unplug, 0 },
	{ "ffmpeg-after-unplug", test_ffmpeg_after_unplug, 0 },
	{ "xorg-fbdev-after-unplug", test_xorg_after_unplug, 0 },
	{ "example-after-unplug", test_example_after_unplug, 0 },
	{ "evicted-node-writes", test_evicted_node_writes, 0 },
};

/* --- options ------------------------------------------------------------- */

static int opt_handler(int opt, int opt_index, void *data)
{
	char *end;

	(void)opt_index;
	(void)data;
	if (opt != 'i')
		return IGT_OPT_HANDLER_ERROR;
	iterations = strtoul(optarg, &end, 0);
	return *end || !iterations ? IGT_OPT_HANDLER_ERROR : IGT_OPT_HANDLER_SUCCESS;
}

static const struct option long_opts[] = {
	{ "iterations", required_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

static const char help_str[] =
	"  -i, --iterations=N\tRounds of unplug-while-writing and cycles of\n"
	"\t\t\tplug-unplug-cycles (default 20, or $FBDEV_UNPLUG_ITERATIONS)\n";

int igt_main_args("i:", long_opts, help_str, opt_handler, NULL)
{
	if (!iterations && getenv("FBDEV_UNPLUG_ITERATIONS"))
		iterations = strtoul(getenv("FBDEV_UNPLUG_ITERATIONS"), NULL, 0);
	if (!iterations)
		iterations = DEFAULT_ITERATIONS;

	igt_fixture() {
		pagesz = sysconf(_SC_PAGESIZE);
		/*
		 * fbcon takes over each new vunplug fb; its cursor blink
		 * damages the scanout, which would let a write that deferred
		 * I/O never tracked reach the device by chance.
		 */
		kmstest_set_vt_graphics_mode();
	}

	igt_subtest("aperture-handover")
		test_aperture_handover();
	igt_fixture()
		free_leftovers();

	for (volatile unsigned int i = 0; i < ARRAY_SIZE(per_target); i++) {
		igt_subtest_with_dynamic(per_target[i].name)
			each_target(per_target[i].test, per_target[i].needs);
		igt_fixture()
			free_leftovers();
	}

	igt_subtest("defio-perf")
		test_defio_perf(vunplug_target());
	igt_fixture()
		free_leftovers();
}
