// lm_decode.cpp — per-sequence decoding state and the one-token step of the language model.
// State per layer: HGRN2 — the recurrent state (B, H, K, V) and, with short convs, three conv caches
// (B, F|F|D, W); HGRN1 — the scan state (B, E) and two conv caches (B, E, W). All in the model's dtype.
#include "model/lm.h"
#include "model/workspace.h"
#include "ops/embedding/embedding.h"
#include "ops/gate/gate.h"
#include "ops/matmul/matmul.h"
#include "ops/rmsnorm/rmsnorm.h"

namespace hgrn {

LmState::LmState(const LmDims& d, int64_t b, DType dtype) : batch(b) {
    HGRN_CHECK(b > 0, "decoding state needs a batch > 0");
    auto make = [&](Shape s) {
        bufs.emplace_back(dtype, s);
        return bufs.back().view();
    };
    bufs.reserve(size_t(d.L) * 4);
    const int64_t W = d.conv;
    for (int64_t l = 0; l < d.L; ++l) {
        if (d.kind == MixerKind::hgrn2) {
            Hgrn2MixerState s;
            s.recurrent = make({b, d.H, d.K, d.V});
            if (W > 0) {
                s.q_conv = make({b, d.H * d.K, W});
                s.f_conv = make({b, d.H * d.K, W});
                s.i_conv = make({b, d.D, W});
            }
            hgrn2.push_back(s);
        } else {
            Hgrn1MixerState s;
            s.recurrent = make({b, d.E});
            if (W > 0) {
                s.i_conv = make({b, d.E, W});
                s.f_conv = make({b, d.E, W});
            }
            hgrn1.push_back(s);
        }
    }
}

size_t LmState::bytes() const {
    size_t n = 0;
    for (const auto& b : bufs) n += b.view().nbytes();
    return n;
}

void lm_step(LanguageModel& m, const Tensor& ids, LmState& state, LmActs& acts, const Tensor& logits) {
    const LmDims& d = m.dims;
    HGRN_CHECK(ids.ndim() == 1 && ids.dtype() == DType::i64, "lm_step: ids must be (B) int64, got ", ids.describe());
    const int64_t B = ids.size(0);
    HGRN_CHECK(state.batch == B, "lm_step: state is for batch ", state.batch, ", ids have ", B);
    check_shape(logits, "logits", {B, d.vocab});
    const DType dt = m.params.dtype();
    const Shape sh{B, 1, d.D};
    acts.layers.resize(size_t(d.L));
    Tensor gamma;
    if (!m.p.lower_bounds.empty()) {
        gamma = ensure(acts.gamma, dt, m.p.lower_bounds.shape());
        lower_bounds_forward(m.p.lower_bounds, gamma);
    }
    const Tensor r = ensure(acts.r_out, dt, sh);
    embedding_forward(ids, m.p.embeddings, r.reshape({B, d.D}));
    for (int64_t l = 0; l < d.L; ++l) {
        LayerActs& a = acts.layers[size_t(l)];
        const LayerParams& p = m.p.layers[size_t(l)];
        const Tensor h = ensure(a.h, dt, sh), rstd = ensure(a.rstd1, dt, {B}), mix = ensure(a.a, dt, sh);
        rmsnorm_forward(r, p.attn_norm, d.norm_eps, h, rstd);
        const Tensor gl = (gamma.empty() || l == 0) ? Tensor() : gamma.slice0(l, l + 1).reshape({d.D});
        if (d.kind == MixerKind::hgrn2)
            hgrn2_mixer_step({d.D, d.H, d.K, d.V, d.conv, 1e-5}, p.hgrn2, h, gl, state.hgrn2[size_t(l)], mix, a.hgrn2);
        else
            hgrn1_mixer_forward({d.D, d.E, d.conv, d.norm_eps}, p.hgrn1, h, gl, &state.hgrn1[size_t(l)], mix, a.hgrn1);
        add_into(r, mix);
        if (d.mlp_size == 0) continue;
        const Tensor h2 = ensure(a.h2, dt, sh), mo = ensure(a.m, dt, sh);
        rmsnorm_forward(r, p.mlp_norm, d.norm_eps, h2, rstd);
        mlp_forward(p.mlp, h2, mo, a.mlp);
        add_into(r, mo);
    }
    const Tensor xn = ensure(acts.xn, dt, sh), rstd = ensure(acts.rstd, dt, {B});
    rmsnorm_forward(r, m.p.norm, d.norm_eps, xn, rstd);
    matmul_forward(xn.reshape({B, d.D}), m.p.lm_head, logits);
}

}  // namespace hgrn
