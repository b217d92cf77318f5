// cmd_generate.cpp — `hgrn2 generate --model DIR --prompt TEXT`: loads a model folder and its tokenizer,
// processes the prompt in chunk mode, then decodes recurrently (a constant-size state per sequence), streaming
// the text to stdout as it is produced. A summary (prompt tokens, new tokens, prefill ms, decode tokens/s,
// state bytes) goes to stderr, so stdout holds the text alone.
#include <fmt/core.h>

#include <cstdio>

#include "commands.h"
#include "infer/generate.h"
#include "model/pretrained.h"

namespace hgrn::app {
namespace {

struct GenerateCli {
    std::string model, tokenizer, prompt;
    GenerateOptions gen;
    bool no_stop_at_eos = false, no_bos = false, echo = false;
};

void print_summary(const GenerateResult& r, int64_t state_bytes) {
    const double prefill_ms = r.prefill_seconds * 1e3;
    const double prefill_tps = r.prefill_seconds > 0 ? double(r.prompt_tokens()) / r.prefill_seconds : 0;
    std::fprintf(stderr,
                 "\n[generate] prompt %lld tokens | %lld new tokens (%s) | prefill %.1f ms (%.0f tok/s) | "
                 "decode %.1f tok/s | state %.2f MiB per sequence\n",
                 static_cast<long long>(r.prompt_tokens()), static_cast<long long>(r.new_tokens()),
                 r.stopped ? "stopped at eos/stop id" : "max tokens", prefill_ms, prefill_tps, r.decode_tokens_per_s(),
                 double(state_bytes) / 1048576.0);
}

int run_generate(GenerateCli c) {
    Pretrained pm = load_pretrained(c.model, DType::f32);
    const auto tok = load_tokenizer(c.tokenizer.empty() ? c.model : c.tokenizer);
    LanguageModel& m = *pm.model;
    if (tok->vocab_size() > m.dims.vocab)
        std::fprintf(stderr, "hgrn2: warning: the tokenizer %s has %lld ids, the model only %lld\n",
                     tok->source().c_str(), static_cast<long long>(tok->vocab_size()),
                     static_cast<long long>(m.dims.vocab));
    c.gen.stop_at_eos = !c.no_stop_at_eos;
    c.gen.add_bos = !c.no_bos;
    if (c.echo) {
        std::fwrite(c.prompt.data(), 1, c.prompt.size(), stdout);
        std::fflush(stdout);
    }
    const GenerateResult r = generate(m, *tok, c.prompt, c.gen, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    print_summary(r, pm.config.state_bytes_per_sequence());
    return 0;
}

}  // namespace

void add_generate(CLI::App& app, Registry& reg) {
    auto* sub =
        app.add_subcommand("generate", "Generate text from a prompt: chunkwise prefill, then recurrent decoding");
    auto c = std::make_shared<GenerateCli>();
    c->gen.sampler = {.temperature = 0.8, .top_k = 0, .top_p = 0.95, .repetition_penalty = 1.0, .seed = 0};
    sub->add_option("--model", c->model, "Model folder (config.json + model.safetensors)")->required();
    sub->add_option("--tokenizer", c->tokenizer,
                    "Tokenizer: a tokenizer.json, a tokenizer.model, a folder holding one, or \"bytes\" "
                    "(default: the model folder)");
    sub->add_option("--prompt", c->prompt, "The text to continue (empty: start from the bos token)")
        ->capture_default_str();
    sub->add_option("--max-tokens", c->gen.max_new_tokens, "New tokens at most")->capture_default_str();
    sub->add_option("--temperature", c->gen.sampler.temperature, "Softmax temperature; 0 = greedy")
        ->capture_default_str();
    sub->add_option("--top-k", c->gen.sampler.top_k, "Keep the K most likely tokens; 0 = off")->capture_default_str();
    sub->add_option("--top-p", c->gen.sampler.top_p, "Keep the smallest set with probability >= P; 1 = off")
        ->capture_default_str();
    sub->add_option("--repetition-penalty", c->gen.sampler.repetition_penalty,
                    "Divide positive / multiply negative logits of tokens already seen; 1 = off")
        ->capture_default_str();
    sub->add_option("--seed", c->gen.sampler.seed, "Random seed of the sampler")->capture_default_str();
    sub->add_option("--stop-id", c->gen.stop_ids, "Further token ids that end generation (repeatable)");
    sub->add_option("--prefill-chunk", c->gen.prefill_chunk, "Prompt tokens per chunkwise pass")->capture_default_str();
    sub->add_flag("--no-stop-at-eos", c->no_stop_at_eos, "Keep generating past the eos token");
    sub->add_flag("--no-bos", c->no_bos, "Do not prepend the tokenizer's bos token to the prompt");
    sub->add_flag("--echo", c->echo, "Print the prompt before the generated text");
    reg.emplace_back(sub, [c] { return run_generate(*c); });
}

}  // namespace hgrn::app
