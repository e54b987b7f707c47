"""Whether the seed-page test runs, skips or fails: it needs the seed document from ``../shared/seed/`` (outside
the repository). A clone without it skips with a reason naming where it looked; under ``CI`` it fails, never
skips. Checked on the decision itself and through pytest (a child run of the real seed-page test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .seed import SEED_NAME, decide_seed, in_ci, seed_candidates, seed_document

REPO = Path(__file__).resolve().parents[3]


def test_present_document_runs(tmp_path: Path) -> None:
    document = tmp_path / SEED_NAME
    document.parent.mkdir(parents=True)
    document.write_text("```html\n<p>seed</p>\n```\n")
    for env in ({}, {"CI": "true"}):
        decision = decide_seed(env, [tmp_path / "absent.txt", document])
        assert (decision.action, decision.path) == ("run", document), env


def test_absent_document_skips_outside_ci_with_a_reason(tmp_path: Path) -> None:
    absent = tmp_path / SEED_NAME
    for env in ({}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}):
        decision = decide_seed(env, [absent])
        assert decision.action == "skip", env
        assert str(absent) in decision.reason and "PARLEY_SHARED" in decision.reason


def test_absent_document_fails_under_ci(tmp_path: Path) -> None:
    absent = tmp_path / SEED_NAME
    for env in ({"CI": "true"}, {"CI": "1"}, {"CI": "TRUE"}):
        decision = decide_seed(env, [absent])
        assert decision.action == "fail", env
        assert str(absent) in decision.reason
    assert in_ci({"CI": "true"}) and not in_ci({}) and not in_ci({"CI": "false"})


def test_parley_shared_is_looked_at_first(tmp_path: Path) -> None:
    candidates = seed_candidates({"PARLEY_SHARED": str(tmp_path)})
    assert candidates[0] == tmp_path / SEED_NAME
    assert candidates[-1] == REPO.parent / "shared" / SEED_NAME


def test_seed_document_skips_or_fails_the_test(tmp_path: Path) -> None:
    """``PARLEY_SHARED`` points at an empty directory and ``../shared`` is hidden by a copy of the repo's tests."""
    env = {"PARLEY_SHARED": str(tmp_path)}
    if (REPO.parent / "shared" / SEED_NAME).is_file():
        # The fallback would find the real document; the decision with only the empty directory is what matters.
        assert decide_seed(env, [tmp_path / SEED_NAME]).action == "skip"
        assert decide_seed({**env, "CI": "true"}, [tmp_path / SEED_NAME]).action == "fail"
        return
    with pytest.raises(pytest.skip.Exception, match="seed document not found"):
        seed_document(env)
    with pytest.raises(pytest.fail.Exception, match="missing under CI"):
        seed_document({**env, "CI": "true"})


def _pytest_seed_page(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """Run the real seed-page test in a child pytest with the seed document out of reach: PARLEY_SHARED names an
    empty directory and the repository is copied (tests + sources on the path) to a place with no ``../shared``."""
    clone = tmp_path / "clone" / "repo"
    clone.mkdir(parents=True)
    subprocess.run(["cp", "-r", str(REPO / "tests"), str(REPO / "pyproject.toml"), str(clone)], check=True)
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PARLEY_SHARED")}
    env["PARLEY_SHARED"] = str(tmp_path / "empty")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/e2e/streams/test_seed_page.py"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_clean_clone_skips_and_ci_fails(tmp_path: Path) -> None:
    skipped = _pytest_seed_page(tmp_path / "a", None)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "3 skipped" in skipped.stdout and "SKIPPED" in skipped.stdout, skipped.stdout
    assert "seed document not found" in skipped.stdout, skipped.stdout  # the reason is in the -rs summary
    failed = _pytest_seed_page(tmp_path / "b", "true")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "3 failed" in failed.stdout or "3 error" in failed.stdout, failed.stdout
    assert "missing under CI" in failed.stdout and "skipped" not in failed.stdout, failed.stdout
