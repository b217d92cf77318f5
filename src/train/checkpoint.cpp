// checkpoint.cpp — atomic training checkpoints (see checkpoint.h).
#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "io/hf_folder.h"
#include "io/safetensors.h"
#include "model/pretrained.h"

namespace hgrn {
namespace fs = std::filesystem;

fs::path checkpoint_dir(const fs::path& out_dir, int64_t step) {
    char name[32];
    std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
    return out_dir / "checkpoints" / name;
}

namespace {

void fsync_dir(const fs::path& d) {
    const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

std::vector<std::pair<int64_t, fs::path>> list_checkpoints(const fs::path& out_dir) {
    std::vector<std::pair<int64_t, fs::path>> out;
    const fs::path root = out_dir / "checkpoints";
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::directory_iterator(root)) {
        const std::string n = e.path().filename().string();
        if (!e.is_directory() || n.rfind("step-", 0) != 0) continue;
        if (!fs::exists(e.path() / "trainer_state.json")) continue;  // incomplete: never renamed into place
        out.emplace_back(std::stoll(n.substr(5)), e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

void save_checkpoint(const fs::path& out_dir, const ModelConfig& mc, const LanguageModel& m, const AdamW& opt,
                     const CheckpointState& st, int64_t keep) {
    const fs::path final_dir = checkpoint_dir(out_dir, st.step);
    std::string tmp_name = final_dir.filename().string();
    tmp_name.insert(0, 1, '.');
    tmp_name += ".tmp";
    const fs::path tmp = final_dir.parent_path() / tmp_name;
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    save_pretrained_model(tmp, mc, m);
    save_safetensors(tmp / "optimizer.safetensors", {{"m", opt.m()}, {"v", opt.v()}});
    const nlohmann::json js{{"step", st.step}, {"optimizer_steps", st.optimizer_steps}, {"train_config", st.train_config}};
    const std::string text = js.dump(2) + "\n";
    write_file_atomic(tmp / "trainer_state.json", text.data(), text.size());
    fsync_dir(tmp);
    fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    fsync_dir(final_dir.parent_path());
    auto all = list_checkpoints(out_dir);
    for (size_t i = 0; i + size_t(keep) < all.size(); ++i) fs::remove_all(all[i].second);
}

std::optional<fs::path> latest_checkpoint(const fs::path& out_dir) {
    auto all = list_checkpoints(out_dir);
    if (all.empty()) return std::nullopt;
    return all.back().second;
}

CheckpointState load_checkpoint_into(const fs::path& dir, LanguageModel& m, AdamW& opt) {
    const nlohmann::json js = read_json_file(dir / "trainer_state.json");
    CheckpointState st;
    st.step = js.at("step").get<int64_t>();
    st.optimizer_steps = js.at("optimizer_steps").get<int64_t>();
    st.train_config = js.at("train_config");
    Pretrained p = load_pretrained(dir, m.params.dtype());
    HGRN_CHECK(p.model->params.flat().numel() == m.params.flat().numel(), dir.string(),
               ": the checkpoint's model differs from the configured one");
    for (const ParamEntry& e : m.params.entries()) copy(p.model->params.get(e.name), m.params.get(e.name));
    const SafetensorsFile o = SafetensorsFile::open(dir / "optimizer.safetensors");
    opt.restore(o.view("m"), o.view("v"), st.optimizer_steps);
    return st;
}

}  // namespace hgrn
