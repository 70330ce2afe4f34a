// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfbdefio - a virtual framebuffer with deferred I/O, for testing removal
 *
 * Each device is a plain fbdev framebuffer, without DRM, in vmalloc'ed
 * system memory and with fbdev deferred I/O: what user space writes through
 * a mapping of /dev/fbN, with write() or through drawing operations reaches
 * the device only when the deferred work runs. The work copies the written
 * pages of the screen buffer into a second buffer, the device's scanout,
 * whose checksum debugfs shows. This comment is the one description of the
 * module's interface.
 *
 * The point of the device is its removal. The legacy drivers that use
 * deferred I/O drive e-paper controllers, SuperH LCD controllers and USB
 * displays, hardware that QEMU cannot emulate, and each of them tears down
 * deferred I/O in its own order relative to unregister_framebuffer(). So
 * each device follows the removal of one of those drivers, its lifecycle,
 * chosen when the device is added:
 *
 * unreg-cleanup
 *	unregister_framebuffer(), then fb_deferred_io_cleanup(): the order of
 *	broadsheetfb_remove(), metronomefb_remove() and ssd1307fb, and of
 *	udlfb, whose disconnect unregisters the framebuffer while its deferred
 *	I/O lives on until the last file is released.
 * cleanup-unreg
 *	fb_deferred_io_cleanup(), then unregister_framebuffer(), the order of
 *	hecubafb_remove() and xenfb_remove(). In between, the driver queues an
 *	update while info->fbdefio is still set, as a drawing operation of
 *	sh_mobile_lcdcfb does through sh_mobile_lcdc_deferred_io_touch(): it
 *	schedules the deferred work without delay and flushes it.
 * driver-flush
 *	unregister_framebuffer(), then the stop of sh_mobile_lcdc_remove():
 *	schedule the deferred work without delay, wait up to 2 seconds for the
 *	frame end that the deferred-I/O callback signals, as the LCDC's frame
 *	end interrupt does, fb_deferred_io_cleanup() and clear info->fbdefio.
 * reinit
 *	removed as driver-flush. In addition, fb_set_par() stops deferred I/O
 *	as above and initializes it again, as sh_mobile_lcdc_set_par() does,
 *	while files and mappings of the framebuffer may be open. The other
 *	lifecycles ignore fb_set_par().
 *
 * Unlike the drivers it mirrors, the device never frees its fb_info and
 * buffers in the removal itself: fb_destroy frees them, after the
 * framebuffer is unregistered and its last file is closed. When fb_destroy
 * runs within unregister_framebuffer(), because no file is open, they are
 * freed once the rest of the removal is done with them. So user space that
 * holds files and mappings across a removal cannot make the device itself
 * use freed memory: what goes wrong is down to the lifecycle and the fbdev
 * core.
 *
 * Module parameters: width and height (of the display, default 640x480,
 * XRGB8888), delay_ms (the deferred-I/O delay, default 1000; long, so that
 * a write that is followed at once by a removal is still pending then).
 *
 * Interface, in debugfs and for root only:
 *
 * /sys/kernel/debug/vfbdefio/control
 *	read:	one line per device added since the module was loaded, removed
 *		devices included:
 *		"<id> fb<node> <lifecycle> <live|removed> checksum=<crc>
 *		 updates=<updates> timeouts=<timeouts> remove_ms=<ms>"
 *		on one line, where <node> is N of /dev/fbN; <crc> is 8 hex
 *		digits, the CRC-32 of the whole scanout buffer (fix.smem_len
 *		bytes) as zlib's crc32() computes it; <updates> counts the
 *		calls of the deferred-I/O callback, <timeouts> the waits for a
 *		frame end that gave up (in a removal or in fb_set_par()), and
 *		<ms> is how long the removal took, 0 until the device is
 *		removed. Once the buffers are freed, the checksum is the one
 *		they had then.
 *	"add <lifecycle>":
 *		creates a device that follows <lifecycle> and returns once its
 *		framebuffer is registered. Devices are numbered from 0 up.
 *	"remove <id>":
 *		removes device <id> following its lifecycle and returns once
 *		the removal is complete. Fails with -ETIMEDOUT if the wait for
 *		the frame end timed out, after completing the removal all the
 *		same, and with -ENODEV if there is no such device or it was
 *		removed already.
 *	A trailing newline is optional; any other input, or input longer
 *	than 63 bytes, fails with -EINVAL and changes nothing.
 *
 * Unloading the module removes all live devices. It can be unloaded
 * whenever no file of one of its framebuffers is open; a mapping keeps
 * its file open.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/crc32.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device/faux.h>
#include <linux/fb.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/kstrtox.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define DRIVER_NAME		"vfbdefio"
#define DRIVER_DESC		"Virtual deferred-I/O framebuffer for testing removal"

#define VFBDEFIO_BPP		32
#define VFBDEFIO_MIN_SIZE	16
#define VFBDEFIO_MAX_SIZE	8192

/* How long a stop waits for the frame end, as sh_mobile_lcdc_stop() does */
#define VFBDEFIO_FRAME_END_TIMEOUT_MS	2000

/* Longest input accepted by the control file */
#define VFBDEFIO_MAX_INPUT	63

static unsigned int vfbdefio_width = 640;
module_param_named(width, vfbdefio_width, uint, 0444);
MODULE_PARM_DESC(width, "Width of the display in pixels (default: 640)");

static unsigned int vfbdefio_height = 480;
module_param_named(height, vfbdefio_height, uint, 0444);
MODULE_PARM_DESC(height, "Height of the display in pixels (default: 480)");

static unsigned int vfbdefio_delay_ms = 1000;
module_param_named(delay_ms, vfbdefio_delay_ms, uint, 0444);
MODULE_PARM_DESC(delay_ms, "Deferred-I/O delay in milliseconds (default: 1000)");

enum vfbdefio_lifecycle {
	VFBDEFIO_UNREG_CLEANUP,
	VFBDEFIO_CLEANUP_UNREG,
	VFBDEFIO_DRIVER_FLUSH,
	VFBDEFIO_REINIT,
};

static const char * const vfbdefio_lifecycle_names[] = {
	[VFBDEFIO_UNREG_CLEANUP] = "unreg-cleanup",
	[VFBDEFIO_CLEANUP_UNREG] = "cleanup-unreg",
	[VFBDEFIO_DRIVER_FLUSH] = "driver-flush",
	[VFBDEFIO_REINIT] = "reinit",
};

/**
 * struct vfbdefio_dev - one device and the module's bookkeeping of it
 * @node: entry in vfbdefio_devices, protected by vfbdefio_lock
 * @id: the device's number
 * @fb_node: N of /dev/fbN
 * @lifecycle: how the device is removed
 * @xres: width of the display in pixels
 * @yres: height of the display in pixels
 * @size: size of each buffer, the framebuffer's fix.smem_len
 * @live: set while the device is registered, protected by vfbdefio_lock
 * @remove_ms: duration of the last removal, protected by vfbdefio_lock
 * @fb_ref: references to @info and the buffers: one held from registration
 *	until fb_destroy, one by a running removal
 * @lock: protects @info, @screen, @scanout, @checksum, @updates and
 *	@timeouts; taken by the deferred-I/O callback, so never held while
 *	waiting for the deferred work
 * @info: the framebuffer, NULL once freed
 * @screen: the screen buffer that user space draws into
 * @scanout: what the device shows, updated by the deferred-I/O callback
 * @checksum: CRC-32 of @scanout at the time it was freed
 * @updates: calls of the deferred-I/O callback
 * @timeouts: waits for a frame end that timed out
 * @defio_lock: serializes stopping and starting deferred I/O between
 *	removal and fb_set_par(); protects @defio_live and @removed
 * @defio_live: set between fb_deferred_io_init() and
 *	fb_deferred_io_cleanup()
 * @removed: set once removal begins; fb_set_par() leaves deferred I/O
 *	alone from then on
 * @frame_end: set by the deferred-I/O callback, like the LCDC's frame end
 *	interrupt, for driver-flush and reinit
 * @frame_end_wait: waits for @frame_end
 * @defio: the deferred-I/O parameters of the framebuffer
 * @pseudo_palette: the console's colors in XRGB8888
 *
 * The structure is owned by the module: it stays on the list, also after
 * the device is removed and the framebuffer is freed, until module unload.
 */
struct vfbdefio_dev {
	struct list_head node;
	unsigned int id;
	int fb_node;
	enum vfbdefio_lifecycle lifecycle;
	unsigned int xres;
	unsigned int yres;
	unsigned long size;
	bool live;
	unsigned int remove_ms;

	struct kref fb_ref;

	struct mutex lock; /* see above; a leaf lock */
	struct fb_info *info;
	void *screen;
	void *scanout;
	u32 checksum;
	unsigned int updates;
	unsigned int timeouts;

	struct mutex defio_lock; /* see above; taken before lock */
	bool defio_live;
	bool removed;

	bool frame_end;
	wait_queue_head_t frame_end_wait;

	struct fb_deferred_io defio;
	u32 pseudo_palette[16];
};

/* Serializes adding and removing devices; protects the list of devices */
static DEFINE_MUTEX(vfbdefio_lock);
static LIST_HEAD(vfbdefio_devices);
static unsigned int vfbdefio_next_id;

/* Framebuffers not freed yet; module unload waits for the last of them */
static atomic_t vfbdefio_fb_count = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(vfbdefio_fb_wait);

static struct dentry *vfbdefio_debugfs;
/* The parent device of every framebuffer */
static struct faux_device *vfbdefio_faux;

static bool vfbdefio_signals_frame_end(const struct vfbdefio_dev *dev)
{
	return dev->lifecycle == VFBDEFIO_DRIVER_FLUSH ||
	       dev->lifecycle == VFBDEFIO_REINIT;
}

/* The CRC-32 of zlib and of Ethernet */
static u32 vfbdefio_scanout_checksum(struct vfbdefio_dev *dev)
{
	lockdep_assert_held(&dev->lock);

	if (!dev->scanout)
		return dev->checksum;

	return crc32_le(~0, dev->scanout, dev->size) ^ ~0;
}

/*
 * Deferred I/O
 */

/* Called from the deferred work, with the deferred-I/O state's lock held */
static void vfbdefio_deferred_io(struct fb_info *info, struct list_head *pagereflist)
{
	struct vfbdefio_dev *dev = info->par;
	struct fb_deferred_io_pageref *pageref;

	mutex_lock(&dev->lock);
	if (list_empty(pagereflist)) {
		/* A driver-queued update, as in sh_mobile_lcdc_deferred_io() */
		memcpy(dev->scanout, dev->screen, dev->size);
	} else {
		list_for_each_entry(pageref, pagereflist, list) {
			unsigned long offset = pageref->offset;

			if (offset >= dev->size)
				continue;
			memcpy(dev->scanout + offset, dev->screen + offset,
			       min(dev->size - offset, PAGE_SIZE));
		}
	}
	dev->updates++;
	mutex_unlock(&dev->lock);

	if (vfbdefio_signals_frame_end(dev)) {
		WRITE_ONCE(dev->frame_end, true);
		wake_up(&dev->frame_end_wait);
	}
}

/* Queues an update, as sh_mobile_lcdc_deferred_io_touch() does */
static void vfbdefio_touch(struct fb_info *info)
{
	struct fb_deferred_io *fbdefio = READ_ONCE(info->fbdefio);

	if (fbdefio)
		schedule_delayed_work(&info->deferred_work, fbdefio->delay);
}

static void vfbdefio_damage_range(struct fb_info *info, off_t off, size_t len)
{
	vfbdefio_touch(info);
}

static void vfbdefio_damage_area(struct fb_info *info, u32 x, u32 y,
				 u32 width, u32 height)
{
	vfbdefio_touch(info);
}

FB_GEN_DEFAULT_DEFERRED_SYSMEM_OPS(vfbdefio,
				   vfbdefio_damage_range,
				   vfbdefio_damage_area)

/* Cleans up deferred I/O unless it is not set up; call with defio_lock */
static void vfbdefio_defio_cleanup(struct vfbdefio_dev *dev)
{
	lockdep_assert_held(&dev->defio_lock);

	if (!dev->defio_live)
		return;

	fb_deferred_io_cleanup(dev->info);
	dev->defio_live = false;
}

/*
 * Stops deferred I/O as sh_mobile_lcdc_stop() does: flushes a frame, waits
 * for its end, cleans up deferred I/O and clears info->fbdefio. Returns
 * false if the wait for the frame end timed out. Call with defio_lock held.
 */
static bool vfbdefio_stop(struct vfbdefio_dev *dev)
{
	struct fb_info *info = dev->info;
	long left;

	lockdep_assert_held(&dev->defio_lock);

	if (!dev->defio_live)
		return true;

	WRITE_ONCE(dev->frame_end, false);
	schedule_delayed_work(&info->deferred_work, 0);
	left = wait_event_timeout(dev->frame_end_wait, READ_ONCE(dev->frame_end),
				  msecs_to_jiffies(VFBDEFIO_FRAME_END_TIMEOUT_MS));
	if (!left) {
		mutex_lock(&dev->lock);
		dev->timeouts++;
		mutex_unlock(&dev->lock);
		fb_warn(info, "no frame end within %u ms\n",
			VFBDEFIO_FRAME_END_TIMEOUT_MS);
	}

	vfbdefio_defio_cleanup(dev);
	info->fbdefio = NULL;

	return left != 0;
}

/* Sets up deferred I/O as sh_mobile_lcdc_start() does; call with defio_lock */
static int vfbdefio_start(struct vfbdefio_dev *dev)
{
	struct fb_info *info = dev->info;
	int ret;

	lockdep_assert_held(&dev->defio_lock);

	info->fbdefio = &dev->defio;
	ret = fb_deferred_io_init(info);
	if (ret) {
		info->fbdefio = NULL;
		return ret;
	}
	dev->defio_live = true;

	return 0;
}

/*
 * Framebuffer
 */

static void vfbdefio_set_format(struct fb_var_screeninfo *var)
{
	var->bits_per_pixel = VFBDEFIO_BPP;
	var->grayscale = 0;
	var->nonstd = 0;
	var->red.offset = 16;
	var->red.length = 8;
	var->red.msb_right = 0;
	var->green.offset = 8;
	var->green.length = 8;
	var->green.msb_right = 0;
	var->blue.offset = 0;
	var->blue.length = 8;
	var->blue.msb_right = 0;
	/* X of XRGB8888: the top byte holds no alpha */
	var->transp.offset = 24;
	var->transp.length = 0;
	var->transp.msb_right = 0;
}

static int vfbdefio_fb_check_var(struct fb_var_screeninfo *var,
				 struct fb_info *info)
{
	struct vfbdefio_dev *dev = info->par;

	if (var->xres != dev->xres || var->yres != dev->yres ||
	    var->bits_per_pixel != VFBDEFIO_BPP)
		return -EINVAL;

	var->xres_virtual = dev->xres;
	var->yres_virtual = dev->yres;
	var->xoffset = 0;
	var->yoffset = 0;
	vfbdefio_set_format(var);

	return 0;
}

/*
 * Only reinit re-initializes deferred I/O, as sh_mobile_lcdc_set_par()
 * does with a stop and a start; once the device's removal has begun,
 * deferred I/O is the removal's alone. Called with the fb_info's lock or
 * the console lock held, which the deferred work does not take.
 */
static int vfbdefio_fb_set_par(struct fb_info *info)
{
	struct vfbdefio_dev *dev = info->par;
	int ret = 0;

	if (dev->lifecycle != VFBDEFIO_REINIT)
		return 0;

	mutex_lock(&dev->defio_lock);
	if (!dev->removed) {
		vfbdefio_stop(dev);
		ret = vfbdefio_start(dev);
		if (ret)
			fb_err(info, "cannot restart deferred I/O: %d\n", ret);
	}
	mutex_unlock(&dev->defio_lock);

	return ret;
}

/* The console's 16 colors; there is no hardware palette */
static int vfbdefio_fb_setcolreg(unsigned int regno, unsigned int red,
				 unsigned int green, unsigned int blue,
				 unsigned int transp, struct fb_info *info)
{
	struct vfbdefio_dev *dev = info->par;

	if (regno >= ARRAY_SIZE(dev->pseudo_palette))
		return -EINVAL;

	/* 16-bit color components */
	dev->pseudo_palette[regno] = ((red >> 8) << 16) | ((green >> 8) << 8) |
				     (blue >> 8);

	return 0;
}

static int vfbdefio_fb_mmap(struct fb_info *info, struct vm_area_struct *vma)
{
	if (info->fbdefio)
		return fb_deferred_io_mmap(info, vma);

	return -ENODEV;
}

/*
 * Frees the framebuffer and the buffers once both fb_destroy and a running
 * removal are done with them. Takes no lock that the callers hold.
 */
static void vfbdefio_fb_free(struct kref *kref)
{
	struct vfbdefio_dev *dev = container_of(kref, struct vfbdefio_dev, fb_ref);
	struct fb_info *info = dev->info;
	void *screen, *scanout;

	mutex_lock(&dev->defio_lock);
	vfbdefio_defio_cleanup(dev);
	mutex_unlock(&dev->defio_lock);

	mutex_lock(&dev->lock);
	dev->checksum = vfbdefio_scanout_checksum(dev);
	screen = dev->screen;
	scanout = dev->scanout;
	dev->screen = NULL;
	dev->scanout = NULL;
	dev->info = NULL;
	mutex_unlock(&dev->lock);

	vfree(scanout);
	vfree(screen);
	framebuffer_release(info);

	if (atomic_dec_and_test(&vfbdefio_fb_count))
		wake_up(&vfbdefio_fb_wait);
}

/*
 * Called once the framebuffer is unregistered and its last file closed,
 * possibly from within unregister_framebuffer() in a removal, which holds
 * its own reference on the framebuffer until it is done.
 */
static void vfbdefio_fb_destroy(struct fb_info *info)
{
	struct vfbdefio_dev *dev = info->par;

	kref_put(&dev->fb_ref, vfbdefio_fb_free);
}

static const struct fb_ops vfbdefio_fb_ops = {
	.owner		= THIS_MODULE,
	__FB_DEFAULT_DEFERRED_OPS_RDWR(vfbdefio),
	.fb_check_var	= vfbdefio_fb_check_var,
	.fb_set_par	= vfbdefio_fb_set_par,
	.fb_setcolreg	= vfbdefio_fb_setcolreg,
	__FB_DEFAULT_DEFERRED_OPS_DRAW(vfbdefio),
	.fb_mmap	= vfbdefio_fb_mmap,
	.fb_destroy	= vfbdefio_fb_destroy,
};

/*
 * Devices
 */

static int vfbdefio_add(enum vfbdefio_lifecycle lifecycle)
{
	struct vfbdefio_dev *dev;
	struct fb_info *info;
	unsigned int line_length;
	int ret;

	lockdep_assert_held(&vfbdefio_lock);

	dev = kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;

	kref_init(&dev->fb_ref);
	mutex_init(&dev->lock);
	mutex_init(&dev->defio_lock);
	init_waitqueue_head(&dev->frame_end_wait);
	dev->lifecycle = lifecycle;
	dev->xres = vfbdefio_width;
	dev->yres = vfbdefio_height;
	line_length = dev->xres * (VFBDEFIO_BPP / 8);
	dev->size = PAGE_ALIGN((unsigned long)line_length * dev->yres);

	ret = -ENOMEM;
	dev->screen = vzalloc(dev->size);
	if (!dev->screen)
		goto err_free_dev;
	dev->scanout = vzalloc(dev->size);
	if (!dev->scanout)
		goto err_free_screen;

	/* fbcon asks the parent device whether it is the primary display */
	info = framebuffer_alloc(0, &vfbdefio_faux->dev);
	if (!info)
		goto err_free_scanout;
	dev->info = info;
	info->par = dev;

	strscpy(info->fix.id, DRIVER_NAME, sizeof(info->fix.id));
	info->fix.type = FB_TYPE_PACKED_PIXELS;
	info->fix.visual = FB_VISUAL_TRUECOLOR;
	info->fix.line_length = line_length;
	info->fix.smem_len = dev->size;
	info->fix.accel = FB_ACCEL_NONE;

	info->var.xres = dev->xres;
	info->var.yres = dev->yres;
	info->var.xres_virtual = dev->xres;
	info->var.yres_virtual = dev->yres;
	vfbdefio_set_format(&info->var);
	info->var.activate = FB_ACTIVATE_NOW;
	info->var.height = -1;
	info->var.width = -1;
	info->var.vmode = FB_VMODE_NONINTERLACED;

	info->fbops = &vfbdefio_fb_ops;
	info->flags = FBINFO_VIRTFB;
	info->screen_buffer = dev->screen;
	info->pseudo_palette = dev->pseudo_palette;

	dev->defio.delay = msecs_to_jiffies(vfbdefio_delay_ms);
	dev->defio.deferred_io = vfbdefio_deferred_io;

	mutex_lock(&dev->defio_lock);
	ret = vfbdefio_start(dev);
	mutex_unlock(&dev->defio_lock);
	if (ret)
		goto err_release_info;

	/* Registration may call fb_set_par() when the console takes over */
	ret = register_framebuffer(info);
	if (ret)
		goto err_cleanup_defio;

	dev->id = vfbdefio_next_id++;
	dev->fb_node = info->node;
	dev->live = true;
	atomic_inc(&vfbdefio_fb_count);
	list_add_tail(&dev->node, &vfbdefio_devices);

	fb_info(info, "%s device %u, %ux%u, %s\n", DRIVER_NAME, dev->id,
		dev->xres, dev->yres, vfbdefio_lifecycle_names[lifecycle]);

	return 0;

err_cleanup_defio:
	mutex_lock(&dev->defio_lock);
	vfbdefio_defio_cleanup(dev);
	mutex_unlock(&dev->defio_lock);
err_release_info:
	framebuffer_release(info);
err_free_scanout:
	vfree(dev->scanout);
err_free_screen:
	vfree(dev->screen);
err_free_dev:
	mutex_destroy(&dev->defio_lock);
	mutex_destroy(&dev->lock);
	kfree(dev);
	return ret;
}

/*
 * Removes a live device following its lifecycle. Returns -ETIMEDOUT if the
 * wait for the frame end timed out; the device is removed all the same.
 */
static int vfbdefio_remove(struct vfbdefio_dev *dev)
{
	/* Registered, so fb_destroy has not run and info is valid */
	struct fb_info *info = dev->info;
	bool frame_ended = true;
	ktime_t start;

	lockdep_assert_held(&vfbdefio_lock);

	start = ktime_get();

	/* unregister_framebuffer() may call fb_destroy */
	kref_get(&dev->fb_ref);

	/* From now on, fb_set_par() leaves deferred I/O alone */
	mutex_lock(&dev->defio_lock);
	dev->removed = true;
	mutex_unlock(&dev->defio_lock);

	switch (dev->lifecycle) {
	case VFBDEFIO_UNREG_CLEANUP:
		unregister_framebuffer(info);
		mutex_lock(&dev->defio_lock);
		vfbdefio_defio_cleanup(dev);
		mutex_unlock(&dev->defio_lock);
		break;
	case VFBDEFIO_CLEANUP_UNREG:
		mutex_lock(&dev->defio_lock);
		vfbdefio_defio_cleanup(dev);
		mutex_unlock(&dev->defio_lock);
		/* A driver-queued update while info->fbdefio is still set */
		if (info->fbdefio) {
			schedule_delayed_work(&info->deferred_work, 0);
			flush_delayed_work(&info->deferred_work);
		}
		unregister_framebuffer(info);
		break;
	case VFBDEFIO_DRIVER_FLUSH:
	case VFBDEFIO_REINIT:
		unregister_framebuffer(info);
		mutex_lock(&dev->defio_lock);
		frame_ended = vfbdefio_stop(dev);
		mutex_unlock(&dev->defio_lock);
		break;
	}

	dev->live = false;
	dev->remove_ms = ktime_ms_delta(ktime_get(), start);

	pr_info("device %u (fb%d) removed in %u ms\n", dev->id, dev->fb_node,
		dev->remove_ms);

	kref_put(&dev->fb_ref, vfbdefio_fb_free);

	return frame_ended ? 0 : -ETIMEDOUT;
}

static int vfbdefio_remove_id(unsigned int id)
{
	struct vfbdefio_dev *dev;

	lockdep_assert_held(&vfbdefio_lock);

	list_for_each_entry(dev, &vfbdefio_devices, node) {
		if (dev->id == id)
			return dev->live ? vfbdefio_remove(dev) : -ENODEV;
	}

	return -ENODEV;
}

/* Removes all live devices and frees the bookkeeping of all */
static void vfbdefio_remove_all(void)
{
	struct vfbdefio_dev *dev, *next;

	mutex_lock(&vfbdefio_lock);

	list_for_each_entry(dev, &vfbdefio_devices, node) {
		if (dev->live)
			vfbdefio_remove(dev);
	}

	/*
	 * No file of ours is open, or the module could not be unloaded, but
	 * fb_release() drops its module reference before it calls
	 * fb_destroy. Wait for such a late fb_destroy.
	 */
	wait_event(vfbdefio_fb_wait, !atomic_read(&vfbdefio_fb_count));

	list_for_each_entry_safe(dev, next, &vfbdefio_devices, node) {
		list_del(&dev->node);
		mutex_destroy(&dev->defio_lock);
		mutex_destroy(&dev->lock);
		kfree(dev);
	}

	mutex_unlock(&vfbdefio_lock);
}

/*
 * Control file
 */

static int vfbdefio_control_show(struct seq_file *m, void *unused)
{
	struct vfbdefio_dev *dev;
	unsigned int updates, timeouts;
	u32 checksum;
	int ret;

	ret = mutex_lock_interruptible(&vfbdefio_lock);
	if (ret)
		return ret;

	list_for_each_entry(dev, &vfbdefio_devices, node) {
		mutex_lock(&dev->lock);
		checksum = vfbdefio_scanout_checksum(dev);
		updates = dev->updates;
		timeouts = dev->timeouts;
		mutex_unlock(&dev->lock);

		seq_printf(m, "%u fb%d %s %s checksum=%08x updates=%u timeouts=%u remove_ms=%u\n",
			   dev->id, dev->fb_node,
			   vfbdefio_lifecycle_names[dev->lifecycle],
			   dev->live ? "live" : "removed", checksum, updates,
			   timeouts, dev->remove_ms);
	}

	mutex_unlock(&vfbdefio_lock);

	return 0;
}

static int vfbdefio_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, vfbdefio_control_show, NULL);
}

static ssize_t vfbdefio_control_write(struct file *file, const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	char buf[VFBDEFIO_MAX_INPUT + 1];
	const char *arg;
	unsigned int id;
	int lifecycle;
	size_t len;
	int ret;

	if (!count || count > VFBDEFIO_MAX_INPUT)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	len = strlen(buf);
	if (len != count)
		return -EINVAL;
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (strchr(buf, '\n'))
		return -EINVAL;

	if (str_has_prefix(buf, "add ")) {
		arg = buf + strlen("add ");
		lifecycle = match_string(vfbdefio_lifecycle_names,
					 ARRAY_SIZE(vfbdefio_lifecycle_names), arg);
		if (lifecycle < 0)
			return -EINVAL;

		ret = mutex_lock_interruptible(&vfbdefio_lock);
		if (ret)
			return ret;
		ret = vfbdefio_add(lifecycle);
		mutex_unlock(&vfbdefio_lock);
	} else if (str_has_prefix(buf, "remove ")) {
		arg = buf + strlen("remove ");
		if (!isdigit(*arg) || kstrtouint(arg, 10, &id))
			return -EINVAL;

		ret = mutex_lock_interruptible(&vfbdefio_lock);
		if (ret)
			return ret;
		ret = vfbdefio_remove_id(id);
		mutex_unlock(&vfbdefio_lock);
	} else {
		return -EINVAL;
	}

	return ret ? ret : count;
}

static const struct file_operations vfbdefio_control_fops = {
	.owner = THIS_MODULE,
	.open = vfbdefio_control_open,
	.read = seq_read,
	.write = vfbdefio_control_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * Module
 */

static int __init vfbdefio_init(void)
{
	if (vfbdefio_width < VFBDEFIO_MIN_SIZE || vfbdefio_width > VFBDEFIO_MAX_SIZE) {
		pr_err("width=%u is out of range [%u, %u]\n", vfbdefio_width,
		       VFBDEFIO_MIN_SIZE, VFBDEFIO_MAX_SIZE);
		return -EINVAL;
	}
	if (vfbdefio_height < VFBDEFIO_MIN_SIZE || vfbdefio_height > VFBDEFIO_MAX_SIZE) {
		pr_err("height=%u is out of range [%u, %u]\n", vfbdefio_height,
		       VFBDEFIO_MIN_SIZE, VFBDEFIO_MAX_SIZE);
		return -EINVAL;
	}

	vfbdefio_faux = faux_device_create(DRIVER_NAME, NULL, NULL);
	if (!vfbdefio_faux)
		return -ENODEV;

	vfbdefio_debugfs = debugfs_create_dir(DRIVER_NAME, NULL);
	debugfs_create_file("control", 0600, vfbdefio_debugfs, NULL,
			    &vfbdefio_control_fops);

	return 0;
}

static void __exit vfbdefio_exit(void)
{
	/* Waits for running control file operations */
	debugfs_remove(vfbdefio_debugfs);
	vfbdefio_remove_all();
	faux_device_destroy(vfbdefio_faux);
}

module_init(vfbdefio_init);
module_exit(vfbdefio_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
