// cmd_prepare.cpp — `hgrn2 prepare --out DIR`: lists the local corpus (linux-doc, the King James Bible),
// optionally trains a SentencePiece BPE tokenizer on part of the training split, and tokenizes the three
// splits into token shards (train.bin, val.bin, test.bin) with meta.json. The tokenizer used is copied into
// DIR so that training and generation find it there.
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "core/check.h"
#include "core/threads.h"
#include "data/corpus.h"
#include "tokenizer/tokenizer.h"

namespace hgrn::app {
namespace {
namespace fs = std::filesystem;

struct PrepareArgs {
    std::string out = "data/corpus", tokenizer;
    int64_t train_vocab = 0, max_train_mb = 0, tokenizer_sample_mb = 8;
    bool no_bible = false, no_linux_doc = false;
};

// Writes up to `mb` MiB of training-split text (documents in name order) to a file for the tokenizer trainer.
fs::path write_tokenizer_sample(const Corpus& c, const fs::path& dir, int64_t mb) {
    const fs::path p = dir / "tokenizer_sample.txt";
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    int64_t written = 0;
    for (const auto& d : c.documents) {
        if (d.split != CorpusSplit::train || written >= mb * 1048576) continue;
        const std::string t = corpus_read(d);
        f << t << '\n';
        written += int64_t(t.size()) + 1;
    }
    HGRN_CHECK(written > 0, "no training text for the tokenizer in ", dir.string());
    return p;
}

int run_prepare(const PrepareArgs& a) {
    fs::create_directories(a.out);
    PrepareOptions po;
    po.corpus.bible = !a.no_bible;
    if (a.no_linux_doc) po.corpus.roots.clear();
    po.max_train_bytes = a.max_train_mb * 1048576;
    po.threads = num_threads();
    po.progress = &std::cerr;
    std::unique_ptr<Tokenizer> tok;
    if (a.train_vocab > 0) {
        HGRN_CHECK(a.tokenizer.empty(), "give either --tokenizer or --train-tokenizer, not both");
        const Corpus c = corpus_list(po.corpus);
        fmt::print(stderr, "training a SentencePiece BPE tokenizer ({} tokens) on {} MiB of the training split\n",
                   a.train_vocab, a.tokenizer_sample_mb);
        const fs::path sample = write_tokenizer_sample(c, a.out, a.tokenizer_sample_mb);
        const fs::path model = train_sentencepiece_bpe({sample}, int(a.train_vocab), fs::path(a.out) / "tokenizer");
        fs::remove(sample);
        fs::remove(fs::path(a.out) / "tokenizer.vocab");
        tok = load_tokenizer(model);
    } else {
        tok = load_tokenizer(a.tokenizer.empty() ? "bytes" : a.tokenizer);
        if (a.tokenizer != "bytes" && !a.tokenizer.empty() && fs::is_regular_file(a.tokenizer))
            fs::copy_file(a.tokenizer, fs::path(a.out) / fs::path(a.tokenizer).filename(),
                          fs::copy_options::overwrite_existing);
    }
    po.vocab_size = tok->vocab_size();
    po.eos_id = tok->eos_id();
    po.tokenizer = tok->source();
    const Tokenizer& t = *tok;
    const PrepareResult r = prepare_corpus([&t](std::string_view s) { return t.encode(s); }, a.out, po);
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test})
        fmt::print(stderr, "{:<5} {:>6} documents {:>11} bytes {:>10} tokens -> {}\n", corpus_split_name(s),
                   r[s].documents, r[s].bytes, r[s].tokens, (fs::path(a.out) / r[s].file).string());
    return 0;
}

}  // namespace

void add_prepare(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("prepare", "Tokenize the local corpus into train/val/test token shards");
    auto a = std::make_shared<PrepareArgs>();
    sub->add_option("--out", a->out, "output folder")->capture_default_str();
    sub->add_option("--tokenizer", a->tokenizer, "bytes, a tokenizer.model / tokenizer.json, or a folder (default bytes)");
    sub->add_option("--train-tokenizer", a->train_vocab, "train a SentencePiece BPE tokenizer of this vocabulary size");
    sub->add_option("--tokenizer-sample-mb", a->tokenizer_sample_mb, "MiB of training text for the tokenizer trainer")
        ->capture_default_str();
    sub->add_option("--max-train-mb", a->max_train_mb, "cap the training split at this many MiB (0 = all)")
        ->capture_default_str();
    sub->add_flag("--no-bible", a->no_bible, "leave out the King James Bible");
    sub->add_flag("--no-linux-doc", a->no_linux_doc, "leave out the linux-doc files");
    reg.emplace_back(sub, [a] { return run_prepare(*a); });
}

}  // namespace hgrn::app
