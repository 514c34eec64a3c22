"""The backend in process, on the tiny local Llama: batching, log-likelihoods, stops, templates.

Expected figures come from direct computations with the same model and tokenizer
(``model.generate`` on one unpadded input, ``log_softmax`` over the logits), never
from stored numbers.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from assay.api import AssayError, GenerateRequest, ModelConfig
from assay_transformers.backend import TransformersModel

PROMPTS = [
    "Natalia sold clips to 48 of her friends.",
    "Which of the following is a renewable source of energy?",
    "The quick brown fox",
    "Question: What is the boiling point of water at sea level? Answer:",
    "Plants make food",
]


def make(tiny_loaded, tiny_model_dir, batch_size=1, **kw):
    cfg = ModelConfig(model=str(tiny_model_dir), batch_size=batch_size, **kw)
    return TransformersModel(cfg, None, loaded=tiny_loaded)


async def _gather(model, requests):
    try:
        return await asyncio.gather(*(model.generate(r) for r in requests))
    finally:
        await model.aclose()


def run_all(model, requests):
    return asyncio.run(_gather(model, requests))


def greedy_reference(tiny_loaded, prompt_ids, n):
    """One unpadded greedy generate() call: the reference for batched outputs."""
    import torch

    lm, tok, _ = tiny_loaded
    with torch.inference_mode():
        out = lm.generate(
            input_ids=torch.tensor([prompt_ids]),
            attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
            max_new_tokens=n,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=tok.pad_token_id,
        )
    return out[0, len(prompt_ids) :].tolist()


def test_batched_and_unbatched_greedy_generation_agree(tiny_loaded, tiny_model_dir):
    _, tok, _ = tiny_loaded
    gen = {"max_new_tokens": 12, "temperature": 0}
    reqs = [GenerateRequest(sample_id=f"s{i}", prompt=p, generation_config=gen) for i, p in enumerate(PROMPTS)]
    one = make(tiny_loaded, tiny_model_dir, batch_size=1, model_args={"use_chat_template": False})
    single = run_all(one, reqs)
    four = make(tiny_loaded, tiny_model_dir, batch_size=4, model_args={"use_chat_template": False})
    batched = run_all(four, reqs)
    assert one.batch_sizes == [1] * 5
    # five concurrent requests, batch size 4: one batch of 4 and one of 1
    assert sorted(four.batch_sizes) == [1, 4]
    assert [r.output for r in batched] == [r.output for r in single]
    for p, r in zip(PROMPTS, single):
        ids = tok(p)["input_ids"]
        ref = greedy_reference(tiny_loaded, ids, 12)
        cut = next((k for k, t in enumerate(ref) if t in (tok.eos_token_id, tok.pad_token_id)), len(ref))
        assert r.output == tok.decode(ref[:cut], skip_special_tokens=True)
        assert r.usage.prompt_tokens == len(ids)
        assert r.usage.completion_tokens == (cut + 1 if cut < len(ref) else 12)
        assert r.finish_reason == ("stop" if cut < len(ref) else "length")


def test_loglikelihood_matches_direct_log_softmax(tiny_loaded, tiny_model_dir):
    import torch

    lm, tok, _ = tiny_loaded
    prompt = "Question: Which is a renewable source of energy?\nAnswer:"
    choices = [" Wind", " coal", " natural gas", " oil and water"]
    # the model's own greedy 3-token continuation is a choice whose flag must be True
    ids = tok(prompt)["input_ids"]
    greedy_ids = greedy_reference(tiny_loaded, ids, 3)
    greedy_text = tok.decode(greedy_ids)
    if tok(prompt + greedy_text)["input_ids"][len(ids) :] == greedy_ids:
        choices.append(greedy_text)
    model = make(tiny_loaded, tiny_model_dir, batch_size=3)
    reqs = [GenerateRequest(sample_id=f"q{i}", prompt=prompt, choices=choices, mode="loglikelihood") for i in range(3)]
    results = run_all(model, reqs)
    assert model.batch_sizes == [3]
    with torch.inference_mode():
        for ci, choice in enumerate(choices):
            whole = tok(prompt + choice)["input_ids"]
            cont = whole[len(ids) :]
            logits = lm(input_ids=torch.tensor([ids + cont])).logits[0].float()
            lp = torch.log_softmax(logits, dim=-1)
            expected = sum(float(lp[len(ids) - 1 + k, t]) for k, t in enumerate(cont))
            is_greedy = all(int(lp[len(ids) - 1 + k].argmax()) == t for k, t in enumerate(cont))
            for r in results:
                assert r.choice_logprobs[ci] == pytest.approx(expected, abs=1e-4)
                assert r.choice_greedy[ci] is is_greedy
    if len(choices) == 5:  # the model's own greedy continuation
        assert results[0].choice_greedy[4] is True
    assert not all(results[0].choice_greedy)


def test_stop_sequences_cut_the_output(tiny_loaded, tiny_model_dir):
    gen = {"max_tokens": 16, "temperature": 0}
    req = GenerateRequest(sample_id="a", prompt=PROMPTS[0], generation_config=gen)
    full = run_all(make(tiny_loaded, tiny_model_dir, model_args={"use_chat_template": False}), [req])[0]
    assert full.usage.completion_tokens == 16 or full.finish_reason == "stop"  # max_tokens is an alias
    text = full.output
    # a plain-ASCII stop string from the middle of the unstopped output
    starts = [i for i in range(2, len(text) - 1) if text[i : i + 2].isascii() and text[i : i + 2].isalnum()]
    assert starts, f"output {text!r}: no ASCII pair to use as a stop string"
    stop = text[starts[len(starts) // 2] : starts[len(starts) // 2] + 2]
    for key in ("stop", "stop_seqs"):  # stop_seqs: EvalScope's GenerateConfig name
        stopped_req = GenerateRequest(sample_id="b", prompt=PROMPTS[0], generation_config={**gen, key: [stop]})
        stopped = run_all(make(tiny_loaded, tiny_model_dir, model_args={"use_chat_template": False}), [stopped_req])[0]
        assert stopped.output == text[: text.find(stop)]
        assert stopped.finish_reason == "stop"
        assert stopped.usage.completion_tokens < full.usage.completion_tokens


def test_chat_template_and_override(tiny_loaded, tiny_model_dir):
    _, tok, _ = tiny_loaded
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}]
    gen = {"max_new_tokens": 2}
    r = run_all(
        make(tiny_loaded, tiny_model_dir),
        [GenerateRequest(sample_id="m", messages=messages, generation_config=gen)],
    )[0]
    # expected: the tokenizer's own chat template, rendered by transformers
    assert r.usage.prompt_tokens == len(
        tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)["input_ids"]
    )
    # a bare prompt is wrapped as a user message when the tokenizer has a template
    r2 = run_all(
        make(tiny_loaded, tiny_model_dir),
        [GenerateRequest(sample_id="p", prompt="What is 2+2?", generation_config=gen)],
    )[0]
    user_only = [{"role": "user", "content": "What is 2+2?"}]
    assert r2.usage.prompt_tokens == len(
        tok.apply_chat_template(user_only, tokenize=True, add_generation_prompt=True)["input_ids"]
    )


def test_chat_template_override_from_config(tiny_model_dir):
    from assay_transformers import loading

    template = "Q: {{ messages[-1]['content'] }}\nA:"
    lm, tok, device = loading.load(str(tiny_model_dir), {}, template)
    model = make((lm, tok, device), tiny_model_dir)
    r = run_all(
        model,
        [
            GenerateRequest(
                sample_id="m",
                messages=[{"role": "user", "content": "hi there"}],
                generation_config={"max_new_tokens": 1},
            )
        ],
    )[0]
    assert r.usage.prompt_tokens == len(tok("Q: hi there\nA:", add_special_tokens=False)["input_ids"])


def test_bad_generation_config_names_the_key(tiny_loaded, tiny_model_dir):
    with pytest.raises(AssayError, match="max_new_tokenz"):
        make(tiny_loaded, tiny_model_dir, generation_config={"max_new_tokenz": 3})
    with pytest.raises(AssayError, match="max_tokens = 'many': expected a whole number >= 1"):
        make(tiny_loaded, tiny_model_dir, generation_config={"max_tokens": "many"})
    with pytest.raises(AssayError, match="unknown key 'precison'.*did you mean 'precision'"):
        from assay_transformers import loading

        loading.load(str(tiny_model_dir), {"precison": "float32"})
    with pytest.raises(AssayError, match="precision must be one of"):
        from assay_transformers import loading

        loading.load(str(tiny_model_dir), {"precision": "float8"})


def test_inference_runs_off_the_event_loop(tiny_loaded, tiny_model_dir):
    model = make(tiny_loaded, tiny_model_dir, model_args={"use_chat_template": False})
    ticks: list[float] = []

    async def main():
        async def ticker():
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        t = asyncio.create_task(ticker())
        start = time.perf_counter()
        r = await model.generate(
            GenerateRequest(
                sample_id="x",
                prompt=PROMPTS[1],
                generation_config={"max_new_tokens": 48, "min_new_tokens": 48},
            )
        )
        took = time.perf_counter() - start
        t.cancel()
        await model.aclose()
        return r, took, start

    r, took, start = asyncio.run(main())
    assert r.usage.completion_tokens == 48
    during = [x for x in ticks if start <= x <= start + took]
    # a blocked loop would tick once; a free one ticks about every 10 ms
    assert len(during) >= max(3, int(took / 0.01) // 4), (len(during), took)


def test_one_bad_request_fails_alone_in_its_batch(tiny_loaded, tiny_model_dir):
    model = make(tiny_loaded, tiny_model_dir, batch_size=3)
    reqs = [
        GenerateRequest(sample_id="good1", prompt="Answer:", choices=[" A", " B"], mode="loglikelihood"),
        GenerateRequest(sample_id="bad", prompt="Answer:", choices=[" A", ""], mode="loglikelihood"),
        GenerateRequest(sample_id="good2", prompt="Answer:", choices=[" C", " D"], mode="loglikelihood"),
    ]

    async def main():
        try:
            return await asyncio.gather(*(model.generate(r) for r in reqs), return_exceptions=True)
        finally:
            await model.aclose()

    good1, bad, good2 = asyncio.run(main())
    assert isinstance(bad, AssayError) and "bad: choice 1 is empty" in str(bad)
    assert len(good1.choice_logprobs) == 2 and len(good2.choice_logprobs) == 2
    assert model.batch_sizes == [3, 1, 1, 1]  # the batch failed, then each request alone
