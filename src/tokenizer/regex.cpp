// regex.cpp — the PCRE2 wrapper: compile once (UTF | UCP, JIT if available), match left to right.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "core/check.h"

namespace hgrn {
namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    const int n = pcre2_get_error_message(code, buf, sizeof buf);
    return n > 0 ? std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n))
                 : "error " + std::to_string(code);
}

struct MatchData {
    explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {
        HGRN_CHECK(md != nullptr, "PCRE2: out of memory for match data");
    }
    ~MatchData() { pcre2_match_data_free(md); }
    pcre2_match_data* md;
};

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view where) : pattern_(pattern) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    HGRN_CHECK(code != nullptr, where, ": the pattern ", pattern_, " does not compile (at offset ", offset,
               "): ", pcre2_message(err));
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // failure is fine: pcre2_match then interprets
    code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<Regex::Match> Regex::find_all(std::string_view subject) const {
    const auto* code = static_cast<const pcre2_code*>(code_);
    MatchData data(code);
    std::vector<Match> out;
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    size_t start = 0;
    while (start <= subject.size()) {
        const int rc = pcre2_match(code, s, subject.size(), start, PCRE2_NO_UTF_CHECK, data.md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        HGRN_CHECK(rc >= 0, "regex ", pattern_, ": matching failed: ", pcre2_message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.md);
        const size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.push_back({b, e});
            start = e;
        } else {  // empty match: step over one character
            if (b >= subject.size()) break;
            size_t next = b + 1;
            while (next < subject.size() && (static_cast<unsigned char>(subject[next]) & 0xC0) == 0x80) ++next;
            start = next;
        }
    }
    return out;
}

}  // namespace hgrn
