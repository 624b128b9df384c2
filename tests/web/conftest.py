"""Fixtures of the web tests: archives whose failed summary names its LLM endpoint."""

from __future__ import annotations

import logging

import pytest
from support.failed_summary import (
    FailedSummarySites,
    LogLines,
    build_site,
    copy_database,
    fail_a_summary,
)
from support.web_site import WebArchive


@pytest.fixture(scope="session")
def failed_summary_sites(
    web_archive_of,  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory,
) -> FailedSummarySites:
    archive: WebArchive = web_archive_of("sqlite")
    folder = tmp_path_factory.mktemp("web-failed-summary")
    url = copy_database(archive, folder)
    failed = fail_a_summary(url)
    handler = LogLines()
    logger = logging.getLogger("paperradar.web")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        zh = build_site(archive.ctx, url, folder / "zh", ["zh", "en"]).settings.web_dir
        en = build_site(archive.ctx, url, folder / "en", ["en"]).settings.web_dir
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    return FailedSummarySites(zh, en, failed, "\n".join(handler.lines))
