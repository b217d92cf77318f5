// config.cpp — parsing, validating and writing fla's config.json; derived sizes; state and parameter counts;
// the expected parameter names and shapes; loading a checkpoint folder into parameters.
#include "model/config.h"

#include "model/pretrained.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/check.h"
#include "io/safetensors.h"

namespace hgrn {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string model_type_name(ModelType t) { return t == ModelType::hgrn2 ? "hgrn2" : "hgrn"; }

int64_t default_intermediate_size(int64_t hidden_size, double hidden_ratio) {
    // Python: int(hidden_size * hidden_ratio * 2 / 3), evaluated left to right in double, truncated.
    const double x = double(hidden_size) * hidden_ratio * 2 / 3;
    const int64_t i = int64_t(x);
    return 256 * ((i + 256 - 1) / 256);
}

// ---- derived sizes ----

int64_t ModelConfig::heads() const {
    return model_type == ModelType::hgrn2 ? hidden_size / expand_ratio : hidden_size * expand_ratio;
}
int64_t ModelConfig::head_f_dim() const { return model_type == ModelType::hgrn2 ? expand_ratio : 1; }
int64_t ModelConfig::head_i_dim() const { return model_type == ModelType::hgrn2 ? hidden_size / heads() : 1; }
int64_t ModelConfig::forget_dim() const { return heads() * head_f_dim(); }
int64_t ModelConfig::input_dim() const {
    return model_type == ModelType::hgrn2 ? hidden_size : hidden_size * expand_ratio;
}
int64_t ModelConfig::mlp_dim() const {
    return intermediate_size ? *intermediate_size : default_intermediate_size(hidden_size, hidden_ratio);
}

int64_t ModelConfig::state_bytes_per_sequence() const {
    const int64_t recurrent = heads() * head_f_dim() * head_i_dim();
    // conv caches: q, f (F channels each) and i (D) for HGRN2; f and i (E each) for HGRN1
    const int64_t conv_channels = model_type == ModelType::hgrn2 ? 2 * forget_dim() + input_dim() : 2 * input_dim();
    const int64_t conv = use_short_conv ? conv_size * conv_channels : 0;
    return num_hidden_layers * (recurrent + conv) * int64_t(sizeof(float));
}

int64_t ModelConfig::parameter_count() const {
    int64_t n = 0;
    for (const auto& p : expected_parameters(*this)) n += p.shape.numel();
    return n;
}

// ---- validation ----

namespace {

void validate_sizes(const ModelConfig& c, const std::string& src) {
    HGRN_CHECK(c.hidden_size > 0, src, ": key 'hidden_size' must be > 0, got ", c.hidden_size);
    HGRN_CHECK(c.num_hidden_layers > 0, src, ": key 'num_hidden_layers' must be > 0, got ", c.num_hidden_layers);
    HGRN_CHECK(c.vocab_size > 0, src, ": key 'vocab_size' must be > 0, got ", c.vocab_size);
    HGRN_CHECK(c.expand_ratio > 0, src, ": key 'expand_ratio' must be > 0, got ", c.expand_ratio);
    if (c.model_type == ModelType::hgrn2) {
        HGRN_CHECK(c.hidden_size % c.expand_ratio == 0, src, ": key 'hidden_size' (", c.hidden_size,
                   ") must be divisible by key 'expand_ratio' (", c.expand_ratio,
                   "): fla would use num_heads = hidden_size // expand_ratio and a forget dim != hidden_size, "
                   "which this port does not support");
        HGRN_CHECK(!c.num_heads || *c.num_heads > 0, src, ": key 'num_heads' must be > 0, got ", *c.num_heads);
    } else {
        HGRN_CHECK(!c.use_lower_bound || c.expand_ratio == 1, src, ": key 'expand_ratio' must be 1 when key ",
                   "'use_lower_bound' is true (the [L, D] lower bounds broadcast against D·expand_ratio channels), got ",
                   c.expand_ratio);
    }
    HGRN_CHECK(c.conv_size >= 1, src, ": key 'conv_size' must be >= 1, got ", c.conv_size);
    HGRN_CHECK(std::isfinite(c.hidden_ratio) && c.hidden_ratio > 0, src, ": key 'hidden_ratio' must be > 0, got ",
               c.hidden_ratio);
    HGRN_CHECK(!c.intermediate_size || *c.intermediate_size > 0, src, ": key 'intermediate_size' must be > 0, got ",
               *c.intermediate_size);
    HGRN_CHECK(c.mlp_dim() > 0, src, ": keys 'hidden_size' and 'hidden_ratio' give an empty MLP");
}

void validate_token_id(const std::optional<int64_t>& id, const char* key, int64_t vocab, const std::string& src) {
    HGRN_CHECK(!id || (*id >= 0 && *id < vocab), src, ": key '", key, "' (", id.value_or(0),
               ") must be in [0, vocab_size = ", vocab, ")");
}

void validate_choices(const ModelConfig& c, const std::string& src) {
    HGRN_CHECK(c.hidden_act == "swish" || c.hidden_act == "silu", src, ": key 'hidden_act' is '", c.hidden_act,
               "'; only 'swish' (= 'silu') is supported");
    const bool mode_ok = c.attn_mode == "chunk" || c.attn_mode == "fused_recurrent" ||
                         (c.model_type == ModelType::hgrn2 && c.attn_mode == "fused_chunk");
    HGRN_CHECK(mode_ok, src, ": key 'attn_mode' is '", c.attn_mode, "'; expected 'chunk' or 'fused_recurrent'",
               c.model_type == ModelType::hgrn2 ? " (or 'fused_chunk')" : "");
    HGRN_CHECK(std::isfinite(c.norm_eps) && c.norm_eps >= 0, src, ": key 'norm_eps' must be >= 0, got ", c.norm_eps);
    HGRN_CHECK(std::isfinite(c.initializer_range) && c.initializer_range >= 0, src,
               ": key 'initializer_range' must be >= 0, got ", c.initializer_range);
    HGRN_CHECK(!(c.fuse_cross_entropy && c.fuse_linear_cross_entropy), src, ": keys 'fuse_cross_entropy' and ",
               "'fuse_linear_cross_entropy' cannot both be true (fla refuses this config)");
    validate_token_id(c.pad_token_id, "pad_token_id", c.vocab_size, src);
    validate_token_id(c.bos_token_id, "bos_token_id", c.vocab_size, src);
    validate_token_id(c.eos_token_id, "eos_token_id", c.vocab_size, src);
}

void validate_config(const ModelConfig& c, const std::string& src) {
    validate_sizes(c, src);
    validate_choices(c, src);
}

}  // namespace

void ModelConfig::validate() const { validate_config(*this, "model config"); }

// ---- reading ----

namespace {

// Typed access to config.json keys; remembers which keys were read so the rest can go to `extra`.
class KeyReader {
  public:
    KeyReader(const json& j, const std::string& src) : j_(j), src_(src) {}

    bool has(const char* key) const { return j_.contains(key); }
    bool is_null(const char* key) const { return j_.contains(key) && j_[key].is_null(); }
    int64_t integer(const char* key, int64_t def) {
        if (!take(key)) return def;
        const json& v = j_[key];
        HGRN_CHECK(v.is_number_integer(), src_, ": key '", key, "' must be an integer, got ", v.dump());
        return v.get<int64_t>();
    }
    std::optional<int64_t> opt_integer(const char* key, std::optional<int64_t> def) {
        if (!take(key)) return def;
        if (j_[key].is_null()) return std::nullopt;
        return integer(key, 0);
    }
    double number(const char* key, double def) {
        if (!take(key)) return def;
        const json& v = j_[key];
        HGRN_CHECK(v.is_number(), src_, ": key '", key, "' must be a number, got ", v.dump());
        return v.get<double>();
    }
    bool boolean(const char* key, bool def) {
        if (!take(key)) return def;
        HGRN_CHECK(j_[key].is_boolean(), src_, ": key '", key, "' must be true or false, got ", j_[key].dump());
        return j_[key].get<bool>();
    }
    std::string string(const char* key, const std::string& def) {
        if (!take(key)) return def;
        HGRN_CHECK(j_[key].is_string(), src_, ": key '", key, "' must be a string, got ", j_[key].dump());
        return j_[key].get<std::string>();
    }
    bool take(const char* key) {  // marks the key as read; true when present
        used_.insert(key);
        return j_.contains(key);
    }
    json rest() const {
        json out = json::object();
        for (auto it = j_.begin(); it != j_.end(); ++it)
            if (!used_.count(it.key())) out[it.key()] = it.value();
        return out;
    }

  private:
    const json& j_;
    const std::string& src_;
    std::set<std::string> used_;
};

// Keys that must be null: the configurations they describe have layers this port does not implement.
void refuse_unsupported(KeyReader& r, const json& j, const std::string& src) {
    r.take("attn");
    HGRN_CHECK(!r.has("attn") || r.is_null("attn"), src, ": key 'attn' is ", j["attn"].dump(),
               ": hybrid softmax-attention layers are not supported (only null is)");
    r.take("attnres_block_size");
    HGRN_CHECK(!r.has("attnres_block_size") || r.is_null("attnres_block_size"), src, ": key 'attnres_block_size' is ",
               j["attnres_block_size"].dump(), ": AttnRes layers are not supported (only null is)");
}

void read_heads(KeyReader& r, ModelConfig& c, const std::string& src) {
    if (c.model_type == ModelType::hgrn1) {  // HGRN1 has no heads; a legacy num_heads stays in `extra`
        c.expand_ratio = r.integer("expand_ratio", 1);
        return;
    }
    const std::optional<int64_t> er = r.opt_integer("expand_ratio", 128);
    c.num_heads = r.opt_integer("num_heads", std::nullopt);
    HGRN_CHECK(er || c.num_heads, src, ": one of keys 'expand_ratio' and 'num_heads' must be set");
    if (c.num_heads) HGRN_CHECK(*c.num_heads > 0, src, ": key 'num_heads' must be > 0, got ", *c.num_heads);
    if (!er) {
        HGRN_CHECK(c.hidden_size % *c.num_heads == 0, src, ": key 'hidden_size' (", c.hidden_size,
                   ") must be divisible by key 'num_heads' (", *c.num_heads, ") when 'expand_ratio' is null");
        c.expand_ratio = c.hidden_size / *c.num_heads;
    } else {
        c.expand_ratio = *er;
        if (c.num_heads && *er > 0 && *c.num_heads != c.hidden_size / *er)
            c.notes.push_back("num_heads " + std::to_string(*c.num_heads) + " is ignored: expand_ratio " +
                              std::to_string(*er) + " gives " + std::to_string(c.hidden_size / *er) +
                              " heads (fla follows expand_ratio)");
    }
}

void read_mlp_and_norms(KeyReader& r, ModelConfig& c) {
    c.hidden_ratio = r.is_null("hidden_ratio") ? 4.0 : r.number("hidden_ratio", 4);  // fla's GatedMLP: None -> 4
    r.take("hidden_ratio");
    c.intermediate_size = r.opt_integer("intermediate_size", std::nullopt);
    c.hidden_act = r.string("hidden_act", "swish");
    if (c.hidden_act == "silu") {
        c.hidden_act = "swish";  // the same function; fla's GatedMLP only accepts the name "swish"
        c.notes.push_back("hidden_act 'silu' read as 'swish'");
    }
    // elementwise_affine: None means no weight in fla's norms
    c.elementwise_affine = !r.is_null("elementwise_affine") && r.boolean("elementwise_affine", true);
    r.take("elementwise_affine");
    const bool has_eps = r.has("norm_eps");
    c.norm_eps = r.number("norm_eps", 1e-6);
    const double legacy = r.number("rms_norm_eps", 1e-6);  // renamed to norm_eps in 2024-04
    if (!has_eps && r.has("rms_norm_eps")) c.norm_eps = legacy;
}

void read_flags(KeyReader& r, ModelConfig& c) {
    const bool v1 = c.model_type == ModelType::hgrn1;
    c.attn_mode = r.string("attn_mode", v1 ? "fused_recurrent" : "chunk");
    c.use_short_conv = r.boolean("use_short_conv", false);
    c.conv_size = r.integer("conv_size", 4);
    c.use_lower_bound = r.boolean("use_lower_bound", true);
    c.max_position_embeddings = r.integer("max_position_embeddings", 2048);
    c.use_cache = r.boolean("use_cache", true);
    c.pad_token_id = r.opt_integer("pad_token_id", std::nullopt);
    c.bos_token_id = r.opt_integer("bos_token_id", 1);
    c.eos_token_id = r.opt_integer("eos_token_id", 2);
    c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
    c.initializer_range = r.number("initializer_range", 0.02);
    c.fuse_norm = r.boolean("fuse_norm", true);
    c.fuse_swiglu = r.boolean("fuse_swiglu", true);
    c.fuse_cross_entropy = r.boolean("fuse_cross_entropy", true);
    c.fuse_linear_cross_entropy = r.boolean("fuse_linear_cross_entropy", false);
    c.use_l2warp = r.boolean("use_l2warp", false);
}

}  // namespace

ModelConfig ModelConfig::from_json(const json& j, const std::string& src) {
    HGRN_CHECK(j.is_object(), src, ": a config must be a JSON object");
    KeyReader r(j, src);
    ModelConfig c;
    HGRN_CHECK(r.has("model_type"), src, ": key 'model_type' is missing (expected \"hgrn2\" or \"hgrn\")");
    const std::string mt = r.string("model_type", "");
    HGRN_CHECK(mt == "hgrn2" || mt == "hgrn", src, ": key 'model_type' is '", mt,
               "'; supported: \"hgrn2\" (HGRN2) and \"hgrn\" (HGRN1)");
    c.model_type = mt == "hgrn2" ? ModelType::hgrn2 : ModelType::hgrn1;
    r.take("architectures");  // rewritten from model_type by to_json
    refuse_unsupported(r, j, src);
    c.vocab_size = r.integer("vocab_size", 32000);
    c.hidden_size = r.integer("hidden_size", 2048);
    c.num_hidden_layers = r.integer("num_hidden_layers", 24);
    read_heads(r, c, src);
    read_mlp_and_norms(r, c);
    read_flags(r, c);
    c.extra = r.rest();
    validate_config(c, src);
    return c;
}

ModelConfig ModelConfig::from_file(const fs::path& config_json) {
    return from_json(read_json_file(config_json), config_json.string());
}

// ---- writing ----

json ModelConfig::to_json() const {
    json j = extra;
    const bool v2 = model_type == ModelType::hgrn2;
    j["model_type"] = model_type_name(model_type);
    j["architectures"] = json::array({v2 ? "HGRN2ForCausalLM" : "HGRNForCausalLM"});
    j["vocab_size"] = vocab_size;
    j["hidden_size"] = hidden_size;
    j["num_hidden_layers"] = num_hidden_layers;
    j["expand_ratio"] = expand_ratio;
    if (v2) j["num_heads"] = num_heads.value_or(heads());
    j["attn_mode"] = attn_mode;
    j["use_short_conv"] = use_short_conv;
    j["conv_size"] = conv_size;
    j["use_lower_bound"] = use_lower_bound;
    if (hidden_ratio == std::floor(hidden_ratio) && std::abs(hidden_ratio) < 1e15) j["hidden_ratio"] = int64_t(hidden_ratio);
    else j["hidden_ratio"] = hidden_ratio;
    j["intermediate_size"] = intermediate_size ? json(*intermediate_size) : json(nullptr);
    j["hidden_act"] = hidden_act == "silu" ? std::string("swish") : hidden_act;
    j["max_position_embeddings"] = max_position_embeddings;
    j["elementwise_affine"] = elementwise_affine;
    j["norm_eps"] = norm_eps;
    j["attn"] = nullptr;
    j["attnres_block_size"] = nullptr;
    j["use_cache"] = use_cache;
    j["pad_token_id"] = pad_token_id ? json(*pad_token_id) : json(nullptr);
    j["bos_token_id"] = bos_token_id ? json(*bos_token_id) : json(nullptr);
    j["eos_token_id"] = eos_token_id ? json(*eos_token_id) : json(nullptr);
    j["tie_word_embeddings"] = tie_word_embeddings;
    j["initializer_range"] = initializer_range;
    j["fuse_norm"] = fuse_norm;
    j["fuse_swiglu"] = fuse_swiglu;
    j["fuse_cross_entropy"] = fuse_cross_entropy;
    j["fuse_linear_cross_entropy"] = fuse_linear_cross_entropy;
    j["use_l2warp"] = use_l2warp;
    return j;
}

void save_config(const ModelConfig& cfg, const fs::path& config_json) {
    cfg.validate();
    const std::string text = cfg.to_json().dump(2) + "\n";
    write_file_atomic(config_json, text.data(), text.size());
}

std::vector<std::string> ModelConfig::unknown_keys() const {
    // Keys of Hugging Face's PretrainedConfig (and fla's own obsolete ones that change nothing here).
    static const std::set<std::string> generic = {
        "transformers_version", "torch_dtype", "dtype", "_name_or_path", "auto_map", "return_dict",
        "output_hidden_states", "output_attentions", "torchscript", "use_bfloat16", "tie_encoder_decoder",
        "is_decoder", "is_encoder_decoder", "add_cross_attention", "chunk_size_feed_forward", "problem_type",
        "id2label", "label2id", "pruned_heads", "tokenizer_class", "prefix", "sep_token_id",
        "decoder_start_token_id", "task_specific_params", "finetuning_task", "tf_legacy_loss", "_commit_hash",
        "_attn_implementation_autoset", "rms_norm_eps"};
    std::vector<std::string> out;
    for (auto it = extra.begin(); it != extra.end(); ++it)
        if (!generic.count(it.key())) out.push_back(it.key());
    return out;
}

// ---- parameters ----

// The names and shapes come from the model itself (lm_parameter_shapes), so the checkpoint layout and the
// model's layout cannot drift apart; this adds fla's initialisation rule and the layer of each tensor.
std::vector<ParamSpec> expected_parameters(const ModelConfig& c) {
    std::vector<ParamSpec> out;
    for (const auto& [name, shape] : lm_parameter_shapes(lm_dims_from_config(c))) {
        ParamInit init = ParamInit::normal;
        if (name.find("norm.weight") != std::string::npos) init = ParamInit::ones;
        else if (name == "model.lower_bounds" || name.find(".bias") != std::string::npos) init = ParamInit::zeros;
        int layer = -1;
        if (name.rfind("model.layers.", 0) == 0) layer = std::stoi(name.substr(13));
        out.push_back({name, shape, init, layer});
    }
    return out;
}

// ---- checkpoints ----

namespace {

const std::string kGateSuffix = "mlp.gate_proj.weight", kUpSuffix = "mlp.up_proj.weight";

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// src (CPU, any floating dtype) -> dst (CPU or CUDA, any floating dtype).
void copy_converting(const Tensor& src, const Tensor& dst) {
    if (dst.device() == Device::cpu || dst.dtype() == src.dtype()) {
        copy(src, dst);
        return;
    }
    Buffer host(dst.dtype(), dst.shape());
    copy(src, host.view());
    copy(host.view(), dst);
}

// Reads rows [half·I, (half+1)·I) of a legacy fused gate_proj [2I, D] into dst [I, D].
void read_fused_half(const HfFolder& f, const std::string& fused, int half, const Tensor& dst) {
    const TensorInfo& ti = f.info(fused);
    Buffer all(ti.dtype, ti.shape);
    f.read_to(fused, all.view());
    const int64_t I = ti.shape[0] / 2;
    copy_converting(all.view().slice0(half * I, (half + 1) * I), dst);
}

std::string list_names(const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 8) s += ", ... (" + std::to_string(names.size()) + " in all)";
    return s;
}

}  // namespace

bool is_legacy_fused_gate(const HfFolder& f, const ModelConfig& c, const std::string& name) {
    if (!ends_with(name, kGateSuffix) || !f.has(name)) return false;
    const std::string up = name.substr(0, name.size() - kGateSuffix.size()) + kUpSuffix;
    return !f.has(up) && f.info(name).shape == Shape({2 * c.mlp_dim(), c.hidden_size});
}

CheckpointReport load_checkpoint(const HfFolder& f, const ModelConfig& c, const std::vector<ParamSpec>& specs,
                                 const std::vector<Tensor>& dst) {
    HGRN_CHECK(specs.size() == dst.size(), "load_checkpoint: ", specs.size(), " specs but ", dst.size(), " tensors");
    const std::string folder = f.dir().string();
    CheckpointReport rep;
    std::set<std::string> used;
    std::vector<std::string> missing;
    for (size_t i = 0; i < specs.size(); ++i) {
        const std::string& n = specs[i].name;
        HGRN_CHECK(dst[i].shape() == specs[i].shape, "load_checkpoint: destination for '", n, "' has shape ",
                   dst[i].shape().str(), ", expected ", specs[i].shape.str());
        const bool is_gate = ends_with(n, kGateSuffix), is_up = ends_with(n, kUpSuffix);
        const std::string fused = is_up ? n.substr(0, n.size() - kUpSuffix.size()) + kGateSuffix : n;
        if ((is_gate || is_up) && is_legacy_fused_gate(f, c, fused)) {
            read_fused_half(f, fused, is_up ? 1 : 0, dst[i]);
            used.insert(fused);
            rep.legacy_fused_mlp = true;
            continue;
        }
        if (!f.has(n)) {
            missing.push_back(n);
            continue;
        }
        const TensorInfo& ti = f.info(n);
        HGRN_CHECK(ti.shape == specs[i].shape, "model folder ", folder, ": tensor '", n, "' has shape ",
                   ti.shape.str(), " but the config (", f.config_path().filename().string(), ") implies ",
                   specs[i].shape.str());
        f.read_to(n, dst[i]);
        used.insert(n);
    }
    const bool head_missing = std::find(missing.begin(), missing.end(), "lm_head.weight") != missing.end();
    HGRN_CHECK(missing.empty(), "model folder ", folder, ": missing tensors for this config: ", list_names(missing),
               head_missing ? " (if the head is tied to the embeddings, set tie_word_embeddings: true)" : "");
    std::vector<std::string> unexpected;
    for (const auto& n : f.names()) {
        if (used.count(n)) continue;
        if (n == "lm_head.weight" && c.tie_word_embeddings) {
            rep.tied_lm_head_ignored = true;  // some writers save the tied head too; the embedding is used
            continue;
        }
        unexpected.push_back(n);
    }
    HGRN_CHECK(unexpected.empty(), "model folder ", folder, ": tensors that are not parameters of this config: ",
               list_names(unexpected));
    return rep;
}

void save_pretrained(const fs::path& dir, const ModelConfig& cfg, const NamedTensors& tensors) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    HGRN_CHECK(!ec, "cannot create model folder ", dir.string(), ": ", ec.message());
    save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    save_config(cfg, dir / "config.json");
}

}  // namespace hgrn
