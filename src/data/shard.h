// shard.h — token shards: a flat file of token ids with a small header, written atomically, read by mmap.
//
// File layout (all integers little-endian; header 40 bytes, then the payload):
//     offset  0  char[8]  magic "HGRNTOK1"
//     offset  8  u32      version (kShardVersion = 1)
//     offset 12  u32      token width in bytes: 2 (vocab ≤ 65536) or 4
//     offset 16  u64      token count n (> 0)
//     offset 24  u64      vocabulary size V (every token id < V)
//     offset 32  u32      CRC-32 (zlib's) of the payload bytes
//     offset 36  u32      reserved, 0
//     offset 40  n × width bytes: the token ids, unsigned little-endian
// The file size must be exactly 40 + n·width. Opening a shard checks all of it (magic, version, width, size,
// checksum, every id < V) in one pass and names the file in every error, so a corrupt shard never reaches
// training. Tokens are read back as int64 (the embedding op's id type).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hgrn {

inline constexpr char kShardMagic[8] = {'H', 'G', 'R', 'N', 'T', 'O', 'K', '1'};
inline constexpr uint32_t kShardVersion = 1;
inline constexpr int64_t kShardHeaderBytes = 40;

// Smallest width (2 or 4 bytes) able to hold every id below vocab_size.
int shard_width_for_vocab(int64_t vocab_size);

// Streaming writer: tokens go to "<path>.tmp"; finish() writes the header, fsyncs and renames to <path>.
// Destroying an unfinished writer removes the temporary file (the old <path>, if any, stays untouched).
class TokenShardWriter {
  public:
    TokenShardWriter(std::string path, int64_t vocab_size, int width = 0);  // width 0: shard_width_for_vocab
    ~TokenShardWriter();
    TokenShardWriter(const TokenShardWriter&) = delete;
    TokenShardWriter& operator=(const TokenShardWriter&) = delete;

    void append(std::span<const int64_t> tokens);  // each id in [0, vocab_size), else an error naming it
    int64_t count() const { return count_; }
    void finish();  // an empty shard is an error

  private:
    void flush_buffer();
    std::string path_, tmp_path_;
    int64_t vocab_size_ = 0;
    int width_ = 0;
    int64_t count_ = 0;
    uint32_t crc_ = 0;
    size_t payload_on_disk_ = 0;  // bytes of tokens already written after the header
    int fd_ = -1;
    std::vector<unsigned char> buffer_;
};

// Writes tokens to path in one call (atomic, like the writer).
void write_token_shard(const std::string& path, std::span<const int64_t> tokens, int64_t vocab_size, int width = 0);

struct ShardOpenOptions {
    bool verify_checksum = true;  // CRC-32 over the payload
    bool verify_ids = true;       // every id < vocab_size (the position of the first bad one is named)
};

// Read-only memory-mapped shard. Move-only.
class TokenShard {
  public:
    TokenShard() = default;
    explicit TokenShard(const std::string& path, ShardOpenOptions options = {});
    ~TokenShard();
    TokenShard(TokenShard&& o) noexcept;
    TokenShard& operator=(TokenShard&& o) noexcept;
    TokenShard(const TokenShard&) = delete;
    TokenShard& operator=(const TokenShard&) = delete;

    const std::string& path() const { return path_; }
    int64_t size() const { return count_; }
    int64_t vocab_size() const { return vocab_size_; }
    int width() const { return width_; }
    int64_t operator[](int64_t i) const;              // bounds-checked
    void read(int64_t begin, int64_t n, int64_t* out) const;  // tokens [begin, begin + n) as int64
    std::vector<int64_t> read_all() const;

  private:
    void release();
    std::string path_;
    void* map_ = nullptr;
    size_t map_bytes_ = 0;
    const unsigned char* payload_ = nullptr;
    int64_t count_ = 0, vocab_size_ = 0;
    int width_ = 0;
};

}  // namespace hgrn
