"""Build a tiny Llama checkpoint with a byte-level BPE tokenizer and a chat template, locally.

Used by the tests and the benchmark scripts: nothing is downloaded. The weights are
random (seeded), so the model's outputs are gibberish but deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}"
    "<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

SPECIALS = ["<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]

DEFAULT_CORPUS = """\
Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.
How many clips did Natalia sell altogether in April and May? The answer is 72.
Which of the following is a renewable source of energy? Wind, coal, oil or natural gas.
Plants make food through photosynthesis using sunlight, water and carbon dioxide.
The quick brown fox jumps over the lazy dog. 0 1 2 3 4 5 6 7 8 9 10 100 1000 + - * / = % $
Question: What is the boiling point of water at sea level? Answer: 100 degrees Celsius.
A student measures the mass of a rock. Let me think step by step. #### 18
"""


def build_tiny_llama(
    out_dir: str | Path,
    *,
    corpus: str | None = None,
    vocab_size: int = 512,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate_size: int | None = None,
    model_vocab: int | None = None,
    max_positions: int = 4096,
    seed: int = 0,
    chat_template: str | None = CHAT_TEMPLATE,
    dtype: Any = None,
) -> Path:
    """Train a byte-level BPE tokenizer on ``corpus`` and save it with a random Llama model."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = corpus or DEFAULT_CORPUS
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bpe.train_from_iterator(lines * 4, trainer=trainer)
    bos, eos = bpe.token_to_id("<s>"), bpe.token_to_id("</s>")
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=SPECIALS[3:],
        padding_side="left",
    )
    if chat_template:
        tok.chat_template = chat_template
    tok.save_pretrained(out)
    config = LlamaConfig(
        vocab_size=max(len(tok), model_vocab or 0),  # a larger embedding than the tokenizer: realistic sizes
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=tok.pad_token_id,
        initializer_range=0.2,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    if dtype is not None:
        torch.set_default_dtype(dtype)
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(torch.float32)
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=eos, pad_token_id=tok.pad_token_id)
    model.save_pretrained(out)
    return out
