"""The reading schedule: K follows the step time on a 1% budget, with a minimum of readings per run."""

from leakhunt.sampling.schedule import (
    MAX_READINGS_PER_S,
    MIN_READINGS_PER_RUN,
    READING_TIME_BUDGET,
    READINGS_UNCAPPED,
    ReadingSchedule,
)


def settle(schedule: ReadingSchedule, step_s: float, reading_cost_s: float, rounds: int = 50) -> int:
    step = 0
    for _ in range(rounds):
        every = schedule.every
        step = schedule.next_step(step, reading_cost_s, step_s * every, every)
    return schedule.every


def test_a_50_ms_model_call_is_read_after_every_step():
    assert settle(ReadingSchedule(planned_steps=5000), step_s=0.050, reading_cost_s=20e-6) == 1


def test_a_sub_microsecond_step_is_read_every_thousands_of_steps_in_a_long_run():
    every = settle(ReadingSchedule(planned_steps=100_000_000), step_s=0.5e-6, reading_cost_s=5e-6)
    assert every >= 1000
    # ...and the readings then cost about the budget, not more.
    assert 5e-6 / (every * 0.5e-6) <= READING_TIME_BUDGET * 1.01


def test_a_short_run_of_fast_steps_still_gets_enough_readings():
    planned = 2000
    every = settle(ReadingSchedule(planned_steps=planned), step_s=0.5e-6, reading_cost_s=5e-6)
    assert planned / every >= MIN_READINGS_PER_RUN


def test_a_fixed_period_is_kept():
    assert settle(ReadingSchedule(planned_steps=5000, fixed_every=7), step_s=0.05, reading_cost_s=1e-3) == 7


def test_a_long_run_of_fast_steps_is_read_at_most_max_readings_per_second():
    # The 1% budget alone would read a 1 us step with 10 us readings every millisecond: 3.6 million rows an hour.
    schedule = ReadingSchedule(planned_steps=10**12, planned_duration_s=8 * 3600)
    every = settle(schedule, step_s=1e-6, reading_cost_s=10e-6)
    assert 1 / (every * 1e-6) <= MAX_READINGS_PER_S * 1.01
    # Planned by steps alone (no --duration), the cap follows the planned steps at the measured step time.
    every = settle(ReadingSchedule(planned_steps=3_600_000), step_s=1e-3, reading_cost_s=10e-6)
    assert 3_600_000 / every <= READINGS_UNCAPPED + MAX_READINGS_PER_S * 3600 * 1.01


def test_the_cap_leaves_a_run_that_the_budget_reads_up_to_5000_times_as_it_was():
    # 3000 iterations of a 1 ms step: read after every step, as before the cap.
    assert settle(ReadingSchedule(planned_steps=3000), step_s=1e-3, reading_cost_s=10e-6) == 1
    # A 6 s soak of 0.7 ms steps: the budget's 2 steps between readings.
    assert settle(ReadingSchedule(planned_steps=10**12, planned_duration_s=6), step_s=0.7e-3,
                  reading_cost_s=10e-6) == 2


def test_a_capped_run_still_gets_the_minimum_readings():
    every = settle(ReadingSchedule(planned_steps=10**12, planned_duration_s=2.0), step_s=1e-6, reading_cost_s=10e-6)
    assert 2.0 / (every * 1e-6) >= MIN_READINGS_PER_RUN
