// mqar_test.cpp — the MQAR generator against zoology's structure: keys/values ranges and distinctness,
// labels only at the repeated keys and equal to their context values, the gap rule, seeds, argument errors,
// and the gap distribution.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/check.h"
#include "data/mqar.h"
#include "data/temp_dir.h"

using namespace hgrn;
using hgrn::test::expect_error;

namespace {

// Checks one example against the rules in mqar.h; fails the test with the example index otherwise.
void check_example(const MqarData& d, int64_t e, bool random_fillers) {
    SCOPED_TRACE("example " + std::to_string(e));
    const int64_t S = d.seq_len, N = d.num_kv_pairs, V = d.vocab_size, ctx = 2 * N;
    const int32_t* in = d.input_row(e);
    const int32_t* lab = d.label_row(e);
    std::map<int32_t, int32_t> kv;
    std::set<int32_t> values;
    for (int64_t j = 0; j < N; ++j) {
        const int32_t k = in[2 * j], v = in[2 * j + 1];
        ASSERT_GE(k, 1);
        ASSERT_LT(k, V / 2);
        ASSERT_GE(v, V / 2);
        ASSERT_LT(v, V);
        ASSERT_TRUE(kv.emplace(k, v).second) << "repeated key " << k;
        ASSERT_TRUE(values.insert(v).second) << "repeated value " << v;
    }
    for (int64_t t = 0; t < ctx; ++t) ASSERT_EQ(lab[t], kMqarIgnore) << "label inside the context at " << t;
    std::set<int32_t> queried;
    for (int64_t t = ctx; t < S; ++t) {
        if (lab[t] == kMqarIgnore) {
            if (!random_fillers) {
                ASSERT_EQ(in[t], 0) << "filler at " << t;
            }
            continue;
        }
        // Gap rule: queries sit at even offsets 2·g of the query region, g in [0, space).
        ASSERT_EQ((t - ctx) % 2, 0) << "query at odd offset " << t;
        ASSERT_LT((t - ctx) / 2, (S - ctx) / 2);
        // The label is the value paired with the key read at this position in the context.
        const auto it = kv.find(in[t]);
        ASSERT_NE(it, kv.end()) << "label at " << t << " follows a token that is not a key";
        ASSERT_EQ(lab[t], it->second);
        queried.insert(in[t]);
    }
    EXPECT_EQ(int64_t(queried.size()), N) << "every key is queried exactly once";
}

}  // namespace

TEST(Mqar, StructuralInvariants) {
    for (auto [S, N] : {std::pair<int64_t, int64_t>{64, 4}, {128, 8}, {256, 16}, {512, 64}, {16, 4}}) {
        MqarConfig c{.vocab_size = 8192, .num_examples = 300, .seq_len = S, .num_kv_pairs = N, .seed = 11};
        SCOPED_TRACE("seq_len " + std::to_string(S) + " pairs " + std::to_string(N) + " seed 11");
        const MqarData d = mqar_generate(c);
        ASSERT_EQ(d.inputs.size(), size_t(300 * S));
        ASSERT_EQ(d.labels.size(), size_t(300 * S));
        for (int64_t e = 0; e < d.num_examples; ++e) check_example(d, e, false);
    }
}

TEST(Mqar, LabelsAreTheRawLabelsShiftedByOne) {
    // The raw example x has S + 1 tokens and raw labels y with y[p] = value at p = 2N + 2g + 1, i.e. the
    // token after the repeated key. inputs = x[:-1], labels = y[1:] puts the value at the key's own position:
    // reading the key at t, the model must emit the value (x[t + 1] would be the next raw token).
    MqarConfig c{.vocab_size = 100, .num_examples = 50, .seq_len = 32, .num_kv_pairs = 3, .seed = 5};
    const MqarData d = mqar_generate(c);
    for (int64_t e = 0; e < d.num_examples; ++e)
        for (int64_t t = 0; t < d.seq_len; ++t)
            if (d.label_row(e)[t] != kMqarIgnore) {
                ASSERT_GE(d.input_row(e)[t], 1);
                ASSERT_LT(d.input_row(e)[t], 50);  // a key, not a value
                if (t + 1 < d.seq_len) {
                    EXPECT_EQ(d.input_row(e)[t + 1], 0);  // next raw token: filler
                }
            }
}

TEST(Mqar, RandomNonQueriesReplaceOnlyFillers) {
    MqarConfig c{.vocab_size = 1000, .num_examples = 200, .seq_len = 64, .num_kv_pairs = 4,
                 .random_non_queries = true, .seed = 3};
    const MqarData d = mqar_generate(c);
    int64_t nonzero_fillers = 0;
    for (int64_t e = 0; e < d.num_examples; ++e) {
        check_example(d, e, true);
        for (int64_t t = 8; t < 64; ++t) nonzero_fillers += d.label_row(e)[t] == kMqarIgnore && d.input_row(e)[t];
    }
    EXPECT_GT(nonzero_fillers, 200 * 50);  // almost every one of the ~52 fillers per example
}

TEST(Mqar, SeedsDeterministicAndDistinct) {
    MqarConfig c{.vocab_size = 8192, .num_examples = 100, .seq_len = 64, .num_kv_pairs = 4, .seed = 42};
    const MqarData a = mqar_generate(c), b = mqar_generate(c);
    EXPECT_EQ(a.inputs, b.inputs);
    EXPECT_EQ(a.labels, b.labels);
    c.seed = 43;
    const MqarData other = mqar_generate(c);
    EXPECT_NE(a.inputs, other.inputs);
    const MqarSplits s = mqar_generate_splits(c, 500, 100);
    EXPECT_EQ(s.train.num_examples, 500);
    EXPECT_EQ(s.test.num_examples, 100);
    EXPECT_NE(std::vector<int32_t>(s.train.inputs.begin(), s.train.inputs.begin() + 6400), s.test.inputs);
    EXPECT_EQ(mqar_count_overlap(s.train, s.test), 0);
    EXPECT_EQ(mqar_count_overlap(s.train, s.train), 500);
}

TEST(Mqar, FillBatchGathersRows) {
    MqarConfig c{.vocab_size = 200, .num_examples = 10, .seq_len = 16, .num_kv_pairs = 2, .seed = 1};
    const MqarData d = mqar_generate(c);
    const int64_t idx[2] = {7, 2};
    std::vector<int64_t> in(32), lab(32);
    d.fill_batch(idx, 2, in.data(), lab.data());
    for (int64_t t = 0; t < 16; ++t) {
        EXPECT_EQ(in[t], d.input_row(7)[t]);
        EXPECT_EQ(lab[16 + t], d.label_row(2)[t]);
    }
    const int64_t bad = 10;
    expect_error([&] { d.fill_batch(&bad, 1, in.data(), lab.data()); }, {"index 10"});
}

TEST(Mqar, ArgumentErrors) {
    MqarConfig c{.vocab_size = 8192, .num_examples = 1, .seq_len = 64, .num_kv_pairs = 4};
    auto with = [&](auto edit) {
        MqarConfig x = c;
        edit(x);
        return x;
    };
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.seq_len = 63; })); }, {"seq_len", "even"});
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.vocab_size = 64; })); }, {"vocab_size", "seq_len"});
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.num_kv_pairs = 17; })); }, {"4 * num_kv_pairs"});
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.num_kv_pairs = 0; })); }, {"num_kv_pairs"});
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.power_a = 0; })); }, {"power_a"});
    expect_error([&] { mqar_generate(with([](MqarConfig& x) { x.num_examples = -1; })); }, {"num_examples"});
    EXPECT_NO_THROW(mqar_generate(with([](MqarConfig& x) { x.num_kv_pairs = 16; })));  // 4N == seq_len
}

TEST(Mqar, GapDistributionFollowsThePowerLaw) {
    // p[i] ∝ a (i+1)^(a-1); with N = 1 the single gap's histogram should match p (chi-square-ish bound).
    const int64_t S = 40, space = (S - 2) / 2;
    const auto p = mqar_gap_probabilities(space, 0.01);
    double sum = 0;
    for (double x : p) sum += x;
    EXPECT_NEAR(sum, 1.0, 1e-12);
    EXPECT_NEAR(p[0] / p[1], std::pow(2.0, 0.99), 1e-9);
    MqarConfig c{.vocab_size = 100, .num_examples = 40000, .seq_len = S, .num_kv_pairs = 1, .seed = 9};
    const MqarData d = mqar_generate(c);
    std::vector<double> count(static_cast<size_t>(space));
    for (int64_t e = 0; e < d.num_examples; ++e)
        for (int64_t t = 2; t < S; ++t)
            if (d.label_row(e)[t] != kMqarIgnore) count[size_t((t - 2) / 2)] += 1;
    for (int64_t i = 0; i < space; ++i) {
        const double expect = p[size_t(i)] * 40000, sd = std::sqrt(expect);
        EXPECT_NEAR(count[size_t(i)], expect, 5 * sd + 1) << "gap " << i;
    }
    // Distinct gaps with N = space (4N == S): every gap used exactly once per example.
    MqarConfig full{.vocab_size = 100, .num_examples = 50, .seq_len = 40, .num_kv_pairs = 10, .seed = 2};
    const MqarData f = mqar_generate(full);
    for (int64_t e = 0; e < 50; ++e) check_example(f, e, false);
}
