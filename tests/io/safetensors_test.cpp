// safetensors_test.cpp — the safetensors reader and writer: bit-exact round trips for every dtype, byte-for-
// byte agreement with Hugging Face's writer on the fla fixtures, dtype conversion on read, and one broken
// file per validation rule, each error checked to name the file and the tensor or the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "io/io_test_util.h"
#include "io/safetensors.h"

using namespace hgrn;
using namespace hgrn::test;
namespace fs = std::filesystem;

namespace {

void fill_random_bits(const Tensor& t, Rng& rng) {
    auto* p = static_cast<unsigned char*>(t.data());
    for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<unsigned char>(rng.next_u64() >> 56);
}

// Writes one tensor entry with `entry` as its JSON and `data` bytes of data, returns the file path.
fs::path one_entry_file(const TempDir& dir, const std::string& entry, size_t data, const std::string& file = "t.st") {
    const fs::path p = dir / file;
    write_bytes(p, safetensors_bytes("{\"w\":" + entry + "}", data));
    return p;
}

}  // namespace

TEST(Safetensors, RoundTripIsBitExactForEveryDtype) {
    TempDir dir;
    Rng rng(11);
    const DType types[] = {DType::f64, DType::f32, DType::bf16, DType::f16, DType::i64, DType::i32};
    std::vector<Buffer> bufs;
    NamedTensors named;
    for (DType t : types) {
        const std::string n = std::string(dtype_name(t));
        bufs.emplace_back(t, Shape{3, 5, 7});
        bufs.emplace_back(t, Shape{});    // a scalar
        bufs.emplace_back(t, Shape{0, 4});  // empty
        for (int k = 0; k < 3; ++k) fill_random_bits(bufs[bufs.size() - 3 + k], rng);
        named.push_back({n + ".a", bufs[bufs.size() - 3]});
        named.push_back({n + ".scalar", bufs[bufs.size() - 2]});
        named.push_back({n + ".empty", bufs[bufs.size() - 1]});
    }
    const fs::path p = dir / "all.safetensors";
    save_safetensors(p, named, {{"format", "pt"}, {"note", "a \"quoted\" value"}});
    EXPECT_FALSE(fs::exists(p.string() + ".tmp"));

    const SafetensorsFile f = SafetensorsFile::open(p);
    EXPECT_EQ(f.names().size(), named.size());
    EXPECT_EQ(f.metadata().at("note"), "a \"quoted\" value");
    for (const auto& [name, t] : named) {
        const TensorInfo& ti = f.info(name);
        EXPECT_TRUE(ti.supported);
        EXPECT_EQ(ti.dtype, t.dtype()) << name;
        EXPECT_EQ(ti.shape, t.shape()) << name;
        EXPECT_EQ(ti.st_dtype, safetensors_dtype_name(t.dtype()));
        const Tensor v = f.view(name);
        EXPECT_EQ(0, std::memcmp(v.data(), t.data(), t.nbytes())) << name;
        Buffer back(t.dtype(), t.shape());
        f.read_to(name, back);
        EXPECT_EQ(0, std::memcmp(back.view().data(), t.data(), t.nbytes())) << name;
    }
    uint64_t data_bytes = 0;
    const std::string header = safetensors_header(named, {{"format", "pt"}, {"note", "a \"quoted\" value"}}, &data_bytes);
    EXPECT_EQ(header.size() % 8, 0u);
    EXPECT_EQ(f.file_size(), 8 + header.size() + data_bytes);
}

TEST(Safetensors, WriterReproducesHuggingFaceFilesByteForByte) {
    TempDir dir;
    for (const char* c : {"hgrn2_basic", "hgrn2_conv_tied", "hgrn1_basic"})
        for (const char* file : {"model.safetensors", "io.safetensors", "grads.safetensors"}) {
            const fs::path src = fixture_dir(c) / file;
            const SafetensorsFile f = SafetensorsFile::open(src);
            NamedTensors named;
            for (const auto& n : f.names()) named.push_back({n, f.view(n)});
            const fs::path dst = dir / (std::string(c) + "_" + file);
            save_safetensors(dst, named, f.metadata());
            EXPECT_TRUE(read_bytes(src) == read_bytes(dst)) << src << " rewritten differs";
        }
}

TEST(Safetensors, ReadsTheFixtures) {
    for (const char* c : {"hgrn2_basic", "hgrn2_conv_tied", "hgrn1_basic"}) {
        const int64_t T = std::string(c) == "hgrn2_conv_tied" ? 77 : 100;
        const SafetensorsFile io = SafetensorsFile::open(fixture_dir(c) / "io.safetensors");
        EXPECT_EQ(io.info("input_ids").dtype, DType::i64);
        EXPECT_EQ(io.info("input_ids").shape, Shape({2, T}));
        EXPECT_EQ(io.info("logits").shape, Shape({2, T, 512}));
        EXPECT_EQ(io.info("loss").shape, Shape({1}));
        const Tensor ids = io.view("input_ids");
        for (int64_t i = 0; i < ids.numel(); ++i) {
            ASSERT_GE(ids.ptr<int64_t>()[i], 0);
            ASSERT_LT(ids.ptr<int64_t>()[i], 512);
        }
        const float loss = io.view("loss").ptr<float>()[0];
        EXPECT_TRUE(std::isfinite(loss) && loss > 0 && loss < 20) << loss;

        const SafetensorsFile model = SafetensorsFile::open(fixture_dir(c) / "model.safetensors");
        const SafetensorsFile grads = SafetensorsFile::open(fixture_dir(c) / "grads.safetensors");
        EXPECT_EQ(model.metadata().at("format"), "pt");
        EXPECT_EQ(model.names(), grads.names());
        for (const auto& n : model.names()) {
            EXPECT_EQ(model.info(n).dtype, DType::f32) << n;
            EXPECT_EQ(model.info(n).shape, grads.info(n).shape) << n;
        }
    }
}

TEST(Safetensors, ReadToConvertsAndChecks) {
    TempDir dir;
    Buffer a(DType::f32, {4, 3});
    Buffer ids(DType::i64, {5});
    for (int i = 0; i < 12; ++i) a.ptr<float>()[i] = 0.1f * float(i) - 0.37f;
    for (int i = 0; i < 5; ++i) ids.ptr<int64_t>()[i] = 1000 * i - 7;
    const fs::path p = dir / "c.safetensors";
    save_safetensors(p, {{"a", a}, {"ids", ids}});
    const SafetensorsFile f = SafetensorsFile::open(p);
    Buffer d(DType::f64, {4, 3}), b(DType::bf16, {4, 3}), i32(DType::i32, {5});
    f.read_to("a", d);
    f.read_to("a", b);
    f.read_to("ids", i32);
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(d.ptr<double>()[i], double(a.ptr<float>()[i]));
        EXPECT_EQ(b.ptr<bf16>()[i].bits, f32_to_bf16(a.ptr<float>()[i]));
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(i32.ptr<int32_t>()[i], 1000 * i - 7);

    Buffer wrong(DType::f32, {3, 4}), fl(DType::f32, {5});
    std::string m = error_of([&] { f.read_to("a", wrong); });
    HGRN_EXPECT_MSG(m, p.string());
    HGRN_EXPECT_MSG(m, "'a'");
    HGRN_EXPECT_MSG(m, "(4, 3)");
    m = error_of([&] { f.read_to("ids", fl); });
    HGRN_EXPECT_MSG(m, "'ids'");
    HGRN_EXPECT_MSG(m, "cannot convert");
    m = error_of([&] { f.info("missing.weight"); });
    HGRN_EXPECT_MSG(m, p.string());
    HGRN_EXPECT_MSG(m, "no tensor 'missing.weight'");
    EXPECT_FALSE(f.has("missing.weight"));
}

TEST(Safetensors, MisalignedDataIsReadButNotViewed) {
    TempDir dir;
    // one BF16 element, then an F32 at byte offset 2 of the data area (which starts 8-aligned)
    const std::string h = R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})";
    std::string pad((8 - h.size() % 8) % 8, ' ');
    std::string bytes = safetensors_bytes(h + pad, 0);
    const float vals[2] = {1.5f, -2.25f};
    bytes += std::string(2, '\0') + std::string(reinterpret_cast<const char*>(vals), 8);
    const fs::path p = dir / "m.safetensors";
    write_bytes(p, bytes);
    const SafetensorsFile f = SafetensorsFile::open(p);
    HGRN_EXPECT_MSG(error_of([&] { f.view("b"); }), "not aligned");
    Buffer out(DType::f32, {2});
    f.read_to("b", out);
    EXPECT_EQ(out.ptr<float>()[0], 1.5f);
    EXPECT_EQ(out.ptr<float>()[1], -2.25f);
}

TEST(Safetensors, UnsupportedDtypeOpensButCannotBeRead) {
    TempDir dir;
    const fs::path p = one_entry_file(dir, R"({"dtype":"U8","shape":[3],"data_offsets":[0,3]})", 3);
    const SafetensorsFile f = SafetensorsFile::open(p);
    EXPECT_FALSE(f.info("w").supported);
    EXPECT_EQ(f.info("w").st_dtype, "U8");
    const std::string m = error_of([&] { f.view("w"); });
    HGRN_EXPECT_MSG(m, "'w'");
    HGRN_EXPECT_MSG(m, "U8 is not supported");
}

TEST(Safetensors, FileLevelErrorsNameTheFile) {
    TempDir dir;
    const fs::path missing = dir / "nope.safetensors";
    std::string m = error_of([&] { SafetensorsFile::open(missing); });
    HGRN_EXPECT_MSG(m, missing.string());
    HGRN_EXPECT_MSG(m, "cannot open");

    HGRN_EXPECT_MSG(error_of([&] { SafetensorsFile::open(dir.path()); }), "directory");

    const fs::path tiny = dir / "tiny.st";
    write_bytes(tiny, "abc");
    m = error_of([&] { SafetensorsFile::open(tiny); });
    HGRN_EXPECT_MSG(m, tiny.string());
    HGRN_EXPECT_MSG(m, "truncated");

    const fs::path beyond = dir / "beyond.st";
    write_bytes(beyond, safetensors_bytes("{}", 0, 4096));
    m = error_of([&] { SafetensorsFile::open(beyond); });
    HGRN_EXPECT_MSG(m, beyond.string());
    HGRN_EXPECT_MSG(m, "header length 4096 reaches past the end");

    const fs::path huge = dir / "huge.st";
    write_bytes(huge, safetensors_bytes("{}", 0, int64_t(1) << 40));
    HGRN_EXPECT_MSG(error_of([&] { SafetensorsFile::open(huge); }), "not plausible");

    const fs::path bad = dir / "bad.st";
    write_bytes(bad, safetensors_bytes(R"({"w": {"dtype": "F32", )", 0));
    m = error_of([&] { SafetensorsFile::open(bad); });
    HGRN_EXPECT_MSG(m, bad.string());
    HGRN_EXPECT_MSG(m, "not valid JSON");

    const fs::path arr = dir / "arr.st";
    write_bytes(arr, safetensors_bytes("[1, 2]  ", 0));
    HGRN_EXPECT_MSG(error_of([&] { SafetensorsFile::open(arr); }), "must be a JSON object");

    const fs::path meta = dir / "meta.st";
    write_bytes(meta, safetensors_bytes(R"({"__metadata__":{"format":3}})", 0));
    m = error_of([&] { SafetensorsFile::open(meta); });
    HGRN_EXPECT_MSG(m, "'__metadata__' entry 'format'");
}

TEST(Safetensors, TensorEntryErrorsNameTheFileAndTheTensor) {
    TempDir dir;
    struct Case {
        std::string entry;
        size_t data;
        std::string expect;
    };
    const Case cases[] = {
        {R"({"dtype":"F33","shape":[2],"data_offsets":[0,8]})", 8, "unknown dtype 'F33'"},
        {R"({"shape":[2],"data_offsets":[0,8]})", 8, "'dtype' is missing"},
        {R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,8]})", 8, "non-negative integers"},
        {R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})", 8, "non-negative integers"},
        {R"({"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]})", 4, "7 dims"},
        {R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})", 24, "needs 24"},
        {R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})", 8, "end before they begin"},
        {R"({"dtype":"F32","shape":[2],"data_offsets":[0]})", 8, "'data_offsets' must be [begin, end]"},
        {R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})", 12, "reach past the end of the data"},
        {R"({"dtype":"F32","shape":[4],"data_offsets":[8,24]})", 16, "reach past the end of the data"},
        {R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})", 8, "too many elements"},
        {R"("F32")", 0, "must be a JSON object"},
    };
    for (const Case& c : cases) {
        const fs::path p = one_entry_file(dir, c.entry, c.data);
        const std::string m = error_of([&] { SafetensorsFile::open(p); });
        HGRN_EXPECT_MSG(m, p.string());
        HGRN_EXPECT_MSG(m, "tensor 'w'");
        HGRN_EXPECT_MSG(m, c.expect);
    }
}

TEST(Safetensors, OverlapsDuplicatesAndTruncationAreRefused) {
    TempDir dir;
    const fs::path over = dir / "over.st";
    write_bytes(over, safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                        R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                                        24));
    std::string m = error_of([&] { SafetensorsFile::open(over); });
    HGRN_EXPECT_MSG(m, over.string());
    HGRN_EXPECT_MSG(m, "tensor 'b'");
    HGRN_EXPECT_MSG(m, "overlap those of tensor 'a'");

    const fs::path dup = dir / "dup.st";
    write_bytes(dup, safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                       R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                       8));
    HGRN_EXPECT_MSG(error_of([&] { SafetensorsFile::open(dup); }), "tensor 'a' appears twice");

    // a valid file cut short: its last tensor now reaches past the end
    Buffer x(DType::f32, {64}), y(DType::f32, {64});
    const fs::path good = dir / "good.safetensors";
    save_safetensors(good, {{"x", x}, {"y", y}});
    std::string bytes = read_bytes(good);
    const fs::path cut = dir / "cut.safetensors";
    write_bytes(cut, bytes.substr(0, bytes.size() - 5));
    m = error_of([&] { SafetensorsFile::open(cut); });
    HGRN_EXPECT_MSG(m, cut.string());
    HGRN_EXPECT_MSG(m, "tensor 'y'");
    HGRN_EXPECT_MSG(m, "truncated");
    // cut inside the header
    write_bytes(cut, bytes.substr(0, 20));
    HGRN_EXPECT_MSG(error_of([&] { SafetensorsFile::open(cut); }), "reaches past the end of the file");
}

TEST(Safetensors, WriterRefusesBadInputAndLeavesNoPartialFile) {
    TempDir dir;
    Buffer a(DType::f32, {2});
    const fs::path p = dir / "w.safetensors";
    HGRN_EXPECT_MSG(error_of([&] { save_safetensors(p, {{"a", a}, {"a", a}}); }), "'a' given twice");
    HGRN_EXPECT_MSG(error_of([&] { save_safetensors(p, {{"__metadata__", a}}); }), "invalid tensor name");
    HGRN_EXPECT_MSG(error_of([&] { save_safetensors(p, {{"e", Tensor()}}); }), "'e' is absent");
    EXPECT_FALSE(fs::exists(p));
    const fs::path nowhere = dir / "no_such_dir" / "w.safetensors";
    HGRN_EXPECT_MSG(error_of([&] { save_safetensors(nowhere, {{"a", a}}); }), nowhere.string());

    // overwriting replaces the old file atomically and leaves no .tmp behind
    a.ptr<float>()[0] = 1;
    save_safetensors(p, {{"a", a}});
    a.ptr<float>()[0] = 2;
    save_safetensors(p, {{"a", a}});
    EXPECT_EQ(SafetensorsFile::open(p).view("a").ptr<float>()[0], 2.0f);
    EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
}
