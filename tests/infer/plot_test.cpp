// plot_test.cpp — `hgrn2 plot RUN_DIR` end to end: a small metrics.jsonl (train lines, evaluations with
// accuracy, a null from a non-finite value) gives a non-empty PNG, the data files and the gnuplot script;
// train lines alone give a PNG too; a missing, empty or malformed metrics file is a non-zero exit with a
// message naming the file. Runs the hgrn2 program of the same build (<build>/apps/hgrn2, or $HGRN2_BIN);
// skipped when gnuplot or the program is not there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path hgrn2_program() {
    if (const char* env = std::getenv("HGRN2_BIN")) return env;
    return fs::canonical("/proc/self/exe").parent_path().parent_path() / "apps" / "hgrn2";
}

bool have_gnuplot() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

// Runs `hgrn2 plot <dir>`; returns the exit status, stderr in *err.
int run_plot(const fs::path& dir, std::string* err) {
    const fs::path log = dir / "plot_stderr.txt";
    const std::string cmd =
        "'" + hgrn2_program().string() + "' plot '" + dir.string() + "' > /dev/null 2> '" + log.string() + "'";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    err->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class Plot : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!fs::exists(hgrn2_program())) GTEST_SKIP() << "no hgrn2 program at " << hgrn2_program();
        dir_ = fs::temp_directory_path() / ("hgrn2_plot_test_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    void write_metrics(const std::string& text) { std::ofstream(dir_ / "metrics.jsonl") << text; }
    fs::path dir_;
};

bool is_png(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    char sig[8] = {};
    in.read(sig, 8);
    return in.gcount() == 8 && std::string(sig + 1, 3) == "PNG";
}

}  // namespace

TEST_F(Plot, TrainAndEvalCurvesGiveAPng) {
    if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
    std::string text;
    for (int s = 10; s <= 200; s += 10) {
        text += "{\"step\":" + std::to_string(s) + ",\"loss\":" + std::to_string(6.0 - s / 50.0) +
                ",\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":100.0,\"time\":1.0}\n";
        if (s % 50 == 0)
            text += "{\"step\":" + std::to_string(s) + ",\"eval_loss\":" + std::to_string(6.2 - s / 50.0) +
                    ",\"eval_accuracy\":" + std::to_string(s / 250.0) + ",\"eval_count\":100}\n";
    }
    text += "{\"step\":210,\"loss\":null,\"lr\":0.001}\n";  // a NaN loss is logged as null
    write_metrics(text);
    std::string err;
    ASSERT_EQ(run_plot(dir_, &err), 0) << err;
    EXPECT_TRUE(is_png(dir_ / "curves.png"));
    EXPECT_GT(fs::file_size(dir_ / "curves.png"), 1000u);
    EXPECT_TRUE(fs::exists(dir_ / "plot.gp"));
    EXPECT_TRUE(fs::exists(dir_ / "plot_train.dat"));
    EXPECT_TRUE(fs::exists(dir_ / "plot_eval.dat"));
}

TEST_F(Plot, TrainLinesAloneGiveAPng) {
    if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
    write_metrics("{\"step\":1,\"loss\":5.0}\n{\"step\":2,\"loss\":4.0}\n{\"step\":3,\"loss\":3.5}\n");
    std::string err;
    ASSERT_EQ(run_plot(dir_, &err), 0) << err;
    EXPECT_TRUE(is_png(dir_ / "curves.png"));
}

TEST_F(Plot, BadMetricsFilesAreClearErrors) {
    std::string err;
    EXPECT_NE(run_plot(dir_, &err), 0);  // no metrics.jsonl
    EXPECT_NE(err.find("metrics.jsonl"), std::string::npos) << err;
    write_metrics("");
    EXPECT_NE(run_plot(dir_, &err), 0);
    EXPECT_NE(err.find("empty"), std::string::npos) << err;
    write_metrics("{\"step\":1,\"loss\":5.0}\n{oops\n{\"step\":3,\"loss\":3.5}\n");
    EXPECT_NE(run_plot(dir_, &err), 0);
    EXPECT_NE(err.find("line 2"), std::string::npos) << err;
    write_metrics("{\"step\":1,\"lr\":0.1}\n");
    EXPECT_NE(run_plot(dir_, &err), 0);
    EXPECT_NE(err.find("no loss"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(dir_ / "curves.png"));
}
