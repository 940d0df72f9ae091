"""The README's command-line tour, run line by line as a newcomer pastes it (issue 19, point 1).

The commands are read from the README's fenced tour block, so the README cannot go stale: a
command renamed, an option dropped or an example date that no longer fits fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.cli._demo import DEMO_PASSWORD

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
runner = CliRunner()
#: The password typed at the prompt of `crswatch users create`.
PASSWORD = "a-long-enough-password"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def tour_commands() -> list[str]:
    """The command lines of the tour's first bash block, without comments."""
    found = re.search(r"```bash\n(.*?)```", _section("Command-line tour"), re.S)
    assert found is not None, "the tour has no bash block"
    commands = []
    for line in found.group(1).splitlines():
        command = line.split("  #", 1)[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def test_the_tour_starts_where_the_quickstart_ends() -> None:
    commands = tour_commands()
    # The Quickstart installs into .venv; the tour activates it, then uses crswatch alone.
    assert "python3 -m venv .venv" in _section("Quickstart")
    assert commands[0] == "source .venv/bin/activate"
    assert all(command.startswith("crswatch ") for command in commands[1:]), commands
    # Dates fit the shipped example (2024-03-01 to 2024-03-06), never the demo's moving clock.
    example = json.loads((ROOT / "examples" / "patient.json").read_text(encoding="utf-8"))
    times = sorted(event["time"] for event in example["events"])
    for command in commands:
        for moment in re.findall(r"\d{4}-\d\d-\d\dT[\d:]+Z", command):
            assert times[0] <= moment <= times[-1], command


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _serve_briefly(args: list[str], cwd: Path, env: dict[str, str], user: str) -> None:
    """Run a serving command on a free loopback port until it answers, log in, then stop it."""
    port = _free_port()
    if "--port" in args:
        args = args[: args.index("--port")] + args[args.index("--port") + 2 :]
    script = Path(sys.executable).parent / "crswatch"
    runner_code = "from crswatch.cli import main; main()"
    command = [str(script)] if script.exists() else [sys.executable, "-c", runner_code]
    server = subprocess.Popen(
        [*command, *args, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    health = json.loads(response.read())
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert health is not None and health["status"] == "ok", server.poll()
        password = DEMO_PASSWORD if user == "clinician" else PASSWORD
        login = _post(f"{base}/auth/login", {"username": user, "password": password})
        assert login["access_token"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "database: " in output, output


@pytest.mark.slow
def test_every_command_of_the_tour_runs_after_the_quickstart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for name in ("CRSWATCH_DATA_DIR", "CRSWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRSWATCH_")}
    # The Quickstart's `crswatch demo`, without serving: the demo database and demo-ward.json.
    demo = runner.invoke(app, ["demo", "--no-serve"])
    assert demo.exit_code == 0, demo.output
    assert (tmp_path / "crswatch-data" / "demo-ward.json").exists()
    ran = 0
    for command in tour_commands()[1:]:
        args = shlex.split(command)[1:]
        if args[0] == "serve":
            _serve_briefly(args, tmp_path, env, "clinician" if "--demo" in args else "alice")
        else:
            typed = f"{PASSWORD}\n{PASSWORD}\n" if args[:2] == ["users", "create"] else None
            result = runner.invoke(app, args, input=typed)
            assert result.exit_code == 0, (command, result.output)
        ran += 1
    assert ran == len(tour_commands()) - 1 >= 30
    # What the tour promises it wrote.
    for written in (
        "patient.fhir.json",
        "tables/events.csv",
        "tables-parquet/events.parquet",
        "report.html",
        "report.pdf",
        "cibmtr.csv",
        "crswatch-data/crswatch.db",
    ):
        assert (tmp_path / written).exists(), written
