"""Start-up stays light (issue 16, point 5): untimed checks that the command line loads the
library only for the command that runs, and that its lazy listing says what the commands say.

Timings are in bench/bench_startup.py, not here.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from typing import Any

import pytest
import typer

from crswatch.cli import app
from crswatch.cli._lazy import COMMANDS

#: Libraries (and crswatch packages) that no command needs just to start or to print its help.
HEAVY = (
    "polars",
    "pyarrow",
    "numpy",
    "pandas",
    "duckdb",
    "sqlalchemy",
    "alembic",
    "argon2",
    "jinja2",
    "fastapi",
    "starlette",
    "uvicorn",
    "pint",
    "ucumvert",
    "yaml",
    "fhir",
    "sklearn",
    "matplotlib",
    "reportlab",
    "jwt",
    "httpx",
    "pyspark",
    "crswatch.timeline",
    "crswatch.io",
    "crswatch.state",
    "crswatch.scales",
    "crswatch.store",
    "crswatch.api",
    "crswatch.web",
)


def _loaded_after(code: str) -> list[str]:
    """The modules of ``HEAVY`` imported by ``code``, run in a fresh interpreter."""
    probe = (
        f"{code}\n"
        "import json, sys\n"
        f"heavy = {HEAVY!r}\n"
        "found = sorted({h for h in heavy for m in sys.modules\n"
        "                if m == h or m.startswith(h + '.')})\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after("import crswatch.cli") == []


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from crswatch.cli import main\n"
        "sys.argv = ['crswatch', '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()\n"
    )
    assert _loaded_after(code) == []


def test_the_package_and_its_errors_load_no_heavy_library() -> None:
    # crswatch.errors is what every command module imports; the package loads lazily.
    assert _loaded_after("import crswatch, crswatch.errors") == []


def test_a_light_command_loads_only_what_it_needs() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from crswatch.cli import main\n"
        "sys.argv = ['crswatch', 'blinatumomab', '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()\n"
    )
    assert _loaded_after(code) == []


def test_listing_the_scales_loads_the_registry_not_the_engine() -> None:
    """``crswatch scales`` reads the criteria as data: no state engine, grading queries,
    readers or store (``crswatch.scales`` loads its names on first use)."""
    code = (
        "import contextlib, io, sys\n"
        "from crswatch.cli import main\n"
        "sys.argv = ['crswatch', 'scales']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()\n"
        "assert 'crswatch.scales._registry' in sys.modules\n"
        "for engine in ('crswatch.scales._api', 'crswatch.scales._grade'):\n"
        "    assert engine not in sys.modules, engine\n"
    )
    loaded = _loaded_after(code)
    assert "crswatch.scales" in loaded
    assert not {"crswatch.state", "crswatch.io", "crswatch.store", "pint"} & set(loaded)


def test_the_scales_package_names_load_on_first_use() -> None:
    import crswatch.scales as scales

    assert set(scales.__all__) == set(scales._LAZY)
    for name in scales.__all__:
        assert getattr(scales, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = scales.nothing


def _eager_group() -> typer.core.TyperGroup:
    for entry in COMMANDS.values():
        for module in entry.modules:
            importlib.import_module(f"crswatch.cli.{module}")
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return group


def test_the_lazy_table_is_every_command_with_its_own_summary() -> None:
    group = _eager_group()
    # The order is the table's (``LazyGroup.list_commands``); the commands are the same.
    assert sorted(group.commands) == sorted(COMMANDS)
    for name, command in group.commands.items():
        first_paragraph = (command.help or "").split("\n\n")[0]
        assert COMMANDS[name].summary == " ".join(first_paragraph.split()), name


def test_lazy_help_reads_as_the_loaded_commands_help() -> None:
    def help_text(first: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", f"{first}\nfrom crswatch.cli import main; main()", "--help"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "100"},
            timeout=120,
        ).stdout

    modules = sorted({module for entry in COMMANDS.values() for module in entry.modules})
    # Every module imported first: the listing then comes from the commands themselves.
    load_all = "; ".join(f"import crswatch.cli.{module}" for module in modules)
    lazy = help_text("pass")
    assert "Commands:" in lazy
    assert lazy == help_text(load_all)


def test_a_typo_still_gets_a_suggestion() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from crswatch.cli import main; main()", "grde"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Did you mean 'grade'?" in done.stderr


@pytest.mark.parametrize(
    ("written", "source"),
    [
        ("crswatch.cli._blinatumomab:REGIMEN_NAMES", "crswatch.regimens:REGIMENS"),
        ("crswatch.cli._blinatumomab:LABEL_VERSION_NAMES", "crswatch.regimens:LABEL_VERSIONS"),
        ("crswatch.cli._regimen:PRODUCT_NAMES", "crswatch.regimens:PRODUCTS"),
        ("crswatch.cli._recommend:RULESET_NAMES", "crswatch.management:RULESETS"),
        ("crswatch.cli._serve:ROLE_NAMES", "crswatch.store:ROLES"),
    ],
)
def test_names_written_out_for_the_help_match_the_library(written: str, source: str) -> None:
    def resolve(path: str) -> Any:
        module, name = path.split(":")
        return getattr(importlib.import_module(module), name)

    assert tuple(resolve(written)) == tuple(resolve(source))
