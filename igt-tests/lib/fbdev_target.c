// SPDX-License-Identifier: MIT
/*
 * fbdev_target - DRM devices with an fbdev, and the ways they go away: see
 * fbdev_target.h.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
#include <xf86drmMode.h>

#include "fbdev_target.h"

unsigned int iterations;
size_t pagesz;
void (*leftovers_hook)(void);

/* Devices still open, so a failed subtest does not leak into the next. */
static struct vdev *open_devs[16];
static pid_t test_pid;		/* the test's process, not a child's */
static bool at_exit;		/* in free_leftovers_at_exit() */
/* /dev/kmsg from kmsg_watch_begin() to _end(); a failed subtest leaves it. */
static int kmsg_fd = -1;

/* --- small utilities ---------------------------------------------------- */

bool pipe_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, timeout_ms) == 1 && read(fd, &c, 1) == 1;
}

/* --- vunplug module control --------------------------------------------- */

const char *control_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/vunplug/control", igt_debugfs_mount());
	return path;
}

/* Writes @text to the (sysfs, debugfs) file at @path; 0 or -errno. */
int write_text(const char *path, const char *text)
{
	int ret = igt_sysfs_write(AT_FDCWD, path, text, strlen(text));

	return ret < 0 ? ret : ret == (int)strlen(text) ? 0 : -EIO;
}

/* Returns 0 or -errno. */
int control_write(const char *cmd)
{
	return write_text(control_path(), cmd);
}

/* Parses "vunplug.<id> <card>" lines; returns the number of devices. */
int control_list(int *ids, int *cards, int max)
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

bool control_lists_id(int id)
{
	int ids[MAX_DEVICES], cards[MAX_DEVICES];
	int n = control_list(ids, cards, MAX_DEVICES);

	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

long vunplug_delete_module(void)
{
	return syscall(SYS_delete_module, "vunplug", O_NONBLOCK);
}

/* --- finding the card and its fbdev --------------------------------------- */

bool driver_is(int fd, const char *name)
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
int card_open_driver(int card, const char *driver, int *found)
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
int card_open(int card)
{
	return card_open_driver(card, "vunplug", NULL);
}

int fb_index_in(const char *dir_path)
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
int card_fb_index(int card)
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

bool fb_appeared(struct fb_lookup *l)
{
	l->fb = card_fb_index(l->card);
	return l->fb >= 0;
}

/* --- devices ------------------------------------------------------------- */

void track(struct vdev *d, bool add)
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

void fb_open(struct vdev *d)
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

#define DEVICE_ITERATIONS	3	/* repeated subtests on a real device */

/* Reads the first line of the file at @path into @buf; false if none. */
bool read_text(const char *path, char *buf, size_t size)
{
	int len = igt_sysfs_read(AT_FDCWD, path, buf, size - 1);

	if (len <= 0)
		return false;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* --- PCI ------------------------------------------------------------------ */

void pci_path(const struct target *t, const char *file, char *out, size_t size)
{
	snprintf(out, size, "/sys/bus/pci/devices/%s%s%s", t->bdf, *file ? "/" : "", file);
}

/*
 * The sysfs directory whose drm/ and graphics/ hold a PCI device's card and
 * fb: the PCI device's own (virtio-gpu, too, parents its DRM device to the
 * PCI device), or that of a child device whose driver registered the card.
 */
void pci_drm_parent(const char *bdf, char *out, size_t size)
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
int pci_card(const char *bdf)
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

bool pci_has_fb(const char *bdf)
{
	char path[PATH_MAX], parent[PATH_MAX];

	pci_drm_parent(bdf, parent, sizeof(parent));
	snprintf(path, sizeof(path), "%.4000s/graphics", parent);
	return fb_index_in(path) >= 0;
}

unsigned long sysfs_hex(const char *dir, const char *file)
{
	char path[PATH_MAX], text[32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return 0;
	return read_text(path, text, sizeof(text)) ? strtoul(text, NULL, 16) : 0;
}

/*
 * The name of the display device with these PCI ids (those that virtual
 * machines emulate), so that results name the device and not only its
 * driver, which drives several.
 */
const char *display_device_name(unsigned long vendor, unsigned long device,
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

/* Whether ACPI hotplug (acpiphp) manages the slot of @bdf. */
bool pci_slot_hotpluggable(const char *bdf)
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

bool vunplug_available(void)
{
	if (!igt_debugfs_mount())
		return false;
	if (access(control_path(), F_OK))
		igt_kmod_load("vunplug", NULL);
	return access(control_path(), W_OK) == 0;
}

#define VKMS_CONFIGFS	"/sys/kernel/config/vkms"

bool vkms_available(void)
{
	if (access(VKMS_CONFIGFS, F_OK)) {
		igt_kmod_load("vkms", "create_default_dev=0");
		if (access("/sys/kernel/config", F_OK) == 0 &&
		    access(VKMS_CONFIGFS, F_OK))
			mount("configfs", "/sys/kernel/config", "configfs", 0, NULL);
	}
	return access(VKMS_CONFIGFS, W_OK) == 0;
}

/*
 * The target of this run: --removal names the path and, for the paths that
 * remove an existing device, the device filter of --device or $IGT_DEVICE
 * names the device. Without --removal: unbind when a device is named, else
 * a vunplug device, else a vkms one.
 */
static int removal_opt = -1;
static struct target target;
static char target_skip[256];	/* why there is no target, once tried */

/* The removal path called @name, for the tests' --removal; -1 if none. */
static int removal_by_name(const char *name)
{
	for (int how = 0; how < REMOVE_COUNT; how++)
		if (!strcmp(name, removal_paths[how].name))
			return how;
	return -1;
}

/* The tests' --removal option: IGT's option handler result. */
int target_opt_handler(const char *arg)
{
	removal_opt = removal_by_name(arg);
	if (removal_opt >= 0)
		return IGT_OPT_HANDLER_SUCCESS;
	fprintf(stderr, "--removal %s: not a removal path; one of", arg);
	for (int how = 0; how < REMOVE_COUNT; how++)
		fprintf(stderr, " %s", removal_paths[how].name);
	fprintf(stderr, "\n");
	return IGT_OPT_HANDLER_ERROR;
}

/*
 * The PCI device that IGT's device filter @filter names, in @bdf: the forms
 * drm:/dev/dri/cardN and pci:slot=BDF.
 */
static bool filter_pci_device(const char *filter, char *bdf, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;

	if (!strncmp(filter, "pci:slot=", 9)) {
		snprintf(bdf, size, "%.*s", (int)strcspn(filter + 9, ","), filter + 9);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
		return path_exists(path);
	}
	if (strncmp(filter, "drm:", 4) || stat(filter + 4, &st) || !S_ISCHR(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(path, real))
		return false;
	/* the card's parent, or the PCI device above it (virtio-gpu) */
	while ((slash = strrchr(real, '/')) && slash != real) {
		if (!strncmp(real, "/sys/devices/pci", 16) &&
		    sysfs_hex(real, "class") >> 16 == 0x03) {
			snprintf(bdf, size, "%s", slash + 1);
			return true;
		}
		*slash = '\0';
	}
	return false;
}

/*
 * The removal paths' requirements: whether the target @t, whose path
 * t->how is, can go that way on this machine. Each returns the name of
 * the target's device, or NULL with the reason in @why (the subtests then
 * skip).
 */
static const char *module_require(struct target *t, const char *module, bool ok,
				  char *why, size_t size)
{
	if (ok)
		return module;
	snprintf(why, size, "no %s device: the %s module did not load, or its %s is missing\n",
		 module, module, removal_paths[t->how].name);
	return NULL;
}

static const char *vunplug_require(struct target *t, char *why, size_t size)
{
	return module_require(t, "vunplug", vunplug_available(), why, size);
}

static const char *vkms_require(struct target *t, char *why, size_t size)
{
	return module_require(t, "vkms", vkms_available(), why, size);
}

/* The PCI display device the device filter names, with its card and fb. */
static const char *pci_require(struct target *t, char *why, size_t size)
{
	const char *filter = igt_device_filter_count() ? igt_device_filter_get(0) : NULL;
	const char *path = removal_paths[t->how].name;
	char link[PATH_MAX], drv[PATH_MAX];
	struct pci_wait w;
	ssize_t len;

	if (!filter) {
		snprintf(why, size,
			 "--removal %s needs a PCI display device named by --device or $IGT_DEVICE (drm:/dev/dri/cardN or pci:slot=BDF)\n",
			 path);
		return NULL;
	}
	if (!filter_pci_device(filter, t->bdf, sizeof(t->bdf))) {
		snprintf(why, size,
			 "the device filter %s names no PCI display device here (--removal %s takes drm:/dev/dri/cardN or pci:slot=BDF)\n",
			 filter, path);
		return NULL;
	}
	pci_path(t, "driver", link, sizeof(link));
	len = readlink(link, drv, sizeof(drv) - 1);
	w.bdf = t->bdf;
	if (len <= 0 || !igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20)) {
		snprintf(why, size, "%s has no driver with a DRM card and an fbdev\n", t->bdf);
		return NULL;
	}
	drv[len] = '\0';
	snprintf(t->driver, sizeof(t->driver), "%s", strrchr(drv, '/') + 1);
	pci_path(t, "", link, sizeof(link));
	return display_device_name(sysfs_hex(link, "vendor"), sysfs_hex(link, "device"),
				   sysfs_hex(link, "class")) ?: t->driver;
}

static const char *hotplug_require(struct target *t, char *why, size_t size)
{
	const char *device = pci_require(t, why, size);

	if (device && (!hotplug_available() || !pci_slot_hotpluggable(t->bdf))) {
		snprintf(why, size,
			 "%s cannot be hot-unplugged: its slot has no ACPI hot-plug, or $FBDEV_UNPLUG_HOTPLUG names no working helper\n",
			 t->bdf);
		return NULL;
	}
	return device;
}

static bool target_pick(void)
{
	int how = removal_opt;
	const char *device;

	if (how < 0)
		how = igt_device_filter_count() ? REMOVE_UNBIND :
		      vunplug_available() ? REMOVE_VUNPLUG : REMOVE_VKMS;
	target.how = how;
	device = removal_paths[how].require(&target, target_skip, sizeof(target_skip));
	if (!device)
		return false;
	snprintf(target.name, sizeof(target.name), "%s-%s", device,
		 removal_paths[how].name);
	igt_info("target: %s%s%s\n", target.name, target.bdf[0] ? " at " : "",
		 target.bdf);
	return true;
}

/*
 * The target every subtest of this run uses, found once (loading vunplug
 * or vkms, or waiting for the named device's card and fbdev); skips the
 * subtest when there is none.
 */
struct target *target_get(void)
{
	static int found;

	if (!found)
		found = target_pick() ? 1 : -1;
	igt_require_f(found > 0, "%s", target_skip);
	return &target;
}

/* Rounds of a repeated subtest: all on vunplug, a few on the other devices. */
unsigned int target_iterations(const struct target *t)
{
	if (t->how == REMOVE_VUNPLUG)
		return iterations;
	return iterations < DEVICE_ITERATIONS ? iterations : DEVICE_ITERATIONS;
}

/* --- bringing a device up ------------------------------------------------- */

bool pci_card_ready(struct pci_wait *w)
{
	w->card = pci_card(w->bdf);
	return w->card >= 0 && pci_has_fb(w->bdf);
}

/*
 * The machine's PCI hot-unplug: a program that removes a PCI device the way
 * the machine would (an ACPI eject) and plugs it back, named by
 * $FBDEV_UNPLUG_HOTPLUG and called as "probe" (exit status 0: it can),
 * "del BDF" and "add BDF" (prints the address the device came back at).
 * Without one, there are no device-del targets.
 */
static const char *hotplug_helper(void)
{
	const char *helper = getenv("FBDEV_UNPLUG_HOTPLUG");

	return helper && *helper ? helper : NULL;
}

bool hotplug_available(void)
{
	char cmd[PATH_MAX + 8];

	if (!hotplug_helper())
		return false;
	snprintf(cmd, sizeof(cmd), "%s probe", hotplug_helper());
	return igt_system(cmd) == 0;
}

/*
 * Plugs the device of @t back, at the address the helper prints (@t's bdf
 * follows it).
 * 0, or -EIO when the helper failed (it said why on stderr).
 */
int hotplug_readd(struct target *t)
{
	char cmd[PATH_MAX + 32], bdf[32] = "";
	int status;
	FILE *out;

	if (!hotplug_helper())
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "%s add %s", hotplug_helper(), t->bdf);
	fflush(NULL);
	out = popen(cmd, "re");
	if (!out)
		return -errno;
	if (!fgets(bdf, sizeof(bdf), out))
		bdf[0] = '\0';
	status = pclose(out);
	bdf[strcspn(bdf, "\n")] = '\0';
	if (status != 0 || strlen(bdf) != strlen(t->bdf)) {
		igt_warn("%s failed (status %d, printed \"%s\")\n", cmd, status, bdf);
		return -EIO;
	}
	igt_debug("%s: the device came back at %s\n", cmd, bdf);
	snprintf(t->bdf, sizeof(t->bdf), "%s", bdf);
	return 0;
}

/*
 * Starts bringing a PCI target's device back, if it is gone from the bus
 * (rescan, or the machine's hot-plug) or there without its driver (bind):
 * 0 or -errno of the sysfs write.
 */
int pci_target_up_start(struct target *t)
{
	char path[PATH_MAX];
	int ret = 0;

	pci_path(t, "", path, sizeof(path));
	if (!path_exists(path)) {
		if (t->how == REMOVE_HOTPLUG)
			ret = hotplug_readd(t);
		else
			ret = write_text("/sys/bus/pci/rescan", "1");
	} else {
		pci_path(t, "driver", path, sizeof(path));
		if (!path_exists(path)) {
			snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", t->driver);
			ret = write_text(path, t->bdf);
		}
	}
	return ret;
}

/* Brings a PCI target's device back (if gone) and waits for its fb. */
int pci_target_up(struct target *t)
{
	struct pci_wait w;
	int ret = pci_target_up_start(t);

	igt_assert_f(ret == 0, "bringing %s back failed: %s\n", t->bdf, strerror(-ret));
	w.bdf = t->bdf;
	igt_assert_f(igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20),
		     "%s (%s): no DRM card with an fbdev %d s after bringing it back\n",
		     t->bdf, t->driver, PCI_TIMEOUT_MS / 1000);
	return w.card;
}

/* A vkms device with one pipeline, made through configfs. */
bool vkms_card(struct fb_lookup *l, const char *name)
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
void vunplug_add(struct vdev *d)
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
struct vdev *vdev_add(struct target *t)
{
	struct vdev *d = calloc(1, sizeof(*d));
	struct fb_lookup lookup;

	igt_assert(d);
	d->t = t;
	d->id = -1;
	d->fb_fd = -1;
	d->debugfs = -1;
	track(d, true);
	removal_paths[t->how].add(d);

	lookup.card = d->card;
	igt_assert_f(igt_wait(fb_appeared(&lookup), 2000, 5),
		     "no fbdev for card%d: neither /sys/class/drm/card%d/device/graphics/fb* nor a /sys/class/graphics/fb*/device sharing its parent (CONFIG_DRM_FBDEV_EMULATION?)\n",
		     d->card, d->card);
	d->fb = lookup.fb;
	fb_open(d);
	return d;
}

void vdev_map(struct vdev *d)
{
	void *p = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fb_fd, 0);

	igt_assert_f(p != MAP_FAILED, "mmap of /dev/fb%d (%zu bytes): %m\n",
		     d->fb, d->map_len);
	d->map = p;
}

void vdev_unmap(struct vdev *d)
{
	igt_assert_f(munmap(d->map, d->map_len) == 0,
		     "munmap of /dev/fb%d: %m\n", d->fb);
	d->map = NULL;
}

void vdev_close_fb(struct vdev *d)
{
	igt_assert_f(close(d->fb_fd) == 0, "close of /dev/fb%d: %m\n", d->fb);
	d->fb_fd = -1;
}

int write_unplug(int debugfs)
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

bool path_gone(const char *path)
{
	return access(path, F_OK) && errno == ENOENT;
}

/*
 * After unplug + sync, user space sees the card and the fb gone: their
 * sysfs devices at once, their /dev nodes once devtmpfs has caught up.
 */
void assert_nodes_gone(struct vdev *d)
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

bool gone(struct gone_wait *w)
{
	return path_gone(w->path);
}

/* Hot-unplugs the device of @t; returns once the kernel let go of it. */
void hotplug_del(struct target *t)
{
	char cmd[PATH_MAX + 32];
	struct gone_wait w;

	igt_assert_f(hotplug_helper(), "FBDEV_UNPLUG_HOTPLUG is not set\n");
	snprintf(cmd, sizeof(cmd), "%s del %s", hotplug_helper(), t->bdf);
	igt_assert_f(igt_system(cmd) == 0, "%s failed\n", cmd);
	pci_path(t, "", w.path, sizeof(w.path));
	igt_assert_f(igt_wait(gone(&w), PCI_TIMEOUT_MS, 20),
		     "%s is still there %d s after %s del (does the machine's eject reach the kernel?)\n",
		     w.path, PCI_TIMEOUT_MS / 1000, hotplug_helper());
}

/* --- the removal paths ----------------------------------------------------- */

static void vunplug_unplug(struct vdev *d)
{
	int ret = write_unplug(d->debugfs);

	igt_assert_f(ret == 0, "writing 1 to card%d's unplug failed: %s\n",
		     d->card, strerror(-ret));
	d->unplugged = true;
	ret = control_write("sync");
	igt_assert_f(ret == 0, "writing \"sync\" to %s failed: %s\n",
		     control_path(), strerror(-ret));
	igt_assert_f(!control_lists_id(d->id),
		     "vunplug.%d is still listed in %s after unplug + sync\n",
		     d->id, control_path());
}

static bool vunplug_restore(struct vdev *d)
{
	if (!d->unplugged && d->debugfs >= 0 && write_unplug(d->debugfs) == 0)
		control_write("sync");
	return true;
}

/* A vkms device with one pipeline, made and enabled through configfs. */
static void vkms_add(struct vdev *d)
{
	static int seq;
	struct fb_lookup lookup;
	char name[64];

	snprintf(name, sizeof(name), "fbdev_unplug-%d-%d", getpid(), ++seq);
	d->vkms = igt_vkms_device_create(name);
	igt_assert_f(d->vkms, "cannot make the vkms device %s in configfs\n", name);
	igt_vkms_device_add_plane(d->vkms, "plane0");
	igt_vkms_plane_set_type(d->vkms, "plane0", DRM_PLANE_TYPE_PRIMARY);
	igt_vkms_device_add_crtc(d->vkms, "crtc0");
	igt_vkms_device_add_encoder(d->vkms, "encoder0");
	igt_vkms_device_add_connector(d->vkms, "connector0");
	igt_assert(igt_vkms_plane_attach_crtc(d->vkms, "plane0", "crtc0"));
	igt_assert(igt_vkms_encoder_attach_crtc(d->vkms, "encoder0", "crtc0"));
	igt_assert(igt_vkms_connector_attach_encoder(d->vkms, "connector0", "encoder0"));
	igt_vkms_device_set_enabled(d->vkms, true);
	igt_assert_f(vkms_card(&lookup, name),
		     "vkms device %s: no /sys/devices/faux/%s/drm/card*\n", name, name);
	d->card = lookup.card;
}

static void vkms_unplug(struct vdev *d)
{
	igt_vkms_device_set_enabled(d->vkms, false);
}

/*
 * Disables the device if the subtest did not, and removes its configfs
 * tree. igt_vkms_device_destroy() asserts: a vkms device that cannot be
 * removed fails the fixture that frees the leftovers, and with it every
 * later subtest, rather than letting them run next to it.
 */
static bool vkms_restore(struct vdev *d)
{
	/* (at exit: left in configfs, as the teardown asserts) */
	if (!d->vkms || at_exit)
		return true;
	igt_vkms_device_destroy(d->vkms);
	d->vkms = NULL;
	return true;
}

static void pci_add(struct vdev *d)
{
	d->card = pci_target_up(d->t);
}

static void pci_remove(struct vdev *d)
{
	char path[PATH_MAX];
	int ret;

	pci_path(d->t, "remove", path, sizeof(path));
	ret = write_text(path, "1");
	igt_assert_f(ret == 0, "writing 1 to %s failed: %s\n", path, strerror(-ret));
}

static void pci_unbind(struct vdev *d)
{
	char path[PATH_MAX];
	int ret;

	pci_path(d->t, "driver/unbind", path, sizeof(path));
	ret = write_text(path, d->t->bdf);
	igt_assert_f(ret == 0, "writing %s to %s failed: %s\n", d->t->bdf, path,
		     strerror(-ret));
}

static void pci_hotplug_del(struct vdev *d)
{
	hotplug_del(d->t);
}

/*
 * Brings the PCI device of @d back, whatever took it (pci_target_up()
 * knows: gone from the bus, or there without a driver); false when it
 * does not come back with a card and an fb.
 */
static bool pci_restore(struct vdev *d)
{
	struct pci_wait w = { .bdf = d->t->bdf };

	/* (an unplug that a failure or a signal interrupted may have gone through) */
	if (!d->unplugging)
		return true;
	pci_target_up_start(d->t);	/* a failed write shows as no device */
	return igt_wait(pci_card_ready(&w), PCI_TIMEOUT_MS, 20);
}

/*
 * The ways a device goes away, indexed by enum removal: whether a target
 * can go that way here (names its device), how a device of the target is
 * brought up (sets card), made to go away (asserts that it did), and,
 * best effort, after a subtest that passed or failed, how what the
 * subtest took is given back. A new path is one more row and its
 * functions; --removal takes its name (see removal_by_name()).
 */
const struct removal_path removal_paths[] = {
	[REMOVE_VUNPLUG] = { "debugfs", vunplug_require, vunplug_add, vunplug_unplug,
			     vunplug_restore },
	[REMOVE_VKMS] = { "configfs", vkms_require, vkms_add, vkms_unplug, vkms_restore },
	[REMOVE_PCI] = { "remove", pci_require, pci_add, pci_remove, pci_restore },
	[REMOVE_UNBIND] = { "unbind", pci_require, pci_add, pci_unbind, pci_restore },
	[REMOVE_HOTPLUG] = { "device-del", hotplug_require, pci_add, pci_hotplug_del,
			     pci_restore },
};

/* Removes the device the way its target says, and checks its nodes went. */
void vdev_unplug(struct vdev *d)
{
	d->unplugging = true;
	removal_paths[d->t->how].unplug(d);
	d->unplugged = true;
	assert_nodes_gone(d);
}

/*
 * Best effort, also for devices left behind by a failed subtest: closes
 * what is open, removes what the subtest added (vunplug, vkms) and brings
 * back what it removed (PCI). A device that does not come back aborts the
 * test: every later subtest would run without it.
 */
void vdev_free(struct vdev *d)
{
	struct target *t = d->t;
	bool back;

	if (d->map)
		munmap(d->map, d->map_len);
	d->map = NULL;
	if (d->fb_fd >= 0)
		close(d->fb_fd);
	d->fb_fd = -1;
	/* a restore that fails must not leave @d to be freed again */
	track(d, false);
	back = removal_paths[d->t->how].restore(d);
	if (d->debugfs >= 0)
		close(d->debugfs);
	free(d);
	if (!back && at_exit) {
		/* no igt_abort_on_f(): it would exit() and run the handlers again */
		dprintf(STDERR_FILENO, "%s%s%s did not come back\n", t->name,
			t->bdf[0] ? " at " : "", t->bdf);
		_exit(IGT_EXIT_ABORT);
	}
	igt_abort_on_f(!back,
		       "%s%s%s did not come back: every later subtest would run without it\n",
		       t->name, t->bdf[0] ? " at " : "", t->bdf);
}

/* Unmaps (if mapped) and closes the fb, checking both, then frees @d. */
void vdev_release(struct vdev *d)
{
	if (d->map)
		vdev_unmap(d);
	vdev_close_fb(d);
	vdev_free(d);
}

void free_leftovers(void)
{
	if (leftovers_hook)
		leftovers_hook();
	kmsg_watch_close();
	for (unsigned int i = 0; i < ARRAY_SIZE(open_devs); i++)
		if (open_devs[i])
			vdev_free(open_devs[i]);
}

/* --- scanout ------------------------------------------------------------- */

bool scanout_read(struct vdev *d, struct scanout *s)
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

bool scanout_changed(struct scanout_wait *w)
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
void assert_write_via_reaches_scanout(struct vdev *d, uint8_t *map, int fd,
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

void assert_write_reaches_scanout(struct vdev *d, size_t offset, size_t len)
{
	assert_write_via_reaches_scanout(d, d->map, d->fb_fd, offset, len);
}

/* --- SIGBUS probing ------------------------------------------------------ */

static __thread sigjmp_buf *volatile sigbus_jmp;
static struct sigaction saved_sigbus;

void sigbus_handler(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)info;
	(void)ctx;
	if (sigbus_jmp)
		siglongjmp(*sigbus_jmp, 1);
	/* Not expected here: let the previous (igt) handler report it. */
	sigaction(SIGBUS, &saved_sigbus, NULL);
}

void sigbus_install(void)
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
bool raises_sigbus(void (*fn)(void *), void *arg)
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

void read_byte(void *p)
{
	(void)*(volatile uint8_t *)p;
}

void write_byte(void *p)
{
	*(volatile uint8_t *)p = 0x5a;
}

/*
 * Touches every page of @map and returns how many pages
 * did not raise SIGBUS; the first of them in @first.
 */
int map_faults_missed(uint8_t *map, int npages, bool write, const char *who,
		      int *first)
{
	int missed = 0;

	*first = -1;
	sigbus_install();
	for (int i = 0; i < npages; i++) {
		if (raises_sigbus(write ? write_byte : read_byte, map + i * pagesz))
			continue;
		if (*first < 0)
			*first = i;
		missed++;
	}
	igt_debug("%s%s after unplug: SIGBUS on %d of %d pages\n",
		  who, write ? "write" : "read", npages - missed, npages);
	return missed;
}

void assert_no_missed_faults(int missed, int first, int npages, bool write,
			     const char *who)
{
	errno = 0;	/* a stale errno would only confuse the report */
	igt_assert_f(missed == 0,
		     "%spage %d of %d: %s after unplug did not raise SIGBUS (%d pages did not)\n",
		     who, first, npages, write ? "write" : "read", missed);
}

/* Every page of @map must raise SIGBUS on a read or a write. */
void assert_map_faults(uint8_t *map, int npages, bool write, const char *who)
{
	int first, missed = map_faults_missed(map, npages, write, who, &first);

	assert_no_missed_faults(missed, first, npages, write, who);
}

void assert_pages_fault(struct vdev *d, bool write, const char *who)
{
	assert_map_faults(d->map, d->npages, write, who);
}

bool scanout_updated(struct scanout_wait *w)
{
	return scanout_read(w->d, &w->now) && w->now.updates > w->before.updates;
}

/*
 * Flush @d's deferred I/O: when fsync() returns, the deferred work has run
 * and write-protected the written pages again. A second write to page 0,
 * written before, must then be tracked and reach the device.
 */
void flush_and_check_wrprotect(struct vdev *d)
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
void touch_some_pages(struct vdev *d)
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

void kmsg_watch_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

int kmsg_watch_begin(void)
{
	kmsg_watch_close();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	igt_assert_f(kmsg_fd >= 0, "cannot open /dev/kmsg: %m\n");
	lseek(kmsg_fd, 0, SEEK_END);
	return kmsg_fd;
}

/* Fails on any kernel report logged since kmsg_watch_begin(). */
void kmsg_watch_end(int fd)
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

/* Ends the watch that run_on_target() began, unless the test ended it. */
void kmsg_watch_finish(void)
{
	if (kmsg_fd >= 0)
		kmsg_watch_end(kmsg_fd);
}

/* --- kmemleak ------------------------------------------------------------ */

const char *kmemleak_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/kmemleak", igt_debugfs_mount());
	return path;
}

bool kmemleak_cmd(const char *cmd)
{
	int fd = open(kmemleak_path(), O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd);
	close(fd);
	return ok;
}

/* The start of kmemleak's report, in @buf: its length (0: no leak). */
static ssize_t kmemleak_report(char *buf, size_t size)
{
	ssize_t len;
	int fd = open(kmemleak_path(), O_RDONLY | O_CLOEXEC);

	igt_assert_f(fd >= 0, "cannot open %s: %m\n", kmemleak_path());
	len = read(fd, buf, size - 1);
	close(fd);
	igt_assert_f(len >= 0, "reading %s failed: %m\n", kmemleak_path());
	buf[len] = '\0';
	return len;
}

/*
 * Forget leaks that predate the subtest, after logging them (they are
 * another subtest's, or the boot's); skip without kmemleak.
 */
void kmemleak_baseline(void)
{
	char buf[4096];

	igt_require_f(access(kmemleak_path(), W_OK) == 0,
		      "kmemleak is unavailable (%s: %m): CONFIG_DEBUG_KMEMLEAK and a mounted debugfs are needed to check for leaks\n",
		      kmemleak_path());
	if (!kmemleak_cmd("scan"))
		/* kmemleak_write() refuses everything once kmemleak is off */
		igt_require_f(errno != EPERM,
			      "kmemleak is disabled (kmemleak=off, or it turned itself off): no leak check possible\n");
	igt_assert_f(kmemleak_cmd("scan"), "kmemleak baseline scan failed: %m\n");
	if (kmemleak_report(buf, sizeof(buf)))
		igt_info("kmemleak: leaks before this subtest (not its own):\n%s\n", buf);
	igt_assert_f(kmemleak_cmd("clear"), "kmemleak clear failed: %m\n");
}

void kmemleak_assert_clean(unsigned int cycles)
{
	char buf[4096];

	/*
	 * kmemleak reports no object younger than its fixed minimum age of
	 * 5 s, and nothing tells when that has passed: wait it out.
	 */
	sleep(6);
	igt_assert_f(kmemleak_cmd("scan") && kmemleak_cmd("scan"),
		     "kmemleak scan failed: %m\n");
	igt_assert_f(kmemleak_report(buf, sizeof(buf)) == 0,
		     "kmemleak reports leaks after %u plug/unplug cycles:\n%s\n",
		     cycles, buf);
}

int subtest_begin(void)
{
	free_leftovers();
	return kmsg_watch_begin();
}

/*
 * Runs @test in the current subtest on the run's target, if it has what the
 * test needs, with the leftovers of the last subtest freed and the kernel
 * log watched: a kernel report while it runs fails it (see
 * kmsg_watch_end()).
 */
void run_on_target(void (*test)(struct target *t), unsigned int needs)
{
	struct target *t = target_get();

	igt_require_f(!(needs & (NEED_SCANOUT | NEED_VUNPLUG)) || t->how == REMOVE_VUNPLUG,
		      "this subtest reads vunplug's scanout or unloads vunplug: --removal debugfs only\n");
	/* its scan may log old leaks: before the watch */
	if (needs & NEED_KMEMLEAK)
		kmemleak_baseline();
	subtest_begin();
	test(t);
	kmsg_watch_finish();
}

/* The vunplug target, whatever --removal says (fbdev_defio_perf). */
struct target *vunplug_target(void)
{
	static struct target vunplug = { .name = "vunplug-debugfs", .how = REMOVE_VUNPLUG };

	igt_require_f(vunplug_available(),
		      "no vunplug device: the vunplug module did not load\n");
	return &vunplug;
}

/*
 * Whatever ends the test before its fixtures ran (igt_runner's timeout
 * sends SIGQUIT, an abort, a fatal signal), what a subtest took is given
 * back for the tests after it, as the fixture after each subtest does:
 * a PCI device comes back, vunplug devices go, programs are stopped. In a
 * signal handler, so best effort: nothing in it may exit() or fail the
 * test (see vdev_free(), vkms_restore()), and a signal that lands
 * inside malloc() or stdio can hang it until igt_runner's SIGKILL. A
 * child forked without IGT (fbdev_programs' programs, before their exec)
 * has the handler too, but not the devices: it returns.
 */
static void free_leftovers_at_exit(int sig)
{
	if (getpid() != test_pid)
		return;
	at_exit = true;
	free_leftovers();
}

/* Once per test, in its first fixture. */
void fbdev_target_init(void)
{
	pagesz = sysconf(_SC_PAGESIZE);
	test_pid = getpid();
	igt_install_exit_handler(free_leftovers_at_exit);
	/*
	 * fbcon takes over each new vunplug fb; its cursor blink damages the
	 * scanout, which would let a write that deferred I/O never tracked
	 * reach the device by chance.
	 */
	kmstest_set_vt_graphics_mode();
}
