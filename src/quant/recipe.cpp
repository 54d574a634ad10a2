// The recipe table and the per-tensor rules of recipe.h. The rules follow the order of
// llama.cpp's llama_tensor_get_type for the mixes we offer (the IQ1/IQ2/IQ3 mixes, which need
// an importance matrix, are not offered), so a Q4_K_M file we write has the same tensor types
// as one llama-quantize writes from the same input.
#include "quant/recipe.h"

#include "core/error.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace ingot::quant {
namespace {

constexpr std::array kRecipes = {
    Recipe{"F32", 0, Type::F32, "32-bit float, no quantization"},
    Recipe{"F16", 1, Type::F16, "16-bit float"},
    Recipe{"BF16", 32, Type::BF16, "bfloat16"},
    Recipe{"Q8_0", 7, Type::Q8_0, "8.5 bpw, near lossless"},
    Recipe{"Q6_K", 18, Type::Q6_K, "6.56 bpw"},
    Recipe{"Q5_K_M", 17, Type::Q5_K, "Q5_K, some attn_v/ffn_down in Q6_K"},
    Recipe{"Q5_K_S", 16, Type::Q5_K, "Q5_K"},
    Recipe{"Q5_1", 9, Type::Q5_1, "6 bpw, legacy"},
    Recipe{"Q5_0", 8, Type::Q5_0, "5.5 bpw, legacy"},
    Recipe{"Q4_K_M", 15, Type::Q4_K, "Q4_K, some attn_v/ffn_down in Q6_K"},
    Recipe{"Q4_K_S", 14, Type::Q4_K, "Q4_K, first attn_v/ffn_down in Q5_K"},
    Recipe{"IQ4_XS", 30, Type::IQ4_XS, "4.25 bpw non-linear"},
    Recipe{"IQ4_NL", 25, Type::IQ4_NL, "4.5 bpw non-linear"},
    Recipe{"Q4_1", 3, Type::Q4_1, "5 bpw, legacy"},
    Recipe{"Q4_0", 2, Type::Q4_0, "4.5 bpw, legacy"},
    Recipe{"Q3_K_L", 13, Type::Q3_K, "Q3_K, attn_v/attn_output/ffn_down in Q5_K"},
    Recipe{"Q3_K_M", 12, Type::Q3_K, "Q3_K, attn_v/attn_output/ffn_down in Q4_K/Q5_K"},
    Recipe{"Q3_K_S", 11, Type::Q3_K, "Q3_K"},
    Recipe{"Q2_K", 10, Type::Q2_K, "Q2_K, attn_v/ffn_down in Q3_K/Q4_K"},
};

struct Alias {
  std::string_view alias, target;
};
constexpr Alias kAliases[] = {{"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

enum class Category { token_embd, attn_q, attn_v, attn_k, attn_qkv, attn_kv_b, attn_output, ffn_up, ffn_gate,
                      ffn_down, output, other };

Category category_of(std::string_view name) {
  if (name == "output.weight") return Category::output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Category::token_embd;
  if (contains(name, "attn_qkv.weight")) return Category::attn_qkv;
  if (contains(name, "attn_kv_b.weight")) return Category::attn_kv_b;
  if (contains(name, "attn_v.weight")) return Category::attn_v;
  if (contains(name, "attn_k.weight")) return Category::attn_k;
  if (contains(name, "attn_q.weight")) return Category::attn_q;
  if (contains(name, "attn_output.weight")) return Category::attn_output;
  if (contains(name, "ffn_up")) return Category::ffn_up;
  if (contains(name, "ffn_gate")) return Category::ffn_gate;
  if (contains(name, "ffn_down")) return Category::ffn_down;
  return Category::other;
}

bool is_attn_v_like(Category c) { return c == Category::attn_v || c == Category::attn_qkv || c == Category::attn_kv_b; }

// Dimensions up to the last one above 1 (ggml_n_dims).
size_t effective_dims(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] > 1) n = i + 1;
  }
  return n;
}

// Tensors llama.cpp never quantizes: vectors, norms, routers, position tables, tiny convs.
bool allows_quantization(const TensorShape& t) {
  if (effective_dims(t.dims) < 2) return false;
  const std::string_view name = t.name;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  static constexpr std::string_view kKeep[] = {
      "_norm.weight",          "ffn_gate_inp.weight",     "ffn_gate_tid2eid.weight", "altup",
      "laurel",                "per_layer_model_proj",    "ssm_conv1d",              "shortconv.conv.weight",
      "indexer.k_proj.weight", "indexer.q_proj.weight",   "time_mix_first.weight",   "time_mix_w0.weight",
      "time_mix_w1.weight",    "time_mix_w2.weight",      "time_mix_v0.weight",      "time_mix_v1.weight",
      "time_mix_v2.weight",    "time_mix_a0.weight",      "time_mix_a1.weight",      "time_mix_a2.weight",
      "time_mix_g1.weight",    "time_mix_g2.weight",      "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
      "time_mix_lerp_fused.weight", "attn_rel_b.weight",  ".position_embd",          "sam.pos_embd",
      "sam.neck.",             "sam.net_",                ".rel_pos",                ".patch_embd",
      ".patch_merger",         "a.rvq.codebook",          "mm.a.code_embd",
  };
  for (std::string_view part : kKeep) {
    if (contains(name, part)) return false;
  }
  return true;
}

// The layer number of "blk.N.*", or -1.
int layer_of(std::string_view name) {
  int layer = -1;
  if (name.starts_with("blk.")) {
    size_t i = 4;
    int value = 0;
    bool digits = false;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && value < 100000000) {
      value = value * 10 + (name[i] - '0');
      digits = true;
      ++i;
    }
    if (digits) layer = value;
  }
  return layer;
}

bool is_quantized(Type t) { return t != Type::F32 && t != Type::F16 && t != Type::BF16; }

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

struct Counters {
  int n_attention_wv = 0, i_attention_wv = 0, i_ffn_down = 0;
  bool tied_embeddings = true;
};

// llama_tensor_get_type_impl for the non-IQ mixes.
Type mixture_type(const Recipe& r, const TensorShape& t, Category c, const ModelShape& m, Counters& n) {
  Type type = r.default_type;
  const std::string_view name = r.name;
  const uint32_t n_gqa = m.n_head_kv > 0 ? m.n_head / m.n_head_kv : 0;
  const auto is = [&](std::string_view recipe) { return name == recipe; };
  if (c == Category::output || (n.tied_embeddings && c == Category::token_embd)) {
    const int64_t nx = t.dims.empty() ? 0 : t.dims[0];
    if (m.is_falcon || nx % traits(type).block_elements != 0) {
      type = Type::Q8_0;
    } else if (type != Type::Q8_0) {
      type = Type::Q6_K;
    }
  } else if (c == Category::token_embd) {
    // the mixes offered here keep the default type for an untied token embedding
  } else if (is_attn_v_like(c)) {
    if (is("Q2_K")) {
      type = n_gqa >= 4 ? Type::Q4_K : Type::Q3_K;
    } else if (is("Q3_K_M")) {
      type = n.i_attention_wv < 2 ? Type::Q5_K : Type::Q4_K;
    } else if (is("Q3_K_L")) {
      type = Type::Q5_K;
    } else if ((is("IQ4_NL") || is("IQ4_XS")) && n_gqa >= 4) {
      type = Type::Q5_K;
    } else if ((is("Q4_K_M") || is("Q5_K_M")) && use_more_bits(n.i_attention_wv, n.n_attention_wv)) {
      type = Type::Q6_K;
    } else if (is("Q4_K_S") && n.i_attention_wv < 4) {
      type = Type::Q5_K;
    }
    if (m.n_expert == 8) type = Type::Q8_0;
    ++n.i_attention_wv;
  } else if (c == Category::attn_k) {
    if (m.n_expert == 8) type = Type::Q8_0;
  } else if (c == Category::ffn_down) {
    int i_layer = n.i_ffn_down;
    const int n_layer = static_cast<int>(m.n_layer);
    if (m.n_expert > 1) {
      i_layer = layer_of(t.name);
      if (i_layer < 0 || i_layer >= n_layer) {
        fail(ErrorCode::invalid_file, "tensor {}: cannot tell its layer (expected blk.N. with N < {})", t.name, n_layer);
      }
    }
    if (is("Q2_K")) {
      type = Type::Q3_K;
    } else if (is("Q3_K_M")) {
      type = i_layer < n_layer / 16 ? Type::Q5_K : (!m.is_falcon || use_more_bits(i_layer, n_layer)) ? Type::Q4_K : Type::Q3_K;
    } else if (is("Q3_K_L")) {
      type = m.is_falcon ? Type::Q4_K : Type::Q5_K;
    } else if (is("Q4_K_M")) {
      if (m.is_falcon) {
        type = i_layer < n_layer / 16 ? Type::Q6_K : use_more_bits(i_layer, n_layer) ? Type::Q5_K : Type::Q4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        type = Type::Q6_K;
      }
    } else if (i_layer < n_layer / 8 && (is("IQ4_NL") || is("IQ4_XS"))) {
      type = Type::Q5_K;
    } else if (is("Q5_K_M") && use_more_bits(i_layer, n_layer)) {
      type = Type::Q6_K;
    } else if (is("Q4_K_S") && !m.is_falcon && i_layer < n_layer / 8) {
      type = Type::Q5_K;
    }
    ++n.i_ffn_down;
  } else if (c == Category::attn_output) {
    if (!m.is_falcon) {
      if (m.n_expert == 8) {
        if (is("Q2_K") || is("Q3_K_S") || is("Q3_K_M") || is("IQ4_NL") || is("Q4_K_S") || is("Q4_K_M") ||
            is("IQ4_XS")) {
          type = Type::Q5_K;
        }
      } else if (is("Q2_K")) {
        type = Type::Q3_K;
      } else if (is("Q3_K_M")) {
        type = Type::Q4_K;
      } else if (is("Q3_K_L")) {
        type = Type::Q5_K;
      }
    } else if (is("Q3_K_L")) {
      type = Type::Q4_K;
    }
  }
  return type;
}

// A 32-element type for rows that do not fit a 256-element block (tensor_type_fallback).
Type fallback_type(const TensorShape& t, Type type, bool& fell_back) {
  const int64_t n_cols = t.dims.empty() ? 0 : t.dims[0];
  fell_back = false;
  if (n_cols % traits(type).block_elements == 0) return type;
  fell_back = true;
  Type result;
  switch (type) {
    case Type::IQ4_XS: result = Type::IQ4_NL; break;
    case Type::Q2_K:
    case Type::Q3_K: result = Type::Q4_0; break;
    case Type::Q4_K: result = Type::Q5_0; break;
    case Type::Q5_K: result = Type::Q5_1; break;
    case Type::Q6_K: result = Type::Q8_0; break;
    default:
      fail(ErrorCode::unsupported, "tensor {}: row length {} is not a multiple of the {} block size {}", t.name,
           n_cols, name(type), traits(type).block_elements);
  }
  if (n_cols % traits(result).block_elements != 0) result = Type::F16;
  return result;
}

}  // namespace

std::span<const Recipe> all_recipes() { return kRecipes; }

std::string recipe_names() {
  std::string names;
  for (const Recipe& r : kRecipes) {
    if (!names.empty()) names += ", ";
    names += r.name;
  }
  for (const Alias& a : kAliases) {
    names += ", ";
    names += a.alias;
  }
  return names;
}

const Recipe& find_recipe(std::string_view name) {
  for (const Alias& a : kAliases) {
    if (iequals(a.alias, name)) name = a.target;
  }
  for (const Recipe& r : kRecipes) {
    if (iequals(r.name, name)) return r;
  }
  fail(ErrorCode::invalid_argument, "unknown quantization type '{}'; valid types: {}", name, recipe_names());
}

std::vector<TensorPlan> plan_quantization(const Recipe& recipe, std::span<const TensorShape> tensors,
                                          const ModelShape& model) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
    if (la != lb) return la < lb;
    return tensors[a].name < tensors[b].name;
  });
  Counters counters;
  for (const TensorShape& t : tensors) {
    const Category c = category_of(t.name);
    if (is_attn_v_like(c)) ++counters.n_attention_wv;
    if (c == Category::output) counters.tied_embeddings = false;
  }
  std::vector<TensorPlan> plan;
  plan.reserve(tensors.size());
  for (size_t index : order) {
    const TensorShape& t = tensors[index];
    TensorPlan p{index, t.type, false};
    if (allows_quantization(t)) {
      p.target = recipe.default_type;
      if (is_quantized(recipe.default_type)) {
        p.target = mixture_type(recipe, t, category_of(t.name), model, counters);
        p.target = fallback_type(t, p.target, p.fell_back);
      }
    }
    plan.push_back(p);
  }
  return plan;
}

}  // namespace ingot::quant
