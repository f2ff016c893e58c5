"""The reading schedule: K follows the step time on a 1% budget, with a minimum of readings per run."""

from leakhunt.sampling.schedule import MIN_READINGS_PER_RUN, READING_TIME_BUDGET, ReadingSchedule


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
