"""The attribution's other witnesses on synthetic series: the C-heap witness (native growth no tracker saw: named
only when the evidence allows it), TF1 graph ops with the session state they cause, tf.function retracing,
and the pass's planned length."""

from __future__ import annotations

import pytest

from helpers import attribution_raw as ar
from leakhunt.analysis.attribution import AttributionContext, attribution_entry
from leakhunt.attribution.run_pass import MAX_ITERATIONS, MIN_ITERATIONS, plan_pass


def entry_of(raw: dict, growth: float) -> dict:
    return attribution_entry(raw, ar.done_status(), AttributionContext("auto", "leak", growth, 60.0, 1e9))


def witness_line(line: int, rate: float, function: str = "step", code: str = "") -> dict:
    return {"file": ar.SERVE, "line": line, "function": function, "code": code,
            "bytes": ar.series(ar.linear(rate, base=0))}


def test_malloc_no_tracker_saw_is_charged_to_its_line_not_to_a_buffer_made_and_dropped_beside_it():
    # step(): scratch = bytearray(64 KiB) (line 31, tracked, freed when step returns: line 34 gets -64 KiB),
    # address = libc.malloc(4096) (line 32, through ctypes: the tracker sees nothing).
    raw = ar.raw([], heap_rate=4096, witness=[
        witness_line(31, 65536, code="scratch = bytearray(64 * 1024)"),
        witness_line(32, 4096, code="address = _libc.malloc(4096)"),
        witness_line(34, -65536, code="return len(scratch)"),
    ])
    attribution = entry_of(raw, growth=4096)
    assert [(site["line"], site["kind"]) for site in attribution["sites"]] == [(32, "native")]
    assert attribution["sites"][0]["unseen_native_bytes_per_iter"] == pytest.approx(4096)
    assert "no allocation tracker saw" in attribution["sites"][0]["detail"]


def test_witness_growth_the_heap_does_not_show_names_no_line():
    # A transient the witness charged to its line while the heap, checkpoint to checkpoint, did not grow.
    raw = ar.raw([ar.site(ar.SERVE, 21, "step", "log.append(x)", python=ar.series(ar.linear(2048)))],
                 heap_rate=2048, witness=[witness_line(20, 16000), witness_line(21, 2048)])
    attribution = entry_of(raw, growth=2048)
    assert [site["line"] for site in attribution["sites"]] == [21]
    assert attribution["sites"][0]["unseen_native_bytes_per_iter"] is None


def test_unseen_growth_that_several_line_sets_could_explain_is_not_attributable():
    raw = ar.raw([], heap_rate=4096, witness=[witness_line(10, 4096, "a"), witness_line(20, 4096, "b")])
    attribution = entry_of(raw, growth=4096)
    assert attribution["sites"] == []
    assert attribution["not_attributable"]["bytes_per_iter"] == pytest.approx(4096)
    assert "more than the tracker saw" in attribution["not_attributable"]["detail"]


def test_graph_ops_made_per_call_are_the_site_and_carry_the_session_state_they_cause():
    ops_line, run_line = 58, 59
    session_stack = [ar.frame("TF_SessionRun_wrapper", ar.TF_SESSION, 1480), ar.frame("run", ar.TF_SESSION, 977),
                     ar.frame("step", ar.SERVE, run_line, True, "sess.run(probabilities)")]
    raw = ar.raw([
        ar.site(ar.SERVE, ops_line, "step", "probabilities = tf.nn.softmax(logits)",
                native=ar.series(ar.linear(2200)), python=ar.series(ar.linear(1200))),
        ar.site(ar.SERVE, run_line, "step", "sess.run(probabilities)", native=ar.series(ar.linear(50000)),
                stack=session_stack),
    ], heap_rate=53400, tf_graph=[{"file": ar.SERVE, "line": ops_line, "function": "step",
                                   "code": "probabilities = tf.nn.softmax(logits)",
                                   "ops": ar.series(lambda i: i), "op_types": {"Softmax": 100}}])
    attribution = entry_of(raw, growth=53400)
    assert len(attribution["sites"]) == 1
    site = attribution["sites"][0]
    assert (site["line"], site["kind"]) == (ops_line, "tf-graph")
    assert site["ops_per_iter"] == pytest.approx(1.0)
    assert site["bytes_per_iter"] == pytest.approx(53400, rel=1e-6)
    assert site["merged_from"][0]["line"] == run_line
    assert "+1 graph op per call (1 Softmax)" in site["detail"]
    assert site["share"] == pytest.approx(1.0, rel=1e-6)


def test_a_retracing_function_is_the_site_of_its_call_with_the_argument_that_varies():
    call_line = 75
    raw = ar.raw([ar.site(ar.SERVE, call_line, "step", "serve(images, 0.5 + i * 1e-7)",
                          native=ar.series(ar.linear(300000)))], heap_rate=300000,
                 tf_functions=[{"name": "serve", "def_file": ar.SERVE, "def_line": 60, "file": ar.SERVE,
                                "line": call_line, "function": "step", "code": "serve(images, 0.5 + i * 1e-7)",
                                "traces": ar.series(lambda i: i), "tracing_count": 121, "concrete_functions": 121,
                                "varying": [{"argument": "threshold", "kind": "float",
                                             "examples": ["0.5000001", "0.5000002"], "distinct": 20}]}])
    site = entry_of(raw, growth=300000)["sites"][0]
    assert (site["line"], site["kind"]) == (call_line, "tf-function")
    assert site["retracing"]["traces_per_iter"] == pytest.approx(1.0)
    assert "`threshold` is a new Python float" in site["detail"]
    assert "input_signature" in site["detail"]


@pytest.mark.parametrize("step_ms, iterations", [(1000.0, MIN_ITERATIONS), (0.001, MAX_ITERATIONS), (100.0, 30)])
def test_the_pass_length_comes_from_the_step_time_and_the_budget(step_ms, iterations):
    plan = plan_pass(step_ms, verdict_warmup_steps=10, memory_warmup_end=40)
    assert plan.iterations == iterations
    assert plan.warmup_steps == (30 if step_ms == 1000.0 else 50)  # the 30 s warm-up budget caps slow steps
    assert f"{plan.iterations} tracked steps" in plan.why
