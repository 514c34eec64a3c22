"""Every hook a plugin can implement. This module is the one place they are documented.

A plugin is a module named by an entry point in the ``assay`` group. It imports
``hookimpl`` from :mod:`assay` and implements any of the hooks below. Registration
hooks receive a ``register`` callback and never touch a registry directly.

Plugin modules must import quickly: import heavy libraries (torch, transformers,
openai, textual, sentence-transformers) inside the functions that use them, so that
``assay plugins`` and ``assay --help`` stay fast.

A hook implementation's name and parameters must be the ones below (it may take fewer
parameters, never others); ``register`` accepts only the keywords each hook lists. A plugin
that gets either wrong is reported by name, with the closest correct name, in
``assay plugins`` and as a warning; its valid hooks and the other plugins keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import argparse

    from .api import RunContext
    from .cli import Commands
    from .events import Event

hookspec = pluggy.HookspecMarker("assay")
hookimpl = pluggy.HookimplMarker("assay")


class Register(Protocol):
    """The ``register`` callback a registration hook receives."""

    def __call__(self, name: str, obj: Any, description: str = "", **options: Any) -> None: ...


@hookspec
def assay_benchmarks(register: Register) -> None:
    """Register benchmarks.

    Every ``register`` below also accepts ``"module:attribute"`` in place of the object: it is
    imported on first use, so listing plugins stays fast.

    Call ``register(name, factory, description="")``. ``factory(args)`` receives a
    :class:`assay.api.BenchmarkArgs` (the benchmark's ``dataset_args`` merged with the
    run's options) and returns an object following :class:`assay.api.Benchmark`.
    ``name`` is what users pass to ``--datasets``.

    Example::

        @hookimpl
        def assay_benchmarks(register):
            register("my_qa", MyQA, description="my question answering set")
    """


@hookspec
def assay_models(register: Register) -> None:
    """Register model backends.

    Call ``register(name, factory, description="", eval_types=(), claims=None, by_name=False,
    served_models=None)``.
    ``factory(config, run)`` receives a :class:`assay.api.ModelConfig` and the
    :class:`assay.api.RunContext` and returns a :class:`assay.api.Model`.
    ``eval_types`` lists the ``--eval-type`` values the backend answers to
    (``openai_api``, ``llm_ckpt``, ``mock``...). ``claims(config) -> bool``, when given,
    lets the backend claim a run whose ``--eval-type`` was not given (for example a
    ``--model`` that is a local directory). ``by_name=True`` lets ``--model NAME`` (with no
    ``--api-url`` and no ``--eval-type``) pick the backend registered as ``NAME``, as
    ``--model mock`` does. ``served_models(api_url, api_key, timeout) -> list[str]``, when given,
    names what a server serves, so that ``--api-url`` without ``--model`` can use its one model
    (raise :class:`assay.api.ModelError` when the server cannot be asked). Order of choice: ``--eval-type``, then ``--api-url``
    (``openai_api``), then ``by_name``, then ``claims``.

    Example::

        @hookimpl
        def assay_models(register):
            register("echo", EchoModel, eval_types=("echo",))
    """


@hookspec
def assay_scorers(register: Register) -> None:
    """Register scorers.

    Call ``register(name, scorer, description="")``. ``scorer`` follows
    :class:`assay.api.Scorer`: ``scorer.score(sample, generated)`` returns a list of
    :class:`assay.api.Score` (metric, value, extracted answer, explanation). Scorers
    run after each ``Generated`` and during ``assay rescore``; each Score becomes a
    ``Scored`` event. A scorer may also return event bodies (``Executed``, ``SampleFailed``),
    appended with its scores; one with ``blocking = True`` (it runs programs) runs in a worker thread.

    A scorer that needs an LLM judge defines ``async def score(self, sample, generated, judge)``:
    ``judge`` is an :class:`assay_judge.JudgeView` (see ``assay_judge``); ``await judge.ask(sample, prompt,
    parse=...)`` asks the run's judges (``judge_model_args``; concurrent up to ``judge_worker_num``, retried,
    each call a ``Judged`` event) and returns a :class:`assay_judge.JudgeResult` (``label``, ``value``, each
    judge's ``verdicts``). Raise :class:`assay_judge.JudgeFailed` (``result.require()``) when the sample
    cannot be judged: it is counted as a judge failure, never scored. ``rule = True`` (class attribute): it
    can also score without a judge under ``judge_strategy: rule`` (read ``judge.strategy``). ``assay rescore``
    and ``resume`` reuse logged verdicts. Helpers in :mod:`assay_judge` (the assay-judge distribution, a dependency of
    judged plugins): ``render_template``, ``parse_label``, ``parse_rating``, ``expected_from_logprobs``,
    ``pairwise_orders``, ``aggregate``.

    Example::

        @hookimpl
        def assay_scorers(register):
            register("exact_match", ExactMatch())
    """


@hookspec
def assay_reporters(register: Register) -> None:
    """Register reporters: projections of a run's log into a report.

    Call ``register(name, reporter, description="", kinds=None, benchmarks=None, events=None)``. ``reporter`` follows
    :class:`assay.api.Reporter`: ``kinds`` (the run kinds it reports, e.g.
    ``{"eval"}``), ``build(log_path) -> dict`` (a fold over the log, JSON-able) and
    ``render(report, console)`` (console output). ``assay report`` calls every reporter
    whose ``kinds`` contains the run's kind (pass ``kinds={...}`` to ``register`` as well
    when registering by ``"module:attribute"``, so the module is imported only when needed).
    ``benchmarks={...}`` limits a reporter to runs holding one of those benchmarks.
    ``events={...}``: the event types without which it has nothing to report (e.g. ``{"RequestTimed"}``); a
    reader that already knows which types a log holds (``assay view``'s index) does not build it for a log
    with none of them.
    ``formats={"html"}`` makes it a file reporter instead: it adds no section, and the kernel calls its
    ``write(report, log_path, out) -> Path`` for ``report.<format>`` in each finished run's directory and
    ``assay report --format <format>`` (and ``write_compare(result, out)`` for ``assay compare``).
    ``body=True`` is the eval report (``assay-eval-report``, ``assay_eval_report.reporter``): its ``build`` is the
    report itself (rows, status, errors) and the sections of the other reporters are added to it.
    Optional: ``plain_table(report)`` (the body reporter; another kind's reporter: ``plain_table(section)``)
    returns ``(columns, rows, numeric)`` for ``assay report --format markdown|csv``; ``pass_fold(log_path)``
    returns an :class:`assay.log.Fold` with ``result(torn)`` (what ``build`` returns), so that the end of a run
    feeds every reporter from one read of the log (a file reporter gets its fold as ``write(..., folded=)``).
    A file reporter whose ``write`` takes ``reporters`` is handed the installed reporters by name (entries with
    ``obj``), those that built the report's sections: it may show a section as its reporter prints it.

    Example::

        @hookimpl
        def assay_reporters(register):
            register("latency", LatencyReporter())
    """


@hookspec
def assay_perf_datasets(register: Register) -> None:
    """Register prompt sources for ``assay perf``.

    Call ``register(name, factory, description="")``; ``factory(options)`` returns an
    iterable of prompts (strings or chat message lists) for the load generator.

    Example::

        @hookimpl
        def assay_perf_datasets(register):
            register("my_prompts", MyPrompts)
    """


@hookspec
def assay_perf_apis(register: Register) -> None:
    """Register request builders/parsers for ``assay perf`` (``--api NAME``).

    Call ``register(name, factory, description="")``; the object builds the HTTP
    request for a prompt and parses the (streamed) response into raw timings.

    Example::

        @hookimpl
        def assay_perf_apis(register):
            register("my_api", MyApi)
    """


@hookspec
def assay_sandboxes(register: Register) -> None:
    """Register sandboxes that execute untrusted (model-written) programs.

    Call ``register(name, factory, description="")``. ``factory(options)`` receives a dict
    of backend options and returns an object with ``name`` and
    ``execute(files, argv, *, stdin=b"", limits=None) -> Execution`` (see ``assay_sandbox``);
    ``available() -> str | None`` returns ``None`` when the backend can run here, else why not.

    Example::

        @hookimpl
        def assay_sandboxes(register):
            register("bwrap", "assay_sandbox.core:BwrapSandbox", description="bubblewrap")
    """


@hookspec
def assay_executors(register: Register) -> None:
    """Register executors: where an eval's generation (and ``assay perf``'s load) runs.

    Call ``register(name, factory, description="")``; ``--executor NAME`` picks one (default
    ``local``, the kernel's anyio tasks, registered through this hook too). ``factory(cfg, plugins)``
    receives the :class:`assay.config.TaskConfig` (``cfg.executor_args`` holds the executor's own
    options) and the plugin host, and returns an object with
    ``async generate(pending, run, scoring) -> None``: generate and score ``pending`` (an iterable of
    ``SampleLoaded``) and append each sample's ``Generated`` / ``Scored`` / ``SampleFailed`` events
    with ``run.emit_many`` on the driver, one group per sample, so the driver keeps the single
    writer and ``seq`` stays dense. An executor that also drives ``assay perf`` has
    ``perf(opts, load, points, run)``.

    Example::

        @hookimpl
        def assay_executors(register):
            register("ray", "assay_ray.executor:RayExecutor", description="Ray actors")
    """


@hookspec(firstresult=True)
def assay_judge() -> Any:
    """Provide the judges: the factory of the judge object that judged scorers receive.

    The kernel asks this hook when a run's settings ask for a judge (``judge_model_args``,
    ``judge_strategy`` and the other ``judge_*`` keys, which it keeps as data): the first implementation that
    returns something wins (assay-judge returns ``"assay_judge.judge:Judge"``; a ``"module:attribute"`` is
    imported on first use). When none does, a run whose settings ask for a judge fails before its directory
    exists, naming the assay-judge distribution. The factory has ``check(cfg)`` (raise
    :class:`assay.api.AssayError` on bad judge settings of a :class:`assay.config.TaskConfig`), ``Failed``
    (the exception a judged scorer raises when a sample cannot be judged: recorded as
    ``SampleFailed(stage="judge")``, its ``kind`` as ``error_kind``), and ``factory(cfg, plugins, run, reuse=None, reuse_from=None, call=True)`` returns the
    run's judge: ``configured``, ``strategy``, ``view(scorer)`` (what a scorer receives) and
    ``async aclose()``. ``reuse`` holds the ``Judged`` events of the log (``assay resume``, ``rescore``),
    ``reuse_from`` the source run of a rescore, ``call=False`` forbids new judge calls.

    Example::

        @hookimpl
        def assay_judge():
            return "my_judges.core:Judge"
    """


@hookspec
def assay_event_types(register: Register) -> None:
    """Register plugin-defined event body types.

    Call ``register(type_name, struct_class)`` with a subclass of
    :class:`assay.events.Body`. Logs holding types that no installed plugin
    registers still replay: their bodies stay plain dicts.

    Example::

        @hookimpl
        def assay_event_types(register):
            register("EncodingTimed", EncodingTimed)
    """


@hookspec
def assay_commands(cli: Commands) -> None:
    """Add subcommands to the ``assay`` CLI.

    ``cli.command(name, help=...)`` is a decorator for ``handler(args) -> int | None``;
    it returns the decorated handler with an ``arguments(parser)`` decorator to add
    argparse arguments.

    Example::

        @hookimpl
        def assay_commands(cli):
            @cli.command("hello", help="say hello")
            def hello(args):
                print("hello", args.name)

            @hello.arguments
            def _(parser):
                parser.add_argument("--name", default="world")
    """


@hookspec
def assay_options(command: str, parser: argparse.ArgumentParser) -> None:
    """Add a plugin's flags to a command: the kernel's ``eval``, ``resume`` and ``rescore``, or a plugin's
    command that asks for them with :func:`assay.cli.add_options` (``assay perf`` does).

    ``command`` is the command's name; add flags only to the commands they serve. Called while the parser is
    built (``assay eval --help`` too): import nothing heavy here. A flag whose plugin is not installed is
    simply absent. Pair it with ``assay_option_values``, which turns the flags into settings.

    Example::

        @hookimpl
        def assay_options(command, parser):
            if command == "eval":
                parser.add_argument("--my-level", type=int, help="how hard to try")
    """


@hookspec
def assay_option_values(command: str, args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a plugin's flags (added by ``assay_options``) into settings, when the command runs.

    ``args`` is the parsed command line; ``config`` the settings so far (for ``eval``: the ``--config`` file's
    keys under the kernel's flags; read it, do not change it). Return the :class:`assay.config.TaskConfig` keys
    the flags set (a ``None`` value: not given), or ``None``; later plugins' keys win. The kernel calls it for
    ``eval``, ``resume`` and ``rescore``; a plugin command calls :func:`assay.cli.option_values`. It may also
    apply what a flag stands for in the process (an environment variable such as ``$ASSAY_TRACKERS``), and
    raise :class:`assay.api.AssayError` for flags that contradict each other.

    Example::

        @hookimpl
        def assay_option_values(command, args, config):
            if command == "eval" and args.my_level is not None:
                return {"model_args": {**(config.get("model_args") or {}), "level": args.my_level}}
    """


@hookspec
def assay_event(event: Event, run: RunContext) -> Any:
    """Observe every event appended to a run's log, in ``seq`` order.

    ``event`` is an :class:`assay.events.Event`; ``run`` the
    :class:`assay.api.RunContext`. Return ``None`` or an awaitable, which the kernel
    awaits before the run ends. Observers must not mutate the event; they may
    append new events with ``run.emit``. An observer that raises (or whose awaitable
    raises) is named in a ``Warning`` event and on stderr, and switched off for the
    rest of the run; the run goes on.

    Example::

        @hookimpl
        def assay_event(event, run):
            if event.type == "Scored" and event.body.value == 0:
                print("miss:", event.body.sample_id)
    """
