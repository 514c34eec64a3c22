"""The implementation behind assay_mmlu (see the package docstring)."""

from __future__ import annotations

from pathlib import Path

from assay.api import AssayError
from assay_mcq import MCQBenchmark, MCQItem, read_csv

__version__ = "0.1.0"

# hendrycks/test categories.py: subcategories
SUBCATEGORIES = {
    "abstract_algebra": "math",
    "anatomy": "health",
    "astronomy": "physics",
    "business_ethics": "business",
    "clinical_knowledge": "health",
    "college_biology": "biology",
    "college_chemistry": "chemistry",
    "college_computer_science": "computer science",
    "college_mathematics": "math",
    "college_medicine": "health",
    "college_physics": "physics",
    "computer_security": "computer science",
    "conceptual_physics": "physics",
    "econometrics": "economics",
    "electrical_engineering": "engineering",
    "elementary_mathematics": "math",
    "formal_logic": "philosophy",
    "global_facts": "other",
    "high_school_biology": "biology",
    "high_school_chemistry": "chemistry",
    "high_school_computer_science": "computer science",
    "high_school_european_history": "history",
    "high_school_geography": "geography",
    "high_school_government_and_politics": "politics",
    "high_school_macroeconomics": "economics",
    "high_school_mathematics": "math",
    "high_school_microeconomics": "economics",
    "high_school_physics": "physics",
    "high_school_psychology": "psychology",
    "high_school_statistics": "math",
    "high_school_us_history": "history",
    "high_school_world_history": "history",
    "human_aging": "health",
    "human_sexuality": "culture",
    "international_law": "law",
    "jurisprudence": "law",
    "logical_fallacies": "philosophy",
    "machine_learning": "computer science",
    "management": "business",
    "marketing": "business",
    "medical_genetics": "health",
    "miscellaneous": "other",
    "moral_disputes": "philosophy",
    "moral_scenarios": "philosophy",
    "nutrition": "health",
    "philosophy": "philosophy",
    "prehistory": "history",
    "professional_accounting": "other",
    "professional_law": "law",
    "professional_medicine": "health",
    "professional_psychology": "psychology",
    "public_relations": "politics",
    "security_studies": "politics",
    "sociology": "culture",
    "us_foreign_policy": "politics",
    "virology": "health",
    "world_religions": "philosophy",
}
# hendrycks/test categories.py: categories (names as EvalScope reports them)
CATEGORIES = {
    "STEM": ["physics", "chemistry", "biology", "computer science", "math", "engineering"],
    "Humanities": ["history", "philosophy", "law"],
    "Social Science": ["politics", "culture", "economics", "geography", "psychology"],
    "Other": ["other", "business", "health"],
}
SUBJECT_CATEGORY = {s: next(c for c, subs in CATEGORIES.items() if sub in subs) for s, sub in SUBCATEGORIES.items()}
SUBJECTS = sorted(SUBCATEGORIES)


class MMLU(MCQBenchmark):
    name = "mmlu"
    folders = ("mmlu", "MMLU", "data")
    hub_id = {"modelscope": "cais/mmlu", "huggingface": "cais/mmlu"}  # EvalScope's dataset id
    default_few_shot = 5
    splits = ("test", "val", "dev")
    default_split = "test"
    few_shot_split = "dev"

    def subjects(self, root: Path) -> list[str]:
        folder = root / self.split
        if not folder.is_dir():
            raise AssayError(
                f"mmlu: no {self.split}/ folder in {root} (expected {root}/{self.split}/<subject>_{self.split}.csv)"
            )
        found = sorted(p.name[: -len(f"_{self.split}.csv")] for p in folder.glob(f"*_{self.split}.csv"))
        unknown = [s for s in found if s not in SUBJECT_CATEGORY]
        if unknown:
            raise AssayError(
                f"mmlu: {folder}: file(s) for unknown subject(s) {', '.join(unknown)}; known: the 57 MMLU subjects"
            )
        if not found:
            raise AssayError(f"mmlu: no *_{self.split}.csv files in {folder}")
        return found

    def read_items(self, root: Path, subject: str, split: str) -> list[MCQItem]:
        path = root / split / f"{subject}_{split}.csv"
        items = []
        for n, (line, row) in enumerate(read_csv(path, columns=6)):
            answer = row[5].strip().upper()
            if answer not in ("A", "B", "C", "D"):
                raise AssayError(f"{path}:{line}: answer {row[5]!r} is not one of A, B, C, D")
            items.append(
                MCQItem(
                    id=str(n),
                    question=row[0],
                    choices=row[1:5],
                    answer="ABCD".index(answer),
                    subject=subject,
                    source=f"{path}:{line}",
                )
            )
        return items

    def category(self, subject: str) -> str | None:
        return SUBJECT_CATEGORY[subject]
