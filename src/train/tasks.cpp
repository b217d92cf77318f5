// tasks.cpp — the four training tasks (task.h): lm over token shards, mqar, listops, image (Fashion-MNIST).
// Batches are pure functions of (seed, index): epoch permutations are drawn from Rng(seed, epoch).
#include <cmath>
#include <filesystem>
#include <fmt/core.h>

#include "core/rng.h"
#include "data/fashion_mnist.h"
#include "data/listops.h"
#include "data/mqar.h"
#include "data/shard.h"
#include "data/token_stream.h"
#include "io/hf_folder.h"
#include "model/workspace.h"
#include "ops/cross_entropy/cross_entropy.h"
#include "train/task.h"

namespace hgrn {

double EvalResult::perplexity() const { return std::exp(loss); }

namespace {

// Running sums for an evaluation: Σ loss·count, count, correct.
struct EvalSums {
    double loss_sum = 0;
    int64_t counted = 0, correct = 0;
    void add(const Tensor& logits, const Tensor& targets) {  // logits (N, C) any float, targets (N) i64
        const int64_t C = logits.size(-1), N = logits.numel() / C;
        const CrossEntropyResult r = cross_entropy_forward(logits.reshape({N, C}), targets.reshape({N}));
        loss_sum += r.loss * double(r.counted);
        counted += r.counted;
        Buffer l(DType::f32, {N, C});
        copy(logits.reshape({N, C}), l);
        const float* p = l.ptr<float>();
        const int64_t* t = targets.ptr<int64_t>();
        for (int64_t i = 0; i < N; ++i) {
            if (t[i] < 0) continue;
            int64_t best = 0;
            for (int64_t c = 1; c < C; ++c)
                if (p[i * C + c] > p[i * C + best]) best = c;
            correct += best == t[i];
        }
    }
    EvalResult result() const {
        EvalResult r;
        r.counted = counted;
        r.loss = counted ? loss_sum / double(counted) : 0;
        r.accuracy = counted ? double(correct) / double(counted) : 0;
        return r;
    }
};

// Example order of an epoch: a permutation of [0, n) from Rng(seed, epoch). Cached for the current epoch.
struct EpochOrder {
    EpochOrder() = default;
    EpochOrder(int64_t n_, uint64_t seed_) : n(n_), seed(seed_) {}
    int64_t n = 0;
    uint64_t seed = 0;
    int64_t epoch = -1;
    std::vector<int64_t> perm;
    int64_t at(int64_t position) {  // position over the whole run
        const int64_t e = position / n;
        if (e != epoch) {
            epoch = e;
            perm.resize(size_t(n));
            for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = i;
            Rng rng(seed * 1000003ull + uint64_t(e));
            for (int64_t i = n - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(rng.below(uint64_t(i + 1)))]);
        }
        return perm[size_t(position % n)];
    }
};

// ---------------------------------------------------------------------------------------------- lm

class LmTask final : public TrainTask {
  public:
    explicit LmTask(const TrainConfig& c)
        : dir_(c.get<std::string>("data", "shards")), B_(c.get<int64_t>("data", "batch_size")),
          T_(c.get<int64_t>("data", "seq_len")) {
        const std::filesystem::path d(dir_);
        HGRN_CHECK(std::filesystem::exists(d / "train.bin"), "lm task: no train.bin in '", dir_,
                   "' (run `hgrn2 prepare` first)");
        train_ = TokenShard((d / "train.bin").string());
        val_ = TokenShard((d / "val.bin").string());
        const auto meta = read_json_file(d / "meta.json");
        const auto& v = meta.at("splits").at("val");
        val_tokens_per_byte_ = double(v.at("tokens").get<int64_t>()) / double(std::max<int64_t>(v.at("bytes").get<int64_t>(), 1));
        batcher_ = std::make_unique<TokenBatcher>(
            train_, TokenBatcher::Options{B_, T_, TokenBatcher::Order::random, false, c.j["seed"].get<uint64_t>()});
    }
    std::string name() const override { return "lm"; }
    std::string describe() const override {
        return fmt::format("token shards {}: train {} tokens, val {} tokens, vocab {}", dir_, train_.size(),
                           val_.size(), train_.vocab_size());
    }
    int64_t vocab_size() const override { return train_.vocab_size(); }
    int64_t tokens_per_batch() const override { return B_ * T_; }
    void train_batch(int64_t index, TaskBatch& b) override {
        ensure(b.ids, DType::i64, {B_, T_});
        ensure(b.targets, DType::i64, {B_, T_});
        batcher_->set_step(index);
        batcher_->next(b.ids.ptr<int64_t>(), b.targets.ptr<int64_t>());
    }
    EvalResult evaluate(LanguageModel& m, int64_t max_batches) override {
        return evaluate_lm_shard(m, val_.path(), T_, B_, max_batches, val_tokens_per_byte_);
    }

  private:
    std::string dir_;
    int64_t B_, T_;
    TokenShard train_, val_;
    double val_tokens_per_byte_ = 0;
    std::unique_ptr<TokenBatcher> batcher_;
};

// ---------------------------------------------------------------------------------------------- mqar

class MqarTask final : public TrainTask {
  public:
    explicit MqarTask(const TrainConfig& c) : B_(c.get<int64_t>("data", "batch_size")) {
        MqarConfig mc;
        mc.vocab_size = c.get<int64_t>("data", "vocab_size");
        mc.seq_len = c.get<int64_t>("data", "seq_len");
        mc.num_kv_pairs = c.get<int64_t>("data", "num_kv_pairs");
        mc.power_a = c.get<double>("data", "power_a");
        mc.seed = c.j["seed"].get<uint64_t>();
        data_ = mqar_generate_splits(mc, c.get<int64_t>("data", "train_examples"), c.get<int64_t>("data", "test_examples"));
        order_ = {data_.train.num_examples, mc.seed};
    }
    std::string name() const override { return "mqar"; }
    std::string describe() const override {
        return fmt::format("MQAR: seq {} with {} kv pairs, vocab {}, {} train / {} test examples", data_.train.seq_len,
                           data_.train.num_kv_pairs, data_.train.vocab_size, data_.train.num_examples,
                           data_.test.num_examples);
    }
    int64_t vocab_size() const override { return data_.train.vocab_size; }
    int64_t tokens_per_batch() const override { return B_ * data_.train.seq_len; }
    void train_batch(int64_t index, TaskBatch& b) override {
        const int64_t S = data_.train.seq_len;
        std::vector<int64_t> idx(static_cast<size_t>(B_));
        for (int64_t r = 0; r < B_; ++r) idx[size_t(r)] = order_.at(index * B_ + r);
        data_.train.fill_batch(idx.data(), B_, ensure(b.ids, DType::i64, {B_, S}).ptr<int64_t>(),
                               ensure(b.targets, DType::i64, {B_, S}).ptr<int64_t>());
    }
    EvalResult evaluate(LanguageModel& m, int64_t max_batches) override {
        const int64_t S = data_.test.seq_len, N = data_.test.num_examples;
        EvalSums sums;
        LmActs acts;
        for (int64_t first = 0, n = 0; first < N && (max_batches == 0 || n < max_batches); first += B_, ++n) {
            const int64_t bs = std::min(B_, N - first);
            std::vector<int64_t> idx(static_cast<size_t>(bs));
            for (int64_t r = 0; r < bs; ++r) idx[size_t(r)] = first + r;
            Buffer ids(DType::i64, {bs, S}), tg(DType::i64, {bs, S});
            data_.test.fill_batch(idx.data(), bs, ids.ptr<int64_t>(), tg.ptr<int64_t>());
            lm_forward(m, ids, Tensor(), acts);
            sums.add(acts.logits, tg);
        }
        return sums.result();
    }

  private:
    int64_t B_;
    MqarSplits data_;
    EpochOrder order_;
};

// ------------------------------------------------------------------------------ classification tasks

// ListOps and Fashion-MNIST share the evaluation: classifier logits (B, C) against labels (B).
class ClassifyTask : public TrainTask {
  public:
    explicit ClassifyTask(int64_t B) : B_(B) {}
    int64_t num_labels() const override { return 10; }
    EvalResult evaluate(LanguageModel& m, int64_t max_batches) override {
        EvalSums sums;
        LmActs acts;
        TaskBatch b;
        const int64_t N = eval_size();
        for (int64_t first = 0, n = 0; first < N && (max_batches == 0 || n < max_batches); first += B_, ++n) {
            const int64_t bs = std::min(B_, N - first);
            std::vector<int64_t> idx(static_cast<size_t>(bs));
            for (int64_t r = 0; r < bs; ++r) idx[size_t(r)] = first + r;
            fill(/*train=*/false, idx, b);
            lm_forward(m, LmBatch{b.ids.view(), b.features.view(), Tensor()}, acts);
            sums.add(acts.logits, b.targets);
        }
        return sums.result();
    }
    void train_batch(int64_t index, TaskBatch& b) override {
        std::vector<int64_t> idx(static_cast<size_t>(B_));
        for (int64_t r = 0; r < B_; ++r) idx[size_t(r)] = order_.at(index * B_ + r);
        fill(/*train=*/true, idx, b);
    }

  protected:
    virtual int64_t eval_size() const = 0;
    virtual void fill(bool train, const std::vector<int64_t>& idx, TaskBatch& b) = 0;
    int64_t B_;
    EpochOrder order_;
};

class ListOpsTask final : public ClassifyTask {
  public:
    explicit ListOpsTask(const TrainConfig& c) : ClassifyTask(c.get<int64_t>("data", "batch_size")) {
        ListOpsConfig lc;
        lc.min_length = c.get<int64_t>("data", "min_length");
        lc.max_length = c.get<int64_t>("data", "max_length");
        lc.num_train = c.get<int64_t>("data", "train_examples");
        lc.num_val = lc.num_test = c.get<int64_t>("data", "test_examples");
        lc.seed = c.j["seed"].get<uint64_t>();
        data_ = listops_generate(lc);
        order_ = {data_.train.size(), lc.seed};
        min_len_ = lc.min_length, max_len_ = lc.max_length;
    }
    std::string name() const override { return "listops"; }
    std::string describe() const override {
        return fmt::format("ListOps: lengths in ({}, {}), padded to {}; {} train / {} val examples", min_len_,
                           max_len_, data_.pad_length, data_.train.size(), data_.val.size());
    }
    int64_t vocab_size() const override { return kListOpsVocab; }
    int64_t tokens_per_batch() const override { return B_ * data_.pad_length; }

  private:
    int64_t eval_size() const override { return data_.val.size(); }
    void fill(bool train, const std::vector<int64_t>& idx, TaskBatch& b) override {
        const int64_t bs = int64_t(idx.size());
        (train ? data_.train : data_.val)
            .fill_batch(idx.data(), bs, data_.pad_length, ensure(b.ids, DType::i64, {bs, data_.pad_length}).ptr<int64_t>(),
                        ensure(b.targets, DType::i64, {bs}).ptr<int64_t>());
    }
    ListOpsData data_;
    int64_t min_len_ = 0, max_len_ = 0;
};

class ImageTask final : public ClassifyTask {
  public:
    explicit ImageTask(const TrainConfig& c)
        : ClassifyTask(c.get<int64_t>("data", "batch_size")), patches_(c.get<std::string>("data", "image_mode") == "patches") {
        train_ = fashion_mnist_load_split("train");
        test_ = fashion_mnist_load_split("test");
        const int64_t nt = std::min(train_.num_examples, c.get<int64_t>("data", "train_examples"));
        const int64_t ne = std::min(test_.num_examples, c.get<int64_t>("data", "test_examples"));
        train_ = train_.slice(0, nt);
        test_ = test_.slice(0, ne);
        order_ = {nt, c.j["seed"].get<uint64_t>()};
    }
    std::string name() const override { return "image"; }
    std::string describe() const override {
        return fmt::format("Fashion-MNIST ({}): {} train / {} test images", patches_ ? "4x4 patches, 49 steps" : "pixels, 784 steps",
                           train_.num_examples, test_.num_examples);
    }
    int64_t vocab_size() const override { return patches_ ? 0 : 256; }
    int64_t input_features() const override { return patches_ ? 16 : 0; }
    int64_t tokens_per_batch() const override { return B_ * (patches_ ? 49 : 784); }

  private:
    int64_t eval_size() const override { return test_.num_examples; }
    void fill(bool train, const std::vector<int64_t>& idx, TaskBatch& b) override {
        const FashionMnist& d = train ? train_ : test_;
        const int64_t bs = int64_t(idx.size());
        if (patches_)
            fashion_mnist_patches(d, idx.data(), bs, 4, PixelScale::standard,
                                  ensure(b.features, DType::f32, {bs, 49, 16}).ptr<float>());
        else
            fashion_mnist_pixel_tokens(d, idx.data(), bs, ensure(b.ids, DType::i64, {bs, 784}).ptr<int64_t>());
        fashion_mnist_labels(d, idx.data(), bs, ensure(b.targets, DType::i64, {bs}).ptr<int64_t>());
    }
    bool patches_;
    FashionMnist train_, test_;
};

}  // namespace

EvalResult evaluate_lm_shard(LanguageModel& m, const std::string& path, int64_t T, int64_t B, int64_t max_batches,
                             double tokens_per_byte) {
    const TokenShard shard(path);
    HGRN_CHECK(m.dims.num_labels == 0 && m.dims.input_features == 0, "evaluate_lm_shard needs a language model");
    HGRN_CHECK(shard.vocab_size() <= m.dims.vocab, path, ": vocabulary ", shard.vocab_size(),
               " is larger than the model's ", m.dims.vocab);
    TokenEvalWindows w(shard, T);
    Buffer ids(DType::i64, {B, T}), tg(DType::i64, {B, T});
    EvalSums sums;
    LmActs acts;
    for (int64_t first = 0, n = 0; first < w.count() && (max_batches == 0 || n < max_batches); first += B, ++n) {
        w.fill(first, B, ids.ptr<int64_t>(), tg.ptr<int64_t>());
        lm_forward(m, ids, Tensor(), acts);
        sums.add(acts.logits, tg);
    }
    EvalResult r = sums.result();
    r.bits_per_byte = r.loss * tokens_per_byte / std::log(2.0);
    return r;
}

std::unique_ptr<TrainTask> make_task(const TrainConfig& c) {
    const std::string t = c.task();
    if (t == "lm") return std::make_unique<LmTask>(c);
    if (t == "mqar") return std::make_unique<MqarTask>(c);
    if (t == "listops") return std::make_unique<ListOpsTask>(c);
    if (t == "image") return std::make_unique<ImageTask>(c);
    HGRN_FAIL("unknown task '", t, "'");
}

}  // namespace hgrn
