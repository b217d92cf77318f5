// trainer_test.cpp — the training loop end to end on small MQAR runs: resume continues bit for bit, a NaN
// loss stops training and leaves the last checkpoint intact, the loss falls, checkpoints are loadable HF
// folders, and configuration errors name the key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "model/pretrained.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace hgrn;
namespace fs = std::filesystem;

namespace {

fs::path temp_run(const std::string& name) {
    const fs::path p = fs::temp_directory_path() / ("hgrn2_trainer_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(p);
    return p;
}

TrainConfig small_mqar(const fs::path& out, int64_t steps) {
    return TrainConfig::from_json(
        {{"task", "mqar"}, {"out_dir", out.string()}, {"seed", 3}, {"threads", 2},
         {"model", {{"hidden_size", 32}, {"num_layers", 2}, {"expand_ratio", 16}, {"mlp", false}, {"dropout", 0.1}}},
         {"data", {{"batch_size", 8}, {"seq_len", 32}, {"vocab_size", 64}, {"num_kv_pairs", 4}, {"train_examples", 256},
                   {"test_examples", 64}}},
         {"optim", {{"lr", 3e-3}, {"warmup", 2}, {"steps", steps}, {"grad_accum", 2}}},
         {"eval", {{"every", 0}, {"batches", 2}}},
         {"checkpoint", {{"every", 3}, {"keep", 2}}},
         {"log", {{"every", 1}}}},
        {}, "test");
}

}  // namespace

TEST(Trainer, ResumeContinuesBitForBit) {
    const fs::path a = temp_run("whole"), b = temp_run("resumed");
    const TrainSummary whole = train(small_mqar(a, 10), {false, true, 0});
    ASSERT_EQ(whole.losses.size(), 10u);
    const TrainSummary first = train(small_mqar(b, 10), {false, true, 5});  // "interrupted" after step 5
    EXPECT_EQ(first.last_step, 5);
    EXPECT_TRUE(latest_checkpoint(b).has_value());
    const TrainSummary rest = train(small_mqar(b, 10), {true, true, 0});
    EXPECT_EQ(rest.first_step, 6);
    ASSERT_EQ(rest.losses.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(first.losses[i], whole.losses[i]) << "step " << i + 1;
        EXPECT_EQ(rest.losses[i], whole.losses[i + 5]) << "step " << i + 6;  // bitwise equal
    }
    // The newest checkpoints are complete Hugging Face folders; only `keep` of them are left.
    int n = 0;
    for (const auto& e : fs::directory_iterator(a / "checkpoints")) n += e.is_directory();
    EXPECT_EQ(n, 2);
    Pretrained p = load_pretrained(*latest_checkpoint(a));
    EXPECT_EQ(p.model->dims.mlp_size, 0);
    fs::remove_all(a);
    fs::remove_all(b);
}

TEST(Trainer, LossFalls) {
    const fs::path a = temp_run("falls");
    TrainConfig c = small_mqar(a, 60);
    c.j["checkpoint"]["every"] = 0;
    const TrainSummary s = train(c, {false, true, 0});
    double first = 0, last = 0;
    for (int i = 0; i < 5; ++i) first += s.losses[size_t(i)] / 5, last += s.losses[s.losses.size() - 1 - size_t(i)] / 5;
    EXPECT_LT(last, first - 0.5) << "mean loss of the first 5 steps " << first << ", of the last 5 " << last;
    fs::remove_all(a);
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastCheckpoint) {
    const fs::path a = temp_run("nan");
    TrainConfig c = small_mqar(a, 40);
    c.j["optim"]["lr"] = 1e30;  // diverges within a few steps
    c.j["optim"]["clip"] = 0.0;
    c.j["optim"]["warmup"] = 0;
    c.j["checkpoint"]["every"] = 1;
    try {
        train(c, {false, true, 0});
        FAIL() << "training with lr 1e30 did not stop";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
    const auto ck = latest_checkpoint(a);
    ASSERT_TRUE(ck.has_value()) << "no checkpoint survived";
    EXPECT_NO_THROW(load_pretrained(*ck));
    fs::remove_all(a);
}

TEST(TrainConfig, ErrorsNameTheKey) {
    auto msg = [](const nlohmann::json& j) {
        try {
            TrainConfig::from_json(j, {}, "cfg.json");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(msg({{"optim", {{"learning_rate", 1e-3}}}}).find("optim.learning_rate"), std::string::npos);
    EXPECT_NE(msg({{"model", {{"hidden_size", "big"}}}}).find("model.hidden_size"), std::string::npos);
    EXPECT_NE(msg({{"model", {{"hidden_size", 0}}}}).find("model.hidden_size"), std::string::npos);
    EXPECT_NE(msg({{"task", "translation"}}).find("task"), std::string::npos);
    EXPECT_NE(msg({{"optim", {{"schedule", "linear"}}}}).find("schedule"), std::string::npos);
    EXPECT_NE(msg({{"model", {{"hidden_size", 100}, {"expand_ratio", 32}}}}).find("expand_ratio"), std::string::npos);
    // An override reaches the same checks.
    EXPECT_THROW(TrainConfig::from_json(nlohmann::json::object(), {"optim.stepz=3"}, "cli"), Error);
    EXPECT_EQ(TrainConfig::from_json(nlohmann::json::object(), {"optim.lr=0.5"}, "cli").get<double>("optim", "lr"), 0.5);
}

// The classification tasks end to end: a few steps, and a checkpoint that evaluates to exactly the run's own
// final evaluation.
TEST(Trainer, ClassificationTasksTrainAndEvaluate) {
    for (const std::string task : {"listops", "image"}) {
        if (task == "image" && !fs::exists("/usr/share/datasets/fashion-mnist")) continue;
        const fs::path out = temp_run(task);
        const TrainConfig c = TrainConfig::from_json(
            {{"task", task}, {"out_dir", out.string()}, {"threads", 1},
             {"model", {{"hidden_size", 32}, {"expand_ratio", 16}}},
             {"data", {{"batch_size", 8}, {"train_examples", 200}, {"test_examples", 40}, {"min_length", 10},
                       {"max_length", 60}}},
             {"optim", {{"steps", 30}, {"warmup", 3}, {"lr", 3e-3}}},
             {"eval", {{"every", 30}, {"batches", 0}}},
             {"checkpoint", {{"every", 30}}}},
            {}, "test");
        const TrainSummary s = train(c, {false, true, 0});
        ASSERT_EQ(s.losses.size(), 30u) << task;
        EXPECT_TRUE(std::isfinite(s.losses.back())) << task;
        Pretrained p = load_pretrained(*latest_checkpoint(out));
        EXPECT_EQ(p.model->dims.num_labels, 10) << task;
        const EvalResult e = make_task(c)->evaluate(*p.model, 0);
        EXPECT_EQ(e.counted, 40) << task;
        // The checkpoint holds exactly the trained weights: its evaluation equals the run's own final one.
        EXPECT_EQ(e.counted, s.final_eval.counted) << task;
        EXPECT_EQ(e.accuracy, s.final_eval.accuracy) << task;
        EXPECT_EQ(e.loss, s.final_eval.loss) << task;
        fs::remove_all(out);
    }
}
