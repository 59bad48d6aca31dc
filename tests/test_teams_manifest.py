"""The Teams app package: the manifest validates against Microsoft's published JSON schema (a copy
is kept in manifest/teams/schema/), advertises commands the bot really has, and ships icons of the
sizes Teams demands; ``arbot teams-package`` builds the zip or refuses with one clear line."""

from __future__ import annotations

import argparse
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from bot.teams.package import MANIFEST_DIR, add_parser
from commands.router import default_registry

SCHEMA = MANIFEST_DIR / "schema" / "MicrosoftTeams.v1.24.schema.json"
APP_ID = "11111111-2222-3333-4444-555555555555"


def _package(tmp_path: Path, *argv: str) -> tuple[int, Path]:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    out = tmp_path / "arbot-teams.zip"
    args = parser.parse_args(["teams-package", "--out", str(out), *argv])
    return args.handler(args), out


def _built_manifest(tmp_path: Path) -> dict:
    status, out = _package(tmp_path, "--app-id", APP_ID, "--domain", "arbot.example.com")
    assert status == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        return json.loads(archive.read("manifest.json"))


def test_the_built_manifest_is_valid_against_the_published_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    manifest = _built_manifest(tmp_path)
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    # Draft 4 has no "const"; the schema pins its version with one, so check it by hand.
    assert manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"] == "1.24"
    assert manifest["$schema"].endswith("/v1.24/MicrosoftTeams.schema.json")
    [bot] = manifest["bots"]
    assert (manifest["id"], bot["botId"], manifest["validDomains"]) == (APP_ID, APP_ID, ["arbot.example.com"])
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert manifest["developer"]["websiteUrl"] == "https://arbot.example.com/"


def test_the_schema_rejects_what_teams_would_reject(tmp_path: Path) -> None:
    """The validation has teeth: a broken manifest fails it."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    manifest = _built_manifest(tmp_path)
    manifest["bots"][0]["scopes"].append("everywhere")
    manifest["name"]["short"] = "x" * 31
    assert len(list(Draft4Validator(schema).iter_errors(manifest))) == 2


def test_advertised_commands_are_commands_the_bot_has(tmp_path: Path) -> None:
    manifest = _built_manifest(tmp_path)
    known = {c.name for c in default_registry().commands}
    lists = manifest["bots"][0]["commandLists"]
    assert {scope for entry in lists for scope in entry["scopes"]} == {"personal", "team", "groupChat"}
    for entry in lists:
        titles = [c["title"] for c in entry["commands"]]
        assert set(titles) <= known, set(titles) - known
        assert "help" in titles and "promise" in titles


def _png(path: Path) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG (all five row filters)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 6), "icons are 8-bit RGBA"
    raw, stride, rows, previous = zlib.decompress(chunks[b"IDAT"]), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left, up = line[i - 4] if i >= 4 else 0, previous[i]
            corner = previous[i - 4] if i >= 4 else 0
            paeth = min((abs(up - corner), left), (abs(left - corner), up), (abs(left + up - 2 * corner), corner))[1]
            line[i] = (line[i] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        rows.append([tuple(line[x * 4 : x * 4 + 4]) for x in range(width)])
        previous = line
    return width, height, rows


def test_icons_have_the_sizes_and_colours_teams_requires() -> None:
    width, height, rows = _png(MANIFEST_DIR / "color.png")
    assert (width, height) == (192, 192)
    assert all(pixel[3] == 255 for row in rows for pixel in row)  # full colour, opaque
    width, height, rows = _png(MANIFEST_DIR / "outline.png")
    assert (width, height) == (32, 32)
    pixels = [pixel for row in rows for pixel in row]
    assert all(p[3] == 0 or p[:3] == (255, 255, 255) for p in pixels)  # white on transparent
    assert any(p[3] == 255 for p in pixels) and any(p[3] == 0 for p in pixels)


@pytest.mark.parametrize(
    "argv, says",
    [
        ((), "app id (--app-id or MICROSOFT_APP_ID) must be a GUID"),
        (("--app-id", APP_ID), "public host name (--domain or BOT_DOMAIN)"),
        (("--app-id", APP_ID, "--domain", "https://arbot.example.com/"), "without https://"),
        (("--app-id", APP_ID, "--domain", "arbot.example.com", "--website-url", "http://x"), "must be an https://"),
    ],
)
def test_packaging_refuses_missing_or_malformed_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    says: str,
) -> None:
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.delenv("BOT_DOMAIN", raising=False)
    status, out = _package(tmp_path, *argv)
    assert status == 1 and not out.exists()
    assert says in capsys.readouterr().err


def test_the_environment_supplies_the_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("BOT_DOMAIN", "bot.example.org")
    status, out = _package(tmp_path, "--teams-app-id", "99999999-8888-7777-6666-555555555555")
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert status == 0
    assert (manifest["id"], manifest["bots"][0]["botId"]) == ("99999999-8888-7777-6666-555555555555", APP_ID)
