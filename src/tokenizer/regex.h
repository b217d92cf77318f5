// regex.h — a compiled PCRE2 pattern (UTF + UCP: \s, \p{L}, \w are Unicode-aware), JIT-compiled when the
// platform allows. Used for the pre-tokenizer split patterns of tokenizer.json (GPT-2's, Llama-3's).
// A compiled pattern is read-only after construction; matching allocates its own match data, so one Regex
// may be used by several threads at once. Subjects must be valid UTF-8 (the tokenizers check it first).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hgrn {

class Regex {
  public:
    // `where` names the file and field for the error when the pattern does not compile.
    Regex(std::string_view pattern, std::string_view where);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    struct Match {
        size_t begin, end;  // byte offsets into the subject
    };
    // All non-overlapping non-empty matches, left to right.
    std::vector<Match> find_all(std::string_view subject) const;
    const std::string& pattern() const { return pattern_; }

  private:
    std::string pattern_;
    void* code_ = nullptr;  // pcre2_code_8*, kept opaque so that pcre2.h stays out of our headers
};

// The byte-level pre-tokenizer's pattern (GPT-2): contractions, letters, numbers, other symbols, each with an
// optional leading space, then whitespace runs (the last whitespace before a non-space is left to the word).
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace hgrn
