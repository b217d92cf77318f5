// sampler.cpp — repetition penalty, temperature, top-k, top-p and one draw (see sampler.h).
// Probabilities are computed in float64 from (z − max z) / T, so tiny temperatures never overflow.
#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"

namespace hgrn {

void check_sampler_options(const SamplerOptions& o) {
    HGRN_CHECK(std::isfinite(o.temperature) && o.temperature >= 0,
               "sampler: temperature must be >= 0 (0 = greedy), got ", o.temperature);
    HGRN_CHECK(o.top_k >= 0, "sampler: top_k must be >= 0 (0 = off), got ", o.top_k);
    HGRN_CHECK(o.top_p > 0 && o.top_p <= 1, "sampler: top_p must be in (0, 1] (1 = off), got ", o.top_p);
    HGRN_CHECK(std::isfinite(o.repetition_penalty) && o.repetition_penalty > 0,
               "sampler: repetition_penalty must be > 0 (1 = off), got ", o.repetition_penalty);
}

Sampler::Sampler(const SamplerOptions& options) : opt_(options), rng_(options.seed) { check_sampler_options(opt_); }

void Sampler::apply_penalty(int64_t vocab, std::span<const int64_t> history) {
    if (opt_.repetition_penalty == 1.0 || history.empty()) return;
    if (++stamp_ == 0) {  // wrapped: forget the old stamps
        std::fill(mark_.begin(), mark_.end(), 0u);
        stamp_ = 1;
    }
    const float r = float(opt_.repetition_penalty);
    for (const int64_t id : history) {
        HGRN_CHECK(id >= 0 && id < vocab, "sampler: history token id ", id, " out of range [0, ", vocab, ")");
        if (mark_[size_t(id)] == stamp_) continue;  // once per distinct token
        mark_[size_t(id)] = stamp_;
        float& z = z_[size_t(id)];
        z = z > 0 ? z / r : z * r;
    }
}

int64_t Sampler::select_candidates(int64_t vocab, float zmax) {
    std::iota(order_.begin(), order_.end(), int64_t(0));
    const auto higher = [this](int64_t a, int64_t b) {
        const float za = z_[size_t(a)], zb = z_[size_t(b)];
        return za > zb || (za == zb && a < b);
    };
    int64_t n = vocab;
    const bool nucleus = opt_.top_p < 1.0;
    if (opt_.top_k > 0 && opt_.top_k < vocab) {
        n = opt_.top_k;
        if (nucleus)
            std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), higher);
        else
            std::nth_element(order_.begin(), order_.begin() + n - 1, order_.end(), higher);
    } else if (nucleus) {
        std::sort(order_.begin(), order_.end(), higher);
    }
    const double inv_t = 1.0 / opt_.temperature;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
        prob_[size_t(i)] = std::exp((double(z_[size_t(order_[size_t(i)])]) - double(zmax)) * inv_t);
        total += prob_[size_t(i)];
    }
    if (!nucleus) return n;
    const double target = opt_.top_p * total;
    double cum = 0;
    for (int64_t i = 0; i < n; ++i) {
        cum += prob_[size_t(i)];
        if (cum >= target) return i + 1;
    }
    return n;
}

int64_t Sampler::draw(int64_t n) {
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += prob_[size_t(i)];
    const double u = rng_.uniform() * total;
    double acc = 0;
    int64_t last = order_[0];
    for (int64_t i = 0; i < n; ++i) {
        if (prob_[size_t(i)] <= 0) continue;
        acc += prob_[size_t(i)];
        last = order_[size_t(i)];
        if (u < acc) return last;
    }
    return last;  // rounding left u at the very top: the last token with mass
}

int64_t Sampler::sample(const float* logits, int64_t vocab, std::span<const int64_t> history) {
    HGRN_CHECK(logits != nullptr && vocab > 0, "sampler: need logits for a vocabulary > 0, got vocab ", vocab);
    if (int64_t(z_.size()) != vocab) {
        z_.assign(size_t(vocab), 0.f);
        order_.assign(size_t(vocab), 0);
        prob_.assign(size_t(vocab), 0.0);
        mark_.assign(size_t(vocab), 0u);
        stamp_ = 0;
    }
    std::copy(logits, logits + vocab, z_.begin());
    apply_penalty(vocab, history);
    int64_t best = -1;
    for (int64_t i = 0; i < vocab; ++i) {
        const float z = z_[size_t(i)];
        HGRN_CHECK(!std::isnan(z) && z != INFINITY, "sampler: logit of token ", i, " is ", z);
        if (z > -INFINITY && (best < 0 || z > z_[size_t(best)])) best = i;
    }
    HGRN_CHECK(best >= 0, "sampler: every logit is -inf; nothing can be sampled");
    if (opt_.temperature == 0) return best;
    return draw(select_candidates(vocab, z_[size_t(best)]));
}

}  // namespace hgrn
