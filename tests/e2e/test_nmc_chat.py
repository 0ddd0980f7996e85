"""The README's minute as a newcomer: `nmc dev` in a fresh folder, then the banner's `nmc chat`
line with the customer's side piped in; the transcript shows the job booked."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from tests.support.cli import NMC, clean_env
from tests.support.processes import Running, free_port


def test_nmc_chat_books_the_demo_job_through_a_pipe(tmp_path: Path) -> None:
    port = free_port()
    dev = Running([NMC, "dev", "--port", str(port)], clean_env(), cwd=tmp_path)
    try:
        dev.wait_for(lambda line: "NeverMissCall is up" in line, within=90)
        command = dev.wait_for(lambda line: "nmc chat --from" in line).split("nmc ", 1)[1].split()

        done = subprocess.run(
            [NMC, *command],
            input="my water heater is leaking\n1\n",
            env=clean_env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert done.returncode == 0, done.stdout + done.stderr
        transcript = done.stdout
        offered = re.findall(r"^\s+([123])\) (.+)$", transcript, re.MULTILINE)
        assert [n for n, _ in offered] == ["1", "2", "3"], transcript
        parts = [
            "you called Demo Plumbing: no answer",
            "Hi, this is Demo Plumbing",
            "you: my water heater is leaking",
            "Water heater flush: $189.00",
            "you: 1",
            f"You're booked: Water heater flush, {offered[0][1]}, $189.00",
            "nmc chat: bye",
        ]
        positions = [transcript.find(part) for part in parts]
        assert -1 not in positions, transcript
        assert positions == sorted(positions), transcript
        assert "Demo Plumbing (sent)" in transcript
        # nmc dev printed the same texts in its own window (the console "phone").
        dev.wait_for(lambda line: "You're booked" in line)
    finally:
        dev.process.send_signal(signal.SIGINT)
        code = dev.stop(signal.SIGINT, within=60)
    assert code == 0, dev.output
