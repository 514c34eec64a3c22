"""Plugin discovery (entry points, group ``assay``) and the registries hooks fill.

Discovery is isolated: a plugin whose module fails to import, whose hook raises, whose hook
implementation does not match its hookspec (a misspelled hook or parameter), or that registers
something malformed (swapped ``register`` arguments, an unknown keyword) is recorded in
:attr:`PluginHost.failures` and reported by name, with the closest correct name where there is
one; the others work. Registries are filled lazily, one hook at a time, on first use.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .api import AssayError, did_you_mean
from .events import Body, BodyRegistry

GROUP = "assay"

# keywords ``register`` accepts beside ``description``, per registration hook; a hook missing here
# (one added later) gets no keyword check
REGISTER_OPTIONS: dict[str, frozenset[str]] = {
    "assay_benchmarks": frozenset(),
    "assay_models": frozenset({"eval_types", "claims", "by_name", "served_models"}),
    "assay_scorers": frozenset(),
    "assay_sandboxes": frozenset(),
    "assay_reporters": frozenset({"kinds", "benchmarks", "events", "formats", "body"}),
    "assay_perf_datasets": frozenset(),
    "assay_perf_apis": frozenset(),
    "assay_event_types": frozenset(),
    "assay_executors": frozenset(),
}


def _positional(function: Any) -> list[str]:
    """A plain function's positional parameters without a default, from its code (what
    ``inspect.signature`` gives it, for less), or a bound method's (hook objects: assay_reportkit.trackers);
    LookupError for anything else (wrapped, partial...)."""
    if type(function) is types.MethodType:
        return _positional(function.__func__)[1:]
    if (
        type(function) is not types.FunctionType
        or hasattr(function, "__wrapped__")
        or hasattr(function, "__signature__")
    ):
        raise LookupError(function)
    code = function.__code__
    names = code.co_varnames[: code.co_argcount]
    return list(names[: len(names) - len(function.__defaults__ or ())])


_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_MISSING: Any = object()
# what pluggy looks at for hook implementations (plain and bound functions, static and class methods)
_HOOKABLE = (types.FunctionType, types.MethodType, staticmethod, classmethod)


@functools.cache
def _specs() -> dict[str, list[str]]:
    """Each hookspec's parameter names, by hook name (computed once)."""
    return {
        n: list(inspect.signature(getattr(hookspecs, n)).parameters) for n in dir(hookspecs) if n.startswith("assay_")
    }


class _Manager(pluggy.PluginManager):
    """pluggy's manager, which looks at a plugin module's functions only: its other attributes (imports,
    constants, classes) are never hook implementations, and pluggy's static lookup of each cost start-up
    time (issue 18). Objects other than modules are parsed as pluggy does."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, types.ModuleType):
            value = vars(plugin).get(name)
            if not isinstance(value, _HOOKABLE):
                return None
            if type(value) is types.FunctionType and not name.startswith("__"):
                # what pluggy's static lookup finds for a module's function (the function itself), and its
                # marker read as pluggy reads it, without inspect.getattr_static per attribute (issue 18)
                attr = self.project_name + "_impl"
                opts = getattr(value, attr, None)
                if opts is None:
                    func = getattr(value, "__func__", None)
                    opts = None if func is None else getattr(func, attr, None)
                return opts if isinstance(opts, dict) else None
        return super().parse_hookimpl_opts(plugin, name)


class PluginError(Exception):
    """What a plugin got wrong (reported by name; the plugin's other registrations stand)."""


@attrs.define
class Registered:
    """One registered thing. ``ref`` is the object, or ``"module:attribute"`` imported on first use,
    so that listing plugins imports none of their implementation modules."""

    name: str
    ref: Any
    plugin: str  # entry point name
    distribution: str
    description: str = ""
    options: dict[str, Any] = attrs.field(factory=dict)
    _resolved: Any = attrs.field(default=None, init=False, repr=False)

    @property
    def obj(self) -> Any:
        if self._resolved is None:
            self._resolved = resolve(self.ref, f"{self.name} ({self.distribution})")
        return self._resolved


def lazy_attributes(package: str, module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that serves names from ``package.module``, imported on first use.

    Plugins keep their entry-point module tiny (hooks registering ``"module:attribute"``) and
    still let ``from assay_x import Thing`` work.
    """

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        import importlib

        try:
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return __getattr__


def resolve(ref: Any, label: str) -> Any:
    if not (isinstance(ref, str) and ":" in ref):
        return ref
    import importlib

    module, _, attr = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise AssayError(f"{label}: cannot load {ref!r}: {type(exc).__name__}: {exc}") from exc
    return obj


def _name_version(dist: Any) -> tuple[str, str]:
    """A distribution's ``Name`` and ``Version``, read from the head of its METADATA: what ``dist.name`` and
    ``dist.version`` give, without the email parser they go through (per plugin, at start-up: issue 18)."""
    if dist is None:
        return "?", "?"
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    except Exception:  # noqa: BLE001 - unreadable here: importlib.metadata says why, or what it can
        text = ""
    found: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            break  # the end of the headers
        if line[:1].isspace():  # a continued header
            if key in ("Name", "Version"):
                found.clear()  # unusual: the email parser's reading
                break
            continue
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in found:
            found[key] = value.lstrip(" \t")  # as the email parser (compat32) reads a header
    if found.get("Name") and found.get("Version"):
        return found["Name"], found["Version"]
    return dist.name, dist.version


class _Dist:
    """A ``*.dist-info`` / ``*.egg-info`` directory read as importlib.metadata's ``PathDistribution``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def read_text(self, filename: str) -> str | None:
        try:
            with open(os.path.join(self.path, filename), encoding="utf-8") as f:
                return f.read()
        except OSError:
            return None

    @property
    def name(self) -> str:  # what only importlib.metadata reads right (see _name_version)
        return self._library().name

    @property
    def version(self) -> str:
        return self._library().version

    def _library(self) -> Any:
        from importlib import metadata
        from pathlib import Path

        return metadata.PathDistribution(Path(self.path))


@attrs.define
class _EntryPoint:
    name: str
    value: str
    dist: Any

    def load(self) -> Any:  # importlib.metadata.EntryPoint.load: "module", "module:attr.attr", [extras] ignored
        module, _, attr = self.value.partition("[")[0].partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str) -> list[Any]:
    """``importlib.metadata.entry_points(group=group)``: the same entry points in the same order (the first
    distribution of a name on ``sys.path`` wins), read without importing importlib.metadata and
    without parsing the entry points of the hundreds of distributions that have none in ``group``
    (start-up, issue 18). Where the path holds what only importlib.metadata reads (a zip, an egg, a
    meta path finder of distributions), importlib.metadata does it all."""
    from importlib.machinery import PathFinder

    odd = [f for f in sys.meta_path if f is not PathFinder and hasattr(f, "find_distributions")]
    dirs = []
    for root in sys.path:
        root = root or "."
        if root.lower().endswith(".egg") or (os.path.exists(root) and not os.path.isdir(root)):
            odd.append(root)
        dirs.append(root)
    if odd:
        from importlib import metadata

        return list(metadata.entry_points(group=group))
    found: list[Any] = []
    seen: set[str] = set()
    for root in dirs:
        try:
            children = os.listdir(root)
        except OSError:
            continue
        infos: dict[str, list[str]] = {}  # as importlib.metadata's Lookup: by normalized name, listing order
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                name = re.sub(r"[-_.]+", "_", low.rpartition(".")[0].partition("-")[0])
                infos.setdefault(name, []).append(child)
        for name, paths in infos.items():
            if name in seen:
                continue
            seen.add(name)
            dist = _Dist(os.path.join(root, paths[0]))
            text = dist.read_text("entry_points.txt") or ""
            if f"[{group}]" in text:
                found += _group_of(text, group, dist)
    return found


def _group_of(text: str, group: str, dist: _Dist) -> list[_EntryPoint]:
    """The entry points of ``group`` in an ``entry_points.txt`` (importlib.metadata's ``Sectioned``)."""
    out, section = [], None
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group:
            name, _, value = line.partition("=")
            out.append(_EntryPoint(name.strip(), value.strip(), dist))
    return out


@attrs.define
class PluginFailure:
    plugin: str
    distribution: str
    stage: str  # import | hook name
    error: str


@attrs.define
class LoadedPlugin:
    name: str
    distribution: str
    version: str


@attrs.define
class Observer:
    """One ``assay_event`` implementation and the plugin it belongs to."""

    plugin: str
    distribution: str
    function: Callable[..., Any]
    argnames: tuple[str, ...] = ("event", "run")  # the ones it declares (it may take fewer)

    def __call__(self, event: Any, run: Any) -> Any:
        f, names = self.function, self.argnames
        if names == ("event", "run"):  # the usual signature: called straight (per event: issue 18)
            return f(event, run)
        given = {"event": event, "run": run}
        return f(**{a: given[a] for a in names})


class PluginHost:
    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = _Manager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.loaded: list[LoadedPlugin] = []
        self.failures: list[PluginFailure] = []
        self._registries: dict[str, dict[str, Registered]] = {}
        self._bodies: BodyRegistry | None = None
        self._judge: Any = _MISSING
        self.commands: dict[str, str] = {}  # command name -> entry point that added it
        self.command_help: dict[str, str] = {}
        if entry_points:
            self._discover()

    # ---- discovery -------------------------------------------------------------

    def _discover(self) -> None:
        seen: set[str] = set()
        for ep in sorted(entry_points(GROUP), key=lambda e: e.name):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist, version = _name_version(ep.dist)
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import error is the plugin's
                self._fail(ep.name, dist, "import", exc)
                continue
            if self._register(module, ep.name, dist):
                self.loaded.append(LoadedPlugin(ep.name, dist, version))

    def register_module(self, module: Any, name: str, distribution: str = "(in-process)") -> None:
        """Add a plugin object that is not installed (tests, notebooks)."""
        if self._register(module, name, distribution):
            self.loaded.append(LoadedPlugin(name, distribution, ""))
        self._registries.clear()
        self._bodies = None
        self._judge = _MISSING

    def _register(self, module: Any, name: str, dist: str) -> bool:
        """Register ``module``'s hook implementations that match a hookspec; report the others by name.

        A misspelled hook (``assay_scorer``), a hook function without ``@hookimpl`` and a parameter
        that is not the hookspec's (``def assay_scorers(reg)``) are failures of this plugin; its
        valid hooks are registered all the same.
        """
        specs = _specs()
        good: dict[str, Any] = {}
        bad = False
        for attr in dir(module):
            opts = self.pm.parse_hookimpl_opts(module, attr)
            if opts is None:
                if attr in specs and inspect.isfunction(getattr(module, attr, None)):
                    self._fail(
                        name, dist, attr, PluginError(f"{attr}() is not marked @hookimpl, so it is never called")
                    )
                continue
            hook_name = opts.get("specname") or attr
            function = getattr(module, attr)
            if hook_name not in specs:
                if not opts.get("optionalhook"):
                    msg = f"unknown hook {hook_name!r}{did_you_mean(hook_name, specs)}; it is never called"
                    self._fail(name, dist, hook_name, PluginError(msg))
                    bad = True
                continue
            allowed = specs[hook_name]
            try:  # the parameters pluggy fills: positional, without a default (as pluggy.varnames)
                params = _positional(function)
            except LookupError:
                try:
                    params = [
                        p.name
                        for p in inspect.signature(function).parameters.values()
                        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
                    ]
                except (TypeError, ValueError):
                    params = []
            unknown = [p for p in params if p not in allowed]
            if unknown:
                wrong = ", ".join(f"{p!r}{did_you_mean(p, allowed, 0.3)}" for p in unknown)
                msg = (
                    f"{hook_name}({', '.join(params)}): unknown parameter {wrong}; the hook's parameters are "
                    f"({', '.join(allowed)}); it is not called"
                )
                self._fail(name, dist, hook_name, PluginError(msg))
                bad = True
                continue
            good[attr] = function
        plugin = module
        if bad:  # register only the valid hooks (the failures above name the others)
            plugin = types.SimpleNamespace(**good)
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001 - whatever pluggy rejects is the plugin's
            if self.pm.has_plugin(name):
                self.pm.unregister(name=name)
            self._fail(name, dist, "register", exc)
            return False
        return True

    def _fail(self, plugin: str, dist: str, stage: str, exc: BaseException) -> None:
        from .redact import scrub, visible  # a package's error text reaches the terminal inert

        failure = PluginFailure(plugin, dist, stage, f"{type(exc).__name__}: {exc}")
        self.failures.append(failure)
        warnings.warn(
            visible(f"assay plugin {plugin!r} ({dist}) failed at {stage}: {scrub(failure.error)}", multiline=False),
            RuntimeWarning,
            stacklevel=3,
        )

    def _dist_of(self, plugin_name: str) -> str:
        for p in self.loaded:
            if p.name == plugin_name:
                return p.distribution
        return "?"

    # ---- registries ------------------------------------------------------------

    def _collect(self, hook_name: str) -> dict[str, Registered]:
        reg = self._registries.get(hook_name)
        if reg is not None:
            return reg
        reg = {}
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            plugin = impl.plugin_name
            dist = self._dist_of(plugin)

            def register(name: Any = _MISSING, obj: Any = _MISSING, description: Any = "", **options: Any) -> None:
                problem = _check_registration(hook_name, name, obj, description, options)
                if problem:
                    self._fail(plugin, dist, hook_name, PluginError(problem))  # noqa: B023
                    return
                reg[name] = Registered(name, obj, plugin, dist, description, options)  # noqa: B023

            try:
                impl.function(register)
            except Exception as exc:  # noqa: BLE001
                self._fail(plugin, dist, hook_name, exc)
        self._registries[hook_name] = reg
        return reg

    def benchmarks(self) -> dict[str, Registered]:
        return self._collect("assay_benchmarks")

    def models(self) -> dict[str, Registered]:
        return self._collect("assay_models")

    def scorers(self) -> dict[str, Registered]:
        return self._collect("assay_scorers")

    def reporters(self) -> dict[str, Registered]:
        return self._collect("assay_reporters")

    def perf_datasets(self) -> dict[str, Registered]:
        return self._collect("assay_perf_datasets")

    def perf_apis(self) -> dict[str, Registered]:
        return self._collect("assay_perf_apis")

    def sandboxes(self) -> dict[str, Registered]:
        return self._collect("assay_sandboxes")

    def executors(self) -> dict[str, Registered]:
        return self._collect("assay_executors")

    def bodies(self) -> BodyRegistry:
        if self._bodies is None:
            bodies = BodyRegistry()
            for name, entry in self._collect("assay_event_types").items():
                try:
                    bodies.register(name, entry.obj)
                except ValueError as exc:
                    self._fail(entry.plugin, entry.distribution, "assay_event_types", exc)
            self._bodies = bodies
        return self._bodies

    def judge(self) -> Any:
        """The judge factory of the first ``assay_judge`` implementation that gives one (assay-judge), or None."""
        if self._judge is _MISSING:
            self._judge = None
            for impl in self.pm.hook.assay_judge.get_hookimpls()[::-1]:  # pluggy's call order (firstresult)
                dist = self._dist_of(impl.plugin_name)
                try:
                    self._judge = resolve(impl.function(), f"assay_judge ({dist})")
                except Exception as exc:  # noqa: BLE001 - as a registration hook that raises
                    self._fail(impl.plugin_name, dist, "assay_judge", exc)
                if self._judge is not None:
                    break
        return self._judge

    def add_commands(self, cli: Any) -> None:
        choices = getattr(getattr(cli, "_sub", None), "choices", {})
        for impl in reversed(self.pm.hook.assay_commands.get_hookimpls()):
            before = set(choices)
            try:
                impl.function(cli)
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, self._dist_of(impl.plugin_name), "assay_commands", exc)
            for command in set(choices) - before:
                self.commands[command] = impl.plugin_name
                self.command_help[command] = getattr(choices[command], "description", None) or ""

    def add_options(self, command: str, parser: Any) -> None:
        """The plugins' flags of ``command`` (``assay_options``): one that raises is reported, the others stand."""
        given = {"command": command, "parser": parser}
        for impl in reversed(self.pm.hook.assay_options.get_hookimpls()):
            try:
                impl.function(**{a: given[a] for a in impl.argnames})  # it may take fewer parameters
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, self._dist_of(impl.plugin_name), "assay_options", exc)

    def option_values(self, command: str, args: Any, config: dict[str, Any]) -> dict[str, Any]:
        """The settings the plugins' flags of ``command`` give (``assay_option_values``), merged in call order."""
        out: dict[str, Any] = {}
        for values in self.pm.hook.assay_option_values(command=command, args=args, config=config):
            out.update(values)
        return out

    def observers(self) -> list[Observer]:
        """The ``assay_event`` implementations, in call order, with the plugin each belongs to."""
        return [
            Observer(impl.plugin_name, self._dist_of(impl.plugin_name), impl.function, tuple(impl.argnames))
            for impl in reversed(self.pm.hook.assay_event.get_hookimpls())
        ]

    def hooks_of(self, plugin: str) -> list[str]:
        """The hooks a registered plugin implements."""
        obj = self.pm.get_plugin(plugin)
        return sorted(c.name for c in self.pm.get_hookcallers(obj) or []) if obj is not None else []

    def get(self, kind: str, name: str) -> Registered:
        """Look a name up in one registry, with a helpful error."""
        registry = getattr(self, kind)()
        if name in registry:
            return registry[name]
        label = kind.rstrip("s").replace("_", " ")
        msg = f"unknown {label} {name!r}{did_you_mean(name, registry)}"
        failed = [f for f in self.failures if f.stage == "import"]
        if failed:
            msg += "; plugins that failed to import: " + ", ".join(f"{f.plugin} ({f.distribution})" for f in failed)
        msg += f". Installed: {', '.join(sorted(registry)) or 'none'}"
        raise AssayError(msg)

    def versions(self) -> list[dict[str, str]]:
        return [{"distribution": p.distribution, "version": p.version, "entry_point": p.name} for p in self.loaded]


def _check_registration(hook: str, name: Any, obj: Any, description: Any, options: dict[str, Any]) -> str:
    """What is wrong with one ``register(...)`` call of hook ``hook``; ``""`` when nothing is."""
    call = f"register({name!r}, ...)" if isinstance(name, str) else "register(...)"
    if name is _MISSING or obj is _MISSING:
        return f"{call} takes (name, obj, description='', ...): the name and the object are both needed"
    if not isinstance(name, str) or not name:
        hint = " (arguments swapped? the name comes first)" if isinstance(obj, str) else ""
        return f"{call}: the name must be a non-empty string, got {type(name).__name__}{hint}"
    if not isinstance(description, str):
        return f"{call}: description must be a string, got {type(description).__name__}"
    allowed = {"description"} | REGISTER_OPTIONS.get(hook, frozenset())
    unknown = sorted(set(options) - allowed) if hook in REGISTER_OPTIONS else []
    if unknown:
        return f"{call}: unknown keyword {unknown[0]!r}{did_you_mean(unknown[0], allowed)}; it takes {', '.join(sorted(allowed))}"
    if isinstance(obj, str):
        if not _REF.match(obj):
            hint = " (arguments swapped? the name comes first)" if _REF.match(name) else ""
            return f"{call}: a string object must be 'module:attribute', got {obj!r}{hint}"
        return ""
    if hook == "assay_scorers":
        ok, want = callable(getattr(obj, "score", None)), "an object with score(sample, generated)"
    elif hook == "assay_reporters":
        ok = callable(getattr(obj, "build", None)) and callable(getattr(obj, "render", None))
        want = "an object with build(log_path) and render(report, console)"
    elif hook == "assay_event_types":
        ok, want = isinstance(obj, type) and issubclass(obj, Body), "a subclass of assay.events.Body"
    elif hook in REGISTER_OPTIONS:
        ok, want = callable(obj), "a callable factory"
    else:
        ok, want = True, ""
    return "" if ok else f"{call}: expected {want} or 'module:attribute', got {type(obj).__name__}"


_host: PluginHost | None = None


def host() -> PluginHost:
    """The process-wide plugin host (discovered once)."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def judges(asked: str, plugins: PluginHost | None = None) -> Any:
    """The judge factory (``assay_judge``), or an error naming assay-judge: ``asked`` asks for a judge."""
    factory = (plugins or host()).judge()
    if factory is None:
        raise AssayError(
            f"{asked} asks for a judge: the assay-judge distribution, which provides judges, is not installed "
            "(or failed to load: see `assay plugins`): pip install assay-judge"
        )
    return factory
