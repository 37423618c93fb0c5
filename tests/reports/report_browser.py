"""Open a report in headless Debian Chromium through Playwright (its bundled driver, the OS
browser: never `playwright install`), recording console errors, page errors and any request
that would leave the machine."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_missing_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"Chromium not installed ({CHROMIUM}); install it with `apt-get install -y chromium`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) not installed; `pip install -e .[dev]` installs it"
    return None


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    kpis: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    plots_rendered: int = 0
    dialogs: list[str] = field(default_factory=list)
    text: str = ""


READ_DOM = """() => {
  const kpis = {};
  for (const el of document.querySelectorAll('[data-kpi]')) kpis[el.dataset.kpi] = el.dataset.value;
  const tables = {};
  for (const t of document.querySelectorAll('table[id^="t-"]')) {
    tables[t.id.slice(2)] = [...t.querySelectorAll('tbody tr')].map(tr => {
      const row = {};
      for (const td of tr.querySelectorAll('td')) row[td.dataset.col] = td.textContent;
      return row;
    });
  }
  return {kpis, tables, plots: document.querySelectorAll('.js-plotly-plot .main-svg').length,
          text: document.body.innerText};
}"""


def visit(html_path: Path, screenshot: Path) -> PageVisit:
    from playwright.sync_api import sync_playwright

    result = PageVisit()
    executable = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))
            page.on("dialog", lambda d: (result.dialogs.append(d.message), d.dismiss()))
            page.on(
                "request",
                lambda r: None if r.url.startswith(("file:", "data:", "about:"))
                else result.remote_requests.append(r.url),
            )
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length > 0", timeout=20_000
            )
            dom: dict[str, Any] = page.evaluate(READ_DOM)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    result.kpis = dom["kpis"]
    result.tables = dom["tables"]
    result.plots_rendered = dom["plots"]
    result.text = dom["text"]
    return result
