"""The one builder of Jinja2 environments: templates shipped with the package, strict variables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

Autoescape = bool | Callable[[str | None], bool]


def build_environment(
    folder: str | None = "templates",
    *,
    autoescape: Autoescape,
    finalize: Callable[[Any], Any] | None = None,
    **options: Any,
) -> Environment:
    """Build an environment over a package folder (None: templates given as strings).

    A missing variable is an error, never an empty string; the templates ship with the package,
    so their files' times are never checked again.
    """
    return Environment(
        loader=PackageLoader("paperradar", folder) if folder else None,
        autoescape=autoescape,
        undefined=StrictUndefined,
        finalize=finalize,
        auto_reload=False,
        **options,
    )
