"""A tiny ChatGLM-like decoder as remote code: make_tiny_model.py --family remote copies this file into the
model folder, and config.json's auto_map names its classes, so it loads only with --trust_remote_code.

It keeps what sets ChatGLM's code apart from transformers' own models: its module names (`transformer.
encoder.layers`, a fused `query_key_value` with grouped-query attention, `dense_h_to_4h`/`dense_4h_to_h`,
an untied `output_layer`), RMSNorm and rotary positions, which it derives from the attention mask itself
(left-padded rows included), and transformers' DynamicCache for generation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import DynamicCache, GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast


class TinyGLMConfig(PretrainedConfig):
    model_type = "tiny_glm"

    def __init__(
        self,
        padded_vocab_size: int = 1000,
        hidden_size: int = 64,
        ffn_hidden_size: int = 256,
        num_layers: int = 2,
        num_attention_heads: int = 4,
        multi_query_group_num: int = 2,
        layernorm_epsilon: float = 1e-5,
        rope_theta: float = 10000.0,
        **kwargs,
    ):
        self.padded_vocab_size = padded_vocab_size
        self.vocab_size = padded_vocab_size
        self.hidden_size = hidden_size
        self.ffn_hidden_size = ffn_hidden_size
        self.num_layers = num_layers
        self.num_hidden_layers = num_layers
        self.num_attention_heads = num_attention_heads
        self.multi_query_group_num = multi_query_group_num
        self.layernorm_epsilon = layernorm_epsilon
        self.rope_theta = rope_theta
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(**kwargs)


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype) * self.weight


def rotate(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotary embedding of x (batch, heads, seq, dim) at `positions` (batch, seq)."""
    dim = x.shape[-1]
    inverse = 1.0 / theta ** (torch.arange(0, dim, 2, device=x.device, dtype=torch.float32) / dim)
    angles = positions[:, None, :, None].float() * inverse
    cos, sin = angles.cos().repeat_interleave(2, -1), angles.sin().repeat_interleave(2, -1)
    pairs = torch.stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2)
    return (x.float() * cos + pairs.float() * sin).to(x.dtype)


class SelfAttention(nn.Module):
    def __init__(self, config: TinyGLMConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.heads = config.num_attention_heads
        self.groups = config.multi_query_group_num
        self.head_dim = config.hidden_size // self.heads
        self.theta = config.rope_theta
        self.query_key_value = nn.Linear(config.hidden_size, (self.heads + 2 * self.groups) * self.head_dim)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(self, x, positions, mask, cache):
        batch, length, _ = x.shape
        q, k, v = self.query_key_value(x).split(
            [self.heads * self.head_dim, self.groups * self.head_dim, self.groups * self.head_dim], dim=-1
        )
        q = rotate(q.view(batch, length, self.heads, self.head_dim).transpose(1, 2), positions, self.theta)
        k = rotate(k.view(batch, length, self.groups, self.head_dim).transpose(1, 2), positions, self.theta)
        v = v.view(batch, length, self.groups, self.head_dim).transpose(1, 2)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)
        repeat = self.heads // self.groups
        k, v = k.repeat_interleave(repeat, 1), v.repeat_interleave(repeat, 1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.dense(out.transpose(1, 2).reshape(batch, length, -1))


class GLMBlock(nn.Module):
    def __init__(self, config: TinyGLMConfig, layer_idx: int):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.layernorm_epsilon)
        self.self_attention = SelfAttention(config, layer_idx)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.layernorm_epsilon)
        self.mlp = nn.ModuleDict(
            {
                # SwiGLU: one projection to twice the width, halves gated.
                "dense_h_to_4h": nn.Linear(config.hidden_size, 2 * config.ffn_hidden_size, bias=False),
                "dense_4h_to_h": nn.Linear(config.ffn_hidden_size, config.hidden_size, bias=False),
            }
        )

    def forward(self, x, positions, mask, cache):
        x = x + self.self_attention(self.input_layernorm(x), positions, mask, cache)
        gate, up = self.mlp["dense_h_to_4h"](self.post_attention_layernorm(x)).chunk(2, dim=-1)
        return x + self.mlp["dense_4h_to_h"](F.silu(gate) * up)


class TinyGLMPreTrainedModel(PreTrainedModel):
    config_class = TinyGLMConfig
    base_model_prefix = "transformer"
    _no_split_modules = ["GLMBlock"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, RMSNorm):
            nn.init.ones_(module.weight)


class TinyGLMModel(TinyGLMPreTrainedModel):
    def __init__(self, config: TinyGLMConfig):
        super().__init__(config)
        self.embedding = nn.ModuleDict(
            {"word_embeddings": nn.Embedding(config.padded_vocab_size, config.hidden_size)}
        )
        self.encoder = nn.ModuleDict(
            {
                "layers": nn.ModuleList(GLMBlock(config, i) for i in range(config.num_layers)),
                "final_layernorm": RMSNorm(config.hidden_size, config.layernorm_epsilon),
            }
        )
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embedding["word_embeddings"]

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embedding["word_embeddings"] = value

    def forward(self, input_ids, attention_mask=None, cache=None, inputs_embeds=None):
        x = self.embedding["word_embeddings"](input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = x.shape[:2]
        past = cache.get_seq_length() if cache is not None else 0
        if attention_mask is None:
            attention_mask = torch.ones(batch, past + length, dtype=torch.long, device=x.device)
        # Positions count the real tokens before each one, so a left-padded row starts at 0.
        positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -length:]
        keys = torch.arange(past + length, device=x.device)
        causal = keys[None, :] <= (past + torch.arange(length, device=x.device))[:, None]
        visible = causal[None, None] & attention_mask[:, None, None, :].bool()
        # A float mask: a padding query that sees no key attends evenly instead of giving NaN.
        mask = torch.zeros(visible.shape, dtype=x.dtype, device=x.device).masked_fill(
            ~visible, torch.finfo(x.dtype).min
        )
        for layer in self.encoder["layers"]:
            x = layer(x, positions, mask, cache)
        return self.encoder["final_layernorm"](x)


class TinyGLMForCausalLM(TinyGLMPreTrainedModel, GenerationMixin):
    def __init__(self, config: TinyGLMConfig):
        super().__init__(config)
        self.transformer = TinyGLMModel(config)
        self.output_layer = nn.Linear(config.hidden_size, config.padded_vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.output_layer

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        cache=None,
        inputs_embeds=None,
        labels=None,
        use_cache=None,
        **kwargs,
    ):
        if use_cache and cache is None:
            cache = DynamicCache()
        hidden = self.transformer(input_ids, attention_mask, cache, inputs_embeds)
        logits = self.output_layer(hidden).float()
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100
            )
        return CausalLMOutputWithPast(loss=loss, logits=logits, cache=cache)
