"""`meetbot check` as an operator runs it: a real process against the simulated platforms.

All green on a fully set-up company; with the Zoom account revoked and the SimplyBook.me API key
changed on SimplyBook.me's side, both are named with their fix and the exit code is not 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import Core
from app.check import CheckResult, render, run_checks
from app.sandbox import Demo, SandboxWorld
from app.settings import Settings
from storage.crypto import generate_key

from .harness import ADMIN, SlackCompany
from .signin_flow import MS_START, Browser, confirmation, press, start_link

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run_check(settings: Settings, **extra: str) -> subprocess.CompletedProcess[str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("MEETBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "app", "check"],
        env={**inherited, **settings.as_environment(), **extra},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def line_of(output: str, start: str) -> str:
    found = [line for line in output.splitlines() if line.startswith(start)]
    assert len(found) == 1, output
    return found[0]


def status(line: str, name: str) -> str:
    return line.removeprefix(name).split()[0]


def test_all_green_then_a_revoked_zoom_account_and_a_wrong_key_are_named(
    core: Core, world: SandboxWorld, demo: Demo
) -> None:
    result = run_check(core.settings)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    for name in (
        "settings",
        "database",
        f"Slack workspace Demo Yoga Studio ({demo.team_id})",
        "Zoom account of Demo Yoga Studio",
        "SimplyBook.me company Demo Yoga Studio (demo-studio)",
    ):
        line = line_of(out, name + " ")
        assert status(line, name) == "OK", out
    assert "schema revision" in line_of(out, "database ")
    assert "all 5 checks passed" in out
    assert "no chat platform" not in out  # the installed workspace is one

    world.zoom.revoke_account(f"acct-{demo.login}")
    world.simplybook.add_company(  # the key was regenerated in SimplyBook.me's settings
        demo.login,
        api_key="a-regenerated-api-key-0123456789",
        api_secret="a-regenerated-api-secret-0123456789",
        name="Demo Yoga Studio",
    )
    result = run_check(core.settings)

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    zoom = line_of(out, "Zoom account of Demo Yoga Studio ")
    assert status(zoom, "Zoom account of Demo Yoga Studio") == "PROBLEM"
    assert "Zoom no longer accepts meetbot's access" in zoom
    assert "/meetings connect zoom" in zoom
    simplybook_name = "SimplyBook.me company Demo Yoga Studio (demo-studio)"
    simplybook = line_of(out, simplybook_name + " ")
    assert status(simplybook, simplybook_name) == "PROBLEM"
    assert "refused the company login or API key" in simplybook
    assert "/meetings connect simplybook" in simplybook
    for name in ("settings", "database", f"Slack workspace Demo Yoga Studio ({demo.team_id})"):
        assert status(line_of(out, name + " "), name) == "OK", out
    assert "2 of 5 checks found a problem" in out
    _no_secret_in(out + result.stderr, core, demo)


def test_tokens_sealed_with_a_dropped_key_are_named_not_a_traceback(
    core: Core, world: SandboxWorld, demo: Demo
) -> None:
    """Every stored token was sealed with the sandbox's key; a configuration without that key
    cannot read them, and the check says so line by line."""
    result = run_check(core.settings, MEETBOT_SECRET_KEYS=generate_key())

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    for name in (
        f"Slack workspace Demo Yoga Studio ({demo.team_id})",
        "Zoom account of Demo Yoga Studio",
        "SimplyBook.me company Demo Yoga Studio (demo-studio)",
    ):
        line = line_of(out, name + " ")
        assert status(line, name) == "PROBLEM", out
        assert "cannot be read" in line and "MEETBOT_SECRET_KEYS" in line, line


def _no_secret_in(text: str, core: Core, demo: Demo) -> None:
    credentials = core.companies.simplybook_credentials(company_id=demo.company_id)
    secrets = [
        *core.settings.secret_values(),
        core.workspaces.bot_token(platform="slack", external_id=demo.team_id),
        credentials.api_key,
        credentials.api_secret,
        demo.webhook_token,
    ]
    for secret in secrets:
        assert secret
        assert secret not in text


def test_a_database_without_the_schema_says_run_migrate(
    core: Core, world: SandboxWorld, tmp_path: Path
) -> None:
    empty = core.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"})
    result = run_check(empty)

    assert result.returncode == 1, result.stdout + result.stderr
    database = line_of(result.stdout, "database ")
    assert status(database, "database") == "PROBLEM"
    assert "meetbot migrate" in database
    assert "Traceback" not in result.stdout + result.stderr


def test_settings_that_do_not_load_are_one_line_and_exit_2(core: Core, world: SandboxWorld) -> None:
    result = run_check(core.settings, MEETBOT_LOG_LEVEL="LOUD")

    assert result.returncode == 2
    assert "MEETBOT_LOG_LEVEL" in result.stderr
    assert "Traceback" not in result.stderr


# In-process: a Microsoft account connected through the sign-in flow, and a revoked Slack token.


def _line(results: list[CheckResult], start: str) -> CheckResult:
    [found] = [result for result in results if result.name.startswith(start)]
    return found


def test_microsoft_accounts_and_slack_installations_are_checked(
    slack_company: SlackCompany, world: SandboxWorld
) -> None:
    core, demo = slack_company.core, slack_company.demo
    owner = world.microsoft.add_user("Studio Owner", "owner@studio.example")
    world.microsoft.signing_in = owner
    browser = Browser(world)
    try:
        answer = browser.microsoft_answer(start_link(slack_company.say("connect teams"), MS_START))
        assert browser.post_answer(answer).status_code == 200
    finally:
        browser.close()
    press(world, slack_company.slack, confirmation(world, ADMIN), "Confirm", user=ADMIN)

    results = run_checks(core.settings)
    assert not [result for result in results if result.failed], render(results)
    assert _line(results, "Microsoft account of Demo Yoga Studio").status == "OK"

    world.microsoft.revoke(owner)
    world.microsoft.expire_access_tokens()
    bot_token = core.workspaces.bot_token(platform="slack", external_id=demo.team_id)
    assert bot_token
    world.slack.revoke_token(bot_token)
    results = run_checks(core.settings)

    microsoft = _line(results, "Microsoft account of Demo Yoga Studio")
    assert microsoft.failed and "/meetings connect teams" in microsoft.detail
    slack = _line(results, f"Slack workspace Demo Yoga Studio ({demo.team_id})")
    assert slack.failed and "installs meetbot again" in slack.detail
    assert _line(results, "Zoom account of Demo Yoga Studio").status == "OK"
    assert bot_token not in render(results)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"secret_keys": "not-a-key"}, "MEETBOT_SECRET_KEYS"),
        ({"secret_keys": None}, "MEETBOT_SECRET_KEYS"),
        ({"slack_bot_token": "xoxp-1-2-3"}, "MEETBOT_SLACK_BOT_TOKEN"),
    ],
)
def test_a_settings_problem_names_its_variable(
    values: dict[str, Any], named: str, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        **{
            "database_url": f"sqlite:///{tmp_path}/missing-folder/meetbot.db",
            "slack_api_url": "http://127.0.0.1:9/api",
            "secret_keys": generate_key(),
            **values,
        },
    )
    results = run_checks(settings)

    [settings_line] = [result for result in results if result.name == "settings"]
    assert settings_line.failed and named in settings_line.detail
    [database] = [result for result in results if result.name == "database"]
    assert database.failed
    assert "Traceback" not in render(results)
