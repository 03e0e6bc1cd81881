"""deploy/: the files parse and say what the README promises; cron-style `apply --quiet` is safe."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from aligner.sandbox.server import Sandbox
from aligner.state.lock import exclusive
from tests.conftest import AFTER, DURING, REPO, USER_ID, Aligner

ROOT = REPO
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"


# -- systemd ------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, dict[str, str]]:
    """A unit file as {section: {key: value}} (last value wins; enough for these units)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for raw in (SYSTEMD / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


def test_systemd_service_runs_the_daemon_and_reloads_with_sighup() -> None:
    service = unit("aligner.service")["Service"]
    assert shlex.split(service["ExecStart"])[1:3] == ["run", "--config"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "2"
    assert unit("aligner.service")["Install"]["WantedBy"] == "default.target"


def test_systemd_timer_pair_runs_quiet_apply() -> None:
    service = unit("aligner-apply.service")["Service"]
    assert service["Type"] == "oneshot"
    assert shlex.split(service["ExecStart"])[1:3] == ["apply", "--quiet"]
    timer = unit("aligner-apply.timer")
    assert timer["Timer"]["Unit"] == "aligner-apply.service"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify_clean(tmp_path: Path) -> None:
    """`systemd-analyze verify --user`, with %h/.local/bin/aligner pointed at the real one."""
    executable = Path(sys.executable).with_name("aligner")
    if not executable.exists():
        pytest.skip("no aligner console script beside the interpreter")
    for path in SYSTEMD.iterdir():
        text = path.read_text(encoding="utf-8").replace("%h/.local/bin/aligner", str(executable))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    # a short runtime folder: the socket paths systemd builds under it must fit in 108 bytes
    with tempfile.TemporaryDirectory(prefix="xdg-") as runtime:
        result = subprocess.run(
            ["systemd-analyze", "verify", "--user", *sorted(map(str, tmp_path.glob("aligner*")))],
            env={**os.environ, "XDG_RUNTIME_DIR": runtime, "SYSTEMD_PAGER": ""},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    if "Failed to initialize manager" in result.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # unknown keys and bad values are only warnings: none allowed


# -- launchd, cron ------------------------------------------------------------------------------


def test_launchd_agent_plist() -> None:
    with (DEPLOY / "launchd" / "dev.aligner.run.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    assert plist["Label"] == "dev.aligner.run"
    program = plist["ProgramArguments"]
    assert Path(program[0]).name == "aligner" and program[1] == "run"
    assert all(arg.startswith("/") for arg in (program[0], program[3]))  # launchd expands no ~
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["StandardErrorPath"].startswith("/")
    assert not any("TOKEN" in key for key in plist.get("EnvironmentVariables", {}))


def test_crontab_line_runs_quiet_apply_every_few_minutes() -> None:
    lines = [
        line
        for line in (DEPLOY / "cron" / "crontab").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, *others, command = fields
    assert minute == "*/5" and others == ["*", "*", "*", "*"]
    assert "%" not in command  # cron turns % into a newline
    assert "apply --quiet" in command


# -- containers ---------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        pending += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
            pending = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            values.update(pair.split("=", 1) for pair in shlex.split(args))
    return values


def test_dockerfile_slim_non_root_state_volume_runs_the_daemon() -> None:
    instructions = dockerfile()
    stage = final_stage(instructions)
    assert stage[0][1].split()[0].startswith("python:") and "-slim" in stage[0][1]
    words = [word for word, _ in stage]
    user = stage[words.index("USER")][1]
    assert user not in ("root", "0")
    assert words.index("USER") < words.index("ENTRYPOINT")
    env = env_of(stage)
    volumes = " ".join(args for word, args in stage if word == "VOLUME")
    assert env["ALIGNER_STATE_DIR"] in volumes
    entrypoint = yaml.safe_load(stage[words.index("ENTRYPOINT")][1])
    command = yaml.safe_load(stage[words.index("CMD")][1])
    assert [*entrypoint, *command][:2] == ["aligner", "run"]
    assert env["ALIGNER_SECRETS_DIR"] == "/run/secrets"
    assert not any("TOKEN" in name or "SECRET=" in name for name in env)
    assert "ARG" not in [word for word, _ in instructions]  # no build-time secrets either
    for word, args in instructions:
        if word == "COPY" and "--from" not in args:
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source


def test_compose_file_mounts_state_and_secrets() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["aligner"]
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).exists()
    assert service["command"][0] == "run"
    state_dir = service["environment"]["ALIGNER_STATE_DIR"]
    assert any(v.split(":")[:2] == ["aligner-state", state_dir] for v in service["volumes"])
    assert "aligner-state" in compose["volumes"]
    assert service["secrets"] == ["aligner_slack_token"]
    assert service["environment"]["ALIGNER_SECRETS_DIR"] == "/run/secrets"


def manifests() -> dict[str, dict[str, Any]]:
    text = (DEPLOY / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    return {doc["kind"]: doc for doc in yaml.safe_load_all(text) if doc}


def test_kubernetes_cronjob_forbids_overlap_with_state_on_a_claim() -> None:
    docs = manifests()
    cronjob, claim = docs["CronJob"], docs["PersistentVolumeClaim"]
    assert cronjob["apiVersion"] == "batch/v1"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["args"] == ["apply", "--quiet"]
    env = {item["name"]: item["value"] for item in container["env"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}

    state = volumes[mounts[env["ALIGNER_STATE_DIR"]]]
    assert state["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    secrets = volumes[mounts[env["ALIGNER_SECRETS_DIR"]]]
    assert secrets["secret"]["secretName"]
    assert secrets["secret"]["defaultMode"] == 0o440
    config_dir = str(Path(env["ALIGNER_CONFIG"]).parent)
    assert "configMap" in volumes[mounts[config_dir]]
    assert not any("TOKEN" in name for name in env)


# -- cron style: `apply --quiet` ----------------------------------------------------------------


def test_quiet_apply_prints_nothing_at_all_when_nothing_changed(aligner: Aligner) -> None:
    assert aligner("apply", "--quiet", now=DURING).exit_code == 0
    again = aligner("apply", "--quiet", now=DURING)
    assert again.exit_code == 0
    assert again.output == ""  # neither stdout nor stderr: cron mails nothing


def test_quiet_apply_reports_changes(aligner: Aligner) -> None:
    result = aligner("apply", "--quiet", now=DURING)
    assert result.exit_code == 0 and "1 change applied" in result.output


def test_quiet_apply_conflict_is_not_a_failure(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", "--quiet", now=DURING)
    sandbox.service("slack").set_status(USER_ID, "Lunch", ":sandwich:")
    assert aligner("apply", "--quiet", now=DURING).exit_code == 0
    assert aligner("apply", "--quiet", now=AFTER).exit_code == 0


def test_quiet_apply_fails_non_zero_with_a_message(aligner: Aligner) -> None:
    result = aligner("apply", "--quiet", now=DURING, ALIGNER_SLACK_TOKEN="xoxp-revoked-token")
    assert result.exit_code == 1
    assert "Slack rejected the token" in result.output


def test_quiet_apply_exits_1_while_another_run_holds_the_lock(
    aligner: Aligner, state_dir: Path
) -> None:
    with exclusive(state_dir / "aligner.lock", 0):
        result = aligner("apply", "--quiet", now=DURING, ALIGNER_LOCK_WAIT="0.2")
    assert result.exit_code == 1
    assert "another aligner run" in result.output
