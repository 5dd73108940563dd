"""Configuration: sources, precedence, interpolation, legacy variables and error messages.

Pure tests: real files in a temporary directory, an explicit environment mapping, no sockets.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from livyd._config import load_config
from livyd._exceptions import ConfigError


class Tree:
    """A temporary home with a user livyd.toml, a project with its livyd.toml, and a subdirectory."""

    def __init__(self, root: Path) -> None:
        self.user = root / "config" / "livyd" / "livyd.toml"
        self.project = root / "project"
        self.sub = self.project / "jobs" / "daily"
        self.sub.mkdir(parents=True)
        self.user.parent.mkdir(parents=True)

    def write_user(self, text: str) -> Path:
        self.user.write_text(textwrap.dedent(text))
        return self.user

    def write_project(self, text: str, name: str = "livyd.toml") -> Path:
        path = self.project / name
        path.write_text(textwrap.dedent(text))
        return path

    def load(self, env: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        kwargs.setdefault("cwd", self.sub)
        return load_config(env=env or {}, user_config=self.user, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_defaults_when_nothing_is_configured(tree: Tree) -> None:
    """With no file, no variable and no flag, nothing is invented: no URL, no auth, livyd defaults."""
    cfg = tree.load()
    assert cfg.profile.url is None
    assert cfg.profile.auth.type == "none"
    assert cfg.profile.session.name_prefix == "livyd"
    assert cfg.profile_name is None
    assert cfg.source_of("url") == "default"
    assert cfg.files == ()


LAYERS = ["user", "project", "env", "profile", "flag"]


@pytest.mark.parametrize("top", range(len(LAYERS)))
def test_precedence_matrix(tree: Tree, top: int) -> None:
    """Each layer beats every layer below it, and provenance names the winner."""
    present = LAYERS[: top + 1]
    user = 'url = "http://user:1"\n[profiles.p]\ntimeout = 5\n'
    if "profile" in present:
        user = 'url = "http://user:1"\n[profiles.p]\nurl = "http://profile-user:1"\n'
    tree.write_user(user)
    if "project" in present:
        tree.write_project('url = "http://project:1"\n[profiles.p]\n')
    env = {"LIVY_URL": "http://env:1"} if "env" in present else {}
    kwargs: dict[str, object] = {}
    if "profile" in present:
        kwargs["profile"] = "p"
    if "flag" in present:
        kwargs["url"] = "http://flag:1"
    cfg = tree.load(env, **kwargs)
    expected = {
        "user": ("http://user:1", f"{tree.user}:1"),
        "project": ("http://project:1", f"{tree.project / 'livyd.toml'}:1"),
        "env": ("http://env:1", "LIVY_URL (environment)"),
        "profile": ("http://profile-user:1", f"{tree.user}:3"),
        "flag": ("http://flag:1", "--url"),
    }[LAYERS[top]]
    assert (cfg.profile.url, cfg.source_of("url")) == expected


def test_explicit_profile_beats_env_but_default_profile_does_not(tree: Tree) -> None:
    """--profile / LIVYD_PROFILE outrank LIVY_*; a profile picked by default_profile does not."""
    tree.write_project("""
        default_profile = "entw"
        [profiles.entw]
        url = "http://entw:8998"
        [profiles.prod]
        url = "http://prod:8998"
    """)
    env = {"LIVY_URL": "http://env:8998"}
    by_default = tree.load(env)
    assert by_default.profile_name == "entw"
    assert by_default.profile.url == "http://env:8998"
    assert by_default.profile_source is not None and "default_profile" in by_default.profile_source
    assert tree.load({}).profile.url == "http://entw:8998"
    assert tree.load(env, profile="prod").profile.url == "http://prod:8998"
    via_var = tree.load({**env, "LIVYD_PROFILE": "prod"})
    assert via_var.profile.url == "http://prod:8998"
    assert via_var.profile_source == "LIVYD_PROFILE (environment)"
    # --profile beats LIVYD_PROFILE
    assert tree.load({"LIVYD_PROFILE": "prod"}, profile="entw").profile.url == "http://entw:8998"


def test_selector_variable_named_by_the_file_selects_the_profile(tree: Tree) -> None:
    """A file may name any variable (here TEAM_ENV) whose value picks the profile."""
    tree.write_user("""
        profile_variable = "TEAM_ENV"
        [profiles.entw]
        url = "https://knox-entw.example:8443/gateway/x/livy/v1"
        [profiles.test]
        url = "https://knox-test.example:8443/gateway/x/livy/v1"
    """)
    cfg = tree.load({"TEAM_ENV": "test", "LIVY_URL": "http://env:1"})
    assert cfg.profile_name == "test"
    assert cfg.profile.url == "https://knox-test.example:8443/gateway/x/livy/v1"  # explicit: beats LIVY_URL
    assert cfg.profile_source is not None and "TEAM_ENV" in cfg.profile_source
    # LIVYD_PROFILE beats the selector variable
    assert tree.load({"TEAM_ENV": "test", "LIVYD_PROFILE": "entw"}).profile_name == "entw"
    # camelCase / "selector" spelling works too
    tree.write_user('selector = "TEAM_ENV"\n[profiles.entw]\nurl = "http://e:1"\n')
    assert tree.load({"TEAM_ENV": "entw"}).profile_name == "entw"


def test_unknown_profile_lists_the_known_ones(tree: Tree) -> None:
    tree.write_user("[profiles.entw]\n[profiles.test]\n")
    tree.write_project("[profiles.wapr]\n[profiles.prod]\n")
    with pytest.raises(ConfigError) as err:
        tree.load(profile="staging")
    assert str(err.value) == (
        "unknown profile 'staging' (chosen by --profile); known profiles: entw, prod, test, wapr"
    )
    tree.write_user('profile_variable = "TEAM_ENV"\n[profiles.entw]\n')
    with pytest.raises(ConfigError, match=r"'qual' \(chosen by TEAM_ENV \(environment\)"):
        tree.load({"TEAM_ENV": "qual"})


def test_profile_sections_merge_across_files(tree: Tree) -> None:
    """The project's [profiles.p] refines the user's [profiles.p]; conf merges key by key."""
    tree.write_user("""
        [profiles.p]
        url = "http://u:1"
        [profiles.p.session]
        driverMemory = "4g"
        conf = { "spark.a" = "user", "spark.b" = "user" }
    """)
    tree.write_project("""
        [profiles.p.session]
        driver_memory = "8g"
        [profiles.p.session.conf]
        "spark.b" = "project"
    """)
    cfg = tree.load({"LIVY_CONF": '{"spark.c": 3}'}, profile="p")
    assert cfg.profile.url == "http://u:1"
    assert cfg.profile.session.driver_memory == "8g"
    assert cfg.profile.session.conf == {"spark.a": "user", "spark.b": "project", "spark.c": "3"}
    assert cfg.source_of("session.conf.spark.b") == f"{tree.project / 'livyd.toml'}:5"
    assert cfg.source_of("session.conf.spark.c") == "LIVY_CONF (environment)"


# --------------------------------------------------------------------------- interpolation


def test_interpolation_from_environment_and_dotenv(tree: Tree) -> None:
    (tree.project / ".env").write_text("AD_USER=alice\n")
    tree.write_project("""
        [webhdfs]
        base_dir = "/user/${AD_USER}/livy-sessions"
        url = "${WEBHDFS:-http://localhost:9870/webhdfs/v1}"
        [session]
        name_prefix = "cost$$-${AD_USER}"
        jars = ["hdfs:///user/${AD_USER}/lib/a.jar"]
        conf = { "spark.yarn.tags" = "${AD_USER}" }
    """)
    cfg = tree.load({})
    assert cfg.profile.webhdfs.base_dir == "/user/alice/livy-sessions"
    assert cfg.profile.webhdfs.url == "http://localhost:9870/webhdfs/v1"
    assert cfg.profile.session.name_prefix == "cost$-alice"
    assert cfg.profile.session.jars == ["hdfs:///user/alice/lib/a.jar"]
    assert cfg.profile.session.conf == {"spark.yarn.tags": "alice"}
    assert cfg.profile.webhdfs.user == "alice"  # AD_USER is the fallback WebHDFS user
    # the real environment beats .env
    assert tree.load({"AD_USER": "bob"}).profile.webhdfs.base_dir == "/user/bob/livy-sessions"


def test_undefined_variable_names_the_variable_the_file_and_the_key(tree: Tree) -> None:
    path = tree.write_project('[webhdfs]\nbase_dir = "/user/${AD_USER}/x"\n')
    with pytest.raises(ConfigError) as err:
        tree.load({})
    message = str(err.value)
    assert f"{path}:2" in message
    assert "webhdfs.base_dir" in message
    assert "AD_USER is not defined" in message


def test_unselected_profile_may_use_undefined_variables(tree: Tree) -> None:
    tree.write_project("""
        [profiles.entw]
        url = "http://entw:1"
        [profiles.prod.auth]
        type = "bearer"
        token = "${PROD_TOKEN}"
    """)
    assert tree.load(profile="entw").profile.url == "http://entw:1"
    with pytest.raises(ConfigError, match="PROD_TOKEN is not defined"):
        tree.load(profile="prod")


# --------------------------------------------------------------------------- .env and variables


def test_dotenv_in_cwd_and_project_root_with_line_provenance(tree: Tree) -> None:
    tree.write_project("")
    (tree.project / ".env").write_text("# team defaults\nLIVY_QUEUE=root.datalake\nLIVY_KIND=spark\n")
    (tree.sub / ".env").write_text("LIVY_KIND=pyspark\n")
    cfg = tree.load({})
    assert cfg.profile.session.queue == "root.datalake"
    assert cfg.source_of("session.queue") == f"{tree.project / '.env'}:2 (LIVY_QUEUE)"
    assert cfg.profile.session.kind == "pyspark"  # the cwd's .env beats the project root's
    assert cfg.source_of("session.kind") == f"{tree.sub / '.env'}:1 (LIVY_KIND)"
    real = tree.load({"LIVY_KIND": "sql"})
    assert real.profile.session.kind == "sql"
    assert real.source_of("session.kind") == "LIVY_KIND (environment)"
    assert tree.project / ".env" in cfg.files and tree.sub / ".env" in cfg.files


def test_legacy_variables_like_existing_env_files(tree: Tree) -> None:
    """The .env of seeds/003: comma-separated lists (blanks dropped), LIVY_CONF JSON, PROXY_USER."""
    (tree.sub / ".env").write_text(textwrap.dedent("""\
        LIVY_JARS=hdfs:///libs/a.jar, ,hdfs:///libs/b.jar,
        LIVY_FILES=hdfs:///config/app.properties
        LIVY_ARCHIVES=
        LIVY_PY_FILES=hdfs:///python/utils.py,hdfs:///python/t.zip
        LIVY_CONF={"spark.sql.shuffle.partitions":"500","spark.dynamicAllocation.enabled":true}
        PROXY_USER=svc_ingest
        LIVY_DRIVER_MEMORY=4g
        LIVY_DRIVER_CORES=2
        LIVY_EXECUTOR_MEMORY=4g
        LIVY_EXECUTOR_CORES=2
        LIVY_NUM_EXECUTORS=4
        LIVY_QUEUE=root.datalake
    """))
    s = tree.load({}).profile.session
    assert s.jars == ["hdfs:///libs/a.jar", "hdfs:///libs/b.jar"]
    assert s.files == ["hdfs:///config/app.properties"]
    assert s.archives == []
    assert s.py_files == ["hdfs:///python/utils.py", "hdfs:///python/t.zip"]
    assert s.conf == {"spark.sql.shuffle.partitions": "500", "spark.dynamicAllocation.enabled": "true"}
    assert s.proxy_user == "svc_ingest"
    payload = s.batch_fields()
    assert payload == {
        "proxy_user": "svc_ingest", "driver_memory": "4g", "driver_cores": 2, "executor_memory": "4g",
        "executor_cores": 2, "num_executors": 4, "queue": "root.datalake",
        "jars": ["hdfs:///libs/a.jar", "hdfs:///libs/b.jar"], "files": ["hdfs:///config/app.properties"],
        "py_files": ["hdfs:///python/utils.py", "hdfs:///python/t.zip"],
        "conf": {"spark.sql.shuffle.partitions": "500", "spark.dynamicAllocation.enabled": "true"},
    }
    # LIVY_PROXY_USER beats the legacy PROXY_USER
    assert tree.load({"LIVY_PROXY_USER": "alice"}).profile.session.proxy_user == "alice"


def test_livy_conf_that_is_not_json_says_where() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"LIVY_CONF": '{"spark.a":"1" "spark.b":"2"}'}, user_config=False, cwd="/")
    assert str(err.value) == (
        "LIVY_CONF (environment): LIVY_CONF is not a JSON object: "
        "Expecting ',' delimiter at line 1 column 16 (char 15)"
    )
    with pytest.raises(ConfigError, match="LIVY_CONF is not a JSON object: it is a JSON list"):
        load_config(env={"LIVY_CONF": '["a"]'}, user_config=False, cwd="/")


@pytest.mark.parametrize("name", ["LIVY_DRIVER_CORES", "LIVY_EXECUTOR_CORES", "LIVY_NUM_EXECUTORS"])
def test_integer_variables_are_checked_by_name(name: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={name: "two"}, user_config=False, cwd="/")
    assert str(err.value).startswith(f"{name} (environment): {name} must be an integer")
    assert "'two'" in str(err.value)


def test_all_livyd_variables(tree: Tree) -> None:
    env = {
        "LIVY_URL": "https://gw.example:8443/gateway/t/livy/v1", "LIVY_AUTH": "basic", "LIVY_USER": "alice",
        "LIVY_PASSWORD": "pw-7f3a", "LIVY_PROXY_USER": "svc", "LIVY_QUEUE": "q",
        "LIVY_NAME": "nightly", "LIVY_KIND": "PySpark", "LIVY_DRIVER_MEMORY": "10g", "LIVY_DRIVER_CORES": "1",
        "LIVY_EXECUTOR_MEMORY": "18550m", "LIVY_EXECUTOR_CORES": "3", "LIVY_NUM_EXECUTORS": "2",
    }
    p = tree.load(env).profile
    assert p.url == env["LIVY_URL"]
    assert p.auth.type == "basic" and p.auth.username == "alice"
    assert p.auth.password is not None and p.auth.password.get_secret_value() == "pw-7f3a"
    s = p.session
    assert (s.proxy_user, s.queue, s.name, s.kind) == ("svc", "q", "nightly", "pyspark")
    assert (s.driver_memory, s.driver_cores, s.executor_memory, s.executor_cores, s.num_executors) == (
        "10g", 1, "18550m", 3, 2)
    token = tree.load({"LIVY_AUTH": "bearer", "LIVY_TOKEN": "tok-91"}).profile.auth
    assert token.token is not None and token.token.get_secret_value() == "tok-91"


def test_secrets_are_masked_in_describe(tree: Tree) -> None:
    cfg = tree.load({"LIVY_AUTH": "basic", "LIVY_USER": "alice", "LIVY_PASSWORD": "pw-7f3a"})
    rows = {key: (value, source) for key, value, source in cfg.describe()}
    assert rows["auth.password"] == ("********", "LIVY_PASSWORD (environment)")
    assert rows["auth.username"] == ("alice", "LIVY_USER (environment)")
    assert "pw-7f3a" not in repr(cfg.describe())
    assert "pw-7f3a" not in repr(cfg.profile)


# --------------------------------------------------------------------------- keys and errors


def test_camel_case_and_snake_case_keys(tree: Tree) -> None:
    tree.write_project("""
        url = "http://h:8998"
        maxConnections = 4
        [session]
        driverMemory = "10g"
        executor_memory = "18550m"
        numExecutors = 2
        pyFiles = ["hdfs:///a.zip"]
        heartbeatTimeoutInSecond = 60
        idleTimeout = "2h"
        proxyUser = "svc"
        [tls]
        caBundle = "/etc/ssl/ca.pem"
        [poll]
        keepaliveInterval = 120
        [webhdfs]
        baseDir = "/user/x"
        [auth]
        type = "kerberos"
        targetName = "HTTP@gw.example"
    """)
    p = tree.load().profile
    assert p.max_connections == 4
    s = p.session
    assert (s.driver_memory, s.executor_memory, s.num_executors, s.py_files) == ("10g", "18550m", 2, ["hdfs:///a.zip"])
    assert (s.heartbeat_timeout, s.idle_timeout, s.proxy_user) == (60, "2h", "svc")
    assert str(p.tls.ca_bundle) == "/etc/ssl/ca.pem"
    assert p.poll.keepalive_interval == 120
    assert p.webhdfs.base_dir == "/user/x"
    assert p.auth.target_name == "HTTP@gw.example"
    assert s.session_fields()["heartbeat_timeout_in_second"] == 60


def test_unknown_key_names_file_line_table_and_valid_keys(tree: Tree) -> None:
    path = tree.write_project('[profiles.entw.session]\nkind = "pyspark"\ndriverMemmory = "4g"\n')
    with pytest.raises(ConfigError) as err:
        tree.load(profile="entw")
    message = str(err.value)
    assert message.startswith(f"{path}:3: unknown key 'driverMemmory' in [profiles.entw.session]")
    assert "did you mean 'driver_memory'" in message
    assert "valid keys: archives, conf, driver_cores" in message


def test_same_setting_twice_in_two_spellings_is_refused(tree: Tree) -> None:
    tree.write_project('[session]\ndriverMemory = "4g"\ndriver_memory = "8g"\n')
    with pytest.raises(ConfigError, match="'driver_memory' and 'driverMemory' in \\[session\\] are the same"):
        tree.load()


@pytest.mark.parametrize(
    ("toml", "culprit", "expected"),
    [
        ('[session]\nkind = "pyspark3"\n', ":2: session.kind", "expected one of spark, scala, pyspark"),
        ('[session]\ndriver_cores = "two"\n', ":2: session.driver_cores", "valid integer"),
        ('[session]\nexecutor_memory = "lots"\n', ":2: session.executor_memory", "Spark memory size"),
        ('[session]\nttl = "ten minutes"\n', ":2: session.ttl", "Livy time string"),
        ('[session]\nname = "123"\n', ":2: session.name", "all-digit"),
        ('url = "knox:8443/gateway"\n', ":1: url", "http:// or https:// URL"),
        ('[tls]\nverify = "maybe"\n', ":2: tls.verify", "valid boolean"),
        ('[auth]\ntype = "ntlm"\n', ":2: auth.type", "'none', 'basic', 'bearer' or 'kerberos'"),
    ],
)
def test_bad_values_name_file_line_key_and_expectation(
    tree: Tree, toml: str, culprit: str, expected: str
) -> None:
    path = tree.write_project(toml)
    with pytest.raises(ConfigError) as err:
        tree.load()
    assert f"{path}{culprit}:" in str(err.value)
    assert expected in str(err.value)


def test_blacklisted_conf_keys_are_refused_before_anything_is_sent(tree: Tree) -> None:
    path = tree.write_project('[session.conf]\n"spark.master" = "local[*]"\n')
    with pytest.raises(ConfigError) as err:
        tree.load()
    assert f"{path}:2" in str(err.value)
    assert "spark.master" in str(err.value)
    with pytest.raises(ConfigError, match=r"LIVY_CONF.*spark\.submit\.deployMode"):
        load_config(env={"LIVY_CONF": '{"spark.submit.deployMode": "client"}'}, user_config=False, cwd="/")


def test_bad_value_from_a_variable_names_the_variable(tree: Tree) -> None:
    with pytest.raises(ConfigError, match=r"^LIVY_KIND \(environment\): session.kind: expected one of"):
        tree.load({"LIVY_KIND": "cobol"})
    with pytest.raises(ConfigError, match=r"^LIVY_URL \(environment\): url: expected an http"):
        tree.load({"LIVY_URL": "localhost:8998"})


def test_secret_values_are_not_echoed_in_errors(tree: Tree) -> None:
    tree.write_project('[auth]\npassword = ["pw-in-a-list"]\n')
    with pytest.raises(ConfigError) as err:
        tree.load()
    assert "auth.password" in str(err.value)
    assert "pw-in-a-list" not in str(err.value)


def test_invalid_toml_names_the_file(tree: Tree) -> None:
    path = tree.write_project("url = \n")
    with pytest.raises(ConfigError, match=f"^{path} is not valid TOML"):
        tree.load()


def test_flags_override_with_their_own_name(tree: Tree) -> None:
    tree.write_project('[session]\nkind = "spark"\n')
    cfg = tree.load(overrides={"session.kind": ("sql", "--kind"), "session.conf.spark.x": "1"})
    assert cfg.profile.session.kind == "sql"
    assert cfg.source_of("session.kind") == "--kind"
    assert cfg.profile.session.conf == {"spark.x": "1"}


def test_user_file_is_found_via_xdg_config_home(tmp_path: Path) -> None:
    user = tmp_path / "xdg" / "livyd" / "livyd.toml"
    user.parent.mkdir(parents=True)
    user.write_text('url = "http://from-user-file:8998"\n')
    cfg = load_config(env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, cwd=tmp_path)
    assert cfg.profile.url == "http://from-user-file:8998"
    assert cfg.files == (user,)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["entw", "test", "wapr", "prod", "local"])
def test_example_livyd_toml_resolves_every_profile(tmp_path: Path, name: str) -> None:
    """examples/livyd.toml and examples/env.example stay valid (they are documentation)."""
    (tmp_path / "livyd.toml").write_text((EXAMPLES / "livyd.toml").read_text())
    (tmp_path / ".env").write_text((EXAMPLES / "env.example").read_text())
    cfg = load_config(env={"TEAM_ENV": name}, cwd=tmp_path, user_config=False)
    assert cfg.profile_name == name
    assert cfg.profile.url is not None and name.replace("local", "127.0.0.1") in cfg.profile.url
    assert cfg.profile.webhdfs.base_dir == "/user/jdoe/livy-sessions"
    assert cfg.profile.session.conf["spark.sql.shuffle.partitions"] == "500"  # from the .env's LIVY_CONF
    assert cfg.profile.session.conf["spark.dynamicAllocation.enabled"] == "true"  # from livyd.toml


def test_credentials_in_urls_are_masked_in_describe_and_errors(tree: Tree) -> None:
    cfg = tree.load({"LIVY_URL": "https://alice:pw-in-url@gw.example:8443/x?token=tk-1"})
    rows = {key: value for key, value, _ in cfg.describe()}
    assert rows["url"] == "https://gw.example:8443/x?token=***"
    tree.write_project('proxy = "alice:pw-in-url@proxy:3128"\n')
    with pytest.raises(ConfigError) as err:
        tree.load()
    assert "pw-in-url" not in str(err.value) and "proxy" in str(err.value)


SPARK_SECRETS = {
    "spark.hadoop.fs.s3a.secret.key": "AKIASECRET1",
    "spark.ssl.keyPassword": "pwSECRET2",
    "spark.hadoop.fs.s3a.access.key": "AKIDSECRET3",
    "spark.jdbc.url": "jdbc:postgresql://db:5432/x?user=etl&password=pgSECRET4",
    "spark.mssql.url": "jdbc:sqlserver://db;user=etl;password=msSECRET5;databaseName=x",
    "spark.sql.shuffle.partitions": "200",
}


def test_secret_looking_spark_conf_is_masked_in_describe(tree: Tree) -> None:
    import json

    cfg = tree.load({"LIVY_CONF": json.dumps(SPARK_SECRETS)})
    rows = {key: value for key, value, _ in cfg.describe()}
    assert rows['session.conf."spark.hadoop.fs.s3a.secret.key"'] == "***"
    assert rows['session.conf."spark.ssl.keyPassword"'] == "***"
    assert rows['session.conf."spark.hadoop.fs.s3a.access.key"'] == "***"
    assert rows['session.conf."spark.jdbc.url"'] == "jdbc:postgresql://db:5432/x?user=etl&password=***"
    assert rows['session.conf."spark.mssql.url"'] == "jdbc:sqlserver://db;user=etl;password=***;databaseName=x"
    assert rows['session.conf."spark.sql.shuffle.partitions"'] == "200"
    assert "SECRET" not in repr(cfg.describe())
    # what is sent to Livy is untouched
    assert cfg.profile.session.conf["spark.ssl.keyPassword"] == "pwSECRET2"


def test_livy_conf_type_error_does_not_echo_the_value(tree: Tree) -> None:
    with pytest.raises(ConfigError) as err:
        tree.load({"LIVY_CONF": '{"spark.ssl.keyPassword": {"v": "pwSECRET2"}}'})
    assert "spark.ssl.keyPassword" in str(err.value) and "a JSON object" in str(err.value)
    assert "pwSECRET2" not in str(err.value)


def test_relative_file_paths_are_relative_to_the_livyd_toml_they_are_in(tree: Tree) -> None:
    tree.write_user('[auth]\nkeytab = "me.keytab"\n')
    tree.write_project('[tls]\nca_bundle = "certs/ca.pem"\nclient_cert = "/abs/c.pem"\n'
                       '[profiles.p.tls]\nclient_key = "k.pem"\n')
    cfg = tree.load(profile="p")
    assert cfg.profile.tls.ca_bundle == tree.project / "certs" / "ca.pem"
    assert cfg.profile.tls.client_cert == Path("/abs/c.pem")
    assert cfg.profile.tls.client_key == tree.project / "k.pem"
    assert cfg.profile.auth.keytab == tree.user.parent / "me.keytab"
