"""IPython magics: ``%%cmlops_track``, ``%cmlops_autotrack``, status, lineage, log.

``%load_ext cmlops`` registers them; to enable cmlops in every kernel put
``c.InteractiveShellApp.extensions = ["cmlops"]`` in ``ipython_config.py``.

Every magic line is parsed exactly as typed: IPython's ``$name`` and
``{expression}`` expansion is off (``no_var_expand``), so the audit trail
records what the scientist wrote — ``%%cmlops_track step {x+1}`` is the step
"step {x+1}" — and never pulls a variable's value (a secret) into it.

Loading and unloading the extension and turning autotrack on or off are audit
records (``capture.extension_loaded`` / ``_unloaded``, ``capture.autotrack_on``
/ ``_off``); the load is written with the session's first record, so a kernel
that never records anything leaves no store behind.

``%%cmlops_track`` runs the body with ``shell.run_cell`` so that IPython does
everything it normally does (magics inside, display of the last expression,
the user's own traceback); if the body raised, the error is handed to the
outer cell's result so the kernel reports the cell as failed, exactly as
without tracking, and nothing of cmlops appears in the traceback.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from cmlops.capture.api import lineage, log_dataset
from cmlops.capture.errors import TrackingError
from cmlops.capture.recorder import CellRecorder
from cmlops.capture.session import CaptureSession, attach_session

#: the shell attribute that holds the registered magics (their hooks are removed on unload)
_MAGICS_ATTR = "_cmlops_capture_magics"


def _parse(magic: Any, line: str) -> Any:
    """Parse magic arguments; a mistake shows the usage line and records nothing."""
    try:
        args = parse_argstring(magic, line)
    except UsageError as exc:
        usage = " ".join(magic.parser.format_usage().replace("::", " ").split())
        raise UsageError(f"{exc}\nusage: {usage}") from None
    for key, value in vars(args).items():  # IPython keeps the quotes of quoted arguments
        if isinstance(value, str):
            setattr(args, key, _unquote(value))
        elif isinstance(value, list):
            setattr(args, key, [_unquote(v) if isinstance(v, str) else v for v in value])
    return args


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _parse_tags(values: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag expects KEY=VALUE, got {item!r}")
        tags[key] = value
    return tags


@magics_class
class CmlopsMagics(Magics):
    """The cmlops magics; one instance (and one capture session) per shell."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session = CaptureSession(shell=shell, background=True)
        self._auto: CellRecorder | None = None
        self._in_tracked_cell = False

    # -- %%cmlops_track ---------------------------------------------------------
    @magic_arguments()
    @argument("name", nargs="*", help="a name for this step (e.g. load data), kept as typed")
    @argument("--reason", default="", help="why this step was run (kept in the audit record)")
    @argument("--tag", action="append", metavar="KEY=VALUE", help="a label; repeatable")
    @argument(
        "--strict",
        action="store_true",
        help="fail before running when the store cannot be written (GxP runs)",
    )
    @no_var_expand
    @cell_magic
    def cmlops_track(self, line: str, cell: str) -> None:
        """Run the cell and record its lineage: code, data used and produced, environment."""
        args = _parse(self.cmlops_track, line)
        tags = _parse_tags(args.tag)
        shell = self.shell
        recorder = CellRecorder(
            self.session,
            cell,
            name=" ".join(args.name),
            reason=args.reason,
            tags=tags,
            strict=args.strict,
        )
        try:
            recorder.start()
        except TrackingError as exc:
            raise UsageError(str(exc)) from None
        outer = shell.displayhook.exec_result
        if outer is not None:
            recorder.execution_count = outer.execution_count  # this cell's In[] number
        self._in_tracked_cell = True
        try:
            result = shell.run_cell(cell, store_history=False)
        finally:
            self._in_tracked_cell = False
            shell.displayhook.exec_result = outer
        error = result.error_before_exec or result.error_in_exec
        try:
            recorder.finish(error)
        except TrackingError as exc:
            if error is None:
                raise UsageError(str(exc)) from None
        if error is not None and outer is not None:
            # the body's traceback is already shown; mark the cell failed, as IPython would
            outer.error_in_exec = error

    # -- %cmlops_autotrack ------------------------------------------------------
    @no_var_expand
    @line_magic
    def cmlops_autotrack(self, line: str) -> None:
        """%cmlops_autotrack on|off — record every cell like %%cmlops_track (recorded)."""
        value = line.strip().lower()
        if value not in {"on", "off"}:
            raise UsageError("usage: %cmlops_autotrack on|off")
        events = self.shell.events
        if value == "on" and not self.session.autotrack:
            events.register("pre_run_cell", self._pre_run_cell)
            events.register("post_run_cell", self._post_run_cell)
            self.session.autotrack = True
            self.session.note("capture.autotrack_on", write=True)
        elif value == "off" and self.session.autotrack:
            self._unregister()
            self.session.note("capture.autotrack_off", write=True)

    def _unregister(self) -> None:
        events = self.shell.events
        for name, callback in (
            ("pre_run_cell", self._pre_run_cell),
            ("post_run_cell", self._post_run_cell),
        ):
            if callback in events.callbacks[name]:
                events.unregister(name, callback)
        self.session.autotrack = False
        self._auto = None

    def _flush_before_cell(self, info: Any) -> None:
        self.session.flush()

    def _pre_run_cell(self, info: Any) -> None:
        code = getattr(info, "raw_cell", "") or ""
        stripped = code.lstrip()
        if self._in_tracked_cell or stripped.startswith(("%%cmlops_track", "%cmlops_autotrack")):
            self._auto = None
            return
        if getattr(info, "silent", False) or not stripped:
            self._auto = None
            return
        recorder = CellRecorder(self.session, code, kind="cell", trust_cache=True)
        recorder.start()
        self._auto = recorder

    def _post_run_cell(self, result: Any) -> None:
        recorder, self._auto = self._auto, None
        if recorder is None or self._in_tracked_cell:
            return
        recorder.execution_count = getattr(result, "execution_count", recorder.execution_count)
        recorder.finish(result.error_before_exec or result.error_in_exec)

    # -- %cmlops_status ---------------------------------------------------------
    @no_var_expand
    @line_magic
    def cmlops_status(self, line: str) -> dict[str, Any]:
        """Show where lineage goes and what this session recorded."""
        session = self.session
        session.flush()
        info: dict[str, Any] = {
            "autotrack": session.autotrack,
            "activities_recorded": session.activities,
            "last_activity": session.last_activity,
            "tracking_failed": session.warned,
        }
        try:
            store = session.store
            info["store"] = getattr(store, "url", "")
            info["actor"] = getattr(store, "actor", "")
            info["actor_source"] = getattr(store, "actor_source", "")
            info["claimed_actor"] = getattr(store, "claimed_actor", "")
        except Exception as exc:  # noqa: BLE001 - status must always answer
            info["store"] = f"unavailable: {exc}"
        from cmlops.capture.environment import kernel_session, notebook_path

        info["notebook"] = notebook_path(self.shell.user_ns)
        info["session"] = kernel_session(self.shell)
        return info

    # -- %cmlops_lineage --------------------------------------------------------
    @magic_arguments()
    @argument("entity", nargs="?", default="", help="variable name or entity id")
    @argument("--notebook", action="store_true", help="the whole lineage of this notebook")
    @argument("--text", action="store_true", help="plain text only")
    @no_var_expand
    @line_magic
    def cmlops_lineage(self, line: str) -> Any:
        """Show lineage as a graph (HTML/SVG) with a text fallback."""
        args = _parse(self.cmlops_lineage, line)
        self.session.flush()
        from cmlops.capture.render import LineageView

        target = args.entity
        known = self.session.tracker.known.get(target)
        entity_id = known.entity.id if known is not None else target
        if args.notebook or not entity_id:
            from cmlops.capture.environment import notebook_path

            graph = lineage(notebook=notebook_path(self.shell.user_ns), store=self.session.store)
        else:
            graph = lineage(entity_id, store=self.session.store)
        view = LineageView(graph)
        if args.text:
            print(view.to_text())
            return None
        return view

    # -- %cmlops_log_dataset ----------------------------------------------------
    @magic_arguments()
    @argument("variable", help="name of a DataFrame, array or model in the namespace")
    @argument("--name", default="", help="name to record (default: the variable name)")
    @argument("--role", default="input", choices=["input", "output"], help="input or output")
    @argument("--reason", default="", help="why it is logged")
    @no_var_expand
    @line_magic
    def cmlops_log_dataset(self, line: str) -> str:
        """Record a variable as a dataset used (input) or produced (output)."""
        args = _parse(self.cmlops_log_dataset, line)
        if args.variable not in self.shell.user_ns:
            raise UsageError(f"no variable {args.variable!r} in the namespace")
        entity = log_dataset(
            self.shell.user_ns[args.variable],
            name=args.name or args.variable,
            role=args.role,
            reason=args.reason,
            _session=self.session,
        )
        return entity.id


def load_ipython_extension(ip: Any) -> None:
    """Register the magics once per shell; loading again is harmless."""
    if getattr(ip, _MAGICS_ATTR, None) is not None:
        return
    magics = CmlopsMagics(ip)
    ip.register_magics(magics)
    # any cell, tracked or not, waits for the previous tracked cell's fingerprints
    ip.events.register("pre_run_cell", magics._flush_before_cell)
    setattr(ip, _MAGICS_ATTR, magics)
    attach_session(ip, magics.session)
    magics.session.note("capture.extension_loaded")


def unload_ipython_extension(ip: Any) -> None:
    magics = getattr(ip, _MAGICS_ATTR, None)
    if magics is None:
        return
    if magics.session.autotrack:
        magics._unregister()
    if magics._flush_before_cell in ip.events.callbacks["pre_run_cell"]:
        ip.events.unregister("pre_run_cell", magics._flush_before_cell)
    magics.session.flush()
    magics.session.close_session("capture.extension_unloaded")
    setattr(ip, _MAGICS_ATTR, None)
    attach_session(ip, None)


__all__ = ["CmlopsMagics", "load_ipython_extension", "unload_ipython_extension"]
