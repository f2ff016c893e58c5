"""Where the strategies of a Ray run ran, in words for the report."""

from __future__ import annotations

from typing import Sequence

from leakhunt.rundir.config import StrategySpec
from leakhunt.rundir.run_json import PlacementJson


def hosts_note(strategies: Sequence[StrategySpec], placements: dict[int, PlacementJson]) -> str | None:
    """A run note when strategies ran on more than one host: latencies are then not comparable across them."""
    # Keyed by Ray's node id: two containers may share a host name.
    by_node: dict[str, tuple[str, list[str]]] = {}
    for index, placement in sorted(placements.items()):
        node = str(placement.get("node_id") or placement.get("host_name"))
        label = f"{placement.get('host_name')} ({placement.get('node_ip')})"
        by_node.setdefault(node, (label, []))[1].append(strategies[index].name)
    if len(by_node) < 2:
        return None
    listed = "; ".join(f"{label}: {', '.join(names)}" for label, names in sorted(by_node.values()))
    return (f"strategies ran on {len(by_node)} different hosts ({listed}): their latencies are not comparable "
            "across hosts; memory verdicts still are")
