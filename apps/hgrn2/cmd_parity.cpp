// cmd_parity.cpp — `hgrn2 parity --model DIR --batch FILE [--grads FILE] [--save FILE]`: runs a Hugging Face
// model folder on a batch's input_ids and prints, for logits, loss and every gradient, the max-abs error over
// the max-abs reference value; exits 1 when any line is above its tolerance. The check a user runs after
// converting or exporting a checkpoint.
#include <fmt/core.h>

#include "commands.h"
#include "model/parity.h"

namespace hgrn::app {
namespace {

struct ParityArgs {
    std::string model, batch, grads, save, dtype = "f32";
    ParityOptions opt;
};

int run_parity_cmd(const ParityArgs& a) {
    Pretrained pm = load_pretrained(a.model, dtype_from_name(a.dtype));
    ParityOptions opt = a.opt;
    opt.save = a.save;
    const auto lines = run_parity(pm, a.batch, a.grads, opt);
    fmt::print("{:<52} {:>12} {:>12} {:>10}\n", "tensor", "rel err", "max |ref|", "tolerance");
    bool ok = true;
    for (const ParityLine& l : lines) {
        fmt::print("{:<52} {:>12.3e} {:>12.4g} {:>10.1e}  {}\n", l.name, l.rel_err, l.max_abs_ref, l.tolerance,
                   l.ok() ? "ok" : "ABOVE TOLERANCE");
        ok &= l.ok();
    }
    if (lines.empty()) fmt::print("nothing to compare: the batch file has no logits or loss and no --grads was given\n");
    if (!a.save.empty()) fmt::print("wrote our logits, loss and gradients to {}\n", a.save);
    fmt::print("parity {}\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace

void add_parity(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("parity", "Compare a model folder with reference logits, loss and gradients");
    auto a = std::make_shared<ParityArgs>();
    sub->add_option("--model", a->model, "Hugging Face folder (config.json + model.safetensors)")->required();
    sub->add_option("--batch", a->batch, "safetensors with input_ids [B,T] int64 and reference logits / loss")->required();
    sub->add_option("--grads", a->grads, "safetensors with the reference gradient of every parameter");
    sub->add_option("--save", a->save, "write our logits, loss and gradients here (safetensors)");
    sub->add_option("--dtype", a->dtype, "compute dtype: f32 or f64")->capture_default_str();
    sub->add_option("--tol-logits", a->opt.tol_logits, "tolerance for logits and loss")->capture_default_str();
    sub->add_option("--tol-grads", a->opt.tol_grads, "tolerance for gradients")->capture_default_str();
    reg.emplace_back(sub, [a] { return run_parity_cmd(*a); });
}

}  // namespace hgrn::app
