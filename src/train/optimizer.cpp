// optimizer.cpp — AdamW and global-norm clipping (see optimizer.h).
#include "train/optimizer.h"

#include <cmath>

namespace hgrn {

bool decays(const std::string& n) {
    if (n == "model.lower_bounds") return false;
    return n.find("norm.weight") == std::string::npos;
}

AdamW::AdamW(const ParamStore& params, AdamWOptions opt)
    : opt_(opt), m_(DType::f32, params.flat().shape()), v_(DType::f32, params.flat().shape()) {
    wd_.assign(size_t(params.flat().numel()), 0);
    for (const ParamEntry& e : params.entries())
        if (decays(e.name))
            std::fill(wd_.begin() + e.offset, wd_.begin() + e.offset + e.shape.numel(), uint8_t(1));
}

namespace {
template <class T>
void adamw_update(T* p, const T* g, float* m, float* v, const uint8_t* wd, int64_t n, const AdamWOptions& o,
                  double lr, int64_t t) {
    const double c1 = 1.0 - std::pow(o.beta1, double(t)), c2 = 1.0 - std::pow(o.beta2, double(t));
    const float b1 = float(o.beta1), b2 = float(o.beta2), eps = float(o.eps);
    const float step = float(lr / c1), rc2 = float(1.0 / std::sqrt(c2)), decay = float(lr * o.weight_decay);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        const float gi = float(g[i]);
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        const float upd = step * m[i] / (std::sqrt(v[i]) * rc2 + eps);
        p[i] = T(float(p[i]) - upd - (wd[i] ? decay * float(p[i]) : 0.0f));
    }
}
}  // namespace

void AdamW::step(const ParamStore& params, const ParamStore& grads, double lr) {
    HGRN_CHECK(params.flat().numel() == m_.numel() && grads.flat().numel() == m_.numel(),
               "AdamW: parameter layout changed since the optimizer was made");
    ++t_;
    const int64_t n = m_.numel();
    if (params.dtype() == DType::f64)
        adamw_update(params.flat().ptr<double>(), grads.flat().ptr<double>(), m_.ptr<float>(), v_.ptr<float>(),
                     wd_.data(), n, opt_, lr, t_);
    else
        adamw_update(params.flat().ptr<float>(), grads.flat().ptr<float>(), m_.ptr<float>(), v_.ptr<float>(),
                     wd_.data(), n, opt_, lr, t_);
}

void AdamW::restore(const Tensor& m, const Tensor& v, int64_t t) {
    HGRN_CHECK(m.numel() == m_.numel() && v.numel() == v_.numel(), "optimizer state has ", m.numel(),
               " elements, the model needs ", m_.numel());
    HGRN_CHECK(t >= 0, "optimizer step count must be >= 0, got ", t);
    copy(m.reshape(m_.shape()), m_);
    copy(v.reshape(v_.shape()), v_);
    t_ = t;
}

double clip_grad_norm(const ParamStore& grads, double max_norm) {
    const Tensor f = grads.flat();
    const int64_t n = f.numel();
    // Fixed blocks summed in order: the result does not depend on the thread count (bit-exact resume).
    constexpr int64_t kBlocks = 64;
    double part[kBlocks] = {};
    const bool f64 = f.dtype() == DType::f64;
    const double* gd = f64 ? f.ptr<double>() : nullptr;
    const float* gf = f64 ? nullptr : f.ptr<float>();
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < kBlocks; ++b) {
        const int64_t lo = n * b / kBlocks, hi = n * (b + 1) / kBlocks;
        double acc = 0;
        for (int64_t i = lo; i < hi; ++i) {
            const double x = f64 ? gd[i] : double(gf[i]);
            acc += x * x;
        }
        part[b] = acc;
    }
    double ss = 0;
    for (double p : part) ss += p;
    const double norm = std::sqrt(ss);
    if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
        const double s = max_norm / norm;
        if (f64)
            for (int64_t i = 0; i < n; ++i) const_cast<double*>(gd)[i] *= s;
        else
            for (int64_t i = 0; i < n; ++i) const_cast<float*>(gf)[i] *= float(s);
    }
    return norm;
}

}  // namespace hgrn
