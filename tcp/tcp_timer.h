/* tcp_timer.h — a hierarchical timing wheel (Varghese & Lauck), one per
 * engine: O(1) start and stop, expiry amortised O(1) per tick. Timers are
 * embedded in their owner and never allocated. */
#ifndef TCP_TIMER_H
#define TCP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_WHEEL_BITS   8
#define TCP_WHEEL_SLOTS  (1u << TCP_WHEEL_BITS)
#define TCP_WHEEL_LEVELS 4

struct tcp_timer {
	struct tcp_timer *next;
	struct tcp_timer **pprev;  /* NULL when not armed */
	uint64_t expires;          /* absolute tick */
	uint8_t kind;              /* owner's tag, for dispatch */
};

struct tcp_wheel {
	uint64_t now_tick;         /* next tick to be processed */
	uint32_t armed;
	struct tcp_timer *slot[TCP_WHEEL_LEVELS][TCP_WHEEL_SLOTS];
};

typedef void (*tcp_timer_fn)(void *ctx, struct tcp_timer *t);

void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tick);
/* (Re)arm t to fire at absolute tick `expires` (past ticks fire next run). */
void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expires);
void tcp_timer_stop(struct tcp_wheel *w, struct tcp_timer *t);
/* Fire every timer due at or before `tick`, in tick order. A callback may
 * arm or stop any timer, including the one that fired. Returns how many fired. */
uint32_t tcp_wheel_run(struct tcp_wheel *w, uint64_t tick, tcp_timer_fn fn,
		       void *ctx);

static inline bool tcp_timer_armed(const struct tcp_timer *t)
{
	return t->pprev != NULL;
}

#endif
