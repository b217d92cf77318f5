// main.cpp — hgrn2: one program, subcommands in cmd_*.cpp. Catches hgrn::Error, prints it with a hint,
// and returns non-zero.
#include <cstdio>

#include "commands.h"
#include "core/check.h"

int main(int argc, char** argv) {
    CLI::App app{"hgrn2: HGRN2 / HGRN1 gated linear RNNs in C++ (and CUDA)"};
    app.require_subcommand(1);
    hgrn::app::Registry reg;
    hgrn::app::add_demo(app, reg);
    hgrn::app::add_eval(app, reg);
    hgrn::app::add_generate(app, reg);
    hgrn::app::add_info(app, reg);
    hgrn::app::add_parity(app, reg);
    hgrn::app::add_plot(app, reg);
    hgrn::app::add_prepare(app, reg);
    hgrn::app::add_tokenizer(app, reg);
    hgrn::app::add_train(app, reg);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        for (auto& [sub, run] : reg)
            if (sub->parsed()) return run();
    } catch (const hgrn::Error& e) {
        std::fprintf(stderr, "hgrn2: error: %s\n(see `hgrn2 <command> --help` for the options)\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hgrn2: unexpected error: %s\n", e.what());
        return 2;
    }
    return 0;
}
