"""Preference and RL tuning: data checks, gold edits, the M2 reward; rm, dpo and grpo under DeepSpeed ZeRO-2.

The end-to-end tests start from tiny models: the reward model's accuracy on a separable toy set rises above
0.9, DPO widens the chosen-vs-rejected log-probability margin on its training pairs, and GRPO with the M2
reward raises the mean reward of sampled corrections. Run with -s to see the before/after figures.
"""

from __future__ import annotations

import json
import shutil
import sys
from functools import partial

import make_preference_data
import pytest
import torch
from datasets import Dataset
from transformers import set_seed

import preference_tune
from conftest import EVAL_SAMPLE, REPO, SAMPLE, assert_fails_cleanly, run_command, run_deepspeed
from ftkit.args import TOOLKIT_DEFAULTS, GRPOArguments
from ftkit.data import DataError, encode_dataset, encode_prompts, load_dataset_file
from ftkit.frameworks import CLM
from ftkit.generation import decode
from ftkit.modeling import load_config, load_model, load_tokenizer
from ftkit.preference_data import (
    encode_preference_dataset,
    grpo_dataset,
    read_gold_sentences,
    read_preference_pairs,
)
from ftkit.preference_training import build_preference_trainer, load_reward_model
from ftkit.rewards import RewardModelScorer, gold_edits, m2_f05_reward, sentence_f05
from ftkit.templates import build_prompt
from m2scorer import GoldSentence, load_gold


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def sample_rows(n, offset=0):
    with (SAMPLE / "train.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f][offset : offset + n]


@torch.no_grad()
def answer_logps(model, prompt_ids: list[list[int]], answer_ids: list[list[int]]) -> torch.Tensor:
    """Summed log-probability of each answer (EOS included) given its prompt, one row at a time."""
    out = []
    for prompt, answer in zip(prompt_ids, answer_ids, strict=True):
        ids = torch.tensor([prompt + answer], device=model.device)
        logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
        out.append(torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt) :, None]).sum())
    return torch.stack(out)


def dpo_margins(model, dataset: Dataset) -> torch.Tensor:
    """log p(chosen) - log p(rejected) per pair of an encoded dpo dataset: what DPO pushes up."""
    prompts = dataset["prompt_ids"]
    return answer_logps(model, prompts, dataset["chosen_ids"]) - answer_logps(
        model, prompts, dataset["rejected_ids"]
    )


@torch.no_grad()
def reward_accuracy(model, dataset: Dataset) -> float:
    """Share of pairs of an encoded rm dataset whose chosen answer gets the higher reward."""
    wins = 0
    for row in dataset:
        scores = [
            model(input_ids=torch.tensor([row[name]], device=model.device)).logits[0, 0].item()
            for name in ("chosen_ids", "rejected_ids")
        ]
        wins += scores[0] > scores[1]
    return wins / len(dataset)


# ---- Gold edits and the M2 reward ----


@pytest.mark.parametrize(
    "source, target, edits",
    [
        ("He go home .", "He goes home .", [(1, 2, "go", ("goes",))]),
        (
            "He watche ugly dogs .",
            "He watches ugly dog .",
            [(1, 2, "watche", ("watches",)), (3, 4, "dogs", ("dog",))],
        ),
        ("She went to park .", "She went to the park .", [(3, 3, "", ("the",))]),
        ("We saw the the dog .", "We saw the dog .", [(3, 4, "the", ("",))]),
        ("A b c .", "X Y .", [(0, 3, "A b c", ("X Y",))]),
        ("Fine as is .", "Fine as is .", []),
    ],
)
def test_gold_edits_from_a_source_target_pair(source, target, edits):
    assert gold_edits(source, target) == {0: edits}
    # The target itself is a perfect correction under the derived edits.
    assert sentence_f05(target, source, gold_edits(source, target)) == 1.0


def test_derived_gold_edits_agree_with_the_sample_m2():
    gold = load_gold(EVAL_SAMPLE / "gold.m2")
    targets = (EVAL_SAMPLE / "target.txt").read_text(encoding="utf-8").splitlines()
    derived = [gold_edits(sentence.source, target) for sentence, target in zip(gold, targets, strict=True)]
    same = sum(d == sentence.edits for d, sentence in zip(derived, gold, strict=True))
    # The rest delete the other "the" of a doubled "the the": a different offset, the same correction.
    assert same >= 0.98 * len(gold)
    for d, sentence, target in zip(derived, gold, targets, strict=True):
        assert sentence_f05(target, sentence.source, d) == sentence_f05(
            target, sentence.source, sentence.edits
        )


def test_sentence_f05_conventions():
    no_edits = {0: []}
    assert sentence_f05("He goes home .", "He goes home .", no_edits) == 1.0  # correct, left alone
    assert sentence_f05("He went home .", "He goes home .", no_edits) == 0.0  # correct, changed
    edits = gold_edits("He go to the park .", "He goes to the park .")
    assert sentence_f05("He go to the park .", "He go to the park .", edits) == 0.0  # error left in
    assert sentence_f05("He goes to the park .", "He go to the park .", edits) == 1.0
    two = gold_edits("He go to park .", "He goes to the park .")
    # One of two gold edits, nothing wrong: P = 1, R = 0.5, F0.5 = 1.25 * 0.5 / (0.25 + 0.5).
    assert sentence_f05("He goes to park .", "He go to park .", two) == pytest.approx(0.625 / 0.75)
    assert sentence_f05("  He goes to the   park . ", "He go to park .", two) == 1.0  # whitespace ignored


def test_m2_reward_takes_trls_arguments(tiny_model):
    sentences = read_gold_sentences(EVAL_SAMPLE / "gold.m2", 2)
    rows = grpo_dataset(sentences, "gec", load_tokenizer(str(tiny_model("llama"))), 256)
    assert rows[0]["prompt"] == build_prompt(sentences[0].source, "gec")
    rewards = m2_f05_reward(
        prompts=rows["prompt"],
        completions=["He watches ugly dogs .", "We teach a old artist ."],
        completion_ids=[[1], [2]],
        source=rows["source"],
        gold_edits=rows["gold_edits"],
        trainer_state=None,
    )
    assert rewards == [1.0, 0.0]


def test_pairs_are_encoded_as_sft_encodes_them(tiny_model):
    tokenizer = load_tokenizer(str(tiny_model("llama")))
    rows = sample_rows(4, offset=1)
    pairs = {
        "prompt": [r["source"] for r in rows],
        "chosen": [r["target"] for r in rows],
        "rejected": ["x ."] * 4,
    }
    dpo = encode_preference_dataset(pairs, "dpo", tokenizer, "gec", 256, 256)
    rm = encode_preference_dataset(pairs, "rm", tokenizer, "gec", 256, 256)
    sft = encode_dataset(
        load_dataset_file(SAMPLE / "train.jsonl", True, 5).select(range(1, 5)),
        CLM,
        tokenizer,
        "gec",
        256,
        256,
    )
    for d, r, s in zip(dpo, rm, sft, strict=True):
        assert d["prompt_ids"] + d["chosen_ids"] == s["input_ids"] == r["chosen_ids"]
        assert d["chosen_ids"][-1] == tokenizer.eos_token_id
        assert r["rejected_ids"] == d["prompt_ids"] + d["rejected_ids"]


@pytest.mark.parametrize(
    "family, template", [("llama3", "chat"), ("llama3", "gec"), ("qwen3", "chat"), ("llama", "alpaca")]
)
def test_one_prompt_encoding_for_sft_dpo_rm_and_grpo(tiny_model, tmp_path, family, template):
    """Token for token, a source cut to fit included: SFT's prompt + target + EOS is DPO's prompt + chosen,
    RM's chosen, what the reward-model scorer scores, and GRPO generates from DPO's prompt. A tokenizer that
    adds a BOS (llama3, whose chat template writes one too) starts each with exactly one."""
    model_path = tmp_path / "model"
    shutil.copytree(tiny_model(family), model_path)
    (model_path / "run_args.json").write_text(json.dumps({"prompt_template": template}))  # the RM's template
    tokenizer = load_tokenizer(str(model_path))
    rows = sample_rows(3, offset=1) + [
        {"source": " ".join(["He go home ."] * 30), "target": "He goes home ."}
    ]
    limit = len(encode_prompts([""], tokenizer, template, 10_000)["input_ids"][0]) + 12
    sft = encode_dataset(Dataset.from_list(rows), CLM, tokenizer, template, limit, 64)
    pairs = {
        "prompt": [r["source"] for r in rows],
        "chosen": [r["target"] for r in rows],
        "rejected": ["x ."] * len(rows),
    }
    dpo = encode_preference_dataset(pairs, "dpo", tokenizer, template, limit, 64)
    rm = encode_preference_dataset(pairs, "rm", tokenizer, template, limit, 64)
    sentences = [GoldSentence(r["source"], gold_edits(r["source"], r["target"])) for r in rows]
    grpo = grpo_dataset(sentences, template, tokenizer, limit)
    config = load_config(str(model_path))
    policy = load_model(str(model_path), CLM, config, tokenizer, "auto")
    grpo_args = GRPOArguments(
        output_dir=str(tmp_path / "grpo"),
        use_cpu=True,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=4,
        report_to="none",
        **TOOLKIT_DEFAULTS,
    )
    trainer = build_preference_trainer(
        "grpo", policy, tokenizer, grpo_args, grpo, reward_funcs=[m2_f05_reward]
    )
    generated_from, _, _ = trainer._tokenize_prompts(grpo["prompt"])

    reward_model = load_reward_model(str(model_path), load_config(str(model_path)), tokenizer)
    scored = []
    reward_model.register_forward_pre_hook(
        lambda module, args, kwargs: scored.extend(
            ids[mask.bool()].tolist()
            for ids, mask in zip(kwargs["input_ids"], kwargs["attention_mask"], strict=True)
        ),
        with_kwargs=True,
    )
    RewardModelScorer(reward_model, tokenizer, limit, 64, torch.device("cpu"))(
        completions=pairs["chosen"], source=pairs["prompt"]
    )

    assert len(dpo[-1]["prompt_ids"]) == limit, "the long source is cut to fit"
    adds_bos = tokenizer("x")["input_ids"][0] == tokenizer.bos_token_id
    for s, d, r, g, scored_ids in zip(sft, dpo, rm, generated_from, scored, strict=True):
        assert s["input_ids"] == d["prompt_ids"] + d["chosen_ids"] == r["chosen_ids"] == scored_ids
        assert g == d["prompt_ids"]
        if adds_bos:
            assert g[0] == tokenizer.bos_token_id and g.count(tokenizer.bos_token_id) == 1


def test_pairs_from_a_chat_model_are_generated_from_its_sft_prompts(
    tiny_model, tmp_path, monkeypatch, capsys
):
    model = tiny_model("llama3")
    tokenizer = load_tokenizer(str(model))
    sources = [r["source"] for r in sample_rows(3)]
    generated_from = []
    n_best = make_preference_data.n_best

    def recording(model, tokenizer, prompt_ids, *args):
        generated_from.extend(prompt_ids)
        return n_best(model, tokenizer, prompt_ids, *args)

    monkeypatch.setattr(make_preference_data, "n_best", recording)
    common = ["--model_name_or_path", str(model), "--input_file", str(SAMPLE / "train.jsonl")]
    common += ["--max_samples", "3", "--num_candidates", "2", "--max_new_tokens", "4", "--include_target"]
    out = tmp_path / "pairs.jsonl"
    assert make_preference_data.main([*common, "--output_file", str(out), "--prompt_template", "chat"]) == 0
    assert generated_from == encode_prompts(sources, tokenizer, "chat", 256)["input_ids"]
    assert all(ids.count(tokenizer.bos_token_id) == 1 for ids in generated_from)
    assert out.is_file()

    common[1] = str(tiny_model("llama"))  # LLaMA-2 style: no chat template
    assert make_preference_data.main([*common, "--output_file", str(out), "--prompt_template", "chat"]) == 2
    err = capsys.readouterr().err
    assert "has none (no chat_template" in err and "Traceback" not in err


def test_candidates_stop_at_the_chat_templates_end_of_turn(tiny_model):
    """A chat model ends its answer with <|im_end|>, not its tokenizer's EOS: generation stops on it and the
    candidate is cut there."""
    tokenizer = load_tokenizer(str(tiny_model("qwen3")))
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    answer = tokenizer("He goes home .", add_special_tokens=False)["input_ids"]
    prompt = [5, 6, 7]

    class Model:
        device = torch.device("cpu")
        generation_config = None

        def generate(self, input_ids, eos_token_id, **kwargs):
            assert end_of_turn in eos_token_id
            junk = tokenizer("trailing words", add_special_tokens=False)["input_ids"]
            return torch.tensor([input_ids[0].tolist() + answer + [end_of_turn] + junk])

    settings = make_preference_data.GenerationSettings(max_new_tokens=16)
    assert make_preference_data.n_best(Model(), tokenizer, [prompt], settings, 1, 8) == [["He goes home ."]]


@pytest.mark.parametrize("flag", ["--max_samples", "--num_candidates", "--batch_size", "--max_source_length"])
def test_make_preference_data_refuses_a_count_below_one(flag, tmp_path, capsys):
    argv = [
        "--model_name_or_path",
        "x",
        "--input_file",
        "y.jsonl",
        "--output_file",
        str(tmp_path / "out.jsonl"),
    ]
    with pytest.raises(SystemExit) as exited:
        make_preference_data.main([*argv, flag, "-19"])
    assert exited.value.code == 2
    assert f"argument {flag}: give at least 1, not -19" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_cut_prompts_and_answers_are_counted(tiny_model, caplog):
    tokenizer = load_tokenizer(str(tiny_model("llama3")))
    pairs = {"prompt": ["a " * 100, "b"], "chosen": ["x " * 50, "y"], "rejected": ["z", "w " * 80]}
    encode_preference_dataset(pairs, "dpo", tokenizer, "gec", 40, 20)
    log = caplog.text
    assert "prompts and chosen answers: 1 of 2 prompts longer than --max_source_length 40" in log
    assert "prompts and chosen answers: 1 of 2 targets longer than --max_target_length 20" in log
    assert "rejected answers: 1 of 2 targets longer than --max_target_length 20" in log
    assert "rejected answers: 1 of 2 prompts" not in log


def test_json_lines_by_content_or_any_case_of_the_suffix(tmp_path):
    """As SFT data (ftkit.data): a .JSONL name, or JSON objects in a file named otherwise, BOM included."""
    pair = {"prompt": "He go .", "chosen": "He goes .", "rejected": "He go ."}
    pairs = tmp_path / "pairs.JSONL"
    pairs.write_text(json.dumps(pair) + "\n", encoding="utf-8-sig")
    assert read_preference_pairs(pairs)["chosen"] == ["He goes ."]
    gold = tmp_path / "gold.txt"
    gold.write_text(json.dumps({"source": "He go .", "target": "He goes ."}) + "\n", encoding="utf-8")
    assert read_gold_sentences(gold)[0].edits == {0: [(1, 2, "go", ("goes",))]}


def test_choose_pair():
    assert make_preference_data.choose_pair(["a", "b", "c"], [0.5, 1.0, 0.0], 0.01) == (1, 2)
    assert make_preference_data.choose_pair(["a", "b"], [1.0, 1.0], 0.01) is None
    assert make_preference_data.choose_pair(["a", "b", "c"], [1.0, 0.0, 1.0], 0.01) == (0, 1)


@pytest.mark.parametrize("stage", ["rm", "dpo"])
def test_use_peft_trains_a_lora_adapter_on_the_lora_flags_of_finetune(tiny_model, tmp_path, stage):
    """--use_peft with finetune.py's LoRA flags: the saved adapter is on --lora_target with --lora_r; the
    reward model's head trains whole beside it."""
    out = tmp_path / stage
    pairs = REPO / "data" / "preference_sample" / "train.jsonl"
    argv = stage_args(stage, tiny_model("llama"), pairs, out, "--max_train_samples", "8")
    argv += ["--per_device_train_batch_size", "4", "--save_strategy", "no"]
    argv += ["--use_peft", "--lora_target", "q_proj,v_proj", "--lora_r", "4", "--lora_alpha", "8"]
    assert preference_tune.main(argv) == 0
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert sorted(adapter["target_modules"]) == ["q_proj", "v_proj"]
    assert (adapter["r"], adapter["lora_alpha"]) == (4, 8)
    assert adapter["task_type"] == ("SEQ_CLS" if stage == "rm" else "CAUSAL_LM")
    assert ("score" in (adapter["modules_to_save"] or [])) == (stage == "rm")
    assert json.loads((out / "run_args.json").read_text())["lora_target"] == "q_proj,v_proj"


# ---- Bad input: a clear error naming file and line, exit status 2, nothing written ----


def read_m2_without_edits(tmp_path):
    path = tmp_path / "bare.m2"
    path.write_text("S He go home .\n\nS She goes home .\n", encoding="utf-8")
    return read_gold_sentences(path)


def test_data_errors(tmp_path):
    bad = write_jsonl(
        tmp_path / "pairs.jsonl", [{"prompt": "a", "chosen": "b", "rejected": "c"}, {"prompt": "a"}]
    )
    with pytest.raises(DataError, match=r'pairs.jsonl:2: no "chosen" field'):
        read_preference_pairs(bad)
    same = write_jsonl(tmp_path / "same.jsonl", [{"prompt": "a", "chosen": "b", "rejected": "b"}])
    with pytest.raises(DataError, match="same.jsonl:1: .* the same text"):
        read_preference_pairs(same)
    with pytest.raises(DataError, match="no 'A' lines, so no gold edits"):
        read_m2_without_edits(tmp_path)
    latin1 = tmp_path / "latin1.m2"
    latin1.write_bytes(
        "S He go home .\nA 1 2|||R:VERB|||goes|||REQUIRED|||-NONE-|||0\n\nS Caf\xe9 .\n".encode("latin-1")
    )
    with pytest.raises(DataError, match=r"latin1.m2:4: not valid UTF-8"):
        read_gold_sentences(latin1)
    assert len(read_gold_sentences(EVAL_SAMPLE / "gold.m2")) == 200


fails_cleanly = partial(assert_fails_cleanly, preference_tune.main)


def stage_args(stage, model, train_file, run_dir, *extra):
    return [
        "--stage",
        stage,
        "--model_name_or_path",
        str(model),
        "--train_file",
        str(train_file),
        "--output_dir",
        str(run_dir),
        "--do_train",
        "--max_steps",
        "2",
        "--use_cpu",
        *extra,
    ]


@pytest.mark.parametrize("stage", ["rm", "dpo"])
def test_preference_row_without_rejected(tiny_model, tmp_path, run_dir, capsys, stage):
    rows = [
        {"prompt": "He go .", "chosen": "He goes .", "rejected": "He go ."},
        {"prompt": "a", "chosen": "b"},
    ]
    train_file = write_jsonl(tmp_path / "train.jsonl", rows)
    fails_cleanly(
        stage_args(stage, tiny_model("llama"), train_file, run_dir),
        run_dir,
        capsys,
        f'{train_file}:2: no "rejected" field',
    )


def test_grpo_data_without_gold_edits(tiny_model, tmp_path, run_dir, capsys):
    no_target = write_jsonl(
        tmp_path / "train.jsonl", [{"source": "He go .", "target": "He goes ."}, {"source": "a"}]
    )
    fails_cleanly(
        stage_args("grpo", tiny_model("llama"), no_target, run_dir),
        run_dir,
        capsys,
        f'{no_target}:2: no string "target" field, so no gold edits',
    )
    fails_cleanly(
        stage_args("grpo", tiny_model("llama"), EVAL_SAMPLE / "source.txt", run_dir),
        run_dir,
        capsys,
        "GRPO needs gold edits",
    )


def test_grpo_m2_that_is_not_utf8(tiny_model, tmp_path, run_dir, capsys):
    latin1 = tmp_path / "gold.m2"
    latin1.write_bytes(
        "S He go .\nA 1 2|||R:VERB|||goes|||REQUIRED|||-NONE-|||0\n\nS Caf\xe9 .\n".encode("latin-1")
    )
    fails_cleanly(
        stage_args("grpo", tiny_model("llama"), latin1, run_dir),
        run_dir,
        capsys,
        f"{latin1}:4: not valid UTF-8",
    )


def test_encoder_decoder_model_and_unknown_stage(tiny_model, run_dir, capsys):
    fails_cleanly(
        stage_args("dpo", tiny_model("t5"), SAMPLE / "train.jsonl", run_dir),
        run_dir,
        capsys,
        "needs a decoder-only (clm) model",
    )
    fails_cleanly(
        stage_args("ppo", tiny_model("llama"), SAMPLE / "train.jsonl", run_dir), run_dir, capsys, "--stage"
    )


# ---- End to end under DeepSpeed ZeRO-2 ----


def run_preference_tune(args, timeout=600):
    zero2 = ["--deepspeed", str(REPO / "ds_configs" / "zero2.json"), "--save_strategy", "no"]
    return run_deepspeed(
        [*zero2, "--logging_steps", "5", *args], timeout=timeout, script="preference_tune.py"
    )


@pytest.fixture(scope="module")
def sft_model(tiny_model, tmp_path_factory):
    """A tiny LLaMA finetuned (SFT, finetune.py) for 400 steps: it corrects some sentences, not most."""
    out = tmp_path_factory.mktemp("sft")
    command = [
        sys.executable,
        str(REPO / "finetune.py"),
        "--model_name_or_path",
        str(tiny_model("llama")),
        "--train_file",
        str(SAMPLE / "train.jsonl"),
        "--output_dir",
        str(out),
        "--do_train",
        "--max_steps",
        "400",
        "--per_device_train_batch_size",
        "32",
        "--learning_rate",
        "3e-3",
        "--warmup_steps",
        "0.05",
        "--save_strategy",
        "no",
        "--use_cpu",
    ]
    result = run_command(command, 600, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


@pytest.mark.slow
def test_reward_model_learns_a_separable_toy_set(tiny_model, tmp_path):
    # Chosen: a correct sentence; rejected: its words in reverse order.
    def pair(row):
        return {
            "prompt": row["source"],
            "chosen": row["target"],
            "rejected": " ".join(reversed(row["target"].split())),
        }

    train = write_jsonl(tmp_path / "train.jsonl", [pair(r) for r in sample_rows(640)])
    valid = write_jsonl(tmp_path / "valid.jsonl", [pair(r) for r in sample_rows(100, offset=5000)])
    base = tiny_model("llama")
    tokenizer = load_tokenizer(str(base))
    valid_set = encode_preference_dataset(read_preference_pairs(valid), "rm", tokenizer, "gec", 256, 256)
    # The run's --seed, so the same random head. Seed 9's ranks almost every pair wrong (the default seed's
    # already ranks most pairs right), so "after" shows what training learnt.
    set_seed(9)
    before = reward_accuracy(
        load_reward_model(str(base), load_config(str(base)), tokenizer, torch.float32), valid_set
    )

    out = tmp_path / "rm"
    run_preference_tune(
        ["--stage", "rm", "--model_name_or_path", str(base), "--train_file", str(train), "--validation_file"]
        + [str(valid), "--output_dir", str(out), "--do_train", "--do_eval", "--max_steps", "40"]
        + ["--per_device_train_batch_size", "16", "--learning_rate", "2e-3", "--seed", "9"]
    )
    after = reward_accuracy(
        load_reward_model(str(out), load_config(str(out)), tokenizer, torch.float32), valid_set
    )
    reported = json.loads((out / "eval_results.json").read_text())["eval_accuracy"]
    print(
        f"\nreward model pairwise accuracy on validation: before {before:.3f}, after {after:.3f} "
        f"(the run's eval_accuracy: {reported:.3f})"
    )
    assert before < 0.5 and after > 0.9 and reported > 0.9


@pytest.mark.slow
def test_sft_predictions_to_pairs_to_dpo_widens_the_margin(sft_model, tmp_path):
    pairs_file = tmp_path / "pairs.jsonl"
    assert (
        make_preference_data.main(
            ["--model_name_or_path", str(sft_model), "--input_file", str(SAMPLE / "train.jsonl")]
            + ["--output_file", str(pairs_file), "--max_samples", "64", "--num_candidates", "4"]
            + ["--include_target", "--max_new_tokens", "24"]
        )
        == 0
    )
    pairs = read_preference_pairs(pairs_file)
    assert len(pairs["prompt"]) >= 32
    tokenizer = load_tokenizer(str(sft_model))
    encoded = encode_preference_dataset(pairs, "dpo", tokenizer, "gec", 256, 256)

    def margin(path):
        model = load_model(str(path), CLM, load_config(str(path)), tokenizer, torch.float32).eval()
        return dpo_margins(model, encoded).mean().item()

    out = tmp_path / "dpo"
    result = run_preference_tune(
        ["--stage", "dpo", "--model_name_or_path", str(sft_model), "--train_file", str(pairs_file)]
        + ["--output_dir", str(out), "--do_train", "--max_steps", "20", "--per_device_train_batch_size", "16"]
        + ["--learning_rate", "2e-4", "--beta", "0.1"]
    )
    before, after = margin(sft_model), margin(out)
    print(
        f"\nDPO: mean log p(chosen) - log p(rejected) on its {len(encoded)} training pairs: "
        f"{before:.2f} -> {after:.2f}"
    )
    assert after > before + 0.5
    assert "rewards/margins" in result.stdout


def sampled_reward(path, sentences, samples=64, max_new_tokens=20, seed=0):
    """Mean M2 F0.5 of `samples` sampled corrections per sentence (temperature 1, as GRPO samples)."""
    tokenizer = load_tokenizer(str(path))
    model = load_model(str(path), CLM, load_config(str(path)), tokenizer, torch.float32).eval()
    batch = tokenizer(
        [build_prompt(s.source, "gec") for s in sentences],
        return_tensors="pt",
        padding=True,
        padding_side="left",
    )
    torch.manual_seed(seed)
    with torch.no_grad():
        generated = model.generate(
            **batch, do_sample=True, top_k=0, num_return_sequences=samples, max_new_tokens=max_new_tokens
        )
    texts = decode(tokenizer, generated[:, batch["input_ids"].shape[1] :].tolist())
    rewards = [
        sentence_f05(t, sentences[i // samples].source, sentences[i // samples].edits)
        for i, t in enumerate(texts)
    ]
    return sum(rewards) / len(rewards)


@pytest.mark.slow
def test_grpo_with_the_m2_reward_raises_the_mean_reward(sft_model, tmp_path):
    sentences = read_gold_sentences(SAMPLE / "train.jsonl", 16)
    out = tmp_path / "grpo"
    run_preference_tune(
        [
            "--stage",
            "grpo",
            "--model_name_or_path",
            str(sft_model),
            "--train_file",
            str(SAMPLE / "train.jsonl"),
        ]
        + ["--max_train_samples", "16", "--output_dir", str(out), "--do_train", "--max_steps", "60"]
        + ["--per_device_train_batch_size", "32", "--num_generations", "8", "--max_completion_length", "20"]
        + ["--learning_rate", "1e-3"]
    )
    logged = [
        row["reward"]
        for row in json.loads((out / "trainer_state.json").read_text())["log_history"]
        if "reward" in row
    ]
    before, after = sampled_reward(sft_model, sentences), sampled_reward(out, sentences)
    print(
        f"\nGRPO: mean M2 F0.5 of 64 samples on its 16 training sentences: {before:.3f} -> {after:.3f}; "
        f"logged reward per 5 steps: {' '.join(f'{r:.3f}' for r in logged)}"
    )
    # The SFT model, and so the gain, differs from machine to machine (float kernels) as it does from seed to
    # seed: the threshold is well under the smallest gain seen over many seeds of both runs, and 64 samples
    # a sentence keep the measurement's own noise small beside it.
    assert after > before + 0.01
    assert sum(logged[-3:]) / 3 > sum(logged[:3]) / 3
