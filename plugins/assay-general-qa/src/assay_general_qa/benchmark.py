"""general_qa: EvalScope's format for a user's own question-answer files.

``dataset_args.general_qa.local_path`` (required) is a ``.jsonl`` file or a directory of
them; each file is a subset named by its stem (``subset_list`` picks files by stem).
Each line is an object with ``response`` (the reference answer) and either ``query``
(optionally with ``system``) or ``messages`` (a chat list of ``{"role", "content"}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl

ROLES = {"system", "user", "assistant"}


def _messages(row: dict, where: str, system_prompt: str | None, template: str | None) -> list[dict]:
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise AssayError(f"{where}: 'messages' must be a non-empty list")
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                raise AssayError(f"{where}: messages[{i}] must be {{'role': system|user|assistant, 'content': str}}")
        msgs = [dict(m) for m in msgs]
    elif "query" in row:
        if not isinstance(row["query"], str):
            raise AssayError(f"{where}: 'query' must be a string")
        query = row["query"]
        if template:
            try:
                query = template.format(query=query)
            except (KeyError, IndexError) as exc:
                raise AssayError(
                    f"general_qa: prompt_template names an unknown field {exc}; available: {{query}}"
                ) from None
        msgs = [{"role": "user", "content": query}]
        if isinstance(row.get("system"), str) and row["system"]:
            msgs.insert(0, {"role": "system", "content": row["system"]})
    else:
        raise AssayError(f"{where}: needs 'query' or 'messages' (has: {', '.join(sorted(row)) or 'nothing'})")
    if system_prompt and msgs[0]["role"] != "system":
        msgs.insert(0, {"role": "system", "content": system_prompt})
    return msgs


class GeneralQA:
    name = "general_qa"
    default_scorers: ClassVar[list[str]] = ["qa_exact_match", "qa_bleu", "qa_rouge"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "prompt_template", "system_prompt")

    def __init__(self, args: BenchmarkArgs) -> None:
        if not args.local_path:
            raise AssayError(
                'general_qa needs your files: --dataset-args \'{"general_qa": {"local_path": "DIR_OR_FILE.jsonl"}}\' '
                "(JSONL lines with 'query' or 'messages', and 'response')"
            )
        self.args = args

    def files(self) -> list[Path]:
        base = locate(self.args)
        if base.is_file():
            files = [base]
        else:
            files = sorted(base.glob("*.jsonl"))
            if not files:
                raise AssayError(f"general_qa: no .jsonl files in {base}")
        if self.args.subset_list:
            by_stem = {f.stem: f for f in files}
            missing = [s for s in self.args.subset_list if s not in by_stem]
            if missing:
                raise AssayError(
                    f"general_qa: no file for subset(s) {missing} in {base}; found: {', '.join(sorted(by_stem))}"
                )
            files = [by_stem[s] for s in self.args.subset_list]
        return files

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        for path in self.files():
            for no, row in read_jsonl(path):
                where = f"{path}:{no}"
                if "response" not in row or not isinstance(row["response"], str):
                    raise AssayError(f"{where}: missing string key 'response' (the reference answer)")
                yield Sample(
                    id=str(row.get("id", no)),
                    subset=path.stem,
                    messages=_messages(row, where, args.system_prompt, args.prompt_template),
                    target=row["response"],
                )
