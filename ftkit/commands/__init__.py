"""The toolkit's command-line tools: each module's `main(argv=None) -> int` is a console script of the
package (pyproject.toml) and `scripts/<module>.py` runs it from a clone. They import the rest of ftkit;
nothing in ftkit imports them.

    prepare_eval_set    an evaluation set folder for eval_gec.sh from an M2 gold file
    m2_to_jsonl         M2 corpora to training rows
    estimate_memory     memory per GPU and per node for each ZeRO stage
    convert_checkpoint  a DeepSpeed or sharded checkpoint to one safetensors model folder
    merge_adapter       a LoRA adapter merged into its base model
"""
