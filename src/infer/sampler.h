// sampler.h — picks the next token from a row of logits (vocab) float32.
// Order of the transforms (Hugging Face / llama.cpp order): repetition penalty (CTRL, Keskar et al. 2019: for
// every distinct token already in the history, a positive logit is divided by the penalty, a negative one
// multiplied), then temperature 0 → argmax (first on ties); else p_i ∝ exp((z_i − max z) / T), restricted to
// the top_k largest (0 = all), then to the smallest prefix of those, by decreasing probability, whose mass
// (renormalised over the top-k set) reaches top_p (1 = all), and one draw from the renormalised remainder.
// Ties are broken by the smaller id, so a seed gives the same tokens on every platform. The scratch buffers
// are sized on the first call for a vocabulary and reused: no allocation per call after that.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"

namespace hgrn {

struct SamplerOptions {
    double temperature = 1.0;         // 0 = greedy (argmax); must be >= 0
    int64_t top_k = 0;                // 0 = off; must be >= 0
    double top_p = 1.0;               // 1 = off; must be in (0, 1]
    double repetition_penalty = 1.0;  // 1 = off; must be > 0 (> 1 discourages repeats)
    uint64_t seed = 0;
};

// Throws hgrn::Error naming the first invalid option and its value.
void check_sampler_options(const SamplerOptions& o);

class Sampler {
  public:
    explicit Sampler(const SamplerOptions& options);  // checks the options

    // logits: (vocab) float32, not modified. history: the ids seen so far (prompt and generated), each in
    // [0, vocab), used by the repetition penalty only. Errors on NaN or +inf logits, or none finite.
    int64_t sample(const float* logits, int64_t vocab, std::span<const int64_t> history);

    const SamplerOptions& options() const { return opt_; }
    void reseed(uint64_t seed) { rng_.reseed(seed); }

  private:
    void apply_penalty(int64_t vocab, std::span<const int64_t> history);
    int64_t select_candidates(int64_t vocab, float zmax);  // fills order_/prob_[0, n), returns n
    int64_t draw(int64_t n);

    SamplerOptions opt_;
    Rng rng_;
    std::vector<float> z_;        // (vocab) logits after the penalty
    std::vector<int64_t> order_;  // (vocab) candidate ids
    std::vector<double> prob_;    // (vocab) unnormalised probabilities of order_[i]
    std::vector<uint32_t> mark_;  // (vocab) stamp_ when the id was already penalised in this call
    uint32_t stamp_ = 0;
};

}  // namespace hgrn
