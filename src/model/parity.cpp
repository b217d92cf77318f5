// parity.cpp — the comparison behind `hgrn2 parity` (see parity.h).
#include "model/parity.h"

#include <cmath>

#include "io/safetensors.h"

namespace hgrn {
namespace {

ParityLine compare_to(const std::string& name, const Tensor& ours, const Tensor& ref, double tol) {
    HGRN_CHECK(ours.numel() == ref.numel(), name, ": we have ", ours.shape().str(), ", the reference has ",
               ref.shape().str());
    Buffer a(DType::f64, {ours.numel()}), b(DType::f64, {ref.numel()});
    copy(ours.reshape({ours.numel()}), a);
    copy(ref.reshape({ref.numel()}), b);
    double err = 0, mx = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = a.ptr<double>()[i], y = b.ptr<double>()[i];
        err = std::isfinite(x) ? std::max(err, std::abs(x - y)) : INFINITY;
        mx = std::max(mx, std::abs(y));
    }
    return {name, mx > 0 ? err / mx : err, mx, tol};
}

}  // namespace

std::vector<ParityLine> run_parity(Pretrained& pm, const std::filesystem::path& batch_file,
                                   const std::filesystem::path& grads_file, const ParityOptions& opt) {
    LanguageModel& m = *pm.model;
    const SafetensorsFile batch = SafetensorsFile::open(batch_file);
    HGRN_CHECK(batch.has("input_ids"), batch_file.string(), ": no tensor 'input_ids' (expected [B, T] int64)");
    const TensorInfo& ii = batch.info("input_ids");
    HGRN_CHECK(ii.shape.ndim == 2, batch_file.string(), ": input_ids must be [B, T], got ", ii.shape.str());
    Buffer ids(DType::i64, ii.shape), targets(DType::i64, ii.shape);
    batch.read_to("input_ids", ids);
    lm_next_token_targets(ids, targets);
    LmActs acts;
    const double loss = lm_forward(m, ids, targets, acts);
    std::vector<ParityLine> lines;
    Buffer loss_buf(DType::f32, {1});
    loss_buf.ptr<float>()[0] = float(loss);
    Buffer logits(DType::f32, acts.logits.shape());
    copy(acts.logits, logits);
    if (batch.has("logits")) lines.push_back(compare_to("logits", logits, batch.view("logits"), opt.tol_logits));
    if (batch.has("loss")) {
        Buffer ref(DType::f64, {1}), ours(DType::f64, {1});
        batch.read_to("loss", ref.view().reshape(batch.info("loss").shape));
        ours.ptr<double>()[0] = loss;
        lines.push_back(compare_to("loss", ours, ref, opt.tol_logits));
    }
    NamedTensors saved{{"logits", logits.view()}, {"loss", loss_buf.view()}};
    if (!grads_file.empty() || !opt.save.empty()) {
        m.grads.zero_();
        lm_backward(m, ids, targets, acts);
    }
    if (!grads_file.empty()) {
        const SafetensorsFile grads = SafetensorsFile::open(grads_file);
        for (const ParamEntry& e : m.grads.entries())
            HGRN_CHECK(grads.has(e.name), grads_file.string(), ": no gradient for parameter '", e.name, "'");
        for (const std::string& n : grads.names()) {
            HGRN_CHECK(m.grads.has(n), grads_file.string(), ": gradient '", n, "' names no parameter of this model");
            lines.push_back(compare_to(n, m.grads.get(n), grads.view(n), opt.tol_grads));
        }
    }
    if (!opt.save.empty()) {
        std::vector<Buffer> keep;
        for (const ParamEntry& e : m.grads.entries()) {
            keep.emplace_back(DType::f32, e.shape);
            copy(m.grads.get(e.name), keep.back());
            saved.emplace_back(e.name, keep.back().view());
        }
        save_safetensors(opt.save, saved);
    }
    return lines;
}

}  // namespace hgrn
