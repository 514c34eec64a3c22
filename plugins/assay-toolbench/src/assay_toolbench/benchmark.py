"""ToolBench-Static: steps of ToolBench conversations, prompted and scored as alpha-UMi does.

Files: ``in_domain.json`` / ``out_of_domain.json`` of X-PLUG/Multi-LLM-Agent
``GLPFT/dataset/toolbench/test/``: a JSON list of ``{"tools", "instruction", "conversations"}``,
conversations turns ``{"from": user|assistant|caller|observation|conclusion, "value"}``.

Steps (``GLPFT/process_data/toolbench/prepro_backbone.py``): every assistant turn that is
followed by a ``caller`` turn (a call step), by a ``conclusion`` turn (a finish step), or
that says ``Next: give up.`` (a give-up step) is one sample. Its prompt is the
``toolbench_backbone`` template (``GLPFT/utils/prompt_lib.py``) with the tool docs (one
``json.dumps`` per line), the tool names and the history so far, followed by `` assistant: ``;
its target the assistant's text without the ``Next: ...`` marker plus the call
(``Action: ...\\nAction Input: ...``) or ``conclusion: <answer>`` / ``conclusion: give up.``.

Metrics (``GLPFT/inference_utils/toolbench/evaluate-backbone.py``), per step:
``Plan.EM`` and ``HalluRate`` on every step, ``Act.EM`` and ``F1`` (arguments) on call steps,
``Rouge-L`` on finish steps. The subsets are ``<domain>/<kind>`` (``out_of_domain/call``,
``.../finish``, ``.../give_up``), so each metric's mean runs over the steps the official
script averages it over, and the kernel's OVERALL row of a metric is the official figure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_extra_args, select_subsets, zero_shot
from assay_datasets import locate, read_json
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

DOMAINS = ("in_domain", "out_of_domain")
KINDS = ("call", "finish", "give_up")
HUB_ID = "AI-ModelScope/ToolBench-Static"  # EvalScope's id (a different, chat-message conversion)
TEMPLATE = """You have assess to the following apis:
{doc}
The conversation history is:
{history}
You should answer the action of next step in the following format:
The thought to solve the question,
Action: the name of api that should be called in this step, should be exactly in [{tool_names}],
Action Input: the api call request.
Once you think the question is finished, output conclusion: the final answer of the question or give up if you think you cannot answer this question.
"""


def steps(conv: list[dict[str, Any]], where: str) -> Iterator[tuple[str, str, str]]:
    """(kind, history before the step, target) of each step of one conversation."""
    history = ""
    for i, utter in enumerate(conv):
        if not isinstance(utter, dict) or not isinstance(utter.get("value"), str) or "from" not in utter:
            raise AssayError(f"{where}: conversation turn {i} must be an object with 'from' and a text 'value'")
        who, value = utter["from"], utter["value"]
        if who == "assistant":
            nxt = conv[i + 1]["from"] if i + 1 < len(conv) and isinstance(conv[i + 1], dict) else None
            if "Next: give up." in value:
                span = value.replace("Next: give up.", "").strip() + "\nconclusion: give up."
                yield "give_up", history, span
            elif nxt == "caller":
                span = value.replace("Next: caller.", "").strip() + "\n" + conv[i + 1]["value"]
                yield "call", history, span
            elif nxt == "conclusion":
                span = value.replace("Next: conclusion.", "").strip() + "\nconclusion: " + conv[i + 1]["value"]
                yield "finish", history, span
            else:
                span = value
            history += "assistant: " + span + "</s>"
        elif who == "user":
            history += "user: " + value + "</s>"
        elif who == "observation":
            history += "observation: " + value


def parse_output(text: str) -> tuple[str, str | None, str | None, str | None]:
    """``parse_output`` of evaluate-backbone.py: (plan, action, action input, answer)."""
    if "conclusion: give up" in text:
        return "give up", None, None, None
    if "conclusion: " in text:
        return "finish", None, None, text[text.rindex("conclusion: ") + len("conclusion: ") :]
    action_input = (
        text[text.rindex("Action Input:") + len("Action Input:") :].strip() if "Action Input:" in text else "{}"
    )
    if "Action:" in text:
        action = text[text.rindex("Action:") + len("Action:") :].strip()
        if "Action Input:" in action:
            action = action[: action.index("Action Input:")].strip()
    else:
        action = "none"
    return "call", action, action_input, None


def input_f1(pred_action: str, ref_action: str, cand: str, ref: str) -> float:
    """One step of ``evaluate_action_input_f1``: 0 for another action or unreadable arguments;
    an empty reference needs empty arguments; else the F1 of matched keys (a key with another
    value counts half)."""
    if pred_action != ref_action:
        return 0.0
    try:
        ref_json = json.loads(ref)
        cand_json = json.loads(cand)
        if ref_json == {}:
            return 1.0 if cand_json == {} else 0.0
        half = full = 0
        for k, v in ref_json.items():
            if k in cand_json.keys():
                if cand_json[k] == v:
                    full += 1
                else:
                    half += 1
        recall = (0.5 * half + full) / (len(ref_json) + 1e-30)
        precision = (0.5 * half + full) / (len(cand_json) + 1e-30)
        return (2 * recall * precision) / (recall + precision)
    except Exception:  # noqa: BLE001 - the official script scores every failure here as 0
        return 0.0


def rouge_l(pred: str, ref: str) -> float:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"]).score(ref, pred)["rougeL"].fmeasure


class ToolBenchStatic:
    name = "toolbench_static"
    hub_id = None  # EvalScope's ModelScope copy is another conversion (chat messages); not read
    default_scorers: ClassVar[list[str]] = ["toolbench_step"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "system_prompt")
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        zero_shot(args)
        select_subsets(args, [*DOMAINS, *(f"{d}/{k}" for d in DOMAINS for k in KINDS)])

    def _files(self, root: Path) -> list[tuple[str, Path]]:
        found = []
        for d in DOMAINS:
            p = root / f"{d}.json" if root.is_dir() else root
            if root.is_file() and root.stem != d:
                continue
            if p.exists():
                found.append((d, p))
        if not found:
            raise AssayError(f"{self.name}: no in_domain.json or out_of_domain.json in {root}")
        return found

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "toolbench_static", "tool_bench", "toolbench", hub_id=self.hub_id)
        wanted = set(args.subset_list or [])
        files = self._files(root)
        if wanted:
            missing = {w.split("/")[0] for w in wanted} - {d for d, _ in files}
            if missing:
                raise AssayError(f"{self.name}: no {', '.join(sorted(m + '.json' for m in missing))} in {root}")
        by_subset: dict[str, list[Sample]] = {}
        for domain, path in files:
            data = read_json(path)
            if not isinstance(data, list):
                raise AssayError(f"{path}: expected a JSON list of conversations")
            for n, item in enumerate(data):
                where = f"{path}: conversation {n}"
                if not isinstance(item, dict) or not isinstance(item.get("conversations"), list):
                    raise AssayError(f"{where}: expected an object with a 'conversations' list")
                tools = item.get("tools")
                if not isinstance(tools, list) or not all(isinstance(t, dict) and "Name" in t for t in tools):
                    raise AssayError(f"{where}: 'tools' must be a list of tool docs with 'Name'")
                doc = "".join(json.dumps(t) + "\n" for t in tools)
                names = [t["Name"] for t in tools]
                prompt_head = TEMPLATE.replace("{doc}", doc).replace("{tool_names}", ", ".join(names))
                for k, (kind, history, target) in enumerate(steps(item["conversations"], where)):
                    subset = f"{domain}/{kind}"
                    if wanted and subset not in wanted and domain not in wanted:
                        continue
                    text = prompt_head.replace("{history}", history) + " assistant: "
                    messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
                    messages.append({"role": "user", "content": text})
                    by_subset.setdefault(subset, []).append(
                        Sample(
                            id=f"{domain}-{n}-{k}",
                            subset=subset,
                            messages=messages,
                            target=target,
                            metadata={
                                "tool_names": names,
                                "kind": kind,
                                "domain": domain,
                                "source": f"{where}, step {k}",
                            },
                        )
                    )
        for d in DOMAINS:
            for kind in KINDS:
                yield from by_subset.get(f"{d}/{kind}", [])


class ToolBench(ToolBenchStatic):
    name = "tool_bench"


class StepScorer:
    """The step's metrics (see the module docstring); the reply after ``</think>`` is read."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, _ = split_reasoning(generated.output)
        ref_plan, ref_action, ref_input, ref_ans = parse_output(str(sample.target))
        plan, action, action_input, ans = parse_output(answer)
        names = sample.metadata.get("tool_names") or []
        hallu = action is not None and action != "none" and action not in names
        out = [
            Score("Plan.EM", float(plan == ref_plan), extracted=plan, explanation=f"reference plan: {ref_plan}"),
            Score(
                "HalluRate", float(hallu), extracted=action, explanation="called a tool not offered" if hallu else None
            ),
        ]
        if ref_plan == "call":
            pa = "none" if action is None else action
            pi = "{}" if action_input is None else action_input
            out.append(
                Score("Act.EM", float(pa == ref_action), extracted=pa, explanation=f"reference action: {ref_action}")
            )
            out.append(Score("F1", input_f1(pa, str(ref_action), pi, str(ref_input)), extracted=pi))
        elif ref_plan == "finish":
            out.append(Score("Rouge-L", rouge_l("none" if ans is None else ans, str(ref_ans)), extracted=ans))
        return out


SCORER = StepScorer()  # the instance registered by name
