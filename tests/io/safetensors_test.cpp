#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

#include "btadapter/io/safetensors.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using namespace btadapter::io::testing;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

/// Writes a file with the given header length field, header text and data bytes.
void write_raw(const fs::path& path, uint64_t header_length, const std::string& header, size_t data_bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&header_length), 8);
  out << header << std::string(data_bytes, '\0');
}

void write_raw(const fs::path& path, const std::string& header, size_t data_bytes) {
  write_raw(path, header.size(), header, data_bytes);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> directory_listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TensorMap every_dtype() {
  torch::manual_seed(3);
  TensorMap t;
  t["f32"] = torch::randn({2, 3});
  t["f16"] = torch::randn({5}).to(torch::kHalf);
  t["bf16"] = torch::randn({2, 2, 2}).to(torch::kBFloat16);
  t["f64"] = torch::randn({3}, torch::kDouble);
  t["i64"] = torch::tensor({int64_t(-1) << 40, int64_t(7)});
  t["i32"] = torch::randint(-1000, 1000, {4}, torch::kInt);
  t["i16"] = torch::randint(-300, 300, {3}, torch::kShort);
  t["i8"] = torch::randint(-128, 127, {3}, torch::kChar);
  t["u8"] = torch::randint(0, 255, {7}, torch::kByte);  // odd size: tests the alignment ordering
  t["bool"] = torch::tensor({true, false, true});
  t["scalar"] = torch::tensor(2.5);
  t["empty"] = torch::empty({0, 3});
  t["transposed"] = torch::arange(6, torch::kFloat).reshape({2, 3}).t();  // non-contiguous input
  return t;
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeShapeAndMetadata) {
  TempDir dir;
  const auto path = (dir / "all.safetensors").string();
  const TensorMap tensors = every_dtype();
  const Metadata metadata = {{"format", "pt"}, {"note", "ünïcode and \"quotes\""}, {"empty", ""}};
  write_safetensors(path, tensors, metadata);

  Metadata read_metadata;
  TensorMap back = read_safetensors(path, &read_metadata);
  EXPECT_EQ(read_metadata, metadata);
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    ASSERT_TRUE(back.count(name)) << name;
    EXPECT_EQ(back[name].scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(back[name].sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(back[name], expected)) << name;
  }
  EXPECT_EQ(back["scalar"].dim(), 0);
  EXPECT_EQ(back["empty"].numel(), 0);
}

TEST(Safetensors, ViewsAreZeroCopyAlignedAndOutliveTheFile) {
  TempDir dir;
  const auto path = (dir / "v.safetensors").string();
  const TensorMap tensors = every_dtype();
  write_safetensors(path, tensors);
  std::vector<torch::Tensor> views;
  {
    SafetensorsFile file(path);
    EXPECT_TRUE(file.metadata().empty());
    EXPECT_TRUE(file.contains("f64"));
    EXPECT_FALSE(file.contains("nope"));
    const auto names = file.names();
    EXPECT_EQ(names.size(), tensors.size());
    // Largest elements first, so every view is aligned for its type without a copy.
    EXPECT_TRUE(names.front() == "f64" || names.front() == "i64") << names.front();
    for (const auto& name : names) {
      torch::Tensor v = file.view(name);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data_ptr()) % v.element_size(), 0u) << name;
      views.push_back(v);
    }
    // Two views of one tensor share memory: proof that no copy was made.
    EXPECT_EQ(file.view("f32").data_ptr(), file.view("f32").data_ptr());
    EXPECT_NE(file.tensor("f32").data_ptr(), file.view("f32").data_ptr());
  }
  SafetensorsFile reopened(path);
  const auto names = reopened.names();
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(torch::equal(views[i], tensors.at(names[i]))) << names[i];
  }
}

TEST(Safetensors, ReadingMappedViewsGivesTheSameTensorsAndSurvivesTheFileBeingReplaced) {
  TempDir dir;
  const auto path = (dir / "m.safetensors").string();
  const TensorMap tensors = every_dtype();
  write_safetensors(path, tensors, {{"k", "v"}});
  Metadata metadata;
  const TensorMap views = read_safetensors(path, &metadata, TensorReading::kMappedViews);
  EXPECT_EQ(metadata.at("k"), "v");
  // Replaced the way every writer here replaces a file (temp + rename): the mapping keeps the old bytes.
  write_safetensors(path, {{"other", torch::ones({2})}});
  ASSERT_EQ(views.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) EXPECT_TRUE(torch::equal(views.at(name), tensor)) << name;
}

TEST(Safetensors, MisalignedTensorIsCopiedByView) {
  TempDir dir;
  const auto path = dir / "misaligned.safetensors";
  // One byte of U8 and then an F32 at data offset 1: legal, but unaligned. The header is padded to a
  // multiple of 8 so that only the data offset misaligns the float.
  std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header;
    const float value = 1.5f;
    out.put(9);
    out.write(reinterpret_cast<const char*>(&value), 4);
  }
  SafetensorsFile file(path.string());
  EXPECT_EQ(file.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(file.view("a").item<uint8_t>(), 9);
  EXPECT_EQ(file.view("b").item<float>(), 1.5f);
}

TEST(Safetensors, ReadsTheParityFixturesAsDescribed) {
  const fs::path folder = fixture_path("parity/tiny_a");
  nlohmann::json config = nlohmann::json::parse(read_bytes(folder / "config.json"));
  const auto& files = config.at("files");
  ASSERT_GE(files.size(), 5u);
  for (const auto& [file_name, description] : files.items()) {
    SCOPED_TRACE(file_name);
    const fs::path path = fixture_path("parity/tiny_a/" + file_name);
    EXPECT_EQ(fs::file_size(path), description.at("bytes").get<uint64_t>());
    SafetensorsFile file(path.string());
    const auto& expected = description.at("tensors");
    EXPECT_EQ(file.names().size(), expected.size());
    for (const auto& [name, info] : expected.items()) {
      ASSERT_TRUE(file.contains(name)) << name;
      torch::Tensor t = file.view(name);
      EXPECT_EQ(t.sizes().vec(), info.at("shape").get<std::vector<int64_t>>()) << name;
      const std::string dtype = info.at("dtype");
      const std::map<std::string, torch::ScalarType> types = {{"F32", torch::kFloat}, {"I64", torch::kLong}};
      ASSERT_TRUE(types.count(dtype)) << "fixture dtype not covered by this test: " << dtype;
      EXPECT_EQ(t.scalar_type(), types.at(dtype)) << name;
      EXPECT_TRUE(torch::equal(t, file.tensor(name))) << name;
    }
  }
}

TEST(Safetensors, MalformedFilesRaiseErrorsNamingFileAndProblem) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  const std::string p = path.string();
  auto open = [&] { SafetensorsFile file(p); };
  auto expect = [&](const std::string& header, size_t data, const std::string& problem) {
    SCOPED_TRACE(header);
    write_raw(path, header, data);
    expect_error(open, {"'" + p + "'", problem});
  };
  const std::string ok_a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

  {
    std::ofstream out(path, std::ios::binary);
    out << "abc";
  }
  expect_error([&] { open(); }, "file is 3 bytes, shorter than the 8-byte header length");
  write_raw(path, 1000, "{}", 0);
  expect_error([&] { open(); }, "header length 1000 runs past the end of the file (10 bytes)");
  write_raw(path, uint64_t(-1), "{}", 0);
  expect_error([&] { open(); }, "runs past the end of the file");

  expect("{\"a\": ", 0, "invalid JSON header");
  expect("[1, 2]", 0, "header is not a JSON object, got array");
  expect(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2, "tensor 'a': unknown dtype 'F8'");
  expect(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, "tensor 'a': missing string 'dtype'");
  expect(R"({"a":3})", 0, "tensor 'a': expected an object, got 3");
  expect(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8,
         "tensor 'a': 'shape' must be an array of non-negative integers");
  expect(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8,
         "each 'shape' entry must be a non-negative integer, got -2");
  expect(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8,
         "each 'shape' entry must be a non-negative integer, got 2.0");
  expect(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":"0,8"}})", 8,
         "tensor 'a': 'data_offsets' must be an array [begin, end]");
  expect(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}})", 8, "'data_offsets' must be an array");
  expect(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}})", 8,
         "'data_offsets' begin must be a non-negative integer, got -1");
  expect(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8,
         "tensor 'a': data_offsets [0, 16] out of range (data section has 8 bytes)");
  expect(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "data_offsets [8, 0] out of range");
  expect(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
         "tensor 'a': 8 bytes in data_offsets but shape [3] of F32 needs 3 * 4 bytes");
  expect(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8, "overflows");
  expect("{" + ok_a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12,
         "tensors 'a' and 'b' overlap (data_offsets [0, 8] and [4, 12])");
  expect("{" + ok_a + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16,
         "data section is not covered: bytes [8, 12) belong to no tensor");
  expect("{" + ok_a + "}", 10, "data section is not covered: bytes [8, 10) belong to no tensor");
  expect("{" + ok_a + R"(,"__metadata__":{"k":1}})", 8, "metadata value of 'k' must be a string, got 1");
  expect("{" + ok_a + R"(,"__metadata__":["x"]})", 8, "'__metadata__' must be an object of strings");

  write_raw(path, "{" + ok_a + "}", 8);
  SafetensorsFile file(p);
  expect_error([&] { file.tensor("zz"); }, "safetensors file '" + p + "' has no tensor 'zz'");
  expect_error([&] { file.view("zz"); }, "has no tensor 'zz'");
  expect_error([&] { read_safetensors((dir / "missing").string()); }, "cannot open: No such file");
  expect_error([&] { read_safetensors(dir.path().string()); }, "not a regular file");
}

TEST(Safetensors, EmptyFileWithOnlyMetadataIsValid) {
  TempDir dir;
  const auto path = (dir / "meta.safetensors").string();
  write_safetensors(path, {}, {{"k", "v"}});
  Metadata metadata;
  EXPECT_TRUE(read_safetensors(path, &metadata).empty());
  EXPECT_EQ(metadata.at("k"), "v");
}

TEST(Safetensors, FailedWriteLeavesNoTempFileAndKeepsTheOldFile) {
  TempDir dir;
  const auto path = dir / "model.safetensors";
  write_safetensors(path.string(), {{"x", torch::ones({2})}});
  const std::string before = read_bytes(path);
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"model.safetensors"});

  // Rejected before anything is written.
  expect_error(
      [&] {
        write_safetensors(path.string(), {{"c", torch::ones({2}, torch::kComplexFloat)}});
      },
      "tensor 'c' has unsupported dtype");
  expect_error([&] { write_safetensors(path.string(), {{"u", torch::Tensor()}}); }, "tensor 'u' is undefined");
  expect_error([&] { write_safetensors(path.string(), {{"__metadata__", torch::ones({1})}}); }, "reserved");
  EXPECT_EQ(read_bytes(path), before);

  // Fails after the temp file is complete: the target is a (non-empty) directory, so rename fails.
  const auto blocked = dir / "blocked";
  fs::create_directories(blocked / "inside");
  expect_error([&] { write_safetensors(blocked.string(), {{"x", torch::ones({2})}}); }, "cannot rename");
  // Fails before any temp file exists: the parent "folder" is a regular file.
  expect_error(
      [&] {
        write_safetensors((path / "x.safetensors").string(), {{"x", torch::ones({2})}});
      },
      "cannot create folder");

  EXPECT_EQ(directory_listing(dir.path()), (std::vector<std::string>{"blocked", "model.safetensors"}));
  EXPECT_EQ(read_bytes(path), before);

  // A successful overwrite replaces the file and leaves nothing else behind.
  write_safetensors(path.string(), {{"y", torch::zeros({3})}});
  EXPECT_EQ(read_safetensors(path.string()).count("y"), 1u);
  EXPECT_EQ(directory_listing(dir.path()), (std::vector<std::string>{"blocked", "model.safetensors"}));
}
