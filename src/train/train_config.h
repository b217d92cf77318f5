// train_config.h — the configuration of a training run: a JSON file whose keys are checked against the
// defaults below (an unknown key is an error naming it), with command-line overrides "section.key=value".
//
// {
//   "task": "lm" | "mqar" | "listops" | "image",  "out_dir": "runs/x",  "seed": 1,  "threads": 0,
//   "model": {"type": "hgrn2" | "hgrn1", "hidden_size", "num_layers", "expand_ratio", "mlp", "hidden_ratio",
//             "intermediate_size", "use_short_conv", "conv_size", "use_lower_bound", "tie_word_embeddings",
//             "norm_eps", "initializer_range", "dropout"},
//   "data":  {"batch_size", "seq_len", "shards" (lm: folder with train.bin, val.bin, meta.json),
//             "vocab_size", "num_kv_pairs", "train_examples", "test_examples", "power_a" (mqar),
//             "min_length", "max_length" (listops), "image_mode": "pixels" | "patches" (image)},
//   "optim": {"lr", "min_lr", "beta1", "beta2", "eps", "weight_decay", "clip", "schedule", "warmup", "steps",
//             "grad_accum"},
//   "eval":  {"every", "batches"},  "checkpoint": {"every", "keep"},  "log": {"every"}
// }
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/config.h"
#include "train/schedule.h"

namespace hgrn {

struct TrainConfig {
    nlohmann::json j;  // the full configuration: defaults overlaid with the file and the overrides

    static nlohmann::json defaults();
    // Reads the file (may be empty: defaults only), applies overrides, validates keys, types and ranges.
    static TrainConfig load(const std::string& path, const std::vector<std::string>& overrides);
    static TrainConfig from_json(const nlohmann::json& user, const std::vector<std::string>& overrides,
                                 const std::string& source);

    std::string task() const { return j["task"]; }
    std::string out_dir() const { return j["out_dir"]; }
    template <class T>
    T get(const char* section, const char* key) const { return j.at(section).at(key).get<T>(); }

    // The model as an fla config.json (our extras: hgrn_mlp, hgrn_num_labels, hgrn_input_features).
    ModelConfig model_config(int64_t vocab_size, int64_t num_labels, int64_t input_features) const;
};

// Applies one "a.b.c=value" override to j; the value is parsed as JSON, or taken as a string if it isn't JSON.
void apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace hgrn
