/* SPDX-License-Identifier: MIT */
/*
 * igt_subset.h - the few libigt declarations the tests of igt-tests/ need.
 *
 * Why this file exists: Debian ships libigt.so.0 (package igt-gpu-tools)
 * but no IGT headers, so a test built outside IGT's source tree has nothing
 * to include.  This header declares exactly the part of the libigt ABI that
 * the tests of igt-tests/ use, written against igt-gpu-tools 2.5 as shipped
 * by Debian sid (see `nm -D --defined-only libigt.so.0`), and nothing else.
 *
 * Inside IGT's own tree the tests include "igt.h" instead; they pick this
 * file only when built with -DIGT_SUBSET_BUILD, so their sources compile
 * unchanged in both places.  The macros follow IGT 2.5 syntax
 * (igt_fixture(), `int igt_main_args(...)`), which is what the tree uses.
 *
 * ABI notes, all of which must match libigt exactly:
 *  - igt_subtest_jmpbuf is one jmp_buf (glibc: same type as sigjmp_buf, 200
 *    bytes) owned by libigt.  Fixtures and subtests sigsetjmp() it with
 *    savemask 1; libigt siglongjmp()s back to it with value 1 to leave the
 *    block on success, skip or failure.
 *  - __igt_fixture() returns false when only listing subtests or when an
 *    earlier fixture skipped/failed; __igt_fixture_complete() closes the block.
 *  - __igt_run_subtest() prints the name and returns false for
 *    --list-subtests, returns false for names not matching --run-subtest,
 *    true when the subtest must run; igt_success() ends it (longjmp).
 *  - __igt_fork() returns true in the child, false in the parent; the child
 *    leaves through exit(0), failures exit non-zero and igt_waitchildren()
 *    turns them into a failure of the subtest.
 *  - __igt_fail_assert(), __igt_skip_check() and __igt_abort() never
 *    return; __igt_abort() ends the test with IGT_EXIT_ABORT, which
 *    igt_runner records as an abort of the run.
 *
 * The bench checks this file at build time (bench/igt-abi.sh): the guest's
 * IGT must be IGT_SUBSET_VERSION, the test must link against its
 * libigt.so.0 with every symbol resolved, and when IGT's own headers of
 * that version are at hand, this file is compiled after them with
 * IGT_SUBSET_CHECK defined: every declaration below must then agree with
 * IGT's (a conflicting prototype is a compile error), and the constants
 * are compared with IGT's by static assertions.
 */
#ifndef IGT_SUBSET_H
#define IGT_SUBSET_H

#include <getopt.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The IGT release these declarations were written against. */
#define IGT_SUBSET_VERSION "2.5"

/* Types and constants that IGT's own headers define as well. */
#define IGT_SUBSET_LOG_DEBUG 0
#define IGT_SUBSET_LOG_INFO 1
#define IGT_SUBSET_LOG_WARN 2
#define IGT_SUBSET_OPT_HANDLER_SUCCESS 0
#define IGT_SUBSET_OPT_HANDLER_ERROR -2
#define IGT_SUBSET_EXIT_ABORT 112

typedef int (*igt_opt_handler_t)(int opt, int opt_index, void *data);
typedef void (*igt_exit_handler_t)(int sig);

#ifdef IGT_SUBSET_CHECK
_Static_assert(IGT_LOG_DEBUG == IGT_SUBSET_LOG_DEBUG, "enum igt_log_level");
_Static_assert(IGT_LOG_INFO == IGT_SUBSET_LOG_INFO, "enum igt_log_level");
_Static_assert(IGT_LOG_WARN == IGT_SUBSET_LOG_WARN, "enum igt_log_level");
_Static_assert(IGT_OPT_HANDLER_SUCCESS == IGT_SUBSET_OPT_HANDLER_SUCCESS,
	       "IGT_OPT_HANDLER_SUCCESS");
_Static_assert(IGT_OPT_HANDLER_ERROR == IGT_SUBSET_OPT_HANDLER_ERROR,
	       "IGT_OPT_HANDLER_ERROR");
_Static_assert(IGT_EXIT_ABORT == IGT_SUBSET_EXIT_ABORT, "IGT_EXIT_ABORT");
_Static_assert(sizeof(igt_subtest_jmpbuf) == sizeof(jmp_buf), "igt_subtest_jmpbuf");
_Static_assert(sizeof(igt_dynamic_jmpbuf) == sizeof(jmp_buf), "igt_dynamic_jmpbuf");
#else
enum igt_log_level {
	IGT_LOG_DEBUG = IGT_SUBSET_LOG_DEBUG,
	IGT_LOG_INFO = IGT_SUBSET_LOG_INFO,
	IGT_LOG_WARN = IGT_SUBSET_LOG_WARN,
	IGT_LOG_CRITICAL,
	IGT_LOG_NONE,
};
#define IGT_OPT_HANDLER_SUCCESS IGT_SUBSET_OPT_HANDLER_SUCCESS
#define IGT_OPT_HANDLER_ERROR IGT_SUBSET_OPT_HANDLER_ERROR
#define IGT_EXIT_ABORT IGT_SUBSET_EXIT_ABORT
#define IGT_LOG_DOMAIN (NULL)

#define __igt_tokencat2(x, y) x ## y
#define igt_tokencat(x, y) __igt_tokencat2(x, y)
#define igt_unique(prefix) \
	igt_tokencat(igt_tokencat(__igt_unique__, prefix), __LINE__)

#define IGT_TEST_DESCRIPTION(str) const char *__igt_test_description = str
#endif /* IGT_SUBSET_CHECK */

/* Declarations: in check mode, each must agree with IGT's. */

/* Read by libigt (weak reference) for --help-description. */
extern const char *__igt_test_description __attribute__((weak));
extern jmp_buf igt_subtest_jmpbuf;
extern jmp_buf igt_dynamic_jmpbuf;

int igt_subtest_init_parse_opts(int *argc, char **argv,
				const char *extra_short_opts,
				const struct option *extra_long_opts,
				const char *help_str,
				igt_opt_handler_t extra_opt_handler,
				void *handler_data);
__attribute__((noreturn)) void igt_exit(void);

bool __igt_fixture(void);
void __igt_fixture_complete(void);
bool __igt_run_subtest(const char *subtest_name, const char *file,
		       const int line);
bool __igt_enter_dynamic_container(void);
bool __igt_run_dynamic_subtest(const char *dynamic_subtest_name);
void igt_success(void);
__attribute__((format(printf, 1, 2))) void igt_describe_f(const char *fmt, ...);

__attribute__((noreturn, format(printf, 6, 7)))
void __igt_fail_assert(const char *domain, const char *file, const int line,
		       const char *func, const char *assertion,
		       const char *format, ...);
__attribute__((noreturn, format(printf, 6, 7)))
void __igt_abort(const char *domain, const char *file, const int line,
		 const char *func, const char *expression, const char *f, ...);
__attribute__((noreturn, format(printf, 5, 6)))
void __igt_skip_check(const char *file, const int line, const char *func,
		      const char *check, const char *format, ...);

__attribute__((format(printf, 3, 4)))
void igt_log(const char *domain, enum igt_log_level level,
	     const char *format, ...);

bool __igt_fork(void);
void igt_waitchildren(void);

const char *igt_subtest_name(void);
const char *igt_debugfs_mount(void);
int igt_debugfs_dir(int device);
int igt_kmod_load(const char *mod_name, const char *opts);
void igt_install_exit_handler(igt_exit_handler_t fn);
void kmstest_set_vt_graphics_mode(void);
uint64_t igt_nsec_elapsed(struct timespec *start);
int igt_debugfs_simple_read(int dir, const char *filename, char *buf, int size);
bool __igt_sysfs_get_u32(int dir, const char *attr, uint32_t *value);
int igt_sysfs_read(int dir, const char *attr, void *data, int len);
int igt_sysfs_write(int dir, const char *attr, const void *data, int len);
int igt_system(const char *command);
int igt_device_filter_count(void);
const char *igt_device_filter_get(int num);

/*
 * lib/igt_stats.h: the tests only hand igt_stats_t to its functions, so
 * here it is storage of its size and alignment on x86-64 (LP64, the only
 * libigt.so.0 it is linked with), checked against IGT's.
 */
#define IGT_SUBSET_STATS_SIZE 80
#ifdef IGT_SUBSET_CHECK
_Static_assert(sizeof(igt_stats_t) == IGT_SUBSET_STATS_SIZE, "igt_stats_t");
_Static_assert(_Alignof(igt_stats_t) == _Alignof(uint64_t), "igt_stats_t");
#else
typedef struct {
	uint64_t storage[IGT_SUBSET_STATS_SIZE / sizeof(uint64_t)];
} igt_stats_t;
#endif
void igt_stats_init_with_size(igt_stats_t *stats, unsigned int capacity);
void igt_stats_fini(igt_stats_t *stats);
void igt_stats_push_float(igt_stats_t *stats, double value);
double igt_stats_get_median(igt_stats_t *stats);

/* lib/igt_vkms.h: a vkms device made through configfs (opaque here). */
typedef struct igt_vkms igt_vkms_t;
igt_vkms_t *igt_vkms_device_create(const char *name);
void igt_vkms_device_destroy(igt_vkms_t *dev);
void igt_vkms_device_set_enabled(igt_vkms_t *dev, bool enabled);
void igt_vkms_device_add_plane(igt_vkms_t *dev, const char *name);
void igt_vkms_plane_set_type(igt_vkms_t *dev, const char *name, int type);
bool igt_vkms_plane_attach_crtc(igt_vkms_t *dev, const char *plane_name,
				const char *crtc_name);
void igt_vkms_device_add_crtc(igt_vkms_t *dev, const char *name);
void igt_vkms_device_add_encoder(igt_vkms_t *dev, const char *name);
bool igt_vkms_encoder_attach_crtc(igt_vkms_t *dev, const char *encoder_name,
				  const char *crtc_name);
void igt_vkms_device_add_connector(igt_vkms_t *dev, const char *name);
bool igt_vkms_connector_attach_encoder(igt_vkms_t *dev,
				       const char *connector_name,
				       const char *encoder_name);

#ifndef IGT_SUBSET_CHECK
/*
 * igt_wait(COND, timeout_ms, interval_ms): evaluates COND every interval_ms
 * until it holds (true) or timeout_ms have passed (false), as IGT's.
 */
#define igt_wait(COND, timeout_ms, interval_ms) ({ \
	struct timespec wait_t0__ = {}; \
	bool wait_ok__; \
	for (;;) { \
		uint64_t wait_ms__ = igt_nsec_elapsed(&wait_t0__) >> 20; \
		if ((wait_ok__ = (COND))) \
			break; \
		if (wait_ms__ > (uint64_t)(timeout_ms)) \
			break; \
		usleep(1000 * (interval_ms)); \
	} \
	wait_ok__; \
})

/* main() replacement: `int igt_main_args(...) { ... }` */
#define igt_main_args(short_opts, long_opts, help_str, opt_handler, handler_data) \
	main(int argc, char **argv); \
	static void igt_unique(__real_main)(void); \
	int main(int argc, char **argv) \
	{ \
		igt_subtest_init_parse_opts(&argc, argv, short_opts, long_opts, \
					    help_str, opt_handler, handler_data); \
		igt_unique(__real_main)(); \
		igt_exit(); \
	} \
	static void igt_unique(__real_main)(void)

#define igt_fixture() \
	for (volatile int igt_unique(__fixture) = 0; \
	     igt_unique(__fixture) < 1 && __igt_fixture() && \
	     sigsetjmp(igt_subtest_jmpbuf, 1) == 0; \
	     igt_unique(__fixture)++, __igt_fixture_complete())

#define igt_subtest(name) \
	for (; __igt_run_subtest((name), __FILE__, __LINE__) && \
	       sigsetjmp(igt_subtest_jmpbuf, 1) == 0; \
	     igt_success())

/* A subtest whose results are its dynamic subtests (igt_dynamic). */
#define igt_subtest_with_dynamic(name) \
	for (; __igt_run_subtest((name), __FILE__, __LINE__) && \
	       __igt_enter_dynamic_container() && \
	       sigsetjmp(igt_subtest_jmpbuf, 1) == 0; \
	     igt_success())

#define igt_dynamic(name) \
	for (; __igt_run_dynamic_subtest((name)) && \
	       sigsetjmp(igt_dynamic_jmpbuf, 1) == 0; \
	     igt_success())

#define igt_describe(dsc) igt_describe_f("%s", dsc)

#ifndef ARRAY_SIZE	/* IGT: lib/drmtest.h */
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif

#define igt_fork(child, num_children) \
	for (int child = 0; child < (num_children); child++) \
		for (; __igt_fork(); exit(0))

#define igt_debug(f...) igt_log(IGT_LOG_DOMAIN, IGT_LOG_DEBUG, f)
#define igt_info(f...) igt_log(IGT_LOG_DOMAIN, IGT_LOG_INFO, f)
#define igt_warn(f...) igt_log(IGT_LOG_DOMAIN, IGT_LOG_WARN, f)

#define igt_assert(expr) do { \
	if (!(expr)) \
		__igt_fail_assert(IGT_LOG_DOMAIN, __FILE__, __LINE__, __func__, \
				  #expr, NULL); \
} while (0)
#define igt_assert_f(expr, f...) do { \
	if (!(expr)) \
		__igt_fail_assert(IGT_LOG_DOMAIN, __FILE__, __LINE__, __func__, \
				  #expr, f); \
} while (0)
#define igt_assert_eq(n1, n2) do { \
	int __n1 = (n1), __n2 = (n2); \
	if (__n1 != __n2) \
		__igt_fail_assert(IGT_LOG_DOMAIN, __FILE__, __LINE__, __func__, \
				  #n1 " == " #n2, "error: %d != %d\n", \
				  __n1, __n2); \
} while (0)

/* Ends the whole test: what follows could only run against a broken system. */
#define igt_abort_on_f(expr, f...) do { \
	if ((expr)) \
		__igt_abort(IGT_LOG_DOMAIN, __FILE__, __LINE__, __func__, \
			    #expr, f); \
} while (0)
#define igt_require_f(expr, f...) do { \
	if (!(expr)) \
		__igt_skip_check(__FILE__, __LINE__, __func__, #expr, f); \
	else \
		igt_debug("Test requirement passed: %s\n", #expr); \
} while (0)

#endif /* !IGT_SUBSET_CHECK */

#endif /* IGT_SUBSET_H */
