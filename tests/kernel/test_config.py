"""TaskConfig from dicts, YAML and JSON; bad keys are named, with a close match."""

from __future__ import annotations

import pytest
from assay.api import AssayError
from assay.config import TaskConfig, from_dict, load, parse_json_arg, redact_secrets


def test_dict_yaml_and_json_agree(tmp_path):
    d = {
        "model": "m",
        "datasets": ["gsm8k"],
        "limit": 5,
        "eval_batch_size": 8,
        "dataset_args": {"gsm8k": {"few_shot_num": 2}},
    }
    (tmp_path / "c.yaml").write_text(
        "model: m\ndatasets: [gsm8k]\nlimit: 5\neval_batch_size: 8\ndataset_args:\n  gsm8k: {few_shot_num: 2}\n"
    )
    (tmp_path / "c.json").write_text(
        '{"model": "m", "datasets": "gsm8k", "limit": 5, "eval_batch_size": 8, "dataset_args": {"gsm8k": {"few_shot_num": 2}}}'
    )
    a, b, c = from_dict(d), load(tmp_path / "c.yaml"), load(tmp_path / "c.json")
    assert a == b == c
    assert isinstance(a, TaskConfig) and a.datasets == ["gsm8k"]


def test_unknown_key_is_named_with_a_close_match():
    with pytest.raises(AssayError) as info:
        from_dict({"datasets": ["gsm8k"], "eval_bath_size": 4})
    assert "'eval_bath_size'" in str(info.value)
    assert "did you mean 'eval_batch_size'" in str(info.value)


def test_mistyped_value_names_the_key():
    with pytest.raises(AssayError) as info:
        from_dict({"datasets": ["gsm8k"], "eval_batch_size": "many"})
    assert "eval_batch_size" in str(info.value)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: m\ndatasets: [gsm8k\nlimit: 3\n")
    with pytest.raises(AssayError) as info:
        load(bad)
    assert str(bad) in str(info.value) and "invalid YAML" in str(info.value)


def test_invalid_values_are_rejected():
    with pytest.raises(AssayError):
        from_dict({"datasets": ["x"], "eval_batch_size": 0})
    with pytest.raises(AssayError):
        from_dict({"datasets": ["x"], "limit": -1})
    for key, value, message in [
        ("timeout", 0, "timeout must be a number of seconds > 0, got 0"),
        ("timeout", -1.5, "timeout must be a number of seconds > 0, got -1.5"),
        ("retries", -1, "retries must be >= 0, got -1"),
        ("fsync_interval", -0.1, "fsync_interval must be >= 0 seconds, got -0.1"),
    ]:
        with pytest.raises(AssayError) as info:
            from_dict({"datasets": ["x"], key: value})
        assert message in str(info.value)
    assert from_dict({"datasets": ["x"], "timeout": 0.5, "retries": 0, "fsync_interval": 0}).retries == 0


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"temperature": "abc"}, "generation_config.temperature = 'abc': expected a number >= 0"),
        ({"temperature": -0.1}, "generation_config.temperature = -0.1: expected a number >= 0"),
        ({"top_p": 1.5}, "generation_config.top_p = 1.5: expected a number in [0, 1]"),
        ({"max_tokens": 0}, "generation_config.max_tokens = 0: expected a whole number >= 1"),
        ({"max_new_tokens": 2.5}, "generation_config.max_new_tokens = 2.5: expected a whole number >= 1"),
        ({"seed": True}, "generation_config.seed = True: expected a whole number"),
        ({"stop": 5}, "generation_config.stop = 5: expected a string or a list of strings"),
        ({"stop": ["a", 1]}, "generation_config.stop = ['a', 1]: expected a string or a list of strings"),
        ({"do_sample": "yes"}, "generation_config.do_sample = 'yes': expected true or false"),
    ],
)
def test_generation_keys_are_typed(given, message):
    with pytest.raises(AssayError) as info:
        from_dict({"datasets": ["gsm8k"], "generation_config": given})
    assert message in str(info.value)


def test_generation_keys_in_range_and_server_extras_pass():
    given = {"temperature": 0, "top_p": 1, "max_tokens": 64, "stop": ["\n\n"], "seed": 7, "top_k": -1}
    extras = {"min_p": 0.05, "repetition_penalty": 1.1, "chat_template_kwargs": {"enable_thinking": False}}
    cfg = from_dict({"datasets": ["gsm8k"], "generation_config": {**given, **extras, "temperature": None}})
    assert cfg.generation_config == {**given, **extras, "temperature": None}


def test_flags_accept_json_or_pairs():
    assert parse_json_arg('{"temperature": 0.5}', "--generation-config") == {"temperature": 0.5}
    assert parse_json_arg("temperature=0.5,max_tokens=32,stop=x", "--generation-config") == {
        "temperature": 0.5,
        "max_tokens": 32,
        "stop": "x",
    }
    with pytest.raises(AssayError):
        parse_json_arg("{bad", "--model-args")


def test_secrets_are_redacted_everywhere():
    cfg = from_dict({"datasets": ["x"], "api_key": "sk-123", "model_args": {"headers": {"Authorization": "Bearer t"}}})
    dumped = str(cfg.to_dict())
    assert "sk-123" not in dumped and "Bearer t" not in dumped
    assert redact_secrets({"token": None}) == {"token": None}
    assert "sk-123" not in repr(cfg)
