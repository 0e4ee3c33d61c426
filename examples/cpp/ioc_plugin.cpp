// ioc_plugin: a SIEM plugin in C++17 on the iocmatch C ABI. It loads a compiled index, reads ECS
// events as NDJSON (stdin or a file) and prints one alert per match, tab-separated:
//
//   line  field  value  kind  observable  indicator_id  collection_id
//
// Lines that are not JSON objects are reported on stderr and skipped; a summary (events,
// matches, events/s) goes to stderr at the end.
//
//   ioc_plugin --index iocs.idx [--threads N] [--at UNIX_SECONDS] [--raw] [FILE|-]
//
// --raw scans unparsed log lines instead of ECS events. Build:
//   g++ -std=c++17 -O2 -Iinclude examples/cpp/ioc_plugin.cpp -Ltarget/release -liocmatch
#include "iocmatch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

// Owning handles: the library's free functions as deleters.
struct IndexFree {
    void operator()(iocmatch_index *p) const { iocmatch_index_free(p); }
};
struct MatcherFree {
    void operator()(iocmatch_matcher *p) const { iocmatch_matcher_free(p); }
};
using Index = std::unique_ptr<iocmatch_index, IndexFree>;
using Matcher = std::unique_ptr<iocmatch_matcher, MatcherFree>;

// Throws with the library's message when a call failed.
void check(iocmatch_result r, const char *what) {
    if (r != IOCMATCH_RESULT_OK) {
        throw std::runtime_error(std::string(what) + ": " + iocmatch_result_name(r) + ": " +
                                 iocmatch_last_error_message());
    }
}

std::string_view view(iocmatch_str s) { return s.data ? std::string_view(s.data, s.len) : std::string_view(); }

// Alerts are written to stdout through one buffer.
struct Output {
    std::string buf;
    bool failed = false;

    void flush() {
        if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size()) failed = true;
        buf.clear();
    }
    void field(std::string_view s, char end) {
        for (char c : s) buf.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
        buf.push_back(end);
    }
};

// Callbacks must not let an exception escape into the library: they catch and return non-zero.
extern "C" int on_match(void *userdata, const iocmatch_match *m) noexcept {
    try {
        auto *out = static_cast<Output *>(userdata);
        out->buf += std::to_string(m->event);
        out->buf.push_back('\t');
        out->field(view(m->field), '\t');
        out->field(view(m->value), '\t');
        out->field(iocmatch_kind_name(m->kind), '\t');
        out->field(view(m->observable), '\t');
        out->field(view(m->indicator_id), '\t');
        out->field(view(m->collection_id), '\n');
        if (out->buf.size() > (1u << 16)) out->flush();
        return out->failed ? 1 : 0;
    } catch (...) {
        return 1;
    }
}

extern "C" int on_bad_line(void *, uint64_t line, const char *message) noexcept {
    std::fprintf(stderr, "ioc_plugin: skipped line %llu: %s\n", static_cast<unsigned long long>(line), message);
    return 0;
}

extern "C" int read_fd(void *userdata, uint8_t *buf, size_t len, size_t *read_out) noexcept {
    int fd = *static_cast<int *>(userdata);
    for (;;) {
        ssize_t n = ::read(fd, buf, len);
        if (n >= 0) {
            *read_out = static_cast<size_t>(n);
            return 0;
        }
        if (errno != EINTR) return errno;
    }
}

struct Args {
    std::string index;
    std::string input = "-";
    std::optional<int64_t> at;
    size_t threads = 0;
    bool raw = false;
};

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--index") {
            a.index = value();
        } else if (arg == "--threads") {
            a.threads = std::stoul(value());
        } else if (arg == "--at") {
            a.at = std::stoll(value());
        } else if (arg == "--raw") {
            a.raw = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            throw std::runtime_error("unknown option " + std::string(arg));
        } else {
            a.input = std::string(arg);
        }
    }
    if (a.index.empty()) throw std::runtime_error("usage: ioc_plugin --index FILE [--threads N] [--at S] [--raw] [FILE|-]");
    return a;
}

int run(int argc, char **argv) {
    Args args = parse(argc, argv);
    if (iocmatch_abi_version() != IOCMATCH_ABI_VERSION) {
        throw std::runtime_error("libiocmatch " + std::string(iocmatch_version()) + " has another ABI than this build (" +
                                 IOCMATCH_VERSION_STRING ")");
    }
    if (args.threads > 0) check(iocmatch_threads_init(args.threads), "threads");

    iocmatch_index *raw_index = nullptr;
    check(iocmatch_index_load(args.index.data(), args.index.size(), &raw_index), "loading the index");
    Index index(raw_index);
    iocmatch_matcher *raw_matcher = nullptr;
    check(iocmatch_matcher_new(index.get(), nullptr, &raw_matcher), "making the matcher");
    Matcher matcher(raw_matcher);
    index.reset();  // the matcher shares it

    int fd = 0;
    if (args.input != "-") {
        fd = ::open(args.input.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("cannot open " + args.input + ": " + std::strerror(errno));
    }
    static char stdout_buf[1 << 16];
    std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);

    Output out;
    iocmatch_stream_summary sum{};
    const int64_t *at = args.at ? &*args.at : nullptr;
    auto start = std::chrono::steady_clock::now();
    iocmatch_result r =
        args.raw ? iocmatch_matcher_scan_text_stream(matcher.get(), read_fd, &fd, at, on_match, &out, &sum)
                 : iocmatch_matcher_match_ndjson_stream(matcher.get(), read_fd, &fd, at, on_match, on_bad_line, &out,
                                                        &sum);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.flush();
    std::fflush(stdout);
    if (fd != 0) ::close(fd);
    if (out.failed) throw std::runtime_error("cannot write the alerts");
    check(r, "matching");
    std::fprintf(stderr,
                 "ioc_plugin: events: %llu, matched events: %llu, matches: %llu, bad lines: %llu, %.2fs (%.0f "
                 "events/s, %.1f MB/s)\n",
                 static_cast<unsigned long long>(sum.events), static_cast<unsigned long long>(sum.matched_events),
                 static_cast<unsigned long long>(sum.matches), static_cast<unsigned long long>(sum.bad_lines), secs,
                 secs > 0 ? sum.events / secs : 0.0, secs > 0 ? sum.bytes / secs / 1e6 : 0.0);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ioc_plugin: %s\n", e.what());
        return 1;
    }
}
