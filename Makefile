# SPDX-License-Identifier: MIT
# vunplug bench: builds Linux 7.2 (Debian's source, or KERNEL_SRC) with the
# patch series and the vunplug driver, a Debian sid guest with IGT, boots
# it in QEMU and runs igt_runner. See README.md.

BENCH_CACHE ?= $(HOME)/.cache/vunplug-bench
BENCH_OUT ?= $(CURDIR)/out
KERNEL_SRC ?=
KERNEL_PKG ?= linux-source-7.2
TESTLIST ?= $(CURDIR)/tests/testlist.txt
export BENCH_CACHE BENCH_OUT KERNEL_SRC KERNEL_PKG TESTLIST

B := sh $(CURDIR)/bench

.PHONY: all check compare quick kernel kernel-stock guest run run-stock summary series \
	checkpatch series-build bench-defio behaviour selftest clean clean-cache help

# The main job: our kernel, the guest, one VM run, the results table.
all:
	@$(B)/run.sh fixed

# The tests: both kernels, checked against the expectations files.
check:
	@$(B)/check.sh

# Re-evaluate the results of the last `make check` (no build, no boot),
# e.g. after editing the expectations files.
compare:
	@$(B)/check.sh --compare

# The edit loop: the fixed kernel, one boot, tests/testlist-quick.txt on
# vunplug only, into $(BENCH_OUT)/quick (make check's results stay). The
# guest has no PCI display device: vunplug and vfbdefio need none.
# vunplug's displays are 320x240 (75 pages a framebuffer, 768 at its
# default 1024x768): the tests touch every page of a mapping, and those
# page faults are most of their time under TCG. The guest loads no module
# before the tests (BENCH_MODULES empty unless you set it): the tests
# load vunplug and vfbdefio themselves, from a process that has libkmod
# loaded already, where modprobe would be one more exec.
quick:
	@BENCH_DISPLAYS= BENCH_VMS=1 BENCH_MODULES="$${BENCH_MODULES-}" \
	  BENCH_CMDLINE="vunplug.width=320 vunplug.height=240$${BENCH_CMDLINE:+ $$BENCH_CMDLINE}" \
	  TESTLIST=$(CURDIR)/tests/testlist-quick.txt $(B)/run.sh fixed quick

kernel kernel-stock:
	@$(B)/host-deps.sh
	@guest=$$($(B)/build-guest.sh) && \
	  $(B)/build-kernel.sh $(if $(filter kernel-stock,$@),stock,fixed) "$$guest"

guest:
	@$(B)/host-deps.sh
	@$(B)/build-guest.sh >/dev/null

run run-stock:
	@$(B)/run.sh --no-build $(if $(filter run-stock,$@),stock,fixed)

summary:
	@$(B)/summary.sh fixed

# The series as git format-patch files with a cover letter, in out/series.
series:
	@$(B)/series.sh

checkpatch:
	@$(B)/checkpatch.sh

# Every prefix of the series builds: the fix patches one by one, fbdev and
# DRM compiled with -Werror after each.
series-build:
	@$(B)/series-build.sh

# The cost of the series on deferred I/O: both kernels, figures and ratios.
bench-defio:
	@$(B)/perf.sh

# The README's table for compositor authors, from the last `make check`.
behaviour:
	@$(B)/behaviour.sh

# Proves the crash handling: a guest that panics, and one that hangs, are
# reported with partial results instead of stalling.
selftest:
	@$(B)/selftest.sh

clean:
	rm -rf $(BENCH_OUT)

# Wipes everything cached: Debian packages, kernel trees, ccache, guest.
clean-cache:
	rm -rf $(BENCH_CACHE)

help:
	@sed -n '/^# /p' README.md | head -n 1; \
	 echo "make            build kernel + guest, run the tests in QEMU"; \
	 echo "make check      both kernels (stock 7.2 and with the series) vs expectations"; \
	 echo "make quick      the edit loop: fixed kernel, a few subtests on vunplug only"; \
	 echo "make series     write the patch series to out/series"; \
	 echo "make selftest   show that a panicking or hung guest is reported"; \
	 echo "make clean / make clean-cache"
