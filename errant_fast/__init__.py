"""ERRANT 3.0.2 scoring (errant_parallel + errant_compare), same figures, driven fast.

    from errant_fast import score_files
    result = score_files("system.txt", "gold.m2", cat=2)
    print(result.text, end="")   # errant_compare's output
    result.f                     # F0.5 as errant_compare prints it

Imports errant and spaCy only (no ftkit): tools and rewards can use it alone.
"""

from errant_fast.annotator import MODELS, LoadedAnnotator, ModelNotFoundError, find_model, load_annotator
from errant_fast.edits import Options, SystemM2, system_m2
from errant_fast.scoring import ErrantInputError, ErrantResult, score_files

__all__ = [
    "MODELS",
    "ErrantInputError",
    "ErrantResult",
    "LoadedAnnotator",
    "ModelNotFoundError",
    "Options",
    "SystemM2",
    "find_model",
    "load_annotator",
    "score_files",
    "system_m2",
]
