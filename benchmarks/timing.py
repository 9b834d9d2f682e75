"""Side-by-side timing on a shared, noisy machine.

Takes: named callables with the positional arguments to call them with, and a clock.
Guarantees: ``measure`` returns, per name, the median time of one call over several repeats,
where one repeat is a batch of calls long enough to dwarf the clock's resolution. The repeats of
all names are interleaved (round-robin), so a burst of load from a neighbour on the machine hits
every column alike and ratios computed from one ``measure`` call stay meaningful even when the
absolute times drift. Each callable is warmed up before it is timed (one call only when a call alone
outlasts a batch), and the garbage collector is off during a batch (as in ``timeit``).

Two clocks: ``"cpu"`` (``time.process_time``, CPU time of this process, all its threads) and
``"wall"`` (``time.perf_counter``). On a machine shared with other busy processes the CPU clock
does not count the time the scheduler gives to them: measured under a load average of 8 on 2
cores, a 15 µs call read 62 µs ± 16% on the wall clock and 18.5 µs ± 3% on the CPU clock. With
one BLAS thread and no other threads the two agree on an idle machine; code that runs threads
in parallel (a multithreaded BLAS, XLA) is charged the sum of its threads on the CPU clock.
"""

import statistics
import time
import timeit
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    median: float  # seconds per call
    low: float  # fastest repeat, seconds per call
    spread: float  # interquartile range / median: how much to trust the median
    repeats: int
    number: int  # calls per repeat


@dataclass(frozen=True)
class Budget:
    min_batch_seconds: float  # a batch is grown until it lasts at least this long
    repeats: int  # batches per callable, when the budget allows
    max_seconds: float  # per callable; slow callables get fewer repeats (never fewer than 3)
    warmup_calls: int


FULL = Budget(min_batch_seconds=0.05, repeats=21, max_seconds=3.0, warmup_calls=3)
QUICK = Budget(min_batch_seconds=0.002, repeats=3, max_seconds=0.3, warmup_calls=1)


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def _timer(fn, args, clock):
    # Spelling the call out (fn(a0, a1)) keeps timeit's loop free of *args packing, which would
    # cost as much as the cheapest calls measured here.
    names = [f"a{i}" for i in range(len(args))]
    namespace = {"fn": fn, **dict(zip(names, args))}
    return timeit.Timer(f"fn({', '.join(names)})", timer=CLOCKS[clock], globals=namespace)


def _spread(values):
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


def _calibrate(timer, min_seconds):
    """Smallest batch size (1, 2, 5, 10, 20, 50, ...) whose batch lasts min_seconds."""
    number = 1
    while True:
        for factor in (1, 2, 5):
            batch = number * factor
            seconds = timer.timeit(batch)
            if seconds >= min_seconds:
                return batch, seconds / batch
        number *= 10


def measure(calls, budget, clock="cpu"):
    """Time each ``name -> (fn, args)`` of ``calls`` on ``clock``; returns ``name -> Timing``."""
    timers = {}
    plans = {}
    for name, (fn, args) in calls.items():
        timer = _timer(fn, args, clock)
        first = timer.timeit(1)
        if first >= budget.min_batch_seconds:
            # A call this slow is its own batch, and more warm-up calls would only cost time.
            number, per_call = 1, first
        else:
            for _ in range(budget.warmup_calls - 1):
                fn(*args)
            number, per_call = _calibrate(timer, budget.min_batch_seconds)
        affordable = int(budget.max_seconds / (number * per_call))
        timers[name] = timer
        plans[name] = (number, max(3, min(budget.repeats, affordable)))

    samples = {name: [] for name in calls}
    for round_index in range(max((reps for _, reps in plans.values()), default=0)):
        for name, timer in timers.items():
            number, reps = plans[name]
            if round_index < reps:
                samples[name].append(timer.timeit(number) / number)

    return {
        name: Timing(
            median=statistics.median(values),
            low=min(values),
            spread=_spread(values),
            repeats=len(values),
            number=plans[name][0],
        )
        for name, values in samples.items()
    }
