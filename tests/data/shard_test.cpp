// shard_test.cpp — token shards: round trips (2- and 4-byte widths), every bad-file error naming the file,
// the batcher's determinism and coverage, and the evaluation windows covering a shard exactly once.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "core/check.h"
#include "core/rng.h"
#include "data/shard.h"
#include "data/temp_dir.h"
#include "data/token_stream.h"

using namespace hgrn;
using hgrn::test::expect_error;
using hgrn::test::TempDir;

namespace {

constexpr uint64_t kSeed = 1234;

std::vector<int64_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
    Rng rng(seed);
    std::vector<int64_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = int64_t(rng.below(uint64_t(vocab)));
    return t;
}

// A valid shard's bytes, then edited by the caller.
std::vector<unsigned char> shard_bytes(const TempDir& dir, const std::vector<int64_t>& tokens, int64_t vocab) {
    const std::string p = dir.file("valid.bin");
    write_token_shard(p, tokens, vocab);
    return hgrn::test::read_bytes(p);
}

}  // namespace

TEST(Shard, RoundTripBothWidths) {
    TempDir dir;
    for (int64_t vocab : {int64_t(300), int64_t(65536), int64_t(70000), int64_t(1) << 32}) {
        SCOPED_TRACE("vocab " + std::to_string(vocab) + " seed " + std::to_string(kSeed));
        auto tokens = random_tokens(10007, std::min<int64_t>(vocab, int64_t(1) << 31), kSeed);
        tokens[0] = vocab - 1;  // the largest id is legal
        const std::string p = dir.file("t.bin");
        write_token_shard(p, tokens, vocab);
        TokenShard s(p);
        EXPECT_EQ(s.size(), int64_t(tokens.size()));
        EXPECT_EQ(s.vocab_size(), vocab);
        EXPECT_EQ(s.width(), vocab <= 65536 ? 2 : 4);
        EXPECT_EQ(s.read_all(), tokens);
        EXPECT_EQ(s[5], tokens[5]);
        EXPECT_EQ(std::filesystem::file_size(p), uint64_t(kShardHeaderBytes) + tokens.size() * uint64_t(s.width()));
        EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
    }
}

TEST(Shard, StreamingWriterAcrossBufferFlushes) {
    TempDir dir;
    const auto tokens = random_tokens(1500000, 50000, kSeed);  // > 1 MiB of payload: several flushes
    const std::string p = dir.file("s.bin");
    {
        TokenShardWriter w(p, 50000);
        for (size_t i = 0; i < tokens.size(); i += 77777)
            w.append(std::span(tokens).subspan(i, std::min<size_t>(77777, tokens.size() - i)));
        w.finish();
    }
    EXPECT_EQ(TokenShard(p).read_all(), tokens);
}

TEST(Shard, UnfinishedWriterLeavesNoFileAndKeepsTheOldOne) {
    TempDir dir;
    const std::string p = dir.file("keep.bin");
    write_token_shard(p, std::vector<int64_t>{1, 2, 3}, 10);
    {
        TokenShardWriter w(p, 10);
        w.append(std::vector<int64_t>{4, 5});
    }  // destroyed without finish
    EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
    EXPECT_EQ(TokenShard(p).read_all(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Shard, WriterRejectsBadIdsAndEmptyShards) {
    TempDir dir;
    const std::string p = dir.file("w.bin");
    expect_error([&] { write_token_shard(p, std::vector<int64_t>{1, 2, 10}, 10); }, {p, "position 2", "10"});
    expect_error([&] { write_token_shard(p, std::vector<int64_t>{-1}, 10); }, {p, "-1"});
    expect_error([&] { write_token_shard(p, std::vector<int64_t>{}, 10); }, {p, "empty"});
    expect_error([&] { TokenShardWriter w(p, 70000, 2); }, {p, "width"});
    EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(Shard, BadFilesNameTheFileAndTheProblem) {
    TempDir dir;
    const std::vector<int64_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6};
    const auto good = shard_bytes(dir, tokens, 10);
    auto check = [&](const std::string& name, std::vector<unsigned char> bytes,
                     std::initializer_list<std::string> pieces) {
        const std::string p = dir.file(name);
        hgrn::test::write_bytes(p, bytes);
        std::vector<std::string> all = {p};
        all.insert(all.end(), pieces.begin(), pieces.end());
        try {
            TokenShard s(p);
            ADD_FAILURE() << name << ": opened without error";
        } catch (const Error& e) {
            for (const auto& piece : all) EXPECT_NE(std::string(e.what()).find(piece), std::string::npos) << e.what();
        }
    };
    auto b = good;
    b[0] = 'X';
    check("magic.bin", b, {"magic"});
    b = good;
    b[8] = 2;  // version 2
    check("version.bin", b, {"version 2"});
    b = good;
    b[12] = 3;  // width 3
    check("width.bin", b, {"width 3"});
    b = good;
    b.resize(b.size() - 1);
    check("truncated.bin", b, {"truncated"});
    b = good;
    b.push_back(0);
    check("long.bin", b, {"bytes"});
    check("short.bin", std::vector<unsigned char>(good.begin(), good.begin() + 10), {"truncated"});
    check("zero.bin", {}, {"truncated"});
    b = std::vector<unsigned char>(good.begin(), good.begin() + kShardHeaderBytes);
    std::memset(b.data() + 16, 0, 8);  // count 0
    check("empty.bin", b, {"empty"});
    b = good;
    b[kShardHeaderBytes + 2 * 5] = 12;  // token 5 becomes 12 >= vocab 10 (checksum still the old one)
    check("checksum.bin", b, {"checksum"});
    expect_error([&] { TokenShard s(dir.file("missing.bin")); }, {dir.file("missing.bin"), "cannot open"});
}

TEST(Shard, TokenAtLeastVocabNamesThePosition) {
    TempDir dir;
    auto b = shard_bytes(dir, {3, 1, 4, 1, 5, 9, 2, 6}, 10);
    b[kShardHeaderBytes + 2 * 5] = 12;
    const std::string p = dir.file("bad_id.bin");
    hgrn::test::write_bytes(p, b);
    // With the checksum off the id check is what fires, naming the id and its position.
    expect_error([&] { TokenShard s(p, ShardOpenOptions{.verify_checksum = false}); },
                 {p, "token id 12", "position 5", "vocab_size 10"});
}

TEST(TokenBatcher, SequentialEpochCoversEveryWindowOnce) {
    TempDir dir;
    const int64_t n = 1001, T = 10, B = 7;
    std::vector<int64_t> tokens(n);
    std::iota(tokens.begin(), tokens.end(), 0);
    write_token_shard(dir.file("c.bin"), tokens, n);
    TokenShard shard(dir.file("c.bin"));
    TokenBatcher batcher(shard, {.batch = B, .seq_len = T, .order = TokenBatcher::Order::sequential, .seed = kSeed});
    const int64_t W = batcher.windows_per_epoch();
    EXPECT_EQ(W, (n - 1) / T);
    std::vector<int64_t> win(size_t(B * (T + 1)));
    std::map<int64_t, int> starts;  // window start → times seen, over exactly one epoch's rows
    int64_t rows = 0;
    while (rows < W) {
        batcher.next(win.data());
        for (int64_t b = 0; b < B && rows < W; ++b, ++rows) {
            const int64_t* w = win.data() + b * (T + 1);
            for (int64_t t = 0; t <= T; ++t) ASSERT_EQ(w[t], w[0] + t);  // contiguous window
            EXPECT_EQ(w[0] % T, 0);
            ++starts[w[0]];
        }
    }
    EXPECT_EQ(int64_t(starts.size()), W);
    for (auto [s, c] : starts) EXPECT_EQ(c, 1) << "window at " << s;
    EXPECT_NEAR(batcher.epoch(), double(batcher.step() * B) / double(W), 1e-12);
}

TEST(TokenBatcher, DeterministicResumableAndSeedDependent) {
    TempDir dir;
    write_token_shard(dir.file("d.bin"), random_tokens(5000, 1000, kSeed), 1000);
    TokenShard shard(dir.file("d.bin"));
    for (auto order : {TokenBatcher::Order::sequential, TokenBatcher::Order::random}) {
        TokenBatcher::Options o{.batch = 4, .seq_len = 16, .order = order, .seed = 7};
        TokenBatcher a(shard, o), b(shard, o);
        std::vector<int64_t> wa(4 * 17), wb(4 * 17), w5(4 * 17);
        for (int s = 0; s < 500; ++s) {  // crosses several epochs in sequential order (312 windows)
            a.next(wa.data());
            b.next(wb.data());
            ASSERT_EQ(wa, wb) << "step " << s;
            if (s == 400) w5 = wa;
        }
        TokenBatcher resumed(shard, o);
        resumed.set_step(400);
        resumed.next(wb.data());
        EXPECT_EQ(wb, w5);
        o.seed = 8;
        TokenBatcher other(shard, o);
        other.set_step(400);
        other.next(wb.data());
        EXPECT_NE(wb, w5);
    }
}

TEST(TokenBatcher, RandomOffsetsStayInRangeAndSplitIsShifted) {
    TempDir dir;
    const int64_t n = 300, T = 32, B = 5;
    std::vector<int64_t> tokens(n);
    std::iota(tokens.begin(), tokens.end(), 0);
    write_token_shard(dir.file("r.bin"), tokens, n);
    TokenShard shard(dir.file("r.bin"));
    TokenBatcher batcher(shard, {.batch = B, .seq_len = T, .order = TokenBatcher::Order::random, .seed = kSeed});
    std::vector<int64_t> in(B * T), tg(B * T);
    std::set<int64_t> starts;
    for (int s = 0; s < 200; ++s) {
        batcher.next(in.data(), tg.data());
        for (int64_t b = 0; b < B; ++b) {
            starts.insert(in[b * T]);
            ASSERT_LE(in[b * T] + T, n - 1);
            for (int64_t t = 0; t < T; ++t) ASSERT_EQ(tg[b * T + t], in[b * T + t] + 1);
        }
    }
    EXPECT_GT(starts.size(), 200u);  // 1000 draws over 268 starts: nearly all seen
    EXPECT_TRUE(starts.count(0) || starts.count(n - T - 1));
}

TEST(TokenBatcher, ShardShorterThanAWindowIsAnError) {
    TempDir dir;
    write_token_shard(dir.file("tiny.bin"), std::vector<int64_t>{1, 2, 3}, 5);
    TokenShard shard(dir.file("tiny.bin"));
    expect_error([&] { TokenBatcher b(shard, {.batch = 1, .seq_len = 3}); }, {dir.file("tiny.bin"), "fewer"});
}

TEST(TokenEvalWindows, EveryTokenButTheFirstPredictedOnce) {
    TempDir dir;
    for (int64_t n : {2, 11, 64, 65, 1000}) {
        SCOPED_TRACE("n " + std::to_string(n));
        std::vector<int64_t> tokens(static_cast<size_t>(n));
        std::iota(tokens.begin(), tokens.end(), 0);
        write_token_shard(dir.file("e.bin"), tokens, n);
        TokenShard shard(dir.file("e.bin"));
        const int64_t T = 16, B = 3;
        TokenEvalWindows ev(shard, T);
        std::vector<int64_t> in(B * T), tg(B * T), seen;
        int64_t real = 0;
        for (int64_t w = 0; w < ev.count(); w += B) {
            real += ev.fill(w, B, in.data(), tg.data());
            for (int64_t i = 0; i < B * T; ++i)
                if (tg[i] != -100) {
                    seen.push_back(tg[i]);
                    EXPECT_EQ(tg[i], in[i] + 1);
                }
        }
        EXPECT_EQ(real, n - 1);
        EXPECT_EQ(ev.predicted_tokens(), n - 1);
        std::vector<int64_t> want(size_t(n - 1));
        std::iota(want.begin(), want.end(), 1);
        EXPECT_EQ(seen, want);
    }
}
