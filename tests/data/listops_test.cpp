// listops_test.cpp — ListOps: labels checked by an independent recursive evaluator written here (and by the
// library's stack evaluator), length bounds, no duplicates across splits, determinism, padding, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "core/check.h"
#include "data/listops.h"
#include "data/temp_dir.h"

using namespace hgrn;
using hgrn::test::expect_error;

namespace {

// Recursive-descent evaluation of the prefix token sequence, independent of the library's stack evaluator.
int eval_at(std::span<const uint8_t> t, size_t& i) {
    const uint8_t tok = t[i++];
    if (tok >= 1 && tok <= 10) return tok - 1;
    EXPECT_TRUE(tok >= 11 && tok <= 14) << "token " << int(tok);
    std::vector<int> args;
    while (t[i] != 15) args.push_back(eval_at(t, i));
    ++i;  // ']'
    std::sort(args.begin(), args.end());
    int sum = 0;
    for (int a : args) sum += a;
    const size_t n = args.size();
    switch (tok) {
        case 11: return args.front();
        case 12: return args.back();
        case 13: return int(std::floor(n % 2 ? args[n / 2] : 0.5 * (args[n / 2 - 1] + args[n / 2])));
        default: return sum % 10;
    }
}

int eval_recursive(std::span<const uint8_t> t) {
    size_t i = 0;
    const int v = eval_at(t, i);
    EXPECT_EQ(i, t.size()) << "trailing tokens";
    return v;
}

ListOpsConfig small_config(uint64_t seed) {
    return {.max_depth = 10, .max_args = 10, .min_length = 20, .max_length = 120, .num_train = 400, .num_val = 50,
            .num_test = 50, .seed = seed};
}

}  // namespace

TEST(ListOps, LabelsMatchIndependentEvaluation) {
    const ListOpsData d = listops_generate(small_config(17));
    int64_t checked = 0;
    std::vector<int> label_count(10);
    for (const ListOpsSet* s : {&d.train, &d.val, &d.test})
        for (int64_t i = 0; i < s->size(); ++i) {
            const auto ex = s->example(i);
            ASSERT_EQ(eval_recursive(ex), s->labels[size_t(i)]) << listops_to_string(ex) << " (seed 17)";
            ASSERT_EQ(listops_evaluate(ex), s->labels[size_t(i)]);
            ++label_count[size_t(s->labels[size_t(i)])];
            ++checked;
        }
    EXPECT_EQ(checked, 500);
    for (int c = 0; c < 10; ++c) EXPECT_GT(label_count[size_t(c)], 0) << "class " << c << " never produced";
}

TEST(ListOps, HandWrittenExpressions) {
    // [MAX 2 [MIN 4 7 ] 0 ] = 4;  [MED 3 8 1 6 ] = int(4.5) = 4;  [SM 9 9 5 ] = 3
    const std::vector<uint8_t> a = {12, 3, 11, 5, 8, 15, 1, 15};
    EXPECT_EQ(listops_evaluate(a), 4);
    EXPECT_EQ(listops_to_string(a), "[MAX 2 [MIN 4 7 ] 0 ]");
    EXPECT_EQ(listops_evaluate(std::vector<uint8_t>{13, 4, 9, 2, 7, 15}), 4);
    EXPECT_EQ(listops_evaluate(std::vector<uint8_t>{14, 10, 10, 6, 15}), 3);
    EXPECT_EQ(listops_evaluate(std::vector<uint8_t>{8}), 7);
    expect_error([] { listops_evaluate(std::vector<uint8_t>{12, 3, 4}); }, {"incomplete"});
    expect_error([] { listops_evaluate(std::vector<uint8_t>{3, 4}); }, {"after the end"});
    expect_error([] { listops_evaluate(std::vector<uint8_t>{15}); }, {"without an operator"});
    expect_error([] { listops_evaluate(std::vector<uint8_t>{12, 0, 15}); }, {"not a ListOps token"});
}

TEST(ListOps, LengthsWithinBoundsAndNoDuplicates) {
    const ListOpsConfig c = small_config(3);
    const ListOpsData d = listops_generate(c);
    EXPECT_EQ(d.train.size(), 400);
    EXPECT_EQ(d.val.size(), 50);
    EXPECT_EQ(d.test.size(), 50);
    std::set<std::vector<uint8_t>> all;
    int max_args_seen = 0;
    for (const ListOpsSet* s : {&d.train, &d.val, &d.test})
        for (int64_t i = 0; i < s->size(); ++i) {
            const auto ex = s->example(i);
            EXPECT_GT(int64_t(ex.size()), c.min_length);
            EXPECT_LT(int64_t(ex.size()), c.max_length);
            EXPECT_TRUE(all.insert({ex.begin(), ex.end()}).second) << "duplicate " << listops_to_string(ex);
            // Arity of the root operator: count its direct children.
            int depth = 0, children = 0;
            for (size_t k = 1; k + 1 < ex.size(); ++k) {
                if (depth == 0) ++children;
                if (ex[k] >= 11 && ex[k] <= 14) ++depth;
                if (ex[k] == 15) --depth;
            }
            max_args_seen = std::max(max_args_seen, children);
        }
    EXPECT_EQ(max_args_seen, 10) << "max_args is inclusive (Python's random.randint)";
}

TEST(ListOps, DeterministicPerSeed) {
    const ListOpsData a = listops_generate(small_config(5)), b = listops_generate(small_config(5));
    EXPECT_EQ(a.train.tokens, b.train.tokens);
    EXPECT_EQ(a.test.labels, b.test.labels);
    const ListOpsData c = listops_generate(small_config(6));
    EXPECT_NE(a.train.tokens, c.train.tokens);
}

TEST(ListOps, FillBatchPads) {
    const ListOpsData d = listops_generate(small_config(8));
    EXPECT_EQ(d.pad_length, 120);
    const int64_t idx[2] = {3, 0};
    std::vector<int64_t> ids(2 * 120, -1), labels(2);
    d.train.fill_batch(idx, 2, d.pad_length, ids.data(), labels.data());
    const auto ex = d.train.example(3);
    for (int64_t t = 0; t < 120; ++t) EXPECT_EQ(ids[t], t < int64_t(ex.size()) ? int64_t(ex[t]) : int64_t(kListOpsPad));
    EXPECT_EQ(labels[0], d.train.labels[3]);
    EXPECT_EQ(labels[1], d.train.labels[0]);
    expect_error([&] { d.train.fill_batch(idx, 1, 10, ids.data(), labels.data()); }, {"pad_length"});
}

TEST(ListOps, PaperWindowGeneratesQuickly) {
    // LRA's window (500 < length < 2000) at a small count: all within bounds.
    ListOpsConfig c{.num_train = 30, .num_val = 5, .num_test = 5, .seed = 1};
    const ListOpsData d = listops_generate(c);
    EXPECT_EQ(d.pad_length, 2000);
    for (int64_t i = 0; i < d.train.size(); ++i) {
        const auto ex = d.train.example(i);
        EXPECT_GT(ex.size(), 500u);
        EXPECT_LT(ex.size(), 2000u);
        EXPECT_EQ(listops_evaluate(ex), d.train.labels[size_t(i)]);
    }
}

TEST(ListOps, ImpossibleConfigsAreErrorsNotHangs) {
    ListOpsConfig c = small_config(1);
    c.max_depth = 2;
    c.max_args = 3;
    c.min_length = 50;  // depth 2 with 3 args reaches at most 1 + 2 + 3·1 … far below 50
    c.max_length = 100;
    expect_error([&] { listops_generate(c); }, {"distinct examples", "widen"});
    c = small_config(1);
    c.max_args = 1;
    expect_error([&] { listops_generate(c); }, {"max_args"});
    c = small_config(1);
    c.min_length = 100;
    c.max_length = 100;
    expect_error([&] { listops_generate(c); }, {"min_length"});
    c = small_config(1);
    c.pad_length = 50;
    expect_error([&] { listops_generate(c); }, {"pad_length"});
}
