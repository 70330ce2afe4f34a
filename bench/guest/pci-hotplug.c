// SPDX-License-Identifier: MIT
/*
 * pci-hotplug - the bench guest's PCI hot-unplug through QEMU, for the
 * tests' "device-del" removal path (FBDEV_UNPLUG_HOTPLUG names it).
 *
 *   pci-hotplug probe      exit 0 if QEMU's monitor answers
 *   pci-hotplug del BDF    QEMU device_del of the device at BDF; remembers
 *                          how to add it back (under /run/pci-hotplug)
 *   pci-hotplug add BDF    device_add of the device deleted at BDF into a
 *                          free hot-plug slot of its bus; prints its new BDF
 *
 * The guest reaches QEMU's monitor (QMP) through a virtio-serial port named
 * org.qemu.qmp (or the device $PCI_HOTPLUG_QMP names). The connection
 * outlives each process: the greeting came once per boot, capabilities may
 * already be negotiated (QEMU then answers with an error, which is fine)
 * and events of earlier commands may be waiting, so replies are matched by
 * their id. Errors go to stderr with exit status 1.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_DIR	"/run/pci-hotplug"

static int qmp_fd = -1;
static char qmp_buf[65536];
static size_t qmp_len;
static char qmp_reply[65536];

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("pci-hotplug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

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

static bool qmp_port(char *path, size_t size)
{
	const char *env = getenv("PCI_HOTPLUG_QMP");
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

	snprintf(id, sizeof(id), "\"id\": \"pci-hotplug-%d-%d\"", getpid(), ++seq);
	len = snprintf(line, sizeof(line), "{%s, %s}\n", members, id);
	if (write(qmp_fd, line, len) != len)
		return false;
	while (qmp_line(qmp_reply, sizeof(qmp_reply), 10000))
		if (strstr(qmp_reply, id))
			return strstr(qmp_reply, "\"return\"") != NULL;
	snprintf(qmp_reply, sizeof(qmp_reply), "(no reply in 10 s)");
	return false;
}

static bool qmp_open(void)
{
	char path[PATH_MAX];

	if (!qmp_port(path, sizeof(path)))
		return false;
	qmp_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (qmp_fd < 0)
		return false;
	qmp_cmd("\"execute\": \"qmp_capabilities\"");
	if (strstr(qmp_reply, "\"return\"") || strstr(qmp_reply, "\"error\""))
		return true;
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

/* QEMU's query-pci reply, for the caller to free. */
static char *qmp_query_pci(void)
{
	char *pci;

	if (!qmp_cmd("\"execute\": \"query-pci\""))
		die("query-pci: %s", qmp_reply);
	pci = strdup(qmp_reply);
	if (!pci)
		die("out of memory");
	return pci;
}

/* What add needs of a deleted device, kept in STATE_DIR/<bdf>. */
struct deleted {
	char id[64];	/* QEMU's id of the device */
	char type[64];	/* its QEMU device type */
	char bus[64];	/* the id of the bridge it was behind ("-": root bus) */
	char qpath[64];	/* QEMU's path of its bus, "0000:00:" */
};

static void state_path(const char *bdf, char *out, size_t size)
{
	snprintf(out, size, STATE_DIR "/%s", bdf);
}

static int cmd_del(const char *bdf)
{
	char cmd[256], bridge[16], path[PATH_MAX], *pci, *ret;
	struct deleted d = { .bus = "-" };
	int bus, slot;
	FILE *f;

	if (sscanf(bdf, "%*x:%x:%x.", &bus, &slot) != 2)
		die("not a PCI address: %s", bdf);
	pci = qmp_query_pci();
	if (!qmp_pci_id(pci, bus, slot, d.id, sizeof(d.id)) || !d.id[0])
		die("QEMU's query-pci has no device id for %s: %.300s", bdf, pci);
	/* behind a bridge, device_add names the bridge's bus (its id) */
	snprintf(d.qpath, sizeof(d.qpath), "%.8s", bdf);
	if (pci_bridge_of(bdf, bridge, sizeof(bridge))) {
		int bbus, bslot;

		if (sscanf(bridge, "%*x:%x:%x.", &bbus, &bslot) != 2 ||
		    !qmp_pci_id(pci, bbus, bslot, d.bus, sizeof(d.bus)) || !d.bus[0])
			die("QEMU's query-pci has no id for the bridge %s of %s", bridge, bdf);
		qemu_dev_path(bridge, d.qpath, sizeof(d.qpath) - 1);
		strcat(d.qpath, ":");
	}
	free(pci);
	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral/%s\", \"property\": \"type\"}",
		 d.id);
	if (!qmp_cmd(cmd) || !(ret = strstr(qmp_reply, "\"return\": \"")))
		die("qom-get type of %s: %s", d.id, qmp_reply);
	snprintf(d.type, sizeof(d.type), "%.*s", (int)strcspn(ret + 11, "\""), ret + 11);

	mkdir(STATE_DIR, 0755);
	state_path(bdf, path, sizeof(path));
	f = fopen(path, "we");
	if (!f || fprintf(f, "%s %s %s %s\n", d.id, d.type, d.bus, d.qpath) < 0 || fclose(f))
		die("cannot write %s: %m", path);
	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"device_del\", \"arguments\": {\"id\": \"%s\"}", d.id);
	if (!qmp_cmd(cmd))
		die("device_del %s: %s", d.id, qmp_reply);
	return 0;
}

static int cmd_add(const char *bdf)
{
	char cmd[512], id[64], bus[96] = "", path[PATH_MAX], addr[32], line[512];
	char *pci;
	struct deleted d;
	struct dirent *de;
	int slot = -1, busnr;
	DIR *dir;

	state_path(bdf, path, sizeof(path));
	if (!read_text(path, line, sizeof(line)) ||
	    sscanf(line, "%63s %63s %63s %63s", d.id, d.type, d.bus, d.qpath) != 4)
		die("%s was not deleted by pci-hotplug del (no %s)", bdf, path);
	if (sscanf(bdf, "%*x:%x:", &busnr) != 1)
		die("not a PCI address: %s", bdf);
	/*
	 * QEMU 7.2 never finalizes an unplugged display device (no
	 * DEVICE_DELETED event; its memory stays registered under the old
	 * address, and a device_add there aborts QEMU): take a slot that
	 * neither holds a device nor the memory of an old one.
	 */
	pci = qmp_query_pci();
	if (!qmp_cmd("\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info ramblock\"}"))
		die("info ramblock: %s", qmp_reply);
	dir = opendir("/sys/bus/pci/slots");
	while (dir && (de = readdir(dir))) {
		char spath[PATH_MAX];
		int s;

		/* a hotplug slot's address is <domain>:<bus>:<slot> */
		snprintf(spath, sizeof(spath), "/sys/bus/pci/slots/%s/address", de->d_name);
		if (de->d_name[0] == '.' || !read_text(spath, addr, sizeof(addr)) ||
		    strncmp(addr, bdf, 8) || sscanf(addr + 8, "%x", &s) != 1)
			continue;
		if ((slot < 0 || s < slot) &&
		    !qmp_slot_taken(pci, qmp_reply, busnr, s, d.qpath))
			slot = s;
	}
	if (dir)
		closedir(dir);
	free(pci);
	if (slot < 0)
		die("no free hotplug slot left on bus %.7s to add %s back", bdf, d.type);
	snprintf(id, sizeof(id), "%.*s.s%d", (int)strcspn(d.id, "."), d.id, slot);
	if (strcmp(d.bus, "-"))
		snprintf(bus, sizeof(bus), ", \"bus\": \"%s\"", d.bus);
	snprintf(cmd, sizeof(cmd),
		 "\"execute\": \"device_add\", \"arguments\": {\"driver\": \"%s\", \"id\": \"%s\"%s, \"addr\": \"%#x\"}",
		 d.type, id, bus, slot);
	if (!qmp_cmd(cmd))
		die("device_add %s,id=%s%s%s,addr=%#x: %s", d.type, id,
		    strcmp(d.bus, "-") ? ",bus=" : "", strcmp(d.bus, "-") ? d.bus : "",
		    slot, qmp_reply);
	unlink(path);
	printf("%.8s%02x.0\n", bdf, slot & 0x1f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "probe") && argc != 3)) {
		fprintf(stderr, "usage: pci-hotplug probe | del BDF | add BDF\n");
		return 2;
	}
	if (!qmp_open()) {
		if (strcmp(argv[1], "probe"))
			die("QEMU's monitor port (virtio-serial org.qemu.qmp) does not answer");
		return 1;
	}
	if (!strcmp(argv[1], "probe"))
		return 0;
	if (!strcmp(argv[1], "del"))
		return cmd_del(argv[2]);
	if (!strcmp(argv[1], "add"))
		return cmd_add(argv[2]);
	die("unknown command %s", argv[1]);
	return 2;
}
