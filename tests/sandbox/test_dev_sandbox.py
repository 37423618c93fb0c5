"""`make dev` (`stockdrift dev`): the sandbox servers it starts answer on every port in their
vendor's shape, and a server that cannot start stops the command before the Dagster UI."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from dagster_project.cli import main
from dagster_project.demo import write_demo_config
from extractors.registry import build_connector
from sandbox.feeds import feed_urls
from sandbox.serve import (
    DEV_PORTS,
    SANDBOX_TOKENS,
    TOKEN_ENV,
    RunningSandbox,
    SandboxStartError,
    dev_ports,
    sandbox_env,
    start_sandbox,
)
from stockdrift.config import SystemConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stockdrift.example.yml"


def _example_urls() -> dict[str, str]:
    systems = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["systems"]
    return {s["id"]: s["base_url"] for s in systems}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """The servers `stockdrift dev` starts, on free ports (18701-18706 may be someone's
    `make dev` on this machine)."""
    feeds = tmp_path_factory.mktemp("dev") / "feeds"
    with start_sandbox({system_id: 0 for system_id in DEV_PORTS}, feeds, speed=1.0) as running:
        yield running


def test_dev_ports_are_the_example_configs_ports() -> None:
    assert dev_ports(_example_urls()) == {
        "erp": 18701, "shopify": 18702, "shipbob": 18703, "amazon": 18704, "square": 18705,
        "shopify_gql": 18706,
    }
    with pytest.raises(SandboxStartError, match="amazon_mfn is served by the amazon server"):
        dev_ports({"amazon": "http://127.0.0.1:18704", "amazon_mfn": "http://127.0.0.1:18799"})


def test_every_dev_port_answers_in_its_vendors_shape(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each configured system's own connector extracts rows from its sandbox port (the
    vendor's paging, auth and body shape), and the GraphQL storefront answers GraphQL."""
    for name, value in sandbox_env().items():
        monkeypatch.setenv(name, value)
    assert sandbox.feeds is not None
    urls = {**sandbox.base_urls, **feed_urls(sandbox.feeds)}
    cfg = load_config(write_demo_config(EXAMPLE, tmp_path, urls))
    ports_seen: set[int | None] = set()
    for system in cfg.systems:
        rows = [row for page in build_connector(system).pages() for row in page.rows]
        assert rows, f"{system.id}: no rows from {system.base_url}"
        ports_seen.add(urlsplit(system.base_url).port)
    gql = SystemConfig(
        id="shopify_gql", role="storefront", connector="shopify_graphql",
        base_url=sandbox.base_urls["shopify_gql"], freshness_target_minutes=5,
        credentials={"access_token": TOKEN_ENV["shopify_gql"]},
    )
    assert [row for page in build_connector(gql).pages() for row in page.rows]
    ports_seen.add(urlsplit(gql.base_url).port)
    served = {urlsplit(url).port for url in sandbox.base_urls.values()}
    assert len(served) == len(DEV_PORTS) and served <= ports_seen


def test_describe_names_every_system_with_its_secret(sandbox: RunningSandbox) -> None:
    lines = sandbox.describe()
    mfn = next(line for line in lines if line.startswith("amazon_mfn"))
    assert sandbox.base_urls["amazon"] in mfn and SANDBOX_TOKENS["amazon"] in mfn
    assert {line.split()[0] for line in lines} >= {*DEV_PORTS, "amazon_mfn", "wms"}


def test_a_taken_port_stops_the_start_and_frees_the_others(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {system_id: 0 for system_id in DEV_PORTS} | {"square": port}
        with pytest.raises(SandboxStartError, match=f"square cannot listen on 127.0.0.1:{port}"):
            start_sandbox(ports, tmp_path / "feeds")


def test_standalone_serve_prints_every_url_and_serves_it(tmp_path: Path) -> None:
    """`python -m sandbox.serve` (what `make dev` ran before) lists every system, then
    serves each URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--ports", "0,0,0,0,0,0", "--speed", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        urls: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("simulated start"):
                break
            system_id, url = line.split()[:2]
            urls[system_id] = url
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert set(urls) == {*DEV_PORTS, "amazon_mfn"}
        for system_id, url in urls.items():
            assert httpx.get(f"{url}/", timeout=5).status_code >= 400, system_id  # vendor 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dev_fails_loudly_and_skips_the_ui_when_a_server_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    launched: list[list[str]] = []
    monkeypatch.setattr("dagster_project.cli.subprocess.call",
                        lambda cmd, **_: launched.append(cmd) or 0)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        for system in data["systems"]:
            if system["id"] == "erp":
                system["base_url"] = f"http://127.0.0.1:{port}"
            elif system["base_url"].startswith("http://"):
                system["base_url"] = "http://127.0.0.1:0"
        config = tmp_path / "dev.yml"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        code = main(["dev", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "sandbox servers did not start" in out
    assert f"erp cannot listen on 127.0.0.1:{port}" in out
    assert launched == []
