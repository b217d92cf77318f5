// schedule.h — learning-rate schedules, as a pure function of the step (so resuming needs only the step).
//     cosine:       linear warmup 0 → lr over `warmup` steps, then cosine from lr to min_lr at total_steps
//     inverse_sqrt: linear warmup, then lr · √warmup / √step (fairseq's inverse_sqrt)
//     constant:     linear warmup, then lr
#pragma once

#include <cstdint>
#include <string>

namespace hgrn {

enum class ScheduleKind { cosine, inverse_sqrt, constant };

struct Schedule {
    ScheduleKind kind = ScheduleKind::cosine;
    double lr = 1e-3, min_lr = 0;
    int64_t warmup = 0, total_steps = 1;
    double at(int64_t step) const;  // step is 1-based (the update about to be made)
};

ScheduleKind schedule_kind_from_name(const std::string& name);  // "cosine" | "inverse_sqrt" | "constant"
// Throws an error naming `source` when the name is not a schedule.
void schedule_check(const std::string& name, const std::string& source);
std::string schedule_kind_name(ScheduleKind k);

}  // namespace hgrn
