// sampler_test.cpp — the sampler: greedy and top_k = 1 are the argmax; temperature, top-k and top-p give the
// expected distributions (empirical frequencies over many draws within 5 standard errors); the repetition
// penalty (CTRL: positive divided, negative multiplied, once per distinct token) changes the greedy choice;
// a seed fixes the sequence; invalid options and logits are clear errors.
#include "infer/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/check.h"
#include "core/rng.h"

using namespace hgrn;

namespace {

std::vector<float> random_logits(int64_t n, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> z(static_cast<size_t>(n));
    for (auto& v : z) v = float(rng.normal(0.0, 2.0));
    return z;
}

int64_t argmax(const std::vector<float>& z) {
    int64_t best = 0;
    for (size_t i = 1; i < z.size(); ++i)
        if (z[i] > z[size_t(best)]) best = int64_t(i);
    return best;
}

// Frequencies of each id over `draws` samples.
std::vector<double> frequencies(Sampler& s, const std::vector<float>& z, int draws) {
    std::vector<double> f(z.size(), 0.0);
    for (int i = 0; i < draws; ++i) f[size_t(s.sample(z.data(), int64_t(z.size()), {}))] += 1.0 / draws;
    return f;
}

// Expects |f - p| <= 5 standard errors of a frequency over `draws` draws (plus a hair for p = 0 or 1).
void expect_distribution(const std::vector<double>& f, const std::vector<double>& p, int draws, uint64_t seed) {
    ASSERT_EQ(f.size(), p.size());
    for (size_t i = 0; i < p.size(); ++i) {
        const double se = std::sqrt(p[i] * (1 - p[i]) / draws);
        EXPECT_NEAR(f[i], p[i], 5 * se + 1e-12) << "token " << i << ", seed " << seed;
    }
}

}  // namespace

TEST(Sampler, GreedyIsArgmax) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        const std::vector<float> z = random_logits(1000, seed);
        Sampler s({.temperature = 0, .seed = seed});
        EXPECT_EQ(s.sample(z.data(), 1000, {}), argmax(z)) << "seed " << seed;
    }
    const std::vector<float> tie{1.f, 3.f, 3.f, -2.f};
    Sampler s({.temperature = 0});
    EXPECT_EQ(s.sample(tie.data(), 4, {}), 1);  // the first on ties
}

TEST(Sampler, TopKOneIsArgmax) {
    const std::vector<float> z = random_logits(500, 7);
    Sampler s({.temperature = 1.5, .top_k = 1, .seed = 7});
    for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(z.data(), 500, {}), argmax(z));
}

TEST(Sampler, TemperatureGivesTheSoftmaxDistribution) {
    const std::vector<float> z{1.0f, 0.0f, -1.0f};
    for (double t : {0.5, 1.0, 2.0}) {
        std::vector<double> p(3);
        double sum = 0;
        for (size_t i = 0; i < 3; ++i) sum += p[i] = std::exp(double(z[i]) / t);
        for (auto& v : p) v /= sum;
        const int draws = 100000;
        Sampler s({.temperature = t, .seed = 11});
        expect_distribution(frequencies(s, z, draws), p, draws, 11);
    }
}

TEST(Sampler, TopKRenormalisesOverTheKLargest) {
    const std::vector<float> z{0.0f, 2.0f, -1.0f, 1.0f};  // top 2: ids 1 and 3
    const double e = std::exp(1.0);
    const int draws = 100000;
    Sampler s({.temperature = 1, .top_k = 2, .seed = 12});
    expect_distribution(frequencies(s, z, draws), {0, e / (e + 1), 0, 1 / (e + 1)}, draws, 12);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
    const std::vector<double> p{0.05, 0.5, 0.15, 0.3};  // by probability: ids 1, 3, 2, 0
    std::vector<float> z;
    for (double v : p) z.push_back(float(std::log(v)));
    const int draws = 100000;
    {  // p = 0.75: {1, 3} (mass 0.8) is the smallest set with mass >= 0.75
        Sampler s({.temperature = 1, .top_p = 0.75, .seed = 13});
        expect_distribution(frequencies(s, z, draws), {0, 0.5 / 0.8, 0, 0.3 / 0.8}, draws, 13);
    }
    {  // p = 0.85: {1, 3, 2}; id 0 never drawn
        Sampler s({.temperature = 1, .top_p = 0.85, .seed = 14});
        expect_distribution(frequencies(s, z, draws), {0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95}, draws, 14);
    }
    {  // top_p after top_k: top 3 = {1, 3, 2} (mass 0.95, renormalised 0.526, 0.316, 0.158); p = 0.8 → {1, 3}
        Sampler s({.temperature = 1, .top_k = 3, .top_p = 0.8, .seed = 15});
        expect_distribution(frequencies(s, z, draws), {0, 0.5 / 0.8, 0, 0.3 / 0.8}, draws, 15);
    }
    {  // a tiny p keeps the most likely token only
        Sampler s({.temperature = 1, .top_p = 1e-6, .seed = 16});
        expect_distribution(frequencies(s, z, 1000), {0, 1, 0, 0}, 1000, 16);
    }
}

TEST(Sampler, RepetitionPenaltyChangesTheGreedyChoice) {
    const std::vector<int64_t> seen{0};
    {  // positive logit divided: 2.0 / 1.5 = 1.33 < 1.8
        const std::vector<float> z{2.0f, 1.8f, -1.0f};
        Sampler off({.temperature = 0}), on({.temperature = 0, .repetition_penalty = 1.5});
        EXPECT_EQ(off.sample(z.data(), 3, seen), 0);
        EXPECT_EQ(on.sample(z.data(), 3, seen), 1);
        EXPECT_EQ(on.sample(z.data(), 3, {}), 0);  // nothing seen, nothing penalised
    }
    {  // negative logit multiplied: -0.5 * 1.5 = -0.75 < -0.6
        const std::vector<float> z{-0.5f, -0.6f, -3.0f};
        Sampler on({.temperature = 0, .repetition_penalty = 1.5});
        EXPECT_EQ(on.sample(z.data(), 3, seen), 1);
    }
    {  // once per distinct token: 2.0 / 1.2 = 1.67 > 1.5 (thrice would give 1.16)
        const std::vector<float> z{2.0f, 1.5f};
        const std::vector<int64_t> thrice{0, 0, 0};
        Sampler on({.temperature = 0, .repetition_penalty = 1.2});
        EXPECT_EQ(on.sample(z.data(), 2, thrice), 0);
    }
    {  // a penalty < 1 favours repeats
        const std::vector<float> z{1.0f, 1.5f};
        Sampler on({.temperature = 0, .repetition_penalty = 0.5});
        EXPECT_EQ(on.sample(z.data(), 2, seen), 0);
    }
}

TEST(Sampler, SameSeedSameSequence) {
    const std::vector<float> z = random_logits(300, 17);
    const SamplerOptions o{.temperature = 1.0, .top_k = 50, .top_p = 0.9, .repetition_penalty = 1.1, .seed = 99};
    Sampler a(o), b(o), c({.temperature = 1.0, .top_k = 50, .top_p = 0.9, .repetition_penalty = 1.1, .seed = 100});
    std::vector<int64_t> ha, hb, hc;
    for (int i = 0; i < 100; ++i) {
        ha.push_back(a.sample(z.data(), 300, ha));
        hb.push_back(b.sample(z.data(), 300, hb));
        hc.push_back(c.sample(z.data(), 300, hc));
    }
    EXPECT_EQ(ha, hb);
    EXPECT_NE(ha, hc);
}

TEST(Sampler, InvalidOptionsAndLogitsAreErrors) {
    EXPECT_THROW(Sampler({.temperature = -0.1}), Error);
    EXPECT_THROW(Sampler({.temperature = NAN}), Error);
    EXPECT_THROW(Sampler({.top_k = -1}), Error);
    EXPECT_THROW(Sampler({.top_p = 0}), Error);
    EXPECT_THROW(Sampler({.top_p = 1.01}), Error);
    EXPECT_THROW(Sampler({.repetition_penalty = 0}), Error);
    EXPECT_THROW(Sampler({.repetition_penalty = -1}), Error);
    try {
        Sampler({.top_p = 2});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos) << e.what();
    }
    Sampler s({.temperature = 1, .repetition_penalty = 1.3});
    const std::vector<float> nan_z{0.f, NAN, 1.f}, inf_z{0.f, INFINITY}, dead{-INFINITY, -INFINITY};
    const std::vector<int64_t> bad_history{5};
    EXPECT_THROW(s.sample(nan_z.data(), 3, {}), Error);
    EXPECT_THROW(s.sample(inf_z.data(), 2, {}), Error);
    EXPECT_THROW(s.sample(dead.data(), 2, {}), Error);
    EXPECT_THROW(s.sample(inf_z.data(), 0, {}), Error);
    const std::vector<float> ok{0.f, 1.f, 2.f};
    EXPECT_THROW(s.sample(ok.data(), 3, bad_history), Error);
    // -inf logits (masked tokens) are never drawn.
    const std::vector<float> masked{-INFINITY, 0.f, -INFINITY};
    for (int i = 0; i < 100; ++i) ASSERT_EQ(s.sample(masked.data(), 3, {}), 1);
}
