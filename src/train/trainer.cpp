// trainer.cpp — the training loop (see trainer.h).
#include "train/trainer.h"

#include <cmath>
#include <fmt/core.h>

#include "core/threads.h"
#include "io/safetensors.h"
#include "model/pretrained.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/schedule.h"

namespace hgrn {
namespace fs = std::filesystem;

namespace {

struct Run {
    const TrainConfig& cfg;
    std::unique_ptr<TrainTask> task;
    ModelConfig model_config;
    std::unique_ptr<LanguageModel> model;
    std::unique_ptr<AdamW> opt;
    Schedule sched;
    fs::path out;
    int64_t steps = 0, accum = 1, start = 0;
};

Schedule make_schedule(const TrainConfig& c) {
    Schedule s;
    s.kind = schedule_kind_from_name(c.get<std::string>("optim", "schedule"));
    s.lr = c.get<double>("optim", "lr");
    s.min_lr = c.get<double>("optim", "min_lr");
    s.warmup = c.get<int64_t>("optim", "warmup");
    s.total_steps = c.get<int64_t>("optim", "steps");
    return s;
}

void setup(Run& r, const TrainOptions& opts, Progress& prog) {
    const TrainConfig& c = r.cfg;
    r.task = make_task(c);
    r.model_config = c.model_config(r.task->vocab_size(), r.task->num_labels(), r.task->input_features());
    r.model = std::make_unique<LanguageModel>(lm_dims_from_config(r.model_config), DType::f32);
    lm_init(*r.model, c.j["seed"].get<uint64_t>(), c.get<double>("model", "initializer_range"));
    r.opt = std::make_unique<AdamW>(r.model->params,
                                    AdamWOptions{c.get<double>("optim", "beta1"), c.get<double>("optim", "beta2"),
                                                 c.get<double>("optim", "eps"), c.get<double>("optim", "weight_decay")});
    r.sched = make_schedule(c);
    r.out = c.out_dir();
    r.steps = c.get<int64_t>("optim", "steps");
    r.accum = c.get<int64_t>("optim", "grad_accum");
    fs::create_directories(r.out);
    if (opts.resume) {
        if (auto ck = latest_checkpoint(r.out)) {
            const CheckpointState st = load_checkpoint_into(*ck, *r.model, *r.opt);
            r.start = st.step;
            prog.message(fmt::format("resuming from {} (step {})", ck->string(), st.step));
        } else {
            prog.message(fmt::format("--resume: no checkpoint in {}, starting from step 0", r.out.string()));
        }
    }
    const std::string text = c.j.dump(2) + "\n";
    write_file_atomic(r.out / "train_config.json", text.data(), text.size());
    prog.message(fmt::format("task   {}", r.task->describe()));
    prog.message(fmt::format("model  {} {:.3f} M parameters, {} layers, hidden {}, out_dir {}",
                             r.model->dims.kind == MixerKind::hgrn2 ? "HGRN2" : "HGRN1",
                             double(r.model->params.count()) / 1e6, r.model->dims.L, r.model->dims.D, r.out.string()));
}

// One update: accumulate the micro-batches, clip, step. Returns the mean loss; throws on NaN/Inf.
double train_step(Run& r, int64_t step, TaskBatch& batch, LmActs& acts, double lr, double* grad_norm) {
    LanguageModel& m = *r.model;
    const double dropout = r.cfg.get<double>("model", "dropout");
    const uint64_t seed = r.cfg.j["seed"].get<uint64_t>();
    m.grads.zero_();
    double loss = 0;
    for (int64_t a = 0; a < r.accum; ++a) {
        const int64_t index = (step - 1) * r.accum + a;
        r.task->train_batch(index, batch);
        const double l = lm_forward(m, batch.view(), acts, nullptr, {dropout, seed * 7919 + uint64_t(index), true});
        HGRN_CHECK(std::isfinite(l), "non-finite loss (", l, ") at step ", step,
                   "; training stopped before the update, the checkpoints in ", r.out.string(), " are intact");
        lm_backward(m, batch.view(), acts, 1.0 / double(r.accum));
        loss += l / double(r.accum);
    }
    *grad_norm = clip_grad_norm(m.grads, r.cfg.get<double>("optim", "clip"));
    HGRN_CHECK(std::isfinite(*grad_norm), "non-finite gradient norm at step ", step,
               "; training stopped before the update, the checkpoints in ", r.out.string(), " are intact");
    r.opt->step(m.params, m.grads, lr);
    return loss;
}

EvalResult run_eval(Run& r, int64_t step, MetricsLog& log, Progress& prog) {
    const EvalResult e = r.task->evaluate(*r.model, r.cfg.get<int64_t>("eval", "batches"));
    nlohmann::json j{{"step", step}, {"eval_loss", e.loss}, {"eval_accuracy", e.accuracy}, {"eval_count", e.counted}};
    std::string extra;
    if (r.task->name() == "lm") {
        j["eval_ppl"] = e.perplexity();
        j["eval_bpb"] = e.bits_per_byte;
        extra = fmt::format(" | ppl {:.2f} | {:.3f} bits/byte", e.perplexity(), e.bits_per_byte);
    }
    log.write(j);
    prog.message(fmt::format("eval   step {} | loss {:.4f} | accuracy {:.4f}{} ({} targets)", step, e.loss, e.accuracy,
                             extra, e.counted));
    return e;
}

}  // namespace

TrainSummary train(const TrainConfig& cfg, const TrainOptions& opts) {
    if (cfg.j["threads"].get<int>() > 0) set_num_threads(cfg.j["threads"].get<int>());
    Progress prog(cfg.get<int64_t>("optim", "steps"), opts.quiet);
    Run r{cfg};
    setup(r, opts, prog);
    MetricsLog log(r.out, opts.resume ? r.start : -1);
    TrainSummary s;
    s.out_dir = r.out.string();
    s.parameters = r.model->params.count();
    s.first_step = r.start + 1;
    const int64_t log_every = cfg.get<int64_t>("log", "every"), eval_every = cfg.get<int64_t>("eval", "every");
    const int64_t ckpt_every = cfg.get<int64_t>("checkpoint", "every"), keep = cfg.get<int64_t>("checkpoint", "keep");
    TaskBatch batch;
    LmActs acts;
    for (int64_t step = r.start + 1; step <= r.steps; ++step) {
        const double lr = r.sched.at(step);
        double norm = 0;
        const double loss = train_step(r, step, batch, acts, lr, &norm);
        s.losses.push_back(loss);
        s.last_step = step;
        prog.step(step, loss, lr, norm, r.task->tokens_per_batch() * r.accum, log_every);
        const bool out_of_time = opts.time_budget > 0 && prog.elapsed() >= opts.time_budget;
        const bool stop = step == opts.stop_after || out_of_time;
        const bool last = step == r.steps || stop;
        if (step % log_every == 0 || last)
            log.write({{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", norm},
                       {"tokens_per_s", prog.tokens_per_second()}, {"time", prog.elapsed()}});
        if (eval_every > 0 && (step % eval_every == 0 || last)) s.final_eval = run_eval(r, step, log, prog);
        if (ckpt_every > 0 && (step % ckpt_every == 0 || last))
            save_checkpoint(r.out, r.model_config, *r.model, *r.opt,
                            {step, r.opt->steps(), cfg.j}, keep);
        if (stop) {
            s.stopped_early = step < r.steps;
            if (out_of_time) prog.message(fmt::format("time budget of {:.0f} s reached after step {}", opts.time_budget, step));
            break;
        }
    }
    s.seconds = prog.elapsed();
    const int64_t done = s.last_step - r.start;
    s.tokens_per_second = s.seconds > 0 ? double(done * r.task->tokens_per_batch() * r.accum) / s.seconds : 0;
    return s;
}

}  // namespace hgrn
