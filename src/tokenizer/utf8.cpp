// utf8.cpp — UTF-8 validation, repair and code point conversion (the byte ranges are in utf8.h).
#include "tokenizer/utf8.h"

namespace hgrn::utf8 {
namespace {

struct Scan {
    size_t matched = 0;  // bytes from i that follow the well-formed pattern (0 if s[i] cannot start one)
    size_t need = 1;     // length of the sequence s[i] announces
};

// Allowed range of the second byte for each lead byte; later bytes are always 80..BF.
Scan scan(std::string_view s, size_t i) {
    const auto b = static_cast<uint8_t>(s[i]);
    Scan r;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
        r.matched = 1;
        return r;
    } else if (b >= 0xC2 && b <= 0xDF) {
        r.need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        r.need = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        r.need = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return r;  // 80..C1 or F5..FF: never a lead byte
    }
    r.matched = 1;
    for (size_t k = 1; k < r.need && i + k < s.size(); ++k) {
        const auto c = static_cast<uint8_t>(s[i + k]);
        if (c < lo || c > hi) break;
        r.matched = k + 1;
        lo = 0x80, hi = 0xBF;
    }
    return r;
}

}  // namespace

size_t sequence_length(std::string_view s, size_t i) {
    if (i >= s.size()) return 0;
    const Scan r = scan(s, i);
    return r.matched == r.need ? r.need : 0;
}

size_t first_invalid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const size_t n = sequence_length(s, i);
        if (n == 0) return i;
        i += n;
    }
    return s.size();
}

size_t incomplete_tail(std::string_view s) {
    for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
        const Scan r = scan(s, s.size() - k);
        if (r.matched == k && k < r.need) return k;
    }
    return 0;
}

std::string repair(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const Scan r = scan(s, i);
        if (r.matched == r.need) {
            out.append(s.substr(i, r.need));
            i += r.need;
        } else {
            out.append(kReplacement);
            i += r.matched > 0 ? r.matched : 1;
        }
    }
    return out;
}

void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::vector<char32_t> decode(std::string_view s) {
    std::vector<char32_t> cps;
    cps.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<uint8_t>(s[i]);
        const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
        for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
        cps.push_back(cp);
        i += n;
    }
    return cps;
}

std::vector<std::string_view> split_chars(std::string_view s) {
    std::vector<std::string_view> chars;
    chars.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<uint8_t>(s[i]);
        const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        chars.push_back(s.substr(i, n));
        i += n;
    }
    return chars;
}

}  // namespace hgrn::utf8
