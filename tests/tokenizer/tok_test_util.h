// tok_test_util.h — what the tokenizer tests share: a temporary folder removed at the end, file writing,
// builders of small tokenizer.json files (byte-level GPT-2 style and SentencePiece style with byte fallback),
// and a check that every chunk a StreamDecoder returns is whole UTF-8 and that the chunks add up to decode().
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/check.h"
#include "tokenizer/hf_pipeline.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace hgrn::test {

using nlohmann::json;

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "hgrn_tok_XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const std::string& content) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << content;
}

// The byte-level symbol of byte b (e.g. 0x20 -> "Ġ").
inline std::string bl(uint8_t b) { return hf::byte_level_char(b); }

// A byte-level vocab: id b = the symbol of byte b, then each merge's result gets the next id (256, 257, ...).
// `merges` are pairs of pieces written with byte-level symbols.
inline json byte_level_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges,
                                      bool merges_as_pairs, bool use_regex = true) {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bl(static_cast<uint8_t>(b))] = b;
    json m = json::array();
    int next = 256;
    for (const auto& [a, b] : merges) {
        if (!vocab.contains(a + b)) vocab[a + b] = next++;
        if (merges_as_pairs)
            m.push_back(json::array({a, b}));
        else
            m.push_back(a + " " + b);
    }
    json j;
    j["version"] = "1.0";
    j["added_tokens"] = json::array({{{"id", next},
                                      {"content", "<|endoftext|>"},
                                      {"single_word", false},
                                      {"lstrip", false},
                                      {"rstrip", false},
                                      {"normalized", false},
                                      {"special", true}}});
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
    j["post_processor"] = {
        {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", m},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr}};
    return j;
}

// The ids of the SentencePiece-style test tokenizer: <unk> 0, <s> 1, </s> 2, <0x00>..<0xFF> 3..258, then
// `pieces` from 259 on, then the merge results not yet there.
inline int sp_byte_id(uint8_t b) { return 3 + b; }

// Llama-2 style: normalizer Prepend "▁" + Replace " " -> "▁", no pre-tokenizer, byte_fallback, decoder
// Replace "▁" -> " ", ByteFallback, Fuse, Strip one leading space.
inline json sp_style_tokenizer_json(const std::vector<std::string>& pieces,
                                    const std::vector<std::pair<std::string, std::string>>& merges) {
    json vocab = json::object();
    vocab["<unk>"] = 0;
    vocab["<s>"] = 1;
    vocab["</s>"] = 2;
    char name[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = sp_byte_id(static_cast<uint8_t>(b));
    }
    int next = 259;
    for (const auto& p : pieces)
        if (!vocab.contains(p)) vocab[p] = next++;
    json m = json::array();
    for (const auto& [a, b] : merges) {
        if (!vocab.contains(a + b)) vocab[a + b] = next++;
        m.push_back(a + " " + b);
    }
    auto special = [](int id, const char* s) {
        return json{{"id", id},        {"content", s},        {"single_word", false}, {"lstrip", false},
                    {"rstrip", false}, {"normalized", false}, {"special", true}};
    };
    json j;
    j["added_tokens"] = json::array({special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")});
    j["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}},
                                     {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}})}};
    j["pre_tokenizer"] = nullptr;
    j["decoder"] = {
        {"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}},
                                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}};
    j["model"] = {{"type", "BPE"},         {"dropout", nullptr},     {"unk_token", "<unk>"}, {"fuse_unk", true},
                  {"byte_fallback", true}, {"ignore_merges", false}, {"vocab", vocab},       {"merges", m}};
    return j;
}

inline std::filesystem::path write_json(const TempDir& dir, const std::string& name, const json& j) {
    const auto p = dir / name;
    write_file(p, j.dump(1));
    return p;
}

// Streams `ids` through a StreamDecoder: every chunk must be valid UTF-8 (unless `raw_ok`), and all chunks
// together must equal tok.decode(ids). Returns the chunks.
inline std::vector<std::string> stream_check(const Tokenizer& tok, const std::vector<int64_t>& ids,
                                             bool raw_ok = false) {
    StreamDecoder dec(tok);
    std::vector<std::string> chunks;
    std::string all;
    for (const int64_t id : ids) {
        chunks.push_back(dec.push(id));
        if (!raw_ok) {
            EXPECT_TRUE(utf8::is_valid(chunks.back())) << "chunk " << chunks.size() - 1;
        }
        all += chunks.back();
    }
    chunks.push_back(dec.finish());
    all += chunks.back();
    EXPECT_EQ(all, tok.decode(ids));
    return chunks;
}

// Expects `fn` to throw hgrn::Error (any other exception fails the test) whose message contains every one of `parts`.
template <class Fn>
void expect_error(Fn fn, const std::vector<std::string>& parts) {
    try {
        fn();
        ADD_FAILURE() << "no error thrown";
    } catch (const hgrn::Error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts)
            EXPECT_NE(msg.find(p), std::string::npos) << "message lacks \"" << p << "\": " << msg;
    }
}

}  // namespace hgrn::test
