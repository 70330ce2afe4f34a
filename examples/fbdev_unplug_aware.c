// SPDX-License-Identifier: MIT
/*
 * fbdev_unplug_aware - how an fbdev program survives its device going away.
 *
 * Draws frames into an mmap() of /dev/fbN until the device is unplugged,
 * then unmaps, closes and exits with status 0.  It notices the unplug in
 * whichever of three ways comes first:
 *
 *  1. a kernel uevent: "remove" of its graphics/fbN device (NETLINK_KOBJECT_
 *     UEVENT), checked before every frame without blocking;
 *  2. an ioctl on the fb fd failing with ENODEV (FBIOGET_VSCREENINFO before
 *     every frame; any kernel);
 *  3. SIGBUS while touching the mapping: on a kernel that revokes fbdev
 *     mappings at unplug, a write that races with the unplug faults.  The
 *     handler jumps out of the drawing loop instead of letting the signal
 *     kill the program.  Only a fault inside the mapping is taken; any other
 *     SIGBUS is re-raised with the default action.
 *
 * 1 and 2 alone cannot close the window between the check and the write;
 * 3 alone is enough for correctness, 1 and 2 make the common case clean.
 *
 * Usage: fbdev_unplug_aware /dev/fbN [seconds]   (default: run until unplug)
 * Prints "fbdev_unplug_aware: device went away (<how>)" and exits 0 on
 * unplug; exits 0 after [seconds] otherwise; 1 on a setup error.
 *
 * Build: cc -O2 -o fbdev_unplug_aware fbdev_unplug_aware.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/netlink.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf frame_env;
static uint8_t *volatile map_start;
static volatile size_t map_len;

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
	uint8_t *addr = info->si_addr;

	(void)ctx;
	if (map_start && addr >= map_start && addr < map_start + map_len)
		siglongjmp(frame_env, 1);
	/* Not ours: die of it as if there were no handler. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A netlink socket for kernel uevents, or -1 (then only 2 and 3 apply). */
static int uevent_open(void)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,	/* kernel uevents */
	};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_KOBJECT_UEVENT);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* True if a pending uevent says that graphics/@fbname was removed. */
static int uevent_removed(int fd, const char *fbname)
{
	char buf[4096];
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		const char *slash;

		buf[len] = '\0';
		/* The header is "ACTION@DEVPATH". */
		if (strncmp(buf, "remove@", 7))
			continue;
		slash = strrchr(buf, '/');
		if (slash && !strcmp(slash + 1, fbname) && strstr(buf, "/graphics/"))
			return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Draws frames into @map until the device goes away (returns how that was
 * noticed) or until @end (CLOCK_MONOTONIC seconds, 0: never; returns NULL).
 */
static const char *draw_until_gone(int fd, int uev, const char *fbname,
				   uint8_t *map, double end, unsigned int *frames)
{
	struct fb_var_screeninfo var;
	volatile unsigned int frame = 0;
	const char *how = NULL;

	if (sigsetjmp(frame_env, 1)) {
		*frames = frame;
		return "SIGBUS on the mapping";
	}
	while (!end || now() < end) {
		if (uev >= 0 && uevent_removed(uev, fbname)) {
			how = "uevent: remove";
			break;
		}
		if (ioctl(fd, FBIOGET_VSCREENINFO, &var)) {
			how = errno == ENODEV ? "ioctl: ENODEV" : "ioctl failed";
			break;
		}
		/* One frame: the whole screen in the next colour. */
		memset(map, frame * 37, map_len);
		frame++;
		usleep(20000);
	}
	*frames = frame;
	return how;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	const char *how, *fbname;
	unsigned int frames;
	double end = 0;
	uint8_t *map;
	int fd, uev;

	if (argc < 2) {
		fprintf(stderr, "usage: %s /dev/fbN [seconds]\n", argv[0]);
		return 1;
	}
	if (argc > 2)
		end = now() + atof(argv[2]);
	fbname = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];

	/* Listen before opening, so that no remove event can be missed. */
	uev = uevent_open();
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) ||
	    ioctl(fd, FBIOGET_VSCREENINFO, &var)) {
		fprintf(stderr, "fbdev_unplug_aware: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	map_len = (size_t)fix.line_length * var.yres;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "fbdev_unplug_aware: mmap: %s\n", strerror(errno));
		return 1;
	}
	map_start = map;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	printf("fbdev_unplug_aware: drawing to %s (%ux%u)\n", argv[1], var.xres, var.yres);
	fflush(stdout);

	how = draw_until_gone(fd, uev, fbname, map, end, &frames);

	/* Either way, the mapping and the fd are released normally. */
	map_start = NULL;
	munmap(map, map_len);
	close(fd);
	if (uev >= 0)
		close(uev);
	if (how)
		printf("fbdev_unplug_aware: device went away (%s) after %u frames\n",
		       how, frames);
	else
		printf("fbdev_unplug_aware: %u frames, device still there\n", frames);
	return 0;
}
