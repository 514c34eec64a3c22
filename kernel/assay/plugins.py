"""Plugin discovery (entry points, group ``assay``) and the registries hooks fill.

Discovery is isolated: a plugin whose module fails to import, or whose hook raises,
is recorded in :attr:`PluginHost.failures` and reported by name; the others work.
Registries are filled lazily, one hook at a time, on first use.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .api import AssayError
from .events import BodyRegistry

GROUP = "assay"


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


class PluginHost:
    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.loaded: list[LoadedPlugin] = []
        self.failures: list[PluginFailure] = []
        self._registries: dict[str, dict[str, Registered]] = {}
        self._bodies: BodyRegistry | None = None
        if entry_points:
            self._discover()

    # ---- discovery -------------------------------------------------------------

    def _discover(self) -> None:
        seen: set[str] = set()
        for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import error is the plugin's
                self._fail(ep.name, dist, "import", exc)
                continue
            self.pm.register(module, name=ep.name)
            self.loaded.append(LoadedPlugin(ep.name, dist, version))

    def register_module(self, module: Any, name: str, distribution: str = "(in-process)") -> None:
        """Add a plugin object that is not installed (tests, notebooks)."""
        self.pm.register(module, name=name)
        self.loaded.append(LoadedPlugin(name, distribution, ""))
        self._registries.clear()
        self._bodies = None

    def _fail(self, plugin: str, dist: str, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(plugin, dist, stage, f"{type(exc).__name__}: {exc}")
        self.failures.append(failure)
        warnings.warn(
            f"assay plugin {plugin!r} ({dist}) failed at {stage}: {failure.error}",
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

            def register(name: str, obj: Any, description: str = "", **options: Any) -> None:
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

    def add_commands(self, cli: Any) -> None:
        for impl in reversed(self.pm.hook.assay_commands.get_hookimpls()):
            try:
                impl.function(cli)
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, self._dist_of(impl.plugin_name), "assay_commands", exc)

    def event_observers(self) -> list[Callable[..., Any]]:
        return [impl.function for impl in reversed(self.pm.hook.assay_event.get_hookimpls())]

    def get(self, kind: str, name: str) -> Registered:
        """Look a name up in one registry, with a helpful error."""
        registry = getattr(self, kind)()
        if name in registry:
            return registry[name]
        label = kind.rstrip("s").replace("_", " ")
        msg = f"unknown {label} {name!r}"
        close = difflib.get_close_matches(name, list(registry), n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        failed = [f for f in self.failures if f.stage == "import"]
        if failed:
            msg += "; plugins that failed to import: " + ", ".join(f"{f.plugin} ({f.distribution})" for f in failed)
        msg += f". Installed: {', '.join(sorted(registry)) or 'none'}"
        raise AssayError(msg)

    def versions(self) -> list[dict[str, str]]:
        return [{"distribution": p.distribution, "version": p.version, "entry_point": p.name} for p in self.loaded]


_host: PluginHost | None = None


def host() -> PluginHost:
    """The process-wide plugin host (discovered once)."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host
