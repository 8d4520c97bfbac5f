#include "btadapter/api/golden.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

namespace btadapter::api {
namespace {

using nlohmann::json;

constexpr int kGoldenVersion = 1;

json rows_to_json(const torch::Tensor& rows) {
  json out = json::array();
  const auto r = rows.to(torch::kDouble).contiguous();
  for (int64_t i = 0; i < r.size(0); ++i) {
    const double* p = r[i].data_ptr<double>();
    out.push_back(std::vector<double>(p, p + r.size(1)));
  }
  return out;
}

torch::Tensor rows_from_json(const json& value, const std::string& key, const std::string& where) {
  TORCH_CHECK(value.is_array() && !value.empty() && value[0].is_array(), "golden embeddings of '", where,
              "': expected '", key, "' as a list of rows");
  std::vector<torch::Tensor> rows;
  for (const auto& row : value) {
    TORCH_CHECK(row.is_array() && row.size() == value[0].size(), "golden embeddings of '", where, "': rows of '",
                key, "' differ in length");
    rows.push_back(torch::tensor(row.get<std::vector<double>>(), torch::kDouble));
  }
  return torch::stack(rows).to(torch::kFloat);
}

void check_rows(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what,
                const Model& model, double min_cosine) {
  TORCH_CHECK(actual.sizes() == expected.sizes(), "model '", model.path(), "': golden ", what, " embeddings are ",
              expected.sizes(), " but the model gives ", actual.sizes());
  const auto cosine = torch::nn::functional::cosine_similarity(
      actual.to(torch::kDouble), expected.to(torch::kDouble), torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
  const int64_t worst = cosine.argmin().item<int64_t>();
  const double value = cosine[worst].item<double>();
  TORCH_CHECK(value >= min_cosine, "model '", model.path(), "': golden check failed: ", what, " embedding ", worst,
              " has cosine similarity ", value, " to the stored one (expected >= ", min_cosine,
              "); the weights, the tokenizer vocabulary ('", model.vocab_path(),
              "') or the build differ from the export (load with verify_golden(false) / --no-verify to skip)");
}

}  // namespace

torch::Tensor golden_video(int64_t frames, int64_t size) {
  TORCH_CHECK(frames >= 1 && size >= 1, "golden_video: expected positive frames and size, got ", frames, ", ", size);
  auto video = torch::empty({1, frames, 3, size, size}, torch::kByte);
  auto v = video.accessor<uint8_t, 5>();
  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < size; ++y) {
        for (int64_t x = 0; x < size; ++x) {
          // Diagonal colour waves that shift with t: every channel, position and frame differs.
          const double phase = 2.0 * M_PI * ((1.0 + c) * x / size + (2.0 - 0.5 * c) * y / size + 0.2 * t + c / 3.0);
          v[0][t][c][y][x] = static_cast<uint8_t>(std::lround(127.5 + 120.0 * std::sin(phase)));
        }
      }
    }
  }
  return video;
}

const std::vector<std::string>& golden_texts() {
  static const std::vector<std::string> texts{"a red circle moves from left to right",
                                              "a person slices a tomato in a kitchen"};
  return texts;
}

GoldenEmbeddings compute_golden(const Model& model) {
  GoldenEmbeddings golden;
  golden.image_size = model.config().vision.image_size;
  golden.texts = golden_texts();
  golden.video = model.encode_videos(golden_video(golden.frames, golden.image_size));
  golden.text = model.encode_texts(golden.texts);
  return golden;
}

std::string golden_to_json(const GoldenEmbeddings& golden) {
  const json out{{"version", kGoldenVersion}, {"frames", golden.frames},    {"image_size", golden.image_size},
                 {"texts", golden.texts},     {"video", rows_to_json(golden.video)}, {"text", rows_to_json(golden.text)}};
  return out.dump();
}

GoldenEmbeddings golden_from_json(const std::string& json_text, const std::string& where) {
  GoldenEmbeddings golden;
  try {
    const json in = json::parse(json_text);
    TORCH_CHECK(in.value("version", 0) == kGoldenVersion, "golden embeddings of '", where, "': expected version ",
                kGoldenVersion, ", got ", in.value("version", 0));
    golden.frames = in.at("frames").get<int64_t>();
    golden.image_size = in.at("image_size").get<int64_t>();
    golden.texts = in.at("texts").get<std::vector<std::string>>();
    golden.video = rows_from_json(in.at("video"), "video", where);
    golden.text = rows_from_json(in.at("text"), "text", where);
  } catch (const json::exception& e) {
    TORCH_CHECK(false, "golden embeddings of '", where, "' (metadata '", kGoldenKey, "'): ", e.what());
  }
  TORCH_CHECK(golden.text.size(0) == static_cast<int64_t>(golden.texts.size()), "golden embeddings of '", where,
              "': expected one text row per caption, got ", golden.text.size(0), " rows for ", golden.texts.size());
  return golden;
}

double golden_min_cosine(torch::ScalarType dtype) { return dtype == torch::kFloat ? 0.999 : 0.99; }

void verify_golden(const Model& model, const GoldenEmbeddings& golden) {
  TORCH_CHECK(golden.image_size == model.config().vision.image_size, "model '", model.path(),
              "': golden embeddings were made at image size ", golden.image_size, " but the model takes ",
              model.config().vision.image_size);
  const double min_cosine = golden_min_cosine(model.dtype());
  check_rows(model.encode_videos(golden_video(golden.frames, golden.image_size)), golden.video, "video", model,
             min_cosine);
  check_rows(model.encode_texts(golden.texts), golden.text, "text", model, min_cosine);
}

}  // namespace btadapter::api
