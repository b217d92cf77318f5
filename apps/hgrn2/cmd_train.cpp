// cmd_train.cpp — `hgrn2 train [--config FILE] [--set section.key=value ...] [--resume]`: runs a training job
// (src/train/trainer.h) and, for language models, copies the data's tokenizer into the newest checkpoint so
// that the checkpoint folder alone is enough for `hgrn2 generate`.
#include <filesystem>
#include <fmt/core.h>

#include "commands.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace hgrn::app {
namespace {
namespace fs = std::filesystem;

struct TrainArgs {
    std::string config, out;
    std::vector<std::string> sets;
    bool resume = false;
    int64_t steps = 0, stop_after = 0;
    double time_budget = 0;
};

void copy_tokenizer(const TrainConfig& cfg, const fs::path& ckpt) {
    if (cfg.task() != "lm") return;
    const fs::path shards = cfg.get<std::string>("data", "shards");
    for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json"})
        if (fs::exists(shards / name)) fs::copy_file(shards / name, ckpt / name, fs::copy_options::overwrite_existing);
}

int run_train(const TrainArgs& a) {
    std::vector<std::string> sets = a.sets;
    if (!a.out.empty()) sets.push_back("out_dir=" + a.out);
    if (a.steps > 0) sets.push_back("optim.steps=" + std::to_string(a.steps));
    const TrainConfig cfg = TrainConfig::load(a.config, sets);
    const TrainSummary s = train(cfg, {a.resume, false, a.stop_after, a.time_budget});
    if (auto ck = latest_checkpoint(s.out_dir)) {
        copy_tokenizer(cfg, *ck);
        fmt::print(stderr, "checkpoint  {}\n", ck->string());
    }
    if (!s.losses.empty())
        fmt::print(stderr, "trained     steps {}..{}: loss {:.4f} -> {:.4f}, {:.0f} tokens/s, {:.1f} s\n", s.first_step,
                   s.last_step, s.losses.front(), s.losses.back(), s.tokens_per_second, s.seconds);
    if (s.final_eval.counted > 0)
        fmt::print(stderr, "final eval  loss {:.4f}, accuracy {:.4f}{}\n", s.final_eval.loss, s.final_eval.accuracy,
                   cfg.task() == "lm" ? fmt::format(", perplexity {:.2f}, {:.3f} bits/byte", s.final_eval.perplexity(),
                                                    s.final_eval.bits_per_byte)
                                      : std::string());
    return 0;
}

}  // namespace

void add_train(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("train", "Train a model (tasks lm, mqar, listops, image) from a JSON config");
    auto a = std::make_shared<TrainArgs>();
    sub->add_option("--config", a->config, "training configuration (JSON; see src/train/train_config.h)");
    sub->add_option("--set", a->sets, "override a key, e.g. --set optim.lr=3e-4 (repeatable)");
    sub->add_option("--out", a->out, "output folder (same as --set out_dir=...)");
    sub->add_option("--steps", a->steps, "number of updates (same as --set optim.steps=...)");
    sub->add_flag("--resume", a->resume, "continue from the newest checkpoint in the output folder");
    sub->add_option("--stop-after", a->stop_after, "stop after this step, as if interrupted (0 = run to the end)");
    sub->add_option("--time-budget", a->time_budget, "stop (with a final evaluation and checkpoint) after this many "
                    "seconds (0 = no limit)")->capture_default_str();
    reg.emplace_back(sub, [a] { return run_train(*a); });
}

}  // namespace hgrn::app
