/* tcp_timer.c — the hierarchical timing wheel: a level-L slot holds the
 * timers due within 2^(8(L+1)) ticks; when level 0 wraps, the next slot of
 * the level above is cascaded down, so each timer fires on its exact tick. */
#include <string.h>

#include "tcp_timer.h"

/* Why it is built this way: with a million timers scattered over memory,
 * expiry costs cache misses, not instructions. Each timer is touched
 * twice: when its upper-level slot cascades, and when it fires. Following
 * one list at a cascade waits for one miss per timer; following the
 * TCP_WHEEL_LANES lanes of the slot side by side, each next timer
 * prefetched as soon as it is known, keeps that many in flight. Arming
 * stays as cheap as before because the lane comes from bits of the expiry
 * already at hand (no counter, no extra memory touched); timers due
 * within the same 1/8 of a slot share a lane, so a burst armed for one
 * instant is walked one miss at a time, as every slot was before. The
 * loop that advances time jumps over empty slots with a bitmap. */

#define SLOT_MASK  (TCP_WHEEL_SLOTS - 1)
#define LEVEL_LISTS (TCP_WHEEL_SLOTS * TCP_WHEEL_LANES)
/* The farthest a timer can be placed (see TCP_WHEEL_LEVELS). */
#define WHEEL_SPAN (1ull << (TCP_WHEEL_BITS * TCP_WHEEL_LEVELS))

static inline bool busy_test(const struct tcp_wheel *w, unsigned int s)
{
	return (w->busy[s / 64] >> (s % 64)) & 1;
}

static inline void busy_clear(struct tcp_wheel *w, unsigned int s)
{
	w->busy[s / 64] &= ~(1ull << (s % 64));
}

/* The first level-0 slot at or after idx whose busy bit is set,
 * TCP_WHEEL_SLOTS if none. */
static inline unsigned int busy_next0(const struct tcp_wheel *w,
				      unsigned int idx)
{
	while (idx < TCP_WHEEL_SLOTS) {
		uint64_t word = w->busy[idx / 64] >> (idx % 64);

		if (word != 0)
			return idx + (unsigned int)__builtin_ctzll(word);
		idx = (idx | 63) + 1;
	}
	return TCP_WHEEL_SLOTS;
}

/* Inlined everywhere, and without a loop or a branch on the level: arming
 * a million cold timers is bound by misses the CPU overlaps across calls,
 * and every instruction here shrinks how many calls fit in its window. */
static inline __attribute__((always_inline)) void
place(struct tcp_wheel *w, struct tcp_timer *t)
{
	uint64_t e = t->expires;
	uint64_t delta = e - w->now_tick;
	struct tcp_timer **head;
	unsigned int lvl, l;

	if (__builtin_expect(delta >= WHEEL_SPAN, 0)) {
		if ((int64_t)delta < 0) {       /* overdue: the next tick run */
			e = w->now_tick;
			delta = 0;
		} else {                        /* parked, placed again later */
			e = w->now_tick + WHEEL_SPAN - 1;
			delta = WHEEL_SPAN - 1;
		}
	}
	/* Level = how many whole 8-bit digits lie above delta's top digit:
	 * delta < 2^8 → 0, < 2^16 → 1, ... */
	lvl = (unsigned int)(63 - __builtin_clzll(delta | 1)) / TCP_WHEEL_BITS;
	/* The slot digit of e at that level and the lane bits just below it
	 * (zeros shifted in at level 0: lane 0). e < now + 2^32, far below
	 * 2^61, so the left shift loses nothing. */
	l = lvl * LEVEL_LISTS +
	    (unsigned int)(((e << TCP_WHEEL_LANE_BITS) >>
			    (TCP_WHEEL_BITS * lvl)) & (LEVEL_LISTS - 1));
	head = &w->list[l];
	t->next = *head;
	t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
	l /= TCP_WHEEL_LANES;
	w->busy[l / 64] |= 1ull << (l % 64);
}

void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tick)
{
	unsigned int i;

	memset(w, 0, sizeof(*w));
	w->now_tick = now_tick;
	for (i = 0; i < TCP_WHEEL_LEVELS * LEVEL_LISTS; i++)
		w->list[i] = &w->nil;
}

static inline void unlink_timer(struct tcp_timer *t)
{
	*t->pprev = t->next;
	t->next->pprev = t->pprev;
}

void tcp_timer_stop(struct tcp_wheel *w, struct tcp_timer *t)
{
	if (t->pprev == NULL)
		return;
	unlink_timer(t);
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
}

void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expires)
{
	if (t->pprev != NULL)
		unlink_timer(t);        /* re-armed in place: still armed */
	else
		w->armed++;
	t->expires = expires;
	place(w, t);
}

/* Re-places every timer of the current slot of level lvl (they fall to
 * lower levels), then, on a wrap, does the same one level up. The lanes
 * are followed side by side and each successor is prefetched as soon as
 * it is read, so that a miss per lane is outstanding. No callback runs
 * here: nothing can stop a timer while it sits in cur[]. */
static void cascade(struct tcp_wheel *w, unsigned int lvl)
{
	unsigned int idx = (w->now_tick >> (TCP_WHEEL_BITS * lvl)) & SLOT_MASK;
	unsigned int s = lvl * TCP_WHEEL_SLOTS + idx;

	if (busy_test(w, s)) {
		struct tcp_timer **lane = &w->list[s * TCP_WHEEL_LANES];
		struct tcp_timer *cur[TCP_WHEEL_LANES];
		unsigned int j, live;

		busy_clear(w, s);
		for (j = 0; j < TCP_WHEEL_LANES; j++) {
			cur[j] = lane[j];
			lane[j] = &w->nil;
		}
		do {
			live = 0;
			for (j = 0; j < TCP_WHEEL_LANES; j++) {
				struct tcp_timer *t = cur[j];

				if (t == &w->nil)
					continue;
				cur[j] = t->next;
				__builtin_prefetch(cur[j]);
				place(w, t);
				live++;
			}
		} while (live != 0);
	}
	if (idx == 0 && lvl + 1 < TCP_WHEEL_LEVELS)
		cascade(w, lvl + 1);
}

/* Fires level-0 slot idx: everything in it is due now. The head is read
 * again after every callback, which may stop any timer or arm one for now
 * (it lands in this list and fires in this loop). */
static uint32_t expire_slot(struct tcp_wheel *w, unsigned int idx,
			    tcp_timer_fn fn, void *ctx)
{
	struct tcp_timer **head = &w->list[idx * TCP_WHEEL_LANES];
	uint32_t fired = 0;

	while (*head != &w->nil) {
		struct tcp_timer *t = *head;

		tcp_timer_stop(w, t);
		fired++;
		fn(ctx, t);
	}
	busy_clear(w, idx);
	return fired;
}

uint32_t tcp_wheel_run(struct tcp_wheel *w, uint64_t tick, tcp_timer_fn fn,
		       void *ctx)
{
	uint32_t fired = 0;

	while ((int64_t)(tick - w->now_tick) >= 0) {
		unsigned int idx = w->now_tick & SLOT_MASK;
		unsigned int next;

		if (w->armed == 0) {
			w->now_tick = tick + 1;
			break;
		}
		if (idx == 0)
			cascade(w, 1);
		if (busy_test(w, idx))
			fired += expire_slot(w, idx, fn, ctx);
		/* Nothing is due before the next busy level-0 slot, or before
		 * the wrap, where the level above cascades. Callbacks have
		 * run: what they armed is in the bitmap already. */
		next = busy_next0(w, idx + 1);
		w->now_tick += next - idx;
		if ((int64_t)(w->now_tick - tick) > 1)
			w->now_tick = tick + 1;
	}
	return fired;
}
