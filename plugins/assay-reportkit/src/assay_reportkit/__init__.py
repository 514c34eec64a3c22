"""assay-reportkit: what reporter and tracker plugins share (a shared library, no entry point).

- :mod:`assay_reportkit.tables`: :class:`~assay_reportkit.tables.TableReporter` (a declared table section of
  inert text), ``render_table`` / ``render_matrix``, ``read_bodies`` (a projection's decode loop);
- :mod:`assay_reportkit.passk`: the unbiased pass@k estimator and :class:`~assay_reportkit.passk.Repeats`, the
  fold of a log's repeats of each problem;
- :mod:`assay_reportkit.trackers`: the ``$ASSAY_TRACKERS`` switch and the figures experiment trackers
  (assay-wandb, assay-swanlab) log, folded from the event stream.

These were the kernel's ``assay.tables``, ``assay.passk`` and ``assay.trackers`` (issue 11).
"""
