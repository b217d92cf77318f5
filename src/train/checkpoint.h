// checkpoint.h — training checkpoints: a Hugging Face folder (config.json + model.safetensors, loadable by
// `load_pretrained` and so by fla) plus the trainer state (optimizer.safetensors: AdamW's m and v;
// trainer_state.json: step, optimizer step count, the training configuration).
// Layout: <out_dir>/checkpoints/step-<8 digits>/. Written into a hidden temporary folder, every file
// fsynced, then renamed into place: a crash leaves either the old set of checkpoints or the new one. Only
// the newest `keep` checkpoints are kept.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "model/config.h"
#include "model/lm.h"
#include "train/optimizer.h"

namespace hgrn {

struct CheckpointState {
    int64_t step = 0;          // updates done
    int64_t optimizer_steps = 0;
    nlohmann::json train_config;
};

std::filesystem::path checkpoint_dir(const std::filesystem::path& out_dir, int64_t step);

void save_checkpoint(const std::filesystem::path& out_dir, const ModelConfig& model_config, const LanguageModel& m,
                     const AdamW& opt, const CheckpointState& state, int64_t keep);

// The newest complete checkpoint under out_dir, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& out_dir);

// Restores parameters, optimizer moments and step into an existing model/optimizer of the same layout.
CheckpointState load_checkpoint_into(const std::filesystem::path& dir, LanguageModel& m, AdamW& opt);

}  // namespace hgrn
