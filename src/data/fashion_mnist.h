// fashion_mnist.h — Fashion-MNIST from gzipped IDX files (Debian's dataset-fashion-mnist), and the two views
// the experiments use: a pixel sequence (784 steps, "LRA-style" sequential image) and 4×4 patches.
//
// IDX (big-endian header): images  u32 magic 2051, u32 count, u32 rows, u32 cols, then count·rows·cols u8;
//                          labels  u32 magic 2049, u32 count, then count u8 (0..9).
// Files are read through zlib (gzip, or plain IDX read as is). Errors name the file: missing, not gzip /
// corrupt stream, bad magic, truncated, trailing bytes, counts that disagree, a label > 9.
// Pixels are (N, rows·cols) uint8, row-major; views write float or int64 batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hgrn {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistClasses = 10;

struct FashionMnist {
    int64_t num_examples = 0, rows = 0, cols = 0;
    std::vector<uint8_t> pixels;  // (N, rows·cols)
    std::vector<uint8_t> labels;  // (N) in 0..9

    int64_t pixels_per_image() const { return rows * cols; }
    const uint8_t* image(int64_t i) const { return pixels.data() + i * pixels_per_image(); }
    FashionMnist slice(int64_t begin, int64_t end) const;  // examples [begin, end), e.g. a validation split
};

// Reads an images file and a labels file; their counts must match.
FashionMnist fashion_mnist_load(const std::string& images_path, const std::string& labels_path);
// split "train" (train-images-idx3-ubyte.gz, 60000) or "test" (t10k-*, 10000) from dir.
FashionMnist fashion_mnist_load_split(const std::string& split, const std::string& dir = kFashionMnistDir);
// Whether the four files of the package are present in dir.
bool fashion_mnist_available(const std::string& dir = kFashionMnistDir);

// Raw IDX readers (exposed for tests): images (count, rows, cols, bytes) and labels.
struct IdxImages {
    int64_t count = 0, rows = 0, cols = 0;
    std::vector<uint8_t> data;
};
IdxImages idx_read_images(const std::string& path);
std::vector<uint8_t> idx_read_labels(const std::string& path);

enum class PixelScale {
    unit,      // x / 255 in [0, 1]
    standard,  // (x / 255 − 0.2860) / 0.3530, Fashion-MNIST's training mean and std
};

// Pixel sequence as floats: out (B, rows·cols, 1) — one feature per step.
void fashion_mnist_pixel_sequence(const FashionMnist& d, const int64_t* idx, int64_t batch, PixelScale scale,
                                  float* out);
// Pixel sequence as token ids 0..255: out (B, rows·cols), for an embedding of 256 entries.
void fashion_mnist_pixel_tokens(const FashionMnist& d, const int64_t* idx, int64_t batch, int64_t* out);
// Non-overlapping patch × patch tiles in row-major tile order, each flattened row-major:
// out (B, (rows/patch)·(cols/patch), patch·patch); 4×4 on 28×28 → (B, 49, 16). patch must divide rows, cols.
void fashion_mnist_patches(const FashionMnist& d, const int64_t* idx, int64_t batch, int patch, PixelScale scale,
                           float* out);
// Labels of the examples idx as int64 (B).
void fashion_mnist_labels(const FashionMnist& d, const int64_t* idx, int64_t batch, int64_t* out);

}  // namespace hgrn
