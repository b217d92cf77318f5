// mlp.cpp — gated MLP forward / backward (see mlp.h).
#include "model/mlp.h"

#include "model/workspace.h"
#include "ops/activation/activation.h"
#include "ops/matmul/matmul.h"

namespace hgrn {

void mlp_forward(const MlpParams& p, const Tensor& x, const Tensor& y, MlpSaved& s) {
    const Shape sh{x.size(0), x.size(1), p.gate_proj.size(0)};
    s.x = x;
    const Tensor gate = ensure(s.gate, x.dtype(), sh), up = ensure(s.up, x.dtype(), sh), a = ensure(s.a, x.dtype(), sh);
    matmul_forward(x, p.gate_proj, gate);
    matmul_forward(x, p.up_proj, up);
    swiglu_forward(gate, up, a);
    matmul_forward(a, p.down_proj, y);
}

void mlp_backward(const MlpParams& p, MlpSaved& s, const Tensor& dy, const Tensor& dx, const MlpParams& dp) {
    const DType dt = dy.dtype();
    const Shape sh = s.a.shape();
    const Tensor da = ensure(s.da, dt, sh), dgate = ensure(s.dgate, dt, sh), dup = ensure(s.dup, dt, sh);
    matmul_backward(s.a, p.down_proj, dy, da, dp.down_proj);
    swiglu_backward(s.gate, s.up, da, dgate, dup);
    matmul_backward(s.x, p.up_proj, dup, dx, dp.up_proj);
    matmul_backward(s.x, p.gate_proj, dgate, dx, dp.gate_proj, /*accumulate_dx=*/true);
}

}  // namespace hgrn
