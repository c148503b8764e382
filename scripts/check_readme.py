"""Check the README's figures that come from files or code in this repository, without running long jobs.

Usage:
    python scripts/check_readme.py [--readme README.md] [--data ../shared/gec-data]

What it checks (each figure against what it is quoted from):
  commands         every paragraph, table and fenced block quoting a measured figure (a time, a speed, a
                   memory size, a ratio, a score) has the command that produced it (or "source: `FILE`",
                   the file it comes from) in it, in the paragraph, table or block just before or after it in
                   the same section, or in the heading just above it; or one of those says its figures are
                   "an illustration, not a measurement";
  estimate_memory  the table after `python scripts/estimate_memory.py --params P --gpus G`, and the host
                   memory quoted as "N GiB for 7B", equal what scripts/estimate_memory.py computes;
  m2 example       the M2 scorer's figures on the README's own example gold and output (release 3.2, and
                   --compat master), scored again;
  m2 compat        the release 3.2 / master table and its counts ("13 of the 146 pairs") equal OFFICIAL
                   and MASTER in tests/test_m2scorer_reference.py (the official scorer's figures), and the
                   quoted `Precision   : 0.3971` is the CoNLL-2014 output named beside it;
  errant           the ERRANT table's rows equal the same systems' lines in the bench_errant output;
  demo             the SFT demo's F0.5 quoted elsewhere equals the demo's results row;
  settings         the intervals quoted from the code (progress every 30 s, --logging_steps 0.02) are the
                   constants in ftkit/;
  data             with the GEC data (--data, $GEC_DATA or ../shared/gec-data): the NLPCC-2018 gold line
                   the README quotes is that line of the file.
Measured times and speeds (benchmarks, the demo, the test suite) cannot be recomputed here: the commands
check only says where each comes from. Prints one line per problem (README.md:LINE: ...) and exits 1 when
there is any, 0 when there is none, 2 when the README cannot be read.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DEFAULT_DATA = REPO.parent / "shared" / "gec-data"
REFERENCE_TEST = REPO / "tests" / "test_m2scorer_reference.py"

# A measured figure: a number with a unit of time, speed, memory or ratio, or a score with 3+ decimals
# ("every 30 s" is an interval, a setting).
FIGURE = re.compile(
    r"(?<![\w.-])(?<!every )(?:\d+(?:\.\d+)?\s*(?:s|ms|min|minutes|GiB|GB|MB|GB/s|%|×|x)(?![\w/])"
    r"|\d+\.\d+ sentences/s|0\.\d{3,})"
)
# A command as the README writes one: in a `code span` or at the start of a line of a fenced block.
COMMAND = re.compile(
    r"\s*(?:\$ )?(?:[A-Z_]+=\S*\s+)*(?:time\s+)?(?:python3?|bash|deepspeed|standard_eval_datasets)\s\S"
)
# A figure's source file, named so: "source: `deepspeed/ops/csrc/cpu/comm/shm.cpp`".
SOURCE = re.compile(r"source: `[\w./-]+\.(?:py|cpp|json|md)`")
NEARBY = 1  # chunks either side
# What a paragraph says of figures that no command produced (an example of a log line's form).
ILLUSTRATION = "an illustration, not a measurement"


@dataclass
class Chunk:
    kind: str  # "heading", "paragraph" (or list item), "table" or "block" (fenced)
    line: int  # 1-based line of its first line
    text: str


def chunks(readme: str) -> list[Chunk]:
    """The README as headings, paragraphs, tables and fenced blocks, in order."""
    result: list[Chunk] = []
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```"):
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines)
            )
            result.append(Chunk("block", i + 1, "\n".join(lines[i : end + 1])))
            i = end + 1
        elif stripped.startswith("#"):
            result.append(Chunk("heading", i + 1, stripped))
            i += 1
        else:
            kind = "table" if stripped.startswith("|") else "paragraph"
            start = i
            while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(("```", "#")):
                if (kind == "table") != lines[i].strip().startswith("|") or (i > start and _item(lines[i])):
                    break
                i += 1
            result.append(Chunk(kind, start + 1, "\n".join(lines[start:i])))
    return result


def _item(line: str) -> bool:
    """A line that starts a list item: each item is a paragraph of its own."""
    return re.match(r"\s*(?:[-*]|\d+\.) ", line) is not None


def has_command(chunk: Chunk) -> bool:
    """The chunk shows a command, or names the source file its figures are read or computed from."""
    if chunk.kind == "block":
        return any(COMMAND.match(line) for line in chunk.text.splitlines()[1:-1])
    spans = re.findall(r"`([^`]+)`", chunk.text)
    return any(COMMAND.match(span) for span in spans) or SOURCE.search(chunk.text) is not None


def figures(chunk: Chunk) -> list[str]:
    """The measured figures a chunk quotes. Commands and `code spans` are left out: `--beta 0.5` is a
    setting, `5GB` a default."""
    if chunk.kind == "block":
        if chunk.text.lstrip().startswith(("```bash", "```python")):
            return []
        text = "\n".join(line for line in chunk.text.splitlines()[1:-1] if not COMMAND.match(line))
    else:
        text = re.sub(r"`[^`]*`", "", chunk.text)
    return FIGURE.findall(text)


def neighbours(parts: list[Chunk], i: int) -> list[Chunk]:
    """Chunk i and up to NEARBY chunks either side within its section (the heading above included)."""
    near = [parts[i]]
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(parts) and abs(j - i) <= NEARBY:
            if parts[j].kind == "heading":
                near += [parts[j]] if step == -1 else []
                break
            near.append(parts[j])
            j += step
    return near


def check_commands(parts: list[Chunk]) -> list[tuple[int, str]]:
    problems = []
    for i, chunk in enumerate(parts):
        found = figures(chunk) if chunk.kind != "heading" else []
        near = neighbours(parts, i)
        if found and not any(has_command(c) or ILLUSTRATION in c.text for c in near):
            problems.append(
                (
                    chunk.line,
                    f"{', '.join(' '.join(f.split()) for f in found[:3])}: no command beside these figures",
                )
            )
    return problems


def line_at(readme: str, index: int) -> int:
    """The 1-based line of character `index`."""
    return readme.count("\n", 0, max(index, 0)) + 1


def _number_matches(quoted: str, value: float) -> bool:
    """`quoted` is `value` rounded to as many decimals as it shows."""
    decimals = len(quoted.partition(".")[2])
    return abs(float(quoted) - value) <= 0.5 * 10**-decimals + 1e-9


def check_estimate_memory(readme: str, parts: list[Chunk]) -> list[tuple[int, str]]:
    from ftkit.commands.estimate_memory import DEFAULT_LARGEST_LAYER_SHARE, GIB, estimate, parse_count

    def rows_for(params: int, gpus: int) -> dict:
        rows = estimate(params, int(params * DEFAULT_LARGEST_LAYER_SHARE), gpus)
        return {(row.stage, row.offload): row for row in rows}

    labels = {
        "no ZeRO (16 B/param)": (0, "none"),
        "ZeRO-1": (1, "none"),
        "ZeRO-2": (2, "none"),
        "ZeRO-2 + optimizer offload": (2, "optimizer"),
        "ZeRO-3": (3, "none"),
        "ZeRO-3 + optimizer and parameter offload": (3, "optimizer+params"),
    }
    problems = []
    tables, gpus = 0, 0
    for i, chunk in enumerate(parts[:-1]):
        command = re.search(r"estimate_memory\.py --params (\S+) --gpus (\d+)`", chunk.text)
        table = parts[i + 1]
        if not command or table.kind != "table":
            continue
        tables, gpus = tables + 1, int(command[2])
        rows = rows_for(parse_count(command[1]), gpus)
        for n, line in enumerate(table.text.splitlines()[2:]):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0] not in labels:
                problems.append((table.line + 2 + n, f"estimate_memory table: unknown row {cells[0]!r}"))
                continue
            row = rows[labels[cells[0]]]
            computed = [row.gpu_bytes / GIB, row.cpu_bytes / GIB]
            for quoted, value in zip(cells[1:3], computed, strict=True):
                if quoted and not _number_matches(quoted.removesuffix(" GiB"), value):
                    problems.append(
                        (table.line + 2 + n, f"{cells[0]}: README {quoted}, script {value:.1f} GiB")
                    )
            expected = [row.cpu_when, f"`{row.ds_config}`" if row.ds_config else ""]
            if cells[3:5] != expected:
                problems.append((table.line + 2 + n, f"{cells[0]}: README {cells[3:5]}, script {expected}"))
    if not tables:
        problems.append((1, "no table after `python scripts/estimate_memory.py --params P --gpus G`"))
    # "134 GiB for 3B on 8 GPUs, 313 GiB for 7B": the load copies of every process (ZeRO-1/2's CPU figure),
    # on the GPUs stated, else on the table's.
    for match in re.finditer(r"(\d+) GiB for (\d+)B(?: on (\d+) GPUs)?", readme):
        row = rows_for(int(match[2]) * 10**9, int(match[3] or gpus))[1, "none"]
        quoted = match[1]
        if not _number_matches(quoted, row.cpu_bytes / GIB):
            line = line_at(readme, match.start())
            problems.append((line, f"{match[0]}: the script gives {row.cpu_bytes / GIB:.1f} GiB"))
    return problems


def reference_figures() -> tuple[list[tuple], dict]:
    """OFFICIAL and MASTER from tests/test_m2scorer_reference.py, read without importing the test."""
    values = {}
    for node in ast.parse(REFERENCE_TEST.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in ("OFFICIAL", "MASTER"):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values["OFFICIAL"], values["MASTER"]


def check_m2_example(readme: str) -> list[tuple[int, str]]:
    from m2scorer import score_files

    example = re.search(
        r"Example \(the issue's\): gold\n```\n(.*?)```\nand the output (.*?):\n", readme, re.S
    )
    if not example:
        return [(1, "the M2 scorer's example (`Example (the issue's): gold`) is not found")]
    outputs = re.findall(r"`([^`]+)`", example[2])
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        gold, system = Path(tmp, "gold.m2"), Path(tmp, "out.txt")
        gold.write_text(example[1], encoding="utf-8")
        system.write_text("".join(line + "\n" for line in outputs), encoding="utf-8")
        for flag, compat in (("", "3.2"), ("--compat master ", "master")):
            command = f"`python -m m2scorer {flag}out.txt gold.m2` gives "
            quoted = re.search(re.escape(command) + r"(\S+) / (\S+) / (\S+)", readme)
            result = score_files(system, gold, compat=compat)
            scored = [f"{result.precision:.4f}", f"{result.recall:.4f}", f"{result.f:.4f}"]
            if not quoted:
                problems.append(
                    (line_at(readme, readme.find("Example (the issue's)")), f"no figures after {command}")
                )
            elif list(quoted.groups()) != scored:
                line = line_at(readme, readme.find(command))
                problems.append(
                    (line, f"{compat}: README {' / '.join(quoted.groups())}, scored {' / '.join(scored)}")
                )
    return problems


def check_m2_compat(readme: str, parts: list[Chunk]) -> list[tuple[int, str]]:
    official, master = reference_figures()
    prf = {(system, gold, char): figures for system, gold, char, *_, figures in official}
    problems = []
    table = next(
        (c for c in parts if c.kind == "table" and "| release 3.2 (default) | master |" in c.text), None
    )
    if table is None:
        return [(1, "the release 3.2 / master table is not found")]
    for n, line in enumerate(table.text.splitlines()[2:]):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        output, gold = (re.search(r"`([^`]+)`", cell) for cell in cells[:2])
        if output is None:  # the CoNLL-2014 row: no output of the shared data's CoNLL-2014 golds differs
            conll = [key for key in master if "conll14" in key[1]]
            if cells[2:] != ["same", "same"] or conll:
                problems.append((table.line + 2 + n, f"CoNLL-2014 row, but MASTER differs on {conll}"))
            continue
        char = "--char_level" in cells[0]
        keys = [k for k in prf if k[0].endswith(output[1]) and k[1].endswith(gold[1]) and k[2] == char]
        if len(keys) != 1:
            problems.append((table.line + 2 + n, f"{output[1]} on {gold[1]}: {len(keys)} rows in OFFICIAL"))
            continue
        expected = [prf[keys[0]].replace(" ", " / "), master[keys[0]][3].replace(" ", " / ")]
        if cells[2:] != expected:
            problems.append((table.line + 2 + n, f"{output[1]}: README {cells[2:]}, reference {expected}"))
    bea_outputs = [row for row in official if row[1].endswith("bea-dev.m2") and "system_preds" in row[0]]
    counts = {  # (pairs that differ, pairs)
        "pairs in all": (len(master), len(official)),
        "BEA-dev system outputs": (sum(1 for k in master if k[1].endswith("bea-dev.m2")), len(bea_outputs)),
    }
    for match in re.finditer(r"(\d+) of the (\d+) (BEA-dev system outputs|pairs in all)", readme):
        differ, total = counts[match[3]]
        if (int(match[1]), int(match[2])) != (differ, total):
            line = line_at(readme, match.start())
            problems.append((line, f"{match[0]}: the reference tables give {differ} of {total}"))
    for match in re.finditer(r"`Precision +: (0\.\d{4})` for ([\w-]+) on CoNLL-2014", readme):
        row = next((r for r in official if r[0].endswith("/" + match[2]) and "combined.m2" in r[1]), None)
        if row is None or row[6].split()[0] != match[1]:
            line = line_at(readme, match.start())
            problems.append((line, f"{match[0]}: OFFICIAL gives {row and row[6].split()[0]}"))
    return problems


def check_errant(readme: str, parts: list[Chunk]) -> list[tuple[int, str]]:
    table = next(
        (c for c in parts if c.kind == "table" and c.text.startswith("| system output | TP |")), None
    )
    block = next((c for c in parts if c.kind == "block" and "scripts/bench_errant.py" in c.text), None)
    if table is None or block is None:
        return [(1, "the ERRANT table or the bench_errant output is not found")]
    # Each system's block starts with a "NAME:" line; its figures follow on the library call's line.
    printed: dict[str, list[str]] = {}
    system = None
    for line in block.text.splitlines():
        if header := re.fullmatch(r"(\S+):", line):
            system = header[1]
        elif system and (m := re.search(r"TP (\d+) FP (\d+) FN (\d+) P (\S+) R (\S+) F0\.5 ([\d.]+);", line)):
            printed.setdefault(system, list(m.groups()))
        elif not line.startswith(" "):
            system = None  # the mixed "next checkpoint" output, or the summary lines
    problems = []
    for n, line in enumerate(table.text.splitlines()[2:]):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in printed and cells[1:] != printed[cells[0]]:
            problems.append(
                (table.line + 2 + n, f"{cells[0]}: table {cells[1:]}, bench_errant {printed[cells[0]]}")
            )
    if not set(printed) & {line.split("|")[1].strip() for line in table.text.splitlines()[2:]}:
        problems.append((table.line, "no system of the ERRANT table is in the bench_errant output"))
    return problems


def check_demo(readme: str) -> list[tuple[int, str]]:
    row = re.search(r"^\| (\d+) \| sample \| m2 \| \d+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", readme, re.M)
    if not row:
        return [(1, "the demo's results row (`| STEP | sample | m2 | ...`) is not found")]
    problems = []
    for match in re.finditer(r"SFT demo's (?:F0\.5 )?(0\.\d+)", readme):
        if match[1] != row[2]:
            line = line_at(readme, match.start())
            problems.append((line, f"{match[0]}: the demo's row gives F0.5 {row[2]}"))
    return problems


# Settings the README quotes: (what it says, the file, the constant the figure is).
CODE_FIGURES = [
    (r"every (\d+) s, the sentences done", "ftkit/training.py", r"^PROGRESS_SECONDS = ([\d.]+)$"),
    (
        r"every stage logs \d+ times a run \(`--logging_steps ([\d.]+)`",
        "ftkit/args.py",
        r"^LOGGING_STEPS = ([\d.]+)$",
    ),
]


def check_code(readme: str) -> list[tuple[int, str]]:
    problems = []
    for quote, file, constant in CODE_FIGURES:
        quoted = re.search(quote, readme)
        value = re.search(constant, (REPO / file).read_text(encoding="utf-8"), re.M)
        if quoted is None or value is None or float(quoted[1]) != float(value[1]):
            line = line_at(readme, quoted.start()) if quoted else 1
            found = value[0] if value else "no such constant"
            problems.append((line, f"{quoted[0] if quoted else quote!r}: {file} has {found}"))
    return problems


def check_data(readme: str, data: Path) -> list[tuple[int, str]]:
    problems = []
    for match in re.finditer(r"NLPCC-2018 test gold has one, line (\d+) `([^`]+)`", readme):
        lines = (data / "nlpcc18" / "nlpcc18.gold.m2").read_text(encoding="utf-8").splitlines()
        number = int(match[1])
        found = lines[number - 1] if number <= len(lines) else ""
        if not found.startswith(match[2] + "|||"):
            line = line_at(readme, match.start())
            problems.append((line, f"nlpcc18.gold.m2 line {number} is {found[:40]!r}, not {match[2]!r}"))
    return problems


def check(readme_path: Path, data: Path | None) -> list[str]:
    """Every problem found, as `README.md:LINE: what`."""
    readme = readme_path.read_text(encoding="utf-8")
    parts = chunks(readme)
    problems = check_commands(parts)
    problems += check_estimate_memory(readme, parts)
    problems += check_m2_example(readme)
    problems += check_m2_compat(readme, parts)
    problems += check_errant(readme, parts)
    problems += check_demo(readme)
    problems += check_code(readme)
    if data is not None and data.is_dir():
        problems += check_data(readme, data)
    return [f"{readme_path.name}:{line}: {what}" for line, what in sorted(problems)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GEC_DATA", DEFAULT_DATA)))
    args = parser.parse_args(argv)
    try:
        problems = check(args.readme, args.data)
    except OSError as e:
        print(f"check_readme: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    checked = "" if args.data.is_dir() else f" (no GEC data at {args.data}: its check skipped)"
    print(f"{len(problems)} problem(s) in {args.readme}{checked}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
