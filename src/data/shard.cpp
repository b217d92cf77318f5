// shard.cpp — token shard writer (tmp + fsync + rename) and mmap reader with full validation at open.
// Layout in shard.h. Little-endian hosts only (checked at compile time); ids are stored unsigned.
#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/check.h"

namespace hgrn {

static_assert(std::endian::native == std::endian::little, "token shards assume a little-endian host");

namespace {

constexpr size_t kWriteBufferBytes = size_t(1) << 20;

struct ShardHeader {
    char magic[8];
    uint32_t version;
    uint32_t width;
    uint64_t count;
    uint64_t vocab_size;
    uint32_t crc;
    uint32_t reserved;
};
static_assert(sizeof(ShardHeader) == kShardHeaderBytes);

uint32_t crc_update(uint32_t crc, const unsigned char* p, size_t n) {
    return uint32_t(crc32_z(crc, p, n));
}

void write_all(int fd, const void* data, size_t n, size_t offset, const std::string& path) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = pwrite(fd, p, n, off_t(offset));
        if (w < 0 && errno == EINTR) continue;
        HGRN_CHECK(w > 0, path, ": write failed: ", std::strerror(errno));
        p += w, n -= size_t(w), offset += size_t(w);
    }
}

void fsync_parent_dir(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

}  // namespace

int shard_width_for_vocab(int64_t vocab_size) {
    HGRN_CHECK(vocab_size > 0 && vocab_size <= (int64_t(1) << 32), "token shard: vocab_size must be in [1, 2^32], got ",
               vocab_size);
    return vocab_size <= 65536 ? 2 : 4;
}

// ---------------------------------------------------------------------------------------------- writer

TokenShardWriter::TokenShardWriter(std::string path, int64_t vocab_size, int width)
    : path_(std::move(path)), tmp_path_(path_ + ".tmp"), vocab_size_(vocab_size) {
    const int need = shard_width_for_vocab(vocab_size);
    width_ = width == 0 ? need : width;
    HGRN_CHECK(width_ == 2 || width_ == 4, path_, ": token width must be 2 or 4 bytes, got ", width_);
    HGRN_CHECK(width_ >= need, path_, ": token width ", width_, " cannot hold ids below vocab_size ", vocab_size);
    fd_ = open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    HGRN_CHECK(fd_ >= 0, tmp_path_, ": cannot create: ", std::strerror(errno));
    buffer_.reserve(kWriteBufferBytes);
}

TokenShardWriter::~TokenShardWriter() {
    if (fd_ >= 0) {
        close(fd_);
        unlink(tmp_path_.c_str());
    }
}

void TokenShardWriter::append(std::span<const int64_t> tokens) {
    HGRN_CHECK(fd_ >= 0, path_, ": append after finish");
    for (size_t i = 0; i < tokens.size(); ++i) {
        const int64_t t = tokens[i];
        HGRN_CHECK(t >= 0 && t < vocab_size_, path_, ": token id ", t, " at position ", count_ + int64_t(i),
                   " is outside [0, vocab_size ", vocab_size_, ")");
        unsigned char bytes[4];
        const uint32_t u = uint32_t(t);
        std::memcpy(bytes, &u, 4);
        buffer_.insert(buffer_.end(), bytes, bytes + width_);
        if (buffer_.size() >= kWriteBufferBytes) flush_buffer();
    }
    count_ += int64_t(tokens.size());
}

void TokenShardWriter::flush_buffer() {
    if (buffer_.empty()) return;
    crc_ = crc_update(crc_, buffer_.data(), buffer_.size());
    write_all(fd_, buffer_.data(), buffer_.size(), size_t(kShardHeaderBytes) + payload_on_disk_, tmp_path_);
    payload_on_disk_ += buffer_.size();
    buffer_.clear();
}

void TokenShardWriter::finish() {
    HGRN_CHECK(fd_ >= 0, path_, ": finish called twice");
    HGRN_CHECK(count_ > 0, path_, ": refusing to write an empty token shard (no tokens appended)");
    flush_buffer();
    ShardHeader h{};
    std::memcpy(h.magic, kShardMagic, 8);
    h.version = kShardVersion;
    h.width = uint32_t(width_);
    h.count = uint64_t(count_);
    h.vocab_size = uint64_t(vocab_size_);
    h.crc = crc_;
    write_all(fd_, &h, sizeof h, 0, tmp_path_);
    HGRN_CHECK(fsync(fd_) == 0, tmp_path_, ": fsync failed: ", std::strerror(errno));
    close(fd_);
    fd_ = -1;
    HGRN_CHECK(std::rename(tmp_path_.c_str(), path_.c_str()) == 0, path_, ": rename from ", tmp_path_,
               " failed: ", std::strerror(errno));
    fsync_parent_dir(path_);
}

void write_token_shard(const std::string& path, std::span<const int64_t> tokens, int64_t vocab_size, int width) {
    TokenShardWriter w(path, vocab_size, width);
    w.append(tokens);
    w.finish();
}

// ---------------------------------------------------------------------------------------------- reader

namespace {

// Header checks that need only the header and the file size.
void check_shard_header(const ShardHeader& h, size_t file_bytes, const std::string& path) {
    HGRN_CHECK(std::memcmp(h.magic, kShardMagic, 8) == 0, path, ": not a token shard (wrong magic; expected \"",
               std::string(kShardMagic, 8), "\")");
    HGRN_CHECK(h.version == kShardVersion, path, ": unknown token shard version ", h.version, " (this build reads ",
               kShardVersion, ")");
    HGRN_CHECK(h.width == 2 || h.width == 4, path, ": bad token width ", h.width, " in the header (must be 2 or 4)");
    HGRN_CHECK(h.count > 0, path, ": empty token shard (token count 0 in the header)");
    HGRN_CHECK(h.vocab_size > 0 && h.vocab_size <= (uint64_t(1) << 32), path, ": bad vocab_size ", h.vocab_size,
               " in the header");
    HGRN_CHECK(h.width == 4 || h.vocab_size <= 65536, path, ": vocab_size ", h.vocab_size,
               " does not fit a 2-byte token width");
    HGRN_CHECK(h.count <= (uint64_t(1) << 56), path, ": absurd token count ", h.count, " in the header");
    const uint64_t expect = uint64_t(kShardHeaderBytes) + h.count * h.width;
    HGRN_CHECK(file_bytes == expect, path, ": truncated or corrupt token shard: the file has ", file_bytes,
               " bytes, the header says ", h.count, " tokens of ", h.width, " bytes = ", expect, " bytes");
}

template <class U>
int64_t first_id_at_least(const unsigned char* payload, int64_t n, uint64_t vocab) {
    const U* p = reinterpret_cast<const U*>(payload);
    for (int64_t i = 0; i < n; ++i)
        if (uint64_t(p[i]) >= vocab) return i;
    return -1;
}

}  // namespace

TokenShard::TokenShard(const std::string& path, ShardOpenOptions options) : path_(path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    HGRN_CHECK(fd >= 0, path, ": cannot open token shard: ", std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        close(fd);
        HGRN_FAIL(path, ": cannot stat: ", std::strerror(errno));
    }
    const size_t bytes = size_t(st.st_size);
    if (bytes < size_t(kShardHeaderBytes)) {
        close(fd);
        HGRN_FAIL(path, ": truncated token shard: ", bytes, " bytes, shorter than the ", kShardHeaderBytes,
                  "-byte header");
    }
    map_ = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    HGRN_CHECK(map_ != MAP_FAILED, path, ": mmap failed: ", std::strerror(errno));
    map_bytes_ = bytes;
    try {
        ShardHeader h;
        std::memcpy(&h, map_, sizeof h);
        check_shard_header(h, bytes, path);
        payload_ = static_cast<const unsigned char*>(map_) + kShardHeaderBytes;
        count_ = int64_t(h.count), vocab_size_ = int64_t(h.vocab_size), width_ = int(h.width);
        if (options.verify_checksum) {
            const uint32_t crc = crc_update(uint32_t(crc32_z(0, nullptr, 0)), payload_, bytes - kShardHeaderBytes);
            HGRN_CHECK(crc == h.crc, path, ": token shard checksum mismatch (payload CRC-32 ", crc, ", header says ",
                       h.crc, "): the file is corrupt");
        }
        if (options.verify_ids) {
            const int64_t bad = width_ == 2 ? first_id_at_least<uint16_t>(payload_, count_, h.vocab_size)
                                            : first_id_at_least<uint32_t>(payload_, count_, h.vocab_size);
            HGRN_CHECK(bad < 0, path, ": token id ", (*this)[bad], " at position ", bad, " is >= vocab_size ",
                       vocab_size_);
        }
    } catch (...) {
        release();
        throw;
    }
}

TokenShard::~TokenShard() { release(); }

void TokenShard::release() {
    if (map_ && map_ != MAP_FAILED) munmap(map_, map_bytes_);
    map_ = nullptr, payload_ = nullptr, map_bytes_ = 0;
    count_ = 0;
}

TokenShard::TokenShard(TokenShard&& o) noexcept { *this = std::move(o); }

TokenShard& TokenShard::operator=(TokenShard&& o) noexcept {
    if (this != &o) {
        release();
        path_ = std::move(o.path_);
        map_ = o.map_, map_bytes_ = o.map_bytes_, payload_ = o.payload_;
        count_ = o.count_, vocab_size_ = o.vocab_size_, width_ = o.width_;
        o.map_ = nullptr, o.payload_ = nullptr, o.map_bytes_ = 0, o.count_ = 0;
    }
    return *this;
}

int64_t TokenShard::operator[](int64_t i) const {
    HGRN_CHECK(i >= 0 && i < count_, path_, ": token index ", i, " out of range [0, ", count_, ")");
    if (width_ == 2) {
        uint16_t v;
        std::memcpy(&v, payload_ + size_t(i) * 2, 2);
        return v;
    }
    uint32_t v;
    std::memcpy(&v, payload_ + size_t(i) * 4, 4);
    return v;
}

void TokenShard::read(int64_t begin, int64_t n, int64_t* out) const {
    HGRN_CHECK(begin >= 0 && n >= 0 && begin + n <= count_, path_, ": read of tokens [", begin, ", ", begin + n,
               ") outside [0, ", count_, ")");
    if (width_ == 2) {
        const uint16_t* p = reinterpret_cast<const uint16_t*>(payload_) + begin;
        for (int64_t i = 0; i < n; ++i) out[i] = p[i];
    } else {
        const uint32_t* p = reinterpret_cast<const uint32_t*>(payload_) + begin;
        for (int64_t i = 0; i < n; ++i) out[i] = p[i];
    }
}

std::vector<int64_t> TokenShard::read_all() const {
    std::vector<int64_t> v(static_cast<size_t>(count_));
    read(0, count_, v.data());
    return v;
}

}  // namespace hgrn
