// parity_test.cpp — end-to-end parity with fla on the golden fixtures (../shared/fixtures/fla): logits and
// loss within 1e-4, every parameter gradient within 1e-3 (max-abs error over max-abs value), in fp32; and the
// save → load round trip of a model folder is bit-exact.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "model/parity.h"

using namespace hgrn;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) { return fs::path(HGRN_SHARED_DIR) / "fixtures" / "fla" / name; }

void check_fixture(const std::string& name, size_t expected_params) {
    const fs::path dir = fixture(name);
    if (!fs::exists(dir)) GTEST_SKIP() << "fixture folder not found: " << dir;
    Pretrained pm = load_pretrained(dir, DType::f32);
    EXPECT_EQ(pm.model->params.entries().size(), expected_params);
    const auto lines = run_parity(pm, dir / "io.safetensors", dir / "grads.safetensors", {});
    ASSERT_EQ(lines.size(), expected_params + 2) << "logits, loss and one line per gradient";
    double worst_grad = 0;
    for (const ParityLine& l : lines) {
        EXPECT_TRUE(l.ok()) << name << " " << l.name << ": rel err " << l.rel_err << " > " << l.tolerance;
        EXPECT_GT(l.max_abs_ref, 0.0) << l.name;
        if (l.name != "logits" && l.name != "loss") worst_grad = std::max(worst_grad, l.rel_err);
    }
    std::printf("[parity] %s: logits %.3g, loss %.3g, worst gradient %.3g\n", name.c_str(), lines[0].rel_err,
                lines[1].rel_err, worst_grad);
}

}  // namespace

TEST(FlaParity, Hgrn2Basic) { check_fixture("hgrn2_basic", 2 + 2 * 10 + 2); }
TEST(FlaParity, Hgrn2ConvTied) { check_fixture("hgrn2_conv_tied", 2 + 3 * 13 + 1); }
TEST(FlaParity, Hgrn1Basic) { check_fixture("hgrn1_basic", 2 + 2 * 10 + 2); }

TEST(FlaParity, SaveLoadRoundTripIsBitExact) {
    const fs::path dir = fixture("hgrn2_conv_tied");
    if (!fs::exists(dir)) GTEST_SKIP() << "fixture folder not found: " << dir;
    Pretrained a = load_pretrained(dir, DType::f32);
    const fs::path out = fs::temp_directory_path() / ("hgrn2_roundtrip_" + std::to_string(::getpid()));
    save_pretrained_model(out, a.config, *a.model);
    Pretrained b = load_pretrained(out, DType::f32);
    ASSERT_EQ(a.model->params.flat().numel(), b.model->params.flat().numel());
    EXPECT_EQ(0, std::memcmp(a.model->params.flat().data(), b.model->params.flat().data(),
                             a.model->params.flat().nbytes()));
    EXPECT_EQ(b.config.to_json(), a.config.to_json());
    fs::remove_all(out);
}
