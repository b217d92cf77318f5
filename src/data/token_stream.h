// token_stream.h — language-model batches drawn from a token shard.
//
// TokenBatcher: each call fills a (B, T+1) int64 window batch; inputs are columns [0, T), targets [1, T+1).
//   Order::sequential — epoch style. The shard is cut into W = ⌊(n − 1) / T⌋ windows, window w covering
//     tokens [w·T, w·T + T + 1) (consecutive windows share one token, so every token but the first is a
//     target exactly once per epoch). Each epoch visits every window once, in a permutation drawn from
//     (seed, epoch) (or in file order with shuffle = false); batches run across epoch boundaries.
//   Order::random — every row starts at an offset drawn uniformly from [0, n − T − 1] by an Rng seeded from
//     (seed, step), so batch s is the same whatever happened before (resume = set_step(s)).
// Both are deterministic functions of (seed, step): no hidden state beyond the step counter.
//
// TokenEvalWindows: the evaluation pass covering the shard once. Window i has inputs tokens [i·T, i·T + L)
//   and targets [i·T + 1, i·T + L + 1), L = min(T, n − 1 − i·T); every token but the first is predicted
//   exactly once. fill() pads short windows with input 0 and target −100 (ignored by the loss).
#pragma once

#include <cstdint>
#include <vector>

#include "data/shard.h"

namespace hgrn {

class TokenBatcher {
  public:
    enum class Order { sequential, random };
    struct Options {
        int64_t batch = 1;   // B
        int64_t seq_len = 1;  // T
        Order order = Order::sequential;
        bool shuffle = true;  // sequential order only: permute the windows each epoch
        uint64_t seed = 0;
    };
    TokenBatcher(const TokenShard& shard, Options options);

    // Fills windows (B, T+1) with the batch of the current step, then advances the step.
    void next(int64_t* windows);
    // Same, split: inputs (B, T) = columns [0, T), targets (B, T) = columns [1, T+1).
    void next(int64_t* inputs, int64_t* targets);

    int64_t step() const { return step_; }
    void set_step(int64_t step);  // resume
    int64_t windows_per_epoch() const { return num_windows_; }  // sequential order
    double epoch() const;  // windows consumed / windows per epoch (sequential), tokens / n (random)

  private:
    int64_t window_start(int64_t global_index);  // sequential: start token of the global_index-th window
    const TokenShard* shard_;
    Options opt_;
    int64_t step_ = 0, num_windows_ = 0;
    int64_t perm_epoch_ = -1;
    std::vector<int64_t> perm_;
    std::vector<int64_t> scratch_;  // (B, T+1) for next(inputs, targets); allocated once
};

class TokenEvalWindows {
  public:
    TokenEvalWindows(const TokenShard& shard, int64_t seq_len);
    int64_t count() const { return count_; }  // number of windows
    int64_t length(int64_t i) const;          // L of window i (1..T)
    int64_t predicted_tokens() const { return shard_->size() - 1; }
    // Windows [first, first + B) into inputs (B, T) and targets (B, T); rows past count() are all padding.
    // Returns the number of real (non-padding) targets written.
    int64_t fill(int64_t first, int64_t batch, int64_t* inputs, int64_t* targets) const;

  private:
    const TokenShard* shard_;
    int64_t seq_len_ = 0, count_ = 0;
};

}  // namespace hgrn
