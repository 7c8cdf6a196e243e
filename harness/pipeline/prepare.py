"""A pipeline run made ready: the spec loaded once, its connection resolved, its tables
checked against the source (or its sandbox) — all before Spark starts."""

from __future__ import annotations

from pathlib import Path

from harness.pipeline.spec import PipelineSpec, SpecError, TablePlan, load_spec, resolve


def start_sandbox(source: str, seed: int | None = None, token: str | None = None, port: int = 0,
                  host: str = "127.0.0.1", start: bool = True):
    """The source's sandbox, seeded as the demo seeds it unless ``seed``; started unless
    ``start`` is false."""
    from harness.sandboxes import get_sandbox

    cls = get_sandbox(source)
    kwargs: dict = {"port": port, "host": host}
    if token:
        kwargs["token"] = token
    seed = cls.demo_seed if seed is None else seed
    if seed is not None:
        kwargs["seed"] = seed
    sandbox = cls(**kwargs)
    return sandbox.start() if start else sandbox


class PreparedRun:
    """A spec checked against its source, ready to run (no Spark yet).

    Args:
        spec: a loaded spec, or the path of one.
        options: connector options given for this run (``--option``), over the connection's.
        sandbox: a started sandbox to read from instead of the connection (its own
            credentials replace the connection's: a sandbox run never carries real ones).
        tables: only these destination tables (``--table``).
        origin: the spec's path as typed, for messages.
    """

    def __init__(self, spec: PipelineSpec | str | Path, options: dict[str, str] | None = None, sandbox=None,
                 tables: list[str] | None = None, origin: str | None = None):
        from datasource.registry import connector_class
        from harness.connection_settings import connection_options
        from sources.interface.options import normalized

        if not isinstance(spec, PipelineSpec):
            origin = origin or str(spec)
            spec = load_spec(spec)
        self.spec = spec
        self.origin = origin or f"<{spec.name} spec>"
        self.sandbox = sandbox
        connection = (normalized(sandbox.connection_options()) if sandbox is not None
                      else connection_options(spec.connection, spec.source))
        connection.update(normalized(options or {}))
        self.connection = connection
        try:
            cls = connector_class(spec.source)
        except ValueError as exc:
            raise SpecError(f"{self.origin}: source: {exc}") from None
        self.plans: list[TablePlan] = resolve(spec, cls(dict(connection)))
        if tables:
            self.plans = [p for p in self.plans if p.destination in self.checked(tables, "--table")]

    @property
    def destinations(self) -> list[str]:
        return [p.destination for p in self.plans]

    def checked(self, tables: list[str], flag: str) -> list[str]:
        """``tables`` if each is a destination table of the spec, else a :class:`SpecError`
        naming the flag and the spec's tables."""
        unknown = sorted(set(tables) - set(self.destinations))
        if unknown:
            raise SpecError(f"{flag} {', '.join(unknown)}: not a destination table of {self.origin} "
                            f"({', '.join(self.destinations)})")
        return list(tables)

    def destination_text(self) -> str:
        dest = self.spec.destination
        if dest.path is not None:
            return dest.path
        local = f"spark_catalog.{dest.schema_}"
        return local + (f" (catalog {dest.catalog!r} on Databricks)" if dest.catalog else "")
