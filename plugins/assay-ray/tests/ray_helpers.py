"""Helpers of assay-ray's tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

SECOND_RESOURCE = "assay_second"  # the custom resource of the cluster's second node
