"""The environment of a `paperradar` child process: the test's settings, nothing of the host's."""

from __future__ import annotations

import os

from paperradar.settings import Settings


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Return PATH, the offline model hub, the settings' database and folders, and `extra`."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HF_HUB_OFFLINE": "1",
        "PAPERRADAR_CONFIG": "",
        "PAPERRADAR_DATABASE_URL": settings.resolved_database_url,
        "PAPERRADAR_DATA_DIR": str(settings.data_dir),
        "PAPERRADAR_PROFILES_DIR": str(settings.profiles_dir),
        "PAPERRADAR_PROMPTS_DIR": str(settings.prompts_dir),
        "PAPERRADAR_MIGRATIONS_DIR": str(settings.migrations_dir),
        "PAPERRADAR_EMBEDDING__DEVICE": "cpu",
        **extra,
    }
