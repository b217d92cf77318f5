// embedding_test.cpp — token embedding: forward gathers rows exactly, the float64 reference backward against
// finite differences, fp32 against the reference with repeated ids, accumulation, and range errors that name
// the id, its position and the vocabulary size.
#include "ops/embedding/embedding.h"

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240505;

Buffer id_buffer(const std::vector<int64_t>& v, Shape shape) {
    Buffer b(DType::i64, shape);
    for (size_t i = 0; i < v.size(); ++i) b.ptr<int64_t>()[i] = v[i];
    return b;
}

TEST(Embedding, ForwardGathersRows) {
    for (const DType dt : {DType::f64, DType::f32}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
        Rng rng(kSeed);
        const int64_t V = 11, D = 70;
        Buffer table = randn({V, D}, rng, 1, dt), ids = id_buffer({3, 0, 10, 3, 7, 3}, {2, 3});
        Buffer y = nan_buffer(dt, {2, 3, D});
        embedding_forward(ids, table, y);
        const std::vector<double> tv = values(table), yv = values(y);
        for (int64_t n = 0; n < 6; ++n)
            for (int64_t i = 0; i < D; ++i)
                ASSERT_EQ(yv[size_t(n * D + i)], tv[size_t(ids.ptr<int64_t>()[n] * D + i)]) << "n " << n << " i " << i;
    }
}

TEST(Embedding, RefBackwardMatchesFiniteDifferences) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t V = 5, D = 3;
    Buffer table = randn({V, D}, rng), ids = id_buffer({1, 4, 1, 0, 1}, {5}), R = randn({5, D}, rng);
    Buffer y(DType::f64, {5, D}), dtable(DType::f64, {V, D});
    const auto loss = [&] {
        embedding_forward(ids, table, y);
        return dot(y, R);
    };
    embedding_backward(ids, R, dtable);
    expect_grad_matches_fd("dtable", dtable, table, loss);
    for (int64_t i = 0; i < D; ++i) EXPECT_EQ(dtable.ptr<double>()[2 * D + i], 0.0);  // id 2 unused: untouched
}

TEST(Embedding, F32MatchesReferenceAndAccumulates) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t V = 17, N = 300, D = 130;  // many repeats of each id; D not a multiple of the block
    std::vector<int64_t> idv(static_cast<size_t>(N));
    for (auto& v : idv) v = int64_t(rng.below(uint64_t(V)));
    Buffer ids = id_buffer(idv, {N}), dy = randn({N, D}, rng), dtable = randn({V, D}, rng);
    Buffer dy32 = as(dy, DType::f32), dtable32 = as(dtable, DType::f32);
    const std::vector<double> start = values(dtable);
    embedding_backward(ids, dy, dtable);
    embedding_backward(ids, dy32, dtable32);
    HGRN_EXPECT_CLOSE("dtable", dtable32.view(), dtable.view(), kTolF32);
    const std::vector<double> once = values(dtable);
    embedding_backward(ids, dy, dtable);  // a second call adds the same gradient again
    embedding_backward(ids, dy32, dtable32);
    HGRN_EXPECT_CLOSE("dtable twice (f32)", dtable32.view(), dtable.view(), kTolF32);
    std::vector<double> want(start.size());
    for (size_t i = 0; i < want.size(); ++i) want[i] = start[i] + 2 * (once[i] - start[i]);
    HGRN_EXPECT_CLOSE("dtable twice", values(dtable), want, 1e-12);
}

TEST(Embedding, OutOfRangeIdsNameIdPositionAndVocab) {
    for (const int64_t bad : {int64_t(50), int64_t(-1), int64_t(-100)}) {
        Buffer table(DType::f32, {50, 4}), y(DType::f32, {3, 4}), ids = id_buffer({1, bad, 2}, {3});
        expect_error([&] { embedding_forward(ids, table, y); },
                     {"embedding", "token id " + std::to_string(bad), "position 1", "[0, 50)"});
        expect_error([&] { embedding_backward(ids, y, table); }, {"embedding", "position 1"});
    }
}

TEST(Embedding, BadArgumentsNameTheArgument) {
    Buffer table(DType::f32, {10, 4}), y(DType::f32, {3, 4}), ids = id_buffer({1, 2, 3}, {3});
    Buffer ids32(DType::i32, {3}), y_bad(DType::f32, {2, 4}), y64(DType::f64, {3, 4}), flat(DType::f32, {40});
    expect_error([&] { embedding_forward(ids32, table, y); }, {"embedding", "ids", "i64", "i32"});
    expect_error([&] { embedding_forward(ids, table, y_bad); }, {"embedding", "y", "rows"});
    expect_error([&] { embedding_forward(ids, table, y64); }, {"embedding", "y", "f64"});
    expect_error([&] { embedding_forward(ids, flat, y); }, {"embedding", "table", "(vocab, D)"});
    expect_error([&] { embedding_forward(Tensor(), table, y); }, {"embedding", "ids", "absent"});
    expect_error([&] { embedding_backward(ids, y_bad, table); }, {"embedding", "dy"});
}

}  // namespace
