// schedule.cpp — learning-rate schedules (see schedule.h).
#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace hgrn {

double Schedule::at(int64_t step) const {
    HGRN_CHECK(step >= 1, "schedule step is 1-based, got ", step);
    if (warmup > 0 && step <= warmup) return lr * double(step) / double(warmup);
    switch (kind) {
        case ScheduleKind::constant: return lr;
        case ScheduleKind::inverse_sqrt: return lr * std::sqrt(double(std::max<int64_t>(warmup, 1))) / std::sqrt(double(step));
        case ScheduleKind::cosine: {
            const double span = double(std::max<int64_t>(total_steps - warmup, 1));
            const double p = std::clamp(double(step - warmup) / span, 0.0, 1.0);
            return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * p));
        }
    }
    return lr;
}

ScheduleKind schedule_kind_from_name(const std::string& n) {
    if (n == "cosine") return ScheduleKind::cosine;
    if (n == "inverse_sqrt") return ScheduleKind::inverse_sqrt;
    if (n == "constant") return ScheduleKind::constant;
    HGRN_FAIL("unknown schedule '", n, "' (expected cosine, inverse_sqrt or constant)");
}

void schedule_check(const std::string& name, const std::string& source) {
    HGRN_CHECK(name == "cosine" || name == "inverse_sqrt" || name == "constant", source, ": optim.schedule must be ",
               "cosine, inverse_sqrt or constant, got '", name, "'");
}

std::string schedule_kind_name(ScheduleKind k) {
    switch (k) {
        case ScheduleKind::cosine: return "cosine";
        case ScheduleKind::inverse_sqrt: return "inverse_sqrt";
        case ScheduleKind::constant: return "constant";
    }
    return "?";
}

}  // namespace hgrn
