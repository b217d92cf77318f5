// lm_params.cpp — fla's parameter names and shapes for the language model, and the per-layer views.
#include <string>
#include <vector>

#include "core/rng.h"

#include "model/lm.h"

namespace hgrn {
namespace {
std::string layer_name(int64_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }
}  // namespace

std::vector<std::pair<std::string, Shape>> lm_parameter_shapes(const LmDims& d) {
    HGRN_CHECK(d.D > 0 && d.L > 0, "model sizes must be > 0 (D ", d.D, ", L ", d.L, ")");
    HGRN_CHECK(d.vocab > 0 || (d.input_features > 0 && d.num_labels > 0),
               "vocab must be > 0 unless the model takes features and classifies (vocab ", d.vocab, ")");
    std::vector<std::pair<std::string, Shape>> s;
    HGRN_CHECK(d.input_features >= 0 && d.num_labels >= 0, "input_features and num_labels must be >= 0");
    if (d.lower_bounds) s.emplace_back("model.lower_bounds", Shape{d.L, d.D});  // fla's state-dict order
    if (d.input_features > 0) {
        s.emplace_back("model.input_proj.weight", Shape{d.D, d.input_features});
        s.emplace_back("model.input_proj.bias", Shape{d.D});
    } else {
        s.emplace_back("model.embeddings.weight", Shape{d.vocab, d.D});
    }
    for (int64_t i = 0; i < d.L; ++i) {
        s.emplace_back(layer_name(i, "attn_norm.weight"), Shape{d.D});
        if (d.kind == MixerKind::hgrn2) {
            const int64_t F = d.H * d.K;
            s.emplace_back(layer_name(i, "attn.q_proj.weight"), Shape{F, d.D});
            s.emplace_back(layer_name(i, "attn.f_proj.weight"), Shape{F, d.D});
            s.emplace_back(layer_name(i, "attn.i_proj.weight"), Shape{d.D, d.D});
            if (d.conv > 0) {
                s.emplace_back(layer_name(i, "attn.q_conv1d.weight"), Shape{F, 1, d.conv});
                s.emplace_back(layer_name(i, "attn.f_conv1d.weight"), Shape{F, 1, d.conv});
                s.emplace_back(layer_name(i, "attn.i_conv1d.weight"), Shape{d.D, 1, d.conv});
            }
            if (d.affine) s.emplace_back(layer_name(i, "attn.g_norm.weight"), Shape{d.D});
            s.emplace_back(layer_name(i, "attn.o_proj.weight"), Shape{d.D, d.D});
        } else {
            s.emplace_back(layer_name(i, "attn.i_proj.weight"), Shape{d.E, d.D});
            s.emplace_back(layer_name(i, "attn.f_proj.weight"), Shape{d.E, d.D});
            s.emplace_back(layer_name(i, "attn.g_proj.weight"), Shape{d.E, d.D});
            if (d.conv > 0) {
                s.emplace_back(layer_name(i, "attn.f_conv1d.weight"), Shape{d.E, 1, d.conv});
                s.emplace_back(layer_name(i, "attn.i_conv1d.weight"), Shape{d.E, 1, d.conv});
            }
            if (d.affine) s.emplace_back(layer_name(i, "attn.g_norm.weight"), Shape{d.E});
            s.emplace_back(layer_name(i, "attn.o_proj.weight"), Shape{d.D, d.E});
        }
        if (d.mlp_size > 0) {
            s.emplace_back(layer_name(i, "mlp_norm.weight"), Shape{d.D});
            s.emplace_back(layer_name(i, "mlp.gate_proj.weight"), Shape{d.mlp_size, d.D});
            s.emplace_back(layer_name(i, "mlp.up_proj.weight"), Shape{d.mlp_size, d.D});
            s.emplace_back(layer_name(i, "mlp.down_proj.weight"), Shape{d.D, d.mlp_size});
        }
    }
    s.emplace_back("model.norm.weight", Shape{d.D});
    if (d.num_labels > 0) {
        s.emplace_back("classifier.weight", Shape{d.num_labels, d.D});
        s.emplace_back("classifier.bias", Shape{d.num_labels});
    } else if (!d.tied) {
        HGRN_CHECK(d.input_features == 0, "an LM head needs token inputs (input_features is set)");
        s.emplace_back("lm_head.weight", Shape{d.vocab, d.D});
    }
    return s;
}

namespace {
Tensor conv_view(const ParamStore& st, const std::string& name) {  // [C, 1, W] viewed as (C, W)
    if (!st.has(name)) return Tensor();
    const Tensor t = st.get(name);
    return t.reshape({t.size(0), t.size(2)});
}
}  // namespace

LmParams lm_params_view(const LmDims& d, const ParamStore& st) {
    LmParams p;
    p.embeddings = st.get_or_empty("model.embeddings.weight");
    p.input_proj = st.get_or_empty("model.input_proj.weight");
    p.input_bias = st.get_or_empty("model.input_proj.bias");
    p.classifier = st.get_or_empty("classifier.weight");
    p.classifier_bias = st.get_or_empty("classifier.bias");
    p.lower_bounds = st.get_or_empty("model.lower_bounds");
    p.norm = st.get("model.norm.weight");
    if (d.num_labels == 0) p.lm_head = d.tied ? p.embeddings : st.get("lm_head.weight");
    for (int64_t i = 0; i < d.L; ++i) {
        LayerParams l;
        auto n = [&](const char* rest) { return layer_name(i, rest); };
        l.attn_norm = st.get(n("attn_norm.weight"));
        if (d.kind == MixerKind::hgrn2) {
            l.hgrn2 = {st.get(n("attn.q_proj.weight")), st.get(n("attn.f_proj.weight")),
                       st.get(n("attn.i_proj.weight")), st.get(n("attn.o_proj.weight")),
                       conv_view(st, n("attn.q_conv1d.weight")), conv_view(st, n("attn.f_conv1d.weight")),
                       conv_view(st, n("attn.i_conv1d.weight")), st.get_or_empty(n("attn.g_norm.weight"))};
        } else {
            l.hgrn1 = {st.get(n("attn.i_proj.weight")), st.get(n("attn.f_proj.weight")),
                       st.get(n("attn.g_proj.weight")), st.get(n("attn.o_proj.weight")),
                       conv_view(st, n("attn.i_conv1d.weight")), conv_view(st, n("attn.f_conv1d.weight")),
                       st.get_or_empty(n("attn.g_norm.weight"))};
        }
        if (d.mlp_size > 0) {
            l.mlp_norm = st.get(n("mlp_norm.weight"));
            l.mlp = {st.get(n("mlp.gate_proj.weight")), st.get(n("mlp.up_proj.weight")),
                     st.get(n("mlp.down_proj.weight"))};
        }
        p.layers.push_back(l);
    }
    return p;
}

LanguageModel::LanguageModel(const LmDims& d, DType dtype)
    : dims(d), params(lm_parameter_shapes(d), dtype), grads(params.same_layout(dtype)) {
    p = lm_params_view(d, params);
    g = lm_params_view(d, grads);
}

void lm_init(LanguageModel& m, uint64_t seed, double range) {
    Rng rng(seed);
    for (const ParamEntry& e : m.params.entries()) {
        const Tensor t = m.params.get(e.name);
        const bool is_norm = e.name.find("norm.weight") != std::string::npos;
        const bool is_zero = e.name == "model.lower_bounds" || e.name.find(".bias") != std::string::npos;
        std::vector<double> v(size_t(t.numel()));
        for (auto& x : v) x = is_norm ? 1.0 : is_zero ? 0.0 : rng.normal() * range;
        convert(v.data(), DType::f64, t.data(), t.dtype(), v.size());
    }
}

}  // namespace hgrn
