// tokenizer.cpp — load_tokenizer (choice by path) and the streaming decoder.
// Streaming: decode the window (last emitted ids + held ids) and the window's emitted part alone; the text
// beyond the latter is new. It is held while it ends inside a character (an incomplete UTF-8 sequence, or the
// U+FFFD a lossy decoder puts there). Decoding the previous token again gives decoders that look at their
// neighbours (SentencePiece's leading-space rule, Strip) the same context in both decodes.
#include "tokenizer/tokenizer.h"

#include "core/check.h"
#include "tokenizer/utf8.h"

namespace hgrn {

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    if (path == "bytes") return make_byte_tokenizer(true);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        if (fs::exists(path / "tokenizer.json")) return load_hf_tokenizer_json(path / "tokenizer.json");
        if (fs::exists(path / "tokenizer.model")) return load_sentencepiece(path / "tokenizer.model");
        HGRN_FAIL("tokenizer folder ", path.string(), " has neither tokenizer.json nor tokenizer.model");
    }
    HGRN_CHECK(fs::exists(path, ec), "tokenizer file ", path.string(),
               " does not exist (give a tokenizer.json, a tokenizer.model, a folder holding one, or \"bytes\")");
    const std::string ext = path.extension().string();
    if (ext == ".model") return load_sentencepiece(path);
    if (ext == ".json") return load_hf_tokenizer_json(path);
    HGRN_FAIL("tokenizer file ", path.string(),
              ": unknown kind (expected a .json or .model file, a folder, or \"bytes\")");
}

namespace {

bool ends_inside_char(std::string_view text) {
    return utf8::incomplete_tail(text) > 0 || text.ends_with(utf8::kReplacement);
}

std::string text_after(const std::string& full, const std::string& before) {
    // The decoders we use only append; if one ever rewrote the earlier text, emit from the common prefix on
    // would duplicate, so emit what lies past `before`'s length, which keeps the total length right.
    return full.size() > before.size() ? full.substr(before.size()) : std::string();
}

}  // namespace

std::string StreamDecoder::push(int64_t id) {
    ids_.push_back(id);
    const std::vector<int64_t> emitted(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(read_));
    const std::string before = tok_.decode(emitted);
    const std::string full = tok_.decode(ids_);
    if (full.size() <= before.size() || ends_inside_char(full)) return {};
    std::string out = text_after(full, before);
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(read_));
    read_ = ids_.size();
    return out;
}

std::string StreamDecoder::finish() {
    std::string out;
    if (read_ < ids_.size()) {
        const std::vector<int64_t> emitted(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(read_));
        out = text_after(tok_.decode(ids_), tok_.decode(emitted));
    }
    reset();
    return out;
}

void StreamDecoder::reset() {
    ids_.clear();
    read_ = 0;
}

}  // namespace hgrn
