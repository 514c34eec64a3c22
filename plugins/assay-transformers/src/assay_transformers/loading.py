"""Find a checkpoint (local directory or hub id) and load model + tokenizer.

Heavy imports (torch, transformers, modelscope, huggingface_hub) happen inside the
functions, so importing this module is cheap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assay.api import AssayError, did_you_mean
from assay_datasets.hub import HUBS, snapshot, why

# owner/name, as ModelScope and Hugging Face spell repository ids
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")

PRECISIONS = ("auto", "float16", "bfloat16", "float32")
KNOWN_MODEL_ARGS = {
    "precision",
    "torch_dtype",
    "dtype",
    "device_map",
    "revision",
    "trust_remote_code",
    "hub",
    "attn_implementation",
    "use_chat_template",
    "batch_wait",
    "max_length",
}


def is_checkpoint_dir(model: str) -> bool:
    p = Path(model).expanduser()
    return p.is_dir() and (p / "config.json").is_file()


def looks_like_hub_id(model: str) -> bool:
    return bool(HUB_ID.match(model)) and not Path(model).expanduser().exists()


def claims(config: Any) -> bool:
    """Claim a run without --eval-type: a local checkpoint dir or an ``org/name`` hub id."""
    if getattr(config, "api_url", None):
        return False
    model = str(getattr(config, "model", "") or "")
    return is_checkpoint_dir(model) or looks_like_hub_id(model)


def resolve_model_dir(model: str, model_args: dict[str, Any]) -> Path:
    """A local directory as is; otherwise download a snapshot (ModelScope, or Hugging Face)."""
    p = Path(model).expanduser()
    # check for a directory first: modelscope's snapshot_download treats a local path as a repo id
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise AssayError(f"--model {model!r} is a directory without config.json: not a transformers checkpoint")
        return p
    if p.exists():
        raise AssayError(f"--model {model!r} is a file, not a checkpoint directory")
    if not HUB_ID.match(model):
        raise AssayError(
            f"--model {model!r} is neither an existing local directory nor a hub id like 'Qwen/Qwen2.5-0.5B-Instruct'"
        )
    return download(model, hub=str(model_args.get("hub", "modelscope")), revision=model_args.get("revision"))


def download(model_id: str, *, hub: str = "modelscope", revision: str | None = None) -> Path:
    """A checkpoint snapshot from a hub: assay-datasets' hub download (its settings, mirrors and cache)."""
    if hub not in HUBS:
        raise AssayError(f"model_args.hub must be 'modelscope' or 'huggingface', got {hub!r}")
    hint = (
        f"could not get model {model_id!r} from {hub}"
        + (f" (revision {revision!r})" if revision else "")
        + ". Offline? Download the checkpoint elsewhere and pass its local directory as --model"
    )
    try:
        return snapshot(model_id, hub, repo_type="model", revision=revision)
    except ImportError as exc:
        raise AssayError(f"{hint}: downloading needs {exc.name} (pip install {exc.name})") from None
    except Exception as exc:  # noqa: BLE001 - every hub failure reads the same to a user
        raise AssayError(f"{hint} ({why(exc, 'model')})") from None


def pick_dtype(precision: str, device: str) -> Any:
    import torch

    if precision not in PRECISIONS:
        raise AssayError(f"model_args.precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, precision)


def load_chat_template(value: str | None) -> str | None:
    """``--chat-template``: a Jinja string or the path of a file holding one."""
    if not value:
        return None
    p = Path(value).expanduser()
    if len(value) < 4096 and "{" not in value and p.is_file():
        return p.read_text(encoding="utf-8")
    if "{" not in value:
        raise AssayError(f"--chat-template {value!r}: neither a file nor a Jinja template")
    return value


def load(model: str, model_args: dict[str, Any], chat_template: str | None = None) -> tuple[Any, Any, str]:
    """Return (model, tokenizer, device) ready for inference."""
    unknown = sorted(set(model_args) - KNOWN_MODEL_ARGS)
    if unknown:
        hints = [f"{k!r}{did_you_mean(k, KNOWN_MODEL_ARGS)}" for k in unknown]
        raise AssayError(f"--model-args: unknown key {', '.join(hints)}; known: {', '.join(sorted(KNOWN_MODEL_ARGS))}")
    path = resolve_model_dir(model, model_args)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    precision = str(model_args.get("precision") or model_args.get("dtype") or model_args.get("torch_dtype") or "auto")
    dtype = pick_dtype(precision, device)
    trust = bool(model_args.get("trust_remote_code", False))
    import importlib.util

    # device_map="auto" needs accelerate; without it, the model is moved to the one GPU
    default_map = "auto" if cuda and importlib.util.find_spec("accelerate") is not None else None
    device_map = model_args.get("device_map", default_map)
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in 4.56
    kwargs: dict[str, Any] = {dtype_key: dtype, "trust_remote_code": trust}
    if device_map not in (None, "cpu"):
        kwargs["device_map"] = device_map
    if model_args.get("attn_implementation"):
        kwargs["attn_implementation"] = model_args["attn_implementation"]
    try:
        tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust)
        lm = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except (OSError, ValueError) as exc:
        raise AssayError(
            f"cannot load checkpoint {path}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        ) from None
    if "device_map" not in kwargs:
        lm.to(device)
    lm.eval()
    template = load_chat_template(chat_template)
    if template:
        tok.chat_template = template
    tok.padding_side = "left"
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise AssayError(f"{path}: the tokenizer has neither a pad nor an eos token; batching needs one")
        tok.pad_token = tok.eos_token
    return lm, tok, device
