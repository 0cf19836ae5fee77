/* tcp_timer.h — a hierarchical timing wheel (Varghese & Lauck), one per
 * engine: O(1) start and stop, expiry amortised O(1) per tick, and every
 * timer fires on its exact tick. Timers are embedded in their owner and
 * never allocated. */
#ifndef TCP_TIMER_H
#define TCP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_WHEEL_BITS   8
#define TCP_WHEEL_SLOTS  (1u << TCP_WHEEL_BITS)
/* Reach 2^32 ticks: 32767 s of keepalive at the smallest tick (10 us).
 * A timer due later is parked at the far end and placed again. */
#define TCP_WHEEL_LEVELS 4
/* A slot of level L >= 1 spans 2^(8L) ticks and is TCP_WHEEL_LANES lists:
 * the lane is the next TCP_WHEEL_LANE_BITS bits of the expiry below the
 * slot's own digit. Cascading walks the lanes side by side, with one cache
 * miss per lane in flight instead of one per timer (tcp_timer.c). A level
 * 0 slot is one tick and uses lane 0 only. */
#define TCP_WHEEL_LANE_BITS 3
#define TCP_WHEEL_LANES  (1u << TCP_WHEEL_LANE_BITS)

struct tcp_timer {
	struct tcp_timer *next;
	struct tcp_timer **pprev;  /* NULL when not armed */
	uint64_t expires;          /* absolute tick */
	uint8_t kind;              /* owner's tag, for dispatch */
};

struct tcp_wheel {
	uint64_t now_tick;         /* next tick to be processed */
	uint32_t armed;
	/* Every list ends at nil rather than NULL, so unlinking writes the
	 * successor's back link without testing for one (a test on a
	 * pointer just fetched from a cold timer mispredicts often). */
	struct tcp_timer nil;
	/* Bit (L * TCP_WHEEL_SLOTS + s) is set whenever slot s of level L may
	 * hold a timer: set on insert, cleared only when a run finds the
	 * slot empty (a stop leaves it), so a clear bit means empty. */
	uint64_t busy[TCP_WHEEL_LEVELS * TCP_WHEEL_SLOTS / 64];
	/* List (L, s, lane) is list[(L * TCP_WHEEL_SLOTS + s) *
	 * TCP_WHEEL_LANES + lane]: a slot's lanes fill one cache line. */
	struct tcp_timer *list[TCP_WHEEL_LEVELS * TCP_WHEEL_SLOTS *
			       TCP_WHEEL_LANES] __attribute__((aligned(64)));
};

typedef void (*tcp_timer_fn)(void *ctx, struct tcp_timer *t);

void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tick);
/* (Re)arm t to fire at absolute tick `expires` (past ticks fire next run). */
void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expires);
void tcp_timer_stop(struct tcp_wheel *w, struct tcp_timer *t);
/* Fire every timer due at or before `tick`, in tick order (those due on
 * the same tick in no set order); during a callback w->now_tick is the
 * tick being fired. A callback may arm or stop any timer, including the
 * one that fired; one it arms for that tick or earlier fires in this run.
 * Returns how many fired. */
uint32_t tcp_wheel_run(struct tcp_wheel *w, uint64_t tick, tcp_timer_fn fn,
		       void *ctx);

static inline bool tcp_timer_armed(const struct tcp_timer *t)
{
	return t->pprev != NULL;
}

#endif
