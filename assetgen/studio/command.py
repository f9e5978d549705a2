"""``assetgen studio``: serve the Studio page on a local address until Ctrl-C."""

from __future__ import annotations

import click

from ..cli_state import cli_state
from ..errors import InvalidOptionsError
from . import DEFAULT_HOST, DEFAULT_PORT, INSTALL_HINT, missing_extra


@click.command("studio")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: a free one).",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on (an IPv6 one as ::1 or [::1]). The page has no login: keep "
    "it on this machine.",
)
def studio_command(port: int, host: str) -> None:
    """Start AssetGen Studio: a local web page to explore, edit and export assets."""
    missing = missing_extra()
    if missing:
        raise InvalidOptionsError(
            f"assetgen studio needs {' and '.join(missing)}: {INSTALL_HINT}",
            parameter="studio",
        )
    from .server import is_loopback, serve

    engine = cli_state().engine
    if not is_loopback(host):
        click.echo(
            f"assetgen: warning: the Studio has no login; anyone who can reach {host} can use "
            "it",
            err=True,
        )

    def ready(url: str) -> None:
        click.echo(f"AssetGen Studio: {url}  (Ctrl-C to stop)")

    try:
        serve(engine, host, port, on_ready=ready)
    except KeyboardInterrupt:  # uvicorn stops cleanly, then passes Ctrl-C on
        pass
    click.echo("AssetGen Studio stopped", err=True)
