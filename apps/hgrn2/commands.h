// commands.h — the subcommands of the hgrn2 program. Each add_<name> (in cmd_<name>.cpp) adds a CLI11
// subcommand with every flag and its default, and registers the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <utility>
#include <vector>

namespace hgrn::app {

using Runner = std::function<int()>;
using Registry = std::vector<std::pair<CLI::App*, Runner>>;

void add_demo(CLI::App& app, Registry& reg);
void add_eval(CLI::App& app, Registry& reg);
void add_generate(CLI::App& app, Registry& reg);
void add_info(CLI::App& app, Registry& reg);
void add_parity(CLI::App& app, Registry& reg);
void add_plot(CLI::App& app, Registry& reg);
void add_prepare(CLI::App& app, Registry& reg);
void add_tokenizer(CLI::App& app, Registry& reg);
void add_train(CLI::App& app, Registry& reg);

}  // namespace hgrn::app
