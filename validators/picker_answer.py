"""Former home of the picker's answer validator, now `temporalkit.picker.answer`.

Kept because the README (and code written against it) imports `validate_answer` from here; new code
imports `from temporalkit.picker import validate_answer`. Importing this module imports the picker
(pydantic), which nothing on the static path does.
"""

from temporalkit.picker.answer import *  # noqa: F401,F403
from temporalkit.picker.answer import (  # noqa: F401 - the names callers used, private ones included
    ESTIMATE_TOLERANCE,
    FEW_CLIPS,
    PICKER_CATEGORIES,
    ExtractedJSON,
    allowed_sampling,
    extract_json,
    parse_answer,
    validate_answer,
)
