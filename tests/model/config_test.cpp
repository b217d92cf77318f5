// config_test.cpp — fla config.json parsing: the three fixture configs (sizes, parameter names and shapes
// against their checkpoints, to_json giving back the same JSON), the MLP width rule and the 1.3B parameter
// count of SPEC.md §2.3/§2.7, head resolution, checkpoint loading (legacy fused MLP, tied head, missing and
// unexpected tensors), and one error per refused key, each naming the key.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "io/io_test_util.h"
#include "model/config.h"

using namespace hgrn;
using namespace hgrn::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json fixture_config(const std::string& c) { return read_json_file(fixture_dir(c) / "config.json"); }

// Parameters of `cfg` allocated as f32 buffers.
struct Params {
    std::vector<ParamSpec> specs;
    std::vector<Buffer> bufs;
    std::vector<Tensor> views;
    explicit Params(const ModelConfig& cfg) : specs(expected_parameters(cfg)) {
        for (const auto& s : specs) bufs.emplace_back(DType::f32, s.shape);
        for (const auto& b : bufs) views.push_back(b.view());
    }
};

std::string config_error(const json& j) {
    return error_of([&] { ModelConfig::from_json(j, "test_config.json"); });
}

json basic_hgrn2() {
    return json{{"model_type", "hgrn2"}, {"hidden_size", 256}, {"num_hidden_layers", 2}, {"vocab_size", 100}};
}

}  // namespace

TEST(Config, FixtureConfigsGiveTheSizes) {
    const ModelConfig b = ModelConfig::from_file(fixture_dir("hgrn2_basic") / "config.json");
    EXPECT_EQ(b.model_type, ModelType::hgrn2);
    EXPECT_EQ(b.hidden_size, 128);
    EXPECT_EQ(b.heads(), 4);
    EXPECT_EQ(b.head_f_dim(), 32);
    EXPECT_EQ(b.head_i_dim(), 32);
    EXPECT_EQ(b.forget_dim(), 128);
    EXPECT_EQ(b.mlp_dim(), 512);  // 256 * ceil(floor(128 * 4 * 2 / 3) / 256)
    EXPECT_TRUE(b.use_lower_bound);
    EXPECT_FALSE(b.tie_word_embeddings);
    EXPECT_EQ(b.norm_eps, 1e-6);
    EXPECT_EQ(b.state_bytes_per_sequence(), 2 * 4 * 32 * 32 * 4);

    const ModelConfig t = ModelConfig::from_file(fixture_dir("hgrn2_conv_tied") / "config.json");
    EXPECT_EQ(t.heads(), 2);
    EXPECT_EQ(t.head_f_dim(), 64);
    EXPECT_EQ(t.head_i_dim(), 64);
    EXPECT_EQ(t.mlp_dim(), 320);
    EXPECT_TRUE(t.use_short_conv);
    EXPECT_TRUE(t.tie_word_embeddings);
    EXPECT_EQ(t.state_bytes_per_sequence(), 3 * (2 * 64 * 64 + 4 * (128 + 128 + 128)) * 4);

    const ModelConfig h = ModelConfig::from_file(fixture_dir("hgrn1_basic") / "config.json");
    EXPECT_EQ(h.model_type, ModelType::hgrn1);
    EXPECT_EQ(h.expand_ratio, 1);
    EXPECT_EQ(h.input_dim(), 128);
    EXPECT_EQ(h.forget_dim(), 128);
    EXPECT_EQ(h.heads() * h.head_f_dim() * h.head_i_dim(), 128);
    EXPECT_EQ(h.mlp_dim(), 512);
    EXPECT_EQ(h.attn_mode, "fused_recurrent");
    EXPECT_EQ(h.state_bytes_per_sequence(), 2 * 128 * 4);
    for (const ModelConfig* c : {&b, &t, &h}) EXPECT_TRUE(c->unknown_keys().empty());
}

TEST(Config, ExpectedParametersMatchTheFixtureCheckpoints) {
    for (const char* c : {"hgrn2_basic", "hgrn2_conv_tied", "hgrn1_basic"}) {
        const ModelConfig cfg = ModelConfig::from_file(fixture_dir(c) / "config.json");
        const HfFolder f = HfFolder::open(fixture_dir(c));
        const SafetensorsFile grads = SafetensorsFile::open(fixture_dir(c) / "grads.safetensors");
        std::map<std::string, Shape> expected;
        for (const auto& p : expected_parameters(cfg)) expected[p.name] = p.shape;
        EXPECT_EQ(expected.size(), f.names().size()) << c;
        for (const auto& n : f.names()) {
            ASSERT_TRUE(expected.count(n)) << c << ": unexpected " << n;
            EXPECT_EQ(expected[n], f.info(n).shape) << c << ": " << n;
            EXPECT_EQ(expected[n], grads.info(n).shape) << c << ": " << n;
        }
        int64_t numel = 0;
        for (const auto& n : f.names()) numel += f.info(n).shape.numel();
        EXPECT_EQ(cfg.parameter_count(), numel) << c;
    }
}

TEST(Config, ToJsonGivesBackTheFixtureConfig) {
    for (const char* c : {"hgrn2_basic", "hgrn2_conv_tied", "hgrn1_basic"}) {
        const json j = fixture_config(c);
        EXPECT_EQ(ModelConfig::from_json(j).to_json(), j) << c;
    }
}

TEST(Config, MlpWidthRuleAndThe13BCount) {
    EXPECT_EQ(default_intermediate_size(128, 4), 512);
    EXPECT_EQ(default_intermediate_size(1024, 4), 2816);
    EXPECT_EQ(default_intermediate_size(2048, 4), 5632);
    EXPECT_EQ(default_intermediate_size(2560, 4), 6912);
    EXPECT_EQ(default_intermediate_size(4096, 4), 11008);

    ModelConfig c = ModelConfig::from_json({{"model_type", "hgrn2"}});  // every default: the 1.3B setup
    EXPECT_EQ(c.hidden_size, 2048);
    EXPECT_EQ(c.heads(), 16);
    EXPECT_EQ(c.mlp_dim(), 5632);
    EXPECT_EQ(expected_parameters(c).size(), 244u);
    EXPECT_EQ(c.parameter_count(), 1364396032);
    EXPECT_EQ(c.state_bytes_per_sequence(), 24 * 1024 * 1024);  // 1 MiB per layer (SPEC.md §1.8)
    c.tie_word_embeddings = true;
    EXPECT_EQ(expected_parameters(c).size(), 243u);
    EXPECT_EQ(c.parameter_count(), 1364396032 - 32000 * 2048);
}

TEST(Config, HeadResolution) {
    json j = basic_hgrn2();
    j["expand_ratio"] = nullptr;
    j["num_heads"] = 8;
    ModelConfig c = ModelConfig::from_json(j);
    EXPECT_EQ(c.expand_ratio, 32);
    EXPECT_EQ(c.heads(), 8);

    j["expand_ratio"] = 64;  // expand_ratio wins over num_heads
    c = ModelConfig::from_json(j);
    EXPECT_EQ(c.heads(), 4);
    EXPECT_EQ(c.to_json()["num_heads"], 8);  // stored as given, as fla stores it
    ASSERT_EQ(c.notes.size(), 1u);
    HGRN_EXPECT_MSG(c.notes[0], "num_heads 8 is ignored");

    j.erase("num_heads");
    EXPECT_EQ(ModelConfig::from_json(j).to_json()["num_heads"], 4);

    j["expand_ratio"] = nullptr;
    j["num_heads"] = nullptr;
    const std::string m = config_error(j);
    HGRN_EXPECT_MSG(m, "'expand_ratio'");
    HGRN_EXPECT_MSG(m, "'num_heads'");
}

TEST(Config, LegacyAndAliasKeys) {
    json j = basic_hgrn2();
    j["rms_norm_eps"] = 1e-5;
    j["hidden_act"] = "silu";
    j["hidden_ratio"] = nullptr;
    j["share_conv_kernel"] = true;
    j["transformers_version"] = "4.40.0";
    const ModelConfig c = ModelConfig::from_json(j);
    EXPECT_EQ(c.norm_eps, 1e-5);
    EXPECT_EQ(c.hidden_act, "swish");
    EXPECT_EQ(c.hidden_ratio, 4);
    EXPECT_EQ(c.unknown_keys(), std::vector<std::string>{"share_conv_kernel"});
    const json out = c.to_json();
    EXPECT_EQ(out["norm_eps"], 1e-5);
    EXPECT_EQ(out["hidden_act"], "swish");
    EXPECT_EQ(out["transformers_version"], "4.40.0");
    EXPECT_EQ(out["share_conv_kernel"], true);
    EXPECT_EQ(out["architectures"], json::array({"HGRN2ForCausalLM"}));
    j["norm_eps"] = 1e-4;  // the current key wins over the legacy one
    EXPECT_EQ(ModelConfig::from_json(j).norm_eps, 1e-4);
}

TEST(Config, ErrorsNameTheKey) {
    struct Case {
        const char* key;
        json value;
        const char* expect;
    };
    const Case cases[] = {
        {"attn", json{{"layers", {1}}, {"num_heads", 4}}, "'attn'"},
        {"attnres_block_size", 4, "'attnres_block_size'"},
        {"expand_ratio", 48, "'hidden_size' (256) must be divisible by key 'expand_ratio' (48)"},
        {"hidden_act", "gelu", "'hidden_act' is 'gelu'"},
        {"model_type", "llama", "'model_type' is 'llama'"},
        {"hidden_size", "256", "'hidden_size' must be an integer"},
        {"hidden_size", 0, "'hidden_size' must be > 0"},
        {"use_short_conv", 1, "'use_short_conv' must be true or false"},
        {"intermediate_size", -5, "'intermediate_size' must be > 0"},
        {"attn_mode", "parallel", "'attn_mode' is 'parallel'"},
        {"eos_token_id", 100, "'eos_token_id' (100) must be in [0, vocab_size = 100)"},
        {"fuse_linear_cross_entropy", true, "'fuse_linear_cross_entropy'"},
        {"norm_eps", "small", "'norm_eps' must be a number"},
    };
    for (const Case& c : cases) {
        json j = basic_hgrn2();
        j[c.key] = c.value;
        const std::string m = config_error(j);
        HGRN_EXPECT_MSG(m, "test_config.json");
        HGRN_EXPECT_MSG(m, c.expect);
    }
    json j = basic_hgrn2();
    j.erase("model_type");
    HGRN_EXPECT_MSG(config_error(j), "'model_type' is missing");
    HGRN_EXPECT_MSG(config_error(json::array()), "must be a JSON object");
    json v1 = {{"model_type", "hgrn"}, {"hidden_size", 64}, {"expand_ratio", 2}};
    const std::string m = config_error(v1);
    HGRN_EXPECT_MSG(m, "'expand_ratio' must be 1 when key 'use_lower_bound' is true");
    v1["use_lower_bound"] = false;
    const ModelConfig c = ModelConfig::from_json(v1);
    EXPECT_EQ(c.input_dim(), 128);
    EXPECT_EQ(expected_parameters(c)[1].name, "model.layers.0.attn_norm.weight");
    // a file that does not exist, or is not JSON
    HGRN_EXPECT_MSG(error_of([] { ModelConfig::from_file("/nonexistent/config.json"); }), "/nonexistent/config.json");
}

TEST(Config, LoadsTheFixtureCheckpoints) {
    for (const char* c : {"hgrn2_basic", "hgrn2_conv_tied", "hgrn1_basic"}) {
        const ModelConfig cfg = ModelConfig::from_file(fixture_dir(c) / "config.json");
        const HfFolder f = HfFolder::open(fixture_dir(c));
        Params p(cfg);
        const CheckpointReport rep = load_checkpoint(f, cfg, p.specs, p.views);
        EXPECT_FALSE(rep.legacy_fused_mlp);
        EXPECT_FALSE(rep.tied_lm_head_ignored);
        for (size_t i = 0; i < p.specs.size(); ++i) {
            const Tensor v = f.view(p.specs[i].name);
            EXPECT_EQ(0, std::memcmp(v.data(), p.views[i].data(), v.nbytes())) << p.specs[i].name;
        }
    }
}

TEST(Config, SavePretrainedRoundTripAndCheckpointErrors) {
    TempDir dir;
    const fs::path src = fixture_dir("hgrn2_conv_tied");
    const ModelConfig cfg = ModelConfig::from_file(src / "config.json");
    const HfFolder f = HfFolder::open(src);
    NamedTensors all;
    for (const auto& n : f.names()) all.push_back({n, f.view(n)});
    save_pretrained(dir / "out", cfg, all);
    EXPECT_EQ(read_json_file(dir / "out" / "config.json"), read_json_file(src / "config.json"));
    EXPECT_TRUE(read_bytes(dir / "out" / "model.safetensors") == read_bytes(src / "model.safetensors"));

    // a tied checkpoint that also stores lm_head: accepted, the head ignored
    Buffer head(DType::f32, {512, 128});
    NamedTensors with_head = all;
    with_head.push_back({"lm_head.weight", head});
    save_pretrained(dir / "head", cfg, with_head);
    Params p(cfg);
    EXPECT_TRUE(load_checkpoint(HfFolder::open(dir / "head"), cfg, p.specs, p.views).tied_lm_head_ignored);

    // an extra tensor, a missing tensor, a wrong shape
    NamedTensors extra = all;
    extra.push_back({"model.layers.0.attn.q_conv1d.bias", head});
    save_pretrained(dir / "extra", cfg, extra);
    std::string m = error_of([&] { load_checkpoint(HfFolder::open(dir / "extra"), cfg, p.specs, p.views); });
    HGRN_EXPECT_MSG(m, (dir / "extra").string());
    HGRN_EXPECT_MSG(m, "not parameters of this config: model.layers.0.attn.q_conv1d.bias");

    NamedTensors fewer(all.begin() + 1, all.end());
    save_pretrained(dir / "fewer", cfg, fewer);
    m = error_of([&] { load_checkpoint(HfFolder::open(dir / "fewer"), cfg, p.specs, p.views); });
    HGRN_EXPECT_MSG(m, "missing tensors for this config: " + all.front().first);

    ModelConfig other = cfg;
    other.intermediate_size = 384;
    Params q(other);
    m = error_of([&] { load_checkpoint(f, other, q.specs, q.views); });
    HGRN_EXPECT_MSG(m, "'model.layers.0.mlp.gate_proj.weight' has shape (320, 128)");
    HGRN_EXPECT_MSG(m, "implies (384, 128)");
}

TEST(Config, LegacyFusedMlpIsSplitOnLoad) {
    TempDir dir;
    const fs::path src = fixture_dir("hgrn1_basic");
    const ModelConfig cfg = ModelConfig::from_file(src / "config.json");
    const HfFolder f = HfFolder::open(src);
    const int64_t I = cfg.mlp_dim(), D = cfg.hidden_size;
    NamedTensors legacy;
    std::vector<Buffer> fused;
    for (const auto& n : f.names()) {
        const auto pos = n.find("mlp.gate_proj.weight");
        if (n.find("mlp.up_proj.weight") != std::string::npos) continue;
        if (pos == std::string::npos) {
            legacy.push_back({n, f.view(n)});
            continue;
        }
        const std::string up = n.substr(0, pos) + "mlp.up_proj.weight";
        fused.emplace_back(DType::f32, Shape{2 * I, D});
        std::memcpy(fused.back().view().data(), f.view(n).data(), size_t(I * D) * 4);
        std::memcpy(fused.back().ptr<float>() + I * D, f.view(up).data(), size_t(I * D) * 4);
        legacy.push_back({n, fused.back()});
    }
    save_pretrained(dir / "legacy", cfg, legacy);
    const HfFolder lf = HfFolder::open(dir / "legacy");
    EXPECT_TRUE(is_legacy_fused_gate(lf, cfg, "model.layers.1.mlp.gate_proj.weight"));
    EXPECT_FALSE(is_legacy_fused_gate(f, cfg, "model.layers.1.mlp.gate_proj.weight"));
    Params p(cfg);
    EXPECT_TRUE(load_checkpoint(lf, cfg, p.specs, p.views).legacy_fused_mlp);
    for (size_t i = 0; i < p.specs.size(); ++i) {
        const Tensor v = f.view(p.specs[i].name);
        EXPECT_EQ(0, std::memcmp(v.data(), p.views[i].data(), v.nbytes())) << p.specs[i].name;
    }
}
