"""``wheelmirror config [show|set|unset]``: the effective settings and where each comes from."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from poetry_wheelmirror.config import USER_KEYS

__all__ = ["effective_settings", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "config",
        help="show the effective settings and their sources; set your own mirror",
        description=(
            "Without an action: print each setting the commands and the Poetry plugin use, "
            "its value and where it comes from (command line, environment, "
            "[tool.poetry-wheelmirror] of the project here, your user config, or the "
            "built-in default). 'set url URL' writes your user config, used by every "
            "project and command that names no mirror of its own; 'unset url' removes it."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the settings as JSON")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="print the effective settings (the default)")
    show.add_argument("--json", action="store_true", help="print the settings as JSON")
    set_ = actions.add_parser("set", help="write a setting to your user config")
    set_.add_argument("key", choices=USER_KEYS)
    set_.add_argument("value", help="for url: a mirror URL or an existing mirror directory")
    unset = actions.add_parser("unset", help="remove a setting from your user config")
    unset.add_argument("key", choices=USER_KEYS)
    parser.set_defaults(handler=_config)


def effective_settings(environ: dict[str, str], project: Path) -> list[dict[str, Any]]:
    """Each setting as ``{"name", "value", "source"}``, in the order they are printed."""
    from poetry_wheelmirror.cli.recipes_opt import RECIPES_ENV
    from poetry_wheelmirror.cli.recipes_opt import default_recipes_dir
    from poetry_wheelmirror.client import default_cache_dir
    from poetry_wheelmirror.config import choose_mirror
    from poetry_wheelmirror.config import user_config_path
    from poetry_wheelmirror.errors import ConfigError
    from poetry_wheelmirror.settings import load_settings
    from poetry_wheelmirror.settings import tool_table

    rows: list[dict[str, Any]] = []

    def row(name: str, value: object, source: str) -> None:
        rows.append({"name": name, "value": value, "source": source})

    config_file = user_config_path(environ)
    row("user config", str(config_file), "exists" if config_file.is_file() else "not written")
    cli = choose_mirror(None, environ)
    row("mirror (wheelmirror commands)", cli.url, cli.label)
    pyproject = project / "pyproject.toml"
    data: dict[str, Any] | None = None
    if pyproject.is_file():
        import tomlkit

        try:
            data = tomlkit.parse(pyproject.read_text(encoding="utf-8")).unwrap()
        except Exception as e:  # shown as the plugin's problem, not a crash
            row("mirror (Poetry plugin)", None, f"cannot read {pyproject}: {e}")
    try:
        plugin = load_settings(tool_table(data), environ)
    except ConfigError as e:
        row("mirror (Poetry plugin)", None, f"invalid: {e}")
    else:
        row("mirror (Poetry plugin)", plugin.url, plugin.url_origin)
        trust = (
            f"only wheels whose provenance verifies as {plugin.provenance_repository}"
            f" {plugin.provenance_workflow}"
            if plugin.builtin_default
            else f"as configured (provenance = {plugin.provenance})"
        )
        row("trust (Poetry plugin)", trust, plugin.url_origin)
        state = "on" if plugin.enabled else f"off: {plugin.disabled_reason}"
        row("plugin", state, "settings")
        row("platforms (Poetry plugin)", list(plugin.platforms) or "all", "settings")
    cache_env = environ.get("WHEELMIRROR_CACHE_DIR")
    row("cache dir", str(default_cache_dir()), "$WHEELMIRROR_CACHE_DIR" if cache_env else "default")
    recipes = default_recipes_dir()
    recipes_source = f"${RECIPES_ENV}" if environ.get(RECIPES_ENV) else "default"
    row("recipes", str(recipes) if recipes else None, recipes_source)
    return rows


def _config(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.config import check_mirror_location
    from poetry_wheelmirror.config import write_user_setting

    if args.action == "set":
        value = check_mirror_location(args.value) if args.key == "url" else args.value
        path = write_user_setting(args.key, value)
        print(f"{args.key} = {value} (in {path})")
        return 0
    if args.action == "unset":
        path = write_user_setting(args.key, None)
        print(f"{args.key} removed (from {path})")
        return 0
    rows = effective_settings(dict(os.environ), Path.cwd())
    if args.json:
        print(json.dumps({r["name"]: {"value": r["value"], "source": r["source"]} for r in rows}))
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        value = r["value"] if r["value"] is not None else "-"
        print(f"{r['name']:<{width}}  {value}  ({r['source']})")
    return 0
