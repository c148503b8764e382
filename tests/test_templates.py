import pytest

from ftkit.templates import DEFAULT_TEMPLATE, TEMPLATES, build_prompt, uses_chat_template


def test_every_template_places_the_source_once():
    # The chat template needs a tokenizer: tests/test_chat_template.py.
    for name in TEMPLATES:
        if not uses_chat_template(name):
            assert build_prompt("He go .", name).count("He go .") == 1


def test_none_template_is_the_source():
    assert build_prompt("He go .", "none") == "He go ."


def test_default_template_ends_where_the_answer_starts():
    assert build_prompt("He go .", DEFAULT_TEMPLATE).endswith("\n")


def test_unknown_template_names_the_choices():
    with pytest.raises(ValueError, match="unknown prompt template 'nope'.*alpaca"):
        build_prompt("x", "nope")
