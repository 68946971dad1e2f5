"""The command line, run as a user runs it: a real process against a real gateway."""

from __future__ import annotations

from pathlib import Path

from gatewaylib import Gateway, assert_video, cli


def test_generate_saves_a_playable_video(gateway: Gateway, tmp_path: Path) -> None:
    out = tmp_path / "cat.mp4"
    env = {**gateway.env, "VIDUGATE_BASE_URL": gateway.base_url, "VIDUGATE_API_KEY": gateway.key}
    result = cli(
        env,
        "generate",
        "--prompt", "A cat chasing butterflies",
        "--model", "viduq2-turbo",
        "--duration", "2",
        "--aspect-ratio", "9:16",
        "--resolution", "540p",
        "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "completed" in result.stderr
    assert "100%" in result.stderr  # the bar followed the task to its end
    assert f"saved {out}" in result.stderr.replace("\n", "")
    assert_video(out.read_bytes(), width=540, height=960, seconds=2, audio=False)


def test_generate_with_an_image(gateway: Gateway, tmp_path: Path, png_path: Path) -> None:
    out = tmp_path / "moving.mp4"
    env = {**gateway.env, "VIDUGATE_BASE_URL": gateway.base_url, "VIDUGATE_API_KEY": gateway.key}
    result = cli(
        env, "generate", "--prompt", "move", "--image", str(png_path), "--model", "viduq2-pro",
        "--duration", "1", "--resolution", "540p", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_video(out.read_bytes(), width=720, height=540, seconds=1, audio=False)


def test_generate_reports_a_refusal(gateway: Gateway, tmp_path: Path) -> None:
    env = {**gateway.env, "VIDUGATE_BASE_URL": gateway.base_url, "VIDUGATE_API_KEY": gateway.key}
    result = cli(env, "generate", "--prompt", "x", "--duration", "99", "-o", str(tmp_path / "x"))
    assert result.returncode == 1
    assert "400" in result.stderr
    assert "duration" in result.stderr
    no_key = {k: v for k, v in env.items() if k != "VIDUGATE_API_KEY"}
    assert "no API key" in cli(no_key, "generate", "--prompt", "x").stderr


def test_keys_and_migrate(tmp_path: Path) -> None:
    env = Gateway(tmp_path / "fresh").env
    assert cli(env, "migrate").returncode == 0
    created = cli(env, "keys", "create", "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("vg-")
    listed = cli(env, "keys", "list").stdout
    assert key[:10] in listed
    assert key not in listed
    assert cli(env, "keys", "revoke", key[:10]).returncode == 0
    assert cli(env, "keys", "revoke", key[:10]).returncode == 1  # already revoked
