// mqar.h — multi-query associative recall (zoology's multiquery_ar, which HGRN2 follows), EXPERIMENTS.md.
//
// One example, N = num_kv_pairs, S = seq_len, space = (S − 2N) / 2:
//   keys   k_1..k_N distinct, uniform from [1, vocab/2); values v_1..v_N distinct, uniform from [vocab/2, vocab)
//   context  k1 v1 k2 v2 … kN vN                                   (2N tokens)
//   gaps     g_1..g_N distinct in [0, space), drawn without replacement with p[i] ∝ a·(i+1)^(a−1), a = power_a
//   queries  S − 2N + 1 zeros (token 0 = filler) with k_j at index 2·g_j
//   example  = context ++ queries (S + 1 tokens); raw labels −100 except raw[2·g_j + 2N + 1] = v_j
//   inputs   = example[0, S), labels = raw[1, S + 1)  → labels[2N + 2·g_j] = v_j where inputs holds k_j
// With random_non_queries every 0 left in the inputs is replaced by a token uniform in [0, vocab) (zoology's
// option; off in the paper's configs). Arguments checked first: S even, vocab > S, 4N ≤ S, N ≥ 1.
// Sampling: hgrn::Rng, per example in this order: keys, values, gaps, then fillers. Not numpy's stream (so
// not zoology's exact numbers), the same distributions.
#pragma once

#include <cstdint>
#include <vector>

namespace hgrn {

inline constexpr int32_t kMqarIgnore = -100;

struct MqarConfig {
    int64_t vocab_size = 8192;
    int64_t num_examples = 0;
    int64_t seq_len = 64;
    int64_t num_kv_pairs = 4;
    double power_a = 0.01;
    bool random_non_queries = false;
    uint64_t seed = 0;
};

struct MqarData {
    int64_t num_examples = 0, seq_len = 0, vocab_size = 0, num_kv_pairs = 0;
    std::vector<int32_t> inputs;  // (num_examples, seq_len)
    std::vector<int32_t> labels;  // (num_examples, seq_len), −100 except at the N query positions

    const int32_t* input_row(int64_t i) const { return inputs.data() + i * seq_len; }
    const int32_t* label_row(int64_t i) const { return labels.data() + i * seq_len; }
    // Gathers examples idx[0..B) into int64 inputs (B, seq_len) and labels (B, seq_len).
    void fill_batch(const int64_t* idx, int64_t batch, int64_t* inputs_out, int64_t* labels_out) const;
};

// Checks the arguments (clear errors naming the field) and generates config.num_examples examples.
MqarData mqar_generate(const MqarConfig& config);

struct MqarSplits {
    MqarData train, test;
};
// Train from seed, test from seed + 10 (zoology's convention): different seeds, same other settings.
MqarSplits mqar_generate_splits(MqarConfig config, int64_t num_train, int64_t num_test);

// Number of test examples whose inputs equal some train example's inputs (zoology warns on leakage).
int64_t mqar_count_overlap(const MqarData& train, const MqarData& test);

// The gap distribution: p[i] ∝ a·(i+1)^(a−1), i in [0, space), normalised (exposed for tests).
std::vector<double> mqar_gap_probabilities(int64_t space, double power_a);

}  // namespace hgrn
