"""`pantau webhooks ...`: the admin allow-list, the only way a webhook reaches a private or loopback address.

Adding and removing an entry are admin actions recorded in the audit log (``alerts.allowlist``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

webhooks_app = typer.Typer(
    help="Webhook targets on private networks: the admin allow-list (audited).", no_args_is_help=True
)
console = Console(width=None if sys.stdout.isatty() else 160)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $PANTAU_DATA_DIR or ./pantau-data)")
]
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit log; default: OS user)")]
EntryArg = Annotated[str, typer.Argument(help="A network (10.20.0.0/16, 127.0.0.1/32) or a host name")]


def _url(data_dir: Path | None) -> str:
    from orchestration.cli import _settings

    s: Any = _settings(data_dir)
    return str(s.resolved_ops_db_url())


@webhooks_app.command("allow")
def webhooks_allow(
    entry: EntryArg,
    reason: Annotated[str, typer.Option(help="Why this private target may receive alerts (audited)")],
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Let webhooks reach a private network or host (an audited admin action)."""
    from alerts.cli_ops import allowlist_add

    try:
        row = allowlist_add(_url(data_dir), entry, reason=reason, by=by)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"allowed {row['entry']} ({row['reason']})")


@webhooks_app.command("disallow")
def webhooks_disallow(
    entry: EntryArg,
    reason: Annotated[str, typer.Option(help="Why (audited)")] = "",
    by: ByOpt = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Remove an entry; deliveries to that network are refused from the next check on."""
    from alerts.cli_ops import allowlist_remove

    try:
        removed = allowlist_remove(_url(data_dir), entry, reason=reason, by=by)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if not removed:
        console.print(f"[red]{entry} is not on the allow-list[/red]")
        raise typer.Exit(1)
    console.print(f"removed {entry}")


@webhooks_app.command("list")
def webhooks_list(data_dir: DataDirOpt = None) -> None:
    """The allow-list: entry, who added it, when and why."""
    from alerts.cli_ops import allowlist_list

    table = Table("entry", "added by", "added at (UTC)", "reason")
    for r in allowlist_list(_url(data_dir)):
        table.add_row(r["entry"], r["added_by"], str(r["added_at"])[:19], r["reason"])
    console.print(table)
