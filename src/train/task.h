// task.h — what the trainer trains on. A task turns a step index into a batch (a pure function of the seed
// and the index, so a resumed run sees exactly the batches it would have seen) and evaluates a model.
// Tasks: "lm" (token shards), "mqar" (associative recall), "listops" (LRA ListOps), "image" (Fashion-MNIST).
#pragma once

#include <memory>
#include <string>

#include "model/lm.h"
#include "train/train_config.h"

namespace hgrn {

// Storage of one batch; view() gives the model's LmBatch.
struct TaskBatch {
    Buffer ids, features, targets;
    LmBatch view() const { return {ids.view(), features.view(), targets.view()}; }
};

struct EvalResult {
    double loss = 0;           // mean cross-entropy over the counted targets
    int64_t counted = 0;       // targets counted (tokens for lm/mqar, examples for classification)
    double accuracy = 0;       // argmax == target over the counted targets
    double bits_per_byte = 0;  // lm only: loss · tokens / (bytes · ln 2); 0 otherwise
    double perplexity() const;
};

class TrainTask {
  public:
    virtual ~TrainTask() = default;
    virtual std::string name() const = 0;
    virtual std::string describe() const = 0;  // one line: data sizes
    virtual int64_t vocab_size() const = 0;     // 0 for continuous inputs
    virtual int64_t num_labels() const { return 0; }
    virtual int64_t input_features() const { return 0; }
    virtual int64_t tokens_per_batch() const = 0;  // for tokens/s
    // Training micro-batch number `index` (0-based over the whole run).
    virtual void train_batch(int64_t index, TaskBatch& b) = 0;
    // Evaluation on the held-out split; max_batches 0 = the whole split.
    virtual EvalResult evaluate(LanguageModel& m, int64_t max_batches) = 0;
};

std::unique_ptr<TrainTask> make_task(const TrainConfig& cfg);

// Perplexity-style evaluation of a language model on one token shard, in windows of seq_len covering it once
// (max_batches > 0: only the first batches). tokens_per_byte (0 = unknown) gives bits per byte.
EvalResult evaluate_lm_shard(LanguageModel& m, const std::string& shard_path, int64_t seq_len, int64_t batch,
                             int64_t max_batches, double tokens_per_byte);

}  // namespace hgrn
