// hf_decoders.cpp — tokenizer.json decoders (see hf_pipeline.h). Each step maps the list of token strings:
//   ByteLevel:    all tokens → one string of the bytes their stand-in characters mean (a token with a character
//                 outside the alphabet keeps its own bytes); bytes that are not UTF-8 become U+FFFD;
//   ByteFallback: runs of "<0xXX>" tokens → their bytes if those are UTF-8, else one U+FFFD per byte;
//   Fuse:         all tokens → one;   Strip: drop `start` leading / `stop` trailing `content` of each token;
//   Replace:      pattern → content in each token;   Metaspace: replacement → ' ', minus the first token's
//                 leading space when a prefix was prepended;   BPEDecoder: suffix → ' ' (→ '' on the last token).
#include <memory>

#include "tokenizer/hf_pipeline.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace hgrn::hf {
namespace {

void replace_in(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    size_t at = 0;
    for (size_t k = s.find(from); k != std::string::npos; k = s.find(from, at)) {
        out.append(s, at, k - at).append(to);
        at = k + from.size();
    }
    s = out.append(s, at, std::string::npos);
}

void byte_level_decode(std::vector<std::string>& tokens) {
    std::string bytes;
    for (const std::string& t : tokens) {
        const auto cps = utf8::decode(t);
        std::string mapped;
        bool all = true;
        for (const char32_t c : cps) {
            const int b = byte_level_byte(c);
            if (b < 0) {
                all = false;
                break;
            }
            mapped.push_back(static_cast<char>(b));
        }
        bytes += all ? mapped : t;
    }
    tokens.assign(1, utf8::repair(bytes));
}

int byte_token(const std::string& t) {  // "<0xXX>" -> XX, else -1
    if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; ++i) {
        const char c = t[i];
        const int d = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                             : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void byte_fallback_decode(std::vector<std::string>& tokens) {
    std::vector<std::string> out;
    std::string run;
    auto flush = [&] {
        if (run.empty()) return;
        if (utf8::is_valid(run)) {
            out.push_back(run);
        } else {
            std::string rep;
            for (size_t i = 0; i < run.size(); ++i) rep += utf8::kReplacement;
            out.push_back(rep);
        }
        run.clear();
    };
    for (std::string& t : tokens) {
        if (const int b = byte_token(t); b >= 0) {
            run.push_back(static_cast<char>(b));
            continue;
        }
        flush();
        out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
}

DecodeStep strip_step(const json& j, const Where& w) {
    const std::string content = get_string(j, "content", w);
    const int64_t start = get_int(j, "start", w), stop = get_int(j, "stop", w);
    HGRN_CHECK(!content.empty() && start >= 0 && stop >= 0, w.str(), ": bad Strip decoder");
    return [content, start, stop](std::vector<std::string>& tokens) {
        for (std::string& t : tokens) {
            size_t b = 0, e = t.size();
            for (int64_t k = 0; k < start && t.compare(b, content.size(), content) == 0 && b + content.size() <= e; ++k)
                b += content.size();
            for (int64_t k = 0;
                 k < stop && e >= b + content.size() && t.compare(e - content.size(), content.size(), content) == 0;
                 ++k)
                e -= content.size();
            t = t.substr(b, e - b);
        }
    };
}

DecodeStep metaspace_decode_step(const json& j, const Where& w) {
    const std::string rep = get_string_or(j, "replacement", "\xE2\x96\x81", w);
    std::string scheme = get_bool_or(j, "add_prefix_space", true, w) ? "always" : "never";
    scheme = get_string_or(j, "prepend_scheme", scheme, w);
    const bool strip_first = scheme != "never";
    return [rep, strip_first](std::vector<std::string>& tokens) {
        for (size_t i = 0; i < tokens.size(); ++i) {
            replace_in(tokens[i], rep, " ");
            if (i == 0 && strip_first && tokens[i].starts_with(' ')) tokens[i].erase(0, 1);
        }
    };
}

void add_decoder(const json& j, const Where& w, std::vector<DecodeStep>& steps) {
    if (j.is_null()) return;
    const std::string type = get_string(j, "type", w);
    if (type == "Sequence") {
        const json& list = field(j, "decoders", w);
        HGRN_CHECK(list.is_array(), (w / "decoders").str(), ": expected a list");
        for (size_t i = 0; i < list.size(); ++i) add_decoder(list[i], (w / "decoders")[i], steps);
    } else if (type == "ByteLevel") {
        steps.push_back(byte_level_decode);
    } else if (type == "ByteFallback") {
        steps.push_back(byte_fallback_decode);
    } else if (type == "Fuse") {
        steps.push_back([](std::vector<std::string>& tokens) {
            std::string all;
            for (const std::string& t : tokens) all += t;
            tokens.assign(1, std::move(all));
        });
    } else if (type == "Strip") {
        steps.push_back(strip_step(j, w));
    } else if (type == "Replace") {
        const Pattern pat = get_pattern(j, w);
        const std::string content = get_string(j, "content", w);
        if (!pat.regex) {
            steps.push_back([pat, content](std::vector<std::string>& tokens) {
                for (std::string& t : tokens) replace_in(t, pat.text, content);
            });
        } else {
            auto re = std::make_shared<Regex>(pat.text, (w / "pattern").str());
            steps.push_back([re, content](std::vector<std::string>& tokens) {
                for (std::string& t : tokens) {
                    std::string out;
                    size_t at = 0;
                    for (const auto& m : re->find_all(t)) out.append(t, at, m.begin - at).append(content), at = m.end;
                    t = out.append(t, at, std::string::npos);
                }
            });
        }
    } else if (type == "Metaspace") {
        steps.push_back(metaspace_decode_step(j, w));
    } else if (type == "BPEDecoder") {
        steps.push_back([suffix = get_string_or(j, "suffix", "</w>", w)](std::vector<std::string>& tokens) {
            for (size_t i = 0; i < tokens.size(); ++i) replace_in(tokens[i], suffix, i + 1 == tokens.size() ? "" : " ");
        });
    } else {
        HGRN_FAIL(w.str(), ": decoder type \"", type,
                  "\" is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, "
                  "Metaspace, BPEDecoder)");
    }
}

}  // namespace

std::vector<DecodeStep> parse_decoder(const json& j, const Where& w) {
    std::vector<DecodeStep> steps;
    add_decoder(j, w, steps);
    return steps;
}

}  // namespace hgrn::hf
