// token_stream.cpp — TokenBatcher (sequential epochs or random offsets) and TokenEvalWindows; see the header.
#include "data/token_stream.h"

#include <algorithm>
#include <numeric>

#include "core/check.h"
#include "core/rng.h"

namespace hgrn {

namespace {

// Two 64-bit values into one seed (splitmix64 finaliser over a combination).
uint64_t mix_seed(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9e3779b97f4a7c15ull + (b ^ 0xd1b54a32d192ed03ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr uint64_t kRandomOrderTag = 0x52414e444f4dull;  // "RANDOM"
constexpr uint64_t kEpochTag = 0x45504f4348ull;          // "EPOCH"

}  // namespace

TokenBatcher::TokenBatcher(const TokenShard& shard, Options options) : shard_(&shard), opt_(options) {
    HGRN_CHECK(opt_.batch > 0, "TokenBatcher: batch must be > 0, got ", opt_.batch);
    HGRN_CHECK(opt_.seq_len > 0, "TokenBatcher: seq_len must be > 0, got ", opt_.seq_len);
    HGRN_CHECK(shard.size() >= opt_.seq_len + 1, shard.path(), ": shard has ", shard.size(),
               " tokens, fewer than one window of seq_len + 1 = ", opt_.seq_len + 1);
    num_windows_ = (shard.size() - 1) / opt_.seq_len;
}

void TokenBatcher::set_step(int64_t step) {
    HGRN_CHECK(step >= 0, "TokenBatcher: step must be >= 0, got ", step);
    step_ = step;
}

double TokenBatcher::epoch() const {
    const double rows = double(step_) * double(opt_.batch);
    if (opt_.order == Order::sequential) return rows / double(num_windows_);
    return rows * double(opt_.seq_len) / double(shard_->size() - 1);
}

int64_t TokenBatcher::window_start(int64_t global_index) {
    const int64_t epoch = global_index / num_windows_, pos = global_index % num_windows_;
    if (!opt_.shuffle) return pos * opt_.seq_len;
    if (epoch != perm_epoch_) {
        perm_.resize(size_t(num_windows_));
        std::iota(perm_.begin(), perm_.end(), int64_t(0));
        Rng rng(mix_seed(mix_seed(opt_.seed, kEpochTag), uint64_t(epoch)));
        for (int64_t i = num_windows_ - 1; i > 0; --i) std::swap(perm_[size_t(i)], perm_[rng.below(uint64_t(i + 1))]);
        perm_epoch_ = epoch;
    }
    return perm_[size_t(pos)] * opt_.seq_len;
}

void TokenBatcher::next(int64_t* windows) {
    const int64_t B = opt_.batch, W = opt_.seq_len + 1;
    if (opt_.order == Order::sequential) {
        for (int64_t b = 0; b < B; ++b) shard_->read(window_start(step_ * B + b), W, windows + b * W);
    } else {
        Rng rng(mix_seed(mix_seed(opt_.seed, kRandomOrderTag), uint64_t(step_)));
        const uint64_t starts = uint64_t(shard_->size() - W + 1);
        for (int64_t b = 0; b < B; ++b) shard_->read(int64_t(rng.below(starts)), W, windows + b * W);
    }
    ++step_;
}

void TokenBatcher::next(int64_t* inputs, int64_t* targets) {
    const int64_t B = opt_.batch, T = opt_.seq_len;
    if (scratch_.empty()) scratch_.resize(size_t(B * (T + 1)));
    next(scratch_.data());
    for (int64_t b = 0; b < B; ++b) {
        const int64_t* w = scratch_.data() + b * (T + 1);
        std::copy(w, w + T, inputs + b * T);
        std::copy(w + 1, w + T + 1, targets + b * T);
    }
}

// ------------------------------------------------------------------------------------------ evaluation

TokenEvalWindows::TokenEvalWindows(const TokenShard& shard, int64_t seq_len) : shard_(&shard), seq_len_(seq_len) {
    HGRN_CHECK(seq_len > 0, "TokenEvalWindows: seq_len must be > 0, got ", seq_len);
    HGRN_CHECK(shard.size() >= 2, shard.path(), ": evaluation needs at least 2 tokens, the shard has ", shard.size());
    count_ = (shard.size() - 1 + seq_len - 1) / seq_len;
}

int64_t TokenEvalWindows::length(int64_t i) const {
    HGRN_CHECK(i >= 0 && i < count_, "TokenEvalWindows: window ", i, " out of range [0, ", count_, ")");
    return std::min(seq_len_, shard_->size() - 1 - i * seq_len_);
}

int64_t TokenEvalWindows::fill(int64_t first, int64_t batch, int64_t* inputs, int64_t* targets) const {
    HGRN_CHECK(first >= 0 && batch > 0, "TokenEvalWindows: bad range first ", first, ", batch ", batch);
    const int64_t T = seq_len_;
    int64_t real = 0;
    std::vector<int64_t> row(size_t(T + 1));
    for (int64_t b = 0; b < batch; ++b) {
        int64_t* in = inputs + b * T;
        int64_t* tg = targets + b * T;
        std::fill(in, in + T, int64_t(0));
        std::fill(tg, tg + T, int64_t(-100));
        const int64_t w = first + b;
        if (w >= count_) continue;
        const int64_t L = length(w);
        shard_->read(w * T, L + 1, row.data());
        std::copy(row.begin(), row.begin() + L, in);
        std::copy(row.begin() + 1, row.begin() + L + 1, tg);
        real += L;
    }
    return real;
}

}  // namespace hgrn
