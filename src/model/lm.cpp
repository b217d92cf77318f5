// lm.cpp — language model forward, backward and one-token decoding (math in lm.h; the backward of each
// piece in docs/model_math.md). Backward walks the layers in reverse with one residual-gradient buffer dr.
#include "model/lm.h"

#include <cstring>

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

// x ⊙= mask (saved) when dropout is on; site numbers keep the masks of different places independent.
void apply_dropout(const Tensor& x, Buffer& mask, const LmTrainOptions& tr, uint64_t site) {
    if (tr.dropout <= 0) return;
    const Tensor mk = ensure(mask, x.dtype(), x.shape());
    dropout_mask(mk, tr.dropout, tr.seed * 0x9e3779b97f4a7c15ull + site);
    mul(x, mk, x);
}

// The gradient reaching a dropped-out output: dr ⊙ mask (in scratch), or dr itself without dropout.
Tensor through_dropout(const Tensor& dr, const Buffer& mask, double rate, Buffer& scratch) {
    if (rate <= 0) return dr;
    const Tensor out = ensure(scratch, dr.dtype(), dr.shape());
    mul(dr, mask.view(), out);
    return out;
}

Tensor layer_gamma(const LmDims& d, const Tensor& gamma, int64_t l) {  // γ_l (D), absent for layer 0
    if (gamma.empty() || l == 0) return Tensor();
    return gamma.slice0(l, l + 1).reshape({d.D});
}

// One block: r_out = r' + MLP(RMSNorm(r')), r' = r_in + Mixer(RMSNorm(r_in)).
void block_forward(LanguageModel& m, int64_t l, const Tensor& r_in, const Tensor& gamma, LayerActs& a,
                   LmState* state, const LmTrainOptions& tr, const Tensor& r_out) {
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
    apply_dropout(mix, a.drop_a, tr, uint64_t(2 * l + 1));
    if (d.mlp_size == 0) {
        add(r_in, mix, r_out);
        return;
    }
    const Tensor r_mid = ensure(a.r_mid, dt, sh), h2 = ensure(a.h2, dt, sh), rstd2 = ensure(a.rstd2, dt, {N});
    const Tensor mo = ensure(a.m, dt, sh);
    add(r_in, mix, r_mid);
    rmsnorm_forward(r_mid, p.mlp_norm, d.norm_eps, h2, rstd2);
    mlp_forward(p.mlp, h2, mo, a.mlp);
    apply_dropout(mo, a.drop_m, tr, uint64_t(2 * l + 2));
    add(r_mid, mo, r_out);
}

// Reverse of block_forward. dr holds d r_out on entry and d r_in on exit.
void block_backward(LanguageModel& m, int64_t l, const Tensor& r_in, const Tensor& gamma, const Tensor& dgamma,
                    LayerActs& a, double rate, const Tensor& dr, Buffer& scratch, Buffer& scratch2) {
    const LmDims& d = m.dims;
    const LayerParams& p = m.p.layers[size_t(l)];
    const LayerParams& g = m.g.layers[size_t(l)];
    const Tensor dh = ensure(scratch, dr.dtype(), dr.shape());
    if (d.mlp_size > 0) {
        mlp_backward(p.mlp, a.mlp, through_dropout(dr, a.drop_m, rate, scratch2), dh, g.mlp);
        rmsnorm_backward(a.r_mid, p.mlp_norm, a.rstd2, dh, dr, g.mlp_norm, /*accumulate_dx=*/true);
    }
    const Tensor gl = layer_gamma(d, gamma, l), dgl = layer_gamma(d, dgamma, l);
    if (d.kind == MixerKind::hgrn2)
        hgrn2_mixer_backward(hgrn2_dims(d), p.hgrn2, gl, a.hgrn2, through_dropout(dr, a.drop_a, rate, scratch2), dh,
                             g.hgrn2, dgl);
    else
        hgrn1_mixer_backward(hgrn1_dims(d), p.hgrn1, gl, a.hgrn1, through_dropout(dr, a.drop_a, rate, scratch2), dh,
                             g.hgrn1, dgl);
    rmsnorm_backward(r_in, p.attn_norm, a.rstd1, dh, dr, g.attn_norm, /*accumulate_dx=*/true);
}

Tensor compute_gamma(LanguageModel& m, LmActs& acts) {
    if (m.p.lower_bounds.empty()) return Tensor();
    const Tensor gamma = ensure(acts.gamma, m.params.dtype(), m.p.lower_bounds.shape());
    lower_bounds_forward(m.p.lower_bounds, gamma);
    return gamma;
}

// r_0 (B, T, D) from the batch's ids (embedding) or features (input projection + bias).
Tensor embed_inputs(LanguageModel& m, const LmBatch& batch, LmActs& acts) {
    const LmDims& d = m.dims;
    const DType dt = m.params.dtype();
    const bool feat = d.input_features > 0;
    const Tensor& in = feat ? batch.features : batch.ids;
    HGRN_CHECK(!in.empty(), feat ? "this model takes features (B, T, P)" : "this model takes input_ids (B, T)");
    if (feat) HGRN_CHECK(in.ndim() == 3 && in.size(2) == d.input_features && in.dtype() == dt,
                         "features must be (B, T, ", d.input_features, ") ", dtype_name(dt), ", got ", in.describe());
    else HGRN_CHECK(in.ndim() == 2 && in.dtype() == DType::i64, "input_ids must be (B, T) int64, got ", in.describe());
    acts.B = in.size(0), acts.T = in.size(1);
    const int64_t N = acts.B * acts.T;
    acts.layers.resize(size_t(d.L));
    const Tensor r = ensure(acts.layers[0].r_in, dt, {acts.B, acts.T, d.D});
    if (feat) {
        matmul_forward(in, m.p.input_proj, r);
        add_bias(r, m.p.input_bias);
    } else {
        embedding_forward(in.reshape({N}), m.p.embeddings, r.reshape({N, d.D}));
    }
    return r;
}

void embed_inputs_backward(LanguageModel& m, const LmBatch& batch, LmActs& acts, const Tensor& dr) {
    const int64_t N = acts.B * acts.T;
    if (m.dims.input_features > 0) {
        matmul_backward(batch.features, m.p.input_proj, dr, Tensor(), m.g.input_proj);
        bias_backward(dr, m.g.input_bias);
    } else {
        embedding_backward(batch.ids.reshape({N}), dr.reshape({N, m.dims.D}), m.g.embeddings);
    }
}

// LM head: logits (B, T, vocab), mean next-token CE. Classifier: logits (B, C) from the mean over T.
// counted_rows_only: gathers the rows of xn whose target is counted into acts.xsel / acts.tsel.
void gather_counted_rows(const LmDims& d, const Tensor& targets, LmActs& acts) {
    const int64_t N = acts.B * acts.T;
    const int64_t* t = targets.ptr<int64_t>();
    acts.rows.clear();
    for (int64_t i = 0; i < N; ++i)
        if (t[i] != kIgnoreIndex) acts.rows.push_back(i);
    const int64_t n = std::max<int64_t>(int64_t(acts.rows.size()), 1);
    const Tensor xs = ensure(acts.xsel, acts.xn.dtype(), {n, d.D}), ts = ensure(acts.tsel, DType::i64, {n});
    const size_t row_bytes = size_t(d.D) * dtype_size(xs.dtype());
    const char* src = static_cast<const char*>(acts.xn.view().data());
    for (size_t r = 0; r < acts.rows.size(); ++r) {
        std::memcpy(static_cast<char*>(xs.data()) + r * row_bytes, src + size_t(acts.rows[r]) * row_bytes, row_bytes);
        ts.ptr<int64_t>()[r] = t[acts.rows[r]];
    }
    if (acts.rows.empty()) ts.ptr<int64_t>()[0] = kIgnoreIndex;  // one ignored row: loss 0, gradient 0
}

double head_forward(LanguageModel& m, const LmBatch& batch, LmActs& acts, bool counted_rows_only) {
    const LmDims& d = m.dims;
    const DType dt = m.params.dtype();
    const int64_t B = acts.B, T = acts.T;
    if (d.num_labels > 0) {
        const Tensor pooled = ensure(acts.pooled, dt, {B, d.D}), logits = ensure(acts.logits, dt, {B, d.num_labels});
        mean_over_time(acts.xn, pooled);
        matmul_forward(pooled, m.p.classifier, logits);
        add_bias(logits, m.p.classifier_bias);
        if (batch.targets.empty()) return 0.0;
        HGRN_CHECK(batch.targets.numel() == B, "classification targets must be (B) = ", B, ", got ", batch.targets.describe());
        return cross_entropy_forward(logits, batch.targets.reshape({B})).loss;
    }
    acts.gathered = counted_rows_only && !batch.targets.empty();
    if (acts.gathered) {
        HGRN_CHECK(batch.targets.numel() == B * T, "LM targets must be (B, T), got ", batch.targets.describe());
        gather_counted_rows(d, batch.targets, acts);
        const Tensor logits = ensure(acts.logits, dt, {acts.xsel.shape()[0], d.vocab});
        matmul_forward(acts.xsel, m.p.lm_head, logits);
        return cross_entropy_forward(logits, acts.tsel).loss;
    }
    const Tensor logits = ensure(acts.logits, dt, {B, T, d.vocab});
    matmul_forward(acts.xn, m.p.lm_head, logits);
    if (batch.targets.empty()) return 0.0;
    HGRN_CHECK(batch.targets.numel() == B * T, "LM targets must be (B, T), got ", batch.targets.describe());
    return cross_entropy_forward(logits.reshape({B * T, d.vocab}), batch.targets.reshape({B * T})).loss;
}

// Reverse of head_forward; acts.logits is overwritten with the logits' gradient. dxn is overwritten.
void head_backward(LanguageModel& m, const LmBatch& batch, LmActs& acts, double dloss, const Tensor& dxn) {
    const LmDims& d = m.dims;
    const int64_t B = acts.B, T = acts.T;
    if (d.num_labels > 0) {
        const Tensor logits = acts.logits;
        cross_entropy_backward(logits, batch.targets.reshape({B}), dloss, logits);
        const Tensor dpooled = ensure(acts.dpooled, logits.dtype(), {B, d.D});
        matmul_backward(acts.pooled, m.p.classifier, logits, dpooled, m.g.classifier);
        bias_backward(logits, m.g.classifier_bias);
        mean_over_time_backward(dpooled, dxn);
        return;
    }
    if (acts.gathered) {  // counted rows only: scatter the gathered rows' gradient back, 0 elsewhere
        const Tensor logits = acts.logits;
        cross_entropy_backward(logits, acts.tsel, dloss, logits);
        const Tensor dxs = ensure(acts.dxsel, dxn.dtype(), acts.xsel.shape());
        matmul_backward(acts.xsel, m.p.lm_head, logits, dxs, m.g.lm_head);
        zero(dxn);
        const size_t row_bytes = size_t(d.D) * dtype_size(dxn.dtype());
        for (size_t r = 0; r < acts.rows.size(); ++r)
            std::memcpy(static_cast<char*>(dxn.data()) + size_t(acts.rows[r]) * row_bytes,
                        static_cast<const char*>(dxs.data()) + r * row_bytes, row_bytes);
        return;
    }
    const Tensor logits = acts.logits.view().reshape({B * T, d.vocab});
    cross_entropy_backward(logits, batch.targets.reshape({B * T}), dloss, logits);
    matmul_backward(acts.xn, m.p.lm_head, logits, dxn, m.g.lm_head);
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

double lm_forward(LanguageModel& m, const LmBatch& batch, LmActs& acts, LmState* state, const LmTrainOptions& tr) {
    const LmDims& d = m.dims;
    const DType dt = m.params.dtype();
    const Tensor r = embed_inputs(m, batch, acts);
    const int64_t B = acts.B, T = acts.T;
    if (state) HGRN_CHECK(state->batch == B, "state is for batch ", state->batch, ", the inputs have ", B);
    const Shape sh{B, T, d.D};
    acts.dropout = tr.dropout;
    apply_dropout(r, acts.drop_e, tr, 0);
    const Tensor gamma = compute_gamma(m, acts);
    Tensor x = r;
    for (int64_t l = 0; l < d.L; ++l) {
        const Tensor r_out = l + 1 < d.L ? ensure(acts.layers[size_t(l + 1)].r_in, dt, sh) : ensure(acts.r_out, dt, sh);
        block_forward(m, l, x, gamma, acts.layers[size_t(l)], state, tr, r_out);
        x = r_out;
    }
    const Tensor xn = ensure(acts.xn, dt, sh), rstd = ensure(acts.rstd, dt, {B * T});
    rmsnorm_forward(x, m.p.norm, d.norm_eps, xn, rstd);
    return head_forward(m, batch, acts, tr.counted_rows_only);
}

void lm_backward(LanguageModel& m, const LmBatch& batch, LmActs& acts, double dloss) {
    const LmDims& d = m.dims;
    const DType dt = m.params.dtype();
    const int64_t B = acts.B, T = acts.T;
    HGRN_CHECK(!batch.targets.empty(), "lm_backward needs the targets of the last forward");
    const Shape sh{B, T, d.D};
    const Tensor dxn = ensure(acts.dxn, dt, sh), dr = ensure(acts.dr, dt, sh);
    head_backward(m, batch, acts, dloss, dxn);
    rmsnorm_backward(acts.r_out, m.p.norm, acts.rstd, dxn, dr, m.g.norm);
    const Tensor gamma = acts.gamma.empty() ? Tensor() : acts.gamma.view();
    Tensor dgamma;
    if (!gamma.empty()) {
        dgamma = ensure(acts.dgamma, dt, gamma.shape());
        zero(dgamma);
    }
    for (int64_t l = d.L - 1; l >= 0; --l)
        block_backward(m, l, acts.layers[size_t(l)].r_in, gamma, dgamma, acts.layers[size_t(l)], acts.dropout, dr,
                       acts.dxn, acts.dpooled);
    if (!gamma.empty()) lower_bounds_backward(m.p.lower_bounds, dgamma, m.g.lower_bounds);
    if (acts.dropout > 0) mul(dr, acts.drop_e.view(), dr);
    embed_inputs_backward(m, batch, acts, dr);
}

}  // namespace hgrn
