"""The rules of kernel/assay/redact.py: which keys are secrets, what scrubbing replaces, how
control characters are shown; and that a run's log never holds its secrets."""

from __future__ import annotations

import json

from assay.config import from_dict
from assay.events import Generated, RequestTimed, RunFinished, SampleFailed, SampleLoaded, Warning_
from assay.plugins import PluginHost
from assay.redact import (
    Scrubber,
    inert_markup,
    json_inert,
    redact_argv,
    redact_secrets,
    secret_values,
    strip_redacted,
    visible,
)
from assay.run import Run

KEY = "sk-live-4f9Qx2Lm8Zt1Vb7N"


def test_exact_secret_names_at_any_depth_and_settings_survive():
    cfg = {
        "api_key": KEY,
        "generation_config": {"max_tokens": 64, "max_new_tokens": 8, "max_completion_tokens": 9},
        "model_args": {
            "tokenizer": "gpt2",
            "pad_token": "<pad>",
            "TOKEN": "hf_abcdefghijklmnop",
            "use_auth_token": True,
            "judge": {"Api-Key": "judge-key-123456", "password": "hunter22hunter", "secret": None},
            "judge_api_key": "jk-abcdefghijkl",
            "eos_token": "</s>",
            "headers": {"Authorization": "Bearer t-123456789", "X-Auth-Token": "abcdefghij", "Accept": "json"},
        },
    }
    assert redact_secrets(cfg) == {
        "api_key": "***",
        "generation_config": {"max_tokens": 64, "max_new_tokens": 8, "max_completion_tokens": 9},
        "model_args": {
            "tokenizer": "gpt2",
            "pad_token": "<pad>",
            "TOKEN": "***",
            "use_auth_token": True,
            "judge": {"Api-Key": "***", "password": "***", "secret": None},
            "judge_api_key": "***",
            "eos_token": "</s>",
            "headers": {"Authorization": "***", "X-Auth-Token": "***", "Accept": "json"},
        },
    }
    assert secret_values(cfg) == {
        KEY,
        "hf_abcdefghijklmnop",
        "judge-key-123456",
        "hunter22hunter",
        "jk-abcdefghijkl",
        "Bearer t-123456789",
        "t-123456789",
        "abcdefghij",
    }
    # a logged config runs again without its placeholders (the key is asked for), settings intact
    assert strip_redacted(redact_secrets(cfg))["model_args"]["headers"] == {"Accept": "json"}
    assert strip_redacted(redact_secrets(cfg))["generation_config"]["max_tokens"] == 64
    # placeholders shorter than 8 characters are not secret values (EMPTY would eat ordinary text)
    assert secret_values({"api_key": "EMPTY"}) == set()
    assert from_dict({"datasets": ["x"], "generation_config": {"max_tokens": 5}}).to_dict()["generation_config"] == {
        "max_tokens": 5
    }


def test_scrubber_replaces_values_cut_short_and_header_credentials():
    s = Scrubber({KEY, "Bearer " + KEY})
    assert s.text(f"Incorrect API key provided: {KEY}.") == "Incorrect API key provided: ***."
    assert s.text(f"headers: {{'Authorization': 'Bearer {KEY}'}}") == "headers: {'Authorization': '***'}"
    assert s.text(f"truncated: {KEY[:10]}") == "truncated: ***"  # a cut-off key still goes
    assert s.text("sk-live- is a prefix only") == "*** is a prefix only"
    # credentials in echoed headers, configured or not
    other = "{'authorization': 'Bearer zzzzzzzzzzzz', 'x-api-key': 'qqqqqqqqqqqq', \"api-key\": \"wwwwwwwwww\"}"
    assert s.text(other) == "{'authorization': 'Bearer ***', 'x-api-key': '***', \"api-key\": \"***\"}"
    assert s.text("max_tokens: 12345678, tokenizer: gpt2") == "max_tokens: 12345678, tokenizer: gpt2"


def test_argv_keeps_its_shape_without_secrets():
    argv = ["assay", "perf", "--api-key", KEY, "--judge_api_key=abc", "--password", "p", "--max-tokens", "256"]
    assert redact_argv(argv) == ["assay", "perf", "--api-key", "***", "--judge_api_key=***", "--password", "***",
                                 "--max-tokens", "256"]  # fmt: skip


def test_visible_and_markup():
    text = "a\x1b]0;pwned\x07b\x1b[2J\x9b\x7f\u202e\tc\nd"
    assert visible(text) == "a\\x1b]0;pwned\\x07b\\x1b[2J\\x9b\\x7f\\u202e\tc\nd"
    assert visible("x\ny\tz", multiline=False) == "x\\x0ay\\x09z"
    assert visible("中文 ok") == "中文 ok"
    assert inert_markup("[link=http://x]y[/link] [bold red]r") == "\\[link=http://x]y\\[/link] \\[bold red]r"
    out = json_inert(json.dumps({"a": "\x1b\x9b\u202e中"}, ensure_ascii=False))
    assert out == '{"a": "\\u001b\\u009b\\u202e中"}' and json.loads(out) == {"a": "\x1b\x9b\u202e中"}


def test_run_log_never_holds_the_secrets(tmp_path):
    cfg = from_dict({"datasets": ["x"], "api_key": KEY, "model_args": {"headers": {"X-Api-Key": "hk-0123456789"}}})
    run = Run(tmp_path / "r", "r", cfg, PluginHost())
    quoted = 'he said "' + KEY + '"'
    events = run.emit_many(
        [
            SampleLoaded(sample_id="s", benchmark="b", metadata={KEY: [KEY]}),
            Generated(sample_id="s", model="m", output=quoted),
            RequestTimed(
                request_id="q", sent=0.0, end=1.0, ok=False, error=f"HTTP 401: Incorrect API key provided: {KEY[:12]}"
            ),
            SampleFailed(sample_id="s", stage="generate", error_type="E", message="key hk-0123456789 refused"),
            RunFinished(status="failed", error="Authorization: Bearer zzzzzzzzzzzz"),
            Warning_(source="server", message="echo: {'x-api-key': 'yyyyyyyyyyyy'}"),
        ]
    )
    run.close()
    data = (tmp_path / "r" / "events.jsonl").read_text()
    assert KEY[:8] not in data and "hk-0123456789" not in data and "zzzzzzzz" not in data
    bodies = [json.loads(x)["body"] for x in data.splitlines()]
    assert bodies[0]["metadata"] == {"***": ["***"]} and bodies[1]["output"] == 'he said "***"'
    assert bodies[2]["error"] == "HTTP 401: Incorrect API key provided: ***"
    assert bodies[3]["message"] == "key *** refused"
    assert bodies[4]["error"] == "Authorization: Bearer ***"
    assert bodies[5]["message"] == "echo: {'x-api-key': '***'}"
    # observers (reporters, the TUI live) get the scrubbed bodies too
    assert events[1].body.output == 'he said "***"' and [e.seq for e in events] == [0, 1, 2, 3, 4, 5]
