// sentencepiece_tokenizer.cpp — SentencePiece models through libsentencepiece: load `tokenizer.model`
// (a serialized ModelProto), encode/decode ids, and train a BPE model with LLaMA-family settings.
// libsentencepiece reports errors as util::Status; each is turned into an hgrn::Error naming the file.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <fstream>
#include <thread>
#include <unordered_map>

#include "core/check.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace hgrn {
namespace {

// A tiktoken file (Llama-3's original tokenizer.model) starts with "<base64> <rank>" lines.
bool looks_like_tiktoken(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!std::getline(in, line)) return false;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size()) return false;
    for (size_t i = sp + 1; i < line.size(); ++i)
        if (line[i] < '0' || line[i] > '9') return false;
    return true;
}

class SentencePieceTokenizer final : public Tokenizer {
  public:
    explicit SentencePieceTokenizer(const std::filesystem::path& file) : source_(file.string()) {
        namespace fs = std::filesystem;
        std::error_code ec;
        HGRN_CHECK(fs::is_regular_file(file, ec), "SentencePiece model ", source_, " does not exist or is not a file");
        HGRN_CHECK(fs::file_size(file, ec) > 0, "SentencePiece model ", source_, " is empty");
        const auto status = sp_.Load(source_);
        if (!status.ok()) {
            HGRN_FAIL("SentencePiece model ", source_, " cannot be loaded: ", status.ToString(),
                      looks_like_tiktoken(file) ? " (this looks like a tiktoken file; use the tokenizer.json)"
                                                : " (truncated or not a SentencePiece model?)");
        }
        HGRN_CHECK(sp_.GetPieceSize() > 0, "SentencePiece model ", source_, " has an empty vocabulary");
    }

    std::vector<int64_t> encode(std::string_view text) const override {
        const size_t bad = utf8::first_invalid(text);
        HGRN_CHECK(bad == text.size(), "text to encode is not valid UTF-8 at byte ", bad, " (tokenizer ", source_, ")");
        std::vector<int> ids;
        const auto status = sp_.Encode(text, &ids);
        HGRN_CHECK(status.ok(), "SentencePiece ", source_, ": encode failed: ", status.ToString());
        return {ids.begin(), ids.end()};
    }

    std::string decode(const std::vector<int64_t>& ids) const override {
        std::vector<int> ids32(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            check_id(ids[i]);
            ids32[i] = static_cast<int>(ids[i]);
        }
        std::string text;
        const auto status = sp_.Decode(ids32, &text);
        HGRN_CHECK(status.ok(), "SentencePiece ", source_, ": decode failed: ", status.ToString());
        return text;
    }

    int64_t vocab_size() const override { return sp_.GetPieceSize(); }
    int64_t bos_id() const override { return sp_.bos_id(); }
    int64_t eos_id() const override { return sp_.eos_id(); }
    std::string id_to_piece(int64_t id) const override {
        check_id(id);
        return sp_.IdToPiece(static_cast<int>(id));
    }
    std::string_view kind() const override { return "sentencepiece"; }
    const std::string& source() const override { return source_; }

  private:
    void check_id(int64_t id) const {
        HGRN_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " out of range [0, ", vocab_size(),
                   ") for SentencePiece model ", source_);
    }

    sentencepiece::SentencePieceProcessor sp_;
    std::string source_;
};

void check_training_files(const std::vector<std::filesystem::path>& files) {
    namespace fs = std::filesystem;
    HGRN_CHECK(!files.empty(), "SentencePiece training: no input files");
    for (const auto& f : files) {
        std::error_code ec;
        HGRN_CHECK(fs::is_regular_file(f, ec), "SentencePiece training: input file ", f.string(), " does not exist");
        HGRN_CHECK(fs::file_size(f, ec) > 0, "SentencePiece training: input file ", f.string(), " is empty");
        HGRN_CHECK(f.string().find(',') == std::string::npos, "SentencePiece training: input file ", f.string(),
                   " has a comma in its name, which the trainer cannot take");
    }
}

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
    return std::make_unique<SentencePieceTokenizer>(model_file);
}

std::filesystem::path train_sentencepiece_bpe(const std::vector<std::filesystem::path>& files, int vocab_size,
                                              const std::filesystem::path& model_prefix,
                                              const SentencePieceTrainOptions& options) {
    namespace fs = std::filesystem;
    check_training_files(files);
    // 256 byte pieces + unk, <s>, </s>, and room for at least a few characters and merges.
    HGRN_CHECK(vocab_size >= 262, "SentencePiece training: vocab_size ", vocab_size,
               " is too small (byte fallback alone takes 259 ids)");
    HGRN_CHECK(!model_prefix.filename().empty(), "SentencePiece training: empty model prefix");
    if (model_prefix.has_parent_path()) fs::create_directories(model_prefix.parent_path());
    std::string input;
    for (const auto& f : files) {
        if (!input.empty()) input += ',';
        input += f.string();
    }
    const int threads = options.num_threads > 0 ? options.num_threads
                                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::unordered_map<std::string, std::string> args = {
        {"input", input},
        {"model_prefix", model_prefix.string()},
        {"model_type", "bpe"},
        {"vocab_size", std::to_string(vocab_size)},
        {"byte_fallback", "true"},
        {"character_coverage", "1.0"},
        {"unk_id", "0"},
        {"bos_id", "1"},
        {"eos_id", "2"},
        {"pad_id", "-1"},
        {"input_sentence_size", std::to_string(options.input_sentence_size)},
        {"shuffle_input_sentence", "true"},
        {"max_sentence_length", std::to_string(options.max_sentence_length)},
        {"num_threads", std::to_string(threads)},
        {"normalization_rule_name", "identity"},
        {"remove_extra_whitespaces", "false"},
        {"add_dummy_prefix", "true"},
        {"split_digits", "true"},
        {"allow_whitespace_only_pieces", "true"},
        {"minloglevel", options.quiet ? "1" : "0"},
    };
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    HGRN_CHECK(status.ok(), "SentencePiece training on ", input, " failed: ", status.ToString());
    fs::path model = model_prefix;
    model += ".model";
    HGRN_CHECK(fs::exists(model), "SentencePiece training finished but wrote no ", model.string());
    return model;
}

}  // namespace hgrn
