// corpus.h — the local text corpus (EXPERIMENTS.md) and its tokenization into train/val/test token shards.
//
// Documents: every file under each root whose name ends with the root's suffix, skipping excluded directory
// names (default root: linux-doc-6.1's html/_sources/**/*.rst.txt without translations/), plus the King
// James Bible from `bible -f Gen1:1-Rev22:21`, one document per book ("bible-kjv/Ge", "bible-kjv/Rev"; verse
// references stripped unless asked for). A document's name is "<root label>/<path relative to the root>".
// Split by document: u = FNV-1a-64(name) mapped to [0, 1); u < test_fraction → test, < test + val → val,
// else train. If val or test comes out empty (small corpora), the train documents with the smallest u
// are moved there, so all three splits are non-empty and the split is a pure function of the names.
//
// prepare_corpus writes into out_dir: train.bin, val.bin, test.bin (token shards, shard.h), each document's
// tokens followed by eos_id when eos_id >= 0; meta.json {vocab_size, eos_id, tokenizer, splits: {train:
// {file, documents, bytes, tokens}, ...}} where bytes counts the UTF-8 bytes of the text encoded (for bits per
// byte = loss_nats · tokens / (bytes · ln 2)); documents.tsv (split, name, bytes, tokens). meta.json is written
// last (an old one is removed first), so its presence marks a complete preparation. The tokenizer is passed
// in as a function, so this code does not depend on the tokenizer library.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace hgrn {

enum class CorpusSplit : uint8_t { train = 0, val = 1, test = 2 };
const char* corpus_split_name(CorpusSplit s);  // "train", "val", "test"

struct CorpusRoot {
    std::string dir;
    std::string label = "linux-doc";
    std::string suffix = ".rst.txt";                      // "" takes every regular file
    std::vector<std::string> exclude_dirs = {"translations"};  // directory names skipped at any depth
};

inline constexpr const char* kLinuxDocDir = "/usr/share/doc/linux-doc-6.1/html/_sources";
inline constexpr const char* kBibleCommand = "bible -f Gen1:1-Rev22:21";

struct CorpusOptions {
    std::vector<CorpusRoot> roots = {CorpusRoot{kLinuxDocDir}};
    bool bible = true;
    std::string bible_command = kBibleCommand;
    bool bible_verse_references = false;  // keep "Ge1:1 " in front of each verse
    double val_fraction = 0.02, test_fraction = 0.02;
};

struct CorpusDocument {
    std::string name;  // "linux-doc/admin-guide/README.rst.txt", "bible-kjv/Ge"
    std::string path;  // file to read; empty when text holds the content (Bible books)
    std::string text;  // in-memory content, or empty
    int64_t bytes = 0;
    CorpusSplit split = CorpusSplit::train;
};

struct Corpus {
    std::vector<CorpusDocument> documents;  // sorted by name
    std::vector<std::string> searched;      // roots and commands looked at, for messages
    int64_t count(CorpusSplit s) const;
    int64_t bytes(CorpusSplit s) const;
};

// Lists the documents and assigns their splits. Errors: a missing root directory, a failing bible command,
// no documents at all (the message names every path searched), fewer than 3 documents.
Corpus corpus_list(const CorpusOptions& options);
// The split rule alone (before the non-empty fix-up).
CorpusSplit corpus_split_of(std::string_view name, double val_fraction, double test_fraction);
double corpus_hash_unit(std::string_view name);  // FNV-1a-64(name) → [0, 1)
// The text of a document (reads the file when path is set).
std::string corpus_read(const CorpusDocument& doc);
// Parses `bible -f` output ("Ge1:1 In the beginning ...") into one document per book, in book order.
std::vector<CorpusDocument> corpus_parse_bible(std::string_view output, bool keep_references);

// -------------------------------------------------------------------------------------------- prepare

using TextEncoder = std::function<std::vector<int64_t>(std::string_view)>;  // must be callable concurrently

struct PrepareOptions {
    CorpusOptions corpus;
    int64_t vocab_size = 0;       // required: ids must be < vocab_size
    int64_t eos_id = -1;          // appended after each document when >= 0
    int64_t max_train_bytes = 0;  // > 0: keep train documents (lowest hash first) up to this many bytes
    int threads = 1;              // documents encoded in parallel
    std::string tokenizer;        // recorded in meta.json (e.g. the tokenizer's path)
    std::ostream* progress = nullptr;  // a progress line per split when set
};

struct PrepareSplitStats {
    std::string file;  // e.g. "train.bin"
    int64_t documents = 0, bytes = 0, tokens = 0;
};

struct PrepareResult {
    PrepareSplitStats splits[3];  // indexed by CorpusSplit
    int64_t vocab_size = 0, eos_id = -1;
    std::string tokenizer;
    const PrepareSplitStats& operator[](CorpusSplit s) const { return splits[int(s)]; }
};

PrepareResult prepare_corpus(const TextEncoder& encoder, const std::string& out_dir, const PrepareOptions& options);
// Same, for an already listed corpus (its splits as assigned).
PrepareResult prepare_documents(const TextEncoder& encoder, const Corpus& corpus, const std::string& out_dir,
                                const PrepareOptions& options);
// Reads out_dir/meta.json back (errors name the file and the field).
PrepareResult read_prepare_meta(const std::string& dir);

}  // namespace hgrn
