// fashion_mnist_test.cpp — the real files when the package is installed (60000/10000, labels 0..9), small
// IDX files written here (plain and gzipped) for the views, and every broken-file error naming the file.
#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "core/rng.h"
#include "data/fashion_mnist.h"
#include "data/temp_dir.h"

using namespace hgrn;
using hgrn::test::expect_error;
using hgrn::test::TempDir;
using hgrn::test::write_gz;

namespace {

void put_be32(std::vector<unsigned char>& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

std::vector<unsigned char> idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint64_t seed,
                                      uint32_t magic = 2051) {
    std::vector<unsigned char> b;
    put_be32(b, magic);
    put_be32(b, count);
    put_be32(b, rows);
    put_be32(b, cols);
    Rng rng(seed);
    for (uint64_t i = 0; i < uint64_t(count) * rows * cols; ++i) b.push_back(static_cast<unsigned char>(rng.below(256)));
    return b;
}

std::vector<unsigned char> idx_labels(uint32_t count, uint32_t magic = 2049) {
    std::vector<unsigned char> b;
    put_be32(b, magic);
    put_be32(b, count);
    for (uint32_t i = 0; i < count; ++i) b.push_back(static_cast<unsigned char>((i * 7) % 10));
    return b;
}

}  // namespace

TEST(FashionMnist, RealFilesWhenInstalled) {
    if (!fashion_mnist_available()) GTEST_SKIP() << "dataset-fashion-mnist not installed in " << kFashionMnistDir;
    const FashionMnist train = fashion_mnist_load_split("train"), test = fashion_mnist_load_split("test");
    EXPECT_EQ(train.num_examples, 60000);
    EXPECT_EQ(test.num_examples, 10000);
    EXPECT_EQ(train.rows, 28);
    EXPECT_EQ(train.cols, 28);
    std::vector<int64_t> per_class(10);
    for (uint8_t l : train.labels) ++per_class[l];
    for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[size_t(c)], 6000) << "class " << c;  // balanced
    double mean = 0;
    for (uint8_t p : train.pixels) mean += p;
    mean /= 255.0 * double(train.pixels.size());
    EXPECT_NEAR(mean, 0.2860, 1e-3);  // the mean the 'standard' scale uses
}

TEST(FashionMnist, ViewsOnASmallFile) {
    TempDir dir;
    write_gz(dir.file("img.gz"), idx_images(3, 28, 28, 7));
    hgrn::test::write_bytes(dir.file("lab.idx"), idx_labels(3));  // plain IDX also reads
    const FashionMnist d = fashion_mnist_load(dir.file("img.gz"), dir.file("lab.idx"));
    ASSERT_EQ(d.num_examples, 3);
    EXPECT_EQ(d.labels[1], 7);
    const int64_t idx[2] = {2, 0};
    std::vector<float> seq(2 * 784), patches(2 * 49 * 16);
    std::vector<int64_t> tok(2 * 784), labels(2);
    fashion_mnist_pixel_sequence(d, idx, 2, PixelScale::unit, seq.data());
    fashion_mnist_pixel_tokens(d, idx, 2, tok.data());
    fashion_mnist_patches(d, idx, 2, 4, PixelScale::unit, patches.data());
    fashion_mnist_labels(d, idx, 2, labels.data());
    EXPECT_EQ(labels[0], 4);  // (2·7) mod 10
    for (int64_t b = 0; b < 2; ++b)
        for (int64_t y = 0; y < 28; ++y)
            for (int64_t x = 0; x < 28; ++x) {
                const uint8_t px = d.image(idx[b])[y * 28 + x];
                ASSERT_EQ(tok[b * 784 + y * 28 + x], px);
                ASSERT_FLOAT_EQ(seq[b * 784 + y * 28 + x], px / 255.0f);
                const int64_t tile = (y / 4) * 7 + x / 4, f = (y % 4) * 4 + x % 4;
                ASSERT_FLOAT_EQ(patches[(b * 49 + tile) * 16 + f], px / 255.0f);
            }
    fashion_mnist_pixel_sequence(d, idx, 1, PixelScale::standard, seq.data());
    EXPECT_NEAR(seq[0], (d.image(2)[0] / 255.0f - 0.2860f) / 0.3530f, 1e-6);
    expect_error([&] { fashion_mnist_patches(d, idx, 1, 5, PixelScale::unit, patches.data()); }, {"patch size 5"});
    const int64_t bad = 3;
    expect_error([&] { fashion_mnist_pixel_tokens(d, &bad, 1, tok.data()); }, {"index 3"});
    const FashionMnist s = d.slice(1, 3);
    EXPECT_EQ(s.num_examples, 2);
    EXPECT_EQ(s.labels[0], d.labels[1]);
    EXPECT_EQ(s.image(1)[100], d.image(2)[100]);
}

TEST(FashionMnist, BrokenFilesNameTheFile) {
    TempDir dir;
    const std::string img = dir.file("img.gz"), lab = dir.file("lab.gz");
    write_gz(lab, idx_labels(4));
    write_gz(img, idx_images(4, 28, 28, 1));
    EXPECT_NO_THROW(fashion_mnist_load(img, lab));

    expect_error([&] { fashion_mnist_load(dir.file("none.gz"), lab); }, {dir.file("none.gz"), "not found"});
    write_gz(dir.file("magic.gz"), idx_images(4, 28, 28, 1, 2049));
    expect_error([&] { idx_read_images(dir.file("magic.gz")); }, {dir.file("magic.gz"), "magic 2049", "labels file"});
    write_gz(dir.file("lmagic.gz"), idx_labels(4, 1234));
    expect_error([&] { idx_read_labels(dir.file("lmagic.gz")); }, {dir.file("lmagic.gz"), "magic 1234"});

    auto short_img = idx_images(4, 28, 28, 1);
    short_img.resize(short_img.size() - 10);
    write_gz(dir.file("short.gz"), short_img);
    expect_error([&] { idx_read_images(dir.file("short.gz")); }, {dir.file("short.gz"), "truncated"});
    write_gz(dir.file("hdr.gz"), {0, 0, 8});
    expect_error([&] { idx_read_images(dir.file("hdr.gz")); }, {dir.file("hdr.gz"), "truncated"});
    write_gz(dir.file("empty.gz"), {});
    expect_error([&] { idx_read_labels(dir.file("empty.gz")); }, {dir.file("empty.gz"), "truncated"});

    // A gzip stream cut in the middle: zlib reports the unexpected end.
    auto gz = hgrn::test::read_bytes(img);
    gz.resize(gz.size() / 2);
    hgrn::test::write_bytes(dir.file("cut.gz"), gz);
    expect_error([&] { idx_read_images(dir.file("cut.gz")); }, {dir.file("cut.gz")});
    // Corrupt deflate data inside a valid gzip header.
    gz = hgrn::test::read_bytes(img);
    for (size_t i = 20; i < 60 && i < gz.size(); ++i) gz[i] ^= 0x5a;
    hgrn::test::write_bytes(dir.file("bad.gz"), gz);
    expect_error([&] { idx_read_images(dir.file("bad.gz")); }, {dir.file("bad.gz")});

    auto bad_label = idx_labels(4);
    bad_label.back() = 12;
    write_gz(dir.file("l12.gz"), bad_label);
    expect_error([&] { idx_read_labels(dir.file("l12.gz")); }, {dir.file("l12.gz"), "label 12"});
    write_gz(dir.file("l3.gz"), idx_labels(3));
    expect_error([&] { fashion_mnist_load(img, dir.file("l3.gz")); }, {dir.file("l3.gz"), "3 labels", "4 images"});
    expect_error([] { fashion_mnist_load_split("val", "/nonexistent"); }, {"split"});
}
