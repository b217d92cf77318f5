// random.h — seeded random test inputs. Never zeros; gates from weak to strong.
#pragma once

#include <cstdint>

#include "core/rng.h"
#include "core/tensor.h"

namespace hgrn::test {

// Fills a CPU floating tensor with N(0, std^2).
void fill_normal(const Tensor& t, Rng& rng, double std = 1.0);
// Fills with U(lo, hi).
void fill_uniform(const Tensor& t, Rng& rng, double lo, double hi);
// Log forget gates g = logsigmoid(x) * strength, x ~ N(0, 1) (+ offset): g <= 0 always. strength 0.1 gives
// weak decay (f near 1), 10 strong decay (log f down to about -30 per step).
void fill_log_gate(const Tensor& t, Rng& rng, double strength, double offset = 0.0);

}  // namespace hgrn::test
