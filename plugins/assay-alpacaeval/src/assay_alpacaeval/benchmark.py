"""The implementation behind assay_alpacaeval (see the package docstring)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_subsets
from assay_datasets import locate, read_json, read_jsonl
from assay_judge import Parsed, logprob_share
from assay_reportkit.tables import Column, TableReporter

from .prompts import ALPACA_EVAL_CLF_GPT4_TURBO

EVAL_FILE = "alpaca_eval.jsonl"
REFERENCES = {
    # version -> (reference generator, its outputs: a file beside alpaca_eval.jsonl, or None: its ``output``)
    "2.0": ("gpt4_1106_preview", "gpt4_1106_preview/model_outputs.json"),
    "1.0": ("text_davinci_003", None),
}
# the annotator's settings (weighted_alpaca_eval_gpt4_turbo/configs.yaml)
JUDGE_GENERATION = {"max_tokens": 1, "temperature": 1}
TOP_LOGPROBS = 5
SWITCH_SEED = 0  # the seed the published annotations were drawn with (it reproduces all of them)


class AlpacaEval:
    """``alpaca_eval.jsonl`` (instruction, output = text_davinci_003, generator, dataset); the 2.0 reference
    outputs from ``gpt4_1106_preview/model_outputs.json``, row by row, instructions checked equal.
    Sample id: the row index (0-804); the row's ``dataset`` (helpful_base, koala, ...) is kept as metadata
    (the official figures are over all 805, so it is no report group)."""

    name = "alpaca_eval"
    # the hubs hold the official layout: alpaca_eval.json (a JSON list) and alpaca_eval_gpt4_baseline.json
    hub_id: ClassVar[dict[str, str]] = {
        "modelscope": "AI-ModelScope/alpaca_eval",
        "huggingface": "tatsu-lab/alpaca_eval",
    }
    hub_files: ClassVar[list[str]] = ["alpaca_eval.json", "alpaca_eval_gpt4_baseline.json", "df_gamed.csv"]
    default_scorers: ClassVar[list[str]] = ["alpaca_eval_judge"]
    extra_args: ClassVar[tuple[str, ...]] = ("version",)
    honours: ClassVar[tuple[str, ...]] = ("subset_list",)  # the prompt is the bare instruction: no few-shot

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        version = str(args.extra.get("version", "2.0"))
        if version not in REFERENCES:
            raise AssayError(
                f"dataset_args.alpaca_eval.version must be one of {', '.join(REFERENCES)}, got {version!r}"
            )
        select_subsets(args, ["default"])
        root = locate(args, hub_id=self.hub_id, hub_files=self.hub_files)
        path = root / EVAL_FILE if root.is_dir() else root
        if root.is_dir() and not path.exists() and (root / "alpaca_eval.json").exists():
            path = root / "alpaca_eval.json"  # the hub's layout: one JSON list
        if not path.exists():
            raise AssayError(f"alpaca_eval: no {EVAL_FILE} (or alpaca_eval.json) in {root}")
        if path.suffix == ".json":
            data = read_json(path)
            if not isinstance(data, list):
                raise AssayError(f"{path}: expected a JSON list of instructions")
            rows = [(i + 1, obj if isinstance(obj, dict) else {}) for i, obj in enumerate(data)]
        else:
            rows = [(line, obj) for line, obj in read_jsonl(path)]
        generator, ref_file = REFERENCES[version]
        refs: list[str] | None = None
        if ref_file is not None:
            ref_path = path.parent / ref_file
            if not ref_path.exists() and (path.parent / "alpaca_eval_gpt4_baseline.json").exists():
                ref_path = path.parent / "alpaca_eval_gpt4_baseline.json"  # the hub's name for the same outputs
            if not ref_path.exists():
                raise AssayError(f"alpaca_eval {version}: no reference outputs {ref_file} beside {path}")
            data = read_json(ref_path)
            if not isinstance(data, list) or len(data) != len(rows):
                raise AssayError(f"{ref_path}: expected a JSON list of {len(rows)} outputs, one per instruction")
            refs = []
            for i, (ref, (line, obj)) in enumerate(zip(data, rows, strict=True)):
                if not isinstance(ref, dict) or ref.get("instruction") != obj.get("instruction"):
                    raise AssayError(f"{ref_path}: entry {i} is not the output for {path}:{line}'s instruction")
                refs.append(str(ref.get("output") or ""))
        for i, (line, obj) in enumerate(rows):
            instruction = obj.get("instruction")
            if not isinstance(instruction, str) or not isinstance(obj.get("output"), str):
                raise AssayError(f"{path}:{line}: missing or non-text instruction / output")
            yield Sample(
                id=str(i),
                messages=[{"role": "user", "content": instruction}],
                metadata={
                    "instruction": instruction,
                    "reference": refs[i] if refs is not None else obj["output"],
                    "reference_generator": generator,
                    "version": version,
                    "index": i,
                    "dataset": obj.get("dataset"),
                },
            )


# ---- the annotator ---------------------------------------------------------------------------


def is_switched(instruction: str, seed: int = SWITCH_SEED) -> bool:
    """AlpacaEval's ``RandomSwitchTwoColumnsProcessor``: whether the model's output is shown first (as ``m``)."""
    return random.Random("is_switched_outputs" + instruction + str(seed)).choices([False, True], k=1)[0]


def make_messages(template: str, instruction: str, output_1: str, output_2: str) -> list[dict[str, str]]:
    """The prompt as AlpacaEval sends it: each placeholder's first occurrence replaced in turn
    (``utils.make_prompts``), then the ChatML blocks as messages, contents stripped (``prompt_to_chatml``)."""
    prompt = template
    for key, value in (("instruction", instruction), ("output_1", output_1), ("output_2", output_2)):
        prompt = prompt.replace("{" + key + "}", value, 1)
    prompt = prompt.strip()
    if not prompt.startswith("<|im_start|>"):
        return [{"role": "user", "content": prompt}]
    messages = []
    for block in prompt.split("<|im_start|>")[1:]:
        role, _, rest = block.partition("\n")
        messages.append({"role": role.strip(), "content": rest.split("<|im_end|>", 1)[0].strip()})
    return messages


def preference_parser(switched: bool) -> Any:
    """The official ``logprob_parser`` (numerator ``m``, denominators ``m``/``M``, not binarised):
    2 - P(m), then 3 - x when the outputs were switched, so 2 always means the model won."""

    def parse(output: str, logprobs: list[dict[str, Any]] | None = None) -> Parsed | None:
        share = logprob_share(logprobs, "m", ("m", "M"))
        if share is None:
            return None
        raw = 2.0 - share
        return Parsed(value=3.0 - raw if switched else raw)

    return parse


def discrete(preference: float) -> float:
    """AlpacaEval's ZeroOneScoringRule: 1.5 is a draw (0.5), otherwise rounded to 1 (0) or 2 (1)."""
    if preference == 1.5:
        return 0.5
    return float(round(preference) - 1)


class Annotator:
    """weighted_alpaca_eval_gpt4_turbo: output_1 is the reference, output_2 the model's; seeded switch."""

    def __init__(self, template: str = ALPACA_EVAL_CLF_GPT4_TURBO) -> None:
        self.template = template

    async def score(self, sample: Any, generated: Any, judge: Any) -> list[Score]:
        md = sample.metadata
        instruction, reference, output = md.get("instruction", ""), md.get("reference", ""), generated.output
        if output == reference:  # official: identical outputs are a draw, never annotated
            return [
                Score(metric="win_rate", value=0.5, extracted="1.5", explanation="identical outputs: a draw"),
                Score(metric="discrete_win_rate", value=0.5, extracted="1.5"),
            ]
        switched = is_switched(instruction)
        first, second = (output, reference) if switched else (reference, output)
        names = [md.get("reference_generator", "reference"), generated.model]
        messages = make_messages(judge.prompt_template(self.template), instruction, first, second)
        result = (
            await judge.ask(
                sample,
                messages,
                parse=preference_parser(switched),
                key="preference",
                order="BA" if switched else "AB",
                candidates=names[::-1] if switched else names,
                logprobs=TOP_LOGPROBS,
                generation_config=JUDGE_GENERATION,
            )
        ).require()
        pref = float(result.value)
        shown = f"model shown as {'m' if switched else 'M'}"
        return [
            Score(metric="win_rate", value=pref - 1.0, extracted=repr(pref), explanation=f"preference {pref}; {shown}"),
            Score(metric="discrete_win_rate", value=discrete(pref), extracted=repr(pref)),
        ]


SCORER = Annotator()


# ---- AlpacaEval's metrics: a projection of the log --------------------------------------------


def get_winrate(preferences: Sequence[float]) -> dict[str, Any]:
    """``alpaca_eval.metrics.get_winrate`` on preferences in [1, 2] (NaN / out of range left out): the win rate
    and its standard error (pandas ``sem``, ddof 1) in points, n_wins / n_wins_base / n_draws / n_total, and
    the discrete win rate (ties 0.5)."""
    prefs = [1.5 if p == 0 else float(p) for p in preferences]
    prefs = [p for p in prefs if 1 <= p <= 2]  # NaN compares False: dropped
    n = len(prefs)
    if n == 0:
        return dict.fromkeys(
            ("win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate")
        ) | {"n_total": 0}
    x = [p - 1 for p in prefs]
    mean = math.fsum(x) / n
    sem = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / (n - 1)) / math.sqrt(n) if n > 1 else None
    d = [discrete(p) for p in prefs]
    return {
        "win_rate": mean * 100,
        "standard_error": None if sem is None else sem * 100,
        "n_wins": sum(v > 0.5 for v in x),
        "n_wins_base": sum(v < 0.5 for v in x),
        "n_draws": sum(p == 1.5 for p in prefs),
        "n_total": n,
        "discrete_win_rate": math.fsum(d) / n * 100,
    }


def collect(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (version, reference generator): each judged sample's preference, output and reference lengths,
    instruction index; and the judge failures / errors."""
    from assay.log import iter_events

    loaded: dict[str, dict[str, Any]] = {}
    outputs: dict[str, str] = {}
    prefs: dict[str, float] = {}
    failed: dict[str, str] = {}
    data_dirs: list[str] = []  # where the GLM's df_gamed.csv may lie: beside the run's alpaca_eval files
    for ev in iter_events(path, types={"RunStarted", "SampleLoaded", "Generated", "Scored", "SampleFailed"}):
        b = ev.body
        if ev.type == "RunStarted":
            cfg = b.config or {}
            local = ((cfg.get("dataset_args") or {}).get("alpaca_eval") or {}).get("local_path")
            if local:
                data_dirs.append(str(Path(local).parent if Path(local).suffix else Path(local)))
            if cfg.get("dataset_dir"):
                data_dirs.append(str(Path(cfg["dataset_dir"]) / "alpaca_eval"))
        elif ev.type == "SampleLoaded":
            if b.benchmark == "alpaca_eval":
                loaded[b.sample_id] = b.metadata
        elif b.sample_id not in loaded:
            continue
        elif ev.type == "Generated":
            outputs[b.sample_id] = b.output
        elif ev.type == "Scored" and b.metric == "win_rate" and b.value is not None:
            prefs[b.sample_id] = b.value + 1.0
            failed.pop(b.sample_id, None)
        elif ev.type == "SampleFailed":
            failed[b.sample_id] = b.stage
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for sid, md in loaded.items():
        g = groups.setdefault(
            (str(md.get("version", "2.0")), str(md.get("reference_generator", ""))),
            {
                "preferences": [],
                "len_model": [],
                "len_reference": [],
                "index": [],
                "judge_failures": 0,
                "errors": 0,
                "data_dirs": data_dirs,
                "all_lengths": [],
            },
        )
        if sid in outputs:
            g["all_lengths"].append(len(outputs[sid]))
        if sid in prefs:
            g["preferences"].append(prefs[sid])
            g["len_model"].append(len(outputs.get(sid, "")))
            g["len_reference"].append(len(md.get("reference", "")))
            g["index"].append(int(md.get("index", -1)))
        elif failed.get(sid) == "judge":
            g["judge_failures"] += 1
        elif sid in failed:
            g["errors"] += 1
    return groups


def fold(path: Path, glm_data: Any = None) -> dict[str, Any]:
    from . import glm

    rows = []
    for (version, reference), g in sorted(collect(Path(path)).items()):
        row: dict[str, Any] = {"dataset": "alpaca_eval", "version": version, "reference": reference}
        row |= get_winrate(g["preferences"])
        # as main.py: int(mean output length in characters), over every generated output
        row["avg_length"] = int(sum(g["all_lengths"]) / len(g["all_lengths"])) if g["all_lengths"] else None
        row["judged"], row["judge_failures"], row["errors"] = len(g["preferences"]), g["judge_failures"], g["errors"]
        row |= glm.report_lc(g, version, glm_data)
        rows.append(row)
    return {
        "rows": rows,
        "formula": "AlpacaEval get_winrate: win_rate = 100 * mean(preference - 1); standard_error = 100 * sem "
        "(ddof 1); discrete_win_rate counts 1.5 as half a win; over the judged samples (judge failures left out "
        "and counted). length_controlled_winrate: AlpacaEval's length_controlled_v1 GLM",
    }


class AlpacaEvalReporter(TableReporter):
    title = "AlpacaEval (get_winrate; judge failures left out)"
    columns = (
        Column("Version", "version"),
        Column("Reference", "reference"),
        Column("Judged", "judged"),
        Column("Judge failures", "judge_failures"),
        Column("Win rate", "win_rate", "{:.2f}"),
        Column("SE", "standard_error", "{:.2f}"),
        Column("LC win rate", lambda r: r.get("length_controlled_winrate"), "{:.2f}"),
        Column("Discrete", "discrete_win_rate", "{:.2f}"),
        Column("W/D/L", lambda r: f"{r['n_wins'] or 0}/{r['n_draws'] or 0}/{r['n_wins_base'] or 0}"),
        Column("Avg len", "avg_length"),
    )
    projection = fold

    def notes(self, report: dict[str, Any]) -> list[str]:
        return sorted({r.get("lc_note") for r in report.get("rows") or [] if r.get("lc_note")})


REPORTER = AlpacaEvalReporter()
