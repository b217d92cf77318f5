// pretrained.cpp — loading and saving fla-format Hugging Face folders (see pretrained.h).
#include "model/pretrained.h"

namespace hgrn {

LmDims lm_dims_from_config(const ModelConfig& c) {
    c.validate();
    LmDims d;
    d.kind = c.model_type == ModelType::hgrn2 ? MixerKind::hgrn2 : MixerKind::hgrn1;
    d.vocab = c.vocab_size, d.D = c.hidden_size, d.L = c.num_hidden_layers;
    if (d.kind == MixerKind::hgrn2) d.H = c.heads(), d.K = c.head_f_dim(), d.V = c.head_i_dim();
    else d.E = c.input_dim();
    d.mlp_size = c.mlp_dim();
    d.conv = c.use_short_conv ? c.conv_size : 0;
    d.lower_bounds = c.use_lower_bound, d.affine = c.elementwise_affine, d.tied = c.tie_word_embeddings;
    d.norm_eps = c.norm_eps;
    // hgrn2's own extras (not fla keys): mixer-only blocks, a classifier head, continuous inputs.
    if (c.extra.contains("hgrn_mlp") && !c.extra["hgrn_mlp"].get<bool>()) d.mlp_size = 0;
    if (c.extra.contains("hgrn_num_labels")) d.num_labels = c.extra["hgrn_num_labels"].get<int64_t>();
    if (c.extra.contains("hgrn_input_features")) d.input_features = c.extra["hgrn_input_features"].get<int64_t>();
    return d;
}

Pretrained load_pretrained(const std::filesystem::path& dir, DType dtype) {
    Pretrained p;
    HfFolder folder = HfFolder::open(dir);
    p.config = ModelConfig::from_file(folder.config_path());
    p.model = std::make_unique<LanguageModel>(lm_dims_from_config(p.config), dtype);
    std::vector<ParamSpec> specs;
    std::vector<Tensor> dst;
    for (const ParamEntry& e : p.model->params.entries()) {
        specs.push_back({e.name, e.shape});
        dst.push_back(p.model->params.get(e.name));
    }
    p.report = load_checkpoint(folder, p.config, specs, dst);
    return p;
}

NamedTensors named_parameters(const ParamStore& store) {
    NamedTensors out;
    for (const ParamEntry& e : store.entries()) out.emplace_back(e.name, store.get(e.name));
    return out;
}

void save_pretrained_model(const std::filesystem::path& dir, const ModelConfig& cfg, const LanguageModel& m) {
    if (m.params.dtype() == DType::f32) {
        save_pretrained(dir, cfg, named_parameters(m.params));
        return;
    }
    const ParamStore f32 = m.params.same_layout(DType::f32);
    copy(m.params.flat(), f32.flat());
    save_pretrained(dir, cfg, named_parameters(f32));
}

}  // namespace hgrn
