// corpus_prepare.cpp — tokenizes a listed corpus into train.bin / val.bin / test.bin token shards plus
// meta.json and documents.tsv (formats in corpus.h). The tokenizer is a TextEncoder function, so this file
// needs no tokenizer header; documents are encoded in parallel batches and written in name order, so the
// shards do not depend on the thread count. Every output is written to a temporary name and renamed.
#include <atomic>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "core/check.h"
#include "data/corpus.h"
#include "data/shard.h"

namespace fs = std::filesystem;

namespace hgrn {

namespace {

constexpr size_t kEncodeBatch = 64;  // documents encoded concurrently before writing

struct EncodedDoc {
    int64_t bytes = 0;
    std::vector<int64_t> tokens;
};

void encode_batch(const TextEncoder& encoder, const std::vector<const CorpusDocument*>& docs, size_t begin,
                  size_t end, int threads, std::vector<EncodedDoc>& out) {
    out.assign(end - begin, {});
    std::atomic<size_t> next{begin};
    std::exception_ptr error;
    std::atomic<bool> failed{false};
    auto work = [&] {
        for (size_t i; !failed && (i = next++) < end;) {
            try {
                const std::string text = corpus_read(*docs[i]);
                out[i - begin].bytes = int64_t(text.size());
                out[i - begin].tokens = encoder(text);
            } catch (...) {
                if (!failed.exchange(true)) error = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

// On a terminal the line is redrawn in place; in a log (not a terminal) only the final line of each split.
void print_progress(std::ostream* os, CorpusSplit s, size_t done, size_t total, const PrepareSplitStats& st,
                    bool last) {
    static const bool tty = ::isatty(STDERR_FILENO) != 0;
    if (!os || (!tty && !last)) return;
    *os << (tty ? "\r" : "") << "prepare: " << std::left << std::setw(5) << corpus_split_name(s) << std::right << " " << done << "/"
        << total << " documents, " << std::fixed << std::setprecision(1) << double(st.bytes) / 1e6 << " MB -> "
        << std::setprecision(2) << double(st.tokens) / 1e6 << " M tokens" << (last ? "\n" : "") << std::flush;
}

PrepareSplitStats write_split(const TextEncoder& encoder, const std::vector<const CorpusDocument*>& docs,
                              CorpusSplit split, const std::string& out_dir, const PrepareOptions& opt,
                              std::ostream& tsv) {
    PrepareSplitStats st;
    st.file = std::string(corpus_split_name(split)) + ".bin";
    HGRN_CHECK(!docs.empty(), "prepare: the ", corpus_split_name(split), " split has no documents");
    TokenShardWriter writer(out_dir + "/" + st.file, opt.vocab_size);
    std::vector<EncodedDoc> batch;
    auto last_print = std::chrono::steady_clock::now();
    for (size_t b = 0; b < docs.size(); b += kEncodeBatch) {
        const size_t e = std::min(docs.size(), b + kEncodeBatch);
        encode_batch(encoder, docs, b, e, std::max(1, opt.threads), batch);
        for (size_t i = b; i < e; ++i) {
            EncodedDoc& d = batch[i - b];
            if (opt.eos_id >= 0) d.tokens.push_back(opt.eos_id);
            try {
                writer.append(d.tokens);
            } catch (const Error& err) {
                HGRN_FAIL("prepare: document ", docs[i]->name, ": ", err.what());
            }
            st.bytes += d.bytes, st.tokens += int64_t(d.tokens.size()), ++st.documents;
            tsv << corpus_split_name(split) << '\t' << docs[i]->name << '\t' << d.bytes << '\t' << d.tokens.size()
                << '\n';
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_print > std::chrono::milliseconds(200)) {
            print_progress(opt.progress, split, e, docs.size(), st, false);
            last_print = now;
        }
    }
    HGRN_CHECK(st.tokens > 0, "prepare: the ", corpus_split_name(split), " split encodes to no tokens");
    writer.finish();
    print_progress(opt.progress, split, docs.size(), docs.size(), st, true);
    return st;
}

// Train documents kept under max_train_bytes: lowest name hash first, then back in name order.
std::vector<const CorpusDocument*> select_documents(const Corpus& corpus, CorpusSplit split, int64_t max_bytes) {
    std::vector<const CorpusDocument*> docs;
    for (const auto& d : corpus.documents)
        if (d.split == split) docs.push_back(&d);
    if (split != CorpusSplit::train || max_bytes <= 0) return docs;
    std::sort(docs.begin(), docs.end(), [](const CorpusDocument* a, const CorpusDocument* b) {
        return corpus_hash_unit(a->name) < corpus_hash_unit(b->name);
    });
    int64_t total = 0;
    size_t keep = 0;
    while (keep < docs.size() && (keep == 0 || total + docs[keep]->bytes <= max_bytes)) total += docs[keep++]->bytes;
    docs.resize(keep);
    std::sort(docs.begin(), docs.end(), [](const CorpusDocument* a, const CorpusDocument* b) { return a->name < b->name; });
    return docs;
}

void write_text_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        HGRN_CHECK(f, path, ": cannot create ", tmp);
        f << text;
        f.flush();
        HGRN_CHECK(f, path, ": write failed");
    }
    HGRN_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": rename from ", tmp, " failed");
}

nlohmann::json meta_json(const PrepareResult& r) {
    nlohmann::json j;
    j["format"] = "hgrn-token-shards";
    j["version"] = 1;
    j["vocab_size"] = r.vocab_size;
    j["eos_id"] = r.eos_id;
    j["tokenizer"] = r.tokenizer;
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test}) {
        const auto& st = r[s];
        j["splits"][corpus_split_name(s)] = {
            {"file", st.file}, {"documents", st.documents}, {"bytes", st.bytes}, {"tokens", st.tokens}};
    }
    return j;
}

}  // namespace

PrepareResult prepare_documents(const TextEncoder& encoder, const Corpus& corpus, const std::string& out_dir,
                                const PrepareOptions& opt) {
    HGRN_CHECK(encoder != nullptr, "prepare: no encoder given");
    HGRN_CHECK(opt.vocab_size > 0, "prepare: vocab_size must be > 0, got ", opt.vocab_size);
    HGRN_CHECK(opt.eos_id < opt.vocab_size, "prepare: eos_id ", opt.eos_id, " >= vocab_size ", opt.vocab_size);
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    HGRN_CHECK(fs::is_directory(out_dir), "prepare: cannot create output directory ", out_dir,
               ec ? ": " + ec.message() : "");
    // meta.json is written last and marks a complete preparation: drop a stale one before touching shards.
    fs::remove(out_dir + "/meta.json", ec);
    PrepareResult r;
    r.vocab_size = opt.vocab_size, r.eos_id = opt.eos_id, r.tokenizer = opt.tokenizer;
    std::ostringstream tsv;
    tsv << "split\tname\tbytes\ttokens\n";
    for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test})
        r.splits[int(s)] = write_split(encoder, select_documents(corpus, s, opt.max_train_bytes), s, out_dir, opt, tsv);
    write_text_atomic(out_dir + "/documents.tsv", tsv.str());
    write_text_atomic(out_dir + "/meta.json", meta_json(r).dump(2) + "\n");
    return r;
}

PrepareResult prepare_corpus(const TextEncoder& encoder, const std::string& out_dir, const PrepareOptions& opt) {
    return prepare_documents(encoder, corpus_list(opt.corpus), out_dir, opt);
}

PrepareResult read_prepare_meta(const std::string& dir) {
    const std::string path = dir + "/meta.json";
    std::ifstream f(path);
    HGRN_CHECK(f, path, ": not found (run `hgrn2 prepare` first)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
        HGRN_FAIL(path, ": not valid JSON: ", e.what());
    }
    auto field = [&](const nlohmann::json& obj, const char* key, const std::string& where) -> const nlohmann::json& {
        HGRN_CHECK(obj.is_object() && obj.contains(key), path, ": missing field \"", where, key, "\"");
        return obj[key];
    };
    PrepareResult r;
    try {
        HGRN_CHECK(field(j, "format", "") == "hgrn-token-shards", path, ": field \"format\" is not hgrn-token-shards");
        r.vocab_size = field(j, "vocab_size", "").get<int64_t>();
        r.eos_id = field(j, "eos_id", "").get<int64_t>();
        r.tokenizer = field(j, "tokenizer", "").get<std::string>();
        const auto& splits = field(j, "splits", "");
        for (CorpusSplit s : {CorpusSplit::train, CorpusSplit::val, CorpusSplit::test}) {
            const std::string where = std::string("splits.") + corpus_split_name(s) + ".";
            const auto& o = field(splits, corpus_split_name(s), "splits.");
            auto& st = r.splits[int(s)];
            st.file = field(o, "file", where).get<std::string>();
            st.documents = field(o, "documents", where).get<int64_t>();
            st.bytes = field(o, "bytes", where).get<int64_t>();
            st.tokens = field(o, "tokens", where).get<int64_t>();
        }
    } catch (const nlohmann::json::exception& e) {
        HGRN_FAIL(path, ": a field has the wrong type: ", e.what());
    }
    return r;
}

}  // namespace hgrn
