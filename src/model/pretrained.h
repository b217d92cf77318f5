// pretrained.h — language models from and to Hugging Face folders in fla's format (config.json +
// model.safetensors, or a sharded index). The model's parameter names are fla's, so a folder maps
// one-to-one; tied embeddings are stored once (as Hugging Face does).
#pragma once

#include <filesystem>
#include <memory>

#include "model/config.h"
#include "model/lm.h"

namespace hgrn {

// The math-relevant sizes of a config (errors for configs the model can't honour come from config.h).
LmDims lm_dims_from_config(const ModelConfig& cfg);

struct Pretrained {
    ModelConfig config;
    std::unique_ptr<LanguageModel> model;
    CheckpointReport report;
};

// Reads config.json and the weights of `dir` into a model of `dtype` (f32 or f64 on the CPU).
Pretrained load_pretrained(const std::filesystem::path& dir, DType dtype = DType::f32);

// Writes config.json and model.safetensors (fp32) atomically into dir (created if needed).
void save_pretrained_model(const std::filesystem::path& dir, const ModelConfig& cfg, const LanguageModel& m);

// A store's tensors under their names (a tied lm_head is not in the store), e.g. for saving.
NamedTensors named_parameters(const ParamStore& store);

}  // namespace hgrn
