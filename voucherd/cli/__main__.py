"""``voucherd`` command line: ``python -m voucherd.cli`` or the ``voucherd`` script."""

from __future__ import annotations

import argparse
import sys

from voucherd.cli import commands
from voucherd.settings import Settings
from voucherd.store.errors import VoucherdError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command reads VOUCHERD_* settings too)."""
    parser = argparse.ArgumentParser(prog="voucherd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, bootstrap and serve the HTTP API")
    serve.add_argument("--host", help="bind address (VOUCHERD_HOST)")
    serve.add_argument("--port", type=int, help="port (VOUCHERD_PORT)")
    serve.add_argument("--workers", type=int, help="server processes (VOUCHERD_WORKERS)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--revision", default=None, help="target revision (default: head/base)")
    migrate.add_argument("--downgrade", action="store_true", help="revert instead of apply")

    proj = sub.add_parser("projects", help="manage projects")
    proj_sub = proj.add_subparsers(dest="projects_command", required=True)
    create = proj_sub.add_parser("create", help="create a project and print its keys")
    create.add_argument("--name", required=True)
    create.add_argument("--json", action="store_true", help="print one JSON object")

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="replace a project's key pair")
    rotate.add_argument("--project", default="default", help="project id or name")
    rotate.add_argument("--client", action="store_true", help="rotate the client-side pair")
    rotate.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    overrides = {
        name: value
        for name in ("host", "port", "workers")
        if (value := getattr(args, name, None)) is not None
    }
    settings = Settings(**overrides)
    try:
        if args.command == "serve":
            commands.serve(settings, run_migrations=not args.no_migrate)
        elif args.command == "migrate":
            revision = args.revision or ("base" if args.downgrade else "head")
            commands.migrate(settings, revision, downgrade=args.downgrade)
        elif args.command == "projects":
            commands.migrate(settings)
            commands.create_project(settings, args.name, args.json)
        elif args.command == "keys":
            commands.rotate_keys(settings, args.project, args.client, args.json)
    except VoucherdError as exc:
        print(f"voucherd: {exc.key}: {exc.details or exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
