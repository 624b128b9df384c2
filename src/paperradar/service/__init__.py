"""Running PaperRadar: the daily pipeline, its runs, arXiv's calendar and the scheduler."""

from collections.abc import Callable


def __getattr__(name: str) -> Callable[[str, str], None]:
    # The scheduler's stored jobs name `paperradar.service:fire`, a name that outlives moves of
    # the scheduler module; it is resolved lazily so `paperradar status` loads no scheduler.
    if name == "fire":
        from paperradar.service.scheduler import fire

        return fire
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
