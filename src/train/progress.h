// progress.h — what a training run tells the user while it runs: a live progress line (step, loss, lr,
// tokens/s, ETA; redrawn in place on a terminal, one line per log interval otherwise) and a JSONL metrics
// log (one object per logged step or evaluation) that `hgrn2 plot` reads.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace hgrn {

class Progress {
  public:
    Progress(int64_t total_steps, bool quiet);
    // Called after every step; prints when due (every `every` steps, and at the last step).
    void step(int64_t step, double loss, double lr, double grad_norm, int64_t tokens, int64_t every);
    void message(const std::string& line);  // a full line (ends the live line first)
    double tokens_per_second() const { return tok_per_s_; }
    double elapsed() const;

  private:
    int64_t total_;
    bool quiet_, tty_;
    bool live_open_ = false;
    std::chrono::steady_clock::time_point start_, last_;
    int64_t tokens_since_ = 0, steps_since_ = 0;
    double tok_per_s_ = 0;
};

class MetricsLog {
  public:
    // Opens <dir>/metrics.jsonl; with keep_until >= 0 (resume) drops the entries of later steps first.
    MetricsLog(const std::filesystem::path& dir, int64_t keep_until);
    ~MetricsLog();
    void write(const nlohmann::json& entry);  // flushed at once: nothing lost on a crash

  private:
    std::FILE* f_ = nullptr;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace hgrn
