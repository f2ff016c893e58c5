"""The attribution pass's pure parts: which frame of a stack is the user's line, and how per-site series become
leak sites (with the right file:line), caches (never leak sites) and "not attributable" growth."""

from __future__ import annotations

import os

import pytest

from helpers import attribution_raw as ar
from leakhunt.analysis.attribution import AttributionContext, attribution_entry
from leakhunt.attribution.frames import CodeScope, site_index
from leakhunt.attribution.site_series import NO_USER_SITE, SiteTable

LIBRARY = "/venv/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11"
LEAKHUNT = "/repo/leakhunt"
TRACE = (f"{LIBRARY}/tensorflow/python/framework/func_graph.py", "func_graph_from_py_func")


def scope(builtin: bool = False) -> CodeScope:
    return CodeScope((LIBRARY, STDLIB), LEAKHUNT, builtin)


def context(growth: float | None = 4096.0, attribute: str = "auto", verdict: str = "leak") -> AttributionContext:
    return AttributionContext(attribute, verdict, growth, 60.0, 1e9)


def entry_of(raw: dict, growth: float | None = 4096.0) -> dict:
    return attribution_entry(raw, ar.done_status(), context(growth))


# --- which frame is the site ---------------------------------------------------------------------------------

def test_the_site_is_the_innermost_frame_in_the_users_code():
    stack = [("_apply_op_helper", f"{LIBRARY}/tensorflow/python/framework/op_def_library.py", 796),
             ("softmax", f"{LIBRARY}/tensorflow/python/ops/nn_ops.py", 3912),
             ("helper", "/srv/app/post.py", 12),
             ("step", "/srv/app/serve.py", 41),
             ("_tracked_loop", f"{LEAKHUNT}/attribution/child_pass.py", 140),
             ("<module>", f"{STDLIB}/runpy.py", 88)]
    assert site_index(stack, scope()) == 2


def test_a_stack_without_user_frames_has_no_site():
    stack = [("f", f"{LIBRARY}/numpy/core/numeric.py", 1), ("g", f"{LEAKHUNT}/child_loop.py", 2),
             ("h", "<frozen importlib._bootstrap>", 3), ("tf__serve", "/tmp/__autograph_generated_filexyz.py", 4)]
    assert site_index(stack, scope()) is None


def test_allocations_inside_a_traced_function_go_to_the_line_that_called_it():
    stack = [("op", f"{LIBRARY}/tensorflow/python/ops/math_ops.py", 10),
             ("serve", "/srv/app/serve.py", 20),  # the tf.function's body, running inside the trace
             ("converted_call", f"{LIBRARY}/tensorflow/python/autograph/impl/api.py", 30),
             (TRACE[1], TRACE[0], 40),
             ("__call__", f"{LIBRARY}/tensorflow/python/eager/polymorphic_function/polymorphic_function.py", 50),
             ("step", "/srv/app/serve.py", 60)]
    assert site_index(stack, scope()) == 5


def test_for_a_builtin_strategy_the_strategy_classes_are_user_code_and_the_helpers_are_not():
    builtin = scope(builtin=True)
    assert builtin.is_user(os.path.join(LEAKHUNT, "strategies", "tf1.py"))
    assert not builtin.is_user(os.path.join(LEAKHUNT, "strategies", "postprocess.py"))
    assert not builtin.is_user(os.path.join(LEAKHUNT, "attribution", "child_pass.py"))
    assert not scope().is_user(os.path.join(LEAKHUNT, "strategies", "tf1.py"))  # custom workload: leakhunt is not
    stack = [("crop_and_resize", f"{LIBRARY}/tensorflow/python/ops/image_ops_impl.py", 5),
             ("reframe_box_masks_to_image_masks", os.path.join(LEAKHUNT, "strategies", "postprocess.py"), 40),
             ("add_postprocessing", os.path.join(LEAKHUNT, "strategies", "postprocess.py"), 75),
             ("step", os.path.join(LEAKHUNT, "strategies", "tf1.py"), 117)]
    assert site_index(stack, builtin) == 3


def test_the_site_table_charges_stacks_to_their_user_line_and_keeps_the_rest_apart():
    table = SiteTable(scope(), 3)
    user_stack = [("concat", f"{LIBRARY}/tensorflow/python/ops/array_ops.py", 5), ("step", "/srv/app/serve.py", 41)]
    table.add(user_stack, "native", [0, 100, 200])
    table.add(user_stack, "native", [0, 10, None])  # a checkpoint the tracker missed stays missed
    table.add([("run", f"{LIBRARY}/tensorflow/python/client/session.py", 9)], "native", [5, 5, 5])
    sites = {(entry["file"], entry["line"]): entry for entry in table.to_json(min_change_bytes=0)}
    assert sites[("/srv/app/serve.py", 41)]["bytes"]["native"] == [0, 110, None]
    assert NO_USER_SITE in sites


# --- leak sites, caches, not attributable ------------------------------------------------------------------

def test_a_linear_site_is_a_leak_site_at_its_own_line_and_the_largest_comes_first():
    raw = ar.raw([
        ar.site(ar.SERVE, 41, "step", "x = flip(x)", native=ar.series(ar.linear(3072))),
        ar.site(ar.SERVE, 57, "step", "log.append(x)", python=ar.series(ar.linear(1024))),
        ar.site(ar.SERVE, 60, "step", "y = x + 1", python=ar.series(lambda i: 5000 + (i % 7) * 3)),
    ], heap_rate=4096)
    attribution = entry_of(raw)
    assert attribution["status"] == "done"
    assert [(site["line"], site["kind"]) for site in attribution["sites"]] == [(41, "native"), (57, "python")]
    top = attribution["sites"][0]
    assert top["bytes_per_iter"] == pytest.approx(3072, rel=1e-6)
    assert top["share"] == pytest.approx(0.75, rel=1e-6)
    assert top["ci95_bytes_per_iter"][0] <= 3072 <= top["ci95_bytes_per_iter"][1]
    assert attribution["explained_share"] == pytest.approx(1.0, rel=1e-6)
    assert attribution["not_attributable"] is None


def test_a_cache_that_grew_and_stopped_is_listed_apart_never_as_a_leak_site():
    raw = ar.raw([
        ar.site(ar.SERVE, 41, "step", "log.append(x)", python=ar.series(ar.linear(2048))),
        # Grows 64 KiB/iter for the first 20 iterations (faster than the leak), then never again.
        ar.site(ar.SERVE, 30, "load", "cache[key] = table", native=ar.series(ar.cache(20 * 65536, 20))),
    ], heap_rate=2048)
    attribution = entry_of(raw, growth=2048)
    assert [site["line"] for site in attribution["sites"]] == [41]
    assert [cache["line"] for cache in attribution["caches"]] == [30]
    assert "then stopped" in attribution["caches"][0]["detail"]


def test_growth_no_line_holds_is_not_attributable_with_its_amount_never_a_wrong_line():
    raw = ar.raw([
        ar.site(ar.SERVE, 41, "step", "log.append(x)", python=ar.series(ar.linear(1024))),
        ar.site(*NO_USER_SITE, None, "", native=ar.series(ar.linear(3072))),  # TF's own threads
    ], heap_rate=4096)
    attribution = entry_of(raw)
    assert [site["line"] for site in attribution["sites"]] == [41]
    unexplained = attribution["not_attributable"]
    assert unexplained["bytes_per_iter"] == pytest.approx(3072, rel=1e-6)
    assert unexplained["detail"].startswith("native, not attributable")
    assert "no frame of your code" in unexplained["detail"]


def test_rss_growing_faster_than_the_heap_is_said_to_be_free_memory_no_line_holds():
    raw = ar.raw([ar.site(ar.SERVE, 41, "step", "ds = make()", native=ar.series(ar.linear(1000)))],
                 heap_rate=1000, rss_rate=57000)
    unexplained = entry_of(raw, growth=57000)["not_attributable"]
    assert "fragmentation" in unexplained["detail"]


# --- statuses: the attribution never changes anything else ----------------------------------------------------

def test_statuses_of_a_pass_that_did_not_run_or_failed():
    assert attribution_entry(None, None, context(attribute="off"))["status"] == "skipped: --attribute off"
    flat = attribution_entry(None, None, context(verdict="flat"))
    assert flat == {"status": "skipped: the verdict is flat, not a leak", "iterations": None, "cost_s": None,
                    "sites": []}
    timed_out = {"outcome": "failed", "reason": "timed out after 300 s (the child was killed)", "wall_s": 300.0}
    assert attribution_entry(None, timed_out, context())["status"] == "failed: timed out after 300 s (the child " \
                                                                      "was killed)"
    raised = {"attribution_format": 1, "error": "ValueError: only in the second pass"}
    failed = attribution_entry(raised, {"outcome": "failed", "reason": "exit 3", "wall_s": 9.0}, context())
    assert failed["status"] == "failed: ValueError: only in the second pass"
    assert failed["sites"] == [] and failed["cost_s"] == 9.0
