// SPDX-License-Identifier: GPL-2.0-only
/*
 * Modesetting pipeline of vunplug: one primary plane, one CRTC, one
 * virtual encoder and one virtual connector that is always connected.
 *
 * There is no hardware behind the pipeline. A plane update copies the
 * damaged parts of the framebuffer into the device's scanout buffer,
 * which debugfs exposes through a checksum. There are no vblank
 * interrupts either, so the CRTC completes pending page-flip events
 * itself at the end of every commit.
 */

#include <linux/dma-direction.h>
#include <linux/iosys-map.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc_helper.h>
#include <drm/drm_damage_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_edid.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_modes.h>
#include <drm/drm_modeset_helper_vtables.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_rect.h>
#include <drm/drm_vblank.h>

#include "vunplug_drv.h"

static const u32 vunplug_plane_formats[] = {
	DRM_FORMAT_XRGB8888,
};

static int vunplug_plane_atomic_check(struct drm_plane *plane,
				      struct drm_atomic_commit *state)
{
	struct drm_plane_state *new_plane_state =
		drm_atomic_get_new_plane_state(state, plane);
	struct drm_crtc_state *new_crtc_state = NULL;

	if (new_plane_state->crtc)
		new_crtc_state = drm_atomic_get_new_crtc_state(state,
							       new_plane_state->crtc);

	return drm_atomic_helper_check_plane_state(new_plane_state, new_crtc_state,
						   DRM_PLANE_NO_SCALING,
						   DRM_PLANE_NO_SCALING,
						   false, false);
}

/*
 * Copy one damage rectangle, given in framebuffer coordinates, into the
 * scanout buffer. The framebuffer is translated by the plane's source
 * and destination offsets and clipped to the scanout buffer, which may
 * be smaller than the current mode. Returns true if anything was copied.
 */
static bool vunplug_copy_rect(struct vunplug_device *vdev,
			      const struct iosys_map *src, unsigned int src_pitch,
			      const struct drm_rect *damage, int dx, int dy)
{
	struct drm_rect bounds = DRM_RECT_INIT(0, 0, vdev->width, vdev->height);
	struct drm_rect clip = *damage;
	size_t len;
	int y;

	drm_rect_translate(&clip, dx, dy);
	if (!drm_rect_intersect(&clip, &bounds))
		return false;

	len = (size_t)drm_rect_width(&clip) * VUNPLUG_CPP;

	for (y = clip.y1; y < clip.y2; y++) {
		size_t src_offset = (size_t)(y - dy) * src_pitch +
				    (size_t)(clip.x1 - dx) * VUNPLUG_CPP;
		u8 *dst = vdev->scanout + (size_t)y * vdev->pitch +
			  (size_t)clip.x1 * VUNPLUG_CPP;

		iosys_map_memcpy_from(dst, src, src_offset, len);
	}

	return true;
}

static void vunplug_plane_atomic_update(struct drm_plane *plane,
					struct drm_atomic_commit *state)
{
	struct vunplug_device *vdev = to_vunplug_device(plane->dev);
	struct drm_plane_state *new_state =
		drm_atomic_get_new_plane_state(state, plane);
	struct drm_plane_state *old_state =
		drm_atomic_get_old_plane_state(state, plane);
	struct drm_shadow_plane_state *shadow = to_drm_shadow_plane_state(new_state);
	struct drm_framebuffer *fb = new_state->fb;
	struct drm_atomic_helper_damage_iter iter;
	struct drm_rect damage;
	int dx, dy, idx;

	if (!fb || !new_state->visible)
		return;

	/* Nothing to scan out to once the device is gone. */
	if (!drm_dev_enter(&vdev->drm, &idx))
		return;

	if (drm_gem_fb_begin_cpu_access(fb, DMA_FROM_DEVICE))
		goto out_dev_exit;

	/* Offset from framebuffer coordinates to CRTC coordinates */
	dx = new_state->dst.x1 - (new_state->src.x1 >> 16);
	dy = new_state->dst.y1 - (new_state->src.y1 >> 16);

	mutex_lock(&vdev->lock);
	vdev->updates++;
	drm_atomic_helper_damage_iter_init(&iter, old_state, new_state);
	drm_atomic_for_each_plane_damage(&iter, &damage) {
		if (vunplug_copy_rect(vdev, &shadow->data[0], fb->pitches[0],
				      &damage, dx, dy))
			vdev->damage_rects++;
	}
	mutex_unlock(&vdev->lock);

	drm_gem_fb_end_cpu_access(fb, DMA_FROM_DEVICE);
out_dev_exit:
	drm_dev_exit(idx);
}

static const struct drm_plane_helper_funcs vunplug_plane_helper_funcs = {
	DRM_GEM_SHADOW_PLANE_HELPER_FUNCS,
	.atomic_check = vunplug_plane_atomic_check,
	.atomic_update = vunplug_plane_atomic_update,
};

static const struct drm_plane_funcs vunplug_plane_funcs = {
	.update_plane = drm_atomic_helper_update_plane,
	.disable_plane = drm_atomic_helper_disable_plane,
	.destroy = drm_plane_cleanup,
	DRM_GEM_SHADOW_PLANE_FUNCS,
};

/*
 * Without vblank interrupts, complete the commit's event right away.
 * Called from both .atomic_flush and .atomic_disable, whichever runs
 * first takes the event.
 */
static void vunplug_crtc_send_event(struct drm_crtc *crtc)
{
	struct drm_device *drm = crtc->dev;
	struct drm_pending_vblank_event *event;

	spin_lock_irq(&drm->event_lock);
	event = crtc->state->event;
	crtc->state->event = NULL;
	if (event)
		drm_crtc_send_vblank_event(crtc, event);
	spin_unlock_irq(&drm->event_lock);
}

static void vunplug_crtc_atomic_flush(struct drm_crtc *crtc,
				      struct drm_atomic_commit *state)
{
	vunplug_crtc_send_event(crtc);
}

static void vunplug_crtc_atomic_disable(struct drm_crtc *crtc,
					struct drm_atomic_commit *state)
{
	vunplug_crtc_send_event(crtc);
}

static const struct drm_crtc_helper_funcs vunplug_crtc_helper_funcs = {
	.atomic_check = drm_crtc_helper_atomic_check,
	.atomic_flush = vunplug_crtc_atomic_flush,
	.atomic_disable = vunplug_crtc_atomic_disable,
};

static const struct drm_crtc_funcs vunplug_crtc_funcs = {
	.reset = drm_atomic_helper_crtc_reset,
	.destroy = drm_crtc_cleanup,
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
	.atomic_duplicate_state = drm_atomic_helper_crtc_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_crtc_destroy_state,
};

static const struct drm_encoder_funcs vunplug_encoder_funcs = {
	.destroy = drm_encoder_cleanup,
};

static bool vunplug_connector_has_mode(struct drm_connector *connector,
				       unsigned int width, unsigned int height)
{
	struct drm_display_mode *mode;

	list_for_each_entry(mode, &connector->probed_modes, head) {
		if (mode->hdisplay == width && mode->vdisplay == height)
			return true;
	}

	return false;
}

/*
 * Offer the standard modes up to the scanout size, plus a mode of
 * exactly the scanout size if that is not a standard one, and prefer the
 * latter.
 */
static int vunplug_connector_get_modes(struct drm_connector *connector)
{
	struct vunplug_device *vdev = to_vunplug_device(connector->dev);
	int count;

	count = drm_add_modes_noedid(connector, vdev->width, vdev->height);

	if (!vunplug_connector_has_mode(connector, vdev->width, vdev->height)) {
		const struct drm_display_mode native = {
			DRM_MODE_INIT(60, vdev->width, vdev->height, 0, 0),
		};
		struct drm_display_mode *mode;

		mode = drm_mode_duplicate(connector->dev, &native);
		if (mode) {
			drm_mode_set_name(mode);
			drm_mode_probed_add(connector, mode);
			count++;
		}
	}

	drm_set_preferred_mode(connector, vdev->width, vdev->height);

	return count;
}

static enum drm_connector_status
vunplug_connector_detect(struct drm_connector *connector, bool force)
{
	return connector_status_connected;
}

static const struct drm_connector_helper_funcs vunplug_connector_helper_funcs = {
	.get_modes = vunplug_connector_get_modes,
};

static const struct drm_connector_funcs vunplug_connector_funcs = {
	.detect = vunplug_connector_detect,
	.fill_modes = drm_helper_probe_single_connector_modes,
	.reset = drm_atomic_helper_connector_reset,
	.destroy = drm_connector_cleanup,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

static const struct drm_mode_config_funcs vunplug_mode_config_funcs = {
	.fb_create = drm_gem_fb_create_with_dirty,
	.atomic_check = drm_atomic_helper_check,
	.atomic_commit = drm_atomic_helper_commit,
};

static void vunplug_scanout_release(struct drm_device *drm, void *scanout)
{
	vfree(scanout);
}

/**
 * vunplug_modeset_init - set up the scanout buffer and the display pipeline
 * @vdev: the device, with @width and @height set
 *
 * Everything set up here is released with the DRM device.
 *
 * Returns: 0 on success or a negative errno.
 */
int vunplug_modeset_init(struct vunplug_device *vdev)
{
	struct drm_device *drm = &vdev->drm;
	int ret;

	ret = drmm_mutex_init(drm, &vdev->lock);
	if (ret)
		return ret;

	vdev->pitch = vdev->width * VUNPLUG_CPP;
	vdev->scanout_size = (size_t)vdev->pitch * vdev->height;
	vdev->scanout = vzalloc(vdev->scanout_size);
	if (!vdev->scanout)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, vunplug_scanout_release, vdev->scanout);
	if (ret)
		return ret;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;

	drm->mode_config.min_width = 1;
	drm->mode_config.min_height = 1;
	drm->mode_config.max_width = max(vdev->width, DRM_SHADOW_PLANE_MAX_WIDTH);
	drm->mode_config.max_height = max(vdev->height, DRM_SHADOW_PLANE_MAX_HEIGHT);
	drm->mode_config.preferred_depth = 24;
	drm->mode_config.funcs = &vunplug_mode_config_funcs;

	ret = drm_universal_plane_init(drm, &vdev->primary_plane, 0,
				       &vunplug_plane_funcs,
				       vunplug_plane_formats,
				       ARRAY_SIZE(vunplug_plane_formats),
				       NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret)
		return ret;
	drm_plane_helper_add(&vdev->primary_plane, &vunplug_plane_helper_funcs);
	drm_plane_enable_fb_damage_clips(&vdev->primary_plane);

	ret = drm_crtc_init_with_planes(drm, &vdev->crtc, &vdev->primary_plane,
					NULL, &vunplug_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&vdev->crtc, &vunplug_crtc_helper_funcs);

	ret = drm_encoder_init(drm, &vdev->encoder, &vunplug_encoder_funcs,
			       DRM_MODE_ENCODER_VIRTUAL, NULL);
	if (ret)
		return ret;
	vdev->encoder.possible_crtcs = drm_crtc_mask(&vdev->crtc);

	ret = drm_connector_init(drm, &vdev->connector, &vunplug_connector_funcs,
				 DRM_MODE_CONNECTOR_VIRTUAL);
	if (ret)
		return ret;
	drm_connector_helper_add(&vdev->connector, &vunplug_connector_helper_funcs);

	ret = drm_connector_attach_encoder(&vdev->connector, &vdev->encoder);
	if (ret)
		return ret;

	drm_mode_config_reset(drm);

	return 0;
}
