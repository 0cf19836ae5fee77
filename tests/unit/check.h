/* check.h — assertions of the unit tests: the first failing one prints
 * "FAIL <test>: file:line: expected vs got", dumps the tail of the wire
 * trace, and ends the process with status 1 (one test per process). */
#ifndef DPT_TEST_CHECK_H
#define DPT_TEST_CHECK_H

#include <inttypes.h>
#include <stdint.h>

#include "sim.h"

extern const char *g_test_name;
extern struct sim *g_sim;      /* the simulation whose trace a failure dumps */

_Noreturn void check_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Exit status 77: meson reports the test as skipped. */
_Noreturn void check_skip(const char *why);
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                                          \
	do {                                                                  \
		if (!(cond))                                                  \
			check_fail(__FILE__, __LINE__, "%s", #cond);          \
	} while (0)

#define CHECK_MSG(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond))                                                  \
			check_fail(__FILE__, __LINE__, __VA_ARGS__);          \
	} while (0)

#define CHECK_EQ(exp, got)                                                   \
	do {                                                                  \
		uint64_t _e = (uint64_t)(exp), _g = (uint64_t)(got);          \
		if (_e != _g)                                                 \
			check_fail(__FILE__, __LINE__,                        \
				   "%s == %s: expected %" PRId64 " (0x%" PRIx64 \
				   "), got %" PRId64 " (0x%" PRIx64 ")",      \
				   #got, #exp, (int64_t)_e, _e, (int64_t)_g, _g); \
	} while (0)

#define CHECK_CMP(a, op, b)                                                  \
	do {                                                                  \
		int64_t _a = (int64_t)(a), _b = (int64_t)(b);                 \
		if (!(_a op _b))                                              \
			check_fail(__FILE__, __LINE__,                        \
				   "%s %s %s: got %" PRId64 " vs %" PRId64,   \
				   #a, #op, #b, _a, _b);                      \
	} while (0)

#define CHECK_STATE(exp, got)                                                \
	do {                                                                  \
		enum dpt_state _e = (exp), _g = (got);                        \
		if (_e != _g)                                                 \
			check_fail(__FILE__, __LINE__,                        \
				   "state %s: expected %s, got %s", #got,     \
				   check_state_name(_e), check_state_name(_g)); \
	} while (0)

/* Flags compare exactly except PSH, which a sender may set at will. */
#define CHECK_FLAGS(seg, fl) check_flags(__FILE__, __LINE__, (seg), (fl))
/* flags, seq and ack of a segment as the RFC fixes them. */
#define CHECK_SEG(seg, fl, sq, ak)                                           \
	check_seg(__FILE__, __LINE__, (seg), (fl), (sq), (ak), true)
/* flags and seq only (ack not significant, e.g. a RST without ACK). */
#define CHECK_SEG_NOACK(seg, fl, sq)                                         \
	check_seg(__FILE__, __LINE__, (seg), (fl), (sq), 0, false)

/* Pop the next segment the engine sent to the raw peer, or fail. */
#define RAW_EXPECT(rp, pkt)                                                  \
	do {                                                                  \
		if (!raw_pop((rp), (pkt)))                                    \
			check_fail(__FILE__, __LINE__,                        \
				   "expected a segment to the raw peer, none came"); \
	} while (0)
#define RAW_EXPECT_NONE(rp)                                                  \
	check_raw_none(__FILE__, __LINE__, (rp))

const char *check_state_name(enum dpt_state s);
void check_flags(const char *file, int line, const struct sim_seg *g, uint8_t fl);
void check_seg(const char *file, int line, const struct sim_seg *g, uint8_t fl,
	       uint32_t seq, uint32_t ack, bool check_ack);
void check_raw_none(const char *file, int line, struct raw_peer *rp);

#endif
