// SPDX-License-Identifier: MIT
/*
 * fbdev_programs - real fbdev programs across DRM hot-unplug.
 *
 * Each subtest starts a program that draws into /dev/fbN through its own
 * mmap() of it, waits until its frames reach the device, unplugs the device
 * and checks how the program ends: ffmpeg's fbdev output device and the X
 * server with its fbdev driver are stopped by SIGBUS on the revoked mapping;
 * examples/fbdev_unplug_aware, the recipe for programs that want to survive
 * the unplug, notices it and exits with status 0. The kernel must log no
 * report. Targets as in fbdev_unplug (fbdev_target.h). A program that is
 * not installed makes its subtest skip, naming the software to install; the
 * example is looked for in $FBDEV_UNPLUG_EXAMPLES.
 */

/**
 * TEST: fbdev programs
 * Category: Core
 * Description: Real fbdev programs across DRM hot-unplug
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
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbdev_target.h"

IGT_TEST_DESCRIPTION("Check how real fbdev programs drawing into a mapping "
		     "of the fb end when the DRM device behind it is "
		     "hot-unplugged.");

/* --- real fbdev programs ----------------------------------------------- */

#define PROG_DRAW_TIMEOUT_MS	90000	/* program start, emulated and with KASAN */
#define PROG_END_TIMEOUT_MS	15000	/* after the unplug has completed */

/* A program from PATH, run with its output captured. */
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
	igt_require_f(in_path(file), "%s not found in PATH (install %s)\n",
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
 * Unplugs @d while @p draws into it and waits for @p to end. Logs how it
 * ended and when, fails on a kernel report, then checks the outcome against
 * @expect.
 */
static void unplug_under_prog(int kmsg, struct vdev *d, struct prog *p,
			      enum prog_expect expect,
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

	prog_require("ffmpeg", "FFmpeg");
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
	unplug_under_prog(kmsg, d, p, ENDS_BY_SIGBUS, NULL);
	vdev_free(d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	igt_assert_f(f, "cannot create %s: %m\n", path);
	fputs(text, f);
	igt_assert_f(fclose(f) == 0, "writing %s: %m\n", path);
}

/* Whether the X server's module path has xf86-video-fbdev. */
static bool xorg_has_fbdev_driver(void)
{
	char dirs[PATH_MAX], path[PATH_MAX + 32], *save;
	FILE *f = popen("Xorg -showDefaultModulePath 2>&1", "re");	/* on stderr */
	bool found = false;

	if (!f)
		return false;
	if (fgets(dirs, sizeof(dirs), f)) {
		dirs[strcspn(dirs, "\n")] = '\0';
		for (char *dir = strtok_r(dirs, ",", &save); dir && !found;
		     dir = strtok_r(NULL, ",", &save)) {
			snprintf(path, sizeof(path), "%s/drivers/fbdev_drv.so", dir);
			found = access(path, R_OK) == 0;
		}
	}
	pclose(f);
	return found;
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

	prog_require("Xorg", "the X.Org X server");
	prog_require("ico", "ico, one of the X11 demo programs");
	igt_require_f(xorg_has_fbdev_driver(),
		      "Xorg's fbdev driver (fbdev_drv.so, xf86-video-fbdev) is not in its module path\n");
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
	unplug_under_prog(kmsg, d, x, ENDS_BY_SIGBUS, "Bus error");
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

	/* $FBDEV_UNPLUG_EXAMPLES/fbdev_unplug_aware, else from PATH */
	snprintf(path, sizeof(path), "%s%sfbdev_unplug_aware", dir ? dir : "",
		 dir ? "/" : "");
	igt_require_f(dir ? access(path, X_OK) == 0 : in_path(path),
		      "%s not found: build examples/fbdev_unplug_aware.c (FBDEV_UNPLUG_EXAMPLES names its directory, else PATH is searched)\n",
		      path);
	kmsg = subtest_begin();
	d = vdev_add(t);
	vdev_close_fb(d);
	snprintf(fbpath, sizeof(fbpath), "/dev/fb%d", d->fb);

	p = prog_start(argv);
	assert_prog_draws(d, p, NULL);
	unplug_under_prog(kmsg, d, p, ENDS_CLEANLY, NULL);
	igt_assert_f(strstr(p->log, "device went away"),
		     "the example did not report the unplug: %s\n", p->log);
	vdev_free(d);
}

static const struct {
	const char *name;
	void (*test)(struct target *t);
} programs[] = {
	{ "ffmpeg-after-unplug", test_ffmpeg_after_unplug },
	{ "xorg-fbdev-after-unplug", test_xorg_after_unplug },
	{ "example-after-unplug", test_example_after_unplug },
};

static int opt_handler(int opt, int opt_index, void *data)
{
	(void)opt_index;
	(void)data;
	return opt == 'r' ? target_opt_handler(optarg) : IGT_OPT_HANDLER_ERROR;
}

static const struct option long_opts[] = {
	{ "removal", required_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

int igt_main_args("r:", long_opts, TARGET_HELP, opt_handler, NULL)
{
	igt_fixture() {
		fbdev_target_init();
		leftovers_hook = stop_leftover_progs;
	}

	for (volatile unsigned int i = 0; i < ARRAY_SIZE(programs); i++) {
		igt_subtest(programs[i].name)
			run_on_target(programs[i].test, 0);
		igt_fixture()
			free_leftovers();
	}
}
