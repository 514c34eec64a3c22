"""The Messages API body the anthropic_api backend builds from a generation config and chat messages."""

from __future__ import annotations

from assay_openai.anthropic import DEFAULT_MAX_TOKENS, messages_params, messages_url, split_system


def test_system_moves_to_the_top_and_turns_alternate():
    system, turns = split_system(
        [
            {"role": "system", "content": [{"type": "text", "text": "S1"}]},
            {"role": "system", "content": "S2"},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
        ]
    )
    assert system == "S1\n\nS2"
    assert turns == [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"}]
    assert split_system([{"role": "user", "content": "q"}]) == (None, [{"role": "user", "content": "q"}])


def test_generation_config_keys():
    # OpenAI / transformers names mapped; keys the API would reject with a 400 are dropped
    params = messages_params({"max_new_tokens": 5, "stop": "x", "seed": 3, "do_sample": False, "n": 2, "top_k": 4})
    assert params == {"max_tokens": 5, "stop_sequences": ["x"], "temperature": 0.0, "top_k": 4}
    assert messages_params({})["max_tokens"] == DEFAULT_MAX_TOKENS  # required by the API
    assert messages_params({"stop_seqs": ["Q:"]})["stop_sequences"] == ["Q:"]  # EvalScope's name of stop


def test_url():
    assert messages_url(None) == "https://api.anthropic.com/v1/messages"
    assert messages_url("http://h:1/v1/") == messages_url("http://h:1") == "http://h:1/v1/messages"
    assert messages_url("http://h:1/v1/messages") == "http://h:1/v1/messages"
