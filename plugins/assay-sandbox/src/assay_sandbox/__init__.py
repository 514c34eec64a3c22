"""Sandboxes for assay: where model-written code runs."""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__getattr__ = lazy_attributes("assay_sandbox", "core")


@hookimpl
def assay_sandboxes(register: Any) -> None:
    register(
        "bwrap",
        "assay_sandbox.core:BwrapSandbox",
        description="bubblewrap as an unprivileged uid: no network, read-only system, private /tmp, rlimits",
    )
    register(
        "unsafe_no_sandbox",
        "assay_sandbox.core:NoSandbox",
        description="NO isolation: the program runs as this user with rlimits and a timeout only",
    )
