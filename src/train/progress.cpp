// progress.cpp — progress line and JSONL metrics (see progress.h).
#include "train/progress.h"

#include <unistd.h>

#include <fmt/core.h>
#include <fstream>
#include <vector>

#include "core/check.h"

namespace hgrn {

std::string format_duration(double s) {
    const int64_t t = int64_t(s + 0.5);
    if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, int((t % 3600) / 60));
    if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, int(t % 60));
    return fmt::format("{}s", t);
}

Progress::Progress(int64_t total, bool quiet)
    : total_(total), quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::step(int64_t step, double loss, double lr, double grad_norm, int64_t tokens, int64_t every) {
    tokens_since_ += tokens;
    ++steps_since_;
    if (step % every != 0 && step != total_) return;
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_).count();
    tok_per_s_ = dt > 0 ? double(tokens_since_) / dt : 0;
    const double eta = dt > 0 && steps_since_ > 0 ? dt / double(steps_since_) * double(total_ - step) : 0;
    last_ = now;
    tokens_since_ = steps_since_ = 0;
    if (quiet_) return;
    const std::string line = fmt::format("step {:>6}/{} | loss {:7.4f} | lr {:.2e} | grad {:6.3f} | {:>7.0f} tok/s | ETA {}",
                                         step, total_, loss, lr, grad_norm, tok_per_s_, format_duration(eta));
    if (tty_) {
        std::fprintf(stderr, "\r%s\033[K", line.c_str());
        live_open_ = true;
        if (step == total_) message("");
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
}

void Progress::message(const std::string& line) {
    if (live_open_) {
        std::fprintf(stderr, "\n");
        live_open_ = false;
    }
    if (!line.empty()) std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

MetricsLog::MetricsLog(const std::filesystem::path& dir, int64_t keep_until) {
    std::filesystem::create_directories(dir);
    const auto path = dir / "metrics.jsonl";
    if (keep_until >= 0 && std::filesystem::exists(path)) {
        std::vector<std::string> kept;
        std::ifstream in(path);
        for (std::string l; std::getline(in, l);) {
            const auto j = nlohmann::json::parse(l, nullptr, false);
            if (!j.is_discarded() && j.value("step", int64_t(0)) <= keep_until) kept.push_back(l);
        }
        std::ofstream out(path, std::ios::trunc);
        for (const auto& l : kept) out << l << '\n';
    } else if (keep_until < 0) {
        std::filesystem::remove(path);
    }
    f_ = std::fopen(path.c_str(), "a");
    HGRN_CHECK(f_ != nullptr, "cannot open ", path.string(), " for writing");
}

MetricsLog::~MetricsLog() {
    if (f_) std::fclose(f_);
}

void MetricsLog::write(const nlohmann::json& e) {
    const std::string s = e.dump() + "\n";
    std::fwrite(s.data(), 1, s.size(), f_);
    std::fflush(f_);
}

}  // namespace hgrn
