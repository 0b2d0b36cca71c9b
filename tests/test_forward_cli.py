"""`printscp serve --forward` / [[forward]] as a real process: Orthanc down, printscp restarted, resend."""

from __future__ import annotations

import json
from datetime import datetime

from conftest import wait_for
from dcmtk import free_port
from orthanc import Orthanc
from printscp.forward.outbox import Outbox
from scu import associate, gray_pixels
from test_cli import run_cli, serve, terminate  # noqa: F401  (serve is a fixture)


def config(tmp_path, archive: Orthanc):
    output = tmp_path / "jobs"
    path = tmp_path / "serve.toml"
    path.write_text(f'''output = "{output}"

[identity]
fallback = {{ patient_id = "NOID", patient_name = "NO^NAME" }}

[[identity.rule]]
film_session_label = '^(?P<pid>[A-Z0-9]+) (?P<name>.+)$'
patient_id = "{{pid}}"
patient_name = "{{name}}"

[[forward]]
destination = "{archive.destination}"
format = "sc"
dpi = 75
retry_initial_s = 0.2
retry_max_s = 0.5
timeout_s = 2
''')
    return path, output


def entries(output) -> list[dict]:
    return [e for _, e in Outbox(output, []).entries()]


def test_a_film_printed_while_the_archive_is_down_arrives_after_a_restart(serve, tmp_path):
    archive = Orthanc(tmp_path / "orthanc")
    cfg, output = config(tmp_path, archive)
    first = serve("--config", str(cfg), "--output", str(output))  # the command line beats the config file
    with associate(first.port) as scu:
        assert scu.print_film([gray_pixels(64, 64, 800)], r"STANDARD\1,1",
                              session_attrs={"FilmSessionLabel": "P42 SMITH^ANNA"})["print"] == 0
    failed = wait_for(lambda: (e := entries(output)) and len(e[0]["attempts"]) >= 1 and e[0], 30,
                      what="a failed attempt recorded in the outbox")
    assert failed["state"] == "pending" and failed["attempts"][0]["kind"] == "network"
    assert terminate(first) == 0
    job_id = failed["job_id"]

    archive.start()
    try:
        second = serve("--config", str(cfg), "--output", str(output))
        wait_for(lambda: entries(output)[0]["state"] == "delivered", 30, what="delivery after the restart")
        ids = archive.instances()
        assert len(ids) == 1
        tags = archive.tags(ids[0])
        assert (tags["PatientID"], tags["PatientName"]) == ("P42", "SMITH^ANNA")
        assert len(entries(output)[0]["attempts"]) >= 2  # the failures before stay on record

        status = run_cli("forward", "status", job_id, "--config", str(cfg), cwd=tmp_path)
        assert status.returncode == 0 and "delivered" in status.stdout and archive.destination in status.stdout
        listed = json.loads(run_cli("forward", "status", "--json", "--config", str(cfg), cwd=tmp_path).stdout)
        assert [e["state"] for e in listed] == ["delivered"] and listed[0]["attempts"][-1]["ok"] is True

        again = run_cli("forward", "resend", job_id, "--config", str(cfg), cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "1 instance(s) stored" in again.stdout
        assert archive.instances() == ids, "a resend must not create a second instance"

        nowhere = f"NOBODY@127.0.0.1:{free_port()}"
        down = run_cli("forward", "resend", job_id, "--to", nowhere, "--config", str(cfg), cwd=tmp_path)
        assert down.returncode == 3 and "could not be reached" in down.stdout
        assert terminate(second) == 0
    finally:
        archive.stop()


def test_bad_forward_destination_exits_2_saying_how_to_write_it(tmp_path):
    done = run_cli("serve", "--port", str(free_port()), "--forward", "PACS@nohost", cwd=tmp_path)
    assert done.returncode == 2
    assert "AET@HOST:PORT" in done.stderr and "Traceback" not in done.stderr


def test_resend_of_an_unknown_job_exits_2(tmp_path):
    done = run_cli("forward", "resend", "20990101-000000-0001", "--output", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "no published job" in done.stderr


def test_a_rule_naming_an_unknown_group_is_a_config_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[identity.rule]]\nowner_id = "^(?P<who>.+)$"\npatient_id = "{whom}"\n'
                   '[[forward]]\ndestination = "A@127.0.0.1:104"\n')
    done = run_cli("serve", "--port", str(free_port()), "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 2 and "{whom}" in done.stderr and "named group" in done.stderr


def test_serve_forward_option_delivers_within_5_s_of_the_job(serve, tmp_path):
    archive = Orthanc(tmp_path / "orthanc").start()
    try:
        cfg = tmp_path / "identity.toml"
        cfg.write_text(f'output = "{tmp_path / "out"}"\n[[identity.rule]]\nowner_id = \'^(?P<pid>.+)$\'\n'
                       'patient_id = "{pid}"\npatient_name = "FILM^{calling_ae}"\n')
        server = serve("--forward", archive.destination, "--config", str(cfg))
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 800)], r"STANDARD\1,1",
                                  session_attrs={"OwnerID": "MRN-77"})["print"] == 0
        # the fixture's --output beats the config file's output
        manifest = wait_for(lambda: next(server.output.glob("[0-9]*/*/job.json"), None), 30, what="the job")
        ids = wait_for(lambda: archive.instances(), 30, 0.05, "the film in the archive")
        arrived = datetime.now().astimezone()
        finished = datetime.fromisoformat(json.loads(manifest.read_text())["times"]["finished"])
        assert (arrived - finished).total_seconds() < 5
        tags = archive.tags(ids[0])
        assert (tags["PatientID"], tags["PatientName"]) == ("MRN-77", "FILM^TESTSCU")
        assert tags["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.7"
        assert terminate(server) == 0
    finally:
        archive.stop()


def test_cups_forwarding_without_lp_exits_2_naming_the_package(tmp_path):
    import subprocess
    import sys

    from test_cli import _env

    env = {**_env(), "PATH": str(tmp_path)}  # a PATH with no lp on it
    done = subprocess.run([sys.executable, "-m", "printscp", "serve", "--port", str(free_port()),
                           "--forward", "cups:Paper"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "cups-client" in done.stderr and "Traceback" not in done.stderr
