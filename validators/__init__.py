"""Validators behind temporalkit's prompts and skills.

`temporalkit.validators.findings` holds the one `Finding` model that the static
rules, the dynamic checks and the picker's answer validator all report with.
This package must not import torch (the pre-commit hook imports it).
"""
