// fashion_mnist.cpp — gzipped IDX readers (zlib) and the pixel-sequence / patch views; see the header.
#include "data/fashion_mnist.h"

#include <zlib.h>

#include <filesystem>

#include "core/check.h"

namespace hgrn {

namespace {

constexpr uint32_t kIdxImagesMagic = 2051, kIdxLabelsMagic = 2049;
constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;

// The whole (decompressed) content of a gzip or plain file.
std::vector<uint8_t> read_gz_file(const std::string& path) {
    HGRN_CHECK(std::filesystem::is_regular_file(path), path, ": file not found",
               " (Fashion-MNIST comes from the Debian package dataset-fashion-mnist; run scripts/setup.sh)");
    gzFile f = gzopen(path.c_str(), "rb");
    HGRN_CHECK(f != nullptr, path, ": cannot open");
    std::vector<uint8_t> out;
    std::vector<uint8_t> chunk(size_t(1) << 20);
    for (;;) {
        const int n = gzread(f, chunk.data(), unsigned(chunk.size()));
        if (n < 0) {
            int err = 0;
            const std::string msg = gzerror(f, &err);
            gzclose(f);
            HGRN_FAIL(path, ": corrupt gzip stream: ", msg);
        }
        if (n == 0) break;
        out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    }
    int err = Z_OK;
    const std::string msg = gzerror(f, &err);
    gzclose(f);
    HGRN_CHECK(err == Z_OK || err == Z_STREAM_END, path, ": corrupt or truncated gzip stream: ", msg);
    return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
    return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

float scale_pixel(uint8_t x, PixelScale s) {
    const float u = float(x) * (1.0f / 255.0f);
    return s == PixelScale::unit ? u : (u - kFashionMean) / kFashionStd;
}

}  // namespace

IdxImages idx_read_images(const std::string& path) {
    const std::vector<uint8_t> b = read_gz_file(path);
    HGRN_CHECK(b.size() >= 16, path, ": truncated IDX image file (", b.size(), " bytes, header is 16)");
    const uint32_t magic = be32(b, 0);
    HGRN_CHECK(magic == kIdxImagesMagic, path, ": bad IDX magic ", magic, " (images have ", kIdxImagesMagic,
               magic == kIdxLabelsMagic ? "; this is a labels file)" : ")");
    IdxImages im;
    im.count = be32(b, 4), im.rows = be32(b, 8), im.cols = be32(b, 12);
    HGRN_CHECK(im.rows > 0 && im.cols > 0 && im.rows <= 4096 && im.cols <= 4096, path, ": bad image size ", im.rows,
               "x", im.cols, " in the IDX header");
    const uint64_t want = 16 + uint64_t(im.count) * uint64_t(im.rows * im.cols);
    HGRN_CHECK(b.size() >= want, path, ": truncated IDX image file: header says ", im.count, " images of ", im.rows,
               "x", im.cols, " (", want, " bytes), the file has ", b.size());
    HGRN_CHECK(b.size() == want, path, ": ", b.size() - want, " trailing bytes after ", im.count, " images");
    im.data.assign(b.begin() + 16, b.end());
    return im;
}

std::vector<uint8_t> idx_read_labels(const std::string& path) {
    const std::vector<uint8_t> b = read_gz_file(path);
    HGRN_CHECK(b.size() >= 8, path, ": truncated IDX label file (", b.size(), " bytes, header is 8)");
    const uint32_t magic = be32(b, 0);
    HGRN_CHECK(magic == kIdxLabelsMagic, path, ": bad IDX magic ", magic, " (labels have ", kIdxLabelsMagic,
               magic == kIdxImagesMagic ? "; this is an images file)" : ")");
    const uint64_t count = be32(b, 4);
    HGRN_CHECK(b.size() >= 8 + count, path, ": truncated IDX label file: header says ", count, " labels, the file has ",
               b.size() - 8);
    HGRN_CHECK(b.size() == 8 + count, path, ": ", b.size() - 8 - count, " trailing bytes after ", count, " labels");
    std::vector<uint8_t> labels(b.begin() + 8, b.end());
    for (size_t i = 0; i < labels.size(); ++i)
        HGRN_CHECK(labels[i] < kFashionMnistClasses, path, ": label ", int(labels[i]), " at index ", i,
                   " is not a class in 0..9");
    return labels;
}

FashionMnist fashion_mnist_load(const std::string& images_path, const std::string& labels_path) {
    IdxImages im = idx_read_images(images_path);
    std::vector<uint8_t> labels = idx_read_labels(labels_path);
    HGRN_CHECK(int64_t(labels.size()) == im.count, labels_path, ": ", labels.size(), " labels, but ", images_path,
               " has ", im.count, " images");
    FashionMnist d;
    d.num_examples = im.count, d.rows = im.rows, d.cols = im.cols;
    d.pixels = std::move(im.data);
    d.labels = std::move(labels);
    return d;
}

FashionMnist fashion_mnist_load_split(const std::string& split, const std::string& dir) {
    HGRN_CHECK(split == "train" || split == "test", "fashion-mnist: split must be \"train\" or \"test\", got \"",
               split, "\"");
    const std::string stem = split == "train" ? "train" : "t10k";
    return fashion_mnist_load(dir + "/" + stem + "-images-idx3-ubyte.gz", dir + "/" + stem + "-labels-idx1-ubyte.gz");
}

bool fashion_mnist_available(const std::string& dir) {
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                          "t10k-labels-idx1-ubyte.gz"})
        if (!std::filesystem::is_regular_file(dir + "/" + f)) return false;
    return true;
}

FashionMnist FashionMnist::slice(int64_t begin, int64_t end) const {
    HGRN_CHECK(0 <= begin && begin <= end && end <= num_examples, "fashion-mnist: slice [", begin, ", ", end,
               ") outside [0, ", num_examples, ")");
    FashionMnist s;
    s.num_examples = end - begin, s.rows = rows, s.cols = cols;
    s.pixels.assign(image(begin), image(begin) + s.num_examples * pixels_per_image());
    s.labels.assign(labels.begin() + begin, labels.begin() + end);
    return s;
}

namespace {
const uint8_t* checked_image(const FashionMnist& d, int64_t i) {
    HGRN_CHECK(i >= 0 && i < d.num_examples, "fashion-mnist: example index ", i, " out of range [0, ", d.num_examples,
               ")");
    return d.image(i);
}
}  // namespace

void fashion_mnist_pixel_sequence(const FashionMnist& d, const int64_t* idx, int64_t batch, PixelScale scale,
                                  float* out) {
    const int64_t P = d.pixels_per_image();
    for (int64_t b = 0; b < batch; ++b) {
        const uint8_t* im = checked_image(d, idx[b]);
        for (int64_t p = 0; p < P; ++p) out[b * P + p] = scale_pixel(im[p], scale);
    }
}

void fashion_mnist_pixel_tokens(const FashionMnist& d, const int64_t* idx, int64_t batch, int64_t* out) {
    const int64_t P = d.pixels_per_image();
    for (int64_t b = 0; b < batch; ++b) {
        const uint8_t* im = checked_image(d, idx[b]);
        for (int64_t p = 0; p < P; ++p) out[b * P + p] = im[p];
    }
}

void fashion_mnist_patches(const FashionMnist& d, const int64_t* idx, int64_t batch, int patch, PixelScale scale,
                           float* out) {
    HGRN_CHECK(patch > 0 && d.rows % patch == 0 && d.cols % patch == 0, "fashion-mnist: patch size ", patch,
               " must divide the image size ", d.rows, "x", d.cols);
    const int64_t tr = d.rows / patch, tc = d.cols / patch, F = int64_t(patch) * patch;
    for (int64_t b = 0; b < batch; ++b) {
        const uint8_t* im = checked_image(d, idx[b]);
        float* o = out + b * tr * tc * F;
        for (int64_t ty = 0; ty < tr; ++ty)
            for (int64_t tx = 0; tx < tc; ++tx)
                for (int64_t y = 0; y < patch; ++y)
                    for (int64_t x = 0; x < patch; ++x)
                        o[(ty * tc + tx) * F + y * patch + x] =
                            scale_pixel(im[(ty * patch + y) * d.cols + tx * patch + x], scale);
    }
}

void fashion_mnist_labels(const FashionMnist& d, const int64_t* idx, int64_t batch, int64_t* out) {
    for (int64_t b = 0; b < batch; ++b) {
        checked_image(d, idx[b]);
        out[b] = d.labels[size_t(idx[b])];
    }
}

}  // namespace hgrn
