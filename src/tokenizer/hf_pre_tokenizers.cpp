// hf_pre_tokenizers.cpp — tokenizer.json normalizers and pre-tokenizers (see hf_pipeline.h), and the
// byte-level alphabet. Split behaviours follow the Hugging Face definitions: the text is cut into matches and
// the gaps between them; "Isolated" keeps both, "Removed" drops the matches, "MergedWithPrevious"/"Next" glue
// a match to its neighbour, "Contiguous" glues runs of matches; "invert" swaps matches and gaps.
#include <algorithm>
#include <array>
#include <memory>

#include "tokenizer/hf_pipeline.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace hgrn::hf {
namespace {

struct ByteLevelMap {
    std::array<std::string, 256> chars;
    std::array<int, 0x144> bytes;  // stand-ins are all below U+0144
    ByteLevelMap() {
        bytes.fill(-1);
        int extra = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
            utf8::append(chars[b], c);
            bytes[c] = b;
        }
    }
};
const ByteLevelMap& byte_level_map() {
    static const ByteLevelMap map;
    return map;
}

enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const json& j, const Where& w) {
    const std::string b = get_string(j, "behavior", w);
    if (b == "Isolated") return Behavior::kIsolated;
    if (b == "Removed") return Behavior::kRemoved;
    if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::kMergedWithNext;
    if (b == "Contiguous") return Behavior::kContiguous;
    HGRN_FAIL((w / "behavior").str(), ": unknown split behavior \"", b, "\"");
}

struct Span {
    size_t begin, end;
    bool match;
};

// Cuts `text` at `matches` and applies the behavior; appends the pieces (non-empty) to `out`.
void split_piece(const Piece& p, const std::vector<Regex::Match>& matches, Behavior how, bool invert,
                 std::vector<Piece>& out) {
    std::vector<Span> spans;
    size_t at = 0;
    for (const auto& m : matches) {
        if (m.begin > at) spans.push_back({at, m.begin, invert});
        spans.push_back({m.begin, m.end, !invert});
        at = m.end;
    }
    if (at < p.text.size()) spans.push_back({at, p.text.size(), invert});
    std::vector<Span> kept;
    bool prev_match = false;
    if (how == Behavior::kMergedWithNext) {
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->match && !prev_match && !kept.empty())
                kept.back().begin = it->begin;
            else
                kept.push_back(*it);
            prev_match = it->match;
        }
        std::reverse(kept.begin(), kept.end());
    } else {
        for (const Span& s : spans) {
            if (how == Behavior::kRemoved && s.match) continue;
            const bool glue = (how == Behavior::kMergedWithPrevious && s.match && !prev_match) ||
                              (how == Behavior::kContiguous && s.match && prev_match);
            if (glue && !kept.empty())
                kept.back().end = s.end;
            else
                kept.push_back(s);
            prev_match = s.match;
        }
    }
    for (const Span& s : kept) out.push_back({p.text.substr(s.begin, s.end - s.begin), p.first && s.begin == 0});
}

std::vector<Regex::Match> literal_matches(std::string_view text, std::string_view lit) {
    std::vector<Regex::Match> out;
    if (lit.empty()) return out;
    for (size_t at = text.find(lit); at != std::string_view::npos; at = text.find(lit, at + lit.size()))
        out.push_back({at, at + lit.size()});
    return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    size_t at = 0;
    for (size_t k = s.find(from); k != std::string::npos; k = s.find(from, at)) {
        out.append(s, at, k - at).append(to);
        at = k + from.size();
    }
    out.append(s, at, std::string::npos);
    s = std::move(out);
}

// Applies `fn(piece, out)` to every piece.
template <class Fn>
PreTokenizeStep each_piece(Fn fn) {
    return [fn](std::vector<Piece>& pieces) {
        std::vector<Piece> out;
        out.reserve(pieces.size());
        for (const Piece& p : pieces) fn(p, out);
        pieces = std::move(out);
    };
}

PreTokenizeStep regex_split(std::shared_ptr<Regex> re, Behavior how, bool invert) {
    return each_piece([re, how, invert](const Piece& p, std::vector<Piece>& out) {
        split_piece(p, re->find_all(p.text), how, invert, out);
    });
}

PreTokenizeStep byte_level_step(const json& j, const Where& w) {
    const bool prefix_space = get_bool_or(j, "add_prefix_space", false, w);
    std::shared_ptr<Regex> re;
    if (get_bool_or(j, "use_regex", true, w)) re = std::make_shared<Regex>(kGpt2SplitPattern, w.str());
    return each_piece([prefix_space, re](const Piece& p, std::vector<Piece>& out) {
        Piece q{prefix_space && !p.text.starts_with(' ') ? " " + p.text : p.text, p.first};
        const size_t from = out.size();
        if (re)
            split_piece(q, re->find_all(q.text), Behavior::kIsolated, false, out);
        else
            out.push_back(std::move(q));
        for (size_t i = from; i < out.size(); ++i) {
            std::string mapped;
            for (const char c : out[i].text) mapped += byte_level_char(static_cast<uint8_t>(c));
            out[i].text = std::move(mapped);
        }
    });
}

PreTokenizeStep metaspace_step(const json& j, const Where& w) {
    const std::string rep = get_string_or(j, "replacement", "\xE2\x96\x81", w);
    std::string scheme = get_bool_or(j, "add_prefix_space", true, w) ? "always" : "never";
    scheme = get_string_or(j, "prepend_scheme", scheme, w);
    HGRN_CHECK(scheme == "always" || scheme == "first" || scheme == "never", (w / "prepend_scheme").str(),
               ": expected always, first or never, got \"", scheme, "\"");
    const bool split = get_bool_or(j, "split", true, w);
    return each_piece([rep, scheme, split](const Piece& p, std::vector<Piece>& out) {
        Piece q = p;
        replace_all(q.text, " ", rep);
        if ((scheme == "always" || (scheme == "first" && p.first)) && !q.text.starts_with(rep)) q.text = rep + q.text;
        if (split)
            split_piece(q, literal_matches(q.text, rep), Behavior::kMergedWithNext, false, out);
        else
            out.push_back(std::move(q));
    });
}

void add_pre_tokenizer(const json& j, const Where& w, std::vector<PreTokenizeStep>& steps) {
    if (j.is_null()) return;
    const std::string type = get_string(j, "type", w);
    if (type == "Sequence") {
        const json& list = field(j, "pretokenizers", w);
        HGRN_CHECK(list.is_array(), (w / "pretokenizers").str(), ": expected a list");
        for (size_t i = 0; i < list.size(); ++i) add_pre_tokenizer(list[i], (w / "pretokenizers")[i], steps);
    } else if (type == "ByteLevel") {
        steps.push_back(byte_level_step(j, w));
    } else if (type == "Metaspace") {
        steps.push_back(metaspace_step(j, w));
    } else if (type == "Split") {
        const Pattern pat = get_pattern(j, w);
        const Behavior how = parse_behavior(j, w);
        const bool invert = get_bool_or(j, "invert", false, w);
        if (pat.regex) {
            steps.push_back(regex_split(std::make_shared<Regex>(pat.text, (w / "pattern").str()), how, invert));
        } else {
            steps.push_back(each_piece([lit = pat.text, how, invert](const Piece& p, std::vector<Piece>& out) {
                split_piece(p, literal_matches(p.text, lit), how, invert, out);
            }));
        }
    } else if (type == "Digits") {
        const bool single = get_bool_or(j, "individual_digits", false, w);
        steps.push_back(regex_split(std::make_shared<Regex>(R"(\p{N})", w.str()),
                                    single ? Behavior::kIsolated : Behavior::kContiguous, false));
    } else if (type == "Whitespace") {
        steps.push_back(regex_split(std::make_shared<Regex>(R"(\w+|[^\w\s]+)", w.str()), Behavior::kRemoved, true));
    } else if (type == "WhitespaceSplit") {
        steps.push_back(regex_split(std::make_shared<Regex>(R"(\s+)", w.str()), Behavior::kRemoved, false));
    } else {
        HGRN_FAIL(w.str(), ": pre-tokenizer type \"", type,
                  "\" is not supported (supported: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, "
                  "WhitespaceSplit)");
    }
}

void add_normalizer(const json& j, const Where& w, std::vector<NormalizeStep>& steps) {
    if (j.is_null()) return;
    const std::string type = get_string(j, "type", w);
    if (type == "Sequence") {
        const json& list = field(j, "normalizers", w);
        HGRN_CHECK(list.is_array(), (w / "normalizers").str(), ": expected a list");
        for (size_t i = 0; i < list.size(); ++i) add_normalizer(list[i], (w / "normalizers")[i], steps);
    } else if (type == "Prepend") {
        steps.push_back([pre = get_string(j, "prepend", w)](std::string& s) {
            if (!s.empty()) s = pre + s;
        });
    } else if (type == "Replace") {
        const Pattern pat = get_pattern(j, w);
        const std::string content = get_string(j, "content", w);
        if (!pat.regex) {
            steps.push_back([pat, content](std::string& s) { replace_all(s, pat.text, content); });
        } else {
            auto re = std::make_shared<Regex>(pat.text, (w / "pattern").str());
            steps.push_back([re, content](std::string& s) {
                std::string out;
                size_t at = 0;
                for (const auto& m : re->find_all(s)) out.append(s, at, m.begin - at).append(content), at = m.end;
                s = out.append(s, at, std::string::npos);
            });
        }
    } else {
        HGRN_FAIL(w.str(), ": normalizer type \"", type,
                  "\" is not supported (supported: Sequence, Prepend, Replace; no Unicode normalization)");
    }
}

}  // namespace

const std::string& byte_level_char(uint8_t b) { return byte_level_map().chars[b]; }

int byte_level_byte(char32_t c) { return c < 0x144 ? byte_level_map().bytes[c] : -1; }

std::vector<NormalizeStep> parse_normalizer(const json& j, const Where& w) {
    std::vector<NormalizeStep> steps;
    add_normalizer(j, w, steps);
    return steps;
}

std::vector<PreTokenizeStep> parse_pre_tokenizer(const json& j, const Where& w) {
    std::vector<PreTokenizeStep> steps;
    add_pre_tokenizer(j, w, steps);
    return steps;
}

}  // namespace hgrn::hf
