// utf8.h — the UTF-8 helpers the tokenizers share.
// A well-formed sequence (RFC 3629): 1 byte 00..7F; 2 bytes C2..DF 80..BF; 3 bytes E0 A0..BF | E1..EC 80..BF |
// ED 80..9F | EE..EF 80..BF, then 80..BF; 4 bytes F0 90..BF | F1..F3 80..BF | F4 80..8F, then 2 × 80..BF.
// No overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hgrn::utf8 {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed sequence starting at s[i], or 0 if the bytes there are not one.
size_t sequence_length(std::string_view s, size_t i);
// Offset of the first byte that is not part of a well-formed sequence; s.size() when all of s is valid.
size_t first_invalid(std::string_view s);
inline bool is_valid(std::string_view s) { return first_invalid(s) == s.size(); }
// Length of a trailing proper prefix of a well-formed sequence (a character cut short, that more bytes
// could complete); 0 if s ends on a character boundary or ends in bytes that no continuation can fix.
size_t incomplete_tail(std::string_view s);
// s with each maximal ill-formed subpart replaced by U+FFFD (the Unicode "substitution of maximal subparts").
std::string repair(std::string_view s);

// Appends the UTF-8 encoding of code point cp (< 0x110000, not a surrogate).
void append(std::string& out, char32_t cp);
// Code points of valid UTF-8 text (the caller checked is_valid).
std::vector<char32_t> decode(std::string_view s);
// Splits valid UTF-8 text into its characters (views into s).
std::vector<std::string_view> split_chars(std::string_view s);

}  // namespace hgrn::utf8
