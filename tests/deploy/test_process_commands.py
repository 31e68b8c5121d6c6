"""The Procfile, the images and Compose start the same two processes.

Compose runs the images' own commands (its `api` and `worker` services set none), so the
rule is checked between the Procfile and the images: the worker's entrypoint runs the
Procfile's `worker` command word for word; the API image runs the Procfile's `web` program
with the same configuration and app, differing only in options with a stated reason.
"""

from __future__ import annotations

import json
import re
import shlex

import yaml

from tests.deploy.conftest import REPO

# Options of `web` that only one side gives, and why that is the same process.
WEB_OPTIONS_ONE_SIDE_ONLY = {
    "--bind": "gunicorn binds 0.0.0.0:$PORT itself when PORT is set (the image sets PORT)",
    "--workers": "gunicorn reads WEB_CONCURRENCY itself",
    "--worker-tmp-dir": "the container's root filesystem is read-only, so heartbeats go to /dev/shm",
}


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            argv = shlex.split(command)
            processes[name.strip()] = argv[1:] if argv[0] == "exec" else argv
    return processes


def dockerfile_cmd(name: str) -> list[str]:
    text = (REPO / name).read_text()
    return json.loads(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])


def entrypoint_exec(path: str) -> list[str]:
    """The argv a shell entrypoint execs (its forwarded "$@" dropped)."""
    script = (REPO / path).read_text()
    command = re.search(r"^exec (.+?)(?<!\\)$", script.replace("\\\n", " "), re.M).group(1)
    return [word for word in shlex.split(command) if word != "$@"]


def options(argv: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for k, word in enumerate(argv):
        if word.startswith("-"):
            value = argv[k + 1] if k + 1 < len(argv) and not argv[k + 1].startswith("-") else None
            found[word] = value
    return found


def positionals(argv: list[str]) -> list[str]:
    values = {v for v in options(argv).values() if v}
    return [word for word in argv[1:] if not word.startswith("-") and word not in values]


def test_the_worker_image_runs_the_procfiles_worker_command():
    assert entrypoint_exec("deploy/worker-entrypoint.sh") == procfile()["worker"]


def test_the_api_image_runs_the_procfiles_web_program_with_the_same_config_and_app():
    web, image = procfile()["web"], dockerfile_cmd("Dockerfile.api")

    assert web[0] == image[0] == "gunicorn"
    assert positionals(web) == positionals(image) == ["api:create_app()"]
    web_options, image_options = options(web), options(image)
    assert web_options["-c"] == image_options["-c"] == "python:api.gunicorn_conf"
    one_side = set(web_options) ^ set(image_options)
    assert one_side <= set(WEB_OPTIONS_ONE_SIDE_ONLY), one_side - set(WEB_OPTIONS_ONE_SIDE_ONLY)


def test_the_api_image_sets_the_port_gunicorn_binds():
    text = (REPO / "Dockerfile.api").read_text().replace("\\\n", " ")  # ENV continues over lines
    assert re.search(r"^ENV .*\bPORT=8000\b", text, re.M)


def test_compose_runs_the_images_own_commands_for_api_and_worker():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]

    for name in ("api", "worker"):
        assert "command" not in services[name] and "entrypoint" not in services[name], name
    assert services["api"]["image"].startswith("qagen-api:") and services["worker"]["image"].startswith("qagen-worker:")


def test_a_changed_worker_option_would_be_caught():
    changed = [w.replace("--without-gossip", "--with-gossip") for w in procfile()["worker"]]
    assert entrypoint_exec("deploy/worker-entrypoint.sh") != changed


def test_compose_api_and_worker_start_the_procfiles_web_and_worker():
    """The chain end to end: each Compose service builds the image whose command is the Procfile's."""
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    worker_dockerfile = (REPO / services["worker"]["build"]["dockerfile"]).read_text()
    api_dockerfile = services["api"]["build"]["dockerfile"]

    assert services["api"]["build"]["context"] == services["worker"]["build"]["context"] == "."
    assert api_dockerfile == "Dockerfile.api"
    # The worker's image runs deploy/worker-entrypoint.sh, which execs the Procfile's worker command.
    installed = re.search(r"^COPY .*deploy/worker-entrypoint\.sh (\S+)$", worker_dockerfile, re.M).group(1)
    assert json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", worker_dockerfile, re.M).group(1)) == [installed]
    assert entrypoint_exec("deploy/worker-entrypoint.sh") == procfile()["worker"]
    # The API's image CMD is the Procfile's web program with its config and app.
    image = dockerfile_cmd(api_dockerfile)
    assert image[0] == procfile()["web"][0] and positionals(image) == positionals(procfile()["web"])
    # Compose gives both processes the settings the Procfile's commands read.
    for name in ("api", "worker"):
        environment = services[name]["environment"]
        assert "QAGEN_WORKER_CONCURRENCY" in environment and "QAGEN_LOG_LEVEL" in environment, name
    assert "WEB_CONCURRENCY" in services["api"]["environment"]


def test_the_webhook_dispatcher_runs_the_procfiles_command_in_compose_and_kubernetes():
    """Compose and the k8s Deployment run the Procfile's `webhooks` in the worker image, adding only
    the heartbeat file their liveness checks read."""
    webhooks = procfile()["webhooks"]
    assert webhooks == ["python", "-m", "qagen.webhooks"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["webhooks"]
    deployment = next(d for d in yaml.safe_load_all((REPO / "k8s" / "base" / "webhooks.yaml").read_text())
                      if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for argv, check in ((compose["entrypoint"], compose["healthcheck"]["test"]),
                        (container["command"], container["livenessProbe"]["exec"]["command"])):
        assert argv[:len(webhooks)] == webhooks and argv[len(webhooks)] == "--heartbeat-file", argv
        assert argv[len(webhooks) + 1] in check[-1], "the liveness check reads the file the dispatcher touches"
    assert compose["image"].startswith("qagen-worker:") and container["image"] == "qagen-worker"
