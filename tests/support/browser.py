"""A real browser for the web inbox's tests: Playwright driving the machine's Chromium (Debian's
`chromium` package, launched by its path; never `playwright install`), and the screenshots each
run leaves under reports/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

__all__ = ["CHROMIUM", "LAPTOP", "PHONE", "SCREENSHOTS", "chromium", "chromium_path", "screenshot"]

CHROMIUM = "/usr/bin/chromium"  # NMC_CHROMIUM overrides it
# Headless on a closed network: no sandbox (containers), no GPU, and none of Chromium's own
# background connections (updates, sync, QUIC probes), which the network would refuse.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAPTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


def chromium_path() -> str:
    """Where Chromium is; fails the test (never skips it) when it is not there."""
    path = os.environ.get("NMC_CHROMIUM") or CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"no Chromium at {path}: install Debian's `chromium` package (.ci/run does) "
            "or point NMC_CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    return path


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the block (one per test module: it takes a second to start)."""
    path = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=list(ARGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Page, name: str, *, size: ViewportSize | None = None) -> Path:
    """A full-page PNG of what `page` shows now, as reports/screenshots/NAME.png; at `size`
    if given (the page's own size is put back afterwards)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    before = page.viewport_size
    if size is not None:
        await page.set_viewport_size(size)
    try:
        await page.screenshot(path=str(path), full_page=True)
    finally:
        if size is not None and before is not None:
            await page.set_viewport_size(before)
    return path
