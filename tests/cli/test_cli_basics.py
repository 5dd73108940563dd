"""The ``livyd`` command without a Livy server: version, usage, configuration errors, doctor.

Every test runs ``python -m livyd`` as a real subprocess in a clean environment (its own HOME,
XDG_CONFIG_HOME and cwd, no LIVY_* variables), so nothing on this machine leaks in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The current environment minus anything that configures livyd, with a private HOME."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LIVY", "PROXY_USER", "AD_USER", "TEAM_ENV")) and k != "XDG_CONFIG_HOME"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(extra)
    return env


def livyd(*args: str, cwd: Path, env: dict[str, str], input: str | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livyd", *args], cwd=cwd, env=env, input=input,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


def test_version_is_on_stdout(home: Path) -> None:
    from livyd._version import __version__

    proc = livyd("--version", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 0
    assert proc.stdout == f"livyd {__version__}\n"


def test_no_command_is_a_usage_error(home: Path) -> None:
    proc = livyd(cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    assert "usage: livyd" in proc.stderr
    assert proc.stdout == ""


def test_unknown_option_is_a_usage_error(home: Path) -> None:
    proc = livyd("exec", "--no-such-flag", "1", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in proc.stderr


def test_bad_livy_conf_is_a_configuration_error_naming_the_variable(home: Path) -> None:
    env = clean_env(home / "home", LIVY_CONF='{"spark.a": "1",}')
    proc = livyd("exec", "1", cwd=home / "work", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "livyd: error: LIVY_CONF (environment): LIVY_CONF is not a JSON object: ")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_unknown_profile_lists_known_profiles(home: Path) -> None:
    (home / "work" / "livyd.toml").write_text("[profiles.entw]\n[profiles.prod]\n")
    proc = livyd("--profile", "qual", "doctor", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "livyd: error: unknown profile 'qual' (chosen by --profile); known profiles: entw, prod")


def test_bad_toml_key_names_file_and_line(home: Path) -> None:
    path = home / "work" / "livyd.toml"
    path.write_text('[session]\nkind = "pyspark"\nexecutorMem = "4g"\n')
    proc = livyd("exec", "1", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    assert f"livyd: error: {path}:3: unknown key 'executorMem' in [session]" in proc.stderr


def test_blacklisted_conf_is_refused_before_anything_is_sent(home: Path) -> None:
    """No server at that URL: the error must come from validation, not from a connection attempt."""
    env = clean_env(home / "home", LIVY_URL="http://127.0.0.1:9", LIVY_CONF='{"spark.master": "local"}')
    proc = livyd("exec", "1", cwd=home / "work", env=env)
    assert proc.returncode == 2
    assert "spark.master" in proc.stderr and "LIVY_CONF" in proc.stderr


def test_connection_refused_exits_3_with_one_line(home: Path) -> None:
    proc = livyd("sessions", "list", "--url", "http://127.0.0.1:9", cwd=home / "work",
                 env=clean_env(home / "home"))
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("livyd: error: ")
    assert "127.0.0.1:9" in lines[0]


def test_sessions_without_url_says_how_to_configure(home: Path) -> None:
    proc = livyd("sessions", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    assert "no Livy URL configured" in proc.stderr and "LIVY_URL" in proc.stderr


def test_doctor_shows_sources_and_masks_secrets(home: Path) -> None:
    secret = "pw-Zq81-never-print"
    (home / "work" / ".env").write_text(f"LIVY_AUTH=basic\nLIVY_USER=alice\nLIVY_PASSWORD={secret}\n")
    (home / "work" / "livyd.toml").write_text('[session]\ndriverMemory = "4g"\n')
    env = clean_env(home / "home", LIVY_QUEUE="root.q")
    proc = livyd("--verbose", "doctor", "--json", cwd=home / "work", env=env)
    assert proc.returncode == 0, proc.stderr
    assert secret not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    settings = {s["key"]: (s["value"], s["source"]) for s in report["settings"]}
    assert settings["auth.password"] == ("********", f"{home / 'work' / '.env'}:3 (LIVY_PASSWORD)")
    assert settings["session.driver_memory"] == ("4g", f"{home / 'work' / 'livyd.toml'}:2")
    assert settings["session.queue"] == ("root.q", "LIVY_QUEUE (environment)")
    assert report["checks"][0]["ok"] is True and "embedded sandbox" in report["checks"][0]["detail"]
    people = livyd("doctor", cwd=home / "work", env=env)
    assert people.returncode == 0
    assert secret not in people.stdout + people.stderr
    assert "LIVY_PASSWORD" in people.stdout and "********" in people.stdout


def test_doctor_masks_secret_looking_spark_conf(home: Path) -> None:
    conf = {"spark.hadoop.fs.s3a.secret.key": "AKIASECRET1", "spark.ssl.keyPassword": "pwSECRET2",
            "spark.jdbc.url": "jdbc:postgresql://db/x?password=pgSECRET4", "spark.executor.cores": "2"}
    env = clean_env(home / "home", LIVY_CONF=json.dumps(conf))
    report = livyd("doctor", "--json", cwd=home / "work", env=env)
    people = livyd("doctor", cwd=home / "work", env=env)
    for proc in (report, people):
        assert proc.returncode == 0, proc.stderr
        assert "SECRET" not in proc.stdout + proc.stderr
    settings = {s["key"]: s["value"] for s in json.loads(report.stdout)["settings"]}
    assert settings['session.conf."spark.ssl.keyPassword"'] == "***"
    assert settings['session.conf."spark.jdbc.url"'] == "jdbc:postgresql://db/x?password=***"
    assert settings['session.conf."spark.executor.cores"'] == "2"
    assert "***" in people.stdout

    bad = livyd("doctor", cwd=home / "work",
                env=clean_env(home / "home", LIVY_CONF='{"spark.ssl.keyPassword": ["pwSECRET2"]}'))
    assert bad.returncode == 2
    assert "spark.ssl.keyPassword" in bad.stderr and "SECRET" not in bad.stdout + bad.stderr


def test_run_missing_file_is_a_usage_error(home: Path) -> None:
    proc = livyd("run", "nope.py", cwd=home / "work", env=clean_env(home / "home", LIVY_URL="http://127.0.0.1:9"))
    assert proc.returncode == 2
    assert "livyd: error: FILE nope.py does not exist" in proc.stderr


def test_sandbox_is_delegated(home: Path) -> None:
    proc = livyd("sandbox", "--help", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 0, proc.stderr
    assert "--livy-version" in proc.stdout


def test_stdio_is_delegated_to_the_daemon(home: Path) -> None:
    """`livyd --stdio` is the editor daemon: on stdin EOF it exits 0 and writes nothing to stdout."""
    proc = livyd("--stdio", "--standalone", cwd=home / "work", env=clean_env(home / "home"), input="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_missing_ca_bundle_names_the_setting_and_its_source(home: Path) -> None:
    (home / "work" / "livyd.toml").write_text(
        'url = "https://livy.example.invalid:8443"\n[tls]\nca_bundle = "/nonexistent/ca.pem"\n')
    proc = livyd("sessions", cwd=home / "work", env=clean_env(home / "home"))
    assert proc.returncode == 2
    expected = f"{home / 'work' / 'livyd.toml'}:3: tls.ca_bundle /nonexistent/ca.pem is not a readable file"
    assert expected in proc.stderr


def test_bad_tls_files_are_configuration_errors_naming_the_key(home: Path) -> None:
    project = home / "work"
    (project / "junk.pem").write_text("this is not a certificate\n")
    toml = project / "livyd.toml"
    toml.write_text('url = "https://127.0.0.1:9"\n[tls]\nca_bundle = "junk.pem"\n')
    proc = livyd("sessions", cwd=project, env=clean_env(home / "home"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{toml}:3: tls.ca_bundle {project / 'junk.pem'} holds no usable PEM certificate" in proc.stderr

    toml.write_text('url = "https://127.0.0.1:9"\n[tls]\nclient_cert = "junk.pem"\n')
    proc = livyd("sessions", cwd=project, env=clean_env(home / "home"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and f"{toml}:3: tls.client_cert" in proc.stderr


def test_relative_tls_paths_are_relative_to_their_livyd_toml(home: Path) -> None:
    import certifi

    project = home / "work"
    (project / "certs").mkdir()
    (project / "certs" / "ca.pem").write_bytes(Path(certifi.where()).read_bytes())
    (project / "livyd.toml").write_text('url = "https://127.0.0.1:9"\n[tls]\nca_bundle = "certs/ca.pem"\n')
    deeper = project / "jobs" / "daily"
    deeper.mkdir(parents=True)
    proc = livyd("doctor", "--json", cwd=deeper, env=clean_env(home / "home"))
    settings = {s["key"]: s["value"] for s in json.loads(proc.stdout)["settings"]}
    assert settings["tls.ca_bundle"] == str(project / "certs" / "ca.pem")
    assert proc.returncode == 3  # the bundle loads; only the connection fails
    assert "tls.ca_bundle" not in proc.stderr


def test_bad_log_level_variable_is_a_configuration_error(home: Path) -> None:
    proc = livyd("sessions", cwd=home / "work", env=clean_env(home / "home", LIVYD_LOG_LEVEL="verbose"))
    assert proc.returncode == 2
    assert proc.stderr == ("livyd: error: LIVYD_LOG_LEVEL (environment): 'verbose' is not a log level; "
                           "use one of critical, debug, error, info, warn, warning\n")
