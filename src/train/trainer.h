// trainer.h — a training run from a TrainConfig: model (fla's init), task batches, AdamW with the schedule,
// gradient accumulation and global-norm clipping, evaluation and checkpoints every N steps, resume.
// Resuming (opts.resume) continues from the newest checkpoint of out_dir exactly: batches, dropout masks
// and the learning rate are functions of the step, and the optimizer state is restored, so on the CPU the
// losses equal those of an uninterrupted run bit for bit. A NaN/Inf loss or gradient norm stops the run with
// an error before the update; the checkpoints already written stay as they were.
#pragma once

#include <string>
#include <vector>

#include "train/task.h"
#include "train/train_config.h"

namespace hgrn {

struct TrainOptions {
    bool resume = false;
    bool quiet = false;         // no progress line (tests)
    int64_t stop_after = 0;     // > 0: stop after this step (as if interrupted); for tests
    double time_budget = 0;     // > 0: stop after the step during which this many seconds have passed
};

struct TrainSummary {
    int64_t first_step = 1, last_step = 0;
    std::vector<double> losses;      // training loss of every step run here
    EvalResult final_eval;           // evaluation after the last step (when eval.batches > 0)
    double tokens_per_second = 0, seconds = 0;
    int64_t parameters = 0;
    std::string out_dir;
    bool stopped_early = false;  // by stop_after or the time budget
};

TrainSummary train(const TrainConfig& cfg, const TrainOptions& opts = {});

}  // namespace hgrn
