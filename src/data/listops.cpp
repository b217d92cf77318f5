// listops.cpp — the ListOps generator, its stack evaluator and batching (rules and token ids in listops.h).
#include "data/listops.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "core/check.h"
#include "core/rng.h"

namespace hgrn {

namespace {

constexpr double kValueP = 0.25;  // LRA's VALUE_P: r > 0.25 makes a leaf

int apply_op(uint8_t op, std::vector<int>& args) {
    switch (op) {
        case kListOpsMin: return *std::min_element(args.begin(), args.end());
        case kListOpsMax: return *std::max_element(args.begin(), args.end());
        case kListOpsMed: {
            std::sort(args.begin(), args.end());
            const size_t n = args.size();
            return n % 2 ? args[n / 2] : (args[n / 2 - 1] + args[n / 2]) / 2;  // int(np.median): truncation
        }
        case kListOpsSm: {
            int s = 0;
            for (int a : args) s += a;
            return s % 10;
        }
        default: HGRN_FAIL("listops: token ", int(op), " is not an operator");
    }
}

// One tree in prefix order, appended to out. Returns its value, or −1 once the sequence can no longer stay
// below max_length (the tree would be rejected anyway; stopping bounds time and memory).
class TreeGenerator {
  public:
    TreeGenerator(Rng& rng, const ListOpsConfig& c) : rng_(rng), c_(c) {}
    int generate(std::vector<uint8_t>& out) {
        out.clear();
        open_ = 0;
        return node(1, out);
    }

  private:
    int node(int depth, std::vector<uint8_t>& out) {
        const double r = depth < c_.max_depth ? rng_.uniform() : 1.0;
        if (r > kValueP) {
            const int v = int(rng_.below(10));
            out.push_back(uint8_t(kListOpsDigit0 + v));
            return v;
        }
        const int k = 2 + int(rng_.below(uint64_t(c_.max_args - 1)));  // [2, max_args], inclusive
        const size_t op_at = out.size();
        out.push_back(kListOpsPad);  // the operator, drawn after the children
        ++open_;
        std::vector<int> args;
        args.reserve(size_t(k));
        for (int i = 0; i < k; ++i) {
            if (int64_t(out.size()) + open_ >= c_.max_length) return -1;
            const int v = node(depth + 1, out);
            if (v < 0) return -1;
            args.push_back(v);
        }
        const uint8_t op = uint8_t(kListOpsMin + rng_.below(4));
        out[op_at] = op;
        out.push_back(kListOpsClose);
        --open_;
        return apply_op(op, args);
    }
    Rng& rng_;
    const ListOpsConfig& c_;
    int64_t open_ = 0;
};

void check_listops_config(const ListOpsConfig& c) {
    HGRN_CHECK(c.max_depth >= 1, "listops: max_depth must be >= 1, got ", c.max_depth);
    HGRN_CHECK(c.max_args >= 2, "listops: max_args must be >= 2, got ", c.max_args);
    HGRN_CHECK(c.min_length >= 0 && c.max_length > c.min_length + 1, "listops: need 0 <= min_length < length < ",
               "max_length for some length; got min_length ", c.min_length, ", max_length ", c.max_length);
    const int64_t pad = c.pad_length ? c.pad_length : c.max_length;
    HGRN_CHECK(pad >= c.max_length - 1, "listops: pad_length ", pad, " is shorter than the longest example (",
               c.max_length - 1, ")");
    HGRN_CHECK(c.num_train >= 0 && c.num_val >= 0 && c.num_test >= 0, "listops: example counts must be >= 0");
}

void append_example(ListOpsSet& s, std::span<const uint8_t> tokens, int label) {
    if (s.offsets.empty()) s.offsets.push_back(0);
    s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
    s.offsets.push_back(int64_t(s.tokens.size()));
    s.labels.push_back(label);
}

// Generates `want` distinct examples within the length window, in generation order.
ListOpsSet generate_distinct(const ListOpsConfig& c, int64_t want, int64_t& attempts) {
    Rng rng(c.seed);
    TreeGenerator gen(rng, c);
    const int64_t limit = c.max_attempts ? c.max_attempts : 2000 * want + 100000;
    ListOpsSet all;
    all.offsets.push_back(0);
    std::unordered_multimap<size_t, int64_t> seen;  // hash of the token string → example index
    std::vector<uint8_t> tree;
    for (attempts = 0; all.size() < want; ++attempts) {
        HGRN_CHECK(attempts < limit, "listops: only ", all.size(), " distinct examples of the ", want, " wanted after ",
                   attempts, " trees (min_length ", c.min_length, ", max_length ", c.max_length, ", max_depth ",
                   c.max_depth, ", max_args ", c.max_args, "): widen the length window or ask for fewer");
        const int value = gen.generate(tree);
        const int64_t len = int64_t(tree.size());
        if (value < 0 || len <= c.min_length || len >= c.max_length) continue;
        const std::string_view sv(reinterpret_cast<const char*>(tree.data()), tree.size());
        const size_t h = std::hash<std::string_view>{}(sv);
        bool dup = false;
        for (auto [it, end] = seen.equal_range(h); it != end && !dup; ++it) {
            const auto ex = all.example(it->second);
            dup = std::equal(ex.begin(), ex.end(), tree.begin(), tree.end());
        }
        if (dup) continue;
        seen.emplace(h, all.size());
        append_example(all, tree, value);
    }
    return all;
}

ListOpsSet slice_set(const ListOpsSet& all, int64_t begin, int64_t end) {
    ListOpsSet s;
    s.offsets.push_back(0);
    for (int64_t i = begin; i < end; ++i) append_example(s, all.example(i), all.labels[size_t(i)]);
    return s;
}

}  // namespace

std::span<const uint8_t> ListOpsSet::example(int64_t i) const {
    HGRN_CHECK(i >= 0 && i < size(), "listops: example index ", i, " out of range [0, ", size(), ")");
    return {tokens.data() + offsets[size_t(i)], size_t(offsets[size_t(i) + 1] - offsets[size_t(i)])};
}

void ListOpsSet::fill_batch(const int64_t* idx, int64_t batch, int64_t pad_length, int64_t* ids,
                            int64_t* labels_out) const {
    for (int64_t b = 0; b < batch; ++b) {
        const auto ex = example(idx[b]);
        HGRN_CHECK(int64_t(ex.size()) <= pad_length, "listops: example ", idx[b], " has ", ex.size(),
                   " tokens, more than pad_length ", pad_length);
        int64_t* row = ids + b * pad_length;
        std::fill(row, row + pad_length, int64_t(kListOpsPad));
        std::copy(ex.begin(), ex.end(), row);
        labels_out[b] = labels[size_t(idx[b])];
    }
}

ListOpsData listops_generate(const ListOpsConfig& c) {
    check_listops_config(c);
    ListOpsData d;
    d.pad_length = c.pad_length ? c.pad_length : c.max_length;
    const int64_t n = c.num_train + c.num_val + c.num_test;
    const ListOpsSet all = generate_distinct(c, n, d.attempts);
    d.train = slice_set(all, 0, c.num_train);
    d.val = slice_set(all, c.num_train, c.num_train + c.num_val);
    d.test = slice_set(all, c.num_train + c.num_val, n);
    return d;
}

int listops_evaluate(std::span<const uint8_t> tokens) {
    std::vector<std::pair<uint8_t, std::vector<int>>> stack;  // open operators with their arguments so far
    int result = -1;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const uint8_t t = tokens[i];
        HGRN_CHECK(result < 0, "listops: tokens after the end of the expression at position ", i);
        if (t >= kListOpsMin && t <= kListOpsSm) {
            stack.push_back({t, {}});
            continue;
        }
        int v;
        if (t >= kListOpsDigit0 && t < kListOpsDigit0 + 10) {
            v = t - kListOpsDigit0;
        } else {
            HGRN_CHECK(t == kListOpsClose, "listops: token ", int(t), " at position ", i, " is not a ListOps token");
            HGRN_CHECK(!stack.empty(), "listops: ']' without an operator at position ", i);
            HGRN_CHECK(!stack.back().second.empty(), "listops: operator without arguments closed at position ", i);
            v = apply_op(stack.back().first, stack.back().second);
            stack.pop_back();
        }
        if (stack.empty())
            result = v;
        else
            stack.back().second.push_back(v);
    }
    HGRN_CHECK(stack.empty() && result >= 0, "listops: incomplete expression (", stack.size(), " operators open)");
    return result;
}

std::string listops_to_string(std::span<const uint8_t> tokens) {
    static const char* const kOps[] = {"[MIN", "[MAX", "[MED", "[SM"};
    std::string s;
    for (uint8_t t : tokens) {
        if (!s.empty()) s += ' ';
        if (t >= kListOpsDigit0 && t < kListOpsDigit0 + 10)
            s += char('0' + t - kListOpsDigit0);
        else if (t >= kListOpsMin && t <= kListOpsSm)
            s += kOps[t - kListOpsMin];
        else if (t == kListOpsClose)
            s += ']';
        else
            s.append("<").append(std::to_string(int(t))).append(">");
    }
    return s;
}

}  // namespace hgrn
