// mqar.cpp — the MQAR generator (layout and sampling order in mqar.h).
// Weighted sampling without replacement (numpy's choice(replace=False, p=p)): draw from p, discard repeats;
// the first new index is distributed as p renormalised over the indices not yet taken, which is exactly the
// successive-sampling rule. After many consecutive repeats the draw falls back to an explicit scan over the
// remaining mass (same distribution, bounded time).
#include "data/mqar.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>

#include "core/check.h"
#include "core/rng.h"

namespace hgrn {

namespace {

void check_mqar_config(const MqarConfig& c) {
    HGRN_CHECK(c.num_examples >= 0, "mqar: num_examples must be >= 0, got ", c.num_examples);
    HGRN_CHECK(c.seq_len > 0 && c.seq_len % 2 == 0, "mqar: seq_len must be even and > 0, got ", c.seq_len);
    HGRN_CHECK(c.vocab_size > c.seq_len, "mqar: vocab_size (", c.vocab_size, ") must be > seq_len (", c.seq_len, ")");
    HGRN_CHECK(c.vocab_size <= (int64_t(1) << 30), "mqar: vocab_size ", c.vocab_size, " too large");
    HGRN_CHECK(c.num_kv_pairs >= 1, "mqar: num_kv_pairs must be >= 1, got ", c.num_kv_pairs);
    HGRN_CHECK(4 * c.num_kv_pairs <= c.seq_len, "mqar: 4 * num_kv_pairs (", 4 * c.num_kv_pairs,
               ") must be <= seq_len (", c.seq_len, ")");
    HGRN_CHECK(c.power_a > 0 && std::isfinite(c.power_a), "mqar: power_a must be > 0, got ", c.power_a);
}

// n distinct integers uniform in [lo, hi), in draw order (hi − lo ≥ 2n − 1 here, so rejection is cheap).
void draw_distinct(Rng& rng, int64_t lo, int64_t hi, int64_t n, int32_t* out) {
    for (int64_t j = 0; j < n; ++j) {
        for (;;) {
            const int32_t v = int32_t(lo + int64_t(rng.below(uint64_t(hi - lo))));
            if (std::find(out, out + j, v) == out + j) {
                out[j] = v;
                break;
            }
        }
    }
}

// Index drawn from cdf (cdf.back() == 1) by inverse transform.
int64_t draw_from_cdf(Rng& rng, const std::vector<double>& cdf) {
    const double u = rng.uniform();
    const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
    return std::min<int64_t>(it - cdf.begin(), int64_t(cdf.size()) - 1);
}

// n distinct gaps from p without replacement (successive sampling); taken is scratch of size p.size().
void draw_gaps(Rng& rng, const std::vector<double>& p, const std::vector<double>& cdf, int64_t n,
               std::vector<char>& taken, int64_t* out) {
    std::fill(taken.begin(), taken.end(), 0);
    for (int64_t j = 0; j < n; ++j) {
        int64_t g = -1;
        for (int tries = 0; tries < 64 && g < 0; ++tries) {
            const int64_t c = draw_from_cdf(rng, cdf);
            if (!taken[size_t(c)]) g = c;
        }
        if (g < 0) {  // explicit scan over the mass left
            double left = 0;
            for (size_t i = 0; i < p.size(); ++i)
                if (!taken[i]) left += p[i];
            double u = rng.uniform() * left;
            for (size_t i = 0; i < p.size(); ++i) {
                if (taken[i]) continue;
                g = int64_t(i);
                if ((u -= p[i]) < 0) break;
            }
        }
        taken[size_t(g)] = 1;
        out[j] = g;
    }
}

}  // namespace

std::vector<double> mqar_gap_probabilities(int64_t space, double power_a) {
    HGRN_CHECK(space > 0, "mqar: gap space must be > 0, got ", space);
    std::vector<double> p(static_cast<size_t>(space));
    double sum = 0;
    for (int64_t i = 0; i < space; ++i) sum += p[size_t(i)] = power_a * std::pow(double(i + 1), power_a - 1.0);
    for (double& x : p) x /= sum;
    return p;
}

MqarData mqar_generate(const MqarConfig& c) {
    check_mqar_config(c);
    const int64_t S = c.seq_len, N = c.num_kv_pairs, V = c.vocab_size, ctx = 2 * N, space = (S - ctx) / 2;
    MqarData d;
    d.num_examples = c.num_examples, d.seq_len = S, d.vocab_size = V, d.num_kv_pairs = N;
    d.inputs.assign(size_t(c.num_examples * S), 0);
    d.labels.assign(size_t(c.num_examples * S), kMqarIgnore);

    const std::vector<double> p = mqar_gap_probabilities(space, c.power_a);
    std::vector<double> cdf(p.size());
    std::partial_sum(p.begin(), p.end(), cdf.begin());
    cdf.back() = 1.0;
    std::vector<char> taken(p.size());
    std::vector<int32_t> keys(static_cast<size_t>(N)), values(static_cast<size_t>(N));
    std::vector<int64_t> gaps(static_cast<size_t>(N));

    Rng rng(c.seed);
    for (int64_t e = 0; e < c.num_examples; ++e) {
        draw_distinct(rng, 1, V / 2, N, keys.data());
        draw_distinct(rng, V / 2, V, N, values.data());
        draw_gaps(rng, p, cdf, N, taken, gaps.data());
        int32_t* in = d.inputs.data() + e * S;
        int32_t* lab = d.labels.data() + e * S;
        for (int64_t j = 0; j < N; ++j) {
            in[2 * j] = keys[size_t(j)];
            in[2 * j + 1] = values[size_t(j)];
            // example index ctx + 2g holds the key; it is < S since 2g ≤ S − ctx − 2.
            in[ctx + 2 * gaps[size_t(j)]] = keys[size_t(j)];
            lab[ctx + 2 * gaps[size_t(j)]] = values[size_t(j)];  // raw label at +1, shifted left by one
        }
        if (c.random_non_queries)
            for (int64_t t = 0; t < S; ++t)
                if (in[t] == 0) in[t] = int32_t(rng.below(uint64_t(V)));
    }
    return d;
}

MqarSplits mqar_generate_splits(MqarConfig config, int64_t num_train, int64_t num_test) {
    MqarSplits s;
    const uint64_t seed = config.seed;
    config.num_examples = num_train;
    s.train = mqar_generate(config);
    config.num_examples = num_test;
    config.seed = seed + 10;
    s.test = mqar_generate(config);
    return s;
}

void MqarData::fill_batch(const int64_t* idx, int64_t batch, int64_t* inputs_out, int64_t* labels_out) const {
    for (int64_t b = 0; b < batch; ++b) {
        const int64_t i = idx[b];
        HGRN_CHECK(i >= 0 && i < num_examples, "mqar: example index ", i, " out of range [0, ", num_examples, ")");
        std::copy(input_row(i), input_row(i) + seq_len, inputs_out + b * seq_len);
        std::copy(label_row(i), label_row(i) + seq_len, labels_out + b * seq_len);
    }
}

int64_t mqar_count_overlap(const MqarData& train, const MqarData& test) {
    HGRN_CHECK(train.seq_len == test.seq_len, "mqar: overlap of sets with different seq_len");
    auto key = [](const MqarData& d, int64_t i) {
        return std::string(reinterpret_cast<const char*>(d.input_row(i)), size_t(d.seq_len) * sizeof(int32_t));
    };
    std::unordered_set<std::string> seen;
    seen.reserve(size_t(train.num_examples));
    for (int64_t i = 0; i < train.num_examples; ++i) seen.insert(key(train, i));
    int64_t n = 0;
    for (int64_t i = 0; i < test.num_examples; ++i) n += seen.count(key(test, i)) ? 1 : 0;
    return n;
}

}  // namespace hgrn
