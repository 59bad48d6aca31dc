"""``arbot teams-package``: the zip a Teams admin uploads (manifest.json, color.png, outline.png).

The manifest in ``manifest/teams/`` holds placeholders, filled in here:
``${{MICROSOFT_APP_ID}}`` (the bot's Azure app id), ``${{TEAMS_APP_ID}}`` (the Teams app's own
id; the bot id unless given), ``${{BOT_DOMAIN}}`` (the public host name ``arbot serve`` answers
on) and ``${{WEBSITE_URL}}`` (``https://<BOT_DOMAIN>/`` unless given). A placeholder left empty
or a malformed id is refused before any file is written, so Teams never rejects a half-made
package at upload time. Standard library only: packaging needs no SDK."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
FILES = ("manifest.json", "color.png", "outline.png")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z0-9_]+)\}\}")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9-]{1,63}\.)+[a-zA-Z]{2,63}$")


class PackageError(ValueError):
    """A value the manifest needs is missing or malformed."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``arbot teams-package`` on the CLI's subcommands."""
    parser = sub.add_parser("teams-package", help="build the Microsoft Teams app package (zip) to upload")
    parser.add_argument("--app-id", help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    parser.add_argument("--teams-app-id", help="the Teams app id (default: the bot's app id)")
    parser.add_argument(
        "--domain", help="public host name of arbot serve, e.g. arbot.example.com (default: BOT_DOMAIN)"
    )
    parser.add_argument("--website-url", help="https page about the bot (default: https://<domain>/)")
    parser.add_argument("--out", default="arbot-teams.zip", help="where to write the zip")
    parser.add_argument("--manifest-dir", default=str(MANIFEST_DIR), help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the zip; 1 with one clear line when a value is missing or malformed."""
    try:
        values = values_from(args, os.environ)
        out = build_package(Path(args.manifest_dir), Path(args.out), values)
    except PackageError as exc:
        print(f"arbot teams-package: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {out} (app id {values['MICROSOFT_APP_ID']}); upload it in Teams: Apps > Manage your apps "
        "> Upload an app"
    )
    return 0


def values_from(args: argparse.Namespace, env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    app_id = (args.app_id or env.get("MICROSOFT_APP_ID", "")).strip()
    domain = (args.domain or env.get("BOT_DOMAIN", "")).strip().lower()
    if not _GUID.match(app_id):
        raise PackageError(
            "the bot's app id (--app-id or MICROSOFT_APP_ID) must be a GUID like "
            f"00000000-0000-0000-0000-000000000000, not {app_id!r}"
        )
    teams_app_id = (args.teams_app_id or app_id).strip()
    if not _GUID.match(teams_app_id):
        raise PackageError(f"--teams-app-id must be a GUID, not {teams_app_id!r}")
    if not _DOMAIN.match(domain):
        raise PackageError(
            "the public host name (--domain or BOT_DOMAIN) must look like arbot.example.com, "
            f"without https:// or a path, not {domain!r}"
        )
    website = (args.website_url or f"https://{domain}/").strip()
    if not website.startswith("https://"):
        raise PackageError(f"--website-url must be an https:// address, not {website!r}")
    return {"MICROSOFT_APP_ID": app_id, "TEAMS_APP_ID": teams_app_id, "BOT_DOMAIN": domain, "WEBSITE_URL": website}


def fill(template: str, values: dict[str, str]) -> str:
    """The manifest text with every placeholder replaced (JSON-escaped); one without a value is refused."""
    missing = sorted({name for name in _PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise PackageError(f"no value for {', '.join(missing)} in the manifest")
    return _PLACEHOLDER.sub(lambda m: json.dumps(values[m[1]])[1:-1], template)


def build_package(manifest_dir: Path, out: Path, values: dict[str, str]) -> Path:
    """Write the zip (files at its root, as Teams wants) and return its path."""
    manifest = json.loads(fill((manifest_dir / "manifest.json").read_text(encoding="utf-8"), values))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in FILES[1:]:
            archive.write(manifest_dir / name, arcname=name)
    return out
