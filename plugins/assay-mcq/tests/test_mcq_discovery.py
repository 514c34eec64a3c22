"""Contract: the installed assay-mcq distribution is found through its entry point."""

from __future__ import annotations

from importlib import metadata

from assay.plugins import PluginHost


def test_entry_point_and_scorers() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "mcq"]
    assert (p.distribution, p.version) == ("assay-mcq", metadata.version("assay-mcq"))
    assert [ep.value for ep in metadata.entry_points(group="assay", name="mcq")] == ["assay_mcq"]
    scorers = host.scorers()
    assert scorers["mcq_letter"].distribution == "assay-mcq"
    assert scorers["mcq_loglik"].distribution == "assay-mcq"
    assert not [f for f in host.failures if f.plugin == "mcq"]
