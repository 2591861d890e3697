"""``haizhou airspace decode`` through Typer's CliRunner: output lines, order, exit codes."""

from __future__ import annotations

import json

import pytest
from tests.airspace._data import gb, odid_single_vectors, odid_to_spec, odid_vector, pymodes_vectors
from typer.testing import CliRunner

from haizhou.cli.airspace import app

runner = CliRunner()


def run(*args: str, stdin: str | None = None):
    result = runner.invoke(app, ["decode", *args], input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result, lines


def test_every_remote_id_vector_field_by_field():
    vectors = odid_single_vectors()
    result, lines = run(*[v["encoded_hex"] for v in vectors])
    assert result.exit_code == 0, result.output
    assert len(lines) == len(vectors)
    for vector, out in zip(vectors, lines, strict=True):
        kind = out["type"]
        for key, want in odid_to_spec(kind, vector["decoded"]).items():
            if isinstance(want, float):
                assert out[key] == pytest.approx(want, rel=1e-7, abs=1e-6), (vector["name"], key)
            else:
                assert out[key] == want, (vector["name"], key)


def test_gb46750_vectors_auto_detected_and_forced():
    packets = [v["packet_hex"] for v in gb()["vectors"]]
    for args in (packets, ["--format", "gb46750", *packets]):
        result, lines = run(*args)
        assert result.exit_code == 0
        for vector, out in zip(gb()["vectors"], lines, strict=True):
            assert out["type"] == "gb46750"
            for key, want in vector["decoded"].items():
                if key not in ("data_len", "flag_bytes"):
                    assert out[key] == want, key


def test_the_spec_examples_verbatim():
    _result, lines = run("122624160a42bf241b6ed1b4b69808ac0870086b53150e0200")
    assert lines[0]["latitude"] == 45.539309 and lines[0]["timestamp"] == 360.5
    _result, lines = run("8D406B902015A678D4D220AA4BDA")
    assert lines == [
        {
            "protocol": "adsb",
            "type": "identification",
            "protocol_version": None,
            "df": 17,
            "icao": "406B90",
            "typecode": 4,
            "category": 0,
            "callsign": "EZY85MH",
        }
    ]


def test_uppercase_hex_and_surrounding_whitespace_are_accepted():
    hx = odid_vector("inout_operator_id")["encoded_hex"]
    result, lines = run(f"  {hx.upper()}  ")
    assert result.exit_code == 0
    assert lines[0]["operator_id"] == "98765432100123456789"


def test_reference_decodes_locally_and_the_pair_globally():
    by_name = {v["name"]: v for v in pymodes_vectors()["vectors"]}
    boundary = by_name["df17_airborne_pos_zone_boundary_with_ref"]
    lat, lon = boundary["kwargs"]["reference"]
    result, lines = run("--reference", f"{lat},{lon}", boundary["hex"])
    assert result.exit_code == 0
    assert lines[0]["latitude"] == pytest.approx(30.5054, abs=1e-3)
    assert lines[0]["longitude"] == pytest.approx(33.44787, abs=1e-3)
    pair = by_name["df17_airborne_pos_global_pair_odd_newer"]["hex"]
    result, lines = run(*pair)
    assert lines[0]["latitude"] is None
    assert lines[1]["latitude"] == pytest.approx(49.81755, abs=1e-3)
    assert lines[1]["longitude"] == pytest.approx(6.08442, abs=1e-3)
    surface = by_name["df18_surface_position_lfbo"]["hex"]
    result, lines = run("--reference=43.63,1.37", surface)
    assert lines[0]["latitude"] == pytest.approx(43.62646, abs=1e-3)


def test_negative_reference_values_are_parsed():
    result, lines = run("--reference", "-33.9,151.2", "8D40058B58C901375147EFD09357")
    assert result.exit_code == 0
    assert lines[0]["latitude"] == pytest.approx(-34.1759, abs=1e-3)


def test_file_with_comments_blank_lines_and_errors_keeps_order(tmp_path):
    good = odid_vector("inout_basic_id")["encoded_hex"]
    path = tmp_path / "feed.txt"
    path.write_text(f"# a comment\n\n{good}\nnot-hex\n  8D406B902015A678D4D220AA4BDA \n12\n")
    result, lines = run("--file", str(path))
    assert result.exit_code == 0  # some malformed messages: still 0
    assert [line.get("type") for line in lines] == ["basic_id", None, "identification", None]
    assert lines[1] == {
        "error": "not a hex message: expected an even number of hex digits",
        "input": "not-hex",
    }
    assert lines[3]["input"] == "12" and lines[3]["protocol"] == "astm_f3411"


def test_stdin_with_dash():
    result, lines = run("--file", "-", stdin="8D406B902015A678D4D220AA4BDA\n")
    assert result.exit_code == 0
    assert lines[0]["callsign"] == "EZY85MH"


def test_forced_format_applies_to_every_message():
    result, lines = run("--format", "adsb", odid_vector("inout_location")["encoded_hex"])
    assert result.exit_code == 1
    assert lines[0]["protocol"] == "adsb" and "14 bytes" in lines[0]["error"]
    result, lines = run("--format", "astm", "8D406B902015A678D4D220AA4BDA")
    assert result.exit_code == 1 and lines[0]["protocol"] == "astm_f3411"


def test_exit_1_when_every_message_fails():
    result, lines = run("00", "zz", "8D406B902015A678D4D220AA4BDB")
    assert result.exit_code == 1
    assert len(lines) == 3 and all("error" in line for line in lines)
    assert "CRC" in lines[2]["error"]


def test_exit_0_for_an_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing\n\n")
    result, lines = run("--file", str(path))
    assert (result.exit_code, lines) == (0, [])


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus", "00"],
        ["--format", "xml", "00"],
        ["--reference", "91,0", "00"],
        ["--reference", "34.6", "00"],
        ["--reference", "a,b", "00"],
        ["--reference", "nan,1", "00"],
        ["--reference", "1,2,3", "00"],
        ["--file", "/nonexistent/feed.txt"],
        ["--file", "/"],
        [],
        ["--file", "-", "00"],
    ],
)
def test_usage_errors_exit_2_and_print_nothing_on_stdout(args):
    result = runner.invoke(app, ["decode", *args], input="")
    assert result.exit_code == 2, (args, result.output)
    assert result.stdout.strip() == "" or result.stdout.lstrip().startswith("Usage")


def test_non_ascii_text_is_utf8_json(tmp_path):
    from haizhou.airspace.decode.astm_encode import encode_self_id

    hx = encode_self_id(desc_type=0, desc="Café").hex()
    result, lines = run(hx)
    assert lines[0]["desc"] == "Café"
    assert "Café" in result.stdout


def test_wired_under_a_root_app_as_the_lead_will_do():
    import typer

    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        pass

    root.add_typer(app, name="airspace")
    result = runner.invoke(root, ["airspace", "decode", "8D406B902015A678D4D220AA4BDA"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["callsign"] == "EZY85MH"
    assert runner.invoke(root, ["airspace", "decode", "--nope"]).exit_code == 2


def test_the_real_track_through_the_cli_pairs_positions(tmp_path):
    import csv

    from tests.conftest import shared_file

    with shared_file("adsb", "sample_data_adsb.csv").open(newline="") as handle:
        hexes = [row[1] for row in csv.reader(handle)]
    path = tmp_path / "track.txt"
    path.write_text("\n".join(hexes) + "\n")
    result, lines = run("--file", str(path))
    assert result.exit_code == 0 and len(lines) == 2000
    fixes = [line for line in lines if line.get("latitude") is not None]
    assert len(fixes) == 933  # the oracle's 929 plus 4 resolved before its first fix
    assert all(50.9 < f["latitude"] < 51.8 and 4.6 < f["longitude"] < 7.4 for f in fixes)
