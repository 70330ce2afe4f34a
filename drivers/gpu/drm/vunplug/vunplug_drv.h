/* SPDX-License-Identifier: GPL-2.0-only */

#ifndef _VUNPLUG_DRV_H_
#define _VUNPLUG_DRV_H_

#include <linux/mutex.h>
#include <linux/types.h>

#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_device.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

#define VUNPLUG_CPP		4	/* bytes per pixel, XRGB8888 only */

struct vunplug_slot;

/**
 * struct vunplug_device - a vunplug DRM device
 * @drm: the DRM device, allocated with devm_drm_dev_alloc() on the faux
 *	device; this structure lives as long as the last reference to @drm
 * @slot: the module's bookkeeping entry of this device; published only
 *	once the device is fully set up, cleared when the faux device is
 *	removed; protected by the module's unplug spinlock
 * @width: width of the scanout buffer in pixels
 * @height: height of the scanout buffer in pixels
 * @pitch: bytes per line of the scanout buffer
 * @primary_plane: the only plane
 * @crtc: the only CRTC
 * @encoder: the only encoder, a virtual one
 * @connector: the only connector, virtual and always connected
 * @lock: protects @scanout, @updates and @damage_rects
 * @scanout: the emulated scanout memory, @pitch * @height bytes,
 *	released with the DRM device
 * @scanout_size: size of @scanout in bytes
 * @updates: number of primary plane updates with a visible framebuffer
 * @damage_rects: number of damage rectangles copied into @scanout
 */
struct vunplug_device {
	struct drm_device drm;
	struct vunplug_slot *slot;

	unsigned int width;
	unsigned int height;
	unsigned int pitch;

	struct drm_plane primary_plane;
	struct drm_crtc crtc;
	struct drm_encoder encoder;
	struct drm_connector connector;

	struct mutex lock; /* protects scanout, updates, damage_rects */
	u8 *scanout;
	size_t scanout_size;
	u64 updates;
	u64 damage_rects;
};

static inline struct vunplug_device *to_vunplug_device(struct drm_device *drm)
{
	return container_of(drm, struct vunplug_device, drm);
}

int vunplug_modeset_init(struct vunplug_device *vdev);

#endif /* _VUNPLUG_DRV_H_ */
