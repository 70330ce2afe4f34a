/* SPDX-License-Identifier: MIT */
/*
 * fbdev_target - DRM devices with an fbdev, and the ways they go away, for
 * the fbdev hot-unplug tests.
 *
 * A target is one device with fbdev emulation and one removal path: the
 * vunplug driver's debugfs unplug, a vkms device disabled through configfs,
 * or a PCI display device removed through sysfs, unbound from its driver or
 * hot-unplugged by the machine. A test runs on one target, which its
 * --removal option and IGT's device filter (--device, $IGT_DEVICE) choose:
 * run_on_target() runs a subtest on it; vdev_add(), vdev_unplug() and
 * vdev_free() bring a device of a target up, make it go away and bring it
 * back, whatever the path. A failed subtest leaves nothing behind:
 * free_leftovers() closes and restores what it left, and aborts the test
 * when a device does not come back.
 */
#ifndef FBDEV_TARGET_H
#define FBDEV_TARGET_H

#ifdef IGT_SUBSET_BUILD
#include "igt_subset.h"	/* libigt, without IGT's headers */
#else
#include "igt.h"
#include "igt_kmod.h"
#include "igt_device_scan.h"
#include "igt_sysfs.h"
#include "igt_vkms.h"
#endif

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fb.h>

#define MAX_DEVICES		64
#define SCANOUT_TIMEOUT_MS	5000	/* damage worker runs after fsync */
#define SIGBUS_TIMEOUT_MS	5000	/* after the unplug has completed */
#define PCI_TIMEOUT_MS		30000	/* a PCI device (re)appearing, with its fb */
#define NEED_SCANOUT	(1 << 0)	/* vunplug's debugfs scanout */
#define NEED_VUNPLUG	(1 << 1)	/* the vunplug module itself */
#define NEED_KMEMLEAK	(1 << 2)	/* a kmemleak baseline, before the watch */

/*
 * A target is one device with fbdev emulation and one removal path, named
 * after both in messages (e.g. bochs-display-unbind).
 */
enum removal {
	REMOVE_VUNPLUG,		/* vunplug's debugfs "unplug"; a new device after */
	REMOVE_VKMS,		/* vkms configfs "enabled" 0; a new device after */
	REMOVE_PCI,		/* PCI sysfs "remove", then a bus "rescan" */
	REMOVE_UNBIND,		/* driver "unbind", then "bind" */
	REMOVE_HOTPLUG,		/* the machine's hot-unplug (FBDEV_UNPLUG_HOTPLUG) */
	REMOVE_COUNT
};

struct target {
	char name[64];		/* <device>-<path> */
	enum removal how;
	char bdf[16];		/* PCI paths: the device's address */
	char driver[32];	/* PCI paths: its driver */
};

/* One device of a target and, once opened, its fbdev node and mapping. */
struct vdev {
	struct target *t;	/* what it is and how it goes away */
	int id;			/* vunplug: platform id, vunplug.<id> */
	igt_vkms_t *vkms;	/* vkms: its configfs device */
	int card;		/* /dev/dri/card<card> */
	int fb;			/* /dev/fb<fb> */
	int debugfs;		/* vunplug: its debugfs directory (unplug, scanout) */
	int fb_fd;
	uint8_t *map;
	size_t map_len;		/* whole pages covering smem_len */
	int npages;
	struct fb_fix_screeninfo fix;
	struct fb_var_screeninfo var;
	bool unplugging;	/* its unplug began (it may not have finished) */
	bool unplugged;
};

/* A way for a device to go away: see removal_paths[] in fbdev_target.c. */
struct removal_path {
	const char *name;		/* --removal's value, and the <path> of a target */
	/* the target's device name, or NULL and why not in @why (skip) */
	const char *(*require)(struct target *t, char *why, size_t size);
	void (*add)(struct vdev *d);	/* a device up, its card in d->card */
	void (*unplug)(struct vdev *d);	/* it goes away (asserted) */
	/* what the subtest took, back; false: the device did not come back */
	bool (*restore)(struct vdev *d);
};

extern const struct removal_path removal_paths[];

/* The tests' --removal option, for their help text. */
#define TARGET_HELP \
	"  -r, --removal=PATH\tHow the device goes away: debugfs (a vunplug\n" \
	"\t\t\tdevice), configfs (a vkms device), or remove, unbind\n" \
	"\t\t\tor device-del of the PCI device --device names\n"


struct scanout {
	uint32_t checksum;
	unsigned long long updates, damage_rects;
	unsigned int width, height;
};

struct fb_lookup {
	int card;
	int fb;
};


struct pci_wait {
	const char *bdf;
	int card;
};


struct gone_wait {
	char path[PATH_MAX];
};


struct scanout_wait {
	struct vdev *d;
	struct scanout before, now;
};


/* Rounds of the repeated subtests (the test's --iterations) and the page size. */
extern unsigned int iterations;
extern size_t pagesz;
/* Called first by free_leftovers(), e.g. to stop programs a subtest started. */
extern void (*leftovers_hook)(void);

bool pipe_wait(int fd, int timeout_ms);
const char *control_path(void);
int write_text(const char *path, const char *text);
int control_write(const char *cmd);
int control_list(int *ids, int *cards, int max);
bool control_lists_id(int id);
long vunplug_delete_module(void);
bool driver_is(int fd, const char *name);
int card_open_driver(int card, const char *driver, int *found);
int card_open(int card);
int fb_index_in(const char *dir_path);
int card_fb_index(int card);
bool fb_appeared(struct fb_lookup *l);
void track(struct vdev *d, bool add);
void fb_open(struct vdev *d);
bool read_text(const char *path, char *buf, size_t size);
bool path_exists(const char *path);
void pci_path(const struct target *t, const char *file, char *out, size_t size);
void pci_drm_parent(const char *bdf, char *out, size_t size);
int pci_card(const char *bdf);
bool pci_has_fb(const char *bdf);
unsigned long sysfs_hex(const char *dir, const char *file);
const char *display_device_name(unsigned long vendor, unsigned long device,
				unsigned long class);
bool pci_slot_hotpluggable(const char *bdf);
int target_opt_handler(const char *arg);
struct target *target_get(void);
bool vunplug_available(void);
bool vkms_available(void);
unsigned int target_iterations(const struct target *t);
bool pci_card_ready(struct pci_wait *w);
int pci_target_up_start(struct target *t);
int pci_target_up(struct target *t);
bool vkms_card(struct fb_lookup *l, const char *name);
void vunplug_add(struct vdev *d);
struct vdev *vdev_add(struct target *t);
void vdev_map(struct vdev *d);
void vdev_unmap(struct vdev *d);
void vdev_close_fb(struct vdev *d);
int write_unplug(int debugfs);
bool path_gone(const char *path);
void assert_nodes_gone(struct vdev *d);
bool gone(struct gone_wait *w);
void vdev_unplug(struct vdev *d);
void vdev_free(struct vdev *d);
void vdev_release(struct vdev *d);
void free_leftovers(void);
bool scanout_read(struct vdev *d, struct scanout *s);
bool scanout_changed(struct scanout_wait *w);
void assert_write_via_reaches_scanout(struct vdev *d, uint8_t *map, int fd,
				      size_t offset, size_t len);
void assert_write_reaches_scanout(struct vdev *d, size_t offset, size_t len);
void sigbus_handler(int sig, siginfo_t *info, void *ctx);
void sigbus_install(void);
bool raises_sigbus(void (*fn)(void *), void *arg);
void read_byte(void *p);
void write_byte(void *p);
int map_faults_missed(uint8_t *map, int npages, bool write, const char *who,
		      int *first);
void assert_no_missed_faults(int missed, int first, int npages, bool write,
			     const char *who);
void assert_map_faults(uint8_t *map, int npages, bool write, const char *who);
void assert_pages_fault(struct vdev *d, bool write, const char *who);
bool scanout_updated(struct scanout_wait *w);
void flush_and_check_wrprotect(struct vdev *d);
void touch_some_pages(struct vdev *d);
void kmsg_watch_close(void);
int kmsg_watch_begin(void);
void kmsg_watch_end(int fd);
void kmsg_watch_finish(void);
const char *kmemleak_path(void);
bool kmemleak_cmd(const char *cmd);
void kmemleak_baseline(void);
void kmemleak_assert_clean(unsigned int cycles);
int subtest_begin(void);
void run_on_target(void (*test)(struct target *t), unsigned int needs);
struct target *vunplug_target(void);
bool hotplug_available(void);
int hotplug_readd(struct target *t);
void hotplug_del(struct target *t);
void fbdev_target_init(void);

#endif /* FBDEV_TARGET_H */
