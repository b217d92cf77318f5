// parity.h — compare our model with a reference run (fla's io.safetensors / grads.safetensors):
// logits, loss and every parameter gradient, each as max |ours − ref| / max |ref|.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "model/pretrained.h"

namespace hgrn {

struct ParityLine {
    std::string name;       // "logits", "loss", or a parameter name
    double rel_err = 0;     // max-abs error over max-abs reference value (NaN/Inf in ours → inf)
    double max_abs_ref = 0;
    double tolerance = 0;
    bool ok() const { return rel_err <= tolerance; }
};

struct ParityOptions {
    double tol_logits = 1e-4;  // logits and loss
    double tol_grads = 1e-3;   // every gradient
    std::filesystem::path save;  // when set: our logits, loss and gradients written here (safetensors)
};

// Runs the model on the batch file's input_ids (labels = next tokens), compares with the batch file's
// logits and loss when present, and with every tensor of grads_file when given (a gradient missing on
// either side is an error naming it).
std::vector<ParityLine> run_parity(Pretrained& model, const std::filesystem::path& batch_file,
                                   const std::filesystem::path& grads_file, const ParityOptions& opt);

}  // namespace hgrn
