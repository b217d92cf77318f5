// bpe_model.h — the BPE model of a tokenizer.json ("model": {"type": "BPE", "vocab": {piece: id}, "merges":
// ["a b", ...] or [["a", "b"], ...], "unk_token", "byte_fallback", "fuse_unk", "ignore_merges",
// "continuing_subword_prefix", "end_of_word_suffix"}).
// A word (one pre-tokenized piece, UTF-8) starts as one symbol per character (a character missing from the
// vocab becomes its <0xXX> byte pieces with byte_fallback, else unk_token, else an error); then the adjacent
// pair of lowest merge rank is merged, leftmost first, until no adjacent pair has a merge. A min-heap of
// candidate pairs makes this O(n log n) per word (SentencePiece-style files give whole texts as one word).
// Results of short words are cached (thread-safe).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf_json.h"

namespace hgrn::hf {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceMap = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

class BpeModel {
  public:
    BpeModel(const json& model, const Where& where);

    // Appends the ids of one word to `out`. `where` names the tokenizer for the no-unk error.
    void encode_word(std::string_view word, std::vector<int64_t>& out) const;

    int64_t find(std::string_view piece) const {  // -1 if absent
        const auto it = vocab_.find(piece);
        return it == vocab_.end() ? -1 : it->second;
    }
    const PieceMap& vocab() const { return vocab_; }
    int64_t max_id() const { return static_cast<int64_t>(pieces_.size()) - 1; }
    // The piece of an id, or nullptr for an id the vocab does not use.
    const std::string* piece(int64_t id) const {
        return id >= 0 && id < static_cast<int64_t>(pieces_.size()) && has_piece_[id] ? &pieces_[id] : nullptr;
    }

  private:
    struct Merge {
        int32_t rank;
        int32_t id;  // id of the merged piece
    };
    void read_vocab(const json& vocab, const Where& w);
    void read_merges(const json& merges, const Where& w);
    void initial_symbols(std::string_view word, std::vector<int32_t>& syms) const;
    void merge_symbols(std::vector<int32_t>& syms) const;
    const Merge* find_merge(int32_t a, int32_t b) const {
        const auto it = merges_.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
        return it == merges_.end() ? nullptr : &it->second;
    }

    std::string source_;
    PieceMap vocab_;
    std::vector<std::string> pieces_;  // id -> piece
    std::vector<bool> has_piece_;
    std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
    int32_t byte_ids_[256];                       // id of "<0xXX>", -1 if absent
    int32_t unk_id_ = -1;
    bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
    std::string prefix_, suffix_;  // continuing_subword_prefix, end_of_word_suffix

    static constexpr size_t kCacheMaxWord = 64;          // bytes; longer words are not cached
    static constexpr size_t kCacheMaxEntries = 1 << 17;  // cleared when full
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace hgrn::hf
