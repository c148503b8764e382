"""ERRANT 3.0.2 scoring (errant_parallel + errant_compare), same figures, driven fast.

    from errant_fast import score_files
    result = score_files("system.txt", "gold.m2", cat=2)
    print(result.text, end="")   # errant_compare's output
    result.f                     # F0.5 as errant_compare prints it

Imports errant and spaCy only (no ftkit): tools and rewards can use it alone. The names below are
imported on first use, not with the package: the errant-score command (errant_fast.cli) must keep
PyTorch out before anything imports spaCy.
"""

import importlib

_MODULES = {
    "MODELS": "annotator",
    "LoadedAnnotator": "annotator",
    "ModelNotFoundError": "annotator",
    "find_model": "annotator",
    "load_annotator": "annotator",
    "Options": "edits",
    "SystemM2": "edits",
    "system_m2": "edits",
    "ErrantInputError": "scoring",
    "ErrantResult": "scoring",
    "score_files": "scoring",
}
__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
