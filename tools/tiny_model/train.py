#!/usr/bin/env python3
"""Trains ingot-tiny: a ~12 M-parameter Llama-architecture model with its own byte-level BPE
tokenizer, on the King James Version text that prepare_corpus.sh extracts from Debian's
bible-kjv-text package. One run of a few minutes on one H100; writes a Hugging Face folder
(safetensors F32, config.json, tokenizer.json + tokenizer_config.json with a ChatML template)
that `ingot convert` turns into GGUF.

Held-out perplexity uses the protocol `ingot perplexity` uses: tokenize the whole text without
special tokens, cut it into non-overlapping chunks of CTX tokens, and score the second half of
each chunk (every token there predicted from all tokens before it in its chunk).
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def train_tokenizer(path, vocab_size):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train([path], trainer)
    return tokenizer


def held_out_perplexity(model, ids, ctx, device):
    """Non-overlapping chunks of ctx tokens; the second half of each chunk is scored."""
    model.eval()
    n_chunks = len(ids) // ctx
    total_nll, total_count = 0.0, 0
    with torch.no_grad():
        for c in range(n_chunks):
            chunk = torch.tensor(ids[c * ctx:(c + 1) * ctx], device=device)[None]
            logits = model(input_ids=chunk).logits[0].float()
            first = ctx // 2
            log_probs = F.log_softmax(logits[first - 1:ctx - 1], dim=-1)
            targets = chunk[0, first:ctx]
            total_nll -= log_probs.gather(1, targets[:, None]).sum().item()
            total_count += ctx - first
    model.train()
    return math.exp(total_nll / total_count), n_chunks, total_count


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", required=True, help="folder with train.txt and valid.txt")
    parser.add_argument("--out", required=True, help="Hugging Face output folder")
    parser.add_argument("--vocab", type=int, default=6144)
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--ffn", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--max-seconds", type=float, default=360)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--patience", type=int, default=4,
                        help="stop after this many evaluations without a better held-out perplexity")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = "cuda"
    start = time.time()
    train_path = os.path.join(args.corpus, "train.txt")
    tokenizer = train_tokenizer(train_path, args.vocab)
    vocab_size = tokenizer.get_vocab_size()
    train_ids = tokenizer.encode(open(train_path).read()).ids
    valid_ids = tokenizer.encode(open(os.path.join(args.corpus, "valid.txt")).read()).ids
    print(f"tokenizer: {vocab_size} tokens; train {len(train_ids)} tokens, held out {len(valid_ids)} "
          f"({time.time() - start:.1f}s)", flush=True)

    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=args.hidden, intermediate_size=args.ffn,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, max_position_embeddings=2 * args.ctx,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
        bos_token_id=0, eos_token_id=0, attention_dropout=0.0,
    )
    model = LlamaForCausalLM(config).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters", flush=True)

    data = torch.tensor(train_ids, device=device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), fused=True)
    warmup = 50

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    best = (float("inf"), None, -1)
    evals_without_gain = 0
    train_start = time.time()
    step = 0
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        starts = torch.randint(0, len(data) - args.ctx - 1, (args.batch,), device=device)
        offsets = torch.arange(args.ctx + 1, device=device)
        window = data[starts[:, None] + offsets[None, :]]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=window[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, vocab_size), window[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        out_of_time = time.time() - train_start > args.max_seconds
        if step % args.eval_every == 0 or step == args.steps - 1 or out_of_time:
            ppl, _, _ = held_out_perplexity(model, valid_ids, args.ctx, device)
            print(f"step {step:5d} loss {loss.item():.4f} held-out ppl {ppl:.3f} "
                  f"({time.time() - train_start:.0f}s)", flush=True)
            if ppl < best[0]:
                best = (ppl, {k: v.detach().clone() for k, v in model.state_dict().items()}, step)
                evals_without_gain = 0
            else:
                evals_without_gain += 1
            if evals_without_gain >= args.patience:
                print("held-out perplexity stopped improving: early stop", flush=True)
                break
        if out_of_time:
            print("time budget reached", flush=True)
            break
    train_seconds = time.time() - train_start
    model.load_state_dict(best[1])
    ppl, n_chunks, n_scored = held_out_perplexity(model, valid_ids, args.ctx, device)
    print(f"best step {best[2]}: held-out perplexity {ppl:.4f} (F32, {n_chunks} chunks of {args.ctx}, "
          f"{n_scored} tokens scored)", flush=True)

    os.makedirs(args.out, exist_ok=True)
    model.to(torch.float32).save_pretrained(args.out, safe_serialization=True, max_shard_size="14MB")
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", unk_token=None, pad_token="<|endoftext|>")
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(args.out)
    sample_prompt = "Once upon a time"
    ids = torch.tensor([tokenizer.encode(sample_prompt).ids], device=device)
    generated = model.generate(input_ids=ids, max_new_tokens=48, do_sample=False)
    sample = tokenizer.decode(generated[0].tolist())
    print(f"greedy sample: {sample!r}", flush=True)
    torch.manual_seed(args.seed)
    sampled = model.generate(input_ids=ids, max_new_tokens=64, do_sample=True, temperature=0.8,
                             top_p=0.95, repetition_penalty=1.1)
    print(f"sampled (T=0.8, top-p 0.95, repetition 1.1): {tokenizer.decode(sampled[0].tolist())!r}", flush=True)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"parameters": n_params, "vocab_size": vocab_size, "train_tokens": len(train_ids),
                   "held_out_tokens": len(valid_ids), "steps": step + 1, "best_step": best[2],
                   "train_seconds": round(train_seconds, 1), "final_train_loss": round(loss.item(), 4),
                   "held_out_perplexity_f32": round(ppl, 4), "ppl_ctx": args.ctx,
                   "greedy_sample": sample, "batch": args.batch, "lr": args.lr}, f, indent=1)
    print(f"total {time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
