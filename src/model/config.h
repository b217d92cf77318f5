// config.h — the model configuration (fla's config.json for model_type "hgrn2" and "hgrn"), the sizes it
// implies, the parameter names and shapes of a checkpoint, and loading a checkpoint into parameters.
// Keys, defaults and rules follow SPEC.md §1.1, §2.1-2.3, §2.7, §3.1, §3.3 (fla HEAD):
//   HGRN2: H = D / expand_ratio (expand_ratio wins over num_heads; if it is null, expand_ratio = D / num_heads),
//          K = expand_ratio, V = D / H, F = H·K (= D: this port requires D % expand_ratio == 0).
//   HGRN1: E = D·expand_ratio channels, each a scalar recurrence; described here as H = E heads of K = V = 1,
//          so that F = E and the state is H·K·V = E numbers (expand_ratio must be 1 with lower bounds).
//   MLP:   I = intermediate_size, or 256·ceil(floor(D·hidden_ratio·2/3) / 256) when it is null.
// What this port cannot compute is refused with an error naming the key: hybrid attention layers ("attn"),
// "attnres_block_size", activations other than swish/silu. Keys fla does not know are kept (`extra`) and
// written back, as Hugging Face keeps them as attributes; unknown_keys() lists them for strict callers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/hf_folder.h"

namespace hgrn {

enum class ModelType { hgrn2, hgrn1 };
std::string model_type_name(ModelType t);  // "hgrn2" / "hgrn" (fla's model_type)

struct ModelConfig {
    ModelType model_type = ModelType::hgrn2;
    // ---- keys of config.json (fla HEAD defaults; HGRN1's differ where noted) ----
    int64_t vocab_size = 32000;
    int64_t hidden_size = 2048;                // D
    int64_t num_hidden_layers = 24;            // L
    int64_t expand_ratio = 128;                // HGRN2: K (resolved from num_heads when null). HGRN1: E / D, default 1
    std::optional<int64_t> num_heads;          // HGRN2 only, as stored (D / expand_ratio when absent); the layer uses heads()
    std::string attn_mode = "chunk";           // HGRN1 default "fused_recurrent"; recorded, the kernels are ours to pick
    bool use_short_conv = false;
    int64_t conv_size = 4;                     // W
    bool use_lower_bound = true;
    double hidden_ratio = 4;
    std::optional<int64_t> intermediate_size;  // null: derived, see mlp_dim()
    std::string hidden_act = "swish";          // "swish" or "silu"
    int64_t max_position_embeddings = 2048;    // unused by the math
    bool elementwise_affine = true;            // g_norm has a weight
    double norm_eps = 1e-6;                    // attn_norm, mlp_norm, final norm (legacy key: rms_norm_eps)
    bool use_cache = true;
    std::optional<int64_t> pad_token_id;
    std::optional<int64_t> bos_token_id = 1;
    std::optional<int64_t> eos_token_id = 2;
    bool tie_word_embeddings = false;
    double initializer_range = 0.02;
    bool fuse_norm = true, fuse_swiglu = true, fuse_cross_entropy = true;  // fla kernel choices: recorded only
    bool fuse_linear_cross_entropy = false, use_l2warp = false;
    nlohmann::json extra = nlohmann::json::object();  // other keys, kept verbatim and written back
    std::vector<std::string> notes;                   // things worth telling the user (ignored num_heads, ...)

    // ---- derived sizes ----
    int64_t heads() const;       // H
    int64_t head_f_dim() const;  // K
    int64_t head_i_dim() const;  // V
    int64_t forget_dim() const;  // F = H·K: rows of q_proj and f_proj (HGRN2), of i/f/g_proj (HGRN1)
    int64_t input_dim() const;   // rows of i_proj: D (HGRN2) or E (HGRN1)
    int64_t mlp_dim() const;     // I

    // Throws hgrn::Error naming the key when the configuration is invalid or unsupported.
    void validate() const;
    // fp32 recurrent state (H·K·V per layer) plus the short-conv cache (W·(2F + D) HGRN2, W·2E HGRN1 per
    // layer), in bytes, for one sequence.
    int64_t state_bytes_per_sequence() const;
    int64_t parameter_count() const;  // sum over expected_parameters()
    // Keys in `extra` that neither fla nor Hugging Face's generic config knows (for strict configs).
    std::vector<std::string> unknown_keys() const;

    // fla-loadable config.json content: model_type, architectures, every key (sorted when dumped).
    nlohmann::json to_json() const;
    // Parses and validates; `source` names the file in error messages.
    static ModelConfig from_json(const nlohmann::json& j, const std::string& source = "config.json");
    static ModelConfig from_file(const std::filesystem::path& config_json);
};

// Writes config.json atomically (2-space indented, sorted keys, as Hugging Face writes it).
void save_config(const ModelConfig& cfg, const std::filesystem::path& config_json);

// MLP width rule of fla's GatedMLP: 256 · ceil(floor(D · hidden_ratio · 2/3) / 256).
int64_t default_intermediate_size(int64_t hidden_size, double hidden_ratio);

// ---- parameters (fla state-dict names, SPEC.md §2.7, §3.3) ----

enum class ParamInit { normal, ones, zeros };  // N(0, initializer_range²), 1, 0 (SPEC.md §2.5)

struct ParamSpec {
    std::string name;  // e.g. "model.layers.3.attn.q_proj.weight"
    Shape shape;       // PyTorch layout: Linear [out, in], conv [C, 1, W]
    ParamInit init = ParamInit::normal;
    int layer = -1;  // block index, -1 for model-level tensors
};

// In fla's state-dict order: model.lower_bounds, model.embeddings.weight, the blocks, model.norm.weight,
// lm_head.weight (absent when tie_word_embeddings).
std::vector<ParamSpec> expected_parameters(const ModelConfig& cfg);

struct CheckpointReport {
    bool legacy_fused_mlp = false;       // some layer had gate_proj [2I, D] and no up_proj (split on load)
    bool tied_lm_head_ignored = false;   // lm_head.weight was present although the embeddings are tied
};

// Legacy MLP layout (before fla b48ca31d, SPEC.md §2.3): `name` is a "...mlp.gate_proj.weight" of shape
// [2I, D] with no matching up_proj in the checkpoint; rows [0, I) are the gate, rows [I, 2I) the up projection.
bool is_legacy_fused_gate(const HfFolder& folder, const ModelConfig& cfg, const std::string& name);

// Reads every expected parameter from the checkpoint into dst[i] (same order as specs; dst CPU or CUDA,
// any floating dtype: converted). Errors, naming the folder and the tensors: a missing tensor, a shape
// mismatch, a checkpoint tensor that is not a parameter of this configuration.
CheckpointReport load_checkpoint(const HfFolder& folder, const ModelConfig& cfg, const std::vector<ParamSpec>& specs,
                                 const std::vector<Tensor>& dst);

// Writes a Hugging Face folder fla can load: config.json and model.safetensors (metadata format "pt").
void save_pretrained(const std::filesystem::path& dir, const ModelConfig& cfg, const NamedTensors& tensors);

}  // namespace hgrn
