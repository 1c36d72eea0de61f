"""Small widget helpers shared by the views."""

from __future__ import annotations

import panel as pn

# Panel 1.10 renamed a widget's caption from ``name`` to ``label``; older Panels only know name.
_CAPTION = "label" if "label" in pn.widgets.Select.param else "name"


def label(text: str) -> dict[str, str]:
    """The keyword that sets a widget's caption in this Panel version."""
    return {_CAPTION: text}
