"""The template's and the walkthrough's own tests run against an installed copy, out of the repository
(tests/e2e/test_contrib_examples.py installs them and runs them there), not in place."""

collect_ignore = ["assay-plugin-template", "walkthrough"]
