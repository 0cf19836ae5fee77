/* tcp_timer.c — the hierarchical timing wheel: level L slot holds timers
 * due within 2^(8(L+1)) ticks; when level 0 wraps, the next slot of the
 * level above is cascaded down. */
#include <string.h>

#include "tcp_timer.h"

static void slot_insert(struct tcp_timer **head, struct tcp_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void place(struct tcp_wheel *w, struct tcp_timer *t)
{
	uint64_t e = t->expires;
	uint64_t delta;
	unsigned int lvl;

	if ((int64_t)(e - w->now_tick) < 0)
		e = w->now_tick;
	delta = e - w->now_tick;
	for (lvl = 0; lvl < TCP_WHEEL_LEVELS - 1; lvl++)
		if (delta < (1ull << (TCP_WHEEL_BITS * (lvl + 1))))
			break;
	if (lvl == TCP_WHEEL_LEVELS - 1) {
		uint64_t max = (1ull << (TCP_WHEEL_BITS * TCP_WHEEL_LEVELS)) - 1;
		if (delta > max)
			e = w->now_tick + max;
	}
	slot_insert(&w->slot[lvl][(e >> (TCP_WHEEL_BITS * lvl)) &
				   (TCP_WHEEL_SLOTS - 1)], t);
}

void tcp_wheel_init(struct tcp_wheel *w, uint64_t now_tick)
{
	memset(w, 0, sizeof(*w));
	w->now_tick = now_tick;
}

void tcp_timer_stop(struct tcp_wheel *w, struct tcp_timer *t)
{
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	w->armed--;
}

void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expires)
{
	tcp_timer_stop(w, t);
	t->expires = expires;
	place(w, t);
	w->armed++;
}

/* Re-places every timer of one upper-level slot; they fall to lower levels. */
static void cascade(struct tcp_wheel *w, unsigned int lvl)
{
	unsigned int idx = (w->now_tick >> (TCP_WHEEL_BITS * lvl)) &
			   (TCP_WHEEL_SLOTS - 1);
	struct tcp_timer *t = w->slot[lvl][idx];

	w->slot[lvl][idx] = NULL;
	while (t != NULL) {
		struct tcp_timer *next = t->next;
		place(w, t);
		t = next;
	}
	if (idx == 0 && lvl + 1 < TCP_WHEEL_LEVELS)
		cascade(w, lvl + 1);
}

uint32_t tcp_wheel_run(struct tcp_wheel *w, uint64_t tick, tcp_timer_fn fn,
		       void *ctx)
{
	uint32_t fired = 0;

	while ((int64_t)(tick - w->now_tick) >= 0) {
		unsigned int idx = w->now_tick & (TCP_WHEEL_SLOTS - 1);
		struct tcp_timer **head = &w->slot[0][idx];

		if (idx == 0)
			cascade(w, 1);
		/* Detach one at a time: callbacks may re-arm into this slot. */
		while (*head != NULL) {
			struct tcp_timer *t = *head;
			tcp_timer_stop(w, t);
			fired++;
			fn(ctx, t);
		}
		if (w->armed == 0) {
			w->now_tick = tick + 1;
			break;
		}
		w->now_tick++;
	}
	return fired;
}
