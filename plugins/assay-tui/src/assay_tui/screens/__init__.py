"""One module per screen of ``assay view``."""
