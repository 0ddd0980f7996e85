"""The README's first command on a fresh folder: `nmc dev`, a simulated missed call, Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.support.cli import NMC, clean_env, nmc
from tests.support.processes import Running, free_port


def test_nmc_dev_runs_the_whole_loop_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    dev = Running([NMC, "dev", "--port", str(port)], clean_env(), cwd=tmp_path)
    try:
        dev.wait_for(lambda line: "NeverMissCall is up" in line, within=90)

        done = nmc(
            "simulate",
            "missed-call",
            "--from",
            "+14155550123",
            "--json",
            env=clean_env(),
            cwd=tmp_path,
        )

        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["http_status"] == 200
        dev.wait_for(lambda line: "SMS to +14155550123" in line)
        body = dev.wait_for(lambda line: "Demo Plumbing" in line and "Sorry" in line)
        assert "Hi, this is Demo Plumbing" in body

        # The banner's tenant API line works as printed: mint a token, call /v1/me.
        mint = dev.wait_for(lambda line: "nmc token mint" in line).split("nmc ", 1)[1].split()
        minted = nmc(*mint, env=clean_env(), cwd=tmp_path)
        assert minted.returncode == 0, minted.stderr
        me = httpx.get(
            f"http://127.0.0.1:{port}/v1/me",
            headers={"Authorization": f"Bearer {minted.stdout.strip()}"},
        )
        assert me.status_code == 200, me.text
        assert me.json()["tenant"]["name"] == "Demo Plumbing"

        # The inbox link works once as printed; `nmc web login-link` makes another.
        printed = dev.wait_for(lambda line: "/app/login?token=" in line).strip()
        assert printed.startswith(f"http://127.0.0.1:{port}/app/login?token=")
        with httpx.Client(follow_redirects=True) as browser:
            opened = browser.get(printed)
            assert opened.status_code == 200, opened.text  # the redirect, followed
            assert "Demo Plumbing" in opened.text
        assert httpx.get(printed).status_code == 400  # used already
        tenant_id = mint[2]  # token mint TENANT_ID EMAIL
        again = nmc(
            "web",
            "login-link",
            tenant_id,
            "owner@demo-plumbing.example",
            "--json",
            env=clean_env(),
            cwd=tmp_path,
        )
        assert again.returncode == 0, again.stderr
        link = json.loads(again.stdout.splitlines()[-1])
        assert (link["email"], link["role"]) == ("owner@demo-plumbing.example", "OWNER")
        with httpx.Client(follow_redirects=True) as browser:
            assert "Demo Plumbing" in browser.get(link["url"]).text
    finally:
        # Like Ctrl-C under `uv run`: the terminal's SIGINT and uv's forwarded one.
        dev.process.send_signal(signal.SIGINT)
        time.sleep(0.05)
        code = dev.stop(signal.SIGINT, within=60)
    assert code == 0, dev.output
    assert "nmc dev: stopped" in dev.output
    cluster = json.loads((tmp_path / ".nmc" / "pg" / "state.json").read_text())
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", cluster["port"])) != 0, "PostgreSQL still runs"
    state = json.loads((tmp_path / ".nmc" / "dev.json").read_text())
    try:
        httpx.get(state["base_url"] + "/healthz", timeout=1)
        api_still_up = True
    except httpx.HTTPError:
        api_still_up = False
    assert not api_still_up
