#!/usr/bin/env python3
"""Builds the reference parity fixtures: small random-weight models of each architecture ingot
supports, made and run by Hugging Face transformers (on the GPU machine, where torch and
transformers are installed), with their logits for fixed prompts.

For each model, writes tests/reference/models/<name>/: the checkpoint (safetensors + config.json
+ tokenizer files), prompts.json (the prompt token ids and the greedy continuation of the first
prompt), and logits_<i>.npy (float32 [n_tokens, n_vocab]: next-token logits at every position,
computed in float32 with eager attention). Weights are drawn so logits vary by a few units
(not the near-uniform logits of the default initialisation), and rounded to the checkpoint's
storage type before the logits are computed, so the stored weights are exactly the ones used.

Two choices keep the fixtures measuring the engine's arithmetic rather than amplified rounding
noise (docs/MODELS.md "Reference parity"): every weight is exactly representable in bf16 and in
f16 (rounded to bf16, |x| < 2^-14 flushed to zero), so F16/BF16 conversions are lossless even for
the float32 checkpoint; and the init is less chaotic, as in trained models: residual output
projections (o_proj, down_proj) scaled by 1/sqrt(2 * n_layers) (GPT-2's init) and queries/keys
scaled by 1/2 (softer attention; Qwen3 scales its q/k RMSNorm weights instead).

Usage: python3 make_fixtures.py --corpus DIR_WITH_train.txt --out tests/reference/models
"""
import argparse
import json
import os

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
          " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
PROMPT_LENGTHS = (11, 50)
CONTINUATION = 32


def make_tokenizer(corpus, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2,
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([os.path.join(corpus, "train.txt")], trainer)
    return tok


def exact_in_f16_and_bf16(t):
    """Rounds to bf16 and flushes |x| < 2^-14 to zero: such values convert to f16 and bf16 exactly
    (bf16 keeps 8 significant bits, f16 11; f16's normal range starts at 2^-14)."""
    t = t.to(torch.bfloat16).to(torch.float32)
    return torch.where(t.abs() < 2.0 ** -14, torch.zeros_like(t), t)


def randomize(model, generator, storage_dtype, n_layers):
    residual_scale = 1.0 / (2 * n_layers) ** 0.5
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("q_norm" in name or "k_norm" in name):
                p.copy_(0.5 * (1.0 + 0.1 * torch.randn(p.shape, generator=generator)))
            elif p.dim() == 1 and "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:  # biases
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[-1]
                scale = 1.0 / fan_in ** 0.5
                if "o_proj" in name or "down_proj" in name:
                    scale *= residual_scale
                elif ("q_proj" in name or "k_proj" in name) and "Qwen3" not in type(model).__name__:
                    scale *= 0.5
                p.copy_(torch.randn(p.shape, generator=generator) * scale)
            # Round here, on the parameters alone: rounding the whole module would also round
            # non-parameter buffers such as rotary frequencies.
            p.copy_(exact_in_f16_and_bf16(p).to(storage_dtype).to(torch.float32))


def to_old_config_layout(path):
    """Rewrites config.json the way checkpoints before transformers 5 store rope settings."""
    config = json.load(open(path))
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    if rope.get("rope_type", "default") != "default":
        config["rope_scaling"] = rope
    json.dump(config, open(path, "w"), indent=2)


FIXTURES = [
    # name, config class, model class, storage dtype, old config layout, config arguments
    ("llama3", LlamaConfig, LlamaForCausalLM, torch.bfloat16, True, dict(
        hidden_size=256, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, tie_word_embeddings=False, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 32})),
    ("smollm", LlamaConfig, LlamaForCausalLM, torch.float32, True, dict(
        hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, tie_word_embeddings=True, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0})),
    ("qwen2", Qwen2Config, Qwen2ForCausalLM, torch.bfloat16, False, dict(
        hidden_size=256, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
    ("qwen3", Qwen3Config, Qwen3ForCausalLM, torch.bfloat16, False, dict(
        hidden_size=256, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=64, tie_word_embeddings=True, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--vocab", type=int, default=1024)
    args = parser.parse_args()
    torch.manual_seed(0)
    tok = make_tokenizer(args.corpus, args.vocab)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    text = open(os.path.join(args.corpus, "train.txt")).read()[:20000]
    ids = tok.encode(text).ids
    prompts = [ids[100:100 + PROMPT_LENGTHS[0]], ids[1000:1000 + PROMPT_LENGTHS[1]]]
    for index, (name, config_cls, model_cls, dtype, old_layout, kwargs) in enumerate(FIXTURES):
        generator = torch.Generator().manual_seed(1000 + index)
        config = config_cls(vocab_size=tok.get_vocab_size(), max_position_embeddings=256,
                            bos_token_id=0, eos_token_id=0, attn_implementation="eager", **kwargs)
        model = model_cls(config)
        randomize(model, generator, dtype, config.num_hidden_layers)  # exact in dtype, computed in f32
        model.eval()
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        model.config.dtype = dtype
        model.save_pretrained(out, safe_serialization=True,
                              state_dict={k: v.to(dtype) for k, v in model.state_dict().items()
                                          if not (config.tie_word_embeddings and k == "lm_head.weight")})
        fast.save_pretrained(out)
        if old_layout:
            to_old_config_layout(os.path.join(out, "config.json"))
        record = {"architecture": model_cls.__name__, "storage_dtype": str(dtype).replace("torch.", ""),
                  "prompts": prompts}
        with torch.no_grad():
            for i, prompt in enumerate(prompts):
                logits = model(input_ids=torch.tensor([prompt])).logits[0].float().numpy()
                np.save(os.path.join(out, f"logits_{i}.npy"), logits.astype(np.float32))
                print(f"{name} prompt {i}: {len(prompt)} tokens, logits std {logits.std():.3f}, "
                      f"max |logit| {np.abs(logits).max():.3f}")
            generated = model.generate(input_ids=torch.tensor([prompts[0]]), max_new_tokens=CONTINUATION,
                                       do_sample=False, min_new_tokens=CONTINUATION)
        record["greedy_continuation"] = generated[0, len(prompts[0]):].tolist()
        json.dump(record, open(os.path.join(out, "prompts.json"), "w"), indent=1)
        print(f"{name}: config {json.load(open(os.path.join(out, 'config.json'))).get('rope_scaling')}")


if __name__ == "__main__":
    main()
