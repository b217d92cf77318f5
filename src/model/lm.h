// lm.h — the HGRN2 / HGRN1 language model (fla's HGRN2ForCausalLM / HGRNForCausalLM, SPEC.md §2-3):
//     r_0 = Embedding(ids);  per layer l:  h = RMSNorm(r_l; attn_norm),  r' = r_l + Mixer_l(h; γ_l),
//     r_{l+1} = r' + MLP(RMSNorm(r'; mlp_norm));   logits = RMSNorm(r_L; norm) W_headᵀ  (W_head = embeddings
//     when tied);  loss = mean next-token cross-entropy (position t predicts ids[t+1], −100 ignored).
// γ_l = lower bounds (softmax over layers, cumsum, minus row 0); layer 0 gets none. With mlp_size 0 the
// blocks are mixer-only (zoology's MQAR setting): r_{l+1} = r'.
// Variants for the classification tasks: continuous inputs (B, T, P) through model.input_proj (weight and
// bias) instead of the embedding; a classifier head (mean over T of the final-normed states, then
// classifier.weight / classifier.bias) instead of the LM head. Dropout (training only) is applied to the
// embedding output and to every mixer and MLP output before its residual add (fairseq's placement).
// Parameters live in one ParamStore under fla's names; gradients in a second one with the same layout.
#pragma once

#include <string>
#include <vector>

#include "model/hgrn1_mixer.h"
#include "model/hgrn2_mixer.h"
#include "model/mlp.h"
#include "model/param_store.h"

namespace hgrn {

enum class MixerKind { hgrn2, hgrn1 };

// Everything about the model's shape that the math depends on (derived from a config.json).
struct LmDims {
    MixerKind kind = MixerKind::hgrn2;
    int64_t vocab = 0, D = 0, L = 0;
    int64_t H = 0, K = 0, V = 0;  // HGRN2 heads and head dims (K = expand_ratio)
    int64_t E = 0;                // HGRN1 recurrence width (D · expand_ratio)
    int64_t mlp_size = 0;         // I; 0 = no MLP
    int64_t conv = 0;             // short-conv width; 0 = none
    bool lower_bounds = true, affine = true, tied = false;
    double norm_eps = 1e-6;
    int64_t input_features = 0;  // P > 0: continuous inputs (B, T, P) through model.input_proj
    int64_t num_labels = 0;      // > 0: classifier head instead of the LM head
};

std::vector<std::pair<std::string, Shape>> lm_parameter_shapes(const LmDims& d);

struct LayerParams {
    Tensor attn_norm, mlp_norm;  // (D)
    Hgrn2MixerParams hgrn2;
    Hgrn1MixerParams hgrn1;
    MlpParams mlp;
};

struct LmParams {
    Tensor embeddings;    // (vocab, D); absent with continuous inputs
    Tensor input_proj, input_bias;        // (D, P), (D) with continuous inputs
    Tensor classifier, classifier_bias;   // (num_labels, D), (num_labels) for the classifier head
    Tensor lower_bounds;  // (L, D) or absent
    Tensor norm;          // (D)
    Tensor lm_head;       // (vocab, D); the embeddings when tied; absent with the classifier head
    std::vector<LayerParams> layers;
};
LmParams lm_params_view(const LmDims& d, const ParamStore& store);  // for the weights or the gradients

struct LanguageModel {
    LanguageModel(const LmDims& dims, DType dtype);
    LmDims dims;
    ParamStore params, grads;
    LmParams p, g;  // views into params and grads
};

// fla's initialisation (SPEC.md §2.5): linear, conv and embedding weights ~ N(0, range²), norm weights 1,
// lower bounds 0.
void lm_init(LanguageModel& m, uint64_t seed, double initializer_range);

// Per-sequence decoding state: per layer the recurrent state and the short-conv caches.
struct LmState {
    LmState(const LmDims& d, int64_t batch, DType dtype);
    int64_t batch;
    std::vector<Buffer> bufs;
    std::vector<Hgrn2MixerState> hgrn2;
    std::vector<Hgrn1MixerState> hgrn1;
    size_t bytes() const;
};

struct LayerActs {
    Buffer r_in, h, rstd1, a, r_mid, h2, rstd2, m;
    Buffer drop_a, drop_m;  // dropout masks (0 or 1/(1−p)) of the mixer and MLP outputs
    Hgrn2MixerSaved hgrn2;
    Hgrn1MixerSaved hgrn1;
    MlpSaved mlp;
};

struct LmActs {
    std::vector<LayerActs> layers;
    Buffer gamma, r_out, xn, rstd, logits, targets, dr, dxn, dgamma, pooled, dpooled, drop_e;
    Buffer xsel, dxsel, tsel;     // counted_rows_only: gathered rows of xn, their gradient, their targets
    std::vector<int64_t> rows;    // counted_rows_only: the gathered row indices
    bool gathered = false;        // the last forward used counted_rows_only
    int64_t B = 0, T = 0;
    double dropout = 0;  // the rate used by the last forward
};

// One batch. LM: ids (B, T) and targets (B, T) (−100 ignored). Classifier: targets (B) class ids. Continuous
// inputs: features (B, T, P) instead of ids. targets absent → no loss.
struct LmBatch {
    Tensor ids, features, targets;
};

struct LmTrainOptions {
    double dropout = 0;     // rate; 0 = off (evaluation)
    uint64_t seed = 0;      // dropout masks are a function of (seed, layer, site)
    // LM head only at the positions whose target is counted (not −100): the same loss and gradients with
    // less work when most targets are ignored (MQAR). acts.logits then holds those rows only, in order.
    bool counted_rows_only = false;
};

// Next-token targets from ids (B, T): targets[b, t] = ids[b, t+1], the last position −100.
void lm_next_token_targets(const Tensor& ids, const Tensor& targets);

// Forward over ids (B, T) i64. Logits land in acts.logits (B, T, vocab). With targets (B, T) the mean
// cross-entropy is returned (else 0). With a state, every layer starts from it and leaves its final state.
double lm_forward(LanguageModel& m, const LmBatch& batch, LmActs& acts, LmState* state = nullptr,
                  const LmTrainOptions& train = {});
inline double lm_forward(LanguageModel& m, const Tensor& ids, const Tensor& targets, LmActs& acts,
                         LmState* state = nullptr) {
    return lm_forward(m, LmBatch{ids, Tensor(), targets}, acts, state);
}
// Backward of the last lm_forward with targets: parameter gradients accumulate into m.grads (scaled by dloss).
// acts.logits is overwritten with the logits gradient.
void lm_backward(LanguageModel& m, const LmBatch& batch, LmActs& acts, double dloss = 1.0);
inline void lm_backward(LanguageModel& m, const Tensor& ids, const Tensor& targets, LmActs& acts, double dloss = 1.0) {
    lm_backward(m, LmBatch{ids, Tensor(), targets}, acts, dloss);
}

// One decoding step for a batch: ids (B) → logits (B, vocab), the state advanced by one token.
void lm_step(LanguageModel& m, const Tensor& ids, LmState& state, LmActs& acts, const Tensor& logits);

}  // namespace hgrn
