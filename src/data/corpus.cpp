// corpus.cpp — listing the local corpus (files under roots, Bible books via the `bible` program) and the
// deterministic split by document name; rules in corpus.h. Tokenizing into shards is corpus_prepare.cpp.
#include "data/corpus.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"

namespace fs = std::filesystem;

namespace hgrn {

const char* corpus_split_name(CorpusSplit s) {
    switch (s) {
        case CorpusSplit::train: return "train";
        case CorpusSplit::val: return "val";
        case CorpusSplit::test: return "test";
    }
    return "?";
}

int64_t Corpus::count(CorpusSplit s) const {
    return std::count_if(documents.begin(), documents.end(), [s](const CorpusDocument& d) { return d.split == s; });
}

int64_t Corpus::bytes(CorpusSplit s) const {
    int64_t n = 0;
    for (const auto& d : documents) n += d.split == s ? d.bytes : 0;
    return n;
}

double corpus_hash_unit(std::string_view name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
    h ^= h >> 29;  // FNV's low bits mix poorly into the top ones for short names; fold before scaling
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return double(h >> 11) * 0x1.0p-53;
}

CorpusSplit corpus_split_of(std::string_view name, double val_fraction, double test_fraction) {
    const double u = corpus_hash_unit(name);
    if (u < test_fraction) return CorpusSplit::test;
    if (u < test_fraction + val_fraction) return CorpusSplit::val;
    return CorpusSplit::train;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void list_root(const CorpusRoot& root, std::vector<CorpusDocument>& out) {
    std::error_code ec;
    HGRN_CHECK(fs::is_directory(root.dir, ec), "corpus: directory ", root.dir, " not found",
               root.dir == kLinuxDocDir ? " (install linux-doc-6.1: scripts/setup.sh)" : "");
    for (auto it = fs::recursive_directory_iterator(root.dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        HGRN_CHECK(!ec, "corpus: listing ", root.dir, ": ", ec.message());
        const std::string fname = it->path().filename().string();
        if (it->is_directory(ec)) {
            if (std::find(root.exclude_dirs.begin(), root.exclude_dirs.end(), fname) != root.exclude_dirs.end())
                it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec) || !ends_with(fname, root.suffix)) continue;
        const int64_t size = int64_t(it->file_size(ec));
        if (ec || size == 0) continue;
        CorpusDocument d;
        d.name = root.label + "/" + it->path().lexically_relative(root.dir).generic_string();
        d.path = it->path().string();
        d.bytes = size;
        out.push_back(std::move(d));
    }
}

std::string run_command(const std::string& command) {
    FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
    HGRN_CHECK(p != nullptr, "corpus: cannot run \"", command, "\"");
    std::string out;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    HGRN_CHECK(status == 0 && !out.empty(), "corpus: \"", command, "\" failed (exit status ", status,
               ", ", out.size(), " bytes of output); install bible-kjv (scripts/setup.sh) or turn the Bible off");
    return out;
}

// Moves the lowest-hash train documents into val / test when those came out empty.
void fill_empty_splits(std::vector<CorpusDocument>& docs) {
    std::vector<size_t> order(docs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return corpus_hash_unit(docs[a].name) < corpus_hash_unit(docs[b].name);
    });
    for (CorpusSplit s : {CorpusSplit::val, CorpusSplit::test}) {
        if (std::any_of(docs.begin(), docs.end(), [s](const CorpusDocument& d) { return d.split == s; })) continue;
        for (size_t i : order)
            if (docs[i].split == CorpusSplit::train) {
                docs[i].split = s;
                break;
            }
    }
}

}  // namespace

std::vector<CorpusDocument> corpus_parse_bible(std::string_view output, bool keep_references) {
    std::vector<CorpusDocument> books;
    size_t line_no = 0;
    for (size_t pos = 0; pos < output.size();) {
        size_t end = output.find('\n', pos);
        if (end == std::string_view::npos) end = output.size();
        const std::string_view line = output.substr(pos, end - pos);
        pos = end + 1, ++line_no;
        if (line.empty()) continue;
        const size_t space = line.find(' ');
        const std::string_view ref = line.substr(0, space);
        size_t colon = ref.rfind(':'), chapter = colon;
        while (chapter != std::string_view::npos && chapter > 0 && std::isdigit((unsigned char)ref[chapter - 1]))
            --chapter;
        HGRN_CHECK(colon != std::string_view::npos && chapter > 0 && chapter < colon, "corpus: bible output line ",
                   line_no, " does not start with a verse reference like \"Ge1:1\": \"", line.substr(0, 40), "\"");
        const std::string name = "bible-kjv/" + std::string(ref.substr(0, chapter));
        if (books.empty() || books.back().name != name) {
            books.push_back({});
            books.back().name = name;
        }
        std::string& text = books.back().text;
        text += keep_references || space == std::string_view::npos ? line : line.substr(space + 1);
        text += '\n';
    }
    for (auto& b : books) b.bytes = int64_t(b.text.size());
    return books;
}

Corpus corpus_list(const CorpusOptions& options) {
    HGRN_CHECK(options.val_fraction >= 0 && options.test_fraction >= 0 &&
                   options.val_fraction + options.test_fraction < 1,
               "corpus: val_fraction ", options.val_fraction, " and test_fraction ", options.test_fraction,
               " must be >= 0 with a sum < 1");
    Corpus c;
    for (const auto& root : options.roots) {
        c.searched.push_back(root.dir + "/**/*" + root.suffix);
        list_root(root, c.documents);
    }
    if (options.bible) {
        c.searched.push_back("`" + options.bible_command + "`");
        auto books = corpus_parse_bible(run_command(options.bible_command), options.bible_verse_references);
        for (auto& b : books) c.documents.push_back(std::move(b));
    }
    std::ostringstream searched;
    for (const auto& s : c.searched) searched << "\n  " << s;
    HGRN_CHECK(!c.documents.empty(), "corpus: no documents found; searched:", searched.str());
    HGRN_CHECK(c.documents.size() >= 3, "corpus: only ", c.documents.size(),
               " documents; train, val and test need at least one each; searched:", searched.str());
    std::sort(c.documents.begin(), c.documents.end(),
              [](const CorpusDocument& a, const CorpusDocument& b) { return a.name < b.name; });
    for (size_t i = 1; i < c.documents.size(); ++i)
        HGRN_CHECK(c.documents[i].name != c.documents[i - 1].name, "corpus: two documents named ",
                   c.documents[i].name, " (give the roots different labels)");
    for (auto& d : c.documents) d.split = corpus_split_of(d.name, options.val_fraction, options.test_fraction);
    fill_empty_splits(c.documents);
    return c;
}

std::string corpus_read(const CorpusDocument& doc) {
    if (doc.path.empty()) return doc.text;
    std::ifstream f(doc.path, std::ios::binary);
    HGRN_CHECK(f, "corpus: cannot open ", doc.path);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    HGRN_CHECK(!f.bad(), "corpus: read error in ", doc.path);
    return s;
}

}  // namespace hgrn
