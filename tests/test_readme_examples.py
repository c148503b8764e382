"""The README's examples write only where nothing of the repository's lives: no tracked file is overwritten
(the DPO example once wrote over data/preference_sample/*.jsonl).
"""

import re
import subprocess
from pathlib import PurePath

from conftest import REPO

OUTPUT_FLAGS = ("--output_file", "--output_dir", "--predictions_file", "--out")


def readme_output_paths() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    pattern = rf"(?:{'|'.join(OUTPUT_FLAGS)})[ =](\S+)"
    return [path for block in blocks for path in re.findall(pattern, block)]


def test_readme_examples_write_over_no_tracked_file():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    tracked_folders = {str(p) for file in tracked for p in PurePath(file).parents}
    paths = readme_output_paths()
    assert paths, "the README's examples name no output paths: the pattern above no longer finds them"
    overwritten = [p for p in paths if p.removeprefix("./") in {*tracked, *tracked_folders}]
    assert not overwritten, f"README examples write over tracked files: {overwritten}; write under outputs/"
