// hf_folder.cpp — opening a Hugging Face model folder (single or sharded safetensors) and reading JSON files.
#include "io/hf_folder.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/check.h"

namespace hgrn {

namespace fs = std::filesystem;
using json = nlohmann::json;

json read_json_file(const fs::path& path) {
    std::error_code ec;
    HGRN_CHECK(fs::is_regular_file(path, ec), "cannot read ", path.string(), ": ",
               fs::exists(path, ec) ? "not a regular file" : "no such file");
    std::ifstream in(path, std::ios::binary);
    HGRN_CHECK(in, "cannot open ", path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    HGRN_CHECK(!in.bad(), "cannot read ", path.string());
    try {
        return json::parse(ss.str());
    } catch (const json::exception& e) {
        HGRN_FAIL(path.string(), " is not valid JSON (", e.what(), ")");
    }
}

void HfFolder::open_single(const fs::path& file) {
    files_.push_back(SafetensorsFile::open(file));
    for (const auto& n : files_.back().names()) where_[n] = 0;
    names_ = files_.back().names();
}

namespace {

// A shard name from the index must stay inside the folder: a relative path without "..".
void check_shard_name(const std::string& shard, const std::string& index) {
    const fs::path p(shard);
    bool ok = !shard.empty() && p.is_relative();
    for (const auto& part : p) ok = ok && part != "..";
    HGRN_CHECK(ok, index, ": shard file name '", shard, "' must be a relative path inside the folder");
}

}  // namespace

void HfFolder::open_index(const fs::path& index) {
    const std::string ix = index.string();
    const json j = read_json_file(index);
    HGRN_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(), ix,
               ": needs an object 'weight_map' {tensor name: shard file}");
    std::map<std::string, size_t> shard_ids;  // shard file name -> index in files_
    std::unordered_map<std::string, std::string> listed;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        HGRN_CHECK(it.value().is_string(), ix, ": weight_map entry '", it.key(), "' must be a file name string");
        const std::string shard = it.value().get<std::string>();
        check_shard_name(shard, ix);
        if (!shard_ids.count(shard)) {
            shard_ids[shard] = files_.size();
            files_.push_back(SafetensorsFile::open(dir_ / shard));
        }
        const size_t f = shard_ids[shard];
        HGRN_CHECK(files_[f].has(it.key()), ix, ": tensor '", it.key(), "' is listed in shard ", shard,
                   " but that file does not hold it");
        where_[it.key()] = f;
        listed[it.key()] = shard;
    }
    for (const auto& [shard, f] : shard_ids)
        for (const auto& n : files_[f].names()) {
            auto it = listed.find(n);
            HGRN_CHECK(it != listed.end(), ix, ": shard ", shard, " holds tensor '", n,
                       "' which the index does not list");
            HGRN_CHECK(it->second == shard, ix, ": tensor '", n, "' is in shard ", shard, " and listed in ",
                       it->second);
        }
    for (const auto& kv : where_) names_.push_back(kv.first);
    std::sort(names_.begin(), names_.end());
}

HfFolder HfFolder::open(const fs::path& path) {
    std::error_code ec;
    HfFolder h;
    if (fs::is_regular_file(path, ec)) {
        h.dir_ = path.has_parent_path() ? path.parent_path() : fs::path(".");
        h.open_single(path);
        return h;
    }
    HGRN_CHECK(fs::is_directory(path, ec), "model folder ", path.string(), " does not exist");
    h.dir_ = path;
    const fs::path single = path / "model.safetensors", index = path / "model.safetensors.index.json";
    if (fs::exists(single, ec)) {
        h.open_single(single);
    } else if (fs::exists(index, ec)) {
        h.sharded_ = true;
        h.open_index(index);
    } else {
        const bool pt = fs::exists(path / "pytorch_model.bin", ec) || fs::exists(path / "pytorch_model.bin.index.json", ec);
        HGRN_FAIL("model folder ", path.string(), " has neither model.safetensors nor model.safetensors.index.json",
                  pt ? " (it has PyTorch .bin weights: convert them to safetensors first)" : "");
    }
    return h;
}

const SafetensorsFile& HfFolder::file_of(const std::string& name) const {
    auto it = where_.find(name);
    HGRN_CHECK(it != where_.end(), "model folder ", dir_.string(), ": no tensor '", name, "'");
    return files_[it->second];
}

}  // namespace hgrn
