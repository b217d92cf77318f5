// listops.h — ListOps (Long Range Arena's generator, EXPERIMENTS.md): nested MIN/MAX/MED/SM expressions
// over the digits 0–9, classified by their value (10 classes).
//
// generate_tree(depth, max_depth, max_args), root at depth 1: below max_depth draw r ~ U[0, 1), at max_depth
// r = 1; r > 0.25 → a digit (uniform 0–9), else an operator node with k children, k uniform in
// [2, max_args] — LRA calls Python's random.randint(2, max_args), whose upper bound is INCLUSIVE — then the
// operator uniform among MIN MAX MED SM (drawn after the children, as in LRA). Values: MIN, MAX, MED =
// int(median) (the mean of the two middle values for an even count, truncated), SM = sum mod 10.
// Length = digits + operators + closing brackets; kept when min_length < length < max_length (LRA: 500,
// 2000), deduplicated over all splits, then split in generation order into train / val / test.
//
// Tokens (vocabulary 16): 0 pad, 1–10 digits 0–9, 11 [MIN, 12 [MAX, 13 [MED, 14 [SM, 15 ']'.
// An example is the prefix-order token sequence, e.g. "[MAX 2 [MIN 4 7 ] 0 ]" → 12 3 11 5 8 15 1 15,
// padded with 0 to pad_length (default max_length) when batched.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hgrn {

enum ListOpsToken : uint8_t {
    kListOpsPad = 0,
    kListOpsDigit0 = 1,  // digit d is token 1 + d
    kListOpsMin = 11,
    kListOpsMax = 12,
    kListOpsMed = 13,
    kListOpsSm = 14,
    kListOpsClose = 15,
};
inline constexpr int64_t kListOpsVocab = 16;
inline constexpr int64_t kListOpsClasses = 10;

struct ListOpsConfig {
    int max_depth = 10;
    int max_args = 10;           // inclusive, as LRA's random.randint
    int64_t min_length = 500;    // exclusive lower bound on the token count
    int64_t max_length = 2000;   // exclusive upper bound
    int64_t pad_length = 0;      // 0: max_length
    int64_t num_train = 96000, num_val = 2000, num_test = 2000;
    uint64_t seed = 0;
    int64_t max_attempts = 0;    // 0: 2000 · (examples wanted) + 100000; an error past it, never a hang
};

struct ListOpsSet {
    std::vector<uint8_t> tokens;   // all examples back to back
    std::vector<int64_t> offsets;  // (n + 1): example i is tokens[offsets[i], offsets[i+1])
    std::vector<int32_t> labels;   // (n) in 0..9

    int64_t size() const { return int64_t(labels.size()); }
    std::span<const uint8_t> example(int64_t i) const;
    // Examples idx[0..B) as int64 ids (B, pad_length), padded with kListOpsPad, and labels (B).
    void fill_batch(const int64_t* idx, int64_t batch, int64_t pad_length, int64_t* ids, int64_t* labels_out) const;
};

struct ListOpsData {
    ListOpsSet train, val, test;
    int64_t pad_length = 0;
    int64_t attempts = 0;  // trees generated (kept or not)
};

ListOpsData listops_generate(const ListOpsConfig& config);

// Stack evaluation of one token sequence (no padding); an error on a malformed sequence.
int listops_evaluate(std::span<const uint8_t> tokens);
// "[MAX 2 [MIN 4 7 ] 0 ]", for messages and debugging.
std::string listops_to_string(std::span<const uint8_t> tokens);

}  // namespace hgrn
