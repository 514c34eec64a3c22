"""assay-bfcl: the Berkeley Function-Calling Leaderboard v3 (single-turn categories).

Function docs go to the model as OpenAI ``tools`` (BFCL's FC mode); the reply's tool calls
are checked by a port of BFCL's AST checker (``ast_checker.py``), or, for the relevance
categories, by whether the reply calls a function at all. See the README for what is not
covered (Java, JavaScript, multi-turn).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "bfcl_v3",
        "assay_bfcl.benchmark:BFCLv3",
        description="BFCL v3: function calling via the tools API, BFCL's AST checker (11 single-turn categories)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "bfcl_ast",
        "assay_bfcl.checker:SCORER",
        description="BFCL: tool calls pass the AST checker (or call / do not call a function, for relevance)",
    )
