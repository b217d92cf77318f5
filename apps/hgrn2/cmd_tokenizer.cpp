// cmd_tokenizer.cpp — `hgrn2 tokenizer train --input FILE... --vocab N --out PREFIX` trains a SentencePiece
// BPE model (PREFIX.model); `hgrn2 tokenizer encode --tokenizer PATH TEXT` prints the ids and pieces.
#include <fmt/core.h>

#include "commands.h"
#include "tokenizer/tokenizer.h"

namespace hgrn::app {
namespace {

struct TokArgs {
    std::vector<std::string> inputs;
    int vocab = 4096;
    std::string out = "tokenizer", tokenizer = "bytes", text;
};

}  // namespace

void add_tokenizer(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("tokenizer", "Train or try a tokenizer");
    sub->require_subcommand(1);
    auto a = std::make_shared<TokArgs>();
    auto* tr = sub->add_subcommand("train", "Train a SentencePiece BPE model on text files");
    tr->add_option("--input", a->inputs, "text files (one sentence or paragraph per line)")->required();
    tr->add_option("--vocab", a->vocab, "vocabulary size")->capture_default_str();
    tr->add_option("--out", a->out, "output prefix: writes PREFIX.model and PREFIX.vocab")->capture_default_str();
    auto* en = sub->add_subcommand("encode", "Encode a text and print ids and pieces");
    en->add_option("--tokenizer", a->tokenizer, "bytes, a tokenizer.model / tokenizer.json, or a folder")
        ->capture_default_str();
    en->add_option("text", a->text, "text to encode")->required();
    reg.emplace_back(sub, [a, tr, en] {
        if (tr->parsed()) {
            std::vector<std::filesystem::path> files(a->inputs.begin(), a->inputs.end());
            const auto model = train_sentencepiece_bpe(files, a->vocab, a->out);
            fmt::print("wrote {}\n", model.string());
            return 0;
        }
        const auto tok = load_tokenizer(a->tokenizer);
        const auto ids = tok->encode(a->text);
        for (int64_t id : ids) fmt::print("{}\t{}\n", id, tok->id_to_piece(id));
        fmt::print("{} tokens, {} bytes; decodes back {}\n", ids.size(), a->text.size(),
                   tok->decode(ids) == a->text ? "exactly" : "DIFFERENTLY");
        return 0;
    });
}

}  // namespace hgrn::app
