// hf_tokenizer.cpp — a Hugging Face tokenizer.json with a BPE model, end to end.
// encode: text → cut at added tokens (each becomes its id; leftmost, longest first; lstrip/rstrip take the
// neighbouring ASCII whitespace, single_word needs non-word neighbours) → each other segment: normalizer →
// pre-tokenizer → BPE on each piece. Added tokens are matched on the raw text (also those marked
// "normalized"). decode: ids → pieces (added tokens' content, else the vocab) → decoder steps → joined.
// The post_processor is not applied: encode adds no BOS/EOS (see tokenizer.h).
#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

#include "tokenizer/bpe_model.h"
#include "tokenizer/hf_pipeline.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace hgrn {
namespace {

using hf::json;
using hf::Where;

json read_json_file(const std::filesystem::path& file, std::string_view what) {
    std::error_code ec;
    HGRN_CHECK(std::filesystem::is_regular_file(file, ec), what, " ", file.string(),
               " does not exist or is not a file");
    std::ifstream in(file, std::ios::binary);
    HGRN_CHECK(in, what, " ", file.string(), ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return json::parse(ss.str());
    } catch (const json::exception& e) {
        HGRN_FAIL(what, " ", file.string(), " is not valid JSON: ", e.what());
    }
}

struct AddedToken {
    std::string content;
    int64_t id = -1;
    bool lstrip = false, rstrip = false, single_word = false;
};

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) || c == '_';
}

class HfBpeTokenizer final : public Tokenizer {
  public:
    explicit HfBpeTokenizer(const std::filesystem::path& file) : source_(file.string()) {
        const json root = read_json_file(file, "tokenizer.json");
        const Where w{source_, ""};
        HGRN_CHECK(root.is_object(), w.str(), ": expected a JSON object at the top");
        model_ = std::make_unique<hf::BpeModel>(hf::field(root, "model", w), w / "model");
        if (hf::has(root, "added_tokens")) read_added(root["added_tokens"], w / "added_tokens");
        normalizer_ = hf::parse_normalizer(root.value("normalizer", json()), w / "normalizer");
        pre_tokenizer_ = hf::parse_pre_tokenizer(root.value("pre_tokenizer", json()), w / "pre_tokenizer");
        decoder_ = hf::parse_decoder(root.value("decoder", json()), w / "decoder");
        vocab_size_ = model_->max_id() + 1;
        for (const AddedToken& t : added_) vocab_size_ = std::max(vocab_size_, t.id + 1);
        find_bos_eos(file);
    }

    std::vector<int64_t> encode(std::string_view text) const override;
    std::string decode(const std::vector<int64_t>& ids) const override;

    int64_t vocab_size() const override { return vocab_size_; }
    int64_t bos_id() const override { return bos_; }
    int64_t eos_id() const override { return eos_; }
    std::string id_to_piece(int64_t id) const override { return piece_of(id); }
    std::string_view kind() const override { return "hf-bpe"; }
    const std::string& source() const override { return source_; }

  private:
    struct Segment {
        std::string_view text;
        int64_t added_id;  // -1 for text
        size_t offset;
    };

    void read_added(const json& list, const Where& w);
    void find_bos_eos(const std::filesystem::path& file);
    int64_t token_id(const std::string& content) const;
    const AddedToken* added_at(std::string_view text, size_t i) const;
    std::vector<Segment> split_added(std::string_view text) const;
    const std::string& piece_of(int64_t id) const;

    std::string source_;
    std::unique_ptr<hf::BpeModel> model_;
    std::vector<AddedToken> added_;                       // longest content first
    std::array<std::vector<size_t>, 256> added_by_byte_;  // first byte of content -> indices into added_
    std::vector<const AddedToken*> added_by_id_;
    std::vector<hf::NormalizeStep> normalizer_;
    std::vector<hf::PreTokenizeStep> pre_tokenizer_;
    std::vector<hf::DecodeStep> decoder_;
    int64_t vocab_size_ = 0, bos_ = -1, eos_ = -1;
};

void HfBpeTokenizer::read_added(const json& list, const Where& w) {
    HGRN_CHECK(list.is_array(), w.str(), ": expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
        const json& t = list[i];
        AddedToken a;
        a.id = hf::get_int(t, "id", w[i]);
        a.content = hf::get_string(t, "content", w[i]);
        HGRN_CHECK(a.id >= 0 && a.id < (int64_t{1} << 31), w[i].str(), ": id ", a.id, " out of range");
        HGRN_CHECK(!a.content.empty(), w[i].str(), ": empty content");
        a.lstrip = hf::get_bool_or(t, "lstrip", false, w[i]);
        a.rstrip = hf::get_bool_or(t, "rstrip", false, w[i]);
        a.single_word = hf::get_bool_or(t, "single_word", false, w[i]);
        added_.push_back(std::move(a));
    }
    std::stable_sort(added_.begin(), added_.end(),
                     [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
    int64_t max_id = -1;
    for (size_t i = 0; i < added_.size(); ++i) {
        added_by_byte_[static_cast<uint8_t>(added_[i].content[0])].push_back(i);
        max_id = std::max(max_id, added_[i].id);
    }
    added_by_id_.assign(static_cast<size_t>(max_id + 1), nullptr);
    for (const AddedToken& a : added_) added_by_id_[a.id] = &a;
}

int64_t HfBpeTokenizer::token_id(const std::string& content) const {
    for (const AddedToken& a : added_)
        if (a.content == content) return a.id;
    return model_->find(content);
}

// bos/eos: tokenizer_config.json's "bos_token"/"eos_token" (a string or {"content": ...}; null = none) when the
// file has the key, else the first of the usual names that the vocabulary has.
void HfBpeTokenizer::find_bos_eos(const std::filesystem::path& file) {
    const auto config_path = file.parent_path() / "tokenizer_config.json";
    json config = json::object();
    if (std::filesystem::exists(config_path)) config = read_json_file(config_path, "tokenizer_config.json");
    auto pick = [&](const char* key, std::initializer_list<const char*> names) -> int64_t {
        if (config.is_object() && config.contains(key)) {
            const json& v = config[key];
            if (v.is_null()) return -1;
            const json& c = v.is_object() ? v.value("content", json()) : v;
            HGRN_CHECK(c.is_string(), "tokenizer_config.json ", config_path.string(), ": ", key,
                       " is neither a string nor {\"content\": string}");
            const int64_t id = token_id(c.get<std::string>());
            HGRN_CHECK(id >= 0, "tokenizer_config.json ", config_path.string(), ": ", key, " \"", c.get<std::string>(),
                       "\" is not in the vocabulary of ", source_);
            return id;
        }
        for (const char* n : names)
            if (const int64_t id = token_id(n); id >= 0) return id;
        return -1;
    };
    bos_ = pick("bos_token", {"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"});
    eos_ = pick("eos_token", {"</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>"});
}

// The longest added token that starts at text[i] and may be taken there, or nullptr.
const AddedToken* HfBpeTokenizer::added_at(std::string_view text, size_t i) const {
    for (const size_t k : added_by_byte_[static_cast<uint8_t>(text[i])]) {
        const AddedToken& a = added_[k];
        if (text.compare(i, a.content.size(), a.content) != 0) continue;
        if (a.single_word) {
            const size_t e = i + a.content.size();
            if ((i > 0 && is_word_byte(text[i - 1])) || (e < text.size() && is_word_byte(text[e]))) continue;
        }
        return &a;
    }
    return nullptr;
}

std::vector<HfBpeTokenizer::Segment> HfBpeTokenizer::split_added(std::string_view text) const {
    std::vector<Segment> segs;
    size_t start = 0, i = 0;
    while (i < text.size()) {
        const AddedToken* a = added_.empty() ? nullptr : added_at(text, i);
        if (a == nullptr) {
            ++i;
            continue;
        }
        size_t b = i, e = i + a->content.size();
        if (a->lstrip)
            while (b > start && is_ascii_space(text[b - 1])) --b;
        if (a->rstrip)
            while (e < text.size() && is_ascii_space(text[e])) ++e;
        if (b > start) segs.push_back({text.substr(start, b - start), -1, start});
        segs.push_back({text.substr(b, e - b), a->id, b});
        start = i = e;
    }
    if (start < text.size()) segs.push_back({text.substr(start), -1, start});
    return segs;
}

std::vector<int64_t> HfBpeTokenizer::encode(std::string_view text) const {
    const size_t bad = utf8::first_invalid(text);
    HGRN_CHECK(bad == text.size(), "text to encode is not valid UTF-8 at byte ", bad, " (tokenizer ", source_, ")");
    std::vector<int64_t> ids;
    ids.reserve(text.size() / 3 + 1);
    std::vector<hf::Piece> pieces;
    for (const Segment& seg : split_added(text)) {
        if (seg.added_id >= 0) {
            ids.push_back(seg.added_id);
            continue;
        }
        std::string s(seg.text);
        for (const auto& step : normalizer_) step(s);
        pieces.assign(1, hf::Piece{std::move(s), seg.offset == 0});
        for (const auto& step : pre_tokenizer_) step(pieces);
        for (const hf::Piece& p : pieces) model_->encode_word(p.text, ids);
    }
    return ids;
}

const std::string& HfBpeTokenizer::piece_of(int64_t id) const {
    HGRN_CHECK(id >= 0 && id < vocab_size_, "token id ", id, " out of range [0, ", vocab_size_, ") for tokenizer ",
               source_);
    if (id < static_cast<int64_t>(added_by_id_.size()) && added_by_id_[id] != nullptr) return added_by_id_[id]->content;
    const std::string* p = model_->piece(id);
    HGRN_CHECK(p != nullptr, "token id ", id, " has no entry in tokenizer ", source_);
    return *p;
}

std::string HfBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int64_t id : ids) tokens.push_back(piece_of(id));
    for (const auto& step : decoder_) step(tokens);
    std::string out;
    for (const std::string& t : tokens) out += t;
    return out;
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::filesystem::path& json_file) {
    return std::make_unique<HfBpeTokenizer>(json_file);
}

}  // namespace hgrn
