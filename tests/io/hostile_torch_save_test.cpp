// Hostile torch.save containers: hand-made pickles in a valid zip (deep nesting, stack underflow, memo,
// unknown globals, short storages), zip damage (CRC, offsets), and a seeded mutation run.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <fstream>
#include <iostream>
#include <random>

#include "btadapter/io/weights_file.h"
#include "btadapter/io/torch_save.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using namespace btadapter::io::testing;
using btadapter::testing::error_of;
using btadapter::testing::TempDir;

namespace {

/// Opcode-level pickle builder (protocol 2), for pickles LibTorch's pickler would not write.
struct Pkl {
  std::string s = "\x80\x02";
  Pkl& op(const std::string& bytes) { s += bytes; return *this; }
  Pkl& str(const std::string& text) {
    s += 'X';
    for (int i = 0; i < 4; ++i) s += static_cast<char>((text.size() >> (8 * i)) & 0xFF);
    s += text;
    return *this;
  }
  Pkl& i1(int v) { s += 'K'; s += static_cast<char>(v); return *this; }
  Pkl& global(const std::string& module, const std::string& name) { return op("c" + module + "\n" + name + "\n"); }
  Pkl& ordered_dict() { return global("collections", "OrderedDict").op(")R"); }
  /// _rebuild_tensor_v2(storage(key, numel), 0, sizes, strides, False, OrderedDict())
  Pkl& tensor(const std::string& key, int numel, std::vector<int> sizes, std::vector<int> strides) {
    global("torch._utils", "_rebuild_tensor_v2").op("((").str("storage").global("torch", "FloatStorage");
    str(key).str("cpu").i1(numel).op("tQ").i1(0).op("(");
    for (int v : sizes) i1(v);
    op("t(");
    for (int v : strides) i1(v);
    return op("t\x89").ordered_dict().op("tR");
  }
  std::string done() { return s + "."; }
};

/// A torch.save-style archive "archive/..." holding `pickle` as data.pkl and the given storage records.
void ts_write_archive(const std::filesystem::path& path, const std::string& pickle,
                   const std::map<std::string, std::string>& storages) {
  std::ofstream out(path, std::ios::binary);
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return size;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeRecord("byteorder", "little", 6);
  for (const auto& [key, bytes] : storages) writer.writeRecord("data/" + key, bytes.data(), bytes.size());
  writer.writeEndOfFile();
}

std::string ts_floats(std::vector<float> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::string ts_read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void ts_write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(HostileTorchSave, OneEntryDictsWrittenWithSetitemLoad) {
  // What Python writes for OrderedDict([("w", t)]) with _metadata {"": {"version": 1}}: SETITEM, BUILD.
  TempDir dir;
  const std::string pickle = Pkl().ordered_dict().str("w").tensor("0", 4, {2, 2}, {2, 1}).op("s")
                                 .op("}").str("_metadata").ordered_dict().str("").op("}").str("version").i1(1)
                                 .op("sss").op("b").done();
  ts_write_archive(dir / "one.pth", pickle, {{"0", ts_floats({1, 2, 3, 4})}});
  const WeightsFile ckpt = read_weights_file((dir / "one.pth").string());
  ASSERT_EQ(keys_of(ckpt.tensors), std::vector<std::string>{"w"});
  EXPECT_TRUE(torch::equal(ckpt.tensors.at("w"), torch::tensor({1.f, 2.f, 3.f, 4.f}).reshape({2, 2})));
}

TEST(HostileTorchSave, BrokenPicklesAreErrorsNamingTheFileAndOffset) {
  TempDir dir;
  const auto path = dir / "bad.pth";
  const std::string where = "torch.save file '" + path.string() + "'";
  auto expect = [&](const std::string& pickle, const std::string& fragment) {
    ts_write_archive(path, pickle, {{"0", ts_floats({1, 2, 3, 4})}});
    expect_error([&] { read_weights_file(path.string()); }, {where, fragment});
  };
  const std::string deep_list = "\x80\x02" + std::string(100000, ']') + std::string(99999, 'a') + ".";
  expect(deep_list, "values nested deeper than 100");
  expect("\x80\x02" + std::string(100000, '(') + ".", "MARKs nested deeper than 100");
  expect("\x80\x02K\x01\x86.", "at offset 4: stack underflow: the opcode needs 2 values above the innermost MARK");
  expect("\x80\x02K\x01(\x87.", "stack underflow");
  expect("\x80\x02h\x07.", "at offset 2: memo entry 7 is read but was never stored");
  expect(Pkl().global("os", "system").done(), "global 'os.system' is not one a state dict needs");
  expect("\x80\x02}X\xff\xff\xff\x7f", "runs past the end of the pickle");
  expect("\x80\x02}", "ends without a STOP opcode");
  expect("\x80\x02}.junk", "4 bytes follow the STOP opcode");
  expect("\x80\x02}N.", "STOP with 2 values on the stack");
  expect("\x80\x02\xff", "unsupported pickle opcode 0xff");
  expect(Pkl().op("}(").str("w").i1(1).str("w").i1(2).op("u").done(), "key 'w' appears twice");
}

TEST(HostileTorchSave, StoragesShorterThanTheirTensorsAreRefusedNamingTheKey) {
  TempDir dir;
  const auto path = dir / "short.bin";
  // The record holds 2 floats and the id says 2, but the tensor is 2 x 2.
  ts_write_archive(path, Pkl().op("}").str("w").tensor("0", 2, {2, 2}, {2, 1}).op("s").done(), {{"0", ts_floats({1, 2})}});
  expect_error([&] { read_weights_file(path.string()); },
               "tensor 'w' (sizes [2, 2], strides [2, 1], offset 0) needs 4 elements of storage record "
               "'archive/data/0', which holds 2");
  // The id says 4 elements but the record holds 2.
  ts_write_archive(path, Pkl().op("}").str("w").tensor("0", 4, {2, 2}, {2, 1}).op("s").done(), {{"0", ts_floats({1, 2})}});
  expect_error([&] { read_weights_file(path.string()); },
               "storage record 'archive/data/0' holds 2 Float elements; its persistent id says 4 Float");
  // A missing storage record.
  ts_write_archive(path, Pkl().op("}").str("w").tensor("9", 4, {4}, {1}).op("s").done(), {{"0", ts_floats({1, 2})}});
  expect_error([&] { read_weights_file(path.string()); }, "expected a record 'archive/data/9', found none");
}

TEST(HostileTorchSave, ZipDamageIsRefused) {
  TempDir dir;
  auto state = c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
  state.insert("w", torch::arange(64, torch::kFloat));
  const std::vector<char> saved = torch::pickle_save(state);
  const std::string good(saved.begin(), saved.end());
  const auto path = dir / "zip.pth";
  const std::string where = "'" + path.string() + "'";
  // Every flipped byte of the tensor data fails the CRC.
  const size_t data = good.find(std::string(ts_floats({0, 1, 2, 3})));
  ASSERT_NE(data, std::string::npos);
  for (size_t i = 0; i < 64 * 4; i += 11) {
    std::string bad = good;
    bad[data + i] ^= 0x10;
    ts_write_bytes(path, bad);
    expect_error([&] { read_weights_file(path.string()); }, "fails its CRC-32 check");
  }
  // A central directory entry pointing its local header elsewhere.
  const size_t central = good.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  std::string bad = good;
  bad[central + 42] ^= 0x04;
  ts_write_bytes(path, bad);
  expect_error([&] { read_weights_file(path.string()); }, where);
  ts_write_bytes(path, good.substr(0, good.size() - 30));
  expect_error([&] { read_weights_file(path.string()); }, "no end-of-central-directory record");
}

// Seeded mutations of a torch.save file the test writes. A mutant either fails with a message naming
// the file, or loads exactly the original tensors and metadata (a mutation in a field nothing reads,
// e.g. a modification time); anything else is a silent acceptance.
TEST(HostileTorchSave, SeededMutationsNeverCrashOrLoadAChangedFile) {
  TempDir dir;
  auto meta = c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
  meta.insert("epoch", int64_t(3));
  auto state = c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
  state.insert("w", torch::arange(6, torch::kFloat).reshape({2, 3}));
  state.insert("b", torch::ones({3}, torch::kHalf));
  state.insert("i", torch::arange(4, torch::kLong));
  state.insert("meta", meta);
  const std::vector<char> saved = torch::pickle_save(state);
  const std::string original(saved.begin(), saved.end());
  const auto path = dir / "mutant.pth";
  ts_write_bytes(path, original);
  const TorchSaveContents expected = read_torch_save_file(path.string());
  ASSERT_EQ(expected.tensors.size(), 3u);
  ASSERT_EQ(expected.metadata, (Metadata{{"meta.epoch", "3"}}));
  const size_t pkl = original.find("\x80\x02");

  std::mt19937 rng(1919);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int refused = 0, loaded = 0;
  const int kMutants = 3000;
  for (int m = 0; m < kMutants; ++m) {
    std::string bytes = original;
    // Half the mutants hit the pickle (then usually only the CRC refuses them: fix it up sometimes).
    const size_t at = pick(2) == 0 && pkl != std::string::npos ? pkl + pick(200) : pick(bytes.size());
    switch (pick(5)) {
      case 0: bytes[at] ^= static_cast<char>(1 << pick(8)); break;
      case 1: bytes[at] = static_cast<char>(pick(256)); break;
      case 2: bytes.resize(at); break;
      case 3: bytes.insert(at, 1 + pick(3), static_cast<char>(pick(256))); break;
      default: bytes.erase(at, 1 + pick(4)); break;
    }
    ts_write_bytes(path, bytes);
    TorchSaveContents got;
    const std::string msg = error_of([&] { got = read_torch_save_file(path.string()); });
    if (msg != "(no error)") {
      ++refused;
      ASSERT_NE(msg.find("'" + path.string() + "'"), std::string::npos) << "mutant " << m << ": " << msg;
      continue;
    }
    ++loaded;
    ASSERT_EQ(got.metadata, expected.metadata) << "mutant " << m;
    expect_identical(got.tensors, expected.tensors);
  }
  std::cout << "[ fuzz     ] torch.save: " << kMutants << " mutants, " << refused << " refused naming the file, "
            << loaded << " loaded identical to the original" << std::endl;
  EXPECT_GT(refused, kMutants / 2);
}

TEST(HostileTorchSave, PickleMutantsWithValidCrcsNeverCrash) {
  // CRC-valid containers around mutated pickles: only the unpickler and the state-dict checks stand.
  TempDir dir;
  const std::string pickle = Pkl().ordered_dict().op("(").str("w").tensor("0", 4, {2, 2}, {2, 1})
                                 .str("v").tensor("0", 4, {4}, {1}).op("u").done();
  const auto path = dir / "pkl.pth";
  std::mt19937 rng(4242);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const char* opcodes = "()tu}sRQKXhqb.\x85\x86\x87\x88\x89]ae";
  int refused = 0, loaded = 0;
  const int kMutants = 2000;
  for (int m = 0; m < kMutants; ++m) {
    std::string p = pickle;
    const size_t at = pick(p.size());
    switch (pick(3)) {
      case 0: p[at] = opcodes[pick(22)]; break;
      case 1: p.insert(at, 1, opcodes[pick(22)]); break;
      default: p.erase(at, 1 + pick(3)); break;
    }
    ts_write_archive(path, p, {{"0", ts_floats({1, 2, 3, 4})}});
    TorchSaveContents got;
    const std::string msg = error_of([&] { got = read_torch_save_file(path.string()); });
    if (msg != "(no error)") {
      ++refused;
      ASSERT_NE(msg.find("'" + path.string() + "'"), std::string::npos) << "mutant " << m << ": " << msg;
      continue;
    }
    ++loaded;
    for (const auto& [name, t] : got.tensors) {  // every element read lies inside the 4-float storage
      int64_t last = t.storage_offset();
      for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
      ASSERT_TRUE(t.numel() == 0 || last < 4) << "mutant " << m << ": " << name;
      ASSERT_EQ(t.storage().nbytes(), 16u) << "mutant " << m << ": " << name;
    }
  }
  std::cout << "[ fuzz     ] torch.save pickles: " << kMutants << " mutants, " << refused << " refused naming the "
            << "file, " << loaded << " loaded (every tensor inside its storage)" << std::endl;
  EXPECT_GT(refused, kMutants / 2);
}
