// SPDX-License-Identifier: MIT
/*
 * The bench guest's mounts in one process: under TCG every exec is
 * slow, and mount(8) would be one exec per mount.
 * Exits 1 if the bench share (job and results) cannot be mounted, after
 * trying everything else; the other mounts are reported and skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

struct bench_mount {
	const char *source, *target, *type, *options;
	unsigned long flags;
	int required;
};

static const char *const dirs[] = {
	"/dev/pts", "/dev/shm", "/run/bench", "/tmp/lib",
};

static const struct bench_mount mounts[] = {
	{ "proc", "/proc", "proc", NULL, 0, 0 },
	{ "sysfs", "/sys", "sysfs", NULL, 0, 0 },
	{ "devtmpfs", "/dev", "devtmpfs", NULL, 0, 0 },
	{ "devpts", "/dev/pts", "devpts", NULL, 0, 0 },
	{ "tmpfs", "/dev/shm", "tmpfs", NULL, 0, 0 },
	{ "tmpfs", "/tmp", "tmpfs", NULL, 0, 0 },
	{ "tmpfs", "/run", "tmpfs", NULL, 0, 0 },
	{ "debugfs", "/sys/kernel/debug", "debugfs", NULL, 0, 0 },
	{ "configfs", "/sys/kernel/config", "configfs", NULL, 0, 0 },
	/*
	 * The shared libraries of igt_runner and the tests (build-guest.sh's
	 * libs.img, the guest's one disk), for LD_LIBRARY_PATH; without it
	 * they load from the 9p root, slower.
	 */
	{ "/dev/vda", "/tmp/lib", "ext4", NULL, MS_RDONLY, 0 },
	/*
	 * Cached: igt_runner --sync flushes each result as it is written,
	 * and its many small writes do not wait for the host one by one.
	 */
	{ "bench", "/run/bench", "9p",
	  "trans=virtio,version=9p2000.L,msize=262144,cache=loose", 0, 1 },
};

static void make_dirs(const char *under)
{
	size_t len = strlen(under);

	for (unsigned int i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (!strncmp(dirs[i], under, len) && dirs[i][len] == '/' &&
		    mkdir(dirs[i], 0755) && errno != EEXIST)
			fprintf(stderr, "bench: mkdir %s: %m\n", dirs[i]);
}

int main(void)
{
	int ret = 0;

	for (unsigned int i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct bench_mount *m = &mounts[i];

		if (mount(m->source, m->target, m->type, m->flags, m->options) &&
		    errno != EBUSY) {	/* devtmpfs: the kernel mounted it */
			fprintf(stderr, "bench: mounting %s on %s failed: %m\n",
				m->type, m->target);
			if (m->required)
				ret = 1;
		}
		make_dirs(m->target);
	}
	return ret;
}
