"""Shared code of the finetuning toolkit's entry points (finetune.py, interactive_generate.py, scripts/).

Modules import downward only: args -> templates, data, modeling -> generation -> training.
"""
