// io_test_util.h — helpers for the I/O and config tests: a temporary folder removed at the end of the test,
// raw file writing (to build broken files), catching an hgrn::Error's message, and the fixture folders.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/check.h"

namespace hgrn::test {

inline std::filesystem::path fixture_dir(const std::string& name) {
    return std::filesystem::path(HGRN_SHARED_DIR) / "fixtures" / "fla" / name;
}

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("hgrn_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    ASSERT_TRUE(out.good()) << "cannot write " << p;
}

inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A safetensors file: 8-byte little-endian length (header_len, or header.size() when negative), the header
// text, then data_bytes bytes of data (value i & 0xff).
inline std::string safetensors_bytes(const std::string& header, size_t data_bytes, int64_t header_len = -1) {
    const uint64_t n = header_len < 0 ? header.size() : uint64_t(header_len);
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
    s += header;
    for (size_t i = 0; i < data_bytes; ++i) s += char(i & 0xff);
    return s;
}

// The message of the hgrn::Error that f throws; records a failure when it throws nothing.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const hgrn::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an hgrn::Error, none was thrown";
    return "";
}

}  // namespace hgrn::test

// Expects `msg` to contain `part`.
#define HGRN_EXPECT_MSG(msg, part) EXPECT_NE(std::string(msg).find(part), std::string::npos) << (msg)
