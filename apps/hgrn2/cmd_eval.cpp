// cmd_eval.cpp — `hgrn2 eval`: held-out metrics of a trained model.
//   --run RUN_DIR                    the run's task on its held-out split, from its newest checkpoint
//                                    (perplexity for lm, accuracy for mqar / listops / image)
//   --model DIR --shards DIR [--split val|test]   perplexity and bits per byte of an LM on a token shard
#include <filesystem>
#include <fmt/core.h>

#include "commands.h"
#include "data/corpus.h"
#include "model/pretrained.h"
#include "train/checkpoint.h"
#include "train/task.h"

namespace hgrn::app {
namespace {
namespace fs = std::filesystem;

struct EvalArgs {
    std::string run, model, shards, split = "val";
    int64_t seq_len = 512, batch = 8, max_batches = 0;
};

void print_result(const EvalResult& r, bool lm) {
    fmt::print("loss        {:.4f} over {} targets\n", r.loss, r.counted);
    fmt::print("accuracy    {:.4f}\n", r.accuracy);
    if (lm) fmt::print("perplexity  {:.3f}\nbits/byte   {:.4f}\n", r.perplexity(), r.bits_per_byte);
}

int run_eval(const EvalArgs& a) {
    if (!a.run.empty()) {
        const TrainConfig cfg = TrainConfig::load((fs::path(a.run) / "train_config.json").string(), {});
        const auto ck = latest_checkpoint(a.run);
        HGRN_CHECK(ck.has_value(), "no checkpoint in ", a.run, "/checkpoints");
        Pretrained p = load_pretrained(*ck);
        auto task = make_task(cfg);
        fmt::print("run {} ({}), checkpoint {}\n", a.run, task->describe(), ck->string());
        print_result(task->evaluate(*p.model, a.max_batches), cfg.task() == "lm");
        return 0;
    }
    HGRN_CHECK(!a.model.empty() && !a.shards.empty(), "give --run RUN_DIR, or --model DIR with --shards DIR");
    HGRN_CHECK(a.split == "val" || a.split == "test" || a.split == "train", "--split must be train, val or test");
    Pretrained p = load_pretrained(a.model);
    const PrepareResult meta = read_prepare_meta(a.shards);
    const CorpusSplit s = a.split == "val" ? CorpusSplit::val : a.split == "test" ? CorpusSplit::test : CorpusSplit::train;
    const double tpb = double(meta[s].tokens) / double(std::max<int64_t>(meta[s].bytes, 1));
    fmt::print("model {} on {} ({} tokens, {} bytes)\n", a.model, (fs::path(a.shards) / meta[s].file).string(),
               meta[s].tokens, meta[s].bytes);
    print_result(evaluate_lm_shard(*p.model, (fs::path(a.shards) / meta[s].file).string(), a.seq_len, a.batch,
                                   a.max_batches, tpb),
                 true);
    return 0;
}

}  // namespace

void add_eval(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("eval", "Held-out metrics: perplexity and bits per byte, or task accuracy");
    auto a = std::make_shared<EvalArgs>();
    sub->add_option("--run", a->run, "a training run folder (its train_config.json and newest checkpoint)");
    sub->add_option("--model", a->model, "a model folder (Hugging Face layout)");
    sub->add_option("--shards", a->shards, "a folder made by `hgrn2 prepare`");
    sub->add_option("--split", a->split, "train, val or test")->capture_default_str();
    sub->add_option("--seq-len", a->seq_len, "window length for --shards")->capture_default_str();
    sub->add_option("--batch", a->batch, "windows per batch")->capture_default_str();
    sub->add_option("--max-batches", a->max_batches, "evaluate only this many batches (0 = all)")->capture_default_str();
    reg.emplace_back(sub, [a] { return run_eval(*a); });
}

}  // namespace hgrn::app
