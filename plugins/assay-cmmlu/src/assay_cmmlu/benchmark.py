"""The implementation behind assay_cmmlu (see the package docstring)."""

from __future__ import annotations

from pathlib import Path

from assay.api import AssayError
from assay_mcq import MCQBenchmark, MCQItem, PromptStyle, read_csv_dicts

__version__ = "0.1.0"

# haonan-li/CMMLU src/categories.py: name_en2zh
NAME_ZH = {
    "agronomy": "农学",
    "anatomy": "解剖学",
    "ancient_chinese": "古汉语",
    "arts": "艺术学",
    "astronomy": "天文学",
    "business_ethics": "商业伦理",
    "chinese_civil_service_exam": "中国公务员考试",
    "chinese_driving_rule": "中国驾驶规则",
    "chinese_food_culture": "中国饮食文化",
    "chinese_foreign_policy": "中国外交政策",
    "chinese_history": "中国历史",
    "chinese_literature": "中国文学",
    "chinese_teacher_qualification": "中国教师资格",
    "clinical_knowledge": "临床知识",
    "college_actuarial_science": "大学精算学",
    "college_education": "大学教育学",
    "college_engineering_hydrology": "大学工程水文学",
    "college_law": "大学法律",
    "college_mathematics": "大学数学",
    "college_medical_statistics": "大学医学统计",
    "college_medicine": "大学医学",
    "computer_security": "计算机安全",
    "conceptual_physics": "概念物理学",
    "construction_project_management": "建设工程管理",
    "economics": "经济学",
    "education": "教育学",
    "electrical_engineering": "电气工程",
    "elementary_chinese": "小学语文",
    "elementary_commonsense": "小学常识",
    "elementary_information_and_technology": "小学信息技术",
    "elementary_mathematics": "初等数学",
    "ethnology": "民族学",
    "food_science": "食品科学",
    "genetics": "遗传学",
    "global_facts": "全球事实",
    "high_school_biology": "高中生物",
    "high_school_chemistry": "高中化学",
    "computer_science": "计算机科学",
    "high_school_geography": "高中地理",
    "high_school_mathematics": "高中数学",
    "high_school_physics": "高中物理学",
    "high_school_politics": "高中政治",
    "human_sexuality": "人类性行为",
    "international_law": "国际法学",
    "journalism": "新闻学",
    "jurisprudence": "法理学",
    "legal_and_moral_basis": "法律与道德基础",
    "logical": "逻辑学",
    "machine_learning": "机器学习",
    "management": "管理学",
    "marketing": "市场营销",
    "marxist_theory": "马克思主义理论",
    "modern_chinese": "现代汉语",
    "nutrition": "营养学",
    "philosophy": "哲学",
    "professional_accounting": "专业会计",
    "professional_law": "专业法学",
    "professional_medicine": "专业医学",
    "professional_psychology": "专业心理学",
    "public_relations": "公共关系",
    "security_study": "安全研究",
    "sociology": "社会学",
    "sports_science": "体育学",
    "traditional_chinese_medicine": "中医中药",
    "virology": "病毒学",
    "world_history": "世界历史",
    "world_religions": "世界宗教",
}
# haonan-li/CMMLU src/categories.py: subcategories
SUBCATEGORIES: dict[str, list[str]] = {
    "agronomy": ["other"],
    "anatomy": ["biology"],
    "ancient_chinese": ["linguistics", "china specific"],
    "arts": ["arts"],
    "astronomy": ["physics"],
    "business_ethics": ["business"],
    "chinese_civil_service_exam": ["politics", "china specific"],
    "chinese_driving_rule": ["other", "china specific"],
    "chinese_food_culture": ["culture", "china specific"],
    "chinese_foreign_policy": ["politics", "china specific"],
    "chinese_history": ["history", "china specific"],
    "chinese_literature": ["literature", "china specific"],
    "chinese_teacher_qualification": ["education", "china specific"],
    "college_actuarial_science": ["math"],
    "college_education": ["education"],
    "college_engineering_hydrology": ["engineering"],
    "college_law": ["law"],
    "college_mathematics": ["math"],
    "college_medical_statistics": ["statistics"],
    "clinical_knowledge": ["other"],
    "college_medicine": ["other"],
    "computer_security": ["other"],
    "conceptual_physics": ["physics"],
    "construction_project_management": ["other", "china specific"],
    "economics": ["economics"],
    "education": ["education"],
    "elementary_chinese": ["linguistics", "china specific"],
    "elementary_commonsense": ["other", "china specific"],
    "elementary_information_and_technology": ["other"],
    "electrical_engineering": ["engineering"],
    "elementary_mathematics": ["math"],
    "ethnology": ["culture", "china specific"],
    "food_science": ["other"],
    "genetics": ["biology"],
    "global_facts": ["global"],
    "high_school_biology": ["biology"],
    "high_school_chemistry": ["chemistry"],
    "computer_science": ["computer science"],
    "high_school_geography": ["geography"],
    "high_school_mathematics": ["math"],
    "high_school_physics": ["physics"],
    "high_school_politics": ["politics", "china specific"],
    "human_sexuality": ["other"],
    "international_law": ["law"],
    "journalism": ["sociology"],
    "jurisprudence": ["law"],
    "legal_and_moral_basis": ["other"],
    "logical": ["philosophy"],
    "machine_learning": ["computer science"],
    "management": ["business"],
    "marketing": ["business"],
    "marxist_theory": ["philosophy"],
    "modern_chinese": ["linguistics", "china specific"],
    "nutrition": ["other"],
    "philosophy": ["philosophy"],
    "professional_accounting": ["business"],
    "professional_law": ["law"],
    "professional_medicine": ["other"],
    "professional_psychology": ["psychology"],
    "public_relations": ["politics"],
    "security_study": ["politics"],
    "sociology": ["culture"],
    "sports_science": ["other"],
    "traditional_chinese_medicine": ["other", "china specific"],
    "virology": ["biology"],
    "world_history": ["history"],
    "world_religions": ["global"],
}
# haonan-li/CMMLU src/categories.py: categories
CATEGORIES = {
    "STEM": ["physics", "chemistry", "biology", "computer science", "math", "engineering", "statistics"],
    "Humanities": ["history", "philosophy", "law", "arts", "literature", "global"],
    "Social Science": [
        "linguistics",
        "business",
        "politics",
        "culture",
        "economics",
        "geography",
        "psychology",
        "education",
        "sociology",
    ],
    "Other": ["other"],
    "China specific": ["china specific"],
}


def categories_of(subject: str) -> list[str]:
    """Every official group of a subject, in the order of its subcategories."""
    out = []
    for sub in SUBCATEGORIES[subject]:
        for cat, subs in CATEGORIES.items():
            if sub in subs and cat not in out:
                out.append(cat)
    return out


STYLE = PromptStyle(
    header="以下是关于{subject}的单项选择题，请直接给出正确答案的选项。\n\n",
    question_prefix="题目：",
    answer_prefix="答案是：",
    answer_sep="",
)


class CMMLU(MCQBenchmark):
    name = "cmmlu"
    folders = ("cmmlu", "CMMLU")
    hub_id = {"modelscope": "evalscope/cmmlu", "huggingface": "haonan-li/cmmlu"}  # EvalScope's dataset id
    default_few_shot = 5
    splits = ("test", "dev")
    default_split = "test"
    few_shot_split = "dev"

    def subjects(self, root: Path) -> list[str]:
        folder = root / self.split
        if not folder.is_dir():
            raise AssayError(f"cmmlu: no {self.split}/ folder in {root} (expected {root}/{self.split}/<subject>.csv)")
        found = sorted(p.stem for p in folder.glob("*.csv"))
        unknown = [s for s in found if s not in SUBCATEGORIES]
        if unknown:
            raise AssayError(f"cmmlu: {folder}: file(s) for unknown subject(s) {', '.join(unknown)}")
        if not found:
            raise AssayError(f"cmmlu: no <subject>.csv files in {folder}")
        return found

    def read_items(self, root: Path, subject: str, split: str) -> list[MCQItem]:
        path = root / split / f"{subject}.csv"
        items = []
        for n, (line, row) in enumerate(read_csv_dicts(path, required=("question", "a", "b", "c", "d", "answer"))):
            answer = row["answer"].strip().upper()
            if answer not in ("A", "B", "C", "D"):
                raise AssayError(f"{path}:{line}: Answer {row['answer']!r} is not one of A, B, C, D")
            rid = (row.get("") or "").strip() or str(n)
            items.append(
                MCQItem(
                    id=rid,
                    question=row["question"],
                    choices=[row["a"], row["b"], row["c"], row["d"]],
                    answer="ABCD".index(answer),
                    subject=subject,
                    source=f"{path}:{line}",
                    extra={"china_specific": True} if "china specific" in SUBCATEGORIES[subject] else {},
                )
            )
        return items

    def category(self, subject: str) -> str | None:
        return categories_of(subject)[0]

    def more_categories(self, subject: str) -> list[str]:
        return categories_of(subject)[1:]

    def style(self, subject: str) -> PromptStyle:
        return STYLE

    def subject_label(self, subject: str) -> str:
        return NAME_ZH[subject]
