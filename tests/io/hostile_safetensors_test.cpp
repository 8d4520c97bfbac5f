// Hostile safetensors files: st_deep JSON, repeated names, padding, extents, and a seeded mutation run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <random>

#include "btadapter/io/json_limits.h"
#include "btadapter/io/safetensors.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using btadapter::testing::error_of;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string st_file_bytes(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

void st_write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string st_read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string st_deep(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

const std::string kStOk = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

/// Writes `header` and `data` as a file and EXPECTs opening it to fail with every one of `fragments`
/// (reported at the caller's line); returns the message.
std::string st_expect_open_error(const fs::path& path, const std::string& header, const std::string& data,
                                 std::initializer_list<std::string> fragments, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE()) {
  st_write_bytes(path, st_file_bytes(header, data));
  return expect_error([&] { SafetensorsFile opened(path.string()); }, fragments, file, line);
}

}  // namespace

TEST(HostileSafetensors, DeepHeadersAreRefusedBeforeParsingNamingTheFile) {
  TempDir dir;
  const auto path = dir / "st_deep.safetensors";
  for (const std::string& header :
       {"{\"a\":" + st_deep(100000) + "}", "{" + kStOk + ",\"__metadata__\":{\"k\":" + st_deep(100000) + "}}",
        R"({"a":{"dtype":"F32","shape":[)" + st_deep(100000) + R"(],"data_offsets":[0,8]}})"}) {
    st_expect_open_error(path, header, std::string(8, '\0'),
                         {"safetensors file '" + path.string() + "': invalid JSON header", "nest deeper than 128 levels"});
  }
  // A value nested within the bound is quoted, not dumped whole.
  const std::string msg =
      st_expect_open_error(path, "{\"a\":" + st_deep(100) + "}", "", {"tensor 'a': expected an object, got [[[["});
  EXPECT_LT(msg.size(), 400u) << msg;
}

TEST(HostileSafetensors, RepeatedNamesPaddingAndExtentsAreRefused) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  const std::string p = path.string();
  auto expect = [&](const std::string& header, const std::string& data, const std::string& problem) {
    SCOPED_TRACE(header);
    st_expect_open_error(path, header, data, {"safetensors file '" + p + "'", problem});
  };
  const std::string data8(8, '\0');
  expect("{" + kStOk + R"(,"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", std::string(12, '\0'),
         "key 'a' appears twice in one object");
  expect("{" + kStOk + R"(,"__metadata__":{"k":"1","k":"2"}})", data8, "key 'k' appears twice");
  expect("{" + kStOk + "}" + std::string(6, '\0'), data8, "NUL byte at offset");
  expect("{" + kStOk + std::string("}\0garbage", 9), data8, "NUL byte at offset");
  expect("{" + kStOk + "}  \n  ", data8, "may only be followed by spaces (0x20), got byte 10");
  expect("  {" + kStOk + "}", data8, "header must begin with '{'");
  expect("{" + kStOk + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8,
         "tensors 'a' and 'b' overlap");
  expect("{" + kStOk + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", data8 + std::string(2, '\0'),
         "tensor 'b': data_offsets [8, 12] out of range (data section has 10 bytes)");
  expect(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", data8,
         "tensor 'a': 8 bytes in data_offsets but shape [2] of F16 needs 2 * 2 bytes");
  // Spaces after the JSON are the padding the format allows.
  st_write_bytes(path, st_file_bytes("{" + kStOk + "}   ", data8));
  EXPECT_EQ(SafetensorsFile(p).names(), std::vector<std::string>{"a"});
}

TEST(HostileSafetensors, JsonQuotesAreBoundedAndSafe) {
  const auto deep_value = nlohmann::json::parse(st_deep(100));
  EXPECT_EQ(json_quote(deep_value, 10), "[[[[[[[[[[...");
  EXPECT_EQ(json_quote(nlohmann::json{{"k", {1, 2}}, {"s", "x"}}), R"({"k":[1,2],"s":"x"})");
  EXPECT_EQ(json_quote(nlohmann::json(std::string(1000, 'x')), 4), "\"xxx...");
  EXPECT_EQ(quote_text(std::string("a\0b\n", 4)), "a\\x00b\\n");
  EXPECT_EQ(quote_text(std::string(100, 'y'), 3), "yyy... (100 bytes)");
  EXPECT_EQ(json_text_problem("[\"[[[[\"]", 1), "");
  EXPECT_EQ(json_text_problem("[[1]]", 1), "arrays/objects nest deeper than 1 levels at offset 1");
}

// Seeded mutations of a file the test writes. Each mutant either fails with a message naming the file,
// or loads; a loaded mutant must keep the invariants checked here independently of the reader: an
// 8-byte length inside the file, a header that starts with '{', holds no NUL and ends in '}' plus
// spaces, and tensors that tile the data section exactly with dtype x shape bytes each.
TEST(HostileSafetensors, SeededMutationsNeverCrashOrLoadABrokenFile) {
  TempDir dir;
  const auto good = dir / "good.safetensors";
  write_safetensors(good.string(),
                    {{"w", torch::arange(6, torch::kFloat32).reshape({2, 3})},
                     {"b", torch::ones({3}, torch::kFloat16)},
                     {"i", torch::arange(4, torch::kInt64)},
                     {"e", torch::empty({0, 2})}},
                    {{"format", "pt"}});
  const std::string original = st_read_bytes(good);
  uint64_t header_length = 0;
  std::memcpy(&header_length, original.data(), 8);
  const std::string header = original.substr(8, header_length), data = original.substr(8 + header_length);

  std::mt19937 rng(19);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const char* alphabet = "{}[]\",:0123456789 \0\n-eE.\\abFIUS";
  int loaded = 0, refused = 0;
  const int kMutants = 3000;
  const auto path = dir / "mutant.safetensors";
  for (int m = 0; m < kMutants; ++m) {
    std::string h = header, d = data;
    const size_t kind = pick(6);
    std::string& target = pick(4) == 0 ? d : h;
    if (target.empty()) continue;
    switch (kind) {
      case 0: target[pick(target.size())] = alphabet[pick(31)]; break;
      case 1: target[pick(target.size())] ^= static_cast<char>(1 << pick(8)); break;
      case 2: target.resize(pick(target.size())); break;
      case 3: target.insert(pick(target.size()), 1 + pick(4), alphabet[pick(31)]); break;
      case 4: h.insert(pick(h.size()), pick(2) ? st_deep(50000) : std::string(100000, '[')); break;
      default: target.erase(pick(target.size()), 1 + pick(3)); break;
    }
    std::string bytes = st_file_bytes(h, d);
    if (pick(10) == 0) bytes[pick(8)] ^= static_cast<char>(1 << pick(8));  // a broken length field too
    st_write_bytes(path, bytes);
    std::vector<std::pair<std::string, int64_t>> tensors;
    const std::string msg = error_of([&] {
      SafetensorsFile file(path.string());
      for (const auto& name : file.names()) tensors.emplace_back(name, file.tensor(name).nbytes());
    });
    if (msg != "(no error)") {
      ++refused;
      ASSERT_NE(msg.find("'" + path.string() + "'"), std::string::npos) << "mutant " << m << ": " << msg;
      continue;
    }
    ++loaded;
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    ASSERT_LE(n, bytes.size() - 8) << "mutant " << m;
    const std::string got_header = bytes.substr(8, n);
    const size_t last = got_header.find_last_not_of(' ');
    ASSERT_TRUE(got_header[0] == '{' && got_header[last] == '}') << "mutant " << m << ": " << got_header;
    ASSERT_EQ(got_header.find('\0'), std::string::npos) << "mutant " << m;
    int64_t total = 0;
    for (const auto& t : tensors) total += t.second;
    ASSERT_EQ(static_cast<uint64_t>(total), bytes.size() - 8 - n) << "mutant " << m << ": " << got_header;
  }
  std::cout << "[ fuzz     ] safetensors: " << kMutants << " mutants, " << refused << " refused, " << loaded
            << " loaded (all invariants held)" << std::endl;
  EXPECT_GT(refused, kMutants / 2);
}
