"""Discovery contract: the installed entry point is found with its distribution, version and names."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from assay.plugins import PluginHost

NAMES = {"stsb", "sick", "sts", "retrieval", "reranking", "rag"}
EVENTS = {"EncoderLoaded", "EncodingTimed", "SimilarityComputed", "Retrieved", "RagJudged"}


def test_plugin_host_finds_the_entry_point_and_its_names():
    host = PluginHost()
    found = [p for p in host.loaded if p.name == "embeddings"]
    assert found, [p.name for p in host.loaded]
    assert found[0].distribution == "assay-embeddings"
    assert found[0].version == metadata.version("assay-embeddings")
    assert [ep.value for ep in metadata.entry_points(group="assay", name="embeddings")] == ["assay_embeddings"]
    benches = host.benchmarks()
    assert NAMES <= set(benches)
    assert all(benches[n].distribution == "assay-embeddings" for n in NAMES)
    assert EVENTS <= set(host.bodies().types())
    assert not [f for f in host.failures if f.distribution == "assay-embeddings"]


def test_listing_the_plugin_imports_no_heavy_library():
    # only this plugin is registered, so whatever heavy module shows up was pulled in by it
    code = (
        "import sys\n"
        "from assay.plugins import PluginHost\n"
        "import assay_embeddings\n"
        "h = PluginHost(entry_points=False)\n"
        "h.register_module(assay_embeddings, 'embeddings')\n"
        "assert 'stsb' in h.benchmarks() and 'EncodingTimed' in h.bodies().types()\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'openai', 'pytrec_eval', 'scipy')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
