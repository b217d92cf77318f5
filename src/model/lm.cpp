// lm.cpp — language model forward, backward and one-token decoding (math in lm.h; the backward of each
// piece in docs/model_math.md). Backward walks the layers in reverse with one residual-gradient buffer dr.
#include "model/lm.h"

#include "model/workspace.h"
#include "ops/cross_entropy/cross_entropy.h"
#include "ops/embedding/embedding.h"
#include "ops/gate/gate.h"
#include "ops/matmul/matmul.h"
#include "ops/rmsnorm/rmsnorm.h"

namespace hgrn {
namespace {

Hgrn2MixerDims hgrn2_dims(const LmDims& d) { return {d.D, d.H, d.K, d.V, d.conv, 1e-5}; }
Hgrn1MixerDims hgrn1_dims(const LmDims& d) { return {d.D, d.E, d.conv, d.norm_eps}; }

Tensor layer_gamma(const LmDims& d, const Tensor& gamma, int64_t l) {  // γ_l (D), absent for layer 0
    if (gamma.empty() || l == 0) return Tensor();
    return gamma.slice0(l, l + 1).reshape({d.D});
}

// One block: r_out = r' + MLP(RMSNorm(r')), r' = r_in + Mixer(RMSNorm(r_in)).
void block_forward(LanguageModel& m, int64_t l, const Tensor& r_in, const Tensor& gamma, LayerActs& a,
                   LmState* state, const Tensor& r_out) {
    const LmDims& d = m.dims;
    const LayerParams& p = m.p.layers[size_t(l)];
    const DType dt = r_in.dtype();
    const Shape sh = r_in.shape();
    const int64_t N = sh[0] * sh[1];
    const Tensor h = ensure(a.h, dt, sh), rstd1 = ensure(a.rstd1, dt, {N}), mix = ensure(a.a, dt, sh);
    rmsnorm_forward(r_in, p.attn_norm, d.norm_eps, h, rstd1);
    const Tensor gl = layer_gamma(d, gamma, l);
    if (d.kind == MixerKind::hgrn2)
        hgrn2_mixer_forward(hgrn2_dims(d), p.hgrn2, h, gl, state ? &state->hgrn2[size_t(l)] : nullptr, mix, a.hgrn2);
    else
        hgrn1_mixer_forward(hgrn1_dims(d), p.hgrn1, h, gl, state ? &state->hgrn1[size_t(l)] : nullptr, mix, a.hgrn1);
    if (d.mlp_size == 0) {
        add(r_in, mix, r_out);
        return;
    }
    const Tensor r_mid = ensure(a.r_mid, dt, sh), h2 = ensure(a.h2, dt, sh), rstd2 = ensure(a.rstd2, dt, {N});
    const Tensor mo = ensure(a.m, dt, sh);
    add(r_in, mix, r_mid);
    rmsnorm_forward(r_mid, p.mlp_norm, d.norm_eps, h2, rstd2);
    mlp_forward(p.mlp, h2, mo, a.mlp);
    add(r_mid, mo, r_out);
}

// Reverse of block_forward. dr holds d r_out on entry and d r_in on exit.
void block_backward(LanguageModel& m, int64_t l, const Tensor& r_in, const Tensor& gamma, const Tensor& dgamma,
                    LayerActs& a, const Tensor& dr, Buffer& scratch) {
    const LmDims& d = m.dims;
    const LayerParams& p = m.p.layers[size_t(l)];
    const LayerParams& g = m.g.layers[size_t(l)];
    const Tensor dh = ensure(scratch, dr.dtype(), dr.shape());
    if (d.mlp_size > 0) {
        mlp_backward(p.mlp, a.mlp, dr, dh, g.mlp);
        rmsnorm_backward(a.r_mid, p.mlp_norm, a.rstd2, dh, dr, g.mlp_norm, /*accumulate_dx=*/true);
    }
    const Tensor gl = layer_gamma(d, gamma, l), dgl = layer_gamma(d, dgamma, l);
    if (d.kind == MixerKind::hgrn2)
        hgrn2_mixer_backward(hgrn2_dims(d), p.hgrn2, gl, a.hgrn2, dr, dh, g.hgrn2, dgl);
    else
        hgrn1_mixer_backward(hgrn1_dims(d), p.hgrn1, gl, a.hgrn1, dr, dh, g.hgrn1, dgl);
    rmsnorm_backward(r_in, p.attn_norm, a.rstd1, dh, dr, g.attn_norm, /*accumulate_dx=*/true);
}

Tensor compute_gamma(LanguageModel& m, LmActs& acts) {
    if (m.p.lower_bounds.empty()) return Tensor();
    const Tensor gamma = ensure(acts.gamma, m.params.dtype(), m.p.lower_bounds.shape());
    lower_bounds_forward(m.p.lower_bounds, gamma);
    return gamma;
}

}  // namespace

void lm_next_token_targets(const Tensor& ids, const Tensor& targets) {
    HGRN_CHECK(ids.ndim() == 2 && targets.shape() == ids.shape(), "targets must have the shape of ids (B, T)");
    const int64_t B = ids.size(0), T = ids.size(1);
    const int64_t* in = ids.ptr<int64_t>();
    int64_t* out = targets.ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) out[b * T + t] = t + 1 < T ? in[b * T + t + 1] : kIgnoreIndex;
}

double lm_forward(LanguageModel& m, const Tensor& ids, const Tensor& targets, LmActs& acts, LmState* state) {
    const LmDims& d = m.dims;
    HGRN_CHECK(ids.ndim() == 2 && ids.dtype() == DType::i64, "input_ids must be (B, T) int64, got ", ids.describe());
    if (state) HGRN_CHECK(state->batch == ids.size(0), "state is for batch ", state->batch, ", ids have ", ids.size(0));
    const DType dt = m.params.dtype();
    const int64_t B = ids.size(0), T = ids.size(1);
    const Shape sh{B, T, d.D};
    acts.B = B, acts.T = T;
    acts.layers.resize(size_t(d.L));
    const Tensor gamma = compute_gamma(m, acts);
    Tensor r = ensure(acts.layers[0].r_in, dt, sh);
    embedding_forward(ids.reshape({B * T}), m.p.embeddings, r.reshape({B * T, d.D}));
    for (int64_t l = 0; l < d.L; ++l) {
        const Tensor r_out = l + 1 < d.L ? ensure(acts.layers[size_t(l + 1)].r_in, dt, sh) : ensure(acts.r_out, dt, sh);
        block_forward(m, l, r, gamma, acts.layers[size_t(l)], state, r_out);
        r = r_out;
    }
    const Tensor xn = ensure(acts.xn, dt, sh), rstd = ensure(acts.rstd, dt, {B * T});
    rmsnorm_forward(r, m.p.norm, d.norm_eps, xn, rstd);
    const Tensor logits = ensure(acts.logits, dt, {B, T, d.vocab});
    matmul_forward(xn, m.p.lm_head, logits);
    if (targets.empty()) return 0.0;
    return cross_entropy_forward(logits.reshape({B * T, d.vocab}), targets.reshape({B * T})).loss;
}

void lm_backward(LanguageModel& m, const Tensor& ids, const Tensor& targets, LmActs& acts, double dloss) {
    const LmDims& d = m.dims;
    const DType dt = m.params.dtype();
    const int64_t B = acts.B, T = acts.T, N = B * T;
    HGRN_CHECK(!targets.empty() && ids.numel() == N, "lm_backward needs the ids and targets of the last forward");
    const Shape sh{B, T, d.D};
    const Tensor logits = acts.logits.view().reshape({N, d.vocab});
    cross_entropy_backward(logits, targets.reshape({N}), dloss, logits);  // logits now hold dlogits
    const Tensor dxn = ensure(acts.dxn, dt, sh), dr = ensure(acts.dr, dt, sh);
    matmul_backward(acts.xn, m.p.lm_head, logits, dxn, m.g.lm_head);
    rmsnorm_backward(acts.r_out, m.p.norm, acts.rstd, dxn, dr, m.g.norm);
    const Tensor gamma = acts.gamma.empty() ? Tensor() : acts.gamma.view();
    Tensor dgamma;
    if (!gamma.empty()) {
        dgamma = ensure(acts.dgamma, dt, gamma.shape());
        zero(dgamma);
    }
    for (int64_t l = d.L - 1; l >= 0; --l)
        block_backward(m, l, acts.layers[size_t(l)].r_in, gamma, dgamma, acts.layers[size_t(l)], dr, acts.dxn);
    if (!gamma.empty()) lower_bounds_backward(m.p.lower_bounds, dgamma, m.g.lower_bounds);
    embedding_backward(ids.reshape({N}), dr.reshape({N, d.D}), m.g.embeddings);
}

}  // namespace hgrn
