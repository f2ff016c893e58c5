"""A matplotlib figure as one inline <svg> element for report.html.

SVG stays sharp when zoomed and text stays text. The element is inserted unescaped, so what it may hold is
checked here, not assumed; ids are made unique per figure (several SVGs share a page) and geometry is
rounded (smaller files, and the same run folder gives the same bytes).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import matplotlib
from markupsafe import escape
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

SVG_DECIMALS = 2
# Annotated: matplotlib's stubs want its Literal key type, which a plain dict literal does not infer.
SVG_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text as <text>: small, sharp, selectable; matplotlib escapes it
    "svg.hashsalt": "leakhunt",  # ids from a fixed salt: the same run folder gives the same report
    "font.family": "sans-serif",
    "font.sans-serif": ["Helvetica", "Arial", "Liberation Sans", "DejaVu Sans"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
}
# What an inline SVG from matplotlib must never contain (it is marked safe in the HTML). Read inside tags
# only: text nodes are escaped by matplotlib (no "<" in them), so a strategy named "javascript: x" is text.
_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe|object|embed)\b|<[^>]*\son\w+\s*="
                         r"|<[^>]*javascript:|<[^>]*\s(?:href|src)\s*=\s*\"(?!#)", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"-?\d+\.\d{%d,}" % (SVG_DECIMALS + 1))
_GEOMETRY_ATTRIBUTE = re.compile(r'\s(d|x|y|x1|x2|y1|y2|width|height|transform|points|cx|cy|r)="([^"]*)"')


def plot_text(text: Any) -> str:
    """Matplotlib reads $...$ as math; user strings must show as typed."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def _round_geometry(match: re.Match) -> str:
    value = _NUMBER.sub(lambda number: f"{float(number.group()):.{SVG_DECIMALS}f}".rstrip("0").rstrip("."),
                        match.group(2))
    return f' {match.group(1)}="{" ".join(value.split())}"'


def _tag_for_html(tag: str, figure_id: str) -> str:
    """One tag: SVG 2 href, ids and references prefixed with the figure's id, geometry rounded."""
    tag = tag.replace(" xlink:href=", " href=").replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    tag = re.sub(r'\sid="([^"]+)"', lambda m: f' id="{figure_id}-{m.group(1)}"', tag)
    tag = re.sub(r'\shref="#([^"]+)"', lambda m: f' href="#{figure_id}-{m.group(1)}"', tag)
    tag = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{figure_id}-{m.group(1)})", tag)
    return _GEOMETRY_ATTRIBUTE.sub(_round_geometry, tag)


def to_inline_svg(figure: Figure, figure_id: str, label: str) -> str:
    """The figure as one <svg> element for an HTML page: ids made unique per figure (several SVGs share a
    document), no XML prolog or metadata, geometry rounded to 0.01 pt, sized by CSS (class "plot").

    Raises ValueError if the SVG holds anything active (a script, an event handler, an external link):
    it is inserted unescaped, so this is checked rather than assumed.
    """
    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                         "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    # Its one style rule ("*" {stroke-linejoin...}) would reach the whole page: the template scopes it.
    svg = re.sub(r'<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>\s*', "", svg, count=1)
    svg = _TAG.sub(lambda match: _tag_for_html(match.group(), figure_id), svg)
    if _UNSAFE_SVG.search(svg):
        raise ValueError("refusing to inline an SVG with active content")
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    # The label is escaped for an attribute value (quotes included): it describes, it is never a link.
    return (f'{head} class="plot" role="img" aria-label="{escape(label)}"' + svg[head_end:]).strip()
