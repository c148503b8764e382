"""errant_fast against ERRANT 3.0.2's own CLI logic (errant_parallel + errant_compare) on a BEA-2019 dev
excerpt from ../shared/gec-data (non-commercial data: read there, written only to tmp_path; the tests
are skipped without it): the M2 blocks edit by edit, the printed tables, the alignment matrices cell by cell.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from errant.alignment import Alignment
from spacy.tokens import Doc, DocBin

from errant_fast import Options, find_model, load_annotator, reference, score_files, system_m2
from errant_fast import cli as errant_score
from errant_fast.alignment import FastAlignment
from errant_fast.cache import Cache
from errant_fast.edits import CHUNK, split

REPO = Path(__file__).resolve().parents[1]

PILLARS = Path(os.environ.get("GEC_DATA", REPO.parent / "shared" / "gec-data")) / "pillars-of-gec"
BEA_GOLD = PILLARS / "evaluation_sets" / "bea-dev.m2"
OUTPUTS = PILLARS / "system_preds" / "single_systems"
pytestmark = pytest.mark.skipif(not BEA_GOLD.is_file(), reason=f"{BEA_GOLD} not available")
SENTENCES = 40


@pytest.fixture(scope="module")
def loaded():
    return load_annotator()


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    """The first SENTENCES sentences of BEA-dev: gold, source and two systems' outputs."""
    folder = tmp_path_factory.mktemp("bea")
    blocks = BEA_GOLD.read_text(encoding="utf-8").strip().split("\n\n")[:SENTENCES]
    (folder / "gold.m2").write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    (folder / "source.txt").write_text("".join(b.split("\n")[0][2:] + "\n" for b in blocks), encoding="utf-8")
    for name in ("T5-11B", "CTC-Copy"):
        lines = (OUTPUTS / f"{name}___bea-dev.txt").read_text(encoding="utf-8").split("\n")[:SENTENCES]
        (folder / f"{name}.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cli(excerpt: Path, system: str, parallel_flags=(), compare_flags=()) -> tuple[list[str], str]:
    hyp = excerpt / f"{system}.{'_'.join(parallel_flags)}.m2"
    reference.errant_parallel(excerpt / "source.txt", excerpt / f"{system}.txt", hyp, None, *parallel_flags)
    return hyp.read_text(encoding="utf-8").strip().split("\n\n"), reference.errant_compare(
        hyp, excerpt / "gold.m2", *compare_flags
    )


@pytest.mark.parametrize(
    "parallel_flags, options",
    [((), Options()), (("-lev",), Options(lev=True)), (("-merge", "all-split"), Options(merge="all-split"))],
)
def test_edits_and_tables_equal_errant_cli(excerpt, loaded, parallel_flags, options):
    cli_blocks, _ = cli(excerpt, "T5-11B", parallel_flags)
    result = score_files(excerpt / "T5-11B.txt", excerpt / "gold.m2", options=options, annotator=loaded)
    assert result.system.blocks == cli_blocks
    assert result.system.annotated > 10 and result.system.unchanged > 5
    hyp = excerpt / f"T5-11B.{'_'.join(parallel_flags)}.m2"
    for cat, single, beta, flags in [(None, False, 0.5, ()), (2, False, 0.5, ("-cat", "2")),
                                     (3, True, 1.0, ("-cat", "3", "-single", "-b", "1.0"))]:  # fmt: skip
        ours = score_files(
            excerpt / "T5-11B.txt", excerpt / "gold.m2", cat=cat, single=single, beta=beta,
            options=options, annotator=loaded,
        )  # fmt: skip
        assert ours.text == reference.errant_compare(hyp, excerpt / "gold.m2", *flags)


def test_tokenising_option_equals_errant_cli(excerpt, loaded, tmp_path):
    # Untokenised outputs ("it's", "school.") as -tok is for; the S lines then hold spaCy's tokens.
    (excerpt / "raw.txt").write_text(
        "".join(line.replace(" 's", "'s").replace(" .", ".") + "\n"
                for line in (excerpt / "T5-11B.txt").read_text().splitlines()),
        encoding="utf-8",
    )  # fmt: skip
    cli_blocks, cli_text = cli(excerpt, "raw", ("-tok",))
    result = score_files(excerpt / "raw.txt", excerpt / "gold.m2", source=excerpt / "source.txt",
                         options=Options(tok=True), annotator=loaded)  # fmt: skip
    assert result.system.blocks == cli_blocks
    assert result.text == cli_text


def test_fast_alignment_equals_errant_cell_by_cell(excerpt, loaded):
    nlp_parse = loaded.annotator.parse
    sources = (excerpt / "source.txt").read_text().splitlines()
    outputs = (excerpt / "CTC-Copy.txt").read_text().splitlines()
    pairs = [(nlp_parse(s), nlp_parse(o)) for s, o in zip(sources, outputs, strict=True) if s != o]
    assert len(pairs) > 10
    for orig, cor in pairs:
        fast = FastAlignment(orig, cor)
        assert fast.sub_costs(list(orig), list(cor)) == [[fast.get_sub_cost(o, c) for c in cor] for o in orig]
        for lev in (False, True):
            ours, theirs = FastAlignment(orig, cor, lev), Alignment(orig, cor, lev)
            assert ours.cost_matrix == theirs.cost_matrix
            assert ours.op_matrix == theirs.op_matrix
            assert ours.align_seq == theirs.align_seq


def test_cache_gives_the_same_blocks_without_parsing(excerpt, loaded, empty_cache):
    first = score_files(excerpt / "T5-11B.txt", excerpt / "gold.m2", annotator=loaded)
    assert first.system.sources_parsed == first.system.annotated > 0  # only the sources it needed
    again = score_files(excerpt / "T5-11B.txt", excerpt / "gold.m2", annotator=loaded)
    assert (again.system.cached, again.system.annotated, again.system.sources_parsed) == (
        first.system.annotated, 0, 0,
    )  # fmt: skip
    assert again.system.blocks == first.system.blocks
    other = score_files(excerpt / "CTC-Copy.txt", excerpt / "gold.m2", annotator=loaded)
    cli_blocks, cli_text = cli(excerpt, "CTC-Copy")
    assert other.system.blocks == cli_blocks and other.text == cli_text
    assert other.system.sources_parsed < other.system.annotated  # most sources came from the cache
    assert len(list((empty_cache / "errant_fast").iterdir())) == 2  # one parse file, one edit file
    lev = score_files(
        excerpt / "T5-11B.txt", excerpt / "gold.m2", options=Options(lev=True), annotator=loaded
    )
    assert lev.system.cached == 0  # other options, other edits


def test_processes_give_the_same_blocks(excerpt, loaded, empty_cache, caplog):
    """Forked workers give one process's blocks, also with the cache: the stored source parses are rebuilt
    in the workers that need them, and a damaged segment found there is parsed again, told once (here)
    and replaced in the file."""
    sources = (excerpt / "source.txt").read_text().splitlines() * 5
    t5 = (excerpt / "T5-11B.txt").read_text().splitlines() * 5
    ctc = (excerpt / "CTC-Copy.txt").read_text().splitlines() * 5
    one = system_m2(sources, t5, loaded, processes=1)
    assert system_m2(sources, t5, loaded, processes=2).blocks == one.blocks

    def cache():
        return Cache(sources, loaded.model, tok=False, lev=False, merge="rules")

    assert system_m2(sources, t5, loaded, processes=2, cache=cache()).blocks == one.blocks
    (parses,) = (empty_cache / "errant_fast").glob("*.sources.spacy")
    header, blobs = parses.read_bytes().split(b"\n", 1)
    parses.write_bytes(header + b"\n" + blobs[:10] + b"\xff\x00\xff" + blobs[13:])  # the first segment
    other = system_m2(sources, ctc, loaded, processes=2, cache=cache())
    assert other.blocks == system_m2(sources, ctc, loaded, processes=1).blocks
    assert other.annotated > CHUNK and 0 < other.sources_parsed < other.annotated
    assert caplog.text.count(" damaged (") == 1
    stored = cache().load_sources()
    assert len(stored.get(range(len(sources)), loaded.annotator.nlp.vocab)) > other.annotated
    assert not stored.damaged


def test_tasks_hold_every_sentence_once_in_order_and_end_small():

    for n in (0, 1, CHUNK, 3 * CHUNK + 5, 40 * CHUNK + 29):
        for processes in (1, 2, 3):
            tasks = split(list(range(n)), processes)
            assert [i for task in tasks for i in task] == list(range(n))
            assert all(0 < len(task) <= CHUNK for task in tasks)
            if processes == 1:
                assert [len(task) for task in tasks[:-1]] == [CHUNK] * (len(tasks) - 1)
            elif n >= processes * CHUNK:  # the last processes * CHUNK items: tasks of CHUNK // 4
                assert [len(task) for task in tasks[-processes * 4 :]] == [CHUNK // 4] * processes * 4


def test_cli_prints_errant_compare_output(excerpt, capsys):
    _, cli_text = cli(excerpt, "T5-11B", (), ("-cat", "2"))
    assert errant_score.main([str(excerpt / "T5-11B.txt"), str(excerpt / "gold.m2"), "--cat", "2"]) == 0
    assert capsys.readouterr().out == cli_text


def test_commands_print_the_same_table(excerpt):
    """errant_score.py as the command a user runs (PyTorch left unimported) prints what ERRANT's two commands
    print, and those commands (as scripts/bench_errant.py times them) write the in-process CLI's M2."""
    hyp = excerpt / "T5-11B.command.m2"
    source, system, gold = excerpt / "source.txt", excerpt / "T5-11B.txt", excerpt / "gold.m2"
    subprocess.run(reference.errant_parallel_command(source, system, hyp), check=True, capture_output=True)
    cli_text = subprocess.run(
        reference.errant_compare_command(hyp, gold, "-cat", "2"), check=True, capture_output=True, text=True
    ).stdout
    assert hyp.read_text(encoding="utf-8").strip().split("\n\n") == cli(excerpt, "T5-11B")[0]
    ours = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / "scripts" / "errant_score.py"), str(system),
         str(gold), "--cat", "2"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert ours.stdout == cli_text and "Span-Based Correction" in cli_text
    imported = {
        line.split("|")[-1].strip() for line in ours.stderr.splitlines() if line.startswith("import time:")
    }
    assert "spacy" in imported and not any(name.startswith("torch.") for name in imported)


def test_console_script_is_the_command():
    """`errant-score` (pyproject's console script) runs the command's process setup, not main alone."""
    (script,) = entry_points(group="console_scripts", name="errant-score")
    assert script.load() is errant_score.command


def test_library_leaves_pytorch_and_the_collector_alone(excerpt):
    """Importing errant_fast and calling cli.main score in any process: PyTorch stays importable after
    spaCy, the collector on (only cli.command, the command's own process, changes them)."""
    code = (
        "import gc; from errant_fast import cli; threshold = gc.get_threshold(); "
        f"assert cli.main([{str(excerpt / 'T5-11B.txt')!r}, {str(excerpt / 'gold.m2')!r}]) == 0; "
        "import torch; print(torch.zeros(1).shape); "
        "assert gc.isenabled() and gc.get_threshold() == threshold and not gc.get_freeze_count()"
    )
    ours = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert ours.stdout.endswith("torch.Size([1])\n") and "Span-Based Correction" in ours.stdout


@pytest.mark.parametrize(
    "case, message",
    [
        ("short", "has 39 lines but"),
        ("missing", "no such file"),
        ("empty_source", "line 3: empty source sentence"),
        ("bad_gold", "must start with an `S ` line"),
        ("beta", "--beta -1.0"),
    ],
)
def test_cli_errors(excerpt, tmp_path, capsys, case, message):
    system, gold = excerpt / "T5-11B.txt", excerpt / "gold.m2"
    lines = system.read_text().splitlines()
    extra = []
    if case == "short":
        system = tmp_path / "short.txt"
        system.write_text("".join(line + "\n" for line in lines[:-1]))
    elif case == "missing":
        system = tmp_path / "nothing.txt"
    elif case == "empty_source":
        source = tmp_path / "source.txt"
        src = (excerpt / "source.txt").read_text().splitlines()
        source.write_text("".join(line + "\n" for line in src[:2] + [""] + src[3:]))
        extra = ["--source", str(source)]
    elif case == "bad_gold":
        gold = tmp_path / "gold.m2"
        gold.write_text(gold_text := (excerpt / "gold.m2").read_text().replace("\n\nS ", "\n\nX ", 1))
        assert "X " in gold_text
    elif case == "beta":
        extra = ["--beta", "-1"]
    assert errant_score.main([str(system), str(gold), *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["cut short", "bytes changed"])
def test_damaged_cache_files_are_recomputed(excerpt, loaded, empty_cache, caplog, damage):
    first = score_files(excerpt / "T5-11B.txt", excerpt / "gold.m2", annotator=loaded)
    for path in (empty_cache / "errant_fast").iterdir():
        data = path.read_bytes()
        middle = len(data) // 2
        damaged = (
            data[:middle] if damage == "cut short" else data[:middle] + b"\xff\x00\xff" + data[middle + 3 :]
        )
        path.write_bytes(damaged)
    again = score_files(excerpt / "T5-11B.txt", excerpt / "gold.m2", annotator=loaded)
    assert again.system.blocks == first.system.blocks and again.text == first.text
    assert again.system.cached == 0 and again.system.sources_parsed == first.system.sources_parsed
    assert caplog.text.count(" damaged (") == 2


def test_batched_and_cached_parses_equal_errants_own(excerpt, loaded):
    """Batches of ERRANT's pre-tokenised Docs through load_annotator's pipeline (faster attribute ruler
    and lemmatizer), and those Docs back from the cache, annotate every token as spaCy's own pipeline
    does on Annotator.parse's Docs, one sentence at a time."""
    from errant_fast.cache import StoredParses, deserialise, serialise
    from errant_fast.edits import _Job

    def annotations(doc):
        return [
            (t.text, t.tag_, t.pos_, t.lemma_, t.dep_, t.head.i, t.morph.key, t.is_sent_start) for t in doc
        ]

    texts = (excerpt / "source.txt").read_text().splitlines() + (
        excerpt / "T5-11B.txt"
    ).read_text().splitlines()
    spacys = spacy.load(find_model(), disable=["ner"])  # not made faster as load_annotator's is
    own = [annotations(spacys(Doc(spacys.vocab, text.split()))) for text in texts]
    batched = _Job(loaded, Options(), StoredParses([])).parse(texts)
    assert [annotations(doc) for doc in batched] == own
    vocab = loaded.annotator.nlp.vocab
    segment = serialise(dict(enumerate(batched)))
    stored = deserialise(segment, vocab)
    assert [annotations(stored[i]) for i in range(len(texts))] == own
    # Rebuilt as DocBin.get_docs rebuilds them (text and spaces too), and one by one alike.
    assert [stored[i].to_json() for i in range(len(texts))] == [
        doc.to_json() for doc in DocBin().from_bytes(segment[1]).get_docs(vocab)
    ]
    assert StoredParses([segment]).get([3, 1], vocab)[3].to_json() == stored[3].to_json()


def test_fast_attribute_ruler_equals_spacys(excerpt, loaded):
    """Both of FastAttributeRuler's ways (the real ruler where a two-token pattern matches: "there is",
    "gon na"; values per kind of token elsewhere, "nothin'" through a REGEX) set what spaCy's ruler sets."""
    from errant_fast.ruler import FastAttributeRuler

    nlp = loaded.annotator.nlp
    (fast,) = [c for c in loaded.annotator.components if isinstance(c, FastAttributeRuler)]
    texts = (excerpt / "source.txt").read_text().splitlines() + [
        "There is nothin' we are gon na do .", "there 's a cat , ai n't there ?", "Let 's go , y' all !",
    ]  # fmt: skip
    before = list(
        nlp.pipe((Doc(nlp.vocab, t.split()) for t in texts), disable=["attribute_ruler", "lemmatizer"])
    )
    ours = [fast(doc.copy()) for doc in before]
    spacys = [nlp.get_pipe("attribute_ruler")(doc.copy()) for doc in before]
    assert [[(t.tag, t.dep, t.pos, t.lemma, t.morph.key) for t in doc] for doc in ours] == [
        [(t.tag, t.dep, t.pos, t.lemma, t.morph.key) for t in doc] for doc in spacys
    ]
    matched = [bool(fast.multi(doc)) for doc in before]
    assert any(matched) and not all(matched)
    assert {t.lemma_ for t in spacys[-3]} >= {"nothing", "go", "to"}  # set by the ruler, not the lemmatizer


def test_fast_lemmatizer_equals_spacys(excerpt, loaded):
    """Lemmas per (text, POS, morphology) from one array per Doc are spaCy's lemmas, on the first Doc
    (spaCy's own call) and later ones alike, also with `overwrite` (the ruler's lemmas replaced)."""
    from spacy.pipeline import Lemmatizer

    from errant_fast.lemmatizer import FastLemmatizer, fast_lemmatizer

    nlp = loaded.annotator.nlp
    spacys = nlp.get_pipe("lemmatizer")
    texts = (excerpt / "source.txt").read_text().splitlines() + [
        "There is nothin' we are gon na do .", "", "Cats were running faster than the dogs ran .",
    ]  # fmt: skip
    before = list(nlp.pipe((Doc(nlp.vocab, t.split()) for t in texts), disable=["lemmatizer"]))
    for overwrite in (False, True):
        fast = fast_lemmatizer(spacys)
        assert isinstance(fast, FastLemmatizer)
        spacys.overwrite = overwrite
        try:
            ours = [fast(doc.copy()) for doc in before + before]
            theirs = [spacys(doc.copy()) for doc in before + before]
        finally:
            spacys.overwrite = False
        assert [[t.lemma_ for t in doc] for doc in ours] == [[t.lemma_ for t in doc] for doc in theirs]
    assert {t.lemma_ for t in ours[len(texts) - 1]} >= {"cat", "run", "fast", "dog"}
    lookup = Lemmatizer(nlp.vocab, None, mode="lookup")
    assert fast_lemmatizer(lookup) is lookup


def test_fast_attribute_ruler_only_for_patterns_it_is_exact_for(loaded):
    from spacy.pipeline import AttributeRuler

    from errant_fast.ruler import fast_ruler

    ruler = AttributeRuler(loaded.annotator.nlp.vocab)
    ruler.add([[{"TAG": "NN"}]], {"POS": "NOUN"})
    assert fast_ruler(ruler, ["tok2vec", "tagger"]) is not ruler
    assert fast_ruler(ruler, ["tok2vec", "morphologizer"]) is ruler  # might set POS before the ruler
    ruler.add([[{"ORTH": "Us"}]], {"LEMMA": "we"})  # ORTH is not among the attributes kinds hold
    assert fast_ruler(ruler, ["tok2vec", "tagger"]) is ruler
