// hf_json.h — checked field access for tokenizer.json. Every error names the file and the JSON path of the
// field ("tokenizer.json F: model.merges[3]: ..."). `Where` carries both and grows as we descend.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/check.h"

namespace hgrn::hf {

using nlohmann::json;

struct Where {
    std::string file;
    std::string path;  // JSON path, e.g. "pre_tokenizer.pretokenizers[1]"

    Where operator/(std::string_view key) const {
        return {file, path.empty() ? std::string(key) : path + "." + std::string(key)};
    }
    Where operator[](size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }
    std::string str() const { return "tokenizer.json " + file + (path.empty() ? "" : ": " + path); }
};

inline const json& field(const json& obj, std::string_view key, const Where& w) {
    HGRN_CHECK(obj.is_object(), w.str(), ": expected an object");
    const auto it = obj.find(key);
    HGRN_CHECK(it != obj.end(), w.str(), ": missing field \"", key, "\"");
    return *it;
}

inline bool has(const json& obj, std::string_view key) {
    if (!obj.is_object()) return false;
    const auto it = obj.find(key);
    return it != obj.end() && !it->is_null();
}

inline std::string get_string(const json& obj, std::string_view key, const Where& w) {
    const json& v = field(obj, key, w);
    HGRN_CHECK(v.is_string(), (w / key).str(), ": expected a string");
    return v.get<std::string>();
}

inline std::string get_string_or(const json& obj, std::string_view key, std::string fallback, const Where& w) {
    return has(obj, key) ? get_string(obj, key, w) : fallback;
}

inline bool get_bool_or(const json& obj, std::string_view key, bool fallback, const Where& w) {
    if (!has(obj, key)) return fallback;
    const json& v = obj.at(std::string(key));
    HGRN_CHECK(v.is_boolean(), (w / key).str(), ": expected true or false");
    return v.get<bool>();
}

inline int64_t get_int(const json& obj, std::string_view key, const Where& w) {
    const json& v = field(obj, key, w);
    HGRN_CHECK(v.is_number_integer(), (w / key).str(), ": expected an integer");
    return v.get<int64_t>();
}

// A "pattern" object of Replace/Split: {"String": "..."} or {"Regex": "..."}.
struct Pattern {
    bool regex = false;
    std::string text;
};
inline Pattern get_pattern(const json& obj, const Where& w) {
    const json& p = field(obj, "pattern", w);
    if (has(p, "String")) return {false, get_string(p, "String", w / "pattern")};
    if (has(p, "Regex")) return {true, get_string(p, "Regex", w / "pattern")};
    HGRN_FAIL((w / "pattern").str(), ": expected {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace hgrn::hf
