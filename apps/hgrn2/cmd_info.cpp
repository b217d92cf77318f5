// cmd_info.cpp — `hgrn2 info DIR`: what a model folder holds: type, sizes, parameters, heads, head dims, and
// the decoding state per sequence (the constant memory an HGRN model needs, whatever the length).
#include <fmt/core.h>

#include "commands.h"
#include "model/pretrained.h"

namespace hgrn::app {
namespace {

int run_info(const std::string& dir) {
    Pretrained pm = load_pretrained(dir, DType::f32);
    const ModelConfig& c = pm.config;
    const LmDims& d = pm.model->dims;
    const bool h2 = d.kind == MixerKind::hgrn2;
    fmt::print("model          {} ({})\n", dir, h2 ? "HGRN2" : "HGRN1");
    fmt::print("parameters     {} ({:.2f} M){}\n", pm.model->params.count(), pm.model->params.count() / 1e6,
               d.tied ? ", embeddings tied to the LM head" : "");
    fmt::print("layers         {}   hidden size {}   vocab {}   MLP width {}\n", d.L, d.D, d.vocab, d.mlp_size);
    if (h2) fmt::print("heads          {}   head dim K = {} (expand ratio)   V = {}\n", d.H, d.K, d.V);
    else fmt::print("recurrence     element-wise over {} channels\n", d.E);
    fmt::print("short conv     {}\n", d.conv ? fmt::format("width {}", d.conv) : std::string("none"));
    fmt::print("lower bounds   {}\n", d.lower_bounds ? "yes" : "no");
    const int64_t sb = c.state_bytes_per_sequence();
    fmt::print("state          {} bytes per sequence ({:.2f} MiB), fp32, independent of length\n", sb, sb / 1048576.0);
    for (const auto& n : c.notes) fmt::print("note           {}\n", n);
    if (pm.report.legacy_fused_mlp) fmt::print("note           legacy fused mlp.gate_proj split into gate/up on load\n");
    return 0;
}

}  // namespace

void add_info(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("info", "Describe a model folder: sizes, parameters, state bytes per sequence");
    auto dir = std::make_shared<std::string>();
    sub->add_option("dir", *dir, "Hugging Face folder (config.json + model.safetensors)")->required();
    reg.emplace_back(sub, [dir] { return run_info(*dir); });
}

}  // namespace hgrn::app
