// corpus_test.cpp — corpus listing (the real linux-doc and Bible when installed, a fake tree otherwise), the
// deterministic disjoint split, the Bible parser, prepare on a tiny corpus with a byte encoder (shards,
// meta.json, byte counts), and the errors: empty corpus, missing root, bad ids from the encoder.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/check.h"
#include "data/corpus.h"
#include "data/shard.h"
#include "data/temp_dir.h"

using namespace hgrn;
using hgrn::test::expect_error;
using hgrn::test::TempDir;

namespace {

void write_text(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A small tree: 40 documents, one excluded directory, one file with another suffix, one empty file.
CorpusOptions fake_corpus(const TempDir& dir) {
    for (int i = 0; i < 40; ++i) {
        const std::string sub = std::string("sub").append(std::to_string(i % 3));
        const std::string name = std::string("f").append(std::to_string(i)).append(".rst.txt");
        const std::string text = std::string("Document ").append(std::to_string(i)).append(" says hello.\n");
        write_text(dir.path() / "docs" / sub / name, text + std::string(static_cast<size_t>(i), 'x'));
    }
    write_text(dir.path() / "docs/translations/zh/f.rst.txt", "excluded");
    write_text(dir.path() / "docs/other.html", "wrong suffix");
    write_text(dir.path() / "docs/empty.rst.txt", "");
    CorpusOptions o;
    o.roots = {CorpusRoot{(dir.path() / "docs").string(), "fake"}};
    o.bible = false;
    o.val_fraction = 0.1, o.test_fraction = 0.1;
    return o;
}

std::vector<int64_t> byte_encode(std::string_view s) {
    std::vector<int64_t> t;
    for (unsigned char c : s) t.push_back(c);
    return t;
}

}  // namespace

TEST(Corpus, FakeTreeListingAndSplit) {
    TempDir dir;
    const CorpusOptions o = fake_corpus(dir);
    const Corpus c = corpus_list(o);
    ASSERT_EQ(c.documents.size(), 40u);
    for (const auto& d : c.documents) {
        EXPECT_EQ(d.name.rfind("fake/sub", 0), 0u) << d.name;
        EXPECT_EQ(d.name.find("translations"), std::string::npos);
        EXPECT_EQ(d.bytes, int64_t(corpus_read(d).size()));
        EXPECT_EQ(d.split, corpus_split_of(d.name, 0.1, 0.1)) << "no fix-up needed at this size";
    }
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test}) EXPECT_GT(c.count(s), 0);
    EXPECT_EQ(c.count(CorpusSplit::train) + c.count(CorpusSplit::val) + c.count(CorpusSplit::test), 40);
    const Corpus again = corpus_list(o);
    for (size_t i = 0; i < c.documents.size(); ++i) {
        EXPECT_EQ(again.documents[i].name, c.documents[i].name);
        EXPECT_EQ(again.documents[i].split, c.documents[i].split);
    }
}

TEST(Corpus, SmallCorporaStillGetAllThreeSplits) {
    TempDir dir;
    for (int i = 0; i < 3; ++i) write_text(dir.path() / "d" / ("a" + std::to_string(i) + ".txt"), "text");
    CorpusOptions o;
    o.roots = {CorpusRoot{(dir.path() / "d").string(), "d", ".txt", {}}};
    o.bible = false;
    const Corpus c = corpus_list(o);
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test}) EXPECT_EQ(c.count(s), 1);
}

TEST(Corpus, EmptyOrMissingCorpusIsAnErrorNamingThePaths) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "nothing/sub");
    CorpusOptions o;
    o.roots = {CorpusRoot{(dir.path() / "nothing").string()}};
    o.bible = false;
    expect_error([&] { corpus_list(o); }, {"no documents", (dir.path() / "nothing").string(), ".rst.txt"});
    o.roots = {CorpusRoot{(dir.path() / "absent").string()}};
    expect_error([&] { corpus_list(o); }, {(dir.path() / "absent").string(), "not found"});
    o.roots = {};
    o.bible = true;
    o.bible_command = "false";
    expect_error([&] { corpus_list(o); }, {"\"false\" failed", "bible-kjv"});
}

TEST(Corpus, BibleParserSplitsBooksAndStripsReferences) {
    const std::string out =
        "Ge1:1 In the beginning God created the heaven and the earth.\n"
        "Ge1:2 And the earth was without form.\n"
        "1Sm1:1 Now there was a certain man.\n"
        "Rev22:21 The grace of our Lord Jesus Christ be with you all. Amen.\n";
    const auto books = corpus_parse_bible(out, false);
    ASSERT_EQ(books.size(), 3u);
    EXPECT_EQ(books[0].name, "bible-kjv/Ge");
    EXPECT_EQ(books[0].text, "In the beginning God created the heaven and the earth.\nAnd the earth was without form.\n");
    EXPECT_EQ(books[1].name, "bible-kjv/1Sm");
    EXPECT_EQ(books[2].bytes, int64_t(books[2].text.size()));
    EXPECT_EQ(corpus_parse_bible(out, true)[1].text, "1Sm1:1 Now there was a certain man.\n");
    expect_error([] { corpus_parse_bible("no reference here\n", false); }, {"line 1", "verse reference"});
}

TEST(Corpus, RealCorpusWhenInstalled) {
    if (!std::filesystem::is_directory(kLinuxDocDir) || std::system("command -v bible >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "linux-doc-6.1 or bible-kjv not installed";
    const Corpus c = corpus_list(CorpusOptions{});
    int64_t bible_books = 0, linux = 0;
    std::set<std::string> names;
    for (const auto& d : c.documents) {
        EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
        EXPECT_EQ(d.name.find("/translations/"), std::string::npos) << d.name;
        bible_books += d.name.rfind("bible-kjv/", 0) == 0;
        linux += d.name.rfind("linux-doc/", 0) == 0;
    }
    EXPECT_EQ(bible_books, 66);
    EXPECT_GT(linux, 2000);
    EXPECT_GT(c.bytes(CorpusSplit::train), 20'000'000);
    EXPECT_GT(c.count(CorpusSplit::val), 20);
    EXPECT_GT(c.count(CorpusSplit::test), 20);
    EXPECT_GT(c.bytes(CorpusSplit::val), 100'000);
}

TEST(Corpus, PrepareTinyCorpusWithByteEncoder) {
    TempDir dir;
    PrepareOptions o;
    o.corpus = fake_corpus(dir);
    o.vocab_size = 257;
    o.eos_id = 256;
    o.threads = 3;
    o.tokenizer = "bytes";
    std::ostringstream progress;
    o.progress = &progress;
    const std::string out = dir.file("out");
    const PrepareResult r = prepare_corpus(byte_encode, out, o);
    EXPECT_NE(progress.str().find("prepare: train"), std::string::npos);
    const Corpus c = corpus_list(o.corpus);
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test}) {
        SCOPED_TRACE(corpus_split_name(s));
        EXPECT_EQ(r[s].documents, c.count(s));
        EXPECT_EQ(r[s].bytes, c.bytes(s));
        EXPECT_EQ(r[s].tokens, r[s].bytes + r[s].documents);  // one token a byte, plus eos per document
        TokenShard shard(out + "/" + r[s].file);
        EXPECT_EQ(shard.size(), r[s].tokens);
        EXPECT_EQ(shard.vocab_size(), 257);
        // The shard is the documents of the split in name order, each followed by eos.
        std::vector<int64_t> want;
        for (const auto& d : c.documents)
            if (d.split == s) {
                const std::string t = corpus_read(d);
                want.insert(want.end(), t.begin(), t.end());
                want.push_back(256);
            }
        EXPECT_EQ(shard.read_all(), want);
    }
    const PrepareResult back = read_prepare_meta(out);
    EXPECT_EQ(back.vocab_size, 257);
    EXPECT_EQ(back.eos_id, 256);
    EXPECT_EQ(back.tokenizer, "bytes");
    EXPECT_EQ(back[CorpusSplit::val].bytes, r[CorpusSplit::val].bytes);
    EXPECT_EQ(back[CorpusSplit::test].tokens, r[CorpusSplit::test].tokens);
    EXPECT_TRUE(std::filesystem::exists(out + "/documents.tsv"));
    // Same shards whatever the thread count.
    o.threads = 1;
    o.progress = nullptr;
    prepare_corpus(byte_encode, dir.file("out1"), o);
    EXPECT_EQ(TokenShard(dir.file("out1/train.bin")).read_all(), TokenShard(out + "/train.bin").read_all());
}

TEST(Corpus, PrepareErrors) {
    TempDir dir;
    PrepareOptions o;
    o.corpus = fake_corpus(dir);
    o.vocab_size = 100;  // bytes 'x' = 120 and others exceed it
    expect_error([&] { prepare_corpus(byte_encode, dir.file("bad"), o); }, {"fake/", "token id", "vocab_size 100"});
    o.vocab_size = 0;
    expect_error([&] { prepare_corpus(byte_encode, dir.file("bad"), o); }, {"vocab_size"});
    o.vocab_size = 300;
    o.max_train_bytes = 1;  // keeps exactly one train document
    const PrepareResult r = prepare_corpus(byte_encode, dir.file("small"), o);
    EXPECT_EQ(r[CorpusSplit::train].documents, 1);
    // A failed preparation into the same directory leaves no meta.json claiming the old shards are complete.
    ASSERT_TRUE(std::filesystem::exists(dir.file("small/meta.json")));
    o.vocab_size = 100;
    EXPECT_THROW(prepare_corpus(byte_encode, dir.file("small"), o), Error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("small/meta.json")));
    write_text(dir.path() / "meta/meta.json", "{\"format\": \"hgrn-token-shards\", \"vocab_size\": 5}");
    expect_error([&] { read_prepare_meta(dir.file("meta")); }, {"meta.json", "eos_id"});
    write_text(dir.path() / "meta/meta.json", "{not json");
    expect_error([&] { read_prepare_meta(dir.file("meta")); }, {"meta.json", "not valid JSON"});
}
