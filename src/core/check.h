// check.h — error handling for the whole library.
// HGRN_CHECK(cond, parts...) throws hgrn::Error("file:line: parts...") when cond is false. The message parts
// are streamed (operator<<), so shapes and values can be named: HGRN_CHECK(K > 0, "K must be > 0, got ", K).
// The library never calls exit(); programs catch hgrn::Error at main.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace hgrn {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Parts>
[[noreturn]] void fail(const char* file, int line, const Parts&... parts) {
    std::ostringstream os;
    const char* base = file;
    for (const char* p = file; *p; ++p)
        if (*p == '/') base = p + 1;
    os << base << ':' << line << ": ";
    (os << ... << parts);
    throw Error(os.str());
}
}  // namespace detail

}  // namespace hgrn

#define HGRN_CHECK(cond, ...)                                                    \
    do {                                                                         \
        if (!(cond)) ::hgrn::detail::fail(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__); \
    } while (0)

#define HGRN_FAIL(...) ::hgrn::detail::fail(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
