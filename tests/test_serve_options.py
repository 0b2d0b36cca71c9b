"""Where `serve` options come from (command line > PRINTSCP_* > --config > default) and that the
timeouts and PDU size reach pynetdicom."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import make_ae
from printscp import profile as profiles
from printscp import serve_options
from printscp.scp.server import PrintServer, Settings

REPO = Path(__file__).resolve().parent.parent


def test_precedence_command_line_then_environment_then_file_then_default(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('port = 1000\nhost = "10.0.0.1"\nae_title = "FILE"\nlog_format = "json"\n'
                      '[retention]\nmax_age_days = 9\n')
    options, retention = serve_options.resolve(
        {"config": str(config), "port": 3000},
        {"PRINTSCP_PORT": "2000", "PRINTSCP_HOST": "127.0.0.1", "PRINTSCP_RETENTION_MAX_TOTAL_GB": "1.5"})
    assert options["port"] == 3000 and options["host"] == "127.0.0.1" and options["ae_title"] == "FILE"
    assert options["log_format"] == "json" and options["dimse_timeout"] == 30.0 and options["output"] == "output"
    assert retention == {"max_age_days": 9.0, "max_total_gb": 1.5}


def test_output_defaults_to_the_systemd_state_directory(tmp_path):
    options, _ = serve_options.resolve({}, {"STATE_DIRECTORY": f"{tmp_path / 'state'}:{tmp_path / 'other'}"})
    assert options["output"] == str(tmp_path / "state" / "output")
    assert serve_options.resolve({}, {})[0]["output"] == "output"


@pytest.mark.parametrize("name, value, needle", [
    ("PRINTSCP_DIMSE_TIMEOUT", "0", "more than 0"), ("PRINTSCP_MAX_PDU", "100", "4096..16777216"),
    ("PRINTSCP_AE_TITLE", "A" * 17, "1..16 ASCII characters"), ("PRINTSCP_LOG_FORMAT", "jsno", "did you mean 'json'?"),
    ("PRINTSCP_RETENTION_MAX_AGE_DAYS", "-1", "positive number"),
])
def test_bad_values_name_their_source(name, value, needle):
    with pytest.raises(serve_options.ConfigError) as caught:
        serve_options.resolve({}, {name: value})
    (problem,) = caught.value.problems
    assert problem.startswith(f"{name} = {value!r}") and needle in problem


def test_forwarding_mistakes_are_reported_with_the_others(tmp_path):
    """The [[forward]] tables are checked with every other option: one run of `serve` lists them all."""
    config = tmp_path / "c.toml"
    config.write_text('port = "eleven"\n[[forward]]\ndestination = "cups:paper"\ndpi = "high"\n')
    with pytest.raises(serve_options.ConfigError) as caught:
        serve_options.resolve({"config": str(config)}, {})
    port, forward = caught.value.problems
    assert port.startswith(f"{config}: port = 'eleven'")
    assert forward == f"{config}: [[forward]] #1: forward destination cups:paper: dpi = 'high': give a whole number"

    config.write_text('forward = "PACS@127.0.0.1:104"\n')
    with pytest.raises(serve_options.ConfigError) as caught:
        serve_options.resolve({"config": str(config)}, {})
    assert caught.value.problems == [f"{config}: forward: use one [[forward]] table per destination "
                                     "(docs/forwarding.md)"]

    config.write_text('[[forward]]\ndestination = "PACS@127.0.0.1:104"\nformat = "both"\ntimeout_s = 5\n')
    options, _ = serve_options.resolve({"config": str(config), "forward": ["cups:paper"]}, {})
    dests, rules = options[serve_options.FORWARDING]
    assert [(d.spec, d.format, d.timeout_s) for d in dests] == [("PACS@127.0.0.1:104", "both", 5),
                                                               ("cups:paper", "sc", 10.0)]
    assert rules is not None


def test_the_forward_commands_read_the_forwarding_tables_as_serve_does(tmp_path):
    """`printscp forward status/resend` take the config from --config or PRINTSCP_CONFIG, like serve,
    and a table of the wrong shape is the same one-line mistake there (the check is in forward/service.py)."""
    from printscp.forward import service

    config = tmp_path / "c.toml"
    config.write_text('[[forward]]\ndestination = "PACS@127.0.0.1:104"\n')
    dests, _ = serve_options.forwarding_settings(None, {"PRINTSCP_CONFIG": str(config)})
    assert [d.spec for d in dests] == ["PACS@127.0.0.1:104"]
    assert serve_options.forwarding_settings(None, {}) == ([], service.settings({}, [])[1])
    with pytest.raises(ValueError, match="identity: use an \\[identity\\] table"):
        service.settings({"identity": "rules"}, [], "c.toml")
    config.write_text('forward = "PACS@127.0.0.1:104"\n')
    with pytest.raises(serve_options.ConfigError, match="use one \\[\\[forward\\]\\] table"):
        serve_options.forwarding_settings(str(config), {})


def test_timeouts_and_max_pdu_reach_pynetdicom(tmp_path):
    settings = Settings("PRINTSCP", "127.0.0.1", 0, tmp_path, acse_timeout=5, dimse_timeout=6, network_timeout=7,
                        max_pdu=65536)
    ae = PrintServer(profiles.load(), settings).ae
    assert (ae.acse_timeout, ae.dimse_timeout, ae.network_timeout, ae.maximum_pdu_size) == (5, 6, 7, 65536)
    default = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, tmp_path)).ae
    assert default.maximum_pdu_size == profiles.load().association.max_pdu_size


def test_network_timeout_from_the_command_line_closes_an_idle_association(tmp_path):
    port, err = free_port(), tmp_path / "serve.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--control-port", "0", "-od", str(tmp_path / "out"), "-tn", "1"], cwd=tmp_path,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    ae = make_ae()
    try:
        wait_for_port(port, 30, proc, err)
        assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
        assert assoc.is_established
        wait_for(lambda: not assoc.is_established, timeout=15, what="the server to end the idle association")
        assert assoc.is_aborted
    finally:
        ae.shutdown()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert "aborted" in err.read_text() or "closed" in err.read_text()


def test_restart_only_changes_name_options_retention_and_forwarding_but_not_profiles(tmp_path):
    config = tmp_path / "c.toml"

    def resolved(text: str):
        config.write_text(text)
        return serve_options.resolve({"config": str(config)}, env={})

    before = resolved('profile = "default"\n[retention]\nmax_age_days = 7\n')
    assert serve_options.restart_only_changes(before, before) == []
    after = resolved('profile = "dry-laser"\nhttp_port = 8081\n[retention]\nmax_age_days = 30\n'
                     '[[forward]]\ndestination = "cups:films"\n')
    assert serve_options.restart_only_changes(before, after) == [
        "http_port", "[[forward]] / [identity] / --forward", "[retention] max_age_days"]
