"""What every `carnet` command shares: its consoles, readable failures, and the runtime it builds."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from carnet.kit.errors import CarnetError, ConfigurationError
from carnet.runtime import Runtime, start_runtime
from carnet.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """A user's mistake or a misconfiguration ends in one readable line and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            err.print(f"[bold red]Carnet cannot start:[/] {exc.message}", highlight=False)
            raise typer.Exit(2) from None
        except CarnetError as exc:
            err.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def build_runtime(settings: Settings, *, apply: bool = False) -> Runtime:
    return start_runtime(settings, apply_migrations=apply)
