/* t_wheel.c — the timer wheel (tcp_timer.c) on its own, no engine: every
 * timer fires exactly once, on its exact tick, whatever level it starts on
 * and however far the clock jumps per run; stops and re-arms, also from
 * inside callbacks, are honoured. Checked against a plain model. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcp_timer.h"
#include "tests.h"

#define NT 20000
#define NOT_ARMED UINT64_MAX

static struct tcp_timer tm[NT];
static uint64_t due[NT];        /* tick it must fire on, or NOT_ARMED */
static uint32_t fires[NT];
static uint64_t fired_at[NT][3];
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct tcp_wheel *new_wheel(uint64_t now_tick)
{
	struct tcp_wheel *w = aligned_alloc(64, sizeof(*w));

	CHECK(w != NULL);
	tcp_wheel_init(w, now_tick);
	memset(tm, 0, sizeof(tm));
	memset(fires, 0, sizeof(fires));
	for (unsigned int i = 0; i < NT; i++)
		due[i] = NOT_ARMED;
	return w;
}

/* Arm like the engine does, and note when it must fire: on its tick, or
 * on the next tick to run if that one is already past. */
static void arm(struct tcp_wheel *w, unsigned int i, uint64_t expires)
{
	tcp_timer_arm(w, &tm[i], expires);
	due[i] = expires < w->now_tick ? w->now_tick : expires;
}

static void stop(struct tcp_wheel *w, unsigned int i)
{
	tcp_timer_stop(w, &tm[i]);
	due[i] = NOT_ARMED;
}

static void on_fire(void *ctx, struct tcp_timer *t)
{
	struct tcp_wheel *w = ctx;
	unsigned int i = (unsigned int)(t - tm);

	CHECK_MSG(due[i] != NOT_ARMED, "timer %u fired at tick %" PRIu64 " but was not armed",
		  i, w->now_tick);
	CHECK_MSG(due[i] == w->now_tick,
		  "timer %u fired at tick %" PRIu64 ", due at %" PRIu64 " (%s)", i, w->now_tick,
		  due[i], w->now_tick < due[i] ? "early" : "late");
	CHECK(!tcp_timer_armed(t));
	if (fires[i] < 3)
		fired_at[i][fires[i]] = w->now_tick;
	fires[i]++;
	due[i] = NOT_ARMED;
}

/* After a run to `tick`: nothing due by then is still armed, and the
 * wheel's count and flags agree with the model. */
static void check_model(struct tcp_wheel *w, uint64_t tick)
{
	uint32_t armed = 0;

	for (unsigned int i = 0; i < NT; i++) {
		CHECK_MSG(tcp_timer_armed(&tm[i]) == (due[i] != NOT_ARMED),
			  "timer %u: armed %d, model says due %" PRIu64, i,
			  tcp_timer_armed(&tm[i]), due[i]);
		if (due[i] == NOT_ARMED)
			continue;
		armed++;
		CHECK_MSG(due[i] > tick, "timer %u due at %" PRIu64 " did not fire by tick %" PRIu64,
			  i, due[i], tick);
	}
	CHECK_EQ(armed, w->armed);
}

/* One timer on each side of every level boundary, up to and past the
 * wheel's reach (2^32 ticks, parked and placed again), starting just
 * below a level-3 boundary so that cascades of levels 1, 2 and 3 all
 * happen early: each fires on its very tick, whether the clock is run
 * in one jump or in uneven steps. */
void test_wheel_timer_fires_on_its_exact_tick_at_every_level(void)
{
	static const uint64_t delta[] = {
		0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 70000,
		(1ull << 24) - 1, 1ull << 24, (1ull << 24) + 1, (1ull << 24) + 12345,
		(3ull << 24) + 255, (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 777,
	};
	const unsigned int n = sizeof(delta) / sizeof(delta[0]);
	const uint64_t now0 = (1ull << 24) - 700;

	for (int pass = 0; pass < 2; pass++) {
		struct tcp_wheel *w = new_wheel(now0);
		uint64_t last = 0;

		for (unsigned int i = 0; i < n; i++) {
			arm(w, i, now0 + delta[i]);
			last = now0 + delta[i];
		}
		CHECK_EQ(n, w->armed);
		if (pass == 0) {
			CHECK_EQ(n, tcp_wheel_run(w, last, on_fire, w));
		} else {
			rng_state = 12345;
			uint64_t tick = now0;
			while (tick < last) {
				tick += 1 + rnd() % ((rnd() & 1) ? 300 : 3000000);
				tcp_wheel_run(w, tick, on_fire, w);
				check_model(w, tick);
			}
		}
		for (unsigned int i = 0; i < n; i++)
			CHECK_MSG(fires[i] == 1 && fired_at[i][0] == now0 + delta[i],
				  "timer +%" PRIu64 " fired %u times (first at +%" PRIu64 ")", delta[i],
				  fires[i], fires[i] ? fired_at[i][0] - now0 : 0);
		CHECK_EQ(0, w->armed);
		free(w);
	}
}

/* 20000 timers, armed at deltas spread over every level (some overdue,
 * some past the wheel's reach), stopped and re-armed at random between
 * runs of random length: after every run, exactly the due ones have
 * fired, each once and on its tick. */
void test_wheel_random_arms_and_stops_fire_once_on_their_tick(void)
{
	struct tcp_wheel *w = new_wheel(123456789);
	uint64_t tick = w->now_tick;
	uint32_t total = 0;

	rng_state = 0x9E3779B97F4A7C15ull;
	for (unsigned int step = 0; step < 3000; step++) {
		unsigned int ops = (unsigned int)(rnd() % 40);

		for (unsigned int k = 0; k < ops; k++) {
			unsigned int i = (unsigned int)(rnd() % NT);
			unsigned int bits = (unsigned int)(rnd() % 34);
			uint64_t d = rnd() & ((1ull << bits) - 1);

			switch (rnd() % 8) {
			case 0:
				stop(w, i);
				break;
			case 1:         /* overdue: fires on the next tick run */
				arm(w, i, w->now_tick - 1 - (d & 0xffff));
				break;
			default:
				arm(w, i, w->now_tick + d);
				break;
			}
		}
		tick += (rnd() & 3) ? rnd() % 64 : rnd() % (1u << 22);
		total += tcp_wheel_run(w, tick, on_fire, w);
		check_model(w, tick);
	}
	/* Drain: everything left fires by the wheel's reach. */
	tick += 1ull << 33;
	total += tcp_wheel_run(w, tick, on_fire, w);
	check_model(w, tick);
	CHECK_EQ(0, w->armed);
	uint32_t counted = 0;
	for (unsigned int i = 0; i < NT; i++)
		counted += fires[i];
	CHECK_EQ(counted, total);
	CHECK_CMP(total, >, 10000);
	free(w);
}

/* Callbacks change the wheel while it runs: A stops B (due on the same
 * tick: B fires only if it came first); C re-arms itself for the same tick
 * (fires again in this run) and then 1000 ticks later; D arms E for a tick
 * already past (E fires in this run, on the current tick). */
enum { TA, TB, TC, TD, TE };
static bool b_armed_when_stopped;

static void on_fire_mutating(void *ctx, struct tcp_timer *t)
{
	struct tcp_wheel *w = ctx;
	unsigned int i = (unsigned int)(t - tm);
	uint64_t now = w->now_tick;

	on_fire(ctx, t);
	switch (i) {
	case TA:
		b_armed_when_stopped = tcp_timer_armed(&tm[TB]);
		stop(w, TB);
		break;
	case TC:
		if (fires[TC] == 1)
			arm(w, TC, now);
		else if (fires[TC] == 2)
			arm(w, TC, now + 1000);
		break;
	case TD:
		arm(w, TE, now - 50);
		break;
	}
}

void test_wheel_callbacks_may_arm_and_stop_timers(void)
{
	struct tcp_wheel *w = new_wheel(5000);
	const uint64_t T = 5000 + 300;  /* level 1: reached by a cascade */

	for (unsigned int i = TA; i <= TD; i++)
		arm(w, i, T);
	uint32_t n = tcp_wheel_run(w, T + 2000, on_fire_mutating, w);
	CHECK_EQ(!b_armed_when_stopped, fires[TB]);
	CHECK_EQ(6 + fires[TB], n);
	CHECK_EQ(1, fires[TA]);
	CHECK_EQ(3, fires[TC]);
	CHECK_EQ(T, fired_at[TC][0]);
	CHECK_EQ(T, fired_at[TC][1]);
	CHECK_EQ(T + 1000, fired_at[TC][2]);
	CHECK_EQ(1, fires[TD]);
	CHECK_EQ(1, fires[TE]);
	CHECK_EQ(T, fired_at[TE][0]);
	CHECK_EQ(0, w->armed);
	free(w);
}
