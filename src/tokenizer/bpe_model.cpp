// bpe_model.cpp — reading the BPE vocab and merges of a tokenizer.json, and merging by rank (see bpe_model.h).
#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "tokenizer/utf8.h"

namespace hgrn::hf {

BpeModel::BpeModel(const json& model, const Where& w) : source_(w.file) {
    const std::string type = get_string_or(model, "type", "BPE", w);
    HGRN_CHECK(type == "BPE", w.str(), ": model type \"", type,
               "\" is not supported (only BPE; WordPiece, WordLevel and Unigram are not)");
    read_vocab(field(model, "vocab", w), w / "vocab");
    read_merges(field(model, "merges", w), w / "merges");
    byte_fallback_ = get_bool_or(model, "byte_fallback", false, w);
    fuse_unk_ = get_bool_or(model, "fuse_unk", false, w);
    ignore_merges_ = get_bool_or(model, "ignore_merges", false, w);
    prefix_ = get_string_or(model, "continuing_subword_prefix", "", w);
    suffix_ = get_string_or(model, "end_of_word_suffix", "", w);
    if (has(model, "unk_token")) {
        const std::string unk = get_string(model, "unk_token", w);
        const int64_t id = find(unk);
        HGRN_CHECK(id >= 0, (w / "unk_token").str(), ": \"", unk, "\" is not in the vocab");
        unk_id_ = static_cast<int32_t>(id);
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byte_ids_[b] = static_cast<int32_t>(find(name));
    }
}

void BpeModel::read_vocab(const json& vocab, const Where& w) {
    HGRN_CHECK(vocab.is_object(), w.str(), ": expected an object {piece: id}");
    HGRN_CHECK(!vocab.empty(), w.str(), ": the vocab is empty");
    int64_t max_id = -1;
    for (const auto& [piece, id] : vocab.items()) {
        HGRN_CHECK(id.is_number_integer(), (w / piece).str(), ": expected an integer id");
        const auto v = id.get<int64_t>();
        HGRN_CHECK(v >= 0 && v < (int64_t{1} << 31), (w / piece).str(), ": id ", v, " out of range");
        vocab_.emplace(piece, v);
        max_id = std::max(max_id, v);
    }
    pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
    has_piece_.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [piece, id] : vocab_) {
        HGRN_CHECK(!has_piece_[id], w.str(), ": id ", id, " is given to both \"", pieces_[id], "\" and \"", piece,
                   "\"");
        pieces_[id] = piece;
        has_piece_[id] = true;
    }
}

void BpeModel::read_merges(const json& merges, const Where& w) {
    HGRN_CHECK(merges.is_array(), w.str(), ": expected a list of \"a b\" strings or [\"a\", \"b\"] pairs");
    merges_.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        const json& m = merges[i];
        std::string a, b;
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t sp = s.find(' ');
            HGRN_CHECK(
                sp != std::string::npos && sp > 0 && sp + 1 < s.size() && s.find(' ', sp + 1) == std::string::npos,
                w[i].str(), ": \"", s, "\" is not two pieces separated by one space");
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else {
            HGRN_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(), w[i].str(),
                       ": expected \"a b\" or [\"a\", \"b\"]");
            a = m[0].get<std::string>();
            b = m[1].get<std::string>();
        }
        const int64_t ia = find(a), ib = find(b), im = find(a + b);
        HGRN_CHECK(ia >= 0, w[i].str(), ": piece \"", a, "\" is not in the vocab");
        HGRN_CHECK(ib >= 0, w[i].str(), ": piece \"", b, "\" is not in the vocab");
        HGRN_CHECK(im >= 0, w[i].str(), ": the merged piece \"", a + b, "\" is not in the vocab");
        const uint64_t key = (static_cast<uint64_t>(ia) << 32) | static_cast<uint32_t>(ib);
        merges_.emplace(key, Merge{static_cast<int32_t>(i), static_cast<int32_t>(im)});  // first rank wins
    }
}

// One symbol per character (with the subword prefix / word suffix), else byte pieces, else unk.
void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& syms) const {
    const auto chars = utf8::split_chars(word);
    bool last_unk = false;
    std::string s;
    for (size_t i = 0; i < chars.size(); ++i) {
        s.assign(i > 0 ? prefix_ : std::string());
        s.append(chars[i]);
        if (i + 1 == chars.size()) s.append(suffix_);
        if (const int64_t id = find(s); id >= 0) {
            syms.push_back(static_cast<int32_t>(id));
            last_unk = false;
            continue;
        }
        if (byte_fallback_ && std::all_of(chars[i].begin(), chars[i].end(),
                                          [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; })) {
            for (const char c : chars[i]) syms.push_back(byte_ids_[static_cast<uint8_t>(c)]);
            last_unk = false;
            continue;
        }
        HGRN_CHECK(unk_id_ >= 0, "tokenizer.json ", source_, ": the character \"", chars[i],
                   "\" is not in the vocab, and the model has no unk_token",
                   byte_fallback_ ? "" : " nor byte_fallback");
        if (!(fuse_unk_ && last_unk)) syms.push_back(unk_id_);
        last_unk = true;
    }
}

// Lowest rank first, leftmost among equal ranks; stale heap entries (a side already merged away) skipped.
void BpeModel::merge_symbols(std::vector<int32_t>& syms) const {
    const auto n = static_cast<int32_t>(syms.size());
    if (n < 2) return;
    std::vector<int32_t> next(n), prev(n);
    for (int32_t i = 0; i < n; ++i) next[i] = i + 1 < n ? i + 1 : -1, prev[i] = i - 1;
    struct Cand {
        int32_t rank, pos;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<>> heap;
    auto push = [&](int32_t pos) {
        if (pos < 0 || next[pos] < 0) return;
        if (const Merge* m = find_merge(syms[pos], syms[next[pos]])) heap.push({m->rank, pos});
    };
    for (int32_t i = 0; i + 1 < n; ++i) push(i);
    std::vector<bool> dead(n, false);
    while (!heap.empty()) {
        const Cand c = heap.top();
        heap.pop();
        if (dead[c.pos] || next[c.pos] < 0) continue;
        const Merge* m = find_merge(syms[c.pos], syms[next[c.pos]]);
        if (m == nullptr || m->rank != c.rank) continue;
        const int32_t right = next[c.pos];
        syms[c.pos] = m->id;
        dead[right] = true;
        next[c.pos] = next[right];
        if (next[right] >= 0) prev[next[right]] = c.pos;
        push(prev[c.pos]);
        push(c.pos);
    }
    int32_t k = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) syms[k++] = syms[i];
    syms.resize(k);
}

void BpeModel::encode_word(std::string_view word, std::vector<int64_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        if (const int64_t id = find(word); id >= 0) {
            out.push_back(id);
            return;
        }
    }
    const bool cacheable = word.size() <= kCacheMaxWord;
    if (cacheable) {
        std::lock_guard lock(cache_mutex_);
        if (const auto it = cache_.find(word); it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> syms;
    syms.reserve(word.size());
    initial_symbols(word, syms);
    merge_symbols(syms);
    out.insert(out.end(), syms.begin(), syms.end());
    if (cacheable) {
        std::lock_guard lock(cache_mutex_);
        if (cache_.size() >= kCacheMaxEntries) cache_.clear();
        cache_.emplace(std::string(word), std::move(syms));
    }
}

}  // namespace hgrn::hf
