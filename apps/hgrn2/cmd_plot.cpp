// cmd_plot.cpp — `hgrn2 plot RUN_DIR [--out FILE]`: draws the curves of a training run with gnuplot.
// Reads RUN_DIR/metrics.jsonl (written by `hgrn2 train`: {"step","loss",...} per logged step and
// {"step","eval_loss","eval_accuracy",...} per evaluation), writes the series as whitespace-separated data
// files (plot_train.dat: step loss; plot_eval.dat: step eval_loss eval_accuracy) and a gnuplot script
// (plot.gp) into RUN_DIR, and runs gnuplot to draw a PNG (pngcairo when gnuplot has it, else png):
// train and eval loss against step on the left, eval accuracy against step on the right when present.
// Non-finite values (written as null) are left out. Errors: a missing or empty metrics file, a malformed line
// (named by number; a cut-off last line from an interrupted run is skipped with a note), gnuplot missing or
// failing, no image produced.
#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "commands.h"
#include "core/check.h"

extern char** environ;

namespace hgrn::app {
namespace {

namespace fs = std::filesystem;

struct Point {
    int64_t step;
    double value;
};

struct RunMetrics {
    std::vector<Point> train_loss, eval_loss, eval_accuracy;
};

// The value of `key` when it is a number (null = a non-finite value in the log).
bool number_of(const nlohmann::json& j, const char* key, double* out) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return false;
    *out = it->get<double>();
    return true;
}

RunMetrics read_metrics(const fs::path& file) {
    HGRN_CHECK(fs::exists(file), "no metrics file ", file.string(), " (is this the out folder of `hgrn2 train`?)");
    HGRN_CHECK(fs::file_size(file) > 0, "metrics file ", file.string(), " is empty (has the run logged a step yet?)");
    std::ifstream in(file, std::ios::binary);
    HGRN_CHECK(in.good(), "cannot open ", file.string());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    const bool ends_with_newline = [&] {
        std::ifstream f(file, std::ios::binary | std::ios::ate);
        f.seekg(-1, std::ios::end);
        return f.get() == '\n';
    }();
    RunMetrics m;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto j = nlohmann::json::parse(lines[i], nullptr, false);
        if (j.is_discarded() && i + 1 == lines.size() && !ends_with_newline) {
            std::fprintf(stderr, "hgrn2 plot: note: skipping the cut-off last line %zu of %s\n", i + 1, file.c_str());
            continue;
        }
        HGRN_CHECK(!j.is_discarded() && j.is_object(), file.string(), " line ", i + 1, ": not a JSON object");
        HGRN_CHECK(j.contains("step") && j["step"].is_number_integer(), file.string(), " line ", i + 1,
                   ": no integer \"step\"");
        const int64_t step = j["step"].get<int64_t>();
        double v = 0;
        if (number_of(j, "loss", &v)) m.train_loss.push_back({step, v});
        if (number_of(j, "eval_loss", &v)) m.eval_loss.push_back({step, v});
        if (number_of(j, "eval_accuracy", &v)) m.eval_accuracy.push_back({step, v});
    }
    HGRN_CHECK(!m.train_loss.empty() || !m.eval_loss.empty(), file.string(),
               " has no loss entries (\"loss\" or \"eval_loss\"): nothing to plot");
    return m;
}

void write_points(const fs::path& file, const std::vector<Point>& a, const std::vector<Point>* b = nullptr) {
    std::ofstream out(file, std::ios::trunc);
    HGRN_CHECK(out.good(), "cannot write ", file.string());
    out.precision(9);
    for (size_t i = 0; i < a.size(); ++i) {
        out << a[i].step << ' ' << a[i].value;
        if (b) out << ' ' << (i < b->size() ? fmt::format("{:.9g}", (*b)[i].value) : std::string("NaN"));
        out << '\n';
    }
    HGRN_CHECK(out.good(), "error writing ", file.string());
}

int64_t first_step(const RunMetrics& m) {
    int64_t s = INT64_MAX;
    for (const auto* v : {&m.train_loss, &m.eval_loss, &m.eval_accuracy})
        for (const Point& p : *v) s = std::min(s, p.step);
    return s;
}

int64_t last_step(const RunMetrics& m) {
    int64_t s = INT64_MIN;
    for (const auto* v : {&m.train_loss, &m.eval_loss, &m.eval_accuracy})
        for (const Point& p : *v) s = std::max(s, p.step);
    return s == first_step(m) ? s + 1 : s;  // one point: a non-empty range
}

// A gnuplot single-quoted string ('' stands for ').
std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
}

std::string gnuplot_script(const RunMetrics& m, const fs::path& dir, const fs::path& out, bool eval_has_acc) {
    const bool acc = !m.eval_accuracy.empty();
    const std::string train = quoted((dir / "plot_train.dat").string()),
                      eval = quoted((dir / "plot_eval.dat").string());
    std::ostringstream s;
    s << "# plot.gp — written by `hgrn2 plot`; run `gnuplot plot.gp` to redraw.\n"
      << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
      << "    set terminal pngcairo size " << (acc ? 1400 : 800) << ",520 enhanced font 'Sans,11'\n"
      << "} else {\n"
      << "    set terminal png size " << (acc ? 1400 : 800) << ",520\n"
      << "}\n"
      << "set output " << quoted(out.string()) << "\n"
      << "set grid\nset key top right\nset xlabel 'step'\n"
      << "set xrange [" << first_step(m) << ":" << last_step(m) << "]\n";  // both panels on one step axis
    if (acc)
        s << "set multiplot layout 1,2 title " << quoted(dir.filename().string()) << " noenhanced\n";
    else
        s << "set title " << quoted(dir.filename().string()) << " noenhanced\n";
    s << "set ylabel 'loss'\nplot ";
    std::vector<std::string> parts;
    if (!m.train_loss.empty())
        parts.push_back(train + " using 1:2 with lines lw 1.5 lc rgb '#1f77b4' title 'train loss'");
    if (!m.eval_loss.empty())
        parts.push_back(eval + " using 1:2 with linespoints pt 7 ps 0.8 lw 2 lc rgb '#d62728' title 'eval loss'");
    for (size_t i = 0; i < parts.size(); ++i) s << (i ? ", \\\n     " : "") << parts[i];
    s << "\n";
    if (acc) {
        s << "unset title\nset ylabel 'accuracy'\nset key bottom right\n"
          << "plot "
          << (eval_has_acc ? eval + " using 1:3" : quoted((dir / "plot_accuracy.dat").string()) + " using 1:2")
          << " with linespoints pt 7 ps 0.8 lw 2 lc rgb '#2ca02c' title 'eval accuracy'\n"
          << "unset multiplot\n";
    }
    s << "set output\n";
    return s.str();
}

// The path of an executable found on PATH, or empty.
std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(ss, d, ':');) {
        const fs::path p = fs::path(d.empty() ? "." : d) / name;
        if (::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p)) return p.string();
    }
    return {};
}

// Runs `program script` and returns its exit status (gnuplot's messages go to our stderr).
int run_gnuplot(const std::string& program, const fs::path& script) {
    std::string a0 = program, a1 = script.string();
    char* argv[] = {a0.data(), a1.data(), nullptr};
    pid_t pid = 0;
    const int err = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    HGRN_CHECK(err == 0, "cannot run ", program, ": error ", err);
    int status = 0;
    HGRN_CHECK(::waitpid(pid, &status, 0) == pid, "waiting for ", program, " failed");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int run_plot(const fs::path& dir, fs::path out) {
    HGRN_CHECK(fs::is_directory(dir), "run folder ", dir.string(), " does not exist");
    const RunMetrics m = read_metrics(dir / "metrics.jsonl");
    const std::string gnuplot = find_program("gnuplot");
    HGRN_CHECK(!gnuplot.empty(),
               "gnuplot is not installed (on Debian/Ubuntu: apt-get install gnuplot-nox; "
               "scripts/setup.sh installs it)");
    if (out.empty()) out = dir / "curves.png";
    // The eval file holds accuracy in column 3 when both series come from the same evaluations (the trainer's
    // case); otherwise accuracy gets its own file.
    const bool same_steps = m.eval_accuracy.size() == m.eval_loss.size() &&
                            std::equal(m.eval_loss.begin(), m.eval_loss.end(), m.eval_accuracy.begin(),
                                       [](const Point& a, const Point& b) { return a.step == b.step; });
    write_points(dir / "plot_train.dat", m.train_loss);
    write_points(dir / "plot_eval.dat", m.eval_loss, same_steps ? &m.eval_accuracy : nullptr);
    if (!same_steps && !m.eval_accuracy.empty()) write_points(dir / "plot_accuracy.dat", m.eval_accuracy);
    const fs::path script = dir / "plot.gp";
    {
        std::ofstream s(script, std::ios::trunc);
        s << gnuplot_script(m, dir, out, same_steps);
        HGRN_CHECK(s.good(), "cannot write ", script.string());
    }
    std::error_code ec;
    fs::remove(out, ec);
    const int rc = run_gnuplot(gnuplot, script);
    HGRN_CHECK(rc == 0, "gnuplot failed (exit status ", rc, ") on ", script.string());
    HGRN_CHECK(fs::exists(out) && fs::file_size(out) > 0, "gnuplot wrote no image to ", out.string());
    fmt::print("wrote {} ({} train points, {} evaluations{})\n", out.string(), m.train_loss.size(), m.eval_loss.size(),
               m.eval_accuracy.empty() ? "" : ", with accuracy");
    return 0;
}

}  // namespace

void add_plot(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("plot", "Draw the loss / accuracy curves of a training run to a PNG (gnuplot)");
    auto dir = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    sub->add_option("run_dir", *dir, "Run folder holding metrics.jsonl (the --out of `hgrn2 train`)")->required();
    sub->add_option("--out", *out, "Image file to write (default: RUN_DIR/curves.png)");
    reg.emplace_back(sub, [dir, out] { return run_plot(*dir, *out); });
}

}  // namespace hgrn::app
