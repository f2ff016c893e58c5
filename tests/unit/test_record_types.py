"""Each record written to a run folder is a dataclass with `to_json()` returning a TypedDict (what the JSON file
holds, typed for its readers). mypy checks that to_json builds its TypedDict, not that a field added to the
dataclass reaches the file: this test keeps the two in step."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import typing

import leakhunt

RECORD_MODULES = ("leakhunt.attribution.task", "leakhunt.attribution.run_pass", "leakhunt.rundir.records",
                  "leakhunt.rundir.config", "leakhunt.harness.exit_status", "leakhunt.backends.ray_options",
                  "leakhunt.backends.ray_task")


def typed_dicts() -> dict[str, type]:
    found = {}
    for info in pkgutil.walk_packages(leakhunt.__path__, "leakhunt."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue  # an optional extra's module (Ray) on a machine without it
        found.update({name: value for name, value in vars(module).items() if typing.is_typeddict(value)})
    return found


def record_pairs() -> list[tuple[type, type]]:
    by_name = typed_dicts()
    pairs = []
    for module_name in RECORD_MODULES:
        module = importlib.import_module(module_name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and dataclasses.is_dataclass(cls) and cls.__module__ == module_name \
                    and hasattr(cls, "to_json"):
                returned = cls.to_json.__annotations__.get("return")
                if returned in by_name:
                    pairs.append((cls, by_name[returned]))
    return pairs


def test_every_record_dataclass_and_its_json_type_have_the_same_fields():
    pairs = record_pairs()
    assert len(pairs) >= 10, [cls.__name__ for cls, _ in pairs]  # the discovery itself still finds them
    differing = {}
    for cls, json_type in pairs:
        fields = {field.name for field in dataclasses.fields(cls)}
        keys = set(json_type.__required_keys__) | set(json_type.__optional_keys__)
        if fields != keys:
            differing[f"{cls.__name__} / {json_type.__name__}"] = (sorted(fields - keys), sorted(keys - fields))
    assert not differing, f"(only in the dataclass, only in the JSON type): {differing}"
