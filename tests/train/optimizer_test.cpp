// optimizer_test.cpp — AdamW against the formula computed by hand in float64, the weight-decay mask,
// global-norm clipping, and the learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>

#include "train/optimizer.h"
#include "train/schedule.h"

using namespace hgrn;

namespace {
ParamStore two_params(DType dt) {
    return ParamStore({{"model.layers.0.attn.q_proj.weight", Shape{2, 3}}, {"model.norm.weight", Shape{3}}}, dt);
}
}  // namespace

TEST(AdamW, MatchesTheFormulaOverSteps) {
    ParamStore p = two_params(DType::f32), g = p.same_layout(DType::f32);
    const AdamWOptions o{0.9, 0.95, 1e-8, 0.1};
    AdamW opt(p, o);
    const Tensor w = p.get("model.layers.0.attn.q_proj.weight"), n = p.get("model.norm.weight");
    for (int i = 0; i < 6; ++i) w.ptr<float>()[i] = 0.1f * float(i + 1);
    for (int i = 0; i < 3; ++i) n.ptr<float>()[i] = 1.0f;
    double pw = 0.3, pn = 1.0, m1 = 0, v1 = 0, m2 = 0, v2 = 0;  // element 2 of w, element 0 of norm
    const double lr = 0.01;
    for (int t = 1; t <= 3; ++t) {
        const double gw = 0.5 - 0.2 * t, gn = 0.25 * t;
        g.get("model.layers.0.attn.q_proj.weight").ptr<float>()[2] = float(gw);
        g.get("model.norm.weight").ptr<float>()[0] = float(gn);
        opt.step(p, g, lr);
        m1 = 0.9 * m1 + 0.1 * gw, v1 = 0.95 * v1 + 0.05 * gw * gw;
        m2 = 0.9 * m2 + 0.1 * gn, v2 = 0.95 * v2 + 0.05 * gn * gn;
        const double c1 = 1 - std::pow(0.9, t), c2 = 1 - std::pow(0.95, t);
        pw = pw - lr * (m1 / c1 / (std::sqrt(v1 / c2) + 1e-8) + 0.1 * pw);  // decayed
        pn = pn - lr * (m2 / c1 / (std::sqrt(v2 / c2) + 1e-8));             // norm: no decay
        EXPECT_NEAR(w.ptr<float>()[2], pw, 2e-6) << "step " << t;
        EXPECT_NEAR(n.ptr<float>()[0], pn, 2e-6) << "step " << t;
    }
    EXPECT_EQ(opt.steps(), 3);
    // Elements with zero gradient still decay (decoupled), norms do not move.
    EXPECT_NEAR(w.ptr<float>()[0], 0.1 * std::pow(1 - lr * 0.1, 3), 1e-7);
    EXPECT_EQ(n.ptr<float>()[1], 1.0f);
}

TEST(AdamW, DecayMask) {
    EXPECT_TRUE(decays("model.layers.3.mlp.down_proj.weight"));
    EXPECT_TRUE(decays("model.embeddings.weight"));
    EXPECT_FALSE(decays("model.layers.0.attn_norm.weight"));
    EXPECT_FALSE(decays("model.layers.0.attn.g_norm.weight"));
    EXPECT_FALSE(decays("model.lower_bounds"));
}

TEST(AdamW, RestoreChecksSizes) {
    ParamStore p = two_params(DType::f32);
    AdamW opt(p, {});
    Buffer small(DType::f32, {3});
    EXPECT_THROW(opt.restore(small, small, 1), Error);
}

TEST(Clip, GlobalNorm) {
    ParamStore g = two_params(DType::f64);
    g.get("model.layers.0.attn.q_proj.weight").ptr<double>()[0] = 3;
    g.get("model.norm.weight").ptr<double>()[2] = 4;
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 0), 5.0);    // no clipping
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 10), 5.0);   // below the limit: unchanged
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 1), 5.0);    // returns the norm before clipping
    EXPECT_NEAR(g.get("model.layers.0.attn.q_proj.weight").ptr<double>()[0], 0.6, 1e-15);
    EXPECT_NEAR(clip_grad_norm(g, 0), 1.0, 1e-15);
}

TEST(Schedule, Shapes) {
    Schedule c{ScheduleKind::cosine, 1e-3, 1e-4, 10, 110};
    EXPECT_NEAR(c.at(5), 5e-4, 1e-15);
    EXPECT_NEAR(c.at(10), 1e-3, 1e-15);
    EXPECT_NEAR(c.at(60), 1e-4 + 0.5 * 9e-4, 1e-12);  // half way through the cosine
    EXPECT_NEAR(c.at(110), 1e-4, 1e-15);
    EXPECT_NEAR(c.at(500), 1e-4, 1e-15);
    Schedule s{ScheduleKind::inverse_sqrt, 5e-4, 0, 4000, 50000};
    EXPECT_NEAR(s.at(4000), 5e-4, 1e-15);
    EXPECT_NEAR(s.at(16000), 2.5e-4, 1e-15);
    Schedule k{ScheduleKind::constant, 2e-3, 0, 0, 1};
    EXPECT_EQ(k.at(1), 2e-3);
    EXPECT_THROW(c.at(0), Error);
    EXPECT_THROW(schedule_kind_from_name("linear_decay_v2"), Error);
}
