"""The ktrdr command line: global options anywhere, help everywhere, errors and exit codes."""

from __future__ import annotations

import datetime as dt
import json
import math
import socket
import subprocess
import sys

import pytest
import typer

from ktrdr_cli import exit_codes, output
from ktrdr_cli.app import GLOBAL_OPTIONS, app, hoist_global_options
from ktrdr_cli.commands.params import key_values, scalar
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.main import run
from ktrdr_client.client import proto_enum


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_global_options_after_the_subcommand_move_in_front():
    argv = ["data", "load", "EURUSD", "1h", "--home", "/h", "--json", "--base-port=41000"]
    assert hoist_global_options(argv) == [
        "--home",
        "/h",
        "--json",
        "--base-port=41000",
        "data",
        "load",
        "EURUSD",
        "1h",
    ]


def test_a_double_dash_ends_the_search_for_global_options():
    argv = ["fuzzy", "evaluate", "--", "--json", "-5"]
    assert hoist_global_options(argv) == argv


def test_global_options_are_the_root_callbacks_options():
    root = typer.main.get_command(app)
    declared = {opt for p in root.params for opt in p.opts if opt.startswith("--")}
    assert set(GLOBAL_OPTIONS) <= declared


def _every_command(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _every_command(sub, (*path, name))


def test_every_option_and_argument_of_every_command_has_help_text():
    import ktrdr_cli.main  # noqa: F401  (registers the command groups)

    root = typer.main.get_command(app)
    missing = [
        f"ktrdr {' '.join(path)} {param.name}"
        for path, command in _every_command(root)
        for param in command.params
        if not getattr(param, "help", None) and param.name != "help"
    ]
    missing += [f"ktrdr {' '.join(path)}" for path, c in _every_command(root) if not c.help]
    assert missing == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ExitCode.INVALID),
        (401, ExitCode.AUTH),
        (403, ExitCode.AUTH),
        (404, ExitCode.NOT_FOUND),
        (429, ExitCode.UNAVAILABLE),
        (500, ExitCode.SERVER),
        (501, ExitCode.UNBUILT),
        (503, ExitCode.UNAVAILABLE),
        (504, ExitCode.UNAVAILABLE),
    ],
)
def test_http_status_maps_to_a_documented_exit_code(status, code):
    assert exit_codes.for_http_status(status) == code
    assert int(code) in {c for c, _, _ in exit_codes.table()}


def test_exit_codes_are_distinct_and_each_documented():
    rows = exit_codes.table()
    assert len({c for c, _, _ in rows}) == len(ExitCode)
    assert all(meaning for _, _, meaning in rows)


def test_unreachable_api_is_exit_6_with_the_code_and_a_hint_on_stderr(capsys, tmp_path):
    code = run(
        ["data", "info", "--url", f"http://127.0.0.1:{_closed_port()}", "--home", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert code == ExitCode.UNAVAILABLE
    assert captured.out == ""
    assert "[CLIENT-001]" in captured.err and "hint: start the mesh" in captured.err
    assert "Traceback" not in captured.err


def test_json_errors_are_one_json_object_on_stderr(capsys, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    code = run(["--json", "data", "timeframes", "--url", url, "--home", str(tmp_path)])
    err = json.loads(capsys.readouterr().err)["error"]
    assert code == ExitCode.UNAVAILABLE
    assert err["code"] == "CLIENT-001" and err["status"] == 503 and err["hint"]


def test_a_bad_enum_value_is_a_usage_error_listing_the_short_names(capsys, tmp_path):
    code = run(["data", "load", "EURUSD", "1h", "--mode", "LOAD_MODE_BOGUS"])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert all(f"'{name}'" in err for name in ("local", "tail", "backfill", "full"))


def test_mesh_status_of_a_home_without_a_mesh_says_so_and_exits_1(capsys, tmp_path):
    code = run(["mesh", "status", "--home", str(tmp_path), "--base-port", "23000", "--json"])
    status = json.loads(capsys.readouterr().out)
    assert code == ExitCode.FAILURE
    assert status["supervisor_pid"] is None
    assert {p["state"] for p in status["processes"]} == {"not running"}


def test_restarting_without_a_mesh_is_a_mesh_error(capsys, tmp_path):
    assert run(["mesh", "restart", "data", "--home", str(tmp_path)]) == ExitCode.MESH
    assert "not running" in capsys.readouterr().err


def test_enum_values_print_in_their_short_form():
    assert output.short("LOAD_MODE_LOCAL") == "local"
    assert output.short("INDICATOR_CATEGORY_MOMENTUM") == "momentum"
    assert output.short("GAP_KIND_OUTSIDE_TRADING_HOURS") == "outside_trading_hours"
    assert output.short("QUALITY_ACTION_REJECTED") == "rejected"
    assert output.short("EURUSD") == "EURUSD"


def test_every_contract_enum_value_has_a_short_form_without_its_prefix():
    from ktrdr.data.v1 import data_pb2
    from ktrdr.fuzzy.v1 import fuzzy_pb2

    names = output.enum_short_names()
    for enum in (
        *data_pb2.DESCRIPTOR.enum_types_by_name.values(),
        *fuzzy_pb2.DESCRIPTOR.enum_types_by_name.values(),
    ):
        for value in enum.values:
            assert value.name in names
            assert names[value.name] and names[value.name].upper() in value.name
            assert names[value.name] != value.name.lower()


def test_short_enum_names_round_trip_through_the_client():
    for full, short in output.enum_short_names().items():
        if full.startswith("LOAD_MODE_"):
            assert proto_enum("LOAD_MODE", short) == full
    assert proto_enum("LOAD_MODE", "") == ""
    assert proto_enum("INFERENCE_METHOD", "INFERENCE_METHOD_SUGENO") == "INFERENCE_METHOD_SUGENO"


def test_json_output_is_strict_json():
    value = {
        "kind": "GAP_KIND_WEEKEND",
        "at": dt.datetime(2017, 6, 1, tzinfo=dt.UTC),
        "values": [1.5, math.nan, math.inf],
    }
    assert output.jsonable(value) == {
        "kind": "weekend",
        "at": "2017-06-01T00:00:00Z",
        "values": [1.5, None, None],
    }


def test_key_value_options_parse_numbers_and_text():
    assert key_values(["period=14", "source=hl2", "k=2.5"], option="-p") == {
        "period": 14,
        "source": "hl2",
        "k": 2.5,
    }
    assert scalar("true") is True
    with pytest.raises(typer.BadParameter):
        key_values(["period"], option="-p")
    with pytest.raises(typer.BadParameter):
        key_values(["rsi=high"], option="--input", numeric=True)


def test_a_reader_closing_stdout_early_ends_quietly_with_141():
    script = (
        "import sys\n"
        "from ktrdr_cli import output\n"
        "out = output.Output()\n"
        "try:\n"
        "    for i in range(200000):\n"
        "        out.line(f'row {i}')\n"
        "except output.StdoutClosed:\n"
        "    out.line('after close')  # dropped, never raises again\n"
        "    sys.exit(141)\n"
    )
    done = subprocess.run(
        f'{sys.executable} -c "{script}" | head -2; echo "rc=${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == ["row 0", "row 1", "rc=141"]
    assert done.stderr == ""


def test_progress_bars_draw_on_a_terminal_stderr_and_never_in_json_mode():
    import io

    from rich.console import Console

    out = output.Output()
    out.err = Console(file=io.StringIO(), force_terminal=True, width=80)
    with out.progress("EURUSD 1h", 10) as advance:
        advance(4)
        advance(6)
    drawn = out.err.file.getvalue()
    assert "EURUSD 1h" in drawn and "10/10" in drawn
    quiet = output.Output(json_mode=True)
    quiet.err = Console(file=io.StringIO(), force_terminal=True)
    with quiet.progress("x", 3) as advance:
        advance(3)
    assert quiet.err.file.getvalue() == ""
