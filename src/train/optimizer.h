// optimizer.h — AdamW with decoupled weight decay over a model's flat parameter and gradient buffers.
// State (first and second moments) is fp32 whatever the parameter dtype. Per step t (1-based):
//     m = β1 m + (1 − β1) g,   v = β2 v + (1 − β2) g²,   m̂ = m / (1 − β1^t),   v̂ = v / (1 − β2^t)
//     p ← p − lr · (m̂ / (√v̂ + ε) + λ p)          (λ = 0 for parameters excluded from decay)
// Weight decay is skipped for norms and the lower bounds (a name-based mask built once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/param_store.h"

namespace hgrn {

struct AdamWOptions {
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
};

// True for parameters that get weight decay: not norm weights, not model.lower_bounds.
bool decays(const std::string& param_name);

class AdamW {
  public:
    AdamW(const ParamStore& params, AdamWOptions opt);
    void step(const ParamStore& params, const ParamStore& grads, double lr);  // one update; t advances
    int64_t steps() const { return t_; }
    const AdamWOptions& options() const { return opt_; }
    // The state as named tensors (m, v, the decay mask is derived) for checkpoints; restore() checks shapes.
    Tensor m() const { return m_.view(); }
    Tensor v() const { return v_.view(); }
    void restore(const Tensor& m, const Tensor& v, int64_t t);

  private:
    AdamWOptions opt_;
    Buffer m_, v_;              // (total) fp32, the flat layout of the parameter store
    std::vector<uint8_t> wd_;   // per element of the flat layout: 1 = decay
    int64_t t_ = 0;
};

// Global L2 norm of all gradients; when max_norm > 0 and the norm exceeds it, scales the gradients by
// max_norm / norm. Returns the norm before clipping (NaN/Inf passes through for the caller to act on).
double clip_grad_norm(const ParamStore& grads, double max_norm);

}  // namespace hgrn
