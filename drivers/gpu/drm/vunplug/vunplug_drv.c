// SPDX-License-Identifier: GPL-2.0-only
/*
 * vunplug - a virtual DRM device that can be hot-unplugged, for testing
 *
 * Each device is a faux device that carries a DRM device with a single
 * display pipeline, GEM SHMEM buffers and fbdev emulation through
 * drm_fbdev_shmem, so /dev/fbN is mapped with fbdev deferred I/O. Plane
 * updates copy the damaged area of the framebuffer into a scanout buffer.
 * This comment is the one description of the driver's interface.
 *
 * Module parameters: num_devices (devices created at load, default 1),
 * width and height (of the display, default 1024x768, XRGB8888).
 *
 * Interface, all in debugfs and for root only:
 *
 * /sys/kernel/debug/dri/<minor>/scanout (read)
 *	checksum 0x<crc32 of the scanout buffer>
 *	updates <plane updates with a visible framebuffer>
 *	damage_rects <damage rectangles copied into the scanout buffer>
 *	width <scanout width>
 *	height <scanout height>
 *
 * /sys/kernel/debug/dri/<minor>/unplug (write "1")
 *	Unplugs the device the way a USB disconnect does: drm_dev_unplug(),
 *	atomic shutdown, then removal of the device, while user space may
 *	still hold open files and mappings. Any other input fails with
 *	-EINVAL, a second unplug with -ENODEV.
 *
 *	A write to unplug returns before the unplug is complete; write sync
 *	to /sys/kernel/debug/vunplug/control to wait for completion. The
 *	unplug cannot run synchronously: removing the device removes this
 *	very debugfs file, and that waits for the file's writers to return.
 *
 * /sys/kernel/debug/vunplug/control
 *	read:	one line "vunplug.<id> <minor>" per plugged device, where
 *		<minor> is N of /dev/dri/cardN
 *	"add":	creates a new device and returns once it is registered and
 *		its fbdev emulation is set up
 *	"sync":	waits until all requested unplugs are complete
 *	any other input fails with -EINVAL
 *
 * The module can be unloaded whenever no file or mapping of one of its
 * devices is open; until then, delete_module() fails with -EAGAIN.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <drm/clients/drm_client_setup.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_fbdev_shmem.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_atomic_helper.h>
#include <drm/drm_gem_shmem_helper.h>

#include "vunplug_drv.h"

#define DRIVER_NAME		"vunplug"
#define DRIVER_DESC		"Virtual hot-unpluggable DRM device"
#define DRIVER_MAJOR		1
#define DRIVER_MINOR		0

#define VUNPLUG_MAX_DEVICES	16
#define VUNPLUG_MIN_SIZE	64
#define VUNPLUG_MAX_WIDTH	DRM_SHADOW_PLANE_MAX_WIDTH
#define VUNPLUG_MAX_HEIGHT	DRM_SHADOW_PLANE_MAX_HEIGHT

/* Longest input accepted by the debugfs files, "sync\n" */
#define VUNPLUG_MAX_INPUT	5

static unsigned int vunplug_num_devices = 1;
module_param_named(num_devices, vunplug_num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "Number of devices created at load (default: 1)");

static unsigned int vunplug_width = 1024;
module_param_named(width, vunplug_width, uint, 0444);
MODULE_PARM_DESC(width, "Width of the display in pixels (default: 1024)");

static unsigned int vunplug_height = 768;
module_param_named(height, vunplug_height, uint, 0444);
MODULE_PARM_DESC(height, "Height of the display in pixels (default: 768)");

/**
 * struct vunplug_slot - the module's bookkeeping of one device
 * @node: entry in vunplug_slots, protected by vunplug_lock
 * @fdev: the faux device that carries the DRM device
 * @unplug_work: removes the device, queued by a write to unplug
 * @unplugging: set once an unplug was requested, protected by
 *	vunplug_unplug_lock; never cleared
 * @id: the device's number, from vunplug_ida
 * @minor: index of the device's primary DRM minor
 * @name: the faux device's name, "vunplug.<id>"
 *
 * The slot is owned by the module, not by the device: it is freed once
 * the faux device is destroyed, either by @unplug_work or at module
 * unload. The DRM device may live on after that, as long as user space
 * holds references to it, but it no longer points to the slot.
 */
struct vunplug_slot {
	struct list_head node;
	struct faux_device *fdev;
	struct work_struct unplug_work;
	bool unplugging;
	int id;
	unsigned int minor;
	char name[24];
};

/* Serializes the list of devices */
static DEFINE_MUTEX(vunplug_lock);
static LIST_HEAD(vunplug_slots);

/*
 * Protects struct vunplug_slot.unplugging, struct vunplug_device.slot and
 * vunplug_dying, so that requesting an unplug and queueing its work are
 * atomic with respect to device removal and module unload.
 */
static DEFINE_SPINLOCK(vunplug_unplug_lock);
static bool vunplug_dying;

static DEFINE_IDA(vunplug_ida);
static struct workqueue_struct *vunplug_wq;
static struct dentry *vunplug_debugfs;

/*
 * Per-device debugfs files
 */

static int vunplug_scanout_show(struct seq_file *m, void *unused)
{
	struct vunplug_device *vdev = m->private;
	u64 updates, damage_rects;
	u32 checksum;

	mutex_lock(&vdev->lock);
	checksum = crc32_le(~0, vdev->scanout, vdev->scanout_size) ^ ~0;
	updates = vdev->updates;
	damage_rects = vdev->damage_rects;
	mutex_unlock(&vdev->lock);

	seq_printf(m, "checksum 0x%08x\n", checksum);
	seq_printf(m, "updates %llu\n", updates);
	seq_printf(m, "damage_rects %llu\n", damage_rects);
	seq_printf(m, "width %u\n", vdev->width);
	seq_printf(m, "height %u\n", vdev->height);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vunplug_scanout);

/*
 * Only requests the unplug, see the comment at the top of this file. The
 * device, and with it this file, exists until the write has returned:
 * debugfs removal waits for it. So the device structure is valid here.
 */
static ssize_t vunplug_unplug_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vunplug_device *vdev = file->private_data;
	struct vunplug_slot *slot;
	unsigned int val;
	int ret;

	if (!count || count > VUNPLUG_MAX_INPUT)
		return -EINVAL;
	if (kstrtouint_from_user(ubuf, count, 10, &val) || val != 1)
		return -EINVAL;

	spin_lock(&vunplug_unplug_lock);
	slot = vdev->slot;
	if (!slot || slot->unplugging || vunplug_dying) {
		ret = -ENODEV;
	} else {
		slot->unplugging = true;
		queue_work(vunplug_wq, &slot->unplug_work);
		ret = 0;
	}
	spin_unlock(&vunplug_unplug_lock);

	return ret ? ret : count;
}

static const struct file_operations vunplug_unplug_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vunplug_unplug_write,
	.llseek = noop_llseek,
};

/*
 * The files live in the device's DRM debugfs directory, which is removed
 * in drm_dev_unregister(), i.e. before the device structure is freed.
 */
static void vunplug_debugfs_init(struct drm_minor *minor)
{
	struct vunplug_device *vdev = to_vunplug_device(minor->dev);

	debugfs_create_file("scanout", 0400, minor->debugfs_root, vdev,
			    &vunplug_scanout_fops);
	debugfs_create_file("unplug", 0200, minor->debugfs_root, vdev,
			    &vunplug_unplug_fops);
}

/*
 * DRM device
 */

DEFINE_DRM_GEM_FOPS(vunplug_fops);

static const struct drm_driver vunplug_driver = {
	.driver_features	= DRIVER_MODESET | DRIVER_GEM | DRIVER_ATOMIC,
	.fops			= &vunplug_fops,
	DRM_GEM_SHMEM_DRIVER_OPS,
	DRM_FBDEV_SHMEM_DRIVER_OPS,
	.debugfs_init		= vunplug_debugfs_init,

	.name			= DRIVER_NAME,
	.desc			= DRIVER_DESC,
	.major			= DRIVER_MAJOR,
	.minor			= DRIVER_MINOR,
};

static int vunplug_faux_probe(struct faux_device *fdev)
{
	struct vunplug_device *vdev;
	struct drm_device *drm;
	int ret;

	/* Buffer sharing maps imported buffers for this device */
	ret = dma_coerce_mask_and_coherent(&fdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	vdev = devm_drm_dev_alloc(&fdev->dev, &vunplug_driver,
				  struct vunplug_device, drm);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	drm = &vdev->drm;

	vdev->width = vunplug_width;
	vdev->height = vunplug_height;

	ret = vunplug_modeset_init(vdev);
	if (ret)
		return ret;

	faux_device_set_drvdata(fdev, vdev);

	ret = drm_dev_register(drm, 0);
	if (ret)
		return ret;

	drm_client_setup(drm, NULL);

	return 0;
}

/*
 * Hot-unplug as a USB display driver does on disconnect. Afterwards devres
 * drops the device's reference on the DRM device, which lives on only
 * while user space still holds it.
 */
static void vunplug_faux_remove(struct faux_device *fdev)
{
	struct vunplug_device *vdev = faux_device_get_drvdata(fdev);

	spin_lock(&vunplug_unplug_lock);
	vdev->slot = NULL;
	spin_unlock(&vunplug_unplug_lock);

	drm_dev_unplug(&vdev->drm);
	drm_atomic_helper_shutdown(&vdev->drm);
}

static const struct faux_device_ops vunplug_faux_ops = {
	.probe = vunplug_faux_probe,
	.remove = vunplug_faux_remove,
};

/*
 * Device list
 */

/* Destroys the device of a slot that is no longer on the list, frees it. */
static void vunplug_slot_destroy(struct vunplug_slot *slot)
{
	faux_device_destroy(slot->fdev);
	pr_info("%s (minor %u) unplugged\n", slot->name, slot->minor);
	ida_free(&vunplug_ida, slot->id);
	kfree(slot);
}

static void vunplug_unplug_work(struct work_struct *work)
{
	struct vunplug_slot *slot = container_of(work, struct vunplug_slot,
						 unplug_work);

	mutex_lock(&vunplug_lock);
	list_del(&slot->node);
	mutex_unlock(&vunplug_lock);

	vunplug_slot_destroy(slot);
}

static int vunplug_add(void)
{
	struct vunplug_device *vdev;
	struct vunplug_slot *slot;
	int ret;

	slot = kzalloc_obj(*slot);
	if (!slot)
		return -ENOMEM;
	INIT_WORK(&slot->unplug_work, vunplug_unplug_work);

	ret = ida_alloc(&vunplug_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	slot->id = ret;
	snprintf(slot->name, sizeof(slot->name), DRIVER_NAME ".%d", slot->id);

	/* Probes synchronously, NULL if the probe failed */
	slot->fdev = faux_device_create(slot->name, NULL, &vunplug_faux_ops);
	if (!slot->fdev) {
		ret = -ENODEV;
		goto err_ida;
	}

	vdev = faux_device_get_drvdata(slot->fdev);
	slot->minor = vdev->drm.primary->index;

	mutex_lock(&vunplug_lock);
	list_add_tail(&slot->node, &vunplug_slots);
	mutex_unlock(&vunplug_lock);

	/* Only from now on, writes to unplug are accepted */
	spin_lock(&vunplug_unplug_lock);
	vdev->slot = slot;
	spin_unlock(&vunplug_unplug_lock);

	pr_info("%s (minor %u) added\n", slot->name, slot->minor);

	return 0;

err_ida:
	ida_free(&vunplug_ida, slot->id);
err_free:
	kfree(slot);
	return ret;
}

/* Unplugs and destroys all devices; no unplug can be requested afterwards. */
static void vunplug_remove_all(void)
{
	struct vunplug_slot *slot, *next;
	LIST_HEAD(doomed);

	spin_lock(&vunplug_unplug_lock);
	vunplug_dying = true;
	spin_unlock(&vunplug_unplug_lock);

	/* Complete the requested unplugs, they take their slots off the list */
	flush_workqueue(vunplug_wq);

	mutex_lock(&vunplug_lock);
	list_splice_init(&vunplug_slots, &doomed);
	mutex_unlock(&vunplug_lock);

	list_for_each_entry_safe(slot, next, &doomed, node) {
		list_del(&slot->node);
		vunplug_slot_destroy(slot);
	}
}

/*
 * Module debugfs file
 */

static int vunplug_control_show(struct seq_file *m, void *unused)
{
	struct vunplug_slot *slot;

	mutex_lock(&vunplug_lock);
	list_for_each_entry(slot, &vunplug_slots, node) {
		bool unplugging;

		spin_lock(&vunplug_unplug_lock);
		unplugging = slot->unplugging;
		spin_unlock(&vunplug_unplug_lock);

		if (!unplugging)
			seq_printf(m, "%s %u\n", slot->name, slot->minor);
	}
	mutex_unlock(&vunplug_lock);

	return 0;
}

static int vunplug_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, vunplug_control_show, NULL);
}

static ssize_t vunplug_control_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	char buf[VUNPLUG_MAX_INPUT + 1];
	int ret;

	if (!count || count > VUNPLUG_MAX_INPUT)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	if (sysfs_streq(buf, "add")) {
		ret = vunplug_add();
	} else if (sysfs_streq(buf, "sync")) {
		/* Must not hold vunplug_lock, the unplug work takes it */
		flush_workqueue(vunplug_wq);
		ret = 0;
	} else {
		ret = -EINVAL;
	}

	return ret ? ret : count;
}

static const struct file_operations vunplug_control_fops = {
	.owner = THIS_MODULE,
	.open = vunplug_control_open,
	.read = seq_read,
	.write = vunplug_control_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * Module
 */

static void vunplug_cleanup(void)
{
	/* Waits for running control file operations, e.g. add */
	debugfs_remove(vunplug_debugfs);
	vunplug_remove_all();
	destroy_workqueue(vunplug_wq);
	ida_destroy(&vunplug_ida);
}

static int __init vunplug_init(void)
{
	unsigned int i;
	int ret;

	if (vunplug_num_devices > VUNPLUG_MAX_DEVICES) {
		pr_err("num_devices=%u is out of range [0, %u]\n",
		       vunplug_num_devices, VUNPLUG_MAX_DEVICES);
		return -EINVAL;
	}
	if (vunplug_width < VUNPLUG_MIN_SIZE || vunplug_width > VUNPLUG_MAX_WIDTH) {
		pr_err("width=%u is out of range [%u, %u]\n",
		       vunplug_width, VUNPLUG_MIN_SIZE, VUNPLUG_MAX_WIDTH);
		return -EINVAL;
	}
	if (vunplug_height < VUNPLUG_MIN_SIZE || vunplug_height > VUNPLUG_MAX_HEIGHT) {
		pr_err("height=%u is out of range [%u, %u]\n",
		       vunplug_height, VUNPLUG_MIN_SIZE, VUNPLUG_MAX_HEIGHT);
		return -EINVAL;
	}

	vunplug_wq = alloc_ordered_workqueue(DRIVER_NAME, 0);
	if (!vunplug_wq)
		return -ENOMEM;

	vunplug_debugfs = debugfs_create_dir(DRIVER_NAME, NULL);
	debugfs_create_file("control", 0600, vunplug_debugfs, NULL,
			    &vunplug_control_fops);

	for (i = 0; i < vunplug_num_devices; i++) {
		ret = vunplug_add();
		if (ret) {
			pr_err("failed to create device %u: %d\n", i, ret);
			vunplug_cleanup();
			return ret;
		}
	}

	return 0;
}

static void __exit vunplug_exit(void)
{
	vunplug_cleanup();
}

module_init(vunplug_init);
module_exit(vunplug_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
