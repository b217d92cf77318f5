// hf_folder_test.cpp — Hugging Face folders: single file, a sharded checkpoint with its index (built here from a
// fixture), the index consistency errors, missing folders and weights, and JSON file errors.
#include <gtest/gtest.h>

#include <cstring>

#include "io/hf_folder.h"
#include "io/io_test_util.h"

using namespace hgrn;
using namespace hgrn::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Splits the fixture's model.safetensors into two shards (alternating names) plus an index in `dir`.
json make_sharded(const TempDir& dir, const SafetensorsFile& src) {
    NamedTensors a, b;
    json map = json::object();
    int i = 0;
    for (const auto& n : src.names()) {
        const bool first = i++ % 2 == 0;
        (first ? a : b).push_back({n, src.view(n)});
        map[n] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    save_safetensors(dir / "model-00001-of-00002.safetensors", a, {{"format", "pt"}});
    save_safetensors(dir / "model-00002-of-00002.safetensors", b, {{"format", "pt"}});
    json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
    write_bytes(dir / "model.safetensors.index.json", index.dump(2));
    return index;
}

void write_index(const TempDir& dir, const json& index) {
    write_bytes(dir / "model.safetensors.index.json", index.dump());
}

}  // namespace

TEST(HfFolder, SingleFileFolder) {
    const fs::path d = fixture_dir("hgrn2_basic");
    const HfFolder f = HfFolder::open(d);
    const SafetensorsFile direct = SafetensorsFile::open(d / "model.safetensors");
    EXPECT_FALSE(f.sharded());
    EXPECT_EQ(f.num_files(), 1u);
    EXPECT_EQ(f.names(), direct.names());
    EXPECT_EQ(f.config_path(), d / "config.json");
    EXPECT_TRUE(f.has("model.lower_bounds"));
    EXPECT_EQ(f.info("model.lower_bounds").shape, Shape({2, 128}));
    // a .safetensors path opens the same way
    const HfFolder g = HfFolder::open(d / "model.safetensors");
    EXPECT_EQ(g.names(), direct.names());
    EXPECT_EQ(g.dir(), d);
    const std::string m = error_of([&] { f.view("model.layers.9.attn.q_proj.weight"); });
    HGRN_EXPECT_MSG(m, d.string());
    HGRN_EXPECT_MSG(m, "no tensor 'model.layers.9.attn.q_proj.weight'");
}

TEST(HfFolder, ShardedIndexGivesOneLookup) {
    TempDir dir;
    const SafetensorsFile src = SafetensorsFile::open(fixture_dir("hgrn2_conv_tied") / "model.safetensors");
    make_sharded(dir, src);
    const HfFolder f = HfFolder::open(dir.path());
    EXPECT_TRUE(f.sharded());
    EXPECT_EQ(f.num_files(), 2u);
    EXPECT_EQ(f.names(), src.names());
    for (const auto& n : src.names()) {
        const Tensor a = src.view(n), b = f.view(n);
        ASSERT_EQ(a.shape(), b.shape()) << n;
        EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.nbytes())) << n;
        Buffer c(DType::f64, a.shape());
        f.read_to(n, c);
        EXPECT_EQ(c.ptr<double>()[0], double(a.ptr<float>()[0])) << n;
    }
}

TEST(HfFolder, IndexErrorsNameTheIndexShardAndTensor) {
    TempDir dir;
    const SafetensorsFile src = SafetensorsFile::open(fixture_dir("hgrn1_basic") / "model.safetensors");
    const json good = make_sharded(dir, src);
    const std::string ix = (dir / "model.safetensors.index.json").string();

    json j = good;  // a listed tensor that its shard lacks
    j["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors";
    write_index(dir, j);
    std::string m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, ix);
    HGRN_EXPECT_MSG(m, "'model.extra.weight'");
    HGRN_EXPECT_MSG(m, "model-00001-of-00002.safetensors");

    j = good;  // a shard tensor the index does not list
    j["weight_map"].erase("model.norm.weight");
    write_index(dir, j);
    m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, "'model.norm.weight'");
    HGRN_EXPECT_MSG(m, "does not list");

    j = good;  // a missing shard file
    j["weight_map"]["model.norm.weight"] = "model-00003-of-00003.safetensors";
    write_index(dir, j);
    m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, "model-00003-of-00003.safetensors");
    HGRN_EXPECT_MSG(m, "cannot open");

    j = good;  // a shard outside the folder
    j["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
    write_index(dir, j);
    HGRN_EXPECT_MSG(error_of([&] { HfFolder::open(dir.path()); }), "relative path inside the folder");

    write_index(dir, json{{"metadata", json::object()}});
    m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, ix);
    HGRN_EXPECT_MSG(m, "'weight_map'");

    write_bytes(dir / "model.safetensors.index.json", "{\"weight_map\": {");
    m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, ix);
    HGRN_EXPECT_MSG(m, "not valid JSON");
}

TEST(HfFolder, MissingFolderOrWeights) {
    TempDir dir;
    const fs::path none = dir / "absent";
    HGRN_EXPECT_MSG(error_of([&] { HfFolder::open(none); }), none.string());
    std::string m = error_of([&] { HfFolder::open(dir.path()); });
    HGRN_EXPECT_MSG(m, dir.path().string());
    HGRN_EXPECT_MSG(m, "neither model.safetensors nor model.safetensors.index.json");
    write_bytes(dir / "pytorch_model.bin", "x");
    HGRN_EXPECT_MSG(error_of([&] { HfFolder::open(dir.path()); }), "convert them to safetensors");
}

TEST(HfFolder, ReadJsonFile) {
    TempDir dir;
    write_bytes(dir / "a.json", R"({"x": [1, 2]})");
    EXPECT_EQ(read_json_file(dir / "a.json")["x"][1], 2);
    write_bytes(dir / "b.json", R"({"x": [1, 2})");
    std::string m = error_of([&] { read_json_file(dir / "b.json"); });
    HGRN_EXPECT_MSG(m, (dir / "b.json").string());
    HGRN_EXPECT_MSG(m, "not valid JSON");
    m = error_of([&] { read_json_file(dir / "c.json"); });
    HGRN_EXPECT_MSG(m, (dir / "c.json").string());
    HGRN_EXPECT_MSG(m, "no such file");
}
